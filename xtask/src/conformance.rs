//! A JSON value (a response, a recorded page) against the spec's schema for it, each
//! finding named by JSON path.
//!
//! What breaks the schema (a wrong type, a value a closed enum does not list, a missing
//! required member, a null where none is allowed) is the `jsonschema` validator's verdict on
//! codegen's [JSON-Schema conversion](shipstream_inventory_codegen::json_schema) of the spec.
//! What the validator accepts but the spec does not describe is found here, by walking the
//! value alongside the schema's merged [`View`]:
//! - a member of an object whose schema lists properties and says nothing of
//!   `additionalProperties` (JSON Schema lets it through; the spec lacks it);
//! - a member allowed only through `additionalProperties`, beside listed properties;
//! - a value an *open* enum (`anyOf: [{type: string, enum}, {type: string}]`) does not list.

use std::fmt;

use anyhow::{Result, anyhow};
use serde_json::Value;
use shipstream_inventory_codegen::json_schema;

use crate::spec::{Additional, JsonPath, View};

/// What is wrong at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The value breaks the schema: the validator's message (`"5" is not of type
    /// "integer"`).
    Invalid(String),
    /// A member the schema does not document.
    UnknownField,
    /// A value an *open* enum does not list yet: valid, but the spec should learn it.
    NewEnumValue {
        /// The value, as JSON.
        value: String,
        /// The enum's component name, or its values when it is inline.
        enum_name: String,
    },
    /// A member the schema allows through `additionalProperties` without describing it,
    /// beside the members it lists (`included.Packaging`): valid, but the spec could say
    /// what it is.
    Undescribed,
}

impl Kind {
    /// Whether the finding breaks the spec (a validator refuses the value), as opposed to
    /// drift the spec allows but does not describe yet.
    pub fn is_violation(&self) -> bool {
        matches!(self, Kind::Invalid(_))
    }
}

/// One finding: a JSON path and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where, e.g. `$.included.Product[0].goods_type`.
    pub path: String,
    /// What.
    pub kind: Kind,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = &self.path;
        match &self.kind {
            Kind::Invalid(message) => write!(f, "{path}: {message}"),
            Kind::UnknownField => write!(f, "{path}: the API sends a field the spec lacks"),
            Kind::NewEnumValue { value, enum_name } => write!(
                f,
                "{path}: value {value} is new to the spec's open enum {enum_name} (valid; add \
                 it to the known values)"
            ),
            Kind::Undescribed => write!(
                f,
                "{path}: a member the spec allows but does not describe (valid; describe it)"
            ),
        }
    }
}

