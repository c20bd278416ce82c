//! `cargo xtask contract`: the spec, the client and the mock checked against each other by
//! independent tools, all on 127.0.0.1, servers started and stopped here.
//!
//! | peer | what runs | passes when |
//! |---|---|---|
//! | `proxy` | `prism proxy --errors openapi.yaml <mock>` in front of `shipstream-inventory mock`; the CLI exports every page through it (`levels --filter .. --sort product_id --fields .. --product-fields .. --count --format ndjson`), and a few requests that the mock answers with 400 go through it too | the export succeeds and equals the export taken from the mock directly, and Prism's log has no violation or error line |
//! | `prism-mock` | `prism mock -d openapi.yaml` (random, schema-valid pages with extra properties); the contract test `contract_peers::prism_dynamic_pages_decode` fetches pages from it with the facade | every page decodes, with no bad record |
//! | `schemathesis` | `schemathesis run` with every default check, a fixed seed and bounded examples against the mock, hooks from `tests/tests/fixtures/peers/` | no failure; JUnit report in `target/contract/schemathesis-junit.xml` |
//!
//! Every peer reads `openapi.yaml` itself: the spec writes "this object or null" as a
//! component with `nullable: true` (not `nullable` beside `allOf: [$ref]`, which Prism reads
//! strictly, as OAS 3.0.3 words it, and would refuse `null` for), so no rewritten copy is
//! needed (the contract test `the_spec_has_no_nullable_beside_all_of` keeps it so).
//!
//! Each peer is also run against planted violations that it must report (the run fails if
//! it does not): see [`Plant`]. Each plant must be reported *for its reason* (Prism's own
//! 422 naming the parameter, the decode error naming the field, schemathesis' ST108
//! "response violates schema" at the planted schema), not by any failure. `--plant NAME`
//! runs one of them alone: it prints the evidence and exits 0 when the peer reports it,
//! non-zero when the plant went unnoticed. Every run, planted or not, must also reach a
//! minimum number of requests or test cases, so a peer that tests nothing fails. Logs, exports and reports go to
//! `target/contract/`.

use std::{
    fmt,
    fs::{self, File},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, Result, bail, ensure};

use crate::{display_path, process::MockProcess, tools::Tools};

/// The mock's bearer token (its default).
const TOKEN: &str = "mock-token";
/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// The schemathesis hooks and the filters they substitute, relative to the workspace root.
const PEERS_DIR: &str = "tests/tests/fixtures/peers";
/// The contract test that reads pages from a Prism mock.
const PRISM_TEST: &str = "prism_dynamic_pages_decode";
/// The environment variable that gives it the Prism URL.
const PRISM_URL_ENV: &str = "SHIPSTREAM_CONTRACT_PRISM_URL";

/// An independent peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Peer {
    /// Prism as a validating proxy in front of the mock, with a full CLI export through it.
    Proxy,
    /// Prism as a dynamic mock, read by the facade.
    PrismMock,
    /// schemathesis against the mock.
    Schemathesis,
}

/// A planted violation and the peer that must report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Plant {
    /// A request the mock accepts but the spec forbids: `limit=20` through a Prism proxy
    /// whose spec copy lowers `limit`'s maximum to 10 (the mock, still allowing 1000,
    /// answers it with 200 directly). Prism must answer with its own 422 naming `limit`.
    ProxyBadLimit,
    /// The CLI export through the Prism proxy while the mock sends a level `type` the
    /// spec's closed enum forbids (`--fault forbidden-enum`; the open enums' unknown
    /// values are allowed and pass). Prism must log a response violation.
    ProxyUnknownEnum,
    /// Prism mock serving a spec copy in which `has_more` is a string: the facade's decode
    /// error must name `has_more`.
    PrismMockWrongType,
    /// schemathesis with a spec copy in which `qty_on_hand` is a string: the mock's pages
    /// must fail ST108 (response violates schema) at `qty_on_hand`.
    SchemathesisWrongType,
    /// schemathesis against a mock with `--fault forbidden-enum`: ST108 at the level's
    /// `type`.
    SchemathesisUnknownEnum,
}

