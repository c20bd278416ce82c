//! spec ⇄ facade: everything the spec lets a caller say is reachable through the typed
//! API, and the typed API offers nothing the spec lacks. Run by `cargo xtask check`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, Parameter, ReferenceOr};
use shipstream_inventory::{
    LevelField, ProductField, Sort, SortField, fields,
    grammar::{Op, fields::FieldKind},
};

fn spec() -> OpenAPI {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml"))
        .unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The operation's parameters, resolved, by name.
fn parameters(spec: &OpenAPI) -> BTreeMap<String, Parameter> {
    let item = spec
        .paths
        .paths
        .get("/api/global/v1/inventory/levels/total")
        .and_then(ReferenceOr::as_item)
        .expect("the endpoint is in the spec");
    let op = item.get.as_ref().expect("GET");
    op.parameters
        .iter()
        .map(|p| match p {
            ReferenceOr::Item(p) => p.clone(),
            ReferenceOr::Reference { reference } => {
                let name = reference.trim_start_matches("#/components/parameters/");
                spec.components.as_ref().unwrap().parameters[name]
                    .as_item()
                    .unwrap()
                    .clone()
            }
        })
        .map(|p| (p.parameter_data_ref().name.clone(), p))
        .collect()
}

fn extension<'a>(p: &'a Parameter, key: &str) -> &'a serde_json::Value {
    p.parameter_data_ref()
        .extensions
        .get(key)
        .unwrap_or_else(|| panic!("parameter {} lacks {key}", p.parameter_data_ref().name))
}

fn enum_values(p: &Parameter) -> Vec<String> {
    let openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) =
        &p.parameter_data_ref().format
    else {
        panic!("inline schema expected")
    };
    let openapiv3::SchemaKind::Type(openapiv3::Type::Array(array)) = &schema.schema_kind else {
        panic!("array expected")
    };
    let Some(ReferenceOr::Item(items)) = &array.items else {
        panic!("inline items expected")
    };
    let openapiv3::SchemaKind::Type(openapiv3::Type::String(s)) = &items.schema_kind else {
        panic!("string items expected")
    };
    s.enumeration.iter().flatten().cloned().collect()
}

#[test]
fn every_parameter_of_the_spec_is_reachable_and_no_other() {
    let params = parameters(&spec());
    // How the facade reaches each parameter. A new parameter in the spec fails this test
    // until the facade offers it and it is listed here.
    let reached: BTreeMap<&str, &str> = BTreeMap::from([
        (
            "filter",
            "TotalLevelsRequest::filter / filter_raw / updated_since",
        ),
        ("sort", "TotalLevelsRequest::sort"),
        ("fields", "TotalLevelsRequest::fields"),
        ("fields:product", "TotalLevelsRequest::product_fields"),
        ("count", "TotalLevelsRequest::with_count"),
        ("limit", "TotalLevelsRequest::page_size / max_items"),
        (
            "cursor_start",
            "carried by `next` (pages, items, Client::resume)",
        ),
        (
            "cursor_end",
            "carried by `previous` (Page::previous_uri); never built by hand",
        ),
        (
            "X-ShipStream-API-Version",
            "ClientBuilder::api_version / SHIPSTREAM_API_VERSION",
        ),
    ]);
    let in_spec: BTreeSet<&str> = params.keys().map(String::as_str).collect();
    let in_facade: BTreeSet<&str> = reached.keys().copied().collect();
    assert_eq!(in_spec, in_facade, "spec parameters vs facade parameters");

    // And the typed builder really puts each query parameter on the wire.
    let client = shipstream_inventory::Client::builder()
        .base_url("https://acme.shipstream.app")
        .token("t")
        .build()
        .unwrap();
    let uri = client
        .total_levels()
        .filter(fields::SKU.eq("A"))
        .sort(Sort::asc(SortField::Sku))
        .fields([LevelField::All])
        .product_fields([ProductField::Basic])
        .with_count()
        .page_size(10)
        .uri()
        .unwrap();
    for name in [
        "filter=",
        "sort=",
        "fields=",
        "fields:product=",
        "count=1",
        "limit=10",
    ] {
        assert!(uri.contains(name), "{name} missing from {uri}");
    }
}

#[test]
fn filterable_fields_and_kinds_match_the_spec() {
    let params = parameters(&spec());
    let declared = extension(&params["filter"], "x-filterable-fields")
        .as_object()
        .unwrap();
    let spec_names: BTreeSet<&str> = declared.keys().map(String::as_str).collect();
    let facade_names: BTreeSet<&str> = fields::ALL.iter().copied().collect();
    assert_eq!(
        spec_names, facade_names,
        "spec x-filterable-fields vs shipstream_inventory::fields::ALL"
    );

    for (name, kind) in declared {
        let catalogued = shipstream_inventory::grammar::fields::lookup(name)
            .unwrap_or_else(|| panic!("{name} is not in the grammar's catalogue"));
        let ok = match (kind, catalogued.kind) {
            (serde_json::Value::String(k), FieldKind::Integer) => k == "integer",
            (serde_json::Value::String(k), FieldKind::String) => k == "string",
            (serde_json::Value::String(k), FieldKind::Boolean) => k == "boolean",
            (serde_json::Value::String(k), FieldKind::Timestamp) => k == "timestamp",
            (serde_json::Value::Array(values), FieldKind::Enum(known)) => values
                .iter()
                .filter_map(|v| v.as_str())
                .eq(known.iter().copied()),
            _ => false,
        };
        assert!(
            ok,
            "{name}: spec says {kind}, the catalogue says {:?}",
            catalogued.kind
        );
    }
    assert_eq!(
        shipstream_inventory::grammar::fields::ALL.len(),
        declared.len()
    );
}

#[test]
fn operators_match_the_spec() {
    let params = parameters(&spec());
    let ops = extension(&params["filter"], "x-filter-operators");
    let list = |k: &str| -> BTreeSet<String> {
        ops[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let documented = list("documented");
    let assumed = list("assumed");
    for op in Op::ALL {
        let name = op.as_str().to_owned();
        assert_eq!(
            op.is_documented(),
            documented.contains(&name),
            "{name}: documented in the grammar vs the spec"
        );
        assert!(
            documented.contains(&name) || assumed.contains(&name),
            "{name} is not in the spec"
        );
    }
    assert_eq!(documented.len() + assumed.len(), Op::ALL.len());
}

#[test]
fn sortable_fields_match_the_spec() {
    let params = parameters(&spec());
    let declared: BTreeSet<&str> = extension(&params["sort"], "x-sortable-fields")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let facade: BTreeSet<&str> = SortField::ALL.iter().map(|f| f.as_str()).collect();
    assert_eq!(declared, facade);
    // Every one sorts both ways through the typed API.
    for f in SortField::ALL {
        assert_eq!(Sort::desc(f).to_string(), format!("-{}", f.as_str()));
    }
}

#[test]
fn field_selections_match_the_spec() {
    let params = parameters(&spec());
    for value in enum_values(&params["fields"]) {
        let field: LevelField = value.parse().unwrap();
        assert_eq!(field.to_string(), value);
    }
    for value in enum_values(&params["fields:product"]) {
        let field: ProductField = value.parse().unwrap();
        assert_eq!(field.to_string(), value);
    }
    // The enums are generated from these very lists, so the facade cannot offer more;
    // a value the spec lacks does not parse.
    assert!("price".parse::<LevelField>().is_err());
    assert!("price".parse::<ProductField>().is_err());
}
