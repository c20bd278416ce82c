//! Sharded parallel paging ([`TotalLevelsRequest::parallel`](crate::TotalLevelsRequest::parallel)).
//!
//! The `product_id` key space is cut into ranges, each fetched with one extra filter
//! `product_id{gt:A,lt:B}` (AND-combined with the caller's) and following its own `next`.
//! Pages come out in `product_id` order, exactly once:
//!
//! - Bounds: two cheap requests (`limit=1`, sorted up and down by `product_id`, the first
//!   with `count=1`) give the smallest and largest id and the number of matches, hence a
//!   density (levels per id) used to size ranges.
//! - Ranges are taken from the front of the unfetched key space, a few pages' worth each
//!   ([`CHUNK_PAGES`]), lowest first, so the pages being fetched are always near the
//!   delivery point. When no range is waiting, the range with the most estimated levels
//!   left is split in two (work stealing): the upper half becomes a new range, and the
//!   lower keeps going with its `next` narrowed to its new upper bound (levels at or above
//!   it are dropped if a page in flight still brings them, and the range ends there).
//! - Bounded buffering: at most [`HELD_PER_WORKER`] x `n` pages are fetched and not yet
//!   delivered (in flight included); beyond that only the range being delivered fetches.
//! - A checkpoint after each page lists every range not yet delivered (the one being
//!   delivered with its `next`), so a resume fetches nothing twice that was delivered and
//!   skips nothing.

use std::collections::{HashSet, VecDeque};

use futures::stream::FuturesUnordered;
use futures::{Stream, StreamExt as _};
use serde::{Deserialize, Serialize};
use shipstream_filter::{Condition, Filter};
use shipstream_inventory_generated::api::params;
use tokio::task::JoinHandle;
use url::Url;

use crate::pager::next_link;
use crate::{Checkpoint, Client, Error, Page, page::Decoded};

/// Pages of levels a range is sized for (a little less, so that a range's last page is
/// rarely a nearly empty extra request).
pub const CHUNK_PAGES: f64 = 3.9;
/// Pages held per worker at most: fetched (or in flight) and not yet delivered.
pub const HELD_PER_WORKER: usize = 4;

/// The state of a parallel export in a [`Checkpoint`]: every range of the key space that
/// has not been delivered yet, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Shards {
    /// The first page of the whole request (sorted by `product_id`), without a range.
    pub(crate) template: String,
    /// Workers (requests at once) of the export.
    pub(crate) workers: u32,
    /// Levels per million ids, for sizing ranges.
    pub(crate) density_ppm: u64,
    /// What remains, in key order.
    pub(crate) ranges: Vec<Shard>,
    /// True before the bounds are known (a checkpoint taken before the first page): the
    /// resume starts the export afresh.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) fresh: bool,
}

/// One range: ids greater than `gt` and less than `lt`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Shard {
    pub(crate) gt: i64,
    pub(crate) lt: i64,
    /// Where the range goes on; `None` when nothing of it was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<String>,
}

/// A fetched page of a range, ready to deliver.
struct Fetched {
    decoded: Decoded,
    /// The range's `next` after this page (raw, as sent or narrowed); `None` when the
    /// range ended with it.
    next: Option<String>,
}

struct Range {
    gt: i64,
    lt: i64,
    /// The next URL to fetch (with its raw form); `None` before the first request.
    next: Option<(Url, String)>,
    started: bool,
    in_flight: bool,
    done: bool,
    /// The highest id seen.
    progress: i64,
    /// The highest id delivered (the checkpoint's lower bound of the range).
    delivered: i64,
    /// The filter value this range's URLs carry.
    filter: String,
    pages: VecDeque<Fetched>,
    /// Delivered and not: every URL fetched, for loop detection.
    seen: HashSet<String>,
    /// A failure to yield once the range's earlier pages are delivered.
    error: Option<Error>,
}

impl Range {
    fn new(gt: i64, lt: i64) -> Range {
        Range {
            gt,
            lt,
            next: None,
            started: false,
            in_flight: false,
            done: gt.saturating_add(1) >= lt,
            progress: gt,
            delivered: gt,
            filter: String::new(),
            pages: VecDeque::new(),
            seen: HashSet::new(),
            error: None,
        }
    }

