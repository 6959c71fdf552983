//! The checks' timers, owned by the coordinator: it schedules each check's next attempt
//! itself, and each attempt runs in a task of its own that sends its result (one message,
//! no reply). A check never has two attempts under way; an attempt of a check a reload
//! removed is stopped, and a result that comes anyway is dropped.
//!
//! **Shared probes**: checks with the same settings (kind, target, every parameter: the same
//! real server checked for several virtual servers) make the same connection, so an attempt
//! due while an identical one is under way joins it, and its one result feeds each of them.
//! Identical checks start at the same moment (their first delay is drawn from their settings,
//! not their server) and, given the same results, keep the same cadence: after the first
//! attempt they run as one. Each check still keeps its own state (retries, up or down).

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

/// What one attempt does: the settings of a check (held through one of the checks that has
/// them), which of its urls, and the `ha_suspend` address that must be here. Checks with an
/// equal probe share its attempts.
#[derive(Debug, Clone)]
struct Probe {
    check: CheckKey,
    url: usize,
    suspend: Option<IpAddr>,
}

impl PartialEq for Probe {
    fn eq(&self, other: &Probe) -> bool {
        self.url == other.url
            && self.suspend == other.suspend
            && self.check.settings_hash() == other.check.settings_hash()
            && self.check.settings == other.check.settings
    }
}

impl Eq for Probe {}

impl Hash for Probe {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.check.settings_hash());
        self.url.hash(state);
        self.suspend.hash(state);
    }
}

/// An attempt under way and the checks waiting for its result.
#[derive(Debug)]
struct Flight {
    serial: u64,
    task: AbortHandle,
    waiting: Vec<CheckKey>,
}

/// One attempt's result, from its task to the coordinator.
pub(super) struct Outcome {
    probe: Probe,
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
    /// The attempt under way it waits for: its serial and what it does.
    running: Option<(u64, Probe)>,
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
    /// The attempts under way, each with the checks that wait for it.
    flights: HashMap<Probe, Flight>,
    serial: u64,
    tx: mpsc::UnboundedSender<Outcome>,
    rx: mpsc::UnboundedReceiver<Outcome>,
}

