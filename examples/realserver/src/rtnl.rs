//! A synchronous rtnetlink socket: links, addresses and routes, over netlink-packet-route
//! messages (no `ip` command). The director's failover uses it too (virtual addresses,
//! tracked interfaces).
//!
//! ```no_run
//! use ipvs_realserver::rtnl::Rtnl;
//! let mut rtnl = Rtnl::open()?;
//! let lo = rtnl.links()?.into_iter().find(|l| l.loopback).expect("a loopback");
//! rtnl.address(true, lo.index, &lo.name, "192.0.2.10".parse()?, 32)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::IpAddr;
use std::time::Duration;

use ipvs::netlink::{Connection, Deadline, NETLINK_ROUTE};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::{Error, Result};

/// How long one request or dump may take: the kernel answers rtnetlink while it handles the
/// request, so only a wedged kernel comes near it.
const TIMEOUT: Duration = Duration::from_secs(30);

/// One network interface as the kernel lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The interface index.
    pub index: u32,
    /// Its name.
    pub name: String,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Up with a carrier (`IFF_RUNNING`: operationally up).
    pub running: bool,
    /// The loopback interface.
    pub loopback: bool,
    /// No ARP on it (`IFF_NOARP`).
    pub noarp: bool,
    /// Its hardware address (empty when it has none).
    pub mac: Vec<u8>,
    /// Its kind (`veth`, `ipip`, ...), when the kernel says.
    pub kind: Option<String>,
}

/// One address on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// The interface index.
    pub index: u32,
    /// The address.
    pub ip: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
}

/// One route of the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The destination network.
    pub dst: IpAddr,
    /// Its prefix length.
    pub dst_len: u8,
    /// The gateways: `via`, or each next hop's of a multipath route; empty when on-link.
    pub gateways: Vec<IpAddr>,
    /// The route's metric (priority): the lowest wins among equal prefixes.
    pub metric: u32,
    /// The route as the kernel sent it (a `RouteMessage`), to put it back exactly.
    pub raw: Vec<u8>,
}

/// A NETLINK_ROUTE socket in the namespace it was opened in (a [`Connection`] of the core:
/// the workspace's one netlink socket loop).
pub struct Rtnl {
    conn: Connection,
}

impl Rtnl {
    /// Opens a socket in the calling thread's network namespace.
    pub fn open() -> Result<Self> {
        let conn = Connection::open(NETLINK_ROUTE).map_err(|e| Error::netlink(&|| "open".into(), e))?;
        Ok(Rtnl { conn })
    }

    fn request(&mut self, op: &dyn Fn() -> String, msg: RouteNetlinkMessage, flags: u16) -> Result<()> {
        self.conn.request(msg, flags, Deadline::after(TIMEOUT)).map(drop).map_err(|e| Error::netlink(op, e))
    }

    fn dump(&mut self, what: &str, msg: RouteNetlinkMessage) -> Result<Vec<RouteNetlinkMessage>> {
        self.conn.dump(msg, Deadline::after(TIMEOUT)).map_err(|e| Error::netlink(&|| format!("list {what}"), e))
    }

