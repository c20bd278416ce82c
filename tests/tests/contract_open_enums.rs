//! The spec keeps open what the API keeps open: a page with a `Packaging` object in
//! `included`, a goods type and a weight unit the spec does not list validates against
//! `openapi.yaml` (as a user's Prism proxy or jsonschema reads it), and the facade decodes
//! it with every value kept. (`xtask`'s conformance check names each as drift: see its tests.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use shipstream_inventory::{IncludedRef, Page, types::GoodsType};
use shipstream_inventory_contract_tests::spec::{Spec, validate_response};

/// A goods type no spec lists: not `openapi.yaml`, and not the drilled copy of it that
/// `cargo xtask drill` makes (which plants `LIMITED_QUANTITY` as a known value), so the
/// test reads an unknown value in either.
const NEW_GOODS_TYPE: &str = "NEVER_PLANTED_GOODS_TYPE_7";

fn surprising_page() -> Value {
    let mut page = Spec::load().unwrap().response_examples("200").unwrap()[0].clone();
    let product = &mut page["included"]["Product"][0];
    product["goods_type"] = json!(NEW_GOODS_TYPE);
    product["weight"]["unit"] = json!("stone");
    page["included"]["Packaging"] = json!([
        {"type": "Packaging", "id": 77, "sku": "BOX-S", "name": "Small box"}
    ]);
    page
}

#[test]
fn new_values_of_open_enums_and_a_packaging_object_validate_and_decode() {
    let page = surprising_page();
    validate_response(200, &page).unwrap();

    let decoded = Page::from_json(&serde_json::to_vec(&page).unwrap()).unwrap();
    assert_eq!(decoded.record_errors().count(), 0);
    let product = decoded.included().products().next().unwrap();
    assert_eq!(
        product.goods_type,
        Some(GoodsType::Unknown("NEVER_PLANTED_GOODS_TYPE_7".into())),
        "decoded as a value the spec does not list"
    );
    let back = serde_json::to_value(product.as_ref()).unwrap();
    assert_eq!(
        back["goods_type"], "NEVER_PLANTED_GOODS_TYPE_7",
        "kept, and written back unchanged"
    );
    assert_eq!(back["weight"]["unit"], "stone");
    match decoded.included().get("Packaging", 77) {
        Some(IncludedRef::Other(v)) => assert_eq!(v["sku"], "BOX-S"),
        other => panic!("the Packaging object is lost: {other:?}"),
    }
}

#[test]
fn a_value_a_closed_enum_forbids_is_refused() {
    let mut page = surprising_page();
    page["collection"][0]["type"] = json!("TotalLevelV2");
    let err = validate_response(200, &page).unwrap_err();
    assert!(err.contains("/collection/0/type"), "{err}");
}
