//! Virtual services: identity, scheduler, persistence and flags.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use super::{check_name, names, Family, Protocol, ServiceId, HZ};
use crate::error::InvalidInput;

/// A connection scheduler, by its kernel module name (`ip_vs_<name>`).
///
/// Every scheduler the kernel ships has a variant; [`Scheduler::Other`] keeps any other name
/// so that a scheduler this library does not know still round-trips. The default is
/// [`Scheduler::Wlc`].
///
/// ```
/// use ipvs::Scheduler;
/// assert_eq!("wlc".parse::<Scheduler>().unwrap(), Scheduler::Wlc);
/// assert_eq!(Scheduler::Mh.name(), "mh");
/// assert_eq!(Scheduler::default(), Scheduler::Wlc);
/// assert_eq!("mine".parse::<Scheduler>().unwrap(), Scheduler::Other("mine".into()));
/// assert!("a-name-longer-than-15".parse::<Scheduler>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Scheduler {
    /// Round robin.
    Rr,
    /// Weighted round robin.
    Wrr,
    /// Least connections.
    Lc,
    /// Weighted least connections (the default).
    #[default]
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

impl Scheduler {
    /// Every scheduler the library knows by name, `none` included.
    pub fn known() -> impl Iterator<Item = Scheduler> {
        names::SCHEDULERS.iter().map(|r| r.scheduler.clone())
    }

    /// The schedulers Debian bookworm's 6.1 kernel has (every known one but `twos`): what
    /// the mock kernel has by default.
    pub fn in_debian_6_1() -> impl Iterator<Item = Scheduler> {
        names::SCHEDULERS.iter().filter(|r| r.in_debian_6_1).map(|r| r.scheduler.clone())
    }

    /// The kernel's name for it.
    pub fn name(&self) -> &str {
        match self {
            Scheduler::Other(name) => name,
            known => names::SCHEDULERS.iter().find(|r| r.scheduler == *known).map_or("", |r| r.name),
        }
    }

