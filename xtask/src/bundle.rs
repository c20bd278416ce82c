//! One OpenAPI document out of a description split over several files.
//!
//! The [spec-diff engine](crate::specdiff) and [`crate::spec`] follow only internal
//! references (`#/components/...`). A vendor publishes its description as a root file and
//! others it points into (`other.yaml`, `../schemas/X.yaml#/X`,
//! `common.yaml#/components/schemas/Y`); [`load`] reads them all, resolving each `$ref`
//! relative to the file that holds it, and hoists what they point at into the root's
//! `components`, so that every reference of the result is internal:
//!
//! - a reference to `F#/components/<kind>/<Name>` becomes `#/components/<kind>/<Name>`;
//! - a reference to a whole file, or to another pointer, becomes a component of the kind
//!   its position calls for (a schema position: `schemas`; an entry of a parameter list:
//!   `parameters`; a response: `responses`; a header: `headers`; a request body:
//!   `requestBodies`; an example: `examples`), named after the file's stem or the
//!   pointer's last segment;
//! - where no component fits (a path item, or a position this module does not know), the
//!   target is copied in place.
//!
//! Cycles across files end at the component already being built. Two different
//! definitions that would get the same component name are an error naming both files.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::spec;

/// The file names a folder's root document is looked for under first, in this order.
pub const ROOT_NAMES: &[&str] = &[
    "openapi.yaml",
    "openapi.yml",
    "openapi.json",
    "index.yaml",
    "index.yml",
    "index.json",
];

/// A description bundled into one document.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The root file (canonical path).
    pub root: PathBuf,
    /// The document, whose references are all internal (`#/...`).
    pub doc: Value,
    /// Every file read, the root first (canonical paths).
    pub files: Vec<PathBuf>,
}

/// Bundles the description at `path`: a root file, or a folder holding one (see
/// [`find_root`]).
pub fn load(path: &Path) -> Result<Bundle> {
    let root = if path.is_dir() {
        find_root(path)?
    } else {
        path.to_owned()
    };
    let root = fs::canonicalize(&root).with_context(|| {
        format!(
            "cannot read the OpenAPI document {}: give the root file of the description, or \
             the folder holding its files",
            root.display()
        )
    })?;
    let mut bundler = Bundler::default();
    let doc = bundler.bundle(&root)?;
    if doc.get("openapi").is_none() || doc.get("paths").is_none() {
        bail!(
            "{} is not an OpenAPI root document (it lacks `openapi:` or `paths:`): give the \
             root file of the description, or the folder holding its files",
            root.display()
        );
    }
    Ok(Bundle {
        root,
        doc,
        files: bundler.order,
    })
}

/// The root document in `dir`: the first of [`ROOT_NAMES`] that is a document with
/// `openapi:` and `paths:`, else the only YAML or JSON file below `dir` that is one.
pub fn find_root(dir: &Path) -> Result<PathBuf> {
    for name in ROOT_NAMES {
        let candidate = dir.join(name);
        if candidate.is_file() && is_root_document(&candidate) {
            return Ok(candidate);
        }
    }
    let mut found = Vec::new();
    collect_roots(dir, &mut found)?;
    found.sort();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "no OpenAPI root document in {}: none of its YAML or JSON files has both \
             `openapi:` and `paths:`; give the root file instead of the folder",
            dir.display()
        ),
        many => bail!(
            "{} holds several OpenAPI root documents ({}); give the one to compare instead of \
             the folder",
            dir.display(),
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn collect_roots(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_roots(&path, found)?;
        } else if is_spec_file(&path) && is_root_document(&path) {
            found.push(path);
        }
    }
    Ok(())
}

fn is_spec_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Whether the file parses as a document with `openapi` and `paths` (unreadable files are
/// not roots).
fn is_root_document(path: &Path) -> bool {
    read_document(path).is_ok_and(|v| v.get("openapi").is_some() && v.get("paths").is_some())
}

/// Reads one file of a description, YAML or JSON.
fn read_document(path: &Path) -> Result<Value> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().and_then(|e| e.to_str()) == Some("json") {
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
    } else {
        spec::parse(&text).with_context(|| format!("{} is not valid YAML", path.display()))
    }
}

/// The kinds of `components` a reference can be hoisted into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Schemas,
    Parameters,
    Responses,
    Headers,
    RequestBodies,
    Examples,
    Links,
    Callbacks,
    SecuritySchemes,
}

