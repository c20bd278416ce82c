//! The `mock` subcommand and the embedded server of `levels --demo`.

use std::{io::Write as _, time::Duration};

use shipstream_inventory_mock::{Dataset, Faults, MockConfig, MockServer, MockState, NextStyle};

use crate::{
    cli::{MockArgs, NextStyleArg},
    exit::{Code, Failure},
};

/// Products of the `--demo` dataset.
pub const DEMO_PRODUCTS: usize = 250;
/// Seed of the `--demo` dataset.
pub const DEMO_SEED: u64 = 42;

/// Starts the in-process mock server of `levels --demo` on a free loopback port.
pub async fn start_demo() -> Result<MockServer, Failure> {
    let config = MockConfig::default()
        .dataset(Dataset::generate(DEMO_PRODUCTS, DEMO_SEED))
        .seed(DEMO_SEED)
        .record_requests(false);
    MockServer::start(config)
        .await
        .map_err(|e| Failure::io(format!("cannot start the demo server: {e}")))
}

/// The faults of the `mock` arguments.
fn faults(args: &MockArgs) -> Result<Faults, Failure> {
    let mut faults = Faults::none();
    for spec in &args.faults {
        let parsed: Faults = spec
            .parse()
            .map_err(|e| Failure::usage(format!("invalid --fault `{spec}`: {e}")))?;
        for rule in parsed.rules() {
            faults.push(rule.clone());
        }
    }
    Ok(faults)
}

/// `shipstream-inventory mock`: serves until Ctrl-C or SIGTERM.
pub async fn run(args: MockArgs) -> Result<Code, Failure> {
    let faults = faults(&args)?;
    let dataset = match &args.dataset {
        Some(path) => Dataset::from_json_file(path)
            .map_err(|e| Failure::usage(format!("invalid --dataset: {e}")))?,
        None => Dataset::generate(args.products, args.seed),
    };
    let config = MockConfig::default()
        .token(args.token.clone())
        .dataset(dataset)
        .faults(faults)
        .next_style(match args.next_style {
            NextStyleArg::Relative => NextStyle::Relative,
            NextStyleArg::Absolute => NextStyle::Absolute,
        })
        .seed(args.seed)
        .mutate(
            args.mutate.unwrap_or(0.0),
            Duration::from_secs(args.mutate_for),
        )
        .delete_share(args.delete_share)
        .clock_skew_secs(args.clock_skew)
        .record_requests(false);
    let config = if args.api_versions.is_empty() {
        config
    } else {
        config.api_versions(args.api_versions.iter().map(|v| v.trim().to_owned()))
    };
    if !(args.latency_per_level.is_finite() && args.latency_per_level >= 0.0) {
        return Err(Failure::usage(format!(
            "--latency-per-level must be 0 or more milliseconds (got {})",
            args.latency_per_level
        )));
    }
    let mut config = config.latency(
        Duration::from_millis(args.latency.unwrap_or(0)),
        Duration::from_secs_f64(args.latency_per_level / 1000.0),
    );
    if let Some(rate) = args.rate_limit {
        let burst = args.burst.unwrap_or(config.burst);
        config = config.rate_limit(rate, burst);
    }
    if let Some(max) = args.max_concurrent {
        config = config.max_concurrent(max);
    }
    config = config.limit_headers(!args.no_limit_headers);
    let limited = config.rate_limit.is_some() || config.max_concurrent.is_some();
    let state = MockState::new(config)
        .map_err(|e| Failure::usage(format!("invalid mock settings: {e}")))?;
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|e| Failure::io(format!("cannot listen on {}:{}: {e}", args.host, args.port)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::io(format!("cannot read the bound address: {e}")))?;
    let url = format!("http://{addr}");
    {
        let mut out = std::io::stdout().lock();
        let announce = writeln!(out, "listening on {url}")
            .and_then(|()| out.flush())
            .and_then(|()| writeln!(out, "token: {}", args.token))
            .and_then(|()| {
                writeln!(
                    out,
                    "try: SHIPSTREAM_URL={url} SHIPSTREAM_TOKEN={} shipstream-inventory levels \
                     --sort product_id",
                    args.token
                )
            })
            .and_then(|()| out.flush());
        if let Err(e) = announce {
            tracing::warn!("cannot print the address: {e}");
        }
    }
    tracing::info!(%url, "mock server listening");
    MockServer::serve_state(listener, state.clone(), shutdown_signal())
        .await
        .map_err(|e| Failure::io(format!("the mock server failed: {e}")))?;
    if args.mutate.is_some() {
        eprintln!("live mode: {}", state.live_counts());
    }
    if limited {
        eprintln!("limits: {}", state.limit_counts());
    }
    eprintln!("mock server stopped");
    Ok(Code::Ok)
}

/// Completes on Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
