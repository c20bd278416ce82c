//! Sharded parallel paging against the mock server: every level exactly once and in
//! `product_id` order across range splits, dense and empty ranges, a range that fails and
//! the resume from its checkpoint, what cannot be sharded, and the client-side limiter
//! against a mock that enforces limits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::{StreamExt as _, TryStreamExt as _};
use shipstream_inventory::{
    Checkpoint, Client, Error, LevelField, RateLimits, RetryPolicy, Sort, SortField,
};
use std::time::Duration;

use serde_json::Value;
use shipstream_inventory_mock::{Dataset, Fault, Gate, MockConfig, MockServer, RecordedRequest};

mod support;

fn client_with(server: &MockServer, limits: RateLimits, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(server.token())
        .rate_limits(limits)
        .retry_policy(retry)
        .build()
        .unwrap()
}

fn client(server: &MockServer) -> Client {
    client_with(server, RateLimits::none(), RetryPolicy::none())
}

async fn server(products: usize) -> MockServer {
    MockServer::start(
        MockConfig::default()
            .dataset(Dataset::generate(products, 7))
            .record_requests(true),
    )
    .await
    .unwrap()
}

/// Every level of the pages, whole (as serialised), in order.
fn levels(pages: &[shipstream_inventory::Page]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| p.levels().map(|l| serde_json::to_value(l).unwrap()))
        .collect()
}

/// The sequential export sorted by product id: what a parallel one must equal.
async fn sequential(c: &Client, page_size: u32, filter: Option<&str>) -> Vec<Value> {
    let mut r = c
        .total_levels()
        .sort(Sort::asc(SortField::ProductId))
        .page_size(page_size);
    if let Some(f) = filter {
        r = r.filter_raw(f);
    }
    let pages: Vec<_> = r.pages().try_collect().await.unwrap();
    levels(&pages)
}

async fn parallel(c: &Client, n: usize, page_size: u32, filter: Option<&str>) -> Vec<Value> {
    let mut r = c.total_levels().page_size(page_size).parallel(n);
    if let Some(f) = filter {
        r = r.filter_raw(f);
    }
    let pages: Vec<_> = r.pages().try_collect().await.unwrap();
    levels(&pages)
}

/// The range filter of a request (`product_id{gt:A,lt:B}`, the last of that form: the
/// export appends it after the caller's filters).
fn range_filter(r: &RecordedRequest) -> Option<&str> {
    r.query_values("filter").into_iter().rev().find(|v| {
        v.strip_prefix("product_id{gt:")
            .and_then(|rest| rest.strip_suffix('}'))
            .and_then(|rest| rest.split_once(",lt:"))
            .is_some_and(|(a, b)| a.parse::<i64>().is_ok() && b.parse::<i64>().is_ok())
    })
}

/// Requests that followed a range's `next` with its range narrowed by a split: they
/// carry a cursor and a range filter that no range started with.
fn narrowed(requests: &[RecordedRequest]) -> usize {
    let started: std::collections::HashSet<&str> = requests
        .iter()
        .filter(|r| r.query_values("cursor_start").is_empty())
        .filter_map(range_filter)
        .collect();
    requests
        .iter()
        .filter(|r| !r.query_values("cursor_start").is_empty())
        .filter_map(range_filter)
        .filter(|f| !started.contains(f))
        .count()
}

#[tokio::test]
async fn every_level_comes_once_and_in_order_across_splits() {
    support::within(async {
        let server = server(3000).await;
        let c = client(&server);
        let want = sequential(&c, 40, None).await;
        assert!(want.len() > 2000, "{}", want.len());
        for n in [1, 2, 5, 8] {
            server.clear_requests();
            let got = parallel(&c, n, 40, None).await;
            assert_eq!(got, want, "parallel({n})");
            // Ranges were really used: requests carry the range filter.
            let ranged = server
                .requests()
                .iter()
                .filter(|r| {
                    r.query_pairs
                        .iter()
                        .any(|(k, v)| k == "filter" && v.starts_with("product_id{gt:"))
                })
                .count();
            assert!(ranged > 5, "parallel({n}) sent {ranged} ranged requests");
        }
        // Dense ends, an empty middle: the density the bounds give is far too low for
        // the first range, which holds most pages when the others (empty) are done, so
        // idle workers split it.
        let filter = Some("product_id[{lt:200},{gt:2990}]");
        let want = sequential(&c, 10, filter).await;
        for n in [5, 8] {
            server.clear_requests();
            let got = parallel(&c, n, 10, filter).await;
            assert_eq!(got, want, "parallel({n}), dense ends");
            // The split really happened: a range went on with its `next` narrowed.
            let narrowed = narrowed(&server.requests());
            assert!(
                narrowed > 0,
                "parallel({n}), dense ends: no range was split"
            );
        }
    })
    .await
}

