//! `vrrp_script NAME { script ...; interval; timeout; weight N [reverse]; rise; fall; user;
//! init_fail }` (keepalived/vrrp/vrrp_parser.c's keywords): its keyword table and handlers.

use std::time::Duration;

use super::super::args::Ctx;
use super::super::tree::Node;
use super::keywords::{Block, Keyword, KeywordTable};
use super::shared::Draft;
use crate::config::{Config, Script, VrrpScript};

/// A script being read.
struct ScriptDraft {
    path: String,
    s: VrrpScript,
    has_script: bool,
}

type D = ScriptDraft;

/// The keywords of `vrrp_script`.
const VRRP_SCRIPT: Block<D> = Block {
    name: "vrrp_script",
    tables: &[&[
        Keyword::converted("script", "COMMAND", "script", script),
        Keyword::converted("interval", "SECONDS", "interval", seconds),
        Keyword::converted("timeout", "SECONDS", "timeout", seconds),
        Keyword::converted("weight", "N [reverse]", "weight, reverse", weight),
        Keyword::converted("rise", "N", "rise", rise_fall),
        Keyword::converted("fall", "N", "fall", rise_fall),
        Keyword::converted("user", "USER [GROUP]", "script (its user and group)", user),
        Keyword::converted("init_fail", "", "init_fail", init_fail),
    ]],
    unknown: "unknown keyword in vrrp_script",
    known: &[],
    counted: true,
    top: false,
};

/// The keywords of `vrrp_script`, as documented.
pub(super) fn docs() -> KeywordTable {
    VRRP_SCRIPT.docs()
}

impl Draft for D {
    fn place(&mut self, field: &str, n: &Node, ctx: &mut Ctx) {
        ctx.place(format!("{}.{field}", self.path), n);
    }
}

/// `vrrp_script NAME { ... }`.
pub(super) fn script_block(n: &Node, c: &mut Config, ctx: &mut Ctx) {
    let path = format!("vrrp_scripts[{}]", c.vrrp_scripts.len());
    if n.args().len() != 1 {
        return ctx.err(n, "takes one name");
    }
    let name = n.arg(0).unwrap_or_default();
    if let Some(i) = c.vrrp_scripts.iter().position(|s| s.name == name) {
        // keepalived 2.2.7 keeps both and finds the first by name; the second is never run
        // (it logs "Warning - script chk_a is not used" when it starts).
        let first = ctx.places.get(&format!("vrrp_scripts[{i}]")).map_or(0, |(loc, _)| loc.line);
        let what = format!(
            "a vrrp_script {name:?} is already defined (line {first}): this one is ignored, keepalived uses the first"
        );
        return ctx.warn(n, what);
    }
    ctx.place(&path, n);
    if let Some(end) = &n.end {
        ctx.place_from(format!("{path}.end"), (end.clone(), n.keyword().to_owned()));
    }
    let before = ctx.errors.len();
    let s = VrrpScript::new(n.arg(0).unwrap_or_default(), Script::new(Vec::<String>::new()));
    let mut d = ScriptDraft { path, s, has_script: false };
    let nodes = ctx.block(n);
    VRRP_SCRIPT.read(nodes, &mut d, ctx);
    if !d.has_script && ctx.errors.len() == before {
        ctx.err(n, "needs script (keepalived drops a vrrp_script without one)");
    }
    if ctx.errors.len() == before {
        c.vrrp_scripts.push(d.s);
    }
}

fn script(k: &Node, d: &mut D, ctx: &mut Ctx) {
    d.place("script", k, ctx);
    if let Some(cmd) = ctx.script(k, false) {
        d.s.script.argv = cmd.argv;
        d.has_script = true;
    }
}

/// `interval`, `timeout`: whole seconds; keepalived turns 0 into 1 with an error.
fn seconds(k: &Node, d: &mut D, ctx: &mut Ctx) {
    let kw = k.keyword();
    d.place(kw, k, ctx);
    if ctx.count(k, 1, 1) {
        if let Some(v) = ctx.uint(k, 0, 1, u64::from(u32::MAX) / 1_000_000) {
            if kw == "interval" {
                d.s.interval = Duration::from_secs(v);
            } else {
                d.s.timeout = Some(Duration::from_secs(v));
            }
        }
    }
}

fn weight(k: &Node, d: &mut D, ctx: &mut Ctx) {
    d.place("weight", k, ctx);
    match k.args() {
        [_] | [_, _] if ctx.no_block(k) => {
            d.s.weight = ctx.int(k, 0, -253, 253).unwrap_or_default() as i32;
            match k.arg(1) {
                None => {}
                Some("reverse") => d.s.reverse = true,
                Some(other) => ctx.err(k, format!("unknown option {other:?} (reverse)")),
            }
        }
        _ => ctx.err(k, "takes N [reverse]"),
    }
}

/// `rise`, `fall`.
fn rise_fall(k: &Node, d: &mut D, ctx: &mut Ctx) {
    let kw = k.keyword();
    d.place(kw, k, ctx);
    if ctx.count(k, 1, 1) {
        let v = ctx.uint(k, 0, 1, i32::MAX as u64).map(|v| v as u32).unwrap_or(1);
        if kw == "rise" {
            d.s.rise = v;
        } else {
            d.s.fall = v;
        }
    }
}

fn user(k: &Node, d: &mut D, ctx: &mut Ctx) {
    d.place("user", k, ctx);
    if ctx.count(k, 1, 2) {
        d.s.script.user = k.arg(0).map(str::to_owned);
        d.s.script.group = k.arg(1).map(str::to_owned);
    }
}

fn init_fail(k: &Node, d: &mut D, ctx: &mut Ctx) {
    d.place("init_fail", k, ctx);
    if ctx.bare(k) {
        d.s.init_fail = true;
    }
}
