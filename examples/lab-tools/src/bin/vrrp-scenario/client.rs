//! The client's view: reaching the VIP through a given director, and sampling the directors'
//! steady states.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use ipvs_lab_tools::{check, in_netns, Res};

use crate::director::Director;
use crate::network::{holds_vip, mac_of};
use crate::{ns_path, sleep, Node, CLIENT, D1, D2, VIP};

/// The hardware address the client's ARP table has for `ip` (its own namespace: the
/// calling thread's).
fn arp_entry(ip: Ipv4Addr) -> Option<String> {
    let table = std::fs::read_to_string("/proc/thread-self/net/arp").ok()?;
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.first() == Some(&ip.to_string().as_str()) && f.get(2) != Some(&"0x0"))
            .then(|| f.get(3).map(|m| m.to_string()))?
    })
}

/// One HTTP request to the VIP from the calling thread (in the client's namespace).
pub(crate) fn http_ok(timeout: Duration) -> bool {
    let attempt = || -> Res<bool> {
        let mut c = TcpStream::connect_timeout(&SocketAddr::new(IpAddr::V4(VIP), 80), timeout)?;
        c.set_read_timeout(Some(Duration::from_secs(1)))?;
        c.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
        let mut reply = String::new();
        c.read_to_string(&mut reply)?;
        Ok(reply.starts_with("HTTP/1.") && reply.contains(" 200 "))
    };
    attempt().unwrap_or(false)
}

/// Waits until the client gets an HTTP answer from the VIP with `node`'s MAC in its ARP
/// entry for the VIP (the new master answers, through its gratuitous ARP): the time since
/// `since`, or None after `limit`. When that is later than `slow` seconds (or never), prints
/// what the client saw on the way (answers and ARP entries, by director).
pub(crate) fn wait_vip_via(node: Node, since: Instant, limit: Duration, slow: f64) -> Res<Option<Duration>> {
    let mac = mac_of(node)?;
    let names = [(mac_of(D1)?, D1.name), (mac_of(D2)?, D2.name)];
    let name = |m: &Option<String>| match m {
        None => "none".to_owned(),
        Some(m) => names.iter().find(|(x, _)| x == m).map_or(m.clone(), |(_, n)| (*n).to_owned()),
    };
    let mut trace: Vec<String> = Vec::new();
    let mut last: Option<(bool, Option<String>)> = None;
    let result = in_netns(&ns_path(CLIENT.ns), || loop {
        let ok = http_ok(Duration::from_millis(200));
        let arp = arp_entry(VIP);
        if ok && arp.as_deref() == Some(mac.as_str()) {
            return Ok(Some(since.elapsed()));
        }
        if last.as_ref() != Some(&(ok, arp.clone())) {
            let answer = if ok { "answer" } else { "no answer" };
            trace.push(format!("{:.2} s {answer}, ARP {}", since.elapsed().as_secs_f64(), name(&arp)));
            last = Some((ok, arp));
        }
        if since.elapsed() > limit {
            return Ok(None);
        }
        sleep(20);
    })?;
    if result.is_none_or(|t| t.as_secs_f64() > slow) {
        println!("      the client saw, before it reached {} through {}: {}", VIP, node.name, trace.join("; "));
    }
    Ok(result)
}

pub(crate) fn client_arp() -> String {
    in_netns(&ns_path(CLIENT.ns), || Ok(arp_entry(VIP))).ok().flatten().unwrap_or_else(|| "none".into())
}

pub(crate) fn secs(d: Option<Duration>) -> String {
    d.map_or("never".into(), |d| format!("{:.2} s", d.as_secs_f64()))
}

/// Samples both directors `n` times (~150 ms apart): exactly one MASTER, the VIP on it
/// alone, and it is `master`. The first bad samples, if any.
fn steady(dirs: &[&Director], master: usize, n: usize) -> Res<Vec<String>> {
    let mut bad = Vec::new();
    for s in 0..n {
        let states: Vec<String> = dirs.iter().map(|d| d.state().unwrap_or_else(|e| format!("?({e})"))).collect();
        let vips = dirs.iter().map(|d| holds_vip(d.node)).collect::<Res<Vec<bool>>>()?;
        let masters = states.iter().filter(|s| *s == "MASTER").count();
        let holders = vips.iter().filter(|v| **v).count();
        if masters != 1 || holders != 1 || states[master] != "MASTER" || !vips[master] {
            bad.push(format!("sample {s}: states {states:?}, VIP held {vips:?}"));
        }
        sleep(150);
    }
    bad.truncate(5);
    Ok(bad)
}

pub(crate) fn check_steady(dirs: &[&Director], master: usize, what: &str, f: &mut Vec<String>) -> Res<()> {
    let at = Instant::now();
    let bad = steady(dirs, master, 20)?;
    let who = dirs[master].node.name;
    let took = at.elapsed().as_secs_f64();
    check(bad.is_empty(), format!("{what}: 20 samples in {took:.1} s, one master ({who}), the VIP on {who} only"), f);
    for b in bad {
        println!("      {b}");
    }
    Ok(())
}
