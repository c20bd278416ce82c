//! The one spec-diff engine: what changed between two revisions of `openapi.yaml`, how
//! each change affects HTTP clients, and what it does to the generated Rust API.
//!
//! `cargo xtask check` (breaking changes), `semver` (the bump each crate needs),
//! `changelog` (the notes) and the drills are thin clients of [`compare`] and the
//! [`Report`] it returns; [`base`] finds the revision to compare with and [`items`] names
//! the Rust items a change touches. This file holds the report's types and the walk over
//! operations, parameters, bodies and response headers; `schema.rs` compares two schemas,
//! `extensions.rs` the workspace's own extensions.
//!
//! Requests and responses are judged in their own direction. In a *request*, narrowing
//! breaks (a value the old spec accepted is refused): a removed or renamed operation or
//! parameter, a parameter that became required, a new required parameter, a changed type,
//! a removed enum value, a lowered maximum or raised minimum, a changed pattern. In a
//! *response*, removing breaks (a field or status code the client reads is gone, a field
//! may now be missing or null, a type changed); a removed response enum value is only a
//! warning, because this client's response enums are open and decode any value. A changed
//! `default` is a warning either way (the server fills a request's in, the client a
//! response's). Added optional parameters, properties, status codes and enum values are
//! listed as non-breaking additions. The workspace's own extensions are compared by meaning:
//! `info.version` (the version every request sends), the sort keys of the `sort`
//! pattern, `x-filterable-fields`, and deprecations (`deprecated: true` on an operation,
//! parameter, property or response header, `x-deprecated-values`). Response headers are
//! compared by name (case aside): a removed header, or one no longer always sent, breaks
//! clients that read it; its schema is compared like a response body's.
//!
//! Each change also carries the [`Bump`] the *Rust* API needs for it, which can differ from
//! its effect on the wire: a response property that becomes required is harmless to an
//! HTTP client but turns an `Option<T>` field into `T`, which breaks Rust callers.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    path::Path,
};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::spec::{self, Operation};

pub mod base;
mod extensions;
pub mod items;
mod schema;

pub use base::{
    Base, GITHUB_BASE_REF, against_base, against_revision, base_spec, base_spec_for, release_base,
    release_tag,
};
pub use extensions::DEPRECATION_NOTE;

/// How a change affects clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Breaks existing clients or their callers.
    Breaking,
    /// Worth a look, but existing clients keep working.
    Warning,
    /// Still works, but announced for removal (`deprecated: true`).
    Deprecation,
    /// A compatible addition or relaxation.
    Addition,
}

/// The semver bump a change needs, by Cargo's rules (for `0.x`, [`Bump::Major`] moves
/// the minor number and [`Bump::Minor`] the patch number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Bump {
    /// No release needed.
    #[default]
    None,
    /// Fixes and behaviour that callers' code does not see.
    Patch,
    /// Additions (and deprecations): code that compiled still compiles.
    Minor,
    /// Code that compiled may not compile, or means something else.
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bump::None => "none",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        })
    }
}

/// What a change is about, for naming the Rust items it touches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Subject {
    /// A property of a component schema.
    Property {
        /// The component schema.
        schema: String,
        /// The property.
        name: String,
    },
    /// A value of an enum (the component schema holding it, when there is one).
    EnumValue {
        /// The component schema of the enum.
        schema: Option<String>,
        /// The wire value.
        value: String,
    },
    /// A parameter of the operation.
    Parameter(String),
    /// A key of `sort`.
    SortKey(String),
    /// A field of `x-filterable-fields`.
    FilterField(String),
    /// A component schema as a whole.
    Schema(String),
    /// `info.version` moved.
    Version {
        /// The version before.
        from: String,
        /// The version now.
        to: String,
    },
    /// Anything else (the location says where).
    #[default]
    Other,
}

/// One change between two revisions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// How it affects clients.
    pub severity: Severity,
    /// Where, e.g. `GET /x (op) parameter query `limit``.
    pub location: String,
    /// What changed.
    pub message: String,
    /// What it is about.
    pub subject: Subject,
    /// The bump the generated Rust API needs for it.
    pub rust: Bump,
    /// Whether a public Rust item of the generated crate disappears with it (a field, a
    /// variant, a method, a type): cargo-semver-checks must then report a break.
    pub removes_item: bool,
    /// How `cargo xtask adopt` takes the change into the old revision, where it can (an
    /// addition or deprecation whose place in the old document is known).
    pub adopt: Option<Adopt>,
}

/// An edit of the old revision that takes one change of the new revision over. Places are
/// JSON pointers into the two documents [`compare`] was given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Adopt {
    /// The map at `into` gains the entry `key`: the new revision's node at `from`.
    Entry {
        /// The map, in the old revision.
        into: String,
        /// The new entry's key.
        key: String,
        /// Its value, in the new revision.
        from: String,
    },
    /// The list at `into` gains the new revision's value at `from`.
    Value {
        /// The list, in the old revision.
        into: String,
        /// The value, in the new revision.
        from: String,
    },
    /// The node at `into` becomes deprecated, as the new revision's node at `from` is.
    Deprecated {
        /// The node, in the old revision.
        into: String,
        /// The deprecated node, in the new revision.
        from: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every change between two revisions of the spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The changes, breaking first.
    pub changes: Vec<Change>,
}

