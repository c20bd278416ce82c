//! `cargo xtask drill` (also `--vendor-release`): the additive drill proves that an API
//! change the vendor publishes is `cargo xtask adopt`, a person's step for our own
//! extensions, and `cargo xtask generate`, nothing else.
//!
//! In a copy of the workspace (the files git tracks, as they are in the working tree),
//! tagged as the release of its version, the vendor publishes release [`RELEASE`]: the
//! copy's spec with [`ADDITIONS`] and one [`BREAKING`] change, rewritten into the vendor's
//! file layout ([`layout`]) and served over HTTP on 127.0.0.1. The additions are one of
//! each kind adopt takes: properties (`TotalLevel.qty_in_transit`, a nullable
//! `Product.hazard_class`), values of open enums and of `fields`, a query parameter, a
//! response header, a response status and a deprecation. Then, in the copy:
//! - `cargo xtask adopt --vendor URL` exits 1 (the breaking change is left and named), and
//!   its edit is exactly the additions with their notes: only lines added, every comment
//!   kept;
//! - a person's step ([`PERSON`]): the new quantity filterable and sortable, and the new
//!   parameter excused from the facade's builder (a builder method, in real life);
//! - `cargo xtask generate`; the facade has `fields::QTY_IN_TRANSIT.gt(0)`,
//!   `LevelField::QtyInTransit`, `ProductField::HazardClass`, `SortField::QtyInTransit` and
//!   `GoodsType::LimitedQuantity`, and the mock serves, filters and sorts the new names (a
//!   probe test added to the copy);
//! - `semver --apply` gives the patch bump an addition needs below 1.0, and `changelog`
//!   names each adopted change;
//! - the workspace's tests stay green, the repository's property tests among them
//!   (`xtask/tests/repo.rs` and `spec_reachability`, what `cargo xtask check` runs); only
//!   the timing-sensitive group and the `drift --vendor` tests are left to the workspace's
//!   own test step;
//! - the CLI filters, sorts and exports the new columns against `levels --demo`;
//! - `cargo xtask drift --vendor URL` names only what was left: the breaking change, and
//!   the person's extensions, which the vendor's files do not have.
//!
//! The copy lives in `target/drill/workspace/` and builds into `target/drill/target/`
//! (kept between runs, so a second drill compiles only what changed; its own directory,
//! because cargo names a workspace crate's artifacts after its path relative to the
//! workspace root, and the copy's would replace the workspace's). Nothing of the real
//! workspace is touched.

