//! `vrrp_instance`, `vrrp_sync_group` and `vrrp_script` (keepalived/vrrp/vrrp_parser.c's
//! keywords), the subset the director supports.

use std::collections::HashMap;
use std::time::Duration;

use super::super::args::Ctx;
use super::super::tree::Node;
use super::IGNORED_KEYWORDS;
use crate::config::{
    defaults, Config, IpPrefix, TrackInterface, TrackScript, VirtualIp, VrrpInstance, VrrpScript, VrrpState,
    VrrpSyncGroup,
};

/// `vrrp_instance NAME { ... }`. Returns the deprecated `lvs_sync_daemon_interface`
/// (interface, this instance, its statement) if given.
pub(super) fn instance(n: &Node, c: &mut Config, ctx: &mut Ctx) -> Option<(String, String, Node)> {
    let before = ctx.errors.len();
    let path = format!("vrrp_instances[{}]", c.vrrp_instances.len());
    if n.args().len() != 1 {
        ctx.err(n, "takes one name");
        return None;
    }
    ctx.place(&path, n);
    let name = n.arg(0).unwrap_or_default().to_owned();
    let mut v = VrrpInstance {
        name: name.clone(),
        state: None,
        interface: None,
        virtual_router_id: 0,
        priority: None,
        advert_int: None,
        nopreempt: false,
        preempt_delay: None,
        unicast_src_ip: None,
        unicast_peers: Vec::new(),
        virtual_ipaddresses: Vec::new(),
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
        notify_master: None,
        notify_backup: None,
        notify_fault: None,
        auth_pass: None,
        version: None,
    };
    let mut vrid = None;
    let mut syncd = None;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for k in ctx.block(n) {
        let kw = k.keyword();
        if !ctx.once(&mut seen, kw, k) {
            continue;
        }
        let field = |f: &str| format!("{path}.{f}");
        match kw {
            "state" => {
                if ctx.count(k, 1, 1) {
                    match k.arg(0) {
                        Some("MASTER") => v.state = Some(VrrpState::Master),
                        Some("BACKUP") => v.state = Some(VrrpState::Backup),
                        other => ctx.err(k, format!("unknown state {:?} (MASTER or BACKUP)", other.unwrap_or(""))),
                    }
                    ctx.place(field("state"), k);
                }
            }
            "interface" => {
                if ctx.count(k, 1, 1) {
                    v.interface = k.arg(0).map(str::to_owned);
                    ctx.place(field("interface"), k);
                }
            }
            "virtual_router_id" => {
                if ctx.count(k, 1, 1) {
                    vrid = ctx.uint(k, 0, 1, 255).map(|x| x as u8);
                    ctx.place(field("virtual_router_id"), k);
                }
            }
            "priority" => {
                if ctx.count(k, 1, 1) {
                    v.priority = ctx.uint(k, 0, 1, 255).map(|x| x as u8);
                    ctx.place(field("priority"), k);
                }
            }
            "advert_int" => {
                if ctx.count(k, 1, 1) {
                    v.advert_int = ctx.timer(k, 0, Duration::from_millis(10), Duration::from_secs(255));
                    ctx.place(field("advert_int"), k);
                }
            }
            "nopreempt" => {
                if ctx.bare(k) {
                    v.nopreempt = true;
                    ctx.place(field("nopreempt"), k);
                }
            }
            "preempt" => {
                // The default, accepted as keepalived accepts it.
                ctx.bare(k);
            }
            "preempt_delay" => {
                if ctx.count(k, 1, 1) {
                    v.preempt_delay = ctx.timer(k, 0, Duration::ZERO, defaults::MAX_PREEMPT_DELAY);
                    ctx.place(field("preempt_delay"), k);
                }
            }
            "unicast_src_ip" => {
                if ctx.count(k, 1, 1) {
                    v.unicast_src_ip = ctx.ip(k, 0);
                    ctx.place(field("unicast_src_ip"), k);
                }
            }
            "unicast_peer" => {
                for p in ctx.block(k) {
                    if p.args().is_empty() && ctx.no_block(p) {
                        if let Ok(a) = p.keyword().parse() {
                            ctx.place(format!("{path}.unicast_peer[{}]", v.unicast_peers.len()), p);
                            v.unicast_peers.push(a);
                            continue;
                        }
                    }
                    ctx.err(p, "a peer is an IP address alone (min_ttl, max_ttl and other options are not supported)");
                }
            }
            "virtual_ipaddress" => {
                for a in ctx.block(k) {
                    if let Some(vip) = virtual_ip(a, ctx) {
                        ctx.place(format!("{path}.virtual_ipaddress[{}]", v.virtual_ipaddresses.len()), a);
                        v.virtual_ipaddresses.push(vip);
                    }
                }
            }
            "track_interface" | "track_script" => {
                for t in ctx.block(k) {
                    let Some((name, weight, reverse)) = tracked(t, ctx) else { continue };
                    if kw == "track_interface" {
                        ctx.place(format!("{path}.track_interface[{}]", v.track_interfaces.len()), t);
                        v.track_interfaces.push(TrackInterface { name, weight: weight.unwrap_or(0), reverse });
                    } else {
                        ctx.place(format!("{path}.track_script[{}]", v.track_scripts.len()), t);
                        v.track_scripts.push(TrackScript { script: name, weight, reverse });
                    }
                }
            }
            "notify_master" | "notify_backup" | "notify_fault" => {
                let s = ctx.script(k, true);
                ctx.place(field(kw), k);
                match kw {
                    "notify_master" => v.notify_master = s,
                    "notify_backup" => v.notify_backup = s,
                    _ => v.notify_fault = s,
                }
            }
            "authentication" => authentication(k, &mut v, ctx, &field("auth_pass")),
            "version" => {
                if ctx.count(k, 1, 1) {
                    v.version = ctx.uint(k, 0, 2, 3).map(|x| x as u8);
                    ctx.place(field("version"), k);
                }
            }
            "lvs_sync_daemon_interface" => {
                // Deprecated by keepalived (which still honours it): the global lvs_sync_daemon
                // following this instance.
                if ctx.count(k, 1, 1) {
                    syncd = Some((k.arg(0).unwrap_or_default().to_owned(), name.clone(), k.clone()));
                }
            }
            _ if IGNORED_KEYWORDS.iter().any(|(i, _)| *i == kw) => {
                ctx.flag(k);
            }
            _ => ctx.err(k, "unknown keyword in vrrp_instance, or not supported by ipvs-director"),
        }
    }
    match vrid {
        Some(id) => v.virtual_router_id = id,
        None if !seen.contains_key("virtual_router_id") => ctx.err(n, "needs virtual_router_id"),
        None => {}
    }
    if ctx.errors.len() == before {
        c.vrrp_instances.push(v);
    }
    syncd
}