/// Every finding of `instance` against `schema` (a schema of `spec`, possibly a `$ref`),
/// ordered by path; an error when the schema does not compile as JSON Schema.
pub fn check(spec: &Value, schema: &Value, instance: &Value) -> Result<Vec<Finding>> {
    let document = json_schema::document(spec, schema);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&document)
        .map_err(|e| anyhow!("the schema does not compile as JSON Schema: {e}"))?;
    let mut out: Vec<Finding> = validator
        .iter_errors(instance)
        .map(|e| Finding {
            path: JsonPath::from_pointer(e.instance_path.as_str(), instance).to_string(),
            kind: Kind::Invalid(e.to_string()),
        })
        .collect();
    undescribed(spec, schema, instance, &JsonPath::root(), &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// What `instance` holds that `schema` allows without describing it.
fn undescribed(
    spec: &Value,
    schema: &Value,
    instance: &Value,
    path: &JsonPath,
    out: &mut Vec<Finding>,
) {
    let view = View::of(spec, schema);
    if instance.is_null()
        || view
            .effective_type()
            .is_some_and(|t| !matches_type(t, instance))
    {
        // The validator names a wrong type.
        return;
    }
    if let (true, Some((values, name))) = (view.open, view.enumeration) {
        if !values.contains(instance) {
            let enum_name = name.map_or_else(
                || {
                    let listed: Vec<String> = values.iter().map(Value::to_string).collect();
                    format!("({})", listed.join(", "))
                },
                str::to_owned,
            );
            out.push(Finding {
                path: path.to_string(),
                kind: Kind::NewEnumValue {
                    value: instance.to_string(),
                    enum_name,
                },
            });
        }
        return;
    }
    // anyOf/oneOf: the alternative that fits best speaks for the value.
    let best = view
        .alternatives
        .iter()
        .map(|alt| {
            let mut found = Vec::new();
            undescribed(spec, alt, instance, path, &mut found);
            found
        })
        .min_by_key(Vec::len);
    out.extend(best.unwrap_or_default());
    match instance {
        Value::Object(map) => {
            for (key, value) in map {
                let at = path.key(key);
                if let Some(prop) = view.properties.get(key.as_str()) {
                    undescribed(spec, prop, value, &at, out);
                } else if let Additional::Schema(extra) = view.additional {
                    if !view.properties.is_empty() {
                        out.push(Finding {
                            path: at.to_string(),
                            kind: Kind::Undescribed,
                        });
                    }
                    undescribed(spec, extra, value, &at, out);
                } else if view.additional == Additional::Unspecified && !view.properties.is_empty()
                {
                    out.push(Finding {
                        path: at.to_string(),
                        kind: Kind::UnknownField,
                    });
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(item_schema) = view.items {
                    undescribed(spec, item_schema, item, &path.index(i), out);
                }
            }
        }
        _ => {}
    }
}

/// Whether `instance` is of the OpenAPI `type` (an integral float counts as an integer).
fn matches_type(ty: &str, instance: &Value) -> bool {
    match ty {
        "integer" => instance.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => instance.is_number(),
        "string" => instance.is_string(),
        "boolean" => instance.is_boolean(),
        "array" => instance.is_array(),
        "object" => instance.is_object(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;
    use crate::spec;

    fn spec() -> Value {
        spec::parse(include_str!("../../openapi.yaml")).unwrap()
    }

    fn reference() -> Value {
        serde_json::from_str(include_str!("../../fixtures/recorded/reference-page.json")).unwrap()
    }

    fn messages(page: &Value) -> Vec<String> {
        let schema = json!({"$ref": "#/components/schemas/TotalLevelsPage"});
        let found = check(&spec(), &schema, page).unwrap();
        found.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_reference_page_has_no_findings() {
        assert_eq!(messages(&reference()), Vec::<String>::new());
    }

    #[test]
    fn planted_drift_is_named_by_path() {
        let mut page = reference();
        page["included"]["Product"][0]["shiny_field"] = json!(1);
        page["included"]["Product"][0]["goods_type"] = json!("HAZMAT");
        page["collection"][0]["qty_on_hand"] = json!("5");
        page["collection"][0]["product"]["sku"] = json!(12);
        page["collection"][0]["type"] = json!("TotalLevelV2");
        page["included"]["Product"][0]["weight"]["unit"] = json!("stone");
        page["meta"]["count"] = Value::Null;
        page["included"]["Product"][0]
            .as_object_mut()
            .unwrap()
            .remove("id");
        let schema = json!({"$ref": "#/components/schemas/TotalLevelsPage"});
        let found = check(&spec(), &schema, &page).unwrap();
        let got: Vec<(String, bool)> = found
            .iter()
            .map(|f| (f.to_string(), f.kind.is_violation()))
            .collect();
        let want = [
            (
                "$.collection[0].product.sku: 12 is not of type \"string\"",
                true,
            ),
            (
                "$.collection[0].qty_on_hand: \"5\" is not of type \"integer\"",
                true,
            ),
            (
                "$.collection[0].type: \"TotalLevelV2\" is not one of [\"TotalLevel\"]",
                true,
            ),
            ("$.included.Product[0]: \"id\" is a required property", true),
            (
                "$.included.Product[0].goods_type: value \"HAZMAT\" is new to the spec's open enum GoodsType (valid; add it to the known values)",
                false,
            ),
            (
                "$.included.Product[0].shiny_field: the API sends a field the spec lacks",
                false,
            ),
            (
                "$.included.Product[0].weight.unit: value \"stone\" is new to the spec's open enum WeightUnit (valid; add it to the known values)",
                false,
            ),
            ("$.meta.count: null is not of type \"integer\"", true),
        ];
        let want: Vec<(String, bool)> = want.iter().map(|(m, v)| (m.to_string(), *v)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn nullable_free_form_and_undescribed_members() {
        let mut page = reference();
        page["included"]["Product"][0]["weight"] = Value::Null;
        page["included"]["Product"][0]["custom_fields"][0]["value"] = json!({"any": ["thing"]});
        page["next"] = Value::Null;
        assert_eq!(messages(&page), Vec::<String>::new());
        // An included group the spec does not detail is valid, named as drift, and its
        // objects are held to the schema of additionalProperties.
        page["included"]["Kit"] = json!([{"type": "Kit", "id": "one", "anything": true}]);
        assert_eq!(
            messages(&page),
            [
                "$.included.Kit: a member the spec allows but does not describe (valid; describe it)",
                "$.included.Kit[0].id: \"one\" is not of type \"integer\"",
                "$.included.Kit[0].type: value \"Kit\" is new to the spec's open enum ObjectType (valid; add it to the known values)",
            ]
        );
    }

    #[test]
    fn inline_open_enums_are_named_by_their_values() {
        let schema = json!({"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "string"}]});
        let found = check(&Value::Null, &schema, &json!("c")).unwrap();
        assert_eq!(
            found.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "$: value \"c\" is new to the spec's open enum (\"a\", \"b\") (valid; add it to the known values)"
            ]
        );
    }
}
