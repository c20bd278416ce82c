//! The HTTP side: configuration, router, handlers, request recording and the server
//! handle.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use shipstream_inventory_generated::{api, types};

use crate::dataset::Dataset;
use crate::engine::Engine;
use crate::faults::{FaultCounts, FaultEngine, Faults, Plan};
use crate::live::{self, Clock, Counters, LiveCounts};
use crate::query::{self, Detail, Kind, ListQuery};
use crate::render::{Mutation, PageOut, ProductFields, Style};
use crate::rng::SplitMix64;

/// The path of the levels endpoint (the spec's).
pub const LEVELS_PATH: &str = shipstream_inventory_generated::api::PATH;
/// The version header (request and response).
pub const VERSION_HEADER: &str = api::params::X_SHIP_STREAM_API_VERSION.name;
/// The origin used by the `offorigin-next` fault.
pub const OFF_ORIGIN: &str = "http://127.0.0.2:9";
/// Requests kept by the recorder (the oldest are dropped beyond this).
pub const MAX_RECORDED: usize = 100_000;

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
    /// The newest API version (`YYYY-MM`, default the spec's `info.version`); later ones
    /// are refused.
    pub latest_version: String,
    /// Seed of the fault generator (default 42).
    pub seed: u64,
    /// Whether requests are recorded for [`MockServer::requests`] (default true).
    pub record_requests: bool,
    /// Live mode: level changes a second (default 0: the data never changes). Which
    /// levels change and how follows [`MockConfig::seed`]; see the
    /// [crate docs](crate#live-mode).
    pub mutate_rate: f64,
    /// How long the live mode changes levels, from the server's start (default 60 s).
    pub mutate_for: Duration,
    /// Seconds added to the system clock to make the mock's clock (default 0): the
    /// `Date` header and the timestamps of live changes follow it. A skewed server clock
    /// shows whether a client relies on its own clock.
    pub clock_skew_secs: i64,
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
            latest_version: api::API_VERSION.into(),
            seed: 42,
            record_requests: true,
            mutate_rate: 0.0,
            mutate_for: Duration::from_secs(60),
            clock_skew_secs: 0,
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
            .field("latest_version", &self.latest_version)
            .field("seed", &self.seed)
            .field("record_requests", &self.record_requests)
            .field("mutate_rate", &self.mutate_rate)
            .field("mutate_for", &self.mutate_for)
            .field("clock_skew_secs", &self.clock_skew_secs)
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

    /// Sets [`MockConfig::latest_version`].
    pub fn latest_version(mut self, version: impl Into<String>) -> Self {
        self.latest_version = version.into();
        self
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

    /// Sets [`MockConfig::clock_skew_secs`].
    pub fn clock_skew_secs(mut self, secs: i64) -> Self {
        self.clock_skew_secs = secs;
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

/// One request the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, e.g. `/api/global/v1/inventory/levels/total`.
    pub path: String,
    /// The raw (still encoded) query string, if any.
    pub query: Option<String>,
    /// The decoded query pairs, in order (`+` decoded as a space).
    pub query_pairs: Vec<(String, String)>,
    /// The headers (names lowercase); the `Authorization` value is `<redacted>`.
    pub headers: Vec<(String, String)>,
    /// The status answered (200 also for dropped and truncated bodies).
    pub status: u16,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every decoded value of query parameter `key`.
    pub fn query_values(&self, key: &str) -> Vec<&str> {
        self.query_pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Path and raw query, as requested.
    pub fn uri(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

struct Inner {
    config: MockConfig,
    engine: Engine,
    clock: Clock,
    live: Counters,
    live_task: Mutex<Option<JoinHandle<()>>>,
    faults: FaultEngine,
    requests: Mutex<VecDeque<RecordedRequest>>,
}

/// The shared state behind [`router`]: dataset, caches, fault engine and recorder.
#[derive(Clone)]
pub struct MockState {
    inner: Arc<Inner>,
}

impl fmt::Debug for MockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockState")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Whether `v` is a version by the spec's pattern (`YYYY-MM`).
fn valid_version(v: &str) -> bool {
    types::ApiVersion::try_from(v).is_ok()
}

/// The version header's name as a `HeaderName` (lowercase).
fn version_header_name() -> axum::http::HeaderName {
    axum::http::HeaderName::from_bytes(VERSION_HEADER.as_bytes()).unwrap_or(
        axum::http::HeaderName::from_static("x-shipstream-api-version"),
    )
}

impl MockState {
    /// Builds the state for `config` (the host and port are only used for absolute links
    /// when a request has no `Host` header).
    pub fn new(config: MockConfig) -> Result<MockState, MockError> {
        if !valid_version(&config.latest_version) {
            return Err(MockError::Config(format!(
                "latest_version {:?} is not YYYY-MM",
                config.latest_version
            )));
        }
        if config.token.is_empty() {
            return Err(MockError::Config("the token must not be empty".into()));
        }
        if !(config.mutate_rate.is_finite() && config.mutate_rate >= 0.0) {
            return Err(MockError::Config(format!(
                "the live mode's rate must be a number of changes a second, 0 or more (got {})",
                config.mutate_rate
            )));
        }
        Ok(MockState {
            inner: Arc::new(Inner {
                engine: Engine::new(config.dataset.clone()),
                clock: Clock {
                    skew_secs: config.clock_skew_secs,
                },
                live: Counters::default(),
                live_task: Mutex::new(None),
                faults: FaultEngine::new(&config.faults, config.seed),
                requests: Mutex::new(VecDeque::new()),
                config,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MockConfig {
        &self.inner.config
    }

    /// The requests recorded so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock_requests().iter().cloned().collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.lock_requests().clear();
    }

    /// How many faults of each kind were injected.
    pub fn fault_counts(&self) -> FaultCounts {
        self.inner.faults.counts()
    }

    /// The data as it is now: with the live mode, a consistent snapshot (every level as
    /// of one instant); otherwise the configured dataset.
    pub fn snapshot(&self) -> Dataset {
        self.inner.engine.snapshot().0
    }

    /// How many changes of each kind the live mode made so far.
    pub fn live_counts(&self) -> LiveCounts {
        self.inner.live.get()
    }

    /// The mock's clock now, in whole seconds since the Unix epoch (the system clock plus
    /// [`MockConfig::clock_skew_secs`]).
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Starts the live mode's changes (when [`MockConfig::mutate_rate`] is above 0) on
    /// the current Tokio runtime; [`MockServer::start`] and [`MockServer::serve`] call
    /// it. Calling it again does nothing.
    pub fn start_live(&self) {
        let rate = self.inner.config.mutate_rate;
        if rate <= 0.0 {
            return;
        }
        let mut task = self
            .inner
            .live_task
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if task.is_some() {
            return;
        }
        let state = self.clone();
        let duration = self.inner.config.mutate_for;
        *task = Some(tokio::spawn(async move {
            let inner = &state.inner;
            let mut rng = SplitMix64::derive(inner.config.seed, live::LIVE_STREAM);
            let started = Instant::now();
            let mut done = 0u64;
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let elapsed = started.elapsed();
                let due = live::due(rate, duration, elapsed);
                if due > done {
                    let now = inner.clock.now();
                    inner
                        .engine
                        .mutate(|d| live::apply(d, &mut rng, now, due - done, &inner.live));
                    done = due;
                }
                if elapsed >= duration {
                    break;
                }
            }
        }));
    }

    fn stop_live(&self) {
        if let Some(task) = self
            .inner
            .live_task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
    }

    /// Builds the sort order for the default sort (`-updated_at`) now rather than on the
    /// first request (worth it for large datasets).
    pub fn warm_up(&self) {
        if let Ok(spec) = query::SortSpec::parse(query::default_sort()) {
            self.inner.engine.sort_index(&spec);
        }
    }

    fn lock_requests(&self) -> std::sync::MutexGuard<'_, VecDeque<RecordedRequest>> {
        self.inner
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// The mock's routes: `GET` [`LEVELS_PATH`], 405 for other methods there, 404 elsewhere,
/// with request recording.
pub fn router(state: MockState) -> Router {
    Router::new()
        .route(LEVELS_PATH, get(levels).fallback(method_not_allowed))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .layer(middleware::from_fn_with_state(state.clone(), date))
        .with_state(state)
}

/// Every answer carries `Date` from the mock's clock (an HTTP-date, whole seconds).
async fn date(State(state): State<MockState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    if let Some(value) = chrono::DateTime::from_timestamp(state.now(), 0)
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .and_then(|t| HeaderValue::from_str(&t).ok())
    {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

async fn record(State(state): State<MockState>, req: Request, next: Next) -> Response {
    if !state.inner.config.record_requests {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            let value = if *k == header::AUTHORIZATION {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (k.as_str().to_owned(), value)
        })
        .collect();
    let response = next.run(req).await;
    let rec = RecordedRequest {
        method,
        path,
        query_pairs: query.as_deref().map(query::pairs).unwrap_or_default(),
        query,
        headers,
        status: response.status().as_u16(),
    };
    let mut requests = state.lock_requests();
    if requests.len() >= MAX_RECORDED {
        requests.pop_front();
    }
    requests.push_back(rec);
    response
}

/// An error response with the API's error body. Details of both kinds become two errors.
pub(crate) fn error_response(
    status: StatusCode,
    kind: Kind,
    message: &str,
    details: &[Detail],
) -> Response {
    let detail_json = |d: &Detail| json!({"key": d.key, "message": d.message});
    let type_name = |k: Kind| match k {
        Kind::Schema => "openapi",
        Kind::Meaning => "application",
    };
    let mut errors = Vec::new();
    if details.is_empty() {
        errors.push(json!({"type": type_name(kind), "message": message}));
    } else {
        for k in [Kind::Meaning, Kind::Schema] {
            let ds: Vec<_> = details
                .iter()
                .filter(|d| d.kind == k)
                .map(detail_json)
                .collect();
            if !ds.is_empty() {
                let msg = match k {
                    Kind::Schema => "The request does not match the API description.",
                    Kind::Meaning => message,
                };
                errors.push(json!({"type": type_name(k), "message": msg, "details": ds}));
            }
        }
    }
    let body = json!({ "errors": errors }).to_string();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn method_not_allowed(method: Method) -> Response {
    let mut r = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        Kind::Meaning,
        &format!("Method {method} is not allowed on {LEVELS_PATH}; use GET."),
        &[],
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    r
}

async fn not_found(uri: axum::http::Uri) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        Kind::Meaning,
        &format!(
            "No route for {}; this mock serves GET {LEVELS_PATH} only.",
            query::clip(uri.path())
        ),
        &[],
    )
}

fn fault_status_response(code: u16, retry_after: Option<u32>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match code {
        429 => "Too many requests: the rate limit was exceeded (mock fault).".to_owned(),
        409 => "Too many concurrent requests for this user (mock fault).".to_owned(),
        c if c >= 500 => format!("Server error {c} (mock fault); retry later."),
        c => format!("Request refused with status {c} (mock fault)."),
    };
    let mut r = error_response(status, Kind::Meaning, &message, &[]);
    if let Some(secs) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// The 401 response for a request without the right bearer token, if it has not.
fn auth_failure(headers: &HeaderMap, token: &str) -> Option<Response> {
    let unauthorized = |msg: &str| {
        let mut r = error_response(StatusCode::UNAUTHORIZED, Kind::Meaning, msg, &[]);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Some(unauthorized(
            "Missing access token: send `Authorization: Bearer <token>`.",
        ));
    };
    let value = value.to_str().unwrap_or_default();
    let ok = value
        .split_once(' ')
        .is_some_and(|(scheme, t)| scheme.eq_ignore_ascii_case("bearer") && t == token);
    (!ok).then(|| unauthorized("Invalid or expired access token."))
}

/// The version that serves the request, or the 400 detail.
fn negotiate_version(
    headers: &HeaderMap,
    pairs: &[(String, String)],
    latest: &str,
) -> Result<String, Detail> {
    let query_name = api::params::VERSION.name;
    let (key, requested) = match headers.get(VERSION_HEADER) {
        Some(v) => (
            VERSION_HEADER,
            Some(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        ),
        None => (
            query_name,
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == query_name)
                .map(|(_, v)| v.clone()),
        ),
    };
    let Some(v) = requested else {
        return Ok(latest.to_owned());
    };
    let v = v.trim();
    if !valid_version(v) {
        return Err(Detail::schema(
            key,
            format!(
                "{:?} is not a version; write YYYY-MM, e.g. {latest}",
                query::clip(v)
            ),
        ));
    }
    if v > latest {
        return Err(Detail::meaning(
            key,
            format!("version {v} is in the future; the latest version is {latest}"),
        ));
    }
    Ok(v.to_owned())
}

fn host_origin(headers: &HeaderMap, config: &MockConfig) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
        });
    match host {
        Some(h) => format!("http://{h}"),
        None if config.host.contains(':') => format!("http://[{}]:{}", config.host, config.port),
        None => format!("http://{}:{}", config.host, config.port),
    }
}

async fn levels(State(state): State<MockState>, req: Request) -> Response {
    let inner = &state.inner;
    let plan = inner.faults.plan();
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    let started = Instant::now();
    if let Some((code, retry)) = plan.status {
        return fault_status_response(code, retry);
    }
    let headers = req.headers();
    if let Some(r) = auth_failure(headers, &inner.config.token) {
        return r;
    }
    let raw_query = req.uri().query().unwrap_or_default().to_owned();
    let pairs = query::pairs(&raw_query);
    let version = match negotiate_version(headers, &pairs, &inner.config.latest_version) {
        Ok(v) => v,
        Err(d) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                d.kind,
                "Unsupported API version.",
                &[d],
            );
        }
    };
    let version_header = HeaderValue::from_str(&version)
        .unwrap_or_else(|_| HeaderValue::from_static(api::API_VERSION));
    let with_version = |mut r: Response| {
        r.headers_mut()
            .insert(version_header_name(), version_header.clone());
        r
    };
    let q = match ListQuery::from_pairs(&pairs) {
        Ok(q) => q,
        Err(details) => {
            return with_version(error_response(
                StatusCode::BAD_REQUEST,
                Kind::Meaning,
                "The request's parameters are invalid.",
                &details,
            ));
        }
    };
    let origin = host_origin(headers, &inner.config);
    let this_uri = req
        .uri()
        .path_and_query()
        .map_or_else(|| LEVELS_PATH.to_owned(), |pq| pq.as_str().to_owned());

    let st = state.clone();
    let job = tokio::task::spawn_blocking(move || {
        build_page(&st, &q, &raw_query, &origin, &this_uri, &plan, started)
    });
    let (body, applied) = match job.await {
        Ok(Ok(done)) => done,
        Ok(Err(detail)) => {
            return with_version(error_response(
                StatusCode::BAD_REQUEST,
                detail.kind,
                "The request's parameters are invalid.",
                &[detail],
            ));
        }
        Err(e) => {
            tracing::error!("page task failed: {e}");
            return with_version(error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                Kind::Meaning,
                "The mock failed to build the page.",
                &[],
            ));
        }
    };
    inner.faults.record(&applied);
    with_version(deliver(body, &applied))
}

/// Sends the body: whole, truncated, or cut off by an aborted connection.
fn deliver(body: Vec<u8>, applied: &Plan) -> Response {
    let json = HeaderValue::from_static("application/json");
    let body = Bytes::from(body);
    if applied.drop {
        let full = body.len();
        let part = body.slice(..full / 2);
        let chunks = futures_util::stream::unfold(0u8, move |step| {
            let part = part.clone();
            async move {
                match step {
                    0 => Some((Ok::<Bytes, std::io::Error>(part), 1)),
                    1 => {
                        // Let the first chunk reach the socket before the abort.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Some((
                            Err(std::io::Error::new(
                                std::io::ErrorKind::ConnectionAborted,
                                "mock fault: connection dropped mid-body",
                            )),
                            2,
                        ))
                    }
                    _ => None,
                }
            }
        });
        return (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, json),
                (header::CONTENT_LENGTH, HeaderValue::from(full)),
            ],
            Body::from_stream(chunks),
        )
            .into_response();
    }
    let body = if applied.truncate {
        body.slice(..body.len() / 2)
    } else {
        body
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, json)], body).into_response()
}

