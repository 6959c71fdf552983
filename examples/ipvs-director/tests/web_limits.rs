//! Row 7: the director's pages are bounded as the exporter's are. The `ipvs-director` binary
//! runs on the in-memory kernel with 3,000 virtual servers of 5 real servers each (a /metrics
//! of tens of MB); 50 connections ask for /metrics and 10 for /status and read nothing; the
//! memory the director holds (its peak resident set, VmHWM) stays within what a few pages take,
//! and a normal /metrics and /status (honouring a 503's Retry-After) still complete meanwhile.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ipvs_exporter::serve::MAX_PAGES;

/// The child, killed (by its id) and reaped when the test ends, whatever happens.
struct Director {
    child: Child,
    addr: SocketAddr,
    config: std::path::PathBuf,
}

impl Drop for Director {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
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

/// GET `path` over HTTP/1.0, read whole; a 503 is retried after its Retry-After (at most 30
/// times). Returns the body of the 200. Each exchange is bounded.
fn get(addr: SocketAddr, path: &str) -> String {
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
        assert_eq!(status, "200", "{path}: {head}");
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

fn start(virtual_servers: u32, real_servers: u32) -> Director {
    let config = std::env::temp_dir().join(format!("ipvs-director-web-limits-{}.toml", std::process::id()));
    let mut text = String::new();
    for v in 0..virtual_servers {
        let vip = format!("2001:db8:1::{v:x}");
        write!(text, "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"{vip}\"\nport = 80\nscheduler = \"rr\"\n")
            .unwrap();
        text.push_str("forward = \"nat\"\n");
        for r in 0..real_servers {
            let rip = format!("2001:db8:2::{:x}", v * real_servers + r + 1);
            // No check: the real server is up (and in the kernel's table) all along.
            write!(text, "[[virtual_servers.real_servers]]\naddress = \"{rip}\"\nport = 80\n").unwrap();
        }
    }
    std::fs::write(&config, text).unwrap();
    // A port free a moment ago (the director binds it itself).
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_ipvs-director"))
        .arg("--config")
        .arg(&config)
        .arg("--mock")
        .arg(format!("--listen={addr}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let d = Director { child, addr, config };
    let t = Instant::now();
    while TcpStream::connect_timeout(&d.addr, Duration::from_secs(1)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(120), "the director does not listen on {}", d.addr);
        std::thread::sleep(Duration::from_millis(100));
    }
    d
}

#[test]
fn clients_that_never_read_do_not_each_hold_a_page_of_the_director() {
    let d = start(3_000, 5);
    let pid = d.child.id();
    // Wait for the start-up apply: every real server in the table.
    let t = Instant::now();
    let mut metrics = get(d.addr, "/metrics");
    while !metrics.contains("\nipvs_destinations 15000\n") {
        assert!(t.elapsed() < Duration::from_secs(120), "the table was not applied");
        std::thread::sleep(Duration::from_millis(500));
        metrics = get(d.addr, "/metrics");
    }
    assert!(metrics.ends_with("# EOF\n"), "whole");
    drop(metrics);
    let status = get(d.addr, "/status");
    assert!(status.trim_end().ends_with('}'));
    drop(status);
    let metrics = get(d.addr, "/metrics");
    let size = metrics.len();
    drop(metrics);
    // The peak so far: the start-up apply and a few whole pages, one at a time. However many
    // clients hang, the pages held at once are bounded (MAX_PAGES, plus the normal scrapes
    // below), each at most a reading and its text: the bound allows a whole /metrics page
    // for each (a page is streamed, so it really holds far less).
    let before = kb(pid, "VmHWM");
    let one = (size as u64 / 1024).max(1);
    let slow = [hang(d.addr, "/metrics", 50), hang(d.addr, "/status", 10)];
    // Let them do their worst (a reading and a whole page each, before the limits).
    std::thread::sleep(Duration::from_secs(8));
    let metrics = get(d.addr, "/metrics");
    assert!(metrics.ends_with("# EOF\n"), "a normal scrape meanwhile is whole");
    drop(metrics);
    assert!(get(d.addr, "/status").trim_end().ends_with('}'), "a normal /status meanwhile is whole");
    let peak = kb(pid, "VmHWM");
    let bound = before + (MAX_PAGES as u64 + 2) * one;
    eprintln!(
        "/metrics {size} bytes; peak before {before} kB, a page {one} kB, peak with 60 that never read {peak} kB, \
         bound {bound} kB"
    );
    assert!(
        peak <= bound,
        "60 clients that never read took the director to {peak} kB; a page is {one} kB, the peak before them \
         {before} kB (bound {bound} kB)"
    );
    drop(slow);
}
