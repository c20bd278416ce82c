//! [`Gate`]: answers held until a test lets them go, so that a test orders what happens
//! on the server by counting, not by timing.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;

type Matches = dyn Fn(&[(String, String)]) -> bool + Send + Sync;

/// Holds the endpoint's answers to the requests it matches (by their decoded query pairs)
/// until [`Gate::release`] lets them go, and counts every request that reaches the
/// endpoint ([`MockConfig::gate`](crate::MockConfig::gate)). Clones share one gate.
///
/// ```
/// use shipstream_inventory_mock::Gate;
///
/// // Holds every request that asks for a cursor.
/// let gate = Gate::new(|query| query.iter().any(|(k, _)| k == "cursor_start"));
/// assert_eq!((gate.arrived(), gate.held()), (0, 0));
/// gate.release(1); // the next such request goes through at once
/// ```
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    matches: Box<Matches>,
    permits: Semaphore,
    arrived: AtomicU64,
    held: AtomicU64,
}

impl Gate {
    /// A gate that holds the requests `matches` says yes to.
    pub fn new(matches: impl Fn(&[(String, String)]) -> bool + Send + Sync + 'static) -> Gate {
        Gate {
            inner: Arc::new(Inner {
                matches: Box::new(matches),
                permits: Semaphore::new(0),
                arrived: AtomicU64::new(0),
                held: AtomicU64::new(0),
            }),
        }
    }

    /// Lets `n` requests through: those held now first, then those still to come.
    pub fn release(&self, n: usize) {
        self.inner.permits.add_permits(n);
    }

    /// Requests that reached the endpoint so far (authorized ones), held or not.
    pub fn arrived(&self) -> u64 {
        self.inner.arrived.load(Ordering::SeqCst)
    }

    /// Requests held now.
    pub fn held(&self) -> u64 {
        self.inner.held.load(Ordering::SeqCst)
    }

    /// Counts a request and, if it matches, waits for a release.
    pub(crate) async fn pass(&self, query: &[(String, String)]) {
        /// Counts a held request off when it goes on or is dropped.
        struct Held<'a>(&'a AtomicU64);
        impl Drop for Held<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let inner = &*self.inner;
        if !(inner.matches)(query) {
            inner.arrived.fetch_add(1, Ordering::SeqCst);
            return;
        }
        inner.held.fetch_add(1, Ordering::SeqCst);
        inner.arrived.fetch_add(1, Ordering::SeqCst);
        let _held = Held(&inner.held);
        // The semaphore is never closed.
        if let Ok(permit) = inner.permits.acquire().await {
            permit.forget();
        }
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("arrived", &self.arrived())
            .field("held", &self.held())
            .finish_non_exhaustive()
    }
}
