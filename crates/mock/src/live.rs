//! The live mode: levels change while clients page through them, as in a busy
//! warehouse. Changes are chosen by the seeded generator and stamped with the mock's
//! clock in whole seconds (the API's timestamp precision).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::dataset::{
    Data, List, Product, Q_ADVERTISED, Q_ALLOCATED, Q_AVAILABLE, Q_BACKORDERED, Q_EXPECTED,
    Q_ON_HAND, Q_PICKED, Q_PUTAWAY, flag,
};
use crate::rng::SplitMix64;

/// The generator stream of the live mode (independent of the dataset's and the faults').
pub(crate) const LIVE_STREAM: u64 = 0x11fe;

/// How many changes of each kind the live mode made (see
/// [`MockServer::live_counts`](crate::MockServer::live_counts)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveCounts {
    /// Quantity moves (receive, allocate, pick, ship, count correction); each stamps the
    /// level's `updated_at`.
    pub quantities: u64,
    /// Products disabled (stamps the product's `updated_at`).
    pub disabled: u64,
    /// Products enabled again (stamps the product's `updated_at`).
    pub enabled: u64,
    /// New products (with a new level).
    pub created: u64,
    /// Products deleted: their levels leave every listing (see
    /// [`MockConfig::delete_share`](crate::MockConfig::delete_share)).
    pub deleted: u64,
}

impl LiveCounts {
    /// Every change.
    pub fn total(&self) -> u64 {
        self.quantities + self.disabled + self.enabled + self.created + self.deleted
    }
}

impl std::fmt::Display for LiveCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} changes: {} quantity moves, {} products disabled, {} enabled again, {} new, {} \
             deleted",
            self.total(),
            self.quantities,
            self.disabled,
            self.enabled,
            self.created,
            self.deleted
        )
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    quantities: AtomicU64,
    disabled: AtomicU64,
    enabled: AtomicU64,
    created: AtomicU64,
    deleted: AtomicU64,
}

impl Counters {
    pub(crate) fn get(&self) -> LiveCounts {
        LiveCounts {
            quantities: self.quantities.load(Ordering::Relaxed),
            disabled: self.disabled.load(Ordering::Relaxed),
            enabled: self.enabled.load(Ordering::Relaxed),
            created: self.created.load(Ordering::Relaxed),
            deleted: self.deleted.load(Ordering::Relaxed),
        }
    }

