//! Pagination, tolerance, checkpoints and prefetch, against a real HTTP server on
//! 127.0.0.1 (wiremock).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};
use shipstream_inventory::{Checkpoint, Client, Error, RetryPolicy};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param, query_param_is_missing},
};

mod support;

const PATH: &str = shipstream_inventory::ENDPOINT_PATH;

fn level(id: i64) -> Value {
    json!({
        "type": "TotalLevel",
        "product": {"type": "Product", "id": id, "sku": format!("SKU-{id}")},
        "qty_on_hand": id * 10,
        "qty_available": id,
        "updated_at": "2025-08-28T10:30:00Z"
    })
}

fn page(ids: std::ops::Range<i64>, next: Option<String>) -> Value {
    json!({
        "collection": ids.clone().map(level).collect::<Vec<_>>(),
        "included": {"Product": ids.map(|id| json!({"type": "Product", "id": id, "sku": format!("SKU-{id}"), "name": format!("Product {id}")})).collect::<Vec<_>>()},
        "has_more": next.is_some(),
        "next": next,
        "meta": {"processing_time": 0.01}
    })
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.uri())
        .token("test-token-1234567890")
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

/// Serves `pages` pages of `per` levels, chained by `cursor_start`, with `next` written
/// by `style(server_uri, cursor)`.
async fn serve_pages(
    server: &MockServer,
    pages: i64,
    per: i64,
    style: impl Fn(&str, i64) -> String,
) {
    for p in 0..pages {
        let start = p * per + 1;
        let next = (p + 1 < pages).then(|| style(&server.uri(), start + per));
        let body = page(start..start + per, next);
        let m = Mock::given(method("GET")).and(path(PATH));
        let m = if p == 0 {
            m.and(query_param_is_missing("cursor_start"))
        } else {
            m.and(query_param("cursor_start", start.to_string()))
        };
        m.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }
}

fn relative(_: &str, cursor: i64) -> String {
    format!("{PATH}?sort=product_id&limit=3&cursor_start={cursor}")
}

fn absolute(uri: &str, cursor: i64) -> String {
    format!("{uri}{PATH}?sort=product_id&limit=3&cursor_start={cursor}")
}

