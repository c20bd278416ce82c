//! The client-side limiter: every request of a [`Client`](crate::Client) (its clones
//! included) waits for a slot of the concurrency limit and a token of the rate limit
//! before it is sent, so that a parallel export runs near the server's limits without a
//! storm of 429 and 409 answers.
//!
//! The rate is a GCRA token bucket from `governor`; the concurrency a Tokio semaphore.
//! Both adapt (additive increase, multiplicative decrease, as TCP and aws-sdk's adaptive
//! retry mode do):
//! - a 429 halves the rate (a second, burst-free bucket below the configured one) and
//!   holds every request until its `Retry-After`; each answer that is not refused adds
//!   back about one request a second per second, up to the configured rate;
//! - a 409 halves the number of requests allowed at once; each answer that is not
//!   refused adds 1/window, up to the configured number;
//! - `RateLimit-Remaining: 0` holds requests for one token's time, and a server that
//!   reports lower limits (`RateLimit-Limit`, `X-Concurrency-Limit`) than configured lowers
//!   them. `RateLimit-Limit` counts requests per window of the spec's
//!   [`LIMIT_WINDOW_SECONDS`](shipstream_inventory_generated::api::limits::LIMIT_WINDOW_SECONDS)
//!   (a minute), so it is divided by the window for a rate a second.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use shipstream_inventory_generated::api::limits as spec;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::Error;

/// The limits a [`Client`](crate::Client) keeps to, shared by all its requests and
/// clones. The default is the limits the spec assumes (`x-rate-limits`: 10 requests a
/// second, bursts of 60, 5 at once), adapting to what the server answers.
///
/// ```
/// use shipstream_inventory::{Client, RateLimits};
///
/// let client = Client::builder()
///     .base_url("https://acme.shipstream.app")
///     .token("t")
///     .rate_limits(RateLimits::default().per_second(5).concurrent(3))
///     .build()?;
/// assert_eq!(client.rate_limits().concurrent_requests(), Some(3));
/// # Ok::<(), shipstream_inventory::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    enabled: bool,
    per_second: u32,
    burst: u32,
    concurrent: u32,
    adaptive: bool,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            per_second: spec::REQUESTS_PER_SECOND,
            burst: spec::BURST,
            concurrent: spec::CONCURRENT_REQUESTS,
            adaptive: true,
        }
    }
}

impl RateLimits {
    /// No client-side limits: requests go out as fast as they are made (the server's
    /// 429 and 409 answers are still retried).
    pub fn none() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Requests a second on average (default 10; at least 1).
    pub fn per_second(mut self, n: u32) -> Self {
        self.per_second = n;
        self
    }

    /// Requests that may go out at once before the rate applies (default 60).
    pub fn burst(mut self, n: u32) -> Self {
        self.burst = n;
        self
    }

    /// Requests that may run at once (default 5).
    pub fn concurrent(mut self, n: u32) -> Self {
        self.concurrent = n;
        self
    }

    /// Whether the limits adapt to the server's answers (default on): see the
    /// [`Client`](crate::Client) docs.
    pub fn adaptive(mut self, adaptive: bool) -> Self {
        self.adaptive = adaptive;
        self
    }

    /// The configured requests a second, `None` without limits.
    pub fn requests_per_second(&self) -> Option<u32> {
        self.enabled.then_some(self.per_second)
    }

    /// The configured requests at once, `None` without limits.
    pub fn concurrent_requests(&self) -> Option<u32> {
        self.enabled.then_some(self.concurrent)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.enabled && (self.per_second == 0 || self.burst == 0 || self.concurrent == 0) {
            return Err(Error::config(
                "rate limits: per_second, burst and concurrent must each be at least 1 (use \
                 RateLimits::none() for no limits)",
            ));
        }
        Ok(())
    }
}

