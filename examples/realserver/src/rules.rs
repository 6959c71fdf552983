//! The rules: from a request and a [`Snapshot`], the problems (`check`) and the steps that
//! fix them (`prepare`). Pure functions: no kernel needed to test them.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::cures;
use crate::error::{Error, Result};
use crate::model::{hex, Problem, ProblemKind, Step};
use crate::net::host_len;
use crate::rtnl::{Addr, Route};
use crate::state::Snapshot;
use crate::sysctl::{dotted, key};
use crate::{ArpCure, Method, Network, Request, Tunnel};

/// An ARP setting: the effective value (the larger of `all` and the interface's) must lie
/// in `ok`; `prepare` writes `target`.
struct ArpKnob {
    name: &'static str,
    ok: (i64, i64),
    target: i64,
    kind: ProblemKind,
    why: &'static str,
}

const ARP_KNOBS: [ArpKnob; 2] = [
    ArpKnob {
        name: "arp_ignore",
        ok: (1, 2),
        target: 1,
        kind: ProblemKind::ArpIgnore,
        why: "it answers ARP requests for the VIPs (configured on another device), so clients and \
              routers may send VIP traffic straight here, past the director",
    },
    ArpKnob {
        name: "arp_announce",
        ok: (2, 2),
        target: 2,
        kind: ProblemKind::ArpAnnounce,
        why: "its ARP requests may carry a VIP as sender address, which teaches neighbours to send \
              VIP traffic here, past the director",
    },
];

/// The VIPs that matter for the method (none for NAT).
fn vips(req: &Request) -> Vec<IpAddr> {
    match req.method {
        Method::Nat => Vec::new(),
        _ => req.unique_vips(),
    }
}

/// The tunnel and families in use (TUN only): (tunnel, ipv6).
fn tunnels(req: &Request) -> Vec<(Tunnel, bool)> {
    let Method::Tun(t) = req.method else { return Vec::new() };
    let v = vips(req);
    [false, true].into_iter().filter(|six| v.iter().any(|ip| ip.is_ipv6() == *six)).map(|six| (t, six)).collect()
}

/// The device that should hold a VIP.
fn home(req: &Request, vip: IpAddr) -> &'static str {
    match req.method {
        Method::Tun(t) => t.device(vip.is_ipv6()),
        _ => "lo",
    }
}

/// Whether an address entry is a VIP done right: a host prefix on a device that does not
/// answer ARP or neighbour solicitations for it (loopback, or a NOARP device).
fn proper(s: &Snapshot, a: &Addr) -> bool {
    a.prefix_len == host_len(a.ip) && s.link_by_index(a.index).is_some_and(|l| l.loopback || l.noarp)
}

/// The interfaces whose ARP settings matter: the one named, else every ARP interface up.
fn arp_targets(req: &Request, s: &Snapshot) -> Vec<String> {
    if !vips(req).iter().any(IpAddr::is_ipv4) {
        return Vec::new();
    }
    match &req.dev {
        Some(d) => s.link(d).map(|l| vec![l.name.clone()]).unwrap_or_default(),
        None => s.links.iter().filter(|l| l.up && !l.loopback && !l.noarp).map(|l| l.name.clone()).collect(),
    }
}

/// The devices that must be up: lo (DR), the tunnel devices (TUN), and those holding VIPs.
fn must_be_up(req: &Request, s: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |n: &str| {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    };
    match req.method {
        Method::Dr if !cures::vips_on_host(req) => {}
        Method::Dr => add("lo"),
        Method::Tun(_) => tunnels(req).iter().for_each(|(t, six)| add(t.device(*six))),
        Method::Nat => {}
    }
    for vip in vips(req).into_iter().filter(|_| cures::vips_on_host(req)) {
        for a in s.addrs.iter().filter(|a| a.ip == vip && proper(s, a)) {
            if let Some(l) = s.link_by_index(a.index) {
                add(&l.name);
            }
        }
    }
    out
}

/// The route the kernel picks for a whole network: the longest prefix covering it, then the
/// lowest metric.
fn covering<'a>(routes: &'a [Route], net: &Network) -> Option<&'a Route> {
    routes
        .iter()
        .filter(|r| r.dst_len <= net.prefix_len && Network { addr: r.dst, prefix_len: r.dst_len }.contains(net.addr))
        .min_by_key(|r| (u8::MAX - r.dst_len, r.metric))
}

