//! Check timing inherited virtual server → real server → checker, the failure policy, and
//! keepalived's defaults (each with where keepalived 2.2.7 sets it).

use std::time::Duration;

/// keepalived 2.2.7's defaults, with the place in its source that sets each.
pub mod defaults {
    use std::time::Duration;

    /// `delay_loop`: 60 s (`KEEPALIVED_DEFAULT_DELAY`, keepalived/include/check_data.h).
    pub const DELAY_LOOP: Duration = Duration::from_secs(60);
    /// `connect_timeout`: 5 s (`alloc_vs`, keepalived/check/check_data.c).
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// The weight of a real server (and a virtual server's default weight): 1 (`alloc_vs`,
    /// `alloc_rs`, check_data.c).
    pub const WEIGHT: u32 = 1;
    /// `quorum`: 1 (`alloc_vs`).
    pub const QUORUM: u32 = 1;
    /// `hysteresis`: 0 (`alloc_vs`).
    pub const HYSTERESIS: u32 = 0;
    /// The persistence timeout `persistence_timeout` without a value, or
    /// `persistence_granularity` alone, sets: 360 s (`IPVS_SVC_PERSISTENT_TIMEOUT`,
    /// keepalived/include/libipvs.h; `pto_handler`, `pgr_handler` in check_parser.c).
    pub const PERSISTENCE_TIMEOUT: u32 = 360;
    /// keepalived's largest `persistence_timeout`: 31 days (`LVS_MAX_TIMEOUT`,
    /// keepalived/include/global_data.h).
    pub const MAX_PERSISTENCE_TIMEOUT: u32 = 86_400 * 31;
    /// keepalived's largest `connect_timeout`: `UINT_MAX` microseconds
    /// (`vs_co_timeout_handler`, check_parser.c).
    pub const MAX_CONNECT_TIMEOUT: Duration = Duration::from_micros(u32::MAX as u64);
    /// The largest timer the director takes (keepalived's is about 584 000 years; this one
    /// keeps arithmetic on instants safe).
    pub const MAX_TIMER: Duration = Duration::from_secs(1_000_000_000);
    /// HTTP status codes that pass when a url gives none: 200-299 (`url_check`,
    /// keepalived/check/check_http.c).
    pub const STATUS_CODES: (u16, u16) = (200, 299);
    /// The `HELO` name of `SMTP_CHECK`: `SMTP_DEFAULT_HELO` (keepalived/include/check_smtp.h).
    pub const SMTP_HELO_NAME: &str = "smtpchecker.keepalived.org";
    /// `DNS_CHECK` retries: 3 (`DNS_DEFAULT_RETRY`, keepalived/include/check_dns.h).
    pub const DNS_RETRY: u32 = 3;
    /// The retries of TCP, HTTP, SSL and SMTP checks: 1 (`queue_checker`,
    /// keepalived/check/check_api.c).
    pub const RETRY: u32 = 1;
    /// `MISC_CHECK` retries: 0 (`misc_check_handler`, keepalived/check/check_misc.c).
    pub const MISC_RETRY: u32 = 0;
    /// `delay_before_retry` of TCP, SMTP and MISC checks: 1 s (`queue_checker`).
    pub const DELAY_BEFORE_RETRY: Duration = Duration::from_secs(1);
    /// `delay_before_retry` of HTTP and SSL checks: 3 s (`http_get_handler`, check_http.c).
    pub const HTTP_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(3);
    /// VRRP `priority` of a backup: 100 (`VRRP_PRIO_DFL`, keepalived/include/vrrp.h).
    pub const VRRP_PRIORITY: u8 = 100;
    /// VRRP `priority` of the address owner, and of an instance whose state is MASTER and
    /// whose priority is not set: 255 (`VRRP_PRIO_OWNER`; `vrrp_complete_instance`,
    /// keepalived/vrrp/vrrp.c).
    pub const VRRP_OWNER_PRIORITY: u8 = 255;
    /// VRRP `advert_int`: 1 s (`VRRP_ADVER_DFL`, vrrp.h).
    pub const VRRP_ADVERT_INT: Duration = Duration::from_secs(1);
    /// VRRP version: 2 (`global_data->vrrp_version`, keepalived/core/global_data.c); IPv6
    /// instances use 3.
    pub const VRRP_VERSION: u8 = 2;
    /// The longest `preempt_delay`: 1000 s (`TIMER_MAX_SEC`, lib/timer.h).
    pub const MAX_PREEMPT_DELAY: Duration = Duration::from_secs(1000);
    /// `vrrp_script` `interval`: 1 s (`VRRP_SCRIPT_DI`, keepalived/include/vrrp_track.h).
    pub const VRRP_SCRIPT_INTERVAL: Duration = Duration::from_secs(1);
    /// `vrrp_script` `rise` and `fall`: 1 (`alloc_vrrp_script`, keepalived/vrrp/vrrp_data.c).
    pub const VRRP_SCRIPT_RISE_FALL: u32 = 1;
}

