//! Properties of the ipvsadm layer on the in-memory model: no command line makes it panic,
//! and any table saved with `-Sn` and restored with `-R` into an empty table saves the same.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs::transport::MockTransport;
use ipvs::{
    rules, Client, Destination, Family, Forward, Netmask, Scheduler, Service, ServiceFlags, ServiceId, Tunnel,
    TunnelFlags,
};
use ipvsadm_compat::{run, NoNames, Output};
use proptest::prelude::*;

fn cases(n: u32) -> ProptestConfig {
    let scale: f64 = std::env::var("IPVS_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0);
    ProptestConfig { cases: ((f64::from(n) * scale) as u32).max(1), failure_persistence: None, ..Default::default() }
}

const WORDS: &[&str] = &[
    "-A",
    "-E",
    "-D",
    "-C",
    "-R",
    "-S",
    "-a",
    "-e",
    "-d",
    "-L",
    "-l",
    "-Z",
    "--set",
    "-h",
    "-v",
    "-t",
    "-u",
    "--sctp-service",
    "-f",
    "-6",
    "-s",
    "-p",
    "-M",
    "--pe",
    "-o",
    "-b",
    "-r",
    "-g",
    "-i",
    "-m",
    "-w",
    "-x",
    "-y",
    "--tun-type",
    "--tun-port",
    "--tun-nocsum",
    "--tun-csum",
    "--tun-remcsum",
    "-c",
    "--timeout",
    "--daemon",
    "--stats",
    "--rate",
    "--thresholds",
    "--persistent-conn",
    "--tun-info",
    "--nosort",
    "--sort",
    "-X",
    "-n",
    "-Ln",
    "--syncid",
    "--sync-maxlen",
    "--mcast-interface",
    "--mcast-group",
    "--mcast-port",
    "--mcast-ttl",
    "--start-daemon",
    "--stop-daemon",
    "master",
    "backup",
    "192.0.2.1:80",
    "192.0.2.1",
    "[2001:db8::1]:53",
    "2001:db8::1",
    "198.51.100.1:8080",
    "0",
    "1",
    "80",
    "65536",
    "-1",
    "rr",
    "wrr",
    "sh",
    "mh",
    "gue",
    "gre",
    "ipip",
    "sh-port,sh-fallback",
    "mh-port",
    "255.255.255.0",
    "64",
    "sip",
    "224.0.0.81",
    "ff02::1",
    "lo",
    "x",
    "",
    "--",
    "--tcp-service=192.0.2.9:9",
    "-Lnc",
    "-Sn",
    "ipvsadm",
    "#",
];

proptest! {
    #![proptest_config(cases(20_000))]
    #[test]
    fn no_command_line_makes_it_panic(words in prop::collection::vec(prop::sample::select(WORDS), 0..10),
                                      stdin in prop::collection::vec(prop::sample::select(WORDS), 0..12)) {
        let kernel = MockTransport::new();
        let mut argv = vec!["ipvsadm".to_string()];
        argv.extend(words.iter().map(|w| w.to_string()));
        let input = stdin.join(" ").replace(" # ", "\n");
        let out = run(&kernel, &argv, &mut input.as_bytes(), &NoNames);
        prop_assert!(matches!(out.code, 0 | 1 | 2 | 255), "{argv:?}: {out:?}");
        prop_assert!(out.code == 0 || !out.stderr.is_empty() || out.stdout.contains("ipvsadm"), "{argv:?}: {out:?}");
    }
}

fn service() -> impl Strategy<Value = Service> {
    let id = prop_oneof![
        (prop_oneof![Just(0u8), Just(1), Just(2)], 1u8..250, 1u16..2000).prop_map(|(p, h, port)| {
            let addr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, h));
            match p {
                0 => ServiceId::tcp(addr, port),
                1 => ServiceId::udp(addr, port),
                _ => ServiceId::sctp(addr, port),
            }
        }),
        (1u16..500, 1u16..2000)
            .prop_map(|(h, port)| ServiceId::udp(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, h)), port)),
        (1u32..100_000, any::<bool>())
            .prop_map(|(m, v6)| ServiceId::fwmark(m, if v6 { Family::Inet6 } else { Family::Inet })),
    ];
    let sched = prop::sample::select(vec![
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
    ]);
    (id, sched, prop::option::of(1u32..100_000), prop::option::of(8u8..=31), any::<bool>(), any::<bool>()).prop_map(
        |(id, sched, persist, mask, pe, flag)| {
            let mut s = Service::new(id, Scheduler::from_name(sched));
            if let Some(t) = persist {
                s = s.with_persistence(t);
                if let Some(bits) = mask {
                    s = s.with_netmask(match id.family() {
                        Family::Inet => Netmask::V4(Ipv4Addr::from(u32::MAX << (32 - u32::from(bits)))),
                        Family::Inet6 => Netmask::Prefix(bits * 4),
                    });
                }
                if pe && matches!(id, ServiceId::Inet { protocol: ipvs::Protocol::Udp, .. }) {
                    s = s.with_persistence_engine(ipvs::PersistenceEngine::Sip);
                }
            }
            if flag && matches!(sched, "sh" | "mh") {
                s = s.with_flags(ServiceFlags::SCHED2);
            }
            s
        },
    )
}

