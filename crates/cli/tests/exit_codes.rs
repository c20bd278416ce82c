//! Every documented exit code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Mock, cli};
use predicates::prelude::*;

// ---- 2: usage or bad input ----

#[test]
fn a_bad_filter_exits_2_with_a_caret_before_any_request() {
    let mock = Mock::with(10, "");
    mock.cli()
        .args(["levels", "--filter", "qty_available{foo:1}"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "unknown operator `foo` at column 15",
        ))
        .stderr(predicate::str::contains(
            "  qty_available{foo:1}\n                ^",
        ));
    mock.cli()
        .args(["levels", "--filter", "no_such_field:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("^"));
    assert_eq!(mock.requests(), 0, "nothing was sent");
}

#[test]
fn bad_options_exit_2() {
    for args in [
        &["levels", "--page-size", "0"][..],
        &["levels", "--page-size", "1001"],
        &["levels", "--page-size", "ten"],
        &["levels", "--max-items", "0"],
        &["levels", "--sort", "price"],
        &["levels", "--fields", "colour"],
        &["levels", "--updated-since", "yesterday"],
        &["levels", "--format", "xml"],
        &["levels", "--checkpoint", "x.json"],
        &["levels", "--demo", "--url", "https://acme.shipstream.app"],
        &["levels", "--token", "abc"],
        &["nope"],
    ] {
        cli().args(args).assert().code(2);
    }
}

#[test]
fn checkpoints_need_an_appendable_format() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["json", "table"] {
        cli()
            .current_dir(dir.path())
            .args([
                "levels",
                "--demo",
                "--checkpoint",
                "c.json",
                "--output",
                "o",
            ])
            .args(["--format", format])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("ndjson or csv"));
    }
}

#[test]
fn a_missing_url_or_token_exits_2() {
    cli()
        .args(["levels"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("SHIPSTREAM_URL"));
    cli()
        .env("SHIPSTREAM_URL", "https://acme.shipstream.app")
        .args(["levels"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("SHIPSTREAM_TOKEN"));
    cli()
        .env("SHIPSTREAM_URL", "https://acme.shipstream.app")
        .args(["levels", "--token-file", "/no/such/file"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/no/such/file"));
    cli()
        .env("SHIPSTREAM_URL", "http://acme.shipstream.app")
        .env("SHIPSTREAM_TOKEN", "t")
        .args(["levels"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("https://"));
    cli()
        .env("SHIPSTREAM_URL", "https://acme.shipstream.app")
        .env("SHIPSTREAM_TOKEN", "t")
        .args(["levels", "--api-version", "2025-13"])
        .assert()
        .code(2);
}

// ---- 3: authentication ----

#[test]
fn a_wrong_token_exits_3() {
    let mock = Mock::with(10, "");
    mock.cli()
        .env("SHIPSTREAM_TOKEN", "wrong")
        .args(["levels"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("401"))
        .stderr(predicate::str::contains("wrong").not());
}

#[test]
fn an_expired_token_exits_3_without_sending() {
    let mock = Mock::with(10, "");
    // {"alg":"HS256","typ":"JWT"} . {"exp":1000000000} . sig
    let expired = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjEwMDAwMDAwMDB9.sig";
    mock.cli()
        .env("SHIPSTREAM_TOKEN", expired)
        .args(["levels"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("expired"));
    assert_eq!(mock.requests(), 0);
}

// ---- 4: other API errors ----

#[test]
fn a_400_or_404_exits_4() {
    for status in ["400", "404"] {
        let mock = Mock::with(10, &format!("status={status}"));
        mock.cli()
            .args(["levels"])
            .assert()
            .code(4)
            .stderr(predicate::str::contains(format!("HTTP {status}")));
        assert_eq!(mock.requests(), 1, "a {status} is not retried");
    }
}

#[test]
fn an_error_on_a_later_page_keeps_the_earlier_pages() {
    let mock = Mock::with(40, "status=400:nth=3");
    let out = mock
        .cli()
        .args(["levels", "--sort", "product_id", "--page-size", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 10);
}

// ---- 5: network ----

#[test]
fn nothing_listening_exits_5() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    cli()
        .env("SHIPSTREAM_URL", format!("http://127.0.0.1:{port}"))
        .env("SHIPSTREAM_TOKEN", "t")
        .args(["levels"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("after 5 attempts"));
}

// ---- 6: pagination or contract ----

#[test]
fn a_repeated_next_exits_6_after_writing_the_pages_before_it() {
    let mock = Mock::with(40, "repeat-next:nth=2");
    let out = mock
        .cli()
        .args(["levels", "--sort", "product_id", "--page-size", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("repeats a page"));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 10);
}

#[test]
fn an_off_origin_next_exits_6() {
    let mock = Mock::with(40, "offorigin-next:nth=1");
    mock.cli()
        .args(["levels", "--page-size", "5"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("another origin"));
}

#[test]
fn an_undecodable_page_exits_6() {
    let mock = Mock::with(10, "truncate");
    mock.cli()
        .args(["levels"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("damaged or cut short"));
}

#[test]
fn an_undecodable_record_is_reported_and_the_export_goes_on_then_exits_6() {
    // The mock serves only valid records, so a hand-written page stands in for a server
    // whose records drift from the spec.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(wiremock::MockServer::start());
    let page = serde_json::json!({
        "collection": [
            {"type": "TotalLevel", "product": {"type": "Product", "id": 1, "sku": "A"}, "qty_on_hand": 1},
            {"type": "TotalLevel", "product": {"type": "Product", "id": 2, "sku": "B"}, "qty_on_hand": "many"},
            {"type": "TotalLevel", "product": {"type": "Product", "id": 3, "sku": "C"}, "qty_on_hand": 3}
        ],
        "has_more": false,
        "next": null
    });
    rt.block_on(
        wiremock::Mock::given(wiremock::matchers::path(
            "/api/global/v1/inventory/levels/total",
        ))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(page))
        .mount(&server),
    );
    let out = cli()
        .env("SHIPSTREAM_URL", server.uri())
        .env("SHIPSTREAM_TOKEN", "t")
        .args(["levels"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let ids = common::ndjson_ids(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(ids, [1, 3]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("collection[1]"), "{stderr}");
    assert!(
        stderr.contains(r#""qty_on_hand":"many""#),
        "raw JSON: {stderr}"
    );
    assert!(stderr.contains("invalid type"), "reason: {stderr}");
    assert!(
        stderr.contains("1 record(s) could not be decoded"),
        "{stderr}"
    );
}
