//! Virtual servers, their real servers and sorry server, and virtual server groups; and the
//! `ipvs` services and destinations they stand for.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs::{
    Destination, Family, Forward, Netmask, PersistenceEngine, Protocol, Scheduler, Service, ServiceFlags, ServiceId,
};

use super::{defaults, Check, OnFailure, Script, Timing};

/// What a virtual server balances: an address and port, a firewall mark, or a group of
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VirtualServerId {
    /// `virtual_server IP PORT` with its `protocol`.
    Address {
        /// TCP, UDP or SCTP.
        protocol: Protocol,
        /// The virtual address.
        address: IpAddr,
        /// The virtual port (0 only with persistence: all ports).
        port: u16,
    },
    /// `virtual_server fwmark N`.
    Fwmark {
        /// The mark (non-zero).
        mark: u32,
        /// The family (`ip_family`); left out, the real servers' family, else IPv4.
        family: Option<Family>,
    },
    /// `virtual_server group NAME`: every address and mark of a [`VirtualServerGroup`].
    Group {
        /// The group's name.
        name: String,
        /// The protocol of the group's addresses (needed when it has addresses).
        protocol: Option<Protocol>,
        /// The family of the group's marks that name none (`ip_family`).
        family: Option<Family>,
    },
}

impl fmt::Display for VirtualServerId {
    /// As keepalived names it in logs: `[192.0.2.10]:tcp:80`, `FWM 5`, `[NAME]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VirtualServerId::Address { protocol, address, port } => write!(f, "[{address}]:{}:{port}", protocol.name()),
            VirtualServerId::Fwmark { mark, .. } => write!(f, "FWM {mark}"),
            VirtualServerId::Group { name, .. } => write!(f, "[{name}]"),
        }
    }
}

/// A virtual server: one or more IPVS services sharing real servers, checks and policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServer {
    /// What it balances.
    pub id: VirtualServerId,
    /// The scheduler (`lvs_sched`; default wlc).
    pub scheduler: Scheduler,
    /// One-packet scheduling and scheduler flags (`ops`, `flag-1`.., `sh-port`, ...); never
    /// `PERSISTENT` (see `persistence`) nor `HASHED`.
    pub flags: ServiceFlags,
    /// How packets reach the real servers, unless a real server says (`lvs_method`; left
    /// out: NAT).
    pub forward: Option<Forward>,
    /// Persistence timeout in seconds (`persistence_timeout`).
    pub persistence: Option<u32>,
    /// Persistence granularity (`persistence_granularity`); needs `persistence`.
    pub netmask: Option<Netmask>,
    /// Persistence engine (`persistence_engine`).
    pub persistence_engine: Option<PersistenceEngine>,
    /// Check timing for its real servers' checks.
    pub timing: Timing,
    /// What happens to a failed real server (`inhibit_on_failure`; default remove).
    pub on_failure: Option<OnFailure>,
    /// Real servers start down until their checks pass (`alpha`).
    pub alpha: bool,
    /// Run notify_down and quorum_down scripts when the director stops (`omega`).
    pub omega: bool,
    /// Least sum of live weights for the service to be up (`quorum`; default 1).
    pub quorum: u32,
    /// Quorum is lost below quorum − hysteresis and regained at quorum + hysteresis
    /// (`hysteresis`; default 0).
    pub hysteresis: u32,
    /// Run when quorum is gained (`quorum_up`).
    pub quorum_up: Option<Script>,
    /// Run when quorum is lost (`quorum_down`).
    pub quorum_down: Option<Script>,
    /// The weight of real servers that give none (`weight`; default 1).
    pub weight: u32,
    /// The default `Host:` of HTTP checks (`virtualhost`), and TLS server name.
    pub virtualhost: Option<String>,
    /// Suspend checks while the virtual address is not on this host (`ha_suspend`).
    pub ha_suspend: bool,
    /// Swapped in when quorum is lost (`sorry_server`).
    pub sorry_server: Option<SorryServer>,
    /// The real servers (at least one).
    pub real_servers: Vec<RealServer>,
}

