//! `levels --parallel N`: the same bytes as the sequential export sorted by product id,
//! against a mock that enforces a rate and a concurrency limit, and a parallel export
//! killed (SIGKILL) at several points resumes from its checkpoint to the same bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use common::{Mock, items_written};
use shipstream_inventory_mock::{Dataset, MockConfig};

fn limited(products: usize) -> Mock {
    Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(products, 42))
            .rate_limit(30.0, 10)
            .max_concurrent(3)
            .latency(Duration::from_millis(5), Duration::from_micros(20))
            .record_requests(false),
    )
}

fn export(mock: &Mock, extra: &[&str], format: &str) -> Vec<u8> {
    let out = mock
        .cli()
        .args(["levels", "--page-size", "100", "--format", format])
        .args(extra)
        .assert()
        .success();
    out.get_output().stdout.clone()
}

#[test]
fn parallel_output_is_the_sequential_output_byte_for_byte_under_limits() {
    let mock = limited(3000);
    for format in ["csv", "ndjson"] {
        let sequential = export(&mock, &["--sort", "product_id"], format);
        assert!(sequential.len() > 100_000, "{format}: {}", sequential.len());
        for args in [
            &["--parallel", "2"][..],
            &["--parallel", "5"],
            &["--parallel", "5", "--sort", "product_id"],
        ] {
            let parallel = export(&mock, args, format);
            assert!(parallel == sequential, "{format}, {args:?}: output differs");
        }
    }
    // The client kept to the limits it learnt: few requests were refused.
    let counts = mock.server().limit_counts();
    assert!(counts.admitted > 100, "{counts}");
    assert!(
        counts.refused() * 10 <= counts.admitted,
        "more than 10 % refused: {counts}"
    );
}

#[test]
fn parallel_refuses_another_sort_with_a_usage_error() {
    let mock = limited(10);
    let out = mock
        .cli()
        .args(["levels", "--parallel", "3", "--sort", "sku"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("cannot be sorted by `sku`"), "{stderr}");
}

#[test]
fn a_killed_parallel_export_resumes_from_its_checkpoint_to_the_same_bytes() {
    let mock = limited(6000);
    let reference = export(&mock, &["--sort", "product_id"], "csv");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("levels.csv");
    let ckpt = dir.path().join("levels.ckpt");
    let args = [
        "levels",
        "--parallel",
        "4",
        "--page-size",
        "100",
        "--format",
        "csv",
        "--output",
        out.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
    ];
    // Kill points: before the first page, then after about 1000, 2500 and 4000 levels.
    let mut resumed = 0;
    for target in [0u64, 1000, 2500, 4000] {
        let mut child = mock
            .std_command()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        // Generous: this only stops a hung child; nothing here is timed.
        while items_written(&ckpt) < target && started.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
        }
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("resuming:") {
            resumed += 1;
        }
        let ckpt_text = std::fs::read_to_string(&ckpt).unwrap_or_default();
        if target > 0 && !ckpt_text.is_empty() {
            assert!(
                ckpt_text.contains("\"parallel\""),
                "a parallel export keeps a parallel checkpoint: {ckpt_text}"
            );
        }
    }
    // Run to the end.
    mock.cli().args(args).assert().success();
    assert!(resumed >= 2, "the reruns resumed ({resumed})");
    let written = std::fs::read(&out).unwrap();
    assert!(
        written == reference,
        "the resumed output differs from the reference"
    );
}
