//! Puts the generated client (`client.rs`) and API facts (`api.rs`) into `OUT_DIR`.
//!
//! - With the `codegen` feature (what the workspace's own builds and tests use), both are
//!   generated here, at build time, from `openapi.yaml`, by `shipstream-inventory-codegen`,
//!   which `cargo xtask generate` also uses: a build and the committed snapshot cannot
//!   disagree.
//! - Without it (what a crate depending on the published package gets), the committed
//!   snapshot under `snapshot/` is used as it is, after checking that it was generated from
//!   this very `openapi.yaml` (the hash in its header): so consumers do not compile
//!   progenitor, while a maintainer who edits the spec and forgets `cargo xtask generate`
//!   gets a build error instead of a stale client.
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
fn sources(spec: &str) -> Result<[String; 2], String> {
    let hash = spec_hash(spec);
    let mut out = [String::new(), String::new()];
    for (slot, name) in out.iter_mut().zip(FILES) {
        let path = PathBuf::from("snapshot").join(name);
        let code = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let first = code.lines().next().unwrap_or_default();
        if !first.contains(&format!("(spec {hash})")) {
            return Err(format!(
                "{} was not generated from this openapi.yaml (its header says `{first}`, the \
                 spec's hash is {hash}): run `cargo xtask generate` and commit the snapshot",
                path.display()
            ));
        }
        *slot = code;
    }
    Ok(out)
}

/// The same fingerprint as `shipstream_inventory_codegen::spec_hash` (FNV-1a 64 over the
/// bytes, `\r` skipped): repeated here because this build has no codegen dependency, and
/// checked against it by `tests/snapshot.rs`.
#[cfg(not(feature = "codegen"))]
fn spec_hash(spec: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in spec.bytes().filter(|b| *b != b'\r') {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