impl VirtualServer {
    /// A virtual server with keepalived's defaults and no real server.
    pub fn new(id: VirtualServerId) -> VirtualServer {
        VirtualServer {
            id,
            scheduler: Scheduler::Wlc,
            flags: ServiceFlags::empty(),
            forward: None,
            persistence: None,
            netmask: None,
            persistence_engine: None,
            timing: Timing::default(),
            on_failure: None,
            alpha: false,
            omega: false,
            quorum: defaults::QUORUM,
            hysteresis: defaults::HYSTERESIS,
            quorum_up: None,
            quorum_down: None,
            weight: defaults::WEIGHT,
            virtualhost: None,
            ha_suspend: false,
            sorry_server: None,
            real_servers: Vec::new(),
        }
    }

    /// The address family: the address's; a mark's `family`; else the family of the first
    /// real or sorry server not tunnelled (their families must agree), else of all the
    /// (tunnelled) sorry and real servers when they agree, else IPv4 (keepalived's
    /// `rs_end_handler`, `vs_end_handler`).
    pub fn family(&self) -> Family {
        match &self.id {
            VirtualServerId::Address { address, .. } => return Family::of(address),
            VirtualServerId::Fwmark { family: Some(f), .. } | VirtualServerId::Group { family: Some(f), .. } => {
                return *f
            }
            _ => {}
        }
        let direct = self
            .real_servers
            .iter()
            .filter(|rs| !matches!(self.forward_of(rs), Forward::Tunnel(_)))
            .map(|rs| rs.address)
            .chain(
                self.sorry_server
                    .iter()
                    .filter(|s| !matches!(self.sorry_forward(s), Forward::Tunnel(_)))
                    .map(|s| s.address),
            )
            .next();
        if let Some(a) = direct {
            return Family::of(&a);
        }
        let mut all = self
            .sorry_server
            .iter()
            .map(|s| s.address)
            .chain(self.real_servers.iter().map(|rs| rs.address))
            .map(|a| Family::of(&a));
        match all.next() {
            Some(first) if all.all(|f| f == first) => first,
            _ => Family::Inet,
        }
    }

    /// The IPVS services it stands for: one, or one per address and mark of its group (at
    /// most [`MAX_GROUP_ADDRESSES`] addresses). A group that `groups` does not hold gives
    /// none (validation refuses it).
    pub fn service_ids(&self, groups: &[VirtualServerGroup]) -> Vec<ServiceId> {
        match &self.id {
            VirtualServerId::Address { protocol, address, port } => {
                vec![ServiceId::Inet { protocol: *protocol, addr: *address, port: *port }]
            }
            VirtualServerId::Fwmark { mark, .. } => vec![ServiceId::fwmark(*mark, self.family())],
            VirtualServerId::Group { name, protocol, .. } => {
                let Some(g) = groups.iter().find(|g| g.name == *name) else { return Vec::new() };
                let mut out = Vec::new();
                let mut budget = MAX_GROUP_ADDRESSES;
                for e in &g.entries {
                    match e {
                        GroupEntry::Addresses { first, last, port } => {
                            let protocol = protocol.unwrap_or(Protocol::Tcp);
                            let before = out.len();
                            out.extend(addresses(*first, *last, budget).map(|addr| ServiceId::Inet {
                                protocol,
                                addr,
                                port: *port,
                            }));
                            budget = budget.saturating_sub((out.len() - before) as u128);
                        }
                        GroupEntry::Fwmark { mark, family } => {
                            out.push(ServiceId::fwmark(*mark, family.unwrap_or_else(|| self.family())));
                        }
                    }
                }
                out
            }
        }
    }

    /// How many IPVS services it stands for ([`VirtualServer::service_ids`] would give that
    /// many), counted without expanding anything.
    pub fn service_count(&self, groups: &[VirtualServerGroup]) -> u128 {
        match &self.id {
            VirtualServerId::Group { name, .. } => {
                groups.iter().find(|g| g.name == *name).map_or(0, |g| g.service_count())
            }
            _ => 1,
        }
    }

    /// The IPVS service for one of its identities (see [`VirtualServer::service_ids`]).
    pub fn service(&self, id: ServiceId) -> Service {
        let mut s = Service::new(id, self.scheduler.clone()).with_flags(self.flags - ServiceFlags::PERSISTENT);
        if let Some(t) = self.persistence {
            s = s.with_persistence(t);
        }
        if let Some(m) = self.netmask {
            s = s.with_netmask(m);
        }
        if let Some(pe) = &self.persistence_engine {
            s = s.with_persistence_engine(pe.clone());
        }
        s
    }

