//! Reading `openapi.yaml` as plain JSON: loading, following local `$ref`s, listing
//! operations and parameters, and a merged view of a schema (`allOf` folded in) that the
//! [conformance check](crate::conformance) and the [spec-diff engine](crate::specdiff) share.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

use anyhow::{Context, Result};
use serde_json::Value;

pub mod edit;

/// The HTTP methods an OpenAPI path item may hold, in the order they are listed.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How deep `$ref` chains and `allOf` nesting are followed before giving up (cycles).
const MAX_DEPTH: usize = 32;

/// Reads and parses a spec file as JSON.
pub fn load(path: &Path) -> Result<Value> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the spec {}", path.display()))?;
    parse(&text).with_context(|| format!("cannot parse the spec {}", path.display()))
}

/// Parses spec text (YAML or JSON) as JSON.
pub fn parse(text: &str) -> Result<Value> {
    Ok(shipstream_inventory_codegen::json_schema::spec_json(text)?)
}

/// Follows `$ref`s until a non-reference; returns it with the name of the last component
/// followed (if any). A dangling or cyclic reference yields the reference object itself.
pub fn resolve<'a>(spec: &'a Value, value: &'a Value) -> (&'a Value, Option<&'a str>) {
    let walk = shipstream_inventory_codegen::refs::walk(spec, value);
    (walk.value, walk.name())
}

/// One operation of the spec.
#[derive(Debug, Clone)]
pub struct Operation<'a> {
    /// Lower-case HTTP method.
    pub method: &'static str,
    /// The path template.
    pub path: &'a str,
    /// The operation object.
    pub op: &'a Value,
    /// The path item holding it (for path-level parameters).
    pub item: &'a Value,
}

impl Operation<'_> {
    /// The `operationId`, if any.
    pub fn id(&self) -> Option<&str> {
        self.op.get("operationId").and_then(Value::as_str)
    }

    /// `GET /path (operationId)`, for messages.
    pub fn label(&self) -> String {
        match self.id() {
            Some(id) => format!("{} {} ({id})", self.method.to_uppercase(), self.path),
            None => format!("{} {}", self.method.to_uppercase(), self.path),
        }
    }
}

/// Every operation of the spec, in document order.
pub fn operations(spec: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let (item, _) = resolve(spec, item);
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                out.push(Operation {
                    method,
                    path,
                    op,
                    item,
                });
            }
        }
    }
    out
}

/// The operation with this `operationId`.
pub fn operation<'a>(spec: &'a Value, id: &str) -> Option<Operation<'a>> {
    operations(spec).into_iter().find(|o| o.id() == Some(id))
}

/// The resolved parameters of an operation (path-level ones first, overridden by
/// operation-level ones with the same `in` and `name`), keyed by `(in, name)`.
pub fn parameters<'a>(
    spec: &'a Value,
    op: &Operation<'a>,
) -> BTreeMap<(String, String), &'a Value> {
    let mut out = BTreeMap::new();
    for list in [op.item.get("parameters"), op.op.get("parameters")] {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            let (p, _) = resolve(spec, p);
            let location = p.get("in").and_then(Value::as_str).unwrap_or("?");
            let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
            out.insert((location.to_owned(), name.to_owned()), p);
        }
    }
    out
}

/// The response object of `status` (`"200"`, `"default"`, ...), resolved. Falls back to
/// `default` when the status is not listed.
pub fn response<'a>(spec: &'a Value, op: &Operation<'a>, status: &str) -> Option<&'a Value> {
    let responses = op.op.get("responses")?;
    let r = responses.get(status).or_else(|| responses.get("default"))?;
    Some(resolve(spec, r).0)
}

/// The JSON body schema of a response or request body object (`application/json`, else
/// the first `*/*+json` media type).
pub fn json_body_schema(body: &Value) -> Option<&Value> {
    let content = body.get("content")?.as_object()?;
    let media = content.get("application/json").or_else(|| {
        content
            .iter()
            .find(|(k, _)| k.ends_with("+json") || k.ends_with("/json"))
            .map(|(_, v)| v)
    })?;
    media.get("schema")
}

