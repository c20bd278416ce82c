//! A full export at `limit=1000`. Small by default; set `MOCK_SCALE_PRODUCTS=1000000` and
//! run in release to measure the real thing:
//!
//! ```text
//! MOCK_SCALE_PRODUCTS=1000000 cargo test --release -p shipstream-inventory-mock \
//!     --test scale -- --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::*;
use shipstream_inventory_contract_tests::spec;
use shipstream_inventory_mock::{Dataset, MockConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_export_at_limit_1000() {
    within(async {
        let n: usize = std::env::var("MOCK_SCALE_PRODUCTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        let t = Instant::now();
        let ds = Dataset::generate(n, 2025);
        let generated = t.elapsed();
        let stats = ds.stats();
        eprintln!(
            "generated {n} products in {generated:?}; {} MiB ({} bytes/product)",
            stats.heap_bytes >> 20,
            stats.heap_bytes / n.max(1)
        );
        assert!(stats.heap_bytes / n.max(1) < 400);
        if !cfg!(debug_assertions) {
            assert!(
                generated.as_secs_f64() < 1e-5 * n as f64 + 0.5,
                "{generated:?}"
            );
        }
        let server = start(MockConfig::default().dataset(ds).record_requests(false)).await;
        let http = client();
        for sort in ["product_id", "-updated_at"] {
            let t = Instant::now();
            let mut uri = url(&[
                ("limit", "1000"),
                ("sort", sort),
                ("filter", "is_enabled{in:[true,false]}"),
            ]);
            let mut seen = 0usize;
            let mut pages = 0usize;
            let mut bytes = 0usize;
            let mut last_id = 0u64;
            let mut parsing = std::time::Duration::ZERO;
            loop {
                let resp = http
                    .get(resolve(&server, &uri))
                    .bearer_auth(server.token())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
                let body = resp.bytes().await.unwrap();
                bytes += body.len();
                let p = Instant::now();
                let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
                parsing += p.elapsed();
                if pages == 0 {
                    spec::validate_response(200, &page).unwrap();
                }
                let levels = page["collection"].as_array().unwrap();
                if sort == "product_id" {
                    for l in levels {
                        let id = l["product"]["id"].as_u64().unwrap();
                        assert!(id > last_id);
                        last_id = id;
                    }
                }
                seen += levels.len();
                pages += 1;
                match page["next"].as_str() {
                    Some(next) => uri = next.to_owned(),
                    None => break,
                }
            }
            assert_eq!(seen, n);
            eprintln!(
                "sort={sort}: {pages} pages, {} MiB in {:?} (of which the client's JSON parsing {parsing:?})",
                bytes >> 20,
                t.elapsed()
            );
        }
        server.shutdown().await;
    })
    .await;
}
