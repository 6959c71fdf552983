//! The rules on made-up snapshots: what check finds, what prepare plans, and that after
//! the plan (simulated) check is clean and a second plan is empty.

use std::net::IpAddr;

use crate::fou::FouPort;
use crate::model::{ProblemKind as K, Step};
use crate::rtnl::{Addr, Link, Route};
use crate::rules::{plan, problems};
use crate::state::Snapshot;
use crate::sysctl::key;
use crate::{ArpCure, Method, Network, Request, ServicePort, Tunnel};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn link(index: u32, name: &str, up: bool) -> Link {
    let lo = name == "lo";
    let noarp = lo || name.starts_with("tunl") || name.starts_with("dummy") || name.starts_with("ip6tnl");
    Link { index, name: name.into(), up, running: up, loopback: lo, noarp, mac: Vec::new(), kind: None }
}

/// A fresh namespace: lo down, eth0 up with the RIP, every setting 0.
fn fresh() -> Snapshot {
    let mut s = Snapshot {
        links: vec![link(1, "lo", false), link(2, "eth0", true)],
        addrs: vec![Addr { index: 2, ip: ip("192.0.2.20"), prefix_len: 24 }],
        ..Snapshot::default()
    };
    for scope in ["all", "lo", "eth0"] {
        for knob in crate::sysctl::KNOBS {
            s.sysctls.insert(key(scope, knob), "0".into());
        }
    }
    s
}

fn set(s: &mut Snapshot, scope: &str, knob: &str, v: i64) {
    s.sysctls.insert(key(scope, knob), v.to_string());
}

/// What the kernel would have after the steps.
fn simulate(s: &mut Snapshot, steps: &[Step]) {
    for step in steps {
        match step {
            Step::CreateLink { name, module, .. } => {
                let index = s.links.iter().map(|l| l.index).max().unwrap_or(0) + 1;
                s.links.push(link(index, name, false));
                s.modules.insert(module.clone());
                for knob in crate::sysctl::KNOBS {
                    s.sysctls.insert(key(name, knob), "0".into());
                }
            }
            Step::SetUp { name } => s.links.iter_mut().filter(|l| &l.name == name).for_each(|l| l.up = true),
            Step::AddAddress { dev, address, prefix_len } => {
                let index = s.link(dev).unwrap().index;
                s.addrs.push(Addr { index, ip: *address, prefix_len: *prefix_len });
            }
            Step::RemoveAddress { dev, address, prefix_len } => {
                let index = s.link(dev).unwrap().index;
                s.addrs.retain(|a| !(a.index == index && a.ip == *address && a.prefix_len == *prefix_len));
            }
            Step::Sysctl { key, after, .. } => {
                s.sysctls.insert(key.clone(), after.clone());
            }
            Step::AddGuePort { port, ipv6 } => s.fou.push(FouPort { port: *port, ipv6: *ipv6, gue: true }),
            Step::Route { network, via, replacing } => {
                if replacing.is_some() {
                    s.routes.retain(|r| !(r.dst == network.addr && r.dst_len == network.prefix_len && r.metric == 0));
                }
                let r = Route {
                    dst: network.addr,
                    dst_len: network.prefix_len,
                    gateways: vec![*via],
                    metric: 0,
                    raw: vec![],
                };
                s.routes.push(r);
            }
            Step::NftTable { family, table, .. } => {
                let mut r = s.nft.clone().unwrap_or_default();
                r.rules.retain(|x| !(&x.family == family && x.table == crate::nft::TABLE));
                r.ours.retain(|(f, _)| f != family);
                let new = crate::nft::parse(&crate::nft::listing(table)).unwrap();
                r.rules.extend(new.rules);
                r.ours.extend(new.ours);
                s.nft = Some(r);
            }
        }
    }
}

