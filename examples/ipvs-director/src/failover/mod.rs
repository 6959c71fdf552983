//! Failover between directors: the VRRP instances of the configuration at work.
//!
//! [`ipvs_vrrp`] is the protocol without I/O; this module is its shell on a
//! [`Host`](crate::host::Host): adverts received and sent on each instance's interface, the
//! virtual addresses added and removed, gratuitous ARP and unsolicited neighbour
//! advertisements on becoming master, the IPVS connection-sync daemon switched with the
//! state (`lvs_sync_daemon`), tracked interfaces and scripts ([`track`]), sync groups (a
//! fault of one member faults them all), and `/status` / `/metrics` through a [`Board`].
//!
//! The state machines run on the event loop; every effect they ask for is carried out
//! through the host off it (`spawn_blocking`), in order, before the next event. The host is
//! the machine of the network namespace the daemon was given (`--netns`), or its own;
//! scripts run in the daemon's own.

mod error;
pub mod instance;
#[cfg(test)]
mod tests;
pub mod track;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ipvs::{DaemonState, Errno};
use ipvs_vrrp::{advert_interval_centis, Addresses, Auth, Instance, InstanceConfig, Version};
use tokio::sync::{mpsc, oneshot};

use crate::config::{Config, SyncDaemon, VrrpInstance, VrrpState};
use crate::host::{lock, Addr, Host, Interface, LinkState, Vip};
pub use error::{InstanceProblem, SetupError};
pub use instance::{state_name, Ctl, InstanceStatus, Setup};
use track::ScriptStates;

/// Every instance's status, in configuration order.
pub type Board = Arc<Mutex<Vec<InstanceStatus>>>;

/// The part of a configuration failover runs from (a reload restarts the instances only
/// when it changes).
pub fn vrrp_part(c: &Config) -> impl PartialEq + use<> {
    (
        c.vrrp_instances.clone(),
        c.vrrp_scripts.clone(),
        c.vrrp_sync_groups.clone(),
        c.global.sync_daemon.clone(),
        c.global.vrrp_version,
        c.global.script_user.clone(),
        c.global.script_group.clone(),
    )
}

fn interface(links: &[LinkState], name: &str, instance: &str) -> Result<Interface, SetupError> {
    links
        .iter()
        .find(|l| l.name == name)
        .map(LinkState::interface)
        .ok_or_else(|| SetupError::of(instance, InstanceProblem::NoInterface(name.to_owned())))
}

/// Builds an instance's state-machine configuration and opens its receiver and sender on
/// `host`.
fn setup(
    config: &Config,
    inst: &VrrpInstance,
    links: &[LinkState],
    addrs: &[Addr],
    host: &dyn Host,
) -> Result<Setup, SetupError> {
    let what = inst.name.as_str();
    let problem = |p: InstanceProblem| SetupError::of(what, p);
    let ipv6 = inst.is_ipv6();
    let iface_name = match (&inst.interface, inst.unicast_src_ip) {
        (Some(i), _) => i.clone(),
        (None, Some(src)) => {
            let a = addrs.iter().find(|a| a.ip == src).ok_or_else(|| problem(InstanceProblem::SourceNotLocal(src)))?;
            links
                .iter()
                .find(|l| l.index == a.index)
                .map(|l| l.name.clone())
                .ok_or_else(|| problem(InstanceProblem::NoInterfaceHolds(src)))?
        }
        (None, None) => return Err(problem(InstanceProblem::InterfaceUnset)),
    };
    let iface = interface(links, &iface_name, what)?;
    let mut vips = Vec::new();
    for v in &inst.virtual_ipaddresses {
        let dev = v.dev.as_deref().unwrap_or(&iface_name);
        vips.push(Vip { address: v.address.addr, prefix_len: v.address.len, iface: interface(links, dev, what)? });
    }
    let is_vip = |ip: &IpAddr| vips.iter().any(|v| v.address == *ip);
    let primary = match inst.unicast_src_ip {
        Some(a) => a,
        None => addrs
            .iter()
            .filter(|a| a.index == iface.index && a.ip.is_ipv6() == ipv6 && !is_vip(&a.ip))
            .map(|a| a.ip)
            .find(|ip| match ip {
                IpAddr::V4(_) => true,
                IpAddr::V6(a) => a.is_unicast_link_local(),
            })
            .ok_or_else(|| problem(InstanceProblem::NoSourceAddress { interface: iface_name.clone(), ipv6 }))?,
    };
    let version = match inst.effective_version(config.global.vrrp_version) {
        3 => Version::V3,
        _ => Version::V2,
    };
    let addresses = if ipv6 {
        Addresses::V6(
            vips.iter()
                .filter_map(|v| match v.address {
                    IpAddr::V6(a) => Some(a),
                    IpAddr::V4(_) => None,
                })
                .collect(),
        )
    } else {
        Addresses::V4(
            vips.iter()
                .filter_map(|v| match v.address {
                    IpAddr::V4(a) => Some(a),
                    IpAddr::V6(_) => None,
                })
                .collect(),
        )
    };
    let mut cfg = InstanceConfig::new(version, inst.virtual_router_id, inst.effective_priority(), primary, addresses);
    cfg.advert_interval_centis =
        advert_interval_centis(version, inst.effective_advert_int()).map_err(|e| SetupError::of(what, e))?;
    if let Some(p) = &inst.auth_pass {
        cfg.auth = Auth::pass(p);
    }
    cfg.preempt = !inst.nopreempt;
    cfg.preempt_delay = inst.preempt_delay.unwrap_or(Duration::ZERO);
    cfg.start_as_master = inst.effective_state() == VrrpState::Master;
    cfg.unicast_peers = inst.unicast_peers.clone();
    cfg.multicast_group = config.global.vrrp_mcast_group(ipv6);
    cfg.validate().map_err(|e| SetupError::of(what, e))?;
    let group = (!cfg.is_unicast()).then(|| cfg.multicast_group());
    let adverts = host
        .open_receiver(&iface, group, ipv6)
        .map_err(|error| problem(InstanceProblem::ReceiveSocket { interface: iface_name.clone(), error }))?;
    host.open_sender(&iface, primary)
        .map_err(|error| problem(InstanceProblem::SendSocket { address: primary, error }))?;
    let notify = [&inst.notify_master, &inst.notify_backup, &inst.notify_fault]
        .map(|s| s.as_ref().map(|s| config.script_as_run(s)));
    let sync = config.global.sync_daemon.clone().filter(|d| d.instance.as_deref() == Some(inst.name.as_str()));
    Ok(Setup { name: inst.name.clone(), cfg, iface, adverts, vips, notify, sync })
}

