//! `ipvs-director`: keepalived's load-balancing half on the ipvs library.
//!
//! * [`config`]: the native configuration (TOML), one schema, validated;
//! * [`keepalived`]: keepalived.conf (the supported subset) read into that configuration,
//!   every unsupported keyword an error naming its file, line and keyword;
//! * [`check`]: one attempt of each kind of health check (TCP, HTTP, HTTPS, DNS, command,
//!   SMTP), and the scripts;
//! * [`health`]: what results do to a checker's state, as keepalived counts them;
//! * [`policy`]: from health to the table: failure policies, quorum, the sorry server;
//! * [`daemon`]: the checks running, the table applied, reload, `/metrics` and `/status`;
//! * [`failover`]: VRRP between directors, the protocol of the `ipvs_vrrp` crate (RFC 3768
//!   v2, RFC 5798 v3, without I/O) run on a host, with addresses, GARP and the sync daemon;
//! * [`host`]: the machine, every effect on it behind one trait (the kernel, or a fake
//!   that records them for tests).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod check;
pub mod cli;
pub mod config;
pub mod daemon;
mod error;
pub mod failover;
pub mod health;
pub mod host;
pub mod keepalived;
pub mod policy;

pub use error::Error;
