//! Fault soak: a full export through the mock server while it injects, under a fixed
//! seed, 10 % 5xx, 5 % 429 (`Retry-After: 0`), 2 % connections dropped mid-body and 1 %
//! truncated bodies. Every level must arrive exactly once and in order, each whole record
//! equal to the same export from a fault-free server (the reference), every failed request
//! must cost exactly one retry (no more), and nothing may panic.
//!
//! 100,000 levels by default (page size 1000, so about 100 pages and 20 retries);
//! `SOAK_LEVELS=N` scales it, `SOAK_SEED=N` changes the seed. Run with `--nocapture` to
//! see the fault counts, for example:
//!
//! ```sh
//! cargo test -p shipstream-inventory-contract-tests --test soak -- --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::within;

use std::time::{Duration, Instant};

use futures::TryStreamExt as _;
use shipstream_inventory::{Client, Item, RetryPolicy, Sort, SortField};
use shipstream_inventory_mock::{Dataset, FaultCounts, Faults, MockConfig, MockServer, NextStyle};

/// The fault mix of the issue.
const FAULTS: &str = "status=500|502|503:rate=0.1;status=429:rate=0.05:retry-after=0;drop:rate=0.02;truncate:rate=0.01";

/// The probability that one request fails, from the rates above (the two status rules
/// draw independently; a drop or truncation only hits a 200).
fn failure_rate() -> f64 {
    1.0 - (1.0 - 0.10) * (1.0 - 0.05) * (1.0 - 0.02) * (1.0 - 0.01)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Short waits so the soak stays fast, and attempts enough that these rates never
/// exhaust them (0.17^30 per page).
fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .initial_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(20))
        .max_attempts(30)
}

/// The ids the export must deliver, in order: enabled products (the endpoint leaves
/// disabled ones out unless a filter names `is_enabled`), by product id.
fn expected_ids(dataset: &Dataset) -> Vec<i64> {
    let mut out: Vec<i64> = dataset
        .product_ids()
        .into_iter()
        .filter(|id| {
            dataset.record_json(*id).unwrap()["product"]["is_enabled"].as_bool() != Some(false)
        })
        .map(|id| i64::try_from(id).unwrap())
        .collect();
    out.sort_unstable();
    out
}

/// A full export (sorted by product id, pages of 1000) as whole records, and its page count.
async fn export(client: &Client, prefetch: bool) -> (u64, Vec<serde_json::Value>) {
    let mut pages = 0u64;
    let mut got = Vec::new();
    let mut stream = std::pin::pin!(
        client
            .total_levels()
            .sort(Sort::asc(SortField::ProductId))
            .page_size(1000)
            .prefetch(prefetch)
            .pages()
    );
    while let Some(page) = stream.try_next().await.unwrap() {
        pages += 1;
        assert_eq!(page.record_errors().count(), 0, "page {pages}");
        for item in page.into_items() {
            let Item { level, .. } = item.unwrap();
            got.push(serde_json::to_value(&level).unwrap());
        }
    }
    (pages, got)
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(server.token())
        .retry_policy(policy())
        .build()
        .unwrap()
}

/// The reference export: the same dataset from a server that injects no fault.
async fn reference(levels: u64) -> Vec<serde_json::Value> {
    let dataset = Dataset::generate(usize::try_from(levels).unwrap(), 42);
    let ids = expected_ids(&dataset);
    let server = MockServer::start(
        MockConfig::default()
            .dataset(dataset)
            .record_requests(false),
    )
    .await
    .unwrap();
    let (_, records) = export(&client(&server), false).await;
    server.shutdown().await;
    let got: Vec<i64> = records
        .iter()
        .map(|r| r["product"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        got, ids,
        "the reference export is every enabled product, by id"
    );
    records
}

fn describe(c: &FaultCounts) -> String {
    let statuses: Vec<String> = c.status.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    format!(
        "requests {}, statuses {} ({}), dropped {}, truncated {}",
        c.requests,
        c.statuses(),
        statuses.join(", "),
        c.drop,
        c.truncate
    )
}

struct Soak {
    levels: u64,
    seed: u64,
    prefetch: bool,
    next_style: NextStyle,
}

async fn soak(s: Soak) {
    let want = reference(s.levels).await;
    let started = Instant::now();
    let dataset = Dataset::generate(usize::try_from(s.levels).unwrap(), 42);
    let server = MockServer::start(
        MockConfig::default()
            .dataset(dataset)
            .faults(FAULTS.parse::<Faults>().unwrap())
            .next_style(s.next_style)
            .seed(s.seed)
            // 100k recorded requests are not needed; the fault counters number them.
            .record_requests(false),
    )
    .await
    .unwrap();
    let (pages, got) = export(&client(&server), s.prefetch).await;
    let elapsed = started.elapsed();
    let c = server.fault_counts();
    server.shutdown().await;

    // Every level exactly once, in order, each whole record as the reference has it.
    assert_eq!(got.len(), want.len(), "levels delivered");
    if let Some(i) = got.iter().zip(&want).position(|(g, w)| g != w) {
        panic!("level {i} differs:\n got {}\nwant {}", got[i], want[i]);
    }

    // Retries bounded: each failed request was retried exactly once (no request was
    // wasted), and the failures are what the rates predict, with a wide margin.
    let failures = c.statuses() + c.drop + c.truncate;
    assert_eq!(
        c.requests,
        pages + failures,
        "one request per page plus one per injected failure; {}",
        describe(&c)
    );
    let expected_requests = pages as f64 / (1.0 - failure_rate());
    let bound = (expected_requests * 1.5).ceil() as u64 + 10;
    assert!(
        c.requests <= bound,
        "{} requests for {pages} pages exceeds the bound {bound}",
        c.requests
    );
    // At these rates 50 requests without a fault are unlikely (p < 1e-4); smaller soaks
    // (SOAK_LEVELS) may be lucky.
    assert!(
        failures > 0 || c.requests < 50,
        "the soak injected no fault: {}",
        describe(&c)
    );

    println!(
        "soak: {} levels in {pages} pages ({}{}) in {:.1?}; faults injected {failures}, \
         survived {failures}: {}",
        got.len(),
        if s.prefetch { "prefetch, " } else { "" },
        match s.next_style {
            NextStyle::Absolute => "absolute next",
            _ => "relative next",
        },
        elapsed,
        describe(&c),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_100k_levels_through_faults_exactly_once_in_order() {
    within(async {
        soak(Soak {
            levels: env_u64("SOAK_LEVELS", 100_000),
            seed: env_u64("SOAK_SEED", 2025),
            prefetch: false,
            next_style: NextStyle::Relative,
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_with_prefetch_and_absolute_links() {
    within(async {
        soak(Soak {
            levels: env_u64("SOAK_LEVELS", 100_000) / 5,
            seed: env_u64("SOAK_SEED", 2025) + 1,
            prefetch: true,
            next_style: NextStyle::Absolute,
        })
        .await;
    })
    .await;
}
