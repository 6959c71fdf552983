//! `global_defs` (keepalived's global keywords): its keyword table and handlers. The keys
//! that only concern what the director does not do (e-mail alerts, SNMP, D-Bus, the
//! notification FIFO, process scheduling and memory locking, VRRP knobs not implemented yet)
//! are accepted with a warning saying so.

use std::net::IpAddr;
use std::time::Duration;

use super::super::args::{parse_timer, Ctx};
use super::super::tree::Node;
use super::keywords::{count_ignored, ignored, Block, Keyword, KeywordTable};
use crate::config::{Global, SyncDaemon};

/// `global_defs` keys accepted without effect (each with a warning), with why: the entries
/// of that kind in the `global_defs` table.
pub const IGNORED_GLOBAL_DEFS: [(&str, &str); count_ignored(KEYWORDS)] = ignored(KEYWORDS);

const KEYWORDS: &[Keyword<Global>] = &[
    Keyword::converted("script_user", "USER [GROUP]", "global.script_user, global.script_group", script_user),
    Keyword::converted("enable_script_security", "", "global.enable_script_security", enable_script_security),
    Keyword::converted("checker_log_all_failures", "[BOOL]", "global.log_all_failures", checker_log_all_failures),
    Keyword::converted("lvs_timeouts", "[tcp N] [tcpfin N] [udp N]", "global.timeouts", lvs_timeouts),
    Keyword::converted(
        "lvs_sync_daemon",
        "IFNAME [[inst] INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP] (no instance: master and backup, always)",
        "global.sync_daemon",
        lvs_sync_daemon,
    ),
    Keyword::converted("vrrp_version", "2|3", "global.vrrp_version", vrrp_version),
    Keyword::converted("vrrp_mcast_group4", "IP", "global.vrrp_mcast_group4", vrrp_mcast_group),
    Keyword::converted("vrrp_mcast_group6", "IP", "global.vrrp_mcast_group6", vrrp_mcast_group),
    Keyword::ignored(
        "default_interface",
        "IFNAME",
        "the interface of static_ipaddress and static_routes entries that name none, which the director does not take (keepalived 2.2.7 puts an instance's addresses on the instance's interface whatever this says)",
        ignore,
    ),
    Keyword::ignored(
        "router_id",
        "NAME",
        "names this host in e-mail alerts and SNMP, which the director does not send",
        ignore,
    )
    .repeats(),
    Keyword::ignored(
        "notification_email",
        "{ ADDRESS ... }",
        "e-mail alert recipients: the director sends no e-mail",
        notification_email,
    )
    .repeats(),
    Keyword::ignored("notification_email_from", "ADDRESS", "e-mail alert sender: the director sends no e-mail", ignore)
        .repeats(),
    Keyword::ignored("smtp_server", "IP [PORT]", "e-mail alert relay: the director sends no e-mail", ignore).repeats(),
    Keyword::ignored(
        "smtp_connect_timeout",
        "SECONDS",
        "e-mail alert relay timeout: the director sends no e-mail",
        ignore,
    )
    .repeats(),
    Keyword::ignored("smtp_helo_name", "NAME", "e-mail alert HELO name: the director sends no e-mail", ignore)
        .repeats(),
    Keyword::ignored("smtp_alert", "[BOOL]", "turns e-mail alerts on: the director sends none", ignore).repeats(),
    Keyword::ignored("smtp_alert_checker", "[BOOL]", "turns checker e-mail alerts on: the director sends none", ignore)
        .repeats(),
    Keyword::ignored("smtp_alert_vrrp", "[BOOL]", "turns VRRP e-mail alerts on: the director sends none", ignore)
        .repeats(),
    Keyword::ignored("no_email_faults", "", "e-mail alerts on faults: the director sends none", ignore).repeats(),
    Keyword::ignored("vrrp_strict", "", STRICT, ignore),
    Keyword::ignored(
        "vrrp_skip_check_adv_addr",
        "",
        "the director checks the address list of every advert (issue 22)",
        ignore,
    ),
    Keyword::ignored(
        "vrrp_garp_interval",
        "SECONDS",
        "the director sends its gratuitous ARPs back to back (issue 22)",
        garp_interval,
    ),
    Keyword::ignored(
        "vrrp_gna_interval",
        "SECONDS",
        "the director sends its neighbour advertisements back to back (issue 22)",
        garp_interval,
    ),
    Keyword::ignored("vrrp_garp_master_delay", "SECONDS", GARP, ignore),
    Keyword::ignored("vrrp_garp_master_repeat", "N", GARP, ignore),
    Keyword::ignored("vrrp_garp_master_refresh", "SECONDS", GARP, ignore),
    Keyword::ignored("vrrp_garp_master_refresh_repeat", "N", GARP, ignore),
    Keyword::ignored("vrrp_garp_lower_prio_delay", "SECONDS", GARP, ignore),
    Keyword::ignored("vrrp_garp_lower_prio_repeat", "N", GARP, ignore),
    Keyword::ignored(
        "nftables",
        "[TABLE]",
        "the director adds no firewall rules (keepalived's serve vrrp_strict and no_accept)",
        ignore,
    ),
    Keyword::ignored("vrrp_notify_fifo", "PATH", FIFO, ignore),
    Keyword::ignored("vrrp_notify_fifo_script", "COMMAND", FIFO, ignore),
    Keyword::ignored("notify_fifo", "PATH", FIFO, ignore),
    Keyword::ignored("notify_fifo_script", "COMMAND", FIFO, ignore),
    Keyword::ignored("vrrp_notify_priority_changes", "[BOOL]", FIFO, ignore),
    Keyword::ignored("enable_traps", "", SNMP, ignore),
    Keyword::ignored("enable_snmp_vrrp", "", SNMP, ignore),
    Keyword::ignored("enable_snmp_checker", "", SNMP, ignore),
    Keyword::ignored("enable_snmp_rfc", "", SNMP, ignore),
    Keyword::ignored("enable_snmp_rfcv2", "", SNMP, ignore),
    Keyword::ignored("enable_snmp_rfcv3", "", SNMP, ignore),
    Keyword::ignored("snmp_socket", "SOCKET", SNMP, ignore),
    Keyword::ignored("enable_dbus", "", "the director has no D-Bus interface", ignore),
    Keyword::ignored("max_auto_priority", "[PRIORITY]", PROCESS, ignore),
    Keyword::ignored("vrrp_priority", "NICE", PROCESS, ignore),
    Keyword::ignored("checker_priority", "NICE", PROCESS, ignore),
    Keyword::ignored("vrrp_rt_priority", "PRIORITY", PROCESS, ignore),
    Keyword::ignored("checker_rt_priority", "PRIORITY", PROCESS, ignore),
    Keyword::ignored("vrrp_no_swap", "", PROCESS, ignore),
    Keyword::ignored("checker_no_swap", "", PROCESS, ignore),
    Keyword::ignored("vrrp_cpu_affinity", "CPU ...", PROCESS, ignore),
    Keyword::ignored("checker_cpu_affinity", "CPU ...", PROCESS, ignore),
    Keyword::ignored("vrrp_rlimit_rttime", "MICROSECONDS", PROCESS, ignore),
    Keyword::ignored("checker_rlimit_rttime", "MICROSECONDS", PROCESS, ignore),
    Keyword::ignored("vrrp_process_name", "NAME", PROCESS, ignore),
    Keyword::ignored("checker_process_name", "NAME", PROCESS, ignore),
    Keyword::ignored("process_names", "", PROCESS, ignore),
    Keyword::unsupported("lvs_flush"),
    Keyword::unsupported("lvs_flush_on_stop"),
];

