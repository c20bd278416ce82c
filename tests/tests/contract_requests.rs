//! Requests ⇄ spec: whatever a user builds with the facade goes on the wire the way
//! `openapi.yaml` describes, and what the spec forbids is refused before anything is sent.
//!
//! For property-generated builder inputs (filters from the typed `fields` API and arbitrary
//! valid `shipstream_filter` ASTs, sorts, fields, product fields, page sizes, count), the
//! first-page URL (`TotalLevelsRequest::uri()`) is read back with the spec's own rules
//! (`filter` repeated, `fields` / `fields:product` comma-joined, see
//! `shipstream_inventory_contract_tests::wire`) and every parameter is validated against its
//! schema; the values read back must also be exactly the inputs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::within;

use std::sync::LazyLock;

use chrono::{DateTime, TimeZone as _, Utc};
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use shipstream_filter::fields::{self as catalogue, FieldKind};
use shipstream_filter::{Condition, Expr, Filter, Op, Value};
use shipstream_inventory::{
    Client, LevelField, ProductField, ProductType, Sort, SortField, fields,
};
use shipstream_inventory_contract_tests::spec::{self, LEVELS_PATH, spec};
use shipstream_inventory_mock::{MockConfig, MockServer};

/// Building a client loads the TLS roots; do it once.
static CLIENT: LazyLock<Client> = LazyLock::new(|| {
    Client::builder()
        .base_url("https://acme.shipstream.app")
        .token("t")
        .build()
        .unwrap()
});

/// The `enum` of an array parameter's items, from the spec.
fn item_enum(parameter: &str) -> Vec<String> {
    spec::spec().item_values(parameter).unwrap()
}

/// Every `fields` value the spec lists, as the facade's type.
static LEVEL_FIELDS: LazyLock<Vec<LevelField>> = LazyLock::new(|| {
    item_enum("fields")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect()
});

/// Every `fields:product` value the spec lists, as the facade's type.
static PRODUCT_FIELDS: LazyLock<Vec<ProductField>> = LazyLock::new(|| {
    item_enum("fields:product")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect()
});

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// Text that stresses URL encoding and the filter's JSON5 escaping.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 _.-]{0,12}",
        prop::collection::vec(
            prop::sample::select(vec![
                'a', 'Z', '0', ' ', '&', '=', '+', '%', '#', '?', '/', ',', ':', ';', '"', '\'',
                '\\', '{', '}', '[', ']', '\n', '\t', 'é', '日', '😀', '\u{2028}',
            ]),
            0..10,
        )
        .prop_map(String::from_iter),
        any::<String>(),
    ]
}

fn timestamp() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn int_field() -> impl Strategy<Value = shipstream_inventory::IntField> {
    prop::sample::select(vec![
        fields::PRODUCT_ID,
        fields::MERCHANT_ID,
        fields::QTY_ALLOCATED,
        fields::QTY_BACKORDERED,
        fields::QTY_RESERVED,
        fields::QTY_PICKED,
        fields::QTY_EXPECTED,
        fields::QTY_PROCESSED,
        fields::QTY_PUTAWAY,
        fields::QTY_AVAILABLE,
        fields::QTY_ON_HAND,
        fields::QTY_ADVERTISED,
    ])
}

fn text_field() -> impl Strategy<Value = shipstream_inventory::TextField> {
    prop::sample::select(vec![
        fields::SKU,
        fields::PRODUCT_NAME,
        fields::VENDOR_SKU,
        fields::EXTERNAL_ID,
        fields::BARCODE,
        fields::GOODS_TYPE,
    ])
}

fn time_field() -> impl Strategy<Value = shipstream_inventory::TimeField> {
    prop::sample::select(vec![
        fields::PRODUCT_CREATED_AT,
        fields::PRODUCT_UPDATED_AT,
        fields::UPDATED_AT,
    ])
}

fn bool_field() -> impl Strategy<Value = shipstream_inventory::BoolField> {
    prop::sample::select(vec![
        fields::IS_ENABLED,
        fields::IS_AVAILABLE,
        fields::IS_VISIBLE,
    ])
}

