//! `cargo xtask drill --breaking`: a breaking API change, planted in `openapi.yaml` only,
//! reaches the facade's users as the release it is.
//!
//! In a copy of the workspace made a git repository with a release tag `v{version}`, it
//! renames a level quantity (`qty_picked` → `qty_picked_unpacked`), removes a product field
//! (`volume`), narrows a bound (`limit` at most 500), deprecates a sort key (`sku`) and
//! moves `info.version` (2025-08 → 2026-03), each planted by the spec's structure
//! ([`plant`]); regenerates; then requires:
//! - each part, planted alone, is judged by the spec-diff rules with its own class and
//!   bump ([`CHANGES`]), and reaches `semver`'s verdict with that bump;
//! - a small crate outside the workspace that uses the old names compiles before the change
//!   and fails after it with errors naming them; a use of the deprecated key compiles with
//!   a warning carrying the spec's note;
//! - `cargo xtask semver` fails (versions too low, the judges agree), `--apply` bumps them,
//!   then it passes;
//! - `cargo xtask changelog` names every change;
//! - the client sends the new version, and a client pinned to the old one gets the typed
//!   error naming the latest (a test of the outside crate against the copy's mock).

use std::{fs, path::Path, time::Instant};

use anyhow::{Context, Result, ensure};

use super::{
    copy_workspace,
    plant::{self, Change, Plant, Target},
    release_repo,
};
use crate::{
    specdiff::{self, Bump, Severity},
    step,
};

/// The old names, used the way a user's code uses them.
const OLD_NAMES: &str = include_str!("../../fixtures/drill/old_names.rs");

/// A use of the key the change deprecates.
const DEPRECATED_KEY: &str = include_str!("../../fixtures/drill/deprecated_key.rs");

/// The client after the change, against the copy's mock.
const VERSIONS_TEST: &str = include_str!("../../fixtures/drill/versions.rs");

/// One breaking-drill change: its plants, and what the spec judge must say of it alone:
/// each change it makes, as `(class, the bump the Rust API needs, words of the change)`.
pub struct Planted {
    /// What the change is.
    pub what: &'static str,
    /// Its edits of the spec.
    pub plants: &'static [Plant],
    /// Every change [`specdiff::compare`] reports for it, and nothing else.
    pub expect: &'static [(Severity, Bump, &'static str)],
}

const B: Severity = Severity::Breaking;
const A: Severity = Severity::Addition;
const MAJOR: Bump = Bump::Major;
const MINOR: Bump = Bump::Minor;