/// Why `vrrp_strict` has no effect.
const STRICT: &str = "the director does not apply keepalived's strict RFC mode: it adds no firewall rules for the virtual addresses, and unicast and authentication stay allowed (issue 22)";

/// Why the gratuitous ARP knobs have no effect (keepalived's defaults are what the
/// director's VRRP sends).
pub(super) const GARP: &str =
    "the director announces as keepalived does by default: 5 gratuitous ARPs or neighbour advertisements at once and 5 more after 5 s, no refresh (issue 22)";

/// Why the notification FIFO keys have no effect.
const FIFO: &str = "the director writes no notification FIFO (it runs the notify_* scripts)";

/// Why the SNMP keys have no effect.
const SNMP: &str = "the director has no SNMP agent (its metrics are served on /metrics)";

/// Why the process scheduling and memory locking keys have no effect.
const PROCESS: &str =
    "keepalived's child processes' scheduling, memory locking and CPU placement: the director is one process, run as started";

/// The keywords of `global_defs`.
const GLOBAL_DEFS: Block<Global> = Block {
    name: "global_defs",
    tables: &[KEYWORDS],
    unknown: "unknown keyword in global_defs",
    known: super::known::GLOBAL_DEFS,
    counted: true,
    top: false,
};

/// The keywords of `global_defs`, as documented.
pub(super) fn docs() -> KeywordTable {
    GLOBAL_DEFS.docs()
}

/// Reads a `global_defs` block into `g`.
pub(super) fn global_defs(block: &[Node], g: &mut Global, ctx: &mut Ctx) {
    GLOBAL_DEFS.read(block, g, ctx);
}

/// Accepted without effect, whatever its form.
fn ignore(_: &Node, _: &mut Global, _: &mut Ctx) {}

/// keepalived 2.2.7 warns of an empty block: "Warning - empty notification_email block".
fn notification_email(n: &Node, _: &mut Global, ctx: &mut Ctx) {
    // (keepalived names the line of the block's end.)
    if n.block.as_ref().is_none_or(|b| b.is_empty()) {
        ctx.warn_at(
            n.end.as_ref().unwrap_or(&n.loc),
            n.keyword(),
            "an empty block (no recipient), as keepalived warns",
        );
    }
}

