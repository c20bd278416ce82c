//! Writing BENCHMARKS.md: the machine line, the generated sections, number formatting.

use super::*;

pub(super) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub(super) fn machine(ctx: &Ctx, args: &Args) -> Result<String> {
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
    let kernel = stdout_of(Command::new("uname").arg("-sr"));
    let rustc = stdout_of(Command::new("rustc").arg("--version"));
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
        xtask::display_path(&ctx.target),
        now_utc()
    ))
}

pub(super) fn holds(ok: bool) -> &'static str {
    if ok { "holds" } else { "MISSED" }
}

/// A goal of at least 1.0× another client's throughput, judged by the per-round ratios `p`:
/// writes the sentence to `md` and returns the verdict line (`who`'s throughput over
/// `whose`, e.g. "The CLI's" and "the hand-written exporter's").
pub(super) fn throughput_goal(
    md: &mut String,
    who: &str,
    whose: &str,
    verdict: &str,
    p: Pair,
) -> Result<Vec<String>> {
    let Pair {
        ratio, low, high, ..
    } = p;
    writeln!(
        md,
        "{who} throughput is {ratio:.2}× {whose} (median of the per-round ratios; lowest \
         {low:.2}, highest {high:.2}; goal at least 1.0×)."
    )?;
    Ok(vec![format!(
        "{verdict}: {ratio:.2}× (goal >= 1.0): {}",
        holds(ratio >= 1.0)
    )])
}

/// A markdown table: the `columns`, then one line a row of cells.
pub(super) fn table(
    md: &mut String,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<()> {
    writeln!(
        md,
        "| {} |\n|{}",
        columns.join(" | "),
        " --- |".repeat(columns.len())
    )?;
    for row in rows {
        writeln!(md, "| {} |", row.join(" | "))?;
    }
    Ok(())
}

impl Estimate {
    /// `median (lower – upper)`, each as [`fmt_ns`] writes it.
    pub(super) fn with_ci(self) -> String {
        format!(
            "{} ({} – {})",
            fmt_ns(self.median),
            fmt_ns(self.lower),
            fmt_ns(self.upper)
        )
    }
}

pub(super) fn fmt_ns(ns: f64) -> String {
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

pub(super) fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
