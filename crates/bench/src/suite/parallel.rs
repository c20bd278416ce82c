//! The parallel suite: an export at the API's limits, sequential and `--parallel 5`, in
//! one run against mock processes that enforce the limits the issue names.

use super::*;

// This suite's settings, shared with the sync suite (bench.rs holds those every suite shares).
/// Requests a second, burst and concurrency the mock enforces.
pub(super) const RATE: u32 = 10;
pub(super) const BURST: u32 = 10;
pub(super) const CONCURRENT: u32 = 5;
/// Page size and time per page: 100 ms plus 0.4 ms per level = 500 ms per 1000 levels.
pub(super) const PAGE: u64 = 1000;
pub(super) const BASE_MS: f64 = 100.0;
pub(super) const PER_LEVEL_MS: f64 = 0.4;
/// Workers of the parallel export.
pub(super) const WORKERS: u32 = 5;
/// The fault soak's faults (`tests/tests/soak.rs`, `crates/cli/tests/soak_resume.rs`).
const SOAK_FAULTS: &str = "status=500|502|503:rate=0.1;status=429:rate=0.05:retry-after=0;drop:rate=0.02;truncate:rate=0.01";

/// One export against its own mock process.
pub(super) struct Run {
    pub(super) wall: Duration,
    /// What the export wrote.
    pub(super) bytes: Vec<u8>,
    /// `(admitted, refused with 429, refused with 409)` as the mock printed them (none
    /// from a mock without limits).
    pub(super) limits: (u64, u64, u64),
}

pub(super) fn limits_line(stderr: &str) -> Result<(u64, u64, u64)> {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("limits: "))
        .context("the mock printed no `limits:` line on shutdown")?;
    // "N requests admitted, N refused with 429 (rate), N refused with 409 (concurrency)"
    let count = |phrase: &str| -> Result<u64> {
        line.split(", ")
            .find(|part| part.contains(phrase))
            .and_then(|part| part.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("no `{phrase}` count in the limits line: {line}"))
    };
    Ok((count("admitted")?, count("with 429")?, count("with 409")?))
}

/// The mock's arguments that enforce the limits and the page time above.
pub(super) fn limited_mock_args() -> Vec<String> {
    [
        ("--rate-limit", RATE.to_string()),
        ("--burst", BURST.to_string()),
        ("--max-concurrent", CONCURRENT.to_string()),
        ("--latency", BASE_MS.to_string()),
        ("--latency-per-level", PER_LEVEL_MS.to_string()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value])
    .collect()
}

/// `levels --format ndjson --page-size {page}` with `extra` against a fresh `mock` process
/// of `products` products started with `mock_args`; `label` names its scratch files.
pub(super) fn export_run(
    ctx: &Ctx,
    cli: &Path,
    products: u64,
    page: u64,
    mock_args: &[&str],
    extra: &[&str],
    label: &str,
) -> Result<Run> {
    let id = format!("{label}-{}-{}", std::process::id(), extra.join("_"));
    let stderr_path = ctx.target.join(format!("bench-mock-{id}.txt"));
    let server = MockProcess::start_with(
        cli,
        products,
        mock_args,
        Stdio::from(fs::File::create(&stderr_path)?),
    )?;
    let out = ctx.target.join(format!("bench-{id}.ndjson"));
    let started = Instant::now();
    sh(Command::new(cli)
        .args(["levels", "--url", &server.0.url, "--format", "ndjson"])
        .args(["--page-size", &page.to_string(), "--output"])
        .arg(&out)
        .args(extra)
        .env("SHIPSTREAM_TOKEN", "bench-token"))?;
    let wall = started.elapsed();
    server.0.stop()?;
    let limited = mock_args.contains(&"--rate-limit");
    let limits = if limited {
        limits_line(&fs::read_to_string(&stderr_path)?)?
    } else {
        (0, 0, 0)
    };
    let bytes = fs::read(&out)?;
    let _ = fs::remove_file(&out);
    let _ = fs::remove_file(&stderr_path);
    Ok(Run {
        wall,
        bytes,
        limits,
    })
}

/// An export against the limited mock of this suite, with `faults` if any.
fn limited_export(ctx: &Ctx, cli: &Path, faults: Option<&str>, extra: &[&str]) -> Result<Run> {
    let limited = limited_mock_args();
    let mut args: Vec<&str> = limited.iter().map(String::as_str).collect();
    if let Some(f) = faults {
        args.extend(["--fault", f]);
    }
    export_run(ctx, cli, OPENAPI_PRODUCTS, PAGE, &args, extra, "parallel")
}