impl Plant {
    /// Every planted violation, in the order they run.
    pub const ALL: [Plant; 5] = [
        Plant::ProxyBadLimit,
        Plant::ProxyUnknownEnum,
        Plant::PrismMockWrongType,
        Plant::SchemathesisWrongType,
        Plant::SchemathesisUnknownEnum,
    ];

    /// The peer that must report it.
    pub fn peer(self) -> Peer {
        match self {
            Plant::ProxyBadLimit | Plant::ProxyUnknownEnum => Peer::Proxy,
            Plant::PrismMockWrongType => Peer::PrismMock,
            Plant::SchemathesisWrongType | Plant::SchemathesisUnknownEnum => Peer::Schemathesis,
        }
    }
}

impl fmt::Display for Plant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Plant::ProxyBadLimit => "proxy-bad-limit",
            Plant::ProxyUnknownEnum => "proxy-unknown-enum",
            Plant::PrismMockWrongType => "prism-mock-wrong-type",
            Plant::SchemathesisWrongType => "schemathesis-wrong-type",
            Plant::SchemathesisUnknownEnum => "schemathesis-unknown-enum",
        };
        f.write_str(name)
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Peer::Proxy => "proxy",
            Peer::PrismMock => "prism-mock",
            Peer::Schemathesis => "schemathesis",
        })
    }
}

/// The options of `cargo xtask contract`.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Run only these peers (repeatable; default: all).
    #[arg(long, value_enum)]
    pub peer: Vec<Peer>,
    /// Run one peer against one planted violation only, and exit non-zero when the peer
    /// reports it (as it must).
    #[arg(long, value_enum, value_name = "NAME")]
    pub plant: Option<Plant>,
    /// Skip the planted self-checks (faster; CI runs them).
    #[arg(long)]
    pub no_planted: bool,
    /// schemathesis: test cases per phase and operation (`--max-examples`).
    #[arg(long, default_value_t = 200)]
    pub max_examples: u32,
    /// schemathesis: the random seed (`--seed`).
    #[arg(long, default_value_t = 20_250_828)]
    pub seed: u64,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            peer: Vec::new(),
            plant: None,
            no_planted: false,
            max_examples: 200,
            seed: 20_250_828,
        }
    }
}

/// Runs the peers (see the module docs).
pub fn run(root: &Path, args: &Args) -> Result<()> {
    let started = Instant::now();
    let ctx = Ctx::new(root)?;
    if let Some(plant) = args.plant {
        println!("-- {}: planted violation `{plant}`", plant.peer());
        let evidence = ctx.planted(plant, args)?;
        ensure!(
            !evidence.is_empty(),
            "`{plant}`: {} did NOT report the planted violation: the check cannot fail for the \
             reason it names and needs fixing",
            plant.peer()
        );
        println!(
            "`{plant}`: {} reported the planted violation, as it must (the check goes red on \
             it):\n  {}",
            plant.peer(),
            evidence.join("\n  ")
        );
        return Ok(());
    }
    let peers: Vec<Peer> = if args.peer.is_empty() {
        vec![Peer::Proxy, Peer::PrismMock, Peer::Schemathesis]
    } else {
        args.peer.clone()
    };
    let mut summary = Vec::new();
    for peer in &peers {
        let t = Instant::now();
        println!("\n-- {peer}");
        match peer {
            Peer::Proxy => ctx.proxy()?,
            Peer::PrismMock => ctx.prism_mock()?,
            Peer::Schemathesis => ctx.schemathesis(args)?,
        }
        summary.push(format!("{peer}: ok ({:.1?})", t.elapsed()));
        if args.no_planted {
            continue;
        }
        for plant in Plant::ALL.into_iter().filter(|p| p.peer() == *peer) {
            let t = Instant::now();
            println!("-- {peer}: planted violation `{plant}` (must be reported)");
            let evidence = ctx.planted(plant, args)?;
            ensure!(
                !evidence.is_empty(),
                "`{plant}`: {peer} did not report the planted violation; the check cannot fail"
            );
            println!("   reported: {}", headline(&evidence));
            summary.push(format!(
                "{peer}: red on `{plant}` as it must be ({:.1?})",
                t.elapsed()
            ));
        }
    }
    println!("\ncontract peers ({:.0?}):", started.elapsed());
    for line in summary {
        println!("  {line}");
    }
    println!("logs and reports: {}", display_path(&ctx.out));
    Ok(())
}

