//! `vrrp_instance` (keepalived/vrrp/vrrp_parser.c's keywords), the subset the director
//! supports: its keyword table and handlers, and its `authentication` block.

use std::net::IpAddr;
use std::time::Duration;

use super::super::args::{parse_uint, Ctx, SILENT};
use super::super::tree::Node;
use super::global_defs::GARP;
use super::keywords::{Block, Keyword, KeywordTable, UNKNOWN_DONE};
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
    /// The vrrp_scripts converted so far (keepalived looks a tracked script up as it reads).
    known_scripts: Vec<String>,
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
        Keyword::converted("nopreempt", "(an argument is ignored, as keepalived does)", "nopreempt", nopreempt),
        Keyword::converted("preempt", "", "nopreempt = false (the default)", preempt),
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
        Keyword::converted("track_script", "{ NAME [weight N [reverse]] ... } (any number)", "track_scripts", tracked)
            .repeats(),
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
        Keyword::ignored(
            "notify",
            "COMMAND",
            "the director runs notify_master, notify_backup and notify_fault, not notify (issue 22)",
            ignore,
        ),
        Keyword::ignored("notify_stop", "COMMAND", "the director runs no script when it stops (issue 22)", ignore),
        Keyword::ignored(
            "mcast_src_ip",
            "IP",
            "multicast adverts are sent from the interface's first address (issue 22)",
            ignore,
        ),
        Keyword::ignored(
            "use_vmac",
            "[IFNAME]",
            "the director creates no VMAC interface: it announces from the interface's own MAC address (issue 22)",
            ignore,
        ),
        Keyword::ignored("vmac_xmit_base", "", "concerns a VMAC interface, which the director does not create", ignore),
        Keyword::ignored(
            "dont_track_primary",
            "",
            "the director faults the instance when its interface goes down, keepalived's default (issue 22)",
            ignore,
        ),
        Keyword::ignored(
            "debug",
            "[LEVEL]",
            "keepalived's debug level of the instance; the director's logs are set with RUST_LOG",
            ignore,
        ),
        Keyword::ignored(
            "track_process",
            "{ NAME ... }",
            "vrrp_track_process is refused, so every process tracked is one keepalived does not find and ignores",
            ignore,
        ),
        Keyword::ignored("virtual_routes", "{ ROUTE ... }", "the director adds no routes (issue 22)", ignore),
        Keyword::ignored(
            "virtual_ipaddress_excluded",
            "{ IP[/LEN] ... }",
            "the director does not add these addresses (issue 22)",
            ignore,
        ),
        Keyword::ignored("garp_master_delay", "SECONDS", GARP, ignore),
        Keyword::ignored("garp_master_repeat", "N", GARP, ignore),
        Keyword::ignored("garp_master_refresh", "SECONDS", GARP, ignore),
        Keyword::ignored("garp_master_refresh_repeat", "N", GARP, ignore),
        Keyword::ignored("garp_lower_prio_delay", "SECONDS", GARP, ignore),
        Keyword::ignored("garp_lower_prio_repeat", "N", GARP, ignore),
        Keyword::unsupported("native_ipv6"),
        Keyword::unsupported("track_file"),
        Keyword::unsupported("track_bfd"),
        Keyword::unsupported("virtual_rules"),
        Keyword::unsupported("accept"),
        Keyword::unsupported("no_accept"),
        Keyword::unsupported("strict_mode"),
        Keyword::unsupported("notify_deleted"),
    ]],
    unknown: "unknown keyword in vrrp_instance",
    known: super::known::VRRP_INSTANCE,
    counted: true,
    top: false,
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
    known: &[],
    counted: false,
    top: false,
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
    let known_scripts = c.vrrp_scripts.iter().map(|s| s.name.clone()).collect();
    let mut d = InstanceDraft { path, v, vrid: None, syncd: None, known_scripts };
    let nodes = ctx.block(n);
    let seen = VRRP_INSTANCE.read(nodes, &mut d, ctx);
    let InstanceDraft { mut v, vrid, syncd, path, .. } = d;
    if v.nopreempt && v.state == Some(VrrpState::Master) {
        // keepalived 2.2.7: "(VI_1) Warning - nopreempt will not work with initial state
        // MASTER - clearing" (and `keepalived -t` exits with status 5).
        ctx.warn_for(
            &format!("{path}.nopreempt"),
            "does not work with initial state MASTER: cleared, as keepalived does",
        );
        v.nopreempt = false;
    }
    if v.nopreempt && v.priority == Some(defaults::VRRP_OWNER_PRIORITY) {
        // keepalived 2.2.7: "(VI_1) nopreempt is incompatible with priority 255. resetting
        // nopreempt".
        ctx.warn_for(
            &format!("{path}.nopreempt"),
            "the address owner (priority 255) always preempts: cleared, as keepalived does",
        );
        v.nopreempt = false;
    }
    own_interface_untracked(&mut v, &path, ctx);
    if v.preempt_delay.is_some() && v.state == Some(VrrpState::Master) {
        // keepalived 2.2.7: "(VI_1) Warning - preempt delay will not work with initial state
        // MASTER - clearing".
        ctx.warn_for(
            &format!("{path}.preempt_delay"),
            "does not work with initial state MASTER: cleared, as keepalived does",
        );
        v.preempt_delay = None;
    }
    if v.virtual_ipaddresses.is_empty() && v.version != Some(3) {
        // keepalived 2.2.7: "(VI_1) No VIP specified; at least one is sensible" (a VRRPv2
        // instance; without one, a VRRPv3 instance is refused, by the validation).
        ctx.warn(n, "no virtual address: the instance runs without one, as keepalived runs it");
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

/// keepalived 2.2.7 ignores a track_interface entry naming the instance's own interface
/// ("(VI_1) Ignoring track_interface eth0 since own interface"): the instance already
/// faults when it goes down. So does the director, with a warning at the entry.
fn own_interface_untracked(v: &mut VrrpInstance, path: &str, ctx: &mut Ctx) {
    let Some(own) = v.interface.clone() else { return };
    let mut kept = 0;
    for (j, t) in v.track_interfaces.iter().enumerate() {
        let at = format!("{path}.track_interface[{j}]");
        if t.name == own {
            ctx.warn_for(&at, "the instance's own interface: not tracked (the instance faults when it goes down), as keepalived ignores it");
        } else {
            ctx.move_places(&at, &format!("{path}.track_interface[{kept}]"));
            kept += 1;
        }
    }
    v.track_interfaces.retain(|t| t.name != own);
}

fn state(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        match k.arg(0) {
            Some("MASTER") => d.v.state = Some(VrrpState::Master),
            Some("BACKUP") => d.v.state = Some(VrrpState::Backup),
            // keepalived 2.2.7: "(VI_1) unknown state 'backup', defaulting to BACKUP" (the
            // names are case-sensitive).
            other => {
                let what = format!(
                    "unknown state {:?} (MASTER or BACKUP): BACKUP, as keepalived defaults to it",
                    other.unwrap_or("")
                );
                ctx.warn(k, what);
                d.v.state = Some(VrrpState::Backup);
            }
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

/// keepalived 2.2.7 takes a priority that is not a number within 1..=255 as its default,
/// 100: "invalid number '100,x'", "(VI_1) Priority not valid! must be between 1 & 255. Using
/// default 100".
fn priority(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let text = k.arg(0).unwrap_or_default();
        d.v.priority = match parse_uint(text) {
            Some(p @ 1..=255) => Some(p as u8),
            _ => {
                let what = format!(
                    "{text:?} is not a number within 1..=255: the default {}, as keepalived uses it",
                    defaults::VRRP_PRIORITY
                );
                ctx.warn(k, what);
                None
            }
        };
        d.place("priority", k, ctx);
    }
}

fn advert_int(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.v.advert_int = ctx.timer(k, 0, Duration::from_millis(10), Duration::from_secs(255));
        d.place("advert_int", k, ctx);
    }
}

/// `nopreempt`: keepalived 2.2.7 ignores an argument (`nopreempt 1`, `nopreempt off`) without
/// a word and turns nopreempt on; so does the director, with a warning.
fn nopreempt(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.no_block(k) {
        if !k.args().is_empty() {
            let what =
                format!("the argument {:?} is ignored and nopreempt is on, as keepalived does it {SILENT}", k.raw);
            ctx.warn(k, what);
        }
        d.v.nopreempt = true;
        d.place("nopreempt", k, ctx);
    }
}

/// The default, accepted as keepalived accepts it.
fn preempt(k: &Node, _: &mut D, ctx: &mut Ctx) {
    ctx.bare(k);
}

/// Accepted without effect, whatever its form.
fn ignore(_: &Node, _: &mut D, _: &mut Ctx) {}

fn preempt_delay(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.v.preempt_delay = ctx.timer(k, 0, Duration::ZERO, defaults::MAX_PREEMPT_DELAY);
        d.place("preempt_delay", k, ctx);
    }
}