fn problem(kind: ProblemKind, place: String, what: String, fix: String) -> Problem {
    Problem { kind, what, place, fix }
}

/// Everything that keeps this host from being a ready real server for `req`.
pub(crate) fn problems(req: &Request, s: &Snapshot) -> Vec<Problem> {
    let mut out = Vec::new();
    interface_problems(req, s, &mut out);
    tunnel_device_problems(req, s, &mut out);
    link_problems(req, s, &mut out);
    vip_problems(req, s, &mut out);
    arp_problems(req, s, &mut out);
    cures::cure_problems(req, s, sysctls_cure(req, s), &mut out);
    rp_filter_problems(req, s, &mut out);
    nat_route_problems(req, s, &mut out);
    out
}

/// The interface named with `--dev` exists.
fn interface_problems(req: &Request, s: &Snapshot, out: &mut Vec<Problem>) {
    if let Some(dev) = &req.dev {
        if s.link(dev).is_none() {
            let what = "the interface given with --dev does not exist".to_string();
            out.push(problem(ProblemKind::InterfaceMissing, dev.clone(), what, "name an existing interface".into()));
        }
    }
}

/// Each tunnel the request needs has its device (or module) and, for GUE, its receive port.
fn tunnel_device_problems(req: &Request, s: &Snapshot, out: &mut Vec<Problem>) {
    for (t, six) in tunnels(req) {
        let (dev, module, kind) = (t.device(six), t.module(six), t.link_kind(six));
        if s.link(dev).is_none() {
            if s.modules.contains(module) {
                out.push(problem(
                    ProblemKind::TunnelDeviceMissing,
                    dev.into(),
                    format!("no {dev}: the director's {t} packets cannot be decapsulated"),
                    format!(
                        "ip link add {dev} type {kind} (the module does not make it in this namespace: \
                         see net.core.fb_tunnels_only_for_init_net)"
                    ),
                ));
            } else {
                out.push(problem(
                    ProblemKind::TunnelModuleMissing,
                    module.into(),
                    format!(
                        "module {module} is not loaded, so there is no {dev} to decapsulate the director's {t} packets"
                    ),
                    format!("modprobe {module} (or ip link add {dev} type {kind}, which loads it)"),
                ));
            }
        }
        if let Tunnel::Gue { port } = t {
            if !s.fou.iter().any(|f| f.port == port && f.ipv6 == six && f.gue) {
                let six_flag = if six { " -6" } else { "" };
                out.push(problem(
                    ProblemKind::GuePortMissing,
                    format!("udp port {port}"),
                    format!("no GUE receive port {port} ({}): the director's packets are dropped", ip_v(six)),
                    format!("ip fou add port {port} gue{six_flag}"),
                ));
            }
        }
    }
}

/// The devices that must be up are up.
fn link_problems(req: &Request, s: &Snapshot, out: &mut Vec<Problem>) {
    for name in must_be_up(req, s) {
        if s.link(&name).is_some_and(|l| !l.up) {
            let what = "the device is down: addresses on it are not local".to_string();
            out.push(problem(ProblemKind::LinkDown, name.clone(), what, format!("ip link set {name} up")));
        }
    }
}

/// Each VIP is on the right device with a host prefix, and nowhere that answers ARP/ND for it.
fn vip_problems(req: &Request, s: &Snapshot, out: &mut Vec<Problem>) {
    if !cures::vips_on_host(req) {
        return;
    }
    for vip in vips(req) {
        let (h, dev) = (host_len(vip), home(req, vip));
        let mut good = false;
        for a in s.addrs.iter().filter(|a| a.ip == vip) {
            let on = s.link_by_index(a.index).map_or("?".to_string(), |l| l.name.clone());
            if proper(s, a) {
                good = true;
                continue;
            }
            let what = if a.prefix_len != h && s.link_by_index(a.index).is_some_and(|l| l.loopback || l.noarp) {
                format!("the VIP has prefix /{} on {on}: the whole network becomes local", a.prefix_len)
            } else {
                format!(
                    "the VIP is on {on}, which answers {} for it",
                    if vip.is_ipv4() { "ARP" } else { "neighbour solicitations" }
                )
            };
            out.push(problem(
                ProblemKind::VipMisplaced,
                format!("{vip}/{} on {on}", a.prefix_len),
                what,
                format!("ip address del {vip}/{} dev {on}; ip address add {vip}/{h} dev {dev}", a.prefix_len),
            ));
        }
        if !good {
            out.push(problem(
                ProblemKind::VipMissing,
                vip.to_string(),
                "the VIP is not configured here: packets the director forwards to it are dropped".into(),
                format!("ip address add {vip}/{h} dev {dev}"),
            ));
        }
    }
}

