//! `cargo xtask semver`: the version each published crate needs, from two independent
//! judges that must agree.
//!
//! 1. **The spec judge** ([`specdiff`]): every change of `openapi.yaml` against the base,
//!    with the bump the Rust API needs for it, applies to the generated crate and to every
//!    published crate built on it (the facade, the filter grammar, the mock, the CLI).
//! 2. **cargo-semver-checks**: the public API of each published library crate, built at
//!    the base and now, compared lint by lint.
//!
//! A crate's required bump is the largest of: the spec judge's (when it is built on the
//! generated crate), cargo-semver-checks' on the crate itself, and cargo-semver-checks' on
//! every workspace crate whose items it re-exports (`pub use <crate>`: the tool does not
//! follow re-exports across crates), and a changed major of a re-exported external crate
//! (`reqwest`). The judges disagree when cargo-semver-checks finds a break in the generated
//! crate that no spec change explains (and codegen did not change), or when the spec
//! removes a Rust item (a field, a variant, a type) and cargo-semver-checks sees no break.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt, fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::{
    specdiff::{self, Bump, Report, Severity, items},
    tools::Tools,
};

/// The target folders the rustdoc JSON is built in. Two: cargo names a workspace member's
/// build units by its path within the workspace, so a worktree of the same workspace
/// sharing one folder would reuse the other side's build-script output (the generated
/// client of the other spec).
#[derive(Debug, Clone)]
pub struct Targets {
    /// The working tree's (by default the workspace's own, where `cargo doc` already built
    /// the dependencies).
    pub current: PathBuf,
    /// The base's (by default `target/semver/target`).
    pub base: PathBuf,
}

impl Targets {
    /// `$CARGO_TARGET_DIR` (else `target/`) and `target/semver/target`.
    pub fn of(root: &Path) -> Self {
        Targets {
            current: std::env::var_os("CARGO_TARGET_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target")),
            base: root.join("target/semver/target"),
        }
    }
}

/// Options of `cargo xtask semver`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// The revision to judge against (default: the last release tag `v*`, else the branch
    /// point with `$GITHUB_BASE_REF`, `main` or `origin/main`; on that branch itself,
    /// `HEAD`, so the working tree's change is judged).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Write the required versions into the manifests (the workspace's version and its
    /// internal dependency requirements, or a crate's own `version`).
    #[arg(long)]
    pub apply: bool,
}

/// The crate generated from the spec.
const GENERATED: &str = "shipstream-inventory-generated";

/// A published crate of the workspace.
#[derive(Debug, Clone)]
struct Krate {
    name: String,
    manifest: PathBuf,
    version: semver::Version,
    /// `version.workspace = true`.
    workspace_version: bool,
    has_lib: bool,
    /// Workspace crates it depends on (normal dependencies).
    deps: BTreeSet<String>,
}

/// What one judge found for one crate.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// The bump its findings need.
    pub bump: Bump,
    /// Each finding, one line.
    pub reasons: Vec<String>,
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
    let outcome = judge(root, args.base.as_deref(), &Targets::of(root))?;
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

