//! The filter syntax tree: [`Filter`], [`Expr`], [`Condition`], [`Op`] and [`Value`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;

/// One `filter=` query parameter: a field name and the expression it is tested against.
///
/// Build one with the constructors ([`Filter::equals`], [`Filter::condition`],
/// [`Filter::all`], [`Filter::any`], [`Filter::new`]) or parse one with [`Filter::parse`] /
/// [`str::parse`]. [`Filter::render`] (and [`Display`](fmt::Display)) writes the canonical
/// wire text, which parses back to the same value.
///
/// ```
/// use shipstream_filter::{Condition, Filter, Op};
///
/// let f = Filter::any("id", [[Condition::lt(15)], [Condition::gt(50)]]);
/// assert_eq!(f.render(), "id[{lt:15},{gt:50}]");
/// assert_eq!("id[{lt:15},{gt:50}]".parse::<Filter>().unwrap(), f);
/// assert_eq!(Filter::condition("qty_available", Op::Lt, 10).to_string(), "qty_available{lt:10}");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// The field name, e.g. `qty_available`. The grammar allows `[a-z_][a-z0-9_]*`;
    /// [`Filter::validate`] checks it against the [`fields`](crate::fields) catalogue.
    pub field: String,
    /// What the field is tested against.
    pub expr: Expr,
}

/// The right-hand side of a filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// The basic form `key:value` (the field equals the value).
    ///
    /// Rendered as `key:value` when that text parses back to exactly this value (booleans,
    /// integers, and strings other than `true`, `false` and canonical integers such as `42`);
    /// otherwise rendered as the equivalent advanced form `key{eq:value}`, which parses back
    /// as [`Expr::All`] with one `eq` condition. [`Filter::equals`] picks the right variant.
    Equals(Value),
    /// An object `key{op:value,...}`: every condition must hold (AND).
    /// Empty (`key{}`) is syntactically allowed but rejected by [`Filter::validate`].
    All(Vec<Condition>),
    /// An array of objects `key[{...},{...}]`: at least one object must hold (OR of ANDs).
    /// Empty (`key[]`) is syntactically allowed but rejected by [`Filter::validate`].
    Any(Vec<Vec<Condition>>),
}

/// One `op:value` pair inside an advanced-form object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The operator (the object key).
    pub op: Op,
    /// The operand.
    pub value: Value,
}

/// A condition operator (the key inside an advanced-form object).
///
/// The grammar knows how to parse and evaluate each of these. Which of them the vendor's
/// documentation shows and which are assumed from ShipStream's older Merchant API (and may
/// be rejected by the server) is the spec's to say: [`Op::is_documented`] reads it from the
/// generated `x-filter-operators`, and [`Filter::validate`](crate::Filter::validate) refuses
/// an operator the spec does not list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Op {
    /// `eq`: equals.
    Eq,
    /// `neq`: does not equal.
    Neq,
    /// `gt`: greater than.
    Gt,
    /// `gteq`: greater than or equal.
    Gteq,
    /// `lt`: less than.
    Lt,
    /// `lteq`: less than or equal.
    Lteq,
    /// `null`: `null:true` matches missing/null values, `null:false` present ones.
    Null,
    /// `start`: string starts with.
    Start,
    /// `end`: string ends with.
    End,
    /// `in`: equals one of a list.
    In,
    /// `nin`: equals none of a list.
    Nin,
}

