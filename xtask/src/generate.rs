//! `cargo xtask generate`: the committed, reviewable snapshot of the generated client.
//!
//! `crates/generated/snapshot/client.rs` and `api.rs` are exactly what
//! `crates/generated/build.rs` compiles (both call `shipstream_inventory_codegen::generate`;
//! without its `codegen` feature the build compiles these very files), and `SURFACE.md`
//! sums up the client's public surface. A spec change therefore shows up in review as a readable diff of
//! both; `xtask/tests/repo.rs` (which `cargo xtask check` runs) fails when they are
//! stale.

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};

use crate::{display_path, surface};

/// The snapshot folder, relative to the workspace root.
pub const SNAPSHOT_DIR: &str = "crates/generated/snapshot";
/// The generated client, exactly as `build.rs` writes it.
pub const CLIENT_FILE: &str = "client.rs";
/// The generated API facts, exactly as `build.rs` writes them.
pub const API_FILE: &str = "api.rs";
/// The public-surface summary.
pub const SURFACE_FILE: &str = "SURFACE.md";

/// The snapshot files, generated from spec text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// `client.rs`: `Generated.code`, byte for byte.
    pub client: String,
    /// `api.rs`: `Generated.api`, byte for byte.
    pub api: String,
    /// `SURFACE.md`.
    pub surface: String,
}

impl Snapshot {
    /// Generates the snapshot from the text of `openapi.yaml`.
    pub fn from_spec(spec_text: &str) -> Result<Self> {
        let generated = shipstream_inventory_codegen::generate(spec_text)
            .context("shipstream-inventory-codegen could not generate the client")?;
        let surface = surface::surface(&generated.code)?;
        Ok(Self {
            client: generated.code,
            api: generated.api,
            surface,
        })
    }

    /// `(file name, content)` of each file.
    pub fn files(&self) -> [(&'static str, &str); 3] {
        [
            (CLIENT_FILE, &self.client),
            (API_FILE, &self.api),
            (SURFACE_FILE, &self.surface),
        ]
    }

    /// Writes the files into `dir`; returns those whose content changed.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut changed = Vec::new();
        for (name, content) in self.files() {
            let path = dir.join(name);
            if fs::read_to_string(&path).ok().as_deref() == Some(content) {
                continue;
            }
            fs::write(&path, content)
                .with_context(|| format!("cannot write {}", path.display()))?;
            changed.push(path);
        }
        Ok(changed)
    }
}

/// `cargo xtask generate`: regenerates the snapshot of `spec` into `dir`.
pub fn run(spec: &Path, dir: &Path) -> Result<()> {
    let text = fs::read_to_string(spec)
        .with_context(|| format!("cannot read the spec {}", spec.display()))?;
    let snapshot = Snapshot::from_spec(&text)?;
    let changed = snapshot.write(dir)?;
    if changed.is_empty() {
        println!(
            "xtask generate: {} is up to date with {}",
            display_path(dir),
            display_path(spec)
        );
    } else {
        for path in &changed {
            println!("xtask generate: wrote {}", display_path(path));
        }
        println!(
            "review the diff (`git diff {}`) and commit it with the spec change",
            display_path(dir)
        );
    }
    Ok(())
}
