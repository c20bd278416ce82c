//! What a monitor reads of `sync`: `--metrics-file` (the Prometheus text format, parsed
//! here by a parser of that format, written at the end of a run that fails too, with no
//! file left beside it), `--status` and its `--max-age` exit codes, and the `deleted`
//! count of a run carried on after it was stopped (which also shows a plain `sync`
//! finishing a stopped reconciliation's deletions).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Mock, cli};
use shipstream_inventory_mock::{Dataset, Faults, MockConfig};

/// The file's samples by name, each with its `mirror` label checked.
fn metrics(path: &Path, mirror: &str) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    assert!(!scrape.docs.is_empty(), "no HELP lines: {text}");
    scrape
        .samples
        .into_iter()
        .map(|s| {
            assert_eq!(s.labels.get("mirror"), Some(mirror), "{text}");
            let prometheus_parse::Value::Gauge(v) = s.value else {
                panic!("{} is not a gauge: {text}", s.metric)
            };
            (s.metric, v)
        })
        .collect()
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn the_metrics_file_holds_every_runs_figures_success_or_failure() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("levels.sqlite");
    let prom = dir.path().join("textfile").join("sync.prom");
    std::fs::create_dir(prom.parent().unwrap()).unwrap();
    let before = now();
    cli()
        .args([
            "sync",
            "--demo",
            "--db",
            db.to_str().unwrap(),
            "--metrics-file",
        ])
        .arg(&prom)
        .assert()
        .success();
    let after = now();
    let mut got = metrics(&prom, db.to_str().unwrap());
    let (start, end) = (
        got.remove("shipstream_inventory_sync_start_timestamp_seconds")
            .unwrap(),
        got.remove("shipstream_inventory_sync_end_timestamp_seconds")
            .unwrap(),
    );
    assert!(
        before - 1.0 <= start && start <= end && end <= after + 1.0,
        "{start} {end}"
    );
    let current = got
        .remove("shipstream_inventory_sync_current_as_of_timestamp_seconds")
        .unwrap();
    let reconciled = got
        .remove("shipstream_inventory_sync_reconciled_as_of_timestamp_seconds")
        .unwrap();
    assert_eq!(current, reconciled, "a full load reconciles");
    assert!((current - start).abs() < 60.0, "{current} {start}");
    // The rest, whole: a full load of the demo's 250 levels in 2 pages (the last one
    // empty), 2 requests through the client's limiter, none refused.
    let want: BTreeMap<String, f64> = [
        ("success", 1.0),
        ("exit_code", 0.0),
        ("upserted_rows", 250.0),
        ("skipped_rows", 0.0),
        ("deleted_rows", 0.0),
        ("pages", got["shipstream_inventory_sync_pages"]),
        ("requests", got["shipstream_inventory_sync_pages"]),
        ("refusals", 0.0),
        ("mirror_rows", 250.0),
    ]
    .into_iter()
    .map(|(k, v)| (format!("shipstream_inventory_sync_{k}"), v))
    .collect();
    assert_eq!(got, want);
    assert!(want["shipstream_inventory_sync_pages"] >= 1.0);

    // A run that fails (its database cannot be created) writes the file too: what it
    // reached, its exit code, and no figure it never had.
    let bad = dir.path().join("missing").join("levels.sqlite");
    cli()
        .args([
            "sync",
            "--demo",
            "--db",
            bad.to_str().unwrap(),
            "--metrics-file",
        ])
        .arg(&prom)
        .assert()
        .code(1);
    let got = metrics(&prom, bad.to_str().unwrap());
    let names: Vec<&str> = got.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "shipstream_inventory_sync_end_timestamp_seconds",
            "shipstream_inventory_sync_exit_code",
            "shipstream_inventory_sync_start_timestamp_seconds",
            "shipstream_inventory_sync_success",
        ]
    );
    assert_eq!(got["shipstream_inventory_sync_success"], 0.0);
    assert_eq!(got["shipstream_inventory_sync_exit_code"], 1.0);
    // Written beside, then renamed: nothing else is left in the folder.
    let left: Vec<_> = std::fs::read_dir(prom.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["sync.prom"]);
}

