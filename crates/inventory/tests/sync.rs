//! Incremental sync: the same-second boundary, the server's clock, de-duplication, and
//! convergence against the mock's live mode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt as _;
use serde_json::{Value, json};
use shipstream_inventory::{
    Client, Item, Level, LevelField, Product, ProductField, RetryPolicy, SyncState,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers::method};

mod support;

const T: &str = "2026-03-01T10:00:00Z";
const T_HTTP: &str = "Sun, 01 Mar 2026 10:00:00 GMT";

fn level(id: i64, qty: i64, at: &str) -> Value {
    json!({
        "type": "TotalLevel",
        "product": {"type": "Product", "id": id, "sku": format!("SKU-{id}")},
        "qty_on_hand": qty, "qty_available": qty, "updated_at": at
    })
}

fn page(levels: &[Value]) -> Value {
    json!({
        "collection": levels,
        "included": {"Product": levels.iter().map(|l| json!({
            "type": "Product", "id": l["product"]["id"], "sku": l["product"]["sku"],
            "is_enabled": true, "updated_at": l["updated_at"]})).collect::<Vec<_>>()},
        "has_more": false
    })
}

fn client(uri: &str) -> Client {
    Client::builder()
        .base_url(uri)
        .token("test-token-1234567890")
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

/// The data of the fake server, its clock, and the filters it was asked for.
#[derive(Clone, Default)]
struct Fake {
    levels: Arc<Mutex<Vec<Value>>>,
    filters: Arc<Mutex<Vec<Vec<String>>>>,
    /// The `Date` header (default [`T_HTTP`]).
    date: Arc<Mutex<Option<String>>>,
    /// Answer every request with `has_more: true` and a `next` that repeats the page.
    looping: Arc<Mutex<bool>>,
}

impl Fake {
    async fn serve(&self) -> MockServer {
        let server = MockServer::start().await;
        let me = self.clone();
        Mock::given(method("GET"))
            .respond_with(move |req: &Request| {
                let filters: Vec<String> = req
                    .url
                    .query_pairs()
                    .filter(|(k, _)| k == "filter")
                    .map(|(_, v)| v.into_owned())
                    .collect();
                // Apply `updated_at{gt:"…"}` / `product_updated_at{gt:"…"}` as the API
                // would (levels and their products carry the same stamp here).
                let after: Option<String> = filters.iter().find_map(|f| {
                    let rest = f
                        .strip_prefix("updated_at{gt:\"")
                        .or_else(|| f.strip_prefix("product_updated_at{gt:\""))?;
                    Some(rest.trim_end_matches("\"}").to_owned())
                });
                me.filters.lock().unwrap().push(filters);
                let levels: Vec<Value> = me
                    .levels
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|l| {
                        after
                            .as_deref()
                            .is_none_or(|t| l["updated_at"].as_str().unwrap() > t)
                    })
                    .cloned()
                    .collect();
                let date = me.date.lock().unwrap().clone();
                let mut body = page(&levels);
                if *me.looping.lock().unwrap() {
                    body["has_more"] = json!(true);
                    let uri = format!("{}?{}", req.url.path(), req.url.query().unwrap_or(""));
                    body["next"] = json!(uri);
                }
                ResponseTemplate::new(200)
                    .insert_header("date", date.as_deref().unwrap_or(T_HTTP))
                    .set_body_json(body)
            })
            .mount(&server)
            .await;
        server
    }

    fn set(&self, levels: Vec<Value>) {
        *self.levels.lock().unwrap() = levels;
    }

    fn set_date(&self, http_date: &str) {
        *self.date.lock().unwrap() = Some(http_date.to_owned());
    }

    fn take_filters(&self) -> Vec<Vec<String>> {
        std::mem::take(&mut *self.filters.lock().unwrap())
    }
}

