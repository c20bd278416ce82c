//! The spec's `x-assumed` notes (`[id] what is assumed`) and the rule that every claim the
//! vendor's documentation does not make carries one, member by member.

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::spec::escape;

/// One `x-assumed` note with its id: the note's text is `[id] what is assumed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedNote {
    /// The stable, kebab-case id (`next-link-form`).
    pub id: String,
    /// JSON pointer to the element that carries the note.
    pub pointer: String,
    /// What is assumed, without the id.
    pub text: String,
}

/// The id of a note written `[id] text`, and the text after it; `None` when the note does
/// not start with a kebab-case id in brackets followed by a space and some text.
pub fn split_note_id(note: &str) -> Option<(&str, &str)> {
    let rest = note.strip_prefix('[')?;
    let (id, text) = rest.split_once("] ")?;
    let kebab = !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    (kebab && !text.trim().is_empty()).then_some((id, text))
}

/// The spec's notes with their ids, and one line per note without a valid id or with an
/// id another note already has.
/// `assumptions` are `(pointer, note)` pairs in document order.
pub fn assumed_notes<'a>(
    assumptions: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (Vec<AssumedNote>, Vec<String>) {
    let mut notes: Vec<AssumedNote> = Vec::new();
    let mut problems = Vec::new();
    for (pointer, note) in assumptions {
        let Some((id, text)) = split_note_id(note) else {
            let start: String = note.chars().take(60).collect();
            problems.push(format!(
                "{pointer}: the note \"{start}...\" has no id: write it as \
                 `[some-kebab-id] {start}...`"
            ));
            continue;
        };
        if let Some(first) = notes.iter().find(|n| n.id == id) {
            problems.push(format!(
                "{pointer}: the id `{id}` is already used at {}; every note needs its own",
                first.pointer
            ));
            continue;
        }
        notes.push(AssumedNote {
            id: id.to_owned(),
            pointer: pointer.to_owned(),
            text: text.to_owned(),
        });
    }
    (notes, problems)
}

/// The spec's notes with their ids; fails naming every note without a valid, unique id.
pub fn assumed_notes_of(spec_text: &str) -> Result<Vec<AssumedNote>> {
    let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(spec_text)
        .context("cannot read the spec's facts")?;
    let pairs = facts.assumptions.iter();
    let (notes, problems) = assumed_notes(pairs.map(|a| (a.pointer.as_str(), a.text.as_str())));
    if !problems.is_empty() {
        bail!(
            "x-assumed notes without a unique id (`cargo xtask check` lists them):\n  - {}",
            problems.join("\n  - ")
        );
    }
    Ok(notes)
}

/// The texts of a node's `x-assumed` and `x-confirmed` notes (each a string or a list).
fn notes_on(node: &Value) -> Vec<&str> {
    ["x-assumed", "x-confirmed"]
        .iter()
        .filter_map(|k| node.get(*k))
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            v => v.as_str().into_iter().collect::<Vec<_>>(),
        })
        .collect()
}

/// The keywords that bound a value.
const BOUNDS: [&str; 8] = [
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
];

/// Walks one component, keeping each claim no note covers as `pointer: claim`.
struct Component<'a> {
    spec: &'a Value,
    /// `headers` or `parameters`: a `required: true` on the component is a claim.
    section: &'a str,
    /// The notes on the component itself.
    notes: Vec<&'a str>,
    unnoted: Vec<String>,
}

