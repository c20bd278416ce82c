//! The facts about the API that the workspace needs beside progenitor's client, read from
//! the spec and emitted as Rust (the generated crate's `api` module).
//!
//! Everything that code elsewhere would otherwise write by hand comes from here: the path,
//! every parameter with its bounds, default, values and encoding, the filterable fields
//! with their kinds, the operators (documented or assumed), the sort keys, the properties
//! of a level and of a product with their schemas, the spec itself as JSON, and the
//! `x-assumed` notes.
//!
//! ```
//! let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(include_str!("../../../openapi.yaml"))?;
//! assert_eq!(facts.path, "/api/global/v1/inventory/levels/total");
//! assert!(facts.sort_keys.iter().any(|k| k == "product_id"));
//! # Ok::<(), shipstream_inventory_codegen::Error>(())
//! ```

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::Error;

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
    fn parse(s: Option<&str>) -> JsonType {
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

    fn ident(self) -> proc_macro2::Ident {
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
    /// The `enum` of the value or of each item, in spec order.
    pub values: Vec<String>,
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
    /// Every `x-assumed` note, in document order.
    pub assumptions: Vec<Assumption>,
    /// The spec as compact JSON.
    pub spec_json: String,
}

fn bad(what: impl Into<String>) -> Error {
    Error::Facts(what.into())
}

/// Follows `$ref`s to component schemas until a schema without one.
pub fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    crate::refs::walk(spec, v).value
}

fn ref_name(v: &Value) -> Option<String> {
    v.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .map(str::to_owned)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The known values of an open enum (`anyOf: [{type: string, enum}, {type: string}]`), or
/// `None` when `schema` is not one.
pub fn open_enum_values(schema: &Value) -> Option<Vec<String>> {
    let any = schema.get("anyOf")?.as_array()?;
    if any.len() != 2 {
        return None;
    }
    let is_string = |s: &Value| s.get("type").and_then(Value::as_str) == Some("string");
    let listed = any
        .iter()
        .find(|s| is_string(s) && s.get("enum").is_some())?;
    let free = any
        .iter()
        .find(|s| is_string(s) && s.get("enum").is_none())?;
    let _ = free;
    Some(strings(listed.get("enum")))
}

/// The spec twice: as JSON for lookups, and as YAML, whose mappings keep the order the
/// spec writes them in (serde_json's maps are sorted, and turning on its `preserve_order`
/// would change every other crate of the build).
struct Spec<'a> {
    json: &'a Value,
    yaml: serde_yaml::Value,
}

impl Spec<'_> {
    /// The keys of the mapping at `pointer`, in the order the spec writes them.
    fn keys(&self, pointer: &str) -> Vec<String> {
        let mut v = &self.yaml;
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            let next = match v {
                serde_yaml::Value::Mapping(m) => m.get(segment.as_str()),
                serde_yaml::Value::Sequence(s) => {
                    segment.parse::<usize>().ok().and_then(|i| s.get(i))
                }
                _ => None,
            };
            match next {
                Some(n) => v = n,
                None => return Vec::new(),
            }
        }
        match v {
            serde_yaml::Value::Mapping(m) => m
                .keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// `map`'s entries in the order of `order` (the spec's), then any others.
fn in_order<'a>(
    map: &'a serde_json::Map<String, Value>,
    order: &[String],
) -> Vec<(&'a String, &'a Value)> {
    let mut out: Vec<(&String, &Value)> = order
        .iter()
        .filter_map(|k| map.get_key_value(k.as_str()))
        .collect();
    out.extend(map.iter().filter(|(k, _)| !order.contains(k)));
    out
}

impl Facts {
    /// Reads the facts out of the text of `openapi.yaml`.
    pub fn from_yaml(spec_yaml: &str) -> Result<Facts, Error> {
        let json: Value = serde_yaml::from_str(spec_yaml)?;
        let yaml: serde_yaml::Value = serde_yaml::from_str(spec_yaml)?;
        Facts::from_spec(&Spec { json: &json, yaml })
    }

