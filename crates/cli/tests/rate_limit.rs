//! `levels --rate-limit`: against a mock that enforces two requests a second (bursts of
//! two) and says nothing about it (no rate-limit headers, so the client cannot learn the
//! rate from them), `--rate-limit 1` is refused nothing while the client's default rate
//! (ten a second) and `--rate-limit 0`, no client-side limits, are refused and retried;
//! every export holds every level.
//!
//! Why `--rate-limit 1` can never be refused, however slow or stalled the machine: the
//! export sends one request at a time (the next page needs this page's `next`), and its
//! limiter gives each request a send time at least a second after the previous one's. A
//! request can go later than its time (a stall), never earlier, and only one is waiting
//! at a time, so any stretch of `w` seconds sees at most `2 + w` arrivals: within what a
//! bucket of two tokens refilled twice a second admits (`2 + 2w`). A client that ignored
//! `N` would send ten a second and be refused unless each request took a quarter second
//! (eight pages give it every chance).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Mock, ndjson_ids};
use shipstream_inventory_mock::{Dataset, LimitCounts, MockConfig};

/// Exports 40 levels (by product id) in 5-level pages with `--rate-limit rate` (none:
/// the default) from a fresh limited mock that sends no rate-limit headers: the NDJSON
/// output and what the mock admitted and refused.
fn export(rate: Option<&str>) -> (String, LimitCounts) {
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(40, 42))
            .rate_limit(2.0, 2)
            .limit_headers(false)
            .record_requests(false),
    );
    let mut cli = mock.cli();
    cli.args([
        "levels",
        "--page-size",
        "5",
        "--format",
        "ndjson",
        "--sort",
        "product_id",
    ]);
    if let Some(rate) = rate {
        cli.args(["--rate-limit", rate]);
    }
    let out = cli.assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    (stdout, mock.server().limit_counts())
}

#[test]
fn rate_limit_keeps_to_a_rate_the_server_does_not_tell_and_zero_turns_the_limits_off() {
    let (limited, kept) = export(Some("1"));
    assert_eq!(kept.refused(), 0, "--rate-limit 1: {kept}");

    // The contrasts that show the mock enforces the rate and that N is what kept to it.
    let (default, refused) = export(None);
    assert!(refused.rate_limited > 0, "the default rate: {refused}");
    let (unlimited, off) = export(Some("0"));
    assert!(off.rate_limited > 0, "--rate-limit 0: {off}");
    assert_eq!(off.admitted, kept.admitted, "the same pages: {off}; {kept}");

    // Refused requests were retried: every export holds every level of an enabled product
    // (the API's default), the same records.
    let ds = Dataset::generate(40, 42);
    let enabled: Vec<i64> = ds
        .product_ids()
        .into_iter()
        .filter(|&id| ds.record_json(id).unwrap()["product"]["is_enabled"] == true)
        .map(|id| id as i64)
        .collect();
    assert_eq!(ndjson_ids(&limited), enabled);
    assert_eq!(limited, default);
    assert_eq!(limited, unlimited);
}
