//! The scenario suite: written once against the `Transport` trait and run unchanged on the
//! mock (`cargo test`) and on the real kernel in the lab (`IPVS_TEST_TARGET=kernel`).
//! Every assertion here is what the real kernel does; the mock must agree.

mod common;

use std::net::{IpAddr, SocketAddr};

use common::Target;
use ipvs::transport::Transport;
use ipvs::wire::{DaemonAttr, DestAttr, IpvsAttr, IpvsCmd, IpvsMessage, ServiceAttr};
use ipvs::{
    Daemon, DaemonState, Destination, Errno, Family, Forward, Netmask, PersistenceEngine, Request, Scheduler, Service,
    ServiceFlags, ServiceId, Timeouts, Tunnel, TunnelFlags,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[track_caller]
fn assert_errno<T: std::fmt::Debug>(r: Result<T, ipvs::Error>, errno: Errno) {
    match r {
        Err(e) => assert_eq!(e.kernel_errno(), Some(errno), "expected {errno} from the kernel, got {e}"),
        Ok(v) => panic!("expected {errno}, got Ok({v:?})"),
    }
}

#[track_caller]
fn raw_errno(t: &Target, msg: IpvsMessage) -> Option<Errno> {
    match t.transport.request(&msg) {
        Ok(_) => None,
        Err(ipvs::ErrorKind::Kernel(e)) => Some(e),
        Err(other) => panic!("unexpected transport error {other}"),
    }
}

/// The message of a request, sent raw (no validation) so the kernel judges it.
fn msg(r: Request) -> IpvsMessage {
    IpvsMessage::from(&r)
}

fn add_dest_msg(service: &ServiceId, d: &Destination) -> IpvsMessage {
    msg(Request::AddDestination { service: *service, destination: d.clone() })
}

fn web(port: u16) -> ServiceId {
    ServiceId::tcp(ip("192.0.2.1"), port)
}

#[test]
fn services_ipv4_ipv6_and_fwmark() {
    let t = Target::new();
    let c = t.client();
    let ids = [
        ServiceId::tcp(ip("192.0.2.1"), 80),
        ServiceId::udp(ip("192.0.2.1"), 53),
        ServiceId::sctp(ip("192.0.2.2"), 3868),
        ServiceId::tcp(ip("2001:db8::1"), 443),
        ServiceId::udp(ip("2001:db8::1"), 53),
        ServiceId::fwmark(1, Family::Inet),
        ServiceId::fwmark(1, Family::Inet6),
        ServiceId::fwmark(0xffff_fffe, Family::Inet),
    ];
    for id in ids {
        c.add_service(&Service::new(id, Scheduler::Wlc)).unwrap();
    }
    let mut listed: Vec<ServiceId> = c.services().unwrap().into_iter().map(|s| s.service.id).collect();
    listed.sort();
    let mut want = ids.to_vec();
    want.sort();
    assert_eq!(listed, want);
    for id in ids {
        let status = c.service(&id).unwrap();
        let s = &status.service;
        assert_eq!(*s, Service::new(id, Scheduler::Wlc));
        assert_eq!(s.flags, ServiceFlags::empty()); // the kernel's HASHED is not configuration
        assert_eq!(s.timeout, 0);
        assert_eq!(s.netmask, Netmask::full(id.family()));
        assert_eq!(s.persistence_engine, None);
        assert_eq!(status.stats, ipvs::Stats::default());
    }
    // The same address with another protocol or family is another service.
    assert_errno(c.add_service(&Service::new(ids[0], Scheduler::Rr)), Errno::EEXIST);
    assert_errno(c.add_service(&Service::new(ids[6], Scheduler::Rr)), Errno::EEXIST);
}

#[test]
fn every_scheduler() {
    let t = Target::new();
    let c = t.client();
    // The names table says which schedulers Debian's 6.1 kernel (the lab's) has: every one
    // it names is accepted, every other is not.
    let in_kernel: Vec<Scheduler> = Scheduler::in_debian_6_1().collect();
    for (i, sched) in Scheduler::known().enumerate() {
        let id = web(1000 + i as u16);
        let r = c.add_service(&Service::new(id, sched.clone()));
        if in_kernel.contains(&sched) {
            r.unwrap_or_else(|e| panic!("{sched}: {e}"));
            assert_eq!(c.service(&id).unwrap().service.scheduler, sched);
        } else {
            assert_errno(r, Errno::ENOENT);
        }
    }
    assert_errno(c.add_service(&Service::new(web(2000), Scheduler::Other("nosuch".into()))), Errno::ENOENT);
    // Changing to an unknown scheduler fails and leaves the service as it was.
    assert_errno(c.update_service(&Service::new(web(1000), Scheduler::Other("nosuch".into()))), Errno::ENOENT);
    assert_eq!(c.service(&web(1000)).unwrap().service.scheduler, Scheduler::Rr);
}

#[test]
fn scheduler_flags_and_one_packet() {
    let t = Target::new();
    let c = t.client();
    let sh = Service::new(web(80), Scheduler::Sh).with_flags(ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT);
    c.add_service(&sh).unwrap();
    assert_eq!(c.service(&web(80)).unwrap().service, sh);
    let udp = ServiceId::udp(ip("192.0.2.1"), 53);
    c.add_service(&Service::new(udp, Scheduler::Rr).with_flags(ServiceFlags::ONE_PACKET)).unwrap();
    assert!(c.service(&udp).unwrap().service.flags.contains(ServiceFlags::ONE_PACKET));
    // ipvsadm's rule, enforced before sending: one-packet is for UDP.
    let err = c.add_service(&Service::new(web(81), Scheduler::Rr).with_flags(ServiceFlags::ONE_PACKET)).unwrap_err();
    assert_eq!(err.invalid_input().unwrap().field, "flags");
}

#[test]
fn flags_mask_semantics() {
    let t = Target::new();
    let c = t.client();
    c.add_service(&Service::new(web(80), Scheduler::Sh).with_flags(ServiceFlags::SH_PORT).with_persistence(100))
        .unwrap();
    // A raw SET_SERVICE that changes only SCHED1: (old & !mask) | (new & mask).
    let mut m = msg(Request::UpdateService(Service::new(web(80), Scheduler::Sh).with_persistence(100)));
    if let IpvsAttr::Service(attrs) = &mut m.attrs[0] {
        for a in attrs.iter_mut() {
            if let ServiceAttr::Flags { flags, mask } = a {
                *flags = ServiceFlags::SCHED1.bits();
                *mask = ServiceFlags::SCHED1.bits();
            }
        }
    }
    assert_eq!(raw_errno(&t, m), None);
    let flags = c.service(&web(80)).unwrap().service.flags;
    assert_eq!(flags, ServiceFlags::SH_PORT | ServiceFlags::SCHED1 | ServiceFlags::PERSISTENT);
}

#[test]
fn persistence_with_netmask_and_engine() {
    let t = Target::new();
    let c = t.client();
    let v4 = Service::new(web(443), Scheduler::Wlc)
        .with_persistence(600)
        .with_netmask(Netmask::V4("255.255.255.0".parse().unwrap()));
    c.add_service(&v4).unwrap();
    let got = c.service(&v4.id).unwrap().service;
    assert_eq!(got.persistence_timeout(), Some(600));
    assert_eq!(got.netmask, Netmask::V4("255.255.255.0".parse().unwrap()));

    let v6 = Service::new(ServiceId::tcp(ip("2001:db8::10"), 443), Scheduler::Rr)
        .with_persistence(30)
        .with_netmask(Netmask::Prefix(64));
    c.add_service(&v6).unwrap();
    assert_eq!(c.service(&v6.id).unwrap().service.netmask, Netmask::Prefix(64));

    // Port 0 is allowed for a persistent service (all ports).
    let all = Service::new(ServiceId::tcp(ip("192.0.2.7"), 0), Scheduler::Rr).with_persistence(360);
    c.add_service(&all).unwrap();
    assert_eq!(c.service(&all.id).unwrap().service.id, all.id);

    // The SIP persistence engine (autoloaded by the kernel).
    let sip = Service::new(ServiceId::udp(ip("192.0.2.5"), 5060), Scheduler::Rr)
        .with_persistence(60)
        .with_persistence_engine(PersistenceEngine::Sip);
    c.add_service(&sip).unwrap();
    assert_eq!(c.service(&sip.id).unwrap().service.persistence_engine, Some(PersistenceEngine::Sip));
    // Updating without an engine removes it.
    c.update_service(&Service::new(sip.id, Scheduler::Rr).with_persistence(60)).unwrap();
    assert_eq!(c.service(&sip.id).unwrap().service.persistence_engine, None);
    let nope = Service::new(ServiceId::udp(ip("192.0.2.5"), 5061), Scheduler::Rr)
        .with_persistence_engine(PersistenceEngine::Other("nosuch".into()));
    assert_errno(c.add_service(&nope), Errno::ENOENT);
}

#[test]
fn every_forwarding_method_and_tunnel_type() {
    let t = Target::new();
    let c = t.client();
    c.add_service(&Service::new(web(80), Scheduler::Wrr)).unwrap();
    let methods = [
        ("198.51.100.1:80", Forward::Masquerade),
        ("198.51.100.2:80", Forward::DirectRoute),
        ("198.51.100.3:80", Forward::Local),
        ("198.51.100.4:80", Forward::Tunnel(Tunnel::Ipip)),
        ("198.51.100.5:80", Forward::Tunnel(Tunnel::Gue { port: 6080, flags: TunnelFlags::empty() })),
        ("198.51.100.6:80", Forward::Tunnel(Tunnel::Gue { port: 6081, flags: TunnelFlags::CSUM })),
        ("198.51.100.7:80", Forward::Tunnel(Tunnel::Gue { port: 6082, flags: TunnelFlags::REMCSUM })),
        ("198.51.100.8:80", Forward::Tunnel(Tunnel::Gre { flags: TunnelFlags::empty() })),
        ("198.51.100.9:80", Forward::Tunnel(Tunnel::Gre { flags: TunnelFlags::CSUM })),
        ("198.51.100.10:80", Forward::Bypass),
    ];
    for (i, (addr, fwd)) in methods.iter().enumerate() {
        let d = Destination::new(sa(addr), *fwd).with_weight(i as u32 + 1);
        c.add_destination(&web(80), &d).unwrap_or_else(|e| panic!("{fwd:?}: {e}"));
    }
    let got = c.destinations(&web(80)).unwrap();
    assert_eq!(got.len(), methods.len());
    // Newest first.
    assert_eq!(got[0].destination.socket_addr(), sa(methods[methods.len() - 1].0));
    for (i, (addr, fwd)) in methods.iter().enumerate() {
        let d = got.iter().find(|d| d.destination.socket_addr() == sa(addr)).unwrap();
        assert_eq!(d.destination.forward, *fwd, "{addr}");
        assert_eq!(d.destination.weight, i as u32 + 1);
        assert_eq!((d.active_conns, d.inactive_conns, d.persistent_conns), (0, 0, 0));
    }
}

#[test]
fn ipv6_destinations_and_mixed_families() {
    let t = Target::new();
    let c = t.client();
    let v6 = ServiceId::tcp(ip("2001:db8::1"), 80);
    c.add_service(&Service::new(v6, Scheduler::Rr)).unwrap();
    c.add_destination(&v6, &Destination::new(sa("[2001:db8::a]:8080"), Forward::Masquerade)).unwrap();
    c.add_destination(&v6, &Destination::new(sa("[2001:db8::b]:8080"), Forward::DirectRoute)).unwrap();
    // An IPv4 real server behind an IPv6 service: only by tunnel.
    c.add_destination(&v6, &Destination::new(sa("198.51.100.20:80"), Forward::Tunnel(Tunnel::Ipip))).unwrap();
    let got = c.destinations(&v6).unwrap();
    assert_eq!(got.len(), 3);
    assert!(got.iter().any(|d| d.destination.addr == ip("198.51.100.20")));
    // The same through a raw request, bypassing validation: the kernel's EINVAL.
    let raw = add_dest_msg(&v6, &Destination::new(sa("198.51.100.21:80"), Forward::Masquerade));
    assert_eq!(raw_errno(&t, raw), Some(Errno::EINVAL));
    c.delete_destination(&v6, sa("198.51.100.20:80")).unwrap();
    assert_eq!(c.destinations(&v6).unwrap().len(), 2);
}

#[test]
fn thresholds_and_edit_semantics() {
    let t = Target::new();
    let c = t.client();
    c.add_service(&Service::new(web(80), Scheduler::Wlc)).unwrap();
    let d = Destination::new(sa("198.51.100.1:8080"), Forward::Masquerade).with_weight(5).with_thresholds(1000, 100);
    c.add_destination(&web(80), &d).unwrap();
    let got = &c.destinations(&web(80)).unwrap()[0].destination;
    assert_eq!((got.weight, got.upper_threshold, got.lower_threshold), (5, 1000, 100));
    // Edit resends the whole destination.
    let edited = Destination::new(d.socket_addr(), Forward::DirectRoute).with_weight(0);
    c.update_destination(&web(80), &edited).unwrap();
    let got = &c.destinations(&web(80)).unwrap()[0].destination;
    assert_eq!((got.forward, got.weight, got.upper_threshold, got.lower_threshold), (Forward::DirectRoute, 0, 0, 0));
    // Service edit keeps the destinations.
    c.update_service(&Service::new(web(80), Scheduler::Lc).with_persistence(10)).unwrap();
    assert_eq!(c.destinations(&web(80)).unwrap().len(), 1);
    assert_eq!(c.service(&web(80)).unwrap().service.scheduler, Scheduler::Lc);
    // Maximum weight.
    c.update_destination(&web(80), &edited.clone().with_weight(i32::MAX as u32)).unwrap();
    assert_eq!(c.destinations(&web(80)).unwrap()[0].destination.weight, i32::MAX as u32);
}

#[test]
fn service_and_destination_errors() {
    let t = Target::new();
    let c = t.client();
    let missing = web(9);
    let d = Destination::new(sa("198.51.100.1:80"), Forward::Masquerade);
    assert_errno(c.update_service(&Service::new(missing, Scheduler::Rr)), Errno::ESRCH);
    assert_errno(c.delete_service(&missing), Errno::ESRCH);
    assert_errno(c.service(&missing), Errno::ESRCH);
    assert_errno(c.zero(Some(&missing)), Errno::ESRCH);
    assert_errno(c.add_destination(&missing, &d), Errno::ESRCH);
    assert_errno(c.update_destination(&missing, &d), Errno::ESRCH);
    assert_errno(c.delete_destination(&missing, d.socket_addr()), Errno::ESRCH);
    assert!(c.destinations(&missing).unwrap().is_empty());

    c.add_service(&Service::new(web(80), Scheduler::Rr)).unwrap();
    assert_errno(c.update_destination(&web(80), &d), Errno::ENOENT);
    assert_errno(c.delete_destination(&web(80), d.socket_addr()), Errno::ENOENT);
    c.add_destination(&web(80), &d).unwrap();
    assert_errno(c.add_destination(&web(80), &d), Errno::EEXIST);
    // Same address, other port: another destination.
    c.add_destination(&web(80), &Destination::new(sa("198.51.100.1:81"), Forward::Masquerade)).unwrap();
    assert_eq!(c.destinations(&web(80)).unwrap().len(), 2);
}

#[test]
fn raw_errno_paths() {
    let t = Target::new();
    let svc = |attrs: Vec<ServiceAttr>| IpvsMessage { cmd: IpvsCmd::NewService, attrs: vec![IpvsAttr::Service(attrs)] };
    let full = |extra: Vec<ServiceAttr>| {
        let mut a = vec![
            ServiceAttr::Protocol(6),
            ServiceAttr::Addr([192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ServiceAttr::Port(80),
            ServiceAttr::SchedName("rr".into()),
            ServiceAttr::Flags { flags: 0, mask: u32::MAX },
            ServiceAttr::Timeout(0),
            ServiceAttr::Netmask(u32::MAX),
        ];
        a.extend(extra);
        a
    };
    // No service attribute at all, no AF, no identity.
    assert_eq!(raw_errno(&t, IpvsMessage::bare(IpvsCmd::NewService)), Some(Errno::EINVAL));
    assert_eq!(raw_errno(&t, svc(full(vec![]))), Some(Errno::EINVAL));
    assert_eq!(raw_errno(&t, svc(vec![ServiceAttr::Af(2), ServiceAttr::Port(80)])), Some(Errno::EINVAL));
    // Unknown family.
    assert_eq!(raw_errno(&t, svc(full(vec![ServiceAttr::Af(3)]))), Some(Errno::EAFNOSUPPORT));
    // Missing mandatory attributes on NEW.
    let mut no_sched = full(vec![ServiceAttr::Af(2)]);
    no_sched.retain(|a| !matches!(a, ServiceAttr::SchedName(_)));
    assert_eq!(raw_errno(&t, svc(no_sched)), Some(Errno::EINVAL));
    let mut no_netmask = full(vec![ServiceAttr::Af(2)]);
    no_netmask.retain(|a| !matches!(a, ServiceAttr::Netmask(_)));
    assert_eq!(raw_errno(&t, svc(no_netmask)), Some(Errno::EINVAL));
    // IPv6 prefix length outside 1..=128.
    for plen in [0u32, 129] {
        let v6 = vec![
            ServiceAttr::Af(10),
            ServiceAttr::Protocol(6),
            ServiceAttr::Addr([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            ServiceAttr::Port(80),
            ServiceAttr::SchedName("rr".into()),
            ServiceAttr::Flags { flags: 0, mask: u32::MAX },
            ServiceAttr::Timeout(0),
            ServiceAttr::Netmask(plen),
        ];
        assert_eq!(raw_errno(&t, svc(v6)), Some(Errno::EINVAL), "prefix {plen}");
    }
    // A valid one, then destination checks.
    assert_eq!(raw_errno(&t, svc(full(vec![ServiceAttr::Af(2)]))), None);
    let id = web(80);
    let dest = |d: Destination| add_dest_msg(&id, &d);
    let base = Destination::new(sa("198.51.100.1:80"), Forward::Masquerade);
    assert_eq!(raw_errno(&t, dest(base.clone().with_weight(u32::MAX))), Some(Errno::ERANGE));
    assert_eq!(raw_errno(&t, dest(base.clone().with_thresholds(1, 2))), Some(Errno::ERANGE));
    let gue0 =
        Destination::new(sa("198.51.100.1:80"), Forward::Tunnel(Tunnel::Gue { port: 0, flags: TunnelFlags::empty() }));
    assert_eq!(raw_errno(&t, dest(gue0)), Some(Errno::EINVAL));
    for bad in ["0.0.0.0:80", "224.0.0.1:80", "255.255.255.255:80"] {
        let d = Destination::new(sa(bad), Forward::DirectRoute);
        assert_eq!(raw_errno(&t, dest(d)), Some(Errno::EINVAL), "{bad}");
    }
    // Unusual but unicast: accepted.
    assert_eq!(raw_errno(&t, dest(Destination::new(sa("0.1.2.3:80"), Forward::DirectRoute))), None);
    let v6 = ServiceId::tcp(ip("2001:db8::1"), 80);
    t.transport.request(&msg(Request::AddService(Service::new(v6, Scheduler::Rr)))).unwrap();
    for bad in ["[::]:80", "[ff02::1]:80", "[fe80::1]:80", "[::ffff:198.51.100.1]:80"] {
        let d = Destination::new(sa(bad), Forward::DirectRoute);
        assert_eq!(raw_errno(&t, add_dest_msg(&v6, &d)), Some(Errno::EINVAL), "{bad}");
    }
    let lo6 = Destination::new(sa("[::1]:80"), Forward::Local);
    assert_eq!(raw_errno(&t, add_dest_msg(&v6, &lo6)), None);
    // Destination without port, or without weight on NEW.
    let no_port = IpvsMessage {
        cmd: IpvsCmd::NewDest,
        attrs: vec![
            IpvsAttr::Service(ipvs_service_id_attrs(&id)),
            IpvsAttr::Dest(vec![DestAttr::Addr([198, 51, 100, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]),
        ],
    };
    assert_eq!(raw_errno(&t, no_port), Some(Errno::EINVAL));
    let mut no_weight = dest(base.clone());
    if let IpvsAttr::Dest(a) = &mut no_weight.attrs[1] {
        a.retain(|x| !matches!(x, DestAttr::Weight(_)));
    }
    assert_eq!(raw_errno(&t, no_weight), Some(Errno::EINVAL));
    let mut bad_af = dest(base.clone());
    if let IpvsAttr::Dest(a) = &mut bad_af.attrs[1] {
        a.retain(|x| !matches!(x, DestAttr::AddrFamily(_)));
        a.push(DestAttr::AddrFamily(7));
    }
    assert_eq!(raw_errno(&t, bad_af), Some(Errno::EAFNOSUPPORT));
    // A destination command with no destination attribute.
    let no_dest = IpvsMessage { cmd: IpvsCmd::DelDest, attrs: vec![IpvsAttr::Service(ipvs_service_id_attrs(&id))] };
    assert_eq!(raw_errno(&t, no_dest), Some(Errno::EINVAL));
    // Unknown command; a dump-only command as a request.
    assert_eq!(raw_errno(&t, IpvsMessage::bare(IpvsCmd::Other(99))), Some(Errno::EOPNOTSUPP));
    assert_eq!(raw_errno(&t, IpvsMessage::bare(IpvsCmd::GetDaemon)), Some(Errno::EOPNOTSUPP));
    // Timeouts too large for the kernel (as jiffies in an int).
    let big = msg(Request::SetTimeouts(Timeouts { tcp: u32::MAX, tcp_fin: 0, udp: 0 }));
    assert_eq!(raw_errno(&t, big), Some(Errno::EINVAL));
}

fn ipvs_service_id_attrs(id: &ServiceId) -> Vec<ServiceAttr> {
    match msg(Request::DeleteService(*id)).attrs.remove(0) {
        IpvsAttr::Service(a) => a,
        _ => unreachable!(),
    }
}

#[test]
fn validation_rejects_before_sending() {
    let t = Target::new();
    let c = t.client();
    let cases: Vec<(Result<(), ipvs::Error>, &str)> = vec![
        (c.add_service(&Service::new(web(0), Scheduler::Rr)), "port"),
        (c.add_service(&Service::new(web(80), Scheduler::Other("a-very-long-scheduler".into()))), "scheduler"),
        (c.add_service(&Service::new(ServiceId::fwmark(0, Family::Inet), Scheduler::Rr)), "fwmark"),
        (
            c.add_service(
                &Service::new(ServiceId::tcp(ip("2001:db8::1"), 80), Scheduler::Rr).with_netmask(Netmask::Prefix(0)),
            ),
            "netmask",
        ),
        (
            c.add_destination(
                &web(80),
                &Destination::new(sa("198.51.100.1:80"), Forward::Masquerade).with_weight(u32::MAX),
            ),
            "weight",
        ),
        (c.add_destination(&web(80), &Destination::new(sa("[2001:db8::1]:80"), Forward::Masquerade)), "address"),
        (c.set_timeouts(&Timeouts { tcp: u32::MAX, tcp_fin: 0, udp: 0 }), "tcp"),
        (c.start_daemon(&Daemon::new(DaemonState::Master, "", 1)), "interface"),
        (c.start_daemon(&Daemon::new(DaemonState::Master, "dummy0", 1).with_group(ip("192.0.2.1"))), "group"),
    ];
    for (r, field) in cases {
        let e = r.unwrap_err();
        assert_eq!(e.invalid_input().map(|i| i.field), Some(field), "{e}");
    }
    assert!(c.services().unwrap().is_empty());
}

#[test]
fn timeouts_defaults_and_zero_keeps() {
    let t = Target::new();
    let c = t.client();
    assert_eq!(c.timeouts().unwrap(), Timeouts { tcp: 900, tcp_fin: 120, udp: 300 });
    c.set_timeouts(&Timeouts { tcp: 3600, tcp_fin: 0, udp: 0 }).unwrap();
    assert_eq!(c.timeouts().unwrap(), Timeouts { tcp: 3600, tcp_fin: 120, udp: 300 });
    c.set_timeouts(&Timeouts { tcp: 0, tcp_fin: 30, udp: 60 }).unwrap();
    assert_eq!(c.timeouts().unwrap(), Timeouts { tcp: 3600, tcp_fin: 30, udp: 60 });
    c.set_timeouts(&Timeouts { tcp: Timeouts::MAX, tcp_fin: 1, udp: 1 }).unwrap();
    assert_eq!(c.timeouts().unwrap().tcp, Timeouts::MAX);
}

#[test]
fn zero_and_flush() {
    let t = Target::new();
    let c = t.client();
    for port in [80, 443] {
        c.add_service(&Service::new(web(port), Scheduler::Rr)).unwrap();
        c.add_destination(&web(port), &Destination::new(sa("198.51.100.1:80"), Forward::Masquerade)).unwrap();
    }
    c.zero(Some(&web(80))).unwrap();
    c.zero(None).unwrap();
    assert!(c.services().unwrap().iter().all(|s| s.stats == ipvs::Stats::default()));
    c.flush().unwrap();
    assert!(c.services().unwrap().is_empty());
    assert!(c.destinations(&web(80)).unwrap().is_empty());
    c.flush().unwrap();
}

#[test]
fn sync_daemons() {
    let t = Target::new();
    let c = t.client();
    assert!(c.daemons().unwrap().is_empty());
    c.start_daemon(&Daemon::new(DaemonState::Master, "dummy0", 7)).unwrap();
    assert_errno(c.start_daemon(&Daemon::new(DaemonState::Master, "dummy0", 8)), Errno::EEXIST);
    c.start_daemon(
        &Daemon::new(DaemonState::Backup, "dummy0", 9).with_group(ip("239.1.1.1")).with_port(9999).with_ttl(3),
    )
    .unwrap();
    let ds = c.daemons().unwrap();
    assert_eq!(ds.len(), 2);
    let m = ds.iter().find(|d| d.state == DaemonState::Master).unwrap();
    assert_eq!((m.interface.as_str(), m.sync_id), ("dummy0", 7));
    assert_eq!((m.group, m.port, m.ttl), (Some(ip("224.0.0.81")), Some(8848), Some(1)));
    assert_eq!(m.max_len, Some(1472));
    let b = ds.iter().find(|d| d.state == DaemonState::Backup).unwrap();
    assert_eq!((b.group, b.port, b.ttl, b.sync_id), (Some(ip("239.1.1.1")), Some(9999), Some(3), 9));
    // While a daemon runs, no mixed-family destinations.
    let v6 = ServiceId::tcp(ip("2001:db8::1"), 80);
    c.add_service(&Service::new(v6, Scheduler::Rr)).unwrap();
    let mixed = Destination::new(sa("198.51.100.1:80"), Forward::Tunnel(Tunnel::Ipip));
    assert_errno(c.add_destination(&v6, &mixed), Errno::EINVAL);
    c.stop_daemon(DaemonState::Master).unwrap();
    assert_errno(c.stop_daemon(DaemonState::Master), Errno::ESRCH);
    c.stop_daemon(DaemonState::Backup).unwrap();
    assert!(c.daemons().unwrap().is_empty());
    // And no daemon while mixed-family destinations exist.
    c.add_destination(&v6, &mixed).unwrap();
    assert_errno(c.start_daemon(&Daemon::new(DaemonState::Master, "dummy0", 1)), Errno::EINVAL);
    c.delete_destination(&v6, mixed.socket_addr()).unwrap();
    c.start_daemon(&Daemon::new(DaemonState::Master, "dummy0", 1)).unwrap();
    // Stopped at once: the kernel may answer nothing (-EINTR swallowed); stop_daemon copes.
    c.stop_daemon(DaemonState::Master).unwrap();
}

#[test]
fn daemon_errors() {
    let t = Target::new();
    let c = t.client();
    assert_errno(c.start_daemon(&Daemon::new(DaemonState::Master, "nosuch0", 1)), Errno::ENODEV);
    assert_errno(c.stop_daemon(DaemonState::Backup), Errno::ESRCH);
    let raw = |attrs: Vec<DaemonAttr>| IpvsMessage { cmd: IpvsCmd::NewDaemon, attrs: vec![IpvsAttr::Daemon(attrs)] };
    assert_eq!(raw_errno(&t, raw(vec![DaemonAttr::State(1), DaemonAttr::SyncId(1)])), Some(Errno::EINVAL));
    assert_eq!(raw_errno(&t, IpvsMessage::bare(IpvsCmd::NewDaemon)), Some(Errno::EINVAL));
    let unicast = raw(vec![
        DaemonAttr::State(1),
        DaemonAttr::McastIfn("dummy0".into()),
        DaemonAttr::SyncId(1),
        DaemonAttr::McastGroup([192, 0, 2, 1]),
    ]);
    assert_eq!(raw_errno(&t, unicast), Some(Errno::EINVAL));
    assert_eq!(
        raw_errno(&t, IpvsMessage { cmd: IpvsCmd::DelDaemon, attrs: vec![IpvsAttr::Daemon(vec![])] }),
        Some(Errno::EINVAL)
    );
}

#[test]
fn info() {
    let t = Target::new();
    let info = t.client().info().unwrap();
    assert_eq!(info.version.to_string(), "1.2.1");
    assert_eq!(info.conn_table_size, 4096);
}

#[test]
fn batch_reports_each_outcome_in_order() {
    let t = Target::new();
    let c = t.client();
    let mut reqs = Vec::new();
    let mut want = Vec::new();
    // 3,000 requests, every third one failing, so failures span many chunks.
    for i in 0..1000u16 {
        let svc = Service::new(web(1 + i), Scheduler::Rr);
        reqs.push(Request::AddService(svc.clone()));
        want.push(None);
        reqs.push(Request::AddService(svc.clone()));
        want.push(Some(Errno::EEXIST));
        let d = Destination::new(sa("198.51.100.1:80"), Forward::DirectRoute);
        reqs.push(Request::AddDestination { service: svc.id, destination: d });
        want.push(None);
    }
    let out = c.batch(&reqs).unwrap();
    let got: Vec<Option<Errno>> = out.iter().map(|r| r.as_ref().err().and_then(|e| e.kernel_errno())).collect();
    assert_eq!(got, want);
    // Each failure names its request.
    let e = out[1].as_ref().unwrap_err();
    assert_eq!(e.operation(), ipvs::Operation::AddService);
    assert_eq!(e.target(), Some("TCP 192.0.2.1:1"));
    assert_eq!(c.services().unwrap().len(), 1000);
    // All failing: every report must still arrive.
    let again = c.batch(&reqs[..999]).unwrap();
    assert!(again.iter().all(|r| r.is_err()));
    assert_eq!(
        again.iter().filter(|r| r.as_ref().err().and_then(|e| e.kernel_errno()) == Some(Errno::EEXIST)).count(),
        999
    );
    // An invalid request refuses the whole batch, before sending.
    let bad = Request::AddService(Service::new(web(0), Scheduler::Rr));
    assert!(c.batch(&[Request::Flush, bad]).unwrap_err().invalid_input().is_some());
    assert_eq!(c.services().unwrap().len(), 1000);
}

#[test]
fn large_tables_list_completely() {
    let t = Target::new();
    let c = t.client();
    let mut reqs = Vec::new();
    for i in 0..2000u32 {
        let id = ServiceId::tcp(IpAddr::from([192, 0, 2, (i % 250) as u8 + 1]), 1000 + (i / 250) as u16);
        reqs.push(Request::AddService(Service::new(id, Scheduler::Wlc)));
        for d in 1..=4u8 {
            let dest = Destination::new(SocketAddr::from(([198, 51, 100, d], 80)), Forward::Masquerade);
            reqs.push(Request::AddDestination { service: id, destination: dest });
        }
    }
    assert!(c.batch(&reqs).unwrap().iter().all(|r| r.is_ok()));
    let svcs = c.services().unwrap();
    assert_eq!(svcs.len(), 2000);
    let mut ids: Vec<_> = svcs.iter().map(|s| s.service.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2000);
    assert_eq!(c.destinations(&svcs[1234].service.id).unwrap().len(), 4);
}