    /// Ids left that may hold undelivered levels.
    fn ids_left(&self) -> i64 {
        let left = i128::from(self.lt) - i128::from(self.progress) - 1;
        i64::try_from(left.max(0)).unwrap_or(i64::MAX)
    }
}

type Task = JoinHandle<(u64, Url, Result<Decoded, Error>)>;

pub(crate) struct Sharded {
    client: Client,
    template: Url,
    workers: usize,
    page_size: f64,
    density: f64,
    /// Ranges by id (an increasing counter), kept in key order in `order`.
    ranges: Vec<(u64, Range)>,
    next_id: u64,
    tasks: FuturesUnordered<Task>,
    pages: u64,
    items: u64,
    max_items: Option<u64>,
    /// An error before any range exists (bounds, a bad checkpoint).
    pending: Option<Error>,
    /// Set when the bounds are not known yet.
    needs_bounds: bool,
    finished: bool,
    /// The server's `Date` of the bounds requests (the earlier of the two), the time at
    /// which the ranges' view of the key space was taken.
    bounds_date: Option<chrono::DateTime<chrono::Utc>>,
}

impl Drop for Sharded {
    fn drop(&mut self) {
        for t in self.tasks.iter() {
            t.abort();
        }
    }
}

fn render(gt: i64, lt: i64) -> String {
    Filter::all(
        crate::fields::PRODUCT_ID.name(),
        [Condition::gt(gt), Condition::lt(lt)],
    )
    .render()
}

/// `url` with the query pair `key` set to `value` (replacing it, or added).
fn with_param(url: &Url, key: &str, value: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != key)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(key, value);
    out
}

/// `url` with the `filter` pair equal to `from` replaced by `to` (and, when `from` is
/// absent, `to` added).
fn with_range_filter(url: &Url, from: &str, to: &str) -> Url {
    let name = params::FILTER.name;
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    // The last match: the range filter is appended after the caller's filters.
    let at = pairs.iter().rposition(|(k, v)| k == name && v == from);
    if let Some(i) = at {
        pairs[i].1 = to.to_owned();
    }
    let replaced = at.is_some();
    let mut out = url.clone();
    {
        let mut q = out.query_pairs_mut();
        q.clear().extend_pairs(pairs);
        if !replaced {
            q.append_pair(name, to);
        }
    }
    out
}

/// The checkpoint of a parallel export before its first page.
pub(crate) fn fresh_checkpoint(template: &Url, workers: usize) -> Checkpoint {
    Checkpoint::parallel(
        Shards {
            template: template.to_string(),
            workers: u32::try_from(workers).unwrap_or(u32::MAX),
            density_ppm: 0,
            ranges: Vec::new(),
            fresh: true,
        },
        0,
        0,
    )
}

fn product_id(entry: &Result<crate::Level, crate::RecordError>) -> Option<i64> {
    entry.as_ref().ok()?.product.as_ref().map(|p| p.id)
}

impl Sharded {
    /// A new parallel export of `template` (the first page's URL, sorted by
    /// `product_id`).
    pub(crate) fn new(
        client: Client,
        template: Url,
        workers: usize,
        max_items: Option<u64>,
    ) -> Sharded {
        let page_size = page_size_of(&template);
        Sharded {
            client,
            template,
            workers: workers.max(1),
            page_size,
            density: 1.0,
            ranges: Vec::new(),
            next_id: 0,
            tasks: FuturesUnordered::new(),
            pages: 0,
            items: 0,
            max_items,
            pending: None,
            needs_bounds: true,
            bounds_date: None,
            finished: false,
        }
    }

    /// Resumes from a parallel checkpoint.
    pub(crate) fn resume(
        client: Client,
        checkpoint: &Checkpoint,
        shards: &Shards,
        max_items: Option<u64>,
    ) -> Sharded {
        let endpoint = client.inner.endpoint.clone();
        let mut s = match client.resolve_next(&endpoint, &shards.template) {
            Ok(template) if shards.fresh => {
                return Sharded::new(client, template, shards.workers as usize, max_items);
            }
            Ok(template) => Sharded::new(client, template, shards.workers as usize, max_items),
            Err(e) => {
                let mut s = Sharded::new(client, endpoint, 1, max_items);
                s.pending = Some(e);
                return s;
            }
        };
        s.needs_bounds = false;
        s.pages = checkpoint.pages;
        s.items = checkpoint.items;
        s.density = (shards.density_ppm as f64 / 1e6).max(1e-9);
        if max_items.is_some_and(|m| s.items >= m) {
            s.finished = true;
        }
        for shard in &shards.ranges {
            let mut r = Range::new(shard.gt, shard.lt);
            if let Some(raw) = &shard.next {
                let here = s.template.clone();
                match s.client.resolve_next(&here, raw) {
                    Ok(url) => {
                        r.started = true;
                        r.filter = render(shard.gt, shard.lt);
                        // A checkpoint's `next` may carry the bounds the range had when
                        // it was fetched: narrow them to the range's.
                        let url = narrow(&url, shard.gt, shard.lt);
                        r.seen.insert(url.as_str().to_owned());
                        r.next = Some((url, raw.clone()));
                    }
                    Err(e) => r.error = Some(e),
                }
            }
            s.push_range(r);
        }
        s
    }

