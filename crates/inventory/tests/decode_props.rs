//! Bad input from the network never panics the decoder, and the good records of a page
//! survive a bad one (property tests over mutated valid pages).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Value, json};
use shipstream_inventory::Page;

fn level(id: i64) -> Value {
    json!({
        "type": "TotalLevel",
        "product": {"type": "Product", "id": id, "sku": format!("S{id}")},
        "qty_allocated": 1, "qty_on_hand": 10, "qty_available": 9,
        "updated_at": "2025-08-28T10:30:00Z"
    })
}

fn valid_page(n: usize) -> Value {
    json!({
        "collection": (1..=n as i64).map(level).collect::<Vec<_>>(),
        "included": {"Product": (1..=n as i64).map(|id| json!({
            "type": "Product", "id": id, "sku": format!("S{id}"), "barcodes": ["1"],
            "weight": {"value": 1.5, "unit": "lb"},
            "custom_fields": [{"code": "c", "value": id}]
        })).collect::<Vec<_>>()},
        "has_more": true,
        "next": "/api/global/v1/inventory/levels/total?cursor_start=99",
        "meta": {"processing_time": 0.1, "cursor_start": 99, "cursor_end": null}
    })
}

/// A JSON value to plant somewhere: wrong types, nulls, huge numbers, deep nesting.
fn hostile() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(1e308)),
        ".{0,40}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        (1usize..200).prop_map(|depth| {
            let mut v = json!(1);
            for _ in 0..depth {
                v = json!([v]);
            }
            v
        }),
    ]
}

/// Paths of a level record that can be replaced.
const LEVEL_KEYS: &[&str] = &[
    "type",
    "product",
    "qty_allocated",
    "qty_on_hand",
    "updated_at",
    "brand_new",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_record_is_isolated(index in 0usize..5, key in prop::sample::select(LEVEL_KEYS), value in hostile(), remove in any::<bool>()) {
        let mut page = valid_page(5);
        let record = &mut page["collection"][index];
        if remove {
            record.as_object_mut().unwrap().remove(key);
        } else {
            record[key] = value;
        }
        let bytes = serde_json::to_vec(&page).unwrap();
        let decoded = Page::from_json(&bytes).unwrap();
        prop_assert_eq!(decoded.len(), 5);
        // Every record other than the mutated one decoded.
        for (i, r) in decoded.records().iter().enumerate() {
            if i != index {
                prop_assert!(r.is_ok(), "record {} was lost: {:?}", i, r);
            }
        }
        if let Err(e) = &decoded.records()[index] {
            prop_assert_eq!(e.location.clone(), format!("collection[{index}]"));
            prop_assert!(!e.reason.is_empty());
        }
    }

    #[test]
    fn mutated_envelopes_are_errors_or_pages_never_panics(key in prop::sample::select(&["collection", "included", "has_more", "next", "previous", "meta"][..]), value in hostile()) {
        let mut page = valid_page(3);
        page[key] = value;
        let bytes = serde_json::to_vec(&page).unwrap();
        let _ = Page::from_json(&bytes);
    }

    #[test]
    fn truncated_bodies_are_errors_never_panics(cut in 0usize..2000) {
        let bytes = serde_json::to_vec(&valid_page(4)).unwrap();
        let cut = cut.min(bytes.len().saturating_sub(1));
        prop_assert!(Page::from_json(&bytes[..cut]).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Page::from_json(&bytes);
    }

    #[test]
    fn invalid_utf8_inside_strings_is_an_error(at in 0usize..200) {
        let mut bytes = serde_json::to_vec(&valid_page(2)).unwrap();
        // Overwrite a byte inside the body with a lone continuation byte.
        let at = at.min(bytes.len() - 1);
        bytes[at] = 0x80;
        let _ = Page::from_json(&bytes);
    }
}

#[test]
fn deeply_nested_junk_neither_overflows_nor_loses_the_page() {
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    // In an unknown field it is skipped; in a typed field it makes that record an error.
    let unknown =
        format!(r#"{{"collection":[{{"type":"TotalLevel","x":{nested}}}],"has_more":false}}"#);
    let page = Page::from_json(unknown.as_bytes()).unwrap();
    assert_eq!(page.levels().count(), 1);
    let typed = format!(
        r#"{{"collection":[{{"type":"TotalLevel","qty_on_hand":{nested}}},{{"type":"TotalLevel"}}],"has_more":false}}"#
    );
    match Page::from_json(typed.as_bytes()) {
        Ok(page) => {
            assert!(page.records()[0].is_err());
            assert!(page.records()[1].is_ok());
        }
        // serde_json's recursion limit refuses the whole body: an error, not a crash.
        Err(e) => assert!(e.is_decode()),
    }
}
