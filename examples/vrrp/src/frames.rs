//! The announcements of a new master, as bytes: a gratuitous ARP frame for each IPv4
//! virtual address and an unsolicited neighbour advertisement for each IPv6 one. Building
//! them is pure; the caller sends them (an `AF_PACKET` socket, an ICMPv6 socket).

use std::net::{Ipv4Addr, Ipv6Addr};

/// A gratuitous ARP request for `vip` from `mac` (RFC 5227 §3 style: sender and target
/// protocol address both the VIP, broadcast).
pub fn garp_frame(mac: &[u8; 6], vip: Ipv4Addr) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(mac);
    f.extend_from_slice(&[0x08, 0x06]); // ARP
    f.extend_from_slice(&[0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]); // Ethernet/IPv4, request
    f.extend_from_slice(mac);
    f.extend_from_slice(&vip.octets());
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&vip.octets());
    f
}

/// An unsolicited neighbour advertisement for `vip` (ICMPv6 type 136, router and override
/// flags, the target link-layer address option). The kernel fills the checksum in.
pub fn unsolicited_na(mac: &[u8], vip: Ipv6Addr) -> Vec<u8> {
    let mut m = vec![136, 0, 0, 0, 0xa0, 0, 0, 0];
    m.extend_from_slice(&vip.octets());
    if !mac.is_empty() {
        let len = (2 + mac.len()).div_ceil(8);
        m.push(2);
        m.push(len as u8);
        m.extend_from_slice(mac);
        m.resize(24 + len * 8, 0);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garp_is_a_broadcast_arp_request_for_the_vip() {
        let f = garp_frame(&[2, 0, 0, 0, 0, 1], Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!(f.len(), 42);
        assert_eq!(&f[..6], &[0xff; 6]);
        assert_eq!(&f[12..14], &[8, 6]);
        assert_eq!(&f[20..22], &[0, 1]); // request
        assert_eq!(&f[28..32], &[192, 0, 2, 100]);
        assert_eq!(&f[38..42], &[192, 0, 2, 100]);
    }

    #[test]
    fn na_carries_the_target_and_its_link_layer_address() {
        let vip: Ipv6Addr = "2001:db8::100".parse().unwrap();
        let m = unsolicited_na(&[2, 0, 0, 0, 0, 1], vip);
        assert_eq!(m.len(), 32);
        assert_eq!((m[0], m[4]), (136, 0xa0));
        assert_eq!(&m[8..24], &vip.octets());
        assert_eq!(&m[24..26], &[2, 1]);
        assert_eq!(&m[26..32], &[2, 0, 0, 0, 0, 1]);
        assert_eq!(unsolicited_na(&[], vip).len(), 24);
    }
}