async fn ids(
    stream: impl futures::Stream<Item = Result<shipstream_inventory::Item, Error>>,
) -> Vec<i64> {
    stream
        .map_ok(|i| i.product_id().unwrap())
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn relative_and_absolute_next_links_are_followed_to_the_end() {
    support::within(async {
        for style in [relative as fn(&str, i64) -> String, absolute] {
            let server = MockServer::start().await;
            serve_pages(&server, 4, 3, style).await;
            let got = ids(client(&server).total_levels().items()).await;
            assert_eq!(got, (1..=12).collect::<Vec<_>>());
            assert_eq!(server.received_requests().await.unwrap().len(), 4);
        }
    })
    .await
}

#[tokio::test]
async fn query_only_next_links_resolve_against_the_current_page() {
    support::within(async {
        let server = MockServer::start().await;
        serve_pages(&server, 2, 2, |_, c| format!("?cursor_start={c}")).await;
        let got = ids(client(&server).total_levels().items()).await;
        assert_eq!(got, vec![1, 2, 3, 4]);
    })
    .await
}

#[tokio::test]
async fn a_repeated_next_is_an_error_not_a_loop() {
    support::within(async {
        let server = MockServer::start().await;
        // Page 2 points back at page 2.
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(query_param_is_missing("cursor_start"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(page(1..3, Some(relative("", 3)))),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(query_param("cursor_start", "3"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(page(3..5, Some(relative("", 3)))),
            )
            .mount(&server)
            .await;
        let results: Vec<_> = client(&server).total_levels().pages().collect().await;
        assert_eq!(results.len(), 3, "two pages, then the error, then the end");
        assert!(results[0].is_ok() && results[1].is_ok());
        let err = results[2].as_ref().unwrap_err();
        assert!(err.is_pagination(), "{err}");
        assert!(err.to_string().contains("repeats a page"), "{err}");
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
        // The last page's checkpoint is not "done": resuming from it says why it cannot go on,
        // without a request (so a checkpointing caller never mistakes the export for complete).
        let checkpoint = results[1].as_ref().unwrap().checkpoint().clone();
        assert!(!checkpoint.is_done());
        assert!(
            checkpoint
                .stopped_because()
                .unwrap()
                .contains("repeats a page")
        );
        let json = serde_json::to_string(&checkpoint).unwrap();
        let resumed: Vec<_> = client(&server)
            .resume(serde_json::from_str(&json).unwrap())
            .pages()
            .collect()
            .await;
        assert_eq!(resumed.len(), 1);
        let err = resumed[0].as_ref().unwrap_err();
        assert!(
            err.is_pagination() && err.to_string().contains("cannot be resumed"),
            "{err}"
        );
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    })
    .await
}

#[tokio::test]
async fn a_next_on_another_origin_is_never_requested() {
    support::within(async {
        let server = MockServer::start().await;
        let elsewhere = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page(9..10, None)))
            .mount(&elsewhere)
            .await;
        let off_origin = format!("{}{PATH}?cursor_start=3", elsewhere.uri());
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(page(1..3, Some(off_origin))))
            .mount(&server)
            .await;
        let results: Vec<_> = client(&server).total_levels().items().collect().await;
        assert_eq!(results.len(), 3);
        let err = results[2].as_ref().unwrap_err();
        assert!(err.is_pagination());
        assert!(err.to_string().contains("another origin"), "{err}");
        assert!(
            elsewhere.received_requests().await.unwrap().is_empty(),
            "a request reached the other origin"
        );
        // Same host, other port, and other scheme count as other origins too.
        for other in ["https://127.0.0.1/x", "http://localhost/x"] {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(page(1..2, Some(other.into()))),
                )
                .mount(&server)
                .await;
            let results: Vec<_> = client(&server).total_levels().pages().collect().await;
            assert!(results[1].as_ref().unwrap_err().is_pagination(), "{other}");
        }
    })
    .await
}

#[tokio::test]
async fn has_more_without_next_is_a_clear_error_and_no_next_ends_cleanly() {
    support::within(async {
        for next in [json!(null), json!(""), Value::Null] {
            let server = MockServer::start().await;
            let mut body = page(1..3, None);
            body["has_more"] = json!(true);
            body["next"] = next.clone();
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(200).set_body_json(body))
                .mount(&server)
                .await;
            let results: Vec<_> = client(&server).total_levels().pages().collect().await;
            assert_eq!(results.len(), 2);
            let err = results[1].as_ref().unwrap_err();
            assert!(
                err.is_pagination() && err.to_string().contains("has_more"),
                "{err}"
            );
        }
        // has_more: false ends the stream whatever `next` says; a missing `next` too.
        let server = MockServer::start().await;
        let mut body = page(1..3, None);
        body.as_object_mut().unwrap().remove("next");
        body["previous"] = json!("");
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
        assert_eq!(
            ids(client(&server).total_levels().items()).await,
            vec![1, 2]
        );
    })
    .await
}

