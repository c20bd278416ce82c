//! A configured proxy carries every request, with the token, to the instance's origin.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use shipstream_inventory::{Client, RetryPolicy, reqwest::Proxy};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path},
};

mod support;

#[tokio::test]
async fn requests_go_through_the_configured_proxy_with_the_token() {
    support::within(async {
        let proxy = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/global/v1/inventory/levels/total"))
            .and(header("authorization", "Bearer proxy-test-token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"collection": [], "has_more": false})),
            )
            .mount(&proxy)
            .await;
        // An origin nobody listens on: only the proxy can answer for it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = Client::builder()
            .base_url(format!("http://127.0.0.1:{port}"))
            .token("proxy-test-token")
            .proxy(Proxy::http(proxy.uri()).unwrap())
            .retry_policy(RetryPolicy::default().max_attempts(1))
            .build()
            .unwrap();
        let page = client.total_levels().send().await.unwrap();
        assert_eq!(page.len(), 0);
        let seen = proxy.received_requests().await.unwrap();
        assert_eq!(seen.len(), 1);
        // The proxy was asked for the instance's origin (absolute-form request target).
        assert_eq!(seen[0].url.port(), Some(port), "{}", seen[0].url);

        // Without the proxy the same request cannot reach anything.
        let direct = Client::builder()
            .base_url(format!("http://127.0.0.1:{port}"))
            .token("proxy-test-token")
            .no_proxy()
            .retry_policy(RetryPolicy::default().max_attempts(1))
            .build()
            .unwrap();
        assert!(direct.total_levels().send().await.unwrap_err().is_network());
    })
    .await
}