    fn from_spec(ordered: &Spec<'_>) -> Result<Facts, Error> {
        let spec = ordered.json;
        let paths = spec
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("the spec has no paths"))?;
        if paths.len() != 1 {
            return Err(bad(format!(
                "the spec describes {} paths; the workspace is built around exactly one",
                paths.len()
            )));
        }
        let (path, item) = paths.iter().next().ok_or_else(|| bad("no path"))?;
        let ops: Vec<(&String, &Value)> = item
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options" | "trace"
                )
            })
            .collect();
        let [(method, op)] = ops.as_slice() else {
            return Err(bad(format!("{path} must have exactly one operation")));
        };
        let op_pointer = format!("/paths/{}/{method}", escape_pointer(path));

        let parameters = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| param(spec, resolve(spec, p)))
            .collect::<Result<Vec<_>, _>>()?;

        let sort_keys = match parameters.iter().find(|p| p.name == "sort") {
            Some(sort) => sort_keys(sort.pattern.as_deref().unwrap_or_default())?,
            None => Vec::new(),
        };

        let filter = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| resolve(spec, p))
            .find(|p| p.get("name").and_then(Value::as_str) == Some("filter"));
        let filter_ptr = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| resolve(spec, p).get("name").and_then(Value::as_str) == Some("filter"))
            .map(|p| pointer_of(p, ""))
            .unwrap_or_default();
        let (filterable, operators) = match filter {
            Some(f) => (
                filterable_fields(
                    f,
                    &sort_keys,
                    &ordered.keys(&format!("{filter_ptr}/x-filterable-fields")),
                )?,
                operators(f.get("x-filter-operators")),
            ),
            None => (Vec::new(), Vec::new()),
        };

        let ok = format!("{op_pointer}/responses/200/content/application~1json/schema");
        let page = spec
            .pointer(&ok)
            .ok_or_else(|| bad("the operation has no application/json 200 response"))?;
        let page_ptr = pointer_of(page, &ok);
        let page = resolve(spec, page);
        let level_ptr = format!("{page_ptr}/properties/collection/items");
        let level = page
            .pointer("/properties/collection/items")
            .ok_or_else(|| bad("the 200 response has no `collection` array"))?;
        let level_properties = properties(ordered, &pointer_of(level, &level_ptr))?;
        let included_ptr = format!("{page_ptr}/properties/included");
        let product_properties = match page.pointer("/properties/included") {
            Some(included) => {
                let inc_ptr = pointer_of(included, &included_ptr);
                match resolve(spec, included).pointer("/properties/Product/items") {
                    Some(items) => properties(
                        ordered,
                        &pointer_of(items, &format!("{inc_ptr}/properties/Product/items")),
                    )?,
                    None => Vec::new(),
                }
            }
            None => Vec::new(),
        };

        let mut assumptions = Vec::new();
        collect_assumptions(spec, "", &mut assumptions);

        Ok(Facts {
            path: path.clone(),
            method: method.to_ascii_uppercase(),
            operation_id: text(op, "operationId"),
            api_version: spec
                .pointer("/info/version")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            parameters,
            filterable,
            operators,
            sort_keys,
            level_properties,
            product_properties,
            assumptions,
            spec_json: spec.to_string(),
        })
    }

    /// The Rust items of the generated crate's `api` module (the types they use are
    /// hand-written there).
    pub fn tokens(&self) -> TokenStream {
        let path = &self.path;
        let method = &self.method;
        let operation_id = &self.operation_id;
        let api_version = &self.api_version;
        let param_consts = self.parameters.iter().map(param_tokens);
        let param_names = self
            .parameters
            .iter()
            .map(|p| format_ident!("{}", p.const_name()));
        let fields = self.filterable.iter().map(filter_field_tokens);
        let operators = self.operators.iter().map(|o| {
            let (name, documented) = (&o.name, o.documented);
            quote! { Operator { name: #name, documented: #documented } }
        });
        let sort_keys = &self.sort_keys;
        let sort_enum = sort_field_tokens(self);
        let value_enums = self
            .filterable
            .iter()
            .filter_map(|f| match &f.kind {
                FieldKind::Enum(values) => Some(value_enum_tokens(
                    &f.enum_type_name(),
                    &format!("The values of the `{}` filter: {}", f.name, f.description),
                    values,
                )),
                _ => None,
            })
            .collect::<Vec<_>>();
        let levels = self.level_properties.iter().map(property_tokens);
        let products = self.product_properties.iter().map(property_tokens);
        let assumptions = self.assumptions.iter().map(|a| {
            let (p, t) = (&a.pointer, &a.text);
            quote! { Assumption { pointer: #p, text: #t } }
        });
        let spec_json = &self.spec_json;
        let handles = self.filterable.iter().map(|f| {
            let konst = format_ident!("{}", f.const_name());
            let name = &f.name;
            let doc = &f.description;
            let kind = match &f.kind {
                FieldKind::Integer => quote!(integer),
                FieldKind::String => quote!(string),
                FieldKind::Boolean => quote!(boolean),
                FieldKind::Timestamp => quote!(timestamp),
                FieldKind::Enum(_) => {
                    let ty = format_ident!("{}", f.enum_type_name());
                    quote!(enumeration(#ty))
                }
            };
            quote! { (#konst, #name, #kind, #doc) }
        });
        quote! {
            /// The operation's path below the instance URL.
            pub const PATH: &str = #path;
            /// The operation's HTTP method.
            pub const METHOD: &str = #method;
            /// The operation's `operationId`.
            pub const OPERATION_ID: &str = #operation_id;
            /// The newest API version the spec describes (`info.version`, `YYYY-MM`).
            pub const API_VERSION: &str = #api_version;

            /// Every parameter of the operation, one constant each.
            pub mod params {
                use super::{JsonType, Location, Parameter};
                #(#param_consts)*
            }

            /// Every parameter of the operation, in spec order.
            pub const PARAMETERS: &[Parameter] = &[#(params::#param_names),*];

            /// Every filterable field (`x-filterable-fields`), in spec order.
            pub const FILTERABLE_FIELDS: &[FilterableField] = &[#(#fields),*];

            /// Every filter operator (`x-filter-operators`), documented ones first.
            pub const OPERATORS: &[Operator] = &[#(#operators),*];

            /// Every sort key, in the order of the `sort` pattern.
            pub const SORT_KEYS: &[&str] = &[#(#sort_keys),*];

            #sort_enum

            #(#value_enums)*

            /// The properties of a level, in spec order.
            pub const LEVEL_PROPERTIES: &[Property] = &[#(#levels),*];

            /// The properties of an included product, in spec order.
            pub const PRODUCT_PROPERTIES: &[Property] = &[#(#products),*];

            /// Every `x-assumed` note of the spec: what the client assumes where the
            /// vendor's documentation is silent.
            pub const ASSUMPTIONS: &[Assumption] = &[#(#assumptions),*];

            /// The whole spec as JSON, for code that walks schemas (the mock's values for
            /// fields it has no model of, validators).
            pub const SPEC_JSON: &str = #spec_json;

            /// Calls `$callback!` with one `(CONST, "name", kind, "description")` tuple per
            /// filterable field, so that crates can define typed handles without listing
            /// the fields. `kind` is `integer`, `string`, `boolean`, `timestamp` or
            /// `enumeration(Type)`, `Type` being the generated enum in this module.
            #[macro_export]
            #[doc(hidden)]
            macro_rules! __filterable_fields {
                ($callback:path) => {
                    $callback! { #(#handles),* }
                };
            }
        }
    }
}

fn pointer_of(v: &Value, here: &str) -> String {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r.trim_start_matches('#').to_owned(),
        None => here.to_owned(),
    }
}

fn param(spec: &Value, p: &Value) -> Result<Param, Error> {
    let name = text(p, "name");
    let location = match p.get("in").and_then(Value::as_str) {
        Some("query") => Location::Query,
        Some("header") => Location::Header,
        other => {
            return Err(bad(format!(
                "parameter `{name}` is in {other:?}; only query and header parameters are supported"
            )));
        }
    };
    let schema = resolve(spec, p.get("schema").unwrap_or(&Value::Null));
    let ty = JsonType::parse(schema.get("type").and_then(Value::as_str));
    let items = schema.get("items").map(|i| resolve(spec, i));
    let item_type = items.map(|i| JsonType::parse(i.get("type").and_then(Value::as_str)));
    let explode = p
        .get("explode")
        .and_then(Value::as_bool)
        .unwrap_or(p.get("style").and_then(Value::as_str).unwrap_or("form") == "form");
    let is_array = ty == JsonType::Array;
    let scalar = items.unwrap_or(schema);
    let int = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64);
    Ok(Param {
        description: text(p, "description"),
        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
        ty,
        item_type,
        comma_joined: is_array && !explode,
        repeated: is_array && explode,
        minimum: int(schema, "minimum"),
        maximum: int(schema, "maximum"),
        min_length: scalar.get("minLength").and_then(Value::as_u64),
        default: schema.get("default").map(|d| match d {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        values: strings(scalar.get("enum")),
        pattern: scalar
            .get("pattern")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name,
        location,
    })
}

/// The keys of the `sort` pattern, which must have the shape
/// `^(?!<repeat check>)(?:-?(?:key1|key2|...)(?:,(?!$)|$))+$`.
pub fn sort_keys(pattern: &str) -> Result<Vec<String>, Error> {
    const OPEN: &str = "(?:-?(?:";
    const CLOSE: &str = ")(?:,(?!$)|$))+$";
    let start = pattern.rfind(OPEN).ok_or_else(|| {
        bad(format!(
            "the `sort` pattern must end in `{OPEN}key|key|...{CLOSE}` so the sort keys can be read \
             from it; it is `{pattern}`"
        ))
    })?;
    let rest = &pattern[start + OPEN.len()..];
    let list = rest.strip_suffix(CLOSE).ok_or_else(|| {
        bad(format!(
            "the `sort` pattern must end in `{CLOSE}`; it is `{pattern}`"
        ))
    })?;
    let keys: Vec<String> = list.split('|').map(str::to_owned).collect();
    for k in &keys {
        let ok = k.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && k.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(bad(format!(
                "sort key `{k}` in the `sort` pattern is not a plain field name"
            )));
        }
    }
    Ok(keys)
}

fn filterable_fields(
    filter: &Value,
    sort_keys: &[String],
    order: &[String],
) -> Result<Vec<FilterField>, Error> {
    let Some(map) = filter.get("x-filterable-fields").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    in_order(map, order)
        .into_iter()
        .map(|(name, v)| {
            let kind = match v.get("kind").and_then(Value::as_str) {
                Some("integer") => FieldKind::Integer,
                Some("string") => FieldKind::String,
                Some("boolean") => FieldKind::Boolean,
                Some("timestamp") => FieldKind::Timestamp,
                Some("enum") => {
                    let values = strings(v.get("values"));
                    if values.is_empty() {
                        return Err(bad(format!(
                            "x-filterable-fields: `{name}` is an enum without `values`"
                        )));
                    }
                    FieldKind::Enum(values)
                }
                other => {
                    return Err(bad(format!(
                        "x-filterable-fields: `{name}` has kind {other:?}; use integer, \
                         string, boolean, timestamp or enum"
                    )));
                }
            };
            let group = text(v, "group");
            if !matches!(group.as_str(), "product" | "inventory") {
                return Err(bad(format!(
                    "x-filterable-fields: `{name}` has group `{group}`; use product or inventory"
                )));
            }
            Ok(FilterField {
                name: name.clone(),
                kind,
                group,
                description: text(v, "description"),
                sortable: sort_keys.contains(name),
            })
        })
        .collect()
}

fn operators(v: Option<&Value>) -> Vec<Operator> {
    let Some(v) = v else { return Vec::new() };
    let mut out: Vec<Operator> = strings(v.get("documented"))
        .into_iter()
        .map(|name| Operator {
            name,
            documented: true,
        })
        .collect();
    out.extend(strings(v.get("assumed")).into_iter().map(|name| Operator {
        name,
        documented: false,
    }));
    out
}

fn properties(ordered: &Spec<'_>, object_ptr: &str) -> Result<Vec<Property>, Error> {
    let spec = ordered.json;
    let object_ptr = &resolved_ptr(spec, object_ptr);
    let object = spec
        .pointer(object_ptr)
        .ok_or_else(|| bad(format!("no schema at {object_ptr}")))?;
    let required = strings(object.get("required"));
    let optional = strings(object.get("x-optional-fields"));
    let props = object
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| bad(format!("the schema at {object_ptr} has no properties")))?;
    for o in &optional {
        if !props.contains_key(o) {
            return Err(bad(format!(
                "x-optional-fields of {object_ptr} names `{o}`, which is not a property"
            )));
        }
    }
    let order = ordered.keys(&format!("{object_ptr}/properties"));
    Ok(in_order(props, &order)
        .into_iter()
        .map(|(name, schema)| {
            let target = resolve(spec, schema);
            let own_desc = text(schema, "description");
            let open = open_enum_values(target);
            let nullable = |s: &Value| s.get("nullable").and_then(Value::as_bool) == Some(true);
            Property {
                name: name.clone(),
                description: if own_desc.is_empty() {
                    text(target, "description")
                } else {
                    own_desc
                },
                ty: if open.is_some() {
                    JsonType::String
                } else {
                    JsonType::parse(target.get("type").and_then(Value::as_str))
                },
                format: target
                    .get("format")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                nullable: nullable(schema) || nullable(target),
                optional_field: optional.contains(name),
                required: required.contains(name),
                reference: ref_name(schema),
                members: scalar_members(ordered, schema),
                values: open.clone().unwrap_or_else(|| strings(target.get("enum"))),
                open: open.is_some(),
                pointer: pointer_of(
                    schema,
                    &format!("{object_ptr}/properties/{}", escape_pointer(name)),
                ),
            }
        })
        .collect())
}

/// The scalar properties (not objects or arrays) of the object `schema` refers to, other
/// than `type`, in spec order.
fn scalar_members(ordered: &Spec<'_>, schema: &Value) -> Vec<String> {
    let spec = ordered.json;
    let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
        return Vec::new();
    };
    let ptr = resolved_ptr(spec, r.trim_start_matches('#'));
    let Some(object) = spec.pointer(&ptr) else {
        return Vec::new();
    };
    if object.get("type").and_then(Value::as_str) != Some("object") {
        return Vec::new();
    }
    let Some(props) = object.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    in_order(props, &ordered.keys(&format!("{ptr}/properties")))
        .into_iter()
        .filter(|(name, p)| {
            let p = resolve(spec, p);
            let ty = p.get("type").and_then(Value::as_str);
            *name != "type" && !matches!(ty, Some("object" | "array"))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// The pointer of the schema `ptr` finally resolves to.
fn resolved_ptr(spec: &Value, ptr: &str) -> String {
    spec.pointer(ptr)
        .and_then(|v| crate::refs::walk(spec, v).pointer())
        .unwrap_or(ptr)
        .to_owned()
}

fn collect_assumptions(v: &Value, ptr: &str, out: &mut Vec<Assumption>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "x-assumed" {
                    let texts = match child {
                        Value::String(s) => vec![s.clone()],
                        other => strings(Some(other)),
                    };
                    out.extend(texts.into_iter().map(|text| Assumption {
                        pointer: if ptr.is_empty() {
                            "/".into()
                        } else {
                            ptr.into()
                        },
                        text,
                    }));
                } else {
                    collect_assumptions(child, &format!("{ptr}/{}", escape_pointer(k)), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_assumptions(child, &format!("{ptr}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn opt_str(v: &Option<String>) -> TokenStream {
    match v {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

fn opt_i64(v: Option<i64>) -> TokenStream {
    match v {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    }
}

fn param_tokens(p: &Param) -> TokenStream {
    let konst = format_ident!("{}", p.const_name());
    let name = &p.name;
    let doc = format!("`{}`: {}", p.name, p.description);
    let location = match p.location {
        Location::Query => quote!(Location::Query),
        Location::Header => quote!(Location::Header),
    };
    let description = &p.description;
    let required = p.required;
    let ty = p.ty.ident();
    let item_type = match p.item_type {
        Some(t) => {
            let t = t.ident();
            quote!(Some(JsonType::#t))
        }
        None => quote!(None),
    };
    let comma_joined = p.comma_joined;
    let repeated = p.repeated;
    let minimum = opt_i64(p.minimum);
    let maximum = opt_i64(p.maximum);
    let min_length = match p.min_length {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    };
    let default = opt_str(&p.default);
    let values = &p.values;
    let pattern = opt_str(&p.pattern);
    quote! {
        #[doc = #doc]
        pub const #konst: Parameter = Parameter {
            name: #name,
            location: #location,
            description: #description,
            required: #required,
            ty: JsonType::#ty,
            item_type: #item_type,
            comma_joined: #comma_joined,
            repeated: #repeated,
            minimum: #minimum,
            maximum: #maximum,
            min_length: #min_length,
            default: #default,
            values: &[#(#values),*],
            pattern: #pattern,
        };
    }
}

fn filter_field_tokens(f: &FilterField) -> TokenStream {
    let name = &f.name;
    let description = &f.description;
    let sortable = f.sortable;
    let group = if f.group == "product" {
        quote!(FieldGroup::Product)
    } else {
        quote!(FieldGroup::Inventory)
    };
    let kind = match &f.kind {
        FieldKind::Integer => quote!(FieldKind::Integer),
        FieldKind::String => quote!(FieldKind::String),
        FieldKind::Boolean => quote!(FieldKind::Boolean),
        FieldKind::Timestamp => quote!(FieldKind::Timestamp),
        FieldKind::Enum(values) => quote!(FieldKind::Enum(&[#(#values),*])),
    };
    quote! {
        FilterableField {
            name: #name,
            kind: #kind,
            group: #group,
            description: #description,
            sortable: #sortable,
        }
    }
}

fn property_tokens(p: &Property) -> TokenStream {
    let name = &p.name;
    let description = &p.description;
    let ty = p.ty.ident();
    let format = opt_str(&p.format);
    let nullable = p.nullable;
    let optional_field = p.optional_field;
    let required = p.required;
    let reference = opt_str(&p.reference);
    let members = &p.members;
    let values = &p.values;
    let open = p.open;
    let pointer = &p.pointer;
    quote! {
        Property {
            name: #name,
            description: #description,
            ty: JsonType::#ty,
            format: #format,
            nullable: #nullable,
            optional_field: #optional_field,
            required: #required,
            reference: #reference,
            members: &[#(#members),*],
            values: &[#(#values),*],
            open: #open,
            pointer: #pointer,
        }
    }
}

/// A closed enum of the given wire values, with `ALL`, `as_str`, `Display` and `FromStr`.
fn value_enum_tokens(type_name: &str, doc: &str, values: &[String]) -> TokenStream {
    value_enum_tokens_with_docs(
        type_name,
        doc,
        &values
            .iter()
            .map(|v| (v.clone(), format!("`{v}`")))
            .collect::<Vec<_>>(),
    )
}

fn value_enum_tokens_with_docs(
    type_name: &str,
    doc: &str,
    values: &[(String, String)],
) -> TokenStream {
    let ty = format_ident!("{}", type_name);
    let idents: Vec<_> = values
        .iter()
        .map(|(v, _)| format_ident!("{}", pascal(v)))
        .collect();
    let wire: Vec<_> = values.iter().map(|(v, _)| v.as_str()).collect();
    let docs: Vec<_> = values.iter().map(|(_, d)| d.as_str()).collect();
    let list = wire.join(", ");
    let unknown = format!("`{{}}` is not one of: {list}");
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #ty {
            #( #[doc = #docs] #idents, )*
        }

        impl #ty {
            /// Every value, in spec order.
            pub const ALL: &'static [#ty] = &[#(Self::#idents),*];

            /// The value as the wire spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    #( Self::#idents => #wire, )*
                }
            }
        }

        impl Enumeration for #ty {
            const ALL: &'static [Self] = #ty::ALL;
            fn as_str(self) -> &'static str {
                #ty::as_str(self)
            }
        }

        impl ::std::fmt::Display for #ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for #ty {
            type Err = UnknownValue;
            fn from_str(value: &str) -> ::std::result::Result<Self, UnknownValue> {
                match value {
                    #( #wire => Ok(Self::#idents), )*
                    other => Err(UnknownValue(format!(#unknown, other))),
                }
            }
        }
    }
}

fn sort_field_tokens(f: &Facts) -> TokenStream {
    let values: Vec<(String, String)> = f
        .sort_keys
        .iter()
        .map(|k| {
            let doc = f
                .filterable
                .iter()
                .find(|ff| ff.name == *k)
                .map(|ff| format!("`{k}`: {}", ff.description))
                .unwrap_or_else(|| format!("`{k}`"));
            (k.clone(), doc)
        })
        .collect();
    value_enum_tokens_with_docs(
        "SortField",
        "A key of `sort`. Prefix `-` (see the facade's `Sort`) sorts it descending.",
        &values,
    )
}

/// `fields:product` → `FIELDS_PRODUCT`.
pub fn screaming(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("P_{out}")
    } else {
        out
    }
}

/// `product_type` → `ProductType`, `in^3` → `In3`.
pub fn pascal(value: &str) -> String {
    crate::open_enum::variant_ident(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn constant_names() {
        assert_eq!(screaming("fields:product"), "FIELDS_PRODUCT");
        assert_eq!(
            screaming("X-ShipStream-API-Version"),
            "X_SHIP_STREAM_API_VERSION"
        );
        assert_eq!(screaming("cursor_start"), "CURSOR_START");
        assert_eq!(pascal("product_type"), "ProductType");
    }

    #[test]
    fn sort_keys_are_read_from_the_pattern() {
        let p = r"^(?!(?:.*,)?-?([a-z_]+),(?:.*,)?-?\1(?:,|$))(?:-?(?:product_id|sku|updated_at)(?:,(?!$)|$))+$";
        assert_eq!(sort_keys(p).unwrap(), ["product_id", "sku", "updated_at"]);
        assert!(sort_keys("^(sku|x)$").is_err());
        assert!(sort_keys(r"^(?:-?(?:sku|Bad Key)(?:,(?!$)|$))+$").is_err());
    }

    #[test]
    fn open_enums_are_recognised_by_their_form() {
        let open = serde_json::json!({"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "string"}]});
        assert_eq!(open_enum_values(&open).unwrap(), ["a", "b"]);
        let closed = serde_json::json!({"type": "string", "enum": ["a"]});
        assert!(open_enum_values(&closed).is_none());
        let other =
            serde_json::json!({"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "integer"}]});
        assert!(open_enum_values(&other).is_none());
    }
}
