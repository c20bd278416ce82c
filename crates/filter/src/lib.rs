//! The filter grammar of ShipStream's Global API (`filter=` query parameters): parse, render,
//! validate against the inventory levels endpoint's fields, and evaluate (for a mock server).
//!
//! ```
//! use serde_json::json;
//! use shipstream_filter::{Condition, Filter};
//!
//! // Build and render (the SDK side). The text is not URL-encoded.
//! let low = Filter::all("qty_available", [Condition::lt(10)]);
//! assert_eq!(low.to_string(), "qty_available{lt:10}");
//! assert_eq!(Filter::equals("sku", "ABC123").render(), "sku:ABC123");
//!
//! // Parse, validate and evaluate (the CLI / mock side).
//! let f = Filter::parse_validated(r#"product_name[{start:"Box of"},{end:"CASE"}]"#)?;
//! assert!(f.matches(&json!("Box of 12 pens")));
//! assert!(!f.matches(&json!("Single pen")));
//! assert_eq!(f, f.render().parse::<Filter>()?);
//!
//! // Errors point at the problem.
//! let err = Filter::parse("qty_available{foo:1}").unwrap_err();
//! assert_eq!(err.column(), 15);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Grammar
//!
//! One `filter=` value (after URL-decoding) is a field name `[a-z_][a-z0-9_]*` followed
//! directly (no whitespace) by one of:
//!
//! * `:value` — the **basic form**, "field equals value" ([`Expr::Equals`]). The value is the
//!   verbatim rest of the string: `true`/`false` become [`Value::Bool`], an integer written
//!   canonically (`5`, `-5`, not `+5` or `05`) becomes [`Value::Int`], anything else is a
//!   [`Value::String`] with no unescaping (`sku:ABC123`, `product_name:Box of 12`).
//! * `{op:value,...}` — a JSON5 object of conditions that must all hold ([`Expr::All`]):
//!   `qty_available{lt:10}`, `id{gt:15,lt:50}`.
//! * `[{...},{...}]` — a JSON5 array of such objects, any of which may hold
//!   ([`Expr::Any`]): `id[{lt:15},{gt:50}]`, `weight[{gt:1,lt:50},{null:true}]`.
//!
//! Inside the JSON5 part: operator keys are unquoted identifiers or quoted strings (see
//! [`Op`]; an unknown operator is a parse error pointing at it); values are `null`, `true`,
//! `false`, integers (`i64`, also `0x1F`, `+5`), finite decimals (`1.5`, `.5`, `5.`, `1e3`),
//! strings in double or single quotes, and `[lists]` of values. Strings accept the escapes
//! `\" \' \\ \/ \b \f \n \r \t \v \0 \xHH \uXXXX` (surrogate pairs combine) and JSON5 line
//! continuations; other escapes, raw line breaks, leading zeros, `Infinity`/`NaN` and JSON5
//! comments are rejected. Whitespace is allowed between tokens and after the value, and
//! trailing commas are allowed. `key{}` and `key[]` parse, but fail [`Filter::validate`].
//!
//! # Rendering
//!
//! [`Filter::render`] (= [`Display`](std::fmt::Display)) writes canonical, whitespace-free
//! text: unquoted operators, strings always in double quotes with only `"`, `\` and control
//! characters escaped (`\n`, `\r`, `\t`, else `\uXXXX`; also U+2028/U+2029), floats in the
//! shortest form that reads back to the same `f64` (always with `.` or an exponent), e.g.
//! `sku{in:["A","B"]}`. For every filter `f` that [`Filter::parse`] returns,
//! `Filter::parse(&f.render()) == Ok(f)`. Non-finite floats have no spelling and render as
//! `null`. [`Expr::Equals`] renders in the basic form only when it reads back identically,
//! otherwise as `field{eq:value}` (which reads back as [`Expr::All`]);
//! [`Filter::equals`] chooses the form for you.
//!
//! # Validation
//!
//! [`Filter::validate`] checks a filter against the [`fields`] catalogue of
//! `GET /api/global/v1/inventory/levels/total`; [`Filter::parse_validated`] does both and
//! reports validation errors with a position.
//!
//! # Evaluation semantics (mock server)
//!
//! [`Filter::matches`] tests a record's value for the field (`null` when absent). The
//! public docs do not spell these semantics out; they are the mock's **assumptions**:
//!
//! * `eq` / `neq` compare by type. Numbers compare numerically (`5` equals `5.0`); strings
//!   compare exactly (case-sensitive), except that two timestamps compare as instants.
//!   A number or boolean operand against a string value compares as text (`sku:123` matches
//!   `"123"`, `sku:true` matches `"true"`); a string operand against a number value is
//!   parsed as a number (`product_id{eq:"5"}` matches `5`). `neq` is the negation of `eq`,
//!   so it also matches missing values.
//! * `gt` / `gteq` / `lt` / `lteq`: numbers numerically (a string operand or value that
//!   parses as a number counts as one); strings chronologically when both sides parse as
//!   timestamps (for timestamp fields and fields not in the catalogue), otherwise by byte
//!   order. Anything else (null, booleans, mismatched types) never matches.
//! * `null:true` matches `null`, a missing value and an empty array; `null:false` the rest.
//!   A non-boolean `null` operand never matches.
//! * `start` / `end`: case-sensitive prefix / suffix of the value's text (numbers and
//!   booleans use their JSON text). Never matches null.
//! * `in` matches when `eq` holds for some item; `nin` is its negation. A non-list operand
//!   acts as a one-item list.
//! * A JSON array value (e.g. several barcodes) matches a positive condition when any
//!   element does; `neq` / `nin` match when no element is equal / in the list.
//! * `{}` matches everything, `[]` nothing.
//! * Timestamps: RFC 3339, ISO-8601 without offset (taken as UTC), or a date alone
//!   (midnight UTC).

#![deny(missing_docs)]

mod ast;
mod error;
mod eval;
pub mod fields;
mod parse;
mod render;
mod validate;

pub use ast::{Condition, Expr, Filter, Op, UnknownOp, Value};
pub use error::{FilterError, ParseError, ParseErrorKind, ValidationError, ValidationErrorKind};
pub use fields::{FieldKind, FieldSpec};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
