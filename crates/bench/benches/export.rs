//! Exporting 100,000 levels (pages of 1000, `sort=product_id`) over loopback from the mock
//! (on its own thread and runtime) as NDJSON into a counting sink: the facade, the facade
//! through `pages()`, a hand-written reqwest + serde_json loop, and the raw generated
//! client. The openapi-generator peer runs only in `cargo xtask bench` (a separate cargo
//! project).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shipstream_inventory_bench::{export, fixtures, paired, server::BackgroundMock};
use shipstream_inventory_mock::MockConfig;

/// Levels exported per iteration (override with `BENCH_EXPORT_LEVELS`).
fn levels() -> usize {
    std::env::var("BENCH_EXPORT_LEVELS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn export(c: &mut Criterion) {
    let levels = levels();
    let server =
        BackgroundMock::start(MockConfig::default().dataset(fixtures::dataset_with_levels(levels)))
            .expect("the mock starts");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let client = export::facade_client(server.base_url(), server.token()).unwrap();
    let http = export::handwritten_client(server.base_url(), server.token()).unwrap();
    // Warm up the server's sort order and both connection pools; check the counts.
    runtime.block_on(async {
        let n = export::handwritten(&http, server.base_url(), &mut export::sink())
            .await
            .unwrap();
        assert_eq!(n as usize, levels);
        let n = export::facade(&client, &mut export::sink()).await.unwrap();
        assert_eq!(n as usize, levels);
    });

    let mut group = c.benchmark_group("export");
    group.throughput(Throughput::Elements(levels as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("facade", |b| {
        b.to_async(&runtime)
            .iter(|| async { export::facade(&client, &mut export::sink()).await.unwrap() })
    });
    group.bench_function("handwritten", |b| {
        b.to_async(&runtime).iter(|| async {
            export::handwritten(&http, server.base_url(), &mut export::sink())
                .await
                .unwrap()
        })
    });
    group.bench_function("facade_pages", |b| {
        b.to_async(&runtime).iter(|| async {
            export::facade_pages(&client, &mut export::sink())
                .await
                .unwrap()
        })
    });
    group.bench_function("generated", |b| {
        b.to_async(&runtime).iter(|| async {
            export::generated(client.generated(), &mut export::sink())
                .await
                .unwrap()
        })
    });
    group.finish();

    // The target's pair: the facade and the hand-written loop, alternately.
    if paired::dir().is_some() {
        let rounds = if paired::quick() { 4 } else { 12 };
        paired::measure(
            "export",
            rounds,
            1,
            || {
                runtime
                    .block_on(export::facade(&client, &mut export::sink()))
                    .unwrap();
            },
            || {
                runtime
                    .block_on(export::handwritten(
                        &http,
                        server.base_url(),
                        &mut export::sink(),
                    ))
                    .unwrap();
            },
        )
        .expect("the pair is written");
    }
}

criterion_group!(benches, export);
criterion_main!(benches);