impl Op {
    /// Every operator, in the order used by error messages.
    pub const ALL: &'static [Op] = &[
        Op::Eq,
        Op::Neq,
        Op::Gt,
        Op::Gteq,
        Op::Lt,
        Op::Lteq,
        Op::Null,
        Op::Start,
        Op::End,
        Op::In,
        Op::Nin,
    ];

    /// The wire name, e.g. `"gteq"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Neq => "neq",
            Op::Gt => "gt",
            Op::Gteq => "gteq",
            Op::Lt => "lt",
            Op::Lteq => "lteq",
            Op::Null => "null",
            Op::Start => "start",
            Op::End => "end",
            Op::In => "in",
            Op::Nin => "nin",
        }
    }

    /// Looks an operator up by its wire name (case-sensitive).
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.iter().copied().find(|op| op.as_str() == name)
    }

    /// Whether the vendor's documentation shows this operator (the spec's
    /// `x-filter-operators.documented`); the others are assumed.
    pub fn is_documented(self) -> bool {
        shipstream_inventory_generated::api::operator(self.as_str()).is_some_and(|o| o.documented)
    }

    /// Whether the spec lists this operator at all (`x-filter-operators`).
    pub fn in_spec(self) -> bool {
        shipstream_inventory_generated::api::operator(self.as_str()).is_some()
    }

    /// `"eq, neq, gt, ..."`: the operator list used in error messages.
    pub(crate) fn list() -> String {
        Op::ALL
            .iter()
            .map(|op| op.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned by [`Op::from_str`] for an unknown operator name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown operator `{0}` (expected one of {list})", list = Op::list())]
pub struct UnknownOp(pub String);

impl FromStr for Op {
    type Err = UnknownOp;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Op::from_name(s).ok_or_else(|| UnknownOp(s.to_owned()))
    }
}

/// A JSON5 value used as an operand.
///
/// Serialised (serde) as the plain JSON value. Parsed floats are always finite; a non-finite
/// float cannot be written in the grammar and renders as `null`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// A number with a fraction or exponent (`1.5`, `1e3`).
    Float(f64),
    /// A quoted string.
    String(String),
    /// An array of values (operand of `in` / `nin`).
    List(Vec<Value>),
}

impl Value {
    /// The string, if this is a [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short description of the value's type for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a decimal number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
        }
    }
}

impl fmt::Display for Value {
    /// Writes the canonical JSON5 text (strings double-quoted and escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        crate::render::write_value(&mut out, self);
        f.write_str(&out)
    }
}

macro_rules! value_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
value_from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` becomes [`Value::Null`].
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>, const N: usize> From<[T; N]> for Value {
    fn from(v: [T; N]) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

impl Condition {
    /// A condition `op:value`.
    pub fn new(op: Op, value: impl Into<Value>) -> Self {
        Condition {
            op,
            value: value.into(),
        }
    }

    /// `eq:value`.
    pub fn eq(value: impl Into<Value>) -> Self {
        Self::new(Op::Eq, value)
    }

    /// `neq:value` (operator assumed, see [`Op`]).
    pub fn neq(value: impl Into<Value>) -> Self {
        Self::new(Op::Neq, value)
    }

    /// `gt:value`.
    pub fn gt(value: impl Into<Value>) -> Self {
        Self::new(Op::Gt, value)
    }

    /// `gteq:value` (operator assumed, see [`Op`]).
    pub fn gteq(value: impl Into<Value>) -> Self {
        Self::new(Op::Gteq, value)
    }

    /// `lt:value`.
    pub fn lt(value: impl Into<Value>) -> Self {
        Self::new(Op::Lt, value)
    }

    /// `lteq:value` (operator assumed, see [`Op`]).
    pub fn lteq(value: impl Into<Value>) -> Self {
        Self::new(Op::Lteq, value)
    }

    /// `null:is_null`: `true` matches missing values, `false` present ones.
    pub fn null(is_null: bool) -> Self {
        Self::new(Op::Null, is_null)
    }

    /// `start:"prefix"`.
    pub fn start(prefix: impl Into<String>) -> Self {
        Self::new(Op::Start, prefix.into())
    }

    /// `end:"suffix"`.
    pub fn end(suffix: impl Into<String>) -> Self {
        Self::new(Op::End, suffix.into())
    }

    /// `in:[values...]` (operator assumed, see [`Op`]).
    pub fn is_in<T: Into<Value>>(values: impl IntoIterator<Item = T>) -> Self {
        Self::new(
            Op::In,
            Value::List(values.into_iter().map(Into::into).collect()),
        )
    }

    /// `nin:[values...]` (operator assumed, see [`Op`]).
    pub fn not_in<T: Into<Value>>(values: impl IntoIterator<Item = T>) -> Self {
        Self::new(
            Op::Nin,
            Value::List(values.into_iter().map(Into::into).collect()),
        )
    }
}

impl fmt::Display for Condition {
    /// Writes `op:value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.op, self.value)
    }
}

