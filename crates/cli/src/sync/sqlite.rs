//! The SQLite backend of the mirror (`--db PATH`): one file, one run at a time through an
//! operating-system lock on a file beside it.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension as _, params_from_iter, types::Value as Sql};

use super::{Batch, Cell, Column, Kind, Stored, column_defs, own, upsert_updates};
use crate::exit::Failure;

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
        let lock_path = PathBuf::from(lock_path);
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

/// The SQLite type of a column.
fn sql_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Int | Kind::Bool => "INTEGER",
        Kind::Text | Kind::Time => "TEXT",
    }
}

/// A cell as SQLite stores it: booleans 0/1, times RFC 3339 text.
fn value(cell: &Cell) -> Sql {
    match cell {
        Cell::Int(v) => v.map_or(Sql::Null, Sql::Integer),
        Cell::Text(v) => v.clone().map_or(Sql::Null, Sql::Text),
        Cell::Bool(v) => v.map_or(Sql::Null, |b| Sql::Integer(i64::from(b))),
        Cell::Time(v) => v.map_or(Sql::Null, |t| {
            Sql::Text(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        }),
    }
}

/// An open SQLite mirror, its run lock held.
pub(super) struct Store {
    conn: Connection,
    path: PathBuf,
    upsert: String,
    delete: String,
    /// `None` when only reading (`--status`).
    _lock: Option<RunLock>,
}

impl Store {
    /// Takes the run lock, opens (creating if missing) the database and brings its tables
    /// up to date with `columns` (a quantity new to the spec becomes a new column).
    pub(super) fn open(path: &Path, columns: &[Column]) -> Result<Store, Failure> {
        use own::{LEVELS, RUN_DELETED, SAVED_AT, STATE, STATE_ID, SYNC_STATE};
        // Before anything reads or writes the database: a second run stops here.
        let lock = RunLock::take(path)?;
        let fail = |e: rusqlite::Error| db_failure(path, &e);
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {LEVELS} (\n{}\n);\n\
             CREATE TABLE IF NOT EXISTS {SYNC_STATE} (\n  {STATE_ID} INTEGER PRIMARY KEY CHECK \
             ({STATE_ID} = 1),\n  {STATE} TEXT NOT NULL,\n  {SAVED_AT} TEXT NOT NULL\n);",
            column_defs(columns, sql_type)
        ))
        .map_err(fail)?;
        let existing = |table: &str| -> Result<Vec<String>, Failure> {
            conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .and_then(|mut st| {
                    st.query_map([], |r| r.get::<_, String>(0))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(fail)
        };
        if !existing(SYNC_STATE)?.iter().any(|e| e == RUN_DELETED) {
            conn.execute_batch(&format!(
                "ALTER TABLE {SYNC_STATE} ADD COLUMN {RUN_DELETED} INTEGER NOT NULL DEFAULT 0"
            ))
            .map_err(fail)?;
        }
        let existing = existing(LEVELS)?;
        for c in columns {
            if !existing.iter().any(|e| e == c.name()) {
                conn.execute_batch(&format!(
                    "ALTER TABLE {LEVELS} ADD COLUMN {} {}",
                    c.name(),
                    sql_type(c.kind())
                ))
                .map_err(fail)?;
            }
        }
        let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
        let placeholders = vec!["?"; names.len()].join(", ");
        let updates = upsert_updates(columns);
        let key = Column::ProductId.name();
        let upsert = format!(
            "INSERT INTO {LEVELS} ({}) VALUES ({placeholders}) ON CONFLICT({key}) DO UPDATE SET \
             {updates}",
            names.join(", "),
        );
        let delete = format!(
            "DELETE FROM {LEVELS} WHERE (?1 IS NULL OR {key} > ?1) AND (?2 IS NULL OR {key} <= \
             ?2) AND {key} NOT IN (SELECT value FROM json_each(?3))"
        );
        Ok(Store {
            conn,
            path: path.to_owned(),
            upsert,
            delete,
            _lock: Some(lock),
        })
    }

    /// Opens an existing database to read it, without the run lock (`--status`, while a
    /// run may be writing).
    pub(super) fn inspect(path: &Path) -> Result<Store, Failure> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| {
                Failure::io(format!(
                    "no mirror database at {} ({e}); run sync first",
                    path.display()
                ))
            })?;
        Ok(Store {
            conn,
            path: path.to_owned(),
            upsert: String::new(),
            delete: String::new(),
            _lock: None,
        })
    }

    fn fail(&self, e: &rusqlite::Error) -> Failure {
        db_failure(&self.path, e)
    }

    fn state_text_of(conn: &Connection) -> rusqlite::Result<Option<String>> {
        use own::{STATE, STATE_ID, SYNC_STATE};
        conn.query_row(
            &format!("SELECT {STATE} FROM {SYNC_STATE} WHERE {STATE_ID} = 1"),
            [],
            |r| r.get(0),
        )
        .optional()
    }

    /// The stored row of `sync_state`, if any.
    pub(super) fn stored(&mut self) -> Result<Option<Stored>, Failure> {
        use own::{RUN_DELETED, SAVED_AT, STATE, STATE_ID, SYNC_STATE};
        self.conn
            .query_row(
                &format!(
                    "SELECT {STATE}, {RUN_DELETED}, {SAVED_AT} FROM {SYNC_STATE} WHERE \
                     {STATE_ID} = 1"
                ),
                [],
                |r| {
                    let saved: String = r.get(2)?;
                    Ok(Stored {
                        state: r.get(0)?,
                        run_deleted: r.get::<_, i64>(1)?.max(0) as u64,
                        saved_at: chrono::DateTime::parse_from_rfc3339(&saved)
                            .ok()
                            .map(|t| t.to_utc()),
                    })
                },
            )
            .optional()
            .map_err(|e| self.fail(&e))
    }

    /// Writes a batch in one transaction, if the stored state is still `expected`
    /// (`Ok(None)` when it is not: nothing was written). Returns the rows deleted.
    pub(super) fn apply(
        &mut self,
        expected: Option<&str>,
        clear_first: bool,
        batch: &Batch<'_>,
    ) -> Result<Option<u64>, Failure> {
        use own::{LEVELS, RUN_DELETED, SAVED_AT, STATE, STATE_ID, SYNC_STATE};
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| db_failure(&path, &e);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        if Self::state_text_of(&tx).map_err(fail)?.as_deref() != expected {
            return Ok(None);
        }
        if clear_first {
            tx.execute_batch(&format!("DELETE FROM {LEVELS}"))
                .map_err(fail)?;
        }
        {
            let mut upsert = tx.prepare_cached(&self.upsert).map_err(fail)?;
            for row in &batch.rows {
                upsert
                    .execute(params_from_iter(row.iter().map(value)))
                    .map_err(fail)?;
            }
        }
        let mut deleted = 0;
        if let Some(d) = batch.deletions {
            let present = serde_json::to_string(d.present())
                .map_err(|e| Failure::io(format!("cannot serialise the ids listed: {e}")))?;
            deleted = tx
                .execute(&self.delete, (d.after(), d.through(), present))
                .map_err(fail)? as u64;
        }
        tx.execute(
            &format!(
                "INSERT INTO {SYNC_STATE} ({STATE_ID}, {STATE}, {SAVED_AT}, {RUN_DELETED}) \
                 VALUES (1, ?1, ?2, ?3) ON CONFLICT({STATE_ID}) DO UPDATE SET {STATE} = \
                 excluded.{STATE}, {SAVED_AT} = excluded.{SAVED_AT}, {RUN_DELETED} = \
                 excluded.{RUN_DELETED}"
            ),
            (
                &batch.state_json,
                batch.saved_at.to_rfc3339(),
                (batch.run_deleted + deleted) as i64,
            ),
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(Some(deleted))
    }

    /// Rows of `levels`.
    pub(super) fn count(&mut self) -> Result<i64, Failure> {
        self.conn
            .query_row(&format!("SELECT count(*) FROM {}", own::LEVELS), [], |r| {
                r.get(0)
            })
            .map_err(|e| self.fail(&e))
    }
}
