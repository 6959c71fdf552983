//! ipvsadm's handling of each option after the command, by kind: the service, the real
//! server, the sync daemon, and the listing format.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs::{Forward, Protocol, ServiceFlags, Tunnel, TunnelFlags};

use crate::cnum::{atoi, inet_aton, number};
use crate::legal::Opt;
use crate::names::Names;
use crate::parse::{defaults, Draft};
use crate::popt::{Popt, Tag};
use crate::Exit;

/// `parse_service`: `address[:port]` into the draft's address and port; bit 1 address
/// set, bit 2 port set (0: unparsable).
fn parse_address(buf: &str, d: &mut Draft, names: &dyn Names) -> u32 {
    if buf.is_empty() || buf.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let (host, mut port) = if let Some(b) = buf.strip_prefix('[') {
        let Some((h, p)) = b.split_once(']') else { return 0 };
        let Some(p) = p.strip_prefix(':') else { return 0 };
        (h, Some(p))
    } else {
        (buf, None)
    };
    if let Ok(a6) = host.parse::<Ipv6Addr>() {
        d.addr = IpAddr::V6(a6);
        d.v6 = true;
        d.netmask = 128;
    } else {
        let host = match (port, host.rsplit_once(':')) {
            (None, Some((h, p))) => {
                port = Some(p);
                h
            }
            _ => host,
        };
        match inet_aton(host).or_else(|| names.host_to_v4(host)) {
            Some(a) => {
                d.addr = IpAddr::V4(a);
                d.v6 = false;
            }
            None => return 0,
        }
    }
    let mut result = 1;
    if let Some(p) = port {
        result |= 2;
        match number(p, 0, 65535).map(|n| n as u16).or_else(|| names.service_to_port(p, d.protocol)) {
            Some(n) => d.port = n,
            None => return 0,
        }
    }
    result
}

fn limited(a: &str, min: i64, max: i64, msg: &str) -> Result<i64, Exit> {
    number(a, min, max).ok_or_else(|| Exit::fail(msg))
}

/// One option (after the command): ipvsadm's handling of it.
pub(crate) fn option(
    d: &mut Draft,
    tag: Tag,
    arg: Option<String>,
    names: &dyn Names,
    popt: &Popt<'_>,
) -> Result<(), Exit> {
    match tag {
        Tag::Tcp
        | Tag::Fwmark
        | Tag::Scheduler
        | Tag::Persistent
        | Tag::Netmask
        | Tag::Ipv6
        | Tag::Ops
        | Tag::Pe
        | Tag::SchedFlags
        | Tag::Udp
        | Tag::Sctp => service_option(d, tag, arg, names),
        Tag::RealServer
        | Tag::Ipip
        | Tag::Weight
        | Tag::UThreshold
        | Tag::LThreshold
        | Tag::TunType
        | Tag::TunPort
        | Tag::TunNocsum
        | Tag::TunCsum
        | Tag::TunRemcsum
        | Tag::Gatewaying
        | Tag::Masquerading => server_option(d, tag, arg, names),
        Tag::McastInterface | Tag::SyncId | Tag::McastGroup | Tag::McastPort | Tag::McastTtl | Tag::SyncMaxlen => {
            daemon_option(d, tag, arg)
        }
        Tag::Connection
        | Tag::Numeric
        | Tag::Timeout
        | Tag::Daemon
        | Tag::Stats
        | Tag::Rate
        | Tag::Thresholds
        | Tag::PersistentConn
        | Tag::NoSort
        | Tag::Sort
        | Tag::Exact
        | Tag::TunInfo => listing_option(d, tag),
        _ => Err(Exit::fail(format!("invalid option `{}'", popt.last_word()))),
    }
}

