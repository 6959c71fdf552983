//! `virtual_server_group` and `virtual_server` (check_parser.c's keywords), and the
//! forwarding methods of `lvs_method`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipvs::{Destination, Family, Forward, Netmask, PersistenceEngine, Protocol, ServiceFlags, Tunnel, TunnelFlags};

use super::super::args::Ctx;
use super::super::tree::Node;
use super::real_server;
use super::IGNORED_KEYWORDS;
use crate::config::{
    defaults, parse_scheduler, Config, GroupEntry, OnFailure, SorryServer, VirtualServer, VirtualServerGroup,
    VirtualServerId,
};

/// `virtual_server_group NAME { entries }`.
pub(super) fn group(n: &Node, c: &mut Config, ctx: &mut Ctx) {
    let i = c.virtual_server_groups.len();
    let path = format!("virtual_server_groups[{i}]");
    if n.args().len() != 1 {
        return ctx.err(n, "takes one name");
    }
    ctx.place(&path, n);
    let mut g = VirtualServerGroup { name: n.arg(0).unwrap_or_default().to_owned(), entries: Vec::new() };
    for e in ctx.block(n) {
        if !ctx.no_block(e) {
            continue;
        }
        if let Some(entry) = group_entry(e, ctx) {
            ctx.place(format!("{path}.entries[{}]", g.entries.len()), e);
            g.entries.push(entry);
        }
    }
    c.virtual_server_groups.push(g);
}

/// `IP[/MASK|-END] [PORT]` or `fwmark N [inet|inet6]` (check_data.c `alloc_vsg_entry`).
fn group_entry(e: &Node, ctx: &mut Ctx) -> Option<GroupEntry> {
    let first = e.keyword();
    if first == "fwmark" {
        if !ctx.count(e, 1, 2) {
            return None;
        }
        let mark = ctx.uint(e, 0, 0, u64::from(u32::MAX))? as u32;
        let family = match e.arg(1) {
            None => None,
            Some("inet") => Some(Family::Inet),
            Some("inet6") => Some(Family::Inet6),
            Some(other) => {
                ctx.err(e, format!("unknown family {other:?} (inet or inet6)"));
                return None;
            }
        };
        return Some(GroupEntry::Fwmark { mark, family });
    }
    if e.args().len() > 1 {
        ctx.err(e, "an entry is an address (or range) and a port");
        return None;
    }
    let port = match e.arg(0) {
        None => 0,
        Some(p) => match super::super::args::parse_uint(p).filter(|v| *v <= 65_535) {
            Some(v) => v as u16,
            None => {
                ctx.err(e, format!("{p:?} is not a port"));
                return None;
            }
        },
    };
    match address_range(first) {
        Ok((first, last)) => Some(GroupEntry::Addresses { first, last, port }),
        Err(why) => {
            ctx.err(e, why);
            None
        }
    }
}

/// An address, `A/MASK` (host bits clear), or `A-B` with B a whole address or the last
/// part (IPv4 octet in decimal, IPv6 group in hexadecimal).
fn address_range(text: &str) -> Result<(IpAddr, IpAddr), String> {
    if let Some((a, m)) = text.split_once('/') {
        let addr: IpAddr = a.parse().map_err(|_| format!("{a:?} is not an IP address"))?;
        let bits: u32 = if addr.is_ipv4() { 32 } else { 128 };
        let mask = super::super::args::parse_uint(m).filter(|v| (1..=u64::from(bits)).contains(v));
        let mask = mask.ok_or_else(|| format!("invalid netmask {m:?}"))? as u32;
        let host: u128 = if mask >= bits { 0 } else { (1u128 << (bits - mask)) - 1 };
        let n = match addr {
            IpAddr::V4(v) => u128::from(u32::from(v)),
            IpAddr::V6(v) => u128::from(v),
        };
        if n & host != 0 {
            return Err(format!("{text}: the address has bits set past the mask"));
        }
        let last = match addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(n | host).unwrap_or(u32::MAX))),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n | host)),
        };
        return Ok((addr, last));
    }
    let Some((a, end)) = text.split_once('-') else {
        let addr: IpAddr = text.parse().map_err(|_| format!("{text:?} is not an IP address"))?;
        return Ok((addr, addr));
    };
    let addr: IpAddr = a.parse().map_err(|_| format!("{a:?} is not an IP address"))?;
    let last = match addr {
        IpAddr::V4(v4) if !end.contains('.') => {
            let o = super::super::args::parse_uint(end)
                .filter(|v| *v <= 255)
                .ok_or_else(|| format!("invalid range end {end:?}"))?;
            let mut octets = v4.octets();
            octets[3] = o as u8;
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        IpAddr::V6(v6) if !end.contains(':') => {
            let g = u16::from_str_radix(end, 16).map_err(|_| format!("invalid range end {end:?}"))?;
            let mut segs = v6.segments();
            segs[7] = g;
            IpAddr::V6(Ipv6Addr::from(segs))
        }
        _ => end.parse().map_err(|_| format!("invalid range end {end:?}"))?,
    };
    if addr.is_ipv4() != last.is_ipv4() {
        return Err(format!("{text}: the range's ends are of different families"));
    }
    let order = |x: IpAddr| match x {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    };
    if order(last) < order(addr) {
        return Err(format!("{text}: the range ends before it starts"));
    }
    Ok((addr, last))
}