#[tokio::test]
async fn bad_records_and_unknown_values_never_lose_a_page() {
    support::within(async {
        let server = MockServer::start().await;
        let mut first = page(1..4, Some(relative("", 4)));
        first["collection"][1]["qty_on_hand"] = json!("lots");
        first["collection"][2]["product"]["type"] = json!("Kit");
        first["collection"][2]["brand_new"] = json!({"x": 1});
        first["included"]["Product"][0]["goods_type"] = json!("HAZMAT_NEW");
        Mock::given(method("GET"))
            .and(query_param_is_missing("cursor_start"))
            .respond_with(ResponseTemplate::new(200).set_body_json(first))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(query_param("cursor_start", "4"))
            .respond_with(ResponseTemplate::new(200).set_body_json({
                let mut second = page(4..6, None);
                // The one closed enum of a page: the spec allows only `TotalLevel` here.
                second["collection"][0]["type"] = json!("TotalLevelV2");
                second
            }))
            .mount(&server)
            .await;
        let results: Vec<_> = client(&server)
            .total_levels()
            .product_fields([shipstream_inventory::ProductField::All])
            .items()
            .collect()
            .await;
        assert_eq!(results.len(), 5);
        let first = results[0].as_ref().unwrap();
        assert_eq!(
            first
                .product
                .as_ref()
                .unwrap()
                .goods_type
                .as_ref()
                .unwrap()
                .as_str(),
            "HAZMAT_NEW"
        );
        let bad = results[1].as_ref().unwrap_err();
        assert!(bad.is_record());
        let record = bad.record_error().unwrap();
        assert_eq!(record.location, "collection[1]");
        assert!(record.raw.contains("\"lots\""));
        assert!(record.reason.contains("invalid type"));
        let third = results[2].as_ref().unwrap();
        assert_eq!(third.level.product.as_ref().unwrap().type_.as_str(), "Kit");
        let closed = results[3].as_ref().unwrap_err();
        assert!(closed.is_record(), "{closed}");
        assert!(
            closed.record_error().unwrap().raw.contains("TotalLevelV2"),
            "{closed}"
        );
        assert_eq!(results[4].as_ref().unwrap().product_id(), Some(5));
    })
    .await
}

#[tokio::test]
async fn products_come_with_their_levels() {
    support::within(async {
        let server = MockServer::start().await;
        serve_pages(&server, 1, 3, relative).await;
        let page = client(&server).total_levels().send().await.unwrap();
        let level = page.levels().nth(1).unwrap();
        assert_eq!(
            page.product_of(level).unwrap().name.as_deref(),
            Some("Product 2")
        );
        assert!(matches!(
            page.included().get("Product", 2),
            Some(shipstream_inventory::IncludedRef::Product(_))
        ));
    })
    .await
}

#[tokio::test]
async fn stopping_after_page_k_and_resuming_yields_exactly_the_uninterrupted_items() {
    support::within(async {
        let server = MockServer::start().await;
        serve_pages(&server, 5, 3, relative).await;
        let c = client(&server);
        let all = ids(c.total_levels().items()).await;
        assert_eq!(all.len(), 15);

        for k in 0..=5usize {
            let mut got = Vec::new();
            let mut checkpoint: Checkpoint = c.total_levels().checkpoint().unwrap();
            let mut pages = std::pin::pin!(c.total_levels().pages().take(k));
            while let Some(page) = pages.next().await {
                let page = page.unwrap();
                got.extend(page.levels().map(|l| l.product.as_ref().unwrap().id));
                checkpoint = page.checkpoint().clone();
            }
            // The checkpoint survives serialisation, as a CLI or a job queue would store it.
            let saved = serde_json::to_string(&checkpoint).unwrap();
            let restored: Checkpoint = serde_json::from_str(&saved).unwrap();
            assert_eq!(restored.is_done(), k == 5);
            got.extend(ids(c.resume(restored).items()).await);
            assert_eq!(got, all, "stopped after page {k}");
        }
    })
    .await
}

#[tokio::test]
async fn prefetch_changes_nothing_but_timing() {
    support::within(async {
        let server = MockServer::start().await;
        serve_pages(&server, 6, 4, absolute).await;
        let c = client(&server);
        let plain = ids(c.total_levels().items()).await;
        let prefetched = ids(c.total_levels().prefetch(true).items()).await;
        assert_eq!(plain, prefetched);
        assert_eq!(plain.len(), 24);
    })
    .await
}

