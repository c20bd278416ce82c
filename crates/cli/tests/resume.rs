//! `--checkpoint`: resume after a kill without losing or repeating a level.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use common::{Mock, items_written, ndjson_ids};
use predicates::prelude::*;
use shipstream_inventory_mock::{Dataset, Fault, MockConfig};

/// Starts the export, waits until the checkpoint holds at least `at_least` levels (or a
/// moment passes), then kills it. Returns whether it had already finished.
fn run_and_kill(
    mock: &Mock,
    args: &[&str],
    checkpoint: &Path,
    at_least: u64,
    extra_delay: Duration,
) -> bool {
    let mut child = mock
        .std_command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while items_written(checkpoint) < at_least && started.elapsed() < Duration::from_secs(30) {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(extra_delay);
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    let _ = child.wait();
    finished
}

#[test]
fn a_killed_export_resumes_without_gaps_or_duplicates() {
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(120, 42))
            .fault(Fault::latency(Duration::from_millis(40))),
    );
    let expected = mock
        .cli()
        .args(["levels", "--sort", "product_id"])
        .output()
        .unwrap();
    assert!(expected.status.success());
    let expected = String::from_utf8(expected.stdout).unwrap();
    let expected_ids = ndjson_ids(&expected);
    assert!(expected_ids.len() > 100);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("levels.ndjson");
    let ckpt = dir.path().join("levels.ckpt");
    let args = [
        "levels",
        "--sort",
        "product_id",
        "--page-size",
        "7",
        "--output",
        out.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
    ];
    // Kill at different moments: right after a checkpoint, and a little later (likely
    // while a page is being fetched or written).
    let mut kills = 0;
    for (at_least, delay) in [(14, 0), (30, 17), (50, 33), (70, 5)] {
        if run_and_kill(&mock, &args, &ckpt, at_least, Duration::from_millis(delay)) {
            break;
        }
        kills += 1;
        let written = items_written(&ckpt);
        assert!(written >= at_least, "{written} < {at_least}");
        // Whatever is in the file beyond the checkpoint is cut off on resume; the part the
        // checkpoint covers is exactly a prefix of the full export.
        let partial = std::fs::read_to_string(&out).unwrap();
        let ids = ndjson_ids(
            &partial
                .lines()
                .take(usize::try_from(written).unwrap())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        assert_eq!(ids[..], expected_ids[..ids.len()]);
    }
    assert!(kills >= 2, "the export was killed mid-way at least twice");

    mock.cli()
        .args(args)
        .assert()
        .success()
        .stderr(predicate::str::contains("resuming:"));
    let got = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        ndjson_ids(&got),
        expected_ids,
        "every level exactly once, in order"
    );
    assert_eq!(got, expected);

    let checkpoint: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ckpt).unwrap()).unwrap();
    assert_eq!(checkpoint["done"], true);
    assert_eq!(
        checkpoint["items_written"].as_u64(),
        Some(expected_ids.len() as u64)
    );

    // Done: a rerun writes nothing and says so.
    let before = mock.requests();
    mock.cli()
        .args(args)
        .assert()
        .success()
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("already complete"));
    assert_eq!(mock.requests(), before, "nothing was fetched");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
}

#[test]
fn a_partial_page_after_the_checkpoint_is_cut_off_on_resume() {
    let mock = Mock::with(60, "");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("levels.csv");
    let ckpt = dir.path().join("ckpt.json");
    let args = [
        "levels",
        "--sort",
        "product_id",
        "--page-size",
        "10",
        "--max-items",
        "20",
        "--format",
        "csv",
        "--output",
        out.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
    ];
    mock.cli().args(args).assert().success();
    let full = std::fs::read_to_string(&out).unwrap();
    assert_eq!(full.lines().count(), 21, "header and 20 rows");

    // Pretend the run was killed after page 1 while page 2 was being written.
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ckpt).unwrap()).unwrap();
    let first_page_len: usize = full.lines().take(11).map(|l| l.len() + 1).sum();
    let next = mock
        .server()
        .requests()
        .iter()
        .map(|r| r.uri())
        .nth(1)
        .unwrap();
    state["done"] = false.into();
    state["items_written"] = 10.into();
    state["output_len"] = first_page_len.into();
    state["checkpoint"]["next"] = next.into();
    state["checkpoint"]["pages"] = 1.into();
    state["checkpoint"]["items"] = 10.into();
    std::fs::write(&ckpt, state.to_string()).unwrap();
    let mut torn = full[..first_page_len].to_owned();
    torn.push_str("999,HALF-A-RO");
    std::fs::write(&out, torn).unwrap();

    mock.cli().args(args).assert().success();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), full);
}

#[test]
fn resuming_with_other_options_is_refused() {
    let mock = Mock::with(60, "");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.ndjson");
    let ckpt = dir.path().join("c.json");
    let base = [
        "levels",
        "--output",
        out.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--max-items",
        "5",
    ];
    mock.cli().args(base).assert().success();
    mock.cli()
        .args(base)
        .args(["--filter", "qty_available{lt:10}"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--filter"));
    mock.cli()
        .args(base)
        .args(["--format", "csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--format"));
    std::fs::write(&ckpt, "not json").unwrap();
    mock.cli()
        .args(base)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a checkpoint"));
}

#[test]
fn demo_exports_can_checkpoint_too() {
    let dir = tempfile::tempdir().unwrap();
    common::cli()
        .current_dir(dir.path())
        .args([
            "levels",
            "--demo",
            "--format",
            "csv",
            "--output",
            "o.csv",
            "--checkpoint",
            "c.json",
        ])
        .assert()
        .success();
    let rows = std::fs::read_to_string(dir.path().join("o.csv"))
        .unwrap()
        .lines()
        .count();
    assert!(rows > 200, "{rows}");
    common::cli()
        .current_dir(dir.path())
        .args([
            "levels",
            "--demo",
            "--format",
            "csv",
            "--output",
            "o.csv",
            "--checkpoint",
            "c.json",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("already complete"));
}

#[test]
fn an_export_stopped_by_a_looping_next_is_not_marked_complete() {
    let mock = Mock::with(120, "repeat-next:nth=2");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("levels.ndjson");
    let ckpt = dir.path().join("levels.ckpt");
    let args = [
        "levels",
        "--sort",
        "product_id",
        "--page-size",
        "20",
        "--format",
        "ndjson",
        "--output",
        out.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
    ];
    mock.cli()
        .args(args)
        .assert()
        .code(6)
        .stderr(predicate::str::contains("repeats a page"));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ckpt).unwrap()).unwrap();
    assert_eq!(saved["done"], false, "{saved}");
    // Rerunning does not claim the export is complete: it says why it cannot go on.
    mock.cli()
        .args(args)
        .assert()
        .code(6)
        .stderr(predicate::str::contains("cannot be resumed"));
}