fn unicast_src_ip(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let text = k.arg(0).unwrap_or_default();
        match address_without_length(k, text, ctx) {
            Some(a) => d.v.unicast_src_ip = Some(a),
            None => ctx.err(k, format!("{text:?} is not an IP address")),
        }
        d.place("unicast_src_ip", k, ctx);
    }
}

/// An address, where keepalived 2.2.7 also takes one followed by a prefix length (which it
/// drops without a word: `unicast_src_ip 192.0.2.1/24`); the director drops it with a
/// warning.
fn address_without_length(k: &Node, text: &str, ctx: &mut Ctx) -> Option<IpAddr> {
    if let Ok(a) = text.parse() {
        return Some(a);
    }
    let (addr, len) = text.split_once('/')?;
    let a = addr.parse().ok()?;
    let what = format!("the prefix length ignored (an address alone is meant), as keepalived ignores it {SILENT}");
    if k.keyword() == text {
        ctx.warn(k, format!("/{len}: {what}"));
    } else {
        ctx.warn(k, format!("{text}: /{len}: {what}"));
    }
    Some(a)
}

fn unicast_peer(k: &Node, d: &mut D, ctx: &mut Ctx) {
    for p in ctx.block(k) {
        if p.args().is_empty() && ctx.no_block(p) {
            if let Some(a) = address_without_length(p, p.keyword(), ctx) {
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
            // keepalived 2.2.7 sets the broadcast address; `keepalived -t` says nothing.
            (o @ ("brd" | "broadcast"), Some(_)) => ctx.warn(
                a,
                format!("the address option {o}: accepted without effect: the director adds the address without a broadcast address (issue 22)"),
            ),
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
        } else if track_script_found(t, &name, d, ctx) {
            d.place(&format!("track_script[{}]", d.v.track_scripts.len()), t, ctx);
            d.v.track_scripts.push(TrackScript { script: name, weight, reverse });
        }
    }
}

/// Whether a track_script entry is taken: keepalived 2.2.7 looks the script up as it reads
/// and ignores, with a warning, one not defined before the instance ("(VI_1) track script
/// chk_x not found, ignoring...") and one tracked twice ("(VI_1) duplicate track_script chk_a
/// - ignoring"); so does the director.
fn track_script_found(t: &Node, name: &str, d: &D, ctx: &mut Ctx) -> bool {
    if d.v.track_scripts.iter().any(|s| s.script == name) {
        ctx.warn(t, format!("tracked twice in this instance; this one {UNKNOWN_DONE}"));
        return false;
    }
    if d.known_scripts.iter().any(|s| s == name) {
        return true;
    }
    let what = match ctx.script_lines.get(name) {
        Some(line) => format!("the vrrp_script of this name comes later (line {line}): not found when keepalived reads this instance, so not tracked, as in keepalived"),
        None => "no vrrp_script of this name: not tracked, as in keepalived".to_owned(),
    };
    ctx.warn(t, what);
    false
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
        // keepalived 2.2.7: "(VI_1) Authentication specified but no password given. Ignoring".
        AuthDraft { kind: Some(_), pass: None } => {
            ctx.warn(k, "auth_type PASS without auth_pass: no authentication, as keepalived ignores the block")
        }
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
        if p.len() <= 8 {
            d.pass = Some(p.to_owned());
            return;
        }
        // keepalived 2.2.7: "Truncating auth_pass to 8 characters" (8 bytes).
        match p.get(..8) {
            Some(cut) => {
                ctx.warn(a, "longer than 8 bytes: cut to its first 8, as keepalived does");
                d.pass = Some(cut.to_owned());
            }
            None => ctx.err(a, "longer than 8 bytes, and keepalived's cut at 8 bytes would split a character"),
        }
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
        // keepalived 2.2.7: "(VI_1) Specifying lvs_sync_daemon_interface against a vrrp is
        // deprecated. Please use global lvs_sync_daemon".
        ctx.warn(k, "deprecated (global_defs lvs_sync_daemon is meant): taken, as keepalived takes it");
        d.syncd = Some((k.arg(0).unwrap_or_default().to_owned(), d.v.name.clone(), k.clone()));
    }
}
