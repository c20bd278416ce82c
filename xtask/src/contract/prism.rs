//! The Prism peers: the validating proxy in front of the mock, and Prism as a mock
//! server the facade reads from; the Prism process helper.

use super::*;
use crate::process::KillOnDrop;

impl Ctx {
    /// Starts Prism with `args` on a free port and waits until it listens.
    pub(super) fn prism<S: AsRef<std::ffi::OsStr>>(
        &self,
        name: &str,
        args: &[S],
    ) -> Result<(Proc, String)> {
        let port = free_port()?;
        let log = self.out.join(format!("{name}.log"));
        let file = File::create(&log)?;
        let child = Command::new(self.tools.npm_bin("prism"))
            .args(args)
            .args(["--port", &port.to_string(), "-h", "127.0.0.1"])
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .map(KillOnDrop)
            .context("cannot start prism")?;
        let mut proc = Proc {
            name: name.to_owned(),
            child,
            log,
        };
        proc.wait_listening(port)?;
        Ok((proc, format!("http://127.0.0.1:{port}")))
    }

    pub(super) fn prism_proxy(&self, name: &str, upstream: &str) -> Result<(Proc, String)> {
        self.prism(name, &self.proxy_args(&self.spec, upstream))
    }

    pub(super) fn proxy_args(&self, spec: &Path, upstream: &str) -> Vec<String> {
        vec![
            "proxy".into(),
            "--errors".into(),
            spec.to_string_lossy().into_owned(),
            upstream.into(),
        ]
    }

    /// Peer 1: the CLI's export through Prism's validating proxy.
    pub(super) fn proxy(&self) -> Result<()> {
        let (mock, mock_url) = self.mock("proxy-mock", &["--products", "1500", "--seed", "7"])?;
        let (prism, url) = self.prism_proxy("prism-proxy", &mock_url)?;
        let via = self.export(&url, "proxy-export.ndjson")?;
        ensure!(
            via.status.success(),
            "the export through the Prism proxy failed ({}):\n{}\nPrism's log:\n{}",
            via.status,
            String::from_utf8_lossy(&via.stderr),
            tail(&read(&prism.log))
        );
        let direct = self.export(&mock_url, "direct-export.ndjson")?;
        ensure!(
            direct.status.success(),
            "the direct export failed:\n{}",
            String::from_utf8_lossy(&direct.stderr)
        );
        // Prism re-serialises bodies (`1.0` arrives as `1`), so compare values.
        let exported = fs::read_to_string(self.out.join("proxy-export.ndjson"))?;
        let direct = fs::read_to_string(self.out.join("direct-export.ndjson"))?;
        ensure!(
            exported.lines().count() == direct.lines().count(),
            "the export through the proxy has {} levels, the direct one {}",
            exported.lines().count(),
            direct.lines().count()
        );
        for (n, (a, b)) in exported.lines().zip(direct.lines()).enumerate() {
            let a: serde_json::Value = serde_json::from_str(a)?;
            let b: serde_json::Value = serde_json::from_str(b)?;
            ensure!(
                same_json(&a, &b),
                "level {} differs through the proxy:\n  {a}\n  {b}",
                n + 1
            );
        }
        let levels = exported.lines().count();
        let stderr = String::from_utf8_lossy(&via.stderr);
        ensure!(
            stderr.contains(&format!("total: {levels} levels")),
            "{levels} levels exported, but the count said otherwise:\n{stderr}"
        );
        ensure!(
            levels > 300,
            "only {levels} levels: not a multi-page export"
        );

        // Answers of the mock that the spec documents as errors pass the proxy too.
        let mut forwarded = 0;
        for (query, headers, want) in [
            ("filter=nope%3A1", vec![], 400),
            ("sort=sku&cursor_start=999999", vec![], 400),
            ("", vec![("X-ShipStream-API-Version", "2999-01")], 400),
            (
                "limit=1000&fields=all&fields%3Aproduct=all&count=1",
                vec![],
                200,
            ),
        ] {
            let (status, body) = self.get(&format!("{url}{}?{query}", self.levels), &headers)?;
            ensure!(
                status == want,
                "{query}: {status} through the proxy, expected {want}: {}",
                clip(&body, 500)
            );
            forwarded += 1;
        }
        let log = read(&prism.log);
        let found = violations(&log);
        ensure!(
            found.is_empty(),
            "Prism reported violations:\n  {}",
            found.join("\n  ")
        );
        let pages = log.matches("Forwarding").count();
        ensure!(
            pages >= levels / 100 + forwarded,
            "Prism forwarded only {pages} requests"
        );
        println!(
            "   {levels} levels in {} pages through Prism, {forwarded} more requests, no violation",
            pages - forwarded
        );
        drop(mock);

        // The spec keeps open what the API keeps open: values its open enums do not list
        // (`--fault unknown-enum`: a new goods type, a Bundle stub, ...) pass Prism.
        let (_open_mock, open_url) = self.mock(
            "proxy-open-enum-mock",
            &["--fault", "unknown-enum", "--seed", "7"],
        )?;
        let (open_prism, url) = self.prism_proxy("prism-proxy-open-enum", &open_url)?;
        let via = self.export(&url, "proxy-open-enum-export.ndjson")?;
        // And one page with every product field, kept: Prism must have been shown values
        // the spec's open enums do not list, or passing it proves nothing.
        let (status, body) = self.get(
            &format!("{url}{}?limit=100&fields%3Aproduct=all", self.levels),
            &[],
        )?;
        ensure!(
            status == 200,
            "{status} through the Prism proxy for a page with unknown enum values: {}",
            clip(&body, 500)
        );
        let page: serde_json::Value = serde_json::from_str(&body).with_context(|| {
            format!(
                "the page through the proxy is not JSON: {}",
                clip(&body, 300)
            )
        })?;
        let spec = crate::spec::load(&self.spec)?;
        let new = match ensure_new_enum_values(&spec, &page) {
            Ok(new) => new,
            Err(e) => bail!("{e}. The page:\n{}", clip(&body, 300)),
        };
        let log = read(&open_prism.log);
        let found = violations(&log);
        ensure!(
            via.status.success() && found.is_empty() && log.matches("Forwarding").count() >= 2,
            "values of open enums did not pass the Prism proxy ({}):\n{}\n  {}",
            via.status,
            String::from_utf8_lossy(&via.stderr),
            found.join("\n  ")
        );
        println!(
            "   unknown values of open enums (--fault unknown-enum) pass Prism, no violation; \
             one page carried {}, e.g.:\n     {}",
            new.len(),
            new[..new.len().min(3)].join("\n     ")
        );
        Ok(())
    }

