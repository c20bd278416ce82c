//! The workspace's own vocabulary in the spec, compared by meaning: `info.version`, the keys
//! of the `sort` pattern, `x-filterable-fields` and deprecations.
//!
//! Deprecations are written `deprecated: true` (on a property or parameter, with an
//! optional [`DEPRECATION_NOTE`]), `deprecated: "<note>"` on an entry of
//! `x-filterable-fields`, and [`DEPRECATED_VALUES`] (value → note) beside an enum or on the
//! `sort` parameter's schema for its keys. Codegen reads the same keys to put
//! `#[deprecated]` on the Rust items.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Bump, Cx, Severity, Subject};
use crate::spec;

/// The key of a deprecation's note beside `deprecated: true`.
pub const DEPRECATION_NOTE: &str = "x-deprecation-note";
/// The key listing deprecated enum values (or sort keys) with their notes.
pub const DEPRECATED_VALUES: &str = "x-deprecated-values";

/// Every extension-level change of the spec.
pub(super) fn compare(cx: &mut Cx<'_>) {
    version(cx);
    filterable_fields(cx);
}

fn version(cx: &mut Cx<'_>) {
    let get = |v: &Value| {
        v.pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (from, to) = (get(cx.old), get(cx.new));
    if from != to {
        let c = cx.push(
            Severity::Breaking,
            "info.version",
            format!(
                "the API version moved from {from} to {to}: every request now asks for {to}, \
                 whose responses follow the new description"
            ),
        );
        c.subject = Subject::Version { from, to };
        c.rust = Bump::Major;
    }
}

/// The note of a deprecation marker: a string, or `x-deprecation-note`, or a default.
fn note_of(marker: Option<&Value>, note: Option<&Value>) -> Option<String> {
    match marker {
        Some(Value::Bool(true)) => Some(
            note.and_then(Value::as_str)
                .unwrap_or("deprecated by the API")
                .to_owned(),
        ),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// `deprecated` set or cleared on one item, whose merged schema objects (or the item
/// itself) are `o` (old) and `n` (new), outermost first.
pub(super) fn deprecation(cx: &mut Cx<'_>, at: &str, subject: Subject, o: &[&Value], n: &[&Value]) {
    fn marked<'v>(parts: &[&'v Value]) -> Option<&'v Value> {
        parts
            .iter()
            .copied()
            .find(|p| p.get("deprecated").is_some())
    }
    let (om, nm) = (marked(o), marked(n));
    let note =
        |m: Option<&Value>| m.and_then(|m| note_of(m.get("deprecated"), m.get(DEPRECATION_NOTE)));
    match (note(om), note(nm)) {
        (None, Some(text)) => {
            let adopt = (|| {
                Some(super::Adopt::Deprecated {
                    into: cx.old_at(o.first()?)?,
                    from: cx.new_at(nm?)?,
                })
            })();
            let c = cx.push(Severity::Deprecation, at, format!("deprecated: {text}"));
            c.subject = subject;
            c.adopt = adopt;
        }
        (Some(_), None) => {
            cx.push(Severity::Addition, at, "no longer deprecated")
                .subject = subject;
        }
        _ => {}
    }
}