impl Kind {
    const ALL: [Kind; 9] = [
        Kind::Schemas,
        Kind::Parameters,
        Kind::Responses,
        Kind::Headers,
        Kind::RequestBodies,
        Kind::Examples,
        Kind::Links,
        Kind::Callbacks,
        Kind::SecuritySchemes,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Kind::Schemas => "schemas",
            Kind::Parameters => "parameters",
            Kind::Responses => "responses",
            Kind::Headers => "headers",
            Kind::RequestBodies => "requestBodies",
            Kind::Examples => "examples",
            Kind::Links => "links",
            Kind::Callbacks => "callbacks",
            Kind::SecuritySchemes => "securitySchemes",
        }
    }

    fn named(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Where a value sits in an OpenAPI document: what a `$ref` found there points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    Document,
    Paths,
    PathItem,
    Operation,
    ParameterList,
    Components,
    /// A map from names to objects of one kind (`properties`, `headers`, `responses`, ...).
    Map(Kind),
    /// An object of one kind.
    Item(Kind),
    /// A list of schemas (`allOf`, `anyOf`, `oneOf`).
    SchemaList,
    Content,
    MediaType,
    /// Example values, defaults, enums and extensions: data, whose `$ref` keys are not
    /// references.
    Data,
    /// Anything else: references found there are copied in place.
    Other,
}

impl Pos {
    /// The position of the member `key` of an object at this position.
    fn member(self, key: &str) -> Pos {
        // Extensions hold data, except where keys are names (of properties, headers,
        // paths, media types).
        if key.starts_with("x-") && !matches!(self, Pos::Map(_) | Pos::Paths | Pos::Content) {
            return Pos::Data;
        }
        match (self, key) {
            (Pos::Document, "paths") => Pos::Paths,
            (Pos::Document, "components") => Pos::Components,
            (Pos::Paths, _) => Pos::PathItem,
            (Pos::PathItem, "parameters") | (Pos::Operation, "parameters") => Pos::ParameterList,
            (Pos::PathItem, method) if spec::METHODS.contains(&method) => Pos::Operation,
            (Pos::Operation, "requestBody") => Pos::Item(Kind::RequestBodies),
            (Pos::Operation, "responses") => Pos::Map(Kind::Responses),
            (Pos::Operation, "callbacks") => Pos::Map(Kind::Callbacks),
            (Pos::Components, kind) => Kind::named(kind).map_or(Pos::Other, Pos::Map),
            (Pos::Map(kind), _) => Pos::Item(kind),
            (Pos::Item(Kind::Parameters | Kind::Headers), "schema")
            | (Pos::MediaType, "schema")
            | (Pos::Item(Kind::Schemas), "items" | "additionalProperties" | "not") => {
                Pos::Item(Kind::Schemas)
            }
            (Pos::Item(Kind::Parameters | Kind::Headers), "content")
            | (Pos::Item(Kind::RequestBodies | Kind::Responses), "content") => Pos::Content,
            (Pos::Item(Kind::Parameters | Kind::Headers) | Pos::MediaType, "examples") => {
                Pos::Map(Kind::Examples)
            }
            (Pos::Item(Kind::Responses), "headers") => Pos::Map(Kind::Headers),
            (Pos::Item(Kind::Responses), "links") => Pos::Map(Kind::Links),
            (Pos::Item(Kind::Schemas), "properties") => Pos::Map(Kind::Schemas),
            (Pos::Item(Kind::Schemas), "allOf" | "anyOf" | "oneOf") => Pos::SchemaList,
            (Pos::Item(Kind::Callbacks), _) => Pos::PathItem,
            (Pos::Content, _) => Pos::MediaType,
            (_, "example" | "examples" | "default" | "enum" | "value") | (Pos::Data, _) => {
                Pos::Data
            }
            _ => Pos::Other,
        }
    }

    /// The position of an element of an array at this position.
    fn element(self) -> Pos {
        match self {
            Pos::ParameterList => Pos::Item(Kind::Parameters),
            Pos::SchemaList => Pos::Item(Kind::Schemas),
            Pos::Data => Pos::Data,
            _ => Pos::Other,
        }
    }

    /// The kind of component a reference at this position is hoisted into (none: it is
    /// copied in place).
    fn hoisted_kind(self) -> Option<Kind> {
        match self {
            Pos::Item(kind) => Some(kind),
            _ => None,
        }
    }
}

/// Where a reference points: a file and a JSON pointer in it.
type Target = (PathBuf, String);

