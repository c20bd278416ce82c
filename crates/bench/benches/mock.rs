//! How many pages a second the mock serves: pages of 1000 levels of a 100,000-level
//! dataset, for a few sorts, fetched one after the other over loopback by a bare reqwest
//! client that reads the body and does not decode it. The client's HTTP work is in the
//! figure, so it is a lower bound of the server's capacity.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shipstream_inventory_bench::{fixtures, server::BackgroundMock};
use shipstream_inventory_mock::{LEVELS_PATH, MockConfig};

const LEVELS: usize = 100_000;

fn mock(c: &mut Criterion) {
    let server =
        BackgroundMock::start(MockConfig::default().dataset(fixtures::dataset_with_levels(LEVELS)))
            .expect("the mock starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let http = reqwest::Client::new();
    let base = server.base_url().to_owned();
    let token = server.token().to_owned();

    let mut group = c.benchmark_group("mock");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    for (name, query) in [
        ("product_id", "limit=1000&sort=product_id"),
        ("sku_desc", "limit=1000&sort=-sku"),
        ("updated_at_desc", "limit=1000&sort=-updated_at"),
        (
            "product_id_products_all",
            "limit=1000&sort=product_id&fields:product=all",
        ),
    ] {
        // Every page URI of the export, fetched in turn.
        let uris: Vec<String> = runtime.block_on(async {
            let mut uris = vec![format!("{LEVELS_PATH}?{query}")];
            loop {
                let url = format!("{base}{}", uris[uris.len() - 1]);
                let body = http
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
                match page["next"].as_str() {
                    Some(next) if page["has_more"] == true => uris.push(next.to_owned()),
                    _ => break,
                }
            }
            uris
        });
        let mut i = 0;
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                let url = format!("{base}{}", uris[i % uris.len()]);
                i += 1;
                let (http, token) = (&http, &token);
                async move {
                    let response = http.get(&url).bearer_auth(token).send().await.unwrap();
                    assert!(response.status().is_success());
                    response.bytes().await.unwrap().len()
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, mock);
criterion_main!(benches);
