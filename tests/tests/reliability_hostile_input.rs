//! Hostile input over HTTP, both ways: the mock answers any query string with a 200 or a
//! 400 whose body matches the spec (never a 5xx, never a dead server), and a filter
//! string given to the facade is either refused before anything is sent or accepted by
//! the server exactly as written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt as _;
use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};
use shipstream_inventory::{Client, RetryPolicy, grammar::Filter};
use shipstream_inventory_contract_tests::spec;
use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};

const PATH: &str = shipstream_inventory::ENDPOINT_PATH;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Pieces of the filter grammar, of query strings and of trouble.
const TOKENS: &[&str] = &[
    "qty_available",
    "sku",
    "product_name",
    "updated_at",
    "is_enabled",
    "product_id",
    "product_type",
    "{",
    "}",
    ":",
    ",",
    "lt",
    "gt",
    "eq",
    "in",
    "start",
    "like",
    "not",
    "\"",
    "'",
    "\\",
    "[",
    "]",
    "1",
    "-1",
    "1e9",
    "99999999999999999999",
    "0x1",
    "true",
    "null",
    " ",
    "\"2025-08-28T10:30:00Z\"",
    "&",
    "=",
    "+",
    "%",
    "%00",
    "%zz",
    "#",
    "?",
    "/",
    ";",
    "\u{0}",
    "\n",
    "é",
    "😀",
    "\u{202e}",
];

fn soup() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(TOKENS), 0..16).prop_map(|t| t.concat()),
        1 => any::<String>(),
    ]
}

/// A parameter name the endpoint knows (or not) and a hostile value for it.
fn param() -> impl Strategy<Value = (String, String)> {
    let names = prop::sample::select(vec![
        "filter",
        "sort",
        "fields",
        "fields:product",
        "limit",
        "count",
        "cursor_start",
        "cursor_end",
        "version",
        "unknown",
    ]);
    (names.prop_map(str::to_owned), soup())
}

#[test]
fn the_mock_answers_any_query_with_200_or_a_described_400() {
    let rt = runtime();
    let server = rt
        .block_on(MockServer::start(
            MockConfig::default()
                .dataset(Dataset::generate(50, 3))
                .record_requests(false),
        ))
        .unwrap();
    let http = reqwest::Client::new();
    let mut runner = TestRunner::new(Config {
        cases: 384,
        failure_persistence: None,
        ..Config::default()
    });
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    runner
        .run(&prop::collection::vec(param(), 1..4), |params| {
            let url = reqwest::Url::parse_with_params(&server.levels_url(), &params).unwrap();
            let (status, body) = rt.block_on(async {
                let resp = http
                    .get(url.clone())
                    .bearer_auth(server.token())
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                (status, resp.bytes().await.unwrap())
            });
            *statuses.borrow_mut().entry(status).or_default() += 1;
            prop_assert!(status == 200 || status == 400, "{} for {}", status, url);
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            prop_assert!(
                spec::validate_response(status, &body).is_ok(),
                "{} body off spec for {}: {}",
                status,
                url,
                body
            );
            Ok(())
        })
        .unwrap();
    let statuses = statuses.into_inner();
    assert!(
        statuses.contains_key(&200) && statuses.contains_key(&400),
        "{statuses:?}"
    );
    // Raw bytes in the query, not even valid percent-encoding or UTF-8.
    rt.block_on(async {
        for raw in [
            "filter=%ff%fe",
            "filter=%",
            "filter=%%%",
            "limit=%00",
            "fields%3Aproduct=%C3%28",
            "sort=%E2%82",
            "&&&==&",
            "filter[]=1&filter[x]=2",
        ] {
            let resp = http
                .get(format!("{}?{raw}", server.levels_url()))
                .bearer_auth(server.token())
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            assert!(status == 200 || status == 400, "{status} for {raw}");
        }
    });
    // Still serving.
    let ok = rt
        .block_on(
            http.get(server.levels_url())
                .bearer_auth(server.token())
                .send(),
        )
        .unwrap();
    assert_eq!(ok.status(), 200);
}

