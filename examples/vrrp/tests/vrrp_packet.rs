//! Advertisement wire format: byte-exact packets with hand-computed checksums, every parse
//! error, round trips and robustness as properties.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs_vrrp::packet::internet_checksum;
use ipvs_vrrp::{
    emit, fuzz_advert, parse, Addresses, Advert, AdvertError, Auth, PacketContext, Version, MULTICAST_V4, MULTICAST_V6,
};
use proptest::prelude::*;

/// Property-test cases: `n` scaled by `IPVS_PROPTEST_CASES` (as the workspace's other tests).
fn cases(n: u32) -> ProptestConfig {
    let scale: f64 = std::env::var("IPVS_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0);
    ProptestConfig { cases: ((f64::from(n) * scale) as u32).max(1), failure_persistence: None, ..Default::default() }
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn mcast4(src: Ipv4Addr) -> PacketContext {
    PacketContext::new(IpAddr::V4(src), IpAddr::V4(MULTICAST_V4))
}

fn mcast6() -> PacketContext {
    PacketContext::new(IpAddr::V6("fe80::1".parse().unwrap()), IpAddr::V6(MULTICAST_V6))
}

/// Recompute the checksum of a hand-altered message, the way `ctx` says.
fn fix_checksum(bytes: &mut [u8], ctx: &PacketContext) {
    bytes[6] = 0;
    bytes[7] = 0;
    let len = bytes.len() as u16;
    let mut pseudo = Vec::new();
    if bytes[0] >> 4 == 3 {
        match (ctx.source, ctx.destination) {
            (IpAddr::V4(s), IpAddr::V4(d)) if !ctx.v3_checksum_as_v2 => {
                pseudo.extend_from_slice(&s.octets());
                pseudo.extend_from_slice(&d.octets());
                pseudo.extend_from_slice(&[0, 112]);
                pseudo.extend_from_slice(&len.to_be_bytes());
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                pseudo.extend_from_slice(&s.octets());
                pseudo.extend_from_slice(&d.octets());
                pseudo.extend_from_slice(&u32::from(len).to_be_bytes());
                pseudo.extend_from_slice(&[0, 0, 0, 112]);
            }
            _ => {}
        }
    }
    let sum = internet_checksum(&[&pseudo, bytes]);
    bytes[6..8].copy_from_slice(&sum.to_be_bytes());
}

// v2, VRID 51, priority 100, one address 192.168.0.10, no auth, 1 s. Checksum by hand:
// 0x2133 + 0x6401 + 0x0001 + 0xc0a8 + 0x000a (+ zeros) = 0x145e7, folded 0x45e8,
// one's complement 0xba17.
const V2_PLAIN: &str = "21 33 64 01 00 01 ba17 c0a8000a 0000000000000000";

#[test]
fn v2_byte_exact() {
    let a = Advert::v2(51, 100, 1, Auth::None, vec![v4(192, 168, 0, 10)]).unwrap();
    let ctx = mcast4(v4(192, 168, 0, 1));
    assert_eq!(emit(&a, &ctx), hex(V2_PLAIN));
    assert_eq!(parse(&hex(V2_PLAIN), &ctx), Ok(a.clone()));
    // v2 ignores the IP addresses: same bytes whatever the destination.
    assert_eq!(emit(&a, &PacketContext::new(IpAddr::V4(v4(1, 2, 3, 4)), IpAddr::V4(v4(5, 6, 7, 8)))), hex(V2_PLAIN));
    assert_eq!(a.wire_len(), 20);
    assert_eq!(a.interval_centis(), 100);
}

#[test]
fn v2_third_party_vector() {
    // The same bytes as dpkt's VRRP test vector: VRID 1, priority 100, 192.168.0.1, 0xba52.
    let bytes = hex("21 01 64 01 00 01 ba52 c0a80001 0000000000000000");
    let a = parse(&bytes, &mcast4(v4(192, 168, 0, 2))).unwrap();
    assert_eq!(a, Advert::v2(1, 100, 1, Auth::None, vec![v4(192, 168, 0, 1)]).unwrap());
    assert_eq!(emit(&a, &mcast4(v4(192, 168, 0, 2))), bytes);
}

#[test]
fn v2_password() {
    // VRID 1, priority 150, two addresses, auth type 1 "secret" (keepalived auth_pass), 1 s.
    let bytes = hex("21 01 96 02 01 01 f6e5 0a000064 0a000065 7365637265740000");
    let a = Advert::v2(1, 150, 1, Auth::pass("secret"), vec![v4(10, 0, 0, 100), v4(10, 0, 0, 101)]).unwrap();
    let ctx = mcast4(v4(10, 0, 0, 1));
    assert_eq!(emit(&a, &ctx), bytes);
    assert_eq!(parse(&bytes, &ctx), Ok(a));
}

#[test]
fn v2_auth_data_ignored_without_auth() {
    let ctx = mcast4(v4(192, 168, 0, 1));
    let mut bytes = hex(V2_PLAIN);
    bytes[12..20].copy_from_slice(b"garbage!");
    fix_checksum(&mut bytes, &ctx);
    let a = parse(&bytes, &ctx).unwrap();
    assert_eq!(a.auth(), &Auth::None);
    assert_eq!(emit(&a, &ctx), hex(V2_PLAIN));
}

// v3 over IPv4, 192.168.0.1 -> 224.0.0.18, VRID 51, priority 100, 100 cs, 192.168.0.10.
// Pseudo-header words c0a8 0001 e000 0012 0070 000c sum to 0x1a137; the message words
// 3133 6401 0064 c0a8 000a to 0x1564a; total 0x2f781 -> 0xf783; complement 0x087c.
const V3_V4_MCAST: &str = "31 33 64 01 0064 087c c0a8000a";

#[test]
fn v3_ipv4_with_pseudo_header() {
    let a = Advert::v3(51, 100, 100, Addresses::V4(vec![v4(192, 168, 0, 10)])).unwrap();
    let ctx = mcast4(v4(192, 168, 0, 1));
    assert_eq!(emit(&a, &ctx), hex(V3_V4_MCAST));
    assert_eq!(parse(&hex(V3_V4_MCAST), &ctx), Ok(a.clone()));
    // Unicast: the real destination is in the pseudo-header (keepalived since 1.3.6).
    let uni = PacketContext::new(IpAddr::V4(v4(192, 168, 0, 1)), IpAddr::V4(v4(192, 168, 0, 2)));
    assert_eq!(emit(&a, &uni), hex("31 33 64 01 0064 27e4 c0a8000a"));
    assert_eq!(parse(&hex(V3_V4_MCAST), &uni), Err(AdvertError::Checksum));
    // keepalived v3_checksum_as_v2: no pseudo-header.
    let as_v2 = PacketContext { v3_checksum_as_v2: true, ..ctx };
    assert_eq!(emit(&a, &as_v2), hex("31 33 64 01 0064 a9b4 c0a8000a"));
    assert_eq!(parse(&hex("31 33 64 01 0064 a9b4 c0a8000a"), &as_v2), Ok(a));
    assert_eq!(parse(&hex(V3_V4_MCAST), &as_v2), Err(AdvertError::Checksum));
    assert_eq!(parse(&hex("31 33 64 01 0064 a9b4 c0a8000a"), &ctx), Err(AdvertError::Checksum));
}

#[test]
fn v3_ipv6() {
    // fe80::1 -> ff02::12, VRID 1, priority 200, 100 cs, 2001:db8::100.
    let bytes = hex("31 01 c8 01 0064 d9c0 20010db8000000000000000000000100");
    let a = Advert::v3(1, 200, 100, Addresses::V6(vec!["2001:db8::100".parse().unwrap()])).unwrap();
    assert_eq!(emit(&a, &mcast6()), bytes);
    assert_eq!(parse(&bytes, &mcast6()), Ok(a));
}

#[test]
fn v3_reserved_bits_ignored_and_trailing_bytes_ignored() {
    let ctx = mcast4(v4(192, 168, 0, 1));
    let mut bytes = hex(V3_V4_MCAST);
    bytes[4] |= 0xf0;
    fix_checksum(&mut bytes, &ctx);
    let a = parse(&bytes, &ctx).unwrap();
    assert_eq!(a.interval_centis(), 100);
    assert_eq!(emit(&a, &ctx), hex(V3_V4_MCAST));
    let mut padded = hex(V2_PLAIN);
    padded.extend_from_slice(&[0xaa; 26]); // Ethernet padding is not part of the message
    assert!(parse(&padded, &ctx).is_ok());
}

#[test]
fn every_parse_error() {
    let ctx = mcast4(v4(192, 168, 0, 1));
    let check =
        |bytes: Vec<u8>, ctx: &PacketContext, e: AdvertError| assert_eq!(parse(&bytes, ctx), Err(e), "{bytes:02x?}");
    let altered = |f: &dyn Fn(&mut Vec<u8>), base: &str, ctx: &PacketContext| {
        let mut b = hex(base);
        f(&mut b);
        fix_checksum(&mut b, ctx);
        b
    };
    check(vec![], &ctx, AdvertError::Short);
    check(hex("21 33 64 01 00 01 ba"), &ctx, AdvertError::Short);
    check(hex(V2_PLAIN)[..19].to_vec(), &ctx, AdvertError::Short); // auth data cut
    check(hex(V3_V4_MCAST)[..11].to_vec(), &ctx, AdvertError::Short); // address cut
    check(altered(&|b| b[3] = 2, V2_PLAIN, &ctx), &ctx, AdvertError::Short); // count says 2
    check(altered(&|b| b[0] = 0x11, V2_PLAIN, &ctx), &ctx, AdvertError::Version);
    check(altered(&|b| b[0] = 0x41, V2_PLAIN, &ctx), &ctx, AdvertError::Version);
    check(hex(V2_PLAIN), &mcast6(), AdvertError::Version); // v2 over IPv6
    check(altered(&|b| b[0] = 0x22, V2_PLAIN, &ctx), &ctx, AdvertError::Type);
    check(altered(&|b| b[0] = 0x30, V3_V4_MCAST, &ctx), &ctx, AdvertError::Type);
    let mut bad = hex(V2_PLAIN);
    bad[7] ^= 1;
    check(bad, &ctx, AdvertError::Checksum);
    check(altered(&|b| b[1] = 0, V2_PLAIN, &ctx), &ctx, AdvertError::Vrid);
    check(altered(&|b| b[5] = 0, V2_PLAIN, &ctx), &ctx, AdvertError::Interval);
    check(altered(&|b| b[4..6].copy_from_slice(&[0xf0, 0]), V3_V4_MCAST, &ctx), &ctx, AdvertError::Interval); // reserved bits only
    check(altered(&|b| b[4] = 2, V2_PLAIN, &ctx), &ctx, AdvertError::Auth); // IPsec AH
    check(altered(&|b| b[4] = 9, V2_PLAIN, &ctx), &ctx, AdvertError::Auth);
    check(altered(&|b| b.truncate(8), "31 33 64 00 0064 0000 c0a8000a", &ctx), &ctx, AdvertError::AddressCount);
    let mixed = PacketContext::new(IpAddr::V4(v4(192, 168, 0, 1)), IpAddr::V6(MULTICAST_V6));
    check(hex(V3_V4_MCAST), &mixed, AdvertError::Family);
}

fn arb_v4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn arb_v6() -> impl Strategy<Value = Ipv6Addr> {
    any::<u128>().prop_map(Ipv6Addr::from)
}

fn arb_auth() -> impl Strategy<Value = Auth> {
    prop_oneof![Just(Auth::None), any::<[u8; 8]>().prop_map(Auth::Pass)]
}

/// Any valid advertisement, with a context of its family.
fn arb_advert() -> impl Strategy<Value = (Advert, PacketContext)> {
    let v2 =
        (1u8..=255, any::<u8>(), 1u8..=255, arb_auth(), prop::collection::vec(arb_v4(), 0..20), arb_v4(), arb_v4())
            .prop_map(|(vrid, prio, int, auth, addrs, s, d)| {
                (Advert::v2(vrid, prio, int, auth, addrs).unwrap(), PacketContext::new(IpAddr::V4(s), IpAddr::V4(d)))
            });
    let v3_4 = (
        1u8..=255,
        any::<u8>(),
        1u16..=4095,
        prop::collection::vec(arb_v4(), 1..20),
        arb_v4(),
        arb_v4(),
        any::<bool>(),
    )
        .prop_map(|(vrid, prio, int, addrs, s, d, as_v2)| {
            let ctx = PacketContext { source: IpAddr::V4(s), destination: IpAddr::V4(d), v3_checksum_as_v2: as_v2 };
            (Advert::v3(vrid, prio, int, Addresses::V4(addrs)).unwrap(), ctx)
        });
    let v3_6 = (1u8..=255, any::<u8>(), 1u16..=4095, prop::collection::vec(arb_v6(), 1..10), arb_v6(), arb_v6())
        .prop_map(|(vrid, prio, int, addrs, s, d)| {
            (
                Advert::v3(vrid, prio, int, Addresses::V6(addrs)).unwrap(),
                PacketContext::new(IpAddr::V6(s), IpAddr::V6(d)),
            )
        });
    prop_oneof![v2, v3_4, v3_6]
}

fn arb_ctx() -> impl Strategy<Value = PacketContext> {
    prop_oneof![
        (arb_v4(), arb_v4(), any::<bool>()).prop_map(|(s, d, x)| PacketContext {
            source: IpAddr::V4(s),
            destination: IpAddr::V4(d),
            v3_checksum_as_v2: x
        }),
        (arb_v6(), arb_v6()).prop_map(|(s, d)| PacketContext::new(IpAddr::V6(s), IpAddr::V6(d))),
    ]
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn round_trip((advert, ctx) in arb_advert()) {
        let bytes = emit(&advert, &ctx);
        prop_assert_eq!(bytes.len(), advert.wire_len());
        // v2, and v3 over IPv4 with v3_checksum_as_v2, checksum the message alone.
        if advert.version() == Version::V2 || (ctx.v3_checksum_as_v2 && matches!(ctx.source, IpAddr::V4(_))) {
            prop_assert_eq!(internet_checksum(&[&bytes]), 0);
        }
        prop_assert_eq!(parse(&bytes, &ctx), Ok(advert.clone()));
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0x55; 7]);
        prop_assert_eq!(parse(&padded, &ctx), Ok(advert));
    }

    #[test]
    fn any_single_bit_flip_is_caught((advert, ctx) in arb_advert(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = emit(&advert, &ctx);
        // Not the version/type byte nor the count (they change the layout); everything else
        // is covered by the checksum and a single-bit change always alters the sum.
        let candidates: Vec<usize> = (0..bytes.len()).filter(|i| *i != 0 && *i != 3).collect();
        let i = candidates[pos.index(candidates.len())];
        bytes[i] ^= 1 << bit;
        prop_assert_eq!(parse(&bytes, &ctx), Err(AdvertError::Checksum));
    }

    #[test]
    fn truncation_is_short((advert, ctx) in arb_advert(), cut in any::<prop::sample::Index>()) {
        let bytes = emit(&advert, &ctx);
        let n = cut.index(bytes.len());
        prop_assert_eq!(parse(&bytes[..n], &ctx), Err(AdvertError::Short));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600), ctx in arb_ctx()) {
        let _ = parse(&data, &ctx);
        fuzz_advert(&data);
    }

    #[test]
    fn mutated_adverts_never_panic((advert, ctx) in arb_advert(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = emit(&advert, &ctx);
        for (i, v) in edits {
            let i = i.index(bytes.len());
            bytes[i] = v;
        }
        let _ = parse(&bytes, &ctx);
        fuzz_advert(&bytes);
    }
}
