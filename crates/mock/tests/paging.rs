//! Filters, sorting and paging over real HTTP, checked against expectations computed
//! independently from the dataset's records.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;
use shipstream_inventory_mock::{Dataset, MockConfig, NextStyle};

type Keep = Box<dyn Fn(&Value) -> bool>;

fn p<'a>(r: &'a Value, k: &str) -> &'a Value {
    &r["product"][k]
}

/// Walks every page of `params` and compares with the expected ids.
async fn assert_walk(
    server: &shipstream_inventory_mock::MockServer,
    params: &[(&str, &str)],
    want: &[u64],
) -> Vec<Resp> {
    let (levels, pages) = walk(server, &url(params)).await;
    let got = ids(&levels);
    assert_eq!(got.len(), want.len(), "{params:?}");
    assert_eq!(got, want, "{params:?}");
    let mut unique = got.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "each record exactly once");
    pages
}

#[tokio::test]
async fn filters_each_form_and_field() {
    within(async {
        let server = start_with(400, 21).await;
        let ds = server.dataset().clone();
        let recs = records(&ds);
        let some = &recs[17];
        let sku = p(some, "sku").as_str().unwrap().to_owned();
        let upd = "2025-06-01T00:00:00Z";

        let cases: Vec<(Vec<String>, Keep)> = vec![
            (vec![format!("sku:{sku}")], {
                let sku = sku.clone();
                Box::new(move |r| enabled(r) && p(r, "sku") == sku.as_str())
            }),
            (vec![format!("sku{{eq:\"{sku}\"}}")], {
                let sku = sku.clone();
                Box::new(move |r| enabled(r) && p(r, "sku") == sku.as_str())
            }),
            (
                vec!["qty_available{lt:10}".into()],
                Box::new(|r| enabled(r) && r["qty_available"].as_i64().unwrap() < 10),
            ),
            (
                vec!["qty_on_hand{gt:15,lt:500}".into()],
                Box::new(|r| {
                    let q = r["qty_on_hand"].as_i64().unwrap();
                    enabled(r) && q > 15 && q < 500
                }),
            ),
            (
                vec!["product_id[{lt:15},{gt:350}]".into()],
                Box::new(|r| {
                    let id = p(r, "id").as_u64().unwrap();
                    enabled(r) && !(15..=350).contains(&id)
                }),
            ),
            (
                vec!["product_name{start:\"Box of\"}".into()],
                Box::new(|r| enabled(r) && p(r, "name").as_str().unwrap().starts_with("Box of")),
            ),
            (
                vec!["product_name[{start:\"Box of\"},{end:\"CASE\"}]".into()],
                Box::new(|r| {
                    let n = p(r, "name").as_str().unwrap();
                    enabled(r) && (n.starts_with("Box of") || n.ends_with("CASE"))
                }),
            ),
            (vec!["is_enabled:false".into()], Box::new(|r| !enabled(r))),
            (
                vec!["is_enabled{in:[true,false]}".into()],
                Box::new(|_| true),
            ),
            (
                vec!["is_visible:false".into()],
                Box::new(|r| enabled(r) && p(r, "is_visible") == false),
            ),
            (
                vec!["is_available:true".into()],
                Box::new(|r| enabled(r) && p(r, "is_available") == true),
            ),
            (
                vec![format!("updated_at{{gt:\"{upd}\"}}")],
                Box::new(move |r| enabled(r) && r["updated_at"].as_str().unwrap() > upd),
            ),
            (
                vec!["product_created_at{lteq:\"2019-01-01T00:00:00Z\"}".into()],
                Box::new(|r| {
                    enabled(r) && p(r, "created_at").as_str().unwrap() <= "2019-01-01T00:00:00Z"
                }),
            ),
            (
                vec!["product_updated_at{gteq:\"2025-01-01\"}".into()],
                Box::new(|r| {
                    enabled(r) && p(r, "updated_at").as_str().unwrap() >= "2025-01-01T00:00:00Z"
                }),
            ),
            (
                vec!["merchant_id:3".into()],
                Box::new(|r| enabled(r) && p(r, "merchant")["id"] == 3),
            ),
            (
                vec!["merchant_id{in:[1,2]}".into()],
                Box::new(|r| {
                    let m = p(r, "merchant")["id"].as_u64();
                    enabled(r) && (m == Some(1) || m == Some(2))
                }),
            ),
            (
                vec!["merchant_id{nin:[1,2]}".into()],
                Box::new(|r| {
                    let m = p(r, "merchant")["id"].as_u64();
                    enabled(r) && !(m == Some(1) || m == Some(2))
                }),
            ),
            (
                vec!["barcode{null:true}".into()],
                Box::new(|r| enabled(r) && p(r, "barcodes").as_array().is_none_or(Vec::is_empty)),
            ),
            (
                vec!["vendor_sku{null:true}".into()],
                Box::new(|r| enabled(r) && p(r, "vendor_sku").is_null()),
            ),
            (
                vec!["vendor_sku{start:\"ACME-\"}".into()],
                Box::new(|r| {
                    enabled(r)
                        && p(r, "vendor_sku")
                            .as_str()
                            .is_some_and(|v| v.starts_with("ACME-"))
                }),
            ),
            (
                vec!["external_id{null:false}".into()],
                Box::new(|r| enabled(r) && !p(r, "external_id").is_null()),
            ),
            (
                vec!["product_type:packaging".into()],
                Box::new(|r| enabled(r) && p(r, "product_type") == "packaging"),
            ),
            (
                vec!["product_type{in:[\"supplies\",\"infill\"]}".into()],
                Box::new(|r| {
                    enabled(r)
                        && matches!(p(r, "product_type").as_str(), Some("supplies" | "infill"))
                }),
            ),
            (
                vec!["goods_type:NORMAL".into()],
                Box::new(|r| enabled(r) && p(r, "goods_type") == "NORMAL"),
            ),
            (
                vec!["qty_on_hand:0".into()],
                Box::new(|r| enabled(r) && r["qty_on_hand"] == 0),
            ),
            (
                vec!["qty_advertised{gteq:100,lteq:200}".into()],
                Box::new(|r| {
                    let q = r["qty_advertised"].as_i64().unwrap();
                    enabled(r) && (100..=200).contains(&q)
                }),
            ),
            (
                vec!["qty_backordered{gt:0}".into()],
                Box::new(|r| enabled(r) && r["qty_backordered"].as_i64().unwrap() > 0),
            ),
            (
                vec![
                    "qty_expected{neq:0}".into(),
                    "qty_putaway{gt:0}".into(),
                    "merchant_id{lt:4}".into(),
                ],
                Box::new(|r| {
                    enabled(r)
                        && r["qty_expected"] != 0
                        && r["qty_putaway"].as_i64().unwrap() > 0
                        && p(r, "merchant")["id"].as_u64().unwrap() < 4
                }),
            ),
            (
                vec!["is_enabled:false".into(), "qty_on_hand{gt:0}".into()],
                Box::new(|r| !enabled(r) && r["qty_on_hand"].as_i64().unwrap() > 0),
            ),
        ];
        for (filters, keep) in cases {
            let want = expected_from(&recs, "product_id", &keep);
            let mut params: Vec<(&str, &str)> =
                filters.iter().map(|f| ("filter", f.as_str())).collect();
            params.push(("sort", "product_id"));
            params.push(("limit", "1000"));
            params.push(("count", "1"));
            let r = get_with(&server, &params).await;
            assert_eq!(r.status, 200, "{filters:?}: {}", r.text);
            assert_eq!(r.ids(), want, "{filters:?}");
            assert_eq!(
                r.body["meta"]["count"].as_u64(),
                Some(want.len() as u64),
                "{filters:?}"
            );
        }
        // A barcode matches any element of the product's list.
        let with_two = recs
            .iter()
            .find(|r| enabled(r) && p(r, "barcodes").as_array().is_some_and(|b| b.len() == 2))
            .unwrap();
        let second = p(with_two, "barcodes")[1].as_str().unwrap();
        let r = get_with(&server, &[("filter", &format!("barcode:{second}"))]).await;
        assert_eq!(r.ids(), vec![p(with_two, "id").as_u64().unwrap()]);
        let r = get_with(
            &server,
            &[
                ("filter", &format!("barcode{{start:\"{}\"}}", &second[..6])),
                ("limit", "1000"),
            ],
        )
        .await;
        assert!(r.ids().contains(&p(with_two, "id").as_u64().unwrap()));

        // The basic form of a single product.
        let r = get_with(&server, &[("filter", &format!("sku:{sku}"))]).await;
        if enabled(some) {
            assert_eq!(r.ids(), vec![p(some, "id").as_u64().unwrap()]);
        }
    })
    .await;
}

