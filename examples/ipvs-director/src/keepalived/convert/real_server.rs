//! `real_server IP [PORT] { ... }` (check_parser.c's real server keywords): its keyword
//! table and handlers.

use std::collections::HashMap;

use ipvs::{Destination, Forward};

use super::super::args::{parse_uint, place_of, Ctx, Place};
use super::super::tree::Node;
use super::checks;
use super::keywords::{Block, Keyword};
use super::shared::{self, Alpha, Draft, Forwarded, Scripts, Shared, Timed, Virtualhost};
use crate::config::{Check, OnFailure, RealServer, Script, Timing};

/// A converted check, where its fields came from, and its statement.
type Converted = (Check, Vec<(String, Place)>, Place);

/// A real server being read.
pub(super) struct RealServerDraft {
    path: String,
    rs: RealServer,
    checks: Vec<Converted>,
}

type D = RealServerDraft;

/// The keywords of `real_server`.
pub(super) const REAL_SERVER: Block<D> = Block {
    name: "real_server",
    tables: &[OWN, Shared::<D>::TIMING, CHECKERS],
    unknown: "unknown keyword in real_server",
    known: super::known::REAL_SERVER,
    counted: true,
    top: false,
};

const OWN: &[Keyword<D>] = &[
    Keyword::converted("weight", "N", "weight", weight),
    shared::lvs_method(),
    Keyword::refused("lb_kind", "a real server takes lvs_method (keepalived does not know lb_kind here)"),
    Keyword::converted("uthreshold", "N", "upper_threshold", threshold),
    Keyword::converted("lthreshold", "N", "lower_threshold", threshold),
    Keyword::converted(
        "inhibit_on_failure",
        "[BOOL]",
        "on_failure = \"inhibit\" (off: \"remove\")",
        inhibit_on_failure,
    ),
    shared::alpha(),
    shared::script_keyword("notify_up"),
    shared::script_keyword("notify_down"),
    shared::connect_timeout(),
    shared::virtualhost(),
    shared::smtp_alert(),
    Keyword::refused("snmp_name", "not supported by ipvs-director"),
];

/// The checkers, any number of each.
const CHECKERS: &[Keyword<D>] = &[
    Keyword::converted("TCP_CHECK", "{ ... }", "tcp_check", check).repeats(),
    Keyword::converted("HTTP_GET", "{ ... }", "http_get", check).repeats(),
    Keyword::converted("SSL_GET", "{ ... }", "ssl_get", check).repeats(),
    Keyword::converted("DNS_CHECK", "{ ... }", "dns_check", check).repeats(),
    Keyword::converted("MISC_CHECK", "{ ... }", "misc_check", check).repeats(),
    Keyword::converted("SMTP_CHECK", "{ ... }", "smtp_check", check).repeats(),
    Keyword::refused("UDP_CHECK", "not supported by ipvs-director").repeats(),
    Keyword::refused("PING_CHECK", "not supported by ipvs-director").repeats(),
    Keyword::refused("FILE_CHECK", "not supported by ipvs-director").repeats(),
    Keyword::refused("BFD_CHECK", "not supported by ipvs-director").repeats(),
];

impl Draft for D {
    fn place(&mut self, field: &str, n: &Node, ctx: &mut Ctx) {
        ctx.place(format!("{}.{field}", self.path), n);
    }
}

impl Timed for D {
    const MIN_RETRY: u64 = 1;
    fn timing(&mut self) -> &mut Timing {
        &mut self.rs.timing
    }
}

impl Scripts for D {
    fn script(&mut self, keyword: &str) -> &mut Option<Script> {
        match keyword {
            "notify_up" => &mut self.rs.notify_up,
            _ => &mut self.rs.notify_down,
        }
    }
}

impl Forwarded for D {
    fn forward(&mut self) -> &mut Option<Forward> {
        &mut self.rs.forward
    }
}

impl Virtualhost for D {
    fn virtualhost(&mut self) -> &mut Option<String> {
        &mut self.rs.virtualhost
    }
}

impl Alpha for D {
    fn alpha(&mut self) -> &mut Option<bool> {
        &mut self.rs.alpha
    }
}

/// `real_server IP [PORT] { ... }`, converted if it has no problem; `path` is its native
/// path.
pub(super) fn real_server(n: &Node, path: &str, ctx: &mut Ctx) -> Option<RealServer> {
    let before = ctx.errors.len();
    if !(1..=2).contains(&n.args().len()) {
        ctx.err(n, "takes IP [PORT]");
        return None;
    }
    let address = ctx.ip(n, 0)?;
    let port = match n.arg(1) {
        None => None,
        // keepalived takes port 0 as no port.
        Some(_) => ctx.uint(n, 1, 0, 65_535).map(|p| (p != 0).then_some(p as u16))?,
    };
    ctx.place(path, n);
    let mut d = RealServerDraft { path: path.to_owned(), rs: RealServer::new(address, port), checks: Vec::new() };
    let nodes = ctx.block(n);
    REAL_SERVER.read(nodes, &mut d, ctx);
    let RealServerDraft { mut rs, mut checks, .. } = d;
    // The native file lists checks by kind; their order has no effect (all must pass).
    checks.sort_by_key(|(c, _, _)| c.kind.rank());
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (c, places, node) in checks {
        let key = c.kind.key();
        let idx = counts.entry(key).or_insert(0);
        let cp = format!("{path}.{key}[{idx}]");
        *idx += 1;
        ctx.place_from(&cp, node);
        for (f, at) in places {
            ctx.place_from(format!("{cp}.{f}"), at);
        }
        rs.checks.push(c);
    }
    (ctx.errors.len() == before).then_some(rs)
}

/// keepalived 2.2.7 ignores a weight that is not a number within range ("Real server weight
/// 1x is outside range 0-2147483647"), keeping the default 1; so does the director, with a
/// warning.
fn weight(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let text = k.arg(0).unwrap_or_default();
        match parse_uint(text).filter(|w| *w <= u64::from(Destination::MAX_WEIGHT)) {
            Some(w) => d.rs.weight = Some(w as u32),
            None => ctx.warn(
                k,
                format!(
                    "{text:?} is not a number within 0..={}: ignored (weight 1), as keepalived ignores it",
                    Destination::MAX_WEIGHT
                ),
            ),
        }
        d.place("weight", k, ctx);
    }
}

/// `uthreshold`, `lthreshold`.
fn threshold(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let v = ctx.uint(k, 0, 0, u64::from(u32::MAX)).map(|v| v as u32).unwrap_or_default();
        if k.keyword() == "uthreshold" {
            d.rs.upper_threshold = v;
            d.place("upper_threshold", k, ctx);
        } else {
            d.rs.lower_threshold = v;
            d.place("lower_threshold", k, ctx);
        }
    }
}

fn inhibit_on_failure(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if let Some(b) = ctx.flag(k) {
        d.rs.on_failure = Some(if b { OnFailure::Inhibit } else { OnFailure::Remove });
        d.place("on_failure", k, ctx);
    }
}

/// A checker block.
fn check(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if let Some((c, places)) = checks::check(k, ctx) {
        if c.kind.connects() && c.connect.port.is_none() && d.rs.port.is_none() {
            ctx.err(k, "would connect to port 0 (keepalived copies the real server's port as written): give the real server a port or set connect_port");
        }
        d.checks.push((c, places, place_of(k)));
    }
}