    /// What the scheduler does, for a known one (`"weighted round robin"`).
    pub fn description(&self) -> Option<&'static str> {
        names::SCHEDULERS.iter().find(|r| r.scheduler == *self).map(|r| r.description)
    }

    /// The kernel's name for a known scheduler, from the names table.
    pub(crate) fn static_name(name: &str) -> Option<&'static str> {
        names::SCHEDULERS.iter().find(|r| r.name == name).map(|r| r.name)
    }

    /// The scheduler for a kernel name, without validation (see [`FromStr`]).
    pub fn from_name(name: &str) -> Scheduler {
        names::SCHEDULERS
            .iter()
            .find(|r| r.name == name)
            .map_or_else(|| Scheduler::Other(name.to_string()), |r| r.scheduler.clone())
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
#[non_exhaustive]
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

    /// The name of a known engine, borrowed.
    pub(crate) fn static_name(&self) -> Option<&'static str> {
        match self {
            PersistenceEngine::Sip => Some("sip"),
            PersistenceEngine::Other(_) => None,
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
    /// [`ServiceFlags::HASHED`] is the kernel's own mark of a service in its table: the
    /// library drops it from what it reads and never sends it, so it is never part of a
    /// [`Service`].
    ///
    /// ```
    /// use ipvs::{Scheduler, ServiceFlags};
    /// let f = ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT;
    /// assert_eq!(f.bits(), 0x18);
    /// assert_eq!(f.scheduler_flag_names(&Scheduler::Sh), ["sh-fallback", "sh-port"]);
    /// assert_eq!(f.scheduler_flag_names(&Scheduler::Rr), ["flag-1", "flag-2"]);
    /// assert_eq!(ServiceFlags::parse_scheduler_flag("mh-port", &Scheduler::Mh).unwrap(), ServiceFlags::MH_PORT);
    /// assert!(ServiceFlags::parse_scheduler_flag("mh-port", &Scheduler::Sh).is_err());
    /// assert_eq!(ServiceFlags::from_bits_retain(0x8000_0001).bits(), 0x8000_0001);
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct ServiceFlags: u32 {
        /// Persistent service: a client sticks to one real server for the timeout.
        const PERSISTENT = 0x1;
        /// Set by the kernel on every service in its table; never configured.
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
        const SH_FALLBACK = Self::SCHED1.bits();
        /// sh: include the source port in the hash.
        const SH_PORT = Self::SCHED2.bits();
        /// mh: fall back to another server if the chosen one is unavailable.
        const MH_FALLBACK = Self::SCHED1.bits();
        /// mh: include the source port in the hash.
        const MH_PORT = Self::SCHED2.bits();
        const _ = !0;
    }
}

impl ServiceFlags {
    /// The scheduler flags (SCHED1..3).
    pub const SCHEDULER_FLAGS: ServiceFlags =
        ServiceFlags::SCHED1.union(ServiceFlags::SCHED2).union(ServiceFlags::SCHED3);

    /// The names of the scheduler flags set, as `scheduler` calls them (`sh-port`), or their
    /// generic names (`flag-2`) for a scheduler that does not name them.
    pub fn scheduler_flag_names(self, scheduler: &Scheduler) -> Vec<String> {
        let own = names::SCHED_FLAGS.iter().any(|r| r.schedulers.contains(&scheduler.name()));
        names::SCHED_FLAGS
            .iter()
            .filter(|r| self.contains(r.flag))
            .map(|r| match r.suffix {
                Some(suffix) if own && r.schedulers.contains(&scheduler.name()) => {
                    format!("{}-{suffix}", scheduler.name())
                }
                _ => r.generic.to_owned(),
            })
            .collect()
    }

    /// The flag a scheduler-flag name means (`flag-1`..`flag-3`, `sh-fallback`, `sh-port`,
    /// `mh-fallback`, `mh-port`). A scheduler's own name for a flag is refused for another
    /// scheduler (`reason` says so).
    pub fn parse_scheduler_flag(name: &str, scheduler: &Scheduler) -> Result<ServiceFlags, InvalidInput> {
        for r in &names::SCHED_FLAGS {
            if r.generic == name {
                return Ok(r.flag);
            }
            let Some(suffix) = r.suffix else { continue };
            for s in r.schedulers {
                if name.strip_prefix(s).and_then(|x| x.strip_prefix('-')) == Some(suffix) {
                    if *s != scheduler.name() {
                        return Err(InvalidInput::new(
                            "scheduler_flags",
                            name,
                            format!("a flag of the {s} scheduler, not of {scheduler}"),
                        ));
                    }
                    return Ok(r.flag);
                }
            }
        }
        Err(InvalidInput::new("scheduler_flags", name, "unknown scheduler flag"))
    }

    /// The non-scheduler flag a name means (`persistent`, `one-packet`).
    ///
    /// ```
    /// use ipvs::ServiceFlags;
    /// assert_eq!(ServiceFlags::from_other_flag_name("one-packet"), Some(ServiceFlags::ONE_PACKET));
    /// assert_eq!(ServiceFlags::from_other_flag_name("sh-port"), None);
    /// ```
    pub fn from_other_flag_name(name: &str) -> Option<ServiceFlags> {
        names::SERVICE_FLAGS.iter().find(|r| r.1 == name).map(|r| r.0)
    }

    /// The names of the other flags set (`persistent`, `one-packet`).
    pub fn other_flag_names(self) -> Vec<&'static str> {
        names::SERVICE_FLAGS.iter().filter(|r| self.contains(r.0)).map(|r| r.1).collect()
    }

    /// ipvsadm's listing label of a non-scheduler flag (`persistent`, `ops`).
    pub fn label(self) -> Option<&'static str> {
        names::SERVICE_FLAGS.iter().find(|r| r.0 == self).map(|r| r.2)
    }

    /// The rule-format switch of a non-scheduler flag (`-p`, `-o`).
    pub fn rule_switch(self) -> Option<&'static str> {
        names::SERVICE_FLAGS.iter().find(|r| r.0 == self).map(|r| r.3)
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

