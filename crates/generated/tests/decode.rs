//! The generated types decode what the API sends, including what a newer API version may
//! send, and write unknown enum values back out unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use shipstream_inventory_generated::types::{
    ErrorBody, ErrorType, GoodsType, ObjectType, TotalLevelType, TotalLevelsPage, VirtualInventory,
    WeightUnit,
};

const REFERENCE: &str = include_str!("fixtures/reference-page.json");
const SURPRISES: &str = include_str!("fixtures/surprises-page.json");

/// A goods type no spec lists: not `openapi.yaml`, and not the drilled copy of it that
/// `cargo xtask drill` makes (which plants the fixture's `LIMITED_QUANTITY` as a known
/// value), so these tests read an unknown value in either.
const NEW_GOODS_TYPE: &str = "NEVER_PLANTED_GOODS_TYPE_7";

/// The surprises fixture with [`NEW_GOODS_TYPE`] as the included product's goods type.
fn surprises() -> Value {
    let mut page: Value = serde_json::from_str(SURPRISES).unwrap();
    page["included"]["Product"][0]["goods_type"] = json!(NEW_GOODS_TYPE);
    page
}

#[test]
fn the_reference_example_decodes_and_round_trips_exactly() {
    let page: TotalLevelsPage = serde_json::from_str(REFERENCE).unwrap();
    assert_eq!(page.collection.len(), 1);
    let level = &page.collection[0];
    assert_eq!(level.type_, TotalLevelType::TotalLevel);
    assert_eq!(level.qty_on_hand, Some(230));
    let product = &page.included.as_ref().unwrap().product[0];
    assert_eq!(product.goods_type, Some(GoodsType::Normal));
    // Every field of the reference example is modelled: the round trip loses nothing and
    // integers stay integers (`"value": 20`, not `20.0`).
    let back = serde_json::to_value(&page).unwrap();
    let original: Value = serde_json::from_str(REFERENCE).unwrap();
    assert_eq!(back, original);
}

#[test]
fn a_page_full_of_surprises_decodes() {
    let page: TotalLevelsPage = serde_json::from_value(surprises()).unwrap();
    let level = &page.collection[0];
    assert_eq!(level.product.as_ref().unwrap().id, 9_007_199_254_740_993);
    assert_eq!(
        page.collection[1].product.as_ref().unwrap().type_,
        ObjectType::Unknown("Kit".into())
    );

    let included = page.included.as_ref().unwrap();
    let product = &included.product[0];
    assert_eq!(product.barcodes, None);
    // Kept, whether or not the spec lists it yet.
    let goods = product.goods_type.as_ref().unwrap();
    assert_eq!(
        goods,
        &GoodsType::Unknown("NEVER_PLANTED_GOODS_TYPE_7".into())
    );
    assert!(goods.is_unknown());
    assert_eq!(goods.as_str(), "NEVER_PLANTED_GOODS_TYPE_7");
    let weight = product.weight.as_ref().unwrap();
    assert_eq!(weight.unit, Some(WeightUnit::Unknown("stone".into())));
    assert!(weight.value.as_ref().unwrap().is_i64());
    assert_eq!(
        product.inventory.as_ref().unwrap().virtual_inventory,
        Some(VirtualInventory::Unknown("conservative".into()))
    );
    let values: Vec<Option<Value>> = product
        .custom_fields
        .as_ref()
        .unwrap()
        .iter()
        .map(|f| f.value.clone())
        .collect();
    assert_eq!(values[0], Some(json!({"a": [1, "two", null]})));
    assert_eq!(values[2], Some(json!(13)));
    assert!(
        values[2].as_ref().unwrap().is_i64(),
        "integers stay integers"
    );
    assert_eq!(values[7], None);
    assert_eq!(included.extra["PackagingV2"][0].id, 55);
}

#[test]
fn unknown_enum_values_are_written_back_unchanged() {
    let page: TotalLevelsPage = serde_json::from_value(surprises()).unwrap();
    let back = serde_json::to_value(&page).unwrap();
    assert_eq!(back["collection"][1]["product"]["type"], "Kit");
    let product = &back["included"]["Product"][0];
    assert_eq!(product["goods_type"], "NEVER_PLANTED_GOODS_TYPE_7");
    assert_eq!(product["weight"]["unit"], "stone");
    assert_eq!(product["weight"]["value"], json!(20));
    assert_eq!(product["dimensions"]["unit"], "furlong");
    assert_eq!(product["inventory"]["virtual_inventory"], "conservative");
    assert_eq!(back["included"]["PackagingV2"][0]["type"], "PackagingV2");
    // And once more through the types: a second round trip is stable.
    let again: TotalLevelsPage = serde_json::from_value(back.clone()).unwrap();
    assert_eq!(serde_json::to_value(&again).unwrap(), back);
}

#[test]
fn a_level_type_the_spec_does_not_allow_is_refused() {
    // `TotalLevel.type` is the one closed enum of a page: the endpoint lists TotalLevel
    // objects and nothing else, so another value is a contract violation, not a novelty.
    let mut page: Value = serde_json::from_str(SURPRISES).unwrap();
    page["collection"][0]["type"] = json!("TotalLevelV2");
    let err = serde_json::from_value::<TotalLevelsPage>(page).unwrap_err();
    assert!(err.to_string().contains("TotalLevelV2"), "{err}");
    // The open `ObjectType` of a stub takes any value.
    assert_eq!(ObjectType::from("Kit"), ObjectType::Unknown("Kit".into()));
}

#[test]
fn open_enums_know_their_values() {
    assert_eq!(GoodsType::from("NORMAL"), GoodsType::Normal);
    assert_eq!(GoodsType::Normal.as_str(), "NORMAL");
    assert_eq!(WeightUnit::KNOWN, ["lb", "oz", "kg", "g"]);
    assert_eq!(
        "in^3"
            .parse::<shipstream_inventory_generated::types::VolumeUnit>()
            .unwrap()
            .to_string(),
        "in^3"
    );
    assert_eq!(
        ErrorType::from("rate_limit"),
        ErrorType::Unknown("rate_limit".into())
    );
}

#[test]
fn error_bodies_decode_with_and_without_details() {
    let body: ErrorBody = serde_json::from_value(json!({
        "errors": [
            {"type": "openapi", "message": "bad", "details": [{"key": "limit", "message": "too big"}]},
            {"type": "quota", "message": "new kind of error"}
        ]
    }))
    .unwrap();
    assert_eq!(body.errors[0].type_, ErrorType::Openapi);
    assert_eq!(body.errors[0].details[0].key, "limit");
    assert_eq!(body.errors[1].type_, ErrorType::Unknown("quota".into()));
    assert!(body.errors[1].details.is_empty());
}