/// Judges the working tree against the base.
pub fn judge(root: &Path, base: Option<&str>, targets: &Targets) -> Result<Outcome> {
    let pr_target = std::env::var(specdiff::GITHUB_BASE_REF)
        .ok()
        .filter(|r| !r.trim().is_empty());
    let (rev, label) = specdiff::release_base(root, base, pr_target.as_deref())?;
    let crates = published_crates(root)?;

    // Judge 1: the spec.
    let (report, cx) = spec_report(root, &rev)?;
    let spec = spec_findings(&report, &cx);

    // Judge 2: cargo-semver-checks on every library crate that exists at the base and whose
    // sources (or its workspace dependencies', the spec, the manifests, the lockfile)
    // changed since: an unchanged crate cannot have an API change to find.
    let tools = Tools::ensure(root)?;
    let mut judged = Vec::new();
    for k in crates.iter().filter(|k| k.has_lib) {
        if base_version(root, &rev, k)?.is_none() {
            continue;
        }
        let mut paths = vec![crate_dir(root, k)];
        for d in crates.iter().filter(|d| depends_on(&crates, k, &d.name)) {
            paths.push(crate_dir(root, d));
        }
        paths.extend(["Cargo.toml", "Cargo.lock"].map(str::to_owned));
        if k.name == GENERATED || depends_on(&crates, k, GENERATED) {
            paths.push("openapi.yaml".to_owned());
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        if changed_since(root, &rev, &refs)? {
            judged.push(k.name.clone());
        }
    }
    let mut csc: BTreeMap<String, Findings> = BTreeMap::new();
    if !judged.is_empty() {
        let docs = rustdoc_json(root, &rev, &judged, targets)?;
        for name in &judged {
            let (base_json, current_json) = &docs[name];
            csc.insert(
                name.clone(),
                semver_checks(root, &tools, name, base_json, current_json)?,
            );
        }
    }
    for k in crates
        .iter()
        .filter(|k| k.has_lib && !judged.contains(&k.name))
    {
        csc.insert(k.name.clone(), Findings::default());
    }

    let generated = GENERATED;
    let on_generated = |k: &Krate| k.name == generated || depends_on(&crates, k, generated);
    let mut verdicts = Vec::new();
    for k in &crates {
        let mut bump = Bump::None;
        let mut reasons = Vec::new();
        if on_generated(k) && spec.bump > Bump::None {
            bump = bump.max(spec.bump);
            reasons.extend(spec.reasons.iter().map(|r| format!("spec: {r}")));
        }
        if let Some(f) = csc.get(&k.name) {
            bump = bump.max(f.bump);
            reasons.extend(
                f.reasons
                    .iter()
                    .map(|r| format!("cargo-semver-checks: {r}")),
            );
        }
        for dep in reexports(k)? {
            if let Some(f) = csc.get(&dep).filter(|f| f.bump > Bump::None) {
                bump = bump.max(f.bump);
                reasons.extend(
                    f.reasons
                        .iter()
                        .map(|r| format!("re-exported {dep}: cargo-semver-checks: {r}")),
                );
            }
        }
        for (dep, why) in external_reexport_changes(root, &rev, k)? {
            bump = Bump::Major;
            reasons.push(format!("re-exported {dep}: {why}"));
        }
        let base = base_version(root, &rev, k)?;
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
    let codegen_changed = changed_since(
        root,
        &rev,
        &[
            "crates/codegen",
            "crates/generated/build.rs",
            "crates/generated/src",
        ],
    )?;
    let disagreements = disagreements(&report, csc.get(generated), &csc, codegen_changed);
    Ok(Outcome {
        base: label,
        verdicts,
        disagreements,
    })
}

/// The spec-diff report of the working tree's spec against the base's (empty when the base
/// has no spec), with what names the Rust items.
fn spec_report(root: &Path, rev: &str) -> Result<(Report, items::Context)> {
    let current = crate::spec::load(&root.join("openapi.yaml"))?;
    match git(root, &["show", &format!("{rev}:./openapi.yaml")]) {
        Ok(text) => {
            let old =
                crate::spec::parse(&text).context("the base revision's spec does not parse")?;
            Ok((
                specdiff::compare(&old, &current),
                items::Context::of(&old, &current),
            ))
        }
        Err(_) => Ok((Report::default(), items::Context::default())),
    }
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
        f.reasons.push(format!(
            "{} ({}) {c}{touched}",
            c.rust,
            severity_word(c.severity)
        ));
    }
    f
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Breaking => "breaking",
        Severity::Warning => "warning",
        Severity::Deprecation => "deprecation",
        Severity::Addition => "addition",
    }
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

/// Runs cargo-semver-checks on one crate's rustdoc JSON at the base and now (every lint, as
/// if a patch release).
fn semver_checks(
    root: &Path,
    tools: &Tools,
    package: &str,
    base_json: &Path,
    current_json: &Path,
) -> Result<Findings> {
    let out = Command::new(tools.cargo_bin("cargo-semver-checks"))
        .args([
            "semver-checks",
            "--release-type",
            "patch",
            "--color",
            "never",
        ])
        .arg("--baseline-rustdoc")
        .arg(base_json)
        .arg("--current-rustdoc")
        .arg(current_json)
        .current_dir(root)
        .output()
        .context("could not start cargo-semver-checks")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = parse_semver_checks(&text);
    if !out.status.success() && findings.reasons.is_empty() {
        bail!("cargo-semver-checks failed on {package} without a finding:\n{text}");
    }
    Ok(findings)
}

/// Builds the rustdoc JSON of `packages` at `rev` (a git worktree under
/// `target/semver/base`) and in the working tree, one cargo call each, in the [`Targets`];
/// returns the JSON files, copied out per side.
fn rustdoc_json(
    root: &Path,
    rev: &str,
    packages: &[String],
    targets: &Targets,
) -> Result<BTreeMap<String, (PathBuf, PathBuf)>> {
    let dir = root.join("target").join("semver");
    let base_tree = dir.join("base");
    if base_tree.exists() {
        let _ = Command::new("git")
            .args(["worktree", "remove", "--force"])
            .arg(&base_tree)
            .current_dir(root)
            .status();
        let _ = fs::remove_dir_all(&base_tree);
    }
    let _ = Command::new("git")
        .args(["worktree", "prune"])
        .current_dir(root)
        .status();
    crate::run(
        Command::new("git")
            .args(["worktree", "add", "--detach", "--quiet"])
            .arg(&base_tree)
            .arg(rev)
            .current_dir(root),
    )?;
    let mut out: BTreeMap<String, (PathBuf, PathBuf)> = BTreeMap::new();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (side, tree, target) in [
        ("base", base_tree.as_path(), &targets.base),
        ("current", root, &targets.current),
    ] {
        let mut cmd = Command::new(&cargo);
        cmd.args(["doc", "--no-deps", "--quiet", "--locked"])
            .env("CARGO_TARGET_DIR", target)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("RUSTDOCFLAGS", "-Z unstable-options --output-format json")
            .current_dir(tree);
        for p in packages {
            cmd.args(["-p", p]);
        }
        crate::run(&mut cmd).with_context(|| format!("rustdoc JSON of the {side} failed"))?;
        let keep = dir.join(format!("{side}-json"));
        let _ = fs::remove_dir_all(&keep);
        fs::create_dir_all(&keep)?;
        for p in packages {
            let file = format!("{}.json", p.replace('-', "_"));
            let to = keep.join(&file);
            fs::copy(target.join("doc").join(&file), &to)
                .with_context(|| format!("rustdoc wrote no {file}"))?;
            let entry = out.entry(p.clone()).or_default();
            if side == "base" {
                entry.0 = to;
            } else {
                entry.1 = to;
            }
        }
    }
    let _ = Command::new("git")
        .args(["worktree", "remove", "--force"])
        .arg(&base_tree)
        .current_dir(root)
        .status();
    Ok(out)
}

fn crate_dir(root: &Path, k: &Krate) -> String {
    k.manifest
        .parent()
        .and_then(|d| d.strip_prefix(root).ok())
        .map(|d| d.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default()
}

/// Reads cargo-semver-checks' text report: `--- failure <lint>: <what> ---` headers, the
/// indented instances under each one's `Failed in:`, and the summary's counts of major and
/// minor lints (warnings do not count).
pub fn parse_semver_checks(text: &str) -> Findings {
    let mut f = Findings::default();
    let mut lint: Option<String> = None;
    let mut listing = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("--- failure ") {
            let name = rest.split(':').next().unwrap_or(rest).trim().to_owned();
            lint = Some(name);
            listing = false;
            continue;
        }
        if t.starts_with("--- ") {
            lint = None;
            listing = false;
            continue;
        }
        if t == "Failed in:" {
            listing = lint.is_some();
            continue;
        }
        if listing && line.starts_with("  ") && !line.starts_with("   ") && !t.is_empty() {
            if let Some(l) = &lint {
                // The file (a build folder's generated code) says nothing to a reader.
                let item = t
                    .split(", previously in file ")
                    .next()
                    .and_then(|x| x.rsplit_once(" in /").map(|(a, _)| a).or(Some(x)))
                    .unwrap_or(t);
                f.reasons
                    .push(format!("{l}: {}", item.trim_end_matches(',')));
            }
            continue;
        }
        listing = false;
        if let Some(summary) = t.strip_prefix("Summary") {
            lint = None;
            let words: Vec<&str> = summary.split_whitespace().collect();
            let count = |what: &str| -> u32 {
                words
                    .windows(2)
                    .filter(|w| w[1] == what)
                    .find_map(|w| w[0].parse().ok())
                    .unwrap_or(0)
            };
            if count("major") > 0 {
                f.bump = Bump::Major;
            } else if count("minor") > 0 {
                f.bump = f.bump.max(Bump::Minor);
            }
        }
    }
    f
}

fn git(root: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .context("could not start git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether anything under `paths` differs between `rev` and the working tree.
fn changed_since(root: &Path, rev: &str, paths: &[&str]) -> Result<bool> {
    let mut args = vec!["diff", "--quiet", rev, "--"];
    args.extend_from_slice(paths);
    let status = Command::new("git")
        .args(&args)
        .current_dir(root)
        .status()
        .context("could not start git")?;
    Ok(!status.success())
}

fn published_crates(root: &Path) -> Result<Vec<Krate>> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .context("could not start cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: Value = serde_json::from_slice(&out.stdout)?;
    let packages = meta["packages"].as_array().cloned().unwrap_or_default();
    let names: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let mut crates = Vec::new();
    for p in &packages {
        if p["publish"].as_array().is_some_and(Vec::is_empty) {
            continue;
        }
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
        let text = fs::read_to_string(&manifest)?;
        let doc: toml_edit::DocumentMut = text.parse()?;
        let workspace_version = doc["package"]["version"]
            .get("workspace")
            .and_then(toml_edit::Item::as_bool)
            == Some(true);
        crates.push(Krate {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            manifest,
            version: p["version"].as_str().unwrap_or("0.0.0").parse()?,
            workspace_version,
            has_lib: p["targets"].as_array().is_some_and(|ts| {
                ts.iter().any(|t| {
                    t["kind"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k == "lib"))
                })
            }),
            deps: p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .filter(|n| names.contains(n))
                .collect(),
        });
    }
    Ok(crates)
}

fn depends_on(crates: &[Krate], k: &Krate, target: &str) -> bool {
    let mut todo: Vec<&str> = k.deps.iter().map(String::as_str).collect();
    let mut seen = BTreeSet::new();
    while let Some(d) = todo.pop() {
        if d == target {
            return true;
        }
        if seen.insert(d)
            && let Some(c) = crates.iter().find(|c| c.name == d)
        {
            todo.extend(c.deps.iter().map(String::as_str));
        }
    }
    false
}

/// The crate's source files' `pub use` lines.
fn pub_uses(k: &Krate) -> Result<Vec<String>> {
    let src = k
        .manifest
        .parent()
        .map(|d| d.join("src"))
        .unwrap_or_default();
    let mut out = Vec::new();
    for entry in walk_rs(&src)? {
        let text = fs::read_to_string(&entry)?;
        out.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| l.starts_with("pub use "))
                .map(str::to_owned),
        );
    }
    Ok(out)
}

