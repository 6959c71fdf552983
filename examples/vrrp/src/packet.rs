//! VRRP advertisements on the wire: [`Advert`], [`parse`] and [`emit`].
//!
//! Layouts (RFC 3768 §5.1, RFC 5798 §5.1), all fields in network byte order:
//!
//! ```text
//! v2: | Version=2 | Type=1 | VRID | Priority | Count | Auth Type | Adver Int (s, 8 bits) | Checksum |
//!     | IPv4 address × Count | Authentication Data (8 octets) |
//! v3: | Version=3 | Type=1 | VRID | Priority | Count | rsvd (4 bits) | Max Adver Int (cs, 12 bits) | Checksum |
//!     | IPv4 or IPv6 address × Count |
//! ```
//!
//! The v2 checksum covers the VRRP message only (authentication data included); the v3
//! checksum adds the IPv4/IPv6 pseudo-header (source, destination, protocol 112, VRRP length),
//! except for IPv4 when keepalived's `v3_checksum_as_v2` is in force
//! ([`PacketContext::v3_checksum_as_v2`]). Bytes after the VRRP message (Ethernet padding) are
//! ignored; they are not covered by the checksum.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::error::AdvertError;
use super::time::centis;
use super::{IP_PROTOCOL, TYPE_ADVERTISEMENT};

/// Fixed header length, both versions.
pub const HEADER_LEN: usize = 8;
/// v2 authentication data length.
pub const AUTH_DATA_LEN: usize = 8;
/// Largest v3 Max Adver Int (12 bits), in centiseconds.
pub const MAX_V3_INTERVAL: u16 = 0x0fff;

/// VRRP protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// VRRPv2, RFC 3768: IPv4 only, interval in seconds, authentication field (keepalived's
    /// default for IPv4).
    V2,
    /// VRRPv3, RFC 5798: IPv4 and IPv6, interval in centiseconds.
    V3,
}

impl Version {
    /// The number in the version field.
    pub const fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// IP address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of `addr`.
    pub const fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Length of one address of this family, in octets.
    pub const fn address_len(self) -> usize {
        match self {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }
}

/// VRRPv2 authentication (RFC 2338 §5.3.6; RFC 3768 keeps the field for compatibility).
///
/// keepalived implements type 1 (simple password, `auth_type PASS`) and type 2 (IPsec AH,
/// carried in IP protocol 51, not supported here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Auth {
    /// Type 0: no authentication; the data is sent as zeros and ignored on receipt.
    #[default]
    None,
    /// Type 1: simple text password, eight octets, zero-padded.
    Pass([u8; AUTH_DATA_LEN]),
}

impl Auth {
    /// A password as keepalived's `auth_pass` makes it: the first eight bytes, zero-padded.
    pub fn pass(password: &str) -> Auth {
        let mut data = [0u8; AUTH_DATA_LEN];
        for (d, s) in data.iter_mut().zip(password.as_bytes()) {
            *d = *s;
        }
        Auth::Pass(data)
    }

    /// The Auth Type field.
    pub const fn type_number(&self) -> u8 {
        match self {
            Auth::None => 0,
            Auth::Pass(_) => 1,
        }
    }
}

/// The addresses an advertisement carries (the virtual router's addresses).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Addresses {
    /// IPv4 addresses.
    V4(Vec<Ipv4Addr>),
    /// IPv6 addresses.
    V6(Vec<Ipv6Addr>),
}

impl Addresses {
    /// Number of addresses.
    pub fn len(&self) -> usize {
        match self {
            Addresses::V4(v) => v.len(),
            Addresses::V6(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Their family.
    pub const fn family(&self) -> Family {
        match self {
            Addresses::V4(_) => Family::V4,
            Addresses::V6(_) => Family::V6,
        }
    }

    /// Whether `addr` is one of them.
    pub fn contains(&self, addr: &IpAddr) -> bool {
        match (self, addr) {
            (Addresses::V4(v), IpAddr::V4(a)) => v.contains(a),
            (Addresses::V6(v), IpAddr::V6(a)) => v.contains(a),
            _ => false,
        }
    }

    /// Them, as [`IpAddr`]s.
    pub fn to_ip_addrs(&self) -> Vec<IpAddr> {
        match self {
            Addresses::V4(v) => v.iter().map(|a| IpAddr::V4(*a)).collect(),
            Addresses::V6(v) => v.iter().map(|a| IpAddr::V6(*a)).collect(),
        }
    }

    /// Whether both hold the same addresses, in any order (duplicates aside).
    pub fn same_set(&self, other: &Addresses) -> bool {
        match (self, other) {
            (Addresses::V4(a), Addresses::V4(b)) => a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x)),
            (Addresses::V6(a), Addresses::V6(b)) => a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x)),
            _ => false,
        }
    }
}