/// A pseudo-random delay in 0..=max (spreads first checks; not a secret): the same for the
/// same `seed` and `salt`.
fn jitter(max: Duration, seed: u64, salt: u64) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let mut x = seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    Duration::from_nanos(x % (max.as_nanos() as u64).max(1))
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
        Checks { slots: HashMap::new(), queue: BTreeMap::new(), flights: HashMap::new(), serial: 0, tx, rx }
    }

    /// How many checks there are.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// How many distinct probes they make (checks with equal settings share one).
    pub(super) fn probes(&self) -> usize {
        self.slots.keys().map(|k| &k.settings).collect::<std::collections::HashSet<_>>().len()
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
                if let Some((serial, probe)) = s.running {
                    self.leave(&k, serial, &probe);
                }
            }
        }
        // `ha_suspend` is a setting of the virtual server, not of the check: a reload may
        // change it for a check that stays.
        let suspending = suspend_addresses(rt);
        // One seed for the checks added now: identical ones draw the same first delay.
        let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        for (k, c) in &rt.checks {
            let suspend = suspending.get(&k.server.virtual_server).copied();
            if let Some(slot) = self.slots.get_mut(k) {
                slot.suspend = suspend;
            } else {
                // Drawn from the settings: identical checks start together, and share.
                let first = Duration::from_secs(1) + jitter(k.settings.warmup, seed, k.settings_hash());
                let slot =
                    Slot { due: None, running: None, delay: first, url: c.health.url(), suspended: false, suspend };
                self.slots.insert(k.clone(), slot);
                self.schedule(k, now + first);
            }
        }
    }

    /// Check `key` no longer waits for attempt `serial` of `probe`; an attempt no check waits
    /// for any more is stopped.
    fn leave(&mut self, key: &CheckKey, serial: u64, probe: &Probe) {
        let Some(flight) = self.flights.get_mut(probe).filter(|f| f.serial == serial) else { return };
        flight.waiting.retain(|k| k != key);
        if flight.waiting.is_empty() {
            flight.task.abort();
            self.flights.remove(probe);
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

    /// Starts the attempts due by `now`: a check whose probe is under way joins it. Returns
    /// how many attempts were started (the rest joined one).
    pub(super) fn start_due(&mut self, host: &Arc<dyn Host>, now: Instant) -> u64 {
        let mut started = 0;
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            let Some(slot) = self.slots.get_mut(&key) else { continue };
            slot.due = None;
            let probe = Probe { check: key.clone(), url: slot.url, suspend: slot.suspend };
            if let Some(flight) = self.flights.get_mut(&probe) {
                slot.running = Some((flight.serial, probe));
                flight.waiting.push(key);
                continue;
            }
            self.serial += 1;
            let serial = self.serial;
            started += 1;
            slot.running = Some((serial, probe.clone()));
            let (p, tx, host) = (probe.clone(), self.tx.clone(), host.clone());
            let task = tokio::spawn(async move {
                let Probe { check, url, suspend } = &p;
                let (url, suspend) = (*url, *suspend);
                let here = match suspend {
                    Some(addr) => {
                        let local = tokio::task::spawn_blocking(move || host.address_is_local(addr)).await;
                        Some((addr, local.unwrap_or(true)))
                    }
                    None => None,
                };
                let attempt = match here {
                    Some((_, false)) => None,
                    _ => Some(attempt(&check.settings, url).await),
                };
                let _ = tx.send(Outcome { probe: p, serial, here, attempt });
            });
            self.flights.insert(probe, Flight { serial, task: task.abort_handle(), waiting: vec![key] });
        }
        started
    }

    /// The next result (never, while none can come).
    pub(super) async fn outcome(&mut self) -> Option<Outcome> {
        self.rx.recv().await
    }

    /// The next result if one is waiting.
    pub(super) fn try_outcome(&mut self) -> Option<Outcome> {
        self.rx.try_recv().ok()
    }

    /// Takes a result: the attempt to record for each check that still waits for it.
    /// A suspended check is scheduled again at once (its last delay).
    pub(super) fn take(&mut self, o: Outcome, now: Instant) -> Vec<(CheckKey, Attempt)> {
        let mut taken = Vec::new();
        let Some(flight) = self.flights.remove(&o.probe) else { return taken };
        if flight.serial != o.serial {
            // A stopped attempt's result, come after a new attempt of the same probe started.
            self.flights.insert(o.probe, flight);
            return taken;
        }
        for key in flight.waiting {
            let Some(slot) = self.slots.get_mut(&key) else { continue };
            if slot.running.as_ref().map(|r| r.0) != Some(o.serial) {
                continue;
            }
            slot.running = None;
            if let Some((addr, here)) = o.here {
                if here == slot.suspended {
                    slot.suspended = !here;
                    let (what, not) = if here { ("resuming", "") } else { ("suspending", "not ") };
                    tracing::info!(check = %key, %addr, "{what} check: {addr} is {not}here (ha_suspend)");
                }
            }
            match &o.attempt {
                Some(a) => taken.push((key, a.clone())),
                None => {
                    let at = now + slot.delay;
                    self.schedule(&key, at);
                }
            }
        }
        taken
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
        for (_, f) in self.flights.drain() {
            f.task.abort();
        }
        self.slots.clear();
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

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use ipvs::state::Table;

    use super::*;
    use crate::config::Config;
    use crate::host::Fake;

    /// A listener on loopback counting the connections it accepts.
    fn listener() -> (u16, Arc<AtomicUsize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let n = Arc::new(AtomicUsize::new(0));
        let count = n.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                drop(c);
                count.fetch_add(1, Ordering::SeqCst);
            }
        });
        (port, n)
    }

    /// Virtual server `port` with real server 198.51.100.11:80 checked by TCP on loopback `to`.
    fn virtual_server(port: u16, to: u16) -> String {
        format!(
            "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = {port}\n\
             [[virtual_servers.real_servers]]\naddress = \"198.51.100.11\"\nport = 80\n\
             [[virtual_servers.real_servers.tcp_check]]\nconnect_ip = \"127.0.0.1\"\nconnect_port = {to}\n"
        )
    }

    /// Waits (at most 10 s) for `n` results and takes them.
    async fn results(checks: &mut Checks, n: usize) -> Vec<(CheckKey, Attempt)> {
        let mut taken = Vec::new();
        for _ in 0..n {
            let o = tokio::time::timeout(Duration::from_secs(10), checks.outcome()).await.unwrap().unwrap();
            taken.extend(checks.take(o, Instant::now()));
        }
        taken
    }

    #[tokio::test]
    async fn identical_checks_share_one_attempt_and_each_records_it() {
        let (shared_port, shared) = listener();
        let (own_port, own) = listener();
        // The same real server checked the same way for :80 and :443; :8080 checks elsewhere.
        let text =
            virtual_server(80, shared_port) + &virtual_server(443, shared_port) + &virtual_server(8080, own_port);
        let rt = Runtime::start(Config::from_toml(&text).unwrap(), &Table::new());
        let host: Arc<dyn Host> = Arc::new(Fake::new(Vec::new(), Vec::new()));
        let mut checks = Checks::new();
        let now = Instant::now();
        checks.sync(&rt, now);
        assert_eq!((checks.len(), checks.probes()), (3, 2));
        // Identical checks start at the same moment.
        let mut due: HashMap<u64, Vec<Instant>> = HashMap::new();
        for ((at, _), k) in &checks.queue {
            due.entry(k.settings_hash()).or_default().push(*at);
        }
        let mut sizes: Vec<usize> = due.values().map(Vec::len).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, [1, 2]);
        assert!(due.values().all(|at| at.iter().all(|a| *a == at[0])), "{due:?}");

        let later = now + Duration::from_secs(3600);
        assert_eq!(checks.start_due(&host, later), 2, "three checks, two attempts");
        let taken = results(&mut checks, 2).await;
        assert_eq!(taken.len(), 3, "every check gets a result");
        assert!(taken.iter().all(|(_, a)| a.result.is_ok()), "{taken:?}");
        let servers: std::collections::HashSet<_> = taken.iter().map(|(k, _)| k.server.clone()).collect();
        assert_eq!(servers.len(), 3);
        // The listeners' count of connections (a connection is accepted after the attempt saw
        // it made): one on each port.
        let counts = || (shared.load(Ordering::SeqCst), own.load(Ordering::SeqCst));
        let start = Instant::now();
        while counts() != (1, 1) && start.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(counts(), (1, 1));
        assert_eq!(checks.next_due(), None, "nothing scheduled until the results are recorded");
    }

    #[tokio::test]
    async fn a_check_removed_while_its_shared_attempt_runs_leaves_it_to_the_other() {
        let (port, _) = listener();
        let both = virtual_server(80, port) + &virtual_server(443, port);
        let mut rt = Runtime::start(Config::from_toml(&both).unwrap(), &Table::new());
        let host: Arc<dyn Host> = Arc::new(Fake::new(Vec::new(), Vec::new()));
        let mut checks = Checks::new();
        let now = Instant::now();
        checks.sync(&rt, now);
        assert_eq!(checks.start_due(&host, now + Duration::from_secs(3600)), 1);
        // A reload drops :443 while the attempt is under way: :80 still gets the result.
        rt.reload(Config::from_toml(&virtual_server(80, port)).unwrap());
        checks.sync(&rt, Instant::now());
        assert_eq!(checks.flights.len(), 1, "the attempt goes on for the check that stays");
        let taken = results(&mut checks, 1).await;
        assert_eq!(taken.len(), 1);
        assert!(rt.checks.contains_key(&taken[0].0));
        // And when no check waits for an attempt any more, it is stopped.
        checks.after(&taken[0].0, Next { delay: Duration::ZERO, url: 0 }, Instant::now());
        assert_eq!(checks.start_due(&host, Instant::now() + Duration::from_secs(1)), 1);
        rt.reload(Config::from_toml("").unwrap());
        checks.sync(&rt, Instant::now());
        assert!(checks.flights.is_empty() && checks.slots.is_empty());
    }
}