/// Filters built with the facade's typed API (every method of every field type).
fn typed_filter() -> impl Strategy<Value = Filter> {
    let ints = prop::collection::vec(any::<i64>(), 1..4);
    let texts = prop::collection::vec(text(), 1..4);
    let types = prop::sample::subsequence(ProductType::ALL.to_vec(), 1..=5);
    prop_oneof![
        (int_field(), any::<i64>(), 0..6u8).prop_map(|(f, v, op)| match op {
            0 => f.eq(v),
            1 => f.neq(v),
            2 => f.gt(v),
            3 => f.gteq(v),
            4 => f.lt(v),
            _ => f.lteq(v),
        }),
        (int_field(), any::<i64>(), any::<i64>()).prop_map(|(f, a, b)| f.between(a, b)),
        (int_field(), ints.clone(), any::<bool>()).prop_map(|(f, v, yes)| if yes {
            f.is_in(v)
        } else {
            f.not_in(v)
        }),
        (int_field(), any::<bool>()).prop_map(|(f, null)| f.is_null(null)),
        (int_field(), any::<i64>(), any::<i64>())
            .prop_map(|(f, a, b)| f.any([vec![Condition::lt(a)], vec![Condition::gt(b)]])),
        (text_field(), text(), 0..4u8).prop_map(|(f, v, op)| match op {
            0 => f.eq(v),
            1 => f.neq(v),
            2 => f.starts_with(v),
            _ => f.ends_with(v),
        }),
        (text_field(), texts, any::<bool>()).prop_map(|(f, v, yes)| if yes {
            f.is_in(v)
        } else {
            f.not_in(v)
        }),
        (text_field(), any::<bool>()).prop_map(|(f, null)| f.is_null(null)),
        (bool_field(), any::<bool>()).prop_map(|(f, v)| f.eq(v)),
        (time_field(), timestamp(), 0..5u8).prop_map(|(f, t, op)| match op {
            0 => f.eq(t),
            1 => f.gt(t),
            2 => f.gteq(t),
            3 => f.lt(t),
            _ => f.lteq(t),
        }),
        (time_field(), timestamp(), timestamp()).prop_map(|(f, a, b)| f.between(a, b)),
        (
            prop::sample::select(ProductType::ALL.to_vec()),
            any::<bool>()
        )
            .prop_map(|(t, eq)| {
                if eq {
                    fields::PRODUCT_TYPE.eq(t)
                } else {
                    fields::PRODUCT_TYPE.neq(t)
                }
            }),
        types.prop_map(|t| fields::PRODUCT_TYPE.is_in(t)),
        timestamp().prop_map(|t| {
            // `updated_since` is the incremental-sync shortcut for `updated_at{gt:..}`.
            fields::UPDATED_AT.gt(t)
        }),
    ]
}

/// One operand fitting `kind` (a list of them for `in` / `nin`).
fn operand(kind: FieldKind, op: Op) -> BoxedStrategy<Value> {
    let scalar: BoxedStrategy<Value> = match kind {
        FieldKind::Integer => any::<i64>().prop_map(Value::Int).boxed(),
        FieldKind::String => text().prop_map(Value::String).boxed(),
        FieldKind::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        FieldKind::Timestamp => timestamp()
            .prop_map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
            .boxed(),
        FieldKind::Enum(values) => prop::sample::select(values.to_vec())
            .prop_map(|s| Value::String(s.to_owned()))
            .boxed(),
        _ => Just(Value::Null).boxed(),
    };
    match op {
        Op::Null => any::<bool>().prop_map(Value::Bool).boxed(),
        Op::In | Op::Nin => prop::collection::vec(scalar, 1..4)
            .prop_map(Value::List)
            .boxed(),
        _ => scalar,
    }
}

/// A group of conditions with distinct operators, each fitting `kind`.
fn group(kind: FieldKind) -> BoxedStrategy<Vec<Condition>> {
    let ops = shipstream_filter::fields::operators(kind);
    prop::sample::subsequence(ops.clone(), 1..=ops.len().min(3))
        .prop_flat_map(move |ops| {
            ops.into_iter()
                .map(|op| operand(kind, op).prop_map(move |value| Condition { op, value }))
                .collect::<Vec<_>>()
        })
        .boxed()
}

