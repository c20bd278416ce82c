//! Fault injection: latency, error statuses, dropped connections, truncated bodies and
//! odd-but-legal pages, deterministic under a seed.
//!
//! Every GET (or HEAD) request to the levels endpoint is numbered from 1; each
//! [`Fault`] decides from that number ([`Trigger::Nth`], [`Trigger::Every`]) or from a
//! seeded generator ([`Trigger::Rate`]) whether it fires. The generator draws once per
//! rate-triggered fault per request, so a sequential client sees the same faults on every
//! run with the same seed.
//!
//! Length: about 670 lines of code; the rest of the file is its unit tests.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod apply;
pub(crate) use apply::{deliver, fault_status_response};

use crate::rng::SplitMix64;

/// What a fault does.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Wait before answering: a fixed duration, or uniformly between the two bounds.
    Latency {
        /// Shortest wait.
        min: Duration,
        /// Longest wait (equal to `min` for a fixed latency).
        max: Duration,
    },
    /// Answer with one of these statuses (chosen by the seeded generator) and an error
    /// body. 429 carries `Retry-After` (default 1 s); others only when
    /// `retry_after` is set.
    Status {
        /// Candidate statuses (400..=599).
        codes: Vec<u16>,
        /// `Retry-After` seconds.
        retry_after: Option<u32>,
    },
    /// Send the headers of a 200 and part of the body, then abort the connection.
    Drop,
    /// Send a 200 whose JSON body is cut short (with a `Content-Length` that matches the
    /// short body, so the transport succeeds and the JSON parse fails).
    Truncate,
    /// The page's `next` repeats the URI that fetched it (a paging loop).
    RepeatNext,
    /// The page's `next` is an absolute URL on another origin (`http://127.0.0.2:9/...`).
    OffOriginNext,
    /// Records carry values the *open* enums of the API description do not list yet
    /// (rotating between the product stub's `type`, a `goods_type`, an
    /// `inventory.virtual_inventory` and a `weight.unit`, as far as the requested fields
    /// show them): valid by the description, which keeps those enums open, and a test of
    /// a client's tolerance.
    UnknownEnum,
    /// One level of the page has a `type` other than `TotalLevel`, the one closed enum of
    /// a page: a value the description forbids.
    ForbiddenEnum,
    /// Levels and included products carry a member the description does not list.
    ExtraField,
    /// One level of the page (the middle one) is undecodable by the description: its
    /// `qty_on_hand` is a string. The rest of the page is valid.
    BadRecord,
}

/// When a fault fires.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Trigger {
    /// On every request.
    Always,
    /// With this probability per request (0.0..=1.0), from the seeded generator.
    Rate(f64),
    /// On the n-th request to the endpoint only (1-based).
    Nth(u64),
    /// On every n-th request (n, 2n, 3n, ...).
    Every(u64),
}

/// One fault rule: a [`FaultKind`] and its [`Trigger`].
///
/// Build with the constructors and modifiers, or parse the CLI syntax:
///
/// ```
/// use shipstream_inventory_mock::{Fault, Trigger};
///
/// let f: Fault = "status=429:rate=0.05".parse()?;
/// assert_eq!(f, Fault::status(429).rate(0.05));
/// let f: Fault = "status=500|502|503:every=10:retry-after=2".parse()?;
/// assert_eq!(f.trigger, Trigger::Every(10));
/// assert_eq!(f.to_string(), "status=500|502|503:every=10:retry-after=2");
/// assert!("status=200".parse::<Fault>().is_err());
/// # Ok::<(), shipstream_inventory_mock::FaultParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// When.
    pub trigger: Trigger,
}

