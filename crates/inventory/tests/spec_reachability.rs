//! spec ⇄ facade: everything the spec lets a caller say is reachable through the typed
//! API, and the typed API offers nothing the spec lacks. Run by `cargo xtask check`.
//!
//! The spec side is read from `openapi.yaml` itself (not from the generated tables, which
//! the facade is built from); the facade side is what the facade really does: the
//! parameters a request built with every builder method puts on the wire, the handles in
//! `fields::ALL`, the sort keys `Sort` accepts, the values the field enums parse.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use futures::TryStreamExt as _;
use serde_json::Value;
use shipstream_inventory::{
    Client, LevelField, ProductField, Sort, SortField, fields,
    grammar::{Filter, Op, fields::FieldKind},
};

mod support;

use shipstream_inventory_contract_tests::spec::Spec;

/// Parameters the facade does not put on a first request itself, and why. Every other
/// parameter of the spec must appear on the wire of [`everything_request`]; a new one
/// fails `every_parameter_of_the_spec_is_reachable` until the facade has a method for it.
const NOT_SENT_BY_BUILDER: &[(&str, &str)] = &[
    (
        "cursor_start",
        "carried by the server's `next` link (pages, items, Client::resume)",
    ),
    (
        "cursor_end",
        "carried by the server's `previous` link (Page::previous_uri)",
    ),
    (
        "version",
        "the query form of the version pin; the facade sends the header instead",
    ),
];

/// A first-page request with every builder method of the facade that a sequential
/// export takes. With [`everything_parallel_request`] it calls every builder method of
/// `TotalLevelsRequest`: `every_builder_method_is_exercised` reads both bodies and fails
/// on a method that neither calls.
fn everything_request(client: &Client) -> shipstream_inventory::TotalLevelsRequest {
    client
        .total_levels()
        .filter(fields::PRODUCT_ID.gt(0))
        .filter_raw("qty_on_hand{gteq:0}")
        .updated_since("2000-01-01T00:00:00Z".parse().unwrap())
        .sort(Sort::asc(SortField::Sku))
        .fields([LevelField::All])
        .product_fields([ProductField::Basic])
        .count(true)
        .page_size(10)
        .max_items(20)
        .prefetch(true)
}

/// A parallel export with every builder method it takes (not `sort` other than by
/// product id, nor `count`).
fn everything_parallel_request(client: &Client) -> shipstream_inventory::TotalLevelsRequest {
    client
        .total_levels()
        .filter(fields::PRODUCT_ID.gt(0))
        .filter_raw("qty_on_hand{gteq:0}")
        .updated_since("2000-01-01T00:00:00Z".parse().unwrap())
        .sort(Sort::asc(SortField::ProductId))
        .fields([LevelField::All])
        .product_fields([ProductField::Basic])
        .page_size(5)
        .max_items(20)
        .prefetch(true)
        .parallel(3)
}

/// The body of the function `name` in `source` (rustfmt's layout: it ends at the first
/// line that is a lone `}`).
fn body_of<'a>(source: &'a str, name: &str) -> &'a str {
    let start = source
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name}"));
    let len = source[start..].find("\n}\n").expect("the end of the fn");
    &source[start..start + len]
}

/// The builder methods of `TotalLevelsRequest`, read from its source: the `pub fn`s of
/// its `impl` block that return `Self`.
fn builder_methods() -> BTreeSet<String> {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/request.rs")).unwrap();
    let start = source
        .find("\nimpl TotalLevelsRequest {\n")
        .expect("impl TotalLevelsRequest in src/request.rs");
    let len = source[start + 1..]
        .find("\n}\n")
        .expect("the end of the impl");
    let block = &source[start..start + 1 + len];
    block
        .split("\n    pub fn ")
        .skip(1)
        .filter(|f| {
            let signature = &f[..f.find(" {\n").unwrap_or(f.len())];
            signature.contains("-> Self")
        })
        .map(|f| f[..f.find(['(', '<']).unwrap()].to_owned())
        .collect()
}

