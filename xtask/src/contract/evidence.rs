//! Reading the peers' output: what counts as evidence that a peer ran enough cases and
//! reported a plant for its reason.

use super::*;

/// The minimum number of pages the facade must read from a Prism mock.
pub(super) const MIN_PRISM_PAGES: usize = 12;

/// The minimum number of schemathesis test cases of a full (not planted) run.
pub(super) const MIN_SCHEMATHESIS_CASES: u64 = 100;

/// The minimum number of schemathesis test cases of any run (planted runs stop early).
pub(super) const MIN_PLANTED_CASES: u64 = 3;

/// The number in schemathesis' summary line `N generated, ...` (0 when absent).
pub fn schemathesis_cases(text: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.trim().split_once(" generated"))
        .filter_map(|(n, _)| n.trim().parse().ok())
        .next_back()
        .unwrap_or(0)
}

/// The text of each `<failure>` element of a JUnit report (XML entities left as they are).
pub fn junit_failures(report: &str) -> Vec<String> {
    report
        .split("<failure")
        .skip(1)
        .filter_map(|f| f.split_once('>'))
        .map(|(head, rest)| {
            let body = rest.split("</failure>").next().unwrap_or_default();
            format!("{head}> {body}")
        })
        .collect()
}

/// Prism's own answer (`--errors`) to a response of the upstream that violates the spec:
/// a problem document of type `https://stoplight.io/prism/errors#VIOLATIONS` whose
/// `validation` has a response-body location ending in `member`.
pub fn prism_response_violation(status: u16, body: &str, member: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(body).ok()?;
    let own = doc["type"].as_str() == Some("https://stoplight.io/prism/errors#VIOLATIONS");
    let found = doc["validation"].as_array()?.iter().find(|e| {
        let loc = e["location"].as_array();
        loc.is_some_and(|l| {
            l.first().and_then(|v| v.as_str()) == Some("response")
                && l.last().and_then(|v| v.as_str()) == Some(member)
        })
    })?;
    own.then(|| {
        format!(
            "Prism answered {status} itself: {}",
            clip(&found.to_string(), 300)
        )
    })
}

/// Prism's own answer to a request that violates the spec: a 422 problem document of type
/// `https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY` whose `validation` names the
/// query parameter `param`. `None` when the answer is anything else (the mock's own 400,
/// say).
pub fn prism_request_violation(status: u16, body: &str, param: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(body).ok()?;
    let own = doc["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("https://stoplight.io/prism/errors#"));
    let names = doc["validation"].as_array().is_some_and(|v| {
        v.iter()
            .any(|e| e["location"] == serde_json::json!(["query", param]))
    });
    (status == 422 && own && names).then(|| {
        format!(
            "Prism answered 422 itself: {}",
            clip(&doc["validation"].to_string(), 300)
        )
    })
}

/// The gist of what a peer reported: the first line, and the first line that names the
/// failed check, if another.
pub(super) fn headline(evidence: &[String]) -> String {
    let first = evidence
        .first()
        .and_then(|e| e.lines().next())
        .unwrap_or_default();
    let named = evidence.iter().flat_map(|e| e.lines()).find(|l| {
        l.trim_start().starts_with("- ST")
            || l.contains("cannot read Prism")
            || l.contains("must be")
            || l.contains("not valid")
    });
    let mut out = clip(first, 160);
    if let Some(n) = named.filter(|n| *n != first) {
        out.push_str(" | ");
        out.push_str(&clip(n.trim(), 240));
    }
    out
}

/// The lines of a Prism log that report a violation or an error.
pub fn violations(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            let lower = l.to_lowercase();
            lower.contains("violation") || l.contains('✖') || lower.contains(" error ")
        })
        .map(|l| clip(l.trim(), 400))
        .collect()
}

