//! Retry policy, `Retry-After`, and the retrying transport shared by the facade and the
//! generated client (installed as its `Exec` hook, below progenitor's decoding).

use std::time::Duration;

use crate::Error;
use backon::{BackoffBuilder, ExponentialBuilder};

/// How failed requests are retried. Only the idempotent GET of this API is ever sent, so
/// retrying is always safe.
///
/// Retried: connection errors, timeouts, a broken or truncated body, and the statuses 408,
/// 409, 429, 500, 502, 503 and 504. Never retried: any other 4xx. Waits grow exponentially
/// with jitter; a `Retry-After` header (seconds or an HTTP date) replaces the wait when it
/// is at most [`max_retry_after`](Self::max_retry_after), and a longer one ends the retries.
///
/// ```
/// use std::time::Duration;
/// use shipstream_inventory::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(8)
///     .initial_delay(Duration::from_millis(100))
///     .time_budget(Duration::from_secs(120));
/// assert_eq!(policy.attempts(), 8);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
    time_budget: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            time_budget: Duration::from_secs(300),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts including the first (default 5; at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The first wait (default 200 ms); it doubles on each retry.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The longest computed wait (default 20 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest `Retry-After` that is honoured (default 60 s); a longer one ends the
    /// retries and the error reports it.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// The time one request may spend in attempts and waits together (default 300 s).
    pub fn time_budget(mut self, budget: Duration) -> Self {
        self.time_budget = budget;
        self
    }

    /// Randomise waits (default on) so many clients do not retry in step.
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The configured number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.max_attempts == 0 {
            return Err(Error::config(
                "retry policy: max_attempts must be at least 1",
            ));
        }
        Ok(())
    }

    pub(crate) fn backoff(&self) -> impl backon::Backoff + use<> {
        let mut b = ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter {
            b = b.with_jitter();
        }
        b.build()
    }

    pub(crate) fn budget(&self) -> Duration {
        self.time_budget
    }

    pub(crate) fn retry_after_cap(&self) -> Duration {
        self.max_retry_after
    }
}

/// The statuses worth retrying.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429 | 500 | 502 | 503 | 504)
}

/// Reads `Retry-After`: delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Transport errors worth retrying: everything but errors in building the request.
pub(crate) fn is_retryable_transport(e: &reqwest::Error) -> bool {
    !(e.is_builder() || e.is_redirect())
}

/// What the retry engine needs to know about a failed attempt.
pub(crate) trait Failed {
    /// Whether another attempt may succeed.
    fn retryable(&self) -> bool;
    /// The server's `Retry-After`, if it sent one.
    fn retry_after(&self) -> Option<Duration>;
    /// A short description for the "retrying" log line (never holds the token).
    fn describe(&self) -> String;
}

impl RetryPolicy {
    /// The one retry engine: runs `attempt` again after failures that are
    /// [retryable](Failed::retryable), waiting the backoff's delay (with jitter) or the
    /// server's `Retry-After` when it sent one; a `Retry-After` beyond the cap, the
    /// attempt limit or the time budget ends the retries. Each retry logs "retrying".
    pub(crate) async fn run<T, E, F, Fut>(&self, attempt: F) -> Result<T, E>
    where
        E: Failed,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        use backon::Retryable as _;
        let started = tokio::time::Instant::now();
        let budget = self.budget();
        let cap = self.retry_after_cap();
        attempt
            .retry(self.backoff())
            .sleep(tokio::time::sleep)
            .when(|e: &E| started.elapsed() < budget && e.retryable())
            .adjust(|e: &E, dur| {
                let dur = dur?;
                match e.retry_after() {
                    Some(ra) if ra > cap => None,
                    Some(ra) => Some(ra),
                    None => Some(dur),
                }
            })
            .notify(|e: &E, wait: Duration| {
                tracing::warn!(
                    reason = %e.describe(),
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
            })
            .await
    }
}

/// One failed attempt of the generated client's transport.
enum Attempt {
    Transport(reqwest::Error),
    Status(reqwest::Response),
    Unclonable,
}

impl Failed for Attempt {
    fn retryable(&self) -> bool {
        match self {
            Attempt::Transport(e) => is_retryable_transport(e),
            Attempt::Status(_) => true,
            Attempt::Unclonable => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Attempt::Status(resp) => retry_after(resp.headers()),
            Attempt::Transport(_) | Attempt::Unclonable => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Attempt::Transport(e) => e.to_string(),
            Attempt::Status(r) => format!("HTTP {}", r.status()),
            Attempt::Unclonable => String::new(),
        }
    }
}

/// The generated client's transport: the same policy, applied to status and connection
/// (progenitor reads the body itself, after this hook).
pub(crate) struct RetryingExec {
    pub(crate) policy: RetryPolicy,
    /// The client's limiter; a slot is held until the response's headers arrive
    /// (progenitor reads the body after this hook).
    pub(crate) limiter: Option<std::sync::Arc<crate::limit::Limiter>>,
}

impl shipstream_inventory_generated::Exec for RetryingExec {
    fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
    ) -> shipstream_inventory_generated::ExecFuture<'a> {
        Box::pin(async move {
            let Some(template) = request.try_clone() else {
                return client.execute(request).await;
            };
            let attempt = || async {
                let req = template.try_clone().ok_or(Attempt::Unclonable)?;
                let slot = match &self.limiter {
                    Some(l) => Some(l.acquire().await),
                    None => None,
                };
                let sent = client.execute(req).await;
                if let (Some(slot), Ok(resp)) = (&slot, &sent) {
                    slot.observe(
                        resp.status().as_u16(),
                        resp.headers(),
                        retry_after(resp.headers()),
                    );
                }
                match sent {
                    Ok(resp) if is_retryable_status(resp.status().as_u16()) => {
                        Err(Attempt::Status(resp))
                    }
                    Ok(resp) => Ok(resp),
                    Err(e) => Err(Attempt::Transport(e)),
                }
            };
            match self.policy.run(attempt).await {
                Ok(resp) | Err(Attempt::Status(resp)) => Ok(resp),
                Err(Attempt::Transport(e)) => Err(e),
                // A request with a streaming body cannot be repeated: send it once.
                Err(Attempt::Unclonable) => client.execute(template).await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "retry-after",
            "7".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let future = std::time::SystemTime::now() + Duration::from_secs(120);
        h.insert(
            "retry-after",
            httpdate::fmt_http_date(future)
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        let d = retry_after(&h).unwrap_or_default();
        assert!(
            d > Duration::from_secs(110) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        h.insert(
            "retry-after",
            "soon".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 405, 422, 501] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }
}
