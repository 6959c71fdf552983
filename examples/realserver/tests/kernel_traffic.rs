//! On the real kernel (the lab): real traffic through an IPVS director to a real server
//! prepared by this crate, for DR and TUN (IP-in-IP, GRE, GUE), IPv4 and IPv6; and the ARP
//! problem itself, before and after `prepare`.

mod common;

use std::net::IpAddr;

use common::{fetch, require_kernel, run, Netns, Segment, Server};
use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId, TunnelFlags};
use ipvs_realserver::{
    check, prepare, undo, ArpCure, Change, Method, ProblemKind, Record, Request, ServicePort, Tunnel,
};

const VIP4: &str = "192.0.2.100";
const VIP6: &str = "2001:db8::100";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The director: the VIPs on its eth0 (it answers ARP and ND for them) and one TCP service
/// per family with the real server as the only destination. The IPv6 VIP is deprecated
/// (preferred_lft 0) so that the director never picks it as the source of the packets it
/// sends itself: as a /128 it would win the longest-match rule of source selection against
/// the director's /64 address, and a real server drops tunnel packets whose outer source is
/// its own address (the VIP).
fn director(lb: &Netns, forward: Forward) -> Client {
    if !lb.ip("addr show dev eth0").contains(VIP4) {
        lb.ip(&format!("addr add {VIP4}/32 dev eth0"));
        lb.ip(&format!("addr add {VIP6}/128 dev eth0 nodad preferred_lft 0"));
    }
    let c = Client::in_namespace(lb.path()).unwrap();
    c.flush().unwrap();
    for (vip, rip) in [(VIP4, "192.0.2.20:80"), (VIP6, "[2001:db8::20]:80")] {
        let id = ServiceId::tcp(ip(vip), 80);
        c.add_service(&Service::new(id, Scheduler::Rr)).unwrap();
        c.add_destination(&id, &Destination::new(rip.parse().unwrap(), forward)).unwrap();
    }
    c
}

/// Connection entries the director holds now, per family (v4, v6). (The statistics'
/// connection counters are refreshed by the kernel's estimator every 2 s; the entries are
/// there at once, and a closed TCP connection stays for minutes.)
fn scheduled(c: &Client) -> (u64, u64) {
    let mut out = (0, 0);
    for s in c.services().unwrap() {
        let n: u64 = c
            .destinations(&s.service.id)
            .unwrap()
            .iter()
            .map(|d| u64::from(d.active_conns) + u64::from(d.inactive_conns))
            .sum();
        if s.service.id.family() == ipvs::Family::Inet6 {
            out.1 += n;
        } else {
            out.0 += n;
        }
    }
    out
}

/// Fetches, and on failure prints what the director and the real server saw.
fn get(seg: &Segment, addr: &str) -> String {
    match fetch(&seg.cl, addr) {
        Ok(text) => text,
        Err(e) => {
            let sh = |ns: &Netns, cmd: &str| {
                let out = std::process::Command::new("nsenter")
                    .arg(format!("--net={}", ns.path()))
                    .args(["sh", "-c", cmd])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr))
                    .unwrap_or_default();
                println!("[{}] {cmd}\n{out}", ns.name);
            };
            sh(&seg.lb, "ipvsadm -Ln; ipvsadm -Lnc; ip neigh; nstat -az | grep -v ' 0 '");
            sh(
                &seg.rs,
                "ip -s link; ip addr; ip neigh; nstat -az | grep -v ' 0 '; grep . /proc/sys/net/ipv4/conf/*/rp_filter",
            );
            sh(&seg.cl, "ip neigh; nstat -az | grep -v ' 0 '");
            panic!("{addr}: {e}");
        }
    }
}