/// `vrrp_garp_interval`, `vrrp_gna_interval`: keepalived 2.2.7 ignores a value outside
/// 0.000001..=4294.967295 s ("number '0' outside range [0.000001, 4294.967295]",
/// "vrrp_garp_interval '0' is invalid").
fn garp_interval(n: &Node, _: &mut Global, ctx: &mut Ctx) {
    let text = n.arg(0).unwrap_or_default();
    let valid = parse_timer(text)
        .is_some_and(|t| t >= Duration::from_micros(1) && t <= Duration::from_micros(u64::from(u32::MAX)));
    if !valid {
        ctx.warn(n, format!("{text:?} is not within 0.000001..=4294.967295 s: ignored, as keepalived ignores it"));
    }
}

fn script_user(n: &Node, g: &mut Global, ctx: &mut Ctx) {
    if ctx.count(n, 1, 2) {
        ctx.place("global.script_user", n);
        ctx.place("global.script_group", n);
        g.script_user = n.arg(0).map(str::to_owned);
        g.script_group = n.arg(1).map(str::to_owned);
    }
}

fn enable_script_security(n: &Node, g: &mut Global, ctx: &mut Ctx) {
    if ctx.bare(n) {
        g.enable_script_security = true;
    }
}

fn checker_log_all_failures(n: &Node, g: &mut Global, ctx: &mut Ctx) {
    if let Some(b) = ctx.flag(n) {
        g.log_all_failures = b;
    }
}

fn vrrp_version(n: &Node, g: &mut Global, ctx: &mut Ctx) {
    if ctx.count(n, 1, 1) {
        ctx.place("global.vrrp_version", n);
        g.vrrp_version = ctx.uint(n, 0, 2, 3).map(|v| v as u8);
    }
}

/// `vrrp_mcast_group4 IP`, `vrrp_mcast_group6 IP`: keepalived 2.2.7 skips an address that
/// is not one of the family or not multicast ("vrrp_mcast_group4 [192.0.2.1] is not
/// multicast. Skipping", "Can't parse vrrp_mcast_group4 [xyz]. Skipping"); so does the
/// director, with a warning.
fn vrrp_mcast_group(n: &Node, g: &mut Global, ctx: &mut Ctx) {
    if !ctx.count(n, 1, 1) {
        return;
    }
    let kw = n.keyword();
    let text = n.arg(0).unwrap_or_default();
    ctx.place(format!("global.{kw}"), n);
    let v6 = kw.ends_with('6');
    match text.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) if !v6 && a.is_multicast() => g.vrrp_mcast_group4 = Some(a),
        Ok(IpAddr::V6(a)) if v6 && a.is_multicast() => g.vrrp_mcast_group6 = Some(a),
        Ok(a) if a.is_ipv6() == v6 => ctx.warn(n, format!("{a} is not multicast: skipped, as keepalived skips it")),
        _ => ctx.warn(
            n,
            format!("{text:?} is not an IPv{} address: skipped, as keepalived skips it", if v6 { 6 } else { 4 }),
        ),
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

/// `lvs_sync_daemon IFNAME [[inst] NAME] [id N] [maxlen N] [port N] [ttl N] [group IP]`.
fn lvs_sync_daemon(n: &Node, g: &mut Global, ctx: &mut Ctx) {
    if !ctx.count(n, 1, 13) {
        return;
    }
    ctx.place("global.sync_daemon", n);
    let mut sd = SyncDaemon {
        interface: n.arg(0).unwrap_or_default().to_owned(),
        instance: None,
        sync_id: None,
        max_len: None,
        port: None,
        ttl: None,
        group: None,
    };
    let mut i = 1;
    while let Some(word) = n.arg(i) {
        let ok = match word {
            "inst" => n.arg(i + 1).map(|name| sd.instance = Some(name.to_owned())).is_some(),
            "id" => ctx.uint(n, i + 1, 0, 255).map(|v| sd.sync_id = Some(v as u8)).is_some(),
            "maxlen" => ctx.uint(n, i + 1, 1, 65_535 - 20 - 8).map(|v| sd.max_len = Some(v as u16)).is_some(),
            "port" => ctx.uint(n, i + 1, 1, 65_535).map(|v| sd.port = Some(v as u16)).is_some(),
            "ttl" => ctx.uint(n, i + 1, 1, 255).map(|v| sd.ttl = Some(v as u8)).is_some(),
            "group" => ctx.ip(n, i + 1).map(|a| sd.group = Some(a)).is_some(),
            name if i == 1 => {
                // The older form: the instance's name right after the interface.
                sd.instance = Some(name.to_owned());
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
    // keepalived 2.2.7 takes an interface alone: its checker then runs the master and the
    // backup daemon (sync id 0 unless `id` says) from start to stop.
    g.sync_daemon = Some(sd);
}
