//! The API version pin: every request sends the version the crate was generated for
//! unless the caller sets another, a response in another version is warned about once per
//! client, and a version the server does not serve is a typed error naming the latest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures::StreamExt as _;
use serde_json::json;
use shipstream_inventory::{ApiVersion, Client};
use shipstream_inventory_mock::{Dataset, MockConfig, MockServer as Mock};
use wiremock::{Mock as Stub, MockServer, ResponseTemplate, matchers::method};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ4In0.SECRET-SIGNATURE-do-not-leak";

/// `info.version` as openapi.yaml writes it, read here rather than taken from the
/// generated code the client uses.
fn spec_version() -> String {
    let spec: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../../../openapi.yaml")).unwrap();
    spec["info"]["version"].as_str().unwrap().to_owned()
}

/// A server of three pages (two with a level, then an empty last one), each saying
/// `served` served it when given.
async fn three_page_server(served: Option<&str>) -> MockServer {
    let server = MockServer::start().await;
    let with_version = |mut page: ResponseTemplate| {
        if let Some(v) = served {
            page = page.insert_header("X-ShipStream-API-Version", v);
        }
        page
    };
    for id in 1..=2 {
        let page = ResponseTemplate::new(200).set_body_json(json!({
            "collection": [{"type": "total", "product": {"id": id}}],
            "has_more": true,
            "next": format!("/api/global/v1/inventory/levels/total?cursor_start={}", id + 1)
        }));
        Stub::given(method("GET"))
            .respond_with(with_version(page))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Stub::given(method("GET"))
        .respond_with(with_version(
            ResponseTemplate::new(200).set_body_json(json!({"collection": [], "has_more": false})),
        ))
        .mount(&server)
        .await;
    server
}

/// A client of `server`, sending `version` when given (else its own).
fn client_of(server: &MockServer, version: Option<&str>) -> Client {
    let builder = Client::builder().base_url(server.uri()).token(TOKEN);
    match version {
        Some(v) => builder.api_version(v),
        None => builder,
    }
    .build()
    .unwrap()
}

fn sent_versions(requests: &[wiremock::Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            r.headers
                .get("x-shipstream-api-version")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_else(|| "(none)".into())
        })
        .collect()
}

#[tokio::test]
async fn every_request_sends_the_specs_version_unless_told_otherwise() {
    support::within(async {
        let server = three_page_server(None).await;
        let client = client_of(&server, None);
        assert_eq!(client.api_version().as_str(), spec_version());
        assert_eq!(ApiVersion::generated().as_str(), spec_version());
        let pages: Vec<_> = client.total_levels().pages().collect().await;
        assert_eq!(pages.len(), 3);
        let sent = sent_versions(&server.received_requests().await.unwrap());
        assert_eq!(sent, vec![spec_version(); 3]);

        // An explicit version replaces it on every request.
        let server = three_page_server(None).await;
        let client = client_of(&server, Some("2026-03"));
        assert_eq!(client.api_version().as_str(), "2026-03");
        let _: Vec<_> = client.total_levels().pages().collect().await;
        let sent = sent_versions(&server.received_requests().await.unwrap());
        assert_eq!(sent, vec!["2026-03".to_owned(); 3]);
    })
    .await
}

#[tokio::test]
async fn a_response_in_another_version_is_warned_about_once_per_client() {
    let log = support::capture();
    support::within(async {
        // Two pages say 2026-03 served them although the client sent its own version.
        let server = three_page_server(Some("2026-03")).await;
        let client = client_of(&server, None);
        let _: Vec<_> = client.total_levels().pages().collect().await;
        let _: Vec<_> = client.total_levels().pages().collect().await;
        let text = log.text();
        let warnings: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("answered with API version 2026-03"))
            .collect();
        assert_eq!(warnings.len(), 1, "{text}");
        assert!(
            warnings[0].contains("WARN") && warnings[0].contains(&spec_version()),
            "{}",
            warnings[0]
        );

        // A server that echoes the version sent is not warned about.
        let log = support::capture();
        let server = three_page_server(Some(&spec_version())).await;
        let client = client_of(&server, None);
        let _: Vec<_> = client.total_levels().pages().collect().await;
        assert!(
            !log.text().contains("answered with API version"),
            "{}",
            log.text()
        );
    })
    .await
}

#[tokio::test]
async fn a_version_the_server_no_longer_serves_is_a_typed_error_naming_the_latest() {
    support::within(async {
        // The mock serves a newer version only: the spec's is retired there.
        let server = Mock::start(
            MockConfig::default()
                .dataset(Dataset::generate(5, 1))
                .api_versions(["2099-01"]),
        )
        .await
        .unwrap();
        let client = Client::builder()
            .base_url(server.base_url())
            .token(server.token())
            .build()
            .unwrap();
        let first = client
            .total_levels()
            .pages()
            .next()
            .await
            .expect("one result");
        let err = first.expect_err("the version is refused");
        assert!(err.is_api_version(), "{err:?}");
        assert_eq!(err.status(), Some(400));
        let said = err.api_version_error().expect("the version-error header");
        assert!(said.contains("2099-01"), "{said}");
        let message = err.to_string();
        assert!(
            message.contains(&spec_version()) && message.contains("2099-01"),
            "names both versions: {message}"
        );
        assert!(message.contains("SHIPSTREAM_API_VERSION"), "{message}");
        assert_eq!(err.attempts(), 1, "a refused version is not retried");

        // Pinned to the version served: no error.
        let client = Client::builder()
            .base_url(server.base_url())
            .token(server.token())
            .api_version("2099-01")
            .build()
            .unwrap();
        let levels: Vec<_> = client.total_levels().items().collect().await;
        assert_eq!(levels.len(), 5);
        assert!(levels.iter().all(Result::is_ok));
    })
    .await
}
