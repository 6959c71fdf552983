//! Destinations (real servers) and how packets are forwarded to them.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use super::{check_destination_address, names, Family, ServiceId};
use crate::error::InvalidInput;

bitflags::bitflags! {
    /// Tunnel encapsulation flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`). No bit set means no checksum.
    /// Bits this library does not name are kept.
    ///
    /// ```
    /// use ipvs::TunnelFlags;
    /// assert_eq!(TunnelFlags::CSUM.bits(), 1);
    /// assert_eq!(TunnelFlags::REMCSUM.bits(), 2);
    /// assert_eq!(TunnelFlags::CSUM.checksum_name(), "csum");
    /// assert_eq!(TunnelFlags::from_checksum_name("nocsum"), Some(TunnelFlags::empty()));
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct TunnelFlags: u16 {
        /// Outer UDP/GRE checksum.
        const CSUM = 0x1;
        /// Remote checksum offload (GUE only).
        const REMCSUM = 0x2;
        const _ = !0;
    }
}

impl TunnelFlags {
    /// The checksum mode's name: `nocsum`, `csum` or `remcsum` (remote offload wins when
    /// both bits are set, as ipvsadm reads them).
    pub fn checksum_name(self) -> &'static str {
        // The table goes from no checksum to the strongest mode; the last one set wins.
        names::TUNNEL_CHECKSUMS.iter().rev().find(|(f, _)| self.contains(*f)).map_or("nocsum", |(_, n)| n)
    }

    /// The flags of a checksum mode name.
    pub fn from_checksum_name(name: &str) -> Option<TunnelFlags> {
        names::TUNNEL_CHECKSUMS.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }
}

/// The encapsulation of a tunnelled destination.
///
/// ```
/// use ipvs::{Tunnel, TunnelFlags};
/// let gue = Tunnel::Gue { port: 6080, flags: TunnelFlags::CSUM };
/// assert_eq!(gue.kind(), 1);
/// assert_eq!(gue.kind_name(), "gue");
/// assert_eq!(gue.to_string(), "gue port 6080 csum");
/// assert_eq!(Tunnel::from_parts(2, 0, TunnelFlags::CSUM), Tunnel::Gre { flags: TunnelFlags::CSUM });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Tunnel {
    /// IP-in-IP (the default).
    #[default]
    Ipip,
    /// Generic UDP Encapsulation to a UDP port.
    Gue {
        /// Destination UDP port (non-zero).
        port: u16,
        /// Checksum mode.
        flags: TunnelFlags,
    },
    /// GRE.
    Gre {
        /// Checksum mode.
        flags: TunnelFlags,
    },
    /// A tunnel type this library does not know, kept as found.
    Other {
        /// `IP_VS_CONN_F_TUNNEL_TYPE_*` value.
        kind: u8,
        /// Tunnel port.
        port: u16,
        /// Tunnel flags.
        flags: TunnelFlags,
    },
}

impl Tunnel {
    /// The kernel's tunnel type number (IPIP 0, GUE 1, GRE 2).
    pub fn kind(&self) -> u8 {
        match self {
            Tunnel::Ipip => 0,
            Tunnel::Gue { .. } => 1,
            Tunnel::Gre { .. } => 2,
            Tunnel::Other { kind, .. } => *kind,
        }
    }

    /// The kernel's tunnel type number of a type name (`ipip` 0, `gue` 1, `gre` 2).
    ///
    /// ```
    /// use ipvs::Tunnel;
    /// assert_eq!(Tunnel::kind_of_name("gre"), Some(2));
    /// assert_eq!(Tunnel::kind_of_name("vxlan"), None);
    /// ```
    pub fn kind_of_name(name: &str) -> Option<u8> {
        names::TUNNEL_TYPES.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// The name of a kernel tunnel type number (`other` for an unknown one).
    pub fn name_of_kind(kind: u8) -> &'static str {
        names::TUNNEL_TYPES.iter().find(|(k, _)| *k == kind).map_or("other", |(_, n)| n)
    }

