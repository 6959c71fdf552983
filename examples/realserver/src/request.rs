//! What the caller asks for: the forwarding method, the VIPs, where.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Whether `ip` can name one host: not unspecified, multicast, the IPv4 limited broadcast
/// (255.255.255.255) or an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, which no interface
/// holds: the IPv4 address is meant). The one rule for VIPs and the director's address.
fn is_unicast(ip: &IpAddr) -> bool {
    let special = match ip {
        IpAddr::V4(a) => a.is_broadcast(),
        IpAddr::V6(a) => a.to_ipv4_mapped().is_some(),
    };
    !(ip.is_unspecified() || ip.is_multicast() || special)
}

/// How the director forwards to this real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Direct routing: the director rewrites only the MAC address; the VIP must be local here
    /// and must not be announced (ARP) on the shared segment.
    Dr,
    /// Tunnelling: the director encapsulates; the real server decapsulates on a tunnel device.
    Tun(Tunnel),
    /// NAT (masquerading): the director rewrites the destination; replies must go back
    /// through it.
    Nat,
}

/// The encapsulation the director uses for [`Method::Tun`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tunnel {
    /// IP in IP (IPv4: `tunl0`, module `ipip`; IPv6: `ip6tnl0`, module `ip6_tunnel`).
    Ipip,
    /// GRE (IPv4: `gre0`, module `ip_gre`; IPv6: `ip6gre0`, module `ip6_gre`).
    Gre,
    /// Generic UDP encapsulation on a UDP port (a `fou` port of type GUE), decapsulated to
    /// the IP-in-IP devices.
    Gue {
        /// The UDP port the director sends to (its `--tun-port`).
        port: u16,
    },
}

impl Tunnel {
    /// The fallback tunnel device that receives this encapsulation for VIPs of one family.
    pub fn device(self, ipv6: bool) -> &'static str {
        match (self, ipv6) {
            (Tunnel::Ipip | Tunnel::Gue { .. }, false) => "tunl0",
            (Tunnel::Ipip | Tunnel::Gue { .. }, true) => "ip6tnl0",
            (Tunnel::Gre, false) => "gre0",
            (Tunnel::Gre, true) => "ip6gre0",
        }
    }

    /// The kernel module that provides [`Tunnel::device`].
    pub fn module(self, ipv6: bool) -> &'static str {
        match (self, ipv6) {
            (Tunnel::Ipip | Tunnel::Gue { .. }, false) => "ipip",
            (Tunnel::Ipip | Tunnel::Gue { .. }, true) => "ip6_tunnel",
            (Tunnel::Gre, false) => "ip_gre",
            (Tunnel::Gre, true) => "ip6_gre",
        }
    }

    /// The rtnetlink link kind of [`Tunnel::device`] (`ip link add ... type KIND`).
    pub fn link_kind(self, ipv6: bool) -> &'static str {
        match (self, ipv6) {
            (Tunnel::Ipip | Tunnel::Gue { .. }, false) => "ipip",
            (Tunnel::Ipip | Tunnel::Gue { .. }, true) => "ip6tnl",
            (Tunnel::Gre, false) => "gre",
            (Tunnel::Gre, true) => "ip6gre",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Dr => f.write_str("dr"),
            Method::Tun(t) => write!(f, "tun ({t})"),
            Method::Nat => f.write_str("nat"),
        }
    }
}

impl fmt::Display for Tunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tunnel::Ipip => f.write_str("ipip"),
            Tunnel::Gre => f.write_str("gre"),
            Tunnel::Gue { port } => write!(f, "gue:{port}"),
        }
    }
}

impl FromStr for Method {
    type Err = Error;
    /// `dr`, `tun` (IP in IP), `nat`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "dr" => Ok(Method::Dr),
            "tun" => Ok(Method::Tun(Tunnel::Ipip)),
            "nat" => Ok(Method::Nat),
            _ => Err(Error::Invalid(format!("method {s:?}: expected dr, tun or nat"))),
        }
    }
}

impl FromStr for Tunnel {
    type Err = Error;
    /// `ipip`, `gre`, `gue:PORT`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ipip" => Ok(Tunnel::Ipip),
            "gre" => Ok(Tunnel::Gre),
            "gue" => Err(Error::Invalid("tunnel gue needs the director's port: gue:PORT".into())),
            _ => match s.strip_prefix("gue:").map(str::parse::<u16>) {
                Some(Ok(port)) if port != 0 => Ok(Tunnel::Gue { port }),
                _ => Err(Error::Invalid(format!("tunnel {s:?}: expected ipip, gre or gue:PORT"))),
            },
        }
    }
}

/// How a DR or TUN real server keeps from answering ARP for its VIPs (docs/real-servers.md,
/// "Three cures").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArpCure {
    /// The kernel settings `arp_ignore` 1 and `arp_announce` 2 (the default).
    #[default]
    Sysctl,
    /// nftables `arp` rules: drop ARP requests for the VIPs, rewrite a VIP as sender
    /// address of outgoing ARP to the interface's own address. The VIPs stay on the host.
    Arptables,
    /// No VIP on the host; nftables `nat` rules redirect each VIP and service port to the
    /// host itself (DR only; needs the service ports).
    Redirect,
}

