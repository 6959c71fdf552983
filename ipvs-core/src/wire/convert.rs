//! How model values are laid out in IPVS attributes, both ways. The one place that knows it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::attrs::consts::*;
use super::{DaemonAttr, DecodeError, DestAttr, ServiceAttr, StatsAttr};
use crate::model::{
    Daemon, DaemonState, Destination, DestinationStatus, Family, Forward, Netmask, PersistenceEngine, Protocol,
    Scheduler, Service, ServiceFlags, ServiceId, ServiceStatus, Stats, Tunnel, TunnelFlags,
};

/// The 16-byte attribute form of an address (IPv4 in the first 4 bytes).
pub(crate) fn addr_bytes(addr: &IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&a.octets());
            b
        }
        IpAddr::V6(a) => a.octets(),
    }
}

/// The address of `family` in a 16-byte attribute.
pub(crate) fn addr_from_bytes(family: Family, b: &[u8; 16]) -> IpAddr {
    match family {
        Family::Inet => IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::from(*b)),
    }
}

/// The NETMASK attribute: an IPv4 mask's bytes read as a native u32, or the prefix length.
pub(crate) fn netmask_raw(mask: &Netmask) -> u32 {
    match mask {
        Netmask::V4(m) => u32::from_ne_bytes(m.octets()),
        Netmask::Prefix(p) => u32::from(*p),
    }
}

pub(crate) fn netmask_from_raw(family: Family, raw: u32) -> Netmask {
    match family {
        Family::Inet => Netmask::V4(Ipv4Addr::from(raw.to_ne_bytes())),
        Family::Inet6 => Netmask::Prefix(u8::try_from(raw).unwrap_or(u8::MAX)),
    }
}

fn missing(what: &str) -> DecodeError {
    DecodeError::from(format!("missing attribute {what}"))
}

/// The identity attributes of a service.
pub(crate) fn service_id_attrs(id: &ServiceId) -> Vec<ServiceAttr> {
    let mut a = Vec::with_capacity(4);
    push_service_id(id, &mut a);
    a
}

fn push_service_id(id: &ServiceId, a: &mut Vec<ServiceAttr>) {
    match id {
        ServiceId::Inet { protocol, addr, port } => a.extend([
            ServiceAttr::Af(Family::of(addr).number()),
            ServiceAttr::Protocol(protocol.number()),
            ServiceAttr::Addr(addr_bytes(addr)),
            ServiceAttr::Port(*port),
        ]),
        ServiceId::Fwmark { mark, family } => a.extend([ServiceAttr::Af(family.number()), ServiceAttr::Fwmark(*mark)]),
    }
}

/// Every attribute of a service as ipvsadm sends it: identity, scheduler, engine (if any),
/// flags with a full mask (HASHED left to the kernel), timeout and netmask.
pub(crate) fn service_attrs(svc: &Service) -> Vec<ServiceAttr> {
    let mut a = Vec::with_capacity(9);
    push_service_id(&svc.id, &mut a);
    let name = svc.scheduler.name();
    a.push(ServiceAttr::SchedName(Scheduler::static_name(name).map_or_else(|| name.to_owned().into(), Into::into)));
    if let Some(pe) = &svc.persistence_engine {
        a.push(ServiceAttr::PeName(pe.static_name().map_or_else(|| pe.name().to_owned().into(), Into::into)));
    }
    a.push(ServiceAttr::Flags { flags: (svc.flags - ServiceFlags::HASHED).bits(), mask: u32::MAX });
    a.push(ServiceAttr::Timeout(svc.timeout));
    a.push(ServiceAttr::Netmask(netmask_raw(&svc.netmask)));
    a
}

