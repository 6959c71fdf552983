//! What identifies a virtual service: its protocol, address and port, or a firewall mark.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::{names, Family};
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
#[non_exhaustive]
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
    fn row(self) -> Option<&'static names::ProtocolRow> {
        names::PROTOCOLS.iter().find(|r| r.protocol == self)
    }

    /// The IP protocol number.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Other(n) => n,
            known => known.row().map_or(0, |r| r.number),
        }
    }

    /// The protocol with this IP protocol number.
    pub fn from_number(n: u16) -> Protocol {
        names::PROTOCOLS.iter().find(|r| r.number == n).map_or(Protocol::Other(n), |r| r.protocol)
    }

    /// The name used in files and Python: `tcp`, `udp`, `sctp` (`proto-N` for others).
    pub fn name(self) -> String {
        match self.row() {
            Some(r) => r.name.to_owned(),
            None => format!("proto-{}", self.number()),
        }
    }

    /// The ipvsadm rule-format option that names a service of this protocol (`-t`, `-u`,
    /// `--sctp-service`).
    pub fn rule_option(self) -> Option<&'static str> {
        self.row().map(|r| r.rule)
    }

    /// Every protocol the library names.
    pub fn known() -> impl Iterator<Item = Protocol> {
        names::PROTOCOLS.iter().map(|r| r.protocol)
    }
}

impl fmt::Display for Protocol {
    /// `TCP`, `UDP`, `SCTP`, `proto-N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row() {
            Some(r) => f.write_str(r.label),
            None => write!(f, "proto-{}", self.number()),
        }
    }
}

impl FromStr for Protocol {
    type Err = InvalidInput;
    /// `tcp`, `udp`, `sctp`, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::PROTOCOLS
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(s))
            .map(|r| r.protocol)
            .ok_or_else(|| InvalidInput::new("protocol", s, "expected tcp, udp or sctp"))
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