fn build_page(
    state: &MockState,
    q: &ListQuery,
    raw_query: &str,
    origin: &str,
    this_uri: &str,
    plan: &Plan,
    started: Instant,
) -> Result<(Vec<u8>, Plan), Detail> {
    let inner = &state.inner;
    let (result, snapshot) = inner.engine.page(q)?;
    let absolute = inner.config.next_style == NextStyle::Absolute;
    let styled = |path: String| {
        if absolute {
            format!("{origin}{path}")
        } else {
            path
        }
    };
    let link = |param: &str, id: i64| {
        format!(
            "{LEVELS_PATH}?{}",
            query::with_cursor(raw_query, &format!("{param}={id}"))
        )
    };
    let mut applied = Plan {
        drop: plan.drop,
        truncate: plan.truncate && !plan.drop,
        ..Plan::default()
    };
    let has_more = result.next_start.is_some();
    let mut next = result
        .next_start
        .map(|id| link("cursor_start", i64::from(id)));
    if has_more && plan.repeat_next {
        next = Some(this_uri.to_owned());
        applied.repeat_next = true;
    }
    let mut next = next.map(styled);
    if has_more && plan.offorigin_next {
        let path = result
            .next_start
            .map(|id| link("cursor_start", i64::from(id)))
            .unwrap_or_default();
        next = Some(format!("{OFF_ORIGIN}{path}"));
        applied.offorigin_next = true;
    }
    let previous = result.prev_end.map(|id| styled(link("cursor_end", id)));

    let mut style = Style {
        mutation: Mutation::None,
        forbidden_type: false,
        extra: plan.extra_field && !result.items.is_empty(),
        bad_qty: false,
    };
    applied.extra_field = style.extra;
    let bad_record =
        (plan.bad_record && !result.items.is_empty()).then_some(result.items.len() / 2);
    applied.bad_record = bad_record.is_some();
    let forbidden_type = (plan.forbidden_enum && !result.items.is_empty()).then_some(0);
    applied.forbidden_enum = forbidden_type.is_some();
    if plan.unknown_enum && !result.items.is_empty() {
        let pf = q.product_fields.unwrap_or(ProductFields(0));
        let mut visible = vec![Mutation::StubType];
        if pf.has("goods_type") {
            visible.push(Mutation::GoodsType);
        }
        if pf.has("inventory") {
            visible.push(Mutation::VirtualInventory);
        }
        if pf.has("weight") {
            visible.push(Mutation::WeightUnit);
        }
        let k = inner.faults.unknown_enum_sent() as usize % visible.len();
        style.mutation = visible[k];
        applied.unknown_enum = true;
    }

    let page = PageOut {
        data: &snapshot.data,
        items: &result.items,
        style,
        bad_record,
        forbidden_type,
        level_fields: q.level_fields,
        product_fields: q.product_fields,
        has_more,
        next: next.as_deref(),
        previous: previous.as_deref(),
        processing_time: started.elapsed().as_secs_f64(),
        cursor_start: result.next_start,
        cursor_end: result.next_end,
        count: result.count,
    };
    let body = serde_json::to_vec(&page)
        .map_err(|e| Detail::meaning("collection", format!("serialisation failed: {e}")))?;
    Ok((body, applied))
}

