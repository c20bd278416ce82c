//! The parallel suite: an export at the API's limits, sequential and `--parallel 5`, in
//! one run against mock processes that enforce the limits the issue names.

use super::limited::{Limits, Run, against_mock};
use super::*;

// This suite's settings, shared with the sync suite (suite.rs holds those every suite shares).
/// The limits and page time the mock enforces: 10 requests a second (burst 10), 5 at
/// once, 100 ms plus 0.4 ms per level = 500 ms per page of 1000.
pub(super) const LIMITS: Limits = Limits {
    rate: 10,
    burst: 10,
    concurrent: 5,
    latency_ms: 100.0,
    per_level_ms: 0.4,
};
/// Page size.
pub(super) const PAGE: u64 = 1000;
/// Workers of the parallel export.
pub(super) const WORKERS: u32 = 5;
/// The fault soak's faults (`tests/tests/soak.rs`, `crates/cli/tests/soak_resume.rs`).
const SOAK_FAULTS: &str = "status=500|502|503:rate=0.1;status=429:rate=0.05:retry-after=0;drop:rate=0.02;truncate:rate=0.01";

/// `levels --format ndjson --page-size {page}` with `extra` against a fresh `mock` process
/// of `products` products started with `mock_args`; `label` names its scratch files. The
/// run's stdout holds what the export wrote.
pub(super) fn export_run(
    ctx: &Ctx,
    cli: &Path,
    products: u64,
    page: u64,
    mock_args: &[String],
    extra: &[&str],
    label: &str,
) -> Result<Run> {
    let id = format!("{label}-{}", extra.join("_"));
    let file = ctx
        .target
        .join(format!("bench-{id}-{}.ndjson", std::process::id()));
    let mut run = against_mock(ctx, cli, products, mock_args, &id, |cmd, url| {
        cmd.args(["levels", "--url", url, "--format", "ndjson", "--page-size"])
            .args([page.to_string().as_str(), "--output"])
            .arg(&file)
            .args(extra);
    })?;
    run.stdout = fs::read(&file)?;
    let _ = fs::remove_file(&file);
    Ok(run)
}

/// An export against the limited mock of this suite, with `faults` if any.
fn limited_export(ctx: &Ctx, cli: &Path, faults: Option<&str>, extra: &[&str]) -> Result<Run> {
    let mut args = LIMITS.mock_args();
    if let Some(f) = faults {
        args.extend(["--fault".to_owned(), f.to_owned()]);
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

    let lines = seq.stdout.iter().filter(|b| **b == b'\n').count() as u64;
    if lines != levels {
        bail!("the sequential export wrote {lines} levels, the mock serves {levels}");
    }
    let same = par.stdout == seq.stdout;
    let soak_same = soak.stdout == seq.stdout;
    let secs = |d: Duration| d.as_secs_f64();
    let page_s = LIMITS.page_s(PAGE);
    let ideal = LIMITS.ideal(pages, WORKERS, PAGE);
    let speedup = secs(seq.wall) / secs(par.wall);
    let of_ideal = secs(par.wall) / ideal;
    let refused = |r: &Run| {
        (
            r.counts.refused(),
            r.counts.all(),
            r.counts.refused_percent(),
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
         {OPENAPI_PRODUCTS} --seed {SEED} {}` process ({levels} \
         levels, {pages} pages; a page of {PAGE} takes {:.0} ms). The client runs with its \
         default limits (the spec's 10/s, burst 60, 5 at once, adaptive). Refusals are the \
         mock's own counters, printed when it stops. Ideal = max(pages / {} x {page_s} s, \
         (pages - {}) / {} s) + {page_s} s = {ideal:.1} s.\n",
        LIMITS.mock_args().join(" "),
        page_s * 1000.0,
        LIMITS.concurrent,
        LIMITS.burst,
        LIMITS.rate
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
    let verdicts = vec![
        format!(
            "parallel export: {speedup:.2}x sequential (goal >= 4x): {}",
            holds(speedup >= 4.0)
        ),
        format!(
            "parallel export: {of_ideal:.2}x the ideal {ideal:.1} s (goal <= 1.25x): {}",
            holds(of_ideal <= 1.25)
        ),
        format!(
            "parallel export: {par_pct:.1} % refused (goal <= 1 %): {}",
            holds(par_pct <= 1.0)
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
