//! Generates the client from `../../openapi.yaml` into `OUT_DIR/client.rs`.
//!
//! All generator settings live in `shipstream-inventory-codegen`, which `cargo xtask generate`
//! also uses, so the build and the committed snapshot cannot disagree.

use std::{env, fs, path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let spec_path = PathBuf::from("../../openapi.yaml");
    println!("cargo:rerun-if-changed={}", spec_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    let spec = match fs::read_to_string(&spec_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", spec_path.display());
            return ExitCode::FAILURE;
        }
    };
    let generated = match shipstream_inventory_codegen::generate(&spec) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(out_dir) = env::var_os("OUT_DIR") else {
        eprintln!("error: OUT_DIR is not set; build.rs must run under cargo");
        return ExitCode::FAILURE;
    };
    let out = PathBuf::from(out_dir).join("client.rs");
    if let Err(e) = fs::write(&out, generated.code) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