#[derive(Default)]
struct Bundler {
    /// Every file read, by canonical path.
    files: BTreeMap<PathBuf, Value>,
    /// The files in the order they were read.
    order: Vec<PathBuf>,
    /// Each target already hoisted, with the internal reference it became.
    hoisted: BTreeMap<Target, String>,
    /// Each component name taken, `(kind, name)`, with the target that took it.
    owners: BTreeMap<(String, String), Target>,
    /// The components of the bundle, by kind and name (`Null` while being built).
    components: BTreeMap<String, Map<String, Value>>,
    /// The targets being copied in place, outermost first (to stop cycles).
    inlining: Vec<Target>,
}

impl Bundler {
    fn bundle(&mut self, root: &Path) -> Result<Value> {
        let doc = self.file(root)?.clone();
        let Some(object) = doc.as_object() else {
            bail!(
                "{} is not an OpenAPI document (not a mapping)",
                root.display()
            );
        };
        // The root's own components keep their names: register them all first, so that a
        // reference from another file to the same name is checked against them.
        let own = object
            .get("components")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (kind, entries) in &own {
            for name in entries.as_object().into_iter().flat_map(|m| m.keys()) {
                let target = (
                    root.to_owned(),
                    format!("/components/{}/{}", escape(kind), escape(name)),
                );
                self.hoisted
                    .insert(target.clone(), internal_ref(kind, name));
                self.owners.insert((kind.clone(), name.clone()), target);
                self.components
                    .entry(kind.clone())
                    .or_default()
                    .insert(name.clone(), Value::Null);
            }
        }
        for (kind, entries) in &own {
            let pos = Pos::Components.member(kind);
            let Some(entries) = entries.as_object() else {
                continue;
            };
            for (name, value) in entries {
                let value = self.rewrite(value, root, pos.member(name))?;
                self.components
                    .entry(kind.clone())
                    .or_default()
                    .insert(name.clone(), value);
            }
        }
        let mut out = Map::new();
        for (key, value) in object {
            if key != "components" {
                out.insert(
                    key.clone(),
                    self.rewrite(value, root, Pos::Document.member(key))?,
                );
            }
        }
        let mut components: Map<String, Value> = own
            .iter()
            .filter(|(kind, _)| !self.components.contains_key(*kind))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (kind, entries) in std::mem::take(&mut self.components) {
            components.insert(kind, Value::Object(entries));
        }
        if !components.is_empty() {
            out.insert("components".to_owned(), Value::Object(components));
        }
        Ok(Value::Object(out))
    }

    /// The parsed file at `path` (canonical), read on first use.
    fn file(&mut self, path: &Path) -> Result<&Value> {
        if !self.files.contains_key(path) {
            let doc = read_document(path)?;
            self.order.push(path.to_owned());
            self.files.insert(path.to_owned(), doc);
        }
        self.files
            .get(path)
            .with_context(|| format!("{} was not kept after reading", path.display()))
    }

