//! Virtual services: identity, scheduler, persistence and flags.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use super::{check_name, Family, Stats};
use crate::error::InvalidInput;

/// The transport protocol of an address-based virtual service.
///
/// ```
/// use ipvs::Protocol;
/// assert_eq!("udp".parse::<Protocol>().unwrap(), Protocol::Udp);
/// assert_eq!(Protocol::Sctp.number(), 132);
/// assert_eq!(Protocol::from_number(6), Protocol::Tcp);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// SCTP (132).
    Sctp,
    /// Any other IP protocol number, as found in a reply (the kernel does not check it).
    Other(u16),
}

impl Protocol {
    /// The IP protocol number.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
            Protocol::Other(n) => n,
        }
    }

    /// The protocol with this IP protocol number.
    pub fn from_number(n: u16) -> Protocol {
        match n {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            132 => Protocol::Sctp,
            n => Protocol::Other(n),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Tcp => f.write_str("TCP"),
            Protocol::Udp => f.write_str("UDP"),
            Protocol::Sctp => f.write_str("SCTP"),
            Protocol::Other(n) => write!(f, "proto-{n}"),
        }
    }
}

impl FromStr for Protocol {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "sctp" => Ok(Protocol::Sctp),
            _ => Err(InvalidInput::new("protocol", s, "expected tcp, udp or sctp")),
        }
    }
}

/// What identifies a virtual service: protocol, address and port, or a firewall mark.
///
/// ```
/// use ipvs::{Family, ServiceId};
/// let web = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
/// assert_eq!(web.to_string(), "TCP 192.0.2.1:80");
/// let v6 = ServiceId::udp("2001:db8::1".parse().unwrap(), 53);
/// assert_eq!(v6.to_string(), "UDP [2001:db8::1]:53");
/// let fwm = ServiceId::fwmark(7, Family::Inet6);
/// assert_eq!(fwm.family(), Family::Inet6);
/// assert_eq!(fwm.to_string(), "FWM 7 IPv6");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceId {
    /// A service matched by protocol, virtual address and port.
    Inet {
        /// TCP, UDP or SCTP.
        protocol: Protocol,
        /// The virtual IP address; its family is the service's family.
        addr: IpAddr,
        /// The virtual port (0 only for persistent "all ports" services).
        port: u16,
    },
    /// A service matched by the packets' firewall mark.
    Fwmark {
        /// The mark (non-zero).
        mark: u32,
        /// The address family the service handles.
        family: Family,
    },
}

impl ServiceId {
    /// A TCP service on `addr:port`.
    pub fn tcp(addr: IpAddr, port: u16) -> Self {
        ServiceId::Inet { protocol: Protocol::Tcp, addr, port }
    }
    /// A UDP service on `addr:port`.
    pub fn udp(addr: IpAddr, port: u16) -> Self {
        ServiceId::Inet { protocol: Protocol::Udp, addr, port }
    }
    /// An SCTP service on `addr:port`.
    pub fn sctp(addr: IpAddr, port: u16) -> Self {
        ServiceId::Inet { protocol: Protocol::Sctp, addr, port }
    }
    /// A firewall-mark service.
    pub fn fwmark(mark: u32, family: Family) -> Self {
        ServiceId::Fwmark { mark, family }
    }

    /// The service's address family.
    pub fn family(&self) -> Family {
        match self {
            ServiceId::Inet { addr, .. } => Family::of(addr),
            ServiceId::Fwmark { family, .. } => *family,
        }
    }

    /// The firewall mark, if this is a firewall-mark service.
    pub fn mark(&self) -> Option<u32> {
        match self {
            ServiceId::Fwmark { mark, .. } => Some(*mark),
            ServiceId::Inet { .. } => None,
        }
    }

