//! `cargo xtask package`: the crates users depend on, as users get them.
//!
//! 1. `cargo package` of every published crate (`cargo metadata`: every member without
//!    `publish = false`); the .crate files land in `target/package/`. Only the code
//!    generator is verified there (built on its own from what it carries): steps 4 and 5
//!    build every other package from its .crate file anyway.
//! 2. The .crate files are unpacked into a temporary folder outside the workspace, and
//!    nothing there points into the repository: the packages reach each other through
//!    `[patch.crates-io]` entries (given with `--config`) that name the unpacked folders,
//!    exactly as if they came from a registry.
//! 3. codegen makes of the `openapi.yaml` the packaged generated crate carries exactly
//!    the snapshot it carries.
//! 4. A consumer crate, created there, depends on `shipstream-inventory` and, as a
//!    dev-dependency, `shipstream-inventory-mock`; its test exports levels from the
//!    packaged mock through the packaged facade.
//! 5. `cargo install --locked` of the packaged CLI, as README tells users to install it
//!    (the versions of the Cargo.lock it carries, which the workspace tests; a debug build,
//!    to share the workspace's compiled dependencies), yields a `shipstream-inventory`
//!    whose `levels --demo` works.
//!
//! Builds share the workspace's `target/` and its build profiles (`.cargo/config.toml`,
//! given to the builds outside the workspace with `--config`), so a third-party
//! dependency compiles once wherever its features agree.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use anyhow::{Context, Result, ensure};

use crate::run as run_cmd;

/// The consumer's library: what an application using the SDK writes.
const CONSUMER_LIB: &str = include_str!("../fixtures/package/consumer_lib.rs");

/// The consumer's test, against the packaged mock.
const CONSUMER_TEST: &str = include_str!("../fixtures/package/consumer_test.rs");

/// The published crates, packaged and unpacked outside the workspace.
struct Unpacked {
    cargo: String,
    version: String,
    /// The temporary folder that holds everything (removed at the end of a good run).
    scratch: PathBuf,
    crates: PathBuf,
    /// `--config` values that patch each published crate to its unpacked folder.
    patches: Vec<String>,
    /// The workspace's lock file, so consumers resolve the versions the workspace tests.
    lock: Vec<u8>,
    /// The workspace's cargo configuration (`.cargo/config.toml`, with the build profiles).
    config: PathBuf,
}

impl Unpacked {
    /// The patches, and the workspace's build profiles: a build outside the workspace
    /// then compiles dependencies with the workspace's settings, so the shared target
    /// folder's artifacts are reused wherever the features agree.
    fn with_patches(&self, cmd: &mut Command) {
        cmd.arg("--config").arg(&self.config);
        for p in &self.patches {
            cmd.arg("--config").arg(p);
        }
    }
}

/// The workspace's target folder (`CARGO_TARGET_DIR` when set), where `cargo package`
/// writes the .crate files.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Removes what cargo extracted from earlier runs' temporary package registry.
///
/// To verify packages that depend on each other, `cargo package` puts them in a local
/// registry under the target folder and unpacks them into `$CARGO_HOME/registry/src/-HASH/`
/// (the hash names the registry's path). Cargo never unpacks a registry crate twice, so
/// after an earlier run with the same target folder and version (another CI run with a
/// cached cargo home, say) the verification would compile the *old* sources of the
/// dependencies. Only our packages' folders in unnamed (local) registries are removed.
fn forget_stale_extractions(published: &[(String, String)]) -> Result<()> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(h) => PathBuf::from(h),
        None => match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".cargo"),
            None => return Ok(()),
        },
    };
    let Ok(registries) = fs::read_dir(home.join("registry").join("src")) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for (name, version) in published {
            let dir = registry.path().join(format!("{name}-{version}"));
            if dir.exists() {
                fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot remove the stale {}", dir.display()))?;
            }
        }
    }
    Ok(())
}