    /// Every IPVS service it stands for.
    pub fn services(&self, groups: &[VirtualServerGroup]) -> Vec<Service> {
        self.service_ids(groups).into_iter().map(|id| self.service(id)).collect()
    }

    /// A real server's forwarding method: its own, else the virtual server's, else NAT.
    pub fn forward_of(&self, rs: &RealServer) -> Forward {
        rs.forward.or(self.forward).unwrap_or(Forward::Masquerade)
    }

    /// The sorry server's forwarding method: its own, else the virtual server's, else NAT.
    pub fn sorry_forward(&self, s: &SorryServer) -> Forward {
        s.forward.or(self.forward).unwrap_or(Forward::Masquerade)
    }

    /// A real server's configured weight: its own, else the virtual server's `weight`.
    pub fn weight_of(&self, rs: &RealServer) -> u32 {
        rs.weight.unwrap_or(self.weight)
    }

    /// A real server's failure policy: its own, else the virtual server's, else remove.
    pub fn on_failure_of(&self, rs: &RealServer) -> OnFailure {
        rs.on_failure.or(self.on_failure).unwrap_or_default()
    }

    /// Whether a real server starts down: its own `alpha`, else the virtual server's.
    pub fn alpha_of(&self, rs: &RealServer) -> bool {
        rs.alpha.unwrap_or(self.alpha)
    }

    /// The IPVS destination a real server is in `service` (one of
    /// [`VirtualServer::service_ids`]), with its configured weight. The port: a NAT real
    /// server's own (else the service's); direct routing and tunnelling keep the service's
    /// port (0 for a mark).
    pub fn destination(&self, service: &ServiceId, rs: &RealServer) -> Destination {
        let forward = self.forward_of(rs);
        let port = dest_port(service, forward, rs.port);
        Destination::new(SocketAddr::new(rs.address, port), forward)
            .with_weight(self.weight_of(rs))
            .with_thresholds(rs.upper_threshold, rs.lower_threshold)
    }

    /// The IPVS destination of the sorry server in `service`, weight 1 (keepalived's).
    pub fn sorry_destination(&self, service: &ServiceId) -> Option<Destination> {
        let s = self.sorry_server.as_ref()?;
        let forward = self.sorry_forward(s);
        Some(Destination::new(SocketAddr::new(s.address, dest_port(service, forward, s.port)), forward))
    }

    /// The sum of the real servers' configured weights (what quorum is measured against).
    pub fn total_weight(&self) -> u64 {
        self.real_servers.iter().map(|rs| u64::from(self.weight_of(rs))).sum()
    }
}

fn dest_port(service: &ServiceId, forward: Forward, own: Option<u16>) -> u16 {
    let svc_port = match service {
        ServiceId::Inet { port, .. } => *port,
        ServiceId::Fwmark { .. } => 0,
    };
    match forward {
        Forward::Masquerade => own.unwrap_or(svc_port),
        _ => svc_port,
    }
}

/// A real server of a virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServer {
    /// Its address.
    pub address: IpAddr,
    /// Its port (NAT; with direct routing or tunnelling it must be the virtual port).
    pub port: Option<u16>,
    /// Its weight (`weight`; else the virtual server's `weight`).
    pub weight: Option<u32>,
    /// Its forwarding method (`lvs_method`; else the virtual server's).
    pub forward: Option<Forward>,
    /// Upper connection threshold, 0 none (`uthreshold`).
    pub upper_threshold: u32,
    /// Lower connection threshold (`lthreshold`).
    pub lower_threshold: u32,
    /// What happens when it fails (`inhibit_on_failure`; else the virtual server's).
    pub on_failure: Option<OnFailure>,
    /// Start down until its checks pass (`alpha`; else the virtual server's).
    pub alpha: Option<bool>,
    /// Check timing for its checks; else the virtual server's.
    pub timing: Timing,
    /// Run when it comes up (`notify_up`).
    pub notify_up: Option<Script>,
    /// Run when it goes down (`notify_down`).
    pub notify_down: Option<Script>,
    /// Default `Host:` of its HTTP checks (`virtualhost`).
    pub virtualhost: Option<String>,
    /// Its checks; it is up while all pass (always, with none).
    pub checks: Vec<Check>,
}

