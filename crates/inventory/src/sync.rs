//! Incremental sync: every level that changed since a bookmark, with the next bookmark,
//! on the server's clock; and reconciliation: the products that no longer exist.

use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt as _};

mod state;

use state::{Run, Seen};
pub use state::{RunCounts, SyncState};

use crate::{
    Checkpoint, Client, Condition, Error, Item, LevelField, Page, ProductField, RecordError, Sort,
    SortField, fields,
};

/// The default overlap window: levels stamped up to this long before the bookmark are
/// asked for again.
pub const DEFAULT_LOOKBACK: Duration = Duration::from_secs(60);

/// The default age after which a run reconciles (see [`Reconcile`]): 24 hours.
pub const DEFAULT_RECONCILE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// When a sync run also lists every product id, to find the products deleted since the
/// caller got them ([`SyncRequest::reconcile`]).
///
/// A listing of changes never shows a deleted product, so without reconciliation the
/// caller keeps its rows forever. A reconciliation adds one pass to the run: every product
/// id, at the largest page size and with the smallest `fields` selection (the product
/// stub), so for N products it costs ceil(N / M) requests, M being the largest page the
/// API serves (`limit`'s maximum, [`api::params::LIMIT`](crate::api::params::LIMIT));
/// with [`SyncRequest::parallel`], two more for the key space's bounds and one more per
/// range for its last page, whatever changed. A full load (the first run) is always a
/// reconciliation, at no extra cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reconcile {
    /// Never (a full load still reports deletions).
    Never,
    /// Every run.
    Always,
    /// When the last completed reconciliation started longer ago than this, on the
    /// server's clock, or there was none ([`SyncState::reconciled_as_of`]).
    OlderThan(Duration),
}

impl Default for Reconcile {
    /// [`Reconcile::OlderThan`]`(`[`DEFAULT_RECONCILE_EVERY`]`)`.
    fn default() -> Self {
        Reconcile::OlderThan(DEFAULT_RECONCILE_EVERY)
    }
}

impl Reconcile {
    /// Whether a run starting at `now` (server time) reconciles, the last reconciliation
    /// having started at `last`.
    fn is_due(self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        match self {
            Reconcile::Never => false,
            Reconcile::Always => true,
            Reconcile::OlderThan(age) => last.is_none_or(|last| {
                let age = chrono::TimeDelta::from_std(age).unwrap_or(chrono::TimeDelta::MAX);
                now.signed_duration_since(last) >= age
            }),
        }
    }
}

/// The products of one id range that no longer exist: every id in
/// ([`after`](Deletions::after), [`through`](Deletions::through)] that is not
/// [`present`](Deletions::present). Remove what you hold of them, in the same transaction
/// as the page's levels and state ([`SyncPage::deletions`]).
///
/// ```
/// # use shipstream_inventory::{Deletions};
/// # fn demo(d: &Deletions) {
/// // SQL: DELETE FROM levels WHERE product_id > after AND product_id <= through
/// //      AND product_id NOT IN (present), with a missing bound left out.
/// let mut held: std::collections::BTreeMap<i64, String> = Default::default();
/// held.retain(|id, _| !d.contains(*id));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deletions {
    after: Option<i64>,
    through: Option<i64>,
    present: Vec<i64>,
}

impl Deletions {
    /// The range's lower bound (exclusive); `None`: no lower bound.
    pub fn after(&self) -> Option<i64> {
        self.after
    }

    /// The range's upper bound (inclusive); `None`: no upper bound (the listing's last
    /// page).
    pub fn through(&self) -> Option<i64> {
        self.through
    }

    /// The ids of the range that exist, ascending.
    pub fn present(&self) -> &[i64] {
        &self.present
    }

    /// True when `id` is in the range and does not exist: its row goes.
    pub fn contains(&self, id: i64) -> bool {
        self.after.is_none_or(|a| id > a)
            && self.through.is_none_or(|t| id <= t)
            && self.present.binary_search(&id).is_err()
    }
}

/// A run of an incremental sync. Built by [`Client::sync`].
#[derive(Clone, Debug)]
#[must_use = "a sync does nothing until its stream is polled"]
pub struct SyncRequest {
    client: Client,
    state: SyncState,
    page_size: Option<u32>,
    lookback: Duration,
    level_fields: Vec<LevelField>,
    product_fields: Vec<ProductField>,
    prefetch: bool,
    reconcile: Reconcile,
    parallel: usize,
}

