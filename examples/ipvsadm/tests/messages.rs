//! ipvsadm's command-line parsing: defaults, order effects, and every message with its exit
//! status, as ipvsadm 1.31 prints them (the lab compares these with the real ipvsadm).

use ipvs::{Family, Forward, Netmask, Request, Scheduler};
use ipvsadm_compat::{parse, Command, Exit, Listing, NoNames, Parsed};

fn p(line: &str) -> Parsed {
    let argv: Vec<String> = std::iter::once("ipvsadm").chain(line.split_whitespace()).map(String::from).collect();
    parse(&argv, &NoNames)
}

fn write(line: &str) -> Request {
    match p(line).unwrap().command {
        Command::Write(r) => r,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn bundled_short_options_and_defaults() {
    let inv = p("-Ln").unwrap();
    assert_eq!(inv.command, Command::List(Listing::Table));
    assert!(inv.format.numeric);
    let Request::AddService(svc) = write("-A -t 192.0.2.1:80") else { panic!() };
    assert_eq!((svc.scheduler, svc.id.to_string()), (Scheduler::Wlc, "TCP 192.0.2.1:80".to_string()));
    let Request::AddDestination { destination: d, .. } = write("-a -t 192.0.2.1:80 -r 198.51.100.1") else { panic!() };
    assert_eq!((d.forward, d.weight, d.port), (Forward::DirectRoute, 1, 80));
}

#[test]
fn persistent_takes_an_optional_value() {
    let timeout = |line: &str| match write(line) {
        Request::AddService(s) => (s.timeout, s.scheduler),
        _ => panic!(),
    };
    assert_eq!(timeout("-A -t 192.0.2.1:0 -p"), (360, Scheduler::Wlc));
    assert_eq!(timeout("-A -t 192.0.2.1:0 -p 600 -s rr"), (600, Scheduler::Rr));
    assert_eq!(timeout("-A -t 192.0.2.1:0 -p -s rr"), (360, Scheduler::Rr));
}

#[test]
fn order_effects_are_ipvsadms() {
    // -6 after -f makes the service IPv6 and its mask /128.
    let Request::AddService(s) = write("-A -f 5 -6 -s rr") else { panic!() };
    assert_eq!((s.id.family(), s.netmask), (Family::Inet6, Netmask::Prefix(128)));
    // A tunnel destination keeps the virtual port, a NAT one its own.
    let Request::AddDestination { destination: d, .. } = write("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -i") else {
        panic!()
    };
    assert_eq!(d.port, 80);
    let Request::AddDestination { destination: d, .. } = write("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m") else {
        panic!()
    };
    assert_eq!(d.port, 8080);
}

#[test]
fn messages_and_exit_codes() {
    assert_eq!(p("-A -t 192.0.2.1:0").unwrap_err(), Exit::fail("Zero port specified for non-persistent service"));
    assert_eq!(
        p("-A").unwrap_err(),
        Exit::fail("You need to supply the 'service-address' option for the 'add-service' command")
    );
    assert_eq!(p("-t 192.0.2.1:80").unwrap_err().code, 255);
    assert_eq!(
        p("-A -t 192.0.2.1:80 -r 1.2.3.4").unwrap_err().stderr,
        "Illegal 'real-server' option with the 'add-service' command\n"
    );
    assert_eq!(p("-A -t 192.0.2.1:80 -w 3000000000").unwrap_err().stderr, "illegal weight specified\n");
    assert_eq!(p("-L --frobnicate").unwrap_err().stderr, "--frobnicate: unknown option\n");
    assert_eq!(p("-A -t 192.0.2.1:80 -s rr -s wrr").unwrap_err().stderr, "multiple 'scheduler' options specified\n");
}

#[test]
fn every_command_line_message() {
    let cases: &[(&str, &str, i32)] = &[
        ("--set 1 2", "--set option requires 3 timeout values\n", 2),
        ("--set 1 2 x", "invalid timeout value `x' specified\n", 2),
        ("-A -6 -f 5", "-6 used before -f\n\n", 2),
        (
            "-a -t 192.0.2.1:80 -r [2001:db8::1]:80 -m",
            "Different address family is allowed only for tunneling servers\n",
            2,
        ),
        ("-A -t 192.0.2.1:80 -o", "One-Packet Scheduling is only for UDP virtual services\n", 2),
        ("-a -t 192.0.2.1:80 -r 198.51.100.1 -m --tun-type gre", "Tunnel options conflict with forward method\n", 2),
        ("-A -u [2001:db8::1]:80 -p 1 -M 129", "illegal ipv6 netmask specified\n", 2),
        ("-a -t 192.0.2.1:80 -r 198.51.100.1 -y x", "illegal l_threshold specified\n", 2),
        ("-a -t 192.0.2.1:80 -r 198.51.100.1 -x -1", "illegal u_threshold specified\n", 2),
        ("--start-daemon master --mcast-port 0", "illegal mcast-port specified\n", 2),
        ("--start-daemon master --mcast-ttl 256", "illegal mcast-ttl specified\n", 2),
        ("--start-daemon master --sync-maxlen 65508", "illegal sync-maxlen specified\n", 2),
        ("--start-daemon master --syncid 256", "illegal syncid specified\n", 2),
        ("--start-daemon primary", "illegal start-daemon parameter specified\n", 2),
        ("--stop-daemon primary", "illegal start_daemon specified\n", 2),
        ("--start-daemon master --mcast-group 198.51.100.1", "invalid IPv4 mcast-group `198.51.100.1'\n", 2),
        ("--start-daemon master --mcast-group ff02::zz", "invalid IPv6 mcast-group `ff02::zz'\n", 2),
        ("-a -t 192.0.2.1:80 -r nowhere.invalid", "illegal real server address[:port] specified\n", 2),
        ("-A -t 192.0.2.300:80", "illegal virtual server address[:port] specified\n", 2),
        ("-A -t 80", "illegal virtual server address[:port] specified\n", 2),
        ("-A -t 192.0.2.1:80 -p 1 -M 300.0.0.0", "illegal virtual server persistent mask specified\n", 2),
        ("-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type vxlan", "illegal tunnel type specified\n", 2),
        ("-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type gue --tun-port 0", "illegal tunnel port specified\n", 2),
        (
            "-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type gue",
            "You need to supply the 'tun-port' option for the 'gue' tunnel type\n",
            2,
        ),
        (
            "-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type ipip --tun-csum",
            "Illegal 'tun-csum' option with the 'ipip' tunnel type\n",
            2,
        ),
        (
            "-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum",
            "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type\n",
            2,
        ),
        ("-A -t 192.0.2.1:80 -s sh -b mh-port", "incompatible scheduler flag `mh-port'\n", 2),
        ("-A -t 192.0.2.1:80 -b bogus", "invalid scheduler flag `bogus'\n", 2),
        ("-A -f 0", "invalid fwmark value `0' specified\n", 2),
        ("-A -t 192.0.2.1:80 -p 0", "invalid timeout value `0' specified\n", 2),
        ("-A -t 192.0.2.1:80 extra", "unexpected argument extra\n", 2),
        ("-A -D -t 192.0.2.1:80", "invalid option `-D'\n", 2),
        ("-L --timeout --daemon", "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n", 2),
        ("-C -t 192.0.2.1:80", "Illegal 'service-address' option with the 'flush' command\n", 2),
        ("-A -t", "-t: missing argument\n", 255),
        ("-L -q", "-q: unknown option\n", 255),
        ("-t 192.0.2.1:80 -A", "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n", 255),
    ];
    for &(line, stderr, code) in cases {
        let e = p(line).err().unwrap_or_else(|| panic!("{line}: parsed"));
        assert_eq!((e.stderr.as_str(), e.code), (stderr, code), "{line}");
    }
}
