//! The polite suite: an export against limits the client is not told. The Global API
//! documents no limits, so the client's (the spec's guess: 10 a second, 5 at once) may be
//! far above the server's. Each run is a new user's `levels` export, sequential and
//! `--parallel 5`, against its own mock process that allows 3 requests a second (burst 3)
//! and 2 at once, or 1 a second (burst 1) and 1 at once, 200 ms a page, with the vendor's
//! rate-limit headers on every answer or none at all. 429 carries `Retry-After`, 409 does
//! not, as the vendor documents.

use super::limited::{Limits, Run};
use super::parallel;
use super::*;

/// Page size: the CLI's default.
const PAGE: u64 = 100;
/// Generated products: about 4,000 enabled levels, 40 pages of 100.
const PRODUCTS: u64 = 4_100;
/// Time per page.
const PAGE_MS: f64 = 200.0;
/// Workers of the parallel runs.
const WORKERS: u32 = 5;
/// Goals: refused share without and with headers, wall time against the ideal.
const GOAL_REFUSED_BLIND: f64 = 10.0;
const GOAL_REFUSED_TOLD: f64 = 2.0;
const GOAL_OF_IDEAL: f64 = 1.3;

const LIMITS: [Limits; 2] = [
    Limits {
        rate: 3,
        burst: 3,
        concurrent: 2,
        latency_ms: PAGE_MS,
        per_level_ms: 0.0,
    },
    Limits {
        rate: 1,
        burst: 1,
        concurrent: 1,
        latency_ms: PAGE_MS,
        per_level_ms: 0.0,
    },
];

/// An export against a fresh mock process started with `mock` (no limits when empty).
fn export(ctx: &Ctx, cli: &Path, mock: &[String], extra: &[&str]) -> Result<Run> {
    parallel::export_run(ctx, cli, PRODUCTS, PAGE, mock, extra, "polite")
}

/// The mock's arguments for `limits`, with or without the rate-limit headers.
fn mock_args(l: Limits, headers: bool) -> Vec<String> {
    let mut args = l.mock_args();
    if !headers {
        args.push("--no-limit-headers".to_owned());
    }
    args
}

/// The ideal time of an export of `pages` pages (what a correct export needs: the
/// reference's pages, whatever the run sent) with `workers` workers, and the run's wall
/// time over it: a client that sends more requests than it needs pays for them.
fn score(l: Limits, pages: u64, workers: u32, run: &Run) -> (f64, f64) {
    let ideal = l.ideal(pages, workers, PAGE);
    (ideal, run.wall.as_secs_f64() / ideal)
}

