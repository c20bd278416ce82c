//! `cargo xtask drill`: proves that an API change is an edit of `openapi.yaml` and
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
//! - `cargo test --workspace` and `cargo xtask check` stay green.
//!
//! The copy lives in `target/drill/workspace/` and builds into `target/drill/target/`
//! (kept between runs, so a second drill compiles only what changed; its own directory,
//! because cargo names a workspace crate's artifacts after its path relative to the
//! workspace root, and the copy's would replace the workspace's). Nothing of the real
//! workspace is touched.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, Result, bail, ensure};

use crate::{run, step};

/// One planted change: `from` (found exactly once in the spec) becomes `to`.
#[derive(Debug, Clone, Copy)]
pub struct Plant {
    /// What the change is.
    pub what: &'static str,
    /// The spec text it replaces.
    pub from: &'static str,
    /// The replacement.
    pub to: &'static str,
}

/// The API changes the drill plants, each as a spec edit.
pub const PLANTS: &[Plant] = &[
    Plant {
        what: "level property qty_in_transit",
        from: "        qty_advertised:\n          type: integer\n",
        to: "        qty_in_transit:\n          type: integer\n          format: int64\n          \
             description: Shipped between warehouses and not yet received.\n        \
             qty_advertised:\n          type: integer\n",
    },
    Plant {
        what: "`fields` value qty_in_transit",
        from: "            - qty_advertised\n            - updated_at\n    ProductFields:",
        to: "            - qty_advertised\n            - updated_at\n            - qty_in_transit\n    \
             ProductFields:",
    },
    Plant {
        what: "filterable field qty_in_transit",
        from: "        qty_advertised: {kind: integer,",
        to: "        qty_in_transit: {kind: integer, group: inventory, description: Quantity \
             between warehouses.}\n        qty_advertised: {kind: integer,",
    },
    Plant {
        what: "sort key qty_in_transit (one line of the spec)",
        from: "(?:product_id|sku|updated_at)",
        to: "(?:product_id|sku|updated_at|qty_in_transit)",
    },
    Plant {
        what: "product property hazard_class",
        from: "        merchant:\n          $ref: \"#/components/schemas/ObjectRef\"\n        created_at:",
        to: "        hazard_class:\n          type: string\n          nullable: true\n          \
             description: The hazard class of regulated goods.\n          example: \"9\"\n        \
             merchant:\n          $ref: \"#/components/schemas/ObjectRef\"\n        created_at:",
    },
    Plant {
        what: "`fields:product` value hazard_class",
        from: "            - custom_fields\n            - merchant\n",
        to: "            - custom_fields\n            - hazard_class\n            - merchant\n",
    },
    Plant {
        what: "goods type LIMITED_QUANTITY",
        from: "          enum:\n            - NORMAL\n",
        to: "          enum:\n            - NORMAL\n            - LIMITED_QUANTITY\n",
    },
];

/// `spec` with every plant applied; fails when a plant's text is not found exactly once
/// (the spec changed shape: update the plant).
pub fn planted(spec: &str) -> Result<String> {
    let mut out = spec.to_owned();
    for p in PLANTS {
        let n = out.matches(p.from).count();
        ensure!(
            n == 1,
            "drill plant `{}`: its text is found {n} times in openapi.yaml (expected once); \
             update xtask/src/drill.rs",
            p.what
        );
        out = out.replacen(p.from, p.to, 1);
    }
    Ok(out)
}

/// The probe test added to the copy's facade crate: it only compiles if the facade has the
/// new handles, and it checks the mock serves, filters and sorts the new fields.
const PROBE: &str = r#"//! Added by `cargo xtask drill` to a copy of the workspace.
#![allow(clippy::unwrap_used)]
use futures::TryStreamExt as _;
use shipstream_inventory::{Client, LevelField, ProductField, Sort, SortField, fields, types::GoodsType};
use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};

