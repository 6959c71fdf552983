//! ipvsadm 1.31's listings and its rule format (`-S`), byte for byte, from the typed model.

use std::cmp::Ordering;
use std::fmt::Write;
use std::net::IpAddr;

use super::args::Format;
use super::names::Names;
use crate::{Daemon, DaemonState, Destination, Family, Forward, Info, Netmask, Service, ServiceId, Timeouts, Tunnel};

const F_PERSISTENT: u32 = 0x1;
const F_ONEPACKET: u32 = 0x4;
const F_SCHED_MASK: u32 = 0x8 | 0x10 | 0x20;

/// The first line of a listing.
pub fn header(info: &Info) -> String {
    format!("IP Virtual Server version {} (size={})\n", info.version, info.conn_table_size)
}

/// The column titles of a listing (empty for rules).
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
    } else if !f.rule {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_owned()
    } else {
        String::new()
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

fn af_number(f: Family) -> i32 {
    match f {
        Family::Inet => 2,
        Family::Inet6 => 10,
    }
}

fn words(addr: Option<IpAddr>) -> [u32; 4] {
    match addr {
        Some(IpAddr::V4(a)) => [u32::from(a), 0, 0, 0],
        Some(IpAddr::V6(a)) => {
            let o = a.octets();
            let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            [w(0), w(4), w(8), w(12)]
        }
        None => [0; 4],
    }
}

/// ipvsadm compares unsigned fields by their difference taken as a signed int.
fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn cmp_words(a: [u32; 4], b: [u32; 4], v6: bool) -> i32 {
    if v6 {
        let mut r = 0;
        for i in 0..4 {
            r = diff(a[i], b[i]);
            if r != 0 {
                break;
            }
        }
        r
    } else {
        diff(a[0], b[0])
    }
}

fn svc_key(s: &Service) -> (u32, i32, i32, Option<IpAddr>, i32) {
    match s.id {
        ServiceId::Inet { protocol, addr, port } => {
            (0, af_number(s.id.family()), i32::from(protocol.number()), Some(addr), i32::from(port))
        }
        ServiceId::Fwmark { mark, family } => (mark, af_number(family), 0, None, 0),
    }
}

/// ipvsadm's service order (`ipvs_cmp_services`).
fn cmp_services(a: &Service, b: &Service) -> i32 {
    let (ka, kb) = (svc_key(a), svc_key(b));
    let mut r = diff(ka.0, kb.0);
    if r == 0 {
        r = ka.1 - kb.1;
    }
    if r == 0 {
        r = ka.2 - kb.2;
    }
    if r == 0 {
        r = cmp_words(words(ka.3), words(kb.3), ka.1 == 10);
    }
    if r == 0 {
        r = ka.4 - kb.4;
    }
    r
}

/// ipvsadm's destination order (`ipvs_cmp_dests`).
fn cmp_dests(a: &Destination, b: &Destination) -> i32 {
    let r = cmp_words(words(Some(a.addr)), words(Some(b.addr)), a.addr.is_ipv6());
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// The C library's merge sort (what `qsort` runs for these sizes): halves, then a merge that
/// takes from the left while the comparison is <= 0. Reproduces ipvsadm's order even where its
/// comparison is not transitive.
pub(crate) fn msort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    msort(&mut v[..n1], cmp);
    msort(&mut v[n1..], cmp);
    let (left, right) = (v[..n1].to_vec(), v[n1..].to_vec());
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        if cmp(&left[i], &right[j]) <= 0 {
            v[k] = left[i].clone();
            i += 1;
        } else {
            v[k] = right[j].clone();
            j += 1;
        }
        k += 1;
    }
    for x in left[i..].iter().chain(&right[j..]) {
        v[k] = x.clone();
        k += 1;
    }
}

/// Sorts services as ipvsadm does.
pub fn sort_services(v: &mut [Service]) {
    msort(v, &cmp_services);
}

/// Sorts destinations as ipvsadm does.
pub fn sort_dests(v: &mut [Destination]) {
    msort(v, &cmp_dests);
}

/// The protocol the kernel reports for a service: none (0) for firewall marks, so their
/// ports are never named.
fn protocol_of(s: &Service) -> u8 {
    match s.id {
        ServiceId::Inet { protocol, .. } => protocol.number() as u8,
        ServiceId::Fwmark { .. } => 0,
    }
}

/// `addrport_to_anyname`: `addr:port`, `[v6]:port`, with names unless numeric.
pub(crate) fn addrport(addr: IpAddr, port: u16, protocol: u8, f: &Format, names: &dyn Names) -> String {
    let (l, r) = if addr.is_ipv4() { ("", "") } else { ("[", "]") };
    if f.numeric {
        format!("{l}{addr}{r}:{port}")
    } else {
        let host = names.addr_to_host(addr).unwrap_or_else(|| addr.to_string());
        let svc = names.port_to_service(port, protocol).unwrap_or_else(|| port.to_string());
        format!("{l}{host}{r}:{svc}")
    }
}

