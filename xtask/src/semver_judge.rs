//! `cargo xtask semver`: the version each published crate needs, from two independent
//! judges that must agree.
//!
//! 1. **The spec judge** ([`specdiff`]): every change of `openapi.yaml` against the base,
//!    with the bump the Rust API needs for it, applies to the generated crate and to every
//!    published crate built on it (the facade, the filter grammar, the mock, the CLI).
//! 2. **cargo-semver-checks**: each published library crate's public API at the base and
//!    now. The tool builds the base itself (`--baseline-rev`); its exit status answers "is
//!    a patch release enough?" and, if not, "is a minor one?" (`--release-type`).
//!
//! A crate's required bump is the largest of: the spec judge's (when it is built on the
//! generated crate), cargo-semver-checks' on the crate itself, and cargo-semver-checks' on
//! every workspace crate whose items it re-exports (`pub use <crate>`: the tool does not
//! follow re-exports across crates), and a changed major of a re-exported external crate
//! (`reqwest`). The judges disagree when cargo-semver-checks finds a break in the generated
//! crate that no spec change explains (and codegen did not change), or when the spec
//! removes a Rust item (a field, a variant, a type) and cargo-semver-checks sees no break.

use std::{
    collections::BTreeMap,
    fmt, fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Result, bail};

use crate::{
    git,
    metadata::{self, Krate},
    specdiff::{self, Bump, Report, Severity, items},
    tools::Tools,
};

/// Options of `cargo xtask semver`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// The revision to judge against (default: the last release tag `v*`, else the branch
    /// point with `$GITHUB_BASE_REF`, `main` or `origin/main`; on that branch itself,
    /// `HEAD`, so only the working tree's uncommitted change is judged: with no release
    /// tag, a change already committed on `main` is not judged again).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Write the required versions into the manifests (the workspace's version and its
    /// internal dependency requirements, or a crate's own `version`).
    #[arg(long)]
    pub apply: bool,
}

/// The crate generated from the spec.
const GENERATED: &str = "shipstream-inventory-generated";

/// cargo-semver-checks' exit status when the check ran and lints failed (101: it could
/// not run).
const LINTS_FAILED: i32 = 100;

/// Where cargo-semver-checks builds (its `CARGO_TARGET_DIR`): `target/semver`. The base's
/// sources go under `semver-checks/git-REV`, and one build folder serves every crate and
/// both sides, so the dependencies compile once.
pub fn target_dir(root: &Path) -> PathBuf {
    root.join("target/semver")
}

/// What one judge found for one crate.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// The bump its findings need.
    pub bump: Bump,
    /// Each finding, one line.
    pub reasons: Vec<String>,
    /// cargo-semver-checks' own report of the release type that was not enough.
    pub report: String,
}

/// The verdict on one crate.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The crate.
    pub name: String,
    /// Its version at the base (None: not there).
    pub base: Option<semver::Version>,
    /// Its version now.
    pub now: semver::Version,
    /// The bump it needs.
    pub bump: Bump,
    /// The smallest version allowed.
    pub required: semver::Version,
    /// Why.
    pub reasons: Vec<String>,
}

impl Verdict {
    /// Whether its version is high enough.
    pub fn ok(&self) -> bool {
        self.now >= self.required
    }
}

/// The outcome: verdicts and disagreements between the judges.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How the base was chosen.
    pub base: String,
    /// One per published crate.
    pub verdicts: Vec<Verdict>,
    /// Where the two judges disagree.
    pub disagreements: Vec<String>,
    /// cargo-semver-checks' reports, per crate it found changes in.
    pub reports: BTreeMap<String, String>,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "semver against {}:", self.base)?;
        for v in &self.verdicts {
            let base = v
                .base
                .as_ref()
                .map_or_else(|| "(new)".to_owned(), ToString::to_string);
            let mark = if v.ok() { "ok" } else { "TOO LOW" };
            writeln!(
                f,
                "  {}: {base} -> {} needs a {} bump: >= {} [{mark}]",
                v.name, v.now, v.bump, v.required
            )?;
            for r in &v.reasons {
                writeln!(f, "      {r}")?;
            }
        }
        for d in &self.disagreements {
            writeln!(f, "  judges disagree: {d}")?;
        }
        for (name, report) in &self.reports {
            writeln!(f, "  cargo-semver-checks' report on {name}:")?;
            for line in report.lines().filter(|l| !l.trim().is_empty()) {
                writeln!(f, "      | {line}")?;
            }
        }
        Ok(())
    }
}

