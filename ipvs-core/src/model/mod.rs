//! The typed model of everything IPVS holds.
//!
//! What a user configures ([`Service`], [`Destination`], [`Timeouts`], [`Daemon`]) is kept
//! apart from what the kernel reports about it ([`ServiceStatus`], [`DestinationStatus`],
//! [`Stats`], [`Info`]): equality of configuration compares configuration only. [`Request`]
//! is one write to the kernel, built from these types.
//!
//! Every type here is plain data with `validate()` methods that check what the kernel would
//! reject, and no I/O. The kernel's numbers and every spelling of every name live in one
//! table (the private `names` module), read through the types' methods.

mod config;
mod destination;
mod id;
pub(crate) mod names;
mod request;
mod service;
mod status;

pub use config::{Daemon, DaemonState, Info, Timeouts, Version};
pub use destination::{Destination, Forward, Tunnel, TunnelFlags};
pub use id::{Protocol, ServiceId};
pub use request::Request;
pub use service::{Netmask, PersistenceEngine, Scheduler, Service, ServiceFlags};
pub use status::{DestinationStatus, ServiceStatus, Stats};

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::error::InvalidInput;

/// The kernel's tick rate (`CONFIG_HZ`) of the kernels this library is built and tested for
/// (Debian's, and most distributions' generic kernels: 250). IPVS keeps timeouts in ticks, so
/// the largest timeouts it can hold follow from it: see [`Timeouts::MAX`] and
/// [`Service::MAX_PERSISTENCE`].
pub const HZ: u32 = 250;

/// An address family.
///
/// ```
/// use ipvs::Family;
/// assert_eq!(Family::of(&"2001:db8::1".parse().unwrap()), Family::Inet6);
/// assert_eq!(Family::Inet.number(), 2);
/// assert_eq!("inet6".parse::<Family>().unwrap(), Family::Inet6);
/// assert_eq!(Family::Inet6.to_string(), "IPv6");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

impl Family {
    fn row(self) -> &'static names::FamilyRow {
        // The table has a row for each variant.
        names::FAMILIES.iter().find(|r| r.family == self).unwrap_or(&names::FAMILIES[0])
    }

    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }

    /// The `AF_*` number.
    pub fn number(self) -> u16 {
        self.row().number
    }

    /// The family for an `AF_*` number.
    pub fn from_number(n: u16) -> Option<Family> {
        names::FAMILIES.iter().find(|r| r.number == n).map(|r| r.family)
    }

    /// The name used in files and Python: `inet`, `inet6`.
    pub fn name(self) -> &'static str {
        self.row().name
    }
}

impl fmt::Display for Family {
    /// `IPv4`, `IPv6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.row().label)
    }
}

impl FromStr for Family {
    type Err = InvalidInput;
    /// `inet` / `inet6` (also `ipv4` / `ipv6`, any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::FAMILIES
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(s) || r.label.eq_ignore_ascii_case(s))
            .map(|r| r.family)
            .ok_or_else(|| InvalidInput::new("family", s, "expected inet or inet6"))
    }
}

/// The kernel's names (scheduler, engine, interface) are at most 15 bytes plus NUL.
pub const MAX_NAME_LEN: usize = 15;

pub(crate) fn check_name(field: &'static str, name: &str) -> Result<(), InvalidInput> {
    if name.is_empty() {
        Err(InvalidInput::new(field, name, "must not be empty"))
    } else if name.len() > MAX_NAME_LEN {
        Err(InvalidInput::new(field, name.escape_default(), format!("longer than {MAX_NAME_LEN} bytes")))
    } else if name.bytes().any(|b| b == 0) {
        Err(InvalidInput::new(field, name.escape_default(), "contains a NUL byte"))
    } else {
        Ok(())
    }
}

/// Whether the kernel takes `addr` as a destination address (its `inet_addr_type` /
/// `ipv6_addr_type` test): not unspecified, broadcast, multicast, IPv4-mapped or IPv6
/// link-local. The one unicast check: validation and the mock kernel both use it.
///
/// ```
/// use ipvs::model::is_destination_address;
/// assert!(is_destination_address(&"198.51.100.1".parse().unwrap()));
/// assert!(is_destination_address(&"0.1.2.3".parse().unwrap())); // only 0.0.0.0 is refused
/// assert!(!is_destination_address(&"::ffff:198.51.100.1".parse().unwrap()));
/// assert!(!is_destination_address(&"fe80::1".parse().unwrap()));
/// ```
pub fn is_destination_address(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_broadcast() || a.is_multicast()),
        IpAddr::V6(a) => {
            let s = a.segments();
            !(a.is_unspecified() || a.is_multicast() || is_v4_mapped(addr) || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Whether `addr` is an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`): an IPv4 address
/// dressed as IPv6, refused for services and destinations alike (the IPv4 address is meant).
///
/// ```
/// use ipvs::model::is_v4_mapped;
/// assert!(is_v4_mapped(&"::ffff:192.0.2.1".parse().unwrap()));
/// assert!(!is_v4_mapped(&"192.0.2.1".parse().unwrap()));
/// assert!(!is_v4_mapped(&"::192.0.2.1".parse().unwrap()));
/// ```
pub fn is_v4_mapped(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(_) => false,
        IpAddr::V6(a) => {
            let s = a.segments();
            s[..5] == [0; 5] && s[5] == 0xffff
        }
    }
}

/// A service's address: any but IPv4-mapped (the kernel would hold it as a separate IPv6
/// service that IPv4 clients never reach; destinations refuse it too).
pub(crate) fn check_service_address(addr: &IpAddr) -> Result<(), InvalidInput> {
    if is_v4_mapped(addr) {
        Err(InvalidInput::new(
            "address",
            addr,
            "a v4-mapped IPv6 address is not a service address (give the IPv4 address)",
        ))
    } else {
        Ok(())
    }
}

pub(crate) fn check_destination_address(addr: &IpAddr) -> Result<(), InvalidInput> {
    if is_destination_address(addr) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            "address",
            addr,
            "a destination address must be unicast (not unspecified, multicast, broadcast, v4-mapped or link-local)",
        ))
    }
}
