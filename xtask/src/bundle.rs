//! One OpenAPI document out of a description split over several files: `redocly bundle`
//! (Redocly CLI, pinned in [`crate::tools`]) resolves every `$ref` relative to the file that
//! holds it and hoists what it points at into the root's `components`, so that every
//! reference of the result is internal (`#/components/...`). Two different definitions
//! that would get the same component name are an error (redocly's renaming conflicts, at
//! error level), as is a `$ref` to a missing file (redocly names the file and the place
//! that refers to it).
//!
//! What redocly does not do is kept here: finding the root document in a folder
//! ([`find_root`]), and fetching a release from its URL ([`open`]).

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

/// A description to read: its root file, and the folder its files were fetched into.
#[derive(Debug)]
pub struct Source {
    /// The root file.
    pub root: PathBuf,
    /// Where a release given by URL was fetched to (removed on drop).
    _fetched: Option<tempfile::TempDir>,
}

/// The description `source` names: a folder, its root file, or the `http(s)://` URL of its
/// root file, from which the root and every file its `$ref`s reach (relative to the file
/// that holds each) are fetched, and nothing else.
pub fn open(source: &str) -> Result<Source> {
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        return Ok(Source {
            root: root_of(Path::new(source))?,
            _fetched: None,
        });
    }
    let dir = tempfile::tempdir().context("cannot make a folder for the release's files")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let root = runtime.block_on(fetch(source, dir.path()))?;
    Ok(Source {
        root: root_of(&root)?,
        _fetched: Some(dir),
    })
}

/// Fetches the file at `url` and every file its `$ref`s reach into `dir`, laid out as
/// they are relative to the root's folder; returns the root's path in `dir`.
async fn fetch(url: &str, dir: &Path) -> Result<PathBuf> {
    let root = url::Url::parse(url).with_context(|| format!("`{url}` is not a URL"))?;
    let folder = root.join(".")?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    let local = |file: &url::Url| -> Result<PathBuf> {
        let rel = folder
            .make_relative(file)
            .filter(|r| !r.starts_with("../") && file.origin() == folder.origin())
            .with_context(|| format!("{file} lies outside the release's folder {folder}"))?;
        Ok(dir.join(
            percent_encoding::percent_decode_str(&rel)
                .decode_utf8()?
                .as_ref(),
        ))
    };
    let mut queue = vec![(root.clone(), None::<url::Url>)];
    let mut seen = std::collections::BTreeSet::new();
    while let Some((mut file, referrer)) = queue.pop() {
        file.set_fragment(None);
        if !seen.insert(file.clone()) {
            continue;
        }
        let by = referrer
            .map(|r| format!(", which {r} refers to"))
            .unwrap_or_default();
        let answer = client
            .get(file.clone())
            .send()
            .await
            .with_context(|| format!("cannot fetch {file}{by}"))?;
        let status = answer.status();
        if !status.is_success() {
            bail!("cannot fetch {file}{by}: the server answered {status}");
        }
        let text = answer.text().await?;
        let doc = spec::parse(&text).with_context(|| format!("{file}{by} is not YAML or JSON"))?;
        let path = local(&file)?;
        fs::create_dir_all(path.parent().context("a file without a folder")?)?;
        fs::write(&path, &text)?;
        for r in refs(&doc).into_iter().filter(|r| !r.starts_with('#')) {
            let target = file
                .join(&r)
                .with_context(|| format!("{file} refers to `{r}`"))?;
            queue.push((target, Some(file.clone())));
        }
    }
    local(&root)
}

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

/// The root file of the description at `path`: `path` itself, or the root document of the
/// folder `path` (see [`find_root`]).
pub fn root_of(path: &Path) -> Result<PathBuf> {
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
    Ok(root)
}

/// The description whose root file is `root`, bundled into one JSON document by
/// `redocly bundle`.
pub fn bundle(root: &Path) -> Result<Value> {
    redocly(Some(root), None)
        .with_context(|| format!("cannot bundle the OpenAPI description {}", root.display()))
}

/// `doc` (a document whose references are all internal) without the components its
/// paths do not reach (`redocly bundle --remove-unused-components`; the security schemes
/// stay).
pub fn prune(doc: &Value) -> Result<Value> {
    redocly(None, Some(doc)).context("cannot remove the unused components")
}

/// Runs `redocly bundle` on the file `root`, or on `doc` given on its standard input.
fn redocly(root: Option<&Path>, doc: Option<&Value>) -> Result<Value> {
    let npm = crate::tools::npm_tools(&crate::root())?;
    let mut cmd = Command::new(npm.join("node_modules/.bin/redocly"));
    // From the root's folder, so that redocly names files relative to it.
    let (dir, file) = match root {
        Some(root) => (root.parent(), root.file_name().map(Path::new)),
        None => (None, None),
    };
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd.arg("bundle")
        .arg(file.unwrap_or(Path::new("/dev/stdin")))
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
        let err = format!("{:#}", root_of(&d.join("schemas/A.yaml")).unwrap_err());
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
