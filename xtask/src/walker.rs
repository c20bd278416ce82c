//! Walks a JSON value alongside the spec's schema for it and names, by JSON path, every
//! field, type or enum value the spec lacks or contradicts.
//!
//! The walk follows `$ref`s, merges `allOf`, honours `nullable`, descends arrays through
//! `items` and maps through `additionalProperties`. An object whose schema documents
//! properties but no `additionalProperties` is taken as closed: a key it does not list is a
//! field the spec lacks. `additionalProperties: true` (or `{}`) and schemas without
//! properties (free-form values) accept anything.

use std::fmt;

use serde_json::Value;

use crate::spec::{Additional, JsonPath, View};

/// What is wrong at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A key the schema does not document.
    UnknownField,
    /// A value of another JSON type than the schema says.
    TypeMismatch {
        /// What the spec says, e.g. `integer` or `integer or null`.
        expected: String,
        /// What was sent, e.g. `string "5"`.
        got: String,
    },
    /// A value a closed `enum` does not list: the API breaks the spec.
    UnknownEnumValue {
        /// The value, as JSON.
        value: String,
        /// The enum's component name, or its values when it is inline.
        enum_name: String,
    },
    /// A value an *open* enum does not list yet: valid, but the spec should learn it.
    NewEnumValue {
        /// The value, as JSON.
        value: String,
        /// The enum's component name, or its values when it is inline.
        enum_name: String,
    },
    /// A required field that is missing.
    MissingRequired,
    /// A member the schema allows through `additionalProperties` without describing it,
    /// beside the members it lists (`included.Packaging`): valid, but the spec could say
    /// what it is.
    Undescribed,
}

impl Kind {
    /// Whether the finding breaks the spec (a validator would refuse the response), as
    /// opposed to drift the spec allows but does not describe yet (a field it lacks, a new
    /// value of an open enum).
    pub fn is_violation(&self) -> bool {
        matches!(
            self,
            Kind::TypeMismatch { .. } | Kind::UnknownEnumValue { .. } | Kind::MissingRequired
        )
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
            Kind::UnknownField => write!(f, "{path}: the API sends a field the spec lacks"),
            Kind::TypeMismatch { expected, got } => {
                write!(f, "{path}: spec says {expected}, API sent {got}")
            }
            Kind::UnknownEnumValue { value, enum_name } => {
                write!(
                    f,
                    "{path}: value {value} is not in the spec's enum {enum_name}"
                )
            }
            Kind::NewEnumValue { value, enum_name } => {
                write!(
                    f,
                    "{path}: value {value} is new to the spec's open enum {enum_name} \
                     (valid; add it to the known values)"
                )
            }
            Kind::MissingRequired => write!(
                f,
                "{path}: the spec says this field is required, the API left it out"
            ),
            Kind::Undescribed => write!(
                f,
                "{path}: a member the spec allows but does not describe (valid; describe it)"
            ),
        }
    }
}

/// Walks `instance` against `schema` (a schema of `spec`, possibly a `$ref`) and returns
/// every finding, in document order.
pub fn walk(spec: &Value, schema: &Value, instance: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    walk_at(spec, schema, instance, &JsonPath::root(), &mut out);
    out
}