/// `cargo package` of the published crates (`verify`, if any, also built on its own),
/// unpacked into a temporary folder outside the workspace.
fn pack(root: &Path, verify: Option<&str>) -> Result<Unpacked> {
    let cargo = crate::cargo();
    let published: Vec<(String, String)> = crate::metadata::published(root)?
        .into_iter()
        .map(|k| (k.name, k.version.to_string()))
        .collect();
    let version = published
        .iter()
        .find(|(name, _)| name == "shipstream-inventory")
        .map(|(_, v)| v.clone())
        .context("shipstream-inventory is not published")?;
    let target_dir = target_dir(root);
    forget_stale_extractions(&published)?;

    // All at once, unverified (a package is found by those depending on it); then the one
    // to verify (it depends on no other published crate).
    let package = |names: &[&str], verified: bool| {
        let how = if verified {
            "verified"
        } else {
            "no verification"
        };
        println!("-- cargo package ({how}) of {}", names.join(", "));
        let mut package = Command::new(&cargo);
        package.args(["package", "--locked", "--allow-dirty"]);
        if !verified {
            package.arg("--no-verify");
        }
        for name in names {
            package.args(["-p", name]);
        }
        run_cmd(package.current_dir(root))
    };
    let names: Vec<&str> = published.iter().map(|(name, _)| name.as_str()).collect();
    package(&names, false)?;
    if let Some(name) = verify {
        package(&[name], true)?;
    }

    let scratch = std::env::temp_dir().join(format!("shipstream-consumer-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let crates = scratch.join("crates");
    fs::create_dir_all(&crates)?;
    let mut patches = Vec::new();
    for (name, version) in &published {
        let file = target_dir
            .join("package")
            .join(format!("{name}-{version}.crate"));
        ensure!(file.is_file(), "cargo package wrote no {}", file.display());
        run_cmd(
            Command::new("tar")
                .arg("-xzf")
                .arg(&file)
                .arg("-C")
                .arg(&crates),
        )?;
        let dir = crates.join(format!("{name}-{version}"));
        patches.push(format!(
            "patch.crates-io.{name}.path={}",
            toml_string(&dir.to_string_lossy())
        ));
    }
    // Nothing unpacked may point into the repository.
    let root_text = root.to_string_lossy().into_owned();
    for (name, version) in &published {
        let manifest = crates.join(format!("{name}-{version}")).join("Cargo.toml");
        let text = fs::read_to_string(&manifest)?;
        ensure!(
            !text.contains("path = \"..") && !text.contains(&root_text),
            "{} points into the repository",
            manifest.display()
        );
    }
    let lock = fs::read(root.join("Cargo.lock")).context("cannot read Cargo.lock")?;
    let config = root.join(".cargo").join("config.toml");
    ensure!(config.is_file(), "{} is missing", config.display());
    Ok(Unpacked {
        cargo,
        version,
        scratch,
        crates,
        patches,
        lock,
        config,
    })
}

/// Runs the whole check (see the module docs).
pub fn run(root: &Path) -> Result<()> {
    let u = pack(root, Some("shipstream-inventory-codegen"))?;
    let (cargo, version, crates, lock) = (&u.cargo, &u.version, &u.crates, &u.lock);
    let target_dir = target_dir(root);
    let root_text = root.to_string_lossy().into_owned();
    let with_patches = |cmd: &mut Command| u.with_patches(cmd);

    println!("\n-- the packaged generated crate generates its committed snapshot");
    let generated = crates.join(format!("shipstream-inventory-generated-{version}"));
    let spec = fs::read_to_string(generated.join("openapi.yaml"))
        .context("the packaged generated crate carries no openapi.yaml")?;
    let fresh = shipstream_inventory_codegen::generate(&spec)
        .context("codegen refused the packaged openapi.yaml")?;
    for (name, code) in [("client.rs", &fresh.code), ("api.rs", &fresh.api)] {
        let packaged = fs::read_to_string(generated.join("snapshot").join(name))
            .with_context(|| format!("the packaged generated crate carries no snapshot/{name}"))?;
        ensure!(
            packaged == *code,
            "the packaged snapshot/{name} is not what codegen makes of the packaged \
             openapi.yaml: run `cargo xtask generate` and package again"
        );
    }
    println!("   snapshot/client.rs and snapshot/api.rs equal a fresh generation");

    println!("\n-- a consumer outside the workspace, on the .crate files only");
    let consumer = u.scratch.join("consumer");
    write_consumer(&consumer, &sdk_manifest(version), CONSUMER_LIB, lock)?;
    fs::create_dir_all(consumer.join("tests"))?;
    fs::write(consumer.join("tests/report.rs"), CONSUMER_TEST)?;
    let mut test = Command::new(cargo);
    test.arg("test");
    with_patches(&mut test);
    run_cmd(
        test.env("CARGO_TARGET_DIR", &target_dir)
            .current_dir(&consumer),
    )?;
    let mut tree = Command::new(cargo);
    tree.args(TREE);
    with_patches(&mut tree);
    let tree = tree
        .current_dir(&consumer)
        .output()
        .context("cannot run cargo tree")?;
    consumer_tree_is_clean(&tree, version, &root_text)?;

    println!("\n-- cargo install --locked of the packaged CLI");
    let install_root = u.scratch.join("install");
    let cli = crates.join(format!("shipstream-inventory-cli-{version}"));
    let mut install = Command::new(cargo);
    install
        .args(["install", "--locked", "--debug", "--path"])
        .arg(&cli)
        .arg("--root")
        .arg(&install_root)
        .arg("--target-dir")
        .arg(&target_dir);
    with_patches(&mut install);
    run_cmd(&mut install)?;
    let bin = install_root.join("bin").join("shipstream-inventory");
    let out = Command::new(&bin)
        .args(["levels", "--demo", "--format", "csv"])
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let csv = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success()
            && csv.lines().count() > 10
            && csv
                .lines()
                .next()
                .is_some_and(|h| h.contains("qty_available")),
        "the installed shipstream-inventory does not export the demo ({}):\n{}\n{}",
        out.status,
        csv.lines().take(3).collect::<Vec<_>>().join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "   installed {} exports {} demo levels",
        display(&bin),
        csv.lines().count() - 1
    );
    let _ = fs::remove_dir_all(&u.scratch);
    Ok(())
}

/// `cargo tree` of the consumer: every edge a consumer's build compiles, build-dependencies
/// too (the code generator can only arrive as the generated crate's build-dependency).
const TREE: [&str; 5] = ["tree", "--edges", "normal,build,dev", "--prefix", "none"];

/// The consumer's dependency tree (`cargo tree` output) reaches nothing in the repository
/// (`root`) and holds no code generator. `cargo tree` must have succeeded and listed the
/// facade: an empty or failed tree proves nothing.
fn consumer_tree_is_clean(tree: &Output, version: &str, root: &str) -> Result<()> {
    let text = String::from_utf8_lossy(&tree.stdout);
    ensure!(
        tree.status.success(),
        "cargo tree of the consumer failed ({}): {}",
        tree.status,
        String::from_utf8_lossy(&tree.stderr)
    );
    let facade = format!("shipstream-inventory v{version}");
    ensure!(
        text.lines().any(|l| l.starts_with(&facade)),
        "the consumer's dependency tree does not list {facade}, so it proves nothing:\n{text}"
    );
    ensure!(
        !text.contains(root),
        "the consumer's dependency tree reaches into the repository:\n{text}"
    );
    ensure!(
        !text.contains("progenitor v") && !text.contains("shipstream-inventory-codegen"),
        "the consumer compiles the code generator:\n{text}"
    );
    Ok(())
}

/// The consumer's manifest: the SDK, and the mock as a dev-dependency.
fn sdk_manifest(version: &str) -> String {
    format!(
        "[package]\nname = \"shipstream-consumer\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n[dependencies]\nshipstream-inventory = \"={version}\"\n\
         futures = \"0.3\"\ntokio = {{ version = \"1\", features = [\"macros\", \
         \"rt-multi-thread\", \"time\"] }}\n\n[dev-dependencies]\nshipstream-inventory-mock = \
         \"={version}\"\n\n[workspace]\n"
    )
}

/// The same consumer written on the bare stack: reqwest (with the SDK's features), serde,
/// tokio and url.
const BARE_MANIFEST: &str = "[package]\nname = \"shipstream-consumer\"\nversion = \"0.0.0\"\n\
    edition = \"2024\"\npublish = false\n\n[dependencies]\nreqwest = { version = \"0.13\", \
    default-features = false, features = [\"json\", \"query\", \"stream\", \"rustls\", \
    \"http2\"] }\nserde = { version = \"1\", features = [\"derive\"] }\ntokio = { version = \
    \"1\", features = [\"macros\", \"rt-multi-thread\"] }\nurl = \"2\"\n\n[workspace]\n";

/// The low-stock report without the SDK.
const BARE_LIB: &str = include_str!("../fixtures/package/bare_lib.rs");

fn write_consumer(dir: &Path, manifest: &str, lib: &str, lock: &[u8]) -> Result<()> {
    fs::create_dir_all(dir.join("src"))?;
    fs::write(dir.join("Cargo.toml"), manifest)?;
    fs::write(dir.join("src/lib.rs"), lib)?;
    fs::write(dir.join("Cargo.lock"), lock)?;
    Ok(())
}

/// The target: the SDK costs a consumer at most this much of the bare stack's
/// clean release build.
const BUILD_COST_TARGET: f64 = 1.3;

/// `cargo xtask package --build-cost`: the clean `cargo build --release` of the consumer,
/// and of the same consumer on the bare stack, one after the other in one run, each in a
/// fresh target directory; writes the `consumer-build` section of BENCHMARKS.md.
pub fn build_cost(root: &Path) -> Result<()> {
    let u = pack(root, None)?;
    let sdk = u.scratch.join("sdk-consumer");
    let bare = u.scratch.join("bare-consumer");
    write_consumer(&sdk, &sdk_manifest(&u.version), CONSUMER_LIB, &u.lock)?;
    write_consumer(&bare, BARE_MANIFEST, BARE_LIB, &u.lock)?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut times = Vec::new();
    for (what, dir) in [("bare stack", &bare), ("SDK", &sdk)] {
        // Resolve (and fetch) first, so only compilation is timed.
        let mut fetch = Command::new(&u.cargo);
        fetch.arg("fetch");
        u.with_patches(&mut fetch);
        run_cmd(fetch.current_dir(dir))?;
        let target = dir.join("target");
        let _ = fs::remove_dir_all(&target);
        println!("-- clean cargo build --release of the {what} consumer");
        let mut build = Command::new(&u.cargo);
        build.args(["build", "--release", "--offline"]);
        u.with_patches(&mut build);
        let t = std::time::Instant::now();
        run_cmd(
            build
                .env("CARGO_TARGET_DIR", &target)
                .env_remove("RUSTFLAGS")
                .current_dir(dir),
        )?;
        let secs = t.elapsed().as_secs_f64();
        let crates = fs::read_dir(target.join("release").join("deps"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "rlib"))
                    .count()
            })
            .unwrap_or(0);
        println!("   {what}: {secs:.0} s, {crates} rlibs");
        times.push((what, secs, crates));
    }
    let (bare_s, sdk_s) = (times[0].1, times[1].1);
    let ratio = sdk_s / bare_s;
    let md = format!(
        "Clean `cargo build --release` ({jobs} jobs, sources already downloaded, fresh target \
         directories, one after the other in one run) of the consumer that `cargo xtask \
         package` tests (the SDK from its .crate files, futures, tokio), and of the same \
         low-stock report written on the bare stack (reqwest with the SDK's features, serde, \
         tokio, url). Reproduce: `cargo xtask package --build-cost`.\n\n\
         | consumer | clean release build | compiled libraries |\n| --- | --- | --- |\n\
         | bare stack | {bare_s:.0} s | {} |\n| SDK (`shipstream-inventory`) | {sdk_s:.0} s | {} |\n\n\
         **Target** SDK ≤ {BUILD_COST_TARGET}× the bare stack: {ratio:.2}×, {}.\n\n\
         _Measured {} at {}._",
        times[0].2,
        times[1].2,
        if ratio <= BUILD_COST_TARGET {
            "holds"
        } else {
            "MISSED"
        },
        crate::bench::now_utc(),
        crate::bench::git_head(root),
    );
    crate::bench::update_markdown(
        &root.join("BENCHMARKS.md"),
        &[("consumer-build".to_owned(), md)],
    )?;
    println!("build cost: SDK {sdk_s:.0} s, bare stack {bare_s:.0} s: {ratio:.2}×");
    let _ = fs::remove_dir_all(&u.scratch);
    Ok(())
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::process::ExitStatusExt as _;
    use std::process::ExitStatus;

    use super::*;

    fn output(code: i32, stdout: &str) -> Output {
        Output {
            // A wait status: the exit code sits in the second byte.
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.as_bytes().to_vec(),
            stderr: b"error: something went wrong".to_vec(),
        }
    }

    const GOOD: &str = "shipstream-consumer v0.0.0 (/tmp/x/consumer)\n\
        shipstream-inventory v0.1.0 (/tmp/x/crates/shipstream-inventory-0.1.0)\n\
        shipstream-inventory-generated v0.1.0 (/tmp/x/crates/shipstream-inventory-generated-0.1.0)\n\
        reqwest v0.13.5\n";

    #[test]
    fn a_clean_tree_passes() {
        consumer_tree_is_clean(&output(0, GOOD), "0.1.0", "/work/main").unwrap();
    }

    #[test]
    fn a_failed_or_empty_tree_proves_nothing() {
        let failed = consumer_tree_is_clean(&output(101, ""), "0.1.0", "/work/main");
        assert!(
            failed
                .unwrap_err()
                .to_string()
                .contains("cargo tree of the consumer failed")
        );
        let empty = consumer_tree_is_clean(&output(0, ""), "0.1.0", "/work/main");
        assert!(
            empty
                .unwrap_err()
                .to_string()
                .contains("does not list shipstream-inventory v0.1.0")
        );
        let other_version = consumer_tree_is_clean(&output(0, GOOD), "0.2.0", "/work/main");
        assert!(
            other_version.is_err(),
            "the facade at another version is not the one packaged"
        );
    }

    #[test]
    fn a_path_into_the_repository_or_a_generator_fails() {
        let into_repo = format!("{GOOD}shipstream-filter v0.1.0 (/work/main/crates/filter)\n");
        let err = consumer_tree_is_clean(&output(0, &into_repo), "0.1.0", "/work/main");
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("reaches into the repository")
        );
        let generator = format!("{GOOD}progenitor v0.15.1\n");
        let err = consumer_tree_is_clean(&output(0, &generator), "0.1.0", "/work/main");
        assert!(err.unwrap_err().to_string().contains("code generator"));
    }

    /// The way the generator could reach a consumer: as a build-dependency of a crate it
    /// depends on. The tree [`TREE`] lists must show it (three local crates, offline).
    #[test]
    fn a_generator_on_a_build_edge_fails() {
        let dir = tempfile::tempdir().unwrap();
        let krate = |name: &str, version: &str, extra: &str| {
            let d = dir.path().join(name);
            fs::create_dir_all(d.join("src")).unwrap();
            fs::write(d.join("src/lib.rs"), "").unwrap();
            fs::write(
                d.join("Cargo.toml"),
                format!(
                    "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2024\"\n{extra}"
                ),
            )
            .unwrap();
        };
        krate("shipstream-inventory-codegen", "0.1.0", "");
        krate(
            "shipstream-inventory",
            "0.1.0",
            "[build-dependencies]\nshipstream-inventory-codegen = { path = \"../shipstream-inventory-codegen\" }\n",
        );
        krate(
            "consumer",
            "0.0.0",
            "[dependencies]\nshipstream-inventory = { path = \"../shipstream-inventory\" }\n[workspace]\n",
        );
        let tree = Command::new(crate::cargo())
            .args(TREE)
            .arg("--offline")
            .current_dir(dir.path().join("consumer"))
            .output()
            .unwrap();
        let err = consumer_tree_is_clean(&tree, "0.1.0", "/no/such/repository").unwrap_err();
        assert!(err.to_string().contains("code generator"), "{err}");
    }
}
