//! `virtual_server` (check_parser.c's keywords): its keyword table and handlers.

use std::net::Ipv4Addr;
use std::str::FromStr;

use ipvs::{Destination, Family, Forward, Netmask, PersistenceEngine, Protocol, Scheduler, ServiceFlags};

use super::super::args::{parse_uint, place_of, Ctx, Place, SILENT};
use super::super::tree::Node;
use super::keywords::{Block, Keyword};
use super::real_server;
use super::shared::{self, Draft, Forwarded, Scripts, Shared, Timed, Virtualhost};
use crate::config::{
    defaults, parse_scheduler, Config, OnFailure, Script, SorryServer, Timing, VirtualServer, VirtualServerId,
};

/// A virtual server being read.
pub(super) struct VirtualServerDraft {
    path: String,
    vs: VirtualServer,
    protocol: Option<Protocol>,
    family: Option<Family>,
    scheduler_set: bool,
    /// Whether a real server has no `lvs_method` of its own.
    rs_without_method: bool,
    /// Each real server's statement, in order.
    rs_places: Vec<Place>,
}

type D = VirtualServerDraft;

/// The keywords of `virtual_server`.
pub(super) const VIRTUAL_SERVER: Block<D> = Block {
    name: "virtual_server",
    tables: &[OWN, Shared::<D>::TIMING],
    unknown: "unknown keyword in virtual_server",
    known: super::known::VIRTUAL_SERVER,
    counted: true,
    top: false,
};

const OWN: &[Keyword<D>] = &[
    Keyword::converted("protocol", "TCP|UDP|SCTP", "protocol", protocol),
    Keyword::converted("ip_family", "inet|inet6", "family", ip_family),
    Keyword::converted(
        "lvs_sched",
        "SCHEDULER (none or unknown: wlc, as keepalived falls back)",
        "scheduler",
        scheduler,
    ),
    Keyword::converted("lb_algo", "SCHEDULER (as lvs_sched)", "scheduler", scheduler).once_as("lvs_sched"),
    shared::lvs_method(),
    shared::lvs_method().named("lb_kind").once_as("lvs_method"),
    Keyword::converted("ops", "", "flags", ops),
    Keyword::converted("flag-1", "", "flags", scheduler_flag),
    Keyword::converted("flag-2", "", "flags", scheduler_flag),
    Keyword::converted("flag-3", "", "flags", scheduler_flag),
    Keyword::converted("sh-port", "", "flags", scheduler_flag),
    Keyword::converted("sh-fallback", "", "flags", scheduler_flag),
    Keyword::converted("mh-port", "", "flags", scheduler_flag),
    Keyword::converted("mh-fallback", "", "flags", scheduler_flag),
    Keyword::converted(
        "persistence_timeout",
        "[SECONDS] (1..=2678400; none: 360; another number is ignored, as keepalived does)",
        "persistence",
        persistence_timeout,
    ),
    Keyword::converted(
        "persistence_granularity",
        "MASK|PREFIX",
        "netmask (and persistence = 360 if none yet)",
        persistence_granularity,
    ),
    Keyword::converted("persistence_engine", "NAME", "persistence_engine", persistence_engine),
    shared::connect_timeout(),
    Keyword::converted("inhibit_on_failure", "", "on_failure = \"inhibit\"", inhibit_on_failure),
    Keyword::converted("alpha", "", "alpha", switch),
    Keyword::converted("omega", "", "omega", switch),
    Keyword::converted("ha_suspend", "", "ha_suspend", switch),
    shared::virtualhost(),
    Keyword::converted("quorum", "N", "quorum", quorum),
    Keyword::converted("hysteresis", "N", "hysteresis", quorum),
    shared::script_keyword("quorum_up"),
    shared::script_keyword("quorum_down"),
    Keyword::converted("weight", "N", "weight (the real servers' default)", weight),
    Keyword::converted("sorry_server", "IP [PORT]", "sorry_server", sorry_server),
    Keyword::converted("sorry_server_inhibit", "", "sorry_server.inhibit", sorry_server_option),
    Keyword::converted("sorry_server_lvs_method", "NAT|DR|TUN ...", "sorry_server.forward", sorry_server_option),
    Keyword::converted("real_server", "IP [PORT] { ... }", "real_servers", real_server).repeats(),
    Keyword::refused("hashed", "hashed is the kernel's own mark of a service (keepalived refuses it)"),
    shared::smtp_alert(),
    Keyword::refused("snmp_name", "not supported by ipvs-director"),
];

impl Draft for D {
    fn place(&mut self, field: &str, n: &Node, ctx: &mut Ctx) {
        ctx.place(format!("{}.{field}", self.path), n);
    }
}