    /// The type's name: `ipip`, `gue`, `gre` (`other` for an unknown type).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Tunnel::Other { .. } => "other",
            known => Tunnel::name_of_kind(known.kind()),
        }
    }

    /// The tunnel port (GUE), else 0.
    pub fn port(&self) -> u16 {
        match self {
            Tunnel::Gue { port, .. } | Tunnel::Other { port, .. } => *port,
            _ => 0,
        }
    }

    /// The encapsulation flags.
    pub fn flags(&self) -> TunnelFlags {
        match self {
            Tunnel::Ipip => TunnelFlags::empty(),
            Tunnel::Gue { flags, .. } | Tunnel::Gre { flags } | Tunnel::Other { flags, .. } => *flags,
        }
    }

    /// A tunnel of a named type (`ipip`, `gue`, `gre`) with a port and flags. Fields the type
    /// does not have must be empty: an IPIP tunnel has no port and no flags, GRE no port.
    pub fn from_name(name: &str, port: u16, flags: TunnelFlags) -> Result<Tunnel, InvalidInput> {
        let kind = Tunnel::kind_of_name(name)
            .ok_or_else(|| InvalidInput::new("tunnel_type", name, "expected ipip, gue or gre"))?;
        let t = match Tunnel::from_parts(kind, port, flags) {
            Tunnel::Other { .. } => Tunnel::from_parts(kind, 0, TunnelFlags::empty()),
            t => t,
        };
        if t.port() != port {
            return Err(InvalidInput::new("tunnel_port", port, format!("a {name} tunnel has no port")));
        }
        if t.flags() != flags {
            return Err(InvalidInput::new(
                "tunnel_checksum",
                flags.checksum_name(),
                format!("a {name} tunnel has no checksum option"),
            ));
        }
        Ok(t)
    }

    /// Rebuilds a tunnel from the kernel's type, port and flags.
    pub fn from_parts(kind: u8, port: u16, flags: TunnelFlags) -> Self {
        match kind {
            0 if port == 0 && flags.is_empty() => Tunnel::Ipip,
            1 => Tunnel::Gue { port, flags },
            2 if port == 0 => Tunnel::Gre { flags },
            kind => Tunnel::Other { kind, port, flags },
        }
    }

    fn validate(&self) -> Result<(), InvalidInput> {
        let flags = self.flags();
        if flags.contains(TunnelFlags::CSUM | TunnelFlags::REMCSUM) {
            return Err(InvalidInput::new("tunnel_checksum", "csum|remcsum", "choose one checksum mode"));
        }
        match self {
            Tunnel::Gue { port: 0, .. } => {
                Err(InvalidInput::new("tunnel_port", 0, "a GUE tunnel needs a non-zero port"))
            }
            Tunnel::Gre { flags } if flags.contains(TunnelFlags::REMCSUM) => {
                Err(InvalidInput::new("tunnel_checksum", "remcsum", "remote checksum offload is only for GUE tunnels"))
            }
            Tunnel::Other { kind, .. } => Err(InvalidInput::new("tunnel_type", kind, "unknown tunnel type")),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Tunnel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tunnel::Ipip => f.write_str("ipip"),
            Tunnel::Gue { port, flags } => write!(f, "gue port {port} {}", flags.checksum_name()),
            Tunnel::Gre { flags } => write!(f, "gre {}", flags.checksum_name()),
            Tunnel::Other { kind, port, flags } => write!(f, "type {kind} port {port} flags {:#x}", flags.bits()),
        }
    }
}

/// How the director forwards packets to a destination. The default is direct routing.
///
/// ```
/// use ipvs::{Forward, Tunnel};
/// assert_eq!(Forward::Masquerade.method(), 0);
/// assert_eq!(Forward::Tunnel(Tunnel::Ipip).method(), 2);
/// assert_eq!(Forward::DirectRoute.to_string(), "dr");
/// assert_eq!(Forward::Masquerade.label(), Some("Masq"));
/// assert_eq!("nat".parse::<Forward>().unwrap(), Forward::Masquerade);
/// assert_eq!(Forward::default(), Forward::DirectRoute);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Forward {
    /// NAT (masquerading): the director rewrites the destination address.
    Masquerade,
    /// Local node: the director itself serves.
    Local,
    /// Tunnelling, with its encapsulation.
    Tunnel(Tunnel),
    /// Direct routing (gatewaying): the frame is sent to the real server's MAC.
    #[default]
    DirectRoute,
    /// Bypass.
    Bypass,
    /// A forwarding method number this library does not know, kept as found.
    Other(u32),
}

