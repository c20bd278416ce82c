//! The mock server's query parsing and validation never panics, whatever the query string.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(raw) = std::str::from_utf8(data) {
        let _ = shipstream_inventory_mock::fuzzing::parse_query(raw);
    }
});