/// One page of a sync run: the levels that changed (each delivered once per run), and
/// the state to store with them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SyncPage {
    /// Levels (with their products) new to the caller.
    pub items: Vec<Item>,
    /// Levels on this page skipped because the caller already has them exactly so.
    pub skipped: u64,
    /// Records that did not decode: the run goes on, but its completion does not advance
    /// the bookmark, so the next run asks for the same window again.
    pub record_errors: Vec<RecordError>,
    /// Products that no longer exist, on a page of a reconciling listing: remove your
    /// rows for them in the same transaction.
    pub deletions: Option<Deletions>,
    /// The server's time for this page (its `Date` header).
    pub server_time: Option<DateTime<Utc>>,
    /// The state after this page.
    pub state: SyncState,
}

impl SyncPage {
    /// True on the run's last page: [`SyncPage::state`] is the next run's bookmark.
    pub fn is_last(&self) -> bool {
        self.state.is_complete()
    }
}

impl Client {
    /// An incremental sync from `state` (use [`SyncState::new`] for the first run, a full
    /// load). Each run asks, sorted by `product_id` and including disabled products, for
    /// the levels whose `updated_at` or whose product's `updated_at` is at or after the
    /// bookmark minus the [overlap window](SyncRequest::lookback).
    ///
    /// **Guarantee**: once a run that started at server time *T* completes without
    /// record errors, the caller has been delivered, for every level, its state as of
    /// *T* or later (or an identical earlier copy). *T* is the `Date` header of the run's
    /// first answer, so the caller's clock plays no part; timestamps of a second's
    /// precision are covered because the window includes the bookmark's own second and
    /// the overlap before it, and what the overlap asks for again is de-duplicated by
    /// content, not by timestamp (two changes within one second are both delivered).
    ///
    /// ```no_run
    /// use futures::TryStreamExt as _;
    /// use shipstream_inventory::{Client, SyncState};
    ///
    /// # async fn run(load: impl Fn() -> Option<SyncState>, store: impl Fn(&[shipstream_inventory::Item], &SyncState)) -> Result<(), shipstream_inventory::Error> {
    /// let client = Client::from_env()?;
    /// let state = load().unwrap_or_default();
    /// let mut pages = std::pin::pin!(client.sync(state).page_size(1000).pages());
    /// while let Some(page) = pages.try_next().await? {
    ///     store(&page.items, &page.state); // in one transaction
    /// }
    /// # Ok(()) }
    /// ```
    pub fn sync(&self, state: SyncState) -> SyncRequest {
        SyncRequest {
            client: self.clone(),
            state,
            page_size: None,
            lookback: DEFAULT_LOOKBACK,
            level_fields: Vec::new(),
            product_fields: vec![ProductField::Sku, ProductField::IsEnabled],
            prefetch: false,
            reconcile: Reconcile::default(),
            parallel: 1,
        }
    }
}

/// The listings of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    /// Everything (the first run).
    Full,
    /// Levels stamped at or after the window's start.
    LevelsSince(DateTime<Utc>),
    /// Levels whose product was stamped at or after the window's start (a product
    /// disabled or enabled keeps its level's timestamp).
    ProductsSince(DateTime<Utc>),
    /// Every product id (the reconciliation), nothing delivered.
    Ids,
}

impl Pass {
    /// Whether the pass lists every product, so what it does not list no longer exists.
    fn is_whole(self) -> bool {
        matches!(self, Pass::Full | Pass::Ids)
    }
}

fn passes(run: &Run) -> Vec<Pass> {
    match run.from {
        None => vec![Pass::Full],
        Some(t) if run.reconcile == Some(true) => {
            vec![Pass::LevelsSince(t), Pass::ProductsSince(t), Pass::Ids]
        }
        Some(t) => vec![Pass::LevelsSince(t), Pass::ProductsSince(t)],
    }
}

type PageStream = Pin<Box<dyn Stream<Item = Result<Page, Error>> + Send>>;

impl SyncRequest {
    /// Levels per page (see [`TotalLevelsRequest::page_size`](crate::TotalLevelsRequest::page_size)).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// The overlap window (default [`DEFAULT_LOOKBACK`], 60 s): how far before the
    /// bookmark a run starts looking, to cover a server whose `Date` and timestamps
    /// disagree by that much. Whole seconds, at least 1 (a `Date` may be stamped up to a
    /// second after the data it answers with was read) and at most 365 days; values
    /// outside are clamped. What the overlap lists again is not delivered again unless it
    /// changed.
    pub fn lookback(mut self, lookback: Duration) -> Self {
        self.lookback = lookback;
        self
    }

