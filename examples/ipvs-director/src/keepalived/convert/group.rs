//! `virtual_server_group NAME { entries }` (check_parser.c's `vsg_handler`): its entries are
//! addresses, ranges and marks, not keywords.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs::Family;

use super::super::args::{parse_uint, Ctx};
use super::super::tree::Node;
use crate::config::{Config, GroupEntry, VirtualServerGroup};

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
        Some(p) => match parse_uint(p).filter(|v| *v <= 65_535) {
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
            ctx.err(e, why.to_string());
            None
        }
    }
}

/// Why a group entry is not an address range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum RangeError {
    #[error("{0:?} is not an IP address")]
    NotAnAddress(String),
    #[error("invalid netmask {0:?}")]
    Netmask(String),
    #[error("{0}: the address has bits set past the mask")]
    HostBits(String),
    #[error("invalid range end {0:?}")]
    End(String),
    #[error("{0}: the range's ends are of different families")]
    Families(String),
    #[error("{0}: the range ends before it starts")]
    Backwards(String),
}

/// An address, `A/MASK` (host bits clear), or `A-B` with B a whole address or the last
/// part (IPv4 octet in decimal, IPv6 group in hexadecimal).
fn address_range(text: &str) -> Result<(IpAddr, IpAddr), RangeError> {
    let address = |a: &str| a.parse::<IpAddr>().map_err(|_| RangeError::NotAnAddress(a.to_owned()));
    let bad_end = |end: &str| RangeError::End(end.to_owned());
    if let Some((a, m)) = text.split_once('/') {
        let addr = address(a)?;
        let bits: u32 = if addr.is_ipv4() { 32 } else { 128 };
        let mask = parse_uint(m).filter(|v| (1..=u64::from(bits)).contains(v));
        let mask = mask.ok_or_else(|| RangeError::Netmask(m.to_owned()))? as u32;
        let host: u128 = if mask >= bits { 0 } else { (1u128 << (bits - mask)) - 1 };
        let n = match addr {
            IpAddr::V4(v) => u128::from(u32::from(v)),
            IpAddr::V6(v) => u128::from(v),
        };
        if n & host != 0 {
            return Err(RangeError::HostBits(text.to_owned()));
        }
        let last = match addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(n | host).unwrap_or(u32::MAX))),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n | host)),
        };
        return Ok((addr, last));
    }
    let Some((a, end)) = text.split_once('-') else {
        let addr = address(text)?;
        return Ok((addr, addr));
    };
    let addr = address(a)?;
    let last = match addr {
        IpAddr::V4(v4) if !end.contains('.') => {
            let o = parse_uint(end).filter(|v| *v <= 255).ok_or_else(|| bad_end(end))?;
            let mut octets = v4.octets();
            octets[3] = o as u8;
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        IpAddr::V6(v6) if !end.contains(':') => {
            let g = u16::from_str_radix(end, 16).map_err(|_| bad_end(end))?;
            let mut segs = v6.segments();
            segs[7] = g;
            IpAddr::V6(Ipv6Addr::from(segs))
        }
        _ => end.parse().map_err(|_| bad_end(end))?,
    };
    if addr.is_ipv4() != last.is_ipv4() {
        return Err(RangeError::Families(text.to_owned()));
    }
    let order = |x: IpAddr| match x {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    };
    if order(last) < order(addr) {
        return Err(RangeError::Backwards(text.to_owned()));
    }
    Ok((addr, last))
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
