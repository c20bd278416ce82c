//! Request recording: [`RecordedRequest`] and the middleware that records.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::query;
use crate::server::{MAX_RECORDED, MockState};

/// One request the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, e.g. `/api/global/v1/inventory/levels/total`.
    pub path: String,
    /// The raw (still encoded) query string, if any.
    pub query: Option<String>,
    /// The decoded query pairs, in order (`+` decoded as a space).
    pub query_pairs: Vec<(String, String)>,
    /// The headers (names lowercase); the `Authorization` value is `<redacted>`.
    pub headers: Vec<(String, String)>,
    /// The status answered (200 also for dropped and truncated bodies).
    pub status: u16,
    /// When the server had its answer ready (before sending it). A client that waits
    /// `d` after an answer before its next request leaves at least `d` between two
    /// consecutive `answered_at`, whatever the network's delays.
    pub answered_at: std::time::Instant,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every decoded value of query parameter `key`.
    pub fn query_values(&self, key: &str) -> Vec<&str> {
        self.query_pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Path and raw query, as requested.
    pub fn uri(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

pub(crate) async fn record(State(state): State<MockState>, req: Request, next: Next) -> Response {
    if !state.inner.config.record_requests {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            let value = if *k == header::AUTHORIZATION {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (k.as_str().to_owned(), value)
        })
        .collect();
    let response = next.run(req).await;
    let rec = RecordedRequest {
        method,
        path,
        query_pairs: query.as_deref().map(query::pairs).unwrap_or_default(),
        query,
        headers,
        status: response.status().as_u16(),
        answered_at: std::time::Instant::now(),
    };
    let mut requests = state.lock_requests();
    if requests.len() >= MAX_RECORDED {
        requests.pop_front();
    }
    requests.push_back(rec);
    response
}
