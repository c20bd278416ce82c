//! The wire as `openapi.yaml` describes it: query strings read back by each parameter's
//! `style`, `explode` and type, then checked against the parameter schemas; response
//! headers checked against the headers declared for a status.
//!
//! The query rules are OpenAPI 3.0's for `in: query` (`style: form`, the default):
//!
//! * an array with `explode: true` (the default for `form`) is one `name=value` pair per
//!   item (`filter=a&filter=b`);
//! * an array with `explode: false` is a single pair whose value is the comma-joined items
//!   (`fields=qty_on_hand,updated_at`); the commas are the literal separators, items are
//!   percent-decoded after splitting, and the empty value is the empty array;
//! * a scalar is a single pair; an `integer` or `number` that does not parse is kept as a
//!   string, so that its schema rejects it.
//!
//! Names and values are percent-decoded (`+` reads as a space). A parameter that is not
//! an array but appears more than once, and a parameter the operation does not declare,
//! are problems too.
//!
//! ```
//! use serde_json::json;
//! use shipstream_inventory_contract_tests::spec::spec;
//!
//! let q = spec()
//!     .validate_query("filter=qty_available%7Blt%3A10%7D&filter=is_enabled%3Atrue&fields=qty_on_hand,updated_at&fields%3Aproduct=sku&count=1&limit=50")
//!     .unwrap();
//! assert_eq!(q["filter"], json!(["qty_available{lt:10}", "is_enabled:true"]));
//! assert_eq!(q["fields"], json!(["qty_on_hand", "updated_at"]));
//! assert_eq!(q["fields:product"], json!(["sku"]));
//! assert_eq!(q["limit"], json!(50));
//!
//! let problems = spec().validate_query("limit=0&fields=colour&sort=name&nope=1").unwrap_err();
//! assert_eq!(problems.len(), 4, "{problems:?}");
//! ```

use serde_json::{Map, Value, json};

use crate::spec::{Spec, SpecError, compile};

/// Decodes one percent-encoded query component (`+` is a space). Invalid escapes are kept
/// as they are; bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The raw `(name, value)` pairs of a query string, names decoded, values still encoded.
fn raw_pairs(raw: &str) -> Vec<(String, &str)> {
    raw.trim_start_matches('?')
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|seg| match seg.split_once('=') {
            Some((k, v)) => (percent_decode(k), v),
            None => (percent_decode(seg), ""),
        })
        .collect()
}

/// A scalar query value as the schema's type reads it.
fn typed(schema: &Value, text: String) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => text.parse::<i64>().map_or(Value::String(text), Value::from),
        Some("number") => text
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .unwrap_or(Value::String(text)),
        Some("boolean") => match text.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text),
        },
        _ => Value::String(text),
    }
}

impl Spec {
    /// The operation's query parameters (`$ref`s resolved), in declaration order.
    pub fn query_parameters(&self) -> Result<Vec<&Value>, SpecError> {
        let params = self
            .operation()?
            .get("parameters")
            .and_then(Value::as_array)
            .ok_or_else(|| SpecError::Missing("parameters".into()))?;
        let mut out = Vec::new();
        for p in params {
            let p = self.resolve(p)?;
            if p.get("in").and_then(Value::as_str) == Some("query") {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Reads a raw query string back by the description's rules (see the [module
    /// docs](self)). Returns the values by parameter name, or every problem found.
    pub fn decode_query(&self, raw: &str) -> Result<Map<String, Value>, Vec<String>> {
        let (out, problems) = self.decode_query_lenient(raw);
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }

    /// [`Spec::decode_query`] that also returns what it could decode when there are
    /// problems.
    fn decode_query_lenient(&self, raw: &str) -> (Map<String, Value>, Vec<String>) {
        let params = match self.query_parameters() {
            Ok(p) => p,
            Err(e) => return (Map::new(), vec![e.to_string()]),
        };
        let pairs = raw_pairs(raw);
        let mut problems = Vec::new();
        for (name, _) in &pairs {
            let declared = params
                .iter()
                .any(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str()));
            if !declared
                && !problems
                    .iter()
                    .any(|p: &String| p.contains(&format!("`{name}`")))
            {
                problems.push(format!("`{name}` is not a parameter of the operation"));
            }
        }
        let mut out = Map::new();
        for p in params {
            let Some(name) = p.get("name").and_then(Value::as_str) else {
                continue;
            };
            let values: Vec<&str> = pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| *v)
                .collect();
            if values.is_empty() {
                continue;
            }
            let schema = p.get("schema").cloned().unwrap_or(Value::Null);
            let schema = self.resolve(&schema).cloned().unwrap_or(schema);
            let style = p.get("style").and_then(Value::as_str).unwrap_or("form");
            if style != "form" {
                problems.push(format!("`{name}`: style {style} is not supported here"));
                continue;
            }
            let explode = p.get("explode").and_then(Value::as_bool).unwrap_or(true);
            let is_array = schema.get("type").and_then(Value::as_str) == Some("array");
            let items = schema.get("items").cloned().unwrap_or(Value::Null);
            let value = match (is_array, explode) {
                (true, true) => Value::Array(
                    values
                        .iter()
                        .map(|v| typed(&items, percent_decode(v)))
                        .collect(),
                ),
                (true, false) | (false, _) if values.len() > 1 => {
                    problems.push(format!(
                        "`{name}` appears {} times; the description allows it once",
                        values.len()
                    ));
                    continue;
                }
                (true, false) => {
                    let v = values[0];
                    if v.is_empty() {
                        Value::Array(Vec::new())
                    } else {
                        Value::Array(
                            v.split(',')
                                .map(|i| typed(&items, percent_decode(i)))
                                .collect(),
                        )
                    }
                }
                (false, _) => typed(&schema, percent_decode(values[0])),
            };
            out.insert(name.to_owned(), value);
        }
        (out, problems)
    }

    /// [`Spec::decode_query`], then every value checked against its parameter's schema.
    pub fn validate_query(&self, raw: &str) -> Result<Map<String, Value>, Vec<String>> {
        let (decoded, mut problems) = self.decode_query_lenient(raw);
        for (name, value) in &decoded {
            match self.parameter_validator(name) {
                Ok(v) => problems.extend(
                    v.iter_errors(value)
                        .map(|e| format!("`{name}` = {value}: {e} (at {})", e.instance_path)),
                ),
                Err(e) => problems.push(format!("`{name}`: {e}")),
            }
        }
        if problems.is_empty() {
            Ok(decoded)
        } else {
            Err(problems)
        }
    }

    /// The headers declared for the response documenting `status`: name, JSON Schema
    /// document of the value, and whether it is `required`.
    pub fn response_headers(&self, status: &str) -> Result<Vec<(String, Value, bool)>, SpecError> {
        let response = self.response(status)?;
        let mut out = Vec::new();
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for (name, header) in headers {
                let header = self.resolve(header)?;
                let schema = header.get("schema").cloned().unwrap_or(json!({}));
                let doc = self.document_for(&schema)?;
                let required = header.get("required").and_then(Value::as_bool) == Some(true);
                out.push((name.clone(), doc, required));
            }
        }
        Ok(out)
    }

