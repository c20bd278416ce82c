//! `cargo xtask drift --vendor` on descriptions laid out as the vendor publishes its own:
//! each test rewrites our openapi.yaml into several files (every schema in a file of its
//! own, parameters, responses and headers in shared files, the path item in a file,
//! `ObjectType` under `components` of a `common.yaml`), with cross-file `$ref`s, the
//! server `https://{instance}.shipstream.app/api/global`, the path
//! `/v1/inventory/levels/total` and one more endpoint that must be ignored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    fs,
    path::Path,
    process::{Command, Output},
};

use serde_json::{Value, json};
use xtask::{
    bundle,
    drift::vendor,
    root, spec,
    specdiff::{Report, Severity},
};

const OUR_PATH: &str = "/api/global/v1/inventory/levels/total";
const OP: &str = "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels)";
const PATH_FILE: &str = "paths/inventory-levels-total.yaml";

fn ours() -> Value {
    spec::load(&root().join("openapi.yaml")).unwrap()
}

/// The file (relative to the layout's root) and the JSON pointer in it where a component of
/// ours lives in the vendor layout.
fn home(kind: &str, name: &str) -> (String, String) {
    match (kind, name) {
        ("schemas", "ObjectType") => (
            "common.yaml".into(),
            "/components/schemas/ObjectType".into(),
        ),
        ("schemas", n) => (format!("components/schemas/{n}.yaml"), String::new()),
        ("parameters", n) => ("components/parameters.yaml".into(), format!("/{n}")),
        ("responses", n) => ("components/responses.yaml".into(), format!("/{n}")),
        // JSON, to read both formats.
        ("headers", n) => ("components/headers.json".into(), format!("/{n}")),
        ("examples", n) => (format!("components/examples/{n}.yaml"), String::new()),
        (k, n) => panic!("no home for {k}/{n}"),
    }
}

/// The path of `to` relative to the folder of `from` (both relative to the layout's root).
fn relative(from: &str, to: &str) -> String {
    let mut from_dir: Vec<&str> = from.split('/').collect();
    from_dir.pop();
    let to: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to[..to.len() - 1])
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = "../".repeat(from_dir.len() - common);
    if out.is_empty() {
        out.push_str("./");
    }
    out + &to[common..].join("/")
}

/// `value`, which lives in `file`, with each `#/components/<kind>/<name>` pointing at the
/// file of the layout that holds it.
fn externalize(value: &Value, file: &str) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v.as_str()) {
                        ("$ref", Some(r)) if r.starts_with("#/components/") => {
                            let mut parts = r.trim_start_matches("#/components/").split('/');
                            let (kind, name) = (parts.next().unwrap(), parts.next().unwrap());
                            let (target, pointer) = home(kind, name);
                            Value::String(match (target == file, pointer.is_empty()) {
                                (true, _) => format!("#{pointer}"),
                                (false, true) => relative(file, &target),
                                (false, false) => format!("{}#{pointer}", relative(file, &target)),
                            })
                        }
                        _ => externalize(v, file),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| externalize(v, file)).collect()),
        other => other.clone(),
    }
}

/// Sets `pointer` (of object keys) in `doc`, making the objects on the way.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let mut at = doc;
    for segment in pointer.split('/').skip(1) {
        at = at
            .as_object_mut()
            .unwrap()
            .entry(segment)
            .or_insert_with(|| json!({}));
    }
    *at = value;
}

/// Writes `spec` (our description, possibly with planted changes) into `dir` as the vendor
/// lays its description out.
fn write_layout(spec: &Value, dir: &Path) {
    let mut files: BTreeMap<String, Value> = BTreeMap::new();
    for (kind, entries) in spec["components"].as_object().unwrap() {
        if kind == "securitySchemes" {
            continue;
        }
        for (name, value) in entries.as_object().unwrap() {
            let (file, pointer) = home(kind, name);
            let value = externalize(value, &file);
            let doc = files.entry(file).or_insert_with(|| json!({}));
            set(doc, &pointer, value);
        }
    }
    files.insert(
        PATH_FILE.into(),
        externalize(&spec["paths"][OUR_PATH], PATH_FILE),
    );
    // The vendor's other endpoint, with a schema of its own that reaches ours.
    files.insert(
        "components/schemas/WarehouseLevel.yaml".into(),
        json!({"allOf": [
            {"$ref": "./TotalLevel.yaml"},
            {"type": "object", "properties": {"warehouse_id": {"type": "integer"}}},
        ]}),
    );
    let mut root = spec.clone();
    let object = root.as_object_mut().unwrap();
    object.insert("openapi".into(), json!("3.0.4"));
    object.insert(
        "servers".into(),
        json!([{
            "url": "https://{instance}.shipstream.app/api/global",
            "variables": {"instance": {"default": "example"}},
        }]),
    );
    object.insert(
        "paths".into(),
        json!({
            "/v1/inventory/levels/total": {"$ref": PATH_FILE},
            "/v1/inventory/levels/warehouse": {"get": {
                "operationId": "list_warehouse_inventory_levels",
                "responses": {
                    "200": {"description": "A page.", "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"collection": {
                            "type": "array",
                            "items": {"$ref": "components/schemas/WarehouseLevel.yaml"},
                        }},
                    }}}},
                    "400": {"$ref": "components/responses.yaml#/BadRequest"},
                },
            }},
        }),
    );
    object.insert(
        "components".into(),
        json!({"securitySchemes": spec["components"]["securitySchemes"]}),
    );
    files.insert("openapi.yaml".into(), root);
    for (file, value) in files {
        let path = dir.join(&file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = if file.ends_with(".json") {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_yaml::to_string(&value).unwrap()
        };
        fs::write(path, text).unwrap();
    }
}

fn layout(spec: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_layout(spec, dir.path());
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

/// Every `$ref` in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                out.push(r.clone());
            }
            o.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
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
    let doc = bundle::bundle(&bundle::root_of(dir.path()).unwrap()).unwrap();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(
        !all.is_empty() && all.iter().all(|r| r.starts_with("#/components/")),
        "{all:?}"
    );
    // The folder and its root file alike.
    for given in [dir.path().to_owned(), dir.path().join("openapi.yaml")] {
        let drift = vendor::compare(&ours, &given).unwrap();
        assert_eq!(lines(&drift.report), [], "{}", drift.report);
        assert_eq!(drift.operation, OP);
        assert_eq!(
            drift.ignored,
            ["GET /api/global/v1/inventory/levels/warehouse (list_warehouse_inventory_levels)"]
        );
        assert_eq!(drift.vendor_version.as_deref(), Some("2025-08"));
    }
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
    let drift = vendor::compare(&ours(), dir.path()).unwrap();
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
    let err = format!("{:#}", vendor::compare(&ours(), dir.path()).unwrap_err());
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
    let doc = bundle::bundle(&bundle::root_of(d).unwrap()).unwrap();
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
        bundle::bundle(&bundle::root_of(d).unwrap()).unwrap_err()
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
    let root = bundle::root_of(d).unwrap();
    let doc = bundle::bundle(&root).unwrap();
    assert_eq!(
        doc["components"]["schemas"],
        json!({"Same": {"type": "string"}})
    );
    write("b/Same.yaml", "type: integer\n");
    let err = format!("{:#}", bundle::bundle(&root).unwrap_err());
    assert!(err.contains("Same"), "{err}");
}