impl Timed for D {
    const MIN_RETRY: u64 = 1;
    fn timing(&mut self) -> &mut Timing {
        &mut self.vs.timing
    }
}

impl Scripts for D {
    fn script(&mut self, keyword: &str) -> &mut Option<Script> {
        match keyword {
            "quorum_up" => &mut self.vs.quorum_up,
            _ => &mut self.vs.quorum_down,
        }
    }
}

impl Forwarded for D {
    fn forward(&mut self) -> &mut Option<Forward> {
        &mut self.vs.forward
    }
}

impl Virtualhost for D {
    fn virtualhost(&mut self) -> &mut Option<String> {
        &mut self.vs.virtualhost
    }
}

/// `virtual_server IP [PORT] | fwmark N | group NAME { ... }`.
pub(super) fn virtual_server(n: &Node, c: &mut Config, ctx: &mut Ctx) {
    let path = format!("virtual_servers[{}]", c.virtual_servers.len());
    let errors_before = ctx.errors.len();
    let id = match n.args() {
        [kw, _] if kw == "fwmark" => {
            ctx.uint(n, 1, 0, u64::from(u32::MAX)).map(|m| VirtualServerId::Fwmark { mark: m as u32, family: None })
        }
        [kw, name] if kw == "group" => {
            Some(VirtualServerId::Group { name: name.clone(), protocol: None, family: None })
        }
        [_] | [_, _, ..] => {
            // keepalived 2.2.7 reads the address and port and ignores further words
            // (`virtual_server 192.0.2.1 53 dev eth0`) without a word.
            if let Some(extra) = n.args().get(2..).filter(|e| !e.is_empty()) {
                let what = format!("takes IP [PORT]: {:?} ignored, as keepalived ignores it {SILENT}", extra.join(" "));
                ctx.warn(n, what);
            }
            let port = match n.arg(1) {
                None => Some(0),
                Some(_) => ctx.uint(n, 1, 0, 65_535).map(|p| p as u16),
            };
            ctx.ip(n, 0).zip(port).map(|(address, port)| VirtualServerId::Address {
                protocol: Protocol::Udp,
                address,
                port,
            })
        }
        _ => {
            ctx.err(n, "takes IP [PORT], fwmark N or group NAME");
            None
        }
    };
    ctx.place(&path, n);
    let Some(id) = id else { return };
    let mut d = VirtualServerDraft {
        path,
        vs: VirtualServer::new(id),
        protocol: None,
        family: None,
        scheduler_set: false,
        rs_without_method: false,
        rs_places: Vec::new(),
    };
    let nodes = ctx.block(n);
    let seen = VIRTUAL_SERVER.read(nodes, &mut d, ctx);
    let VirtualServerDraft { mut vs, protocol, family, rs_without_method, scheduler_set, rs_places, path: d_path } = d;
    match &mut vs.id {
        VirtualServerId::Address { protocol: p, address, .. } => {
            match protocol {
                Some(pr) => *p = pr,
                // keepalived 2.2.7: "Virtual server [192.0.2.1]:none:80: no protocol set -
                // defaulting to UDP".
                None if !seen.contains_key("protocol") => {
                    ctx.warn(n, "no protocol: UDP, as keepalived falls back to it")
                }
                None => {}
            }
            if let Some(f) = family.filter(|f| *f != Family::of(address)) {
                ctx.err(n, format!("ip_family {} does not match the address {address}", f.name()));
            }
        }
        VirtualServerId::Fwmark { family: f, .. } => {
            // keepalived 2.2.7: "Warning: Virtual server FWM 21: protocol specified for
            // fwmark - protocol will be ignored".
            // (A protocol given is placed: the warning names its line.)
            if protocol.is_some() {
                let what = "a firewall-mark virtual server has no protocol: ignored, as keepalived ignores it";
                ctx.warn_for(&format!("{d_path}.protocol"), what);
            }
            *f = family;
        }
        VirtualServerId::Group { protocol: p, family: f, .. } => {
            *p = protocol;
            *f = family;
        }
    }
    fallbacks(n, &mut vs, scheduler_set, rs_without_method, ctx);
    reset_ports(&mut vs, &rs_places, ctx);
    if ctx.errors.len() == errors_before {
        c.virtual_servers.push(vs);
    }
}