/// The running instances, their tracker and their scripts, and a sync daemon that follows
/// no instance.
pub struct Failover {
    instances: Vec<(mpsc::Sender<Ctl>, tokio::task::JoinHandle<()>)>,
    helpers: Vec<tokio::task::JoinHandle<()>>,
    standalone: Option<Standalone>,
}

/// The IPVS sync daemon of `lvs_sync_daemon IFNAME` naming no instance: keepalived 2.2.7
/// runs the master and the backup daemon from its start to its stop.
struct Standalone {
    daemon: SyncDaemon,
    host: Arc<dyn Host>,
}

impl Standalone {
    /// Starts (or, `start` false, stops) both daemons, each error logged.
    async fn switch(&self, start: bool) {
        let (host, sd) = (self.host.clone(), self.daemon.clone());
        let done = tokio::task::spawn_blocking(move || {
            let client = host.ipvs();
            [DaemonState::Master, DaemonState::Backup].map(|s| {
                let r = if start { client.start_daemon(&sd.daemon(s, 0)) } else { client.stop_daemon(s) };
                (s, r)
            })
        })
        .await;
        let Ok(results) = done else { return };
        for (state, r) in results {
            match r {
                Ok(()) if start => {
                    tracing::info!(interface = %self.daemon.interface, state = ?state, "IPVS sync daemon started ({state:?}, following no VRRP instance)")
                }
                Ok(()) => {
                    tracing::info!(interface = %self.daemon.interface, state = ?state, "IPVS sync daemon stopped ({state:?})")
                }
                Err(e) if !start && e.errno() == Errno::ESRCH => {}
                Err(e) => {
                    tracing::error!(interface = %self.daemon.interface, state = ?state, error = %e, "cannot {} the IPVS sync daemon ({state:?})", if start { "start" } else { "stop" })
                }
            }
        }
    }
}

