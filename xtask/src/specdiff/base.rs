//! Which revision of the spec to compare with: the last release tag, the branch point,
//! or the revision before the last change of the spec, read from git.

use super::*;

/// The base revision's spec, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The spec at the base revision.
    Found {
        /// How the base was chosen, for the report (e.g. `merge-base HEAD main (1a2b3c4)`).
        label: String,
        /// The spec text at that revision.
        text: String,
    },
    /// No base to compare with, and why.
    Unavailable(String),
}

/// The environment variable GitHub Actions sets on a pull request to the name of the
/// branch it targets.
pub const GITHUB_BASE_REF: &str = "GITHUB_BASE_REF";

/// Finds the spec to compare with. With `base`, the spec at that revision. Without it:
/// - the last release tag (`v*`) reachable from `HEAD`, when there is one;
/// - otherwise, on a branch, its branch point: `git merge-base HEAD <target>`, where the
///   target is the first of these that exists: the pull request's target branch
///   ([`GITHUB_BASE_REF`], as `origin/<ref>` or `<ref>`), `main`, `origin/main` (a CI
///   checkout of a pull request has no local `main`);
/// - otherwise (on the target itself, where the merge-base is `HEAD`): `HEAD` when the
///   working tree changes the spec, else the revision before the last commit that changed
///   the spec (so a clean checkout of `main` compares the latest spec change, not the spec
///   with itself).
///
/// `spec_rel` is the spec's path relative to `root`.
pub fn base_spec(root: &Path, spec_rel: &str, base: Option<&str>) -> Base {
    let pr_target = std::env::var(GITHUB_BASE_REF)
        .ok()
        .filter(|r| !r.trim().is_empty());
    base_spec_for(root, spec_rel, base, pr_target.as_deref())
}

/// [`base_spec`] with the pull request's target branch given rather than read from
/// [`GITHUB_BASE_REF`].
pub fn base_spec_for(
    root: &Path,
    spec_rel: &str,
    base: Option<&str>,
    pr_target: Option<&str>,
) -> Base {
    let git = |args: &[&str]| git_in(root, args);
    let short = |sha: &str| sha.chars().take(10).collect::<String>();
    let spec_arg = format!("./{spec_rel}");
    let (rev, label) = match release_base(root, base, pr_target) {
        Ok(found) => found,
        Err(e) => return Base::Unavailable(format!("{e:#}")),
    };
    let head = git(&["rev-parse", "--verify", "HEAD"]).unwrap_or_default();
    // On the target branch itself (or with none): the working tree's change of the spec,
    // else its last committed change.
    let (rev, label) = if base.is_some() || rev != head || release_tag(root).is_some() {
        (rev, label)
    } else if git(&["diff", "--quiet", "HEAD", "--", &spec_arg]).is_err() {
        let what = format!("HEAD ({}; the working tree changes the spec)", short(&head));
        (head, what)
    } else {
        let last = match git(&["log", "-1", "--format=%H", "HEAD", "--", &spec_arg]) {
            Ok(c) if !c.is_empty() => c,
            Ok(_) => return Base::Unavailable(format!("no commit has changed {spec_rel} yet")),
            Err(e) => return Base::Unavailable(format!("git log failed ({e})")),
        };
        match git(&["rev-parse", "--verify", &format!("{last}^")]) {
            Ok(parent) => {
                let what = format!(
                    "{} (before {}, the last commit that changed {spec_rel})",
                    short(&parent),
                    short(&last)
                );
                (parent, what)
            }
            Err(_) => {
                return Base::Unavailable(format!(
                    "{spec_rel} was added by the first commit ({}): no earlier revision to \
                     compare with",
                    short(&last)
                ));
            }
        }
    };
    match git(&["show", &format!("{rev}:{spec_arg}")]) {
        Ok(text) => Base::Found { label, text },
        Err(e) => Base::Unavailable(format!("{spec_rel} does not exist at {label} ({e})")),
    }
}

