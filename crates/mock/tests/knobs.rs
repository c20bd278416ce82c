//! The knobs that make the mock contradict one assumption of the spec each
//! (`MockConfig::last_page_next`, `repeated_sort_keys`, `refused_operators`,
//! `ignored_operators`, `refused_filter_fields`, `null_quantities`, `omit_has_more`): each does what it says,
//! and only when set. Also the [`Gate`] that holds answers until a test lets them go.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Check, PATH, get_with, send, start, url, within};
use reqwest::Method;
use serde_json::Value;
use shipstream_inventory_mock::{Dataset, Gate, LastPageNext, MockConfig};

fn config() -> MockConfig {
    MockConfig::default().dataset(Dataset::generate(30, 5))
}

/// A GET whose body is not held to the schema (the knobs break it on purpose).
async fn get_raw(
    server: &shipstream_inventory_mock::MockServer,
    params: &[(&str, &str)],
) -> common::Resp {
    send(
        server,
        Method::GET,
        &url(params),
        Some(server.token()),
        &[],
        Check::Unchecked,
    )
    .await
}

#[tokio::test]
async fn the_last_page_spells_no_next_page_as_configured() {
    within(async {
        let one = [("filter", "product_id:1"), ("sort", "product_id")];
        let default = start(config()).await;
        let r = get_with(&default, &one).await;
        assert_eq!(
            (r.body["has_more"].clone(), r.body.get("next")),
            (Value::Bool(false), Some(&Value::Null))
        );
        // A page that is not the last keeps its link whatever the knob says.
        for (spelling, next) in [
            (LastPageNext::Absent, None),
            (LastPageNext::Empty, Some(Value::from(""))),
            (LastPageNext::SelfLink, Some(Value::from(url(&one)))),
        ] {
            let server = start(config().last_page_next(spelling)).await;
            let last = get_raw(&server, &one).await;
            assert_eq!(last.body.get("next").cloned(), next, "{spelling:?}");
            let first = get_raw(&server, &[("limit", "2")]).await;
            assert!(
                first.body["next"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(PATH) && n.contains("cursor_start=")),
                "{spelling:?}: {}",
                first.text
            );
        }
    })
    .await;
}

#[tokio::test]
async fn repeated_sort_keys_refused_operators_and_fields_follow_the_knobs() {
    within(async {
        let default = start(config()).await;
        assert_eq!(
            get_with(&default, &[("sort", "sku,-sku")]).await.status,
            400
        );
        assert_eq!(
            get_with(&default, &[("filter", "product_id{gteq:3}")])
                .await
                .status,
            200
        );
        assert_eq!(
            get_with(
                &default,
                &[("filter", "updated_at{gt:\"2020-01-01T00:00:00Z\"}")]
            )
            .await
            .status,
            200
        );

        let server = start(
            config()
                .repeated_sort_keys(true)
                .refuse_operator("gteq")
                .refuse_filter_field("updated_at"),
        )
        .await;
        let twice = get_with(&server, &[("sort", "sku,-sku"), ("limit", "50")]).await;
        let once = get_with(&server, &[("sort", "sku"), ("limit", "50")]).await;
        assert_eq!(
            (twice.status, twice.ids()),
            (200, once.ids()),
            "the first occurrence counts"
        );
        let refused = get_with(&server, &[("filter", "product_id[{lt:2},{gteq:3}]")]).await;
        assert_eq!(
            (refused.status, refused.detail("filter")),
            (
                400,
                "unknown condition `gteq` in the filter on `product_id`".to_owned()
            )
        );
        assert_eq!(
            get_with(&server, &[("filter", "product_id{lteq:3}")])
                .await
                .status,
            200
        );
        let refused = get_with(
            &server,
            &[("filter", "updated_at{gt:\"2020-01-01T00:00:00Z\"}")],
        )
        .await;
        assert_eq!(
            (refused.status, refused.detail("filter")),
            (
                400,
                "unknown filter field `updated_at` at column 1".to_owned()
            )
        );
    })
    .await;
}

#[tokio::test]
async fn an_ignored_operator_is_accepted_and_not_applied() {
    within(async {
        let query = [("sort", "product_id"), ("limit", "3")];
        let server = start(config().ignore_operator("neq")).await;
        let all = get_with(&server, &query).await;
        let first = all.ids()[0];
        let filter = format!("product_id{{neq:{first}}}");
        let ignored = get_with(&server, &[query[0], query[1], ("filter", &filter)]).await;
        assert_eq!((ignored.status, ignored.ids()), (200, all.ids()));
        // The other operators still filter, and by default `neq` does.
        let gteq = format!("product_id{{gteq:{}}}", all.ids()[1]);
        let r = get_with(&server, &[query[0], query[1], ("filter", &gteq)]).await;
        assert_eq!(r.ids()[0], all.ids()[1]);
        let default = start(config()).await;
        let r = get_with(&default, &[query[0], query[1], ("filter", &filter)]).await;
        assert_eq!((r.status, r.ids()[0]), (200, all.ids()[1]));
    })
    .await;
}

#[tokio::test]
async fn null_quantities_and_a_missing_has_more_follow_the_knobs() {
    within(async {
        let server = start(config().null_quantities(true).omit_has_more(true)).await;
        let r = get_raw(&server, &[("limit", "3")]).await;
        assert_eq!(r.status, 200);
        assert!(r.body.get("has_more").is_none(), "{}", r.text);
        // The quantities as the spec's document names them, not as the list the knob
        // iterates (the generated `LEVEL_PROPERTIES`).
        let spec = shipstream_inventory_contract_tests::spec::Spec::load().unwrap();
        let quantities: Vec<&String> =
            spec.document()["components"]["schemas"]["TotalLevel"]["properties"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with("qty_"))
                .collect();
        assert!(quantities.len() >= 9, "{quantities:?}");
        // Each level is the default mock's level, whole, with every quantity null.
        let plain = get_raw(&start(config()).await, &[("limit", "3")]).await;
        assert_eq!(r.levels().len(), 3);
        for (level, plain) in r.levels().iter().zip(plain.levels()) {
            let mut want = plain.clone();
            for q in &quantities {
                want[q.as_str()] = Value::Null;
            }
            assert_eq!(*level, want);
        }
        // Off by default: the strict schema check of `get_with` holds.
        let default = start(config()).await;
        let r = get_with(&default, &[("limit", "3")]).await;
        assert_eq!(r.body["has_more"], Value::Bool(true));
    })
    .await;
}

#[tokio::test]
async fn a_gate_holds_what_it_matches_until_released_and_counts_every_request() {
    within(async {
        let gate = Gate::new(|q| q.iter().any(|(k, v)| k == "limit" && v == "2"));
        let server = start(config().gate(gate.clone())).await;
        assert_eq!(get_raw(&server, &[("limit", "3")]).await.status, 200);
        let held = get_raw(&server, &[("limit", "2")]);
        tokio::pin!(held);
        let until_held = async {
            while gate.held() == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        };
        tokio::select! {
            r = &mut held => panic!("answered while held: {}", r.status),
            () = until_held => {}
        }
        assert_eq!((gate.arrived(), gate.held()), (2, 1));
        gate.release(1);
        assert_eq!(held.await.status, 200);
        assert_eq!((gate.arrived(), gate.held()), (2, 0));
    })
    .await;
}
