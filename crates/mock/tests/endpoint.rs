//! The endpoint's rules over real HTTP: auth, version, parameters, fields, errors.
//! Every body is checked against `openapi.yaml`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use shipstream_inventory_generated::api;

use common::*;
use reqwest::Method;
use serde_json::Value;
use shipstream_inventory_mock::{Dataset, MockConfig, NextStyle};

#[tokio::test]
async fn auth_is_required() {
    within(async {
        let server = start_with(30, 1).await;
        let r = send(&server, Method::GET, PATH, None, &[], Check::Strict).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert_eq!(r.body["errors"][0]["type"], "application");
        assert!(
            r.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Bearer")
        );

        let r = send(
            &server,
            Method::GET,
            PATH,
            Some("wrong"),
            &[],
            Check::Strict,
        )
        .await;
        assert_eq!(r.status, 401);
        let r = send(
            &server,
            Method::GET,
            PATH,
            None,
            &[("authorization", "Basic bW9jay10b2tlbg==")],
            Check::Strict,
        )
        .await;
        assert_eq!(r.status, 401);
        let r = send(
            &server,
            Method::GET,
            PATH,
            None,
            &[("authorization", "bearer mock-token")],
            Check::Strict,
        )
        .await;
        assert_eq!(r.status, 200, "the scheme is case-insensitive");

        // The recorder hides the token.
        let recs = server.requests();
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[0].status, 401);
        assert_eq!(recs[0].header("authorization"), None);
        assert_eq!(recs[1].header("authorization"), Some("<redacted>"));
        assert_eq!(recs[3].status, 200);
        assert!(recs.iter().all(|r| r.path == PATH && r.method == "GET"));
        server.clear_requests();
        assert!(server.requests().is_empty());
    })
    .await;
}

#[tokio::test]
async fn custom_token() {
    within(async {
        let server = start(
            MockConfig::default()
                .token("s3cret")
                .dataset(Dataset::generate(5, 1)),
        )
        .await;
        assert_eq!(server.token(), "s3cret");
        let r = send(
            &server,
            Method::GET,
            PATH,
            Some("mock-token"),
            &[],
            Check::Strict,
        )
        .await;
        assert_eq!(r.status, 401);
        assert_eq!(get(&server, PATH).await.status, 200);
        assert!(!format!("{server:?}").contains("s3cret"));
    })
    .await;
}