    /// Optional level fields to add (as [`TotalLevelsRequest::fields`](crate::TotalLevelsRequest::fields)).
    pub fn fields(mut self, fields: impl IntoIterator<Item = LevelField>) -> Self {
        self.level_fields.extend(fields);
        self
    }

    /// Product fields to include (default `sku` and `is_enabled`); the product's
    /// `updated_at` is always asked for too.
    pub fn product_fields(mut self, fields: impl IntoIterator<Item = ProductField>) -> Self {
        self.product_fields = fields.into_iter().collect();
        self
    }

    /// See [`TotalLevelsRequest::prefetch`](crate::TotalLevelsRequest::prefetch).
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// When the run reconciles (default [`Reconcile::OlderThan`] 24 hours): lists every
    /// product id to find the deleted ones ([`SyncPage::deletions`]). Decided at the run's
    /// first answer, on the server's clock; a run stopped and carried on keeps its
    /// decision.
    ///
    /// **Guarantee**: once a reconciling run that started at server time *T* completes
    /// without record errors, and the caller removed every page's deletions, it holds no
    /// level of a product that did not exist at *T*, and it removed none of a product
    /// created during the run (the listing is in `product_id` order, and a page's range
    /// ends at its last id).
    pub fn reconcile(mut self, when: Reconcile) -> Self {
        self.reconcile = when;
        self
    }

    /// Walks the whole key space (a full load, a reconciliation) with `n` requests at once
    /// through the sharded parallel pager ([`TotalLevelsRequest::parallel`](crate::TotalLevelsRequest::parallel)),
    /// under the client's limits. Default 1 (one page at a time); 0 counts as 1. The
    /// listings of changes stay sequential: they are short.
    pub fn parallel(mut self, n: usize) -> Self {
        self.parallel = n.max(1);
        self
    }

    /// [`SyncRequest::lookback`], clamped to 1 s ..= 365 days.
    fn lookback_delta(&self) -> chrono::TimeDelta {
        const MAX: u64 = 365 * 86_400;
        chrono::TimeDelta::seconds(self.lookback.as_secs().clamp(1, MAX) as i64)
    }

    fn listing(&self, pass: Pass) -> crate::TotalLevelsRequest {
        let every = self
            .client
            .total_levels()
            .sort(Sort::asc(SortField::ProductId))
            .filter(fields::IS_ENABLED.any([[Condition::eq(true)], [Condition::eq(false)]]))
            .prefetch(self.prefetch);
        let every = if pass.is_whole() && self.parallel > 1 {
            every.parallel(self.parallel)
        } else {
            every
        };
        if pass == Pass::Ids {
            // The cheapest listing that names every product: the product stub alone, at
            // the largest page the API serves.
            let (_, max) = crate::request::page_size_range();
            return every
                .fields([LevelField::Product])
                .page_size(u32::try_from(max).unwrap_or(u32::MAX));
        }
        let mut product_fields = self.product_fields.clone();
        if !product_fields.contains(&ProductField::UpdatedAt) {
            product_fields.push(ProductField::UpdatedAt);
        }
        let mut req = every
            .fields(self.level_fields.iter().copied())
            .product_fields(product_fields);
        if let Some(size) = self.page_size {
            req = req.page_size(size);
        }
        // `gt` is the documented operator; with whole-second timestamps, after the second
        // before `t` is at or after `t`.
        let before = |t: DateTime<Utc>| t - chrono::TimeDelta::seconds(1);
        match pass {
            Pass::Full | Pass::Ids => req,
            Pass::LevelsSince(t) => req.filter(fields::UPDATED_AT.gt(before(t))),
            Pass::ProductsSince(t) => req.filter(fields::PRODUCT_UPDATED_AT.gt(before(t))),
        }
    }

    fn open(&self, run: &Run) -> PageStream {
        let Some(&pass) = passes(run).get(run.pass) else {
            return Box::pin(futures::stream::empty());
        };
        match &run.checkpoint {
            Some(cp) => Box::pin(
                self.client
                    .resume(cp.clone())
                    .prefetch(self.prefetch)
                    .pages(),
            ),
            None => Box::pin(self.listing(pass).pages()),
        }
    }

