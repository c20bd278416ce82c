//! `shipstream-inventory sync`: a mirror of the levels in SQLite (`--db PATH`, the
//! default) or PostgreSQL (`--db postgres://…`), kept current by the SDK's incremental
//! sync, deleted products included (reconciliation).
//!
//! Tables: `levels` (one row per product: `product_id` primary key, `sku`, `is_enabled`,
//! every `qty_*` quantity of the API, `updated_at`) and `sync_state` (one row: the SDK's
//! [`SyncState`] as JSON). Each page is written in one transaction together with the
//! state after it and the deletions it shows, so the mirror and its bookmark never
//! disagree, a run killed at any point leaves a consistent database, and the next run
//! carries on.
//!
//! The columns of `levels` that hold API data are named by the spec: every name comes
//! from the generated code ([`fields`], [`api::LEVEL_PROPERTIES`]), none is written here.
//! The names in [`own`] are the mirror's bookkeeping, not API facts.
//!
//! One code path, two backends ([`sqlite`], [`postgres`]) behind a small seam: open (take
//! the run lock, create or widen the tables), read the stored state, apply a page in one
//! transaction, count. One run at a time per database: SQLite takes an operating-system
//! lock on a file beside the database ([`own::LOCK_SUFFIX`]), PostgreSQL a session-level
//! advisory lock ([`own::ADVISORY_LOCK`]); both are released when the process ends, killed
//! or not, and a second run refuses (exit 1) before it reads or writes anything.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use futures::TryStreamExt as _;
use shipstream_inventory::{Deletions, Item, Reconcile, SyncState, api, fields};

use crate::{
    cli::SyncArgs,
    exit::{Code, Failure, code_of},
    export::build_client,
    mock,
    progress::Progress,
};

mod postgres;
mod report;
mod sqlite;
mod tls;

use report::{Figures, Status};

/// The mirror's own names: its tables, the bookkeeping columns of `sync_state` and the
/// locks. None of them is an API fact, so none comes from the spec.
pub mod own {
    /// The table of the levels.
    pub const LEVELS: &str = "levels";
    /// The table of the stored [`SyncState`](shipstream_inventory::SyncState).
    pub const SYNC_STATE: &str = "sync_state";
    /// `sync_state`'s key (always 1: one row).
    pub const STATE_ID: &str = "id";
    /// `sync_state`'s state as JSON.
    pub const STATE: &str = "state";
    /// `sync_state`'s time of writing (this machine's clock).
    pub const SAVED_AT: &str = "saved_at";
    /// `sync_state`'s rows deleted so far by the run in progress, or by the last run (a
    /// run carried on by a later invocation counts what the stopped one deleted).
    pub const RUN_DELETED: &str = "run_deleted";
    /// The lock file of a SQLite database: its path with this appended.
    pub const LOCK_SUFFIX: &str = ".sync-lock";
    /// The PostgreSQL advisory lock a run holds (`pg_try_advisory_lock`): the bytes of
    /// `ssinvsyn` (shipstream-inventory sync) as a big-endian integer.
    pub const ADVISORY_LOCK: i64 = i64::from_be_bytes(*b"ssinvsyn");
}

/// Where the mirror is: `--db PATH` (SQLite) or `--db postgres://…` / `postgresql://…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A SQLite database file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (the database must exist).
    Postgres(String),
}

impl Target {
    /// Parses `--db`.
    pub fn parse(value: &str) -> Result<Target, String> {
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            // Checked when the run connects, where the message can leave the password
            // out (clap's would repeat the value).
            return Ok(Target::Postgres(value.to_owned()));
        }
        if value.is_empty() {
            return Err("an empty path; give a SQLite file or a postgres:// URL".into());
        }
        Ok(Target::Sqlite(PathBuf::from(value)))
    }
}

impl std::fmt::Display for Target {
    /// The path, or the URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Sqlite(path) => write!(f, "{}", path.display()),
            Target::Postgres(url) => f.write_str(&postgres::describe(url)),
        }
    }
}

/// What a column holds, for each backend's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bool,
    Time,
}

/// A column of `levels`, named by the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    /// The level's product id (the primary key).
    ProductId,
    /// The product's SKU.
    Sku,
    /// Whether the product is enabled.
    IsEnabled,
    /// A quantity of the level.
    Quantity(&'static str),
    /// When the level last changed.
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

    fn kind(self) -> Kind {
        match self {
            Column::ProductId | Column::Quantity(_) => Kind::Int,
            Column::Sku => Kind::Text,
            Column::IsEnabled => Kind::Bool,
            Column::UpdatedAt => Kind::Time,
        }
    }
}