/// Filters in the API's syntax, mostly well-formed (every field of the catalogue, every
/// operator, hostile operands), some then damaged by one token.
fn near_filter() -> impl Strategy<Value = String> {
    let field = prop::sample::select(
        shipstream_inventory::grammar::fields::ALL
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>(),
    );
    let op = prop::sample::select(vec![
        "eq", "neq", "gt", "gteq", "lt", "lteq", "null", "start", "end", "in", "nin",
    ]);
    let operand = prop_oneof![
        Just("10".to_owned()),
        Just("-3".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("1.5".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("\"2025-08-28T10:30:00Z\"".to_owned()),
        Just("[1,2,3]".to_owned()),
        Just("[\"normal\",\"packaging\"]".to_owned()),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        "[a-zA-Z0-9 &=+%#?/,:;'-]{0,12}".prop_map(|s| format!("'{}'", s.replace('\'', ""))),
    ];
    let basic =
        (field.clone(), "[a-zA-Z0-9 &=+%#?/.:-]{0,16}").prop_map(|(f, v)| format!("{f}:{v}"));
    let object = (field, prop::collection::vec((op, operand), 1..3)).prop_map(|(f, conds)| {
        let inner: Vec<String> = conds.iter().map(|(o, v)| format!("{o}:{v}")).collect();
        format!("{f}{{{}}}", inner.join(","))
    });
    let well_formed = prop_oneof![basic, object];
    prop_oneof![
        3 => well_formed.clone(),
        1 => (well_formed, any::<prop::sample::Index>(), prop::sample::select(TOKENS)).prop_map(
            |(f, at, token)| {
                let chars: Vec<char> = f.chars().collect();
                let at = at.index(chars.len() + 1);
                let mut out: String = chars[..at].iter().collect();
                out.push_str(token);
                out.extend(&chars[at..]);
                out
            }
        ),
        1 => soup(),
    ]
}

#[test]
fn a_filter_is_refused_before_sending_or_accepted_as_written() {
    let rt = runtime();
    let server = rt
        .block_on(MockServer::start(
            MockConfig::default().dataset(Dataset::generate(30, 3)),
        ))
        .unwrap();
    let client = Client::builder()
        .base_url(server.base_url())
        .token(server.token())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 384,
        failure_persistence: None,
        ..Config::default()
    });
    let accepted = std::cell::Cell::new(0u32);
    runner
        .run(&near_filter(), |text| {
            server.clear_requests();
            let first = rt.block_on(async {
                let mut pages =
                    std::pin::pin!(client.total_levels().filter_raw(&text).page_size(5).pages());
                pages.next().await
            });
            let requests = server.requests();
            match Filter::parse_validated(&text) {
                Err(_) => {
                    let err = first.unwrap().unwrap_err();
                    prop_assert!(err.is_invalid_request(), "{}", err);
                    prop_assert!(requests.is_empty(), "a refused filter was sent: {:?}", text);
                }
                Ok(filter) => {
                    accepted.set(accepted.get() + 1);
                    let page = first.unwrap();
                    prop_assert!(
                        page.is_ok(),
                        "{:?} was refused by the server: {:?}",
                        text,
                        page.err()
                    );
                    prop_assert_eq!(requests.len(), 1);
                    // The server received the filter the facade parsed.
                    let sent = requests[0].query_values("filter");
                    prop_assert_eq!(sent.len(), 1);
                    prop_assert_eq!(Filter::parse(sent[0]).unwrap(), filter);
                    prop_assert_eq!(requests[0].path.as_str(), PATH);
                }
            }
            Ok(())
        })
        .unwrap();
    assert!(
        accepted.get() > 20,
        "only {} filters were valid",
        accepted.get()
    );
}
