//! Error types: [`ParseError`], [`ValidationError`] and the combined [`FilterError`].

use std::fmt;

/// What kind of syntax error a [`ParseError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The field name is missing or is not `[a-z_][a-z0-9_]*`.
    InvalidFieldName,
    /// A character that is not allowed at this point.
    UnexpectedCharacter,
    /// The input ended early (e.g. an unclosed `{`).
    UnexpectedEnd,
    /// An object key that is not a known operator.
    UnknownOperator,
    /// A malformed string literal (bad escape, unterminated, line break, lone surrogate).
    InvalidString,
    /// A malformed or out-of-range number.
    InvalidNumber,
    /// Lists nested deeper than the parser allows.
    TooDeep,
}

/// A syntax error, with its position in the input.
///
/// [`Display`](fmt::Display) prints the message, then the input with a caret under the
/// offending character:
///
/// ```text
/// unknown operator `foo` at column 15 (expected one of eq, neq, gt, gteq, lt, lteq, null, start, end, in, nin)
///   qty_available{foo:1}
///                 ^
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}\n{}", caret_lines(input, *offset))]
pub struct ParseError {
    kind: ParseErrorKind,
    message: String,
    offset: usize,
    column: usize,
    input: String,
}

impl ParseError {
    /// `what` is the problem ("unknown operator `foo`"), `expected` the optional hint.
    pub(crate) fn new(
        kind: ParseErrorKind,
        input: &str,
        offset: usize,
        what: impl fmt::Display,
        expected: Option<String>,
    ) -> Self {
        let offset = floor_char_boundary(input, offset);
        let column = column_of(input, offset);
        let message = match expected {
            Some(e) => format!("{what} at column {column} ({e})"),
            None => format!("{what} at column {column}"),
        };
        ParseError {
            kind,
            message,
            offset,
            column,
            input: input.to_owned(),
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// Byte offset of the offending character in the input (`input.len()` at end of input).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// 1-based column of the offending character, counted in Unicode scalar values (`char`s).
    pub fn column(&self) -> usize {
        self.column
    }

    /// The one-line message (what was found, where, and what was expected).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The input that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }
}

/// What kind of semantic error a [`ValidationError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValidationErrorKind {
    /// The field is not in the [`fields`](crate::fields) catalogue.
    UnknownField,
    /// The operator does not apply to the field's kind (e.g. `start` on an integer).
    UnsupportedOperator,
    /// The operand has the wrong type or is not a valid value for the field.
    InvalidValue,
    /// `field{}` or `field[]` (or an empty `{}` inside `[...]`).
    EmptyExpression,
    /// The same operator twice in one object (the server may keep only the last).
    DuplicateOperator,
}

/// Where in the AST a validation error is (used to map it back to input text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    /// The field name.
    Field,
    /// The whole expression (just after the field name).
    Expr,
    /// Object `group` inside `[...]` (or the single `{...}`).
    Group(usize),
    /// The operator key of a condition.
    Op(usize, usize),
    /// The operand of a condition.
    Value(usize, usize),
    /// An item of a list operand.
    Item(usize, usize, usize),
}

/// A filter that parses but does not fit the endpoint's [`fields`](crate::fields) catalogue.
///
/// Errors from [`Filter::validate`](crate::Filter::validate) have no position;
/// errors from [`Filter::parse_validated`](crate::Filter::parse_validated) carry the offset,
/// column and input and display a caret like [`ParseError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: ValidationErrorKind,
    field: String,
    what: String,
    hint: String,
    message: String,
    site: Site,
    location: Option<(usize, usize, String)>,
}

impl ValidationError {
    pub(crate) fn new(
        kind: ValidationErrorKind,
        field: &str,
        site: Site,
        what: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        let mut inner = Inner {
            kind,
            field: field.to_owned(),
            what: what.into(),
            hint: hint.into(),
            message: String::new(),
            site,
            location: None,
        };
        inner.message = inner.compose();
        ValidationError(Box::new(inner))
    }

    /// Attaches the position of the error in `input`.
    pub(crate) fn locate(mut self, input: &str, offset: usize) -> Self {
        let offset = floor_char_boundary(input, offset);
        self.0.location = Some((offset, column_of(input, offset), input.to_owned()));
        self.0.message = self.0.compose();
        self
    }

    pub(crate) fn site(&self) -> Site {
        self.0.site
    }

