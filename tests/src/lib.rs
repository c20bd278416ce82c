//! Cross-crate contract tests live in `tests/tests/`.
