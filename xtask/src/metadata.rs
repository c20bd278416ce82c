//! The workspace's published packages, from `cargo metadata` (through the `cargo_metadata`
//! crate): names, versions, library targets and their dependencies on one another; and
//! their versions at an earlier revision, from the manifests git has.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use cargo_metadata::{DependencyKind, MetadataCommand, TargetKind};

use crate::git;

/// A published package of the workspace.
#[derive(Debug, Clone)]
pub struct Krate {
    /// Its name.
    pub name: String,
    /// Its `Cargo.toml`.
    pub manifest: PathBuf,
    /// Its folder, relative to the workspace root (`crates/generated`).
    pub dir: String,
    /// Its version now.
    pub version: semver::Version,
    /// `version.workspace = true`.
    pub workspace_version: bool,
    /// Whether it has a library target.
    pub has_lib: bool,
    /// The workspace packages it depends on (normal dependencies).
    pub deps: BTreeSet<String>,
    /// Its normal dependencies outside the workspace, with their requirements.
    pub external: Vec<(String, semver::VersionReq)>,
}

/// The workspace's packages that are published (no `publish = false`).
pub fn published(root: &Path) -> Result<Vec<Krate>> {
    let meta = MetadataCommand::new()
        .current_dir(root)
        .no_deps()
        .other_options(vec!["--offline".to_owned()])
        .exec()
        .context("cargo metadata failed")?;
    let members: BTreeSet<&str> = meta.packages.iter().map(|p| p.name.as_str()).collect();
    let mut out = Vec::new();
    for p in &meta.packages {
        if p.publish.as_ref().is_some_and(Vec::is_empty) {
            continue;
        }
        let manifest = p.manifest_path.clone().into_std_path_buf();
        let doc: toml_edit::DocumentMut = fs::read_to_string(&manifest)?.parse()?;
        let normal = || {
            p.dependencies
                .iter()
                .filter(|d| d.kind == DependencyKind::Normal)
        };
        out.push(Krate {
            name: p.name.to_string(),
            dir: manifest
                .parent()
                .and_then(|d| d.strip_prefix(root).ok())
                .map(|d| d.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default(),
            manifest,
            version: p.version.clone(),
            workspace_version: doc["package"]["version"]
                .get("workspace")
                .and_then(toml_edit::Item::as_bool)
                == Some(true),
            has_lib: p.targets.iter().any(|t| t.kind.contains(&TargetKind::Lib)),
            deps: normal()
                .filter(|d| members.contains(d.name.as_str()))
                .map(|d| d.name.clone())
                .collect(),
            external: normal()
                .filter(|d| !members.contains(d.name.as_str()))
                .map(|d| (d.name.clone(), d.req.clone()))
                .collect(),
        });
    }
    Ok(out)
}

/// Whether `k` depends on `target`, directly or through other workspace packages.
pub fn depends_on(crates: &[Krate], k: &Krate, target: &str) -> bool {
    let mut todo: Vec<&str> = k.deps.iter().map(String::as_str).collect();
    let mut seen = BTreeSet::new();
    while let Some(d) = todo.pop() {
        if d == target {
            return true;
        }
        if seen.insert(d)
            && let Some(c) = crates.iter().find(|c| c.name == d)
        {
            todo.extend(c.deps.iter().map(String::as_str));
        }
    }
    false
}

/// The workspace manifest at `rev`, parsed (None: no manifest there).
pub fn workspace_manifest_at(root: &Path, rev: &str) -> Result<Option<toml_edit::DocumentMut>> {
    git::show(root, rev, "Cargo.toml")
        .map(|t| t.parse())
        .transpose()
        .map_err(Into::into)
}

/// The version of `k` at `rev` (None when it did not exist there).
pub fn version_at(root: &Path, rev: &str, k: &Krate) -> Result<Option<semver::Version>> {
    let Some(text) = git::show(root, rev, &format!("{}/Cargo.toml", k.dir)) else {
        return Ok(None);
    };
    let doc: toml_edit::DocumentMut = text.parse()?;
    let own = &doc["package"]["version"];
    let version = if own.get("workspace").and_then(toml_edit::Item::as_bool) == Some(true) {
        workspace_manifest_at(root, rev)?.and_then(|ws| {
            ws["workspace"]["package"]["version"]
                .as_str()
                .map(str::to_owned)
        })
    } else {
        own.as_str().map(str::to_owned)
    };
    Ok(version.map(|v| v.parse()).transpose()?)
}
