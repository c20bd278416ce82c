//! `cargo xtask adopt --vendor SOURCE`: the vendor's additions and deprecations taken into
//! `openapi.yaml`, everything else listed for a decision.
//!
//! It compares as `cargo xtask drift --vendor` does ([`vendor::compare`], the one spec-diff
//! engine), and the engine says for each addition or deprecation where it goes in ours
//! ([`Adopt`]). Each is made with the spec's text editor ([`crate::spec::edit`]): lines are
//! added to the block they belong to (or one value rewritten), so comments, order, quoting
//! and notes stay as written, and the edited text must parse to exactly the spec with the
//! change made. What it adds that the vendor states carries an `x-confirmed` note naming
//! the release; a deprecation gets `deprecated: true` and an `x-deprecation-note` naming it.
//! Afterwards the comparison runs again: every adopted change must be gone from it.

use std::{fmt::Write as _, fs, path::Path};

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::{
    bundle,
    drift::vendor::{self, VendorDrift},
    spec::{self, edit},
    specdiff::{Adopt, Bump, Change, Severity, Subject},
};

/// What `adopt` did with a release.
#[derive(Debug, Clone)]
pub struct Adoption {
    /// The release's name (`release-{name}` in its URL, else its `info.version`).
    pub release: String,
    /// The spec text with the adopted changes.
    pub text: String,
    /// The changes made.
    pub adopted: Vec<Change>,
    /// The changes left, each with the decision it needs.
    pub decisions: Vec<(Change, String)>,
    /// What the vendor's files cannot supply, for a person to add.
    pub for_a_person: Vec<String>,
}

impl Adoption {
    /// The bump the adopted changes need in the generated Rust API, by the engine's rules
    /// (`cargo xtask semver` decides the versions).
    pub fn bump(&self) -> Bump {
        self.adopted
            .iter()
            .map(|c| c.rust)
            .max()
            .unwrap_or_default()
    }
}

/// The release's name: the `release-{name}` folder of `source`, else `info.version`.
fn release_name(source: &str, drift: &VendorDrift) -> String {
    source
        .split('/')
        .find_map(|part| part.strip_prefix("release-"))
        .map(str::to_owned)
        .or_else(|| drift.vendor_version.clone())
        .unwrap_or_else(|| "unversioned".to_owned())
}

/// The note of what adopt adds: the release, at the address the vendor publishes it.
fn confirmation(release: &str) -> String {
    format!(
        "the vendor's OpenAPI release {release} \
         (https://openapi.shipstream.io/global/release-{release}/) states it; adopted by `cargo \
         xtask adopt`"
    )
}

/// Takes the adoptable changes of `drift` (ours, `text`, against the vendor's release
/// `release`) into `text`.
pub fn adopt(text: &str, drift: &VendorDrift, release: &str) -> Result<Adoption> {
    let ours = spec::parse(text)?;
    let mut out = Adoption {
        release: release.to_owned(),
        text: text.to_owned(),
        adopted: Vec::new(),
        decisions: Vec::new(),
        for_a_person: Vec::new(),
    };
    let mut done: Vec<&Adopt> = Vec::new();
    for c in &drift.report.changes {
        let edit = match (c.severity, &c.adopt) {
            (Severity::Breaking, _) => Err(
                "breaking for our users: adopt it by hand with the major bump `cargo xtask \
                 semver --apply` gives, or keep ours and tell the vendor"
                    .to_owned(),
            ),
            (Severity::Warning, _) => Err(
                "not breaking, but it changes what clients see: edit openapi.yaml by hand if the \
                 vendor is right"
                    .to_owned(),
            ),
            (_, None) => Err(
                "adopt cannot place this change in openapi.yaml: edit it by hand if the vendor is \
                 right"
                    .to_owned(),
            ),
            (_, Some(a)) if done.contains(&a) => continue,
            (_, Some(a)) => apply(&out.text, &ours, drift, a, release).map(|t| (a, t)),
        };
        match edit {
            Ok((a, new)) => {
                out.text = new;
                done.push(a);
                out.adopted.push(c.clone());
                out.for_a_person.extend(follow_up(c));
            }
            Err(decision) => out.decisions.push((c.clone(), decision)),
        }
    }
    Ok(out)
}

