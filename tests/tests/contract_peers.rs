//! Support for the independent peers that `cargo xtask contract` runs (Prism, schemathesis).
//!
//! * The schemathesis hooks (`fixtures/peers/schemathesis_hooks.py`) encode rules that
//!   `openapi.yaml` states in prose only; the tests here check those rules against the mock,
//!   so that the hooks can never hide a real disagreement: the filters they substitute are
//!   valid, a cursor naming no product is refused only when the sort does not start with
//!   `product_id`, a version in the future is refused on meaning (`application`), and an
//!   empty list parameter is the empty list.
//! * `prism_dynamic_pages_decode` (ignored here) is run by `cargo xtask contract` with
//!   `SHIPSTREAM_CONTRACT_PRISM_URL` pointing at `prism mock -d openapi.yaml`: the facade
//!   must decode the random (but schema-valid, extra properties included) pages Prism makes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::within;

use std::path::PathBuf;

use serde_json::Value;
use shipstream_filter::Filter;
use shipstream_inventory::{Client, LevelField, ProductField, RetryPolicy, Sort, SortField};
use shipstream_inventory_contract_tests::spec::{LEVELS_PATH, spec, validate_response};
use shipstream_inventory_contract_tests::with_causes;
use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};

/// The environment variable with the base URL of the Prism mock server.
const PRISM_URL: &str = "SHIPSTREAM_CONTRACT_PRISM_URL";

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/peers")
}

