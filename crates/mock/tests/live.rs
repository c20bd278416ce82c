//! The live mode over real HTTP: changes are served as they happen, stamped with the
//! mock's clock, paging stays keyset-correct while the data changes, and snapshots are
//! consistent.
//!
//! Nothing here depends on the machine's speed: a test waits for the changes it needs
//! (polling, under the test's timeout) rather than sleeping a fixed time, and judges what
//! changed by comparing whole records of full snapshots, not by counts or timestamps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::*;
use serde_json::Value;
use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};

const BOTH: &str = "is_enabled[{eq:true},{eq:false}]";

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn secs(stamp: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(stamp.as_str().unwrap())
        .unwrap()
        .timestamp()
}

/// Waits until the live mode has made at least `n` changes (however long that takes on
/// this machine; the test's timeout bounds it).
async fn until_changes(server: &MockServer, n: u64) {
    while server.live_counts().total() < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A record without what a live change may touch: the quantities, the level's and the
/// product's `updated_at` and the product's `is_enabled`.
fn fixed_part(r: &Value) -> Value {
    let mut r = r.clone();
    let level = r.as_object_mut().unwrap();
    level.retain(|k, _| !k.starts_with("qty_") && k != "updated_at");
    let p = level["product"].as_object_mut().unwrap();
    p.remove("updated_at");
    p.remove("is_enabled");
    r
}

/// A record without its timestamps (they follow the clock, which differs between runs).
fn without_stamps(mut r: Value) -> Value {
    r.as_object_mut().unwrap().remove("updated_at");
    let p = r["product"].as_object_mut().unwrap();
    p.remove("updated_at");
    p.remove("created_at");
    r
}

/// Every member of the served `level` but its `product` equals the record's, and the
/// product is the record's.
fn assert_level_is_record(level: &Value, record: &Value) {
    let members = level.as_object().unwrap();
    assert!(members.contains_key("updated_at"), "{level}");
    for (k, v) in members {
        if k == "product" {
            assert_eq!(v["id"], record["product"]["id"], "{level}");
        } else {
            assert_eq!(v, &record[k], "{k} of {level}\nrecord: {record}");
        }
    }
}

#[tokio::test]
async fn changes_are_served_stamped_with_the_mocks_clock() {
    within(async {
        let skew = -7200;
        let dataset = Dataset::generate(300, 3);
        // The mock's clock is the system's plus the skew: read before the server starts,
        // this is no later than any change's stamp.
        let lo = chrono::Utc::now().timestamp() + skew;
        let server = start(
            MockConfig::default()
                .dataset(dataset.clone())
                .mutate(400.0, Duration::from_millis(500))
                .clock_skew_secs(skew),
        )
        .await;
        let sys0 = chrono::Utc::now().timestamp();
        let now = server.state().now();
        let sys1 = chrono::Utc::now().timestamp();
        assert!(
            sys0 + skew <= now && now <= sys1 + skew,
            "the clock is skewed: {now} not in [{}, {}]",
            sys0 + skew,
            sys1 + skew
        );
        // The whole run: 400 a second for 0.5 s.
        until_changes(&server, 200).await;
        let hi = server.state().now();
        assert_eq!(
            server.live_counts().total(),
            200,
            "{}",
            server.live_counts()
        );

        // The Date header is the mock's clock, not the system's.
        let d0 = server.state().now();
        let page = get_with(&server, &[("limit", "1")]).await;
        let d1 = server.state().now();
        let date = chrono::DateTime::parse_from_rfc2822(page.header("date").unwrap())
            .unwrap()
            .timestamp();
        assert!(d0 <= date && date <= d1, "Date {date} not in [{d0}, {d1}]");

        // Record by record: unchanged, or changed in what a live change touches and
        // stamped with the mock's clock during the run, or new after the last generated id.
        let snapshot = server.snapshot();
        snapshot.check_invariants().unwrap();
        let (old, new) = (by_id(&dataset), by_id(&snapshot));
        let in_run = |t: &Value| (lo..=hi).contains(&secs(t));
        let start_max = dataset.stats().max_id;
        let (mut changed, mut created) = (0, 0);
        for (id, r) in &new {
            match old.get(id) {
                Some(o) if o == r => {}
                Some(o) => {
                    changed += 1;
                    assert_eq!(fixed_part(o), fixed_part(r), "product {id}");
                    let level_moved = o
                        .as_object()
                        .unwrap()
                        .iter()
                        .any(|(k, v)| k.starts_with("qty_") && r[k] != *v);
                    if level_moved {
                        assert!(in_run(&r["updated_at"]), "{r}");
                    }
                    if o["product"]["is_enabled"] != r["product"]["is_enabled"] {
                        assert!(in_run(&r["product"]["updated_at"]), "{r}");
                    }
                    assert!(
                        level_moved || o["product"]["is_enabled"] != r["product"]["is_enabled"],
                        "product {id} changed in neither stock nor state:\n{o}\n{r}"
                    );
                }
                None => {
                    created += 1;
                    assert!(*id > start_max, "{r}");
                    assert!(in_run(&r["product"]["created_at"]), "{r}");
                    assert!(in_run(&r["updated_at"]), "{r}");
                }
            }
        }
        assert!(
            old.keys().all(|id| new.contains_key(id)),
            "no level is removed"
        );
        assert!(
            changed > 0 && created > 0,
            "{changed} changed, {created} new"
        );

        // Every level changed during the run is found by an updated_at filter, as the
        // snapshot has it; the responses validate against the spec (`get` checks).
        let cut = rfc3339(lo - 1);
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
        let want: Vec<&Value> = new
            .values()
            .filter(|r| secs(&r["updated_at"]) > lo - 1)
            .collect();
        assert!(!want.is_empty());
        assert_eq!(ids(&levels).len(), want.len(), "{:?}", ids(&levels));
        for (level, record) in levels.iter().zip(&want) {
            assert_level_is_record(level, record);
        }
        server.shutdown().await;
    })
    .await;
}

/// Every record of the dataset, as its NDJSON line, by product id (the lines are in id
/// order): whole records, compared as text.
fn lines_by_id(ds: &Dataset) -> BTreeMap<u64, String> {
    let text = ds.to_ndjson_string();
    let ids = ds.product_ids();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(ids.len(), lines.len());
    ids.into_iter()
        .zip(lines)
        .map(|(id, l)| (id, l.to_owned()))
        .collect()
}

/// Follows `next` from `first` to the end; after each page, waits until the live mode has
/// changed something and snapshots the data. Returns the levels, the pages and the
/// snapshots (the first taken before the first page), in order.
async fn walk_while_changing(
    server: &MockServer,
    first: &str,
) -> (Vec<Value>, Vec<Resp>, Vec<BTreeMap<u64, String>>) {
    let mut levels = Vec::new();
    let mut pages = Vec::new();
    let mut snapshots = vec![lines_by_id(&server.snapshot())];
    let mut uri = first.to_owned();
    for _ in 0..10_000 {
        let seen = server.live_counts().total();
        let page = get(server, &uri).await;
        assert_eq!(page.status, 200, "{}", page.text);
        levels.extend(page.levels().iter().cloned());
        let next = page.body["next"].as_str().map(str::to_owned);
        assert_eq!(page.body["has_more"].as_bool(), Some(next.is_some()));
        pages.push(page);
        until_changes(server, seen + 1).await;
        snapshots.push(lines_by_id(&server.snapshot()));
        match next {
            Some(n) => uri = n,
            None => return (levels, pages, snapshots),
        }
    }
    panic!("walk did not end");
}

/// Ids whose record is not the same in every snapshot (changed, or new, at some point).
fn unsteady(snapshots: &[BTreeMap<u64, String>]) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for w in snapshots.windows(2) {
        for (id, r) in &w[1] {
            if w[0].get(id) != Some(r) {
                out.insert(*id);
            }
        }
    }
    out
}

