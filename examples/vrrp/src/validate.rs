//! The receiver's checks (RFC 3768 §7.1, RFC 5798 §7.1), with keepalived's choices where the
//! RFCs leave room or keepalived adds a mode (unicast).
//!
//! * [`check_ip`]: the IP facts: family, destination (the multicast group, or not multicast
//!   when unicasting), TTL/hop limit 255 (multicast only: keepalived does not check it for
//!   unicast, whose adverts may cross routers), source (not unspecified, multicast, broadcast
//!   or our own address; one of the peers when unicasting);
//! * [`super::parse`]: length, version, checksum, type, VRID 0, count, interval 0, auth type;
//! * [`check_advert`]: against the configuration: version, VRID, family, v2 authentication,
//!   v2 interval (MUST match, else drop; a v3 mismatch is only reported, the backup learns
//!   the master's), the address list (see [`AddressMismatch`]).
//!
//! The owner rule (a router with priority 255 discards every advert) depends on the state and
//! is applied by [`super::Instance`].

use std::net::IpAddr;

use super::config::{AddressMismatch, InstanceConfig};
use super::error::AdvertError;
use super::ip::IpMeta;
use super::packet::{parse, Advert, Auth, Family, Version};
use super::{PRIORITY_OWNER, TTL};

/// Differences an accepted advertisement showed (each counted by [`super::Instance`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// The address list differs from ours, and the advert was accepted nevertheless (sender
    /// is the owner, or [`AddressMismatch::Accept`]).
    pub address_mismatch: bool,
    /// v3: the interval differs from ours (not an error: the backup adopts the master's).
    pub interval_mismatch: bool,
}

/// Check what the IP layer reported for a packet addressed to this instance.
pub fn check_ip(cfg: &InstanceConfig, meta: &IpMeta) -> Result<(), AdvertError> {
    let family = cfg.family();
    if Family::of(&meta.source) != family || Family::of(&meta.destination) != family {
        return Err(AdvertError::Family);
    }
    if cfg.is_unicast() {
        if meta.destination.is_multicast() {
            return Err(AdvertError::Destination);
        }
    } else {
        if meta.destination != cfg.multicast_group() {
            return Err(AdvertError::Destination);
        }
        if meta.ttl != TTL {
            return Err(AdvertError::Ttl);
        }
    }
    check_source(cfg, &meta.source)
}

/// Check an advert's source address: a unicast address other than ours, and one of the
/// peers when unicasting.
pub fn check_source(cfg: &InstanceConfig, source: &IpAddr) -> Result<(), AdvertError> {
    let broadcast = matches!(source, IpAddr::V4(a) if a.is_broadcast());
    if source.is_unspecified() || source.is_multicast() || broadcast || *source == cfg.primary_address {
        return Err(AdvertError::Source);
    }
    if cfg.is_unicast() && !cfg.unicast_peers.contains(source) {
        return Err(AdvertError::Source);
    }
    Ok(())
}

/// Check a parsed advertisement against the instance's configuration.
pub fn check_advert(cfg: &InstanceConfig, advert: &Advert) -> Result<Findings, AdvertError> {
    if advert.version() != cfg.version {
        return Err(AdvertError::Version);
    }
    if advert.vrid() != cfg.vrid {
        return Err(AdvertError::Vrid);
    }
    if advert.addresses().family() != cfg.family() {
        return Err(AdvertError::Family);
    }
    let mut findings = Findings::default();
    match cfg.version {
        Version::V2 => {
            let auth_ok = match (&cfg.auth, advert.auth()) {
                (Auth::None, Auth::None) => true,
                (Auth::Pass(mine), Auth::Pass(theirs)) => mine == theirs,
                _ => false,
            };
            if !auth_ok {
                return Err(AdvertError::Auth);
            }
            if advert.interval_centis() != cfg.advert_interval_centis {
                return Err(AdvertError::Interval);
            }
        }
        Version::V3 => findings.interval_mismatch = advert.interval_centis() != cfg.advert_interval_centis,
    }
    let count_differs = advert.addresses().len() != cfg.virtual_addresses.len();
    if count_differs || !advert.addresses().same_set(&cfg.virtual_addresses) {
        if advert.priority() != PRIORITY_OWNER && cfg.address_mismatch == AddressMismatch::Drop {
            return Err(if count_differs { AdvertError::AddressCount } else { AdvertError::AddressList });
        }
        findings.address_mismatch = true;
    }
    Ok(findings)
}

/// Every check on a received packet: [`check_ip`], [`parse`], [`check_advert`].
pub fn check(cfg: &InstanceConfig, meta: &IpMeta, payload: &[u8]) -> Result<(Advert, Findings), AdvertError> {
    check_ip(cfg, meta)?;
    let advert = parse(payload, &meta.context(cfg.v3_checksum_as_v2))?;
    let findings = check_advert(cfg, &advert)?;
    Ok((advert, findings))
}