/// One VRRP ADVERTISEMENT (the only message type; Type is always 1).
///
/// The fields are private so that every `Advert` can be emitted: the constructors
/// ([`Advert::v2`], [`Advert::v3`]) and [`parse`] enforce the per-version ranges.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Advert {
    version: Version,
    vrid: u8,
    priority: u8,
    auth: Auth,
    /// Centiseconds; for v2 a multiple of 100.
    interval: u16,
    addresses: Addresses,
}

impl Advert {
    /// A VRRPv2 advertisement. Errors: VRID 0 ([`AdvertError::Vrid`]), interval 0
    /// ([`AdvertError::Interval`]), more than 255 addresses ([`AdvertError::AddressCount`]).
    pub fn v2(
        vrid: u8,
        priority: u8,
        interval_secs: u8,
        auth: Auth,
        addresses: Vec<Ipv4Addr>,
    ) -> Result<Advert, AdvertError> {
        let addresses = Addresses::V4(addresses);
        check_common(vrid, &addresses)?;
        if interval_secs == 0 {
            return Err(AdvertError::Interval);
        }
        Ok(Advert { version: Version::V2, vrid, priority, auth, interval: u16::from(interval_secs) * 100, addresses })
    }

    /// A VRRPv3 advertisement. Errors: VRID 0 ([`AdvertError::Vrid`]), interval outside
    /// 1..=4095 centiseconds ([`AdvertError::Interval`]), no address or more than 255
    /// ([`AdvertError::AddressCount`]).
    pub fn v3(vrid: u8, priority: u8, interval_centis: u16, addresses: Addresses) -> Result<Advert, AdvertError> {
        check_common(vrid, &addresses)?;
        if addresses.is_empty() {
            return Err(AdvertError::AddressCount);
        }
        if interval_centis == 0 || interval_centis > MAX_V3_INTERVAL {
            return Err(AdvertError::Interval);
        }
        Ok(Advert { version: Version::V3, vrid, priority, auth: Auth::None, interval: interval_centis, addresses })
    }

    /// Protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Virtual Router Identifier, 1..=255.
    pub fn vrid(&self) -> u8 {
        self.vrid
    }

    /// Sender's priority: 255 address owner, 0 master stopping, 1..=254 otherwise.
    pub fn priority(&self) -> u8 {
        self.priority
    }

    /// Authentication (always [`Auth::None`] for v3).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Advertisement interval in centiseconds (v2: the seconds field × 100).
    pub fn interval_centis(&self) -> u16 {
        self.interval
    }

    /// Advertisement interval.
    pub fn interval(&self) -> Duration {
        centis(self.interval)
    }

    /// The virtual router's addresses.
    pub fn addresses(&self) -> &Addresses {
        &self.addresses
    }

    /// The same advertisement with another priority (0 to announce a stop).
    pub fn with_priority(&self, priority: u8) -> Advert {
        Advert { priority, ..self.clone() }
    }

    /// Length of the VRRP message on the wire.
    pub fn wire_len(&self) -> usize {
        message_len(self.version, self.addresses.family(), self.addresses.len())
    }
}

fn check_common(vrid: u8, addresses: &Addresses) -> Result<(), AdvertError> {
    if vrid == 0 {
        return Err(AdvertError::Vrid);
    }
    if addresses.len() > usize::from(u8::MAX) {
        return Err(AdvertError::AddressCount);
    }
    Ok(())
}

fn message_len(version: Version, family: Family, count: usize) -> usize {
    let auth = if version == Version::V2 { AUTH_DATA_LEN } else { 0 };
    HEADER_LEN + count * family.address_len() + auth
}

/// What the IP layer says about a VRRP message, needed for its checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketContext {
    /// IP source address; its family is the packet's family.
    pub source: IpAddr,
    /// IP destination address (multicast group, or the unicast peer).
    pub destination: IpAddr,
    /// keepalived's `v3_checksum_as_v2`: for VRRPv3 over IPv4, compute the checksum without
    /// the pseudo-header (as some vendors read RFC 5798 §5.2.8). Ignored for v2 and IPv6.
    pub v3_checksum_as_v2: bool,
}

impl PacketContext {
    /// A context with the RFC checksum.
    pub fn new(source: IpAddr, destination: IpAddr) -> Self {
        PacketContext { source, destination, v3_checksum_as_v2: false }
    }
}

