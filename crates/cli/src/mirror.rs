//! `shipstream-inventory sync`: a SQLite mirror of the levels, kept current by the SDK's
//! incremental sync.
//!
//! Tables: `levels` (one row per product: `product_id` primary key, `sku`, `is_enabled`,
//! every `qty_*` quantity of the API, `updated_at` as RFC 3339 text) and `sync_state`
//! (one row: the SDK's [`SyncState`] as JSON). Each page is written in one transaction
//! together with the state after it, so the mirror and its bookmark never disagree, a run
//! killed at any point leaves a consistent database, and the next run carries on.

use std::io::IsTerminal as _;
use std::path::Path;

use futures::TryStreamExt as _;
use rusqlite::{Connection, OptionalExtension as _, params_from_iter, types::Value as Sql};
use shipstream_inventory::{Item, SyncState, api};

use crate::{
    cli::SyncArgs,
    exit::{Code, Failure, code_of},
    export::build_client,
    mock,
    progress::Progress,
};

/// The quantity columns: every integer `qty_*` property of a level, in the API's order.
pub fn quantity_columns() -> Vec<&'static str> {
    api::LEVEL_PROPERTIES
        .iter()
        .filter(|p| p.name.starts_with("qty_") && p.ty == api::JsonType::Integer)
        .map(|p| p.name)
        .collect()
}

fn db_failure(path: &Path, e: &rusqlite::Error) -> Failure {
    Failure::io(format!("the mirror database {}: {e}", path.display()))
}

/// The mirror database.
struct Mirror {
    conn: Connection,
    path: std::path::PathBuf,
    columns: Vec<&'static str>,
    upsert: String,
    /// The stored state as this process last read or wrote it: a page is only written
    /// when the database still holds it (else another `sync` wrote meanwhile).
    expected_state: Option<String>,
    /// `--full`: empty the mirror in the first page's transaction.
    clear_first: bool,
}

impl Mirror {
    /// Opens (creating if missing) the database and brings its tables up to date with the
    /// API's quantities (a quantity new to the spec becomes a new column).
    fn open(path: &Path) -> Result<Mirror, Failure> {
        let fail = |e: rusqlite::Error| db_failure(path, &e);
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        let quantities = quantity_columns();
        let quantity_defs: String = quantities
            .iter()
            .map(|q| format!(",\n  {q} INTEGER"))
            .collect();
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS levels (\n  product_id INTEGER PRIMARY KEY,\n  sku TEXT,\n  \
             is_enabled INTEGER{quantity_defs},\n  updated_at TEXT\n);\n\
             CREATE TABLE IF NOT EXISTS sync_state (\n  id INTEGER PRIMARY KEY CHECK (id = 1),\n  \
             state TEXT NOT NULL,\n  saved_at TEXT NOT NULL\n);"
        ))
        .map_err(fail)?;
        let existing: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('levels')")
            .and_then(|mut st| {
                st.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(fail)?;
        for q in &quantities {
            if !existing.iter().any(|c| c == q) {
                conn.execute_batch(&format!("ALTER TABLE levels ADD COLUMN {q} INTEGER"))
                    .map_err(fail)?;
            }
        }
        let mut columns = vec!["product_id", "sku", "is_enabled"];
        columns.extend(quantities);
        columns.push("updated_at");
        let placeholders = vec!["?"; columns.len()].join(", ");
        let updates = columns[1..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let upsert = format!(
            "INSERT INTO levels ({}) VALUES ({placeholders}) ON CONFLICT(product_id) DO UPDATE \
             SET {updates}",
            columns.join(", ")
        );
        Ok(Mirror {
            conn,
            path: path.to_owned(),
            columns,
            upsert,
            expected_state: None,
            clear_first: false,
        })
    }

    fn fail(&self, e: &rusqlite::Error) -> Failure {
        db_failure(&self.path, e)
    }

    /// The stored state's text, if any.
    fn state_text(conn: &Connection) -> rusqlite::Result<Option<String>> {
        conn.query_row("SELECT state FROM sync_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
    }

    /// The stored state, if any.
    fn state(&mut self) -> Result<Option<SyncState>, Failure> {
        let text = Self::state_text(&self.conn).map_err(|e| self.fail(&e))?;
        self.expected_state = text.clone();
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| {
                Failure::usage(format!(
                    "the sync state in {} cannot be read ({e}); run with --full to load the \
                     mirror again",
                    self.path.display()
                ))
            })
        })
        .transpose()
    }

    /// Upserts a page's levels and stores the state after them, in one transaction (which
    /// first empties the mirror on the first page of `--full`). Refuses to write when
    /// another `sync` changed the stored state since this one read or wrote it.
    fn apply(&mut self, items: &[&Item], state: &SyncState) -> Result<(), Failure> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| db_failure(&path, &e);
        let state_json = serde_json::to_string(state)
            .map_err(|e| Failure::io(format!("cannot serialise the sync state: {e}")))?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        if Self::state_text(&tx).map_err(fail)? != self.expected_state {
            return Err(Failure::io(format!(
                "another `sync` wrote to {} while this one ran; this run stopped without \
                 writing (the database is consistent). Run one sync at a time per database",
                path.display()
            )));
        }
        if self.clear_first {
            tx.execute_batch("DELETE FROM levels").map_err(fail)?;
        }
        {
            let mut upsert = tx.prepare_cached(&self.upsert).map_err(fail)?;
            for item in items {
                upsert
                    .execute(params_from_iter(row(&self.columns, item)))
                    .map_err(fail)?;
            }
        }
        tx.execute(
            "INSERT INTO sync_state (id, state, saved_at) VALUES (1, ?1, ?2) \
             ON CONFLICT(id) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at",
            (&state_json, chrono::Utc::now().to_rfc3339()),
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        self.expected_state = Some(state_json);
        self.clear_first = false;
        Ok(())
    }

    fn count(&self) -> Result<i64, Failure> {
        self.conn
            .query_row("SELECT count(*) FROM levels", [], |r| r.get(0))
            .map_err(|e| self.fail(&e))
    }
}

