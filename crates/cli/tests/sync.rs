//! `shipstream-inventory sync`: the mirror's tables, full and incremental runs, `--full`,
//! and a soak: the mock changes levels (quantities, products disabled and enabled again,
//! new products) while `sync` runs again and again, some runs killed with SIGKILL at
//! seeded points; once the changes stop and one more sync completes, the mirror equals
//! the mock's snapshot: 0 missing, 0 stale, 0 extra.
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

use common::{Mock, cli};
use rusqlite::Connection;
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

/// Every quantity of a level, from the spec's generated tables (as the mirror's columns).
fn qty_names() -> Vec<&'static str> {
    shipstream_inventory::api::LEVEL_PROPERTIES
        .iter()
        .filter(|p| p.name.starts_with("qty_"))
        .map(|p| p.name)
        .collect()
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

fn expected(ds: &Dataset) -> Rows {
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
                    "qty": qty_names().iter().map(|q| r[*q].as_i64()).collect::<Vec<_>>(),
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
    assert!(err.contains("full load: 250 levels written"), "{err}");
    let rows = mirror(&db);
    assert_eq!(rows.len(), 250);
    assert!(
        rows.values().any(|r| r["is_enabled"] == json!(false)),
        "disabled products are mirrored too"
    );
    assert_eq!(
        diff(&rows, &expected(&Dataset::generate(250, 42))),
        (0, 0, 0)
    );
    assert!(state(&db)["since"].is_string());

    let out = cli()
        .args(["sync", "--demo", "--db", db_arg])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("incremental: 0 levels written"), "{err}");

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
    assert!(err.contains("full load: 250 levels written"), "{err}");
    assert_eq!(
        diff(&mirror(&db), &expected(&Dataset::generate(250, 42))),
        (0, 0, 0)
    );
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
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names[..3], ["product_id", "sku", "is_enabled"]);
    assert_eq!(names.last(), Some(&"updated_at"));
    let mut quantities = names[3..names.len() - 1].to_vec();
    quantities.sort_unstable();
    let mut want = qty_names();
    want.sort_unstable();
    assert_eq!(
        quantities, want,
        "every quantity has a column, nothing else"
    );
    assert_eq!(cols[0], ("product_id".into(), "INTEGER".into(), 1));
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
    // Pages 1 and 2 are in the mirror, with the bookmark of a run in progress; the next
    // run continues from page 3.
    assert_eq!(mirror(&db).len(), 100);
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
    assert_eq!(
        diff(&mirror(&db), &expected(mock.server().dataset())),
        (0, 0, 0)
    );
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

fn run_and_maybe_kill(mock: &Mock, db: &Path, kill_after: Option<Duration>) -> Run {
    let mut child = mock
        .std_command()
        .args(["sync", "--db", db.to_str().unwrap(), "--page-size", "100"])
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

#[test]
fn soak_sync_under_changes_and_kills_converges_exactly() {
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
            .clock_skew_secs(-600)
            .record_requests(false),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mirror.sqlite");
    let started = Instant::now();
    let (mut runs, mut killed, mut completed) = (0, 0, 0);
    while started.elapsed() < Duration::from_secs(secs) {
        runs += 1;
        // Two runs in five are killed, after 5 to 400 ms.
        let kill = (next() % 5 < 2).then(|| Duration::from_millis(5 + next() % 395));
        match run_and_maybe_kill(&mock, &db, kill) {
            Run::Killed => {
                killed += 1;
                // The database is consistent after every kill.
                if db.exists() {
                    mirror(&db);
                }
            }
            Run::Exited(0) => completed += 1,
            Run::Exited(code) => panic!("sync exited {code}"),
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let counts = mock.server().live_counts();
    let Run::Exited(0) = run_and_maybe_kill(&mock, &db, None) else {
        panic!("the final sync failed");
    };
    let want = expected(&mock.server().snapshot());
    let got = mirror(&db);
    let (missing, stale, extra) = diff(&got, &want);
    println!(
        "soak: {} products at the end, {counts}; {runs} runs ({killed} killed with SIGKILL, \
         {completed} completed) + 1 final; mirror: {missing} missing, {stale} stale, {extra} \
         extra; {:.1} s",
        want.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(counts.total() >= rate * secs * 9 / 10, "{counts}");
    assert!(
        killed >= 2 && completed >= 2,
        "{runs} runs, {killed} killed"
    );
    assert_eq!((missing, stale, extra), (0, 0, 0));
}

#[test]
fn two_syncs_at_once_on_one_database_never_interleave() {
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(800, 3))
            .faults("latency=20ms".parse().unwrap()),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    // Create the database first, so both runs start from the same stored state.
    Connection::open(&db).unwrap();
    let spawn = || {
        mock.std_command()
            .args(["sync", "--db", db.to_str().unwrap(), "--page-size", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let codes: Vec<i32> = outputs.iter().map(|o| o.status.code().unwrap()).collect();
    assert!(codes.contains(&0), "{codes:?}");
    let refused = outputs
        .iter()
        .find(|o| o.status.code() == Some(1))
        .unwrap_or_else(|| panic!("one run must stop: {codes:?}"));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("another `sync` wrote"), "{stderr}");
    mock.cli()
        .args(["sync", "--db", db.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        diff(&mirror(&db), &expected(mock.server().dataset())),
        (0, 0, 0)
    );
}
