//! The filter parser never panics, and whatever it accepts renders to text that parses
//! back to the same filter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shipstream_filter::Filter;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Filter::parse(text) {
        Ok(filter) => {
            let rendered = filter.render();
            let again = Filter::parse(&rendered).expect("a rendered filter parses");
            assert_eq!(again, filter, "round trip of {text:?} via {rendered:?}");
            let _ = filter.validate();
            let _ = filter.matches(&serde_json::Value::Null);
        }
        Err(e) => {
            assert!(e.offset() <= text.len());
            let _ = e.to_string();
        }
    }
});
