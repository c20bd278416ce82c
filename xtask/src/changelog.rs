//! `cargo xtask changelog`: the API part of `CHANGELOG.md`'s `Unreleased` section, written
//! from the spec diff against the last release (the tag `v*`).
//!
//! The block between [`BEGIN`] and [`END`] is generated: each spec change in words, the
//! Rust items it touches and, for a breaking one, what to change in calling code. Entries
//! about hand-written code go outside the block. `cargo xtask check` fails when the block
//! differs from what this command would write. Before the first release tag there is no
//! release to compare with: the block says so and lists nothing.

use std::{collections::BTreeMap, fs, path::Path};

use anyhow::{Context, Result, bail};

use crate::specdiff::{self, Change, Report, Severity, Subject, items};

/// The changelog file at the workspace root.
pub const FILE: &str = "CHANGELOG.md";
/// The line opening the generated block.
pub const BEGIN: &str = "<!-- spec-changes:begin (cargo xtask changelog writes this block) -->";
/// The line closing the generated block.
pub const END: &str = "<!-- spec-changes:end -->";

/// The generated block (without the markers) for the working tree's spec.
pub fn block(root: &Path) -> Result<String> {
    let Some(tag) = specdiff::release_tag(root) else {
        let current = crate::spec::load(&root.join("openapi.yaml"))?;
        let version = current
            .pointer("/info/version")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        return Ok(format!(
            "No release yet: the first release describes API version {version} as \
             openapi.yaml does; later spec changes are listed here against the last release tag.\n"
        ));
    };
    let Some((report, cx)) = specdiff::against_revision(root, &tag)? else {
        bail!("openapi.yaml is missing at {tag}");
    };
    Ok(render(&tag, &report, &cx))
}

/// Renders a report as Keep a Changelog sections.
pub fn render(tag: &str, report: &Report, cx: &items::Context) -> String {
    if report.changes.is_empty() {
        return format!("No change to the API since {tag}.\n");
    }
    let mut sections: BTreeMap<usize, (&str, Vec<String>)> = BTreeMap::new();
    for c in &report.changes {
        let (order, title) = section(c);
        let entry = entry(c, report, cx);
        sections
            .entry(order)
            .or_insert((title, Vec::new()))
            .1
            .push(entry);
    }
    let mut out = format!("API changes since {tag} (from openapi.yaml):\n");
    for (_, (title, entries)) in sections {
        out.push_str(&format!("\n### {title}\n\n"));
        for e in entries {
            out.push_str(&format!("- {e}\n"));
        }
    }
    out
}

/// Keep a Changelog's section for a change, with its position.
fn section(c: &Change) -> (usize, &'static str) {
    match c.severity {
        Severity::Addition => (0, "Added"),
        Severity::Breaking if c.removes_item => (3, "Removed"),
        Severity::Breaking | Severity::Warning => (1, "Changed"),
        Severity::Deprecation => (2, "Deprecated"),
    }
}

fn entry(c: &Change, report: &Report, cx: &items::Context) -> String {
    let items = items::rust_items(c, cx);
    let mut e = String::new();
    if c.severity == Severity::Breaking {
        e.push_str("**Breaking.** ");
    }
    e.push_str(&format!("{}: {}.", place(&c.location), c.message));
    if !items.is_empty() {
        e.push_str(&format!(" Rust: {}.", code_list(items.iter())));
    }
    if c.severity == Severity::Breaking || c.rust == specdiff::Bump::Major {
        e.push_str(&format!(" Migrate: {}", migration(c, report, cx, &items)));
    }
    e
}

/// Where a change is, for a reader: the operation's label dropped (the workspace has one),
/// in code style unless it already quotes its names.
fn place(location: &str) -> String {
    let short = match location.find(") ") {
        Some(i)
            if location.starts_with(|c: char| c.is_ascii_uppercase())
                && location.contains(" /") =>
        {
            &location[i + 2..]
        }
        _ => location,
    };
    if short.contains('`') {
        short.to_owned()
    } else {
        format!("`{short}`")
    }
}

/// What to change in calling code.
fn migration(c: &Change, report: &Report, cx: &items::Context, items: &[String]) -> String {
    match &c.subject {
        Subject::Version { from, to } => format!(
            "requests now send `X-ShipStream-API-Version: {to}`; to stay on {from} while the \
             server still serves it, set `ClientBuilder::api_version(\"{from}\")` or \
             `SHIPSTREAM_API_VERSION={from}`."
        ),
        Subject::Property { schema, name } if c.removes_item => {
            // A property added to the same schema in the same release may be its new name.
            let added: Vec<String> = report
                .changes
                .iter()
                .filter(|o| o.severity == Severity::Addition)
                .filter_map(|o| match &o.subject {
                    Subject::Property { schema: s, name: n } if s == schema && n != name => {
                        Some(n.clone())
                    }
                    _ => None,
                })
                .collect();
            let used = code_list(items.iter());
            if added.is_empty() {
                format!("remove uses of {used}; the API no longer sends `{name}`.")
            } else {
                let candidates = code_list(added.iter().flat_map(|n| {
                    items::rust_items(
                        &Change {
                            subject: Subject::Property {
                                schema: schema.clone(),
                                name: n.clone(),
                            },
                            ..c.clone()
                        },
                        cx,
                    )
                    .into_iter()
                    .take(1)
                }));
                format!(
                    "replace uses of {used}; if it was renamed, its new name is among {candidates}."
                )
            }
        }
        _ if c.removes_item && !items.is_empty() => {
            format!("replace or remove uses of {}.", code_list(items.iter()))
        }
        Subject::Parameter(name) => {
            format!("check the values your code sends for `{name}` against the new description.")
        }
        _ => "review the code that reads or sends it.".to_owned(),
    }
}

