//! Helpers shared by the integration tests: an HTTP client that checks every body against
//! `openapi.yaml`, page walking, and expectations computed from the dataset itself.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use reqwest::Method;
use serde_json::Value;
use shipstream_inventory_contract_tests::spec;
use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};
use std::cmp::Ordering;
use std::collections::BTreeMap;

pub const PATH: &str = shipstream_inventory_generated::api::PATH;

/// How to check a body against the API description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Strict schema for the status.
    Strict,
    /// JSON, not checked against the schema (a planted violation).
    Unchecked,
    /// Body is not JSON (truncated).
    NotJson,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `details` of every error, as (key, message).
    pub fn details(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for e in self.body["errors"].as_array().into_iter().flatten() {
            for d in e["details"].as_array().into_iter().flatten() {
                out.push((
                    d["key"].as_str().unwrap_or_default().to_owned(),
                    d["message"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        out
    }

    pub fn detail(&self, key: &str) -> String {
        self.details()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, m)| m)
            .unwrap_or_else(|| panic!("no detail {key:?} in {}", self.text))
    }

    pub fn levels(&self) -> &Vec<Value> {
        self.body["collection"].as_array().expect("collection")
    }

    pub fn ids(&self) -> Vec<u64> {
        self.levels()
            .iter()
            .map(|l| l["product"]["id"].as_u64().unwrap())
            .collect()
    }
}

pub use shipstream_inventory_contract_tests::within;

pub async fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).await.expect("server starts")
}

pub async fn start_with(products: usize, seed: u64) -> MockServer {
    start(MockConfig::default().dataset(Dataset::generate(products, seed))).await
}

/// One client per test thread (each `#[tokio::test]` runs on its own thread).
pub fn client() -> reqwest::Client {
    thread_local! {
        static CLIENT: reqwest::Client = reqwest::Client::new();
    }
    CLIENT.with(Clone::clone)
}

/// `uri` is a path (resolved against the server) or an absolute URL.
pub fn resolve(server: &MockServer, uri: &str) -> String {
    if uri.starts_with("http://") || uri.starts_with("https://") {
        uri.to_owned()
    } else {
        format!("{}{uri}", server.base_url())
    }
}

/// The levels path with these query parameters, URL-encoded.
pub fn url(params: &[(&str, &str)]) -> String {
    let u = reqwest::Url::parse_with_params(&format!("http://x{PATH}"), params).unwrap();
    match u.query() {
        Some(q) => format!("{PATH}?{q}"),
        None => PATH.to_owned(),
    }
}

/// Sends a request and checks the body against the schema for its status.
pub async fn send(
    server: &MockServer,
    method: Method,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    check: Check,
) -> Resp {
    let mut req = client().request(method, resolve(server, uri));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request is answered");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body is received");
    let body = match check {
        Check::NotJson => Value::Null,
        _ => serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("body of {status} is not JSON ({e}): {text}")),
    };
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{status}"
    );
    match check {
        Check::Strict => {
            if let Err(e) = spec::validate_response(status, &body) {
                panic!("{e}\nbody: {text}");
            }
        }
        Check::Unchecked | Check::NotJson => {}
    }
    if status >= 400 {
        assert!(
            !body["errors"].as_array().is_none_or(Vec::is_empty),
            "an error body names at least one error: {text}"
        );
    }
    Resp {
        status,
        headers,
        text,
        body,
    }
}

/// An authorised GET with a strict schema check.
pub async fn get(server: &MockServer, uri: &str) -> Resp {
    send(
        server,
        Method::GET,
        uri,
        Some(server.token()),
        &[],
        Check::Strict,
    )
    .await
}

/// [`get`] with query parameters.
pub async fn get_with(server: &MockServer, params: &[(&str, &str)]) -> Resp {
    get(server, &url(params)).await
}

