//! Mock responses ⇄ spec: for a grid of queries (as the facade encodes them, pages followed
//! through `next` and `previous`) and for every error status the mock can produce, the body
//! validates against the schema `openapi.yaml` documents for that status, the content type
//! is JSON, and the headers the spec declares for the status are present and valid.
//!
//! Also: the mock rejects every query the spec's parameter schemas reject, and when it
//! blames the API description (`"type": "openapi"`) the spec agrees. The last tests plant
//! violations (a mock fault, spec copies) and show each check going red.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::within;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use serde_json::{Value, json};
use shipstream_filter::Condition;
use shipstream_inventory::{
    Client, LevelField, ProductField, ProductType, Sort, SortField, fields,
};
use shipstream_inventory_contract_tests::spec::{LEVELS_PATH, Spec, spec};
use shipstream_inventory_contract_tests::with_causes;
use shipstream_inventory_generated::api::limits;
use shipstream_inventory_mock::{Dataset, Fault, Faults, MockConfig, MockServer, NextStyle};

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
    body: Option<Value>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    fn body(&self) -> &Value {
        self.body
            .as_ref()
            .unwrap_or_else(|| panic!("{}: not JSON: {}", self.status, self.text))
    }

    fn error_types(&self) -> BTreeSet<String> {
        self.body()["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["type"].as_str().map(str::to_owned))
            .collect()
    }

    fn detail_keys(&self) -> BTreeSet<String> {
        self.body()["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|e| e["details"].as_array().into_iter().flatten())
            .filter_map(|d| d["key"].as_str().map(str::to_owned))
            .collect()
    }
}

async fn send(
    server: &MockServer,
    method: reqwest::Method,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let http = reqwest::Client::new();
    let mut req = http.request(method, format!("{}{path_and_query}", server.base_url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).ok();
    Resp {
        status,
        headers,
        text,
        body,
    }
}

async fn get(server: &MockServer, path_and_query: &str) -> Resp {
    let auth = format!("Bearer {}", server.token());
    send(
        server,
        reqwest::Method::GET,
        path_and_query,
        &[("Authorization", &auth)],
    )
    .await
}

/// The contract of one response against a spec: body schema of its status, JSON content
/// type, declared headers present and valid.
fn contract_problems(spec: &Spec, r: &Resp) -> Vec<String> {
    let mut problems = Vec::new();
    let ct = r.header("content-type").unwrap_or_default();
    if !ct.starts_with("application/json") {
        problems.push(format!("content-type {ct:?}"));
    }
    let Some(body) = &r.body else {
        problems.push(format!("body is not JSON: {:.200}", r.text));
        return problems;
    };
    let validator = spec.response_validator(&r.status.to_string()).unwrap();
    problems.extend(
        validator
            .iter_errors(body)
            .map(|e| format!("{}: {e}", e.instance_path)),
    );
    if let Err(p) = spec.validate_response_headers(r.status, |n| r.header(n)) {
        problems.extend(p);
    }
    problems
}

#[track_caller]
fn assert_contract(r: &Resp, what: &str) {
    let problems = contract_problems(spec(), r);
    assert!(
        problems.is_empty(),
        "{what}: response {} breaks openapi.yaml:\n  {}\n{:.400}",
        r.status,
        problems.join("\n  "),
        r.text
    );
}

fn path_and_query(uri: &str) -> String {
    let url = url::Url::parse(uri).unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// `next` / `previous` as a path and query on the mock (they may be absolute or relative).
fn link(server: &MockServer, link: &str) -> String {
    let base = url::Url::parse(server.base_url()).unwrap();
    path_and_query(base.join(link).unwrap().as_str())
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(server.token())
        .build()
        .unwrap()
}

/// One request of the grid, as the facade would send it.
fn grid_request(client: &Client, i: usize) -> shipstream_inventory::TotalLevelsRequest {
    let t = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let filters: Vec<Vec<shipstream_filter::Filter>> = vec![
        vec![],
        vec![fields::QTY_AVAILABLE.lt(10)],
        vec![fields::IS_ENABLED.eq(false)],
        vec![fields::PRODUCT_TYPE.is_in([ProductType::Packaging, ProductType::Containers])],
        vec![fields::UPDATED_AT.gt(t), fields::QTY_ON_HAND.gt(0)],
        vec![fields::SKU.starts_with("SPC")],
        vec![fields::BARCODE.is_null(true)],
        vec![fields::PRODUCT_ID.any([vec![Condition::lt(15)], vec![Condition::gt(50)]])],
        vec![
            fields::MERCHANT_ID.is_in([1, 2]),
            fields::IS_VISIBLE.eq(true),
        ],
    ];
    let sorts: Vec<Option<Sort>> = vec![
        None,
        Some(Sort::asc(SortField::ProductId)),
        Some(Sort::desc(SortField::ProductId)),
        Some(Sort::asc(SortField::Sku)),
        Some(Sort::desc(SortField::Sku)),
        Some(Sort::asc(SortField::UpdatedAt)),
        Some(Sort::desc(SortField::UpdatedAt).then_asc(SortField::Sku)),
    ];
    let level_fields: Vec<Vec<LevelField>> = vec![
        vec![],
        vec![LevelField::Warehouse],
        vec![LevelField::All],
        vec![
            LevelField::QtyOnHand,
            LevelField::UpdatedAt,
            LevelField::Product,
        ],
    ];
    let product_fields: Vec<Vec<ProductField>> = vec![
        vec![],
        vec![ProductField::Basic],
        vec![ProductField::All],
        vec![
            ProductField::Sku,
            ProductField::Name,
            ProductField::Weight,
            ProductField::Inventory,
            ProductField::CustomFields,
            ProductField::RegulatedGoods,
            ProductField::Export,
        ],
        vec![
            ProductField::Basic,
            ProductField::Packaging,
            ProductField::Dimensions,
        ],
    ];
    let limits: Vec<Option<u32>> = vec![None, Some(1), Some(7), Some(1000)];
    let pick = |len: usize, prime: usize, offset: usize| (i * prime + offset) % len;
    let mut req = client.total_levels();
    for f in &filters[pick(filters.len(), 1, 0)] {
        req = req.filter(f.clone());
    }
    if let Some(s) = &sorts[pick(sorts.len(), 3, 1)] {
        req = req.sort(s.clone());
    }
    let lf = &level_fields[pick(level_fields.len(), 5, 2)];
    if !lf.is_empty() {
        req = req.fields(lf.iter().copied());
    }
    let pf = &product_fields[pick(product_fields.len(), 7, 3)];
    if !pf.is_empty() {
        req = req.product_fields(pf.iter().cloned());
    }
    if let Some(n) = limits[pick(limits.len(), 11, 0)] {
        req = req.page_size(n);
    }
    if pick(2, 13, 1) == 1 {
        req = req.count(true);
    }
    req
}

/// Every page of the grid (first pages, up to three pages through `next`, and one
/// `previous`) validates, and the facade decodes it.
#[tokio::test]
async fn grid_pages_match_the_spec() {
    within(async {
        for style in [NextStyle::Relative, NextStyle::Absolute] {
            let server = MockServer::start(
                MockConfig::default()
                    .dataset(Dataset::generate(300, 7))
                    .next_style(style)
                    .record_requests(false),
            )
            .await
            .unwrap();
            let client = client(&server);
            let mut pages = 0;
            for i in 0..63 {
                let req = grid_request(&client, i);
                let uri = req.uri().unwrap();
                let mut target = path_and_query(&uri);
                for n in 0..3 {
                    let r = get(&server, &target).await;
                    assert_eq!(r.status, 200, "{target}: {}", r.text);
                    assert_contract(&r, &target);
                    shipstream_inventory::Page::from_json(r.text.as_bytes()).unwrap_or_else(|e| {
                        panic!("{target}: the facade cannot decode: {}", with_causes(&e))
                    });
                    pages += 1;
                    let body = r.body();
                    if n == 1
                        && let Some(prev) = body["previous"].as_str()
                    {
                        let p = get(&server, &link(&server, prev)).await;
                        assert_eq!(p.status, 200, "{prev}");
                        assert_contract(&p, prev);
                        pages += 1;
                    }
                    match body["next"].as_str() {
                        Some(next) if body["has_more"] == json!(true) => {
                            target = link(&server, next)
                        }
                        _ => break,
                    }
                }
            }
            assert!(pages > 120, "only {pages} pages");
            server.shutdown().await;
        }
    })
    .await;
}

/// Each query the spec's parameter schemas reject is a 400 from the mock, with an error
/// body naming the parameter; and queries the mock blames on the API description only
/// (`"type": "openapi"`) are ones the spec rejects too.
#[tokio::test]
async fn every_bad_parameter_is_a_400_that_matches_the_spec() {
    within(async {
        let server = MockServer::start(MockConfig::default().dataset(Dataset::generate(60, 3)))
            .await
            .unwrap();
        let cases: &[(&str, &str)] = &[
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=ten", "limit"),
            ("limit=-5", "limit"),
            ("count=2", "count"),
            ("count=yes", "count"),
            ("sort=name", "sort"),
            ("sort=sku,sku", "sort"),
            ("sort=", "sort"),
            ("sort=-updated_at,", "sort"),
            ("fields=colour", "fields"),
            ("fields=all,all", "fields"),
            ("fields=qty_on_hand,", "fields"),
            ("fields%3Aproduct=sku,,name", "fields:product"),
            ("fields:product=sku,sku", "fields:product"),
            ("filter=", "filter"),
            ("filter=nope%3A1", "filter"),
            ("filter=qty_available%7Blt%3A", "filter"),
            ("filter=qty_available%7Bstart%3A%221%22%7D", "filter"),
            ("filter=sku%3AA&filter=colour%3Ared", "filter"),
            ("cursor_start=x", "cursor_start"),
            ("cursor_end=1.5", "cursor_end"),
            ("sort=sku&cursor_start=999999", "cursor_start"),
        ];
        for (query, key) in cases {
            let r = get(&server, &format!("{LEVELS_PATH}?{query}")).await;
            assert_eq!(r.status, 400, "{query}: {}", r.text);
            assert_contract(&r, query);
            assert!(
                r.detail_keys().contains(*key),
                "{query}: {:?}",
                r.detail_keys()
            );
            let spec_says = spec().validate_query(query);
            if r.error_types() == BTreeSet::from(["openapi".to_owned()]) {
                assert!(
                    spec_says.is_err(),
                    "{query}: the mock blames the API description, which accepts it"
                );
            }
        }
        // The same through the version header.
        let auth = format!("Bearer {}", server.token());
        let version = spec()
            .parameter_validator("X-ShipStream-API-Version")
            .unwrap();
        for (value, spec_valid) in [("2025-13", false), ("v1", false), ("2999-01", true)] {
            let r = send(
                &server,
                reqwest::Method::GET,
                LEVELS_PATH,
                &[
                    ("Authorization", &auth),
                    ("X-ShipStream-API-Version", value),
                ],
            )
            .await;
            assert_eq!(r.status, 400, "{value}");
            assert_contract(&r, value);
            assert!(r.detail_keys().contains("X-ShipStream-API-Version"));
            assert_eq!(version.is_valid(&json!(value)), spec_valid, "{value}");
            if r.error_types() == BTreeSet::from(["openapi".to_owned()]) {
                assert!(!spec_valid, "{value}");
            }
        }
        server.shutdown().await;
    })
    .await;
}

/// Every status the spec documents (and the mock's other statuses under `default`) comes
/// with a body and headers that match.
#[tokio::test]
async fn every_error_status_matches_the_spec() {
    within(async {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut note = |r: &Resp| {
            seen.insert(spec().response_key(&r.status.to_string()).unwrap());
        };

        let server = MockServer::start(MockConfig::default().dataset(Dataset::generate(40, 1)))
            .await
            .unwrap();
        let ok = get(&server, LEVELS_PATH).await;
        assert_eq!(ok.status, 200);
        assert_contract(&ok, "first page");
        note(&ok);
        let bad = get(&server, &format!("{LEVELS_PATH}?limit=0")).await;
        assert_eq!(bad.status, 400);
        note(&bad);

        // 401: no token, a wrong token, another scheme.
        for auth in [None, Some("Bearer nope"), Some("Basic bW9jay10b2tlbg==")] {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| ("Authorization", a)).into_iter().collect();
            let r = send(&server, reqwest::Method::GET, LEVELS_PATH, &headers).await;
            assert_eq!(r.status, 401, "{auth:?}");
            assert_contract(&r, "401");
            assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
            note(&r);
        }
        // 404: other paths.
        for path in [
            "/",
            "/api/global/v1/inventory/levels",
            "/api/global/v1/nope?limit=1",
        ] {
            let r = get(&server, path).await;
            assert_eq!(r.status, 404, "{path}");
            assert_contract(&r, path);
            note(&r);
        }
        // 405 (documented by `default`): other methods on the path, with `Allow: GET`.
        for method in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let auth = format!("Bearer {}", server.token());
            let r = send(&server, m, LEVELS_PATH, &[("Authorization", &auth)]).await;
            assert_eq!(r.status, 405, "{method}");
            assert_contract(&r, method);
            assert_eq!(r.header("allow").as_deref(), Some("GET"), "{method}");
            note(&r);
        }
        server.shutdown().await;

        // 403, 409, 429 and 5xx through faults.
        for (fault, status) in [
            ("status=403", 403),
            ("status=409", 409),
            ("status=429:retry-after=3", 429),
            ("status=429", 429),
            ("status=500", 500),
            ("status=502", 502),
            ("status=503", 503),
        ] {
            let faults: Faults = fault.parse().unwrap();
            let server = MockServer::start(MockConfig::default().faults(faults))
                .await
                .unwrap();
            let r = get(&server, &format!("{LEVELS_PATH}?limit=5")).await;
            assert_eq!(r.status, status, "{fault}");
            assert_contract(&r, fault);
            if status == 429 {
                let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
                assert!(secs <= 3, "{fault}");
            }
            note(&r);
            server.shutdown().await;
        }

        let documented: BTreeSet<String> =
            spec().response_statuses().unwrap().into_iter().collect();
        assert_eq!(
            seen, documented,
            "every documented response is produced and checked at least once"
        );
    })
    .await;
}

/// A mock of one request every ten minutes (bucket of 3), 1 at once, with its rate-limit
/// headers or without, and its three answers, each brought about by the mock's counters
/// rather than by timing: a first request answered (200); a second held for an hour (its
/// answer never awaited), counted running by the mock before a third is sent, which is
/// over the concurrency (409); a fourth finds the bucket empty (429), since no stall of
/// this test lasts the ten minutes a token takes to come back.
async fn limits_answers(headers: bool) -> (MockServer, Resp, Resp, Resp) {
    let server = MockServer::start(
        MockConfig::default()
            .dataset(Dataset::generate(40, 1))
            .rate_limit(1.0 / 600.0, 3)
            .max_concurrent(1)
            .limit_headers(headers)
            .fault(Fault::latency(Duration::from_secs(3600)).nth(2)),
    )
    .await
    .unwrap();
    let path = format!("{LEVELS_PATH}?limit=5");
    let ok = get(&server, &path).await;
    let (conflict, limited) = {
        let held = get(&server, &path);
        tokio::pin!(held);
        let running = async {
            while server.limit_counts().admitted < 2 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        tokio::select! {
            r = &mut held => panic!("the held request was answered: {}", r.status),
            () = running => {}
        }
        (get(&server, &path).await, get(&server, &path).await)
    };
    assert_eq!(
        (ok.status, conflict.status, limited.status),
        (200, 409, 429)
    );
    for r in [&ok, &conflict, &limited] {
        assert_contract(r, &format!("limits {}", r.status));
    }
    (server, ok, conflict, limited)
}

/// A 429's `Retry-After` from a bucket of one token in ten minutes that this test emptied:
/// 600 s less the time since its first request (less than the test's timeout).
fn assert_retry_after_is_the_tokens_time(limited: &Resp) {
    let secs: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    let least = 600 - shipstream_inventory_contract_tests::timeout::TEST_TIMEOUT.as_secs();
    assert!((least..=600).contains(&secs), "Retry-After: {secs}");
}

/// The rate-limit headers the spec declares.
const LIMIT_HEADERS: [&str; 4] = [
    limits::LIMIT_HEADER,
    limits::REMAINING_HEADER,
    limits::CONCURRENCY_LIMIT_HEADER,
    limits::CONCURRENCY_CURRENT_HEADER,
];

/// The answers of the mock's limits (not faults): 200 with the rate-limit headers, 429
/// over the rate and 409 over the concurrency, each with the headers the spec declares
/// for it, valid, and the counts the library reads.
#[tokio::test]
async fn the_limits_answers_match_the_spec() {
    within(async {
        let (server, ok, conflict, limited) = limits_answers(true).await;
        for r in [&ok, &conflict, &limited] {
            for h in LIMIT_HEADERS {
                assert!(r.header(h).is_some(), "{} lacks {h}", r.status);
            }
        }
        assert_eq!(
            ok.header(limits::CONCURRENCY_CURRENT_HEADER).as_deref(),
            Some("1")
        );
        assert_retry_after_is_the_tokens_time(&limited);
        // The vendor documents Retry-After on 429 only.
        assert_eq!(conflict.header("retry-after"), None);
        // RateLimit-Limit counts requests a minute, rounded up: one in ten minutes is 1.
        assert_eq!(
            u64::from(limits::LIMIT_WINDOW_SECONDS),
            60,
            "the spec's window is a minute"
        );
        assert_eq!(ok.header(limits::LIMIT_HEADER).as_deref(), Some("1"));
        let counts = server.limit_counts();
        assert_eq!(
            (
                counts.admitted,
                counts.rate_limited,
                counts.over_concurrency
            ),
            (2, 1, 1),
            "{counts}"
        );
        // Not shut down gracefully: that would wait for the held request.
        drop(server);
    })
    .await;
}

/// A mock that keeps its limits to itself (`limit_headers(false)`, as the Global API may:
/// it documents none) refuses the same way, with no rate-limit header but 429's
/// `Retry-After`.
#[tokio::test]
async fn limits_without_headers_refuse_the_same_and_tell_nothing() {
    within(async {
        let (server, ok, conflict, limited) = limits_answers(false).await;
        for r in [&ok, &conflict, &limited] {
            for h in LIMIT_HEADERS {
                assert_eq!(r.header(h), None, "{} has {h}", r.status);
            }
        }
        assert_retry_after_is_the_tokens_time(&limited);
        drop(server);
    })
    .await;
}

/// The facade reads the mock's error bodies as the spec's `ErrorBody`.
#[tokio::test]
async fn the_facade_reads_error_bodies() {
    within(async {
        let server = MockServer::start(MockConfig::default()).await.unwrap();
        let client = client(&server);
        let page = client
            .total_levels()
            .filter_raw("sku:ABC")
            .sort(Sort::asc(SortField::Sku))
            .send()
            .await
            .unwrap();
        assert!(page.levels().count() <= 1);
        let unauthorized = Client::builder()
            .base_url(server.base_url())
            .token("wrong")
            .build()
            .unwrap();
        let e = unauthorized.total_levels().send().await.unwrap_err();
        assert!(e.is_unauthorized(), "{e}");
        let body = e.api_error().expect("the error body decodes");
        assert!(!body.errors.is_empty());
        server.shutdown().await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// The checks can fail.
// ---------------------------------------------------------------------------------------

/// The `unknown-enum` fault sends values the spec's *open* enums do not list yet: the
/// contract holds and the facade decodes them. The `forbidden-enum` fault sends a level
/// `type` the spec forbids: the check goes red. A truncated body fails as not JSON.
#[tokio::test]
async fn planted_mock_faults_go_red() {
    within(async {
        let faults: Faults = "unknown-enum".parse().unwrap();
        let server = MockServer::start(MockConfig::default().faults(faults))
            .await
            .unwrap();
        for q in [
            "limit=5",
            "limit=5&fields:product=goods_type",
            "limit=5&fields:product=inventory",
            "limit=5&fields:product=weight",
        ] {
            let r = get(&server, &format!("{LEVELS_PATH}?{q}")).await;
            assert_eq!(r.status, 200);
            assert!(contract_problems(spec(), &r).is_empty(), "{q}");
            shipstream_inventory::Page::from_json(r.text.as_bytes()).unwrap();
        }
        assert_eq!(server.fault_counts().unknown_enum, 4);
        server.shutdown().await;

        let faults: Faults = "forbidden-enum".parse().unwrap();
        let server = MockServer::start(MockConfig::default().faults(faults))
            .await
            .unwrap();
        let r = get(&server, &format!("{LEVELS_PATH}?limit=5")).await;
        let problems = contract_problems(spec(), &r);
        assert!(
            problems.iter().any(|p| p.contains("/collection/0/type")),
            "the forbidden level type went unnoticed: {problems:?}"
        );
        server.shutdown().await;

        let faults: Faults = "truncate".parse().unwrap();
        let server = MockServer::start(MockConfig::default().faults(faults))
            .await
            .unwrap();
        let r = get(&server, LEVELS_PATH).await;
        assert!(!contract_problems(spec(), &r).is_empty());
        server.shutdown().await;
    })
    .await;
}

/// Copies of the spec with a planted difference reject the mock's real responses.
#[tokio::test]
async fn planted_spec_differences_go_red() {
    within(async {
        let server = MockServer::start(MockConfig::default().dataset(Dataset::generate(30, 2)))
            .await
            .unwrap();
        let page = get(
            &server,
            &format!("{LEVELS_PATH}?limit=5&fields=all&fields:product=all&count=1"),
        )
        .await;
        let error = get(&server, &format!("{LEVELS_PATH}?limit=0")).await;
        assert!(contract_problems(spec(), &page).is_empty());
        assert!(contract_problems(spec(), &error).is_empty());

        let text = std::fs::read_to_string(Spec::default_path()).unwrap();
        let planted: [(&str, &str, &Resp); 5] = [
            // A quantity typed as a string.
            (
                "        qty_on_hand:\n          type: integer\n",
                "        qty_on_hand:\n          type: string\n",
                &page,
            ),
            // A field the mock sends made required-but-renamed.
            (
                "      required:\n        - collection\n        - has_more\n",
                "      required:\n        - collection\n        - has_next\n",
                &page,
            ),
            // `meta.count` not allowed to be an integer.
            (
                "        count:\n          type: integer\n          format: int64\n          description: Levels",
                "        count:\n          type: string\n          description: Levels",
                &page,
            ),
            // The version header in another format.
            (
                "      pattern: \"^[0-9]{4}-(0[1-9]|1[0-2])$\"\n      example: \"2025-08\"\n    RetryAfter:",
                "      pattern: \"^v[0-9]+$\"\n      example: \"2025-08\"\n    RetryAfter:",
                &page,
            ),
            // Error types as a closed list without `openapi`.
            (
                "      anyOf:\n        - type: string\n          enum:\n            - application\n            - openapi\n        - type: string\n",
                "      type: string\n      enum:\n        - application\n",
                &error,
            ),
        ];
        for (from, to, resp) in planted {
            assert_eq!(text.matches(from).count(), 1, "{from:?}");
            let copy = Spec::from_yaml_str(&text.replacen(from, to, 1)).unwrap();
            let problems = contract_problems(&copy, resp);
            assert!(!problems.is_empty(), "planted {to:?} went unnoticed");
        }
        server.shutdown().await;
    })
    .await;
}