impl fmt::Display for ArpCure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArpCure::Sysctl => "sysctl",
            ArpCure::Arptables => "arptables",
            ArpCure::Redirect => "redirect",
        })
    }
}

impl FromStr for ArpCure {
    type Err = Error;
    /// `sysctl`, `arptables`, `redirect`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sysctl" => Ok(ArpCure::Sysctl),
            "arptables" => Ok(ArpCure::Arptables),
            "redirect" => Ok(ArpCure::Redirect),
            _ => Err(Error::Invalid(format!("arp cure {s:?}: expected sysctl, arptables or redirect"))),
        }
    }
}

/// A service port the director forwards (the `redirect` cure redirects each), written
/// `tcp:80`, `udp:53`, `sctp:3868`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServicePort {
    /// TCP, UDP or SCTP.
    pub protocol: ipvs::Protocol,
    /// The port.
    pub port: u16,
}

impl ServicePort {
    /// A service port.
    pub fn new(protocol: ipvs::Protocol, port: u16) -> Self {
        ServicePort { protocol, port }
    }

    /// The protocol's name as nftables writes it (`tcp`, `udp`, `sctp`).
    pub(crate) fn protocol_name(&self) -> &'static str {
        match self.protocol {
            ipvs::Protocol::Udp => "udp",
            ipvs::Protocol::Sctp => "sctp",
            _ => "tcp",
        }
    }
}

impl fmt::Display for ServicePort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.protocol_name(), self.port)
    }
}

impl FromStr for ServicePort {
    type Err = Error;
    /// `PROTOCOL:PORT`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Invalid(format!("service {s:?}: expected tcp:PORT, udp:PORT or sctp:PORT"));
        let (p, n) = s.split_once(':').ok_or_else(bad)?;
        let protocol: ipvs::Protocol = p.parse().map_err(|_| bad())?;
        let port: u16 = n.parse().map_err(|_| bad())?;
        Ok(ServicePort { protocol, port })
    }
}

impl Serialize for ServicePort {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ServicePort {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// A network (client addresses for NAT): an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Network {
    /// The network's address (host bits are cleared by [`Network::new`]).
    pub addr: IpAddr,
    /// The prefix length (0 ..= 32 or 128).
    pub prefix_len: u8,
}

impl Network {
    /// A network; fails when the prefix is longer than the address. Host bits are cleared.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<Self> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(Error::Invalid(format!("{addr}/{prefix_len}: the prefix is longer than {max}")));
        }
        Ok(Network { addr: crate::net::masked(addr, prefix_len), prefix_len })
    }

    /// The default route's network of a family (`0.0.0.0/0` or `::/0`).
    pub fn default_for(ipv6: bool) -> Self {
        let addr = if ipv6 { IpAddr::from([0u16; 8]) } else { IpAddr::from([0u8; 4]) };
        Network { addr, prefix_len: 0 }
    }

    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && crate::net::masked(ip, self.prefix_len) == self.addr
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Network {
    type Err = Error;
    /// `ADDR/LEN`, or a bare address (a host).
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Invalid(format!("network {s:?}: expected ADDRESS/PREFIX"));
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let len = match l {
            Some(l) => l.parse::<u8>().map_err(|_| bad())?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Network::new(addr, len)
    }
}

/// What to prepare, check or undo: one real server (one network namespace).
///
/// ```
/// use ipvs_realserver::{Method, Request, Tunnel};
/// let dr = Request::new(Method::Dr).vip("192.0.2.10".parse()?).vip("2001:db8::10".parse()?).dev("eth0");
/// assert!(dr.validate().is_ok());
/// let tun = Request::new(Method::Tun(Tunnel::Ipip)).vip("192.0.2.10".parse()?).netns("/run/netns/rs1");
/// assert!(tun.validate().is_ok());
/// let nat = Request::new(Method::Nat); // NAT needs the director's address
/// assert!(nat.validate().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The forwarding method.
    pub method: Method,
    /// The virtual addresses the director forwards (DR and TUN need at least one).
    pub vips: Vec<IpAddr>,
    /// The interface facing the director and clients (ARP settings go there); without it,
    /// `prepare` sets the `all` values and `check` looks at every ARP interface that is up.
    pub dev: Option<String>,
    /// The director's address (NAT: replies must be routed through it).
    pub director: Option<IpAddr>,
    /// NAT: the client networks whose route must go via the director (default: the default
    /// route of the director's family).
    pub clients: Vec<Network>,
    /// The network namespace to act in (`/run/netns/NAME`, `/proc/PID/ns/net`); the caller's
    /// own when `None`.
    pub netns: Option<PathBuf>,
    /// DR and TUN: how the host keeps from answering ARP for the VIPs (default: the sysctls).
    #[serde(default)]
    pub arp: ArpCure,
    /// The service ports the director forwards (the `redirect` cure needs them).
    #[serde(default)]
    pub services: Vec<ServicePort>,
}