/// The identity of a service from its attributes.
pub(crate) fn service_id_from_attrs(attrs: &[ServiceAttr]) -> Result<ServiceId, DecodeError> {
    let (mut af, mut proto, mut addr, mut port, mut mark) = (None, None, None, None, None);
    for a in attrs {
        match a {
            ServiceAttr::Af(v) => af = Some(*v),
            ServiceAttr::Protocol(v) => proto = Some(*v),
            ServiceAttr::Addr(v) => addr = Some(v),
            ServiceAttr::Port(v) => port = Some(*v),
            ServiceAttr::Fwmark(v) => mark = Some(*v),
            _ => {}
        }
    }
    let af = af.ok_or_else(|| missing("IPVS_SVC_ATTR_AF"))?;
    let family = Family::from_number(af).ok_or_else(|| DecodeError::from(format!("unknown address family {af}")))?;
    if let Some(mark) = mark {
        return Ok(ServiceId::Fwmark { mark, family });
    }
    Ok(ServiceId::Inet {
        protocol: Protocol::from_number(proto.ok_or_else(|| missing("IPVS_SVC_ATTR_PROTOCOL"))?),
        addr: addr_from_bytes(family, addr.ok_or_else(|| missing("IPVS_SVC_ATTR_ADDR"))?),
        port: port.ok_or_else(|| missing("IPVS_SVC_ATTR_PORT"))?,
    })
}

/// A service and its statistics from the attributes of a reply. The kernel's HASHED flag is
/// dropped: it is not configuration.
pub(crate) fn service_status_from_attrs(attrs: &[ServiceAttr]) -> Result<ServiceStatus, DecodeError> {
    let id = service_id_from_attrs(attrs)?;
    let mut svc = Service::new(id, Scheduler::None);
    let (mut sched, mut flags) = (false, false);
    let (mut stats32, mut stats64) = (None, None);
    for a in attrs {
        match a {
            ServiceAttr::SchedName(s) => {
                svc.scheduler = Scheduler::from_name(s);
                sched = true;
            }
            ServiceAttr::PeName(s) if !s.is_empty() => {
                svc.persistence_engine = Some(PersistenceEngine::from_name(s));
            }
            ServiceAttr::Flags { flags: f, .. } => {
                svc.flags = ServiceFlags::from_bits_retain(*f) - ServiceFlags::HASHED;
                flags = true;
            }
            ServiceAttr::Timeout(t) => svc.timeout = *t,
            ServiceAttr::Netmask(m) => svc.netmask = netmask_from_raw(id.family(), *m),
            ServiceAttr::Stats(s) => stats32 = Some(s),
            ServiceAttr::Stats64(s) => stats64 = Some(s),
            _ => {}
        }
    }
    if !sched {
        return Err(missing("IPVS_SVC_ATTR_SCHED_NAME"));
    }
    if !flags {
        return Err(missing("IPVS_SVC_ATTR_FLAGS"));
    }
    let stats = stats64.or(stats32).map(|s| stats_from_attrs(s)).unwrap_or_default();
    Ok(ServiceStatus { service: svc, stats })
}

/// Statistics from a STATS or STATS64 nest; 32- and 64-bit counters both accepted.
pub(crate) fn stats_from_attrs(attrs: &[StatsAttr]) -> Stats {
    let mut s = Stats::default();
    for a in attrs {
        let (k, v) = match a {
            StatsAttr::U32(k, v) => (*k, u64::from(*v)),
            StatsAttr::U64(k, v) => (*k, *v),
            StatsAttr::Other(_) => continue,
        };
        let field = match k {
            IPVS_STATS_ATTR_CONNS => &mut s.conns,
            IPVS_STATS_ATTR_INPKTS => &mut s.in_packets,
            IPVS_STATS_ATTR_OUTPKTS => &mut s.out_packets,
            IPVS_STATS_ATTR_INBYTES => &mut s.in_bytes,
            IPVS_STATS_ATTR_OUTBYTES => &mut s.out_bytes,
            IPVS_STATS_ATTR_CPS => &mut s.cps,
            IPVS_STATS_ATTR_INPPS => &mut s.in_pps,
            IPVS_STATS_ATTR_OUTPPS => &mut s.out_pps,
            IPVS_STATS_ATTR_INBPS => &mut s.in_bps,
            IPVS_STATS_ATTR_OUTBPS => &mut s.out_bps,
            _ => continue,
        };
        *field = v;
    }
    s
}

fn stats_fields(s: &Stats) -> [(u16, u64); 10] {
    [
        (IPVS_STATS_ATTR_CONNS, s.conns),
        (IPVS_STATS_ATTR_INPKTS, s.in_packets),
        (IPVS_STATS_ATTR_OUTPKTS, s.out_packets),
        (IPVS_STATS_ATTR_INBYTES, s.in_bytes),
        (IPVS_STATS_ATTR_OUTBYTES, s.out_bytes),
        (IPVS_STATS_ATTR_CPS, s.cps),
        (IPVS_STATS_ATTR_INPPS, s.in_pps),
        (IPVS_STATS_ATTR_OUTPPS, s.out_pps),
        (IPVS_STATS_ATTR_INBPS, s.in_bps),
        (IPVS_STATS_ATTR_OUTBPS, s.out_bps),
    ]
}

