//! Carrying out steps (recording each change with what was there before) and putting
//! changes back.

use crate::Errno;

use crate::error::{Error, Result};
use crate::fou::Fou;
use crate::model::{unhex, Change, Step};
use crate::net::{check_ifname, host_len};
use crate::nft;
use crate::rtnl::Rtnl;
use crate::state::{Snapshot, MODULES};
use crate::sysctl;

fn errno_is(e: &Error, set: &[Errno]) -> bool {
    e.errno().is_some_and(|n| set.contains(&n))
}

fn index(s: &Snapshot, name: &str) -> Result<u32> {
    s.link(name).map(|l| l.index).ok_or_else(|| Error::NoInterface(name.to_string()))
}

fn modules_loaded() -> Vec<String> {
    MODULES.iter().filter(|m| std::path::Path::new("/sys/module").join(m).exists()).map(|m| m.to_string()).collect()
}

/// Carries out one step; returns the changes it made (none when the kernel had it already).
pub(crate) fn apply(rtnl: &mut Rtnl, s: &Snapshot, step: &Step) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    match step {
        Step::CreateLink { name, kind, module } => {
            let before = s.modules.contains(module.as_str());
            match rtnl.create_link(name, kind) {
                Ok(()) => out.push(Change::LinkCreated { name: name.clone() }),
                // Loading the module made the fallback device of that name in this namespace.
                Err(e) if errno_is(&e, &[Errno::EEXIST]) => {}
                Err(e) => return Err(e),
            }
            if !before && modules_loaded().contains(module) {
                out.insert(0, Change::ModuleLoaded { name: module.clone() });
            }
        }
        Step::SetUp { name } => {
            let index = index(s, name)?;
            rtnl.set_up(index, name, true)?;
            out.push(Change::LinkUp { name: name.clone() });
            // The kernel gives lo 127.0.0.1/8 when it comes up (and keeps it when it goes
            // down): record such addresses so that undo takes them away too. (IPv6 ones, ::1
            // and link-local addresses, go away with the link.)
            for a in rtnl.addresses()?.into_iter().filter(|a| a.index == index && a.ip.is_ipv4()) {
                if !s.addrs.contains(&a) {
                    out.push(Change::AddressAdded { dev: name.clone(), address: a.ip, prefix_len: a.prefix_len });
                }
            }
        }
        Step::AddAddress { dev, address, prefix_len } => {
            match rtnl.address(true, index(s, dev)?, dev, *address, *prefix_len) {
                Ok(()) => {
                    out.push(Change::AddressAdded { dev: dev.clone(), address: *address, prefix_len: *prefix_len })
                }
                Err(e) if errno_is(&e, &[Errno::EEXIST]) => {}
                Err(e) => return Err(e),
            }
        }
        Step::RemoveAddress { dev, address, prefix_len } => {
            rtnl.address(false, index(s, dev)?, dev, *address, *prefix_len)?;
            out.push(Change::AddressRemoved { dev: dev.clone(), address: *address, prefix_len: *prefix_len });
        }
        Step::Sysctl { key, before, after } => {
            sysctl::write(key, after)?;
            out.push(Change::Sysctl { key: key.clone(), before: before.clone(), after: after.clone() });
        }
        Step::AddGuePort { port, ipv6 } => {
            Fou::open()?.set(true, *port, *ipv6)?;
            out.push(Change::GuePortAdded { port: *port, ipv6: *ipv6 });
        }
        Step::Route { network, via, replacing } => {
            rtnl.route_via(network.addr, network.prefix_len, *via, replacing.is_some())?;
            out.push(match replacing {
                None => Change::RouteAdded { network: *network, via: *via },
                Some(raw) => Change::RouteReplaced { network: *network, via: *via, before: raw.clone() },
            });
        }
        Step::NftTable { family, table, replacing } => {
            if replacing.is_some() {
                nft::delete_table(family)?;
            }
            nft::load(table)?;
            out.push(match replacing {
                None => Change::NftTableAdded { family: family.clone() },
                Some(before) => Change::NftTableReplaced { family: family.clone(), before: before.clone() },
            });
        }
    }
    Ok(out)
}

