//! The bookmark of an incremental sync ([`SyncState`]): where a run stands, what it has
//! delivered, and when the last complete runs started (server time).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Checkpoint;

/// The sync state format this release writes and reads.
const SYNC_STATE_VERSION: u32 = 1;

/// Where an incremental sync stands: a serialisable bookmark (serde; JSON is a good fit)
/// to store together with the data it covers.
///
/// Every [`SyncPage`](super::SyncPage) carries the state after it. Store the page's levels and its state
/// in one transaction; pass the last stored state to [`Client::sync`](crate::Client::sync) to carry on. A
/// state taken in the middle of a run continues that run where it stopped; the state of
/// a run's last page ([`SyncState::is_complete`]) starts the next incremental run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SyncStateRepr")]
pub struct SyncState {
    pub(super) version: u32,
    /// Server time at the start of the last complete run without record errors.
    pub(super) since: Option<DateTime<Utc>>,
    /// Levels delivered recently: product id → fingerprint and timestamp, so a level
    /// asked for again by the overlap window is not delivered again unchanged.
    pub(super) recent: BTreeMap<i64, Seen>,
    /// The run in progress, if any.
    pub(super) run: Option<Run>,
    /// Counts of the run in progress, or of the last run.
    #[serde(default)]
    pub(super) counts: RunCounts,
    /// Server time at the start of the last complete reconciling run without record
    /// errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) reconciled: Option<DateTime<Utc>>,
}

/// What a sync run delivered (see [`SyncState::run_counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunCounts {
    /// Levels delivered.
    pub delivered: u64,
    /// Levels skipped because the caller already had them exactly so.
    pub skipped: u64,
    /// Records that did not decode.
    pub record_errors: u64,
    /// Product ids listed by the run's reconciliation (those of a full load included).
    #[serde(default)]
    pub ids_listed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Seen {
    /// Fingerprint of the level with its product, as delivered.
    pub(super) fp: u64,
    /// The newest of the level's and the product's `updated_at` (Unix seconds).
    pub(super) at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Run {
    /// Server time (the `Date` header) of the run's first answer.
    pub(super) started: Option<DateTime<Utc>>,
    /// Lower bound of the run's window (`None` for a full load).
    pub(super) from: Option<DateTime<Utc>>,
    /// Index of the pass in progress (see [`passes`](super::passes)).
    pub(super) pass: usize,
    /// Where the pass continues; `None` at its start.
    pub(super) checkpoint: Option<Checkpoint>,
    /// Whether the run reconciles; `None` until its first answer (the decision needs the
    /// server's clock). A full load always does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) reconcile: Option<bool>,
    /// The highest id the reconciling pass in progress has covered (`None`: none yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) covered: Option<i64>,
    /// Set when a page of the reconciling pass had a record without a readable id: its
    /// range cannot be judged, so the pass reports no more deletions and the run does not
    /// count as a reconciliation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) blind: bool,
}

impl Run {
    /// Whether the run lists every product: a full load, or a run that decided to
    /// reconcile.
    pub(super) fn reconciles(&self) -> bool {
        self.from.is_none() || self.reconcile == Some(true)
    }
}

#[derive(Deserialize)]
struct SyncStateRepr {
    version: u32,
    since: Option<DateTime<Utc>>,
    #[serde(default)]
    recent: BTreeMap<i64, Seen>,
    run: Option<Run>,
    #[serde(default)]
    counts: RunCounts,
    #[serde(default)]
    reconciled: Option<DateTime<Utc>>,
}

impl TryFrom<SyncStateRepr> for SyncState {
    type Error = String;

    fn try_from(r: SyncStateRepr) -> Result<Self, String> {
        if r.version != SYNC_STATE_VERSION {
            return Err(format!(
                "sync state format version {} is not one this release of shipstream-inventory \
                 reads (it reads version {SYNC_STATE_VERSION}); sync with the release that \
                 wrote it, or start again with a full load",
                r.version
            ));
        }
        Ok(Self {
            version: r.version,
            since: r.since,
            recent: r.recent,
            run: r.run,
            counts: r.counts,
            reconciled: r.reconciled,
        })
    }
}

impl Default for SyncState {
    /// [`SyncState::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl SyncState {
    /// The state before the first sync: the first run is a full load.
    pub fn new() -> Self {
        Self {
            version: SYNC_STATE_VERSION,
            since: None,
            recent: BTreeMap::new(),
            run: None,
            counts: RunCounts::default(),
            reconciled: None,
        }
    }

    /// A state whose first run fetches only what changed at or after `since` (server
    /// time), minus the overlap window; for a mirror loaded by other means.
    pub fn starting_at(since: DateTime<Utc>) -> Self {
        Self {
            since: Some(since),
            ..Self::new()
        }
    }

    /// Server time at the start of the last complete run (without record errors): every
    /// level's state as of then or later has been delivered. `None` before that.
    pub fn synced_as_of(&self) -> Option<DateTime<Utc>> {
        self.since
    }

    /// Server time at the start of the last complete run that reconciled (a full load or
    /// [`Reconcile`](super::Reconcile)) without record errors: no product deleted before then is still
    /// held. `None` before that.
    pub fn reconciled_as_of(&self) -> Option<DateTime<Utc>> {
        self.reconciled
    }

    /// True when the run in progress reconciles (a full load always does). `false` when
    /// no run is in progress, or before its first answer decided.
    pub fn is_reconciling(&self) -> bool {
        self.run.as_ref().is_some_and(Run::reconciles)
    }

    /// True when no run is in progress: the next [`Client::sync`](crate::Client::sync) starts a new run.
    pub fn is_complete(&self) -> bool {
        self.run.is_none()
    }

    /// True when the next run (or the one in progress) is a full load.
    pub fn is_full_load(&self) -> bool {
        match &self.run {
            Some(run) => run.from.is_none(),
            None => self.since.is_none(),
        }
    }

    /// What the run in progress has delivered so far, or what the last run delivered
    /// once it is complete.
    pub fn run_counts(&self) -> RunCounts {
        self.counts
    }
}