/// `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`
/// (check_parser.c `svr_forwarding_handler`; the method's name is case-sensitive).
pub(super) fn method(n: &Node, ctx: &mut Ctx) -> Option<Forward> {
    if n.args().is_empty() {
        ctx.err(n, "needs NAT, DR or TUN");
        return None;
    }
    if !ctx.no_block(n) {
        return None;
    }
    let extra = n.args().get(1..).unwrap_or_default();
    match n.arg(0).unwrap_or_default() {
        "NAT" | "DR" if !extra.is_empty() => {
            ctx.err(n, "NAT and DR take no options");
            None
        }
        "NAT" => Some(Forward::Masquerade),
        "DR" => Some(Forward::DirectRoute),
        "TUN" => {
            let (mut kind, mut port, mut flags) = ("ipip", 0u16, TunnelFlags::empty());
            let mut i = 0;
            while let Some(opt) = extra.get(i) {
                match opt.as_str() {
                    "type" => match extra.get(i + 1).map(String::as_str) {
                        Some(t @ ("ipip" | "gue" | "gre")) => {
                            kind = t;
                            i += 1;
                        }
                        other => {
                            ctx.err(n, format!("unknown tunnel type {:?} (ipip, gue or gre)", other.unwrap_or("")));
                            return None;
                        }
                    },
                    "port" => match extra
                        .get(i + 1)
                        .and_then(|p| super::super::args::parse_uint(p))
                        .filter(|p| (1..=65_535).contains(p))
                    {
                        Some(p) => {
                            port = p as u16;
                            i += 1;
                        }
                        None => {
                            ctx.err(n, "a tunnel port must be in 1..=65535");
                            return None;
                        }
                    },
                    "nocsum" => flags = TunnelFlags::empty(),
                    "csum" => flags = TunnelFlags::CSUM,
                    "remcsum" => flags = TunnelFlags::REMCSUM,
                    other => {
                        ctx.err(n, format!("unknown tunnel option {other:?}"));
                        return None;
                    }
                }
                i += 1;
            }
            if (kind == "gue") != (port != 0) {
                ctx.err(n, "a gue tunnel needs a port, and only gue takes one");
                return None;
            }
            match Tunnel::from_name(kind, port, flags) {
                Ok(Tunnel::Gre { flags }) if flags.contains(TunnelFlags::REMCSUM) => {
                    ctx.err(n, "a gre tunnel has no remote checksum offload");
                    None
                }
                Ok(t) => Some(Forward::Tunnel(t)),
                Err(e) => {
                    ctx.err(n, e.reason);
                    None
                }
            }
        }
        other => {
            ctx.err(n, format!("unknown method {other:?} (NAT, DR or TUN, in capitals)"));
            None
        }
    }
}

