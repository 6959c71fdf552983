//! The checks' timers, owned by the coordinator: it schedules each check's next attempt
//! itself, and each attempt runs in a task of its own that sends its result (one message,
//! no reply). A check never has two attempts under way; an attempt of a check a reload
//! removed is stopped, and a result that comes anyway is dropped.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::decide::Next;
use super::state::{CheckKey, Runtime};
use crate::check::{attempt, Attempt};
use crate::config::VirtualServerId;
use crate::host::Host;

/// One attempt's result, from its task to the coordinator.
pub(super) struct Outcome {
    key: CheckKey,
    serial: u64,
    /// With `ha_suspend`: the virtual address, and whether it was local.
    here: Option<(IpAddr, bool)>,
    /// The attempt (None: suspended, not run).
    attempt: Option<Attempt>,
}

/// The coordinator's side of one check.
#[derive(Debug)]
struct Slot {
    /// When its next attempt is due (its place in the queue).
    due: Option<(Instant, u64)>,
    /// Its attempt under way: its serial, and how to stop it.
    running: Option<(u64, AbortHandle)>,
    /// The last delay decided (a suspended check waits it again).
    delay: Duration,
    /// The url its next attempt fetches.
    url: usize,
    /// Suspended (`ha_suspend`, its virtual address not here).
    suspended: bool,
    /// With `ha_suspend`: the virtual address that must be here for it to run (looked up
    /// when the check is added, not at every attempt).
    suspend: Option<IpAddr>,
}

/// Every check's timer and attempt under way.
pub(super) struct Checks {
    slots: HashMap<CheckKey, Slot>,
    queue: BTreeMap<(Instant, u64), CheckKey>,
    serial: u64,
    tx: mpsc::UnboundedSender<Outcome>,
    rx: mpsc::UnboundedReceiver<Outcome>,
}

/// A pseudo-random delay in 0..=max (spreads first checks; not a secret).
fn jitter(max: Duration, salt: u64) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    Duration::from_nanos(x % (max.as_nanos() as u64).max(1))
}

fn salt(key: &CheckKey) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// The virtual servers with `ha_suspend`, and the address that must be here for their checks
/// to run (read once per sync, not once per check).
fn suspend_addresses(rt: &Runtime) -> HashMap<&VirtualServerId, IpAddr> {
    rt.config
        .virtual_servers
        .iter()
        .filter(|vs| vs.ha_suspend)
        .filter_map(|vs| match vs.id {
            VirtualServerId::Address { address, .. } => Some((&vs.id, address)),
            _ => None,
        })
        .collect()
}

impl Checks {
    /// No check yet.
    pub(super) fn new() -> Checks {
        let (tx, rx) = mpsc::unbounded_channel();
        Checks { slots: HashMap::new(), queue: BTreeMap::new(), serial: 0, tx, rx }
    }

    /// How many checks there are.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Follows the runtime's checks: a new one runs first after 1 s and a random part of its
    /// warmup (keepalived's start), one that is gone stops (its attempt under way too).
    pub(super) fn sync(&mut self, rt: &Runtime, now: Instant) {
        let gone: Vec<CheckKey> = self.slots.keys().filter(|k| !rt.checks.contains_key(*k)).cloned().collect();
        for k in gone {
            if let Some(s) = self.slots.remove(&k) {
                if let Some(due) = s.due {
                    self.queue.remove(&due);
                }
                if let Some((_, task)) = s.running {
                    task.abort();
                }
            }
        }
        // `ha_suspend` is a setting of the virtual server, not of the check: a reload may
        // change it for a check that stays.
        let suspending = suspend_addresses(rt);
        for (k, c) in &rt.checks {
            let suspend = suspending.get(&k.server.virtual_server).copied();
            if let Some(slot) = self.slots.get_mut(k) {
                slot.suspend = suspend;
            } else {
                let first = Duration::from_secs(1) + jitter(k.settings.warmup, salt(k));
                let slot =
                    Slot { due: None, running: None, delay: first, url: c.health.url(), suspended: false, suspend };
                self.slots.insert(k.clone(), slot);
                self.schedule(k, now + first);
            }
        }
    }