impl Filter {
    /// A filter from a field name and an expression, taken as is.
    pub fn new(field: impl Into<String>, expr: Expr) -> Self {
        Filter {
            field: field.into(),
            expr,
        }
    }

    /// `field` equals `value`.
    ///
    /// Uses the basic form [`Expr::Equals`] (`sku:ABC123`) when the value is unambiguous as
    /// bare text: a boolean, an integer, or a non-empty string that does not look like a
    /// boolean, number or `null`, has no leading/trailing whitespace and no control
    /// characters. Anything else becomes `field{eq:value}` ([`Expr::All`] with one `eq`).
    ///
    /// ```
    /// use shipstream_filter::Filter;
    ///
    /// assert_eq!(Filter::equals("sku", "ABC123").render(), "sku:ABC123");
    /// assert_eq!(Filter::equals("is_enabled", true).render(), "is_enabled:true");
    /// assert_eq!(Filter::equals("sku", "007").render(), r#"sku{eq:"007"}"#);
    /// assert_eq!(Filter::equals("sku", " padded").render(), r#"sku{eq:" padded"}"#);
    /// ```
    pub fn equals(field: impl Into<String>, value: impl Into<Value>) -> Self {
        let value = value.into();
        let expr = if crate::render::is_basic_safe(&value) {
            Expr::Equals(value)
        } else {
            Expr::All(vec![Condition::eq(value)])
        };
        Self::new(field, expr)
    }

    /// `field{op:value}`: a single advanced-form condition.
    pub fn condition(field: impl Into<String>, op: Op, value: impl Into<Value>) -> Self {
        Self::new(field, Expr::All(vec![Condition::new(op, value)]))
    }

    /// `field{c1,c2,...}`: all conditions must hold.
    ///
    /// ```
    /// use shipstream_filter::{Condition, Filter};
    ///
    /// let f = Filter::all("id", [Condition::gt(15), Condition::lt(50)]);
    /// assert_eq!(f.render(), "id{gt:15,lt:50}");
    /// ```
    pub fn all(field: impl Into<String>, conditions: impl IntoIterator<Item = Condition>) -> Self {
        Self::new(field, Expr::All(conditions.into_iter().collect()))
    }

    /// `field[{...},{...}]`: at least one group of conditions must hold.
    ///
    /// ```
    /// use shipstream_filter::{Condition, Filter};
    ///
    /// let f = Filter::any(
    ///     "product_name",
    ///     [[Condition::start("Box of")], [Condition::end("CASE")]],
    /// );
    /// assert_eq!(f.render(), r#"product_name[{start:"Box of"},{end:"CASE"}]"#);
    /// ```
    pub fn any<G>(field: impl Into<String>, groups: impl IntoIterator<Item = G>) -> Self
    where
        G: IntoIterator<Item = Condition>,
    {
        Self::new(
            field,
            Expr::Any(
                groups
                    .into_iter()
                    .map(|g| g.into_iter().collect())
                    .collect(),
            ),
        )
    }

    /// Parses one `filter=` value (already URL-decoded), e.g. `qty_available{lt:10}`.
    ///
    /// ```
    /// use shipstream_filter::{Condition, Expr, Filter, Value};
    ///
    /// let f = Filter::parse("weight[{gt:1,lt:50},{null:true}]").unwrap();
    /// assert_eq!(f.field, "weight");
    /// assert_eq!(
    ///     f.expr,
    ///     Expr::Any(vec![
    ///         vec![Condition::gt(1), Condition::lt(50)],
    ///         vec![Condition::null(true)],
    ///     ])
    /// );
    /// assert_eq!(Filter::parse("sku:ABC123").unwrap().expr, Expr::Equals(Value::from("ABC123")));
    /// ```
    pub fn parse(input: &str) -> Result<Filter, ParseError> {
        crate::parse::parse(input).map(|(filter, _)| filter)
    }

    /// Writes the canonical, whitespace-free wire text (not URL-encoded).
    /// Same text as [`Display`](fmt::Display).
    pub fn render(&self) -> String {
        let mut out = String::new();
        crate::render::write_filter(&mut out, self);
        out
    }
}

impl FromStr for Filter {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::parse(s)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}
