//! The parser: wire text to [`Filter`], plus the byte positions of every part (used to place
//! validation errors).
//!
//! Why one file of this length: the second half is the unit tests of the private scanner
//! and parser (positions, every error kind); the parser itself is about 650 lines.

use crate::ast::{Condition, Expr, Filter, Op, Value};
use crate::error::{ParseError, ParseErrorKind as K, clip};

/// Lists nested deeper than this are rejected (protects the stack from hostile input).
pub(crate) const MAX_DEPTH: usize = 32;

/// Byte offsets of the parts of a parsed filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Spans {
    /// Offset just after the field name (the `:`, `{` or `[`).
    pub field_end: usize,
    /// One entry per condition object (one for the basic form and for `{...}`).
    pub groups: Vec<GroupSpan>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GroupSpan {
    /// Offset of the `{` (the `:` for the basic form).
    pub start: usize,
    pub conds: Vec<CondSpan>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CondSpan {
    pub op: usize,
    pub value: usize,
    /// Offsets of the items when the value is a list.
    pub items: Vec<usize>,
}

/// Parses `input` into a filter and the positions of its parts.
pub(crate) fn parse(input: &str) -> Result<(Filter, Spans), ParseError> {
    let mut p = Parser { src: input, pos: 0 };
    let field = p.field()?;
    let field_end = p.pos;
    let mut spans = Spans {
        field_end,
        groups: Vec::new(),
    };
    let expr = match p.peek() {
        Some(':') => {
            let text = input.get(field_end + 1..).unwrap_or("");
            spans.groups.push(GroupSpan {
                start: field_end,
                conds: vec![CondSpan {
                    op: field_end,
                    value: field_end + 1,
                    items: Vec::new(),
                }],
            });
            return Ok((Filter::new(field, Expr::Equals(basic_value(text))), spans));
        }
        Some('{') => {
            let (conds, span) = p.object()?;
            spans.groups.push(span);
            Expr::All(conds)
        }
        Some('[') => {
            p.bump();
            let mut groups = Vec::new();
            p.skip_ws();
            if p.peek() == Some(']') {
                p.bump();
            } else {
                loop {
                    if p.peek() != Some('{') {
                        return Err(p.error(
                            "expected `{`",
                            "each alternative inside `[...]` is an object such as `{lt:15}`",
                        ));
                    }
                    let (conds, span) = p.object()?;
                    groups.push(conds);
                    spans.groups.push(span);
                    p.skip_ws();
                    match p.peek() {
                        Some(',') => {
                            p.bump();
                            p.skip_ws();
                            if p.peek() == Some(']') {
                                p.bump();
                                break;
                            }
                        }
                        Some(']') => {
                            p.bump();
                            break;
                        }
                        _ => return Err(p.error("expected `,` or `]`", "")),
                    }
                }
            }
            Expr::Any(groups)
        }
        found => {
            let hint = "write `key:value`, `key{...}` or `key[...]` with nothing between the \
                        field name and `:`, `{` or `[`";
            return Err(match found {
                None => p.error_kind(
                    K::UnexpectedEnd,
                    format!("expected `:`, `{{` or `[` after field name `{field}`"),
                    hint,
                ),
                Some(c) if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '$' => p
                    .error_kind(
                        K::InvalidFieldName,
                        format!("invalid character {} in field name", describe(Some(c))),
                        "field names use lowercase letters, digits and `_`",
                    ),
                Some(_) => p.error_kind(
                    K::UnexpectedCharacter,
                    format!(
                        "expected `:`, `{{` or `[` after field name `{field}`, found {}",
                        describe(found)
                    ),
                    hint,
                ),
            });
        }
    };
    p.skip_ws();
    if p.peek().is_some() {
        return Err(p.error(
            "unexpected text after the end of the filter",
            "to combine filters, repeat the `filter` parameter",
        ));
    }
    Ok((Filter::new(field, expr), spans))
}

/// The basic form's value: `true`/`false`, a canonical `i64`, or the verbatim text.
pub(crate) fn basic_value(text: &str) -> Value {
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match canonical_int(text) {
            Some(n) => Value::Int(n),
            None => Value::String(text.to_owned()),
        },
    }
}

/// `text` as an `i64` if it is exactly how that integer is written (`-5`, not `+5` or `05`).
pub(crate) fn canonical_int(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|n| n.to_string() == text)
}

/// Describes a character (or the end of input) for error messages.
fn describe(c: Option<char>) -> String {
    match c {
        None => "end of input".to_owned(),
        Some(' ') => "a space".to_owned(),
        Some(c) if c.is_control() || c.is_whitespace() => {
            format!("`{}`", c.escape_unicode())
        }
        Some(c) => format!("`{c}`"),
    }
}