/// The breaking change the drill plants, one part at a time.
pub const CHANGES: &[Planted] = &[
    Planted {
        what: "rename the level quantity qty_picked to qty_picked_unpacked",
        plants: &[Plant {
            what: "qty_picked renamed wherever it is a key or a listed value",
            target: Target::Everywhere,
            change: Change::Rename("qty_picked", "qty_picked_unpacked"),
        }],
        expect: &[
            (B, MAJOR, "`fields`[]: value \"qty_picked\" removed"),
            (
                B,
                MAJOR,
                "filterable field `qty_picked`: no longer filterable",
            ),
            (B, MAJOR, "TotalLevel.qty_picked: property removed"),
            (
                A,
                MINOR,
                "`fields`[]: new value \"qty_picked_unpacked\" now accepted",
            ),
            (
                A,
                MINOR,
                "filterable field `qty_picked_unpacked`: new filterable field",
            ),
            (A, MINOR, "TotalLevel.qty_picked_unpacked: new property"),
        ],
    },
    Planted {
        what: "remove the product field volume",
        plants: &[
            Plant {
                what: "Product property volume",
                target: Target::Properties("Product"),
                change: Change::Remove("volume"),
            },
            Plant {
                what: "`fields:product` value volume",
                target: Target::SchemaEnum("ProductFieldName"),
                change: Change::RemoveValue("volume"),
            },
            Plant {
                what: "x-optional-fields entry volume",
                target: Target::SchemaMember("Product", "x-optional-fields"),
                change: Change::RemoveValue("volume"),
            },
        ],
        expect: &[
            (B, MAJOR, "Product.volume: property removed"),
            (
                B,
                MAJOR,
                "value \"volume\" of enum ProductFieldName removed",
            ),
        ],
    },
    Planted {
        what: "narrow limit to at most 500",
        plants: &[Plant {
            what: "limit's maximum 500",
            target: Target::ParamSchema("limit"),
            change: Change::Set("maximum", "500"),
        }],
        expect: &[(
            B,
            MAJOR,
            "`limit`: maximum changed from 1000 to 500 (narrowed",
        )],
    },
    Planted {
        what: "deprecate the sort key sku",
        plants: &[Plant {
            what: "x-deprecated-values on sort",
            target: Target::ParamSchema("sort"),
            change: Change::Entry(
                "x-deprecated-values",
                "{sku: \"sort by product_id; sku goes in 2026-09\"}",
            ),
        }],
        expect: &[(
            Severity::Deprecation,
            MINOR,
            "`sort`: value sku deprecated: sort by product_id; sku goes in 2026-09",
        )],
    },
    Planted {
        what: "move info.version to 2026-03",
        plants: &[Plant {
            what: "info.version 2026-03",
            target: Target::Info,
            change: Change::Set("version", "\"2026-03\""),
        }],
        expect: &[(
            B,
            MAJOR,
            "info.version: the API version moved from 2025-08 to 2026-03",
        )],
    },
];

/// `spec` with every part of the breaking change planted.
pub fn planted(spec: &str) -> Result<String> {
    let mut out = spec.to_owned();
    for c in CHANGES {
        out = plant::planted(&out, c.plants).with_context(|| c.what.to_owned())?;
        println!("   planted: {}", c.what);
    }
    Ok(out)
}

/// Each part of the breaking change planted alone in `spec`, judged by the spec-diff rules:
/// every change it makes has the class and bump expected, and none is missing or extra (so
/// a wrong verdict on one part is not hidden by another part's major bump).
pub fn each_change_judged(spec: &str) -> Result<()> {
    let old = crate::spec::parse(spec)?;
    let mut wrong = Vec::new();
    for c in CHANGES {
        let new = crate::spec::parse(&plant::planted(spec, c.plants)?)?;
        let got: Vec<(Severity, Bump, String)> = specdiff::compare(&old, &new)
            .changes
            .iter()
            .map(|ch| (ch.severity, ch.rust, ch.to_string()))
            .collect();
        let matches = |(s, b, t): &(Severity, Bump, String),
                       (es, eb, et): &(Severity, Bump, &str)| {
            s == es && b == eb && t.contains(et)
        };
        if got.len() != c.expect.len()
            || !c.expect.iter().all(|e| got.iter().any(|g| matches(g, e)))
            || !got.iter().all(|g| c.expect.iter().any(|e| matches(g, e)))
        {
            wrong.push(format!(
                "`{}` is judged {got:#?}, not {:#?}",
                c.what, c.expect
            ));
        }
    }
    ensure!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

fn outside_crate(dir: &Path, copy: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir.join("src"))?;
    fs::create_dir_all(dir.join("examples"))?;
    fs::create_dir_all(dir.join("tests"))?;
    let inventory = copy.join("crates/inventory");
    let mock = copy.join("crates/mock");
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"drill-user\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nshipstream-inventory = {{ path = {:?} }}\n\n\
             [dev-dependencies]\nshipstream-inventory-mock = {{ path = {:?} }}\n\
             tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"time\"] }}\n\
             futures = \"0.3\"\n\n[workspace]\n",
            inventory.display().to_string(),
            mock.display().to_string()
        ),
    )?;
    // The workspace's lockfile, so the outside crate resolves the same versions offline.
    fs::copy(copy.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    // Examples, not binaries: `cargo test --test versions` builds every binary, and the
    // old names must only ever be compiled on their own.
    fs::write(
        dir.join("src/lib.rs"),
        "//! The drill's user of the facade.\n",
    )?;
    fs::write(dir.join("examples/old_names.rs"), OLD_NAMES)?;
    fs::write(dir.join("examples/deprecated_key.rs"), DEPRECATED_KEY)?;
    fs::write(dir.join("tests/versions.rs"), VERSIONS_TEST)?;
    Ok(())
}

