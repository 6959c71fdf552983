//! What the daemon knows: the configuration, each real server's checks and their health, each
//! virtual server's quorum; built at start from the configuration and the kernel's table,
//! and carried over a reload, by key, for everything that did not change.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ipvs::state::Table;
use ipvs::ServiceId;

use crate::check::CheckError;
use crate::config::{CheckKind, Config, OnFailure, RealServer, ResolvedCheck, VirtualServer, VirtualServerId};
use crate::health::{Cadence, CheckerHealth, Timings};
pub use crate::policy::ServerKey;
use crate::policy::ServerState;

/// A check's identity across reloads: its real server, every setting, and which of the
/// server's checks with these same settings it is (0 but for a check given twice). A changed
/// setting makes a new check; an unchanged one keeps its state.
///
/// Shared and hashed once: every attempt looks its check up several times (its timer, its
/// state, its server), so a clone is a reference count and a hash is the one computed when
/// the key was made, not a walk over every setting.
#[derive(Debug, Clone)]
pub struct CheckKey(Arc<CheckId>);

/// What a [`CheckKey`] names (reached through the key: `key.server`, `key.settings`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CheckId {
    /// Its real server.
    pub server: ServerKey,
    /// Its settings.
    pub settings: ResolvedCheck,
    /// Among the server's checks with the same settings, which one.
    pub nth: usize,
    /// The hash of the three above.
    hash: u64,
    /// The hash of the settings alone (checks with equal settings share their attempts).
    settings_hash: u64,
}

impl CheckKey {
    /// The key of check `nth` with `settings` of real server `server`.
    pub fn new(server: ServerKey, settings: ResolvedCheck, nth: usize) -> CheckKey {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        settings.hash(&mut h);
        let settings_hash = h.finish();
        (&server, nth).hash(&mut h);
        CheckKey(Arc::new(CheckId { server, settings, nth, hash: h.finish(), settings_hash }))
    }
}

impl CheckId {
    /// The hash of [`CheckId::settings`]: equal settings, equal hashes.
    pub fn settings_hash(&self) -> u64 {
        self.settings_hash
    }
}

impl std::ops::Deref for CheckKey {
    type Target = CheckId;
    fn deref(&self) -> &CheckId {
        &self.0
    }
}

impl PartialEq for CheckKey {
    fn eq(&self, other: &CheckKey) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || (self.0.hash == other.0.hash && self.0 == other.0)
    }
}

impl Eq for CheckKey {}

impl std::hash::Hash for CheckKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl fmt::Display for CheckKey {
    /// `tcp_check 127.0.0.1:8080 #0 of 198.51.100.11:80 of [192.0.2.10]:tcp:80`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.settings.kind.key())?;
        if let Some(t) = self.settings.target {
            write!(f, " {t}")?;
        }
        write!(f, " #{} of {}", self.nth, self.server)
    }
}

/// The keys of the checks of real server `rs` of `vs`, in the configuration's order.
pub fn check_keys(config: &Config, vs: &VirtualServer, rs: &RealServer) -> Vec<CheckKey> {
    let server = ServerKey::new(vs, rs);
    let mut keys: Vec<CheckKey> = Vec::with_capacity(rs.checks.len());
    for c in &rs.checks {
        let settings = ResolvedCheck::new(&config.global, vs, rs, c);
        let nth = keys.iter().filter(|k| k.settings == settings).count();
        keys.push(CheckKey::new(server.clone(), settings, nth));
    }
    keys
}

/// The last attempt of a check.
#[derive(Debug, Clone)]
pub struct LastAttempt {
    /// When it ended.
    pub at: SystemTime,
    /// Passed, or why not.
    pub result: Result<(), CheckError>,
    /// How long it took.
    pub latency: Duration,
}

