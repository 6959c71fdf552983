//! What the lab programs share: the seed network (a director, four web servers and a client,
//! each in a network namespace of its own) and ways to run commands and make requests in it.
//!
//! Needs root and a kernel with IPVS (the lab). Only documentation addresses are used, and
//! only inside the namespaces made here.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use ipvs_realserver::{Method, Request, Tunnel};

/// The real servers: rs1..rs4.
pub const SERVERS: u8 = 4;
/// The VIP of the NAT service.
pub const NAT_VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
/// The VIP of the direct-routing service.
pub const DR_VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);
/// The VIP of the tunnelling service.
pub const TUN_VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 12);
/// The VIP of the weighted service.
pub const WRR_VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 13);

/// A result with any error.
pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Runs a command; its standard error is the error when it fails.
pub fn sh(args: &[&str]) -> Res<()> {
    let out = Command::new(args[0]).args(&args[1..]).stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!("{}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()).into());
    }
    Ok(())
}

/// Runs a command in the namespace `/run/netns/NS`.
pub fn in_ns(ns: &str, args: &[&str]) -> Res<()> {
    let netns = format!("--net=/run/netns/{ns}");
    let mut all = vec!["nsenter", netns.as_str()];
    all.extend_from_slice(args);
    sh(&all)
}

/// The address of real server `i`.
pub fn rs_addr(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 51, 100, 10 + i)
}

