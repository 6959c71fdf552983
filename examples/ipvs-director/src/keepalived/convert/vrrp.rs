//! `vrrp_instance` (keepalived/vrrp/vrrp_parser.c's keywords), the subset the director
//! supports: its keyword table and handlers, and its `authentication` block.

use std::time::Duration;

use super::super::args::Ctx;
use super::super::tree::Node;
use super::keywords::{each, Block, Keyword, KeywordTable};
use super::shared::{self, Draft, Scripts};
use crate::config::{
    defaults, Config, IpPrefix, Script, TrackInterface, TrackScript, VirtualIp, VrrpInstance, VrrpState,
};

/// The deprecated `lvs_sync_daemon_interface` of an instance: the interface, the instance's
/// name, and the statement.
pub(super) type SyncDaemonInterface = (String, String, Node);

/// An instance being read.
struct InstanceDraft {
    path: String,
    v: VrrpInstance,
    vrid: Option<u8>,
    syncd: Option<SyncDaemonInterface>,
}

type D = InstanceDraft;

/// The keywords of `vrrp_instance`.
const VRRP_INSTANCE: Block<D> = Block {
    name: "vrrp_instance",
    tables: &[&[
        Keyword::converted("state", "MASTER|BACKUP", "state", state),
        Keyword::converted("interface", "IFNAME", "interface", interface),
        Keyword::converted("virtual_router_id", "1..=255", "virtual_router_id", virtual_router_id),
        Keyword::converted("priority", "1..=255", "priority", priority),
        Keyword::converted("advert_int", "SECONDS", "advert_int", advert_int),
        Keyword::converted("nopreempt", "", "nopreempt", nopreempt),
        Keyword::ignored("preempt", "", "preemption is the default", preempt),
        Keyword::converted("preempt_delay", "SECONDS", "preempt_delay", preempt_delay),
        Keyword::converted("unicast_src_ip", "IP", "unicast_src_ip", unicast_src_ip),
        Keyword::converted("unicast_peer", "{ IP ... }", "unicast_peers", unicast_peer),
        Keyword::converted(
            "virtual_ipaddress",
            "{ IP[/LEN] [dev IFNAME] [label LABEL] ... }",
            "virtual_ipaddresses",
            virtual_ipaddress,
        ),
        Keyword::converted("track_interface", "{ IFNAME [weight N [reverse]] ... }", "track_interfaces", tracked),
        Keyword::converted("track_script", "{ NAME [weight N [reverse]] ... }", "track_scripts", tracked),
        shared::script_keyword("notify_master"),
        shared::script_keyword("notify_backup"),
        shared::script_keyword("notify_fault"),
        Keyword::converted("authentication", "{ auth_type PASS; auth_pass PASSWORD }", "auth_pass", authentication),
        Keyword::converted("version", "2|3", "version", version),
        Keyword::converted(
            "lvs_sync_daemon_interface",
            "IFNAME (deprecated by keepalived, which still honours it)",
            "global.sync_daemon, following this instance",
            lvs_sync_daemon_interface,
        ),
        shared::smtp_alert(),
        Keyword::unsupported("use_vmac"),
        Keyword::unsupported("vmac_xmit_base"),
        Keyword::unsupported("native_ipv6"),
        Keyword::unsupported("dont_track_primary"),
        Keyword::unsupported("mcast_src_ip"),
        Keyword::unsupported("track_file"),
        Keyword::unsupported("track_process"),
        Keyword::unsupported("track_bfd"),
        Keyword::unsupported("virtual_ipaddress_excluded"),
        Keyword::unsupported("virtual_routes"),
        Keyword::unsupported("virtual_rules"),
        Keyword::unsupported("accept"),
        Keyword::unsupported("no_accept"),
        Keyword::unsupported("strict_mode"),
        Keyword::unsupported("garp_master_delay"),
        Keyword::unsupported("garp_master_repeat"),
        Keyword::unsupported("garp_master_refresh"),
        Keyword::unsupported("garp_master_refresh_repeat"),
        Keyword::unsupported("garp_lower_prio_delay"),
        Keyword::unsupported("garp_lower_prio_repeat"),
        Keyword::unsupported("notify_stop"),
        Keyword::unsupported("notify_deleted"),
        Keyword::unsupported("notify"),
    ]],
    unknown: "unknown keyword in vrrp_instance, or not supported by ipvs-director",
    counted: true,
    unknown_once: each,
};