impl Report {
    /// Changes of one severity.
    pub fn of(&self, severity: Severity) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| c.severity == severity)
    }

    /// Whether any change breaks clients.
    pub fn is_breaking(&self) -> bool {
        self.of(Severity::Breaking).next().is_some()
    }

    /// The bump the generated Rust API needs: the largest of its changes'.
    pub fn rust_bump(&self) -> Bump {
        self.changes
            .iter()
            .map(|c| c.rust)
            .max()
            .unwrap_or_default()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return writeln!(f, "no changes to operations, parameters or schemas");
        }
        for (severity, title, mark) in [
            (Severity::Breaking, "breaking changes", "✗"),
            (Severity::Warning, "warnings (not breaking)", "!"),
            (Severity::Deprecation, "deprecations", "~"),
            (Severity::Addition, "non-breaking additions", "+"),
        ] {
            let list: Vec<_> = self.of(severity).collect();
            if list.is_empty() {
                continue;
            }
            writeln!(f, "{title} ({}):", list.len())?;
            for c in list {
                writeln!(f, "  {mark} {c}")?;
            }
        }
        Ok(())
    }
}

/// Compares two revisions of the spec (as JSON).
pub fn compare(old: &Value, new: &Value) -> Report {
    let mut cx = Cx {
        old,
        new,
        out: Vec::new(),
        seen: BTreeSet::new(),
        keys_in_pattern: None,
    };
    cx.operations();
    cx.component_schemas();
    extensions::compare(&mut cx);
    let mut changes = cx.out;
    changes.sort();
    changes.dedup();
    Report { changes }
}

/// Where requests flow: what narrowing or removing means depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dir {
    Request,
    Response,
}

struct Cx<'a> {
    old: &'a Value,
    new: &'a Value,
    out: Vec<Change>,
    /// Component schema pairs already compared, per direction.
    seen: BTreeSet<(String, String, Dir)>,
    /// The location whose `pattern` lists keys compared one by one (`sort`), not as text.
    keys_in_pattern: Option<String>,
}

impl<'a> Cx<'a> {
    /// Records a change with the Rust bump its severity implies (breaking: major, with an
    /// item removed; addition or deprecation: minor; warning: patch); the caller adjusts
    /// the returned change where the Rust API is hit differently.
    fn push(
        &mut self,
        severity: Severity,
        location: &str,
        message: impl Into<String>,
    ) -> &mut Change {
        let rust = match severity {
            Severity::Breaking => Bump::Major,
            Severity::Deprecation | Severity::Addition => Bump::Minor,
            Severity::Warning => Bump::Patch,
        };
        self.out.push(Change {
            severity,
            location: location.to_owned(),
            message: message.into(),
            subject: Subject::Other,
            rust,
            removes_item: false,
            adopt: None,
        });
        let last = self.out.len() - 1;
        &mut self.out[last]
    }

    /// Where `node`, borrowed from the old revision, sits in it.
    fn old_at(&self, node: &Value) -> Option<String> {
        spec::pointer_to(self.old, &|v| std::ptr::eq(v, node))
    }

    /// Where `node`, borrowed from the new revision, sits in it.
    fn new_at(&self, node: &Value) -> Option<String> {
        spec::pointer_to(self.new, &|v| std::ptr::eq(v, node))
    }

    /// Adopting `from` (new) as the entry `key` of the map `into` (old).
    fn entry(&self, into: Option<&Value>, key: &str, from: &Value) -> Option<Adopt> {
        Some(Adopt::Entry {
            into: self.old_at(into.filter(|m| m.is_object())?)?,
            key: key.to_owned(),
            from: self.new_at(from)?,
        })
    }

    /// Adopting `from` (new) as the last value of the list `into` (old).
    fn value(&self, into: Option<&Value>, from: &Value) -> Option<Adopt> {
        Some(Adopt::Value {
            into: self.old_at(into.filter(|l| l.is_array())?)?,
            from: self.new_at(from)?,
        })
    }

