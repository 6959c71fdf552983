//! What the daemon knows: the configuration, each real server's checks and their health, each
//! virtual server's quorum; built at start from the configuration and the kernel's table,
//! and carried over a reload for everything that did not change.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use ipvs::state::Table;
use ipvs::ServiceId;

use crate::check::CheckError;
use crate::config::{CheckKind, Config, OnFailure, ResolvedCheck};
use crate::health::{Cadence, CheckerHealth, Timings};
use crate::policy::ServerState;

/// A check's identity across reloads: its virtual server, real server and every setting.
pub type CheckKey = std::sync::Arc<str>;

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

/// One check of a real server.
#[derive(Debug)]
pub struct CheckState {
    /// Its identity.
    pub key: CheckKey,
    /// Its settings.
    pub resolved: ResolvedCheck,
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

/// One real server.
#[derive(Debug)]
pub struct ServerRt {
    /// Its checks.
    pub checks: Vec<CheckState>,
    /// Alive (every check up) as last decided.
    pub alive: bool,
    /// Since when.
    pub since: SystemTime,
}

impl CheckState {
    /// Attempts that failed, of every kind.
    pub fn failure_count(&self) -> u64 {
        self.failures.values().sum()
    }
}

impl ServerRt {
    /// Alive now: every check up (no check: always).
    pub fn all_up(&self) -> bool {
        self.checks.iter().all(|c| c.health.is_up())
    }

