//! The token is a secret: never in Debug, Display, error chains or logs, never sent to
//! another origin (not even through a redirect), never over plain http off loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt as _;
use serde_json::json;
use shipstream_inventory::{Client, RetryPolicy};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ4In0.SECRET-SIGNATURE-do-not-leak";

mod support;

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{e} | {e:?}");
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(&format!(" | {s} | {s:?}"));
        cur = s.source();
    }
    out
}

#[tokio::test]
async fn the_token_never_appears_in_debug_errors_or_logs() {
    support::within(async {
        let logs = support::capture();

        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401).set_body_json(
                json!({"errors": [{"type": "application", "message": "bad token"}]}),
            ))
            .mount(&server)
            .await;
        let client = Client::builder()
            .base_url(server.uri())
            .token(TOKEN)
            .build()
            .unwrap();
        let err = client.total_levels().send().await.unwrap_err();
        assert!(err.is_unauthorized());

        let mut seen = format!("{client:?} {client:#?} {:?}", client.generated());
        seen.push_str(&error_chain(&err));
        // A transport error too.
        let dead = Client::builder()
            .base_url("http://127.0.0.1:1")
            .token(TOKEN)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let err = dead.total_levels().send().await.unwrap_err();
        seen.push_str(&error_chain(&err));
        let log_text = logs.text();
        assert!(
            log_text.contains("shipstream.request"),
            "no request span was logged: {log_text}"
        );
        assert!(
            log_text.contains("retrying"),
            "no retry event was logged: {log_text}"
        );
        seen.push_str(&log_text);
        assert!(
            !seen.contains("SECRET-SIGNATURE"),
            "the token leaked: {seen}"
        );
        assert!(!seen.contains(TOKEN));
    })
    .await
}

#[tokio::test]
async fn a_cross_origin_redirect_is_not_followed() {
    support::within(async {
        let server = MockServer::start().await;
        let elsewhere = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"collection": [], "has_more": false})),
            )
            .mount(&elsewhere)
            .await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("{}/steal", elsewhere.uri()).as_str()),
            )
            .mount(&server)
            .await;
        let client = Client::builder()
            .base_url(server.uri())
            .token(TOKEN)
            .build()
            .unwrap();
        let err = client.total_levels().send().await.unwrap_err();
        assert_eq!(err.status(), Some(302));
        assert!(err.to_string().contains("redirect"), "{err}");
        assert!(elsewhere.received_requests().await.unwrap().is_empty());
    })
    .await
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed() {
    support::within(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(wiremock::matchers::path("/moved"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"collection": [], "has_more": false})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(301).insert_header("location", "/moved"))
            .mount(&server)
            .await;
        let client = Client::builder()
            .base_url(server.uri())
            .token(TOKEN)
            .build()
            .unwrap();
        let page = client.total_levels().send().await.unwrap();
        assert!(page.is_empty());
    })
    .await
}

#[tokio::test]
async fn an_expired_token_sends_nothing() {
    support::within(async {
        use base64::Engine as _;
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let expired = format!(
            "{}.{}.sig",
            enc.encode(b"{}"),
            enc.encode(br#"{"exp":1000}"#)
        );
        let err = Client::builder()
            .base_url("https://acme.shipstream.app")
            .token(expired)
            .build()
            .unwrap_err();
        assert!(err.is_unauthorized());
        assert!(err.to_string().contains("Global Integrations"), "{err}");
    })
    .await
}

#[test]
fn the_documented_environment_variables_configure_the_client() {
    use shipstream_inventory::ClientBuilder;
    let vars = |version: Option<&'static str>, token: bool| {
        move |name: &str| match name {
            "SHIPSTREAM_URL" => Some("https://acme.shipstream.app/api/global".to_owned()),
            "SHIPSTREAM_TOKEN" if token => Some(TOKEN.to_owned()),
            "SHIPSTREAM_API_VERSION" => version.map(str::to_owned),
            _ => None,
        }
    };
    let client = ClientBuilder::default()
        .from_vars(vars(Some("2025-08"), true))
        .build()
        .unwrap();
    assert_eq!(client.base_url().as_str(), "https://acme.shipstream.app/");
    assert_eq!(client.api_version().as_str(), "2025-08");
    let err = ClientBuilder::default()
        .from_vars(vars(Some("August"), true))
        .build()
        .unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("SHIPSTREAM_API_VERSION"),
        "{err}"
    );
    let err = ClientBuilder::default()
        .from_vars(vars(None, false))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("SHIPSTREAM_TOKEN"), "{err}");
}

#[tokio::test]
async fn the_api_version_header_is_sent_when_configured() {
    support::within(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"collection": [], "has_more": false})),
            )
            .mount(&server)
            .await;
        let client = Client::builder()
            .base_url(server.uri())
            .token(TOKEN)
            .api_version("2025-08")
            .build()
            .unwrap();
        let _ = client.total_levels().pages().collect::<Vec<_>>().await;
        let req = &server.received_requests().await.unwrap()[0];
        assert_eq!(
            req.headers.get("x-shipstream-api-version").unwrap(),
            "2025-08"
        );
        assert!(
            req.headers
                .get("user-agent")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("shipstream-inventory-rust/")
        );
    })
    .await
}
