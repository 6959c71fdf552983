//! VRRP failover of `ipvs-director`, with real packets between network namespaces on one
//! bridge: two directors (d1 priority 150, d2 priority 100) holding the VIP 192.0.2.10 in
//! turn, two direct-routing real servers, a client, and a namespace that crafts adverts.
//!
//! * **Failover**: SIGKILL of the master, its link unplugged, SIGTERM (priority 0): the backup
//!   takes over and the client reaches the VIP through it (its ARP entry names the new
//!   master) within 3 × advert_int + skew, measured; the master returns and preempts, or
//!   does not with `nopreempt`; equal priorities: the higher primary address wins; sampled
//!   steady states never show two masters or the VIP twice. The same sequence runs first with
//!   keepalived on both directors, so the harness and the expectations are proven on the
//!   reference and the times are printed side by side.
//! * **Connection sync**: a long TCP stream through the VIP (direct routing) lives on across
//!   a SIGKILL failover with `lvs_sync_daemon`, and breaks without it.
//! * **keepalived as the peer**, VRRPv2 and VRRPv3: ours master and keepalived backup, then
//!   the reverse; each takes over from the other; keepalived logs no complaint about ours.
//! * **Malformed adverts** (bad checksum, TTL, VRID, version, type, interval, authentication,
//!   too short), crafted here on a raw socket: each counted under its reason, no state
//!   change, no crash; the same advert uncorrupted is obeyed.
//!
//! Both implementations get the same keepalived.conf text (keepalived: VRRP subsystem only,
//! with the IPVS table loaded by ipvsadm; ours: `--keepalived` runs VRRP and the table).
//!
//!     vrrp-scenario PATH-TO-ipvs-director
//!
//! `IPVS_VRRP_SECTIONS` (comma-separated: baseline, failover, nopreempt, equal, sync, interop,
//! malformed) runs a subset. Needs root and a kernel with IPVS (the lab runs it). Exits
//! non-zero if a check fails.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipvs_director::vrrp::ip::emit_ipv4;
use ipvs_director::vrrp::packet::internet_checksum;
use ipvs_director::vrrp::{Addresses, Advert, Auth, MULTICAST_V4};
use ipvs_lab_tools::{check, in_netns, in_ns, ns_output, parse_exposition, sh, Res};
use ipvs_realserver::{Method, Request};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

const WORK: &str = "/tmp/ipvs-vrrp-lab";
const STATUS: &str = "127.0.0.1:9745";
const SWITCH: &str = "vr-sw";
const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const VRID: u8 = 51;
const STREAM_PORT: u16 = 9000;
/// Added to every time bound: the lab is an emulated (TCG) machine.
const MARGIN: f64 = 1.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Node {
    name: &'static str,
    ns: &'static str,
    addr: Ipv4Addr,
}

const D1: Node = Node { name: "d1", ns: "vr-d1", addr: Ipv4Addr::new(192, 0, 2, 1) };
const D2: Node = Node { name: "d2", ns: "vr-d2", addr: Ipv4Addr::new(192, 0, 2, 2) };
const RS1: Node = Node { name: "rs1", ns: "vr-rs1", addr: Ipv4Addr::new(192, 0, 2, 11) };
const RS2: Node = Node { name: "rs2", ns: "vr-rs2", addr: Ipv4Addr::new(192, 0, 2, 12) };
const CLIENT: Node = Node { name: "cl", ns: "vr-cl", addr: Ipv4Addr::new(192, 0, 2, 100) };
const CRAFT: Node = Node { name: "x", ns: "vr-x", addr: Ipv4Addr::new(192, 0, 2, 99) };
const NODES: [Node; 6] = [D1, D2, RS1, RS2, CLIENT, CRAFT];

fn ns_path(ns: &str) -> String {
    format!("/run/netns/{ns}")
}

fn sleep(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// `3 × advert_int + skew` (RFC 3768 §6.1, RFC 5798 §6.1) for a backup of `priority`.
fn master_down(priority: u8, advert_int: f64) -> f64 {
    3.0 * advert_int + skew(priority, advert_int)
}

fn skew(priority: u8, advert_int: f64) -> f64 {
    (256.0 - f64::from(priority)) * advert_int / 256.0
}

// ---------------------------------------------------------------------------------------
// The network.

/// What runs for the whole scenario: the web servers and the stream server.
struct Network {
    httpd: Vec<Child>,
    stop: Arc<AtomicBool>,
}

impl Drop for Network {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for c in &mut self.httpd {
            let _ = c.kill();
            let _ = c.wait();
        }
        teardown();
    }
}

fn teardown() {
    for ns in NODES.iter().map(|n| n.ns).chain([SWITCH]) {
        let _ = Command::new("ip").args(["netns", "del", ns]).stderr(Stdio::null()).status();
    }
}

/// One bridge (in `vr-sw`), every node on it through a veth `eth0` (the switch side is
/// `p-NAME`), all in 192.0.2.0/24. The real servers are made ready for direct routing of
/// the VIP by the `ipvs realserver prepare` code and serve HTTP on 80 and a stream on 9000.
fn build_network() -> Res<Network> {
    teardown();
    std::fs::create_dir_all(WORK)?;
    sh(&["ip", "netns", "add", SWITCH])?;
    in_ns(SWITCH, &["ip", "link", "set", "lo", "up"])?;
    in_ns(SWITCH, &["ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"])?;
    in_ns(SWITCH, &["ip", "link", "set", "br0", "up"])?;
    for node in NODES {
        sh(&["ip", "netns", "add", node.ns])?;
        let port = format!("p-{}", node.name);
        sh(&["ip", "link", "add", "eth0", "netns", node.ns, "type", "veth", "peer", "name", &port, "netns", SWITCH])?;
        in_ns(SWITCH, &["ip", "link", "set", &port, "master", "br0", "up"])?;
        in_ns(node.ns, &["ip", "link", "set", "lo", "up"])?;
        in_ns(node.ns, &["ip", "addr", "add", &format!("{}/24", node.addr), "dev", "eth0"])?;
        in_ns(node.ns, &["ip", "link", "set", "eth0", "up"])?;
    }
    let _ = MACS.set(vec![(D1, mac_of(D1)?), (D2, mac_of(D2)?)]);
    // The crafted adverts leave by eth0 (a raw socket with its own IP header routes them).
    in_ns(CRAFT.ns, &["ip", "route", "add", "224.0.0.0/4", "dev", "eth0"])?;
    let mut net = Network { httpd: Vec::new(), stop: Arc::new(AtomicBool::new(false)) };
    for rs in [RS1, RS2] {
        let req = Request::new(Method::Dr).vip(IpAddr::V4(VIP)).dev("eth0").netns(ns_path(rs.ns));
        ipvs_realserver::prepare(&req).map_err(|f| format!("{}: prepare: {}", rs.name, f.error))?;
        let problems = ipvs_realserver::check(&req)?;
        if !problems.is_empty() {
            let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            return Err(format!("{} not ready after prepare: {}", rs.name, text.join("; ")).into());
        }
        let root = format!("{WORK}/{}", rs.name);
        std::fs::create_dir_all(&root)?;
        std::fs::write(format!("{root}/index.html"), format!("{}\n", rs.name))?;
        net.httpd.push(
            Command::new("nsenter")
                .arg(format!("--net={}", ns_path(rs.ns)))
                .args(["busybox", "httpd", "-f", "-p", "80", "-h", &root])
                .stdin(Stdio::null())
                .spawn()?,
        );
    }
    serve_stream(RS1, net.stop.clone())?;
    for rs in [RS1, RS2] {
        ipvs_lab_tools::wait_listening(&ns_path(rs.ns), &format!("{}:80", rs.addr), Duration::from_secs(10))?;
    }
    Ok(net)
}

