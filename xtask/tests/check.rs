//! What `cargo xtask check` and `xtask/tests/repo.rs` rely on reports planted drift: a spec
//! change the snapshot lacks, recorded responses the spec contradicts, and breaking changes
//! against a git base.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{fs, path::Path, process::Command};

use serde_json::{Value, json};
use xtask::{
    check, generate, root, spec,
    specdiff::{self, Base, Severity},
};

const OP: &str = "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels)";

fn the_spec() -> Value {
    spec::load(&root().join("openapi.yaml")).unwrap()
}

fn reference_page() -> Value {
    let text = fs::read_to_string(root().join("fixtures/recorded/reference-page.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

// ---- 1. spec ⇄ snapshot -----------------------------------------------------------------

#[test]
fn a_changed_type_shows_as_a_snapshot_diff() {
    let mut spec = the_spec();
    spec["components"]["schemas"]["TotalLevel"]["properties"]["qty_on_hand"] =
        json!({"type": "string"});
    // JSON is YAML: the generator reads it as it reads openapi.yaml.
    let text = serde_json::to_string(&spec).unwrap();
    let stale = check::snapshot_drift(&text, &root().join(generate::SNAPSHOT_DIR)).unwrap();
    let names: Vec<_> = stale
        .iter()
        .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // api.rs changes with any spec edit too: its header carries the spec's hash.
    assert_eq!(names, ["client.rs", "api.rs", "SURFACE.md"]);
    let client = &stale[0].diff;
    assert!(
        client.contains("-        pub qty_on_hand: ::std::option::Option<i64>,"),
        "{client}"
    );
    assert!(
        client.contains("+        pub qty_on_hand: ::std::option::Option<::std::string::String>,"),
        "{client}"
    );
    let surface = &stale[2].diff;
    assert!(
        surface.contains("-| `qty_on_hand` | `qty_on_hand` | `Option<i64>` |"),
        "{surface}"
    );
    assert!(
        surface.contains("+| `qty_on_hand` | `qty_on_hand` | `Option<String>` |"),
        "{surface}"
    );
}

#[test]
fn a_missing_snapshot_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(root().join("openapi.yaml")).unwrap();
    let stale = check::snapshot_drift(&text, dir.path()).unwrap();
    assert!(stale.iter().all(|s| s.missing) && stale.len() == 3);
}

// ---- 2. spec ⇄ recorded responses --------------------------------------------

#[test]
fn recorded_responses_with_drift_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut page = reference_page();
    page["included"]["Product"][0]["shiny_field"] = json!(1);
    write_json(&dir.path().join("with-extra-field.json"), &page);
    let mut page = reference_page();
    page["collection"][0]["qty_on_hand"] = json!("230");
    write_json(&dir.path().join("200-wrong-type.json"), &page);
    write_json(
        &dir.path().join("429-rate-limited.json"),
        &json!({"errors": [{"type": "application", "message": "Slow down."}]}),
    );
    write_json(&dir.path().join("401-bad.json"), &json!({"error": "nope"}));

    let rec = check::recorded(&the_spec(), dir.path()).unwrap();
    assert_eq!(rec.checked, 4);
    let wants = [
        "200-wrong-type.json: $.collection[0].qty_on_hand: \"230\" is not of type \"integer\"",
        "401-bad.json: $: \"errors\" is a required property",
        "401-bad.json: $.error: the API sends a field the spec lacks",
        "with-extra-field.json: $.included.Product[0].shiny_field: the API sends a field the spec lacks",
    ];
    for want in wants {
        assert!(
            rec.problems.iter().any(|p| p.ends_with(want)),
            "missing {want:?} in {:#?}",
            rec.problems
        );
    }
    assert_eq!(rec.problems.len(), wants.len(), "{:#?}", rec.problems);
}

#[test]
fn recorded_responses_of_unknown_operations_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("no_such_operation")).unwrap();
    write_json(&dir.path().join("no_such_operation/page.json"), &json!({}));
    let rec = check::recorded(&the_spec(), dir.path()).unwrap();
    assert_eq!(rec.problems.len(), 1);
    assert!(rec.problems[0].contains("the spec has no operation `no_such_operation`"));
}

