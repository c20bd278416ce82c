//! `cargo xtask drift --live --probe`: the spec's `x-assumed` notes against a live instance.
//!
//! Every note of `openapi.yaml` carries an id (`[next-link-form] ...`, see
//! [`check::split_note_id`]). The probe table (`probe/table.rs`) holds one entry per note id: for a note
//! that read-only `GET` requests can settle, its requests and its judge, which says
//! **confirmed** or **refuted** (with the request, never the token, and the part of the
//! answer that refutes the note: a JSON path and value, a status, a header); for every
//! other note, why it is **not testable**. At most [`MAX_REQUESTS`] requests are sent,
//! through the [live client](crate::live) ([`PAUSE`] apart, a 429 waited out).
//!
//! `--record DIR` keeps each probed note's evidence as `DIR/<id>.json` (token and host
//! scrubbed like `drift --live --record`). Those files are not responses of the endpoint:
//! keep them out of `fixtures/recorded/`, which `cargo xtask check` validates as responses.

use std::{collections::BTreeMap, fmt, fs, path::Path, time::Duration};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::{
    check::{self, AssumedNote, DEFAULT_OPERATION},
    live::{Answer, LiveClient, LiveConfig},
    spec,
};

mod judges;
mod report;
mod table;

pub use report::{Report, print};
pub use table::{NO_PROBE_YET, untestable_reason};

/// The most requests one probe run sends (retries after a 429 included).
pub const MAX_REQUESTS: usize = 60;
/// The least time between an answer and the next request (so at most a few a second).
pub const PAUSE: Duration = Duration::from_millis(300);

/// What a probe found out about a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The instance behaves as the note says.
    Confirmed,
    /// The instance contradicts the note (the evidence says how).
    Refuted,
    /// No read-only probe settles the note (the reason says why).
    NotTestable,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Confirmed => "confirmed",
            Verdict::Refuted => "REFUTED",
            Verdict::NotTestable => "not testable",
        })
    }
}

/// One request of a probe and what of its answer matters to the verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// `GET /path?query` (decoded), and the version header when one was sent; no token.
    pub request: String,
    /// The answer's status.
    pub status: u16,
    /// What was found: `$.next = null`, `status 400`, a header and its value.
    pub found: String,
    /// The relevant part of the answer (for `--record`).
    pub excerpt: Value,
}

/// The verdict on one note.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The note's id.
    pub id: String,
    /// Where the note sits in the spec (JSON pointer).
    pub pointer: String,
    /// The note, without its id.
    pub note: String,
    /// The verdict on it.
    pub judged: Judged,
}

/// The judgement of one note: a verdict, why, and the evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    /// The verdict.
    pub verdict: Verdict,
    /// Why: what was seen, or why nothing can be.
    pub reason: String,
    /// The requests behind the verdict (none for a note that is not testable).
    pub evidence: Vec<Evidence>,
}

impl Judged {
    /// A judgement of `verdict`.
    pub fn new(verdict: Verdict, reason: impl Into<String>, evidence: Vec<Evidence>) -> Self {
        Self {
            verdict,
            reason: reason.into(),
            evidence,
        }
    }

    /// Not testable, for `reason`.
    pub fn untestable(reason: impl Into<String>) -> Self {
        Self::new(Verdict::NotTestable, reason, Vec::new())
    }
}

/// Sends the requests of every probe of [`table::NOTES`] and judges their answers, keyed
/// by note id. Each distinct request is sent once; the first page is sent first.
async fn run_probes(
    client: &LiveClient<'_>,
    path: &str,
    spec: &Value,
) -> Result<BTreeMap<&'static str, Judged>> {
    let mut sent: Vec<(table::Ask, Answer)> = Vec::new();
    let first = ask(client, path, &mut sent, &table::first()).await?;
    if !first.ok() {
        bail!(
            "{} answered {}: {}; the probes need a working listing (check SHIPSTREAM_TOKEN and \
             SHIPSTREAM_API_VERSION)",
            first.request,
            first.status,
            first.body.to_string().chars().take(300).collect::<String>()
        );
    }
    let mut ctx = table::Ctx::new(client.config(), spec, first)?;
    let mut out = BTreeMap::new();
    for (id, how) in table::NOTES {
        let table::How::Probe(asks, judge) = how else {
            continue;
        };
        let judged = match asks(&ctx) {
            Err(why) => Judged::untestable(why),
            Ok(asks) => {
                let mut answers = Vec::new();
                for a in &asks {
                    answers.push(ask(client, path, &mut sent, a).await?);
                }
                ctx.pages = sent
                    .iter()
                    .map(|(_, a)| a)
                    .filter(|a| a.ok() && a.body.get("collection").is_some_and(Value::is_array))
                    .cloned()
                    .collect();
                judge(&ctx, &answers)
            }
        };
        out.insert(*id, judged);
    }
    Ok(out)
}

