//! `shipstream-inventory sync`: the mirror's tables, full and incremental runs, `--full`,
//! and a soak: the mock changes levels (quantities, products disabled and enabled again,
//! new products) while `sync` runs again and again, some runs killed with SIGKILL at
//! seeded points; once the changes stop and one more sync completes, the mirror equals
//! the mock's snapshot, record for record.
//!
//! The expected columns are read from `openapi.yaml` here, not from the generated tables
//! the mirror is built from. Every child process is killed after a time limit (a hang
//! fails the test); nothing is timed.
//!
//! `SOAK_SYNC_SECS=N` (default 20) sets how long the mock keeps changing, `SOAK_SYNC_RATE`
//! (default 200) changes a second, `SOAK_SEED` the kill points; `--nocapture` prints the
//! figures written in RELIABILITY.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::pg::Postgres;
use common::{Mock, cli, wait_output};
use rusqlite::{Connection, types::Value as Sql};
use serde_json::{Value, json};
use shipstream_inventory_mock::{Dataset, MockConfig};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A row of the mirror or of the expectation, keyed by product id.
type Rows = BTreeMap<i64, Value>;

/// The spec, parsed from `openapi.yaml` (the single source of truth) by the test itself.
fn spec() -> serde_yaml::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every quantity of a level, from `openapi.yaml`: the integer properties of `TotalLevel`,
/// in the spec's order.
fn qty_names() -> Vec<String> {
    let spec = spec();
    let props = spec["components"]["schemas"]["TotalLevel"]["properties"]
        .as_mapping()
        .expect("TotalLevel has properties");
    let names: Vec<String> = props
        .iter()
        .filter(|(_, p)| p["type"].as_str() == Some("integer"))
        .map(|(name, _)| name.as_str().unwrap().to_owned())
        .collect();
    assert!(!names.is_empty(), "a level has quantities");
    assert!(
        names.iter().all(|n| n.starts_with("qty_")),
        "README: the quantities are the `qty_*` columns: {names:?}"
    );
    names
}

