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

use crate::{
    conformance::{self, Kind},
    display_path,
    generate::{self, Snapshot},
    spec, specdiff,
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

    assumptions_check(&spec_text, &spec, &mut failures)?;

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

/// Lists the spec's `x-assumed` notes: what it states without the vendor's documentation
/// saying so (read by codegen, so the list is the one the generated `api::ASSUMPTIONS` has),
/// and fails on a statement shaped like an assumption that carries no note
/// ([`unnoted_claims`]).
fn assumptions_check(spec_text: &str, spec: &Value, failures: &mut Vec<String>) -> Result<()> {
    let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(spec_text)
        .context("cannot read the spec's facts")?;
    println!(
        "\n==> assumptions: {} statement(s) of the spec are marked `x-assumed` (not documented by \
         the vendor; `cargo xtask drift --live --probe` confirms or refutes them by id)",
        facts.assumptions.len()
    );
    for a in &facts.assumptions {
        println!("   {}: {}", a.pointer, a.text);
    }
    let (_, id_problems) = assumed_notes(pairs(&facts.assumptions));
    if id_problems.is_empty() {
        println!(
            "   ok: every note starts with its own id (`[kebab-case-id] ...`), which `cargo xtask \
             drift --live --probe` reports it by"
        );
    }
    for problem in &id_problems {
        println!("   ✗ {problem}");
    }
    if !id_problems.is_empty() {
        println!(
            "   fix: start each `x-assumed` note with a stable id of its own in brackets, \
             `\"[next-link-form] whether ...\"` (quote the YAML string or use `>-`: a plain \
             scalar may not start with `[`); never reuse or rename an id, probes and recordings \
             are keyed by it"
        );
        failures.push(format!(
            "x-assumed notes without a unique id: {}",
            id_problems.len()
        ));
    }
    let unnoted = unnoted_claims(spec);
    if unnoted.is_empty() {
        println!(
            "   ok: every nullable, integer size and required member sits under an `x-assumed` \
             or `x-confirmed` note"
        );
    }
    for claim in unnoted {
        println!(
            "   ✗ {claim}: only an instance could show it; add an `x-assumed` note saying what \
             the vendor says and why the spec claims it, or an `x-confirmed` one naming the \
             vendor's page that does"
        );
        failures.push(format!("an assumption without a note: {claim}"));
    }
    Ok(())
}

/// One `x-assumed` note with its id: the note's text is `[id] what is assumed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedNote {
    /// The stable, kebab-case id (`next-link-form`).
    pub id: String,
    /// JSON pointer to the element that carries the note.
    pub pointer: String,
    /// What is assumed, without the id.
    pub text: String,
}

/// The id of a note written `[id] text`, and the text after it; `None` when the note does
/// not start with a kebab-case id in brackets followed by a space and some text.
pub fn split_note_id(note: &str) -> Option<(&str, &str)> {
    let rest = note.strip_prefix('[')?;
    let (id, text) = rest.split_once("] ")?;
    let kebab = !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    (kebab && !text.trim().is_empty()).then_some((id, text))
}

/// The spec's notes with their ids, and one line per note without a valid id or with an
/// id another note already has.
/// `assumptions` are `(pointer, note)` pairs in document order.
pub fn assumed_notes<'a>(
    assumptions: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (Vec<AssumedNote>, Vec<String>) {
    let mut notes: Vec<AssumedNote> = Vec::new();
    let mut problems = Vec::new();
    for (pointer, note) in assumptions {
        let Some((id, text)) = split_note_id(note) else {
            let start: String = note.chars().take(60).collect();
            problems.push(format!(
                "{pointer}: the note \"{start}...\" has no id: write it as \
                 `[some-kebab-id] {start}...`"
            ));
            continue;
        };
        if let Some(first) = notes.iter().find(|n| n.id == id) {
            problems.push(format!(
                "{pointer}: the id `{id}` is already used at {}; every note needs its own",
                first.pointer
            ));
            continue;
        }
        notes.push(AssumedNote {
            id: id.to_owned(),
            pointer: pointer.to_owned(),
            text: text.to_owned(),
        });
    }
    (notes, problems)
}

fn pairs(
    assumptions: &[shipstream_inventory_codegen::facts::Assumption],
) -> impl Iterator<Item = (&str, &str)> {
    assumptions
        .iter()
        .map(|a| (a.pointer.as_str(), a.text.as_str()))
}

/// The spec's notes with their ids; fails naming every note without a valid, unique id.
pub fn assumed_notes_of(spec_text: &str) -> Result<Vec<AssumedNote>> {
    let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(spec_text)
        .context("cannot read the spec's facts")?;
    let (notes, problems) = assumed_notes(pairs(&facts.assumptions));
    if !problems.is_empty() {
        bail!(
            "x-assumed notes without a unique id (`cargo xtask check` lists them):\n  - {}",
            problems.join("\n  - ")
        );
    }
    Ok(notes)
}

/// The statements of a schema node that the vendor's example cannot show: that the value may
/// be null, that an integer fits a size, that members are always there.
fn claims_of(node: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    if node.get("nullable") == Some(&Value::Bool(true)) {
        out.push("nullable".to_owned());
    }
    if let Some(f) = node.get("format").and_then(Value::as_str)
        && matches!(f, "int64" | "int32")
    {
        out.push(format!("format {f}"));
    }
    if let Some(members) = node.get("required").and_then(Value::as_array)
        && !members.is_empty()
    {
        let names: Vec<&str> = members.iter().filter_map(Value::as_str).collect();
        out.push(format!("required {}", names.join(", ")));
    }
    out
}

