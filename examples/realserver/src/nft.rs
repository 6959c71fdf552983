//! The two ARP cures done with nftables rules: the `arptables` cure (drop ARP requests for
//! a VIP, rewrite a VIP as sender address of outgoing ARP to the interface's own address)
//! and the `redirect` cure (no VIP on the host; `nat` `redirect` of each VIP and service
//! port to the host itself).
//!
//! Through the `nft` program's JSON interface (`nft -j list ruleset`, `nft -j -f -`): the
//! rules live in tables of this project's own name ([`TABLE`]), one per family, so that
//! `undo` deletes exactly those tables and nothing of the user's. `nft` runs as a child of
//! the thread that is in the request's namespace, so it acts there.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::request::ServicePort;

/// The name of the tables `prepare` adds (`table arp ipvs_realserver`, `table ip ...`,
/// `table ip6 ...`).
pub(crate) const TABLE: &str = "ipvs_realserver";

/// The families whose table of [`TABLE`] this crate may add and delete.
pub(crate) const FAMILIES: [&str; 3] = ["arp", "ip", "ip6"];

/// One rule as `nft -j list ruleset` shows it: its family, the hook and type of its chain,
/// and its expressions.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NftRule {
    pub family: String,
    pub table: String,
    pub hook: String,
    pub chain_type: String,
    pub expr: Vec<Value>,
}

/// The host's nftables rules, as far as the ARP cures care.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Ruleset {
    pub rules: Vec<NftRule>,
    /// Our own tables now: (family, the table as `nft -j list table` shows it).
    pub ours: Vec<(String, String)>,
}