fn mirror(db: &Path) -> Rows {
    let conn = Connection::open(db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let qty_cols = qty_names();
    let cols = qty_cols.join(", ");
    let mut st = conn
        .prepare(&format!(
            "SELECT product_id, sku, is_enabled, updated_at, {cols} FROM levels"
        ))
        .unwrap();
    st.query_map([], |r| {
        let mut qty = Vec::new();
        for i in 0..qty_cols.len() {
            qty.push(r.get::<_, Option<i64>>(4 + i)?);
        }
        Ok((
            r.get::<_, i64>(0)?,
            json!({
                "sku": r.get::<_, Option<String>>(1)?,
                "is_enabled": r.get::<_, Option<i64>>(2)?.map(|b| b != 0),
                "updated_at": r.get::<_, Option<String>>(3)?,
                "qty": qty,
            }),
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The PostgreSQL mirror at `url`, in the same form as [`mirror`]'s.
fn mirror_pg(pg: &Postgres, url: &str) -> Rows {
    let qty_cols = qty_names();
    let cols = qty_cols.join(", ");
    pg.with(url, async |c| {
        c.query(
            &format!("SELECT product_id, sku, is_enabled, updated_at, {cols} FROM levels"),
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let qty: Vec<Option<i64>> = (0..qty_cols.len()).map(|i| r.get(4 + i)).collect();
            let at: Option<chrono::DateTime<chrono::Utc>> = r.get(3);
            (
                r.get::<_, i64>(0),
                json!({
                    "sku": r.get::<_, Option<String>>(1),
                    "is_enabled": r.get::<_, Option<bool>>(2),
                    "updated_at": at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                    "qty": qty,
                }),
            )
        })
        .collect()
    })
}

/// A mirror database of either kind.
enum Db<'a> {
    Sqlite(std::path::PathBuf),
    Postgres(&'a Postgres, String),
}

impl Db<'_> {
    /// `--db`'s value.
    fn arg(&self) -> String {
        match self {
            Db::Sqlite(path) => path.to_str().unwrap().to_owned(),
            Db::Postgres(_, url) => url.clone(),
        }
    }

    /// Every row (SQLite's integrity checked first), or none before the first run.
    fn rows(&self) -> Rows {
        match self {
            Db::Sqlite(path) if !path.exists() => Rows::new(),
            Db::Sqlite(path) => mirror(path),
            Db::Postgres(pg, url) => {
                let exists: bool = pg.with(url, async |c| {
                    c.query_one("SELECT to_regclass('levels') IS NOT NULL", &[])
                        .await
                        .unwrap()
                        .get(0)
                });
                if exists {
                    mirror_pg(pg, url)
                } else {
                    Rows::new()
                }
            }
        }
    }

    /// After a killed run: waits until its lock is released (PostgreSQL ends the session
    /// when it notices the connection closed; SQLite's lock goes with the process).
    fn after_kill(&self) {
        if let Db::Postgres(pg, url) = self {
            pg.wait_unlocked(url);
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(..) => "PostgreSQL",
        }
    }
}

fn expected(ds: &Dataset) -> Rows {
    // Once, not per record: it parses openapi.yaml (20,000 parses took 140 s).
    let qty_names = qty_names();
    ds.product_ids()
        .into_iter()
        .map(|id| {
            let r = ds.record_json(id).unwrap();
            (
                id as i64,
                json!({
                    "sku": r["product"]["sku"],
                    "is_enabled": r["product"]["is_enabled"],
                    "updated_at": r["updated_at"],
                    "qty": qty_names.iter().map(|q| r[q.as_str()].as_i64()).collect::<Vec<_>>(),
                }),
            )
        })
        .collect()
}

/// (missing, stale, extra) of `got` against `want`.
fn diff(got: &Rows, want: &Rows) -> (usize, usize, usize) {
    let missing = want.keys().filter(|k| !got.contains_key(k)).count();
    let extra = got.keys().filter(|k| !want.contains_key(k)).count();
    let stale = want
        .iter()
        .filter(|(k, v)| got.get(k).is_some_and(|g| g != *v))
        .count();
    (missing, stale, extra)
}

/// The mirror holds exactly `want`, record for record; the message shows the first rows
/// that differ.
#[track_caller]
fn assert_rows_eq(got: &Rows, want: &Rows) {
    if got == want {
        return;
    }
    let (missing, stale, extra) = diff(got, want);
    let first: Vec<String> = want
        .keys()
        .chain(got.keys())
        .filter(|k| got.get(k) != want.get(k))
        .take(3)
        .map(|k| format!("{k}: mirror {:?}, expected {:?}", got.get(k), want.get(k)))
        .collect();
    panic!(
        "the mirror differs: {missing} missing, {stale} stale, {extra} extra; {}",
        first.join("; ")
    );
}

/// Every table of the database with its schema and every row, in a fixed order: what two
/// snapshots of an unchanged database share.
type Dump = Vec<(String, String, Vec<Vec<Sql>>)>;

fn dump(db: &Path) -> Dump {
    let conn = Connection::open(db).unwrap();
    let tables: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|(name, sql)| {
            let mut st = conn
                .prepare(&format!("SELECT * FROM \"{name}\" ORDER BY rowid"))
                .unwrap();
            let n = st.column_count();
            let rows = st
                .query_map([], |r| (0..n).map(|i| r.get::<_, Sql>(i)).collect())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (name, sql, rows)
        })
        .collect()
}

fn state(db: &Path) -> Value {
    let conn = Connection::open(db).unwrap();
    let text: String = conn
        .query_row("SELECT state FROM sync_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn demo_full_load_then_incremental_then_full_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("levels.sqlite");
    let db_arg = db.to_str().unwrap();
    let out = cli()
        .args(["sync", "--demo", "--db", db_arg])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("full load: 250 upserted, 0 deleted"), "{err}");
    let rows = mirror(&db);
    assert!(
        rows.values().any(|r| r["is_enabled"] == json!(false)),
        "disabled products are mirrored too"
    );
    assert_rows_eq(&rows, &expected(&Dataset::generate(250, 42)));
    assert!(state(&db)["since"].is_string());

    let out = cli()
        .args(["sync", "--demo", "--db", db_arg])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("incremental: 0 upserted, 0 deleted"), "{err}");

    // A row edited behind the mirror's back comes back with --full.
    let conn = Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE levels SET qty_on_hand = -1 WHERE product_id = 1",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO levels (product_id, sku) VALUES (999999, 'GONE')",
        [],
    )
    .unwrap();
    drop(conn);
    let out = cli()
        .args(["sync", "--demo", "--db", db_arg, "--full"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("full load: 250 upserted, 0 deleted"), "{err}");
    assert_rows_eq(&mirror(&db), &expected(&Dataset::generate(250, 42)));
}

#[test]
fn the_tables_have_the_documented_columns() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    cli()
        .args([
            "sync",
            "--demo",
            "--db",
            db.to_str().unwrap(),
            "--page-size",
            "100",
        ])
        .assert()
        .success();
    let conn = Connection::open(&db).unwrap();
    let cols: Vec<(String, String, i64)> = conn
        .prepare("SELECT name, type, pk FROM pragma_table_info('levels')")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // The README's table: the product's id, SKU and state, every quantity in the spec's
    // order, `updated_at`; each name as the spec spells it.
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let filterable = &spec["components"]["parameters"]["Filter"]["x-filterable-fields"];
    assert!(
        filterable["product_id"].is_mapping(),
        "product_id is the spec's name"
    );
    assert!(schemas["Product"]["properties"]["sku"].is_mapping());
    assert!(schemas["Product"]["properties"]["is_enabled"].is_mapping());
    assert!(schemas["TotalLevel"]["properties"]["updated_at"].is_mapping());
    let col = |name: &str, ty: &str, pk: i64| (name.to_owned(), ty.to_owned(), pk);
    let mut want = vec![
        col("product_id", "INTEGER", 1),
        col("sku", "TEXT", 0),
        col("is_enabled", "INTEGER", 0),
    ];
    want.extend(qty_names().iter().map(|q| col(q, "INTEGER", 0)));
    want.push(col("updated_at", "TEXT", 0));
    assert_eq!(cols, want, "every quantity has a column, nothing else");
    let updated: String = conn
        .query_row("SELECT updated_at FROM levels LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(&updated).is_ok(),
        "{updated}"
    );
}

#[test]
fn a_failed_run_keeps_the_mirror_and_exits_with_the_levels_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    let mock = Mock::with(300, "status=400:nth=3");
    let out = mock
        .cli()
        .args(["sync", "--db", db.to_str().unwrap(), "--page-size", "50"])
        .env("SHIPSTREAM_URL", mock.url())
        .assert()
        .code(4);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("next run carries on"), "{err}");
    // Pages 1 and 2 are in the mirror, record for record, with the bookmark of a run in
    // progress; the next run continues from page 3.
    let ds = mock.server().dataset();
    let first_pages: Vec<i64> = ds.product_ids()[..100]
        .iter()
        .map(|&id| id as i64)
        .collect();
    let mut want = expected(ds);
    want.retain(|id, _| first_pages.contains(id));
    assert_rows_eq(&mirror(&db), &want);
    assert!(state(&db)["run"]["checkpoint"].is_object());
    let before = mock.requests();
    let out = mock
        .cli()
        .args(["sync", "--db", db.to_str().unwrap()])
        .assert()
        .success();
    // It finishes the stopped run, then runs a new one: an exit 0 means current as of a
    // time after this invocation started, not only after the stopped run's start.
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("full load (continuing):"), "{err}");
    assert!(err.contains("incremental:"), "{err}");
    // It carried on: its first request is page 3's, not a new listing.
    let first = &mock.server().requests()[before];
    let page3 = mock.server().dataset().product_ids()[100].to_string();
    assert_eq!(
        first.query_values("cursor_start"),
        [page3.as_str()],
        "{}",
        first.uri()
    );
    assert_rows_eq(&mirror(&db), &expected(mock.server().dataset()));
    cli()
        .args(["sync", "--db", db.to_str().unwrap()])
        .assert()
        .code(2);
}

