//! `cargo xtask check`: fails, with a diff and the command that fixes it, when the spec and
//! what is derived from or recorded against it disagree.
//!
//! The repository's properties are ordinary tests (`xtask/tests/repo.rs`: the snapshot,
//! the changelog block, the recorded responses, the notes; the facade's
//! `crates/inventory/tests/spec_reachability.rs`), which `cargo test` runs and [`run`]
//! runs alone. This module holds what they call ([`snapshot_drift`], [`recorded`]) and the
//! breaking-change report against a git base (failing only with `--deny-breaking`). The
//! spec's own examples are checked by the spec linters (Redocly's `no-invalid-*-examples`
//! and Spectral's `oas3-valid-*-example`, at error level).

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};
use serde_json::Value;

pub use crate::notes::{AssumedNote, assumed_notes_of, split_note_id};
use crate::{
    conformance::{self, Kind},
    display_path,
    generate::Snapshot,
    spec, specdiff,
};

/// The folder of recorded responses, relative to the workspace root.
pub const RECORDED_DIR: &str = "fixtures/recorded";

/// The operation that top-level files of [`RECORDED_DIR`] are responses of.
pub const DEFAULT_OPERATION: &str = "list_total_inventory_levels";

/// What `cargo xtask check` checks, and against what.
#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace root (the git work tree), with its `openapi.yaml`.
    pub root: PathBuf,
    /// The git revision to compare the spec with (default: see [`specdiff::base_spec`]).
    pub base: Option<String>,
    /// Fail on breaking changes.
    pub deny_breaking: bool,
}

impl Options {
    /// The defaults for a workspace root.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            base: None,
            deny_breaking: false,
        }
    }
}

/// A snapshot file that differs from a fresh generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleFile {
    /// The committed file.
    pub path: PathBuf,
    /// A unified diff from the committed file to the fresh one (empty when the file is
    /// missing).
    pub diff: String,
    /// Whether the committed file is missing.
    pub missing: bool,
}

/// Check 1: the snapshot files in `dir` that differ from a generation of `spec_text`.
pub fn snapshot_drift(spec_text: &str, dir: &Path) -> Result<Vec<StaleFile>> {
    let fresh = Snapshot::from_spec(spec_text)?;
    let mut stale = Vec::new();
    for (name, content) in fresh.files() {
        let path = dir.join(name);
        let Ok(committed) = fs::read_to_string(&path) else {
            stale.push(StaleFile {
                path,
                diff: String::new(),
                missing: true,
            });
            continue;
        };
        if committed != content {
            let rel = display_path(&path);
            let diff = similar::TextDiff::from_lines(committed.as_str(), content)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{rel} (committed)"),
                    &format!("{rel} (fresh from the spec)"),
                )
                .to_string();
            stale.push(StaleFile {
                path,
                diff,
                missing: false,
            });
        }
    }
    Ok(stale)
}

/// What check 2 found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// How many recorded responses were checked.
    pub checked: usize,
    /// How many of the recorded responses are copies of one of the spec's own examples
    /// (they only test the spec against itself, so they are not counted as real).
    pub copies_of_examples: usize,
    /// Drift, one line each: `<where>: $.path: <what>`.
    pub problems: Vec<String>,
    /// Things worth knowing that are not drift.
    pub notes: Vec<String>,
}

/// The status a recorded response's file name declares: `429-rate-limited.json` → `429`;
/// no three-digit prefix means `200`.
pub fn recorded_status(file_name: &str) -> &str {
    let stem = file_name.strip_suffix(".json").unwrap_or(file_name);
    match stem.split_once('-') {
        Some((status, _))
            if status.len() == 3
                && status.starts_with(['1', '2', '3', '4', '5'])
                && status.chars().all(|c| c.is_ascii_digit()) =>
        {
            status
        }
        _ if stem.len() == 3 && stem.chars().all(|c| c.is_ascii_digit()) => stem,
        _ => "200",
    }
}