use std::{fs, path::Path, process::Output, time::Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use super::{
    Copy, copy_workspace,
    plant::{Change, Plant, Target, planted},
    release_repo, semver_target,
};
use crate::{drift::layout, run, step};

/// The vendor's release the drill publishes.
pub const RELEASE: &str = "2026-12";

/// The additions and the deprecation of the vendor's release, each as a spec edit.
pub const ADDITIONS: &[Plant] = &[
    Plant {
        what: "level property qty_in_transit",
        target: Target::Properties("TotalLevel"),
        change: Change::Entry(
            "qty_in_transit",
            "{type: integer, format: int64, description: Shipped between warehouses and not yet \
             received.}",
        ),
    },
    Plant {
        what: "`fields` value qty_in_transit",
        target: Target::ParamValues("fields"),
        change: Change::Value("qty_in_transit"),
    },
    Plant {
        what: "product property hazard_class",
        target: Target::Properties("Product"),
        change: Change::Entry(
            "hazard_class",
            "{type: string, nullable: true, description: The hazard class of regulated goods., \
             example: \"9\"}",
        ),
    },
    Plant {
        what: "`fields:product` value hazard_class",
        target: Target::SchemaEnum("ProductFieldName"),
        change: Change::Value("hazard_class"),
    },
    Plant {
        what: "goods type LIMITED_QUANTITY",
        target: Target::SchemaEnum("GoodsType"),
        change: Change::Value("LIMITED_QUANTITY"),
    },
    Plant {
        what: "query parameter brand",
        target: Target::Operation(&["parameters"]),
        change: Change::Value(
            "{name: brand, in: query, description: Only the levels of this brand's products., \
             schema: {type: string, minLength: 1}}",
        ),
    },
    Plant {
        what: "response header X-Correlation-Id",
        target: Target::Operation(&["responses", "200", "headers"]),
        change: Change::Entry(
            "X-Correlation-Id",
            "{description: The request's id for the vendor's support., schema: {type: string}}",
        ),
    },
    Plant {
        what: "response status 502",
        target: Target::Operation(&["responses"]),
        change: Change::Entry(
            "502",
            "{description: A gateway before the instance failed; try again later., content: \
             {application/json: {schema: {$ref: \"#/components/schemas/ErrorBody\"}}}}",
        ),
    },
    Plant {
        what: "query parameter version deprecated",
        target: Target::Param("version"),
        change: Change::Entry("deprecated", "true"),
    },
];

/// The release's breaking change, which adopt must leave.
pub const BREAKING: Plant = Plant {
    what: "limit at most 500",
    target: Target::ParamSchema("limit"),
    change: Change::Set("maximum", "500"),
};

/// What the vendor's files cannot supply, added as a person would after adopt: the new
/// quantity in our own extensions.
pub const PERSON: &[Plant] = &[
    Plant {
        what: "filterable field qty_in_transit",
        target: Target::FilterableFields("filter"),
        change: Change::Entry(
            "qty_in_transit",
            "{kind: integer, group: inventory, description: Quantity between warehouses.}",
        ),
    },
    Plant {
        what: "sort key qty_in_transit",
        target: Target::SortPattern("sort"),
        change: Change::SortKey("qty_in_transit"),
    },
];

/// The probe test added to the copy's facade crate: it only compiles if the facade has the
/// new handles, and it checks the mock serves, filters and sorts the new fields.
const PROBE: &str = include_str!("../../fixtures/drill/drill_probe.rs");

/// How many notes adopt writes for [`ADDITIONS`]: an `x-confirmed` on each new property,
/// parameter, header and status (enum values take none), and one `x-deprecation-note`.
const NOTES: (usize, usize) = (5, 1);

/// Checks adopt's edit of `original` into `adopted`: only lines added (every comment and
/// every other line kept as written), and, without the notes naming the release (as many
/// as `notes_wanted` says), exactly `expected` (the spec with the release's additions).
pub fn check_adopted(
    original: &str,
    adopted: &str,
    expected: &Value,
    notes_wanted: (usize, usize),
) -> Result<()> {
    let diff = similar::TextDiff::from_lines(original, adopted);
    let dropped: Vec<String> = diff
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Delete)
        .map(|c| c.value().trim_end().to_owned())
        .collect();
    ensure!(
        dropped.is_empty(),
        "adopt's edit dropped or rewrote lines of openapi.yaml:\n  {}",
        dropped.join("\n  ")
    );
    let mut notes = (0, 0);
    let mut got = crate::spec::parse(adopted)?;
    strip_notes(&mut got, &mut notes);
    if got != *expected {
        let show = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        let (want, got) = (show(expected), show(&got));
        let diff = similar::TextDiff::from_lines(&want, &got);
        bail!(
            "adopt's edit is not the release's additions (- expected, + adopted):\n{}",
            diff.unified_diff().context_radius(2)
        );
    }
    ensure!(
        notes == notes_wanted,
        "adopt wrote {notes:?} notes naming release {RELEASE} (x-confirmed, x-deprecation-note), \
         not {notes_wanted:?}"
    );
    Ok(())
}

/// Removes the notes naming the release from `v`, counting them.
fn strip_notes(v: &mut Value, count: &mut (usize, usize)) {
    match v {
        Value::Object(map) => {
            let names = |n: Option<&Value>| n.is_some_and(|n| n.to_string().contains(RELEASE));
            if names(map.get("x-confirmed")) {
                map.remove("x-confirmed");
                count.0 += 1;
            }
            if names(map.get(crate::specdiff::DEPRECATION_NOTE)) {
                map.remove(crate::specdiff::DEPRECATION_NOTE);
                count.1 += 1;
            }
            map.values_mut().for_each(|c| strip_notes(c, count));
        }
        Value::Array(items) => items.iter_mut().for_each(|c| strip_notes(c, count)),
        _ => {}
    }
}

