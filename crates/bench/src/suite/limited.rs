//! The release CLI against a mock process that enforces limits (the parallel, polite and
//! sync suites): the mock's limits and page time, the counters it prints when it stops, a
//! run against a fresh mock, and the ideal time of a run.

use super::*;

/// Limits a mock process enforces, and its time per page.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Requests a second, the burst and how many at once.
    pub(super) rate: u32,
    pub(super) burst: u32,
    pub(super) concurrent: u32,
    /// Time per page: `latency_ms`, plus `per_level_ms` for each level of the page.
    pub(super) latency_ms: f64,
    pub(super) per_level_ms: f64,
}

impl Limits {
    /// The mock's arguments that enforce these limits and page time.
    pub(super) fn mock_args(&self) -> Vec<String> {
        let mut args = vec![
            ("--rate-limit", self.rate.to_string()),
            ("--burst", self.burst.to_string()),
            ("--max-concurrent", self.concurrent.to_string()),
            ("--latency", self.latency_ms.to_string()),
        ];
        if self.per_level_ms > 0.0 {
            args.push(("--latency-per-level", self.per_level_ms.to_string()));
        }
        args.into_iter()
            .flat_map(|(flag, value)| [flag.to_owned(), value])
            .collect()
    }

    /// Seconds a page of `page` levels takes.
    pub(super) fn page_s(&self, page: u64) -> f64 {
        (self.latency_ms + self.per_level_ms * page as f64) / 1000.0
    }

    /// The least time `requests` pages of `page` levels can take with `workers` workers:
    /// max(requests / min(concurrent, workers) x page time, (requests - burst) / rate) +
    /// one page time.
    pub(super) fn ideal(&self, requests: u64, workers: u32, page: u64) -> f64 {
        let page_s = self.page_s(page);
        f64::max(
            requests as f64 / f64::from(self.concurrent.min(workers)) * page_s,
            (requests as f64 - f64::from(self.burst)) / f64::from(self.rate),
        ) + page_s
    }
}

/// What a mock's limits let through and refused, as it printed them when it stopped
/// (all 0 for a mock without limits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) admitted: u64,
    /// Refused with 429 (rate) and with 409 (concurrency).
    pub(super) r429: u64,
    pub(super) r409: u64,
}

impl Counts {
    /// The `limits: ...` line of a mock's stderr.
    pub(super) fn parse(stderr: &str) -> Result<Self> {
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
        Ok(Counts {
            admitted: count("admitted")?,
            r429: count("with 429")?,
            r409: count("with 409")?,
        })
    }

    pub(super) fn refused(&self) -> u64 {
        self.r429 + self.r409
    }

    /// Every request the mock answered.
    pub(super) fn all(&self) -> u64 {
        self.admitted + self.refused()
    }

    /// The refused share of every request, in percent.
    pub(super) fn refused_percent(&self) -> f64 {
        100.0 * self.refused() as f64 / self.all().max(1) as f64
    }
}

/// A run of the CLI against its own mock process.
pub(super) struct Run {
    pub(super) wall: Duration,
    /// What the CLI wrote to stdout and to stderr.
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: String,
    pub(super) counts: Counts,
}

/// Runs the CLI against a fresh mock process of `products` products started with
/// `mock_args` (`args` gives the CLI its arguments and the mock's URL), then stops the mock
/// and reads its counters; fails when the CLI does. `label` names the mock's scratch file.
pub(super) fn against_mock(
    ctx: &Ctx,
    cli: &Path,
    products: u64,
    mock_args: &[String],
    label: &str,
    args: impl FnOnce(&mut Command, &str),
) -> Result<Run> {
    let stderr_path = ctx
        .target
        .join(format!("bench-mock-{label}-{}.txt", std::process::id()));
    let mock_args: Vec<&str> = mock_args.iter().map(String::as_str).collect();
    let server = MockProcess::start_with(
        cli,
        products,
        &mock_args,
        Stdio::from(fs::File::create(&stderr_path)?),
    )?;
    let mut cmd = Command::new(cli);
    args(cmd.env("SHIPSTREAM_TOKEN", TOKEN), &server.0.url);
    let started = Instant::now();
    let out = cmd.output()?;
    let wall = started.elapsed();
    server.0.stop()?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let counts = if mock_args.contains(&"--rate-limit") {
        Counts::parse(&fs::read_to_string(&stderr_path)?)?
    } else {
        Counts::default()
    };
    let _ = fs::remove_file(&stderr_path);
    Ok(Run {
        wall,
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        counts,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_mock_counters_and_the_ideal_are_read_as_written() {
        let line = "x\nlimits: 40 requests admitted, 2 refused with 429 (rate), 1 refused with \
                    409 (concurrency)\n";
        let counts = Counts::parse(line).unwrap();
        assert_eq!(
            counts,
            Counts {
                admitted: 40,
                r429: 2,
                r409: 1
            }
        );
        assert_eq!((counts.refused(), counts.all()), (3, 43));
        assert!(Counts::parse("no line").is_err());
        let l = Limits {
            rate: 10,
            burst: 10,
            concurrent: 5,
            latency_ms: 100.0,
            per_level_ms: 0.4,
        };
        // 101 pages of 1000, 500 ms each, 5 at once: 101 / 5 x 0.5 + 0.5.
        assert!((l.ideal(101, 5, 1000) - 10.6).abs() < 1e-9);
        // One worker: every page after the other.
        assert!((l.ideal(101, 1, 1000) - 51.0).abs() < 1e-9);
    }
}