struct Ctx {
    root: PathBuf,
    out: PathBuf,
    spec: PathBuf,
    tools: Tools,
    cli: PathBuf,
    peers_test: PathBuf,
    /// The spec's `info.version`: the latest API version.
    latest_version: String,
    rt: tokio::runtime::Runtime,
}

impl Ctx {
    fn new(root: &Path) -> Result<Self> {
        for (program, what) in [("node", "Prism"), ("python3", "schemathesis")] {
            let found = Command::new(program)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            ensure!(
                found,
                "{program} is needed for {what} but was not found on PATH; install Node.js 20 or \
                 newer and Python 3.9 or newer (Debian: `apt-get install nodejs npm python3-venv`)"
            );
        }
        let tools = Tools::ensure(root)?;
        let out = root.join("target").join("contract");
        fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
        let (cli, peers_test) = build(root)?;
        let spec = crate::spec::load(&root.join("openapi.yaml"))?;
        let latest_version = spec["info"]["version"]
            .as_str()
            .context("openapi.yaml has no info.version")?
            .to_owned();
        Ok(Self {
            latest_version,
            root: root.to_owned(),
            spec: root.join("openapi.yaml"),
            out,
            tools,
            cli,
            peers_test,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        })
    }

    /// Runs a planted violation; returns the evidence that the peer reported it *for the
    /// planted reason* (empty: it did not). A peer that cannot run at all is an error, not
    /// evidence.
    fn planted(&self, plant: Plant, args: &Args) -> Result<Vec<String>> {
        let quick = Args {
            max_examples: args.max_examples.min(10),
            ..args.clone()
        };
        match plant {
            Plant::ProxyBadLimit => {
                let spec = self.planted_spec(
                    "limit-max-10",
                    "        minimum: 1\n        maximum: 1000\n        default: 100\n",
                    "        minimum: 1\n        maximum: 10\n        default: 10\n",
                )?;
                let (_mock, mock_url) = self.mock("planted-proxy-bad-limit-mock", &[])?;
                let query = format!("{LEVELS}?limit=20");
                let (direct, body) = self.get(&format!("{mock_url}{query}"), &[])?;
                ensure!(
                    direct == 200,
                    "proxy-bad-limit: the mock itself refuses `limit=20` ({direct}: {}); the \
                     plant must be a request only the spec forbids",
                    clip(&body, 300)
                );
                let (_prism, url) = self.prism(
                    "planted-proxy-bad-limit-prism",
                    &self.proxy_args(&spec, &mock_url),
                )?;
                let (status, body) = self.get(&format!("{url}{query}"), &[])?;
                Ok(prism_request_violation(status, &body, "limit")
                    .into_iter()
                    .collect())
            }
            Plant::ProxyUnknownEnum => {
                let (_mock, mock_url) = self.mock(
                    "planted-proxy-unknown-enum-mock",
                    &["--fault", "forbidden-enum"],
                )?;
                let (_prism, url) =
                    self.prism_proxy("planted-proxy-unknown-enum-prism", &mock_url)?;
                // Prism logs only "Request/Response not valid"; the answer names the place.
                let mut evidence = Vec::new();
                for _ in 0..5 {
                    let (status, body) = self.get(&format!("{url}{LEVELS}?limit=100"), &[])?;
                    evidence.extend(prism_response_violation(status, &body, "type"));
                    if !evidence.is_empty() {
                        break;
                    }
                }
                Ok(evidence)
            }
            Plant::PrismMockWrongType => {
                let spec = self.planted_spec(
                    "has-more-string",
                    "        has_more:\n          type: boolean\n",
                    "        has_more:\n          type: string\n",
                )?;
                let run = self.prism_mock_run(&spec)?;
                Ok(if run.success {
                    Vec::new()
                } else {
                    panic_lines(&run.text)
                        .lines()
                        .filter(|l| l.contains("has_more"))
                        .map(|l| clip(l.trim(), 400))
                        .collect()
                })
            }
            Plant::SchemathesisWrongType => {
                let spec = self.planted_spec(
                    "qty-on-hand-string",
                    "        qty_on_hand:\n          type: integer\n",
                    "        qty_on_hand:\n          type: string\n",
                )?;
                let run =
                    self.schemathesis_run(&spec, &[], &quick, "planted-schemathesis-wrong-type")?;
                Ok(run.schema_violations("/components/schemas/TotalLevel/properties/qty_on_hand"))
            }
            Plant::SchemathesisUnknownEnum => {
                let run = self.schemathesis_run(
                    &self.spec,
                    &["--fault", "forbidden-enum"],
                    &quick,
                    "planted-schemathesis-unknown-enum",
                )?;
                Ok(run.schema_violations("/components/schemas/TotalLevel/properties/type"))
            }
        }
    }