    /// `value`, found in `file` at `pos`, with every reference made internal.
    fn rewrite(&mut self, value: &Value, file: &Path, pos: Pos) -> Result<Value> {
        match value {
            Value::Object(object) => {
                if pos != Pos::Data
                    && let Some(Value::String(reference)) = object.get("$ref")
                {
                    return self.reference(reference, file, pos);
                }
                let mut out = Map::new();
                for (key, member) in object {
                    out.insert(key.clone(), self.rewrite(member, file, pos.member(key))?);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|item| self.rewrite(item, file, pos.element()))
                    .collect::<Result<_>>()?,
            )),
            other => Ok(other.clone()),
        }
    }

    /// What the reference `reference`, found in `file` at `pos`, becomes.
    fn reference(&mut self, reference: &str, file: &Path, pos: Pos) -> Result<Value> {
        let (location, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        if location.contains("://") || location.starts_with("//") {
            bail!(
                "the $ref `{reference}` in {} points at a URL; download that file next to the \
                 others (keeping the release's folder layout) and make the reference relative",
                file.display()
            );
        }
        let target_file = if location.is_empty() {
            file.to_owned()
        } else {
            let dir = file.parent().unwrap_or(Path::new("."));
            let joined = dir.join(percent_decode(location));
            fs::canonicalize(&joined).with_context(|| {
                format!(
                    "cannot read {}, which the $ref `{reference}` in {} points at: download \
                     every file of the release, in its folder layout",
                    tidy(&joined).display(),
                    file.display()
                )
            })?
        };
        let pointer = percent_decode(fragment);
        if !pointer.is_empty() && !pointer.starts_with('/') {
            bail!(
                "the $ref `{reference}` in {} has a fragment that is not a JSON pointer",
                file.display()
            );
        }
        let target = self
            .file(&target_file)?
            .pointer(&pointer)
            .cloned()
            .with_context(|| {
                format!(
                    "the $ref `{reference}` in {} points at nothing: {} has no `{pointer}`",
                    file.display(),
                    target_file.display()
                )
            })?;
        let key: Target = (target_file.clone(), pointer.clone());
        if let Some(internal) = self.hoisted.get(&key) {
            return Ok(ref_to(internal));
        }
        let (kind, name, item_pos) = match component_pointer(&pointer) {
            Some((kind, name)) => {
                let pos = Kind::named(&kind).map_or(Pos::Other, Pos::Item);
                (kind, name, pos)
            }
            None => match pos.hoisted_kind() {
                Some(kind) => (
                    kind.as_str().to_owned(),
                    component_name(&pointer, &target_file),
                    pos,
                ),
                None => return self.inline(&target, key, pos),
            },
        };
        let internal = internal_ref(&kind, &name);
        self.hoisted.insert(key.clone(), internal.clone());
        if let Some(owner) = self.owners.get(&(kind.clone(), name.clone())).cloned() {
            // The name is taken: the same definition under another path is fine, another
            // one is not.
            let mine = self.rewrite(&target, &target_file, item_pos)?;
            let theirs = match self.components.get(&kind).and_then(|m| m.get(&name)) {
                Some(Value::Null) | None => {
                    let raw = self
                        .files
                        .get(&owner.0)
                        .and_then(|d| d.pointer(&owner.1))
                        .cloned()
                        .unwrap_or_default();
                    self.rewrite(&raw, &owner.0, item_pos)?
                }
                Some(built) => built.clone(),
            };
            if mine != theirs {
                bail!(
                    "two different definitions would both become the component `{kind}/{name}`: \
                     {}#{} and {}#{}; the bundle cannot hold both under one name (rename one)",
                    owner.0.display(),
                    owner.1,
                    target_file.display(),
                    pointer
                );
            }
            return Ok(ref_to(&internal));
        }
        self.owners.insert((kind.clone(), name.clone()), key);
        self.components
            .entry(kind.clone())
            .or_default()
            .insert(name.clone(), Value::Null);
        let built = self.rewrite(&target, &target_file, item_pos)?;
        self.components.entry(kind).or_default().insert(name, built);
        Ok(ref_to(&internal))
    }

    /// `target` copied in place of a reference (positions without a component kind).
    fn inline(&mut self, target: &Value, key: Target, pos: Pos) -> Result<Value> {
        if self.inlining.contains(&key) {
            let chain: Vec<String> = self
                .inlining
                .iter()
                .chain(std::iter::once(&key))
                .map(|(f, p)| format!("{}#{p}", f.display()))
                .collect();
            bail!(
                "a $ref cycle that cannot be bundled (no component can stand for it): {}",
                chain.join(" → ")
            );
        }
        self.inlining.push(key.clone());
        let result = self.rewrite(target, &key.0, pos);
        self.inlining.pop();
        result
    }
}

/// `{"$ref": reference}`.
fn ref_to(reference: &str) -> Value {
    let mut object = Map::new();
    object.insert("$ref".to_owned(), Value::String(reference.to_owned()));
    Value::Object(object)
}

/// `#/components/<kind>/<name>`, escaped as a JSON pointer.
fn internal_ref(kind: &str, name: &str) -> String {
    format!("#/components/{}/{}", escape(kind), escape(name))
}

/// `(kind, name)` when `pointer` is `/components/<kind>/<name>`.
fn component_pointer(pointer: &str) -> Option<(String, String)> {
    let rest = pointer.strip_prefix("/components/")?;
    let (kind, name) = rest.split_once('/')?;
    if name.contains('/') || kind.is_empty() || name.is_empty() {
        return None;
    }
    Some((unescape(kind), unescape(name)))
}

/// The component name for a target that is not a component: the pointer's last segment,
/// or the file's stem when the pointer is the whole file; characters OpenAPI does not allow
/// in component names become `_`.
fn component_name(pointer: &str, file: &Path) -> String {
    let raw = match pointer.rsplit('/').next().filter(|s| !s.is_empty()) {
        Some(segment) => unescape(segment),
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "_".to_owned()
    } else {
        name
    }
}

