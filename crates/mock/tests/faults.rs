//! Every fault kind over real HTTP, and their determinism under a seed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use shipstream_inventory_contract_tests::spec;
use shipstream_inventory_mock::{Dataset, Fault, Faults, MockConfig, MockServer, OFF_ORIGIN};

async fn with_faults(faults: &str, seed: u64) -> MockServer {
    start(
        MockConfig::default()
            .dataset(Dataset::generate(60, 1))
            .faults(faults.parse::<Faults>().unwrap())
            .seed(seed),
    )
    .await
}

#[tokio::test]
async fn latency() {
    within(async {
        let server = with_faults("latency=150ms", 1).await;
        let t = Instant::now();
        assert_eq!(get(&server, PATH).await.status, 200);
        assert!(t.elapsed() >= Duration::from_millis(150));
        let server = with_faults("latency=50ms..80ms:nth=2", 1).await;
        // Which request was held is read from the counters, not from how long each took
        // (a slow machine can take 50 ms for any request).
        get(&server, PATH).await;
        assert_eq!(server.fault_counts().latency, 0, "the first is not held");
        let t = Instant::now();
        get(&server, PATH).await;
        assert!(t.elapsed() >= Duration::from_millis(50));
        assert_eq!(server.fault_counts().latency, 1, "the second is");
    })
    .await;
}

