//! # ipvs: typed, safe control of Linux IPVS
//!
//! IPVS is the Linux kernel's layer-4 load balancer: virtual services (a VIP and port, or a
//! firewall mark) spread connections over real servers by a scheduler, forwarding by NAT,
//! direct routing or tunnelling. This crate configures it over the kernel's generic netlink
//! family `IPVS`, the same interface `ipvsadm` uses.
//!
//! The crate is in layers, each in one place:
//!
//! * [`model`]: what a user configures ([`Service`], [`Destination`], ...) apart from what the
//!   kernel reports ([`ServiceStatus`], [`DestinationStatus`], [`Stats`]), typed write
//!   [`Request`]s, validation that names the bad field and value, and the one table of names
//!   and numbers;
//! * [`wire`]: the generic netlink codec, attribute enums that keep unknown attributes, and
//!   framing; no I/O and no panics on any input;
//! * [`transport`]: the [`Transport`](transport::Transport) trait, with the kernel's
//!   [`NetlinkTransport`](transport::NetlinkTransport), an in-memory kernel model
//!   ([`MockTransport`](transport::MockTransport)) and a fault injector
//!   ([`FaultTransport`](transport::FaultTransport));
//! * [`Client`]: the typed operations, speaking model types only;
//! * [`rules`]: the ipvsadm rule format (`ipvsadm -S` output, `ipvsadm -R` input) as a typed
//!   data format;
//! * [`netlink`]: the one netlink socket loop (sequence numbers, deadlines, multipart
//!   replies, acknowledgements, errno) for any protocol, under the transport and under
//!   rtnetlink or other generic netlink families; [`netns`]: the one way into a network
//!   namespace;
//! * [`command`]: what the command-line programs share (the transport from `--mock`,
//!   `--netns`, `IPVS_MOCK`);
//! * [`fs`]: reading an operator's file safely (regular files only, never blocking, bounded);
//! * [`state`]: desired state: whole tables, plans between them within a scope, draining, and
//!   verified applies.
//!
//! ```
//! use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId};
//!
//! let client = Client::mock(); // Client::new()? for the kernel (needs CAP_NET_ADMIN)
//! let vip = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
//! client.add_service(&Service::new(vip, Scheduler::Rr))?;
//! for n in 1..=4 {
//!     let rs = format!("198.51.100.{n}:80").parse().unwrap();
//!     client.add_destination(&vip, &Destination::new(rs, Forward::Masquerade))?;
//! }
//! assert_eq!(client.destinations(&vip)?.len(), 4);
//! # Ok::<(), ipvs::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
pub mod command;
mod error;
pub mod fs;
pub mod model;
pub mod netlink;
pub mod netns;
pub mod rules;
pub mod state;
pub mod transport;
pub mod wire;

pub use client::Client;
pub use error::{Errno, Error, ErrorKind, InvalidInput, Operation};
pub use model::{
    Daemon, DaemonState, Destination, DestinationStatus, Family, Forward, Info, Netmask, PersistenceEngine, Protocol,
    Request, Scheduler, Service, ServiceFlags, ServiceId, ServiceStatus, Stats, Timeouts, Tunnel, TunnelFlags, Version,
};

/// The README's Rust examples, run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The Rust examples of docs/desired-state.md, run as doctests so they stay true.
#[cfg(all(doctest, feature = "serde"))]
#[doc = include_str!("../../docs/desired-state.md")]
pub struct DesiredStateDoctests;
