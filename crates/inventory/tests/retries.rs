//! Retries, backoff, `Retry-After` and error messages. Tests that wait run on tokio's
//! paused clock, so a 30-second `Retry-After` costs no real time. The waits the client
//! chose are read from its "retrying" log events; the paused clock may jump further
//! while the runtime idles on network I/O (other timers, such as the test server's), so
//! elapsed virtual time is only checked from below.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use shipstream_inventory::{Client, RetryPolicy};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

fn ok_page() -> serde_json::Value {
    json!({"collection": [{"type": "TotalLevel", "product": {"type": "Product", "id": 1}}], "has_more": false, "next": null})
}

fn client(server: &MockServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.uri())
        .token("retry-test-token")
        .retry_policy(policy)
        // No timers while waiting on the network, so the paused clock only jumps over
        // the retry waits themselves.
        .connect_timeout(None)
        .request_timeout(None)
        .build()
        .unwrap()
}

mod support;

/// The `wait_ms` of every "retrying" event logged by this test.
struct Waits(support::Capture);

impl Waits {
    fn record() -> Self {
        Self(support::capture())
    }

    fn millis(&self) -> Vec<u64> {
        self.0
            .text()
            .lines()
            .filter(|l| l.contains("retrying"))
            .filter_map(|l| {
                let rest = &l[l.find("wait_ms=")? + "wait_ms=".len()..];
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .collect()
    }
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_for_429() {
    support::within(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(ok_page()))
            .mount(&server)
            .await;
        let waits = Waits::record();
        let started = tokio::time::Instant::now();
        let page = client(&server, RetryPolicy::default())
            .total_levels()
            .send()
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(requests(&server).await, 3);
        assert_eq!(waits.millis(), [30_000, 30_000]);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(60), "waited only {waited:?}");
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_is_honoured() {
    support::within(async {
        let server = MockServer::start().await;
        let when = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(10));
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503).insert_header("retry-after", when.as_str()))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(ok_page()))
            .mount(&server)
            .await;
        let waits = Waits::record();
        let started = tokio::time::Instant::now();
        client(&server, RetryPolicy::default())
            .total_levels()
            .send()
            .await
            .unwrap();
        let chosen = waits.millis();
        assert_eq!(chosen.len(), 1);
        assert!((8_000..=10_000).contains(&chosen[0]), "{chosen:?}");
        assert!(
            started.elapsed() >= Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn transient_statuses_are_retried_with_growing_waits() {
    support::within(async {
        for status in [408u16, 409, 429, 500, 502, 503, 504] {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(status).set_body_string("<html>busy</html>"))
                .up_to_n_times(3)
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(200).set_body_json(ok_page()))
                .mount(&server)
                .await;
            let policy = RetryPolicy::default()
                .initial_delay(Duration::from_secs(1))
                .jitter(false);
            let waits = Waits::record();
            let started = tokio::time::Instant::now();
            client(&server, policy).total_levels().send().await.unwrap();
            assert_eq!(requests(&server).await, 4, "status {status}");
            assert_eq!(waits.millis(), [1_000, 2_000, 4_000], "status {status}");
            assert!(
                started.elapsed() >= Duration::from_secs(7),
                "status {status}"
            );
        }
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn attempts_are_bounded_and_the_last_status_is_reported() {
    support::within(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503).set_body_string("down"))
            .mount(&server)
            .await;
        let err = client(&server, RetryPolicy::default().max_attempts(3))
            .total_levels()
            .send()
            .await
            .unwrap_err();
        assert_eq!(requests(&server).await, 3);
        assert_eq!(err.status(), Some(503));
        assert_eq!(err.attempts(), 3);
        assert!(err.is_retryable());
        assert!(err.to_string().contains("after 3 attempts"), "{err}");
    })
    .await
}

#[tokio::test]
async fn the_time_budget_ends_retries() {
    support::within(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        // Real time, small numbers: attempts at about 0, 40, 80, 120 ms; the budget of 100 ms
        // is spent by the fourth failure, so there are at most four attempts, not a hundred.
        let policy = RetryPolicy::default()
            .max_attempts(100)
            .initial_delay(Duration::from_millis(40))
            .max_delay(Duration::from_millis(40))
            .jitter(false)
            .time_budget(Duration::from_millis(100));
        let started = std::time::Instant::now();
        let err = client(&server, policy)
            .total_levels()
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(500));
        let n = requests(&server).await;
        assert!((2..=4).contains(&n), "{n} attempts");
        assert!(started.elapsed() >= Duration::from_millis(80));
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_cap_ends_retries_at_once() {
    support::within(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
            .mount(&server)
            .await;
        let err = client(&server, RetryPolicy::default())
            .total_levels()
            .send()
            .await
            .unwrap_err();
        assert!(err.is_rate_limited());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
        assert_eq!(requests(&server).await, 1);
        assert!(err.to_string().contains("3600s"), "{err}");
    })
    .await
}

#[tokio::test]
async fn other_client_errors_are_never_retried() {
    support::within(async {
    for (status, check) in [
        (400u16, "check the filter" as &str),
        (401, "Global Integrations"),
        (403, "permissions"),
        (404, "instance URL"),
        (422, "unexpected status"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({
                "errors": [{"type": "application", "message": "nope", "details": [{"key": "limit", "message": "too big"}]}]
            })))
            .mount(&server)
            .await;
        let err = client(&server, RetryPolicy::default())
            .total_levels()
            .send()
            .await
            .unwrap_err();
        assert_eq!(requests(&server).await, 1, "status {status} was retried");
        assert_eq!(err.status(), Some(status));
        assert!(!err.is_retryable());
        let text = err.to_string();
        assert!(text.contains(check), "{status}: {text}");
        assert!(text.contains("limit: too big"), "{text}");
        assert_eq!(err.api_error().unwrap().errors[0].details[0].key, "limit");
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let err = client(&server, RetryPolicy::default())
        .total_levels()
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized() && err.api_error().is_none());
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn damaged_bodies_are_retried_but_wrong_shapes_are_not() {
    support::within(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(r#"{"collection":[{"type":"TotalLe"#),
            )
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(ok_page()))
            .mount(&server)
            .await;
        client(&server, RetryPolicy::default())
            .total_levels()
            .send()
            .await
            .unwrap();
        assert_eq!(requests(&server).await, 3);

        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": []})))
            .mount(&server)
            .await;
        let err = client(&server, RetryPolicy::default())
            .total_levels()
            .send()
            .await
            .unwrap_err();
        assert!(err.is_decode());
        assert!(
            err.to_string()
                .contains("newer shipstream-inventory release"),
            "{err}"
        );
        assert!(!err.to_string().contains("xtask"), "{err}");
        assert_eq!(requests(&server).await, 1);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn connection_failures_are_retried_then_reported() {
    support::within(async {
        // A port nobody listens on: every attempt is refused.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = Client::builder()
            .base_url(format!("http://127.0.0.1:{port}"))
            .token("t")
            .retry_policy(RetryPolicy::default().max_attempts(3))
            .build()
            .unwrap();
        let err = client.total_levels().send().await.unwrap_err();
        assert!(err.is_network(), "{err:?}");
        assert_eq!(err.attempts(), 3);
        assert!(err.to_string().contains("check the URL"), "{err}");
    })
    .await
}

#[tokio::test]
async fn the_generated_client_shares_the_retrying_transport() {
    support::within(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(429)
                    .set_body_string("<html>slow down</html>")
                    .insert_header("retry-after", "0"),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(ok_page()))
            .mount(&server)
            .await;
        let c = client(&server, RetryPolicy::default());
        let page = c
            .generated()
            .list_total_inventory_levels()
            .send()
            .await
            .unwrap();
        assert_eq!(page.collection.len(), 1);
        assert_eq!(
            requests(&server).await,
            2,
            "the 429 with an HTML body was retried below decoding"
        );
    })
    .await
}