impl RealServer {
    /// A real server at `address` (and `port`) with everything else inherited.
    pub fn new(address: IpAddr, port: Option<u16>) -> RealServer {
        RealServer {
            address,
            port,
            weight: None,
            forward: None,
            upper_threshold: 0,
            lower_threshold: 0,
            on_failure: None,
            alpha: None,
            timing: Timing::default(),
            notify_up: None,
            notify_down: None,
            virtualhost: None,
            checks: Vec::new(),
        }
    }
}

/// The server swapped in while a virtual server has lost quorum.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SorryServer {
    /// Its address.
    pub address: IpAddr,
    /// Its port (as a real server's).
    pub port: Option<u16>,
    /// Its forwarding method (`sorry_server_lvs_method`; else the virtual server's).
    pub forward: Option<Forward>,
    /// Keep it in the table at weight 0 while not in use (`sorry_server_inhibit`).
    pub inhibit: bool,
}

/// The most addresses one group may stand for (a guard against `/8` ranges; keepalived has
/// no limit).
pub const MAX_GROUP_ADDRESSES: u128 = 65_536;

/// The most IPVS services a whole configuration may stand for: its virtual servers', each
/// group counted by its addresses and marks (keepalived has no limit). One full group
/// ([`MAX_GROUP_ADDRESSES`]) fits; validation counts them arithmetically and refuses more
/// before anything is expanded.
pub const MAX_SERVICES: u128 = MAX_GROUP_ADDRESSES;

/// A named set of addresses, ranges and marks that virtual servers balance together
/// (`virtual_server_group`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VirtualServerGroup {
    /// Its name.
    pub name: String,
    /// Its entries (at least one).
    pub entries: Vec<GroupEntry>,
}

/// One entry of a [`VirtualServerGroup`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupEntry {
    /// Every address from `first` to `last` (inclusive, one family), on `port` (0: all).
    Addresses {
        /// The first address.
        first: IpAddr,
        /// The last address (`first` for one address).
        last: IpAddr,
        /// The port.
        port: u16,
    },
    /// A firewall mark.
    Fwmark {
        /// The mark (non-zero).
        mark: u32,
        /// Its family (left out: the virtual server's).
        family: Option<Family>,
    },
}

impl VirtualServerGroup {
    /// How many IPVS services a virtual server of this group stands for: its addresses (at
    /// most [`MAX_GROUP_ADDRESSES`]) and its marks, counted without expanding them.
    pub fn service_count(&self) -> u128 {
        let addresses = self.entries.iter().map(GroupEntry::address_count).fold(0, u128::saturating_add);
        let marks = self.entries.iter().filter(|e| matches!(e, GroupEntry::Fwmark { .. })).count();
        addresses.min(MAX_GROUP_ADDRESSES).saturating_add(marks as u128)
    }
}

impl GroupEntry {
    /// How many addresses the entry stands for (0 for a mark or a backwards range).
    pub fn address_count(&self) -> u128 {
        match self {
            GroupEntry::Addresses { first, last, .. } => match (to_u128(*first), to_u128(*last)) {
                (Some((f, a)), Some((g, b))) if f == g && a <= b => b - a + 1,
                _ => 0,
            },
            GroupEntry::Fwmark { .. } => 0,
        }
    }
}

fn to_u128(a: IpAddr) -> Option<(Family, u128)> {
    match a {
        IpAddr::V4(v4) => Some((Family::Inet, u128::from(u32::from(v4)))),
        IpAddr::V6(v6) => Some((Family::Inet6, u128::from(v6))),
    }
}