/// One check of a real server (its settings are in its [`CheckKey`]).
#[derive(Debug, Clone)]
pub struct CheckState {
    /// Up or down, retries, which url.
    pub health: CheckerHealth,
    /// Since when it is up or down.
    pub since: SystemTime,
    /// The last attempt.
    pub last: Option<LastAttempt>,
    /// Attempts made.
    pub attempts: u64,
    /// Attempts that failed, by the kind of failure ([`CheckError::kind`]).
    pub failures: BTreeMap<&'static str, u64>,
    /// The weight its last attempt asked for (command checks with `misc_dynamic`).
    pub weight: Option<u32>,
}

impl CheckState {
    /// A check at start: up unless `alpha` (or as the kernel says, when `carried`).
    pub fn new(settings: &ResolvedCheck, carried: Option<bool>, now: SystemTime) -> CheckState {
        let (cadence, timings) = (cadence(&settings.kind), timings(settings));
        let health = match carried {
            Some(up) => CheckerHealth::carried(cadence, timings, up),
            None => CheckerHealth::new(cadence, timings, settings.alpha),
        };
        CheckState { health, since: now, last: None, attempts: 0, failures: BTreeMap::new(), weight: None }
    }

    /// Attempts that failed, of every kind.
    pub fn failure_count(&self) -> u64 {
        self.failures.values().sum()
    }
}

/// One real server.
#[derive(Debug, Clone)]
pub struct ServerRt {
    /// Its checks, in the configuration's order (their state is in [`Runtime::checks`]).
    pub checks: Vec<CheckKey>,
    /// Alive (every check up) as last decided.
    pub alive: bool,
    /// Since when.
    pub since: SystemTime,
}

/// Everything the daemon knows.
#[derive(Debug)]
pub struct Runtime {
    /// The configuration in force (shared: every check result reads it).
    pub config: Arc<Config>,
    /// Each real server of the configuration.
    pub servers: HashMap<ServerKey, ServerRt>,
    /// Each check of the configuration.
    pub checks: HashMap<CheckKey, CheckState>,
    /// Each virtual server's quorum (missing until first decided).
    pub quorum: HashMap<VirtualServerId, bool>,
    /// The services the daemon manages (those of the configuration, and until they are gone,
    /// those of the previous one).
    pub managed: BTreeSet<ServiceId>,
}

/// How a checker's state machine paces it.
pub fn cadence(kind: &CheckKind) -> Cadence {
    match kind {
        CheckKind::Tcp => Cadence::Tcp,
        CheckKind::Http(h) | CheckKind::Https(h) => Cadence::Http { urls: h.urls.len() },
        _ => Cadence::Plain,
    }
}

fn timings(r: &ResolvedCheck) -> Timings {
    Timings { delay_loop: r.delay_loop, delay_before_retry: r.delay_before_retry, retry: r.retry }
}

/// Whether the kernel's table has real server `rs` of `vs` in service (None: the kernel has
/// none of the virtual server's services). One in the table with a weight is up; one
/// missing, or at weight 0 where it would be inhibited, is down.
fn in_kernel(config: &Config, vs: &VirtualServer, rs: &RealServer, kernel: &Table) -> Option<bool> {
    let ids = vs.service_ids(&config.virtual_server_groups);
    let entry = ids.iter().find_map(|id| kernel.entry(id))?;
    let d = ids.first().map(|id| vs.destination(id, rs));
    Some(match d.and_then(|d| entry.destination(&d.socket_addr())) {
        Some(d) => d.destination.weight > 0 || vs.on_failure_of(rs) != OnFailure::Inhibit,
        None => false,
    })
}