/// `additionalProperties` of a merged schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Additional<'a> {
    /// Not given: extra keys are allowed by JSON Schema but undocumented.
    Unspecified,
    /// `true` or `{}`: any extra key is documented as allowed.
    Any,
    /// `false`: no extra keys.
    Forbidden,
    /// Extra keys hold values of this schema.
    Schema(&'a Value),
}

/// A schema with its `$ref`s followed and its `allOf` members merged in.
#[derive(Debug, Clone)]
pub struct View<'a> {
    /// The component name of the schema, when reached through a `$ref`.
    pub name: Option<&'a str>,
    /// The declared `type` (the first one found), if any.
    pub ty: Option<&'a str>,
    /// `nullable: true` anywhere in the merge.
    pub nullable: bool,
    /// `format`, if any.
    pub format: Option<&'a str>,
    /// Every property, merged.
    pub properties: BTreeMap<&'a str, &'a Value>,
    /// Every required property name, merged.
    pub required: BTreeSet<&'a str>,
    /// `additionalProperties` (the most specific one found).
    pub additional: Additional<'a>,
    /// `items`, if any.
    pub items: Option<&'a Value>,
    /// `enum` values with the name of the schema that declared them.
    pub enumeration: Option<(&'a [Value], Option<&'a str>)>,
    /// The enumeration is open (`anyOf: [{type: string, enum}, {type: string}]`): values
    /// it does not list are valid, only new to the spec.
    pub open: bool,
    /// `anyOf`/`oneOf` alternatives.
    pub alternatives: Vec<&'a Value>,
    /// Every merged schema object, outermost first (for keywords the view does not lift).
    pub parts: Vec<&'a Value>,
}

impl<'a> View<'a> {
    /// Builds the view of `schema`, a schema of `spec`.
    pub fn of(spec: &'a Value, schema: &'a Value) -> Self {
        let mut view = View {
            name: None,
            ty: None,
            nullable: false,
            format: None,
            properties: BTreeMap::new(),
            required: BTreeSet::new(),
            additional: Additional::Unspecified,
            items: None,
            enumeration: None,
            open: false,
            alternatives: Vec::new(),
            parts: Vec::new(),
        };
        view.merge(spec, schema, 0);
        view
    }

    fn merge(&mut self, spec: &'a Value, schema: &'a Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let (schema, name) = resolve(spec, schema);
        if self.name.is_none() {
            self.name = name;
        }
        let Some(object) = schema.as_object() else {
            if schema == &Value::Bool(false) {
                self.additional = Additional::Forbidden;
            }
            return;
        };
        self.parts.push(schema);
        if self.ty.is_none() {
            self.ty = object.get("type").and_then(Value::as_str);
        }
        if self.format.is_none() {
            self.format = object.get("format").and_then(Value::as_str);
        }
        if object.get("nullable") == Some(&Value::Bool(true)) {
            self.nullable = true;
        }
        if let Some(props) = object.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                self.properties.entry(k.as_str()).or_insert(v);
            }
        }
        for r in object
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = r.as_str() {
                self.required.insert(r);
            }
        }
        match object.get("additionalProperties") {
            None => {}
            Some(Value::Bool(true)) => self.additional = Additional::Any,
            Some(Value::Bool(false)) => self.additional = Additional::Forbidden,
            Some(v @ Value::Object(o)) => {
                self.additional = if o.is_empty() {
                    Additional::Any
                } else {
                    Additional::Schema(v)
                }
            }
            Some(_) => {}
        }
        if self.items.is_none() {
            self.items = object.get("items");
        }
        if self.enumeration.is_none()
            && let Some(values) = object.get("enum").and_then(Value::as_array)
        {
            self.enumeration = Some((values.as_slice(), name));
        }
        if shipstream_inventory_codegen::facts::open_enum_values(schema).is_some() {
            // The open-enum form: a string whose known values are listed.
            let listed = object
                .get("anyOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find_map(|branch| branch.get("enum").and_then(Value::as_array));
            if let Some(values) = listed {
                self.ty.get_or_insert("string");
                self.enumeration = Some((values.as_slice(), name));
                self.open = true;
            }
            return;
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(list) = object.get(key).and_then(Value::as_array) {
                self.alternatives.extend(list);
            }
        }
        if let Some(list) = object.get("allOf").and_then(Value::as_array) {
            for member in list {
                self.merge(spec, member, depth + 1);
            }
        }
    }

    /// The effective type: the declared one, or `object` when properties or
    /// `additionalProperties` are given, or `array` when `items` is.
    pub fn effective_type(&self) -> Option<&'a str> {
        self.ty.or_else(|| {
            if !self.properties.is_empty() || self.additional != Additional::Unspecified {
                Some("object")
            } else if self.items.is_some() {
                Some("array")
            } else {
                None
            }
        })
    }

    /// The first value of `keyword` among the merged parts.
    pub fn keyword(&self, keyword: &str) -> Option<&'a Value> {
        self.parts.iter().find_map(|p| p.get(keyword))
    }
}

