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
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context as _, Result, bail, ensure};

use crate::{display_path, process::MockProcess, tools::Tools};

mod evidence;
mod prism;
mod schemathesis;

use evidence::*;

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

/// A plant or a peer is shown by its name on the command line.
macro_rules! display_as_value_name {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let value = clap::ValueEnum::to_possible_value(self);
                f.write_str(value.as_ref().map_or("", |v| v.get_name()))
            }
        }
    )*};
}
display_as_value_name!(Plant, Peer);

/// The options of `cargo xtask contract`.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Run only these peers (repeatable; default: all).
    #[arg(long, value_enum)]
    pub peer: Vec<Peer>,
    /// Run one peer against one planted violation only: exits 0 when the peer reports it
    /// (as it must), non-zero when it went unnoticed.
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
    /// The endpoint's path, from the spec.
    levels: String,
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
        let levels = spec["paths"]
            .as_object()
            .and_then(|paths| paths.keys().next())
            .context("openapi.yaml has no path")?
            .to_owned();
        Ok(Self {
            latest_version,
            levels,
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
                let query = format!("{}?limit=20", self.levels);
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
                    let (status, body) =
                        self.get(&format!("{url}{}?limit=100", self.levels), &[])?;
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
}

/// Builds (or reuses) the test profile's artifacts, as `cargo test --workspace` does, and
/// returns the `shipstream-inventory` binary and the `contract_peers` test executable.
fn build(root: &Path) -> Result<(PathBuf, PathBuf)> {
    println!("-- cargo test --workspace --no-run (the CLI binary and the contract tests)");
    let out = Command::new(crate::cargo())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::{CommandFactory as _, Parser};

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn words(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// `--plant`'s help and the README say what [`run`] does: `ensure!` that the plant
    /// was reported, so a plant that went unnoticed is the non-zero exit.
    #[test]
    fn the_plant_option_says_when_it_exits_non_zero() {
        let said = "exits 0 when the peer reports it (as it must), non-zero when it went unnoticed";
        let help = Cli::command().render_long_help().to_string();
        assert!(words(&help).contains(said), "--plant's help:\n{help}");
        let readme = include_str!("../../README.md");
        assert!(
            words(readme).contains(
                "`cargo xtask contract --plant NAME` runs one plant alone and exits 0 when the \
                 peer reports it, non-zero when it went unnoticed"
            ),
            "the README's --plant sentence"
        );
    }
}