/// A virtual service as configured: identity, scheduler, persistence and flags. What the
/// kernel reports about it (statistics) is a [`ServiceStatus`](super::ServiceStatus).
///
/// Build one with [`Service::new`] and the `with_*` methods.
///
/// ```
/// use ipvs::{Scheduler, Service, ServiceId};
/// let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 443), Scheduler::Wrr)
///     .with_persistence(600)
///     .with_netmask("255.255.255.0".parse().unwrap());
/// assert!(svc.is_persistent());
/// assert_eq!(svc.persistence_timeout(), Some(600));
/// svc.validate().unwrap();
/// assert!(svc.clone().with_persistence(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    /// What identifies the service.
    pub id: ServiceId,
    /// The connection scheduler.
    pub scheduler: Scheduler,
    /// Flags; [`ServiceFlags::PERSISTENT`] turns persistence on. Never [`ServiceFlags::HASHED`].
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (used when persistent).
    pub timeout: u32,
    /// Persistence granularity.
    pub netmask: Netmask,
    /// Persistence engine, if any.
    pub persistence_engine: Option<PersistenceEngine>,
}

impl Service {
    /// The longest persistence timeout the kernel can hold: it keeps `timeout * HZ` in 32 bits.
    pub const MAX_PERSISTENCE: u32 = u32::MAX / HZ;

    /// A non-persistent service with `scheduler` and default settings.
    pub fn new(id: ServiceId, scheduler: Scheduler) -> Self {
        Service {
            netmask: Netmask::full(id.family()),
            id,
            scheduler,
            flags: ServiceFlags::empty(),
            timeout: 0,
            persistence_engine: None,
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

    /// Checks everything the kernel would reject or could not hold, before anything is sent.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        self.id.validate()?;
        // Not in the identity's check: a v4-mapped service made elsewhere (ipvsadm takes one)
        // can still be read, listed and deleted by its identity.
        if let ServiceId::Inet { addr, .. } = self.id {
            super::check_service_address(&addr)?;
        }
        self.scheduler.validate()?;
        if let Some(pe) = &self.persistence_engine {
            pe.validate()?;
        }
        self.netmask.validate(self.id.family())?;
        if self.flags.contains(ServiceFlags::HASHED) {
            return Err(InvalidInput::new("flags", "hashed", "the kernel sets HASHED itself; it is not configured"));
        }
        if self.is_persistent() && !(1..=Self::MAX_PERSISTENCE).contains(&self.timeout) {
            return Err(InvalidInput::new(
                "persistence",
                self.timeout,
                format!("a persistence timeout must be in 1..={} seconds", Self::MAX_PERSISTENCE),
            ));
        }
        if !self.is_persistent() && self.timeout > Self::MAX_PERSISTENCE {
            return Err(InvalidInput::new(
                "timeout",
                self.timeout,
                format!("must be at most {} seconds", Self::MAX_PERSISTENCE),
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v4_mapped_service_address_is_refused_as_destinations_are() {
        let mapped: std::net::IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        for id in [ServiceId::tcp(mapped, 80), ServiceId::udp(mapped, 53), ServiceId::sctp(mapped, 80)] {
            let e = Service::new(id, Scheduler::Wrr).validate().unwrap_err();
            assert_eq!((e.field, e.value.as_str()), ("address", "::ffff:192.0.2.1"), "{e}");
            assert!(e.reason.contains("v4-mapped"), "{e}");
        }
        // The same rule as for destinations.
        let d = super::super::Destination::new(std::net::SocketAddr::new(mapped, 80), Default::default());
        assert_eq!(d.validate().unwrap_err().field, "address");
        // Other IPv6 and IPv4 services are untouched.
        for a in ["2001:db8::1", "::1", "192.0.2.1", "::192.0.2.1"] {
            Service::new(ServiceId::tcp(a.parse().unwrap(), 80), Scheduler::Wrr).validate().unwrap();
        }
        Service::new(ServiceId::fwmark(7, Family::Inet6), Scheduler::Wrr).validate().unwrap();
    }
}
