//! Checker blocks: `TCP_CHECK`, `HTTP_GET`, `SSL_GET`, `DNS_CHECK`, `MISC_CHECK`,
//! `SMTP_CHECK`, each a table of the common keywords (check_api.c
//! `install_checker_common_keywords`) and its own, and the `url` block of HTTP checks.

use std::time::Duration;

use super::super::args::{place_of, Ctx, Place};
use super::super::tree::Node;
use super::keywords::{refused_all, Block, Keyword, KeywordTable};
use super::shared::{self, Alpha, Draft, Shared, Timed, Virtualhost};
use crate::config::{
    Check, CheckKind, DnsCheck, DnsType, HttpCheck, HttpProtocol, MiscCheck, Script, SmtpCheck, Timing,
};

/// A check being read: the common fields, each kind's own, and where the fields came from.
pub(super) struct CheckDraft {
    check: Check,
    kinds: Kinds,
    has_misc_path: bool,
    places: Vec<(String, Place)>,
}

/// The fields of each kind of check (the block's kind takes its own).
struct Kinds {
    http: HttpCheck,
    dns: DnsCheck,
    misc: MiscCheck,
    smtp: SmtpCheck,
}

type D = CheckDraft;

/// A checker block, and the kind of check it makes.
struct Checker {
    block: &'static Block<D>,
    kind: fn(Kinds) -> CheckKind,
}

/// The checker blocks.
const CHECKERS: [Checker; 6] = [
    Checker { block: &TCP_CHECK, kind: |_| CheckKind::Tcp },
    Checker { block: &HTTP_GET, kind: |k| CheckKind::Http(k.http) },
    Checker { block: &SSL_GET, kind: |k| CheckKind::Https(k.http) },
    Checker { block: &DNS_CHECK, kind: |k| CheckKind::Dns(k.dns) },
    Checker { block: &MISC_CHECK, kind: |k| CheckKind::Misc(k.misc) },
    Checker { block: &SMTP_CHECK, kind: |k| CheckKind::Smtp(k.smtp) },
];

const TIMING: &[Keyword<D>] = Shared::<D>::TIMING;

const TCP_CHECK: Block<D> = Block {
    name: "TCP_CHECK",
    tables: &[&CONNECTION, TIMING, COMMON],
    unknown: "unknown keyword in TCP_CHECK",
    known: &[],
    counted: true,
    top: false,
};

const HTTP_GET: Block<D> = Block {
    name: "HTTP_GET",
    tables: &[&CONNECTION, TIMING, COMMON, HTTP],
    unknown: "unknown keyword in HTTP_GET",
    known: &[],
    counted: true,
    top: false,
};

const SSL_GET: Block<D> = Block {
    name: "SSL_GET",
    tables: &[&CONNECTION, TIMING, COMMON, HTTP],
    unknown: "unknown keyword in SSL_GET",
    known: &[],
    counted: true,
    top: false,
};

const DNS_CHECK: Block<D> = Block {
    name: "DNS_CHECK",
    tables: &[&CONNECTION, TIMING, COMMON, DNS],
    unknown: "unknown keyword in DNS_CHECK",
    known: &[],
    counted: true,
    top: false,
};

const MISC_CHECK: Block<D> = Block {
    name: "MISC_CHECK",
    tables: &[&NO_CONNECTION, TIMING, COMMON, MISC],
    unknown: "unknown keyword in MISC_CHECK",
    known: &[],
    counted: true,
    top: false,
};

const SMTP_CHECK: Block<D> = Block {
    name: "SMTP_CHECK",
    tables: &[&CONNECTION, TIMING, COMMON, SMTP],
    unknown: "unknown keyword in SMTP_CHECK",
    known: &[],
    counted: true,
    top: false,
};

/// Where a check connects to, and from.
const CONNECTION: [Keyword<D>; 7] = [
    Keyword::converted("connect_ip", "IP", "connect_ip", address),
    Keyword::converted("connect_port", "PORT", "connect_port", port),
    Keyword::converted("bindto", "IP", "bindto", address),
    Keyword::converted("bind_port", "PORT", "bind_port", port),
    Keyword::converted("bind_if", "IFNAME", "bind_if", bind_if),
    Keyword::converted("fwmark", "MARK", "fwmark", fwmark),
    shared::connect_timeout(),
];

