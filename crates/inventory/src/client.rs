//! The client, its request builder, and page fetching with retries.

use std::{fmt, sync::Arc, time::Duration};

use backon::Retryable as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt as _};
use shipstream_filter::Filter;
use tracing::Instrument as _;
use url::Url;

use crate::{
    ApiVersion, Checkpoint, ClientBuilder, Error, Item, LevelField, Page, ProductField,
    RetryPolicy, Sort,
    config::Token,
    error::{ErrorKind, from_reqwest},
    page::{DecodeError, Decoded, decode},
    pager::Pager,
    query::Query,
    retry::{RetryingExec, is_retryable_status, is_retryable_transport, retry_after},
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
    pub(crate) api_version: Option<ApiVersion>,
    pub(crate) user_agent: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) http: reqwest::Client,
    pub(crate) generated: shipstream_inventory_generated::Client,
    /// The generated client in "prepare" mode: builds first-page requests, sends nothing.
    pub(crate) preparer: shipstream_inventory_generated::Client,
}

impl Inner {
    pub(crate) fn new(
        base: Url,
        token: Token,
        api_version: Option<ApiVersion>,
        user_agent: String,
        retry: RetryPolicy,
        http: reqwest::Client,
    ) -> Result<Self, Error> {
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
            }),
        );
        Ok(Self {
            base,
            endpoint,
            token,
            api_version,
            user_agent,
            retry,
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

    /// The pinned API version, if any.
    pub fn api_version(&self) -> Option<&ApiVersion> {
        self.inner.api_version.as_ref()
    }

    /// A request for total inventory levels; shape it, then `send()`, `pages()` or
    /// `items()`.
    pub fn total_levels(&self) -> TotalLevelsRequest {
        TotalLevelsRequest {
            client: self.clone(),
            query: Query::default(),
            page_size: None,
            max_items: None,
            prefetch: false,
            invalid: Vec::new(),
        }
    }

    /// Continues an export from a [`Checkpoint`] (see [`Page::checkpoint`]).
    pub fn resume(&self, checkpoint: Checkpoint) -> Resume {
        Resume {
            client: self.clone(),
            checkpoint,
            max_items: None,
            prefetch: false,
        }
    }

    /// The raw generated client, sharing this client's connection pool, authentication
    /// and retry policy (retries run in its transport hook, below progenitor's decoding).
    pub fn generated(&self) -> &shipstream_inventory_generated::Client {
        &self.inner.generated
    }

    /// Resolves a `next` URI against the client's origin; refuses any other origin.
    pub(crate) fn resolve_next(&self, current: &Url, next: &str) -> Result<Url, Error> {
        let mut url = match Url::parse(next) {
            Ok(abs) => abs,
            Err(url::ParseError::RelativeUrlWithoutBase) => current.join(next).map_err(|e| {
                Error::pagination(format!(
                    "the server's next-page link `{}` is not a valid URI ({e}); the export \
                     cannot continue",
                    shorten(next)
                ))
            })?,
            Err(e) => {
                return Err(Error::pagination(format!(
                    "the server's next-page link `{}` is not a valid URI ({e}); the export \
                     cannot continue",
                    shorten(next)
                )));
            }
        };
        if url.origin() != self.inner.base.origin() {
            return Err(Error::pagination(format!(
                "the server's next-page link points to another origin ({}); it was not \
                 followed so the token stays on {}. Report this to the instance's operator",
                url.origin().ascii_serialization(),
                self.inner.base.origin().ascii_serialization()
            )));
        }
        // A fragment is never sent: `page#x` is the page itself (and a repeat of it).
        url.set_fragment(None);
        Ok(url)
    }

    /// Fetches and decodes one page, retrying transient failures (the body read and
    /// decode are part of each attempt, so a body cut short is retried too).
    pub(crate) async fn fetch(&self, url: &Url) -> Result<Decoded, Error> {
        if self.inner.token.is_expired() {
            return Err(Error::token_expired(self.inner.token.expires_at()));
        }
        let policy = &self.inner.retry;
        let started = tokio::time::Instant::now();
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
        let cap = policy.retry_after_cap();
        let budget = policy.budget();
        let result = attempt
            .retry(policy.backoff())
            .sleep(tokio::time::sleep)
            .when(|f: &Failure| started.elapsed() < budget && f.retryable())
            .adjust(|f: &Failure, dur| {
                let dur = dur?;
                match f.retry_after() {
                    Some(ra) if ra > cap => None,
                    Some(ra) => Some(ra),
                    None => Some(dur),
                }
            })
            .notify(|f: &Failure, wait: Duration| {
                tracing::warn!(url = %path, reason = %f.describe(), wait_ms = wait.as_millis() as u64, "retrying");
            })
            .await;
        let n = attempts.load(std::sync::atomic::Ordering::Relaxed);
        result.map_err(|f| f.into_error(n))
    }

    async fn attempt(&self, url: &Url) -> Result<Decoded, Failure> {
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
        let body = response.bytes().await.map_err(Failure::Transport)?;
        if !(200..300).contains(&status) {
            return Err(Failure::Status {
                status,
                retry_after: retry_after(&headers),
                body,
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

/// One failed attempt.
enum Failure {
    Transport(reqwest::Error),
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: Bytes,
    },
    Decode(DecodeError),
}

impl Failure {
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

    fn into_error(self, attempts: u32) -> Error {
        match self {
            Self::Transport(e) => from_reqwest(e, attempts),
            Self::Status {
                status,
                retry_after,
                body,
            } => Error::from_status(status, &body, retry_after, "listing inventory levels")
                .with_attempts(attempts),
            Self::Decode(DecodeError::Corrupt(e)) => Error::new(
                ErrorKind::Decode,
                format!(
                    "the response body was damaged or cut short ({e}) even after retrying; \
                     check the network or try again later"
                ),
            )
            .with_attempts(attempts)
            .with_source(e),
            Self::Decode(DecodeError::NotAPage(e)) => Error::new(
                ErrorKind::Decode,
                format!(
                    "the response is JSON but not a page of levels ({e}); the API may have \
                     changed: run `cargo xtask drift --live` to see how"
                ),
            )
            .with_attempts(attempts)
            .with_source(e),
        }
    }
}

/// The bounds of `limit`, from the spec.
pub(crate) fn page_size_range() -> (i64, i64) {
    let limit = &shipstream_inventory_generated::api::params::LIMIT;
    (
        limit.minimum.unwrap_or(1),
        limit.maximum.unwrap_or(i64::MAX),
    )
}

pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

/// A request for total inventory levels. Built by [`Client::total_levels`].
///
/// Every setting is checked before anything is sent: an invalid page size or filter makes
/// `send()` fail (and `pages()`/`items()` yield that error first) without a request.
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until sent"]
pub struct TotalLevelsRequest {
    client: Client,
    query: Query,
    page_size: Option<u32>,
    max_items: Option<u64>,
    prefetch: bool,
    invalid: Vec<String>,
}

impl TotalLevelsRequest {
    /// Adds a filter; several filters must all hold (AND).
    /// Build them with [`fields`](crate::fields): `fields::QTY_AVAILABLE.lt(10)`.
    pub fn filter(mut self, filter: Filter) -> Self {
        if let Err(e) = filter.validate() {
            self.invalid
                .push(format!("filter `{}`: {e}", filter.render()));
        }
        self.query.filters.push(filter);
        self
    }

    /// Adds a filter written in the API's syntax (`qty_available{lt:10}`), checked by the
    /// same parser and field catalogue as the typed filters.
    pub fn filter_raw(mut self, filter: &str) -> Self {
        match Filter::parse_validated(filter) {
            Ok(f) => self.query.filters.push(f),
            Err(e) => self.invalid.push(format!("filter: {e}")),
        }
        self
    }

    /// The sort order (the API's default is `-updated_at`; a full, stable export should
    /// sort by `product_id`).
    pub fn sort(mut self, sort: Sort) -> Self {
        let keys = sort.keys();
        if let Some((field, _)) = keys
            .iter()
            .enumerate()
            .find(|(i, (f, _))| keys[..*i].iter().any(|(g, _)| g == f))
            .map(|(_, k)| *k)
        {
            self.invalid.push(format!(
                "sort `{sort}`: `{}` appears twice; name each key once",
                field.as_str()
            ));
        }
        self.query.sort = Some(sort);
        self
    }

    /// Optional fields to add to each level.
    pub fn fields(mut self, fields: impl IntoIterator<Item = LevelField>) -> Self {
        for f in fields {
            if !self.query.fields.contains(&f) {
                self.query.fields.push(f);
            }
        }
        self
    }

    /// Product fields to include; each level's product then comes with it
    /// ([`Item::product`], [`Page::product_of`]).
    pub fn product_fields(mut self, fields: impl IntoIterator<Item = ProductField>) -> Self {
        for f in fields {
            if !self.query.product_fields.contains(&f) {
                self.query.product_fields.push(f);
            }
        }
        self
    }

    /// Levels per page, within the spec's bounds of `limit` (1 to 1000; the API's default
    /// is 100).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Stops after this many levels.
    pub fn max_items(mut self, max: u64) -> Self {
        self.max_items = Some(max);
        self
    }

    /// Whether to ask for the total number of matches ([`Page::count`]); off by default
    /// because it costs the server time.
    pub fn count(mut self, count: bool) -> Self {
        self.query.count = count;
        self
    }

    /// Only levels updated after `since` (the documented `gt` operator on `updated_at`).
    ///
    /// For keeping a copy current use [`Client::sync`] instead: timestamps have
    /// whole-second precision, so a level changed again within the second of `since` is
    /// not after it, and a `since` from the caller's clock drifts from the server's;
    /// `sync` handles both (and products disabled or enabled, which keep their level's
    /// `updated_at`).
    pub fn updated_since(self, since: DateTime<Utc>) -> Self {
        self.filter(crate::fields::UPDATED_AT.gt(since))
    }

    /// Fetches the next page while the current one is being consumed (`pages()` and
    /// `items()`); items and their order are the same either way.
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    fn checked_query(&self) -> Result<Query, Error> {
        if let Some(problem) = self.invalid.first() {
            return Err(Error::invalid_request(format!(
                "{problem}; nothing was sent"
            )));
        }
        let mut query = self.query.clone();
        let limit = &shipstream_inventory_generated::api::params::LIMIT;
        if let Some(size) = self.page_size {
            let (min, max) = page_size_range();
            if !(min..=max).contains(&i64::from(size)) {
                return Err(Error::invalid_request(format!(
                    "page size {size} is out of range: the API accepts {min} to {max}; nothing \
                     was sent"
                )));
            }
            query.limit = Some(size);
        }
        if let Some(max) = self.max_items {
            if max == 0 {
                return Err(Error::invalid_request("max_items must be at least 1"));
            }
            let default = limit
                .default
                .and_then(|d| d.parse::<u32>().ok())
                .unwrap_or(u32::MAX);
            let size = u64::from(query.limit.unwrap_or(default));
            if max < size {
                query.limit = u32::try_from(max).ok();
            }
        }
        Ok(query)
    }

    /// The absolute URL of the first page, for logs and checkpoints. The generated
    /// operation builds it (parameter names, encoding, the spec's value checks).
    pub fn uri(&self) -> Result<String, Error> {
        let url = self.checked_query()?.prepare(&self.client.inner.preparer)?;
        Ok(url.into())
    }

    /// A checkpoint from which [`Client::resume`] runs this whole request.
    pub fn checkpoint(&self) -> Result<Checkpoint, Error> {
        Ok(Checkpoint::new(Some(self.uri()?), 0, 0))
    }

    /// Fetches the first page.
    pub async fn send(self) -> Result<Page, Error> {
        let mut pages = self.pages_inner()?;
        match pages.next_page().await {
            Some(result) => result,
            None => Err(Error::pagination("the server returned no page")),
        }
    }

    fn pages_inner(self) -> Result<Pager, Error> {
        let uri = self.uri()?;
        Ok(Pager::new(
            self.client,
            Checkpoint::new(Some(uri), 0, 0),
            self.max_items,
            self.prefetch,
        ))
    }

    /// Every page, following `next` until the end. A fatal error is yielded once and
    /// ends the stream.
    pub fn pages(self) -> impl Stream<Item = Result<Page, Error>> + Send + 'static {
        match self.pages_inner() {
            Ok(pager) => pager.into_stream().left_stream(),
            Err(e) => futures::stream::once(async move { Err(e) }).right_stream(),
        }
    }

    /// Every level (with its product when asked for), page after page. A record that
    /// does not decode is yielded as an error for which [`Error::is_record`] is true, and
    /// the stream goes on; any other error is yielded once and ends the stream.
    pub fn items(self) -> impl Stream<Item = Result<Item, Error>> + Send + 'static {
        let max = self.max_items;
        crate::pager::items(self.pages(), max)
    }
}

/// Continues an export from a [`Checkpoint`]. Built by [`Client::resume`].
#[derive(Clone, Debug)]
#[must_use = "a resume does nothing until its stream is polled"]
pub struct Resume {
    client: Client,
    checkpoint: Checkpoint,
    max_items: Option<u64>,
    prefetch: bool,
}

impl Resume {
    /// Stops once this many levels have been delivered in total, counting those before
    /// the checkpoint.
    pub fn max_items(mut self, max: u64) -> Self {
        self.max_items = Some(max);
        self
    }

    /// See [`TotalLevelsRequest::prefetch`].
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// The remaining pages.
    pub fn pages(self) -> impl Stream<Item = Result<Page, Error>> + Send + 'static {
        Pager::new(self.client, self.checkpoint, self.max_items, self.prefetch).into_stream()
    }

    /// The remaining levels.
    pub fn items(self) -> impl Stream<Item = Result<Item, Error>> + Send + 'static {
        let remaining = self
            .max_items
            .map(|m| m.saturating_sub(self.checkpoint.items_delivered()));
        crate::pager::items(self.pages(), remaining)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    /// Building a client loads the TLS roots; do it once for all the cases.
    static CLIENT: std::sync::LazyLock<Client> = std::sync::LazyLock::new(|| {
        Client::builder()
            .base_url("https://acme.shipstream.app")
            .token("t")
            .build()
            .unwrap()
    });

    fn client() -> Client {
        CLIENT.clone()
    }

    fn current() -> Url {
        Url::parse("https://acme.shipstream.app/api/global/v1/inventory/levels/total?limit=5")
            .unwrap()
    }

    #[test]
    fn next_links_resolve_like_a_browser_would() {
        let c = client();
        for (next, want) in [
            (
                "/api/global/v1/inventory/levels/total?cursor_start=9",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
            (
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
            (
                "HTTPS://ACME.shipstream.app:443/x",
                "https://acme.shipstream.app/x",
            ),
            (
                "?cursor_start=9",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
            (
                "total?cursor_start=9",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
            (
                "#page-2",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?limit=5",
            ),
            (
                "?cursor_start=9#top",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
        ] {
            assert_eq!(
                c.resolve_next(&current(), next).unwrap().as_str(),
                want,
                "{next}"
            );
        }
        for bad in [
            "https://evil.example/api",
            "http://acme.shipstream.app/api",
            "https://acme.shipstream.app:8443/api",
            "//evil.example/api",
            "https://acme.shipstream.app.evil.example/api",
            "https://user@evil.example/",
            "javascript:alert(1)",
            "http://[::1/",
        ] {
            let err = c.resolve_next(&current(), bad).unwrap_err();
            assert!(err.is_pagination(), "{bad}: {err}");
        }
    }

    proptest! {
        #[test]
        fn any_next_either_stays_on_the_origin_or_is_refused(next in ".{0,80}") {
            let c = client();
            if let Ok(url) = c.resolve_next(&current(), &next) {
                prop_assert_eq!(url.origin(), c.base_url().origin());
            }
        }

        #[test]
        fn host_relative_links_always_resolve(path in "/[a-z0-9_.-][a-z0-9/_.-]{0,40}", query in "[a-z0-9=&_:%,-]{0,40}") {
            let c = client();
            let next = format!("{path}?{query}");
            let url = c.resolve_next(&current(), &next).unwrap();
            prop_assert_eq!(url.host_str(), Some("acme.shipstream.app"));
        }

        #[test]
        fn other_hosts_are_always_refused(host in "[a-z]{1,12}\\.(com|net|app)", port in proptest::option::of(1u16..)) {
            prop_assume!(host != "shipstream.app");
            let c = client();
            let next = match port {
                Some(p) => format!("https://{host}:{p}/api"),
                None => format!("https://{host}/api"),
            };
            prop_assert!(c.resolve_next(&current(), &next).unwrap_err().is_pagination());
        }
    }
}
