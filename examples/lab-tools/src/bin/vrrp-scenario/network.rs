//! The network: one bridge, the nodes on it, the real servers ready for direct routing, and
//! what is read or changed on it between the steps (MACs, who holds the VIP, switch ports).

use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ipvs_lab_tools::{in_netns, in_ns, ns_output, sh, Res};
use ipvs_realserver::{Method, Request};

use crate::{ns_path, sleep, Node, CLIENT, CRAFT, D1, D2, NODES, RS1, STREAM_PORT, SWITCH, VIP, WEB, WORK};

/// What runs for the whole scenario: the web servers and the stream server.
pub(crate) struct Network {
    /// Each real server's web server, while it runs.
    httpd: Vec<(Node, Child)>,
    stop: Arc<AtomicBool>,
}

impl Drop for Network {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for (_, c) in &mut self.httpd {
            let _ = c.kill();
            let _ = c.wait();
        }
        teardown();
    }
}

pub(crate) fn teardown() {
    for ns in NODES.iter().map(|n| n.ns).chain([SWITCH]) {
        let _ = Command::new("ip").args(["netns", "del", ns]).stderr(Stdio::null()).status();
    }
}

/// One bridge (in `vr-sw`), every node on it through a veth `eth0` (the switch side is
/// `p-NAME`), all in 192.0.2.0/24. The real servers rs1..rs3 are made ready for direct routing of
/// the VIP by the `ipvs realserver prepare` code and serve HTTP on 80, rs1 also a stream on 9000.
pub(crate) fn build_network() -> Res<Network> {
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
    for rs in WEB {
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
        net.start_web(rs)?;
    }
    serve_stream(RS1, net.stop.clone())?;
    Ok(net)
}

impl Network {
    /// Starts `rs`'s web server on port 80 (busybox httpd serving a page that names it) and
    /// waits until it listens.
    pub(crate) fn start_web(&mut self, rs: Node) -> Res<()> {
        let child = Command::new("nsenter")
            .arg(format!("--net={}", ns_path(rs.ns)))
            .args(["busybox", "httpd", "-f", "-p", "80", "-h", &format!("{WORK}/{}", rs.name)])
            .stdin(Stdio::null())
            .spawn()?;
        self.httpd.push((rs, child));
        ipvs_lab_tools::wait_listening(&ns_path(rs.ns), &format!("{}:80", rs.addr), Duration::from_secs(10))
    }

    /// Stops `rs`'s web server (SIGKILL): its port 80 refuses connections from then on.
    pub(crate) fn stop_web(&mut self, rs: Node) -> Res<()> {
        let at = self.httpd.iter().position(|(n, _)| *n == rs).ok_or_else(|| format!("{}: no web server", rs.name))?;
        let (_, mut child) = self.httpd.remove(at);
        child.kill()?;
        child.wait()?;
        Ok(())
    }
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

pub(crate) fn mac_of(node: Node) -> Res<String> {
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
pub(crate) fn holds_vip(node: Node) -> Res<bool> {
    in_netns(&ns_path(node.ns), || {
        Ok(nix::ifaddrs::getifaddrs()?.any(|a| {
            a.interface_name == "eth0" && a.address.and_then(|s| s.as_sockaddr_in().map(|i| i.ip())) == Some(VIP)
        }))
    })
}

pub(crate) fn set_port(node: Node, up: bool) -> Res<()> {
    in_ns(SWITCH, &["ip", "link", "set", &format!("p-{}", node.name), if up { "up" } else { "down" }])
}

pub(crate) fn sync_daemons(node: Node) -> String {
    ns_output(node.ns, &["ipvsadm", "-L", "--daemon"]).unwrap_or_else(|e| e.to_string())
}

/// Leaves the directors' namespaces as built: no VIP, no IPVS table, no sync daemon, links
/// up; the client forgets its neighbours.
pub(crate) fn clean() -> Res<()> {
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

/// Keeps the directors from hearing each other (isolated bridge ports talk only to the
/// others), or joins them again.
pub(crate) fn isolate(on: bool) -> Res<()> {
    for d in [D1, D2] {
        in_ns(
            SWITCH,
            &["bridge", "link", "set", "dev", &format!("p-{}", d.name), "isolated", if on { "on" } else { "off" }],
        )?;
    }
    Ok(())
}
