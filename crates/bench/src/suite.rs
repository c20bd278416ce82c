//! The benchmark suites that `cargo xtask bench` runs (through the `suites` binary): they
//! run the criterion benches, the release CLI and the peers, and write `BENCHMARKS.md`.
//!
//! Suites (all by default; `--only a,b` for a subset):
//!
//! - `decode`: criterion bench `decode` of `crates/bench` (one page of 1000 levels and
//!   1000 products from memory: facade, generated types, minimal hand-written structs,
//!   `serde_json::Value`);
//! - `export`: criterion bench `export` (100,000 levels over loopback as NDJSON: facade,
//!   hand-written reqwest loop, raw generated client);
//! - `openapi-generator`: generates openapi-generator's `rust` client from `openapi.yaml`
//!   into `target/openapi-generator-client/` (git-ignored), builds a runner there as a
//!   separate cargo project and runs it against a mock process, next to a hand-written
//!   loop built with the same reqwest;
//! - `cli`: the release `shipstream-inventory levels --format ndjson --page-size 1000`
//!   and an independent hand-written exporter (`crates/bench/src/bin/ndjson_exporter.rs`),
//!   run alternately on 100,000 levels from a mock process, output to /dev/null;
//! - `memory`: peak RSS of the release `shipstream-inventory levels --format ndjson`
//!   exporting 100,000 and 1,000,000 levels from a mock process to /dev/null;
//! - `prefetch`: criterion bench `prefetch` (20 ms latency, 20 ms work per page);
//! - `mock`: criterion bench `mock` (pages per second the mock serves);
//! - `parallel`: the release CLI exporting 100,000 levels from a mock process that
//!   enforces 10 requests/s (burst 10) and 5 at once and takes 500 ms per page of 1000,
//!   sequentially and with `--parallel 5`, then in parallel again under the fault soak's
//!   faults (every run compared byte for byte with the sequential output);
//! - `sync`: the release CLI's `sync` against mock processes with the same limits
//!   (103,100 levels): a first sync and a reconciling sync, sequential and with
//!   `--parallel 5`;
//! - `build`: clean release build of the facade in a fresh target directory, and the
//!   rebuild after touching `openapi.yaml` (minutes; skipped by `--quick`).
//!
//! Each suite replaces its own section of `BENCHMARKS.md` (between `<!-- bench:NAME -->`
//! markers), so a subset run keeps the other figures; text outside the markers is kept.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use shipstream_inventory_mock::LEVELS_PATH;

use crate::SEED;
use xtask::{
    bench::{git_head, now_utc, stdout_of, update_markdown},
    run as sh, step, tools,
};

mod cli_ndjson;
mod limited;
mod memory;
mod openapi;
mod parallel;
mod polite;
mod report;
mod sync;
mod throughput;

use cli_ndjson::*;
use memory::*;
use openapi::*;
use parallel::*;
use polite::*;
use report::*;
use sync::*;
use throughput::*;

/// Every suite, in the order they run and appear.
pub const SUITES: &[&str] = &[
    "decode",
    "export",
    "openapi-generator",
    "cli",
    "memory",
    "prefetch",
    "mock",
    "parallel",
    "polite",
    "sync",
    "build",
];

/// The benchmark package.
const PACKAGE: &str = "shipstream-inventory-bench";
/// Levels of the export and memory benchmarks.
const EXPORT_LEVELS: u64 = 100_000;
/// The larger memory run.
const MEMORY_LEVELS: u64 = 1_000_000;
/// Generated products of the 1M mock: enough that at least 1,000,000 are enabled.
const MEMORY_PRODUCTS: u64 = 1_040_000;
/// Generated products of the openapi-generator mock (about 100,000 enabled).
const OPENAPI_PRODUCTS: u64 = 103_100;
/// The memory target.
const MEMORY_TARGET_MIB: f64 = 64.0;
/// The bearer token of every mock process.
const TOKEN: &str = "bench-token";

/// `cargo xtask bench` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Run only these suites (comma-separated): decode, export, openapi-generator, cli,
    /// memory, prefetch, mock, parallel, polite, sync, build.
    #[arg(long, value_delimiter = ',', value_name = "SUITES")]
    pub only: Vec<String>,
    /// Shorter runs: criterion's --quick, fewer openapi-generator rounds, no build suite
    /// unless named in --only. Figures are noisier; fine for a smoke test.
    #[arg(long)]
    pub quick: bool,
    /// Print the results without updating BENCHMARKS.md.
    #[arg(long)]
    pub no_write: bool,
}

