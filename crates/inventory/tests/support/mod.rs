//! Shared by the integration tests:
//! - [`within`]: the timeout every async test runs under, so a deadlock fails the test
//!   instead of hanging `cargo test`.
//! - Log capture: one global subscriber for the whole test binary, writing each thread's
//!   output to that thread's own buffer. (Per-test `set_default` subscribers race with
//!   tracing's global callsite-interest cache when tests run in parallel.)

#![allow(dead_code, clippy::unwrap_used)]

use std::{cell::RefCell, io::Write, sync::Once};

pub use shipstream_inventory_contract_tests::within;

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
