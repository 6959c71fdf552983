//! One VRRP instance at work: its sockets, its state machine ([`ipvs_vrrp::Instance`]),
//! and the actions it asks for carried out (adverts sent, virtual addresses added and
//! removed, announcements, notify scripts, the IPVS sync daemon switched).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ipvs::DaemonState;
use ipvs::Errno;
use ipvs_realserver::rtnl::Rtnl;
use ipvs_vrrp::{
    emit, Action, Event, Instance, InstanceConfig, Notify, PacketContext, State, Stats, SyncRole, Timestamp,
};
use tokio::sync::{mpsc, oneshot};

use super::net::{send_garp, send_na, Interface, Receiver, Sender};
use crate::check::run_script;
use crate::config::{Script, SyncDaemon};
use crate::daemon::lock;
use crate::daemon::Ipvs;

/// A virtual address and the interface it goes on.
#[derive(Debug, Clone)]
pub struct Vip {
    /// The address.
    pub address: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// The interface.
    pub iface: Interface,
}

/// Everything an instance needs, made ready (in the right namespace) before it starts.
pub struct Setup {
    /// The instance's name.
    pub name: String,
    /// Its state machine's configuration.
    pub cfg: InstanceConfig,
    /// The interface adverts go out of.
    pub iface: Interface,
    /// Receives adverts.
    pub receiver: Receiver,
    /// Sends them.
    pub sender: Sender,
    /// Adds and removes the virtual addresses.
    pub rtnl: Rtnl,
    /// The virtual addresses.
    pub vips: Vec<Vip>,
    /// Notify scripts: master, backup, fault.
    pub notify: [Option<Script>; 3],
    /// The sync daemon that follows this instance.
    pub sync: Option<SyncDaemon>,
}

/// What the tracker and the daemon tell an instance.
#[derive(Debug)]
pub enum Ctl {
    /// The effective priority and the faults in force (empty: none).
    Track {
        /// The priority.
        priority: u8,
        /// What is wrong, one line each.
        faults: Vec<String>,
    },
    /// Stop (a master announces priority 0 and gives the addresses up); answered when done.
    Shutdown(oneshot::Sender<()>),
}

/// An instance as `/status` and `/metrics` show it.
#[derive(Debug, Clone)]
pub struct InstanceStatus {
    /// The instance's name.
    pub name: String,
    /// Its interface.
    pub interface: String,
    /// Its virtual router id.
    pub vrid: u8,
    /// VRRP version (2 or 3).
    pub version: u8,
    /// Its state.
    pub state: State,
    /// Its effective priority.
    pub priority: u8,
    /// Its primary address.
    pub primary: IpAddr,
    /// The master's primary address, when known.
    pub master: Option<IpAddr>,
    /// The faults in force.
    pub faults: Vec<String>,
    /// Since when it is in its state.
    pub since: SystemTime,
    /// Its counters.
    pub stats: Stats,
}

impl InstanceStatus {
    /// The status of instance `name` on `interface`, from its state machine.
    pub(crate) fn of(
        name: &str,
        interface: &str,
        vr: &Instance,
        faults: &[String],
        since: SystemTime,
    ) -> InstanceStatus {
        let cfg = vr.config();
        InstanceStatus {
            name: name.to_owned(),
            interface: interface.to_owned(),
            vrid: cfg.vrid,
            version: match cfg.version {
                ipvs_vrrp::Version::V2 => 2,
                ipvs_vrrp::Version::V3 => 3,
            },
            state: vr.state(),
            priority: vr.priority(),
            primary: cfg.primary_address,
            master: vr.master_address(),
            faults: faults.to_vec(),
            since,
            stats: vr.stats().clone(),
        }
    }
}

/// The name keepalived logs for a state.
pub fn state_name(s: State) -> &'static str {
    match s {
        State::Initialize => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
    }
}

/// A [`Setup`] at work, its receiver handed to the event loop.
struct Worker {
    name: String,
    cfg: InstanceConfig,
    iface: Interface,
    sender: Sender,
    rtnl: Rtnl,
    vips: Vec<Vip>,
    notify: [Option<Script>; 3],
    sync: Option<SyncDaemon>,
    client: Arc<Ipvs>,
    epoch: Instant,
}

impl Worker {
    fn now(&self) -> Timestamp {
        Timestamp::from_duration(self.epoch.elapsed())
    }

