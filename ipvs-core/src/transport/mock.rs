//! An in-memory model of the kernel's IPVS tables, behind the same [`Transport`] seam as the
//! kernel. It interprets the same messages the kernel does, in the kernel's order of checks,
//! and answers the errno the kernel answers (Linux 6.1 `ip_vs_ctl.c`):
//!
//! * identity: missing AF or fwmark/protocol+addr+port, or a missing mandatory attribute on
//!   NEW/SET: `EINVAL`; AF not INET/INET6: `EAFNOSUPPORT`; a fwmark of 0 means the TCP service
//!   on the unspecified address, port 0, as in the kernel;
//! * services: exists on NEW: `EEXIST`; missing on SET/DEL/GET/ZERO and on destination
//!   commands: `ESRCH`; unknown scheduler or persistence engine: `ENOENT`; IPv6 prefix outside
//!   1..=128: `EINVAL`; flags applied as `(old & !mask) | (new & mask)`, HASHED always set;
//!   an empty persistence engine name means none;
//! * destinations: weight < 0 or lower threshold > upper: `ERANGE`; GUE with port 0: `EINVAL`;
//!   exists on NEW: `EEXIST`; missing on SET/DEL: `ENOENT`; address not unicast (0.0.0.0,
//!   255.255.255.255, multicast, IPv6 unspecified, mapped, multicast or link-local): `EINVAL`;
//!   family differing from the service without tunnelling, or while a sync daemon runs:
//!   `EINVAL`; newest first in dumps; a GET_DEST dump of a missing service is empty;
//! * timeouts: above `INT_MAX / HZ` (HZ = 250, Debian's) or negative as an int: `EINVAL`;
//!   0 keeps the current value; defaults 900/120/300;
//! * daemons: missing state, interface or sync id, or a non-multicast group: `EINVAL`;
//!   unknown interface: `ENODEV`; already running: `EEXIST`; stopping one not running: `ESRCH`;
//!   defaults group 224.0.0.81, port 8848, ttl 1, max length MTU (1500) minus headers; a
//!   daemon cannot start while mixed-family destinations exist: `EINVAL`;
//! * zero: of one service or, with no service, of everything; flush; info (1.2.1, 4096);
//! * an unprivileged mock answers `EPERM` to everything, as the kernel does without
//!   CAP_NET_ADMIN; unknown commands and operations without a handler: `EOPNOTSUPP`.
//!
//! What it knowingly does not model: traffic, connections and rate estimation (counters stay
//! as set by [`MockTransport::set_stats`]); the kernel's hash-bucket order of services (the
//! mock lists address services in insertion order, then firewall-mark services); the
//! destination trash; which IPv4 addresses are local broadcast addresses of interfaces.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{BatchOutcome, Transport};
use crate::error::{Errno, ErrorKind};
use crate::model::{
    Daemon, DaemonState, Destination, Family, Forward, Netmask, PersistenceEngine, Protocol, Scheduler, Service,
    ServiceFlags, ServiceId, Stats, Timeouts, Tunnel, TunnelFlags,
};
use crate::wire::convert::{addr_from_bytes, daemon_attrs, dest_reply_attrs, service_reply_attrs};
use crate::wire::{DaemonAttr, DestAttr, IpvsAttr, IpvsCmd, IpvsMessage, ServiceAttr};

const HZ: u32 = 250;
const DEFAULT_SCHEDULERS: [&str; 13] =
    ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"];
const IP_VS_CONN_F_TUNNEL: u32 = 2;
const TUNNEL_TYPE_GUE: u8 = 1;

/// How many round trips and messages a [`MockTransport`] has carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MockCounters {
    /// Calls of `request`, `dump` and `batch`: one round trip each.
    pub round_trips: u64,
    /// Messages carried (a batch counts each of its requests).
    pub messages: u64,
}

#[derive(Debug, Clone)]
struct MockDest {
    dest: Destination,
    /// The tunnel fields exactly as sent (the kernel keeps them whatever the method).
    tun: (u8, u16, u16),
}

#[derive(Debug, Clone)]
struct MockService {
    svc: Service,
    /// Newest first, as the kernel lists them.
    dests: Vec<MockDest>,
}

