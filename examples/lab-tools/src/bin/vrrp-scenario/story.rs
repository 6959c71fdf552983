//! The story `./demo.sh` tells after the seed and desired-state scenarios: `ipvs-director`
//! on two directors from one keepalived.conf, its health checks taking a stopped web server
//! out of the table and putting it back, then the master killed while a client keeps
//! requesting through the VIP and a long download goes on (connection sync).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipvs::{Client, ServiceId};
use ipvs_lab_tools::{check, in_netns, ns_output, requests_from, Res};

use crate::client::{client_arp, http_ok, secs, wait_vip_via};
use crate::config::{keepalived_conf, Vrrp, BASE};
use crate::connection_sync::{check_sync_daemons, stream_through_d1};
use crate::director::{get, start_ours_pair, Director};
use crate::network::{clean, holds_vip, mac_of, set_port, sync_daemons, Network};
use crate::{master_down, ns_path, sleep, Node, CLIENT, D1, D2, MARGIN, RS2, VIP, WEB};

/// The timing keywords of the file's TCP_CHECKs (config.rs): delay_loop, connect_timeout, retry.
const DELAY_LOOP: f64 = 1.0;
const CONNECT_TIMEOUT: f64 = 1.0;
const RETRY: f64 = 1.0;

pub(crate) fn story(program: &str, net: &RefCell<Network>, f: &mut Vec<String>) -> Res<()> {
    clean()?;
    let v = Vrrp { sync: true, ..BASE };
    println!("\n== health checks and failover: ipvs-director on d1 and d2, from keepalived.conf");
    println!("   d1's file (d2's differs only in its priority, 100; keepalived runs the same file):");
    for line in keepalived_conf(v).lines() {
        println!("   | {line}");
    }
    let (mut d1, mut d2) = start_ours_pair(program, v, "story", f)?;
    health_checks(program, net, &d1, f)?;
    failover(program, &mut d1, &mut d2, f)?;
    d2.stop()
}

/// Part 1: rs2's web server stops, its destination leaves the table within keepalived's
/// bound, the requests go to the others; it starts again and comes back.
fn health_checks(program: &str, net: &RefCell<Network>, d1: &Director, f: &mut Vec<String>) -> Res<()> {
    println!("\n-- health checks: a TCP_CHECK on each web server every {DELAY_LOOP} s (d1, the master, runs them)");
    let web = ServiceId::tcp(IpAddr::V4(VIP), 80);
    let until = Instant::now() + Duration::from_secs(15);
    while servers_in(D1, &web)?.len() < WEB.len() && Instant::now() < until {
        sleep(100);
    }
    print!("{}", ipvsadm(program, D1, &["-Ln", "-t", &format!("{VIP}:80")])?);
    let counts = spread(30)?;
    check(counts.len() == WEB.len(), format!("30 requests to {VIP}:80 spread over rs1, rs2 and rs3: {counts:?}"), f);

    let bound = DELAY_LOOP * (RETRY + 1.0) + CONNECT_TIMEOUT;
    switch_rs2(net, d1, &web, false, bound, f, |took| {
        format!("rs2 leaves d1's table {took} after its web server stopped (keepalived's bound: delay_loop × (retry + 1) + connect_timeout = {bound:.0} s; + {MARGIN} s margin)")
    })?;
    print!("{}", ipvsadm(program, D1, &["-Ln", "-t", &format!("{VIP}:80")])?);
    let counts = spread(30)?;
    check(
        !counts.contains_key("rs2") && counts.values().sum::<usize>() == 30 && counts.len() == WEB.len() - 1,
        format!("30 requests: every one answered, by rs1 and rs3 only: {counts:?}"),
        f,
    );

    let back = DELAY_LOOP + CONNECT_TIMEOUT;
    switch_rs2(net, d1, &web, true, back, f, |took| {
        format!("rs2 is back in d1's table {took} after its web server started (one good check: delay_loop + connect_timeout = {back:.0} s; + {MARGIN} s margin)")
    })?;
    // rr gives 10 each; a new connection whose client port matches an older entry in d1's
    // connection table (the scenario's earlier sections) goes where that entry points without
    // moving rr on, so a server may get one more or one less per such connection.
    let counts = spread(30)?;
    check(
        counts.values().all(|n| (8..=12).contains(n))
            && counts.values().sum::<usize>() == 30
            && counts.len() == WEB.len(),
        format!("30 requests: about 10 each again (rr; 8 to 12 allowing for reused client ports): {counts:?}"),
        f,
    );
    Ok(())
}

