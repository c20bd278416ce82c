//! The drills: in a copy of the workspace, API changes planted in `openapi.yaml` only
//! reach the facade, the CLI, the mock and the release as they should. The additive drill
//! (`cargo xtask drill`, [`additive`]) plants additions; the breaking one (`cargo xtask
//! drill --breaking`, `drill/breaking.rs`) plants a breaking change in a copy tagged as a release.
//! Both plant by the spec's structure ([`plant`]).

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, ensure};

pub mod additive;
mod breaking;
pub mod plant;
pub use additive::run_drill;
pub use breaking::run as run_breaking;

/// Makes the copy a git repository whose one commit is tagged as the release of the
/// workspace's version (`v{version}`), so `semver` and `changelog` have a release to judge
/// against; returns the version.
pub fn release_repo(copy: &Path) -> Result<String> {
    let manifest: toml_edit::DocumentMut = fs::read_to_string(copy.join("Cargo.toml"))?.parse()?;
    let version = manifest["workspace"]["package"]["version"]
        .as_str()
        .context("the workspace has no [workspace.package] version")?
        .to_owned();
    let id = ["-c", "user.name=drill", "-c", "user.email=drill@localhost"];
    let git = |args: &[&str]| crate::git::git(copy, &[&id[..], args].concat());
    git(&["init", "--quiet", "--initial-branch=main"])?;
    git(&["add", "--all"])?;
    git(&[
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        "the release before the drill's change",
    ])?;
    git(&["tag", &format!("v{version}")])?;
    Ok(version)
}

/// `cargo ARGS` in `dir`, building in `target` (see [`in_dir`]).
fn cargo_in(dir: &Path, target: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(crate::cargo());
    in_dir(c.args(args), dir, target);
    c
}

/// Runs `c` in `dir`, building in `target`, without this run's `CARGO_MANIFEST_DIR` and
/// the pull request's `GITHUB_BASE_REF` (which would mislead the copy's commands).
fn in_dir(c: &mut Command, dir: &Path, target: &Path) {
    c.current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("GITHUB_BASE_REF");
}

/// The copy of the workspace the drill works in, and its target directory.
#[derive(Debug)]
pub struct Copy {
    /// The copy's root.
    pub root: PathBuf,
    /// Where it builds.
    pub target: PathBuf,
}

/// Copies the files git tracks (as in the working tree; symlinks kept) to `dest`.
pub fn copy_workspace(root: &Path, dest: &Path) -> Result<()> {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .context("git ls-files failed (the drill copies what git tracks)")?;
    ensure!(out.status.success(), "git ls-files failed");
    if dest.exists() {
        fs::remove_dir_all(dest).with_context(|| format!("cannot clear {}", dest.display()))?;
    }
    for rel in out.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).context("a non-UTF-8 path")?);
        let from = root.join(rel);
        let to = dest.join(rel);
        let Ok(meta) = fs::symlink_metadata(&from) else {
            continue; // deleted in the working tree
        };
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        if meta.file_type().is_symlink() {
            let link = fs::read_link(&from)?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(&link, &to)?;
            #[cfg(not(unix))]
            fs::copy(&from, &to)?;
        } else {
            fs::copy(&from, &to).with_context(|| format!("cannot copy {}", from.display()))?;
        }
    }
    Ok(())
}

/// Where cargo-semver-checks builds for both drills (the same sources at the release, so
/// one folder compiles the dependencies once): `target/drill/semver`.
pub fn semver_target(root: &Path) -> PathBuf {
    root.join("target/drill/semver")
}

/// The drill's own target folder, `target/drill/target`.
///
/// Cargo names a workspace crate's artifacts after its path relative to the workspace
/// root, so in a shared target folder the copy's crates would replace the workspace's (and
/// a later build of the workspace could take the drilled ones as up to date). `cargo xtask
/// ci` on a CI machine shares the workspace's folder all the same, once nothing after the
/// drill builds the workspace: the dependencies are then compiled once.
pub fn own_target_dir(root: &Path) -> PathBuf {
    root.join("target/drill/target")
}