impl Component<'_> {
    /// A claim at `ptr`, named in a component note by `name` (`` `name` ``); `covered`
    /// when a note on its node or an enclosing property covers it.
    fn claim(&mut self, ptr: &str, what: String, name: &str, covered: bool) {
        let named = self.notes.iter().any(|n| n.contains(&format!("`{name}`")));
        if !covered && !named {
            self.unnoted.push(format!("{ptr}: {what}"));
        }
    }

    /// `covered`: an enclosing property carries a note; `member`: the nearest enclosing
    /// property's name, which names every claim inside it.
    fn walk(&mut self, node: &Value, ptr: &str, root: bool, covered: bool, member: Option<&str>) {
        let map = match node {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &format!("{ptr}/{i}"), false, covered, member);
                }
                return;
            }
            Value::Object(map) if !map.contains_key("$ref") => map,
            _ => return,
        };
        let own = !notes_on(node).is_empty();
        let here = covered || own;
        if map.get("nullable") == Some(&Value::Bool(true)) {
            self.claim(ptr, "nullable".into(), member.unwrap_or("nullable"), here);
        }
        if let Some(f) = map.get("format").and_then(Value::as_str) {
            self.claim(ptr, format!("format {f}"), member.unwrap_or(f), here);
        }
        for v in map
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            self.claim(ptr, format!("enum value {v}"), member.unwrap_or(&v), here);
        }
        if map.get("uniqueItems") == Some(&Value::Bool(true)) {
            self.claim(
                ptr,
                "uniqueItems".into(),
                member.unwrap_or("uniqueItems"),
                here,
            );
        }
        for b in BOUNDS {
            if let Some(v) = map.get(b) {
                self.claim(ptr, format!("{b} {v}"), member.unwrap_or(b), here);
            }
        }
        if root
            && matches!(self.section, "headers" | "parameters")
            && map.get("required") == Some(&Value::Bool(true))
        {
            self.claim(ptr, "required".into(), "required", here);
        }
        let props = map.get("properties").and_then(Value::as_object);
        let prop_noted = |name: &str| {
            covered
                || props
                    .and_then(|p| p.get(name))
                    .is_some_and(|p| !notes_on(p).is_empty())
        };
        for m in map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let m = m.as_str().unwrap_or_default();
            self.claim(ptr, format!("required {m}"), m, prop_noted(m));
        }
        for (name, p) in props.into_iter().flatten() {
            let (target, _) = crate::spec::resolve(self.spec, p);
            let typed = ["type", "anyOf", "oneOf", "allOf", "enum", "properties"]
                .iter()
                .any(|k| target.get(*k).is_some());
            if typed && target.get("nullable") != Some(&Value::Bool(true)) {
                let at = format!("{ptr}/properties/{}", escape(name));
                self.claim(&at, "never null".into(), name, prop_noted(name));
            }
        }
        for (key, child) in map {
            if key.starts_with("x-") || matches!(key.as_str(), "example" | "examples") {
                continue;
            }
            let at = format!("{ptr}/{}", escape(key));
            if key == "properties" {
                for (name, p) in child.as_object().into_iter().flatten() {
                    let noted = (here && !root) || !notes_on(p).is_empty();
                    let at = format!("{at}/{}", escape(name));
                    self.walk(p, &at, false, covered || noted, Some(name));
                }
            } else {
                self.walk(child, &at, false, covered || (own && !root), member);
            }
        }
    }
}

/// Every claim of the spec the vendor's documentation may not make, member by member:
/// nullable or never null (every typed property that is not nullable), any `format`, each
/// value of an `enum` (closed, or the listed values of an open one), `uniqueItems`, each
/// bound, each `required` member, a header's or parameter's `required`, each status code of
/// an operation. A claim is noted by a note (`x-assumed` or `x-confirmed`) on its own node
/// or on an enclosing property, or by a note of its component that names it in backticks:
/// its member (`` `count` ``), or, for a claim outside any member (a parameter's schema, an
/// open enum's values), its keyword or value (`` `int64` ``, `` `uniqueItems` ``,
/// `` `Packaging` ``).
/// A component's notes cover the component's own claims (its `nullable`, a header's
/// `required`), never its members'. A `$ref` is judged where its target is defined.
/// Returns each unnoted claim as `pointer: claim`, and each `x-confirmed` that names no
/// page (no `https://` address) as `pointer: x-confirmed names no page`.
pub fn unnoted_claims(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for section in ["schemas", "parameters", "headers", "responses"] {
        let Some(components) = spec
            .pointer(&format!("/components/{section}"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, component) in components {
            let ptr = format!("/components/{section}/{}", escape(name));
            let mut c = Component {
                spec,
                section,
                notes: notes_on(component),
                unnoted: Vec::new(),
            };
            c.walk(component, &ptr, true, false, None);
            out.extend(c.unnoted);
        }
    }
    for op in crate::spec::operations(spec) {
        for (status, r) in op
            .op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(s, _)| *s != "default")
        {
            let (target, name) = crate::spec::resolve(spec, r);
            if notes_on(target).is_empty() {
                let at = name.map_or_else(
                    || format!("{} response", op.label()),
                    |n| format!("/components/responses/{n}"),
                );
                out.push(format!("{at}: status {status}"));
            }
        }
    }
    out.extend(unsourced_confirmations(spec, ""));
    out
}