/// Check timing. Each field left out is inherited: a checker's from its real server's, a
/// real server's from its virtual server's, and a virtual server's from keepalived's
/// defaults (see [`crate::config::ResolvedCheck`] for the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timing {
    /// Time between checks (`delay_loop`), after the previous one finished.
    pub delay_loop: Option<Duration>,
    /// How long a connection (and each read and write) may take (`connect_timeout`).
    pub connect_timeout: Option<Duration>,
    /// Failed attempts retried before a server is marked down (`retry`, `nb_get_retry`).
    pub retry: Option<u32>,
    /// Time before a retry (`delay_before_retry`).
    pub delay_before_retry: Option<Duration>,
    /// The first check runs at a random time up to this long after start (`warmup`).
    pub warmup: Option<Duration>,
}

impl Timing {
    /// Each field this timing leaves out, taken from `outer`.
    pub fn or(self, outer: Timing) -> Timing {
        Timing {
            delay_loop: self.delay_loop.or(outer.delay_loop),
            connect_timeout: self.connect_timeout.or(outer.connect_timeout),
            retry: self.retry.or(outer.retry),
            delay_before_retry: self.delay_before_retry.or(outer.delay_before_retry),
            warmup: self.warmup.or(outer.warmup),
        }
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Timing::default()
    }
}

/// What happens to a real server whose checks fail.
///
/// ```
/// use std::time::Duration;
/// use ipvs_director::config::OnFailure;
/// assert_eq!(OnFailure::default(), OnFailure::Remove);
/// assert_eq!(OnFailure::Drain { max: Some(Duration::from_secs(60)) }.name(), "drain");
/// assert!(OnFailure::Inhibit.keeps_destination());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnFailure {
    /// Delete the destination at once (keepalived's default).
    #[default]
    Remove,
    /// Keep the destination with weight 0 (keepalived's `inhibit_on_failure`).
    Inhibit,
    /// Set weight 0, then delete the destination when it has no connections left, or after
    /// `max` (the director's addition; see `ipvs::state::DrainPolicy`).
    Drain {
        /// The longest drain (None: until idle).
        max: Option<Duration>,
    },
}

impl OnFailure {
    /// The policy's name in the native file: `remove`, `inhibit`, `drain`.
    pub fn name(&self) -> &'static str {
        match self {
            OnFailure::Remove => "remove",
            OnFailure::Inhibit => "inhibit",
            OnFailure::Drain { .. } => "drain",
        }
    }

    /// Whether a failed server stays in the table (at weight 0) for good.
    pub fn keeps_destination(&self) -> bool {
        matches!(self, OnFailure::Inhibit)
    }

    /// How a failed destination leaves the table, for policies that remove it.
    pub fn drain_policy(&self) -> Option<ipvs::state::DrainPolicy> {
        match self {
            OnFailure::Remove => Some(ipvs::state::DrainPolicy::Delete),
            OnFailure::Inhibit => None,
            OnFailure::Drain { max } => Some(ipvs::state::DrainPolicy::Drain { max: *max }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_inherits_field_by_field() {
        let vs = Timing { delay_loop: Some(Duration::from_secs(6)), retry: Some(3), ..Timing::default() };
        let rs = Timing { retry: Some(2), ..Timing::default() };
        let eff = Timing::default().or(rs).or(vs);
        assert_eq!(eff.delay_loop, Some(Duration::from_secs(6)));
        assert_eq!(eff.retry, Some(2));
        assert!(eff.warmup.is_none());
        assert!(Timing::default().is_empty());
    }

    #[test]
    fn failure_policies_map_to_drain_policies() {
        assert_eq!(OnFailure::Remove.drain_policy(), Some(ipvs::state::DrainPolicy::Delete));
        assert_eq!(OnFailure::Inhibit.drain_policy(), None);
        assert_eq!(OnFailure::Drain { max: None }.drain_policy(), Some(ipvs::state::DrainPolicy::Drain { max: None }));
    }
}
