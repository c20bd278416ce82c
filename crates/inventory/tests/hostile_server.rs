//! A hostile or broken server, over real HTTP (wiremock on 127.0.0.1): arbitrary `next`
//! links never send a request to another origin and never loop; redirect chains never
//! carry the token off the origin; mutated pages go through the streaming path exactly
//! as `Page::from_json` decodes them, without a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashSet,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use futures::StreamExt as _;
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde_json::{Value, json};
use shipstream_inventory::{Client, Page, RetryPolicy};
use wiremock::{
    Mock, MockServer, Request, Respond, ResponseTemplate,
    matchers::{self, method, path},
};

mod support;

const PATH: &str = "/api/global/v1/inventory/levels/total";
const TOKEN: &str = "hostile-server-test-token-0123456789";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn client(server: &MockServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.uri())
        .token(TOKEN)
        .retry_policy(policy)
        .build()
        .unwrap()
}

fn level(id: i64) -> Value {
    json!({
        "type": "TotalLevel",
        "product": {"type": "Product", "id": id, "sku": format!("S{id}")},
        "qty_on_hand": 10, "qty_available": 9,
        "updated_at": "2025-08-28T10:30:00Z"
    })
}

// ---- next links ----

/// A `next` link a server might send, written against the two servers' addresses.
#[derive(Clone, Debug)]
enum Next {
    /// Anything at all.
    Junk(String),
    /// A host-relative path on the endpoint with this cursor (small, so repeats happen).
    Path(u8),
    /// The same, absolute on the client's origin.
    Absolute(u8),
    /// `?cursor_start=N`, resolved against the current page.
    QueryOnly(u8),
    /// A path relative to the current page (`total?...`, `../x`, `a/`).
    Relative(String),
    /// An absolute URL on the other server.
    OtherOrigin(String),
    /// `//127.0.0.1:OTHER/...`: scheme-relative, other origin.
    SchemeRelative,
    /// The client's port, but as `localhost` (another origin by name).
    OtherHostName,
    /// The client's host and port over https (another origin by scheme).
    OtherScheme,
    /// A user name in front of the other server.
    UserInfo,
    /// Not a URL.
    Malformed(&'static str),
    /// Empty or blank: "no next".
    Blank(&'static str),
}

fn next_strategy() -> impl Strategy<Value = Next> {
    prop_oneof![
        2 => ".{0,40}".prop_map(Next::Junk),
        3 => (0u8..6).prop_map(Next::Path),
        2 => (0u8..6).prop_map(Next::Absolute),
        2 => (0u8..6).prop_map(Next::QueryOnly),
        1 => prop::sample::select(vec!["total?cursor_start=1", "../x", "a/", "./", "#frag", "."])
            .prop_map(|s| Next::Relative(s.to_owned())),
        2 => "(/[a-z]{0,8}){0,3}(\\?[a-z=0-9]{0,10})?".prop_map(Next::OtherOrigin),
        1 => Just(Next::SchemeRelative),
        1 => Just(Next::OtherHostName),
        1 => Just(Next::OtherScheme),
        1 => Just(Next::UserInfo),
        1 => prop::sample::select(vec![
            "http://[::1",
            "http://127.0.0.1:99999/",
            "http:// spaced/",
            "javascript:alert(1)",
            "data:text/plain,hi",
            "file:///etc/passwd",
            "http:",
            "\u{0}",
        ])
        .prop_map(Next::Malformed),
        1 => prop::sample::select(vec!["", " ", "\t\n"]).prop_map(Next::Blank),
    ]
}

impl Next {
    fn render(&self, main: &str, other: &str) -> String {
        let host_port = main.trim_start_matches("http://");
        let other_hp = other.trim_start_matches("http://");
        match self {
            Next::Junk(s) => s.clone(),
            Next::Path(c) => format!("{PATH}?cursor_start={c}"),
            Next::Absolute(c) => format!("{main}{PATH}?cursor_start={c}"),
            Next::QueryOnly(c) => format!("?cursor_start={c}"),
            Next::Relative(s) => s.clone(),
            Next::OtherOrigin(p) => format!("{other}{p}"),
            Next::SchemeRelative => format!("//{other_hp}{PATH}"),
            Next::OtherHostName => {
                let port = host_port.rsplit(':').next().unwrap();
                format!("http://localhost:{port}{PATH}?cursor_start=1")
            }
            Next::OtherScheme => format!("https://{host_port}{PATH}"),
            Next::UserInfo => format!("http://user@{other_hp}{PATH}"),
            Next::Malformed(s) | Next::Blank(s) => (*s).to_owned(),
        }
    }
}

/// Answers the n-th request with page n: one level and `next = nexts[n]`, `has_more`
/// while links remain.
struct Sequence {
    nexts: Vec<String>,
    served: AtomicUsize,
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.served.fetch_add(1, Ordering::SeqCst);
        let next = self.nexts.get(n);
        ResponseTemplate::new(200).set_body_json(json!({
            "collection": [level(n as i64 + 1)],
            "has_more": next.is_some(),
            "next": next,
        }))
    }
}

#[test]
fn arbitrary_next_links_never_leave_the_origin_and_never_loop() {
    let rt = runtime();
    let (main, other) = rt.block_on(support::within(async {
        (MockServer::start().await, MockServer::start().await)
    }));
    let client = client(&main, RetryPolicy::none());
    let main_host = main.address().to_string();
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let outcomes = std::cell::RefCell::new(std::collections::BTreeMap::<String, usize>::new());
    runner
        .run(&prop::collection::vec(next_strategy(), 1..8), |nexts| {
            let rendered: Vec<String> = nexts
                .iter()
                .map(|n| n.render(&main.uri(), &other.uri()))
                .collect();
            let result =
                rt.block_on(support::within(async {
                    main.reset().await;
                    other.reset().await;
                    Mock::given(matchers::any())
                        .respond_with(ResponseTemplate::new(200).set_body_json(
                            json!({"collection": [], "has_more": false, "next": null}),
                        ))
                        .mount(&other)
                        .await;
                    Mock::given(matchers::any())
                        .respond_with(Sequence {
                            nexts: rendered.clone(),
                            served: AtomicUsize::new(0),
                        })
                        .mount(&main)
                        .await;
                    let pages: Vec<_> = client.total_levels().pages().collect().await;
                    let got_main = main.received_requests().await.unwrap();
                    let got_other = other.received_requests().await.unwrap();
                    (pages, got_main, got_other)
                }));
            let (pages, got_main, got_other) = result;
            prop_assert!(
                got_other.is_empty(),
                "the other origin was contacted: {:?} for {:?}",
                got_other
                    .iter()
                    .map(|r| r.url.to_string())
                    .collect::<Vec<_>>(),
                rendered
            );
            let mut seen = HashSet::new();
            for r in &got_main {
                let host = r.headers.get("host").and_then(|h| h.to_str().ok());
                prop_assert_eq!(host, Some(main_host.as_str()), "Host of {}", r.url);
                prop_assert!(
                    seen.insert(r.url.to_string()),
                    "the same page was requested twice (a loop): {} in {:?}",
                    r.url,
                    rendered
                );
            }
            prop_assert!(got_main.len() <= rendered.len() + 1);
            prop_assert_eq!(
                pages.iter().filter(|p| p.is_ok()).count(),
                got_main.len(),
                "every fetched page was delivered"
            );
            // At most one error, the last item, and it is a pagination error.
            for (i, p) in pages.iter().enumerate() {
                if let Err(e) = p {
                    prop_assert_eq!(i, pages.len() - 1, "an error ends the stream");
                    prop_assert!(e.is_pagination(), "{}", e);
                    prop_assert!(!e.to_string().contains(TOKEN));
                    let text = e.to_string();
                    let kind = [
                        "another origin",
                        "repeats a page",
                        "not a valid URI",
                        "has_more",
                    ]
                    .into_iter()
                    .find(|k| text.contains(k))
                    .map_or_else(|| format!("other: {text}"), str::to_owned);
                    *outcomes.borrow_mut().entry(kind).or_default() += 1;
                }
            }
            if pages.last().is_some_and(Result::is_ok) {
                *outcomes.borrow_mut().entry("completed".into()).or_default() += 1;
            }
            Ok::<(), TestCaseError>(())
        })
        .unwrap();
    // The generator reached the interesting outcomes.
    let text = format!("{:?}", outcomes.borrow());
    for want in [
        "completed",
        "another origin",
        "repeats a page",
        "not a valid URI",
    ] {
        assert!(text.contains(want), "no case ended with {want:?}: {text}");
    }
}

// ---- redirects ----

#[test]
fn a_redirect_chain_that_leaves_the_origin_carries_nothing_off_it() {
    let rt = runtime();
    rt.block_on(support::within(async {
        let main = MockServer::start().await;
        let other = MockServer::start().await;
        Mock::given(matchers::any())
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"collection": [level(99)], "has_more": false})),
            )
            .mount(&other)
            .await;
        // endpoint -> /hop1 (same origin) -> /hop2 (same origin, absolute) -> other origin.
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(ResponseTemplate::new(302).insert_header("location", "/hop1"))
            .mount(&main)
            .await;
        Mock::given(method("GET"))
            .and(path("/hop1"))
            .respond_with(
                ResponseTemplate::new(307)
                    .insert_header("location", format!("{}/hop2", main.uri()).as_str()),
            )
            .mount(&main)
            .await;
        Mock::given(method("GET"))
            .and(path("/hop2"))
            .respond_with(
                ResponseTemplate::new(301)
                    .insert_header("location", format!("{}/steal?x=1", other.uri()).as_str()),
            )
            .mount(&main)
            .await;
        let err = client(&main, RetryPolicy::none())
            .total_levels()
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(301), "{err}");
        assert!(err.to_string().contains("redirect"), "{err}");
        assert!(!format!("{err} {err:?}").contains(TOKEN));
        let hops: Vec<String> = main
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| r.url.path().to_owned())
            .collect();
        assert_eq!(
            hops,
            [PATH, "/hop1", "/hop2"],
            "same-origin hops are followed"
        );
        for r in main.received_requests().await.unwrap() {
            assert!(
                r.headers.get("authorization").is_some(),
                "same origin keeps the token"
            );
        }
        assert!(
            other.received_requests().await.unwrap().is_empty(),
            "the other origin was contacted"
        );

        // A redirect loop on the origin ends (after a bounded number of hops), it does not
        // spin.
        let looping = MockServer::start().await;
        Mock::given(matchers::any())
            .respond_with(ResponseTemplate::new(302).insert_header("location", PATH))
            .mount(&looping)
            .await;
        let err = client(&looping, RetryPolicy::none())
            .total_levels()
            .send()
            .await
            .unwrap_err();
        assert!(!err.to_string().is_empty());
        let n = looping.received_requests().await.unwrap().len();
        assert!((2..=10).contains(&n), "{n} requests");
    }));
}

