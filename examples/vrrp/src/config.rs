//! An instance's settings: the RFC's per-virtual-router parameters plus the keepalived options
//! that change what goes on the wire or when.

use std::net::IpAddr;
use std::time::Duration;

use super::packet::{advert_unchecked, Addresses, Advert, Auth, Family, Version, MAX_V3_INTERVAL};
use super::{MULTICAST_V4, MULTICAST_V6, PRIORITY_OWNER};

/// What to do with an advertisement whose address list differs from the configuration.
///
/// RFC 3768/5798 §7.1: the check is a MAY; when it fails and the sender is not the address
/// owner (priority 255) the packet MUST be dropped. keepalived counts and logs the mismatch
/// but processes the advertisement anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AddressMismatch {
    /// Drop unless the sender is the owner (RFC); counted as [`super::AdvertError::AddressCount`]
    /// or [`super::AdvertError::AddressList`].
    #[default]
    Drop,
    /// Count ([`super::Stats::address_mismatches`]) and accept (keepalived).
    Accept,
}

/// Gratuitous ARP / unsolicited neighbour advertisement schedule (keepalived's `garp_*`).
///
/// The RFCs ask for one announcement of each address on becoming master; keepalived sends
/// `garp_master_repeat` (default 5) at once and as many again after `garp_master_delay`
/// (default 5 s), optionally refreshes periodically while master, and re-announces when, as
/// master, it hears a lower-priority advertisement (a sign of a past split brain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GarpConfig {
    /// Announcements per address on becoming master (`vrrp_garp_master_repeat`, default 5).
    pub master_repeat: u32,
    /// Delay of the second burst after becoming master, `None` for none
    /// (`vrrp_garp_master_delay`, default 5 s).
    pub master_delay: Option<Duration>,
    /// Period of refreshes while master, `None` for none (`vrrp_garp_master_refresh`,
    /// default none). Must not be zero.
    pub master_refresh: Option<Duration>,
    /// Announcements per address at each refresh (`vrrp_garp_master_refresh_repeat`, default 1).
    pub master_refresh_repeat: u32,
    /// Announcements when master hears a lower priority (`vrrp_garp_lower_prio_repeat`,
    /// default: as `master_repeat`; 0 for none).
    pub lower_prio_repeat: u32,
    /// Delay of the second burst after that (`vrrp_garp_lower_prio_delay`, default: as
    /// `master_delay`).
    pub lower_prio_delay: Option<Duration>,
}

impl Default for GarpConfig {
    fn default() -> Self {
        GarpConfig {
            master_repeat: 5,
            master_delay: Some(Duration::from_secs(5)),
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_prio_repeat: 5,
            lower_prio_delay: Some(Duration::from_secs(5)),
        }
    }
}

/// Why an [`InstanceConfig`] is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// VRID 0 (the range is 1..=255).
    #[error("virtual router id must be 1..=255")]
    Vrid,
    /// Priority 0 (reserved for the stop announcement).
    #[error("priority must be 1..=255")]
    Priority,
    /// Interval 0, over 4095 cs (v3), or not whole seconds up to 255 s (v2).
    #[error("advertisement interval out of range for this version (v2: 1..=255 s; v3: 1..=4095 cs)")]
    Interval,
    /// VRRPv2 with IPv6 addresses (RFC 3768 is IPv4 only).
    #[error("VRRPv2 is IPv4 only")]
    Version,
    /// Primary address, virtual addresses, peers and multicast group not all of one family.
    #[error("addresses of mixed families")]
    Family,
    /// More than 255 virtual addresses, or none with v3 (RFC 5798 §5.2.5).
    #[error("virtual address count must be 1..=255 (v3) or 0..=255 (v2)")]
    AddressCount,
    /// Authentication with v3 (which has none).
    #[error("authentication exists in VRRPv2 only")]
    Auth,
    /// `down_timer_adverts` 0.
    #[error("down_timer_adverts must be at least 1")]
    DownTimerAdverts,
    /// A zero gratuitous ARP refresh period.
    #[error("garp refresh period must not be zero")]
    Garp,
    /// Multicast group that is not a multicast address.
    #[error("multicast group is not a multicast address")]
    MulticastGroup,
    /// Primary address unspecified or multicast.
    #[error("primary address must be a unicast address")]
    PrimaryAddress,
}

/// `interval` as an Advertisement_Interval in centiseconds for `version`: whole seconds up to
/// 255 s for v2, whole centiseconds up to 40.95 s for v3. keepalived rounds (with a
/// configuration warning) what does not fit; this refuses it with [`ConfigError::Interval`].
pub fn advert_interval_centis(version: Version, interval: Duration) -> Result<u16, ConfigError> {
    let millis = interval.as_millis();
    let exact = interval.subsec_nanos().is_multiple_of(10_000_000);
    let centis = u16::try_from(millis / 10).map_err(|_| ConfigError::Interval)?;
    let fits = match version {
        Version::V2 => interval.subsec_nanos() == 0 && (100..=25_500).contains(&centis),
        Version::V3 => exact && (1..=MAX_V3_INTERVAL).contains(&centis),
    };
    if fits {
        Ok(centis)
    } else {
        Err(ConfigError::Interval)
    }
}