/// Starts (`up`) or stops rs2's web server, checks that its destination comes into or leaves
/// d1's table within `bound` (+ the margin; `what` says it, given the time taken), and prints
/// d1's log lines about rs2.
fn switch_rs2(
    net: &RefCell<Network>,
    d1: &Director,
    web: &ServiceId,
    up: bool,
    bound: f64,
    f: &mut Vec<String>,
    what: impl Fn(String) -> String,
) -> Res<()> {
    let log_from = d1.log_text().len();
    if up {
        println!("\n   starting rs2's web server again");
        net.borrow_mut().start_web(RS2)?;
    } else {
        println!("\n   stopping rs2's web server");
        net.borrow_mut().stop_web(RS2)?;
    }
    let took = wait_table(web, up)?;
    check(took.is_some_and(|t| t.as_secs_f64() <= bound + MARGIN), what(secs(took)), f);
    print_log(d1, log_from, &RS2.addr.to_string());
    Ok(())
}

/// Part 2: SIGKILL of the master while a client requests every 100 ms and a download runs.
fn failover(program: &str, d1: &mut Director, d2: &mut Director, f: &mut Vec<String>) -> Res<()> {
    println!("\n-- failover: d1 (the master) dies while a client keeps requesting and a download runs");
    check_sync_daemons(f);
    let via_d1 = wait_vip_via(D1, Instant::now(), Duration::from_secs(10), 5.0)?;
    check(via_d1.is_some(), "the client reaches the VIP through d1".into(), f);
    let (mac1, mac2) = (mac_of(D1)?, mac_of(D2)?);
    println!("   d1's MAC {mac1}, d2's MAC {mac2}; the client's ARP entry for {VIP}: {}", client_arp());
    println!("   a long download from rs1 through the VIP (port 9000, 100 KiB/s), synced to d2:");
    let stream = stream_through_d1(true, f)?;
    // d2's connection table (ours `ipvsadm -Lnc`): the header and the download's entry.
    let table = ns_output(D2.ns, &[&ipvsadm_path(program), "-Lnc"])?;
    let lines: Vec<&str> =
        table.lines().enumerate().filter(|(i, l)| *i < 2 || l.contains(":9000 ")).map(|(_, l)| l).collect();
    print!("{}", indent(&lines.join("\n")));
    let requester = Requester::start()?;
    sleep(1000);
    // The kernel on d1 would go on forwarding without its director: a machine that dies
    // takes both with it.
    println!("\n   d1 dies: SIGKILL to its ipvs-director and its link cut (no goodbye advert)");
    let at = Instant::now();
    d1.kill();
    set_port(D1, false)?;
    let bound = master_down(100, 1.0);
    let took = wait_vip_via(D2, at, Duration::from_secs(15), bound + MARGIN)?;
    check(
        took.is_some_and(|t| t.as_secs_f64() <= bound + MARGIN),
        format!(
            "takeover: the client is served through d2 {} after the kill (3 × advert_int + skew = {bound:.2} s; + {MARGIN} s margin)",
            secs(took)
        ),
        f,
    );
    let state = d2.state().unwrap_or_else(|e| e.to_string());
    let arp = client_arp();
    check(
        state == "MASTER" && holds_vip(D2)? && arp == mac2,
        format!("the VIP moved: d2 is {state} and holds {VIP}; the client's ARP entry is now {arp} (d2's)"),
        f,
    );
    let before = stream.bytes();
    sleep(3000);
    let outcome = requester.stop();
    // In flight during the takeover: started at most one request timeout (1 s) before the
    // kill, and before the client was served through d2 (plus that timeout).
    let window = took.unwrap_or(Duration::from_secs(15)) + Duration::from_millis(1000);
    let in_flight = |a: &Attempt| a.started + Duration::from_millis(1100) >= at && a.started <= at + window;
    let late: Vec<&Attempt> = outcome.iter().filter(|a| !a.ok && !in_flight(a)).collect();
    let failed = outcome.iter().filter(|a| !a.ok).count();
    let after = outcome.iter().filter(|a| a.ok && a.started > at + window).count();
    check(
        late.is_empty() && after > 0,
        format!(
            "requests every 100 ms: {} made, {failed} failed, each of them in flight during the takeover ({} outside it); {after} answered after it",
            outcome.len(),
            late.len()
        ),
        f,
    );
    // TCP backs off while the path is gone: the download may take a few seconds after the
    // takeover to move again (at most 15 s here); it survived if it does, with no error.
    let until = Instant::now() + Duration::from_secs(15);
    while stream.bytes() - before < 150_000 && stream.end().is_none() && Instant::now() < until {
        sleep(100);
    }
    let got = stream.bytes() - before;
    check(
        stream.end().is_none() && got >= 150_000,
        format!(
            "the download survived the takeover: {got} more bytes through d2 by {:.1} s after the kill (error: {:?})",
            at.elapsed().as_secs_f64(),
            stream.end()
        ),
        f,
    );
    let sync = sync_daemons(D2);
    check(sync.contains("master sync daemon"), format!("d2 now runs the master sync daemon: {:?}", sync.trim()), f);
    status_page(d2)?;
    set_port(D1, true)?;
    Ok(())
}