    fn push_range(&mut self, r: Range) {
        self.ranges.push((self.next_id, r));
        self.next_id += 1;
    }

    pub(crate) fn into_stream(self) -> impl Stream<Item = Result<Page, Error>> + Send + 'static {
        futures::stream::unfold(self, |mut s| async move {
            let item = s.next_page().await?;
            Some((item, s))
        })
    }

    /// Finds the bounds and the density with two cheap requests.
    async fn bounds(&mut self) -> Result<Option<Page>, Error> {
        let sort = params::SORT.name;
        let up = crate::Sort::asc(crate::SortField::ProductId).to_string();
        let down = crate::Sort::desc(crate::SortField::ProductId).to_string();
        let probe = with_param(&self.template, params::LIMIT.name, "1");
        let first = with_param(&with_param(&probe, sort, &up), params::COUNT.name, "1");
        let last = with_param(&probe, sort, &down);
        let (first, last) = tokio::join!(self.client.fetch(&first), self.client.fetch(&last));
        let first = first?;
        self.bounds_date = first.server_date;
        let id_of = |d: &Decoded| d.entries.iter().find_map(product_id);
        let Some(lo) = id_of(&first) else {
            if first.entries.is_empty() {
                // Nothing matches: one empty page, as a sequential export gives.
                self.finished = true;
                self.pages += 1;
                let mut page =
                    first.into_page(self.pages, Checkpoint::new(None, self.pages, self.items));
                page.has_more = false;
                page.next = None;
                page.previous = None;
                return Ok(Some(page));
            }
            return Err(Error::invalid_request(
                "a parallel export needs each level's product id, and the first level has \
                 none: ask for the `product` field too (or leave `fields` unset)",
            ));
        };
        let last = last?;
        self.bounds_date = match (self.bounds_date, last.server_date) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let hi = id_of(&last).unwrap_or(lo).max(lo);
        let span = (i128::from(hi) - i128::from(lo) + 1) as f64;
        let count = first
            .meta
            .as_ref()
            .and_then(|m| m.count)
            .map_or(span, |c| c as f64);
        self.density = (count / span).clamp(1e-9, 1.0);
        self.push_range(Range::new(lo.saturating_sub(1), hi.saturating_add(1)));
        Ok(None)
    }

    fn held(&self) -> usize {
        self.ranges
            .iter()
            .map(|(_, r)| r.pages.len() + usize::from(r.in_flight))
            .sum()
    }

    fn in_flight(&self) -> usize {
        self.ranges.iter().filter(|(_, r)| r.in_flight).count()
    }

    /// Starts fetches while slots and the buffer allow.
    fn schedule(&mut self) {
        let cap = HELD_PER_WORKER * self.workers;
        // The range being delivered always fetches: the consumer waits for it.
        if let Some((_, head)) = self.ranges.first()
            && !head.in_flight
            && !head.done
            && head.error.is_none()
        {
            if !head.started {
                self.carve(0);
            }
            self.start(0);
        }
        while self.in_flight() < self.workers {
            let room = self.held() < cap;
            // 1. A started range waiting for its next page: the head always, others
            //    when there is room.
            let ready = self.ranges.iter().position(|(_, r)| {
                r.started && !r.done && !r.in_flight && r.error.is_none() && r.next.is_some()
            });
            if let Some(i) = ready
                && (i == 0 || room)
            {
                self.start(i);
                continue;
            }
            if !room {
                return;
            }
            // 2. The first range not started: carve a chunk off its front.
            if let Some(i) = self
                .ranges
                .iter()
                .position(|(_, r)| !r.started && !r.done && r.error.is_none())
            {
                self.carve(i);
                self.start(i);
                continue;
            }
            // 3. Steal: split the range with the most levels left.
            if let Some(i) = self.victim()
                && self.split(i)
            {
                continue;
            }
            return;
        }
    }

    fn chunk_ids(&self) -> i64 {
        ((CHUNK_PAGES * self.page_size) / self.density)
            .ceil()
            .max(1.0) as i64
    }

    /// Cuts an unstarted range at `i` to a chunk; the rest stays unstarted after it.
    fn carve(&mut self, i: usize) {
        let width = self.chunk_ids();
        let (gt, lt) = (self.ranges[i].1.gt, self.ranges[i].1.lt);
        let cut = gt.saturating_add(width).saturating_add(1);
        if cut < lt.saturating_sub(1) {
            self.ranges[i].1.lt = cut;
            let rest = Range::new(cut - 1, lt);
            let id = self.next_id;
            self.next_id += 1;
            self.ranges.insert(i + 1, (id, rest));
        }
    }

    /// The started range with the most estimated levels left, if worth splitting (at
    /// least two pages, after the one in flight).
    fn victim(&self) -> Option<usize> {
        let page_ids = self.page_size / self.density;
        self.ranges
            .iter()
            .enumerate()
            .filter(|(_, (_, r))| r.started && !r.done && r.error.is_none())
            .map(|(i, (_, r))| {
                let ahead = if r.in_flight { page_ids } else { 0.0 };
                (i, r.ids_left() as f64 - ahead)
            })
            .filter(|(_, left)| *left * self.density >= 2.0 * self.page_size)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }

    /// Splits the range at `i`: the upper half becomes an unstarted range after it.
    /// False when the range is too small to split.
    fn split(&mut self, i: usize) -> bool {
        // `as` saturates a float too large for an i64.
        let page_ids = (self.page_size / self.density).ceil() as i64;
        let r = &self.ranges[i].1;
        let from = r
            .progress
            .saturating_add(if r.in_flight { page_ids } else { 0 });
        let half = (i128::from(r.lt) - i128::from(from)) / 2;
        let Ok(cut) = i64::try_from(i128::from(from) + half) else {
            return false;
        };
        if cut <= r.progress.saturating_add(1) || cut >= r.lt.saturating_sub(1) {
            return false;
        }
        let upper = Range::new(cut - 1, r.lt);
        let r = &mut self.ranges[i].1;
        r.lt = cut;
        if let Some((url, raw)) = r.next.take() {
            let narrowed = narrow(&url, r.gt, r.lt);
            r.filter = render(r.gt, r.lt);
            r.next = Some((narrowed, raw));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.ranges.insert(i + 1, (id, upper));
        true
    }

    fn start(&mut self, i: usize) {
        let (id, r) = &mut self.ranges[i];
        let url = match &r.next {
            Some((url, _)) => url.clone(),
            None => {
                r.filter = render(r.gt, r.lt);
                let url = with_range_filter(&self.template, "", &r.filter);
                r.seen.insert(url.as_str().to_owned());
                url
            }
        };
        r.started = true;
        r.in_flight = true;
        let client = self.client.clone();
        let id = *id;
        self.tasks.push(tokio::spawn(async move {
            let result = client.fetch(&url).await;
            (id, url, result)
        }));
    }

    /// Takes in a finished fetch.
    fn land(&mut self, id: u64, url: Url, result: Result<Decoded, Error>) {
        let Some(i) = self.ranges.iter().position(|(rid, _)| *rid == id) else {
            return;
        };
        let r = &mut self.ranges[i].1;
        r.in_flight = false;
        let mut decoded = match result {
            Ok(d) => d,
            Err(e) => {
                r.error = Some(e);
                return;
            }
        };
        // Drop what a split gave to the next range; the range then ends.
        let cut = decoded
            .entries
            .iter()
            .position(|e| product_id(e).is_some_and(|id| id >= r.lt));
        if let Some(cut) = cut {
            decoded.entries.truncate(cut);
        }
        if let Some(max) = decoded.entries.iter().filter_map(product_id).max() {
            r.progress = r.progress.max(max);
        }
        let mut next = None;
        if cut.is_none() && decoded.has_more && r.ids_left() > 0 {
            let (gt, lt) = (r.gt, r.lt);
            match self
                .client
                .follow_next(&url, next_link(&decoded), &mut r.seen, |n| {
                    narrow(&n, gt, lt)
                }) {
                Ok(n) => {
                    next = Some(n.to_string());
                    r.next = Some((n.clone(), n.to_string()));
                }
                Err(e) => r.error = Some(e),
            }
        }
        if next.is_none() {
            r.next = None;
            if r.error.is_none() {
                r.done = true;
            }
        }
        r.pages.push_back(Fetched { decoded, next });
    }

    /// The checkpoint after the head's page just delivered (whose range `next` is
    /// `head_next`).
    fn checkpoint(&self, head_next: Option<&str>, head_ends: bool) -> Checkpoint {
        let mut ranges = Vec::new();
        for (k, (_, r)) in self.ranges.iter().enumerate() {
            if k == 0 {
                if head_ends {
                    continue;
                }
                // Ids are unique (one level per product), so everything at or below the
                // highest id delivered is done: the range resumes above it, following
                // its `next` when it has one (a split after resuming then knows where
                // the range stands), or from its new lower bound when its `next` could
                // not be followed.
                ranges.push(Shard {
                    gt: r.delivered.max(r.gt),
                    lt: r.lt,
                    next: head_next.map(str::to_owned),
                });
            } else if r.gt.saturating_add(1) < r.lt {
                ranges.push(Shard {
                    gt: r.gt,
                    lt: r.lt,
                    next: None,
                });
            }
        }
        let shards = Shards {
            template: self.template.to_string(),
            workers: u32::try_from(self.workers).unwrap_or(u32::MAX),
            density_ppm: (self.density * 1e6).round() as u64,
            ranges,
            fresh: false,
        };
        Checkpoint::parallel(shards, self.pages, self.items)
    }

    /// The next page in `product_id` order, or `None` when done.
    pub(crate) async fn next_page(&mut self) -> Option<Result<Page, Error>> {
        if let Some(e) = self.pending.take() {
            self.finished = true;
            return Some(Err(e));
        }
        if self.finished {
            return None;
        }
        if self.needs_bounds {
            self.needs_bounds = false;
            match self.bounds().await {
                Ok(Some(empty)) => return Some(Ok(empty)),
                Ok(None) => {}
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
            }
        }
        loop {
            // Deliver from the head range.
            while let Some((_, head)) = self.ranges.first_mut() {
                if let Some(fetched) = head.pages.pop_front() {
                    return Some(Ok(self.deliver(fetched)));
                }
                if let Some(e) = head.error.take() {
                    self.finished = true;
                    return Some(Err(e));
                }
                if head.done {
                    self.ranges.remove(0);
                    continue;
                }
                break;
            }
            if self.ranges.is_empty() {
                self.finished = true;
                return None;
            }
            self.schedule();
            let (id, url, result) = match self.tasks.next().await {
                Some(Ok(done)) => done,
                Some(Err(e)) => {
                    self.finished = true;
                    return Some(Err(Error::pagination(format!(
                        "a page task of the parallel export failed: {e}"
                    ))));
                }
                None => {
                    self.finished = true;
                    return Some(Err(Error::pagination(
                        "the parallel export has nothing in flight and nothing to fetch; \
                         this is a bug: please report it",
                    )));
                }
            };
            self.land(id, url, result);
        }
    }

    fn deliver(&mut self, fetched: Fetched) -> Page {
        let Fetched { decoded, next } = fetched;
        if let Some(max) = decoded.entries.iter().filter_map(product_id).max()
            && let Some((_, head)) = self.ranges.first_mut()
        {
            head.delivered = head.delivered.max(max);
        }
        self.pages += 1;
        self.items += decoded.entries.iter().filter(|e| e.is_ok()).count() as u64;
        let head = &self.ranges[0].1;
        let head_ends = head.done && head.pages.is_empty() && next.is_none();
        let reached_max = self.max_items.is_some_and(|m| self.items >= m);
        let checkpoint = if reached_max {
            self.finished = true;
            Checkpoint::new(None, self.pages, self.items)
        } else {
            self.checkpoint(next.as_deref(), head_ends)
        };
        let more = !checkpoint.is_done();
        if !more {
            self.finished = true;
        }
        // The range's `next` (as sent or narrowed) and whether the export goes on, not
        // the server's `next` and `has_more` for the range.
        let mut page = decoded.into_page(self.pages, checkpoint);
        page.has_more = more;
        page.next = next;
        if self.bounds_date.is_some() {
            page.walk_date = self.bounds_date;
        }
        page
    }
}

