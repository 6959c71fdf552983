//! ipvsadm 1.31's listings (`-L` in every mode), byte for byte, from the model's status
//! types. The saved rules (`-S`) come from the library's rule format (`ipvs::rules`).

use std::fmt::Write;
use std::net::IpAddr;

use ipvs::rules::{self, AddressNames, Numeric};
use ipvs::{
    Daemon, DaemonState, DestinationStatus, Family, Forward, Info, Netmask, Protocol, ServiceFlags, ServiceId,
    ServiceStatus, Timeouts, Tunnel,
};

use crate::names::{Names, Shown};
use crate::parse::Format;

/// The first line of a listing.
pub fn header(info: &Info) -> String {
    format!("IP Virtual Server version {} (size={})\n", info.version, info.conn_table_size)
}

/// The column titles of a listing.
pub fn title(f: &Format) -> String {
    if f.stats {
        format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        )
    } else if f.rate {
        format!(
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        )
    } else if f.thresholds {
        format!(
            "{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        )
    } else if f.persistent_conn {
        format!(
            "{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"
        )
    } else if f.tun_info {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n".to_owned()
    } else {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_owned()
    }
}

/// A counter in 9 columns, abbreviated with K, M, G, T unless `exact`.
pub fn largenum(out: &mut String, i: u64, exact: bool) {
    let _ = if exact {
        let len = i.to_string().len();
        write!(out, "{:>w$}", i, w = if len <= 8 { 9 } else { len + 1 })
    } else if i < 100_000_000 {
        write!(out, "{i:>9}")
    } else if i < 1_000_000_000 {
        write!(out, "{:>8}K", i / 1000)
    } else if i < 100_000_000_000 {
        write!(out, "{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        write!(out, "{:>8}G", i / 1_000_000_000)
    } else {
        write!(out, "{:>8}T", i / 1_000_000_000_000)
    };
}

/// `addrport_to_anyname`: `addr:port`, `[v6]:port`, with names unless numeric.
pub fn address_port(
    addr: IpAddr,
    port: u16,
    protocol: Option<Protocol>,
    f: &Format,
    names: &dyn AddressNames,
) -> String {
    if f.numeric {
        rules::address_port(addr, port, protocol, &Numeric)
    } else {
        rules::address_port(addr, port, protocol, names)
    }
}

fn protocol_of(id: &ServiceId) -> Option<Protocol> {
    match id {
        ServiceId::Inet { protocol, .. } => Some(*protocol),
        ServiceId::Fwmark { .. } => None,
    }
}

/// The persistence mask ipvsadm prints: none for a full one (/32, /128).
fn shown_mask(family: Family, netmask: Netmask) -> Option<String> {
    match (family, netmask) {
        (Family::Inet, Netmask::V4(m)) if m != std::net::Ipv4Addr::BROADCAST => Some(m.to_string()),
        (Family::Inet6, Netmask::Prefix(p)) if p != 128 => Some(p.to_string()),
        _ => None,
    }
}

fn forward_label(f: &Forward) -> &'static str {
    match f {
        // printf("%s", NULL) in glibc prints "(null)": ipvsadm has no name for these.
        Forward::Bypass | Forward::Other(_) => "(null)",
        other => other.label().unwrap_or("(null)"),
    }
}

fn tun_info(f: &Forward) -> String {
    let short = |flags: ipvs::TunnelFlags| match flags.checksum_name() {
        "remcsum" => "r+c",
        "csum" => "+c",
        _ => "-c",
    };
    let info = match f {
        Forward::Tunnel(Tunnel::Ipip) => "ipip".to_owned(),
        Forward::Tunnel(Tunnel::Gue { port, flags }) => format!("gue:{port}:{}", short(*flags)),
        Forward::Tunnel(Tunnel::Gre { flags }) => format!("gre:{}", short(*flags)),
        _ => "n/a".to_owned(),
    };
    info.chars().take(15).collect()
}

