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

mod emit;
mod filtering;
mod model;
mod params;

use emit::*;
pub use emit::{field_ident, pascal, screaming};
pub use filtering::sort_keys;
use filtering::*;
pub use model::*;
use params::*;

fn bad(what: impl Into<String>) -> Error {
    Error::Facts(what.into())
}

/// Follows `$ref`s to component schemas until a schema without one.
pub fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    crate::refs::walk(spec, v).value
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
    /// The component schema of a level (whose properties are [`Facts::level_properties`]).
    pub fn level_schema(&self) -> Option<String> {
        owning_schema(&self.level_properties)
    }

    /// The component schema of an included product.
    pub fn product_schema(&self) -> Option<String> {
        owning_schema(&self.product_properties)
    }

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

        let limits = limits(spec, op)?;
        let versions = VersionHeaders {
            served: response_header(spec, op, "200", "ApiVersion")?,
            error: response_header(spec, op, "400", "ApiVersionError")?,
        };
        let mut assumptions = Vec::new();
        collect_assumptions(spec, "", &mut assumptions);
        let deprecations = deprecations(spec, op);

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
            limits,
            versions,
            assumptions,
            deprecations,
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
        let limits = {
            let l = &self.limits;
            let (rate, burst, concurrent) = (l.requests_per_second, l.burst, l.concurrent_requests);
            let window = l.limit_window_seconds;
            let (limit, remaining, c_limit, c_current) = (
                &l.limit_header,
                &l.remaining_header,
                &l.concurrency_limit_header,
                &l.concurrency_current_header,
            );
            quote! {
                /// The limits assumed for each user (the operation's `x-rate-limits`) and
                /// the response headers that report them.
                pub mod limits {
                    /// Requests a second a user may send on average (429 beyond).
                    pub const REQUESTS_PER_SECOND: u32 = #rate;
                    /// Requests a user may send at once before the rate applies.
                    pub const BURST: u32 = #burst;
                    /// Requests of a user that may run at once (409 beyond).
                    pub const CONCURRENT_REQUESTS: u32 = #concurrent;
                    /// The header with the rate limit: requests per [`LIMIT_WINDOW_SECONDS`].
                    pub const LIMIT_HEADER: &str = #limit;
                    /// The seconds [`LIMIT_HEADER`]'s count covers (60: a rate a minute).
                    pub const LIMIT_WINDOW_SECONDS: u32 = #window;
                    /// The header with the requests left before a 429.
                    pub const REMAINING_HEADER: &str = #remaining;
                    /// The header with the concurrency limit.
                    pub const CONCURRENCY_LIMIT_HEADER: &str = #c_limit;
                    /// The header with the requests of the user running now.
                    pub const CONCURRENCY_CURRENT_HEADER: &str = #c_current;
                }
            }
        };
        let deprecated = {
            let d = &self.deprecations;
            let of_schema =
                |props: &[Property], schema: Option<String>, param: &str| -> Vec<TokenStream> {
                    let values = self
                        .parameters
                        .iter()
                        .find(|p| p.name == param)
                        .map(|p| p.values.clone())
                        .unwrap_or_default();
                    props
                        .iter()
                        .filter(|p| values.contains(&p.name))
                        .filter_map(|p| {
                            let note = d.properties.get(&(schema.clone()?, p.name.clone()))?;
                            let name = &p.name;
                            Some(quote!((#name, #note)))
                        })
                        .collect()
                };
            let levels = of_schema(&self.level_properties, self.level_schema(), "fields");
            let products = of_schema(
                &self.product_properties,
                self.product_schema(),
                "fields:product",
            );
            let sort = d.sort_keys.iter().map(|(k, n)| quote!((#k, #n)));
            let filters = self
                .filterable
                .iter()
                .filter_map(|f| f.deprecated.as_ref().map(|n| (f.name.as_str(), n)))
                .map(|(k, n)| quote!((#k, #n)));
            let params = d.parameters.iter().map(|(k, n)| quote!((#k, #n)));
            quote! {
                /// What the spec deprecates, as `(name, note)` pairs, for help texts and
                /// warnings (the Rust items themselves are `#[deprecated]`).
                pub mod deprecated {
                    /// Deprecated values of `fields`.
                    pub const LEVEL_FIELDS: &[(&str, &str)] = &[#(#levels),*];
                    /// Deprecated values of `fields:product`.
                    pub const PRODUCT_FIELDS: &[(&str, &str)] = &[#(#products),*];
                    /// Deprecated sort keys.
                    pub const SORT_KEYS: &[(&str, &str)] = &[#(#sort),*];
                    /// Deprecated filterable fields.
                    pub const FILTERABLE_FIELDS: &[(&str, &str)] = &[#(#filters),*];
                    /// Deprecated parameters.
                    pub const PARAMETERS: &[(&str, &str)] = &[#(#params),*];

                    /// The note when `name` is in `list`.
                    pub fn note(list: &[(&'static str, &'static str)], name: &str) -> Option<&'static str> {
                        list.iter().find(|(n, _)| *n == name).map(|(_, note)| *note)
                    }
                }
            }
        };
        let versions = {
            let (served, error) = (&self.versions.served, &self.versions.error);
            quote! {
                /// The response headers about the API version.
                pub mod versions {
                    /// The header naming the version that served a response.
                    pub const SERVED_HEADER: &str = #served;
                    /// The header of a 400 that refused the requested version, saying why.
                    pub const ERROR_HEADER: &str = #error;
                }
            }
        };
        let handles = self.filterable.iter().map(|f| {
            let konst = format_ident!("{}", f.const_name());
            let name = &f.name;
            let doc = &f.description;
            let deprecated = f.deprecated.as_ref().map(|n| quote!(, deprecated #n));
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
            quote! { (#konst, #name, #kind, #doc #deprecated) }
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

            #limits

            #versions

            #deprecated

            /// Every `x-assumed` note of the spec: what the client assumes where the
            /// vendor's documentation is silent.
            pub const ASSUMPTIONS: &[Assumption] = &[#(#assumptions),*];

            /// The whole spec as JSON, for code that walks schemas (the mock's values for
            /// fields it has no model of, validators).
            pub const SPEC_JSON: &str = #spec_json;

            /// Calls `$callback!` with one `(CONST, "name", kind, "description")` tuple per
            /// filterable field, so that crates can define typed handles without listing
            /// the fields. `kind` is `integer`, `string`, `boolean`, `timestamp` or
            /// `enumeration(Type)`, `Type` being the generated enum in this module. A
            /// deprecated field's tuple ends with `, deprecated "note"`.
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

/// The component schema whose `properties` hold these (read from an inline property's
/// pointer; a reference's pointer names the schema it refers to).
fn owning_schema(props: &[Property]) -> Option<String> {
    props.iter().find_map(|p| {
        let rest = p
            .pointer
            .trim_start_matches('#')
            .strip_prefix("/components/schemas/")?;
        let (schema, tail) = rest.split_once('/')?;
        tail.starts_with("properties/").then(|| schema.to_owned())
    })
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
                reference: schema
                    .get("$ref")
                    .and_then(Value::as_str)
                    .map(|r| crate::refs::ref_name(r).to_owned()),
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
