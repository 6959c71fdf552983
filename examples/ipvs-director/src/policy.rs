//! From configuration and health to the table the kernel should hold, as keepalived decides
//! it (`perform_svr_state`, `update_quorum_state`):
//!
//! - a real server is in its services while alive (every check up), with its weight (a
//!   command check's dynamic weight, else the configured one);
//! - a real server that is down is left out (`remove`; `drain` leaves it out too, and the
//!   plan drains it: weight 0, deleted when idle), or kept at weight 0 (`inhibit`);
//! - quorum: the sum of the weights of the live servers; lost when it is 0 or below
//!   `quorum - hysteresis`, gained again at `quorum + hysteresis`. With a sorry server, losing
//!   quorum takes every real server out (inhibited ones stay at weight 0) and puts the sorry
//!   server in at weight 1; gaining it swaps them back. Without one, quorum only drives the
//!   quorum scripts. A `sorry_server_inhibit` sorry server stays in at weight 0 while unused.
//! - a virtual service stays in the kernel while configured, even with no server in it.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipvs::state::{DrainPolicy, Table};
use ipvs::InvalidInput;

use crate::config::{Config, OnFailure, RealServer, VirtualServer, VirtualServerId};

/// A real server's identity across reloads: its virtual server, its address and its port
/// (unique within a configuration: validation refuses the same real server twice).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerKey {
    /// The virtual server it belongs to.
    pub virtual_server: VirtualServerId,
    /// Its address.
    pub address: IpAddr,
    /// Its port, if it has one of its own.
    pub port: Option<u16>,
}

impl ServerKey {
    /// The key of real server `rs` of `vs`.
    pub fn new(vs: &VirtualServer, rs: &RealServer) -> ServerKey {
        ServerKey { virtual_server: vs.id.clone(), address: rs.address, port: rs.port }
    }

    /// The real server as `/metrics` labels it: its address, with its port if it has one.
    pub fn real_server(&self) -> String {
        self.port.map_or(self.address.to_string(), |p| SocketAddr::new(self.address, p).to_string())
    }

    /// Finds the virtual and real server of this key in `config`.
    pub fn find<'a>(&self, config: &'a Config) -> Option<(&'a VirtualServer, &'a RealServer)> {
        let vs = config.virtual_servers.iter().find(|vs| vs.id == self.virtual_server)?;
        let rs = vs.real_servers.iter().find(|rs| rs.address == self.address && rs.port == self.port)?;
        Some((vs, rs))
    }
}

impl fmt::Display for ServerKey {
    /// `198.51.100.11:80 of [192.0.2.10]:tcp:80`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {}", self.real_server(), self.virtual_server)
    }
}

/// What the policy knows of one real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerState {
    /// Every check up.
    pub alive: bool,
    /// The weight a command check asked for (`misc_dynamic`), else None.
    pub dynamic_weight: Option<u32>,
}

/// A server that is not known counts as down.
const DOWN: ServerState = ServerState { alive: false, dynamic_weight: None };

/// A quorum change of one virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumChange {
    /// The virtual server.
    pub virtual_server: VirtualServerId,
    /// Gained (true) or lost.
    pub up: bool,
    /// The live weight that decided it.
    pub weight: u64,
}

/// The weight a live real server has.
pub fn weight(vs: &VirtualServer, rs: usize, state: &ServerState) -> u32 {
    state.dynamic_weight.unwrap_or_else(|| vs.real_servers.get(rs).map_or(0, |r| vs.weight_of(r)))
}

/// Updates a virtual server's quorum from its servers' states (None: not yet decided, as at
/// start, where it counts as lost); returns the change, if any.
pub fn update_quorum(vs: &VirtualServer, states: &[ServerState], quorum_up: &mut Option<bool>) -> Option<bool> {
    let live: u64 = states.iter().enumerate().filter(|(_, s)| s.alive).map(|(i, s)| u64::from(weight(vs, i, s))).sum();
    let (q, h) = (u64::from(vs.quorum), u64::from(vs.hysteresis));
    let up = quorum_up.unwrap_or(false);
    let now = if up { !(live == 0 || live < q.saturating_sub(h)) } else { live >= q + h && live > 0 };
    let changed = *quorum_up != Some(now);
    *quorum_up = Some(now);
    changed.then_some(now)
}

/// The live weight of a virtual server (for logs and status).
pub fn live_weight(vs: &VirtualServer, states: &[ServerState]) -> u64 {
    states.iter().enumerate().filter(|(_, s)| s.alive).map(|(i, s)| u64::from(weight(vs, i, s))).sum()
}