/// How one run of the soak ended.
enum Run {
    Killed,
    Exited(i32),
}

fn run_and_maybe_kill(
    mock: &Mock,
    db: &Db<'_>,
    kill_after: Option<Duration>,
    reconcile: bool,
) -> Run {
    let mut child = mock
        .std_command()
        // The mock enforces no limits: the client's own (the spec's assumed rate)
        // would only slow every run down, to 14 s a full load.
        .args(["sync", "--db", &db.arg(), "--page-size", "100"])
        .args(["--rate-limit", "0"])
        .args(reconcile.then_some("--reconcile"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Run::Exited(status.code().unwrap_or(-1));
        }
        if kill_after.is_some_and(|k| started.elapsed() >= k) {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return Run::Killed;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "sync hangs");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A run during which the PostgreSQL server is stopped (`fast` or `immediate`) after
/// `stop_after` and started again `down_for` later: it completes (the stop came after
/// it, or while it was connecting and its retry reached the restarted server) or ends
/// with exit 1 and a message naming the mirror database, never hangs
/// ([`common::wait_output`]'s limit). `down_for` `None`: the server is stopped before
/// the run starts and started again once it ended, which must be with exit 1 after its
/// bounded retries. Returns the exit code.
fn run_through_restart(
    mock: &Mock,
    pg: &Postgres,
    url: &str,
    (stop_after, mode, down_for): (Duration, &str, Option<Duration>),
    reconcile: bool,
) -> i32 {
    if down_for.is_none() {
        pg.stop(mode);
    }
    let child = mock
        .std_command()
        .args([
            "sync",
            "--db",
            url,
            "--page-size",
            "100",
            "--rate-limit",
            "0",
        ])
        .args(reconcile.then_some("--reconcile"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::thread::scope(|scope| {
        scope.spawn(|| {
            if let Some(down_for) = down_for {
                std::thread::sleep(stop_after);
                pg.stop(mode);
                std::thread::sleep(down_for);
                pg.restart();
            }
        });
        wait_output(child)
    });
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    if down_for.is_none() {
        pg.restart();
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("after 5 attempts"), "{err}");
    }
    assert!(code == 0 || code == 1, "sync exited {code}: {err}");
    if code == 1 {
        assert!(err.contains("the mirror database"), "{err}");
    }
    code
}

/// The soak: the mock changes levels, deletes and creates products while `sync` runs
/// again and again, two runs in five killed with SIGKILL at seeded points, one in three
/// reconciling, and on PostgreSQL one in four through a server restart (`fast` and
/// `immediate` shutdowns in turn, at seeded points; every third one down until the run
/// gave up); after the changes stop and one more
/// reconciling run, the mirror is the mock's snapshot, record for record.
fn soak(db: &Db<'_>) {
    let secs = env_u64("SOAK_SYNC_SECS", 20);
    let rate = env_u64("SOAK_SYNC_RATE", 200);
    let mut rng = env_u64("SOAK_SEED", 15) | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(20_000, 15))
            .seed(15)
            .mutate(rate as f64, Duration::from_secs(secs))
            .delete_share(0.05)
            .clock_skew_secs(-600)
            .record_requests(false),
    );
    let started = Instant::now();
    let (mut runs, mut killed, mut completed, mut reconciling) = (0, 0, 0, 0);
    let mut restarts = 0;
    let wanted_restarts = if matches!(db, Db::Postgres(..)) { 3 } else { 0 };
    // Runs go on until the mock has made all its changes (judged on its counters: a slow
    // machine makes them late, but all of them), and until at least two were killed, two
    // completed and (PostgreSQL) two restarted the server, however fast this machine is
    // (at most 500 runs).
    let changes = rate * secs;
    while mock.server().live_counts().total() < changes
        || killed < 2
        || completed < 2
        || restarts < wanted_restarts
    {
        assert!(
            runs < 500,
            "{runs} runs: {killed} killed, {completed} completed"
        );
        runs += 1;
        // Two runs in five are killed, after 5 to 400 ms; one in three reconciles.
        let kill = (next() % 5 < 2).then(|| Duration::from_millis(5 + next() % 395));
        let reconcile = next() % 3 == 0;
        reconciling += u32::from(reconcile);
        if let Db::Postgres(pg, url) = db
            && next() % 4 == 0
        {
            // The server stops after 5 to 400 ms, for up to 2 s (within the run's
            // connection retries); every third time it stays down until the run ended.
            let mode = ["fast", "immediate"][restarts % 2];
            let at = Duration::from_millis(5 + next() % 395);
            let down = (restarts % 3 != 2).then(|| Duration::from_millis(next() % 2000));
            restarts += 1;
            if run_through_restart(&mock, pg, url, (at, mode, down), reconcile) == 0 {
                completed += 1;
            }
            // No half-written page: the database reads consistently.
            db.rows();
            continue;
        }
        match run_and_maybe_kill(&mock, db, kill, reconcile) {
            Run::Killed => {
                killed += 1;
                db.after_kill();
                // The database is consistent after every kill.
                db.rows();
            }
            Run::Exited(0) => completed += 1,
            Run::Exited(code) => panic!("sync exited {code}"),
        }
    }
    let counts = mock.server().live_counts();
    assert_eq!(counts.total(), changes, "{counts}");
    let Run::Exited(0) = run_and_maybe_kill(&mock, db, None, true) else {
        panic!("the final sync failed");
    };
    let want = expected(&mock.server().snapshot());
    assert!(
        want != expected(&Dataset::generate(20_000, 15)),
        "the mock changed nothing: {counts}"
    );
    assert!(counts.deleted > 0, "the mock deleted nothing: {counts}");
    let got = db.rows();
    let (missing, stale, extra) = diff(&got, &want);
    println!(
        "soak ({}): {} products at the end, {counts}; {runs} runs ({killed} killed with \
         SIGKILL, {restarts} through a server restart, {completed} completed, {reconciling} \
         with --reconcile) + 1 final reconciling; mirror: {missing} missing, {stale} stale, \
         {extra} extra; {:.1} s",
        db.name(),
        want.len(),
        started.elapsed().as_secs_f64()
    );
    assert_rows_eq(&got, &want);
}

#[test]
fn soak_sync_under_changes_deletions_and_kills_converges_exactly_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    soak(&Db::Sqlite(dir.path().join("mirror.sqlite")));
}