    /// A copy of openapi.yaml with `from` replaced by `to` (which must occur once).
    fn planted_spec(&self, name: &str, from: &str, to: &str) -> Result<PathBuf> {
        let text = fs::read_to_string(&self.spec)?;
        ensure!(
            text.matches(from).count() == 1,
            "cannot plant `{name}`: {from:?} is not in openapi.yaml exactly once"
        );
        let path = self.out.join(format!("planted-{name}.yaml"));
        fs::write(&path, text.replacen(from, to, 1))?;
        Ok(path)
    }

    /// Starts `shipstream-inventory mock` on a free port (stderr in
    /// `target/contract/NAME.log`); returns it and its base URL.
    fn mock(&self, name: &str, extra: &[&str]) -> Result<(MockProcess, String)> {
        let log = self.out.join(format!("{name}.log"));
        let mut args = vec!["--token", TOKEN];
        args.extend_from_slice(extra);
        let mock = MockProcess::start(&self.cli, &args, File::create(&log)?.into())
            .with_context(|| format!("{name}:\n{}", tail(&read(&log))))?;
        let url = mock.url.clone();
        Ok((mock, url))
    }

    /// Starts Prism with `args` on a free port and waits until it listens.
    fn prism<S: AsRef<std::ffi::OsStr>>(&self, name: &str, args: &[S]) -> Result<(Proc, String)> {
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
            .context("cannot start prism")?;
        let mut proc = Proc {
            name: name.to_owned(),
            child,
            log,
        };
        proc.wait_listening(port)?;
        Ok((proc, format!("http://127.0.0.1:{port}")))
    }

    fn prism_proxy(&self, name: &str, upstream: &str) -> Result<(Proc, String)> {
        self.prism(name, &self.proxy_args(&self.spec, upstream))
    }

    fn proxy_args(&self, spec: &Path, upstream: &str) -> Vec<String> {
        vec![
            "proxy".into(),
            "--errors".into(),
            spec.to_string_lossy().into_owned(),
            upstream.into(),
        ]
    }

    /// The CLI's full export with every option the issue names, into `target/contract/FILE`.
    fn export(&self, url: &str, file: &str) -> Result<Output> {
        Command::new(&self.cli)
            .args(["levels", "--url", url])
            .args([
                "--filter",
                "qty_on_hand{gt:0}",
                "--filter",
                "is_enabled:true",
            ])
            .args(["--sort", "product_id"])
            .args(["--fields", "all"])
            .args([
                "--product-fields",
                "sku,name,weight,inventory,custom_fields,merchant",
            ])
            .args(["--count", "--page-size", "100", "--api-version", "2025-08"])
            .args(["--format", "ndjson", "--output"])
            .arg(self.out.join(file))
            .env("SHIPSTREAM_TOKEN", TOKEN)
            .env_remove("SHIPSTREAM_URL")
            .env_remove("SHIPSTREAM_API_VERSION")
            .stdin(Stdio::null())
            .output()
            .context("cannot run the CLI")
    }

    /// One GET with the mock's token; returns the status and body.
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<(u16, String)> {
        self.rt.block_on(async {
            let http = reqwest::Client::builder().no_proxy().build()?;
            let mut req = http.get(url).bearer_auth(TOKEN);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let r = req.send().await.with_context(|| format!("GET {url}"))?;
            let status = r.status().as_u16();
            Ok((status, r.text().await.unwrap_or_default()))
        })
    }