/// Follows `next` from `first` to the end; returns the levels and the pages.
pub async fn walk(server: &MockServer, first: &str) -> (Vec<Value>, Vec<Resp>) {
    let mut levels = Vec::new();
    let mut pages = Vec::new();
    let mut uri = first.to_owned();
    for _ in 0..10_000 {
        let page = get(server, &uri).await;
        assert_eq!(page.status, 200, "{}", page.text);
        levels.extend(page.levels().iter().cloned());
        let next = page.body["next"].as_str().map(str::to_owned);
        assert_eq!(
            page.body["has_more"].as_bool(),
            Some(next.is_some()),
            "{}",
            page.text
        );
        pages.push(page);
        match next {
            Some(n) => uri = n,
            None => return (levels, pages),
        }
    }
    panic!("walk did not end");
}

pub fn ids(levels: &[Value]) -> Vec<u64> {
    levels
        .iter()
        .map(|l| l["product"]["id"].as_u64().unwrap())
        .collect()
}

/// Every record of the dataset in the file format (level with full product).
pub fn records(ds: &Dataset) -> Vec<Value> {
    ds.to_ndjson_string()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every record of the dataset (see [`records`]) by product id.
pub fn by_id(ds: &Dataset) -> BTreeMap<u64, Value> {
    records(ds)
        .into_iter()
        .map(|r| (r["product"]["id"].as_u64().unwrap(), r))
        .collect()
}

/// The expected order for a sort spec, with the id tie-break.
pub fn sort_records(records: &mut [Value], sort: &str) {
    let keys: Vec<(&str, bool)> = sort
        .split(',')
        .map(|k| match k.strip_prefix('-') {
            Some(name) => (name, true),
            None => (k, false),
        })
        .collect();
    records.sort_by(|a, b| {
        for (key, desc) in &keys {
            let o = match *key {
                "product_id" => a["product"]["id"]
                    .as_u64()
                    .cmp(&b["product"]["id"].as_u64()),
                "sku" => a["product"]["sku"]
                    .as_str()
                    .unwrap()
                    .as_bytes()
                    .cmp(b["product"]["sku"].as_str().unwrap().as_bytes()),
                "updated_at" => a["updated_at"].as_str().cmp(&b["updated_at"].as_str()),
                other => panic!("sort key {other}"),
            };
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a["product"]["id"]
            .as_u64()
            .cmp(&b["product"]["id"].as_u64())
    });
}

/// Ids of the records passing `keep`, in `sort` order.
pub fn expected(ds: &Dataset, sort: &str, keep: impl Fn(&Value) -> bool) -> Vec<u64> {
    expected_from(&records(ds), sort, keep)
}

/// [`expected`] over records already read.
pub fn expected_from(records: &[Value], sort: &str, keep: impl Fn(&Value) -> bool) -> Vec<u64> {
    let mut recs: Vec<Value> = records.iter().filter(|r| keep(r)).cloned().collect();
    sort_records(&mut recs, sort);
    recs.iter()
        .map(|r| r["product"]["id"].as_u64().unwrap())
        .collect()
}

pub fn enabled(r: &Value) -> bool {
    r["product"]["is_enabled"].as_bool() == Some(true)
}

/// A page body without `meta.processing_time` (the only nondeterministic member).
pub fn stable(body: &Value) -> Value {
    let mut b = body.clone();
    if let Some(meta) = b.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("processing_time");
    }
    b
}

/// Compares two NDJSON texts line by line, printing only the first difference.
pub fn assert_same_lines(a: &str, b: &str) {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            let at = x.bytes().zip(y.bytes()).take_while(|(p, q)| p == q).count();
            let from = at.saturating_sub(80);
            panic!(
                "line {} differs at byte {at}:\n  left:  ...{}\n  right: ...{}",
                i + 1,
                x.get(from..(at + 80).min(x.len())).unwrap_or(x),
                y.get(from..(at + 80).min(y.len())).unwrap_or(y)
            );
        }
    }
    assert_eq!(a.lines().count(), b.lines().count(), "line counts differ");
}
