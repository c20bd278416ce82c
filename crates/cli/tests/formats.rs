//! Every output format against the mock server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Mock, ndjson_ids};
use predicates::prelude::*;

/// The mock's levels for `query`, each with its included product merged into `product`
/// (what the NDJSON export promises).
fn merged_levels(mock: &Mock, query: &str) -> Vec<serde_json::Value> {
    let page = mock.page(query);
    let products = page["included"]["Product"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    page["collection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|level| {
            let mut level = level.clone();
            let id = level["product"]["id"].clone();
            if let Some(p) = products.iter().find(|p| p["id"] == id)
                && let (Some(stub), Some(fields)) =
                    (level["product"].as_object_mut(), p.as_object())
            {
                stub.extend(fields.clone());
            }
            level
        })
        .collect()
}

fn stdout(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_product_field_the_spec_does_not_list_is_sent_as_given_with_a_warning() {
    // The API selects fields of packaging objects too: `fields:product` is an open list.
    let mock = Mock::with(30, "");
    let out = mock
        .cli()
        .args([
            "levels",
            "--sort",
            "product_id",
            "--max-items",
            "3",
            "--product-fields",
            "name,packaging_type",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .collect::<Vec<_>>(),
        [
            "warning: `packaging_type` is not a product field this client's spec lists; it is \
             sent as given (the API also selects fields of packaging objects), and a field the \
             API does not know comes back absent or is refused with 400"
        ]
    );
    let sent: Vec<_> = mock
        .server()
        .requests()
        .into_iter()
        .flat_map(|r| r.query_pairs)
        .filter(|(k, _)| k == "fields:product")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(sent, ["name,packaging_type"]);
    // The mock, like the API for a name it has no such field for, leaves it out.
    let got: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        got,
        merged_levels(&mock, "sort=product_id&limit=3&fields:product=name")
    );
}

#[test]
fn ndjson_is_the_level_as_the_api_sends_it_with_the_product_merged() {
    let mock = Mock::with(30, "");
    let text = stdout(mock.cli().args([
        "levels",
        "--sort",
        "product_id",
        "--max-items",
        "3",
        "--product-fields",
        "name,is_enabled",
    ]));
    // Each line is the mock's level with the product merged in, values unchanged.
    let expected = merged_levels(
        &mock,
        "sort=product_id&limit=3&fields:product=name,is_enabled",
    );
    let got: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got, expected);
    // Keys are sorted, so the bytes do not depend on the server's order.
    let first = text.lines().next().unwrap();
    assert!(first.starts_with(r#"{"product":{"#), "{first}");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["type"], "TotalLevel");
        assert!(v["product"]["sku"].is_string());
        assert!(
            v["product"]["name"].is_string(),
            "product fields are merged"
        );
        assert!(v["qty_on_hand"].is_i64());
        assert!(v["updated_at"].is_string());
    }
}

#[test]
fn ndjson_is_the_default_when_stdout_is_not_a_terminal() {
    let mock = Mock::with(30, "");
    let text = stdout(mock.cli().args(["levels", "--sort", "product_id"]));
    let ids = ndjson_ids(&text);
    assert!(ids.len() > 20, "{}", ids.len());
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

#[test]
fn csv_has_a_stable_header_and_flattened_product_fields() {
    let mock = Mock::with(30, "");
    let text = stdout(mock.cli().args([
        "levels",
        "--sort",
        "product_id",
        "--max-items",
        "3",
        "--format",
        "csv",
        "--fields",
        "warehouse",
        "--product-fields",
        "name,barcodes,weight",
    ]));
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rows.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header[..6],
        [
            "product.id",
            "product.sku",
            "product.name",
            "product.barcodes",
            "product.weight",
            "warehouse.id"
        ]
    );
    // Then every other scalar property of a level, in the spec's order.
    let rest: Vec<&str> = shipstream_inventory::api::LEVEL_PROPERTIES
        .iter()
        .filter(|p| p.ty != shipstream_inventory::api::JsonType::Object && !p.required)
        .map(|p| p.name)
        .collect();
    assert_eq!(header[6..], rest);
    // Every cell holds the mock's value: text as is, numbers and objects as JSON.
    let levels = merged_levels(
        &mock,
        "sort=product_id&limit=3&fields=warehouse&fields:product=name,barcodes,weight",
    );
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3);
    for (record, level) in records.iter().zip(&levels) {
        for (column, cell) in header.iter().zip(record.iter()) {
            let mut v = level;
            for key in column.split('.') {
                v = &v[key];
            }
            let want = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(cell, want, "{column}");
        }
    }
}

#[test]
fn json_is_one_array() {
    let mock = Mock::with(30, "");
    let text = stdout(mock.cli().args([
        "levels",
        "--sort",
        "product_id",
        "--format",
        "json",
        "--page-size",
        "7",
    ]));
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let ndjson = stdout(mock.cli().args(["levels", "--sort", "product_id"]));
    assert_eq!(all.len(), ndjson.lines().count());
    let small = stdout(mock.cli().args([
        "levels",
        "--sort",
        "product_id",
        "--format",
        "json",
        "--max-items",
        "2",
    ]));
    let two: Vec<serde_json::Value> = serde_json::from_str(&small).unwrap();
    assert_eq!(two, merged_levels(&mock, "sort=product_id&limit=2"));
    let none =
        stdout(
            mock.cli()
                .args(["levels", "--format", "json", "--filter", "sku:NO-SUCH-SKU"]),
        );
    assert_eq!(none, "[]\n");
}

