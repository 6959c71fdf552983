//! Fuzz entry point for the advertisement parser.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::config::{AddressMismatch, InstanceConfig};
use super::ip::{parse_ipv4, IpMeta};
use super::packet::{emit, parse, Addresses, Auth, PacketContext, Version};
use super::state::{Event, Instance};
use super::time::Timestamp;
use super::{MULTICAST_V4, MULTICAST_V6};

/// Parse arbitrary bytes every way a receiver can: as a VRRP payload in v2 and v3 contexts
/// (IPv4 multicast and unicast, IPv4 with keepalived's `v3_checksum_as_v2`, IPv6), as a whole
/// IPv4 packet, and through the receive path of a v2 and a v3 instance.
///
/// Never panics on any input, except through the assertion that whatever parses emits back
/// to bytes that parse to the same advertisement (a failure is a bug in parse or emit).
pub fn fuzz_advert(data: &[u8]) {
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let v4_peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
    let v6 = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
    let contexts = [
        PacketContext::new(v4, IpAddr::V4(MULTICAST_V4)),
        PacketContext::new(v4, v4_peer),
        PacketContext { v3_checksum_as_v2: true, ..PacketContext::new(v4, IpAddr::V4(MULTICAST_V4)) },
        PacketContext::new(v6, IpAddr::V6(MULTICAST_V6)),
    ];
    for ctx in &contexts {
        if let Ok(advert) = parse(data, ctx) {
            let bytes = emit(&advert, ctx);
            assert_eq!(parse(&bytes, ctx).as_ref(), Ok(&advert), "emit/parse round trip");
        }
    }

    let ipv4 = parse_ipv4(data);
    let vips4 = Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 100)]);
    let vips6 = Addresses::V6(vec![Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)]);
    let peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
    let mut v2 = InstanceConfig::new(Version::V2, 1, 100, peer, vips4.clone());
    v2.auth = Auth::pass("secret");
    let mut v3 = InstanceConfig::new(Version::V3, 1, 100, peer, vips4);
    v3.address_mismatch = AddressMismatch::Accept;
    let v3_6 = InstanceConfig::new(Version::V3, 1, 100, IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 9)), vips6);
    let metas = [
        IpMeta { source: v4, destination: IpAddr::V4(MULTICAST_V4), ttl: 255 },
        IpMeta { source: v6, destination: IpAddr::V6(MULTICAST_V6), ttl: 255 },
    ];
    for cfg in [v2, v3, v3_6] {
        let Ok(mut instance) = Instance::new(cfg) else { continue };
        let _ = instance.handle(Timestamp::ZERO, Event::Startup);
        let now = Timestamp::from_millis(10);
        for meta in &metas {
            let _ = instance.receive(now, meta, data);
        }
        if let Ok((meta, payload)) = ipv4 {
            let _ = instance.receive(now, &meta, payload);
        }
    }
}