/// The methods the two request functions above call.
fn exercised_methods() -> BTreeSet<String> {
    let me = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/spec_reachability.rs"
    ))
    .unwrap();
    ["everything_request", "everything_parallel_request"]
        .iter()
        .flat_map(|name| {
            body_of(&me, name)
                .split('.')
                .skip(1)
                .filter_map(|call| {
                    let end = call.find('(')?;
                    let name = call[..end].trim();
                    name.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_')
                        .then(|| name.to_owned())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_builder_method_is_exercised() {
    let builders = builder_methods();
    // The reading of request.rs found the methods (a layout it no longer understands
    // would find none and prove nothing).
    for known in ["filter", "sort", "page_size", "parallel"] {
        assert!(
            builders.contains(known),
            "{known} not found in {builders:?}"
        );
    }
    for terminal in ["send", "pages", "items", "uri", "checkpoint"] {
        assert!(
            !builders.contains(terminal),
            "{terminal} is not a builder method"
        );
    }
    let exercised = exercised_methods();
    let missing: Vec<&String> = builders.difference(&exercised).collect();
    assert!(
        missing.is_empty(),
        "TotalLevelsRequest's builder methods {missing:?} are not exercised: call them in \
         everything_request or everything_parallel_request, so that what they put on the \
         wire is checked against the spec"
    );
}

#[tokio::test]
async fn every_parameter_of_the_spec_is_reachable_and_no_other() {
    support::within(async {
        let spec = Spec::load().unwrap();
        let params = spec.parameters().unwrap();
        let server = shipstream_inventory_mock::MockServer::start(
            shipstream_inventory_mock::MockConfig::default()
                .dataset(shipstream_inventory_mock::Dataset::generate(30, 1)),
        )
        .await
        .unwrap();
        let client = Client::builder()
            .base_url(server.base_url())
            .token(server.token())
            .api_version("2025-08")
            .build()
            .unwrap();
        // Follow every page, so the cursors the server hands out are exercised too.
        let pages: Vec<_> = everything_request(&client)
            .page_size(5)
            .pages()
            .try_collect()
            .await
            .unwrap();
        assert!(pages.len() > 1);
        assert_eq!(
            pages.iter().map(|p| p.len()).sum::<usize>(),
            20,
            "max_items"
        );
        let requests = server.requests();
        server.clear_requests();
        // The parallel export too: its ranges and bounds probes send only the spec's
        // parameters (checked below with the sequential export's later pages).
        let parallel: Vec<_> = everything_parallel_request(&client)
            .pages()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            parallel.iter().map(|p| p.len()).sum::<usize>(),
            20,
            "max_items"
        );
        let parallel_requests = server.requests();
        assert!(
            parallel_requests
                .iter()
                .any(|r| r.query_values("filter").iter().any(|f| f.contains(",lt:"))),
            "parallel(3) sent no range filter"
        );
        server.shutdown().await;

        let first = &requests[0];
        let mut on_the_wire: BTreeSet<String> =
            first.query_pairs.iter().map(|(k, _)| k.clone()).collect();
        on_the_wire.extend(
            first
                .headers
                .iter()
                .filter(|(name, _)| params.keys().any(|p| p.eq_ignore_ascii_case(name)))
                .map(|(name, _)| {
                    params
                        .keys()
                        .find(|p| p.eq_ignore_ascii_case(name))
                        .map(|p| (*p).to_owned())
                        .unwrap_or_default()
                }),
        );
        let later: BTreeSet<String> = requests[1..]
            .iter()
            .chain(&parallel_requests)
            .flat_map(|r| r.query_pairs.iter().map(|(k, _)| k.clone()))
            .collect();

        for name in params.keys() {
            let excused = NOT_SENT_BY_BUILDER.iter().find(|(n, _)| n == name);
            assert!(
                on_the_wire.contains(*name) || excused.is_some(),
                "the spec's parameter `{name}` is not reachable through the facade: add a method \
             to TotalLevelsRequest (or ClientBuilder) that sends it, or list it in \
             NOT_SENT_BY_BUILDER with the reason"
            );
        }
        for (name, _) in NOT_SENT_BY_BUILDER {
            assert!(
                params.contains_key(*name),
                "NOT_SENT_BY_BUILDER names `{name}`, which the spec no longer has"
            );
        }
        // The cursor the exceptions speak of really travels in `next`.
        assert!(later.contains("cursor_start"), "{later:?}");
        // And nothing but the spec's parameters is sent.
        for name in on_the_wire.iter().chain(&later) {
            assert!(
                params.contains_key(name.as_str()),
                "the facade sends `{name}`, which the spec does not declare"
            );
        }
    })
    .await
}

#[test]
fn filterable_fields_and_kinds_match_the_spec() {
    let spec = Spec::load().unwrap();
    let params = spec.parameters().unwrap();
    let declared = params["filter"]["x-filterable-fields"].as_object().unwrap();
    let spec_names: BTreeSet<&str> = declared.keys().map(String::as_str).collect();
    let facade_names: BTreeSet<&str> = fields::ALL.iter().copied().collect();
    assert_eq!(
        spec_names, facade_names,
        "spec x-filterable-fields vs shipstream_inventory::fields::ALL"
    );
    for (name, decl) in declared {
        let catalogued = shipstream_inventory::grammar::fields::lookup(name)
            .unwrap_or_else(|| panic!("{name} is not in the grammar's catalogue"));
        let kind = decl["kind"].as_str().unwrap();
        let ok = match catalogued.kind {
            FieldKind::Integer => kind == "integer",
            FieldKind::String => kind == "string",
            FieldKind::Boolean => kind == "boolean",
            FieldKind::Timestamp => kind == "timestamp",
            FieldKind::Enum(known) => {
                kind == "enum"
                    && decl["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(Value::as_str)
                        .eq(known.iter().copied())
            }
            _ => false,
        };
        assert!(
            ok,
            "{name}: spec says {decl}, the catalogue says {catalogued:?}"
        );
        // The kind decides what validates: an ordering on an integer or a timestamp, a
        // prefix on text.
        let probe = match kind {
            "integer" => format!("{name}{{gt:1}}"),
            "timestamp" => format!("{name}{{gt:\"2025-01-01T00:00:00Z\"}}"),
            "string" => format!("{name}{{start:\"a\"}}"),
            "boolean" => format!("{name}:true"),
            _ => format!("{name}:{}", decl["values"][0].as_str().unwrap_or_default()),
        };
        Filter::parse_validated(&probe).unwrap_or_else(|e| panic!("{probe}: {e}"));
    }
}

#[test]
fn operators_match_the_spec() {
    let spec = Spec::load().unwrap();
    let params = spec.parameters().unwrap();
    let ops = &params["filter"]["x-filter-operators"];
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
    for name in documented.iter().chain(&assumed) {
        let op = Op::from_name(name).unwrap_or_else(|| {
            panic!("the spec's operator `{name}` has no support in the filter grammar")
        });
        assert_eq!(op.is_documented(), documented.contains(name), "{name}");
    }
    for op in Op::ALL {
        assert_eq!(
            op.in_spec(),
            documented.contains(op.as_str()) || assumed.contains(op.as_str()),
            "{op}"
        );
    }
}

#[test]
fn sortable_fields_match_the_spec() {
    let spec = Spec::load().unwrap();
    let params = spec.parameters().unwrap();
    let pattern = params["sort"]["schema"]["pattern"].as_str().unwrap();
    // The spec's keys, read with a regex engine, not with the codegen's parser: every
    // facade key and its descending form match, and nothing else of the filterable fields.
    let re = regress::Regex::new(pattern).unwrap();
    let facade: BTreeSet<&str> = SortField::ALL.iter().map(|f| f.as_str()).collect();
    for f in SortField::ALL {
        assert!(
            re.find(f.as_str()).is_some(),
            "{f} is not a key of the spec"
        );
        assert!(re.find(&format!("-{f}")).is_some());
        assert_eq!(Sort::desc(*f).to_string(), format!("-{f}"));
    }
    for name in fields::ALL {
        assert_eq!(
            re.find(name).is_some(),
            facade.contains(name),
            "`{name}` sortable in the spec vs the facade"
        );
    }
}

#[test]
fn field_selections_match_the_spec() {
    let spec = Spec::load().unwrap();
    let params = spec.parameters().unwrap();
    let strings = |list: &serde_json::Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let level_values = strings(&params["fields"]["schema"]["items"]["enum"]);
    // `fields:product`'s items are an open enum: the listed names, or any other string.
    let items = &params["fields:product"]["schema"]["items"];
    let target = items["$ref"]
        .as_str()
        .unwrap()
        .trim_start_matches('#')
        .to_owned();
    let any_of = spec.document().pointer(&target).unwrap()["anyOf"]
        .as_array()
        .unwrap();
    assert_eq!(any_of.len(), 2, "an enum and a free string");
    let product_values = strings(&any_of[0]["enum"]);
    for value in &level_values {
        let field: LevelField = value.parse().unwrap();
        assert_eq!(&field.to_string(), value);
    }
    for value in &product_values {
        let field: ProductField = value.parse().unwrap();
        assert!(!field.is_unknown(), "{value}");
        assert_eq!(&field.to_string(), value);
    }
    assert_eq!(shipstream_inventory::LEVEL_FIELD_NAMES, level_values);
    assert_eq!(shipstream_inventory::PRODUCT_FIELD_NAMES, product_values);
    // The level enum is closed: a value the spec lacks does not parse. The product list is
    // open: another name is kept as given and sent unchanged.
    assert!("price".parse::<LevelField>().is_err());
    let other: ProductField = "packaging_type".into();
    assert_eq!(other, ProductField::Unknown("packaging_type".to_owned()));
    assert_eq!(other.to_string(), "packaging_type");
}
