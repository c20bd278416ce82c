//! Canonical rendering: whitespace-free, operators unquoted, strings double-quoted.

use std::fmt::Write as _;

use crate::ast::{Condition, Expr, Filter, Value};
use crate::parse::{basic_value, canonical_int};

pub(crate) fn write_filter(out: &mut String, filter: &Filter) {
    out.push_str(&filter.field);
    match &filter.expr {
        Expr::Equals(v) if renders_basic(v) => {
            out.push(':');
            match v {
                Value::String(s) => out.push_str(s),
                other => write_value(out, other),
            }
        }
        Expr::Equals(v) => {
            out.push_str("{eq:");
            write_value(out, v);
            out.push('}');
        }
        Expr::All(conds) => write_object(out, conds),
        Expr::Any(groups) => {
            out.push('[');
            for (i, g) in groups.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_object(out, g);
            }
            out.push(']');
        }
    }
}

fn write_object(out: &mut String, conds: &[Condition]) {
    out.push('{');
    for (i, c) in conds.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(c.op.as_str());
        out.push(':');
        write_value(out, &c.value);
    }
    out.push('}');
}

/// Whether `key:value` parses back to exactly `Equals(value)`.
fn renders_basic(v: &Value) -> bool {
    match v {
        Value::Bool(_) | Value::Int(_) => true,
        Value::String(s) => basic_value(s) == *v,
        Value::Null | Value::Float(_) | Value::List(_) => false,
    }
}

/// Whether a value is unambiguous in the basic form, even for a server that might trim,
/// lower-case or type-sniff the text. Stricter than [`renders_basic`].
pub(crate) fn is_basic_safe(v: &Value) -> bool {
    match v {
        Value::Bool(_) | Value::Int(_) => true,
        Value::String(s) => {
            let lower = s.to_ascii_lowercase();
            !s.is_empty()
                && s.trim() == s
                && !s
                    .chars()
                    .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
                && !matches!(lower.as_str(), "true" | "false" | "null")
                && canonical_int(s).is_none()
                && !looks_numeric(&lower)
        }
        Value::Null | Value::Float(_) | Value::List(_) => false,
    }
}

/// Anything a lenient number parser might accept (`1.5`, `+3`, `007`, `1e3`, `0x1f`, `nan`).
fn looks_numeric(lower: &str) -> bool {
    let unsigned = lower.trim_start_matches(['+', '-']);
    lower.parse::<f64>().is_ok()
        || unsigned.starts_with("0x")
        || unsigned == "infinity"
        || (!unsigned.is_empty()
            && unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
            && unsigned
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-' | '_')))
}

pub(crate) fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => write_float(out, *f),
        Value::String(s) => write_string(out, s),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
    }
}

/// Shortest text that parses back to the same `f64`, always with a `.` or an exponent so it
/// stays a float. Non-finite values have no JSON5-subset spelling and render as `null`.
pub(crate) fn write_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    // `Debug` gives the shortest round-tripping form and always includes `.` or `e`
    // (`1.0`, `0.1`, `1e16`, `1e-7`).
    let start = out.len();
    let _ = write!(out, "{f:?}");
    let written = out.get(start..).unwrap_or("");
    if !written.contains(['.', 'e', 'E']) {
        out.push_str(".0");
    }
}

