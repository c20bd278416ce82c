//! `cargo xtask drift --live`: spec ⇄ a live ShipStream instance.
//!
//! Fetches one small page (`limit=5`, `fields=all`, `fields:product=all`) of total inventory
//! levels and names, by JSON path, every field, type or enum value the spec lacks or
//! contradicts. `--record FILE` keeps the page as a recorded response (with the token and
//! the instance's host scrubbed), so `cargo xtask check` holds the spec to it from then on.
//! The token is never printed.
//!
//! [`vendor`]: `cargo xtask drift --vendor FILE|DIR`, spec ⇄ the vendor's own OpenAPI
//! description, through the spec-diff engine.

use std::{fmt, fs, path::Path, time::Duration};

use anyhow::{Context, Result, bail};
use serde_json::Value;

pub mod vendor;

use crate::{
    check::DEFAULT_OPERATION,
    conformance::{self, Finding},
    spec,
};

/// The host recorded responses carry instead of the instance's.
pub const SCRUBBED_HOST: &str = "example.shipstream.app";
/// What replaces the token in recorded responses.
pub const REDACTED: &str = "<redacted>";

/// The query of the page that is fetched.
pub const QUERY: &[(&str, &str)] = &[("limit", "5"), ("fields", "all"), ("fields:product", "all")];

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
}

/// Fetches the page from the instance and returns its JSON body.
pub async fn fetch_page(cfg: &LiveConfig, spec: &Value) -> Result<Value> {
    let op = spec::operation(spec, DEFAULT_OPERATION)
        .with_context(|| format!("the spec has no operation `{DEFAULT_OPERATION}`"))?;
    let url = cfg.url(op.path)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!(
            "shipstream-inventory-xtask/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .context("cannot build the HTTP client")?;
    let mut request = client
        .get(url.clone())
        .query(QUERY)
        .bearer_auth(&cfg.token)
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(v) = &cfg.api_version {
        let header = version_header(spec).context("the spec declares no version header")?;
        request = request.header(header, v);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("GET {url} failed"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .with_context(|| format!("GET {url}: cannot read the body"))?;
    if !status.is_success() {
        let shown: String = cfg.scrub_text(&body).chars().take(500).collect();
        bail!("GET {url} answered {status}: {shown}");
    }
    serde_json::from_str(&body).with_context(|| {
        let shown: String = cfg.scrub_text(&body).chars().take(200).collect();
        format!("GET {url} answered {status} but the body is not JSON: {shown}")
    })
}

/// The name of the operation's header parameter (the API version pin).
fn version_header(spec: &Value) -> Option<String> {
    let op = spec::operation(spec, DEFAULT_OPERATION)?;
    spec::parameters(spec, &op)
        .into_keys()
        .find(|(location, _)| location == "header")
        .map(|(_, name)| name)
}

/// Every field, type or enum value of `page` that the spec's 200 schema of
/// `list_total_inventory_levels` lacks or contradicts.
pub fn page_drift(spec: &Value, page: &Value) -> Result<Vec<Finding>> {
    let op = spec::operation(spec, DEFAULT_OPERATION)
        .with_context(|| format!("the spec has no operation `{DEFAULT_OPERATION}`"))?;
    let schema = spec::response(spec, &op, "200")
        .and_then(spec::json_body_schema)
        .with_context(|| format!("the spec documents no JSON body for 200 of {}", op.label()))?;
    conformance::check(spec, schema, page)
}

/// Fetches the page, records it (scrubbed) when asked, and returns its drift.
pub async fn live(cfg: &LiveConfig, spec: &Value, record: Option<&Path>) -> Result<Vec<Finding>> {
    let page = fetch_page(cfg, spec).await?;
    if let Some(path) = record {
        let scrubbed = cfg.scrub(&page);
        let mut text = serde_json::to_string_pretty(&scrubbed)?;
        text.push('\n');
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    page_drift(spec, &page)
}

/// `cargo xtask drift --live`: prints the report; fails when the API drifted from the spec.
pub fn run(spec_path: &Path, record: Option<&Path>) -> Result<()> {
    let cfg = LiveConfig::from_env()?;
    let spec = spec::load(spec_path)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    println!(
        "xtask drift: GET {}{} with limit=5, fields=all, fields:product=all{}",
        cfg.base_url.trim_end_matches('/'),
        spec::operation(&spec, DEFAULT_OPERATION).map_or("", |o| o.path),
        cfg.api_version
            .as_deref()
            .map(|v| format!(", X-ShipStream-API-Version: {v}"))
            .unwrap_or_default()
    );
    let findings = runtime.block_on(live(&cfg, &spec, record))?;
    if let Some(path) = record {
        println!(
            "recorded the page to {} (token and host scrubbed); keep it under {}/ as \
             `<status>-<name>.json` so `cargo xtask check` holds the spec to it",
            path.display(),
            crate::check::RECORDED_DIR
        );
    }
    if findings.is_empty() {
        println!(
            "no drift: the page matches {}",
            crate::display_path(spec_path)
        );
        return Ok(());
    }
    let violations = findings.iter().filter(|f| f.kind.is_violation()).count();
    println!(
        "the API drifted from {} in {} places ({violations} break the spec, {} are valid but \
         undescribed):",
        crate::display_path(spec_path),
        findings.len(),
        findings.len() - violations
    );
    for f in &findings {
        let mark = if f.kind.is_violation() {
            "✗ violation"
        } else {
            "~ drift    "
        };
        println!("  {mark} {f}");
    }
    bail!(
        "the live API differs from the spec in {} places; update {} (then run `cargo xtask \
         generate`)",
        findings.len(),
        crate::display_path(spec_path)
    )
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
}