/// The PostgreSQL soak runs over TLS (`verify-full` against the test CA), so every
/// reconnection after a restart makes a verified handshake again.
#[test]
fn soak_sync_under_changes_deletions_kills_and_server_restarts_converges_exactly_on_postgres() {
    let (pg, ca) = Postgres::start_tls();
    pg.database("soak");
    let url = format!(
        "postgres://postgres@localhost:{}/soak?hostaddr=127.0.0.1&sslmode=verify-full&\
         sslrootcert={}",
        pg.port(),
        ca.root.display()
    );
    soak(&Db::Postgres(&pg, url));
}

/// A server that stays down: the run gives up after its bounded retries (5 attempts
/// over 7.5 s) with exit 1 and says so, writing nothing; a server back within them: the
/// run connects and completes.
#[test]
fn a_run_retries_a_restarting_server_a_bounded_number_of_times() {
    let pg = Postgres::start();
    let url = pg.database("retry");
    let mock = Mock::with(300, "");
    let sync = || {
        let mut cmd = mock.std_command();
        cmd.args(["sync", "--db", &url, "--rate-limit", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    };
    pg.stop("fast");
    let out = wait_output(sync().spawn().unwrap());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("after 5 attempts over 7.5s"), "{err}");
    assert_eq!(err.matches("trying again in").count(), 4, "{err}");
    pg.restart();
    assert!(Db::Postgres(&pg, url.clone()).rows().is_empty());
    pg.stop("immediate");
    let child = sync().spawn().unwrap();
    let out = std::thread::scope(|scope| {
        scope.spawn(|| {
            // Back while the run waits to try again.
            std::thread::sleep(Duration::from_millis(700));
            pg.restart();
        });
        wait_output(child)
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("trying again in"), "{err}");
    assert_eq!(Db::Postgres(&pg, url).rows().len(), 300);
}

/// Two `sync --full` runs started together on a mirror that exists: one must stop before
/// it reads or writes (the run lock), the other completes; the lock's own name shows in
/// the refusal (`lock`).
fn two_syncs_at_once_never_interleave(db: &Db<'_>, lock: &str) {
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(800, 3))
            .faults("latency=20ms".parse().unwrap()),
    );
    // The tables exist and hold a mirror, so both runs start from the same stored state
    // and, without the lock, both would get to writing it.
    mock.cli()
        .args(["sync", "--db", &db.arg()])
        .assert()
        .success();
    let spawn = || {
        mock.std_command()
            .args(["sync", "--full", "--db", &db.arg(), "--page-size", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outputs = [wait_output(a), wait_output(b)];
    let codes: Vec<i32> = outputs.iter().map(|o| o.status.code().unwrap()).collect();
    assert!(codes.contains(&0), "{codes:?}");
    let refused = outputs
        .iter()
        .find(|o| o.status.code() == Some(1))
        .unwrap_or_else(|| panic!("one run must stop: {codes:?}"));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("another `sync` is running"), "{stderr}");
    assert!(stderr.contains(lock), "{stderr}");
    mock.cli()
        .args(["sync", "--db", &db.arg()])
        .assert()
        .success();
    assert_rows_eq(&db.rows(), &expected(mock.server().dataset()));
}

#[test]
fn two_syncs_at_once_on_one_database_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    two_syncs_at_once_never_interleave(&Db::Sqlite(dir.path().join("m.sqlite")), ".sync-lock");
}

#[test]
fn two_syncs_at_once_on_one_postgres_database_never_interleave() {
    let pg = Postgres::start();
    let url = pg.database("twice");
    two_syncs_at_once_never_interleave(&Db::Postgres(&pg, url), "advisory lock");
}

/// Whether a run has committed a page: the bookmark row is there.
impl Db<'_> {
    /// Whether a run has written a page (the bookmark is stored).
    fn has_state(&self) -> bool {
        match self {
            Db::Sqlite(db) => {
                db.exists()
                    && Connection::open(db)
                        .and_then(|c| {
                            c.query_row("SELECT count(*) FROM sync_state", [], |r| r.get(0))
                        })
                        .is_ok_and(|n: i64| n > 0)
            }
            Db::Postgres(pg, url) => pg.with(url, async |c| {
                c.query_one("SELECT to_regclass('sync_state') IS NOT NULL", &[])
                    .await
                    .unwrap()
                    .get::<_, bool>(0)
                    && c.query_one("SELECT count(*) FROM sync_state", &[])
                        .await
                        .unwrap()
                        .get::<_, i64>(0)
                        > 0
            }),
        }
    }

    /// Every table: its name, definition and rows, as text (SQLite: each row's values;
    /// PostgreSQL: the columns from the catalogue, each row as JSON).
    fn dump(&self) -> Vec<(String, String, Vec<String>)> {
        match self {
            Db::Sqlite(db) => dump(db)
                .into_iter()
                .map(|(name, sql, rows)| {
                    (name, sql, rows.iter().map(|r| format!("{r:?}")).collect())
                })
                .collect(),
            Db::Postgres(pg, url) => pg.with(url, async |c| {
                let tables: Vec<String> = c
                    .query(
                        "SELECT table_name::text FROM information_schema.tables WHERE \
                         table_schema = 'public' ORDER BY 1",
                        &[],
                    )
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                let mut out = Vec::new();
                for name in tables {
                    let columns: String = c
                        .query_one(
                            "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY \
                             ordinal_position) FROM information_schema.columns WHERE \
                             table_name = $1",
                            &[&name],
                        )
                        .await
                        .unwrap()
                        .get(0);
                    let rows = c
                        .query(
                            &format!("SELECT row_to_json(t)::text FROM {name} t ORDER BY 1"),
                            &[],
                        )
                        .await
                        .unwrap()
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    out.push((name, columns, rows));
                }
                out
            }),
        }
    }
}