/// Arbitrary valid filter ASTs over the endpoint's field catalogue: every field, every
/// operator its kind supports, all three forms.
fn ast_filter() -> impl Strategy<Value = Filter> {
    prop::sample::select(catalogue::ALL.to_vec())
        .prop_flat_map(|spec| {
            let kind = spec.kind;
            let name = spec.name;
            prop_oneof![
                operand(kind, Op::Eq).prop_map(move |v| Filter::new(name, Expr::Equals(v))),
                group(kind).prop_map(move |g| Filter::new(name, Expr::All(g))),
                prop::collection::vec(group(kind), 1..3)
                    .prop_map(move |gs| Filter::new(name, Expr::Any(gs))),
            ]
        })
        .prop_filter("valid for the catalogue", |f| f.validate().is_ok())
}

/// Sorts over distinct keys, in any order and direction.
fn sort() -> impl Strategy<Value = Sort> {
    (
        Just(SortField::ALL.to_vec()).prop_shuffle(),
        1..=3usize,
        prop::collection::vec(any::<bool>(), 3),
    )
        .prop_map(|(keys, n, desc)| {
            let mut sort = if desc[0] {
                Sort::desc(keys[0])
            } else {
                Sort::asc(keys[0])
            };
            for (k, d) in keys.iter().zip(&desc).take(n).skip(1) {
                sort = if *d {
                    sort.then_desc(*k)
                } else {
                    sort.then_asc(*k)
                };
            }
            sort
        })
}

#[derive(Clone, Debug)]
struct Inputs {
    filters: Vec<Filter>,
    sort: Option<Sort>,
    fields: Vec<LevelField>,
    product_fields: Vec<ProductField>,
    page_size: Option<u32>,
    count: bool,
}

fn inputs() -> impl Strategy<Value = Inputs> {
    (
        prop::collection::vec(prop_oneof![typed_filter(), ast_filter()], 0..4),
        prop::option::of(sort()),
        prop::sample::subsequence(LEVEL_FIELDS.clone(), 0..=LEVEL_FIELDS.len()).prop_shuffle(),
        prop::sample::subsequence(PRODUCT_FIELDS.clone(), 0..=PRODUCT_FIELDS.len()).prop_shuffle(),
        prop::option::of(prop_oneof![Just(1u32), Just(1000), 1..=1000u32]),
        any::<bool>(),
    )
        .prop_map(
            |(filters, sort, fields, product_fields, page_size, count)| Inputs {
                filters,
                sort,
                fields,
                product_fields,
                page_size,
                count,
            },
        )
}

fn build(inputs: &Inputs) -> shipstream_inventory::TotalLevelsRequest {
    let mut req = CLIENT.total_levels();
    for f in &inputs.filters {
        req = req.filter(f.clone());
    }
    if let Some(s) = &inputs.sort {
        req = req.sort(s.clone());
    }
    if !inputs.fields.is_empty() {
        req = req.fields(inputs.fields.iter().copied());
    }
    if !inputs.product_fields.is_empty() {
        req = req.product_fields(inputs.product_fields.iter().cloned());
    }
    if let Some(n) = inputs.page_size {
        req = req.page_size(n);
    }
    if inputs.count {
        req = req.count(true);
    }
    req
}

