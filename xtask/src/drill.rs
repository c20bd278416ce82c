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
use serde_json::Value;

use crate::{run, step};

mod breaking;
pub use breaking::run as run_breaking;

/// Makes the copy a git repository whose one commit is tagged as the release of the
/// workspace's version (`v{version}`), so `semver` and `changelog` have a release to judge
/// against; returns the version.
pub fn release_repo(copy: &Path) -> Result<String> {
    let manifest: toml_edit::DocumentMut = fs::read_to_string(copy.join("Cargo.toml"))?.parse()?;
    let version = manifest["workspace"]["package"]["version"]
        .as_str()
        .context("the workspace has no [workspace.package] version")?
        .to_owned();
    let git = |args: &[&str]| {
        run(Command::new("git")
            .args(["-c", "user.name=drill", "-c", "user.email=drill@localhost"])
            .args(args)
            .current_dir(copy))
    };
    git(&["init", "--quiet", "--initial-branch=main"])?;
    git(&["add", "--all"])?;
    git(&[
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        "the release before the drill's change",
    ])?;
    git(&["tag", &format!("v{version}")])?;
    Ok(version)
}

/// Where a plant goes, named by the spec's structure (component and parameter names), so
/// that any valid edit of the spec around it leaves the plant working.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// The `properties` of a component schema.
    Properties(&'static str),
    /// The `schema.items.enum` of the component parameter with this `name` (a list of
    /// accepted values, such as `fields`).
    ParamValues(&'static str),
    /// The `x-filterable-fields` map of the component parameter with this `name`.
    FilterableFields(&'static str),
    /// The `schema.pattern` of the component parameter with this `name` (the `sort`
    /// pattern, whose last group lists the sort keys).
    SortPattern(&'static str),
    /// The `enum` of a component schema, or of the first `anyOf`/`oneOf` member that has one
    /// (an open enum).
    SchemaEnum(&'static str),
}

/// What a plant adds at its [`Target`].
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// A new map entry: its key and its value as YAML text.
    Entry(&'static str, &'static str),
    /// A new value at the end of a list (YAML text).
    Value(&'static str),
    /// A new key at the end of the `sort` pattern's list of keys.
    SortKey(&'static str),
}

/// One planted change.
#[derive(Debug, Clone, Copy)]
pub struct Plant {
    /// What the change is.
    pub what: &'static str,
    /// Where it goes.
    pub target: Target,
    /// What it adds.
    pub change: Change,
}

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

/// `spec` with every plant applied. Each plant is found by structure (see [`Target`]) in
/// the parsed spec, and added there; the text is edited only by appending lines to the
/// block it names (or rewriting the one-line value it names), so the rest of the spec stays
/// as written. The result must parse to exactly the structurally edited spec; a target that
/// is missing, a value that is there already, or a layout the text edit cannot follow is
/// an error naming the plant.
pub fn planted(spec: &str) -> Result<String> {
    let mut out = spec.to_owned();
    for p in PLANTS {
        out = plant(&out, p).with_context(|| format!("drill plant `{}`", p.what))?;
    }
    Ok(out)
}

/// One step of a path into the spec.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_owned())
}

fn get<'a>(mut v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.get(k)?,
            Seg::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

fn get_mut<'a>(mut v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.get_mut(k)?,
            Seg::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

/// The path of a plant's target in `spec`.
fn target_path(spec: &Value, target: Target) -> Result<Vec<Seg>> {
    let param = |name: &str| -> Result<Vec<Seg>> {
        let params = spec
            .pointer("/components/parameters")
            .and_then(Value::as_object)
            .context("the spec has no components.parameters")?;
        let k = params
            .iter()
            .find(|(_, p)| p.get("name").and_then(Value::as_str) == Some(name))
            .map(|(k, _)| k)
            .with_context(|| format!("components.parameters has no parameter named `{name}`"))?;
        Ok(vec![key("components"), key("parameters"), key(k)])
    };
    let schema = |name: &str| vec![key("components"), key("schemas"), key(name)];
    let path = match target {
        Target::Properties(s) => [schema(s), vec![key("properties")]].concat(),
        Target::ParamValues(p) => {
            [param(p)?, vec![key("schema"), key("items"), key("enum")]].concat()
        }
        Target::FilterableFields(p) => [param(p)?, vec![key("x-filterable-fields")]].concat(),
        Target::SortPattern(p) => [param(p)?, vec![key("schema"), key("pattern")]].concat(),
        Target::SchemaEnum(s) => {
            let base = schema(s);
            let node = get(spec, &base).with_context(|| format!("no component schema `{s}`"))?;
            if node.get("enum").is_some() {
                [base, vec![key("enum")]].concat()
            } else {
                let (list, i) = ["anyOf", "oneOf"]
                    .iter()
                    .find_map(|list| {
                        let members = node.get(*list)?.as_array()?;
                        let i = members.iter().position(|m| m.get("enum").is_some())?;
                        Some((*list, i))
                    })
                    .with_context(|| {
                        format!("component schema `{s}` has no enum (nor an anyOf/oneOf member with one)")
                    })?;
                [base, vec![key(list), Seg::Index(i), key("enum")]].concat()
            }
        }
    };
    ensure!(
        get(spec, &path).is_some(),
        "the spec has nothing at {}",
        show(&path)
    );
    Ok(path)
}

fn show(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The end of the sort pattern (codegen's `sort_keys` reads the keys before it).
const SORT_CLOSE: &str = ")(?:,(?!$)|$))+$";

/// Applies one plant to the spec text.
fn plant(text: &str, p: &Plant) -> Result<String> {
    let spec = crate::spec::parse(text)?;
    let path = target_path(&spec, p.target)?;
    let mut expected = spec.clone();
    let node = get_mut(&mut expected, &path).context("unreachable: the path was found")?;
    let at = show(&path);
    let added: Option<Value> = match p.change {
        Change::Entry(k, yaml) => {
            let value = crate::spec::parse(yaml)?;
            let map = node
                .as_object_mut()
                .with_context(|| format!("{at} is not a map"))?;
            ensure!(!map.contains_key(k), "{at} has `{k}` already");
            map.insert(k.to_owned(), value.clone());
            Some(Value::Object([(k.to_owned(), value)].into_iter().collect()))
        }
        Change::Value(yaml) => {
            let value = crate::spec::parse(yaml)?;
            let list = node
                .as_array_mut()
                .with_context(|| format!("{at} is not a list"))?;
            ensure!(!list.contains(&value), "{at} has {value} already");
            list.push(value.clone());
            Some(Value::Array(vec![value]))
        }
        Change::SortKey(k) => {
            let pattern = node
                .as_str()
                .with_context(|| format!("{at} is not a string"))?;
            let keys = shipstream_inventory_codegen::facts::sort_keys(pattern)?;
            ensure!(
                !keys.iter().any(|x| x == k),
                "{at} has the key `{k}` already"
            );
            let head = pattern
                .strip_suffix(SORT_CLOSE)
                .with_context(|| format!("{at} does not end in `{SORT_CLOSE}`"))?;
            let new = format!("{head}|{k}{SORT_CLOSE}");
            let new_keys = shipstream_inventory_codegen::facts::sort_keys(&new)?;
            ensure!(
                new_keys == [keys, vec![k.to_owned()]].concat(),
                "adding `{k}` to {at} did not give the keys expected: {new_keys:?}"
            );
            *node = Value::String(new);
            None
        }
    };
    let out = edit_text(text, &path, added.as_ref(), &expected)
        .with_context(|| format!("cannot edit the text at {at}"))?;
    ensure!(
        crate::spec::parse(&out).ok().as_ref() == Some(&expected),
        "the edited text at {at} does not parse to the planted spec (a layout the drill \
         cannot edit; see xtask/src/drill.rs `edit_text`)"
    );
    Ok(out)
}

/// A node of the spec text: the line of its key (or list dash), where its value starts on
/// that line when it is written there (`key: value`, `key: {flow}`), and the lines of its
/// block.
#[derive(Debug)]
struct Found {
    line: usize,
    inline: Option<usize>,
    body: std::ops::Range<usize>,
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Neither blank nor a comment.
fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The key of a `key: ...` line (plain, "double" or 'single' quoted) and the byte offset
/// just after its colon.
fn key_of(t: &str) -> Option<(String, usize)> {
    let (k, after) = if let Some(q @ ('"' | '\'')) = t.chars().next() {
        let close = t[1..].find(q)? + 1;
        (t[1..close].to_owned(), close + 1)
    } else {
        let colon = t.find(": ").or_else(|| t.strip_suffix(':').map(str::len))?;
        (t[..colon].trim_end().to_owned(), colon)
    };
    t[after..].starts_with(':').then_some((k, after + 1))
}

/// Finds `path` in block-style YAML `lines`, or the node written on one line that holds it;
/// returns the node and how many steps of `path` lead to it. Lists are entered by turning
/// an item's dash into a space in `lines` (a working copy), so its first key lines up with
/// the others.
fn locate(lines: &mut [String], path: &[Seg]) -> Result<(Found, usize)> {
    let mut found = Found {
        line: 0,
        inline: None,
        body: 0..lines.len(),
    };
    for (depth, seg) in path.iter().enumerate() {
        if found.inline.is_some() {
            return Ok((found, depth));
        }
        let body = found.body.clone();
        let first = body
            .clone()
            .find(|&i| is_content(&lines[i]))
            .context("an empty block")?;
        let ci = indent_of(&lines[first]);
        let at_ci = |l: &str| is_content(l) && indent_of(l) == ci;
        found = match seg {
            Seg::Key(k) => {
                let (line, after) = body
                    .clone()
                    .filter(|&i| at_ci(&lines[i]))
                    .find_map(|i| match key_of(&lines[i][ci..]) {
                        Some((key, after)) if key == *k => Some((i, ci + after)),
                        _ => None,
                    })
                    .with_context(|| format!("no line `{k}:`"))?;
                let rest = &lines[line][after..];
                let inline = (is_content(rest)).then(|| after + indent_of(rest));
                let next = (line + 1..body.end).find(|&i| is_content(&lines[i]));
                // A block list may stand at its key's own indent (`key:\n- a`).
                let same_indent_list = inline.is_none()
                    && next.is_some_and(|i| at_ci(&lines[i]) && lines[i][ci..].starts_with('-'));
                let end = (line + 1..body.end)
                    .find(|&i| {
                        is_content(&lines[i])
                            && (indent_of(&lines[i]) < ci
                                || (indent_of(&lines[i]) == ci
                                    && !(same_indent_list && lines[i][ci..].starts_with('-'))))
                    })
                    .unwrap_or(body.end);
                Found {
                    line,
                    inline,
                    body: line + 1..end,
                }
            }
            Seg::Index(n) => {
                let dashes: Vec<usize> = body
                    .clone()
                    .filter(|&i| at_ci(&lines[i]) && lines[i][ci..].starts_with('-'))
                    .collect();
                let &line = dashes.get(*n).with_context(|| format!("no item {n}"))?;
                let end = dashes.get(n + 1).copied().unwrap_or(body.end);
                lines[line].replace_range(ci..ci + 1, " ");
                Found {
                    line,
                    inline: None,
                    body: line..end,
                }
            }
        };
    }
    Ok((found, path.len()))
}

/// `text` with `added` (a one-entry map or a one-item list) appended to the block at
/// `path`, or, when that node (or one holding it) is written on its key's line, that value
/// replaced by its value in `expected` as JSON (which YAML reads as a flow value).
fn edit_text(text: &str, path: &[Seg], added: Option<&Value>, expected: &Value) -> Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut view = lines.clone();
    let (found, depth) = locate(&mut view, path)?;
    match (found.inline, added) {
        (Some(col), _) => {
            let new = get(expected, &path[..depth]).context("unreachable: the path was found")?;
            lines[found.line].replace_range(col.., &serde_json::to_string(new)?);
        }
        (None, Some(added)) => {
            let last = found
                .body
                .clone()
                .rev()
                .find(|&i| is_content(&view[i]))
                .context("an empty block")?;
            let first = found
                .body
                .clone()
                .find(|&i| is_content(&view[i]))
                .context("an empty block")?;
            let mut new = Vec::new();
            render(added, indent_of(&view[first]), &mut new);
            lines.splice(last + 1..last + 1, new);
        }
        (None, None) => bail!("a block where a one-line value was expected"),
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Block YAML for the entries of a map or the items of a list, at `indent`; scalars as
/// JSON (valid YAML).
fn render(value: &Value, indent: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    let nested = |v: &Value| match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let k = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    k.clone()
                } else {
                    Value::String(k.clone()).to_string()
                };
                if nested(v) {
                    out.push(format!("{pad}{k}:"));
                    render(v, indent + 2, out);
                } else {
                    out.push(format!("{pad}{k}: {v}"));
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                if nested(v) {
                    out.push(format!("{pad}-"));
                    render(v, indent + 2, out);
                } else {
                    out.push(format!("{pad}- {v}"));
                }
            }
        }
        scalar => out.push(format!("{pad}{scalar}")),
    }
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
    // A timeout, so that a test that would wait forever fails instead.
    let limit = std::time::Duration::from_secs(300);
    tokio::time::timeout(limit, async {
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
    })
    .await
    .expect("the test finished within 300 s");
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

/// Where both drills build the rustdoc JSON of their copy's release (the same sources for
/// both, so one folder compiles its dependencies once): `target/drill/semver-base`.
pub fn semver_base_target(root: &Path) -> PathBuf {
    root.join("target/drill/semver-base")
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
            let targets = crate::semver_judge::Targets {
                current: copy.target.clone(),
                base: semver_base_target(root),
            };
            let outcome = crate::semver_judge::judge(&copy.root, None, &targets)?;
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
        "drill: every test of the workspace (in the copy, with the probe)",
        || {
            // The soaks at a fifth of their size: they run whole in `cargo test`; here they
            // only have to carry the planted fields.
            crate::test_workspace(
                |args| {
                    let mut c = cargo_in(args);
                    c.env("SOAK_LEVELS", "20000").env("SOAK_SYNC_SECS", "8");
                    c
                },
                &[],
            )
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
    step("drill: cargo xtask check (on the copy)", || {
        // This xtask's own check, run on the copy: the copy's xtask is the same code, and
        // building it there cost a minute of CI.
        crate::check::run(&crate::check::Options {
            target_dir: Some(copy.target.clone()),
            ..crate::check::Options::new(&copy.root)
        })
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