/// What the limiter did so far ([`Client::limiter_stats`](crate::Client::limiter_stats)).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct LimiterStats {
    /// Requests let through.
    pub requests: u64,
    /// 429 answers seen.
    pub rate_limited: u64,
    /// 409 answers seen.
    pub over_concurrency: u64,
    /// The requests a second allowed now (lower than configured after a 429).
    pub current_rate: f64,
    /// The requests allowed at once now (lower than configured after a 409).
    pub current_concurrency: u32,
}

struct State {
    /// Allowed requests at once, fractional for additive increase.
    window: f64,
    /// Permits the semaphore holds in all (free and taken).
    permits: u32,
    /// Permits to forget as they come back (after a decrease).
    debt: u32,
    /// The adapted rate, below the configured one after a 429.
    rate: f64,
    /// The rate `adapted` was built for.
    installed: f64,
    adapted: Option<Arc<DefaultDirectRateLimiter>>,
    paused_until: Option<Instant>,
}

pub(crate) struct Limiter {
    limits: RateLimits,
    /// The longest hold a `Retry-After` may put on every request (the retry policy's
    /// `max_retry_after`: a longer one ends that request's retries instead).
    max_pause: Duration,
    ceiling: DefaultDirectRateLimiter,
    slots: Arc<Semaphore>,
    state: Mutex<State>,
    requests: AtomicU64,
    rate_limited: AtomicU64,
    over_concurrency: AtomicU64,
}

/// A request's slot: return it when the response (body included) has been read.
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    limiter: Arc<Limiter>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut s = self.limiter.lock();
        if s.debt > 0 {
            s.debt -= 1;
            s.permits -= 1;
            permit.forget();
        }
    }
}

fn limiter(rate: f64, burst: u32) -> DefaultDirectRateLimiter {
    let period = Duration::from_secs_f64(1.0 / rate.max(0.1));
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst);
    RateLimiter::direct(quota)
}

