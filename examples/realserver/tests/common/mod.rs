//! Scenery for the kernel tests: network namespaces made with `ip` (tests may shell out;
//! the library does not), a TCP server and client inside namespaces, and a dump of the
//! state a real server's preparation touches, to compare before and after `undo`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Whether this run targets the real kernel (the lab sets `IPVS_TEST_TARGET=kernel`).
pub fn on_kernel() -> bool {
    match std::env::var("IPVS_TEST_TARGET").as_deref() {
        Ok("kernel") => true,
        Ok("mock") | Err(_) => false,
        Ok(other) => panic!("IPVS_TEST_TARGET must be kernel or mock, not {other:?}"),
    }
}

pub fn require_kernel() {
    assert!(on_kernel(), "kernel tests run only with IPVS_TEST_TARGET=kernel (in the lab)");
}

/// Runs a command; panics with its output when it fails.
pub fn run(prog: &str, args: &[&str]) -> String {
    let out = Command::new(prog).args(args).output().unwrap_or_else(|e| panic!("{prog}: {e}"));
    assert!(
        out.status.success(),
        "{prog} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `f` on a thread inside the namespace at `path`.
pub fn in_ns<T: Send>(path: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(path).unwrap();
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
        .join()
        .unwrap()
    })
}

/// A named network namespace (`ip netns add`), deleted on drop (with its peer, if any).
pub struct Netns {
    pub name: String,
    peer: Option<Box<Netns>>,
}

impl Netns {
    pub fn new(tag: &str) -> Self {
        let name = format!("rs{}-{tag}", std::process::id() % 100_000);
        run("ip", &["netns", "add", &name]);
        Netns { name, peer: None }
    }

    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// `ip -n NAME ARGS`.
    pub fn ip(&self, args: &str) -> String {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend(args.split_whitespace());
        run("ip", &all)
    }

    /// `lo` up (as on any host) and a veth `eth0` with addresses, up, whose peer lives in
    /// a namespace of its own.
    pub fn with_eth0(mut self, addrs: &[&str]) -> Self {
        self.ip("link set lo up");
        let peer = Netns::new(&format!("{}p", self.name.rsplit('-').next().unwrap_or("x")));
        self.ip(&format!("link add eth0 type veth peer name p0 netns {}", peer.name));
        peer.ip("link set p0 up");
        for a in addrs {
            self.ip(&format!("addr add {a} dev eth0 nodad"));
        }
        self.ip("link set eth0 up");
        self.peer = Some(Box::new(peer));
        self
    }

    pub fn sysctl(&self, path: &str) -> String {
        let p = format!("/proc/sys/net/{path}");
        in_ns(&self.path(), move || std::fs::read_to_string(&p).unwrap().trim().to_string())
    }

    pub fn set_sysctl(&self, path: &str, value: &str) {
        let p = format!("/proc/sys/net/{path}");
        in_ns(&self.path(), move || std::fs::write(&p, value).unwrap());
    }

