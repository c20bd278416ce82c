//! `cargo xtask fuzz`: builds the cargo-fuzz targets of `fuzz/` with libFuzzer's coverage
//! instrumentation on the stable toolchain (the `-C passes=sancov-module` flags that
//! `cargo fuzz build -s none` passes; no nightly, no sanitizer) and runs each for a fixed
//! time from a seed corpus. A crash or a failed assertion in a target fails the step, with
//! the input saved under `fuzz/artifacts/<target>/`.
//!
//! Targets: `decode_page` (page decoding), `filter_parse` (the filter grammar),
//! `fault_spec` (the mock's `--fault` specification) and `mock_query` (the mock's query
//! parsing). Seeds: `decode_page` starts from the page fixtures
//! (`crates/generated/tests/fixtures/`, `fixtures/recorded/`), `filter_parse` from the
//! filters in `tests/tests/fixtures/peers/valid_filters.txt`, the other two from the forms
//! below; every target also reads its committed corpus, `fuzz/seeds/<target>/` (the
//! minimised inputs of longer runs, see [`committed_corpus`]). The growing corpus is kept in
//! `fuzz/corpus/<target>/` (git-ignored) between runs.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::{Context, Result, bail, ensure};

/// Seconds per target in `cargo xtask ci`. Started from the committed corpus, 30 s reach
/// more edges than 180 s from the fixtures alone (`decode_page`: 5,954 against 5,870), and
/// 10 s reach within 1 to 3 % of what 20 s reach (RELIABILITY.md has the figures), so a
/// longer CI budget buys little. Long runs are for `--seconds 600 --update-seeds`.
pub const CI_SECONDS: u64 = 10;

/// The fuzz targets (see `fuzz/fuzz_targets/`); [`seeds`] says where each one's seeds
/// come from.
const TARGETS: [&str; 4] = ["decode_page", "filter_parse", "fault_spec", "mock_query"];

/// Seeds of `fault_spec`: the forms the mock's documentation shows.
const FAULT_SEEDS: &[&str] = &[
    "status=429:rate=0.05:retry-after=0;drop:nth=3",
    "status=500|502|503:rate=0.1;truncate:rate=0.01",
    "latency=20ms;latency=1.5s:rate=0.5",
    "unknown-enum;forbidden-enum;extra-field:rate=0.2;bad-record:nth=2",
];

/// Seeds of `mock_query`: queries of the kind the facade and the contract tests send.
const QUERY_SEEDS: &[&str] = &[
    "limit=100&sort=product_id",
    "filter=qty_available%7Blt%3A10%7D&filter=is_enabled%3Atrue&sort=-updated_at,sku",
    "fields=all&fields%3Aproduct=sku,name,weight&count=1&limit=1000",
    "sort=product_id&cursor_start=50&version=2025-08",
    "filter=product_name%5B%7Bstart%3A%22Box%22%7D%2C%7Bend%3A%22CASE%22%7D%5D",
];

/// The flags `cargo fuzz build -s none` gives rustc: libFuzzer's coverage counters and
/// comparison tracing, plus the `fuzzing` cfg and the checks of a debug build.
const RUSTFLAGS: &str = "-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing -Cdebug-assertions -Coverflow-checks";

