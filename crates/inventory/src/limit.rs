//! The client-side limiter: every request of a [`Client`](crate::Client) (its clones
//! included) waits for a slot of the concurrency limit and a token of the rate limit
//! before it is sent, so that a parallel export runs near the server's limits without a
//! storm of 429 and 409 answers.
//!
//! The rate is a GCRA token bucket from `governor`; the concurrency a Tokio semaphore.
//! The Global API documents no limits, so the configured ones (the spec's guess) are only
//! a ceiling, and the limiter learns the server's from its answers (as TCP's congestion
//! control and aws-sdk's adaptive retry mode do, with a memory of where refusals began):
//! - **Slow start.** One request runs at a time until an answer comes; then each answer
//!   that is not refused adds one (the window doubles each round trip) until the first
//!   refusal, and 1/window after it, up to the configured number at once.
//! - **A 409** means more requests ran at once than the server takes: the number that
//!   were running, less one, becomes a learned ceiling of requests at once.
//! - **A 429** holds every request until its `Retry-After`, and lowers the rate from the
//!   rate the client was really sending (measured over its latest requests, not the
//!   configured one): to half of it at once, and to a learned ceiling of 0.7 times it, up
//!   to which later answers bring the rate back quickly. Refusals of requests sent before
//!   a decrease belong to it and do not lower the rate again, nor does a 429 whose
//!   `Retry-After` is 0 (a retry at once is asked for: not a rate the server enforces).
//! - **Probing.** After 100 answers in a row without a refusal, each learned ceiling is
//!   raised a step (one more at once, a tenth more a second), so a server that raised its
//!   limits is found again.
//! - **The server's figures are hard ceilings.** `RateLimit-Limit` (requests per window of
//!   the spec's
//!   [`LIMIT_WINDOW_SECONDS`](shipstream_inventory_generated::api::limits::LIMIT_WINDOW_SECONDS),
//!   a minute, so divided by it) caps the rate, `X-Concurrency-Limit` the requests at once,
//!   and `RateLimit-Remaining: 0` holds requests for one token's time. A server that sends
//!   them refuses nothing the client could have known about: the first answer tells them,
//!   and slow start sends only one request before it. The vendor calls the headers
//!   informational and gives its limit per second elsewhere, so a `RateLimit-Limit` under
//!   one request a second read per minute (the per-second figure 10, say, which would
//!   pace one request every six seconds) caps nothing: the rate is learnt from 429s.

use std::collections::VecDeque;
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
/// second, 5 at once) as a ceiling, below which the limiter learns the server's own from
/// its answers ([`RateLimits::adaptive`]).
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

    /// Requests that may go out at once before the rate applies (default 60), when the
    /// limits do not [adapt](Self::adaptive): adaptive limits pace requests evenly.
    pub fn burst(mut self, n: u32) -> Self {
        self.burst = n;
        self
    }

    /// Requests that may run at once (default 5).
    pub fn concurrent(mut self, n: u32) -> Self {
        self.concurrent = n;
        self
    }

    /// Whether the limits adapt to the server's answers (default on): one request at a
    /// time until the first answer, then more up to the configured number at once;
    /// requests paced evenly; the server's `RateLimit-Limit` and `X-Concurrency-Limit`
    /// cap them; a 409 sets a ceiling of requests at once (the number that ran, less one),
    /// a 429 holds every request until its `Retry-After` and lowers the rate from the rate
    /// really sent, to a ceiling probed again after 100 answers in a row without a refusal.
    /// Off, the configured rate, burst and concurrency apply as they are.
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
    /// The requests allowed at once now: 1 until the first answer (slow start), lower than
    /// configured after a 409.
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
    /// When adaptive, the earliest time the next request may go: requests are spaced
    /// 1/rate apart, without a burst (on Tokio's clock).
    next_send: Option<Instant>,
    paused_until: Option<Instant>,
    /// When the latest hold (a `Retry-After`) ended or ends.
    hold_end: Option<Instant>,
    /// Requests at once learned from 409s (the most the server took).
    window_ceiling: Option<f64>,
    /// Requests a second learned from 429s (below a rate the server refused).
    rate_ceiling: Option<f64>,
    /// The server's own figures, from its headers.
    server_rate: Option<f64>,
    server_window: Option<f64>,
    /// Answers without a refusal since the last refusal or probe.
    calm: u32,
    /// When the rate was last lowered (refusals soon after belong to that decrease).
    last_decrease: Option<Instant>,
    /// When the latest requests were sent, oldest first.
    sent: VecDeque<Instant>,
    /// Answers let through since the last 429 (or the start).
    admitted_since_hold: u32,
}