impl Forward {
    /// The kernel's `IP_VS_CONN_F_*` forwarding method number.
    pub fn method(&self) -> u32 {
        match self {
            Forward::Masquerade => 0,
            Forward::Local => 1,
            Forward::Tunnel(_) => 2,
            Forward::DirectRoute => 3,
            Forward::Bypass => 4,
            Forward::Other(n) => *n,
        }
    }
    // The method numbers live in `method` and `from_method` only; the names table is
    // indexed by them (a test checks each variant finds its own row).

    /// The forwarding method for a kernel number and tunnel settings.
    pub fn from_method(method: u32, tunnel: Tunnel) -> Self {
        match method {
            0 => Forward::Masquerade,
            1 => Forward::Local,
            2 => Forward::Tunnel(tunnel),
            3 => Forward::DirectRoute,
            4 => Forward::Bypass,
            n => Forward::Other(n),
        }
    }

    fn row(&self) -> Option<&'static names::ForwardRow> {
        usize::try_from(self.method()).ok().and_then(|m| names::FORWARDS.get(m))
    }

    /// The name used in files and Python: `nat`, `dr`, `tunnel`, `local`, `bypass`
    /// (`method-N` for an unknown method).
    pub fn name(&self) -> String {
        self.row().map_or_else(|| format!("method-{}", self.method()), |r| r.name.to_owned())
    }

    /// ipvsadm's label in listings: `Masq`, `Route`, `Tunnel`, `Local`, `Bypass`.
    pub fn label(&self) -> Option<&'static str> {
        self.row().map(|r| r.label)
    }

    /// The ipvsadm rule-format switch: `-m`, `-g`, `-i` (None where it has none).
    pub fn rule_switch(&self) -> Option<&'static str> {
        self.row().and_then(|r| r.rule)
    }

    /// The tunnel settings, if tunnelling.
    pub fn tunnel(&self) -> Option<Tunnel> {
        match self {
            Forward::Tunnel(t) => Some(*t),
            _ => None,
        }
    }
}

impl fmt::Display for Forward {
    /// The name: `nat`, `dr`, `tunnel`, `local`, `bypass`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Forward {
    type Err = InvalidInput;
    /// A method by name (`nat`, `dr`, `tunnel`, `local`, `bypass`; also ipvsadm's labels in
    /// any case). `tunnel` is an IPIP tunnel.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let method = names::FORWARDS
            .iter()
            .position(|r| r.name == s || r.label.eq_ignore_ascii_case(s))
            .ok_or_else(|| InvalidInput::new("forward", s, "expected nat, dr, tunnel, local or bypass"))?;
        Ok(Forward::from_method(method as u32, Tunnel::Ipip))
    }
}

/// A destination (real server) of a virtual service, as configured. What the kernel reports
/// about it (connection counts, statistics) is a
/// [`DestinationStatus`](super::DestinationStatus).
///
/// ```
/// use ipvs::{Destination, Forward};
/// let d = Destination::new("198.51.100.1:8080".parse().unwrap(), Forward::DirectRoute)
///     .with_weight(3)
///     .with_thresholds(100, 10);
/// assert_eq!(d.socket_addr().to_string(), "198.51.100.1:8080");
/// d.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    /// The real server's address; it may differ in family from the service only when tunnelling.
    pub addr: IpAddr,
    /// The real server's port.
    pub port: u16,
    /// The forwarding method.
    pub forward: Forward,
    /// Scheduling weight, 0..=[`Destination::MAX_WEIGHT`]; 0 takes the server out of new
    /// scheduling.
    pub weight: u32,
    /// Upper connection threshold (0: none).
    pub upper_threshold: u32,
    /// Lower connection threshold.
    pub lower_threshold: u32,
}

