//! `suites`: the benchmark suites and `BENCHMARKS.md` ([`shipstream_inventory_bench::suite`]).
//! Run it as `cargo xtask bench [--only a,b] [--quick] [--no-write]`, which passes its
//! arguments here.

use std::process::ExitCode;

use clap::Parser;
use shipstream_inventory_bench::suite;

/// Run the benchmarks (crates/bench, the release CLI's memory, the openapi-generator peer,
/// build times) and write the figures to BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask bench", bin_name = "cargo xtask bench")]
struct Cli {
    #[command(flatten)]
    args: suite::Args,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match suite::run(&xtask::root(), &cli.args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
