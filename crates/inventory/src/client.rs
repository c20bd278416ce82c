//! The client and page fetching with retries.

use std::{fmt, sync::Arc, time::Duration};

use bytes::Bytes;
use shipstream_inventory_generated::api::versions;
use tracing::Instrument as _;
use url::Url;

use crate::{
    ApiVersion, ClientBuilder, Error, LimiterStats, RateLimits, RetryPolicy,
    config::Token,
    error::{ErrorKind, from_reqwest},
    limit::Limiter,
    page::{DecodeError, Decoded, decode},
    retry::{Failed, RetryingExec, is_retryable_status, is_retryable_transport, retry_after},
};

/// The path of the endpoint, below the instance URL (from the spec).
pub const ENDPOINT_PATH: &str = shipstream_inventory_generated::api::PATH;

/// A client of one ShipStream instance. Cheap to clone; clones share connections.
///
/// ```no_run
/// # async fn run() -> Result<(), shipstream_inventory::Error> {
/// let client = shipstream_inventory::Client::builder()
///     .base_url("https://acme.shipstream.app")
///     .token(std::env::var("SHIPSTREAM_TOKEN").unwrap_or_default())
///     .build()?;
/// let page = client.total_levels().page_size(10).send().await?;
/// println!("{} levels", page.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) base: Url,
    /// The endpoint's URL below `base` (what relative links of a checkpoint resolve
    /// against).
    pub(crate) endpoint: Url,
    pub(crate) token: Token,
    pub(crate) api_version: ApiVersion,
    /// Set once a response named another version than `api_version` (warned once).
    pub(crate) version_mismatch_warned: std::sync::atomic::AtomicBool,
    pub(crate) user_agent: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limits: RateLimits,
    /// `None` when the client has no limits.
    pub(crate) limiter: Option<Arc<Limiter>>,
    pub(crate) http: reqwest::Client,
    pub(crate) generated: shipstream_inventory_generated::Client,
    /// The generated client in "prepare" mode: builds first-page requests, sends nothing.
    pub(crate) preparer: shipstream_inventory_generated::Client,
}

impl Inner {
    pub(crate) fn new(
        base: Url,
        token: Token,
        api_version: ApiVersion,
        user_agent: String,
        retry: RetryPolicy,
        rate_limits: &RateLimits,
        http: reqwest::Client,
    ) -> Result<Self, Error> {
        let limiter = Limiter::new(rate_limits, retry.retry_after_cap());
        let base_str = base.as_str().trim_end_matches('/').to_owned();
        let endpoint = Url::parse(&format!("{base_str}{ENDPOINT_PATH}")).map_err(|e| {
            Error::config(format!(
                "the base URL {base_str} and the endpoint path {ENDPOINT_PATH} do not make a \
                 URL ({e}); check SHIPSTREAM_URL"
            ))
        })?;
        let preparer = shipstream_inventory_generated::Client::new_with_client(
            &base_str,
            http.clone(),
            shipstream_inventory_generated::Hooks::preparing(),
        );
        let generated = shipstream_inventory_generated::Client::new_with_client(
            &base_str,
            http.clone(),
            shipstream_inventory_generated::Hooks::with_exec(RetryingExec {
                policy: retry.clone(),
                limiter: limiter.clone(),
            }),
        );
        Ok(Self {
            base,
            endpoint,
            token,
            api_version,
            version_mismatch_warned: std::sync::atomic::AtomicBool::new(false),
            user_agent,
            retry,
            rate_limits: rate_limits.clone(),
            limiter,
            http,
            generated,
            preparer,
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("token", &self.inner.token)
            .field("api_version", &self.inner.api_version)
            .field("user_agent", &self.inner.user_agent)
            .field("retry", &self.inner.retry)
            .field("rate_limits", &self.inner.rate_limits)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `SHIPSTREAM_URL`, `SHIPSTREAM_TOKEN` and, when set,
    /// `SHIPSTREAM_API_VERSION`.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::default().from_env().build()
    }

    /// The instance URL (without `/api/global`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The API version every request sends (`X-ShipStream-API-Version`): the one set with
    /// [`ClientBuilder::api_version`] or `SHIPSTREAM_API_VERSION`, else the one this crate
    /// was generated for ([`ApiVersion::generated`]).
    pub fn api_version(&self) -> &ApiVersion {
        &self.inner.api_version
    }

    /// The client-side limits its requests keep to.
    pub fn rate_limits(&self) -> &RateLimits {
        &self.inner.rate_limits
    }

    /// What the client-side limiter did so far (requests, 429 and 409 answers seen, the
    /// adapted rate and concurrency); `None` without limits. Clones share it.
    pub fn limiter_stats(&self) -> Option<LimiterStats> {
        self.inner.limiter.as_ref().map(|l| l.stats())
    }

    /// The raw generated client, sharing this client's connection pool, authentication
    /// and retry policy (retries run in its transport hook, below progenitor's decoding).
    pub fn generated(&self) -> &shipstream_inventory_generated::Client {
        &self.inner.generated
    }

    /// Fetches and decodes one page, retrying transient failures (the body read and
    /// decode are part of each attempt, so a body cut short is retried too).
    pub(crate) async fn fetch(&self, url: &Url) -> Result<Decoded, Error> {
        if self.inner.token.is_expired() {
            return Err(Error::token_expired(self.inner.token.expires_at()));
        }
        let policy = &self.inner.retry;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let attempt = || async {
            let n = attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let span = tracing::info_span!(
                "shipstream.request",
                method = "GET",
                url = %path,
                attempt = n,
                status = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
            );
            let t = tokio::time::Instant::now();
            let result = self.attempt(url).instrument(span.clone()).await;
            span.record("duration_ms", t.elapsed().as_millis() as u64);
            if let Some(status) = match &result {
                Ok(_) => Some(200),
                Err(Failure::Status { status, .. }) => Some(*status),
                _ => None,
            } {
                span.record("status", status);
            }
            result
        };
        // The "retrying" warnings are logged inside this span, so they name the URL.
        let result = policy
            .run(attempt)
            .instrument(tracing::warn_span!("shipstream.fetch", url = %path))
            .await;
        let n = attempts.load(std::sync::atomic::Ordering::Relaxed);
        result.map_err(|f| f.into_error(n))
    }

    async fn attempt(&self, url: &Url) -> Result<Decoded, Failure> {
        // Held until the body is read: the server counts the request as running until then.
        let slot = match &self.inner.limiter {
            Some(l) => Some(l.acquire().await),
            None => None,
        };
        let response = self
            .inner
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(Failure::Transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(slot) = &slot {
            slot.observe(status, &headers, retry_after(&headers));
        }
        self.check_served_version(&headers);
        let body = response.bytes().await.map_err(Failure::Transport)?;
        if !(200..300).contains(&status) {
            let version_error = headers.get(versions::ERROR_HEADER).map(|v| VersionRefusal {
                sent: self.inner.api_version.to_string(),
                why: String::from_utf8_lossy(v.as_bytes()).into_owned(),
            });
            return Err(Failure::Status {
                status,
                retry_after: retry_after(&headers),
                body,
                version_error,
            });
        }
        let mut decoded = decode(&body).map_err(Failure::Decode)?;
        decoded.server_date = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::sync::parse_date);
        Ok(decoded)
    }
}

impl Client {
    /// Warns, once per client, when a response says another API version served it than
    /// the one sent: the server does not serve the pinned version the way this crate
    /// expects, and what it sends may not decode as this crate's types.
    fn check_served_version(&self, headers: &reqwest::header::HeaderMap) {
        let Some(served) = headers.get(versions::SERVED_HEADER) else {
            return;
        };
        let served = String::from_utf8_lossy(served.as_bytes());
        let sent = self.inner.api_version.as_str();
        if served.trim() != sent
            && !self
                .inner
                .version_mismatch_warned
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                sent,
                served = %served,
                "the server answered with API version {served} although this client sent \
                 {sent}; pin a version the server serves (SHIPSTREAM_API_VERSION or \
                 ClientBuilder::api_version) or use a shipstream-inventory release generated \
                 for {served}"
            );
        }
    }
}