/// Requests whose send times measure the rate really sent.
const SENT_SAMPLES: usize = 8;
/// Only sends this recent count towards that rate.
const SENT_HORIZON: Duration = Duration::from_secs(5);
/// After a 429 the rate drops to this share of the rate really sent...
const RATE_BACKOFF: f64 = 0.5;
/// ...and may come back quickly up to this share of it, no higher until a probe.
const RATE_CEILING_SHARE: f64 = 0.7;
/// Refusals within this long of a decrease belong to it.
const DECREASE_EPISODE: Duration = Duration::from_secs(1);
/// Answers in a row without a refusal before a learned ceiling is raised a step.
const PROBE_AFTER: u32 = 100;
/// The share of the rate a server announces that the client paces at.
const SERVER_RATE_SHARE: f64 = 0.97;
/// The lowest rate the limiter goes down to, requests a second.
const MIN_RATE: f64 = 0.2;

/// Requests a second over the sends in `sent` within [`SENT_HORIZON`] of `now` and since
/// `since` (the end of the last hold: a hold is not a rate the client chose), when there
/// are at least three of them.
fn sent_rate(sent: &VecDeque<Instant>, now: Instant, since: Option<Instant>) -> Option<f64> {
    let recent: Vec<Instant> = sent
        .iter()
        .copied()
        .filter(|t| now.saturating_duration_since(*t) <= SENT_HORIZON)
        .filter(|t| since.is_none_or(|s| *t >= s))
        .collect();
    let (first, last) = (recent.first()?, recent.last()?);
    let span = last.saturating_duration_since(*first).as_secs_f64();
    // A span under half a second (requests let go together) says little: count it as half
    // a second rather than read a burst as a rate.
    (recent.len() >= 3).then(|| (recent.len() - 1) as f64 / span.max(0.5))
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
    /// Requests sent and not yet answered in full (their slot not yet returned).
    in_flight: std::sync::atomic::AtomicU32,
    rate_limited: AtomicU64,
    over_concurrency: AtomicU64,
}

/// A request's slot: return it when the response (body included) has been read.
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    limiter: Arc<Limiter>,
    /// When the request went.
    sent_at: Instant,
}

