//! How the mock server behaves: [`MockConfig`], [`NextStyle`], [`LastPageNext`],
//! [`MockError`].

use std::fmt;
use std::time::Duration;

use shipstream_inventory_generated::api;

use crate::dataset::Dataset;
use crate::faults::Faults;
use crate::gate::Gate;

/// Whether `next`/`previous` are host-relative paths or absolute URLs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NextStyle {
    /// `/api/global/v1/inventory/levels/total?...` (the default).
    #[default]
    Relative,
    /// `http://HOST:PORT/api/global/v1/...`, the host taken from the request's `Host`
    /// header (else the bound address).
    Absolute,
}

/// How the last page of a listing (no page follows) spells its `next`.
///
/// The spec lets a client read a missing, null or empty `next` as "no further page"
/// (its note `no-next-page-spelling`); every variant but [`LastPageNext::SelfLink`] is one
/// of those. The knob lets tests of `cargo xtask drift --live --probe` see each spelling
/// confirmed and the contrary one refuted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LastPageNext {
    /// `"next": null` (the default).
    #[default]
    Null,
    /// No `next` member at all.
    Absent,
    /// `"next": ""`.
    Empty,
    /// `next` holds the URI of the last page itself, as an API that always links onwards
    /// might send: what the spec says a last page never does.
    SelfLink,
}

/// How the mock server behaves.
///
/// ```
/// use shipstream_inventory_mock::{Dataset, Faults, MockConfig, NextStyle};
///
/// let config = MockConfig::default()
///     .token("s3cret")
///     .dataset(Dataset::generate(1000, 7))
///     .faults("status=429:rate=0.1".parse::<Faults>()?)
///     .next_style(NextStyle::Absolute)
///     .seed(7);
/// assert_eq!(config.token, "s3cret");
/// assert!(!format!("{config:?}").contains("s3cret"), "Debug hides the token");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct MockConfig {
    /// Address to bind (default `127.0.0.1`).
    pub host: String,
    /// Port to bind; 0 picks a free one (default).
    pub port: u16,
    /// The bearer token the server accepts (default `mock-token`).
    pub token: String,
    /// The products served (default [`Dataset::default`]: 250 products, seed 42).
    pub dataset: Dataset,
    /// Injected faults (default none).
    pub faults: Faults,
    /// Style of `next`/`previous` (default [`NextStyle::Relative`]).
    pub next_style: NextStyle,
    /// The API versions served (`YYYY-MM`), oldest first; the last is the latest, which
    /// answers a request that names none. Any other version (retired, unknown, in the
    /// future) is refused with 400 and the version-error header. Default: the spec's
    /// `info.version` alone.
    pub api_versions: Vec<String>,
    /// Seed of the fault generator (default 42).
    pub seed: u64,
    /// Whether requests are recorded for [`MockServer::requests`](crate::MockServer::requests) (default true).
    pub record_requests: bool,
    /// Live mode: level changes a second (default 0: the data never changes). Which
    /// levels change and how follows [`MockConfig::seed`]; see the
    /// [crate docs](crate#live-mode).
    pub mutate_rate: f64,
    /// How long the live mode changes levels, from the server's start (default 60 s).
    pub mutate_for: Duration,
    /// The share of the live mode's changes that delete a product, 0 to 1 (default 0).
    /// A deleted product's level leaves every listing, whatever the filters, as if it had
    /// never existed; new products never reuse a deleted one's id or SKU.
    pub delete_share: f64,
    /// Seconds added to the system clock to make the mock's clock (default 0): the
    /// `Date` header and the timestamps of live changes follow it. A skewed server clock
    /// shows whether a client relies on its own clock.
    pub clock_skew_secs: i64,
    /// Requests a second the mock lets through on average (default `None`: no limit);
    /// beyond it, 429 with `Retry-After` and the API's error body.
    pub rate_limit: Option<f64>,
    /// Requests that may arrive at once before [`MockConfig::rate_limit`] applies (the
    /// token bucket's size; default the spec's assumed burst).
    pub burst: u32,
    /// Requests that may run at once (default `None`: no limit); beyond it, 409.
    pub max_concurrent: Option<u32>,
    /// Whether answers carry the rate-limit headers the vendor documents for every
    /// response (`RateLimit-Limit` a minute, `RateLimit-Remaining`, `X-Concurrency-Limit`,
    /// `X-Concurrency-Current`) when a limit is set (default `true`). `false` plays a
    /// server that tells nothing: the Global API documents no limits at all, so a client
    /// must also cope with limits it is not told.
    pub limit_headers: bool,
    /// Time every answer of the endpoint takes at least (default 0).
    pub latency: Duration,
    /// Time added per level on the page (default 0), so that page size matters as it
    /// does on a real server: a page of `n` levels takes `latency + n x latency_per_level`.
    pub latency_per_level: Duration,
    /// How the last page spells its `next` (default [`LastPageNext::Null`]).
    pub last_page_next: LastPageNext,
    /// Whether a `sort` that names a key twice is accepted, the later occurrence ignored
    /// (default false: refused with 400, as the spec's `sort-key-once` note says).
    pub repeated_sort_keys: bool,
    /// Filter operators (`neq`, `gteq`, ...) the mock refuses with 400 as unknown, as a
    /// server that lacks them would (default none: every operator of the filter crate is
    /// served).
    pub refused_operators: Vec<String>,
    /// Filter operators the mock accepts and does not apply: a filter that uses one
    /// answers 200 as if it were absent, as a server that parses an operator it does not
    /// implement would (default none). Against the spec's `operators-neq-in-nin` and
    /// `operators-gteq-lteq` notes, in their "accepted but not filtering" form.
    pub ignored_operators: Vec<String>,
    /// Filterable fields the mock refuses with 400 in a `filter`, as a server that cannot
    /// filter on them (or not with the spec's value format) would (default none).
    pub refused_filter_fields: Vec<String>,
    /// Whether every quantity (`qty_` member) of every level is sent as `null` (default false), against
    /// the spec's `quantities-never-null` note; such pages do not validate against the spec.
    pub null_quantities: bool,
    /// Whether pages leave out `has_more` (default false), against the spec's
    /// `has-more-always` note; such pages do not validate against the spec.
    pub omit_has_more: bool,
    /// Holds the answers to the requests it matches until released, and counts the
    /// requests that reach the endpoint (default none).
    pub gate: Option<Gate>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            host: "127.0.0.1".into(),
            port: 0,
            token: "mock-token".into(),
            dataset: Dataset::default(),
            faults: Faults::none(),
            next_style: NextStyle::Relative,
            api_versions: vec![api::API_VERSION.into()],
            seed: 42,
            record_requests: true,
            mutate_rate: 0.0,
            mutate_for: Duration::from_secs(60),
            delete_share: 0.0,
            clock_skew_secs: 0,
            rate_limit: None,
            burst: api::limits::BURST,
            max_concurrent: None,
            limit_headers: true,
            latency: Duration::ZERO,
            latency_per_level: Duration::ZERO,
            last_page_next: LastPageNext::Null,
            repeated_sort_keys: false,
            refused_operators: Vec::new(),
            ignored_operators: Vec::new(),
            refused_filter_fields: Vec::new(),
            null_quantities: false,
            omit_has_more: false,
            gate: None,
        }
    }
}

impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("token", &"<redacted>")
            .field("dataset", &self.dataset)
            .field("faults", &self.faults.to_string())
            .field("next_style", &self.next_style)
            .field("api_versions", &self.api_versions)
            .field("seed", &self.seed)
            .field("record_requests", &self.record_requests)
            .field("mutate_rate", &self.mutate_rate)
            .field("mutate_for", &self.mutate_for)
            .field("delete_share", &self.delete_share)
            .field("clock_skew_secs", &self.clock_skew_secs)
            .field("rate_limit", &self.rate_limit)
            .field("burst", &self.burst)
            .field("max_concurrent", &self.max_concurrent)
            .field("limit_headers", &self.limit_headers)
            .field("latency", &self.latency)
            .field("latency_per_level", &self.latency_per_level)
            .field("last_page_next", &self.last_page_next)
            .field("repeated_sort_keys", &self.repeated_sort_keys)
            .field("refused_operators", &self.refused_operators)
            .field("ignored_operators", &self.ignored_operators)
            .field("refused_filter_fields", &self.refused_filter_fields)
            .field("null_quantities", &self.null_quantities)
            .field("omit_has_more", &self.omit_has_more)
            .field("gate", &self.gate)
            .finish()
    }
}

impl MockConfig {
    /// Sets [`MockConfig::host`].
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Sets [`MockConfig::port`].
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets [`MockConfig::token`].
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// Sets [`MockConfig::dataset`].
    pub fn dataset(mut self, dataset: Dataset) -> Self {
        self.dataset = dataset;
        self
    }