/// A server on `node`:9000 that writes 1 KiB every 10 ms to each connection until it fails.
fn serve_stream(node: Node, stop: Arc<AtomicBool>) -> Res<()> {
    let ns = File::open(ns_path(node.ns))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let bound = nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| e.to_string())
            .and_then(|()| TcpListener::bind(("0.0.0.0", STREAM_PORT)).map_err(|e| e.to_string()))
            .and_then(|l| l.set_nonblocking(true).map(|()| l).map_err(|e| e.to_string()));
        let listener = match bound {
            Ok(l) => {
                let _ = tx.send(Ok(()));
                l
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((mut s, _)) => {
                    let stop = stop.clone();
                    std::thread::spawn(move || {
                        let chunk = [b'x'; 1024];
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_write_timeout(Some(Duration::from_secs(30)));
                        while !stop.load(Ordering::SeqCst) && s.write_all(&chunk).is_ok() {
                            sleep(10);
                        }
                    });
                }
                Err(_) => sleep(50),
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "stream server did not start")??;
    Ok(())
}

/// The directors' MACs, read once (reading them takes a process each, too slow inside a
/// measured takeover).
static MACS: std::sync::OnceLock<Vec<(Node, String)>> = std::sync::OnceLock::new();

fn mac_of(node: Node) -> Res<String> {
    if let Some(m) = MACS.get().and_then(|m| m.iter().find(|(n, _)| *n == node)) {
        return Ok(m.1.clone());
    }
    let out = ns_output(node.ns, &["ip", "-o", "link", "show", "dev", "eth0"])?;
    let mut words = out.split_whitespace();
    while let Some(w) = words.next() {
        if w == "link/ether" {
            return Ok(words.next().unwrap_or_default().to_owned());
        }
    }
    Err(format!("{}: no MAC in {out:?}", node.name).into())
}

/// Whether `node`'s eth0 has the VIP (getifaddrs in a thread inside its namespace: no
/// process to start, so that steady states can be sampled quickly).
fn holds_vip(node: Node) -> Res<bool> {
    in_netns(&ns_path(node.ns), || {
        Ok(nix::ifaddrs::getifaddrs()?.any(|a| {
            a.interface_name == "eth0" && a.address.and_then(|s| s.as_sockaddr_in().map(|i| i.ip())) == Some(VIP)
        }))
    })
}

fn set_port(node: Node, up: bool) -> Res<()> {
    in_ns(SWITCH, &["ip", "link", "set", &format!("p-{}", node.name), if up { "up" } else { "down" }])
}

fn sync_daemons(node: Node) -> String {
    ns_output(node.ns, &["ipvsadm", "-L", "--daemon"]).unwrap_or_else(|e| e.to_string())
}

/// Leaves the directors' namespaces as built: no VIP, no IPVS table, no sync daemon, links
/// up; the client forgets its neighbours.
fn clean() -> Res<()> {
    for d in [D1, D2] {
        let _ = Command::new("nsenter")
            .arg(format!("--net={}", ns_path(d.ns)))
            .args(["ip", "addr", "del", &format!("{VIP}/24"), "dev", "eth0"])
            .stderr(Stdio::null())
            .status();
        in_ns(d.ns, &["ipvsadm", "-C"])?;
        for role in ["master", "backup"] {
            let _ = ns_output(d.ns, &["ipvsadm", "--stop-daemon", role]);
        }
        set_port(d, true)?;
    }
    isolate(false)?;
    let _ = ns_output(CLIENT.ns, &["ip", "neigh", "flush", "dev", "eth0"]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The configuration: one keepalived.conf text per node, the same for both implementations.

#[derive(Clone, Copy, Debug)]
struct Vrrp {
    priority: u8,
    /// `state MASTER` (else BACKUP).
    master: bool,
    nopreempt: bool,
    version: u8,
    /// `lvs_sync_daemon eth0 VI_1`.
    sync: bool,
}

const BASE: Vrrp = Vrrp { priority: 150, master: false, nopreempt: false, version: 2, sync: false };

fn real_server(rs: Node, port: u16) -> String {
    format!(
        "    real_server {} {port} {{\n        weight 1\n        TCP_CHECK {{\n            connect_timeout 1\n            retry 1\n            delay_before_retry 1\n            warmup 0\n        }}\n    }}\n",
        rs.addr
    )
}

fn keepalived_conf(v: Vrrp) -> String {
    let mut global = String::new();
    if v.version == 3 {
        global += "    vrrp_version 3\n";
    }
    if v.sync {
        global += "    lvs_sync_daemon eth0 VI_1\n";
    }
    let global = if global.is_empty() { String::new() } else { format!("global_defs {{\n{global}}}\n\n") };
    let state = if v.master { "MASTER" } else { "BACKUP" };
    let nopreempt = if v.nopreempt { "    nopreempt\n" } else { "" };
    format!(
        "{global}vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n    virtual_router_id {VRID}\n    priority {}\n    advert_int 1\n{nopreempt}    virtual_ipaddress {{\n        {VIP}/24 dev eth0\n    }}\n}}\n\n\
         virtual_server {VIP} 80 {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    ha_suspend\n{}{}}}\n\n\
         virtual_server {VIP} {STREAM_PORT} {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n{}}}\n",
        v.priority,
        real_server(RS1, 80),
        real_server(RS2, 80),
        real_server(RS1, STREAM_PORT),
    )
}

/// The table keepalived's checker would make from that file (keepalived runs VRRP only here).
fn load_table(node: Node) -> Res<()> {
    let vip80 = format!("{VIP}:80");
    let vip_stream = format!("{VIP}:{STREAM_PORT}");
    in_ns(node.ns, &["ipvsadm", "-C"])?;
    in_ns(node.ns, &["ipvsadm", "-A", "-t", &vip80, "-s", "rr"])?;
    for rs in [RS1, RS2] {
        in_ns(node.ns, &["ipvsadm", "-a", "-t", &vip80, "-r", &format!("{}:80", rs.addr), "-g", "-w", "1"])?;
    }
    in_ns(node.ns, &["ipvsadm", "-A", "-t", &vip_stream, "-s", "rr"])?;
    in_ns(node.ns, &["ipvsadm", "-a", "-t", &vip_stream, "-r", &format!("{}:{STREAM_PORT}", RS1.addr), "-g", "-w", "1"])
}

// ---------------------------------------------------------------------------------------
// The directors.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ours,
    Keepalived,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Keepalived => "keepalived",
        }
    }
}

