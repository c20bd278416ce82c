//! The openapi-generator peer of the export benchmark (`cargo xtask bench --only
//! openapi-generator`). Not part of the workspace: `cargo xtask bench` copies this file
//! into a cargo project under `target/openapi-generator-client/` next to the client that
//! openapi-generator's `rust` generator (reqwest, async) makes from `openapi.yaml`, and
//! runs it against a mock server process.
//!
//! Usage: `runner BASE_URL TOKEN ROUNDS`. Exports every level (`sort=product_id`,
//! `limit=1000`) as NDJSON into a counting sink with the generated client, with this
//! workspace's facade (`shipstream-inventory`, a path dependency of the runner, without
//! client-side rate limits), and with a hand-written reqwest + serde_json loop as a
//! reference built with the same reqwest in the same process, rotating the three; prints
//! one JSON object with the seconds of every round. Before timing, one untimed run of each
//! collects every level's values (product id, quantities, `updated_at`) and the three
//! must agree exactly.

use std::io::{self, BufWriter, Write};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use shipstream_openapi_client::apis::{configuration::Configuration, inventory_api};

/// The values of one level that every client must agree on.
type Canon = (i64, Vec<(String, i64)>, Option<i64>);

fn canon(level: &impl Serialize) -> Result<Canon, Error> {
    let v = serde_json::to_value(level)?;
    let id = v["product"]["id"].as_i64().ok_or("a level without product id")?;
    let mut qty: Vec<(String, i64)> = v
        .as_object()
        .ok_or("a level that is not an object")?
        .iter()
        .filter(|(k, _)| k.starts_with("qty_"))
        .map(|(k, n)| (k.clone(), n.as_i64().unwrap_or(i64::MIN)))
        .collect();
    qty.sort();
    let updated = v["updated_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp());
    Ok((id, qty, updated))
}

type Error = Box<dyn std::error::Error + Send + Sync>;

const PATH: &str = "/api/global/v1/inventory/levels/total";
const PAGE_SIZE: i32 = 1000;

#[derive(Default)]
struct Counter {
    bytes: u64,
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn sink() -> BufWriter<Counter> {
    BufWriter::with_capacity(64 * 1024, Counter::default())
}

fn http(base_url: &str, token: &str) -> Result<reqwest::Client, Error> {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))?;
    auth.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, auth);
    let origin = reqwest::Url::parse(base_url)?.origin();
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .user_agent("shipstream-inventory-bench")
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() < 5 && attempt.url().origin() == origin {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()?)
}

fn cursor_start_of(next: &str) -> Option<i64> {
    let (_, query) = next.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("cursor_start="))
        .and_then(|v| v.parse().ok())
}

/// The generated client: `list_total_inventory_levels` takes no `next` URI, so the
/// cursor is read from `next` and passed as `cursor_start`.
async fn openapi_generator(
    config: &Configuration,
    mut seen: Option<&mut Vec<Canon>>,
) -> Result<u64, Error> {
    let mut out = sink();
    let mut cursor = None;
    let mut n = 0;
    loop {
        // (x-shipstream-api-version, version, filter, sort, fields, fields:product, count,
        // cursor_start, cursor_end, limit)
        let page = inventory_api::list_total_inventory_levels(
            config,
            None,
            None,
            None,
            Some("product_id"),
            None,
            None,
            None,
            cursor,
            None,
            Some(PAGE_SIZE),
        )
        .await
        .map_err(|e| format!("list_total_inventory_levels: {e}"))?;
        for level in &page.collection {
            serde_json::to_writer(&mut out, level)?;
            out.write_all(b"\n")?;
            n += 1;
            if let Some(seen) = seen.as_deref_mut() {
                seen.push(canon(level)?);
            }
        }
        cursor = match page.next.flatten().filter(|_| page.has_more) {
            Some(next) => Some(cursor_start_of(&next).ok_or("no cursor_start in next")?),
            None => None,
        };
        if cursor.is_none() {
            break;
        }
    }
    out.flush()?;
    Ok(n)
}

#[derive(Deserialize)]
struct Page {
    collection: Vec<Level>,
    has_more: bool,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize, Serialize)]
struct Level {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product: Option<ProductRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_advertised: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_allocated: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_available: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_backordered: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_expected: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_on_hand: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_picked: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_processed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_putaway: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qty_reserved: Option<i64>,
    #[serde(rename = "type")]
    type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize, Serialize)]
