//! `cargo xtask drift --vendor FILE|DIR|URL`: our `openapi.yaml` ⇄ the vendor's own OpenAPI
//! description of the Global API.
//!
//! ShipStream publishes its description split over several files, with
//! `servers: [{url: https://{instance}.shipstream.app/api/global}]` and paths that start at
//! `/v1/...`. The command [bundles](crate::bundle) the vendor's files into one document
//! (`redocly bundle`),
//! joins each path with the path of its server URL (so `/v1/inventory/levels/total` under
//! `…/api/global` is our `/api/global/v1/inventory/levels/total`), keeps only our operation
//! in both documents (the vendor's other endpoints are counted, not reported), drops the
//! components that operation does not reach, and hands both to the one
//! [spec-diff engine](crate::specdiff) with ours as the *old* revision and the vendor's as
//! the *new* one: each change is what our users would see if we adopted the vendor's
//! description.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::{
    bundle,
    check::DEFAULT_OPERATION,
    spec,
    specdiff::{self, Report, Severity},
};

/// The outcome of comparing our description with the vendor's.
#[derive(Debug, Clone)]
pub struct VendorDrift {
    /// The vendor's root file (a path or a URL).
    pub root: String,
    /// The vendor's `info.version`, if it has one.
    pub vendor_version: Option<String>,
    /// Our operation, as the engine labels it (`GET /path (operationId)`).
    pub operation: String,
    /// The vendor's other operations, which were left out (`GET /path (operationId)`).
    pub ignored: Vec<String>,
    /// Every difference, ours as the old revision and the vendor's as the new one.
    pub report: Report,
    /// The vendor's document as compared (bundled, restricted to our operation, pruned):
    /// the `from` pointers of the report's [`Adopt`](specdiff::Adopt) edits point into it.
    pub theirs: Value,
}

impl VendorDrift {
    /// Whether there is anything for a maintainer to act on.
    pub fn differs(&self) -> bool {
        !self.report.changes.is_empty()
    }

    /// The comparison again, with `ours` changed, against the vendor's document as it was
    /// read.
    pub fn again(&self, ours: &Value) -> Result<Report> {
        Ok(specdiff::compare(&prepare(ours)?.0, &self.theirs))
    }
}

/// Compares our description `ours` (parsed `openapi.yaml`) with the vendor's description
/// `vendor`: its root file, the folder of its files, or the URL of its root file.
pub fn compare(ours: &Value, vendor: &str) -> Result<VendorDrift> {
    let root = bundle::root_of(vendor)?;
    let mut theirs = bundle::bundle(&root)?;
    join_server_paths(&mut theirs)
        .with_context(|| format!("cannot read the server URL of the vendor's {root}"))?;
    let (ours, operation, (method, path, id)) = prepare(ours)?;
    let ignored = restrict(&mut theirs, method, &path, id.as_deref());
    let theirs = bundle::prune(&theirs)?;
    Ok(VendorDrift {
        vendor_version: theirs
            .pointer("/info/version")
            .and_then(Value::as_str)
            .map(str::to_owned),
        root,
        operation,
        ignored,
        report: specdiff::compare(&ours, &theirs),
        theirs,
    })
}

/// Our operation's method, path and id.
type Route = (&'static str, String, Option<String>);

/// `ours` as it is compared: paths joined with the server's, only our operation (its label
/// and route returned too), the components it does not reach removed.
fn prepare(ours: &Value) -> Result<(Value, String, Route)> {
    let mut ours = ours.clone();
    join_server_paths(&mut ours).context("cannot read the server URL of our openapi.yaml")?;
    let op = our_operation(&ours)?;
    let route = (op.method, op.path.to_owned(), op.id().map(str::to_owned));
    let label = op.label();
    restrict(&mut ours, route.0, &route.1, route.2.as_deref());
    Ok((bundle::prune(&ours)?, label, route))
}

/// The operation of ours that is compared: [`DEFAULT_OPERATION`], else the only one.
fn our_operation(ours: &Value) -> Result<spec::Operation<'_>> {
    if let Some(op) = spec::operation(ours, DEFAULT_OPERATION) {
        return Ok(op);
    }
    let mut all = spec::operations(ours);
    match all.len() {
        1 => Ok(all.remove(0)),
        n => bail!(
            "our openapi.yaml has {n} operations and none is `{DEFAULT_OPERATION}`: cannot tell \
             which one to compare with the vendor's"
        ),
    }
}

/// The path part of a server URL (`https://{instance}.shipstream.app/api/global` →
/// `/api/global`), with the server's variables replaced by their defaults, without a
/// trailing `/`. A URL without a path (or no URL) is the empty path.
pub fn server_path(server: &Value) -> Result<String> {
    let Some(url) = server.get("url").and_then(Value::as_str) else {
        return Ok(String::new());
    };
    let after_scheme = match url.split_once("://") {
        Some((_, rest)) => rest,
        None => url.strip_prefix("//").unwrap_or(url),
    };
    let path = if url.contains("://") || url.starts_with("//") {
        after_scheme.find('/').map_or("", |i| &after_scheme[i..])
    } else {
        url
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            bail!("the server URL `{url}` has a `{{` without its `}}`");
        };
        let name = &rest[open + 1..open + close];
        let default = server
            .pointer(&format!("/variables/{name}/default"))
            .and_then(Value::as_str)
            .with_context(|| {
                format!(
                    "the server URL `{url}` uses the variable `{name}` in its path, and the \
                     server gives it no default"
                )
            })?;
        out.push_str(default);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out.trim_end_matches('/').to_owned())
}

