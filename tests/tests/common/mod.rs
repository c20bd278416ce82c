//! What every contract test binary shares.

use std::future::Future;
use std::time::Duration;

/// How long any one test may run: a generous bound for a slow, busy machine, there only so
/// that a test that would wait forever fails instead (no assertion depends on speed).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs a test's body under [`TEST_TIMEOUT`]: `#[tokio::test] async fn t() { within(async
/// { .. }).await }`.
pub async fn within<F: Future>(test: F) -> F::Output {
    match tokio::time::timeout(TEST_TIMEOUT, test).await {
        Ok(out) => out,
        Err(_) => panic!("the test did not finish within {TEST_TIMEOUT:?}"),
    }
}
