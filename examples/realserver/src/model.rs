//! What `check` finds, what `prepare` plans and changes, what `undo` puts back.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::Network;

/// The kind of a [`Problem`], for machines (`--json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The interface named with `dev` does not exist.
    InterfaceMissing,
    /// A VIP is not configured anywhere on this host.
    VipMissing,
    /// A VIP is configured where it is announced (an ARP interface) or with a prefix wider
    /// than a host.
    VipMisplaced,
    /// A device that must be up (lo, the tunnel device, the VIP's device) is down.
    LinkDown,
    /// The effective `arp_ignore` of an interface lets it answer ARP for the VIPs.
    ArpIgnore,
    /// The effective `arp_announce` of an interface lets the VIPs leak into ARP requests.
    ArpAnnounce,
    /// Strict reverse-path filtering drops the decapsulated packets.
    RpFilter,
    /// The kernel module of the tunnel device is not loaded.
    TunnelModuleMissing,
    /// The tunnel device that receives the director's packets does not exist.
    TunnelDeviceMissing,
    /// No GUE receive port for the director's `--tun-port`.
    GuePortMissing,
    /// NAT: replies to clients are not routed through the director.
    NoRouteViaDirector,
    /// The `arptables` cure: no rule drops ARP requests for a VIP or rewrites it as sender
    /// address (and the sysctls do not cure it either).
    ArpRulesMissing,
    /// The `redirect` cure: a VIP is configured on the host (it must not be).
    VipPresent,
    /// The `redirect` cure: no nat rule redirects a VIP and service port to the host.
    RedirectMissing,
}

/// One reason why this host is not ready to be a real server, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// For machines.
    pub kind: ProblemKind,
    /// What is wrong, in words.
    pub what: String,
    /// Where: an interface, an address, a sysctl, a route.
    #[serde(rename = "where")]
    pub place: String,
    /// How to fix it by hand (`prepare` does the same).
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}\n  fix: {}", self.place, self.what, self.fix)
    }
}

/// One step `prepare` takes; a [`Plan`] lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// Create a catch-all tunnel device (loads its module if needed).
    CreateLink {
        /// Device name (`tunl0`, ...).
        name: String,
        /// rtnetlink kind (`ipip`, ...).
        kind: String,
        /// The module that provides it.
        module: String,
    },
    /// Bring a device up.
    SetUp {
        /// Device name.
        name: String,
    },
    /// Add an address to a device.
    AddAddress {
        /// Device name.
        dev: String,
        /// The address.
        address: IpAddr,
        /// Its prefix length.
        prefix_len: u8,
    },
    /// Remove an address from a device.
    RemoveAddress {
        /// Device name.
        dev: String,
        /// The address.
        address: IpAddr,
        /// Its prefix length.
        prefix_len: u8,
    },
    /// Write a sysctl.
    Sysctl {
        /// Path under /proc/sys.
        key: String,
        /// The value now.
        before: String,
        /// The value to write.
        after: String,
    },
    /// Open a GUE receive port.
    AddGuePort {
        /// UDP port.
        port: u16,
        /// IPv6 (else IPv4).
        ipv6: bool,
    },
    /// Route a network via the director (replacing the route to the same network, if any).
    Route {
        /// The network.
        network: Network,
        /// The director.
        via: IpAddr,
        /// The route replaced, as the kernel listed it (hex), if any.
        replacing: Option<String>,
    },
    /// Load our nftables table of a family (replacing our table there, if any).
    NftTable {
        /// `arp`, `ip` or `ip6`.
        family: String,
        /// The table, as `nft -j -f` commands.
        table: String,
        /// Our table there now (as `nft -j list` shows it), if any.
        replacing: Option<String>,
    },
}