pub(super) fn polite(ctx: &mut Ctx) -> Result<(String, Vec<String>)> {
    let cli = cli(ctx)?;
    // The reference: a sequential export from an unlimited mock.
    let reference = export(ctx, &cli, &[], &["--sort", "product_id"])?;
    let levels = reference.stdout.iter().filter(|b| **b == b'\n').count() as u64;
    let pages = levels.div_ceil(PAGE);
    let page_s = PAGE_MS / 1000.0;

    let mut md = String::new();
    writeln!(
        md,
        "Release `shipstream-inventory levels --url URL --format ndjson --page-size {PAGE} \
         --output FILE`, sequential with `--sort product_id` and parallel with `--parallel \
         {WORKERS}`, with the client's default limits (the spec's guess: 10 a second, 5 at \
         once, adaptive). Each run has its own `shipstream-inventory mock --products \
         {PRODUCTS} --seed {SEED} --rate-limit R --burst B --max-concurrent C --latency \
         {PAGE_MS}` process ({levels} levels, {pages} pages of {PAGE}), with the vendor's \
         rate-limit headers on every answer (`RateLimit-Limit` a minute, \
         `RateLimit-Remaining`, `X-Concurrency-Limit`, `X-Concurrency-Current`) or none \
         (`--no-limit-headers`); 429 carries `Retry-After`, 409 does not. Requests and \
         refusals are the mock's own counters. Ideal = max(pages / min(C, workers) x \
         {page_s} s, (pages - B) / R s) + {page_s} s, for the {pages} pages a correct export \
         needs (a run that sends more requests, a parallel run's bounds and ranges or a \
         retry, pays for them). Output is compared with a sequential export from an \
         unlimited mock.\n"
    )?;
    writeln!(
        md,
        "| server | headers | run | wall | ideal | of ideal | requests | 429 | 409 | refused | \
         output |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )?;
    let mut verdicts = Vec::new();
    let mut differs = Vec::new();
    for l in LIMITS {
        for headers in [false, true] {
            let args = mock_args(l, headers);
            for (name, extra, workers) in [
                ("sequential", vec!["--sort", "product_id"], 1),
                ("parallel 5", vec!["--parallel", "5"], WORKERS),
            ] {
                println!(
                    "{}/s, burst {}, {} at once, {}: {name} ...",
                    l.rate,
                    l.burst,
                    l.concurrent,
                    if headers { "headers" } else { "no headers" }
                );
                let run = export(ctx, &cli, &args, &extra)?;
                let (r429, r409, all) = (run.counts.r429, run.counts.r409, run.counts.all());
                let refused = run.counts.refused_percent();
                let (ideal, of_ideal) = score(l, pages, workers, &run);
                let wall = run.wall.as_secs_f64();
                let same = run.stdout == reference.stdout;
                let server = format!("{}/s, burst {}, {} at once", l.rate, l.burst, l.concurrent);
                let told = if headers { "yes" } else { "no" };
                writeln!(
                    md,
                    "| {server} | {told} | {name} | {wall:.1} s | {ideal:.1} s | \
                     {of_ideal:.2}x | {all} | {r429} | {r409} | {refused:.1} % | {} |",
                    if same { "identical bytes" } else { "DIFFERS" }
                )?;
                let goal = if headers {
                    GOAL_REFUSED_TOLD
                } else {
                    GOAL_REFUSED_BLIND
                };
                verdicts.push(format!(
                    "polite, {server}, headers {told}, {name}: {refused:.1} % refused (goal <= \
                     {goal} %): {}; {of_ideal:.2}x the ideal {ideal:.1} s (goal <= \
                     {GOAL_OF_IDEAL}x): {}",
                    holds(refused <= goal),
                    holds(of_ideal <= GOAL_OF_IDEAL)
                ));
                if !same {
                    differs.push(format!("{server}, headers {told}, {name}"));
                }
            }
        }
    }
    writeln!(
        md,
        "\nGoals: at most {GOAL_REFUSED_BLIND} % of requests refused without headers, at most \
         {GOAL_REFUSED_TOLD} % with them, every run within {GOAL_OF_IDEAL}x of its ideal, \
         and the bytes of a sequential export.\n"
    )?;
    if !differs.is_empty() {
        bail!(
            "these exports' output differs from the sequential one: {}\n{md}",
            differs.join("; ")
        );
    }
    Ok((md, verdicts))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::limited::Counts;
    use super::*;

    fn run(wall_s: f64, admitted: u64) -> Run {
        Run {
            wall: Duration::from_secs_f64(wall_s),
            stdout: Vec::new(),
            stderr: String::new(),
            counts: Counts {
                admitted,
                ..Counts::default()
            },
        }
    }

    #[test]
    fn extra_requests_do_not_raise_their_own_ideal() {
        let l = LIMITS[1];
        // 40 pages at 1 a second (burst 1): (40 - 1) / 1 + 0.2 = 39.2 s.
        let (ideal, of) = score(l, 40, 1, &run(39.2, 40));
        assert!((ideal - 39.2).abs() < 1e-9 && (of - 1.0).abs() < 1e-9);
        // A client that sends every request twice takes twice as long: its ideal stays that
        // of the 40 pages it needed, so it scores 2x and misses the goal.
        let (ideal, of) = score(l, 40, 1, &run(2.0 * 39.2, 80));
        assert!((ideal - 39.2).abs() < 1e-9, "ideal {ideal}");
        assert!(of > GOAL_OF_IDEAL, "scored {of:.2}x");
    }
}
