//! The operation's parameters (bounds, default, values, encoding), its response headers,
//! its limits and the deprecations marked on any of them.

use serde_json::Value;

use super::*;
use crate::Error;

/// A deprecation marker's note: `deprecated: "<note>"`, or `deprecated: true` with
/// `x-deprecation-note` (else a default).
pub(super) fn deprecation_note(v: &Value) -> Option<String> {
    match v.get("deprecated") {
        Some(Value::String(note)) => Some(note.clone()),
        Some(Value::Bool(true)) => Some(
            v.get("x-deprecation-note")
                .and_then(Value::as_str)
                .unwrap_or("deprecated by the API")
                .to_owned(),
        ),
        _ => None,
    }
}

pub(super) fn value_notes(v: &Value) -> Vec<(String, String)> {
    v.get("x-deprecated-values")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, n)| {
                    (
                        k.clone(),
                        n.as_str().unwrap_or("deprecated by the API").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every deprecation of the spec ([`Deprecations`]).
pub(super) fn deprecations(spec: &Value, op: &Value) -> Deprecations {
    let mut d = Deprecations::default();
    for (name, schema) in spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (prop, p) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(note) = deprecation_note(p) {
                d.properties.insert((name.clone(), prop.clone()), note);
            }
        }
        for (value, note) in value_notes(schema) {
            d.enum_values.insert((name.clone(), value), note);
        }
    }
    for p in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| resolve(spec, p))
    {
        let name = text(p, "name");
        if let Some(note) = deprecation_note(p) {
            d.parameters.insert(name.clone(), note);
        }
        if name == "sort"
            && let Some(schema) = p.get("schema")
        {
            d.sort_keys.extend(value_notes(resolve(spec, schema)));
        }
    }
    d
}

/// The operation's `x-rate-limits` and the names of the headers reporting them.
pub(super) fn limits(spec: &Value, op: &Value) -> Result<Limits, Error> {
    let ext = op
        .get("x-rate-limits")
        .ok_or_else(|| bad("the operation has no `x-rate-limits`"))?;
    let number = |key: &str| {
        ext.get(key)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                bad(format!(
                    "`x-rate-limits.{key}` must be a whole number above 0"
                ))
            })
    };
    let header = |component: &str| response_header(spec, op, "429", component);
    let window = spec
        .pointer("/components/headers/RateLimitLimit/x-window-seconds")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            bad(
                "the RateLimitLimit header needs `x-window-seconds`: the seconds its count \
                 covers (60 for a rate a minute)",
            )
        })?;
    Ok(Limits {
        limit_window_seconds: window,
        requests_per_second: number("requests_per_second")?,
        burst: number("burst")?,
        concurrent_requests: number("concurrent_requests")?,
        limit_header: header("RateLimitLimit")?,
        remaining_header: header("RateLimitRemaining")?,
        concurrency_limit_header: header("ConcurrencyLimit")?,
        concurrency_current_header: header("ConcurrencyCurrent")?,
    })
}

/// The name under which the operation's `status` response lists the header component
/// `component` (`#/components/headers/<component>`).
pub(super) fn response_header(
    spec: &Value,
    op: &Value,
    status: &str,
    component: &str,
) -> Result<String, Error> {
    let response = op
        .pointer(&format!("/responses/{status}"))
        .map(|r| resolve(spec, r))
        .ok_or_else(|| bad(format!("the operation has no {status} response")))?;
    let headers = response
        .get("headers")
        .and_then(Value::as_object)
        .ok_or_else(|| bad(format!("the {status} response lists no headers")))?;
    let target = format!("#/components/headers/{component}");
    headers
        .iter()
        .find(|(_, h)| h.get("$ref").and_then(Value::as_str) == Some(target.as_str()))
        .map(|(name, _)| name.clone())
        .ok_or_else(|| {
            bad(format!(
                "the {status} response has no header referring to {target}"
            ))
        })
}

pub(super) fn pointer_of(v: &Value, here: &str) -> String {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r.trim_start_matches('#').to_owned(),
        None => here.to_owned(),
    }
}

pub(super) fn param(spec: &Value, p: &Value) -> Result<Param, Error> {
    let name = text(p, "name");
    let location = match p.get("in").and_then(Value::as_str) {
        Some("query") => Location::Query,
        Some("header") => Location::Header,
        other => {
            return Err(bad(format!(
                "parameter `{name}` is in {other:?}; only query and header parameters are supported"
            )));
        }
    };
    let schema = resolve(spec, p.get("schema").unwrap_or(&Value::Null));
    let ty = JsonType::parse(schema.get("type").and_then(Value::as_str));
    let items = schema.get("items").map(|i| resolve(spec, i));
    let item_type = items.map(|i| match open_enum_values(i) {
        Some(_) => JsonType::String,
        None => JsonType::parse(i.get("type").and_then(Value::as_str)),
    });
    let explode = p
        .get("explode")
        .and_then(Value::as_bool)
        .unwrap_or(p.get("style").and_then(Value::as_str).unwrap_or("form") == "form");
    let is_array = ty == JsonType::Array;
    let scalar = items.unwrap_or(schema);
    let int = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64);
    Ok(Param {
        description: text(p, "description"),
        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
        ty,
        item_type,
        comma_joined: is_array && !explode,
        repeated: is_array && explode,
        minimum: int(schema, "minimum"),
        maximum: int(schema, "maximum"),
        min_length: scalar.get("minLength").and_then(Value::as_u64),
        default: schema.get("default").map(|d| match d {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        values: open_enum_values(scalar).unwrap_or_else(|| strings(scalar.get("enum"))),
        open: open_enum_values(scalar).is_some(),
        pattern: scalar
            .get("pattern")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name,
        location,
    })
}