/// Runs `nft ARGS` (with `input` on its standard input); its standard output.
fn nft(args: &[&str], input: Option<&str>) -> Result<String> {
    let what = || format!("nft {}", args.join(" "));
    let mut child = Command::new("nft")
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(what(), e))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes()).map_err(|e| Error::io(what(), e))?;
    }
    let out = child.wait_with_output().map_err(|e| Error::io(what(), e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Nft { op: what(), reason: err.trim().to_string() });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The host's rules; `None` when the `nft` program is not installed.
pub(crate) fn list() -> Result<Option<Ruleset>> {
    match nft(&["-j", "list", "ruleset"], None) {
        Ok(text) => parse(&text).map(Some),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads `nft -j list ruleset` output.
pub(crate) fn parse(text: &str) -> Result<Ruleset> {
    let doc: Value = serde_json::from_str(text).map_err(|e| Error::Decode(format!("nft -j: {e}")))?;
    let items = doc.get("nftables").and_then(Value::as_array).cloned().unwrap_or_default();
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut out = Ruleset::default();
    let mut chains = Vec::new();
    for item in &items {
        if let Some(c) = item.get("chain") {
            chains.push((s(c, "family"), s(c, "table"), s(c, "name"), s(c, "hook"), s(c, "type")));
        }
    }
    for family in FAMILIES {
        let mine = |v: &Value| s(v, "family") == family && (s(v, "table") == TABLE || s(v, "name") == TABLE);
        let objects: Vec<Value> = items
            .iter()
            .filter(|i| ["table", "chain", "rule"].iter().any(|k| i.get(*k).is_some_and(mine)))
            .map(|i| strip_handles(i.clone()))
            .collect();
        if !objects.is_empty() {
            out.ours.push((family.to_string(), json!({ "nftables": objects }).to_string()));
        }
    }
    for r in items.iter().filter_map(|i| i.get("rule")) {
        let (family, table, chain) = (s(r, "family"), s(r, "table"), s(r, "chain"));
        let Some(c) = chains.iter().find(|c| c.0 == family && c.1 == table && c.2 == chain) else {
            continue;
        };
        let expr = r.get("expr").and_then(Value::as_array).cloned().unwrap_or_default();
        out.rules.push(NftRule { family, table, hook: c.3.clone(), chain_type: c.4.clone(), expr });
    }
    Ok(out)
}

/// An object of `nft -j list` without its handles, so that it can be loaded again.
fn strip_handles(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        for inner in o.values_mut().filter_map(Value::as_object_mut) {
            inner.remove("handle");
        }
    }
    v
}

/// Whether a table text (as kept in a record) holds only objects of our own tables.
pub(crate) fn only_ours(family: &str, text: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(text) else { return false };
    let Some(items) = doc.get("nftables").and_then(Value::as_array) else { return false };
    items.iter().all(|i| {
        let Some((kind, v)) = i.as_object().and_then(|o| o.iter().next()) else { return false };
        let named = |k: &str| v.get(k).and_then(Value::as_str);
        ["table", "chain", "rule"].contains(&kind.as_str())
            && named("family") == Some(family)
            && (if kind == "table" { named("name") } else { named("table") }) == Some(TABLE)
    })
}

/// Loads a JSON command list (`nft -j -f -`), all or nothing.
pub(crate) fn load(text: &str) -> Result<()> {
    nft(&["-j", "-f", "/proc/self/fd/0"], Some(text)).map(|_| ())
}

/// Deletes our table of `family`; `false` when it was not there.
pub(crate) fn delete_table(family: &str) -> Result<bool> {
    let text = json!({ "nftables": [{ "delete": { "table": { "family": family, "name": TABLE } } }] }).to_string();
    match load(&text) {
        Ok(()) => Ok(true),
        Err(Error::Nft { reason, .. }) if reason.contains("No such file or directory") => Ok(false),
        Err(e) => Err(e),
    }
}

/// A match `left == right` of an expression list, `right` given as nft shows it (a string
/// or number), or a set holding it.
fn matches(expr: &[Value], left: &Value, right: &Value) -> bool {
    expr.iter().filter_map(|e| e.get("match")).any(|m| {
        let op_eq = m.get("op").and_then(Value::as_str).is_none_or(|o| o == "==" || o == "in");
        let r = m.get("right");
        let in_set = r.and_then(|r| r.get("set")).and_then(Value::as_array).is_some_and(|s| s.contains(right));
        op_eq && m.get("left") == Some(left) && (r == Some(right) || in_set)
    })
}

fn payload(protocol: &str, field: &str) -> Value {
    json!({ "payload": { "protocol": protocol, "field": field } })
}

fn has(expr: &[Value], key: &str) -> bool {
    expr.iter().any(|e| e.get(key).is_some())
}

impl Ruleset {
    /// Whether incoming ARP requests for `vip` are dropped (an `arp` input rule).
    pub fn drops_arp_for(&self, vip: Ipv4Addr) -> bool {
        let ip = json!(vip.to_string());
        self.rules.iter().any(|r| {
            r.family == "arp"
                && r.hook == "input"
                && has(&r.expr, "drop")
                && matches(&r.expr, &payload("arp", "daddr ip"), &ip)
        })
    }

    /// Whether `vip` as sender address of outgoing ARP is rewritten (an `arp` output rule).
    pub fn rewrites_arp_from(&self, vip: Ipv4Addr) -> bool {
        let ip = json!(vip.to_string());
        let mangles = |e: &Value| e.get("mangle").and_then(|m| m.get("key")) == Some(&payload("arp", "saddr ip"));
        self.rules.iter().any(|r| {
            r.family == "arp"
                && r.hook == "output"
                && r.expr.iter().any(mangles)
                && matches(&r.expr, &payload("arp", "saddr ip"), &ip)
        })
    }

    /// Whether the `arptables` cure is in place for `vip` (both rules).
    pub fn arp_cured(&self, vip: Ipv4Addr) -> bool {
        self.drops_arp_for(vip) && self.rewrites_arp_from(vip)
    }

    /// Whether packets to `vip` and the service port are redirected to this host (a `nat`
    /// prerouting rule with `redirect`, or iptables-nft's `REDIRECT` target).
    pub fn redirects(&self, vip: IpAddr, service: ServicePort) -> bool {
        let (family, proto) = if vip.is_ipv4() { ("ip", "ip") } else { ("ip6", "ip6") };
        let target = |e: &Value| {
            e.get("redirect").is_some()
                || e.get("xt").and_then(|x| x.get("name")).and_then(Value::as_str) == Some("REDIRECT")
        };
        self.rules.iter().any(|r| {
            (r.family == family || r.family == "inet")
                && r.hook == "prerouting"
                && r.chain_type == "nat"
                && r.expr.iter().any(target)
                && matches(&r.expr, &payload(proto, "daddr"), &json!(vip.to_string()))
                && matches(&r.expr, &payload(service.protocol_name(), "dport"), &json!(service.port))
        })
    }

    /// Our table of `family` now, as `nft -j list` shows it (without handles).
    pub fn our_table(&self, family: &str) -> Option<&str> {
        self.ours.iter().find(|(f, _)| f == family).map(|(_, t)| t.as_str())
    }
}

/// A base chain of our table.
fn chain(family: &str, name: &str, kind: &str, hook: &str, prio: i32) -> Value {
    json!({ "add": { "chain": {
        "family": family, "table": TABLE, "name": name, "type": kind, "hook": hook, "prio": prio, "policy": "accept"
    } } })
}

fn rule(family: &str, chain: &str, expr: Vec<Value>) -> Value {
    json!({ "add": { "rule": { "family": family, "table": TABLE, "chain": chain, "expr": expr } } })
}

fn eq(left: Value, right: Value) -> Value {
    json!({ "match": { "op": "==", "left": left, "right": right } })
}

/// The `arptables` cure for IPv4 VIPs: an input rule dropping ARP requests for each, and
/// for each interface (name, its own IPv4 address) an output rule rewriting the VIP as
/// sender address to the interface's own.
pub(crate) fn arp_table(vips: &[Ipv4Addr], interfaces: &[(String, Ipv4Addr)]) -> String {
    let mut cmds = vec![
        json!({ "add": { "table": { "family": "arp", "name": TABLE } } }),
        chain("arp", "input", "filter", "input", 0),
        chain("arp", "output", "filter", "output", 0),
    ];
    for vip in vips {
        let ip = json!(vip.to_string());
        let request = eq(payload("arp", "operation"), json!("request"));
        cmds.push(rule(
            "arp",
            "input",
            vec![request, eq(payload("arp", "daddr ip"), ip.clone()), json!({ "drop": null })],
        ));
        for (name, rip) in interfaces {
            let mangle = json!({ "mangle": { "key": payload("arp", "saddr ip"), "value": rip.to_string() } });
            let dev = eq(json!({ "meta": { "key": "oifname" } }), json!(name));
            cmds.push(rule("arp", "output", vec![dev, eq(payload("arp", "saddr ip"), ip.clone()), mangle]));
        }
    }
    json!({ "nftables": cmds }).to_string()
}

/// The `redirect` cure of one family (`ip` or `ip6`): a nat prerouting rule per VIP of that
/// family and service port.
pub(crate) fn redirect_table(family: &str, vips: &[IpAddr], services: &[ServicePort]) -> String {
    let mut cmds = vec![
        json!({ "add": { "table": { "family": family, "name": TABLE } } }),
        chain(family, "prerouting", "nat", "prerouting", -100),
    ];
    for vip in vips {
        for s in services {
            let expr = vec![
                eq(payload(family, "daddr"), json!(vip.to_string())),
                eq(payload(s.protocol_name(), "dport"), json!(s.port)),
                json!({ "redirect": null }),
            ];
            cmds.push(rule(family, "prerouting", expr));
        }
    }
    json!({ "nftables": cmds }).to_string()
}

/// The objects a command list adds, as `nft -j list` shows them (tests simulate `load`).
#[cfg(test)]
pub(crate) fn listing(commands: &str) -> String {
    let doc: Value = serde_json::from_str(commands).unwrap();
    let items: Vec<Value> = doc["nftables"].as_array().unwrap().iter().map(|c| c["add"].clone()).collect();
    json!({ "nftables": items }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `nft -j list ruleset` (nftables 1.0.6) after loading the three tables of the cures,
    /// written in nft's own syntax.
    const LISTED: &str = include_str!("nft_listed.json");

    #[test]
    fn the_cures_are_recognised_in_what_nft_lists() {
        let r = parse(LISTED).unwrap();
        let vip: Ipv4Addr = "192.0.2.100".parse().unwrap();
        assert!(r.drops_arp_for(vip) && r.rewrites_arp_from(vip) && r.arp_cured(vip));
        assert!(!r.arp_cured("192.0.2.101".parse().unwrap()));
        let tcp80 = ServicePort::new(ipvs::Protocol::Tcp, 80);
        assert!(r.redirects(IpAddr::V4(vip), tcp80));
        assert!(r.redirects("2001:db8::100".parse().unwrap(), tcp80));
        assert!(!r.redirects(IpAddr::V4(vip), ServicePort::new(ipvs::Protocol::Udp, 80)));
        assert!(!r.redirects(IpAddr::V4(vip), ServicePort::new(ipvs::Protocol::Tcp, 443)));
        assert_eq!(r.ours.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), FAMILIES);
        for (family, text) in &r.ours {
            assert!(only_ours(family, text), "{text}");
            assert!(!text.contains("handle"), "{text}");
        }
        assert!(!only_ours("ip", r.our_table("arp").unwrap()));
    }

    #[test]
    fn the_tables_made_are_the_ones_recognised() {
        let vip: Ipv4Addr = "192.0.2.100".parse().unwrap();
        let arp = parse(&listing(&arp_table(&[vip], &[("eth0".into(), "192.0.2.20".parse().unwrap())]))).unwrap();
        assert!(arp.arp_cured(vip));
        let service = ServicePort::new(ipvs::Protocol::Udp, 53);
        let six: IpAddr = "2001:db8::100".parse().unwrap();
        let red = parse(&listing(&redirect_table("ip6", &[six], &[service]))).unwrap();
        assert!(red.redirects(six, service));
        assert!(!red.redirects(IpAddr::V4(vip), service));
    }

    #[test]
    fn a_saved_table_of_someone_else_is_refused() {
        let theirs = r#"{"nftables":[{"table":{"family":"ip","name":"filter"}}]}"#;
        assert!(!only_ours("ip", theirs));
        let flush = r#"{"nftables":[{"flush":{"ruleset":null}}]}"#;
        assert!(!only_ours("ip", flush));
        assert!(!only_ours("ip", "not json"));
    }
}