/// What `prepare` would do now, as far as it can see before doing it (settings of a device
/// that does not exist yet are planned once it exists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One change `prepare` made, with what was there before, so that `undo` can put it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// A device was created (undo deletes it).
    LinkCreated {
        /// Device name.
        name: String,
    },
    /// A kernel module was loaded (by the kernel, on creating its device). Undo leaves it
    /// loaded: other namespaces may use it.
    ModuleLoaded {
        /// Module name.
        name: String,
    },
    /// A device was brought up (undo brings it down).
    LinkUp {
        /// Device name.
        name: String,
    },
    /// An address was added (undo removes it).
    AddressAdded {
        /// Device name.
        dev: String,
        /// The address.
        address: IpAddr,
        /// Its prefix length.
        prefix_len: u8,
    },
    /// An address was removed (undo adds it back).
    AddressRemoved {
        /// Device name.
        dev: String,
        /// The address.
        address: IpAddr,
        /// Its prefix length.
        prefix_len: u8,
    },
    /// A sysctl was written (undo writes `before` back).
    Sysctl {
        /// Path under /proc/sys.
        key: String,
        /// The value before.
        before: String,
        /// The value written.
        after: String,
    },
    /// A GUE receive port was opened (undo closes it).
    GuePortAdded {
        /// UDP port.
        port: u16,
        /// IPv6 (else IPv4).
        ipv6: bool,
    },
    /// A route via the director was added (undo deletes it).
    RouteAdded {
        /// The network.
        network: Network,
        /// The director.
        via: IpAddr,
    },
    /// A route via the director replaced another (undo deletes it and puts the old back).
    RouteReplaced {
        /// The network.
        network: Network,
        /// The director.
        via: IpAddr,
        /// The old route as the kernel listed it, hex-encoded netlink.
        before: String,
    },
    /// Our nftables table of a family was added (undo deletes it).
    NftTableAdded {
        /// `arp`, `ip` or `ip6`.
        family: String,
    },
    /// Our nftables table of a family was replaced (undo puts the old one back).
    NftTableReplaced {
        /// `arp`, `ip` or `ip6`.
        family: String,
        /// The old table, as `nft -j list` showed it.
        before: String,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateLink { name, kind, module } => write!(f, "create {name} (type {kind}, module {module})"),
            Step::SetUp { name } => write!(f, "set {name} up"),
            Step::AddAddress { dev, address, prefix_len } => write!(f, "add {address}/{prefix_len} to {dev}"),
            Step::RemoveAddress { dev, address, prefix_len } => write!(f, "remove {address}/{prefix_len} from {dev}"),
            Step::Sysctl { key, before, after } => write!(f, "{}: {before} -> {after}", crate::sysctl::dotted(key)),
            Step::AddGuePort { port, ipv6 } => write!(f, "open GUE port {port} ({})", v(*ipv6)),
            Step::Route { network, via, replacing: None } => write!(f, "route {network} via {via}"),
            Step::Route { network, via, replacing: Some(_) } => {
                write!(f, "route {network} via {via} (replacing the route there)")
            }
            Step::NftTable { family, replacing: None, .. } => {
                write!(f, "add nftables table {family} {}", crate::nft::TABLE)
            }
            Step::NftTable { family, replacing: Some(_), .. } => {
                write!(f, "replace nftables table {family} {}", crate::nft::TABLE)
            }
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::LinkCreated { name } => write!(f, "created {name}"),
            Change::ModuleLoaded { name } => write!(f, "loaded module {name}"),
            Change::LinkUp { name } => write!(f, "set {name} up"),
            Change::AddressAdded { dev, address, prefix_len } => write!(f, "added {address}/{prefix_len} to {dev}"),
            Change::AddressRemoved { dev, address, prefix_len } => {
                write!(f, "removed {address}/{prefix_len} from {dev}")
            }
            Change::Sysctl { key, before, after } => write!(f, "{}: {before} -> {after}", crate::sysctl::dotted(key)),
            Change::GuePortAdded { port, ipv6 } => write!(f, "opened GUE port {port} ({})", v(*ipv6)),
            Change::RouteAdded { network, via } => write!(f, "added route {network} via {via}"),
            Change::RouteReplaced { network, via, .. } => write!(f, "replaced the route to {network}: now via {via}"),
            Change::NftTableAdded { family } => write!(f, "added nftables table {family} {}", crate::nft::TABLE),
            Change::NftTableReplaced { family, .. } => {
                write!(f, "replaced nftables table {family} {}", crate::nft::TABLE)
            }
        }
    }
}

impl Change {
    /// What putting this change back does, in words (`undo` prints this).
    pub fn undo_text(&self) -> String {
        match self {
            Change::LinkCreated { name } => format!("deleted {name}"),
            Change::ModuleLoaded { name } => format!("left module {name} loaded"),
            Change::LinkUp { name } => format!("set {name} down"),
            Change::AddressAdded { dev, address, prefix_len } => format!("removed {address}/{prefix_len} from {dev}"),
            Change::AddressRemoved { dev, address, prefix_len } => format!("added {address}/{prefix_len} to {dev}"),
            Change::Sysctl { key, before, after } => format!("{}: {after} -> {before}", crate::sysctl::dotted(key)),
            Change::GuePortAdded { port, ipv6 } => format!("closed GUE port {port} ({})", v(*ipv6)),
            Change::RouteAdded { network, via } => format!("deleted route {network} via {via}"),
            Change::RouteReplaced { network, .. } => format!("put back the previous route to {network}"),
            Change::NftTableAdded { family } => format!("deleted nftables table {family} {}", crate::nft::TABLE),
            Change::NftTableReplaced { family, .. } => {
                format!("put back the previous nftables table {family} {}", crate::nft::TABLE)
            }
        }
    }
}

fn v(ipv6: bool) -> &'static str {
    if ipv6 {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// What `prepare` changed or `undo` put back, and anything worth telling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The changes (for `undo`: the changes put back, newest first), in the order handled.
    pub changes: Vec<Change>,
    /// Remarks (e.g. a module left loaded, something already undone by hand).
    pub notes: Vec<String>,
    /// Whether this reports an `undo` (the changes were put back).
    pub undone: bool,
}

impl fmt::Display for Report {
    /// One line per change (for `undo`: what putting it back did), then one per note;
    /// nothing when nothing changed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            if self.undone {
                writeln!(f, "{}", c.undo_text())?;
            } else {
                writeln!(f, "{c}")?;
            }
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from lower- or upper-case hex; `None` for anything else.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}
