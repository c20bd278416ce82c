//! The export peers: each follows every page of `sort=product_id`, `limit=1000` and
//! writes every level as one NDJSON line (the level as the API sent it, serialised by
//! serde_json) to the same kind of sink. The test below checks that all of them write
//! byte-identical output: the facade's two ways, the generated client and the hand-written
//! loop, compared byte for byte. The hand-written loop's [`minimal::Level`] models the
//! level fields the spec had when it was written ([`minimal::LEVEL_FIELDS`]); should the
//! spec gain one (as in `cargo xtask drill`'s copy), the hand-written bytes are compared with
//! the facade's records decoded into [`minimal::Level`] and written again, line by line.
//!
//! - [`facade`]: `client.total_levels()....items()`, the SDK's documented way;
//! - [`facade_pages`]: the same request through `pages()`, writing `page.levels()`;
//! - [`handwritten`]: a `reqwest` + `serde_json` loop over [`crate::minimal::Page`] that
//!   follows `next`, with the facade's HTTP client settings ([`handwritten_client`]);
//! - [`generated`]: the raw progenitor client that the facade wraps
//!   (`client.generated().list_total_inventory_levels()...send()`). Its builder cannot
//!   take a `next` URI, so the loop reads `cursor_start` out of `next` and passes it to
//!   the builder (the other query parameters are the same on every page).

use std::{
    io::{self, BufWriter, Write},
    num::NonZeroU64,
    pin::pin,
    time::Duration,
};

use anyhow::{Context as _, Result, anyhow, bail};
use futures::TryStreamExt as _;
use shipstream_inventory::{Client, Sort, SortField};
use shipstream_inventory_mock::LEVELS_PATH;

use crate::{PAGE_SIZE, minimal};

/// The user agent of every peer.
pub const USER_AGENT: &str = "shipstream-inventory-bench";

/// A sink that only counts what it is given.
#[derive(Debug, Default)]
pub struct Counter {
    /// Bytes written.
    pub bytes: u64,
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

/// The sink of the export benchmarks: a 64 KiB buffer (as the CLI uses) over a [`Counter`].
pub fn sink() -> BufWriter<Counter> {
    BufWriter::with_capacity(64 * 1024, Counter::default())
}

fn write_line<W: Write, T: serde::Serialize>(out: &mut W, value: &T) -> Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The facade client used by [`facade`], [`facade_pages`] and [`generated`]. Without
/// client-side limits: these benchmarks measure CPU against an unlimited mock, and the
/// hand-written loop has none either.
pub fn facade_client(base_url: &str, token: &str) -> Result<Client> {
    Ok(Client::builder()
        .base_url(base_url)
        .token(token)
        .user_agent(USER_AGENT)
        .rate_limits(shipstream_inventory::RateLimits::none())
        .build()?)
}

/// A `reqwest::Client` configured as the facade configures its own: bearer header
/// (sensitive) and user agent as default headers, 10 s connect and 60 s request
/// timeouts, redirects followed within the origin only (at most 5).
pub fn handwritten_client(base_url: &str, token: &str) -> Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut auth = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))?;
    auth.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, auth);
    let origin = url::Url::parse(base_url)?.origin();
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(USER_AGENT)
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

