//! The library behind `cargo xtask`: every command is a function here, so tests can run
//! them on planted input. `src/main.rs` is only the command line.
//!
//! - [`generate`]: the committed snapshot of the generated client and its public surface;
//! - [`check`]: spec ⇄ snapshot, spec ⇄ examples and recorded responses, spec ⇄ its
//!   previous revision ([`breaking`]);
//! - [`drift`]: spec ⇄ a live ShipStream instance;
//! - [`drill`]: an API change planted in a copy of the workspace reaches everything;
//! - [`contract`]: spec ⇄ client ⇄ mock through independent peers (Prism, schemathesis);
//! - [`walker`]: walks a JSON value alongside its schema and names, by JSON path, every
//!   field, type or enum value the spec lacks or contradicts;
//! - [`process`]: the mock server as a child process (contract peers, benchmarks);
//! - [`tools`]: the pinned external linters;
//! - [`package`]: the published crates packaged and used from outside the workspace;
//! - [`fuzz`]: the fuzz targets, instrumented on stable and run for a fixed time;
//! - [`bench`](mod@bench): the benchmarks and `BENCHMARKS.md`.

pub mod bench;
pub mod breaking;
pub mod check;
pub mod contract;
pub mod drift;
pub mod drill;
pub mod fuzz;
pub mod generate;
pub mod package;
pub mod process;
pub mod spec;
pub mod surface;
pub mod tools;
pub mod walker;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
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

/// Runs one named step, printing a header and how long it took.
pub fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("\n==> {name}");
    let t = Instant::now();
    f().with_context(|| format!("step `{name}` failed"))?;
    println!("<== {name}: ok ({:.1?})", t.elapsed());
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