    /// Checks the headers of a response with `status` against those the description
    /// declares for it: every `required` one is there, and every one that is there has a
    /// valid value. `get` looks a header up by name (case-insensitively).
    pub fn validate_response_headers(
        &self,
        status: u16,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<(), Vec<String>> {
        let headers = self
            .response_headers(&status.to_string())
            .map_err(|e| vec![e.to_string()])?;
        let mut problems = Vec::new();
        for (name, schema, required) in headers {
            match get(&name) {
                None if required => {
                    problems.push(format!("response {status}: header {name} is missing"));
                }
                None => {}
                Some(value) => {
                    let validator = compile(&schema).map_err(|e| vec![e.to_string()])?;
                    let v = typed(&schema, value);
                    problems.extend(
                        validator
                            .iter_errors(&v)
                            .map(|e| format!("response {status}: header {name} = {v}: {e}")),
                    );
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::spec::spec;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c%2C%7B%zz%4"), "a b c,{%zz%4");
        assert_eq!(percent_decode("%E2%9C%93"), "✓");
        assert_eq!(percent_decode("%"), "%");
    }

    #[test]
    fn queries_decode_by_style_and_explode() {
        let s = spec();
        let q = s
            .decode_query(
                "filter=sku%3AA%2CB&filter=x&fields=a,b%2Cc&fields%3Aproduct=&limit=x&count=1",
            )
            .unwrap();
        assert_eq!(q["filter"], json!(["sku:A,B", "x"]));
        assert_eq!(q["fields"], json!(["a", "b,c"]));
        assert_eq!(q["fields:product"], json!([]));
        assert_eq!(q["limit"], json!("x"));
        assert_eq!(q["count"], json!(1));
        let e = s
            .decode_query("limit=1&limit=2&fields=a&fields=b&zzz")
            .unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
    }

    #[test]
    fn query_values_are_checked_against_their_schemas() {
        let s = spec();
        assert!(s.validate_query("").unwrap().is_empty());
        assert!(
            s.validate_query("sort=-updated_at,sku&count=0&cursor_start=5&limit=1000")
                .is_ok()
        );
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=ten",
            "count=2",
            "sort=name",
            "sort=sku,sku",
            "fields=all,all",
            "fields=colour",
            "fields%3Aproduct=sku,",
            "filter=",
            "cursor_end=1.5",
        ] {
            assert!(s.validate_query(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn response_headers_are_checked() {
        let s = spec();
        let ok = |name: &str| (name == "X-ShipStream-API-Version").then(|| "2025-08".to_owned());
        assert!(s.validate_response_headers(200, ok).is_ok());
        let bad = |_: &str| Some("2025-13".to_owned());
        assert!(s.validate_response_headers(200, bad).is_err());
        // The version header is required on a page; the rate-limit ones are not.
        assert!(s.validate_response_headers(200, |_| None).is_err());
        let retry = |name: &str| (name == "Retry-After").then(|| "5".to_owned());
        assert!(s.validate_response_headers(429, retry).is_ok());
        assert!(s.validate_response_headers(429, |_| None).is_err());
        assert!(s.validate_response_headers(409, |_| None).is_ok());
        assert!(s.validate_response_headers(404, |_| None).is_ok());
        let not_a_number = |name: &str| (name == "RateLimit-Remaining").then(|| "x".to_owned());
        assert!(s.validate_response_headers(429, not_a_number).is_err());
    }
}
