//! Paging over the dataset: cached sort orders, cursors, `next`/`previous`, counts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use crate::dataset::{Data, Dataset};
use crate::query::{Detail, ListQuery, SortSpec};

/// Sort orders kept at once (each costs 8 bytes per product).
const SORT_CACHE: usize = 8;
/// Counts kept at once.
const COUNT_CACHE: usize = 64;

/// One sort order of the whole dataset.
#[derive(Debug)]
pub(crate) struct SortIndex {
    /// Product indices in sort order.
    pub(crate) order: Vec<u32>,
    /// `pos[product index]` = its position in `order`.
    pub(crate) pos: Vec<u32>,
}

impl SortIndex {
    fn build(d: &Data, spec: &SortSpec) -> SortIndex {
        let n = d.products.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        match spec.by_id() {
            Some(false) => {}
            Some(true) => order.reverse(),
            None => order.sort_unstable_by(|&a, &b| {
                spec.compare(d, &d.products[a as usize], &d.products[b as usize])
            }),
        }
        let mut pos = vec![0u32; n];
        for (p, &i) in order.iter().enumerate() {
            pos[i as usize] = p as u32;
        }
        SortIndex { order, pos }
    }
}

type Slot = Arc<OnceLock<Arc<SortIndex>>>;

/// The dataset with its caches. In live mode the dataset is replaced as it changes;
/// every page is computed on the snapshot current when it was requested.
#[derive(Debug)]
pub(crate) struct Engine {
    dataset: RwLock<Dataset>,
    /// Bumped by every change; part of the cache keys.
    generation: AtomicU64,
    sorts: Mutex<Vec<(String, Slot)>>,
    counts: Mutex<Vec<(String, u64)>>,
}

/// The levels of one page and the cursors around it.
#[derive(Debug, Default)]
pub(crate) struct PageResult {
    /// Product indices, in page order.
    pub(crate) items: Vec<u32>,
    /// Id of the first matching product after the page.
    pub(crate) next_start: Option<u32>,
    /// Id of the first matching product after the next page (its exclusive end).
    pub(crate) next_end: Option<u32>,
    /// The `cursor_end` of the previous page, when there is one.
    pub(crate) prev_end: Option<i64>,
    /// Matches before paging (`count=1`).
    pub(crate) count: Option<u64>,
}

impl Engine {
    pub(crate) fn new(dataset: Dataset) -> Engine {
        Engine {
            dataset: RwLock::new(dataset),
            generation: AtomicU64::new(0),
            sorts: Mutex::new(Vec::new()),
            counts: Mutex::new(Vec::new()),
        }
    }

    /// The current dataset with its generation (a consistent snapshot: cheap, shared).
    pub(crate) fn snapshot(&self) -> (Dataset, u64) {
        let ds = self.dataset.read().unwrap_or_else(|p| p.into_inner());
        (ds.clone(), self.generation.load(Ordering::Acquire))
    }

    /// Changes the dataset in place (copying it first when a page in flight still reads
    /// it) and drops the caches built from the old one.
    pub(crate) fn mutate<R>(&self, change: impl FnOnce(&mut Data) -> R) -> R {
        let mut ds = self.dataset.write().unwrap_or_else(|p| p.into_inner());
        let result = change(Arc::make_mut(&mut ds.data));
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.sorts.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        result
    }

    /// The cached sort order for `spec` (built on first use; LRU of [`SORT_CACHE`]).
    pub(crate) fn sort_index(&self, spec: &SortSpec) -> Arc<SortIndex> {
        let (ds, generation) = self.snapshot();
        self.sort_index_of(&ds.data, generation, spec)
    }

    fn sort_index_of(&self, data: &Data, generation: u64, spec: &SortSpec) -> Arc<SortIndex> {
        let key = format!("{generation}\u{0}{}", spec.cache_key());
        let slot: Slot = {
            let mut sorts = self.sorts.lock().unwrap_or_else(|p| p.into_inner());
            let slot = match sorts.iter().position(|(k, _)| *k == key) {
                Some(i) => sorts.remove(i).1,
                None => Slot::default(),
            };
            sorts.push((key, slot.clone()));
            if sorts.len() > SORT_CACHE {
                sorts.remove(0);
            }
            slot
        };
        slot.get_or_init(|| Arc::new(SortIndex::build(data, spec)))
            .clone()
    }

