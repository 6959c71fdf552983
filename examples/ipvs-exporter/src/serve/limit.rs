//! The bounds on written pages: how many are written at once, when a client that takes
//! nothing is cut off, and one reading shared by the scrapes that arrive together.
//!
//! A written page holds a reading (the kernel's table) and its encoder's state until its
//! client has taken the whole page; a client that asks and never reads would hold them for
//! ever, and N such clients N of them. So a server writes at most [`MAX_PAGES`] pages at
//! once (a page slot each, taken before the page reads anything); a request that finds
//! every slot taken gets `503 Service Unavailable` with `Retry-After: `[`RETRY_AFTER`]
//! unless one of the pages has had a client that took nothing for [`CROWDED_STALL`]: that
//! client is cut off and the new request takes its slot. Without such pressure a client
//! that takes nothing for [`STALLED`] is cut off. Pages that share a [`Reading`] hold it
//! once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The most pages (bodies [`Body::Written`](super::Body::Written)) a server writes at once;
/// further requests for such pages get 503 (see [`CROWDED_STALL`]).
pub const MAX_PAGES: usize = 4;

/// How long a page's client may take nothing (with a piece waiting for it) before it is cut
/// off: the reply ends unfinished and the connection is closed.
pub const STALLED: Duration = Duration::from_secs(60);

/// When every page slot is taken, a page whose client has taken nothing for this long is cut
/// off to make room for a new request (the one stalled longest first).
pub const CROWDED_STALL: Duration = Duration::from_secs(5);

/// The `Retry-After` of a 503 (every page slot taken, none stalled for [`CROWDED_STALL`]).
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// How long a reading is shared: a page that starts within this time of the end of a reading
/// still held by another page (or while one is being made) uses it instead of reading again.
pub const FRESH: Duration = Duration::from_secs(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The page slots of one server.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    taken: Mutex<Vec<Arc<SlotState>>>,
}

/// What a slot's page tells of its client, and how to cut it off.
#[derive(Debug)]
pub(crate) struct SlotState {
    /// Pieces waiting for the client, and since when it has taken none (the later of its last
    /// take and the moment a piece started to wait).
    flow: Mutex<(usize, Instant)>,
    /// Cuts the connection off (its server task waits on it).
    pub(crate) cut: Arc<Notify>,
    /// Set when the page is done with the slot.
    released: AtomicBool,
    done: Notify,
}

impl SlotState {
    /// How long the client has taken nothing while a piece waited for it.
    fn stalled(&self) -> Duration {
        let (queued, since) = *lock(&self.flow);
        if queued == 0 {
            Duration::ZERO
        } else {
            since.elapsed()
        }
    }

    /// A piece is waiting for the client.
    pub(crate) fn queued(&self) {
        let mut f = lock(&self.flow);
        if f.0 == 0 {
            f.1 = Instant::now();
        }
        f.0 += 1;
    }

    /// The client took a piece.
    pub(crate) fn taken(&self) {
        let mut f = lock(&self.flow);
        f.0 = f.0.saturating_sub(1);
        f.1 = Instant::now();
    }
}

/// A page slot: the page's writer and its body each hold it; freed when both are gone.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) state: Arc<SlotState>,
    slots: Weak<Slots>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(slots) = self.slots.upgrade() {
            lock(&slots.taken).retain(|s| !Arc::ptr_eq(s, &self.state));
        }
        self.state.released.store(true, Ordering::Release);
        self.state.done.notify_one();
    }
}

impl Slots {
    /// A slot for a page of the connection that `cut` closes, if one is free or can be made
    /// free (a page stalled for [`CROWDED_STALL`] is cut off); None: answer 503.
    pub(crate) fn take(self: &Arc<Self>, cut: Arc<Notify>) -> Option<Arc<Slot>> {
        let mut taken = lock(&self.taken);
        if taken.len() >= MAX_PAGES {
            let (i, stalled) =
                taken.iter().map(|s| s.stalled()).enumerate().max_by_key(|(_, d)| *d).unwrap_or_default();
            if stalled < CROWDED_STALL {
                return None;
            }
            let victim = taken.remove(i);
            tracing::warn!(
                stalled_s = stalled.as_secs(),
                "every page slot taken: a client that took nothing for {} s is cut off",
                stalled.as_secs()
            );
            victim.cut.notify_one();
        }
        let state = Arc::new(SlotState {
            flow: Mutex::new((0, Instant::now())),
            cut,
            released: AtomicBool::new(false),
            done: Notify::new(),
        });
        taken.push(state.clone());
        drop(taken);
        tokio::spawn(watch(state.clone()));
        Some(Arc::new(Slot { state, slots: Arc::downgrade(self) }))
    }
}

/// Cuts the page's client off once it has taken nothing for [`STALLED`]; ends with the page.
async fn watch(state: Arc<SlotState>) {
    while !state.released.load(Ordering::Acquire) {
        let stalled = state.stalled();
        if stalled >= STALLED {
            tracing::warn!("the client took nothing for {} s; the reply is cut off", STALLED.as_secs());
            state.cut.notify_one();
            return;
        }
        let next = if stalled.is_zero() { Duration::from_secs(1) } else { STALLED - stalled };
        tokio::select! {
            () = state.done.notified() => {}
            () = tokio::time::sleep(next.min(Duration::from_secs(1))) => {}
        }
    }
}

/// One reading shared by the pages that start together: [`Reading::get`] returns the reading
/// being made, or one made less than [`FRESH`] ago that a page still holds, else makes a new
/// one. Holds no reading itself once the pages are done with it.
///
/// ```
/// use ipvs_exporter::serve::Reading;
/// let reading = Reading::default();
/// let a = reading.get(|| vec![1, 2, 3]);
/// let b = reading.get(|| unreachable!("fresh and still held: shared"));
/// assert!(std::sync::Arc::ptr_eq(&a, &b));
/// drop((a, b));
/// assert_eq!(*reading.get(|| vec![4]), [4], "no page holds it: read again");
/// ```
#[derive(Debug)]
pub struct Reading<T> {
    last: Mutex<Option<(Instant, Weak<T>)>>,
    making: Mutex<()>,
}

impl<T> Default for Reading<T> {
    fn default() -> Self {
        Reading { last: Mutex::new(None), making: Mutex::new(()) }
    }
}

impl<T> Reading<T> {
    /// The shared reading, made by `read` if there is none to share. A call made while
    /// another makes one waits for it (on a blocking thread: call it from a page's writer).
    pub fn get(&self, read: impl FnOnce() -> T) -> Arc<T> {
        let _one_at_a_time = lock(&self.making);
        if let Some((at, held)) = &*lock(&self.last) {
            if at.elapsed() <= FRESH {
                if let Some(r) = held.upgrade() {
                    return r;
                }
            }
        }
        let r = Arc::new(read());
        *lock(&self.last) = Some((Instant::now(), Arc::downgrade(&r)));
        r
    }
}
