//! `openapi.yaml` as JSON Schema: validators for response bodies and parameter values.
//!
//! The conversion from OpenAPI 3.0 to JSON Schema 2020-12 is the workspace's one converter,
//! [`shipstream_inventory_codegen::json_schema`]; this module adds validators (with
//! `format` checked: `date-time` must be RFC 3339, unknown formats such as `int64` are
//! ignored) and caching for tests. Open enums (`anyOf: [{type: string, enum}, {type:
//! string}]` in the spec) accept any string; closed ones (a level's `type`) do not.
//!
//! ```
//! use serde_json::json;
//! use shipstream_inventory_contract_tests::spec::Spec;
//!
//! let spec = Spec::load()?;
//! let page = json!({"collection": [{"type": "TotalLevel", "qty_on_hand": 3}], "has_more": false});
//! assert!(spec.response_validator("200")?.is_valid(&page));
//!
//! // A level's type is closed; a goods type is open.
//! let future = json!({"collection": [{"type": "TotalLevelV9"}], "has_more": false});
//! assert!(!spec.response_validator("200")?.is_valid(&future));
//! let novel = json!({"collection": [], "has_more": false,
//!     "included": {"Product": [{"type": "Product", "id": 1, "goods_type": "LITHIUM"}]}});
//! assert!(spec.response_validator("200")?.is_valid(&novel));
//!
//! let limit = spec.parameter_schema("limit")?;
//! assert_eq!(limit["maximum"], 1000);
//! # Ok::<(), shipstream_inventory_contract_tests::spec::SpecError>(())
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value, json};
use shipstream_inventory_codegen::json_schema;

/// The path of the only operation described by `openapi.yaml`.
pub const LEVELS_PATH: &str = shipstream_inventory_generated::api::PATH;

const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// Why the description could not be loaded or converted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not YAML (or not representable as JSON).
    #[error("openapi.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// Something the caller asked for is not in the description.
    #[error("not in the API description: {0}")]
    Missing(String),
    /// A `$ref` that does not point into this document.
    #[error("unsupported or dangling $ref `{0}`")]
    BadRef(String),
    /// The converted schema was rejected by the JSON Schema compiler.
    #[error("the converted schema does not compile: {0}")]
    Compile(String),
}

/// The loaded API description.
#[derive(Clone, Debug)]
pub struct Spec {
    doc: Value,
}