    /// Links (name and flags), addresses, routes and the ARP/rp_filter settings of `all`
    /// and each link: what prepare may touch and undo must put back.
    pub fn state(&self) -> String {
        let mut out = String::new();
        for line in self.ip("-o link show").lines() {
            // "N: NAME: <FLAGS> ..."; carrier flags (LOWER_UP) follow the peer, so keep UP only.
            let mut parts = line.split_whitespace();
            let name = parts.nth(1).unwrap_or("").trim_end_matches(':').to_string();
            let up = parts.next().is_some_and(|f| f.contains(",UP") || f.contains("<UP"));
            out += &format!("link {name} up={up}\n");
        }
        for line in self.ip("-o addr show").lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 3 && !fields[3].starts_with("fe80:") {
                out += &format!("addr {} {}\n", fields[1], fields[3]);
            }
        }
        // GUE receive ports (`ip fou` needs the fou module, which the lab loads).
        let fou = Command::new("ip").args(["-n", &self.name, "fou", "show"]).output();
        out += &fou.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        out += &self.ip("route show");
        out += &self.ip("-6 route show").lines().filter(|l| !l.starts_with("fe80")).collect::<Vec<_>>().join("\n");
        let names: Vec<String> = out
            .lines()
            .filter_map(|l| l.strip_prefix("link "))
            .map(|l| l.split(['@', ' ']).next().unwrap_or("").to_string())
            .collect();
        for scope in std::iter::once("all".to_string()).chain(names) {
            for knob in ["arp_ignore", "arp_announce", "rp_filter"] {
                let p = format!("/proc/sys/net/ipv4/conf/{scope}/{knob}");
                let v = in_ns(&self.path(), move || std::fs::read_to_string(&p).ok());
                out += &format!("\n{scope}.{knob}={}", v.unwrap_or_default().trim());
            }
        }
        out
    }

    /// The MAC address of a link.
    pub fn mac(&self, dev: &str) -> String {
        let out = self.ip(&format!("-o link show {dev}"));
        let words: Vec<&str> = out.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "link/ether").expect("an ethernet link");
        words[at + 1].to_string()
    }

    /// The MAC this namespace's neighbour table holds for `addr`, if any.
    pub fn neighbour(&self, addr: &str) -> Option<String> {
        let out = self.ip(&format!("neigh show {addr}"));
        let words: Vec<&str> = out.split_whitespace().collect();
        words.iter().position(|w| *w == "lladdr").map(|i| words[i + 1].to_string())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

/// A TCP server on port 80 (both families) inside a namespace: answers every connection
/// with `name` and closes. Stops on drop.
pub struct Server {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(ns: &Netns, name: &str) -> Self {
        let (path, name) = (ns.path(), name.to_string());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let file = std::fs::File::open(&path).unwrap();
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            let listener = TcpListener::bind("[::]:80").unwrap();
            listener.set_nonblocking(true).unwrap();
            tx.send(()).unwrap();
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = s.write_all(format!("{name}\n").as_bytes());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        rx.recv().unwrap();
        Server { stop, handle: Some(handle) }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Connects from inside `ns` to `addr` and reads the answer (3 s limits).
pub fn fetch(ns: &Netns, addr: &str) -> std::io::Result<String> {
    let addr: SocketAddr = addr.parse().unwrap();
    in_ns(&ns.path(), move || {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
        s.set_read_timeout(Some(Duration::from_secs(3)))?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        Ok(text.trim().to_string())
    })
}

/// One Ethernet segment (a bridge in a namespace of its own, multicast snooping off so that
/// neighbour solicitations reach every port): a client (.10, ::10), a director (.1, ::1)
/// and a real server (.20, ::20) in 192.0.2.0/24 and 2001:db8::/64, `lo` up everywhere
/// but on the real server (a host whose lo is down shows what prepare does about it).
pub struct Segment {
    pub cl: Netns,
    pub lb: Netns,
    pub rs: Netns,
    pub sw: Netns,
}

impl Segment {
    pub fn new(tag: &str) -> Self {
        let sw = Netns::new(&format!("{tag}sw"));
        sw.ip("link add br0 type bridge mcast_snooping 0");
        sw.ip("link set br0 up");
        let mut made = Vec::new();
        for (short, host) in [("cl", "10"), ("lb", "1"), ("rs", "20")] {
            let ns = Netns::new(&format!("{tag}{short}"));
            sw.ip(&format!("link add p-{short} type veth peer name eth0 netns {}", ns.name));
            sw.ip(&format!("link set p-{short} master br0"));
            sw.ip(&format!("link set p-{short} up"));
            ns.ip(&format!("addr add 192.0.2.{host}/24 dev eth0"));
            ns.ip(&format!("addr add 2001:db8::{host}/64 dev eth0 nodad"));
            ns.ip("link set eth0 up");
            if short != "rs" {
                ns.ip("link set lo up");
            }
            made.push(ns);
        }
        let rs = made.pop().unwrap();
        let lb = made.pop().unwrap();
        let cl = made.pop().unwrap();
        Segment { cl, lb, rs, sw }
    }
}