fn write_json(path: &Path, value: &Value) {
    fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

// ---- 3. spec ⇄ its previous revision ------------------------------------------------------

#[test]
fn a_removed_parameter_is_breaking() {
    let old = the_spec();
    let mut new = the_spec();
    new["paths"]["/api/global/v1/inventory/levels/total"]["get"]["parameters"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["$ref"] != "#/components/parameters/CursorEnd");
    let report = specdiff::compare(&old, &new);
    assert!(report.is_breaking());
    let breaking: Vec<_> = report
        .of(Severity::Breaking)
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        breaking,
        [format!(
            "{OP} parameter query `cursor_end`: parameter removed or renamed"
        )]
    );
}

/// A throwaway git repository holding the spec, committed on `main`.
fn repo_with_spec() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(root().join("openapi.yaml"), dir.path().join("openapi.yaml")).unwrap();
    git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
    git(dir.path(), &["add", "openapi.yaml"]);
    git(dir.path(), &["commit", "--quiet", "-m", "spec"]);
    dir
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=xtask test",
            "-c",
            "user.email=xtask@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git must be installed to run this test");
    assert!(status.success(), "git {args:?} failed");
}

#[test]
fn the_working_tree_is_compared_with_the_git_base() {
    let repo = repo_with_spec();
    let text = fs::read_to_string(repo.path().join("openapi.yaml")).unwrap();
    let narrowed = text.replace("maximum: 1000", "maximum: 200");
    assert_ne!(narrowed, text);
    fs::write(repo.path().join("openapi.yaml"), narrowed).unwrap();

    // Default base on main: HEAD.
    let Base::Found { label, .. } = specdiff::base_spec(repo.path(), "openapi.yaml", None) else {
        panic!("no base found");
    };
    assert!(label.starts_with("HEAD ("), "{label}");

    let (_, report) = specdiff::against_base(repo.path(), "openapi.yaml", Some("HEAD"), true)
        .unwrap()
        .unwrap();
    let breaking: Vec<_> = report
        .of(Severity::Breaking)
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        breaking,
        [format!(
            "{OP} parameter query `limit`: maximum changed from 1000 to 200 (narrowed: values accepted before are refused)"
        )]
    );

    // `check` fails on it only with --deny-breaking (the folder holds no crate, so the
    // repository's property tests are skipped and only the breaking report speaks).
    let opts = check::Options::new(repo.path());
    let err = check::run(&check::Options {
        deny_breaking: true,
        ..opts.clone()
    })
    .unwrap_err();
    let shown = format!("{err:#}");
    assert!(
        shown.contains("spec ⇄ previous revision: 1 breaking change(s) against HEAD"),
        "{shown}"
    );
    // Without --deny-breaking the same report passes.
    check::run(&opts).unwrap();
}

#[test]
fn a_missing_base_is_skipped_unless_explicitly_denied() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(root().join("openapi.yaml"), dir.path().join("openapi.yaml")).unwrap();
    // Not a git repository at all.
    assert!(matches!(
        specdiff::base_spec(dir.path(), "openapi.yaml", None),
        Base::Unavailable(_)
    ));
    assert!(
        specdiff::against_base(dir.path(), "openapi.yaml", None, true)
            .unwrap()
            .is_none()
    );
    // An explicit base that does not exist, with --deny-breaking: an error.
    let repo = repo_with_spec();
    let err =
        specdiff::against_base(repo.path(), "openapi.yaml", Some("no-such-rev"), true).unwrap_err();
    assert!(format!("{err:#}").contains("no-such-rev"), "{err:#}");
    // ... and without --deny-breaking, a skip.
    assert!(
        specdiff::against_base(repo.path(), "openapi.yaml", Some("no-such-rev"), false)
            .unwrap()
            .is_none()
    );
}