    /// The run's pages. Each is yielded after the state it carries is final; a fatal
    /// error is yielded once and ends the stream (the last page's state is where to
    /// carry on).
    pub fn pages(self) -> impl Stream<Item = Result<SyncPage, Error>> + Send + 'static {
        let mut state = self.state.clone();
        if state.run.is_none() {
            let lookback = self.lookback_delta();
            state.run = Some(Run {
                started: None,
                from: state.since.map(|t| t - lookback),
                pass: 0,
                checkpoint: None,
                reconcile: state.since.is_none().then_some(true),
                covered: None,
                blind: false,
            });
            state.counts = RunCounts::default();
        }
        let stream = state.run.as_ref().map(|run| self.open(run));
        futures::stream::unfold(
            (self, state, stream),
            |(req, mut state, stream)| async move {
                let mut stream = stream?;
                let page = match stream.next().await {
                    Some(Ok(page)) => page,
                    Some(Err(e)) => return Some((Err(e), (req, state, None))),
                    None if state.run.is_some() => {
                        let e = Error::pagination(
                            "the listing ended before the sync's pass did; the state stays at \
                             the last page, and the next run carries on from there",
                        );
                        return Some((Err(e), (req, state, None)));
                    }
                    None => return None,
                };
                // More pages follow but `next` cannot be followed: the pager yields why next.
                // The page is not delivered, so the state stays before it and the next run
                // asks for it again.
                if let Some(reason) = page.checkpoint().stopped_because() {
                    let e = match stream.next().await {
                        Some(Err(e)) => e,
                        _ => Error::pagination(reason.to_owned()),
                    };
                    return Some((Err(e), (req, state, None)));
                }
                let page = match req.absorb(&mut state, page) {
                    Ok(page) => page,
                    Err(e) => return Some((Err(e), (req, state, None))),
                };
                let next = match &state.run {
                    Some(run) if run.checkpoint.is_none() => Some(req.open(run)),
                    Some(_) => Some(stream),
                    None => None,
                };
                Some((Ok(page), (req, state, next)))
            },
        )
    }

    /// Folds one page into the state and picks what to deliver.
    fn absorb(&self, state: &mut SyncState, page: Page) -> Result<SyncPage, Error> {
        let server_time = page.server_date();
        let lookback = self.lookback_delta();
        let reconciled = state.reconciled;
        let Some(run) = state.run.as_mut() else {
            return Err(Error::pagination("sync state has no run in progress"));
        };
        if run.started.is_none() {
            // The earlier of the page's `Date` and, for a parallel listing, its bounds'.
            let started = page.walk_date.or(server_time).ok_or_else(|| {
                Error::pagination(
                    "the server's answer has no usable Date header; a sync needs the server's \
                     clock to set its bookmark. Check what is in front of the server (a proxy \
                     may strip it)",
                )
            })?;
            run.started = Some(started);
            if run.reconcile.is_none() {
                run.reconcile = Some(self.reconcile.is_due(reconciled, started));
            }
        }
        let pass = passes(run).get(run.pass).copied();
        // Remember what a later listing of this run or the next run may list again: from
        // the earlier of this run's window start and the next run's.
        let next_window = run.started.map_or(i64::MIN, |t| (t - lookback).timestamp());
        let keep_from = run
            .from
            .map_or(next_window, |from| from.timestamp().min(next_window));
        let done = page.checkpoint().is_done();
        let checkpoint = page.checkpoint().clone();
        let deletions = match pass {
            Some(pass) if pass.is_whole() => reconcile_page(run, &page, done)?,
            _ => None,
        };
        if let Some(d) = &deletions {
            state.counts.ids_listed += d.present.len() as u64;
        }
        if pass == Some(Pass::Ids) {
            // Nothing to deliver: the pass only names what exists.
            return Ok(self.finish_page(
                state,
                done,
                checkpoint,
                Vec::new(),
                0,
                Vec::new(),
                deletions,
                server_time,
            ));
        }
        let mut items = Vec::new();
        let mut record_errors = Vec::new();
        let mut skipped = 0;
        for entry in page.into_items() {
            match entry {
                Ok(item) => {
                    let Some(id) = item.product_id() else {
                        items.push(item);
                        continue;
                    };
                    let seen = Seen {
                        fp: fingerprint(&item),
                        at: stamp(&item),
                    };
                    if state.recent.get(&id).is_some_and(|s| s.fp == seen.fp) {
                        skipped += 1;
                        continue;
                    }
                    if seen.at >= keep_from {
                        state.recent.insert(id, seen);
                    } else {
                        state.recent.remove(&id);
                    }
                    items.push(item);
                }
                Err(e) => record_errors.push(e),
            }
        }
        Ok(self.finish_page(
            state,
            done,
            checkpoint,
            items,
            skipped,
            record_errors,
            deletions,
            server_time,
        ))
    }

    /// Counts the page, moves the run on, and ends it after its last pass.
    #[allow(clippy::too_many_arguments)]
    fn finish_page(
        &self,
        state: &mut SyncState,
        done: bool,
        checkpoint: Checkpoint,
        items: Vec<Item>,
        skipped: u64,
        record_errors: Vec<RecordError>,
        deletions: Option<Deletions>,
        server_time: Option<DateTime<Utc>>,
    ) -> SyncPage {
        let lookback = self.lookback_delta();
        state.counts.delivered += items.len() as u64;
        state.counts.skipped += skipped;
        state.counts.record_errors += record_errors.len() as u64;
        if let Some(run) = state.run.as_mut() {
            if done {
                run.pass += 1;
                run.checkpoint = None;
                run.covered = None;
            } else {
                run.checkpoint = Some(checkpoint);
            }
            if run.pass >= passes(run).len() {
                if state.counts.record_errors == 0 {
                    state.since = run.started;
                    if run.reconciles() && !run.blind {
                        state.reconciled = run.started;
                    }
                }
                let bound = state.since.map_or(i64::MIN, |t| (t - lookback).timestamp());
                state.recent.retain(|_, s| s.at >= bound);
                state.run = None;
            }
        }
        SyncPage {
            items,
            skipped,
            record_errors,
            deletions,
            server_time,
            state: state.clone(),
        }
    }
}

