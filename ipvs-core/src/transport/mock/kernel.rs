//! The mock's kernel: IPVS tables and the kernel's handling of each command, in the kernel's
//! order of checks (Linux 6.1 `ip_vs_ctl.c`). Memory is that of the live entries; every
//! lookup, insertion and deletion is logarithmic or constant.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::error::Errno;
use crate::model::{
    is_destination_address, Daemon, DaemonState, Destination, DestinationStatus, Family, Forward, PersistenceEngine,
    Protocol, Scheduler, Service, ServiceFlags, ServiceId, Stats, Timeouts, Tunnel, TunnelFlags, HZ, MAX_NAME_LEN,
};
use crate::wire::convert::{addr_from_bytes, daemon_attrs, dest_reply_attrs, netmask_from_raw, service_reply_attrs};
use crate::wire::{DaemonAttr, DestAttr, IpvsAttr, IpvsCmd, IpvsMessage, ServiceAttr};

/// The kernel's defaults for the connection timeouts.
pub(super) const DEFAULT_TIMEOUTS: Timeouts = Timeouts { tcp: 900, tcp_fin: 120, udp: 300 };
/// What GET_INFO answers: version 1.2.1 and the connection table size of a default build.
const INFO_VERSION: u32 = 0x010201;
const INFO_CONN_TAB_SIZE: u32 = 4096;

#[derive(Debug, Clone)]
pub(super) struct MockDest {
    pub status: DestinationStatus,
    /// The tunnel fields exactly as sent (the kernel keeps them whatever the method).
    tun: (u8, u16, u16),
}

/// A service's destinations, newest first as the kernel lists them.
#[derive(Debug, Clone, Default)]
pub(super) struct Dests {
    by_age: BTreeMap<Reverse<u64>, MockDest>,
    index: HashMap<SocketAddr, u64>,
    next: u64,
}

impl Dests {
    pub fn get_mut(&mut self, addr: &SocketAddr) -> Option<&mut MockDest> {
        let k = *self.index.get(addr)?;
        self.by_age.get_mut(&Reverse(k))
    }
    fn contains(&self, addr: &SocketAddr) -> bool {
        self.index.contains_key(addr)
    }
    fn insert(&mut self, d: MockDest) {
        let k = self.next;
        self.next += 1;
        self.index.insert(d.status.destination.socket_addr(), k);
        self.by_age.insert(Reverse(k), d);
    }
    fn remove(&mut self, addr: &SocketAddr) -> Option<MockDest> {
        let k = self.index.remove(addr)?;
        self.by_age.remove(&Reverse(k))
    }
    pub fn iter(&self) -> impl Iterator<Item = &MockDest> {
        self.by_age.values()
    }
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut MockDest> {
        self.by_age.values_mut()
    }
}

#[derive(Debug, Clone)]
pub(super) struct MockService {
    pub svc: Service,
    pub stats: Stats,
    pub dests: Dests,
}

