//! `shipstream-inventory`: export ShipStream inventory levels, keep a SQLite mirror of
//! them current, or serve the mock API.
//!
//! See `shipstream-inventory --help`; the exit codes are in [`exit::EXIT_CODES_HELP`].

mod atomic_file;
mod checkpoint;
mod cli;
mod exit;
mod export;
mod format;
mod logging;
mod mock;
mod progress;
mod sync;

use std::process::ExitCode;

use clap::Parser as _;

use crate::{
    cli::{Cli, Command},
    exit::Code,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Code::Io.into();
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Levels(args) => export::run(*args, cli.verbose).await,
            Command::Sync(args) => sync::run(*args, cli.verbose).await,
            Command::Mock(args) => mock::run(*args).await,
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(code) => code.into(),
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.code.into()
        }
    }
}
