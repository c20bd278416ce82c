//! The one HTTP client for a live ShipStream instance (`drift --live` and its probes):
//! [`LiveConfig`] from the environment, URLs on the instance, the token and host scrubbed
//! from whatever is shown or kept, requests sent one at a time a pause apart within a
//! budget, and a 429 waited out as its `Retry-After` says (through backon).

use std::{cell::Cell, collections::BTreeMap, fmt, fs, path::Path, time::Duration};

use anyhow::{Context, Result, anyhow, bail};
use backon::{ConstantBuilder, Retryable as _};
use serde_json::Value;
use tokio::time::Instant;

/// The host recorded responses carry instead of the instance's.
pub const SCRUBBED_HOST: &str = "example.shipstream.app";
/// What replaces the token in recorded responses.
pub const REDACTED: &str = "<redacted>";
/// The API version header (the spec's `ApiVersion` parameter and response header).
pub const VERSION_HEADER: &str = "X-ShipStream-API-Version";
/// The wait after a 429 without a `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);
/// The longest `Retry-After` waited for; a longer one ends the run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// How often one request is sent again after a 429.
const MAX_RETRIES: usize = 3;

/// Where and how to reach the instance.
#[derive(Clone)]
pub struct LiveConfig {
    /// The instance URL, e.g. `https://acme.shipstream.app` (`SHIPSTREAM_URL`).
    pub base_url: String,
    /// The bearer token (`SHIPSTREAM_TOKEN`). Never printed.
    pub token: String,
    /// The `X-ShipStream-API-Version` to pin, if any (`SHIPSTREAM_API_VERSION`).
    pub api_version: Option<String>,
}

impl fmt::Debug for LiveConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveConfig")
            .field("base_url", &self.base_url)
            .field("token", &REDACTED)
            .field("api_version", &self.api_version)
            .finish()
    }
}

impl LiveConfig {
    /// Reads `SHIPSTREAM_URL`, `SHIPSTREAM_TOKEN` and `SHIPSTREAM_API_VERSION`.
    pub fn from_env() -> Result<Self> {
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let missing: Vec<_> = ["SHIPSTREAM_URL", "SHIPSTREAM_TOKEN"]
            .into_iter()
            .filter(|n| get(n).is_none())
            .collect();
        if !missing.is_empty() {
            bail!(
                "`cargo xtask drift --live` needs {} in the environment: SHIPSTREAM_URL is the \
                 instance URL (https://<instance>.shipstream.app) and SHIPSTREAM_TOKEN a Global \
                 API token; SHIPSTREAM_API_VERSION (YYYY-MM) is optional",
                missing.join(" and ")
            );
        }
        Ok(Self {
            base_url: get("SHIPSTREAM_URL").unwrap_or_default(),
            token: get("SHIPSTREAM_TOKEN").unwrap_or_default(),
            api_version: get("SHIPSTREAM_API_VERSION"),
        })
    }

