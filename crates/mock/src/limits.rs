//! The limits the mock enforces when asked ([`MockConfig::rate_limit`],
//! [`MockConfig::max_concurrent`]): a token bucket answering 429 with `Retry-After`, a cap
//! on requests running at once answering 409 (without `Retry-After`, as documented), and
//! the rate-limit headers on every answer (`RateLimit-Limit` per minute)
//! of the endpoint. Header names come from the spec (`api::limits`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use shipstream_inventory_generated::api::limits as spec;

use crate::config::MockConfig;
use crate::handler::error_response;
use crate::query::Kind;
use crate::server::MockState;

/// How many requests the mock's limits let through and refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LimitCounts {
    /// Requests let through to the endpoint.
    pub admitted: u64,
    /// Requests refused with 429 (over the rate).
    pub rate_limited: u64,
    /// Requests refused with 409 (over the concurrency limit).
    pub over_concurrency: u64,
}

impl LimitCounts {
    /// Requests refused either way.
    pub fn refused(&self) -> u64 {
        self.rate_limited + self.over_concurrency
    }
}

impl std::fmt::Display for LimitCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests admitted, {} refused with 429 (rate), {} refused with 409 (concurrency)",
            self.admitted, self.rate_limited, self.over_concurrency
        )
    }
}

struct Bucket {
    per_second: f64,
    burst: f64,
    /// Tokens left and when they were counted.
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    /// Takes a token: `Ok(tokens left)` or `Err(seconds until one is there)`.
    fn take(&self) -> Result<f64, f64> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let tokens =
            (s.0 + now.duration_since(s.1).as_secs_f64() * self.per_second).min(self.burst);
        *s = (tokens, now);
        if tokens >= 1.0 {
            s.0 = tokens - 1.0;
            Ok(s.0)
        } else {
            Err((1.0 - tokens) / self.per_second)
        }
    }
}

pub(crate) struct Limits {
    bucket: Option<Bucket>,
    max_concurrent: Option<u32>,
    /// Whether answers carry the rate-limit headers.
    send_headers: bool,
    running: AtomicU32,
    admitted: AtomicU64,
    rate_limited: AtomicU64,
    over_concurrency: AtomicU64,
}

impl Limits {
    pub(crate) fn new(config: &MockConfig) -> Limits {
        Limits {
            bucket: config.rate_limit.map(|per_second| Bucket {
                per_second,
                burst: f64::from(config.burst.max(1)),
                state: Mutex::new((f64::from(config.burst.max(1)), Instant::now())),
            }),
            max_concurrent: config.max_concurrent,
            send_headers: config.limit_headers,
            running: AtomicU32::new(0),
            admitted: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            over_concurrency: AtomicU64::new(0),
        }
    }

    fn enabled(&self) -> bool {
        self.bucket.is_some() || self.max_concurrent.is_some()
    }

    pub(crate) fn counts(&self) -> LimitCounts {
        LimitCounts {
            admitted: self.admitted.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            over_concurrency: self.over_concurrency.load(Ordering::Relaxed),
        }
    }

    /// Adds the rate-limit headers that apply.
    fn headers(&self, response: &mut Response, remaining: Option<f64>, current: u32) {
        if !self.send_headers {
            return;
        }
        let h = response.headers_mut();
        let mut put = |name: &str, value: u64| {
            if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                h.insert(name, HeaderValue::from(value));
            }
        };
        if let (Some(b), Some(left)) = (&self.bucket, remaining) {
            // Per window (a minute), as the header is documented.
            put(
                spec::LIMIT_HEADER,
                (b.per_second * f64::from(spec::LIMIT_WINDOW_SECONDS)).ceil() as u64,
            );
            put(spec::REMAINING_HEADER, left.floor().max(0.0) as u64);
        }
        if let Some(max) = self.max_concurrent {
            put(spec::CONCURRENCY_LIMIT_HEADER, u64::from(max));
            put(spec::CONCURRENCY_CURRENT_HEADER, u64::from(current));
        }
    }
}

/// Decrements the running count when the request is answered (or cancelled).
struct Running<'a>(&'a AtomicU32);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The middleware of the levels route.
pub(crate) async fn limit(State(state): State<MockState>, req: Request, next: Next) -> Response {
    let limits = &state.inner.limits;
    if !limits.enabled() {
        return next.run(req).await;
    }
    let remaining = match limits.bucket.as_ref().map(Bucket::take) {
        None => None,
        Some(Ok(left)) => Some(left),
        Some(Err(wait)) => {
            limits.rate_limited.fetch_add(1, Ordering::Relaxed);
            let mut r = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                Kind::Meaning,
                "Too many requests: the rate limit was exceeded; retry after the number of \
                 seconds in Retry-After.",
                &[],
            );
            // Whole seconds, as the API sends them; at least 1.
            let secs = wait.ceil().max(1.0) as u64;
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            let current = limits.running.load(Ordering::Acquire);
            limits.headers(&mut r, Some(0.0), current);
            return r;
        }
    };
    let current = limits.running.fetch_add(1, Ordering::AcqRel) + 1;
    let _running = Running(&limits.running);
    if limits.max_concurrent.is_some_and(|max| current > max) {
        limits.over_concurrency.fetch_add(1, Ordering::Relaxed);
        let mut r = error_response(
            StatusCode::CONFLICT,
            Kind::Meaning,
            "Too many requests of this user are running at once; retry when one has finished.",
            &[],
        );
        // No Retry-After: the vendor documents it on 429 only.
        limits.headers(&mut r, remaining, current - 1);
        return r;
    }
    limits.admitted.fetch_add(1, Ordering::Relaxed);
    let mut r = next.run(req).await;
    limits.headers(&mut r, remaining, current);
    r
}

/// The defaults the spec assumes (`x-rate-limits`), for callers that want the documented
/// limits: `(requests per second, burst, concurrent requests)`.
pub fn documented_limits() -> (f64, u32, u32) {
    (
        f64::from(spec::REQUESTS_PER_SECOND),
        spec::BURST,
        spec::CONCURRENT_REQUESTS,
    )
}
