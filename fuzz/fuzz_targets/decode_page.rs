//! Page decoding never panics, and a page that decodes keeps every record the body holds:
//! as many records (decoded or reported as bad) as the body's `collection` has entries,
//! counted independently with a plain `serde_json::Value`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = shipstream_inventory::Page::from_json(data) {
        let body: serde_json::Value =
            serde_json::from_slice(data).expect("a body the decoder accepted is JSON");
        let in_body = body["collection"].as_array().map_or(0, Vec::len);
        assert_eq!(
            page.records().len(),
            in_body,
            "the page lost or invented records"
        );
        assert_eq!(
            page.levels().count() + page.record_errors().count(),
            in_body,
            "every record is either a level or a record error"
        );
        for item in page.items() {
            let _ = item.map(|i| (i.sku().map(str::len), i.product_id()));
        }
    }
});
