//! `cargo xtask drift --live --probe`: the spec's `x-assumed` notes against a live instance.
//!
//! Every note of `openapi.yaml` carries an id (`[next-link-form] ...`, see
//! [`check::split_note_id`]). For each note that read-only `GET` requests can settle, a
//! small probe keyed by that id asks the instance and judges the answer: **confirmed**,
//! **refuted** (with the request, never the token, and the part of the answer that refutes
//! the note: a JSON path and value, a status, a header), or **not testable** (every other
//! note, with the reason). At most [`MAX_REQUESTS`] requests are sent, one at a time,
//! [`PAUSE`] apart, and a 429 is waited out as its `Retry-After` says.
//!
//! `--record DIR` keeps each probed note's evidence as `DIR/<id>.json` (token and host
//! scrubbed like `drift --live --record`). Those files are not responses of the endpoint:
//! keep them out of `fixtures/recorded/`, which `cargo xtask check` validates as responses.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt, fs,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::{
    check::{self, AssumedNote, DEFAULT_OPERATION},
    drift::LiveConfig,
    spec,
};

/// The most requests one probe run sends (retries after a 429 included).
pub const MAX_REQUESTS: usize = 60;
/// The least time between two requests (so at most a few a second).
pub const PAUSE: Duration = Duration::from_millis(300);
/// The longest `Retry-After` the probe waits for; a longer one ends the run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// How often one request is retried after a 429.
const MAX_RETRIES: usize = 3;
/// The rows of the pages the probe reads.
const PAGE: &str = "5";
/// The API version header (the spec's `ApiVersion` parameter and response header).
pub const VERSION_HEADER: &str = "X-ShipStream-API-Version";
/// The header the spec says comes with the 400 that refuses a version.
pub const VERSION_ERROR_HEADER: &str = "X-ShipStream-API-Version-Error";
/// A well-formed version in the future, which the vendor documents as refused with 400.
const FUTURE_VERSION: &str = "2999-12";

/// The ids of the notes a probe settles, in the order they are reported.
pub const PROBED: &[&str] = &[
    "next-link-form",
    "no-next-page-spelling",
    "no-previous-page-spelling",
    "has-more-always",
    "quantities-never-null",
    "level-default-fields",
    "updated-at-whole-seconds",
    "product-ref-id-int64",
    "cursor-start-int64",
    "cursor-end-int64",
    "meta-cursor-start-null-at-end",
    "meta-cursor-end-null-at-end",
    "count-int64",
    "timestamp-compared-as-string",
    "sort-key-once",
    "operators-neq-in-nin",
    "operators-gteq-lteq",
    "refused-parameter-400",
    "version-echo-on-error",
    "version-error-header",
    "version-header-wins",
    "warehouse-field-stub",
    "object-ref-id-int64",
    "product-basic-fields",
    "product-basic-fields-param",
    "included-object-type-id",
    "product-id-int64",
];

/// What a probe found out about a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The instance behaves as the note says.
    Confirmed,
    /// The instance contradicts the note (the evidence says how).
    Refuted,
    /// No read-only probe settles the note (the reason says why).
    NotTestable,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Confirmed => "confirmed",
            Verdict::Refuted => "REFUTED",
            Verdict::NotTestable => "not testable",
        })
    }
}

/// One request of a probe and what of its answer matters to the verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// `GET /path?query` (decoded), and the version header when one was sent; no token.
    pub request: String,
    /// The answer's status.
    pub status: u16,
    /// What was found: `$.next = null`, `status 400`, a header and its value.
    pub found: String,
    /// The relevant part of the answer (for `--record`).
    pub excerpt: Value,
}

/// The verdict on one note.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The note's id.
    pub id: String,
    /// Where the note sits in the spec (JSON pointer).
    pub pointer: String,
    /// The note, without its id.
    pub note: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why: what was seen, or why nothing can be.
    pub reason: String,
    /// The requests behind the verdict (none for a note that is not testable).
    pub evidence: Vec<Evidence>,
}

/// What a probe run found.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// One outcome per note of the spec, in the spec's order.
    pub outcomes: Vec<Outcome>,
    /// Requests sent (retries included).
    pub requests: usize,
}

impl Report {
    /// `(id, verdict)` of every note.
    pub fn verdicts(&self) -> BTreeMap<String, Verdict> {
        self.outcomes
            .iter()
            .map(|o| (o.id.clone(), o.verdict))
            .collect()
    }

    /// The refuted notes.
    pub fn refuted(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Refuted)
    }

    fn count(&self, v: Verdict) -> usize {
        self.outcomes.iter().filter(|o| o.verdict == v).count()
    }
}

/// One answer of the instance.
#[derive(Clone, Debug)]
struct Exchange {
    request: String,
    status: u16,
    headers: BTreeMap<String, String>,
    body: Value,
}

impl Exchange {
    fn rows(&self) -> &[Value] {
        self.body
            .get("collection")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    fn ok(&self) -> bool {
        self.status == 200
    }

    fn evidence(&self, found: impl Into<String>, excerpt: Value) -> Evidence {
        Evidence {
            request: self.request.clone(),
            status: self.status,
            found: found.into(),
            excerpt,
        }
    }

    /// The page's links and facts without its levels.
    fn frame(&self) -> Value {
        let mut out = serde_json::Map::new();
        for key in ["has_more", "next", "previous", "meta"] {
            if let Some(v) = self.body.get(key) {
                out.insert(key.to_owned(), v.clone());
            }
        }
        Value::Object(out)
    }

    /// The first error's details (of a 4xx), or the body's start.
    fn error_excerpt(&self) -> Value {
        match self.body.get("errors") {
            Some(e) => json!({ "errors": e }),
            None => self.body.clone(),
        }
    }
}

/// The judgement of one probe.
#[derive(Clone)]
struct Judged {
    verdict: Verdict,
    reason: String,
    evidence: Vec<Evidence>,
}

fn confirmed(reason: impl Into<String>, evidence: Vec<Evidence>) -> Judged {
    Judged {
        verdict: Verdict::Confirmed,
        reason: reason.into(),
        evidence,
    }
}

fn refuted(reason: impl Into<String>, evidence: Vec<Evidence>) -> Judged {
    Judged {
        verdict: Verdict::Refuted,
        reason: reason.into(),
        evidence,
    }
}

fn untestable(reason: impl Into<String>) -> Judged {
    Judged {
        verdict: Verdict::NotTestable,
        reason: reason.into(),
        evidence: Vec::new(),
    }
}

/// Sends the probes' requests: one at a time, [`PAUSE`] apart, within [`MAX_REQUESTS`].
struct Prober<'a> {
    cfg: &'a LiveConfig,
    client: reqwest::Client,
    /// The operation's path (`/api/global/v1/inventory/levels/total`).
    path: String,
    pause: Duration,
    sent: usize,
    last: Option<Instant>,
}

