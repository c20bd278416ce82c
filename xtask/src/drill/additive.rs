//! `cargo xtask drill`: the additive drill proves that an API change is an edit of `openapi.yaml` and
//! `cargo xtask generate`, nothing else.
//!
//! In a copy of the workspace (the files git tracks, as they are in the working tree) it
//! plants, in `openapi.yaml` only:
//! - an optional level quantity `qty_in_transit` (a `TotalLevel` property, a `fields`
//!   value, an integer in `x-filterable-fields`, a sort key);
//! - a nullable product field `hazard_class` (a `Product` property and a `fields:product`
//!   value);
//! - a goods type `LIMITED_QUANTITY`;
//!
//! then runs `cargo xtask generate` and proves, in the copy, that:
//! - the facade has `fields::QTY_IN_TRANSIT.gt(0)`, `LevelField::QtyInTransit`,
//!   `ProductField::HazardClass`, `SortField::QtyInTransit` and `GoodsType::LimitedQuantity`,
//!   and the mock serves, filters and sorts the new names (a probe test added to the copy);
//! - the CLI filters, sorts and exports the new columns against `levels --demo`;
//! - the workspace's tests stay green, the repository's property tests among them
//!   (`xtask/tests/repo.rs` and `spec_reachability`, what `cargo xtask check` runs); only
//!   the timing-sensitive group is left to the workspace's own test step.
//!
//! The copy lives in `target/drill/workspace/` and builds into `target/drill/target/`
//! (kept between runs, so a second drill compiles only what changed; its own directory,
//! because cargo names a workspace crate's artifacts after its path relative to the
//! workspace root, and the copy's would replace the workspace's). Nothing of the real
//! workspace is touched.

use std::{fs, path::Path, time::Instant};

use anyhow::{Context, Result, bail, ensure};

use super::{
    Copy, copy_workspace,
    plant::{Change, Plant, Target},
    release_repo, semver_target,
};
use crate::{run, step};

/// The API changes the drill plants, each as a spec edit.
pub const PLANTS: &[Plant] = &[
    Plant {
        what: "level property qty_in_transit",
        target: Target::Properties("TotalLevel"),
        change: Change::Entry(
            "qty_in_transit",
            "{type: integer, format: int64, description: Shipped between warehouses and not yet \
             received., x-confirmed: \"planted as if https://docs.shipstream.io said so\"}",
        ),
    },
    Plant {
        what: "`fields` value qty_in_transit",
        target: Target::ParamValues("fields"),
        change: Change::Value("qty_in_transit"),
    },
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
    Plant {
        what: "product property hazard_class",
        target: Target::Properties("Product"),
        change: Change::Entry(
            "hazard_class",
            "{type: string, nullable: true, description: The hazard class of regulated goods., \
             example: \"9\", x-confirmed: \"planted as if https://docs.shipstream.io said so\"}",
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
];

/// `spec` with the additive drill's [`PLANTS`] applied.
pub fn planted(spec: &str) -> Result<String> {
    super::plant::planted(spec, PLANTS)
}

/// The probe test added to the copy's facade crate: it only compiles if the facade has the
/// new handles, and it checks the mock serves, filters and sorts the new fields.
const PROBE: &str = include_str!("../../fixtures/drill/drill_probe.rs");

/// `cargo xtask drill`, building the copy of the workspace in `target` (see
/// [`own_target_dir`](super::own_target_dir)).
pub fn run_drill(root: &Path, target: &Path) -> Result<()> {
    let started = Instant::now();
    let copy = Copy {
        root: root.join("target/drill/workspace"),
        target: target.to_path_buf(),
    };
    let cargo_in = |args: &[&str]| super::cargo_in(&copy.root, &copy.target, args);

    step(
        "drill: copy the workspace and plant API changes in openapi.yaml",
        || {
            copy_workspace(root, &copy.root)?;
            let version = release_repo(&copy.root)?;
            println!("   the copy is a git repository tagged v{version}");
            let spec_path = copy.root.join("openapi.yaml");
            let spec = fs::read_to_string(&spec_path)?;
            fs::write(&spec_path, planted(&spec)?)?;
            for p in PLANTS {
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
            // kills): they run whole in the workspace's own test step, and an added field
            // does not reach their timing; every other test reads the planted fields.
            crate::test_workspace(
                |c| super::in_dir(c, &copy.root, &copy.target),
                &[],
                Some("not group(serial)"),
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
    println!(
        "\nxtask drill: the planted API changes reached the facade, the CLI and the mock, and \
         every test and check stayed green ({:.0?})",
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

    #[test]
    fn every_plant_applies_to_the_spec_once() {
        let spec = fs::read_to_string(crate::root().join("openapi.yaml")).unwrap();
        if crate::root().ends_with("target/drill/workspace") {
            // The drill's own copy, planted already; the workspace runs this test.
            return;
        }
        let planted = planted(&spec).unwrap();
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
        // Each planted claim carries its own note; without them the check names each.
        let mut parsed = crate::spec::parse(&planted).unwrap();
        assert_eq!(crate::notes::unnoted_claims(&parsed), Vec::<String>::new());
        for p in [
            "TotalLevel/properties/qty_in_transit",
            "Product/properties/hazard_class",
        ] {
            let node = parsed
                .pointer_mut(&format!("/components/schemas/{p}"))
                .unwrap();
            node.as_object_mut().unwrap().remove("x-confirmed").unwrap();
        }
        let s = "/components/schemas";
        assert_eq!(
            crate::notes::unnoted_claims(&parsed),
            [
                format!("{s}/Product/properties/hazard_class: nullable"),
                format!("{s}/TotalLevel/properties/qty_in_transit: never null"),
                format!("{s}/TotalLevel/properties/qty_in_transit: format int64"),
            ]
        );
        // A plant whose target vanished, or that is there already, is an error, not a
        // silent no-op.
        let err = super::planted(&spec.replace("x-filterable-fields:", "x-fields:")).unwrap_err();
        assert!(
            format!("{err:#}").contains("filterable field qty_in_transit"),
            "{err:#}"
        );
        let err = super::planted(&planted).unwrap_err();
        assert!(format!("{err:#}").contains("already"), "{err:#}");
        // The rest of the spec is kept as written: only lines are added, and one rewritten.
        let kept: Vec<&str> = spec.lines().collect();
        let lines: Vec<&str> = planted.lines().collect();
        let rewritten = kept.iter().filter(|l| !lines.contains(l)).count();
        assert_eq!(rewritten, 1, "only the sort pattern's line changes");
        assert_eq!(lines.len(), kept.len() + 18);
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
        let planted = planted(&edited).unwrap();
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
        let planted = planted(spec).unwrap();
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
