//! What a monitor reads: a run's figures in the Prometheus text format
//! (`--metrics-file`, node_exporter's textfile convention: written beside, then renamed
//! over the file, at the end of every run), and the mirror's own state (`--status`).

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The figures of one `sync` invocation, as far as it got (a figure it never reached is
/// `None`, and left out of the metrics).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    /// When the invocation started and ended (this machine's clock).
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    /// The exit code.
    pub exit_code: Option<i32>,
    /// Levels written by the last run (a continued run's included), unchanged levels
    /// skipped, rows deleted by it.
    pub upserted: Option<u64>,
    pub skipped: Option<u64>,
    pub deleted: Option<u64>,
    /// Pages this invocation fetched.
    pub pages: Option<u64>,
    /// Requests the client sent and the refusals it got (429 and 409); only with the
    /// client-side limiter on (not with `--rate-limit 0`).
    pub requests: Option<u64>,
    pub refusals: Option<u64>,
    /// Rows of `levels`.
    pub rows: Option<i64>,
    /// The mirror's guarantee (server time).
    pub current_as_of: Option<DateTime<Utc>>,
    pub reconciled_as_of: Option<DateTime<Utc>>,
}

/// The metric name prefix (node_exporter's textfile convention: one per job).
const PREFIX: &str = "shipstream_inventory_sync";

fn seconds(t: Option<DateTime<Utc>>) -> Option<f64> {
    t.map(|t| t.timestamp_millis() as f64 / 1000.0)
}

impl Figures {
    /// The figures as Prometheus text, each labelled with the mirror (`mirror`, its
    /// name without a password).
    pub fn prometheus(&self, mirror: &str) -> Result<String, String> {
        let metrics: [(&str, &str, Option<f64>); 13] = [
            (
                "start_timestamp_seconds",
                "When the last sync run started (Unix time).",
                seconds(self.started),
            ),
            (
                "end_timestamp_seconds",
                "When the last sync run ended (Unix time).",
                seconds(self.ended),
            ),
            (
                "success",
                "1 if the last sync run exited 0, else 0.",
                self.exit_code.map(|c| f64::from(u8::from(c == 0))),
            ),
            (
                "exit_code",
                "The last sync run's exit code.",
                self.exit_code.map(f64::from),
            ),
            (
                "upserted_rows",
                "Levels the last run wrote (a continued run's whole count).",
                self.upserted.map(|v| v as f64),
            ),
            (
                "skipped_rows",
                "Levels the last run skipped as unchanged.",
                self.skipped.map(|v| v as f64),
            ),
            (
                "deleted_rows",
                "Rows of deleted products the last run removed (a continued run's whole count).",
                self.deleted.map(|v| v as f64),
            ),
            (
                "pages",
                "Pages the last invocation fetched.",
                self.pages.map(|v| v as f64),
            ),
            (
                "requests",
                "Requests the last invocation sent.",
                self.requests.map(|v| v as f64),
            ),
            (
                "refusals",
                "429 and 409 answers the last invocation got.",
                self.refusals.map(|v| v as f64),
            ),
            (
                "mirror_rows",
                "Rows of the mirror's levels table.",
                self.rows.map(|v| v as f64),
            ),
            (
                "current_as_of_timestamp_seconds",
                "Server time the mirror is current as of (Unix time).",
                seconds(self.current_as_of),
            ),
            (
                "reconciled_as_of_timestamp_seconds",
                "Server time the mirror was last reconciled as of (Unix time).",
                seconds(self.reconciled_as_of),
            ),
        ];
        let registry = prometheus::Registry::new();
        for (name, help, value) in metrics {
            let Some(value) = value else { continue };
            let gauge = prometheus::Gauge::with_opts(
                prometheus::Opts::new(format!("{PREFIX}_{name}"), help)
                    .const_label("mirror", mirror),
            )
            .map_err(|e| e.to_string())?;
            gauge.set(value);
            registry
                .register(Box::new(gauge))
                .map_err(|e| e.to_string())?;
        }
        prometheus::TextEncoder::new()
            .encode_to_string(&registry.gather())
            .map_err(|e| e.to_string())
    }
}

/// The mirror's own state, as `sync --status` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// The mirror (its path, or its URL without the password).
    pub mirror: String,
    /// Rows of `levels`.
    pub rows: i64,
    /// Server time the mirror is current as of, and its age on this machine's clock.
    pub current_as_of: Option<DateTime<Utc>>,
    pub age_seconds: Option<i64>,
    /// Server time of the last reconciliation.
    pub reconciled_as_of: Option<DateTime<Utc>>,
    /// When the last page was written (this machine's clock).
    pub last_written: Option<DateTime<Utc>>,
    /// Whether a run is in progress or was stopped (the next `sync` finishes it).
    pub run_in_progress: bool,
    /// The last (or current) run's figures so far.
    pub upserted: u64,
    pub skipped: u64,
    pub deleted: u64,
}

impl Status {
    /// For people: one figure a line.
    pub fn human(&self) -> String {
        let when =
            |t: Option<DateTime<Utc>>| t.map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
        let age = self
            .age_seconds
            .map_or_else(String::new, |s| format!(" ({s} s ago)"));
        format!(
            "mirror:           {}\nrows:             {}\ncurrent as of:    {}{age} (server time)\n\
             reconciled as of: {} (server time)\nlast written:     {}\nrun in progress:  {}\n\
             last run:         {} upserted, {} deleted, {} unchanged skipped\n",
            self.mirror,
            self.rows,
            when(self.current_as_of),
            when(self.reconciled_as_of),
            when(self.last_written),
            if self.run_in_progress {
                "yes (stopped or running; the next sync finishes it)"
            } else {
                "no"
            },
            self.upserted,
            self.deleted,
            self.skipped,
        )
    }
}
