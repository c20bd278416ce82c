//! An incremental sync: fetch the levels updated since the last run, saving a checkpoint
//! after every page so an interrupted run resumes where it stopped.
//!
//! `cargo run -p shipstream-inventory --example incremental_sync -- [STATE_FILE]`
//! (run it twice: the second run only fetches what changed since the first started).

mod common;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use shipstream_inventory::{Checkpoint, Sort, SortField};

/// What survives between runs.
#[derive(Default, Serialize, Deserialize)]
struct State {
    /// When the last complete sync started; the next one asks for changes after it.
    last_sync_started: Option<DateTime<Utc>>,
    /// Set while a sync is under way: where to resume.
    in_progress: Option<(DateTime<Utc>, Checkpoint)>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "sync-state.json".into()),
    );
    let mut state: State = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(_) => State::default(),
    };
    let (client, _mock) = common::client().await?;

    let (started, pages) = match state.in_progress.take() {
        Some((started, checkpoint)) => {
            eprintln!("resuming after {} levels", checkpoint.items_delivered());
            (started, client.resume(checkpoint).pages().boxed())
        }
        None => {
            let started = Utc::now();
            let mut request = client
                .total_levels()
                .sort(Sort::asc(SortField::ProductId))
                .page_size(100);
            if let Some(since) = state.last_sync_started {
                request = request.updated_since(since);
            }
            (started, request.pages().boxed())
        }
    };
    let mut pages = pages;
    let mut changed = 0usize;
    while let Some(page) = pages.next().await {
        let page = page?;
        changed += page.levels().count();
        // ... apply the page's levels to your store here, then record progress ...
        state.in_progress = Some((started, page.checkpoint().clone()));
        std::fs::write(&path, serde_json::to_vec_pretty(&state)?)?;
    }
    state.in_progress = None;
    state.last_sync_started = Some(started);
    std::fs::write(&path, serde_json::to_vec_pretty(&state)?)?;
    eprintln!("{changed} levels synced; state saved to {}", path.display());
    Ok(())
}