    /// What the policy needs.
    pub fn state(&self) -> ServerState {
        ServerState { alive: self.alive, dynamic_weight: self.checks.iter().find_map(|c| c.weight) }
    }
}

/// Everything the daemon knows.
#[derive(Debug)]
pub struct Runtime {
    /// The configuration in force (shared: every check result reads it).
    pub config: std::sync::Arc<Config>,
    /// `servers[v][r]`: real server `r` of virtual server `v`.
    pub servers: Vec<Vec<ServerRt>>,
    /// Each virtual server's quorum (None until first decided).
    pub quorum: Vec<Option<bool>>,
    /// The services the daemon manages (those of the configuration, and until they are gone,
    /// those of the previous one).
    pub managed: BTreeSet<ServiceId>,
    /// Where each check is: (virtual server, real server, check).
    index: HashMap<CheckKey, (usize, usize, usize)>,
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

/// The identity of a check of real server `rs` of virtual server `v`.
pub fn check_key(config: &Config, v: usize, rs: usize, r: &ResolvedCheck) -> CheckKey {
    let vs = &config.virtual_servers[v];
    let server = &vs.real_servers[rs];
    format!("{}|{}|{:?}|{:?}", vs.id, server.address, server.port, r).into()
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
        let mut servers = Vec::new();
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            let ids = vs.service_ids(&config.virtual_server_groups);
            let in_kernel = ids.iter().find_map(|id| kernel.entry(id));
            let mut list = Vec::new();
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let carried = in_kernel.map(|e| {
                    let d = ids.first().map(|id| vs.destination(id, rs));
                    let found = d.and_then(|d| e.destination(&d.socket_addr()));
                    match found {
                        Some(d) => d.destination.weight > 0 || vs.on_failure_of(rs) != OnFailure::Inhibit,
                        None => false,
                    }
                });
                let checks: Vec<CheckState> = rs
                    .checks
                    .iter()
                    .map(|c| {
                        let resolved = ResolvedCheck::new(&config.global, vs, rs, c);
                        let health = match carried {
                            Some(up) => CheckerHealth::carried(cadence(&resolved.kind), timings(&resolved), up),
                            None => CheckerHealth::new(cadence(&resolved.kind), timings(&resolved), resolved.alpha),
                        };
                        CheckState {
                            key: check_key(&config, v, r, &resolved),
                            resolved,
                            health,
                            since: now,
                            last: None,
                            attempts: 0,
                            failures: BTreeMap::new(),
                            weight: None,
                        }
                    })
                    .collect();
                let mut s = ServerRt { checks, alive: false, since: now };
                s.alive = match carried {
                    // No check: the kernel's word, else up.
                    Some(up) if s.checks.is_empty() => up,
                    _ => s.all_up(),
                };
                list.push(s);
            }
            servers.push(list);
        }
        let quorum = vec![None; config.virtual_servers.len()];
        let managed =
            config.virtual_servers.iter().flat_map(|vs| vs.service_ids(&config.virtual_server_groups)).collect();
        let mut rt = Runtime { config: std::sync::Arc::new(config), servers, quorum, managed, index: HashMap::new() };
        rt.reindex();
        rt
    }

    fn reindex(&mut self) {
        self.index.clear();
        for (v, list) in self.servers.iter().enumerate() {
            for (r, s) in list.iter().enumerate() {
                for (c, check) in s.checks.iter().enumerate() {
                    self.index.insert(check.key.clone(), (v, r, c));
                }
            }
        }
    }

    /// A new configuration: checks that did not change keep their state (and their running
    /// task: the returned keys are those to stop; new checks are those without a task).
    /// Quorum states of virtual servers that remain carry over.
    pub fn reload(&mut self, config: Config) -> Vec<CheckKey> {
        let now = SystemTime::now();
        let mut old: HashMap<CheckKey, CheckState> = HashMap::new();
        let mut old_alive: HashMap<String, (bool, SystemTime)> = HashMap::new();
        let mut old_quorum: HashMap<String, Option<bool>> = HashMap::new();
        for (v, list) in std::mem::take(&mut self.servers).into_iter().enumerate() {
            let vs = &self.config.virtual_servers[v];
            old_quorum.insert(vs.id.to_string(), self.quorum.get(v).copied().flatten());
            for (r, s) in list.into_iter().enumerate() {
                let rs = &vs.real_servers[r];
                old_alive.insert(format!("{}|{}|{:?}", vs.id, rs.address, rs.port), (s.alive, s.since));
                for c in s.checks {
                    old.insert(c.key.clone(), c);
                }
            }
        }
        let mut servers = Vec::new();
        let mut quorum = Vec::new();
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            quorum.push(old_quorum.get(&vs.id.to_string()).copied().flatten());
            let mut list = Vec::new();
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let checks: Vec<CheckState> = rs
                    .checks
                    .iter()
                    .map(|c| {
                        let resolved = ResolvedCheck::new(&config.global, vs, rs, c);
                        let key = check_key(&config, v, r, &resolved);
                        old.remove(&key).unwrap_or_else(|| CheckState {
                            health: CheckerHealth::new(cadence(&resolved.kind), timings(&resolved), resolved.alpha),
                            key,
                            resolved,
                            since: now,
                            last: None,
                            attempts: 0,
                            failures: BTreeMap::new(),
                            weight: None,
                        })
                    })
                    .collect();
                let (was, since) =
                    old_alive.get(&format!("{}|{}|{:?}", vs.id, rs.address, rs.port)).copied().unwrap_or((false, now));
                let mut s = ServerRt { checks, alive: was, since };
                let alive = s.all_up();
                if alive != was {
                    s.since = now;
                }
                s.alive = alive;
                list.push(s);
            }
            servers.push(list);
        }
        self.managed.extend(config.virtual_servers.iter().flat_map(|vs| vs.service_ids(&config.virtual_server_groups)));
        self.config = std::sync::Arc::new(config);
        self.servers = servers;
        self.quorum = quorum;
        self.reindex();
        old.into_keys().collect()
    }

    /// The services of the configuration in force.
    pub fn configured(&self) -> BTreeSet<ServiceId> {
        self.config.virtual_servers.iter().flat_map(|vs| vs.service_ids(&self.config.virtual_server_groups)).collect()
    }

    /// Finds a check by key: (virtual server, real server, check).
    pub fn find(&self, key: &str) -> Option<(usize, usize, usize)> {
        self.index.get(key).copied()
    }

    /// Every check's key.
    pub fn keys(&self) -> impl Iterator<Item = &CheckKey> {
        self.index.keys()
    }
}