    fn operations(&mut self) {
        let old_ops = spec::operations(self.old);
        let new_ops = spec::operations(self.new);
        let key = |o: &Operation<'_>| (o.method, o.path.to_owned());
        let mut matched_new = BTreeSet::new();
        for o in &old_ops {
            let by_id = o
                .id()
                .and_then(|id| new_ops.iter().position(|n| n.id() == Some(id)));
            let by_route = new_ops.iter().position(|n| key(n) == key(o));
            let Some(i) = by_id.or(by_route) else {
                self.push(Severity::Breaking, &o.label(), "operation removed")
                    .removes_item = true;
                continue;
            };
            let n = &new_ops[i];
            matched_new.insert(i);
            if key(n) != key(o) {
                self.push(
                    Severity::Breaking,
                    &o.label(),
                    format!("operation moved to {} {}", n.method.to_uppercase(), n.path),
                );
            }
            if n.id() != o.id() {
                self.push(
                    Severity::Breaking,
                    &o.label(),
                    format!(
                        "operation renamed to `{}` (the Rust method changes)",
                        n.id().unwrap_or("<no operationId>")
                    ),
                )
                .removes_item = true;
            }
            self.operation(o, n);
        }
        for (i, n) in new_ops.iter().enumerate() {
            if !matched_new.contains(&i) {
                self.push(Severity::Addition, &n.label(), "new operation");
            }
        }
    }

    fn operation(&mut self, o: &Operation<'a>, n: &Operation<'a>) {
        let label = n.label();
        extensions::deprecation(self, &label, Subject::Other, &[o.op], &[n.op]);
        let old_params = spec::parameters(self.old, o);
        let new_params = spec::parameters(self.new, n);
        for ((location, name), op) in &old_params {
            let at = format!("{label} parameter {location} `{name}`");
            match new_params.get(&(location.clone(), name.clone())) {
                None => {
                    let c = self.push(Severity::Breaking, &at, "parameter removed or renamed");
                    c.subject = Subject::Parameter(name.clone());
                    c.removes_item = true;
                }
                Some(np) => self.parameter(&at, name, op, np),
            }
        }
        for ((location, name), np) in &new_params {
            if old_params.contains_key(&(location.clone(), name.clone())) {
                continue;
            }
            let at = format!("{label} parameter {location} `{name}`");
            let c = if is_required(np) {
                self.push(Severity::Breaking, &at, "new required parameter")
            } else {
                let adopt = self.value(o.op.get("parameters"), np);
                let c = self.push(Severity::Addition, &at, "new optional parameter");
                c.adopt = adopt;
                c
            };
            c.subject = Subject::Parameter(name.clone());
        }

        // Request body.
        let old_body =
            o.op.get("requestBody")
                .map(|b| spec::resolve(self.old, b).0);
        let new_body =
            n.op.get("requestBody")
                .map(|b| spec::resolve(self.new, b).0);
        let at = format!("{label} request body");
        match (old_body, new_body) {
            (Some(_), None) => {
                self.push(Severity::Breaking, &at, "request body removed");
            }
            (None, Some(nb)) if is_required(nb) => {
                self.push(Severity::Breaking, &at, "new required request body");
            }
            (None, Some(_)) => {
                self.push(Severity::Addition, &at, "new optional request body");
            }
            (Some(ob), Some(nb)) => {
                if !is_required(ob) && is_required(nb) {
                    self.push(Severity::Breaking, &at, "request body became required");
                }
                self.content(&at, ob, nb, Dir::Request);
            }
            (None, None) => {}
        }

        // Responses.
        let old_responses = o.op.get("responses").and_then(Value::as_object);
        let new_responses = n.op.get("responses").and_then(Value::as_object);
        for (status, or) in old_responses.into_iter().flatten() {
            let at = format!("{label} response {status}");
            match new_responses.and_then(|r| r.get(status)) {
                None => {
                    self.push(Severity::Breaking, &at, "response status removed");
                }
                Some(nr) => {
                    let or = spec::resolve(self.old, or).0;
                    let nr = spec::resolve(self.new, nr).0;
                    self.content(&at, or, nr, Dir::Response);
                    self.response_headers(&at, or, nr);
                }
            }
        }
        for (status, nr) in new_responses.into_iter().flatten() {
            if !old_responses.is_some_and(|r| r.contains_key(status)) {
                let adopt = self.entry(o.op.get("responses"), status, nr);
                self.push(
                    Severity::Addition,
                    &format!("{label} response {status}"),
                    "new response status",
                )
                .adopt = adopt;
            }
        }
    }

    /// The headers of one response, matched by name without regard to case: a header
    /// clients read may disappear, stop being always sent, or change its schema.
    fn response_headers(&mut self, at: &str, o: &'a Value, n: &'a Value) {
        let (old, new) = (headers_of(self.old, o), headers_of(self.new, n));
        for (key, (name, oh)) in &old {
            let here = format!("{at} header `{name}`");
            let Some((_, nh)) = new.get(key) else {
                self.push(
                    Severity::Breaking,
                    &here,
                    "response header removed (clients reading it no longer get it)",
                );
                continue;
            };
            match (is_required(oh), is_required(nh)) {
                (true, false) => {
                    self.push(
                        Severity::Breaking,
                        &here,
                        "no longer required: the header may be missing",
                    );
                }
                (false, true) => {
                    self.push(Severity::Addition, &here, "now always sent (required)");
                }
                _ => {}
            }
            extensions::deprecation(self, &here, Subject::Other, &[*oh], &[*nh]);
            if let (Some(os), Some(ns)) = (oh.get("schema"), nh.get("schema")) {
                self.schema(&here, os, ns, Dir::Response, 0);
            }
        }
        for (key, (name, nh)) in &new {
            if !old.contains_key(key) {
                // A response without a `headers` map is left for a person.
                let adopt = self.entry(o.get("headers"), name, nh);
                self.push(
                    Severity::Addition,
                    &format!("{at} header `{name}`"),
                    "new response header",
                )
                .adopt = adopt;
            }
        }
    }