/// Plans and simulates until nothing is left (at most 4 rounds, like prepare); returns every step.
fn prepare(req: &Request, s: &mut Snapshot) -> Vec<Step> {
    let mut all = Vec::new();
    for _ in 0..4 {
        let steps = plan(req, s).unwrap();
        if steps.is_empty() {
            assert!(problems(req, s).is_empty(), "{:#?}", problems(req, s));
            return all;
        }
        simulate(s, &steps);
        all.extend(steps);
    }
    panic!("did not settle: {all:#?}");
}

fn kinds(req: &Request, s: &Snapshot) -> Vec<(K, String)> {
    problems(req, s).into_iter().map(|p| (p.kind, p.place)).collect()
}

fn sysctl(scope: &str, knob: &str, before: &str, after: &str) -> Step {
    Step::Sysctl { key: key(scope, knob), before: before.into(), after: after.into() }
}

#[test]
fn dr_on_a_fresh_namespace() {
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100"));
    let mut s = fresh();
    assert_eq!(
        kinds(&req, &s),
        vec![
            (K::LinkDown, "lo".into()),
            (K::VipMissing, "192.0.2.100".into()),
            (K::ArpIgnore, "net.ipv4.conf.eth0.arp_ignore".into()),
            (K::ArpAnnounce, "net.ipv4.conf.eth0.arp_announce".into()),
        ]
    );
    let steps = prepare(&req, &mut s);
    assert_eq!(
        steps,
        vec![
            Step::SetUp { name: "lo".into() },
            Step::AddAddress { dev: "lo".into(), address: ip("192.0.2.100"), prefix_len: 32 },
            sysctl("all", "arp_ignore", "0", "1"),
            sysctl("all", "arp_announce", "0", "2"),
        ]
    );
}

#[test]
fn dr_with_a_device_sets_that_device_only() {
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100")).dev("eth0");
    let mut s = fresh();
    let steps = prepare(&req, &mut s);
    assert!(steps.contains(&sysctl("eth0", "arp_ignore", "0", "1")), "{steps:?}");
    assert!(steps.contains(&sysctl("eth0", "arp_announce", "0", "2")), "{steps:?}");
    assert!(!steps.iter().any(|s| matches!(s, Step::Sysctl { key, .. } if key.contains("/all/"))));
    // Unset on the interface: named, with the value of all in the text.
    set(&mut s, "eth0", "arp_ignore", 0);
    let p = problems(&req, &s);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].kind, K::ArpIgnore);
    assert!(p[0].what.contains("all=0 and eth0=0"), "{}", p[0].what);
}

#[test]
fn the_effective_value_is_the_larger_one() {
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100"));
    let mut s = fresh();
    prepare(&req, &mut s);
    // `all` covers eth0 ...
    assert!(problems(&req, &s).is_empty());
    // ... and a second ARP interface; unset on all, both show.
    s.links.push(link(3, "eth1", true));
    assert!(problems(&req, &s).is_empty());
    set(&mut s, "all", "arp_ignore", 0);
    set(&mut s, "eth0", "arp_ignore", 1);
    assert_eq!(kinds(&req, &s), vec![(K::ArpIgnore, "net.ipv4.conf.eth1.arp_ignore".into())]);
    // Too high on all is wrong everywhere (8 answers nothing, not even for the RIP).
    set(&mut s, "all", "arp_ignore", 8);
    assert_eq!(kinds(&req, &s).len(), 2);
    let steps = prepare(&req, &mut s);
    assert_eq!(steps, vec![sysctl("all", "arp_ignore", "8", "1")]);
    // A device that is down or NOARP does not count.
    set(&mut s, "all", "arp_announce", 0);
    s.links.iter_mut().for_each(|l| l.up = l.name == "lo");
    s.links.push(link(4, "dummy0", true));
    assert!(problems(&req, &s).is_empty());
}

#[test]
fn ipv6_dr_needs_the_vip_on_lo_only() {
    let req = Request::new(Method::Dr).vip(ip("2001:db8::100"));
    let mut s = fresh();
    let steps = prepare(&req, &mut s);
    assert_eq!(
        steps,
        vec![
            Step::SetUp { name: "lo".into() },
            Step::AddAddress { dev: "lo".into(), address: ip("2001:db8::100"), prefix_len: 128 },
        ]
    );
}