impl Fault {
    fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            trigger: Trigger::Always,
        }
    }

    /// A fixed delay on every request.
    pub fn latency(delay: Duration) -> Fault {
        Fault::new(FaultKind::Latency {
            min: delay,
            max: delay,
        })
    }

    /// A delay drawn uniformly from `min..=max`.
    pub fn latency_between(min: Duration, max: Duration) -> Fault {
        Fault::new(FaultKind::Latency {
            min: min.min(max),
            max: max.max(min),
        })
    }

    /// An error status (429 adds `Retry-After: 1`).
    pub fn status(code: u16) -> Fault {
        Fault::statuses([code])
    }

    /// One of several error statuses.
    pub fn statuses(codes: impl IntoIterator<Item = u16>) -> Fault {
        Fault::new(FaultKind::Status {
            codes: codes.into_iter().collect(),
            retry_after: None,
        })
    }

    /// A dropped connection mid-body.
    pub fn drop_connection() -> Fault {
        Fault::new(FaultKind::Drop)
    }

    /// A truncated 200 body.
    pub fn truncate() -> Fault {
        Fault::new(FaultKind::Truncate)
    }

    /// A `next` that repeats the current page's URI.
    pub fn repeat_next() -> Fault {
        Fault::new(FaultKind::RepeatNext)
    }

    /// A `next` on another origin.
    pub fn offorigin_next() -> Fault {
        Fault::new(FaultKind::OffOriginNext)
    }

    /// Values the open enums do not list yet, in records.
    pub fn unknown_enum() -> Fault {
        Fault::new(FaultKind::UnknownEnum)
    }

    /// A level `type` the description forbids.
    pub fn forbidden_enum() -> Fault {
        Fault::new(FaultKind::ForbiddenEnum)
    }

    /// Unknown extra members in records.
    pub fn extra_field() -> Fault {
        Fault::new(FaultKind::ExtraField)
    }

    /// One record of the page that does not decode (`qty_on_hand` is a string).
    pub fn bad_record() -> Fault {
        Fault::new(FaultKind::BadRecord)
    }

    /// Fire with probability `p` per request.
    pub fn rate(mut self, p: f64) -> Fault {
        self.trigger = Trigger::Rate(p.clamp(0.0, 1.0));
        self
    }

    /// Fire on the n-th request only (1-based).
    pub fn nth(mut self, n: u64) -> Fault {
        self.trigger = Trigger::Nth(n.max(1));
        self
    }

    /// Fire on every n-th request.
    pub fn every(mut self, n: u64) -> Fault {
        self.trigger = Trigger::Every(n.max(1));
        self
    }

    /// `Retry-After` seconds for a status fault (ignored by other kinds).
    pub fn retry_after(mut self, seconds: u32) -> Fault {
        if let FaultKind::Status { retry_after, .. } = &mut self.kind {
            *retry_after = Some(seconds);
        }
        self
    }
}

/// Why a fault string did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault {input:?}: {message}")]
pub struct FaultParseError {
    input: String,
    message: String,
}

impl FaultParseError {
    fn new(input: &str, message: impl Into<String>) -> Self {
        FaultParseError {
            input: input.to_owned(),
            message: message.into(),
        }
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

fn parse_duration(s: &str) -> Option<Duration> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.trim().parse::<u64>().ok().map(Duration::from_millis);
    }
    if let Some(secs) = s.strip_suffix('s') {
        return secs
            .trim()
            .parse::<f64>()
            .ok()
            // `try_`: a finite value too large for a Duration (`1e20s`) is refused, not a panic.
            .and_then(|v| Duration::try_from_secs_f64(v).ok());
    }
    None
}