/// `levels`' column definitions for `CREATE TABLE`, typed by `sql_type`.
fn column_defs(columns: &[Column], sql_type: fn(Kind) -> &'static str) -> String {
    columns
        .iter()
        .map(|c| {
            let key = if *c == Column::ProductId {
                " PRIMARY KEY"
            } else {
                ""
            };
            format!("  {} {}{key}", c.name(), sql_type(c.kind()))
        })
        .collect::<Vec<_>>()
        .join(",\n")
}

/// The `SET` list of an upsert: every column but the key takes the new row's value.
fn upsert_updates(columns: &[Column]) -> String {
    columns
        .iter()
        .filter(|c| **c != Column::ProductId)
        .map(|c| format!("{0} = excluded.{0}", c.name()))
        .collect::<Vec<_>>()
        .join(", ")
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

/// One cell of a row, typed by its column's [`Kind`].
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Time(Option<chrono::DateTime<chrono::Utc>>),
}

/// The row of an item, in `columns` order.
fn row(columns: &[Column], item: &Item) -> Vec<Cell> {
    let level = serde_json::to_value(&item.level).unwrap_or_default();
    columns
        .iter()
        .map(|c| match *c {
            Column::ProductId => Cell::Int(item.product_id()),
            Column::Sku => Cell::Text(item.sku().map(str::to_owned)),
            Column::IsEnabled => Cell::Bool(item.product.as_ref().and_then(|p| p.is_enabled)),
            Column::UpdatedAt => Cell::Time(item.level.updated_at),
            Column::Quantity(q) => Cell::Int(level.get(q).and_then(|v| v.as_i64())),
        })
        .collect()
}

/// What one transaction writes: a page's rows, its deletions and the state after it.
struct Batch<'a> {
    rows: Vec<Vec<Cell>>,
    deletions: Option<&'a Deletions>,
    state_json: String,
    saved_at: chrono::DateTime<chrono::Utc>,
    /// The run's deletions before this page's.
    run_deleted: u64,
}

/// The row of `sync_state`.
struct Stored {
    state: String,
    run_deleted: u64,
    saved_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The backend seam.
enum Store {
    Sqlite(sqlite::Store),
    Postgres(postgres::Store),
}

/// The mirror database, its run lock held.
struct Mirror {
    store: Store,
    target: Target,
    columns: Vec<Column>,
    /// The stored state as this process last read or wrote it: a page is only written
    /// when the database still holds it (else another `sync` wrote meanwhile, which the
    /// run lock should have prevented: a lock file removed by hand, say).
    expected_state: Option<String>,
    /// `--full`: empty the mirror in the first page's transaction.
    clear_first: bool,
    /// Rows the run in progress deleted so far, a stopped invocation's included.
    run_deleted: u64,
}

impl Mirror {
    /// Takes the run lock, opens the database (a SQLite file is created if missing) and
    /// brings its tables up to date with the API's quantities.
    async fn open(target: &Target) -> Result<Mirror, Failure> {
        let columns = Column::all();
        let store = match target {
            Target::Sqlite(path) => Store::Sqlite(sqlite::Store::open(path, &columns)?),
            Target::Postgres(url) => Store::Postgres(postgres::Store::open(url, &columns).await?),
        };
        Ok(Mirror {
            store,
            target: target.clone(),
            columns,
            expected_state: None,
            clear_first: false,
            run_deleted: 0,
        })
    }

    /// Opens the database to read it only, without the run lock.
    async fn inspect(target: &Target) -> Result<Mirror, Failure> {
        let store = match target {
            Target::Sqlite(path) => Store::Sqlite(sqlite::Store::inspect(path)?),
            Target::Postgres(url) => Store::Postgres(postgres::Store::inspect(url).await?),
        };
        Ok(Mirror {
            store,
            target: target.clone(),
            columns: Vec::new(),
            expected_state: None,
            clear_first: false,
            run_deleted: 0,
        })
    }

    async fn stored(&mut self) -> Result<Option<Stored>, Failure> {
        match &mut self.store {
            Store::Sqlite(s) => s.stored(),
            Store::Postgres(s) => s.stored().await,
        }
    }