/// A double-quoted string: `"` and `\` escaped, control characters escaped, all else verbatim.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::{Condition, Expr, Filter, Op, Value};

    fn roundtrip(f: &Filter) {
        let text = f.render();
        assert_eq!(Filter::parse(&text).as_ref(), Ok(f), "{text}");
        assert_eq!(f.to_string(), text);
    }

    #[test]
    fn canonical_forms() {
        let cases = [
            (
                Filter::all("qty_available", [Condition::lt(10)]),
                "qty_available{lt:10}",
            ),
            (
                Filter::any("id", [[Condition::lt(15)], [Condition::gt(50)]]),
                "id[{lt:15},{gt:50}]",
            ),
            (
                Filter::condition("sku", Op::In, ["A", "B"]),
                r#"sku{in:["A","B"]}"#,
            ),
            (
                Filter::any(
                    "weight",
                    [
                        vec![Condition::gt(1), Condition::lt(50)],
                        vec![Condition::null(true)],
                    ],
                ),
                "weight[{gt:1,lt:50},{null:true}]",
            ),
            (Filter::all("id", []), "id{}"),
            (Filter::any("id", Vec::<Vec<Condition>>::new()), "id[]"),
            (Filter::condition("x", Op::Eq, Value::Null), "x{eq:null}"),
            (
                Filter::condition("x", Op::Nin, Value::List(vec![])),
                "x{nin:[]}",
            ),
            (
                Filter::condition("x", Op::In, vec![vec![1, 2]]),
                "x{in:[[1,2]]}",
            ),
        ];
        for (f, text) in cases {
            assert_eq!(f.render(), text);
            roundtrip(&f);
        }
        assert_eq!(
            Filter::parse("id [ { gt : 1 } ]").ok(),
            None,
            "no space before bracket"
        );
        assert_eq!(
            Filter::parse("id[ { gt : 1 , } ]").unwrap().render(),
            "id[{gt:1}]"
        );
    }

    #[test]
    fn basic_form_rendering() {
        assert_eq!(
            Filter::equals("is_enabled", true).render(),
            "is_enabled:true"
        );
        assert_eq!(Filter::equals("product_id", 5).render(), "product_id:5");
        assert_eq!(Filter::equals("product_id", -5).render(), "product_id:-5");
        assert_eq!(Filter::equals("sku", "ABC123").render(), "sku:ABC123");
        assert_eq!(Filter::equals("sku", "a,b{c}:d").render(), "sku:a,b{c}:d");
        assert_eq!(Filter::equals("sku", "日本🎉").render(), "sku:日本🎉");
    }

    #[test]
    fn equals_constructor_falls_back_to_eq_for_ambiguous_values() {
        for v in [
            Value::from(""),
            Value::from(" a"),
            Value::from("a "),
            Value::from("true"),
            Value::from("FALSE"),
            Value::from("null"),
            Value::from("Null"),
            Value::from("5"),
            Value::from("007"),
            Value::from("+5"),
            Value::from("-0"),
            Value::from("1.5"),
            Value::from("1e5"),
            Value::from("0x1F"),
            Value::from("NaN"),
            Value::from("inf"),
            Value::from("-Infinity"),
            Value::from(".5"),
            Value::from("1_000"),
            Value::from("a\nb"),
            Value::from("tab\t"),
            Value::Null,
            Value::Float(1.5),
            Value::from(["a"]),
        ] {
            let f = Filter::equals("sku", v.clone());
            assert_eq!(f.expr, Expr::All(vec![Condition::eq(v.clone())]), "{v:?}");
            roundtrip(&f);
        }
        for v in [
            Value::from("ABC"),
            Value::from("1a"),
            Value::from("e5"),
            Value::from(7),
            Value::from(false),
        ] {
            let f = Filter::equals("sku", v.clone());
            assert_eq!(f.expr, Expr::Equals(v.clone()), "{v:?}");
            roundtrip(&f);
        }
    }

    #[test]
    fn equals_variant_falls_back_when_basic_form_would_change_it() {
        let eq = |v: Value| Filter::new("sku", Expr::Equals(v)).render();
        assert_eq!(eq(Value::from("true")), r#"sku{eq:"true"}"#);
        assert_eq!(eq(Value::from("42")), r#"sku{eq:"42"}"#);
        assert_eq!(eq(Value::Null), "sku{eq:null}");
        assert_eq!(eq(Value::Float(2.0)), "sku{eq:2.0}");
        assert_eq!(eq(Value::from(["a"])), r#"sku{eq:["a"]}"#);
        // Texts the basic form reads back verbatim stay in the basic form.
        assert_eq!(eq(Value::from(" padded ")), "sku: padded ");
        assert_eq!(eq(Value::from("007")), "sku:007");
        assert_eq!(eq(Value::from("")), "sku:");
        for text in [
            "sku: padded ",
            "sku:007",
            "sku:",
            "sku:null",
            "sku:1.5",
            "sku:a\nb",
        ] {
            assert_eq!(Filter::parse(text).unwrap().render(), text);
        }
    }

    #[test]
    fn string_escaping() {
        let r = |s: &str| Value::from(s).to_string();
        assert_eq!(r(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(r(r"C:\path\"), r#""C:\\path\\""#);
        assert_eq!(r("a,b{c}[d]:e'f"), r#""a,b{c}[d]:e'f""#);
        assert_eq!(r("l1\nl2\r\t"), r#""l1\nl2\r\t""#);
        assert_eq!(
            r("\0\u{8}\u{c}\u{1b}\u{7f}\u{85}"),
            r#""\u0000\u0008\u000c\u001b\u007f\u0085""#
        );
        assert_eq!(r("\u{2028}\u{2029}"), r#""\u2028\u2029""#);
        assert_eq!(r("é日本🎉"), "\"é日本🎉\"");
        for s in [
            "",
            "\"",
            "\\",
            "\\\"",
            "'",
            "\u{0}",
            "🎉\u{1f}",
            "a\\u0041",
            "}]",
            "\\\n",
        ] {
            let f = Filter::condition("sku", Op::Eq, s);
            roundtrip(&f);
        }
    }

    #[test]
    fn float_rendering() {
        let r = |f: f64| Value::Float(f).to_string();
        assert_eq!(r(1.0), "1.0");
        assert_eq!(r(-0.0), "-0.0");
        assert_eq!(r(0.1), "0.1");
        assert_eq!(r(1.5e300), "1.5e300");
        assert_eq!(r(1e-7), "1e-7");
        assert_eq!(r(f64::NAN), "null");
        assert_eq!(r(f64::INFINITY), "null");
        for f in [
            0.1 + 0.2,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            1e16,
            123456789.125,
            -2.5,
        ] {
            let filter = Filter::condition("w", Op::Gt, f);
            roundtrip(&filter);
            let Expr::All(c) = Filter::parse(&filter.render()).unwrap().expr else {
                panic!()
            };
            assert_eq!(c[0].value, Value::Float(f));
            assert!(matches!(c[0].value, Value::Float(g) if g.to_bits() == f.to_bits()));
        }
    }

    #[test]
    fn int_rendering() {
        for i in [0, 1, -1, i64::MAX, i64::MIN] {
            roundtrip(&Filter::condition("q", Op::Lt, i));
            roundtrip(&Filter::equals("q", i));
        }
    }

    #[test]
    fn condition_display() {
        assert_eq!(Condition::start("Box of").to_string(), r#"start:"Box of""#);
        assert_eq!(Condition::not_in([1, 2]).to_string(), "nin:[1,2]");
        assert_eq!(Condition::gteq(Value::from(Some(3))).to_string(), "gteq:3");
        assert_eq!(
            Condition::lteq(Value::from(None::<i64>)).to_string(),
            "lteq:null"
        );
        assert_eq!(Condition::neq(1.5f32).to_string(), "neq:1.5");
    }
}