#[tokio::test]
async fn max_items_stops_early_and_shrinks_the_first_page() {
    support::within(async {
        let server = MockServer::start().await;
        serve_pages(&server, 5, 3, relative).await;
        let got = ids(client(&server).total_levels().max_items(5).items()).await;
        assert_eq!(got, vec![1, 2, 3, 4, 5]);
        assert_eq!(server.received_requests().await.unwrap().len(), 2);

        let server = MockServer::start().await;
        serve_pages(&server, 1, 2, relative).await;
        let _ = client(&server).total_levels().max_items(2).send().await;
        let req = &server.received_requests().await.unwrap()[0];
        assert_eq!(req.url.query(), Some("limit=2"));
    })
    .await
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    support::within(async {
        let server = MockServer::start().await;
        let c = client(&server);
        for (request, needle) in [
            (c.total_levels().page_size(0), "page size 0"),
            (c.total_levels().page_size(1001), "1 to 1000"),
            (
                c.total_levels().filter_raw("qty_available{foo:1}"),
                "unknown operator",
            ),
            (c.total_levels().filter_raw("colour:red"), "colour"),
            (
                c.total_levels()
                    .filter(shipstream_inventory::Filter::equals("qty_on_hand", "many")),
                "qty_on_hand",
            ),
        ] {
            let err = request.send().await.unwrap_err();
            assert!(err.is_invalid_request(), "{err}");
            assert!(err.to_string().contains(needle), "{err}");
        }
        let first: Vec<_> = c.total_levels().page_size(5000).items().collect().await;
        assert_eq!(first.len(), 1);
        assert!(first[0].as_ref().unwrap_err().is_invalid_request());
        assert!(server.received_requests().await.unwrap().is_empty());
    })
    .await
}

#[tokio::test]
async fn the_query_reaches_the_wire_as_the_spec_describes() {
    support::within(async {
        use shipstream_inventory::{LevelField, ProductField, Sort, SortField, fields};
        let server = MockServer::start().await;
        serve_pages(&server, 1, 1, relative).await;
        let since = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        client(&server)
            .total_levels()
            .filter(fields::QTY_AVAILABLE.lt(10))
            .filter_raw("sku:ABC123")
            .updated_since(since)
            .sort(Sort::asc(SortField::ProductId))
            .fields([LevelField::QtyOnHand, LevelField::UpdatedAt])
            .product_fields([ProductField::Sku, ProductField::Name])
            .page_size(250)
            .count(true)
            .send()
            .await
            .unwrap();
        let req = &server.received_requests().await.unwrap()[0];
        // Built by the generated operation: its parameter order, `filter` repeated and
        // percent-encoded as a whole, `fields` and `fields:product` comma-joined.
        assert_eq!(
            req.url.query().unwrap(),
            "count=1&fields=qty_on_hand,updated_at&fields:product=sku,name\
         &filter=qty_available%7Blt%3A10%7D&filter=sku%3AABC123\
         &filter=updated_at%7Bgt%3A%222025-01-01T00%3A00%3A00Z%22%7D&limit=250&sort=product_id"
        );
        let pairs: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
        assert_eq!(pairs[5].1, r#"updated_at{gt:"2025-01-01T00:00:00Z"}"#);
        assert_eq!(
            req.headers.get("authorization").unwrap(),
            "Bearer test-token-1234567890"
        );
    })
    .await
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_keeps_it() {
    support::within(async {
        let server = MockServer::start().await;
        let prefixed = format!("/proxy{PATH}");
        Mock::given(method("GET"))
            .and(path(prefixed.as_str()))
            .and(query_param_is_missing("cursor_start"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(page(1..3, Some(format!("{prefixed}?cursor_start=3")))),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(prefixed.as_str()))
            .and(query_param("cursor_start", "3"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page(3..5, None)))
            .mount(&server)
            .await;
        let client = Client::builder()
            .base_url(format!("{}/proxy/api/global", server.uri()))
            .token("t")
            .build()
            .unwrap();
        assert_eq!(ids(client.total_levels().items()).await, vec![1, 2, 3, 4]);
    })
    .await
}