async fn run(client: &Client, state: SyncState, lookback: u64) -> (Vec<Item>, SyncState) {
    let pages: Vec<_> = client
        .sync(state)
        .lookback(Duration::from_secs(lookback))
        .pages()
        .try_collect()
        .await
        .unwrap();
    let last = pages.last().unwrap().state.clone();
    assert!(pages.last().unwrap().is_last());
    let items = pages.into_iter().flat_map(|p| p.items).collect();
    (items, last)
}

fn qty(items: &[Item]) -> Vec<(i64, i64)> {
    items
        .iter()
        .map(|i| (i.product_id().unwrap(), i.level.qty_on_hand.unwrap()))
        .collect()
}

#[tokio::test]
async fn a_change_in_the_bookmarks_own_second_is_not_missed() {
    support::within(async {
        let fake = Fake::default();
        let server = fake.serve().await;
        let client = client(&server.uri());

        // Full load: the server's clock says T; level 2 was stamped in that very second.
        fake.set(vec![level(1, 5, "2026-03-01T09:59:59Z"), level(2, 1, T)]);
        let (items, state) = run(&client, SyncState::new(), 0).await;
        assert_eq!(qty(&items), [(1, 5), (2, 1)]);
        assert_eq!(
            state.synced_as_of().unwrap().to_rfc3339(),
            "2026-03-01T10:00:00+00:00"
        );
        let filters = fake.take_filters();
        assert_eq!(filters.len(), 1, "one listing for a full load");
        assert!(filters[0].iter().all(|f| !f.contains("updated_at")));
        assert!(
            filters[0]
                .iter()
                .any(|f| f == "is_enabled[{eq:true},{eq:false}]"),
            "disabled products are asked for too: {filters:?}"
        );

        // Level 2 changes again within the same second: same timestamp, new quantity. A
        // `updated_at > T` sync would miss it; this one asks from T's own second (and the
        // smallest overlap, 1 s, before it: `lookback(0)` is clamped to 1 s).
        fake.set(vec![level(2, 7, T)]);
        let (items, state) = run(&client, state, 0).await;
        assert_eq!(
            qty(&items),
            [(2, 7)],
            "delivered once, though both passes list it"
        );
        let filters = fake.take_filters();
        assert_eq!(filters.len(), 2, "levels and products changed since");
        assert!(filters[0].contains(&r#"updated_at{gt:"2026-03-01T09:59:58Z"}"#.to_owned()));
        assert!(
            filters[1].contains(&r#"product_updated_at{gt:"2026-03-01T09:59:58Z"}"#.to_owned())
        );
        assert_eq!(state.run_counts().delivered, 1);
        assert_eq!(state.run_counts().skipped, 1);

        // Nothing changed: what the window asks for again is not delivered again.
        let (items, state) = run(&client, state, 0).await;
        assert!(items.is_empty());
        assert_eq!(state.run_counts().skipped, 2);

        // The overlap window widens the ask by its length.
        let _ = fake.take_filters();
        run(&client, state, 60).await;
        let filters = fake.take_filters();
        assert!(
            filters
                .last()
                .unwrap()
                .contains(&r#"product_updated_at{gt:"2026-03-01T09:58:59Z"}"#.to_owned())
        );
    })
    .await
}

#[tokio::test]
async fn a_server_without_a_usable_date_header_is_refused_clearly() {
    support::within(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("date", "yesterday")
                    .set_body_json(page(&[level(1, 1, T)])),
            )
            .mount(&server)
            .await;
        let err = client(&server.uri())
            .sync(SyncState::new())
            .pages()
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("Date header"), "{err}");
    })
    .await
}

#[test]
fn states_round_trip_and_other_versions_are_refused() {
    let state = SyncState::starting_at("2026-03-01T10:00:00Z".parse().unwrap());
    let json = serde_json::to_string(&state).unwrap();
    let back: SyncState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
    assert!(!back.is_full_load());
    assert!(SyncState::new().is_full_load());
    let other = json.replace("\"version\":1", "\"version\":9");
    let err = serde_json::from_str::<SyncState>(&other).unwrap_err();
    assert!(err.to_string().contains("version 9"), "{err}");
}

/// A mirror as a caller keeps it: product id → the whole record (the level and its
/// product, every field of both).
type Mirror = BTreeMap<i64, Value>;

/// A record as the mirror keeps it: the level without its product reference, and the
/// product in full.
fn record(level: &Level, product: Option<&Product>) -> Value {
    let mut level = serde_json::to_value(level).unwrap();
    level.as_object_mut().unwrap().remove("product");
    let mut record = json!({ "level": level, "product": product });
    as_f32(&mut record);
    record
}

/// Every fractional number at the precision the mock keeps it, `f32`: its wire form
/// is the shortest decimal of the `f32` (`6.2`), its `record_json` the `f32` widened to
/// `f64` (`6.199999809265137`).
fn as_f32(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap() as f32;
            *v = json!(f64::from(x));
        }
        Value::Array(a) => a.iter_mut().for_each(as_f32),
        Value::Object(o) => o.values_mut().for_each(as_f32),
        _ => {}
    }
}

