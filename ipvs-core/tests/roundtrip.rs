//! Property tests of the wire codec: every generated message survives encode -> decode
//! unchanged, every generated model value survives model -> request -> bytes -> model, and no
//! byte string makes the decoder panic. About 1.2 million generated cases in all
//! (`IPVS_PROPTEST_CASES` scales them).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs::wire::frame::{self, Payload};
use ipvs::wire::{self, DaemonAttr, DefaultNla, DestAttr, IpvsAttr, IpvsCmd, IpvsMessage, ServiceAttr, StatsAttr};
use ipvs::{
    Daemon, DaemonState, Destination, Family, Forward, Netmask, PersistenceEngine, Protocol, Request, Scheduler,
    Service, ServiceFlags, ServiceId, Tunnel, TunnelFlags,
};
use proptest::prelude::*;

fn cases(n: u32) -> ProptestConfig {
    let scale: f64 = std::env::var("IPVS_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    ProptestConfig {
        cases: ((n as f64) * scale).max(1.0) as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::char::range('a', 'z'), 1..=15).prop_map(String::from_iter)
}

fn other(kinds: std::ops::Range<u16>) -> impl Strategy<Value = DefaultNla> {
    (kinds, prop::collection::vec(any::<u8>(), 0..24)).prop_map(|(k, v)| DefaultNla::new(k, v))
}

fn stats_attr() -> impl Strategy<Value = StatsAttr> {
    prop_oneof![
        (1u16..=10, any::<u32>()).prop_map(|(k, v)| StatsAttr::U32(k, v)),
        (1u16..=10, any::<u64>()).prop_map(|(k, v)| StatsAttr::U64(k, v)),
        other(11..40).prop_map(StatsAttr::Other),
    ]
}

fn stats() -> impl Strategy<Value = Vec<StatsAttr>> {
    prop::collection::vec(stats_attr(), 0..12)
}

fn service_attr() -> impl Strategy<Value = ServiceAttr> {
    prop_oneof![
        any::<u16>().prop_map(ServiceAttr::Af),
        any::<u16>().prop_map(ServiceAttr::Protocol),
        any::<[u8; 16]>().prop_map(ServiceAttr::Addr),
        any::<u16>().prop_map(ServiceAttr::Port),
        any::<u32>().prop_map(ServiceAttr::Fwmark),
        name().prop_map(|n| ServiceAttr::SchedName(n.into())),
        (any::<u32>(), any::<u32>()).prop_map(|(flags, mask)| ServiceAttr::Flags { flags, mask }),
        any::<u32>().prop_map(ServiceAttr::Timeout),
        any::<u32>().prop_map(ServiceAttr::Netmask),
        stats().prop_map(ServiceAttr::Stats),
        name().prop_map(|n| ServiceAttr::PeName(n.into())),
        stats().prop_map(ServiceAttr::Stats64),
        other(13..200).prop_map(ServiceAttr::Other),
    ]
}

fn dest_attr() -> impl Strategy<Value = DestAttr> {
    prop_oneof![
        any::<[u8; 16]>().prop_map(DestAttr::Addr),
        any::<u16>().prop_map(DestAttr::Port),
        any::<u32>().prop_map(DestAttr::FwdMethod),
        any::<u32>().prop_map(DestAttr::Weight),
        any::<u32>().prop_map(DestAttr::UpperThreshold),
        any::<u32>().prop_map(DestAttr::LowerThreshold),
        any::<u32>().prop_map(DestAttr::ActiveConns),
        any::<u32>().prop_map(DestAttr::InactiveConns),
        any::<u32>().prop_map(DestAttr::PersistConns),
        stats().prop_map(DestAttr::Stats),
        any::<u16>().prop_map(DestAttr::AddrFamily),
        stats().prop_map(DestAttr::Stats64),
        any::<u8>().prop_map(DestAttr::TunType),
        any::<u16>().prop_map(DestAttr::TunPort),
        any::<u16>().prop_map(DestAttr::TunFlags),
        other(16..200).prop_map(DestAttr::Other),
    ]
}