struct Ctx {
    root: PathBuf,
    target: PathBuf,
    cargo: String,
    quick: bool,
    /// The release CLI, once built.
    cli: Option<PathBuf>,
}

/// Runs the selected suites and updates `BENCHMARKS.md`.
pub fn run(root: &Path, args: &Args) -> Result<()> {
    let suites = selected(args)?;
    let target = root.join(xtask::package::target_dir(root));
    let mut ctx = Ctx {
        root: root.to_owned(),
        target,
        cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        quick: args.quick,
        cli: None,
    };
    let mut sections = vec![("machine".to_owned(), machine(&ctx, args)?)];
    let mut summary = Vec::new();
    for suite in &suites {
        let mut out = None;
        step(&format!("bench {suite}"), || {
            let load = load_average();
            let (md, verdicts) = match suite.as_str() {
                "decode" => decode(&ctx)?,
                "export" => export(&ctx)?,
                "openapi-generator" => openapi_generator(&mut ctx)?,
                "cli" => cli_ndjson(&mut ctx)?,
                "memory" => memory(&mut ctx)?,
                "prefetch" => prefetch(&ctx)?,
                "mock" => mock(&ctx)?,
                "parallel" => parallel(&mut ctx)?,
                "polite" => polite(&mut ctx)?,
                "sync" => sync_suite(&mut ctx)?,
                "build" => build(&ctx)?,
                other => bail!("unknown suite {other}"),
            };
            let md = format!(
                "{md}\n_Measured {} at {}{}; load average {load} at the start._\n",
                now_utc(),
                git_head(&ctx.root),
                if args.quick { " with --quick" } else { "" },
            );
            out = Some((md, verdicts));
            Ok(())
        })?;
        if let Some((md, verdicts)) = out {
            println!("\n{md}");
            summary.extend(verdicts);
            sections.push((suite.clone(), md));
        }
    }
    println!("\n==> targets");
    for line in &summary {
        println!("{line}");
    }
    if !args.no_write {
        let path = ctx.root.join("BENCHMARKS.md");
        update_markdown(&path, &sections)?;
        println!("\nxtask bench: wrote {}", xtask::display_path(&path));
    }
    Ok(())
}

fn selected(args: &Args) -> Result<Vec<String>> {
    for s in &args.only {
        if !SUITES.contains(&s.as_str()) {
            bail!("unknown suite `{s}`; the suites are {}", SUITES.join(", "));
        }
    }
    Ok(SUITES
        .iter()
        .filter(|s| {
            if args.only.is_empty() {
                !(args.quick && **s == "build")
            } else {
                args.only.iter().any(|o| o == *s)
            }
        })
        .map(|s| (*s).to_owned())
        .collect())
}

// ---------------------------------------------------------------------------------------
// Criterion suites

/// Runs one criterion bench of the benchmark package; results go to
/// `<target>/criterion/<group>/`.
fn criterion(ctx: &Ctx, bench: &str) -> Result<PathBuf> {
    let home = ctx.target.join("criterion");
    for group in groups_of(bench) {
        let _ = fs::remove_dir_all(home.join(group));
    }
    let mut cmd = Command::new(&ctx.cargo);
    cmd.args(["bench", "--locked", "-p", PACKAGE, "--bench", bench, "--"])
        .arg("--noplot")
        .current_dir(&ctx.root)
        .env("CRITERION_HOME", &home)
        .env("SHIPSTREAM_BENCH_PAIRED", paired_dir(ctx));
    let _ = fs::remove_file(paired_dir(ctx).join(format!("{bench}.json")));
    if ctx.quick {
        cmd.arg("--quick");
    }
    sh(&mut cmd)?;
    Ok(home)
}

/// The criterion groups of each bench.
fn groups_of(bench: &str) -> Vec<&str> {
    match bench {
        "decode" => vec!["decode", "decode_levels"],
        other => vec![other],
    }
}

#[derive(Debug, Clone, Copy)]
struct Estimate {
    /// Median, nanoseconds per iteration.
    median: f64,
    lower: f64,
    upper: f64,
}