/// The changes `drift --vendor` lists, one per line as `mark location: message`.
fn drift_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            ["  ✗ ", "  ! ", "  ~ ", "  + "]
                .iter()
                .any(|m| l.starts_with(m))
        })
        .map(|l| l.trim().to_owned())
        .collect()
}

/// `cargo xtask drill`, building the copy of the workspace in `target` (see
/// [`own_target_dir`](super::own_target_dir)).
pub fn run_drill(root: &Path, target: &Path) -> Result<()> {
    let started = Instant::now();
    let copy = Copy {
        root: root.join("target/drill/workspace"),
        target: target.to_path_buf(),
    };
    let cargo_in = |args: &[&str]| super::cargo_in(&copy.root, &copy.target, args);
    let xtask_in = |args: &[&str]| -> Result<Output> {
        let args = [&["run", "--quiet", "-p", "xtask", "--"][..], args].concat();
        let out = cargo_in(&args)
            .output()
            .context("cannot run the copy's xtask")?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        Ok(out)
    };
    let spec_path = copy.root.join("openapi.yaml");
    let mut original = String::new();
    let mut url = String::new();
    // The breaking change as the engine words it, and the operation's label: from the spec.
    let mut narrowed = String::new();
    let mut op = String::new();

    step(
        &format!("drill: copy the workspace; the vendor publishes release {RELEASE} on 127.0.0.1"),
        || {
            copy_workspace(root, &copy.root)?;
            let version = release_repo(&copy.root)?;
            println!("   the copy is a git repository tagged v{version}");
            original = fs::read_to_string(&spec_path)?;
            let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(&original)?;
            let max = facts
                .parameters
                .iter()
                .find(|p| p.name == "limit")
                .and_then(|p| p.maximum)
                .context("the spec's `limit` has no maximum")?;
            narrowed = format!("maximum changed from {max} to 500");
            let id = crate::check::DEFAULT_OPERATION;
            op = crate::spec::operation(&crate::spec::parse(&original)?, id)
                .with_context(|| format!("the spec has no operation `{id}`"))?
                .label();
            let release = planted(&planted(&original, ADDITIONS)?, &[BREAKING])?;
            let served = root.join("target/drill/vendor");
            if served.exists() {
                fs::remove_dir_all(&served)?;
            }
            layout::write(
                &crate::spec::parse(&release)?,
                &served.join(format!("release-{RELEASE}")),
            )?;
            // And the copy's spec as it is, in the same layout.
            layout::write(&crate::spec::parse(&original)?, &served.join("faithful"))?;
            url = format!("{}release-{RELEASE}/openapi.yaml", layout::serve(&served)?);
            for p in ADDITIONS.iter().chain([&BREAKING]) {
                println!("   in the release: {}", p.what);
            }
            println!("   served at {url}");
            Ok(())
        },
    )?;
    step(
        "drill: cargo xtask adopt --vendor URL (in the copy): a faithful rewrite, then the release",
        || {
            let faithful = url.replace(&format!("release-{RELEASE}"), "faithful");
            let out = xtask_in(&["adopt", "--vendor", &faithful])?;
            ensure!(
                out.status.code() == Some(0) && fs::read_to_string(&spec_path)? == original,
                "adopt of a faithful rewrite of ours exited {} or edited openapi.yaml",
                out.status
            );
            let out = xtask_in(&["adopt", "--vendor", &url])?;
            ensure!(
                out.status.code() == Some(1),
                "adopt exited {} instead of 1 (a breaking change is left)",
                out.status
            );
            let report = String::from_utf8_lossy(&out.stdout);
            let decisions = report
                .split("### Left for a decision")
                .nth(1)
                .unwrap_or_default();
            ensure!(
                decisions.contains(&narrowed),
                "adopt's report does not leave the breaking change for a decision:\n{report}"
            );
            let expected = crate::spec::parse(&planted(&original, ADDITIONS)?)?;
            check_adopted(
                &original,
                &fs::read_to_string(&spec_path)?,
                &expected,
                NOTES,
            )?;
            println!(
                "   adopted: only lines added, exactly the release's additions and their notes"
            );
            Ok(())
        },
    )?;
    step(
        "drill: a person's step: the new quantity filterable and sortable",
        || {
            let spec = fs::read_to_string(&spec_path)?;
            fs::write(&spec_path, planted(&spec, PERSON)?)?;
            // The builder method a person writes for the new parameter; the drill excuses it.
            let test = copy
                .root
                .join("crates/inventory/tests/spec_reachability.rs");
            let text = fs::read_to_string(&test)?;
            let list = "const NOT_SENT_BY_BUILDER: &[(&str, &str)] = &[\n";
            ensure!(text.contains(list), "{} lacks `{list}`", test.display());
            let excused = format!("{list}    (\"brand\", \"planted by the drill\"),\n");
            fs::write(&test, text.replacen(list, &excused, 1))?;
            for p in PERSON {
                println!("   planted: {}", p.what);
            }
            Ok(())
        },
    )?;
    step("drill: cargo xtask generate (in the copy)", || {
        run(&mut cargo_in(&[
            "run", "--quiet", "-p", "xtask", "--", "generate",
        ]))
    })?;
    step("drill: the new names in the generated facts", || {
        let api = fs::read_to_string(copy.root.join("crates/generated/snapshot/api.rs"))?;
        for name in ["\"qty_in_transit\"", "\"hazard_class\"", "QtyInTransit"] {
            ensure!(api.contains(name), "the generated api.rs lacks {name}");
        }
        let client = fs::read_to_string(copy.root.join("crates/generated/snapshot/client.rs"))?;
        for name in ["LimitedQuantity", "HazardClass", "pub qty_in_transit"] {
            ensure!(
                client.contains(name),
                "the generated client.rs lacks {name}"
            );
        }
        fs::write(
            copy.root.join("crates/inventory/tests/drill_probe.rs"),
            PROBE,
        )?;
        Ok(())
    })?;
    step(
        "drill: cargo xtask semver: an additive change needs a patch bump below 1.0",
        || {
            let outcome = crate::semver_judge::judge(&copy.root, None, &semver_target(root))?;
            let text = outcome.to_string();
            for line in text.lines().filter(|l| !l.starts_with("      ")) {
                println!("   | {line}");
            }
            ensure!(
                outcome.disagreements.is_empty(),
                "the judges disagree on an additive change:\n{text}"
            );
            for need in [
                "shipstream-inventory: 0.1.0 -> 0.1.0 needs a minor bump: >= 0.1.1 [TOO LOW]",
                "shipstream-inventory-generated: 0.1.0 -> 0.1.0 needs a minor bump: >= 0.1.1 [TOO LOW]",
            ] {
                ensure!(text.contains(need), "semver does not say `{need}`:\n{text}");
            }
            ensure!(
                !text.contains("major bump"),
                "an addition judged major:\n{text}"
            );
            crate::semver_judge::apply(&copy.root, &outcome)?;
            crate::changelog::run(&copy.root)?;
            let log = fs::read_to_string(copy.root.join("CHANGELOG.md"))?;
            let block = crate::changelog::current_block(&log).unwrap_or_default();
            for need in [
                "### Added",
                "`TotalLevel.qty_in_transit`: new property",
                "`Product.hazard_class`: new property",
                "new value \"LIMITED_QUANTITY\"",
                "new sort key qty_in_transit",
                "`brand`",
                "X-Correlation-Id",
                "502",
                "`version`",
            ] {
                ensure!(
                    block.contains(need),
                    "the changelog lacks `{need}`:\n{block}"
                );
            }
            ensure!(
                !block.contains("Breaking"),
                "an addition listed as breaking:\n{block}"
            );
            println!("   semver --apply: 0.1.1; the changelog lists the additions under Added");
            Ok(())
        },
    )?;
    step(
        "drill: the workspace's tests (in the copy, with the probe; not the timing group)",
        || {
            // All but the timing-sensitive group (`.config/nextest.toml`: soaks, limits,
            // kills), whose timing an added field does not reach, and the tests of `drift
            // --vendor` and `adopt` on layouts of their own, which the drill's own adopt and
            // drift steps exercise on the planted spec; both run whole in the workspace's
            // own test step. Every other test reads the planted fields.
            crate::test_workspace(
                |c| super::in_dir(c, &copy.root, &copy.target),
                &[],
                Some("not group(serial) and not binary_id(xtask::drift_vendor)"),
            )
        },
    )?;
    step(
        "drill: the CLI filters, sorts and exports the new fields (levels --demo)",
        || {
            // The binary the tests above built (and ran) from the copy: `cargo run -p`
            // would build the CLI again with its own feature set.
            let cli = copy.target.join("debug").join("shipstream-inventory");
            let out = std::process::Command::new(&cli)
                .args([
                    "levels",
                    "--demo",
                    "--filter",
                    "qty_in_transit{gt:0}",
                    "--sort=-qty_in_transit",
                    "--product-fields",
                    "hazard_class,goods_type",
                    "--format",
                    "csv",
                ])
                .output()
                .with_context(|| format!("cannot run the copy's CLI {}", cli.display()))?;
            ensure!(
                out.status.success(),
                "levels --demo failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            check_csv(&String::from_utf8_lossy(&out.stdout))
        },
    )?;
    step(
        "drill: cargo xtask drift --vendor URL names only what was left (in the copy)",
        || {
            let out = xtask_in(&["drift", "--vendor", &url])?;
            let lines = drift_lines(&out);
            // The breaking change adopt left, and the person's two extension entries,
            // which the vendor's files do not have; nothing the release added.
            let want = [
                format!(
                    "✗ {op} parameter query `filter` filterable field `qty_in_transit`: no \
                     longer filterable (its typed handle disappears)"
                ),
                format!(
                    "✗ {op} parameter query `limit`: {narrowed} (narrowed: values accepted \
                     before are refused)"
                ),
                format!(
                    "✗ {op} parameter query `sort`: sort key qty_in_transit removed (requests \
                     sorting by it are refused)"
                ),
            ];
            ensure!(
                out.status.code() == Some(1) && lines == want,
                "drift --vendor after adopt lists (exit {}):\n  {}\nnot just what was left:\n  {}",
                out.status,
                lines.join("\n  "),
                want.join("\n  ")
            );
            Ok(())
        },
    )?;
    println!(
        "\nxtask drill: the vendor's release was adopted and reached the facade, the CLI and \
         the mock, its breaking change was left, and every test and check stayed green ({:.0?})",
        started.elapsed()
    );
    Ok(())
}

/// The CSV export of the drill: the new columns are there, every row passes the filter,
/// the rows are in the sort's order, and some product has the new field.
pub fn check_csv(csv: &str) -> Result<()> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(transit), Some(hazard), Some(goods)) = (
        col("qty_in_transit"),
        col("product.hazard_class"),
        col("product.goods_type"),
    ) else {
        bail!("the CSV lacks a planted column: {header:?}");
    };
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    ensure!(rows.len() > 10, "only {} rows", rows.len());
    let values: Vec<i64> = rows
        .iter()
        .map(|r| r.get(transit).and_then(|v| v.parse().ok()).unwrap_or(-1))
        .collect();
    ensure!(
        values.iter().all(|v| *v > 0),
        "a row breaks qty_in_transit{{gt:0}}: {values:?}"
    );
    ensure!(
        values.windows(2).all(|w| w[0] >= w[1]),
        "rows are not sorted by -qty_in_transit: {values:?}"
    );
    ensure!(
        rows.iter()
            .any(|r| r.get(hazard).is_some_and(|v| !v.is_empty())),
        "no product has a hazard_class"
    );
    ensure!(
        rows.iter()
            .any(|r| r.get(goods).is_some_and(|v| v == "LIMITED_QUANTITY")),
        "no product has the new goods type"
    );
    println!(
        "   {} rows, qty_in_transit from {} down to {}, new columns present",
        rows.len(),
        values.first().copied().unwrap_or_default(),
        values.last().copied().unwrap_or_default()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `spec` with the release's additions and the person's step.
    fn all_planted(spec: &str) -> Result<String> {
        planted(&planted(spec, ADDITIONS)?, PERSON)
    }

    #[test]
    fn the_adopt_check_fails_on_a_dropped_comment_a_rewritten_line_or_more_than_the_additions() {
        let original = "a:\n  # kept\n  b: 1\n  c:\n    - x\n";
        let expected = crate::spec::parse("a: {b: 1, c: [x, y], d: {e: 1}}").unwrap();
        let good = format!(
            "a:\n  # kept\n  b: 1\n  c:\n    - x\n    - y\n  d:\n    e: 1\n    \
             x-confirmed: \"release {RELEASE}\"\n"
        );
        check_adopted(original, &good, &expected, (1, 0)).unwrap();
        let fails = |adopted: &str, notes, says: &str| {
            let err = format!(
                "{:#}",
                check_adopted(original, adopted, &expected, notes).unwrap_err()
            );
            assert!(err.contains(says), "{says}: {err}");
        };
        fails(
            &good.replace("  # kept\n", ""),
            (1, 0),
            "dropped or rewrote lines of openapi.yaml:\n    # kept",
        );
        fails(
            &good.replace("b: 1", "b: 2"),
            (1, 0),
            "dropped or rewrote lines of openapi.yaml:\n    b: 1",
        );
        fails(&format!("{good}  f: 3\n"), (1, 0), "\"f\": 3");
        fails(&good, (4, 1), "notes naming release");
    }

    #[test]
    fn every_plant_applies_to_the_spec_once() {
        let spec = fs::read_to_string(crate::root().join("openapi.yaml")).unwrap();
        if crate::root().ends_with("target/drill/workspace") {
            // The drill's own copy, planted already; the workspace runs this test.
            return;
        }
        let planted = all_planted(&spec).unwrap();
        let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(&planted).unwrap();
        assert!(facts.sort_keys.iter().any(|k| k == "qty_in_transit"));
        assert!(facts.filterable.iter().any(|f| f.name == "qty_in_transit"));
        assert!(
            facts
                .level_properties
                .iter()
                .any(|p| p.name == "qty_in_transit")
        );
        assert!(
            facts
                .product_properties
                .iter()
                .any(|p| p.name == "hazard_class")
        );
        // The release's claims carry no note of ours: adopt's `x-confirmed` notes are
        // what `cargo xtask check` asks of them.
        let parsed = crate::spec::parse(&planted).unwrap();
        let s = "/components/schemas";
        assert_eq!(
            crate::notes::unnoted_claims(&parsed),
            [
                format!("{s}/Product/properties/hazard_class: nullable"),
                format!("{s}/TotalLevel/properties/qty_in_transit: never null"),
                format!("{s}/TotalLevel/properties/qty_in_transit: format int64"),
                "GET /api/global/v1/inventory/levels/total (list_total_inventory_levels) \
                 response: status 502"
                    .into(),
            ]
        );
        // A plant whose target vanished, or that is there already, is an error, not a
        // silent no-op.
        let err = all_planted(&spec.replace("x-filterable-fields:", "x-fields:")).unwrap_err();
        assert!(
            format!("{err:#}").contains("filterable field qty_in_transit"),
            "{err:#}"
        );
        let err = all_planted(&planted).unwrap_err();
        assert!(format!("{err:#}").contains("already"), "{err:#}");
        // The rest of the spec is kept as written: only lines are added, and one rewritten.
        let kept: Vec<&str> = spec.lines().collect();
        let lines: Vec<&str> = planted.lines().collect();
        let rewritten = kept.iter().filter(|l| !lines.contains(l)).count();
        assert_eq!(rewritten, 1, "only the sort pattern's line changes");
        assert_eq!(lines.len(), kept.len() + 33);
        // The planted spec generates, with the names the drill looks for next.
        let generated = shipstream_inventory_codegen::generate(&planted).unwrap();
        for name in ["\"qty_in_transit\"", "\"hazard_class\"", "QtyInTransit"] {
            assert!(generated.api.contains(name), "{name}");
        }
        for name in ["LimitedQuantity", "HazardClass", "pub qty_in_transit"] {
            assert!(generated.code.contains(name), "{name}");
        }
    }

    /// A maintainer's ordinary API change: a new level quantity `qty_on_order`, a
    /// `TotalLevel` property (before `qty_advertised`) and a `fields` value right after
    /// `qty_advertised`.
    fn with_a_new_level_quantity(spec: &str) -> String {
        let mut out = String::new();
        for line in spec.lines() {
            let indent = &line[..line.len() - line.trim_start().len()];
            if line.trim() == "qty_advertised:" {
                out.push_str(&format!(
                    "{indent}qty_on_order:\n{indent}  type: integer\n{indent}  format: int64\n\
                     {indent}  description: Ordered from suppliers.\n"
                ));
            }
            out.push_str(line);
            out.push('\n');
            if line.trim() == "- qty_advertised" {
                out.push_str(&format!("{indent}- qty_on_order\n"));
            }
        }
        out
    }

    #[test]
    fn the_plants_survive_a_new_level_quantity_after_qty_advertised() {
        if crate::root().ends_with("target/drill/workspace") {
            return; // the drill's copy is planted already
        }
        let spec = fs::read_to_string(crate::root().join("openapi.yaml")).unwrap();
        let edited = with_a_new_level_quantity(&spec);
        assert_eq!(
            edited.matches("qty_on_order").count(),
            2,
            "the edit was made"
        );
        let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(&edited).unwrap();
        assert!(
            facts
                .level_properties
                .iter()
                .any(|p| p.name == "qty_on_order")
        );
        let planted = all_planted(&edited).unwrap();
        let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(&planted).unwrap();
        for name in ["qty_on_order", "qty_in_transit"] {
            assert!(
                facts.level_properties.iter().any(|p| p.name == name),
                "{name}"
            );
        }
        assert!(facts.sort_keys.iter().any(|k| k == "qty_in_transit"));
    }

    #[test]
    fn the_text_edit_follows_other_layouts_of_the_same_structure() {
        // Flow lists and maps, a list at its key's indent, quoted keys, comments.
        let spec = "components:\n  parameters:\n    \"Fields\":\n      name: fields\n      \
                    schema: {type: array, items: {type: string, enum: [all, qty_on_hand]}}\n    \
                    Sort:\n      name: sort\n      schema:\n        pattern: '^(?:-?(?:sku)(?:,(?!$)|$))+$'\n\
                    \x20   Filter:\n      name: filter\n      x-filterable-fields: {sku: {kind: string}}\n\
                    \x20   ProductFields:\n      name: fields:product\n      schema:\n        items:\n\
                    \x20         $ref: '#/components/schemas/ProductFieldName'\n\n  schemas:\n    \
                    ProductFieldName:\n      anyOf:\n        - type: string\n          enum:\n\
                    \x20           - id\n            # a comment\n        - type: string\n    \
                    GoodsType:\n      oneOf:\n      - type: string\n        enum:\n        - NORMAL\n      \
                    - type: string\n    TotalLevel:\n      properties:\n        sku: {type: string}\n    \
                    Product:\n      properties: {id: {type: integer}}\n";
        let planted = planted(&planted(spec, &ADDITIONS[..5]).unwrap(), PERSON).unwrap();
        let v = crate::spec::parse(&planted).unwrap();
        assert_eq!(
            v.pointer("/components/parameters/Fields/schema/items/enum")
                .unwrap(),
            &serde_json::json!(["all", "qty_on_hand", "qty_in_transit"])
        );
        assert_eq!(
            v.pointer("/components/schemas/GoodsType/oneOf/0/enum")
                .unwrap(),
            &serde_json::json!(["NORMAL", "LIMITED_QUANTITY"])
        );
        assert!(planted.contains("# a comment"));
    }

    #[test]
    fn the_csv_check_fails_for_the_reasons_it_names() {
        let good = "product.id,qty_in_transit,product.hazard_class,product.goods_type\n".to_owned()
            + &(0..12)
                .map(|i| format!("{i},{},9,LIMITED_QUANTITY\n", 100 - i))
                .collect::<String>();
        check_csv(&good).unwrap();
        let unsorted = good.replacen("100,", "1,", 1);
        assert!(
            check_csv(&unsorted)
                .unwrap_err()
                .to_string()
                .contains("sorted")
        );
        let filtered = good.replacen(",99,", ",0,", 1);
        assert!(check_csv(&filtered).is_err());
        let no_column = good.replacen("qty_in_transit", "qty_x", 1);
        assert!(
            check_csv(&no_column)
                .unwrap_err()
                .to_string()
                .contains("lacks")
        );
    }
}
