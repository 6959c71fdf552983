//! Why a received advertisement was dropped, and counters by reason.

/// Why an advertisement (or the packet carrying it) was refused.
///
/// One variant per drop reason, so that a receiver can count drops by reason
/// ([`DropCounters`]). Parsing ([`super::packet::parse`]), the IP-level checks
/// ([`super::validate::check_ip`]) and the checks against the instance's configuration
/// ([`super::validate::check_advert`]) all report this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum AdvertError {
    /// Fewer bytes than the fixed header, or than the address count (and, in v2, the
    /// authentication data) require.
    #[error("packet too short")]
    Short,
    /// Malformed or unsupported IPv4 header (version, length, header checksum, protocol not
    /// 112, fragment).
    #[error("malformed IP header")]
    IpHeader,
    /// VRRP version neither 2 nor 3, v2 over IPv6, or not the configured version.
    #[error("wrong VRRP version")]
    Version,
    /// Type other than 1 (ADVERTISEMENT).
    #[error("not an ADVERTISEMENT")]
    Type,
    /// VRRP checksum does not verify.
    #[error("bad VRRP checksum")]
    Checksum,
    /// IPv4 TTL or IPv6 hop limit other than 255 (multicast).
    #[error("TTL/hop limit is not 255")]
    Ttl,
    /// VRID 0, or not the VRID of this instance.
    #[error("wrong VRID")]
    Vrid,
    /// The packet's address family is not the instance's.
    #[error("wrong address family")]
    Family,
    /// Address count zero in v3 (RFC 5798 §5.2.5), or not the configured count.
    #[error("bad address count")]
    AddressCount,
    /// The address list is not the configured one.
    #[error("address list differs from the configuration")]
    AddressList,
    /// Advertisement interval zero, or (v2) not the configured interval.
    #[error("bad advertisement interval")]
    Interval,
    /// Unknown authentication type, not the configured type, or wrong password (v2).
    #[error("authentication failed")]
    Auth,
    /// Source address not acceptable: unspecified, multicast, our own, or (unicast) not a
    /// configured peer.
    #[error("unacceptable source address")]
    Source,
    /// Destination address not acceptable: not the multicast group when multicasting, or a
    /// multicast address when unicasting.
    #[error("unacceptable destination address")]
    Destination,
    /// This router is the address owner (priority 255): RFC 3768/5798 §7.1 say it discards
    /// every advertisement.
    #[error("this router is the address owner")]
    Owner,
}

impl AdvertError {
    /// Number of reasons.
    pub const COUNT: usize = 15;

    /// Every reason, in declaration order (the order of [`AdvertError::index`]).
    pub const ALL: [AdvertError; AdvertError::COUNT] = [
        AdvertError::Short,
        AdvertError::IpHeader,
        AdvertError::Version,
        AdvertError::Type,
        AdvertError::Checksum,
        AdvertError::Ttl,
        AdvertError::Vrid,
        AdvertError::Family,
        AdvertError::AddressCount,
        AdvertError::AddressList,
        AdvertError::Interval,
        AdvertError::Auth,
        AdvertError::Source,
        AdvertError::Destination,
        AdvertError::Owner,
    ];

    /// Position of this reason in [`AdvertError::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// A short snake_case label, for metrics and logs.
    pub const fn label(self) -> &'static str {
        match self {
            AdvertError::Short => "short",
            AdvertError::IpHeader => "ip_header",
            AdvertError::Version => "version",
            AdvertError::Type => "type",
            AdvertError::Checksum => "checksum",
            AdvertError::Ttl => "ttl",
            AdvertError::Vrid => "vrid",
            AdvertError::Family => "family",
            AdvertError::AddressCount => "address_count",
            AdvertError::AddressList => "address_list",
            AdvertError::Interval => "interval",
            AdvertError::Auth => "auth",
            AdvertError::Source => "source",
            AdvertError::Destination => "destination",
            AdvertError::Owner => "owner",
        }
    }
}

/// Dropped advertisements, counted by [`AdvertError`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DropCounters([u64; AdvertError::COUNT]);

impl DropCounters {
    /// Count one drop for `reason`.
    pub fn record(&mut self, reason: AdvertError) {
        if let Some(n) = self.0.get_mut(reason.index()) {
            *n = n.saturating_add(1);
        }
    }

    /// Drops counted for `reason`.
    pub fn get(&self, reason: AdvertError) -> u64 {
        self.0.get(reason.index()).copied().unwrap_or(0)
    }

    /// All drops.
    pub fn total(&self) -> u64 {
        self.0.iter().fold(0u64, |a, b| a.saturating_add(*b))
    }

    /// `(reason, count)` for every reason, zero counts included.
    pub fn iter(&self) -> impl Iterator<Item = (AdvertError, u64)> + '_ {
        AdvertError::ALL.iter().map(move |r| (*r, self.get(*r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_match_all() {
        for (i, r) in AdvertError::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        let mut c = DropCounters::default();
        c.record(AdvertError::Owner);
        c.record(AdvertError::Short);
        c.record(AdvertError::Short);
        assert_eq!(c.get(AdvertError::Short), 2);
        assert_eq!(c.get(AdvertError::Owner), 1);
        assert_eq!(c.total(), 3);
        assert_eq!(c.iter().count(), AdvertError::COUNT);
    }
}