#[test]
fn a_vip_on_the_arp_interface_or_too_wide_is_moved() {
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100")).dev("eth0");
    let mut s = fresh();
    s.addrs.push(Addr { index: 2, ip: ip("192.0.2.100"), prefix_len: 24 });
    s.addrs.push(Addr { index: 1, ip: ip("192.0.2.100"), prefix_len: 24 });
    let k = kinds(&req, &s);
    assert!(k.contains(&(K::VipMisplaced, "192.0.2.100/24 on eth0".into())), "{k:?}");
    assert!(k.contains(&(K::VipMisplaced, "192.0.2.100/24 on lo".into())), "{k:?}");
    assert!(k.contains(&(K::VipMissing, "192.0.2.100".into())), "{k:?}");
    let steps = prepare(&req, &mut s);
    assert!(steps.contains(&Step::RemoveAddress { dev: "eth0".into(), address: ip("192.0.2.100"), prefix_len: 24 }));
    assert_eq!(s.addrs.iter().filter(|a| a.ip == ip("192.0.2.100")).count(), 1);
}

#[test]
fn tun_creates_the_device_first_then_sets_it_up() {
    let req = Request::new(Method::Tun(Tunnel::Ipip)).vip(ip("192.0.2.100")).vip(ip("2001:db8::100"));
    let mut s = fresh();
    let k = kinds(&req, &s);
    assert!(k.contains(&(K::TunnelModuleMissing, "ipip".into())), "{k:?}");
    assert!(k.contains(&(K::TunnelModuleMissing, "ip6_tunnel".into())), "{k:?}");
    s.modules.insert("ipip".into());
    assert!(kinds(&req, &s).contains(&(K::TunnelDeviceMissing, "tunl0".into())));
    let first = plan(&req, &s).unwrap();
    assert!(first.iter().all(|st| !matches!(st, Step::AddAddress { dev, .. } if dev == "tunl0")), "{first:?}");
    let steps = prepare(&req, &mut s);
    assert!(steps.contains(&Step::AddAddress { dev: "tunl0".into(), address: ip("192.0.2.100"), prefix_len: 32 }));
    assert!(steps.contains(&Step::AddAddress { dev: "ip6tnl0".into(), address: ip("2001:db8::100"), prefix_len: 128 }));
    assert!(steps.contains(&Step::SetUp { name: "tunl0".into() }));
    assert!(!steps.contains(&Step::SetUp { name: "lo".into() }), "TUN does not need lo");
}

#[test]
fn strict_rp_filter_on_all_or_the_tunnel_is_named_and_loosened_on_the_tunnel() {
    let req = Request::new(Method::Tun(Tunnel::Ipip)).vip(ip("192.0.2.100"));
    let mut s = fresh();
    prepare(&req, &mut s);
    for scope in ["all", "tunl0"] {
        set(&mut s, scope, "rp_filter", 1);
        assert_eq!(kinds(&req, &s), vec![(K::RpFilter, "net.ipv4.conf.tunl0.rp_filter".into())]);
        let steps = prepare(&req, &mut s);
        let before = if scope == "tunl0" { "1" } else { "0" };
        assert_eq!(steps, vec![sysctl("tunl0", "rp_filter", before, "2")]);
        set(&mut s, "all", "rp_filter", 0);
        set(&mut s, "tunl0", "rp_filter", 0);
    }
    // Loose on all is fine.
    set(&mut s, "all", "rp_filter", 2);
    assert!(problems(&req, &s).is_empty());
}

#[test]
fn gue_needs_a_receive_port_per_family() {
    let req = Request::new(Method::Tun(Tunnel::Gue { port: 6080 })).vip(ip("192.0.2.100"));
    let mut s = fresh();
    s.modules.insert("ipip".into());
    s.fou.push(FouPort { port: 6080, ipv6: true, gue: true });
    assert!(kinds(&req, &s).contains(&(K::GuePortMissing, "udp port 6080".into())));
    let steps = prepare(&req, &mut s);
    assert!(steps.contains(&Step::AddGuePort { port: 6080, ipv6: false }));
}