/// Check 2b: every recorded response under `dir` validates against the schema of its
/// status and has no field the spec lacks.
///
/// Files directly in `dir` are responses of [`DEFAULT_OPERATION`]; responses of another
/// operation go in a subfolder named after its `operationId`. A file is named
/// `<status>-<name>.json` (`429-rate-limited.json`); without a status prefix it is a 200.
pub fn recorded(spec: &Value, dir: &Path) -> Result<Findings> {
    let mut out = Findings::default();
    if !dir.is_dir() {
        out.notes.push(format!(
            "{} does not exist: no recorded responses",
            display_path(dir)
        ));
        return Ok(out);
    }
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in read_dir_sorted(dir)? {
        if entry.is_dir() {
            let op = entry
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for file in read_dir_sorted(&entry)? {
                if is_json(&file) {
                    files.push((op.clone(), file));
                }
            }
        } else if is_json(&entry) {
            files.push((DEFAULT_OPERATION.to_owned(), entry));
        }
    }
    for (op_id, path) in files {
        let site = display_path(&path);
        out.checked += 1;
        let Some(op) = spec::operation(spec, &op_id) else {
            out.problems.push(format!(
                "{site}: the spec has no operation `{op_id}` (files in a subfolder of {} are \
                 responses of the operation the folder is named after)",
                display_path(dir)
            ));
            continue;
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let status = recorded_status(&file_name);
        let Some(schema) = spec::response(spec, &op, status).and_then(spec::json_body_schema)
        else {
            out.problems.push(format!(
                "{site}: the spec documents no JSON body for status {status} of {}",
                op.label()
            ));
            continue;
        };
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let instance: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                out.problems.push(format!("{site}: not JSON: {e}"));
                continue;
            }
        };
        if spec_examples(spec).contains(&&instance) {
            out.copies_of_examples += 1;
            out.notes.push(format!(
                "{site} is a copy of one of the spec's own examples: it tests the spec against \
                 itself, not against the API"
            ));
        }
        // Violations and fields the spec lacks are problems; what the spec allows without
        // describing it (a new value of an open enum, an undescribed member) is a note.
        let findings = conformance::check(spec, schema, &instance)
            .with_context(|| format!("{site}: cannot validate"))?;
        for f in findings {
            let line = format!("{site}: {f}");
            match f.kind {
                Kind::Invalid(_) | Kind::UnknownField => out.problems.push(line),
                Kind::NewEnumValue { .. } | Kind::Undescribed => out.notes.push(line),
            }
        }
    }
    Ok(out)
}

