//! The Rust items of the published crates that a spec change adds, deprecates or removes,
//! named as a user of the facade `shipstream_inventory` writes them.

use serde_json::Value;
use shipstream_inventory_codegen::facts::{Facts, field_ident, pascal, screaming};

use super::{Change, Subject};

/// What the two revisions' facts say about where a property shows up.
#[derive(Debug, Default)]
pub struct Context {
    level_schema: Option<String>,
    product_schema: Option<String>,
    level_fields: Vec<String>,
    product_fields: Vec<String>,
    /// The component schema of `fields:product`'s items (an open enum), whose values
    /// are the facade's `ProductField` too.
    product_field_schema: Option<String>,
    operation_id: Option<String>,
}

impl Context {
    /// Reads the facts of both revisions (either may fail to give them: it then says less).
    pub fn of(old: &Value, new: &Value) -> Self {
        let mut cx = Context::default();
        for spec in [new, old] {
            let Ok(facts) = Facts::from_yaml(&spec.to_string()) else {
                continue;
            };
            if cx.level_schema.is_none() {
                cx.level_schema = facts.level_schema();
            }
            if cx.product_schema.is_none() {
                cx.product_schema = facts.product_schema();
            }
            cx.operation_id.get_or_insert(facts.operation_id.clone());
            if cx.product_field_schema.is_none() {
                cx.product_field_schema = items_schema(spec, "fields:product");
            }
            for p in &facts.parameters {
                let list = match p.name.as_str() {
                    "fields" => &mut cx.level_fields,
                    "fields:product" => &mut cx.product_fields,
                    _ => continue,
                };
                for v in &p.values {
                    if !list.contains(v) {
                        list.push(v.clone());
                    }
                }
            }
        }
        cx
    }
}

/// The component schema named by the `$ref` of the items of the component parameter
/// called `name` (`fields:product`'s `ProductFieldName`).
fn items_schema(spec: &Value, name: &str) -> Option<String> {
    spec.pointer("/components/parameters")?
        .as_object()?
        .values()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?
        .pointer("/schema/items/$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
        .map(str::to_owned)
}

/// The items a change touches, most specific first.
pub fn rust_items(change: &Change, cx: &Context) -> Vec<String> {
    match &change.subject {
        Subject::Property { schema, name } => {
            let field = field_ident(name);
            let mut out = vec![
                format!("types::{schema}::{field}"),
                format!("types::builder::{schema}::{field}()"),
            ];
            if cx.level_schema.as_deref() == Some(schema.as_str()) && cx.level_fields.contains(name)
            {
                out.push(format!("LevelField::{}", pascal(name)));
            }
            if cx.product_schema.as_deref() == Some(schema.as_str())
                && cx.product_fields.contains(name)
            {
                out.push(format!("ProductField::{}", pascal(name)));
            }
            out
        }
        Subject::EnumValue {
            schema: Some(schema),
            value,
        } => {
            let mut out = vec![format!("types::{schema}::{}", pascal(value))];
            if cx.product_field_schema.as_deref() == Some(schema.as_str()) {
                out.push(format!("ProductField::{}", pascal(value)));
            }
            out
        }
        // The values of `fields` and `fields:product`: the facade's LevelField and
        // ProductField.
        Subject::EnumValue {
            schema: None,
            value,
        } if change.location.ends_with("parameter query `fields`[]") => {
            vec![format!("LevelField::{}", pascal(value))]
        }
        Subject::EnumValue {
            schema: None,
            value,
        } if change
            .location
            .ends_with("parameter query `fields:product`[]") =>
        {
            vec![format!("ProductField::{}", pascal(value))]
        }
        Subject::EnumValue { schema: None, .. } => Vec::new(),
        Subject::Parameter(name) => {
            let mut out = vec![format!("api::params::{}", screaming(name))];
            if let Some(op) = &cx.operation_id {
                out.push(format!("builder::{}::{}()", pascal(op), field_ident(name)));
            }
            out
        }
        Subject::SortKey(key) => vec![format!("SortField::{}", pascal(key))],
        Subject::FilterField(name) => vec![format!("fields::{}", screaming(name))],
        Subject::Schema(name) => vec![format!("types::{name}")],
        Subject::Version { .. } => vec![
            "api::API_VERSION".to_owned(),
            "ApiVersion::generated()".to_owned(),
        ],
        Subject::Other => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;
    use crate::specdiff::compare;

    fn spec() -> Value {
        crate::spec::parse(include_str!("../../../openapi.yaml")).unwrap()
    }

    #[test]
    fn a_removed_product_field_name_names_its_product_field_variant() {
        let old = spec();
        let mut new = spec();
        new["components"]["schemas"]["ProductFieldName"]["anyOf"][0]["enum"]
            .as_array_mut()
            .unwrap()
            .retain(|v| v != &json!("volume"));
        let report = compare(&old, &new);
        let cx = Context::of(&old, &new);
        let items: Vec<Vec<String>> = report.changes.iter().map(|c| rust_items(c, &cx)).collect();
        assert_eq!(
            items,
            [vec![
                "types::ProductFieldName::Volume".to_owned(),
                "ProductField::Volume".to_owned(),
            ]],
            "{report}"
        );
    }

    #[test]
    fn a_removed_level_quantity_names_its_field_variant_and_its_enum_value() {
        let old = spec();
        let mut new = spec();
        let props = new["components"]["schemas"]["TotalLevel"]["properties"]
            .as_object_mut()
            .unwrap();
        props.remove("qty_picked");
        new["components"]["parameters"]["Fields"]["schema"]["items"]["enum"]
            .as_array_mut()
            .unwrap()
            .retain(|v| v != &json!("qty_picked"));
        let report = compare(&old, &new);
        let cx = Context::of(&old, &new);
        let items: Vec<Vec<String>> = report.changes.iter().map(|c| rust_items(c, &cx)).collect();
        assert!(
            items.contains(&vec![
                "types::TotalLevel::qty_picked".to_owned(),
                "types::builder::TotalLevel::qty_picked()".to_owned(),
                "LevelField::QtyPicked".to_owned(),
            ]),
            "{items:#?}"
        );
        assert!(
            items.contains(&vec!["LevelField::QtyPicked".to_owned()]),
            "{items:#?}"
        );
    }
}
