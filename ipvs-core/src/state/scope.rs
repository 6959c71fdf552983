//! What a plan may touch: everything, only the services a desired table names, or the
//! services some selectors pick. Nothing outside the scope is ever written.

use std::fmt;
use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::error::InvalidInput;
use crate::model::{Protocol, ServiceId};
use crate::state::Table;

/// Picks services by address prefix, protocol, port range and firewall-mark range; a service
/// is picked when it matches every criterion given (a firewall-mark service has no address,
/// protocol or port; an address service no mark).
///
/// Written as comma-separated criteria: `192.0.2.0/24`, `2001:db8::/32`, `tcp`, `udp`,
/// `sctp`, `port=80`, `port=8000-8999`, `fwmark=7`, `fwmark=100-199`.
///
/// ```
/// use ipvs::state::Selector;
/// use ipvs::{Family, ServiceId};
/// let s: Selector = "tcp,192.0.2.0/24,port=80-443".parse()?;
/// assert!(s.matches(&ServiceId::tcp("192.0.2.7".parse().unwrap(), 443)));
/// assert!(!s.matches(&ServiceId::udp("192.0.2.7".parse().unwrap(), 443)));
/// assert!(!s.matches(&ServiceId::tcp("198.51.100.7".parse().unwrap(), 443)));
/// assert!(!s.matches(&ServiceId::fwmark(7, Family::Inet)));
/// assert_eq!(s.to_string(), "192.0.2.0/24,tcp,port=80-443");
/// # Ok::<(), ipvs::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// Addresses within this prefix (address and length).
    pub prefix: Option<(IpAddr, u8)>,
    /// This protocol.
    pub protocol: Option<Protocol>,
    /// Ports in this range.
    pub ports: Option<RangeInclusive<u16>>,
    /// Firewall marks in this range.
    pub fwmarks: Option<RangeInclusive<u32>>,
}

fn in_prefix(addr: &IpAddr, net: &IpAddr, len: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            u32::from(*a) & mask == u32::from(*n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            u128::from(*a) & mask == u128::from(*n) & mask
        }
        _ => false,
    }
}

impl Selector {
    /// Whether the selector picks this service.
    pub fn matches(&self, id: &ServiceId) -> bool {
        match id {
            ServiceId::Inet { protocol, addr, port } => {
                self.fwmarks.is_none()
                    && self.prefix.is_none_or(|(net, len)| in_prefix(addr, &net, len))
                    && self.protocol.is_none_or(|p| p == *protocol)
                    && self.ports.as_ref().is_none_or(|r| r.contains(port))
            }
            ServiceId::Fwmark { mark, .. } => {
                self.prefix.is_none()
                    && self.protocol.is_none()
                    && self.ports.is_none()
                    && self.fwmarks.as_ref().is_none_or(|r| r.contains(mark))
            }
        }
    }
}

fn range<T: FromStr + PartialOrd + Copy>(field: &'static str, v: &str) -> Result<RangeInclusive<T>, InvalidInput> {
    let bad = || InvalidInput::new(field, v, "expected a number or a range FROM-TO");
    let (a, b) = v.split_once('-').unwrap_or((v, v));
    let (a, b): (T, T) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if a > b {
        return Err(bad());
    }
    Ok(a..=b)
}

impl Selector {
    /// The selector of one service: its protocol, address and port, or its mark (a mark
    /// selector takes both families).
    ///
    /// ```
    /// use ipvs::state::{Scope, Selector};
    /// use ipvs::ServiceId;
    /// let web = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// let scope = Scope::Selected(vec![Selector::service(&web)]);
    /// assert!(scope.may_write(&web));
    /// assert!(!scope.may_write(&ServiceId::tcp("192.0.2.1".parse().unwrap(), 81)));
    /// ```
    pub fn service(id: &ServiceId) -> Selector {
        match *id {
            ServiceId::Inet { protocol, addr, port } => Selector {
                prefix: Some((addr, if addr.is_ipv4() { 32 } else { 128 })),
                protocol: Some(protocol),
                ports: Some(port..=port),
                fwmarks: None,
            },
            ServiceId::Fwmark { mark, .. } => Selector { fwmarks: Some(mark..=mark), ..Selector::default() },
        }
    }
}

impl FromStr for Selector {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Selector, InvalidInput> {
        let mut sel = Selector::default();
        for part in s.split(',').map(str::trim) {
            if let Some(v) = part.strip_prefix("port=").or_else(|| part.strip_prefix("ports=")) {
                sel.ports = Some(range("ports", v)?);
            } else if let Some(v) = part.strip_prefix("fwmark=") {
                sel.fwmarks = Some(range("fwmark", v)?);
            } else if let Ok(p) = part.parse::<Protocol>() {
                sel.protocol = Some(p);
            } else {
                let (net, len) = part.split_once('/').unwrap_or((part, ""));
                let net: IpAddr = net.parse().map_err(|_| {
                    InvalidInput::new("scope", part, "expected a prefix, tcp/udp/sctp, port=, or fwmark=")
                })?;
                let max = if net.is_ipv4() { 32 } else { 128 };
                let len = if len.is_empty() {
                    max
                } else {
                    len.parse::<u8>()
                        .ok()
                        .filter(|l| *l <= max)
                        .ok_or_else(|| InvalidInput::new("scope", part, format!("a prefix length is 0..={max}")))?
                };
                sel.prefix = Some((net, len));
            }
        }
        Ok(sel)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some((net, len)) = self.prefix {
            parts.push(format!("{net}/{len}"));
        }
        if let Some(p) = self.protocol {
            parts.push(p.name());
        }
        if let Some(r) = &self.ports {
            parts.push(if r.start() == r.end() {
                format!("port={}", r.start())
            } else {
                format!("port={}-{}", r.start(), r.end())
            });
        }
        if let Some(r) = &self.fwmarks {
            parts.push(if r.start() == r.end() {
                format!("fwmark={}", r.start())
            } else {
                format!("fwmark={}-{}", r.start(), r.end())
            });
        }
        if parts.is_empty() {
            parts.push("all".into());
        }
        f.write_str(&parts.join(","))
    }
}