/// The answer to `a`: sent now, or the one it got before.
async fn ask(
    client: &LiveClient<'_>,
    path: &str,
    sent: &mut Vec<(table::Ask, Answer)>,
    a: &table::Ask,
) -> Result<Answer> {
    if let Some((_, answer)) = sent.iter().find(|(s, _)| s == a) {
        return Ok(answer.clone());
    }
    let answer = match a {
        table::Ask::Get(query, version) => {
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client.get(path, &query, version.as_deref()).await?
        }
        table::Ask::Follow(uri) => client.follow(uri).await?,
    };
    sent.push((a.clone(), answer.clone()));
    Ok(answer)
}

/// Runs every probe against `cfg` and judges every note of `spec_text`; keeps the
/// evidence in `record` (one scrubbed `<id>.json` per probed note) when asked. `pause`
/// is the least time between an answer and the next request ([`PAUSE`] from the command
/// line).
pub async fn probe(
    cfg: &LiveConfig,
    spec_text: &str,
    record: Option<&Path>,
    pause: Duration,
) -> Result<Report> {
    let notes = check::assumed_notes_of(spec_text)?;
    let spec = spec::parse(spec_text).context("cannot parse the spec")?;
    let op = spec::operation(&spec, DEFAULT_OPERATION)
        .with_context(|| format!("the spec has no operation `{DEFAULT_OPERATION}`"))?;
    let client = LiveClient::new(cfg, pause, MAX_REQUESTS)?;
    let mut by_id = run_probes(&client, op.path, &spec).await?;
    let outcomes = notes
        .into_iter()
        .map(|n: AssumedNote| {
            let judged = by_id
                .remove(n.id.as_str())
                .unwrap_or_else(|| Judged::untestable(untestable_reason(&n.id)));
            Outcome {
                id: n.id,
                pointer: n.pointer,
                note: n.text,
                judged,
            }
        })
        .collect();
    let report = Report {
        outcomes,
        requests: client.sent(),
    };
    if let Some(dir) = record {
        report::write_record(cfg, &report, dir)?;
    }
    Ok(report)
}

/// `cargo xtask drift --live --probe`: prints the report; fails when a note is refuted.
pub fn run(spec_path: &Path, record: Option<&Path>) -> Result<()> {
    let cfg = LiveConfig::from_env()?;
    let spec_text = fs::read_to_string(spec_path)
        .with_context(|| format!("cannot read the spec {}", spec_path.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    println!(
        "xtask drift --probe: the x-assumed notes of {} against {}",
        crate::display_path(spec_path),
        cfg.base_url.trim_end_matches('/')
    );
    let report = runtime.block_on(probe(&cfg, &spec_text, record, PAUSE))?;
    print(&report);
    if let Some(dir) = record {
        println!(
            "recorded the evidence of each probed note to {}/<id>.json (token and host \
             scrubbed); keep it out of {}/, which holds responses",
            dir.display(),
            crate::check::RECORDED_DIR
        );
    }
    let refuted: Vec<&str> = report
        .judged(Verdict::Refuted)
        .map(|o| o.id.as_str())
        .collect();
    if !refuted.is_empty() {
        bail!(
            "the instance refutes {} note(s) of {}: {}; edit the claim or its note there (the \
             note's id stays), then run `cargo xtask generate`",
            refuted.len(),
            crate::display_path(spec_path),
            refuted.join(", ")
        );
    }
    Ok(())
}