    fn instant(&self, t: Timestamp) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.epoch + t.saturating_duration_since(Timestamp::ZERO))
    }

    fn addresses(&mut self, add: bool) {
        let name = &self.name;
        for v in &self.vips {
            match self.rtnl.address(add, v.iface.index, &v.iface.name, v.address, v.prefix_len) {
                Ok(()) => {
                    tracing::info!(instance = %name, address = %v.address, dev = %v.iface.name, "({name}) {} {}/{} {} {}", if add { "added" } else { "removed" }, v.address, v.prefix_len, if add { "to" } else { "from" }, v.iface.name)
                }
                Err(e) if add && e.errno() == Some(Errno::EEXIST) => {}
                Err(e) if !add && matches!(e.errno(), Some(Errno::EADDRNOTAVAIL | Errno::ENOENT | Errno::ENODEV)) => {}
                Err(e) => {
                    tracing::error!(instance = %name, address = %v.address, error = %e, "({name}) cannot {} a virtual address", if add { "add" } else { "remove" })
                }
            }
        }
    }

    fn announce(&self, repeat: u32) {
        let name = &self.name;
        let mut by_iface: Vec<(&Interface, Vec<Ipv4Addr>, Vec<Ipv6Addr>)> = Vec::new();
        for v in &self.vips {
            let pos = match by_iface.iter().position(|(i, ..)| i.index == v.iface.index) {
                Some(p) => p,
                None => {
                    by_iface.push((&v.iface, Vec::new(), Vec::new()));
                    by_iface.len() - 1
                }
            };
            match v.address {
                IpAddr::V4(a) => by_iface[pos].1.push(a),
                IpAddr::V6(a) => by_iface[pos].2.push(a),
            }
        }
        for (iface, v4, v6) in by_iface {
            if !v4.is_empty() {
                match send_garp(iface, &v4, repeat) {
                    Ok(n) => {
                        tracing::info!(instance = %name, dev = %iface.name, sent = n, "({name}) sent gratuitous ARPs on {}", iface.name)
                    }
                    Err(e) => {
                        tracing::error!(instance = %name, dev = %iface.name, error = %e, "({name}) gratuitous ARP failed")
                    }
                }
            }
            if !v6.is_empty() {
                match send_na(iface, &v6, repeat) {
                    Ok(n) => {
                        tracing::info!(instance = %name, dev = %iface.name, sent = n, "({name}) sent unsolicited neighbour advertisements on {}", iface.name)
                    }
                    Err(e) => {
                        tracing::error!(instance = %name, dev = %iface.name, error = %e, "({name}) neighbour advertisement failed")
                    }
                }
            }
        }
    }

    fn sync_daemon(&self, role: SyncRole) {
        let Some(sd) = self.sync.clone() else { return };
        let (client, vrid, name) = (self.client.clone(), self.cfg.vrid, self.name.clone());
        // In order, at once (two quick kernel calls): the new role before the next advert.
        let stop = |s: DaemonState| match client.stop_daemon(s) {
            Err(e) if e.errno() == Errno::ESRCH => Ok(()),
            other => other,
        };
        let start = |s: DaemonState| match client.start_daemon(&sd.daemon(s, vrid)) {
            Err(e) if e.errno() == Errno::EEXIST => Ok(()),
            other => other,
        };
        let result = match role {
            SyncRole::Master => stop(DaemonState::Backup).and_then(|()| start(DaemonState::Master)),
            SyncRole::Backup => stop(DaemonState::Master).and_then(|()| start(DaemonState::Backup)),
            SyncRole::Stop => stop(DaemonState::Master).and_then(|()| stop(DaemonState::Backup)),
        };
        match result {
            Ok(()) => {
                tracing::info!(instance = %name, role = ?role, interface = %sd.interface, "({name}) IPVS sync daemon now {role:?}")
            }
            Err(e) => {
                tracing::error!(instance = %name, role = ?role, error = %e, "({name}) cannot switch the IPVS sync daemon")
            }
        }
    }

    fn notify(&self, n: Notify) {
        let script = match n {
            Notify::Master => &self.notify[0],
            Notify::Backup => &self.notify[1],
            Notify::Fault => &self.notify[2],
            Notify::Stop => &None,
        };
        let Some(s) = script.clone() else { return };
        let name = self.name.clone();
        tokio::spawn(async move {
            let out = run_script(&s, Duration::from_secs(300)).await;
            tracing::info!(instance = %name, script = ?s.argv, outcome = %out, "({name}) notify {n:?} ran");
        });
    }

    fn perform(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::SendAdvert(advert) => {
                    for dest in self.cfg.destinations() {
                        let ctx = PacketContext {
                            source: self.cfg.primary_address,
                            destination: dest,
                            v3_checksum_as_v2: self.cfg.v3_checksum_as_v2,
                        };
                        if let Err(e) = self.sender.send(&self.iface, &emit(&advert, &ctx), dest) {
                            tracing::warn!(instance = %self.name, %dest, error = %e, "advert not sent");
                        }
                    }
                }
                Action::AddAddresses => self.addresses(true),
                Action::RemoveAddresses => self.addresses(false),
                Action::Announce { repeat } => self.announce(repeat),
                Action::Notify(n) => self.notify(n),
                Action::SyncDaemon(role) => self.sync_daemon(role),
            }
        }
    }
}