fn names<T: ToString>(items: &[T]) -> Json {
    Json::Array(items.iter().map(|i| json!(i.to_string())).collect())
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    /// The first-page URL of any valid builder input is the spec's operation with every
    /// parameter valid for its schema and equal to the input.
    #[test]
    fn every_built_request_matches_the_spec(inputs in inputs()) {
        let uri = build(&inputs).uri().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let url = url::Url::parse(&uri).unwrap();
        prop_assert_eq!(url.path(), LEVELS_PATH);
        prop_assert_eq!(url.host_str(), Some("acme.shipstream.app"));
        let query = url.query().unwrap_or_default();
        let decoded = spec()
            .validate_query(query)
            .map_err(|p| TestCaseError::fail(format!("{query}\n{}", p.join("\n"))))?;

        // What the spec reads back is exactly what was asked for.
        let rendered: Vec<Json> = inputs.filters.iter().map(|f| json!(f.render())).collect();
        prop_assert_eq!(decoded.get("filter").cloned().unwrap_or(json!([])), Json::Array(rendered));
        if let Some(Json::Array(sent)) = decoded.get("filter") {
            for (text, original) in sent.iter().zip(&inputs.filters) {
                let back = Filter::parse_validated(text.as_str().unwrap())
                    .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
                // Equal up to the form (`sku{eq:"5"}` reads back as a condition object).
                prop_assert_eq!(back.render(), original.render());
            }
        }
        prop_assert_eq!(
            decoded.get("sort").cloned(),
            inputs.sort.as_ref().map(|s| json!(s.to_string()))
        );
        let want_fields = (!inputs.fields.is_empty()).then(|| names(&inputs.fields));
        prop_assert_eq!(decoded.get("fields").cloned(), want_fields);
        let want_product = (!inputs.product_fields.is_empty()).then(|| names(&inputs.product_fields));
        prop_assert_eq!(decoded.get("fields:product").cloned(), want_product);
        prop_assert_eq!(decoded.get("count").cloned(), inputs.count.then(|| json!(1)));
        prop_assert_eq!(decoded.get("limit").cloned(), inputs.page_size.map(|n| json!(n)));
        prop_assert!(decoded.get("cursor_start").is_none() && decoded.get("cursor_end").is_none());
    }

    /// Arbitrary sort keys (repeats included): the facade either refuses the sort before
    /// sending or sends a value the spec's pattern accepts.
    #[test]
    fn sorts_are_refused_or_valid(keys in prop::collection::vec((prop::sample::select(SortField::ALL.to_vec()), any::<bool>()), 1..5)) {
        let mut sort = if keys[0].1 { Sort::desc(keys[0].0) } else { Sort::asc(keys[0].0) };
        for (k, d) in &keys[1..] {
            sort = if *d { sort.then_desc(*k) } else { sort.then_asc(*k) };
        }
        match CLIENT.total_levels().sort(sort.clone()).uri() {
            Ok(uri) => {
                let url = url::Url::parse(&uri).unwrap();
                prop_assert!(spec().validate_query(url.query().unwrap_or_default()).is_ok(), "{}", uri);
            }
            Err(e) => {
                prop_assert!(e.is_invalid_request());
                let text = sort.to_string();
                let valid = spec().validate_query(&format!("sort={text}")).is_ok();
                prop_assert!(!valid, "`{}` is valid per the spec but was refused", text);
            }
        }
    }
}

/// Every value of the spec's `fields` and `fields:product` enums is reachable, including
/// `all` and `basic`, and the full lists encode to valid parameters.
#[test]
fn every_enum_value_of_the_list_parameters_encodes_validly() {
    assert_eq!(LEVEL_FIELDS.len(), item_enum("fields").len());
    assert_eq!(PRODUCT_FIELDS.len(), item_enum("fields:product").len());
    let uri = CLIENT
        .total_levels()
        .fields(LEVEL_FIELDS.iter().copied())
        .product_fields(PRODUCT_FIELDS.iter().cloned())
        .uri()
        .unwrap();
    let url = url::Url::parse(&uri).unwrap();
    let q = spec()
        .validate_query(url.query().unwrap())
        .unwrap_or_else(|p| panic!("{p:?}"));
    assert!(q["fields"].as_array().unwrap().contains(&json!("all")));
    assert!(
        q["fields:product"]
            .as_array()
            .unwrap()
            .contains(&json!("basic"))
    );
    assert!(
        q["fields:product"]
            .as_array()
            .unwrap()
            .contains(&json!("all"))
    );
    // The same value twice is sent once (the spec says `uniqueItems`).
    let uri = CLIENT
        .total_levels()
        .fields([LevelField::QtyOnHand, LevelField::QtyOnHand])
        .product_fields([ProductField::Sku])
        .product_fields([ProductField::Sku])
        .uri()
        .unwrap();
    assert!(
        uri.ends_with("?fields=qty_on_hand&fields:product=sku"),
        "{uri}"
    );
}

/// The spec's own examples of the `filter` parameter go through the typed API unchanged.
#[test]
fn the_spec_filter_examples_are_reachable() {
    let low = fields::QTY_AVAILABLE.lt(10).render();
    let enabled = fields::IS_ENABLED.eq(true).render();
    assert!(
        spec::spec()
            .parameter_examples("filter")
            .unwrap()
            .contains(&json!([low, enabled]))
    );
}

