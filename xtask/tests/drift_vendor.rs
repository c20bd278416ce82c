//! `cargo xtask drift --vendor` on descriptions laid out as the vendor publishes its own:
//! each test rewrites our openapi.yaml into several files (every schema in a file of its
//! own, parameters, responses and headers in shared files, the path item in a file,
//! `ObjectType` under `components` of a `common.yaml`), with cross-file `$ref`s, the
//! server `https://{instance}.shipstream.app/api/global`, the path
//! `/v1/inventory/levels/total` and one more endpoint that must be ignored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    fs,
    process::{Command, Output},
};

use serde_json::{Value, json};
use xtask::{
    adopt, bundle,
    drift::{layout, vendor},
    root, spec,
    specdiff::{self, Report, Severity},
};

const OUR_PATH: &str = "/api/global/v1/inventory/levels/total";
const OP: &str = "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels)";

/// A path as the `&str` the commands take.
fn s(path: &std::path::Path) -> &str {
    path.to_str().unwrap()
}

fn ours() -> Value {
    spec::load(&root().join("openapi.yaml")).unwrap()
}

/// Writes `spec` into a new folder as the vendor lays its description out.
fn layout(spec: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    layout::write(spec, dir.path()).unwrap();
    dir
}

/// Every change as `(severity, "location: message")`.
fn lines(report: &Report) -> Vec<(Severity, String)> {
    report
        .changes
        .iter()
        .map(|c| (c.severity, c.to_string()))
        .collect()
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_faithful_vendor_layout_has_no_differences() {
    let ours = ours();
    let dir = layout(&ours);
    // The layout really is split, and the bundle keeps no external ref.
    assert!(
        fs::read_dir(dir.path().join("components/schemas"))
            .unwrap()
            .count()
            > 10
    );
    let doc = bundle::bundle(&bundle::root_of(s(dir.path())).unwrap()).unwrap();
    let all = bundle::refs(&doc);
    assert!(
        !all.is_empty() && all.iter().all(|r| r.starts_with("#/components/")),
        "{all:?}"
    );
    // The folder and its root file alike.
    for given in [dir.path().to_owned(), dir.path().join("openapi.yaml")] {
        let drift = vendor::compare(&ours, s(&given)).unwrap();
        assert_eq!(lines(&drift.report), [], "{}", drift.report);
        assert_eq!(drift.operation, OP);
        assert_eq!(
            drift.ignored,
            ["GET /api/global/v1/inventory/levels/warehouse (list_warehouse_inventory_levels)"]
        );
        assert_eq!(drift.vendor_version.as_deref(), Some("2025-08"));
    }
}

#[test]
fn our_extensions_that_the_vendor_files_lack_altogether_are_not_differences() {
    // The engine compares filterable fields and sort keys only where both sides list them:
    // a real release, which has neither extension, reads as no difference in them.
    let mut theirs = ours();
    let parameters = &mut theirs["components"]["parameters"];
    parameters["Filter"]
        .as_object_mut()
        .unwrap()
        .remove("x-filterable-fields")
        .unwrap();
    parameters["Sort"]["schema"]
        .as_object_mut()
        .unwrap()
        .remove("pattern")
        .unwrap();
    let drift = vendor::compare(&ours(), s(layout(&theirs).path())).unwrap();
    assert_eq!(lines(&drift.report), [], "{}", drift.report);
    // A field the vendor's list lacks is still a difference.
    let mut fewer = ours();
    fewer["components"]["parameters"]["Filter"]["x-filterable-fields"]
        .as_object_mut()
        .unwrap()
        .remove("sku")
        .unwrap();
    let drift = vendor::compare(&ours(), s(layout(&fewer).path())).unwrap();
    assert_eq!(drift.report.changes.len(), 1, "{}", drift.report);
}

/// Our description with one planted difference of each kind.
fn planted() -> Value {
    let mut spec = ours();
    let op = &mut spec["paths"][OUR_PATH]["get"];
    let params = op["parameters"].as_array_mut().unwrap();
    params.retain(|p| p["$ref"] != "#/components/parameters/CursorEnd");
    params.push(json!({"$ref": "#/components/parameters/WarehouseId"}));
    let responses = op["responses"].as_object_mut().unwrap();
    responses.remove("404");
    responses.insert(
        "503".into(),
        json!({"$ref": "#/components/responses/UnexpectedError"}),
    );
    responses["200"]["headers"]
        .as_object_mut()
        .unwrap()
        .remove("Date");
    let parameters = &mut spec["components"]["parameters"];
    parameters["WarehouseId"] = json!({
        "name": "warehouse_id", "in": "query", "required": true, "schema": {"type": "integer"},
    });
    parameters["Limit"]["schema"]["maximum"] = json!(500);
    parameters["Limit"]["schema"]["default"] = json!(50);
    parameters["Count"]["deprecated"] = json!(true);
    parameters["Fields"]["schema"]["items"]["enum"]
        .as_array_mut()
        .unwrap()
        .retain(|v| v != "warehouse");
    let schemas = &mut spec["components"]["schemas"];
    schemas["ObjectType"]["anyOf"][0]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("Location"));
    let level = &mut schemas["TotalLevel"];
    let properties = level["properties"].as_object_mut().unwrap();
    properties.remove("qty_picked");
    properties.insert(
        "qty_damaged".into(),
        json!({"type": "integer", "format": "int64"}),
    );
    properties["qty_expected"]["deprecated"] = json!(true);
    level["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("qty_on_hand"));
    schemas["ProductRef"]["required"]
        .as_array_mut()
        .unwrap()
        .retain(|v| v != "id");
    schemas["TotalLevelsPage"]["properties"]["next"]
        .as_object_mut()
        .unwrap()
        .remove("nullable");
    schemas["PageMeta"]["properties"]["count"]["nullable"] = json!(true);
    spec
}

#[test]
fn planted_differences_are_each_named_with_their_class() {
    let dir = layout(&planted());
    let drift = vendor::compare(&ours(), s(dir.path())).unwrap();
    // What a maintainer reads (shown with --nocapture).
    println!("{}", vendor::render(&drift, &root().join("openapi.yaml")));
    let param = |name: &str, message: &str| format!("{OP} parameter query `{name}`: {message}");
    let want = vec![
        // A parameter removed, a new required one, a lowered maximum, a request enum value
        // removed.
        (
            Severity::Breaking,
            param("cursor_end", "parameter removed or renamed"),
        ),
        (
            Severity::Breaking,
            param(
                "fields",
                "[]: value \"warehouse\" removed (requests using it are refused)",
            )
            .replace("`: []", "`[]"),
        ),
        (
            Severity::Breaking,
            param(
                "limit",
                "maximum changed from 1000 to 500 (narrowed: values accepted before are refused)",
            ),
        ),
        (
            Severity::Breaking,
            param("warehouse_id", "new required parameter"),
        ),
        // A response header and a status removed.
        (
            Severity::Breaking,
            format!(
                "{OP} response 200 header `Date`: response header removed (clients reading it \
                 no longer get it)"
            ),
        ),
        (
            Severity::Breaking,
            format!("{OP} response 404: response status removed"),
        ),
        // Now nullable, no longer required, a property removed.
        (
            Severity::Breaking,
            "PageMeta.count: may now be null (the Rust type changes)".into(),
        ),
        (
            Severity::Breaking,
            "ProductRef.id: no longer required: it may be missing (the Rust field becomes an \
             Option)"
                .into(),
        ),
        (
            Severity::Breaking,
            "TotalLevel.qty_picked: property removed (the Rust field disappears)".into(),
        ),
        // A default changed; a property made required.
        (
            Severity::Warning,
            param(
                "limit",
                "default changed from 100 to 50 (callers relying on it get other results)",
            ),
        ),
        (
            Severity::Warning,
            "TotalLevel.qty_on_hand: now required (the Rust field loses its Option)".into(),
        ),
        // Deprecations of a parameter and a property.
        (
            Severity::Deprecation,
            param("count", "deprecated: deprecated by the API"),
        ),
        (
            Severity::Deprecation,
            "TotalLevel.qty_expected: deprecated: deprecated by the API".into(),
        ),
        // A new status, a response enum value, a property; never null any more.
        (
            Severity::Addition,
            format!("{OP} response 503: new response status"),
        ),
        (
            Severity::Addition,
            "ObjectType: new value \"Location\" of enum ObjectType may now be sent (older \
             clients decode it as Unknown)"
                .into(),
        ),
        (
            Severity::Addition,
            "TotalLevel.qty_damaged: new property".into(),
        ),
        (
            Severity::Addition,
            "TotalLevelsPage.next: is never null any more".into(),
        ),
    ];
    let got = lines(&drift.report);
    for w in &want {
        assert!(got.contains(w), "missing {w:?} in\n{}", drift.report);
    }
    for g in &got {
        assert!(want.contains(g), "unexpected {g:?} in\n{}", drift.report);
    }
    assert_eq!(got.len(), want.len(), "{}", drift.report);
}

#[test]
fn the_command_exits_0_without_differences_1_with_any_and_2_on_unreadable_input() {
    let same = layout(&ours());
    let out = xtask(&["drift", "--vendor", same.path().to_str().unwrap()]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("(ours, the old revision) against the vendor's")
            && stdout.contains("(info.version 2025-08;")
            && stdout.contains("the new revision")
            && stdout.contains(&format!("compared: {OP}\n"))
            && stdout.contains("the vendor's document has 1 other operation; they were ignored")
            && stdout.contains("no drift"),
        "{stdout}"
    );

    let planted = layout(&planted());
    let out = xtask(&["drift", "--vendor", planted.path().to_str().unwrap()]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("breaking changes (9):"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "  ✗ {OP} parameter query `warehouse_id`: new required parameter\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "17 difference(s) to act on (9 breaking, 2 warnings, 2 deprecations, 4 additions)"
        ),
        "{stdout}"
    );

    fs::remove_file(same.path().join("components/schemas/PageMeta.yaml")).unwrap();
    let out = xtask(&["drift", "--vendor", same.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("PageMeta.yaml"), "{stderr}");
}

#[test]
fn a_ref_to_a_missing_file_is_an_error_naming_it_and_its_referrer() {
    let dir = layout(&ours());
    fs::remove_file(dir.path().join("components/schemas/PageMeta.yaml")).unwrap();
    let err = format!("{:#}", vendor::compare(&ours(), s(dir.path())).unwrap_err());
    assert!(
        err.contains("components/schemas/PageMeta.yaml")
            && err.contains("TotalLevelsPage.yaml")
            && err.contains("$ref: ./PageMeta.yaml"),
        "{err}"
    );
}

#[test]
fn cycles_across_files_end_at_the_component_or_fail() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |file: &str, text: &str| {
        let path = d.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "openapi.yaml",
        "openapi: 3.0.4\ninfo: {title: t, version: '1'}\npaths:\n  /v1/tree:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: 'schemas/Node.yaml'}\n",
    );
    write(
        "schemas/Node.yaml",
        "type: object\nproperties:\n  edges:\n    type: array\n    items: {$ref: './Edge.yaml'}\n",
    );
    write(
        "schemas/Edge.yaml",
        "type: object\nproperties:\n  to: {$ref: 'Node.yaml'}\n",
    );
    let doc = bundle::bundle(&bundle::root_of(s(d)).unwrap()).unwrap();
    assert_eq!(
        doc["components"]["schemas"],
        json!({
            "Node": {"type": "object", "properties": {"edges": {
                "type": "array", "items": {"$ref": "#/components/schemas/Edge"},
            }}},
            "Edge": {"type": "object", "properties": {"to": {"$ref": "#/components/schemas/Node"}}},
        })
    );
    // Path items have no component kind to stand for them: a cycle of them is an error.
    write(
        "openapi.yaml",
        "openapi: 3.0.4\npaths:\n  /a: {$ref: 'paths/a.yaml'}\n",
    );
    write("paths/a.yaml", "$ref: 'b.yaml'\n");
    write("paths/b.yaml", "$ref: './a.yaml'\n");
    let err = format!(
        "{:#}",
        bundle::bundle(&bundle::root_of(s(d)).unwrap()).unwrap_err()
    );
    assert!(err.contains("circular"), "{err}");
}

#[test]
fn a_component_name_taken_by_another_definition_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |file: &str, text: &str| {
        let path = d.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "openapi.yaml",
        "openapi: 3.0.4\ninfo: {title: t, version: '1'}\npaths:\n  /v1/x:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                type: object\n                properties:\n                  a: {$ref: 'a/Same.yaml'}\n                  b: {$ref: 'b/Same.yaml'}\n",
    );
    write("a/Same.yaml", "type: string\n");
    // The same definition under another path: one component.
    write("b/Same.yaml", "type: string\n");
    let root = bundle::root_of(s(d)).unwrap();
    let doc = bundle::bundle(&root).unwrap();
    assert_eq!(
        doc["components"]["schemas"],
        json!({"Same": {"type": "string"}})
    );
    write("b/Same.yaml", "type: integer\n");
    let err = format!("{:#}", bundle::bundle(&root).unwrap_err());
    assert!(err.contains("Same"), "{err}");
}

