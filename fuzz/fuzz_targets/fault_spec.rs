//! The mock's fault specification (`--fault`, `MockConfig::faults`) never panics, and a
//! specification it accepts prints as one it reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shipstream_inventory_mock::Faults;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(faults) = text.parse::<Faults>() {
        let printed = faults.to_string();
        let again: Faults = printed
            .parse()
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which is refused: {e}"));
        assert_eq!(again.to_string(), printed, "printing is not stable for {text:?}");
    }
});
