//! An incremental sync: the first run loads every level, later runs only what changed,
//! with the bookmark (a `SyncState`) saved after every page together with the data it
//! covers, so an interrupted run carries on where it stopped.
//!
//! `cargo run -p shipstream-inventory --example incremental_sync -- [STATE_FILE]`
//! (run it twice: the second run only fetches what changed since the first started).
//! The `sync` command of the CLI does the same into SQLite.

mod common;

use std::path::PathBuf;

use futures::TryStreamExt as _;
use shipstream_inventory::SyncState;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "sync-state.json".into()),
    );
    let state: SyncState = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(_) => SyncState::new(),
    };
    eprintln!(
        "{}",
        if state.is_full_load() {
            "full load"
        } else {
            "incremental"
        }
    );
    let (client, _mock) = common::client().await?;
    let mut pages = std::pin::pin!(client.sync(state).page_size(100).pages());
    while let Some(page) = pages.try_next().await? {
        // Apply `page.items` to your store and save `page.state` in the same transaction
        // (here the store is left out, and the state goes to a file).
        std::fs::write(&path, serde_json::to_vec_pretty(&page.state)?)?;
        if page.is_last() {
            let counts = page.state.run_counts();
            eprintln!(
                "{} levels changed ({} unchanged skipped); in sync as of {:?} (server time); \
                 state saved to {}",
                counts.delivered,
                counts.skipped,
                page.state.synced_as_of(),
                path.display()
            );
        }
    }
    Ok(())
}