#[tokio::test]
async fn bad_filters_point_at_the_problem() {
    within(async {
        let server = start_with(10, 1).await;
        let cases = [
            ("qty_available{foo:1}", "column 15"),
            ("qty_available{lt:\"ten\"}", "column 18"),
            ("colour:red", "unknown field `colour` at column 1"),
            ("qty_availble{lt:5}", "qty_available"),
            ("sku{gt:5}", "sku"),
            ("product_id{lt:5", "column"),
            (":5", "column 1"),
            ("updated_at{gt:\"yesterday\"}", "column"),
        ];
        for (filter, needle) in cases {
            let r = get_with(&server, &[("filter", filter)]).await;
            assert_eq!(r.status, 400, "{filter}");
            let m = r.detail("filter");
            assert!(m.contains(needle), "{filter}: {m}");
            assert!(m.contains('^'), "caret line in {m}");
            assert_eq!(r.body["errors"][0]["type"], "application");
        }
        // One bad filter among good ones is enough.
        let r = get(
            &server,
            &url(&[("filter", "sku:A"), ("filter", "nope{eq:1}")]),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.details().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn sorts_and_tie_breaking() {
    within(async {
        let server = start_with(300, 8).await;
        let ds = server.dataset().clone();
        // The default sort has ties on updated_at (shared sync instants).
        let recs = records(&ds);
        let mut stamps: Vec<&str> = recs
            .iter()
            .map(|r| r["updated_at"].as_str().unwrap())
            .collect();
        stamps.sort_unstable();
        let len = stamps.len();
        stamps.dedup();
        assert!(stamps.len() < len, "the dataset has updated_at ties");

        for sort in [
            "product_id",
            "-product_id",
            "sku",
            "-sku",
            "updated_at",
            "-updated_at",
            "-updated_at,sku",
            "updated_at,-product_id",
            "sku,updated_at",
        ] {
            let want = expected_from(&recs, sort, enabled);
            assert_walk(&server, &[("sort", sort), ("limit", "17")], &want).await;
        }
        // The default is -updated_at.
        let want = expected_from(&recs, "-updated_at", enabled);
        assert_walk(&server, &[("limit", "50")], &want).await;

        for bad in [
            "name",
            "-",
            "sku,,product_id",
            "+sku",
            "SKU",
            "sku,sku",
            "product_id ",
        ] {
            let r = get_with(&server, &[("sort", bad)]).await;
            assert_eq!(r.status, 400, "{bad:?}");
            r.detail("sort");
        }
    })
    .await;
}

#[tokio::test]
async fn walks_return_every_record_once() {
    within(async {
        for style in [NextStyle::Relative, NextStyle::Absolute] {
            let server = start(
                MockConfig::default()
                    .next_style(style)
                    .dataset(Dataset::generate(523, 4)),
            )
            .await;
            let recs = records(server.dataset());
            let filters: [(&str, Keep); 4] = [
                ("", Box::new(enabled)),
                (
                    "qty_available{gt:0}",
                    Box::new(|r| enabled(r) && r["qty_available"].as_i64().unwrap() > 0),
                ),
                ("is_enabled:false", Box::new(|r| !enabled(r))),
                (
                    "merchant_id{in:[4,5]}",
                    Box::new(|r| enabled(r) && p(r, "merchant")["id"].as_u64().unwrap() >= 4),
                ),
            ];
            for (filter, keep) in &filters {
                for sort in ["-updated_at", "product_id", "-sku", "updated_at"] {
                    for limit in ["1000", "37"] {
                        let want = expected_from(&recs, sort, keep);
                        let mut params = vec![("sort", sort), ("limit", limit)];
                        if !filter.is_empty() {
                            params.push(("filter", filter));
                        }
                        let pages = assert_walk(&server, &params, &want).await;
                        for page in &pages[1..] {
                            let link = page.body["previous"].as_str();
                            assert!(link.is_some(), "{style:?} previous on later pages");
                        }
                        assert!(pages[0].body["previous"].is_null());
                        if style == NextStyle::Absolute
                            && let Some(n) = pages[0].body["next"].as_str()
                        {
                            assert!(n.starts_with("http://127.0.0.1:"), "{n}");
                        }
                    }
                }
            }
        }
    })
    .await;
}

#[tokio::test]
async fn next_carries_every_parameter_and_meta_cursors() {
    within(async {
        // An older version the mock still serves, so the one carried is not the default.
        let server = start(
            MockConfig::default()
                .dataset(Dataset::generate(200, 6))
                .api_versions(["2025-05", shipstream_inventory_generated::api::API_VERSION]),
        )
        .await;
        let first = format!(
            "{PATH}?filter=qty_on_hand%7Bgt%3A0%7D&sort=sku&limit=10&fields%3Aproduct=sku&count=1&version=2025-05&foo=bar&fields=warehouse"
        );
        let (levels, pages) = walk(&server, &first).await;
        assert!(pages.len() > 3);
        for (i, page) in pages.iter().enumerate() {
            assert_eq!(page.header("x-shipstream-api-version"), Some("2025-05"));
            assert!(page.body["meta"]["count"].as_u64().is_some());
            if let Some(next) = page.body["next"].as_str() {
                let (path, q) = next.split_once('?').unwrap();
                assert_eq!(path, PATH);
                for part in [
                    "filter=qty_on_hand%7Bgt%3A0%7D",
                    "sort=sku",
                    "limit=10",
                    "fields%3Aproduct=sku",
                    "count=1",
                    "version=2025-05",
                    "foo=bar",
                    "fields=warehouse",
                ] {
                    assert!(q.split('&').any(|s| s == part), "{part} missing in {next}");
                }
                let cursor: u64 = q
                    .split('&')
                    .find_map(|s| s.strip_prefix("cursor_start="))
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(q.matches("cursor_start=").count(), 1);
                assert!(!q.contains("cursor_end"));
                let following = &pages[i + 1];
                assert_eq!(
                    following.ids()[0],
                    cursor,
                    "cursor_start is the next page's first id"
                );
                assert_eq!(page.body["meta"]["cursor_start"].as_u64(), Some(cursor));
                match pages.get(i + 2) {
                    Some(after) => assert_eq!(
                        page.body["meta"]["cursor_end"].as_u64(),
                        Some(after.ids()[0])
                    ),
                    None => assert!(page.body["meta"]["cursor_end"].is_null()),
                }
            } else {
                assert_eq!(i, pages.len() - 1);
                assert!(page.body["meta"]["cursor_start"].is_null());
            }
        }
        assert!(levels.iter().all(|l| l.get("warehouse").is_some()));
    })
    .await;
}

#[tokio::test]
async fn previous_walks_back() {
    within(async {
        let server = start_with(250, 12).await;
        for sort in ["-updated_at", "product_id", "sku"] {
            let params = [
                ("sort", sort),
                ("limit", "9"),
                ("filter", "qty_available{gt:3}"),
            ];
            let (forward, pages) = walk(&server, &url(&params)).await;
            // From the last page back to the start through `previous`.
            let mut back: Vec<Value> = pages.last().unwrap().levels().clone();
            let mut link = pages.last().unwrap().body["previous"]
                .as_str()
                .map(str::to_owned);
            let mut steps = 0;
            while let Some(uri) = link {
                assert!(uri.contains("cursor_end="), "{uri}");
                let page = get(&server, &uri).await;
                assert_eq!(page.status, 200);
                assert!(page.levels().len() <= 9);
                let mut chunk = page.levels().clone();
                chunk.extend(back);
                back = chunk;
                link = page.body["previous"].as_str().map(str::to_owned);
                // Going back, `has_more` says whether more previous pages exist (the
                // vendor's paging page), while `next` still leads forward.
                assert_eq!(page.body["has_more"], link.is_some(), "{sort} {uri}");
                assert!(page.body["next"].is_string(), "{sort} {uri}");
                steps += 1;
                assert!(steps < 100);
            }
            assert_eq!(ids(&back), ids(&forward), "{sort}");
        }
    })
    .await;
}

#[tokio::test]
async fn hand_made_cursors() {
    within(async {
        let server = start_with(100, 3).await;
        let ids_all = server.dataset().product_ids();
        // A gap in the ids exists with this seed/size.
        let gap = (1..*ids_all.last().unwrap())
            .find(|i| !ids_all.contains(i))
            .expect("a gap");
        // Sorted by id: a missing id starts at the next one.
        let r = get_with(
            &server,
            &[
                ("sort", "product_id"),
                ("filter", "is_enabled{in:[true,false]}"),
                ("cursor_start", &gap.to_string()),
                ("limit", "1"),
            ],
        )
        .await;
        assert_eq!(r.ids()[0], *ids_all.iter().find(|&&i| i > gap).unwrap());
        let r = get_with(
            &server,
            &[
                ("sort", "-product_id"),
                ("filter", "is_enabled{in:[true,false]}"),
                ("cursor_start", &gap.to_string()),
                ("limit", "1"),
            ],
        )
        .await;
        assert_eq!(
            r.ids()[0],
            *ids_all.iter().rev().find(|&&i| i < gap).unwrap()
        );
        // Past the end: empty, no next.
        let r = get_with(
            &server,
            &[("sort", "product_id"), ("cursor_start", "999999")],
        )
        .await;
        assert_eq!(
            (r.levels().len(), r.body["has_more"].clone()),
            (0, Value::Bool(false))
        );
        assert!(r.body["next"].is_null());
        // Other sorts need a real product id.
        let r = get_with(&server, &[("cursor_start", &gap.to_string())]).await;
        assert_eq!(r.status, 400);
        assert!(r.detail("cursor_start").contains(&gap.to_string()));
        // Both cursors bound a range.
        let want: Vec<u64> = ids_all[10..20].to_vec();
        let r = get_with(
            &server,
            &[
                ("sort", "product_id"),
                ("filter", "is_enabled{in:[true,false]}"),
                ("cursor_start", &ids_all[10].to_string()),
                ("cursor_end", &ids_all[20].to_string()),
            ],
        )
        .await;
        assert_eq!(r.ids(), want);
        // Empty result sets.
        let r = get_with(&server, &[("filter", "sku:does-not-exist"), ("count", "1")]).await;
        assert_eq!(r.levels().len(), 0);
        assert_eq!(r.body["has_more"], false);
        assert_eq!(r.body["meta"]["count"], 0);
        assert!(r.body["next"].is_null() && r.body["previous"].is_null());
    })
    .await;
}