struct Director {
    kind: Kind,
    node: Node,
    child: Child,
    log: String,
    vrrp_pid: String,
}

impl Director {
    fn start(program: &str, kind: Kind, node: Node, v: Vrrp, tag: &str) -> Res<Director> {
        let base = format!("{WORK}/{tag}-{}-{}", node.name, kind.label());
        let conf = format!("{base}.conf");
        std::fs::write(&conf, keepalived_conf(v))?;
        let log = format!("{base}.log");
        let vrrp_pid = format!("{base}-vrrp.pid");
        let out = File::create(&log)?;
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", ns_path(node.ns)));
        match kind {
            Kind::Ours => {
                cmd.args([program, "--keepalived", &conf, "--listen", STATUS]);
            }
            Kind::Keepalived => {
                load_table(node)?;
                let pid = format!("{base}.pid");
                cmd.args(["keepalived", "-n", "-l", "-D", "-P", "-G", "-f", &conf, "-p", &pid, "-r", &vrrp_pid]);
            }
        }
        let child = cmd.stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out).spawn()?;
        Ok(Director { kind, node, child, log, vrrp_pid })
    }

    fn who(&self) -> String {
        format!("{} ({})", self.node.name, self.kind.label())
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].iter().map(|l| format!("      | {l}\n")).collect()
    }

    /// Ours: the instance VI_1 of /status.
    fn status(&self) -> Res<Value> {
        let body = get(&ns_path(self.node.ns), "/status")?;
        let v: Value = serde_json::from_str(&body)?;
        v["vrrp"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["name"] == "VI_1"))
            .cloned()
            .ok_or_else(|| format!("{}: no instance VI_1 in /status \"vrrp\": {body}", self.who()).into())
    }

    /// MASTER, BACKUP, FAULT or INIT: ours from /status, keepalived from its last
    /// "Entering ... STATE" line.
    fn state(&self) -> Res<String> {
        match self.kind {
            Kind::Ours => Ok(self.status()?["state"].as_str().unwrap_or("?").to_owned()),
            Kind::Keepalived => Ok(self
                .log_text()
                .lines()
                .rev()
                .find_map(|l| l.split_once("(VI_1) Entering ").and_then(|(_, r)| r.split_whitespace().next()))
                .unwrap_or("INIT")
                .to_owned()),
        }
    }

    /// Waits until the state is `want` (at most `limit`): how long it took.
    fn wait_state(&mut self, want: &str, limit: Duration) -> Res<Option<Duration>> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if !self.alive() {
                return Err(format!("{} exited:\n{}", self.who(), self.log_tail()).into());
            }
            if self.state().is_ok_and(|s| s == want) {
                return Ok(Some(start.elapsed()));
            }
            sleep(100);
        }
        Ok(None)
    }

    fn pids(&self) -> Vec<Pid> {
        let mut pids = Vec::new();
        if let Ok(p) = i32::try_from(self.child.id()) {
            pids.push(Pid::from_raw(p));
        }
        if let Some(p) = std::fs::read_to_string(&self.vrrp_pid).ok().and_then(|t| t.trim().parse().ok()) {
            pids.push(Pid::from_raw(p));
        }
        pids
    }

    /// SIGKILL: nothing runs to clean up. keepalived's parent is stopped first so that it
    /// neither respawns its VRRP child nor lets it stop cleanly.
    fn kill(&mut self) {
        let pids = self.pids();
        if self.kind == Kind::Keepalived {
            if let Some(parent) = pids.first() {
                let _ = kill(*parent, Signal::SIGSTOP);
            }
        }
        for p in pids.iter().rev() {
            let _ = kill(*p, Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }

    fn signal(&self, sig: Signal) {
        if let Some(parent) = self.pids().first() {
            let _ = kill(*parent, sig);
        }
    }

    /// Waits (at most 15 s) for the exit after a signal; SIGKILL after that.
    fn wait_exit(&mut self) -> Res<Duration> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if !self.alive() {
                // keepalived's VRRP child may outlive the parent by a moment.
                while start.elapsed() < Duration::from_secs(15) && self.kind == Kind::Keepalived {
                    let child = self.pids().get(1).copied();
                    if child.is_none_or(|p| kill(p, None).is_err()) {
                        break;
                    }
                    sleep(100);
                }
                return Ok(start.elapsed());
            }
            sleep(100);
        }
        self.kill();
        Err(format!("{} did not stop within 15 s", self.who()).into())
    }

    fn stop(&mut self) -> Res<()> {
        self.signal(Signal::SIGTERM);
        self.wait_exit().map(|_| ())
    }
}

impl Drop for Director {
    fn drop(&mut self) {
        if self.alive() {
            self.kill();
        }
    }
}

/// GET `path` from the director's status listener in `netns` (5 s at most).
fn get(netns: &str, path: &str) -> Res<String> {
    ipvs_lab_tools::http_get_within(netns, STATUS, path, Duration::from_secs(5))
}