fn sched_flag_names(s: &Service) -> String {
    let flags = s.flags.bits();
    let mut v = Vec::new();
    match s.scheduler.name() {
        "sh" | "mh" => {
            let n = s.scheduler.name();
            if flags & 0x8 != 0 {
                v.push(format!("{n}-fallback"));
            }
            if flags & 0x10 != 0 {
                v.push(format!("{n}-port"));
            }
        }
        _ => {
            for (bit, name) in [(0x8, "flag-1"), (0x10, "flag-2"), (0x20, "flag-3")] {
                if flags & bit != 0 {
                    v.push(name.to_owned());
                }
            }
        }
    }
    v.join(",")
}

/// The persistence mask ipvsadm prints: none for a full one (/32, /128).
fn shown_mask(s: &Service) -> Option<String> {
    match (s.id.family(), s.netmask) {
        (Family::Inet, Netmask::V4(m)) if m != std::net::Ipv4Addr::BROADCAST => Some(m.to_string()),
        (Family::Inet6, Netmask::Prefix(p)) if p != 128 => Some(p.to_string()),
        _ => None,
    }
}

fn fwd_name(f: &Forward) -> &'static str {
    match f {
        Forward::Masquerade => "Masq",
        Forward::Local => "Local",
        Forward::Tunnel(_) => "Tunnel",
        Forward::DirectRoute => "Route",
        // printf("%s", NULL) in glibc prints "(null)".
        _ => "(null)",
    }
}

fn fwd_switch(f: &Forward) -> &'static str {
    match f {
        Forward::Masquerade => "-m",
        Forward::Tunnel(_) => "-i",
        Forward::Local | Forward::DirectRoute => "-g",
        _ => "(null)",
    }
}

fn tun_flags_index(flags: crate::TunnelFlags) -> usize {
    (flags.bits() as usize).min(2)
}

const TUN_FLAG_SHORT: [&str; 3] = ["-c", "+c", "r+c"];
const TUN_FLAG_OPTS: [&str; 3] = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"];

fn tun_info(d: &Destination) -> Option<String> {
    match d.forward {
        Forward::Tunnel(Tunnel::Ipip) => Some("ipip".into()),
        Forward::Tunnel(Tunnel::Gue { port, flags }) => {
            Some(format!("gue:{port}:{}", TUN_FLAG_SHORT[tun_flags_index(flags)]).chars().take(15).collect())
        }
        Forward::Tunnel(Tunnel::Gre { flags }) => {
            Some(format!("gre:{}", TUN_FLAG_SHORT[tun_flags_index(flags)]).chars().take(15).collect())
        }
        _ => None,
    }
}

