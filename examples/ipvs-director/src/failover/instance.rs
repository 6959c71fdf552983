//! One VRRP instance at work: its state machine ([`ipvs_vrrp::Instance`]) on the event loop,
//! fed the adverts its receiver hands over, the timers and what the tracker and the daemon
//! say; the actions it asks for carried out through the [`Host`] off the loop, in order
//! (adverts sent, virtual addresses added and removed, announcements, the IPVS sync daemon
//! switched), and its notify scripts run.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ipvs::DaemonState;
use ipvs::Errno;
use ipvs_vrrp::{
    emit, Action, Advert, Event, Instance, InstanceConfig, Notify, PacketContext, State, Stats, SyncRole, Timestamp,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::Board;
use crate::check::run_script;
use crate::config::{Script, SyncDaemon};
use crate::host::{lock, Host, Incoming, Interface, Vip};

/// Everything an instance needs, made ready on its host before it starts.
pub struct Setup {
    /// The instance's name.
    pub name: String,
    /// Its state machine's configuration.
    pub cfg: InstanceConfig,
    /// The interface adverts go out of.
    pub iface: Interface,
    /// What the receiver opened on the host hands over.
    pub adverts: mpsc::Receiver<Incoming>,
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

/// What an instance does on its host: the part of its [`Setup`] the blocking tasks that
/// carry its actions out share.
struct Shell {
    name: String,
    cfg: InstanceConfig,
    iface: Interface,
    vips: Vec<Vip>,
    sync: Option<SyncDaemon>,
    host: Arc<dyn Host>,
}

impl Shell {
    /// Carries out one action (blocking; never a notify, which the event loop runs).
    fn carry_out(&self, action: Action) {
        match action {
            Action::SendAdvert(advert) => self.send_advert(&advert),
            Action::AddAddresses => self.addresses(true),
            Action::RemoveAddresses => self.addresses(false),
            Action::Announce { repeat } => self.announce(repeat),
            Action::SyncDaemon(role) => self.sync_daemon(role),
            Action::Notify(_) => {}
        }
    }

    fn send_advert(&self, advert: &Advert) {
        for dest in self.cfg.destinations() {
            let ctx = PacketContext {
                source: self.cfg.primary_address,
                destination: dest,
                v3_checksum_as_v2: self.cfg.v3_checksum_as_v2,
            };
            if let Err(e) = self.host.send_advert(&self.iface, self.cfg.primary_address, &emit(advert, &ctx), dest) {
                tracing::warn!(instance = %self.name, %dest, error = %e, "advert not sent");
            }
        }
    }

    fn addresses(&self, add: bool) {
        let name = &self.name;
        for v in &self.vips {
            let done = if add { self.host.add_address(v) } else { self.host.remove_address(v) };
            match done {
                Ok(true) => {
                    tracing::info!(instance = %name, address = %v.address, dev = %v.iface.name, "({name}) {} {}/{} {} {}", if add { "added" } else { "removed" }, v.address, v.prefix_len, if add { "to" } else { "from" }, v.iface.name)
                }
                Ok(false) => {}
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
                match self.host.send_garp(iface, &v4, repeat) {
                    Ok(n) => {
                        tracing::info!(instance = %name, dev = %iface.name, sent = n, "({name}) sent gratuitous ARPs on {}", iface.name)
                    }
                    Err(e) => {
                        tracing::error!(instance = %name, dev = %iface.name, error = %e, "({name}) gratuitous ARP failed")
                    }
                }
            }
            if !v6.is_empty() {
                match self.host.send_na(iface, &v6, repeat) {
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
        let Some(sd) = &self.sync else { return };
        let (client, vrid, name) = (self.host.ipvs(), self.cfg.vrid, &self.name);
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
}

/// A [`Setup`] at work on the event loop: its state machine, what `/status` shows of it,
/// its shell.
struct Worker {
    shell: Arc<Shell>,
    notify: [Option<Script>; 3],
    epoch: Instant,
    vr: Instance,
    faults: Vec<String>,
    since: SystemTime,
    last_state: State,
    board: Board,
    slot: usize,
}

impl Worker {
    fn now(&self) -> Timestamp {
        Timestamp::from_duration(self.epoch.elapsed())
    }

    fn instant(&self, t: Timestamp) -> Instant {
        self.epoch + t.saturating_duration_since(Timestamp::ZERO)
    }

    fn name(&self) -> &str {
        &self.shell.name
    }

    fn notify(&self, n: Notify) {
        let script = match n {
            Notify::Master => &self.notify[0],
            Notify::Backup => &self.notify[1],
            Notify::Fault => &self.notify[2],
            Notify::Stop => &None,
        };
        let Some(s) = script.clone() else { return };
        let name = self.shell.name.clone();
        tokio::spawn(async move {
            let out = run_script(&s, Duration::from_secs(300)).await;
            tracing::info!(instance = %name, script = ?s.argv, outcome = %out, "({name}) notify {n:?} ran");
        });
    }

    /// Logs a change of state and shows it (`/status`), then carries the actions out in
    /// order, each through the host off the event loop: as keepalived enters a state before
    /// it sets or removes the addresses, so that whoever sees an address move (a client
    /// reaching the VIP through this director) finds the new state already shown.
    async fn step(&mut self, actions: Vec<Action>) {
        if self.vr.state() != self.last_state {
            self.last_state = self.vr.state();
            self.since = SystemTime::now();
            let (n, vr) = (self.name(), &self.vr);
            tracing::info!(instance = %n, state = state_name(self.last_state), priority = vr.priority(), master = ?vr.master_address(), "({n}) Entering {} STATE", state_name(self.last_state));
            self.publish();
        }
        for a in actions {
            if let Action::Notify(n) = a {
                self.notify(n);
                continue;
            }
            let shell = self.shell.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || shell.carry_out(a)).await {
                tracing::error!(instance = %self.name(), error = %e, "({}) an action could not be carried out", self.name());
            }
        }
    }

    async fn handle(&mut self, event: Event) {
        let a = self.vr.handle(self.now(), event);
        self.step(a).await;
    }

    fn publish(&self) {
        if let Some(s) = lock(&self.board).get_mut(self.slot) {
            *s = InstanceStatus::of(self.name(), &self.shell.iface.name, &self.vr, &self.faults, self.since);
        }
    }

    async fn receive(&mut self, incoming: Incoming) {
        match incoming {
            Ok(Ok((meta, payload))) => {
                let a = self.vr.receive(self.now(), &meta, &payload);
                self.step(a).await;
            }
            Ok(Err(reason)) => self.vr.drop_packet(reason),
            Err(e) => tracing::warn!(instance = %self.name(), error = %e, "receiving adverts"),
        }
    }

    async fn track(&mut self, priority: u8, faults: Vec<String>) {
        let name = self.shell.name.clone();
        if priority != self.vr.priority() && !self.vr.config().is_owner() {
            tracing::info!(instance = %name, priority, "({name}) priority {} -> {priority}", self.vr.priority());
            self.handle(Event::Priority(priority)).await;
        }
        if !faults.is_empty() && !self.vr.is_faulted() {
            tracing::warn!(instance = %name, faults = ?faults, "({name}) fault: {}", faults.join(", "));
            self.handle(Event::Fault).await;
        } else if faults.is_empty() && self.vr.is_faulted() {
            tracing::info!(instance = %name, "({name}) faults cleared");
            self.handle(Event::FaultCleared).await;
        }
        self.faults = faults;
    }
}

/// Runs an instance on `host` until it is told to stop (or its receiver closes);
/// `board[slot]` shows it.
pub async fn run(
    setup: Setup,
    vr: Instance,
    mut ctl: mpsc::Receiver<Ctl>,
    host: Arc<dyn Host>,
    board: Board,
    slot: usize,
) {
    let Setup { name, cfg, iface, mut adverts, vips, notify, sync } = setup;
    let last_state = vr.state();
    let shell = Arc::new(Shell { name, cfg, iface, vips, sync, host });
    let mut w = Worker {
        shell,
        notify,
        epoch: Instant::now(),
        vr,
        faults: Vec::new(),
        since: SystemTime::now(),
        last_state,
        board,
        slot,
    };
    w.handle(Event::Startup).await;
    w.publish();
    loop {
        let deadline = w.vr.next_deadline().map(|t| w.instant(t));
        tokio::select! {
            incoming = adverts.recv() => match incoming {
                Some(incoming) => w.receive(incoming).await,
                None => break,
            },
            () = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                // Adverts already handed over came before this moment: take them first (a
                // bounded number), so that a timer that ran out while they waited (the loop
                // busy or not scheduled) does not act on what they would have changed: a
                // backup taking over from a master whose advert was waiting, then giving way
                // to it again at once.
                for _ in 0..64 {
                    match adverts.try_recv() {
                        Ok(incoming) => w.receive(incoming).await,
                        Err(_) => break,
                    }
                }
                w.handle(Event::Timer).await;
            }
            c = ctl.recv() => match c {
                Some(Ctl::Track { priority, faults }) => w.track(priority, faults).await,
                Some(Ctl::Shutdown(done)) => {
                    w.handle(Event::Shutdown).await;
                    w.publish();
                    let _ = done.send(());
                    return;
                }
                None => break,
            },
        }
        w.publish();
    }
    w.handle(Event::Shutdown).await;
    w.publish();
}