/// The facade's `items()`; returns the number of levels written.
pub async fn facade<W: Write>(client: &Client, out: &mut W) -> Result<u64> {
    let mut items = pin!(
        client
            .total_levels()
            .page_size(PAGE_SIZE)
            .sort(Sort::asc(SortField::ProductId))
            .items()
    );
    let mut n = 0;
    while let Some(item) = items.try_next().await? {
        write_line(out, &item.level)?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

/// The facade's `pages()`, writing each page's levels by reference.
pub async fn facade_pages<W: Write>(client: &Client, out: &mut W) -> Result<u64> {
    let mut pages = pin!(
        client
            .total_levels()
            .page_size(PAGE_SIZE)
            .sort(Sort::asc(SortField::ProductId))
            .pages()
    );
    let mut n = 0;
    while let Some(page) = pages.try_next().await? {
        for level in page.levels() {
            write_line(out, level)?;
            n += 1;
        }
    }
    out.flush()?;
    Ok(n)
}

/// The hand-written loop: GET, read the body, decode [`minimal::Page`], write, follow
/// `next` (host-relative or absolute) while `has_more`.
pub async fn handwritten<W: Write>(
    http: &reqwest::Client,
    base_url: &str,
    out: &mut W,
) -> Result<u64> {
    let base = base_url.trim_end_matches('/');
    let mut url = format!("{base}{LEVELS_PATH}?limit={PAGE_SIZE}&sort=product_id");
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
            bail!("GET {url}: {status}: {}", String::from_utf8_lossy(&body));
        }
        let page: minimal::Page = serde_json::from_slice(&body)?;
        for level in &page.collection {
            write_line(out, level)?;
            n += 1;
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

/// `cursor_start` of a `next` URI.
pub fn cursor_start_of(next: &str) -> Option<i64> {
    let (_, query) = next.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("cursor_start="))
        .and_then(|v| v.parse().ok())
}

/// The raw generated client (sharing the facade client's connection pool, headers and
/// retrying transport), paging with `cursor_start` read from `next`.
pub async fn generated<W: Write>(
    client: &shipstream_inventory_generated::Client,
    out: &mut W,
) -> Result<u64> {
    let limit = NonZeroU64::new(u64::from(PAGE_SIZE)).context("page size 0")?;
    let mut cursor = None;
    let mut n = 0;
    loop {
        let mut request = client
            .list_total_inventory_levels()
            .limit(limit)
            .sort("product_id");
        if let Some(c) = cursor {
            request = request.cursor_start(c);
        }
        let page = request
            .send()
            .await
            .map_err(|e| anyhow!("list_total_inventory_levels: {e}"))?
            .into_inner();
        for level in &page.collection {
            write_line(out, level)?;
            n += 1;
        }
        cursor = match page.next.as_deref().filter(|_| page.has_more) {
            Some(next) => Some(
                cursor_start_of(next)
                    .with_context(|| format!("no cursor_start in next `{next}`"))?,
            ),
            None => None,
        };
        if cursor.is_none() {
            break;
        }
    }
    out.flush()?;
    Ok(n)
}

/// The prefetch scenario: every page of `sort=product_id`, `limit=page_size`, with
/// `work` of consumer work (an async sleep) per page; returns the number of levels.
pub async fn pages_with_work(
    client: &Client,
    page_size: u32,
    prefetch: bool,
    work: Duration,
) -> Result<u64> {
    let mut pages = pin!(
        client
            .total_levels()
            .page_size(page_size)
            .sort(Sort::asc(SortField::ProductId))
            .prefetch(prefetch)
            .pages()
    );
    let mut n = 0;
    while let Some(page) = pages.try_next().await? {
        n += page.len() as u64;
        if !work.is_zero() {
            tokio::time::sleep(work).await;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use shipstream_inventory_contract_tests::within;
    use shipstream_inventory_mock::{Dataset, MockConfig};

    use super::*;
    use crate::{SEED, server::BackgroundMock};

    #[tokio::test]
    async fn every_peer_writes_the_same_ndjson() {
        within(async {
            let server =
                BackgroundMock::start(MockConfig::default().dataset(Dataset::generate(2500, SEED)))
                    .unwrap();
            let client = facade_client(server.base_url(), server.token()).unwrap();
            let http = handwritten_client(server.base_url(), server.token()).unwrap();

            let mut a = Vec::new();
            let na = facade(&client, &mut a).await.unwrap();
            let mut b = Vec::new();
            let nb = facade_pages(&client, &mut b).await.unwrap();
            let mut c = Vec::new();
            let nc = handwritten(&http, server.base_url(), &mut c).await.unwrap();
            let mut d = Vec::new();
            let nd = generated(client.generated(), &mut d).await.unwrap();

            assert!(na > 2000, "{na} levels");
            assert_eq!((na, na, na), (nb, nc, nd));
            assert_eq!(a.iter().filter(|&&b| b == b'\n').count() as u64, na);
            same_bytes("facade items()", &a, "facade pages()", &b);
            same_bytes("facade", &a, "generated", &d);
            let mut spec_fields: Vec<&str> = shipstream_inventory_generated::api::LEVEL_PROPERTIES
                .iter()
                .map(|p| p.name)
                .collect();
            spec_fields.sort_unstable();
            if spec_fields == minimal::LEVEL_FIELDS {
                same_bytes("facade", &a, "hand-written", &c);
            } else {
                // The spec has level fields the hand-written struct does not model: compare its
                // bytes with the facade's records restricted to the fields it does model.
                eprintln!(
                    "the spec's level fields {spec_fields:?} are not minimal::LEVEL_FIELDS: the \
                 hand-written peer is compared with the facade's records restricted to them"
                );
                let mut restricted = Vec::new();
                for line in a.split_inclusive(|&b| b == b'\n') {
                    let level: minimal::Level = serde_json::from_slice(line).unwrap();
                    write_line(&mut restricted, &level).unwrap();
                }
                same_bytes("facade (restricted)", &restricted, "hand-written", &c);
            }
            let first = std::str::from_utf8(a.split(|&b| b == b'\n').next().unwrap()).unwrap();
            assert!(first.starts_with(r#"{"product":{"id":"#), "{first}");
        })
        .await
    }

    /// Panics, naming the first line that differs, unless `a` and `b` are the same bytes.
    fn same_bytes(name_a: &str, a: &[u8], name_b: &str, b: &[u8]) {
        if a == b {
            return;
        }
        let (la, lb) = (a.split(|&x| x == b'\n'), b.split(|&x| x == b'\n'));
        let (n, (x, y)) = la
            .zip(lb)
            .enumerate()
            .find(|(_, (x, y))| x != y)
            .unwrap_or((0, (b"(same lines)", b"(a different length)")));
        panic!(
            "{name_a} and {name_b} wrote different bytes; line {}:\n{}\n{}",
            n + 1,
            String::from_utf8_lossy(x),
            String::from_utf8_lossy(y)
        );
    }

    #[tokio::test]
    async fn prefetch_delivers_the_same_levels() {
        within(async {
            let server =
                BackgroundMock::start(MockConfig::default().dataset(Dataset::generate(300, SEED)))
                    .unwrap();
            let client = facade_client(server.base_url(), server.token()).unwrap();
            let off = pages_with_work(&client, 100, false, Duration::ZERO)
                .await
                .unwrap();
            let on = pages_with_work(&client, 100, true, Duration::ZERO)
                .await
                .unwrap();
            assert_eq!(off, on);
            assert!(off > 250);
        })
        .await
    }

    #[test]
    fn cursors_are_read_from_next() {
        assert_eq!(
            cursor_start_of("/api/x?limit=1000&sort=product_id&cursor_start=1069"),
            Some(1069)
        );
        assert_eq!(cursor_start_of("/api/x?limit=1000"), None);
    }

    #[test]
    fn the_decode_page_has_a_thousand_levels_and_products() {
        let body = crate::fixtures::decode_page().unwrap();
        let page: minimal::Page = serde_json::from_slice(&body).unwrap();
        assert_eq!(page.collection.len(), 1000);
        assert_eq!(page.included.unwrap().products.len(), 1000);
        let facade = shipstream_inventory::Page::from_json(&body).unwrap();
        assert_eq!(facade.levels().count(), 1000);
        assert_eq!(facade.included().products().count(), 1000);
        assert_eq!(facade.record_errors().count(), 0);
    }
}
