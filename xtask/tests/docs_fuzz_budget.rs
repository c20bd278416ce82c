//! The documents state the fuzzing budget of `cargo xtask ci` as "N s each" (RELIABILITY.md
//! twice, README.md once): every such figure must be `fuzz::CI_SECONDS`, so that a change
//! of the constant cannot leave the documents behind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;

use xtask::{fuzz, root};

/// Every figure written "N s each" in `text`, with its line number.
fn budgets(text: &str) -> Vec<(usize, u64)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(" s each") {
            let digits: String = line[..at]
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.chars().rev().collect::<String>().parse() {
                found.push((number + 1, n));
            }
        }
    }
    found
}

#[test]
fn the_documents_state_the_fuzzing_budget_of_ci() {
    for (document, at_least) in [("RELIABILITY.md", 2), ("README.md", 1)] {
        let text = fs::read_to_string(root().join(document)).unwrap();
        let found = budgets(&text);
        assert!(
            found.len() >= at_least,
            "{document} no longer states the fuzzing budget as \"N s each\" ({found:?})"
        );
        for (line, seconds) in found {
            assert_eq!(
                seconds,
                fuzz::CI_SECONDS,
                "{document}:{line} says {seconds} s each, `cargo xtask ci` fuzzes {} s a target",
                fuzz::CI_SECONDS
            );
        }
    }
}

#[test]
fn a_figure_other_than_the_constant_is_found() {
    let planted = "run for 30 s each in CI\n# (CI: 20 s each); and 120 s of other things";
    assert_eq!(budgets(planted), [(1, 30), (2, 20)]);
}
