//! Read ShipStream inventory levels from Rust.
//!
//! ```no_run
//! use futures::TryStreamExt as _;
//! use shipstream_inventory::{Client, ProductField, fields};
//!
//! # async fn run() -> Result<(), shipstream_inventory::Error> {
//! let client = Client::from_env()?; // SHIPSTREAM_URL, SHIPSTREAM_TOKEN
//! let mut items = std::pin::pin!(client
//!     .total_levels()
//!     .filter(fields::QTY_AVAILABLE.lt(10))
//!     .product_fields([ProductField::Sku, ProductField::Name])
//!     .items());
//! while let Some(item) = items.try_next().await? {
//!     println!("{:?} {:?}", item.sku(), item.level.qty_available);
//! }
//! # Ok(()) }
//! ```
//!
//! That loop follows every page; a record that does not decode ends it too with `?` as
//! written. Handle it and go on by matching on [`Error::is_record`] instead.
//!
//! # What you get
//! - **Configuration**: [`Client::builder`] or [`Client::from_env`]; plain `http://` only for
//!   loopback; the token never appears in `Debug`, errors or logs; an expired JWT is refused
//!   before anything is sent.
//! - **A pinned API version**: every request sends the version this crate was generated for
//!   ([`ApiVersion::generated`], the spec's `info.version`) unless you set another
//!   ([`Client::api_version`] says which), so a server whose latest version has moved on
//!   still answers in the API these types decode. A response in another version is warned
//!   about once per client; a version the server no longer serves is
//!   [`Error::is_api_version`], naming the latest.
//! - **Typed queries**: [`fields`] has every filterable field with the operators that fit
//!   its type; [`Sort`], [`LevelField`], [`ProductField`]; [`TotalLevelsRequest::filter_raw`]
//!   for the API's own syntax, checked by the same grammar (re-exported as [`grammar`]).
//! - **Safe pagination**: `next` is followed exactly as given (absolute or host-relative)
//!   but never to another origin; a repeated `next` or `has_more` without `next` is an
//!   error, not a loop. Every [`Page`] carries a serialisable [`Checkpoint`] for
//!   [`Client::resume`]. Opt-in [prefetch](TotalLevelsRequest::prefetch).
//! - **Tolerance**: unknown fields and enum values never fail a page; one bad record is
//!   reported with its raw JSON and the page goes on.
//! - **Incremental sync**: [`Client::sync`] delivers every level that changed since a
//!   serialisable [`SyncState`], by the server's clock, with a stated guarantee (no
//!   update missed, even within one second) and the next bookmark on every page; a
//!   [reconciliation](Reconcile) names the products deleted since ([`Deletions`]).
//! - **Parallel export at the rate limit**: [`TotalLevelsRequest::parallel`] splits the
//!   `product_id` key space into ranges fetched at once (work stealing, bounded
//!   buffering), delivering every level once and in `product_id` order, with checkpoints
//!   that resume every range.
//! - **Client-side limits**: every request of a [`Client`] keeps to [`RateLimits`] (by
//!   default the limits the spec assumes: 10 a second, bursts of 60, 5 at once), adapting
//!   to the server's 429 and 409 answers and rate-limit headers
//!   ([`Client::limiter_stats`]).
//! - **Retries**: transient failures are retried with backoff and jitter, honouring
//!   `Retry-After` ([`RetryPolicy`]). Errors say what to do ([`Error`]).
//! - **Tracing**: a `shipstream.request` span per attempt (path and query, attempt, status,
//!   duration) and a warning per retry.
#![deny(missing_docs)]

mod client;
mod config;
mod error;
mod limit;
mod page;
mod pager;
mod parallel;
mod query;
mod request;
mod retry;
mod sync;

pub use client::{Client, ENDPOINT_PATH};
pub use config::{ApiVersion, ClientBuilder, ENV_API_VERSION, ENV_TOKEN, ENV_URL, Token};
pub use error::{Error, RecordError};
pub use limit::{LimiterStats, RateLimits};
pub use page::{Checkpoint, Included, IncludedRef, Item, Page};
pub use query::{
    BoolField, EnumField, IntField, LEVEL_FIELD_NAMES, LevelField, PRODUCT_FIELD_NAMES,
    ProductField, ProductType, Sort, SortField, TextField, TimeField, fields,
};
pub use request::{Resume, TotalLevelsRequest};
/// The HTTP client crate the SDK is built on, for [`ClientBuilder::proxy`] and
/// [`ClientBuilder::add_root_certificate`].
pub use reqwest;
pub use retry::RetryPolicy;
/// The filter grammar (parser, renderer, field catalogue) shared with the mock and CLI.
pub use shipstream_filter as grammar;
pub use shipstream_filter::{Condition, Filter};
/// The API's facts, generated from the spec: path, parameters and their bounds,
/// filterable fields, sort keys, properties, assumptions.
pub use shipstream_inventory_generated::api;
/// The generated types of the spec (levels, products, error bodies, open enums).
pub use shipstream_inventory_generated::types;
/// A product as the API sends it.
pub use shipstream_inventory_generated::types::Product;
/// A level as the API sends it.
pub use shipstream_inventory_generated::types::TotalLevel as Level;
pub use sync::{
    DEFAULT_LOOKBACK, DEFAULT_RECONCILE_EVERY, Deletions, Reconcile, RunCounts, SyncPage,
    SyncRequest, SyncState,
};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
