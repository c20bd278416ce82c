//! `levels --rate-limit`: against a mock that enforces a rate (two requests a second,
//! bursts of one, and says so in its rate-limit headers), `--rate-limit 2` keeps to it
//! (the mock refuses nothing) while `--rate-limit 0`, no client-side limits, is refused
//! and retried; both export every level. Only the mock's counters are compared: a slower
//! machine only sends fewer requests a second, which cannot make `--rate-limit 2` refused,
//! and `--rate-limit 0` is refused unless a request takes half a second.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Mock, ndjson_ids};
use shipstream_inventory_mock::{Dataset, LimitCounts, MockConfig};

/// Exports 40 levels (by product id) in 10-level pages with `--rate-limit rate` from a fresh limited mock: the
/// NDJSON output and what the mock admitted and refused.
fn export(rate: &str) -> (String, LimitCounts) {
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(40, 42))
            .rate_limit(2.0, 1)
            .record_requests(false),
    );
    let out = mock
        .cli()
        .args([
            "levels",
            "--page-size",
            "10",
            "--format",
            "ndjson",
            "--sort",
            "product_id",
        ])
        .args(["--rate-limit", rate])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    (stdout, mock.server().limit_counts())
}

#[test]
fn rate_limit_keeps_to_the_servers_rate_and_zero_turns_the_limits_off() {
    let (limited, kept) = export("2");
    assert_eq!(kept.refused(), 0, "--rate-limit 2: {kept}");

    // The contrast that shows the mock enforces the rate this test relies on.
    let (unlimited, off) = export("0");
    assert!(off.rate_limited > 0, "--rate-limit 0: {off}");
    assert_eq!(off.admitted, kept.admitted, "the same pages: {off}; {kept}");

    // Refused requests were retried: both exports hold every level of an enabled product
    // (the API's default), the same records.
    let ds = Dataset::generate(40, 42);
    let enabled: Vec<i64> = ds
        .product_ids()
        .into_iter()
        .filter(|&id| ds.record_json(id).unwrap()["product"]["is_enabled"] == true)
        .map(|id| id as i64)
        .collect();
    assert_eq!(ndjson_ids(&limited), enabled);
    assert_eq!(limited, unlimited);
}