#[derive(Debug)]
struct Kernel {
    /// Insertion-ordered slots; `None` where a service was deleted.
    services: Vec<Option<MockService>>,
    index: HashMap<ServiceId, usize>,
    timeouts: Timeouts,
    master: Option<Daemon>,
    backup: Option<Daemon>,
    interfaces: Vec<String>,
    schedulers: Vec<String>,
    engines: Vec<String>,
    mixed_family_dests: usize,
    privileged: bool,
}

/// An in-memory IPVS kernel behind the [`Transport`] trait. See the [module docs](self) for
/// what it models.
///
/// ```
/// use ipvs::transport::MockTransport;
/// use ipvs::{Client, Scheduler, Service, ServiceId};
/// let client = Client::with_transport(MockTransport::builder().interfaces(["lo", "eth0"]).build());
/// client.add_service(&Service::new(ServiceId::udp("192.0.2.9".parse().unwrap(), 53), Scheduler::Rr)).unwrap();
/// assert_eq!(client.transport().counters().round_trips, 1);
/// ```
#[derive(Debug)]
pub struct MockTransport {
    kernel: Mutex<Kernel>,
    round_trips: AtomicU64,
    messages: AtomicU64,
}

/// Options for a [`MockTransport`].
#[derive(Debug, Clone)]
pub struct MockTransportBuilder {
    interfaces: Vec<String>,
    schedulers: Vec<String>,
    engines: Vec<String>,
    privileged: bool,
}

impl MockTransportBuilder {
    /// Network interfaces the daemons may use (default: `lo`).
    pub fn interfaces<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.interfaces = names.into_iter().map(Into::into).collect();
        self
    }

    /// Schedulers the "kernel" has (default: Debian 6.1's, every one but twos).
    pub fn schedulers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.schedulers = names.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the caller has CAP_NET_ADMIN (default true); without it everything is `EPERM`.
    pub fn privileged(mut self, privileged: bool) -> Self {
        self.privileged = privileged;
        self
    }

    /// Builds the mock.
    pub fn build(self) -> MockTransport {
        MockTransport {
            kernel: Mutex::new(Kernel {
                services: Vec::new(),
                index: HashMap::new(),
                timeouts: Timeouts { tcp: 900, tcp_fin: 120, udp: 300 },
                master: None,
                backup: None,
                interfaces: self.interfaces,
                schedulers: self.schedulers,
                engines: self.engines,
                mixed_family_dests: 0,
                privileged: self.privileged,
            }),
            round_trips: AtomicU64::new(0),
            messages: AtomicU64::new(0),
        }
    }
}

impl Default for MockTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl MockTransport {
    /// An empty "kernel" with default options.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Options: interfaces, schedulers, privilege.
    pub fn builder() -> MockTransportBuilder {
        MockTransportBuilder {
            interfaces: vec!["lo".into()],
            schedulers: DEFAULT_SCHEDULERS.iter().map(|s| s.to_string()).collect(),
            engines: vec!["sip".into()],
            privileged: true,
        }
    }

    /// Round trips and messages carried so far.
    pub fn counters(&self) -> MockCounters {
        MockCounters {
            round_trips: self.round_trips.load(Ordering::Relaxed),
            messages: self.messages.load(Ordering::Relaxed),
        }
    }

    /// Resets the counters to zero.
    pub fn reset_counters(&self) {
        self.round_trips.store(0, Ordering::Relaxed);
        self.messages.store(0, Ordering::Relaxed);
    }

    /// Sets the counters of a service (`dest: None`) or of one of its destinations, as traffic
    /// would. Returns false if there is no such service or destination.
    pub fn set_stats(&self, service: &ServiceId, dest: Option<SocketAddr>, stats: Stats) -> bool {
        let mut k = self.lock();
        let Some(ms) = k.service_mut(service) else { return false };
        match dest {
            None => {
                ms.svc.stats = stats;
                true
            }
            Some(addr) => match ms.dests.iter_mut().find(|d| d.dest.socket_addr() == addr) {
                Some(d) => {
                    d.dest.stats = stats;
                    true
                }
                None => false,
            },
        }
    }

