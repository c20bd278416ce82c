//! `cargo xtask bench`: runs the benchmarks and writes `BENCHMARKS.md`.
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
//! - `memory`: peak RSS of the release `shipstream-inventory levels --format ndjson`
//!   exporting 100,000 and 1,000,000 levels from a mock process to /dev/null;
//! - `prefetch`: criterion bench `prefetch` (20 ms latency, 20 ms work per page);
//! - `mock`: criterion bench `mock` (pages per second the mock serves);
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

use crate::{run as sh, step, tools};

/// Every suite, in the order they run and appear.
pub const SUITES: &[&str] = &[
    "decode",
    "export",
    "openapi-generator",
    "memory",
    "prefetch",
    "mock",
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
/// Dataset seed (as `shipstream_inventory_bench::SEED`).
const SEED: u64 = 8;

/// `cargo xtask bench` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Run only these suites (comma-separated): decode, export, openapi-generator, memory,
    /// prefetch, mock, build.
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
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"));
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
                "memory" => memory(&mut ctx)?,
                "prefetch" => prefetch(&ctx)?,
                "mock" => mock(&ctx)?,
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
        println!("\nxtask bench: wrote {}", crate::display_path(&path));
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
    let times = |key: &str| -> Result<Vec<f64>> {
        v[key]
            .as_array()
            .with_context(|| format!("no `{key}` in {}", path.display()))?
            .iter()
            .map(|t| t.as_f64().context("not a number"))
            .collect()
    };
    let ratios: Vec<f64> = times("a")?
        .iter()
        .zip(times("b")?)
        .map(|(a, b)| a / b)
        .collect();
    if ratios.is_empty() {
        bail!("no rounds in {}", path.display());
    }
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(0.0, f64::max);
    Ok(Pair {
        rounds: ratios.len(),
        ratio: median(ratios),
        low,
        high,
    })
}

