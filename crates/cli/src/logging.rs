//! `-v` logging on stderr through tracing-subscriber.

use std::io::IsTerminal as _;

use tracing_subscriber::{EnvFilter, fmt::format::FmtSpan};

/// Installs the subscriber: nothing without `-v` (unless `RUST_LOG` is set), then more
/// per `-v`. The SDK never logs the token.
pub fn init(verbose: u8) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let directives = match (from_env, verbose) {
        (Some(env), _) => env,
        (None, 0) => return,
        // The binary's own target is `shipstream_inventory` too (its crate name).
        (None, 1) => "warn,shipstream_inventory=info".into(),
        (None, 2) => "info,shipstream_inventory=debug,shipstream_inventory_mock=info".into(),
        (None, _) => "debug,shipstream_inventory=trace,shipstream_inventory_mock=debug".into(),
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .try_init();
}