fn valid_filters() -> Vec<String> {
    std::fs::read_to_string(peers_dir().join("valid_filters.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

async fn get(server: &MockServer, query: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .get(format!("{}{LEVELS_PATH}?{query}", server.base_url()))
        .bearer_auth(server.token());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn error_types(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["type"].as_str())
        .collect()
}

#[tokio::test]
async fn the_substituted_filters_are_valid() {
    within(async {
        let filters = valid_filters();
        assert!(filters.len() >= 10);
        let server = MockServer::start(MockConfig::default().record_requests(false))
            .await
            .unwrap();
        let parameter = spec().parameter_validator("filter").unwrap();
        for f in &filters {
            Filter::parse_validated(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(parameter.is_valid(&serde_json::json!([f])), "{f}");
            let (status, body) = get(&server, &format!("filter={}&limit=3", encode(f)), &[]).await;
            assert_eq!(status, 200, "{f}: {body}");
            validate_response(200, &body).unwrap();
        }
        let all: Vec<String> = filters
            .iter()
            .map(|f| format!("filter={}", encode(f)))
            .collect();
        let (status, _) = get(&server, &all.join("&"), &[]).await;
        assert_eq!(status, 200);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_rules_the_hooks_encode_hold() {
    within(async {
        let server = MockServer::start(
            MockConfig::default()
                .dataset(Dataset::generate(50, 5))
                .record_requests(false),
        )
        .await
        .unwrap();
        // Any integer cursor is a position when sorting by product_id...
        for sort in [
            "product_id",
            "-product_id",
            "product_id,sku",
            "-product_id,-updated_at",
        ] {
            for cursor in [
                "-9223372036854775808",
                "0",
                "123456789",
                "9223372036854775807",
            ] {
                for param in ["cursor_start", "cursor_end"] {
                    let (status, body) =
                        get(&server, &format!("sort={sort}&{param}={cursor}"), &[]).await;
                    assert_eq!(status, 200, "{sort} {param}={cursor}: {body}");
                }
            }
        }
        // ...otherwise a cursor must name a product, and that is a matter of meaning.
        for sort in ["sku", "-updated_at", "updated_at,product_id"] {
            let (status, body) =
                get(&server, &format!("sort={sort}&cursor_start=999999"), &[]).await;
            assert_eq!(status, 400, "{sort}");
            assert_eq!(error_types(&body), ["application"], "{body}");
        }
        // A version the mock does not serve (in the future, or retired: it serves the spec's
        // alone) is refused on meaning; the spec's version is served.
        for v in ["2999-01", "2019-01"] {
            let (status, body) = get(&server, "", &[("X-ShipStream-API-Version", v)]).await;
            assert_eq!(status, 400, "{v}");
            assert_eq!(error_types(&body), ["application"], "{body}");
        }
        let served = shipstream_inventory_generated::api::API_VERSION;
        let (status, _) = get(&server, "", &[("X-ShipStream-API-Version", served)]).await;
        assert_eq!(status, 200, "{served}");
        // The empty value of an `explode: false` list is the empty list.
        for q in ["fields=", "fields%3Aproduct=", "fields=&fields:product="] {
            let (status, body) = get(&server, q, &[]).await;
            assert_eq!(status, 200, "{q}: {body}");
            validate_response(200, &body).unwrap();
            assert!(spec().validate_query(q).is_ok(), "{q}");
        }
        server.shutdown().await;
    })
    .await;
}

#[test]
fn the_hooks_file_is_where_xtask_looks() {
    let hooks = std::fs::read_to_string(peers_dir().join("schemathesis_hooks.py")).unwrap();
    assert!(hooks.contains("valid_filters.txt"));
    assert!(hooks.contains("def map_case") && hooks.contains("def filter_case"));
}

/// Pages of `prism mock -d openapi.yaml` decode: run by `cargo xtask contract`.
#[tokio::test]
#[ignore = "needs a Prism mock server; run by `cargo xtask contract`"]
async fn prism_dynamic_pages_decode() {
    within(async {
        let base = std::env::var(PRISM_URL)
            .unwrap_or_else(|_| panic!("set {PRISM_URL} to the base URL of `prism mock -d`"));
        let client = Client::builder()
            .base_url(&base)
            .token("prism-token")
            .retry_policy(RetryPolicy::default().max_attempts(1))
            .build()
            .unwrap();
        let http = reqwest::Client::new();
        let mut levels = 0usize;
        let mut products = 0usize;
        let mut pages = 0usize;
        for i in 0..12u32 {
            let mut req = client
                .total_levels()
                .page_size(1 + i * 50)
                .sort(Sort::asc(SortField::ProductId));
            if i % 2 == 0 {
                req = req
                    .fields([LevelField::All])
                    .product_fields([ProductField::All]);
            }
            if i % 3 == 0 {
                req = req.count(true);
            }
            // Through the facade's first-page fetch...
            let uri = req.uri().unwrap();
            let page = req.send().await.unwrap_or_else(|e| {
                panic!(
                    "page {i}: the facade cannot read Prism's page: {}",
                    with_causes(&e)
                )
            });
            let bad: Vec<String> = page.record_errors().map(|e| e.to_string()).collect();
            assert!(
                bad.is_empty(),
                "page {i}: records that do not decode: {bad:?}"
            );
            levels += page.len();
            products += page.included().products().count();
            // ...and by URL, checking the body against the spec (extra members allowed).
            let body = http
                .get(&uri)
                .bearer_auth("prism-token")
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let page = shipstream_inventory::Page::from_json(&body)
                .unwrap_or_else(|e| panic!("page {i} by URL: {}", with_causes(&e)));
            assert_eq!(page.record_errors().count(), 0);
            let json: Value = serde_json::from_slice(&body).unwrap();
            validate_response(200, &json).unwrap_or_else(|e| panic!("Prism's own page: {e}"));
            pages += 1;
        }
        println!(
            "decoded {levels} levels and {products} included products from Prism in {pages} pages"
        );
        assert!(levels > 0, "Prism sent no levels at all");
    })
    .await;
}

/// "This object or null" is written as a nullable component, never as `nullable: true`
/// beside `allOf`: strict OpenAPI 3.0.3 readers such as Prism apply `nullable` to the
/// schema's own `type` only, so the `allOf` would still refuse the `null`s the spec means to
/// allow, and every peer reads the spec as it is.
#[test]
fn the_spec_has_no_nullable_beside_all_of() {
    fn offenders(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                let nullable = m.get("nullable") == Some(&Value::Bool(true));
                if nullable && (m.contains_key("allOf") || m.contains_key("$ref")) {
                    out.push(path.to_owned());
                }
                for (k, child) in m {
                    offenders(child, &format!("{path}/{k}"), out);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    offenders(child, &format!("{path}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    offenders(spec().document(), "", &mut found);
    assert!(found.is_empty(), "nullable beside allOf/$ref at {found:?}");
    // And the check can fail.
    let mut planted = Vec::new();
    let doc = serde_json::json!({"p": {"nullable": true, "allOf": [{"$ref": "#/x"}]}});
    offenders(&doc, "", &mut planted);
    assert_eq!(planted, ["/p"]);
}
