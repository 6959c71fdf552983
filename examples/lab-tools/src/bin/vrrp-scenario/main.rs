//! VRRP failover of `ipvs-director`, with real packets between network namespaces on one
//! bridge: two directors (d1 priority 150, d2 priority 100) holding the VIP 192.0.2.10 in
//! turn, three direct-routing real servers, a client, and a namespace that crafts adverts.
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
//! * **The story** `./demo.sh` tells: health checks take a stopped web server out of the
//!   table and put it back, then the master is killed while a client keeps requesting and a
//!   long download goes on through the VIP (with `lvs_sync_daemon`).
//!
//! `IPVS_VRRP_SECTIONS` (comma-separated: baseline, failover, nopreempt, equal, sync, interop,
//! malformed, story) runs a subset. Needs root and a kernel with IPVS (the lab runs it). Exits
//! non-zero if a check fails.

mod client;
mod config;
mod connection_sync;
mod director;
mod failover;
mod interop;
mod malformed;
mod network;
mod story;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use connection_sync::sync;
use director::Kind;
use failover::{equal, failover, nopreempt};
use interop::interop;
use ipvs_lab_tools::Res;
use malformed::malformed;
use network::{build_network, teardown};
use story::story;

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
const RS3: Node = Node { name: "rs3", ns: "vr-rs3", addr: Ipv4Addr::new(192, 0, 2, 13) };
/// The real servers of the web service (port 80).
const WEB: [Node; 3] = [RS1, RS2, RS3];
const CLIENT: Node = Node { name: "cl", ns: "vr-cl", addr: Ipv4Addr::new(192, 0, 2, 100) };
const CRAFT: Node = Node { name: "x", ns: "vr-x", addr: Ipv4Addr::new(192, 0, 2, 99) };
const NODES: [Node; 7] = [D1, D2, RS1, RS2, RS3, CLIENT, CRAFT];

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

fn run(program: &str) -> Res<Vec<String>> {
    let sections = std::env::var("IPVS_VRRP_SECTIONS")
        .unwrap_or_else(|_| "baseline,failover,nopreempt,equal,sync,interop,malformed,story".into());
    let on = |s: &str| sections.split(',').any(|x| x.trim() == s);
    let mut f = Vec::new();
    println!("== building the network: d1, d2, rs1-rs3, a client and a crafting namespace on one bridge");
    let net = std::cell::RefCell::new(build_network()?);
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
        ("story", Box::new(|f| story(program, &net, f))),
    ];
    for (name, section) in sections_run.iter().filter(|(name, _)| on(name)) {
        let at = Instant::now();
        section(&mut f)?;
        println!("   ({name}: {:.0} s)", at.elapsed().as_secs_f64());
    }
    drop(sections_run);
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