#[test]
fn table_is_aligned_and_fits_the_width() {
    let mock = Mock::with(30, "");
    let wide = stdout(mock.cli().env("COLUMNS", "200").args([
        "levels",
        "--sort",
        "product_id",
        "--max-items",
        "4",
        "--format",
        "table",
        "--product-fields",
        "name",
    ]));
    let lines: Vec<&str> = wide.lines().collect();
    let headers: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(headers[..3], ["product_id", "sku", "name"]);
    // The rest follow the spec's order of a level's properties (a quantity the spec adds
    // at the end comes after `updated_at`: the drill plants one there).
    assert!(
        headers.contains(&"on_hand") && headers.contains(&"updated_at"),
        "{headers:?}"
    );
    assert!(lines[1].chars().all(|c| c == '-' || c == ' '), "{wide}");
    assert_eq!(lines.len(), 2 + 4);
    // Numbers are right-aligned: every row's id ends where the header does.
    let id_end = lines[0].find("product_id").unwrap() + "product_id".len();
    for row in &lines[2..] {
        assert!(
            row[..id_end].ends_with(|c: char| c.is_ascii_digit()),
            "{row}"
        );
    }
    let out = mock
        .cli()
        .env("COLUMNS", "60")
        .args([
            "levels",
            "--sort",
            "product_id",
            "--max-items",
            "4",
            "--format",
            "table",
            "--product-fields",
            "name",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let narrow = String::from_utf8(out.stdout).unwrap();
    let first = narrow.lines().next().unwrap();
    assert!(first.starts_with("product_id  sku"), "{narrow}");
    assert!(narrow.lines().all(|l| l.chars().count() <= 60), "{narrow}");
    assert!(narrow.contains('…'), "long cells are cut with an ellipsis");
    assert!(String::from_utf8_lossy(&out.stderr).contains("left out"));
}

#[test]
fn every_page_is_fetched_by_default() {
    let mock = Mock::with(60, "");
    let big = stdout(mock.cli().args(["levels", "--sort", "product_id"]));
    let before = mock.requests();
    let paged = stdout(
        mock.cli()
            .args(["levels", "--sort", "product_id", "--page-size", "7"]),
    );
    assert_eq!(big, paged, "paging changes nothing");
    let n = big.lines().count();
    assert_eq!(mock.requests() - before, n.div_ceil(7));
}

#[test]
fn max_items_stops_early_even_mid_page() {
    let mock = Mock::with(60, "");
    let text = stdout(
        mock.cli()
            .args(["levels", "--page-size", "2", "--max-items", "5"]),
    );
    assert_eq!(text.lines().count(), 5);
}

#[test]
fn count_prints_the_total_on_stderr() {
    let mock = Mock::with(60, "");
    let out = mock
        .cli()
        .args(["levels", "--count", "--page-size", "10"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines = String::from_utf8(out.stdout).unwrap().lines().count();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("total: {lines} levels match the query")),
        "{stderr}"
    );
}

#[test]
fn filters_and_updated_since_narrow_the_export() {
    let mock = Mock::with(60, "");
    let text = stdout(mock.cli().args([
        "levels",
        "--filter",
        "qty_available{lt:10}",
        "--filter",
        "qty_on_hand{gt:0}",
    ]));
    assert!(!text.is_empty());
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["qty_available"].as_i64().unwrap() < 10);
        assert!(v["qty_on_hand"].as_i64().unwrap() > 0);
    }
    let since = "2025-08-01T00:00:00Z";
    let text = stdout(mock.cli().args(["levels", "--updated-since", since]));
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["updated_at"].as_str().unwrap() > since, "{line}");
    }
    let recorded = mock.server().requests();
    let last = recorded.last().unwrap();
    assert!(
        last.query_values("filter")
            .iter()
            .any(|f| f.starts_with("updated_at{gt:")),
        "{:?}",
        last.query
    );
}

#[test]
fn output_goes_to_the_file() {
    let mock = Mock::with(30, "");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("levels.csv");
    mock.cli()
        .args(["levels", "--format", "csv", "--output"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("product.id,product.sku,"));
}

#[test]
fn the_token_is_never_printed() {
    let mock =
        Mock::start(shipstream_inventory_mock::MockConfig::default().token("tok-SECRET-123"));
    let out = mock
        .cli()
        .env("SHIPSTREAM_TOKEN", "tok-SECRET-123")
        .args(["-vvv", "levels", "--max-items", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("shipstream.request"), "-v logs requests");
    assert!(!stderr.contains("SECRET"), "{stderr}");
}

#[test]
fn the_token_can_come_from_a_file() {
    let mock = Mock::with(10, "");
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{}\n", mock.server().token())).unwrap();
    mock.cli()
        .env_remove("SHIPSTREAM_TOKEN")
        .args(["levels", "--token-file"])
        .arg(&token)
        .assert()
        .success();
}
