//! Shared by the integration tests:
//! - [`within`]: the timeout every async test runs under, so a deadlock fails the test
//!   instead of hanging `cargo test`.
//! - Log capture: one global subscriber for the whole test binary, writing each thread's
//!   output to that thread's own buffer. (Per-test `set_default` subscribers race with
//!   tracing's global callsite-interest cache when tests run in parallel.)

#![allow(dead_code, clippy::unwrap_used)]

use std::{
    cell::RefCell,
    future::Future,
    io::Write,
    sync::{Once, mpsc},
    time::Duration,
};

/// How long an async test may run, in real time. Generous: a slow, busy machine stays far
/// below it; only a hang (a deadlock of the scheduler or the limiter) reaches it.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(120);

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

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BUFFER.with(|b| b.borrow_mut().extend_from_slice(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What this thread logged since [`capture`] was called. `#[tokio::test]` runs the test
/// and the tasks it spawns on the test's own thread, so this is the test's log.
pub struct Capture(());

/// Starts capturing this thread's log output (every level).
pub fn capture() -> Capture {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| ThreadWriter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    BUFFER.with(|b| b.borrow_mut().clear());
    Capture(())
}

impl Capture {
    /// The captured text.
    pub fn text(&self) -> String {
        BUFFER.with(|b| String::from_utf8_lossy(&b.borrow()).into_owned())
    }
}