/// Every assumption-shaped statement ([`claims_of`]) of the spec's components with no
/// `x-assumed` or `x-confirmed` note on its node or on a node around it within its
/// component, as `pointer: claim`. A `$ref` is judged where its target is defined.
pub(crate) fn unnoted_claims(spec: &Value) -> Vec<String> {
    fn walk(node: &Value, ptr: &str, noted: bool, out: &mut Vec<String>) {
        match node {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{ptr}/{i}"), noted, out);
                }
            }
            Value::Object(map) if !map.contains_key("$ref") => {
                let noted =
                    noted || map.contains_key("x-assumed") || map.contains_key("x-confirmed");
                if !noted {
                    out.extend(claims_of(map).into_iter().map(|c| format!("{ptr}: {c}")));
                }
                for (key, child) in map {
                    if key.starts_with("x-") || matches!(key.as_str(), "example" | "examples") {
                        continue;
                    }
                    let key = key.replace('~', "~0").replace('/', "~1");
                    walk(child, &format!("{ptr}/{key}"), noted, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for section in ["schemas", "parameters", "headers", "responses"] {
        let Some(components) = spec
            .pointer(&format!("/components/{section}"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, component) in components {
            walk(
                component,
                &format!("/components/{section}/{name}"),
                false,
                &mut out,
            );
        }
    }
    out
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
    fn every_assumption_shaped_claim_of_the_spec_has_a_note() {
        let spec = spec::parse(include_str!("../../openapi.yaml")).unwrap();
        assert_eq!(unnoted_claims(&spec), Vec::<String>::new());
    }

    #[test]
    fn a_claim_without_a_note_is_named_and_a_note_around_it_covers_it() {
        let spec = serde_json::json!({"components": {"schemas": {
            "A": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer", "format": "int64"},
                "b": {"$ref": "#/components/schemas/B"},
                "c": {"type": "string", "nullable": true, "x-assumed": "c may be null"}}},
            "B": {"type": "object", "nullable": true, "x-confirmed": "the vendor says so",
                  "properties": {"n": {"type": "integer", "format": "int32"}}}
        }}});
        assert_eq!(
            unnoted_claims(&spec),
            [
                "/components/schemas/A: required id",
                "/components/schemas/A/properties/id: format int64"
            ]
        );
        let mut noted = spec.clone();
        noted["components"]["schemas"]["A"]["x-assumed"] = "ids are int64".into();
        assert_eq!(unnoted_claims(&noted), Vec::<String>::new());
    }

    #[test]
    fn every_note_of_the_spec_has_a_unique_kebab_case_id() {
        let notes = assumed_notes_of(include_str!("../../openapi.yaml")).unwrap();
        assert!(notes.len() >= 50, "{} notes", notes.len());
        assert!(notes.iter().any(|n| n.id == "next-link-form"
            && n.pointer == "/components/schemas/TotalLevelsPage/properties/next"));
    }

    #[test]
    fn a_note_without_an_id_or_with_a_used_id_is_named() {
        assert_eq!(
            split_note_id("[sort-key-once] a key once"),
            Some(("sort-key-once", "a key once"))
        );
        for bad in [
            "a key once",
            "[] a key",
            "[Sort_Key] a key",
            "[sort--key] a",
            "[sort-key]a",
            "[sort-key] ",
            "[-a] b",
        ] {
            assert_eq!(split_note_id(bad), None, "{bad}");
        }
        let (notes, problems) = assumed_notes([
            ("/a", "[ids-int64] ids fit in 64 bits"),
            ("/b", "quantities are never null"),
            ("/c", "[ids-int64] cursors fit in 64 bits"),
            ("/d", "[has-more-always] has_more is always there"),
        ]);
        assert_eq!(
            notes
                .iter()
                .map(|n| (n.id.as_str(), n.pointer.as_str(), n.text.as_str()))
                .collect::<Vec<_>>(),
            [
                ("ids-int64", "/a", "ids fit in 64 bits"),
                ("has-more-always", "/d", "has_more is always there")
            ]
        );
        assert_eq!(
            problems,
            [
                "/b: the note \"quantities are never null...\" has no id: write it as \
                 `[some-kebab-id] quantities are never null...`",
                "/c: the id `ids-int64` is already used at /a; every note needs its own",
            ]
        );
    }

    #[test]
    fn the_check_fails_on_a_spec_whose_note_lost_its_id_or_repeats_one() {
        let spec_text = include_str!("../../openapi.yaml");
        for (from, to, expect) in [
            ("[sort-key-once] ", "", "has no id"),
            (
                "[no-previous-page-spelling]",
                "[no-next-page-spelling]",
                "is already used",
            ),
        ] {
            let broken = spec_text.replacen(from, to, 1);
            assert_ne!(broken, spec_text);
            let spec = spec::parse(&broken).unwrap();
            let mut failures = Vec::new();
            assumptions_check(&broken, &spec, &mut failures).unwrap();
            assert_eq!(
                failures,
                ["x-assumed notes without a unique id: 1"],
                "{expect}"
            );
            let err = assumed_notes_of(&broken).unwrap_err().to_string();
            assert!(err.contains(expect), "{err}");
        }
        let mut failures = Vec::new();
        assumptions_check(spec_text, &spec::parse(spec_text).unwrap(), &mut failures).unwrap();
        assert_eq!(failures, Vec::<String>::new());
    }

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
