//! `cargo xtask drift --live --probe` against the mock server, in-process: the default
//! mock confirms every probed note, and mocks configured to contradict one note get exactly
//! that note refuted, by its id, with the request and the refuting part of the answer. The
//! expected verdicts are written out here, not read from the probe table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, time::Duration};

use shipstream_inventory_mock::{
    Dataset, Fault, LastPageNext, MockConfig, MockServer, NextStyle, RecordedRequest,
};
use xtask::{
    check,
    live::LiveConfig,
    probe::{self, Report, Verdict},
    root,
};

const TOKEN: &str = "probe-token-4b1d";
/// The pause between requests in these tests (the command uses `probe::PAUSE`).
const PAUSE: Duration = Duration::from_millis(20);

/// The notes a probe settles: all confirmed by the default mock.
/// The probed notes the default mock's answers settle (`hs-extension-members-never-null` is
/// probed too, but the 60-product dataset's first page carries no HS extension, so it stays
/// not testable here; its judge's unit test refutes it).
const PROBED: [&str; 39] = [
    "next-link-form",
    "no-next-page-spelling",
    "no-previous-page-spelling",
    "has-more-always",
    "quantities-never-null",
    "level-default-fields",
    "updated-at-whole-seconds",
    "product-ref-id-int64",
    "cursor-start-int64",
    "cursor-end-int64",
    "meta-cursor-start-null-at-end",
    "meta-cursor-end-null-at-end",
    "count-int64",
    "timestamp-compared-as-string",
    "sort-key-once",
    "operators-neq-in-nin",
    "operators-gteq-lteq",
    "refused-parameter-400",
    "version-echo-on-error",
    "version-error-header",
    "version-header-wins",
    "warehouse-field-stub",
    "object-ref-id-int64",
    "product-basic-fields",
    "product-basic-fields-param",
    "included-object-type-id",
    "product-id-int64",
    "product-type-id-always",
    "product-members-never-null",
    "weight-members-never-null",
    "dimensions-members-never-null",
    "volume-members-never-null",
    "money-members-never-null",
    "inventory-members-never-null",
    "packaging-flags-never-null",
    "product-stub-sku",
    "page-members-never-null",
    "previous-link-form",
    "meta-cursors-int64",
];

fn spec_text() -> String {
    std::fs::read_to_string(root().join("openapi.yaml")).unwrap()
}

use shipstream_inventory_contract_tests::within;

fn config() -> MockConfig {
    MockConfig::default()
        .token(TOKEN)
        .dataset(Dataset::generate(60, 11))
}

/// Starts `config`, probes it, checks what every run must hold, and shuts it down.
async fn probe_mock(config: MockConfig, record: Option<&std::path::Path>) -> Report {
    probe_mock_requests(config, record).await.0
}

/// [`probe_mock`], with the requests the mock received.
async fn probe_mock_requests(
    config: MockConfig,
    record: Option<&std::path::Path>,
) -> (Report, Vec<RecordedRequest>) {
    let server = MockServer::start(config).await.unwrap();
    let cfg = LiveConfig {
        base_url: server.base_url().to_owned(),
        token: TOKEN.to_owned(),
        api_version: None,
    };
    let report = probe::probe(&cfg, &spec_text(), record, PAUSE)
        .await
        .unwrap();
    assert!(
        report.requests <= probe::MAX_REQUESTS,
        "{}",
        report.requests
    );
    assert_eq!(
        report.requests,
        server.requests().len(),
        "the count is the mock's"
    );
    let shown = format!("{report:?}");
    assert!(!shown.contains(TOKEN), "the token shows in the report");
    let requests = server.requests();
    server.shutdown().await;
    (report, requests)
}

/// Every note of the spec: the probed ones confirmed, the others not testable, with the
/// given ids refuted.
fn expected(refuted: &[&str]) -> BTreeMap<String, Verdict> {
    check::assumed_notes_of(&spec_text())
        .unwrap()
        .into_iter()
        .map(|n| {
            let v = if refuted.contains(&n.id.as_str()) {
                Verdict::Refuted
            } else if PROBED.contains(&n.id.as_str()) {
                Verdict::Confirmed
            } else {
                Verdict::NotTestable
            };
            (n.id, v)
        })
        .collect()
}