/// One service and its destinations, in the format's layout (`print_service_entry`).
/// `dests` are in the kernel's order; they are sorted here unless `--nosort`.
pub fn service_entry(out: &mut String, s: &Service, dests: &[Destination], f: &Format, names: &dyn Names) {
    let protocol = protocol_of(s);
    let v6 = s.id.family() == Family::Inet6;
    let flags = s.flags.bits();
    let svc_name = match s.id {
        ServiceId::Fwmark { mark, .. } => match (f.rule, v6) {
            (true, true) => format!("-f {mark} -6"),
            (true, false) => format!("-f {mark}"),
            (false, true) => format!("FWM  {mark} IPv6"),
            (false, false) => format!("FWM  {mark}"),
        },
        ServiceId::Inet { protocol: p, addr, port } => {
            let vname = addrport(addr, port, protocol, f, names);
            if f.rule {
                let stype = match p.number() {
                    6 => "-t",
                    17 => "-u",
                    132 => "--sctp-service",
                    _ => "--xxx-service",
                };
                format!("{stype} {vname}")
            } else {
                let stype = match p.number() {
                    6 => "TCP",
                    17 => "UDP",
                    132 => "SCTP",
                    _ => "?",
                };
                let mut n = format!("{stype:<4} {vname}");
                if !v6 {
                    truncate_bytes(&mut n, 33);
                }
                n
            }
        }
    };
    let persistent = flags & F_PERSISTENT != 0;
    let pe = s.persistence_engine.as_ref().map(|p| p.name().to_owned()).unwrap_or_default();
    if f.rule {
        let _ = write!(out, "-A {svc_name} -s {}", s.scheduler.name());
        if persistent {
            let _ = write!(out, " -p {}", s.timeout);
            if let Some(mask) = shown_mask(s) {
                let _ = write!(out, " -M {mask}");
            }
        }
        if !pe.is_empty() {
            let _ = write!(out, " --pe {pe}");
        }
        if flags & F_ONEPACKET != 0 {
            out.push_str(" -o");
        }
        if flags & F_SCHED_MASK != 0 {
            let _ = write!(out, " -b {}", sched_flag_names(s));
        }
    } else if f.stats || f.rate {
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
        let _ = write!(out, "{svc_name} {}", s.scheduler.name());
        if flags & F_SCHED_MASK != 0 {
            let _ = write!(out, " ({})", sched_flag_names(s));
        }
        if persistent {
            let _ = write!(out, " persistent {}", s.timeout);
            if let Some(mask) = shown_mask(s) {
                let _ = write!(out, " mask {mask}");
            }
            if !pe.is_empty() {
                let _ = write!(out, " pe {pe}");
            }
        }
        if flags & F_ONEPACKET != 0 {
            out.push_str(" ops");
        }
    }
    out.push('\n');

    let mut dests = dests.to_vec();
    if !f.nosort {
        sort_dests(&mut dests);
    }
    for e in &dests {
        let mut dname = addrport(e.addr, e.port, protocol, f, names);
        if !f.rule && e.addr.is_ipv4() {
            truncate_bytes(&mut dname, 28);
        }
        // ipvsadm 1.31 reads a destination's 64-bit counters as 32-bit values.
        let st = e.stats;
        let low = |v: u64| v & 0xffff_ffff;
        let _ = if f.rule {
            match e.forward {
                Forward::Tunnel(t) => {
                    let head = format!("-a {svc_name} -r {dname} {} -w {}", fwd_switch(&e.forward), e.weight);
                    match t {
                        Tunnel::Gre { flags } => {
                            writeln!(out, "{head} --tun-type gre {}", TUN_FLAG_OPTS[tun_flags_index(flags)])
                        }
                        Tunnel::Gue { port, flags } => writeln!(
                            out,
                            "{head} --tun-type gue --tun-port {port} {}",
                            TUN_FLAG_OPTS[tun_flags_index(flags)]
                        ),
                        Tunnel::Ipip => writeln!(out, "{head} --tun-type ipip"),
                        Tunnel::Other { .. } => writeln!(out, "{head}"),
                    }
                }
                _ => writeln!(out, "-a {svc_name} -r {dname} {} -w {}", fwd_switch(&e.forward), e.weight),
            }
        } else if f.stats {
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
                e.upper_threshold, e.lower_threshold, e.active_conns, e.inactive_conns
            )
        } else if f.persistent_conn {
            writeln!(
                out,
                "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
                e.weight, e.persistent_conns, e.active_conns, e.inactive_conns
            )
        } else if f.tun_info {
            writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<13} {:<6} {:<10} {:<10}",
                fwd_name(&e.forward),
                tun_info(e).unwrap_or_else(|| "n/a".into()),
                e.weight as i32,
                e.active_conns,
                e.inactive_conns
            )
        } else {
            writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<6} {:<10} {:<10}",
                fwd_name(&e.forward),
                e.weight as i32,
                e.active_conns,
                e.inactive_conns
            )
        };
    }
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

/// `--set`'s listing: `Timeout (tcp tcpfin udp): ...`.
pub fn timeouts(t: &Timeouts) -> String {
    format!("Timeout (tcp tcpfin udp): {} {} {}\n", t.tcp, t.tcp_fin, t.udp)
}

/// `-L --daemon`: master first, then backup.
pub fn daemons(list: &[Daemon]) -> String {
    let mut out = String::new();
    for state in [DaemonState::Master, DaemonState::Backup] {
        for d in list.iter().filter(|d| d.state == state) {
            let kind = if state == DaemonState::Master { "master" } else { "backup" };
            let _ = write!(out, "{kind} sync daemon (mcast={}, syncid={}", d.interface, d.sync_id);
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

/// Orders two services as ipvsadm does (for callers that sort themselves).
pub fn service_order(a: &Service, b: &Service) -> Ordering {
    cmp_services(a, b).cmp(&0)
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

    #[test]
    fn signed_differences_sort_high_addresses_first() {
        let d = |a: &str| Destination::new(format!("{a}:80").parse().unwrap(), Forward::Masquerade);
        let mut v = vec![d("192.0.2.1"), d("10.0.0.1")];
        sort_dests(&mut v);
        // 192.0.2.1 - 10.0.0.1 overflows to a negative int: 192.0.2.1 sorts first.
        assert_eq!(v[0].addr.to_string(), "192.0.2.1");
        let mut v = vec![d("10.0.0.2"), d("10.0.0.1")];
        sort_dests(&mut v);
        assert_eq!(v[0].addr.to_string(), "10.0.0.1");
    }
}