impl Destination {
    /// The largest weight: the kernel reads it as a signed int.
    pub const MAX_WEIGHT: u32 = i32::MAX as u32;
    /// The weight of a new destination.
    pub const DEFAULT_WEIGHT: u32 = 1;

    /// A destination at `addr` with weight 1 and no thresholds.
    pub fn new(addr: SocketAddr, forward: Forward) -> Self {
        Destination {
            addr: addr.ip(),
            port: addr.port(),
            forward,
            weight: Self::DEFAULT_WEIGHT,
            upper_threshold: 0,
            lower_threshold: 0,
        }
    }

    /// Sets the weight.
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the upper and lower connection thresholds.
    pub fn with_thresholds(mut self, upper: u32, lower: u32) -> Self {
        self.upper_threshold = upper;
        self.lower_threshold = lower;
        self
    }

    /// The address and port.
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }

    /// The destination's address family.
    pub fn family(&self) -> Family {
        Family::of(&self.addr)
    }

    /// Checks what the kernel would reject of the destination alone.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if self.weight > Self::MAX_WEIGHT {
            return Err(InvalidInput::new("weight", self.weight, format!("must be in 0..={}", Self::MAX_WEIGHT)));
        }
        if self.lower_threshold > self.upper_threshold {
            return Err(InvalidInput::new(
                "lower_threshold",
                self.lower_threshold,
                format!("must not exceed the upper threshold ({})", self.upper_threshold),
            ));
        }
        match self.forward {
            Forward::Tunnel(t) => t.validate()?,
            Forward::Other(n) => {
                return Err(InvalidInput::new("forward", n, "unknown forwarding method"));
            }
            _ => {}
        }
        check_destination_address(&self.addr)
    }

    /// Checks the destination, and that it suits a service with identity `service`.
    ///
    /// ```
    /// use ipvs::{Destination, Forward, ServiceId, Tunnel};
    /// let svc = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// let nat6 = Destination::new("[2001:db8::5]:80".parse().unwrap(), Forward::Masquerade);
    /// assert_eq!(nat6.validate_for(&svc).unwrap_err().field, "address");
    /// let tun6 = Destination { forward: Forward::Tunnel(Tunnel::Ipip), ..nat6 };
    /// tun6.validate_for(&svc).unwrap();
    /// ```
    pub fn validate_for(&self, service: &ServiceId) -> Result<(), InvalidInput> {
        self.validate()?;
        if self.family() != service.family() && !matches!(self.forward, Forward::Tunnel(_)) {
            return Err(InvalidInput::new(
                "address",
                self.addr,
                format!("an {} destination of an {} service needs tunnel forwarding", self.family(), service.family()),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_finds_its_own_row_of_the_names_table() {
        let all =
            [Forward::Masquerade, Forward::Local, Forward::Tunnel(Tunnel::Ipip), Forward::DirectRoute, Forward::Bypass];
        assert_eq!(all.len(), names::FORWARDS.len());
        for f in all {
            assert_eq!(Forward::from_method(f.method(), Tunnel::Ipip), f);
            assert_eq!(f.name().parse::<Forward>().unwrap(), f, "{}", f.name());
        }
        for t in [
            Tunnel::Ipip,
            Tunnel::Gue { port: 1, flags: TunnelFlags::CSUM },
            Tunnel::Gre { flags: TunnelFlags::REMCSUM },
        ] {
            assert_eq!(Tunnel::kind_of_name(t.kind_name()), Some(t.kind()));
            assert_eq!(Tunnel::from_parts(t.kind(), t.port(), t.flags()), t);
        }
        for (f, n) in [(TunnelFlags::empty(), "nocsum"), (TunnelFlags::CSUM, "csum"), (TunnelFlags::REMCSUM, "remcsum")]
        {
            assert_eq!((f.checksum_name(), TunnelFlags::from_checksum_name(n)), (n, Some(f)));
        }
    }
}
