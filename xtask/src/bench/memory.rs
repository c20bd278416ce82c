//! The memory suite: peak RSS of a 1M-level export, measured from outside the process.

use super::*;

pub(super) struct Peak {
    rss_kib: u64,
    wall: Duration,
    how: &'static str,
}

/// Runs `cmd` with stdout to /dev/null and returns its peak RSS.
pub(super) fn peak_rss(mut cmd: Command) -> Result<Peak> {
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

pub(super) fn memory(ctx: &mut Ctx) -> Result<(String, Vec<String>)> {
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
            "--rate-limit",
            "0",
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
        "Release `shipstream-inventory levels --url URL --rate-limit 0 --format ndjson --page-size 1000 --sort \
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
