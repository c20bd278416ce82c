//! The sync suite: `shipstream-inventory sync` at the API's limits, the whole key space
//! walked sequentially and with `--parallel 5`: a first sync (the full load) and a
//! reconciling sync of the mirror it made, each against its own mock process enforcing
//! the parallel suite's limits (10/s, burst 10, 5 at once, 500 ms a page of 1,000).

use super::*;

struct Run {
    wall: Duration,
    /// `(admitted, refused with 429, refused with 409)` as the mock printed them.
    limits: (u64, u64, u64),
    /// The run's summary line (`... N upserted, M deleted, ...`).
    summary: String,
}

/// One `sync` into `db` against a fresh mock process.
fn sync(ctx: &Ctx, cli: &Path, db: &Path, extra: &[&str]) -> Result<Run> {
    let stderr_path = ctx
        .target
        .join(format!("bench-sync-mock-{}.txt", std::process::id()));
    let limited = limited_mock_args();
    let args: Vec<&str> = limited.iter().map(String::as_str).collect();
    let server = MockProcess::start_with(
        cli,
        OPENAPI_PRODUCTS,
        &args,
        Stdio::from(fs::File::create(&stderr_path)?),
    )?;
    let started = Instant::now();
    let out = Command::new(cli)
        .args([
            "sync",
            "--url",
            &server.0.url,
            "--page-size",
            &PAGE.to_string(),
        ])
        .arg("--db")
        .arg(db)
        .args(extra)
        .env("SHIPSTREAM_TOKEN", "bench-token")
        .output()?;
    let wall = started.elapsed();
    server.0.stop()?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        bail!("sync {extra:?} failed ({}): {stderr}", out.status);
    }
    let summary = stderr
        .lines()
        .find(|l| l.contains(" upserted, "))
        .context("sync printed no summary line")?
        .to_owned();
    let limits = limits_line(&fs::read_to_string(&stderr_path)?)?;
    let _ = fs::remove_file(&stderr_path);
    Ok(Run {
        wall,
        limits,
        summary,
    })
}

/// The number before `word` in a summary line (`103100 upserted`).
fn count_before(line: &str, word: &str) -> Option<u64> {
    let words: Vec<&str> = line
        .split([' ', ',', ':'])
        .filter(|w| !w.is_empty())
        .collect();
    let at = words.iter().position(|w| *w == word)?;
    words.get(at.checked_sub(1)?)?.parse().ok()
}

