//! Checker blocks: `TCP_CHECK`, `HTTP_GET`, `SSL_GET`, `DNS_CHECK`, `MISC_CHECK`,
//! `SMTP_CHECK` with their own keywords and the common ones (check_api.c
//! `install_checker_common_keywords`).

use std::collections::HashMap;
use std::time::Duration;

use super::super::args::Ctx;
use super::super::tree::Node;
use super::virtual_server::timer_range;
use crate::config::{
    Check, CheckKind, DnsCheck, DnsType, HttpCheck, HttpProtocol, Md5Digest, MiscCheck, SmtpCheck, StatusCodes, Url,
};

/// The checker keywords the director supports.
pub(super) const KINDS: [&str; 6] = ["TCP_CHECK", "HTTP_GET", "SSL_GET", "DNS_CHECK", "MISC_CHECK", "SMTP_CHECK"];

/// The `url` keywords for regular expressions, which the director does not support.
const REGEX: [&str; 6] =
    ["regex", "regex_no_match", "regex_options", "regex_min_offset", "regex_max_offset", "regex_stack"];

/// A checker block: the check and where each native field came from.
pub(super) fn check<'a>(n: &'a Node, ctx: &mut Ctx) -> Option<(Check, Vec<(String, &'a Node)>)> {
    let before = ctx.errors.len();
    if !n.args().is_empty() {
        ctx.err(n, "takes no argument before its block");
        return None;
    }
    let mut kind = match n.keyword() {
        "TCP_CHECK" => CheckKind::Tcp,
        "HTTP_GET" => CheckKind::Http(HttpCheck::default()),
        "SSL_GET" => CheckKind::Https(HttpCheck::default()),
        "DNS_CHECK" => CheckKind::Dns(DnsCheck::default()),
        "MISC_CHECK" => CheckKind::Misc(MiscCheck {
            command: crate::config::Script::new(Vec::<String>::new()),
            timeout: None,
            dynamic: false,
        }),
        _ => CheckKind::Smtp(SmtpCheck::default()),
    };
    let mut check = Check::new(CheckKind::Tcp);
    let mut places: Vec<(String, &Node)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut has_misc_path = false;
    let connects = kind.connects();
    for k in ctx.block(n) {
        let kw = k.keyword();
        let canonical = if kw == "nb_get_retry" { "retry" } else { kw };
        if kw != "url" && !ctx.once(&mut seen, canonical, k) {
            continue;
        }
        let mut place = |f: &str| places.push((f.to_owned(), k));
        let c = &mut check;
        match (kw, &mut kind) {
            ("connect_ip" | "bindto", _) if connects => {
                if ctx.count(k, 1, 1) {
                    let a = ctx.ip(k, 0);
                    if kw == "connect_ip" {
                        c.connect.ip = a;
                    } else {
                        c.connect.bind_ip = a;
                    }
                    place(kw);
                }
            }
            ("connect_port" | "bind_port", _) if connects => {
                if ctx.count(k, 1, 1) {
                    let p = ctx.uint(k, 0, 1, 65_535).map(|p| p as u16);
                    if kw == "connect_port" {
                        c.connect.port = p;
                    } else {
                        c.connect.bind_port = p;
                    }
                    place(kw);
                }
            }
            ("bind_if", _) if connects => {
                if ctx.count(k, 1, 1) {
                    c.connect.bind_if = k.arg(0).map(str::to_owned);
                    place(kw);
                }
            }
            ("fwmark", _) if connects => {
                if ctx.count(k, 1, 1) {
                    c.connect.fwmark = ctx.uint(k, 0, 0, u64::from(u32::MAX)).map(|v| v as u32);
                    place(kw);
                }
            }
            ("connect_timeout", _) if connects => timer(k, ctx, &mut c.timing.connect_timeout, &mut place),
            ("delay_before_retry", _) => timer(k, ctx, &mut c.timing.delay_before_retry, &mut place),
            ("warmup", _) => timer(k, ctx, &mut c.timing.warmup, &mut place),
            ("delay_loop", _) => timer(k, ctx, &mut c.timing.delay_loop, &mut place),
            ("retry", _) | ("nb_get_retry", CheckKind::Http(_) | CheckKind::Https(_)) => {
                // nb_get_retry: keepalived 2.2.7 takes it as retry and reports it deprecated.
                if ctx.count(k, 1, 1) {
                    c.timing.retry = ctx.uint(k, 0, 0, u64::from(u32::MAX)).map(|v| v as u32);
                    place("retry");
                }
            }
            ("alpha", _) => {
                c.alpha = ctx.flag(k);
                place(kw);
            }
            ("log_all_failures", _) => {
                c.log_all_failures = ctx.flag(k);
                place(kw);
            }
            ("url", CheckKind::Http(h) | CheckKind::Https(h)) => {
                let i = h.urls.len();
                if let Some(u) = url(k, ctx, i, &mut places) {
                    h.urls.push(u);
                }
            }
            ("virtualhost", CheckKind::Http(h) | CheckKind::Https(h)) => {
                if ctx.count(k, 1, 1) {
                    h.virtualhost = k.arg(0).map(str::to_owned);
                    place(kw);
                }
            }
            ("http_protocol", CheckKind::Http(h) | CheckKind::Https(h)) => {
                if ctx.count(k, 1, 1) {
                    match k.arg(0).unwrap_or_default().parse::<HttpProtocol>() {
                        Ok(p) => h.protocol = p,
                        Err(e) => ctx.err(k, e),
                    }
                    place(kw);
                }
            }
            ("enable_sni" | "fast_recovery", CheckKind::Http(h) | CheckKind::Https(h)) => {
                let b = ctx.flag(k).unwrap_or_default();
                if kw == "enable_sni" {
                    h.enable_sni = b;
                } else {
                    h.fast_recovery = b;
                }
                place(kw);
            }
            ("type", CheckKind::Dns(d)) => {
                if ctx.count(k, 1, 1) {
                    match k.arg(0).unwrap_or_default().parse::<DnsType>() {
                        Ok(t) => d.query_type = t,
                        Err(e) => ctx.err(k, e),
                    }
                    place(kw);
                }
            }
            ("name", CheckKind::Dns(d)) => {
                if ctx.count(k, 1, 1) {
                    d.name = k.arg(0).unwrap_or_default().to_owned();
                    if let Err(e) = crate::config::dns_name(&d.name) {
                        ctx.err(k, format!("{:?} {e}", d.name));
                    }
                    place(kw);
                }
            }
            ("misc_path", CheckKind::Misc(m)) => {
                if let Some(s) = ctx.script(k, false) {
                    m.command.argv = s.argv;
                    has_misc_path = true;
                }
                place(kw);
            }
            ("misc_timeout", CheckKind::Misc(m)) => {
                if ctx.count(k, 1, 1) {
                    // Whole seconds; 0 means the virtual server's delay_loop, as left out.
                    let t = ctx.uint(k, 0, 0, u64::from(u32::MAX) / 1_000_000);
                    m.timeout = t.filter(|t| *t > 0).map(Duration::from_secs);
                    place(kw);
                }
            }
            ("misc_dynamic", CheckKind::Misc(m)) => {
                if ctx.bare(k) {
                    m.dynamic = true;
                    place(kw);
                }
            }
            ("user", CheckKind::Misc(m)) => {
                if ctx.count(k, 1, 2) {
                    m.command.user = k.arg(0).map(str::to_owned);
                    m.command.group = k.arg(1).map(str::to_owned);
                    place("misc_path");
                }
            }
            ("helo_name", CheckKind::Smtp(s)) => {
                if ctx.count(k, 1, 1) {
                    s.helo_name = k.arg(0).map(str::to_owned);
                    place(kw);
                }
            }
            ("host", CheckKind::Smtp(_)) => {
                ctx.err(k, "the deprecated host block is not supported: use one SMTP_CHECK per address")
            }
            (_, CheckKind::Misc(_)) if is_connection_keyword(kw) => {
                ctx.err(k, "MISC_CHECK does not connect anywhere (keepalived does not know this keyword here)")
            }
            _ => ctx.err(k, format!("unknown keyword in {}", n.keyword())),
        }
    }
    if let CheckKind::Misc(_) = kind {
        if !has_misc_path {
            ctx.err(n, "needs misc_path (keepalived drops a MISC_CHECK without one)");
        }
    }
    if let CheckKind::Http(h) | CheckKind::Https(h) = &kind {
        if h.urls.is_empty() {
            ctx.err(n, "needs a url block (keepalived drops a checker without one)");
        }
    }
    check.kind = kind;
    (ctx.errors.len() == before).then_some((check, places))
}

fn is_connection_keyword(kw: &str) -> bool {
    matches!(kw, "connect_ip" | "connect_port" | "bindto" | "bind_port" | "bind_if" | "fwmark" | "connect_timeout")
}

fn timer(k: &Node, ctx: &mut Ctx, slot: &mut Option<Duration>, place: &mut impl FnMut(&str)) {
    if ctx.count(k, 1, 1) {
        let (min, max) = timer_range(k.keyword());
        *slot = ctx.timer(k, 0, min, max);
        place(k.keyword());
    }
}

/// `url { path P; digest HEX; status_code ...; virtualhost H }`.
fn url<'a>(n: &'a Node, ctx: &mut Ctx, i: usize, places: &mut Vec<(String, &'a Node)>) -> Option<Url> {
    if !n.args().is_empty() {
        ctx.err(n, "takes no argument before its block");
        return None;
    }
    places.push((format!("url[{i}]"), n));
    let mut u = Url::new("");
    let mut has_path = false;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for k in ctx.block(n) {
        let kw = k.keyword();
        if !ctx.once(&mut seen, kw, k) {
            continue;
        }
        match kw {
            "path" => {
                if ctx.count(k, 1, 1) {
                    u.path = k.arg(0).unwrap_or_default().to_owned();
                    has_path = true;
                    places.push((format!("url[{i}].path"), k));
                }
            }
            "digest" => {
                if ctx.count(k, 1, 1) {
                    match k.arg(0).unwrap_or_default().parse::<Md5Digest>() {
                        Ok(d) => u.digest = Some(d),
                        Err(e) => ctx.err(k, e),
                    }
                }
            }
            "status_code" => {
                if k.args().is_empty() {
                    ctx.err(k, "needs codes or ranges");
                    continue;
                }
                let ranges: Result<Vec<_>, _> = k.args().iter().map(|a| StatusCodes::parse_range(a)).collect();
                match ranges.and_then(StatusCodes::new) {
                    Ok(c) => u.status_codes = c,
                    Err(e) => ctx.err(k, e),
                }
                places.push((format!("url[{i}].status_code"), k));
            }
            "virtualhost" => {
                if ctx.count(k, 1, 1) {
                    u.virtualhost = k.arg(0).map(str::to_owned);
                    places.push((format!("url[{i}].virtualhost"), k));
                }
            }
            _ if REGEX.contains(&kw) => ctx.err(k, "regular expression checks are not supported by ipvs-director"),
            _ => ctx.err(k, "unknown keyword in url"),
        }
    }
    if !has_path {
        ctx.err(n, "needs a path (keepalived drops a url without one)");
        return None;
    }
    Some(u)
}