#[derive(Debug)]
pub(super) struct Kernel {
    /// Live services by insertion order.
    services: BTreeMap<u64, MockService>,
    index: HashMap<ServiceId, u64>,
    next: u64,
    timeouts: Timeouts,
    master: Option<Daemon>,
    backup: Option<Daemon>,
    pub interfaces: Vec<String>,
    pub schedulers: Vec<String>,
    pub engines: Vec<String>,
    mixed_family_dests: usize,
    pub privileged: bool,
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

/// The kernel's tunnel type number for GUE and forwarding number for tunnels.
fn gue_kind() -> u8 {
    Tunnel::Gue { port: 1, flags: TunnelFlags::empty() }.kind()
}
fn tunnel_method() -> u32 {
    Forward::Tunnel(Tunnel::Ipip).method()
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
            ServiceAttr::SchedName(s) | ServiceAttr::PeName(s) if s.len() > MAX_NAME_LEN => return Err(Errno::EINVAL),
            ServiceAttr::SchedName(s) => sched = Some(s.to_string()),
            ServiceAttr::PeName(s) => pe = Some(s.to_string()),
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

impl Kernel {
    pub fn new(interfaces: Vec<String>, schedulers: Vec<String>, engines: Vec<String>, privileged: bool) -> Self {
        Kernel {
            services: BTreeMap::new(),
            index: HashMap::new(),
            next: 0,
            timeouts: DEFAULT_TIMEOUTS,
            master: None,
            backup: None,
            interfaces,
            schedulers,
            engines,
            mixed_family_dests: 0,
            privileged,
        }
    }

    /// The entries the model holds: services, and destinations over all services. Deleting an
    /// entry frees it.
    pub fn held(&self) -> (usize, usize) {
        let dests = self.services.values().map(|s| s.dests.by_age.len().max(s.dests.index.len())).sum();
        (self.services.len().max(self.index.len()), dests)
    }

    pub fn service_mut(&mut self, id: &ServiceId) -> Option<&mut MockService> {
        let i = *self.index.get(id)?;
        self.services.get_mut(&i)
    }

    fn service(&self, id: &ServiceId) -> Option<&MockService> {
        let i = *self.index.get(id)?;
        self.services.get(&i)
    }

    fn sync_running(&self) -> bool {
        self.master.is_some() || self.backup.is_some()
    }

    pub fn doit(&mut self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, Errno> {
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
                let p = parse_service(msg.service_attrs(), false)?;
                let ms = self.service(&p.id).ok_or(Errno::ESRCH)?;
                Ok(Some(service_message(ms)))
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
                attrs: vec![IpvsAttr::InfoVersion(INFO_VERSION), IpvsAttr::InfoConnTabSize(INFO_CONN_TAB_SIZE)],
            })),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    pub fn dumpit(&mut self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, Errno> {
        if !self.privileged {
            return Err(Errno::EPERM);
        }
        match msg.cmd {
            IpvsCmd::GetService => {
                let live = self.services.values();
                let (inet, fwm): (Vec<_>, Vec<_>) = live.partition(|s| s.svc.id.mark().is_none());
                Ok(inet.into_iter().chain(fwm).map(service_message).collect())
            }
            IpvsCmd::GetDest => {
                let Ok(p) = parse_service(msg.service_attrs(), false) else { return Ok(Vec::new()) };
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

    fn zero_service(ms: &mut MockService) {
        ms.stats = Stats::default();
        for d in ms.dests.iter_mut() {
            d.status.stats = Stats::default();
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
            IpvsCmd::Zero if msg.service_attrs().is_none() => {
                self.services.values_mut().for_each(Self::zero_service);
                return Ok(());
            }
            _ => {}
        }
        let need_full_svc = matches!(msg.cmd, IpvsCmd::NewService | IpvsCmd::SetService);
        let need_full_dest = matches!(msg.cmd, IpvsCmd::NewDest | IpvsCmd::SetDest);
        let p = parse_service(msg.service_attrs(), need_full_svc)?;
        let exists = self.index.contains_key(&p.id);
        if msg.cmd != IpvsCmd::NewService && !exists {
            return Err(Errno::ESRCH);
        }
        let svc_family = p.id.family();
        let dest = if matches!(msg.cmd, IpvsCmd::NewDest | IpvsCmd::SetDest | IpvsCmd::DelDest) {
            let d = parse_dest(msg.dest_attrs(), need_full_dest)?;
            let af = d.family.unwrap_or(svc_family.number());
            let family = Family::from_number(af).ok_or(Errno::EAFNOSUPPORT)?;
            if family != svc_family && msg.cmd != IpvsCmd::DelDest {
                let method = d.full.as_ref().map_or(0, |f| f.method);
                if self.sync_running() || method != tunnel_method() {
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
                if let Some(ms) = self.services.remove(&i) {
                    let mixed = ms.dests.iter().filter(|d| d.status.destination.family() != svc_family).count();
                    self.mixed_family_dests -= mixed;
                }
                Ok(())
            }
            (IpvsCmd::Zero, _) => {
                Self::zero_service(self.service_mut(&p.id).ok_or(Errno::ESRCH)?);
                Ok(())
            }
            (IpvsCmd::NewDest, Some((family, d))) => self.add_dest(&p.id, family, d),
            (IpvsCmd::SetDest, Some((family, d))) => self.edit_dest(&p.id, family, d),
            (IpvsCmd::DelDest, Some((family, d))) => {
                let addr = SocketAddr::new(addr_from_bytes(family, &d.addr), d.port);
                let ms = self.service_mut(&p.id).ok_or(Errno::ESRCH)?;
                ms.dests.remove(&addr).ok_or(Errno::ENOENT)?;
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
        if f.sched != Scheduler::None.name() && !self.schedulers.contains(&f.sched) {
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
        // The kernel's HASHED bit is not configuration: replies add it (see service_message).
        svc.flags = ServiceFlags::from_bits_retain((old & !f.mask) | (f.flags & f.mask)) - ServiceFlags::HASHED;
        svc.scheduler = sched;
        svc.persistence_engine = pe;
        // The kernel keeps the timeout in ticks in 32 bits and reports it divided back.
        svc.timeout = f.timeout.wrapping_mul(HZ) / HZ;
        svc.netmask = netmask_from_raw(svc.id.family(), f.netmask);
    }

    fn add_service(&mut self, p: ParsedService) -> Result<(), Errno> {
        let f = p.full.as_ref().ok_or(Errno::EINVAL)?;
        let (sched, pe) = self.check_settings(&p.id, f)?;
        let mut svc = Service::new(p.id, sched.clone());
        Self::apply_settings(&mut svc, f, sched, pe);
        let k = self.next;
        self.next += 1;
        self.index.insert(p.id, k);
        self.services.insert(k, MockService { svc, stats: Stats::default(), dests: Dests::default() });
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
        if f.tun_type == gue_kind() && f.tun_port == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    fn apply_dest(md: &mut MockDest, f: &FullDest) {
        let d = &mut md.status.destination;
        let tunnel = Tunnel::from_parts(f.tun_type, f.tun_port, TunnelFlags::from_bits_retain(f.tun_flags));
        d.forward = Forward::from_method(f.method, tunnel);
        d.weight = f.weight;
        d.upper_threshold = f.upper;
        d.lower_threshold = f.lower;
        md.tun = (f.tun_type, f.tun_port, f.tun_flags);
    }

    fn add_dest(&mut self, id: &ServiceId, family: Family, d: ParsedDest) -> Result<(), Errno> {
        let f = d.full.as_ref().ok_or(Errno::EINVAL)?;
        Self::check_dest_settings(f)?;
        let addr = SocketAddr::new(addr_from_bytes(family, &d.addr), d.port);
        let svc_family = id.family();
        let ms = self.service_mut(id).ok_or(Errno::ESRCH)?;
        if ms.dests.contains(&addr) {
            return Err(Errno::EEXIST);
        }
        if !is_destination_address(&addr.ip()) {
            return Err(Errno::EINVAL);
        }
        let mut md =
            MockDest { status: DestinationStatus::idle(Destination::new(addr, Forward::Masquerade)), tun: (0, 0, 0) };
        Self::apply_dest(&mut md, f);
        ms.dests.insert(md);
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
        let md = ms.dests.get_mut(&addr).ok_or(Errno::ENOENT)?;
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
        let attrs = msg.daemon_attrs().ok_or(Errno::EINVAL)?;
        let mut state = None;
        let mut d = Daemon::new(DaemonState::Master, "", 0);
        let (mut ifn, mut id) = (None, None);
        for a in attrs {
            match a {
                DaemonAttr::State(s) => state = Some(*s),
                DaemonAttr::McastIfn(s) if s.len() > MAX_NAME_LEN => return Err(Errno::EINVAL),
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
            let slot = match state.and_then(DaemonState::from_number).ok_or(Errno::EINVAL)? {
                DaemonState::Master => &mut self.master,
                DaemonState::Backup => &mut self.backup,
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

fn service_message(ms: &MockService) -> IpvsMessage {
    IpvsMessage { cmd: IpvsCmd::NewService, attrs: vec![IpvsAttr::Service(service_reply_attrs(&ms.svc, &ms.stats))] }
}

fn dest_message(md: &MockDest) -> IpvsMessage {
    let mut attrs = dest_reply_attrs(&md.status);
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
