//! Decoding one page (1000 levels and their 1000 included products, from memory) into the
//! facade's types, the generated types, a minimal hand-written struct and
//! `serde_json::Value`. See `shipstream_inventory_bench::minimal` for what the
//! hand-written structs decode.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use shipstream_inventory_bench::{fixtures, minimal, paired};
use shipstream_inventory_generated::types::TotalLevelsPage;

fn decode(c: &mut Criterion) {
    let body = fixtures::decode_page().expect("the mock serves the decode page");
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("facade", |b| {
        b.iter(|| shipstream_inventory::Page::from_json(black_box(&body)).unwrap())
    });
    group.bench_function("minimal", |b| {
        b.iter(|| serde_json::from_slice::<minimal::Page>(black_box(&body)).unwrap())
    });
    group.bench_function("minimal_subset", |b| {
        b.iter(|| serde_json::from_slice::<minimal::SyncPage>(black_box(&body)).unwrap())
    });
    group.bench_function("generated", |b| {
        b.iter(|| serde_json::from_slice::<TotalLevelsPage>(black_box(&body)).unwrap())
    });
    group.bench_function("value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())
    });
    group.finish();

    // The pages of an export: 1000 levels, no products.
    let body = fixtures::page_body(1100, fixtures::EXPORT_QUERY).expect("the mock serves a page");
    let mut group = c.benchmark_group("decode_levels");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("facade", |b| {
        b.iter(|| shipstream_inventory::Page::from_json(black_box(&body)).unwrap())
    });
    group.bench_function("minimal", |b| {
        b.iter(|| serde_json::from_slice::<minimal::Page>(black_box(&body)).unwrap())
    });
    group.bench_function("generated", |b| {
        b.iter(|| serde_json::from_slice::<TotalLevelsPage>(black_box(&body)).unwrap())
    });
    group.finish();
}

/// The target's pair: the facade and the minimal struct, alternately.
fn decode_paired() {
    if paired::dir().is_none() {
        return;
    }
    let body = fixtures::decode_page().expect("the mock serves the decode page");
    let rounds = if paired::quick() { 10 } else { 40 };
    paired::measure(
        "decode",
        rounds,
        5,
        || {
            black_box(shipstream_inventory::Page::from_json(black_box(&body)).unwrap());
        },
        || {
            black_box(serde_json::from_slice::<minimal::Page>(black_box(&body)).unwrap());
        },
    )
    .expect("the pair is written");
}

criterion_group!(benches, decode);

fn main() {
    benches();
    decode_paired();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