#[test]
fn a_second_sync_refused_by_a_running_one_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    a_second_sync_refused_by_a_running_one_writes_nothing_on(
        &Db::Sqlite(dir.path().join("m.sqlite")),
        "another `sync` is running",
    );
}

#[test]
fn a_second_sync_refused_by_a_running_one_writes_nothing_on_postgres() {
    let pg = Postgres::start();
    let url = pg.database("refused");
    a_second_sync_refused_by_a_running_one_writes_nothing_on(
        &Db::Postgres(&pg, url),
        "advisory lock",
    );
}

/// A run started while another one runs stops before it reads or writes: every table,
/// rows and definitions, is as it was; `says` is in its message.
fn a_second_sync_refused_by_a_running_one_writes_nothing_on(db: &Db<'_>, says: &str) {
    // The first run's second request is held by the mock (far longer than this test
    // takes), so once its first page is committed it writes nothing more meanwhile.
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(800, 3))
            .faults("latency=600s:nth=2".parse().unwrap()),
    );
    let db_arg = &db.arg();
    let mut first = mock
        .std_command()
        .args(["sync", "--db", db_arg, "--page-size", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Its first page committed and its second request held by the mock (the client paces
    // its requests, so the second may leave well after the first page is written; a run
    // after this one would otherwise be the one held).
    while !db.has_state() || mock.server().fault_counts().latency == 0 {
        // Only a hang reaches this; nothing is timed.
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no first page, or no second request"
        );
        assert!(first.try_wait().unwrap().is_none(), "the first run ended");
        std::thread::sleep(Duration::from_millis(5));
    }
    let before = db.dump();
    let second = mock
        .cli()
        .args(["sync", "--db", db_arg, "--page-size", "100"])
        .output()
        .unwrap();
    let after = db.dump();
    first.kill().unwrap(); // SIGKILL: its lock goes with it.
    first.wait().unwrap();
    db.after_kill();
    // Every table, the bookmark's included, is as it was.
    if before != after {
        let changed: Vec<String> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b != a)
            .map(|(b, a)| format!("{}: {} rows before, {} after", b.0, b.2.len(), a.2.len()))
            .collect();
        panic!(
            "the refused run wrote: {changed:?} (tables before {:?}, after {:?})",
            before.iter().map(|t| &t.0).collect::<Vec<_>>(),
            after.iter().map(|t| &t.0).collect::<Vec<_>>()
        );
    }
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("another `sync` is running"), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    // The killed run left no stale lock: the next run carries on and completes.
    mock.cli().args(["sync", "--db", db_arg]).assert().success();
    assert_rows_eq(&db.rows(), &expected(mock.server().dataset()));
}