// ---------------------------------------------------------------------------------------
// The client's view.

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
fn http_ok(timeout: Duration) -> bool {
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
fn wait_vip_via(node: Node, since: Instant, limit: Duration, slow: f64) -> Res<Option<Duration>> {
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

fn client_arp() -> String {
    in_netns(&ns_path(CLIENT.ns), || Ok(arp_entry(VIP))).ok().flatten().unwrap_or_else(|| "none".into())
}

fn secs(d: Option<Duration>) -> String {
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

fn check_steady(dirs: &[&Director], master: usize, what: &str, f: &mut Vec<String>) -> Res<()> {
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

// ---------------------------------------------------------------------------------------
// 1. Failover.

/// `/status` and `/metrics` of ours, master `m` and backup `b`, and ha_suspend.
fn ours_reports(m: &Director, b: &Director, f: &mut Vec<String>) -> Res<()> {
    let (sm, sb) = (m.status()?, b.status()?);
    check(
        sm["priority"] == 150 && sb["priority"] == 100 && sb["master"] == D1.addr.to_string(),
        format!(
            "/status: priorities {} and {}, the backup names the master {} (d1 {})",
            sm["priority"], sb["priority"], sb["master"], D1.addr
        ),
        f,
    );
    check(
        sm["adverts_sent"].as_u64().unwrap_or(0) > 0
            && sb["adverts_received"].as_u64().unwrap_or(0) > 0
            && sb["adverts_sent"] == 0
            && sm["dropped"] == 0
            && sb["dropped"] == 0,
        format!(
            "/status: master sent {} adverts, backup received {} and sent {}; dropped {} and {}",
            sm["adverts_sent"], sb["adverts_received"], sb["adverts_sent"], sm["dropped"], sb["dropped"]
        ),
        f,
    );
    let metrics =
        |d: &Director| -> Res<Vec<ipvs_lab_tools::Sample>> { parse_exposition(&get(&ns_path(d.node.ns), "/metrics")?) };
    let value = |s: &[ipvs_lab_tools::Sample], name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        s.iter()
            .find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v)))
            .map(|x| x.2)
    };
    let (mm, mb) = (metrics(m)?, metrics(b)?);
    let i = ("instance", "VI_1");
    let state = "ipvs_director_vrrp_state";
    let ok = value(&mm, state, &[i, ("state", "master")]) == Some(1.0)
        && value(&mm, state, &[i, ("state", "backup")]) == Some(0.0)
        && value(&mb, state, &[i, ("state", "backup")]) == Some(1.0)
        && value(&mb, state, &[i, ("state", "master")]) == Some(0.0)
        && value(&mm, "ipvs_director_vrrp_priority", &[i]) == Some(150.0)
        && value(&mm, "ipvs_director_vrrp_adverts_sent_total", &[i]).is_some_and(|v| v > 0.0)
        && value(&mb, "ipvs_director_vrrp_adverts_received_total", &[i]).is_some_and(|v| v > 0.0)
        && value(&mm, "ipvs_director_vrrp_transitions_total", &[i]).is_some_and(|v| v >= 1.0)
        && value(&mb, "ipvs_director_vrrp_master_info", &[i, ("master", &D1.addr.to_string())]) == Some(1.0);
    check(ok, "/metrics: vrrp_state, priority, adverts sent and received, transitions, master_info".into(), f);
    if !ok {
        for s in mm.iter().chain(mb.iter()).filter(|s| s.0.starts_with("ipvs_director_vrrp")) {
            println!("      {s:?}");
        }
    }
    check(
        m.log_text().contains("(VI_1) Entering MASTER STATE") && b.log_text().contains("(VI_1) Entering BACKUP STATE"),
        "logs: \"(VI_1) Entering MASTER STATE\" on d1, \"(VI_1) Entering BACKUP STATE\" on d2".into(),
        f,
    );
    // ha_suspend on the port-80 virtual server: its checks run on the master only.
    let attempts = |d: &Director| -> Res<u64> {
        let v: Value = serde_json::from_str(&get(&ns_path(d.node.ns), "/status")?)?;
        let mut n = 0;
        for vs in v["virtual_servers"].as_array().into_iter().flatten() {
            if vs["virtual_server"].as_str().is_some_and(|s| s.contains(":80")) {
                for rs in vs["real_servers"].as_array().into_iter().flatten() {
                    for c in rs["checks"].as_array().into_iter().flatten() {
                        n += c["attempts"].as_u64().unwrap_or(0);
                    }
                }
            }
        }
        Ok(n)
    };
    let (m0, b0) = (attempts(m)?, attempts(b)?);
    sleep(3000);
    let (m1, b1) = (attempts(m)?, attempts(b)?);
    check(
        m1 > m0 && b1 == b0,
        format!("ha_suspend: in 3 s the master's checks ran {} times, the backup's {} times", m1 - m0, b1 - b0),
        f,
    );
    Ok(())
}

fn takeover_check(kind: Kind, what: &str, took: Option<Duration>, bound: f64, f: &mut Vec<String>) {
    let ok = took.is_some_and(|t| t.as_secs_f64() <= bound + MARGIN);
    check(
        ok,
        format!(
            "{what}: the client reaches the VIP through d2 after {} (bound {bound:.2} s + {MARGIN} s margin)",
            secs(took)
        ),
        f,
    );
    if let Some(t) = took {
        println!("bench vrrp {} {what}: {:.2} s (bound {bound:.2} s)", kind.label(), t.as_secs_f64());
    }
    if !ok {
        let mac = |n: Node| mac_of(n).unwrap_or_else(|e| e.to_string());
        println!("      client's ARP entry for the VIP: {}; d1 {}, d2 {}", client_arp(), mac(D1), mac(D2));
    }
}

