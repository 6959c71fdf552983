//! Desired state on the real kernel, with real traffic and the `ipvs` command as operators
//! run it: a destination with a live TCP connection drains (weight 0 first, deleted once the
//! connection is gone), a new process carries on an interrupted drain and gives a stray
//! weight-0 destination its weight back, a longest drain time is kept, apply under a
//! concurrent writer reports what happened and a second apply converges, and `ipvs export |
//! ipvs apply -` copies a table between namespaces (compared with the real ipvsadm).
//!
//! Needs root and a kernel with IPVS (the lab runs it). Every claim is checked: the program
//! exits non-zero if one does not hold.

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ipvs::state::{DrainPolicy, Policy, Scope, Table};
use ipvs::transport::NetlinkTransport;
use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId};
use ipvs_lab_tools::{build_network, check, requests, rs_addr, sh, teardown, Res, NAT_VIP, SERVERS, WRR_VIP};

const LB: &str = "/run/netns/lb";
const WORK: &str = "/tmp/ipvs-desired-state";

/// The `ipvs` command next to this program.
fn ipvs_cmd() -> Res<String> {
    let p = std::env::current_exe()?.with_file_name("ipvs");
    if !p.exists() {
        return Err(format!("{} not built", p.display()).into());
    }
    Ok(p.to_string_lossy().into_owned())
}

/// Runs the `ipvs` command with `args`: exit code and everything it printed.
fn ipvs(args: &[&str]) -> Res<(i32, String)> {
    let out = Command::new(ipvs_cmd()?).args(args).stdin(Stdio::null()).output()?;
    Ok(text(out))
}

fn text(out: Output) -> (i32, String) {
    let s = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), s)
}

/// A TCP connection from the client to `vip:80`, held open (idle) until closed with a reset.
struct Held {
    close: mpsc::Sender<()>,
    done: std::thread::JoinHandle<()>,
}

fn hold(vip: Ipv4Addr) -> Res<Held> {
    let ns = File::open("/run/netns/client")?;
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let (close, close_rx) = mpsc::channel::<()>();
    let done = std::thread::spawn(move || {
        let conn = (|| -> Res<TcpStream> {
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)?;
            Ok(TcpStream::connect_timeout(&SocketAddr::new(IpAddr::V4(vip), 80), Duration::from_secs(5))?)
        })();
        match conn {
            Ok(c) => {
                let _ = ready_tx.send(Ok(()));
                // Bounded: closed when asked, or after two minutes whatever happens.
                let _ = close_rx.recv_timeout(Duration::from_secs(120));
                // A reset, so that the kernel forgets the connection within seconds (CLOSE
                // state) instead of keeping it in TIME_WAIT for two minutes.
                let _ = nix::sys::socket::setsockopt(
                    &c.as_fd(),
                    nix::sys::socket::sockopt::Linger,
                    &nix::libc::linger { l_onoff: 1, l_linger: 0 },
                );
                drop(c);
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e.to_string()));
            }
        }
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "connection timed out")??;
    Ok(Held { close, done })
}

impl Held {
    fn close(self) {
        let _ = self.close.send(());
        let _ = self.done.join();
    }
}

/// The destination of `svc` that has the held connection (active, as the kernel counts it).
fn busy_destination(lb: &Client<NetlinkTransport>, svc: &ServiceId) -> Res<SocketAddr> {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if let Some(d) = lb.destinations(svc)?.into_iter().find(|d| d.active_conns > 0) {
            return Ok(d.destination.socket_addr());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("no destination of {svc} shows the connection").into())
}

fn weight_of(lb: &Client<NetlinkTransport>, svc: &ServiceId, addr: SocketAddr) -> Res<Option<u32>> {
    Ok(lb.destinations(svc)?.into_iter().find(|d| d.destination.socket_addr() == addr).map(|d| d.destination.weight))
}

fn server_name(addr: SocketAddr) -> String {
    (1..=SERVERS).find(|i| IpAddr::V4(rs_addr(*i)) == addr.ip()).map_or_else(|| addr.to_string(), |i| format!("rs{i}"))
}

