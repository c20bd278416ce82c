//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask ci`: everything CI proves (format, lints, tests, spec linters, semver,
//!   contract, package, drill, fuzz).
//! - `cargo xtask lint-spec`: the three OpenAPI linters, installed on first use.
//! - `cargo xtask generate`: the committed snapshot of the generated client.
//! - `cargo xtask check`: the repository's property tests (snapshot, changelog, recorded
//!   responses, notes, facade) and the breaking changes against the previous revision.
//! - `cargo xtask drift --live`: spec ⇄ a live ShipStream instance (`--probe`: its
//!   `x-assumed` notes, each confirmed, refuted or not testable); `drift --vendor SOURCE`:
//!   spec ⇄ the vendor's own OpenAPI description.
//! - `cargo xtask adopt --vendor SOURCE`: a vendor release's additions and deprecations
//!   into openapi.yaml, the rest listed for a decision.
//! - `cargo xtask contract`: spec ⇄ client ⇄ mock through Prism and schemathesis.
//! - `cargo xtask drill`: an API change a vendor release brings into a copy of the
//!   workspace reaches everything, and every test and check stays green.
//! - `cargo xtask fuzz`: the fuzz targets, instrumented on stable, a fixed time each.
//! - `cargo xtask package`: the published crates packaged, and a consumer outside the
//!   workspace built and tested against the .crate files; the packaged CLI installed.
//! - `cargo xtask tools`: installs the pinned external tools (into a cache outside the clone).
//! - `cargo xtask bench`: the benchmarks; writes `BENCHMARKS.md`.
//!
//! The commands live in the `xtask` library (`src/lib.rs`), where tests can reach them.

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    time::Instant,
};