/// `url` with its range filter (whatever bounds it carries) set to `(gt, lt)`.
fn narrow(url: &Url, gt: i64, lt: i64) -> Url {
    let name = params::FILTER.name;
    let target = render(gt, lt);
    // Only a filter of exactly our form `product_id{gt:A,lt:B}`, and the last one (ours
    // is appended after the caller's filters), so a caller's own `product_id` filter is
    // never taken for the range.
    let prefix = format!("{}{{gt:", crate::fields::PRODUCT_ID.name());
    let is_range = |v: &str| {
        v.strip_prefix(prefix.as_str())
            .and_then(|rest| rest.strip_suffix('}'))
            .and_then(|rest| rest.split_once(",lt:"))
            .is_some_and(|(a, b)| a.parse::<i64>().is_ok() && b.parse::<i64>().is_ok())
    };
    let current = url
        .query_pairs()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| is_range(v))
        .last();
    match current {
        Some(from) if from == target => url.clone(),
        Some(from) => with_range_filter(url, &from, &target),
        None => with_range_filter(url, "", &target),
    }
}

/// The page size of a URL (`limit`, else the spec's default).
fn page_size_of(url: &Url) -> f64 {
    url.query_pairs()
        .find(|(k, _)| k == params::LIMIT.name)
        .and_then(|(_, v)| v.parse::<f64>().ok())
        .or_else(|| params::LIMIT.default.and_then(|d| d.parse::<f64>().ok()))
        .unwrap_or(100.0)
        .max(1.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The safety net behind narrowing: a page that brings levels at or above its
    /// range's upper bound (a server that ignored the narrowed filter, or a page in flight
    /// during a split) is cut there, and the range ends.
    #[tokio::test]
    async fn a_page_that_crosses_its_ranges_bound_is_cut_and_ends_the_range() {
        // No network here; the timeout only guards against a hang.
        let within = std::time::Duration::from_secs(120);
        tokio::time::timeout(within, async {
            let client = Client::builder()
                .base_url("http://127.0.0.1:9")
                .token("t")
                .build()
                .unwrap();
            let template =
                Url::parse("http://127.0.0.1:9/api/global/v1/inventory/levels/total?limit=3")
                    .unwrap();
            let mut s = Sharded::new(client, template.clone(), 2, None);
            s.push_range(Range::new(0, 5));
            s.ranges[0].1.started = true;
            s.ranges[0].1.in_flight = true;
            let level = |id: i64| {
                format!(r#"{{"type":"TotalLevel","product":{{"type":"Product","id":{id}}}}}"#)
            };
            let body = format!(
                r#"{{"collection":[{},{},{}],"has_more":true,"next":"?cursor_start=7"}}"#,
                level(3),
                level(4),
                level(6)
            );
            let decoded = crate::page::decode(body.as_bytes()).unwrap();
            s.land(0, template, Ok(decoded));
            let r = &s.ranges[0].1;
            assert!(r.done && r.next.is_none() && r.error.is_none());
            let kept: Vec<i64> = r.pages[0]
                .decoded
                .entries
                .iter()
                .filter_map(product_id)
                .collect();
            assert_eq!(kept, [3, 4]);
            assert_eq!(r.pages[0].next, None);
        })
        .await
        .unwrap_or_else(|_| panic!("the test did not finish within {within:?}: a hang"));
    }

    #[test]
    fn narrowing_replaces_only_the_range_filter() {
        let url = Url::parse(
            "http://h/p?filter=sku%3AA&filter=product_id%7Bgt%3A0%2Clt%3A100%7D&cursor_start=5",
        )
        .unwrap();
        let n = narrow(&url, 0, 50);
        let pairs: Vec<(String, String)> = n
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("filter".into(), "sku:A".into()),
                ("filter".into(), "product_id{gt:0,lt:50}".into()),
                ("cursor_start".into(), "5".into()),
            ]
        );
        let plain = Url::parse("http://h/p?limit=5").unwrap();
        assert!(
            narrow(&plain, 3, 9)
                .as_str()
                .contains("product_id%7Bgt%3A3%2Clt%3A9%7D")
        );
    }
}