/// Compares the working-tree spec with the base revision's; used by `cargo xtask check`.
/// Returns the report, or `None` (with the reason printed) when there is no base.
pub fn against_base(
    root: &Path,
    spec_rel: &str,
    base: Option<&str>,
    deny_breaking: bool,
) -> Result<Option<(String, Report)>> {
    let current = spec::load(&root.join(spec_rel))?;
    match base_spec(root, spec_rel, base) {
        Base::Found { label, text } => {
            let old = spec::parse(&text)
                .with_context(|| format!("the spec at {label} does not parse"))?;
            Ok(Some((label, compare(&old, &current))))
        }
        Base::Unavailable(why) => {
            if deny_breaking && base.is_some() {
                bail!("cannot compare with the base revision: {why}");
            }
            println!("   skipped: {why}");
            Ok(None)
        }
    }
}

/// The working tree's spec compared with `rev`'s, with what names the Rust items; `None`
/// when `rev` has no `openapi.yaml`. Used by `cargo xtask semver` and `changelog`.
pub fn against_revision(root: &Path, rev: &str) -> Result<Option<(Report, super::items::Context)>> {
    let current = spec::load(&root.join("openapi.yaml"))?;
    let Some(text) = crate::git::show(root, rev, "openapi.yaml") else {
        return Ok(None);
    };
    let old = spec::parse(&text).with_context(|| format!("the spec at {rev} does not parse"))?;
    let cx = super::items::Context::of(&old, &current);
    Ok(Some((compare(&old, &current), cx)))
}

/// Runs git in `root`; its stdout trimmed.
fn git_in(root: &Path, args: &[&str]) -> Result<String> {
    crate::git::git(root, args).map(|out| out.trim_end().to_owned())
}

/// The last release tag (`v*`) reachable from `HEAD`, if any.
pub fn release_tag(root: &Path) -> Option<String> {
    git_in(
        root,
        &["describe", "--tags", "--abbrev=0", "--match", "v*", "HEAD"],
    )
    .ok()
    .filter(|t| !t.is_empty())
}

/// The revision a release is judged against, as `(commit, label)`: `base` when given; else
/// the last release tag (`v*`); else the branch point with the branch the work targets
/// (the pull request's `pr_target` as `origin/<ref>` or `<ref>`, then `main`, then
/// `origin/main`), which on that branch itself is `HEAD`, so that what is judged is the
/// working tree's change. Unlike [`base_spec`], it never falls back to an older commit:
/// changes already on the target branch were judged when they got there.
pub fn release_base(
    root: &Path,
    base: Option<&str>,
    pr_target: Option<&str>,
) -> Result<(String, String)> {
    let git = |args: &[&str]| git_in(root, args);
    let short = |sha: &str| sha.chars().take(10).collect::<String>();
    let commit = |rev: &str| {
        git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
    };
    if let Some(rev) = base {
        let sha = commit(rev)
            .map_err(|e| anyhow::anyhow!("the base revision `{rev}` is unknown ({e})"))?;
        return Ok((sha.clone(), format!("{rev} ({})", short(&sha))));
    }
    if let Some(tag) = release_tag(root) {
        let sha = commit(&tag).map_err(|e| anyhow::anyhow!("tag {tag} is unreadable ({e})"))?;
        return Ok((
            sha.clone(),
            format!("the last release {tag} ({})", short(&sha)),
        ));
    }
    let mut candidates: Vec<String> = Vec::new();
    if let Some(t) = pr_target {
        candidates.push(format!("origin/{t}"));
        candidates.push(t.to_owned());
    }
    candidates.extend(["main".to_owned(), "origin/main".to_owned()]);
    let head =
        commit("HEAD").map_err(|e| anyhow::anyhow!("no git history to compare with ({e})"))?;
    for target in candidates {
        if commit(&target).is_ok() {
            let sha = git(&["merge-base", "HEAD", &target])
                .map_err(|e| anyhow::anyhow!("git merge-base HEAD {target} failed ({e})"))?;
            let what = if sha == head {
                format!(
                    "HEAD ({}; on {target} itself, the working tree's change)",
                    short(&sha)
                )
            } else {
                format!("merge-base HEAD {target} ({})", short(&sha))
            };
            return Ok((sha, what));
        }
    }
    Ok((
        head.clone(),
        format!("HEAD ({}; no release tag and no main branch)", short(&head)),
    ))
}