pub(super) fn sync_suite(ctx: &mut Ctx) -> Result<(String, Vec<String>)> {
    let cli = cli(ctx)?;
    let dir = ctx
        .target
        .join(format!("bench-sync-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let (seq_db, par_db) = (dir.join("sequential.sqlite"), dir.join("parallel.sqlite"));
    let workers = WORKERS.to_string();
    let par = ["--parallel", workers.as_str()];
    println!("first sync, sequential ...");
    let seq_full = sync(ctx, &cli, &seq_db, &[])?;
    println!(
        "{:.1?}; first sync, --parallel {WORKERS} ...",
        seq_full.wall
    );
    let par_full = sync(ctx, &cli, &par_db, &par)?;
    println!("{:.1?}; reconciling sync, sequential ...", par_full.wall);
    let seq_rec = sync(ctx, &cli, &seq_db, &["--reconcile"])?;
    println!(
        "{:.1?}; reconciling sync, --parallel {WORKERS} ...",
        seq_rec.wall
    );
    let par_rec = sync(ctx, &cli, &par_db, &["--reconcile", par[0], par[1]])?;
    println!("{:.1?}", par_rec.wall);
    let levels = count_before(&seq_full.summary, "upserted").context("no upserted count")?;
    for run in [&par_full, &seq_rec, &par_rec] {
        if !run.summary.contains(" 0 deleted") {
            bail!(
                "a sync of an unchanged dataset deleted rows: {}",
                run.summary
            );
        }
    }
    if count_before(&par_full.summary, "upserted") != Some(levels) {
        bail!(
            "the parallel first sync wrote other levels than the sequential one: {} / {}",
            par_full.summary,
            seq_full.summary
        );
    }
    if !seq_rec.summary.contains("reconciliation") || !par_rec.summary.contains("reconciliation") {
        bail!("a --reconcile run did not reconcile: {}", seq_rec.summary);
    }
    let _ = fs::remove_dir_all(&dir);

    let pages = levels.div_ceil(PAGE);
    let secs = |d: Duration| d.as_secs_f64();
    let page_s = (BASE_MS + PER_LEVEL_MS * PAGE as f64) / 1000.0;
    // The limits' ideal for `requests` pages of `page_s` each, as the parallel suite's.
    let ideal = |requests: f64| {
        f64::max(
            requests / f64::from(CONCURRENT) * page_s,
            (requests - f64::from(BURST)) / f64::from(RATE),
        ) + page_s
    };
    // A reconciling run first asks for the changes: two short sequential requests.
    let change_s = 2.0 * BASE_MS / 1000.0;
    let ideal_full = ideal(pages as f64);
    let ideal_rec = ideal(pages as f64) + change_s;
    let refused = |r: &Run| {
        let (admitted, r429, r409) = r.limits;
        let all = admitted + r429 + r409;
        (r429 + r409, all)
    };
    let mut md = String::new();
    writeln!(
        md,
        "Release `shipstream-inventory sync --url URL --page-size {PAGE} --db FILE.sqlite`: a \
         first sync (the full load) and then `--reconcile` on the mirror it made, sequential \
         and with `--parallel {WORKERS}`, each run against its own `shipstream-inventory mock \
         --products {OPENAPI_PRODUCTS} --seed {SEED} --rate-limit {RATE} --burst {BURST} \
         --max-concurrent {CONCURRENT} --latency {BASE_MS} --latency-per-level {PER_LEVEL_MS}` \
         process ({levels} levels, disabled products included; {pages} pages of {PAGE}, {:.0} \
         ms each). A reconciliation lists every product id (`fields=product`) at the largest \
         page; the reconciling run also asks for the changes since the bookmark first (two \
         short requests). Ideal = max(pages / {CONCURRENT} x {page_s} s, (pages - {BURST}) / \
         {RATE} s) + {page_s} s = {ideal_full:.1} s (+ {change_s:.1} s for the reconciling \
         run).\n",
        page_s * 1000.0
    )?;
    writeln!(
        md,
        "| run | sequential | parallel {WORKERS} | speed-up | parallel / ideal | requests \
         (refused), parallel |\n| --- | --- | --- | --- | --- | --- |"
    )?;
    let mut verdicts = Vec::new();
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    for (name, seq, par, ideal) in [
        ("first sync", &seq_full, &par_full, ideal_full),
        ("reconciling sync", &seq_rec, &par_rec, ideal_rec),
    ] {
        let speedup = secs(seq.wall) / secs(par.wall);
        let of_ideal = secs(par.wall) / ideal;
        let (refused, all) = refused(par);
        writeln!(
            md,
            "| {name} | {:.1} s | {:.1} s | {speedup:.2}x | {of_ideal:.2}x | {all} ({refused}) |",
            secs(seq.wall),
            secs(par.wall)
        )?;
        verdicts.push(format!(
            "{name} --parallel {WORKERS}: {speedup:.2}x sequential (goal >= 4x): {}",
            verdict(speedup >= 4.0)
        ));
        verdicts.push(format!(
            "{name} --parallel {WORKERS}: {of_ideal:.2}x the ideal {ideal:.1} s (goal <= 1.25x): {}",
            verdict(of_ideal <= 1.25)
        ));
    }
    writeln!(
        md,
        "\nEvery run's summary said 0 deleted (the data does not change); both first syncs \
         upserted {levels} levels.\n"
    )?;
    Ok((md, verdicts))
}