impl Runtime {
    /// The state at start. A virtual server whose services the kernel already has (the
    /// daemon restarted) takes its real servers' state from the kernel: one in the table
    /// with a weight is up, one missing (or at weight 0 where it would be inhibited) is
    /// down; their checks count as having run, so nothing flaps while they are confirmed.
    /// A virtual server new to the kernel starts as keepalived starts: up, or down with
    /// `alpha`.
    pub fn start(config: Config, kernel: &Table) -> Runtime {
        let now = SystemTime::now();
        let mut servers = HashMap::new();
        let mut checks = HashMap::new();
        for vs in &config.virtual_servers {
            for rs in &vs.real_servers {
                let carried = in_kernel(&config, vs, rs, kernel);
                let keys = check_keys(&config, vs, rs);
                for k in &keys {
                    checks.insert(k.clone(), CheckState::new(&k.settings, carried, now));
                }
                let mut s = ServerRt { checks: keys, alive: false, since: now };
                s.alive = match carried {
                    // No check: the kernel's word, else up.
                    Some(up) if s.checks.is_empty() => up,
                    _ => all_up(&checks, &s),
                };
                servers.insert(ServerKey::new(vs, rs), s);
            }
        }
        let managed =
            config.virtual_servers.iter().flat_map(|vs| vs.service_ids(&config.virtual_server_groups)).collect();
        Runtime { config: Arc::new(config), servers, checks, quorum: HashMap::new(), managed }
    }

    /// A new configuration: checks that did not change keep their state; the returned keys
    /// are those of the checks that are gone. Servers keep whether they were alive, and
    /// since when, unless that changes; quorum states of virtual servers that remain carry
    /// over.
    pub fn reload(&mut self, config: Config) -> Vec<CheckKey> {
        let now = SystemTime::now();
        let mut old_checks = std::mem::take(&mut self.checks);
        let mut old_servers = std::mem::take(&mut self.servers);
        let mut old_quorum = std::mem::take(&mut self.quorum);
        for vs in &config.virtual_servers {
            if let Some(q) = old_quorum.remove(&vs.id) {
                self.quorum.insert(vs.id.clone(), q);
            }
            for rs in &vs.real_servers {
                let keys = check_keys(&config, vs, rs);
                for k in &keys {
                    let state = old_checks.remove(k).unwrap_or_else(|| CheckState::new(&k.settings, None, now));
                    self.checks.insert(k.clone(), state);
                }
                let key = ServerKey::new(vs, rs);
                let (was, since) = old_servers.remove(&key).map_or((false, now), |s| (s.alive, s.since));
                let mut s = ServerRt { checks: keys, alive: was, since };
                s.alive = all_up(&self.checks, &s);
                if s.alive != was {
                    s.since = now;
                }
                self.servers.insert(key, s);
            }
        }
        self.managed.extend(config.virtual_servers.iter().flat_map(|vs| vs.service_ids(&config.virtual_server_groups)));
        self.config = Arc::new(config);
        old_checks.into_keys().collect()
    }

    /// The services of the configuration in force.
    pub fn configured(&self) -> BTreeSet<ServiceId> {
        self.config.virtual_servers.iter().flat_map(|vs| vs.service_ids(&self.config.virtual_server_groups)).collect()
    }

    /// What the policy needs of a server: alive, and the weight its first check with one
    /// asked for (an unknown server is down).
    pub fn server_state(&self, key: &ServerKey) -> ServerState {
        match self.servers.get(key) {
            Some(s) => ServerState {
                alive: s.alive,
                dynamic_weight: s.checks.iter().find_map(|k| self.checks.get(k).and_then(|c| c.weight)),
            },
            None => ServerState { alive: false, dynamic_weight: None },
        }
    }

    /// Every server's state, for [`crate::policy::decide`].
    pub fn server_states(&self) -> HashMap<ServerKey, ServerState> {
        self.servers.keys().map(|k| (k.clone(), self.server_state(k))).collect()
    }

    /// The states of the real servers of `vs`, in the configuration's order.
    pub fn states_of(&self, vs: &VirtualServer) -> Vec<ServerState> {
        vs.real_servers.iter().map(|rs| self.server_state(&ServerKey::new(vs, rs))).collect()
    }
}

/// Whether every check of `server` is up (no check: always).
pub fn all_up(checks: &HashMap<CheckKey, CheckState>, server: &ServerRt) -> bool {
    server.checks.iter().all(|k| checks.get(k).is_none_or(|c| c.health.is_up()))
}
