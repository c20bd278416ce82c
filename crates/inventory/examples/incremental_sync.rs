//! An incremental sync into an in-memory store: the first run loads every level, later
//! runs only what changed and (when a reconciliation is due) which products were deleted,
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
    // A real store persists with the state; this one lives for one run.
    let mut store = std::collections::BTreeMap::new();
    let mut deleted = 0;
    let mut pages = std::pin::pin!(client.sync(state).page_size(100).pages());
    while let Some(page) = pages.try_next().await? {
        // Apply the page to your store and save `page.state` in the same transaction.
        for item in &page.items {
            if let Some(id) = item.product_id() {
                store.insert(id, item.level.clone());
            }
        }
        if let Some(gone) = &page.deletions {
            let before = store.len();
            store.retain(|id, _| !gone.contains(*id));
            deleted += before - store.len();
        }
        std::fs::write(&path, serde_json::to_vec_pretty(&page.state)?)?;
        if page.is_last() {
            let counts = page.state.run_counts();
            eprintln!(
                "{} levels changed ({} unchanged skipped, {deleted} deleted); in sync as of \
                 {:?}, reconciled as of {:?} (server time); state saved to {}",
                counts.delivered,
                counts.skipped,
                page.state.synced_as_of(),
                page.state.reconciled_as_of(),
                path.display()
            );
        }
    }
    Ok(())
}
