//! The IPVS generic-netlink wire format: commands, messages, attributes, framing, and the
//! conversions between them and the typed [model](crate::model).
//!
//! This layer does no I/O. Encoding builds bytes from values and refuses what netlink cannot
//! carry; decoding never panics on any input: malformed bytes give a [`DecodeError`].
//!
//! ```
//! use ipvs::wire::{self, IpvsCmd, IpvsMessage};
//! use ipvs::{Request, Scheduler, Service, ServiceId};
//! let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr);
//! let msg = IpvsMessage::from(&Request::AddService(svc));
//! let mut bytes = Vec::new();
//! wire::frame::encode(&msg, 0x1c, 1, wire::frame::REQUEST_ACK, &mut bytes).unwrap();
//! let frames = wire::frame::decode_all(&bytes).unwrap();
//! assert_eq!(frames[0].seq, 1);
//! assert_eq!(frames[0].message().unwrap().cmd, IpvsCmd::NewService);
//! ```

mod attrs;
pub(crate) mod convert;
pub mod frame;
mod message;

pub use attrs::{DaemonAttr, DestAttr, IpvsAttr, ServiceAttr, StatsAttr};
pub use message::{IpvsCmd, IpvsMessage};
/// The netlink crate whose types this layer exposes (`DefaultNla`, `DecodeError`, `Nla`).
pub use netlink_packet_core;
pub use netlink_packet_core::{DecodeError, DefaultNla};

/// The generic netlink family name.
pub const FAMILY_NAME: &str = "IPVS";
/// The family's version.
pub const FAMILY_VERSION: u8 = 1;