#[test]
fn status_reads_the_mirror_and_max_age_sets_the_exit_code() {
    // The mock's clock is 10 minutes behind this machine's: the mirror is 600 s old
    // when it is current.
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(300, 42))
            .clock_skew_secs(-600),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("levels.sqlite");
    let db = db.to_str().unwrap();
    // No mirror yet: status fails, whatever --max-age says.
    mock.cli()
        .args(["sync", "--status", "--db", db])
        .assert()
        .code(1);
    assert!(!Path::new(db).exists(), "--status created the database");
    mock.cli()
        .args(["sync", "--db", db, "--rate-limit", "0"])
        .assert()
        .success();
    let out = mock
        .cli()
        .args(["sync", "--status", "--format", "json", "--db", db])
        .assert()
        .success();
    let mut status: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let age = status["age_seconds"].as_i64().unwrap();
    assert!((595..700).contains(&age), "{status}");
    for key in [
        "current_as_of",
        "reconciled_as_of",
        "last_written",
        "age_seconds",
    ] {
        assert!(!status[key].is_null(), "{key}: {status}");
        status[key] = serde_json::Value::Null;
    }
    assert_eq!(
        status,
        serde_json::json!({
            "mirror": db, "rows": 300, "current_as_of": null, "age_seconds": null,
            "reconciled_as_of": null, "last_written": null, "run_in_progress": false,
            "upserted": 300, "skipped": 0, "deleted": 0,
        })
    );
    let human = mock
        .cli()
        .args(["sync", "--status", "--db", db])
        .assert()
        .success();
    let human = String::from_utf8_lossy(&human.get_output().stdout).into_owned();
    assert!(human.contains("rows:             300\n"), "{human}");
    // --max-age: 0 within it, 1 older, and the message says how old.
    for (max, code) in [("1h", 0), ("20m", 0), ("5m", 1), ("0s", 1)] {
        let out = mock
            .cli()
            .args(["sync", "--status", "--max-age", max, "--db", db])
            .assert()
            .code(code);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert_eq!(
            err.contains("older than --max-age"),
            code == 1,
            "{max}: {err}"
        );
    }
}

/// The product ids, `sync_state`'s deletion count and whether a run is in progress.
fn mirror_ids(db: &Path) -> (Vec<i64>, i64, bool) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let ids = conn
        .prepare("SELECT product_id FROM levels ORDER BY product_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let (state, deleted): (String, i64) = conn
        .query_row("SELECT state, run_deleted FROM sync_state", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    (ids, deleted, !state["run"].is_null())
}

#[test]
fn a_plain_sync_finishes_a_stopped_reconciliation_and_counts_its_deletions_whole() {
    // 3 pages of 1000 ids to reconcile, 300 ms each.
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(3000, 42))
            .faults("latency=300ms".parse::<Faults>().unwrap()),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("levels.sqlite");
    let sync = |extra: &[&str]| {
        let mut cmd = mock.std_command();
        cmd.args(["sync", "--db", db.to_str().unwrap(), "--rate-limit", "0"])
            .args(extra);
        cmd
    };
    let out = common::wait_output(sync(&[]).stderr(Stdio::piped()).spawn().unwrap());
    assert!(out.status.success());
    let (server_ids, _, _) = mirror_ids(&db);
    let (first, last) = (server_ids[0], *server_ids.last().unwrap());
    // Rows of products the server no longer has: one before the first id (the listing's
    // first page removes it) and two after the last (its last page does).
    let stale = [first - 1, last + 1, last + 2];
    let conn = rusqlite::Connection::open(&db).unwrap();
    for id in stale {
        conn.execute("INSERT INTO levels (product_id) VALUES (?1)", [id])
            .unwrap();
    }
    drop(conn);
    // A reconciling run, stopped (SIGKILL) once its first deletion is written.
    let mut child = sync(&["--reconcile"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let (_, deleted, running) = mirror_ids(&db);
        if running && deleted > 0 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended first");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no deletion written"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (ids, deleted, running) = mirror_ids(&db);
    assert!(running && deleted == 1, "{deleted} {running}");
    assert!(ids.contains(&(last + 1)) && !ids.contains(&(first - 1)));
    // A plain sync finishes it: every stale row gone, and its summary counts the stopped
    // invocation's deletion with its own.
    let out = common::wait_output(sync(&[]).stderr(Stdio::piped()).spawn().unwrap());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("incremental + reconciliation (continuing): ") && err.contains(", 3 deleted,"),
        "{err}"
    );
    assert_eq!(mirror_ids(&db).0, server_ids);
}
