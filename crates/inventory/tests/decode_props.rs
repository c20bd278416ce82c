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
    fn invalid_utf8_inside_strings_is_an_error(pick in any::<prop::sample::Index>()) {
        let mut bytes = serde_json::to_vec(&valid_page(2)).unwrap();
        // A byte inside a string's content (never a quote, a backslash or structure).
        let inside = string_content_positions(&bytes);
        let at = inside[pick.index(inside.len())];
        bytes[at] = 0x80; // a lone continuation byte: not UTF-8
        match Page::from_json(&bytes) {
            Err(e) => prop_assert!(e.is_decode(), "{e}"),
            Ok(page) => prop_assert!(
                false,
                "invalid UTF-8 at byte {at} was accepted: {:?}",
                page.records()
            ),
        }
    }
}

/// Byte offsets of the contents of every JSON string in `json` (keys and values).
fn string_content_positions(json: &[u8]) -> Vec<usize> {
    let (mut out, mut in_string, mut escaped) = (Vec::new(), false, false);
    for (i, &b) in json.iter().enumerate() {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => out.push(i),
            (false, _, b'"') => in_string = true,
            _ => {}
        }
    }
    out
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

/// Product members of an included product that can be replaced.
const PRODUCT_KEYS: &[&str] = &[
    "type",
    "id",
    "sku",
    "barcodes",
    "weight",
    "custom_fields",
    "goods_type",
    "brand_new",
];

/// Hostile values that stay within serde_json's nesting limit.
fn shallow_hostile() -> impl Strategy<Value = Value> {
    hostile().prop_filter("shallow", |v| {
        fn depth(v: &Value) -> usize {
            match v {
                Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
                Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
                _ => 0,
            }
        }
        depth(v) < 100
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_included_product_never_costs_a_level(index in 0usize..5, key in prop::sample::select(PRODUCT_KEYS), value in shallow_hostile(), remove in any::<bool>()) {
        let mut page = valid_page(5);
        let product = &mut page["included"]["Product"][index];
        if remove {
            product.as_object_mut().unwrap().remove(key);
        } else {
            product[key] = value;
        }
        let bytes = serde_json::to_vec(&page).unwrap();
        let decoded = Page::from_json(&bytes).unwrap();
        prop_assert_eq!(decoded.levels().count(), 5, "every level survives");
        // Every other product is still there (a mutated id may shadow one, but an id is
        // never lost).
        for id in 1..=5i64 {
            if id != index as i64 + 1 {
                prop_assert!(decoded.included().product(id).is_some(), "product {} lost", id);
            }
        }
        // A product that does not decode is reported, with its location, after the levels.
        let errors: Vec<_> = decoded.items().filter_map(Result::err).collect();
        prop_assert!(errors.len() <= 1);
        if let Some(e) = errors.first() {
            prop_assert_eq!(e.location.clone(), format!("included.Product[{index}]"));
            prop_assert!(decoded.included().product(index as i64 + 1).is_none());
        }
    }

    #[test]
    fn a_mutated_meta_never_costs_the_page(key in prop::option::of(prop::sample::select(&["processing_time", "cursor_start", "cursor_end", "count", "brand_new"][..])), value in shallow_hostile()) {
        let mut page = valid_page(3);
        match key {
            Some(k) => page["meta"][k] = value,
            None => page["meta"] = value,
        }
        let bytes = serde_json::to_vec(&page).unwrap();
        let decoded = Page::from_json(&bytes).unwrap();
        prop_assert_eq!(decoded.levels().count(), 3);
        prop_assert_eq!(decoded.record_errors().count(), 0);
        prop_assert!(decoded.has_more());
    }

    #[test]
    fn any_unicode_survives_decoding_exactly(sku in any::<String>(), name in any::<String>(), next in any::<String>()) {
        let mut page = valid_page(2);
        page["collection"][1]["product"]["sku"] = sku.clone().into();
        page["included"]["Product"][0]["name"] = name.clone().into();
        page["next"] = next.clone().into();
        // serde_json escapes quotes, backslashes and control characters.
        let bytes = serde_json::to_vec(&page).unwrap();
        let decoded = Page::from_json(&bytes).unwrap();
        prop_assert_eq!(decoded.levels().count(), 2);
        let level = decoded.levels().nth(1).unwrap();
        prop_assert_eq!(level.product.as_ref().unwrap().sku.as_deref(), Some(sku.as_str()));
        prop_assert_eq!(decoded.included().product(1).unwrap().name.as_deref(), Some(name.as_str()));
        prop_assert_eq!(decoded.next_uri(), Some(next.as_str()));
    }

    #[test]
    fn escaped_strings_decode_like_their_characters(chars in prop::collection::vec(any::<char>(), 0..20)) {
        // Every character written as \uXXXX (surrogate pairs above the BMP).
        let mut escaped = String::new();
        for c in &chars {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                escaped.push_str(&format!("\\u{unit:04x}"));
            }
        }
        let body = format!(
            r#"{{"collection":[{{"type":"TotalLevel","product":{{"type":"Product","id":1,"sku":"{escaped}"}}}}],"has_more":false}}"#
        );
        let decoded = Page::from_json(body.as_bytes()).unwrap();
        let want: String = chars.iter().collect();
        prop_assert_eq!(
            decoded.levels().next().unwrap().product.as_ref().unwrap().sku.as_deref(),
            Some(want.as_str())
        );
    }
}

/// Valid JSON text that serde_json refuses as a value only deep inside one record (a lone
/// surrogate escape, a number beyond f64, nesting beyond the recursion limit): that record
/// is lost, the rest of the page is not.
#[test]
fn values_serde_cannot_represent_cost_only_their_record() {
    let nested = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    for (what, bad) in [
        ("lone surrogate", r#"{"type":"TotalLevel","product":{"type":"Product","id":2,"sku":"\ud800"}}"#.to_owned()),
        ("unpaired low surrogate", r#"{"type":"TotalLevel","product":{"type":"Product","id":2,"sku":"a\udc00b"}}"#.to_owned()),
        ("number beyond f64", r#"{"type":"TotalLevel","product":{"type":"Product","id":2},"qty_on_hand":1e400}"#.to_owned()),
        ("integer beyond u64", r#"{"type":"TotalLevel","product":{"type":"Product","id":2},"qty_on_hand":184467440737095516160}"#.to_owned()),
        ("nesting beyond the limit", format!(r#"{{"type":"TotalLevel","product":{{"type":"Product","id":2}},"qty_on_hand":{nested}}}"#)),
    ] {
        let body = format!(
            r#"{{"collection":[{},{bad},{}],"has_more":false,"next":null}}"#,
            level(1),
            level(3)
        );
        let page = Page::from_json(body.as_bytes())
            .unwrap_or_else(|e| panic!("{what}: the whole page was lost: {e}"));
        assert_eq!(page.len(), 3, "{what}");
        assert!(page.records()[0].is_ok(), "{what}");
        assert!(page.records()[2].is_ok(), "{what}");
        let e = page.records()[1].as_ref().unwrap_err();
        assert_eq!(e.location, "collection[1]", "{what}");
    }
}