/// `spec` with the edits adopt makes for [`planted`]'s additions and deprecations.
fn adopted_from_planted(mut spec: Value) -> Value {
    let confirmed = json!(
        "the vendor's OpenAPI release 2026-12 (https://openapi.shipstream.io/global/release-2026-12/) states it; adopted by `cargo xtask adopt`"
    );
    let deprecated = |node: &mut Value| {
        node["deprecated"] = json!(true);
        node["x-deprecation-note"] = json!("deprecated in the vendor's OpenAPI release 2026-12");
    };
    spec["paths"][OUR_PATH]["get"]["responses"]["503"] =
        json!({"$ref": "#/components/responses/UnexpectedError"});
    deprecated(&mut spec["components"]["parameters"]["Count"]);
    let schemas = &mut spec["components"]["schemas"];
    deprecated(&mut schemas["TotalLevel"]["properties"]["qty_expected"]);
    schemas["TotalLevel"]["properties"]["qty_damaged"] =
        json!({"type": "integer", "format": "int64", "x-confirmed": confirmed});
    schemas["ObjectType"]["anyOf"][0]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("Location"));
    spec
}

#[test]
fn adopt_takes_additions_and_deprecations_in_and_leaves_every_other_change() {
    let dir = layout(&planted());
    let text = fs::read_to_string(root().join("openapi.yaml")).unwrap();
    let drift = vendor::compare(&ours(), s(dir.path())).unwrap();
    let a = adopt::adopt(&text, &drift, "2026-12").unwrap();
    // What a maintainer (or the workflow's pull request) reads.
    println!("{}", adopt::render(&a, "DIR"));
    let adopted: Vec<String> = a.adopted.iter().map(ToString::to_string).collect();
    assert_eq!(
        adopted,
        [
            format!("{OP} parameter query `count`: deprecated: deprecated by the API"),
            "TotalLevel.qty_expected: deprecated: deprecated by the API".into(),
            format!("{OP} response 503: new response status"),
            "ObjectType: new value \"Location\" of enum ObjectType may now be sent (older clients decode it as Unknown)".into(),
            "TotalLevel.qty_damaged: new property".into(),
        ]
    );
    // Every breaking change and warning is left, each with its decision; so is the
    // relaxation adopt cannot place.
    let left: Vec<(Severity, &str)> = a
        .decisions
        .iter()
        .map(|(c, d)| (c.severity, d.split(':').next().unwrap()))
        .collect();
    let (breaking, warnings) = (
        drift.report.of(Severity::Breaking).count(),
        drift.report.of(Severity::Warning).count(),
    );
    assert_eq!((breaking, warnings, left.len()), (9, 2, 12));
    assert!(
        left[..9]
            .iter()
            .all(|l| *l == (Severity::Breaking, "breaking for our users"))
    );
    assert!(left[9..11].iter().all(|(s, _)| *s == Severity::Warning));
    assert_eq!(
        left[11],
        (
            Severity::Addition,
            "adopt cannot place this change in openapi.yaml"
        )
    );
    assert_eq!(a.bump(), specdiff::Bump::Minor);
    assert_eq!(
        a.for_a_person,
        [
            "`TotalLevel.qty_damaged`: if the API filters or sorts by it, add it to `x-filterable-fields` of `filter` or to the keys of the `sort` pattern"
        ]
    );
    // The edit: exactly the adopted changes, and only lines added (comments, order and
    // quoting of every other line kept).
    assert_eq!(spec::parse(&a.text).unwrap(), adopted_from_planted(ours()));
    let diff = similar::TextDiff::from_lines(&text, &a.text);
    let changed: Vec<_> = diff
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .collect();
    assert!(
        changed
            .iter()
            .all(|c| c.tag() == similar::ChangeTag::Insert),
        "{}",
        diff.unified_diff()
    );
    assert_eq!(changed.len(), 11, "{}", diff.unified_diff());
}

