//! The library behind `cargo xtask`: every command is a function here, so tests can run
//! them on planted input. `src/main.rs` is only the command line.
//!
//! - [`generate`]: the committed snapshot of the generated client and its public surface;
//! - [`check`]: spec ⇄ snapshot, spec ⇄ recorded responses, spec ⇄ its
//!   previous revision ([`specdiff`]);
//! - [`drift`]: spec ⇄ a live ShipStream instance, and ([`drift::vendor`]) spec ⇄ the
//!   vendor's own OpenAPI description, multi-file ones [bundled](bundle) into one document;
//! - [`live`]: the one HTTP client for a live instance (drift, probes);
//! - [`notes`]: the spec's `x-assumed` notes and the rule that every claim the vendor does
//!   not make carries one;
//! - [`probe`]: the spec's `x-assumed` notes ⇄ a live instance, each confirmed, refuted or
//!   not testable;
//! - [`drill`]: an API change planted in a copy of the workspace reaches everything;
//! - [`contract`]: spec ⇄ client ⇄ mock through independent peers (Prism, schemathesis);
//! - [`conformance`]: a JSON value against its schema (the `jsonschema` validator, and
//!   what it accepts that the spec does not describe), each finding named by JSON path;
//! - [`process`]: the mock server as a child process (contract peers, benchmarks);
//! - [`tools`]: the pinned external linters and test runner;
//! - [`package`]: the published crates packaged and used from outside the workspace;
//! - [`fuzz`]: the fuzz targets, instrumented on stable and run for a fixed time;
//! - [`bench`](mod@bench): `cargo xtask bench` (the suites live in `crates/bench`) and the
//!   writing of `BENCHMARKS.md`'s sections.

pub mod adopt;
pub mod bench;
pub mod bundle;
pub mod changelog;
pub mod check;
pub mod conformance;
pub mod contract;
pub mod drift;
pub mod drill;
pub mod fuzz;
pub mod generate;
pub mod git;
pub mod live;
pub mod metadata;
pub mod notes;
pub mod package;
pub mod probe;
pub mod process;
pub mod semver_judge;
pub mod spec;
pub mod specdiff;
pub mod surface;
pub mod tools;

use std::{
    cell::Cell,
    path::{Path, PathBuf},
    process::{Command, ExitStatus},
    sync::Mutex,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// `path` relative to the workspace root when it is inside it, for messages.
pub fn display_path(path: &Path) -> String {
    let root = root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Where the generated text between the lines `begin` and `end` of a Markdown document is
/// (from just after `begin` to the start of the first `end` after it), if it has both.
pub fn between(text: &str, begin: &str, end: &str) -> Option<std::ops::Range<usize>> {
    let start = text.find(begin)? + begin.len();
    Some(start..text[start..].find(end)? + start)
}

/// One finished (or failed) [`step`]: its name, how deep it was nested, how long it took
/// and whether it passed.
#[derive(Debug, Clone)]
pub struct StepTime {
    /// The step's name.
    pub name: String,
    /// 0 for a top-level step, 1 for a step run inside another, and so on.
    pub depth: usize,
    /// Wall-clock time of the step.
    pub elapsed: Duration,
    /// Whether it passed.
    pub ok: bool,
}

/// Every step run so far in this process, in the order they started.
static STEPS: Mutex<Vec<StepTime>> = Mutex::new(Vec::new());

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Runs one named step, printing a header and how long it took; the time is also kept for
/// [`step_table`].
pub fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("\n==> {name}");
    let depth = DEPTH.with(|d| d.replace(d.get() + 1));
    let slot = STEPS.lock().map_or(usize::MAX, |mut steps| {
        steps.push(StepTime {
            name: name.to_owned(),
            depth,
            elapsed: Duration::ZERO,
            ok: false,
        });
        steps.len() - 1
    });
    let t = Instant::now();
    let result = f();
    DEPTH.with(|d| d.set(depth));
    if let Ok(mut steps) = STEPS.lock()
        && let Some(s) = steps.get_mut(slot)
    {
        s.elapsed = t.elapsed();
        s.ok = result.is_ok();
    }
    result.with_context(|| format!("step `{name}` failed"))?;
    println!("<== {name}: ok ({:.1?})", t.elapsed());
    Ok(())
}

/// The steps run so far as a Markdown table (name, time, result); a nested step's name
/// starts with one `· ` per level.
pub fn step_table() -> String {
    let steps = STEPS.lock().map(|s| s.clone()).unwrap_or_default();
    let mut out = String::from("| step | time | result |\n| --- | ---: | --- |\n");
    for s in steps {
        let indent = "· ".repeat(s.depth);
        out.push_str(&format!(
            "| {indent}{} | {:.0} s | {} |\n",
            s.name,
            s.elapsed.as_secs_f64(),
            if s.ok { "ok" } else { "FAILED" }
        ));
    }
    out
}

/// Runs every test of a workspace with the pinned cargo-nextest (installed first if missing:
/// [`tools::cargo_tools`]), here and on GitHub alike: the test binaries' tests at once, the
/// timing-sensitive ones at most two at a time (`.config/nextest.toml`), then the doctests,
/// which nextest does not run. `configure` gives
/// each command its folder and environment; `extra` is appended to each; `filter` is a
/// nextest filterset (`-E`) that narrows the nextest run.
pub fn test_workspace(
    configure: impl Fn(&mut Command),
    extra: &[&str],
    filter: Option<&str>,
) -> Result<()> {
    let nextest = tools::cargo_tools(&root())?.join("bin/cargo-nextest");
    let mut nextest_args = vec!["nextest", "run", "--workspace", "--no-fail-fast"];
    nextest_args.extend(filter.iter().flat_map(|f| ["-E", f]));
    for (program, args) in [
        (nextest.into_os_string(), &nextest_args[..]),
        (cargo().into(), &["test", "--workspace", "--doc"]),
    ] {
        let mut c = Command::new(program);
        configure(c.args(args).args(extra));
        run(&mut c)?;
    }
    Ok(())
}

/// Runs a command with inherited stdio and fails on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} exited with {status}");
    }
    Ok(())
}

/// Runs a command to its end and returns its exit status and its stdout followed by its
/// stderr.
pub fn output(cmd: &mut Command) -> Result<(ExitStatus, String)> {
    let out = cmd
        .output()
        .with_context(|| format!("could not start {cmd:?}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status, text))
}

/// The cargo running this xtask (`$CARGO`), else `cargo` from the `PATH`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