fn outcome<'a>(report: &'a Report, id: &str) -> &'a probe::Outcome {
    report.outcomes.iter().find(|o| o.id == id).unwrap()
}

#[tokio::test]
async fn the_default_mock_confirms_every_probed_note_and_refutes_none() {
    within(async {
        let (report, requests) = probe_mock_requests(config(), None).await;
        assert_eq!(report.verdicts(), expected(&[]));
        assert_eq!(report.requests, 17);
        // Paced: each request leaves at least PAUSE after the previous answer, so the
        // mock answers them at least PAUSE apart.
        let gaps: Vec<Duration> = requests
            .windows(2)
            .map(|w| w[1].answered_at - w[0].answered_at)
            .collect();
        assert!(gaps.iter().all(|g| *g >= PAUSE), "{gaps:?}");
        let next = outcome(&report, "next-link-form");
        assert!(
            next.judged
                .reason
                .starts_with("`next` is a host-relative path (/api/global/v1/"),
            "{}",
            next.judged.reason
        );
        assert_eq!(
            outcome(&report, "no-next-page-spelling").judged.reason,
            "$.next = null"
        );
    })
    .await;
}

#[tokio::test]
async fn absolute_next_links_and_every_accepted_spelling_of_no_next_page_are_confirmed() {
    within(async {
        let report = probe_mock(config().next_style(NextStyle::Absolute), None).await;
        assert_eq!(report.verdicts(), expected(&[]));
        assert!(
            outcome(&report, "next-link-form")
                .judged
                .reason
                .starts_with(
                    "`next` is an absolute URL on the instance's origin (http://127.0.0.1:"
                )
        );
        for (spelling, how) in [
            (LastPageNext::Absent, "(absent)"),
            (LastPageNext::Empty, "\"\""),
        ] {
            let report = probe_mock(config().last_page_next(spelling), None).await;
            assert_eq!(report.verdicts(), expected(&[]), "{spelling:?}");
            assert_eq!(
                outcome(&report, "no-next-page-spelling").judged.reason,
                format!("$.next = {how}")
            );
        }
    })
    .await;
}

/// Runs the mock `config` and checks that exactly `id` is refuted, with evidence whose
/// request contains `request` and whose finding contains `found`.
async fn refutes(config: MockConfig, id: &str, request: &str, found: &str) {
    refutes_leaving(config, id, &[], request, found).await;
}

/// [`refutes`], where the refuted answer also leaves the notes `unsettled` not testable.
async fn refutes_leaving(
    config: MockConfig,
    id: &str,
    unsettled: &[&str],
    request: &str,
    found: &str,
) {
    let report = probe_mock(config, None).await;
    let mut want = expected(&[id]);
    for n in unsettled {
        want.insert((*n).to_owned(), Verdict::NotTestable);
    }
    assert_eq!(report.verdicts(), want, "{id}");
    let o = outcome(&report, id);
    assert!(
        o.judged
            .evidence
            .iter()
            .any(|e| e.request.contains(request) && e.found.contains(found)),
        "{id}: {:#?}",
        o.judged.evidence
    );
}

#[tokio::test]
async fn a_next_link_to_another_origin_refutes_next_link_form() {
    // The link is not followed, so no page with a `previous` link is seen.
    within(refutes_leaving(
        config().fault(Fault::offorigin_next()),
        "next-link-form",
        &["previous-link-form"],
        "GET /api/global/v1/inventory/levels/total?sort=product_id&limit=5&count=1",
        "$.next = \"http://127.0.0.2:9/api/global/v1/inventory/levels/total?",
    ))
    .await;
}