fn row(item: &Item) -> Value {
    record(&item.level, item.product.as_deref())
}

/// The server's data as records, read through the same types as the mirror's.
fn expected(ds: &shipstream_inventory_mock::Dataset) -> Mirror {
    ds.product_ids()
        .into_iter()
        .map(|id| {
            let r = ds.record_json(id).unwrap();
            let level: Level = serde_json::from_value(r.clone()).unwrap();
            let product: Product = serde_json::from_value(r["product"].clone()).unwrap();
            (id as i64, record(&level, Some(&product)))
        })
        .collect()
}

/// The records in which two mirrors differ (at most `most`), each with the fields that
/// differ, for a readable failure.
fn differences(got: &Mirror, want: &Mirror, most: usize) -> Vec<String> {
    let ids: std::collections::BTreeSet<&i64> = got.keys().chain(want.keys()).collect();
    ids.into_iter()
        .filter(|id| got.get(id) != want.get(id))
        .take(most)
        .map(|id| match (got.get(id), want.get(id)) {
            (Some(g), Some(w)) => {
                let mut fields = Vec::new();
                for part in ["level", "product"] {
                    let keys: std::collections::BTreeSet<&String> = [&g[part], &w[part]]
                        .iter()
                        .filter_map(|v| v.as_object())
                        .flat_map(|o| o.keys())
                        .collect();
                    for k in keys {
                        if g[part].get(k) != w[part].get(k) {
                            fields.push(format!(
                                "{part}.{k}: mirror {:?}, server {:?}",
                                g[part].get(k),
                                w[part].get(k)
                            ));
                        }
                    }
                }
                format!("product {id}: {}", fields.join("; "))
            }
            (g, w) => format!("product {id}: mirror {g:?}, server {w:?}"),
        })
        .collect()
}

/// A sync that asks for every field of the levels and their products.
fn sync(client: &Client, state: SyncState) -> shipstream_inventory::SyncRequest {
    client
        .sync(state)
        .page_size(50)
        .fields([LevelField::All])
        .product_fields([ProductField::All])
}

