//! The PostgreSQL backend of the mirror (`--db postgres://…`): the same tables as the
//! SQLite one, in the database the URL names; one run at a time per database through a
//! session-level advisory lock, which the server releases when the run's connection ends,
//! a killed run's included.
//!
//! TLS as libpq does it ([`tls`]). Connecting is retried when the server is starting,
//! stopping or unreachable ([`CONNECT_DELAYS`]); a connection lost during a run ends the
//! run (the page in flight is rolled back by the server) and the next run carries on.

use std::time::Duration;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config};

use super::{Batch, Cell, Column, Kind, Stored, column_defs, own, tls, upsert_updates};
use crate::exit::Failure;

/// The waits between the attempts to connect when the server is starting, stopping or
/// unreachable (a restart, a failover): five attempts over 7.5 s, each bounded by
/// [`CONNECT_TIMEOUT`], so a run gives up within about a minute.
pub(super) const CONNECT_DELAYS: [Duration; 4] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// How long one attempt to connect may take, unless the URL's `connect_timeout` says.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL type of a column.
fn sql_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "BIGINT",
        Kind::Bool => "BOOLEAN",
        Kind::Text => "TEXT",
        Kind::Time => "TIMESTAMPTZ",
    }
}

/// Parses the URL (libpq's TLS parameters taken off it, see [`tls::split`]).
pub(super) fn parse(url: &str) -> Result<(Config, tls::Settings), String> {
    let (url, settings) = tls::split(url, |k| std::env::var(k).ok())?;
    let config = url.parse::<Config>().map_err(|e| {
        format!("{e}; the form is postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]")
    })?;
    Ok((config, settings))
}

/// Connects as the URL's TLS settings say, retrying as [`CONNECT_DELAYS`] says while the
/// failure is one a restarting or unreachable server gives; spawns the connection.
async fn connect(url: &str, name: &str) -> Result<(Client, tokio::task::JoinHandle<()>), Failure> {
    let (mut config, settings) =
        parse(url).map_err(|e| Failure::usage(format!("--db {name}: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let (host, unix) = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => (h.clone(), false),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => (p.display().to_string(), true),
        None => (String::new(), false),
    };
    let attempts = settings
        .attempts(unix)
        .map_err(|e| Failure::usage(format!("--db {name}: {e}")))?;
    let mut delays = CONNECT_DELAYS.iter();
    loop {
        let e = match connect_once(&config, &attempts).await {
            Ok(connected) => return Ok(connected),
            Err(e) => e,
        };
        if let Some(explained) = tls::explain(&e, &settings, &host) {
            return Err(Failure::io(format!(
                "cannot connect to the mirror database {name}: {explained}"
            )));
        }
        match delays.next() {
            Some(delay) if transient(&e) => {
                eprintln!(
                    "warning: cannot connect to the mirror database {name} ({}); trying again in {delay:?}",
                    detail(&e)
                );
                tokio::time::sleep(*delay).await;
            }
            _ => {
                let tries = if transient(&e) {
                    format!(
                        " after {} attempts over {:?}",
                        CONNECT_DELAYS.len() + 1,
                        CONNECT_DELAYS.iter().sum::<Duration>()
                    )
                } else {
                    String::new()
                };
                return Err(Failure::io(format!(
                    "cannot connect to the mirror database {name}{tries}: {}",
                    detail(&e)
                )));
            }
        }
    }
}

/// One connection: the first attempt, and `allow`'s second one when the server refused
/// the first.
async fn connect_once(
    config: &Config,
    (first, then): &(tls::Attempt, Option<tls::Attempt>),
) -> Result<(Client, tokio::task::JoinHandle<()>), tokio_postgres::Error> {
    let attempt = |attempt: &tls::Attempt| {
        let mut config = config.clone();
        config.ssl_mode(attempt.wire);
        let connector = attempt.connector.clone();
        async move { config.connect(connector).await }
    };
    let (client, connection) = match (attempt(first).await, then) {
        (Ok(connected), _) => connected,
        (Err(e), Some(then)) if e.as_db_error().is_some() => attempt(then).await?,
        (Err(e), _) => return Err(e),
    };
    let connection = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("the mirror database's connection ended: {e}");
        }
    });
    Ok((client, connection))
}