/// The deletions a page of a whole listing shows: the ids from the end of what the pass
/// covered so far through the page's last id (through the end of the key space on the
/// pass's last page), less the ids it lists. Moves `run.covered` on.
fn reconcile_page(run: &mut Run, page: &Page, done: bool) -> Result<Option<Deletions>, Error> {
    let mut present = Vec::with_capacity(page.len());
    let mut readable = true;
    for record in page.records() {
        match record
            .as_ref()
            .ok()
            .and_then(|l| l.product.as_ref())
            .map(|p| p.id)
        {
            Some(id) => present.push(id),
            None => readable = false,
        }
    }
    if !readable {
        // A record whose id is unknown may be any id of the range: judge none of it, nor
        // anything after it (the next range would start inside this one).
        run.blind = true;
    }
    if run.blind {
        return Ok(None);
    }
    let ordered = present.windows(2).all(|w| w[0] < w[1])
        && present
            .first()
            .is_none_or(|&first| run.covered.is_none_or(|c| first > c));
    if !ordered {
        return Err(Error::pagination(
            "a listing sorted by product_id came back out of order, so which products no \
             longer exist cannot be told from it; the state stays before this page. Check \
             what is in front of the server, or sync with Reconcile::Never",
        ));
    }
    let through = if done { None } else { present.last().copied() };
    if !done && through.is_none() {
        // An empty page within the listing covers nothing yet: the next page's range
        // starts where this one would have.
        return Ok(None);
    }
    let deletions = Deletions {
        after: run.covered,
        through,
        present,
    };
    run.covered = through;
    Ok(Some(deletions))
}

/// FNV-1a of the item's JSON (level and product): equal content, equal fingerprint.
fn fingerprint(item: &Item) -> u64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(&serde_json::to_vec(&item.level).unwrap_or_default());
    h.write(b"\n");
    if let Some(p) = &item.product {
        h.write(&serde_json::to_vec(&**p).unwrap_or_default());
    }
    h.finish()
}

/// The newest of the level's and the product's `updated_at`, in Unix seconds.
fn stamp(item: &Item) -> i64 {
    let level = item.level.updated_at.map(|t| t.timestamp());
    let product = item
        .product
        .as_ref()
        .and_then(|p| p.updated_at)
        .map(|t| t.timestamp());
    level.max(product).unwrap_or(i64::MIN)
}

/// Parses an HTTP `Date` header.
pub(crate) fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    let t = httpdate::parse_http_date(value.trim()).ok()?;
    Some(DateTime::<Utc>::from(t))
}