    /// Checks what can be checked of an identity alone.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        match *self {
            ServiceId::Fwmark { mark: 0, .. } => {
                Err(InvalidInput::new("fwmark", 0, "a firewall mark service needs a non-zero mark"))
            }
            ServiceId::Inet { protocol: Protocol::Other(n), .. } => {
                Err(InvalidInput::new("protocol", n, "expected TCP, UDP or SCTP"))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceId::Inet { protocol, addr: IpAddr::V4(a), port } => {
                write!(f, "{protocol} {a}:{port}")
            }
            ServiceId::Inet { protocol, addr: IpAddr::V6(a), port } => {
                write!(f, "{protocol} [{a}]:{port}")
            }
            ServiceId::Fwmark { mark, family } => write!(f, "FWM {mark} {family}"),
        }
    }
}

/// A connection scheduler, by its kernel module name (`ip_vs_<name>`).
///
/// Every scheduler the kernel ships has a variant; [`Scheduler::Other`] keeps any other name
/// so that a scheduler this library does not know still round-trips.
///
/// ```
/// use ipvs::Scheduler;
/// assert_eq!("wlc".parse::<Scheduler>().unwrap(), Scheduler::Wlc);
/// assert_eq!(Scheduler::Mh.name(), "mh");
/// assert_eq!("mine".parse::<Scheduler>().unwrap(), Scheduler::Other("mine".into()));
/// assert!("a-name-longer-than-15".parse::<Scheduler>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheduler {
    /// Round robin.
    Rr,
    /// Weighted round robin.
    Wrr,
    /// Least connections.
    Lc,
    /// Weighted least connections (ipvsadm's default).
    Wlc,
    /// Locality-based least connections.
    Lblc,
    /// Locality-based least connections with replication.
    Lblcr,
    /// Destination hashing.
    Dh,
    /// Source hashing.
    Sh,
    /// Shortest expected delay.
    Sed,
    /// Never queue.
    Nq,
    /// Weighted failover.
    Fo,
    /// Weighted overflow.
    Ovf,
    /// Maglev hashing.
    Mh,
    /// Weighted random twos choice.
    Twos,
    /// No scheduler: the kernel's `none`.
    None,
    /// A scheduler name this library does not know.
    Other(String),
}

const SCHEDULERS: [(Scheduler, &str); 15] = [
    (Scheduler::Rr, "rr"),
    (Scheduler::Wrr, "wrr"),
    (Scheduler::Lc, "lc"),
    (Scheduler::Wlc, "wlc"),
    (Scheduler::Lblc, "lblc"),
    (Scheduler::Lblcr, "lblcr"),
    (Scheduler::Dh, "dh"),
    (Scheduler::Sh, "sh"),
    (Scheduler::Sed, "sed"),
    (Scheduler::Nq, "nq"),
    (Scheduler::Fo, "fo"),
    (Scheduler::Ovf, "ovf"),
    (Scheduler::Mh, "mh"),
    (Scheduler::Twos, "twos"),
    (Scheduler::None, "none"),
];

impl Scheduler {
    /// Every scheduler the library knows by name, `none` included.
    pub fn known() -> impl Iterator<Item = Scheduler> {
        SCHEDULERS.iter().map(|(s, _)| s.clone())
    }

    /// The kernel's name for it.
    pub fn name(&self) -> &str {
        match self {
            Scheduler::Other(name) => name,
            known => SCHEDULERS.iter().find(|(s, _)| s == known).map_or("", |(_, n)| n),
        }
    }

    /// The scheduler for a kernel name, without validation (see [`FromStr`]).
    pub fn from_name(name: &str) -> Scheduler {
        SCHEDULERS
            .iter()
            .find(|(_, n)| *n == name)
            .map_or_else(|| Scheduler::Other(name.to_string()), |(s, _)| s.clone())
    }

    /// Checks the name fits the kernel's limit (1..=15 bytes, no NUL).
    pub fn validate(&self) -> Result<(), InvalidInput> {
        check_name("scheduler", self.name())
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheduler {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let sched = Scheduler::from_name(s);
        sched.validate()?;
        Ok(sched)
    }
}

/// A persistence engine (`ip_vs_pe_<name>`), which decides what "the same client" means.
///
/// ```
/// use ipvs::PersistenceEngine;
/// assert_eq!("sip".parse::<PersistenceEngine>().unwrap(), PersistenceEngine::Sip);
/// assert_eq!(PersistenceEngine::Sip.to_string(), "sip");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PersistenceEngine {
    /// SIP Call-ID persistence.
    Sip,
    /// An engine this library does not know.
    Other(String),
}

