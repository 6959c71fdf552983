//! The `arptables` and `redirect` ARP cures in `check` and `prepare` (the `sysctl` cure is
//! in [`crate::rules`]): what is missing, and the nftables tables that add it. Pure
//! functions of the request and the [`Snapshot`].

use std::net::{IpAddr, Ipv4Addr};

use crate::model::{Problem, ProblemKind, Step};
use crate::nft::{self, TABLE};
use crate::state::Snapshot;
use crate::{ArpCure, Method, Request};

/// The IPv4 VIPs (the ones ARP is about).
fn vips4(req: &Request) -> Vec<Ipv4Addr> {
    req.unique_vips()
        .into_iter()
        .filter_map(|v| match v {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        })
        .collect()
}

/// Whether nftables (or arptables-nft) rules cure the ARP problem of every IPv4 VIP: the
/// `arptables` cure is in place, whatever the request's cure.
pub(crate) fn arp_rules_cure(req: &Request, s: &Snapshot) -> bool {
    let v = vips4(req);
    !v.is_empty() && s.nft.as_ref().is_some_and(|r| v.iter().all(|vip| r.arp_cured(*vip)))
}

/// The three fixes, named in every ARP problem of the nftables cures.
const THREE_FIXES: &str = "or cure it otherwise: --arp sysctl (arp_ignore=1, arp_announce=2), \
                           --arp arptables (arp rules), --arp redirect (no VIP, nat redirect)";

/// The problems of the `arptables` and `redirect` cures (none for the `sysctl` one).
pub(crate) fn cure_problems(req: &Request, s: &Snapshot, sysctls_cure: bool, out: &mut Vec<Problem>) {
    match req.arp {
        ArpCure::Sysctl => {}
        ArpCure::Arptables => {
            if sysctls_cure || arp_rules_cure(req, s) {
                return;
            }
            let missing: Vec<String> = vips4(req)
                .into_iter()
                .filter(|v| !s.nft.as_ref().is_some_and(|r| r.arp_cured(*v)))
                .map(|v| v.to_string())
                .collect();
            out.push(Problem {
                kind: ProblemKind::ArpRulesMissing,
                place: format!("arp rules for {}", missing.join(", ")),
                what: "no arp rule drops ARP requests for the VIP and rewrites it as sender address, and the \
                       ARP sysctls do not cure it either: clients and routers may send VIP traffic straight \
                       here, past the director"
                    .into(),
                fix: format!(
                    "nft add table arp {TABLE}; an input rule 'arp daddr ip VIP drop' and an output rule \
                     'arp saddr ip VIP arp saddr ip set RIP' ({THREE_FIXES})"
                ),
            });
        }
        ArpCure::Redirect => redirect_problems(req, s, out),
    }
}

/// The `redirect` cure: no VIP on the host, a nat rule for each VIP and service port.
fn redirect_problems(req: &Request, s: &Snapshot, out: &mut Vec<Problem>) {
    for vip in req.unique_vips() {
        for a in s.addrs.iter().filter(|a| a.ip == vip) {
            let on = s.link_by_index(a.index).map_or("?".to_string(), |l| l.name.clone());
            out.push(Problem {
                kind: ProblemKind::VipPresent,
                place: format!("{vip}/{} on {on}", a.prefix_len),
                what: "with the redirect cure the VIP must not be on this host (it would be answered for, \
                       or bypass the redirect)"
                    .into(),
                fix: format!("ip address del {vip}/{} dev {on}", a.prefix_len),
            });
        }
        for service in &req.services {
            if s.nft.as_ref().is_some_and(|r| r.redirects(vip, *service)) {
                continue;
            }
            let (family, daddr) = if vip.is_ipv4() { ("ip", "ip daddr") } else { ("ip6", "ip6 daddr") };
            out.push(Problem {
                kind: ProblemKind::RedirectMissing,
                place: format!("{service} to {vip}"),
                what: "no nat prerouting rule redirects this VIP and port to the host: the director's \
                       packets for it are not delivered here"
                    .into(),
                fix: format!(
                    "nft add table {family} {TABLE}; a nat prerouting rule '{daddr} {vip} {} dport {} \
                     redirect' ({THREE_FIXES})",
                    service.protocol_name(),
                    service.port
                ),
            });
        }
    }
}

/// The nftables steps of the request's cure (none for `sysctl`, none when the cure is in
/// place already).
pub(crate) fn cure_steps(req: &Request, s: &Snapshot, sysctls_cure: bool, arp_targets: &[String]) -> Vec<Step> {
    let our = |family: &str| s.nft.as_ref().and_then(|r| r.our_table(family)).map(str::to_string);
    let mut steps = Vec::new();
    match req.arp {
        ArpCure::Sysctl => {}
        ArpCure::Arptables => {
            if sysctls_cure || arp_rules_cure(req, s) || vips4(req).is_empty() {
                return steps;
            }
            let interfaces: Vec<(String, Ipv4Addr)> = arp_targets
                .iter()
                .filter_map(|name| {
                    let link = s.link(name)?;
                    let rip = s.addrs.iter().filter(|a| a.index == link.index).find_map(|a| match a.ip {
                        IpAddr::V4(ip) if !vips4(req).contains(&ip) => Some(ip),
                        _ => None,
                    })?;
                    Some((name.clone(), rip))
                })
                .collect();
            let table = nft::arp_table(&vips4(req), &interfaces);
            steps.push(Step::NftTable { family: "arp".into(), table, replacing: our("arp") });
        }
        ArpCure::Redirect => {
            for (family, six) in [("ip", false), ("ip6", true)] {
                let vips: Vec<IpAddr> = req.unique_vips().into_iter().filter(|v| v.is_ipv6() == six).collect();
                let covered =
                    |v: &IpAddr| req.services.iter().all(|p| s.nft.as_ref().is_some_and(|r| r.redirects(*v, *p)));
                if vips.iter().all(covered) {
                    continue;
                }
                let table = nft::redirect_table(family, &vips, &req.services);
                steps.push(Step::NftTable { family: family.into(), table, replacing: our(family) });
            }
        }
    }
    steps
}

/// Whether the request's VIPs belong on this host (not with the `redirect` cure).
pub(crate) fn vips_on_host(req: &Request) -> bool {
    !(req.method == Method::Dr && req.arp == ArpCure::Redirect)
}