/// Two NAT services over the four servers; the second drains for at most 3 s.
fn web_table() -> Res<Table> {
    let mut t = Table::new();
    for (vip, max) in [(NAT_VIP, None), (WRR_VIP, Some(3))] {
        let id = ServiceId::tcp(IpAddr::V4(vip), 80);
        let e = t.add_service(Service::new(id, Scheduler::Rr))?;
        if let Some(secs) = max {
            e.set_drain(Some(DrainPolicy::Drain { max: Some(Duration::from_secs(secs)) }));
        }
        for i in 1..=SERVERS {
            e.add_destination(Destination::new(SocketAddr::new(IpAddr::V4(rs_addr(i)), 80), Forward::Masquerade))?;
        }
    }
    Ok(t)
}

fn write_table(name: &str, t: &Table) -> Res<String> {
    let path = format!("{WORK}/{name}");
    std::fs::write(&path, t.to_toml())?;
    Ok(path)
}

/// Runs `ipvs ARGS` in the background; waits for it at most `limit`.
fn wait_child(mut child: std::process::Child, limit: Duration) -> Res<(i32, String)> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if child.try_wait()?.is_some() {
            return Ok(text(child.wait_with_output()?));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let (_, out) = text(child.wait_with_output()?);
    Err(format!("ipvs did not finish within {limit:?}: {out}").into())
}

