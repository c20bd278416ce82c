//! Evaluating a filter against a record's JSON value (for the mock server).
//!
//! The semantics are documented in the crate docs, section "Evaluation semantics".

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value as Json;

use crate::ast::{Condition, Expr, Filter, Op, Value};
use crate::fields::{self, FieldKind};

impl Filter {
    /// Whether a record whose value for [`Filter::field`] is `value` passes the filter
    /// (pass [`serde_json::Value::Null`] when the record has no such value).
    ///
    /// The field's [`FieldKind`] (from [`fields::lookup`]) decides whether strings may compare
    /// as timestamps; see the [crate docs](crate#evaluation-semantics-mock-server) for the
    /// assumed semantics.
    ///
    /// ```
    /// use serde_json::json;
    /// use shipstream_filter::Filter;
    ///
    /// let f: Filter = "qty_available{lt:10}".parse().unwrap();
    /// assert!(f.matches(&json!(3)));
    /// assert!(!f.matches(&json!(10)));
    /// assert!(!f.matches(&json!(null)));
    ///
    /// let f: Filter = r#"updated_at{gt:"2025-08-28T10:30:00Z"}"#.parse().unwrap();
    /// assert!(f.matches(&json!("2025-08-28T12:30:00+01:00")));
    /// ```
    pub fn matches(&self, value: &Json) -> bool {
        self.expr
            .matches(value, fields::lookup(&self.field).map(|s| s.kind))
    }
}

impl Expr {
    /// Whether `value` passes this expression; `kind` is the field's kind if known.
    pub fn matches(&self, value: &Json, kind: Option<FieldKind>) -> bool {
        let ctx = Ctx::new(kind);
        match self {
            Expr::Equals(v) => cond(Op::Eq, v, value, ctx),
            Expr::All(conds) => all(conds, value, ctx),
            Expr::Any(groups) => groups.iter().any(|g| all(g, value, ctx)),
        }
    }
}

impl Condition {
    /// Whether `value` passes this condition; `kind` is the field's kind if known.
    pub fn matches(&self, value: &Json, kind: Option<FieldKind>) -> bool {
        cond(self.op, &self.value, value, Ctx::new(kind))
    }
}

#[derive(Clone, Copy)]
struct Ctx {
    /// Whether two strings that both parse as timestamps compare as instants.
    timestamps: bool,
}

impl Ctx {
    fn new(kind: Option<FieldKind>) -> Self {
        Ctx {
            timestamps: matches!(kind, None | Some(FieldKind::Timestamp)),
        }
    }
}

fn all(conds: &[Condition], rec: &Json, ctx: Ctx) -> bool {
    conds.iter().all(|c| cond(c.op, &c.value, rec, ctx))
}

fn cond(op: Op, fv: &Value, rec: &Json, ctx: Ctx) -> bool {
    if op == Op::Null {
        return match fv {
            Value::Bool(b) => is_null(rec) == *b,
            _ => false,
        };
    }
    if let Json::Array(items) = rec {
        return match op {
            Op::Neq => !items.iter().any(|r| eq(fv, r, ctx)),
            Op::Nin => !items.iter().any(|r| member(fv, r, ctx)),
            _ => items.iter().any(|r| cond(op, fv, r, ctx)),
        };
    }
    let ord = || compare(rec, fv, ctx);
    match op {
        Op::Eq => eq(fv, rec, ctx),
        Op::Neq => !eq(fv, rec, ctx),
        Op::Gt => ord() == Some(Ordering::Greater),
        Op::Gteq => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
        Op::Lt => ord() == Some(Ordering::Less),
        Op::Lteq => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
        Op::Start => texts(rec, fv).is_some_and(|(r, s)| r.starts_with(&s)),
        Op::End => texts(rec, fv).is_some_and(|(r, s)| r.ends_with(&s)),
        Op::In => member(fv, rec, ctx),
        Op::Nin => !member(fv, rec, ctx),
        Op::Null => false,
    }
}