/// `ADDR[/LEN] [dev IF] [label LABEL]`.
fn virtual_ip(a: &Node, ctx: &mut Ctx) -> Option<VirtualIp> {
    if !ctx.no_block(a) {
        return None;
    }
    let address = match a.keyword().parse::<IpPrefix>() {
        Ok(p) => p,
        Err(e) => {
            ctx.err(a, e);
            return None;
        }
    };
    let mut vip = VirtualIp { address, dev: None, label: None };
    let args = a.args();
    let mut i = 0;
    while let Some(opt) = args.get(i) {
        let value = args.get(i + 1).cloned();
        match (opt.as_str(), value) {
            ("dev", Some(d)) if vip.dev.is_none() => vip.dev = Some(d),
            ("label", Some(l)) if vip.label.is_none() => vip.label = Some(l),
            (o @ ("dev" | "label"), _) => {
                ctx.err(a, format!("{o} needs one value, given once"));
                return None;
            }
            (other, _) => {
                ctx.err(a, format!("the address option {other:?} is not supported (dev and label are)"));
                return None;
            }
        }
        i += 2;
    }
    Some(vip)
}

/// `NAME [weight N [reverse]]` of track_interface and track_script.
fn tracked(t: &Node, ctx: &mut Ctx) -> Option<(String, Option<i32>, bool)> {
    if !ctx.no_block(t) {
        return None;
    }
    let name = t.keyword().to_owned();
    match t.args() {
        [] => Some((name, None, false)),
        [w, _] if w == "weight" => ctx.int(t, 1, -253, 253).map(|x| (name, Some(x as i32), false)),
        [w, _, r] if w == "weight" && r == "reverse" => ctx.int(t, 1, -253, 253).map(|x| (name, Some(x as i32), true)),
        _ => {
            ctx.err(t, "takes NAME [weight N [reverse]]");
            None
        }
    }
}

fn authentication(k: &Node, v: &mut VrrpInstance, ctx: &mut Ctx, path: &str) {
    ctx.place(path, k);
    let mut kind = None;
    let mut pass = None;
    for a in ctx.block(k) {
        match a.keyword() {
            "auth_type" if ctx.count(a, 1, 1) => match a.arg(0) {
                Some("PASS") => kind = Some(a.loc.line),
                Some("AH") => ctx.err(a, "AH authentication is not supported (PASS is)"),
                other => ctx.err(a, format!("unknown type {:?} (PASS)", other.unwrap_or(""))),
            },
            "auth_pass" if ctx.count(a, 1, 1) => {
                let p = a.arg(0).unwrap_or_default();
                if p.len() > 8 {
                    ctx.err(a, "longer than 8 bytes (keepalived would cut it)");
                }
                pass = Some(p.to_owned());
            }
            "auth_type" | "auth_pass" => {}
            _ => ctx.err(a, "unknown keyword in authentication"),
        }
    }
    match (kind, pass) {
        (Some(_), Some(p)) => v.auth_pass = Some(p),
        (Some(_), None) => ctx.err(k, "auth_type PASS needs auth_pass"),
        (None, _) => ctx.err(k, "needs auth_type PASS"),
    }
}

