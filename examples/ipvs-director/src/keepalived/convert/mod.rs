//! keepalived.conf statements to the native configuration: the supported subset mapped,
//! a few `global_defs` keys with no effect on load balancing ignored by name, everything
//! else refused.

mod checks;
mod real_server;
mod virtual_server;
mod vrrp;

use std::collections::HashMap;

use super::args::Ctx;
use super::tree::Node;
use crate::config::{Config, Global, SyncDaemon};

/// `global_defs` keys accepted and ignored, with why: they only concern e-mail alerts and
/// the name used in them, which the director does not send.
pub const IGNORED_GLOBAL_DEFS: [(&str, &str); 10] = [
    ("router_id", "names this host in e-mail alerts and SNMP"),
    ("notification_email", "e-mail alert recipients"),
    ("notification_email_from", "e-mail alert sender"),
    ("smtp_server", "e-mail alert relay"),
    ("smtp_connect_timeout", "e-mail alert relay timeout"),
    ("smtp_helo_name", "e-mail alert HELO name"),
    ("smtp_alert", "turns e-mail alerts on"),
    ("smtp_alert_checker", "turns checker e-mail alerts on"),
    ("smtp_alert_vrrp", "turns VRRP e-mail alerts on"),
    ("no_email_faults", "e-mail alerts on faults"),
];

/// Keywords accepted and ignored inside `virtual_server`, `real_server` and `vrrp_instance`,
/// with why.
pub const IGNORED_KEYWORDS: [(&str, &str); 1] = [("smtp_alert", "turns e-mail alerts on; the director sends none")];

/// keepalived's other top-level keywords, which the director does not support.
const UNSUPPORTED_TOP: [&str; 20] = [
    "SSL",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "track_group",
    "garp_group",
    "linkbeat_interfaces",
    "vrrp_track_process",
    "vrrp_track_file",
    "track_file",
    "bfd_instance",
    "interface_up_down_delays",
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "use_pid_dir",
    "instance",
    "child_wait_time",
    "linkbeat_use_polling",
    "vrrp_track_bfd",
];

/// Converts the statements; problems are recorded in `ctx`.
pub(crate) fn convert(nodes: &[Node], ctx: &mut Ctx) -> Config {
    let mut c = Config::default();
    // vrrp_instance lvs_sync_daemon_interface needs the instance's name after global_defs.
    let mut syncd_from_instance: Option<(String, String, Node)> = None;
    let mut seen_global = None;
    for n in nodes {
        match n.keyword() {
            "global_defs" => {
                if let Some(line) = seen_global {
                    ctx.err(n, format!("given twice (first at line {line})"));
                    continue;
                }
                seen_global = Some(n.loc.line);
                if !n.args().is_empty() {
                    ctx.err(n, "takes no argument");
                }
                global_defs(ctx.block(n), &mut c.global, ctx);
            }
            "virtual_server_group" => virtual_server::group(n, &mut c, ctx),
            "virtual_server" => virtual_server::virtual_server(n, &mut c, ctx),
            "vrrp_instance" => {
                if let Some(found) = vrrp::instance(n, &mut c, ctx) {
                    if syncd_from_instance.is_some() {
                        ctx.err(&found.2, "lvs_sync_daemon_interface is given in two instances");
                    } else {
                        syncd_from_instance = Some(found);
                    }
                }
            }
            "vrrp_sync_group" => vrrp::sync_group(n, &mut c, ctx),
            "vrrp_script" => vrrp::script(n, &mut c, ctx),
            kw if UNSUPPORTED_TOP.contains(&kw) => ctx.err(n, "not supported by ipvs-director"),
            _ => ctx.err(n, "unknown keyword here"),
        }
    }
    if let Some((ifname, instance, node)) = syncd_from_instance {
        if c.global.sync_daemon.is_some() {
            ctx.err(&node, "global_defs already has lvs_sync_daemon");
        } else {
            ctx.place("global.sync_daemon", &node);
            c.global.sync_daemon = Some(SyncDaemon {
                interface: ifname,
                instance,
                sync_id: None,
                max_len: None,
                port: None,
                ttl: None,
                group: None,
            });
        }
    }
    c
}

