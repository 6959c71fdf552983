//! The sample keepalived.conf files of testdata/keepalived, each read and its effective
//! configuration checked: IPVS services and destinations, resolved checks, policy; and
//! each converted to the native file and read back unchanged.

use std::net::IpAddr;
use std::time::Duration;

use ipvs::{Family, Forward, Netmask, Protocol, Scheduler, ServiceFlags, ServiceId, Tunnel, TunnelFlags};
use ipvs_director::config::{
    CheckKind, Config, DnsType, HttpProtocol, OnFailure, ResolvedCheck, VirtualServer, VirtualServerId, VrrpState,
};
use ipvs_director::keepalived;

fn path(name: &str) -> String {
    format!("{}/testdata/keepalived/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> Config {
    let c = keepalived::read_file(path(name)).unwrap_or_else(|e| panic!("{name}:\n{e}"));
    let toml = c.to_toml();
    let back = Config::from_toml(&toml).unwrap_or_else(|e| panic!("{name} as TOML:\n{e}\n{toml}"));
    assert_eq!(back, c, "{name}: keepalived → TOML → config differs\n{toml}");
    c
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn checks(c: &Config, vs: usize) -> Vec<(IpAddr, ResolvedCheck)> {
    c.virtual_servers[vs].resolved_checks(&c.global).map(|(rs, r)| (rs.address, r)).collect()
}

/// (delay_loop, connect_timeout, retry, delay_before_retry, warmup) in seconds.
fn timing(r: &ResolvedCheck) -> (f64, f64, u32, f64, f64) {
    (
        r.delay_loop.as_secs_f64(),
        r.connect_timeout.as_secs_f64(),
        r.retry,
        r.delay_before_retry.as_secs_f64(),
        r.warmup.as_secs_f64(),
    )
}

fn only_service(c: &Config, vs: &VirtualServer) -> ServiceId {
    let ids = vs.service_ids(&c.virtual_server_groups);
    assert_eq!(ids.len(), 1);
    ids[0]
}

#[test]
fn seed_web_service_with_tcp_and_http_checks() {
    let c = read("seed.conf");
    assert!(c.global.is_default(), "router_id and the e-mail settings are ignored");
    assert_eq!(c.virtual_servers.len(), 1);
    let vs = &c.virtual_servers[0];
    let id = only_service(&c, vs);
    assert_eq!(id, ServiceId::tcp(ip("192.0.2.10"), 80));
    let svc = vs.service(id);
    assert_eq!(svc.scheduler, Scheduler::Rr);
    assert!(!svc.is_persistent());
    svc.validate().unwrap();
    let weights: Vec<(IpAddr, u16, u32, Forward)> = vs
        .real_servers
        .iter()
        .map(|rs| {
            let d = vs.destination(&id, rs);
            (d.addr, d.port, d.weight, d.forward)
        })
        .collect();
    assert_eq!(
        weights,
        [
            (ip("198.51.100.11"), 80, 1, Forward::Masquerade),
            (ip("198.51.100.12"), 80, 1, Forward::Masquerade),
            (ip("198.51.100.13"), 80, 2, Forward::Masquerade),
            (ip("198.51.100.14"), 80, 2, Forward::Masquerade),
        ]
    );
    assert_eq!(vs.total_weight(), 6);
    assert_eq!((vs.quorum, vs.hysteresis), (1, 0));
    assert_eq!(vs.on_failure_of(&vs.real_servers[0]), OnFailure::Remove);

    let all = checks(&c, 0);
    assert_eq!(all.len(), 6);
    // .11: TCP, connect_timeout 3; delay_loop from the VS; defaults otherwise.
    assert_eq!(all[0].1.kind, CheckKind::Tcp);
    assert_eq!(all[0].1.target.unwrap().to_string(), "198.51.100.11:80");
    assert_eq!(timing(&all[0].1), (6.0, 3.0, 1, 1.0, 6.0));
    // .12: retry 2, delay_before_retry 2.
    assert_eq!(timing(&all[1].1), (6.0, 3.0, 2, 2.0, 6.0));
    // .13: TCP then HTTP (nb_get_retry 3, HTTP's delay_before_retry 3 s).
    assert_eq!(all[2].1.kind, CheckKind::Tcp);
    let (addr, http) = &all[3];
    assert_eq!(*addr, ip("198.51.100.13"));
    assert_eq!(timing(http), (6.0, 2.0, 3, 3.0, 6.0));
    let CheckKind::Http(h) = &http.kind else { panic!("{:?}", http.kind) };
    assert_eq!(h.urls.len(), 2);
    assert_eq!(h.urls[0].path, "/health");
    assert!(h.urls[0].status_codes.contains(204) && !h.urls[0].status_codes.contains(201));
    assert_eq!(h.urls[1].digest.unwrap().to_string(), "9b3a0c85a887a256d6939da88aabd8cd");
    assert!(h.urls[1].status_codes.contains(299), "default 200-299");
    assert_eq!(http.host_header(&h.urls[0]), "198.51.100.13:80");
    // .14: HTTP/1.1, a url virtualhost, the upper-case digest read the same.
    let (_, http) = &all[5];
    let CheckKind::Http(h) = &http.kind else { panic!() };
    assert_eq!(h.protocol, HttpProtocol::Http11);
    assert!(h.urls[0].status_codes.contains(301) && !h.urls[0].status_codes.contains(302));
    assert_eq!(http.host_header(&h.urls[0]), "www.example.org");
    assert_eq!(http.host_header(&h.urls[1]), "198.51.100.14:80");
    assert_eq!(h.urls[1].digest.unwrap().to_string(), "9b3a0c85a887a256d6939da88aabd8cd");
    assert_eq!(timing(http), (6.0, 5.0, 1, 3.0, 6.0));
}

#[test]
fn inhibit_on_failure_inherits_and_is_overridden() {
    let c = read("inhibit.conf");
    let vs = &c.virtual_servers[0];
    let id = only_service(&c, vs);
    let (a, b) = (&vs.real_servers[0], &vs.real_servers[1]);
    assert_eq!(vs.on_failure_of(a), OnFailure::Inhibit);
    assert_eq!(vs.on_failure_of(b), OnFailure::Remove);
    assert!(vs.alpha_of(a) && !vs.alpha_of(b));
    assert!(vs.omega);
    let (da, db) = (vs.destination(&id, a), vs.destination(&id, b));
    assert_eq!((da.weight, da.port, da.forward), (5, 443, Forward::DirectRoute), "the VS weight is the default");
    assert_eq!((db.weight, db.upper_threshold, db.lower_threshold), (10, 1000, 800));
    let all = checks(&c, 0);
    assert_eq!(timing(&all[0].1), (10.0, 4.0, 3, 1.0, 0.0));
    assert!(all[0].1.alpha);
    assert_eq!(all[1].1.target.unwrap().to_string(), "198.51.100.12:8443");
    assert_eq!(timing(&all[1].1), (2.5, 4.0, 3, 1.0, 1.0));
    assert!(!all[1].1.alpha);
}

#[test]
fn quorum_and_sorry_server() {
    let c = read("quorum_sorry.conf");
    let vs = &c.virtual_servers[0];
    let id = only_service(&c, vs);
    assert_eq!((vs.quorum, vs.hysteresis, vs.total_weight()), (3, 1, 4));
    assert_eq!(vs.scheduler, Scheduler::Wrr);
    let up = vs.quorum_up.as_ref().unwrap();
    assert_eq!(up.argv, ["/etc/keepalived/quorum.sh", "up", "192.0.2.20"]);
    let down = vs.quorum_down.as_ref().unwrap();
    assert_eq!((down.argv.len(), down.user.as_deref()), (3, Some("root")));
    let sorry = vs.sorry_server.as_ref().unwrap();
    assert!(sorry.inhibit);
    let d = vs.sorry_destination(&id).unwrap();
    assert_eq!((d.addr, d.port, d.weight, d.forward), (ip("203.0.113.50"), 8080, 1, Forward::Masquerade));
    let rs = &vs.real_servers[0];
    assert_eq!(rs.notify_down.as_ref().unwrap().argv, ["/etc/keepalived/notify.sh", "down hard", "198.51.100.11"]);
    assert_eq!(rs.notify_up.as_ref().unwrap().to_string(), "/etc/keepalived/notify.sh up 198.51.100.11");
}

#[test]
fn firewall_mark_service() {
    let c = read("fwmark.conf");
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.id, VirtualServerId::Fwmark { mark: 7, family: None });
    assert_eq!(vs.family(), Family::Inet);
    let id = only_service(&c, vs);
    assert_eq!(id, ServiceId::fwmark(7, Family::Inet));
    let svc = vs.service(id);
    assert_eq!(svc.scheduler, Scheduler::Sh);
    assert_eq!(svc.flags, ServiceFlags::PERSISTENT | ServiceFlags::SH_PORT | ServiceFlags::SH_FALLBACK);
    assert_eq!(svc.persistence_timeout(), Some(600));
    assert_eq!(svc.netmask, Netmask::V4("255.255.255.0".parse().unwrap()));
    svc.validate().unwrap();
    for rs in &vs.real_servers {
        let d = vs.destination(&id, rs);
        assert_eq!((d.port, d.forward), (0, Forward::DirectRoute));
    }
    let all = checks(&c, 0);
    assert_eq!(all[0].1.target.unwrap().to_string(), "198.51.100.11:80");
    assert_eq!(all[1].1.target.unwrap().to_string(), "198.51.100.112:80");
    assert_eq!(all[1].1.bind.unwrap().to_string(), "198.51.100.2:0");
    assert_eq!(timing(&all[0].1), (15.0, 5.0, 1, 1.0, 15.0));
}

#[test]
fn direct_routing_and_tunnels() {
    let c = read("dr_tun.conf");
    let vs = &c.virtual_servers[0];
    let id = only_service(&c, vs);
    let svc = vs.service(id);
    assert_eq!(svc.persistence_timeout(), Some(360), "persistence_timeout without a value");
    assert_eq!(svc.flags, ServiceFlags::PERSISTENT | ServiceFlags::MH_PORT);
    let forwards: Vec<Forward> = vs.real_servers.iter().map(|rs| vs.destination(&id, rs).forward).collect();
    assert_eq!(
        forwards,
        [
            Forward::DirectRoute,
            Forward::Tunnel(Tunnel::Ipip),
            Forward::Tunnel(Tunnel::Gue { port: 6080, flags: TunnelFlags::CSUM }),
            Forward::Tunnel(Tunnel::Gre { flags: TunnelFlags::empty() }),
            Forward::Tunnel(Tunnel::Ipip),
        ]
    );
    for rs in &vs.real_servers {
        let d = vs.destination(&id, rs);
        d.validate_for(&id).unwrap();
        assert_eq!(d.port, 80);
    }
}

#[test]
fn misc_check_with_dynamic_weight() {
    let c = read("misc.conf");
    assert_eq!(c.global.script_user.as_deref(), Some("nobody"));
    assert_eq!(c.global.script_group.as_deref(), Some("nogroup"));
    assert!(c.global.enable_script_security && c.global.log_all_failures);
    let all = checks(&c, 0);
    let (_, a) = &all[0];
    let CheckKind::Misc(m) = &a.kind else { panic!() };
    assert_eq!(m.command.argv, ["/usr/local/bin/check-pg", "--host", "198.51.100.21", "--port", "5432"]);
    assert_eq!(m.command.user.as_deref(), Some("daemon"));
    assert!(m.dynamic);
    assert_eq!(a.target, None);
    // MISC_CHECK: retry 0 and 1 s by default; the command's timeout is misc_timeout.
    assert_eq!(timing(a), (20.0, 5.0, 0, 1.0, 20.0));
    assert!(a.log_all_failures, "from checker_log_all_failures");
    let (_, b) = &all[1];
    // Without misc_timeout: the virtual server's delay_loop.
    assert_eq!(timing(b), (20.0, 20.0, 2, 3.0, 20.0));
    assert!(!b.log_all_failures);
}

#[test]
fn dns_checks() {
    let c = read("dns.conf");
    let vs = &c.virtual_servers[0];
    let svc = vs.service(only_service(&c, vs));
    assert_eq!(svc.flags, ServiceFlags::ONE_PACKET);
    assert!(matches!(svc.id, ServiceId::Inet { protocol: Protocol::Udp, .. }));
    let all = checks(&c, 0);
    let CheckKind::Dns(d) = &all[0].1.kind else { panic!() };
    assert_eq!((d.query_type, d.name.as_str()), (DnsType::A, "example.org."));
    // DNS: retry 3 and delay_before_retry = delay_loop by default.
    assert_eq!(timing(&all[0].1), (10.0, 5.0, 3, 10.0, 10.0));
    let CheckKind::Dns(d) = &all[1].1.kind else { panic!() };
    assert_eq!((d.query_type, d.name.as_str()), (DnsType::Soa, "."));
    assert_eq!(all[1].1.target.unwrap().to_string(), "198.51.100.32:53");
    let v6 = checks(&c, 1);
    let CheckKind::Dns(d) = &v6[0].1.kind else { panic!() };
    assert_eq!(d.query_type, DnsType::Aaaa);
    assert_eq!(timing(&v6[0].1), (60.0, 5.0, 1, 60.0, 60.0));
    assert_eq!(v6[0].1.target.unwrap().to_string(), "[2001:db8:1::31]:53");
}

#[test]
fn https_with_sni_and_smtp() {
    let c = read("ssl_smtp.conf");
    let all = checks(&c, 0);
    let (_, ssl) = &all[0];
    let CheckKind::Https(h) = &ssl.kind else { panic!() };
    assert!(h.enable_sni && h.fast_recovery);
    assert_eq!(ssl.target.unwrap().to_string(), "198.51.100.41:8443");
    // Host: the real server's virtualhost; SNI: the virtual server's (keepalived's rule).
    assert_eq!(ssl.host_header(&h.urls[0]), "rs41.example.org");
    assert_eq!(ssl.sni(&h.urls[0]).as_deref(), Some("www.example.org"));
    assert_eq!(timing(ssl), (60.0, 5.0, 1, 3.0, 60.0));
    let smtp = checks(&c, 1);
    let CheckKind::Smtp(s) = &smtp[0].1.kind else { panic!() };
    assert_eq!(s.helo(), "director.example.org");
    assert_eq!(timing(&smtp[0].1), (60.0, 10.0, 1, 1.0, 60.0));
}

#[test]
fn virtual_server_group() {
    let c = read("group.conf");
    let vs = &c.virtual_servers[0];
    let ids = vs.service_ids(&c.virtual_server_groups);
    let want: Vec<ServiceId> =
        ["192.0.2.100", "192.0.2.101", "192.0.2.102", "192.0.2.112", "192.0.2.113", "192.0.2.114", "192.0.2.115"]
            .iter()
            .map(|a| ServiceId::tcp(ip(a), 80))
            .chain([ServiceId::fwmark(9, Family::Inet)])
            .collect();
    assert_eq!(ids, want);
    for id in &ids {
        let nat = vs.destination(id, &vs.real_servers[0]);
        assert_eq!(nat.port, 8080);
        let tun = vs.destination(id, &vs.real_servers[1]);
        assert_eq!(tun.port, if id.mark().is_some() { 0 } else { 80 });
        tun.validate_for(id).unwrap();
    }
    let all = checks(&c, 0);
    assert_eq!(all[1].1.target.unwrap().to_string(), "[2001:db8:1::61]:80");
    assert_eq!(c.services().len(), 8);
}

#[test]
fn includes_are_read_in_place_and_in_order() {
    let c = read("includes/main.conf");
    let vips: Vec<String> = c.virtual_servers.iter().map(|vs| vs.id.to_string()).collect();
    assert_eq!(vips, ["[192.0.2.10]:tcp:80", "[192.0.2.25]:tcp:25", "[192.0.2.26]:tcp:587"]);
    assert_eq!(c.virtual_servers[0].real_servers.len(), 2, "servers.inc, included inside the block");
}

#[test]
fn vrrp_instances_scripts_and_sync_daemon() {
    let c = read("vrrp.conf");
    assert_eq!(c.global.vrrp_version, Some(2));
    let sd = c.global.sync_daemon.as_ref().unwrap();
    let d = sd.daemon(ipvs::DaemonState::Backup, 51);
    assert_eq!(
        (d.interface.as_str(), d.sync_id, d.max_len, d.port, d.ttl),
        ("eth1", 51, Some(1500), Some(8848), Some(1))
    );
    assert_eq!(d.group, Some(ip("233.252.0.81")));
    let s = &c.vrrp_scripts[0];
    assert_eq!((s.interval, s.timeout, s.weight, s.rise, s.fall), (secs(2.0), Some(secs(3.0)), -20, 2, 3));
    assert_eq!(s.script.argv, ["/usr/bin/pgrep", "-x", "haproxy"]);
    assert_eq!(s.script.user.as_deref(), Some("nobody"));
    assert_eq!(c.vrrp_sync_groups[0].group, ["VI_WEB", "VI_DB"]);
    let web = &c.vrrp_instances[0];
    assert_eq!(
        (web.effective_state(), web.effective_priority(), web.effective_version(c.global.vrrp_version)),
        (VrrpState::Master, 150, 2)
    );
    assert_eq!(web.auth_pass.as_deref(), Some("s3cret"));
    assert_eq!(web.virtual_ipaddresses[0].address.to_string(), "192.0.2.10/24");
    assert_eq!(web.virtual_ipaddresses[0].label.as_deref(), Some("eth0:web"));
    assert_eq!(web.virtual_ipaddresses[1].address.len, 32);
    assert_eq!(web.unicast_peers, [ip("192.0.2.3")]);
    // eth0, its own interface, is not tracked, as keepalived ignores it.
    assert_eq!(web.track_interfaces.len(), 1);
    assert_eq!((web.track_interfaces[0].name.as_str(), web.track_interfaces[0].weight), ("eth1", -10));
    assert_eq!(web.track_scripts[0].weight, None);
    let db = &c.vrrp_instances[1];
    assert_eq!((db.effective_version(None), db.effective_advert_int(), db.nopreempt), (3, secs(0.5), true));
    assert_eq!((db.track_scripts[0].weight, db.track_scripts[0].reverse), (Some(10), true));
    assert!(c.virtual_servers[0].ha_suspend);
}

#[test]
fn import_writes_a_native_file_that_reads_back() {
    for name in ["seed.conf", "vrrp.conf", "group.conf", "includes/main.conf"] {
        let toml = keepalived::import_file(path(name)).unwrap();
        assert!(toml.starts_with("# ipvs-director configuration, converted from "), "{toml}");
        assert_eq!(Config::from_toml(&toml).unwrap(), keepalived::read_file(path(name)).unwrap(), "{name}");
    }
}
