//! Facts about the API, generated from `openapi.yaml` beside the client: the path, every
//! parameter with its bounds, default, values and encoding, the filterable fields and their
//! kinds, the operators, the sort keys, the properties of a level and of a product, the
//! `x-assumed` notes and the spec itself as JSON.
//!
//! The types below are written by hand; every value of them (the constants, the
//! [`SortField`] enum and the enums of enumerated filter fields) is generated, so the rest
//! of the workspace never writes a fact about the API down again.
//!
//! ```
//! use shipstream_inventory_generated::api;
//!
//! assert_eq!(api::PATH, "/api/global/v1/inventory/levels/total");
//! assert_eq!(api::params::LIMIT.maximum, Some(1000));
//! assert!(api::params::FIELDS.comma_joined);
//! let qty = api::filterable_field("qty_available").map(|f| f.kind);
//! assert_eq!(qty, Some(api::FieldKind::Integer));
//! assert_eq!("sku".parse::<api::SortField>().map(|s| s.as_str()), Ok("sku"));
//! ```

use std::fmt;

// Mirrors codegen's facts/model.rs: codegen is a build dependency only, not a runtime one.

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// The query string.
    Query,
    /// A request header.
    Header,
}

/// The JSON type of a parameter's value or of a property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonType {
    /// `integer`
    Integer,
    /// `number`
    Number,
    /// `string`
    String,
    /// `boolean`
    Boolean,
    /// `array`
    Array,
    /// `object`
    Object,
    /// No type given: any JSON value.
    Any,
}

/// One parameter of the operation, as the spec declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Parameter {
    /// The name on the wire (`fields:product`).
    pub name: &'static str,
    /// Query or header.
    pub location: Location,
    /// The spec's description.
    pub description: &'static str,
    /// Whether the parameter must be sent.
    pub required: bool,
    /// The type of the value.
    pub ty: JsonType,
    /// The type of an array's items.
    pub item_type: Option<JsonType>,
    /// An array sent once with its items comma-joined (`explode: false`).
    pub comma_joined: bool,
    /// An array sent as the parameter repeated once per item.
    pub repeated: bool,
    /// The smallest value allowed.
    pub minimum: Option<i64>,
    /// The largest value allowed.
    pub maximum: Option<i64>,
    /// The shortest value (or item) allowed.
    pub min_length: Option<u64>,
    /// The value the server assumes when the parameter is left out, as the wire spells it.
    pub default: Option<&'static str>,
    /// The allowed values (of the value or of each item), in spec order; empty when any.
    /// When [`open`](Self::open), the known values: others are accepted too.
    pub values: &'static [&'static str],
    /// Whether [`values`](Self::values) is open: the spec lists the known values and
    /// allows others (an `anyOf` of an `enum` and a plain string).
    pub open: bool,
    /// The pattern the value (or each item) must match, an ECMA-262 regular expression.
    pub pattern: Option<&'static str>,
}

/// The kind of a filterable field, which decides the operators and operands it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// A whole number (ids, quantities).
    Integer,
    /// Free text, compared case-sensitively.
    String,
    /// `true` / `false`.
    Boolean,
    /// An ISO-8601 / RFC 3339 date-time such as `2025-08-28T10:30:00Z`.
    Timestamp,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
}

impl FieldKind {
    /// A short name for messages: `"integer"`, `"string"`, `"boolean"`, `"timestamp"`,
    /// `"enum"`.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Integer => "integer",
            FieldKind::String => "string",
            FieldKind::Boolean => "boolean",
            FieldKind::Timestamp => "timestamp",
            FieldKind::Enum(_) => "enum",
        }
    }
}

/// Whether a filterable field belongs to the product or to the level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldGroup {
    /// A field of the level's product.
    Product,
    /// A field of the level itself.
    Inventory,
}

/// One filterable field (`x-filterable-fields` of the `filter` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FilterableField {
    /// The name used in `filter=` (`qty_available`).
    pub name: &'static str,
    /// Its kind.
    pub kind: FieldKind,
    /// Product or level field.
    pub group: FieldGroup,
    /// The spec's description.
    pub description: &'static str,
    /// Whether it is also a sort key.
    pub sortable: bool,
}

/// One condition key of the filter syntax (`x-filter-operators`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Operator {
    /// The key (`gteq`).
    pub name: &'static str,
    /// Shown by the vendor's documentation; `false` for keys assumed from the older
    /// Merchant API.
    pub documented: bool,
}

/// One property of a level or of a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Property {
    /// The member name.
    pub name: &'static str,
    /// Its description (the referenced schema's when the property has none).
    pub description: &'static str,
    /// Its JSON type (the referenced schema's when it is a reference; `String` for an
    /// open enum).
    pub ty: JsonType,
    /// Its `format` (`date-time`, `int64`, ...).
    pub format: Option<&'static str>,
    /// Whether it may be `null`.
    pub nullable: bool,
    /// Whether it is not among the object's basic fields (`x-optional-fields`): sent only
    /// when asked for by name or with `all`.
    pub optional_field: bool,
    /// Whether every object has it.
    pub required: bool,
    /// The component schema it refers to.
    pub reference: Option<&'static str>,
    /// For an object: its scalar members other than `type`, in spec order (a reference's
    /// stub: `id`, `sku`).
    pub members: &'static [&'static str],
    /// Its enum values (the known ones when `open`).
    pub values: &'static [&'static str],
    /// Whether its enum is open (unknown values are valid).
    pub open: bool,
    /// JSON pointer to its schema in [`SPEC_JSON`].
    pub pointer: &'static str,
}

/// One `x-assumed` note of the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Assumption {
    /// JSON pointer to the element that carries it.
    pub pointer: &'static str,
    /// What is assumed.
    pub text: &'static str,
}

/// The closed enums generated from the spec ([`SortField`] and the values of enumerated
/// filter fields).
pub trait Enumeration: Copy + fmt::Debug + fmt::Display + Eq + 'static {
    /// Every value, in spec order.
    const ALL: &'static [Self];
    /// The value as the wire spells it.
    fn as_str(self) -> &'static str;
}

/// A value that is not one of a closed enum's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnknownValue {}

/// The parameter named `name`.
pub fn parameter(name: &str) -> Option<&'static Parameter> {
    PARAMETERS.iter().find(|p| p.name == name)
}

/// The filterable field named `name`.
pub fn filterable_field(name: &str) -> Option<&'static FilterableField> {
    FILTERABLE_FIELDS.iter().find(|f| f.name == name)
}

/// The operator named `name`.
pub fn operator(name: &str) -> Option<&'static Operator> {
    OPERATORS.iter().find(|o| o.name == name)
}

/// The level property named `name`.
pub fn level_property(name: &str) -> Option<&'static Property> {
    LEVEL_PROPERTIES.iter().find(|p| p.name == name)
}

/// The product property named `name`.
pub fn product_property(name: &str) -> Option<&'static Property> {
    PRODUCT_PROPERTIES.iter().find(|p| p.name == name)
}

/// The query parameters whose array values go on the wire once, comma-joined.
pub fn comma_joined_params() -> impl Iterator<Item = &'static str> {
    PARAMETERS
        .iter()
        .filter(|p| p.location == Location::Query && p.comma_joined)
        .map(|p| p.name)
}

include!(concat!(env!("OUT_DIR"), "/api.rs"));