impl PersistenceEngine {
    /// The kernel's name for it.
    pub fn name(&self) -> &str {
        match self {
            PersistenceEngine::Sip => "sip",
            PersistenceEngine::Other(n) => n,
        }
    }

    /// The engine for a kernel name, without validation.
    pub fn from_name(name: &str) -> Self {
        match name {
            "sip" => PersistenceEngine::Sip,
            other => PersistenceEngine::Other(other.to_string()),
        }
    }

    /// Checks the name fits the kernel's limit (1..=15 bytes, no NUL).
    pub fn validate(&self) -> Result<(), InvalidInput> {
        check_name("persistence_engine", self.name())
    }
}

impl fmt::Display for PersistenceEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PersistenceEngine {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let pe = PersistenceEngine::from_name(s);
        pe.validate()?;
        Ok(pe)
    }
}

bitflags::bitflags! {
    /// Service flags (`IP_VS_SVC_F_*`). Bits this library does not name are kept.
    ///
    /// ```
    /// use ipvs::ServiceFlags;
    /// let f = ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT;
    /// assert_eq!(f.bits(), 0x18);
    /// assert_eq!(ServiceFlags::from_bits_retain(0x8000_0001).bits(), 0x8000_0001);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct ServiceFlags: u32 {
        /// Persistent service: a client sticks to one real server for the timeout.
        const PERSISTENT = 0x1;
        /// Set by the kernel on every service in its table; ignored in requests.
        const HASHED = 0x2;
        /// One-packet scheduling (UDP): schedule every datagram, keep no connection.
        const ONE_PACKET = 0x4;
        /// Scheduler flag 1 (`sh-fallback`, `mh-fallback`).
        const SCHED1 = 0x8;
        /// Scheduler flag 2 (`sh-port`, `mh-port`).
        const SCHED2 = 0x10;
        /// Scheduler flag 3.
        const SCHED3 = 0x20;
        /// sh: fall back to another server if the chosen one is unavailable.
        const SH_FALLBACK = 0x8;
        /// sh: include the source port in the hash.
        const SH_PORT = 0x10;
        /// mh: fall back to another server if the chosen one is unavailable.
        const MH_FALLBACK = 0x8;
        /// mh: include the source port in the hash.
        const MH_PORT = 0x10;
        const _ = !0;
    }
}

/// How clients are grouped for persistence: an IPv4 netmask or an IPv6 prefix length.
///
/// ```
/// use ipvs::{Family, Netmask};
/// assert_eq!(Netmask::full(Family::Inet), Netmask::V4("255.255.255.255".parse().unwrap()));
/// assert_eq!(Netmask::full(Family::Inet6), Netmask::Prefix(128));
/// assert_eq!("255.255.255.0".parse::<Netmask>().unwrap().to_string(), "255.255.255.0");
/// assert_eq!("64".parse::<Netmask>().unwrap(), Netmask::Prefix(64));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Netmask {
    /// IPv4 netmask, e.g. 255.255.255.0.
    V4(Ipv4Addr),
    /// IPv6 prefix length, 1..=128.
    Prefix(u8),
}

impl Netmask {
    /// The mask that groups nothing together (each client on its own).
    pub fn full(family: Family) -> Netmask {
        match family {
            Family::Inet => Netmask::V4(Ipv4Addr::BROADCAST),
            Family::Inet6 => Netmask::Prefix(128),
        }
    }

    /// Checks the mask suits a service of `family`.
    pub fn validate(&self, family: Family) -> Result<(), InvalidInput> {
        match (self, family) {
            (Netmask::V4(_), Family::Inet) => Ok(()),
            (Netmask::Prefix(p), Family::Inet6) if (1..=128).contains(p) => Ok(()),
            (Netmask::Prefix(p), Family::Inet6) => {
                Err(InvalidInput::new("netmask", p, "an IPv6 prefix length must be in 1..=128"))
            }
            (Netmask::Prefix(p), Family::Inet) => {
                Err(InvalidInput::new("netmask", p, "an IPv4 service needs a dotted netmask"))
            }
            (Netmask::V4(m), Family::Inet6) => {
                Err(InvalidInput::new("netmask", m, "an IPv6 service needs a prefix length"))
            }
        }
    }
}

