//! Contract-test helpers for the `shipstream-inventory` workspace.
//!
//! The library part holds [`spec`], which turns the OpenAPI 3.0 description in
//! `openapi.yaml` (the workspace's single source of truth) into JSON Schema validators, so
//! that any test can check a response body against the schema documented for its status:
//!
//! ```
//! use serde_json::json;
//! use shipstream_inventory_contract_tests::spec;
//!
//! let body = json!({"errors": [{"type": "application", "message": "Invalid token."}]});
//! assert!(spec::response_validator("401").is_valid(&body));
//! assert!(spec::validate_response(401, &body).is_ok());
//! assert!(spec::validate_response(200, &json!({"collection": 5})).is_err());
//! ```
//!
//! [`wire`] reads query strings back by the description's `style`/`explode` rules and
//! checks them and response headers against the declared schemas.
//!
//! [`within`] is the timeout every async test of the workspace runs under, and
//! [`with_causes`] prints an error with its causes.
//!
//! Cross-crate contract tests live in `tests/tests/`.

#![deny(missing_docs)]

pub mod spec;
pub mod timeout;
pub mod wire;

pub use timeout::within;

/// An error's message followed by each of its causes (`: cause: cause`), as the facade's
/// errors show their cause through `source()` only.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