/// Refuses a change that this crate would never record (record files are input).
pub(crate) fn validate(c: &Change) -> Result<()> {
    let bad = |m: String| Err(Error::Invalid(m));
    match c {
        Change::LinkCreated { name } | Change::LinkUp { name } => check_ifname(name),
        Change::ModuleLoaded { .. } => Ok(()),
        Change::AddressAdded { dev, address, prefix_len } | Change::AddressRemoved { dev, address, prefix_len } => {
            check_ifname(dev)?;
            if *prefix_len > host_len(*address) {
                return bad(format!("{address}/{prefix_len}"));
            }
            Ok(())
        }
        Change::Sysctl { key, before, .. } => {
            sysctl::check_key(key)?;
            if before.is_empty() || before.len() > 32 || !before.chars().all(|c| c.is_ascii_digit() || c == '-') {
                return bad(format!("value {before:?} for {key}"));
            }
            Ok(())
        }
        Change::GuePortAdded { port, .. } if *port == 0 => bad("GUE port 0".into()),
        Change::GuePortAdded { .. } => Ok(()),
        Change::RouteAdded { network, via } | Change::RouteReplaced { network, via, .. } => {
            if network.prefix_len > host_len(network.addr) || network.addr.is_ipv4() != via.is_ipv4() {
                return bad(format!("route {network} via {via}"));
            }
            if let Change::RouteReplaced { before, .. } = c {
                if unhex(before).is_none() {
                    return bad("the saved route is not hex".into());
                }
            }
            Ok(())
        }
        Change::NftTableAdded { family } | Change::NftTableReplaced { family, .. } => {
            if !nft::FAMILIES.contains(&family.as_str()) {
                return bad(format!("nftables family {family:?}"));
            }
            if let Change::NftTableReplaced { before, .. } = c {
                if !nft::only_ours(family, before) {
                    return bad(format!("the saved table is not only nftables table {family} {}", nft::TABLE));
                }
            }
            Ok(())
        }
    }
}

/// Puts one change back. Returns a note when there was nothing left to put back (already
/// undone by hand, the device gone) or when a change is deliberately left (a module).
pub(crate) fn revert(rtnl: &mut Rtnl, s: &Snapshot, c: &Change) -> Result<Option<String>> {
    validate(c)?;
    let gone = |what: String| Ok(Some(format!("{what}: already gone")));
    match c {
        Change::LinkCreated { name } => match s.link(name) {
            None => gone(name.clone()),
            Some(l) => rtnl.delete_link(l.index, name).map(|()| None),
        },
        Change::ModuleLoaded { name } => {
            Ok(Some(format!("module {name} stays loaded (other namespaces may use it; modprobe -r {name} removes it)")))
        }
        Change::LinkUp { name } => match s.link(name) {
            None => gone(name.clone()),
            Some(l) => rtnl.set_up(l.index, name, false).map(|()| None),
        },
        Change::AddressAdded { dev, address, prefix_len } => {
            let Some(l) = s.link(dev) else { return gone(dev.clone()) };
            match rtnl.address(false, l.index, dev, *address, *prefix_len) {
                Err(e) if errno_is(&e, &[Errno::EADDRNOTAVAIL, Errno::ENODEV]) => {
                    gone(format!("{address}/{prefix_len} on {dev}"))
                }
                r => r.map(|()| None),
            }
        }
        Change::AddressRemoved { dev, address, prefix_len } => {
            let Some(l) = s.link(dev) else { return gone(dev.clone()) };
            match rtnl.address(true, l.index, dev, *address, *prefix_len) {
                Err(e) if errno_is(&e, &[Errno::EEXIST]) => Ok(None),
                r => r.map(|()| None),
            }
        }
        Change::Sysctl { key, before, .. } => match sysctl::read(key)? {
            None => gone(sysctl::dotted(key)),
            Some(_) => sysctl::write(key, before).map(|()| None),
        },
        Change::GuePortAdded { port, ipv6 } => {
            if !s.modules.contains("fou") {
                return gone(format!("GUE port {port}"));
            }
            let mut fou = Fou::open()?;
            if !fou.ports()?.iter().any(|f| f.port == *port && f.ipv6 == *ipv6) {
                return gone(format!("GUE port {port}"));
            }
            fou.set(false, *port, *ipv6).map(|()| None)
        }
        Change::RouteAdded { network, via } => match rtnl.delete_route(network.addr, network.prefix_len, *via) {
            Err(e) if errno_is(&e, &[Errno::ESRCH, Errno::ENOENT]) => gone(format!("route {network} via {via}")),
            r => r.map(|()| None),
        },
        Change::RouteReplaced { network, via, before } => {
            match rtnl.delete_route(network.addr, network.prefix_len, *via) {
                Err(e) if errno_is(&e, &[Errno::ESRCH, Errno::ENOENT]) => {}
                r => r?,
            }
            let raw = unhex(before).ok_or_else(|| Error::Invalid("the saved route is not hex".into()))?;
            rtnl.restore_route(&raw).map(|()| None)
        }
        Change::NftTableAdded { family } => match nft::delete_table(family)? {
            true => Ok(None),
            false => gone(format!("nftables table {family} {}", nft::TABLE)),
        },
        Change::NftTableReplaced { family, before } => {
            nft::delete_table(family)?;
            nft::load(before).map(|()| None)
        }
    }
}
