//! Values for fields the mock has no model of.
//!
//! The dataset models the fields the spec had when the mock was written (quantities with
//! their invariants, products with realistic names, barcodes, weights...). A field the
//! spec gains later still appears in pages, filters and sorts without a mock edit: its
//! value is made up here from its schema in the generated spec (type, format, enum,
//! bounds, example, nullable), deterministically from the product id and the field's
//! name, so the same product always has the same value and paging stays stable.

use std::sync::LazyLock;

use serde_json::{Map, Value};
use shipstream_inventory_generated::api;

use crate::rng::SplitMix64;
use crate::time;

/// The spec, parsed once.
static SPEC: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(api::SPEC_JSON).unwrap_or(Value::Null));

/// How deep nested schemas are followed (a recursive schema ends in `null`).
const MAX_DEPTH: usize = 6;

/// The value of `property` (a level or product property of the generated tables) for the
/// product with id `id`.
pub(crate) fn property(property: &api::Property, id: u32) -> Value {
    let schema = SPEC.pointer(property.pointer).unwrap_or(&Value::Null);
    let mut rng = SplitMix64::derive(u64::from(id), fnv(property.pointer));
    value(schema, property.name, id, &mut rng, 0)
}

/// A value of a filterable field that is neither modelled nor a level or product property,
/// made from its kind alone.
pub(crate) fn filter_field(field: &api::FilterableField, id: u32) -> Value {
    let mut rng = SplitMix64::derive(u64::from(id), fnv(field.name));
    match field.kind {
        api::FieldKind::Integer => Value::from(rng.range(0, 1000)),
        api::FieldKind::Boolean => Value::Bool(rng.chance(0.5)),
        api::FieldKind::Timestamp => Value::String(timestamp(&mut rng)),
        api::FieldKind::Enum(values) if !values.is_empty() => {
            Value::String((*rng.pick(values)).to_owned())
        }
        _ => Value::String(format!("{}-{id}", field.name)),
    }
}

fn fnv(s: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    for _ in 0..MAX_DEPTH {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                s = SPEC
                    .pointer(r.trim_start_matches('#'))
                    .unwrap_or(&Value::Null)
            }
            None => break,
        }
    }
    s
}

/// A timestamp in whole seconds within the year before the dataset's "now".
fn timestamp(rng: &mut SplitMix64) -> String {
    let secs = crate::dataset::GENERATED_NOW - rng.range(0, 365 * 86_400) as i64;
    time::to_string(secs)
}

fn value(schema: &Value, name: &str, id: u32, rng: &mut SplitMix64, depth: usize) -> Value {
    let s = resolve(schema);
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if s.get("nullable").and_then(Value::as_bool) == Some(true) && rng.chance(0.2) {
        return Value::Null;
    }
    let strings = |v: Option<&Value>| -> Vec<Value> {
        v.and_then(Value::as_array)
            .map(|a| a.iter().filter(|x| !x.is_null()).cloned().collect())
            .unwrap_or_default()
    };
    if let Some(values) = s.get("enum").map(|e| strings(Some(e)))
        && !values.is_empty()
    {
        return rng.pick(&values).clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = s.get(key).and_then(Value::as_array) {
            // The open-enum form lists its known values in one branch: take those; else
            // the first branch.
            let pick = branches
                .iter()
                .find(|b| b.get("enum").is_some())
                .or_else(|| branches.first());
            if let Some(branch) = pick {
                return value(branch, name, id, rng, depth + 1);
            }
        }
    }
    match s.get("type").and_then(Value::as_str) {
        Some("integer") => {
            let lo = s.get("minimum").and_then(Value::as_i64).unwrap_or(0);
            let hi = s
                .get("maximum")
                .and_then(Value::as_i64)
                .unwrap_or(lo.saturating_add(1000));
            let span = hi.saturating_sub(lo).max(0) as u64;
            Value::from(lo.saturating_add(rng.range(0, span) as i64))
        }
        Some("number") => {
            let lo = s.get("minimum").and_then(Value::as_f64).unwrap_or(0.0);
            let hi = s
                .get("maximum")
                .and_then(Value::as_f64)
                .unwrap_or(lo + 1000.0);
            let x = lo + (hi - lo) * rng.next_f64();
            serde_json::Number::from_f64((x * 100.0).round() / 100.0)
                .map_or(Value::Null, Value::Number)
        }
        Some("boolean") => Value::Bool(rng.chance(0.5)),
        Some("array") => {
            let items = s.get("items").unwrap_or(&Value::Null);
            let n = rng.range(0, 3);
            Value::Array(
                (0..n)
                    .map(|_| value(items, name, id, rng, depth + 1))
                    .collect(),
            )
        }
        Some("object") => {
            let mut out = Map::new();
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, p) in props {
                    out.insert(k.clone(), value(p, k, id, rng, depth + 1));
                }
            }
            Value::Object(out)
        }
        Some("string") => Value::String(string(s, name, id, rng)),
        _ => Value::String(format!("{name}-{id}")),
    }
}