#[tokio::test]
async fn a_last_page_that_links_to_itself_refutes_no_next_page_spelling() {
    within(refutes(
        config().last_page_next(LastPageNext::SelfLink),
        "no-next-page-spelling",
        "filter=product_id:",
        "$.next = \"/api/global/v1/inventory/levels/total?sort=product_id&limit=5&filter=product_id",
    ))
    .await;
}

#[tokio::test]
async fn an_accepted_repeated_sort_key_refutes_sort_key_once() {
    within(refutes(
        config().repeated_sort_keys(true),
        "sort-key-once",
        "sort=sku,sku",
        "status 200",
    ))
    .await;
}

#[tokio::test]
async fn a_refused_operator_refutes_the_note_of_that_operator_only() {
    within(refutes(
        config().refuse_operator("gteq"),
        "operators-gteq-lteq",
        "filter=product_id{gteq:",
        "status 400",
    ))
    .await;
    within(refutes(
        config().refuse_operator("nin"),
        "operators-neq-in-nin",
        "filter=product_id{nin:[",
        "status 400",
    ))
    .await;
}

#[tokio::test]
async fn an_operator_accepted_but_not_applied_refutes_the_note_of_that_operator() {
    within(refutes(
        config().ignore_operator("neq"),
        "operators-neq-in-nin",
        "filter=product_id{neq:",
        "$.collection[*].product.id = [",
    ))
    .await;
    within(async {
        let report = probe_mock(config().ignore_operator("lteq"), None).await;
        assert_eq!(report.verdicts(), expected(&["operators-gteq-lteq"]));
        let o = outcome(&report, "operators-gteq-lteq");
        assert!(
            o.judged.reason.starts_with("`product_id{lteq:")
                && o.judged
                    .reason
                    .contains("` was accepted but did not filter as `lteq` means"),
            "{}",
            o.judged.reason
        );
    })
    .await;
}

#[tokio::test]
async fn a_refused_timestamp_filter_refutes_timestamp_compared_as_string() {
    within(refutes(
        config().refuse_filter_field("updated_at"),
        "timestamp-compared-as-string",
        "filter=updated_at{gt:\"",
        "status 400",
    ))
    .await;
}

#[tokio::test]
async fn a_null_quantity_refutes_quantities_never_null() {
    within(refutes(
        config().null_quantities(true),
        "quantities-never-null",
        "sort=product_id&limit=5&count=1",
        "$.collection[0].qty_",
    ))
    .await;
}

#[tokio::test]
async fn a_page_without_has_more_refutes_has_more_always() {
    within(refutes(
        config().omit_has_more(true),
        "has-more-always",
        "sort=product_id&limit=5&count=1",
        "$.has_more = (absent)",
    ))
    .await;
}

#[tokio::test]
async fn the_record_folder_gets_one_scrubbed_file_per_probed_note() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let report = probe_mock(
            config()
                .next_style(NextStyle::Absolute)
                .null_quantities(true),
            Some(dir.path()),
        )
        .await;
        let mut files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut wanted: Vec<String> = PROBED.iter().map(|id| format!("{id}.json")).collect();
        wanted.sort();
        assert_eq!(files, wanted);
        for name in &files {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(!text.contains(TOKEN), "{name} holds the token");
            assert!(!text.contains("127.0.0.1"), "{name} holds the host: {text}");
        }
        let next: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("next-link-form.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(next["verdict"], "confirmed");
        assert!(
            next["evidence"][0]["excerpt"]["next"]
                .as_str()
                .unwrap()
                .starts_with("http://example.shipstream.app/api/global/v1/"),
            "{next:#}"
        );
        let nulls: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("quantities-never-null.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(nulls["verdict"], "refuted");
        assert_eq!(nulls["evidence"][0]["status"], 200);
        assert_eq!(report.judged(Verdict::Refuted).count(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_rate_limited_instance_is_waited_out_and_the_retries_are_counted() {
    within(async {
        let report = probe_mock(config().rate_limit(4.0, 4), None).await;
        assert_eq!(report.verdicts(), expected(&[]));
        assert!(
            report.requests > 15,
            "some requests got a 429 and were sent again: {}",
            report.requests
        );
    })
    .await;
}