/// Runs the breaking drill; the copy lives in `target/drill/breaking/`, builds in `target`.
pub fn run(root: &Path, target: &Path) -> Result<()> {
    let started = Instant::now();
    let base = root.join("target/drill/breaking");
    let copy = base.join("workspace");
    let user = base.join("user");
    let in_user = |args: &[&str]| crate::output(&mut super::cargo_in(&user, target, args));
    let semver_target = super::semver_target(root);

    step(
        "breaking drill: copy the workspace, tag its release",
        || {
            copy_workspace(root, &copy)?;
            let version = release_repo(&copy)?;
            outside_crate(&user, &copy)?;
            println!("   tagged v{version}; outside crate at {}", user.display());
            Ok(())
        },
    )?;
    step(
        "breaking drill: the old names compile before the change",
        || {
            let (status, text) = in_user(&[
                "check",
                "--quiet",
                "--offline",
                "--example",
                "old_names",
                "--example",
                "deprecated_key",
            ])?;
            ensure!(
                status.success(),
                "the outside crate does not compile against the release:\n{text}"
            );
            ensure!(
                !text.contains("deprecated"),
                "a warning before the deprecation:\n{text}"
            );
            Ok(())
        },
    )?;
    step(
        "breaking drill: plant the changes in openapi.yaml, generate",
        || {
            let spec_path = copy.join("openapi.yaml");
            let spec = fs::read_to_string(&spec_path)?;
            each_change_judged(&spec)?;
            println!("   each part alone: the class and bump expected");
            fs::write(&spec_path, planted(&spec)?)?;
            crate::generate::run(&spec_path, &copy.join(crate::generate::SNAPSHOT_DIR))
        },
    )?;
    step(
        "breaking drill: code using the old names fails, naming them",
        || {
            let (status, text) = in_user(&["check", "--offline", "--example", "old_names"])?;
            ensure!(
                !status.success(),
                "the old names still compile after the change:\n{text}"
            );
            for name in ["qty_picked", "volume", "QtyPicked", "Volume"] {
                ensure!(
                    text.contains(&format!("`{name}`")),
                    "the compiler's errors do not name `{name}`:\n{text}"
                );
            }
            let (status, text) = in_user(&["check", "--offline", "--example", "deprecated_key"])?;
            ensure!(
                status.success(),
                "the deprecated key no longer compiles:\n{text}"
            );
            ensure!(
                text.contains("deprecated")
                    && text.contains("Sku")
                    && text.contains("sku goes in 2026-09"),
                "no deprecation warning with the spec's note:\n{text}"
            );
            println!(
                "   old names: compile errors naming each; SortField::Sku: a deprecation warning"
            );
            Ok(())
        },
    )?;
    step(
        "breaking drill: cargo xtask semver fails until --apply",
        || {
            let outcome = crate::semver_judge::judge(&copy, None, &semver_target)?;
            let text = outcome.to_string();
            print_indented(&text, 40);
            ensure!(
                outcome.disagreements.is_empty(),
                "the judges disagree on the breaking change:\n{text}"
            );
            ensure!(
                outcome.verdicts.iter().any(|v| !v.ok()),
                "semver passed a breaking change without a version bump:\n{text}"
            );
            for need in [
                "shipstream-inventory: 0.1.0 -> 0.1.0 needs a major bump: >= 0.2.0 [TOO LOW]",
                "shipstream-inventory-generated: 0.1.0 -> 0.1.0 needs a major bump: >= 0.2.0 [TOO LOW]",
                "cargo-semver-checks: a minor release is not enough",
                "re-exported shipstream-inventory-generated: cargo-semver-checks: a minor release is not enough",
            ] {
                ensure!(text.contains(need), "semver does not say `{need}`:\n{text}");
            }
            // Each part of the change reaches the verdict with its own bump.
            for (_, bump, words) in CHANGES.iter().flat_map(|c| c.expect) {
                let line = format!("spec: {bump} (");
                ensure!(
                    text.lines().any(|l| l.contains(&line) && l.contains(words)),
                    "semver does not list `{words}` as a {bump} change:\n{text}"
                );
            }
            let report = outcome
                .reports
                .get("shipstream-inventory-generated")
                .map_or("", String::as_str);
            for need in ["struct_pub_field_missing", "volume", "qty_picked"] {
                ensure!(
                    report.contains(need),
                    "cargo-semver-checks' report on the generated crate lacks `{need}`:\n{text}"
                );
            }
            crate::semver_judge::apply(&copy, &outcome)?;
            // cargo-semver-checks is given the release type, so its findings do not depend
            // on the versions: `semver` now says what these verdicts say with the versions
            // --apply wrote (read back through cargo metadata, which also fails on a
            // dependency requirement --apply left behind).
            let now = crate::metadata::published(&copy)?;
            println!("   after --apply:");
            for v in &outcome.verdicts {
                let version = now
                    .iter()
                    .find(|k| k.name == v.name)
                    .map(|k| &k.version)
                    .with_context(|| format!("{} is no longer published", v.name))?;
                ensure!(
                    *version >= v.required,
                    "semver still fails after --apply: {} is {version}, it needs >= {}",
                    v.name,
                    v.required
                );
                println!("   | {}: {version} (needs >= {}) [ok]", v.name, v.required);
            }
            Ok(())
        },
    )?;
    step("breaking drill: the changelog names every change", || {
        crate::changelog::run(&copy)?;
        let log = fs::read_to_string(copy.join("CHANGELOG.md"))?;
        let block = crate::changelog::current_block(&log)
            .unwrap_or_default()
            .to_owned();
        for need in [
            "`TotalLevel.qty_picked`: property removed",
            "`TotalLevel.qty_picked_unpacked`: new property",
            "its new name is among `types::TotalLevel::qty_picked_unpacked`",
            "`Product.volume`: property removed",
            "maximum changed from 1000 to 500",
            "value sku deprecated: sort by product_id; sku goes in 2026-09",
            "the API version moved from 2025-08 to 2026-03",
            "### Removed",
            "### Deprecated",
        ] {
            ensure!(block.contains(need), "the changelog lacks `{need}`");
        }
        crate::changelog::verify(&copy)
    })?;
    step(
        "breaking drill: the client sends 2026-03; one pinned to 2025-08 gets the typed error",
        || {
            let (status, text) = in_user(&["test", "--quiet", "--offline", "--test", "versions"])?;
            ensure!(status.success(), "the versions test failed:\n{text}");
            Ok(())
        },
    )?;
    println!(
        "\nxtask drill --breaking: the breaking change broke the old names at compile time, \
         warned on the deprecated key, required 0.2.0 until --apply, is in the changelog, and \
         the client sends the new version ({:.0?})",
        started.elapsed()
    );
    Ok(())
}

fn print_indented(text: &str, max: usize) {
    let lines: Vec<&str> = text.lines().collect();
    for l in lines.iter().take(max) {
        println!("   | {l}");
    }
    if lines.len() > max {
        println!("   | ... ({} more lines)", lines.len() - max);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_part_of_the_breaking_change_is_judged_as_expected() {
        if crate::root().ends_with("target/drill/workspace") {
            return; // the additive drill's copy is planted already
        }
        let spec = fs::read_to_string(crate::root().join("openapi.yaml")).unwrap();
        each_change_judged(&spec).unwrap();
    }
}
