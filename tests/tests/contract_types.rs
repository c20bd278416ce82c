//! Generated types ⇄ spec: the JSON Schema that schemars derives for the generated
//! `TotalLevelsPage` and `ErrorBody` accepts the spec's examples, the recorded responses
//! under `fixtures/recorded/` and real mock pages (also with the mock's unknown-enum and
//! extra-field faults, which the generated open enums must tolerate), and every document it
//! accepts deserialises into the type. Documents with a wrong type are rejected by both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::within;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use shipstream_inventory_contract_tests::spec::{LEVELS_PATH, Spec, spec};
use shipstream_inventory_generated::types::{ErrorBody, TotalLevelsPage};
use shipstream_inventory_mock::{Dataset, Faults, MockConfig, MockServer};

fn derived_schema<T: schemars::JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap()
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

/// Whether a document deserialises into the generated type.
type Decode = fn(&Value) -> Result<(), String>;

fn page_decodes(doc: &Value) -> Result<(), String> {
    serde_json::from_value::<TotalLevelsPage>(doc.clone())
        .map(drop)
        .map_err(|e| e.to_string())
}

fn error_decodes(doc: &Value) -> Result<(), String> {
    serde_json::from_value::<ErrorBody>(doc.clone())
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Accepted by the derived schema, and deserialisable: `Ok`; else every reason.
fn accepts(v: &jsonschema::Validator, decode: Decode, doc: &Value) -> Result<(), String> {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    decode(doc).map_err(|e| format!("the schema accepts it but serde does not: {e}"))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The recorded responses of this operation: `(status, body)` (a file without a
/// three-digit status prefix is a 200 page).
fn recorded() -> Vec<(String, u16, Value)> {
    let mut out = Vec::new();
    let dirs = [
        workspace().join("fixtures/recorded"),
        workspace().join("crates/generated/tests/fixtures"),
    ];
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let status = name
                .get(..3)
                .filter(|p| {
                    p.bytes().all(|b| b.is_ascii_digit()) && name.as_bytes().get(3) == Some(&b'-')
                })
                .map_or(200, |p| p.parse().unwrap());
            let body = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            out.push((name, status, body));
        }
    }
    out
}

/// Real mock pages: every optional level field, every product field (one by one and as
/// `basic` / `all`), counts, and the faults that send values or members the spec lacks.
async fn mock_pages() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let product_fields: Vec<String> = spec().item_values("fields:product").unwrap();
    let mut queries = vec![
        "limit=20".to_owned(),
        "limit=50&fields=all&fields:product=all&count=1".to_owned(),
        "limit=50&fields=warehouse&fields:product=basic&sort=sku".to_owned(),
        "filter=is_enabled%3Afalse&fields:product=all".to_owned(),
        "limit=1000&fields:product=all&sort=product_id".to_owned(),
    ];
    queries.extend(
        product_fields
            .iter()
            .map(|f| format!("limit=25&fields:product={f}")),
    );
    for faults in [
        "",
        "unknown-enum",
        "extra-field",
        "unknown-enum;extra-field",
    ] {
        let server = MockServer::start(
            MockConfig::default()
                .dataset(Dataset::generate(300, 11))
                .faults(faults.parse::<Faults>().unwrap())
                .record_requests(false),
        )
        .await
        .unwrap();
        let http = reqwest::Client::new();
        for q in &queries {
            let r = http
                .get(format!("{}{LEVELS_PATH}?{q}", server.base_url()))
                .bearer_auth(server.token())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{q}");
            out.push((format!("[{faults}] {q}"), r.json().await.unwrap()));
        }
        server.shutdown().await;
    }
    out
}

