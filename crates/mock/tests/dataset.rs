//! Dataset determinism, invariants and the file format, through the server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;
use shipstream_inventory_mock::{Dataset, DatasetError, MockConfig};

async fn all_pages(ds: Dataset, params: &[(&str, &str)]) -> Vec<Value> {
    let server = start(MockConfig::default().dataset(ds)).await;
    let (_, pages) = walk(&server, &url(params)).await;
    pages.iter().map(|p| stable(&p.body)).collect()
}

#[tokio::test]
async fn same_seed_same_bytes() {
    within(async {
        let a = Dataset::generate(700, 99);
        let b = Dataset::generate(700, 99);
        assert_eq!(a.to_ndjson_string(), b.to_ndjson_string());
        assert_ne!(
            a.to_ndjson_string(),
            Dataset::generate(700, 100).to_ndjson_string()
        );
        let params = [
            ("fields:product", "all"),
            ("limit", "100"),
            ("fields", "all"),
        ];
        assert_eq!(all_pages(a, &params).await, all_pages(b, &params).await);
    })
    .await;
}

#[test]
fn invariants_hold_across_seeds() {
    for seed in [0, 1, 2, 42, u64::MAX] {
        let ds = Dataset::generate(5000, seed);
        ds.check_invariants().unwrap();
        let s = ds.stats();
        assert_eq!(s.products, 5000);
        assert!(
            s.disabled > 0 && s.invisible > 0 && s.zero_stock > 0,
            "{s:?}"
        );
        let ids = ds.product_ids();
        assert_eq!(ids[0], 1);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
    assert!(Dataset::empty().is_empty());
    assert_eq!(Dataset::default().len(), 250);
}

#[tokio::test]
async fn ndjson_and_json_files_round_trip() {
    within(async {
        let ds = Dataset::generate(300, 5);
        let dir = tempfile::tempdir().unwrap();

        let nd = dir.path().join("levels.ndjson");
        ds.write_ndjson(std::fs::File::create(&nd).unwrap())
            .unwrap();
        let loaded = Dataset::from_json_file(&nd).unwrap();
        assert_same_lines(&loaded.to_ndjson_string(), &ds.to_ndjson_string());
        assert!(loaded.seed().is_none());
        let loaded2 = Dataset::from_ndjson_file(&nd).unwrap();
        assert_eq!(loaded2.len(), 300);

        // A JSON array of the same records, in reverse order.
        let mut recs = records(&ds);
        recs.reverse();
        let arr = dir.path().join("levels.json");
        std::fs::write(&arr, serde_json::to_string_pretty(&recs).unwrap()).unwrap();
        let from_array = Dataset::from_json_file(&arr).unwrap();
        assert_same_lines(&from_array.to_ndjson_string(), &ds.to_ndjson_string());

        let params = [("fields:product", "all"), ("limit", "50"), ("sort", "sku")];
        assert_eq!(
            all_pages(loaded, &params).await,
            all_pages(ds.clone(), &params).await
        );

        // Records, one by one.
        let rec = ds.record_json(ds.product_ids()[3]).unwrap();
        assert_eq!(rec["type"], "TotalLevel");
        assert!(rec["product"]["product_type"].is_string());
        assert!(ds.record_json(0).is_none());

        match Dataset::from_json_file(dir.path().join("missing.ndjson")) {
            Err(DatasetError::Io { .. }) => {}
            other => panic!("{other:?}"),
        }
        let bad = dir.path().join("bad.ndjson");
        std::fs::write(
            &bad,
            "{\"product\":{\"id\":1,\"sku\":\"A\"}}\n\n{\"product\":{\"id\":\"x\"}}\n",
        )
        .unwrap();
        let err = Dataset::from_json_file(&bad).unwrap_err();
        assert!(
            matches!(err, DatasetError::Invalid { record: 3, .. }),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_minimal_file_serves_valid_pages() {
    within(async {
        let text = r#"{"product":{"id":7,"sku":"ONLY-ONE"},"qty_on_hand":4,"qty_available":4,"qty_advertised":4,"updated_at":"2025-01-02T03:04:05+01:00"}
    {"product":{"id":3,"sku":"OFF","is_enabled":false}}"#;
        let ds = Dataset::from_json_str(text).unwrap();
        let server = start(MockConfig::default().dataset(ds)).await;
        let r = get_with(&server, &[("fields:product", "all")]).await;
        assert_eq!(r.ids(), vec![7]);
        assert_eq!(r.levels()[0]["updated_at"], "2025-01-02T02:04:05Z");
        assert_eq!(r.body["included"]["Product"][0]["goods_type"], "NORMAL");
        let r = get_with(&server, &[("filter", "is_enabled:false")]).await;
        assert_eq!(r.ids(), vec![3]);
    })
    .await;
}
