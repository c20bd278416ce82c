//! Checking a filter against the endpoint's [`fields`] catalogue.

use crate::ast::{Condition, Expr, Filter, Op, Value};
use crate::error::{FilterError, Site, ValidationError, ValidationErrorKind as K, clip};
use crate::eval::parse_timestamp;
use crate::fields::{self, FieldKind, FieldSpec};
use crate::parse::{self, Spans};

impl Filter {
    /// Checks the filter against the [`fields`] catalogue of the inventory levels endpoint.
    ///
    /// Rules:
    /// * the field must be in [`fields::ALL`] (the error suggests the closest name);
    /// * `{}` / `[]` / an empty `{}` inside `[...]` are rejected, and so is the same operator
    ///   twice in one object (the server may keep only the last one);
    /// * operators must be listed by the spec and suit the field's kind
    ///   ([`fields::supports`]);
    /// * `null` takes `true`/`false`; `in`/`nin` take a non-empty list of scalars;
    ///   `start`/`end` take a string;
    /// * other operands must fit the kind: **integer** fields take integers (or strings
    ///   holding one); **string** fields take strings or integers (and booleans in the basic
    ///   form, where `sku:true` is text); **boolean** fields take `true`/`false`;
    ///   **timestamp** fields take strings that parse as RFC 3339 / ISO-8601 (a date-time with
    ///   or without offset, or a date); **enum** fields take one of their values.
    ///
    /// Errors from this method carry no position; use [`Filter::parse_validated`] for that.
    ///
    /// ```
    /// use shipstream_filter::{Filter, ValidationErrorKind};
    ///
    /// assert!(Filter::parse("qty_available{lt:10}").unwrap().validate().is_ok());
    /// let err = Filter::parse("sku{gt:5}").unwrap().validate().unwrap_err();
    /// assert_eq!(err.kind(), ValidationErrorKind::UnsupportedOperator);
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate(self)
    }

    /// Parses and validates in one step; validation errors then carry the offset, column and
    /// input, and display a caret like [`ParseError`](crate::ParseError).
    ///
    /// ```
    /// use shipstream_filter::Filter;
    ///
    /// let err = Filter::parse_validated(r#"qty_available{lt:"ten"}"#).unwrap_err();
    /// assert_eq!(err.column(), Some(18));
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"`qty_available` is an integer field, found a string `"ten"` at column 18; write a whole number such as `qty_available{lt:10}`
    ///   qty_available{lt:"ten"}
    ///                    ^"#
    /// );
    /// ```
    pub fn parse_validated(input: &str) -> Result<Filter, FilterError> {
        let (filter, spans) = parse::parse(input)?;
        validate(&filter).map_err(|e| {
            let offset = locate(&spans, e.site());
            e.locate(input, offset)
        })?;
        Ok(filter)
    }
}

/// The byte offset of a validation site in the parsed text.
fn locate(spans: &Spans, site: Site) -> usize {
    let cond = |g: usize, i: usize| spans.groups.get(g).and_then(|gs| gs.conds.get(i));
    match site {
        Site::Field => 0,
        Site::Expr => spans.field_end,
        Site::Group(g) => spans.groups.get(g).map_or(spans.field_end, |gs| gs.start),
        Site::Op(g, i) => cond(g, i).map_or(spans.field_end, |c| c.op),
        Site::Value(g, i) => cond(g, i).map_or(spans.field_end, |c| c.value),
        Site::Item(g, i, k) => cond(g, i).map_or(spans.field_end, |c| {
            c.items.get(k).copied().unwrap_or(c.value)
        }),
    }
}