/// Rust items in code style, comma-separated.
fn code_list<S: std::fmt::Display>(items: impl Iterator<Item = S>) -> String {
    items
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The generated block of a changelog's text, if it has one.
pub fn current_block(text: &str) -> Option<&str> {
    Some(text[crate::between(text, BEGIN, END)?].trim_matches('\n'))
}

/// Writes the block into `CHANGELOG.md` (creating the file when missing).
pub fn run(root: &Path) -> Result<()> {
    let block = block(root)?;
    let path = root.join(FILE);
    let mut text = fs::read_to_string(&path).unwrap_or_else(|_| skeleton());
    let Some(range) = crate::between(&text, BEGIN, END) else {
        bail!("{FILE} needs a `{BEGIN}` line, then `{END}`, under `## [Unreleased]`");
    };
    text.replace_range(range, &format!("\n{}\n", block.trim_end_matches('\n')));
    fs::write(&path, text)?;
    println!("changelog: wrote the API changes into {FILE}");
    print!("{block}");
    Ok(())
}

/// Fails when `CHANGELOG.md`'s block differs from what [`run`] would write.
pub fn verify(root: &Path) -> Result<()> {
    let path = root.join(FILE);
    let text = fs::read_to_string(&path).with_context(|| format!("cannot read {FILE}"))?;
    let want = block(root)?;
    match current_block(&text) {
        Some(have) if have == want.trim_matches('\n') => Ok(()),
        Some(have) => bail!(
            "{FILE}'s Unreleased API changes do not match the spec diff (fix: cargo xtask \
             changelog)\n{}",
            similar::TextDiff::from_lines(have, want.trim_matches('\n'))
                .unified_diff()
                .header("CHANGELOG.md", "cargo xtask changelog")
        ),
        None => bail!("{FILE} has no generated block ({BEGIN} … {END}); run cargo xtask changelog"),
    }
}

fn skeleton() -> String {
    format!(
        "# Changelog\n\nAll notable changes to the published crates. The format follows \
         [Keep a Changelog](https://keepachangelog.com/en/1.1.0/) and the versions \
         [Semantic Versioning](https://semver.org/) as Cargo reads it (`cargo xtask semver`).\n\n\
         ## [Unreleased]\n\n{BEGIN}\n{END}\n"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn spec() -> serde_json::Value {
        crate::spec::parse(include_str!("../../openapi.yaml")).unwrap()
    }

    #[test]
    fn a_rename_is_removed_and_added_with_a_hint_and_every_section_is_kept() {
        let old = spec();
        let mut new = spec();
        let props = new["components"]["schemas"]["TotalLevel"]["properties"]
            .as_object_mut()
            .unwrap();
        let picked = props.remove("qty_picked").unwrap();
        props.insert("qty_picked_unpacked".into(), picked);
        new["components"]["parameters"]["Sort"]["schema"]["x-deprecated-values"] =
            json!({"sku": "sort by product_id"});
        new["components"]["parameters"]["Limit"]["schema"]["maximum"] = json!(500);
        let report = specdiff::compare(&old, &new);
        let text = render("v0.1.0", &report, &items::Context::of(&old, &new));
        assert_eq!(
            text,
            "API changes since v0.1.0 (from openapi.yaml):\n\
             \n### Added\n\n\
             - `TotalLevel.qty_picked_unpacked`: new property. Rust: `types::TotalLevel::qty_picked_unpacked`, `types::builder::TotalLevel::qty_picked_unpacked()`.\n\
             \n### Changed\n\n\
             - **Breaking.** parameter query `limit`: maximum changed from 1000 to 500 (narrowed: values accepted before are refused). Rust: `api::params::LIMIT`, `builder::ListTotalInventoryLevels::limit()`. Migrate: check the values your code sends for `limit` against the new description.\n\
             \n### Deprecated\n\n\
             - parameter query `sort`: value sku deprecated: sort by product_id. Rust: `SortField::Sku`.\n\
             \n### Removed\n\n\
             - **Breaking.** `TotalLevel.qty_picked`: property removed (the Rust field disappears). Rust: `types::TotalLevel::qty_picked`, `types::builder::TotalLevel::qty_picked()`, `LevelField::QtyPicked`. Migrate: replace uses of `types::TotalLevel::qty_picked`, `types::builder::TotalLevel::qty_picked()`, `LevelField::QtyPicked`; if it was renamed, its new name is among `types::TotalLevel::qty_picked_unpacked`.\n"
        );
    }
}