fn drain(failures: &mut Vec<String>) -> Res<()> {
    let lb = Client::in_namespace(LB)?;
    let full = web_table()?;
    let full_file = write_table("full.toml", &full)?;
    let (code, out) = ipvs(&["--netns", LB, "apply", &full_file])?;
    print!("{out}");
    check(code == 0, format!("ipvs apply of the web table: exit {code}"), failures);

    println!("\n== a destination with a live TCP connection leaves");
    let nat = ServiceId::tcp(IpAddr::V4(NAT_VIP), 80);
    let held = hold(NAT_VIP)?;
    let x = busy_destination(&lb, &nat)?;
    println!("   the connection is on {x} ({})", server_name(x));
    let mut without_x = full.clone();
    without_x.entry_mut(&nat).ok_or("no NAT service")?.remove_destination(&x);
    let file = write_table("without-x.toml", &without_x)?;
    let (code, out) = ipvs(&["--netns", LB, "apply", &file])?;
    print!("{out}");
    check(code == 0, format!("first process: exit {code} (converged, one draining)"), failures);
    check(
        out.contains(&format!("draining TCP {NAT_VIP}:80 -> {x}: 1 active")),
        "it reports the drain".into(),
        failures,
    );
    check(weight_of(&lb, &nat, x)? == Some(0), format!("{x} is at weight 0, not deleted"), failures);
    let counts = requests(NAT_VIP, 20)?;
    check(
        !counts.contains_key(&server_name(x)) && counts.values().sum::<usize>() == 20,
        format!("20 new requests, none to {}: {counts:?}", server_name(x)),
        failures,
    );

    println!("\n== a new process carries on");
    let (code, out) = ipvs(&["--netns", LB, "apply", &file])?;
    print!("{out}");
    check(
        code == 0 && out.contains("applied: 0 writes, 0 failed, 1 draining, converged"),
        "second process: nothing to write, the drain goes on".into(),
        failures,
    );
    check(weight_of(&lb, &nat, x)? == Some(0), format!("{x} still draining at weight 0"), failures);

    println!("\n== a stray weight-0 destination gets its weight back");
    let y = full.entry(&nat).and_then(|e| e.destinations().map(|d| d.destination.socket_addr()).find(|a| *a != x));
    let y = y.ok_or("no other destination")?;
    sh(&[
        "nsenter",
        "--net=/run/netns/lb",
        "ipvsadm",
        "-e",
        "-t",
        &format!("{NAT_VIP}:80"),
        "-r",
        &y.to_string(),
        "-m",
        "-w",
        "0",
    ])?;
    let (code, out) = ipvs(&["--netns", LB, "diff", &file])?;
    print!("{out}");
    check(
        code == 1 && out.contains(&format!("-e -t {NAT_VIP}:80 -r {y} -m -w 1")) && out.contains("changed: weight"),
        "diff shows the weight restored (exit 1)".into(),
        failures,
    );
    let (code, out) = ipvs(&["--netns", LB, "apply", &file])?;
    print!("{out}");
    check(code == 0 && weight_of(&lb, &nat, y)? == Some(1), format!("{y} is back at weight 1"), failures);

    println!("\n== the connection ends; `ipvs apply --wait` deletes the drained destination");
    let child = Command::new(ipvs_cmd()?)
        .args(["--netns", LB, "apply", &file, "--wait=60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    std::thread::sleep(Duration::from_secs(2));
    let closed_at = Instant::now();
    held.close();
    let (code, out) = wait_child(child, Duration::from_secs(70))?;
    print!("{out}");
    println!("   deleted {:.1} s after the connection was reset", closed_at.elapsed().as_secs_f64());
    check(code == 0, format!("apply --wait: exit {code}"), failures);
    check(weight_of(&lb, &nat, x)?.is_none(), format!("{x} is gone"), failures);
    let mut got = lb.table()?;
    got.set_timeouts(None);
    check(got == without_x, "the kernel holds the desired table".into(), failures);

    println!("\n== a longest drain time: 3 s, the connection still open");
    let other = ServiceId::tcp(IpAddr::V4(WRR_VIP), 80);
    let held = hold(WRR_VIP)?;
    let z = busy_destination(&lb, &other)?;
    let mut without_z = without_x.clone();
    without_z.entry_mut(&other).ok_or("no second service")?.remove_destination(&z);
    let file = write_table("without-z.toml", &without_z)?;
    let started = Instant::now();
    let child = Command::new(ipvs_cmd()?)
        .args(["--netns", LB, "apply", &file, "--wait=30"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (code, out) = wait_child(child, Duration::from_secs(40))?;
    print!("{out}");
    let took = started.elapsed();
    let still_active = lb.destinations(&other)?.iter().all(|d| d.destination.socket_addr() != z);
    check(
        code == 0 && still_active && took >= Duration::from_secs(3),
        format!("{z} deleted after its 3 s, {:.1} s in, the connection still open", took.as_secs_f64()),
        failures,
    );
    held.close();
    Ok(())
}

/// Apply while another client writes to the same services: the report says what happened,
/// and a second apply converges.
fn concurrent_writer(failures: &mut Vec<String>) -> Res<()> {
    println!("\n== apply under a concurrent writer (1,500 services x 2 destinations, 3 rounds)");
    sh(&["ip", "netns", "add", "ds-conc"])?;
    sh(&["ip", "-n", "ds-conc", "link", "set", "lo", "up"])?;
    let path = "/run/netns/ds-conc";
    let c =
        Client::with_transport(NetlinkTransport::builder().namespace(path).timeout(Duration::from_secs(120)).open()?);
    let w = Client::in_namespace(path)?;
    let id =
        |i: u32| ServiceId::tcp(IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 200) as u8 + 1)), 3000 + (i / 200) as u16);
    let mut desired = Table::new();
    for i in 0..1500u32 {
        let e = desired.add_service(Service::new(id(i), Scheduler::Wrr))?;
        for d in 1..=2u8 {
            e.add_destination(Destination::new(SocketAddr::from(([198, 51, 100, d], 80)), Forward::Masquerade))?;
        }
    }
    for round in 0..3u32 {
        c.flush()?;
        let stop = AtomicBool::new(false);
        let (report, writes) = std::thread::scope(|s| -> Res<_> {
            let writer = s.spawn(|| {
                // Deletes, re-weights and adds services of the desired set, bounded.
                let mut n = 0u32;
                let until = Instant::now() + Duration::from_secs(30);
                while !stop.load(Ordering::Relaxed) && n < 20_000 && Instant::now() < until {
                    let k = (n * 7919 + round) % 1500;
                    let _ = match n % 3 {
                        0 => w.delete_service(&id(k)),
                        1 => w.add_service(&Service::new(id(k), Scheduler::Rr)),
                        _ => w.update_destination(
                            &id(k),
                            &Destination::new(SocketAddr::from(([198, 51, 100, 1], 80)), Forward::Masquerade)
                                .with_weight(9),
                        ),
                    };
                    n += 1;
                }
                n
            });
            let plan = c.plan(&desired, &Scope::All, &Policy::default());
            let report = plan.and_then(|p| c.apply(&p));
            stop.store(true, Ordering::Relaxed);
            let writes = writer.join().map_err(|_| "writer panicked")?;
            Ok((report?, writes))
        })?;
        println!(
            "   round {round}: the writer made {writes} changes; first apply: {}, {} failures listed",
            report.summary(),
            report.failures.len()
        );
        for f in report.failures.iter().take(3) {
            println!("     failed: {} ({})", ipvs::rules::request_line(&f.request, &ipvs::rules::Numeric), f.error);
        }
        // What the report claims holds: failures carry an errno, and not converged comes with
        // what is still to do.
        check(
            report.failures.iter().all(|f| f.error.kernel_errno().is_some())
                && (report.converged || !report.remaining.is_empty()),
            format!("round {round}: the report accounts for what happened"),
            failures,
        );
        let second = c.apply(&c.plan(&desired, &Scope::All, &Policy::default())?)?;
        let mut got = c.table()?;
        got.set_timeouts(None);
        check(
            second.converged && second.failures.is_empty() && got == desired,
            format!("round {round}: a second apply converges ({})", second.summary()),
            failures,
        );
    }
    sh(&["ip", "netns", "del", "ds-conc"])?;
    Ok(())
}

/// A table of every kind, written by the real ipvsadm.
const VARIED: &str = "--set 900 60 300
-A -t 192.0.2.30:80 -s wrr -p 300 -M 255.255.255.0
-a -t 192.0.2.30:80 -r 198.51.100.31:8080 -m -w 3 -x 100 -y 10
-a -t 192.0.2.30:80 -r 198.51.100.32:80 -g -w 0
-A -u 192.0.2.30:53 -s mh -b mh-fallback,mh-port
-a -u 192.0.2.30:53 -r 198.51.100.33:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -u 192.0.2.30:5060 -s rr -p 60 --pe sip
-a -u 192.0.2.30:5060 -r 198.51.100.35:5060 -m -w 1
-A -f 42 -s sh -b sh-port -o
-a -f 42 -r 198.51.100.34:0 -i -w 2 --tun-type gre --tun-nocsum
-A -t [2001:db8::30]:443 -s lc -p 60 -M 64
-a -t [2001:db8::30]:443 -r [2001:db8::31]:443 -m -w 5
-A -f 43 -6 -s rr
-a -f 43 -6 -r [2001:db8::32]:0 -g -w 1
";

/// What the real ipvsadm says of a namespace, sorted (its order follows the kernel's hash
/// chains, which differ between namespaces).
fn ipvsadm_view(ns: &str) -> Res<String> {
    let mut all = Vec::new();
    for args in [&["-Sn"][..], &["-Ln", "--thresholds"], &["-Ln", "--persistent-conn"], &["-L", "--timeout"]] {
        let out = Command::new("nsenter").arg(format!("--net=/run/netns/{ns}")).arg("ipvsadm").args(args).output()?;
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
        lines.sort();
        all.push(lines.join("\n"));
    }
    Ok(all.join("\n---\n"))
}

fn export_round_trip(failures: &mut Vec<String>) -> Res<()> {
    println!("\n== ipvs export | ipvs apply -, between namespaces (compared with the real ipvsadm)");
    for ns in ["ds-a", "ds-b"] {
        sh(&["ip", "netns", "add", ns])?;
        sh(&["ip", "-n", ns, "link", "set", "lo", "up"])?;
    }
    let rules = format!("{WORK}/varied.rules");
    std::fs::write(&rules, VARIED)?;
    sh(&["sh", "-c", &format!("nsenter --net=/run/netns/ds-a ipvsadm -R < {rules}")])?;
    let want = ipvsadm_view("ds-a")?;
    let ipvs = ipvs_cmd()?;
    for format in ["toml", "json", "rules"] {
        sh(&["nsenter", "--net=/run/netns/ds-b", "ipvsadm", "-C"])?;
        let pipe =
            format!("{ipvs} --netns /run/netns/ds-a export --format {format} | {ipvs} --netns /run/netns/ds-b apply -");
        let (code, out) = text(Command::new("sh").args(["-c", &pipe]).output()?);
        let got = ipvsadm_view("ds-b")?;
        check(
            code == 0 && got == want,
            format!("{format}: the copy is the table ipvsadm wrote ({})", out.trim()),
            failures,
        );
        if got != want {
            println!("want:\n{want}\ngot:\n{got}");
        }
        let exported = format!("{WORK}/exported.{format}");
        let out = Command::new(&ipvs).args(["--netns", "/run/netns/ds-a", "export", "--format", format]).output()?;
        std::fs::write(&exported, &out.stdout)?;
        let (a, _) = text(Command::new(&ipvs).args(["--netns", "/run/netns/ds-a", "diff", &exported]).output()?);
        let (b, _) = text(Command::new(&ipvs).args(["--netns", "/run/netns/ds-b", "diff", &exported]).output()?);
        check(a == 0 && b == 0, format!("{format}: diff against both namespaces: nothing to do"), failures);
    }
    for ns in ["ds-a", "ds-b"] {
        sh(&["ip", "netns", "del", ns])?;
    }
    Ok(())
}

/// `ipvs realserver` end to end in a namespace of its own: check names what is missing,
/// prepare fixes it, check is then silent, undo puts it back.
fn realserver_cli(failures: &mut Vec<String>) -> Res<()> {
    println!("\n== ipvs realserver check, prepare, check, undo (direct routing, in a namespace)");
    sh(&["ip", "netns", "add", "ds-rs"])?;
    sh(&["ip", "-n", "ds-rs", "link", "add", "eth0", "type", "dummy"])?;
    let ns = "/run/netns/ds-rs";
    let args = ["--vip", "192.0.2.60", "--method", "dr", "--dev", "eth0", "--state", "/tmp/ds-rs.json"];
    let run = |action: &str| -> Res<(i32, String)> {
        let mut a = vec!["--netns", ns, "realserver", action];
        if action != "undo" {
            a.extend_from_slice(&args);
        } else {
            a.extend_from_slice(&["--state", "/tmp/ds-rs.json"]);
        }
        ipvs(&a)
    };
    let (code, before) = run("check")?;
    print!("{before}");
    check(
        code == 1 && before.contains("192.0.2.60") && before.contains("fix:"),
        "check: not ready, says why and how to fix it (exit 1)".into(),
        failures,
    );
    let (code, changed) = run("prepare")?;
    print!("{changed}");
    check(code == 0 && !changed.is_empty(), "prepare: lists what it changed".into(), failures);
    let (code, after) = run("check")?;
    check(code == 0 && after.is_empty(), format!("check after prepare: silent, exit 0 ({after:?})"), failures);
    let (code, again) = run("prepare")?;
    check(code == 0 && again.is_empty(), format!("prepare again: nothing to change ({again:?})"), failures);
    let (code, undone) = run("undo")?;
    print!("{undone}");
    let (check_code, _) = run("check")?;
    check(code == 0 && check_code == 1, "undo: back to not ready, as before".into(), failures);
    sh(&["ip", "netns", "del", "ds-rs"])?;
    Ok(())
}

fn run() -> Res<Vec<String>> {
    let mut failures = Vec::new();
    std::fs::create_dir_all(WORK)?;
    println!("== building the network: director, 4 real servers, 1 client (namespaces)");
    build_network()?;
    drain(&mut failures)?;
    concurrent_writer(&mut failures)?;
    export_round_trip(&mut failures)?;
    realserver_cli(&mut failures)?;
    Ok(failures)
}

fn main() {
    let result = run();
    teardown();
    for ns in ["ds-conc", "ds-a", "ds-b", "ds-rs"] {
        let _ = Command::new("ip").args(["netns", "del", ns]).stderr(Stdio::null()).status();
    }
    match result {
        Ok(f) if f.is_empty() => println!("\ndesired-state scenario: all checks passed"),
        Ok(f) => {
            println!("\ndesired-state scenario: {} check(s) FAILED", f.len());
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("desired-state scenario: {e}");
            std::process::exit(2);
        }
    }
}
