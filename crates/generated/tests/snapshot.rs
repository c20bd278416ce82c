//! The client this crate compiles (written by build.rs into OUT_DIR) is byte for byte the
//! committed, reviewable snapshot in `snapshot/client.rs`.

/// What build.rs generated from openapi.yaml for this build.
const BUILT: &str = include_str!(concat!(env!("OUT_DIR"), "/client.rs"));
/// What is committed for review.
const COMMITTED: &str = include_str!("../snapshot/client.rs");

#[test]
fn the_built_client_is_the_committed_snapshot() {
    if BUILT == COMMITTED {
        return;
    }
    let first_difference = BUILT
        .lines()
        .zip(COMMITTED.lines())
        .enumerate()
        .find(|(_, (built, committed))| built != committed)
        .map(|(i, (built, committed))| {
            format!(
                "first difference at line {}:\n  committed: {committed}\n  built:     {built}",
                i + 1
            )
        })
        .unwrap_or_else(|| {
            format!(
                "one is a prefix of the other ({} vs {} lines; trailing newline or truncation)",
                COMMITTED.lines().count(),
                BUILT.lines().count()
            )
        });
    panic!(
        "crates/generated/snapshot/client.rs is stale: openapi.yaml or crates/codegen changed \
         without regenerating it. Run `cargo xtask generate` and commit the snapshot.\n\
         {first_difference}\n(`cargo xtask check` prints the whole diff.)"
    );
}