/// The kernel's STATS nest: byte counters 64-bit, the rest truncated to 32 bits.
pub(crate) fn stats32_attrs(s: &Stats) -> Vec<StatsAttr> {
    stats_fields(s)
        .into_iter()
        .map(|(k, v)| match k {
            IPVS_STATS_ATTR_INBYTES | IPVS_STATS_ATTR_OUTBYTES => StatsAttr::U64(k, v),
            _ => StatsAttr::U32(k, v as u32),
        })
        .collect()
}

/// The kernel's STATS64 nest: every counter 64-bit.
pub(crate) fn stats64_attrs(s: &Stats) -> Vec<StatsAttr> {
    stats_fields(s).into_iter().map(|(k, v)| StatsAttr::U64(k, v)).collect()
}

/// A service as the kernel reports it (HASHED set, stats in both widths).
pub(crate) fn service_reply_attrs(svc: &Service, stats: &Stats) -> Vec<ServiceAttr> {
    let mut a = service_attrs(svc);
    for attr in &mut a {
        if let ServiceAttr::Flags { flags, .. } = attr {
            *flags |= ServiceFlags::HASHED.bits();
        }
    }
    a.push(ServiceAttr::Stats(stats32_attrs(stats)));
    a.push(ServiceAttr::Stats64(stats64_attrs(stats)));
    a
}

/// The identity attributes of a destination.
pub(crate) fn dest_id_attrs(addr: &SocketAddr) -> Vec<DestAttr> {
    let mut a = Vec::with_capacity(3);
    push_dest_id(addr, &mut a);
    a
}

fn push_dest_id(addr: &SocketAddr, a: &mut Vec<DestAttr>) {
    a.extend([
        DestAttr::AddrFamily(Family::of(&addr.ip()).number()),
        DestAttr::Addr(addr_bytes(&addr.ip())),
        DestAttr::Port(addr.port()),
    ]);
}

/// Every attribute of a destination, as ipvsadm sends it.
pub(crate) fn dest_attrs(d: &Destination) -> Vec<DestAttr> {
    let mut a = Vec::with_capacity(10);
    push_dest_id(&d.socket_addr(), &mut a);
    let tunnel = d.forward.tunnel().unwrap_or_default();
    a.extend([
        DestAttr::FwdMethod(d.forward.method()),
        DestAttr::Weight(d.weight),
        DestAttr::TunType(tunnel.kind()),
        DestAttr::TunPort(tunnel.port()),
        DestAttr::TunFlags(tunnel.flags().bits()),
        DestAttr::UpperThreshold(d.upper_threshold),
        DestAttr::LowerThreshold(d.lower_threshold),
    ]);
    a
}

/// A destination as the kernel reports it.
pub(crate) fn dest_reply_attrs(d: &DestinationStatus) -> Vec<DestAttr> {
    let mut a = dest_attrs(&d.destination);
    a.extend([
        DestAttr::ActiveConns(d.active_conns),
        DestAttr::InactiveConns(d.inactive_conns),
        DestAttr::PersistConns(d.persistent_conns),
        DestAttr::Stats(stats32_attrs(&d.stats)),
        DestAttr::Stats64(stats64_attrs(&d.stats)),
    ]);
    a
}