impl Request {
    /// A request for `method`, with no VIP yet, in the caller's namespace.
    pub fn new(method: Method) -> Self {
        Request {
            method,
            vips: Vec::new(),
            dev: None,
            director: None,
            clients: Vec::new(),
            netns: None,
            arp: ArpCure::Sysctl,
            services: Vec::new(),
        }
    }

    /// Adds a VIP.
    pub fn vip(mut self, vip: IpAddr) -> Self {
        self.vips.push(vip);
        self
    }

    /// Names the interface facing the director and the clients.
    pub fn dev(mut self, dev: impl Into<String>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// Sets the director's address (NAT).
    pub fn director(mut self, director: IpAddr) -> Self {
        self.director = Some(director);
        self
    }

    /// Adds a client network that must be routed via the director (NAT).
    pub fn client_network(mut self, network: Network) -> Self {
        self.clients.push(network);
        self
    }

    /// Acts in the network namespace at `path`.
    pub fn netns(mut self, path: impl Into<PathBuf>) -> Self {
        self.netns = Some(path.into());
        self
    }

    /// Chooses the ARP cure (DR and TUN).
    pub fn arp(mut self, cure: ArpCure) -> Self {
        self.arp = cure;
        self
    }

    /// Adds a service port (the `redirect` cure redirects each).
    pub fn service(mut self, service: ServicePort) -> Self {
        self.services.push(service);
        self
    }

    /// Whether the request can be carried out as given.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(m));
        match (self.arp, self.method) {
            (ArpCure::Sysctl, _)
            | (ArpCure::Arptables, Method::Dr | Method::Tun(_))
            | (ArpCure::Redirect, Method::Dr) => {}
            (cure, method) => return bad(format!("the {cure} cure is not for {method}")),
        }
        if self.arp == ArpCure::Redirect && self.services.is_empty() {
            return bad("the redirect cure needs the service ports".into());
        }
        if let Some(s) = self.services.iter().find(|s| {
            s.port == 0 || !matches!(s.protocol, ipvs::Protocol::Tcp | ipvs::Protocol::Udp | ipvs::Protocol::Sctp)
        }) {
            return bad(format!("service {s}: not a port of tcp, udp or sctp"));
        }
        if let Some(dev) = &self.dev {
            crate::net::check_ifname(dev)?;
        }
        for vip in &self.vips {
            if !is_unicast(vip) || vip.is_loopback() {
                return bad(format!("VIP {vip}: not a unicast address"));
            }
        }
        match self.method {
            Method::Dr | Method::Tun(_) if self.vips.is_empty() => {
                bad(format!("{} needs at least one VIP", self.method))
            }
            Method::Tun(Tunnel::Gue { port: 0 }) => bad("the GUE port cannot be 0".into()),
            Method::Nat => {
                let Some(director) = self.director else {
                    return bad("nat needs the director's address".into());
                };
                if !is_unicast(&director) {
                    return bad(format!("director {director}: not a unicast address"));
                }
                match self.clients.iter().find(|n| n.addr.is_ipv4() != director.is_ipv4()) {
                    Some(n) => bad(format!("client network {n} and director {director} differ in family")),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    /// The VIPs without repeats, in the order given.
    pub(crate) fn unique_vips(&self) -> Vec<IpAddr> {
        let mut out: Vec<IpAddr> = Vec::new();
        for v in &self.vips {
            if !out.contains(v) {
                out.push(*v);
            }
        }
        out
    }

    /// NAT: the networks to route via the director.
    pub(crate) fn nat_networks(&self) -> Vec<Network> {
        match (self.clients.is_empty(), self.director) {
            (false, _) => self.clients.clone(),
            (true, Some(d)) => vec![Network::default_for(d.is_ipv6())],
            (true, None) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(r: &Request) -> String {
        match r.validate() {
            Err(Error::Invalid(m)) => m,
            other => panic!("{r:?}: {other:?}"),
        }
    }

    #[test]
    fn a_vip_or_director_that_is_not_unicast_is_refused() {
        for vip in ["0.0.0.0", "224.0.0.1", "255.255.255.255", "127.0.0.1", "::", "ff02::1", "::1", "::ffff:192.0.2.1"]
        {
            for method in [Method::Dr, Method::Tun(Tunnel::Ipip), Method::Nat] {
                let mut r = Request::new(method).vip(vip.parse().unwrap());
                if method == Method::Nat {
                    r = r.director("192.0.2.254".parse().unwrap());
                }
                assert_eq!(refused(&r), format!("VIP {vip}: not a unicast address"), "{method}");
            }
        }
        for director in ["0.0.0.0", "224.0.0.1", "255.255.255.255", "::ffff:192.0.2.254"] {
            let r = Request::new(Method::Nat).director(director.parse().unwrap());
            assert_eq!(refused(&r), format!("director {director}: not a unicast address"));
        }
        for vip in ["192.0.2.10", "2001:db8::10", "10.255.255.255"] {
            Request::new(Method::Dr).vip(vip.parse().unwrap()).validate().unwrap();
        }
    }
}