impl Spec {
    /// The workspace's `openapi.yaml` (`CARGO_MANIFEST_DIR/../openapi.yaml`).
    pub fn default_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("openapi.yaml")
    }

    /// Loads the workspace's `openapi.yaml`.
    pub fn load() -> Result<Spec, SpecError> {
        Spec::from_path(Spec::default_path())
    }

    /// Loads a description from a YAML (or JSON) file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Spec, SpecError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.to_owned(),
            source,
        })?;
        Spec::from_yaml_str(&text)
    }

    /// Parses a description from YAML (or JSON) text.
    pub fn from_yaml_str(text: &str) -> Result<Spec, SpecError> {
        let doc: Value = serde_yaml::from_str(text)?;
        Ok(Spec { doc })
    }

    /// The whole description as JSON.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// The `GET` operation on [`LEVELS_PATH`].
    pub fn operation(&self) -> Result<&Value, SpecError> {
        self.doc
            .get("paths")
            .and_then(|p| p.get(LEVELS_PATH))
            .and_then(|p| p.get("get"))
            .ok_or_else(|| SpecError::Missing(format!("GET {LEVELS_PATH}")))
    }

    /// The response keys of the operation (`"200"`, `"400"`, ..., `"default"`).
    pub fn response_statuses(&self) -> Result<Vec<String>, SpecError> {
        Ok(self.responses()?.keys().cloned().collect())
    }

    fn responses(&self) -> Result<&Map<String, Value>, SpecError> {
        self.operation()?
            .get("responses")
            .and_then(Value::as_object)
            .ok_or_else(|| SpecError::Missing("responses".into()))
    }

    /// The response key that documents `status`: the status itself, else its `NXX` range,
    /// else `default`.
    pub fn response_key(&self, status: &str) -> Result<String, SpecError> {
        let responses = self.responses()?;
        if responses.contains_key(status) {
            return Ok(status.to_owned());
        }
        if let Some(first) = status.chars().next() {
            let range = format!("{first}XX");
            if responses.contains_key(&range) {
                return Ok(range);
            }
        }
        if responses.contains_key("default") {
            return Ok("default".into());
        }
        Err(SpecError::Missing(format!("response {status}")))
    }

    /// The response object documenting `status` (see [`Spec::response_key`]), `$ref`s
    /// resolved.
    pub fn response(&self, status: &str) -> Result<&Value, SpecError> {
        let key = self.response_key(status)?;
        let raw = self
            .responses()?
            .get(&key)
            .ok_or_else(|| SpecError::Missing(format!("response {key}")))?;
        self.resolve(raw)
    }

    /// The body schema of the response for `status`, as written in the description
    /// (OpenAPI form, unconverted): its `application/json` schema, else its `*/*` one (a
    /// response that may carry any body).
    pub fn response_schema(&self, status: &str) -> Result<&Value, SpecError> {
        let response = self.response(status)?;
        response
            .pointer("/content/application~1json/schema")
            .or_else(|| response.pointer("/content/*~1*/schema"))
            .ok_or_else(|| SpecError::Missing(format!("JSON schema of response {status}")))
    }

    /// The examples of the response for `status` (`example` and every `examples` entry,
    /// `$ref`s resolved).
    pub fn response_examples(&self, status: &str) -> Result<Vec<Value>, SpecError> {
        let media = self
            .response(status)?
            .pointer("/content/application~1json")
            .ok_or_else(|| SpecError::Missing(format!("JSON content of response {status}")))?;
        let mut out = Vec::new();
        if let Some(example) = media.get("example") {
            out.push(example.clone());
        }
        if let Some(examples) = media.get("examples").and_then(Value::as_object) {
            for example in examples.values() {
                if let Some(v) = self.resolve(example)?.get("value") {
                    out.push(v.clone());
                }
            }
        }
        Ok(out)
    }

    /// The response schema for `status` as a self-contained JSON Schema document.
    pub fn response_json_schema(&self, status: &str) -> Result<Value, SpecError> {
        let schema = self.response_schema(status)?;
        self.document_for(schema)
    }

    /// A validator for the body of a response with `status` (`"200"`, `"400"`, ...,
    /// `"default"`; an undocumented status uses `default`).
    pub fn response_validator(&self, status: &str) -> Result<jsonschema::Validator, SpecError> {
        compile(&self.response_json_schema(status)?)
    }

    /// A named component schema (`TotalLevel`, `ErrorBody`, ...) as a self-contained JSON
    /// Schema document.
    pub fn component_json_schema(&self, name: &str) -> Result<Value, SpecError> {
        let schema = json!({ "$ref": format!("{SCHEMA_REF_PREFIX}{name}") });
        self.resolve(&schema)?;
        self.document_for(&schema)
    }

    /// The parameter of the operation named `name` (`filter`, `limit`, `fields:product`,
    /// `X-ShipStream-API-Version`, ...), `$ref` resolved.
    pub fn parameter(&self, name: &str) -> Result<&Value, SpecError> {
        self.parameters()?
            .remove(name)
            .ok_or_else(|| SpecError::Missing(format!("parameter {name}")))
    }

    /// Every parameter of the operation by name, `$ref`s resolved.
    pub fn parameters(&self) -> Result<std::collections::BTreeMap<&str, &Value>, SpecError> {
        let params = self
            .operation()?
            .get("parameters")
            .and_then(Value::as_array)
            .ok_or_else(|| SpecError::Missing("parameters".into()))?;
        let mut out = std::collections::BTreeMap::new();
        for p in params {
            let p = self.resolve(p)?;
            let name = p.get("name").and_then(Value::as_str);
            out.insert(
                name.ok_or_else(|| SpecError::Missing("a parameter's name".into()))?,
                p,
            );
        }
        Ok(out)
    }

    /// The schema of parameter `name` as a self-contained JSON Schema document.
    pub fn parameter_schema(&self, name: &str) -> Result<Value, SpecError> {
        let schema = self
            .parameter(name)?
            .get("schema")
            .ok_or_else(|| SpecError::Missing(format!("schema of parameter {name}")))?;
        self.document_for(schema)
    }

    /// The values an array parameter's items list, in spec order: the `enum` of the items,
    /// through a `$ref`, or the listed values of an open enum (`anyOf` of an `enum` and a
    /// plain string, which allows others too).
    pub fn item_values(&self, name: &str) -> Result<Vec<String>, SpecError> {
        let mut items = self
            .parameter(name)?
            .pointer("/schema/items")
            .ok_or_else(|| SpecError::Missing(format!("items of parameter {name}")))?;
        if let Some(r) = items.get("$ref").and_then(Value::as_str) {
            items = self
                .doc
                .pointer(r.trim_start_matches('#'))
                .ok_or_else(|| SpecError::BadRef(r.to_owned()))?;
        }
        let list = items.get("enum").or_else(|| {
            items
                .get("anyOf")?
                .as_array()?
                .iter()
                .find_map(|m| m.get("enum"))
        });
        Ok(list
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// A validator for values of parameter `name`.
    pub fn parameter_validator(&self, name: &str) -> Result<jsonschema::Validator, SpecError> {
        compile(&self.parameter_schema(name)?)
    }

    /// The examples of parameter `name` (`example` and every `examples` entry).
    pub fn parameter_examples(&self, name: &str) -> Result<Vec<Value>, SpecError> {
        let p = self.parameter(name)?;
        let mut out = Vec::new();
        if let Some(v) = p.get("example") {
            out.push(v.clone());
        }
        if let Some(v) = p.pointer("/schema/example") {
            out.push(v.clone());
        }
        if let Some(examples) = p.get("examples").and_then(Value::as_object) {
            for example in examples.values() {
                if let Some(v) = self.resolve(example)?.get("value") {
                    out.push(v.clone());
                }
            }
        }
        Ok(out)
    }

    /// Follows a `$ref` into this document (repeatedly); other values are returned as is.
    pub(crate) fn resolve<'a>(&'a self, value: &'a Value) -> Result<&'a Value, SpecError> {
        use shipstream_inventory_codegen::refs::{RefError, walk};
        walk(&self.doc, value).target().map_err(|e| match e {
            RefError::Dangling(r) => SpecError::BadRef(r),
            other => SpecError::BadRef(other.to_string()),
        })
    }

    /// Converts `schema` and wraps it in a document with every component schema in `$defs`
    /// (the workspace's converter, [`shipstream_inventory_codegen::json_schema`]).
    pub(crate) fn document_for(&self, schema: &Value) -> Result<Value, SpecError> {
        check_refs(schema)?;
        Ok(json_schema::document(&self.doc, schema))
    }
}

/// Every `$ref` of `schema` points at a component schema (the converter leaves others
/// alone, and a validator would then fail late and obscurely).
fn check_refs(schema: &Value) -> Result<(), SpecError> {
    match schema {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str)
                && !r.starts_with(SCHEMA_REF_PREFIX)
            {
                return Err(SpecError::BadRef(r.to_owned()));
            }
            map.values().try_for_each(check_refs)
        }
        Value::Array(items) => items.iter().try_for_each(check_refs),
        _ => Ok(()),
    }
}