/// The row of an item, in `columns` order.
fn row(columns: &[&str], item: &Item) -> Vec<Sql> {
    let level = serde_json::to_value(&item.level).unwrap_or_default();
    columns
        .iter()
        .map(|c| match *c {
            "product_id" => item.product_id().map_or(Sql::Null, Sql::Integer),
            "sku" => item.sku().map_or(Sql::Null, |s| Sql::Text(s.to_owned())),
            "is_enabled" => item
                .product
                .as_ref()
                .and_then(|p| p.is_enabled)
                .map_or(Sql::Null, |b| Sql::Integer(i64::from(b))),
            "updated_at" => item.level.updated_at.map_or(Sql::Null, |t| {
                Sql::Text(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }),
            q => level
                .get(q)
                .and_then(|v| v.as_i64())
                .map_or(Sql::Null, Sql::Integer),
        })
        .collect()
}

/// `shipstream-inventory sync`.
pub async fn run(args: SyncArgs, verbose: u8) -> Result<Code, Failure> {
    let mut mirror = Mirror::open(&args.db)?;
    let stored = mirror.state()?;
    let state = if args.full {
        // Emptied in the first page's transaction: a --full run stopped before its first
        // page leaves the mirror as it was.
        mirror.clear_first = true;
        SyncState::new()
    } else {
        stored.unwrap_or_default()
    };
    let demo = if args.connection.demo {
        Some(mock::start_demo().await?)
    } else {
        None
    };
    let result = sync(&args, &mut mirror, state, demo.as_ref(), verbose).await;
    if let Some(server) = demo {
        server.shutdown().await;
    }
    result
}

async fn sync(
    args: &SyncArgs,
    mirror: &mut Mirror,
    state: SyncState,
    demo: Option<&shipstream_inventory_mock::MockServer>,
    verbose: u8,
) -> Result<Code, Failure> {
    let client = build_client(&args.connection, demo)?;
    // A run stopped earlier is finished first; it started before this invocation, so a
    // new run follows, and an exit 0 always means "current as of a time after `sync`
    // was started".
    let continuing = !state.is_complete();
    let mut state = state;
    let mut code = Code::Ok;
    for _ in 0..if continuing { 2 } else { 1 } {
        let (next, run_code) = one_run(args, mirror, &client, state, verbose).await?;
        state = next;
        if run_code != Code::Ok {
            code = run_code;
        }
    }
    Ok(code)
}

/// One sync run (or the rest of one), page by page into the mirror.
async fn one_run(
    args: &SyncArgs,
    mirror: &mut Mirror,
    client: &shipstream_inventory::Client,
    state: SyncState,
    verbose: u8,
) -> Result<(SyncState, Code), Failure> {
    let kind = match (state.is_full_load(), state.is_complete()) {
        (true, true) => "full load",
        (true, false) => "full load (continuing)",
        (false, true) => "incremental",
        (false, false) => "incremental (continuing)",
    };
    let progress = Progress::new(verbose == 0 && std::io::stderr().is_terminal());
    let mut request = client
        .sync(state)
        .lookback(std::time::Duration::from_secs(args.lookback));
    if let Some(size) = args.page_size {
        request = request.page_size(size);
    }
    let mut pages = std::pin::pin!(request.pages());
    let mut number = 0u64;
    let mut last = None;
    let mut record_errors = 0u64;
    loop {
        let page = match pages.try_next().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(e) => {
                progress.finish();
                return Err(Failure::new(
                    code_of(&e),
                    format!(
                        "{e}; the mirror holds every page before this one, and the next run \
                         carries on from there"
                    ),
                ));
            }
        };
        number += 1;
        for r in &page.record_errors {
            record_errors += 1;
            progress.suspend(|| eprintln!("error: {r}"));
        }
        // A level without its product id has no row to go to.
        let (rows, orphans): (Vec<&Item>, Vec<&Item>) =
            page.items.iter().partition(|i| i.product_id().is_some());
        for orphan in orphans {
            record_errors += 1;
            let json = serde_json::to_string(&orphan.level).unwrap_or_default();
            progress.suspend(|| {
                eprintln!("error: a level without its product id cannot be mirrored: {json}")
            });
        }
        mirror.apply(&rows, &page.state)?;
        progress.page(number, page.state.run_counts().delivered);
        last = Some(page.state);
    }
    progress.finish();
    let Some(state) = last else {
        return Err(Failure::new(Code::Contract, "the server returned no page"));
    };
    if !state.is_complete() {
        return Err(Failure::new(
            Code::Contract,
            "the listing ended before the sync run did; the mirror holds every page so far, and \
             the next run carries on from there",
        ));
    }
    let counts = state.run_counts();
    eprintln!(
        "{kind}: {} levels written, {} unchanged skipped, {number} pages; the mirror {} holds \
         {} levels, current as of {} (server time)",
        counts.delivered,
        counts.skipped,
        args.db.display(),
        mirror.count()?,
        state
            .synced_as_of()
            .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339()),
    );
    if record_errors > 0 {
        if counts.record_errors > 0 {
            eprintln!(
                "error: {record_errors} record(s) could not be mirrored (see above); the \
                 bookmark was not advanced, so the next run asks for the same changes again"
            );
        } else {
            eprintln!("error: {record_errors} record(s) could not be mirrored (see above)");
        }
        return Ok((state, Code::Contract));
    }
    Ok((state, Code::Ok))
}
