//! `shipstream-inventory sync`: a SQLite mirror of the levels, kept current by the SDK's
//! incremental sync.
//!
//! Tables: `levels` (one row per product: `product_id` primary key, `sku`, `is_enabled`,
//! every `qty_*` quantity of the API, `updated_at` as RFC 3339 text) and `sync_state`
//! (one row: the SDK's [`SyncState`] as JSON). Each page is written in one transaction
//! together with the state after it, so the mirror and its bookmark never disagree, a run
//! killed at any point leaves a consistent database, and the next run carries on.
//!
//! The columns of `levels` that hold API data are named by the spec: every name comes
//! from the generated code ([`fields`], [`api::LEVEL_PROPERTIES`]), none is written here.
//! The names in [`own`] are the mirror's bookkeeping, not API facts.
//!
//! One run at a time: before it touches the database, a run takes an exclusive lock on a
//! file beside it ([`own::LOCK_SUFFIX`]), held until the process ends (the operating
//! system releases it when the process is killed). A second run refuses (exit 1) before it
//! reads or writes the database.

use std::io::IsTerminal as _;
use std::path::Path;

use futures::TryStreamExt as _;
use rusqlite::{Connection, OptionalExtension as _, params_from_iter, types::Value as Sql};
use shipstream_inventory::{Item, SyncState, api, fields};

use crate::{
    cli::SyncArgs,
    exit::{Code, Failure, code_of},
    export::build_client,
    mock,
    progress::Progress,
};

/// The mirror's own names: its tables, the bookkeeping columns of `sync_state` and the lock
/// file. None of them is an API fact, so none comes from the spec.
pub mod own {
    /// The table of the levels.
    pub const LEVELS: &str = "levels";
    /// The table of the stored [`SyncState`](shipstream_inventory::SyncState).
    pub const SYNC_STATE: &str = "sync_state";
    /// `sync_state`'s key (always 1: one row).
    pub const STATE_ID: &str = "id";
    /// `sync_state`'s state as JSON.
    pub const STATE: &str = "state";
    /// `sync_state`'s time of writing (this machine's clock, RFC 3339).
    pub const SAVED_AT: &str = "saved_at";
    /// The lock file of a database: its path with this appended.
    pub const LOCK_SUFFIX: &str = ".sync-lock";
}

/// A column of `levels`, named by the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    /// The level's product id (the primary key).
    ProductId,
    /// The product's SKU.
    Sku,
    /// Whether the product is enabled (0/1).
    IsEnabled,
    /// A quantity of the level.
    Quantity(&'static str),
    /// When the level last changed (RFC 3339 text).
    UpdatedAt,
}

impl Column {
    /// Every column, in table order: the key, the product's, the quantities, `updated_at`.
    fn all() -> Vec<Column> {
        let mut all = vec![Column::ProductId, Column::Sku, Column::IsEnabled];
        all.extend(quantity_columns().into_iter().map(Column::Quantity));
        all.push(Column::UpdatedAt);
        all
    }

    /// The name, as the spec spells it (the filterable field of the same data).
    fn name(self) -> &'static str {
        match self {
            Column::ProductId => fields::PRODUCT_ID.name(),
            Column::Sku => fields::SKU.name(),
            Column::IsEnabled => fields::IS_ENABLED.name(),
            Column::Quantity(name) => name,
            Column::UpdatedAt => fields::UPDATED_AT.name(),
        }
    }

    /// The SQLite type.
    fn sql_type(self) -> &'static str {
        match self {
            Column::ProductId | Column::IsEnabled | Column::Quantity(_) => "INTEGER",
            Column::Sku | Column::UpdatedAt => "TEXT",
        }
    }
}

/// The quantity columns: every integer property of a level (the API's quantities), in the
/// API's order.
pub fn quantity_columns() -> Vec<&'static str> {
    api::LEVEL_PROPERTIES
        .iter()
        .filter(|p| p.ty == api::JsonType::Integer)
        .map(|p| p.name)
        .collect()
}

fn db_failure(path: &Path, e: &rusqlite::Error) -> Failure {
    Failure::io(format!("the mirror database {}: {e}", path.display()))
}

/// The exclusive lock of one database's sync runs: held while this value lives, and by the
/// operating system only while the process does (a killed run leaves no stale lock).
struct RunLock {
    /// The lock file, open and locked (`flock` on Unix, `LockFileEx` on Windows) until it
    /// closes. Nothing is ever written to it.
    _file: std::fs::File,
}