fn decode(ctx: &Ctx) -> Result<(String, Vec<String>)> {
    let home = criterion(ctx, "decode")?;
    let ids = [
        (
            "facade",
            "facade: `Page::from_json` (generated types, open enums, products by id)",
        ),
        (
            "generated",
            "generated types alone: `serde_json::from_slice::<TotalLevelsPage>`",
        ),
        (
            "minimal",
            "minimal hand-written struct, every field (`minimal::Page`)",
        ),
        (
            "minimal_subset",
            "minimal hand-written struct, sync fields only (`minimal::SyncPage`)",
        ),
        ("value", "`serde_json::Value`"),
    ];
    let bytes = fs::read_to_string(home.join("decode/facade/new/benchmark.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["throughput"]["Bytes"].as_f64())
        .unwrap_or(0.0);
    let est: BTreeMap<&str, Estimate> = ids
        .iter()
        .map(|(id, _)| Ok((*id, estimate(&home, "decode", id)?)))
        .collect::<Result<_>>()?;
    let base = est["minimal"].median;
    let mut md = String::new();
    writeln!(
        md,
        "One page of 1000 levels and their 1000 included products ({:.2} MB of JSON, \
         `fields:product=all`, served by the mock), decoded from memory.\n",
        bytes / 1e6
    )?;
    writeln!(
        md,
        "| decoder | median (95 % CI) | MB/s | × minimal |\n| --- | --- | --- | --- |"
    )?;
    for (id, label) in ids {
        let e = est[id];
        writeln!(
            md,
            "| {label} | {} ({} – {}) | {:.0} | {:.2} |",
            fmt_ns(e.median),
            fmt_ns(e.lower),
            fmt_ns(e.upper),
            bytes / (e.median / 1e9) / 1e6,
            e.median / base
        )?;
    }
    writeln!(
        md,
        "\nAn export's page (1000 levels, no products):\n\n| decoder | median (95 % CI) | × minimal |\n| --- | --- | --- |"
    )?;
    let levels_base = estimate(&home, "decode_levels", "minimal")?.median;
    for (id, label) in [
        ("facade", "facade: `Page::from_json`"),
        ("generated", "generated types alone"),
        ("minimal", "minimal hand-written struct"),
    ] {
        let e = estimate(&home, "decode_levels", id)?;
        writeln!(
            md,
            "| {label} | {} ({} – {}) | {:.2} |",
            fmt_ns(e.median),
            fmt_ns(e.lower),
            fmt_ns(e.upper),
            e.median / levels_base
        )?;
    }
    let p = pair(ctx, "decode")?;
    let ratio = p.ratio;
    let verdict = format!(
        "decode: facade {ratio:.2}× the minimal struct's time (target ≤ 1.30×): {}",
        holds(ratio <= 1.3)
    );
    writeln!(
        md,
        "\n**Target** facade ≤ 1.3× minimal: {ratio:.2}×, {} (side by side: the median of \
         {} alternating rounds of 5 decodes each, rounds from {:.2}× to {:.2}×; the tables \
         above measure one decoder after the other and drift with the machine).",
        holds(ratio <= 1.3),
        p.rounds,
        p.low,
        p.high
    )?;
    Ok((md, vec![verdict]))
}

fn export(ctx: &Ctx) -> Result<(String, Vec<String>)> {
    let home = criterion(ctx, "export")?;
    let ids = [
        ("facade", "facade `items()`"),
        ("facade_pages", "facade `pages()` + `page.levels()`"),
        ("handwritten", "hand-written reqwest + serde_json loop"),
        (
            "generated",
            "raw generated client (`cursor_start` parsed from `next`)",
        ),
    ];
    let est: BTreeMap<&str, Estimate> = ids
        .iter()
        .map(|(id, _)| Ok((*id, estimate(&home, "export", id)?)))
        .collect::<Result<_>>()?;
    let base = est["handwritten"].median;
    let mut md = String::new();
    writeln!(
        md,
        "{EXPORT_LEVELS} levels (pages of 1000, `sort=product_id`) from the mock on its own \
         thread and runtime, over loopback, written as NDJSON into a counting 64 KiB-buffered \
         sink. Every peer writes byte-identical output (`cargo test -p {PACKAGE}` checks it).\n"
    )?;
    writeln!(
        md,
        "| client | median (95 % CI) | levels/s | throughput × hand-written |\n| --- | --- | --- | --- |"
    )?;
    for (id, label) in ids {
        let e = est[id];
        writeln!(
            md,
            "| {label} | {} ({} – {}) | {:.0} | {:.2} |",
            fmt_ns(e.median),
            fmt_ns(e.lower),
            fmt_ns(e.upper),
            EXPORT_LEVELS as f64 / (e.median / 1e9),
            base / e.median
        )?;
    }
    let p = pair(ctx, "export")?;
    // Throughput ratio = time(hand-written) / time(facade).
    let ratio = 1.0 / p.ratio;
    writeln!(
        md,
        "\n**Target** facade throughput ≥ 0.95× hand-written: {ratio:.2}×, {} (side by side: \
         the median of {} alternating rounds of one export each, rounds from {:.2}× to \
         {:.2}×).",
        holds(ratio >= 0.95),
        p.rounds,
        1.0 / p.high,
        1.0 / p.low
    )?;
    Ok((
        md,
        vec![format!(
            "export: facade throughput {ratio:.2}× the hand-written loop's (target ≥ 0.95×): {}",
            holds(ratio >= 0.95)
        )],
    ))
}

fn prefetch(ctx: &Ctx) -> Result<(String, Vec<String>)> {
    let home = criterion(ctx, "prefetch")?;
    let off = estimate(&home, "prefetch", "off")?;
    let on = estimate(&home, "prefetch", "on")?;
    let chain = estimate(&home, "prefetch", "fetch_only")?;
    let fast = estimate(&home, "prefetch", "fetch_only_no_latency")?;
    let p = pair(ctx, "prefetch")?;
    let ratio = p.ratio;
    // N pages, L latency, W work: off ≈ N(L + W), on ≈ N·L + W.
    let (n, l, w) = (20.0, 20.0, 20.0);
    let ideal = n * (l + w) / (n * l + w);
    let mut md = String::new();
    writeln!(
        md,
        "20 pages of 1000 levels; the mock delays every response by 20 ms (`latency=20ms`) \
         and the consumer awaits `tokio::time::sleep(20 ms)` after each page. The \
         `fetch_only` rows walk the same pages without work and without prefetch: with the \
         latency that is the chain of requests prefetch cannot shorten (each page's cursor \
         comes in the previous page's body); without it, what transfer and decoding cost.\n"
    )?;
    writeln!(
        md,
        "| run | median (95 % CI) | per page |\n| --- | --- | --- |"
    )?;
    for (label, e) in [
        ("prefetch off", off),
        ("prefetch on", on),
        ("fetch_only (no work, no prefetch)", chain),
        ("fetch_only, mock without latency", fast),
    ] {
        writeln!(
            md,
            "| {label} | {} ({} – {}) | {} |",
            fmt_ns(e.median),
            fmt_ns(e.lower),
            fmt_ns(e.upper),
            fmt_ns(e.median / n),
        )?;
    }
    let latency = (chain.median - fast.median) / n;
    writeln!(
        md,
        "\n**Target** ≥ 1.8× faster with prefetch: {ratio:.2}×, {} (side by side: the median \
         of {} alternating rounds, from {:.2}× to {:.2}×). With free transfer and decoding \
         and an exact timer it would be N(L+W)/(N·L+W) = {ideal:.2}×; here a page takes {} \
         to transfer and decode, and the injected 20 ms take {} (tokio's timer has 1 ms \
         ticks).",
        holds(ratio >= 1.8),
        p.rounds,
        p.low,
        p.high,
        fmt_ns(fast.median / n),
        fmt_ns(latency),
    )?;
    Ok((
        md,
        vec![format!(
            "prefetch: {ratio:.2}× faster with prefetch (target ≥ 1.8×): {}",
            holds(ratio >= 1.8)
        )],
    ))
}

fn mock(ctx: &Ctx) -> Result<(String, Vec<String>)> {
    let home = criterion(ctx, "mock")?;
    let ids = [
        ("product_id", "`sort=product_id`"),
        ("sku_desc", "`sort=-sku`"),
        ("updated_at_desc", "`sort=-updated_at`"),
        (
            "product_id_products_all",
            "`sort=product_id&fields:product=all`",
        ),
    ];
    let mut md = String::new();
    writeln!(
        md,
        "Pages of 1000 levels of a {EXPORT_LEVELS}-level dataset, every page of the export in \
         turn, fetched one at a time over loopback by a bare reqwest client that reads the \
         body without decoding it (so the client's HTTP work is included: a lower bound).\n"
    )?;
    writeln!(
        md,
        "| query | median per page | pages/s | levels/s |\n| --- | --- | --- | --- |"
    )?;
    let mut slowest = f64::INFINITY;
    for (id, label) in ids {
        let e = estimate(&home, "mock", id)?;
        let pps = 1e9 / e.median;
        if id != "product_id_products_all" {
            slowest = slowest.min(pps);
        }
        writeln!(
            md,
            "| {label} | {} | {pps:.0} | {:.0} |",
            fmt_ns(e.median),
            pps * 1000.0
        )?;
    }
    writeln!(
        md,
        "\nThe slowest plain sort serves {slowest:.0} pages/s = {:.0} levels/s; compare the \
         clients' export rates above.",
        slowest * 1000.0
    )?;
    Ok((
        md,
        vec![format!(
            "mock: at least {slowest:.0} pages/s of 1000 levels (informational)"
        )],
    ))
}

// ---------------------------------------------------------------------------------------
// Processes: the release CLI and a mock process

fn cli(ctx: &mut Ctx) -> Result<PathBuf> {
    if let Some(path) = &ctx.cli {
        return Ok(path.clone());
    }
    sh(Command::new(&ctx.cargo)
        .args([
            "build",
            "--locked",
            "--release",
            "-p",
            "shipstream-inventory-cli",
        ])
        .current_dir(&ctx.root))?;
    let path = ctx.target.join("release").join("shipstream-inventory");
    if !path.exists() {
        bail!("the release CLI is not at {}", path.display());
    }
    ctx.cli = Some(path.clone());
    Ok(path)
}

/// A `shipstream-inventory mock` process serving the benchmarks' dataset.
struct MockProcess(crate::process::MockProcess);

impl MockProcess {
    fn start(cli: &Path, products: u64, extra: &[&str]) -> Result<Self> {
        let (seed, products) = (SEED.to_string(), products.to_string());
        let mut args = vec![
            "--token",
            "bench-token",
            "--seed",
            &seed,
            "--products",
            &products,
        ];
        args.extend_from_slice(extra);
        crate::process::MockProcess::start(cli, &args, Stdio::null()).map(Self)
    }

    /// The number of levels the mock serves (`count=1`).
    fn count(&self) -> Result<u64> {
        let url = format!(
            "{}/api/global/v1/inventory/levels/total?limit=1&count=1",
            self.0.url
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let body: Value = runtime.block_on(async {
            reqwest::Client::new()
                .get(&url)
                .bearer_auth("bench-token")
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        })?;
        body["meta"]["count"]
            .as_u64()
            .context("the mock's page has no meta.count")
    }
}

// ---------------------------------------------------------------------------------------
// Memory

struct Peak {
    rss_kib: u64,
    wall: Duration,
    how: &'static str,
}

/// Runs `cmd` with stdout to /dev/null and returns its peak RSS.
fn peak_rss(mut cmd: Command) -> Result<Peak> {
    cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
    let time = Path::new("/usr/bin/time");
    let started = Instant::now();
    if time.exists() {
        let report = std::env::temp_dir().join(format!("xtask-bench-time-{}", std::process::id()));
        let mut timed = Command::new(time);
        timed
            .arg("-v")
            .arg("-o")
            .arg(&report)
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .stdout(Stdio::null());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => timed.env(k, v),
                None => timed.env_remove(k),
            };
        }
        sh(&mut timed)?;
        let wall = started.elapsed();
        let text = fs::read_to_string(&report)?;
        let _ = fs::remove_file(&report);
        let rss_kib = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
            .and_then(|v| v.trim().parse().ok())
            .context("/usr/bin/time -v reported no maximum resident set size")?;
        return Ok(Peak {
            rss_kib,
            wall,
            how: "/usr/bin/time -v",
        });
    }
    // No GNU time: sample VmHWM (the kernel's high-water mark) until the process exits.
    let mut child = cmd.spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut hwm = 0;
    loop {
        if let Ok(text) = fs::read_to_string(&status_path)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            hwm = hwm.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!("the export exited with {status}");
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Peak {
        rss_kib: hwm,
        wall: started.elapsed(),
        how: "VmHWM from /proc/PID/status, sampled every 20 ms",
    })
}

fn memory(ctx: &mut Ctx) -> Result<(String, Vec<String>)> {
    let cli = cli(ctx)?;
    let server = MockProcess::start(&cli, MEMORY_PRODUCTS, &[])?;
    let served = server.count()?;
    if served < MEMORY_LEVELS {
        bail!("the mock serves only {served} levels; raise MEMORY_PRODUCTS");
    }
    let mut rows = Vec::new();
    for levels in [EXPORT_LEVELS, MEMORY_LEVELS] {
        let mut cmd = Command::new(&cli);
        cmd.args([
            "levels",
            "--url",
            &server.0.url,
            "--format",
            "ndjson",
            "--page-size",
            "1000",
            "--sort",
            "product_id",
            "--max-items",
            &levels.to_string(),
        ])
        .env("SHIPSTREAM_TOKEN", "bench-token");
        let peak = peak_rss(cmd)?;
        println!(
            "{levels} levels: peak RSS {:.1} MiB in {:.1?}",
            peak.rss_kib as f64 / 1024.0,
            peak.wall
        );
        rows.push((levels, peak));
    }
    let mib = |p: &Peak| p.rss_kib as f64 / 1024.0;
    let (small, large) = (mib(&rows[0].1), mib(&rows[1].1));
    let flat = large <= small * 1.10 + 1.0;
    let under = large <= MEMORY_TARGET_MIB;
    let mut md = String::new();
    writeln!(
        md,
        "Release `shipstream-inventory levels --url URL --format ndjson --page-size 1000 --sort \
         product_id --max-items N > /dev/null` (prefetch on, as the CLI always runs) against \
         `shipstream-inventory mock --products {MEMORY_PRODUCTS} --seed {SEED}` in another \
         process (it serves {served} levels). Peak RSS from {}.\n",
        rows[0].1.how
    )?;
    writeln!(
        md,
        "| levels | peak RSS | wall time | levels/s |\n| --- | --- | --- | --- |"
    )?;
    for (levels, peak) in &rows {
        writeln!(
            md,
            "| {levels} | {:.1} MiB | {:.2} s | {:.0} |",
            mib(peak),
            peak.wall.as_secs_f64(),
            *levels as f64 / peak.wall.as_secs_f64()
        )?;
    }
    writeln!(
        md,
        "\n**Target** ≤ {MEMORY_TARGET_MIB:.0} MiB at 1M: {large:.1} MiB, {}. **Flat** \
         (1M within 10 % + 1 MiB of 100k): {:+.1} MiB, {}.",
        holds(under),
        large - small,
        holds(flat)
    )?;
    Ok((
        md,
        vec![
            format!(
                "memory: {large:.1} MiB peak RSS at 1M levels (target ≤ 64 MiB): {}",
                holds(under)
            ),
            format!(
                "memory: {small:.1} MiB at 100k vs {large:.1} MiB at 1M (flat): {}",
                holds(flat)
            ),
        ],
    ))
}

// ---------------------------------------------------------------------------------------
// openapi-generator

fn openapi_generator(ctx: &mut Ctx) -> Result<(String, Vec<String>)> {
    let tools = tools::Tools::ensure(&ctx.root)?;
    let version = tools::PIP_PACKAGES
        .iter()
        .find(|(n, _)| *n == "openapi-generator-cli")
        .map(|(_, v)| *v)
        .unwrap_or("?");
    let dir = ctx.root.join("target").join("openapi-generator-client");
    let client_dir = dir.join("client");
    let runner_dir = dir.join("runner");
    let _ = fs::remove_dir_all(&client_dir);
    fs::create_dir_all(runner_dir.join("src"))?;
    let generator = tools.venv_bin("openapi-generator-cli");
    let additional = "library=reqwest,supportAsync=true,packageName=shipstream-openapi-client,\
                      packageVersion=0.1.0";
    sh(Command::new(&generator)
        .arg("generate")
        .args(["-g", "rust", "-i"])
        .arg(ctx.root.join("openapi.yaml"))
        .arg("-o")
        .arg(&client_dir)
        .arg(format!("--additional-properties={additional}"))
        .stdout(Stdio::null()))
    .context("openapi-generator-cli failed (it needs Java 11 or newer on PATH)")?;
    fs::write(
        dir.join("Cargo.toml"),
        "# Written by `cargo xtask bench`; not part of the workspace.\n\
         [workspace]\nresolver = \"2\"\nmembers = [\"client\", \"runner\"]\n",
    )?;
    fs::write(
        runner_dir.join("Cargo.toml"),
        r#"[package]
name = "openapi-generator-runner"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
shipstream-openapi-client = { path = "../client", default-features = false, features = ["rustls"] }
reqwest = { version = "0.13", default-features = false, features = ["rustls", "json"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
chrono = { version = "0.4", features = ["serde"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros", "time"] }
"#,
    )?;
    fs::copy(
        ctx.root.join("crates/bench/openapi-generator/runner.rs"),
        runner_dir.join("src/main.rs"),
    )?;
    let runner_target = ctx.target.join("openapi-generator-client");
    sh(Command::new(&ctx.cargo)
        .args(["build", "--release", "-p", "openapi-generator-runner"])
        .env("CARGO_TARGET_DIR", &runner_target)
        .current_dir(&dir))?;
    let runner = runner_target
        .join("release")
        .join("openapi-generator-runner");

    let cli = cli(ctx)?;
    let server = MockProcess::start(&cli, OPENAPI_PRODUCTS, &[])?;
    let rounds = if ctx.quick { 3 } else { 10 };
    let out = Command::new(&runner)
        .arg(&server.0.url)
        .arg("bench-token")
        .arg(rounds.to_string())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", runner.display()))?;
    if !out.status.success() {
        bail!("the openapi-generator runner exited with {}", out.status);
    }
    let v: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "the runner printed no JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let levels = v["levels"].as_f64().context("no levels")?;
    let times = |key: &str| -> Result<Vec<f64>> {
        v[key]
            .as_array()
            .context("no times")?
            .iter()
            .map(|t| t.as_f64().context("not a number"))
            .collect()
    };
    let generated = median(times("openapi_generator_s")?);
    let handwritten = median(times("handwritten_s")?);
    let ratio = handwritten / generated;
    let mut md = String::new();
    writeln!(
        md,
        "openapi-generator {version} (`generate -g rust --additional-properties={additional}`), \
         built with rustls as a separate cargo project under `target/openapi-generator-client/` \
         with the runner in `crates/bench/openapi-generator/runner.rs`. It exports {levels:.0} \
         levels from `shipstream-inventory mock --products {OPENAPI_PRODUCTS}` (another process), \
         alternating {rounds} rounds with a hand-written loop built with the same reqwest in the \
         same process. Its `list_total_inventory_levels` takes no `next` URI, so the runner \
         passes `cursor_start` read from `next`. The runner checks that it exports as many \
         levels as the others (not their values: its models order keys differently).\n"
    )?;
    writeln!(
        md,
        "| client | median | levels/s | throughput × hand-written |\n| --- | --- | --- | --- |\n\
         | openapi-generator `rust` (reqwest, async) | {:.3} s | {:.0} | {ratio:.2} |\n\
         | hand-written reqwest + serde_json loop | {:.3} s | {:.0} | 1.00 |",
        generated,
        levels / generated,
        handwritten,
        levels / handwritten
    )?;
    Ok((
        md,
        vec![format!(
            "openapi-generator: throughput {ratio:.2}× the hand-written loop's (informational)"
        )],
    ))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
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

// ---------------------------------------------------------------------------------------
// The machine and the document

fn machine(ctx: &Ctx, args: &Args) -> Result<String> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem_gib = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let output = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let kernel = output("uname", &["-sr"]);
    let rustc = output("rustc", &["--version"]);
    let mut command = "cargo xtask bench".to_owned();
    if !args.only.is_empty() {
        write!(command, " --only {}", args.only.join(","))?;
    }
    if args.quick {
        command.push_str(" --quick");
    }
    Ok(format!(
        "| | |\n| --- | --- |\n| CPU | {cpu}, {cores} cores |\n| memory | {mem_gib:.0} GiB |\n\
         | OS | {kernel} |\n| Rust | {rustc} |\n| profile | release (`cargo bench`), target dir \
         `{}` |\n| last command | `{command}` ({}) |\n",
        crate::display_path(&ctx.target),
        now_utc()
    ))
}

const START: &str = "<!-- bench:";
const END: &str = "<!-- /bench:";

/// Replaces each suite's section (`<!-- bench:NAME -->` ... `<!-- /bench:NAME -->`) and
/// appends the sections the document lacks.
pub fn update_markdown(path: &Path, sections: &[(String, String)]) -> Result<()> {
    let mut doc = fs::read_to_string(path).unwrap_or_else(|_| {
        "# Benchmarks\n\nWritten by `cargo xtask bench`; see `xtask/src/bench.rs`.\n".to_owned()
    });
    for (name, body) in sections {
        let start = format!("{START}{name} -->");
        let end = format!("{END}{name} -->");
        let block = format!("{start}\n{}\n{end}", body.trim_end());
        match (doc.find(&start), doc.find(&end)) {
            (Some(s), Some(e)) if e > s => doc.replace_range(s..e + end.len(), &block),
            _ => {
                if !doc.ends_with('\n') {
                    doc.push('\n');
                }
                write!(doc, "\n## {name}\n\n{block}\n")?;
            }
        }
    }
    fs::write(path, doc)?;
    Ok(())
}

fn holds(ok: bool) -> &'static str {
    if ok { "holds" } else { "MISSED" }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

pub(crate) fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

pub(crate) fn git_head(root: &Path) -> String {
    let out = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let head = out(&["rev-parse", "--short", "HEAD"]);
    let dirty = !out(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    format!(
        "commit {head}{}",
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sections_are_replaced_in_place_and_appended_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("B.md");
        fs::write(
            &path,
            "# B\n\nintro\n\n<!-- bench:decode -->\nold\n<!-- /bench:decode -->\n\nhistory\n",
        )
        .unwrap();
        update_markdown(
            &path,
            &[
                ("decode".into(), "new\n".into()),
                ("mock".into(), "m".into()),
            ],
        )
        .unwrap();
        let doc = fs::read_to_string(&path).unwrap();
        assert!(doc.contains("<!-- bench:decode -->\nnew\n<!-- /bench:decode -->\n\nhistory"));
        assert!(!doc.contains("old"));
        assert!(doc.ends_with("## mock\n\n<!-- bench:mock -->\nm\n<!-- /bench:mock -->\n"));
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
