//! The receiver's checks against an instance's configuration, one drop reason at a time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs_vrrp::ip::{emit_ipv4, parse_ipv4};
use ipvs_vrrp::validate::{check, check_advert, check_ip, Findings};
use ipvs_vrrp::{
    emit, AddressMismatch, Addresses, Advert, AdvertError, Auth, InstanceConfig, IpMeta, PacketContext, Version,
    MULTICAST_V4, MULTICAST_V6,
};

const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn cfg(version: Version) -> InstanceConfig {
    InstanceConfig::new(version, 51, 100, IpAddr::V4(ME), Addresses::V4(vec![VIP]))
}

fn meta(source: Ipv4Addr, destination: Ipv4Addr, ttl: u8) -> IpMeta {
    IpMeta { source: IpAddr::V4(source), destination: IpAddr::V4(destination), ttl }
}

fn v2(prio: u8, addrs: Vec<Ipv4Addr>) -> Advert {
    Advert::v2(51, prio, 1, Auth::None, addrs).unwrap()
}

#[test]
fn ip_level_multicast() {
    let c = cfg(Version::V2);
    assert_eq!(check_ip(&c, &meta(PEER, MULTICAST_V4, 255)), Ok(()));
    assert_eq!(check_ip(&c, &meta(PEER, MULTICAST_V4, 254)), Err(AdvertError::Ttl));
    assert_eq!(check_ip(&c, &meta(PEER, MULTICAST_V4, 1)), Err(AdvertError::Ttl));
    assert_eq!(check_ip(&c, &meta(PEER, Ipv4Addr::new(224, 0, 0, 19), 255)), Err(AdvertError::Destination));
    assert_eq!(check_ip(&c, &meta(PEER, ME, 255)), Err(AdvertError::Destination));
    assert_eq!(check_ip(&c, &meta(ME, MULTICAST_V4, 255)), Err(AdvertError::Source)); // our own, looped
    assert_eq!(check_ip(&c, &meta(Ipv4Addr::UNSPECIFIED, MULTICAST_V4, 255)), Err(AdvertError::Source));
    assert_eq!(check_ip(&c, &meta(Ipv4Addr::BROADCAST, MULTICAST_V4, 255)), Err(AdvertError::Source));
    assert_eq!(check_ip(&c, &meta(Ipv4Addr::new(239, 1, 1, 1), MULTICAST_V4, 255)), Err(AdvertError::Source));
    let v6 = IpMeta { source: IpAddr::V6(Ipv6Addr::LOCALHOST), destination: IpAddr::V6(MULTICAST_V6), ttl: 255 };
    assert_eq!(check_ip(&c, &v6), Err(AdvertError::Family));
    let mut other_group = cfg(Version::V2);
    other_group.multicast_group = Some(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 19)));
    assert_eq!(check_ip(&other_group, &meta(PEER, Ipv4Addr::new(224, 0, 0, 19), 255)), Ok(()));
}

#[test]
fn ip_level_unicast() {
    let mut c = cfg(Version::V2);
    c.unicast_peers = vec![IpAddr::V4(PEER)];
    // keepalived does not check the TTL of unicast adverts.
    assert_eq!(check_ip(&c, &meta(PEER, ME, 61)), Ok(()));
    assert_eq!(check_ip(&c, &meta(Ipv4Addr::new(10, 0, 0, 3), ME, 255)), Err(AdvertError::Source));
    assert_eq!(check_ip(&c, &meta(PEER, MULTICAST_V4, 255)), Err(AdvertError::Destination));
}

