//! Page decoding never panics, and a page that decodes keeps every record it was given
//! (decoded or reported).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = shipstream_inventory::Page::from_json(data) {
        let records = page.records().len();
        assert_eq!(page.levels().count() + page.records().iter().filter(|r| r.is_err()).count(), records);
        for item in page.items() {
            let _ = item.map(|i| (i.sku().map(str::len), i.product_id()));
        }
    }
});
