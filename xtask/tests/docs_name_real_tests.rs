//! RELIABILITY.md proves each guarantee by naming tests. A test that was renamed, moved or
//! removed leaves a claim with nothing behind it, so every test the document names must
//! exist where it says: `path/to/file.rs::name` in that file, `::name` in the last file
//! named before it on the same line, a name after "`file.rs` unit tests" in that file, and
//! a bare test name somewhere in the workspace's Rust sources.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{fs, path::Path};

use xtask::root;

/// Whether `text` (Rust source) defines a function `name`.
fn defines(text: &str, name: &str) -> bool {
    text.match_indices(&format!("fn {name}"))
        .any(|(i, m)| !text[i + m.len()..].starts_with(|c: char| c == '_' || c.is_alphanumeric()))
}

/// Every `.rs` file under `dir`, skipping build output.
fn rust_files(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | ".tools" | "node_modules") {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

/// A snake_case name with at least two underscores: how this project names its tests
/// (`a_repeated_next_is_an_error_not_a_loop`), unlike the other code spans of the document.
fn looks_like_a_test_name(s: &str) -> bool {
    s.matches('_').count() >= 2
        && s.chars()
            .all(|c| c == '_' || c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// Every test `document` names that does not exist, as `(line, name, where it was looked
/// for)`.
fn missing_tests(root: &Path, document: &str) -> Vec<(usize, String, String)> {
    let mut everything = Vec::new();
    rust_files(root, &mut everything);
    let everything = everything.join("\n");
    let mut missing = Vec::new();
    for (number, line) in document.lines().enumerate() {
        let mut file: Option<String> = None;
        for (k, span) in line.split('`').enumerate() {
            if k % 2 == 0 {
                continue; // outside a code span
            }
            let (path, name) = match span.split_once("::") {
                Some((path, name)) if path.ends_with(".rs") => (Some(path.to_owned()), name),
                Some(("", name)) => (file.clone(), name),
                Some(_) => continue, // a Rust path such as `Client::resume`
                None if span.ends_with(".rs") => {
                    file = Some(span.to_owned());
                    continue;
                }
                None => (None, span),
            };
            if let Some(p) = &path {
                file = Some(p.clone());
            }
            if !looks_like_a_test_name(name) {
                continue;
            }
            // A file named right before ("`limit.rs` `name`", "`x.rs` unit tests `a`, `b`")
            // is where the test lives; a bare name is looked for everywhere.
            let (found, place) = match path.or_else(|| file.clone()) {
                Some(p) => {
                    let candidates = [root.join(&p), root.join("crates/inventory/src").join(&p)];
                    match candidates.iter().find(|c| c.is_file()) {
                        Some(c) => (defines(&fs::read_to_string(c).unwrap(), name), p),
                        None => (false, format!("{p} (no such file)")),
                    }
                }
                None => (defines(&everything, name), "the workspace".to_owned()),
            };
            if !found {
                missing.push((number + 1, name.to_owned(), place));
            }
        }
    }
    missing
}

#[test]
fn every_test_reliability_md_names_exists() {
    let root = root();
    let document = fs::read_to_string(root.join("RELIABILITY.md")).unwrap();
    let missing = missing_tests(&root, &document);
    assert!(
        missing.is_empty(),
        "RELIABILITY.md names tests that do not exist (line, test, where):\n{missing:#?}"
    );
}

#[test]
fn a_renamed_test_is_caught() {
    let root = root();
    let planted = "| x | `crates/inventory/tests/paging.rs::a_test_that_was_renamed_away`, \
                   `::a_repeated_next_is_an_error_not_a_loop`; `crates/inventory/src/limit.rs` \
                   unit tests `another_test_that_never_was` |\n\
                   and in prose `a_bare_test_name_nowhere` |";
    let names: Vec<String> = missing_tests(&root, planted)
        .into_iter()
        .map(|(_, name, _)| name)
        .collect();
    assert_eq!(
        names,
        [
            "a_test_that_was_renamed_away",
            "another_test_that_never_was",
            "a_bare_test_name_nowhere"
        ]
    );
}