fn estimate(home: &Path, group: &str, id: &str) -> Result<Estimate> {
    let path = home.join(group).join(id).join("new").join("estimates.json");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("no criterion results at {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)?;
    let m = &v["median"];
    let num = |v: &Value| {
        v.as_f64()
            .with_context(|| format!("unexpected {}", path.display()))
    };
    Ok(Estimate {
        median: num(&m["point_estimate"])?,
        lower: num(&m["confidence_interval"]["lower_bound"])?,
        upper: num(&m["confidence_interval"]["upper_bound"])?,
    })
}

/// The estimates of `ids` (with their labels) in criterion group `group`.
fn estimates<'a>(
    home: &Path,
    group: &str,
    ids: &[(&'a str, &str)],
) -> Result<BTreeMap<&'a str, Estimate>> {
    ids.iter()
        .map(|(id, _)| Ok((*id, estimate(home, group, id)?)))
        .collect()
}

fn paired_dir(ctx: &Ctx) -> PathBuf {
    ctx.target.join("bench-paired")
}

/// A side-by-side pair (`crates/bench/src/paired.rs`): the median over rounds of
/// time(a) / time(b), the lowest and highest round, and the number of rounds.
#[derive(Debug, Clone, Copy)]
struct Pair {
    ratio: f64,
    low: f64,
    high: f64,
    rounds: usize,
}

fn pair(ctx: &Ctx, name: &str) -> Result<Pair> {
    let path = paired_dir(ctx).join(format!("{name}.json"));
    let text = fs::read_to_string(&path)
        .with_context(|| format!("no side-by-side results at {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)?;
    let times = |key| numbers(&v, key).with_context(|| format!("in {}", path.display()));
    let ratios: Vec<f64> = times("a")?
        .iter()
        .zip(times("b")?)
        .map(|(a, b)| a / b)
        .collect();
    if ratios.is_empty() {
        bail!("no rounds in {}", path.display());
    }
    Ok(Pair::of(ratios))
}

/// The array of numbers at `v[key]`.
fn numbers(v: &Value, key: &str) -> Result<Vec<f64>> {
    v[key]
        .as_array()
        .with_context(|| format!("no `{key}` array"))?
        .iter()
        .map(|t| t.as_f64().context("not a number"))
        .collect()
}

impl Pair {
    /// The median, lowest and highest of per-round ratios.
    fn of(ratios: Vec<f64>) -> Pair {
        Pair {
            rounds: ratios.len(),
            low: ratios.iter().copied().fold(f64::INFINITY, f64::min),
            high: ratios.iter().copied().fold(0.0, f64::max),
            ratio: median(ratios),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Processes: the release CLI and a mock process

fn cli(ctx: &mut Ctx) -> Result<PathBuf> {
    if let Some(path) = &ctx.cli {
        return Ok(path.clone());
    }
    let path = release_binary(ctx, "shipstream-inventory-cli", "shipstream-inventory")?;
    ctx.cli = Some(path.clone());
    Ok(path)
}

/// Builds binary `bin` of `package` in release mode and returns its path.
fn release_binary(ctx: &Ctx, package: &str, bin: &str) -> Result<PathBuf> {
    sh(Command::new(&ctx.cargo)
        .args([
            "build",
            "--locked",
            "--release",
            "-p",
            package,
            "--bin",
            bin,
        ])
        .current_dir(&ctx.root))?;
    let path = ctx.target.join("release").join(bin);
    if !path.exists() {
        bail!("the release binary {bin} is not at {}", path.display());
    }
    Ok(path)
}

/// A `shipstream-inventory mock` process serving the benchmarks' dataset.
struct MockProcess(xtask::process::MockProcess);

impl MockProcess {
    fn start(cli: &Path, products: u64, extra: &[&str]) -> Result<Self> {
        Self::start_with(cli, products, extra, Stdio::null())
    }

    fn start_with(cli: &Path, products: u64, extra: &[&str], stderr: Stdio) -> Result<Self> {
        let (seed, products) = (SEED.to_string(), products.to_string());
        let mut args = vec!["--token", TOKEN, "--seed", &seed, "--products", &products];
        args.extend_from_slice(extra);
        xtask::process::MockProcess::start(cli, &args, stderr).map(Self)
    }

    /// The number of levels the mock serves (`count=1`).
    fn count(&self) -> Result<u64> {
        self.page(&[("limit", "1"), ("count", "1")])?["meta"]["count"]
            .as_u64()
            .context("the mock's page has no meta.count")
    }

    /// The first level of `sort=product_id` whose product id is above `after` (from the
    /// first when `None`), as the mock sends it.
    fn level_after(&self, after: Option<i64>) -> Result<Value> {
        let filter = after.map(|id| format!("product_id{{gt:{id}}}"));
        let mut query = vec![("limit", "1"), ("sort", "product_id")];
        if let Some(f) = &filter {
            query.push(("filter", f));
        }
        let mut page = self.page(&query)?;
        Ok(page["collection"][0].take())
    }

    /// One page of levels with `query`, as JSON.
    fn page(&self, query: &[(&str, &str)]) -> Result<Value> {
        let url = url::Url::parse_with_params(&format!("{}{LEVELS_PATH}", self.0.url), query)?;
        Ok(serde_json::from_slice(&crate::fixtures::get(
            url.as_str(),
            TOKEN,
        )?)?)
    }
}

// ---------------------------------------------------------------------------------------
// Build cost

fn build(ctx: &Ctx) -> Result<(String, Vec<String>)> {
    let fresh = std::env::temp_dir().join(format!("xtask-bench-build-{}", std::process::id()));
    let _ = fs::remove_dir_all(&fresh);
    let cargo_build = || {
        let mut cmd = Command::new(&ctx.cargo);
        cmd.args([
            "build",
            "--locked",
            "--release",
            "-p",
            "shipstream-inventory",
        ])
        .env("CARGO_TARGET_DIR", &fresh)
        .current_dir(&ctx.root);
        cmd
    };
    let t = Instant::now();
    sh(&mut cargo_build())?;
    let clean = t.elapsed();
    // Touch openapi.yaml (its modification time only) and rebuild.
    let spec = fs::File::options()
        .append(true)
        .open(ctx.root.join("openapi.yaml"))?;
    spec.set_modified(std::time::SystemTime::now())?;
    drop(spec);
    let t = Instant::now();
    sh(&mut cargo_build())?;
    let rebuild = t.elapsed();
    let _ = fs::remove_dir_all(&fresh);
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut md = String::new();
    writeln!(
        md,
        "`cargo build --locked --release -p shipstream-inventory` in a fresh target directory \
         ({jobs} jobs, sources already downloaded), then again after touching `openapi.yaml` \
         (which reruns `crates/generated/build.rs`: progenitor generation and the generated \
         crate's compilation, then the facade).\n"
    )?;
    writeln!(
        md,
        "| build | wall time |\n| --- | --- |\n| clean | {:.0} s |\n| after touching `openapi.yaml` | {:.0} s |",
        clean.as_secs_f64(),
        rebuild.as_secs_f64()
    )?;
    Ok((
        md,
        vec![format!(
            "build: clean {:.0} s, after touching openapi.yaml {:.0} s (recorded)",
            clean.as_secs_f64(),
            rebuild.as_secs_f64()
        )],
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tables_are_markdown_and_estimates_show_their_interval() {
        let mut md = String::new();
        table(&mut md, &["a", "b"], [vec!["1".to_owned(), "2".to_owned()]]).unwrap();
        assert_eq!(md, "| a | b |\n| --- | --- |\n| 1 | 2 |\n");
        let e = Estimate {
            median: 1.5e6,
            lower: 1e6,
            upper: 2e6,
        };
        assert_eq!(e.with_ci(), "1.50 ms (1.00 ms – 2.00 ms)");
    }

    #[test]
    fn suites_are_chosen_by_only_and_quick() {
        let args = |only: &[&str], quick| Args {
            only: only.iter().map(|s| (*s).to_owned()).collect(),
            quick,
            no_write: true,
        };
        assert_eq!(selected(&args(&[], false)).unwrap().len(), SUITES.len());
        assert!(
            !selected(&args(&[], true))
                .unwrap()
                .contains(&"build".to_owned())
        );
        assert_eq!(
            selected(&args(&["mock", "decode"], true)).unwrap(),
            ["decode", "mock"]
        );
        assert!(selected(&args(&["nope"], false)).is_err());
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(fmt_ns(1_500_000.0), "1.50 ms");
    }
}