/// `after` without the links (and their settings) that `before` does not have; those must be down.
fn without_new_devices(before: &str, after: &str) -> String {
    let name = |l: &str| l.strip_prefix("link ").map(|r| r.split(['@', ' ']).next().unwrap_or("").to_string());
    let old: Vec<String> = before.lines().filter_map(name).collect();
    let new: Vec<String> = after.lines().filter_map(name).filter(|n| !old.contains(n)).collect();
    for l in after.lines().filter(|l| name(l).is_some_and(|n| new.contains(&n))) {
        assert!(l.ends_with("up=false"), "a device the module made is down: {l}");
    }
    println!("left by the module: {new:?}");
    let keep = |l: &&str| !new.iter().any(|n| l.starts_with(&format!("link {n}")) || l.starts_with(&format!("{n}.")));
    after.lines().filter(keep).collect::<Vec<_>>().join("\n")
}

fn request(method: Method, rs: &Netns) -> Request {
    Request::new(method).vip(ip(VIP4)).vip(ip(VIP6)).dev("eth0").netns(rs.path())
}

fn v4() -> String {
    format!("{VIP4}:80")
}

fn v6() -> String {
    format!("[{VIP6}]:80")
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn dr_traffic_flows_after_prepare_for_ipv4_and_ipv6() {
    require_kernel();
    let seg = Segment::new("dr");
    let lb = director(&seg.lb, Forward::DirectRoute);
    let _server = Server::start(&seg.rs, "rs");
    let before = seg.rs.state();
    let req = request(Method::Dr, &seg.rs);
    // Before prepare the real server drops what the director forwards (the VIP is not local).
    assert!(fetch(&seg.cl, &v4()).is_err());
    let report = prepare(&req).unwrap();
    println!("--- prepare (DR)\n{report}");
    assert!(check(&req).unwrap().is_empty());
    for _ in 0..3 {
        assert_eq!(get(&seg, &v4()), "rs");
        assert_eq!(get(&seg, &v6()), "rs");
    }
    let (n4, n6) = scheduled(&lb);
    println!("director scheduled {n4} IPv4 and {n6} IPv6 connections");
    assert!(n4 >= 4 && n6 == 3, "every request went through the director");
    assert_eq!(seg.cl.neighbour(VIP4), Some(seg.lb.mac("eth0")));
    let back = undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
    println!("--- undo\n{back}");
    assert_eq!(seg.rs.state(), before);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn tun_traffic_flows_after_prepare_for_ipip_gre_and_gue() {
    require_kernel();
    let seg = Segment::new("tun");
    // A real server has lo up; this one is the only one with lo down in the segment.
    seg.rs.ip("link set lo up");
    let _server = Server::start(&seg.rs, "rs");
    let mut before = seg.rs.state();
    let kinds = [
        (Tunnel::Ipip, ipvs::Tunnel::Ipip),
        (Tunnel::Gre, ipvs::Tunnel::Gre { flags: TunnelFlags::empty() }),
        (Tunnel::Gue { port: 6080 }, ipvs::Tunnel::Gue { port: 6080, flags: TunnelFlags::empty() }),
    ];
    // The pitfall first: with a VIP the director may use as a source, IPv6 tunnel packets
    // leave the director from the VIP, and the real server drops them (their outer source
    // is one of its own addresses).
    let lb = director(&seg.lb, Forward::Tunnel(ipvs::Tunnel::Ipip));
    seg.lb.ip(&format!("addr change {VIP6}/128 dev eth0 preferred_lft forever"));
    let req = request(Method::Tun(Tunnel::Ipip), &seg.rs);
    let report = prepare(&req).unwrap();
    assert!(fetch(&seg.cl, &v6()).is_err(), "outer source = VIP: dropped by the real server");
    assert_eq!(get(&seg, &v4()), "rs", "IPv4 picks the address of the connected route");
    drop(lb);
    seg.lb.ip(&format!("addr change {VIP6}/128 dev eth0 preferred_lft 0"));
    undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
    for (tunnel, encap) in kinds {
        let lb = director(&seg.lb, Forward::Tunnel(encap));
        let req = request(Method::Tun(tunnel), &seg.rs);
        let report = prepare(&req).unwrap();
        println!("--- prepare (TUN {tunnel})\n{report}");
        assert!(check(&req).unwrap().is_empty());
        for _ in 0..2 {
            assert_eq!(get(&seg, &v4()), "rs", "{tunnel} IPv4");
            assert_eq!(get(&seg, &v6()), "rs", "{tunnel} IPv6");
        }
        let (n4, n6) = scheduled(&lb);
        println!("director scheduled {n4} IPv4 and {n6} IPv6 connections over {tunnel}");
        assert!(n4 >= 2 && n6 >= 2);
        let loaded = report.changes.iter().any(|c| matches!(c, Change::ModuleLoaded { .. }));
        let back = undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
        println!("--- undo\n{back}");
        let mut after = seg.rs.state();
        if loaded {
            // A module prepare loaded stays loaded, and so do the (down, empty) fallback
            // devices it made in every namespace.
            after = without_new_devices(&before, &after);
        }
        assert_eq!(after, before, "after undo of {tunnel}");
        before = seg.rs.state();
    }
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn the_arp_problem_before_prepare_and_none_after() {
    require_kernel();
    let seg = Segment::new("arp");
    let lb = director(&seg.lb, Forward::DirectRoute);
    let _server = Server::start(&seg.rs, "rs");
    // The naive real server: the VIPs on lo, nothing else.
    seg.rs.ip("link set lo up");
    seg.rs.ip(&format!("addr add {VIP4}/32 dev lo"));
    seg.rs.ip(&format!("addr add {VIP6}/128 dev lo"));
    // Take the director off the segment: whoever answers for the VIP now is the real server.
    seg.sw.ip("link set p-lb down");
    assert_eq!(get(&seg, &v4()), "rs", "the client reached the real server directly");
    assert_eq!(seg.cl.neighbour(VIP4), Some(seg.rs.mac("eth0")), "the real server answered ARP for the VIP");
    // IPv6 has no such problem: Linux answers a neighbour solicitation only for addresses on
    // the interface it came in on, and the VIP is on lo.
    assert!(fetch(&seg.cl, &v6()).is_err(), "nobody answers ND for the IPv6 VIP");
    assert_eq!(seg.cl.neighbour(VIP6), None);
    seg.sw.ip("link set p-lb up");
    assert_eq!(scheduled(&lb), (0, 0), "that request bypassed the director");

    let req = request(Method::Dr, &seg.rs);
    let report = prepare(&req).unwrap();
    println!("--- prepare\n{report}");
    seg.cl.ip("neigh flush all");
    seg.sw.ip("link set p-lb down");
    assert!(fetch(&seg.cl, &v4()).is_err(), "after prepare the real server does not answer ARP for the VIP");
    assert_ne!(seg.cl.neighbour(VIP4), Some(seg.rs.mac("eth0")));
    seg.sw.ip("link set p-lb up");
    seg.cl.ip("neigh flush all");
    for _ in 0..5 {
        assert_eq!(get(&seg, &v4()), "rs");
        assert_eq!(get(&seg, &v6()), "rs");
    }
    assert_eq!(scheduled(&lb), (5, 5), "every request went through the director");
    assert_eq!(seg.cl.neighbour(VIP4), Some(seg.lb.mac("eth0")));
    assert_eq!(seg.cl.neighbour(VIP6), Some(seg.lb.mac("eth0")));
    undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
    assert_eq!(seg.rs.sysctl("ipv4/conf/eth0/arp_ignore"), "0");
}

/// The namespace's whole nftables ruleset, as `nft list ruleset` prints it.
fn ruleset(ns: &Netns) -> String {
    run("nsenter", &[&format!("--net={}", ns.path()), "nft", "list", "ruleset"])
}

/// The problem kinds `check` names for the naive real server (the VIPs on lo, nothing else)
/// with each cure.
fn naive_problems(cure: ArpCure) -> Vec<ProblemKind> {
    match cure {
        ArpCure::Sysctl => vec![ProblemKind::ArpIgnore, ProblemKind::ArpAnnounce],
        ArpCure::Arptables => vec![ProblemKind::ArpRulesMissing],
        ArpCure::Redirect => vec![
            ProblemKind::VipPresent,
            ProblemKind::RedirectMissing,
            ProblemKind::VipPresent,
            ProblemKind::RedirectMissing,
        ],
    }
}

/// The shape of `the_arp_problem_before_prepare_and_none_after` for one cure: before
/// prepare the client reaches the real server directly for the VIP, and check names the
/// problem; after it every request goes through the director and check names none; after
/// undo the real server's links, addresses, routes, settings and nftables ruleset are
/// exactly as before.
fn arp_problem_cured_by(cure: ArpCure) {
    let seg = Segment::new(&format!("c{}", cure.to_string().chars().next().unwrap_or('x')));
    let lb = director(&seg.lb, Forward::DirectRoute);
    let _server = Server::start(&seg.rs, "rs");
    seg.rs.ip("link set lo up");
    seg.rs.ip(&format!("addr add {VIP4}/32 dev lo"));
    seg.rs.ip(&format!("addr add {VIP6}/128 dev lo"));
    let (state, rules) = (seg.rs.state(), ruleset(&seg.rs));
    let req = request(Method::Dr, &seg.rs).arp(cure).service(ServicePort::new(ipvs::Protocol::Tcp, 80));
    let found: Vec<ProblemKind> = check(&req).unwrap().into_iter().map(|p| p.kind).collect();
    assert_eq!(found, naive_problems(cure), "{cure}: check names the problem before prepare");
    seg.sw.ip("link set p-lb down");
    assert_eq!(get(&seg, &v4()), "rs", "{cure}: the client reached the real server directly");
    assert_eq!(seg.cl.neighbour(VIP4), Some(seg.rs.mac("eth0")), "{cure}: the real server answered ARP");
    seg.sw.ip("link set p-lb up");
    assert_eq!(scheduled(&lb), (0, 0), "{cure}: that request bypassed the director");

    let report = prepare(&req).unwrap();
    println!("--- prepare (--arp {cure})\n{report}\n{}", ruleset(&seg.rs));
    assert_eq!(check(&req).unwrap(), vec![], "{cure}: check names no problem after prepare");
    seg.cl.ip("neigh flush all");
    seg.sw.ip("link set p-lb down");
    assert!(fetch(&seg.cl, &v4()).is_err(), "{cure}: after prepare the real server does not answer ARP for the VIP");
    assert_ne!(seg.cl.neighbour(VIP4), Some(seg.rs.mac("eth0")));
    seg.sw.ip("link set p-lb up");
    seg.cl.ip("neigh flush all");
    for _ in 0..5 {
        assert_eq!(get(&seg, &v4()), "rs");
        assert_eq!(get(&seg, &v6()), "rs");
    }
    assert_eq!(scheduled(&lb), (5, 5), "{cure}: every request went through the director");
    assert_eq!(seg.cl.neighbour(VIP4), Some(seg.lb.mac("eth0")));
    assert_eq!(seg.cl.neighbour(VIP6), Some(seg.lb.mac("eth0")));
    let back = undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
    println!("--- undo\n{back}");
    assert_eq!(seg.rs.state(), state, "{cure}: links, addresses, routes and settings as before");
    assert_eq!(ruleset(&seg.rs), rules, "{cure}: the nftables ruleset as before");
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn each_arp_cure_before_prepare_and_none_after() {
    require_kernel();
    for cure in [ArpCure::Sysctl, ArpCure::Arptables, ArpCure::Redirect] {
        arp_problem_cured_by(cure);
    }
}