#[tokio::test]
async fn derived_schemas_accept_examples_recordings_and_mock_pages() {
    within(async {
        let page = validator(&derived_schema::<TotalLevelsPage>());
        let error = validator(&derived_schema::<ErrorBody>());
        let spec = spec();

        let mut checked = 0;
        for status in spec.response_statuses().unwrap() {
            for example in spec.response_examples(&status).unwrap_or_default() {
                let result = if status == "200" {
                    accepts(&page, page_decodes, &example)
                } else {
                    accepts(&error, error_decodes, &example)
                };
                result.unwrap_or_else(|e| panic!("example of {status}: {e}"));
                checked += 1;
            }
        }
        assert!(checked >= 3, "only {checked} examples");

        let recordings = recorded();
        assert!(!recordings.is_empty());
        for (name, status, body) in &recordings {
            let result = if (200..300).contains(status) {
                accepts(&page, page_decodes, body)
            } else {
                accepts(&error, error_decodes, body)
            };
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
        }

        let pages = mock_pages().await;
        assert!(pages.len() > 100);
        for (what, body) in &pages {
            accepts(&page, page_decodes, body).unwrap_or_else(|e| panic!("{what}: {e}"));
        }

        // Error bodies of every kind the mock sends.
        let server = MockServer::start(MockConfig::default()).await.unwrap();
        let http = reqwest::Client::new();
        for (path, auth) in [
            (
                format!("{LEVELS_PATH}?limit=0&sort=name&filter=nope%3A1"),
                true,
            ),
            (LEVELS_PATH.to_owned(), false),
            ("/nope".to_owned(), true),
        ] {
            let mut req = http.get(format!("{}{path}", server.base_url()));
            if auth {
                req = req.bearer_auth(server.token());
            }
            let body: Value = req.send().await.unwrap().json().await.unwrap();
            accepts(&error, error_decodes, &body).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        server.shutdown().await;
    })
    .await;
}

/// The check can fail: documents with a planted wrong type are rejected by the derived
/// schemas (and by serde).
#[test]
fn planted_wrong_types_go_red() {
    let page = validator(&derived_schema::<TotalLevelsPage>());
    let error = validator(&derived_schema::<ErrorBody>());
    let reference = Spec::load().unwrap().response_examples("200").unwrap()[0].clone();
    accepts(&page, page_decodes, &reference).unwrap();

    let plant = |pointer: &str, value: Value| {
        let mut doc = reference.clone();
        *doc.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value;
        doc
    };
    let mut without_has_more = reference.clone();
    without_has_more.as_object_mut().unwrap().remove("has_more");
    let mut without_type = reference.clone();
    without_type["collection"][0]
        .as_object_mut()
        .unwrap()
        .remove("type");
    let bad_pages = [
        (
            "collection not an array",
            plant("/collection", json!({"a": 1})),
        ),
        ("has_more a string", plant("/has_more", json!("yes"))),
        (
            "quantity a string",
            plant("/collection/0/qty_on_hand", json!("230")),
        ),
        (
            "product id a string",
            plant("/collection/0/product/id", json!("5")),
        ),
        (
            "timestamp not a date-time",
            plant("/collection/0/updated_at", json!("yesterday")),
        ),
        (
            "included products not a list",
            plant("/included/Product", json!({"id": 1})),
        ),
        ("meta.count a float", plant("/meta/count", json!(1.5))),
        ("has_more missing", without_has_more),
        ("level type missing", without_type),
    ];
    // Each side on its own: the schema derived from the Rust types refuses it, and serde
    // refuses it (one rejecting would hide the other accepting).
    for (what, doc) in bad_pages {
        assert!(
            !page.is_valid(&doc),
            "{what}: the derived schema accepts it"
        );
        assert!(page_decodes(&doc).is_err(), "{what}: serde decodes it");
    }
    let bad_errors = [
        json!({"error": "x"}),
        json!({"errors": "x"}),
        json!({"errors": [{"type": "application"}]}),
        json!({"errors": [{"type": "application", "message": 5}]}),
    ];
    for doc in bad_errors {
        assert!(
            !error.is_valid(&doc),
            "{doc}: the derived schema accepts it"
        );
        assert!(error_decodes(&doc).is_err(), "{doc}: serde decodes it");
    }
}