impl<'a> Prober<'a> {
    fn new(cfg: &'a LiveConfig, path: &str, pause: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "shipstream-inventory-xtask-probe/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            cfg,
            client,
            path: path.to_owned(),
            pause,
            sent: 0,
            last: None,
        })
    }

    /// `GET` of the operation with `query`; `version` replaces the configured version
    /// header.
    async fn get(&mut self, query: &[(&str, &str)], version: Option<&str>) -> Result<Exchange> {
        let mut url = self.cfg.url(&self.path)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let version = version
            .map(str::to_owned)
            .or_else(|| self.cfg.api_version.clone());
        self.send(url, version).await
    }

    /// `GET` of a `next`/`previous` URI: a path on the instance, or an absolute URL on its
    /// origin (anything else is never sent: the token would go elsewhere).
    async fn follow(&mut self, uri: &str) -> Result<Exchange> {
        let base = self.cfg.url("/")?;
        let url = base
            .join(uri)
            .with_context(|| format!("`{uri}` is not a URI reference"))?;
        if url.origin() != base.origin() {
            bail!("`{uri}` is not on the instance's origin; not following it");
        }
        self.send(url, self.cfg.api_version.clone()).await
    }

    async fn send(&mut self, url: reqwest::Url, version: Option<String>) -> Result<Exchange> {
        let shown = shown_request(&url, version.as_deref());
        for _attempt in 0..=MAX_RETRIES {
            if self.sent >= MAX_REQUESTS {
                bail!(
                    "the probe's budget of {MAX_REQUESTS} requests is spent (before {shown}); \
                     a probe asks too much: fix xtask/src/probe.rs"
                );
            }
            if let Some(last) = self.last {
                let wait = self.pause.saturating_sub(last.elapsed());
                tokio::time::sleep(wait).await;
            }
            self.last = Some(Instant::now());
            self.sent += 1;
            let mut request = self
                .client
                .get(url.clone())
                .bearer_auth(&self.cfg.token)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(v) = &version {
                request = request.header(VERSION_HEADER, v);
            }
            let response = request.send().await.with_context(|| {
                format!(
                    "{shown} failed: check SHIPSTREAM_URL ({}) and the network",
                    self.cfg.scrub_text(&self.cfg.base_url)
                )
            })?;
            let status = response.status().as_u16();
            let headers: BTreeMap<String, String> = response
                .headers()
                .iter()
                .filter_map(|(k, v)| {
                    Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned()))
                })
                .collect();
            if status == 429 {
                let wait = headers
                    .get("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(Duration::from_secs(5), Duration::from_secs);
                if wait > MAX_RETRY_AFTER {
                    bail!(
                        "{shown} answered 429 with Retry-After {} s; the probe does not wait \
                         that long: run it again later",
                        wait.as_secs()
                    );
                }
                println!(
                    "   (429 on {shown}: waiting {} s as Retry-After says)",
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            let text = response
                .text()
                .await
                .with_context(|| format!("{shown}: cannot read the body"))?;
            let body = serde_json::from_str(&text)
                .unwrap_or_else(|_| Value::String(self.cfg.scrub_text(&clip(&text, 300))));
            return Ok(Exchange {
                request: shown,
                status,
                headers,
                body,
            });
        }
        bail!(
            "{shown} answered 429 {} times in a row; run the probe again later",
            MAX_RETRIES + 1
        )
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        let mut t: String = s.chars().take(n).collect();
        t.push_str("...");
        t
    } else {
        s.to_owned()
    }
}

/// `GET /path?k=v&...` with the query decoded, and the version header when sent.
fn shown_request(url: &reqwest::Url, version: Option<&str>) -> String {
    let query: Vec<String> = url
        .query_pairs()
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    let mut out = format!("GET {}", url.path());
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query.join("&"));
    }
    if let Some(v) = version {
        out.push_str(&format!(" ({VERSION_HEADER}: {v})"));
    }
    out
}