/// A running mock server. Stops on [`MockServer::shutdown`] or when dropped.
///
/// ```
/// use shipstream_inventory_mock::{MockConfig, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = MockServer::start(MockConfig::default()).await?;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(server.token(), "mock-token");
/// assert!(server.requests().is_empty());
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct MockServer {
    state: MockState,
    addr: SocketAddr,
    base_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url)
            .field("config", &self.state.inner.config)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Binds `config.host:config.port` and serves in a background task.
    pub async fn start(config: MockConfig) -> Result<MockServer, MockError> {
        let listener = TcpListener::bind((config.host.as_str(), config.port)).await?;
        let addr = listener.local_addr()?;
        let config = config.port(addr.port());
        let state = MockState::new(config)?;
        state.start_live();
        let app = router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(MockServer {
            state,
            addr,
            base_url: format!("http://{addr}"),
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Serves on `listener` until `shutdown` completes (the CLI passes Ctrl-C). The
    /// config's host and port are replaced by the listener's address.
    ///
    /// ```no_run
    /// use shipstream_inventory_mock::{MockConfig, MockServer};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// MockServer::serve(listener, MockConfig::default(), async {
    ///     let _ = tokio::signal::ctrl_c().await;
    /// })
    /// .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve(
        listener: TcpListener,
        config: MockConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), MockError> {
        let addr = listener.local_addr()?;
        let config = config.host(addr.ip().to_string()).port(addr.port());
        let state = MockState::new(config)?;
        MockServer::serve_state(listener, state, shutdown).await
    }

    /// [`MockServer::serve`] with a state built by the caller, who can keep a clone of
    /// it to read counters ([`MockState::live_counts`], [`MockState::fault_counts`])
    /// after the server stops.
    pub async fn serve_state(
        listener: TcpListener,
        state: MockState,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), MockError> {
        state.warm_up();
        state.start_live();
        let result = axum::serve(listener, router(state.clone()))
            .with_graceful_shutdown(shutdown)
            .await;
        state.stop_live();
        result?;
        Ok(())
    }

    /// [`MockServer::serve`] until Ctrl-C (SIGINT).
    pub async fn run(listener: TcpListener, config: MockConfig) -> Result<(), MockError> {
        MockServer::serve(listener, config, async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::error!("cannot listen for Ctrl-C: {e}");
                std::future::pending::<()>().await;
            }
        })
        .await
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The base URL followed by the levels path.
    pub fn levels_url(&self) -> String {
        format!("{}{LEVELS_PATH}", self.base_url)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The accepted bearer token.
    pub fn token(&self) -> &str {
        &self.state.inner.config.token
    }

    /// The dataset the server started with (see [`MockServer::snapshot`] for the data
    /// as it is now in live mode).
    pub fn dataset(&self) -> &Dataset {
        &self.state.inner.config.dataset
    }

    /// The data as it is now (a consistent snapshot; see [`MockState::snapshot`]).
    pub fn snapshot(&self) -> Dataset {
        self.state.snapshot()
    }

    /// How many changes of each kind the live mode made so far.
    pub fn live_counts(&self) -> LiveCounts {
        self.state.live_counts()
    }

    /// The shared state (configuration, recorder, counters).
    pub fn state(&self) -> &MockState {
        &self.state
    }

    /// The requests received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// How many faults of each kind were injected so far.
    pub fn fault_counts(&self) -> FaultCounts {
        self.state.fault_counts()
    }

    /// Stops accepting connections, lets running requests finish (at most 5 s) and waits
    /// for the server task.
    pub async fn shutdown(mut self) {
        self.state.stop_live();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.state.stop_live();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