impl Failover {
    /// Starts the configuration's instances (none: `Ok(None)`) on `host`. The links and
    /// addresses are read, and the sockets opened, off the event loop.
    pub async fn start(config: &Config, host: Arc<dyn Host>, board: Board) -> Result<Option<Failover>, SetupError> {
        let standalone = config
            .global
            .sync_daemon
            .clone()
            .filter(|d| d.instance.is_none())
            .map(|daemon| Standalone { daemon, host: host.clone() });
        if let Some(s) = &standalone {
            s.switch(true).await;
        }
        if config.vrrp_instances.is_empty() {
            lock(&board).clear();
            return Ok(standalone.map(|s| Failover {
                instances: Vec::new(),
                helpers: Vec::new(),
                standalone: Some(s),
            }));
        }
        let (cfg, h) = (config.clone(), host.clone());
        let setups = tokio::task::spawn_blocking(move || -> Result<Vec<Setup>, SetupError> {
            let links = h.links()?;
            let addrs = h.addresses()?;
            cfg.vrrp_instances.iter().map(|i| setup(&cfg, i, &links, &addrs, h.as_ref())).collect()
        })
        .await
        .map_err(|e| SetupError::Interrupted(e.to_string()))??;
        let mut instances = Vec::new();
        let mut helpers = Vec::new();
        let mut slots = Vec::new();
        for (slot, s) in setups.into_iter().enumerate() {
            let vr = Instance::new(s.cfg.clone()).map_err(|e| SetupError::of(&s.name, e))?;
            slots.push(InstanceStatus::of(&s.name, &s.iface.name, &vr, &[], SystemTime::now()));
            let (tx, rx) = mpsc::channel(16);
            instances.push((tx, (slot, s, vr, rx)));
        }
        *lock(&board) = slots;
        let states: ScriptStates = Arc::default();
        for s in &config.vrrp_scripts {
            if config.vrrp_instances.iter().any(|i| i.track_scripts.iter().any(|t| t.script == s.name)) {
                helpers.push(track::spawn_script(s.clone(), config.script_as_run(&s.script), states.clone()));
            }
        }
        let senders: Vec<_> = instances.iter().map(|(tx, _)| tx.clone()).collect();
        helpers.push(spawn_tracker(config.clone(), host.clone(), states, senders));
        let running = instances
            .into_iter()
            .map(|(tx, (slot, s, vr, rx))| {
                (tx, tokio::spawn(instance::run(s, vr, rx, host.clone(), board.clone(), slot)))
            })
            .collect();
        Ok(Some(Failover { instances: running, helpers, standalone }))
    }

    /// Stops every instance (a master announces priority 0 and gives its addresses up),
    /// waiting at most 2 s for each, and a sync daemon that follows none.
    pub async fn stop(self) {
        if let Some(s) = &self.standalone {
            s.switch(false).await;
        }
        for h in &self.helpers {
            h.abort();
        }
        for (tx, task) in self.instances {
            let (done, wait) = oneshot::channel();
            if tx.send(Ctl::Shutdown(done)).await.is_ok() {
                let _ = tokio::time::timeout(Duration::from_secs(2), wait).await;
            }
            task.abort();
        }
    }
}

/// Every second: which links are up (asked of the host off the event loop), which scripts
/// are good; each instance's priority and faults sent to it when they change (and once at
/// the start).
fn spawn_tracker(
    config: Config,
    host: Arc<dyn Host>,
    states: ScriptStates,
    instances: Vec<mpsc::Sender<Ctl>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last: Vec<Option<(u8, Vec<String>)>> = vec![None; instances.len()];
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let host = host.clone();
            let links = match tokio::task::spawn_blocking(move || host.links()).await {
                Ok(Ok(l)) => l,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "VRRP tracking: cannot list the interfaces");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "VRRP tracking: cannot list the interfaces");
                    continue;
                }
            };
            let up: HashMap<&str, bool> = links.iter().map(|l| (l.name.as_str(), l.up)).collect();
            let link_up = |n: &str| up.get(n).copied().unwrap_or(false);
            let script_states = lock(&states).clone();
            let mut now: Vec<(u8, Vec<String>)> = config
                .vrrp_instances
                .iter()
                .map(|inst| {
                    let (t, names) = track::tracked(inst, &config.vrrp_scripts, &link_up, &script_states);
                    let (priority, _) = track::assess(inst.effective_priority(), &t);
                    let faults = t
                        .iter()
                        .zip(names)
                        .filter(|(t, _)| t.weight == 0 && t.good == t.reverse)
                        .map(|(_, n)| format!("{n} down"))
                        .collect();
                    (priority, faults)
                })
                .collect();
            // A sync group faults together.
            for g in &config.vrrp_sync_groups {
                let members: Vec<usize> =
                    g.group.iter().filter_map(|m| config.vrrp_instances.iter().position(|i| &i.name == m)).collect();
                let faulted: Vec<String> = members
                    .iter()
                    .filter(|&&i| !now[i].1.is_empty())
                    .map(|&i| config.vrrp_instances[i].name.clone())
                    .collect();
                if let Some(first) = faulted.first() {
                    for &i in &members {
                        if now[i].1.is_empty() {
                            now[i].1.push(format!("sync group {} member {first} in fault", g.name));
                        }
                    }
                }
            }
            for (i, n) in now.into_iter().enumerate() {
                if last[i].as_ref() != Some(&n) {
                    let _ = instances[i].send(Ctl::Track { priority: n.0, faults: n.1.clone() }).await;
                    last[i] = Some(n);
                }
            }
        }
    })
}