    /// Every interface.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let msgs = self.dump("links", RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_of(l)),
                _ => None,
            })
            .collect())
    }

    /// Every address of every interface.
    pub fn addresses(&mut self) -> Result<Vec<Addr>> {
        let msgs = self.dump("addresses", RouteNetlinkMessage::GetAddress(AddressMessage::default()))?;
        let mut out = Vec::new();
        for m in msgs {
            let RouteNetlinkMessage::NewAddress(a) = m else { continue };
            // IFA_LOCAL is the interface's own address (it differs from IFA_ADDRESS only on
            // point-to-point links); IPv6 sends IFA_ADDRESS alone.
            let mut ip = None;
            for attr in &a.attributes {
                match attr {
                    AddressAttribute::Local(l) => ip = Some(*l),
                    AddressAttribute::Address(x) if ip.is_none() => ip = Some(*x),
                    _ => {}
                }
            }
            if let Some(ip) = ip {
                out.push(Addr { index: a.header.index, ip, prefix_len: a.header.prefix_len });
            }
        }
        Ok(out)
    }

    /// The main table's routes of one family.
    pub fn routes(&mut self, ipv6: bool) -> Result<Vec<Route>> {
        let mut query = RouteMessage::default();
        query.header.address_family = family(ipv6);
        let msgs = self.dump("routes", RouteNetlinkMessage::GetRoute(query))?;
        let mut out = Vec::new();
        for m in msgs {
            let RouteNetlinkMessage::NewRoute(r) = m else { continue };
            if table_of(&r) != u32::from(RouteHeader::RT_TABLE_MAIN) || r.header.address_family != family(ipv6) {
                continue;
            }
            let mut raw = vec![0; netlink_packet_core::Emitable::buffer_len(&r)];
            netlink_packet_core::Emitable::emit(&r, &mut raw);
            let dst = r
                .attributes
                .iter()
                .find_map(|a| match a {
                    RouteAttribute::Destination(d) => ip_of(d),
                    _ => None,
                })
                .unwrap_or_else(|| crate::Network::default_for(ipv6).addr);
            let mut gateways = Vec::new();
            for a in &r.attributes {
                match a {
                    RouteAttribute::Gateway(g) => gateways.extend(ip_of(g)),
                    RouteAttribute::MultiPath(hops) => {
                        for hop in hops {
                            for a in &hop.attributes {
                                if let RouteAttribute::Gateway(g) = a {
                                    gateways.extend(ip_of(g));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            let metric = r
                .attributes
                .iter()
                .find_map(|a| match a {
                    RouteAttribute::Priority(p) => Some(*p),
                    _ => None,
                })
                .unwrap_or(0);
            out.push(Route { dst, dst_len: r.header.destination_prefix_length, gateways, metric, raw });
        }
        Ok(out)
    }

    /// Creates a tunnel link `name` of `kind` with no endpoints (a catch-all like the
    /// modules' fallback devices). The kernel loads the kind's module if needed.
    pub fn create_link(&mut self, name: &str, kind: &str) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        msg.attributes.push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(info_kind(kind))]));
        let op = || format!("create link {name} (type {kind})");
        self.request(&op, RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL)
    }

    /// Deletes a link.
    pub fn delete_link(&mut self, index: u32, name: &str) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        self.request(&|| format!("delete link {name}"), RouteNetlinkMessage::DelLink(msg), 0)
    }

    /// Brings a link up or down.
    pub fn set_up(&mut self, index: u32, name: &str, up: bool) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.header.change_mask = LinkFlags::Up;
        if up {
            msg.header.flags = LinkFlags::Up;
        }
        let op = || format!("set {name} {}", if up { "up" } else { "down" });
        self.request(&op, RouteNetlinkMessage::SetLink(msg), 0)
    }

    /// Adds (`add`) or removes an address. IPv6 addresses are added without duplicate
    /// address detection (`nodad`).
    pub fn address(&mut self, add: bool, index: u32, name: &str, ip: IpAddr, prefix_len: u8) -> Result<()> {
        let mut msg = AddressMessage::default();
        msg.header.family = family(ip.is_ipv6());
        msg.header.prefix_len = prefix_len;
        msg.header.index = index;
        msg.header.scope = AddressScope::Universe;
        msg.attributes.push(AddressAttribute::Local(ip));
        msg.attributes.push(AddressAttribute::Address(ip));
        if ip.is_ipv6() && add {
            msg.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        let op = || {
            format!(
                "{} {ip}/{prefix_len} {} {name}",
                if add { "add" } else { "remove" },
                if add { "to" } else { "from" }
            )
        };
        if add {
            self.request(&op, RouteNetlinkMessage::NewAddress(msg), NLM_F_CREATE | NLM_F_EXCL)
        } else {
            self.request(&op, RouteNetlinkMessage::DelAddress(msg), 0)
        }
    }

    /// Adds a main-table route `dst/len via gateway`, replacing one to the same network.
    pub fn route_via(&mut self, dst: IpAddr, dst_len: u8, gateway: IpAddr, replace: bool) -> Result<()> {
        let mut r = RouteMessage::default();
        r.header.address_family = family(dst.is_ipv6());
        r.header.destination_prefix_length = dst_len;
        r.header.table = RouteHeader::RT_TABLE_MAIN;
        r.header.protocol = netlink_packet_route::route::RouteProtocol::Static;
        r.header.scope = netlink_packet_route::route::RouteScope::Universe;
        r.header.kind = netlink_packet_route::route::RouteType::Unicast;
        if dst_len > 0 {
            r.attributes.push(RouteAttribute::Destination(RouteAddress::from(dst)));
        }
        r.attributes.push(RouteAttribute::Gateway(RouteAddress::from(gateway)));
        let op = || format!("route {dst}/{dst_len} via {gateway}");
        let flags = NLM_F_CREATE | if replace { NLM_F_REPLACE } else { NLM_F_EXCL };
        self.request(&op, RouteNetlinkMessage::NewRoute(r), flags)
    }

    /// Puts back a route saved by [`Rtnl::routes`] (replacing what is there now).
    pub fn restore_route(&mut self, raw: &[u8]) -> Result<()> {
        let mut r = <RouteMessage as netlink_packet_core::Parseable<[u8]>>::parse(raw)
            .map_err(|e| Error::Decode(format!("saved route: {e}")))?;
        r.attributes.retain(|a| !matches!(a, RouteAttribute::CacheInfo(_)));
        let op = || "restore the previous route".to_string();
        self.request(&op, RouteNetlinkMessage::NewRoute(r), NLM_F_CREATE | NLM_F_REPLACE)
    }

    /// Deletes the main-table route `dst/len via gateway`.
    pub fn delete_route(&mut self, dst: IpAddr, dst_len: u8, gateway: IpAddr) -> Result<()> {
        let mut r = RouteMessage::default();
        r.header.address_family = family(dst.is_ipv6());
        r.header.destination_prefix_length = dst_len;
        r.header.table = RouteHeader::RT_TABLE_MAIN;
        r.header.scope = netlink_packet_route::route::RouteScope::NoWhere;
        if dst_len > 0 {
            r.attributes.push(RouteAttribute::Destination(RouteAddress::from(dst)));
        }
        r.attributes.push(RouteAttribute::Gateway(RouteAddress::from(gateway)));
        let op = || format!("delete route {dst}/{dst_len} via {gateway}");
        self.request(&op, RouteNetlinkMessage::DelRoute(r), 0)
    }
}

fn family(ipv6: bool) -> AddressFamily {
    if ipv6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    }
}

fn ip_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn table_of(r: &RouteMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(r.header.table))
}

fn info_kind(kind: &str) -> InfoKind {
    match kind {
        "ipip" => InfoKind::IpIp,
        "ip6tnl" => InfoKind::Ip6Tnl,
        "gre" => InfoKind::GreTun,
        "ip6gre" => InfoKind::GreTun6,
        other => InfoKind::Other(other.to_string()),
    }
}

fn link_of(l: LinkMessage) -> Link {
    let mut name = String::new();
    let mut kind = None;
    let mut mac = Vec::new();
    for a in l.attributes {
        match a {
            LinkAttribute::IfName(n) => name = n,
            LinkAttribute::Address(m) => mac = m,
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        kind = Some(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    let flags = l.header.flags;
    Link {
        index: l.header.index,
        name,
        up: flags.contains(LinkFlags::Up),
        running: flags.contains(LinkFlags::Running),
        loopback: flags.contains(LinkFlags::Loopback),
        noarp: flags.contains(LinkFlags::Noarp),
        mac,
        kind,
    }
}