impl RunLock {
    /// Takes the lock of the database at `db`, or refuses at once when another run holds it.
    fn take(db: &Path) -> Result<RunLock, Failure> {
        let mut lock_path = db.as_os_str().to_owned();
        lock_path.push(own::LOCK_SUFFIX);
        let lock_path = std::path::PathBuf::from(lock_path);
        let fail = |e: std::io::Error| {
            Failure::io(format!(
                "the lock file {} of the mirror database: {e}",
                lock_path.display()
            ))
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(fail)?;
        // An operating-system lock, not a SQLite one: two runs starting together each
        // holding SQLite's shared lock while asking for its exclusive one both fail, so
        // both would stop; of two `try_lock`s exactly one wins.
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Failure::io(format!(
                "another `sync` is running on {} (it holds {}); this run stopped before \
                 reading or writing anything. Run one sync at a time per database",
                db.display(),
                lock_path.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(fail(e)),
        }
    }
}

/// The mirror database.
struct Mirror {
    conn: Connection,
    path: std::path::PathBuf,
    columns: Vec<Column>,
    upsert: String,
    /// The stored state as this process last read or wrote it: a page is only written
    /// when the database still holds it (else another `sync` wrote meanwhile, which the
    /// run lock should have prevented: a lock file removed by hand, say).
    expected_state: Option<String>,
    /// `--full`: empty the mirror in the first page's transaction.
    clear_first: bool,
}

impl Mirror {
    /// Opens (creating if missing) the database and brings its tables up to date with the
    /// API's quantities (a quantity new to the spec becomes a new column). The caller holds
    /// the [`RunLock`].
    fn open(path: &Path, _lock: &RunLock) -> Result<Mirror, Failure> {
        use own::{LEVELS, SAVED_AT, STATE, STATE_ID, SYNC_STATE};
        let fail = |e: rusqlite::Error| db_failure(path, &e);
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        let columns = Column::all();
        let defs: Vec<String> = columns
            .iter()
            .map(|c| {
                let key = if *c == Column::ProductId {
                    " PRIMARY KEY"
                } else {
                    ""
                };
                format!("  {} {}{key}", c.name(), c.sql_type())
            })
            .collect();
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {LEVELS} (\n{}\n);\n\
             CREATE TABLE IF NOT EXISTS {SYNC_STATE} (\n  {STATE_ID} INTEGER PRIMARY KEY CHECK \
             ({STATE_ID} = 1),\n  {STATE} TEXT NOT NULL,\n  {SAVED_AT} TEXT NOT NULL\n);",
            defs.join(",\n")
        ))
        .map_err(fail)?;
        let existing: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{LEVELS}')"))
            .and_then(|mut st| {
                st.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(fail)?;
        for c in &columns {
            if !existing.iter().any(|e| e == c.name()) {
                conn.execute_batch(&format!(
                    "ALTER TABLE {LEVELS} ADD COLUMN {} {}",
                    c.name(),
                    c.sql_type()
                ))
                .map_err(fail)?;
            }
        }
        let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
        let placeholders = vec!["?"; names.len()].join(", ");
        let updates = names[1..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let upsert = format!(
            "INSERT INTO {LEVELS} ({}) VALUES ({placeholders}) ON CONFLICT({}) DO UPDATE SET \
             {updates}",
            names.join(", "),
            Column::ProductId.name(),
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
        use own::{STATE, STATE_ID, SYNC_STATE};
        conn.query_row(
            &format!("SELECT {STATE} FROM {SYNC_STATE} WHERE {STATE_ID} = 1"),
            [],
            |r| r.get(0),
        )
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
        use own::{LEVELS, SAVED_AT, STATE, STATE_ID, SYNC_STATE};
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
            tx.execute_batch(&format!("DELETE FROM {LEVELS}"))
                .map_err(fail)?;
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
            &format!(
                "INSERT INTO {SYNC_STATE} ({STATE_ID}, {STATE}, {SAVED_AT}) VALUES (1, ?1, ?2) \
                 ON CONFLICT({STATE_ID}) DO UPDATE SET {STATE} = excluded.{STATE}, \
                 {SAVED_AT} = excluded.{SAVED_AT}"
            ),
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
            .query_row(&format!("SELECT count(*) FROM {}", own::LEVELS), [], |r| {
                r.get(0)
            })
            .map_err(|e| self.fail(&e))
    }
}

/// The row of an item, in `columns` order.
fn row(columns: &[Column], item: &Item) -> Vec<Sql> {
    let level = serde_json::to_value(&item.level).unwrap_or_default();
    columns
        .iter()
        .map(|c| match *c {
            Column::ProductId => item.product_id().map_or(Sql::Null, Sql::Integer),
            Column::Sku => item.sku().map_or(Sql::Null, |s| Sql::Text(s.to_owned())),
            Column::IsEnabled => item
                .product
                .as_ref()
                .and_then(|p| p.is_enabled)
                .map_or(Sql::Null, |b| Sql::Integer(i64::from(b))),
            Column::UpdatedAt => item.level.updated_at.map_or(Sql::Null, |t| {
                Sql::Text(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }),
            Column::Quantity(q) => level
                .get(q)
                .and_then(|v| v.as_i64())
                .map_or(Sql::Null, Sql::Integer),
        })
        .collect()
}

/// `shipstream-inventory sync`.
pub async fn run(args: SyncArgs, verbose: u8) -> Result<Code, Failure> {
    // Before anything reads or writes the database: a second run stops here.
    let lock = RunLock::take(&args.db)?;
    let mut mirror = Mirror::open(&args.db, &lock)?;
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