    fn parameter(&mut self, at: &str, name: &str, o: &'a Value, n: &'a Value) {
        let subject = Subject::Parameter(name.to_owned());
        match (is_required(o), is_required(n)) {
            (false, true) => {
                self.push(Severity::Breaking, at, "parameter became required")
                    .subject = subject.clone();
            }
            (true, false) => {
                self.push(Severity::Addition, at, "parameter is no longer required")
                    .subject = subject.clone();
            }
            _ => {}
        }
        extensions::deprecation(self, at, subject, &[o], &[n]);
        let (os, ns) = (style(o), style(n));
        if os != ns {
            self.push(
                Severity::Breaking,
                at,
                format!(
                    "serialization changed from style={} explode={} to style={} explode={}",
                    os.0, os.1, ns.0, ns.1
                ),
            );
        }
        let before = self.out.len();
        if let (Some(osch), Some(nsch)) = (o.get("schema"), n.get("schema")) {
            // The sort keys live in the pattern of `sort`: compared by key, not as text.
            if name == "sort" && extensions::sort_keys_of(self.old, osch).is_some() {
                extensions::sort_keys(self, at, osch, nsch);
                self.keys_in_pattern = Some(at.to_owned());
                self.schema(at, osch, nsch, Dir::Request, 0);
                self.keys_in_pattern = None;
            } else {
                self.schema(at, osch, nsch, Dir::Request, 0);
            }
        }
        // Changes of the parameter's own schema (its bounds, pattern, type) are about it.
        for c in &mut self.out[before..] {
            if c.subject == Subject::Other && c.location.starts_with(at) {
                c.subject = Subject::Parameter(name.to_owned());
            }
        }
    }

    fn content(&mut self, at: &str, o: &'a Value, n: &'a Value, dir: Dir) {
        let oc = o.get("content").and_then(Value::as_object);
        let nc = n.get("content").and_then(Value::as_object);
        for (media, om) in oc.into_iter().flatten() {
            let here = format!("{at} ({media})");
            match nc.and_then(|c| c.get(media)) {
                None => {
                    self.push(Severity::Breaking, &here, "media type removed");
                }
                Some(nm) => {
                    if let (Some(os), Some(ns)) = (om.get("schema"), nm.get("schema")) {
                        self.schema(&here, os, ns, dir, 0);
                    }
                }
            }
        }
        for media in nc.into_iter().flat_map(|c| c.keys()) {
            if !oc.is_some_and(|c| c.contains_key(media)) {
                self.push(
                    Severity::Addition,
                    &format!("{at} ({media})"),
                    "new media type",
                );
            }
        }
    }

    fn component_schemas(&mut self) {
        let names = |spec: &Value| -> BTreeMap<String, ()> {
            spec.pointer("/components/schemas")
                .and_then(Value::as_object)
                .map(|m| m.keys().map(|k| (k.clone(), ())).collect())
                .unwrap_or_default()
        };
        let (old, new) = (names(self.old), names(self.new));
        for name in old.keys().filter(|k| !new.contains_key(*k)) {
            let c = self.push(
                Severity::Breaking,
                &format!("schema {name}"),
                format!("schema removed or renamed (the Rust type `types::{name}` disappears)"),
            );
            c.subject = Subject::Schema(name.clone());
            c.removes_item = true;
        }
        for name in new.keys().filter(|k| !old.contains_key(*k)) {
            self.push(Severity::Addition, &format!("schema {name}"), "new schema")
                .subject = Subject::Schema(name.clone());
        }
    }
}

/// The headers of a response object, resolved, keyed by their lower-case name (HTTP header
/// names ignore case) with the name as written.
fn headers_of<'v>(spec: &'v Value, response: &'v Value) -> BTreeMap<String, (&'v str, &'v Value)> {
    response
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, h)| {
            (
                name.to_ascii_lowercase(),
                (name.as_str(), spec::resolve(spec, h).0),
            )
        })
        .collect()
}

fn is_ref(v: &Value) -> bool {
    v.get("$ref").is_some()
}

fn is_required(v: &Value) -> bool {
    v.get("required") == Some(&Value::Bool(true))
}

