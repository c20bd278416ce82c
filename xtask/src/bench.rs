//! `cargo xtask bench`: runs the benchmark suites of `crates/bench` (its `suites` binary,
//! `crates/bench/src/suite.rs`), and writes `BENCHMARKS.md`'s generated sections for them
//! and for `cargo xtask package --build-cost`.
//!
//! The suites are a binary of the benchmark crate, not a library xtask links: linking it
//! would make every `cargo xtask` command build the facade, the generated client and the
//! mock first, so a spec change the generator or the facade cannot build yet would leave
//! `cargo xtask generate` and `check` unable to run.

use std::{fmt::Write as _, fs, path::Path, process::Command};

use anyhow::Result;

/// Runs `cargo run -p shipstream-inventory-bench --bin suites -- ARGS` (see its `--help`).
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    crate::run(
        Command::new(crate::cargo())
            .args(["run", "--locked", "-p", "shipstream-inventory-bench"])
            .args(["--bin", "suites", "--"])
            .args(args)
            .current_dir(root),
    )
}

const START: &str = "<!-- bench:";

const END: &str = "<!-- /bench:";

/// Replaces each suite's section (`<!-- bench:NAME -->` ... `<!-- /bench:NAME -->`) and
/// appends the sections the document lacks.
pub fn update_markdown(path: &Path, sections: &[(String, String)]) -> Result<()> {
    let mut doc = fs::read_to_string(path).unwrap_or_else(|_| {
        "# Benchmarks\n\nWritten by `cargo xtask bench`; see `crates/bench/src/suite.rs`.\n"
            .to_owned()
    });
    for (name, body) in sections {
        let start = format!("{START}{name} -->");
        let end = format!("{END}{name} -->");
        let body = body.trim_end();
        match crate::between(&doc, &start, &end) {
            Some(range) => doc.replace_range(range, &format!("\n{body}\n")),
            None => {
                if !doc.ends_with('\n') {
                    doc.push('\n');
                }
                write!(doc, "\n## {name}\n\n{start}\n{body}\n{end}\n")?;
            }
        }
    }
    fs::write(path, doc)?;
    Ok(())
}

/// The time now, as `YYYY-MM-DD HH:MM UTC`.
pub fn now_utc() -> String {
    stdout_of(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
}

/// What `cmd` prints on stdout, trimmed; empty when it cannot run.
pub fn stdout_of(cmd: &mut Command) -> String {
    cmd.output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// `commit HASH` of `root`'s HEAD, with " (with uncommitted changes)" when tracked files
/// differ from it.
pub fn git_head(root: &Path) -> String {
    let out = |args: &[&str]| stdout_of(Command::new("git").args(args).current_dir(root));
    let head = out(&["rev-parse", "--short", "HEAD"]);
    let dirty = !out(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    format!(
        "commit {head}{}",
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sections_are_replaced_in_place_and_appended_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("B.md");
        fs::write(
            &path,
            "# B\n\nintro\n\n<!-- bench:decode -->\nold\n<!-- /bench:decode -->\n\nhistory\n",
        )
        .unwrap();
        update_markdown(
            &path,
            &[
                ("decode".into(), "new\n".into()),
                ("mock".into(), "m".into()),
            ],
        )
        .unwrap();
        let doc = fs::read_to_string(&path).unwrap();
        assert!(doc.contains("<!-- bench:decode -->\nnew\n<!-- /bench:decode -->\n\nhistory"));
        assert!(!doc.contains("old"));
        assert!(doc.ends_with("## mock\n\n<!-- bench:mock -->\nm\n<!-- /bench:mock -->\n"));
    }
}