/// The names of a level's quantities, from the spec's `TotalLevel`.
fn quantity_names(spec: &Value) -> Vec<String> {
    spec.pointer("/components/schemas/TotalLevel/properties")
        .and_then(Value::as_object)
        .map(|p| {
            p.keys()
                .filter(|k| k.starts_with("qty_"))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `v` is an integer that fits 64 bits (signed).
fn fits_int64(v: &Value) -> bool {
    v.as_i64().is_some()
}

/// How a "no page" link is spelt, or `None` when it holds a link.
fn no_link_spelling(page: &Value, key: &str) -> Option<&'static str> {
    match page.get(key) {
        None => Some("absent"),
        Some(Value::Null) => Some("null"),
        Some(Value::String(s)) if s.is_empty() => Some("empty"),
        _ => None,
    }
}

/// The id (`product.id`) of a level, when it is an integer.
fn product_id(row: &Value) -> Option<i64> {
    row.pointer("/product/id").and_then(Value::as_i64)
}

fn ids(page: &Exchange) -> Vec<i64> {
    page.rows().iter().filter_map(product_id).collect()
}

/// `next-link-form`: a page's `next` is a path on the instance or an absolute URL on its
/// origin, and following it gives the following levels.
fn judge_next_form(base: &reqwest::Url, first: &Exchange) -> (Judged, Option<String>) {
    let next = first.body.get("next");
    let excerpt = first.frame();
    let Some(Value::String(uri)) = next.filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
    else {
        if first.body.get("has_more") == Some(&Value::Bool(true)) {
            let found = format!("$.has_more = true but $.next = {}", show(next));
            return (
                refuted(
                    format!("the first page says more follow but gives no `next`: {found}"),
                    vec![first.evidence(found, excerpt)],
                ),
                None,
            );
        }
        return (
            untestable("the first page has no `next` (the query matched one page only)"),
            None,
        );
    };
    if uri.starts_with('/') && !uri.starts_with("//") {
        return (
            confirmed(
                format!("`next` is a host-relative path ({uri})"),
                vec![first.evidence(format!("$.next = {uri:?}"), excerpt)],
            ),
            Some(uri.clone()),
        );
    }
    match reqwest::Url::parse(uri) {
        Ok(url) if url.origin() == base.origin() => (
            confirmed(
                format!("`next` is an absolute URL on the instance's origin ({uri})"),
                vec![first.evidence(format!("$.next = {uri:?}"), excerpt)],
            ),
            Some(uri.clone()),
        ),
        Ok(url) => {
            let found = format!("$.next = {uri:?}");
            (
                refuted(
                    format!(
                        "`next` is an absolute URL on another origin ({}), which the client \
                         refuses to follow",
                        url.origin().ascii_serialization()
                    ),
                    vec![first.evidence(found, excerpt)],
                ),
                None,
            )
        }
        Err(_) => {
            let found = format!("$.next = {uri:?}");
            (
                refuted(
                    "`next` is neither an absolute URL nor a path starting with `/`",
                    vec![first.evidence(found, excerpt)],
                ),
                None,
            )
        }
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(v) => v.to_string(),
    }
}

/// Sends the probes through `p` and judges each probed note of `spec`, keyed by id.
async fn run_probes(p: &mut Prober<'_>, spec: &Value) -> Result<BTreeMap<&'static str, Judged>> {
    let mut out: BTreeMap<&'static str, Judged> = BTreeMap::new();
    let base = p.cfg.url("/")?;
    let quantities = quantity_names(spec);

    // 1. The first page, by product id, with its count.
    let first = p
        .get(
            &[("sort", "product_id"), ("limit", PAGE), ("count", "1")],
            None,
        )
        .await?;
    if !first.ok() {
        bail!(
            "{} answered {}: {}; the probes need a working listing (check SHIPSTREAM_TOKEN and \
             SHIPSTREAM_API_VERSION)",
            first.request,
            first.status,
            clip(&first.body.to_string(), 300)
        );
    }
    let first_ids = ids(&first);
    let mut pages: Vec<Exchange> = vec![first.clone()];

    let (judged, next_uri) = judge_next_form(&base, &first);
    let judged = match (judged.verdict, next_uri) {
        (Verdict::Confirmed, Some(uri)) => {
            // 2. Following `next` must give the levels after the first page.
            let second = p.follow(&uri).await?;
            let last_first = first_ids.last().copied();
            let second_first = ids(&second).first().copied();
            let frame = second.frame();
            if !second.ok() {
                let found = format!("status {}", second.status);
                refuted(
                    format!("following `next` ({uri}) answered {}", second.status),
                    vec![second.evidence(found, second.error_excerpt())],
                )
            } else if let (Some(a), Some(b)) = (last_first, second_first)
                && b <= a
            {
                let found = format!("$.collection[0].product.id = {b}, not after {a}");
                refuted(
                    format!("following `next` ({uri}) did not continue after the first page"),
                    vec![second.evidence(found, frame)],
                )
            } else {
                let mut evidence = judged.evidence;
                evidence.push(second.evidence("status 200, the following levels", frame));
                pages.push(second);
                confirmed(
                    format!("{}; following it gave the following levels", judged.reason),
                    evidence,
                )
            }
        }
        _ => judged,
    };
    out.insert("next-link-form", judged);

    out.insert(
        "no-previous-page-spelling",
        match no_link_spelling(&first.body, "previous") {
            Some(how) => confirmed(
                format!("the first page's `previous` is {how}"),
                vec![first.evidence(format!("$.previous {how}"), first.frame())],
            ),
            None => {
                let found = format!("$.previous = {}", show(first.body.get("previous")));
                refuted(
                    format!("the first page has a `previous`: {found}"),
                    vec![first.evidence(found, first.frame())],
                )
            }
        },
    );

    out.insert(
        "count-int64",
        match first.body.pointer("/meta/count") {
            Some(c) if fits_int64(c) => confirmed(
                format!("`meta.count` with count=1 is {c}"),
                vec![first.evidence(format!("$.meta.count = {c}"), first.frame())],
            ),
            Some(c) => {
                let found = format!("$.meta.count = {c}");
                refuted(
                    format!("`meta.count` is not a 64-bit integer: {found}"),
                    vec![first.evidence(found, first.frame())],
                )
            }
            None => untestable("the instance sent no `meta.count` with count=1"),
        },
    );

    out.insert(
        "level-default-fields",
        judge_default_fields(&first, &quantities),
    );

    // 3. The last page of a query: the first level alone.
    let last = match first_ids.first() {
        Some(id) => {
            let filter = format!("product_id:{id}");
            let page = p
                .get(
                    &[("sort", "product_id"), ("limit", PAGE), ("filter", &filter)],
                    None,
                )
                .await?;
            Some(page)
        }
        None => None,
    };
    match last.as_ref().filter(|l| l.ok()) {
        Some(last) => {
            out.insert(
                "no-next-page-spelling",
                match no_link_spelling(&last.body, "next") {
                    Some(how) => confirmed(
                        format!("the last page's `next` is {how}"),
                        vec![last.evidence(format!("$.next {how}"), last.frame())],
                    ),
                    None => {
                        let found = format!("$.next = {}", show(last.body.get("next")));
                        refuted(
                            format!("the last page (one level) still has a `next`: {found}"),
                            vec![last.evidence(found, last.frame())],
                        )
                    }
                },
            );
            for (id, key) in [
                ("meta-cursor-start-null-at-end", "cursor_start"),
                ("meta-cursor-end-null-at-end", "cursor_end"),
            ] {
                let v = last.body.pointer(&format!("/meta/{key}"));
                out.insert(
                    id,
                    match v {
                        None | Some(Value::Null) => confirmed(
                            format!("the last page's `meta.{key}` is {}", show(v)),
                            vec![
                                last.evidence(format!("$.meta.{key} = {}", show(v)), last.frame()),
                            ],
                        ),
                        Some(v) => {
                            let found = format!("$.meta.{key} = {v}");
                            refuted(
                                format!("the last page has a `meta.{key}`: {found}"),
                                vec![last.evidence(found, last.frame())],
                            )
                        }
                    },
                );
            }
            pages.push(last.clone());
        }
        None => {
            let why = match &last {
                Some(l) => format!("{} answered {}", l.request, l.status),
                None => "the instance lists no levels".to_owned(),
            };
            for id in [
                "no-next-page-spelling",
                "meta-cursor-start-null-at-end",
                "meta-cursor-end-null-at-end",
            ] {
                out.insert(id, untestable(format!("no last page to look at: {why}")));
            }
        }
    }

    // 4. A timestamp filter.
    out.insert("timestamp-compared-as-string", {
        let t = first
            .rows()
            .first()
            .and_then(|r| r.get("updated_at"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match t {
            None => untestable("the first page has no level with `updated_at`"),
            Some(t) => {
                let filter = format!("updated_at{{gt:{t:?}}}");
                let page = p
                    .get(
                        &[("sort", "updated_at"), ("limit", PAGE), ("filter", &filter)],
                        None,
                    )
                    .await?;
                let judged = judge_timestamp_filter(&page, &t);
                if page.ok() {
                    pages.push(page);
                }
                judged
            }
        }
    });

    // 5. A sort key twice.
    out.insert("sort-key-once", {
        let page = p.get(&[("sort", "sku,sku"), ("limit", "1")], None).await?;
        if (400..500).contains(&page.status) {
            confirmed(
                format!("`sort=sku,sku` was refused with {}", page.status),
                vec![page.evidence(format!("status {}", page.status), page.error_excerpt())],
            )
        } else {
            let found = format!("status {}", page.status);
            refuted(
                format!(
                    "`sort=sku,sku` answered {}: the API takes a key twice (the spec's pattern \
                     refuses it)",
                    page.status
                ),
                vec![page.evidence(found, page.frame())],
            )
        }
    });

    // 6. The assumed operators, each once on `product_id` (an integer field).
    if first_ids.len() >= 3 {
        let (a, b, c) = (first_ids[0], first_ids[1], first_ids[2]);
        let cases: [OperatorCase; 5] = [
            (
                "operators-neq-in-nin",
                "neq",
                format!("product_id{{neq:{a}}}"),
                Box::new(move |got: &[i64]| !got.contains(&a) && got.first() == Some(&b)),
            ),
            (
                "operators-neq-in-nin",
                "in",
                format!("product_id{{in:[{a},{c}]}}"),
                Box::new(move |got: &[i64]| got == [a, c]),
            ),
            (
                "operators-neq-in-nin",
                "nin",
                format!("product_id{{nin:[{a}]}}"),
                Box::new(move |got: &[i64]| !got.contains(&a) && got.first() == Some(&b)),
            ),
            (
                "operators-gteq-lteq",
                "gteq",
                format!("product_id{{gteq:{b}}}"),
                Box::new(move |got: &[i64]| got.first() == Some(&b)),
            ),
            (
                "operators-gteq-lteq",
                "lteq",
                format!("product_id{{lteq:{b}}}"),
                Box::new(move |got: &[i64]| got == [a, b]),
            ),
        ];
        let mut per_note: BTreeMap<&'static str, OperatorFindings> = BTreeMap::new();
        for (id, op, filter, holds) in cases {
            let page = p
                .get(
                    &[("sort", "product_id"), ("limit", PAGE), ("filter", &filter)],
                    None,
                )
                .await?;
            let entry = per_note.entry(id).or_default();
            let got = ids(&page);
            if !page.ok() {
                let found = format!("status {}", page.status);
                entry
                    .2
                    .get_or_insert(format!("`{op}` was refused with {}", page.status));
                entry.1.push(page.evidence(found, page.error_excerpt()));
            } else if !holds(&got) {
                let found = format!("$.collection[*].product.id = {got:?}");
                entry.2.get_or_insert(format!(
                    "`{filter}` was accepted but did not filter as `{op}` means: {found}"
                ));
                entry.1.push(page.evidence(found, json!({"ids": got})));
            } else {
                entry.0.push(op.to_owned());
                entry
                    .1
                    .push(page.evidence(format!("status 200, ids {got:?}"), json!({"ids": got})));
                pages.push(page);
            }
        }
        for (id, (ok, evidence, failure)) in per_note {
            out.insert(
                id,
                match failure {
                    Some(why) => refuted(why, evidence),
                    None => confirmed(
                        format!("{} accepted and filtered as meant", ok.join(", ")),
                        evidence,
                    ),
                },
            );
        }
    } else {
        for id in ["operators-neq-in-nin", "operators-gteq-lteq"] {
            out.insert(
                id,
                untestable("the first page has fewer than three levels to filter by id"),
            );
        }
    }

    // 7. A refused parameter: `limit` beyond its documented maximum.
    let refused = p.get(&[("limit", "1001")], None).await?;
    if refused.status == 400 {
        let keys: Vec<&str> = refused
            .body
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("details").and_then(Value::as_array))
            .flatten()
            .filter_map(|d| d.get("key").and_then(Value::as_str))
            .collect();
        out.insert(
            "refused-parameter-400",
            if keys.contains(&"limit") {
                confirmed(
                    "`limit=1001` got a 400 whose `details[].key` names `limit`",
                    vec![refused.evidence(
                        "status 400, $.errors[*].details[*].key has \"limit\"",
                        refused.error_excerpt(),
                    )],
                )
            } else {
                let found = format!("status 400, $.errors[*].details[*].key = {keys:?}");
                refuted(
                    format!("`limit=1001` got a 400 that does not name `limit`: {found}"),
                    vec![refused.evidence(found, refused.error_excerpt())],
                )
            },
        );
    } else if (400..500).contains(&refused.status) {
        let found = format!("status {}", refused.status);
        out.insert(
            "refused-parameter-400",
            refused_with(
                &refused,
                format!(
                    "`limit=1001` was refused with {} rather than 400",
                    refused.status
                ),
                found,
            ),
        );
    } else {
        out.insert(
            "refused-parameter-400",
            untestable(format!(
                "`limit=1001` answered {}: nothing was refused (and the documented maximum of \
                 1000 did not hold; see the `Limit` parameter)",
                refused.status
            )),
        );
    }
    out.insert(
        "version-echo-on-error",
        if (400..500).contains(&refused.status) {
            match refused.header(VERSION_HEADER) {
                Some(v) => confirmed(
                    format!("the {} carries {VERSION_HEADER}: {v}", refused.status),
                    vec![refused.evidence(
                        format!("{VERSION_HEADER}: {v}"),
                        json!({ VERSION_HEADER: v }),
                    )],
                ),
                None => {
                    let found = format!("no {VERSION_HEADER} header on the {}", refused.status);
                    refuted(
                        found.clone(),
                        vec![refused.evidence(found, refused.error_excerpt())],
                    )
                }
            }
        } else {
            untestable("no error response to look at (`limit=1001` was not refused)")
        },
    );

    // 8. A version in the future, in the header.
    out.insert("version-error-header", {
        let page = p.get(&[("limit", "1")], Some(FUTURE_VERSION)).await?;
        match (page.status, page.header(VERSION_ERROR_HEADER)) {
            (400, Some(why)) => confirmed(
                format!("version {FUTURE_VERSION} got a 400 with {VERSION_ERROR_HEADER}: {why}"),
                vec![page.evidence(
                    format!("{VERSION_ERROR_HEADER}: {why}"),
                    json!({ VERSION_ERROR_HEADER: why }),
                )],
            ),
            (400, None) => {
                let found = format!("status 400 without {VERSION_ERROR_HEADER}");
                refuted(
                    format!("version {FUTURE_VERSION} got a 400 without {VERSION_ERROR_HEADER}"),
                    vec![page.evidence(found, page.error_excerpt())],
                )
            }
            (status, _) => untestable(format!(
                "version {FUTURE_VERSION} answered {status}, not the version's 400"
            )),
        }
    });

    // 9. The header against the query parameter.
    out.insert("version-header-wins", {
        let served = first
            .header(VERSION_HEADER)
            .map(str::to_owned)
            .or_else(|| p.cfg.api_version.clone());
        match served {
            None => untestable(format!(
                "the first page named no version ({VERSION_HEADER}) and none is configured"
            )),
            Some(v) => {
                let page = p
                    .get(&[("limit", "1"), ("version", FUTURE_VERSION)], Some(&v))
                    .await?;
                let echoed = page.header(VERSION_HEADER).map(str::to_owned);
                if page.ok() && echoed.as_deref().is_none_or(|e| e == v) {
                    confirmed(
                        format!(
                            "header {v} with `version={FUTURE_VERSION}` answered 200 ({VERSION_HEADER}: {})",
                            echoed.as_deref().unwrap_or("(absent)")
                        ),
                        vec![page.evidence("status 200", json!({ VERSION_HEADER: echoed }))],
                    )
                } else {
                    let found = format!(
                        "status {}, {VERSION_HEADER}: {}",
                        page.status,
                        echoed.as_deref().unwrap_or("(absent)")
                    );
                    refuted(
                        format!("the query's `version={FUTURE_VERSION}` won over the header {v}: {found}"),
                        vec![page.evidence(found, page.error_excerpt())],
                    )
                }
            }
        }
    });

    // 10. `fields=warehouse`.
    {
        let page = p
            .get(
                &[
                    ("sort", "product_id"),
                    ("limit", "1"),
                    ("fields", "warehouse"),
                ],
                None,
            )
            .await?;
        let (stub, int64) = judge_warehouse(&page);
        out.insert("warehouse-field-stub", stub);
        out.insert("object-ref-id-int64", int64);
        if page.ok() {
            pages.push(page);
        }
    }

    // 11. Included products with their basic fields.
    {
        let page = p
            .get(
                &[
                    ("sort", "product_id"),
                    ("limit", PAGE),
                    ("fields:product", "basic"),
                ],
                None,
            )
            .await?;
        let basic = judge_basic_fields(&page, spec);
        out.insert("product-basic-fields-param", basic.clone());
        out.insert("product-basic-fields", basic);
        let (typed, ids) = judge_included(&page);
        out.insert("included-object-type-id", typed);
        out.insert("product-id-int64", ids);
        if page.ok() {
            pages.push(page);
        }
    }

    // Scans of every page fetched.
    out.insert("has-more-always", judge_has_more(&pages));
    out.insert(
        "quantities-never-null",
        judge_quantities(&pages, &quantities),
    );
    out.insert("updated-at-whole-seconds", judge_whole_seconds(&pages));
    out.insert("product-ref-id-int64", judge_product_ids(&pages));
    out.insert(
        "cursor-start-int64",
        judge_cursor(&pages, "cursor_start", "next"),
    );
    out.insert(
        "cursor-end-int64",
        judge_cursor(&pages, "cursor_end", "previous"),
    );
    Ok(out)
}

/// One assumed operator's probe: the note, the operator, the filter, and what the ids of
/// the answer (sorted by product id) must be.
type OperatorCase = (
    &'static str,
    &'static str,
    String,
    Box<dyn Fn(&[i64]) -> bool>,
);

/// Per note: the operators that held, the evidence, and the first failure.
type OperatorFindings = (Vec<String>, Vec<Evidence>, Option<String>);

fn refused_with(page: &Exchange, reason: String, found: String) -> Judged {
    refuted(reason, vec![page.evidence(found, page.error_excerpt())])
}

fn judge_default_fields(first: &Exchange, quantities: &[String]) -> Judged {
    let rows = first.rows();
    if rows.is_empty() {
        return untestable("the first page has no levels");
    }
    let wanted: Vec<&str> = ["type", "product", "updated_at"]
        .into_iter()
        .chain(quantities.iter().map(String::as_str))
        .collect();
    for (i, row) in rows.iter().enumerate() {
        if let Some(missing) = wanted.iter().find(|k| row.get(**k).is_none()) {
            let found = format!("$.collection[{i}].{missing} is absent");
            return refuted(
                format!("without `fields` a level lacks `{missing}`: {found}"),
                vec![first.evidence(found, row.clone())],
            );
        }
    }
    confirmed(
        format!(
            "without `fields` every level of the first page had type, product, updated_at and \
             the {} quantities",
            quantities.len()
        ),
        vec![first.evidence("every default member present", rows[0].clone())],
    )
}

fn judge_timestamp_filter(page: &Exchange, t: &str) -> Judged {
    if !page.ok() {
        let found = format!("status {}", page.status);
        return refuted(
            format!("`updated_at{{gt:{t:?}}}` was refused with {}", page.status),
            vec![page.evidence(found, page.error_excerpt())],
        );
    }
    for (i, row) in page.rows().iter().enumerate() {
        let at = row.get("updated_at").and_then(Value::as_str).unwrap_or("");
        if at <= t {
            let found = format!("$.collection[{i}].updated_at = {at:?}, not after {t:?}");
            return refuted(
                format!("`updated_at{{gt:{t:?}}}` was accepted but let an earlier level through"),
                vec![page.evidence(found, json!({"updated_at": at}))],
            );
        }
    }
    confirmed(
        format!(
            "`updated_at{{gt:{t:?}}}` answered 200 with {} level(s), each updated after it",
            page.rows().len()
        ),
        vec![page.evidence(
            "status 200, every $.collection[*].updated_at later",
            page.frame(),
        )],
    )
}

fn judge_warehouse(page: &Exchange) -> (Judged, Judged) {
    let no = |why: String| (untestable(why.clone()), untestable(why));
    if !page.ok() {
        return no(format!("{} answered {}", page.request, page.status));
    }
    let Some(row) = page.rows().first() else {
        return no("the instance lists no levels".to_owned());
    };
    let stub = row.get("warehouse");
    match stub {
        None => {
            let found = "$.collection[0].warehouse is absent".to_owned();
            (
                refuted(
                    "`fields=warehouse` added no `warehouse` member",
                    vec![page.evidence(found, row.clone())],
                ),
                untestable("no warehouse reference to look at"),
            )
        }
        Some(Value::Null) => no("the level's `warehouse` is null".to_owned()),
        Some(w) => {
            let ty = w.get("type").and_then(Value::as_str);
            let id = w.get("id");
            let stub = if ty.is_some() && id.is_some() {
                confirmed(
                    format!("`fields=warehouse` added {w}"),
                    vec![page.evidence(format!("$.collection[0].warehouse = {w}"), w.clone())],
                )
            } else {
                let found = format!("$.collection[0].warehouse = {w}");
                refuted(
                    "`fields=warehouse` added no `{type, id}` stub",
                    vec![page.evidence(found, w.clone())],
                )
            };
            let int64 = match id {
                Some(id) if fits_int64(id) => confirmed(
                    format!("the warehouse reference's id is {id}"),
                    vec![page.evidence(format!("$.collection[0].warehouse.id = {id}"), w.clone())],
                ),
                Some(id) => {
                    let found = format!("$.collection[0].warehouse.id = {id}");
                    refuted(
                        format!("a reference's id is not a 64-bit integer: {found}"),
                        vec![page.evidence(found, w.clone())],
                    )
                }
                None => untestable("the warehouse reference has no id"),
            };
            (stub, int64)
        }
    }
}

/// The included products of the page.
fn included_products(page: &Exchange) -> Option<&Vec<Value>> {
    page.body
        .pointer("/included/Product")
        .and_then(Value::as_array)
}

/// `product-basic-fields`: with `fields:product=basic` no field the spec lists as optional
/// (`x-optional-fields` of `Product`) comes, and every other field comes in at least one
/// product (a single product may leave out a field it has no value for).
fn judge_basic_fields(page: &Exchange, spec: &Value) -> Judged {
    let product = spec.pointer("/components/schemas/Product");
    let optional: Vec<&str> = product
        .and_then(|p| p.get("x-optional-fields"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let basic: Vec<&str> = product
        .and_then(|p| p.get("properties"))
        .and_then(Value::as_object)
        .map(|p| {
            p.keys()
                .map(String::as_str)
                .filter(|k| !optional.contains(k))
                .collect()
        })
        .unwrap_or_default();
    if !page.ok() {
        return refuted(
            format!("`fields:product=basic` was refused with {}", page.status),
            vec![page.evidence(format!("status {}", page.status), page.error_excerpt())],
        );
    }
    let Some(products) = included_products(page).filter(|p| !p.is_empty()) else {
        return untestable("the answer to `fields:product=basic` had no `included.Product`");
    };
    for (i, product) in products.iter().enumerate() {
        if let Some(extra) = optional.iter().find(|o| product.get(**o).is_some()) {
            let found = format!("$.included.Product[{i}].{extra} is present");
            return refuted(
                format!("`basic` brought `{extra}`, which the spec lists as optional: {found}"),
                vec![page.evidence(found, product.clone())],
            );
        }
    }
    let never: Vec<&str> = basic
        .iter()
        .copied()
        .filter(|b| products.iter().all(|p| p.get(*b).is_none()))
        .collect();
    if !never.is_empty() {
        let found = format!("$.included.Product[*] never has {}", never.join(", "));
        return refuted(
            format!("`basic` left out fields the spec counts as basic: {found}"),
            vec![page.evidence(found, products[0].clone())],
        );
    }
    confirmed(
        format!(
            "`fields:product=basic` gave {} product(s) with the {} basic fields and none of the \
             {} optional ones",
            products.len(),
            basic.len(),
            optional.len()
        ),
        vec![page.evidence("basic fields only", products[0].clone())],
    )
}

/// `included-object-type-id` (every included object has `type` and a 64-bit `id`) and
/// `product-id-int64` (every included product's id fits 64 bits).
fn judge_included(page: &Exchange) -> (Judged, Judged) {
    let Some(included) = page.body.get("included").and_then(Value::as_object) else {
        let why = format!("{} answered no `included`", page.request);
        return (untestable(why.clone()), untestable(why));
    };
    let mut typed = None;
    let mut ids = None;
    let mut seen = 0usize;
    for (kind, objects) in included {
        for (i, o) in objects.as_array().into_iter().flatten().enumerate() {
            seen += 1;
            let path = format!("$.included.{kind}[{i}]");
            if typed.is_none()
                && (o.get("type").and_then(Value::as_str).is_none() || o.get("id").is_none())
            {
                let found = format!("{path} has no `type` or no `id`");
                typed = Some(refuted(
                    format!("an included object without `type` and `id`: {found}"),
                    vec![page.evidence(found, o.clone())],
                ));
            }
            if let Some(id) = o.get("id").filter(|id| !fits_int64(id)) {
                let found = format!("{path}.id = {id}");
                let j = refuted(
                    format!("an included id that is not a 64-bit integer: {found}"),
                    vec![page.evidence(found, o.clone())],
                );
                if typed.is_none() {
                    typed = Some(j.clone());
                }
                if kind == "Product" && ids.is_none() {
                    ids = Some(j);
                }
            }
        }
    }
    if seen == 0 {
        let why = "`included` held no objects".to_owned();
        return (untestable(why.clone()), untestable(why));
    }
    (
        typed.unwrap_or_else(|| {
            confirmed(
                format!("{seen} included object(s), each with `type` and a 64-bit `id`"),
                Vec::new(),
            )
        }),
        ids.unwrap_or_else(|| {
            confirmed(
                format!(
                    "{} included product id(s), each a 64-bit integer",
                    included_products(page).map_or(0, Vec::len)
                ),
                Vec::new(),
            )
        }),
    )
}

fn judge_has_more(pages: &[Exchange]) -> Judged {
    for page in pages {
        match page.body.get("has_more") {
            Some(Value::Bool(_)) => {}
            other => {
                let found = format!("$.has_more = {}", show(other));
                return refuted(
                    format!("a page without a boolean `has_more`: {found}"),
                    vec![page.evidence(found, page.frame())],
                );
            }
        }
    }
    confirmed(
        format!("all {} pages fetched had a boolean `has_more`", pages.len()),
        pages
            .iter()
            .take(1)
            .map(|p| p.evidence("$.has_more present", p.frame()))
            .collect(),
    )
}

fn judge_quantities(pages: &[Exchange], quantities: &[String]) -> Judged {
    let mut seen = 0usize;
    for page in pages {
        for (i, row) in page.rows().iter().enumerate() {
            for q in quantities {
                let Some(v) = row.get(q) else { continue };
                if !fits_int64(v) {
                    let found = format!("$.collection[{i}].{q} = {v}");
                    return refuted(
                        format!("a quantity that is not a 64-bit integer: {found}"),
                        vec![page.evidence(found, row.clone())],
                    );
                }
                seen += 1;
            }
        }
    }
    if seen == 0 {
        return untestable("no quantity in the pages fetched");
    }
    confirmed(
        format!(
            "{seen} quantities on {} pages, every one a 64-bit integer",
            pages.len()
        ),
        Vec::new(),
    )
}

fn judge_whole_seconds(pages: &[Exchange]) -> Judged {
    let mut seen = 0usize;
    for page in pages {
        for (i, row) in page.rows().iter().enumerate() {
            let Some(at) = row.get("updated_at").and_then(Value::as_str) else {
                continue;
            };
            let time = at.split_once('T').map_or("", |(_, t)| t);
            if time.contains('.') || time.contains(',') {
                let found = format!("$.collection[{i}].updated_at = {at:?}");
                return refuted(
                    format!("an `updated_at` with a fraction of a second: {found}"),
                    vec![page.evidence(found, json!({"updated_at": at}))],
                );
            }
            seen += 1;
        }
    }
    if seen == 0 {
        return untestable("no `updated_at` in the pages fetched");
    }
    confirmed(
        format!(
            "{seen} `updated_at` values, all in whole seconds (that a quantity change stamps \
             it is not probed: read-only requests change nothing)"
        ),
        Vec::new(),
    )
}

fn judge_product_ids(pages: &[Exchange]) -> Judged {
    let mut seen = 0usize;
    for page in pages {
        for (i, row) in page.rows().iter().enumerate() {
            let Some(id) = row.pointer("/product/id") else {
                continue;
            };
            if !fits_int64(id) {
                let found = format!("$.collection[{i}].product.id = {id}");
                return refuted(
                    format!("a product id that is not a 64-bit integer: {found}"),
                    vec![page.evidence(found, row.get("product").cloned().unwrap_or(Value::Null))],
                );
            }
            seen += 1;
        }
    }
    if seen == 0 {
        return untestable("no product reference in the pages fetched");
    }
    confirmed(
        format!("{seen} product ids, each a 64-bit integer"),
        Vec::new(),
    )
}

/// `meta.<key>` and the `<key>` parameter of each page's `<link>` fit 64 bits.
fn judge_cursor(pages: &[Exchange], key: &str, link: &str) -> Judged {
    let mut seen = 0usize;
    for page in pages {
        if let Some(v) = page
            .body
            .pointer(&format!("/meta/{key}"))
            .filter(|v| !v.is_null())
        {
            if !fits_int64(v) {
                let found = format!("$.meta.{key} = {v}");
                return refuted(
                    format!("a cursor that is not a 64-bit integer: {found}"),
                    vec![page.evidence(found, page.frame())],
                );
            }
            seen += 1;
        }
        let Some(uri) = page
            .body
            .get(link)
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
        else {
            continue;
        };
        let query = uri.split_once('?').map_or("", |(_, q)| q);
        for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
            if k == key {
                if v.parse::<i64>().is_err() {
                    let found = format!("$.{link} = {uri:?} ({key}={v})");
                    return refuted(
                        format!("a cursor in `{link}` that is not a 64-bit integer: {key}={v}"),
                        vec![page.evidence(found, page.frame())],
                    );
                }
                seen += 1;
            }
        }
    }
    if seen == 0 {
        return untestable(format!(
            "no `{key}` in the pages fetched (neither `meta.{key}` nor in `{link}`)"
        ));
    }
    confirmed(
        format!("{seen} `{key}` values (meta and `{link}` links), each a 64-bit integer"),
        Vec::new(),
    )
}

/// Why a note no probe settles is not testable ([`NO_PROBE_YET`] for a note this list
/// does not know, e.g. a new one).
pub fn untestable_reason(id: &str) -> &'static str {
    match id {
        "ratelimit-limit-header"
        | "ratelimit-remaining-header"
        | "concurrency-limit-header"
        | "concurrency-current-header"
        | "rate-limit-figures"
        | "status-409-merchant"
        | "status-429-merchant"
        | "retry-after-form" => {
            "needs the rate or concurrency limit reached: more requests, or more at once, than \
             a polite probe of at most 60 sequential requests sends"
        }
        "status-403" => "needs a token without the permission; the probe has a working one",
        "status-404" => "says the docs list no 404; no request settles what the docs list",
        "date-header-clock" => {
            "needs a level changed while the probe watches; read-only requests change nothing"
        }
        "processing-time-seconds" => "a unit cannot be read off a number",
        "product-field-names-open" => {
            "needs a field name of a packaging object to ask for, and the vendor documents none"
        }
        "filter-field-kinds" => {
            "would need a filter on each of the 26 filterable fields; not probed"
        }
        "assumed-operators-origin" => {
            "says where the names come from; each operator is probed under \
             operators-neq-in-nin and operators-gteq-lteq"
        }
        "no-operator-notnull" | "no-operators-from-to" | "no-operator-starts" => {
            "a decision not to offer an operator: whether the server knows it does not make \
             the client wrong"
        }
        "cursor-under-other-sort" => {
            "states that the behaviour is unknown and what the mock does, not a claim on the API"
        }
        "error-type-openapi" => {
            "the type stays open and either value is read: no answer can contradict the note"
        }
        "weight-nullable"
        | "dimensions-nullable"
        | "volume-nullable"
        | "inventory-nullable"
        | "export-nullable"
        | "money-nullable"
        | "regulated-goods-nullable"
        | "packaging-nullable"
        | "object-ref-nullable"
        | "product-members-nullable"
        | "custom-field-code-label" => {
            "says a value may be null or missing: answers can show that it is, never that it \
             cannot be"
        }
        _ => NO_PROBE_YET,
    }
}

/// The reason given for a note that neither has a probe nor a reason of its own.
pub const NO_PROBE_YET: &str = "no probe for this note yet: add one to xtask/src/probe.rs (PROBED) if read-only GET \
     requests can settle it, else a reason to `untestable_reason`";

/// Runs every probe against `cfg` and judges every note of `spec_text`; keeps the
/// evidence in `record` (one scrubbed `<id>.json` per probed note) when asked. `pause`
/// is the least time between two requests ([`PAUSE`] from the command line).
pub async fn probe(
    cfg: &LiveConfig,
    spec_text: &str,
    record: Option<&Path>,
    pause: Duration,
) -> Result<Report> {
    let notes = check::assumed_notes_of(spec_text)?;
    let spec = spec::parse(spec_text).context("cannot parse the spec")?;
    let op = spec::operation(&spec, DEFAULT_OPERATION)
        .with_context(|| format!("the spec has no operation `{DEFAULT_OPERATION}`"))?;
    let mut prober = Prober::new(cfg, op.path, pause)?;
    let mut judged = run_probes(&mut prober, &spec).await?;
    let outcomes = notes
        .into_iter()
        .map(|n: AssumedNote| {
            let j = PROBED
                .iter()
                .find(|p| **p == n.id)
                .and_then(|p| judged.remove(p))
                .unwrap_or_else(|| untestable(untestable_reason(&n.id)));
            Outcome {
                id: n.id,
                pointer: n.pointer,
                note: n.text,
                verdict: j.verdict,
                reason: j.reason,
                evidence: j.evidence,
            }
        })
        .collect();
    let report = Report {
        outcomes,
        requests: prober.sent,
    };
    if let Some(dir) = record {
        write_record(cfg, &report, dir)?;
    }
    Ok(report)
}

/// One scrubbed `<id>.json` per probed note under `dir`.
fn write_record(cfg: &LiveConfig, report: &Report, dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for o in report
        .outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::NotTestable)
    {
        let value = json!({
            "id": o.id,
            "pointer": o.pointer,
            "note": o.note,
            "verdict": o.verdict.to_string().to_lowercase(),
            "reason": o.reason,
            "evidence": o.evidence.iter().map(|e| json!({
                "request": e.request,
                "status": e.status,
                "found": e.found,
                "excerpt": e.excerpt,
            })).collect::<Vec<_>>(),
        });
        let mut text = serde_json::to_string_pretty(&cfg.scrub(&value))?;
        text.push('\n');
        let path = dir.join(format!("{}.json", o.id));
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Prints the report: one line per note, the evidence of each refuted one.
pub fn print(report: &Report) {
    let probed: BTreeSet<&str> = report
        .outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::NotTestable)
        .map(|o| o.id.as_str())
        .collect();
    println!(
        "xtask drift --probe: {} notes, {} probed with {} request(s) (budget {MAX_REQUESTS})",
        report.outcomes.len(),
        probed.len(),
        report.requests
    );
    let mut sorted: Vec<&Outcome> = report.outcomes.iter().collect();
    // Refuted first, then confirmed, then not testable; the spec's order within each.
    sorted.sort_by_key(|o| (o.verdict != Verdict::Refuted, o.verdict));
    for o in sorted {
        println!("  {:<12} {}: {}", o.verdict.to_string(), o.id, o.reason);
        if o.verdict == Verdict::Refuted {
            println!("               note ({}): {}", o.pointer, o.note);
            for e in &o.evidence {
                println!("               {} -> {}: {}", e.request, e.status, e.found);
            }
        }
    }
    println!(
        "{} confirmed, {} refuted, {} not testable; {} request(s) sent",
        report.count(Verdict::Confirmed),
        report.count(Verdict::Refuted),
        report.count(Verdict::NotTestable),
        report.requests
    );
}

/// `cargo xtask drift --live --probe`: prints the report; fails when a note is refuted.
pub fn run(spec_path: &Path, record: Option<&Path>) -> Result<()> {
    let cfg = LiveConfig::from_env()?;
    let spec_text = fs::read_to_string(spec_path)
        .with_context(|| format!("cannot read the spec {}", spec_path.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    println!(
        "xtask drift --probe: the x-assumed notes of {} against {}",
        crate::display_path(spec_path),
        cfg.base_url.trim_end_matches('/')
    );
    let report = runtime.block_on(probe(&cfg, &spec_text, record, PAUSE))?;
    print(&report);
    if let Some(dir) = record {
        println!(
            "recorded the evidence of each probed note to {}/<id>.json (token and host \
             scrubbed); keep it out of {}/, which holds responses",
            dir.display(),
            crate::check::RECORDED_DIR
        );
    }
    let refuted: Vec<&str> = report.refuted().map(|o| o.id.as_str()).collect();
    if !refuted.is_empty() {
        bail!(
            "the instance refutes {} note(s) of {}: {}; edit the claim or its note there (the \
             note's id stays), then run `cargo xtask generate`",
            refuted.len(),
            crate::display_path(spec_path),
            refuted.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn page(body: Value) -> Exchange {
        Exchange {
            request: "GET /api/global/v1/inventory/levels/total?limit=5".into(),
            status: 200,
            headers: BTreeMap::new(),
            body,
        }
    }

    #[test]
    fn every_probed_id_is_a_note_of_the_spec_and_the_headers_are_the_specs() {
        let text = include_str!("../../openapi.yaml");
        let notes = check::assumed_notes_of(text).unwrap();
        let ids: BTreeSet<&str> = notes.iter().map(|n| n.id.as_str()).collect();
        let missing: Vec<&&str> = PROBED.iter().filter(|p| !ids.contains(**p)).collect();
        assert!(missing.is_empty(), "{missing:?}");
        let spec = spec::parse(text).unwrap();
        for (response, header) in [
            ("BadRequest", VERSION_ERROR_HEADER),
            ("BadRequest", VERSION_HEADER),
        ] {
            assert!(
                spec.pointer(&format!(
                    "/components/responses/{response}/headers/{header}"
                ))
                .is_some(),
                "{header}"
            );
        }
        // The quantities are the level's integer properties, as codegen reads them.
        let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(text).unwrap();
        let integers: Vec<String> = facts
            .level_properties
            .iter()
            .filter(|p| p.ty == shipstream_inventory_codegen::facts::JsonType::Integer)
            .map(|p| p.name.clone())
            .collect();
        let mut names = quantity_names(&spec);
        names.sort();
        let mut integers = integers;
        integers.sort();
        assert_eq!(names, integers);
        assert!(names.contains(&"qty_on_hand".to_owned()));
    }

    #[test]
    fn every_note_of_the_spec_is_probed_or_has_a_reason_of_its_own() {
        let notes = check::assumed_notes_of(include_str!("../../openapi.yaml")).unwrap();
        let unexplained: Vec<&str> = notes
            .iter()
            .map(|n| n.id.as_str())
            .filter(|id| !PROBED.contains(id) && untestable_reason(id) == NO_PROBE_YET)
            .collect();
        assert_eq!(unexplained, Vec::<&str>::new());
        assert_eq!(untestable_reason("a-note-added-later"), NO_PROBE_YET);
    }

    #[test]
    fn scans_refute_on_a_null_quantity_a_huge_id_a_fraction_and_a_missing_has_more() {
        let q = vec!["qty_on_hand".to_owned()];
        let good = page(json!({"collection": [{"type": "TotalLevel",
            "product": {"type": "Product", "id": 5}, "qty_on_hand": 3,
            "updated_at": "2025-08-28T10:30:00Z"}], "has_more": false,
            "meta": {"cursor_start": 9, "cursor_end": null}, "next": "/x?cursor_start=9"}));
        assert_eq!(
            judge_quantities(std::slice::from_ref(&good), &q).verdict,
            Verdict::Confirmed
        );
        assert_eq!(
            judge_product_ids(std::slice::from_ref(&good)).verdict,
            Verdict::Confirmed
        );
        assert_eq!(
            judge_whole_seconds(std::slice::from_ref(&good)).verdict,
            Verdict::Confirmed
        );
        assert_eq!(
            judge_has_more(std::slice::from_ref(&good)).verdict,
            Verdict::Confirmed
        );
        assert_eq!(
            judge_cursor(std::slice::from_ref(&good), "cursor_start", "next").verdict,
            Verdict::Confirmed
        );

        let mut bad = good.clone();
        bad.body["collection"][0]["qty_on_hand"] = Value::Null;
        bad.body["collection"][0]["product"]["id"] = json!(18_446_744_073_709_551_615u64);
        bad.body["collection"][0]["updated_at"] = json!("2025-08-28T10:30:00.123Z");
        bad.body.as_object_mut().unwrap().remove("has_more");
        bad.body["next"] = json!("/x?cursor_start=99999999999999999999");
        let j = judge_quantities(std::slice::from_ref(&bad), &q);
        assert_eq!(
            (j.verdict, j.evidence[0].found.as_str()),
            (Verdict::Refuted, "$.collection[0].qty_on_hand = null")
        );
        let j = judge_product_ids(std::slice::from_ref(&bad));
        assert_eq!(
            (j.verdict, j.evidence[0].found.as_str()),
            (
                Verdict::Refuted,
                "$.collection[0].product.id = 18446744073709551615"
            )
        );
        let j = judge_whole_seconds(std::slice::from_ref(&bad));
        assert_eq!(j.verdict, Verdict::Refuted);
        let j = judge_has_more(std::slice::from_ref(&bad));
        assert_eq!(
            (j.verdict, j.evidence[0].found.as_str()),
            (Verdict::Refuted, "$.has_more = (absent)")
        );
        let j = judge_cursor(std::slice::from_ref(&bad), "cursor_start", "next");
        assert_eq!(j.verdict, Verdict::Refuted);
    }

    #[test]
    fn next_is_judged_by_its_form_and_origin() {
        let base = reqwest::Url::parse("https://acme.shipstream.app/").unwrap();
        let with = |next: Value| page(json!({"collection": [], "has_more": true, "next": next}));
        let verdict = |next: Value| judge_next_form(&base, &with(next)).0.verdict;
        assert_eq!(
            verdict(json!(
                "/api/global/v1/inventory/levels/total?cursor_start=9"
            )),
            Verdict::Confirmed
        );
        assert_eq!(
            verdict(json!(
                "https://acme.shipstream.app/api/global/v1/x?cursor_start=9"
            )),
            Verdict::Confirmed
        );
        assert_eq!(
            verdict(json!("https://evil.example/api/global/v1/x")),
            Verdict::Refuted
        );
        assert_eq!(verdict(json!("//evil.example/api")), Verdict::Refuted);
        assert_eq!(verdict(json!("cursor_start=9")), Verdict::Refuted);
        // has_more true without a next.
        assert_eq!(verdict(Value::Null), Verdict::Refuted);
        let last = page(json!({"collection": [], "has_more": false, "next": null}));
        assert_eq!(
            judge_next_form(&base, &last).0.verdict,
            Verdict::NotTestable
        );
        assert_eq!(no_link_spelling(&json!({}), "next"), Some("absent"));
        assert_eq!(
            no_link_spelling(&json!({"next": ""}), "next"),
            Some("empty")
        );
        assert_eq!(
            no_link_spelling(&json!({"next": null}), "next"),
            Some("null")
        );
        assert_eq!(no_link_spelling(&json!({"next": "/x"}), "next"), None);
    }

    #[test]
    fn included_products_are_judged_against_the_specs_basic_fields() {
        let spec = spec::parse(include_str!("../../openapi.yaml")).unwrap();
        // The product's optional fields, as the spec lists them (`weight` among them).
        let optional: Vec<&str> = spec
            .pointer("/components/schemas/Product/x-optional-fields")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(optional.contains(&"weight"));
        let basic: serde_json::Map<String, Value> = spec
            .pointer("/components/schemas/Product/properties")
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !optional.contains(&k.as_str()))
            .map(|k| (k.clone(), json!(1)))
            .collect();
        let mut basic = basic;
        basic.insert("type".into(), json!("Product"));
        let with = |product: Value| {
            page(json!({"collection": [], "has_more": false,
            "included": {"Product": [product]}}))
        };
        let good = with(Value::Object(basic.clone()));
        assert_eq!(judge_basic_fields(&good, &spec).verdict, Verdict::Confirmed);
        let (typed, ids) = judge_included(&good);
        assert_eq!(
            (typed.verdict, ids.verdict),
            (Verdict::Confirmed, Verdict::Confirmed)
        );

        let mut extra = basic.clone();
        extra.insert("weight".into(), json!({"value": 1, "unit": "lb"}));
        let j = judge_basic_fields(&with(Value::Object(extra)), &spec);
        assert_eq!(
            (j.verdict, j.evidence[0].found.as_str()),
            (Verdict::Refuted, "$.included.Product[0].weight is present")
        );
        let mut missing = basic.clone();
        missing.remove("barcodes");
        let j = judge_basic_fields(&with(Value::Object(missing)), &spec);
        assert_eq!(
            (j.verdict, j.evidence[0].found.as_str()),
            (Verdict::Refuted, "$.included.Product[*] never has barcodes")
        );
        let mut huge = basic.clone();
        huge.insert("id".into(), json!(1e30));
        let (typed, ids) = judge_included(&with(Value::Object(huge)));
        assert_eq!(
            (typed.verdict, ids.verdict),
            (Verdict::Refuted, Verdict::Refuted)
        );
        let mut untyped = basic;
        untyped.remove("type");
        let (typed, ids) = judge_included(&with(Value::Object(untyped)));
        assert_eq!(
            (typed.verdict, ids.verdict),
            (Verdict::Refuted, Verdict::Confirmed)
        );
    }

    #[test]
    fn requests_are_shown_decoded_and_without_the_token() {
        let mut url = reqwest::Url::parse("https://acme.shipstream.app/api/x").unwrap();
        url.query_pairs_mut().extend_pairs([
            ("filter", "updated_at{gt:\"2025-08-28T10:30:00Z\"}"),
            ("limit", "5"),
        ]);
        assert_eq!(
            shown_request(&url, Some("2999-12")),
            "GET /api/x?filter=updated_at{gt:\"2025-08-28T10:30:00Z\"}&limit=5 \
             (X-ShipStream-API-Version: 2999-12)"
        );
    }
}