fn fmt_duration(d: Duration) -> String {
    if d.subsec_nanos().is_multiple_of(1_000_000) && !d.as_millis().is_multiple_of(1000)
        || d.is_zero()
    {
        format!("{}ms", d.as_millis())
    } else if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

impl FromStr for Fault {
    type Err = FaultParseError;

    /// Parses `KIND[:OPTION]...` (see the [crate docs](crate#faults)).
    fn from_str(input: &str) -> Result<Fault, FaultParseError> {
        let err = |m: &str| FaultParseError::new(input, m);
        let mut parts = input.trim().split(':');
        let head = parts.next().unwrap_or_default().trim();
        let (name, arg) = match head.split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (head, None),
        };
        let mut fault = match (name, arg) {
            ("latency", Some(a)) => {
                let (lo, hi) = a.split_once("..").unwrap_or((a, a));
                let lo = parse_duration(lo.trim()).ok_or_else(|| {
                    err("latency takes a duration such as 20ms or 1.5s (or 10ms..50ms)")
                })?;
                let hi = parse_duration(hi.trim()).ok_or_else(|| {
                    err("latency takes a duration such as 20ms or 1.5s (or 10ms..50ms)")
                })?;
                Fault::latency_between(lo, hi)
            }
            ("status", Some(a)) => {
                let mut codes = Vec::new();
                for c in a.split('|') {
                    let code: u16 = c
                        .trim()
                        .parse()
                        .map_err(|_| err("status takes codes such as 429 or 500|502|503"))?;
                    if !(400..=599).contains(&code) {
                        return Err(err("status codes must be between 400 and 599"));
                    }
                    codes.push(code);
                }
                Fault::statuses(codes)
            }
            ("drop", None) => Fault::drop_connection(),
            ("truncate", None) => Fault::truncate(),
            ("repeat-next", None) => Fault::repeat_next(),
            ("offorigin-next", None) => Fault::offorigin_next(),
            ("unknown-enum", None) => Fault::unknown_enum(),
            ("forbidden-enum", None) => Fault::forbidden_enum(),
            ("extra-field", None) => Fault::extra_field(),
            ("bad-record", None) => Fault::bad_record(),
            ("latency" | "status", None) => return Err(err("missing `=value`")),
            (_, Some(_))
                if matches!(
                    name,
                    "drop"
                        | "truncate"
                        | "repeat-next"
                        | "offorigin-next"
                        | "unknown-enum"
                        | "forbidden-enum"
                        | "extra-field"
                        | "bad-record"
                ) =>
            {
                return Err(err("this fault takes no `=value`"));
            }
            _ => {
                return Err(err(
                    "unknown fault; expected latency=, status=, drop, truncate, repeat-next, \
                     offorigin-next, unknown-enum, forbidden-enum, extra-field or bad-record",
                ));
            }
        };
        let mut triggered = false;
        for opt in parts {
            let (k, v) = opt
                .split_once('=')
                .ok_or_else(|| err("options are written key=value"))?;
            let (k, v) = (k.trim(), v.trim());
            match k {
                "rate" | "nth" | "every" if triggered => {
                    return Err(err("give only one of rate=, nth= and every="));
                }
                "rate" => {
                    let p: f64 = v
                        .parse()
                        .ok()
                        .filter(|p: &f64| (0.0..=1.0).contains(p))
                        .ok_or_else(|| err("rate takes a probability between 0 and 1"))?;
                    fault = fault.rate(p);
                    triggered = true;
                }
                "nth" | "every" => {
                    let n: u64 = v
                        .parse()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| err("nth/every take a whole number >= 1"))?;
                    fault = if k == "nth" {
                        fault.nth(n)
                    } else {
                        fault.every(n)
                    };
                    triggered = true;
                }
                "retry-after" => {
                    if !matches!(fault.kind, FaultKind::Status { .. }) {
                        return Err(err("retry-after applies to status faults only"));
                    }
                    let s: u32 = v
                        .parse()
                        .map_err(|_| err("retry-after takes whole seconds"))?;
                    fault = fault.retry_after(s);
                }
                _ => {
                    return Err(err(
                        "unknown option; expected rate=, nth=, every= or retry-after=",
                    ));
                }
            }
        }
        Ok(fault)
    }
}

impl fmt::Display for Fault {
    /// The string syntax, which parses back to the same fault.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FaultKind::Latency { min, max } if min == max => {
                write!(f, "latency={}", fmt_duration(*min))?
            }
            FaultKind::Latency { min, max } => {
                write!(f, "latency={}..{}", fmt_duration(*min), fmt_duration(*max))?
            }
            FaultKind::Status { codes, .. } => {
                let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
                write!(f, "status={}", codes.join("|"))?
            }
            FaultKind::Drop => f.write_str("drop")?,
            FaultKind::Truncate => f.write_str("truncate")?,
            FaultKind::RepeatNext => f.write_str("repeat-next")?,
            FaultKind::OffOriginNext => f.write_str("offorigin-next")?,
            FaultKind::UnknownEnum => f.write_str("unknown-enum")?,
            FaultKind::ForbiddenEnum => f.write_str("forbidden-enum")?,
            FaultKind::ExtraField => f.write_str("extra-field")?,
            FaultKind::BadRecord => f.write_str("bad-record")?,
        }
        match self.trigger {
            Trigger::Always => {}
            Trigger::Rate(p) => write!(f, ":rate={p}")?,
            Trigger::Nth(n) => write!(f, ":nth={n}")?,
            Trigger::Every(n) => write!(f, ":every={n}")?,
        }
        if let FaultKind::Status {
            retry_after: Some(s),
            ..
        } = &self.kind
        {
            write!(f, ":retry-after={s}")?;
        }
        Ok(())
    }
}

/// A list of fault rules (empty by default: no faults).
///
/// ```
/// use std::time::Duration;
/// use shipstream_inventory_mock::{Fault, Faults};
///
/// let faults: Faults = "latency=20ms; status=429:rate=0.05; drop:nth=3".parse()?;
/// assert_eq!(faults.len(), 3);
/// let built = Faults::none()
///     .with(Fault::latency(Duration::from_millis(20)))
///     .with(Fault::status(429).rate(0.05))
///     .with(Fault::drop_connection().nth(3));
/// assert_eq!(faults, built);
/// assert_eq!(faults.to_string().parse::<Faults>()?, faults);
/// # Ok::<(), shipstream_inventory_mock::FaultParseError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    rules: Vec<Fault>,
}

impl Faults {
    /// No faults.
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Adds a rule.
    pub fn with(mut self, fault: Fault) -> Faults {
        self.rules.push(fault);
        self
    }

