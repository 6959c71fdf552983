//! `ipvs-vrrp`: the Virtual Router Redundancy Protocol, without I/O.
//!
//! The protocol behind `ipvs-director`'s failover, in a crate of its own so that it (and its
//! fuzz target) builds without an async runtime, HTTP or TLS.
//!
//! VRRPv2 (RFC 3768, keepalived's default for IPv4) and VRRPv3 (RFC 5798, IPv4 and IPv6),
//! written to interoperate with keepalived as a peer. Everything here is pure: bytes in,
//! bytes out; events and the current time in, actions and the next deadline out. Sockets,
//! clocks, addresses, sending gratuitous ARP, scripts and the IPVS sync daemon belong to the
//! caller.
//!
//! * [`packet`]: the ADVERTISEMENT ([`Advert`]), [`parse`] and [`emit`] with the per-version
//!   checksum (v3 with the IPv4/IPv6 pseudo-header);
//! * [`ip`]: the IPv4 header around it (raw IPv4 sockets see it; IPv6 ones do not) and the
//!   IP facts a receiver checks ([`IpMeta`]);
//! * [`validate`]: the receiver's checks of RFC 3768/5798 §7.1 against an instance's
//!   configuration, each failure a distinct [`AdvertError`] so drops are counted by reason;
//! * [`config`]: an instance's settings ([`InstanceConfig`]), RFC defaults plus the keepalived
//!   options that change behaviour on the wire;
//! * [`event`]: what drives an instance ([`Event`]) and what it asks for ([`Action`]);
//! * [`state`]: the instance state machine ([`Instance`]): Initialize, Backup, Master (and
//!   keepalived's Fault), master-down timer with skew, preemption, priority 0 on shutdown;
//! * [`time`]: the explicit [`Timestamp`] and the RFC timer formulas;
//! * [`frames`]: a new master's announcements as bytes, gratuitous ARP ([`garp_frame`]) and
//!   unsolicited neighbour advertisements ([`unsolicited_na`]);
//! * [`fuzz`]: [`fuzz_advert`], the entry point for the fuzz crate.
//!
//! A receive loop looks like:
//!
//! ```
//! use ipvs_vrrp::{Action, Addresses, Event, Instance, InstanceConfig, Timestamp, Version};
//! use std::net::{IpAddr, Ipv4Addr};
//!
//! let me = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
//! let vips = Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 100)]);
//! let mut vr = Instance::new(InstanceConfig::new(Version::V2, 51, 100, me, vips)).unwrap();
//! let actions = vr.handle(Timestamp::ZERO, Event::Startup);
//! assert!(actions.contains(&Action::RemoveAddresses)); // starts as backup
//! // ... on a packet: vr.receive(now, &IpMeta { .. }, payload); on vr.next_deadline(): Event::Timer.
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
pub mod error;
pub mod event;
pub mod frames;
pub mod fuzz;
pub mod ip;
pub mod packet;
pub mod state;
pub mod time;
pub mod validate;

pub use config::{advert_interval_centis, AddressMismatch, ConfigError, GarpConfig, InstanceConfig};
pub use error::{AdvertError, DropCounters};
pub use event::{Action, Event, Notify, State, Stats, SyncRole};
pub use frames::{garp_frame, unsolicited_na};
pub use fuzz::fuzz_advert;
pub use ip::IpMeta;
pub use packet::{emit, parse, Addresses, Advert, Auth, Family, PacketContext, Version};
pub use state::Instance;
pub use time::Timestamp;

use std::net::{Ipv4Addr, Ipv6Addr};

/// IP protocol number of VRRP.
pub const IP_PROTOCOL: u8 = 112;
/// IPv4 TTL / IPv6 hop limit of every advertisement (RFC 3768 §5.2.3, RFC 5798 §5.1.1.3).
pub const TTL: u8 = 255;
/// IPv4 multicast group of VRRP, 224.0.0.18.
pub const MULTICAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// IPv6 multicast group of VRRP, ff02::12.
pub const MULTICAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The only message type, ADVERTISEMENT.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// Priority of the address owner.
pub const PRIORITY_OWNER: u8 = 255;
/// Priority announcing that the master stops.
pub const PRIORITY_STOP: u8 = 0;