    fn schedule(&mut self, key: &CheckKey, at: Instant) {
        let Some(slot) = self.slots.get_mut(key) else { return };
        if let Some(due) = slot.due.take() {
            self.queue.remove(&due);
        }
        self.serial += 1;
        slot.due = Some((at, self.serial));
        self.queue.insert((at, self.serial), key.clone());
    }

    /// When the next attempt is due.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.queue.first_key_value().map(|((at, _), _)| *at)
    }

    /// Starts the attempts due by `now`.
    pub(super) fn start_due(&mut self, host: &Arc<dyn Host>, now: Instant) {
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                return;
            }
            let key = entry.remove();
            let Some(slot) = self.slots.get_mut(&key) else { continue };
            slot.due = None;
            self.serial += 1;
            let serial = self.serial;
            let (url, suspend, tx, host) = (slot.url, slot.suspend, self.tx.clone(), host.clone());
            let k = key;
            let task = tokio::spawn(async move {
                let here = match suspend {
                    Some(addr) => {
                        let local = tokio::task::spawn_blocking(move || host.address_is_local(addr)).await;
                        Some((addr, local.unwrap_or(true)))
                    }
                    None => None,
                };
                let attempt = match here {
                    Some((_, false)) => None,
                    _ => Some(attempt(&k.settings, url).await),
                };
                let _ = tx.send(Outcome { key: k, serial, here, attempt });
            });
            slot.running = Some((serial, task.abort_handle()));
        }
    }

    /// The next result (never, while none can come).
    pub(super) async fn outcome(&mut self) -> Option<Outcome> {
        self.rx.recv().await
    }

    /// The next result if one is waiting.
    pub(super) fn try_outcome(&mut self) -> Option<Outcome> {
        self.rx.try_recv().ok()
    }

    /// Takes a result: the attempt to record, if it ran and its check still waits for it.
    /// A suspended check is scheduled again at once (its last delay).
    pub(super) fn take(&mut self, o: Outcome, now: Instant) -> Option<(CheckKey, Attempt)> {
        let slot = self.slots.get_mut(&o.key)?;
        if slot.running.as_ref().map(|r| r.0) != Some(o.serial) {
            return None;
        }
        slot.running = None;
        if let Some((addr, here)) = o.here {
            if here == slot.suspended {
                slot.suspended = !here;
                let (what, not) = if here { ("resuming", "") } else { ("suspending", "not ") };
                tracing::info!(check = %o.key, %addr, "{what} check: {addr} is {not}here (ha_suspend)");
            }
        }
        match o.attempt {
            Some(a) => Some((o.key, a)),
            None => {
                let at = now + slot.delay;
                self.schedule(&o.key, at);
                None
            }
        }
    }

    /// Schedules a check's next attempt as decided (a check no longer there is not).
    pub(super) fn after(&mut self, key: &CheckKey, next: Next, now: Instant) {
        let Some(slot) = self.slots.get_mut(key) else { return };
        slot.delay = next.delay;
        slot.url = next.url;
        self.schedule(key, now + next.delay);
    }

    /// Stops every attempt under way and forgets every check.
    pub(super) fn stop(&mut self) {
        for (_, s) in self.slots.drain() {
            if let Some((_, task)) = s.running {
                task.abort();
            }
        }
        self.queue.clear();
    }
}

/// A result recorded: the runtime's decision carried out ([`super::events::carry_out`]),
/// the check scheduled again. Returns whether the table may have changed.
pub(super) fn record_result(
    shared: &super::Shared,
    checks: &mut Checks,
    key: &CheckKey,
    a: &Attempt,
    now: Instant,
) -> bool {
    let (config, decided) = {
        let mut rt = super::lock(&shared.runtime);
        let decided = rt.record(key, a, SystemTime::now());
        (rt.config.clone(), decided)
    };
    let Some((next, events)) = decided else { return false };
    checks.after(key, next, now);
    super::events::carry_out(&config, &events)
}
