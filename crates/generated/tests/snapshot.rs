//! The generated code this crate compiles is byte for byte the committed, reviewable
//! snapshot (`snapshot/client.rs`, `snapshot/api.rs`), and both are what codegen makes of
//! this package's `openapi.yaml` today.

use std::path::Path;

/// What build.rs put into OUT_DIR for this build (generated at build time with the
/// `codegen` feature, else the snapshot after its hash check).
const BUILT: [(&str, &str); 2] = [
    (
        "client.rs",
        include_str!(concat!(env!("OUT_DIR"), "/client.rs")),
    ),
    ("api.rs", include_str!(concat!(env!("OUT_DIR"), "/api.rs"))),
];

fn committed(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshot")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn first_difference(a: &str, b: &str) -> String {
    a.lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| {
            format!(
                "first difference at line {}:\n  committed: {x}\n  other:     {y}",
                i + 1
            )
        })
        .unwrap_or_else(|| {
            format!(
                "one is a prefix of the other ({} vs {} lines)",
                a.lines().count(),
                b.lines().count()
            )
        })
}

#[test]
fn the_built_code_is_the_committed_snapshot() {
    for (name, built) in BUILT {
        let committed = committed(name);
        assert!(
            built == committed,
            "snapshot/{name} differs from what this build compiles: run `cargo xtask generate` \
             and commit the snapshot.\n{}",
            first_difference(&committed, built)
        );
    }
}

#[test]
fn the_snapshot_is_what_codegen_makes_of_the_packaged_spec() {
    let spec_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.yaml");
    let spec = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", spec_path.display()));
    let generated = shipstream_inventory_codegen::generate(&spec)
        .unwrap_or_else(|e| panic!("codegen refused the spec: {e}"));
    for (name, fresh) in [("client.rs", &generated.code), ("api.rs", &generated.api)] {
        let committed = committed(name);
        assert!(
            *fresh == committed,
            "snapshot/{name} is stale: openapi.yaml or crates/codegen changed without \
             regenerating it. Run `cargo xtask generate` and commit the snapshot.\n{}",
            first_difference(&committed, fresh)
        );
    }
    // build.rs (without codegen) recomputes the hash by hand: it must agree.
    assert!(committed("api.rs").contains(&format!("(spec {})", generated.spec_hash)));
}
