//! The director's native configuration: virtual servers and their real servers, checks and
//! failure policy; VRRP instances; global settings. One schema, read from TOML
//! ([`Config::from_toml`], [`Config::load`]) or from keepalived.conf
//! ([`crate::keepalived`]), documented in `docs/director-config.md`.
//!
//! The types keep what was configured: a setting left out is `None` (or its default where
//! nothing inherits it), so a configuration written back ([`Config::to_toml`]) says what
//! the file said. What a setting comes to is computed:
//!
//! * IPVS: [`VirtualServer::services`] gives the `ipvs::Service`s a virtual server stands
//!   for and [`VirtualServer::destination`] a real server's `ipvs::Destination` (with its
//!   configured weight);
//! * checks: [`ResolvedCheck`] resolves inheritance virtual server → real server → checker
//!   and keepalived's defaults ([`defaults`], each with where keepalived sets it);
//! * policy: [`VirtualServer::on_failure_of`], [`VirtualServer::alpha_of`],
//!   [`VirtualServer::weight_of`].
//!
//! [`Config::validate`] checks everything that can be checked before anything runs.
//!
//! ```
//! use ipvs_director::config::Config;
//! let c = Config::from_toml(r#"
//! [[virtual_servers]]
//! protocol = "tcp"
//! address = "192.0.2.10"
//! port = 80
//! scheduler = "rr"
//! on_failure = "inhibit"
//!
//! [[virtual_servers.real_servers]]
//! address = "198.51.100.11"
//! weight = 2
//!
//! [[virtual_servers.real_servers.tcp_check]]
//! "#)?;
//! let vs = &c.virtual_servers[0];
//! let svc = &vs.services(&c.virtual_server_groups)[0];
//! let dest = vs.destination(&svc.id, &vs.real_servers[0]);
//! assert_eq!((dest.weight, dest.forward.name().as_str()), (2, "nat"));
//! assert!(vs.on_failure_of(&vs.real_servers[0]).keeps_destination());
//! assert_eq!(Config::from_toml(&c.to_toml())?, c);
//! # Ok::<(), ipvs_director::config::ConfigError>(())
//! ```

pub(crate) mod accounts;
mod check;
pub(crate) mod error;
mod file;
mod global;
mod resolve;
mod script;
pub(crate) mod security;
mod serde_util;
mod server;
mod timing;
mod validate;
mod validate_vrrp;
mod vrrp;

pub use check::{
    Check, CheckKind, ConnectOptions, DnsCheck, DnsType, HttpCheck, HttpProtocol, Md5Digest, MiscCheck, SmtpCheck,
    StatusCodes, Url,
};
pub use error::{ConfigError, Problem, ValidationError, ValidationErrors, ValueError};
pub use file::MAX_FILE_BYTES;
pub use global::{Global, SyncDaemon};
pub use resolve::ResolvedCheck;
pub use script::{split_words, Script, SplitError};
pub use security::{UnsafeProgram, UnsafeScript};
pub use server::{
    GroupEntry, RealServer, SorryServer, VirtualServer, VirtualServerGroup, VirtualServerId, MAX_GROUP_ADDRESSES,
    MAX_SERVICES,
};
pub use timing::{defaults, OnFailure, Timing};
pub use vrrp::{IpPrefix, TrackInterface, TrackScript, VirtualIp, VrrpInstance, VrrpScript, VrrpState, VrrpSyncGroup};

pub(crate) use validate::dns_name;

use ipvs::Scheduler;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// Settings for the whole director (`[global]`).
    pub global: Global,
    /// Named sets of addresses and marks (`[[virtual_server_groups]]`).
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// The virtual servers (`[[virtual_servers]]`).
    pub virtual_servers: Vec<VirtualServer>,
    /// Scripts VRRP instances track (`[[vrrp_scripts]]`).
    pub vrrp_scripts: Vec<VrrpScript>,
    /// Groups of VRRP instances that change state together (`[[vrrp_sync_groups]]`).
    pub vrrp_sync_groups: Vec<VrrpSyncGroup>,
    /// VRRP instances (`[[vrrp_instances]]`).
    pub vrrp_instances: Vec<VrrpInstance>,
}

impl Config {
    /// `script` as it runs: with `global.script_user` (and its group) when it names no user.
    pub fn script_as_run(&self, script: &Script) -> Script {
        let mut s = script.clone();
        if s.user.is_none() {
            s.user = self.global.script_user.clone();
            s.group = self.global.script_group.clone();
        }
        s
    }

    /// The group of this name.
    pub fn group(&self, name: &str) -> Option<&VirtualServerGroup> {
        self.virtual_server_groups.iter().find(|g| g.name == name)
    }

    /// How many IPVS services the configuration stands for ([`Config::services`] would give
    /// that many), counted without expanding anything; validation refuses more than
    /// [`MAX_SERVICES`].
    pub fn service_count(&self) -> u128 {
        self.service_counts().into_iter().fold(0, u128::saturating_add)
    }

    /// How many services each virtual server stands for, in order, each group counted once.
    pub(crate) fn service_counts(&self) -> Vec<u128> {
        let mut groups: std::collections::HashMap<&str, u128> = std::collections::HashMap::new();
        for g in &self.virtual_server_groups {
            groups.entry(g.name.as_str()).or_insert_with(|| g.service_count());
        }
        self.virtual_servers
            .iter()
            .map(|vs| match &vs.id {
                VirtualServerId::Group { name, .. } => groups.get(name.as_str()).copied().unwrap_or(0),
                _ => 1,
            })
            .collect()
    }

    /// Every IPVS service the configuration stands for, with the index of its virtual
    /// server.
    pub fn services(&self) -> Vec<(usize, ipvs::Service)> {
        self.virtual_servers
            .iter()
            .enumerate()
            .flat_map(|(i, vs)| vs.services(&self.virtual_server_groups).into_iter().map(move |s| (i, s)))
            .collect()
    }
}

/// The schedulers keepalived takes (`lvs_schedulers` in keepalived/check/check_parser.c):
/// every one the library knows ([`Scheduler::known`]) but `none`.
pub fn schedulers() -> impl Iterator<Item = Scheduler> {
    Scheduler::known().filter(|s| *s != Scheduler::None)
}

/// A scheduler by its kernel name, one of [`schedulers`].
///
/// ```
/// use ipvs_director::config::parse_scheduler;
/// assert_eq!(parse_scheduler("wrr").unwrap().name(), "wrr");
/// assert!(parse_scheduler("WRR").is_err());
/// assert!(parse_scheduler("none").is_err());
/// ```
pub fn parse_scheduler(name: &str) -> Result<Scheduler, UnknownScheduler> {
    schedulers().find(|s| s.name() == name).ok_or_else(|| UnknownScheduler(name.to_owned()))
}

/// A scheduler name that is none of [`schedulers`] (the error lists them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scheduler {0:?} (known: {known})", known = schedulers().map(|s| s.name().to_owned()).collect::<Vec<_>>().join(", "))]
pub struct UnknownScheduler(pub String);
