//! Property tests: rendering round-trips exactly, and no input makes the parser panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::json;
use shipstream_filter::{Condition, Expr, Filter, Op, Value};

/// Characters that stress the grammar and the escaping.
const HOSTILE: &[char] = &[
    '"',
    '\'',
    '\\',
    '/',
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    ' ',
    '\t',
    '\n',
    '\r',
    '\0',
    '\u{1}',
    '\u{8}',
    '\u{b}',
    '\u{c}',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{a0}',
    '\u{2028}',
    '\u{2029}',
    '\u{feff}',
    'u',
    'x',
    'e',
    '0',
    '5',
    '-',
    '+',
    '.',
    'é',
    '日',
    '🎉',
    '😀',
    '\u{10ffff}',
];

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(
            prop_oneof![3 => prop::sample::select(HOSTILE), 1 => any::<char>()],
            0..16
        )
        .prop_map(String::from_iter),
        any::<String>(),
        Just(String::new()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("42".to_owned()),
    ]
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::num::f64::NORMAL
            | prop::num::f64::SUBNORMAL
            | prop::num::f64::ZERO
            | prop::num::f64::NEGATIVE
            | prop::num::f64::POSITIVE,
        Just(0.1),
        Just(-0.0),
        Just(1e16),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
    ]
    .prop_filter("finite", |f| f.is_finite())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0), Just(-1)].prop_map(Value::Int),
        finite_f64().prop_map(Value::Float),
        hostile_string().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 5, |inner| {
        prop::collection::vec(inner, 0..5).prop_map(Value::List)
    })
}

fn condition() -> impl Strategy<Value = Condition> {
    (prop::sample::select(Op::ALL), value()).prop_map(|(op, value)| Condition { op, value })
}

/// Values that the basic form `key:value` reads back as themselves.
fn basic_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        hostile_string()
            .prop_filter("reads back as bool or int", |s| {
                s != "true"
                    && s != "false"
                    && s.parse::<i64>().map_or(true, |n| n.to_string() != *s)
            })
            .prop_map(Value::String),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    prop_oneof![
        basic_value().prop_map(Expr::Equals),
        prop::collection::vec(condition(), 0..5).prop_map(Expr::All),
        prop::collection::vec(prop::collection::vec(condition(), 0..4), 0..4).prop_map(Expr::Any),
    ]
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,20}",
        prop::sample::select(
            shipstream_filter::fields::ALL
                .iter()
                .map(|f| f.name.to_owned())
                .collect::<Vec<_>>()
        ),
    ]
}

fn filter() -> impl Strategy<Value = Filter> {
    (field(), expr()).prop_map(|(field, expr)| Filter { field, expr })
}

/// Fragments that often combine into (nearly) valid filters.
const TOKENS: &[&str] = &[
    "id",
    "sku",
    "qty_available",
    "updated_at",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    " ",
    "\"",
    "'",
    "\\",
    "\\u",
    "D83D",
    "\\uDE00",
    "gt",
    "lt",
    "eq",
    "in",
    "null",
    "true",
    "false",
    "start",
    "1",
    "-",
    "+",
    ".",
    "e",
    "0x",
    "5",
    "00",
    "é",
    "🎉",
    "\n",
    "\"2025-08-28T10:30:00Z\"",
    "\"a,b\"",
    "'x'",
    "[1,2]",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|t| t.concat())
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        finite_f64().prop_map(|f| json!(f)),
        hostile_string().prop_map(|s| json!(s)),
        Just(json!("2025-08-28T10:30:00Z")),
        prop::collection::vec(hostile_string(), 0..3).prop_map(|v| json!(v)),
        Just(json!({"a": 1})),
    ]
}

fn has_float(f: &Filter) -> bool {
    fn value(v: &Value) -> bool {
        match v {
            Value::Float(_) => true,
            Value::List(items) => items.iter().any(value),
            _ => false,
        }
    }
    match &f.expr {
        Expr::Equals(v) => value(v),
        Expr::All(c) => c.iter().any(|c| value(&c.value)),
        Expr::Any(g) => g.iter().flatten().any(|c| value(&c.value)),
    }
}

/// If `input` parses, the result renders to text that parses back to it.
fn check_parse(input: &str) -> Result<(), TestCaseError> {
    match Filter::parse(input) {
        Ok(f) => {
            let text = f.render();
            prop_assert_eq!(
                Filter::parse(&text),
                Ok(f.clone()),
                "input {:?} rendered {:?}",
                input,
                text
            );
            // Validation and evaluation must not panic either.
            let _ = f.validate();
            let _ = f.matches(&json!("x"));
            let _ = f.matches(&json!(null));
        }
        Err(e) => {
            prop_assert!(e.offset() <= input.len());
            prop_assert!(input.is_char_boundary(e.offset()));
            prop_assert_eq!(e.column(), input[..e.offset()].chars().count() + 1);
            let shown = e.to_string();
            prop_assert_eq!(shown.lines().count(), 3, "{}", shown);
            prop_assert!(shown.ends_with('^'));
        }
    }
    let _ = Filter::parse_validated(input).map_err(|e| e.to_string());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn render_then_parse_is_identity(f in filter()) {
        let text = f.render();
        prop_assert_eq!(Filter::parse(&text), Ok(f.clone()), "rendered {:?}", text);
        prop_assert_eq!(f.to_string(), text);
    }

    #[test]
    fn constructors_round_trip(field in field(), v in value(), op in prop::sample::select(Op::ALL)) {
        let eq = Filter::equals(field.clone(), v.clone());
        prop_assert_eq!(Filter::parse(&eq.render()), Ok(eq));
        let cond = Filter::condition(field, op, v);
        prop_assert_eq!(Filter::parse(&cond.render()), Ok(cond));
    }

    #[test]
    fn serde_round_trip(f in filter()) {
        let json = serde_json::to_string(&f).unwrap();
        let back: Filter = serde_json::from_str(&json).unwrap();
        // serde_json writes floats with `.` or an exponent, so Int and Float stay apart, but
        // without its `float_roundtrip` feature it may read tiny floats back 1 ulp off.
        if !has_float(&f) {
            prop_assert_eq!(back, f);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        check_parse(&input)?;
    }

    #[test]
    fn token_soup_never_panics(input in token_soup()) {
        check_parse(&input)?;
    }

    #[test]
    fn mutated_filters_never_panic(f in filter(), at in any::<prop::sample::Index>(), c in any::<char>(), delete in any::<bool>()) {
        let mut text = f.render();
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        let i = boundaries[at.index(boundaries.len())];
        if delete && i < text.len() {
            text.remove(i);
        } else {
            text.insert(i, c);
        }
        check_parse(&text)?;
    }

    #[test]
    fn evaluation_never_panics(f in filter(), v in json_value()) {
        let _ = f.matches(&v);
        let _ = f.expr.matches(&v, None);
    }
}
