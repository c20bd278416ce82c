//! Page decoding never panics, and a page that decodes keeps every record the body holds:
//! as many records (each decoded or reported as bad) as the body's `collection` has entries,
//! counted independently: serde_json skipping each entry (`IgnoredAny`), so values that
//! `serde_json::Value` cannot hold (lone surrogate escapes), which cost the decoder only
//! their record, are counted too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;

/// Only the number of entries of `collection`.
#[derive(serde::Deserialize)]
struct Count {
    collection: Vec<IgnoredAny>,
}

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = shipstream_inventory::Page::from_json(data) {
        let in_body = serde_json::from_slice::<Count>(data)
            .expect("a body the decoder accepted is JSON with a collection")
            .collection
            .len();
        assert_eq!(
            page.records().len(),
            in_body,
            "the page lost or invented records"
        );
        for item in page.items() {
            let _ = item.map(|i| (i.sku().map(str::len), i.product_id()));
        }
    }
});
