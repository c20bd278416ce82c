//! What every contract test binary shares.

pub use shipstream_inventory_contract_tests::within;