/// The service: its address or mark, scheduler, persistence, engine and flags.
fn service_option(d: &mut Draft, tag: Tag, arg: Option<String>, names: &dyn Names) -> Result<(), Exit> {
    let a = arg.clone().unwrap_or_default();
    match tag {
        Tag::Tcp | Tag::Udp | Tag::Sctp => {
            d.options.set(Opt::Service)?;
            d.protocol = match tag {
                Tag::Tcp => Protocol::Tcp,
                Tag::Udp => Protocol::Udp,
                _ => Protocol::Sctp,
            };
            if parse_address(&a, d, names) & 1 == 0 {
                return Err(Exit::fail("illegal virtual server address[:port] specified"));
            }
        }
        Tag::Fwmark => {
            d.options.set(Opt::Service)?;
            d.v6 = false;
            d.protocol = Protocol::Tcp;
            d.fwmark = number(&a, 1, i64::from(u32::MAX))
                .ok_or_else(|| Exit::fail(format!("invalid fwmark value `{a}' specified")))?
                as u32;
        }
        Tag::Scheduler => {
            d.options.set(Opt::Scheduler)?;
            d.scheduler = a.chars().take(ipvs::model::MAX_NAME_LEN).collect();
        }
        Tag::Persistent => {
            d.options.set(Opt::Persistent)?;
            d.flags |= ServiceFlags::PERSISTENT;
            d.timeout = match &arg {
                None => defaults::PERSISTENCE,
                Some(v) => number(v, 1, defaults::MAX_TIMEOUT)
                    .ok_or_else(|| Exit::fail(format!("invalid timeout value `{v}' specified")))?
                    as u32,
            };
        }
        Tag::Netmask => {
            d.options.set(Opt::Netmask)?;
            if !d.v6 {
                let m = inet_aton(&a)
                    .or_else(|| names.host_to_v4(&a))
                    .ok_or_else(|| Exit::fail("illegal virtual server persistent mask specified"))?;
                d.netmask = u32::from(m);
            } else {
                let n = atoi(&a);
                if !(1..=128).contains(&n) {
                    return Err(Exit::fail("illegal ipv6 netmask specified"));
                }
                d.netmask = n as u32;
            }
        }
        Tag::Ipv6 => {
            if d.fwmark == 0 {
                return Err(Exit::fail("-6 used before -f\n"));
            }
            d.v6 = true;
            d.netmask = 128;
        }
        Tag::Ops => {
            d.options.set(Opt::OnePacket)?;
            d.flags |= ServiceFlags::ONE_PACKET;
        }
        Tag::Pe => {
            d.options.set(Opt::Pe)?;
            d.pe = a.chars().take(ipvs::model::MAX_NAME_LEN + 1).collect();
        }
        Tag::SchedFlags => {
            d.options.set(Opt::SchedFlags)?;
            d.sched_flags = a.chars().take(127).collect();
        }
        // Dispatched by tag: only this function's options reach it.
        _ => {}
    }
    Ok(())
}

/// The real server: its address, forwarding method, weight, thresholds and tunnel.
fn server_option(d: &mut Draft, tag: Tag, arg: Option<String>, names: &dyn Names) -> Result<(), Exit> {
    let a = arg.clone().unwrap_or_default();
    match tag {
        Tag::RealServer => {
            d.options.set(Opt::Server)?;
            // ipvsadm parses the server into a copy of the service, so the service's
            // protocol names its port, and its address and port are the fallback.
            let (addr, port, v6, mask) = (d.addr, d.port, d.v6, d.netmask);
            let parsed = parse_address(&a, d, names);
            (d.dest_addr, d.dest_port) = (d.addr, d.port);
            (d.addr, d.port, d.v6, d.netmask) = (addr, port, v6, mask);
            if parsed & 1 == 0 {
                return Err(Exit::fail("illegal real server address[:port] specified"));
            }
            if parsed == 1 {
                d.dest_port = d.port;
            }
        }
        Tag::Ipip | Tag::Gatewaying | Tag::Masquerading => {
            d.options.set(Opt::Forward)?;
            d.forward = match tag {
                Tag::Ipip => Forward::Tunnel(Tunnel::Ipip),
                Tag::Gatewaying => Forward::DirectRoute,
                _ => Forward::Masquerade,
            };
        }
        Tag::Weight => {
            d.options.set(Opt::Weight)?;
            d.weight = limited(&a, 0, i64::from(i32::MAX), "illegal weight specified")? as u32;
        }
        Tag::UThreshold => {
            d.options.set(Opt::UThreshold)?;
            d.upper = limited(&a, 0, i64::from(i32::MAX), "illegal u_threshold specified")? as u32;
        }
        Tag::LThreshold => {
            d.options.set(Opt::LThreshold)?;
            d.lower = limited(&a, 0, i64::from(i32::MAX), "illegal l_threshold specified")? as u32;
        }
        Tag::TunType => {
            d.options.set(Opt::TunType)?;
            d.tun_kind = match Tunnel::kind_of_name(a.as_str()) {
                Some(k) => usize::from(k),
                None => return Err(Exit::fail("illegal tunnel type specified")),
            };
        }
        Tag::TunPort => {
            d.options.set(Opt::TunPort)?;
            d.tun_port = limited(&a, 1, 65535, "illegal tunnel port specified")? as u16;
        }
        Tag::TunNocsum => d.options.set(Opt::TunNocsum)?,
        Tag::TunCsum => {
            d.options.set(Opt::TunCsum)?;
            d.tun_flags |= TunnelFlags::CSUM;
        }
        Tag::TunRemcsum => {
            d.options.set(Opt::TunRemcsum)?;
            d.tun_flags |= TunnelFlags::REMCSUM;
        }
        // Dispatched by tag: only this function's options reach it.
        _ => {}
    }
    Ok(())
}

