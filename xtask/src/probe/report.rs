//! What a probe run found: the [`Report`], its printout, and its `--record` folder.

use std::{collections::BTreeMap, fs, path::Path};

use anyhow::{Context, Result};
use serde_json::json;

use super::{MAX_REQUESTS, Outcome, Verdict};
use crate::live::LiveConfig;

/// What a probe run found.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// One outcome per note of the spec, in the spec's order.
    pub outcomes: Vec<Outcome>,
    /// Requests sent (retries included).
    pub requests: usize,
}

impl Report {
    /// `(id, verdict)` of every note.
    pub fn verdicts(&self) -> BTreeMap<String, Verdict> {
        self.outcomes
            .iter()
            .map(|o| (o.id.clone(), o.judged.verdict))
            .collect()
    }

    /// The notes judged `v`.
    pub fn judged(&self, v: Verdict) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(move |o| o.judged.verdict == v)
    }
}

/// One scrubbed `<id>.json` per probed note under `dir`.
pub(super) fn write_record(cfg: &LiveConfig, report: &Report, dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for o in report
        .outcomes
        .iter()
        .filter(|o| o.judged.verdict != Verdict::NotTestable)
    {
        let value = json!({
            "id": o.id,
            "pointer": o.pointer,
            "note": o.note,
            "verdict": o.judged.verdict.to_string().to_lowercase(),
            "reason": o.judged.reason,
            "evidence": o.judged.evidence.iter().map(|e| json!({
                "request": e.request,
                "status": e.status,
                "found": e.found,
                "excerpt": e.excerpt,
            })).collect::<Vec<_>>(),
        });
        cfg.record(&value, &dir.join(format!("{}.json", o.id)))?;
    }
    Ok(())
}

/// Prints the report: one line per note, the evidence of each refuted one.
pub fn print(report: &Report) {
    println!(
        "xtask drift --probe: {} notes, {} probed with {} request(s) (budget {MAX_REQUESTS})",
        report.outcomes.len(),
        report.outcomes.len() - report.judged(Verdict::NotTestable).count(),
        report.requests
    );
    let mut sorted: Vec<&Outcome> = report.outcomes.iter().collect();
    // Refuted first, then confirmed, then not testable; the spec's order within each.
    sorted.sort_by_key(|o| (o.judged.verdict != Verdict::Refuted, o.judged.verdict));
    for o in sorted {
        let j = &o.judged;
        println!("  {:<12} {}: {}", j.verdict.to_string(), o.id, j.reason);
        if j.verdict == Verdict::Refuted {
            println!("               note ({}): {}", o.pointer, o.note);
            for e in &j.evidence {
                println!("               {} -> {}: {}", e.request, e.status, e.found);
            }
        }
    }
    println!(
        "{} confirmed, {} refuted, {} not testable; {} request(s) sent",
        report.judged(Verdict::Confirmed).count(),
        report.judged(Verdict::Refuted).count(),
        report.judged(Verdict::NotTestable).count(),
        report.requests
    );
}