#[tokio::test]
async fn dense_and_empty_ranges_give_the_same_levels() {
    support::within(async {
        let server = server(4000).await;
        let c = client(&server);
        // Dense ends and an empty middle: most ranges of the key space hold nothing.
        for filter in [
            "product_id[{lt:120},{gt:3900}]",
            "product_id{lt:30}",
            "qty_available{gt:40}",
            "product_id{gt:1000000}",
            // The caller's own product_id filters, one of exactly the range filter's form:
            // splits and resumes narrow the range filter, never these.
            "product_id{gt:5,lt:3500}",
            "product_id{gt:0,lt:100000,neq:50}",
        ] {
            let want = sequential(&c, 25, Some(filter)).await;
            let got = parallel(&c, 5, 25, Some(filter)).await;
            assert_eq!(got, want, "{filter}");
        }
    })
    .await
}

#[tokio::test]
async fn an_empty_result_is_one_empty_finished_page() {
    support::within(async {
        let server = server(100).await;
        let c = client(&server);
        let pages: Vec<_> = c
            .total_levels()
            .filter_raw("product_id{gt:1000000}")
            .parallel(3)
            .pages()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pages.len(), 1);
        assert!(pages[0].is_empty() && pages[0].checkpoint().is_done());
    })
    .await
}