fn validate(filter: &Filter) -> Result<(), ValidationError> {
    let name = filter.field.as_str();
    let Some(spec) = fields::lookup(name) else {
        let hint = match fields::suggest(name) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("filterable fields are: {}", fields::names()),
        };
        return Err(ValidationError::new(
            K::UnknownField,
            name,
            Site::Field,
            format!("unknown field `{}`", name.escape_debug()),
            hint,
        ));
    };
    let v = Validator { spec };
    match &filter.expr {
        Expr::Equals(value) => v.condition(0, 0, Op::Eq, value, true),
        Expr::All(conds) => {
            if conds.is_empty() {
                return Err(v.err(
                    K::EmptyExpression,
                    Site::Expr,
                    "empty condition object `{}`".to_owned(),
                    format!("add a condition, e.g. `{name}{{null:false}}`"),
                ));
            }
            v.group(0, conds)
        }
        Expr::Any(groups) => {
            if groups.is_empty() {
                return Err(v.err(
                    K::EmptyExpression,
                    Site::Expr,
                    "empty list of alternatives `[]`".to_owned(),
                    format!("add at least one object, e.g. `{name}[{{null:true}}]`"),
                ));
            }
            for (g, conds) in groups.iter().enumerate() {
                if conds.is_empty() {
                    return Err(v.err(
                        K::EmptyExpression,
                        Site::Group(g),
                        "empty condition object `{}`".to_owned(),
                        "it would match every value; remove it or add a condition".to_owned(),
                    ));
                }
                v.group(g, conds)?;
            }
            Ok(())
        }
    }
}

struct Validator {
    spec: &'static FieldSpec,
}

impl Validator {
    fn err(&self, kind: K, site: Site, what: String, hint: String) -> ValidationError {
        ValidationError::new(kind, self.spec.name, site, what, hint)
    }

    fn group(&self, g: usize, conds: &[Condition]) -> Result<(), ValidationError> {
        for (i, c) in conds.iter().enumerate() {
            if conds
                .get(..i)
                .is_some_and(|before| before.iter().any(|b| b.op == c.op))
            {
                return Err(self.err(
                    K::DuplicateOperator,
                    Site::Op(g, i),
                    format!("operator `{}` appears twice in one object", c.op),
                    "the server may keep only the last one; use one of each operator per \
                     object, or `[{...},{...}]` for OR"
                        .to_owned(),
                ));
            }
            self.condition(g, i, c.op, &c.value, false)?;
        }
        Ok(())
    }

    fn condition(
        &self,
        g: usize,
        i: usize,
        op: Op,
        value: &Value,
        basic: bool,
    ) -> Result<(), ValidationError> {
        let name = self.spec.name;
        let kind = self.spec.kind;
        if !fields::supports(kind, op) || !op.in_spec() {
            let ops: Vec<&str> = fields::operators(kind).iter().map(|o| o.as_str()).collect();
            return Err(self.err(
                K::UnsupportedOperator,
                Site::Op(g, i),
                format!(
                    "operator `{op}` does not apply to `{name}` ({} {} field)",
                    article(kind.name()),
                    kind.name()
                ),
                format!("use one of {}", ops.join(", ")),
            ));
        }
        let site = Site::Value(g, i);
        match op {
            Op::Null => match value {
                Value::Bool(_) => Ok(()),
                other => Err(self.err(
                    K::InvalidValue,
                    site,
                    format!("`null` takes true or false, found {}", describe(other)),
                    format!("e.g. `{name}{{null:true}}` matches missing values"),
                )),
            },
            Op::In | Op::Nin => match value {
                Value::List(items) if items.is_empty() => Err(self.err(
                    K::InvalidValue,
                    site,
                    format!("empty list for `{op}`"),
                    "give at least one value".to_owned(),
                )),
                Value::List(items) => {
                    for (k, item) in items.iter().enumerate() {
                        self.scalar(op, item, false, Site::Item(g, i, k))?;
                    }
                    Ok(())
                }
                other => Err(self.err(
                    K::InvalidValue,
                    site,
                    format!("`{op}` takes a list, found {}", describe(other)),
                    format!("write `{name}{{{op}:[{other}]}}`"),
                )),
            },
            Op::Start | Op::End => match value {
                Value::String(_) => Ok(()),
                other => Err(self.err(
                    K::InvalidValue,
                    site,
                    format!("`{op}` takes a string, found {}", describe(other)),
                    format!("quote the text, e.g. `{name}{{{op}:\"ABC\"}}`"),
                )),
            },
            Op::Eq | Op::Neq | Op::Gt | Op::Gteq | Op::Lt | Op::Lteq => {
                self.scalar(op, value, basic, site)
            }
        }
    }

