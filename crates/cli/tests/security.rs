//! The CLI keeps the token secret: never in its output or logs (even at `-vvv` and
//! `RUST_LOG=trace`, through retries, faults and failures), never sent over plain http
//! off loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    io::{Read as _, Write as _},
    net::TcpListener,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use common::{Mock, cli};
use predicates::prelude::*;
use shipstream_inventory_mock::{Dataset, Faults, MockConfig};

/// An opaque token (not a JWT, so it never expires) with a recognisable core.
const TOKEN: &str = "ss-live-7f3a9c2e-SECRET-CORE-d41d8cd98f00b204e980";
const CORE: &str = "SECRET-CORE";

fn assert_no_token(what: &str, text: &str) {
    assert!(
        !text.contains(CORE) && !text.contains(TOKEN),
        "the token leaked into {what}:\n{text}"
    );
}

#[test]
fn the_token_is_absent_from_verbose_output_through_faults_and_failures() {
    let mock = Mock::start(
        MockConfig::default()
            .token(TOKEN)
            .dataset(Dataset::generate(300, 42))
            .faults(
                "status=500|502|503:every=3;status=429:nth=2:retry-after=0;drop:nth=4;\
                 truncate:nth=8;bad-record:nth=10;unknown-enum:nth=11;extra-field:nth=12"
                    .parse::<Faults>()
                    .unwrap(),
            ),
    );
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let out_file = dir.path().join("out.ndjson");
    let ckpt = dir.path().join("out.ckpt");
    let mut runs = Vec::new();

    // -vvv with the token from the environment, and with RUST_LOG=trace (every crate,
    // hyper and reqwest included) with the token from a file.
    for (verbosity, from_file) in [("-vvv", false), ("trace", true)] {
        let mut cmd = mock.cli();
        if verbosity == "trace" {
            cmd.env("RUST_LOG", "trace");
        } else {
            cmd.arg(verbosity);
        }
        cmd.args(["levels", "--sort", "product_id", "--page-size", "20"])
            .args(["--product-fields", "all", "--count"]);
        if from_file {
            cmd.env_remove("SHIPSTREAM_TOKEN")
                .arg("--token-file")
                .arg(&token_file);
        }
        let out = cmd.output().unwrap();
        runs.push(out);
    }
    // A checkpointed export to a file: the file and the checkpoint hold no token either.
    let out = mock
        .cli()
        .arg("-vvv")
        .args(["levels", "--sort", "product_id", "--page-size", "50"])
        .arg("--output")
        .arg(&out_file)
        .arg("--checkpoint")
        .arg(&ckpt)
        .output()
        .unwrap();
    runs.push(out);
    for out in &runs {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The faults were met and logged (so the logs had a chance to leak).
        assert!(stderr.contains("retrying"), "no retry was logged: {stderr}");
        assert!(stderr.contains("shipstream.request"), "{stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 6)),
            "{:?}: {stderr}",
            out.status
        );
        assert_no_token("stdout", &stdout);
        assert_no_token("stderr", &stderr);
    }
    assert_no_token(
        "the output file",
        &std::fs::read_to_string(&out_file).unwrap(),
    );
    assert_no_token("the checkpoint", &std::fs::read_to_string(&ckpt).unwrap());
    // The server did receive the token (so it was in play), redacted in its records.
    let requests = mock.server().requests();
    assert!(requests.len() > 20);
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some("<redacted>"))
    );

    // Failures: a wrong token (401), a server that is gone (network error after
    // retries), a paging loop, an off-origin next.
    let wrong = mock
        .cli()
        .env("SHIPSTREAM_TOKEN", format!("{TOKEN}-wrong"))
        .args(["-vvv", "levels"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(3));
    let looping = Mock::start(
        MockConfig::default()
            .token(TOKEN)
            .faults("repeat-next:nth=2".parse::<Faults>().unwrap()),
    );
    let looped = looping
        .cli()
        .args(["-vvv", "levels", "--page-size", "10"])
        .output()
        .unwrap();
    assert_eq!(looped.status.code(), Some(6));
    let off = Mock::start(
        MockConfig::default()
            .token(TOKEN)
            .faults("offorigin-next:nth=1".parse::<Faults>().unwrap()),
    );
    let off_origin = off
        .cli()
        .args(["-vvv", "levels", "--page-size", "10"])
        .output()
        .unwrap();
    assert_eq!(off_origin.status.code(), Some(6));
    let gone_url = mock.url();
    drop(mock);
    let gone = cli()
        .env("SHIPSTREAM_URL", gone_url)
        .env("SHIPSTREAM_TOKEN", TOKEN)
        .args(["-vvv", "levels"])
        .output()
        .unwrap();
    assert_eq!(gone.status.code(), Some(5));
    for out in [&wrong, &looped, &off_origin, &gone] {
        assert_no_token("stdout", &String::from_utf8_lossy(&out.stdout));
        assert_no_token("stderr", &String::from_utf8_lossy(&out.stderr));
    }
}

/// A loopback listener standing in for an HTTP proxy: with `HTTP_PROXY`/`HTTPS_PROXY`
/// pointing at it, any request the CLI sends to a non-loopback host arrives here (and
/// nothing leaves the machine). It answers 403 and records what it got.
struct Sentinel {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Sentinel {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        conn.set_nonblocking(false).unwrap();
                        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                        let mut buf = vec![0u8; 8192];
                        let n = conn.read(&mut buf).unwrap_or(0);
                        seen2
                            .lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                        let _ = conn.write_all(
                            b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self { url, seen, stop }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// The CLI with every proxy variable pointing here.
    fn cli(&self) -> assert_cmd::Command {
        let mut cmd = cli();
        for var in ["NO_PROXY", "no_proxy", "REQUEST_METHOD"] {
            cmd.env_remove(var);
        }
        for var in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env(var, &self.url);
        }
        cmd.env("SHIPSTREAM_TOKEN", TOKEN)
            .timeout(Duration::from_secs(120));
        cmd
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
fn plain_http_off_loopback_exits_2_without_sending_anything() {
    let sentinel = Sentinel::start();
    for url in [
        "http://example.com",
        "http://acme.shipstream.app/api/global",
        "http://10.0.0.1:8080",
        "http://127.0.0.1.nip.io",
    ] {
        sentinel
            .cli()
            .args(["levels", "--url", url])
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("refusing plain http://"));
        // From the environment too.
        sentinel
            .cli()
            .env("SHIPSTREAM_URL", url)
            .args(["levels"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("refusing plain http://"));
    }
    assert!(
        sentinel.seen().is_empty(),
        "a request was sent: {:?}",
        sentinel.seen()
    );

    // Control: an https URL is sent, through the proxy, so the sentinel would have seen a
    // plain http request had there been one. The token stays inside the (refused)
    // tunnel.
    let out = sentinel
        .cli()
        .args(["levels", "--url", "https://example.com"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let seen = sentinel.seen();
    assert!(
        seen.iter()
            .any(|r| r.starts_with("CONNECT example.com:443")),
        "the control request did not reach the sentinel: {seen:?}"
    );
    for r in &seen {
        assert_no_token("a proxy request", r);
    }
    assert_no_token("stderr", &String::from_utf8_lossy(&out.stderr));
}