/// Builds and runs every target for `time` each; with `update_seeds`, merges what the run
/// found into the committed corpus (see [`committed_corpus`]).
pub fn run(root: &Path, time: Duration, update_seeds: bool) -> Result<()> {
    let fuzz = root.join("fuzz");
    let target_dir = fuzz.join("target").join("instrumented");
    println!(
        "-- building the fuzz targets with coverage instrumentation (fuzz/target/instrumented)"
    );
    // With an explicit `--target`, RUSTFLAGS reach the targets but not build scripts and
    // proc macros (which must not be instrumented: they would not link).
    let host = rustc_version::version_meta()
        .context("cannot read the host triple from rustc -vV")?
        .host;
    crate::run(
        Command::new(crate::cargo())
            .args([
                "build",
                "--release",
                "--locked",
                "--bins",
                "--target",
                &host,
            ])
            .arg("--target-dir")
            .arg(&target_dir)
            .env("RUSTFLAGS", RUSTFLAGS)
            .env_remove("CARGO_TARGET_DIR")
            .current_dir(&fuzz),
    )?;
    for target in TARGETS {
        let corpus = fuzz.join("corpus").join(target);
        let artifacts = fuzz.join("artifacts").join(target);
        let seeds = seeds(root, target)?;
        fs::create_dir_all(&corpus)?;
        fs::create_dir_all(&artifacts)?;
        println!("-- fuzzing {target} for {}s", time.as_secs());
        let committed = committed_corpus(root, target);
        let binary = target_dir.join(&host).join("release").join(target);
        let out = Command::new(&binary)
            .arg(&corpus)
            .arg(&seeds)
            .args(committed.is_dir().then_some(&committed))
            .arg(format!("-max_total_time={}", time.as_secs()))
            .arg("-rss_limit_mb=2048")
            .arg("-print_final_stats=1")
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .output()
            .with_context(|| format!("cannot run the fuzz target {target}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        let runs = stat(&log, "stat::number_of_executed_units:");
        let cov = log
            .lines()
            .rev()
            .find_map(|l| {
                l.split_once(" cov: ")
                    .map(|(_, r)| r.split_whitespace().next())
            })
            .flatten()
            .unwrap_or("?");
        if !out.status.success() {
            bail!(
                "fuzz target {target} failed ({}); the input is under {}:\n{}",
                out.status,
                crate::display_path(&artifacts),
                log.lines()
                    .rev()
                    .take(40)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        ensure!(
            runs > 1000,
            "fuzz target {target} ran only {runs} inputs:\n{log}"
        );
        ensure!(
            cov != "?",
            "fuzz target {target} reports no coverage: is it instrumented?\n{log}"
        );
        println!("   {target}: {runs} inputs, coverage {cov} edges, no crash");
        if update_seeds {
            merge_into_committed(&binary, &committed, &corpus)?;
        }
    }
    Ok(())
}

/// The committed corpus of `target`, `fuzz/seeds/<target>/`: the inputs of earlier long
/// runs, minimised, so that CI's short runs start where those ended instead of from the
/// fixtures alone (`cargo xtask fuzz --seconds 600 --update-seeds` refreshes it).
pub fn committed_corpus(root: &Path, target: &str) -> PathBuf {
    root.join("fuzz").join("seeds").join(target)
}

/// Replaces `committed` by a small set of inputs from it and `found` that keeps every edge
/// they cover (libFuzzer's `-set_cover_merge=1`).
fn merge_into_committed(binary: &Path, committed: &Path, found: &Path) -> Result<()> {
    let merged = committed.with_extension("merging");
    let _ = fs::remove_dir_all(&merged);
    fs::create_dir_all(&merged)?;
    // Set-cover merging on edges alone keeps the committed corpus small (about a
    // quarter of the files a feature-preserving merge keeps) with all the edges.
    let mut merge = Command::new(binary);
    merge
        .args([
            "-set_cover_merge=1",
            "-use_counters=0",
            "-use_cmp=0",
            "-use_value_profile=0",
        ])
        .arg(&merged)
        .arg(found);
    if committed.is_dir() {
        merge.arg(committed);
    }
    let out = merge
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    ensure!(
        out.status.success(),
        "merging the corpus failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = fs::remove_dir_all(committed);
    fs::rename(&merged, committed)?;
    let count = fs::read_dir(committed)?.count();
    println!(
        "   merged into {}: {count} inputs",
        crate::display_path(committed)
    );
    Ok(())
}

/// A seed folder for `target`, written under `target/fuzz-seeds/`.
fn seeds(root: &Path, target: &str) -> Result<PathBuf> {
    let dir = root.join("target").join("fuzz-seeds").join(target);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    match target {
        "decode_page" => {
            for src in [
                root.join("crates/generated/tests/fixtures"),
                root.join("fixtures/recorded"),
            ] {
                for entry in fs::read_dir(&src).with_context(|| format!("{}", src.display()))? {
                    let path = entry?.path();
                    if path.extension().is_some_and(|e| e == "json") {
                        let name = format!(
                            "{}-{}",
                            src.file_name().unwrap_or_default().to_string_lossy(),
                            path.file_name().unwrap_or_default().to_string_lossy()
                        );
                        fs::copy(&path, dir.join(name))?;
                    }
                }
            }
        }
        "fault_spec" | "mock_query" => {
            let seeds = if target == "fault_spec" {
                FAULT_SEEDS
            } else {
                QUERY_SEEDS
            };
            for (i, seed) in seeds.iter().enumerate() {
                fs::write(dir.join(format!("seed-{i}")), seed)?;
            }
        }
        _ => {
            let list = root.join("tests/tests/fixtures/peers/valid_filters.txt");
            let text = fs::read_to_string(&list)
                .with_context(|| format!("cannot read {}", list.display()))?;
            for (i, line) in text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .enumerate()
            {
                fs::write(dir.join(format!("filter-{i}")), line)?;
            }
        }
    }
    Ok(dir)
}

/// The number after `key` in libFuzzer's final stats (0 when absent).
fn stat(log: &str, key: &str) -> u64 {
    log.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