/// Whether a failure to connect is one a restart, a failover or a network outage gives,
/// which a later attempt may not: the server starting or shutting down, a connection
/// refused, reset or timed out (not a refused login, a missing database, TLS).
fn transient(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    match e.as_db_error() {
        Some(db) => [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(db.code()),
        None => !e.to_string().contains("TLS"),
    }
}

/// The server's message, or the error's.
fn detail(e: &tokio_postgres::Error) -> String {
    e.as_db_error().map_or_else(
        || e.to_string(),
        |db| format!("{}: {}", db.severity(), db.message()),
    )
}

/// A URL without its password, for messages: `postgres://user@host:port/dbname`.
pub(super) fn describe(url: &str) -> String {
    let base = url.split('?').next().unwrap_or_default();
    let Ok(config) = base.parse::<Config>() else {
        return "a postgres:// URL that does not parse".to_owned();
    };
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_default();
    let port = config
        .get_ports()
        .first()
        .map_or_else(String::new, |p| format!(":{p}"));
    let user = config
        .get_user()
        .map_or_else(String::new, |u| format!("{u}@"));
    let db = config.get_dbname().unwrap_or_default();
    format!("postgres://{user}{host}{port}/{db}")
}

/// An open PostgreSQL mirror, its advisory lock held by its session.
pub(super) struct Store {
    client: Client,
    connection: tokio::task::JoinHandle<()>,
    name: String,
    upsert: String,
    delete: String,
    columns: Vec<Column>,
}

impl Drop for Store {
    fn drop(&mut self) {
        // Ends the session, which releases the advisory lock.
        self.connection.abort();
    }
}

impl Store {
    fn fail(name: &str, e: &tokio_postgres::Error) -> Failure {
        // The error's text names the server's message, never the URL or its password.
        let lost = if e.is_closed() || e.as_db_error().is_some_and(|_| transient(e)) {
            "; the connection was lost (a server restart?): the page in flight was not \
             written, and the next run carries on from the last page written"
        } else {
            ""
        };
        Failure::io(format!("the mirror database {name}: {}{lost}", detail(e)))
    }

    /// Connects, takes the advisory lock (refusing at once when another run holds it) and
    /// brings the tables up to date with `columns`.
    pub(super) async fn open(url: &str, columns: &[Column]) -> Result<Store, Failure> {
        use own::{ADVISORY_LOCK, LEVELS, RUN_DELETED, SAVED_AT, STATE, STATE_ID, SYNC_STATE};
        let name = describe(url);
        let (client, connection) = connect(url, &name).await?;
        let fail = |e: tokio_postgres::Error| Self::fail(&name, &e);
        let locked: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&ADVISORY_LOCK])
            .await
            .map_err(fail)?
            .get(0);
        if !locked {
            connection.abort();
            return Err(Failure::io(format!(
                "another `sync` is running on {name} (it holds advisory lock {ADVISORY_LOCK}); \
                 this run stopped before reading or writing anything. Run one sync at a time \
                 per database"
            )));
        }
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {LEVELS} (\n{}\n);\n\
                 CREATE TABLE IF NOT EXISTS {SYNC_STATE} (\n  {STATE_ID} INTEGER PRIMARY KEY \
                 CHECK ({STATE_ID} = 1),\n  {STATE} TEXT NOT NULL,\n  {SAVED_AT} TIMESTAMPTZ \
                 NOT NULL\n);",
                column_defs(columns, sql_type)
            ))
            .await
            .map_err(fail)?;
        client
            .batch_execute(&format!(
                "ALTER TABLE {SYNC_STATE} ADD COLUMN IF NOT EXISTS {RUN_DELETED} BIGINT NOT NULL \
                 DEFAULT 0"
            ))
            .await
            .map_err(fail)?;
        for c in columns {
            client
                .batch_execute(&format!(
                    "ALTER TABLE {LEVELS} ADD COLUMN IF NOT EXISTS {} {}",
                    c.name(),
                    sql_type(c.kind())
                ))
                .await
                .map_err(fail)?;
        }
        let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
        let arrays = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::{}[]", i + 1, sql_type(c.kind())))
            .collect::<Vec<_>>()
            .join(", ");
        let updates = upsert_updates(columns);
        let key = Column::ProductId.name();
        // One statement per page: the columns as arrays, unnested into rows.
        let upsert = format!(
            "INSERT INTO {LEVELS} ({}) SELECT * FROM UNNEST({arrays}) ON CONFLICT ({key}) DO \
             UPDATE SET {updates}",
            names.join(", "),
        );
        let delete = format!(
            "DELETE FROM {LEVELS} WHERE ($1::BIGINT IS NULL OR {key} > $1) AND ($2::BIGINT IS \
             NULL OR {key} <= $2) AND NOT ({key} = ANY($3::BIGINT[]))"
        );
        Ok(Store {
            client,
            connection,
            name,
            upsert,
            delete,
            columns: columns.to_vec(),
        })
    }

    /// Connects to read the mirror, without the advisory lock (`--status`, while a run
    /// may be writing).
    pub(super) async fn inspect(url: &str) -> Result<Store, Failure> {
        let name = describe(url);
        let (client, connection) = connect(url, &name).await?;
        Ok(Store {
            client,
            connection,
            name,
            upsert: String::new(),
            delete: String::new(),
            columns: Vec::new(),
        })
    }

    /// The stored row of `sync_state`, if any.
    pub(super) async fn stored(&mut self) -> Result<Option<Stored>, Failure> {
        use own::{RUN_DELETED, SAVED_AT, STATE, STATE_ID, SYNC_STATE};
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT {STATE}, {RUN_DELETED}, {SAVED_AT} FROM {SYNC_STATE} WHERE \
                     {STATE_ID} = 1"
                ),
                &[],
            )
            .await
            .map_err(|e| Self::fail(&self.name, &e))?;
        Ok(row.map(|r| Stored {
            state: r.get(0),
            run_deleted: r.get::<_, i64>(1).max(0) as u64,
            saved_at: Some(r.get(2)),
        }))
    }

    /// Writes a batch in one transaction, if the stored state is still `expected`
    /// (`Ok(None)` when it is not: nothing was written). Returns the rows deleted.
    pub(super) async fn apply(
        &mut self,
        expected: Option<&str>,
        clear_first: bool,
        batch: &Batch<'_>,
    ) -> Result<Option<u64>, Failure> {
        use own::{LEVELS, RUN_DELETED, SAVED_AT, STATE, STATE_ID, SYNC_STATE};
        let name = self.name.clone();
        let fail = |e: tokio_postgres::Error| Self::fail(&name, &e);
        let arrays = column_arrays(&self.columns, &batch.rows);
        let tx = self.client.transaction().await.map_err(fail)?;
        let current: Option<String> = tx
            .query_opt(
                &format!("SELECT {STATE} FROM {SYNC_STATE} WHERE {STATE_ID} = 1 FOR UPDATE"),
                &[],
            )
            .await
            .map_err(fail)?
            .map(|r| r.get(0));
        if current.as_deref() != expected {
            return Ok(None); // dropping the transaction rolls it back
        }
        if clear_first {
            tx.execute(&format!("DELETE FROM {LEVELS}"), &[])
                .await
                .map_err(fail)?;
        }
        if !batch.rows.is_empty() {
            let params: Vec<&(dyn ToSql + Sync)> = arrays
                .iter()
                .map(|a| a.as_ref() as &(dyn ToSql + Sync))
                .collect();
            tx.execute(&self.upsert, &params).await.map_err(fail)?;
        }
        let mut deleted = 0;
        if let Some(d) = batch.deletions {
            deleted = tx
                .execute(&self.delete, &[&d.after(), &d.through(), &d.present()])
                .await
                .map_err(fail)?;
        }
        tx.execute(
            &format!(
                "INSERT INTO {SYNC_STATE} ({STATE_ID}, {STATE}, {SAVED_AT}, {RUN_DELETED}) \
                 VALUES (1, $1, $2, $3) ON CONFLICT ({STATE_ID}) DO UPDATE SET {STATE} = \
                 EXCLUDED.{STATE}, {SAVED_AT} = EXCLUDED.{SAVED_AT}, {RUN_DELETED} = \
                 EXCLUDED.{RUN_DELETED}"
            ),
            &[
                &batch.state_json,
                &batch.saved_at,
                &((batch.run_deleted + deleted) as i64),
            ],
        )
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        Ok(Some(deleted))
    }

    /// Rows of `levels`.
    pub(super) async fn count(&mut self) -> Result<i64, Failure> {
        let row = self
            .client
            .query_one(&format!("SELECT count(*) FROM {}", own::LEVELS), &[])
            .await
            .map_err(|e| Self::fail(&self.name, &e))?;
        Ok(row.get(0))
    }
}

/// The rows as one array per column, each typed as its column.
fn column_arrays(columns: &[Column], rows: &[Vec<Cell>]) -> Vec<Box<dyn ToSql + Sync + Send>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| -> Box<dyn ToSql + Sync + Send> {
            let cells = rows.iter().filter_map(move |r| r.get(i));
            match c.kind() {
                Kind::Int => Box::new(
                    cells
                        .map(|c| match c {
                            Cell::Int(v) => *v,
                            _ => None,
                        })
                        .collect::<Vec<Option<i64>>>(),
                ),
                Kind::Text => Box::new(
                    cells
                        .map(|c| match c {
                            Cell::Text(v) => v.clone(),
                            _ => None,
                        })
                        .collect::<Vec<Option<String>>>(),
                ),
                Kind::Bool => Box::new(
                    cells
                        .map(|c| match c {
                            Cell::Bool(v) => *v,
                            _ => None,
                        })
                        .collect::<Vec<Option<bool>>>(),
                ),
                Kind::Time => Box::new(
                    cells
                        .map(|c| match c {
                            Cell::Time(v) => *v,
                            _ => None,
                        })
                        .collect::<Vec<Option<chrono::DateTime<chrono::Utc>>>>(),
                ),
            }
        })
        .collect()
}
