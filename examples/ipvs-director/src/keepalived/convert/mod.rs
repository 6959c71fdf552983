//! keepalived.conf statements to the native configuration, block by block through keyword
//! tables ([`keywords`]): the supported subset mapped, a few keywords with no effect on load
//! balancing accepted by name, everything else refused. The tables are also what
//! docs/director-config.md lists ([`keyword_tables`]).

mod checks;
mod global_defs;
mod group;
mod keywords;
mod known;
mod method;
mod real_server;
mod shared;
mod sync_group;
mod unusable;
mod url;
mod virtual_server;
mod vrrp;
mod vrrp_script;

use super::args::Ctx;
use super::tree::Node;
use crate::config::{Config, SyncDaemon};
use keywords::{Block, Keyword};
use vrrp::SyncDaemonInterface;

pub use global_defs::IGNORED_GLOBAL_DEFS;
pub use keywords::{KeywordDoc, KeywordStatus, KeywordTable};

/// Keywords accepted and ignored inside `virtual_server`, `real_server`, `vrrp_instance` and
/// `vrrp_sync_group`, with why (their entry in those blocks' tables).
pub const IGNORED_KEYWORDS: [(&str, &str); 1] = [("smtp_alert", "turns e-mail alerts on; the director sends none")];

/// Every block's keywords, as documented: the top level first, then each block in the
/// order they nest (`global_defs`, `virtual_server`, `real_server`, the checkers, `url`,
/// `vrrp_instance`, `authentication`, `vrrp_sync_group`, `vrrp_script`). A keyword not in
/// its block's table is refused with the table's `unknown` error.
pub fn keyword_tables() -> Vec<KeywordTable> {
    let mut tables = vec![TOP.docs(), global_defs::docs()];
    tables.push(virtual_server::VIRTUAL_SERVER.docs());
    tables.push(real_server::REAL_SERVER.docs());
    tables.extend(checks::docs());
    tables.push(url::docs());
    tables.extend(vrrp::docs());
    tables.push(sync_group::docs());
    tables.push(vrrp_script::docs());
    tables
}

/// The whole file being read.
struct TopDraft {
    c: Config,
    /// The line of the first `global_defs`.
    seen_global: Option<usize>,
    /// vrrp_instance lvs_sync_daemon_interface, which needs global_defs read first.
    syncd_from_instance: Option<SyncDaemonInterface>,
}

type D = TopDraft;

/// The error for keepalived's top-level keywords the director does not support.
const NOT_SUPPORTED: &str = keywords::UNSUPPORTED;

/// The top-level keywords (any number of each; `global_defs` says itself when given twice).
const TOP: Block<D> = Block {
    name: "keepalived.conf",
    tables: &[&[
        Keyword::converted("global_defs", "{ ... }", "global", global_defs),
        Keyword::converted(
            "virtual_server_group",
            "NAME { IP[-END|/MASK] [PORT]; fwmark N [inet|inet6] ... }",
            "virtual_server_groups",
            |n, d, ctx| group::group(n, &mut d.c, ctx),
        ),
        Keyword::converted(
            "virtual_server",
            "IP [PORT] | fwmark N | group NAME { ... }",
            "virtual_servers",
            |n, d, ctx| virtual_server::virtual_server(n, &mut d.c, ctx),
        ),
        Keyword::converted("vrrp_instance", "NAME { ... }", "vrrp_instances", vrrp_instance),
        Keyword::converted("vrrp_sync_group", "NAME { ... }", "vrrp_sync_groups", |n, d, ctx| {
            sync_group::sync_group(n, &mut d.c, ctx)
        }),
        Keyword::converted("vrrp_script", "NAME { ... }", "vrrp_scripts", |n, d, ctx| {
            vrrp_script::script_block(n, &mut d.c, ctx)
        }),
        Keyword::refused("SSL", NOT_SUPPORTED),
        Keyword::refused("static_ipaddress", NOT_SUPPORTED),
        Keyword::refused("static_routes", NOT_SUPPORTED),
        Keyword::refused("static_rules", NOT_SUPPORTED),
        Keyword::refused("track_group", NOT_SUPPORTED),
        Keyword::refused("garp_group", NOT_SUPPORTED),
        Keyword::refused("linkbeat_interfaces", NOT_SUPPORTED),
        Keyword::refused("vrrp_track_process", NOT_SUPPORTED),
        Keyword::refused("vrrp_track_file", NOT_SUPPORTED),
        Keyword::refused("track_file", NOT_SUPPORTED),
        Keyword::refused("bfd_instance", NOT_SUPPORTED),
        Keyword::refused("interface_up_down_delays", NOT_SUPPORTED),
        Keyword::refused("net_namespace", NOT_SUPPORTED),
        Keyword::refused("net_namespace_ipvs", NOT_SUPPORTED),
        Keyword::refused("namespace_with_ipsets", NOT_SUPPORTED),
        Keyword::refused("use_pid_dir", NOT_SUPPORTED),
        Keyword::refused("instance", NOT_SUPPORTED),
        Keyword::refused("child_wait_time", NOT_SUPPORTED),
        Keyword::refused("linkbeat_use_polling", NOT_SUPPORTED),
        Keyword::refused("vrrp_track_bfd", NOT_SUPPORTED),
    ]],
    unknown: "unknown keyword at the top level",
    known: &[],
    counted: false,
    top: true,
};

/// Converts the statements; problems are recorded in `ctx`.
pub(crate) fn convert(nodes: &[Node], ctx: &mut Ctx) -> Config {
    for n in nodes.iter().filter(|n| n.keyword() == "vrrp_script") {
        if let Some(name) = n.arg(0) {
            ctx.script_lines.entry(name.to_owned()).or_insert(n.loc.line);
        }
    }
    let mut d = TopDraft { c: Config::default(), seen_global: None, syncd_from_instance: None };
    TOP.read(nodes, &mut d, ctx);
    let TopDraft { mut c, syncd_from_instance, .. } = d;
    sync_group::drop_missing_members(&mut c, ctx);
    unusable::drop_unusable(&mut c, ctx);
    if let Some((ifname, instance, node)) = syncd_from_instance {
        if c.global.sync_daemon.is_some() {
            ctx.err(&node, "global_defs already has lvs_sync_daemon");
        } else {
            ctx.place("global.sync_daemon", &node);
            c.global.sync_daemon = Some(SyncDaemon {
                interface: ifname,
                instance: Some(instance),
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

fn global_defs(n: &Node, d: &mut D, ctx: &mut Ctx) {
    if let Some(line) = d.seen_global {
        return ctx.err(n, format!("given twice (first at line {line})"));
    }
    d.seen_global = Some(n.loc.line);
    if !n.args().is_empty() {
        ctx.err(n, "takes no argument");
    }
    let nodes = ctx.block(n);
    global_defs::global_defs(nodes, &mut d.c.global, ctx);
}

fn vrrp_instance(n: &Node, d: &mut D, ctx: &mut Ctx) {
    if let Some(found) = vrrp::instance(n, &mut d.c, ctx) {
        if let Some((first, ..)) = &d.syncd_from_instance {
            // keepalived 2.2.7: "(VI_2) lvs_sync_daemon_interface has already been specified
            // as em2 - ignoring".
            let what = format!(
                "already given by an earlier instance (as {first}): this one ignored, as keepalived ignores it"
            );
            ctx.warn(&found.2, what);
        } else {
            d.syncd_from_instance = Some(found);
        }
    }
}