    /// The stored state, if any.
    async fn state(&mut self) -> Result<Option<SyncState>, Failure> {
        let stored = self.stored().await?;
        self.run_deleted = stored.as_ref().map_or(0, |s| s.run_deleted);
        let text = stored.map(|s| s.state);
        self.expected_state = text.clone();
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| {
                Failure::usage(format!(
                    "the sync state in {} cannot be read ({e}); run with --full to load the \
                     mirror again",
                    self.target
                ))
            })
        })
        .transpose()
    }

    /// Upserts a page's levels, removes the rows its deletions name and stores the state
    /// after them, in one transaction (which first empties the mirror on the first page
    /// of `--full`). Refuses to write when another `sync` changed the stored state since
    /// this one read or wrote it. Returns the rows deleted.
    async fn apply(
        &mut self,
        items: &[&Item],
        deletions: Option<&Deletions>,
        state: &SyncState,
    ) -> Result<u64, Failure> {
        let batch = Batch {
            rows: items.iter().map(|i| row(&self.columns, i)).collect(),
            deletions,
            state_json: serde_json::to_string(state)
                .map_err(|e| Failure::io(format!("cannot serialise the sync state: {e}")))?,
            saved_at: chrono::Utc::now(),
            run_deleted: self.run_deleted,
        };
        let expected = self.expected_state.as_deref();
        let written = match &mut self.store {
            Store::Sqlite(s) => s.apply(expected, self.clear_first, &batch)?,
            Store::Postgres(s) => s.apply(expected, self.clear_first, &batch).await?,
        };
        let Some(deleted) = written else {
            return Err(Failure::io(format!(
                "another `sync` wrote to {} while this one ran; this run stopped without \
                 writing (the database is consistent). Run one sync at a time per database",
                self.target
            )));
        };
        self.expected_state = Some(batch.state_json);
        self.clear_first = false;
        self.run_deleted += deleted;
        Ok(deleted)
    }

    async fn count(&mut self) -> Result<i64, Failure> {
        match &mut self.store {
            Store::Sqlite(s) => s.count(),
            Store::Postgres(s) => s.count().await,
        }
    }
}

/// `shipstream-inventory sync`: a run, with its figures written to `--metrics-file` at
/// its end whatever the outcome; or `--status`.
pub async fn run(args: SyncArgs, verbose: u8) -> Result<Code, Failure> {
    if args.status {
        return status(&args).await;
    }
    let mut figures = Figures {
        started: Some(chrono::Utc::now()),
        ..Figures::default()
    };
    let result = run_sync(&args, verbose, &mut figures).await;
    let Some(path) = &args.metrics_file else {
        return result;
    };
    figures.ended = Some(chrono::Utc::now());
    figures.exit_code = Some(match &result {
        Ok(code) => *code as i32,
        Err(f) => f.code as i32,
    });
    let written = figures.prometheus(&args.db.to_string()).and_then(|text| {
        crate::atomic_file::write(path, ".sync-metrics-", text.as_bytes())
            .map_err(|e| e.to_string())
    });
    match (written, result) {
        (Err(e), Ok(_)) => Err(Failure::io(format!(
            "cannot write the metrics file {}: {e}",
            path.display()
        ))),
        (Err(e), Err(f)) => {
            eprintln!(
                "error: cannot write the metrics file {}: {e}",
                path.display()
            );
            Err(f)
        }
        (Ok(()), result) => result,
    }
}

/// `sync --status`: the mirror's own state; exit 1 when it is older than `--max-age`.
async fn status(args: &SyncArgs) -> Result<Code, Failure> {
    let mut mirror = Mirror::inspect(&args.db).await?;
    let stored = mirror
        .stored()
        .await
        .map_err(|f| Failure::io(format!("{}; is it a mirror (run sync first)?", f.message)))?;
    let state: Option<SyncState> = match &stored {
        Some(s) => Some(serde_json::from_str(&s.state).map_err(|e| {
            Failure::usage(format!(
                "the sync state in {} cannot be read ({e})",
                args.db
            ))
        })?),
        None => None,
    };
    let counts = state
        .as_ref()
        .map(SyncState::run_counts)
        .unwrap_or_default();
    let current = state.as_ref().and_then(SyncState::synced_as_of);
    let status = Status {
        mirror: args.db.to_string(),
        rows: mirror.count().await?,
        current_as_of: current,
        age_seconds: current.map(|t| (chrono::Utc::now() - t).num_seconds()),
        reconciled_as_of: state.as_ref().and_then(SyncState::reconciled_as_of),
        last_written: stored.as_ref().and_then(|s| s.saved_at),
        run_in_progress: state.as_ref().is_some_and(|s| !s.is_complete()),
        upserted: counts.delivered,
        skipped: counts.skipped,
        deleted: stored.as_ref().map_or(0, |s| s.run_deleted),
    };
    if args.format.as_deref() == Some("json") {
        let json = serde_json::to_string_pretty(&status)
            .map_err(|e| Failure::io(format!("cannot serialise the status: {e}")))?;
        println!("{json}");
    } else {
        print!("{}", status.human());
    }
    if let Some(max) = args.max_age {
        let max_secs = i64::try_from(max.as_secs()).unwrap_or(i64::MAX);
        match status.age_seconds {
            Some(age) if age <= max_secs => {}
            Some(age) => {
                return Err(Failure::io(format!(
                    "the mirror {} is current as of {age} s ago, older than --max-age ({} s)",
                    args.db,
                    max.as_secs()
                )));
            }
            None => {
                return Err(Failure::io(format!(
                    "the mirror {} was never synced completely (--max-age {} s)",
                    args.db,
                    max.as_secs()
                )));
            }
        }
    }
    Ok(Code::Ok)
}