fn walk_at(
    spec: &Value,
    schema: &Value,
    instance: &Value,
    path: &JsonPath,
    out: &mut Vec<Finding>,
) {
    let view = View::of(spec, schema);
    let ty = view.effective_type();

    if instance.is_null() {
        if !view.nullable && ty.is_some() && view.alternatives.is_empty() {
            out.push(Finding {
                path: path.to_string(),
                kind: Kind::TypeMismatch {
                    expected: expected(&view, ty),
                    got: describe(instance),
                },
            });
        }
        return;
    }

    if !view.alternatives.is_empty() {
        // anyOf/oneOf: the alternative that fits best speaks for the value.
        let best = view
            .alternatives
            .iter()
            .map(|alt| walk_alternative(spec, alt, instance, path))
            .min_by_key(Vec::len)
            .unwrap_or_default();
        out.extend(best);
        if ty.is_none() && view.properties.is_empty() {
            return;
        }
    }

    if let Some(ty) = ty
        && !matches_type(ty, instance)
    {
        out.push(Finding {
            path: path.to_string(),
            kind: Kind::TypeMismatch {
                expected: expected(&view, Some(ty)),
                got: describe(instance),
            },
        });
        return;
    }

    if let Some((values, name)) = view.enumeration
        && !values.contains(instance)
    {
        let enum_name = match name {
            Some(n) => n.to_owned(),
            None => format!(
                "({})",
                values
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let value = instance.to_string();
        out.push(Finding {
            path: path.to_string(),
            kind: if view.open {
                Kind::NewEnumValue { value, enum_name }
            } else {
                Kind::UnknownEnumValue { value, enum_name }
            },
        });
    }

    match instance {
        Value::Object(map) => {
            let closed = match view.additional {
                Additional::Forbidden => true,
                Additional::Unspecified => !view.properties.is_empty(),
                Additional::Any | Additional::Schema(_) => false,
            };
            for (key, value) in map {
                let at = path.key(key);
                if let Some(prop) = view.properties.get(key.as_str()) {
                    walk_at(spec, prop, value, &at, out);
                } else if let Additional::Schema(extra) = view.additional {
                    if !view.properties.is_empty() {
                        out.push(Finding {
                            path: at.to_string(),
                            kind: Kind::Undescribed,
                        });
                    }
                    walk_at(spec, extra, value, &at, out);
                } else if closed {
                    out.push(Finding {
                        path: at.to_string(),
                        kind: Kind::UnknownField,
                    });
                }
            }
            for required in &view.required {
                if !map.contains_key(*required) {
                    out.push(Finding {
                        path: path.key(required).to_string(),
                        kind: Kind::MissingRequired,
                    });
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = view.items {
                for (i, item) in items.iter().enumerate() {
                    walk_at(spec, item_schema, item, &path.index(i), out);
                }
            }
        }
        _ => {}
    }
}

fn walk_alternative(spec: &Value, alt: &Value, instance: &Value, path: &JsonPath) -> Vec<Finding> {
    let mut out = Vec::new();
    walk_at(spec, alt, instance, path, &mut out);
    out
}

/// Whether `instance` is of the OpenAPI `type`. An integral float (`5.0`) counts as an
/// integer, as in JSON Schema.
pub fn matches_type(ty: &str, instance: &Value) -> bool {
    match ty {
        "integer" => match instance {
            Value::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        },
        "number" => instance.is_number(),
        "string" => instance.is_string(),
        "boolean" => instance.is_boolean(),
        "array" => instance.is_array(),
        "object" => instance.is_object(),
        _ => true,
    }
}

fn expected(view: &View<'_>, ty: Option<&str>) -> String {
    let ty = ty.unwrap_or("a value");
    let ty = match (ty, view.format) {
        ("string", Some(format)) => format!("string ({format})"),
        (ty, _) => ty.to_owned(),
    };
    if view.nullable {
        format!("{ty} or null")
    } else {
        ty
    }
}

/// `string "5"`, `number 5.5`, `boolean true`, `null`, `an object`, `an array`.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("integer {n}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => {
            let shown: String = s.chars().take(60).collect();
            let ellipsis = if shown.len() < s.len() { "…" } else { "" };
            format!("string {}{ellipsis}", Value::String(shown))
        }
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
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

    fn page_schema() -> Value {
        json!({"$ref": "#/components/schemas/TotalLevelsPage"})
    }

    fn reference() -> Value {
        serde_json::from_str(include_str!("../../fixtures/recorded/reference-page.json")).unwrap()
    }

    fn messages(findings: &[Finding]) -> Vec<String> {
        findings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_reference_page_has_no_drift() {
        assert_eq!(
            messages(&walk(&spec(), &page_schema(), &reference())),
            Vec::<String>::new()
        );
    }

    #[test]
    fn planted_drift_is_named_by_path() {
        let mut page = reference();
        page["included"]["Product"][0]["shiny_field"] = json!(1);
        page["included"]["Product"][0]["goods_type"] = json!("HAZMAT");
        page["collection"][0]["qty_on_hand"] = json!("5");
        page["collection"][0]["product"]["sku"] = json!(12);
        page["included"]["Product"][0]["weight"]["unit"] = json!("stone");
        page["meta"]["count"] = Value::Null;
        page["included"]["Product"][0]
            .as_object_mut()
            .unwrap()
            .remove("id");
        let got = messages(&walk(&spec(), &page_schema(), &page));
        for want in [
            "$.collection[0].product.sku: spec says string, API sent integer 12",
            "$.collection[0].qty_on_hand: spec says integer, API sent string \"5\"",
            "$.included.Product[0].goods_type: value \"HAZMAT\" is new to the spec's open enum GoodsType (valid; add it to the known values)",
            "$.included.Product[0].weight.unit: value \"stone\" is new to the spec's open enum WeightUnit (valid; add it to the known values)",
            "$.included.Product[0].shiny_field: the API sends a field the spec lacks",
            "$.included.Product[0].id: the spec says this field is required, the API left it out",
            "$.meta.count: spec says integer, API sent null",
        ] {
            assert!(
                got.iter().any(|g| g == want),
                "missing {want:?} in {got:#?}"
            );
        }
        assert_eq!(got.len(), 7, "{got:#?}");
        // New values of open enums and unknown fields are drift; the rest breaks the spec.
        let violations = walk(&spec(), &page_schema(), &page)
            .iter()
            .filter(|f| f.kind.is_violation())
            .count();
        assert_eq!(violations, 4);
        // A closed enum's unknown value is a violation.
        page["collection"][0]["type"] = json!("TotalLevelV2");
        let got = walk(&spec(), &page_schema(), &page);
        let closed = got
            .iter()
            .find(|f| f.path == "$.collection[0].type")
            .unwrap();
        assert!(closed.kind.is_violation(), "{closed}");
    }

    #[test]
    fn nullable_and_free_form_values_are_accepted() {
        let mut page = reference();
        page["included"]["Product"][0]["weight"] = Value::Null;
        page["included"]["Product"][0]["custom_fields"][0]["value"] = json!({"any": ["thing"]});
        page["next"] = Value::Null;
        assert_eq!(
            messages(&walk(&spec(), &page_schema(), &page)),
            Vec::<String>::new()
        );
        // An included group the spec does not detail is valid, and named as drift.
        page["included"]["Warehouse"] = json!([{"type": "Warehouse", "id": 1, "anything": true}]);
        let got = walk(&spec(), &page_schema(), &page);
        assert_eq!(
            messages(&got),
            [
                "$.included.Warehouse: a member the spec allows but does not describe (valid; describe it)"
            ]
        );
        assert!(!got[0].kind.is_violation());
    }

    #[test]
    fn a_packaging_object_a_new_goods_type_and_a_new_unit_are_drift_not_violations() {
        let mut page = reference();
        page["included"]["Product"][0]["goods_type"] = json!("NOT_YET_LISTED");
        page["included"]["Product"][0]["weight"]["unit"] = json!("stone");
        page["included"]["Packaging"] = json!([{"type": "Packaging", "id": 77, "sku": "BOX-S"}]);
        let got = walk(&spec(), &page_schema(), &page);
        assert_eq!(
            messages(&got),
            [
                "$.included.Packaging: a member the spec allows but does not describe (valid; describe it)",
                "$.included.Product[0].goods_type: value \"NOT_YET_LISTED\" is new to the spec's open enum GoodsType (valid; add it to the known values)",
                "$.included.Product[0].weight.unit: value \"stone\" is new to the spec's open enum WeightUnit (valid; add it to the known values)",
            ]
        );
        assert!(got.iter().all(|f| !f.kind.is_violation()));
    }

    #[test]
    fn additional_properties_maps_are_walked_with_their_schema() {
        let mut page = reference();
        page["included"]["Kit"] = json!([{"type": "Kit", "id": "one"}]);
        let got = messages(&walk(&spec(), &page_schema(), &page));
        assert_eq!(
            got,
            [
                "$.included.Kit: a member the spec allows but does not describe (valid; describe it)",
                "$.included.Kit[0].id: spec says integer, API sent string \"one\"",
                "$.included.Kit[0].type: value \"Kit\" is new to the spec's open enum ObjectType (valid; add it to the known values)",
            ]
        );
    }

    #[test]
    fn inline_enums_are_named_by_their_values() {
        let schema = json!({"type": "string", "enum": ["a", "b"]});
        let got = messages(&walk(&Value::Null, &schema, &json!("c")));
        assert_eq!(
            got,
            ["$: value \"c\" is not in the spec's enum (\"a\", \"b\")"]
        );
    }
}