#[tokio::test]
async fn the_planted_api_changes_reach_the_facade_and_the_mock() {
    let server = MockServer::start(MockConfig::default().dataset(Dataset::generate(400, 3)))
        .await
        .unwrap();
    let client = Client::builder().base_url(server.base_url()).token(server.token()).build().unwrap();
    let items: Vec<_> = client
        .total_levels()
        .filter(fields::QTY_IN_TRANSIT.gt(0))
        .sort(Sort::asc(SortField::QtyInTransit))
        .fields([LevelField::QtyInTransit])
        .product_fields([ProductField::HazardClass, ProductField::GoodsType])
        .page_size(50)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(items.len() > 10, "{}", items.len());
    let transit: Vec<i64> = items.iter().map(|i| i.level.qty_in_transit.unwrap()).collect();
    assert!(transit.iter().all(|q| *q > 0), "the filter holds");
    assert!(transit.windows(2).all(|w| w[0] <= w[1]), "the sort holds");
    let products: Vec<_> = items.iter().map(|i| i.product.as_ref().unwrap()).collect();
    assert!(products.iter().any(|p| p.hazard_class.is_some()));
    assert!(products.iter().any(|p| p.goods_type == Some(GoodsType::LimitedQuantity)));
    server.shutdown().await;
}
"#;

/// The copy of the workspace the drill works in, and its target directory.
#[derive(Debug)]
pub struct Copy {
    /// The copy's root.
    pub root: PathBuf,
    /// Where it builds.
    pub target: PathBuf,
}

/// Copies the files git tracks (as in the working tree; symlinks kept) to `dest`.
pub fn copy_workspace(root: &Path, dest: &Path) -> Result<()> {
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .context("git ls-files failed (the drill copies what git tracks)")?;
    ensure!(out.status.success(), "git ls-files failed");
    if dest.exists() {
        fs::remove_dir_all(dest).with_context(|| format!("cannot clear {}", dest.display()))?;
    }
    for rel in out.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).context("a non-UTF-8 path")?);
        let from = root.join(rel);
        let to = dest.join(rel);
        let Ok(meta) = fs::symlink_metadata(&from) else {
            continue; // deleted in the working tree
        };
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        if meta.file_type().is_symlink() {
            let link = fs::read_link(&from)?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(&link, &to)?;
            #[cfg(not(unix))]
            fs::copy(&from, &to)?;
        } else {
            fs::copy(&from, &to).with_context(|| format!("cannot copy {}", from.display()))?;
        }
    }
    Ok(())
}

/// The drill's own target folder, `target/drill/target`.
///
/// Cargo names a workspace crate's artifacts after its path relative to the workspace
/// root, so in a shared target folder the copy's crates would replace the workspace's (and
/// a later build of the workspace could take the drilled ones as up to date). `cargo xtask
/// ci` on a CI machine shares the workspace's folder all the same, once nothing after the
/// drill builds the workspace: the dependencies are then compiled once.
pub fn own_target_dir(root: &Path) -> PathBuf {
    root.join("target/drill/target")
}

/// `cargo xtask drill`, building the copy of the workspace in `target` (see
/// [`own_target_dir`]).
pub fn run_drill(root: &Path, target: &Path) -> Result<()> {
    let started = Instant::now();
    let copy = Copy {
        root: root.join("target/drill/workspace"),
        target: target.to_path_buf(),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cargo_in = |args: &[&str]| {
        let mut c = Command::new(&cargo);
        c.args(args)
            .current_dir(&copy.root)
            .env("CARGO_TARGET_DIR", &copy.target)
            .env_remove("CARGO_MANIFEST_DIR");
        c
    };

    step(
        "drill: copy the workspace and plant API changes in openapi.yaml",
        || {
            copy_workspace(root, &copy.root)?;
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
        "drill: cargo test --workspace (in the copy, with the probe)",
        || {
            run(&mut cargo_in(&[
                "test",
                "--workspace",
                "--quiet",
                "--no-fail-fast",
            ]))
        },
    )?;
    step(
        "drill: the CLI filters, sorts and exports the new fields (levels --demo)",
        || {
            let out = cargo_in(&[
                "run",
                "--quiet",
                "-p",
                "shipstream-inventory-cli",
                "--",
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
            .context("cannot run the copy's CLI")?;
            ensure!(
                out.status.success(),
                "levels --demo failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            check_csv(&String::from_utf8_lossy(&out.stdout))
        },
    )?;
    step("drill: cargo xtask check (in the copy)", || {
        run(&mut cargo_in(&[
            "run", "--quiet", "-p", "xtask", "--", "check",
        ]))
    })?;
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
        // A plant whose text vanished is an error, not a silent no-op.
        assert!(super::planted(&spec.replace("qty_advertised", "qty_x")).is_err());
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