/// Namespaces: `lb` (director), `client`, `rs1`..`rs4`; the servers hang off a bridge in
/// `lb` (198.51.100.0/24), the client off a veth (203.0.113.0/24).
pub fn build_network() -> Res<()> {
    teardown();
    for ns in ["lb", "client"] {
        sh(&["ip", "netns", "add", ns])?;
    }
    in_ns("lb", &["ip", "link", "set", "lo", "up"])?;
    in_ns("lb", &["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
    in_ns("lb", &["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0"])?;
    // Replies of direct-routed and tunnelled servers come back through the director with
    // the VIP, one of its own addresses, as source: accept them instead of dropping them
    // as martians.
    in_ns("lb", &["sysctl", "-qw", "net.ipv4.conf.all.accept_local=1"])?;
    in_ns("lb", &["sysctl", "-qw", "net.ipv4.conf.default.accept_local=1"])?;
    in_ns("lb", &["ip", "link", "add", "br0", "type", "bridge"])?;
    in_ns("lb", &["ip", "addr", "add", "198.51.100.1/24", "dev", "br0"])?;
    in_ns("lb", &["ip", "link", "set", "br0", "up"])?;
    in_ns("lb", &["ip", "link", "add", "vip0", "type", "dummy"])?;
    for vip in [NAT_VIP, DR_VIP, TUN_VIP, WRR_VIP] {
        in_ns("lb", &["ip", "addr", "add", &format!("{vip}/32"), "dev", "vip0"])?;
    }
    in_ns("lb", &["ip", "link", "set", "vip0", "up"])?;
    // Client link.
    sh(&["ip", "link", "add", "c-lb", "netns", "client", "type", "veth", "peer", "lb-c", "netns", "lb"])?;
    in_ns("lb", &["ip", "addr", "add", "203.0.113.1/24", "dev", "lb-c"])?;
    in_ns("lb", &["ip", "link", "set", "lb-c", "up"])?;
    in_ns("client", &["ip", "link", "set", "lo", "up"])?;
    in_ns("client", &["ip", "addr", "add", "203.0.113.2/24", "dev", "c-lb"])?;
    in_ns("client", &["ip", "link", "set", "c-lb", "up"])?;
    in_ns("client", &["ip", "route", "add", "default", "via", "203.0.113.1"])?;
    for i in 1..=SERVERS {
        let ns = format!("rs{i}");
        sh(&["ip", "netns", "add", &ns])?;
        let (inner, outer) = (format!("eth-rs{i}"), format!("br-rs{i}"));
        sh(&["ip", "link", "add", &inner, "netns", &ns, "type", "veth", "peer", &outer, "netns", "lb"])?;
        in_ns("lb", &["ip", "link", "set", &outer, "master", "br0", "up"])?;
        in_ns(&ns, &["ip", "link", "set", "lo", "up"])?;
        in_ns(&ns, &["ip", "addr", "add", &format!("{}/24", rs_addr(i)), "dev", &inner])?;
        in_ns(&ns, &["ip", "link", "set", &inner, "up"])?;
        in_ns(&ns, &["ip", "route", "add", "default", "via", "198.51.100.1"])?;
        // Direct routing (the VIP on the loopback, never answered for by ARP) and IPIP (the
        // VIP on the tunnel device, which decapsulates; reverse-path filter loose), made
        // ready by the same code as `ipvs realserver prepare`, then checked.
        let path = format!("/run/netns/{ns}");
        for method in [Method::Dr, Method::Tun(Tunnel::Ipip)] {
            let vip = if method == Method::Dr { DR_VIP } else { TUN_VIP };
            let req = Request::new(method).vip(IpAddr::V4(vip)).dev(inner.clone()).netns(&path);
            ipvs_realserver::prepare(&req).map_err(|f| format!("{ns}: prepare: {}", f.error))?;
            let problems = ipvs_realserver::check(&req)?;
            if !problems.is_empty() {
                let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
                return Err(format!("{ns} not ready after prepare: {}", text.join("; ")).into());
            }
        }
        // A web server whose page names it.
        let root = format!("/tmp/ipvs-seed/rs{i}");
        std::fs::create_dir_all(&root)?;
        std::fs::write(format!("{root}/index.html"), format!("rs{i}\n"))?;
        in_ns(&ns, &["busybox", "httpd", "-p", "80", "-h", &root])?;
    }
    Ok(())
}

/// Removes the network (and stops the web servers).
pub fn teardown() {
    let _ = Command::new("pkill").args(["-f", "busybox httpd -p 80 -h /tmp/ipvs-seed"]).status();
    for ns in ["lb", "client", "rs1", "rs2", "rs3", "rs4"] {
        let _ = Command::new("ip").args(["netns", "del", ns]).stderr(Stdio::null()).status();
    }
}

/// Makes `n` HTTP requests to `vip:80` from the client namespace, each on a new connection,
/// and counts which server answered.
pub fn requests(vip: Ipv4Addr, n: usize) -> Res<BTreeMap<String, usize>> {
    requests_from("/run/netns/client", vip, n)
}

/// Makes `n` HTTP requests to `vip:80` from the network namespace at the path `netns`, each
/// on a new connection (5 s bounds), and counts which server answered (the page's body).
pub fn requests_from(netns: &str, vip: Ipv4Addr, n: usize) -> Res<BTreeMap<String, usize>> {
    in_netns(netns, || {
        let mut counts = BTreeMap::new();
        for _ in 0..n {
            let addr = SocketAddr::new(IpAddr::V4(vip), 80);
            let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
            c.set_read_timeout(Some(Duration::from_secs(5)))?;
            c.write_all(b"GET / HTTP/1.0\r\nHost: seed\r\n\r\n")?;
            let mut reply = String::new();
            c.read_to_string(&mut reply)?;
            let body = reply.split("\r\n\r\n").nth(1).unwrap_or("").trim().to_string();
            *counts.entry(body).or_insert(0) += 1;
        }
        Ok(counts)
    })
}

/// Runs `f` in a thread that has entered the client's namespace.
pub fn in_client<T: Send>(f: impl FnOnce() -> Res<T> + Send) -> Res<T> {
    in_netns("/run/netns/client", f)
}

/// Prints a check and notes it if it failed.
pub fn check(cond: bool, what: String, failures: &mut Vec<String>) {
    println!("  [{}] {what}", if cond { "ok" } else { "FAILED" });
    if !cond {
        failures.push(what);
    }
}

/// One sample of a Prometheus exposition: name, labels (sorted), value.
pub type Sample = (String, Vec<(String, String)>, f64);

/// The samples of a Prometheus text exposition (0.0.4 or OpenMetrics), comments skipped.
/// Label values with escapes are read as written (the lab's values have none).
pub fn parse_exposition(text: &str) -> Res<Vec<Sample>> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').ok_or_else(|| format!("no value: {line:?}"))?;
        let value: f64 = value.parse().map_err(|e| format!("{line:?}: {e}"))?;
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), Vec::new()),
            Some((name, rest)) => {
                let inner = rest.strip_suffix('}').ok_or_else(|| format!("unclosed labels: {line:?}"))?;
                let mut labels = Vec::new();
                for pair in inner.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").ok_or_else(|| format!("bad label {pair:?} in {line:?}"))?;
                    labels.push((k.to_owned(), v.trim_end_matches('"').to_owned()));
                }
                labels.sort();
                (name.to_owned(), labels)
            }
        };
        out.push((name, labels, value));
    }
    Ok(out)
}

/// GET `path` from `addr` over HTTP/1.0 (the lab's own servers on loopback), in the
/// network namespace at `netns`: the body.
pub fn http_get(netns: &str, addr: &str, path: &str) -> Res<String> {
    http_get_within(netns, addr, path, Duration::from_secs(120))
}

