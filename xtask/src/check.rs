//! `cargo xtask check`: fails, with a diff and the command that fixes it, when the spec and
//! what is derived from or recorded against it disagree.
//!
//! 1. spec ⇄ snapshot: `crates/generated/snapshot/` equals a fresh generation;
//! 2. spec ⇄ its recorded responses: every response under `fixtures/recorded/` validates
//!    against the schema of its status and has no field the spec lacks (the spec's own
//!    examples are validated by the spec linters of `cargo xtask lint-spec`: Redocly's
//!    `no-invalid-*-examples` and Spectral's `oas3-valid-*-example`, at error level);
//! 3. spec ⇄ its previous revision: a breaking-change report against a git base (fails
//!    only with `--deny-breaking`).
//!
//! Each check is its own function (`snapshot_check`, `recorded_check`, `facade_check`,
//! `breaking_check`).

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
    generate::{self, Snapshot},
    notes, spec, specdiff,
};

/// The folder of recorded responses, relative to the workspace root.
pub const RECORDED_DIR: &str = "fixtures/recorded";

/// The operation that top-level files of [`RECORDED_DIR`] are responses of.
pub const DEFAULT_OPERATION: &str = "list_total_inventory_levels";

/// Most diff lines printed per file.
const MAX_DIFF_LINES: usize = 400;

/// What `cargo xtask check` checks, and against what.
#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace root (the git work tree).
    pub root: PathBuf,
    /// The spec, relative to `root`.
    pub spec: String,
    /// The snapshot folder.
    pub snapshot_dir: PathBuf,
    /// The recorded responses.
    pub recorded_dir: PathBuf,
    /// The git revision to compare the spec with (default: see [`specdiff::base_spec`]).
    pub base: Option<String>,
    /// Fail on breaking changes.
    pub deny_breaking: bool,
    /// The target folder of the cargo commands the checks run (default: the workspace's
    /// own, or `CARGO_TARGET_DIR`).
    pub target_dir: Option<PathBuf>,
}

