//! The typed model of everything IPVS holds: services, destinations, statistics,
//! timeouts, sync daemons and the kernel's info.
//!
//! Every type here is plain data with public fields, `validate()` methods that check what
//! the kernel (or ipvsadm) would reject, and no I/O.

mod config;
mod destination;
mod service;

pub use config::{Daemon, DaemonState, Info, Timeouts, Version};
pub use destination::{Destination, Forward, Tunnel, TunnelFlags};
pub use service::{Netmask, PersistenceEngine, Protocol, Scheduler, Service, ServiceFlags, ServiceId};

use std::fmt;
use std::net::IpAddr;

use crate::error::InvalidInput;

/// An address family.
///
/// ```
/// use ipvs::Family;
/// assert_eq!(Family::of(&"2001:db8::1".parse().unwrap()), Family::Inet6);
/// assert_eq!(Family::Inet.number(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4 (`AF_INET`, 2).
    Inet,
    /// IPv6 (`AF_INET6`, 10).
    Inet6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }

    /// The `AF_*` number.
    pub fn number(self) -> u16 {
        match self {
            Family::Inet => 2,
            Family::Inet6 => 10,
        }
    }

    /// The family for an `AF_*` number.
    pub fn from_number(n: u16) -> Option<Family> {
        match n {
            2 => Some(Family::Inet),
            10 => Some(Family::Inet6),
            _ => None,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Inet => "IPv4",
            Family::Inet6 => "IPv6",
        })
    }
}

/// Counters and rates of a service or destination (the kernel's 64-bit statistics).
///
/// ```
/// use ipvs::Stats;
/// let s = Stats { conns: 3, in_packets: 10, ..Stats::default() };
/// assert_eq!(s.conns, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Incoming packets.
    pub in_packets: u64,
    /// Outgoing packets.
    pub out_packets: u64,
    /// Incoming bytes.
    pub in_bytes: u64,
    /// Outgoing bytes.
    pub out_bytes: u64,
    /// Connections per second (rate estimate).
    pub cps: u64,
    /// Incoming packets per second.
    pub in_pps: u64,
    /// Outgoing packets per second.
    pub out_pps: u64,
    /// Incoming bytes per second.
    pub in_bps: u64,
    /// Outgoing bytes per second.
    pub out_bps: u64,
}

/// The kernel's names (scheduler, engine, interface) are at most 15 bytes plus NUL.
pub(crate) const MAX_NAME_LEN: usize = 15;

pub(crate) fn check_name(field: &'static str, name: &str) -> Result<(), InvalidInput> {
    if name.is_empty() {
        Err(InvalidInput::new(field, name, "must not be empty"))
    } else if name.len() > MAX_NAME_LEN {
        Err(InvalidInput::new(field, name, format!("longer than {MAX_NAME_LEN} bytes")))
    } else if name.bytes().any(|b| b == 0) {
        Err(InvalidInput::new(field, name.escape_default(), "contains a NUL byte"))
    } else {
        Ok(())
    }
}
