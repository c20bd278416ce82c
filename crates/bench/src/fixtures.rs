//! Page bodies as the mock serves them, for decoding from memory.

use anyhow::{Context as _, Result, bail};
use shipstream_inventory_mock::{Dataset, LEVELS_PATH, MockConfig};

use crate::{SEED, server::BackgroundMock};

/// The query of the decode benchmarks' page: 1000 levels with every product field, so
/// the page includes 1000 products.
pub const DECODE_QUERY: &str = "limit=1000&sort=product_id&fields:product=all";

/// The query of an export's first page: 1000 levels, no products.
pub const EXPORT_QUERY: &str = "limit=1000&sort=product_id";

/// Fetches `GET LEVELS_PATH?{query}` from a mock serving `products` generated products
/// and returns the body.
pub fn page_body(products: usize, query: &str) -> Result<Vec<u8>> {
    let server =
        BackgroundMock::start(MockConfig::default().dataset(Dataset::generate(products, SEED)))?;
    get(
        &format!("{}{LEVELS_PATH}?{query}", server.base_url()),
        server.token(),
    )
}

/// `GET url` with `token`, on a runtime of its own: the body of a successful answer.
pub fn get(url: &str, token: &str) -> Result<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            bail!("GET {url}: {status}: {}", String::from_utf8_lossy(&body));
        }
        Ok(body.to_vec())
    })
}

/// The decode benchmarks' page: the first 1000 levels of 1100 generated products (the
/// API leaves the ~3 % disabled ones out) and their 1000 products (`fields:product=all`),
/// about 1.4 MB of JSON.
pub fn decode_page() -> Result<Vec<u8>> {
    page_body(1100, DECODE_QUERY)
}

/// The shortest generated dataset (seed [`SEED`]) that serves exactly `levels` levels
/// (the API leaves disabled products out, about 3 %). A smaller dataset is a prefix of a
/// larger one, so a binary search on the enabled count finds it.
pub fn dataset_with_levels(levels: usize) -> Dataset {
    let served = |n: usize| {
        let stats = Dataset::generate(n, SEED).stats();
        stats.products - stats.disabled
    };
    let (mut lo, mut hi) = (levels, levels + levels / 10 + 100);
    while served(hi) < levels {
        hi *= 2;
    }
    // The answer lies in lo..=hi.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if served(mid) >= levels {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Dataset::generate(lo, SEED)
}