/// A destination from the attributes of a reply; `service_family` is used when the reply
/// has no address family attribute (old kernels).
pub(crate) fn dest_status_from_attrs(
    attrs: &[DestAttr],
    service_family: Family,
) -> Result<DestinationStatus, DecodeError> {
    let mut family = service_family;
    let (mut addr, mut port, mut fwd) = (None, None, None);
    let (mut tun_type, mut tun_port, mut tun_flags) = (0u8, 0u16, 0u16);
    let (mut stats32, mut stats64) = (None, None);
    let mut d = DestinationStatus::idle(Destination::new(
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        Forward::Masquerade,
    ));
    for a in attrs {
        match a {
            DestAttr::AddrFamily(f) => {
                family =
                    Family::from_number(*f).ok_or_else(|| DecodeError::from(format!("unknown address family {f}")))?
            }
            DestAttr::Addr(b) => addr = Some(b),
            DestAttr::Port(p) => port = Some(*p),
            DestAttr::FwdMethod(m) => fwd = Some(*m),
            DestAttr::Weight(w) => d.destination.weight = *w,
            DestAttr::UpperThreshold(v) => d.destination.upper_threshold = *v,
            DestAttr::LowerThreshold(v) => d.destination.lower_threshold = *v,
            DestAttr::ActiveConns(v) => d.active_conns = *v,
            DestAttr::InactiveConns(v) => d.inactive_conns = *v,
            DestAttr::PersistConns(v) => d.persistent_conns = *v,
            DestAttr::TunType(v) => tun_type = *v,
            DestAttr::TunPort(v) => tun_port = *v,
            DestAttr::TunFlags(v) => tun_flags = *v,
            DestAttr::Stats(s) => stats32 = Some(s),
            DestAttr::Stats64(s) => stats64 = Some(s),
            DestAttr::Other(_) => {}
        }
    }
    d.destination.addr = addr_from_bytes(family, addr.ok_or_else(|| missing("IPVS_DEST_ATTR_ADDR"))?);
    d.destination.port = port.ok_or_else(|| missing("IPVS_DEST_ATTR_PORT"))?;
    let method = fwd.ok_or_else(|| missing("IPVS_DEST_ATTR_FWD_METHOD"))?;
    let tunnel = Tunnel::from_parts(tun_type, tun_port, TunnelFlags::from_bits_retain(tun_flags));
    d.destination.forward = Forward::from_method(method, tunnel);
    if let Some(s) = stats64.or(stats32) {
        d.stats = stats_from_attrs(s);
    }
    Ok(d)
}

pub(crate) fn daemon_attrs(d: &Daemon) -> Vec<DaemonAttr> {
    let mut a = vec![
        DaemonAttr::State(d.state.number()),
        DaemonAttr::McastIfn(d.interface.clone()),
        DaemonAttr::SyncId(u32::from(d.sync_id)),
    ];
    if let Some(v) = d.max_len {
        a.push(DaemonAttr::SyncMaxlen(v));
    }
    match d.group {
        Some(IpAddr::V4(g)) => a.push(DaemonAttr::McastGroup(g.octets())),
        Some(IpAddr::V6(g)) => a.push(DaemonAttr::McastGroup6(g.octets())),
        None => {}
    }
    if let Some(v) = d.port {
        a.push(DaemonAttr::McastPort(v));
    }
    if let Some(v) = d.ttl {
        a.push(DaemonAttr::McastTtl(v));
    }
    a
}

