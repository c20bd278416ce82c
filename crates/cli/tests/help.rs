//! `--help` texts are part of the interface: snapshot them. The lists the help takes from
//! the spec (sort keys, field names) are checked against the spec and left out of the
//! snapshots, so the snapshots change when the wording does, not when the API gains a
//! field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use shipstream_inventory::api;

/// `text` with every list that follows one of `markers` replaced, to the end of its
/// paragraph (a longer list wraps the rest differently), by `<the spec's values>`, after
/// checking that the list (up to ` [API default`, if any) is exactly the spec's.
fn redact_spec_lists(text: &str) -> String {
    let lists: [(&str, Vec<&str>); 3] = [
        ("`-` for descending: ", api::SORT_KEYS.to_vec()),
        (
            "Optional level fields to add, comma separated: ",
            api::params::FIELDS.values.to_vec(),
        ),
        (
            "Product fields to include with each level, comma separated: ",
            api::params::FIELDS_PRODUCT.values.to_vec(),
        ),
    ];
    let mut out = text.to_owned();
    for (marker, expected) in lists {
        let Some(start) = out.find(marker).map(|i| i + marker.len()) else {
            continue;
        };
        let rest = &out[start..];
        // The paragraph ends at a blank line (clap indents it: spaces only).
        let mut end = rest.len();
        let mut at = 0;
        for line in rest.split_inclusive('\n') {
            if at > 0 && line.trim().is_empty() {
                end = at - 1;
                break;
            }
            at += line.len();
        }
        let list_end = rest[..end].find(" [API default").unwrap_or(end);
        let listed: Vec<String> = rest[..list_end]
            .split(',')
            .map(|v| v.split_whitespace().collect::<String>())
            .collect();
        assert_eq!(listed, expected, "the help's list after {marker:?}");
        out.replace_range(start..start + end, "<the spec's values>");
    }
    out
}

fn help(args: &[&str]) -> String {
    let out = common::cli().args(args).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn root_help() {
    let text = help(&["--help"]);
    assert!(text.contains("Exit codes:"));
    insta::assert_snapshot!("root_help", text);
}

#[test]
fn levels_help() {
    let text = help(&["levels", "--help"]);
    for flag in [
        "--filter <EXPR>",
        "--sort <SPEC>",
        "--fields <LIST>",
        "--product-fields <LIST>",
        "--page-size <N>",
        "--max-items <N>",
        "--count",
        "--updated-since <RFC3339>",
        "--format <FORMAT>",
        "--output <FILE>",
        "--checkpoint <FILE>",
        "--demo",
        "--url <URL>",
        "--api-version <YYYY-MM>",
        "--token-file <PATH>",
        "Exit codes:",
    ] {
        assert!(text.contains(flag), "{flag} missing from levels --help");
    }
    assert!(!text.contains("--token "), "the token is never a flag");
    insta::assert_snapshot!("levels_help", redact_spec_lists(&text));
}

#[test]
fn mock_help() {
    let text = help(&["mock", "--help"]);
    for flag in [
        "--host <HOST>",
        "--port <PORT>",
        "--products <N>",
        "--seed <N>",
        "--token <T>",
        "--fault <SPEC>",
        "--next-style <STYLE>",
        "--latency <MS>",
        "--mutate <RATE>",
        "--mutate-for <SECS>",
        "--delete-share <SHARE>",
        "--clock-skew <SECS>",
    ] {
        assert!(text.contains(flag), "{flag} missing from mock --help");
    }
    insta::assert_snapshot!("mock_help", text);
}

#[test]
fn sync_help() {
    let text = help(&["sync", "--help"]);
    for flag in [
        "--db <PATH|URL>",
        "--full",
        "--reconcile",
        "--reconcile-every <DURATION>",
        "--parallel <N>",
        "--page-size <N>",
        "--lookback <SECS>",
        "--demo",
        "--url <URL>",
        "--api-version <YYYY-MM>",
        "--token-file <PATH>",
        "Exit codes:",
    ] {
        assert!(text.contains(flag), "{flag} missing from sync --help");
    }
    assert!(!text.contains("--token "), "the token is never a flag");
    insta::assert_snapshot!("sync_help", redact_spec_lists(&text));
}

#[test]
fn short_help_and_version() {
    let text = help(&["levels", "-h"]);
    assert!(text.contains("--filter"));
    let version = help(&["--version"]);
    assert!(version.starts_with("shipstream-inventory "), "{version}");
}