/// How destinations leave a virtual server's services: drained if one of its real servers
/// says `drain` (the longest of their limits), else deleted at once.
pub fn leaving(vs: &VirtualServer) -> DrainPolicy {
    let limits: Vec<Option<Duration>> = vs
        .real_servers
        .iter()
        .filter_map(|rs| match vs.on_failure_of(rs) {
            OnFailure::Drain { max } => Some(max),
            _ => None,
        })
        .collect();
    if limits.is_empty() {
        return DrainPolicy::Delete;
    }
    let max = if limits.iter().any(Option::is_none) { None } else { limits.into_iter().flatten().max() };
    DrainPolicy::Drain { max }
}

/// The desired table: every configured service with the destinations the states and
/// quorums put in it, and the configured timeouts. `states[v][r]` is real server `r` of
/// virtual server `v`; `quorum[v]` its quorum (decided by [`update_quorum`]).
pub fn desired(config: &Config, states: &[Vec<ServerState>], quorum: &[Option<bool>]) -> Result<Table, InvalidInput> {
    let mut table = Table::new();
    table.set_timeouts(config.global.timeouts);
    for (v, vs) in config.virtual_servers.iter().enumerate() {
        let none = Vec::new();
        let st = states.get(v).unwrap_or(&none);
        let sorry_active = vs.sorry_server.is_some() && !quorum.get(v).copied().flatten().unwrap_or(false);
        for id in vs.service_ids(&config.virtual_server_groups) {
            let entry = table.add_service(vs.service(id))?;
            entry.set_drain(Some(leaving(vs)));
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let s = st.get(r).copied().unwrap_or(DOWN);
                let inhibit = vs.on_failure_of(rs) == OnFailure::Inhibit;
                let d = vs.destination(&id, rs);
                let weight = match (sorry_active, s.alive, inhibit) {
                    (false, true, _) => Some(weight(vs, r, &s)),
                    (_, _, true) => Some(0),
                    _ => None,
                };
                if let Some(w) = weight {
                    entry.add_destination(d.with_weight(w))?;
                }
            }
            if let (Some(sorry), Some(d)) = (&vs.sorry_server, vs.sorry_destination(&id)) {
                if sorry_active {
                    entry.add_destination(d.with_weight(1))?;
                } else if sorry.inhibit {
                    entry.add_destination(d.with_weight(0))?;
                }
            }
        }
    }
    Ok(table)
}

