//! Puts the generated client (`client.rs`) and API facts (`api.rs`) into `OUT_DIR`.
//!
//! - With the `codegen` feature (what the workspace's own builds and tests use), both are
//!   generated here, at build time, from `openapi.yaml`, by `shipstream-inventory-codegen`,
//!   which `cargo xtask generate` also uses: a build and the committed snapshot cannot
//!   disagree.
//! - Without it (what a crate depending on the published package gets), the committed
//!   snapshot under `snapshot/` is used as it is, so consumers do not compile progenitor.
//!   The workspace's tests hold the snapshot to the spec before it is packaged.
//!
//! `openapi.yaml` in this folder is a link to the workspace's one spec; `cargo package`
//! puts the file itself into the package.

use std::{env, fs, path::PathBuf, process::ExitCode};

const FILES: [&str; 2] = ["client.rs", "api.rs"];

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=openapi.yaml");
    println!("cargo:rerun-if-changed=snapshot");
    println!("cargo:rerun-if-changed=build.rs");
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let spec = fs::read_to_string("openapi.yaml")
        .map_err(|e| format!("cannot read openapi.yaml of shipstream-inventory-generated: {e}"))?;
    let out_dir = PathBuf::from(
        env::var_os("OUT_DIR").ok_or("OUT_DIR is not set; build.rs must run under cargo")?,
    );
    for (name, code) in FILES.into_iter().zip(sources(&spec)?) {
        let out = out_dir.join(name);
        fs::write(&out, code).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    Ok(())
}

#[cfg(feature = "codegen")]
fn sources(spec: &str) -> Result<[String; 2], String> {
    let generated = shipstream_inventory_codegen::generate(spec).map_err(|e| e.to_string())?;
    Ok([generated.code, generated.api])
}

#[cfg(not(feature = "codegen"))]
fn sources(_spec: &str) -> Result<[String; 2], String> {
    let read = |name: &str| {
        let path = PathBuf::from("snapshot").join(name);
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    Ok([read(FILES[0])?, read(FILES[1])?])
}