/// The effective `(style, explode)` of a parameter.
fn style(p: &Value) -> (String, bool) {
    let location = p.get("in").and_then(Value::as_str).unwrap_or("query");
    let default_style = match location {
        "query" | "cookie" => "form",
        _ => "simple",
    };
    let style = p
        .get("style")
        .and_then(Value::as_str)
        .unwrap_or(default_style)
        .to_owned();
    let explode = p
        .get("explode")
        .and_then(Value::as_bool)
        .unwrap_or(style == "form");
    (style, explode)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;
    use std::process::Command;

    fn spec() -> Value {
        spec::parse(include_str!("../../openapi.yaml")).unwrap()
    }

    fn messages(report: &Report, severity: Severity) -> Vec<String> {
        report.of(severity).map(ToString::to_string).collect()
    }

    fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn commit(dir: &Path, file: &str, text: &str, msg: &str) {
        std::fs::write(dir.join(file), text).unwrap();
        git(dir, &["add", file]);
        git(dir, &["commit", "-q", "-m", msg]);
    }

    fn base_text(dir: &Path) -> String {
        base_of(dir, None).1
    }

    /// The base's label and text when the pull request targets `pr_target` (none: not a
    /// pull request), whatever this process's environment says.
    fn base_of(dir: &Path, pr_target: Option<&str>) -> (String, String) {
        match base_spec_for(dir, "spec.yaml", None, pr_target) {
            Base::Found { label, text } => (label, text + "\n"),
            Base::Unavailable(why) => panic!("no base: {why}"),
        }
    }

    /// An upstream repository: `main` with two spec commits, and `release` branched from
    /// the first with a spec commit of its own.
    fn upstream() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        commit(d, "spec.yaml", "v: 1\n", "first spec");
        git(d, &["branch", "release"]);
        commit(d, "spec.yaml", "v: 2\n", "spec change on main");
        git(d, &["checkout", "-q", "release"]);
        commit(d, "spec.yaml", "v: r\n", "spec change on release");
        git(d, &["checkout", "-q", "main"]);
        dir
    }

    /// A clone of `upstream` as CI checks a branch out: a `feature` branch from
    /// `origin/<from>` with one spec commit, and no local `main`.
    fn ci_clone(upstream: &Path, from: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(
            d,
            &[
                "clone",
                "-q",
                upstream.to_str().unwrap(),
                d.to_str().unwrap(),
            ],
        );
        git(
            d,
            &["checkout", "-q", "-b", "feature", &format!("origin/{from}")],
        );
        git(d, &["branch", "-D", "main"]);
        commit(d, "spec.yaml", "v: feature\n", "feature spec");
        dir
    }

    fn rev_parse(dir: &Path, rev: &str) -> String {
        let out = Command::new("git")
            .args(["rev-parse", rev])
            .current_dir(dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    #[test]
    fn a_release_is_judged_against_the_tag_else_the_branch_point_else_head() {
        // On main itself, with no tag: HEAD, so the working tree's change is judged (the
        // changes already on main were judged when they got there).
        let up = upstream();
        let (sha, label) = release_base(up.path(), None, None).unwrap();
        assert_eq!(sha, rev_parse(up.path(), "HEAD"), "{label}");
        assert!(label.contains("on main itself"), "{label}");

        // A pull request's clone (no local main): the branch point with its target, the
        // release branch when GITHUB_BASE_REF names it.
        let clone = ci_clone(up.path(), "release");
        let (sha, label) = release_base(clone.path(), None, Some("release")).unwrap();
        assert_eq!(sha, rev_parse(clone.path(), "origin/release"), "{label}");
        assert!(
            label.starts_with("merge-base HEAD origin/release"),
            "{label}"
        );
        let (sha, label) = release_base(clone.path(), None, None).unwrap();
        assert_eq!(sha, rev_parse(clone.path(), "HEAD~2"), "{label}");
        assert!(label.starts_with("merge-base HEAD origin/main"), "{label}");

        // A release tag wins over the branch point, and an explicit base over both.
        git(up.path(), &["tag", "v0.1.0", "HEAD~1"]);
        commit(up.path(), "spec.yaml", "v: 3\n", "after the release");
        let (sha, label) = release_base(up.path(), None, None).unwrap();
        assert_eq!(sha, rev_parse(up.path(), "v0.1.0"), "{label}");
        assert!(label.starts_with("the last release v0.1.0"), "{label}");
        let (sha, _) = release_base(up.path(), Some("HEAD"), None).unwrap();
        assert_eq!(sha, rev_parse(up.path(), "HEAD"));
        assert!(release_base(up.path(), Some("no-such-rev"), None).is_err());
    }

    #[test]
    fn without_a_local_main_the_branch_point_comes_from_origin_main() {
        let up = upstream();
        let clone = ci_clone(up.path(), "main");
        let (label, text) = base_of(clone.path(), None);
        assert_eq!(text, "v: 2\n", "{label}");
        assert!(label.starts_with("merge-base HEAD origin/main"), "{label}");
    }

    #[test]
    fn a_pull_request_compares_with_the_branch_it_targets() {
        let up = upstream();
        // A pull request into `release`: GITHUB_BASE_REF=release. Its branch point with
        // `release` is release's own spec commit, not anything on main.
        let clone = ci_clone(up.path(), "release");
        let (label, text) = base_of(clone.path(), Some("release"));
        assert_eq!(text, "v: r\n", "{label}");
        assert!(
            label.starts_with("merge-base HEAD origin/release"),
            "{label}"
        );
        // Without the variable the same checkout falls back to origin/main, whose branch
        // point with it is the first spec: what the variable is there to avoid.
        let (label, text) = base_of(clone.path(), None);
        assert_eq!(text, "v: 1\n", "{label}");
        // A target that names no branch here is skipped for the next candidate.
        let (label, _) = base_of(clone.path(), Some("no-such-branch"));
        assert!(label.starts_with("merge-base HEAD origin/main"), "{label}");
    }

    #[test]
    fn a_pull_requests_merge_commit_compares_with_the_targets_tip() {
        // GitHub checks a pull request out as a detached merge of the branch into its
        // target: the base is the target's tip, whatever else the target gained.
        let up = upstream();
        let clone = ci_clone(up.path(), "main");
        let d = clone.path();
        commit(up.path(), "other.txt", "x\n", "main moves on");
        git(d, &["fetch", "-q", "origin"]);
        git(d, &["checkout", "-q", "--detach", "origin/main"]);
        git(
            d,
            &[
                "merge",
                "-q",
                "--no-ff",
                "--no-edit",
                "-X",
                "theirs",
                "feature",
            ],
        );
        let (label, text) = base_of(d, Some("main"));
        assert_eq!(text, "v: 2\n", "{label}");
        assert!(label.starts_with("merge-base HEAD origin/main"), "{label}");
    }

    #[test]
    fn the_default_base_is_the_branch_point_the_spec_change_or_the_release() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        commit(d, "spec.yaml", "v: 1\n", "first spec");
        assert!(matches!(
            base_spec(d, "spec.yaml", None),
            Base::Unavailable(_)
        ));
        commit(d, "spec.yaml", "v: 2\n", "spec change");
        commit(d, "README", "docs\n", "unrelated");
        // A clean main: the spec before its last change, not the spec itself.
        assert_eq!(base_text(d), "v: 1\n");
        // main with the spec edited in the working tree: the committed spec.
        std::fs::write(d.join("spec.yaml"), "v: 3\n").unwrap();
        assert_eq!(base_text(d), "v: 2\n");
        git(d, &["checkout", "-q", "--", "spec.yaml"]);
        // A branch: what it started from, however many spec commits it has.
        git(d, &["checkout", "-q", "-b", "feature"]);
        commit(d, "spec.yaml", "v: 3\n", "feature spec");
        commit(d, "spec.yaml", "v: 4\n", "feature spec again");
        assert_eq!(base_text(d), "v: 2\n");
        // A release tag wins.
        git(d, &["tag", "v0.2.0", "HEAD~1"]);
        assert_eq!(base_text(d), "v: 3\n");
        // An explicit base wins over all.
        match base_spec(d, "spec.yaml", Some("main~2")) {
            Base::Found { text, .. } => assert_eq!(text, "v: 1"),
            Base::Unavailable(why) => panic!("{why}"),
        }
    }

    #[test]
    fn a_spec_equals_itself() {
        assert_eq!(compare(&spec(), &spec()), Report::default());
    }

    #[test]
    fn sort_keys_are_compared_by_key() {
        let old = spec();
        let mut new = spec();
        let pattern = &mut new["components"]["parameters"]["Sort"]["schema"]["pattern"];
        let text = pattern
            .as_str()
            .unwrap()
            .replace("|sku|", "|reorder_point|");
        *pattern = json!(text);
        let report = compare(&old, &new);
        let op = "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels)";
        let at = format!("{op} parameter query `sort`");
        assert_eq!(
            report.changes,
            [
                Change {
                    severity: Severity::Breaking,
                    location: at.clone(),
                    message: "sort key sku removed (requests sorting by it are refused)".into(),
                    subject: Subject::SortKey("sku".into()),
                    rust: Bump::Major,
                    removes_item: true,
                    adopt: None,
                },
                Change {
                    severity: Severity::Addition,
                    location: at,
                    message: "new sort key reorder_point".into(),
                    subject: Subject::SortKey("reorder_point".into()),
                    rust: Bump::Minor,
                    removes_item: false,
                    adopt: None,
                },
            ]
        );
    }

    #[test]
    fn version_deprecations_and_filterable_fields() {
        let old = spec();
        let mut new = spec();
        new["info"]["version"] = json!("2026-03");
        let qty = &mut new["components"]["schemas"]["TotalLevel"]["properties"]["qty_picked"];
        qty["deprecated"] = json!(true);
        qty["x-deprecation-note"] = json!("use qty_allocated");
        new["components"]["parameters"]["Sort"]["schema"]["x-deprecated-values"] =
            json!({"sku": "sort by product_id"});
        let fields = &mut new["components"]["parameters"]["Filter"]["x-filterable-fields"];
        fields["product_name"]["deprecated"] = json!("filter by sku");
        fields.as_object_mut().unwrap().remove("merchant_id");
        fields["lot_number"] = json!({"kind": "string", "group": "inventory", "description": "x"});
        let report = compare(&old, &new);
        let got: Vec<(Severity, Subject, Bump, String)> = report
            .changes
            .iter()
            .map(|c| (c.severity, c.subject.clone(), c.rust, c.message.clone()))
            .collect();
        let filter = |n: &str| Subject::FilterField(n.into());
        for want in [
            (
                Severity::Breaking,
                Subject::Version { from: "2025-08".into(), to: "2026-03".into() },
                Bump::Major,
                "the API version moved from 2025-08 to 2026-03: every request now asks for 2026-03, whose responses follow the new description".to_owned(),
            ),
            (
                Severity::Deprecation,
                Subject::Property { schema: "TotalLevel".into(), name: "qty_picked".into() },
                Bump::Minor,
                "deprecated: use qty_allocated".to_owned(),
            ),
            (
                Severity::Deprecation,
                Subject::SortKey("sku".into()),
                Bump::Minor,
                "value sku deprecated: sort by product_id".to_owned(),
            ),
            (Severity::Deprecation, filter("product_name"), Bump::Minor, "deprecated: filter by sku".to_owned()),
            (
                Severity::Breaking,
                filter("merchant_id"),
                Bump::Major,
                "no longer filterable (its typed handle disappears)".to_owned(),
            ),
            (Severity::Addition, filter("lot_number"), Bump::Minor, "new filterable field".to_owned()),
        ] {
            assert!(got.contains(&want), "missing {want:?} in {got:#?}");
        }
        assert_eq!(got.len(), 6, "{got:#?}");
    }

    #[test]
    fn the_rust_bump_can_exceed_the_wire_severity() {
        let old = spec();
        let mut new = spec();
        // A response property that becomes required: harmless on the wire, but its Rust
        // field loses its Option.
        new["components"]["schemas"]["TotalLevel"]["required"]
            .as_array_mut()
            .unwrap()
            .push(json!("qty_on_hand"));
        let report = compare(&old, &new);
        let c = report
            .changes
            .iter()
            .find(|c| c.location == "TotalLevel.qty_on_hand")
            .unwrap();
        assert_eq!((c.severity, c.rust), (Severity::Warning, Bump::Major));
        assert_eq!(report.rust_bump(), Bump::Major);
        assert!(!report.is_breaking());
    }

    #[test]
    fn narrowed_parameters_break() {
        let old = spec();
        let mut new = spec();
        new["components"]["parameters"]["Limit"]["schema"]["maximum"] = json!(500);
        new["components"]["parameters"]["Count"]["required"] = json!(true);
        let fields = &mut new["components"]["parameters"]["Fields"]["schema"]["items"]["enum"];
        fields.as_array_mut().unwrap().retain(|v| v != "warehouse");
        let report = compare(&old, &new);
        let breaking = messages(&report, Severity::Breaking);
        let op = "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels)";
        for want in [
            format!(
                "{op} parameter query `limit`: maximum changed from 1000 to 500 (narrowed: values accepted before are refused)"
            ),
            format!("{op} parameter query `count`: parameter became required"),
            format!(
                "{op} parameter query `fields`[]: value \"warehouse\" removed (requests using it are refused)"
            ),
        ] {
            assert!(
                breaking.contains(&want),
                "missing {want:?} in {breaking:#?}"
            );
        }
        assert_eq!(breaking.len(), 3, "{breaking:#?}");
    }

    #[test]
    fn removed_and_new_parameters() {
        let old = spec();
        let mut new = spec();
        let params = new["paths"]["/api/global/v1/inventory/levels/total"]["get"]["parameters"]
            .as_array_mut()
            .unwrap();
        params.retain(|p| p["$ref"] != "#/components/parameters/Sort");
        params.push(json!({"name": "warehouse_id", "in": "query", "schema": {"type": "integer"}}));
        params.push(json!({"name": "merchant", "in": "query", "required": true, "schema": {"type": "integer"}}));
        let report = compare(&old, &new);
        let op = "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels)";
        assert_eq!(
            messages(&report, Severity::Breaking),
            [
                format!("{op} parameter query `merchant`: new required parameter"),
                format!("{op} parameter query `sort`: parameter removed or renamed"),
            ]
        );
        assert_eq!(
            messages(&report, Severity::Addition),
            [format!(
                "{op} parameter query `warehouse_id`: new optional parameter"
            )]
        );
    }

    #[test]
    fn response_changes() {
        let old = spec();
        let mut new = spec();
        let schemas = &mut new["components"]["schemas"];
        schemas["TotalLevel"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("qty_picked");
        schemas["TotalLevel"]["properties"]["qty_on_hand"]["type"] = json!("string");
        schemas["TotalLevel"]["properties"]["qty_damaged"] = json!({"type": "integer"});
        schemas["GoodsType"]["anyOf"][0]["enum"] = json!(["HAZMAT"]);
        schemas["TotalLevel"]["properties"]["type"]["enum"] = json!(["TotalLevel", "Level"]);
        let responses = new["paths"]["/api/global/v1/inventory/levels/total"]["get"]["responses"]
            .as_object_mut()
            .unwrap();
        responses.remove("409");
        let report = compare(&old, &new);
        let op = "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels)";
        assert_eq!(
            messages(&report, Severity::Breaking),
            [
                format!("{op} response 409: response status removed"),
                "TotalLevel.qty_on_hand: type changed from integer to string".to_owned(),
                "TotalLevel.qty_picked: property removed (the Rust field disappears)".to_owned(),
                "TotalLevel.type: new value \"Level\" may now be sent, and the enum is closed: older clients refuse records that carry it".to_owned(),
            ]
        );
        let removed: Vec<String> = old["components"]["schemas"]["GoodsType"]["anyOf"][0]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("GoodsType: value {v} of enum GoodsType removed; response enums are open, so clients still decode it, but code matching its variant loses it"))
            .collect();
        assert!(removed.iter().any(|m| m.contains("\"NORMAL\"")));
        let mut warnings = messages(&report, Severity::Warning);
        warnings.sort();
        let mut removed = removed;
        removed.sort();
        assert_eq!(warnings, removed);
        assert_eq!(
            messages(&report, Severity::Addition),
            [
                "GoodsType: new value \"HAZMAT\" of enum GoodsType may now be sent (older clients decode it as Unknown)",
                "TotalLevel.qty_damaged: new property",
            ]
        );
    }

    #[test]
    fn response_headers_and_operation_deprecation() {
        let old = spec();
        let mut new = spec();
        let op = &mut new["paths"]["/api/global/v1/inventory/levels/total"]["get"];
        op["deprecated"] = json!(true);
        let headers = op["responses"]["200"]["headers"].as_object_mut().unwrap();
        headers.remove("Date");
        headers.insert("X-Request-Id".into(), json!({"schema": {"type": "string"}}));
        // Header names ignore case: a respelt name is the same header.
        let limit = headers.remove("RateLimit-Limit").unwrap();
        headers.insert("ratelimit-limit".into(), limit);
        let components = &mut new["components"]["headers"];
        components["ApiVersion"]["required"] = json!(false);
        components["RateLimitRemaining"]["deprecated"] = json!(true);
        components["ConcurrencyLimit"]["schema"]["type"] = json!("string");
        let report = compare(&old, &new);
        let op = "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels)";
        let at = |status: &str| format!("{op} response {status} header");
        // The 409 and 429 responses share the rate-limit headers: each says so.
        let concurrency = |status: &str| {
            format!(
                "{} `X-Concurrency-Limit`: type changed from integer to string",
                at(status)
            )
        };
        assert_eq!(
            messages(&report, Severity::Breaking),
            [
                format!(
                    "{} `Date`: response header removed (clients reading it no longer get it)",
                    at("200")
                ),
                concurrency("200"),
                format!(
                    "{} `X-ShipStream-API-Version`: no longer required: the header may be missing",
                    at("200")
                ),
                concurrency("409"),
                concurrency("429"),
            ]
        );
        let remaining = |status: &str| {
            format!(
                "{} `RateLimit-Remaining`: deprecated: deprecated by the API",
                at(status)
            )
        };
        assert_eq!(
            messages(&report, Severity::Deprecation),
            [
                format!("{op}: deprecated: deprecated by the API"),
                remaining("200"),
                remaining("409"),
                remaining("429"),
            ]
        );
        assert_eq!(
            messages(&report, Severity::Addition),
            [format!("{} `X-Request-Id`: new response header", at("200"))]
        );
        assert!(messages(&report, Severity::Warning).is_empty());
    }

    #[test]
    fn defaults_are_compared_in_both_directions() {
        let old = spec();
        let mut new = spec();
        new["components"]["parameters"]["Limit"]["schema"]["default"] = json!(50);
        new["components"]["schemas"]["TotalLevel"]["properties"]["qty_on_hand"]["default"] =
            json!(0);
        let op = "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels)";
        assert_eq!(
            messages(&compare(&old, &new), Severity::Warning),
            [
                format!(
                    "{op} parameter query `limit`: default changed from 100 to 50 (callers \
                     relying on it get other results)"
                ),
                "TotalLevel.qty_on_hand: default changed from none to 0 (a missing value now \
                 reads differently)"
                    .to_owned(),
            ]
        );
    }

    #[test]
    fn removed_operations_and_schemas_break() {
        let old = spec();
        let mut new = spec();
        new["paths"] = json!({});
        new["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("Money");
        let breaking = messages(&compare(&old, &new), Severity::Breaking);
        assert!(breaking.contains(
            &"GET /api/global/v1/inventory/levels/total (list_total_inventory_levels): operation removed".to_owned()
        ));
        assert!(breaking.contains(
            &"schema Money: schema removed or renamed (the Rust type `types::Money` disappears)".to_owned()
        ));
    }
}
