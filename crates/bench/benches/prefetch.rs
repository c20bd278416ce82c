//! Prefetch on and off, with 20 ms of injected server latency (`latency=20ms`) and 20 ms
//! of consumer work (an async sleep) per page: 20 pages of 1000 levels.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shipstream_inventory_bench::{export, fixtures, server::BackgroundMock};
use shipstream_inventory_mock::{Fault, MockConfig};

/// Pages per iteration.
pub const PAGES: usize = 20;
/// Levels per page.
pub const PAGE_SIZE: u32 = 1000;
/// Server latency and consumer work per page.
pub const DELAY: Duration = Duration::from_millis(20);

fn prefetch(c: &mut Criterion) {
    let levels = PAGES * PAGE_SIZE as usize;
    let server = BackgroundMock::start(
        MockConfig::default()
            .dataset(fixtures::dataset_with_levels(levels))
            .fault(Fault::latency(DELAY)),
    )
    .expect("the mock starts");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let client = export::facade_client(server.base_url(), server.token()).unwrap();
    runtime.block_on(async {
        let n = export::pages_with_work(&client, PAGE_SIZE, true, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(n as usize, levels);
    });

    let mut group = c.benchmark_group("prefetch");
    group.throughput(Throughput::Elements(PAGES as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(12));
    for (name, on, work) in [
        ("off", false, DELAY),
        ("on", true, DELAY),
        // Without consumer work: the chain of fetches alone, the floor of `on`.
        ("fetch_only", false, Duration::ZERO),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                export::pages_with_work(&client, PAGE_SIZE, on, work)
                    .await
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, prefetch);
criterion_main!(benches);