/// An `authentication` block being read: the line of `auth_type PASS`, and the password.
#[derive(Default)]
struct AuthDraft {
    kind: Option<usize>,
    pass: Option<String>,
}

/// The keywords of `authentication`.
const AUTHENTICATION: Block<AuthDraft> = Block {
    name: "authentication",
    tables: &[&[
        Keyword::converted("auth_type", "PASS (AH is not supported)", "auth_pass", auth_type),
        Keyword::converted("auth_pass", "PASSWORD (up to 8 bytes)", "auth_pass", auth_pass),
    ]],
    unknown: "unknown keyword in authentication",
    counted: false,
    unknown_once: each,
};

/// The keywords of `vrrp_instance` and `authentication`, as documented.
pub(super) fn docs() -> [KeywordTable; 2] {
    [VRRP_INSTANCE.docs(), AUTHENTICATION.docs()]
}

impl Draft for D {
    fn place(&mut self, field: &str, n: &Node, ctx: &mut Ctx) {
        ctx.place(format!("{}.{field}", self.path), n);
    }
}

impl Scripts for D {
    fn script(&mut self, keyword: &str) -> &mut Option<Script> {
        match keyword {
            "notify_master" => &mut self.v.notify_master,
            "notify_backup" => &mut self.v.notify_backup,
            _ => &mut self.v.notify_fault,
        }
    }
}

/// `vrrp_instance NAME { ... }`. Returns the deprecated `lvs_sync_daemon_interface` if
/// given.
pub(super) fn instance(n: &Node, c: &mut Config, ctx: &mut Ctx) -> Option<SyncDaemonInterface> {
    let before = ctx.errors.len();
    let path = format!("vrrp_instances[{}]", c.vrrp_instances.len());
    if n.args().len() != 1 {
        ctx.err(n, "takes one name");
        return None;
    }
    ctx.place(&path, n);
    let v = VrrpInstance {
        name: n.arg(0).unwrap_or_default().to_owned(),
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
    let mut d = InstanceDraft { path, v, vrid: None, syncd: None };
    let nodes = ctx.block(n);
    let seen = VRRP_INSTANCE.read(nodes, &mut d, ctx);
    let InstanceDraft { mut v, vrid, syncd, .. } = d;
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

fn state(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        match k.arg(0) {
            Some("MASTER") => d.v.state = Some(VrrpState::Master),
            Some("BACKUP") => d.v.state = Some(VrrpState::Backup),
            other => ctx.err(k, format!("unknown state {:?} (MASTER or BACKUP)", other.unwrap_or(""))),
        }
        d.place("state", k, ctx);
    }
}

fn interface(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.v.interface = k.arg(0).map(str::to_owned);
        d.place("interface", k, ctx);
    }
}

fn virtual_router_id(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.vrid = ctx.uint(k, 0, 1, 255).map(|x| x as u8);
        d.place("virtual_router_id", k, ctx);
    }
}

fn priority(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.v.priority = ctx.uint(k, 0, 1, 255).map(|x| x as u8);
        d.place("priority", k, ctx);
    }
}

fn advert_int(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.v.advert_int = ctx.timer(k, 0, Duration::from_millis(10), Duration::from_secs(255));
        d.place("advert_int", k, ctx);
    }
}

fn nopreempt(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.bare(k) {
        d.v.nopreempt = true;
        d.place("nopreempt", k, ctx);
    }
}

/// The default, accepted as keepalived accepts it.
fn preempt(k: &Node, _: &mut D, ctx: &mut Ctx) {
    ctx.bare(k);
}

fn preempt_delay(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.v.preempt_delay = ctx.timer(k, 0, Duration::ZERO, defaults::MAX_PREEMPT_DELAY);
        d.place("preempt_delay", k, ctx);
    }
}

fn unicast_src_ip(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.v.unicast_src_ip = ctx.ip(k, 0);
        d.place("unicast_src_ip", k, ctx);
    }
}