/// `virtual_server IP [PORT] | fwmark N | group NAME { ... }`.
pub(super) fn virtual_server(n: &Node, c: &mut Config, ctx: &mut Ctx) {
    let path = format!("virtual_servers[{}]", c.virtual_servers.len());
    let errors_before = ctx.errors.len();
    let id = match n.args() {
        [kw, _] if kw == "fwmark" => {
            ctx.uint(n, 1, 0, u64::from(u32::MAX)).map(|m| VirtualServerId::Fwmark { mark: m as u32, family: None })
        }
        [kw, name] if kw == "group" => {
            Some(VirtualServerId::Group { name: name.clone(), protocol: None, family: None })
        }
        [_] | [_, _] => {
            let port = match n.arg(1) {
                None => Some(0),
                Some(_) => ctx.uint(n, 1, 0, 65_535).map(|p| p as u16),
            };
            ctx.ip(n, 0).zip(port).map(|(address, port)| VirtualServerId::Address {
                protocol: Protocol::Udp,
                address,
                port,
            })
        }
        _ => {
            ctx.err(n, "takes IP [PORT], fwmark N or group NAME");
            None
        }
    };
    ctx.place(&path, n);
    let Some(id) = id else { return };
    let mut vs = VirtualServer::new(id);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut protocol: Option<Protocol> = None;
    let mut family: Option<Family> = None;
    let mut scheduler_set = false;
    let mut rs_without_method = false;
    for k in ctx.block(n) {
        let kw = k.keyword();
        let canonical = match kw {
            "lb_algo" => "lvs_sched",
            "lb_kind" => "lvs_method",
            other => other,
        };
        let repeatable = matches!(kw, "real_server");
        if !repeatable && !ctx.once(&mut seen, canonical, k) {
            continue;
        }
        let field = |f: &str| format!("{path}.{f}");
        match kw {
            "ip_family" => {
                if ctx.count(k, 1, 1) {
                    match k.arg(0) {
                        Some("inet") => family = Some(Family::Inet),
                        Some("inet6") => family = Some(Family::Inet6),
                        other => ctx.err(k, format!("unknown family {:?} (inet or inet6)", other.unwrap_or(""))),
                    }
                    ctx.place(field("family"), k);
                }
            }
            "retry" => {
                if ctx.count(k, 1, 1) {
                    vs.timing.retry = ctx.uint(k, 0, 1, u64::from(u32::MAX)).map(|v| v as u32);
                    ctx.place(field("retry"), k);
                }
            }
            "delay_before_retry" | "warmup" | "delay_loop" | "connect_timeout" => {
                if ctx.count(k, 1, 1) {
                    let (min, max) = timer_range(kw);
                    let v = ctx.timer(k, 0, min, max);
                    match kw {
                        "delay_before_retry" => vs.timing.delay_before_retry = v,
                        "warmup" => vs.timing.warmup = v,
                        "delay_loop" => vs.timing.delay_loop = v,
                        _ => vs.timing.connect_timeout = v,
                    }
                    ctx.place(field(kw), k);
                }
            }
            "inhibit_on_failure" => {
                if ctx.bare(k) {
                    vs.on_failure = Some(OnFailure::Inhibit);
                    ctx.place(field("on_failure"), k);
                }
            }
            "lb_algo" | "lvs_sched" => {
                if ctx.count(k, 1, 1) {
                    match parse_scheduler(k.arg(0).unwrap_or_default()) {
                        Ok(s) => {
                            vs.scheduler = s;
                            scheduler_set = true;
                        }
                        Err(e) => ctx.err(k, e),
                    }
                    ctx.place(field("scheduler"), k);
                }
            }
            "hashed" => ctx.err(k, "hashed is the kernel's own mark of a service (keepalived refuses it)"),
            "ops" => {
                if ctx.bare(k) {
                    vs.flags |= ServiceFlags::ONE_PACKET;
                    ctx.place(field("flags"), k);
                }
            }
            "flag-1" | "flag-2" | "flag-3" | "sh-port" | "sh-fallback" | "mh-port" | "mh-fallback" => {
                if !ctx.bare(k) {
                    continue;
                }
                if (kw.starts_with("sh-") || kw.starts_with("mh-")) && !scheduler_set {
                    ctx.err(k, format!("must follow lvs_sched {}", kw.get(..2).unwrap_or("")));
                    continue;
                }
                match ServiceFlags::parse_scheduler_flag(kw, &vs.scheduler) {
                    Ok(f) => vs.flags |= f,
                    Err(e) => ctx.err(k, e.reason),
                }
                ctx.place(field("flags"), k);
            }
            "lb_kind" | "lvs_method" => {
                vs.forward = method(k, ctx);
                ctx.place(field("forward"), k);
            }
            "persistence_engine" => {
                if ctx.count(k, 1, 1) {
                    match PersistenceEngine::from_str(k.arg(0).unwrap_or_default()) {
                        Ok(pe) => vs.persistence_engine = Some(pe),
                        Err(e) => ctx.err(k, e.reason),
                    }
                    ctx.place(field("persistence_engine"), k);
                }
            }
            "persistence_timeout" => {
                if ctx.count(k, 0, 1) {
                    vs.persistence = match k.arg(0) {
                        None => Some(defaults::PERSISTENCE_TIMEOUT),
                        Some(_) => ctx.uint(k, 0, 1, u64::from(defaults::MAX_PERSISTENCE_TIMEOUT)).map(|v| v as u32),
                    };
                    ctx.place(field("persistence"), k);
                }
            }
            "persistence_granularity" => {
                if ctx.count(k, 1, 1) {
                    let text = k.arg(0).unwrap_or_default();
                    let v6 = match &vs.id {
                        VirtualServerId::Address { address, .. } => address.is_ipv6(),
                        _ => family.map_or(!text.contains('.'), |f| f == Family::Inet6),
                    };
                    let mask = if v6 {
                        ctx.uint(k, 0, 1, 128).map(|p| Netmask::Prefix(p as u8))
                    } else {
                        text.parse::<Ipv4Addr>()
                            .map(Netmask::V4)
                            .map_err(|_| ctx.err(k, format!("{text:?} is not an IPv4 netmask")))
                            .ok()
                    };
                    if mask.is_some() {
                        vs.netmask = mask;
                        // keepalived makes the service persistent for 360 s if it is not yet.
                        vs.persistence = vs.persistence.or(Some(defaults::PERSISTENCE_TIMEOUT));
                    }
                    ctx.place(field("netmask"), k);
                }
            }
            "protocol" => {
                if ctx.count(k, 1, 1) {
                    let text = k.arg(0).unwrap_or_default();
                    match Protocol::from_str(text) {
                        Ok(p) => protocol = Some(p),
                        Err(_) => ctx.err(k, format!("unknown protocol {text:?} (TCP, UDP or SCTP)")),
                    }
                    ctx.place(field("protocol"), k);
                }
            }
            "ha_suspend" | "alpha" | "omega" => {
                if ctx.bare(k) {
                    match kw {
                        "ha_suspend" => vs.ha_suspend = true,
                        "alpha" => vs.alpha = true,
                        _ => vs.omega = true,
                    }
                    ctx.place(field(kw), k);
                }
            }
            "virtualhost" => {
                if ctx.count(k, 1, 1) {
                    vs.virtualhost = k.arg(0).map(str::to_owned);
                    ctx.place(field("virtualhost"), k);
                }
            }
            "quorum_up" | "quorum_down" => {
                let s = ctx.script(k, true);
                ctx.place(field(kw), k);
                if kw == "quorum_up" {
                    vs.quorum_up = s;
                } else {
                    vs.quorum_down = s;
                }
            }
            "quorum" | "hysteresis" => {
                if ctx.count(k, 1, 1) {
                    let min = if kw == "quorum" { 1 } else { 0 };
                    if let Some(v) = ctx.uint(k, 0, min, u64::from(u32::MAX)) {
                        if kw == "quorum" {
                            vs.quorum = v as u32;
                        } else {
                            vs.hysteresis = v as u32;
                        }
                    }
                    ctx.place(field(kw), k);
                }
            }
            "weight" => {
                if ctx.count(k, 1, 1) {
                    if let Some(v) = ctx.uint(k, 0, 1, u64::from(Destination::MAX_WEIGHT)) {
                        vs.weight = v as u32;
                    }
                    ctx.place(field("weight"), k);
                }
            }
            "sorry_server" => {
                if ctx.count(k, 1, 2) {
                    let port = match k.arg(1) {
                        None => Some(None),
                        Some(_) => ctx.uint(k, 1, 0, 65_535).map(|p| (p != 0).then_some(p as u16)),
                    };
                    if let (Some(address), Some(port)) = (ctx.ip(k, 0), port) {
                        vs.sorry_server = Some(SorryServer { address, port, forward: None, inhibit: false });
                    }
                    ctx.place(field("sorry_server"), k);
                }
            }
            "sorry_server_inhibit" | "sorry_server_lvs_method" => {
                let Some(s) = vs.sorry_server.as_mut() else {
                    ctx.err(k, "must follow sorry_server");
                    continue;
                };
                if kw == "sorry_server_inhibit" {
                    if ctx.bare(k) {
                        s.inhibit = true;
                        ctx.place(field("sorry_server.inhibit"), k);
                    }
                } else {
                    s.forward = method(k, ctx);
                    ctx.place(field("sorry_server.forward"), k);
                }
            }
            "real_server" => {
                let j = vs.real_servers.len();
                if let Some(rs) = real_server::real_server(k, &format!("{path}.real_servers[{j}]"), ctx) {
                    rs_without_method |= rs.forward.is_none();
                    vs.real_servers.push(rs);
                }
            }
            "nb_get_retry" => ctx.err(k, "only in HTTP_GET and SSL_GET (use retry)"),
            _ if IGNORED_KEYWORDS.iter().any(|(i, _)| *i == kw) => {
                ctx.flag(k);
            }
            "snmp_name" => ctx.err(k, "not supported by ipvs-director"),
            _ => ctx.err(k, "unknown keyword in virtual_server"),
        }
    }
    match &mut vs.id {
        VirtualServerId::Address { protocol: p, address, .. } => {
            match protocol {
                Some(pr) => *p = pr,
                None if !seen.contains_key("protocol") => {
                    ctx.err(n, "no protocol (keepalived falls back to UDP and reports a configuration error)")
                }
                None => {}
            }
            if let Some(f) = family.filter(|f| *f != Family::of(address)) {
                ctx.err(n, format!("ip_family {} does not match the address {address}", f.name()));
            }
        }
        VirtualServerId::Fwmark { family: f, .. } => {
            if protocol.is_some() {
                ctx.err(
                    n,
                    "a firewall-mark virtual server has no protocol (keepalived ignores it and reports an error)",
                );
            }
            *f = family;
        }
        VirtualServerId::Group { protocol: p, family: f, .. } => {
            *p = protocol;
            *f = family;
        }
    }
    if !seen.contains_key("lvs_sched") {
        ctx.err(n, "no lvs_sched (keepalived falls back to wlc and reports a configuration error)");
    }
    if vs.forward.is_none() {
        let sorry_missing = vs.sorry_server.as_ref().is_some_and(|s| s.forward.is_none());
        if (rs_without_method || sorry_missing) && !seen.contains_key("lvs_method") {
            ctx.err(n, "no lvs_method, here or on every server (keepalived falls back to NAT and reports a configuration error)");
        }
    }
    if ctx.errors.len() == errors_before {
        c.virtual_servers.push(vs);
    }
}