use anyhow::{Context, Result};
use clap::{ArgGroup, Parser, Subcommand};
use xtask::{
    bench, check, contract, drift, drill, fuzz, generate, package, root, run, step, tools,
};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Automation for the shipstream-inventory workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run every check CI runs: cargo fmt --check, clippy -D warnings, cargo test
    /// --workspace (the repository's property tests among them), cargo doc, cargo-machete,
    /// actionlint, the spec linters, `semver`, `contract`, `package`, `drill` and `fuzz`; prints a table of step times at
    /// the end. Installs the pinned tools first (`tools::cache_dir`). With `CI` set, build
    /// folders are removed once no later step needs them and the drill shares the
    /// workspace's target folder.
    Ci,
    /// Lint openapi.yaml with openapi-spec-validator, Spectral (spectral:oas, warnings fail)
    /// and Redocly CLI (recommended rules, warnings fail).
    LintSpec {
        /// The spec to lint (default: openapi.yaml at the workspace root).
        #[arg(long)]
        spec: Option<PathBuf>,
    },
    /// Regenerate the committed snapshot of the generated client from openapi.yaml.
    ///
    /// Writes crates/generated/snapshot/client.rs (exactly what crates/generated/build.rs
    /// compiles) and SURFACE.md (its public types, fields, enum values and builder methods,
    /// read from the generated code with syn). Commit both with the spec change: reviewers
    /// then see what the change does to the client as a plain diff.
    Generate,
    /// Check that the spec and everything held to it agree; fail with a diff and the fixing
    /// command when they drift.
    ///
    /// Runs the repository's property tests: xtask/tests/repo.rs (the snapshot equals a
    /// fresh generation, CHANGELOG.md's block the spec diff, every response under
    /// fixtures/recorded/ validates against the schema of its status with no field the spec
    /// lacks, every claim of the spec carries a note of its own; a stale derived file is
    /// rewritten and named) and crates/inventory/tests/spec_reachability.rs (every query
    /// parameter, filterable field, sort key, `fields` value and operator is reachable
    /// through the facade's typed API, and nothing more). Then reports breaking changes
    /// against a git base (failing on them with --deny-breaking).
    Check {
        /// The git revision whose openapi.yaml the working tree's is compared with
        /// (default: the last release tag `v*`; else the branch point, `git merge-base HEAD`
        /// with the pull request's target `$GITHUB_BASE_REF`, `main` or `origin/main`; on
        /// that branch itself, the spec before its last change).
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// Fail when the spec has breaking changes against the base. With an explicit
        /// --base, a missing base is an error too.
        #[arg(long)]
        deny_breaking: bool,
    },
    /// Compare the spec with a live ShipStream instance (--live), or with the vendor's own
    /// OpenAPI description (--vendor).
    ///
    /// --live reads SHIPSTREAM_URL (https://<instance>.shipstream.app), SHIPSTREAM_TOKEN (a
    /// Global API bearer token, never printed) and optionally SHIPSTREAM_API_VERSION
    /// (YYYY-MM), then fetches one page of total inventory levels with limit=5, fields=all
    /// and fields:product=all, and reports by JSON path every field, type or enum value the
    /// spec lacks or contradicts. Exits non-zero when the API drifted from the spec. Offline
    /// drift of recorded responses is checked by `cargo xtask check` (of the spec's
    /// examples, by `cargo xtask lint-spec`).
    ///
    /// --vendor reads the vendor's description (the release's files from
    /// https://openapi.shipstream.io/global/release-YYYY-MM/: fetched from the root file's
    /// URL, or a local copy kept in their folder layout), bundles them into one document (`redocly bundle`), joins its paths with the path of its server URL, keeps
    /// only our operation and lists, through the spec-diff engine that `cargo xtask check`
    /// uses, every difference as breaking, warning, deprecation or addition. Ours is the old
    /// revision and the vendor's the new one: each change is what our users would see if we
    /// adopted the vendor's description. Exit status: 0 when there is no difference, 1 when
    /// there is any (whatever its class), 2 when a document cannot be read or bundled.
    /// With --live --probe, instead: every `x-assumed` note of openapi.yaml that read-only
    /// GET requests can settle is probed (at most 60 requests, one at a time, a 429's
    /// Retry-After honoured) and reported by its id as confirmed, refuted (with the request
    /// and the part of the answer that refutes it) or not testable (with the reason).
    /// Exits non-zero when a note is refuted.
    ///
    #[command(group(ArgGroup::new("source").required(true).args(["live", "vendor"])))]
    Drift {
        /// Query the live instance.
        #[arg(long)]
        live: bool,
        /// Compare with the vendor's OpenAPI description: its root file (YAML or JSON), the
        /// folder holding its files (the root is openapi.yaml, openapi.json or index.yaml,
        /// else the one file with both `openapi:` and `paths:`), or the http(s) URL of its
        /// root file (fetched with every file its `$ref`s reach).
        #[arg(long, value_name = "FILE|DIR|URL")]
        vendor: Option<String>,
        /// With --live: probe the spec's `x-assumed` notes instead of diffing one page.
        #[arg(long, requires = "live")]
        probe: bool,
        /// With --live: save the response as a recorded fixture, with the token replaced
        /// by `<redacted>` and the instance's host by example.shipstream.app (e.g.
        /// fixtures/recorded/200-live-2025-08-28.json). With --probe: a folder that gets
        /// one scrubbed `<note id>.json` of evidence per probed note (not under
        /// fixtures/recorded/, which holds responses).
        #[arg(long, value_name = "FILE|DIR", conflicts_with = "vendor")]
        record: Option<PathBuf>,
    },
    /// Take a vendor release's additions and deprecations into openapi.yaml, and list
    /// every other difference with the decision it needs.
    ///
    /// Compares as `drift --vendor` does; each new property, enum value, parameter,
    /// response header or status is added where the vendor has it, with an `x-confirmed`
    /// note naming the release, and each deprecation gets `deprecated: true` with an
    /// `x-deprecation-note` naming it. The text is edited in place: comments, order,
    /// quoting and notes stay as written. Breaking changes and warnings are left
    /// unapplied, and what the vendor's files cannot supply (`x-filterable-fields`, sort
    /// keys, the facade's builder methods) is listed for a person. Then run `generate`,
    /// `semver --apply`, `changelog` and `check`. Exit status: 0 when nothing is left for a
    /// decision, 1 when something is, 2 when the release cannot be read.
    Adopt {
        /// The vendor's release: the folder of its files, its root file, or the http(s)
        /// URL of its root file (e.g.
        /// https://openapi.shipstream.io/global/release-2026-12/openapi.yaml; `latest/`
        /// for the newest).
        #[arg(long, value_name = "DIR|FILE|URL")]
        vendor: String,
        /// The spec to edit (default: openapi.yaml at the workspace root).
        #[arg(long)]
        spec: Option<PathBuf>,
    },
    /// Check the spec, the client and the mock against each other with independent tools:
    /// Prism as a validating proxy (a full CLI export through it), Prism as a dynamic mock
    /// (read by the facade) and schemathesis (default checks, fixed seed) against the mock.
    /// Each is also run against planted violations it must report. Logs and the JUnit
    /// report go to target/contract/.
    Contract(contract::Args),
    /// Prove that an API change the vendor publishes is `cargo xtask adopt` and `cargo
    /// xtask generate`: in a copy of the workspace tagged as a release (target/drill/), the
    /// vendor's release (the copy's spec in the vendor's file layout, with a level
    /// quantity, a product field, a goods type, a query parameter, a response header and
    /// status, a deprecation and a breaking change) is served on 127.0.0.1; adopt takes the
    /// additions in exactly (comments intact) and leaves the breaking change, a person's
    /// step adds the new quantity to the filter and sort extensions, and the facade, the
    /// CLI (filter, sort, columns) and the mock carry it all; `cargo test --workspace` and
    /// `cargo xtask check` stay green, `semver --apply` makes it a patch bump (below 1.0),
    /// `changelog` names each adopted change, and `drift --vendor` then names only what was
    /// left.
    Drill {
        /// The same drill (its changes arrive as a vendor release either way).
        #[arg(long, conflicts_with = "breaking")]
        vendor_release: bool,
        /// Instead, the breaking drill (target/drill/breaking/): rename a level quantity,
        /// remove a product field, narrow a bound, deprecate a sort key and move
        /// info.version; code using the old names must fail to compile naming them, the
        /// deprecated key must warn, `semver` must fail until `--apply`, the changelog must
        /// name every change, and the client must send the new version (a client pinned to
        /// the old one gets the typed error).
        #[arg(long)]
        breaking: bool,
    },
    /// Lint the GitHub Actions workflow files (actionlint): .github/workflows/ci.yml and the
    /// downstream example job in docs/.
    LintWorkflows,
    /// Build the fuzz targets of fuzz/ with coverage instrumentation (stable toolchain) and
    /// run each for a fixed time from its seed corpus; a crash fails.
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Afterwards, merge what the run found into the committed corpus `fuzz/seeds/`
        /// (minimised with libFuzzer's `-set_cover_merge=1`), so CI's short runs start from it.
        #[arg(long)]
        update_seeds: bool,
    },
    /// Package the published crates (`cargo package` with verification), then, outside the
    /// workspace, build and test a consumer that depends only on the .crate files (the
    /// facade, with the mock as a dev-dependency), check that the packaged generated crate
    /// generates its committed snapshot, and `cargo install` the packaged CLI.
    Package {
        /// Instead: measure what the SDK costs a consumer's clean release build next to the
        /// bare stack (reqwest, serde, tokio, url) and write it to BENCHMARKS.md.
        #[arg(long)]
        build_cost: bool,
    },
    /// Install the pinned npm, PyPI and cargo tools (done on demand by the other commands)
    /// into `SHIPSTREAM_TOOLS_DIR`, else `~/.cache/shipstream-inventory-tools` (a folder
    /// per pinned set of versions, so a machine installs each set once), else `.tools/`.
    Tools,
    /// The version each published crate needs for its changes since the base, from two
    /// judges that must agree: the spec-diff rules (every change of openapi.yaml, with the
    /// Rust items it adds, deprecates or removes) and cargo-semver-checks (each library
    /// crate's public API at the base and now; a crate also owes the breaks of the crates it
    /// re-exports). Below 1.0 a break bumps the minor number, anything else the patch.
    /// Fails when a version is too low (fix: --apply) or when the judges disagree. The
    /// base is the last release tag v*, else the branch point with the target branch; on
    /// main itself with no release tag it is HEAD, so only uncommitted changes are judged.
    Semver(xtask::semver_judge::Args),
    /// Write the API changes since the last release tag into CHANGELOG.md's Unreleased
    /// section (the block between its spec-changes markers): each spec change in words, the
    /// Rust items it touches and, for a breaking one, what to change in calling code.
    /// `cargo xtask check` fails when the block does not match the spec.
    Changelog,
    /// Run the benchmarks (crates/bench, the release CLI's memory, the openapi-generator
    /// peer, build times) and write the figures to BENCHMARKS.md: `cargo xtask bench
    /// [--only SUITES] [--quick] [--no-write]` (`cargo xtask bench --help` for the suites).
    #[command(disable_help_flag = true)]
    Bench {
        /// The arguments of crates/bench's `suites` binary.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = root();
    let spec = root.join("openapi.yaml");
    let result = match cli.command {
        Cmd::Ci => ci(),
        Cmd::LintSpec { spec: custom } => lint_spec(&custom.unwrap_or(spec)),
        Cmd::Generate => generate::run(&spec, &root.join(generate::SNAPSHOT_DIR)),
        Cmd::Check {
            base,
            deny_breaking,
        } => check::run(&check::Options {
            base,
            deny_breaking,
            ..check::Options::new(&root)
        }),
        Cmd::Drift {
            vendor: Some(vendor),
            ..
        } => return exit_code(drift::vendor::run(&spec, &vendor)),
        Cmd::Adopt {
            vendor,
            spec: custom,
        } => return exit_code(xtask::adopt::run(&custom.unwrap_or(spec), &vendor)),
        Cmd::Drift {
            probe: false,
            record,
            ..
        } => drift::run(&spec, record.as_deref()),
        Cmd::Drift {
            probe: true,
            record,
            ..
        } => xtask::probe::run(&spec, record.as_deref()),
        Cmd::Drill {
            breaking: false, ..
        } => drill::run_drill(&root, &drill::own_target_dir(&root)),
        Cmd::Drill { breaking: true, .. } => {
            drill::run_breaking(&root, &drill::own_target_dir(&root))
        }
        Cmd::LintWorkflows => tools::Tools::ensure(&root).and_then(|t| t.lint_workflows(&root)),
        Cmd::Fuzz {
            seconds,
            update_seeds,
        } => fuzz::run(&root, std::time::Duration::from_secs(seconds), update_seeds),
        Cmd::Package { build_cost: false } => package::run(&root),
        Cmd::Package { build_cost: true } => package::build_cost(&root),
        Cmd::Tools => tools::Tools::ensure(&root).map(|_| ()),
        Cmd::Contract(args) => contract::run(&root, &args),
        Cmd::Bench { args } => bench::run(&root, &args),
        Cmd::Semver(args) => xtask::semver_judge::run(&root, &args),
        Cmd::Changelog => xtask::changelog::run(&root),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `drift --vendor` and `adopt`: 0 when nothing is left to act on, 1 when something is, 2
/// when a document cannot be read.
fn exit_code(outcome: Result<bool>) -> ExitCode {
    match outcome {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) => {
            eprintln!("\nxtask: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn ci() -> Result<()> {
    let started = Instant::now();
    let result = ci_steps();
    // The step-time table is printed whether the run passed or not: a slow or failing step
    // is easiest to see there.
    println!(
        "\nxtask ci: step times ({:.0} s in all)\n\n{}",
        started.elapsed().as_secs_f64(),
        xtask::step_table()
    );
    result?;
    println!("xtask ci: all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The steps of [`ci`], in order.
fn ci_steps() -> Result<()> {
    let root = root();
    // On a CI machine (`CI` set, as `.ci/run` and CI services do), a build folder is removed
    // once no later step needs it, and the drill builds its copy of the workspace in the
    // workspace's own target folder: its dependencies are then the ones `cargo test`
    // compiled (same lock file, features and profile), and only the workspace's crates are
    // compiled again. Locally the drill keeps its own target folder, so the workspace's
    // artifacts are never replaced by the drilled copy's (which have the same names).
    let lean = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let mut installed = None;
    step("pinned tools (installed once a machine)", || {
        installed = Some(tools::Tools::ensure(&root)?);
        Ok(())
    })?;
    let tools = installed.context("the pinned tools were not installed")?;
    let cargo = xtask::cargo();
    step("cargo fmt --check", || {
        run(Command::new(&cargo)
            .args(["fmt", "--all", "--check"])
            .current_dir(&root))
    })?;
    step("cargo clippy", || {
        run(Command::new(&cargo)
            .args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(&root))
    })?;
    step("cargo test (cargo-nextest, then the doctests)", || {
        xtask::test_workspace(
            |c| {
                c.current_dir(&root);
            },
            &["--locked"],
            None,
        )
    })?;
    step("cargo doc (-D warnings)", || {
        run(Command::new(&cargo)
            .args(["doc", "--workspace", "--no-deps", "--locked"])
            .env("RUSTDOCFLAGS", "-D warnings")
            .current_dir(&root))
    })?;
    step("unused dependencies (cargo-machete)", || {
        tools.unused_dependencies(&root)
    })?;
    step("workflow linter (actionlint)", || {
        tools.lint_workflows(&root)
    })?;
    step("spec linters", || {
        tools.lint_spec(&root, &root.join("openapi.yaml"))
    })?;
    step("cargo xtask semver", || {
        xtask::semver_judge::run(&root, &xtask::semver_judge::Args::default())
    })?;
    step("cargo xtask contract", || {
        contract::run(&root, &contract::Args::default())
    })?;
    step("cargo xtask package", || package::run(&root))?;
    let drill_target = if lean {
        package::target_dir(&root)
    } else {
        drill::own_target_dir(&root)
    };
    step("cargo xtask drill", || {
        drill::run_drill(&root, &drill_target)
    })?;
    step("cargo xtask drill --breaking", || {
        drill::run_breaking(&root, &drill_target)
    })?;
    if lean {
        // The fuzz build has its own folder (instrumented release build).
        free_disk(&package::target_dir(&root).join("debug"))?;
        free_disk(&root.join("target/drill"))?;
    }
    step(
        &format!("cargo xtask fuzz ({} s per target)", fuzz::CI_SECONDS),
        || {
            fuzz::run(
                &root,
                std::time::Duration::from_secs(fuzz::CI_SECONDS),
                false,
            )
        },
    )?;
    Ok(())
}

/// Removes a build folder no later CI step uses, saying how much space it freed.
fn free_disk(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let before = Instant::now();
    let bytes = folder_size(dir);
    std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    println!(
        "\n(CI) removed {} ({:.1} GB, no later step uses it) in {:.1?}",
        dir.display(),
        bytes as f64 / 1e9,
        before.elapsed()
    );
    Ok(())
}

fn folder_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => folder_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

fn lint_spec(spec: &Path) -> Result<()> {
    let root = root();
    let tools = tools::Tools::ensure(&root)?;
    tools.lint_spec(&root, spec)
}
