//! On the real kernel (the lab: `IPVS_TEST_TARGET=kernel`, `--include-ignored`): each
//! misconfiguration a real server can have is made on purpose and `check` must name it;
//! `prepare` fixes it, `undo` puts every value back. Each test works in network namespaces
//! of its own, with documentation addresses only.

mod common;

use std::net::IpAddr;

use common::{require_kernel, run, Netns};
use ipvs_realserver::{
    check, prepare, prepare_recorded, state_path, undo, undo_recorded, Change, Method, Network, Problem, ProblemKind,
    Record, Request, Tunnel,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn show(what: &str, problems: &[Problem]) {
    println!("--- {what}");
    for p in problems {
        println!("{p}");
    }
}

/// Prepares, checks clean, breaks with `breakage`, expects `check` to name exactly
/// `expected` (kind and place), then undoes and compares with the state before.
fn broken_then_named(ns: &Netns, req: &Request, breakage: impl FnOnce(&Netns), expected: &[(ProblemKind, &str)]) {
    broken_named_repaired(ns, req, breakage, expected, |_| {});
}

/// [`broken_then_named`], with `repair` undoing a breakage of something prepare did not
/// change (undo restores only what prepare changed).
fn broken_named_repaired(
    ns: &Netns,
    req: &Request,
    breakage: impl FnOnce(&Netns),
    expected: &[(ProblemKind, &str)],
    repair: impl FnOnce(&Netns),
) {
    let before = ns.state();
    let initially = check(req).unwrap();
    assert!(!initially.is_empty(), "a fresh namespace is not ready");
    let report = prepare(req).unwrap();
    println!("--- prepare\n{report}");
    let clean = check(req).unwrap();
    assert!(clean.is_empty(), "after prepare: {clean:#?}");
    assert!(prepare(req).unwrap().changes.is_empty(), "prepare is idempotent");
    breakage(ns);
    let found = check(req).unwrap();
    show("check after the breakage", &found);
    let got: Vec<(ProblemKind, &str)> = found.iter().map(|p| (p.kind, p.place.as_str())).collect();
    assert_eq!(got, expected);
    let json = serde_json::to_value(&found).unwrap();
    assert!(json[0]["fix"].as_str().is_some_and(|f| !f.is_empty()), "{json}");
    repair(ns);
    let record = Record { changes: report.changes, ..Record::new(req.netns.clone()) };
    let back = undo(&record).unwrap();
    println!("--- undo\n{back}");
    assert_eq!(ns.state(), before, "undo restores the original state");
}

fn dr(ns: &Netns) -> Request {
    Request::new(Method::Dr).vip(ip("192.0.2.100")).vip(ip("2001:db8::100")).netns(ns.path())
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_a_missing_vip() {
    require_kernel();
    let ns = Netns::new("vip").with_eth0(&["192.0.2.20/24", "2001:db8::20/64"]);
    let breakage = |ns: &Netns| {
        ns.ip("addr del 192.0.2.100/32 dev lo");
        ns.ip("addr del 2001:db8::100/128 dev lo");
    };
    let expected = [(ProblemKind::VipMissing, "192.0.2.100"), (ProblemKind::VipMissing, "2001:db8::100")];
    broken_then_named(&ns, &dr(&ns), breakage, &expected);
}

fn arp_setting(tag: &str, knob: &str, on_dev: bool, kind: ProblemKind) {
    require_kernel();
    let ns = Netns::new(tag).with_eth0(&["192.0.2.20/24"]);
    let mut req = dr(&ns);
    if on_dev {
        req = req.dev("eth0");
    }
    let scope = if on_dev { "eth0" } else { "all" };
    let key = format!("ipv4/conf/{scope}/{knob}");
    let breakage = |ns: &Netns| {
        ns.set_sysctl(&key, "0");
        assert_eq!(ns.sysctl(&key), "0");
    };
    let place = format!("net.ipv4.conf.eth0.{knob}");
    broken_then_named(&ns, &req, breakage, &[(kind, place.as_str())]);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_arp_ignore_unset_on_all() {
    arp_setting("ai-all", "arp_ignore", false, ProblemKind::ArpIgnore);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_arp_ignore_unset_on_the_interface() {
    arp_setting("ai-dev", "arp_ignore", true, ProblemKind::ArpIgnore);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_arp_announce_unset_on_all() {
    arp_setting("aa-all", "arp_announce", false, ProblemKind::ArpAnnounce);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_arp_announce_unset_on_the_interface() {
    arp_setting("aa-dev", "arp_announce", true, ProblemKind::ArpAnnounce);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_strict_rp_filter_for_tun_on_all_and_on_tunl0() {
    require_kernel();
    let ns = Netns::new("rpf").with_eth0(&["192.0.2.20/24"]);
    let req = Request::new(Method::Tun(Tunnel::Ipip)).vip(ip("192.0.2.100")).netns(ns.path());
    let expected = [(ProblemKind::RpFilter, "net.ipv4.conf.tunl0.rp_filter")];
    for scope in ["all", "tunl0"] {
        let key = format!("ipv4/conf/{scope}/rp_filter");
        broken_named_repaired(&ns, &req, |ns| ns.set_sysctl(&key, "1"), &expected, |ns| ns.set_sysctl(&key, "0"));
    }
    // Strict on all from the start (a common distribution default): prepare loosens tunl0
    // only, and undo puts back exactly what was there.
    ns.set_sysctl("ipv4/conf/all/rp_filter", "1");
    let before = ns.state();
    let report = prepare(&req).unwrap();
    let rp = Change::Sysctl { key: "net/ipv4/conf/tunl0/rp_filter".into(), before: "0".into(), after: "2".into() };
    assert!(report.changes.contains(&rp), "{report}");
    assert!(check(&req).unwrap().is_empty());
    assert_eq!(ns.sysctl("ipv4/conf/all/rp_filter"), "1", "all is left alone");
    undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
    assert_eq!(ns.state(), before);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_a_missing_tunl0_and_prepare_creates_it() {
    require_kernel();
    // Hosts that set fb_tunnels_only_for_init_net get no tunl0 in new namespaces even with
    // the ipip module loaded.
    let knob = "/proc/sys/net/core/fb_tunnels_only_for_init_net";
    std::fs::write(knob, "1").unwrap();
    let ns = Netns::new("notunl");
    std::fs::write(knob, "0").unwrap();
    let ns = ns.with_eth0(&["192.0.2.20/24"]);
    assert!(!ns.ip("link show").contains("tunl0"));
    let req = Request::new(Method::Tun(Tunnel::Ipip)).vip(ip("192.0.2.100")).netns(ns.path());
    let before = ns.state();
    let found = check(&req).unwrap();
    show("check without tunl0", &found);
    assert_eq!(found[0].kind, ProblemKind::TunnelDeviceMissing);
    assert_eq!(found[0].place, "tunl0");
    let report = prepare(&req).unwrap();
    println!("--- prepare\n{report}");
    assert!(report.changes.contains(&Change::LinkCreated { name: "tunl0".into() }), "{report}");
    assert!(check(&req).unwrap().is_empty());
    undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
    assert!(!ns.ip("link show").contains("tunl0"), "undo deletes the tunl0 it made");
    assert_eq!(ns.state(), before);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_a_missing_ipip_module_and_prepare_loads_it() {
    require_kernel();
    let ns = Netns::new("nomod").with_eth0(&["192.0.2.20/24"]);
    // Unloading ipip removes tunl0 from every namespace; the kernel loads it again (request_module)
    // when prepare asks rtnetlink for an ipip link.
    run("rmmod", &["ipip"]);
    assert!(!std::path::Path::new("/sys/module/ipip").exists());
    let req = Request::new(Method::Tun(Tunnel::Ipip)).vip(ip("192.0.2.100")).netns(ns.path());
    let found = check(&req).unwrap();
    show("check without the ipip module", &found);
    assert_eq!((found[0].kind, found[0].place.as_str()), (ProblemKind::TunnelModuleMissing, "ipip"));
    let report = prepare(&req).unwrap();
    println!("--- prepare\n{report}");
    assert!(std::path::Path::new("/sys/module/ipip").exists());
    assert_eq!(report.changes[0], Change::ModuleLoaded { name: "ipip".into() });
    assert!(check(&req).unwrap().is_empty());
    let back = undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
    println!("--- undo\n{back}");
    assert!(back.notes.iter().any(|n| n.contains("ipip stays loaded")), "{back}");
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_no_route_back_via_the_director_for_nat() {
    require_kernel();
    let ns = Netns::new("nat").with_eth0(&["192.0.2.20/24", "2001:db8::20/64"]);
    ns.ip("route add default via 192.0.2.254");
    let director = ip("192.0.2.1");
    let req = Request::new(Method::Nat).director(director).netns(ns.path());
    let before = ns.state();
    let found = check(&req).unwrap();
    show("check with the default route elsewhere", &found);
    assert_eq!((found[0].kind, found[0].place.as_str()), (ProblemKind::NoRouteViaDirector, "route to 0.0.0.0/0"));
    let report = prepare(&req).unwrap();
    println!("--- prepare\n{report}");
    assert!(check(&req).unwrap().is_empty());
    assert!(ns.ip("route show default").contains("via 192.0.2.1 "));
    undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
    assert_eq!(ns.state(), before, "the old default route is back");
    // A client network with no route via the director; IPv6 alike.
    let clients: Network = "203.0.113.0/24".parse().unwrap();
    let req = req.client_network(clients);
    ns.ip("route add 203.0.113.0/24 dev eth0");
    let found = check(&req).unwrap();
    show("check with clients on-link", &found);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].place, "route to 203.0.113.0/24");
    let v6 = Request::new(Method::Nat).director(ip("2001:db8::1")).netns(ns.path());
    assert_eq!(check(&v6).unwrap()[0].kind, ProblemKind::NoRouteViaDirector);
    let before = ns.state();
    let report = prepare(&v6).unwrap();
    assert!(check(&v6).unwrap().is_empty());
    undo(&Record { changes: report.changes, ..Record::new(v6.netns.clone()) }).unwrap();
    assert_eq!(ns.state(), before);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn check_names_a_missing_gue_port() {
    require_kernel();
    let ns = Netns::new("gue").with_eth0(&["192.0.2.20/24", "2001:db8::20/64"]);
    let req = Request::new(Method::Tun(Tunnel::Gue { port: 6080 }))
        .vip(ip("192.0.2.100"))
        .vip(ip("2001:db8::100"))
        .netns(ns.path());
    let before = ns.state();
    let report = prepare(&req).unwrap();
    println!("--- prepare\n{report}");
    assert!(report.changes.contains(&Change::GuePortAdded { port: 6080, ipv6: false }));
    assert!(report.changes.contains(&Change::GuePortAdded { port: 6080, ipv6: true }));
    assert!(check(&req).unwrap().is_empty());
    let other = Request { method: Method::Tun(Tunnel::Gue { port: 6081 }), ..req.clone() };
    let found = check(&other).unwrap();
    show("check for another port", &found);
    assert_eq!(found.iter().filter(|p| p.kind == ProblemKind::GuePortMissing).count(), 2);
    undo(&Record { changes: report.changes, ..Record::new(req.netns.clone()) }).unwrap();
    assert_eq!(ns.state(), before);
    assert_eq!(check(&req).unwrap().iter().filter(|p| p.kind == ProblemKind::GuePortMissing).count(), 2);
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn a_state_file_keeps_the_first_values_across_prepares_and_undo_restores_them() {
    require_kernel();
    let ns = Netns::new("rec").with_eth0(&["192.0.2.20/24"]);
    // Values that are not the defaults, to see them come back.
    ns.set_sysctl("ipv4/conf/all/arp_announce", "1");
    ns.set_sysctl("ipv4/conf/eth0/arp_ignore", "8");
    let host_before = std::fs::read_to_string("/proc/sys/net/ipv4/conf/all/arp_ignore").unwrap();
    let before = ns.state();
    let state = std::env::temp_dir().join(format!("{}.json", ns.name));
    let req = dr(&ns);
    let first = prepare_recorded(&req, &state).unwrap();
    println!("--- prepare\n{first}");
    assert!(first.changes.contains(&Change::Sysctl {
        key: "net/ipv4/conf/eth0/arp_ignore".into(),
        before: "8".into(),
        after: "1".into()
    }));
    // /proc/sys/net was read and written inside the namespace, not the caller's.
    assert_eq!(std::fs::read_to_string("/proc/sys/net/ipv4/conf/all/arp_ignore").unwrap(), host_before);
    assert_eq!(ns.sysctl("ipv4/conf/all/arp_ignore"), "1");
    // Someone changes a value by hand; a second prepare sets it again but the record keeps
    // the first value before.
    ns.set_sysctl("ipv4/conf/all/arp_announce", "0");
    let second = prepare_recorded(&req, &state).unwrap();
    assert_eq!(second.changes.len(), 1, "{second}");
    let record = Record::load(&state).unwrap().unwrap();
    assert!(record.changes.iter().any(|c| matches!(c, Change::Sysctl { key, before, .. }
        if key.ends_with("all/arp_announce") && before == "1")));
    let back = undo_recorded(&state).unwrap();
    println!("--- undo\n{back}");
    assert!(!state.exists(), "the state file goes once everything is back");
    assert_eq!(ns.state(), before);
    assert_eq!(
        state_path(Some(std::path::Path::new(&ns.path()))).file_name().unwrap(),
        &*format!("netns-{}.json", ns.name)
    );
    // A request for another namespace cannot reuse the file.
    let _ = prepare_recorded(&req, &state).unwrap();
    let elsewhere = Request { netns: None, ..req.clone() };
    assert!(prepare_recorded(&elsewhere, &state).is_err());
    undo_recorded(&state).unwrap();
}

#[test]
#[ignore = "needs the real kernel: runs in the lab"]
fn a_bad_namespace_or_device_is_an_error() {
    require_kernel();
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100")).netns("/no/such/netns");
    assert!(check(&req).unwrap_err().to_string().contains("/no/such/netns"));
    let ns = Netns::new("bad").with_eth0(&["192.0.2.20/24"]);
    let req = Request::new(Method::Dr).vip(ip("192.0.2.100")).dev("eth7").netns(ns.path());
    assert_eq!(check(&req).unwrap()[0].kind, ProblemKind::InterfaceMissing);
    assert!(matches!(prepare(&req).unwrap_err().error, ipvs_realserver::Error::NoInterface(_)));
    let not_net = Request::new(Method::Dr).vip(ip("192.0.2.100")).netns("/proc/self/ns/uts");
    assert!(check(&not_net).unwrap_err().to_string().contains("not a network namespace"));
}