fn string(s: &Value, name: &str, id: u32, rng: &mut SplitMix64) -> String {
    let text = match s.get("format").and_then(Value::as_str) {
        Some("date-time") => timestamp(rng),
        Some("date") => timestamp(rng).chars().take(10).collect(),
        Some("uri" | "uri-reference" | "url") => format!("https://example.com/{name}/{id}"),
        Some("email") => format!("{name}.{id}@example.com"),
        Some("uuid") => {
            let (a, b) = (rng.next_u64(), rng.next_u64());
            format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xfff,
                (b >> 48) & 0xfff,
                b & 0xffff_ffff_ffff
            )
        }
        _ => match s.get("example").and_then(Value::as_str) {
            Some(example) => example.to_owned(),
            None => format!("{name}-{id}"),
        },
    };
    let max = s
        .get("maxLength")
        .and_then(Value::as_u64)
        .map_or(usize::MAX, |m| m as usize);
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let mut text: String = text.chars().take(max).collect();
    while text.chars().count() < min {
        text.push('x');
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn make(schema: Value, id: u32) -> Value {
        let mut rng = SplitMix64::derive(u64::from(id), 1);
        value(&schema, "field", id, &mut rng, 0)
    }

    #[test]
    fn values_fit_their_schema_and_repeat_for_the_same_product() {
        let cases = [
            json!({"type": "integer", "minimum": 5, "maximum": 9}),
            json!({"type": "string", "format": "date-time"}),
            json!({"type": "string", "enum": ["a", "b"]}),
            json!({"anyOf": [{"type": "string", "enum": ["X"]}, {"type": "string"}]}),
            json!({"type": "string", "example": "ABC", "maxLength": 2}),
            json!({"type": "object", "properties": {"n": {"type": "number"}, "b": {"type": "boolean"}}}),
            json!({"type": "array", "items": {"type": "integer"}}),
        ];
        for (i, schema) in cases.iter().enumerate() {
            for id in 1..50 {
                let v = make(schema.clone(), id);
                assert_eq!(v, make(schema.clone(), id), "deterministic");
                match i {
                    0 => assert!((5..=9).contains(&v.as_i64().unwrap())),
                    1 => assert!(chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).is_ok()),
                    2 => assert!(["a", "b"].contains(&v.as_str().unwrap())),
                    3 => assert_eq!(v, "X"),
                    4 => assert_eq!(v, "AB"),
                    5 => assert!(v["n"].is_number() && v["b"].is_boolean()),
                    _ => assert!(v.as_array().unwrap().iter().all(Value::is_i64)),
                }
            }
        }
    }

    #[test]
    fn nullable_values_are_sometimes_null() {
        let schema = json!({"type": "string", "nullable": true});
        let nulls = (1..200)
            .filter(|id| make(schema.clone(), *id).is_null())
            .count();
        assert!((10..100).contains(&nulls), "{nulls}");
    }
}
