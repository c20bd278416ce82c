//! The server: shared state, router, live-mode task and the server handle. The
//! configuration is in `config.rs`, the endpoint's handler in `handler.rs`, recording in
//! `record.rs`, fault application with the faults.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use shipstream_inventory_generated::api;

use crate::config::{MockConfig, MockError};
use crate::dataset::Dataset;
use crate::engine::Engine;
use crate::faults::{FaultCounts, FaultEngine};
use crate::handler::{levels, method_not_allowed, not_found, valid_version};
use crate::limits::{LimitCounts, Limits, limit};
use crate::live::{self, Clock, Counters, LiveCounts};
use crate::query;
use crate::record::{RecordedRequest, record};
use crate::rng::SplitMix64;

/// The path of the levels endpoint (the spec's).
pub const LEVELS_PATH: &str = shipstream_inventory_generated::api::PATH;
/// The version header (request and response).
pub const VERSION_HEADER: &str = api::params::X_SHIP_STREAM_API_VERSION.name;
/// The origin used by the `offorigin-next` fault.
pub const OFF_ORIGIN: &str = "http://127.0.0.2:9";
/// Requests kept by the recorder (the oldest are dropped beyond this).
pub const MAX_RECORDED: usize = 100_000;

pub(crate) struct Inner {
    pub(crate) config: MockConfig,
    pub(crate) engine: Engine,
    pub(crate) clock: Clock,
    pub(crate) live: Counters,
    live_task: Mutex<Option<JoinHandle<()>>>,
    pub(crate) faults: FaultEngine,
    pub(crate) requests: Mutex<VecDeque<RecordedRequest>>,
    pub(crate) limits: Limits,
}

/// The shared state behind [`router`]: dataset, caches, fault engine and recorder.
#[derive(Clone)]
pub struct MockState {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for MockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockState")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl MockState {
    /// Builds the state for `config` (the host and port are only used for absolute links
    /// when a request has no `Host` header).
    pub fn new(config: MockConfig) -> Result<MockState, MockError> {
        if config.api_versions.is_empty() {
            return Err(MockError::Config(
                "api_versions is empty: serve at least one version".into(),
            ));
        }
        if let Some(bad) = config.api_versions.iter().find(|v| !valid_version(v)) {
            return Err(MockError::Config(format!(
                "api_versions: {bad:?} is not YYYY-MM"
            )));
        }
        if config.api_versions.windows(2).any(|w| w[0] >= w[1]) {
            return Err(MockError::Config(format!(
                "api_versions {:?} must be listed oldest first, each once (the last is the \
                 latest)",
                config.api_versions
            )));
        }
        if config.token.is_empty() {
            return Err(MockError::Config("the token must not be empty".into()));
        }
        if config
            .rate_limit
            .is_some_and(|r| !(r.is_finite() && r > 0.0))
        {
            return Err(MockError::Config(format!(
                "the rate limit must be a number of requests a second above 0 (got {:?})",
                config.rate_limit
            )));
        }
        if config.max_concurrent == Some(0) {
            return Err(MockError::Config(
                "max_concurrent must be at least 1".into(),
            ));
        }
        if !(config.mutate_rate.is_finite() && config.mutate_rate >= 0.0) {
            return Err(MockError::Config(format!(
                "the live mode's rate must be a number of changes a second, 0 or more (got {})",
                config.mutate_rate
            )));
        }
        if !(0.0..=1.0).contains(&config.delete_share) {
            return Err(MockError::Config(format!(
                "the share of changes that delete a product must be between 0 and 1 (got {})",
                config.delete_share
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
                limits: Limits::new(&config),
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

    /// How many requests the limits ([`MockConfig::rate_limit`],
    /// [`MockConfig::max_concurrent`]) let through and refused so far.
    pub fn limit_counts(&self) -> LimitCounts {
        self.inner.limits.counts()
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
            let delete_share = inner.config.delete_share;
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
                    inner.engine.mutate(|d| {
                        live::apply(d, &mut rng, now, due - done, delete_share, &inner.live)
                    });
                    done = due;
                }
                if elapsed >= duration {
                    break;
                }
            }
            tracing::info!("live mode ended: {}", state.live_counts());
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

    pub(crate) fn lock_requests(&self) -> std::sync::MutexGuard<'_, VecDeque<RecordedRequest>> {
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
        .route(
            LEVELS_PATH,
            get(levels)
                .fallback(method_not_allowed)
                .layer(middleware::from_fn_with_state(state.clone(), limit)),
        )
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

    /// How many requests the limits let through and refused so far.
    pub fn limit_counts(&self) -> LimitCounts {
        self.state.limit_counts()
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