#[test]
fn exit_6_leaves_the_bookmark_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    let db_arg = db.to_str().unwrap();
    // A clock ten years behind: the bookmark is older than every level, so the next runs
    // ask for every level again.
    let clean = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(300, 42))
            .clock_skew_secs(-10 * 365 * 86_400),
    );
    clean
        .cli()
        .args(["sync", "--db", db_arg, "--page-size", "100"])
        .assert()
        .success();
    let want = expected(clean.server().dataset());
    assert_rows_eq(&mirror(&db), &want);
    let bookmark = state(&db)["since"].clone();
    assert!(bookmark.is_string(), "{bookmark}");
    // Each a contract violation (exit 6) in a run that asks for every level again: a
    // record that does not decode, a paging loop, a `next` on another origin.
    for fault in ["bad-record", "repeat-next", "offorigin-next"] {
        let bad = Mock::with(300, fault);
        let out = bad
            .cli()
            .args(["sync", "--db", db_arg, "--page-size", "100"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(6), "{fault}: {stderr}");
        let after = state(&db);
        assert_eq!(
            after["since"], bookmark,
            "{fault}: the bookmark moved: {after}"
        );
        // What was written is the same data again: the mirror is unchanged.
        assert_rows_eq(&mirror(&db), &want);
    }
}

