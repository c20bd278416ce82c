//! The query grammar's facts: the filterable fields with their kinds, the operators
//! (documented or assumed) and the sort keys read off the `sort` pattern.

use serde_json::Value;

use super::*;
use crate::Error;

/// The keys of the `sort` pattern, which must have the shape
/// `^(?!<repeat check>)(?:-?(?:key1|key2|...)(?:,(?!$)|$))+$`.
pub fn sort_keys(pattern: &str) -> Result<Vec<String>, Error> {
    const OPEN: &str = "(?:-?(?:";
    const CLOSE: &str = ")(?:,(?!$)|$))+$";
    let start = pattern.rfind(OPEN).ok_or_else(|| {
        bad(format!(
            "the `sort` pattern must end in `{OPEN}key|key|...{CLOSE}` so the sort keys can be read \
             from it; it is `{pattern}`"
        ))
    })?;
    let rest = &pattern[start + OPEN.len()..];
    let list = rest.strip_suffix(CLOSE).ok_or_else(|| {
        bad(format!(
            "the `sort` pattern must end in `{CLOSE}`; it is `{pattern}`"
        ))
    })?;
    let keys: Vec<String> = list.split('|').map(str::to_owned).collect();
    for k in &keys {
        let ok = k.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && k.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(bad(format!(
                "sort key `{k}` in the `sort` pattern is not a plain field name"
            )));
        }
    }
    Ok(keys)
}

pub(super) fn filterable_fields(
    filter: &Value,
    sort_keys: &[String],
    order: &[String],
) -> Result<Vec<FilterField>, Error> {
    let Some(map) = filter.get("x-filterable-fields").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    in_order(map, order)
        .into_iter()
        .map(|(name, v)| {
            let kind = match v.get("kind").and_then(Value::as_str) {
                Some("integer") => FieldKind::Integer,
                Some("string") => FieldKind::String,
                Some("boolean") => FieldKind::Boolean,
                Some("timestamp") => FieldKind::Timestamp,
                Some("enum") => {
                    let values = strings(v.get("values"));
                    if values.is_empty() {
                        return Err(bad(format!(
                            "x-filterable-fields: `{name}` is an enum without `values`"
                        )));
                    }
                    FieldKind::Enum(values)
                }
                other => {
                    return Err(bad(format!(
                        "x-filterable-fields: `{name}` has kind {other:?}; use integer, \
                         string, boolean, timestamp or enum"
                    )));
                }
            };
            let group = text(v, "group");
            if !matches!(group.as_str(), "product" | "inventory") {
                return Err(bad(format!(
                    "x-filterable-fields: `{name}` has group `{group}`; use product or inventory"
                )));
            }
            Ok(FilterField {
                name: name.clone(),
                kind,
                group,
                description: text(v, "description"),
                sortable: sort_keys.contains(name),
                deprecated: match v.get("deprecated") {
                    Some(Value::String(note)) => Some(note.clone()),
                    Some(Value::Bool(true)) => Some("deprecated by the API".to_owned()),
                    _ => None,
                },
            })
        })
        .collect()
}

pub(super) fn operators(v: Option<&Value>) -> Vec<Operator> {
    let Some(v) = v else { return Vec::new() };
    let mut out: Vec<Operator> = strings(v.get("documented"))
        .into_iter()
        .map(|name| Operator {
            name,
            documented: true,
        })
        .collect();
    out.extend(strings(v.get("assumed")).into_iter().map(|name| Operator {
        name,
        documented: false,
    }));
    out
}
