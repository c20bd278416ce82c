//! The `mock` subcommand as a child process, and `levels --demo`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    io::{BufRead as _, BufReader},
    process::{Child, Stdio},
};

use common::{EnvClear as _, bin_path, cli, ndjson_ids};
use predicates::prelude::*;

struct Served {
    child: Child,
    url: String,
    lines: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Served {
    let mut child = std::process::Command::new(bin_path())
        .env_clear_shipstream()
        .arg("mock")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_owned());
    }
    let url = lines[0]
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {:?}", lines[0]))
        .to_owned();
    Served { child, url, lines }
}

#[test]
fn mock_announces_its_address_first_and_serves_until_terminated() {
    let mut served = serve(&["--port", "0", "--products", "40", "--token", "s3cret"]);
    let first = &served.lines[0];
    let port = first
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap()
        .parse::<u16>()
        .unwrap();
    assert!(port > 0);
    assert_eq!(served.lines[1], "token: s3cret");
    assert!(served.lines[2].contains("shipstream-inventory levels"));

    let out = cli()
        .env("SHIPSTREAM_URL", &served.url)
        .env("SHIPSTREAM_TOKEN", "s3cret")
        .args(["levels", "--sort", "product_id", "--page-size", "9"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let ids = ndjson_ids(&String::from_utf8(out.stdout).unwrap());
    assert!(ids.len() > 30 && ids.len() <= 40, "{}", ids.len());

    #[cfg(unix)]
    {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &served.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = served.child.wait().unwrap();
        assert!(exit.success(), "SIGTERM stops the mock cleanly: {exit:?}");
    }
}

#[test]
fn mock_faults_and_next_style_apply() {
    let served = serve(&[
        "--products",
        "30",
        "--fault",
        "offorigin-next:nth=1",
        "--next-style",
        "absolute",
        "--latency",
        "1",
    ]);
    cli()
        .env("SHIPSTREAM_URL", &served.url)
        .env("SHIPSTREAM_TOKEN", "mock-token")
        .args(["levels", "--page-size", "5"])
        .assert()
        .code(6);
    // Absolute `next` links on the same origin are followed.
    let out = cli()
        .env("SHIPSTREAM_URL", &served.url)
        .env("SHIPSTREAM_TOKEN", "mock-token")
        .args(["levels", "--page-size", "5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8(out.stdout).unwrap().lines().count() > 20);
}

#[cfg(unix)]
#[test]
fn mock_live_mode_changes_levels_and_reports_them_on_shutdown() {
    let mut child = std::process::Command::new(bin_path())
        .env_clear_shipstream()
        // The mock logs the end of its live mode: the test waits on that, not on a clock.
        .env("RUST_LOG", "shipstream_inventory_mock=info")
        .args([
            "mock",
            "--products",
            "100",
            "--mutate",
            "200",
            "--mutate-for",
            "1",
        ])
        .args(["--clock-skew", "-3600"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let url = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let (lines, said) = std::sync::mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all += &line;
            all.push('\n');
        }
        all
    });
    // However long the changes take on this machine (the limit only ends a hang).
    while !said
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the mock never said its live mode ended")
        .contains("live mode ended")
    {}
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    cli()
        .env("SHIPSTREAM_URL", &url)
        .env("SHIPSTREAM_TOKEN", "mock-token")
        .args(["sync", "--db", db.to_str().unwrap()])
        .assert()
        .success();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (rows, newest): (i64, String) = conn
        .query_row("SELECT count(*), max(updated_at) FROM levels", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(rows > 100, "new products were mirrored: {rows}");
    // Changes are stamped with the server's clock, an hour behind ours.
    let newest = chrono::DateTime::parse_from_rfc3339(&newest).unwrap();
    let behind = chrono::Utc::now().timestamp() - newest.timestamp();
    assert!((3590..3700).contains(&behind), "{behind}");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let stderr = reader.join().unwrap();
    assert!(stderr.contains("live mode: 200 changes"), "{stderr}");
}

#[test]
fn mock_api_versions_serve_the_listed_versions_and_refuse_the_rest() {
    // The spec's version, as openapi.yaml writes it.
    let spec: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../../../openapi.yaml")).unwrap();
    let ours = spec["info"]["version"].as_str().unwrap().to_owned();
    let served = serve(&["--products", "10", "--api-versions", "2099-01,2099-06"]);
    let levels = |version: Option<&str>| {
        let mut cmd = cli();
        cmd.env("SHIPSTREAM_URL", &served.url)
            .env("SHIPSTREAM_TOKEN", "mock-token")
            .args(["levels", "--format", "ndjson"]);
        if let Some(v) = version {
            cmd.args(["--api-version", v]);
        }
        cmd.output().unwrap()
    };
    // This release sends its own version, which the mock no longer serves: exit 4, and
    // the message names the version sent, the latest, and what to do.
    let out = levels(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!("refused API version {ours}"))
            && stderr.contains("the latest version is 2099-06")
            && stderr.contains("--api-version"),
        "{stderr}"
    );
    // Each listed version is served.
    for v in ["2099-01", "2099-06"] {
        let out = levels(Some(v));
        assert!(out.status.success(), "{v}: {out:?}");
        assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 10);
    }
    // An unknown one between them is refused too.
    assert_eq!(levels(Some("2099-03")).status.code(), Some(4));
}

#[test]
fn mock_rejects_bad_options() {
    cli()
        .args(["mock", "--fault", "explode"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("explode"));
    cli()
        .args(["mock", "--next-style", "sideways"])
        .assert()
        .code(2);
    cli()
        .args(["mock", "--dataset", "/no/such/file.ndjson"])
        .assert()
        .code(2);
    cli().args(["mock", "--mutate", "-5"]).assert().code(2);
    for versions in ["2026-03,2025-08", "2025-8", "2025-08,2025-08"] {
        cli()
            .args(["mock", "--api-versions", versions])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("api_versions"));
    }
}

#[test]
fn demo_shows_real_output_without_credentials() {
    let out = cli()
        .args(["levels", "--demo", "--sort", "product_id"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let ids = ndjson_ids(&String::from_utf8(out.stdout).unwrap());
    assert!(ids.len() > 200, "{}", ids.len());
    assert_eq!(ids[0], 1);
    let table = cli()
        .args([
            "levels",
            "--demo",
            "--format",
            "table",
            "--sort",
            "product_id",
            "--max-items",
            "5",
        ])
        .output()
        .unwrap();
    assert!(table.status.success());
    let text = String::from_utf8(table.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 + 5, "{text}");
    assert!(lines[0].starts_with("product_id  sku"), "{text}");
    let ids: Vec<&str> = lines[2..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
}