/// The main sequence, with both directors of one kind.
fn failover(program: &str, kind: Kind, f: &mut Vec<String>) -> Res<()> {
    println!(
        "\n== failover: two {} directors (d1 priority 150, d2 priority 100; VRRPv2, advert_int 1 s)",
        kind.label()
    );
    clean()?;
    let start =
        |node: Node, priority: u8, tag: &str| Director::start(program, kind, node, Vrrp { priority, ..BASE }, tag);
    let mut d1 = start(D1, 150, "failover")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 alone becomes MASTER ({})", secs(t)), f);
    let mut d2 = start(D2, 100, "failover")?;
    let t = d2.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("d2 joins as BACKUP ({})", secs(t)), f);
    sleep(2000);
    check_steady(&[&d1, &d2], 0, "steady state", f)?;
    let ok = wait_vip_via(D1, Instant::now(), Duration::from_secs(10), 5.0)?;
    check(ok.is_some(), "the client reaches the VIP (HTTP through IPVS, direct routing) through d1".into(), f);
    if kind == Kind::Ours {
        ours_reports(&d1, &d2, f)?;
    }
    let bound = master_down(100, 1.0);

    // SIGKILL of the master.
    let at = Instant::now();
    d1.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), bound + MARGIN)?;
    takeover_check(kind, "takeover after SIGKILL of the master", took, bound, f);
    let state = d2.state()?;
    check(state == "MASTER", format!("d2 is MASTER ({state})"), f);
    println!("      d1 still holds the VIP after SIGKILL (nothing removed it): {}", holds_vip(D1)?);
    if kind == Kind::Ours {
        let s = d2.status()?;
        check(
            s["became_master"] == 1 && s["transitions"].as_u64().unwrap_or(0) >= 2,
            format!("d2 /status: became_master {}, transitions {}", s["became_master"], s["transitions"]),
            f,
        );
    }

    // The master returns and preempts.
    let at = Instant::now();
    d1 = start(D1, 150, "failover-return")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    let t2 = d2.wait_state("BACKUP", Duration::from_secs(10))?;
    check(
        t.is_some() && t2.is_some(),
        format!("d1 returns and preempts: MASTER after {} from its start, d2 BACKUP", secs(t)),
        f,
    );
    if let Some(t) = t {
        println!(
            "bench vrrp {} preemption by the returning master (from its start): {:.2} s",
            kind.label(),
            t.as_secs_f64()
        );
    }
    let back = wait_vip_via(D1, at, Duration::from_secs(15), 15.0)?;
    check(back.is_some(), format!("the client reaches the VIP through d1 again ({})", secs(back)), f);
    check_steady(&[&d1, &d2], 0, "after preemption", f)?;

    // The master's link unplugged (its switch port down), then back.
    let at = Instant::now();
    set_port(D1, false)?;
    let took = wait_vip_via(D2, at, Duration::from_secs(15), bound + MARGIN)?;
    takeover_check(kind, "takeover when the master's link goes down", took, bound, f);
    let t = d1.wait_state("FAULT", Duration::from_secs(5))?;
    let s = d1.state()?;
    check(t.is_some(), format!("d1, its link down, enters FAULT ({s})"), f);
    let state = d2.state()?;
    check(state == "MASTER", format!("d2 is MASTER ({state})"), f);
    let at = Instant::now();
    set_port(D1, true)?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    let t2 = d2.wait_state("BACKUP", Duration::from_secs(10))?;
    check(t.is_some() && t2.is_some(), format!("link back: d1 MASTER again after {}, d2 BACKUP", secs(t)), f);
    let back = wait_vip_via(D1, at, Duration::from_secs(15), 15.0)?;
    check(back.is_some(), format!("the client reaches the VIP through d1 again ({})", secs(back)), f);
    check_steady(&[&d1, &d2], 0, "after the link returns", f)?;

    // SIGTERM: priority 0, the backup takes over after its skew time only.
    let at = Instant::now();
    d1.signal(Signal::SIGTERM);
    let took = wait_vip_via(D2, at, Duration::from_secs(15), skew(100, 1.0) + MARGIN)?;
    takeover_check(kind, "takeover after SIGTERM of the master (priority 0)", took, skew(100, 1.0), f);
    let exited = d1.wait_exit();
    check(exited.is_ok(), format!("d1 exits after SIGTERM ({exited:?})"), f);
    let held = holds_vip(D1)?;
    check(!held, "d1 removed the VIP when it stopped".into(), f);
    if kind == Kind::Keepalived {
        // The complaint filter itself: nothing on adverts keepalived accepts, and it catches
        // what keepalived says about one it refuses (TTL 254).
        check_complaints(&d2, f);
        let mut p = advert_packet(&v2(VRID, 1, Auth::None)?);
        p[8] = 254;
        send_raw(&[p])?;
        let until = Instant::now() + Duration::from_secs(5);
        let mut c = complaints(&d2.log_text());
        while c.is_empty() && Instant::now() < until {
            sleep(100);
            c = complaints(&d2.log_text());
        }
        check(
            !c.is_empty(),
            format!("control: the filter catches keepalived's complaint about a TTL-254 advert ({:?})", c.first()),
            f,
        );
    }
    d2.stop()?;
    Ok(())
}

/// The returning master does not preempt with `nopreempt`.
fn nopreempt(program: &str, kind: Kind, f: &mut Vec<String>) -> Res<()> {
    println!("\n== nopreempt: two {} directors (d1 150, d2 100, both nopreempt)", kind.label());
    clean()?;
    let v = Vrrp { nopreempt: true, ..BASE };
    let mut d1 = Director::start(program, kind, D1, v, "nopreempt")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 alone becomes MASTER ({})", secs(t)), f);
    let mut d2 = Director::start(program, kind, D2, Vrrp { priority: 100, ..v }, "nopreempt")?;
    let t = d2.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("d2 joins as BACKUP ({})", secs(t)), f);
    let at = Instant::now();
    d1.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), master_down(100, 1.0) + MARGIN)?;
    check(took.is_some(), format!("SIGKILL of d1: d2 takes over ({})", secs(took)), f);
    d1 = Director::start(program, kind, D1, v, "nopreempt-return")?;
    let t = d1.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 returns as BACKUP ({})", secs(t)), f);
    // Longer than its master-down time (3.41 s): it would have preempted by then.
    sleep(3000);
    check_steady(&[&d1, &d2], 1, "d1 (priority 150) does not preempt d2 (100)", f)?;
    d1.stop()?;
    d2.stop()?;
    Ok(())
}

/// Equal priorities: the higher primary address wins. A backup hearing an equal priority
/// stays backup (RFC 3768 §6.4.2, and keepalived), so the tie-break is between two masters:
/// the directors are kept apart (isolated bridge ports: no carrier change, the client still
/// reaches both) until both are MASTER, then joined.
fn equal(program: &str, kind: Kind, f: &mut Vec<String>) -> Res<()> {
    println!(
        "\n== equal priorities: two {} directors, priority 100 (d1 {}, d2 {}), both MASTER while apart, then joined",
        kind.label(),
        D1.addr,
        D2.addr
    );
    clean()?;
    let v = Vrrp { priority: 100, ..BASE };
    let mut d1 = Director::start(program, kind, D1, v, "equal")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 alone becomes MASTER ({})", secs(t)), f);
    isolate(true)?;
    let mut d2 = Director::start(program, kind, D2, v, "equal")?;
    let t2 = d2.wait_state("MASTER", Duration::from_secs(20))?;
    let s1 = d1.state()?;
    check(t2.is_some() && s1 == "MASTER", format!("apart, both are MASTER (d2 after {}, d1 {s1})", secs(t2)), f);
    let at = Instant::now();
    isolate(false)?;
    // The client tries the VIP from the moment they are joined.
    let (t1, s2, via) = std::thread::scope(|s| -> Res<_> {
        let client = s.spawn(|| wait_vip_via(D2, at, Duration::from_secs(15), 2.0));
        let t1 = d1.wait_state("BACKUP", Duration::from_secs(10));
        let s2 = d2.state();
        let via = client.join().map_err(|_| "client thread panicked")?;
        Ok((t1?, s2?, via?))
    })?;
    check(
        t1.is_some() && s2 == "MASTER",
        format!("joined: d1 (lower address) BACKUP after {}, d2 (higher) {s2}", secs(t1)),
        f,
    );
    if t1.is_none() || s2 != "MASTER" {
        println!("      d1:\n{}      d2:\n{}", d1.log_tail(), d2.log_tail());
    }
    check(via.is_some(), format!("the client reaches the VIP through d2 ({} after the join)", secs(via)), f);
    check_steady(&[&d1, &d2], 1, "equal priorities", f)?;
    d1.stop()?;
    d2.stop()?;
    Ok(())
}

