//! Benchmarks of the `shipstream-inventory` SDK: what the facade costs next to
//! a minimal hand-written client, and that an export's memory stays flat.
//!
//! The criterion benches in `benches/` use this library; `cargo xtask bench` runs them,
//! adds the measurements that need release binaries or other toolchains (peak RSS of the
//! CLI, the openapi-generator peer, build times) and writes `BENCHMARKS.md`.
//!
//! - [`server`]: the mock server on its own thread and runtime, so its work is not
//!   charged to the client's runtime;
//! - [`fixtures`]: page bodies served by the mock, for the decode benches;
//! - [`minimal`]: the hand-written serde structs the facade is compared with;
//! - [`export`]: the export peers (facade, hand-written reqwest loop, raw generated
//!   client), all writing the same NDJSON to the same kind of sink;
//! - [`paired`]: the side-by-side (alternating) measurements the targets are judged on;
//! - [`suite`]: the suites `cargo xtask bench` runs (through the `suites` binary) and the
//!   writing of `BENCHMARKS.md`.
//!
//! Nothing here asserts on time: the tests only check that the peers produce the same
//! output.

pub mod export;
pub mod fixtures;
pub mod minimal;
pub mod paired;
pub mod server;
pub mod suite;

/// Seed of every benchmark dataset.
pub const SEED: u64 = 8;

/// The page size of the export benchmarks (the API's maximum).
pub const PAGE_SIZE: u32 = 1000;