async fn run_sync(args: &SyncArgs, verbose: u8, figures: &mut Figures) -> Result<Code, Failure> {
    // Before anything reads or writes the database: a second run stops here.
    let mut mirror = Mirror::open(&args.db).await?;
    let stored = mirror.state().await?;
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
    let result = sync(args, &mut mirror, state, demo.as_ref(), verbose, figures).await;
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
    figures: &mut Figures,
) -> Result<Code, Failure> {
    let client = build_client(&args.connection, demo)?;
    let result = sync_runs(args, mirror, &client, state, verbose, figures).await;
    if let Some(stats) = client.limiter_stats() {
        figures.requests = Some(stats.requests);
        figures.refusals = Some(stats.rate_limited + stats.over_concurrency);
    }
    result
}

async fn sync_runs(
    args: &SyncArgs,
    mirror: &mut Mirror,
    client: &shipstream_inventory::Client,
    state: SyncState,
    verbose: u8,
    figures: &mut Figures,
) -> Result<Code, Failure> {
    // A run stopped earlier is finished first; it started before this invocation, so a
    // new run follows, and an exit 0 always means "current as of a time after `sync`
    // was started".
    let continuing = !state.is_complete();
    let mut state = state;
    let mut code = Code::Ok;
    for _ in 0..if continuing { 2 } else { 1 } {
        let (next, run_code) = one_run(args, mirror, client, state, verbose, figures).await?;
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
    figures: &mut Figures,
) -> Result<(SyncState, Code), Failure> {
    let continuing = !state.is_complete();
    if !continuing {
        mirror.run_deleted = 0;
    }
    let full = state.is_full_load();
    let policy = if args.reconcile {
        Reconcile::Always
    } else {
        Reconcile::OlderThan(args.reconcile_every)
    };
    let progress = Progress::new(verbose == 0 && std::io::stderr().is_terminal());
    let mut request = client
        .sync(state)
        .lookback(Duration::from_secs(args.lookback))
        .reconcile(policy)
        .parallel(args.parallel.map_or(1, |n| n as usize));
    if let Some(size) = args.page_size {
        request = request.page_size(size);
    }
    let mut pages = std::pin::pin!(request.pages());
    let mut number = 0u64;
    let mut last = None;
    let mut record_errors = 0u64;
    let mut reconciling = false;
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
        *figures.pages.get_or_insert(0) += 1;
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
        // Deletions are judged by the facade from ids alone: a level without an id stops
        // them for the rest of the listing (see `Deletions`).
        mirror
            .apply(&rows, page.deletions.as_ref(), &page.state)
            .await?;
        let counts = page.state.run_counts();
        figures.upserted = Some(counts.delivered);
        figures.skipped = Some(counts.skipped);
        figures.deleted = Some(mirror.run_deleted);
        reconciling |= page.state.is_reconciling() || page.deletions.is_some();
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
    let kind = match (full, reconciling) {
        (true, _) => "full load",
        (false, true) => "incremental + reconciliation",
        (false, false) => "incremental",
    };
    let kind = if continuing {
        format!("{kind} (continuing)")
    } else {
        kind.to_owned()
    };
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "never".to_owned(), |t| t.to_rfc3339())
    };
    let rows = mirror.count().await?;
    figures.rows = Some(rows);
    figures.current_as_of = state.synced_as_of();
    figures.reconciled_as_of = state.reconciled_as_of();
    eprintln!(
        "{kind}: {} upserted, {} deleted, {} unchanged skipped, {number} pages; the mirror {} \
         holds {rows} levels, current as of {}, reconciled as of {} (server time)",
        counts.delivered,
        mirror.run_deleted,
        counts.skipped,
        args.db,
        when(state.synced_as_of()),
        when(state.reconciled_as_of()),
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