fn value_notes(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, n)| (k.clone(), n.as_str().unwrap_or("deprecated").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Values newly listed (or no longer listed) in `x-deprecated-values`.
pub(super) fn deprecated_values(
    cx: &mut Cx<'_>,
    at: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    subject: impl Fn(&str) -> Subject,
) {
    let (old, new) = (value_notes(old), value_notes(new));
    for (value, note) in &new {
        if !old.contains_key(value) {
            cx.push(
                Severity::Deprecation,
                at,
                format!("value {value} deprecated: {note}"),
            )
            .subject = subject(value);
        }
    }
    for value in old.keys().filter(|v| !new.contains_key(*v)) {
        cx.push(
            Severity::Addition,
            at,
            format!("value {value} no longer deprecated"),
        )
        .subject = subject(value);
    }
}

/// The sort keys of a `sort` parameter's schema (read from its pattern the way codegen
/// reads them), or `None` when it has no pattern of that shape.
pub(super) fn sort_keys_of(spec: &Value, schema: &Value) -> Option<Vec<String>> {
    let (schema, _) = spec::resolve(spec, schema);
    let pattern = schema.get("pattern")?.as_str()?;
    shipstream_inventory_codegen::facts::sort_keys(pattern).ok()
}

/// Sort keys removed (a request naming them is refused: breaking), added, deprecated.
pub(super) fn sort_keys(cx: &mut Cx<'_>, at: &str, old: &Value, new: &Value) {
    let (Some(ok), Some(nk)) = (sort_keys_of(cx.old, old), sort_keys_of(cx.new, new)) else {
        return;
    };
    for key in ok.iter().filter(|k| !nk.contains(k)) {
        let c = cx.push(
            Severity::Breaking,
            at,
            format!("sort key {key} removed (requests sorting by it are refused)"),
        );
        c.subject = Subject::SortKey(key.clone());
        c.removes_item = true;
    }
    for key in nk.iter().filter(|k| !ok.contains(k)) {
        cx.push(Severity::Addition, at, format!("new sort key {key}"))
            .subject = Subject::SortKey(key.clone());
    }
    let (od, nd) = (
        spec::resolve(cx.old, old).0.get(DEPRECATED_VALUES),
        spec::resolve(cx.new, new).0.get(DEPRECATED_VALUES),
    );
    deprecated_values(cx, at, od, nd, |k| Subject::SortKey(k.to_owned()));
}

/// The `x-filterable-fields` of every operation's parameters, by operation label.
fn filterable(spec: &Value) -> BTreeMap<String, (String, &serde_json::Map<String, Value>)> {
    let mut out = BTreeMap::new();
    for op in spec::operations(spec) {
        for ((location, name), p) in spec::parameters(spec, &op) {
            if let Some(fields) = p.get("x-filterable-fields").and_then(Value::as_object) {
                out.insert(
                    op.label(),
                    (
                        format!("{} parameter {location} `{name}`", op.label()),
                        fields,
                    ),
                );
            }
        }
    }
    out
}

fn filterable_fields(cx: &mut Cx<'_>) {
    let (old, new) = (filterable(cx.old), filterable(cx.new));
    for (op, (at, of)) in &old {
        let Some((_, nf)) = new.get(op) else { continue };
        for (name, o) in of.iter() {
            let here = format!("{at} filterable field `{name}`");
            let subject = Subject::FilterField(name.clone());
            let Some(n) = nf.get(name) else {
                let c = cx.push(
                    Severity::Breaking,
                    &here,
                    "no longer filterable (its typed handle disappears)",
                );
                c.subject = subject;
                c.removes_item = true;
                continue;
            };
            let kind = |v: &Value| v.get("kind").and_then(Value::as_str).map(str::to_owned);
            if kind(o) != kind(n) {
                cx.push(
                    Severity::Breaking,
                    &here,
                    format!(
                        "kind changed from {} to {} (its typed handle changes type)",
                        kind(o).unwrap_or_default(),
                        kind(n).unwrap_or_default()
                    ),
                )
                .subject = subject.clone();
            }
            let values = |v: &Value| -> Vec<String> {
                v.get("values")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (ov, nv) = (values(o), values(n));
            for v in ov.iter().filter(|v| !nv.contains(v)) {
                let c = cx.push(
                    Severity::Breaking,
                    &here,
                    format!("value {v} removed (filters naming it are refused)"),
                );
                c.subject = subject.clone();
                c.removes_item = true;
            }
            for v in nv.iter().filter(|v| !ov.contains(v)) {
                cx.push(Severity::Addition, &here, format!("new value {v}"))
                    .subject = subject.clone();
            }
            deprecation(cx, &here, subject, &[o], &[n]);
        }
        for name in nf.keys().filter(|k| !of.contains_key(*k)) {
            cx.push(
                Severity::Addition,
                &format!("{at} filterable field `{name}`"),
                "new filterable field",
            )
            .subject = Subject::FilterField(name.clone());
        }
    }
}