#[tokio::test]
async fn status_faults() {
    within(async {
        let server = with_faults(
            "status=429:nth=1;status=409:nth=3;status=503:nth=4:retry-after=7",
            1,
        )
        .await;
        let r = get(&server, PATH).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(get(&server, PATH).await.status, 200);
        let r = get(&server, PATH).await;
        assert_eq!(r.status, 409);
        assert_eq!(r.header("retry-after"), None);
        let r = get(&server, PATH).await;
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(get(&server, PATH).await.status, 200);
        let c = server.fault_counts();
        assert_eq!(c.requests, 5);
        assert_eq!(c.statuses(), 3);
        assert_eq!((c.status[&429], c.status[&409], c.status[&503]), (1, 1, 1));

        // Configurable Retry-After for 429.
        let server = with_faults("status=429:retry-after=4", 1).await;
        let r = get(&server, PATH).await;
        assert_eq!((r.status, r.header("retry-after")), (429, Some("4")));

        // Several codes, always firing: each is one of the list; bodies validate (default).
        let server = with_faults("status=500|502|503:rate=1", 3).await;
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..30 {
            let r = get(&server, PATH).await;
            assert!([500, 502, 503].contains(&r.status));
            seen.insert(r.status);
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(server.fault_counts().statuses(), 30);
    })
    .await;
}

#[tokio::test]
async fn rates_are_deterministic_under_a_seed() {
    within(async {
        async fn statuses(seed: u64) -> Vec<u16> {
            let server = with_faults("status=429:rate=0.3;status=500:rate=0.1", seed).await;
            let mut out = Vec::new();
            for _ in 0..40 {
                out.push(get(&server, PATH).await.status);
            }
            let c = server.fault_counts();
            assert_eq!(
                c.statuses() as usize,
                out.iter().filter(|s| **s != 200).count()
            );
            out
        }
        let a = statuses(77).await;
        assert_eq!(a, statuses(77).await);
        assert_ne!(a, statuses(78).await);
        assert!(a.contains(&429) && a.contains(&200));
    })
    .await;
}

#[tokio::test]
async fn every_n() {
    within(async {
        let server = with_faults("status=502:every=3", 1).await;
        let mut got = Vec::new();
        for _ in 0..7 {
            got.push(get(&server, PATH).await.status);
        }
        assert_eq!(got, [200, 200, 502, 200, 200, 502, 200]);
    })
    .await;
}

#[tokio::test]
async fn dropped_connection_is_an_error() {
    within(async {
        let server = with_faults("drop:nth=1", 1).await;
        let resp = client()
            .get(server.levels_url())
            .bearer_auth(server.token())
            .send()
            .await
            .expect("the headers arrive");
        assert_eq!(resp.status(), 200);
        let len: usize = resp.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(len > 100);
        let body = resp.bytes().await;
        assert!(body.is_err(), "reading the body fails: {body:?}");
        // The next request is fine.
        assert_eq!(get(&server, PATH).await.status, 200);
        assert_eq!(server.fault_counts().drop, 1);
        assert_eq!(server.requests()[0].status, 200);
    })
    .await;
}

#[tokio::test]
async fn truncated_body() {
    within(async {
        let server = with_faults("truncate:nth=2", 1).await;
        let whole = get(&server, PATH).await;
        let r = send(
            &server,
            Method::GET,
            PATH,
            Some(server.token()),
            &[],
            Check::NotJson,
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-length")
                .unwrap()
                .parse::<usize>()
                .unwrap(),
            r.text.len(),
            "headers match the short body"
        );
        assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
        assert!(r.text.len() < whole.text.len());
        assert_eq!(server.fault_counts().truncate, 1);
    })
    .await;
}

#[tokio::test]
async fn repeat_next() {
    within(async {
        let server = with_faults("repeat-next:nth=2", 1).await;
        let first = get_with(&server, &[("limit", "10")]).await;
        let second_uri = first.body["next"].as_str().unwrap().to_owned();
        let second = get(&server, &second_uri).await;
        assert_eq!(second.body["next"].as_str(), Some(second_uri.as_str()));
        assert_eq!(second.body["has_more"], true);
        let third = get(&server, &second_uri).await;
        assert_ne!(third.body["next"].as_str(), Some(second_uri.as_str()));
        assert_eq!(server.fault_counts().repeat_next, 1);
    })
    .await;
}

#[tokio::test]
async fn offorigin_next() {
    within(async {
        let server = with_faults("offorigin-next:nth=1", 1).await;
        let r = get_with(&server, &[("limit", "10"), ("sort", "product_id")]).await;
        let next = r.body["next"].as_str().unwrap();
        let rest = next
            .strip_prefix(OFF_ORIGIN)
            .unwrap_or_else(|| panic!("{next}"));
        assert!(rest.starts_with(PATH));
        let normal = get_with(&server, &[("limit", "10"), ("sort", "product_id")]).await;
        assert_eq!(normal.body["next"].as_str(), Some(rest));
        assert_eq!(server.fault_counts().offorigin_next, 1);
        // Only pages with a next are affected (and counted).
        let server = with_faults("offorigin-next", 1).await;
        let r = get_with(&server, &[("limit", "1000")]).await;
        assert!(r.body["next"].is_null());
        assert_eq!(server.fault_counts().offorigin_next, 0);
    })
    .await;
}

#[tokio::test]
async fn unknown_enums_are_values_the_open_enums_accept() {
    within(async {
        let server = with_faults("unknown-enum:rate=1", 1).await;
        let uri = url(&[
            ("fields:product", "all"),
            ("limit", "30"),
            ("sort", "product_id"),
        ]);
        let mut variants = std::collections::BTreeSet::new();
        for _ in 0..4 {
            // Check::Strict: the spec keeps these enums open, so the pages still validate.
            let r = send(
                &server,
                Method::GET,
                &uri,
                Some(server.token()),
                &[],
                Check::Strict,
            )
            .await;
            assert_eq!(r.status, 200);
            let products = r.body["included"]["Product"].as_array().unwrap();
            if r.levels()[0]["product"]["type"] == "Bundle" {
                variants.insert("stub type");
            }
            if products
                .iter()
                .any(|p| p["goods_type"] == "LITHIUM_BATTERY")
            {
                variants.insert("goods_type");
            }
            if products
                .iter()
                .any(|p| p["inventory"]["virtual_inventory"] == "pessimistic")
            {
                variants.insert("virtual_inventory");
            }
            if products.iter().any(|p| p["weight"]["unit"] == "mg") {
                variants.insert("weight");
            }
            assert!(r.levels().iter().all(|l| l["type"] == "TotalLevel"));
        }
        assert_eq!(variants.len(), 4, "{variants:?}");
        assert_eq!(server.fault_counts().unknown_enum, 4);

        // Without product fields only the stub's type can change.
        let server = with_faults("unknown-enum:nth=1", 1).await;
        let r = get(&server, PATH).await;
        assert!(r.levels().iter().all(|l| l["product"]["type"] == "Bundle"));
        let r = get(&server, PATH).await;
        assert!(r.levels().iter().all(|l| l["product"]["type"] == "Product"));
    })
    .await;
}

#[tokio::test]
async fn a_forbidden_enum_value_breaks_the_spec() {
    within(async {
        let server = with_faults("forbidden-enum:nth=1", 1).await;
        let r = send(
            &server,
            Method::GET,
            PATH,
            Some(server.token()),
            &[],
            Check::Unchecked,
        )
        .await;
        assert_eq!(r.status, 200);
        let levels = r.levels();
        assert_eq!(levels[0]["type"], "TotalLevelV2");
        assert!(levels[1..].iter().all(|l| l["type"] == "TotalLevel"));
        let err = spec::validate_response(200, &r.body).unwrap_err();
        assert!(err.contains("/collection/0/type"), "{err}");
        assert_eq!(server.fault_counts().forbidden_enum, 1);
        let r = get(&server, PATH).await;
        assert!(r.levels().iter().all(|l| l["type"] == "TotalLevel"));
    })
    .await;
}

#[tokio::test]
async fn extra_fields_still_validate() {
    within(async {
        let server = with_faults("extra-field:nth=1", 1).await;
        let r = get_with(&server, &[("fields:product", "sku")]).await;
        assert!(
            r.levels()
                .iter()
                .all(|l| l.get("mock_extra_field").is_some())
        );
        assert!(
            r.body["included"]["Product"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p.get("mock_extra_field").is_some())
        );
        let r = get(&server, PATH).await;
        assert!(
            r.levels()
                .iter()
                .all(|l| l.get("mock_extra_field").is_none())
        );
        assert_eq!(server.fault_counts().extra_field, 1);
    })
    .await;
}

#[tokio::test]
async fn bad_record_spoils_exactly_the_middle_level() {
    within(async {
        let server = with_faults("bad-record:nth=1", 1).await;
        let uri = url(&[("limit", "7"), ("sort", "product_id")]);
        let r = send(
            &server,
            Method::GET,
            &uri,
            Some(server.token()),
            &[],
            Check::NotJson,
        )
        .await;
        assert_eq!(r.status, 200);
        let body: serde_json::Value = serde_json::from_str(&r.text).unwrap();
        assert!(
            spec::validate_response(200, &body).is_err(),
            "the spoilt record breaks the schema"
        );
        let levels = body["collection"].as_array().unwrap();
        assert_eq!(levels.len(), 7);
        for (i, l) in levels.iter().enumerate() {
            if i == 3 {
                assert_eq!(l["qty_on_hand"], "many");
            } else {
                assert!(l["qty_on_hand"].is_u64(), "{l}");
            }
        }
        // Take the spoilt record out and the page is valid again.
        let mut fixed = body.clone();
        fixed["collection"][3]["qty_on_hand"] = 0.into();
        spec::validate_response(200, &fixed).unwrap();
        // Only that request was affected, and only it is counted.
        let normal = get(&server, &uri).await;
        assert!(normal.levels().iter().all(|l| l["qty_on_hand"].is_u64()));
        assert_eq!(server.fault_counts().bad_record, 1);
        // An empty page has nothing to spoil (and counts nothing).
        let server = start(
            MockConfig::default()
                .dataset(Dataset::empty())
                .faults("bad-record".parse::<Faults>().unwrap()),
        )
        .await;
        assert!(get(&server, PATH).await.levels().is_empty());
        assert_eq!(server.fault_counts().bad_record, 0);
    })
    .await;
}

/// The most responses (pages and failures alike) [`soak_walk`] reads: ample for the soak
/// walk's twenty-odd pages and their retries, and a bound on any loop, however its
/// responses fail or repeat.
const MAX_RESPONSES: usize = 1000;

/// A client that retries statuses and broken bodies and follows `next` to the end: the
/// product ids it got and how many responses failed; an error after [`MAX_RESPONSES`]
/// responses without reaching the end (a server that always fails, or a `next` cycle).
async fn soak_walk(server: &MockServer) -> Result<(Vec<u64>, usize), String> {
    let http = client();
    let mut uri = url(&[("limit", "20"), ("sort", "product_id")]);
    let mut got = Vec::new();
    let mut failures = 0;
    for _ in 0..MAX_RESPONSES {
        let resp = http
            .get(resolve(server, &uri))
            .bearer_auth(server.token())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let Ok(bytes) = resp.bytes().await else {
            failures += 1;
            continue;
        };
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            failures += 1;
            continue;
        };
        spec::validate_response(status, &body).unwrap();
        if status != 200 {
            failures += 1;
            continue;
        }
        got.extend(
            body["collection"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["product"]["id"].as_u64().unwrap()),
        );
        match body["next"].as_str() {
            Some(n) => uri = n.to_owned(),
            None => return Ok((got, failures)),
        }
    }
    Err(format!(
        "{MAX_RESPONSES} responses ({failures} failed, {} levels) and the walk has not ended",
        got.len()
    ))
}