#[tokio::test]
async fn version_is_echoed_or_refused() {
    within(async {
        let latest = shipstream_inventory_generated::api::API_VERSION;
        // Older versions served besides the spec's (the latest).
        let server = start(
            MockConfig::default()
                .dataset(Dataset::generate(5, 1))
                .api_versions(["2024-11", "2024-12", "2025-01", "2025-02", latest]),
        )
        .await;
        let token = Some(server.token());
        let v = |r: &Resp| r.header("x-shipstream-api-version").map(str::to_owned);
        let version_error = |r: &Resp| {
            r.header("x-shipstream-api-version-error")
                .map(str::to_owned)
        };

        let r = get(&server, PATH).await;
        assert_eq!(v(&r).as_deref(), Some(latest), "latest without a header");
        assert_eq!(version_error(&r), None);

        let r = send(
            &server,
            Method::GET,
            PATH,
            token,
            &[("X-ShipStream-API-Version", "2025-01")],
            Check::Strict,
        )
        .await;
        assert_eq!((r.status, v(&r).as_deref()), (200, Some("2025-01")));

        let r = get_with(&server, &[("version", "2024-12")]).await;
        assert_eq!((r.status, v(&r).as_deref()), (200, Some("2024-12")));

        let r = send(
            &server,
            Method::GET,
            &url(&[("version", "2024-11")]),
            token,
            &[("X-ShipStream-API-Version", "2025-02")],
            Check::Strict,
        )
        .await;
        assert_eq!(v(&r).as_deref(), Some("2025-02"), "the header wins");

        for bad in ["2025-13", "2025-8", "latest", "2025-00", " "] {
            let r = send(
                &server,
                Method::GET,
                PATH,
                token,
                &[("X-ShipStream-API-Version", bad)],
                Check::Strict,
            )
            .await;
            assert_eq!(r.status, 400, "{bad:?}");
            assert!(
                r.detail("X-ShipStream-API-Version").contains("YYYY-MM"),
                "{}",
                r.text
            );
            assert!(
                version_error(&r).is_some_and(|e| e.contains("YYYY-MM")),
                "{bad:?}"
            );
        }
        // Retired (before the oldest served), unknown (between served ones) and future
        // versions: each a 400 whose detail and version-error header name the latest.
        for (asked, why) in [
            ("2019-01", "not served"),
            ("2025-04", "not served"),
            ("2099-01", "future"),
        ] {
            let r = send(
                &server,
                Method::GET,
                PATH,
                token,
                &[("X-ShipStream-API-Version", asked)],
                Check::Strict,
            )
            .await;
            assert_eq!(r.status, 400, "{asked}");
            let detail = r.detail("X-ShipStream-API-Version");
            assert!(
                detail.contains(why) && detail.contains(latest),
                "{asked}: {detail}"
            );
            assert_eq!(
                version_error(&r).as_deref(),
                Some(detail.as_str()),
                "{asked}"
            );
            assert_eq!(v(&r), None, "no version served");
        }

        // A configured list moves the latest: the last one answers by default.
        let later = start(
            MockConfig::default()
                .api_versions(["2025-08", "2026-03"])
                .dataset(Dataset::generate(3, 1)),
        )
        .await;
        let r = send(
            &later,
            Method::GET,
            PATH,
            Some(later.token()),
            &[("X-ShipStream-API-Version", "2025-08")],
            Check::Strict,
        )
        .await;
        assert_eq!((r.status, v(&r).as_deref()), (200, Some("2025-08")));
        assert_eq!(v(&get(&later, PATH).await).as_deref(), Some("2026-03"));
        for bad in [
            vec!["2026"],
            vec![],
            vec!["2026-03", "2025-08"],
            vec!["2025-08", "2025-08"],
        ] {
            assert!(
                shipstream_inventory_mock::MockServer::start(
                    MockConfig::default().api_versions(bad.clone())
                )
                .await
                .is_err(),
                "{bad:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn default_level_shape() {
    within(async {
        let server = start_with(20, 3).await;
        let r = get(&server, PATH).await;
        assert_eq!(r.status, 200);
        assert!(
            r.body.get("included").is_none(),
            "no included without fields:product"
        );
        for level in r.levels() {
            let mut keys: Vec<&str> = level
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            // Every level property of the spec but the optional ones (`warehouse`).
            let mut want: Vec<&str> = api::LEVEL_PROPERTIES
                .iter()
                .filter(|p| !p.optional_field)
                .map(|p| p.name)
                .collect();
            want.sort_unstable();
            assert_eq!(keys, want);
            for q in QTY {
                assert!(keys.contains(&q), "{q}");
            }
            assert_eq!(level["type"], "TotalLevel");
            let stub = level["product"].as_object().unwrap();
            assert_eq!(stub.len(), 3);
            assert_eq!(stub["type"], "Product");
            assert!(stub["id"].is_u64() && stub["sku"].is_string());
        }
        assert_eq!(r.body["meta"]["count"], Value::Null);
        assert!(r.body["meta"].get("count").is_none());
        assert!(r.body["meta"]["processing_time"].is_f64());
    })
    .await;
}

const QTY: [&str; 10] = [
    "qty_allocated",
    "qty_backordered",
    "qty_reserved",
    "qty_picked",
    "qty_expected",
    "qty_processed",
    "qty_putaway",
    "qty_available",
    "qty_on_hand",
    "qty_advertised",
];

#[tokio::test]
async fn fields_parameter() {
    within(async {
        let server = start_with(20, 3).await;
        for fields in [
            "warehouse",
            "all",
            "qty_on_hand,warehouse",
            "product,updated_at,warehouse",
        ] {
            let r = get_with(&server, &[("fields", fields)]).await;
            assert_eq!(r.status, 200);
            for l in r.levels() {
                assert_eq!(l["warehouse"]["type"], "Warehouse", "{fields}");
                assert!(l["warehouse"]["id"].is_u64());
                assert_eq!(l.as_object().unwrap().len(), api::LEVEL_PROPERTIES.len());
            }
        }
        // Repeated instead of comma-separated.
        let r = get(
            &server,
            &format!("{PATH}?fields=qty_on_hand&fields=warehouse"),
        )
        .await;
        assert!(r.levels().iter().all(|l| l.get("warehouse").is_some()));
        // Default fields named explicitly change nothing.
        let plain = get(&server, PATH).await;
        let named = get_with(&server, &[("fields", "qty_on_hand,updated_at,product")]).await;
        assert_eq!(plain.body["collection"], named.body["collection"]);

        for bad in ["colour", "warehouse,colour", "ALL"] {
            let r = get_with(&server, &[("fields", bad)]).await;
            assert_eq!(r.status, 400, "{bad}");
            assert!(r.detail("fields").contains("colour") || r.detail("fields").contains("ALL"));
            assert_eq!(r.body["errors"][0]["type"], "openapi");
        }
    })
    .await;
}

/// `basic`: every product property the spec does not list in `x-optional-fields`.
fn basic() -> Vec<&'static str> {
    api::PRODUCT_PROPERTIES
        .iter()
        .filter(|p| !p.optional_field)
        .map(|p| p.name)
        .collect()
}

/// `all`: every product property of the spec.
fn all() -> Vec<&'static str> {
    api::PRODUCT_PROPERTIES.iter().map(|p| p.name).collect()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort_unstable();
    k
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn product_fields() {
    within(async {
        let server = start_with(300, 5).await;
        let check = |r: &Resp, want: &[&str]| {
            assert_eq!(r.status, 200, "{}", r.text);
            let products = r.body["included"]["Product"].as_array().unwrap();
            let ids: Vec<u64> = products.iter().map(|p| p["id"].as_u64().unwrap()).collect();
            assert_eq!(ids, r.ids(), "one product per level, in page order");
            for p in products {
                assert_eq!(p["type"], "Product");
                assert_eq!(keys(p), sorted(want));
            }
            assert_eq!(keys(&r.body["included"]), vec!["Product".to_owned()]);
        };
        let r = get_with(&server, &[("fields:product", "sku,name")]).await;
        check(&r, &["type", "id", "sku", "name"]);
        // The stub's sku agrees with the product's.
        for (l, p) in r
            .levels()
            .iter()
            .zip(r.body["included"]["Product"].as_array().unwrap())
        {
            assert_eq!(l["product"]["sku"], p["sku"]);
        }
        // Percent-encoded key, as some clients send it.
        let r = get(&server, &format!("{PATH}?fields%3Aproduct=basic")).await;
        check(&r, &basic());
        assert!(basic().contains(&"sku") && !basic().contains(&"weight"));
        let r = get(&server, &format!("{PATH}?fields:product=basic&limit=5")).await;
        check(&r, &basic());
        let r = get_with(
            &server,
            &[
                ("fields:product", "all"),
                ("limit", "300"),
                ("filter", "is_enabled{in:[true,false]}"),
            ],
        )
        .await;
        check(&r, &all());
        let r = get(
            &server,
            &format!("{PATH}?fields:product=weight&fields:product=id,custom_fields"),
        )
        .await;
        check(&r, &["type", "id", "weight", "custom_fields"]);
        let r = get_with(&server, &[("fields:product", "basic,weight")]).await;
        let mut want = basic();
        want.push("weight");
        check(&r, &want);

        for bad in ["sku,sku", "sku,,name", ","] {
            let r = get_with(&server, &[("fields:product", bad)]).await;
            assert_eq!(r.status, 400, "{bad}");
            r.detail("fields:product");
        }
        // An open list (the API selects fields of packaging objects too): a name the spec
        // does not list is accepted and, every included object being a product, selects
        // nothing.
        let r = get_with(&server, &[("fields:product", "sku,colour")]).await;
        check(&r, &["type", "id", "sku"]);
    })
    .await;
}

#[tokio::test]
async fn dataset_variety_is_visible() {
    within(async {
        // A larger page of all products shows every kind of value the schema allows.
        let server = start_with(1000, 11).await;
        let (levels, pages) = walk(
            &server,
            &url(&[
                ("fields:product", "all"),
                ("limit", "1000"),
                ("filter", "is_enabled{in:[true,false]}"),
                ("fields", "all"),
            ]),
        )
        .await;
        assert_eq!(levels.len(), 1000);
        let products = pages[0].body["included"]["Product"].as_array().unwrap();
        let any = |f: &dyn Fn(&Value) -> bool| products.iter().any(f);
        assert!(any(&|p| p["barcodes"].is_null()));
        assert!(any(&|p| p["barcodes"]
            .as_array()
            .is_some_and(Vec::is_empty)));
        assert!(any(&|p| p["barcodes"]
            .as_array()
            .is_some_and(|b| b.len() == 2)));
        assert!(any(&|p| p["vendor_sku"] == ""));
        assert!(any(&|p| p["vendor_sku"].is_null()));
        assert!(any(&|p| p["is_enabled"] == false));
        assert!(any(&|p| p["is_visible"] == false));
        assert!(any(&|p| !p["regulated_goods"].is_null()));
        assert!(any(&|p| p["weight"]["unit"] == "kg"));
        assert!(any(&|p| p["dimensions"]["unit"] == "cm"));
        assert!(any(&|p| p["volume"]["unit"] == "in^3"));
        assert!(any(&|p| p["lot_type"]["type"] == "LotType"));
        assert!(any(&|p| p["inventory"]["virtual_inventory"] == "optimistic"));
        assert!(any(&|p| p["export"]["hs_country_extension"]
            .as_array()
            .is_some_and(|a| !a.is_empty())));
        assert!(any(&|p| p["packaging"].is_null()));
        assert!(any(&|p| p["name"].as_str().unwrap().contains('&')));
        let merchants: std::collections::BTreeSet<u64> = products
            .iter()
            .filter_map(|p| p["merchant"]["id"].as_u64())
            .collect();
        assert_eq!(
            merchants.into_iter().collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
        let values: Vec<&Value> = products
            .iter()
            .flat_map(|p| p["custom_fields"].as_array().into_iter().flatten())
            .map(|cf| &cf["value"])
            .collect();
        assert!(values.iter().any(|v| v.is_i64()));
        assert!(values.iter().any(|v| v.is_f64()));
        assert!(values.iter().any(|v| v.is_boolean()));
        assert!(values.iter().any(|v| v.is_string()));
        assert!(values.iter().any(|v| v.is_null()));
        assert!(values.iter().any(|v| v.is_object()));
        assert!(levels.iter().any(|l| l["qty_on_hand"] == 0));
        // Quantity invariants, as seen by a client.
        for l in &levels {
            let q = |k: &str| l[k].as_i64().unwrap();
            assert!(QTY.iter().all(|k| q(k) >= 0));
            assert_eq!(
                q("qty_on_hand"),
                q("qty_available") + q("qty_allocated") + q("qty_reserved") + q("qty_picked")
            );
            assert!(q("qty_advertised") >= q("qty_available"));
        }
    })
    .await;
}

#[tokio::test]
async fn limit_count_cursor_validation() {
    within(async {
        let server = start_with(120, 2).await;
        for bad in ["0", "1001", "-5", "abc", "1.5", ""] {
            let r = get_with(&server, &[("limit", bad)]).await;
            assert_eq!(r.status, 400, "limit={bad:?}");
            r.detail("limit");
        }
        assert_eq!(get_with(&server, &[("limit", "1")]).await.levels().len(), 1);
        let all = get_with(&server, &[("limit", "1000")]).await;
        assert_eq!(all.status, 200);
        assert_eq!(all.body["has_more"], false);
        assert_eq!(
            get(&server, PATH).await.levels().len(),
            100,
            "default limit"
        );

        let want = expected(server.dataset(), "-updated_at", enabled).len();
        let r = get_with(&server, &[("count", "1"), ("limit", "5")]).await;
        assert_eq!(r.body["meta"]["count"].as_u64(), Some(want as u64));
        let r = get_with(
            &server,
            &[("count", "1"), ("filter", "is_enabled{in:[true,false]}")],
        )
        .await;
        assert_eq!(r.body["meta"]["count"].as_u64(), Some(120));
        let r = get_with(&server, &[("count", "0")]).await;
        assert!(r.body["meta"].get("count").is_none());
        for bad in ["2", "yes", "-1"] {
            let r = get_with(&server, &[("count", bad)]).await;
            assert_eq!(r.status, 400);
            r.detail("count");
        }
        for key in ["cursor_start", "cursor_end"] {
            for bad in ["abc", "1.5", ""] {
                let r = get_with(&server, &[(key, bad)]).await;
                assert_eq!(r.status, 400, "{key}={bad:?}");
                assert!(r.detail(key).contains("integer"));
            }
        }
        // Several problems at once are all reported.
        let r = get(
            &server,
            &format!("{PATH}?limit=0&count=7&sort=name&cursor_start=x"),
        )
        .await;
        assert_eq!(r.status, 400);
        let mut keys: Vec<String> = r.details().into_iter().map(|d| d.0).collect();
        keys.sort();
        assert_eq!(keys, ["count", "cursor_start", "limit", "sort"]);

        // Unknown parameters are ignored.
        let r = get_with(&server, &[("foo", "bar"), ("limit", "3")]).await;
        assert_eq!((r.status, r.levels().len()), (200, 3));
    })
    .await;
}

#[tokio::test]
async fn methods_and_paths() {
    within(async {
        let server = start_with(5, 1).await;
        let token = Some(server.token());
        for m in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            let r = send(&server, m.clone(), PATH, token, &[], Check::Strict).await;
            assert_eq!(r.status, 405, "{m}");
            assert_eq!(r.header("allow"), Some("GET"));
            assert!(
                r.body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("GET")
            );
        }
        for p in [
            "/",
            "/api/global/v1/inventory/levels",
            "/api/global/v1/system/status",
            "/api/global/v1/inventory/levels/total/",
        ] {
            let r = send(&server, Method::GET, p, token, &[], Check::Strict).await;
            assert_eq!(r.status, 404, "{p}");
        }
        let head = client()
            .head(server.levels_url())
            .bearer_auth(server.token())
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200);
        let recs = server.requests();
        assert_eq!(recs.iter().filter(|r| r.status == 405).count(), 4);
        assert_eq!(recs.iter().filter(|r| r.status == 404).count(), 4);
    })
    .await;
}

#[tokio::test]
async fn recorded_requests_keep_the_query() {
    within(async {
        let server = start_with(5, 1).await;
        let uri = url(&[
            ("filter", "sku:A B"),
            ("filter", "qty_available{lt:10}"),
            ("fields:product", "sku"),
        ]);
        get(&server, &uri).await;
        let rec = &server.requests()[0];
        assert_eq!(rec.method, "GET");
        assert_eq!(
            rec.query_values("filter"),
            vec!["sku:A B", "qty_available{lt:10}"]
        );
        assert_eq!(rec.query_values("fields:product"), vec!["sku"]);
        assert_eq!(rec.uri(), uri);
        assert_eq!(rec.status, 200);
    })
    .await;
}

#[tokio::test]
async fn absolute_links_use_the_host() {
    within(async {
        let server = start(
            MockConfig::default()
                .next_style(NextStyle::Absolute)
                .dataset(Dataset::generate(30, 1)),
        )
        .await;
        let r = get_with(&server, &[("limit", "10")]).await;
        let next = r.body["next"].as_str().unwrap();
        assert!(
            next.starts_with(&format!("{}{PATH}?", server.base_url())),
            "{next}"
        );
        let r2 = get(&server, next).await;
        let prev = r2.body["previous"].as_str().unwrap();
        assert!(prev.starts_with(server.base_url()), "{prev}");
    })
    .await;
}