/// A live mode that goes on for longer than any walk here (the server's shutdown ends it).
fn changing(products: usize, seed: u64, rate: f64) -> MockConfig {
    MockConfig::default()
        .dataset(Dataset::generate(products, seed))
        .mutate(rate, Duration::from_secs(3600))
}

#[tokio::test]
async fn paging_over_changing_data_is_keyset_correct() {
    within(async {
        let server = start(changing(500, 8, 20.0)).await;
        let (levels, pages, snapshots) = walk_while_changing(
            &server,
            &url(&[("filter", BOTH), ("sort", "product_id"), ("limit", "25")]),
        )
        .await;
        let (first, last) = (&snapshots[0], &snapshots[snapshots.len() - 1]);
        assert!(pages.len() >= 20);
        assert!(
            !unsteady(&snapshots).is_empty(),
            "the data changed meanwhile"
        );
        let got = ids(&levels);
        assert!(got.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
        // Every product that existed from start to end is listed exactly once; new ones
        // may or may not be (depending on when they appeared relative to the cursor).
        let got: BTreeSet<u64> = got.into_iter().collect();
        for id in first.keys() {
            assert!(got.contains(id), "product {id} was lost while paging");
        }
        assert!(got.iter().all(|id| last.contains_key(id)));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_same_seed_makes_the_same_changes() {
    within(async {
        let dataset = Dataset::generate(200, 4);
        let run = || async {
            let server = start(
                MockConfig::default()
                    .dataset(dataset.clone())
                    .seed(77)
                    .mutate(1000.0, Duration::from_millis(100)),
            )
            .await;
            // The whole run: 1000 a second for 0.1 s.
            until_changes(&server, 100).await;
            let snap = server.snapshot();
            server.shutdown().await;
            // Timestamps differ between runs (the clock moves); ids, SKUs and quantities
            // do not.
            records(&snap)
                .into_iter()
                .map(without_stamps)
                .collect::<Vec<_>>()
        };
        let a = run().await;
        assert_eq!(a, run().await);
        let unchanged: Vec<Value> = records(&dataset).into_iter().map(without_stamps).collect();
        assert_ne!(a, unchanged, "the runs changed the data");
    })
    .await;
}

#[tokio::test]
async fn changes_stop_after_the_duration() {
    within(async {
        let server = start(
            MockConfig::default()
                .dataset(Dataset::generate(50, 1))
                .mutate(100.0, Duration::from_millis(200)),
        )
        .await;
        // 100 a second for 0.2 s: all 20, however late they come.
        until_changes(&server, 20).await;
        let done = server.snapshot().to_ndjson_string();
        // Well past the duration and several ticks of the live task: nothing more.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_same_lines(&server.snapshot().to_ndjson_string(), &done);
        assert_eq!(server.live_counts().total(), 20);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_filtered_walk_over_changing_data_lists_each_steady_match_once() {
    within(async {
        let server = start(changing(600, 12, 20.0)).await;
        let (levels, _, snapshots) = walk_while_changing(
            &server,
            &url(&[
                ("filter", "qty_available{gt:100}"),
                ("filter", BOTH),
                ("sort", "product_id"),
                ("limit", "10"),
            ]),
        )
        .await;
        let got = ids(&levels);
        assert!(got.windows(2).all(|w| w[0] < w[1]), "ascending, no repeats");
        let got: BTreeSet<u64> = got.into_iter().collect();
        // Steady: the whole record is the same in every snapshot, taken before the walk
        // and after every page (a timestamp alone cannot say: it has whole seconds).
        let unsteady = unsteady(&snapshots);
        assert!(!unsteady.is_empty(), "levels changed meanwhile");
        let matches = |r: &Value| r["qty_available"].as_i64().unwrap() > 100;
        let (mut steady_matches, mut steady_others) = (0, 0);
        for (id, line) in snapshots[0].iter().filter(|(id, _)| !unsteady.contains(id)) {
            if matches(&serde_json::from_str(line).unwrap()) {
                steady_matches += 1;
                assert!(got.contains(id), "steady match {id} was not listed");
            } else {
                steady_others += 1;
                assert!(!got.contains(id), "steady non-match {id} was listed");
            }
        }
        assert!(
            steady_matches > 0 && steady_others > 0,
            "{steady_matches} steady matches, {steady_others} steady non-matches"
        );
        server.shutdown().await;
    })
    .await;
}