struct ProductRef {
    id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<String>,
    #[serde(rename = "type")]
    type_: String,
}

/// The hand-written reference: the same loop as the workspace's benchmark crate.
async fn handwritten(
    http: &reqwest::Client,
    base: &str,
    mut seen: Option<&mut Vec<Canon>>,
) -> Result<u64, Error> {
    let mut out = sink();
    let mut url = format!("{base}{PATH}?limit={PAGE_SIZE}&sort=product_id");
    let mut n = 0;
    loop {
        let response = http
            .get(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            return Err(format!("GET {url}: {status}").into());
        }
        let page: Page = serde_json::from_slice(&body)?;
        for level in &page.collection {
            serde_json::to_writer(&mut out, level)?;
            out.write_all(b"\n")?;
            n += 1;
            if let Some(seen) = seen.as_deref_mut() {
                seen.push(canon(level)?);
            }
        }
        match page.next.filter(|next| page.has_more && !next.is_empty()) {
            Some(next) if next.starts_with('/') => url = format!("{base}{next}"),
            Some(next) => url = next,
            None => break,
        }
    }
    out.flush()?;
    Ok(n)
}

/// This workspace's facade, as a user writes the loop: pages in `product_id` order, each
/// level written as NDJSON.
async fn facade(
    client: &shipstream_inventory::Client,
    mut seen: Option<&mut Vec<Canon>>,
) -> Result<u64, Error> {
    use futures::TryStreamExt as _;
    use shipstream_inventory::{Sort, SortField};
    let mut out = sink();
    let mut n = 0;
    let mut pages = std::pin::pin!(client
        .total_levels()
        .sort(Sort::asc(SortField::ProductId))
        .page_size(PAGE_SIZE as u32)
        .pages());
    while let Some(page) = pages.try_next().await? {
        for level in page.levels() {
            serde_json::to_writer(&mut out, level)?;
            out.write_all(b"\n")?;
            n += 1;
            if let Some(seen) = seen.as_deref_mut() {
                seen.push(canon(level)?);
            }
        }
    }
    out.flush()?;
    Ok(n)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, token, rounds] = args.as_slice() else {
        return Err("usage: runner BASE_URL TOKEN ROUNDS".into());
    };
    let base = base.trim_end_matches('/');
    let rounds: usize = rounds.parse()?;
    let client = http(base, token)?;
    let config = Configuration {
        base_path: base.to_owned(),
        user_agent: Some("shipstream-inventory-bench".to_owned()),
        client: client.clone(),
        bearer_access_token: Some(token.clone()),
        ..Configuration::default()
    };
    let sdk = shipstream_inventory::Client::builder()
        .base_url(base)
        .token(token)
        .user_agent("shipstream-inventory-bench")
        .rate_limits(shipstream_inventory::RateLimits::none())
        .build()?;
    // Warm up (connections, the server's sort order) and check that the three clients
    // deliver the same levels with the same values.
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let levels = openapi_generator(&config, Some(&mut a)).await?;
    let reference = handwritten(&client, base, Some(&mut b)).await?;
    let ours = facade(&sdk, Some(&mut c)).await?;
    if levels != reference || ours != reference {
        return Err(format!(
            "openapi-generator wrote {levels} levels, the facade {ours}, hand-written {reference}"
        )
        .into());
    }
    if a != b || c != b {
        return Err("the clients' levels differ in their values".into());
    }
    let compared = b.len();
    drop((a, b, c));
    let (mut generated_s, mut handwritten_s, mut facade_s) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Rotate which goes first so none always runs on a warmer machine.
        for k in 0..3 {
            let t = Instant::now();
            match (round + k) % 3 {
                0 => {
                    openapi_generator(&config, None).await?;
                    generated_s.push(t.elapsed().as_secs_f64());
                }
                1 => {
                    facade(&sdk, None).await?;
                    facade_s.push(t.elapsed().as_secs_f64());
                }
                _ => {
                    handwritten(&client, base, None).await?;
                    handwritten_s.push(t.elapsed().as_secs_f64());
                }
            }
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "levels": levels,
            "compared": compared,
            "openapi_generator_s": generated_s,
            "facade_s": facade_s,
            "handwritten_s": handwritten_s,
        })
    );
    Ok(())
}
