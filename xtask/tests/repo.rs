//! The properties of this repository, each one `#[test]` (rust-analyzer's style): what is
//! derived from `openapi.yaml` is current, and what is recorded against it agrees with it.
//! A derived file that is stale is rewritten and the test fails, so `cargo test` shows the
//! diff and leaves the fix in the work tree to review and commit. `cargo xtask check` runs
//! these tests and the facade's `spec_reachability` test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;

use xtask::{
    changelog, check,
    generate::{self, SNAPSHOT_DIR},
    notes, root, spec,
};

/// Most diff lines a failure shows per file.
const MAX_DIFF_LINES: usize = 120;
/// Most characters a failure shows per diff line (`api.rs` holds the spec on one line).
const MAX_LINE_CHARS: usize = 200;

fn spec_text() -> String {
    fs::read_to_string(root().join("openapi.yaml")).unwrap()
}

fn capped(diff: &str) -> String {
    let lines: Vec<&str> = diff.lines().collect();
    let clip = |l: &&str| match l.char_indices().nth(MAX_LINE_CHARS) {
        Some((i, _)) => format!("{}…", &l[..i]),
        None => (*l).to_owned(),
    };
    let shown: Vec<String> = lines[..lines.len().min(MAX_DIFF_LINES)]
        .iter()
        .map(clip)
        .collect();
    let mut shown = shown.join("\n");
    if lines.len() > MAX_DIFF_LINES {
        shown.push_str(&format!(
            "\n… ({} more diff lines)",
            lines.len() - MAX_DIFF_LINES
        ));
    }
    shown
}

/// `crates/generated/snapshot/` is what codegen makes of the spec today (the client, the
/// API facts and the surface summary); a stale one is regenerated.
#[test]
fn the_snapshot_is_fresh() {
    let dir = root().join(SNAPSHOT_DIR);
    let stale = check::snapshot_drift(&spec_text(), &dir).unwrap();
    if stale.is_empty() {
        return;
    }
    let shown: Vec<String> = stale
        .iter()
        .map(|f| match f.missing {
            true => format!("{} is missing", f.path.display()),
            false => capped(&f.diff),
        })
        .collect();
    generate::Snapshot::from_spec(&spec_text())
        .unwrap()
        .write(&dir)
        .unwrap();
    panic!(
        "the snapshot was stale and is now regenerated (what `cargo xtask generate` does): \
         review `git diff {SNAPSHOT_DIR}` and commit it with the spec change\n{}",
        shown.join("\n")
    );
}

/// CHANGELOG.md's generated block lists the spec's changes since the last release; a
/// stale block is rewritten.
#[test]
fn the_changelog_block_is_current() {
    if let Err(e) = changelog::verify(&root()) {
        changelog::run(&root()).unwrap();
        panic!(
            "CHANGELOG.md's API block was stale and is now rewritten (what `cargo xtask \
             changelog` does): review and commit it\n{e:#}"
        );
    }
}

/// Every response under `fixtures/recorded/` validates against the schema of its status
/// and has no field the spec lacks.
#[test]
fn the_recorded_responses_agree_with_the_spec() {
    let spec = spec::load(&root().join("openapi.yaml")).unwrap();
    let found = check::recorded(&spec, &root().join(check::RECORDED_DIR)).unwrap();
    assert!(found.checked > 0, "no recorded response was checked");
    assert!(
        found.problems.is_empty(),
        "the API sent what the spec does not say: update openapi.yaml to match, then run \
         `cargo xtask generate`\n  - {}",
        found.problems.join("\n  - ")
    );
}

/// Every `x-assumed` note starts with an id of its own, and every claim the vendor does
/// not make (nullable or never null, a format, a required member, an enum, a bound,
/// `uniqueItems`, a header's `required`, a status) carries a note of its own.
#[test]
fn every_claim_of_the_spec_carries_its_own_note() {
    let text = spec_text();
    notes::assumed_notes_of(&text).unwrap();
    let unnoted = notes::unnoted_claims(&spec::parse(&text).unwrap());
    assert!(
        unnoted.is_empty(),
        "claims without a note of their own: add an `x-assumed` note saying what the vendor \
         says and why the spec claims it, or an `x-confirmed` one naming the vendor's page \
         that does, on the claim's element, on its property, or on its component naming the \
         member in backticks\n  - {}",
        unnoted.join("\n  - ")
    );
}

/// ARCHITECTURE.md is a short bird's-eye view (at most 200 lines), and every path it
/// names (a backticked word with a `/`, or a file name with an extension) exists.
#[test]
fn architecture_names_only_paths_that_exist() {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let lines = text.lines().count();
    assert!(
        lines <= 200,
        "ARCHITECTURE.md has {lines} lines; keep it to 200"
    );
    let named: Vec<&str> = text
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.contains(' ') && (w.contains('/') || w.ends_with(".md")))
        .filter(|w| !w.starts_with("http") && !w.contains('<') && !w.contains('{'))
        .collect();
    assert!(
        named.len() > 50,
        "only {} paths found: {named:?}",
        named.len()
    );
    let missing: Vec<&&str> = named
        .iter()
        .filter(|p| !root().join(p.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}