fn is_json5_ws(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().nth(n))
    }

    fn rest(&self) -> &str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_json5_ws) {
            self.bump();
        }
    }

    /// An error at the current position: "{what}, found {char}".
    fn error(&self, what: &str, hint: &str) -> ParseError {
        let found = self.peek();
        let kind = if found.is_none() {
            K::UnexpectedEnd
        } else {
            K::UnexpectedCharacter
        };
        self.error_kind(kind, format!("{what}, found {}", describe(found)), hint)
    }

    fn error_kind(&self, kind: K, what: String, hint: &str) -> ParseError {
        self.error_at(kind, self.pos, what, hint)
    }

    fn error_at(&self, kind: K, offset: usize, what: String, hint: &str) -> ParseError {
        let hint = (!hint.is_empty()).then(|| hint.to_owned());
        ParseError::new(kind, self.src, offset, what, hint)
    }

    fn field(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(c) if c.is_ascii_lowercase() || c == '_' => {}
            None => {
                return Err(self.error_kind(
                    K::InvalidFieldName,
                    "empty filter".to_owned(),
                    "expected a field name such as `sku:ABC123` or `qty_available{lt:10}`",
                ));
            }
            Some(c) => {
                let hint = if c.is_ascii_uppercase() {
                    "field names are lowercase, e.g. `sku`"
                } else if is_json5_ws(c) {
                    "remove the leading whitespace"
                } else {
                    "a filter starts with a field name such as `sku`"
                };
                return Err(self.error_kind(
                    K::InvalidFieldName,
                    format!("expected a field name, found {}", describe(Some(c))),
                    hint,
                ));
            }
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            self.bump();
        }
        Ok(self.src.get(start..self.pos).unwrap_or("").to_owned())
    }

    /// `{ op: value, ... }` with optional trailing comma.
    fn object(&mut self) -> Result<(Vec<Condition>, GroupSpan), ParseError> {
        let mut span = GroupSpan {
            start: self.pos,
            conds: Vec::new(),
        };
        let mut conds = Vec::new();
        if self.bump() != Some('{') {
            return Err(self.error_at(
                K::UnexpectedCharacter,
                span.start,
                "expected `{`".to_owned(),
                "",
            ));
        }
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok((conds, span));
        }
        loop {
            let op_at = self.pos;
            let op = self.op()?;
            self.skip_ws();
            if self.peek() != Some(':') {
                return Err(self.error(&format!("expected `:` after operator `{op}`"), ""));
            }
            self.bump();
            self.skip_ws();
            let value_at = self.pos;
            let mut items = Vec::new();
            let value = self.value(0, &mut items)?;
            conds.push(Condition { op, value });
            span.conds.push(CondSpan {
                op: op_at,
                value: value_at,
                items,
            });
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                    self.skip_ws();
                    if self.peek() == Some('}') {
                        self.bump();
                        break;
                    }
                }
                Some('}') => {
                    self.bump();
                    break;
                }
                _ => {
                    return Err(self.error(
                        &format!("expected `,` or `}}` after the value of `{op}`"),
                        "",
                    ));
                }
            }
        }
        Ok((conds, span))
    }

    /// An object key: an unquoted identifier or a quoted string, which must name an [`Op`].
    fn op(&mut self) -> Result<Op, ParseError> {
        let at = self.pos;
        let name = match self.peek() {
            Some('"' | '\'') => self.string()?,
            Some(c) if is_ident_start(c) => {
                while self.peek().is_some_and(is_ident_continue) {
                    self.bump();
                }
                self.src.get(at..self.pos).unwrap_or("").to_owned()
            }
            _ => {
                return Err(self.error("expected an operator", &format!("one of {}", Op::list())));
            }
        };
        Op::from_name(&name).ok_or_else(|| {
            self.error_at(
                K::UnknownOperator,
                at,
                format!("unknown operator `{}`", clip(&name)),
                &format!("expected one of {}", Op::list()),
            )
        })
    }

    /// A JSON5 value. `items` receives the offsets of list items (top level only).
    fn value(&mut self, depth: usize, items: &mut Vec<usize>) -> Result<Value, ParseError> {
        match self.peek() {
            Some('"' | '\'') => self.string().map(Value::String),
            Some('[') => self.list(depth, items),
            Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => self.number(),
            Some(c) if is_ident_start(c) => {
                let at = self.pos;
                while self.peek().is_some_and(is_ident_continue) {
                    self.bump();
                }
                let word = self.src.get(at..self.pos).unwrap_or("");
                match word {
                    "null" => Ok(Value::Null),
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "Infinity" | "NaN" => Err(self.error_at(
                        K::InvalidNumber,
                        at,
                        format!("`{word}` is not supported"),
                        "only finite numbers are allowed",
                    )),
                    _ => Err(self.error_at(
                        K::UnexpectedCharacter,
                        at,
                        format!("unquoted string `{}`", clip(word)),
                        &format!("strings must be quoted: \"{}\"", clip(word)),
                    )),
                }
            }
            _ => Err(self.error(
                "expected a value",
                "a quoted string, a number, true, false, null or a [list]",
            )),
        }
    }

    fn list(&mut self, depth: usize, items: &mut Vec<usize>) -> Result<Value, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.error_kind(
                K::TooDeep,
                format!("lists nested more than {MAX_DEPTH} deep"),
                "",
            ));
        }
        self.bump();
        self.skip_ws();
        let mut values = Vec::new();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(Value::List(values));
        }
        loop {
            if depth == 0 {
                items.push(self.pos);
            }
            values.push(self.value(depth + 1, &mut Vec::new())?);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.bump();
                    self.skip_ws();
                    if self.peek() == Some(']') {
                        self.bump();
                        break;
                    }
                }
                Some(']') => {
                    self.bump();
                    break;
                }
                _ => return Err(self.error("expected `,` or `]` in list", "")),
            }
        }
        Ok(Value::List(values))
    }

    /// A JSON5 number: optional sign, then decimal (`0`, `12`, `1.5`, `.5`, `5.`, `1e3`) or
    /// hexadecimal (`0x1F`) digits. Integers without fraction/exponent become [`Value::Int`].
    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let negative = self.peek() == Some('-');
        if matches!(self.peek(), Some('-' | '+')) {
            self.bump();
        }
        for word in ["Infinity", "NaN"] {
            if self.rest().starts_with(word) {
                return Err(self.error_at(
                    K::InvalidNumber,
                    start,
                    format!(
                        "`{}` is not supported",
                        self.src.get(start..self.pos + word.len()).unwrap_or(word)
                    ),
                    "only finite numbers are allowed",
                ));
            }
        }
        if self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X')) {
            self.bump();
            self.bump();
            let digits_at = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.bump();
            }
            let digits = self.src.get(digits_at..self.pos).unwrap_or("");
            if digits.is_empty() {
                return Err(self.error("expected hexadecimal digits after `0x`", ""));
            }
            let magnitude = u64::from_str_radix(digits, 16).ok();
            let value = magnitude.and_then(|m| {
                if negative {
                    0i64.checked_sub_unsigned(m)
                } else {
                    i64::try_from(m).ok()
                }
            });
            return value
                .map(Value::Int)
                .ok_or_else(|| self.out_of_range(start));
        }
        let int_at = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        let int_digits = self.pos - int_at;
        if int_digits > 1 && self.src.as_bytes().get(int_at) == Some(&b'0') {
            return Err(self.error_at(
                K::InvalidNumber,
                int_at,
                "leading zeros are not allowed".to_owned(),
                "write `0.5` or `5`, or quote the text: \"05\"",
            ));
        }
        let mut is_float = false;
        let mut frac_digits = 0;
        if self.peek() == Some('.') {
            is_float = true;
            self.bump();
            let frac_at = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
            frac_digits = self.pos - frac_at;
        }
        if int_digits == 0 && frac_digits == 0 {
            return Err(self.error("expected digits in number", ""));
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            is_float = true;
            self.bump();
            if matches!(self.peek(), Some('-' | '+')) {
                self.bump();
            }
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.error("expected digits in exponent", ""));
            }
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        let text = self.src.get(start..self.pos).unwrap_or("");
        if is_float {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Value::Float(f)),
                _ => Err(self.out_of_range(start)),
            }
        } else {
            text.parse::<i64>()
                .map(Value::Int)
                .map_err(|_| self.out_of_range(start))
        }
    }

    fn out_of_range(&self, start: usize) -> ParseError {
        let text = self.src.get(start..self.pos).unwrap_or("");
        self.error_at(
            K::InvalidNumber,
            start,
            format!("number `{}` is out of range", clip(text)),
            "integers must fit in 64 bits and decimals must be finite; quote it to send text",
        )
    }

    /// A single- or double-quoted JSON5 string.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Err(self.error("expected a string", ""));
        };
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => {
                    return Err(self.error_at(
                        K::InvalidString,
                        start,
                        "unterminated string".to_owned(),
                        &format!("add the closing `{quote}`"),
                    ));
                }
                Some(c) if c == quote => return Ok(out),
                Some('\n' | '\r') => {
                    return Err(self.error_at(
                        K::InvalidString,
                        at,
                        "line break inside a string".to_owned(),
                        "write it as `\\n`",
                    ));
                }
                Some('\\') => self.escape(at, &mut out)?,
                Some(c) => out.push(c),
            }
        }
    }

    /// The part of an escape sequence after the backslash (which is at `at`).
    fn escape(&mut self, at: usize, out: &mut String) -> Result<(), ParseError> {
        let c = match self.bump() {
            Some(c) => c,
            None => {
                return Err(self.error_at(
                    K::InvalidString,
                    at,
                    "unterminated escape sequence".to_owned(),
                    "",
                ));
            }
        };
        match c {
            '"' | '\'' | '\\' | '/' => out.push(c),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '0' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => out.push('\0'),
            // JSON5 line continuation: the escaped line break is dropped.
            '\n' | '\u{2028}' | '\u{2029}' => {}
            '\r' => {
                if self.peek() == Some('\n') {
                    self.bump();
                }
            }
            'x' => {
                let code = self.hex(2, at)?;
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            'u' => {
                let code = self.hex(4, at)?;
                let ch = match code {
                    0xD800..=0xDBFF => {
                        let low = if self.rest().starts_with("\\u") {
                            self.bump();
                            self.bump();
                            Some(self.hex(4, at)?)
                        } else {
                            None
                        };
                        match low {
                            Some(low @ 0xDC00..=0xDFFF) => {
                                char::from_u32(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
                            }
                            _ => None,
                        }
                    }
                    _ => char::from_u32(code),
                };
                match ch {
                    Some(ch) => out.push(ch),
                    None => {
                        return Err(self.error_at(
                            K::InvalidString,
                            at,
                            "unpaired surrogate in `\\u` escape".to_owned(),
                            "a `\\uD800`-`\\uDBFF` escape must be followed by a \
                             `\\uDC00`-`\\uDFFF` escape",
                        ));
                    }
                }
            }
            _ => {
                return Err(self.error_at(
                    K::InvalidString,
                    at,
                    format!("unknown escape `\\{}`", c.escape_debug()),
                    "valid escapes are \\\" \\' \\\\ \\/ \\b \\f \\n \\r \\t \\v \\0 \\xHH \\uXXXX; \
                     write `\\\\` for a backslash",
                ));
            }
        }
        Ok(())
    }

    fn hex(&mut self, len: usize, escape_at: usize) -> Result<u32, ParseError> {
        let mut code = 0u32;
        for _ in 0..len {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    self.bump();
                    code = code * 16 + d;
                }
                None => {
                    return Err(self.error_at(
                        K::InvalidString,
                        escape_at,
                        format!("invalid escape sequence (expected {len} hexadecimal digits)"),
                        "",
                    ));
                }
            }
        }
        Ok(code)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::error::ParseErrorKind;
    use crate::{Condition, Expr, Filter, Op, ParseError, Value};

    fn p(s: &str) -> Filter {
        Filter::parse(s).unwrap_or_else(|e| panic!("{s:?} failed:\n{e}"))
    }

    fn expr(s: &str) -> Expr {
        p(s).expr
    }

    fn err(s: &str) -> ParseError {
        match Filter::parse(s) {
            Ok(f) => panic!("{s:?} parsed as {f:?}"),
            Err(e) => e,
        }
    }

    fn one(s: &str) -> Value {
        match expr(s) {
            Expr::All(mut c) if c.len() == 1 => c.remove(0).value,
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    #[test]
    fn basic_form() {
        assert_eq!(
            p("is_enabled:true"),
            Filter::new("is_enabled", Expr::Equals(Value::Bool(true)))
        );
        assert_eq!(expr("is_enabled:false"), Expr::Equals(Value::Bool(false)));
        assert_eq!(expr("sku:ABC123"), Expr::Equals(s("ABC123")));
        assert_eq!(expr("product_id:5"), Expr::Equals(Value::Int(5)));
        assert_eq!(expr("product_id:-5"), Expr::Equals(Value::Int(-5)));
        assert_eq!(
            expr("product_id:-9223372036854775808"),
            Expr::Equals(Value::Int(i64::MIN))
        );
    }

    #[test]
    fn basic_form_value_is_verbatim() {
        // Not canonical integers: kept as text.
        for text in [
            "+5",
            "05",
            "-0",
            "1.5",
            "1e3",
            "9223372036854775808",
            "0x1f",
        ] {
            assert_eq!(
                expr(&format!("sku:{text}")),
                Expr::Equals(s(text)),
                "{text}"
            );
        }
        for text in [
            "",
            " ",
            " padded ",
            "TRUE",
            "null",
            "a:b:c",
            "{lt:5}",
            "[1]",
            "\"quoted\"",
            "back\\slash",
            "line\nbreak",
            "Box of 12, blue",
            "日本語 🎉",
        ] {
            assert_eq!(
                expr(&format!("sku:{text}")),
                Expr::Equals(s(text)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn advanced_object_is_and() {
        assert_eq!(
            expr("qty_available{lt:10}"),
            Expr::All(vec![Condition::lt(10)])
        );
        assert_eq!(
            expr("id{gt:15,lt:50}"),
            Expr::All(vec![Condition::gt(15), Condition::lt(50)])
        );
        assert_eq!(
            expr(r#"updated_at{gt:"2025-08-28T10:30:00Z"}"#),
            Expr::All(vec![Condition::gt("2025-08-28T10:30:00Z")])
        );
    }

    #[test]
    fn advanced_array_is_or() {
        assert_eq!(
            expr("id[{lt:15},{gt:50}]"),
            Expr::Any(vec![vec![Condition::lt(15)], vec![Condition::gt(50)]])
        );
        assert_eq!(
            expr("weight[{gt:1,lt:50},{null:true}]"),
            Expr::Any(vec![
                vec![Condition::gt(1), Condition::lt(50)],
                vec![Condition::null(true)]
            ])
        );
        assert_eq!(
            expr(r#"product_name[{start:"Box of"},{end:"CASE"}]"#),
            Expr::Any(vec![
                vec![Condition::start("Box of")],
                vec![Condition::end("CASE")]
            ])
        );
    }

    #[test]
    fn empty_object_and_array_parse() {
        assert_eq!(expr("id{}"), Expr::All(vec![]));
        assert_eq!(expr("id[]"), Expr::Any(vec![]));
        assert_eq!(expr("id[{}]"), Expr::Any(vec![vec![]]));
        assert_eq!(expr("id{ }"), Expr::All(vec![]));
    }

    #[test]
    fn all_operators() {
        for op in Op::ALL {
            let text = format!("f{{{op}:1}}");
            assert_eq!(
                expr(&text),
                Expr::All(vec![Condition::new(*op, 1)]),
                "{text}"
            );
        }
    }

    #[test]
    fn quoted_operator_keys() {
        assert_eq!(
            expr(r#"id{"gt":1,'lt':5}"#),
            Expr::All(vec![Condition::gt(1), Condition::lt(5)])
        );
        assert_eq!(p(r#"id{"gt":1,'lt':5}"#).render(), "id{gt:1,lt:5}");
        assert_eq!(
            expr(r#"id{"\u0067t":1}"#),
            Expr::All(vec![Condition::gt(1)])
        );
    }

    #[test]
    fn scalar_values() {
        assert_eq!(one("f{eq:null}"), Value::Null);
        assert_eq!(one("f{eq:true}"), Value::Bool(true));
        assert_eq!(one("f{eq:false}"), Value::Bool(false));
        assert_eq!(one("f{eq:0}"), Value::Int(0));
        assert_eq!(one("f{eq:-7}"), Value::Int(-7));
        assert_eq!(one("f{eq:+7}"), Value::Int(7));
        assert_eq!(one("f{eq:9223372036854775807}"), Value::Int(i64::MAX));
        assert_eq!(one("f{eq:-9223372036854775808}"), Value::Int(i64::MIN));
        assert_eq!(one("f{eq:0x1F}"), Value::Int(31));
        assert_eq!(one("f{eq:-0x10}"), Value::Int(-16));
        assert_eq!(one("f{eq:-0x8000000000000000}"), Value::Int(i64::MIN));
        assert_eq!(one("f{eq:1.5}"), Value::Float(1.5));
        assert_eq!(one("f{eq:-0.25}"), Value::Float(-0.25));
        assert_eq!(one("f{eq:.5}"), Value::Float(0.5));
        assert_eq!(one("f{eq:5.}"), Value::Float(5.0));
        assert_eq!(one("f{eq:1e3}"), Value::Float(1000.0));
        assert_eq!(one("f{eq:1E-3}"), Value::Float(0.001));
        assert_eq!(one("f{eq:2.5e+2}"), Value::Float(250.0));
        assert_eq!(one("f{eq:0.0}"), Value::Float(0.0));
    }

    #[test]
    fn lists() {
        assert_eq!(one(r#"sku{in:["A","B"]}"#), Value::from(["A", "B"]));
        assert_eq!(one("sku{in:[]}"), Value::List(vec![]));
        assert_eq!(
            one("sku{in:[1,'x',null,true,1.5,]}"),
            Value::List(vec![
                Value::Int(1),
                s("x"),
                Value::Null,
                Value::Bool(true),
                Value::Float(1.5)
            ])
        );
        assert_eq!(
            one("sku{in:[[1],[]]}"),
            Value::List(vec![Value::from([1]), Value::List(vec![])])
        );
    }

    #[test]
    fn whitespace_and_trailing_commas() {
        let spaced = "id[ {\n gt : 1 ,\tlt: 2 , } , { null :true } , ] ";
        assert_eq!(
            expr(spaced),
            Expr::Any(vec![
                vec![Condition::gt(1), Condition::lt(2)],
                vec![Condition::null(true)]
            ])
        );
        assert_eq!(expr("id{gt:1,}"), Expr::All(vec![Condition::gt(1)]));
        assert_eq!(
            expr("sku{in:[ 'a' , 'b' , ]}"),
            Expr::All(vec![Condition::is_in(["a", "b"])])
        );
        // Unicode whitespace (NBSP, BOM) counts as JSON5 whitespace.
        assert_eq!(
            expr("id{\u{a0}gt:1\u{feff}}"),
            Expr::All(vec![Condition::gt(1)])
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(one(r#"f{eq:"a\"b"}"#), s("a\"b"));
        assert_eq!(one(r#"f{eq:'a\'b'}"#), s("a'b"));
        assert_eq!(one(r#"f{eq:'a"b'}"#), s("a\"b"));
        assert_eq!(one(r#"f{eq:"a'b"}"#), s("a'b"));
        assert_eq!(one(r#"f{eq:"a\\b"}"#), s("a\\b"));
        assert_eq!(one(r#"f{eq:"a\/b"}"#), s("a/b"));
        assert_eq!(
            one(r#"f{eq:"\b\f\n\r\t\v\0"}"#),
            s("\u{8}\u{c}\n\r\t\u{b}\0")
        );
        assert_eq!(one(r#"f{eq:"\x41\u00e9"}"#), s("Aé"));
        assert_eq!(one(r#"f{eq:"\uD83D\uDE00"}"#), s("😀"));
        assert_eq!(one(r#"f{eq:"\ud83c\udf89!"}"#), s("🎉!"));
        assert_eq!(one("f{eq:\"line\\\ncontinued\"}"), s("linecontinued"));
        assert_eq!(one("f{eq:\"crlf\\\r\ncontinued\"}"), s("crlfcontinued"));
        assert_eq!(one("f{eq:\"raw\ttab\"}"), s("raw\ttab"));
    }

    #[test]
    fn strings_hold_grammar_characters_verbatim() {
        assert_eq!(one(r#"f{eq:"a,b{c}[d]:e"}"#), s("a,b{c}[d]:e"));
        assert_eq!(one(r#"f{eq:"日本語 🎉 ñ"}"#), s("日本語 🎉 ñ"));
        assert_eq!(one(r#"f{eq:""}"#), s(""));
        assert_eq!(one("f{eq:''}"), s(""));
    }

    fn check(
        input: &str,
        kind: ParseErrorKind,
        column: usize,
        message_contains: &str,
    ) -> ParseError {
        let e = err(input);
        assert_eq!(e.kind(), kind, "{input:?}: {e}");
        assert_eq!(e.column(), column, "{input:?}: {e}");
        assert!(
            e.message().contains(message_contains),
            "{input:?}: {:?} lacks {message_contains:?}",
            e.message()
        );
        assert_eq!(e.input(), input);
        e
    }

    #[test]
    fn unknown_operator_display() {
        let e = check(
            "qty_available{foo:1}",
            ParseErrorKind::UnknownOperator,
            15,
            "`foo`",
        );
        assert_eq!(e.offset(), 14);
        assert_eq!(
            e.to_string(),
            "unknown operator `foo` at column 15 (expected one of eq, neq, gt, gteq, lt, lteq, \
             null, start, end, in, nin)\n  qty_available{foo:1}\n                ^"
        );
        check(
            r#"id{gt:1,"gte":2}"#,
            ParseErrorKind::UnknownOperator,
            9,
            "`gte`",
        );
        check(
            "id[{lt:1},{EQ:2}]",
            ParseErrorKind::UnknownOperator,
            12,
            "`EQ`",
        );
    }

    #[test]
    fn field_name_errors() {
        check("", ParseErrorKind::InvalidFieldName, 1, "empty filter");
        check("SKU:1", ParseErrorKind::InvalidFieldName, 1, "found `S`");
        check(
            " sku:1",
            ParseErrorKind::InvalidFieldName,
            1,
            "found a space",
        );
        check("9sku:1", ParseErrorKind::InvalidFieldName, 1, "field name");
        check(
            "skU:1",
            ParseErrorKind::InvalidFieldName,
            3,
            "invalid character `U`",
        );
        check(
            "sku-x:1",
            ParseErrorKind::InvalidFieldName,
            4,
            "invalid character `-`",
        );
        check(
            "sku",
            ParseErrorKind::UnexpectedEnd,
            4,
            "after field name `sku`",
        );
        check(
            "sku {lt:1}",
            ParseErrorKind::UnexpectedCharacter,
            4,
            "found a space",
        );
        check(
            "sku={lt:1}",
            ParseErrorKind::UnexpectedCharacter,
            4,
            "found `=`",
        );
    }

    #[test]
    fn structure_errors() {
        check(
            "id{gt 1}",
            ParseErrorKind::UnexpectedCharacter,
            7,
            "expected `:` after operator `gt`",
        );
        check(
            "id{gt:1 lt:2}",
            ParseErrorKind::UnexpectedCharacter,
            9,
            "expected `,` or `}`",
        );
        check("id{gt:1", ParseErrorKind::UnexpectedEnd, 8, "end of input");
        check(
            "id{gt:}",
            ParseErrorKind::UnexpectedCharacter,
            7,
            "expected a value",
        );
        check(
            "id{:1}",
            ParseErrorKind::UnexpectedCharacter,
            4,
            "expected an operator",
        );
        check(
            "id{,}",
            ParseErrorKind::UnexpectedCharacter,
            4,
            "expected an operator",
        );
        check(
            "id[1]",
            ParseErrorKind::UnexpectedCharacter,
            4,
            "expected `{`",
        );
        check(
            "id[{gt:1}{lt:2}]",
            ParseErrorKind::UnexpectedCharacter,
            10,
            "expected `,` or `]`",
        );
        check(
            "id[{gt:1}",
            ParseErrorKind::UnexpectedEnd,
            10,
            "expected `,` or `]`",
        );
        check(
            "id{gt:1}x",
            ParseErrorKind::UnexpectedCharacter,
            9,
            "after the end of the filter",
        );
        check(
            "id{gt:1} {lt:2}",
            ParseErrorKind::UnexpectedCharacter,
            10,
            "after the end",
        );
        check(
            "sku{in:[1 2]}",
            ParseErrorKind::UnexpectedCharacter,
            11,
            "expected `,` or `]` in list",
        );
        check(
            "id{gt:10abc}",
            ParseErrorKind::UnexpectedCharacter,
            9,
            "found `a`",
        );
    }

    #[test]
    fn value_errors() {
        let e = check(
            "sku{eq:ABC}",
            ParseErrorKind::UnexpectedCharacter,
            8,
            "unquoted string `ABC`",
        );
        assert!(e.message().contains("\"ABC\""));
        check("id{gt:NaN}", ParseErrorKind::InvalidNumber, 7, "`NaN`");
        check(
            "id{gt:-Infinity}",
            ParseErrorKind::InvalidNumber,
            7,
            "`-Infinity`",
        );
        check(
            "id{gt:007}",
            ParseErrorKind::InvalidNumber,
            7,
            "leading zeros",
        );
        check(
            "id{gt:-01}",
            ParseErrorKind::InvalidNumber,
            8,
            "leading zeros",
        );
        check(
            "id{gt:9223372036854775808}",
            ParseErrorKind::InvalidNumber,
            7,
            "out of range",
        );
        check(
            "id{gt:0x8000000000000000}",
            ParseErrorKind::InvalidNumber,
            7,
            "out of range",
        );
        check(
            "id{gt:1e999}",
            ParseErrorKind::InvalidNumber,
            7,
            "out of range",
        );
        check(
            "id{gt:1e}",
            ParseErrorKind::UnexpectedCharacter,
            9,
            "exponent",
        );
        check(
            "id{gt:-}",
            ParseErrorKind::UnexpectedCharacter,
            8,
            "expected digits",
        );
        check(
            "id{gt:.}",
            ParseErrorKind::UnexpectedCharacter,
            8,
            "expected digits",
        );
        check(
            "id{gt:0x}",
            ParseErrorKind::UnexpectedCharacter,
            9,
            "hexadecimal",
        );
        check(
            "id{gt:True}",
            ParseErrorKind::UnexpectedCharacter,
            7,
            "unquoted string `True`",
        );
    }

    #[test]
    fn string_errors() {
        check(
            r#"sku{eq:"abc}"#,
            ParseErrorKind::InvalidString,
            8,
            "unterminated string",
        );
        check(
            r#"sku{eq:"a\qb"}"#,
            ParseErrorKind::InvalidString,
            10,
            "unknown escape `\\q`",
        );
        check(
            r#"sku{eq:"a\1"}"#,
            ParseErrorKind::InvalidString,
            10,
            "unknown escape",
        );
        check(
            r#"sku{eq:"\01"}"#,
            ParseErrorKind::InvalidString,
            9,
            "unknown escape",
        );
        check(
            r#"sku{eq:"\u12"}"#,
            ParseErrorKind::InvalidString,
            9,
            "4 hexadecimal digits",
        );
        check(
            r#"sku{eq:"\xZZ"}"#,
            ParseErrorKind::InvalidString,
            9,
            "2 hexadecimal digits",
        );
        check(
            r#"sku{eq:"\uD83D"}"#,
            ParseErrorKind::InvalidString,
            9,
            "unpaired surrogate",
        );
        check(
            r#"sku{eq:"\uD83Dx"}"#,
            ParseErrorKind::InvalidString,
            9,
            "unpaired surrogate",
        );
        check(
            r#"sku{eq:"\uD83D\u0041"}"#,
            ParseErrorKind::InvalidString,
            9,
            "unpaired surrogate",
        );
        check(
            r#"sku{eq:"\uDE00"}"#,
            ParseErrorKind::InvalidString,
            9,
            "unpaired surrogate",
        );
        check(
            "sku{eq:\"a\nb\"}",
            ParseErrorKind::InvalidString,
            10,
            "line break",
        );
        check(
            "sku{eq:\"a\\",
            ParseErrorKind::InvalidString,
            10,
            "unterminated escape",
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // "é" and "🎉" are multi-byte; the column counts characters.
        let e = check(
            "sku{eq:\"é🎉\",foo:1}",
            ParseErrorKind::UnknownOperator,
            13,
            "`foo`",
        );
        assert_eq!(e.offset(), "sku{eq:\"é🎉\",".len());
        // The caret accounts for the emoji being two cells wide.
        assert_eq!(
            e.to_string().lines().nth(2),
            Some(format!("  {}^", " ".repeat(13)).as_str())
        );
    }

    #[test]
    fn caret_is_under_the_bad_character() {
        let e = err("id{gt:1,lt:2,bad:3}");
        let text = e.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], "  id{gt:1,lt:2,bad:3}");
        assert_eq!(lines[2].find('^'), Some(2 + 13));
        assert_eq!(&lines[1][2 + 13..2 + 16], "bad");
    }

    #[test]
    fn nesting_is_limited() {
        let deep = format!("sku{{in:{}{}}}", "[".repeat(100), "]".repeat(100));
        let e = err(&deep);
        assert_eq!(e.kind(), ParseErrorKind::TooDeep);
        let ok = format!(
            "sku{{in:{}{}}}",
            "[".repeat(super::MAX_DEPTH),
            "]".repeat(super::MAX_DEPTH)
        );
        assert!(Filter::parse(&ok).is_ok());
    }

    #[test]
    fn spans_locate_parts() {
        let (_, spans) = super::parse("id[{gt:1},{ lt : [5, 6] }]").unwrap();
        assert_eq!(spans.field_end, 2);
        assert_eq!(spans.groups.len(), 2);
        assert_eq!(spans.groups[1].start, 10);
        assert_eq!(spans.groups[1].conds[0].op, 12);
        assert_eq!(spans.groups[1].conds[0].value, 17);
        assert_eq!(spans.groups[1].conds[0].items, vec![18, 21]);
        let (_, spans) = super::parse("sku:x").unwrap();
        assert_eq!(spans.groups[0].conds[0].value, 4);
    }

    #[test]
    fn from_str_and_op_parse() {
        let f: Filter = "sku:A".parse().unwrap();
        assert_eq!(f, Filter::equals("sku", "A"));
        assert_eq!("gteq".parse::<Op>(), Ok(Op::Gteq));
        let e = "gte".parse::<Op>().unwrap_err();
        assert!(
            e.to_string()
                .starts_with("unknown operator `gte` (expected one of eq,")
        );
    }
}