    /// The kind of error.
    pub fn kind(&self) -> ValidationErrorKind {
        self.0.kind
    }

    /// The filter's field name.
    pub fn field(&self) -> &str {
        &self.0.field
    }

    /// The one-line message: what is wrong (and where, if known), then what to do.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Byte offset in the input, when the error came from parsed text.
    pub fn offset(&self) -> Option<usize> {
        self.0.location.as_ref().map(|l| l.0)
    }

    /// 1-based character column in the input, when the error came from parsed text.
    pub fn column(&self) -> Option<usize> {
        self.0.location.as_ref().map(|l| l.1)
    }

    /// The input text, when the error came from parsed text.
    pub fn input(&self) -> Option<&str> {
        self.0.location.as_ref().map(|l| l.2.as_str())
    }
}

impl Inner {
    fn compose(&self) -> String {
        let at = match &self.location {
            Some((_, column, _)) => format!(" at column {column}"),
            None => String::new(),
        };
        if self.hint.is_empty() {
            format!("{}{at}", self.what)
        } else {
            format!("{}{at}; {}", self.what, self.hint)
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        if let Some((offset, _, input)) = &self.0.location {
            write!(f, "\n{}", caret_lines(input, *offset))?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Either a syntax error or a validation error (from
/// [`Filter::parse_validated`](crate::Filter::parse_validated)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The text is not valid filter syntax.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The filter parses but does not fit the field catalogue.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl FilterError {
    /// The one-line message of the inner error.
    pub fn message(&self) -> &str {
        match self {
            FilterError::Parse(e) => e.message(),
            FilterError::Invalid(e) => e.message(),
        }
    }

    /// The byte offset of the inner error, if known.
    pub fn offset(&self) -> Option<usize> {
        match self {
            FilterError::Parse(e) => Some(e.offset()),
            FilterError::Invalid(e) => e.offset(),
        }
    }

    /// The 1-based character column of the inner error, if known.
    pub fn column(&self) -> Option<usize> {
        match self {
            FilterError::Parse(e) => Some(e.column()),
            FilterError::Invalid(e) => e.column(),
        }
    }
}

/// Shortens user text quoted in messages and escapes control characters.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == MAX {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn floor_char_boundary(input: &str, offset: usize) -> usize {
    let mut offset = offset.min(input.len());
    while !input.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn column_of(input: &str, offset: usize) -> usize {
    input.get(..offset).map_or(0, |s| s.chars().count()) + 1
}

/// The input on one line (control characters shown as visible symbols) and a caret line.
pub(crate) fn caret_lines(input: &str, offset: usize) -> String {
    let mut line = String::with_capacity(input.len());
    let mut pad = 0usize;
    for (i, c) in input.char_indices() {
        let shown = visible(c);
        if i < offset {
            pad += display_width(shown);
        }
        line.push(shown);
    }
    format!("  {line}\n  {}^", " ".repeat(pad))
}

/// Control characters as Unicode "control pictures" so the input stays on one line.
fn visible(c: char) -> char {
    match c {
        '\0'..='\u{1f}' => char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' => '\u{fffd}',
        _ => c,
    }
}

/// Rough terminal width: 2 for East Asian wide characters and emoji, 1 otherwise.
fn display_width(c: char) -> usize {
    match u32::from(c) {
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_under_ascii() {
        assert_eq!(caret_lines("abc", 1), "  abc\n   ^");
        assert_eq!(caret_lines("abc", 3), "  abc\n     ^");
    }

    #[test]
    fn caret_accounts_for_wide_chars_and_controls() {
        // "日" is wide: the caret after it moves two cells.
        assert_eq!(caret_lines("日x", 3), "  日x\n    ^");
        // A newline is shown as ␊ and keeps everything on one line.
        assert_eq!(caret_lines("a\nb", 2), "  a\u{240a}b\n    ^");
    }

    #[test]
    fn column_counts_chars() {
        let e = ParseError::new(ParseErrorKind::UnexpectedCharacter, "é!", 2, "x", None);
        assert_eq!(e.column(), 2);
        assert_eq!(e.offset(), 2);
        // Offsets inside a character snap back to its start.
        let e = ParseError::new(ParseErrorKind::UnexpectedCharacter, "é!", 1, "x", None);
        assert_eq!(e.offset(), 0);
        assert_eq!(e.column(), 1);
    }
}
