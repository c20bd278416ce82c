//! The one error type of this crate.

use std::{fmt, time::Duration};

use shipstream_inventory_generated::types::ErrorBody;

/// What kind of failure an [`Error`] is; private: callers ask with the `is_*` predicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ErrorKind {
    /// The client configuration is wrong (URL, token, version, retry policy).
    Config,
    /// The request was refused before sending (bad page size, bad filter, ...).
    InvalidRequest,
    /// 401, or a token whose `exp` has passed.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 429 after the retries.
    RateLimited,
    /// 409 (too many concurrent requests) after the retries.
    Conflict,
    /// Another status code from the API (400, 404, 5xx, ...).
    Api,
    /// The request timed out (after the retries).
    Timeout,
    /// No connection could be made, or it broke (after the retries).
    Network,
    /// A 2xx response whose body is not a page (after the retries).
    Decode,
    /// One record of a page did not decode; the page and the stream go on.
    Record,
    /// The server's paging broke a rule: a repeated `next`, a `next` on another origin,
    /// `has_more` without a usable `next`.
    Pagination,
    /// 400: the server does not serve the API version sent (retired, unknown or in the
    /// future).
    ApiVersion,
}

/// A record that did not decode, with its raw JSON and the reason.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RecordError {
    /// Where the record is: `collection[3]` or `included.Product[7]`.
    pub location: String,
    /// The record's raw JSON as received.
    pub raw: String,
    /// Why it did not decode.
    pub reason: String,
}

impl std::error::Error for RecordError {}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 200;
        let shown: String = self.raw.chars().take(MAX).collect();
        let ellipsis = if self.raw.chars().count() > MAX {
            "…"
        } else {
            ""
        };
        write!(
            f,
            "record {} could not be decoded ({}); raw JSON: {shown}{ellipsis}",
            self.location, self.reason
        )
    }
}