pub(super) fn parallel(ctx: &mut Ctx) -> Result<(String, Vec<String>)> {
    let cli = cli(ctx)?;
    let levels = MockProcess::start(&cli, OPENAPI_PRODUCTS, &[])?.count()?;
    let pages = levels.div_ceil(PAGE);
    let workers = WORKERS.to_string();
    println!("sequential export of {levels} levels ({pages} pages) ...");
    let seq = limited_export(ctx, &cli, None, &["--sort", "product_id"])?;
    println!("sequential: {:.1?}; parallel ...", seq.wall);
    let par = limited_export(ctx, &cli, None, &["--parallel", &workers])?;
    println!("parallel: {:.1?}; parallel under faults ...", par.wall);
    let soak = limited_export(ctx, &cli, Some(SOAK_FAULTS), &["--parallel", &workers])?;
    println!("parallel under faults: {:.1?}", soak.wall);

    let lines = seq.bytes.iter().filter(|b| **b == b'\n').count() as u64;
    if lines != levels {
        bail!("the sequential export wrote {lines} levels, the mock serves {levels}");
    }
    let same = par.bytes == seq.bytes;
    let soak_same = soak.bytes == seq.bytes;
    let secs = |d: Duration| d.as_secs_f64();
    let page_s = (BASE_MS + PER_LEVEL_MS * PAGE as f64) / 1000.0;
    let ideal = f64::max(
        pages as f64 / f64::from(CONCURRENT) * page_s,
        (pages as f64 - f64::from(BURST)) / f64::from(RATE),
    ) + page_s;
    let speedup = secs(seq.wall) / secs(par.wall);
    let of_ideal = secs(par.wall) / ideal;
    let refused = |r: &Run| {
        let (admitted, r429, r409) = r.limits;
        let all = admitted + r429 + r409;
        (
            r429 + r409,
            all,
            100.0 * (r429 + r409) as f64 / all.max(1) as f64,
        )
    };
    let (par_refused, par_all, par_pct) = refused(&par);
    let (soak_refused, soak_all, soak_pct) = refused(&soak);
    let (seq_refused, seq_all, _) = refused(&seq);

    let mut md = String::new();
    writeln!(
        md,
        "Release `shipstream-inventory levels --url URL --format ndjson --page-size {PAGE} \
         --output FILE`, sequential with `--sort product_id` and parallel with `--parallel \
         {WORKERS}`, each against its own `shipstream-inventory mock --products \
         {OPENAPI_PRODUCTS} --seed {SEED} --rate-limit {RATE} --burst {BURST} --max-concurrent \
         {CONCURRENT} --latency {BASE_MS} --latency-per-level {PER_LEVEL_MS}` process ({levels} \
         levels, {pages} pages; a page of {PAGE} takes {:.0} ms). The client runs with its \
         default limits (the spec's 10/s, burst 60, 5 at once, adaptive). Refusals are the \
         mock's own counters, printed when it stops. Ideal = max(pages / {CONCURRENT} x {page_s} \
         s, (pages - {BURST}) / {RATE} s) + {page_s} s = {ideal:.1} s.\n",
        page_s * 1000.0
    )?;
    writeln!(
        md,
        "| run | wall | requests (refused) | output |\n| --- | --- | --- | --- |"
    )?;
    writeln!(
        md,
        "| sequential | {:.1} s | {seq_all} ({seq_refused}) | reference |",
        secs(seq.wall)
    )?;
    writeln!(
        md,
        "| parallel {WORKERS} | {:.1} s | {par_all} ({par_refused}, {par_pct:.1} %) | {} |",
        secs(par.wall),
        if same { "identical bytes" } else { "DIFFERS" }
    )?;
    writeln!(
        md,
        "| parallel {WORKERS}, soak faults | {:.1} s | {soak_all} ({soak_refused}, \
         {soak_pct:.1} %) | {} |\n",
        secs(soak.wall),
        if soak_same {
            "identical bytes"
        } else {
            "DIFFERS"
        }
    )?;
    writeln!(
        md,
        "Parallel is {speedup:.2}x the sequential export (goal at least 4x) and {of_ideal:.2}x \
         the ideal (goal at most 1.25x); {par_pct:.1} % of its requests were refused (goal at \
         most 1 %). The soak run's faults (`{SOAK_FAULTS}`) are injected by the mock on top of \
         its limits; its refusal count is the limits' only.\n"
    )?;
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let verdicts = vec![
        format!(
            "parallel export: {speedup:.2}x sequential (goal >= 4x): {}",
            verdict(speedup >= 4.0)
        ),
        format!(
            "parallel export: {of_ideal:.2}x the ideal {ideal:.1} s (goal <= 1.25x): {}",
            verdict(of_ideal <= 1.25)
        ),
        format!(
            "parallel export: {par_pct:.1} % refused (goal <= 1 %): {}",
            verdict(par_pct <= 1.0)
        ),
        format!(
            "parallel export output: {} / under soak faults: {}",
            if same { "identical" } else { "DIFFERS" },
            if soak_same { "identical" } else { "DIFFERS" }
        ),
    ];
    if !same || !soak_same {
        bail!("a parallel export's output differs from the sequential one\n{md}");
    }
    Ok((md, verdicts))
}
