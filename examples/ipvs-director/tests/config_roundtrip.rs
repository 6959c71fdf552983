//! Property: a configuration written as a native file reads back as itself when it is
//! valid, and is refused (never a panic) when it is not.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use ipvs::{Forward, Netmask, Protocol, ServiceFlags, Tunnel, TunnelFlags};
use ipvs_director::config::{
    parse_scheduler, schedulers, Check, CheckKind, Config, DnsCheck, DnsType, HttpCheck, HttpProtocol, Md5Digest,
    MiscCheck, OnFailure, RealServer, Script, SmtpCheck, SorryServer, StatusCodes, Timing, Url, VirtualServer,
    VirtualServerId,
};
use proptest::prelude::*;

fn micros() -> impl Strategy<Value = Option<Duration>> {
    prop_oneof![Just(None), (0u64..100_000_000).prop_map(|m| Some(Duration::from_micros(m)))]
}

fn timing() -> impl Strategy<Value = Timing> {
    (micros(), micros(), prop_oneof![6 => proptest::option::of(1u32..6), 1 => Just(Some(0))], micros(), micros())
        .prop_map(|(d, c, r, b, w)| Timing {
            delay_loop: d,
            connect_timeout: c,
            retry: r,
            delay_before_retry: b,
            warmup: w,
        })
}

fn forward() -> impl Strategy<Value = Option<Forward>> {
    prop_oneof![
        Just(None),
        Just(Some(Forward::Masquerade)),
        Just(Some(Forward::DirectRoute)),
        Just(Some(Forward::Tunnel(Tunnel::Ipip))),
        (0u16..6, 0u16..3).prop_map(|(p, c)| Some(Forward::Tunnel(Tunnel::Gue {
            port: p * 3000,
            flags: TunnelFlags::from_bits_retain(c)
        }))),
        (0u16..3).prop_map(|c| Some(Forward::Tunnel(Tunnel::Gre { flags: TunnelFlags::from_bits_retain(c) }))),
    ]
}

fn on_failure() -> impl Strategy<Value = Option<OnFailure>> {
    prop_oneof![
        Just(None),
        Just(Some(OnFailure::Remove)),
        Just(Some(OnFailure::Inhibit)),
        micros().prop_map(|max| Some(OnFailure::Drain { max })),
    ]
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/bin/x".to_owned()),
        Just("a b".to_owned()),
        Just("it's".to_owned()),
        Just("".to_owned()),
        "[a-z\"'\\\\ é]{0,6}"
    ]
}

fn script() -> impl Strategy<Value = Option<Script>> {
    proptest::option::of(
        (proptest::collection::vec(word(), 1..3), proptest::option::of("[a-z]{1,4}")).prop_map(|(argv, user)| Script {
            argv,
            user,
            group: None,
        }),
    )
}

fn check() -> impl Strategy<Value = Check> {
    let kind = prop_oneof![
        Just(CheckKind::Tcp),
        (prop_oneof![6 => 1usize..4, 1 => Just(0)], any::<bool>(), 0u8..3).prop_map(|(n, tls, p)| {
            let urls = (0..n)
                .map(|i| Url {
                    path: format!("/p{i}"),
                    digest: (i == 1).then_some(Md5Digest([i as u8; 16])),
                    status_codes: if i == 2 {
                        StatusCodes::new(vec![(200, 200), (300, 399)]).unwrap()
                    } else {
                        StatusCodes::default()
                    },
                    virtualhost: (i == 0).then(|| "h.example.org".to_owned()),
                })
                .collect();
            let protocol = [HttpProtocol::Http10, HttpProtocol::Http10Close, HttpProtocol::Http11][usize::from(p)];
            let h = HttpCheck { urls, virtualhost: None, protocol, enable_sni: tls, fast_recovery: !tls };
            if tls {
                CheckKind::Https(h)
            } else {
                CheckKind::Http(h)
            }
        }),
        prop_oneof![Just(DnsType::Soa), Just(DnsType::Aaaa)]
            .prop_map(|t| CheckKind::Dns(DnsCheck { query_type: t, name: "example.org".into() })),
        (script(), micros(), any::<bool>()).prop_map(|(s, t, d)| CheckKind::Misc(MiscCheck {
            command: s.unwrap_or_else(|| Script::new(["/bin/true"])),
            timeout: t,
            dynamic: d
        })),
        proptest::option::of("[a-z.]{0,8}").prop_map(|h| CheckKind::Smtp(SmtpCheck { helo_name: h })),
    ];
    (kind, timing(), proptest::option::of(1u16..4), proptest::option::of(any::<bool>())).prop_map(
        |(kind, mut timing, port, alpha)| {
            let mut c = Check::new(kind);
            if c.kind.connects() {
                c.connect.port = port.map(|p| p * 1000);
            } else {
                timing.connect_timeout = None;
            }
            c.timing = timing;
            c.alpha = alpha;
            c
        },
    )
}