/// keepalived 2.2.7's fallbacks: "Virtual server [192.0.2.10]:tcp:80: no scheduler set,
/// setting default 'wlc'" and "...: no forwarding method set, setting default NAT"
/// (`keepalived -t` exits with status 5 and names no line).
fn fallbacks(n: &Node, vs: &mut VirtualServer, scheduler_set: bool, rs_without_method: bool, ctx: &mut Ctx) {
    if !scheduler_set {
        vs.scheduler = Scheduler::Wlc;
        ctx.warn(n, "no scheduler (lvs_sched or lb_algo): wlc, as keepalived falls back to it");
    }
    let sorry_missing = vs.sorry_server.as_ref().is_some_and(|s| s.forward.is_none());
    if vs.forward.is_none() && (rs_without_method || sorry_missing) {
        vs.forward = Some(Forward::Masquerade);
        ctx.warn(n, "no forwarding method (lvs_method or lb_kind), here or on every server: NAT, as keepalived falls back to it");
    }
}

/// With direct routing or tunnelling a real server keeps the virtual port: keepalived 2.2.7
/// says "WARNING - virtual server [192.0.2.10]:tcp:80 and real server
/// [198.51.100.11]:tcp:8080 ports don't match - resetting" and uses the virtual port (its
/// checks still connect to the port as written); so does the director.
fn reset_ports(vs: &mut VirtualServer, rs_places: &[Place], ctx: &mut Ctx) {
    let VirtualServerId::Address { port: vport, .. } = vs.id else { return };
    let vs_forward = vs.forward;
    for (rs, (loc, keyword)) in vs.real_servers.iter_mut().zip(rs_places) {
        let forward = rs.forward.or(vs_forward).unwrap_or(Forward::Masquerade);
        let Some(port) = rs.port.filter(|p| *p != vport && vport != 0) else { continue };
        if forward == Forward::Masquerade {
            continue;
        }
        for c in rs.checks.iter_mut().filter(|c| c.kind.connects() && c.connect.port.is_none()) {
            c.connect.port = Some(port);
        }
        rs.port = Some(vport);
        let what = format!("port {port} differs from the virtual port {vport}, which direct routing and tunnelling keep: reset to {vport}, as keepalived does (its checks still connect to {port})");
        ctx.warn_at(loc, keyword, what);
    }
}

fn ip_family(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        match k.arg(0) {
            Some("inet") => d.family = Some(Family::Inet),
            Some("inet6") => d.family = Some(Family::Inet6),
            other => ctx.err(k, format!("unknown family {:?} (inet or inet6)", other.unwrap_or(""))),
        }
        d.place("family", k, ctx);
    }
}

fn inhibit_on_failure(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.bare(k) {
        d.vs.on_failure = Some(OnFailure::Inhibit);
        d.place("on_failure", k, ctx);
    }
}

/// keepalived 2.2.7 ignores an unknown scheduler: "Invalid lvs_scheduler 'RR' - ignoring".
fn scheduler(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        match parse_scheduler(k.arg(0).unwrap_or_default()) {
            Ok(s) => {
                d.vs.scheduler = s;
                d.scheduler_set = true;
            }
            Err(e) => ctx.warn(k, format!("{e}: ignored, as keepalived ignores it")),
        }
        d.place("scheduler", k, ctx);
    }
}

fn ops(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.bare(k) {
        d.vs.flags |= ServiceFlags::ONE_PACKET;
        d.place("flags", k, ctx);
    }
}

/// `flag-1`..`flag-3`, `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`.
fn scheduler_flag(k: &Node, d: &mut D, ctx: &mut Ctx) {
    let kw = k.keyword();
    if !ctx.bare(k) {
        return;
    }
    if (kw.starts_with("sh-") || kw.starts_with("mh-")) && !d.scheduler_set {
        return ctx.err(k, format!("must follow lvs_sched {}", kw.get(..2).unwrap_or("")));
    }
    match ServiceFlags::parse_scheduler_flag(kw, &d.vs.scheduler) {
        Ok(f) => d.vs.flags |= f,
        Err(e) => ctx.err(k, e.reason),
    }
    d.place("flags", k, ctx);
}

fn persistence_engine(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        match PersistenceEngine::from_str(k.arg(0).unwrap_or_default()) {
            Ok(pe) => d.vs.persistence_engine = Some(pe),
            Err(e) => ctx.err(k, e.reason),
        }
        d.place("persistence_engine", k, ctx);
    }
}

fn persistence_timeout(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 0, 1) {
        let max = defaults::MAX_PERSISTENCE_TIMEOUT;
        d.vs.persistence = match k.arg(0) {
            None => Some(defaults::PERSISTENCE_TIMEOUT),
            Some(t) => match parse_uint(t).filter(|v| (1..=u64::from(max)).contains(v)) {
                Some(v) => Some(v as u32),
                // keepalived 2.2.7: "number '0' outside range [1, 2678400]",
                // "persistence_timeout invalid", and the service is not persistent.
                None => {
                    ctx.warn(k, format!("{t:?} is not within 1..={max}: ignored, as keepalived ignores it"));
                    d.vs.persistence
                }
            },
        };
        d.place("persistence", k, ctx);
    }
}

