//! The spec's `x-assumed` notes (`[id] what is assumed`) and the rule that every claim the
//! vendor's documentation does not make carries one, member by member.

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Lists the spec's `x-assumed` notes: what it states without the vendor's documentation
/// saying so (read by codegen, so the list is the one the generated `api::ASSUMPTIONS` has),
/// and fails on a statement shaped like an assumption that carries no note
/// ([`unnoted_claims`]).
pub(crate) fn assumptions_check(
    spec_text: &str,
    spec: &Value,
    failures: &mut Vec<String>,
) -> Result<()> {
    let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(spec_text)
        .context("cannot read the spec's facts")?;
    println!(
        "\n==> assumptions: {} statement(s) of the spec are marked `x-assumed` (not documented by \
         the vendor; `cargo xtask drift --live --probe` confirms or refutes them by id)",
        facts.assumptions.len()
    );
    for a in &facts.assumptions {
        println!("   {}: {}", a.pointer, a.text);
    }
    let (_, id_problems) = assumed_notes(pairs(&facts.assumptions));
    if id_problems.is_empty() {
        println!(
            "   ok: every note starts with its own id (`[kebab-case-id] ...`), which `cargo xtask \
             drift --live --probe` reports it by"
        );
    }
    for problem in &id_problems {
        println!("   ✗ {problem}");
    }
    if !id_problems.is_empty() {
        println!(
            "   fix: start each `x-assumed` note with a stable id of its own in brackets, \
             `\"[next-link-form] whether ...\"` (quote the YAML string or use `>-`: a plain \
             scalar may not start with `[`); never reuse or rename an id, probes and recordings \
             are keyed by it"
        );
        failures.push(format!(
            "x-assumed notes without a unique id: {}",
            id_problems.len()
        ));
    }
    let unnoted = unnoted_claims(spec);
    if unnoted.is_empty() {
        println!(
            "   ok: every nullable, integer size and required member sits under an `x-assumed` \
             or `x-confirmed` note"
        );
    }
    for claim in unnoted {
        println!(
            "   ✗ {claim}: only an instance could show it; add an `x-assumed` note saying what \
             the vendor says and why the spec claims it, or an `x-confirmed` one naming the \
             vendor's page that does"
        );
        failures.push(format!("an assumption without a note: {claim}"));
    }
    Ok(())
}

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

fn pairs(
    assumptions: &[shipstream_inventory_codegen::facts::Assumption],
) -> impl Iterator<Item = (&str, &str)> {
    assumptions
        .iter()
        .map(|a| (a.pointer.as_str(), a.text.as_str()))
}

/// The spec's notes with their ids; fails naming every note without a valid, unique id.
pub fn assumed_notes_of(spec_text: &str) -> Result<Vec<AssumedNote>> {
    let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(spec_text)
        .context("cannot read the spec's facts")?;
    let (notes, problems) = assumed_notes(pairs(&facts.assumptions));
    if !problems.is_empty() {
        bail!(
            "x-assumed notes without a unique id (`cargo xtask check` lists them):\n  - {}",
            problems.join("\n  - ")
        );
    }
    Ok(notes)
}

/// The statements of a schema node that the vendor's example cannot show: that the value may
/// be null, that an integer fits a size, that members are always there.
fn claims_of(node: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    if node.get("nullable") == Some(&Value::Bool(true)) {
        out.push("nullable".to_owned());
    }
    if let Some(f) = node.get("format").and_then(Value::as_str)
        && matches!(f, "int64" | "int32")
    {
        out.push(format!("format {f}"));
    }
    if let Some(members) = node.get("required").and_then(Value::as_array)
        && !members.is_empty()
    {
        let names: Vec<&str> = members.iter().filter_map(Value::as_str).collect();
        out.push(format!("required {}", names.join(", ")));
    }
    out
}

/// Every assumption-shaped statement ([`claims_of`]) of the spec's components with no
/// `x-assumed` or `x-confirmed` note on its node or on a node around it within its
/// component, as `pointer: claim`. A `$ref` is judged where its target is defined.
pub(crate) fn unnoted_claims(spec: &Value) -> Vec<String> {
    fn walk(node: &Value, ptr: &str, noted: bool, out: &mut Vec<String>) {
        match node {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{ptr}/{i}"), noted, out);
                }
            }
            Value::Object(map) if !map.contains_key("$ref") => {
                let noted =
                    noted || map.contains_key("x-assumed") || map.contains_key("x-confirmed");
                if !noted {
                    out.extend(claims_of(map).into_iter().map(|c| format!("{ptr}: {c}")));
                }
                for (key, child) in map {
                    if key.starts_with("x-") || matches!(key.as_str(), "example" | "examples") {
                        continue;
                    }
                    let key = key.replace('~', "~0").replace('/', "~1");
                    walk(child, &format!("{ptr}/{key}"), noted, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for section in ["schemas", "parameters", "headers", "responses"] {
        let Some(components) = spec
            .pointer(&format!("/components/{section}"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, component) in components {
            walk(
                component,
                &format!("/components/{section}/{name}"),
                false,
                &mut out,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::spec;

    #[test]
    fn every_assumption_shaped_claim_of_the_spec_has_a_note() {
        let spec = spec::parse(include_str!("../../openapi.yaml")).unwrap();
        assert_eq!(unnoted_claims(&spec), Vec::<String>::new());
    }

    #[test]
    fn a_claim_without_a_note_is_named_and_a_note_around_it_covers_it() {
        let spec = serde_json::json!({"components": {"schemas": {
            "A": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer", "format": "int64"},
                "b": {"$ref": "#/components/schemas/B"},
                "c": {"type": "string", "nullable": true, "x-assumed": "c may be null"}}},
            "B": {"type": "object", "nullable": true, "x-confirmed": "the vendor says so",
                  "properties": {"n": {"type": "integer", "format": "int32"}}}
        }}});
        assert_eq!(
            unnoted_claims(&spec),
            [
                "/components/schemas/A: required id",
                "/components/schemas/A/properties/id: format int64"
            ]
        );
        let mut noted = spec.clone();
        noted["components"]["schemas"]["A"]["x-assumed"] = "ids are int64".into();
        assert_eq!(unnoted_claims(&noted), Vec::<String>::new());
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
    fn the_check_fails_on_a_spec_whose_note_lost_its_id_or_repeats_one() {
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
            let spec = spec::parse(&broken).unwrap();
            let mut failures = Vec::new();
            assumptions_check(&broken, &spec, &mut failures).unwrap();
            assert_eq!(
                failures,
                ["x-assumed notes without a unique id: 1"],
                "{expect}"
            );
            let err = assumed_notes_of(&broken).unwrap_err().to_string();
            assert!(err.contains(expect), "{err}");
        }
        let mut failures = Vec::new();
        assumptions_check(spec_text, &spec::parse(spec_text).unwrap(), &mut failures).unwrap();
        assert_eq!(failures, Vec::<String>::new());
    }
}
