//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask ci`: everything CI proves (format, lints, tests, spec linters, ...).
//! - `cargo xtask lint-spec`: the three OpenAPI linters, installed on first use.
//! - `cargo xtask tools`: installs the pinned external tools into `.tools/`.

mod tools;

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    time::Instant,
};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Automation for the shipstream-inventory workspace")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run every check CI runs: cargo fmt --check, clippy -D warnings, cargo test
    /// --workspace and the spec linters. Installs the pinned linters into `.tools/` first.
    Ci,
    /// Lint openapi.yaml with openapi-spec-validator, Spectral (spectral:oas, warnings fail)
    /// and Redocly CLI (recommended rules, warnings fail).
    LintSpec {
        /// The spec to lint (default: openapi.yaml at the workspace root).
        #[arg(long)]
        spec: Option<PathBuf>,
    },
    /// Install the pinned npm and PyPI tools into `.tools/` (done on demand by the other
    /// commands).
    Tools,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Ci => ci(),
        Cmd::LintSpec { spec } => {
            let spec = spec.unwrap_or_else(|| root().join("openapi.yaml"));
            lint_spec(&spec)
        }
        Cmd::Tools => tools::Tools::ensure(&root()).map(|_| ()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

fn ci() -> Result<()> {
    let root = root();
    let started = Instant::now();
    let tools = tools::Tools::ensure(&root)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    step("cargo fmt --check", || {
        run(Command::new(&cargo).args(["fmt", "--all", "--check"]).current_dir(&root))
    })?;
    step("cargo clippy", || {
        run(Command::new(&cargo)
            .args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])
            .current_dir(&root))
    })?;
    step("cargo test", || {
        run(Command::new(&cargo)
            .args(["test", "--workspace", "--locked"])
            .current_dir(&root))
    })?;
    step("spec linters", || {
        tools.lint_spec(&root, &root.join("openapi.yaml"))
    })?;
    println!(
        "\nxtask ci: all checks passed in {:.0?}",
        started.elapsed()
    );
    Ok(())
}

fn lint_spec(spec: &Path) -> Result<()> {
    let root = root();
    let tools = tools::Tools::ensure(&root)?;
    tools.lint_spec(&root, spec)
}

/// Runs one named step, printing a header and how long it took.
pub(crate) fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("\n==> {name}");
    let t = Instant::now();
    f().with_context(|| format!("step `{name}` failed"))?;
    println!("<== {name}: ok ({:.1?})", t.elapsed());
    Ok(())
}

/// Runs a command with inherited stdio and fails on a non-zero exit.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} exited with {status}");
    }
    Ok(())
}
