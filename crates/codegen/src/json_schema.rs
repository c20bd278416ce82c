//! OpenAPI 3.0 schemas as JSON Schema (draft 2020-12), for validating examples and recorded
//! responses with a JSON Schema validator.
//!
//! The conversion is the usual one:
//! - `nullable: true` becomes `anyOf: [{type: null}, <the schema>]`, so it also allows
//!   `null` when the schema is an `allOf` of a `$ref` (the spec's pattern for nullable
//!   references);
//! - `$ref: "#/components/schemas/X"` becomes `$ref: "#/$defs/X"`, and [`document`] puts
//!   every component schema under `$defs`;
//! - the boolean `exclusiveMinimum`/`exclusiveMaximum` of OpenAPI 3.0 become the numeric
//!   form of JSON Schema;
//! - OpenAPI-only annotations (`example`, `discriminator`, `xml`, `externalDocs`) are
//!   dropped.
//!
//! ```
//! use serde_json::json;
//! use shipstream_inventory_codegen::json_schema;
//!
//! let spec = json_schema::spec_json("components: {schemas: {Id: {type: integer}}}")?;
//! let schema = json!({"$ref": "#/components/schemas/Id", "nullable": true});
//! let doc = json_schema::document(&spec, &schema);
//! assert_eq!(doc["$defs"]["Id"], json!({"type": "integer"}));
//! assert_eq!(doc["anyOf"][1], json!({"$ref": "#/$defs/Id"}));
//! # Ok::<(), shipstream_inventory_codegen::Error>(())
//! ```

use serde_json::{Map, Value};

use crate::Error;

/// The `$schema` of every [`document`].
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// Keywords of OpenAPI 3.0 schemas that JSON Schema does not have and that carry no
/// constraint.
const DROPPED: &[&str] = &[
    "example",
    "discriminator",
    "xml",
    "externalDocs",
    "nullable",
];

/// Parses the text of `openapi.yaml` as plain JSON, the form [`convert`] and [`document`]
/// work on.
pub fn spec_json(spec_yaml: &str) -> Result<Value, Error> {
    Ok(serde_yaml::from_str(spec_yaml)?)
}

/// Converts one OpenAPI 3.0 schema object to JSON Schema 2020-12. References to component
/// schemas point into `#/$defs`, which [`document`] fills.
pub fn convert(schema: &Value) -> Value {
    let Value::Object(object) = schema else {
        // `true`/`false` or something malformed: keep as is.
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        if DROPPED.contains(&key.as_str()) {
            continue;
        }
        let converted = match key.as_str() {
            "$ref" => match value.as_str() {
                Some(r) => match r.strip_prefix(SCHEMA_REF_PREFIX) {
                    Some(name) => Value::String(format!("#/$defs/{name}")),
                    None => value.clone(),
                },
                None => value.clone(),
            },
            "properties" | "patternProperties" | "$defs" | "definitions" => match value {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, s)| (name.clone(), convert(s)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" | "not" | "contains" | "propertyNames" => {
                convert(value)
            }
            "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(list) => Value::Array(list.iter().map(convert).collect()),
                other => other.clone(),
            },
            "exclusiveMinimum" | "exclusiveMaximum" => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    // OpenAPI 3.0: `exclusiveMinimum: true` qualifies `minimum`.
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match object.get(flag) {
            Some(Value::Bool(true)) => {
                if let Some(b) = out.remove(bound) {
                    out.insert(flag.to_owned(), b);
                }
            }
            // Already the JSON Schema form (a number): keep it.
            Some(n @ Value::Number(_)) => {
                out.insert(flag.to_owned(), n.clone());
            }
            _ => {}
        }
    }
    if object.get("nullable") == Some(&Value::Bool(true)) {
        let inner = Value::Object(out);
        let mut wrapper = Map::new();
        wrapper.insert(
            "anyOf".to_owned(),
            Value::Array(vec![serde_json::json!({"type": "null"}), inner]),
        );
        return Value::Object(wrapper);
    }
    Value::Object(out)
}

/// A self-contained JSON Schema document for `schema`, a schema of `spec` (both as JSON):
/// the converted schema, with every component schema of `spec` converted under `$defs`.
pub fn document(spec: &Value, schema: &Value) -> Value {
    let mut root = match convert(schema) {
        Value::Object(o) => o,
        other => {
            // A boolean schema cannot carry `$defs`; wrap it.
            let mut o = Map::new();
            o.insert("allOf".to_owned(), Value::Array(vec![other]));
            o
        }
    };
    root.insert("$schema".to_owned(), Value::String(DIALECT.to_owned()));
    root.insert("$defs".to_owned(), Value::Object(component_defs(spec)));
    Value::Object(root)
}

/// Every component schema of `spec`, converted.
pub fn component_defs(spec: &Value) -> Map<String, Value> {
    spec.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .map(|(name, s)| (name.clone(), convert(s)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn nullable_allows_null_even_around_a_reference() {
        let s = json!({"type": "object", "nullable": true, "allOf": [{"$ref": "#/components/schemas/W"}]});
        assert_eq!(
            convert(&s),
            json!({"anyOf": [{"type": "null"}, {"type": "object", "allOf": [{"$ref": "#/$defs/W"}]}]})
        );
    }

    #[test]
    fn property_names_that_look_like_keywords_are_kept() {
        let s = json!({"type": "object", "properties": {"example": {"type": "string", "example": "x"}, "nullable": {"type": "boolean"}}});
        assert_eq!(
            convert(&s),
            json!({"type": "object", "properties": {"example": {"type": "string"}, "nullable": {"type": "boolean"}}})
        );
    }

    #[test]
    fn exclusive_bounds_take_the_json_schema_form() {
        let s = json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 9, "exclusiveMaximum": false});
        assert_eq!(
            convert(&s),
            json!({"type": "integer", "exclusiveMinimum": 0, "maximum": 9})
        );
    }

    #[test]
    fn the_spec_converts_into_one_document() {
        let spec = spec_json(include_str!("../../../openapi.yaml")).unwrap();
        let doc = document(
            &spec,
            &json!({"$ref": "#/components/schemas/TotalLevelsPage"}),
        );
        assert_eq!(doc["$ref"], "#/$defs/TotalLevelsPage");
        assert!(
            doc["$defs"]["Weight"]["anyOf"].is_array(),
            "a nullable component allows null"
        );
        assert!(!doc.to_string().contains("#/components/schemas/"));
    }
}