fn is_null(rec: &Json) -> bool {
    match rec {
        Json::Null => true,
        Json::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn member(fv: &Value, rec: &Json, ctx: Ctx) -> bool {
    match fv {
        Value::List(items) => items.iter().any(|item| eq(item, rec, ctx)),
        other => eq(other, rec, ctx),
    }
}

fn eq(fv: &Value, rec: &Json, ctx: Ctx) -> bool {
    match (fv, rec) {
        (Value::Null, Json::Null) => true,
        (Value::Bool(b), Json::Bool(r)) => b == r,
        (Value::Bool(b), Json::String(r)) => r == bool_text(*b),
        (Value::String(s), Json::Bool(b)) => s == bool_text(*b),
        (Value::Int(_) | Value::Float(_), Json::Number(_))
        | (Value::String(_), Json::Number(_)) => compare(rec, fv, ctx) == Some(Ordering::Equal),
        (Value::Int(_) | Value::Float(_), Json::String(r)) => {
            scalar_text(fv).is_some_and(|t| t == *r)
        }
        (Value::String(s), Json::String(r)) => {
            s == r
                || (ctx.timestamps
                    && matches!((parse_timestamp(s), parse_timestamp(r)), (Some(a), Some(b)) if a == b))
        }
        _ => false,
    }
}

/// How `rec` orders relative to the operand `fv`, if they are comparable.
fn compare(rec: &Json, fv: &Value, ctx: Ctx) -> Option<Ordering> {
    match (rec, fv) {
        (Json::Number(n), _) => cmp_num(json_num(n)?, value_num(fv)?),
        (Json::String(r), Value::String(s)) => {
            if ctx.timestamps
                && let (Some(a), Some(b)) = (parse_timestamp(r), parse_timestamp(s))
            {
                return Some(a.cmp(&b));
            }
            Some(r.as_str().cmp(s.as_str()))
        }
        (Json::String(r), Value::Int(_) | Value::Float(_)) => {
            cmp_num(parse_num(r)?, value_num(fv)?)
        }
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum Num {
    I(i128),
    F(f64),
}

fn cmp_num(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::I(a), Num::I(b)) => Some(a.cmp(&b)),
        (Num::I(a), Num::F(b)) => (a as f64).partial_cmp(&b),
        (Num::F(a), Num::I(b)) => a.partial_cmp(&(b as f64)),
        (Num::F(a), Num::F(b)) => a.partial_cmp(&b),
    }
}

fn json_num(n: &serde_json::Number) -> Option<Num> {
    if let Some(i) = n.as_i64() {
        Some(Num::I(i128::from(i)))
    } else if let Some(u) = n.as_u64() {
        Some(Num::I(i128::from(u)))
    } else {
        n.as_f64().map(Num::F)
    }
}

fn value_num(v: &Value) -> Option<Num> {
    match v {
        Value::Int(i) => Some(Num::I(i128::from(*i))),
        Value::Float(f) => Some(Num::F(*f)),
        Value::String(s) => parse_num(s),
        _ => None,
    }
}

fn parse_num(s: &str) -> Option<Num> {
    if let Ok(i) = s.parse::<i128>() {
        return Some(Num::I(i));
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite()).map(Num::F)
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The text of a scalar operand (`5`, `1.5`, `true`, or the string itself).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(v.to_string()),
        Value::Null | Value::List(_) => None,
    }
}

/// The record's text and the operand's text, for `start` / `end`.
fn texts(rec: &Json, fv: &Value) -> Option<(String, String)> {
    let r = match rec {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => bool_text(*b).to_owned(),
        _ => return None,
    };
    Some((r, scalar_text(fv)?))
}

/// Parses an RFC 3339 / ISO-8601 timestamp. Without an offset it is taken as UTC; a date
/// alone is midnight UTC.
pub(crate) fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::{Value as Json, json};

    use super::parse_timestamp;
    use crate::{Condition, Expr, FieldKind, Filter};

    fn f(s: &str) -> Filter {
        Filter::parse(s).unwrap()
    }

    fn yes(filter: &str, values: &[Json]) {
        let flt = f(filter);
        for v in values {
            assert!(flt.matches(v), "{filter} should match {v}");
        }
    }

    fn no(filter: &str, values: &[Json]) {
        let flt = f(filter);
        for v in values {
            assert!(!flt.matches(v), "{filter} should not match {v}");
        }
    }

    #[test]
    fn equals_basic_form() {
        yes("sku:ABC123", &[json!("ABC123"), json!(["X", "ABC123"])]);
        no(
            "sku:ABC123",
            &[json!("abc123"), json!("ABC1234"), json!(null), json!([])],
        );
        yes("sku:123", &[json!("123")]);
        no("sku:123", &[json!("0123")]);
        yes("is_enabled:true", &[json!(true)]);
        no(
            "is_enabled:true",
            &[json!(false), json!(null), json!("TRUE"), json!(1)],
        );
        yes("sku:true", &[json!("true")]);
        yes("product_id:5", &[json!(5), json!(5.0)]);
        no("product_id:5", &[json!(6), json!("x")]);
        yes("qty_available:1.0", &[json!(1)]);
    }

    #[test]
    fn eq_and_neq() {
        yes(r#"product_id{eq:"5"}"#, &[json!(5)]);
        yes("weight{eq:2.5}", &[json!(2.5)]);
        yes("sku{eq:null}", &[json!(null)]);
        yes(
            r#"updated_at{eq:"2025-08-28T10:30:00Z"}"#,
            &[json!("2025-08-28T12:30:00+02:00")],
        );
        // Timestamps only compare as instants on timestamp (or unknown) fields.
        no(
            r#"sku{eq:"2025-08-28T10:30:00Z"}"#,
            &[json!("2025-08-28T12:30:00+02:00")],
        );
        yes(
            "sku{neq:\"A\"}",
            &[json!("B"), json!(null), json!(["B", "C"])],
        );
        no("sku{neq:\"A\"}", &[json!("A"), json!(["B", "A"])]);
    }

    #[test]
    fn ordering() {
        yes(
            "qty_available{lt:10}",
            &[json!(9), json!(-1), json!(9.5), json!("3")],
        );
        no(
            "qty_available{lt:10}",
            &[json!(10), json!(11), json!(null), json!(true), json!("x")],
        );
        yes("id{gt:15,lt:50}", &[json!(16), json!(49)]);
        no("id{gt:15,lt:50}", &[json!(15), json!(50)]);
        yes("id{gteq:15,lteq:50}", &[json!(15), json!(50)]);
        yes("id{gt:1.5}", &[json!(2)]);
        yes(r#"id{gt:"15"}"#, &[json!(16)]);
        yes("n{gt:9223372036854775807}", &[json!(u64::MAX)]);
        yes(
            r#"updated_at{gt:"2025-08-28T10:30:00Z"}"#,
            &[
                json!("2025-08-28T10:30:01Z"),
                json!("2025-08-28T11:00:00+00:29"),
            ],
        );
        no(
            r#"updated_at{gt:"2025-08-28T10:30:00Z"}"#,
            &[
                json!("2025-08-28T10:30:00Z"),
                json!("2025-08-28T11:00:00+00:30"),
                json!(null),
            ],
        );
        yes(
            r#"updated_at{lt:"2025-08-29"}"#,
            &[json!("2025-08-28T23:59:59Z")],
        );
        // Strings that are not timestamps order by bytes.
        yes(r#"sku{gt:"B"}"#, &[json!("C"), json!("b")]);
        no(r#"sku{gt:"B"}"#, &[json!("A"), json!("B")]);
    }

    #[test]
    fn or_of_ands() {
        let any = "weight[{gt:1,lt:50},{null:true}]";
        yes(any, &[json!(2), json!(null), json!([])]);
        no(any, &[json!(1), json!(50)]);
        yes("id[{lt:15},{gt:50}]", &[json!(1), json!(51)]);
        no("id[{lt:15},{gt:50}]", &[json!(15), json!(30)]);
        assert!(f("id{}").matches(&json!(1)));
        assert!(!f("id[]").matches(&json!(1)));
    }

    #[test]
    fn null_operator() {
        yes("barcode{null:true}", &[json!(null), json!([])]);
        no("barcode{null:true}", &[json!(""), json!(0), json!(["x"])]);
        yes(
            "barcode{null:false}",
            &[json!(""), json!(["x"]), json!(false)],
        );
        no("barcode{null:false}", &[json!(null)]);
        no("barcode{null:1}", &[json!(null), json!(1)]);
    }

    #[test]
    fn start_and_end() {
        let f1 = r#"product_name[{start:"Box of"},{end:"CASE"}]"#;
        yes(
            f1,
            &[
                json!("Box of 12"),
                json!("Pen CASE"),
                json!(["x", "Box of 1"]),
            ],
        );
        no(
            f1,
            &[
                json!("box of 12"),
                json!("Pen case"),
                json!(null),
                json!(["x"]),
            ],
        );
        yes(r#"sku{start:"12"}"#, &[json!(123)]);
        yes(r#"sku{end:"🎉"}"#, &[json!("party 🎉")]);
    }

    #[test]
    fn in_and_nin() {
        yes(
            r#"sku{in:["A","B"]}"#,
            &[json!("A"), json!("B"), json!(["C", "B"])],
        );
        no(
            r#"sku{in:["A","B"]}"#,
            &[json!("a"), json!(null), json!(["C"])],
        );
        yes(
            r#"sku{nin:["A","B"]}"#,
            &[json!("C"), json!(null), json!(["C", "D"])],
        );
        no(r#"sku{nin:["A","B"]}"#, &[json!("A"), json!(["C", "B"])]);
        yes("merchant_id{in:[1,2]}", &[json!(2)]);
        yes("sku{in:\"A\"}", &[json!("A")]);
        yes("sku{in:[null]}", &[json!(null)]);
    }

    #[test]
    fn objects_never_match_scalars() {
        no("x{eq:1}", &[json!({"a": 1})]);
        yes("x{null:false}", &[json!({"a": 1})]);
    }

    #[test]
    fn expr_and_condition_with_explicit_kind() {
        let e = Expr::All(vec![Condition::eq("2025-01-01")]);
        assert!(e.matches(&json!("2025-01-01T00:00:00Z"), None));
        assert!(e.matches(&json!("2025-01-01T00:00:00Z"), Some(FieldKind::Timestamp)));
        assert!(!e.matches(&json!("2025-01-01T00:00:00Z"), Some(FieldKind::String)));
        assert!(Condition::lt(3).matches(&json!(2), Some(FieldKind::Integer)));
    }

    #[test]
    fn timestamp_formats() {
        let z = parse_timestamp("2025-08-28T10:30:00Z").unwrap();
        for s in [
            "2025-08-28T10:30:00Z",
            "2025-08-28T10:30:00.000Z",
            "2025-08-28T12:30:00+02:00",
            "2025-08-28T12:30:00+0200",
            "2025-08-28 10:30:00Z",
            "2025-08-28T10:30:00",
            "2025-08-28 10:30:00",
            "2025-08-28T10:30",
        ] {
            assert_eq!(parse_timestamp(s), Some(z), "{s}");
        }
        assert!(parse_timestamp("2025-08-28").is_some());
        for s in [
            "",
            "now",
            "2025-02-30",
            "28/08/2025",
            "2025-08-28T25:00:00Z",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }
}
