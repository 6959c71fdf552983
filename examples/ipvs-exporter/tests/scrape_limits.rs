//! Row 6: clients that ask for /metrics and never read cannot make the exporter hold a page
//! (and a reading of the table) each. The `ipvs-exporter` binary runs on a 20,000 x 2 mock
//! table; 20 connections send `GET /metrics` and read nothing; the memory the exporter holds
//! (its peak resident set, VmHWM) stays within what a few scrapes take, and a normal scrape
//! (one that honours a 503's Retry-After) still completes meanwhile.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ipvs_exporter::serve::MAX_PAGES;

/// The child, killed (by its id) and reaped when the test ends, whatever happens.
struct Exporter {
    child: Child,
    addr: SocketAddr,
    rules: std::path::PathBuf,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.rules);
    }
}

/// A kB figure of /proc/PID/status (`VmRSS`, `VmHWM`).
fn kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix(" kB")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn start(services: u32) -> Exporter {
    let rules = std::env::temp_dir().join(format!("ipvs-exporter-limits-{}.rules", std::process::id()));
    let mut text = String::new();
    for i in 0..services {
        // Documentation addresses only: 250 VIPs, each on as many ports as it takes.
        let vip = format!("192.0.2.{}:{}", i % 250 + 1, 1000 + i / 250);
        text.push_str(&format!("-A -t {vip} -s rr\n"));
        for j in 1..=2u32 {
            let rip = format!("198.51.100.{}:{}", j, 1000 + i);
            text.push_str(&format!("-a -t {vip} -r {rip} -m -w 1\n"));
        }
    }
    std::fs::write(&rules, text).unwrap();
    // A port free a moment ago (the exporter binds it itself).
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_ipvs-exporter"))
        .arg(format!("--mock={}", rules.display()))
        .arg(format!("--listen={addr}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let e = Exporter { child, addr, rules };
    let t = Instant::now();
    while TcpStream::connect_timeout(&e.addr, Duration::from_secs(1)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(120), "the exporter does not listen on {}", e.addr);
        std::thread::sleep(Duration::from_millis(100));
    }
    e
}

/// A normal scrape: GET `path` over HTTP/1.0, read whole; a 503 is retried after its
/// Retry-After (at most 30 times). Returns the body of the 200. Each exchange is bounded.
pub fn scrape(addr: SocketAddr, path: &str) -> String {
    for _ in 0..30 {
        let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        write!(c, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
        let mut reply = Vec::new();
        c.read_to_end(&mut reply).unwrap();
        let reply = String::from_utf8(reply).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head in {reply:?}"));
        let status = head.split(' ').nth(1).unwrap_or_default();
        if status == "503" {
            let after = head
                .lines()
                .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("retry-after")))
                .and_then(|(_, v)| v.trim().parse::<u64>().ok())
                .unwrap_or_else(|| panic!("a 503 without Retry-After: {head}"));
            assert!(after <= 60, "{head}");
            std::thread::sleep(Duration::from_secs(after));
            continue;
        }
        assert_eq!(status, "200", "{head}");
        return body.to_owned();
    }
    panic!("{path} answered 503 thirty times");
}

/// Connections that send the request and never read the reply.
fn hang(addr: SocketAddr, path: &str, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
            write!(c, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            c
        })
        .collect()
}

#[test]
fn clients_that_never_read_do_not_each_hold_a_scrape() {
    let e = start(20_000);
    let pid = e.child.id();
    let before = kb(pid, "VmRSS");
    let page = scrape(e.addr, "/metrics");
    assert!(page.ends_with("# EOF\n") && page.len() > 50_000_000, "{} bytes", page.len());
    drop(page);
    // What one scrape takes (its reading, its encoding, its pieces).
    let one = kb(pid, "VmHWM").saturating_sub(before).max(1);
    let slow = hang(e.addr, "/metrics", 20);
    // Let them do their worst (a reading and a page each, before the limits).
    std::thread::sleep(Duration::from_secs(8));
    let page = scrape(e.addr, "/metrics");
    assert!(page.ends_with("# EOF\n"), "a normal scrape meanwhile is whole");
    drop(page);
    let peak = kb(pid, "VmHWM");
    let bound = before + (MAX_PAGES as u64 + 2) * one;
    eprintln!("before {before} kB, one scrape {one} kB, peak with 20 that never read {peak} kB, bound {bound} kB");
    assert!(
        peak <= bound,
        "20 clients that never read took the exporter to {peak} kB; one scrape takes {one} kB over {before} kB \
         (bound {bound} kB)"
    );
    drop(slow);
}
