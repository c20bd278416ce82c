//! [`within`]: the timeout every async test of the workspace runs under, so a test that would
//! wait forever fails instead of hanging `cargo test`.

use std::{future::Future, sync::mpsc, time::Duration};

/// How long an async test may run, in real time. Generous: a slow, busy machine stays far
/// below it; only a hang (a deadlock of the scheduler or the limiter) reaches it.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs a test's body, panicking with a clear message if it has not finished within
/// [`TEST_TIMEOUT`]. Every async test wraps its body in it:
/// `#[tokio::test] async fn t() { within(async { ... }).await }`.
///
/// The clock is a watchdog thread, not a Tokio timer: tests on Tokio's paused clock
/// jump the clock to the next timer whenever the runtime idles on network I/O, so a
/// `tokio::time::timeout` there would fire at once. Should the test's thread itself be
/// blocked (so the panic cannot happen), the watchdog aborts the test binary a little
/// later, with the same message.
pub async fn within<F: Future>(body: F) -> F::Output {
    let (fire, fired) = tokio::sync::oneshot::channel::<()>();
    // Dropped when the test ends (passes or panics): the watchdog then ends too.
    let (_done, ended) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = ended.recv_timeout(TEST_TIMEOUT) {
            let _ = fire.send(());
            if let Err(mpsc::RecvTimeoutError::Timeout) =
                ended.recv_timeout(Duration::from_secs(10))
            {
                eprintln!(
                    "a test did not finish within {TEST_TIMEOUT:?} and its thread is \
                     blocked: aborting the test binary"
                );
                std::process::abort();
            }
        }
    });
    tokio::select! {
        biased;
        out = body => out,
        _ = fired => panic!(
            "the test did not finish within {TEST_TIMEOUT:?} (real time): a deadlock or a hang"
        ),
    }
}