    /// Peer 2: the facade reads pages of `prism mock -d openapi.yaml`.
    pub(super) fn prism_mock(&self) -> Result<()> {
        let run = self.prism_mock_run(&self.spec)?;
        ensure!(
            run.success,
            "the facade could not read Prism's pages:\n{}",
            clip(&panic_lines(&run.text), 1500)
        );
        ensure!(
            run.pages >= MIN_PRISM_PAGES,
            "the facade read only {} pages from Prism (at least {MIN_PRISM_PAGES} expected)",
            run.pages
        );
        println!("   {}", run.summary);
        Ok(())
    }

    /// Runs the contract test that reads pages of `prism mock -d SPEC` with the facade.
    /// Errs only when Prism or the test cannot run.
    pub(super) fn prism_mock_run(&self, spec: &Path) -> Result<PrismMockRun> {
        let name = if spec == self.spec {
            "prism-mock"
        } else {
            "planted-prism-mock"
        };
        let (prism, url) = self.prism(name, &["mock", "-d", &spec.to_string_lossy()])?;
        let (status, text) = crate::output(
            Command::new(&self.peers_test)
                .args([
                    "--ignored",
                    "--exact",
                    PRISM_TEST,
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(PRISM_URL_ENV, &url)
                .current_dir(self.root.join("tests"))
                .stdin(Stdio::null()),
        )?;
        fs::write(self.out.join(format!("{name}-test.log")), &text)?;
        drop(prism);
        ensure!(
            text.contains(&format!("test {PRISM_TEST} ...")),
            "the contract test {PRISM_TEST} did not run:\n{}",
            tail(&text)
        );
        let summary = text
            .lines()
            .find_map(|l| l.find("decoded ").map(|i| l[i..].to_owned()))
            .unwrap_or_default();
        // "decoded N levels and M included products from Prism in P pages"
        let pages = summary
            .rsplit_once(" in ")
            .and_then(|(_, p)| p.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        Ok(PrismMockRun {
            success: status.success(),
            pages,
            summary,
            text,
        })
    }
}

/// What one run of the Prism-mock contract test showed.
pub(super) struct PrismMockRun {
    pub(super) success: bool,
    pub(super) pages: usize,
    pub(super) summary: String,
    pub(super) text: String,
}

/// A named child process with its log, killed when dropped.
pub(super) struct Proc {
    pub(super) name: String,
    pub(super) child: KillOnDrop,
    pub(super) log: PathBuf,
}

impl Proc {
    fn wait_listening(&mut self, port: u16) -> Result<()> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.0.try_wait()? {
                bail!(
                    "{} exited ({status}) before listening:\n{}",
                    self.name,
                    tail(&read(&self.log))
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "{} did not listen on {addr} within {START_TIMEOUT:?}:\n{}",
                self.name,
                tail(&read(&self.log))
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
