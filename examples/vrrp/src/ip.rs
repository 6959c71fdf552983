//! The IP layer around an advertisement.
//!
//! A raw IPv4 socket (protocol 112) delivers the IPv4 header with the payload:
//! [`parse_ipv4`] splits it and checks it. A raw IPv6 socket delivers the payload only; the
//! hop limit and destination come from ancillary data (`IPV6_HOPLIMIT`, `IPV6_PKTINFO`), so
//! the caller fills [`IpMeta`] itself. Sending over IPv4 with `IP_HDRINCL` (as keepalived
//! does) can use [`emit_ipv4`].

use std::net::{IpAddr, Ipv4Addr};

use super::error::AdvertError;
use super::packet::{emit, internet_checksum, Advert, PacketContext};
use super::{IP_PROTOCOL, TTL};

/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Type of service keepalived sets on adverts (precedence "internetwork control").
pub const IPV4_TOS: u8 = 0xc0;

/// What the receiver knows of the IP packet that carried an advertisement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpMeta {
    /// Source address: the sender's primary address, used for the equal-priority tie-break.
    pub source: IpAddr,
    /// Destination address.
    pub destination: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
}

impl IpMeta {
    /// The checksum context of this packet.
    pub fn context(&self, v3_checksum_as_v2: bool) -> PacketContext {
        PacketContext { source: self.source, destination: self.destination, v3_checksum_as_v2 }
    }
}

/// Split a whole IPv4 packet into what the receiver needs and the VRRP payload (up to the
/// header's total length; anything after it, such as padding, is dropped).
///
/// Errors: [`AdvertError::Short`] if truncated, [`AdvertError::IpHeader`] if not IPv4, the
/// header length or checksum is wrong, it is a fragment, or the protocol is not 112 (so IPsec
/// AH, protocol 51, is refused).
pub fn parse_ipv4(bytes: &[u8]) -> Result<(IpMeta, &[u8]), AdvertError> {
    let fixed: &[u8; IPV4_HEADER_LEN] =
        bytes.get(..IPV4_HEADER_LEN).and_then(|h| h.try_into().ok()).ok_or(AdvertError::Short)?;
    if fixed[0] >> 4 != 4 {
        return Err(AdvertError::IpHeader);
    }
    let ihl = usize::from(fixed[0] & 0x0f) * 4;
    if ihl < IPV4_HEADER_LEN {
        return Err(AdvertError::IpHeader);
    }
    let header = bytes.get(..ihl).ok_or(AdvertError::Short)?;
    let total = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
    if total < ihl {
        return Err(AdvertError::IpHeader);
    }
    let packet = bytes.get(..total).ok_or(AdvertError::Short)?;
    let fragment = u16::from_be_bytes([fixed[6], fixed[7]]) & 0x3fff; // MF flag and offset
    if fragment != 0 || fixed[9] != IP_PROTOCOL || internet_checksum(&[header]) != 0 {
        return Err(AdvertError::IpHeader);
    }
    let meta = IpMeta {
        source: IpAddr::V4(Ipv4Addr::new(fixed[12], fixed[13], fixed[14], fixed[15])),
        destination: IpAddr::V4(Ipv4Addr::new(fixed[16], fixed[17], fixed[18], fixed[19])),
        ttl: fixed[8],
    };
    Ok((meta, packet.get(ihl..).unwrap_or(&[])))
}

/// A whole IPv4 packet carrying `advert`: header without options, TOS 0xc0, TTL 255,
/// protocol 112, the given identification, header checksum, then [`emit`]'s message.
pub fn emit_ipv4(
    advert: &Advert,
    source: Ipv4Addr,
    destination: Ipv4Addr,
    v3_checksum_as_v2: bool,
    identification: u16,
) -> Vec<u8> {
    let ctx = PacketContext { source: IpAddr::V4(source), destination: IpAddr::V4(destination), v3_checksum_as_v2 };
    let vrrp = emit(advert, &ctx);
    let total = u16::try_from(IPV4_HEADER_LEN + vrrp.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(usize::from(total));
    out.extend_from_slice(&[0x45, IPV4_TOS]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&identification.to_be_bytes());
    out.extend_from_slice(&[0, 0, TTL, IP_PROTOCOL, 0, 0]);
    out.extend_from_slice(&source.octets());
    out.extend_from_slice(&destination.octets());
    let sum = internet_checksum(&[&out]);
    if let Some(field) = out.get_mut(10..12) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
    out.extend_from_slice(&vrrp);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{parse, Auth};
    use crate::MULTICAST_V4;

    #[test]
    fn round_trip_and_errors() {
        let a = Advert::v2(51, 100, 1, Auth::None, vec![Ipv4Addr::new(192, 168, 0, 10)]).unwrap();
        let src = Ipv4Addr::new(192, 168, 0, 1);
        let mut pkt = emit_ipv4(&a, src, MULTICAST_V4, false, 7);
        let (meta, payload) = parse_ipv4(&pkt).unwrap();
        assert_eq!(meta, IpMeta { source: IpAddr::V4(src), destination: IpAddr::V4(MULTICAST_V4), ttl: 255 });
        assert_eq!(parse(payload, &meta.context(false)).unwrap(), a);
        // Ethernet padding after the total length is cut off.
        pkt.extend_from_slice(&[0; 6]);
        assert_eq!(parse_ipv4(&pkt).unwrap().1.len(), a.wire_len());
        assert_eq!(parse_ipv4(&pkt[..19]), Err(AdvertError::Short));
        assert_eq!(parse_ipv4(&pkt[..30]), Err(AdvertError::Short));
        let mut bad = pkt.clone();
        bad[9] = 51; // AH
        assert_eq!(parse_ipv4(&bad), Err(AdvertError::IpHeader));
        let mut bad = pkt.clone();
        bad[0] = 0x44; // IHL 16
        assert_eq!(parse_ipv4(&bad), Err(AdvertError::IpHeader));
        let mut bad = pkt.clone();
        bad[6] = 0x20; // more fragments
        assert_eq!(parse_ipv4(&bad), Err(AdvertError::IpHeader));
        let mut bad = pkt;
        bad[8] = 254; // TTL changed without fixing the header checksum
        assert_eq!(parse_ipv4(&bad), Err(AdvertError::IpHeader));
    }
}