/// The settings of one VRRP instance (virtual router on one interface and family).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceConfig {
    /// Protocol version.
    pub version: Version,
    /// Virtual Router Identifier, 1..=255.
    pub vrid: u8,
    /// Configured (base) priority; 255 makes this router the address owner.
    pub priority: u8,
    /// Advertisement_Interval in centiseconds (v2: a multiple of 100). Default 100 (1 s).
    pub advert_interval_centis: u16,
    /// This router's primary address: the source of its adverts and its side of the
    /// equal-priority tie-break (for IPv6, the interface's link-local address).
    pub primary_address: IpAddr,
    /// The virtual addresses, carried in adverts and checked in received ones.
    pub virtual_addresses: Addresses,
    /// v2 authentication (default none).
    pub auth: Auth,
    /// Preempt_Mode (default true; keepalived `nopreempt` sets it false).
    pub preempt: bool,
    /// keepalived `preempt_delay` (default 0): while a lower-priority master is heard, keep
    /// accepting its adverts for this long after the first one, then preempt.
    pub preempt_delay: Duration,
    /// keepalived `state MASTER` for a non-owner: the first master-down timer is one interval
    /// plus the smallest skew instead of the full Master_Down_Interval.
    pub start_as_master: bool,
    /// Unicast peers (keepalived `unicast_peer`); empty means multicast.
    pub unicast_peers: Vec<IpAddr>,
    /// Multicast group; `None` means 224.0.0.18 or ff02::12.
    pub multicast_group: Option<IpAddr>,
    /// What to do when a received address list differs from ours.
    pub address_mismatch: AddressMismatch,
    /// keepalived `v3_checksum_as_v2`: VRRPv3 over IPv4 without the pseudo-header.
    pub v3_checksum_as_v2: bool,
    /// keepalived `lower_prio_no_advert`: as master, do not answer a lower-priority advert
    /// with an advert of ours (RFC 3768/5798 behaviour). Default false: answer (keepalived's
    /// default and RFC 9568).
    pub lower_prio_no_advert: bool,
    /// keepalived `down_timer_adverts`: adverts missed before master down (default 3, the RFCs).
    pub down_timer_adverts: u8,
    /// Gratuitous ARP / NA schedule.
    pub garp: GarpConfig,
}

impl InstanceConfig {
    /// A configuration with the RFC and keepalived defaults: 1 s interval, preempt, multicast.
    pub fn new(
        version: Version,
        vrid: u8,
        priority: u8,
        primary_address: IpAddr,
        virtual_addresses: Addresses,
    ) -> Self {
        InstanceConfig {
            version,
            vrid,
            priority,
            advert_interval_centis: 100,
            primary_address,
            virtual_addresses,
            auth: Auth::None,
            preempt: true,
            preempt_delay: Duration::ZERO,
            start_as_master: false,
            unicast_peers: Vec::new(),
            multicast_group: None,
            address_mismatch: AddressMismatch::Drop,
            v3_checksum_as_v2: false,
            lower_prio_no_advert: false,
            down_timer_adverts: 3,
            garp: GarpConfig::default(),
        }
    }

