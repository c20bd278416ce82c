//! Incremental sync: the same-second boundary, the server's clock, de-duplication, and
//! convergence against the mock's live mode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt as _;
use serde_json::{Value, json};
use shipstream_inventory::{
    Client, Deletions, Item, Level, LevelField, Product, ProductField, Reconcile, RetryPolicy,
    SyncState,
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
    comparable(json!({ "level": level, "product": product }))
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

/// The server's data as records: the mock's own JSON of each record (what it serves with
/// every field, plus `product_type`, which only its file format has), not read through the
/// facade's types as the mirror's are, so a member those types lose or change is a
/// difference.
fn expected(ds: &shipstream_inventory_mock::Dataset) -> Mirror {
    ds.product_ids()
        .into_iter()
        .map(|id| {
            let mut level = ds.record_json(id).unwrap();
            let mut product = level.as_object_mut().unwrap().remove("product").unwrap();
            product.as_object_mut().unwrap().remove("product_type");
            (
                id as i64,
                comparable(json!({ "level": level, "product": product })),
            )
        })
        .collect()
}

/// A record as both sides are compared: fractional numbers at the mock's precision
/// ([`as_f32`]), and no null members (the facade writes a null member as an absent one).
fn comparable(mut record: Value) -> Value {
    fn without_nulls(v: &mut Value) {
        match v {
            Value::Array(a) => a.iter_mut().for_each(without_nulls),
            Value::Object(o) => {
                o.retain(|_, m| !m.is_null());
                o.values_mut().for_each(without_nulls);
            }
            _ => {}
        }
    }
    as_f32(&mut record);
    without_nulls(&mut record);
    record
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

/// Whether the mock's live mode has made all the `changes` it was started for (its rate
/// times its duration): judged on its counters, not on the clock, since a slow machine
/// makes them late (but all of them).
fn changes_stopped(server: &shipstream_inventory_mock::MockServer, changes: u64) -> bool {
    let made = server.live_counts().total();
    assert!(made <= changes, "{made} changes, more than {changes}");
    made == changes
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
        // Runs until the mock has made all its changes (300 a second for 4 s), however
        // long that takes on this machine.
        loop {
            let mut pages = std::pin::pin!(sync(&client, state.clone()).pages());
            while let Some(page) = pages.try_next().await.unwrap() {
                for item in &page.items {
                    mirror.insert(item.product_id().unwrap(), row(item));
                }
                state = page.state;
            }
            runs += 1;
            if changes_stopped(&server, 300 * 4) {
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

/// Every page of a run, collected.
async fn run_pages(
    client: &Client,
    state: SyncState,
    reconcile: Reconcile,
) -> Vec<shipstream_inventory::SyncPage> {
    client
        .sync(state)
        .reconcile(reconcile)
        .pages()
        .try_collect()
        .await
        .unwrap()
}

fn deletions(pages: &[shipstream_inventory::SyncPage]) -> Vec<&Deletions> {
    pages.iter().filter_map(|p| p.deletions.as_ref()).collect()
}

#[tokio::test]
async fn a_reconciling_run_names_every_product_that_is_gone_and_none_that_exists() {
    support::within(async {
        let fake = Fake::default();
        let server = fake.serve().await;
        let client = client(&server.uri());
        fake.set(vec![
            level(1, 5, "2026-03-01T09:00:00Z"),
            level(2, 6, "2026-03-01T09:00:00Z"),
            level(3, 7, "2026-03-01T09:00:00Z"),
        ]);
        // A full load is a reconciliation: its one page covers the whole key space.
        let pages = run_pages(&client, SyncState::new(), Reconcile::Never).await;
        let d = deletions(&pages);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].after(), d[0].through()), (None, None));
        assert_eq!(d[0].present(), [1, 2, 3]);
        assert!(d[0].contains(0) && d[0].contains(4) && !d[0].contains(2));
        let state = pages.last().unwrap().state.clone();
        assert_eq!(state.reconciled_as_of(), Some(T.parse().unwrap()));
        assert_eq!(state.run_counts().ids_listed, 3);
        fake.take_filters();

        // Product 2 is deleted, 4 created; an hour later a run reconciles.
        fake.set(vec![
            level(1, 5, "2026-03-01T09:00:00Z"),
            level(3, 7, "2026-03-01T09:00:00Z"),
            level(4, 8, "2026-03-01T10:30:00Z"),
        ]);
        fake.set_date("Sun, 01 Mar 2026 11:00:00 GMT");
        let pages = run_pages(&client, state, Reconcile::Always).await;
        assert_eq!(fake.take_filters().len(), 3, "changes, products, every id");
        let items: Vec<Item> = pages.iter().flat_map(|p| p.items.clone()).collect();
        assert_eq!(qty(&items), [(4, 8)]);
        let d = deletions(&pages);
        assert_eq!(d.len(), 1, "the id listing's one page");
        assert_eq!(d[0].present(), [1, 3, 4]);
        let gone: Vec<i64> = (0..10).filter(|&id| d[0].contains(id)).collect();
        assert_eq!(gone, [0, 2, 5, 6, 7, 8, 9]);
        let state = &pages.last().unwrap().state;
        assert_eq!(
            state.reconciled_as_of(),
            Some("2026-03-01T11:00:00Z".parse().unwrap())
        );
        assert_eq!(state.synced_as_of(), state.reconciled_as_of());
    })
    .await
}

#[tokio::test]
async fn the_age_of_the_last_reconciliation_is_judged_on_the_servers_clock() {
    support::within(async {
        let fake = Fake::default();
        let server = fake.serve().await;
        let client = client(&server.uri());
        fake.set(vec![level(1, 5, "2026-03-01T09:00:00Z")]);
        let every_2h = Reconcile::OlderThan(Duration::from_secs(7200));
        let pages = run_pages(&client, SyncState::new(), every_2h).await;
        let mut state = pages.last().unwrap().state.clone();
        fake.take_filters();
        // (server time, policy, requests expected: 3 when the run reconciles)
        let runs = [
            ("Sun, 01 Mar 2026 11:00:00 GMT", every_2h, 2, T),
            (
                "Sun, 01 Mar 2026 12:00:00 GMT",
                every_2h,
                3,
                "2026-03-01T12:00:00Z",
            ),
            (
                "Sun, 01 Mar 2026 23:00:00 GMT",
                Reconcile::Never,
                2,
                "2026-03-01T12:00:00Z",
            ),
            (
                "Mon, 02 Mar 2026 12:00:00 GMT",
                Reconcile::default(),
                3,
                "2026-03-02T12:00:00Z",
            ),
        ];
        for (date, policy, requests, reconciled) in runs {
            fake.set_date(date);
            let pages = run_pages(&client, state, policy).await;
            assert_eq!(fake.take_filters().len(), requests, "{date} {policy:?}");
            state = pages.last().unwrap().state.clone();
            assert_eq!(
                state.reconciled_as_of(),
                Some(reconciled.parse().unwrap()),
                "{date} {policy:?}"
            );
        }
    })
    .await
}

#[tokio::test]
async fn an_out_of_order_listing_stops_a_reconciliation_before_it_deletes() {
    support::within(async {
        let fake = Fake::default();
        let server = fake.serve().await;
        let client = client(&server.uri());
        fake.set(vec![
            level(2, 5, "2026-03-01T09:00:00Z"),
            level(1, 6, "2026-03-01T09:00:00Z"),
        ]);
        let err = client
            .sync(SyncState::new())
            .pages()
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert!(err.is_pagination(), "{err}");
        assert!(err.to_string().contains("out of order"), "{err}");
    })
    .await
}

#[tokio::test]
async fn a_record_without_a_readable_id_judges_nothing_and_is_not_a_reconciliation() {
    support::within(async {
        let fake = Fake::default();
        let server = fake.serve().await;
        let client = client(&server.uri());
        let mut broken = level(2, 6, "2026-03-01T09:00:00Z");
        broken["qty_on_hand"] = json!("six");
        fake.set(vec![level(1, 5, "2026-03-01T09:00:00Z"), broken]);
        let pages = run_pages(&client, SyncState::new(), Reconcile::Always).await;
        assert!(deletions(&pages).is_empty(), "id 2 might be any row");
        let state = &pages.last().unwrap().state;
        assert_eq!(state.run_counts().record_errors, 1);
        assert_eq!(state.reconciled_as_of(), None);
        assert_eq!(state.synced_as_of(), None);
    })
    .await
}

/// Syncs against the mock's live mode that deletes products, applying each page's levels
/// and deletions to `mirror`, and its levels alone to `blind` (a caller that ignores
/// deletions).
async fn converge_with_deletions(parallel: usize) {
    use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};
    let server = MockServer::start(
        MockConfig::default()
            .dataset(Dataset::generate(1500, 12))
            .seed(12)
            .mutate(300.0, Duration::from_secs(3))
            .delete_share(0.1)
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
    let (mut mirror, mut blind) = (Mirror::new(), Mirror::new());
    let mut state = SyncState::new();
    let mut run_no = 0;
    let apply = |page: &shipstream_inventory::SyncPage, mirror: &mut Mirror, blind: &mut Mirror| {
        if let Some(d) = &page.deletions {
            mirror.retain(|id, _| !d.contains(*id));
        }
        for item in &page.items {
            mirror.insert(item.product_id().unwrap(), row(item));
            blind.insert(item.product_id().unwrap(), row(item));
        }
    };
    // Runs until the mock has made all its changes (300 a second for 3 s).
    loop {
        run_no += 1;
        // Every other run reconciles.
        let policy = if run_no % 2 == 0 {
            Reconcile::Always
        } else {
            Reconcile::Never
        };
        let request = sync(&client, state.clone())
            .reconcile(policy)
            .parallel(parallel);
        let mut pages = std::pin::pin!(request.pages());
        while let Some(page) = pages.try_next().await.unwrap() {
            apply(&page, &mut mirror, &mut blind);
            state = page.state;
        }
        if changes_stopped(&server, 300 * 3) {
            break;
        }
    }
    let request = sync(&client, state)
        .reconcile(Reconcile::Always)
        .parallel(parallel);
    let mut pages = std::pin::pin!(request.pages());
    while let Some(page) = pages.try_next().await.unwrap() {
        apply(&page, &mut mirror, &mut blind);
    }
    let counts = server.live_counts();
    assert!(counts.deleted > 50 && counts.created > 20, "{counts}");
    let want = expected(&server.snapshot());
    assert!(
        mirror == want,
        "the mirror differs from the server ({} vs {} records; {run_no} runs, {counts}):\n{}",
        mirror.len(),
        want.len(),
        differences(&mirror, &want, 5).join("\n")
    );
    // A caller that ignored the deletions holds a row for every deleted product it got:
    // the run met deletions that mattered (how many depends on how many runs fit the time,
    // so only that there were some is asserted).
    let extra = blind.keys().filter(|id| !want.contains_key(id)).count();
    assert!(extra > 0, "{extra} extra rows, {counts}");
    server.shutdown().await;
}

#[tokio::test]
async fn deleted_products_leave_a_reconciled_mirror_and_none_that_exists_does() {
    support::within(converge_with_deletions(1)).await
}

#[tokio::test]
async fn a_parallel_reconciliation_is_as_exact_as_a_sequential_one() {
    support::within(converge_with_deletions(4)).await
}