impl Slot {
    /// Lets the limiter learn from the answer to this slot's request.
    pub(crate) fn observe(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        retry_after: Option<Duration>,
    ) {
        self.limiter
            .observe_sent(status, headers, retry_after, Some(self.sent_at));
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.limiter.in_flight.fetch_sub(1, Ordering::AcqRel);
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
        // Slow start: one request at a time until an answer comes.
        let start = if limits.adaptive {
            1
        } else {
            limits.concurrent
        };
        Some(Arc::new(Limiter {
            ceiling: limiter(rate, limits.burst),
            slots: Arc::new(Semaphore::new(start as usize)),
            state: Mutex::new(State {
                window: f64::from(start),
                permits: start,
                debt: 0,
                rate,
                next_send: None,
                paused_until: None,
                hold_end: None,
                window_ceiling: None,
                rate_ceiling: None,
                server_rate: None,
                server_window: None,
                calm: 0,
                last_decrease: None,
                sent: VecDeque::with_capacity(SENT_SAMPLES),
                admitted_since_hold: 0,
            }),
            limits: limits.clone(),
            max_pause,
            requests: AtomicU64::new(0),
            in_flight: std::sync::atomic::AtomicU32::new(0),
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
        loop {
            // Adaptive: requests are paced evenly at the current rate, 1/rate apart and not
            // before a hold ends, without a burst: a burst is what a server that keeps its
            // limits to itself refuses first, several requests at once before the first
            // refusal can hold the rest (the configured burst applies only when the limits
            // do not adapt).
            let at = {
                let mut s = self.lock();
                if self.limits.adaptive {
                    let now = Instant::now();
                    let at = [s.next_send, s.paused_until]
                        .into_iter()
                        .flatten()
                        .fold(now, Instant::max);
                    s.next_send =
                        at.checked_add(Duration::from_secs_f64(1.0 / s.rate.max(MIN_RATE)));
                    Some(at)
                } else {
                    None
                }
            };
            if let Some(at) = at {
                tokio::time::sleep_until(at).await;
            }
            // A hold that began while this request waited for its time: wait it out and
            // take a new time after it, so the requests held do not all go when it ends.
            let held = self.lock().paused_until.is_some_and(|t| t > Instant::now());
            if !held {
                break;
            }
            self.wait_pause().await;
            if !self.limits.adaptive {
                break;
            }
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        {
            let mut s = self.lock();
            if s.sent.len() == SENT_SAMPLES {
                s.sent.pop_front();
            }
            s.sent.push_back(Instant::now());
        }
        Slot {
            permit,
            limiter: self.clone(),
            sent_at: Instant::now(),
        }
    }

    /// Learns from an answer: its status, `Retry-After` and the rate-limit headers (for a
    /// request whose send time is unknown).
    #[cfg(test)]
    pub(crate) fn observe(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        retry_after: Option<Duration>,
    ) {
        self.observe_sent(status, headers, retry_after, None);
    }

    /// Learns from an answer to a request sent at `sent_at`: its status, `Retry-After`
    /// and the rate-limit headers. A refusal of a request sent before the last decrease
    /// belongs to that decrease (without `sent_at`: one within a second of it).
    pub(crate) fn observe_sent(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        retry_after: Option<Duration>,
        sent_at: Option<Instant>,
    ) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        // Requests a second: the header counts them per window (a minute). The vendor
        // calls the header informational and its table gives the limit a second, so a
        // value under one a second read per window (such as the table's 10) may be that
        // figure: it caps nothing, and 429s teach the rate instead.
        let window = u64::from(spec::LIMIT_WINDOW_SECONDS.max(1));
        let server_rate = number(spec::LIMIT_HEADER)
            .filter(|n| *n >= window)
            .map(|n| n as f64 / window as f64);
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
        // The end of the hold before any this answer starts.
        let previous_hold_end = s.hold_end.filter(|t| *t <= now);
        let max_pause = self.max_pause;
        let pause_from = |s: &mut State, from: Instant, d: Duration| {
            let Some(until) = from.checked_add(d.min(max_pause)) else {
                return;
            };
            if s.paused_until.is_none_or(|t| t < until) {
                s.paused_until = Some(until);
                s.hold_end = Some(until);
            }
        };
        if status == 429 {
            pause_from(&mut s, now, retry_after.unwrap_or(Duration::from_secs(1)));
        }
        if remaining == Some(0) {
            // The server's bucket emptied when it took the request: a token comes back
            // one token's time after that (about when it was sent), not after the answer.
            let per_second = server_rate.unwrap_or(f64::from(self.limits.per_second));
            let token = Duration::from_secs_f64(1.0 / per_second.max(0.1));
            pause_from(&mut s, sent_at.unwrap_or(now).min(now), token);
        }
        if !self.limits.adaptive {
            return;
        }
        let ceiling_rate = f64::from(self.limits.per_second);
        let max_window = f64::from(self.limits.concurrent);
        if let Some(r) = server_rate {
            s.server_rate = Some(r);
        }
        if let Some(c) = server_concurrency {
            s.server_window = Some((c as f64).max(1.0));
        }
        match status {
            429 => {
                s.calm = 0;
                // `Retry-After: 0` asks for the retry at once: a refusal that is not about
                // the rate (a busy proxy, say), which lowers nothing.
                let immediate = retry_after == Some(Duration::ZERO);
                let episode = immediate
                    || s.last_decrease.is_some_and(|t| match sent_at {
                        Some(sent) => sent <= t,
                        None => now.saturating_duration_since(t) < DECREASE_EPISODE,
                    });
                if !episode {
                    let really_sent = sent_rate(&s.sent, now, previous_hold_end)
                        .map_or(s.rate, |r| r.min(s.rate));
                    // Refused with at most one answer let through since the last hold
                    // (or the start): the rate is far over the server's, cut deeper.
                    let deep = s.admitted_since_hold <= 1;
                    let (backoff, share) = if deep {
                        (RATE_BACKOFF / 2.0, RATE_CEILING_SHARE / 2.0)
                    } else {
                        (RATE_BACKOFF, RATE_CEILING_SHARE)
                    };
                    // A server whose Retry-After is the time to its next free request
                    // refills at least one request per Retry-After: no lower than that.
                    let floor = retry_after
                        .filter(|d| *d >= Duration::from_secs(1))
                        .map_or(MIN_RATE, |d| (0.9 / d.as_secs_f64()).max(MIN_RATE));
                    s.rate = (really_sent * backoff).max(floor);
                    let learned = (really_sent * share).max(floor);
                    s.rate_ceiling = Some(s.rate_ceiling.map_or(learned, |c| c.min(learned)));
                    s.last_decrease = Some(now);
                }
                s.admitted_since_hold = 0;
            }
            409 => {
                s.calm = 0;
                // The requests sent and running when it was refused, this one included
                // (not those holding a slot while they wait for their time to go).
                let running = self.in_flight.load(Ordering::Acquire);
                let learned = f64::from(running.saturating_sub(1).max(1));
                s.window_ceiling = Some(s.window_ceiling.map_or(learned, |c| c.min(learned)));
                s.window = s.window.min(learned);
            }
            _ => {
                s.calm += 1;
                s.admitted_since_hold = s.admitted_since_hold.saturating_add(1);
                if s.calm >= PROBE_AFTER {
                    s.calm = 0;
                    s.window_ceiling = s.window_ceiling.map(|c| c + 1.0);
                    s.rate_ceiling = s.rate_ceiling.map(|c| c * 1.1);
                }
                let window_cap = s.window_ceiling.unwrap_or(max_window).min(max_window);
                if s.window < window_cap {
                    // Slow start doubles the window each round trip until the first
                    // refusal; then it grows by one a round trip.
                    let refused_before = s.window_ceiling.is_some() || s.last_decrease.is_some();
                    let step = if refused_before {
                        1.0 / s.window.max(1.0)
                    } else {
                        1.0
                    };
                    s.window = (s.window + step).min(window_cap);
                }
                let rate_cap = s.rate_ceiling.unwrap_or(ceiling_rate).min(ceiling_rate);
                if s.rate < rate_cap {
                    s.rate = (s.rate + ((rate_cap - s.rate) * 0.25).max(0.1)).min(rate_cap);
                }
            }
        }
        // The server's own figures cap ours; its rate with a margin for the jitter
        // between our clock and its (paced exactly at a burst-free server's rate, one
        // request in a few would arrive a little early).
        if let Some(r) = s.server_rate {
            s.rate = s.rate.min(r * SERVER_RATE_SHARE);
        }
        if let Some(c) = s.server_window {
            s.window = s.window.min(c).max(1.0);
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

    /// Answers `n` requests without a refusal.
    fn answer(l: &Limiter, n: usize) {
        for _ in 0..n {
            l.observe(200, &headers(&[]), None);
        }
    }

    #[test]
    fn the_window_opens_one_at_a_time_and_a_409_sets_a_ceiling_until_a_probe() {
        let l = Limiter::new(&RateLimits::default(), Duration::from_secs(60)).unwrap();
        assert_eq!(l.stats().current_concurrency, 1, "slow start");
        answer(&l, 1);
        assert_eq!(l.stats().current_concurrency, 2);
        answer(&l, 20);
        assert_eq!(
            l.stats().current_concurrency,
            5,
            "up to the configured number"
        );
        // Three running when the server refused one: it takes two.
        let running: Vec<_> = (0..3)
            .map(|_| l.slots.clone().try_acquire_owned())
            .collect();
        assert!(running.iter().all(Result::is_ok));
        l.in_flight.store(3, Ordering::Release);
        l.observe(409, &headers(&[]), None);
        l.in_flight.store(0, Ordering::Release);
        drop(running);
        assert_eq!(l.stats().current_concurrency, 2);
        answer(&l, (PROBE_AFTER - 1) as usize);
        assert_eq!(l.stats().current_concurrency, 2, "no higher before a probe");
        answer(&l, 3);
        assert_eq!(l.stats().current_concurrency, 3, "the probe tries one more");
        assert_eq!(l.stats().over_concurrency, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_lowers_the_rate_from_the_rate_really_sent() {
        within(async {
            let l = Limiter::new(&RateLimits::default(), Duration::from_secs(60)).unwrap();
            answer(&l, 10);
            // Sequential requests every 200 ms: 5 a second, half the configured 10.
            for _ in 0..5 {
                drop(l.acquire().await);
                tokio::time::advance(Duration::from_millis(200)).await;
            }
            // A 429 whose Retry-After is 0 asks for a retry at once: it lowers nothing.
            l.observe(429, &headers(&[]), Some(Duration::ZERO));
            assert_eq!(l.stats().current_rate, 10.0);
            l.observe(429, &headers(&[]), Some(Duration::from_secs(1)));
            let halved = l.stats().current_rate;
            assert!((halved - 2.5).abs() < 0.2, "{halved}");
            // A second refusal of the same episode does not lower it again.
            l.observe(429, &headers(&[]), Some(Duration::from_secs(1)));
            assert_eq!(l.stats().current_rate, halved);
            // Answers bring it back to 0.7 of what was refused, no higher.
            answer(&l, 50);
            let back = l.stats().current_rate;
            assert!((back - 3.5).abs() < 0.3, "{back}");
            assert_eq!(l.stats().rate_limited, 3);
        })
        .await
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
        assert_eq!(s.current_concurrency, 2);
        assert!(
            (s.current_rate - 4.0 * SERVER_RATE_SHARE).abs() < 1e-9,
            "{}",
            s.current_rate
        );
    }

    #[test]
    fn a_rate_limit_header_a_minute_is_not_read_as_a_second() {
        // The vendor's figure: 600 a minute is the 10 a second the client assumes, so it
        // lowers nothing; read as a rate a second it would be 60 and lower nothing either,
        // but 180 a minute (3 a second) must lower the rate to 3.
        let l = Limiter::new(&RateLimits::default(), Duration::from_secs(60)).unwrap();
        l.observe(200, &headers(&[(spec::LIMIT_HEADER, "180")]), None);
        assert!((l.stats().current_rate - 3.0 * SERVER_RATE_SHARE).abs() < 1e-9);
    }

    use shipstream_inventory_contract_tests::within;

    #[tokio::test(start_paused = true)]
    async fn a_per_second_figure_in_the_rate_limit_header_does_not_pace_one_every_six_seconds() {
        within(async {
            let l = Limiter::new(&RateLimits::default(), Duration::from_secs(60)).unwrap();
            // The vendor's table gives 10 a second; read per minute that is one request
            // every six seconds. It caps nothing: ten requests take a second, not a minute.
            l.observe(200, &headers(&[(spec::LIMIT_HEADER, "10")]), None);
            assert_eq!(l.stats().current_rate, 10.0);
            let started = Instant::now();
            for _ in 0..10 {
                drop(l.acquire().await);
            }
            let ten = started.elapsed();
            assert!(ten <= Duration::from_secs(1), "{ten:?}");
            // One a second read per minute (60) still caps: the next ten take nine seconds.
            l.observe(200, &headers(&[(spec::LIMIT_HEADER, "60")]), None);
            assert!((l.stats().current_rate - SERVER_RATE_SHARE).abs() < 1e-9);
            let started = Instant::now();
            for _ in 0..10 {
                drop(l.acquire().await);
            }
            let ten = started.elapsed();
            assert!(ten >= Duration::from_secs(9), "{ten:?}");
        })
        .await
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
            answer(&l, 10);
            assert_eq!(l.stats().current_concurrency, 4);
            let _other = l.acquire().await;
            let busy = l.acquire().await;
            let _third = l.acquire().await;
            // Three running, one refused: the server takes two. The free slot goes at
            // once, and a request must wait (for ever: the paused clock reaches the
            // timeout as soon as nothing else can run).
            l.observe(409, &headers(&[]), None);
            let fourth = tokio::time::timeout(Duration::from_secs(1), l.acquire()).await;
            assert!(fourth.is_err(), "a request got a slot over the ceiling");
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
            // Slow start: one at a time until an answer comes.
            let first = l.acquire().await;
            let second = tokio::time::timeout(Duration::from_secs(1), l.acquire()).await;
            assert!(second.is_err(), "a second request before any answer");
            l.observe(200, &headers(&[]), None);
            drop(first);
            let a = l.acquire().await;
            let _b = l.acquire().await;
            let third = tokio::time::timeout(Duration::from_secs(1), l.acquire()).await;
            assert!(third.is_err(), "a third request got a slot");
            drop(a);
            // A slot came back: the third goes at once.
            // Requests are paced 1/rate apart (100 ms at 10 a second): past that, the third goes
            // at once.
            tokio::time::advance(Duration::from_millis(100)).await;
            assert_eq!(hold(&l).await, Duration::ZERO);
        })
        .await
    }
}