fn destinations(family: Family) -> impl Strategy<Value = Vec<Destination>> {
    let one = (1u8..250, 1u16..2000, 0u8..5, 0u32..70000).prop_map(move |(h, port, fwd, w)| {
        let addr = match family {
            Family::Inet => IpAddr::V4(Ipv4Addr::new(198, 51, 100, h)),
            Family::Inet6 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, u16::from(h))),
        };
        let forward = match fwd {
            0 => Forward::Masquerade,
            1 => Forward::DirectRoute,
            2 => Forward::Tunnel(Tunnel::Ipip),
            3 => Forward::Tunnel(Tunnel::Gue { port: 6080, flags: TunnelFlags::CSUM }),
            _ => Forward::Tunnel(Tunnel::Gre { flags: TunnelFlags::empty() }),
        };
        Destination::new(SocketAddr::new(addr, port), forward).with_weight(w)
    });
    prop::collection::vec(one, 0..5)
}

fn sh(kernel: &MockTransport, line: &str, stdin: &str) -> Output {
    let argv: Vec<String> = line.split(' ').map(String::from).collect();
    run(kernel, &argv, &mut stdin.as_bytes(), &NoNames)
}

proptest! {
    #![proptest_config(cases(2_000))]
    #[test]
    fn a_saved_table_restores_to_the_same_table(
        table in prop::collection::vec(service().prop_flat_map(|s| { let f = s.id.family(); (Just(s), destinations(f)) }), 0..6)
    ) {
        let ka = MockTransport::new();
        let a = Client::with_transport(&ka);
        for (s, dests) in &table {
            if a.add_service(s).is_err() {
                continue;
            }
            for d in dests {
                // ipvsadm gives direct-routed and tunnelled servers the virtual port (-R as
                // well), so a table where they have another one does not survive -S/-R with
                // the real ipvsadm either: keep to tables ipvsadm can rebuild.
                let mut d = d.clone();
                if let ServiceId::Inet { port, .. } = s.id {
                    if matches!(d.forward, Forward::DirectRoute | Forward::Tunnel(_)) {
                        d.port = port;
                    }
                }
                let _ = a.add_destination(&s.id, &d);
            }
        }
        let saved = sh(&ka, "ipvsadm -Sn", "");
        prop_assert_eq!(saved.code, 0);
        let kb = MockTransport::new();
        let restored = sh(&kb, "ipvsadm -R", &saved.stdout);
        prop_assert_eq!((restored.code, restored.stderr.as_str()), (0, ""), "{}", saved.stdout);
        prop_assert_eq!(sh(&kb, "ipvsadm -Sn", "").stdout, saved.stdout.clone());
        prop_assert_eq!(sh(&kb, "ipvsadm -Ln", "").stdout, sh(&ka, "ipvsadm -Ln", "").stdout);
        // The library's rule format reads what ipvsadm saved into the same table.
        let kc = MockTransport::new();
        let c = Client::with_transport(&kc);
        for (line, r) in rules::parse(&saved.stdout).map_err(|e| TestCaseError::fail(e.to_string()))? {
            c.execute(&r).map_err(|e| TestCaseError::fail(format!("line {line}: {e}")))?;
        }
        prop_assert_eq!(sh(&kc, "ipvsadm -Sn", "").stdout, saved.stdout);
    }
}