/// Converts one OpenAPI 3.0 schema object (recursively) to JSON Schema 2020-12, with the
/// workspace's converter; a `$ref` outside the component schemas is an error.
pub fn convert(schema: &Value) -> Result<Value, SpecError> {
    check_refs(schema)?;
    Ok(json_schema::convert(schema))
}

pub(crate) fn compile(schema: &Value) -> Result<jsonschema::Validator, SpecError> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| SpecError::Compile(e.to_string()))
}

/// The workspace's description, loaded once.
///
/// # Panics
///
/// When `openapi.yaml` cannot be read or parsed (a test setup error).
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| match Spec::load() {
        Ok(spec) => spec,
        Err(e) => panic!("cannot load {}: {e}", Spec::default_path().display()),
    })
}

type Cache = Mutex<HashMap<String, Arc<jsonschema::Validator>>>;

fn cached(status: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let spec = spec();
    let key = match spec.response_key(status) {
        Ok(k) => k,
        Err(e) => panic!("{e}"),
    };
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key.clone())
        .or_insert_with(|| match spec.response_validator(&key) {
            Ok(v) => Arc::new(v),
            Err(e) => panic!("response {key}: {e}"),
        })
        .clone()
}

/// A validator for the body of a response with `status` (`"200"`, `"400"`, ...,
/// `"default"`), from the workspace's `openapi.yaml`.
///
/// # Panics
///
/// When the description cannot be loaded or converted.
pub fn response_validator(status: &str) -> jsonschema::Validator {
    match spec().response_validator(status) {
        Ok(v) => v,
        Err(e) => panic!("response {status}: {e}"),
    }
}

