//! One OpenAPI document out of a description split over several files: `redocly bundle`
//! (Redocly CLI, pinned in [`crate::tools`]) resolves every `$ref` relative to the file that
//! holds it and hoists what it points at into the root's `components`, so that every
//! reference of the result is internal (`#/components/...`). Two different definitions
//! that would get the same component name are an error (redocly's renaming conflicts, at
//! error level), as is a `$ref` to a missing file (redocly names the file and the place
//! that refers to it).
//!
//! Given the URL of the root file, redocly fetches it and every file its `$ref`s reach. What
//! redocly does not do is kept here: finding the root document in a folder ([`find_root`]).

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, Result, bail};
use serde_json::Value;

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

/// Every `$ref` in `value`.
pub fn refs(value: &Value) -> Vec<String> {
    match value {
        Value::Object(o) => o
            .iter()
            .flat_map(|(k, v)| match (k.as_str(), v) {
                ("$ref", Value::String(r)) => vec![r.clone()],
                _ => refs(v),
            })
            .collect(),
        Value::Array(a) => a.iter().flat_map(refs).collect(),
        _ => Vec::new(),
    }
}

/// The root of the description `source` names: the `http(s)://` URL of its root file, as
/// it is (redocly fetches the root and every file its `$ref`s reach, relative to the file
/// that holds each, and nothing else); a folder's root document (see [`find_root`]); or
/// the root file itself.
pub fn root_of(source: &str) -> Result<String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        return Ok(source.to_owned());
    }
    let path = Path::new(source);
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
    if !is_root_document(&root) {
        bail!(
            "{} is not an OpenAPI root document (it lacks `openapi:` or `paths:`): give the \
             root file of the description, or the folder holding its files",
            root.display()
        );
    }
    Ok(root.display().to_string())
}

/// The description whose root is `root` (a file or a URL, see [`root_of`]), bundled into
/// one JSON document by `redocly bundle`.
pub fn bundle(root: &str) -> Result<Value> {
    redocly(Some(root), None)
        .with_context(|| format!("cannot bundle the OpenAPI description {root}"))
}

/// `doc` (a document whose references are all internal) without the components its
/// paths do not reach (`redocly bundle --remove-unused-components`; the security schemes
/// stay).
pub fn prune(doc: &Value) -> Result<Value> {
    redocly(None, Some(doc)).context("cannot remove the unused components")
}

/// Runs `redocly bundle` on the file or URL `root`, or on `doc` given on its standard input.
fn redocly(root: Option<&str>, doc: Option<&Value>) -> Result<Value> {
    let npm = crate::tools::npm_tools(&crate::root())?;
    let mut cmd = Command::new(npm.join("node_modules/.bin/redocly"));
    let mut arg = root.unwrap_or("/dev/stdin").to_owned();
    // A file from its folder, so that redocly names files relative to it.
    let file = root.map(Path::new).filter(|p| p.is_file());
    if let Some((dir, name)) = file.and_then(|p| Some((p.parent()?, p.file_name()?))) {
        cmd.current_dir(dir);
        arg = name.to_string_lossy().into_owned();
    }
    cmd.arg("bundle")
        .arg(arg)
        .args([
            "--ext",
            "json",
            "--component-renaming-conflicts-severity",
            "error",
        ])
        .args(doc.map(|_| "--remove-unused-components"))
        .env("REDOCLY_TELEMETRY", "off")
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("cannot start redocly")?;
    if let (Some(doc), Some(mut stdin)) = (doc, child.stdin.take()) {
        stdin
            .write_all(doc.to_string().as_bytes())
            .context("cannot write to redocly")?;
    }
    let out = child.wait_with_output().context("redocly did not finish")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || stdout.trim().is_empty() {
        // Redocly's report, without the banners it frames in boxes.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report: Vec<&str> = stderr
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty() && !l.trim_start().starts_with(['║', '╔', '╚']))
            .collect();
        bail!(
            "redocly bundle failed ({}):\n{}",
            out.status,
            report.join("\n")
        );
    }
    serde_json::from_str(&stdout).context("redocly bundle printed no JSON document")
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
        } else if is_root_document(&path) {
            found.push(path);
        }
    }
    Ok(())
}

/// Whether the file is YAML or JSON with `openapi` and `paths` (unreadable files are not
/// roots).
fn is_root_document(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    ) && fs::read_to_string(path)
        .ok()
        .and_then(|text| spec::parse(&text).ok())
        .is_some_and(|v| v.get("openapi").is_some() && v.get("paths").is_some())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn a_folder_without_a_single_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "schemas/A.yaml", "type: string\n");
        let err = format!("{:#}", find_root(d).unwrap_err());
        assert!(err.contains("no OpenAPI root document"), "{err}");
        // A file given that is not a root.
        let a = d.join("schemas/A.yaml");
        let err = format!("{:#}", root_of(a.to_str().unwrap()).unwrap_err());
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