/// The JSON pointer of the node of `root` that `is` picks (the first in document order),
/// e.g. `|v| std::ptr::eq(v, node)` for a node borrowed from `root`.
pub fn pointer_to(root: &Value, is: &impl Fn(&Value) -> bool) -> Option<String> {
    if is(root) {
        return Some(String::new());
    }
    let below = |seg: String, child: &Value| {
        pointer_to(child, is).map(|rest| format!("/{}{rest}", escape(&seg)))
    };
    match root {
        Value::Object(map) => map.iter().find_map(|(k, v)| below(k.clone(), v)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| below(i.to_string(), v)),
        _ => None,
    }
}

/// `key` as a JSON pointer segment (`~` and `/` escaped).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The key a JSON pointer segment names (the inverse of [`escape`]).
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Renders a JSON path: `$.collection[0].product`, with `["odd key"]` for keys that are not
/// plain identifiers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPath(String);

impl JsonPath {
    /// `$`.
    pub fn root() -> Self {
        Self("$".to_owned())
    }

    /// This path followed by an object key.
    pub fn key(&self, key: &str) -> Self {
        let plain = !key.is_empty()
            && key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if plain {
            Self(format!("{}.{key}", self.0))
        } else {
            Self(format!("{}[{}]", self.0, Value::String(key.to_owned())))
        }
    }

    /// This path followed by an array index.
    pub fn index(&self, i: usize) -> Self {
        Self(format!("{}[{i}]", self.0))
    }

    /// The path of the value a JSON pointer (`/collection/0/qty`) designates in
    /// `instance`; array indexes are told from numeric keys by looking at the instance.
    pub fn from_pointer(pointer: &str, instance: &Value) -> Self {
        let mut path = Self::root();
        let mut at = Some(instance);
        for raw in pointer.split('/').skip(1) {
            let segment = unescape(raw);
            match (at, segment.parse::<usize>()) {
                (Some(Value::Array(a)), Ok(i)) => {
                    path = path.index(i);
                    at = a.get(i);
                }
                (Some(v), _) => {
                    path = path.key(&segment);
                    at = v.get(&segment);
                }
                (None, _) => path = path.key(&segment),
            }
        }
        path
    }

    /// The rendered path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_render_plain_and_odd_keys() {
        let p = JsonPath::root()
            .key("included")
            .key("Product")
            .index(0)
            .key("fields:product");
        assert_eq!(p.as_str(), r#"$.included.Product[0]["fields:product"]"#);
    }

    #[test]
    fn pointers_become_paths() {
        let v = json!({"a": [{"10": {"b": 1}}]});
        assert_eq!(
            JsonPath::from_pointer("/a/0/10/b", &v).as_str(),
            r#"$.a[0]["10"].b"#
        );
    }

    #[test]
    fn views_merge_all_of_and_follow_refs() {
        let spec = parse(include_str!("../../openapi.yaml")).unwrap();
        let product = json!({"$ref": "#/components/schemas/Product"});
        let view = View::of(&spec, &product);
        assert_eq!(view.name, Some("Product"));
        let weight = View::of(&spec, view.properties["weight"]);
        assert!(weight.nullable);
        assert!(weight.properties.contains_key("unit"));
        let unit = View::of(&spec, weight.properties["unit"]);
        assert_eq!(unit.enumeration.unwrap().1, Some("WeightUnit"));
        assert!(unit.open);
        let level = json!({"$ref": "#/components/schemas/TotalLevel"});
        let level = View::of(&spec, &level);
        let ty = View::of(&spec, level.properties["type"]);
        assert!(!ty.open, "a level's type is a closed enum");
    }
}