/// Runs an instance until it is told to stop; `board[slot]` shows it.
pub async fn run(
    setup: Setup,
    mut vr: Instance,
    mut ctl: mpsc::Receiver<Ctl>,
    client: Arc<Ipvs>,
    board: Arc<Mutex<Vec<InstanceStatus>>>,
    slot: usize,
) {
    let Setup { name, cfg, iface, receiver, sender, rtnl, vips, notify, sync } = setup;
    let fd = match receiver.into_async() {
        Ok(fd) => fd,
        Err(e) => {
            tracing::error!(instance = %name, error = %e, "({name}) cannot watch its socket; the instance does not run");
            return;
        }
    };
    let mut w = Worker { name, cfg, iface, sender, rtnl, vips, notify, sync, client, epoch: Instant::now() };
    let mut faults: Vec<String> = Vec::new();
    let mut since = SystemTime::now();
    let mut last_state = vr.state();
    let publish = |w: &Worker, vr: &Instance, faults: &[String], since: SystemTime| {
        if let Some(s) = lock(&board).get_mut(slot) {
            *s = InstanceStatus::of(&w.name, &w.iface.name, vr, faults, since);
        }
    };
    let mut step = |w: &mut Worker, vr: &mut Instance, actions: Vec<Action>, since: &mut SystemTime| {
        w.perform(actions);
        if vr.state() != last_state {
            last_state = vr.state();
            *since = SystemTime::now();
            let n = &w.name;
            tracing::info!(instance = %n, state = state_name(last_state), priority = vr.priority(), master = ?vr.master_address(), "({n}) Entering {} STATE", state_name(last_state));
        }
    };
    let a = vr.handle(w.now(), Event::Startup);
    step(&mut w, &mut vr, a, &mut since);
    publish(&w, &vr, &faults, since);
    let mut buf = vec![0u8; 65536];
    loop {
        let deadline = vr.next_deadline().map(|t| w.instant(t));
        tokio::select! {
            ready = fd.readable() => {
                if ready.is_err() { break }
                for _ in 0..64 {
                    match fd.try_recv(&mut buf) {
                        Ok(Ok((meta, range))) => {
                            let payload = buf.get(range).unwrap_or(&[]);
                            let a = vr.receive(w.now(), &meta, payload);
                            step(&mut w, &mut vr, a, &mut since);
                        }
                        Ok(Err(reason)) => vr.drop_packet(reason),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            tracing::warn!(instance = %w.name, error = %e, "receiving adverts");
                            break;
                        }
                    }
                }
            }
            () = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                let a = vr.handle(w.now(), Event::Timer);
                step(&mut w, &mut vr, a, &mut since);
            }
            c = ctl.recv() => match c {
                Some(Ctl::Track { priority, faults: now_faults }) => {
                    if priority != vr.priority() && !vr.config().is_owner() {
                        tracing::info!(instance = %w.name, priority, "({}) priority {} -> {priority}", w.name, vr.priority());
                        let a = vr.handle(w.now(), Event::Priority(priority));
                        step(&mut w, &mut vr, a, &mut since);
                    }
                    if !now_faults.is_empty() && !vr.is_faulted() {
                        tracing::warn!(instance = %w.name, faults = ?now_faults, "({}) fault: {}", w.name, now_faults.join(", "));
                        let a = vr.handle(w.now(), Event::Fault);
                        step(&mut w, &mut vr, a, &mut since);
                    } else if now_faults.is_empty() && vr.is_faulted() {
                        tracing::info!(instance = %w.name, "({}) faults cleared", w.name);
                        let a = vr.handle(w.now(), Event::FaultCleared);
                        step(&mut w, &mut vr, a, &mut since);
                    }
                    faults = now_faults;
                }
                Some(Ctl::Shutdown(done)) => {
                    let a = vr.handle(w.now(), Event::Shutdown);
                    step(&mut w, &mut vr, a, &mut since);
                    publish(&w, &vr, &faults, since);
                    let _ = done.send(());
                    return;
                }
                None => break,
            },
        }
        publish(&w, &vr, &faults, since);
    }
    let a = vr.handle(w.now(), Event::Shutdown);
    step(&mut w, &mut vr, a, &mut since);
    publish(&w, &vr, &faults, since);
}