    /// Sets the connection counts of a destination. Returns false if it does not exist.
    pub fn set_connections(
        &self,
        service: &ServiceId,
        dest: SocketAddr,
        active: u32,
        inactive: u32,
        persistent: u32,
    ) -> bool {
        let mut k = self.lock();
        let Some(ms) = k.service_mut(service) else { return false };
        match ms.dests.iter_mut().find(|d| d.dest.socket_addr() == dest) {
            Some(d) => {
                d.dest.active_conns = active;
                d.dest.inactive_conns = inactive;
                d.dest.persistent_conns = persistent;
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kernel> {
        self.kernel.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(&self, messages: usize) {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.messages.fetch_add(messages as u64, Ordering::Relaxed);
    }
}

impl Transport for MockTransport {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        self.count(1);
        self.lock().doit(msg).map_err(ErrorKind::Kernel)
    }

    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        self.count(1);
        self.lock().dumpit(msg).map_err(ErrorKind::Kernel)
    }

    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        self.count(msgs.len());
        let mut k = self.lock();
        Ok(msgs.iter().map(|m| k.doit(m).map(|_| ())).collect())
    }
}

/// A service identity and full settings as the kernel parses them from a request.
struct ParsedService {
    id: ServiceId,
    full: Option<FullService>,
}

struct FullService {
    sched: String,
    pe: Option<String>,
    flags: u32,
    mask: u32,
    timeout: u32,
    netmask: u32,
}

struct ParsedDest {
    family: Option<u16>,
    addr: [u8; 16],
    port: u16,
    full: Option<FullDest>,
}

struct FullDest {
    method: u32,
    weight: u32,
    upper: u32,
    lower: u32,
    tun_type: u8,
    tun_port: u16,
    tun_flags: u16,
}

fn parse_service(attrs: Option<&[ServiceAttr]>, full: bool) -> Result<ParsedService, Errno> {
    let attrs = attrs.ok_or(Errno::EINVAL)?;
    let (mut af, mut proto, mut addr, mut port, mut mark) = (None, None, None, None, None);
    let (mut sched, mut pe, mut flags, mut timeout, mut netmask) = (None, None, None, None, None);
    for a in attrs {
        match a {
            ServiceAttr::Af(v) => af = Some(*v),
            ServiceAttr::Protocol(v) => proto = Some(*v),
            ServiceAttr::Addr(v) => addr = Some(*v),
            ServiceAttr::Port(v) => port = Some(*v),
            ServiceAttr::Fwmark(v) => mark = Some(*v),
            // The policy: NUL-terminated strings of at most 15 characters.
            ServiceAttr::SchedName(s) | ServiceAttr::PeName(s) if s.len() > 15 => return Err(Errno::EINVAL),
            ServiceAttr::SchedName(s) => sched = Some(s.clone()),
            ServiceAttr::PeName(s) => pe = Some(s.clone()),
            ServiceAttr::Flags { flags: f, mask: m } => flags = Some((*f, *m)),
            ServiceAttr::Timeout(v) => timeout = Some(*v),
            ServiceAttr::Netmask(v) => netmask = Some(*v),
            _ => {}
        }
    }
    let af = af.ok_or(Errno::EINVAL)?;
    if mark.is_none() && (proto.is_none() || addr.is_none() || port.is_none()) {
        return Err(Errno::EINVAL);
    }
    let family = Family::from_number(af).ok_or(Errno::EAFNOSUPPORT)?;
    let id = match mark {
        Some(0) => ServiceId::Inet { protocol: Protocol::Tcp, addr: addr_from_bytes(family, &[0; 16]), port: 0 },
        Some(mark) => ServiceId::Fwmark { mark, family },
        None => ServiceId::Inet {
            protocol: Protocol::from_number(proto.unwrap_or_default()),
            addr: addr_from_bytes(family, &addr.unwrap_or_default()),
            port: port.unwrap_or_default(),
        },
    };
    let full = if full {
        match (sched, flags, timeout, netmask) {
            (Some(sched), Some((flags, mask)), Some(timeout), Some(netmask)) => {
                Some(FullService { sched, pe, flags, mask, timeout, netmask })
            }
            _ => return Err(Errno::EINVAL),
        }
    } else {
        None
    };
    Ok(ParsedService { id, full })
}

fn parse_dest(attrs: Option<&[DestAttr]>, full: bool) -> Result<ParsedDest, Errno> {
    let attrs = attrs.ok_or(Errno::EINVAL)?;
    let (mut family, mut addr, mut port) = (None, None, None);
    let (mut method, mut weight, mut upper, mut lower) = (None, None, None, None);
    let (mut tun_type, mut tun_port, mut tun_flags) = (0, 0, 0);
    for a in attrs {
        match a {
            DestAttr::AddrFamily(v) => family = Some(*v),
            DestAttr::Addr(v) => addr = Some(*v),
            DestAttr::Port(v) => port = Some(*v),
            DestAttr::FwdMethod(v) => method = Some(*v & 7),
            DestAttr::Weight(v) => weight = Some(*v),
            DestAttr::UpperThreshold(v) => upper = Some(*v),
            DestAttr::LowerThreshold(v) => lower = Some(*v),
            DestAttr::TunType(v) => tun_type = *v,
            DestAttr::TunPort(v) => tun_port = *v,
            DestAttr::TunFlags(v) => tun_flags = *v,
            _ => {}
        }
    }
    let (Some(addr), Some(port)) = (addr, port) else { return Err(Errno::EINVAL) };
    let full = if full {
        match (method, weight, upper, lower) {
            (Some(method), Some(weight), Some(upper), Some(lower)) => {
                Some(FullDest { method, weight, upper, lower, tun_type, tun_port, tun_flags })
            }
            _ => return Err(Errno::EINVAL),
        }
    } else {
        None
    };
    Ok(ParsedDest { family, addr, port, full })
}

/// The kernel's `inet_addr_type`/`ipv6_addr_type` test for a new destination.
fn unicast(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_broadcast() || a.is_multicast()),
        IpAddr::V6(a) => {
            let s = a.segments();
            let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
            !(a.is_unspecified() || a.is_multicast() || mapped || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

impl Kernel {
    fn service_mut(&mut self, id: &ServiceId) -> Option<&mut MockService> {
        let i = *self.index.get(id)?;
        self.services.get_mut(i)?.as_mut()
    }

    fn service(&self, id: &ServiceId) -> Option<&MockService> {
        let i = *self.index.get(id)?;
        self.services.get(i)?.as_ref()
    }

    fn sync_running(&self) -> bool {
        self.master.is_some() || self.backup.is_some()
    }

    fn doit(&mut self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, Errno> {
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        match msg.cmd {
            IpvsCmd::NewService
            | IpvsCmd::SetService
            | IpvsCmd::DelService
            | IpvsCmd::NewDest
            | IpvsCmd::SetDest
            | IpvsCmd::DelDest
            | IpvsCmd::Zero
            | IpvsCmd::Flush
            | IpvsCmd::SetConfig => self.set_cmd(msg).map(|_| None),
            IpvsCmd::NewDaemon | IpvsCmd::DelDaemon => self.set_daemon(msg).map(|_| None),
            IpvsCmd::GetService => {
                let p = parse_service(msg.service(), false)?;
                let ms = self.service(&p.id).ok_or(Errno::ESRCH)?;
                Ok(Some(service_message(&ms.svc)))
            }
            IpvsCmd::GetConfig => Ok(Some(IpvsMessage {
                cmd: IpvsCmd::SetConfig,
                attrs: vec![
                    IpvsAttr::TimeoutTcp(self.timeouts.tcp),
                    IpvsAttr::TimeoutTcpFin(self.timeouts.tcp_fin),
                    IpvsAttr::TimeoutUdp(self.timeouts.udp),
                ],
            })),
            IpvsCmd::GetInfo => Ok(Some(IpvsMessage {
                cmd: IpvsCmd::SetInfo,
                attrs: vec![IpvsAttr::InfoVersion(0x010201), IpvsAttr::InfoConnTabSize(4096)],
            })),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    fn dumpit(&mut self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, Errno> {
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        match msg.cmd {
            IpvsCmd::GetService => {
                let live = self.services.iter().flatten();
                let (inet, fwm): (Vec<_>, Vec<_>) = live.partition(|s| s.svc.id.mark().is_none());
                Ok(inet.into_iter().chain(fwm).map(|s| service_message(&s.svc)).collect())
            }
            IpvsCmd::GetDest => {
                let Ok(p) = parse_service(msg.service(), false) else { return Ok(Vec::new()) };
                let Some(ms) = self.service(&p.id) else { return Ok(Vec::new()) };
                Ok(ms.dests.iter().map(dest_message).collect())
            }
            IpvsCmd::GetDaemon => Ok([&self.master, &self.backup]
                .into_iter()
                .flatten()
                .map(|d| IpvsMessage { cmd: IpvsCmd::NewDaemon, attrs: vec![IpvsAttr::Daemon(daemon_attrs(d))] })
                .collect()),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    fn set_cmd(&mut self, msg: &IpvsMessage) -> Result<(), Errno> {
        match msg.cmd {
            IpvsCmd::Flush => {
                self.services.clear();
                self.index.clear();
                self.mixed_family_dests = 0;
                return Ok(());
            }
            IpvsCmd::SetConfig => return self.set_config(msg),
            IpvsCmd::Zero if msg.service().is_none() => {
                for ms in self.services.iter_mut().flatten() {
                    ms.svc.stats = Stats::default();
                    for d in &mut ms.dests {
                        d.dest.stats = Stats::default();
                    }
                }
                return Ok(());
            }
            _ => {}
        }
        let need_full_svc = matches!(msg.cmd, IpvsCmd::NewService | IpvsCmd::SetService);
        let need_full_dest = matches!(msg.cmd, IpvsCmd::NewDest | IpvsCmd::SetDest);
        let p = parse_service(msg.service(), need_full_svc)?;
        let exists = self.index.contains_key(&p.id);
        if msg.cmd != IpvsCmd::NewService && !exists {
            return Err(Errno::ESRCH);
        }
        let svc_family = p.id.family();
        let dest = if matches!(msg.cmd, IpvsCmd::NewDest | IpvsCmd::SetDest | IpvsCmd::DelDest) {
            let d = parse_dest(msg.dest(), need_full_dest)?;
            let af = d.family.unwrap_or(svc_family.number());
            let family = Family::from_number(af).ok_or(Errno::EAFNOSUPPORT)?;
            if family != svc_family && msg.cmd != IpvsCmd::DelDest {
                let method = d.full.as_ref().map_or(0, |f| f.method);
                if self.sync_running() || method != IP_VS_CONN_F_TUNNEL {
                    return Err(Errno::EINVAL);
                }
            }
            Some((family, d))
        } else {
            None
        };
        match (msg.cmd, dest) {
            (IpvsCmd::NewService, _) if exists => Err(Errno::EEXIST),
            (IpvsCmd::NewService, _) => self.add_service(p),
            (IpvsCmd::SetService, _) => self.edit_service(p),
            (IpvsCmd::DelService, _) => {
                let i = self.index.remove(&p.id).ok_or(Errno::ESRCH)?;
                if let Some(ms) = self.services.get_mut(i).and_then(Option::take) {
                    let mixed = ms.dests.iter().filter(|d| d.dest.family() != svc_family).count();
                    self.mixed_family_dests -= mixed;
                }
                Ok(())
            }
            (IpvsCmd::Zero, _) => {
                let ms = self.service_mut(&p.id).ok_or(Errno::ESRCH)?;
                ms.svc.stats = Stats::default();
                for d in &mut ms.dests {
                    d.dest.stats = Stats::default();
                }
                Ok(())
            }
            (IpvsCmd::NewDest, Some((family, d))) => self.add_dest(&p.id, family, d),
            (IpvsCmd::SetDest, Some((family, d))) => self.edit_dest(&p.id, family, d),
            (IpvsCmd::DelDest, Some((family, d))) => {
                let addr = SocketAddr::new(addr_from_bytes(family, &d.addr), d.port);
                let ms = self.service_mut(&p.id).ok_or(Errno::ESRCH)?;
                let i = ms.dests.iter().position(|x| x.dest.socket_addr() == addr).ok_or(Errno::ENOENT)?;
                ms.dests.remove(i);
                if family != svc_family {
                    self.mixed_family_dests -= 1;
                }
                Ok(())
            }
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// Scheduler and engine lookups and the IPv6 prefix check, shared by add and edit.
    fn check_settings(&self, id: &ServiceId, f: &FullService) -> Result<(Scheduler, Option<PersistenceEngine>), Errno> {
        if f.sched != "none" && !self.schedulers.contains(&f.sched) {
            return Err(Errno::ENOENT);
        }
        let pe = match f.pe.as_deref() {
            None | Some("") => None,
            Some(name) if self.engines.iter().any(|e| e == name) => Some(PersistenceEngine::from_name(name)),
            Some(_) => return Err(Errno::ENOENT),
        };
        if id.family() == Family::Inet6 && !(1..=128).contains(&f.netmask) {
            return Err(Errno::EINVAL);
        }
        Ok((Scheduler::from_name(&f.sched), pe))
    }

    fn apply_settings(svc: &mut Service, f: &FullService, sched: Scheduler, pe: Option<PersistenceEngine>) {
        let old = svc.flags.bits();
        svc.flags = ServiceFlags::from_bits_retain((old & !f.mask) | (f.flags & f.mask)) | ServiceFlags::HASHED;
        svc.scheduler = sched;
        svc.persistence_engine = pe;
        svc.timeout = f.timeout;
        svc.netmask = match svc.id.family() {
            Family::Inet => Netmask::V4(Ipv4Addr::from(f.netmask.to_ne_bytes())),
            Family::Inet6 => Netmask::Prefix(f.netmask as u8),
        };
    }

    fn add_service(&mut self, p: ParsedService) -> Result<(), Errno> {
        let f = p.full.as_ref().ok_or(Errno::EINVAL)?;
        let (sched, pe) = self.check_settings(&p.id, f)?;
        let mut svc = Service::new(p.id, sched.clone());
        Self::apply_settings(&mut svc, f, sched, pe);
        self.index.insert(p.id, self.services.len());
        self.services.push(Some(MockService { svc, dests: Vec::new() }));
        Ok(())
    }

    fn edit_service(&mut self, p: ParsedService) -> Result<(), Errno> {
        let f = p.full.as_ref().ok_or(Errno::EINVAL)?;
        let (sched, pe) = self.check_settings(&p.id, f)?;
        let ms = self.service_mut(&p.id).ok_or(Errno::ESRCH)?;
        Self::apply_settings(&mut ms.svc, f, sched, pe);
        Ok(())
    }

    fn check_dest_settings(f: &FullDest) -> Result<(), Errno> {
        if (f.weight as i32) < 0 || f.lower > f.upper {
            return Err(Errno::ERANGE);
        }
        if f.tun_type == TUNNEL_TYPE_GUE && f.tun_port == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    fn apply_dest(md: &mut MockDest, f: &FullDest) {
        let tunnel = Tunnel::from_parts(f.tun_type, f.tun_port, TunnelFlags::from_bits_retain(f.tun_flags));
        md.dest.forward = Forward::from_method(f.method, tunnel);
        md.dest.weight = f.weight;
        md.dest.upper_threshold = f.upper;
        md.dest.lower_threshold = f.lower;
        md.tun = (f.tun_type, f.tun_port, f.tun_flags);
    }

    fn add_dest(&mut self, id: &ServiceId, family: Family, d: ParsedDest) -> Result<(), Errno> {
        let f = d.full.as_ref().ok_or(Errno::EINVAL)?;
        Self::check_dest_settings(f)?;
        let addr = SocketAddr::new(addr_from_bytes(family, &d.addr), d.port);
        let svc_family = id.family();
        let ms = self.service_mut(id).ok_or(Errno::ESRCH)?;
        if ms.dests.iter().any(|x| x.dest.socket_addr() == addr) {
            return Err(Errno::EEXIST);
        }
        if !unicast(&addr.ip()) {
            return Err(Errno::EINVAL);
        }
        let mut md = MockDest { dest: Destination::new(addr, Forward::Masquerade), tun: (0, 0, 0) };
        Self::apply_dest(&mut md, f);
        ms.dests.insert(0, md);
        if family != svc_family {
            self.mixed_family_dests += 1;
        }
        Ok(())
    }

    fn edit_dest(&mut self, id: &ServiceId, family: Family, d: ParsedDest) -> Result<(), Errno> {
        let f = d.full.as_ref().ok_or(Errno::EINVAL)?;
        Self::check_dest_settings(f)?;
        let addr = SocketAddr::new(addr_from_bytes(family, &d.addr), d.port);
        let ms = self.service_mut(id).ok_or(Errno::ESRCH)?;
        let md = ms.dests.iter_mut().find(|x| x.dest.socket_addr() == addr).ok_or(Errno::ENOENT)?;
        Self::apply_dest(md, f);
        Ok(())
    }

    fn set_config(&mut self, msg: &IpvsMessage) -> Result<(), Errno> {
        let mut t = self.timeouts;
        for a in &msg.attrs {
            match a {
                IpvsAttr::TimeoutTcp(v) => t.tcp = *v,
                IpvsAttr::TimeoutTcpFin(v) => t.tcp_fin = *v,
                IpvsAttr::TimeoutUdp(v) => t.udp = *v,
                _ => {}
            }
        }
        let max = i32::MAX as u32 / HZ;
        if t.tcp > max || t.tcp_fin > max || t.udp > max {
            return Err(Errno::EINVAL);
        }
        // ip_vs_set_timeout: a 0 keeps the current value.
        for (new, cur) in
            [(t.tcp, &mut self.timeouts.tcp), (t.tcp_fin, &mut self.timeouts.tcp_fin), (t.udp, &mut self.timeouts.udp)]
        {
            if new != 0 {
                *cur = new;
            }
        }
        Ok(())
    }

    fn set_daemon(&mut self, msg: &IpvsMessage) -> Result<(), Errno> {
        let attrs = msg.daemon().ok_or(Errno::EINVAL)?;
        let mut state = None;
        let mut d = Daemon::new(DaemonState::Master, "", 0);
        let (mut ifn, mut id) = (None, None);
        for a in attrs {
            match a {
                DaemonAttr::State(s) => state = Some(*s),
                DaemonAttr::McastIfn(s) if s.len() > 15 => return Err(Errno::EINVAL),
                DaemonAttr::McastIfn(s) => ifn = Some(s.clone()),
                DaemonAttr::SyncId(v) => id = Some(*v),
                DaemonAttr::SyncMaxlen(v) => d.max_len = Some(*v),
                DaemonAttr::McastGroup(g) => d.group = Some(IpAddr::from(*g)),
                DaemonAttr::McastGroup6(g) if d.group.is_none() => d.group = Some(IpAddr::from(*g)),
                DaemonAttr::McastPort(v) => d.port = Some(*v),
                DaemonAttr::McastTtl(v) => d.ttl = Some(*v),
                _ => {}
            }
        }
        if msg.cmd == IpvsCmd::DelDaemon {
            let slot = match state.ok_or(Errno::EINVAL)? {
                1 => &mut self.master,
                2 => &mut self.backup,
                _ => return Err(Errno::EINVAL),
            };
            return slot.take().map(|_| ()).ok_or(Errno::ESRCH);
        }
        let (Some(state), Some(ifn), Some(id)) = (state, ifn, id) else { return Err(Errno::EINVAL) };
        if d.group.is_some_and(|g| !g.is_multicast()) {
            return Err(Errno::EINVAL);
        }
        if self.mixed_family_dests > 0 {
            return Err(Errno::EINVAL);
        }
        d.state = DaemonState::from_number(state).ok_or(Errno::EINVAL)?;
        d.interface = ifn;
        d.sync_id = id as u8;
        let group = *d.group.get_or_insert(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 81)));
        let headers: u16 = if group.is_ipv4() { 28 } else { 48 };
        let min_len = if d.state == DaemonState::Backup { 1024 } else { 1 };
        d.max_len = Some(match d.max_len {
            Some(0) | None => 1500 - headers,
            Some(v) => v.clamp(min_len, u16::MAX - headers),
        });
        d.port = Some(d.port.filter(|p| *p != 0).unwrap_or(8848));
        d.ttl = Some(d.ttl.filter(|t| *t != 0).unwrap_or(1));
        if !self.interfaces.contains(&d.interface) {
            return Err(Errno::ENODEV);
        }
        let slot = if d.state == DaemonState::Master { &mut self.master } else { &mut self.backup };
        if slot.is_some() {
            return Err(Errno::EEXIST);
        }
        *slot = Some(d);
        Ok(())
    }
}

fn service_message(svc: &Service) -> IpvsMessage {
    IpvsMessage { cmd: IpvsCmd::NewService, attrs: vec![IpvsAttr::Service(service_reply_attrs(svc))] }
}

fn dest_message(md: &MockDest) -> IpvsMessage {
    let mut attrs = dest_reply_attrs(&md.dest);
    for a in &mut attrs {
        match a {
            DestAttr::TunType(v) => *v = md.tun.0,
            DestAttr::TunPort(v) => *v = md.tun.1,
            DestAttr::TunFlags(v) => *v = md.tun.2,
            _ => {}
        }
    }
    IpvsMessage { cmd: IpvsCmd::NewDest, attrs: vec![IpvsAttr::Dest(attrs)] }
}