/// Every `example` and `examples.*.value` in `spec`.
fn spec_examples(spec: &Value) -> Vec<&Value> {
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    match (k.as_str(), child) {
                        ("example", e) => out.push(e),
                        ("examples", Value::Object(named)) => {
                            out.extend(named.values().filter_map(|n| n.get("value")));
                        }
                        _ => {}
                    }
                    walk(child, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(spec, &mut out);
    out
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

fn is_json(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "json")
}

/// The tests that hold the repository's properties: what they check, and the test's file
/// (its package is the crate of the `Cargo.toml` above `tests/`).
const REPO_TESTS: [(&str, &str); 2] = [
    (
        "spec ⇄ snapshot, changelog, recorded responses, notes",
        "xtask/tests/repo.rs",
    ),
    (
        "spec ⇄ facade (every parameter, filterable field, operator, sort key and fields \
         value is reachable through the typed API, and nothing more)",
        "crates/inventory/tests/spec_reachability.rs",
    ),
];

/// The tests of [`REPO_TESTS`] under `root` to run, as (what, crate folder, test name).
/// A root without a test's crate (a spec on its own, as in the breaking-change tests) has
/// nothing for it to check, which is said; a crate without its test is a failure, so no
/// check passes by its test going missing.
fn repo_tests(root: &Path, failures: &mut Vec<String>) -> Vec<(&'static str, PathBuf, String)> {
    let mut run = Vec::new();
    for (what, file) in REPO_TESTS {
        let (krate, test) = file.rsplit_once("/tests/").unwrap_or(("", file));
        let name = test.trim_end_matches(".rs").to_owned();
        if !root.join(krate).join("Cargo.toml").is_file() {
            println!("   SKIPPED ({what}): {} has no {krate}", display_path(root));
        } else if !root.join(file).is_file() {
            failures.push(format!(
                "{what}: {file} is missing; restore it (git log -- {file})"
            ));
        } else {
            run.push((what, root.join(krate), name));
        }
    }
    run
}

/// `cargo xtask check`: runs the repository's property tests (a stale derived file is
/// regenerated in the work tree and named), then reports breaking changes against the
/// base (failing on them with `--deny-breaking`).
pub fn run(opts: &Options) -> Result<()> {
    let mut failures: Vec<String> = Vec::new();
    for (what, krate, test) in repo_tests(&opts.root, &mut failures) {
        println!(
            "\n==> {what} (`cargo test --test {test}` of {})",
            display_path(&krate)
        );
        let status = std::process::Command::new(crate::cargo())
            .args(["test", "--quiet", "--test", &test])
            .current_dir(&krate)
            .status()
            .with_context(|| format!("could not run cargo test --test {test}"))?;
        if !status.success() {
            failures.push(format!(
                "{what}: the test {test} failed (its output above says what to do)"
            ));
        }
    }
    let breaking = breaking_check(opts, &mut failures)?;
    if !failures.is_empty() {
        bail!("drift found:\n  - {}", failures.join("\n  - "));
    }
    match breaking {
        0 => println!("\nxtask check: the spec and what is derived from it agree"),
        n => println!(
            "\nxtask check: no drift, but {n} breaking change(s) against the base (reported \
             only; `--deny-breaking` fails on them)"
        ),
    }
    Ok(())
}

/// Breaking changes against the previous revision; returns how many were reported.
fn breaking_check(opts: &Options, failures: &mut Vec<String>) -> Result<usize> {
    println!(
        "\n==> spec ⇄ its previous revision ({})",
        if opts.deny_breaking {
            "breaking changes fail"
        } else {
            "report only; --deny-breaking makes breaking changes fail"
        }
    );
    let Some((label, report)) = specdiff::against_base(
        &opts.root,
        "openapi.yaml",
        opts.base.as_deref(),
        opts.deny_breaking,
    )?
    else {
        return Ok(0);
    };
    println!("   base: {label}");
    for line in report.to_string().lines() {
        println!("   {line}");
    }
    let breaking = report.of(specdiff::Severity::Breaking).count();
    if report.is_breaking() && opts.deny_breaking {
        failures.push(format!(
            "spec ⇄ previous revision: {breaking} breaking change(s) against {label}; revert \
             them, or ship them knowingly (without --deny-breaking they are only reported)"
        ));
    }
    Ok(breaking)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn recorded_file_names_declare_their_status() {
        assert_eq!(recorded_status("reference-page.json"), "200");
        assert_eq!(recorded_status("429-rate-limited.json"), "429");
        assert_eq!(recorded_status("200-live-2025-08-28.json"), "200");
        assert_eq!(recorded_status("404.json"), "404");
        assert_eq!(recorded_status("2025-08-28.json"), "200");
    }

    fn the_spec() -> Value {
        spec::parse(include_str!("../../openapi.yaml")).unwrap()
    }

    #[test]
    fn recorded_copies_of_the_spec_examples_are_labelled_and_real_ones_are_not() {
        let spec = the_spec();
        let example = spec
            .pointer("/components/examples/ReferencePage/value")
            .unwrap()
            .clone();
        let mut real = example.clone();
        real["collection"][0]["qty_on_hand"] = serde_json::json!(12_345);
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, v: &Value| {
            fs::write(
                dir.path().join(name),
                serde_json::to_string_pretty(v).unwrap(),
            )
            .unwrap();
        };
        write("copy-of-example.json", &example);
        write("200-live.json", &real);

        let rec = recorded(&spec, dir.path()).unwrap();
        assert_eq!(rec.checked, 2);
        assert!(rec.problems.is_empty(), "{:#?}", rec.problems);
        assert_eq!(rec.copies_of_examples, 1, "{:#?}", rec.notes);
        let labelled: Vec<_> = rec
            .notes
            .iter()
            .filter(|n| n.contains("is a copy of one of the spec's own examples"))
            .collect();
        assert_eq!(labelled.len(), 1, "{labelled:#?}");
        assert!(
            labelled[0].contains("copy-of-example.json"),
            "{labelled:#?}"
        );

        // The committed reference page is such a copy, and is labelled.
        let committed = recorded(&spec, &crate::root().join(RECORDED_DIR)).unwrap();
        assert!(committed.copies_of_examples >= 1, "{:#?}", committed.notes);
    }

    #[test]
    fn a_missing_repository_test_fails_and_a_missing_crate_is_skipped() {
        let root = tempfile::tempdir().unwrap();
        // No crates: nothing to check (said, not failed).
        let mut failures = Vec::new();
        assert!(repo_tests(root.path(), &mut failures).is_empty());
        assert!(failures.is_empty(), "{failures:?}");
        // The facade crate without its reachability test: a failure.
        let krate = root.path().join("crates/inventory/Cargo.toml");
        fs::create_dir_all(krate.parent().unwrap()).unwrap();
        fs::write(&krate, "[package]\nname = \"shipstream-inventory\"\n").unwrap();
        assert!(repo_tests(root.path(), &mut failures).is_empty());
        let file = "crates/inventory/tests/spec_reachability.rs";
        assert_eq!(failures.len(), 1);
        assert!(failures[0].ends_with(&format!(
            "{file} is missing; restore it (git log -- {file})"
        )));
        // With it, the test is run from its crate's folder.
        fs::create_dir_all(root.path().join("crates/inventory/tests")).unwrap();
        fs::write(root.path().join(file), "").unwrap();
        let run = repo_tests(root.path(), &mut Vec::new());
        assert_eq!(run.len(), 1);
        assert_eq!(run[0].1, root.path().join("crates/inventory"));
        assert_eq!(run[0].2, "spec_reachability");
    }
}