/// `text` with the edit `a`; an error is the decision the change needs instead.
fn apply(
    text: &str,
    ours: &Value,
    drift: &VendorDrift,
    a: &Adopt,
    release: &str,
) -> std::result::Result<String, String> {
    let theirs = |from: &str| {
        drift
            .theirs
            .pointer(from)
            .cloned()
            .ok_or_else(|| format!("the vendor's document has nothing at {from}"))
    };
    let missing = |v: &Value| {
        bundle::refs(v).into_iter().find(|r| {
            r.strip_prefix('#')
                .is_none_or(|p| ours.pointer(p).is_none())
        })
    };
    let failed = |e: anyhow::Error| format!("the edit failed ({e:#}): edit openapi.yaml by hand");
    let noted = |from: &str| -> std::result::Result<Value, String> {
        let mut value = theirs(from)?;
        if let Some(r) = missing(&value) {
            return Err(format!(
                "it refers to `{r}`, which openapi.yaml lacks: add that first, by hand"
            ));
        }
        if let Some(map) = value.as_object_mut().filter(|m| !m.contains_key("$ref")) {
            map.insert("x-confirmed".into(), json!(confirmation(release)));
        }
        Ok(value)
    };
    match a {
        Adopt::Entry { into, key, from } => {
            edit::add(text, into, Some(key), &noted(from)?).map_err(failed)
        }
        Adopt::Value { into, from } => edit::add(text, into, None, &noted(from)?).map_err(failed),
        Adopt::Deprecated { into, from } => {
            let note = theirs(from)?
                .get(crate::specdiff::DEPRECATION_NOTE)
                .and_then(Value::as_str)
                .map(|n| format!("{n} ("))
                .unwrap_or_default();
            let close = if note.is_empty() { "" } else { ")" };
            let note = format!("{note}deprecated in the vendor's OpenAPI release {release}{close}");
            edit::set(text, into, "deprecated", &json!(true))
                .and_then(|t| edit::set(&t, into, crate::specdiff::DEPRECATION_NOTE, &json!(note)))
                .map_err(failed)
        }
    }
}

/// What the vendor's files cannot supply for an adopted change: our own extensions and the
/// facade's builder methods.
fn follow_up(c: &Change) -> Option<String> {
    match &c.subject {
        Subject::Property { schema, name } if c.message == "new property" => Some(format!(
            "`{schema}.{name}`: if the API filters or sorts by it, add it to \
             `x-filterable-fields` of `filter` or to the keys of the `sort` pattern"
        )),
        Subject::Parameter(name) if c.message == "new optional parameter" => Some(format!(
            "parameter `{name}`: a builder method of the facade's `TotalLevelsRequest` that \
             sends it (crates/inventory/tests/spec_reachability.rs fails until one does)"
        )),
        _ => None,
    }
}

/// The report: what was adopted, what is left for a decision, what is left to a person (as
/// Markdown, so the workflow puts it in its pull request as it is).
pub fn render(a: &Adoption, source: &str) -> String {
    let mut out = format!(
        "## cargo xtask adopt: the vendor's release {} ({source})\n\nbump: {} (the adopted \
         changes, by the spec-diff rules; `cargo xtask semver` sets the versions)\n",
        a.release,
        a.bump()
    );
    let mut section = |title: &str, lines: Vec<String>| {
        let _ = write!(out, "\n### {title} ({})\n\n", lines.len());
        if lines.is_empty() {
            out.push_str("none\n");
        }
        for l in lines {
            let _ = writeln!(out, "- {l}");
        }
    };
    section(
        "Adopted",
        a.adopted.iter().map(|c| format!("{c}")).collect(),
    );
    section(
        "Left for a decision",
        a.decisions
            .iter()
            .map(|(c, d)| format!("{c}. **Decision:** {d}"))
            .collect(),
    );
    section("Left to a person", a.for_a_person.clone());
    out
}

/// `cargo xtask adopt --vendor SOURCE`: edits `spec_path`, prints the report; returns
/// whether something is left for a decision (an error when the release cannot be read).
pub fn run(spec_path: &Path, source: &str) -> Result<bool> {
    let text = fs::read_to_string(spec_path)
        .with_context(|| format!("cannot read {}", spec_path.display()))?;
    let drift = vendor::compare(&spec::parse(&text)?, source)?;
    let name = release_name(source, &drift);
    let adoption = adopt(&text, &drift, &name)?;
    if !adoption.adopted.is_empty() {
        // Every adopted change must be gone from a second comparison.
        let after = drift.again(&spec::parse(&adoption.text)?)?;
        let left: Vec<String> = adoption
            .adopted
            .iter()
            .filter(|c| after.changes.iter().any(|a| a.to_string() == c.to_string()))
            .map(ToString::to_string)
            .collect();
        ensure!(
            left.is_empty(),
            "adopt's edit did not take these changes over (nothing was written):\n  {}",
            left.join("\n  ")
        );
        fs::write(spec_path, &adoption.text)
            .with_context(|| format!("cannot write {}", spec_path.display()))?;
    }
    print!("{}", render(&adoption, source));
    Ok(!adoption.decisions.is_empty())
}