/// The sync daemon.
fn daemon_option(d: &mut Draft, tag: Tag, arg: Option<String>) -> Result<(), Exit> {
    let a = arg.clone().unwrap_or_default();
    match tag {
        Tag::McastInterface => {
            d.options.set(Opt::Mcast)?;
            d.ifname = a.chars().take(ipvs::model::MAX_NAME_LEN).collect();
        }
        Tag::SyncId => {
            d.options.set(Opt::SyncId)?;
            d.sync_id = limited(&a, 0, 255, "illegal syncid specified")? as u8;
        }
        Tag::McastGroup => {
            d.options.set(Opt::McastGroup)?;
            let (ok, family) = if a.contains(':') {
                (a.parse::<Ipv6Addr>().ok().filter(|g| g.is_multicast()).map(IpAddr::V6), "IPv6")
            } else {
                (a.parse::<Ipv4Addr>().ok().filter(|g| g.is_multicast()).map(IpAddr::V4), "IPv4")
            };
            d.group = Some(ok.ok_or_else(|| Exit::fail(format!("invalid {family} mcast-group `{a}'")))?);
        }
        Tag::McastPort => {
            d.options.set(Opt::McastPort)?;
            d.mcast_port = Some(limited(&a, 1, 65535, "illegal mcast-port specified")? as u16);
        }
        Tag::McastTtl => {
            d.options.set(Opt::McastTtl)?;
            d.ttl = Some(limited(&a, 1, 255, "illegal mcast-ttl specified")? as u8);
        }
        Tag::SyncMaxlen => {
            d.options.set(Opt::SyncMaxlen)?;
            d.max_len = Some(limited(&a, 1, 65535 - 20 - 8, "illegal sync-maxlen specified")? as u16);
        }
        // Dispatched by tag: only this function's options reach it.
        _ => {}
    }
    Ok(())
}

/// The listing format, and what to list.
fn listing_option(d: &mut Draft, tag: Tag) -> Result<(), Exit> {
    match tag {
        Tag::Connection => d.options.set(Opt::Connection)?,
        Tag::Numeric => {
            d.options.set(Opt::Numeric)?;
            d.format.numeric = true;
        }
        Tag::Timeout => d.options.set(Opt::Timeout)?,
        Tag::Daemon => d.options.set(Opt::Daemon)?,
        Tag::Stats => {
            d.options.set(Opt::Stats)?;
            d.format.stats = true;
        }
        Tag::Rate => {
            d.options.set(Opt::Rate)?;
            d.format.rate = true;
        }
        Tag::Thresholds => {
            d.options.set(Opt::Thresholds)?;
            d.format.thresholds = true;
        }
        Tag::PersistentConn => {
            d.options.set(Opt::PersistentConn)?;
            d.format.persistent_conn = true;
        }
        Tag::NoSort => {
            d.options.set(Opt::NoSort)?;
            d.format.nosort = true;
        }
        Tag::Sort => {}
        Tag::Exact => {
            d.options.set(Opt::Exact)?;
            d.format.exact = true;
        }
        Tag::TunInfo => {
            d.options.set(Opt::TunInfo)?;
            d.format.tun_info = true;
        }
        // Dispatched by tag: only this function's options reach it.
        _ => {}
    }
    Ok(())
}
