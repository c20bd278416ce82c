//! `cargo xtask drift --live` against a hand-written HTTP/1.1 server on 127.0.0.1 that
//! serves a page with planted drift, the reference page, or an error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use xtask::{check, drift, live::LiveConfig, root, spec};

const DRIFT_PAGE: &str = include_str!("fixtures/drift-page.json");
const TOKEN: &str = "test-token-9f8e7d";

/// A server answering every request with one canned response; it keeps the request heads.
struct Server {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn serve(status: &'static str, body: &str) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let body = body.replace("{{BASE}}", &base).replace("{{TOKEN}}", TOKEN);
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    Server { base, requests }
}

fn config(server: &Server) -> LiveConfig {
    LiveConfig {
        base_url: format!("{}/", server.base),
        token: TOKEN.to_owned(),
        api_version: Some("2025-08".to_owned()),
    }
}

fn the_spec() -> Value {
    spec::load(&root().join("openapi.yaml")).unwrap()
}

use shipstream_inventory_contract_tests::within;

#[tokio::test]
async fn planted_drift_is_named_by_path_and_the_recording_is_scrubbed() {
    within(async {
        let server = serve("200 OK", DRIFT_PAGE).await;
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("200-live.json");

        let findings = drift::live(&config(&server), &the_spec(), Some(&record))
            .await
            .unwrap();
        let got: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "$.collection[0].qty_on_hand: \"5\" is not of type \"integer\"",
                "$.collection[0].qty_quarantined: the API sends a field the spec lacks",
                "$.included.Product[0].goods_type: value \"HAZMAT\" is new to the spec's open enum GoodsType (valid; add it to the known values)",
                "$.included.Product[0].shiny_field: the API sends a field the spec lacks",
            ]
        );

        // The request: the documented path and query, the bearer token, the pinned version.
        let requests = server.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), 1);
        let head = requests[0].to_ascii_lowercase();
        assert!(
            head.starts_with(
                "get /api/global/v1/inventory/levels/total?limit=5&fields=all&fields%3aproduct=all http/1.1\r\n"
            ),
            "{head}"
        );
        assert!(head.contains(&format!(
            "authorization: bearer {}",
            TOKEN.to_ascii_lowercase()
        )));
        assert!(head.contains("x-shipstream-api-version: 2025-08"));

        // The recording: no token, no host, same drift.
        let recorded = std::fs::read_to_string(&record).unwrap();
        assert!(!recorded.contains(TOKEN), "{recorded}");
        assert!(!recorded.contains("127.0.0.1"), "{recorded}");
        assert!(recorded.contains("token was <redacted>"));
        assert!(recorded.contains(
            "\"http://example.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=124&limit=5\""
        ));
        // `cargo xtask check` then holds the spec to the recording.
        let findings = check::recorded(&the_spec(), dir.path()).unwrap();
        assert_eq!(findings.checked, 1);
        for want in [
            "$.collection[0].qty_quarantined: the API sends a field the spec lacks",
            "$.included.Product[0].shiny_field: the API sends a field the spec lacks",
            "$.collection[0].qty_on_hand: ",
        ] {
            assert!(
                findings.problems.iter().any(|p| p.contains(want)),
                "missing {want:?} in {:#?}",
                findings.problems
            );
        }
        // A new value of an open enum is valid: a note, not a problem.
        assert!(
            !findings.problems.iter().any(|p| p.contains("goods_type")),
            "{:#?}",
            findings.problems
        );
        assert!(
            findings
                .notes
                .iter()
                .any(|n| n.contains("$.included.Product[0].goods_type: value \"HAZMAT\" is new")),
            "{:#?}",
            findings.notes
        );
    })
    .await;
}

#[tokio::test]
async fn the_reference_page_has_no_drift() {
    within(async {
        let reference =
            std::fs::read_to_string(root().join("fixtures/recorded/reference-page.json")).unwrap();
        let server = serve("200 OK", &reference).await;
        let findings = drift::live(&config(&server), &the_spec(), None)
            .await
            .unwrap();
        assert!(findings.is_empty(), "{findings:#?}");
    })
    .await;
}

#[tokio::test]
async fn an_error_status_fails_without_showing_the_token() {
    within(async {
        let server = serve(
            "401 Unauthorized",
            r#"{"errors":[{"type":"application","message":"Invalid token {{TOKEN}}"}]}"#,
        )
        .await;
        let err = drift::live(&config(&server), &the_spec(), None)
            .await
            .unwrap_err();
        let shown = format!("{err:#}");
        assert!(shown.contains("401"), "{shown}");
        assert!(shown.contains("Invalid token <redacted>"), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
    })
    .await;
}