    /// Adds a rule in place.
    pub fn push(&mut self, fault: Fault) {
        self.rules.push(fault);
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Fault] {
        &self.rules
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl FromStr for Faults {
    type Err = FaultParseError;

    /// Rules separated by `;` or newlines; blank entries are skipped.
    fn from_str(s: &str) -> Result<Faults, FaultParseError> {
        let mut faults = Faults::none();
        for part in s.split([';', '\n']) {
            if !part.trim().is_empty() {
                faults.push(part.parse()?);
            }
        }
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rule) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{rule}")?;
        }
        Ok(())
    }
}

impl FromIterator<Fault> for Faults {
    fn from_iter<I: IntoIterator<Item = Fault>>(iter: I) -> Self {
        Faults {
            rules: iter.into_iter().collect(),
        }
    }
}

/// How many faults of each kind were injected (see
/// [`MockServer::fault_counts`](crate::MockServer::fault_counts)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultCounts {
    /// Requests to the levels endpoint so far (the numbering `nth=`/`every=` use).
    pub requests: u64,
    /// Delayed requests.
    pub latency: u64,
    /// Error statuses sent, by status.
    pub status: BTreeMap<u16, u64>,
    /// Connections dropped mid-body.
    pub drop: u64,
    /// Truncated bodies.
    pub truncate: u64,
    /// Pages whose `next` repeated their own URI.
    pub repeat_next: u64,
    /// Pages whose `next` pointed at another origin.
    pub offorigin_next: u64,
    /// Pages with values the open enums do not list.
    pub unknown_enum: u64,
    /// Pages with a level `type` the description forbids.
    pub forbidden_enum: u64,
    /// Pages with unknown extra members.
    pub extra_field: u64,
    /// Pages with an undecodable record.
    pub bad_record: u64,
}

impl FaultCounts {
    /// Error statuses sent, all codes together.
    pub fn statuses(&self) -> u64 {
        self.status.values().sum()
    }

    /// Every injected fault (latency included).
    pub fn total(&self) -> u64 {
        self.latency
            + self.statuses()
            + self.drop
            + self.truncate
            + self.repeat_next
            + self.offorigin_next
            + self.unknown_enum
            + self.forbidden_enum
            + self.extra_field
            + self.bad_record
    }
}

/// What to do to one request (decided before it is handled).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Plan {
    pub(crate) latency: Duration,
    pub(crate) status: Option<(u16, Option<u32>)>,
    pub(crate) drop: bool,
    pub(crate) truncate: bool,
    pub(crate) repeat_next: bool,
    pub(crate) offorigin_next: bool,
    pub(crate) unknown_enum: bool,
    pub(crate) forbidden_enum: bool,
    pub(crate) extra_field: bool,
    pub(crate) bad_record: bool,
}

/// The faults of a running server: rules, request counter, generator and counters.
#[derive(Debug)]
pub(crate) struct FaultEngine {
    rules: Vec<Fault>,
    requests: AtomicU64,
    rng: Mutex<SplitMix64>,
    counts: Mutex<FaultCounts>,
}

impl FaultEngine {
    pub(crate) fn new(faults: &Faults, seed: u64) -> Self {
        FaultEngine {
            rules: faults.rules.clone(),
            requests: AtomicU64::new(0),
            rng: Mutex::new(SplitMix64::derive(seed, 0xFA17)),
            counts: Mutex::new(FaultCounts::default()),
        }
    }

    /// Numbers the request and decides its faults. Latency and status faults are counted
    /// here; the others by [`FaultEngine::record`] when they are applied.
    pub(crate) fn plan(&self) -> Plan {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let mut plan = Plan::default();
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.requests = n;
        for rule in &self.rules {
            let fire = match rule.trigger {
                Trigger::Always => true,
                Trigger::Rate(p) => rng.next_f64() < p,
                Trigger::Nth(k) => n == k,
                Trigger::Every(k) => k > 0 && n.is_multiple_of(k),
            };
            if !fire {
                continue;
            }
            match &rule.kind {
                FaultKind::Latency { min, max } => {
                    let extra = max.saturating_sub(*min);
                    let jitter = if extra.is_zero() {
                        Duration::ZERO
                    } else {
                        extra.mul_f64(rng.next_f64())
                    };
                    plan.latency += *min + jitter;
                    counts.latency += 1;
                }
                FaultKind::Status { codes, retry_after } => {
                    if plan.status.is_none() && !codes.is_empty() {
                        let code = codes[rng.below(codes.len() as u64) as usize];
                        let retry = retry_after.or((code == 429).then_some(1));
                        plan.status = Some((code, retry));
                        *counts.status.entry(code).or_default() += 1;
                    }
                }
                FaultKind::Drop => plan.drop = true,
                FaultKind::Truncate => plan.truncate = true,
                FaultKind::RepeatNext => plan.repeat_next = true,
                FaultKind::OffOriginNext => plan.offorigin_next = true,
                FaultKind::UnknownEnum => plan.unknown_enum = true,
                FaultKind::ForbiddenEnum => plan.forbidden_enum = true,
                FaultKind::ExtraField => plan.extra_field = true,
                FaultKind::BadRecord => plan.bad_record = true,
            }
        }
        plan
    }