impl Limiter {
    /// `None` when the limits are off.
    pub(crate) fn new(limits: &RateLimits, max_pause: Duration) -> Option<Arc<Limiter>> {
        if !limits.enabled {
            return None;
        }
        let rate = f64::from(limits.per_second);
        Some(Arc::new(Limiter {
            ceiling: limiter(rate, limits.burst),
            slots: Arc::new(Semaphore::new(limits.concurrent as usize)),
            state: Mutex::new(State {
                window: f64::from(limits.concurrent),
                permits: limits.concurrent,
                debt: 0,
                rate,
                installed: rate,
                adapted: None,
                paused_until: None,
            }),
            limits: limits.clone(),
            max_pause,
            requests: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            over_concurrency: AtomicU64::new(0),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn wait_pause(&self) {
        loop {
            let until = self.lock().paused_until;
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    /// Waits for a slot and a token.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Slot {
        self.wait_pause().await;
        // The semaphore is never closed.
        let permit = self.slots.clone().acquire_owned().await.ok();
        self.ceiling.until_ready().await;
        let adapted = self.lock().adapted.clone();
        if let Some(a) = adapted {
            a.until_ready().await;
        }
        self.wait_pause().await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        Slot {
            permit,
            limiter: self.clone(),
        }
    }

    /// Learns from an answer: its status, `Retry-After` and the rate-limit headers.
    pub(crate) fn observe(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        retry_after: Option<Duration>,
    ) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        // Requests a second: the header counts them per window (a minute).
        let server_rate = number(spec::LIMIT_HEADER)
            .filter(|n| *n > 0)
            .map(|n| n as f64 / f64::from(spec::LIMIT_WINDOW_SECONDS.max(1)));
        let remaining = number(spec::REMAINING_HEADER);
        let server_concurrency = number(spec::CONCURRENCY_LIMIT_HEADER).filter(|n| *n > 0);
        match status {
            429 => {
                self.rate_limited.fetch_add(1, Ordering::Relaxed);
            }
            409 => {
                self.over_concurrency.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        let mut s = self.lock();
        let now = Instant::now();
        let max_pause = self.max_pause;
        let pause = |s: &mut State, d: Duration| {
            let Some(until) = now.checked_add(d.min(max_pause)) else {
                return;
            };
            if s.paused_until.is_none_or(|t| t < until) {
                s.paused_until = Some(until);
            }
        };
        if status == 429 {
            pause(&mut s, retry_after.unwrap_or(Duration::from_secs(1)));
        }
        if remaining == Some(0) {
            let per_second = server_rate.unwrap_or(f64::from(self.limits.per_second));
            pause(&mut s, Duration::from_secs_f64(1.0 / per_second.max(0.1)));
        }
        if !self.limits.adaptive {
            return;
        }
        let ceiling_rate = f64::from(self.limits.per_second);
        let max_window = f64::from(self.limits.concurrent);
        match status {
            429 => s.rate = (s.rate / 2.0).max(0.5),
            409 => s.window = (s.window / 2.0).floor().max(1.0),
            _ => {
                s.rate = (s.rate + 1.0 / s.rate.max(0.5)).min(ceiling_rate);
                s.window = (s.window + 1.0 / s.window.max(1.0)).min(max_window);
            }
        }
        // The server's own figures cap ours.
        if let Some(r) = server_rate {
            s.rate = s.rate.min(r);
        }
        if let Some(c) = server_concurrency {
            s.window = s.window.min(c as f64).max(1.0);
        }
        // Install the rate: burst-free below the configured rate.
        if s.rate >= ceiling_rate {
            s.adapted = None;
            s.installed = ceiling_rate;
        } else if s.adapted.is_none() || s.rate < s.installed || s.rate >= s.installed + 1.0 {
            s.adapted = Some(Arc::new(limiter(s.rate, 1)));
            s.installed = s.rate;
        }
        // Resize the window: forget permits as they come back, or add them.
        let target = s.window.floor().max(1.0) as u32;
        let effective = s.permits - s.debt;
        if target < effective {
            // Free slots are taken away at once; busy ones as they come back.
            for _ in 0..effective - target {
                match self.slots.try_acquire() {
                    Ok(permit) => {
                        permit.forget();
                        s.permits -= 1;
                    }
                    Err(_) => s.debt += 1,
                }
            }
        } else if target > effective {
            let mut add = target - effective;
            let repaid = add.min(s.debt);
            s.debt -= repaid;
            add -= repaid;
            if add > 0 {
                s.permits += add;
                self.slots.add_permits(add as usize);
            }
        }
    }

    pub(crate) fn stats(&self) -> LimiterStats {
        let s = self.lock();
        LimiterStats {
            requests: self.requests.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            over_concurrency: self.over_concurrency.load(Ordering::Relaxed),
            current_rate: s.rate,
            current_concurrency: s.permits - s.debt,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> reqwest::header::HeaderMap {
        let mut h = reqwest::header::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn refusals_decrease_multiplicatively_and_answers_increase_additively() {
        let l = Limiter::new(&RateLimits::default(), Duration::from_secs(60)).unwrap();
        let none = headers(&[]);
        l.observe(429, &none, Some(Duration::ZERO));
        assert_eq!(l.stats().current_rate, 5.0);
        l.observe(429, &none, Some(Duration::ZERO));
        assert_eq!(l.stats().current_rate, 2.5);
        l.observe(409, &none, None);
        assert_eq!(l.stats().current_concurrency, 2);
        l.observe(409, &none, None);
        l.observe(409, &none, None);
        assert_eq!(l.stats().current_concurrency, 1, "never below one");
        for _ in 0..200 {
            l.observe(200, &none, None);
        }
        let s = l.stats();
        assert_eq!((s.current_rate, s.current_concurrency), (10.0, 5));
        assert_eq!((s.rate_limited, s.over_concurrency), (2, 3));
    }

    #[test]
    fn the_servers_lower_limits_cap_the_clients() {
        let l = Limiter::new(&RateLimits::default(), Duration::from_secs(60)).unwrap();
        // 240 a minute (the header's window) is 4 a second.
        let per_window = (4 * spec::LIMIT_WINDOW_SECONDS).to_string();
        l.observe(
            200,
            &headers(&[
                (spec::LIMIT_HEADER, per_window.as_str()),
                (spec::CONCURRENCY_LIMIT_HEADER, "2"),
            ]),
            None,
        );
        let s = l.stats();
        assert_eq!((s.current_rate, s.current_concurrency), (4.0, 2));
    }

    #[test]
    fn a_rate_limit_header_a_minute_is_not_read_as_a_second() {
        // The vendor's figure: 600 a minute is the 10 a second the client assumes, so it
        // lowers nothing; read as a rate a second it would be 60 and lower nothing either,
        // but 180 a minute (3 a second) must lower the rate to 3.
        let l = Limiter::new(&RateLimits::default(), Duration::from_secs(60)).unwrap();
        l.observe(200, &headers(&[(spec::LIMIT_HEADER, "180")]), None);
        assert_eq!(l.stats().current_rate, 3.0);
    }

    /// Fails a test that has not finished within 120 s of Tokio's clock: on the paused
    /// clock a hang that waits on a timer jumps there at once.
    async fn within<F: std::future::Future>(body: F) -> F::Output {
        tokio::time::timeout(Duration::from_secs(120), body)
            .await
            .unwrap_or_else(|_| panic!("the test did not finish within 120 s: a hang"))
    }

    /// The time `acquire` waits, exactly (Tokio's paused clock only moves when every
    /// task waits on a timer).
    async fn hold(l: &Arc<Limiter>) -> Duration {
        let t = Instant::now();
        drop(l.acquire().await);
        t.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_retry_after_holds_requests_exactly_up_to_the_cap() {
        within(async {
            let cap = Duration::from_millis(50);
            // Not adaptive: the halved rate's own limiter (on governor's clock, not
            // Tokio's) would space the requests out.
            let l = Limiter::new(&RateLimits::default().adaptive(false), cap).unwrap();
            l.observe(429, &headers(&[]), Some(Duration::MAX));
            l.observe(429, &headers(&[]), Some(Duration::from_secs(86_400)));
            assert_eq!(hold(&l).await, cap);
            // The hold is over: the next request goes at once.
            assert_eq!(hold(&l).await, Duration::ZERO);
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_every_request_exactly_until_retry_after() {
        within(async {
            let l = Limiter::new(
                &RateLimits::default().adaptive(false),
                Duration::from_secs(60),
            )
            .unwrap();
            l.observe(429, &headers(&[]), Some(Duration::from_millis(300)));
            assert_eq!(hold(&l).await, Duration::from_millis(300));
            // A shorter Retry-After does not shorten a hold in force; a longer one
            // lengthens it.
            l.observe(429, &headers(&[]), Some(Duration::from_millis(700)));
            l.observe(429, &headers(&[]), Some(Duration::from_millis(200)));
            assert_eq!(hold(&l).await, Duration::from_millis(700));
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_409_takes_free_slots_away_at_once() {
        within(async {
            let l = Limiter::new(
                &RateLimits::default().concurrent(4),
                Duration::from_secs(60),
            )
            .unwrap();
            let busy = l.acquire().await;
            l.observe(409, &headers(&[]), None);
            // The window is 2: one busy, one free; a third must wait (for ever: the
            // paused clock reaches the timeout as soon as nothing else can run).
            let _second = l.acquire().await;
            let third = tokio::time::timeout(Duration::from_secs(1), l.acquire()).await;
            assert!(third.is_err(), "a third request got a slot");
            drop(busy);
            assert_eq!(l.stats().current_concurrency, 2);
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_window_run_at_once() {
        within(async {
            let l = Limiter::new(
                &RateLimits::default().concurrent(2),
                Duration::from_secs(60),
            )
            .unwrap();
            let a = l.acquire().await;
            let _b = l.acquire().await;
            let third = tokio::time::timeout(Duration::from_secs(1), l.acquire()).await;
            assert!(third.is_err(), "a third request got a slot");
            drop(a);
            // A slot came back: the third goes at once.
            assert_eq!(hold(&l).await, Duration::ZERO);
        })
        .await
    }
}