#[test]
fn nat_routes_replies_via_the_director() {
    let director = ip("198.51.100.1");
    let req = Request::new(Method::Nat).director(director);
    let mut s = fresh();
    let other = Route { dst: ip("0.0.0.0"), dst_len: 0, gateways: vec![ip("192.0.2.1")], metric: 0, raw: vec![1, 2] };
    s.routes.push(other);
    assert_eq!(kinds(&req, &s), vec![(K::NoRouteViaDirector, "route to 0.0.0.0/0".into())]);
    let steps = prepare(&req, &mut s);
    assert_eq!(
        steps,
        vec![Step::Route { network: Network::default_for(false), via: director, replacing: Some("0102".into()) }]
    );
    // A client network: a more specific route elsewhere wins over the default via the director.
    let net: Network = "203.0.113.0/24".parse().unwrap();
    let req = req.client_network(net);
    assert!(problems(&req, &s).is_empty());
    s.routes.push(Route { dst: ip("203.0.113.0"), dst_len: 24, gateways: vec![], metric: 0, raw: vec![] });
    let p = problems(&req, &s);
    assert_eq!(p.len(), 1);
    assert!(p[0].what.contains("on-link"), "{}", p[0].what);
    prepare(&req, &mut s);
    // NAT does not touch VIPs or ARP.
    assert!(s.sysctls.values().all(|v| v == "0"));
}

#[test]
fn a_missing_device_is_a_problem_and_an_error_for_prepare() {
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100")).dev("eth9");
    let s = fresh();
    assert!(kinds(&req, &s).contains(&(K::InterfaceMissing, "eth9".into())));
    assert!(matches!(plan(&req, &s), Err(crate::Error::NoInterface(d)) if d == "eth9"));
}

#[test]
fn problems_serialize_for_machines() {
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100"));
    let json = serde_json::to_value(problems(&req, &fresh())).unwrap();
    assert_eq!(json[0]["kind"], "link_down");
    assert_eq!(json[0]["where"], "lo");
    assert!(json[0]["fix"].as_str().unwrap().contains("ip link set lo up"));
}

#[test]
fn undo_reports_read_backwards() {
    use crate::{Change, Report};
    let c = Change::Sysctl { key: key("all", "arp_ignore"), before: "0".into(), after: "1".into() };
    let up = Change::LinkUp { name: "lo".into() };
    let prepared = Report { changes: vec![up.clone(), c.clone()], ..Report::default() };
    assert_eq!(prepared.to_string(), "set lo up\nnet.ipv4.conf.all.arp_ignore: 0 -> 1\n");
    let undone = Report { changes: vec![c, up], undone: true, ..Report::default() };
    assert_eq!(undone.to_string(), "net.ipv4.conf.all.arp_ignore: 1 -> 0\nset lo down\n");
    assert_eq!(Report::default().to_string(), "");
}

fn with_nft(mut s: Snapshot) -> Snapshot {
    s.nft = Some(crate::nft::Ruleset::default());
    s
}

#[test]
fn the_arptables_cure_adds_arp_rules_and_no_sysctl() {
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100")).vip(ip("2001:db8::100")).arp(ArpCure::Arptables);
    let mut s = with_nft(fresh());
    assert_eq!(
        kinds(&req, &s),
        vec![
            (K::LinkDown, "lo".into()),
            (K::VipMissing, "192.0.2.100".into()),
            (K::VipMissing, "2001:db8::100".into()),
            (K::ArpRulesMissing, "arp rules for 192.0.2.100".into()),
        ]
    );
    let fix = &problems(&req, &s)[3].fix;
    assert!(fix.contains("--arp sysctl") && fix.contains("--arp arptables") && fix.contains("--arp redirect"), "{fix}");
    let steps = prepare(&req, &mut s);
    assert!(!steps.iter().any(|st| matches!(st, Step::Sysctl { .. })), "{steps:#?}");
    let tables: Vec<&Step> = steps.iter().filter(|st| matches!(st, Step::NftTable { .. })).collect();
    assert_eq!(tables.len(), 1);
    let Step::NftTable { family, table, replacing: None } = tables[0] else { panic!() };
    assert_eq!(family, "arp");
    assert!(table.contains("\"oifname\"") && table.contains("\"192.0.2.20\""), "the RIP of eth0: {table}");
    // The sysctl cure asked for, with the arp rules in place: no ARP problem either.
    let sysctl = Request { arp: ArpCure::Sysctl, ..req.clone() };
    assert!(problems(&sysctl, &s).is_empty());
    assert!(plan(&sysctl, &s).unwrap().is_empty());
}