/// Builder inputs the spec forbids are refused with an invalid-request error and nothing
/// reaches the server.
#[tokio::test]
async fn invalid_builder_inputs_are_refused_before_sending() {
    within(async {
        let server = MockServer::start(MockConfig::default()).await.unwrap();
        let client = Client::builder()
            .base_url(server.base_url())
            .token(server.token())
            .build()
            .unwrap();
        // The limits themselves are accepted...
        for ok in [1, 1000] {
            let uri = client.total_levels().page_size(ok).uri().unwrap();
            let url = url::Url::parse(&uri).unwrap();
            assert!(spec().validate_query(url.query().unwrap()).is_ok());
        }
        // ...what lies outside them is not.
        let refused: Vec<(&str, shipstream_inventory::TotalLevelsRequest)> = vec![
            ("page size 0", client.total_levels().page_size(0)),
            ("page size 1001", client.total_levels().page_size(1001)),
            (
                "page size u32::MAX",
                client.total_levels().page_size(u32::MAX),
            ),
            ("max items 0", client.total_levels().max_items(0)),
            (
                "unknown field",
                client.total_levels().filter_raw("colour:red"),
            ),
            (
                "bad grammar",
                client.total_levels().filter_raw("qty_available{lt:"),
            ),
            (
                "operator the kind lacks",
                client
                    .total_levels()
                    .filter(Filter::all("qty_available", [Condition::start("1")])),
            ),
            (
                "empty alternatives",
                client
                    .total_levels()
                    .filter(fields::QTY_ON_HAND.any(Vec::<Vec<Condition>>::new())),
            ),
            (
                "repeated sort key",
                client
                    .total_levels()
                    .sort(Sort::asc(SortField::Sku).then_desc(SortField::Sku)),
            ),
        ];
        for (what, req) in refused {
            let e = req.clone().uri().unwrap_err();
            assert!(e.is_invalid_request(), "{what}: {e}");
            let e = req.clone().send().await.unwrap_err();
            assert!(e.is_invalid_request(), "{what}: {e}");
            let mut pages = std::pin::pin!(req.pages());
            let first = futures::StreamExt::next(&mut pages).await.unwrap();
            assert!(first.unwrap_err().is_invalid_request(), "{what}");
            assert!(
                futures::StreamExt::next(&mut pages).await.is_none(),
                "{what}"
            );
        }
        assert!(
            "sku,sku".parse::<Sort>().is_err(),
            "the sort parser refuses what the spec's pattern refuses"
        );
        assert!(
            server.requests().is_empty(),
            "nothing may be sent: {:?}",
            server.requests()
        );
        server.shutdown().await;
    })
    .await;
}

/// The check can fail: against copies of the spec with a planted difference, the same
/// requests are reported.
#[test]
fn planted_spec_differences_are_caught() {
    let text = std::fs::read_to_string(spec::Spec::default_path()).unwrap();
    let uri = CLIENT
        .total_levels()
        .filter(fields::QTY_AVAILABLE.lt(10))
        .filter(fields::IS_ENABLED.eq(true))
        .fields([LevelField::All])
        .product_fields([ProductField::Basic, ProductField::Weight])
        .page_size(1000)
        .count(true)
        .uri()
        .unwrap();
    let query = url::Url::parse(&uri).unwrap().query().unwrap().to_owned();
    assert!(spec().validate_query(&query).is_ok());
    let planted = [
        // A lower limit.
        ("        maximum: 1000\n", "        maximum: 500\n"),
        // `count` as a boolean.
        (
            "      schema:\n        type: integer\n        minimum: 0\n        maximum: 1\n",
            "      schema:\n        type: boolean\n",
        ),
        // `filter` no longer repeatable (comma-joined instead).
        (
            "      style: form\n      explode: true\n",
            "      style: form\n      explode: false\n",
        ),
        // The level field `all` renamed (a product field would not do: that list is
        // open, so any name is valid).
        (
            "            - all\n            - product\n",
            "            - every\n            - product\n",
        ),
    ];
    for (from, to) in planted {
        assert_eq!(text.matches(from).count(), 1, "{from:?}");
        let copy = spec::Spec::from_yaml_str(&text.replacen(from, to, 1)).unwrap();
        let problems = copy.validate_query(&query).unwrap_err();
        assert!(!problems.is_empty(), "{to:?}");
    }
}
