//! The example of the README's "Contract-testing your integration" section, verbatim, so
//! that what users copy compiles and passes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::TryStreamExt as _;
use shipstream_inventory::{Client, Sort, SortField};
use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};

#[tokio::test]
async fn my_sync_handles_a_full_export() {
    // 1,000 deterministic products (same seed, same data, everywhere).
    let server = MockServer::start(MockConfig::default().dataset(Dataset::generate(1000, 7)))
        .await
        .unwrap();
    let client = Client::builder()
        .base_url(server.base_url()) // http://127.0.0.1:PORT (plain http is fine on loopback)
        .token(server.token())
        .build()
        .unwrap();

    let levels: Vec<_> = client
        .total_levels()
        .sort(Sort::asc(SortField::ProductId))
        .page_size(100)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(levels.len() > 900); // disabled products are left out unless filtered for

    // Every request the mock received, decoded (the token is redacted).
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.status == 200));
    assert_eq!(requests[0].query_values("limit"), ["100"]);
    server.shutdown().await;
}

#[test]
fn the_readme_holds_this_example() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let this = include_str!("contract_readme.rs");
    let start = this.find("#[tokio::test]").unwrap();
    let end = this.find("#[test]\nfn the_readme").unwrap();
    let body = this[start..end].trim();
    assert!(
        readme.contains(body),
        "README.md's example and tests/tests/contract_readme.rs differ"
    );
}