/// A real server; its address is set by its place in the virtual server.
fn real_server() -> impl Strategy<Value = RealServer> {
    (
        prop_oneof![6 => Just(false), 1 => Just(true)],
        proptest::option::of(prop_oneof![8 => Just(1u16), 1 => Just(0), 1 => Just(2)]),
        proptest::option::of(0u32..5),
        forward(),
        on_failure(),
        timing(),
        script(),
        proptest::collection::vec(check(), 0..3),
    )
        .prop_map(move |(v6, port, weight, forward, on_failure, timing, notify, mut checks)| {
            let address = if v6 { IpAddr::V6(Ipv6Addr::LOCALHOST) } else { IpAddr::V4(Ipv4Addr::LOCALHOST) };
            checks.sort_by_key(|c| {
                ["tcp_check", "http_get", "ssl_get", "dns_check", "misc_check", "smtp_check"]
                    .iter()
                    .position(|k| *k == c.kind.key())
            });
            RealServer {
                port: port.map(|p| p * 80),
                weight,
                forward,
                on_failure,
                timing,
                notify_up: notify,
                checks,
                ..RealServer::new(address, None)
            }
        })
}

fn virtual_server() -> impl Strategy<Value = VirtualServer> {
    let id = prop_oneof![
        (
            prop_oneof![8 => Just(1u16), 1 => Just(0)],
            prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp), Just(Protocol::Sctp)]
        )
            .prop_map(|(p, protocol)| VirtualServerId::Address {
                protocol,
                address: "192.0.2.10".parse().unwrap(),
                port: p * 80
            }),
        prop_oneof![6 => Just(5u32), 1 => Just(0)].prop_map(|mark| VirtualServerId::Fwmark { mark, family: None }),
    ];
    (
        id,
        0usize..schedulers().count(),
        prop_oneof![6 => Just(false), 1 => Just(true)],
        forward(),
        proptest::option::of(0u32..1000),
        prop_oneof![4 => Just(false), 1 => Just(true)],
        (
            timing(),
            on_failure(),
            prop_oneof![6 => Just(1u32), 1 => 0u32..4],
            prop_oneof![6 => Just(0u32), 1 => 0u32..3],
            1u32..3,
        ),
        (any::<bool>(), proptest::option::of(0u16..2)),
        prop_oneof![8 => proptest::collection::vec(real_server(), 1..3), 1 => Just(Vec::new())],
    )
        .prop_map(
            |(
                id,
                sched,
                ops,
                forward,
                persistence,
                mask,
                (timing, on_failure, quorum, hysteresis, weight),
                (sorry, sorry_port),
                rss,
            )| {
                let mut vs = VirtualServer::new(id);
                vs.scheduler = parse_scheduler(schedulers().nth(sched).unwrap().name()).unwrap();
                if ops {
                    vs.flags = ServiceFlags::ONE_PACKET;
                }
                vs.forward = forward;
                vs.persistence = persistence;
                vs.netmask = mask.then(|| Netmask::V4("255.255.255.0".parse().unwrap()));
                vs.timing = timing;
                vs.on_failure = on_failure;
                vs.quorum = quorum;
                vs.hysteresis = hysteresis;
                vs.weight = weight;
                vs.sorry_server = sorry.then(|| SorryServer {
                    address: "203.0.113.5".parse().unwrap(),
                    port: sorry_port.map(|p| p * 8080),
                    forward: None,
                    inhibit: true,
                });
                vs.real_servers = rss
                    .into_iter()
                    .enumerate()
                    .map(|(i, mut rs)| {
                        rs.address = match rs.address {
                            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::new(198, 51, 100, i as u8 + 1)),
                            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16 + 1)),
                        };
                        rs
                    })
                    .collect();
                vs
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn written_configurations_read_back_iff_valid(vss in proptest::collection::vec(virtual_server(), 1..3)) {
        let c = Config { virtual_servers: vss, ..Config::default() };
        let toml = c.to_toml();
        let back = Config::from_toml(&toml);
        match c.validate() {
            Ok(()) => prop_assert_eq!(back.as_ref().ok(), Some(&c), "{}\n{:?}", toml, back.as_ref().err()),
            Err(e) => prop_assert!(back.is_err(), "accepted an invalid configuration ({})\n{}", e, toml),
        }
    }
}

#[test]
fn some_generated_configurations_are_valid() {
    // The property above only means something if the generator makes valid ones too.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let valid = (0..400)
        .filter(|_| {
            let vs = virtual_server().new_tree(&mut runner).unwrap().current();
            Config { virtual_servers: vec![vs], ..Config::default() }.validate().is_ok()
        })
        .count();
    assert!(valid > 20, "{valid} of 400");
}