    /// Peer 1: the CLI's export through Prism's validating proxy.
    fn proxy(&self) -> Result<()> {
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
            let (status, body) = self.get(&format!("{url}{LEVELS}?{query}"), &headers)?;
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
        let log = read(&open_prism.log);
        let found = violations(&log);
        ensure!(
            via.status.success() && found.is_empty() && log.contains("Forwarding"),
            "values of open enums did not pass the Prism proxy ({}):\n{}\n  {}",
            via.status,
            String::from_utf8_lossy(&via.stderr),
            found.join("\n  ")
        );
        println!("   unknown values of open enums (--fault unknown-enum) pass Prism, no violation");
        Ok(())
    }

    /// Peer 2: the facade reads pages of `prism mock -d openapi.yaml`.
    fn prism_mock(&self) -> Result<()> {
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
    fn prism_mock_run(&self, spec: &Path) -> Result<PrismMockRun> {
        let name = if spec == self.spec {
            "prism-mock"
        } else {
            "planted-prism-mock"
        };
        let (prism, url) = self.prism(name, &["mock", "-d", &spec.to_string_lossy()])?;
        let out = Command::new(&self.peers_test)
            .args([
                "--ignored",
                "--exact",
                PRISM_TEST,
                "--nocapture",
                "--test-threads=1",
            ])
            .env(PRISM_URL_ENV, &url)
            .current_dir(self.root.join("tests"))
            .stdin(Stdio::null())
            .output()
            .context("cannot run the contract_peers test")?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
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
            success: out.status.success(),
            pages,
            summary,
            text,
        })
    }

    /// Peer 3: schemathesis with the default checks against the mock.
    fn schemathesis(&self, args: &Args) -> Result<()> {
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
    fn schemathesis_run(
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

/// What one run of the Prism-mock contract test showed.
struct PrismMockRun {
    success: bool,
    pages: usize,
    summary: String,
    text: String,
}

/// What one schemathesis run showed.
struct SchemathesisRun {
    success: bool,
    failures: u64,
    cases: u64,
    report: String,
    text: String,
    log: PathBuf,
    junit: PathBuf,
}

impl SchemathesisRun {
    /// The JUnit failures that are ST108 (response violates schema) at `schema` (a JSON
    /// pointer into the spec): the evidence that a planted response violation was caught
    /// for its reason.
    fn schema_violations(&self, schema: &str) -> Vec<String> {
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

/// The minimum number of pages the facade must read from a Prism mock.
const MIN_PRISM_PAGES: usize = 12;
/// The minimum number of schemathesis test cases of a full (not planted) run.
const MIN_SCHEMATHESIS_CASES: u64 = 100;
/// The minimum number of schemathesis test cases of any run (planted runs stop early).
const MIN_PLANTED_CASES: u64 = 3;

/// The number in schemathesis' summary line `N generated, ...` (0 when absent).
pub fn schemathesis_cases(text: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.trim().split_once(" generated"))
        .filter_map(|(n, _)| n.trim().parse().ok())
        .next_back()
        .unwrap_or(0)
}

/// The text of each `<failure>` element of a JUnit report (XML entities left as they are).
pub fn junit_failures(report: &str) -> Vec<String> {
    report
        .split("<failure")
        .skip(1)
        .filter_map(|f| f.split_once('>'))
        .map(|(head, rest)| {
            let body = rest.split("</failure>").next().unwrap_or_default();
            format!("{head}> {body}")
        })
        .collect()
}

/// Prism's own answer (`--errors`) to a response of the upstream that violates the spec:
/// a problem document of type `https://stoplight.io/prism/errors#VIOLATIONS` whose
/// `validation` has a response-body location ending in `member`.
pub fn prism_response_violation(status: u16, body: &str, member: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(body).ok()?;
    let own = doc["type"].as_str() == Some("https://stoplight.io/prism/errors#VIOLATIONS");
    let found = doc["validation"].as_array()?.iter().find(|e| {
        let loc = e["location"].as_array();
        loc.is_some_and(|l| {
            l.first().and_then(|v| v.as_str()) == Some("response")
                && l.last().and_then(|v| v.as_str()) == Some(member)
        })
    })?;
    own.then(|| {
        format!(
            "Prism answered {status} itself: {}",
            clip(&found.to_string(), 300)
        )
    })
}

/// Prism's own answer to a request that violates the spec: a 422 problem document of type
/// `https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY` whose `validation` names the
/// query parameter `param`. `None` when the answer is anything else (the mock's own 400,
/// say).
pub fn prism_request_violation(status: u16, body: &str, param: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(body).ok()?;
    let own = doc["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("https://stoplight.io/prism/errors#"));
    let names = doc["validation"].as_array().is_some_and(|v| {
        v.iter()
            .any(|e| e["location"] == serde_json::json!(["query", param]))
    });
    (status == 422 && own && names).then(|| {
        format!(
            "Prism answered 422 itself: {}",
            clip(&doc["validation"].to_string(), 300)
        )
    })
}

const LEVELS: &str = "/api/global/v1/inventory/levels/total";

/// A child process that is killed when dropped.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn wait_listening(&mut self, port: u16) -> Result<()> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
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

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds (or reuses) the test profile's artifacts, as `cargo test --workspace` does, and
/// returns the `shipstream-inventory` binary and the `contract_peers` test executable.
fn build(root: &Path) -> Result<(PathBuf, PathBuf)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("-- cargo test --workspace --no-run (the CLI binary and the contract tests)");
    let out = Command::new(&cargo)
        .args([
            "test",
            "--workspace",
            "--locked",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run cargo")?;
    ensure!(out.status.success(), "cargo test --no-run failed");
    let mut cli = None;
    let mut peers = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(exe) = msg["executable"].as_str() else {
            continue;
        };
        let name = msg["target"]["name"].as_str().unwrap_or_default();
        let kinds = msg["target"]["kind"].to_string();
        let harness = msg["profile"]["test"] == true;
        if name == "shipstream-inventory" && kinds.contains("\"bin\"") && !harness {
            cli = Some(PathBuf::from(exe));
        } else if name == "contract_peers" && kinds.contains("\"test\"") {
            peers = Some(PathBuf::from(exe));
        }
    }
    Ok((
        cli.context("cargo built no `shipstream-inventory` binary")?,
        peers.context("cargo built no `contract_peers` test")?,
    ))
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
pub fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// The gist of what a peer reported: the first line, and the first line that names the
/// failed check, if another.
fn headline(evidence: &[String]) -> String {
    let first = evidence
        .first()
        .and_then(|e| e.lines().next())
        .unwrap_or_default();
    let named = evidence.iter().flat_map(|e| e.lines()).find(|l| {
        l.trim_start().starts_with("- ST")
            || l.contains("cannot read Prism")
            || l.contains("must be")
            || l.contains("not valid")
    });
    let mut out = clip(first, 160);
    if let Some(n) = named.filter(|n| *n != first) {
        out.push_str(" | ");
        out.push_str(&clip(n.trim(), 240));
    }
    out
}

/// The lines of a Prism log that report a violation or an error.
pub fn violations(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            let lower = l.to_lowercase();
            lower.contains("violation") || l.contains('✖') || lower.contains(" error ")
        })
        .map(|l| clip(l.trim(), 400))
        .collect()
}

/// The `name="N"` attribute of the JUnit report's root element (0 when absent).
pub fn junit_count(report: &str, name: &str) -> u64 {
    let root = report
        .find("<testsuites")
        .or_else(|| report.find("<testsuite"))
        .map(|i| &report[i..])
        .and_then(|s| s.split_once('>').map(|(head, _)| head))
        .unwrap_or_default();
    let key = format!(" {name}=\"");
    root.find(&key)
        .map(|i| &root[i + key.len()..])
        .and_then(|s| s.split_once('"'))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

/// The FAILURES section of schemathesis's output, else its tail.
fn failure_section(text: &str) -> String {
    match text.find("FAILURES") {
        Some(i) => text[i..].to_owned(),
        None => tail(text),
    }
}

fn panic_lines(text: &str) -> String {
    let keep: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("panicked") || l.starts_with("page ") || l.contains("cannot"))
        .collect();
    if keep.is_empty() {
        tail(text)
    } else {
        keep.join("\n")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn prism_log_lines_that_fail() {
        let log = "[10:33:48 AM] › [HTTP SERVER] get /x ℹ  info      Request received\n\
                   [10:33:48 AM] ›     [PROXY] ℹ  info      > Forwarding \"get\" request\n\
                   [10:33:58 AM] › [HTTP SERVER] get /x ✖  error     Request terminated with error: VIOLATIONS\n\
                   [10:33:58 AM] ›     [VALIDATOR] ⚠  warning   Violation: response.body.x must be integer\n";
        let found = violations(log);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(violations("info Forwarding\nsuccess The request passed").is_empty());
    }

    #[test]
    fn json_numbers_compare_by_value() {
        use serde_json::json;
        assert!(same_json(
            &json!({"a": [1, 2.5]}),
            &json!({"a": [1.0, 2.5]})
        ));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 2})));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!same_json(&json!([1]), &json!(["1"])));
    }

    #[test]
    fn junit_counts() {
        let report = r#"<?xml version="1.0"?><testsuites disabled="0" errors="0" failures="2" tests="1" time="5.1"><testsuite name="schemathesis" errors="0" failures="2"></testsuite></testsuites>"#;
        assert_eq!(junit_count(report, "failures"), 2);
        assert_eq!(junit_count(report, "errors"), 0);
        assert_eq!(junit_count(report, "tests"), 1);
        assert_eq!(junit_count("", "failures"), 0);
    }

    #[test]
    fn prism_request_violations_must_be_prisms_own_and_name_the_parameter() {
        let prism = r#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","title":"Invalid request","status":422,"validation":[{"location":["query","limit"],"severity":"Error","code":"maximum","message":"must be <= 10"}]}"#;
        assert!(prism_request_violation(422, prism, "limit").is_some());
        assert!(prism_request_violation(422, prism, "sort").is_none());
        assert!(prism_request_violation(400, prism, "limit").is_none());
        // The mock's own refusal is not Prism's finding.
        let mock = r#"{"type":"application","message":"limit: must be at most 1000","errors":[]}"#;
        assert!(prism_request_violation(400, mock, "limit").is_none());
        assert!(prism_request_violation(422, mock, "limit").is_none());
    }

    #[test]
    fn prism_response_violations_name_the_member() {
        let body = r#"{"type":"https://stoplight.io/prism/errors#VIOLATIONS","validation":[{"location":["response","body","collection","3","type"],"code":"enum","message":"must be equal to one of the allowed values"}]}"#;
        assert!(prism_response_violation(500, body, "type").is_some());
        assert!(prism_response_violation(500, body, "sku").is_none());
        let other = r#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","validation":[{"location":["response","body","type"]}]}"#;
        assert!(prism_response_violation(422, other, "type").is_none());
        assert!(prism_response_violation(200, r#"{"collection":[]}"#, "type").is_none());
    }

    #[test]
    fn schemathesis_findings_are_read_from_its_report() {
        let text = "Test cases:\n  8 generated, 1 found 1 unique failure, 2 skipped\n";
        assert_eq!(schemathesis_cases(text), 8);
        assert_eq!(schemathesis_cases("nothing"), 0);
        let report = r#"<testsuites failures="1"><testcase name="x"><failure type="failure" message="ST108">1. Test Case ID: a
- ST108 Response violates schema
    Schema at /components/schemas/TotalLevel/properties/qty_on_hand:
</failure></testcase></testsuites>"#;
        let run = SchemathesisRun {
            success: false,
            failures: 1,
            cases: 8,
            report: report.into(),
            text: String::new(),
            log: PathBuf::new(),
            junit: PathBuf::new(),
        };
        assert_eq!(
            run.schema_violations("/components/schemas/TotalLevel/properties/qty_on_hand")
                .len(),
            1
        );
        assert!(
            run.schema_violations("/components/schemas/TotalLevel/properties/type")
                .is_empty()
        );
        assert!(
            run.schema_violations("/components/schemas/TotalLevel/properties/qty")
                .is_empty()
        );
    }
}