/// d2's status page: the address it is served at, and a copy in the lab's output folder
/// (`./demo.sh` takes a screenshot of it).
fn status_page(d2: &Director) -> Res<()> {
    let page = get(&ns_path(d2.node.ns), "/")?;
    println!("\n   d2's status page: http://{}/ (in d2's namespace; JSON at /status)", crate::STATUS);
    if let Ok(dir) = std::env::var("IPVS_LAB_OUT") {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(format!("{dir}/status-page.html"), page)?;
        println!("   saved as status-page.html in the lab's output folder");
    }
    Ok(())
}

/// The real servers in `node`'s IPVS table for `service`.
fn servers_in(node: Node, service: &ServiceId) -> Res<Vec<SocketAddr>> {
    let ipvs = Client::in_namespace(ns_path(node.ns))?;
    Ok(ipvs.destinations(service)?.iter().map(|d| d.destination.socket_addr()).collect())
}

/// Waits until rs2 is in d1's table (`present`) or out of it: the time it took (at most 15 s).
fn wait_table(service: &ServiceId, present: bool) -> Res<Option<Duration>> {
    let rs2 = SocketAddr::new(IpAddr::V4(RS2.addr), 80);
    let at = Instant::now();
    while at.elapsed() < Duration::from_secs(15) {
        if servers_in(D1, service)?.contains(&rs2) == present {
            return Ok(Some(at.elapsed()));
        }
        sleep(50);
    }
    Ok(None)
}

/// `n` requests to the VIP from the client, counted by the server that answered. A request
/// whose connection times out is made once more, and said: a new connection whose client
/// port matches a stale entry in the director's connection table (from the scenario's
/// earlier sections) for a destination that has left is dropped by the kernel until that
/// entry expires (`expire_nodest_conn` is 0). Any other error (a refused or reset
/// connection: traffic sent to a stopped server) fails at once.
fn spread(n: usize) -> Res<BTreeMap<String, usize>> {
    let mut counts = BTreeMap::new();
    let mut again = Vec::new();
    for _ in 0..n {
        let one = match requests_from(&ns_path(CLIENT.ns), VIP, 1) {
            Ok(c) => c,
            Err(e) if timed_out(e.as_ref()) => {
                again.push(e.to_string());
                requests_from(&ns_path(CLIENT.ns), VIP, 1)?
            }
            Err(e) => return Err(e),
        };
        for (server, k) in one {
            *counts.entry(server).or_insert(0) += k;
        }
    }
    if !again.is_empty() {
        println!(
            "   ({} connection(s) timed out and were made again, then answered: {})",
            again.len(),
            again.join("; ")
        );
    }
    Ok(counts)
}

/// Whether an error is a connection or read that timed out.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock))
}

/// The director's log lines from byte `from` on that name `addr`.
fn print_log(d: &Director, from: usize, addr: &str) {
    let text = d.log_text();
    for line in text.get(from..).unwrap_or("").lines().filter(|l| l.contains(addr)) {
        println!("   log: {}", line.trim());
    }
}

/// Our `ipvsadm` (beside the director) in `node`'s namespace.
fn ipvsadm(program: &str, node: Node, args: &[&str]) -> Res<String> {
    let path = ipvsadm_path(program);
    let mut all = vec![path.as_str()];
    all.extend_from_slice(args);
    Ok(indent(&ns_output(node.ns, &all)?))
}

fn ipvsadm_path(program: &str) -> String {
    std::path::Path::new(program).with_file_name("ipvsadm").to_string_lossy().into_owned()
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}\n")).collect()
}

/// One request of the [`Requester`]: when it started and whether it was answered.
struct Attempt {
    started: Instant,
    ok: bool,
}

/// A client thread that requests the VIP every 100 ms (1 s bounds) until stopped (at most
/// 60 s).
struct Requester {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Attempt>>,
}

impl Requester {
    fn start() -> Res<Requester> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            in_netns(&ns_path(CLIENT.ns), || {
                let mut out = Vec::new();
                let until = Instant::now() + Duration::from_secs(60);
                while !flag.load(Ordering::SeqCst) && Instant::now() < until {
                    let started = Instant::now();
                    out.push(Attempt { started, ok: http_ok(Duration::from_secs(1)) });
                    if let Some(rest) = Duration::from_millis(100).checked_sub(started.elapsed()) {
                        std::thread::sleep(rest);
                    }
                }
                Ok(out)
            })
            .unwrap_or_default()
        });
        Ok(Requester { stop, thread })
    }

    fn stop(self) -> Vec<Attempt> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap_or_default()
    }
}