// ---- mutated pages through the streaming path ----

fn hostile() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(1e308)),
        Just(json!(-0.5)),
        ".{0,20}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        (1usize..40).prop_map(|depth| {
            let mut v = json!(1);
            for _ in 0..depth {
                v = json!({"a": [v]});
            }
            v
        }),
    ]
}

fn base_page(n: i64) -> Value {
    json!({
        "collection": (1..=n).map(level).collect::<Vec<_>>(),
        "included": {"Product": (1..=n).map(|id| json!({
            "type": "Product", "id": id, "sku": format!("S{id}"), "name": format!("Name {id}"),
            "barcodes": ["1"], "weight": {"value": 1.5, "unit": "lb"},
            "custom_fields": [{"code": "c", "value": id}]
        })).collect::<Vec<_>>()},
        "has_more": false,
        "next": null,
        "meta": {"processing_time": 0.1, "cursor_start": null, "cursor_end": null}
    })
}

/// How to damage a page.
#[derive(Clone, Debug)]
enum Damage {
    Record(usize, &'static str, Value),
    Product(usize, &'static str, Value),
    Meta(Value),
    Cut(usize),
    Byte(usize, u8),
}

fn damage() -> impl Strategy<Value = Damage> {
    let level_keys =
        prop::sample::select(vec!["type", "product", "qty_on_hand", "updated_at", "x"]);
    let product_keys = prop::sample::select(vec![
        "id",
        "sku",
        "barcodes",
        "weight",
        "custom_fields",
        "type",
    ]);
    prop_oneof![
        (0usize..4, level_keys, hostile()).prop_map(|(i, k, v)| Damage::Record(i, k, v)),
        (0usize..4, product_keys, hostile()).prop_map(|(i, k, v)| Damage::Product(i, k, v)),
        hostile().prop_map(Damage::Meta),
        (0usize..3000).prop_map(Damage::Cut),
        (
            0usize..3000,
            prop::sample::select(vec![0x80u8, 0xff, b'"', b'\\', b'{', 0])
        )
            .prop_map(|(i, b)| Damage::Byte(i, b)),
    ]
}

fn apply(d: &Damage) -> Vec<u8> {
    let mut page = base_page(4);
    match d {
        Damage::Record(i, k, v) => page["collection"][*i][*k] = v.clone(),
        Damage::Product(i, k, v) => page["included"]["Product"][*i][*k] = v.clone(),
        Damage::Meta(v) => page["meta"] = v.clone(),
        Damage::Cut(_) | Damage::Byte(..) => {}
    }
    let mut bytes = serde_json::to_vec(&page).unwrap();
    match d {
        Damage::Cut(at) => bytes.truncate(*at % bytes.len()),
        Damage::Byte(at, b) => {
            let at = *at % bytes.len();
            bytes[at] = *b;
        }
        _ => {}
    }
    bytes
}

#[test]
fn mutated_pages_stream_exactly_as_they_decode() {
    let rt = runtime();
    let server = rt.block_on(support::within(MockServer::start()));
    // Two quick attempts: a body that does not parse is retried once, then reported.
    let client = client(
        &server,
        RetryPolicy::default()
            .max_attempts(2)
            .initial_delay(Duration::from_millis(1)),
    );
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&damage(), |d| {
            let body = apply(&d);
            let decoded = Page::from_json(&body);
            let items = rt.block_on(support::within(async {
                server.reset().await;
                Mock::given(matchers::any())
                    .respond_with(
                        ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json"),
                    )
                    .mount(&server)
                    .await;
                client.total_levels().items().collect::<Vec<_>>().await
            }));
            match decoded {
                Ok(page) => {
                    // Same levels, same record errors, same order.
                    let want: Vec<Result<Option<i64>, String>> = page
                        .items()
                        .map(|r| r.map(|i| i.product_id()).map_err(|e| e.location))
                        .collect();
                    let got: Vec<Result<Option<i64>, String>> = items
                        .iter()
                        .map(|r| match r {
                            Ok(i) => Ok(i.product_id()),
                            Err(e) => Err(e
                                .record_error()
                                .map(|r| r.location.clone())
                                .unwrap_or_else(|| format!("not a record error: {e}"))),
                        })
                        .collect();
                    prop_assert_eq!(&got, &want, "{:?}", d);
                    // The good records of the page survived the damage.
                    if let Damage::Record(i, ..) = d {
                        let ok = page.levels().count();
                        prop_assert!(ok >= 3, "only {} levels survived {:?}", ok, d);
                        for (j, r) in page.records().iter().enumerate() {
                            prop_assert!(j == i || r.is_ok(), "record {} lost", j);
                        }
                    }
                    if let Damage::Product(..) | Damage::Meta(_) = d {
                        prop_assert_eq!(page.levels().count(), 4);
                    }
                }
                Err(e) => {
                    prop_assert!(e.is_decode(), "{}", e);
                    prop_assert_eq!(items.len(), 1, "one error ends the stream");
                    let err = items[0].as_ref().unwrap_err();
                    prop_assert!(err.is_decode(), "{}", err);
                }
            }
            Ok(())
        })
        .unwrap();
}
