//! The facts' types: parameters, filterable fields, operators, properties, assumptions.

use super::*;

// Mirrored by generated/src/api.rs: the runtime crate cannot depend on this build-time one.

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// The query string.
    Query,
    /// A request header.
    Header,
}

/// The JSON type of a parameter or property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

impl JsonType {
    pub(crate) fn parse(s: Option<&str>) -> JsonType {
        match s {
            Some("integer") => JsonType::Integer,
            Some("number") => JsonType::Number,
            Some("string") => JsonType::String,
            Some("boolean") => JsonType::Boolean,
            Some("array") => JsonType::Array,
            Some("object") => JsonType::Object,
            _ => JsonType::Any,
        }
    }

    pub(crate) fn ident(self) -> proc_macro2::Ident {
        format_ident!("{}", format!("{self:?}"))
    }
}

/// One parameter of the operation.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Param {
    /// The name on the wire (`fields:product`).
    pub name: String,
    /// Query or header.
    pub location: Location,
    /// The spec's description.
    pub description: String,
    /// Whether the parameter must be sent.
    pub required: bool,
    /// The type of the value (for arrays: `Array`, the items in `item_type`).
    pub ty: JsonType,
    /// The type of an array's items.
    pub item_type: Option<JsonType>,
    /// An array sent once, comma-joined (`explode: false`).
    pub comma_joined: bool,
    /// An array sent as the parameter repeated (`explode: true`, the default).
    pub repeated: bool,
    /// `minimum` of the value.
    pub minimum: Option<i64>,
    /// `maximum` of the value.
    pub maximum: Option<i64>,
    /// `minLength` of the value or of each item.
    pub min_length: Option<u64>,
    /// `default`, as the wire spells it.
    pub default: Option<String>,
    /// The `enum` of the value or of each item, in spec order (the known values when
    /// `open`).
    pub values: Vec<String>,
    /// Whether the values are an open enum: others are allowed too.
    pub open: bool,
    /// `pattern` of the value or of each item.
    pub pattern: Option<String>,
}

impl Param {
    /// The Rust constant naming this parameter (`FIELDS_PRODUCT`).
    pub fn const_name(&self) -> String {
        screaming(&self.name)
    }
}

/// The kind of a filterable field, which decides its operators.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// Whole numbers.
    Integer,
    /// Text.
    String,
    /// `true` / `false`.
    Boolean,
    /// ISO-8601 date-times.
    Timestamp,
    /// One of the listed values.
    Enum(Vec<String>),
}

/// One filterable field of `x-filterable-fields`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilterField {
    /// The name used in `filter=`.
    pub name: String,
    /// Its kind.
    pub kind: FieldKind,
    /// `product` or `inventory`.
    pub group: String,
    /// The spec's description.
    pub description: String,
    /// Whether it is also a sort key.
    pub sortable: bool,
    /// Its deprecation note (`deprecated` in `x-filterable-fields`), if deprecated.
    pub deprecated: Option<String>,
}

impl FilterField {
    /// The Rust constant naming this field (`QTY_AVAILABLE`).
    pub fn const_name(&self) -> String {
        screaming(&self.name)
    }

    /// The Rust type of an enum-kind field's values (`ProductType`).
    pub fn enum_type_name(&self) -> String {
        pascal(&self.name)
    }
}

/// One condition key of `x-filter-operators`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operator {
    /// The key (`gteq`).
    pub name: String,
    /// Shown by the vendor's documentation (else assumed).
    pub documented: bool,
}

/// One property of a level or a product.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Property {
    /// The member name.
    pub name: String,
    /// The property's description, else the referenced schema's.
    pub description: String,
    /// Its JSON type (of the referenced schema when it is a reference).
    pub ty: JsonType,
    /// `format`, when given.
    pub format: Option<String>,
    /// Whether `null` is allowed (here or on the referenced schema).
    pub nullable: bool,
    /// Whether the object lists it in `x-optional-fields`.
    pub optional_field: bool,
    /// Whether the object requires it.
    pub required: bool,
    /// The component schema it refers to, when it is a reference.
    pub reference: Option<String>,
    /// For an object: its scalar members other than `type`, in spec order (a reference's
    /// stub: `id`, `sku`).
    pub members: Vec<String>,
    /// Enum values (known values when `open`).
    pub values: Vec<String>,
    /// Whether the enum is open.
    pub open: bool,
    /// JSON pointer to the property's schema in the spec.
    pub pointer: String,
}

