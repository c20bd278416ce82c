//! Git plumbing of the release tooling: a file as it was at a revision, and whether paths
//! changed since one.

use std::{path::Path, process::Command};

use anyhow::{Context, Result, bail};

/// Runs `git ARGS` in `root`; its stdout, or an error with its stderr.
pub fn git(root: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .context("could not start git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The text of `path` (relative to `root`) at `rev`, or None when it is not there.
pub fn show(root: &Path, rev: &str, path: &str) -> Option<String> {
    git(root, &["show", &format!("{rev}:./{path}")]).ok()
}

/// Whether anything under `paths` differs between `rev` and the working tree.
pub fn changed_since(root: &Path, rev: &str, paths: &[&str]) -> Result<bool> {
    let status = Command::new("git")
        .args(["diff", "--quiet", rev, "--"])
        .args(paths)
        .current_dir(root)
        .status()
        .context("could not start git")?;
    Ok(!status.success())
}