/// Keeps the directors from hearing each other (isolated bridge ports talk only to the
/// others), or joins them again.
fn isolate(on: bool) -> Res<()> {
    for d in [D1, D2] {
        in_ns(
            SWITCH,
            &["bridge", "link", "set", "dev", &format!("p-{}", d.name), "isolated", if on { "on" } else { "off" }],
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2. Connection sync.

#[derive(Default)]
struct StreamState {
    bytes: u64,
    end: Option<String>,
}

/// A client connection to VIP:9000, read continuously by a thread.
struct Stream {
    state: Arc<Mutex<StreamState>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Stream {
    fn open() -> Res<Stream> {
        let state = Arc::new(Mutex::new(StreamState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let ns = File::open(ns_path(CLIENT.ns))?;
        let (tx, rx) = std::sync::mpsc::channel();
        let (st, sp) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            let conn = nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    TcpStream::connect_timeout(&SocketAddr::new(IpAddr::V4(VIP), STREAM_PORT), Duration::from_secs(3))
                        .map_err(|e| e.to_string())
                })
                .and_then(|c| {
                    c.set_read_timeout(Some(Duration::from_millis(200))).map_err(|e| e.to_string())?;
                    let port = c.local_addr().map_err(|e| e.to_string())?.port();
                    Ok((c, port))
                });
            let mut c = match conn {
                Ok((c, port)) => {
                    let _ = tx.send(Ok(port));
                    c
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let mut buf = [0u8; 16384];
            let until = Instant::now() + Duration::from_secs(300);
            while !sp.load(Ordering::SeqCst) && Instant::now() < until {
                match c.read(&mut buf) {
                    Ok(0) => {
                        st.lock().map(|mut s| s.end = Some("closed by the peer".into())).ok();
                        return;
                    }
                    Ok(n) => {
                        st.lock().map(|mut s| s.bytes += n as u64).ok();
                    }
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                    Err(e) => {
                        st.lock().map(|mut s| s.end = Some(e.to_string())).ok();
                        return;
                    }
                }
            }
        });
        let port = rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "stream: connect timed out")??;
        Ok(Stream { state, stop, port })
    }

    fn bytes(&self) -> u64 {
        self.state.lock().map(|s| s.bytes).unwrap_or(0)
    }

    fn end(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.end.clone())
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Whether `node`'s IPVS connection table has the client's stream connection.
fn has_connection(node: Node, port: u16) -> bool {
    ns_output(node.ns, &["ipvsadm", "-Lnc"]).is_ok_and(|t| {
        t.lines().any(|l| l.contains(&format!("{}:{port}", CLIENT.addr)) && l.contains(&format!("{VIP}:{STREAM_PORT}")))
    })
}

fn sync(program: &str, with_sync: bool, f: &mut Vec<String>) -> Res<()> {
    let label = if with_sync { "with lvs_sync_daemon" } else { "without connection sync" };
    println!("\n== a long TCP stream through the VIP (direct routing to rs1:{STREAM_PORT}) across a SIGKILL failover, {label}");
    clean()?;
    let v = Vrrp { sync: with_sync, ..BASE };
    let mut d1 = Director::start(program, Kind::Ours, D1, v, "sync")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 becomes MASTER ({})", secs(t)), f);
    let mut d2 = Director::start(program, Kind::Ours, D2, Vrrp { priority: 100, ..v }, "sync")?;
    let t = d2.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("d2 joins as BACKUP ({})", secs(t)), f);
    if with_sync {
        let until = Instant::now() + Duration::from_secs(10);
        let (mut m, mut b) = (String::new(), String::new());
        while Instant::now() < until {
            (m, b) = (sync_daemons(D1), sync_daemons(D2));
            if m.contains("master sync daemon") && b.contains("backup sync daemon") {
                break;
            }
            sleep(200);
        }
        check(
            m.contains("master sync daemon") && b.contains("backup sync daemon"),
            format!("sync daemons: d1 {:?}, d2 {:?}", m.trim(), b.trim()),
            f,
        );
    }
    if wait_vip_via(D1, Instant::now(), Duration::from_secs(10), 5.0)?.is_none() {
        return Err("the client does not reach the VIP through d1".into());
    }
    let stream = Stream::open()?;
    let until = Instant::now() + Duration::from_secs(15);
    while stream.bytes() < 100_000 && stream.end().is_none() && Instant::now() < until {
        sleep(100);
    }
    check(stream.bytes() >= 100_000, format!("the stream flows through d1 ({} bytes)", stream.bytes()), f);
    let until = Instant::now() + Duration::from_secs(10);
    let mut synced = has_connection(D2, stream.port);
    while with_sync && !synced && Instant::now() < until {
        sleep(200);
        synced = has_connection(D2, stream.port);
    }
    if with_sync {
        check(synced, "the backup d2 has the connection in its IPVS table (synced)".into(), f);
    } else {
        println!("      the backup d2 has the connection in its IPVS table: {synced}");
    }
    let at = Instant::now();
    d1.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), master_down(100, 1.0) + MARGIN)?;
    check(took.is_some(), format!("SIGKILL of d1: d2 answers for the VIP after {}", secs(took)), f);
    let before = stream.bytes();
    let since = Instant::now();
    if with_sync {
        sleep(5000);
        let got = stream.bytes() - before;
        let end = stream.end();
        check(
            end.is_none() && got >= 50_000,
            format!(
                "with sync: the stream goes on through d2 ({got} bytes in the 5 s after the takeover, error: {end:?})"
            ),
            f,
        );
        let m = sync_daemons(D2);
        check(
            m.contains("master sync daemon"),
            format!("d2, now master, runs the master sync daemon: {:?}", m.trim()),
            f,
        );
    } else {
        // Broken: reset, or no byte for 3 s, within 15 s.
        let mut outcome = None;
        let (mut last, mut last_at) = (before, Instant::now());
        while since.elapsed() < Duration::from_secs(15) {
            if let Some(e) = stream.end() {
                outcome = Some(format!("ended after {:.2} s: {e}", since.elapsed().as_secs_f64()));
                break;
            }
            let b = stream.bytes();
            if b != last {
                (last, last_at) = (b, Instant::now());
            } else if last_at.elapsed() > Duration::from_secs(3) {
                outcome =
                    Some(format!("stalled: no byte since {:.2} s after the takeover", (last_at - since).as_secs_f64()));
                break;
            }
            sleep(100);
        }
        check(
            outcome.is_some(),
            format!(
                "without sync: the stream breaks after the takeover ({})",
                outcome.as_deref().unwrap_or("it did not")
            ),
            f,
        );
    }
    drop(stream);
    d2.stop()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 3. keepalived as the peer.

/// keepalived's log lines that complain about received adverts (or anything else).
fn complaints(log: &str) -> Vec<String> {
    const WORDS: [&str; 14] = [
        "invalid",
        "bad ",
        "error",
        "mismatch",
        "ttl",
        "checksum",
        "wrong",
        "lower priority",
        "too short",
        "not present",
        "expect",
        "unknown",
        "received a ",
        "discard",
    ];
    log.lines().filter(|l| WORDS.iter().any(|w| l.to_lowercase().contains(w))).map(str::to_owned).collect()
}

fn check_complaints(k: &Director, f: &mut Vec<String>) {
    let c = complaints(&k.log_text());
    check(
        c.is_empty(),
        format!("keepalived on {} logs no complaint ({} lines logged)", k.node.name, k.log_text().lines().count()),
        f,
    );
    if !c.is_empty() {
        println!("      complaints:");
        for l in &c {
            println!("      | {l}");
        }
        println!("      whole log:\n{}", k.log_tail());
    }
}

fn interop(program: &str, version: u8, f: &mut Vec<String>) -> Res<()> {
    let v = Vrrp { version, ..BASE };
    let bound = master_down(100, 1.0);
    println!("\n== VRRPv{version}: ours (d1, 150) master, keepalived (d2, 100) backup");
    clean()?;
    let mut ours = Director::start(program, Kind::Ours, D1, v, &format!("v{version}-a"))?;
    let t = ours.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("ours becomes MASTER ({})", secs(t)), f);
    let mut theirs =
        Director::start(program, Kind::Keepalived, D2, Vrrp { priority: 100, ..v }, &format!("v{version}-a"))?;
    let t = theirs.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("keepalived enters BACKUP ({})", secs(t)), f);
    sleep(2000);
    check_steady(&[&ours, &theirs], 0, "ours master, keepalived backup", f)?;
    let at = Instant::now();
    ours.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), bound + MARGIN)?;
    takeover_check(Kind::Keepalived, &format!("VRRPv{version} takeover from ours after SIGKILL"), took, bound, f);
    let s = theirs.state()?;
    check(s == "MASTER", format!("keepalived is MASTER ({s})"), f);
    theirs.stop()?;
    check_complaints(&theirs, f);

    println!("\n== VRRPv{version}: keepalived (d1, 150) master, ours (d2, 100) backup");
    clean()?;
    let mut theirs = Director::start(program, Kind::Keepalived, D1, v, &format!("v{version}-b"))?;
    let t = theirs.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("keepalived becomes MASTER ({})", secs(t)), f);
    let mut ours = Director::start(program, Kind::Ours, D2, Vrrp { priority: 100, ..v }, &format!("v{version}-b"))?;
    let t = ours.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("ours enters BACKUP ({})", secs(t)), f);
    sleep(2000);
    check_steady(&[&theirs, &ours], 0, "keepalived master, ours backup", f)?;
    let s = ours.status()?;
    check(
        s["master"] == D1.addr.to_string() && s["adverts_received"].as_u64().unwrap_or(0) > 0 && s["dropped"] == 0,
        format!(
            "ours accepts keepalived's adverts: master {}, received {}, dropped {} ({})",
            s["master"], s["adverts_received"], s["dropped"], s["drops"]
        ),
        f,
    );
    let at = Instant::now();
    theirs.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), bound + MARGIN)?;
    takeover_check(Kind::Ours, &format!("VRRPv{version} takeover from keepalived after SIGKILL"), took, bound, f);
    let s = ours.state()?;
    check(s == "MASTER", format!("ours is MASTER ({s})"), f);
    check_complaints(&theirs, f);
    ours.stop()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 4. Malformed adverts.