/// Whether the ARP sysctls are right on every interface that could answer for a VIP.
fn sysctls_cure(req: &Request, s: &Snapshot) -> bool {
    let mut found = Vec::new();
    sysctl_problems(req, s, &mut found);
    found.is_empty()
}

/// The ARP sysctls, with the `sysctl` cure, unless nftables rules cure the ARP problem.
fn arp_problems(req: &Request, s: &Snapshot, out: &mut Vec<Problem>) {
    if req.arp == ArpCure::Sysctl && !cures::arp_rules_cure(req, s) {
        sysctl_problems(req, s, out);
    }
}

/// The ARP sysctls of every interface that could answer for a VIP.
fn sysctl_problems(req: &Request, s: &Snapshot, out: &mut Vec<Problem>) {
    for iface in arp_targets(req, s) {
        for k in &ARP_KNOBS {
            let (all, own) = (s.value("all", k.name), s.value(&iface, k.name));
            let eff = all.max(own);
            if eff < k.ok.0 || eff > k.ok.1 {
                let want = if k.ok.0 == k.ok.1 { format!("{}", k.ok.0) } else { format!("{} or {}", k.ok.0, k.ok.1) };
                out.push(problem(
                    k.kind,
                    dotted(&key(&iface, k.name)),
                    format!(
                        "effective {} on {iface} is {eff} (the larger of all={all} and {iface}={own}), not {want}: {}",
                        k.name, k.why
                    ),
                    arp_fix(k, all, own, &iface),
                ));
            }
        }
    }
}

/// Reverse-path filtering that drops decapsulated packets.
fn rp_filter_problems(req: &Request, s: &Snapshot, out: &mut Vec<Problem>) {
    for (t, six) in tunnels(req) {
        let dev = t.device(six);
        if six || s.link(dev).is_none() {
            continue;
        }
        let (all, own) = (s.value("all", "rp_filter"), s.value(dev, "rp_filter"));
        if all.max(own) == 1 {
            out.push(problem(
                ProblemKind::RpFilter,
                dotted(&key(dev, "rp_filter")),
                format!(
                    "effective rp_filter on {dev} is 1 (strict; the larger of all={all} and {dev}={own}): packets \
                     decapsulated there come from clients routed via another interface and are dropped"
                ),
                format!("sysctl -w {}=2 (loose: the larger value wins over all={all})", dotted(&key(dev, "rp_filter"))),
            ));
        }
    }
}

/// With NAT, replies to clients go back through the director.
fn nat_route_problems(req: &Request, s: &Snapshot, out: &mut Vec<Problem>) {
    if let (Method::Nat, Some(director)) = (req.method, req.director) {
        for net in req.nat_networks() {
            let route = covering(&s.routes, &net);
            if route.is_some_and(|r| r.gateways.contains(&director)) {
                continue;
            }
            let now = match route {
                None => "there is no route".to_string(),
                Some(r) if r.gateways.is_empty() => format!("they leave on-link by {}/{}", r.dst, r.dst_len),
                Some(r) => {
                    format!("they go via {}", r.gateways.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(", "))
                }
            };
            out.push(problem(
                ProblemKind::NoRouteViaDirector,
                format!("route to {net}"),
                format!("replies to clients in {net} must go back through the director {director}, but {now}"),
                format!("ip route replace {net} via {director}"),
            ));
        }
    }
}