/// The `name="N"` attribute of the JUnit report's root element (0 when absent).
pub fn junit_count(report: &str, name: &str) -> u64 {
    let root = report
        .find("<testsuites")
        .or_else(|| report.find("<testsuite"))
        .map(|i| &report[i..])
        .and_then(|s| s.split_once('>').map(|(head, _)| head))
        .unwrap_or_default();
    let key = format!(" {name}=\"");
    root.find(&key)
        .map(|i| &root[i + key.len()..])
        .and_then(|s| s.split_once('"'))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

/// The FAILURES section of schemathesis's output, else its tail.
pub(super) fn failure_section(text: &str) -> String {
    match text.find("FAILURES") {
        Some(i) => text[i..].to_owned(),
        None => tail(text),
    }
}

pub(super) fn panic_lines(text: &str) -> String {
    let keep: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("panicked") || l.starts_with("page ") || l.contains("cannot"))
        .collect();
    if keep.is_empty() {
        tail(text)
    } else {
        keep.join("\n")
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
pub fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Every value of `page` (a 200 body of the levels operation) that an *open* enum of
/// `spec` does not list, one line each. "Unknown values of open enums pass Prism" is shown
/// only by a page that carries some: an empty list means the check tested nothing.
pub fn new_enum_values(spec: &serde_json::Value, page: &serde_json::Value) -> Result<Vec<String>> {
    Ok(crate::drift::page_drift(spec, page)?
        .into_iter()
        .filter(|f| matches!(f.kind, crate::conformance::Kind::NewEnumValue { .. }))
        .map(|f| f.to_string())
        .collect())
}

/// [`new_enum_values`], an error when there are none.
pub(super) fn ensure_new_enum_values(
    spec: &serde_json::Value,
    page: &serde_json::Value,
) -> Result<Vec<String>> {
    let found = new_enum_values(spec, page)?;
    ensure!(
        !found.is_empty(),
        "the page that passed the Prism proxy carried no value the spec's open enums do not \
         list: the open-enum check proved nothing"
    );
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::contract::schemathesis::SchemathesisRun;

    #[test]
    fn an_open_enum_check_needs_a_value_the_spec_does_not_list() {
        use serde_json::json;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let spec = crate::spec::load(&root.join("openapi.yaml")).unwrap();
        let mut page = spec["components"]["examples"]["ReferencePage"]["value"].clone();
        assert!(page["included"]["Product"][0].is_object());
        // Only values the spec lists: nothing was tested.
        let err = ensure_new_enum_values(&spec, &page).unwrap_err();
        assert!(err.to_string().contains("proved nothing"), "{err}");
        // A goods type no spec lists (not even a drilled copy): found, by path.
        page["included"]["Product"][0]["goods_type"] = json!("NEVER_PLANTED_GOODS_TYPE_7");
        let found = ensure_new_enum_values(&spec, &page).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(
                "$.included.Product[0].goods_type: value \"NEVER_PLANTED_GOODS_TYPE_7\""
            ),
            "{found:?}"
        );
    }

    #[test]
    fn prism_log_lines_that_fail() {
        let log = "[10:33:48 AM] › [HTTP SERVER] get /x ℹ  info      Request received\n\
                   [10:33:48 AM] ›     [PROXY] ℹ  info      > Forwarding \"get\" request\n\
                   [10:33:58 AM] › [HTTP SERVER] get /x ✖  error     Request terminated with error: VIOLATIONS\n\
                   [10:33:58 AM] ›     [VALIDATOR] ⚠  warning   Violation: response.body.x must be integer\n";
        let found = violations(log);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(violations("info Forwarding\nsuccess The request passed").is_empty());
    }

    #[test]
    fn json_numbers_compare_by_value() {
        use serde_json::json;
        assert!(same_json(
            &json!({"a": [1, 2.5]}),
            &json!({"a": [1.0, 2.5]})
        ));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 2})));
        assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!same_json(&json!([1]), &json!(["1"])));
    }

    #[test]
    fn junit_counts() {
        let report = r#"<?xml version="1.0"?><testsuites disabled="0" errors="0" failures="2" tests="1" time="5.1"><testsuite name="schemathesis" errors="0" failures="2"></testsuite></testsuites>"#;
        assert_eq!(junit_count(report, "failures"), 2);
        assert_eq!(junit_count(report, "errors"), 0);
        assert_eq!(junit_count(report, "tests"), 1);
        assert_eq!(junit_count("", "failures"), 0);
    }

    #[test]
    fn prism_request_violations_must_be_prisms_own_and_name_the_parameter() {
        let prism = r#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","title":"Invalid request","status":422,"validation":[{"location":["query","limit"],"severity":"Error","code":"maximum","message":"must be <= 10"}]}"#;
        assert!(prism_request_violation(422, prism, "limit").is_some());
        assert!(prism_request_violation(422, prism, "sort").is_none());
        assert!(prism_request_violation(400, prism, "limit").is_none());
        // The mock's own refusal is not Prism's finding.
        let mock = r#"{"type":"application","message":"limit: must be at most 1000","errors":[]}"#;
        assert!(prism_request_violation(400, mock, "limit").is_none());
        assert!(prism_request_violation(422, mock, "limit").is_none());
    }

    #[test]
    fn prism_response_violations_name_the_member() {
        let body = r#"{"type":"https://stoplight.io/prism/errors#VIOLATIONS","validation":[{"location":["response","body","collection","3","type"],"code":"enum","message":"must be equal to one of the allowed values"}]}"#;
        assert!(prism_response_violation(500, body, "type").is_some());
        assert!(prism_response_violation(500, body, "sku").is_none());
        let other = r#"{"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","validation":[{"location":["response","body","type"]}]}"#;
        assert!(prism_response_violation(422, other, "type").is_none());
        assert!(prism_response_violation(200, r#"{"collection":[]}"#, "type").is_none());
    }

    #[test]
    fn schemathesis_findings_are_read_from_its_report() {
        let text = "Test cases:\n  8 generated, 1 found 1 unique failure, 2 skipped\n";
        assert_eq!(schemathesis_cases(text), 8);
        assert_eq!(schemathesis_cases("nothing"), 0);
        let report = r#"<testsuites failures="1"><testcase name="x"><failure type="failure" message="ST108">1. Test Case ID: a
- ST108 Response violates schema
    Schema at /components/schemas/TotalLevel/properties/qty_on_hand:
</failure></testcase></testsuites>"#;
        let run = SchemathesisRun {
            success: false,
            failures: 1,
            cases: 8,
            report: report.into(),
            text: String::new(),
            log: PathBuf::new(),
            junit: PathBuf::new(),
        };
        assert_eq!(
            run.schema_violations("/components/schemas/TotalLevel/properties/qty_on_hand")
                .len(),
            1
        );
        assert!(
            run.schema_violations("/components/schemas/TotalLevel/properties/type")
                .is_empty()
        );
        assert!(
            run.schema_violations("/components/schemas/TotalLevel/properties/qty")
                .is_empty()
        );
    }
}