/// What a plan may touch.
///
/// * [`Scope::Named`]: only the services the desired table names (the default of `ipvs
///   apply`): they are created or changed, nothing else is touched.
/// * [`Scope::All`]: every service; those the desired table does not name are removed.
/// * [`Scope::Selected`]: the services any of the selectors picks; those the desired table
///   does not name are removed. A desired service outside the selectors is an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scope {
    /// Only the services the desired table names.
    Named,
    /// Every service.
    All,
    /// The services the selectors pick.
    Selected(Vec<Selector>),
}

/// Selectors and prune that make no scope: a service the desired table names is outside the
/// selectors (and without prune only the named services could be written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service} is outside the scope ({scope})")]
pub struct OutsideScope {
    /// The desired service outside the selectors.
    pub service: ServiceId,
    /// The selectors' scope.
    pub scope: Scope,
}

impl Scope {
    /// The scope of a plan from selectors and prune, as the `ipvs` command reads `--scope`
    /// and `--prune` (and Python's `scope=`, `prune=`): with prune, the services in scope
    /// (every service without selectors) that `desired` does not name are removed; without,
    /// only the services `desired` names are touched, and with selectors they must all be
    /// among the selected.
    ///
    /// ```
    /// use ipvs::state::{Scope, Selector, Table};
    /// let desired = Table::from_rules("-A -t 192.0.2.1:80 -s rr\n")?;
    /// let tcp: Vec<Selector> = vec!["tcp".parse()?];
    /// assert_eq!(Scope::from_selectors(vec![], false, &desired)?, Scope::Named);
    /// assert_eq!(Scope::from_selectors(vec![], true, &desired)?, Scope::All);
    /// assert_eq!(Scope::from_selectors(tcp.clone(), true, &desired)?, Scope::Selected(tcp.clone()));
    /// assert_eq!(Scope::from_selectors(tcp, false, &desired)?, Scope::Named);
    /// let e = Scope::from_selectors(vec!["udp".parse()?], false, &desired).unwrap_err();
    /// assert_eq!(e.to_string(), "TCP 192.0.2.1:80 is outside the scope (the services matching udp)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_selectors(selectors: Vec<Selector>, prune: bool, desired: &Table) -> Result<Scope, OutsideScope> {
        Ok(match (prune, selectors.is_empty()) {
            (true, true) => Scope::All,
            (true, false) => Scope::Selected(selectors),
            (false, true) => Scope::Named,
            (false, false) => {
                // Without prune only the named services are touched; they must be in scope.
                let scope = Scope::Selected(selectors);
                if let Some(e) = desired.entries().find(|e| !scope.may_write(&e.service().id)) {
                    return Err(OutsideScope { service: e.service().id, scope });
                }
                Scope::Named
            }
        })
    }

    /// Whether a service the desired table does not name may be removed.
    pub fn may_remove(&self, id: &ServiceId) -> bool {
        match self {
            Scope::Named => false,
            Scope::All => true,
            Scope::Selected(s) => s.iter().any(|s| s.matches(id)),
        }
    }

    /// Whether a service the desired table names may be written.
    pub fn may_write(&self, id: &ServiceId) -> bool {
        match self {
            Scope::Named | Scope::All => true,
            Scope::Selected(s) => s.iter().any(|s| s.matches(id)),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Named => f.write_str("the services named"),
            Scope::All => f.write_str("every service"),
            Scope::Selected(s) => {
                let list: Vec<String> = s.iter().map(ToString::to_string).collect();
                write!(f, "the services matching {}", list.join(" or "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Family;

    #[test]
    fn selectors_read_and_match() {
        let s: Selector = "2001:db8::/32,udp".parse().unwrap();
        assert!(s.matches(&ServiceId::udp("2001:db8:1::5".parse().unwrap(), 53)));
        assert!(!s.matches(&ServiceId::udp("192.0.2.5".parse().unwrap(), 53)));
        let m: Selector = "fwmark=10-20".parse().unwrap();
        assert!(m.matches(&ServiceId::fwmark(15, Family::Inet6)));
        assert!(!m.matches(&ServiceId::fwmark(21, Family::Inet6)));
        assert!(!m.matches(&ServiceId::tcp("192.0.2.5".parse().unwrap(), 15)));
        let any: Selector = "0.0.0.0/0".parse().unwrap();
        assert!(any.matches(&ServiceId::tcp("203.0.113.9".parse().unwrap(), 1)));
        for bad in ["port=9-1", "192.0.2.0/33", "fwmark=x", "icmp", "port=70000"] {
            assert!(bad.parse::<Selector>().is_err(), "{bad}");
        }
        assert_eq!("192.0.2.1".parse::<Selector>().unwrap().to_string(), "192.0.2.1/32");
    }

    #[test]
    fn scopes_decide_what_may_be_written_and_removed() {
        let web = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
        let dns = ServiceId::udp("192.0.2.1".parse().unwrap(), 53);
        assert!(Scope::Named.may_write(&web) && !Scope::Named.may_remove(&web));
        assert!(Scope::All.may_remove(&dns));
        let tcp = Scope::Selected(vec!["tcp".parse().unwrap()]);
        assert!(tcp.may_remove(&web) && !tcp.may_remove(&dns) && !tcp.may_write(&dns));
    }
}