/// The addresses from `first` to `last`, at most `max` of them.
pub(crate) fn addresses(first: IpAddr, last: IpAddr, max: u128) -> impl Iterator<Item = IpAddr> {
    let (family, lo, hi) = match (to_u128(first), to_u128(last)) {
        (Some((f, a)), Some((g, b))) if f == g && a <= b && max > 0 => {
            (f, a, b.min(a.saturating_add(max.saturating_sub(1))))
        }
        _ => (Family::Inet, 1, 0),
    };
    (lo..=hi).map(move |n| match family {
        Family::Inet => IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap_or(u32::MAX))),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::from(n)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn services_and_destinations() {
        let mut vs = VirtualServer::new(VirtualServerId::Address {
            protocol: Protocol::Tcp,
            address: ip("192.0.2.10"),
            port: 80,
        });
        vs.scheduler = Scheduler::Rr;
        vs.persistence = Some(300);
        vs.real_servers.push(RealServer { weight: Some(3), ..RealServer::new(ip("198.51.100.11"), Some(8080)) });
        vs.real_servers
            .push(RealServer { forward: Some(Forward::DirectRoute), ..RealServer::new(ip("198.51.100.12"), None) });
        let ids = vs.service_ids(&[]);
        assert_eq!(ids, [ServiceId::tcp(ip("192.0.2.10"), 80)]);
        let svc = vs.service(ids[0]);
        assert_eq!(svc.persistence_timeout(), Some(300));
        svc.validate().unwrap();
        let d0 = vs.destination(&ids[0], &vs.real_servers[0]);
        assert_eq!((d0.port, d0.weight, d0.forward), (8080, 3, Forward::Masquerade));
        let d1 = vs.destination(&ids[0], &vs.real_servers[1]);
        assert_eq!((d1.port, d1.weight, d1.forward), (80, 1, Forward::DirectRoute));
        assert_eq!(vs.total_weight(), 4);
        assert_eq!(vs.id.to_string(), "[192.0.2.10]:tcp:80");
    }

    #[test]
    fn fwmark_family_follows_the_real_servers() {
        let mut vs = VirtualServer::new(VirtualServerId::Fwmark { mark: 5, family: None });
        assert_eq!(vs.family(), Family::Inet);
        vs.real_servers.push(RealServer::new(ip("2001:db8::5"), None));
        assert_eq!(vs.family(), Family::Inet6);
        assert_eq!(vs.service_ids(&[]), [ServiceId::fwmark(5, Family::Inet6)]);
        vs.forward = Some(Forward::DirectRoute);
        let d = vs.destination(&vs.service_ids(&[])[0], &vs.real_servers[0]);
        assert_eq!(d.port, 0);
    }

    #[test]
    fn groups_expand_ranges_and_marks() {
        let g = VirtualServerGroup {
            name: "web".into(),
            entries: vec![
                GroupEntry::Addresses { first: ip("192.0.2.10"), last: ip("192.0.2.12"), port: 80 },
                GroupEntry::Fwmark { mark: 7, family: None },
            ],
        };
        assert_eq!(g.entries[0].address_count(), 3);
        let vs = VirtualServer::new(VirtualServerId::Group {
            name: "web".into(),
            protocol: Some(Protocol::Udp),
            family: None,
        });
        let ids = vs.service_ids(std::slice::from_ref(&g));
        assert_eq!(ids.len(), 4);
        assert_eq!(ids[2], ServiceId::udp(ip("192.0.2.12"), 80));
        assert_eq!(ids[3], ServiceId::fwmark(7, Family::Inet));
        assert!(vs.service_ids(&[]).is_empty());
        assert_eq!(addresses(ip("2001:db8::"), ip("2001:db8::ffff"), 3).count(), 3);
        assert_eq!(addresses(ip("192.0.2.2"), ip("192.0.2.1"), 3).count(), 0);
        assert_eq!(addresses(ip("192.0.2.1"), ip("192.0.2.9"), 0).count(), 0);
        let big = VirtualServerGroup {
            name: "big".into(),
            entries: vec![
                GroupEntry::Addresses { first: ip("2001:db8::"), last: ip("2001:db8::ffff:ffff"), port: 1 };
                50
            ],
        };
        let vs = VirtualServer::new(VirtualServerId::Group {
            name: "big".into(),
            protocol: Some(Protocol::Tcp),
            family: None,
        });
        assert_eq!(vs.service_ids(std::slice::from_ref(&big)).len() as u128, MAX_GROUP_ADDRESSES);
        assert_eq!(vs.service_count(std::slice::from_ref(&big)), MAX_GROUP_ADDRESSES);
        assert_eq!(big.service_count(), MAX_GROUP_ADDRESSES);
        assert_eq!(g.service_count(), 4);
        let web = VirtualServer::new(VirtualServerId::Group { name: "web".into(), protocol: None, family: None });
        assert_eq!(
            web.service_count(std::slice::from_ref(&g)),
            web.service_ids(std::slice::from_ref(&g)).len() as u128
        );
        assert_eq!(web.service_count(&[]), 0);
        assert_eq!(addresses(ip("192.0.2.2"), ip("2001:db8::1"), 3).count(), 0);
    }
}
