//! `--help` texts are part of the interface: snapshot them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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
    insta::assert_snapshot!("levels_help", text);
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
    ] {
        assert!(text.contains(flag), "{flag} missing from mock --help");
    }
    insta::assert_snapshot!("mock_help", text);
}

#[test]
fn short_help_and_version() {
    let text = help(&["levels", "-h"]);
    assert!(text.contains("--filter"));
    let version = help(&["--version"]);
    assert!(version.starts_with("shipstream-inventory "), "{version}");
}
