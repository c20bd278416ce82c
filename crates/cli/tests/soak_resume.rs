//! Soak of `levels --checkpoint`: an export through a faulty server (10 % 5xx, 5 % 429,
//! 2 % dropped connections, 1 % truncated bodies), killed (SIGKILL) at seeded random
//! points and resumed until it finishes, holds every level exactly once, byte for byte
//! what an uninterrupted export of a healthy server writes.
//!
//! 100,000 levels by default; `SOAK_LEVELS=N` scales it and `SOAK_SEED=N` picks other
//! kill points. `--nocapture` prints the kills and the fault counts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use common::{Mock, items_written, ndjson_ids};
use shipstream_inventory_mock::{Dataset, Faults, MockConfig};

const FAULTS: &str = "status=500|502|503:rate=0.1;status=429:rate=0.05:retry-after=0;drop:rate=0.02;truncate:rate=0.01";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// SplitMix64: the kill points, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn checkpoint(path: &Path) -> serde_json::Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// How one run ended.
enum Run {
    /// Killed by the test before it finished.
    Killed,
    /// Exited by itself with this code; stderr attached.
    Exited(i32, String),
}

/// Starts the export; once the checkpoint holds `target` levels, waits `delay` more and
/// kills it (unless it has finished by then).
fn run_and_kill(
    mock: &Mock,
    args: &[&str],
    ckpt: &Path,
    stderr_path: &Path,
    target: u64,
    delay: Duration,
) -> Run {
    let mut child = mock
        .std_command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(stderr_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let exited = |status: std::process::ExitStatus| {
        Run::Exited(
            status.code().unwrap_or(-1),
            std::fs::read_to_string(stderr_path).unwrap_or_default(),
        )
    };
    // Generous: the test has no timing assertions, this only stops a hung child.
    while items_written(ckpt) < target && started.elapsed() < Duration::from_secs(300) {
        if let Some(status) = child.try_wait().unwrap() {
            return exited(status);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(delay);
    if let Some(status) = child.try_wait().unwrap() {
        return exited(status);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    Run::Killed
}

#[test]
fn a_faulty_export_killed_at_random_points_resumes_to_exactly_once() {
    let levels = env_u64("SOAK_LEVELS", 100_000);
    let seed = env_u64("SOAK_SEED", 7);
    let dataset = Dataset::generate(usize::try_from(levels).unwrap(), 42);
    let started = Instant::now();

    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.ndjson");
    let out = dir.path().join("levels.ndjson");
    let ckpt = dir.path().join("levels.ckpt");
    let stderr_path = dir.path().join("stderr.txt");
    let base = |output: &Path| {
        vec![
            "levels".to_owned(),
            "--sort".into(),
            "product_id".into(),
            "--page-size".into(),
            "1000".into(),
            "--format".into(),
            "ndjson".into(),
            "--output".into(),
            output.to_str().unwrap().to_owned(),
        ]
    };

    // The uninterrupted export of a healthy server.
    {
        let healthy = Mock::start(
            MockConfig::default()
                .dataset(dataset.clone())
                .record_requests(false),
        );
        healthy.cli().args(base(&reference)).assert().success();
    }
    let expected = std::fs::read_to_string(&reference).unwrap();
    let expected_ids = ndjson_ids(&expected);
    assert!(expected_ids.len() as u64 > levels * 9 / 10);
    let expected_lines: Vec<&str> = expected.lines().collect();

    let mock = Mock::start(
        MockConfig::default()
            .dataset(dataset)
            .faults(FAULTS.parse::<Faults>().unwrap())
            .seed(seed)
            .record_requests(false),
    );
    let mut args = base(&out);
    args.extend(["--checkpoint".to_owned(), ckpt.to_str().unwrap().to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let mut rng = Rng(seed);
    let total = expected_ids.len() as u64;
    let (mut kills, mut gave_up, mut runs) = (0u32, 0u32, 0u32);
    loop {
        runs += 1;
        assert!(runs <= 60, "the export did not finish in 60 runs");
        let written = items_written(&ckpt);
        // Kill somewhere in the next fifth of the export: right after a checkpoint or a
        // little later, while a page is being fetched or written.
        let target = written + 1 + rng.below(total / 5);
        let delay = Duration::from_millis(rng.below(40));
        match run_and_kill(&mock, &args, &ckpt, &stderr_path, target, delay) {
            Run::Killed => kills += 1,
            Run::Exited(0, _) => break,
            // Retries exhausted (a long run of faults on one page): also an interruption
            // that a rerun resumes from.
            Run::Exited(code @ (4 | 5), stderr) => {
                gave_up += 1;
                assert!(gave_up <= 10, "exit {code} too often: {stderr}");
            }
            Run::Exited(code, stderr) => panic!("exit {code}: {stderr}"),
        }
        if runs > 1 {
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            assert!(
                stderr.contains("resuming:") || stderr.is_empty(),
                "a rerun resumes: {stderr}"
            );
        }
        // The part of the output the checkpoint covers is exactly a prefix of the
        // reference; anything after it is cut off on resume.
        let written = usize::try_from(items_written(&ckpt)).unwrap();
        let partial = std::fs::read_to_string(&out).unwrap_or_default();
        let covered: Vec<&str> = partial.lines().take(written).collect();
        assert_eq!(
            covered.len(),
            written,
            "the checkpoint covers written lines"
        );
        assert!(
            covered[..] == expected_lines[..written],
            "the checkpointed output differs from the reference"
        );
    }

    let got = std::fs::read_to_string(&out).unwrap();
    let got_ids = ndjson_ids(&got);
    assert_eq!(got_ids.len(), expected_ids.len(), "levels written");
    assert!(
        got_ids.windows(2).all(|w| w[0] < w[1]),
        "no level twice, in order"
    );
    assert_eq!(got_ids, expected_ids, "every level exactly once");
    assert!(
        got == expected,
        "the output equals the uninterrupted export"
    );
    let state = checkpoint(&ckpt);
    assert_eq!(state["done"], true);
    assert_eq!(state["items_written"].as_u64(), Some(total));
    assert_eq!(state["record_errors"].as_u64(), Some(0));
    assert!(kills >= 3, "killed mid-way only {kills} times");

    let c = mock.server().fault_counts();
    let failures = c.statuses() + c.drop + c.truncate;
    assert!(failures > 0 || c.requests < 50, "no fault was injected");
    println!(
        "soak_resume: {total} levels in {runs} runs ({kills} killed, {gave_up} gave up after \
         retries) in {:.1?}; faults injected {failures} (requests {}, statuses {:?}, dropped \
         {}, truncated {})",
        started.elapsed(),
        c.requests,
        c.status,
        c.drop,
        c.truncate
    );
}

#[test]
fn a_spoilt_record_in_a_resumed_export_is_reported_and_still_exits_6() {
    // Page 2 of 4 carries a record that does not decode. The export is killed right after
    // that page's checkpoint and resumed: the rerun still knows about the missing record.
    let mock = Mock::start(
        MockConfig::default()
            .dataset(Dataset::generate(44, 42))
            .faults("bad-record:nth=2;latency=100ms".parse::<Faults>().unwrap()),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.ndjson");
    let ckpt = dir.path().join("c.json");
    let stderr_path = dir.path().join("stderr.txt");
    let args = [
        "levels",
        "--sort",
        "product_id",
        "--page-size",
        "10",
        "--output",
        out.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
    ];
    let first = run_and_kill(&mock, &args, &ckpt, &stderr_path, 19, Duration::ZERO);
    let first_stderr = std::fs::read_to_string(&stderr_path).unwrap();
    if let Run::Exited(code, _) = first {
        assert_eq!(code, 6, "{first_stderr}");
    }
    assert!(
        first_stderr.contains("record collection[5]")
            && first_stderr.contains(r#"string "many""#)
            && first_stderr.contains("raw JSON: {"),
        "the spoilt record is reported with its reason and raw JSON: {first_stderr}"
    );
    assert_eq!(checkpoint(&ckpt)["record_errors"].as_u64(), Some(1));

    let resumed = mock.cli().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    if matches!(first, Run::Killed) {
        assert!(stderr.contains("resuming:"), "{stderr}");
        assert_eq!(resumed.status.code(), Some(6), "{stderr}");
        assert!(
            stderr.contains("1 record(s) could not be decoded"),
            "{stderr}"
        );
    }
    let ids = ndjson_ids(&std::fs::read_to_string(&out).unwrap());
    let all: Vec<i64> = mock
        .server()
        .dataset()
        .product_ids()
        .into_iter()
        .filter(|id| {
            mock.server().dataset().record_json(*id).unwrap()["product"]["is_enabled"] != false
        })
        .map(|id| i64::try_from(id).unwrap())
        .collect();
    assert_eq!(ids.len(), all.len() - 1, "all but the spoilt record");
    assert_eq!(
        all.iter().filter(|id| !ids.contains(id)).count(),
        1,
        "exactly one record is missing"
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    // Asking again about the finished export gives the same verdict and writes nothing.
    let before = std::fs::read(&out).unwrap();
    let again = mock.cli().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("already complete"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
}