#[test]
fn the_arptables_cure_is_not_needed_where_the_sysctls_cure() {
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100")).arp(ArpCure::Arptables);
    let mut s = with_nft(fresh());
    set(&mut s, "all", "arp_ignore", 1);
    set(&mut s, "all", "arp_announce", 2);
    let steps = prepare(&req, &mut s);
    assert!(!steps.iter().any(|st| matches!(st, Step::NftTable { .. })), "{steps:#?}");
}

#[test]
fn the_redirect_cure_takes_the_vip_away_and_redirects_each_port() {
    let web = ServicePort::new(ipvs::Protocol::Tcp, 80);
    let dns = ServicePort::new(ipvs::Protocol::Udp, 53);
    let req = Request::new(Method::Dr)
        .vip(ip("192.0.2.100"))
        .vip(ip("2001:db8::100"))
        .arp(ArpCure::Redirect)
        .service(web)
        .service(dns);
    let mut s = with_nft(fresh());
    s.addrs.push(Addr { index: 1, ip: ip("192.0.2.100"), prefix_len: 32 });
    assert_eq!(
        kinds(&req, &s),
        vec![
            (K::VipPresent, "192.0.2.100/32 on lo".into()),
            (K::RedirectMissing, "tcp:80 to 192.0.2.100".into()),
            (K::RedirectMissing, "udp:53 to 192.0.2.100".into()),
            (K::RedirectMissing, "tcp:80 to 2001:db8::100".into()),
            (K::RedirectMissing, "udp:53 to 2001:db8::100".into()),
        ]
    );
    let steps = prepare(&req, &mut s);
    let shown: Vec<String> = steps.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "remove 192.0.2.100/32 from lo",
            "add nftables table ip ipvs_realserver",
            "add nftables table ip6 ipvs_realserver"
        ]
    );
    // A port more: our table is replaced, keeping the old one for undo.
    let more = req.clone().service(ServicePort::new(ipvs::Protocol::Tcp, 443));
    let steps = plan(&more, &s).unwrap();
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|st| matches!(st, Step::NftTable { replacing: Some(_), .. })), "{steps:#?}");
}

#[test]
fn the_cures_are_refused_where_they_do_not_apply() {
    let web = ServicePort::new(ipvs::Protocol::Tcp, 80);
    let refused = |r: Request| r.validate().unwrap_err().to_string();
    let tun = Request::new(Method::Tun(Tunnel::Ipip)).vip(ip("192.0.2.100")).service(web);
    assert_eq!(refused(tun.clone().arp(ArpCure::Redirect)), "invalid request: the redirect cure is not for tun (ipip)");
    tun.arp(ArpCure::Arptables).validate().unwrap();
    let dr = Request::new(Method::Dr).vip(ip("192.0.2.100")).arp(ArpCure::Redirect);
    assert_eq!(refused(dr), "invalid request: the redirect cure needs the service ports");
    let nat = Request::new(Method::Nat).director(ip("192.0.2.1")).arp(ArpCure::Arptables);
    assert_eq!(refused(nat), "invalid request: the arptables cure is not for nat");
    assert_eq!("udp:53".parse::<ServicePort>().unwrap(), ServicePort::new(ipvs::Protocol::Udp, 53));
    assert!("tcp".parse::<ServicePort>().is_err() && "icmp:1".parse::<ServicePort>().is_err());
}