fn persistence_granularity(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if !ctx.count(k, 1, 1) {
        return;
    }
    let text = k.arg(0).unwrap_or_default();
    let v6 = match &d.vs.id {
        VirtualServerId::Address { address, .. } => address.is_ipv6(),
        _ => d.family.map_or(!text.contains('.'), |f| f == Family::Inet6),
    };
    let mask = if v6 {
        ctx.uint(k, 0, 1, 128).map(|p| Netmask::Prefix(p as u8))
    } else {
        text.parse::<Ipv4Addr>()
            .map(Netmask::V4)
            .map_err(|_| ctx.err(k, format!("{text:?} is not an IPv4 netmask")))
            .ok()
    };
    if mask.is_some() {
        d.vs.netmask = mask;
        // keepalived makes the service persistent for 360 s if it is not yet.
        d.vs.persistence = d.vs.persistence.or(Some(defaults::PERSISTENCE_TIMEOUT));
    }
    d.place("netmask", k, ctx);
}

fn protocol(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let text = k.arg(0).unwrap_or_default();
        match Protocol::from_str(text) {
            Ok(p) => d.protocol = Some(p),
            Err(_) => ctx.err(k, format!("unknown protocol {text:?} (TCP, UDP or SCTP)")),
        }
        d.place("protocol", k, ctx);
    }
}

/// `ha_suspend`, `alpha`, `omega`.
fn switch(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.bare(k) {
        let kw = k.keyword();
        match kw {
            "ha_suspend" => d.vs.ha_suspend = true,
            "alpha" => d.vs.alpha = true,
            _ => d.vs.omega = true,
        }
        d.place(kw, k, ctx);
    }
}

/// `quorum`, `hysteresis`.
/// `quorum`, `hysteresis`. keepalived 2.2.7 sets a quorum of 0 to 1 ("Quorum 0 must be in
/// [1, 4294967295]. Setting to 1."); so does the director, with a warning.
fn quorum(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let kw = k.keyword();
        if kw == "quorum" && k.arg(0) == Some("0") {
            ctx.warn(k, "0 is not within 1..=4294967295: 1, as keepalived sets it");
            d.vs.quorum = 1;
            return d.place(kw, k, ctx);
        }
        let min = if kw == "quorum" { 1 } else { 0 };
        if let Some(v) = ctx.uint(k, 0, min, u64::from(u32::MAX)) {
            if kw == "quorum" {
                d.vs.quorum = v as u32;
            } else {
                d.vs.hysteresis = v as u32;
            }
        }
        d.place(kw, k, ctx);
    }
}

fn weight(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        if let Some(v) = ctx.uint(k, 0, 1, u64::from(Destination::MAX_WEIGHT)) {
            d.vs.weight = v as u32;
        }
        d.place("weight", k, ctx);
    }
}

fn sorry_server(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 2) {
        let port = match k.arg(1) {
            None => Some(None),
            Some(_) => ctx.uint(k, 1, 0, 65_535).map(|p| (p != 0).then_some(p as u16)),
        };
        if let (Some(address), Some(port)) = (ctx.ip(k, 0), port) {
            d.vs.sorry_server = Some(SorryServer { address, port, forward: None, inhibit: false });
        }
        d.place("sorry_server", k, ctx);
    }
}

/// `sorry_server_inhibit`, `sorry_server_lvs_method`.
fn sorry_server_option(k: &Node, d: &mut D, ctx: &mut Ctx) {
    let Some(s) = d.vs.sorry_server.as_mut() else {
        return ctx.err(k, "must follow sorry_server");
    };
    if k.keyword() == "sorry_server_inhibit" {
        if ctx.bare(k) {
            s.inhibit = true;
            d.place("sorry_server.inhibit", k, ctx);
        }
    } else {
        s.forward = super::method::method(k, ctx);
        d.place("sorry_server.forward", k, ctx);
    }
}

fn real_server(k: &Node, d: &mut D, ctx: &mut Ctx) {
    let j = d.vs.real_servers.len();
    if let Some(rs) = real_server::real_server(k, &format!("{}.real_servers[{j}]", d.path), ctx) {
        d.rs_without_method |= rs.forward.is_none();
        d.vs.real_servers.push(rs);
        d.rs_places.push(place_of(k));
    }
}