/// The schema of parameter `name` as JSON Schema, from the workspace's `openapi.yaml`.
///
/// # Panics
///
/// When the description cannot be loaded or has no such parameter.
pub fn parameter_schema(name: &str) -> Value {
    match spec().parameter_schema(name) {
        Ok(v) => v,
        Err(e) => panic!("parameter {name}: {e}"),
    }
}

/// Checks a response body against the schema documented for `status` (validators are
/// compiled once and cached). The error lists every violation with its JSON pointer.
///
/// # Panics
///
/// When the description cannot be loaded or converted.
pub fn validate_response(status: u16, body: &Value) -> Result<(), String> {
    let validator = cached(&status.to_string());
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{}: {}", e.instance_path, e))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "response {status} does not match openapi.yaml:\n  {}",
            errors.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn every_response_example_validates() {
        let spec = Spec::load().unwrap();
        let mut seen = 0;
        for status in spec.response_statuses().unwrap() {
            let validator = spec.response_validator(&status).unwrap();
            for example in spec.response_examples(&status).unwrap_or_default() {
                let errors: Vec<_> = validator
                    .iter_errors(&example)
                    .map(|e| e.to_string())
                    .collect();
                assert!(errors.is_empty(), "{status}: {errors:?}");
                seen += 1;
            }
        }
        assert!(seen >= 3, "only {seen} examples found");
    }

    #[test]
    fn every_component_schema_compiles() {
        let spec = Spec::load().unwrap();
        let names: Vec<String> = spec.document()["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert!(names.len() > 10);
        for name in names {
            let s = spec.component_json_schema(&name).unwrap();
            compile(&s).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert!(matches!(
            spec.component_json_schema("Nope"),
            Err(SpecError::BadRef(_))
        ));
    }

    #[test]
    fn wrong_types_fail() {
        let v = response_validator("200");
        assert!(v.is_valid(&json!({"collection": [], "has_more": false})));
        assert!(!v.is_valid(&json!({"collection": "x", "has_more": false})));
        assert!(
            !v.is_valid(&json!({"collection": []})),
            "has_more is required"
        );
        assert!(!v.is_valid(&json!({"collection": [{"qty_on_hand": 1}], "has_more": false})));
        assert!(!v.is_valid(&json!({
            "collection": [{"type": "TotalLevel", "qty_on_hand": "1"}], "has_more": false
        })));
        assert!(!v.is_valid(&json!({
            "collection": [{"type": "TotalLevel", "updated_at": "yesterday"}], "has_more": false
        })));
        // Open enums take new values; the closed level type does not.
        assert!(v.is_valid(&json!({
            "collection": [], "has_more": false,
            "included": {"Product": [{"type": "Product", "id": 1, "weight": {"unit": "stone"}}]}
        })));
        assert!(!v.is_valid(&json!({
            "collection": [], "has_more": false,
            "included": {"Product": [{"type": "Product", "id": 1, "weight": {"unit": 5}}]}
        })));
        assert!(!v.is_valid(&json!({"collection": [{"type": "Level"}], "has_more": false})));
        let e = response_validator("400");
        assert!(!e.is_valid(&json!({"errors": [{"type": "application"}]})));
        assert!(!e.is_valid(&json!({"error": "x"})));
        assert!(e.is_valid(&json!({"errors": [{"type": "oops", "message": "m"}]})));
        let err = validate_response(401, &json!({"errors": [{"message": 5}]})).unwrap_err();
        assert!(err.contains("/errors/0"), "{err}");
    }

    #[test]
    fn nullable_fields_admit_null() {
        let page = json!({
            "collection": [],
            "has_more": false,
            "next": null,
            "previous": null,
            "meta": {"processing_time": 0.1, "cursor_start": null, "cursor_end": null},
            "included": {"Product": [{
                "type": "Product", "id": 1, "vendor_sku": null, "barcodes": null,
                "weight": null, "lot_type": null, "merchant": null, "custom_fields": null,
                "regulated_goods": {"regulation": null, "regulation_units": null},
                "export": {"customs_value": null, "hs_country_extension": null}
            }]}
        });
        assert!(
            validate_response(200, &page).is_ok(),
            "{:?}",
            validate_response(200, &page)
        );
        let bad = json!({"collection": [], "has_more": false, "meta": {"count": null}});
        assert!(
            validate_response(200, &bad).is_err(),
            "count is not nullable"
        );
        let bad = json!({"collection": [], "has_more": false,
            "included": {"Product": [{"type": "Product", "id": 1, "sku": null}]}});
        assert!(validate_response(200, &bad).is_err(), "sku is not nullable");
    }

    #[test]
    fn status_falls_back_to_default() {
        let spec = spec();
        assert_eq!(spec.response_key("400").unwrap(), "400");
        // A server error the spec does not list (the drill's vendor release adds a 503).
        let responses = spec.responses().unwrap();
        let status = (500..600)
            .find(|s| !responses.contains_key(&s.to_string()))
            .unwrap();
        assert_eq!(spec.response_key(&status.to_string()).unwrap(), "default");
        // A 5xx may carry any body.
        assert!(validate_response(status, &json!({"errors": []})).is_ok());
        assert!(validate_response(status, &json!([])).is_ok());
        assert!(validate_response(status, &json!("Service Unavailable")).is_ok());
    }

    #[test]
    fn parameters() {
        let spec = spec();
        let limit = parameter_schema("limit");
        assert_eq!(limit["minimum"], 1);
        let v = spec.parameter_validator("limit").unwrap();
        assert!(v.is_valid(&json!(1000)));
        assert!(!v.is_valid(&json!(1001)));
        assert!(!v.is_valid(&json!("5")));

        let fields = spec.parameter_validator("fields").unwrap();
        assert!(fields.is_valid(&json!(["warehouse", "all"])));
        assert!(!fields.is_valid(&json!(["warehouse", "nope"])));
        assert!(!fields.is_valid(&json!(["all", "all"])), "uniqueItems");

        let product = spec.parameter_validator("fields:product").unwrap();
        assert!(product.is_valid(&json!(["basic", "custom_fields"])));
        // An open list: a name the spec does not list is valid (the API selects fields of
        // packaging objects too); an empty name or a repeat is not.
        assert!(product.is_valid(&json!(["colour"])));
        assert!(!product.is_valid(&json!([""])));
        assert!(!product.is_valid(&json!(["sku", "sku"])));
        assert_eq!(
            spec.item_values("fields:product").unwrap()[..3],
            ["basic", "all", "id"]
        );

        let sort = spec.parameter_validator("sort").unwrap();
        assert!(sort.is_valid(&json!("-updated_at,sku")));
        assert!(!sort.is_valid(&json!("name")));

        let version = spec
            .parameter_validator("X-ShipStream-API-Version")
            .unwrap();
        assert!(version.is_valid(&json!("2025-08")));
        assert!(!version.is_valid(&json!("2025-13")));

        let filter = spec.parameter_validator("filter").unwrap();
        for example in spec.parameter_examples("filter").unwrap() {
            assert!(filter.is_valid(&example), "{example}");
        }
        assert!(!filter.is_valid(&json!([""])));
        for example in spec.parameter_examples("limit").unwrap() {
            assert!(v.is_valid(&example), "{example}");
        }
        assert!(matches!(spec.parameter("nope"), Err(SpecError::Missing(_))));
    }

    #[test]
    fn conversion_rules() {
        let c = convert(&json!({
            "type": "integer", "nullable": true, "minimum": 0, "exclusiveMinimum": true,
            "example": 5
        }))
        .unwrap();
        assert_eq!(
            c,
            json!({"anyOf": [{"type": "null"}, {"type": "integer", "exclusiveMinimum": 0}]})
        );
        let c = convert(&json!({"$ref": "#/components/schemas/X"})).unwrap();
        assert_eq!(c, json!({"$ref": "#/$defs/X"}));
        assert!(convert(&json!({"$ref": "other.yaml#/X"})).is_err());
        let c = convert(&json!({"type": "object", "additionalProperties": false})).unwrap();
        assert_eq!(c["additionalProperties"], json!(false));
    }

    #[test]
    fn loads_from_a_path() {
        let dir = std::env::temp_dir().join(format!("spec-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("openapi.yaml");
        std::fs::copy(Spec::default_path(), &path).unwrap();
        let spec = Spec::from_path(&path).unwrap();
        assert!(spec.response_validator("200").is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(
            Spec::from_path(dir.join("missing.yaml")),
            Err(SpecError::Io { .. })
        ));
        assert!(matches!(
            Spec::from_yaml_str("a: [b"),
            Err(SpecError::Yaml(_))
        ));
    }
}