/// [`http_get`] with a read timeout of `limit`.
pub fn http_get_within(netns: &str, addr: &str, path: &str, limit: Duration) -> Res<String> {
    http_body(path, http_fetch(netns, addr, path, limit)?.0)
}

/// The raw reply to `GET path` (HTTP/1.0, so the server closes after it), as it arrived, and
/// when its first byte came (after the request was sent): the time this takes is the time to
/// the reply's last byte, nothing done with it yet.
pub fn http_fetch(netns: &str, addr: &str, path: &str, limit: Duration) -> Res<(Vec<u8>, Duration)> {
    http_fetch_asking(netns, addr, path, "", limit)
}

/// [`http_fetch`] with more header lines in the request (`headers`: each ending in CRLF).
pub fn http_fetch_asking(
    netns: &str,
    addr: &str,
    path: &str,
    headers: &str,
    limit: Duration,
) -> Res<(Vec<u8>, Duration)> {
    in_netns(netns, || {
        let sock: SocketAddr = addr.parse()?;
        let mut c = TcpStream::connect_timeout(&sock, Duration::from_secs(5))?;
        c.set_read_timeout(Some(limit))?;
        c.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n{headers}\r\n").as_bytes())?;
        let sent = std::time::Instant::now();
        let mut reply = Vec::with_capacity(1 << 20);
        let mut first = None;
        let mut piece = vec![0u8; 1 << 20];
        loop {
            let n = c.read(&mut piece)?;
            if n == 0 {
                break;
            }
            first.get_or_insert_with(|| sent.elapsed());
            reply.extend_from_slice(&piece[..n]);
        }
        Ok((reply, first.unwrap_or_else(|| sent.elapsed())))
    })
}

/// The body of a reply [`http_fetch_asking`] got for `path` asking for gzip, if its status
/// is 200 and it came as `Content-Encoding: gzip`: the text and the size it came in.
pub fn http_gzip_body(path: &str, reply: &[u8]) -> Res<(String, usize)> {
    let at = reply.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no HTTP header end")?;
    let head = String::from_utf8_lossy(&reply[..at]).to_lowercase();
    if !head.starts_with("http/1.1 200") && !head.starts_with("http/1.0 200") {
        return Err(format!("GET {path}: {}", head.lines().next().unwrap_or("")).into());
    }
    if !head.lines().any(|l| l.starts_with("content-encoding:") && l.contains("gzip")) {
        return Err(format!("GET {path}: asked for gzip, the reply is not gzip-encoded").into());
    }
    let body = &reply[at + 4..];
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(body), &mut text)
        .map_err(|e| format!("GET {path}: the gzip stream: {e}"))?;
    Ok((text, body.len()))
}

/// The body of a reply [`http_fetch`] got for `path`, if its status is 200 and it is text.
pub fn http_body(path: &str, reply: Vec<u8>) -> Res<String> {
    let reply = String::from_utf8(reply)?;
    let (head, body) = reply.split_once("\r\n\r\n").ok_or("no HTTP header end")?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(format!("GET {path}: {}", head.lines().next().unwrap_or("")).into());
    }
    Ok(body.to_owned())
}

/// Waits until something listens on `addr` in the namespace (at most `limit`).
pub fn wait_listening(netns: &str, addr: &str, limit: Duration) -> Res<()> {
    let until = std::time::Instant::now() + limit;
    loop {
        let ns = File::open(netns)?;
        let up = std::thread::scope(|s| {
            s.spawn(|| -> bool {
                nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).is_ok()
                    && addr
                        .parse()
                        .ok()
                        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
            })
            .join()
            .unwrap_or(false)
        });
        if up {
            return Ok(());
        }
        if std::time::Instant::now() > until {
            return Err(format!("nothing listens on {addr} after {limit:?}").into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs a command in the namespace `/run/netns/NS` and returns its standard output.
pub fn ns_output(ns: &str, args: &[&str]) -> Res<String> {
    let out = Command::new("nsenter").arg(format!("--net=/run/netns/{ns}")).args(args).stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(format!("{ns}: {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// Runs `f` in a thread that has entered the network namespace at the path `netns`.
pub fn in_netns<T: Send>(netns: &str, f: impl FnOnce() -> Res<T> + Send) -> Res<T> {
    let ns = File::open(netns).map_err(|e| format!("{netns}: {e}"))?;
    std::thread::scope(|s| {
        s.spawn(|| -> Res<T> {
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)?;
            f()
        })
        .join()
        .map_err(|_| "namespace thread panicked")?
    })
}