/// `vrrp_sync_group NAME { group { I1 I2 } notify_* }`.
pub(super) fn sync_group(n: &Node, c: &mut Config, ctx: &mut Ctx) {
    let path = format!("vrrp_sync_groups[{}]", c.vrrp_sync_groups.len());
    if n.args().len() != 1 {
        return ctx.err(n, "takes one name");
    }
    ctx.place(&path, n);
    let before = ctx.errors.len();
    let mut g = VrrpSyncGroup {
        name: n.arg(0).unwrap_or_default().to_owned(),
        group: Vec::new(),
        notify_master: None,
        notify_backup: None,
        notify_fault: None,
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for k in ctx.block(n) {
        let kw = k.keyword();
        if !ctx.once(&mut seen, kw, k) {
            continue;
        }
        match kw {
            "group" => {
                for m in ctx.block(k) {
                    if ctx.no_block(m) {
                        for word in &m.words {
                            ctx.place(format!("{path}.group[{}]", g.group.len()), m);
                            g.group.push(word.clone());
                        }
                    }
                }
            }
            "notify_master" | "notify_backup" | "notify_fault" => {
                let s = ctx.script(k, true);
                ctx.place(format!("{path}.{kw}"), k);
                match kw {
                    "notify_master" => g.notify_master = s,
                    "notify_backup" => g.notify_backup = s,
                    _ => g.notify_fault = s,
                }
            }
            _ if IGNORED_KEYWORDS.iter().any(|(i, _)| *i == kw) => {
                ctx.flag(k);
            }
            _ => ctx.err(k, "unknown keyword in vrrp_sync_group, or not supported by ipvs-director"),
        }
    }
    if ctx.errors.len() == before {
        c.vrrp_sync_groups.push(g);
    }
}

/// `vrrp_script NAME { script ...; interval; timeout; weight N [reverse]; rise; fall;
/// user; init_fail }`.
pub(super) fn script(n: &Node, c: &mut Config, ctx: &mut Ctx) {
    let path = format!("vrrp_scripts[{}]", c.vrrp_scripts.len());
    if n.args().len() != 1 {
        return ctx.err(n, "takes one name");
    }
    ctx.place(&path, n);
    let before = ctx.errors.len();
    let mut s = VrrpScript::new(n.arg(0).unwrap_or_default(), crate::config::Script::new(Vec::<String>::new()));
    let mut has_script = false;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let max_secs = u64::from(u32::MAX) / 1_000_000;
    for k in ctx.block(n) {
        let kw = k.keyword();
        if !ctx.once(&mut seen, kw, k) {
            continue;
        }
        ctx.place(format!("{path}.{kw}"), k);
        match kw {
            "script" => {
                if let Some(cmd) = ctx.script(k, false) {
                    s.script.argv = cmd.argv;
                    has_script = true;
                }
            }
            "interval" | "timeout" => {
                if ctx.count(k, 1, 1) {
                    // Whole seconds; keepalived turns 0 into 1 with an error.
                    if let Some(v) = ctx.uint(k, 0, 1, max_secs) {
                        if kw == "interval" {
                            s.interval = Duration::from_secs(v);
                        } else {
                            s.timeout = Some(Duration::from_secs(v));
                        }
                    }
                }
            }
            "weight" => match k.args() {
                [_] | [_, _] if ctx.no_block(k) => {
                    s.weight = ctx.int(k, 0, -253, 253).unwrap_or_default() as i32;
                    match k.arg(1) {
                        None => {}
                        Some("reverse") => s.reverse = true,
                        Some(other) => ctx.err(k, format!("unknown option {other:?} (reverse)")),
                    }
                }
                _ => ctx.err(k, "takes N [reverse]"),
            },
            "rise" | "fall" => {
                if ctx.count(k, 1, 1) {
                    let v = ctx.uint(k, 0, 1, i32::MAX as u64).map(|v| v as u32).unwrap_or(1);
                    if kw == "rise" {
                        s.rise = v;
                    } else {
                        s.fall = v;
                    }
                }
            }
            "user" => {
                if ctx.count(k, 1, 2) {
                    s.script.user = k.arg(0).map(str::to_owned);
                    s.script.group = k.arg(1).map(str::to_owned);
                }
            }
            "init_fail" => {
                if ctx.bare(k) {
                    s.init_fail = true;
                }
            }
            _ => ctx.err(k, "unknown keyword in vrrp_script"),
        }
    }
    if !has_script && ctx.errors.len() == before {
        ctx.err(n, "needs script (keepalived drops a vrrp_script without one)");
    }
    if ctx.errors.len() == before {
        c.vrrp_scripts.push(s);
    }
}
