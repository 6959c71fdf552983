//! How destinations leave a service: drained (weight 0 first, deleted when idle or after a
//! longest drain time) or deleted at once.
//!
//! The drain state lives in the kernel: a destination at weight 0 that is not desired is
//! draining. A restarted process sees the same and carries on. Only the longest drain time
//! needs a clock, which a [`DrainClock`] keeps from when a process first saw a destination
//! draining: after a restart that time counts again from then, so a drain can last at most
//! twice its longest time across one restart.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::model::{Protocol, ServiceId};

/// How the destinations of one service leave it.
///
/// ```
/// use std::time::Duration;
/// use ipvs::state::DrainPolicy;
/// let p = DrainPolicy::Drain { max: Some(Duration::from_secs(300)) };
/// assert_eq!(p.to_string(), "drain (at most 300 s)");
/// assert_eq!(DrainPolicy::Delete.to_string(), "delete at once");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DrainPolicy {
    /// Weight 0 first (no new connections, existing ones finish); deleted when it has no
    /// active or inactive connection left, or after `max` (None: no limit).
    Drain {
        /// The longest drain.
        max: Option<Duration>,
    },
    /// Deleted at once.
    Delete,
}

impl std::fmt::Display for DrainPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DrainPolicy::Drain { max: Some(m) } => write!(f, "drain (at most {} s)", m.as_secs()),
            DrainPolicy::Drain { max: None } => f.write_str("drain"),
            DrainPolicy::Delete => f.write_str("delete at once"),
        }
    }
}

/// The drain policy of every service: what a service's own setting (in the desired table)
/// does not say, its protocol decides. The defaults follow what kube-proxy learned: the
/// connection-oriented protocols, TCP and SCTP (and firewall-mark services, whose protocol
/// is unknown), drain, for at most 15 minutes; UDP deletes at once (a UDP "connection" is
/// only a timer, and a stale one blackholes). kube-proxy itself drains TCP only, without a
/// time limit; `sctp: DrainPolicy::Delete` gives its behaviour for SCTP.
///
/// ```
/// use ipvs::state::{DrainPolicy, Policy};
/// use ipvs::{Family, ServiceId};
/// let p = Policy::default();
/// assert!(matches!(p.for_service(&ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), None), DrainPolicy::Drain { .. }));
/// assert_eq!(p.for_service(&ServiceId::udp("192.0.2.1".parse().unwrap(), 53), None), DrainPolicy::Delete);
/// assert!(matches!(p.for_service(&ServiceId::fwmark(1, Family::Inet), None), DrainPolicy::Drain { .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// For TCP services.
    pub tcp: DrainPolicy,
    /// For UDP services.
    pub udp: DrainPolicy,
    /// For SCTP services.
    pub sctp: DrainPolicy,
    /// For firewall-mark services.
    pub fwmark: DrainPolicy,
}

impl Policy {
    /// The longest drain of the default policy.
    pub const DEFAULT_MAX_DRAIN: Duration = Duration::from_secs(15 * 60);

    /// The policy for a service: its own setting, or its protocol's.
    pub fn for_service(&self, id: &ServiceId, own: Option<DrainPolicy>) -> DrainPolicy {
        if let Some(p) = own {
            return p;
        }
        match id {
            ServiceId::Inet { protocol: Protocol::Udp, .. } => self.udp,
            ServiceId::Inet { protocol: Protocol::Sctp, .. } => self.sctp,
            ServiceId::Inet { .. } => self.tcp,
            ServiceId::Fwmark { .. } => self.fwmark,
        }
    }

    /// Every service deletes its leaving destinations at once.
    pub fn delete_at_once() -> Policy {
        Policy {
            tcp: DrainPolicy::Delete,
            udp: DrainPolicy::Delete,
            sctp: DrainPolicy::Delete,
            fwmark: DrainPolicy::Delete,
        }
    }
}

impl Default for Policy {
    fn default() -> Policy {
        let drain = DrainPolicy::Drain { max: Some(Self::DEFAULT_MAX_DRAIN) };
        Policy { tcp: drain, udp: DrainPolicy::Delete, sctp: drain, fwmark: drain }
    }
}

/// When this process first saw each destination draining, for the longest drain time. A
/// long-running process (a director) keeps one across its plans; a one-shot command starts
/// with an empty one.
#[derive(Debug, Clone, Default)]
pub struct DrainClock {
    since: HashMap<(ServiceId, SocketAddr), Instant>,
}

impl DrainClock {
    /// An empty clock.
    pub fn new() -> DrainClock {
        DrainClock::default()
    }

    /// How long a destination has been seen draining, noting it now if it was not.
    pub fn draining_for(&mut self, service: &ServiceId, dest: &SocketAddr, now: Instant) -> Duration {
        let since = *self.since.entry((*service, *dest)).or_insert(now);
        now.saturating_duration_since(since)
    }

    /// Forgets destinations that are no longer draining.
    pub fn retain(&mut self, mut draining: impl FnMut(&ServiceId, &SocketAddr) -> bool) {
        self.since.retain(|(s, d), _| draining(s, d));
    }

    /// How many destinations the clock follows.
    pub fn len(&self) -> usize {
        self.since.len()
    }

    /// Whether it follows none.
    pub fn is_empty(&self) -> bool {
        self.since.is_empty()
    }
}
