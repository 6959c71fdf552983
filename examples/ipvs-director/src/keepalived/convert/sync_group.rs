//! `vrrp_sync_group NAME { group { I1 I2 }; notify_* }` (keepalived/vrrp/vrrp_parser.c's
//! keywords): its keyword table and handlers.

use super::super::args::Ctx;
use super::super::tree::Node;
use super::keywords::{Block, Keyword, KeywordTable};
use super::shared::{self, Draft, Scripts};
use crate::config::{Config, Script, VrrpSyncGroup};

/// A sync group being read.
struct SyncGroupDraft {
    path: String,
    g: VrrpSyncGroup,
}

type D = SyncGroupDraft;

/// The keywords of `vrrp_sync_group`.
const VRRP_SYNC_GROUP: Block<D> = Block {
    name: "vrrp_sync_group",
    tables: &[&[
        Keyword::converted("group", "{ INSTANCE ... }", "group", group),
        shared::script_keyword("notify_master"),
        shared::script_keyword("notify_backup"),
        shared::script_keyword("notify_fault"),
        shared::smtp_alert(),
        Keyword::unsupported("track_interface"),
        Keyword::unsupported("track_script"),
        Keyword::unsupported("track_file"),
        Keyword::unsupported("track_process"),
        Keyword::unsupported("track_bfd"),
        Keyword::unsupported("notify_stop"),
        Keyword::unsupported("notify"),
    ]],
    unknown: "unknown keyword in vrrp_sync_group",
    known: &[],
    counted: true,
    top: false,
};

/// The keywords of `vrrp_sync_group`, as documented.
pub(super) fn docs() -> KeywordTable {
    VRRP_SYNC_GROUP.docs()
}

impl Draft for D {
    fn place(&mut self, field: &str, n: &Node, ctx: &mut Ctx) {
        ctx.place(format!("{}.{field}", self.path), n);
    }
}

impl Scripts for D {
    fn script(&mut self, keyword: &str) -> &mut Option<Script> {
        match keyword {
            "notify_master" => &mut self.g.notify_master,
            "notify_backup" => &mut self.g.notify_backup,
            _ => &mut self.g.notify_fault,
        }
    }
}

/// `vrrp_sync_group NAME { ... }`.
pub(super) fn sync_group(n: &Node, c: &mut Config, ctx: &mut Ctx) {
    let path = format!("vrrp_sync_groups[{}]", c.vrrp_sync_groups.len());
    if n.args().len() != 1 {
        return ctx.err(n, "takes one name");
    }
    ctx.place(&path, n);
    let before = ctx.errors.len();
    let g = VrrpSyncGroup {
        name: n.arg(0).unwrap_or_default().to_owned(),
        group: Vec::new(),
        notify_master: None,
        notify_backup: None,
        notify_fault: None,
    };
    let mut d = SyncGroupDraft { path, g };
    let nodes = ctx.block(n);
    VRRP_SYNC_GROUP.read(nodes, &mut d, ctx);
    if ctx.errors.len() == before {
        c.vrrp_sync_groups.push(d.g);
    }
}

fn group(k: &Node, d: &mut D, ctx: &mut Ctx) {
    for m in ctx.block(k) {
        if ctx.no_block(m) {
            for word in &m.words {
                d.place(&format!("group[{}]", d.g.group.len()), m, ctx);
                d.g.group.push(word.clone());
            }
        }
    }
}

/// keepalived 2.2.7 resolves a sync group's members once everything is read, and drops a
/// member no instance has, with a warning ("Virtual router vi_x specified in sync group
/// VG_1 doesn't exist - ignoring"), then a group left with no member ("Sync group VG_1, no
/// matching virtual router found in group declaration - removing"); so does the director,
/// each warning at the member's or the group's line.
pub(super) fn drop_missing_members(c: &mut Config, ctx: &mut Ctx) {
    let instances: Vec<String> = c.vrrp_instances.iter().map(|v| v.name.clone()).collect();
    let mut kept = Vec::with_capacity(c.vrrp_sync_groups.len());
    for (i, mut g) in std::mem::take(&mut c.vrrp_sync_groups).into_iter().enumerate() {
        let path = format!("vrrp_sync_groups[{i}]");
        let mut members = Vec::with_capacity(g.group.len());
        for (m, name) in std::mem::take(&mut g.group).into_iter().enumerate() {
            if instances.contains(&name) {
                members.push(name);
                continue;
            }
            let what = "no vrrp_instance of this name: left out of the group, as keepalived leaves it out";
            ctx.warn_for(&format!("{path}.group[{m}]"), what);
        }
        g.group = members;
        let to = format!("vrrp_sync_groups[{}]", kept.len());
        if g.group.is_empty() {
            let what = "no member is a vrrp_instance: the group removed, as keepalived removes it";
            ctx.warn_for(&path, what);
            continue;
        }
        ctx.move_places(&path, &to);
        kept.push(g);
    }
    c.vrrp_sync_groups = kept;
}