    fn count(&self, d: &Data, generation: u64, q: &ListQuery) -> u64 {
        let key = format!("{generation}\u{0}{}\u{0}{}", q.enabled_only, q.filter_key);
        {
            let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((_, c)) = counts.iter().find(|(k, _)| *k == key) {
                return *c;
            }
        }
        let c = d.products.iter().filter(|p| q.matches(d, p)).count() as u64;
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.push((key, c));
        if counts.len() > COUNT_CACHE {
            counts.remove(0);
        }
        c
    }

    /// The position in `index` where a page bounded by cursor `id` starts (or ends).
    fn position(
        d: &Data,
        index: &SortIndex,
        spec: &SortSpec,
        id: i64,
        key: &str,
    ) -> Result<usize, Detail> {
        if let Some(i) = d.index_of(id) {
            return Ok(index.pos[i] as usize);
        }
        let n = d.products.len();
        match spec.by_id() {
            // Ascending ids: the first product with a larger id.
            Some(false) => Ok(d.products.partition_point(|p| i64::from(p.id) < id)),
            // Descending ids: after every product with a larger id.
            Some(true) => Ok(n - d.products.partition_point(|p| i64::from(p.id) <= id)),
            None => Err(Detail::meaning(
                key,
                format!(
                    "no product has id {id}; unless the listing is sorted by product_id, a \
                     cursor must be the id of a product (take it from `next`, `previous` or \
                     `meta`)"
                ),
            )),
        }
    }

    /// Computes one page on the current dataset, which it returns with the page (render
    /// from it). Costs O(limit + skipped non-matching records) once the sort order is
    /// cached.
    pub(crate) fn page(&self, q: &ListQuery) -> Result<(PageResult, Dataset), Detail> {
        let (ds, generation) = self.snapshot();
        let d = &*ds.data;
        let n = d.products.len();
        let index = self.sort_index_of(d, generation, &q.sort);
        let matches = |pos: usize| {
            let i = index.order[pos] as usize;
            q.matches(d, &d.products[i])
        };
        let start = q
            .cursor_start
            .map(|id| Self::position(d, &index, &q.sort, id, "cursor_start"))
            .transpose()?;
        let end = q
            .cursor_end
            .map(|id| Self::position(d, &index, &q.sort, id, "cursor_end"))
            .transpose()?;

        let mut positions = Vec::with_capacity(q.limit.min(n));
        // Where to look for the next page when this one is empty.
        let resume = match (start, end) {
            (None, Some(e)) => {
                // Backwards: the `limit` matches just before `e`.
                let mut p = e;
                while p > 0 && positions.len() < q.limit {
                    p -= 1;
                    if matches(p) {
                        positions.push(p);
                    }
                }
                positions.reverse();
                e
            }
            _ => {
                let s = start.unwrap_or(0);
                let e = end.unwrap_or(n).max(s);
                let mut p = s;
                while p < e && positions.len() < q.limit {
                    if matches(p) {
                        positions.push(p);
                    }
                    p += 1;
                }
                p
            }
        };

        let after = positions.last().map_or(resume, |&p| p + 1);
        let next_pos = (after..n).find(|&p| matches(p));
        let id_at = |pos: usize| d.products[index.order[pos] as usize].id;
        let next_end = next_pos.and_then(|np| {
            let mut seen = 0usize;
            (np..n).find(|&p| {
                if matches(p) {
                    seen += 1;
                }
                seen > q.limit
            })
        });
        let prev_end = match positions.first() {
            Some(&first) if start.is_some() || end.is_some() => (0..first)
                .rev()
                .any(matches)
                .then(|| i64::from(id_at(first))),
            Some(_) => None,
            None => match (start, q.cursor_start) {
                (Some(s), Some(cursor)) => (0..s.min(n)).rev().any(matches).then_some(cursor),
                _ => None,
            },
        };
        let result = PageResult {
            items: positions.iter().map(|&p| index.order[p]).collect(),
            next_start: next_pos.map(id_at),
            next_end: next_end.map(id_at),
            prev_end,
            count: q.count.then(|| self.count(d, generation, q)),
        };
        Ok((result, ds.clone()))
    }
}
