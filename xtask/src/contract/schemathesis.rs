//! The schemathesis peer: property-based requests against the mock, checked against
//! the spec, with a JUnit report.

use super::*;

impl Ctx {
    /// Peer 3: schemathesis with the default checks against the mock.
    pub(super) fn schemathesis(&self, args: &Args) -> Result<()> {
        let run = self.schemathesis_run(&self.spec, &[], args, "schemathesis")?;
        ensure!(
            run.success && run.failures == 0,
            "schemathesis reported {} failing test(s); see {}:\n{}",
            run.failures,
            display_path(&run.log),
            clip(&failure_section(&run.text), 2500)
        );
        let min = MIN_SCHEMATHESIS_CASES.min(u64::from(args.max_examples));
        ensure!(
            run.cases >= min,
            "schemathesis generated only {} test cases (at least {min} expected); see {}",
            run.cases,
            display_path(&run.log)
        );
        println!(
            "   schemathesis: {} test cases generated, no failure",
            run.cases
        );
        println!("   JUnit report: {}", display_path(&run.junit));
        Ok(())
    }

    /// Runs schemathesis against a mock started with `mock_args`. Errs only when it cannot
    /// run, writes no report, or generates fewer than [`MIN_PLANTED_CASES`] test cases.
    pub(super) fn schemathesis_run(
        &self,
        spec: &Path,
        mock_args: &[&str],
        args: &Args,
        name: &str,
    ) -> Result<SchemathesisRun> {
        let mut extra = vec!["--products", "300", "--seed", "7"];
        extra.extend_from_slice(mock_args);
        let (mock, url) = self.mock(&format!("{name}-mock"), &extra)?;
        let junit = self.out.join(format!("{name}-junit.xml"));
        let _ = fs::remove_file(&junit);
        let log = self.out.join(format!("{name}.log"));
        let status = Command::new(self.tools.venv_bin("schemathesis"))
            .arg("run")
            .arg(spec)
            .args(["--url", &url])
            .args(["--seed", &args.seed.to_string()])
            .args(["--max-examples", &args.max_examples.to_string()])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(["--header", &format!("Authorization: Bearer {TOKEN}")])
            .args(["--workers", "1", "--request-timeout", "30"])
            .args(["--generation-database", "none"])
            .args(["--report", "junit", "--report-junit-path"])
            .arg(&junit)
            .args(["--no-color"])
            .env(
                "SCHEMATHESIS_HOOKS",
                self.root.join(PEERS_DIR).join("schemathesis_hooks.py"),
            )
            .env("SHIPSTREAM_LATEST_VERSION", &self.latest_version)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .current_dir(&self.out)
            .stdin(Stdio::null())
            .stdout(File::create(&log)?)
            .stderr(File::create(self.out.join(format!("{name}.stderr.log")))?)
            .status()
            .context("cannot run schemathesis")?;
        let text = read(&log);
        let report = read(&junit);
        drop(mock);
        ensure!(
            !report.is_empty(),
            "schemathesis wrote no JUnit report ({status}):\n{}",
            tail(&text)
        );
        let cases = schemathesis_cases(&text);
        ensure!(
            cases >= MIN_PLANTED_CASES,
            "schemathesis generated only {cases} test cases ({status}); see {}:\n{}",
            display_path(&log),
            tail(&text)
        );
        Ok(SchemathesisRun {
            success: status.success(),
            failures: junit_count(&report, "failures") + junit_count(&report, "errors"),
            cases,
            report,
            text,
            log,
            junit,
        })
    }
}

/// What one schemathesis run showed.
pub(super) struct SchemathesisRun {
    pub(super) success: bool,
    pub(super) failures: u64,
    pub(super) cases: u64,
    pub(super) report: String,
    pub(super) text: String,
    pub(super) log: PathBuf,
    pub(super) junit: PathBuf,
}

impl SchemathesisRun {
    /// The JUnit failures that are ST108 (response violates schema) at `schema` (a JSON
    /// pointer into the spec): the evidence that a planted response violation was caught
    /// for its reason.
    pub(super) fn schema_violations(&self, schema: &str) -> Vec<String> {
        junit_failures(&self.report)
            .into_iter()
            .filter(|f| f.contains("ST108") && f.contains(&format!("Schema at {schema}:")))
            .map(|f| {
                let lines: Vec<&str> = f
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .take(4)
                    .collect();
                clip(&lines.join(" | "), 400)
            })
            .collect()
    }
}