/// The Internet checksum (RFC 1071) of the concatenation of `parts`: the one's complement
/// of the one's complement sum of its 16-bit words (an odd last byte padded with zero).
///
/// Over data that includes a correct checksum field the result is 0.
pub fn internet_checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut high: Option<u8> = None;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        match high.take() {
            None => high = Some(*byte),
            Some(h) => sum += u32::from(u16::from_be_bytes([h, *byte])),
        }
        // Fold early so the sum never overflows whatever the input length.
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if let Some(h) = high {
        sum += u32::from(u16::from_be_bytes([h, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The v3 pseudo-header (RFC 5798 §5.2.8, RFC 8200 §8.1 for IPv6; the TCP/UDP-style IPv4
/// one for IPv4), or nothing when the checksum covers the message only.
fn pseudo_header(version: Version, ctx: &PacketContext, vrrp_len: usize) -> Vec<u8> {
    let len = u16::try_from(vrrp_len).unwrap_or(u16::MAX);
    match (version, ctx.source, ctx.destination) {
        (Version::V2, _, _) => Vec::new(),
        (Version::V3, IpAddr::V4(s), IpAddr::V4(d)) => {
            if ctx.v3_checksum_as_v2 {
                return Vec::new();
            }
            let mut p = Vec::with_capacity(12);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&[0, IP_PROTOCOL]);
            p.extend_from_slice(&len.to_be_bytes());
            p
        }
        (Version::V3, IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut p = Vec::with_capacity(40);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&u32::from(len).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, IP_PROTOCOL]);
            p
        }
        // Mixed families are refused before any checksum is computed.
        (Version::V3, _, _) => Vec::new(),
    }
}

/// Parse the VRRP message at the start of `bytes` (the IP payload).
///
/// Checks, in order: length of the fixed header ([`AdvertError::Short`]), version 2 or 3 and
/// not v2 over IPv6 ([`AdvertError::Version`]), source and destination of one family
/// ([`AdvertError::Family`]), the whole message present ([`AdvertError::Short`]), checksum
/// ([`AdvertError::Checksum`]), type 1 ([`AdvertError::Type`]), VRID not 0
/// ([`AdvertError::Vrid`]), v3 count not 0 ([`AdvertError::AddressCount`]), interval not 0
/// ([`AdvertError::Interval`]), v2 auth type 0 or 1 ([`AdvertError::Auth`]). The v3 reserved
/// bits and the v2 authentication data of type 0 are ignored. Never panics.
pub fn parse(bytes: &[u8], ctx: &PacketContext) -> Result<Advert, AdvertError> {
    let header: &[u8; HEADER_LEN] =
        bytes.get(..HEADER_LEN).and_then(|h| h.try_into().ok()).ok_or(AdvertError::Short)?;
    let [vt, vrid, priority, count, b4, b5, _, _] = *header;
    let family = Family::of(&ctx.source);
    let version = match vt >> 4 {
        2 if family == Family::V4 => Version::V2,
        3 => Version::V3,
        _ => return Err(AdvertError::Version),
    };
    if Family::of(&ctx.destination) != family {
        return Err(AdvertError::Family);
    }
    let len = message_len(version, family, usize::from(count));
    let message = bytes.get(..len).ok_or(AdvertError::Short)?;
    let pseudo = pseudo_header(version, ctx, len);
    if internet_checksum(&[&pseudo, message]) != 0 {
        return Err(AdvertError::Checksum);
    }
    if vt & 0x0f != TYPE_ADVERTISEMENT {
        return Err(AdvertError::Type);
    }
    if vrid == 0 {
        return Err(AdvertError::Vrid);
    }
    let addr_bytes = message.get(HEADER_LEN..HEADER_LEN + usize::from(count) * family.address_len()).unwrap_or(&[]);
    let addresses = match family {
        Family::V4 => Addresses::V4(
            addr_bytes.chunks_exact(4).filter_map(|c| <[u8; 4]>::try_from(c).ok()).map(Ipv4Addr::from).collect(),
        ),
        Family::V6 => Addresses::V6(
            addr_bytes.chunks_exact(16).filter_map(|c| <[u8; 16]>::try_from(c).ok()).map(Ipv6Addr::from).collect(),
        ),
    };
    match version {
        Version::V2 => {
            if b5 == 0 {
                return Err(AdvertError::Interval);
            }
            let auth = match b4 {
                0 => Auth::None,
                1 => {
                    let data = message
                        .get(len - AUTH_DATA_LEN..)
                        .and_then(|d| <[u8; AUTH_DATA_LEN]>::try_from(d).ok())
                        .ok_or(AdvertError::Short)?;
                    Auth::Pass(data)
                }
                _ => return Err(AdvertError::Auth),
            };
            Ok(Advert { version, vrid, priority, auth, interval: u16::from(b5) * 100, addresses })
        }
        Version::V3 => {
            if count == 0 {
                return Err(AdvertError::AddressCount);
            }
            let interval = u16::from_be_bytes([b4, b5]) & MAX_V3_INTERVAL;
            if interval == 0 {
                return Err(AdvertError::Interval);
            }
            Ok(Advert { version, vrid, priority, auth: Auth::None, interval, addresses })
        }
    }
}

/// The VRRP message for `advert`, checksum included (computed per version; for v3 with the
/// pseudo-header of `ctx`).
///
/// `ctx.source` and `ctx.destination` must be of the advertisement's family for the v3
/// checksum to verify at the receiver; v2 ignores them.
pub fn emit(advert: &Advert, ctx: &PacketContext) -> Vec<u8> {
    let len = advert.wire_len();
    let mut out = Vec::with_capacity(len);
    out.push((advert.version.number() << 4) | TYPE_ADVERTISEMENT);
    out.push(advert.vrid);
    out.push(advert.priority);
    out.push(u8::try_from(advert.addresses.len()).unwrap_or(u8::MAX));
    match advert.version {
        Version::V2 => {
            out.push(advert.auth.type_number());
            out.push(u8::try_from(advert.interval / 100).unwrap_or(u8::MAX));
        }
        Version::V3 => out.extend_from_slice(&(advert.interval & MAX_V3_INTERVAL).to_be_bytes()),
    }
    out.extend_from_slice(&[0, 0]);
    match &advert.addresses {
        Addresses::V4(v) => v.iter().take(255).for_each(|a| out.extend_from_slice(&a.octets())),
        Addresses::V6(v) => v.iter().take(255).for_each(|a| out.extend_from_slice(&a.octets())),
    }
    if advert.version == Version::V2 {
        match &advert.auth {
            Auth::None => out.extend_from_slice(&[0; AUTH_DATA_LEN]),
            Auth::Pass(data) => out.extend_from_slice(data),
        }
    }
    let pseudo = pseudo_header(advert.version, ctx, out.len());
    let sum = internet_checksum(&[&pseudo, &out]);
    if let Some(field) = out.get_mut(6..8) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
    out
}

/// Internal constructor for adverts built from a validated configuration.
pub(crate) fn advert_unchecked(
    version: Version,
    vrid: u8,
    priority: u8,
    auth: Auth,
    interval_centis: u16,
    addresses: Addresses,
) -> Advert {
    let auth = if version == Version::V2 { auth } else { Auth::None };
    Advert { version, vrid, priority, auth, interval: interval_centis, addresses }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_rfc1071_example() {
        // RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d.
        assert_eq!(internet_checksum(&[&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]]), 0x220d);
        // Split across parts, and an odd tail.
        assert_eq!(internet_checksum(&[&[0x00, 0x01, 0xf2], &[0x03, 0xf4, 0xf5, 0xf6, 0xf7]]), 0x220d);
        assert_eq!(internet_checksum(&[&[0xff]]), !0xff00);
        assert_eq!(internet_checksum(&[]), 0xffff);
    }

    #[test]
    fn constructors_enforce_ranges() {
        let a4 = vec![Ipv4Addr::new(10, 0, 0, 1)];
        assert_eq!(Advert::v2(0, 100, 1, Auth::None, a4.clone()), Err(AdvertError::Vrid));
        assert_eq!(Advert::v2(1, 100, 0, Auth::None, a4.clone()), Err(AdvertError::Interval));
        assert_eq!(Advert::v2(1, 100, 1, Auth::None, vec![Ipv4Addr::LOCALHOST; 256]), Err(AdvertError::AddressCount));
        assert!(Advert::v2(1, 100, 1, Auth::None, vec![]).is_ok());
        assert_eq!(Advert::v3(1, 100, 100, Addresses::V4(vec![])), Err(AdvertError::AddressCount));
        assert_eq!(Advert::v3(1, 100, 4096, Addresses::V4(a4.clone())), Err(AdvertError::Interval));
        assert_eq!(Advert::v3(1, 100, 0, Addresses::V4(a4.clone())), Err(AdvertError::Interval));
        assert!(Advert::v3(1, 100, 4095, Addresses::V4(a4)).is_ok());
    }

    #[test]
    fn auth_pass_truncates_and_pads() {
        assert_eq!(Auth::pass("1234"), Auth::Pass(*b"1234\0\0\0\0"));
        assert_eq!(Auth::pass("123456789"), Auth::Pass(*b"12345678"));
    }
}