    /// Sets [`MockConfig::faults`].
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Adds one fault rule.
    pub fn fault(mut self, fault: crate::Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Sets [`MockConfig::next_style`].
    pub fn next_style(mut self, style: NextStyle) -> Self {
        self.next_style = style;
        self
    }

    /// Sets [`MockConfig::api_versions`], oldest first (the last is the latest).
    pub fn api_versions<I, S>(mut self, versions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.api_versions = versions.into_iter().map(Into::into).collect();
        self
    }

    /// The latest version served: the last of [`MockConfig::api_versions`] (the spec's
    /// `info.version` when the list is empty, which [`MockServer::start`] refuses).
    ///
    /// [`MockServer::start`]: crate::MockServer::start
    pub fn latest_version(&self) -> &str {
        self.api_versions
            .last()
            .map_or(api::API_VERSION, String::as_str)
    }

    /// Sets [`MockConfig::seed`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`MockConfig::record_requests`].
    pub fn record_requests(mut self, yes: bool) -> Self {
        self.record_requests = yes;
        self
    }

    /// Live mode: `rate` level changes a second for `duration` (see
    /// [`MockConfig::mutate_rate`]).
    pub fn mutate(mut self, rate: f64, duration: Duration) -> Self {
        self.mutate_rate = rate;
        self.mutate_for = duration;
        self
    }

    /// The share of the live mode's changes that delete a product
    /// ([`MockConfig::delete_share`]).
    pub fn delete_share(mut self, share: f64) -> Self {
        self.delete_share = share;
        self
    }

    /// Enforces a rate: a token bucket of `burst` requests refilled at `per_second`
    /// ([`MockConfig::rate_limit`], [`MockConfig::burst`]).
    pub fn rate_limit(mut self, per_second: f64, burst: u32) -> Self {
        self.rate_limit = Some(per_second);
        self.burst = burst;
        self
    }

    /// Sets [`MockConfig::max_concurrent`].
    pub fn max_concurrent(mut self, max: u32) -> Self {
        self.max_concurrent = Some(max);
        self
    }

    /// Sets [`MockConfig::gate`].
    pub fn gate(mut self, gate: Gate) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Sets [`MockConfig::limit_headers`].
    pub fn limit_headers(mut self, send: bool) -> Self {
        self.limit_headers = send;
        self
    }

    /// The documented limits of the spec (`x-rate-limits`: 10 a second, bursts of 60, 5
    /// at once).
    pub fn documented_limits(self) -> Self {
        let (rate, burst, concurrent) = crate::documented_limits();
        self.rate_limit(rate, burst).max_concurrent(concurrent)
    }

    /// Sets [`MockConfig::latency`] and [`MockConfig::latency_per_level`].
    pub fn latency(mut self, base: Duration, per_level: Duration) -> Self {
        self.latency = base;
        self.latency_per_level = per_level;
        self
    }

    /// Sets [`MockConfig::clock_skew_secs`].
    pub fn clock_skew_secs(mut self, secs: i64) -> Self {
        self.clock_skew_secs = secs;
        self
    }

    /// Sets [`MockConfig::last_page_next`].
    pub fn last_page_next(mut self, spelling: LastPageNext) -> Self {
        self.last_page_next = spelling;
        self
    }

    /// Sets [`MockConfig::repeated_sort_keys`].
    pub fn repeated_sort_keys(mut self, accepted: bool) -> Self {
        self.repeated_sort_keys = accepted;
        self
    }

    /// Refuses one more filter operator ([`MockConfig::refused_operators`]).
    pub fn refuse_operator(mut self, op: impl Into<String>) -> Self {
        self.refused_operators.push(op.into());
        self
    }

    /// Accepts one more filter operator without applying it
    /// ([`MockConfig::ignored_operators`]).
    pub fn ignore_operator(mut self, op: impl Into<String>) -> Self {
        self.ignored_operators.push(op.into());
        self
    }

    /// Refuses filters on one more field ([`MockConfig::refused_filter_fields`]).
    pub fn refuse_filter_field(mut self, field: impl Into<String>) -> Self {
        self.refused_filter_fields.push(field.into());
        self
    }

    /// Sets [`MockConfig::null_quantities`].
    pub fn null_quantities(mut self, yes: bool) -> Self {
        self.null_quantities = yes;
        self
    }

    /// Sets [`MockConfig::omit_has_more`].
    pub fn omit_has_more(mut self, yes: bool) -> Self {
        self.omit_has_more = yes;
        self
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// Binding or serving failed.
    #[error("mock server I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration is invalid.
    #[error("invalid mock configuration: {0}")]
    Config(String),
}