/// Every `x-confirmed` under `node` that names no page of the vendor's (no `https://`).
fn unsourced_confirmations(node: &Value, ptr: &str) -> Vec<String> {
    match node {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                let at = format!("{ptr}/{}", escape(k));
                if k == "x-confirmed" && !v.to_string().contains("https://") {
                    vec![format!("{ptr}: x-confirmed names no page")]
                } else {
                    unsourced_confirmations(v, &at)
                }
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, v)| unsourced_confirmations(v, &format!("{ptr}/{i}")))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::spec;
    use serde_json::json;

    #[test]
    fn every_assumption_shaped_claim_of_the_spec_has_a_note() {
        let spec = spec::parse(include_str!("../../openapi.yaml")).unwrap();
        assert_eq!(unnoted_claims(&spec), Vec::<String>::new());
    }

    #[test]
    fn a_claim_without_a_note_is_named_and_a_note_around_it_covers_it() {
        let page = "the page (https://docs.example/p) says so";
        let spec = json!({
            "paths": {"/x": {"get": {"operationId": "x", "responses": {
                "200": {"description": "ok", "x-confirmed": page},
                "409": {"$ref": "#/components/responses/Busy"},
                "default": {"description": "any"}}}}},
            "components": {
            "schemas": {
                "A": {"type": "object", "required": ["id", "c"],
                      "x-assumed": "[a-id] `id` fits in 64 bits",
                      "properties": {
                    "id": {"type": "integer", "format": "int64"},
                    "b": {"$ref": "#/components/schemas/B"},
                    "c": {"type": "string", "nullable": true, "x-assumed": "[c] c may be null"},
                    "d": {"type": "object", "x-assumed": "[d] d and what is in it",
                          "properties": {"e": {"type": "string", "format": "date-time"}}},
                    "f": {"type": "integer", "format": "int32", "minimum": 0}}},
                "B": {"type": "object", "nullable": true, "x-confirmed": "the vendor says so",
                      "properties": {"n": {"type": "string"}}},
                "T": {"anyOf": [{"type": "string", "enum": ["P", "Q"]}, {"type": "string"}],
                      "x-assumed": "[t] `Q` is a guess"}},
            "parameters": {"L": {"name": "l", "in": "query", "required": true,
                "x-confirmed": format!("{page}: `maximum`"),
                "schema": {"type": "integer", "maximum": 9, "uniqueItems": true}}},
            "headers": {"H": {"required": true, "schema": {"type": "string"}}},
            "responses": {"Busy": {"description": "busy"}}
        }});
        assert_eq!(
            unnoted_claims(&spec),
            [
                "/components/schemas/A/properties/f: never null",
                "/components/schemas/A/properties/f: format int32",
                "/components/schemas/A/properties/f: minimum 0",
                "/components/schemas/B/properties/n: never null",
                "/components/schemas/T/anyOf/0: enum value P",
                "/components/parameters/L/schema: uniqueItems",
                "/components/headers/H: required",
                "/components/responses/Busy: status 409",
                "/components/schemas/B: x-confirmed names no page",
            ]
        );
        // The parameter's own note covers its `required`; its `schema` is no member, so a
        // component note covers what it names (`maximum`), not `uniqueItems`.
        // The component note that names `f` covers every claim of `f`.
        let mut noted = spec.clone();
        noted["components"]["schemas"]["A"]["x-assumed"] =
            json!(["[a-id] `id` fits in 64 bits", "[f] `f` is a count"]);
        let left = unnoted_claims(&noted);
        assert!(!left.iter().any(|c| c.contains("properties/f")), "{left:?}");
    }

    #[test]
    fn every_note_of_the_spec_has_a_unique_kebab_case_id() {
        let notes = assumed_notes_of(include_str!("../../openapi.yaml")).unwrap();
        assert!(notes.len() >= 50, "{} notes", notes.len());
        assert!(notes.iter().any(|n| n.id == "next-link-form"
            && n.pointer == "/components/schemas/TotalLevelsPage/properties/next"));
    }

    #[test]
    fn a_note_without_an_id_or_with_a_used_id_is_named() {
        assert_eq!(
            split_note_id("[sort-key-once] a key once"),
            Some(("sort-key-once", "a key once"))
        );
        for bad in [
            "a key once",
            "[] a key",
            "[Sort_Key] a key",
            "[sort--key] a",
            "[sort-key]a",
            "[sort-key] ",
            "[-a] b",
        ] {
            assert_eq!(split_note_id(bad), None, "{bad}");
        }
        let (notes, problems) = assumed_notes([
            ("/a", "[ids-int64] ids fit in 64 bits"),
            ("/b", "quantities are never null"),
            ("/c", "[ids-int64] cursors fit in 64 bits"),
            ("/d", "[has-more-always] has_more is always there"),
        ]);
        assert_eq!(
            notes
                .iter()
                .map(|n| (n.id.as_str(), n.pointer.as_str(), n.text.as_str()))
                .collect::<Vec<_>>(),
            [
                ("ids-int64", "/a", "ids fit in 64 bits"),
                ("has-more-always", "/d", "has_more is always there")
            ]
        );
        assert_eq!(
            problems,
            [
                "/b: the note \"quantities are never null...\" has no id: write it as \
                 `[some-kebab-id] quantities are never null...`",
                "/c: the id `ids-int64` is already used at /a; every note needs its own",
            ]
        );
    }

    #[test]
    fn a_note_that_lost_its_id_or_repeats_one_is_refused() {
        let spec_text = include_str!("../../openapi.yaml");
        for (from, to, expect) in [
            ("[sort-key-once] ", "", "has no id"),
            (
                "[no-previous-page-spelling]",
                "[no-next-page-spelling]",
                "is already used",
            ),
        ] {
            let broken = spec_text.replacen(from, to, 1);
            assert_ne!(broken, spec_text);
            let err = assumed_notes_of(&broken).unwrap_err().to_string();
            assert!(err.contains(expect), "{err}");
        }
        assumed_notes_of(spec_text).unwrap();
    }

    #[test]
    fn members_added_beside_notes_about_other_members_are_named_each() {
        let spec = spec::parse(include_str!("../../openapi.yaml")).unwrap();
        let mut planted = spec.clone();
        let props = |s: &mut Value, schema: &str| {
            s.pointer_mut(&format!("/components/schemas/{schema}/properties"))
                .unwrap()
                .as_object_mut()
                .unwrap()
                .clone()
        };
        for (schema, name, member) in [
            (
                "PageMeta",
                "hint",
                json!({"type": "string", "nullable": true}),
            ),
            (
                "TotalLevel",
                "qty_lost",
                json!({"type": "integer", "format": "int64"}),
            ),
            (
                "Product",
                "tags",
                json!({"type": "array", "uniqueItems": true, "items": {"type": "string"}}),
            ),
        ] {
            let mut members = props(&mut planted, schema);
            members.insert(name.to_owned(), member);
            *planted
                .pointer_mut(&format!("/components/schemas/{schema}/properties"))
                .unwrap() = Value::Object(members);
            assert!(
                planted
                    .pointer(&format!("/components/schemas/{schema}/x-assumed"))
                    .is_some(),
                "{schema} carries notes about its other members"
            );
        }
        let before = unnoted_claims(&spec);
        let new: Vec<String> = unnoted_claims(&planted)
            .into_iter()
            .filter(|c| !before.contains(c))
            .collect();
        assert_eq!(
            new,
            [
                "/components/schemas/PageMeta/properties/hint: nullable",
                "/components/schemas/Product/properties/tags: never null",
                "/components/schemas/Product/properties/tags: uniqueItems",
                "/components/schemas/TotalLevel/properties/qty_lost: never null",
                "/components/schemas/TotalLevel/properties/qty_lost: format int64",
            ]
        );
    }
}