/// The policy's decision for a configuration and the servers' states (a server missing from
/// `servers` is down; a virtual server missing from `quorum` has not had its quorum decided
/// yet): the quorum changes, and the table the kernel should hold with the quorums they
/// give (an error when the configuration gives no valid table).
pub fn decide(
    config: &Config,
    servers: &HashMap<ServerKey, ServerState>,
    quorum: &HashMap<VirtualServerId, bool>,
) -> (Result<Table, InvalidInput>, Vec<QuorumChange>) {
    let mut states = Vec::with_capacity(config.virtual_servers.len());
    let mut quorums = Vec::with_capacity(config.virtual_servers.len());
    let mut changes = Vec::new();
    for vs in &config.virtual_servers {
        let st: Vec<ServerState> =
            vs.real_servers.iter().map(|rs| servers.get(&ServerKey::new(vs, rs)).copied().unwrap_or(DOWN)).collect();
        let mut q = quorum.get(&vs.id).copied();
        if let Some(up) = update_quorum(vs, &st, &mut q) {
            changes.push(QuorumChange { virtual_server: vs.id.clone(), up, weight: live_weight(vs, &st) });
        }
        states.push(st);
        quorums.push(q);
    }
    (desired(config, &states, &quorums), changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str, servers: &[(&str, &str)]) -> Config {
        let mut text = format!(
            "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nscheduler = \"wrr\"\n{extra}\n"
        );
        for (addr, more) in servers {
            text += &format!("[[virtual_servers.real_servers]]\naddress = \"{addr}\"\n{more}\n");
        }
        Config::from_toml(&text).unwrap()
    }

    fn up(alive: bool) -> ServerState {
        ServerState { alive, dynamic_weight: None }
    }

    #[test]
    fn down_servers_leave_unless_inhibited() {
        let c = config("", &[("198.51.100.11", "weight = 3"), ("198.51.100.12", "on_failure = \"inhibit\"")]);
        let t = desired(&c, &[vec![up(true), up(false)]], &[Some(true)]).unwrap();
        assert_eq!(
            t.to_rules(),
            "-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 3\n-a -t 192.0.2.10:80 -r 198.51.100.12:80 -m -w 0\n"
        );
        let t = desired(&c, &[vec![up(false), up(false)]], &[Some(false)]).unwrap();
        assert_eq!(t.to_rules(), "-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 198.51.100.12:80 -m -w 0\n");
    }

    #[test]
    fn quorum_with_hysteresis_and_the_sorry_server() {
        let c = config(
            "quorum = 3\nhysteresis = 1\n[virtual_servers.sorry_server]\naddress = \"198.51.100.99\"\n",
            &[("198.51.100.11", "weight = 2"), ("198.51.100.12", "weight = 2"), ("198.51.100.13", "weight = 2")],
        );
        let vs = &c.virtual_servers[0];
        let mut q = None;
        // At start: 6 >= 3 + 1, gained.
        assert_eq!(update_quorum(vs, &[up(true), up(true), up(true)], &mut q), Some(true));
        // 4: still up (lost only below 3 - 1 = 2).
        assert_eq!(update_quorum(vs, &[up(true), up(true), up(false)], &mut q), None);
        assert_eq!(update_quorum(vs, &[up(true), up(false), up(false)], &mut q), None);
        // 0: lost; the sorry server replaces everyone.
        let states = [up(false), up(false), up(false)];
        assert_eq!(update_quorum(vs, &states, &mut q), Some(false));
        let t = desired(&c, &[states.to_vec()], &[q]).unwrap();
        assert_eq!(t.to_rules(), "-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 198.51.100.99:80 -m -w 1\n");
        // 2 alive again: below 3 + 1, still lost, the sorry server stays and nobody else.
        let states = [up(true), up(false), up(false)];
        assert_eq!(update_quorum(vs, &states, &mut q), None);
        let t = desired(&c, &[states.to_vec()], &[q]).unwrap();
        assert_eq!(t.to_rules(), "-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 198.51.100.99:80 -m -w 1\n");
        // 4: gained; the sorry server leaves.
        let states = [up(true), up(true), up(false)];
        assert_eq!(update_quorum(vs, &states, &mut q), Some(true));
        let t = desired(&c, &[states.to_vec()], &[q]).unwrap();
        assert_eq!(
            t.to_rules(),
            "-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 2\n-a -t 192.0.2.10:80 -r 198.51.100.12:80 -m -w 2\n"
        );
    }

    #[test]
    fn decide_reads_the_servers_by_key_and_reports_quorum_changes() {
        let c = config(
            "quorum = 2\n[virtual_servers.sorry_server]\naddress = \"198.51.100.99\"\n",
            &[("198.51.100.11", "weight = 2"), ("198.51.100.12", "")],
        );
        let vs = &c.virtual_servers[0];
        let key = |i: usize| ServerKey::new(vs, &vs.real_servers[i]);
        assert_eq!(key(0).to_string(), "198.51.100.11 of [192.0.2.10]:tcp:80");
        assert_eq!(key(0).find(&c).map(|(_, rs)| rs.address), Some(vs.real_servers[0].address));
        let mut servers = HashMap::from([(key(0), up(true)), (key(1), up(true))]);
        // Undecided: gained (3 >= 2), both in.
        let (t, changes) = decide(&c, &servers, &HashMap::new());
        assert_eq!(changes, [QuorumChange { virtual_server: vs.id.clone(), up: true, weight: 3 }]);
        assert!(t.unwrap().to_rules().contains("-r 198.51.100.12:80 -m -w 1\n"));
        let quorum = HashMap::from([(vs.id.clone(), true)]);
        // .11 down (and .12 unknown: down too): lost, the sorry server in.
        servers.insert(key(0), up(false));
        servers.remove(&key(1));
        let (t, changes) = decide(&c, &servers, &quorum);
        assert_eq!(changes, [QuorumChange { virtual_server: vs.id.clone(), up: false, weight: 0 }]);
        assert_eq!(
            t.unwrap().to_rules(),
            "-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 198.51.100.99:80 -m -w 1\n"
        );
        // Nothing changes: no quorum change reported.
        servers.insert(key(0), up(true));
        assert_eq!(decide(&c, &servers, &quorum).1, []);
    }

    #[test]
    fn dynamic_weights_and_drain_policies() {
        let c = config("", &[("198.51.100.11", "on_failure = \"drain\"\nmax_drain = 30"), ("198.51.100.12", "")]);
        let vs = &c.virtual_servers[0];
        assert_eq!(leaving(vs), DrainPolicy::Drain { max: Some(Duration::from_secs(30)) });
        let s = [ServerState { alive: true, dynamic_weight: Some(7) }, up(true)];
        let t = desired(&c, &[s.to_vec()], &[Some(true)]).unwrap();
        assert!(t.to_rules().contains("-r 198.51.100.11:80 -m -w 7\n"), "{}", t.to_rules());
        assert_eq!(leaving(&config("", &[("198.51.100.11", "")]).virtual_servers[0]), DrainPolicy::Delete);
    }
}