/// `path` without `.` segments and with each `..` taking the segment before it away (for
/// messages naming a file that may not exist).
fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Decodes `%XX` escapes (a `$ref` is a URI reference); malformed escapes stay as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every internal `#/components/...` reference reachable from `value` (following them
/// through `doc`).
pub fn reachable_refs(doc: &Value, value: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = Vec::new();
    collect_refs(value, &mut todo);
    while let Some(reference) = todo.pop() {
        if !seen.insert(reference.clone()) {
            continue;
        }
        if let Some(target) = spec::lookup(doc, &reference) {
            collect_refs(target, &mut todo);
        }
    }
    seen
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(r)) = object.get("$ref")
                && r.starts_with("#/components/")
            {
                out.push(r.clone());
            }
            object.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn references_are_hoisted_by_position_and_component_pointer() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "api/openapi.yaml",
            "openapi: 3.0.4\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    $ref: paths/x.yaml\n",
        );
        write(
            d,
            "api/paths/x.yaml",
            "get:\n  parameters:\n    - $ref: '../params.yaml#/Limit'\n  responses:\n    '200':\n      $ref: '../responses.json#/Ok'\n",
        );
        write(
            d,
            "api/params.yaml",
            "Limit:\n  name: limit\n  in: query\n  schema:\n    $ref: 'common.yaml#/components/schemas/Count'\n",
        );
        write(
            d,
            "api/responses.json",
            r##"{"Ok": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "schemas/Page%20One.yaml"}}}}}"##,
        );
        write(
            d,
            "api/common.yaml",
            "components:\n  schemas:\n    Count: {type: integer, example: {$ref: not-a-reference}}\n",
        );
        write(
            d,
            "api/schemas/Page One.yaml",
            "type: object\nproperties:\n  n:\n    $ref: '../common.yaml#/components/schemas/Count'\n",
        );
        let bundle = load(&d.join("api")).unwrap();
        assert_eq!(
            bundle.doc,
            json!({
                "openapi": "3.0.4",
                "info": {"title": "t", "version": "1"},
                "paths": {"/x": {"get": {
                    "parameters": [{"$ref": "#/components/parameters/Limit"}],
                    "responses": {"200": {"$ref": "#/components/responses/Ok"}},
                }}},
                "components": {
                    "parameters": {"Limit": {
                        "name": "limit", "in": "query",
                        "schema": {"$ref": "#/components/schemas/Count"},
                    }},
                    "responses": {"Ok": {"description": "ok", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Page_One"},
                    }}}},
                    "schemas": {
                        "Count": {"type": "integer", "example": {"$ref": "not-a-reference"}},
                        "Page_One": {"type": "object", "properties": {
                            "n": {"$ref": "#/components/schemas/Count"},
                        }},
                    },
                },
            })
        );
        assert_eq!(bundle.files.len(), 6, "{:?}", bundle.files);
    }

    #[test]
    fn a_name_taken_by_another_definition_is_an_error_naming_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "openapi.yaml",
            "openapi: 3.0.4\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {$ref: 'a/Same.yaml'}\n    B: {$ref: 'b/Same.yaml'}\n    C: {$ref: 'c/Same.yaml'}\n",
        );
        write(d, "a/Same.yaml", "type: string\n");
        // The same definition under other paths: one component.
        write(d, "b/Same.yaml", "type: string\n");
        write(d, "c/Same.yaml", "type: string\n");
        let bundle = load(&d.join("openapi.yaml")).unwrap();
        write(d, "c/Same.yaml", "type: integer\n");
        let err = format!("{:#}", load(&d.join("openapi.yaml")).unwrap_err());
        assert_eq!(
            bundle.doc["components"]["schemas"]["Same"],
            json!({"type": "string"})
        );
        assert!(err.contains("schemas/Same"), "{err}");
        assert!(
            err.contains("a/Same.yaml") && err.contains("c/Same.yaml"),
            "{err}"
        );
    }

    #[test]
    fn a_folder_without_a_single_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "schemas/A.yaml", "type: string\n");
        let err = format!("{:#}", find_root(d).unwrap_err());
        assert!(err.contains("no OpenAPI root document"), "{err}");
        // A file given that is not a root.
        let err = format!("{:#}", load(&d.join("schemas/A.yaml")).unwrap_err());
        assert!(
            err.contains("A.yaml is not an OpenAPI root document"),
            "{err}"
        );
        write(d, "spec/main.yaml", "openapi: 3.0.4\npaths: {}\n");
        assert_eq!(find_root(d).unwrap(), d.join("spec/main.yaml"));
        write(d, "other.json", r#"{"openapi": "3.0.4", "paths": {}}"#);
        let err = format!("{:#}", find_root(d).unwrap_err());
        assert!(err.contains("several OpenAPI root documents"), "{err}");
        // A preferred name wins.
        write(d, "openapi.yaml", "openapi: 3.0.4\npaths: {}\n");
        assert_eq!(find_root(d).unwrap(), d.join("openapi.yaml"));
    }
}