#[tokio::test]
async fn walk_survives_and_counts_add_up() {
    within(async {
        // A soak-style run: a client that retries statuses and broken bodies still gets every
        // record exactly once, and the counters tell what happened.
        let faults = Faults::none()
            .with(Fault::status(429).rate(0.15))
            .with(Fault::statuses([500, 503]).rate(0.1))
            .with(Fault::drop_connection().rate(0.05))
            .with(Fault::truncate().rate(0.05))
            .with(Fault::extra_field().rate(0.2));
        let server = start(
            MockConfig::default()
                .dataset(Dataset::generate(400, 2))
                .faults(faults)
                .seed(9),
        )
        .await;
        let (got, failures) = soak_walk(&server).await.unwrap();
        assert_eq!(got, expected(server.dataset(), "product_id", enabled));
        let c = server.fault_counts();
        assert!(failures > 0);
        assert_eq!(c.statuses() + c.drop + c.truncate, failures as u64);
        assert_eq!(c.requests as usize, server.requests().len());
        assert!(c.total() >= failures as u64);
    })
    .await;
}

#[tokio::test]
async fn the_soak_walk_fails_rather_than_loops_on_a_next_cycle() {
    within(async {
        // Every page's `next` names the page itself: a cycle of successful responses.
        let server = start(
            MockConfig::default()
                .dataset(Dataset::generate(400, 2))
                .faults(Faults::none().with(Fault::repeat_next().rate(1.0)))
                .seed(9),
        )
        .await;
        let err = soak_walk(&server).await.unwrap_err();
        assert!(err.contains("0 failed"), "{err}");
        assert_eq!(server.requests().len(), MAX_RESPONSES);
    })
    .await;
}
