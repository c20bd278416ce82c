//! Applying a request's fault plan to the response: error statuses, and bodies delivered
//! whole, truncated or cut off by an aborted connection.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::Plan;
use crate::handler::error_response;
use crate::query::Kind;

/// The response of an injected error status, with the API's error body.
pub(crate) fn fault_status_response(code: u16, retry_after: Option<u32>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match code {
        429 => "Too many requests: the rate limit was exceeded (mock fault).".to_owned(),
        409 => "Too many concurrent requests for this user (mock fault).".to_owned(),
        c if c >= 500 => format!("Server error {c} (mock fault); retry later."),
        c => format!("Request refused with status {c} (mock fault)."),
    };
    let mut r = error_response(status, Kind::Meaning, &message, &[]);
    if let Some(secs) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// Sends the body: whole, truncated, or cut off by an aborted connection.
pub(crate) fn deliver(body: Vec<u8>, applied: &Plan) -> Response {
    let json = HeaderValue::from_static("application/json");
    let body = Bytes::from(body);
    if applied.drop {
        let full = body.len();
        let part = body.slice(..full / 2);
        let chunks = futures_util::stream::unfold(0u8, move |step| {
            let part = part.clone();
            async move {
                match step {
                    0 => Some((Ok::<Bytes, std::io::Error>(part), 1)),
                    1 => {
                        // Let the first chunk reach the socket before the abort.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Some((
                            Err(std::io::Error::new(
                                std::io::ErrorKind::ConnectionAborted,
                                "mock fault: connection dropped mid-body",
                            )),
                            2,
                        ))
                    }
                    _ => None,
                }
            }
        });
        return (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, json),
                (header::CONTENT_LENGTH, HeaderValue::from(full)),
            ],
            Body::from_stream(chunks),
        )
            .into_response();
    }
    let body = if applied.truncate {
        body.slice(..body.len() / 2)
    } else {
        body
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, json)], body).into_response()
}