    /// Check every constraint; [`super::Instance::new`] calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.vrid == 0 {
            return Err(ConfigError::Vrid);
        }
        if self.priority == 0 {
            return Err(ConfigError::Priority);
        }
        let family = self.family();
        let interval_ok = match self.version {
            Version::V2 => {
                self.advert_interval_centis != 0
                    && self.advert_interval_centis.is_multiple_of(100)
                    && self.advert_interval_centis <= 25_500
            }
            Version::V3 => self.advert_interval_centis != 0 && self.advert_interval_centis <= MAX_V3_INTERVAL,
        };
        if !interval_ok {
            return Err(ConfigError::Interval);
        }
        if self.version == Version::V2 && family == Family::V6 {
            return Err(ConfigError::Version);
        }
        let group = self.multicast_group();
        if self.virtual_addresses.family() != family
            || self.unicast_peers.iter().any(|p| Family::of(p) != family)
            || Family::of(&group) != family
        {
            return Err(ConfigError::Family);
        }
        let count = self.virtual_addresses.len();
        if count > 255 || (count == 0 && self.version == Version::V3) {
            return Err(ConfigError::AddressCount);
        }
        if self.version == Version::V3 && self.auth != Auth::None {
            return Err(ConfigError::Auth);
        }
        if self.down_timer_adverts == 0 {
            return Err(ConfigError::DownTimerAdverts);
        }
        if self.garp.master_refresh == Some(Duration::ZERO) {
            return Err(ConfigError::Garp);
        }
        if !group.is_multicast() {
            return Err(ConfigError::MulticastGroup);
        }
        if self.primary_address.is_unspecified() || self.primary_address.is_multicast() {
            return Err(ConfigError::PrimaryAddress);
        }
        Ok(())
    }

    /// The instance's address family (that of its primary address).
    pub fn family(&self) -> Family {
        Family::of(&self.primary_address)
    }

    /// Whether adverts go to unicast peers rather than the multicast group.
    pub fn is_unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }

    /// The multicast group in use.
    pub fn multicast_group(&self) -> IpAddr {
        self.multicast_group.unwrap_or(match self.family() {
            Family::V4 => IpAddr::V4(MULTICAST_V4),
            Family::V6 => IpAddr::V6(MULTICAST_V6),
        })
    }

    /// Where each advert is sent: every unicast peer, or the multicast group.
    pub fn destinations(&self) -> Vec<IpAddr> {
        if self.is_unicast() {
            self.unicast_peers.clone()
        } else {
            vec![self.multicast_group()]
        }
    }

    /// Whether this router is the address owner (configured priority 255).
    pub fn is_owner(&self) -> bool {
        self.priority == PRIORITY_OWNER
    }

    /// This instance's advertisement with `priority`.
    pub fn advert(&self, priority: u8) -> Advert {
        advert_unchecked(
            self.version,
            self.vrid,
            priority,
            self.auth,
            self.advert_interval_centis,
            self.virtual_addresses.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4() -> InstanceConfig {
        InstanceConfig::new(
            Version::V2,
            51,
            100,
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            Addresses::V4(vec![Ipv4Addr::new(10, 0, 0, 100)]),
        )
    }

    #[test]
    fn validation() {
        assert_eq!(v4().validate(), Ok(()));
        let bad = |f: fn(&mut InstanceConfig), e| {
            let mut c = v4();
            f(&mut c);
            assert_eq!(c.validate(), Err(e));
        };
        bad(|c| c.vrid = 0, ConfigError::Vrid);
        bad(|c| c.priority = 0, ConfigError::Priority);
        bad(|c| c.advert_interval_centis = 150, ConfigError::Interval);
        bad(|c| c.advert_interval_centis = 25_600, ConfigError::Interval);
        bad(|c| c.unicast_peers = vec![IpAddr::V6(Ipv6Addr::LOCALHOST)], ConfigError::Family);
        bad(|c| c.down_timer_adverts = 0, ConfigError::DownTimerAdverts);
        bad(|c| c.garp.master_refresh = Some(Duration::ZERO), ConfigError::Garp);
        bad(|c| c.multicast_group = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))), ConfigError::MulticastGroup);
        bad(|c| c.primary_address = IpAddr::V4(Ipv4Addr::UNSPECIFIED), ConfigError::PrimaryAddress);
        bad(
            |c| {
                c.primary_address = IpAddr::V6(Ipv6Addr::LOCALHOST);
                c.virtual_addresses = Addresses::V6(vec![Ipv6Addr::LOCALHOST]);
            },
            ConfigError::Version,
        );
        bad(
            |c| {
                c.version = Version::V3;
                c.auth = Auth::pass("x");
            },
            ConfigError::Auth,
        );
        bad(
            |c| {
                c.version = Version::V3;
                c.virtual_addresses = Addresses::V4(vec![]);
            },
            ConfigError::AddressCount,
        );
        let ms = Duration::from_millis;
        assert_eq!(advert_interval_centis(Version::V2, ms(3000)), Ok(300));
        assert_eq!(advert_interval_centis(Version::V2, ms(1500)), Err(ConfigError::Interval));
        assert_eq!(advert_interval_centis(Version::V2, ms(256_000)), Err(ConfigError::Interval));
        assert_eq!(advert_interval_centis(Version::V2, ms(0)), Err(ConfigError::Interval));
        assert_eq!(advert_interval_centis(Version::V3, ms(920)), Ok(92));
        assert_eq!(advert_interval_centis(Version::V3, ms(925)), Err(ConfigError::Interval));
        assert_eq!(advert_interval_centis(Version::V3, ms(40_950)), Ok(4095));
        assert_eq!(advert_interval_centis(Version::V3, ms(40_960)), Err(ConfigError::Interval));
        assert_eq!(advert_interval_centis(Version::V3, Duration::MAX), Err(ConfigError::Interval));
        let mut c = v4();
        c.version = Version::V3;
        c.advert_interval_centis = 4095;
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.destinations(), vec![IpAddr::V4(MULTICAST_V4)]);
    }
}