#[test]
fn advert_level() {
    let c = cfg(Version::V2);
    assert_eq!(check_advert(&c, &v2(100, vec![VIP])), Ok(Findings::default()));
    let v3 = Advert::v3(51, 100, 100, Addresses::V4(vec![VIP])).unwrap();
    assert_eq!(check_advert(&c, &v3), Err(AdvertError::Version));
    assert_eq!(check_advert(&c, &Advert::v2(52, 100, 1, Auth::None, vec![VIP]).unwrap()), Err(AdvertError::Vrid));
    // v2: interval MUST match.
    assert_eq!(check_advert(&c, &Advert::v2(51, 100, 2, Auth::None, vec![VIP]).unwrap()), Err(AdvertError::Interval));
    // Authentication: type and password must match.
    let pass = |p: &str| Advert::v2(51, 100, 1, Auth::pass(p), vec![VIP]).unwrap();
    assert_eq!(check_advert(&c, &pass("secret")), Err(AdvertError::Auth));
    let mut with_pass = cfg(Version::V2);
    with_pass.auth = Auth::pass("secret");
    assert_eq!(check_advert(&with_pass, &pass("secret")), Ok(Findings::default()));
    assert_eq!(check_advert(&with_pass, &pass("secreT")), Err(AdvertError::Auth));
    assert_eq!(check_advert(&with_pass, &v2(100, vec![VIP])), Err(AdvertError::Auth));
}

#[test]
fn address_list_policy() {
    let other = Ipv4Addr::new(10, 0, 0, 200);
    let c = cfg(Version::V2);
    assert_eq!(check_advert(&c, &v2(100, vec![VIP, other])), Err(AdvertError::AddressCount));
    assert_eq!(check_advert(&c, &v2(100, vec![])), Err(AdvertError::AddressCount));
    assert_eq!(check_advert(&c, &v2(100, vec![other])), Err(AdvertError::AddressList));
    // The owner's adverts are processed despite a mismatch (RFC §7.1).
    let noted = Findings { address_mismatch: true, ..Findings::default() };
    assert_eq!(check_advert(&c, &v2(255, vec![other])), Ok(noted));
    // keepalived's behaviour: count and accept.
    let mut lenient = cfg(Version::V2);
    lenient.address_mismatch = AddressMismatch::Accept;
    assert_eq!(check_advert(&lenient, &v2(100, vec![other])), Ok(noted));
    // Order does not matter.
    let mut two = cfg(Version::V2);
    two.virtual_addresses = Addresses::V4(vec![VIP, other]);
    assert_eq!(check_advert(&two, &v2(100, vec![other, VIP])), Ok(Findings::default()));
}

#[test]
fn v3_interval_mismatch_is_reported_not_dropped() {
    let c = cfg(Version::V3);
    let a = Advert::v3(51, 100, 50, Addresses::V4(vec![VIP])).unwrap();
    assert_eq!(check_advert(&c, &a), Ok(Findings { interval_mismatch: true, ..Findings::default() }));
    let a6 = Advert::v3(51, 100, 100, Addresses::V6(vec![Ipv6Addr::LOCALHOST])).unwrap();
    assert_eq!(check_advert(&c, &a6), Err(AdvertError::Family));
}

#[test]
fn whole_packet() {
    let c = cfg(Version::V3);
    let a = Advert::v3(51, 120, 100, Addresses::V4(vec![VIP])).unwrap();
    let pkt = emit_ipv4(&a, PEER, MULTICAST_V4, false, 1);
    let (m, payload) = parse_ipv4(&pkt).unwrap();
    assert_eq!(check(&c, &m, payload), Ok((a.clone(), Findings::default())));
    // Sent with keepalived's v3_checksum_as_v2 but we expect the RFC checksum.
    let pkt = emit_ipv4(&a, PEER, MULTICAST_V4, true, 1);
    let (m, payload) = parse_ipv4(&pkt).unwrap();
    assert_eq!(check(&c, &m, payload), Err(AdvertError::Checksum));
    let mut compat = cfg(Version::V3);
    compat.v3_checksum_as_v2 = true;
    assert_eq!(check(&compat, &m, payload).map(|(a, _)| a.priority()), Ok(120));
    // IP checks come first.
    let bytes = emit(&a, &PacketContext::new(IpAddr::V4(PEER), IpAddr::V4(MULTICAST_V4)));
    assert_eq!(check(&c, &meta(PEER, MULTICAST_V4, 64), &bytes), Err(AdvertError::Ttl));
    assert_eq!(check(&c, &meta(PEER, MULTICAST_V4, 255), &bytes[..5]), Err(AdvertError::Short));
}