/// Sends whole IPv4 packets (our own header; the kernel fills in its checksum and total
/// length) from the crafting namespace to 224.0.0.18.
fn send_raw(packets: &[Vec<u8>]) -> Res<()> {
    in_netns(&ns_path(CRAFT.ns), || {
        use socket2::{Domain, Protocol, SockAddr, Socket, Type};
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))?; // IPPROTO_RAW: IP_HDRINCL
        let to = SockAddr::from(SocketAddrV4::new(MULTICAST_V4, 0));
        for p in packets {
            s.send_to(p, &to)?;
            sleep(50);
        }
        Ok(())
    })
}

/// A valid VRRPv2 advert from the crafting namespace for VI_1, priority 254 (above both
/// directors: a master obeying it would step down).
fn advert_packet(advert: &Advert) -> Vec<u8> {
    emit_ipv4(advert, CRAFT.addr, MULTICAST_V4, false, 0x4242)
}

fn v2(vrid: u8, interval: u8, auth: Auth) -> Res<Advert> {
    Ok(Advert::v2(vrid, 254, interval, auth, vec![VIP])?)
}

/// Recomputes the VRRPv2 checksum (after the 20-byte IP header).
fn fix_v2_checksum(p: &mut [u8]) {
    p[26] = 0;
    p[27] = 0;
    let sum = internet_checksum(&[&p[20..]]);
    p[26..28].copy_from_slice(&sum.to_be_bytes());
}