#[test]
fn demo_on_postgres_loads_reconciles_and_hides_the_password() {
    let pg = Postgres::start();
    let url = pg.database("demo");
    // The test server trusts local connections, so any password passes: what is tested
    // is that none is printed.
    let with_password = url.replace("postgres@", "postgres:hunter2-secret@");
    let out = cli()
        .args(["sync", "--demo", "--db", &with_password])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("full load: 250 upserted, 0 deleted"), "{err}");
    assert!(err.contains(&url), "the URL without its password: {err}");
    assert!(!err.contains("hunter2"), "{err}");
    // The README's example query.
    let low: i64 = pg.with(&url, async |c| {
        c.query_one("SELECT count(*) FROM levels WHERE qty_available < 10", &[])
            .await
            .unwrap()
            .get(0)
    });
    let want = expected(&Dataset::default());
    let want_low = want
        .values()
        .filter(|r| r["qty"][0].as_i64().is_some_and(|q| q < 10))
        .count();
    assert_eq!(qty_names()[0], "qty_available");
    assert_eq!(low as usize, want_low);
    assert_rows_eq(&mirror_pg(&pg, &url), &want);
    let out = cli()
        .args(["sync", "--demo", "--reconcile", "--db", &with_password])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("incremental + reconciliation: 0 upserted, 0 deleted"),
        "{err}"
    );
    // A server that cannot be reached fails with a message that does not repeat the
    // password.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let wrong = format!("postgres://postgres:not-the-pw@127.0.0.1:{port}/demo");
    let out = cli()
        .args(["sync", "--demo", "--db", &wrong])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(!err.contains("not-the-pw"), "{err}");
}