/// Cuts `s` to at most `n` bytes as ipvsadm does (a name that ends mid-character loses that
/// character: the text stays valid UTF-8).
fn truncate_bytes(s: &mut String, n: usize) {
    if s.len() > n {
        let mut at = n;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}

/// One service and its destinations in the format's layout (`print_service_entry`).
/// `dests` are in the kernel's order; they are sorted here unless `--nosort`.
pub fn service_entry(out: &mut String, s: &ServiceStatus, dests: &[DestinationStatus], f: &Format, names: &dyn Names) {
    let svc = &s.service;
    let shown = Shown(names);
    let protocol = protocol_of(&svc.id);
    let svc_name = match svc.id {
        ServiceId::Fwmark { mark, family: Family::Inet6 } => format!("FWM  {mark} IPv6"),
        ServiceId::Fwmark { mark, .. } => format!("FWM  {mark}"),
        ServiceId::Inet { protocol: p, addr, port } => {
            let label = if Protocol::known().any(|k| k == p) { p.to_string() } else { "?".into() };
            let mut n = format!("{label:<4} {}", address_port(addr, port, protocol, f, &shown));
            if addr.is_ipv4() {
                truncate_bytes(&mut n, 33);
            }
            n
        }
    };
    if f.stats || f.rate {
        let _ = write!(out, "{svc_name:<33}");
        let st = &s.stats;
        let values = if f.stats {
            [st.conns, st.in_packets, st.out_packets, st.in_bytes, st.out_bytes]
        } else {
            [st.cps, st.in_pps, st.out_pps, st.in_bps, st.out_bps]
        };
        for v in values {
            largenum(out, v, f.exact);
        }
    } else {
        let _ = write!(out, "{svc_name} {}", svc.scheduler.name());
        if svc.flags.intersects(ServiceFlags::SCHEDULER_FLAGS) {
            let _ = write!(out, " ({})", rules::scheduler_flags_shown(svc));
        }
        if let Some(timeout) = svc.persistence_timeout() {
            let _ = write!(out, " {} {timeout}", ServiceFlags::PERSISTENT.label().unwrap_or_default());
            if let Some(mask) = shown_mask(svc.id.family(), svc.netmask) {
                let _ = write!(out, " mask {mask}");
            }
            if let Some(pe) = &svc.persistence_engine {
                let _ = write!(out, " pe {}", pe.name());
            }
        }
        if svc.flags.contains(ServiceFlags::ONE_PACKET) {
            let _ = write!(out, " {}", ServiceFlags::ONE_PACKET.label().unwrap_or_default());
        }
    }
    out.push('\n');

    let mut dests = dests.to_vec();
    if !f.nosort {
        rules::order::sort_by_destination(&mut dests, |d| &d.destination);
    }
    for e in &dests {
        let d = &e.destination;
        let mut dname = address_port(d.addr, d.port, protocol, f, &shown);
        if d.addr.is_ipv4() {
            truncate_bytes(&mut dname, 28);
        }
        // ipvsadm 1.31 reads a destination's 64-bit counters as 32-bit values.
        let st = e.stats;
        let low = |v: u64| v & 0xffff_ffff;
        let _ = if f.stats {
            let _ = write!(out, "  -> {dname:<28}");
            for v in [st.conns, st.in_packets, st.out_packets, st.in_bytes, st.out_bytes] {
                largenum(out, low(v), f.exact);
            }
            writeln!(out)
        } else if f.rate {
            let _ = write!(out, "  -> {dname:<28} {:>8} {:>8} {:>8}", low(st.cps), low(st.in_pps), low(st.out_pps));
            largenum(out, low(st.in_bps), f.exact);
            largenum(out, low(st.out_bps), f.exact);
            writeln!(out)
        } else if f.thresholds {
            writeln!(
                out,
                "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
                d.upper_threshold, d.lower_threshold, e.active_conns, e.inactive_conns
            )
        } else if f.persistent_conn {
            writeln!(
                out,
                "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
                d.weight, e.persistent_conns, e.active_conns, e.inactive_conns
            )
        } else if f.tun_info {
            writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<13} {:<6} {:<10} {:<10}",
                forward_label(&d.forward),
                tun_info(&d.forward),
                d.weight as i32,
                e.active_conns,
                e.inactive_conns
            )
        } else {
            writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<6} {:<10} {:<10}",
                forward_label(&d.forward),
                d.weight as i32,
                e.active_conns,
                e.inactive_conns
            )
        };
    }
}

/// `--set`'s listing: `Timeout (tcp tcpfin udp): ...`.
pub fn timeouts(t: &Timeouts) -> String {
    format!("Timeout (tcp tcpfin udp): {} {} {}\n", t.tcp, t.tcp_fin, t.udp)
}

/// `-L --daemon`: master first, then backup.
pub fn daemons(list: &[Daemon]) -> String {
    let mut out = String::new();
    for state in [DaemonState::Master, DaemonState::Backup] {
        for d in list.iter().filter(|d| d.state == state) {
            let _ = write!(out, "{state} sync daemon (mcast={}, syncid={}", d.interface, d.sync_id);
            if let Some(m) = d.max_len.filter(|&m| m != 0) {
                let _ = write!(out, ", maxlen={m}");
            }
            if let Some(g) = d.group {
                let _ = write!(out, ", group={g}");
            }
            if let Some(p) = d.port.filter(|&p| p != 0) {
                let _ = write!(out, ", port={p}");
            }
            if let Some(t) = d.ttl.filter(|&t| t != 0) {
                let _ = write!(out, ", ttl={t}");
            }
            out.push_str(")\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_without_splitting_characters() {
        let mut s = "TCP  très-long-nom-d-hôte.example:http".to_string();
        truncate_bytes(&mut s, 33);
        assert!(s.len() <= 33 && s.starts_with("TCP  très"));
        let mut s = "é".repeat(20);
        truncate_bytes(&mut s, 7);
        assert_eq!(s, "ééé");
    }

    #[test]
    fn largenum_abbreviates() {
        let mut s = String::new();
        for v in [0, 99_999_999, 100_000_000, 1_000_000_000, 100_000_000_000, 100_000_000_000_000] {
            largenum(&mut s, v, false);
        }
        assert_eq!(s, "        0 99999999  100000K    1000M     100G     100T");
        let mut s = String::new();
        largenum(&mut s, 1_234_567_890, true);
        assert_eq!(s, " 1234567890");
    }
}