/// The smallest version at or above `base` that a `bump` allows, by Cargo's rules: below
/// 1.0 a breaking change moves the minor number and anything else the patch number.
pub fn bumped(base: &semver::Version, bump: Bump) -> semver::Version {
    let (ma, mi, pa) = (base.major, base.minor, base.patch);
    let v = |a, b, c| semver::Version::new(a, b, c);
    match (bump, ma) {
        (Bump::None, _) => base.clone(),
        (Bump::Major, 0) => v(0, mi + 1, 0),
        (Bump::Minor | Bump::Patch, 0) => v(0, mi, pa + 1),
        (Bump::Major, _) => v(ma + 1, 0, 0),
        (Bump::Minor, _) => v(ma, mi + 1, 0),
        (Bump::Patch, _) => v(ma, mi, pa + 1),
    }
}

/// Runs `cargo xtask semver`.
pub fn run(root: &Path, args: &Args) -> Result<()> {
    let outcome = judge(root, args.base.as_deref(), &target_dir(root))?;
    print!("{outcome}");
    if args.apply {
        apply(root, &outcome)?;
        println!("semver: wrote the required versions; review them with git diff");
        return Ok(());
    }
    let low: Vec<_> = outcome.verdicts.iter().filter(|v| !v.ok()).collect();
    if !outcome.disagreements.is_empty() {
        bail!(
            "the spec-diff rules and cargo-semver-checks disagree ({}): fix the rule or the \
             code generation so both see the same change",
            outcome.disagreements.len()
        );
    }
    if !low.is_empty() {
        bail!(
            "{} crate version(s) too low for the change ({}): run `cargo xtask semver --apply`, \
             then `cargo xtask changelog`",
            low.len(),
            low.iter()
                .map(|v| format!("{} {} < {}", v.name, v.now, v.required))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("semver: every crate's version covers its changes");
    Ok(())
}

/// Judges the working tree against the base; cargo-semver-checks builds in `target`.
pub fn judge(root: &Path, base: Option<&str>, target: &Path) -> Result<Outcome> {
    let pr_target = std::env::var(specdiff::GITHUB_BASE_REF)
        .ok()
        .filter(|r| !r.trim().is_empty());
    let (rev, label) = specdiff::release_base(root, base, pr_target.as_deref())?;
    let crates = metadata::published(root)?;
    let on_generated =
        |k: &Krate| k.name == GENERATED || metadata::depends_on(&crates, k, GENERATED);

    // Judge 1: the spec.
    let (report, cx) = specdiff::against_revision(root, &rev)?.unwrap_or_default();
    let spec = spec_findings(&report, &cx);

    // Judge 2: cargo-semver-checks on every library crate that exists at the base and whose
    // sources (or its workspace dependencies', the spec, the manifests, the lockfile)
    // changed since: an unchanged crate cannot have an API change to find.
    let mut csc: BTreeMap<String, Findings> = BTreeMap::new();
    let mut tools = None;
    for k in crates.iter().filter(|k| k.has_lib) {
        let mut paths = vec![k.dir.as_str(), "Cargo.toml", "Cargo.lock"];
        paths.extend(
            crates
                .iter()
                .filter(|d| metadata::depends_on(&crates, k, &d.name))
                .map(|d| d.dir.as_str()),
        );
        if on_generated(k) {
            paths.push("openapi.yaml");
        }
        let judged = metadata::version_at(root, &rev, k)?.is_some()
            && git::changed_since(root, &rev, &paths)?;
        let findings = if judged {
            let tools = match &mut tools {
                Some(t) => t,
                None => tools.insert(Tools::ensure(root)?),
            };
            semver_checks(root, tools, &k.name, &rev, target)?
        } else {
            Findings::default()
        };
        csc.insert(k.name.clone(), findings);
    }

    let mut verdicts = Vec::new();
    for k in &crates {
        let mut bump = Bump::None;
        let mut reasons = Vec::new();
        if on_generated(k) && spec.bump > Bump::None {
            bump = bump.max(spec.bump);
            reasons.extend(spec.reasons.iter().map(|r| format!("spec: {r}")));
        }
        let own = csc.get(&k.name).map(|f| (String::new(), f));
        let reexported = reexports(k)?.into_iter().filter_map(|dep| {
            let f = csc.get(&dep).filter(|f| f.bump > Bump::None)?;
            Some((format!("re-exported {dep}: "), f))
        });
        for (prefix, f) in own.into_iter().chain(reexported) {
            bump = bump.max(f.bump);
            reasons.extend(
                f.reasons
                    .iter()
                    .map(|r| format!("{prefix}cargo-semver-checks: {r}")),
            );
        }
        for (dep, why) in external_reexport_changes(root, &rev, k)? {
            bump = Bump::Major;
            reasons.push(format!("re-exported {dep}: {why}"));
        }
        let base = metadata::version_at(root, &rev, k)?;
        let required = base
            .as_ref()
            .map_or_else(|| k.version.clone(), |b| bumped(b, bump));
        verdicts.push(Verdict {
            name: k.name.clone(),
            base,
            now: k.version.clone(),
            bump,
            required,
            reasons,
        });
    }

    // The generated crate's API is the spec's, unless the generator itself changed (its
    // snapshot changes with every spec edit and does not count).
    let codegen_changed = git::changed_since(
        root,
        &rev,
        &[
            "crates/codegen",
            "crates/generated/build.rs",
            "crates/generated/src",
        ],
    )?;
    let disagreements = disagreements(&report, csc.get(GENERATED), &csc, codegen_changed);
    let reports = csc
        .into_iter()
        .filter(|(_, f)| !f.report.is_empty())
        .map(|(name, f)| (name, f.report))
        .collect();
    Ok(Outcome {
        base: label,
        verdicts,
        disagreements,
        reports,
    })
}

/// The spec judge's findings: each change with the Rust items it touches.
pub fn spec_findings(report: &Report, cx: &items::Context) -> Findings {
    let mut f = Findings::default();
    for c in &report.changes {
        f.bump = f.bump.max(c.rust);
        let items = items::rust_items(c, cx);
        let touched = if items.is_empty() {
            String::new()
        } else {
            format!(" [{}]", items.join(", "))
        };
        let severity = match c.severity {
            Severity::Breaking => "breaking",
            Severity::Warning => "warning",
            Severity::Deprecation => "deprecation",
            Severity::Addition => "addition",
        };
        f.reasons
            .push(format!("{} ({severity}) {c}{touched}", c.rust));
    }
    f
}

/// Where the two judges disagree.
pub fn disagreements(
    report: &Report,
    generated: Option<&Findings>,
    all: &BTreeMap<String, Findings>,
    codegen_changed: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(g) = generated
        && g.bump == Bump::Major
        && report.rust_bump() < Bump::Major
        && !codegen_changed
    {
        out.push(format!(
            "cargo-semver-checks finds breaking changes in the generated crate that no spec \
             change explains (the spec's changes need at most a {} bump): {}",
            report.rust_bump(),
            g.reasons.join("; ")
        ));
    }
    let removals: Vec<_> = report.changes.iter().filter(|c| c.removes_item).collect();
    let any_break = all.values().any(|f| f.bump == Bump::Major);
    if !removals.is_empty() && !any_break && !all.is_empty() {
        out.push(format!(
            "the spec removes Rust items but cargo-semver-checks finds no breaking change: {}",
            removals
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    out
}

/// Whether cargo-semver-checks passed (exit 0) or found lints failing (exit
/// [`LINTS_FAILED`]); any other exit is an error: the check did not run.
fn passed(code: Option<i32>) -> Option<bool> {
    match code {
        Some(0) => Some(true),
        Some(LINTS_FAILED) => Some(false),
        _ => None,
    }
}

/// The bump one crate needs by cargo-semver-checks against `rev`: none if a patch release
/// is enough, minor if a minor one is, else major. The published API is judged (default
/// features: without `codegen`, the generated crate compiles its snapshot).
fn semver_checks(
    root: &Path,
    tools: &Tools,
    package: &str,
    rev: &str,
    target: &Path,
) -> Result<Findings> {
    let enough = |release: &str| -> Result<(bool, String)> {
        println!("   cargo semver-checks -p {package} --release-type {release}");
        let (status, text) = crate::output(
            Command::new(tools.cargo_bin("cargo-semver-checks"))
                .args(["semver-checks", "--color", "never", "--default-features"])
                .args([
                    "--release-type",
                    release,
                    "--baseline-rev",
                    rev,
                    "-p",
                    package,
                ])
                .arg("--manifest-path")
                .arg(root.join("Cargo.toml"))
                .env("CARGO_TARGET_DIR", target)
                .current_dir(root),
        )?;
        match passed(status.code()) {
            Some(ok) => Ok((ok, text)),
            None => bail!("cargo-semver-checks could not judge {package} ({status}):\n{text}"),
        }
    };
    let (patch, report) = enough("patch")?;
    if patch {
        return Ok(Findings::default());
    }
    let (minor, major_report) = enough("minor")?;
    let (bump, why, report) = if minor {
        (
            Bump::Minor,
            "a patch release is not enough (additions)",
            report,
        )
    } else {
        (
            Bump::Major,
            "a minor release is not enough (breaking changes)",
            major_report,
        )
    };
    Ok(Findings {
        bump,
        reasons: vec![format!("{why}; see its report on {package}")],
        report,
    })
}

/// The crate's source files' `pub use` lines.
fn pub_uses(k: &Krate) -> Result<Vec<String>> {
    fn walk(dir: &Path, out: &mut Vec<String>) -> Result<()> {
        for e in fs::read_dir(dir).into_iter().flatten() {
            let p = e?.path();
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = fs::read_to_string(&p)?;
                out.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| l.starts_with("pub use "))
                        .map(str::to_owned),
                );
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if let Some(dir) = k.manifest.parent() {
        walk(&dir.join("src"), &mut out)?;
    }
    Ok(out)
}

/// Whether `uses` re-export the crate `dep` (`pub use dep;` or `pub use dep::…`).
fn reexported(uses: &[String], dep: &str) -> bool {
    let ident = dep.replace('-', "_");
    uses.iter()
        .any(|u| u == &format!("pub use {ident};") || u.starts_with(&format!("pub use {ident}::")))
}

/// Workspace crates whose items `k` re-exports.
fn reexports(k: &Krate) -> Result<Vec<String>> {
    let uses = pub_uses(k)?;
    Ok(k.deps
        .iter()
        .filter(|d| reexported(&uses, d))
        .cloned()
        .collect())
}

/// External crates `k` re-exports whose version requirement moved to an incompatible
/// release since the base (their breaks are this crate's).
fn external_reexport_changes(root: &Path, rev: &str, k: &Krate) -> Result<Vec<(String, String)>> {
    let uses = pub_uses(k)?;
    let Some(then) = metadata::workspace_manifest_at(root, rev)? else {
        return Ok(Vec::new());
    };
    // The release a requirement accepts: its major, or below 1.0 its minor.
    let compat = |r: &semver::VersionReq| {
        r.comparators.first().map(|c| match c.major {
            0 => (0, c.minor.unwrap_or(0)),
            major => (major, 0),
        })
    };
    let mut out = Vec::new();
    for (dep, now) in k.external.iter().filter(|(d, _)| reexported(&uses, d)) {
        let d = &then["workspace"]["dependencies"][dep.as_str()];
        let Some(before) = d
            .as_str()
            .or_else(|| d.get("version").and_then(toml_edit::Item::as_str))
            .and_then(|r| semver::VersionReq::parse(r).ok())
        else {
            continue;
        };
        if compat(&before) != compat(now) {
            out.push((
                dep.clone(),
                format!("requirement moved from {before} to {now}"),
            ));
        }
    }
    Ok(out)
}

/// Writes the required versions: a crate with `version.workspace = true` raises the
/// workspace's version (to the largest any such crate requires); the others their own.
/// The internal dependency requirements in `[workspace.dependencies]` follow.
pub fn apply(root: &Path, outcome: &Outcome) -> Result<()> {
    let crates = metadata::published(root)?;
    let ws_path = root.join("Cargo.toml");
    let mut ws: toml_edit::DocumentMut = fs::read_to_string(&ws_path)?.parse()?;
    let mut new_versions: BTreeMap<String, semver::Version> = BTreeMap::new();
    let shared = outcome
        .verdicts
        .iter()
        .filter(|v| {
            crates
                .iter()
                .any(|k| k.name == v.name && k.workspace_version)
        })
        .map(|v| v.required.clone().max(v.now.clone()))
        .max();
    if let Some(shared) = &shared {
        ws["workspace"]["package"]["version"] = toml_edit::value(shared.to_string());
    }
    for v in &outcome.verdicts {
        let Some(k) = crates.iter().find(|k| k.name == v.name) else {
            continue;
        };
        let target = if k.workspace_version {
            shared.clone().unwrap_or_else(|| v.now.clone())
        } else {
            let t = v.required.clone().max(v.now.clone());
            let mut doc: toml_edit::DocumentMut = fs::read_to_string(&k.manifest)?.parse()?;
            doc["package"]["version"] = toml_edit::value(t.to_string());
            fs::write(&k.manifest, doc.to_string())?;
            t
        };
        new_versions.insert(k.name.clone(), target);
    }
    if let Some(deps) = ws["workspace"]["dependencies"].as_table_like_mut() {
        for (name, version) in &new_versions {
            if let Some(dep) = deps.get_mut(name)
                && let Some(t) = dep.as_table_like_mut()
                && t.contains_key("version")
            {
                t.insert("version", toml_edit::value(version.to_string()));
            }
        }
    }
    fs::write(&ws_path, ws.to_string())?;
    // The lockfile records the workspace's own versions: bring it along, or every
    // `--locked` build fails.
    crate::run(
        Command::new(crate::cargo())
            .args(["update", "--workspace", "--offline", "--quiet"])
            .current_dir(root),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(s: &str) -> semver::Version {
        s.parse().unwrap()
    }

    #[test]
    fn cargo_rules_below_and_above_one() {
        assert_eq!(bumped(&v("0.1.0"), Bump::Major), v("0.2.0"));
        assert_eq!(bumped(&v("0.1.3"), Bump::Minor), v("0.1.4"));
        assert_eq!(bumped(&v("0.1.3"), Bump::Patch), v("0.1.4"));
        assert_eq!(bumped(&v("0.1.3"), Bump::None), v("0.1.3"));
        assert_eq!(bumped(&v("1.2.3"), Bump::Major), v("2.0.0"));
        assert_eq!(bumped(&v("1.2.3"), Bump::Minor), v("1.3.0"));
        assert_eq!(bumped(&v("1.2.3"), Bump::Patch), v("1.2.4"));
    }

    fn change(rust: Bump, removes_item: bool) -> specdiff::Change {
        specdiff::Change {
            severity: Severity::Addition,
            location: "TotalLevel.qty_x".into(),
            message: "new property".into(),
            subject: specdiff::Subject::Other,
            rust,
            removes_item,
            adopt: None,
        }
    }

    #[test]
    fn the_exit_status_answers_whether_a_release_type_is_enough() {
        assert_eq!(passed(Some(0)), Some(true));
        assert_eq!(passed(Some(LINTS_FAILED)), Some(false));
        // 101 (and 1, or a signal): the tool did not judge; never read as "no break".
        assert_eq!(passed(Some(101)), None);
        assert_eq!(passed(Some(1)), None);
        assert_eq!(passed(None), None);
    }

    #[test]
    fn re_exports_are_whole_crates_or_paths_into_them() {
        let uses = [
            "pub use reqwest;".to_owned(),
            "pub use shipstream_filter::Ast;".to_owned(),
        ];
        assert!(reexported(&uses, "reqwest"));
        assert!(reexported(&uses, "shipstream-filter"));
        assert!(!reexported(&uses, "reqwest-middleware"));
        assert!(!reexported(&uses, "serde"));
    }

    #[test]
    fn judges_disagree_both_ways() {
        let major = Findings {
            bump: Bump::Major,
            reasons: vec!["constructible_struct_adds_field: TotalLevel".into()],
            ..Findings::default()
        };
        let additive = Report {
            changes: vec![change(Bump::Minor, false)],
        };
        let all: BTreeMap<_, _> = [("g".to_owned(), major.clone())].into();
        // An additive spec change, a break found: red, unless codegen changed.
        assert_eq!(disagreements(&additive, Some(&major), &all, false).len(), 1);
        assert!(disagreements(&additive, Some(&major), &all, true).is_empty());
        // A removal the tool does not see: red.
        let removal = Report {
            changes: vec![change(Bump::Major, true)],
        };
        let none: BTreeMap<_, _> = [("g".to_owned(), Findings::default())].into();
        assert_eq!(
            disagreements(&removal, none.get("g"), &none, false).len(),
            1
        );
        // Both see the break: agreement.
        assert!(disagreements(&removal, Some(&major), &all, false).is_empty());
    }
}