fn daemon_attr() -> impl Strategy<Value = DaemonAttr> {
    prop_oneof![
        any::<u32>().prop_map(DaemonAttr::State),
        name().prop_map(DaemonAttr::McastIfn),
        any::<u32>().prop_map(DaemonAttr::SyncId),
        any::<u16>().prop_map(DaemonAttr::SyncMaxlen),
        any::<[u8; 4]>().prop_map(DaemonAttr::McastGroup),
        any::<[u8; 16]>().prop_map(DaemonAttr::McastGroup6),
        any::<u16>().prop_map(DaemonAttr::McastPort),
        any::<u8>().prop_map(DaemonAttr::McastTtl),
        other(9..200).prop_map(DaemonAttr::Other),
    ]
}

fn command() -> impl Strategy<Value = IpvsCmd> {
    (1u8..=17)
        .prop_filter("info commands carry info attributes", |n| *n != 14 && *n != 15)
        .prop_map(IpvsCmd::from_number)
}

fn message() -> impl Strategy<Value = IpvsMessage> {
    let attr = prop_oneof![
        prop::collection::vec(service_attr(), 0..10).prop_map(IpvsAttr::Service),
        prop::collection::vec(dest_attr(), 0..10).prop_map(IpvsAttr::Dest),
        prop::collection::vec(daemon_attr(), 0..8).prop_map(IpvsAttr::Daemon),
        any::<u32>().prop_map(IpvsAttr::TimeoutTcp),
        any::<u32>().prop_map(IpvsAttr::TimeoutTcpFin),
        any::<u32>().prop_map(IpvsAttr::TimeoutUdp),
        other(7..300).prop_map(IpvsAttr::Other),
    ];
    (command(), prop::collection::vec(attr, 0..4)).prop_map(|(cmd, attrs)| IpvsMessage { cmd, attrs })
}

fn info_message() -> impl Strategy<Value = IpvsMessage> {
    let attr = prop_oneof![
        any::<u32>().prop_map(IpvsAttr::InfoVersion),
        any::<u32>().prop_map(IpvsAttr::InfoConnTabSize),
        other(3..300).prop_map(IpvsAttr::Other),
    ];
    (prop_oneof![Just(IpvsCmd::SetInfo), Just(IpvsCmd::GetInfo)], prop::collection::vec(attr, 0..4))
        .prop_map(|(cmd, attrs)| IpvsMessage { cmd, attrs })
}

fn addr(family: Family) -> BoxedStrategy<IpAddr> {
    match family {
        Family::Inet => any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))).boxed(),
        Family::Inet6 => any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))).boxed(),
    }
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::Inet), Just(Family::Inet6)]
}

fn scheduler() -> impl Strategy<Value = Scheduler> {
    prop_oneof![
        prop::sample::select(Scheduler::known().collect::<Vec<_>>()),
        name().prop_map(|n| Scheduler::from_name(&n))
    ]
}

fn service() -> impl Strategy<Value = Service> {
    family()
        .prop_flat_map(|fam| {
            let id = prop_oneof![
                (prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp), Just(Protocol::Sctp)], addr(fam), any::<u16>())
                    .prop_map(|(protocol, addr, port)| ServiceId::Inet { protocol, addr, port }),
                any::<u32>().prop_map(move |mark| ServiceId::Fwmark { mark, family: fam }),
            ];
            let mask = match fam {
                Family::Inet => any::<[u8; 4]>().prop_map(|b| Netmask::V4(b.into())).boxed(),
                Family::Inet6 => any::<u8>().prop_map(Netmask::Prefix).boxed(),
            };
            (id, scheduler(), any::<u32>(), any::<u32>(), mask, prop::option::of(name()))
        })
        .prop_map(|(id, sched, flags, timeout, netmask, pe)| {
            let mut s = Service::new(id, sched);
            s.flags = ServiceFlags::from_bits_retain(flags) - ServiceFlags::HASHED;
            s.timeout = timeout;
            s.netmask = netmask;
            s.persistence_engine = pe.map(|p| PersistenceEngine::from_name(&p));
            s
        })
}

fn forward() -> impl Strategy<Value = Forward> {
    let flags = any::<u16>().prop_map(TunnelFlags::from_bits_retain);
    prop_oneof![
        Just(Forward::Masquerade),
        Just(Forward::Local),
        Just(Forward::DirectRoute),
        Just(Forward::Bypass),
        Just(Forward::Tunnel(Tunnel::Ipip)),
        (any::<u16>(), flags.clone()).prop_map(|(port, flags)| Forward::Tunnel(Tunnel::Gue { port, flags })),
        flags.prop_map(|flags| Forward::Tunnel(Tunnel::Gre { flags })),
        (5u32..8).prop_map(Forward::Other),
    ]
}

