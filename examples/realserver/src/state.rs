//! What this host has now, read in one go: links, addresses, the ARP and rp_filter
//! settings, tunnel modules, GUE ports and (for NAT) routes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::Error;
use crate::error::Result;
use crate::fou::{Fou, FouPort};
use crate::nft::{self, Ruleset};
use crate::rtnl::{Addr, Link, Route, Rtnl};
use crate::sysctl;
use crate::{ArpCure, Method, Request, Tunnel};

/// Modules whose presence `check` looks at (in /sys/module; loading them needs no shell).
pub(crate) const MODULES: [&str; 5] = ["ipip", "ip_gre", "ip6_tunnel", "ip6_gre", "fou"];

/// The state of one network namespace, as far as a real server cares.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    pub links: Vec<Link>,
    pub addrs: Vec<Addr>,
    /// Sysctl key -> value, for `all` and every link (IPv4 settings).
    pub sysctls: BTreeMap<String, String>,
    /// Loaded modules among [`MODULES`].
    pub modules: BTreeSet<String>,
    /// GUE receive ports (only read for GUE, and only when `fou` is loaded).
    pub fou: Vec<FouPort>,
    /// Main-table routes of the director's family (NAT only).
    pub routes: Vec<Route>,
    /// The nftables rules (DR and TUN; `None` when `nft` is not installed, or, for the
    /// sysctl cure, cannot be read).
    pub nft: Option<Ruleset>,
}

impl Snapshot {
    /// Reads everything `req` needs, in the calling thread's namespace.
    pub fn gather(rtnl: &mut Rtnl, req: &Request) -> Result<Snapshot> {
        let mut s = Snapshot { links: rtnl.links()?, addrs: rtnl.addresses()?, ..Snapshot::default() };
        let scopes = std::iter::once("all").chain(s.links.iter().map(|l| l.name.as_str()));
        let mut sysctls = BTreeMap::new();
        for scope in scopes {
            for knob in sysctl::KNOBS {
                let key = sysctl::key(scope, knob);
                if let Some(v) = sysctl::read(&key)? {
                    sysctls.insert(key, v);
                }
            }
        }
        s.sysctls = sysctls;
        s.modules =
            MODULES.iter().filter(|m| Path::new("/sys/module").join(m).exists()).map(|m| m.to_string()).collect();
        if let Method::Tun(Tunnel::Gue { .. }) = req.method {
            if s.modules.contains("fou") {
                s.fou = Fou::open()?.ports()?;
            }
        }
        if let (Method::Nat, Some(d)) = (req.method, req.director) {
            s.routes = rtnl.routes(d.is_ipv6())?;
        }
        if req.method != Method::Nat {
            s.nft = match (nft::list(), req.arp) {
                (Ok(r), ArpCure::Sysctl) => r,
                (Err(_), ArpCure::Sysctl) => None,
                (Ok(Some(r)), _) => Some(r),
                (Ok(None), cure) => {
                    let reason = "the nft program is not installed (Debian package nftables)".into();
                    return Err(Error::Nft { op: format!("the {cure} cure"), reason });
                }
                (Err(e), _) => return Err(e),
            };
        }
        Ok(s)
    }

    /// Links and loaded modules only (enough to undo).
    pub fn basic(rtnl: &mut Rtnl) -> Result<Snapshot> {
        let modules =
            MODULES.iter().filter(|m| Path::new("/sys/module").join(m).exists()).map(|m| m.to_string()).collect();
        Ok(Snapshot { links: rtnl.links()?, modules, ..Snapshot::default() })
    }

    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    pub fn link_by_index(&self, index: u32) -> Option<&Link> {
        self.links.iter().find(|l| l.index == index)
    }

    /// A sysctl's value as a number (missing or unreadable: 0, the kernel's default).
    pub fn value(&self, scope: &str, knob: &str) -> i64 {
        self.sysctls.get(&sysctl::key(scope, knob)).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// A sysctl's text as read (for recording), `0` when missing.
    pub fn text(&self, scope: &str, knob: &str) -> String {
        self.sysctls.get(&sysctl::key(scope, knob)).cloned().unwrap_or_else(|| "0".into())
    }
}