    /// Counts the body faults that were applied to a response.
    pub(crate) fn record(&self, applied: &Plan) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.drop += u64::from(applied.drop);
        c.truncate += u64::from(applied.truncate);
        c.repeat_next += u64::from(applied.repeat_next);
        c.offorigin_next += u64::from(applied.offorigin_next);
        c.unknown_enum += u64::from(applied.unknown_enum);
        c.forbidden_enum += u64::from(applied.forbidden_enum);
        c.extra_field += u64::from(applied.extra_field);
        c.bad_record += u64::from(applied.bad_record);
    }

    pub(crate) fn counts(&self) -> FaultCounts {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How many `unknown-enum` pages were sent (to rotate the variants).
    pub(crate) fn unknown_enum_sent(&self) -> u64 {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unknown_enum
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn parse_every_kind() {
        for s in [
            "latency=20ms",
            "latency=1s",
            "latency=10ms..50ms",
            "status=429:rate=0.05",
            "status=429:rate=0.05:retry-after=3",
            "status=409:nth=3",
            "status=500|502|503:rate=0.1",
            "drop:rate=0.02",
            "truncate:nth=5",
            "repeat-next:nth=2",
            "offorigin-next:nth=1",
            "unknown-enum:rate=0.1",
            "extra-field:every=4",
            "bad-record:nth=2",
        ] {
            let f: Fault = s.parse().unwrap();
            assert_eq!(f.to_string(), s, "{f:?}");
        }
        let f: Fault = "latency=1.5s".parse().unwrap();
        assert_eq!(f, Fault::latency(Duration::from_millis(1500)));
        assert_eq!(f.to_string().parse::<Fault>().unwrap(), f);
        let f: Fault = " status = 503 : nth = 2 ".parse().unwrap();
        assert_eq!(f, Fault::status(503).nth(2));
    }

    #[test]
    fn parse_errors() {
        for s in [
            "",
            "latency",
            "latency=fast",
            "status=abc",
            "status=200",
            "drop=1",
            "drop:rate=2",
            "drop:nth=0",
            "drop:rate=0.1:nth=2",
            "truncate:retry-after=1",
            "bad-record=1",
            "drop:sometimes",
            "explode",
        ] {
            assert!(s.parse::<Fault>().is_err(), "{s}");
        }
        let e = "explode".parse::<Fault>().unwrap_err();
        assert!(e.to_string().contains("explode"));
        assert!(e.message().contains("unknown fault"));
    }

    #[test]
    fn triggers() {
        let faults: Faults = "status=409:nth=3;truncate:every=2;latency=1ms"
            .parse()
            .unwrap();
        let engine = FaultEngine::new(&faults, 1);
        let plans: Vec<Plan> = (0..6).map(|_| engine.plan()).collect();
        assert_eq!(plans[2].status, Some((409, None)));
        assert!(
            plans
                .iter()
                .enumerate()
                .all(|(i, p)| (i == 2) == p.status.is_some())
        );
        assert!(
            plans
                .iter()
                .enumerate()
                .all(|(i, p)| (i % 2 == 1) == p.truncate)
        );
        assert!(plans.iter().all(|p| p.latency == Duration::from_millis(1)));
        let c = engine.counts();
        assert_eq!(c.requests, 6);
        assert_eq!(c.latency, 6);
        assert_eq!(c.status.get(&409), Some(&1));
        assert_eq!(c.truncate, 0, "body faults count when applied");
    }

    #[test]
    fn rates_are_seeded() {
        let faults: Faults = "status=429:rate=0.3".parse().unwrap();
        let run = |seed| {
            let e = FaultEngine::new(&faults, seed);
            (0..200)
                .map(|_| e.plan().status.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
        let hits = run(5).iter().filter(|x| **x).count();
        assert!((30..90).contains(&hits), "{hits}");
        assert_eq!(
            FaultEngine::new(&faults, 5).plan().status.map(|s| s.1),
            run(5)[0].then_some(Some(1))
        );
    }
}
