//! `ipvsadm -Lc`: the connection table, from the text of `/proc/net/ip_vs_conn`.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

use ipvs::Protocol;

use crate::names::{Names, Shown};
use crate::parse::Format;

fn addr(field: &str) -> Option<IpAddr> {
    field.parse::<IpAddr>().ok().or_else(|| u32::from_str_radix(field, 16).ok().map(|n| IpAddr::V4(Ipv4Addr::from(n))))
}

fn addrport(a: Option<IpAddr>, port: &str, protocol: Option<Protocol>, f: &Format, names: &dyn Names) -> String {
    let a = a.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    crate::listing::address_port(a, u16::from_str_radix(port, 16).unwrap_or(0), protocol, f, &Shown(names))
}

/// Renders the connection table (`list_conn`): a title, then one line per entry.
pub fn render(proc_text: &str, f: &Format, names: &dyn Names) -> String {
    let mut out = String::from("IPVS connection entries\n");
    if f.persistent_conn {
        let _ = writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} pe_data",
            "state", "source", "virtual", "destination", "pe name"
        );
    } else {
        let _ = writeln!(out, "pro expire {:<11} {:<18} {:<18} destination", "state", "source", "virtual");
    }
    for line in proc_text.lines().skip(1) {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() < 9 {
            continue;
        }
        let protocol = w[0].parse::<Protocol>().ok();
        let c = addrport(addr(w[1]), w[2], protocol, f, names);
        let v = addrport(addr(w[3]), w[4], protocol, f, names);
        let d = addrport(addr(w[5]), w[6], protocol, f, names);
        let expires: u32 = w[8].parse().unwrap_or(0);
        let expire = format!("{:02}:{:02}", expires / 60, expires % 60);
        if f.persistent_conn && w.len() >= 11 {
            let _ =
                writeln!(out, "{:<3} {expire:<6} {:<11} {c:<18} {v:<18} {d:<16} {:<18} {}", w[0], w[7], w[9], w[10]);
        } else {
            let _ = writeln!(out, "{:<3} {expire:<6} {:<11} {c:<18} {v:<18} {d}", w[0], w[7]);
        }
    }
    out
}