#[test]
fn adopt_from_a_url_fetches_what_the_root_reaches_and_exits_by_what_is_left() {
    let served = tempfile::tempdir().unwrap();
    let release = served.path().join("release-2026-12");
    layout::write(&planted(), &release).unwrap();
    let faithful = served.path().join("release-2025-08");
    layout::write(&ours(), &faithful).unwrap();
    let base = layout::serve(served.path()).unwrap();
    let copy = tempfile::tempdir().unwrap();
    let spec_copy = copy.path().join("openapi.yaml");
    let text = fs::read_to_string(root().join("openapi.yaml")).unwrap();
    fs::write(&spec_copy, &text).unwrap();
    let adopt_from = |release: &str| {
        let url = format!("{base}{release}/openapi.yaml");
        xtask(&[
            "adopt",
            "--vendor",
            &url,
            "--spec",
            spec_copy.to_str().unwrap(),
        ])
    };
    // A faithful rewrite of ours: nothing to adopt, nothing edited, exit 0.
    let out = adopt_from("release-2025-08");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read_to_string(&spec_copy).unwrap(), text);
    // The planted release: the additions and deprecations adopted, exit 1 for the rest.
    let out = adopt_from("release-2026-12");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("### Adopted (5)") && stdout.contains("### Left for a decision (12)"),
        "{stdout}"
    );
    assert_eq!(
        spec::load(&spec_copy).unwrap(),
        adopted_from_planted(ours())
    );
    // Adopted once: a second run adopts nothing more and edits nothing.
    let once = fs::read_to_string(&spec_copy).unwrap();
    let out = adopt_from("release-2026-12");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("### Adopted (0)"));
    assert_eq!(fs::read_to_string(&spec_copy).unwrap(), once);
    // A file the release refers to is missing: exit 2, naming it and its referrer.
    fs::remove_file(release.join("components/schemas/PageMeta.yaml")).unwrap();
    let out = adopt_from("release-2026-12");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("release-2026-12/components/schemas/PageMeta.yaml: 404")
            && stderr.contains("release-2026-12/components/schemas/TotalLevelsPage.yaml:")
            && stderr.contains("$ref: ./PageMeta.yaml"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&spec_copy).unwrap(), once);
}