fn walk_rs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(out);
    };
    for e in entries {
        let p = e?.path();
        if p.is_dir() {
            out.extend(walk_rs(&p)?);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    Ok(out)
}

/// Workspace crates whose items `k` re-exports.
fn reexports(k: &Krate) -> Result<Vec<String>> {
    let uses = pub_uses(k)?;
    Ok(k.deps
        .iter()
        .filter(|d| {
            let ident = d.replace('-', "_");
            uses.iter()
                .any(|u| u.starts_with(&format!("pub use {ident}")))
        })
        .cloned()
        .collect())
}

/// External crates `k` re-exports whose version requirement moved to an incompatible
/// release since the base (their breaks are this crate's).
fn external_reexport_changes(root: &Path, rev: &str, k: &Krate) -> Result<Vec<(String, String)>> {
    let uses = pub_uses(k)?;
    let requirement = |doc: &toml_edit::DocumentMut, dep: &str| -> Option<String> {
        let d = &doc["workspace"]["dependencies"][dep];
        d.as_str()
            .map(str::to_owned)
            .or_else(|| d.get("version").and_then(|v| v.as_str()).map(str::to_owned))
    };
    let now: toml_edit::DocumentMut = fs::read_to_string(root.join("Cargo.toml"))?.parse()?;
    let Ok(then) = git(root, &["show", &format!("{rev}:./Cargo.toml")]) else {
        return Ok(Vec::new());
    };
    let then: toml_edit::DocumentMut = then.parse()?;
    let mut out = Vec::new();
    let manifest: toml_edit::DocumentMut = fs::read_to_string(&k.manifest)?.parse()?;
    let Some(deps) = manifest.get("dependencies").and_then(|d| d.as_table_like()) else {
        return Ok(out);
    };
    for (dep, _) in deps.iter() {
        let ident = dep.replace('-', "_");
        let exported = uses.iter().any(|u| {
            u == &format!("pub use {ident};") || u.starts_with(&format!("pub use {ident}::"))
        });
        if !exported || k.deps.contains(dep) {
            continue;
        }
        let (Some(a), Some(b)) = (requirement(&then, dep), requirement(&now, dep)) else {
            continue;
        };
        let compat = |r: &str| -> Option<(u64, u64)> {
            let v = semver::VersionReq::parse(r).ok()?;
            let c = v.comparators.first()?;
            Some(if c.major > 0 {
                (c.major, 0)
            } else {
                (0, c.minor.unwrap_or(0))
            })
        };
        if compat(&a) != compat(&b) {
            out.push((dep.to_owned(), format!("requirement moved from {a} to {b}")));
        }
    }
    Ok(out)
}

/// The crate's version at `rev` (None when it did not exist there).
fn base_version(root: &Path, rev: &str, k: &Krate) -> Result<Option<semver::Version>> {
    let rel = k
        .manifest
        .strip_prefix(root)
        .unwrap_or(&k.manifest)
        .to_string_lossy()
        .replace('\\', "/");
    let Ok(text) = git(root, &["show", &format!("{rev}:./{rel}")]) else {
        return Ok(None);
    };
    let doc: toml_edit::DocumentMut = text.parse()?;
    let own = &doc["package"]["version"];
    let version = if own.get("workspace").and_then(toml_edit::Item::as_bool) == Some(true) {
        let ws: toml_edit::DocumentMut =
            git(root, &["show", &format!("{rev}:./Cargo.toml")])?.parse()?;
        ws["workspace"]["package"]["version"]
            .as_str()
            .map(str::to_owned)
    } else {
        own.as_str().map(str::to_owned)
    };
    Ok(version.map(|v| v.parse()).transpose()?)
}

/// Writes the required versions: a crate with `version.workspace = true` raises the
/// workspace's version (to the largest any such crate requires); the others their own.
/// The internal dependency requirements in `[workspace.dependencies]` follow.
pub fn apply(root: &Path, outcome: &Outcome) -> Result<()> {
    let crates = published_crates(root)?;
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
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
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

    #[test]
    fn reads_semver_checks_findings() {
        let text = "\
     Parsing shipstream-inventory-generated v0.1.0 (current)
    Checking shipstream-inventory-generated v0.1.0 -> v0.1.0 (assume patch change)
--- failure struct_pub_field_missing: pub struct's pub field removed or renamed ---

Description:
A publicly-visible struct has at least one public field that is no longer available.
        ref: https://doc.rust-lang.org/cargo/reference/semver.html#item-remove

Failed in:
  field volume of struct Product, previously in file /x/client.rs:800

--- warning enum_variant_moved: an enum variant moved ---

Failed in:
  Item::B moved from position 2 to 1, in /x/client.rs:409
     Summary semver requires new major version: 1 major and 0 minor checks failed
     Warning produced 1 major and 0 minor level warnings
";
        let f = parse_semver_checks(text);
        assert_eq!(f.bump, Bump::Major);
        assert_eq!(
            f.reasons,
            ["struct_pub_field_missing: field volume of struct Product"]
        );
        let minor = parse_semver_checks(
            "--- failure enum_variant_added: x ---\nFailed in:\n  variant A::B in /y.rs:3\n     Summary semver requires new minor version: 0 major and 1 minor checks failed\n",
        );
        assert_eq!(minor.bump, Bump::Minor);
        assert_eq!(
            parse_semver_checks("     Summary no semver update required").bump,
            Bump::None
        );
    }

    fn change(rust: Bump, removes_item: bool) -> specdiff::Change {
        specdiff::Change {
            severity: Severity::Addition,
            location: "TotalLevel.qty_x".into(),
            message: "new property".into(),
            subject: specdiff::Subject::Other,
            rust,
            removes_item,
        }
    }

    #[test]
    fn judges_disagree_both_ways() {
        let major = Findings {
            bump: Bump::Major,
            reasons: vec!["constructible_struct_adds_field: TotalLevel".into()],
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