/// A sync daemon from the attributes of a reply.
pub(crate) fn daemon_from_attrs(attrs: &[DaemonAttr]) -> Result<Daemon, DecodeError> {
    let (mut state, mut ifn, mut id) = (None, None, None);
    let mut d = Daemon::new(DaemonState::Master, "", 0);
    for a in attrs {
        match a {
            DaemonAttr::State(s) => state = Some(*s),
            DaemonAttr::McastIfn(s) => ifn = Some(s.clone()),
            DaemonAttr::SyncId(v) => id = Some(*v),
            DaemonAttr::SyncMaxlen(v) => d.max_len = Some(*v),
            DaemonAttr::McastGroup(g) => d.group = Some(IpAddr::V4(Ipv4Addr::from(*g))),
            DaemonAttr::McastGroup6(g) => d.group = Some(IpAddr::V6(Ipv6Addr::from(*g))),
            DaemonAttr::McastPort(v) => d.port = Some(*v),
            DaemonAttr::McastTtl(v) => d.ttl = Some(*v),
            DaemonAttr::Other(_) => {}
        }
    }
    let state = state.ok_or_else(|| missing("IPVS_DAEMON_ATTR_STATE"))?;
    d.state =
        DaemonState::from_number(state).ok_or_else(|| DecodeError::from(format!("unknown daemon state {state}")))?;
    d.interface = ifn.ok_or_else(|| missing("IPVS_DAEMON_ATTR_MCAST_IFN"))?;
    let id = id.ok_or_else(|| missing("IPVS_DAEMON_ATTR_SYNC_ID"))?;
    d.sync_id = u8::try_from(id).map_err(|_| DecodeError::from(format!("sync id {id} out of range")))?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scheduler;

    #[test]
    fn ipv4_netmask_is_mask_bytes() {
        let m = Netmask::V4("255.255.255.0".parse().unwrap());
        assert_eq!(netmask_raw(&m).to_ne_bytes(), [255, 255, 255, 0]);
        assert_eq!(netmask_from_raw(Family::Inet, netmask_raw(&m)), m);
        assert_eq!(netmask_raw(&Netmask::Prefix(64)), 64);
    }

    #[test]
    fn service_survives_reply_encoding() {
        let svc = Service::new(ServiceId::tcp("2001:db8::1".parse().unwrap(), 80), Scheduler::Mh)
            .with_persistence(300)
            .with_netmask(Netmask::Prefix(64))
            .with_flags(ServiceFlags::MH_PORT)
            .with_persistence_engine(PersistenceEngine::Sip);
        let stats = Stats { in_bytes: 1 << 40, conns: (1 << 33) + 5, ..Stats::default() };
        let back = service_status_from_attrs(&service_reply_attrs(&svc, &stats)).unwrap();
        assert_eq!(back, ServiceStatus { service: svc.clone(), stats });
        // Only the 32-bit nest: the connection counter is truncated, bytes are not.
        let only32: Vec<_> =
            service_reply_attrs(&svc, &stats).into_iter().filter(|a| !matches!(a, ServiceAttr::Stats64(_))).collect();
        let back32 = service_status_from_attrs(&only32).unwrap();
        assert_eq!(back32.stats.conns, 5);
        assert_eq!(back32.stats.in_bytes, 1 << 40);
    }

    #[test]
    fn hashed_is_the_kernels_and_never_configuration() {
        let svc = Service::new(ServiceId::fwmark(3, Family::Inet), Scheduler::Rr);
        let reply = service_reply_attrs(&svc, &Stats::default());
        assert!(reply.contains(&ServiceAttr::Flags { flags: ServiceFlags::HASHED.bits(), mask: u32::MAX }));
        assert_eq!(service_status_from_attrs(&reply).unwrap().service, svc);
        let attrs = service_attrs(&svc.clone().with_flags(ServiceFlags::HASHED));
        assert!(attrs.contains(&ServiceAttr::Flags { flags: 0, mask: u32::MAX }));
        assert_eq!(attrs[0], ServiceAttr::Af(2));
        assert_eq!(attrs[1], ServiceAttr::Fwmark(3));
    }

    #[test]
    fn destination_survives_reply_encoding() {
        let d = Destination::new(
            "[2001:db8::7]:6080".parse().unwrap(),
            Forward::Tunnel(Tunnel::Gue { port: 5555, flags: TunnelFlags::REMCSUM }),
        )
        .with_weight(9)
        .with_thresholds(50, 5);
        let mut status = DestinationStatus::idle(d);
        status.active_conns = 3;
        status.stats.out_bps = 77;
        let back = dest_status_from_attrs(&dest_reply_attrs(&status), Family::Inet).unwrap();
        assert_eq!(back, status);
    }

    #[test]
    fn daemon_round_trip() {
        let d = Daemon::new(DaemonState::Backup, "dummy0", 9)
            .with_group("ff02::1:2".parse().unwrap())
            .with_port(9000)
            .with_ttl(4)
            .with_max_len(1400);
        assert_eq!(daemon_from_attrs(&daemon_attrs(&d)).unwrap(), d);
    }

    #[test]
    fn missing_identity_is_an_error() {
        assert!(service_status_from_attrs(&[ServiceAttr::SchedName("rr".into())]).is_err());
        assert!(service_status_from_attrs(&[ServiceAttr::Af(99), ServiceAttr::Fwmark(1)]).is_err());
        assert!(dest_status_from_attrs(&[DestAttr::Port(1)], Family::Inet).is_err());
        let bad_id = [DaemonAttr::State(1), DaemonAttr::McastIfn("lo".into()), DaemonAttr::SyncId(256)];
        assert!(daemon_from_attrs(&bad_id).is_err());
    }
}