/// Prefixes every path of `doc` with the path of its server URL: the path item's own
/// first server when it has one, else the document's first server.
pub fn join_server_paths(doc: &mut Value) -> Result<()> {
    let base = match doc.pointer("/servers/0") {
        Some(server) => server_path(server)?,
        None => String::new(),
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let mut joined = Map::new();
    for (path, item) in std::mem::take(paths) {
        let prefix = match item.pointer("/servers/0") {
            Some(server) => server_path(server)?,
            None => base.clone(),
        };
        joined.insert(format!("{prefix}{path}"), item);
    }
    *paths = joined;
    Ok(())
}

/// Keeps only the operation `method path` (else the one with operationId `id`) in `doc`;
/// returns the labels of the operations left out.
pub fn restrict(doc: &mut Value, method: &str, path: &str, id: Option<&str>) -> Vec<String> {
    let ops = spec::operations(doc);
    let keep = ops
        .iter()
        .find(|o| o.method == method && same_template(o.path, path))
        .or_else(|| id.and_then(|id| ops.iter().find(|o| o.id() == Some(id))))
        .map(|o| (o.method, o.path.to_owned()));
    let ignored = ops
        .iter()
        .filter(|o| keep.as_ref() != Some(&(o.method, o.path.to_owned())))
        .map(spec::Operation::label)
        .collect();
    let mut paths = Map::new();
    if let Some((method, path)) = keep
        && let Some(item) = doc.pointer(&format!("/paths/{}", spec::escape(&path)))
    {
        let (item, _) = spec::resolve(doc, item);
        let kept: Map<String, Value> = item
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.as_str() == method || !spec::METHODS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        paths.insert(path, Value::Object(kept));
    }
    doc["paths"] = Value::Object(paths);
    ignored
}

/// Whether two path templates are the same route (parameter names aside).
fn same_template(a: &str, b: &str) -> bool {
    let shape = |p: &str| {
        p.split('/')
            .map(|s| if s.starts_with('{') { "{}" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    };
    shape(a) == shape(b)
}

/// Renders the outcome: a header naming both documents, the operations left out, the
/// engine's report and what to do next.
pub fn render(drift: &VendorDrift, ours: &Path) -> String {
    let mut out = format!(
        "xtask drift --vendor: {} (ours, the old revision) against the vendor's {} \
         (info.version {}; bundled by redocly), the new revision: each change is what our \
         users would see if we adopted the vendor's description.\n",
        crate::display_path(ours),
        drift.root,
        drift.vendor_version.as_deref().unwrap_or("none"),
    );
    out.push_str(&format!("compared: {}\n", drift.operation));
    out.push_str(&format!(
        "the vendor's document has {} other operation{}; they were ignored\n\n",
        drift.ignored.len(),
        if drift.ignored.len() == 1 { "" } else { "s" },
    ));
    out.push_str(&drift.report.to_string());
    if drift.differs() {
        let count = |s| drift.report.of(s).count();
        out.push_str(&format!(
            "\n{} difference(s) to act on ({} breaking, {} warnings, {} deprecations, {} \
             additions): edit {} where the vendor is right, then `cargo xtask generate`, \
             `cargo xtask changelog` and `cargo xtask semver`\n",
            drift.report.changes.len(),
            count(Severity::Breaking),
            count(Severity::Warning),
            count(Severity::Deprecation),
            count(Severity::Addition),
            crate::display_path(ours),
        ));
    } else {
        out.push_str("\nno drift: the vendor describes the operation as we do\n");
    }
    out
}

/// `cargo xtask drift --vendor`: prints the comparison with the description `source` (see
/// [`compare`]); returns whether there is any difference (an error when a document cannot
/// be read or bundled).
pub fn run(spec_path: &Path, source: &str) -> Result<bool> {
    let ours = spec::load(spec_path)?;
    let drift = compare(&ours, source)?;
    print!("{}", render(&drift, spec_path));
    Ok(drift.differs())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn server_paths_keep_the_path_and_fill_variables_in() {
        let server = |url: &str| json!({"url": url, "variables": {"instance": {"default": "x"}, "v": {"default": "global"}}});
        for (url, want) in [
            (
                "https://{instance}.shipstream.app/api/global",
                "/api/global",
            ),
            (
                "https://{instance}.shipstream.app/api/global/",
                "/api/global",
            ),
            ("https://{instance}.shipstream.app", ""),
            (
                "https://{instance}.shipstream.app/api/{v}?x=1",
                "/api/global",
            ),
            ("/api/global", "/api/global"),
            ("//host/api", "/api"),
        ] {
            assert_eq!(server_path(&server(url)).unwrap(), want, "{url}");
        }
        assert!(server_path(&json!({"url": "https://h/api/{nope}"})).is_err());
        assert_eq!(server_path(&json!({})).unwrap(), "");
    }

    #[test]
    fn paths_are_joined_with_their_server_and_restricted_to_one_operation() {
        let mut doc = json!({
            "servers": [{"url": "https://{instance}.shipstream.app/api/global"}],
            "paths": {
                "/v1/a/{id}": {"get": {"operationId": "a"}, "post": {}, "parameters": []},
                "/v1/b": {"servers": [{"url": "https://h/other"}], "get": {}},
            },
        });
        join_server_paths(&mut doc).unwrap();
        let paths: Vec<_> = doc["paths"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(paths, ["/api/global/v1/a/{id}", "/other/v1/b"]);
        let ignored = restrict(&mut doc, "get", "/api/global/v1/a/{product_id}", None);
        assert_eq!(ignored, ["POST /api/global/v1/a/{id}", "GET /other/v1/b"]);
        assert_eq!(
            doc["paths"],
            json!({"/api/global/v1/a/{id}": {"get": {"operationId": "a"}, "parameters": []}})
        );
    }
}
