//! `cargo xtask drift --live`: spec ⇄ a live ShipStream instance.
//!
//! Fetches one small page (`limit=5`, `fields=all`, `fields:product=all`) of total inventory
//! levels and names, by JSON path, every field, type or enum value the spec lacks or
//! contradicts. `--record FILE` keeps the page as a recorded response (with the token and
//! the instance's host scrubbed), so `cargo xtask check` holds the spec to it from then on.
//! The token is never printed.
//!
//! [`vendor`]: `cargo xtask drift --vendor FILE|DIR|URL`, spec ⇄ the vendor's own OpenAPI
//! description, through the spec-diff engine.

use std::{path::Path, time::Duration};

use anyhow::{Context, Result, bail};
use serde_json::Value;

pub mod layout;
pub mod vendor;

use crate::{
    check::DEFAULT_OPERATION,
    conformance::{self, Finding},
    live::{LiveClient, LiveConfig},
    spec,
};

/// The query of the page that is fetched.
pub const QUERY: &[(&str, &str)] = &[("limit", "5"), ("fields", "all"), ("fields:product", "all")];

/// Fetches the page from the instance and returns its JSON body.
pub async fn fetch_page(cfg: &LiveConfig, spec: &Value) -> Result<Value> {
    let op = spec::operation(spec, DEFAULT_OPERATION)
        .with_context(|| format!("the spec has no operation `{DEFAULT_OPERATION}`"))?;
    let answer = LiveClient::new(cfg, Duration::ZERO, 4)?
        .get(op.path, QUERY, None)
        .await?;
    if !(200..300).contains(&answer.status) || !answer.body.is_object() {
        let body: String = cfg
            .scrub_text(&answer.body.to_string())
            .chars()
            .take(500)
            .collect();
        bail!("{} answered {}: {body}", answer.request, answer.status);
    }
    Ok(answer.body)
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
        cfg.record(&page, path)?;
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