impl Options {
    /// The defaults for a workspace root.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            spec: "openapi.yaml".to_owned(),
            snapshot_dir: root.join(generate::SNAPSHOT_DIR),
            recorded_dir: root.join(RECORDED_DIR),
            base: None,
            deny_breaking: false,
            target_dir: None,
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

/// The facade's spec-reachability test (check 3).
const FACADE_TEST: &str = "crates/inventory/tests/spec_reachability.rs";

/// `cargo xtask check`.
pub fn run(opts: &Options) -> Result<()> {
    let spec_path = opts.root.join(&opts.spec);
    let spec_text = fs::read_to_string(&spec_path)
        .with_context(|| format!("cannot read the spec {}", spec_path.display()))?;
    let spec = spec::parse(&spec_text)
        .with_context(|| format!("cannot parse the spec {}", spec_path.display()))?;
    let mut failures: Vec<String> = Vec::new();

    snapshot_check(opts, &spec_text, &mut failures)?;
    recorded_check(opts, &spec, &mut failures)?;
    facade_check(opts, &mut failures)?;
    let breaking_reported = breaking_check(opts, &mut failures)?;
    changelog_check(opts, &mut failures);

    notes::assumptions_check(&spec_text, &spec, &mut failures)?;

    if failures.is_empty() && breaking_reported > 0 {
        println!(
            "\nxtask check: no drift, but {breaking_reported} breaking change(s) against the base \
             (reported only; `--deny-breaking` fails on them)"
        );
        Ok(())
    } else if failures.is_empty() {
        println!("\nxtask check: the spec, the snapshot and the recorded responses agree");
        Ok(())
    } else {
        bail!("drift found:\n  - {}", failures.join("\n  - "))
    }
}

fn print_capped(diff: &str) {
    let lines: Vec<_> = diff.lines().collect();
    for line in lines.iter().take(MAX_DIFF_LINES) {
        println!("{line}");
    }
    if lines.len() > MAX_DIFF_LINES {
        println!("... ({} more diff lines)", lines.len() - MAX_DIFF_LINES);
    }
    println!();
}

/// Check 1: the committed snapshot equals a fresh generation from the spec.
fn snapshot_check(opts: &Options, spec_text: &str, failures: &mut Vec<String>) -> Result<()> {
    println!(
        "\n==> check 1/5: spec ⇄ snapshot ({} generates {}/{{{}, {}, {}}})",
        opts.spec,
        display_path(&opts.snapshot_dir),
        generate::CLIENT_FILE,
        generate::API_FILE,
        generate::SURFACE_FILE
    );
    let stale = snapshot_drift(spec_text, &opts.snapshot_dir)?;
    if stale.is_empty() {
        println!("   ok: the committed snapshot equals a fresh generation");
    }
    for file in &stale {
        if file.missing {
            println!("   {} is missing", display_path(&file.path));
        } else {
            println!(
                "   {} differs from a fresh generation:\n",
                display_path(&file.path)
            );
            print_capped(&file.diff);
        }
    }
    if !stale.is_empty() {
        println!("   fix: run `cargo xtask generate` and commit the snapshot with the spec change");
        failures.push("spec ⇄ snapshot: the snapshot is stale; run `cargo xtask generate`".into());
    }
    Ok(())
}

/// Check 2: the recorded responses validate against the spec.
fn recorded_check(opts: &Options, spec: &Value, failures: &mut Vec<String>) -> Result<()> {
    println!("\n==> check 2/5: spec ⇄ its recorded responses");
    let rec = recorded(spec, &opts.recorded_dir)?;
    for note in &rec.notes {
        println!("   note: {note}");
    }
    println!(
        "   {} recorded response(s) under {} checked ({} real recording(s); {} a copy of the \
         spec's own example; `cargo xtask drift --live --record` adds real ones)",
        rec.checked,
        display_path(&opts.recorded_dir),
        rec.checked - rec.copies_of_examples,
        rec.copies_of_examples,
    );
    if rec.problems.is_empty() {
        println!("   ok: every one validates and has no field the spec lacks");
    }
    for p in &rec.problems {
        println!("   ✗ {p}");
    }
    if !rec.problems.is_empty() {
        println!(
            "   fix: the API sends what the spec does not say; update {} to match (then run \
             `cargo xtask generate`)",
            opts.spec
        );
        failures.push(format!(
            "spec ⇄ recorded responses: {} problem(s); update {} and run `cargo xtask generate`",
            rec.problems.len(),
            opts.spec
        ));
    }
    Ok(())
}

/// The facade crate whose test check 3 runs, relative to the workspace root.
const FACADE_CRATE: &str = "crates/inventory/Cargo.toml";

/// Check 3: the facade offers exactly what the spec describes (its reachability test).
///
/// A workspace with the facade crate but without its test fails: the check cannot pass by
/// the test going missing. A root without the facade crate at all (a spec on its own, as in
/// the breaking-change tests) has nothing to check; that is said, not passed over.
fn facade_check(opts: &Options, failures: &mut Vec<String>) -> Result<()> {
    println!(
        "\n==> check 3/5: spec ⇄ facade (every parameter, filterable field, operator, sort \
         key and fields value is reachable through the typed API, and nothing more)"
    );
    let facade_test = opts.root.join(FACADE_TEST);
    if !facade_test.is_file() {
        if opts.root.join(FACADE_CRATE).is_file() {
            println!(
                "   ✗ {FACADE_TEST} is missing, so nothing holds the facade to the spec; \
                 restore it (git log -- {FACADE_TEST})"
            );
            failures.push(format!("spec ⇄ facade: {FACADE_TEST} is missing"));
        } else {
            println!(
                "   SKIPPED: {} has no facade crate ({FACADE_CRATE}), so check 3 did not run",
                display_path(&opts.root)
            );
        }
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command
        .args([
            "test",
            "--quiet",
            "-p",
            "shipstream-inventory",
            "--test",
            "spec_reachability",
        ])
        .current_dir(&opts.root);
    if let Some(target) = &opts.target_dir {
        command.env("CARGO_TARGET_DIR", target);
    }
    let status = command
        .status()
        .context("could not run cargo test for the spec ⇄ facade check")?;
    if status.success() {
        println!("   ok: the facade offers exactly what the spec describes");
    } else {
        println!(
            "   fix: a new query parameter needs one builder method on TotalLevelsRequest \
             (crates/inventory/src/request.rs) that sets it on the Query; every other spec \
             element reaches the facade through `cargo xtask generate` ({FACADE_TEST} names \
             what is missing)"
        );
        failures.push(format!("spec ⇄ facade: {FACADE_TEST} failed"));
    }
    Ok(())
}

/// Check 4: breaking changes against the previous revision; returns how many were
/// reported.
fn breaking_check(opts: &Options, failures: &mut Vec<String>) -> Result<usize> {
    println!(
        "\n==> check 4/5: spec ⇄ its previous revision ({})",
        if opts.deny_breaking {
            "breaking changes fail"
        } else {
            "report only; --deny-breaking makes breaking changes fail"
        }
    );
    let Some((label, report)) = specdiff::against_base(
        &opts.root,
        &opts.spec,
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

/// Check 5: CHANGELOG.md's generated block lists the spec's changes since the last release.
fn changelog_check(opts: &Options, failures: &mut Vec<String>) {
    println!("\n==> check 5/5: spec ⇄ CHANGELOG.md (the API changes since the last release)");
    match crate::changelog::verify(&opts.root) {
        Ok(()) => println!("   ok: the Unreleased section lists the spec diff"),
        Err(e) => {
            println!("   {e:#}");
            failures.push(
                format!("spec ⇄ changelog: {e:#}")
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
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
    fn check_3_fails_when_the_facade_test_is_missing() {
        let root = tempfile::tempdir().unwrap();
        let opts = Options::new(root.path());
        // No facade crate: nothing to check (said, not failed).
        let mut failures = Vec::new();
        facade_check(&opts, &mut failures).unwrap();
        assert!(failures.is_empty(), "{failures:?}");
        // The facade crate without its reachability test: a failure.
        let krate = root.path().join(FACADE_CRATE);
        fs::create_dir_all(krate.parent().unwrap()).unwrap();
        fs::write(&krate, "[package]\nname = \"shipstream-inventory\"\n").unwrap();
        facade_check(&opts, &mut failures).unwrap();
        assert_eq!(
            failures,
            [format!("spec ⇄ facade: {FACADE_TEST} is missing")]
        );
    }
}