pub(super) fn timer_range(kw: &str) -> (std::time::Duration, std::time::Duration) {
    use std::time::Duration;
    match kw {
        "delay_loop" => (Duration::from_micros(1), defaults::MAX_TIMER),
        "connect_timeout" => (Duration::from_micros(1), defaults::MAX_CONNECT_TIMEOUT),
        _ => (Duration::ZERO, defaults::MAX_TIMER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn group_ranges() {
        assert_eq!(address_range("192.0.2.10-20").unwrap(), (ip("192.0.2.10"), ip("192.0.2.20")));
        assert_eq!(address_range("192.0.2.0/30").unwrap(), (ip("192.0.2.0"), ip("192.0.2.3")));
        assert_eq!(address_range("192.0.2.5-192.0.2.9").unwrap(), (ip("192.0.2.5"), ip("192.0.2.9")));
        assert_eq!(address_range("2001:db8::1-ff").unwrap(), (ip("2001:db8::1"), ip("2001:db8::ff")));
        assert_eq!(address_range("2001:db8::/126").unwrap(), (ip("2001:db8::"), ip("2001:db8::3")));
        assert_eq!(address_range("192.0.2.7").unwrap(), (ip("192.0.2.7"), ip("192.0.2.7")));
        for bad in [
            "192.0.2.1/30",
            "192.0.2.10-5",
            "192.0.2.1-300",
            "192.0.2.1/0",
            "192.0.2.1-2001:db8::1",
            "x",
            "192.0.2.1/33",
        ] {
            assert!(address_range(bad).is_err(), "{bad}");
        }
    }
}
