//! A mock of ShipStream's Global API inventory endpoint,
//! `GET /api/global/v1/inventory/levels/total`, for tests, demos and benchmarks of the
//! `shipstream-inventory` SDK.
//!
//! It serves a deterministic, realistic [`Dataset`] (up to millions of products) with the
//! real endpoint's filtering, sorting, field selection and cursor paging, checks the
//! bearer token and API version like the real API, answers errors with the API's error
//! body, and injects [faults](#faults) on demand. Every response body validates against
//! the workspace's `openapi.yaml` (with the `unknown-enum` fault, only when enums are
//! treated as open, as the description tells clients to; with the `bad-record` fault, all
//! but the one record it spoils on purpose).
//!
//! ```
//! use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = MockServer::start(MockConfig::default().dataset(Dataset::generate(10, 1))).await?;
//! let url = format!("{}/api/global/v1/inventory/levels/total", server.base_url());
//! // ... point the client at `url` with `Authorization: Bearer {server.token()}` ...
//! assert_eq!(server.token(), "mock-token");
//! assert!(url.starts_with("http://127.0.0.1:"));
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # The endpoint
//!
//! * **Auth**: `Authorization: Bearer <token>` ([`MockConfig::token`], default
//!   `mock-token`); anything else is a 401 with `WWW-Authenticate: Bearer`.
//! * **Version**: `X-ShipStream-API-Version: YYYY-MM` (or the `version` query parameter;
//!   the header wins). Missing → the latest (the last of [`MockConfig::api_versions`],
//!   which default to the spec's `info.version` alone); malformed, not served (retired or
//!   unknown) or later than the latest → 400 with `X-ShipStream-API-Version-Error` saying
//!   why and naming the latest. The version used is echoed in the
//!   `X-ShipStream-API-Version` response header.
//! * **`filter`** (repeatable, AND) through `shipstream-filter`: every field of
//!   [`shipstream_filter::fields`]. Unless a filter names `is_enabled`, disabled products
//!   are left out. Errors are 400 with `details[].key = "filter"` and the filter crate's
//!   message (with the column and a caret line).
//! * **`sort`**: `product_id`, `sku` (byte order, case-sensitive), `updated_at`, each
//!   optionally `-`-prefixed, comma-separated; default `-updated_at`. Ties are broken by
//!   ascending product id, so every order is total and paging is stable.
//! * **`fields`** (comma-separated, repeatable): the level's default fields are `type`,
//!   the `product` stub `{type, id, sku}`, all `qty_*` and `updated_at`; `warehouse` (a
//!   `{type: "Warehouse", id}` stub) only with `fields=warehouse` or `fields=all`.
//! * **`fields:product`** (also `fields%3Aproduct`): puts the page's products into
//!   `included.Product` with exactly the fields asked for plus `type` and `id`; `basic`
//!   and `all` as documented in `openapi.yaml`. Without it there is no `included`.
//! * **`limit`** 1..=1000 (default 100), **`count`** 0/1 (`meta.count`),
//!   **`cursor_start`** / **`cursor_end`** integers; other values are 400 naming the
//!   parameter. In `fields` and `fields:product` an empty value is the empty list, but
//!   an empty item (`a,,b`) or an item named twice is a 400 (`uniqueItems`). Unknown
//!   parameters are ignored.
//! * **Paging**: `next` is the endpoint path with every original parameter (as sent)
//!   minus the cursors, plus `cursor_start=<id of the next page's first record>`;
//!   `previous` likewise with `cursor_end=<id of this page's first record>` (null on the
//!   first page). `has_more` looks the way the request went: after `previous` (a
//!   `cursor_end` alone) it says whether more previous pages exist, else whether a next
//!   page does. `meta.cursor_start` is the next page's first id, `meta.cursor_end` the
//!   id after the next page (exclusive end), null when there is none. Relative links by
//!   default, absolute with [`NextStyle::Absolute`]. Sorted orders are cached (LRU of 8
//!   orders, 8 bytes per product each) so a page costs O(limit + skipped records).
//!   A cursor that names no product is placed by id when sorting by `product_id`, and is
//!   a 400 otherwise.
//! * Other methods on the path: 405 with `Allow: GET`; other paths: 404. All errors carry
//!   `{"errors":[{"type","message","details"?}]}`.
//! * **Contradicting the spec on purpose**: [`MockConfig::last_page_next`],
//!   [`MockConfig::repeated_sort_keys`], [`MockConfig::refused_operators`],
//!   [`MockConfig::ignored_operators`], [`MockConfig::refused_filter_fields`],
//!   [`MockConfig::null_quantities`] and
//!   [`MockConfig::omit_has_more`] each break one `x-assumed` note of `openapi.yaml` (all
//!   off by default), so a tool that checks the notes against an instance (`cargo xtask
//!   drift --live --probe`) can be shown to notice.
//!
//! # The dataset
//!
//! [`Dataset::generate`]`(n, seed)` makes `n` products from a fixed, dependency-free
//! generator (SplitMix64), so the same arguments give byte-identical output everywhere,
//! and a smaller dataset is a prefix of a larger one. Products come from 14 categories
//! (spices, tea, kitchenware, toys, pens, audio, apparel, gift sets with `&`, quotes and
//! accents in their names, batteries and aerosols with regulated-goods details, and
//! packaging, containers, supplies and infill product types). Ids ascend from 1 with
//! about 2 % gaps; SKUs (`SPC-000042-BLK`, a few lowercase `spc-42`) are unique.
//! Roughly: 3 % disabled, 5 % invisible, 10 % with zero stock, 8 % null and 7 % empty
//! barcodes, 30 % null vendor SKUs (5 % empty strings), merchants 1..=5, custom fields of
//! every JSON type, and a quarter of the levels updated at one of 12 shared "sync"
//! instants (so `updated_at` ties are common). `goods_type` is always `NORMAL` and
//! `virtual_inventory` `optimistic` (the only values `openapi.yaml` lists). Timestamps
//! are whole seconds up to the fixed "now" 2025-08-31T12:00:00Z. Generation takes about
//! 1 µs per product in release builds; a product takes roughly 300 bytes.
//!
//! ## Invariants
//!
//! Every generated product satisfies ([`Dataset::check_invariants`] checks them):
//!
//! * every quantity is `>= 0`;
//! * `qty_on_hand = qty_available + qty_allocated + qty_reserved + qty_picked`
//!   (`qty_expected`, `qty_processed` and `qty_putaway` are inbound and not on hand);
//! * `qty_advertised >= qty_available`, and greater only for products with
//!   `inventory.virtual_inventory` set;
//! * `qty_backordered > 0` only when `inventory.backorders` is true and
//!   `qty_available = 0`;
//! * a zero-stock product has `qty_on_hand = 0` (and therefore available, allocated,
//!   reserved and picked are 0);
//! * `created_at <= updated_at` and `created_at <= level updated_at`, all before the
//!   generation's "now";
//! * ids strictly ascend and SKUs are unique.
//!
//! ## File format
//!
//! [`Dataset::from_json_file`] reads NDJSON (one record per line) or a JSON array of
//! records; [`Dataset::write_ndjson`] writes NDJSON. A record is a `TotalLevel` whose
//! `product` is the full `Product` object (as with `fields:product=all`) plus an optional
//! `product_type` (`normal`, `packaging`, `containers`, `supplies`, `infill`):
//!
//! ```json
//! {"type":"TotalLevel","product":{"type":"Product","id":5,"sku":"ABC123","name":"Box",
//!  "is_enabled":true,"merchant":{"type":"Merchant","id":4},"product_type":"normal"},
//!  "warehouse":{"type":"Warehouse","id":1},"qty_available":166,"qty_on_hand":230,
//!  "updated_at":"2025-08-28T10:30:00Z"}
//! ```
//!
//! Only `product.id` (1..=2^32-1, unique) and `product.sku` (unique) are required.
//! Missing quantities are 0, missing booleans `is_*` true, `goods_type` `NORMAL`,
//! `warehouse` id 1; timestamps are stored in whole seconds (UTC). Quantities must fit in
//! 32 bits and weights/dimensions/volumes are kept as `f32`. Custom-field labels that are
//! null are dropped, and object values are stored with their keys sorted. Records may come in any order.
//!
//! # Live mode
//!
//! With [`MockConfig::mutate`]`(rate, duration)` (CLI `mock --mutate RATE --mutate-for
//! SECS`) the data changes while clients page through it, like a busy warehouse: `rate`
//! changes a second, spread evenly, until `duration` after the start. Which level changes
//! and how is drawn from [`MockConfig::seed`], so a run is reproducible up to timing:
//!
//! * 85 %: a quantity move on a random level (allocate, pick, ship, count correction,
//!   receive), keeping every [invariant](#invariants); stamps the level's `updated_at`;
//! * 10 %: a product disabled, or a disabled one enabled again; stamps the product's
//!   `updated_at` (`product_updated_at` in filters), not the level's;
//! * 5 %: a new product with fresh stock (the next free id, SKU `NEW-0000123`).
//!
//! With [`MockConfig::delete_share`] (CLI `--delete-share SHARE`, default 0) that share of
//! the changes, drawn first, deletes a random product instead: its level leaves every
//! listing, whatever the filters (a cursor naming it is placed by id, as for any id that
//! names no product). New products take ids above every id ever used, so nothing of a
//! deleted product comes back. With the default 0 nothing is drawn for it, and a seed
//! makes the changes it always made.
//!
//! Timestamps come from the mock's clock (the system clock plus
//! [`MockConfig::clock_skew_secs`]) in whole seconds, the API's precision, and every
//! answer's `Date` header is that clock too. Each page is computed on the data as it is
//! when the page is requested, as a keyset-paged server does: a level that changes
//! behind the cursor is not seen again in that listing; one ahead of it is seen with its
//! new values. [`MockServer::snapshot`] returns a consistent copy of the data at one
//! instant and [`MockServer::live_counts`] what changed.
//!
//! ```
//! use std::time::Duration;
//! use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = MockConfig::default()
//!     .dataset(Dataset::generate(100, 1))
//!     .mutate(200.0, Duration::from_millis(100));
//! let server = MockServer::start(config).await?;
//! tokio::time::sleep(Duration::from_millis(300)).await;
//! assert_eq!(server.live_counts().total(), 20);
//! server.snapshot().check_invariants()?;
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Faults
//!
//! [`Faults`] is a list of [`Fault`] rules, built in code or parsed from a string (the
//! CLI syntax): rules separated by `;`, each `KIND[:OPTION]...`:
//!
//! | kind | effect |
//! |---|---|
//! | `latency=20ms`, `latency=1.5s`, `latency=10ms..50ms` | delay the response |
//! | `status=429`, `status=500\|502\|503` | answer that status (one of them, chosen by the seeded generator) with an error body; 429 carries `Retry-After: 1` |
//! | `drop` | send the 200 headers (with the full `Content-Length`) and half the body, then abort the connection |
//! | `truncate` | a 200 whose JSON body is cut in half (headers consistent with the short body) |
//! | `repeat-next` | the page's `next` is the URI that fetched it |
//! | `offorigin-next` | the page's `next` is `http://127.0.0.2:9/api/...` |
//! | `unknown-enum` | every level `type`, or the included products' `goods_type`, `inventory.virtual_inventory` or `weight.unit` (rotating among those the requested fields show) gets a value `openapi.yaml` does not list |
//! | `extra-field` | levels and included products get a `mock_extra_field` member |
//! | `bad-record` | the page's middle level (index `len / 2` of `collection`) gets `"qty_on_hand": "many"`, a string where `openapi.yaml` says integer, so that record, and only it, does not decode (clients should report it and keep the rest of the page) |
//!
//! Options: `rate=P` (probability per request from the seeded generator), `nth=N` (only
//! the N-th request to the endpoint, 1-based), `every=N` (requests N, 2N, ...), and for
//! `status` `retry-after=SECS`. Without a trigger option the fault fires on every
//! request. Requests (GET/HEAD on the endpoint) are numbered as they arrive, before
//! authentication; latency and status faults apply before the request is checked, the
//! others only to 200 pages (`repeat-next`/`offorigin-next` only to pages that have a
//! `next`). [`MockServer::fault_counts`] tells how many of each were injected.
//!
//! ```
//! use shipstream_inventory_mock::{Fault, Faults, MockConfig};
//!
//! let config = MockConfig::default()
//!     .faults("latency=5ms;status=429:rate=0.05:retry-after=2;truncate:nth=5".parse::<Faults>()?)
//!     .fault(Fault::drop_connection().every(50))
//!     .seed(1234);
//! assert_eq!(config.faults.len(), 4);
//! # Ok::<(), shipstream_inventory_mock::FaultParseError>(())
//! ```

#![deny(missing_docs)]

mod config;
mod dataset;
mod engine;
mod faults;
mod gate;
mod handler;
mod limits;
mod live;
mod query;
mod record;
mod render;
mod rng;
mod server;
mod synth;
mod time;

pub use config::{LastPageNext, MockConfig, MockError, NextStyle};
pub use dataset::{Dataset, DatasetError, DatasetStats};
pub use faults::{Fault, FaultCounts, FaultKind, FaultParseError, Faults, Trigger};
pub use gate::Gate;
pub use limits::{LimitCounts, documented_limits};
pub use live::LiveCounts;
pub use record::RecordedRequest;
pub use server::{
    LEVELS_PATH, MAX_RECORDED, MockServer, MockState, OFF_ORIGIN, VERSION_HEADER, router,
};

/// Entry points for the fuzz targets in `fuzz/` (compiled only with `--cfg fuzzing`).
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    /// Parses and validates a raw query string as the server does; `true` when accepted.
    pub fn parse_query(raw: &str) -> bool {
        crate::query::ListQuery::from_pairs(&crate::query::pairs(raw)).is_ok()
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