    /// Checks a single operand against the field's kind.
    fn scalar(
        &self,
        op: Op,
        value: &Value,
        basic: bool,
        site: Site,
    ) -> Result<(), ValidationError> {
        let name = self.spec.name;
        let kind = self.spec.kind;
        // `name{op:x}`, or `name{in:[x]}` for list operators.
        let example = |x: &str| match op {
            Op::In | Op::Nin => format!("`{name}{{{op}:[{x}]}}`"),
            _ => format!("`{name}{{{op}:{x}}}`"),
        };
        let bad = |hint: String| {
            Err(self.err(
                K::InvalidValue,
                site,
                format!(
                    "`{name}` is {} {} field, found {}",
                    article(kind.name()),
                    kind.name(),
                    describe(value)
                ),
                hint,
            ))
        };
        match value {
            Value::Null => {
                return Err(self.err(
                    K::InvalidValue,
                    site,
                    format!("`{op}` cannot take null"),
                    format!("use `{name}{{null:true}}` to match missing values"),
                ));
            }
            Value::List(_) => {
                return Err(self.err(
                    K::InvalidValue,
                    site,
                    format!("`{op}` cannot take a list"),
                    format!("use `in` or `nin` for lists, e.g. `{name}{{in:[...]}}`"),
                ));
            }
            _ => {}
        }
        match kind {
            FieldKind::Integer => match value {
                Value::Int(_) => Ok(()),
                Value::String(s) if s.parse::<i64>().is_ok() => Ok(()),
                _ => bad(format!("write a whole number such as {}", example("10"))),
            },
            FieldKind::String => match value {
                Value::String(_) | Value::Int(_) => Ok(()),
                Value::Bool(_) if basic => Ok(()),
                other => bad(format!(
                    "quote the text: {}",
                    example(&format!("\"{other}\""))
                )),
            },
            FieldKind::Boolean => match value {
                Value::Bool(_) => Ok(()),
                _ => bad(format!("use `{name}:true` or `{name}:false`")),
            },
            FieldKind::Timestamp => match value {
                Value::String(s) if parse_timestamp(s).is_some() => Ok(()),
                Value::String(s) => Err(self.err(
                    K::InvalidValue,
                    site,
                    format!("`{}` is not a valid timestamp", clip(s)),
                    "use RFC 3339 / ISO-8601 such as \"2025-08-28T10:30:00Z\"".to_owned(),
                )),
                _ => bad(format!(
                    "use a quoted RFC 3339 date-time such as {}",
                    example("\"2025-08-28T10:30:00Z\"")
                )),
            },
            FieldKind::Enum(allowed) => match value {
                Value::String(s) if allowed.contains(&s.as_str()) => Ok(()),
                Value::String(s) => {
                    let lower = s.to_ascii_lowercase();
                    let hint = if allowed.contains(&lower.as_str()) {
                        format!("values are lowercase: did you mean `{lower}`?")
                    } else {
                        format!("expected one of {}", allowed.join(", "))
                    };
                    Err(self.err(
                        K::InvalidValue,
                        site,
                        format!("`{}` is not a valid `{name}`", clip(s)),
                        hint,
                    ))
                }
                _ => bad(format!("expected one of {}", allowed.join(", "))),
            },
            // A kind a newer spec introduced that this grammar cannot check: let the
            // server judge the value.
            _ => Ok(()),
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// "a string `\"ten\"`", "an integer `5`", ...
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        other => format!("{} `{}`", other.type_name(), clip(&other.to_string())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::{
        Condition, Expr, Filter, FilterError, Op, ValidationError, ValidationErrorKind as K,
    };

    fn invalid(input: &str) -> ValidationError {
        match Filter::parse_validated(input) {
            Err(FilterError::Invalid(e)) => {
                // The position-free path agrees on the error.
                let plain = Filter::parse(input).unwrap().validate().unwrap_err();
                assert_eq!(plain.kind(), e.kind());
                assert_eq!(plain.offset(), None);
                e
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }

    fn check(input: &str, kind: K, column: usize, contains: &str) -> ValidationError {
        let e = invalid(input);
        assert_eq!(e.kind(), kind, "{input:?}: {e}");
        assert_eq!(e.column(), Some(column), "{input:?}: {e}");
        assert!(
            e.message().contains(contains),
            "{input:?}: {:?} lacks {contains:?}",
            e.message()
        );
        e
    }

    fn valid(input: &str) {
        if let Err(e) = Filter::parse_validated(input) {
            panic!("{input:?} rejected:\n{e}");
        }
    }

    #[test]
    fn accepts_documented_examples() {
        for input in [
            "sku:ABC123",
            "sku:123",
            "sku:true",
            "sku: anything goes, really",
            "is_enabled:true",
            "is_visible:false",
            "product_id:5",
            "qty_available{lt:10}",
            "qty_on_hand{gt:15,lt:50}",
            "product_id[{lt:15},{gt:50}]",
            "qty_putaway[{gt:1,lt:50},{null:true}]",
            r#"product_name[{start:"Box of"},{end:"CASE"}]"#,
            r#"updated_at{gt:"2025-08-28T10:30:00Z"}"#,
            r#"updated_at{gteq:"2025-08-28T10:30:00+02:00",lteq:"2025-08-29"}"#,
            r#"product_created_at{lt:"2025-08-28T10:30:00"}"#,
            "updated_at:2025-08-28T10:30:00Z",
            r#"sku{in:["A","B"]}"#,
            "merchant_id{nin:[1,2,3]}",
            r#"product_id{eq:"5"}"#,
            "product_type:packaging",
            r#"product_type{in:["normal","infill"]}"#,
            r#"product_type{start:"pack"}"#,
            r#"goods_type{eq:"NORMAL"}"#,
            "barcode{null:false}",
            "is_enabled{in:[true,false]}",
            "vendor_sku{neq:42}",
        ] {
            valid(input);
        }
    }

    #[test]
    fn unknown_field() {
        let e = check(
            "qty_availble{lt:1}",
            K::UnknownField,
            1,
            "did you mean `qty_available`?",
        );
        assert_eq!(e.field(), "qty_availble");
        assert_eq!(
            e.to_string(),
            "unknown field `qty_availble` at column 1; did you mean `qty_available`?\n  \
             qty_availble{lt:1}\n  ^"
        );
        let e = check(
            "colour:red",
            K::UnknownField,
            1,
            "filterable fields are: product_id, sku,",
        );
        assert!(e.message().contains("qty_advertised"));
    }

    #[test]
    fn operator_applicability() {
        check(
            "sku{gt:5}",
            K::UnsupportedOperator,
            5,
            "`gt` does not apply to `sku` (a string field)",
        );
        check(
            "product_id{start:\"1\"}",
            K::UnsupportedOperator,
            12,
            "use one of eq, neq, gt, gteq, lt, lteq, null, in, nin",
        );
        check(
            "is_enabled{lt:true}",
            K::UnsupportedOperator,
            12,
            "a boolean field",
        );
        check(
            "updated_at{end:\"Z\"}",
            K::UnsupportedOperator,
            12,
            "a timestamp field",
        );
        check(
            "product_type{gteq:\"normal\"}",
            K::UnsupportedOperator,
            14,
            "an enum field",
        );
        check(
            "qty_picked[{gt:1},{lt:5,end:\"0\"}]",
            K::UnsupportedOperator,
            25,
            "`end`",
        );
    }

    #[test]
    fn operand_shapes() {
        check(
            "sku{null:1}",
            K::InvalidValue,
            10,
            "`null` takes true or false, found an integer `1`",
        );
        check("sku{null:\"true\"}", K::InvalidValue, 10, "found a string");
        check("sku{in:\"A\"}", K::InvalidValue, 8, "`in` takes a list");
        check("sku{nin:[]}", K::InvalidValue, 9, "empty list");
        check(
            "sku{start:5}",
            K::InvalidValue,
            11,
            "`start` takes a string",
        );
        check("sku{eq:null}", K::InvalidValue, 8, "use `sku{null:true}`");
        check("sku{eq:[\"a\"]}", K::InvalidValue, 8, "use `in` or `nin`");
        check(
            "sku{in:[\"a\",null]}",
            K::InvalidValue,
            13,
            "cannot take null",
        );
        check(
            "sku{in:[\"a\",[\"b\"]]}",
            K::InvalidValue,
            13,
            "cannot take a list",
        );
    }

    #[test]
    fn integer_fields() {
        check(
            "qty_available{lt:\"ten\"}",
            K::InvalidValue,
            18,
            "`qty_available` is an integer field, found a string `\"ten\"`",
        );
        check(
            "qty_available{lt:9.5}",
            K::InvalidValue,
            18,
            "found a decimal number `9.5`",
        );
        check(
            "qty_available{lt:true}",
            K::InvalidValue,
            18,
            "found a boolean",
        );
        check(
            "product_id:abc",
            K::InvalidValue,
            12,
            "found a string `\"abc\"`",
        );
        check(
            "product_id:1.0",
            K::InvalidValue,
            12,
            "write a whole number",
        );
        check(
            "merchant_id{in:[1,\"x\",3]}",
            K::InvalidValue,
            19,
            "such as `merchant_id{in:[10]}`",
        );
    }

    #[test]
    fn string_fields() {
        check(
            "sku{eq:1.5}",
            K::InvalidValue,
            8,
            "quote the text: `sku{eq:\"1.5\"}`",
        );
        check(
            "sku{eq:true}",
            K::InvalidValue,
            8,
            "`sku` is a string field, found a boolean `true`",
        );
    }

    #[test]
    fn boolean_fields() {
        check(
            "is_enabled:1",
            K::InvalidValue,
            12,
            "use `is_enabled:true` or `is_enabled:false`",
        );
        check("is_enabled:TRUE", K::InvalidValue, 12, "boolean field");
        check(
            "is_available{eq:\"true\"}",
            K::InvalidValue,
            17,
            "boolean field",
        );
    }

    #[test]
    fn timestamp_fields() {
        check(
            "updated_at{gt:\"yesterday\"}",
            K::InvalidValue,
            15,
            "`yesterday` is not a valid timestamp",
        );
        check(
            "updated_at{gt:\"2025-13-01\"}",
            K::InvalidValue,
            15,
            "not a valid timestamp",
        );
        check(
            "updated_at{gt:1756377000}",
            K::InvalidValue,
            15,
            "a timestamp field, found an integer",
        );
        check("updated_at:now", K::InvalidValue, 12, "RFC 3339");
    }

    #[test]
    fn enum_fields() {
        check(
            "product_type:Normal",
            K::InvalidValue,
            14,
            "did you mean `normal`?",
        );
        check(
            "product_type{eq:\"kit\"}",
            K::InvalidValue,
            17,
            "expected one of normal, packaging, containers, supplies, infill",
        );
        check(
            "product_type{in:[\"normal\",\"kit\"]}",
            K::InvalidValue,
            27,
            "`kit`",
        );
        check(
            "product_type:1",
            K::InvalidValue,
            14,
            "an enum field, found an integer",
        );
    }

    #[test]
    fn empty_and_duplicate() {
        check("sku{}", K::EmptyExpression, 4, "empty condition object");
        check("sku[]", K::EmptyExpression, 4, "empty list of alternatives");
        check(
            "sku[{null:true},{}]",
            K::EmptyExpression,
            17,
            "empty condition object",
        );
        check(
            "qty_picked{gt:1,gt:2}",
            K::DuplicateOperator,
            17,
            "`gt` appears twice",
        );
    }

    #[test]
    fn constructed_filters_validate_without_position() {
        let e = Filter::condition("sku", Op::Gt, 1).validate().unwrap_err();
        assert_eq!(e.kind(), K::UnsupportedOperator);
        assert_eq!((e.offset(), e.column(), e.input()), (None, None, None));
        assert!(!e.to_string().contains('\n'));
        assert!(
            Filter::all("qty_available", [Condition::gteq(0), Condition::lteq(10)])
                .validate()
                .is_ok()
        );
        assert!(
            Filter::new("sku", Expr::Equals("x".into()))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn parse_errors_pass_through() {
        let e = Filter::parse_validated("sku{foo:1}").unwrap_err();
        assert!(matches!(e, FilterError::Parse(_)));
        assert_eq!(e.column(), Some(5));
        assert!(e.message().starts_with("unknown operator"));
    }
}