fn destination() -> impl Strategy<Value = Destination> {
    (family().prop_flat_map(addr), any::<u16>(), forward(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
        |(ip, port, fwd, w, u, l)| {
            Destination::new(SocketAddr::new(ip, port), fwd).with_weight(w).with_thresholds(u, l)
        },
    )
}

fn roundtrip(msg: &IpvsMessage) -> IpvsMessage {
    let mut bytes = Vec::new();
    frame::encode(msg, 0x1d, 42, frame::REQUEST_ACK, &mut bytes).expect("encodes");
    let frames = frame::decode_all(&bytes).expect("decodes");
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].seq, 42);
    match &frames[0].payload {
        Payload::Ipvs(m) => m.clone(),
        other => panic!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(cases(300_000))]
    #[test]
    fn any_message_round_trips(msg in message()) {
        prop_assert_eq!(roundtrip(&msg), msg);
    }
}

proptest! {
    #![proptest_config(cases(100_000))]
    #[test]
    fn any_info_message_round_trips(msg in info_message()) {
        prop_assert_eq!(roundtrip(&msg), msg);
    }
}

proptest! {
    #![proptest_config(cases(200_000))]
    #[test]
    fn any_service_round_trips_through_a_request(svc in service()) {
        let back = roundtrip(&IpvsMessage::from(&Request::AddService(svc.clone())));
        prop_assert_eq!(back.to_service_status().unwrap().service, svc);
    }
}

proptest! {
    #![proptest_config(cases(200_000))]
    #[test]
    fn any_destination_round_trips_through_a_request(d in destination()) {
        let svc = ServiceId::fwmark(1, d.family());
        let back = roundtrip(&IpvsMessage::from(&Request::AddDestination { service: svc, destination: d.clone() }));
        prop_assert_eq!(back.to_destination_status(Family::Inet).unwrap().destination, d);
    }
}

proptest! {
    #![proptest_config(cases(100_000))]
    #[test]
    fn any_daemon_round_trips(state in prop_oneof![Just(DaemonState::Master), Just(DaemonState::Backup)],
                              ifn in name(), id in any::<u8>(), len in prop::option::of(any::<u16>()),
                              group in prop::option::of(family().prop_flat_map(addr)),
                              port in prop::option::of(any::<u16>()), ttl in prop::option::of(any::<u8>())) {
        let d = Daemon { state, interface: ifn, sync_id: id, max_len: len, group, port, ttl };
        let back = roundtrip(&IpvsMessage::from(&Request::StartDaemon(d.clone())));
        prop_assert_eq!(back.to_daemon().unwrap(), d);
    }
}

proptest! {
    #![proptest_config(cases(300_000))]
    #[test]
    fn no_bytes_make_the_decoder_panic(bytes in prop::collection::vec(any::<u8>(), 0..160),
                                       framed in any::<bool>(), cmd in any::<u8>(),
                                       msg_type in prop_oneof![Just(0x1du16), Just(0x10u16), Just(2u16), Just(3u16), any::<u16>()]) {
        if framed {
            // A valid netlink + genl header in front, so attribute parsing is reached, for
            // every kind of frame the decoder tells apart (IPVS, controller, error, done).
            let mut b = Vec::with_capacity(bytes.len() + 20);
            b.extend_from_slice(&((bytes.len() + 20) as u32).to_ne_bytes());
            b.extend_from_slice(&msg_type.to_ne_bytes());
            b.extend_from_slice(&[0; 10]);
            b.extend_from_slice(&[cmd, 1, 0, 0]);
            b.extend_from_slice(&bytes);
            let _ = frame::decode_all(&b);
        } else {
            let _ = frame::decode_all(&bytes);
        }
        let _ = IpvsMessage::parse_body(IpvsCmd::from_number(cmd), &bytes);
        if let Ok(m) = IpvsMessage::parse_body(IpvsCmd::NewService, &bytes) {
            let _ = m.to_service_status();
            let _ = m.to_destination_status(Family::Inet6);
            let _ = m.to_daemon();
            let _ = m.to_info();
            let _ = m.to_timeouts();
            // Whatever decodes can be encoded again, or is refused: never a panic.
            let mut out = Vec::new();
            let _ = frame::encode(&m, 0x1d, 1, frame::REQUEST, &mut out);
        }
        let _ = wire::DecodeError::from("unused");
    }
}