/// [`CONNECTION`] in a MISC_CHECK.
const NO_CONNECTION: [Keyword<D>; 7] =
    refused_all(&CONNECTION, "MISC_CHECK does not connect anywhere (keepalived does not know this keyword here)");

/// Every checker's other common keywords.
const COMMON: &[Keyword<D>] =
    &[shared::alpha(), Keyword::converted("log_all_failures", "[BOOL]", "log_all_failures", log_all_failures)];

const HTTP: &[Keyword<D>] = &[
    Keyword::converted("url", "{ path; digest; status_code; virtualhost }", "url", url).repeats(),
    shared::virtualhost(),
    Keyword::converted("http_protocol", "1.0|1.0C|1.1", "http_protocol", http_protocol),
    Keyword::converted("enable_sni", "[BOOL]", "enable_sni", http_switch),
    Keyword::converted("fast_recovery", "[BOOL]", "fast_recovery", http_switch),
    // keepalived 2.2.7 takes it as retry and reports it deprecated.
    Keyword::converted("nb_get_retry", "N (deprecated)", "retry", nb_get_retry).once_as("retry"),
];

const DNS: &[Keyword<D>] = &[
    Keyword::converted("type", "A|NS|CNAME|SOA|MX|TXT|AAAA|RRSIG|DNSKEY", "type", dns_type),
    Keyword::converted("name", "NAME", "name", dns_name),
];

const MISC: &[Keyword<D>] = &[
    Keyword::converted("misc_path", "COMMAND", "misc_path", misc_path),
    Keyword::converted("misc_timeout", "SECONDS (0: left out)", "misc_timeout", misc_timeout),
    Keyword::converted("misc_dynamic", "", "misc_dynamic", misc_dynamic),
    Keyword::converted("user", "USER [GROUP]", "misc_path (its user and group)", misc_user),
];

const SMTP: &[Keyword<D>] = &[
    Keyword::converted("helo_name", "NAME", "helo_name", helo_name),
    Keyword::refused("host", "the deprecated host block is not supported: use one SMTP_CHECK per address"),
];

impl Draft for D {
    fn place(&mut self, field: &str, n: &Node, _: &mut Ctx) {
        self.places.push((field.to_owned(), place_of(n)));
    }
}

impl Timed for D {
    const MIN_RETRY: u64 = 0;
    fn timing(&mut self) -> &mut Timing {
        &mut self.check.timing
    }
}

impl Alpha for D {
    fn alpha(&mut self) -> &mut Option<bool> {
        &mut self.check.alpha
    }
}

impl Virtualhost for D {
    fn virtualhost(&mut self) -> &mut Option<String> {
        &mut self.kinds.http.virtualhost
    }
}

/// A checker block: the check and where each native field came from (relative to the
/// check).
pub(super) fn check(n: &Node, ctx: &mut Ctx) -> Option<(Check, Vec<(String, Place)>)> {
    let before = ctx.errors.len();
    if !n.args().is_empty() {
        ctx.err(n, "takes no argument before its block");
        return None;
    }
    let checker = CHECKERS.iter().find(|c| c.block.name == n.keyword())?;
    let kinds = Kinds {
        http: HttpCheck::default(),
        dns: DnsCheck::default(),
        misc: MiscCheck { command: Script::new(Vec::<String>::new()), timeout: None, dynamic: false },
        smtp: SmtpCheck::default(),
    };
    let mut d = CheckDraft { check: Check::new(CheckKind::Tcp), kinds, has_misc_path: false, places: Vec::new() };
    let nodes = ctx.block(n);
    checker.block.read(nodes, &mut d, ctx);
    let CheckDraft { mut check, kinds, has_misc_path, places } = d;
    check.kind = (checker.kind)(kinds);
    if let CheckKind::Misc(_) = check.kind {
        if !has_misc_path {
            ctx.err(n, "needs misc_path (keepalived drops a MISC_CHECK without one)");
        }
    }
    if let CheckKind::Http(h) | CheckKind::Https(h) = &check.kind {
        if h.urls.is_empty() {
            ctx.err(n, "needs a url block (keepalived drops a checker without one)");
        }
    }
    (ctx.errors.len() == before).then_some((check, places))
}

