//! The sync suite: `shipstream-inventory sync` at the API's limits, the whole key space
//! walked sequentially and with `--parallel 5`: a first sync (the full load) and a
//! reconciling sync of the mirror it made, each against its own mock process enforcing
//! the parallel suite's limits (10/s, burst 10, 5 at once, 500 ms a page of 1,000).

use super::limited::{Run, against_mock};
use super::parallel::{LIMITS, PAGE, WORKERS};
use super::*;

/// One `sync` into `db` against a fresh mock process; the run's summary line (`... N
/// upserted, M deleted, ...`).
fn sync(ctx: &Ctx, cli: &Path, db: &Path, extra: &[&str]) -> Result<(Run, String)> {
    let args = LIMITS.mock_args();
    let run = against_mock(ctx, cli, OPENAPI_PRODUCTS, &args, "sync", |cmd, url| {
        cmd.args([
            "sync",
            "--url",
            url,
            "--page-size",
            &PAGE.to_string(),
            "--db",
        ])
        .arg(db)
        .args(extra);
    })?;
    let summary = run
        .stderr
        .lines()
        .find(|l| l.contains(" upserted, "))
        .context("sync printed no summary line")?
        .to_owned();
    Ok((run, summary))
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

/// Every row of a mirror's `levels` table in product-id order, each value as written.
fn mirror_rows(db: &std::path::Path) -> Result<Vec<Vec<String>>> {
    let conn = rusqlite::Connection::open(db)?;
    let mut stmt = conn.prepare("SELECT * FROM levels ORDER BY product_id")?;
    let columns = stmt.column_count();
    let rows = stmt.query_map([], |row| {
        (0..columns)
            .map(|i| row.get_ref(i).map(|v| format!("{v:?}")))
            .collect()
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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
    let (seq_full, seq_full_sum) = sync(ctx, &cli, &seq_db, &[])?;
    println!(
        "{:.1?}; first sync, --parallel {WORKERS} ...",
        seq_full.wall
    );
    let (par_full, par_full_sum) = sync(ctx, &cli, &par_db, &par)?;
    println!("{:.1?}; reconciling sync, sequential ...", par_full.wall);
    let (seq_rec, seq_rec_sum) = sync(ctx, &cli, &seq_db, &["--reconcile"])?;
    println!(
        "{:.1?}; reconciling sync, --parallel {WORKERS} ...",
        seq_rec.wall
    );
    let (par_rec, par_rec_sum) = sync(ctx, &cli, &par_db, &["--reconcile", par[0], par[1]])?;
    println!("{:.1?}", par_rec.wall);
    let levels = count_before(&seq_full_sum, "upserted").context("no upserted count")?;
    for summary in [&par_full_sum, &seq_rec_sum, &par_rec_sum] {
        if !summary.contains(" 0 deleted") {
            bail!("a sync of an unchanged dataset deleted rows: {summary}");
        }
    }
    if count_before(&par_full_sum, "upserted") != Some(levels) {
        bail!(
            "the parallel first sync wrote other levels than the sequential one: \
             {par_full_sum} / {seq_full_sum}"
        );
    }
    if !seq_rec_sum.contains("reconciliation") || !par_rec_sum.contains("reconciliation") {
        bail!("a --reconcile run did not reconcile: {seq_rec_sum}");
    }
    let (seq_rows, par_rows) = (mirror_rows(&seq_db)?, mirror_rows(&par_db)?);
    if seq_rows.len() as u64 != levels {
        bail!(
            "the sequential mirror holds {} rows, not {levels}",
            seq_rows.len()
        );
    }
    if let Some((s, p)) = seq_rows.iter().zip(&par_rows).find(|(s, p)| s != p) {
        bail!("the parallel mirror differs from the sequential one: {p:?} / {s:?}");
    }
    if seq_rows.len() != par_rows.len() {
        bail!(
            "the parallel mirror holds {} rows, the sequential one {}",
            par_rows.len(),
            seq_rows.len()
        );
    }
    let _ = fs::remove_dir_all(&dir);

    let pages = levels.div_ceil(PAGE);
    let secs = |d: Duration| d.as_secs_f64();
    let page_s = LIMITS.page_s(PAGE);
    // A reconciling run first asks for the changes: two short sequential requests.
    let change_s = 2.0 * LIMITS.latency_ms / 1000.0;
    let ideal_full = LIMITS.ideal(pages, WORKERS, PAGE);
    let ideal_rec = ideal_full + change_s;
    let mut md = String::new();
    writeln!(
        md,
        "Release `shipstream-inventory sync --url URL --page-size {PAGE} --db FILE.sqlite`: a \
         first sync (the full load) and then `--reconcile` on the mirror it made, sequential \
         and with `--parallel {WORKERS}`, each run against its own `shipstream-inventory mock \
         --products {OPENAPI_PRODUCTS} --seed {SEED} {}` process ({levels} levels, disabled products included; {pages} pages of {PAGE}, {:.0} \
         ms each). A reconciliation lists every product id (`fields=product`) at the largest \
         page; the reconciling run also asks for the changes since the bookmark first (two \
         short requests). Ideal = max(pages / {} x {page_s} s, (pages - {}) / {} s) + {page_s} \
         s = {ideal_full:.1} s (+ {change_s:.1} s for the reconciling run).\n",
        LIMITS.mock_args().join(" "),
        page_s * 1000.0,
        LIMITS.concurrent,
        LIMITS.burst,
        LIMITS.rate
    )?;
    writeln!(
        md,
        "| run | sequential | parallel {WORKERS} | speed-up | parallel / ideal | requests \
         (refused), parallel |\n| --- | --- | --- | --- | --- | --- |"
    )?;
    let mut verdicts = Vec::new();
    for (name, seq, par, ideal) in [
        ("first sync", &seq_full, &par_full, ideal_full),
        ("reconciling sync", &seq_rec, &par_rec, ideal_rec),
    ] {
        let speedup = secs(seq.wall) / secs(par.wall);
        let of_ideal = secs(par.wall) / ideal;
        let (refused, all) = (par.counts.refused(), par.counts.all());
        writeln!(
            md,
            "| {name} | {:.1} s | {:.1} s | {speedup:.2}x | {of_ideal:.2}x | {all} ({refused}) |",
            secs(seq.wall),
            secs(par.wall)
        )?;
        verdicts.push(format!(
            "{name} --parallel {WORKERS}: {speedup:.2}x sequential (goal >= 4x): {}",
            holds(speedup >= 4.0)
        ));
        verdicts.push(format!(
            "{name} --parallel {WORKERS}: {of_ideal:.2}x the ideal {ideal:.1} s (goal <= 1.25x): {}",
            holds(of_ideal <= 1.25)
        ));
    }
    writeln!(
        md,
        "\nEvery run's summary said 0 deleted (the data does not change); both first syncs \
         upserted {levels} levels.\n"
    )?;
    Ok((md, verdicts))
}