    fn add(&self, kind: Change) {
        let c = match kind {
            Change::Quantity => &self.quantities,
            Change::Disabled => &self.disabled,
            Change::Enabled => &self.enabled,
            Change::Created => &self.created,
            Change::Deleted => &self.deleted,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The mock's clock: the system clock plus a fixed skew, in whole seconds.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Clock {
    pub(crate) skew_secs: i64,
}

impl Clock {
    pub(crate) fn now(self) -> i64 {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        secs + self.skew_secs
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Quantity,
    Disabled,
    Enabled,
    Created,
    Deleted,
}

/// How many changes are due `elapsed` into a run of `rate` changes a second that lasts
/// `duration`.
pub(crate) fn due(rate: f64, duration: Duration, elapsed: Duration) -> u64 {
    let t = elapsed.min(duration).as_secs_f64();
    (t * rate).floor().max(0.0) as u64
}

/// Applies `n` changes to `d`, stamped `now`; `delete_share` of them (0..=1) delete a
/// product.
pub(crate) fn apply(
    d: &mut Data,
    rng: &mut SplitMix64,
    now: i64,
    n: u64,
    delete_share: f64,
    counters: &Counters,
) {
    d.live = true;
    for _ in 0..n {
        let kind = change(d, rng, now, delete_share);
        counters.add(kind);
    }
}

fn change(d: &mut Data, rng: &mut SplitMix64, now: i64, delete_share: f64) -> Change {
    // No draw without deletions: a seed makes the same changes as before they existed.
    if delete_share > 0.0 && !d.products.is_empty() && rng.chance(delete_share) {
        let i = rng.below(d.products.len() as u64) as usize;
        let gone = d.products.remove(i);
        d.deleted_max_id = d.deleted_max_id.max(gone.id);
        return Change::Deleted;
    }
    let roll = rng.below(100);
    if d.products.is_empty() || roll >= 95 {
        create(d, rng, now);
        return Change::Created;
    }
    let i = rng.below(d.products.len() as u64) as usize;
    if roll >= 85 {
        let p = &mut d.products[i];
        p.flags ^= flag::ENABLED;
        p.updated_at = now.max(p.updated_at);
        return if p.has(flag::ENABLED) {
            Change::Enabled
        } else {
            Change::Disabled
        };
    }
    move_quantities(&mut d.products[i], rng);
    let p = &mut d.products[i];
    p.level_updated_at = now.max(p.level_updated_at);
    Change::Quantity
}

/// One warehouse movement, keeping the [quantity invariants](crate#invariants).
fn move_quantities(p: &mut Product, rng: &mut SplitMix64) {
    let q = &mut p.qty;
    let virtual_extra = q[Q_ADVERTISED] - q[Q_AVAILABLE];
    let take = |rng: &mut SplitMix64, of: i32| rng.range(1, of.clamp(1, 50) as u64) as i32;
    match rng.below(5) {
        // Allocate available stock to an order.
        0 if q[Q_AVAILABLE] > 0 => {
            let k = take(rng, q[Q_AVAILABLE]);
            q[Q_AVAILABLE] -= k;
            q[Q_ALLOCATED] += k;
        }
        // Pick allocated stock.
        1 if q[Q_ALLOCATED] > 0 => {
            let k = take(rng, q[Q_ALLOCATED]);
            q[Q_ALLOCATED] -= k;
            q[Q_PICKED] += k;
        }
        // Ship picked stock: it leaves the building.
        2 if q[Q_PICKED] > 0 => {
            let k = take(rng, q[Q_PICKED]);
            q[Q_PICKED] -= k;
            q[Q_ON_HAND] -= k;
        }
        // A count correction on the shelf.
        3 if q[Q_AVAILABLE] > 0 => {
            let k = take(rng, q[Q_AVAILABLE]);
            q[Q_AVAILABLE] -= k;
            q[Q_ON_HAND] -= k;
        }
        // Receive a delivery (part of what was expected, if anything was) and put it away.
        _ => {
            let k = rng.range(1, 200) as i32;
            q[Q_EXPECTED] = (q[Q_EXPECTED] - k).max(0);
            q[Q_PUTAWAY] = 0;
            q[Q_AVAILABLE] = q[Q_AVAILABLE].saturating_add(k);
            q[Q_ON_HAND] = q[Q_ON_HAND].saturating_add(k);
        }
    }
    q[Q_ADVERTISED] = if p.virtual_inventory.is_null() {
        q[Q_AVAILABLE]
    } else {
        q[Q_AVAILABLE].saturating_add(virtual_extra.max(0))
    };
    if q[Q_AVAILABLE] > 0 {
        q[Q_BACKORDERED] = 0;
    } else if p.flags & flag::BACKORDERS != 0 && q[Q_BACKORDERED] == 0 && rng.chance(0.3) {
        q[Q_BACKORDERED] = rng.range(1, 40) as i32;
    }
}

/// A new product (a copy of a random one's details, with a new id and SKU), fresh stock.
fn create(d: &mut Data, rng: &mut SplitMix64, now: i64) {
    // Above every id ever used, deleted ones included: nothing of a deleted product
    // comes back.
    let max_id = d.products.last().map_or(0, |p| p.id).max(d.deleted_max_id);
    let id = max_id.saturating_add(rng.range(1, 3) as u32);
    if id == max_id {
        return; // ids exhausted: nothing to add
    }
    let mut sku = format!("NEW-{id:07}");
    while d.products.iter().any(|p| d.str(p.sku) == sku) {
        sku.push('X');
    }
    let template = if d.products.is_empty() {
        None
    } else {
        Some(d.products[rng.below(d.products.len() as u64) as usize].clone())
    };
    let sku = d.push_text(&sku);
    let mut p = match template {
        Some(t) => t,
        None => empty_product(d),
    };
    p.id = id;
    p.sku = sku;
    p.barcodes = List::NULL;
    p.flags |= flag::ENABLED;
    p.created_at = now;
    p.updated_at = now;
    p.level_updated_at = now;
    let stock = rng.range(1, 500) as i32;
    let virtual_extra = if p.virtual_inventory.is_null() {
        0
    } else {
        rng.range(0, 50) as i32
    };
    p.qty = [0; 10];
    p.qty[Q_AVAILABLE] = stock;
    p.qty[Q_ON_HAND] = stock;
    p.qty[Q_ADVERTISED] = stock + virtual_extra;
    d.products.push(p);
}

fn empty_product(d: &mut Data) -> Product {
    let name = d.push_text("New product");
    let goods_type = d.push_text("NORMAL");
    Product {
        name,
        goods_type,
        flags: flag::ENABLED | flag::AVAILABLE | flag::VISIBLE | flag::INVENTORY,
        ..Product::BLANK
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Dataset;

    fn run(seed: u64, n: u64) -> (Dataset, LiveCounts) {
        let mut ds = Dataset::generate(300, 5);
        let counters = Counters::default();
        let mut rng = SplitMix64::derive(seed, LIVE_STREAM);
        let data = std::sync::Arc::make_mut(&mut ds.data);
        apply(data, &mut rng, 1_800_000_000, n, 0.0, &counters);
        (ds, counters.get())
    }

    #[test]
    fn deletions_take_their_share_and_no_id_or_sku_comes_back() {
        let mut ds = Dataset::generate(300, 5);
        let before: std::collections::BTreeSet<u32> =
            ds.data.products.iter().map(|p| p.id).collect();
        let counters = Counters::default();
        let mut rng = SplitMix64::derive(4, LIVE_STREAM);
        let data = std::sync::Arc::make_mut(&mut ds.data);
        let mut ever = before.clone();
        let mut skus = std::collections::BTreeSet::new();
        for p in &data.products {
            skus.insert(data.str(p.sku).to_owned());
        }
        for step in 0..4000 {
            apply(data, &mut rng, 1_800_000_000 + step, 1, 0.2, &counters);
            for p in &data.products {
                if ever.insert(p.id) {
                    // A new product: an id and a SKU never seen, deleted ones included.
                    assert!(skus.insert(data.str(p.sku).to_owned()), "SKU reused");
                }
            }
        }
        let counts = counters.get();
        assert_eq!(counts.total(), 4000);
        // 20% of 4000 is 800; the binomial's standard deviation is about 25.
        assert!((700..=900).contains(&counts.deleted), "{counts}");
        let now: std::collections::BTreeSet<u32> = data.products.iter().map(|p| p.id).collect();
        assert_eq!(
            ever.len() as u64 - now.len() as u64,
            counts.deleted,
            "each deletion removes one product for good: {counts}"
        );
        assert!(data.products.windows(2).all(|w| w[0].id < w[1].id));
        ds.check_invariants().unwrap();
    }

    #[test]
    fn changes_keep_every_invariant_and_are_deterministic() {
        let (a, counts) = run(9, 5000);
        a.check_invariants().unwrap();
        assert_eq!(counts.total(), 5000);
        assert!(counts.quantities > 3000 && counts.created > 100, "{counts}");
        assert!(counts.disabled > 100 && counts.enabled > 100, "{counts}");
        let (b, _) = run(9, 5000);
        assert_eq!(a.to_ndjson_string(), b.to_ndjson_string());
        let (c, _) = run(10, 5000);
        assert_ne!(a.to_ndjson_string(), c.to_ndjson_string());
    }

    #[test]
    fn changes_are_stamped_with_the_clock_in_whole_seconds() {
        let before = Dataset::generate(300, 5);
        let (after, _) = run(3, 50);
        let mut changed = 0;
        for p in &after.data.products {
            match before.data.index_of(i64::from(p.id)) {
                Some(i) => {
                    let old = &before.data.products[i];
                    if old.qty != p.qty {
                        assert_eq!(p.level_updated_at, 1_800_000_000);
                        changed += 1;
                    }
                    if old.flags != p.flags {
                        assert_eq!(p.updated_at, 1_800_000_000);
                    }
                }
                None => assert_eq!(p.created_at, 1_800_000_000),
            }
        }
        assert!(changed > 0);
    }

    #[test]
    fn the_schedule_spreads_changes_over_the_duration() {
        let d = Duration::from_secs(10);
        assert_eq!(due(5.0, d, Duration::from_millis(0)), 0);
        assert_eq!(due(5.0, d, Duration::from_millis(1000)), 5);
        assert_eq!(due(5.0, d, Duration::from_secs(60)), 50);
        assert_eq!(due(0.5, d, Duration::from_secs(3)), 1);
    }
}
