//! The memory suite: peak RSS of a 1M-level export, measured from outside the process.

use std::io::BufRead;

use super::*;

pub(super) struct Peak {
    rss_kib: u64,
    wall: Duration,
    how: &'static str,
}

/// What an NDJSON export wrote, read as it streamed: how many lines, the first, the last
/// two, and whether the product ids ascend.
#[derive(Debug, Default)]
pub(super) struct Written {
    lines: u64,
    first: Vec<u8>,
    before_last: Vec<u8>,
    last: Vec<u8>,
    /// The first line (1-based) whose product id is missing or not above the line before's.
    out_of_order: Option<u64>,
}

impl Written {
    fn read(mut r: impl BufRead) -> std::io::Result<Self> {
        let mut w = Written::default();
        let mut prev_id = None;
        let mut line = Vec::new();
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            w.lines += 1;
            let id = product_id(&line);
            if w.out_of_order.is_none() && (id.is_none() || id <= prev_id) {
                w.out_of_order = Some(w.lines);
            }
            prev_id = id;
            if w.lines == 1 {
                w.first = line.clone();
            }
            std::mem::swap(&mut w.before_last, &mut w.last);
            w.last.clone_from(&line);
        }
        Ok(w)
    }

    /// The export wrote `levels` levels in `sort=product_id` order, its first line is the
    /// mock's first level and its last is the level the mock has after the one before it
    /// (`level_after(None)` is the first, `level_after(Some(id))` the first above `id`),
    /// compared as JSON.
    fn check(&self, levels: u64, level_after: impl Fn(Option<i64>) -> Result<Value>) -> Result<()> {
        if self.lines != levels {
            bail!("the export wrote {} levels, not {levels}", self.lines);
        }
        if let Some(n) = self.out_of_order {
            bail!("line {n} of the export does not follow the one before in product id order");
        }
        let parse = |line: &[u8]| -> Result<Value> {
            serde_json::from_slice(line).context("the export wrote a line that is not JSON")
        };
        if parse(&self.first)? != level_after(None)? {
            bail!(
                "the export's first level is not the mock's first: {}",
                String::from_utf8_lossy(&self.first)
            );
        }
        if levels > 1 && parse(&self.last)? != level_after(product_id(&self.before_last))? {
            bail!(
                "the export's last level is not the one the mock has after the level before \
                 it: {}",
                String::from_utf8_lossy(&self.last)
            );
        }
        Ok(())
    }
}

/// The product id a CLI NDJSON line starts with (`{"product":{"id":N,`).
fn product_id(line: &[u8]) -> Option<i64> {
    let rest = line.strip_prefix(br#"{"product":{"id":"#)?;
    let end = rest.iter().position(|b| !b.is_ascii_digit())?;
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

/// Runs `cmd`, reading what it writes to stdout, and returns its peak RSS and what it wrote.
pub(super) fn peak_rss(mut cmd: Command) -> Result<(Peak, Written)> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let reader = |child: &mut std::process::Child| {
        let stdout = child.stdout.take().context("no stdout pipe")?;
        Ok::<_, anyhow::Error>(std::thread::spawn(move || {
            Written::read(std::io::BufReader::with_capacity(1 << 20, stdout))
        }))
    };
    let written = |t: std::thread::JoinHandle<std::io::Result<Written>>| -> Result<Written> {
        Ok(t.join()
            .map_err(|_| anyhow::anyhow!("the reader of the export's output panicked"))??)
    };
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
            .stdout(Stdio::piped());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => timed.env(k, v),
                None => timed.env_remove(k),
            };
        }
        let mut child = timed.spawn().context("cannot start /usr/bin/time")?;
        let out = reader(&mut child)?;
        let status = child.wait()?;
        let wall = started.elapsed();
        let out = written(out)?;
        if !status.success() {
            bail!("{timed:?} exited with {status}");
        }
        let text = fs::read_to_string(&report)?;
        let _ = fs::remove_file(&report);
        let rss_kib = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
            .and_then(|v| v.trim().parse().ok())
            .context("/usr/bin/time -v reported no maximum resident set size")?;
        let peak = Peak {
            rss_kib,
            wall,
            how: "/usr/bin/time -v",
        };
        return Ok((peak, out));
    }
    // No GNU time: sample VmHWM (the kernel's high-water mark) until the process exits.
    let mut child = cmd.spawn()?;
    let out = reader(&mut child)?;
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
    let peak = Peak {
        rss_kib: hwm,
        wall: started.elapsed(),
        how: "VmHWM from /proc/PID/status, sampled every 20 ms",
    };
    Ok((peak, written(out)?))
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
        .env("SHIPSTREAM_TOKEN", TOKEN);
        let (peak, written) = peak_rss(cmd)?;
        written
            .check(levels, |after| server.level_after(after))
            .with_context(|| format!("the export of {levels} levels"))?;
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
         product_id --max-items N` (prefetch on, as the CLI always runs) against \
         `shipstream-inventory mock --products {MEMORY_PRODUCTS} --seed {SEED}` in another \
         process (it serves {served} levels), stdout read through a pipe by the bench, which checks \
         the export: N lines in product id order, the first and the last level as the mock \
         serves them. Peak RSS from {}.\n",
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn level(id: i64, qty: i64) -> String {
        format!(
            r#"{{"product":{{"id":{id},"type":"Product"}},"qty_on_hand":{qty},"type":"TotalLevel"}}"#
        )
    }

    /// The mock's levels 1..=5: `level_after` as `MockProcess::level_after` answers.
    fn mock(after: Option<i64>) -> Result<Value> {
        let id = after.map_or(1, |a| a + 1);
        Ok(serde_json::from_str(&level(id, id * 10))?)
    }

    fn written(lines: &[String]) -> Written {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        Written::read(text.as_bytes()).unwrap()
    }

    #[test]
    fn the_export_is_checked_for_count_order_and_its_first_and_last_levels() {
        let good: Vec<String> = (1..=4).map(|i| level(i, i * 10)).collect();
        written(&good).check(4, mock).unwrap();
        let err = |lines: &[String], n| format!("{:#}", written(lines).check(n, mock).unwrap_err());
        assert!(err(&good, 5).contains("wrote 4 levels, not 5"));
        let mut swapped = good.clone();
        swapped.swap(1, 2);
        assert!(err(&swapped, 4).contains("line 3"));
        let mut wrong_last = good.clone();
        wrong_last[3] = level(4, 41);
        assert!(err(&wrong_last, 4).contains("last level"));
        let mut wrong_first = good.clone();
        wrong_first[0] = level(1, 0);
        assert!(err(&wrong_first, 4).contains("first level"));
        let mut not_json = good.clone();
        not_json[0] = r#"{"product":{"id":1,"#.to_owned();
        assert!(err(&not_json, 4).contains("not JSON"));
    }
}