#[tokio::test]
async fn repeated_syncs_against_a_busy_warehouse_converge_exactly() {
    support::within(async {
        use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};
        // The server's clock is an hour behind ours: a sync that used the caller's clock
        // would ask for the future and miss every change.
        let server = MockServer::start(
            MockConfig::default()
                .dataset(Dataset::generate(1500, 11))
                .seed(11)
                .mutate(300.0, Duration::from_secs(4))
                .clock_skew_secs(-3600),
        )
        .await
        .unwrap();
        let client = Client::builder()
            .base_url(server.base_url())
            .token(server.token())
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let mut mirror = Mirror::new();
        let mut state = SyncState::new();
        let mut runs = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let mut pages = std::pin::pin!(sync(&client, state.clone()).pages());
            while let Some(page) = pages.try_next().await.unwrap() {
                for item in &page.items {
                    mirror.insert(item.product_id().unwrap(), row(item));
                }
                state = page.state;
            }
            runs += 1;
            if std::time::Instant::now() > deadline {
                break;
            }
        }
        // One more run after the changes stopped, then the mirror is the server's data.
        let mut pages = std::pin::pin!(sync(&client, state).pages());
        while let Some(page) = pages.try_next().await.unwrap() {
            for item in &page.items {
                mirror.insert(item.product_id().unwrap(), row(item));
            }
        }
        // Record for record, every field: the mirror is the server's data.
        let want = expected(&server.snapshot());
        assert!(
            want != expected(server.dataset()),
            "the warehouse did not change during the syncs: the test proves nothing"
        );
        assert!(
            mirror == want,
            "the mirror differs from the server ({} vs {} records; {runs} runs):\n{}",
            mirror.len(),
            want.len(),
            differences(&mirror, &want, 5).join("\n")
        );
        server.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn a_level_in_both_listings_is_delivered_once_per_run() {
    support::within(async {
        let fake = Fake::default();
        let server = fake.serve().await;
        let client = client(&server.uri());
        fake.set(vec![level(1, 5, "2026-03-01T09:00:00Z")]);
        let (_, state) = run(&client, SyncState::new(), 60).await;
        // 100 s later by the server's clock: level 1 and its product changed at T + 10 s,
        // so both listings of the run list it.
        fake.set_date("Sun, 01 Mar 2026 10:01:40 GMT");
        fake.set(vec![level(1, 6, "2026-03-01T10:00:10Z")]);
        let (items, state) = run(&client, state, 60).await;
        assert_eq!(qty(&items), [(1, 6)]);
        assert_eq!(state.run_counts().delivered, 1);
        assert_eq!(state.run_counts().skipped, 1);
    })
    .await
}

#[tokio::test]
async fn the_overlap_covers_timestamps_behind_the_servers_date() {
    support::within(async {
        // The server's `Date` says T, but its database stamps a change made after the bookmark
        // 30 s earlier (clocks that disagree). The 60 s overlap asks for it; a 1 s overlap
        // would not, which is what the overlap is for.
        for (lookback, want) in [(60, vec![(1, 9)]), (1, vec![])] {
            let fake = Fake::default();
            let server = fake.serve().await;
            let client = client(&server.uri());
            fake.set(vec![level(1, 5, "2026-03-01T08:00:00Z")]);
            let (_, state) = run(&client, SyncState::new(), lookback).await;
            fake.set(vec![level(1, 9, "2026-03-01T09:59:30Z")]);
            let (items, _) = run(&client, state, lookback).await;
            assert_eq!(qty(&items), want, "lookback {lookback} s");
        }
    })
    .await
}

#[tokio::test]
async fn a_next_link_that_cannot_be_followed_stops_the_run_without_moving_the_bookmark() {
    support::within(async {
        let fake = Fake::default();
        let server = fake.serve().await;
        let client = client(&server.uri());
        fake.set(vec![level(1, 5, "2026-03-01T09:00:00Z")]);
        *fake.looping.lock().unwrap() = true;
        let mut pages = std::pin::pin!(client.sync(SyncState::new()).pages());
        let first = pages.try_next().await;
        let err = first.unwrap_err();
        assert!(err.is_pagination(), "{err}");
        assert!(err.to_string().contains("repeats a page"), "{err}");
        // No page was delivered, so the caller's stored state is still the one it started
        // with; once the server is fixed, the run completes.
        *fake.looping.lock().unwrap() = false;
        let (items, state) = run(&client, SyncState::new(), 60).await;
        assert_eq!(qty(&items), [(1, 5)]);
        assert!(state.synced_as_of().is_some());
    })
    .await
}
