//! Prefetch on and off, with 20 ms of injected server latency (`latency=20ms`) and 20 ms
//! of consumer work (an async sleep) per page: 20 pages of 1000 levels.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shipstream_inventory_bench::{export, fixtures, paired, server::BackgroundMock};
use shipstream_inventory_mock::{Fault, MockConfig};

/// Pages per iteration.
pub const PAGES: usize = 20;
/// Levels per page.
pub const PAGE_SIZE: u32 = 1000;
/// Server latency and consumer work per page.
pub const DELAY: Duration = Duration::from_millis(20);

fn prefetch(c: &mut Criterion) {
    let levels = PAGES * PAGE_SIZE as usize;
    let dataset = fixtures::dataset_with_levels(levels);
    let server = BackgroundMock::start(
        MockConfig::default()
            .dataset(dataset.clone())
            .fault(Fault::latency(DELAY)),
    )
    .expect("the mock starts");
    // The same pages without the injected latency: what transfer and decoding cost.
    let fast =
        BackgroundMock::start(MockConfig::default().dataset(dataset)).expect("the mock starts");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let client = export::facade_client(server.base_url(), server.token()).unwrap();
    let fast_client = export::facade_client(fast.base_url(), fast.token()).unwrap();
    runtime.block_on(async {
        for c in [&client, &fast_client] {
            let n = export::pages_with_work(c, PAGE_SIZE, true, Duration::ZERO)
                .await
                .unwrap();
            assert_eq!(n as usize, levels);
        }
    });

    let mut group = c.benchmark_group("prefetch");
    group.throughput(Throughput::Elements(PAGES as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(12));
    for (name, client, on, work) in [
        ("off", &client, false, DELAY),
        ("on", &client, true, DELAY),
        // Without consumer work: the chain of requests alone, the floor of `on`.
        ("fetch_only", &client, false, Duration::ZERO),
        // The same without the injected latency: transfer and decoding alone.
        ("fetch_only_no_latency", &fast_client, false, Duration::ZERO),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                export::pages_with_work(client, PAGE_SIZE, on, work)
                    .await
                    .unwrap()
            })
        });
    }
    group.finish();

    // The target's pair: prefetch off and on, alternately.
    if paired::dir().is_some() {
        let rounds = if paired::quick() { 4 } else { 10 };
        let walk = |on: bool| {
            runtime
                .block_on(export::pages_with_work(&client, PAGE_SIZE, on, DELAY))
                .unwrap();
        };
        paired::measure("prefetch", rounds, 1, || walk(false), || walk(true))
            .expect("the pair is written");
    }
}

criterion_group!(benches, prefetch);
criterion_main!(benches);
