//! `real_server IP [PORT] { ... }` (check_parser.c's real server keywords).

use std::collections::HashMap;

use ipvs::Destination;

use super::super::args::Ctx;
use super::super::tree::Node;
use super::virtual_server::{method, timer_range};
use super::{checks, IGNORED_KEYWORDS};
use crate::config::{OnFailure, RealServer};

/// The checker keywords of keepalived the director does not support.
const UNSUPPORTED_CHECKS: [&str; 4] = ["UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK"];

/// A converted check, where its fields came from, and its statement.
type Converted<'a> = (crate::config::Check, Vec<(String, &'a Node)>, &'a Node);

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
    let mut rs = RealServer::new(address, port);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut checks: Vec<Converted<'_>> = Vec::new();
    for k in ctx.block(n) {
        let kw = k.keyword();
        let field = |f: &str| format!("{path}.{f}");
        if checks::KINDS.contains(&kw) {
            if let Some((c, places)) = checks::check(k, ctx) {
                if c.kind.connects() && c.connect.port.is_none() && rs.port.is_none() {
                    ctx.err(k, "would connect to port 0 (keepalived copies the real server's port as written): give the real server a port or set connect_port");
                }
                checks.push((c, places, k));
            }
            continue;
        }
        if UNSUPPORTED_CHECKS.contains(&kw) {
            ctx.err(k, "not supported by ipvs-director");
            continue;
        }
        if !ctx.once(&mut seen, kw, k) {
            continue;
        }
        match kw {
            "weight" => {
                if ctx.count(k, 1, 1) {
                    rs.weight = ctx.uint(k, 0, 0, u64::from(Destination::MAX_WEIGHT)).map(|v| v as u32);
                    ctx.place(field("weight"), k);
                }
            }
            "lvs_method" => {
                rs.forward = method(k, ctx);
                ctx.place(field("forward"), k);
            }
            "lb_kind" => ctx.err(k, "a real server takes lvs_method (keepalived does not know lb_kind here)"),
            "uthreshold" | "lthreshold" => {
                if ctx.count(k, 1, 1) {
                    let v = ctx.uint(k, 0, 0, u64::from(u32::MAX)).map(|v| v as u32).unwrap_or_default();
                    if kw == "uthreshold" {
                        rs.upper_threshold = v;
                        ctx.place(field("upper_threshold"), k);
                    } else {
                        rs.lower_threshold = v;
                        ctx.place(field("lower_threshold"), k);
                    }
                }
            }
            "inhibit_on_failure" => {
                if let Some(b) = ctx.flag(k) {
                    rs.on_failure = Some(if b { OnFailure::Inhibit } else { OnFailure::Remove });
                    ctx.place(field("on_failure"), k);
                }
            }
            "alpha" => {
                rs.alpha = ctx.flag(k);
                ctx.place(field("alpha"), k);
            }
            "notify_up" | "notify_down" => {
                let s = ctx.script(k, true);
                ctx.place(field(kw), k);
                if kw == "notify_up" {
                    rs.notify_up = s;
                } else {
                    rs.notify_down = s;
                }
            }
            "retry" => {
                if ctx.count(k, 1, 1) {
                    rs.timing.retry = ctx.uint(k, 0, 1, u64::from(u32::MAX)).map(|v| v as u32);
                    ctx.place(field("retry"), k);
                }
            }
            "delay_before_retry" | "warmup" | "delay_loop" | "connect_timeout" => {
                if ctx.count(k, 1, 1) {
                    let (min, max) = timer_range(kw);
                    let v = ctx.timer(k, 0, min, max);
                    match kw {
                        "delay_before_retry" => rs.timing.delay_before_retry = v,
                        "warmup" => rs.timing.warmup = v,
                        "delay_loop" => rs.timing.delay_loop = v,
                        _ => rs.timing.connect_timeout = v,
                    }
                    ctx.place(field(kw), k);
                }
            }
            "virtualhost" => {
                if ctx.count(k, 1, 1) {
                    rs.virtualhost = k.arg(0).map(str::to_owned);
                    ctx.place(field("virtualhost"), k);
                }
            }
            "nb_get_retry" => ctx.err(k, "only in HTTP_GET and SSL_GET (use retry)"),
            _ if IGNORED_KEYWORDS.iter().any(|(i, _)| *i == kw) => {
                ctx.flag(k);
            }
            "snmp_name" => ctx.err(k, "not supported by ipvs-director"),
            _ => ctx.err(k, "unknown keyword in real_server"),
        }
    }
    // The native file lists checks by kind; their order has no effect (all must pass).
    checks.sort_by_key(|(c, _, _)| c.kind.rank());
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (c, places, node) in checks {
        let key = c.kind.key();
        let idx = counts.entry(key).or_insert(0);
        let cp = format!("{path}.{key}[{idx}]");
        *idx += 1;
        ctx.place(&cp, node);
        for (f, at) in places {
            ctx.place(format!("{cp}.{f}"), at);
        }
        rs.checks.push(c);
    }
    (ctx.errors.len() == before).then_some(rs)
}