fn arp_fix(k: &ArpKnob, all: i64, own: i64, iface: &str) -> String {
    let t = k.target;
    let all_key = dotted(&key("all", k.name));
    let own_key = dotted(&key(iface, k.name));
    if all > k.ok.1 {
        let more = if own > k.ok.1 { format!(" and {own_key}={t}") } else { String::new() };
        format!("sysctl -w {all_key}={t}{more} (the larger value is the one in force)")
    } else if own > k.ok.1 {
        format!("sysctl -w {own_key}={t} (the larger value is the one in force)")
    } else {
        format!("sysctl -w {all_key}={t} (every interface) or sysctl -w {own_key}={t} (this one only)")
    }
}

fn ip_v(six: bool) -> &'static str {
    if six {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// The steps that fix what [`problems`] finds. Settings of a device that does not exist yet
/// are left for the next round (after it is created).
pub(crate) fn plan(req: &Request, s: &Snapshot) -> Result<Vec<Step>> {
    req.validate()?;
    if let Some(dev) = &req.dev {
        if s.link(dev).is_none() {
            return Err(Error::NoInterface(dev.clone()));
        }
    }
    let mut steps = Vec::new();
    let mut missing = BTreeSet::new();
    for (t, six) in tunnels(req) {
        let dev = t.device(six);
        if s.link(dev).is_none() {
            missing.insert(dev);
            steps.push(Step::CreateLink {
                name: dev.into(),
                kind: t.link_kind(six).into(),
                module: t.module(six).into(),
            });
        }
    }
    for name in must_be_up(req, s) {
        if s.link(&name).is_some_and(|l| !l.up) {
            steps.push(Step::SetUp { name });
        }
    }
    for vip in vips(req) {
        let h = host_len(vip);
        let mut good = !cures::vips_on_host(req);
        for a in s.addrs.iter().filter(|a| a.ip == vip) {
            match s.link_by_index(a.index) {
                _ if proper(s, a) && cures::vips_on_host(req) => good = true,
                Some(l) => {
                    steps.push(Step::RemoveAddress { dev: l.name.clone(), address: vip, prefix_len: a.prefix_len })
                }
                None => {}
            }
        }
        let dev = home(req, vip);
        if !good && !missing.contains(dev) {
            steps.push(Step::AddAddress { dev: dev.into(), address: vip, prefix_len: h });
        }
    }
    let targets = arp_targets(req, s);
    let sysctls_wanted = req.arp == ArpCure::Sysctl && !cures::arp_rules_cure(req, s);
    if sysctls_wanted && vips(req).iter().any(IpAddr::is_ipv4) {
        for k in &ARP_KNOBS {
            let all = s.value("all", k.name);
            let mut all_new = all;
            if all > k.ok.1 || (req.dev.is_none() && all < k.ok.0) {
                all_new = k.target;
                steps.push(sysctl_step("all", k.name, s, k.target));
            }
            for iface in &targets {
                let own = s.value(iface, k.name);
                let mut own_new = own;
                if own > k.ok.1 || all_new.max(own) < k.ok.0 {
                    own_new = k.target;
                }
                if own_new != own {
                    steps.push(sysctl_step(iface, k.name, s, own_new));
                }
            }
        }
    }
    steps.extend(cures::cure_steps(req, s, sysctls_cure(req, s), &targets));
    for (t, six) in tunnels(req) {
        let dev = t.device(six);
        if !six && !missing.contains(dev) && s.value("all", "rp_filter").max(s.value(dev, "rp_filter")) == 1 {
            steps.push(sysctl_step(dev, "rp_filter", s, 2));
        }
        if let Tunnel::Gue { port } = t {
            if !s.fou.iter().any(|f| f.port == port && f.ipv6 == six && f.gue) {
                steps.push(Step::AddGuePort { port, ipv6: six });
            }
        }
    }
    if let (Method::Nat, Some(director)) = (req.method, req.director) {
        for net in req.nat_networks() {
            if covering(&s.routes, &net).is_some_and(|r| r.gateways.contains(&director)) {
                continue;
            }
            let exact =
                s.routes.iter().filter(|r| r.dst == net.addr && r.dst_len == net.prefix_len).min_by_key(|r| r.metric);
            steps.push(Step::Route { network: net, via: director, replacing: exact.map(|r| hex(&r.raw)) });
        }
    }
    Ok(steps)
}

fn sysctl_step(scope: &str, knob: &str, s: &Snapshot, value: i64) -> Step {
    Step::Sysctl { key: key(scope, knob), before: s.text(scope, knob), after: value.to_string() }
}