/// `connect_ip`, `bindto`.
fn address(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let a = ctx.ip(k, 0);
        if k.keyword() == "connect_ip" {
            d.check.connect.ip = a;
        } else {
            d.check.connect.bind_ip = a;
        }
        d.place(k.keyword(), k, ctx);
    }
}

/// `connect_port`, `bind_port`.
fn port(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let p = ctx.uint(k, 0, 1, 65_535).map(|p| p as u16);
        if k.keyword() == "connect_port" {
            d.check.connect.port = p;
        } else {
            d.check.connect.bind_port = p;
        }
        d.place(k.keyword(), k, ctx);
    }
}

fn bind_if(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.check.connect.bind_if = k.arg(0).map(str::to_owned);
        d.place("bind_if", k, ctx);
    }
}

fn fwmark(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.check.connect.fwmark = ctx.uint(k, 0, 0, u64::from(u32::MAX)).map(|v| v as u32);
        d.place("fwmark", k, ctx);
    }
}

fn log_all_failures(k: &Node, d: &mut D, ctx: &mut Ctx) {
    d.check.log_all_failures = ctx.flag(k);
    d.place("log_all_failures", k, ctx);
}

fn url(k: &Node, d: &mut D, ctx: &mut Ctx) {
    let i = d.kinds.http.urls.len();
    if let Some(u) = super::url::url(k, ctx, i, &mut d.places) {
        d.kinds.http.urls.push(u);
    }
}

fn http_protocol(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        match k.arg(0).unwrap_or_default().parse::<HttpProtocol>() {
            Ok(p) => d.kinds.http.protocol = p,
            Err(e) => ctx.err(k, e.to_string()),
        }
        d.place("http_protocol", k, ctx);
    }
}

/// `enable_sni`, `fast_recovery`.
fn http_switch(k: &Node, d: &mut D, ctx: &mut Ctx) {
    let b = ctx.flag(k).unwrap_or_default();
    if k.keyword() == "enable_sni" {
        d.kinds.http.enable_sni = b;
    } else {
        d.kinds.http.fast_recovery = b;
    }
    d.place(k.keyword(), k, ctx);
}

fn dns_type(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        match k.arg(0).unwrap_or_default().parse::<DnsType>() {
            Ok(t) => d.kinds.dns.query_type = t,
            Err(e) => ctx.err(k, e.to_string()),
        }
        d.place("type", k, ctx);
    }
}

fn dns_name(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let name = &mut d.kinds.dns.name;
        *name = k.arg(0).unwrap_or_default().to_owned();
        if let Err(e) = crate::config::dns_name(name) {
            ctx.err(k, format!("{name:?} {e}"));
        }
        d.place("name", k, ctx);
    }
}

/// keepalived 2.2.7: "nb_get_retry is deprecated - please use 'retry'", taken as retry.
fn nb_get_retry(k: &Node, d: &mut D, ctx: &mut Ctx) {
    ctx.warn(k, "deprecated (retry is meant): taken as retry, as keepalived takes it");
    shared::retry::<D>(k, d, ctx);
}

fn misc_path(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if let Some(s) = ctx.script(k, false) {
        d.kinds.misc.command.argv = s.argv;
        d.has_misc_path = true;
    }
    d.place("misc_path", k, ctx);
}

fn misc_timeout(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        // Whole seconds; 0 means the virtual server's delay_loop, as left out.
        let t = ctx.uint(k, 0, 0, u64::from(u32::MAX) / 1_000_000);
        d.kinds.misc.timeout = t.filter(|t| *t > 0).map(Duration::from_secs);
        d.place("misc_timeout", k, ctx);
    }
}

fn misc_dynamic(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.bare(k) {
        d.kinds.misc.dynamic = true;
        d.place("misc_dynamic", k, ctx);
    }
}

fn misc_user(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 2) {
        d.kinds.misc.command.user = k.arg(0).map(str::to_owned);
        d.kinds.misc.command.group = k.arg(1).map(str::to_owned);
        d.place("misc_path", k, ctx);
    }
}

fn helo_name(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.kinds.smtp.helo_name = k.arg(0).map(str::to_owned);
        d.place("helo_name", k, ctx);
    }
}

/// The checker blocks' keywords, as documented.
pub(super) fn docs() -> impl Iterator<Item = KeywordTable> {
    CHECKERS.iter().map(|c| c.block.docs())
}