fn malformed(program: &str, f: &mut Vec<String>) -> Res<()> {
    println!(
        "\n== malformed adverts from {} (priority 254, VI_1's VRID and VIP, one defect each), 3 of each",
        CRAFT.addr
    );
    clean()?;
    let mut d1 = Director::start(program, Kind::Ours, D1, BASE, "malformed")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 becomes MASTER ({})", secs(t)), f);
    let mut d2 = Director::start(program, Kind::Ours, D2, Vrrp { priority: 100, ..BASE }, "malformed")?;
    let t = d2.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("d2 joins as BACKUP ({})", secs(t)), f);
    sleep(1000);

    let good = advert_packet(&v2(VRID, 1, Auth::None)?);
    let mut cases: Vec<(&str, &str, Vec<u8>)> = Vec::new();
    let mut p = good.clone();
    p[26] ^= 0xff;
    cases.push(("bad checksum", "checksum", p));
    let mut p = good.clone();
    p[8] = 254;
    cases.push(("TTL 254", "ttl", p));
    cases.push(("VRID 52", "vrid", advert_packet(&v2(VRID + 1, 1, Auth::None)?)));
    let v3 = Advert::v3(VRID, 254, 100, Addresses::V4(vec![VIP]))?;
    cases.push(("a VRRPv3 advert to a VRRPv2 instance", "version", advert_packet(&v3)));
    let mut p = good.clone();
    p[20] = 0x41;
    fix_v2_checksum(&mut p);
    cases.push(("version field 4", "version", p));
    let mut p = good.clone();
    p[20] = 0x22;
    fix_v2_checksum(&mut p);
    cases.push(("type 2", "type", p));
    cases.push(("advert_int 2 (ours 1)", "interval", advert_packet(&v2(VRID, 2, Auth::None)?)));
    cases.push(("PASS authentication (ours none)", "auth", advert_packet(&v2(VRID, 1, Auth::pass("secret"))?)));
    let mut p = good.clone();
    p.truncate(20 + 6);
    cases.push(("6 bytes of VRRP (too short)", "short", p));
    let mut p = good.clone();
    p.truncate(20 + 12);
    cases.push(("no authentication data (too short)", "short", p));

    let drops =
        |d: &Director, reason: &str| -> Res<u64> { Ok(d.status()?["drops"][reason].as_u64().unwrap_or(u64::MAX)) };
    for (what, reason, packet) in &cases {
        let before = (
            drops(&d1, reason)?,
            drops(&d2, reason)?,
            d1.status()?["transitions"].clone(),
            d2.status()?["transitions"].clone(),
        );
        send_raw(&[packet.clone(), packet.clone(), packet.clone()])?;
        sleep(700);
        let alive = d1.alive() && d2.alive();
        let after = (
            drops(&d1, reason)?,
            drops(&d2, reason)?,
            d1.status()?["transitions"].clone(),
            d2.status()?["transitions"].clone(),
        );
        let (s1, s2) = (d1.state()?, d2.state()?);
        let (n1, n2) = (after.0.wrapping_sub(before.0), after.1.wrapping_sub(before.1));
        check(
            alive
                && n1 == 3
                && n2 == 3
                && before.2 == after.2
                && before.3 == after.3
                && s1 == "MASTER"
                && s2 == "BACKUP",
            format!("{what}: dropped as \"{reason}\" (d1 +{n1}, d2 +{n2}), states {s1}/{s2}, transitions unchanged"),
            f,
        );
    }
    let alive = d1.alive() && d2.alive() && d1.status().is_ok() && d2.status().is_ok();
    check(alive, "both directors still run and answer /status".into(), f);
    let metrics = get(&ns_path(D1.ns), "/metrics")?;
    let samples = parse_exposition(&metrics)?;
    let checksum = samples.iter().find(|(n, l, _)| {
        n == "ipvs_director_vrrp_adverts_dropped_total"
            && l.iter().any(|(k, v)| k == "reason" && v == "checksum")
            && l.iter().any(|(k, v)| k == "instance" && v == "VI_1")
    });
    let status_checksum = drops(&d1, "checksum")?;
    check(
        checksum.is_some_and(|s| s.2 == status_checksum as f64),
        format!(
            "/metrics adverts_dropped_total{{reason=\"checksum\"}} = {:?}, as /status ({status_checksum})",
            checksum.map(|s| s.2)
        ),
        f,
    );

    // Control: the same advert, intact, is obeyed (d1 steps down), then d1 takes over again
    // when it stops coming.
    let before = d1.status()?["transitions"].as_u64().unwrap_or(0);
    send_raw(std::slice::from_ref(&good))?;
    let t = d1.wait_state("BACKUP", Duration::from_secs(3))?;
    let back = d1.wait_state("MASTER", Duration::from_secs(15))?;
    let after = d1.status()?["transitions"].as_u64().unwrap_or(0);
    check(
        t.is_some() && back.is_some() && after >= before + 2,
        format!(
            "control: the same advert intact is obeyed (d1 BACKUP after {}, MASTER again {} later; transitions {before} -> {after})",
            secs(t),
            secs(back)
        ),
        f,
    );
    d1.stop()?;
    d2.stop()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------

fn run(program: &str) -> Res<Vec<String>> {
    let sections = std::env::var("IPVS_VRRP_SECTIONS")
        .unwrap_or_else(|_| "baseline,failover,nopreempt,equal,sync,interop,malformed".into());
    let on = |s: &str| sections.split(',').any(|x| x.trim() == s);
    let mut f = Vec::new();
    println!("== building the network: d1, d2, rs1, rs2, a client and a crafting namespace on one bridge");
    let net = build_network()?;
    type Section<'a> = (&'a str, Box<dyn Fn(&mut Vec<String>) -> Res<()> + 'a>);
    let sections_run: Vec<Section> = vec![
        ("baseline", Box::new(|f| failover(program, Kind::Keepalived, f))),
        ("baseline", Box::new(|f| nopreempt(program, Kind::Keepalived, f))),
        ("baseline", Box::new(|f| equal(program, Kind::Keepalived, f))),
        ("failover", Box::new(|f| failover(program, Kind::Ours, f))),
        ("nopreempt", Box::new(|f| nopreempt(program, Kind::Ours, f))),
        ("equal", Box::new(|f| equal(program, Kind::Ours, f))),
        ("sync", Box::new(|f| sync(program, true, f))),
        ("sync", Box::new(|f| sync(program, false, f))),
        ("interop", Box::new(|f| interop(program, 2, f))),
        ("interop", Box::new(|f| interop(program, 3, f))),
        ("malformed", Box::new(|f| malformed(program, f))),
    ];
    for (name, section) in sections_run.iter().filter(|(name, _)| on(name)) {
        let at = Instant::now();
        section(&mut f)?;
        println!("   ({name}: {:.0} s)", at.elapsed().as_secs_f64());
    }
    drop(net);
    Ok(f)
}

fn main() {
    let Some(program) = std::env::args().nth(1) else {
        eprintln!("usage: vrrp-scenario PATH-TO-ipvs-director");
        std::process::exit(2);
    };
    let result = run(&program);
    teardown();
    match result {
        Ok(f) if f.is_empty() => println!("\nvrrp scenario: all checks passed"),
        Ok(f) => {
            println!("\nvrrp scenario: {} check(s) FAILED", f.len());
            for w in f {
                println!("  - {w}");
            }
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("vrrp scenario: {e}");
            std::process::exit(2);
        }
    }
}