#[tokio::test]
async fn a_failing_range_stops_the_export_and_its_checkpoint_resumes_exactly() {
    support::within(async {
        let want = sequential(&client(&server(2000).await), 30, None).await;
        // The 9th request fails, after the bounds and several ranges' first pages.
        let server = MockServer::start(
            MockConfig::default()
                .dataset(Dataset::generate(2000, 7))
                .fault(Fault::status(500).nth(9)),
        )
        .await
        .unwrap();
        let c = client(&server);
        let mut stream = Box::pin(c.total_levels().page_size(30).parallel(4).pages());
        let mut got = Vec::new();
        let mut last: Option<Checkpoint> = None;
        let mut failed = None;
        while let Some(page) = stream.next().await {
            match page {
                Ok(p) => {
                    got.extend(levels(std::slice::from_ref(&p)));
                    last = Some(p.checkpoint().clone());
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let failed: Error = failed.expect("the injected 500 must surface");
        assert_eq!(failed.status(), Some(500), "{failed}");
        let checkpoint = last.expect("pages before the failure");
        assert!(checkpoint.is_parallel() && !checkpoint.is_done());
        // Through JSON, as the CLI keeps it.
        let json = serde_json::to_string(&checkpoint).unwrap();
        let checkpoint: Checkpoint = serde_json::from_str(&json).unwrap();
        let rest: Vec<_> = c.resume(checkpoint).pages().try_collect().await.unwrap();
        got.extend(levels(&rest));
        assert_eq!(got, want);
    })
    .await
}

#[tokio::test]
async fn a_checkpoint_taken_mid_export_resumes_without_loss_or_repeat() {
    support::within(async {
        let server = server(2500).await;
        let c = client(&server);
        let want = sequential(&c, 50, None).await;
        // Late stops leave mostly the range being delivered, which the resumed export then
        // splits while its cursor is far ahead of the range's lower bound.
        for stop_after in [1usize, 4, 11, 23, 38, 42, 45] {
            let mut stream = Box::pin(c.total_levels().page_size(50).parallel(5).pages());
            let mut got = Vec::new();
            let mut checkpoint = None;
            for _ in 0..stop_after {
                let Some(p) = stream.next().await else {
                    break;
                };
                let p = p.unwrap();
                got.extend(levels(std::slice::from_ref(&p)));
                checkpoint = Some(p.checkpoint().clone());
            }
            drop(stream); // as a killed process would
            let cp = checkpoint.unwrap();
            assert_eq!(cp.items_delivered(), got.len() as u64);
            let rest: Vec<_> = c.resume(cp).pages().try_collect().await.unwrap();
            got.extend(levels(&rest));
            assert_eq!(got, want, "stopped after {stop_after} pages");
        }
    })
    .await
}

#[tokio::test]
async fn max_items_stops_in_order() {
    support::within(async {
        let server = server(1000).await;
        let c = client(&server);
        let want = sequential(&c, 40, None).await;
        let items: Vec<_> = c
            .total_levels()
            .page_size(40)
            .max_items(333)
            .parallel(4)
            .items()
            .try_collect()
            .await
            .unwrap();
        let got: Vec<Value> = items
            .iter()
            .map(|i| serde_json::to_value(&i.level).unwrap())
            .collect();
        assert_eq!(got, want[..333]);
    })
    .await
}

/// The claim of `TotalLevelsRequest::parallel`: at most 4 x `n` pages are held (fetched or
/// in flight, not yet delivered), and the export does hold that many when the range being
/// delivered is slow. The mock holds every answer of the first range (the one delivered
/// first) until the other workers' pages have piled up to the bound, all judged on the
/// mock's counters, never on a clock: with 4n - 1 pages fetched ahead, the held request
/// the 4n-th and nothing else on its way, it lets the held request go. Throughout, the
/// pages answered and not delivered plus the requests on the server never exceed 4n, and
/// their most is 4n.
#[tokio::test]
async fn a_parallel_export_holds_at_most_four_pages_per_worker() {
    support::within(async {
        let ds = Dataset::generate(3000, 7);
        let plain = server(3000).await;
        let page = client(&plain)
            .total_levels()
            .sort(Sort::asc(SortField::ProductId))
            .page_size(1)
            .send()
            .await
            .unwrap();
        let first = levels(&[page])[0]["product"]["id"].as_i64().unwrap();
        for n in [2, 3] {
            // The first range's filter, as the export writes it (`product_id{gt:A,lt:B}`).
            let head = format!("product_id{{gt:{},", first - 1);
            let gate =
                Gate::new(move |q| q.iter().any(|(k, v)| k == "filter" && v.starts_with(&head)));
            let server = MockServer::start(
                MockConfig::default()
                    .dataset(ds.clone())
                    .gate(gate.clone())
                    .record_requests(true),
            )
            .await
            .unwrap();
            let c = client(&server);
            let cap = 4 * n as u64;
            let delivered = std::cell::Cell::new(0u64);
            let done = std::cell::Cell::new(false);
            let consume = async {
                let mut pages = std::pin::pin!(c.total_levels().page_size(20).parallel(n).pages());
                while let Some(page) = pages.next().await {
                    page.unwrap();
                    delivered.set(delivered.get() + 1);
                }
                done.set(true);
            };
            let control = async {
                let (mut most, mut released, mut calm) = (0, 0, 0);
                while !done.get() {
                    // The two bounds probes are not pages.
                    let answered = server.requests().len() as u64;
                    let on_server = gate.arrived() - answered;
                    let ahead = answered.saturating_sub(2 + delivered.get());
                    assert!(
                        ahead + on_server <= cap,
                        "parallel({n}): {ahead} pages fetched ahead and {on_server} \
                         requests on the server, more than {cap}"
                    );
                    most = most.max(ahead + on_server);
                    // The bound reached with the held request the only one on the server,
                    // and still so a few polls later: let it go.
                    let full = gate.held() == 1 && on_server == 1 && ahead + 1 == cap;
                    calm = if full { calm + 1 } else { 0 };
                    if calm == 3 {
                        gate.release(1);
                        released += 1;
                        calm = 0;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                (most, released)
            };
            let ((), (most, released)) = tokio::join!(consume, control);
            assert!(
                released > 0,
                "parallel({n}): the first range was never held"
            );
            assert_eq!(most, cap, "parallel({n}): at most {most} pages held");
        }
    })
    .await
}

#[tokio::test]
async fn what_cannot_be_sharded_is_refused_before_sending() {
    support::within(async {
        let server = server(50).await;
        let c = client(&server);
        for (what, request) in [
            (
                "sort",
                c.total_levels()
                    .sort(Sort::desc(SortField::ProductId))
                    .parallel(3),
            ),
            (
                "sort",
                c.total_levels().sort(Sort::asc(SortField::Sku)).parallel(3),
            ),
            ("count", c.total_levels().count(true).parallel(3)),
            (
                "product id",
                c.total_levels().fields([LevelField::QtyOnHand]).parallel(3),
            ),
            ("at least 1", c.total_levels().parallel(0)),
        ] {
            let err = request.pages().next().await.unwrap().unwrap_err();
            assert!(err.is_invalid_request(), "{what}: {err}");
            assert!(err.to_string().contains(what), "{what}: {err}");
        }
        assert!(server.requests().is_empty(), "nothing may be sent");
    })
    .await
}

/// A server that tells its limits (the vendor's headers on every answer) is refused
/// nothing: slow start sends one request before the first answer, which caps the rate and
/// the requests at once.
///
/// Exactly nothing, however the machine stalls: the client then holds at most 2 slots
/// (a request takes its slot before its send time), and its send times are at least
/// 1/19.4 s apart (97 % of the 20 a second the server tells), bar the first two (the first
/// answer is not yet in). A request goes later than its time (a stall), never earlier, so
/// `w` seconds see at most the 2 held back plus `2 + 19.4 w` arrivals, within the
/// `4 + 20 w` a bucket of 4 at 20 a second admits. The server counts a request running
/// until its handler returns, before the client has its answer and frees the slot, so
/// the cap of 2 at once is never exceeded either.
#[tokio::test]
async fn a_server_that_tells_its_limits_is_refused_nothing() {
    support::within(async {
        let limited = MockServer::start(
            MockConfig::default()
                .dataset(Dataset::generate(600, 7))
                .rate_limit(20.0, 4)
                .max_concurrent(2)
                .latency(
                    std::time::Duration::from_millis(20),
                    std::time::Duration::ZERO,
                ),
        )
        .await
        .unwrap();
        let want = sequential(&client(&server(600).await), 30, None).await;
        // The client's defaults (10 a second, 5 at once) with a rate above the server's,
        // and 5 workers.
        let c = client_with(
            &limited,
            RateLimits::default().per_second(100).concurrent(5),
            RetryPolicy::default(),
        );
        let got = parallel(&c, 5, 30, None).await;
        assert_eq!(got, want);
        let counts = limited.limit_counts();
        assert_eq!(
            (counts.rate_limited, counts.over_concurrency),
            (0, 0),
            "{counts}"
        );
        let stats = c.limiter_stats().unwrap();
        assert_eq!(stats.current_concurrency, 2, "{stats:?}");
        assert!(stats.current_rate <= 20.0, "{stats:?}");
        limited.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn the_limiter_keeps_a_parallel_export_within_the_servers_limits() {
    support::within(async {
        // A server that allows 2 at once and 40 a second in bursts of 5; a client that
        // thinks it may send 8 at once and 100 a second, and asks for 8 workers.
        let config = || {
            MockConfig::default()
                .dataset(Dataset::generate(1500, 7))
                .rate_limit(40.0, 5)
                .max_concurrent(2)
                .latency(
                    std::time::Duration::from_millis(20),
                    std::time::Duration::ZERO,
                )
        };
        let retry = RetryPolicy::default()
            .max_attempts(10)
            .initial_delay(std::time::Duration::from_millis(20));

        // Without client-side limits the server refuses requests (and retries recover).
        let unlimited = MockServer::start(config()).await.unwrap();
        let c = client_with(&unlimited, RateLimits::none(), retry.clone());
        // The reference comes from a server without limits (the same data), so it never
        // depends on how fast this machine sends.
        let want = sequential(&client(&server(1500).await), 30, None).await;
        let got = parallel(&c, 8, 30, None).await;
        assert_eq!(got, want);
        let refused_unlimited = unlimited.limit_counts().refused();
        assert!(refused_unlimited > 0, "{}", unlimited.limit_counts());

        // With the adaptive limiter the refusals teach it the server's limits.
        let limited = MockServer::start(config()).await.unwrap();
        let c = client_with(
            &limited,
            RateLimits::default()
                .per_second(100)
                .burst(100)
                .concurrent(8),
            retry,
        );
        let got = parallel(&c, 8, 30, None).await;
        assert_eq!(got, want);
        let stats = c.limiter_stats().unwrap();
        assert!(stats.current_concurrency <= 2, "{stats:?}");
        assert!(stats.current_rate <= 40.0, "{stats:?}");
        let refused_limited = limited.limit_counts().refused();
        assert!(
            refused_limited < refused_unlimited,
            "limited {} vs unlimited {}",
            limited.limit_counts(),
            unlimited.limit_counts()
        );
    })
    .await
}