fn unicast_peer(k: &Node, d: &mut D, ctx: &mut Ctx) {
    for p in ctx.block(k) {
        if p.args().is_empty() && ctx.no_block(p) {
            if let Ok(a) = p.keyword().parse() {
                d.place(&format!("unicast_peer[{}]", d.v.unicast_peers.len()), p, ctx);
                d.v.unicast_peers.push(a);
                continue;
            }
        }
        ctx.err(p, "a peer is an IP address alone (min_ttl, max_ttl and other options are not supported)");
    }
}

fn virtual_ipaddress(k: &Node, d: &mut D, ctx: &mut Ctx) {
    for a in ctx.block(k) {
        if let Some(vip) = virtual_ip(a, ctx) {
            d.place(&format!("virtual_ipaddress[{}]", d.v.virtual_ipaddresses.len()), a, ctx);
            d.v.virtual_ipaddresses.push(vip);
        }
    }
}

/// `ADDR[/LEN] [dev IF] [label LABEL]`.
fn virtual_ip(a: &Node, ctx: &mut Ctx) -> Option<VirtualIp> {
    if !ctx.no_block(a) {
        return None;
    }
    let address = match a.keyword().parse::<IpPrefix>() {
        Ok(p) => p,
        Err(e) => {
            ctx.err(a, e.to_string());
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

/// `track_interface`, `track_script`.
fn tracked(k: &Node, d: &mut D, ctx: &mut Ctx) {
    let kw = k.keyword();
    for t in ctx.block(k) {
        let Some((name, weight, reverse)) = tracked_entry(t, ctx) else { continue };
        if kw == "track_interface" {
            d.place(&format!("track_interface[{}]", d.v.track_interfaces.len()), t, ctx);
            d.v.track_interfaces.push(TrackInterface { name, weight: weight.unwrap_or(0), reverse });
        } else {
            d.place(&format!("track_script[{}]", d.v.track_scripts.len()), t, ctx);
            d.v.track_scripts.push(TrackScript { script: name, weight, reverse });
        }
    }
}

/// `NAME [weight N [reverse]]` of track_interface and track_script.
fn tracked_entry(t: &Node, ctx: &mut Ctx) -> Option<(String, Option<i32>, bool)> {
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

fn authentication(k: &Node, d: &mut D, ctx: &mut Ctx) {
    d.place("auth_pass", k, ctx);
    let mut auth = AuthDraft::default();
    let nodes = ctx.block(k);
    AUTHENTICATION.read(nodes, &mut auth, ctx);
    match auth {
        AuthDraft { kind: Some(_), pass: Some(p) } => d.v.auth_pass = Some(p),
        AuthDraft { kind: Some(_), pass: None } => ctx.err(k, "auth_type PASS needs auth_pass"),
        AuthDraft { kind: None, .. } => ctx.err(k, "needs auth_type PASS"),
    }
}

fn auth_type(a: &Node, d: &mut AuthDraft, ctx: &mut Ctx) {
    if ctx.count(a, 1, 1) {
        match a.arg(0) {
            Some("PASS") => d.kind = Some(a.loc.line),
            Some("AH") => ctx.err(a, "AH authentication is not supported (PASS is)"),
            other => ctx.err(a, format!("unknown type {:?} (PASS)", other.unwrap_or(""))),
        }
    }
}

fn auth_pass(a: &Node, d: &mut AuthDraft, ctx: &mut Ctx) {
    if ctx.count(a, 1, 1) {
        let p = a.arg(0).unwrap_or_default();
        if p.len() > 8 {
            ctx.err(a, "longer than 8 bytes (keepalived would cut it)");
        }
        d.pass = Some(p.to_owned());
    }
}

fn version(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.v.version = ctx.uint(k, 0, 2, 3).map(|x| x as u8);
        d.place("version", k, ctx);
    }
}

/// Deprecated by keepalived (which still honours it): the global lvs_sync_daemon following
/// this instance.
fn lvs_sync_daemon_interface(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.syncd = Some((k.arg(0).unwrap_or_default().to_owned(), d.v.name.clone(), k.clone()));
    }
}
