//! The live mode over real HTTP: changes are served as they happen, stamped with the
//! mock's clock, paging stays keyset-correct while the data changes, and snapshots are
//! consistent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use shipstream_inventory_mock::{Dataset, MockConfig};

const BOTH: &str = "is_enabled[{eq:true},{eq:false}]";

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[tokio::test]
async fn changes_are_served_stamped_with_the_mocks_clock() {
    let skew = -7200;
    let server = start(
        MockConfig::default()
            .dataset(Dataset::generate(300, 3))
            .mutate(400.0, Duration::from_millis(500))
            .clock_skew_secs(skew),
    )
    .await;
    let before = server.state().now();
    let system_now = chrono::Utc::now().timestamp();
    assert!(
        (before - (system_now + skew)).abs() <= 1,
        "the clock is skewed"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let counts = server.live_counts();
    assert_eq!(counts.total(), 200, "{counts}");
    assert!(counts.quantities > 0 && counts.created > 0, "{counts}");

    // The Date header is the mock's clock, not the system's.
    let page = get_with(&server, &[("limit", "1")]).await;
    let date = chrono::DateTime::parse_from_rfc2822(page.header("date").unwrap()).unwrap();
    assert!((date.timestamp() - server.state().now()).abs() <= 1);

    // Every level changed since `before` is found by an updated_at filter and carries a
    // timestamp of the mock's clock; the response validates against the spec.
    let snapshot = server.snapshot();
    snapshot.check_invariants().unwrap();
    let cut = rfc3339(before - 5);
    let since = format!("updated_at{{gt:\"{cut}\"}}");
    let (levels, _) = walk(
        &server,
        &url(&[
            ("filter", since.as_str()),
            ("filter", BOTH),
            ("sort", "product_id"),
        ]),
    )
    .await;
    let changed: BTreeSet<u64> = records(&snapshot)
        .iter()
        .filter(|r| r["updated_at"].as_str() > Some(cut.as_str()))
        .map(|r| r["product"]["id"].as_u64().unwrap())
        .collect();
    assert!(!changed.is_empty());
    assert_eq!(ids(&levels).into_iter().collect::<BTreeSet<_>>(), changed);
    for l in &levels {
        let t = chrono::DateTime::parse_from_rfc3339(l["updated_at"].as_str().unwrap()).unwrap();
        assert!((t.timestamp() - before).abs() <= 2, "{l}");
    }
    // New products are new levels, after the last generated id.
    let start_max = server.dataset().stats().max_id;
    assert!(snapshot.stats().max_id > start_max);
    assert_eq!(
        snapshot.len() as u64,
        server.dataset().len() as u64 + counts.created
    );
    server.shutdown().await;
}

#[tokio::test]
async fn paging_over_changing_data_is_keyset_correct() {
    let server = start(
        MockConfig::default()
            .dataset(Dataset::generate(2000, 8))
            .mutate(2000.0, Duration::from_secs(3)),
    )
    .await;
    let first = server.snapshot();
    let (levels, pages) = walk(
        &server,
        &url(&[("filter", BOTH), ("sort", "product_id"), ("limit", "25")]),
    )
    .await;
    let last = server.snapshot();
    assert!(pages.len() >= 80);
    assert!(
        server.live_counts().total() > 100,
        "the data changed meanwhile"
    );
    let got = ids(&levels);
    assert!(got.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
    // Every product that existed from start to end is listed exactly once; new ones
    // may or may not be (depending on when they appeared relative to the cursor).
    let got: BTreeSet<u64> = got.into_iter().collect();
    for id in first.product_ids() {
        assert!(got.contains(&id), "product {id} was lost while paging");
    }
    let all: BTreeSet<u64> = last.product_ids().into_iter().collect();
    assert!(got.is_subset(&all));
    server.shutdown().await;
}

#[tokio::test]
async fn the_same_seed_makes_the_same_changes() {
    let run = || async {
        let server = start(
            MockConfig::default()
                .dataset(Dataset::generate(200, 4))
                .seed(77)
                .mutate(1000.0, Duration::from_millis(100)),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let snap = server.snapshot();
        server.shutdown().await;
        // Timestamps differ between runs (the clock moves); ids, SKUs and quantities
        // do not.
        records(&snap)
            .into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("updated_at");
                let p = r["product"].as_object_mut().unwrap();
                p.remove("updated_at");
                p.remove("created_at");
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run().await, run().await);
}

#[tokio::test]
async fn changes_stop_after_the_duration() {
    let server = start(
        MockConfig::default()
            .dataset(Dataset::generate(50, 1))
            .mutate(100.0, Duration::from_millis(200)),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let a = server.live_counts();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.live_counts(), a);
    assert_eq!(a.total(), 20);
    server.shutdown().await;
}

#[tokio::test]
async fn a_filtered_walk_over_changing_data_lists_each_steady_match_once() {
    let server = start(
        MockConfig::default()
            .dataset(Dataset::generate(2000, 12))
            .mutate(3000.0, Duration::from_secs(3)),
    )
    .await;
    let first = records(&server.snapshot());
    let (levels, _) = walk(
        &server,
        &url(&[
            ("filter", "qty_available{gt:100}"),
            ("filter", BOTH),
            ("sort", "product_id"),
            ("limit", "20"),
        ]),
    )
    .await;
    let last = records(&server.snapshot());
    assert!(
        server.live_counts().quantities > 100,
        "levels changed meanwhile"
    );
    let got = ids(&levels);
    assert!(got.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
    let by_id = |recs: &[serde_json::Value]| -> std::collections::BTreeMap<u64, serde_json::Value> {
        recs.iter()
            .map(|r| (r["product"]["id"].as_u64().unwrap(), r.clone()))
            .collect()
    };
    let (first, last) = (by_id(&first), by_id(&last));
    let matches = |r: &serde_json::Value| r["qty_available"].as_i64().unwrap() > 100;
    let got: BTreeSet<u64> = got.into_iter().collect();
    let mut steady = 0;
    for (id, a) in &first {
        let b = &last[id];
        if a["updated_at"] == b["updated_at"] && matches(a) {
            // Never changed during the walk, and matching: listed.
            steady += 1;
            assert!(got.contains(id), "steady match {id} was not listed");
        }
        if a["updated_at"] == b["updated_at"] && !matches(a) {
            assert!(!got.contains(id), "steady non-match {id} was listed");
        }
    }
    assert!(steady > 100, "{steady}");
    server.shutdown().await;
}