/// One `x-assumed` note.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Assumption {
    /// JSON pointer to the element that carries the note.
    pub pointer: String,
    /// The note.
    pub text: String,
}

/// What the spec deprecates, each with its note: `deprecated: true` (with an optional
/// `x-deprecation-note`) on a component schema's property or a parameter,
/// `x-deprecated-values` (value → note) beside an enum or on the `sort` parameter's schema
/// for its keys, `deprecated: "<note>"` on an entry of `x-filterable-fields`.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Deprecations {
    /// `(schema, property)` → note.
    pub properties: std::collections::BTreeMap<(String, String), String>,
    /// `(schema, value)` → note, for enums that are component schemas.
    pub enum_values: std::collections::BTreeMap<(String, String), String>,
    /// Sort key → note.
    pub sort_keys: std::collections::BTreeMap<String, String>,
    /// Parameter name → note.
    pub parameters: std::collections::BTreeMap<String, String>,
}

/// Everything [`Facts::tokens`] emits.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Facts {
    /// The operation's path.
    pub path: String,
    /// Its method, upper case.
    pub method: String,
    /// Its `operationId`.
    pub operation_id: String,
    /// `info.version`, the newest API version the spec describes.
    pub api_version: String,
    /// Every parameter, in spec order.
    pub parameters: Vec<Param>,
    /// Every filterable field, in spec order.
    pub filterable: Vec<FilterField>,
    /// Every operator, documented ones first.
    pub operators: Vec<Operator>,
    /// Every sort key, in pattern order.
    pub sort_keys: Vec<String>,
    /// The properties of a level (the items of the 200 response's `collection`).
    pub level_properties: Vec<Property>,
    /// The properties of an included product (`included.Product` items).
    pub product_properties: Vec<Property>,
    /// The operation's assumed limits (`x-rate-limits`) and the headers reporting them.
    pub limits: Limits,
    /// The response headers about the API version.
    pub versions: VersionHeaders,
    /// Every `x-assumed` note, in document order.
    pub assumptions: Vec<Assumption>,
    /// What the spec deprecates, with its notes.
    pub deprecations: Deprecations,
    /// The spec as compact JSON.
    pub spec_json: String,
}

/// The limits of `x-rate-limits` on the operation, and the names of the headers that
/// report them (the keys under which the 429 response lists the spec's `RateLimitLimit`,
/// `RateLimitRemaining`, `ConcurrencyLimit` and `ConcurrencyCurrent` headers).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Requests a second a user may send on average.
    pub requests_per_second: u32,
    /// Requests a user may send at once before the rate applies.
    pub burst: u32,
    /// Requests of a user that may run at once.
    pub concurrent_requests: u32,
    /// The header with the rate (`RateLimit-Limit`).
    pub limit_header: String,
    /// The window in seconds the rate header counts requests over (its
    /// `x-window-seconds`: 60, a rate a minute).
    pub limit_window_seconds: u32,
    /// The header with the requests left before a 429 (`RateLimit-Remaining`).
    pub remaining_header: String,
    /// The header with the concurrency limit (`X-Concurrency-Limit`).
    pub concurrency_limit_header: String,
    /// The header with the requests running now (`X-Concurrency-Current`).
    pub concurrency_current_header: String,
}

/// The response headers about the API version: the keys under which the 200 response lists
/// the spec's `ApiVersion` header and the 400 response its `ApiVersionError` header.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionHeaders {
    /// The header naming the version that served a response.
    pub served: String,
    /// The header of a 400 that refused the requested version.
    pub error: String,
}