impl fmt::Display for Netmask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Netmask::V4(m) => write!(f, "{m}"),
            Netmask::Prefix(p) => write!(f, "{p}"),
        }
    }
}

impl FromStr for Netmask {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(m) = s.parse::<Ipv4Addr>() {
            return Ok(Netmask::V4(m));
        }
        s.parse::<u8>()
            .map(Netmask::Prefix)
            .map_err(|_| InvalidInput::new("netmask", s, "expected a dotted IPv4 netmask or a prefix length"))
    }
}

/// A virtual service and its settings.
///
/// Build one with [`Service::new`] and the `with_*` methods; services read from the kernel
/// also carry [`Service::stats`].
///
/// ```
/// use ipvs::{Scheduler, Service, ServiceId};
/// let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 443), Scheduler::Wrr)
///     .with_persistence(600)
///     .with_netmask("255.255.255.0".parse().unwrap());
/// assert!(svc.is_persistent());
/// assert_eq!(svc.persistence_timeout(), Some(600));
/// svc.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// What identifies the service.
    pub id: ServiceId,
    /// The connection scheduler.
    pub scheduler: Scheduler,
    /// Flags; [`ServiceFlags::PERSISTENT`] turns persistence on.
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (used when persistent).
    pub timeout: u32,
    /// Persistence granularity.
    pub netmask: Netmask,
    /// Persistence engine, if any.
    pub persistence_engine: Option<PersistenceEngine>,
    /// Counters and rates (read from the kernel; ignored in requests).
    pub stats: Stats,
}

impl Service {
    /// A non-persistent service with `scheduler` and default settings.
    pub fn new(id: ServiceId, scheduler: Scheduler) -> Self {
        Service {
            netmask: Netmask::full(id.family()),
            id,
            scheduler,
            flags: ServiceFlags::empty(),
            timeout: 0,
            persistence_engine: None,
            stats: Stats::default(),
        }
    }

    /// Makes the service persistent for `timeout` seconds.
    pub fn with_persistence(mut self, timeout: u32) -> Self {
        self.flags |= ServiceFlags::PERSISTENT;
        self.timeout = timeout;
        self
    }

    /// Sets the persistence netmask (IPv4) or prefix length (IPv6).
    pub fn with_netmask(mut self, netmask: Netmask) -> Self {
        self.netmask = netmask;
        self
    }

    /// Adds flags.
    pub fn with_flags(mut self, flags: ServiceFlags) -> Self {
        self.flags |= flags;
        self
    }

    /// Sets the persistence engine.
    pub fn with_persistence_engine(mut self, pe: PersistenceEngine) -> Self {
        self.persistence_engine = Some(pe);
        self
    }

    /// Whether the service is persistent.
    pub fn is_persistent(&self) -> bool {
        self.flags.contains(ServiceFlags::PERSISTENT)
    }

    /// The persistence timeout, if the service is persistent.
    pub fn persistence_timeout(&self) -> Option<u32> {
        self.is_persistent().then_some(self.timeout)
    }

    /// Checks everything the kernel (or ipvsadm) would reject, before anything is sent.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        self.id.validate()?;
        self.scheduler.validate()?;
        if let Some(pe) = &self.persistence_engine {
            pe.validate()?;
        }
        self.netmask.validate(self.id.family())?;
        if let ServiceId::Inet { protocol, port, .. } = self.id {
            if port == 0 && !self.is_persistent() {
                return Err(InvalidInput::new("port", 0, "port 0 is only allowed for a persistent service"));
            }
            if self.flags.contains(ServiceFlags::ONE_PACKET) && protocol != Protocol::Udp {
                return Err(InvalidInput::new(
                    "flags",
                    "one-packet",
                    format!("one-packet scheduling is only for UDP services, not {protocol}"),
                ));
            }
        }
        Ok(())
    }
}