    /// The URL of the operation at `path` on this instance.
    pub fn url(&self, path: &str) -> Result<reqwest::Url> {
        let base = self.base_url.trim_end_matches('/');
        let url = reqwest::Url::parse(&format!("{base}{path}")).with_context(|| {
            format!(
                "SHIPSTREAM_URL `{}` is not an absolute http(s) URL",
                self.base_url
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("SHIPSTREAM_URL `{}` is not an http(s) URL", self.base_url);
        }
        Ok(url)
    }

    /// Replaces the token and the instance's host in `text`.
    pub fn scrub_text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if !self.token.is_empty() {
            out = out.replace(&self.token, REDACTED);
        }
        if let Ok(url) = reqwest::Url::parse(&self.base_url)
            && let Some(host) = url.host_str()
        {
            if let Some(port) = url.port() {
                out = out.replace(&format!("{host}:{port}"), SCRUBBED_HOST);
            }
            out = out.replace(host, SCRUBBED_HOST);
        }
        out
    }

    /// `value` with the token and the instance's host replaced in every string (and key).
    pub fn scrub(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.scrub_text(s)),
            Value::Array(a) => Value::Array(a.iter().map(|v| self.scrub(v)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (self.scrub_text(k), self.scrub(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Writes `value`, [scrubbed](Self::scrub), as pretty JSON to `path` (its folder created).
    pub fn record(&self, value: &Value, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(&self.scrub(value))?;
        text.push('\n');
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// One answer of the instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// `GET /path?query` (decoded), and the version header when one was sent; no token.
    pub request: String,
    /// The status.
    pub status: u16,
    /// The headers, names in lowercase.
    pub headers: BTreeMap<String, String>,
    /// The body: its JSON, or (when it is not JSON) its start, scrubbed, as a string.
    pub body: Value,
}

impl Answer {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Whether the status is 200.
    pub fn ok(&self) -> bool {
        self.status == 200
    }
}

/// Why one attempt failed: a 429 (with its `Retry-After`), or anything else.
enum Failure {
    TooMany(Option<Duration>),
    Fatal(anyhow::Error),
}

/// The client: one request at a time, each sent at least `pause` after the previous
/// answer, at most `budget` of them (retries included).
#[derive(Debug)]
pub struct LiveClient<'a> {
    cfg: &'a LiveConfig,
    http: reqwest::Client,
    pause: Duration,
    budget: usize,
    sent: Cell<usize>,
    last_answer: Cell<Option<Instant>>,
}

impl<'a> LiveClient<'a> {
    /// A client of `cfg`'s instance; redirects are not followed (the token would go
    /// along).
    pub fn new(cfg: &'a LiveConfig, pause: Duration, budget: usize) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "shipstream-inventory-xtask/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            cfg,
            http,
            pause,
            budget,
            sent: Cell::new(0),
            last_answer: Cell::new(None),
        })
    }

    /// The instance's configuration.
    pub fn config(&self) -> &LiveConfig {
        self.cfg
    }

    /// The requests sent so far (retries included).
    pub fn sent(&self) -> usize {
        self.sent.get()
    }

    /// `GET path?query`; `version` replaces the configured version header.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        version: Option<&str>,
    ) -> Result<Answer> {
        let mut url = self.cfg.url(path)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let version = version.map(str::to_owned).or(self.cfg.api_version.clone());
        self.send(url, version).await
    }

    /// `GET` of a link the instance gave: a path on it, or an absolute URL on its origin
    /// (anything else is never sent: the token would go elsewhere).
    pub async fn follow(&self, uri: &str) -> Result<Answer> {
        let base = self.cfg.url("/")?;
        let url = base
            .join(uri)
            .with_context(|| format!("`{uri}` is not a URI reference"))?;
        if url.origin() != base.origin() {
            bail!("`{uri}` is not on the instance's origin; not following it");
        }
        self.send(url, self.cfg.api_version.clone()).await
    }

    async fn send(&self, url: reqwest::Url, version: Option<String>) -> Result<Answer> {
        let shown = shown_request(&url, version.as_deref());
        let attempt = || self.attempt(&url, version.as_deref(), &shown);
        let outcome = attempt
            .retry(
                ConstantBuilder::default()
                    .with_delay(DEFAULT_RETRY_AFTER)
                    .with_max_times(MAX_RETRIES),
            )
            .sleep(tokio::time::sleep)
            .when(|e: &Failure| matches!(e, Failure::TooMany(_)))
            .adjust(|e: &Failure, wait| match (e, wait?) {
                (Failure::TooMany(Some(asked)), _) if *asked > MAX_RETRY_AFTER => None,
                (Failure::TooMany(Some(asked)), _) => Some(*asked),
                (_, wait) => Some(wait),
            })
            .notify(|_: &Failure, wait: Duration| {
                println!(
                    "   (429 on {shown}: waiting {} s as Retry-After says)",
                    wait.as_secs()
                );
            })
            .await;
        outcome.map_err(|e| match e {
            Failure::Fatal(e) => e,
            Failure::TooMany(asked) => anyhow!(
                "{shown} still answered 429 (Retry-After: {asked:?}) after {MAX_RETRIES} \
                 retries of at most {MAX_RETRY_AFTER:?} each; run it again later"
            ),
        })
    }

    async fn attempt(
        &self,
        url: &reqwest::Url,
        version: Option<&str>,
        shown: &str,
    ) -> Result<Answer, Failure> {
        if self.sent.get() >= self.budget {
            return Err(Failure::Fatal(anyhow!(
                "the budget of {} requests is spent (before {shown})",
                self.budget
            )));
        }
        if let Some(last) = self.last_answer.get() {
            tokio::time::sleep_until(last + self.pause).await;
        }
        self.sent.set(self.sent.get() + 1);
        let mut request = self
            .http
            .get(url.clone())
            .bearer_auth(&self.cfg.token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(v) = version {
            request = request.header(VERSION_HEADER, v);
        }
        let answered = request.send().await;
        self.last_answer.set(Some(Instant::now()));
        let response = answered.map_err(|e| {
            Failure::Fatal(anyhow!(e).context(format!(
                "{shown} failed: check SHIPSTREAM_URL ({}) and the network",
                self.cfg.scrub_text(&self.cfg.base_url)
            )))
        })?;
        let status = response.status().as_u16();
        let headers: BTreeMap<String, String> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        if status == 429 {
            let asked = headers.get("retry-after");
            return Err(Failure::TooMany(
                asked.and_then(|v| v.trim().parse().ok().map(Duration::from_secs)),
            ));
        }
        let text = response.text().await;
        self.last_answer.set(Some(Instant::now()));
        let text =
            text.map_err(|e| Failure::Fatal(anyhow!(e).context(format!("{shown}: no body"))))?;
        let body = serde_json::from_str(&text).unwrap_or_else(|_| {
            let start: String = text.chars().take(300).collect();
            Value::String(self.cfg.scrub_text(&start))
        });
        Ok(Answer {
            request: shown.to_owned(),
            status,
            headers,
            body,
        })
    }
}

/// `GET /path?k=v&...` with the query decoded, and the version header when sent.
pub fn shown_request(url: &reqwest::Url, version: Option<&str>) -> String {
    let pairs = url.query_pairs();
    let query: Vec<String> = pairs
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    let version = version.map(|v| format!(" ({VERSION_HEADER}: {v})"));
    format!("GET {}{query}{}", url.path(), version.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    fn cfg() -> LiveConfig {
        LiveConfig {
            base_url: "https://acme.shipstream.app/".into(),
            token: "s3cr3t.jwt.token".into(),
            api_version: None,
        }
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        assert!(!format!("{:?}", cfg()).contains("s3cr3t"));
    }

    #[test]
    fn scrubbing_replaces_host_and_token_everywhere() {
        let page = json!({
            "next": "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            "echo": ["Bearer s3cr3t.jwt.token"],
            "acme.shipstream.app": 1,
        });
        assert_eq!(
            cfg().scrub(&page),
            json!({
                "next": "https://example.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
                "echo": ["Bearer <redacted>"],
                "example.shipstream.app": 1,
            })
        );
    }

    #[test]
    fn urls_join_without_double_slashes() {
        assert_eq!(
            cfg()
                .url("/api/global/v1/inventory/levels/total")
                .unwrap()
                .as_str(),
            "https://acme.shipstream.app/api/global/v1/inventory/levels/total"
        );
        let bad = LiveConfig {
            base_url: "acme".into(),
            ..cfg()
        };
        assert!(bad.url("/x").is_err());
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