#[test]
fn the_postgres_tables_have_the_documented_columns_and_gain_a_new_quantity() {
    let pg = Postgres::start();
    let url = pg.database("columns");
    let quantities = qty_names();
    // A mirror made before the spec's last quantity existed: the table lacks its column.
    let (last, older) = quantities.split_last().unwrap();
    let older_cols: Vec<String> = older.iter().map(|q| format!("{q} BIGINT")).collect();
    pg.execute(
        &url,
        &format!(
            "CREATE TABLE levels (product_id BIGINT PRIMARY KEY, sku TEXT, is_enabled BOOLEAN, \
             {}, updated_at TIMESTAMPTZ)",
            older_cols.join(", ")
        ),
    );
    cli()
        .args(["sync", "--demo", "--db", &url])
        .assert()
        .success();
    let cols: Vec<(String, String)> = pg.with(&url, async |c| {
        c.query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_name = 'levels' ORDER BY ordinal_position",
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
    });
    let col = |name: &str, ty: &str| (name.to_owned(), ty.to_owned());
    let mut want = vec![
        col("product_id", "bigint"),
        col("sku", "text"),
        col("is_enabled", "boolean"),
    ];
    want.extend(older.iter().map(|q| col(q, "bigint")));
    want.push(col("updated_at", "timestamp with time zone"));
    // The missing quantity is added at the end, and filled by the run.
    want.push(col(last, "bigint"));
    assert_eq!(cols, want, "every quantity has a column, nothing else");
    assert_rows_eq(&mirror_pg(&pg, &url), &expected(&Dataset::default()));
}