/// A 400 that refused the API version sent.
struct VersionRefusal {
    /// The version sent.
    sent: String,
    /// The server's version-error header.
    why: String,
}

/// One failed attempt.
enum Failure {
    Transport(reqwest::Error),
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: Bytes,
        /// The version-error header of a refused version.
        version_error: Option<VersionRefusal>,
    },
    Decode(DecodeError),
}

impl Failed for Failure {
    fn retryable(&self) -> bool {
        match self {
            Self::Transport(e) => is_retryable_transport(e),
            Self::Status { status, .. } => is_retryable_status(*status),
            Self::Decode(DecodeError::Corrupt(_)) => true,
            Self::Decode(DecodeError::NotAPage(_)) => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Transport(e) => e.to_string(),
            Self::Status { status, .. } => format!("HTTP {status}"),
            Self::Decode(DecodeError::Corrupt(e)) => format!("damaged body: {e}"),
            Self::Decode(DecodeError::NotAPage(e)) => format!("not a page: {e}"),
        }
    }
}

impl Failure {
    fn into_error(self, attempts: u32) -> Error {
        match self {
            Self::Transport(e) => from_reqwest(e, attempts),
            Self::Status {
                status: 400,
                retry_after,
                body,
                version_error: Some(refusal),
            } => Error::api_version_refused(&body, &refusal.sent, &refusal.why, retry_after)
                .with_attempts(attempts),
            Self::Status {
                status,
                retry_after,
                body,
                ..
            } => Error::from_status(status, &body, retry_after, "listing inventory levels")
                .with_attempts(attempts),
            Self::Decode(DecodeError::Corrupt(e)) => Error::new(
                ErrorKind::Decode,
                "the response body was damaged or cut short even after retrying; check the \
                 network or try again later",
            )
            .with_attempts(attempts)
            .with_source(e),
            Self::Decode(DecodeError::NotAPage(e)) => Error::new(
                ErrorKind::Decode,
                "the response is JSON but not a page of levels; the API may have changed \
                 since this release: look for a newer shipstream-inventory release",
            )
            .with_attempts(attempts)
            .with_source(e),
        }
    }
}