/// Everything that can go wrong. Opaque: ask it with the `is_*` predicates, [`status`],
/// [`api_error`].
///
/// The message (`Display`) says what went wrong and what to do; the underlying error
/// (from the HTTP stack or the JSON decoder), when there is one, comes only through
/// [`source()`](std::error::Error::source), so a report that prints the chain (`{:#}` with
/// anyhow, tracing) shows it once. No message, `Debug` output or log line of this crate
/// contains the token.
///
/// [`status`]: Error::status
/// [`api_error`]: Error::api_error
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    body: Option<ErrorBody>,
    retry_after: Option<Duration>,
    attempts: u32,
    record: Option<RecordError>,
    /// The server's version-error header, for [`ErrorKind::ApiVersion`].
    version_error: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            status: None,
            body: None,
            retry_after: None,
            attempts: 0,
            record: None,
            version_error: None,
            source: None,
        }))
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub(crate) fn pagination(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Pagination, message)
    }

    pub(crate) fn token_expired(at: Option<chrono::DateTime<chrono::Utc>>) -> Self {
        let when = at
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "an unknown time".into());
        Self::new(
            ErrorKind::Unauthorized,
            format!(
                "the token expired at {when}; nothing was sent. Make a new token in the Global \
                 Integrations screen of the instance and set SHIPSTREAM_TOKEN"
            ),
        )
    }

    pub(crate) fn record(record: RecordError) -> Self {
        let mut e = Self::new(ErrorKind::Record, record.to_string());
        e.0.record = Some(record);
        e
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.0.attempts = attempts;
        self
    }

    /// An error from a non-success HTTP response.
    pub(crate) fn from_status(
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        what: &str,
    ) -> Self {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let api_msg = parsed
            .as_ref()
            .map(|b| {
                b.errors
                    .iter()
                    .map(|e| {
                        let details: Vec<String> = e
                            .details
                            .iter()
                            .map(|d| format!("{}: {}", d.key, d.message))
                            .collect();
                        if details.is_empty() {
                            e.message.clone()
                        } else {
                            format!("{} ({})", e.message, details.join("; "))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .filter(|m| !m.is_empty());
        let said = api_msg
            .map(|m| format!(": the API said \"{m}\""))
            .unwrap_or_default();
        let (kind, advice) = match status {
            401 => (
                ErrorKind::Unauthorized,
                "the token is invalid or expired; make a new one in the Global Integrations \
                 screen of the instance and set SHIPSTREAM_TOKEN"
                    .to_owned(),
            ),
            403 => (
                ErrorKind::Forbidden,
                "the token may not read inventory levels; check the integration's permissions"
                    .to_owned(),
            ),
            429 => (
                ErrorKind::RateLimited,
                format!(
                    "rate limited even after retrying{}; slow down or raise the retry policy's \
                     limits",
                    retry_after
                        .map(|d| format!(" (the server asked to wait {}s)", d.as_secs()))
                        .unwrap_or_default()
                ),
            ),
            409 => (
                ErrorKind::Conflict,
                "too many requests of this user run at once; run fewer in parallel".to_owned(),
            ),
            400 => (
                ErrorKind::Api,
                "the API refused the request; check the filter, sort, fields and page size"
                    .to_owned(),
            ),
            404 => (
                ErrorKind::Api,
                "not found; check the instance URL (it should look like \
                 https://acme.shipstream.app)"
                    .to_owned(),
            ),
            300..=399 => (
                ErrorKind::Api,
                "the server redirected elsewhere; redirects off the configured origin are not \
                 followed so the token stays on it. Check the instance URL"
                    .to_owned(),
            ),
            500..=599 => (
                ErrorKind::Api,
                "the server failed even after retrying; try again later".to_owned(),
            ),
            _ => (ErrorKind::Api, "unexpected status".to_owned()),
        };
        let mut e = Self::new(
            kind,
            format!("{what} failed with HTTP {status}{said}; {advice}"),
        );
        e.0.status = Some(status);
        e.0.body = parsed;
        e.0.retry_after = retry_after;
        e
    }

    /// A 400 that refused the API version `sent`, with the server's version-error header
    /// `why`.
    pub(crate) fn api_version_refused(
        body: &[u8],
        sent: &str,
        why: &str,
        retry_after: Option<Duration>,
    ) -> Self {
        let mut e = Self::from_status(400, body, retry_after, "listing inventory levels");
        let why = why.trim();
        e.0.kind = ErrorKind::ApiVersion;
        e.0.message = format!(
            "the server refused API version {sent}: \"{why}\". Send a version it serves \
             (SHIPSTREAM_API_VERSION, ClientBuilder::api_version or --api-version), or upgrade \
             to a shipstream-inventory release generated for its latest version"
        );
        e.0.version_error = Some(why.to_owned());
        e
    }

    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The API's parsed error body, when it sent one.
    pub fn api_error(&self) -> Option<&ErrorBody> {
        self.0.body.as_ref()
    }

    /// How long the server asked to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// How many attempts were made before giving up (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// The record that did not decode, when [`is_record`](Error::is_record).
    pub fn record_error(&self) -> Option<&RecordError> {
        self.0.record.as_ref()
    }

    /// A configuration problem.
    pub fn is_config(&self) -> bool {
        self.0.kind == ErrorKind::Config
    }

    /// The request was refused before sending.
    pub fn is_invalid_request(&self) -> bool {
        self.0.kind == ErrorKind::InvalidRequest
    }

    /// 401 or an expired token.
    pub fn is_unauthorized(&self) -> bool {
        self.0.kind == ErrorKind::Unauthorized
    }

    /// 403.
    pub fn is_forbidden(&self) -> bool {
        self.0.kind == ErrorKind::Forbidden
    }

    /// 429.
    pub fn is_rate_limited(&self) -> bool {
        self.0.kind == ErrorKind::RateLimited
    }

    /// 409: too many requests at once.
    pub fn is_conflict(&self) -> bool {
        self.0.kind == ErrorKind::Conflict
    }

    /// Another answer of the API (4xx/5xx) that no other predicate names.
    pub fn is_api(&self) -> bool {
        self.0.kind == ErrorKind::Api
    }

    /// A timeout.
    pub fn is_timeout(&self) -> bool {
        self.0.kind == ErrorKind::Timeout
    }

    /// A connection failure.
    pub fn is_network(&self) -> bool {
        self.0.kind == ErrorKind::Network
    }

    /// A 2xx body that is not a page.
    pub fn is_decode(&self) -> bool {
        self.0.kind == ErrorKind::Decode
    }

    /// One record did not decode; the stream goes on after it.
    pub fn is_record(&self) -> bool {
        self.0.kind == ErrorKind::Record
    }

    /// The server's paging broke a rule (loop, off-origin `next`, missing `next`).
    pub fn is_pagination(&self) -> bool {
        self.0.kind == ErrorKind::Pagination
    }

    /// 400: the server does not serve the API version sent; [`api_version_error`] holds
    /// what the server said of it, naming its latest version.
    ///
    /// [`api_version_error`]: Error::api_version_error
    pub fn is_api_version(&self) -> bool {
        self.0.kind == ErrorKind::ApiVersion
    }

    /// The server's `X-ShipStream-API-Version-Error` header, when
    /// [`is_api_version`](Error::is_api_version).
    pub fn api_version_error(&self) -> Option<&str> {
        self.0.version_error.as_deref()
    }

    /// Whether trying again later may succeed (the retries already happened).
    pub fn is_retryable(&self) -> bool {
        match self.0.kind {
            ErrorKind::RateLimited
            | ErrorKind::Conflict
            | ErrorKind::Timeout
            | ErrorKind::Network
            | ErrorKind::Decode => true,
            ErrorKind::Api => self.0.status.is_some_and(crate::retry::is_retryable_status),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        if self.0.attempts > 1 {
            write!(f, " (after {} attempts)", self.0.attempts)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("message", &self.0.message)
            .field("status", &self.0.status)
            .field("attempts", &self.0.attempts)
            .field("source", &self.0.source)
            .finish_non_exhaustive()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

/// Turns a reqwest error into ours; reqwest's error (its message carries the URL, never
/// the token) is the source.
pub(crate) fn from_reqwest(e: reqwest::Error, attempts: u32) -> Error {
    let (kind, advice) = if e.is_timeout() {
        (
            ErrorKind::Timeout,
            "the request timed out even after retrying; check the network or raise the timeouts",
        )
    } else if e.is_decode() {
        (ErrorKind::Decode, "the response body could not be read")
    } else {
        (
            ErrorKind::Network,
            "could not talk to the instance even after retrying; check the URL and the network",
        )
    };
    Error::new(kind, advice)
        .with_attempts(attempts)
        .with_source(e)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// The chain `{:#}`-style reporters print: the message, then each source.
    fn chain(e: &Error) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut cause = e.source();
        while let Some(c) = cause {
            out.push(c.to_string());
            cause = c.source();
        }
        out
    }

    #[test]
    fn the_cause_shows_once_through_source_only() {
        let cause = serde_json::from_str::<u32>("\"five\"").unwrap_err();
        let cause_text = cause.to_string();
        let e = Error::new(ErrorKind::Decode, "not a page of inventory levels").with_source(cause);
        let shown = chain(&e);
        assert_eq!(
            shown,
            vec![
                "not a page of inventory levels".to_owned(),
                cause_text.clone()
            ]
        );
        assert_eq!(
            shown.join(": ").matches(cause_text.as_str()).count(),
            1,
            "{shown:?}"
        );
    }
}