fn global_defs(block: &[Node], g: &mut Global, ctx: &mut Ctx) {
    let mut seen = HashMap::new();
    for n in block {
        let kw = n.keyword();
        if IGNORED_GLOBAL_DEFS.iter().any(|(k, _)| *k == kw) {
            continue; // documented as ignored; notification_email has a block
        }
        if !ctx.once(&mut seen, kw, n) {
            continue;
        }
        match kw {
            "script_user" => {
                if ctx.count(n, 1, 2) {
                    ctx.place("global.script_user", n);
                    ctx.place("global.script_group", n);
                    g.script_user = n.arg(0).map(str::to_owned);
                    g.script_group = n.arg(1).map(str::to_owned);
                }
            }
            "enable_script_security" => {
                if ctx.bare(n) {
                    g.enable_script_security = true;
                }
            }
            "checker_log_all_failures" => {
                if let Some(b) = ctx.flag(n) {
                    g.log_all_failures = b;
                }
            }
            "vrrp_version" => {
                if ctx.count(n, 1, 1) {
                    ctx.place("global.vrrp_version", n);
                    g.vrrp_version = ctx.uint(n, 0, 2, 3).map(|v| v as u8);
                }
            }
            "lvs_timeouts" => lvs_timeouts(n, g, ctx),
            "lvs_sync_daemon" => lvs_sync_daemon(n, g, ctx),
            _ => ctx.err(n, "not supported in global_defs by ipvs-director"),
        }
    }
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`.
fn lvs_timeouts(n: &Node, g: &mut Global, ctx: &mut Ctx) {
    if !ctx.count(n, 2, 6) {
        return;
    }
    ctx.place("global.timeouts", n);
    let mut t = ipvs::Timeouts::default();
    let mut i = 0;
    while let Some(word) = n.arg(i) {
        let v = ctx.uint(n, i + 1, 1, u64::from(ipvs::Timeouts::MAX)).map(|v| v as u32);
        match (word, v) {
            ("tcp", Some(v)) => t.tcp = v,
            ("tcpfin", Some(v)) => t.tcp_fin = v,
            ("udp", Some(v)) => t.udp = v,
            (_, None) => return,
            (other, _) => return ctx.err(n, format!("unknown timeout {other:?} (tcp, tcpfin or udp)")),
        }
        i += 2;
    }
    g.timeouts = Some(t);
}

/// `lvs_sync_daemon IFNAME [inst] NAME [id N] [maxlen N] [port N] [ttl N] [group IP]`.
fn lvs_sync_daemon(n: &Node, g: &mut Global, ctx: &mut Ctx) {
    if !ctx.count(n, 2, 13) {
        return;
    }
    ctx.place("global.sync_daemon", n);
    let mut sd = SyncDaemon {
        interface: n.arg(0).unwrap_or_default().to_owned(),
        instance: String::new(),
        sync_id: None,
        max_len: None,
        port: None,
        ttl: None,
        group: None,
    };
    let mut i = 1;
    while let Some(word) = n.arg(i) {
        let ok = match word {
            "inst" => n.arg(i + 1).map(|name| sd.instance = name.to_owned()).is_some(),
            "id" => ctx.uint(n, i + 1, 0, 255).map(|v| sd.sync_id = Some(v as u8)).is_some(),
            "maxlen" => ctx.uint(n, i + 1, 1, 65_535 - 20 - 8).map(|v| sd.max_len = Some(v as u16)).is_some(),
            "port" => ctx.uint(n, i + 1, 1, 65_535).map(|v| sd.port = Some(v as u16)).is_some(),
            "ttl" => ctx.uint(n, i + 1, 1, 255).map(|v| sd.ttl = Some(v as u8)).is_some(),
            "group" => ctx.ip(n, i + 1).map(|a| sd.group = Some(a)).is_some(),
            name if i == 1 => {
                // The older form: the instance's name right after the interface.
                sd.instance = name.to_owned();
                i += 1;
                continue;
            }
            other => {
                ctx.err(n, format!("unknown option {other:?} (inst, id, maxlen, port, ttl, group)"));
                return;
            }
        };
        if !ok {
            if n.arg(i + 1).is_none() {
                ctx.err(n, format!("{word} needs a value"));
            }
            return;
        }
        i += 2;
    }
    if sd.instance.is_empty() {
        return ctx.err(n, "names no VRRP instance (the sync daemon follows one)");
    }
    g.sync_daemon = Some(sd);
}
