//! The director against the real keepalived, on the real kernel with real servers: the same
//! keepalived.conf run by keepalived (checker only) and by `ipvs-director --keepalived`
//! gives the same `ipvsadm -Sn` table once checks settle, and the same table after the same
//! server failures and recoveries (remove, inhibit, quorum and sorry server, direct routing
//! and firewall marks; a tunnelled virtual_server_group from an included file with alpha
//! and a MISC_CHECK); detection times are printed side by side. Then what only ours is
//! asked to do: clients see no errors once a dead server has left; a reload that adds, edits
//! and removes servers keeps a long TCP connection through the VIP alive and writes only the
//! difference; a daemon restart with traffic flowing neither resets a connection nor flaps
//! the table.
//!
//!     director-scenario PATH-TO-ipvs-director
//!
//! Needs root and a kernel with IPVS (the lab runs it). Exits non-zero if a check fails.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ipvs_lab_tools::{build_network, check, http_get, in_ns, requests, rs_addr, sh, teardown, Res};

const LB: &str = "/run/netns/lb";
const WORK: &str = "/tmp/ipvs-director-lab";
const STATUS: &str = "127.0.0.1:9745";

fn check_block(connect_timeout: u32) -> String {
    format!("TCP_CHECK {{\n            connect_timeout {connect_timeout}\n            retry 1\n            delay_before_retry 1\n            warmup 0\n        }}")
}

fn real(i: u8, port: u16, extra: &str, checks: &str) -> String {
    format!("    real_server {} {port} {{\n        {extra}\n        {checks}\n    }}\n", rs_addr(i))
}

/// The body digest genhash gives for server `i`'s page.
fn digest(i: u8) -> String {
    let response = format!("HTTP/1.0 200 OK\r\n\r\nrs{i}\n");
    ipvs_director::check::digest_of_response(response.as_bytes()).map(|d| d.to_string()).unwrap_or_default()
}

/// The configurations, and the failures each goes through: (name, text, steps).
fn configurations() -> Vec<(&'static str, String, Vec<Step>)> {
    let tcp: String = (1..=4).map(|i| real(i, 80, "weight 1", &check_block(1))).collect();
    let nat = format!(
        "virtual_server 192.0.2.10 80 {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n{tcp}}}\n"
    );
    let http: String = (1..=4)
        .map(|i| {
            let check = format!(
                "HTTP_GET {{\n            url {{\n                path /index.html\n                digest {}\n            }}\n            connect_timeout 1\n            retry 1\n            delay_before_retry 1\n            warmup 0\n        }}",
                digest(i)
            );
            real(i, 80, &format!("weight {i}"), &check)
        })
        .collect();
    let inhibit = format!(
        "virtual_server 192.0.2.13 80 {{\n    delay_loop 1\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n    persistence_timeout 300\n    inhibit_on_failure\n{http}}}\n"
    );
    let quorum = format!(
        "virtual_server 192.0.2.20 80 {{\n    delay_loop 1\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n    quorum 3\n    hysteresis 1\n    sorry_server 198.51.100.99 8080\n{tcp}}}\n"
    );
    let dr: String = (1..=2).map(|i| real(i, 80, "weight 2", &check_block(1))).collect();
    // A firewall-mark service's real servers have no port: the check names the one it tries.
    let marked: String = (1..=2)
        .map(|i| {
            let check = check_block(1).replace("TCP_CHECK {", "TCP_CHECK {\n            connect_port 80");
            format!("    real_server {} {{\n        weight 2\n        {check}\n    }}\n", rs_addr(i))
        })
        .collect();
    let dr_fwm = format!(
        "virtual_server 192.0.2.11 80 {{\n    delay_loop 1\n    lb_algo sh\n    sh-port\n    lb_kind DR\n    protocol TCP\n{dr}}}\n\
         virtual_server fwmark 5 {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind DR\n    persistence_timeout 60\n    persistence_granularity 255.255.255.0\n{marked}}}\n"
    );
    // A group of addresses from an included file, tunnelled, servers starting down until
    // checked (alpha), one checked by a command.
    let misc = "MISC_CHECK {\n            misc_path \"/bin/bash -c 'exec 3<>/dev/tcp/198.51.100.11/80'\"\n            misc_timeout 2\n            retry 1\n            delay_before_retry 1\n            warmup 0\n        }";
    let tun_group = format!(
        "include {WORK}/group.conf\nvirtual_server group TUNNELLED {{\n    delay_loop 1\n    lb_algo wrr\n    lb_kind TUN\n    protocol TCP\n    alpha\n{}{}}}\n",
        real(1, 80, "weight 3", misc),
        real(2, 80, "weight 1", &check_block(1)),
    );
    vec![
        ("tcp-nat", nat, vec![Step::Kill(2), Step::Start(2)]),
        ("http-inhibit", inhibit, vec![Step::Kill(3), Step::Start(3)]),
        (
            "quorum-sorry",
            quorum,
            vec![Step::Kill(1), Step::Kill(2), Step::Kill(3), Step::Start(1), Step::Start(2), Step::Start(3)],
        ),
        ("dr-fwmark", dr_fwm, vec![Step::Kill(1), Step::Start(1)]),
        ("tun-group-misc-alpha", tun_group, vec![Step::Kill(1), Step::Kill(2), Step::Start(1), Step::Start(2)]),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Kill(u8),
    Start(u8),
}

fn httpd(i: u8, up: bool) -> Res<()> {
    let root = format!("/tmp/ipvs-seed/rs{i}");
    if up {
        in_ns(&format!("rs{i}"), &["busybox", "httpd", "-p", "80", "-h", &root])
    } else {
        let _ = Command::new("pkill").args(["-f", &format!("busybox httpd -p 80 -h {root}$")]).status();
        Ok(())
    }
}

fn table() -> Res<String> {
    let out = Command::new("nsenter").arg(format!("--net={LB}")).args(["ipvsadm", "-Sn"]).output()?;
    Ok(String::from_utf8(out.stdout)?)
}

/// Waits until the table has not changed for 3 s (at most 30 s): (table, when it last
/// changed after `since`).
fn settle(since: Instant) -> Res<(String, Option<Duration>)> {
    let start = Instant::now();
    let mut last = table()?;
    let mut changed_at = Instant::now();
    let mut first_change: Option<Duration> = None;
    let initial = last.clone();
    while changed_at.elapsed() < Duration::from_secs(3) {
        if start.elapsed() > Duration::from_secs(30) {
            return Err(format!("the table did not settle in 30 s:\n{last}").into());
        }
        std::thread::sleep(Duration::from_millis(100));
        let now = table()?;
        if now != last {
            if first_change.is_none() && now != initial {
                first_change = Some(since.elapsed());
            }
            last = now;
            changed_at = Instant::now();
        }
    }
    Ok((last, first_change))
}

fn start_in_lb(program: &str, args: &[&str], log: &str) -> Res<Child> {
    let log = std::fs::File::create(log)?;
    Ok(Command::new("nsenter")
        .arg(format!("--net={LB}"))
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?)
}

fn stop(child: &mut Child) -> Res<()> {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id())?);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err("did not stop within 15 s of SIGTERM".into())
}

/// Runs one configuration through one implementation: the settled table at start and after
/// each step, and how long each step took to show.
fn run_one(director: &str, name: &str, conf: &str, steps: &[Step], ours: bool) -> Res<Vec<(String, Option<Duration>)>> {
    sh(&["nsenter", &format!("--net={LB}"), "ipvsadm", "-C"])?;
    for i in 1..=4 {
        httpd(i, false)?;
        httpd(i, true)?;
    }
    let who = if ours { "ours" } else { "keepalived" };
    let log = format!("{WORK}/{name}-{who}.log");
    let mut child = if ours {
        start_in_lb(director, &["--keepalived", conf, "--no-listen"], &log)?
    } else {
        let (p, c) = (format!("{WORK}/{name}.pid"), format!("{WORK}/{name}-checkers.pid"));
        start_in_lb("keepalived", &["-n", "-l", "-C", "-G", "-f", conf, "-p", &p, "-c", &c], &log)?
    };
    let result = (|| -> Res<Vec<(String, Option<Duration>)>> {
        let mut out = vec![settle(Instant::now())?];
        for s in steps {
            let at = Instant::now();
            match *s {
                Step::Kill(i) => httpd(i, false)?,
                Step::Start(i) => httpd(i, true)?,
            }
            out.push(settle(at)?);
        }
        Ok(out)
    })();
    let stopped = stop(&mut child);
    let r = result?;
    stopped?;
    Ok(r)
}

fn side_by_side(director: &str, failures: &mut Vec<String>) -> Res<()> {
    std::fs::write(
        format!("{WORK}/group.conf"),
        "virtual_server_group TUNNELLED {\n    192.0.2.12 80\n    192.0.2.30-31 80\n}\n",
    )?;
    for (name, text, steps) in configurations() {
        let conf = format!("{WORK}/{name}.conf");
        std::fs::write(&conf, &text)?;
        println!("\n== {name}: keepalived and ipvs-director --keepalived on the same file");
        let theirs = run_one(director, name, &conf, &steps, false)?;
        let mine = run_one(director, name, &conf, &steps, true)?;
        let labels: Vec<String> =
            std::iter::once("start".to_owned()).chain(steps.iter().map(|s| format!("{s:?}"))).collect();
        for (i, label) in labels.iter().enumerate() {
            let (t, dt) = &theirs[i];
            let (m, dm) = &mine[i];
            let ms = |d: &Option<Duration>| d.map_or("-".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
            println!("   {label:<10} keepalived {:>7}  ours {:>7}", ms(dt), ms(dm));
            check(t == m, format!("{name} after {label}: the same ipvsadm -Sn table"), failures);
            if t != m {
                println!("--- keepalived\n{t}--- ours\n{m}");
            } else if i == 0 || i == labels.len() - 1 {
                print!("{}", t.lines().map(|l| format!("     {l}\n")).collect::<String>());
            }
        }
    }
    Ok(())
}

/// A client connection to `vip:80` held open; `send` makes a request on it later.
struct Held(std::sync::mpsc::Sender<std::sync::mpsc::Sender<Result<String, String>>>);

impl Held {
    fn open(vip: Ipv4Addr) -> Res<Held> {
        let (tx, rx) = std::sync::mpsc::channel::<std::sync::mpsc::Sender<Result<String, String>>>();
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let ns = std::fs::File::open("/run/netns/client")?;
        std::thread::spawn(move || {
            let conn = nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    TcpStream::connect_timeout(&SocketAddr::new(IpAddr::V4(vip), 80), Duration::from_secs(5))
                        .map_err(|e| e.to_string())
                });
            let mut c = match conn {
                Ok(c) => c,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            while let Ok(reply) = rx.recv_timeout(Duration::from_secs(120)) {
                let r = (|| -> Result<String, String> {
                    c.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
                    c.write_all(b"GET / HTTP/1.0\r\n\r\n").map_err(|e| e.to_string())?;
                    let mut s = String::new();
                    c.read_to_string(&mut s).map_err(|e| e.to_string())?;
                    Ok(s)
                })();
                let _ = reply.send(r);
            }
        });
        ready.recv_timeout(Duration::from_secs(10)).map_err(|_| "connect timed out")??;
        Ok(Held(tx))
    }

    fn request(&self) -> Result<String, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.0.send(tx).map_err(|_| "connection thread gone")?;
        rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "no answer".to_string())?
    }
}

fn status() -> Res<serde_json::Value> {
    Ok(serde_json::from_str(&http_get(LB, STATUS, "/status")?)?)
}

/// The native configuration of the NAT service with `servers` as (server, weight).
fn native(servers: &[(u8, u32)]) -> String {
    let mut t = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nscheduler = \"rr\"\nforward = \"nat\"\n\
                 delay_loop = 1\nconnect_timeout = 1\nretry = 1\ndelay_before_retry = 1\nwarmup = 0\n"
        .to_owned();
    for (i, w) in servers {
        t += &format!(
            "[[virtual_servers.real_servers]]\naddress = \"{}\"\nport = 80\nweight = {w}\n[[virtual_servers.real_servers.tcp_check]]\n",
            rs_addr(*i)
        );
    }
    t
}

/// What only ours is asked: no client errors after a removal, reload keeping a connection
/// and writing only the difference, restart without a reset or a flap.
fn ours_alone(director: &str, failures: &mut Vec<String>) -> Res<()> {
    println!("\n== ours: clients, reload, restart (native configuration, TCP checks every second)");
    sh(&["nsenter", &format!("--net={LB}"), "ipvsadm", "-C"])?;
    for i in 1..=4 {
        httpd(i, false)?;
        httpd(i, true)?;
    }
    let file = format!("{WORK}/native.toml");
    std::fs::write(&file, native(&[(1, 1), (2, 1), (3, 1)]))?;
    let log = format!("{WORK}/native.log");
    let mut d = start_in_lb(director, &["--config", &file, "--listen", STATUS], &log)?;
    let result = (|| -> Res<()> {
        if let Err(e) = ipvs_lab_tools::wait_listening(LB, STATUS, Duration::from_secs(20)) {
            not_listening(&mut d, &log);
            return Err(e);
        }
        settle(Instant::now())?;
        dead_server_leaves(failures)?;
        // Held open to the end, as the one the restart opens.
        let _reloaded = reload_keeps_connection(&d, &file, failures)?;
        restart_without_flap(director, &mut d, &file, &log, failures)
    })();
    stop(&mut d)?;
    result
}

/// Prints what the daemon `d`, which does not listen, said (its log) and where its threads
/// wait.
fn not_listening(d: &mut Child, log: &str) {
    println!("--- its log:\n{}---", std::fs::read_to_string(log).unwrap_or_default());
    let pid = d.id();
    println!("exit: {:?}", d.try_wait());
    let _ = Command::new("df").args(["-h", "/tmp", WORK]).status();
    let _ = Command::new("sh").args(["-c", "dmesg | tail -n 15"]).status();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    println!(
        "{}",
        status.lines().filter(|l| l.starts_with("State") || l.starts_with("Threads")).collect::<Vec<_>>().join("\n")
    );
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let p = t.path();
            let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
            let wchan = std::fs::read_to_string(p.join("wchan")).unwrap_or_default();
            let syscall = std::fs::read_to_string(p.join("syscall")).unwrap_or_default();
            println!(
                "   task {} {}: wchan {wchan} syscall {}",
                t.file_name().to_string_lossy(),
                comm.trim(),
                syscall.trim()
            );
        }
    }
    let _ = Command::new("nsenter").arg(format!("--net={LB}")).args(["ss", "-ltnp"]).status();
}

/// A dead server leaves; after that every request succeeds.
fn dead_server_leaves(failures: &mut Vec<String>) -> Res<()> {
    let before = table()?;
    check(before.contains(&format!("{}:80", rs_addr(2))), "the three servers are in before a failure".into(), failures);
    httpd(2, false)?;
    let (t, took) = settle(Instant::now())?;
    // keepalived's bound: delay_loop × (retry + 1) + connect_timeout = 1 × 2 + 1 s; the
    // table is polled every 100 ms and the VM is slow, so 1 s more is allowed.
    let bound = Duration::from_secs(3);
    check(
        !t.contains(&rs_addr(2).to_string()) && took.is_some_and(|d| d <= bound + Duration::from_secs(1)),
        format!("a dead server leaves within delay_loop × (retry + 1) + connect_timeout = {bound:?} (+1 s): {took:?}"),
        failures,
    );
    let counts = requests(ipvs_lab_tools::NAT_VIP, 30)?;
    check(
        counts.values().sum::<usize>() == 30 && !counts.contains_key("rs2"),
        format!("30 requests after it left, all answered: {counts:?}"),
        failures,
    );
    httpd(2, true)?;
    settle(Instant::now())?;
    Ok(())
}

/// A long connection, then a reload of `file` by the daemon `d`: .3 stays (the connection
/// may be on any server, so the one it is on is kept), another is edited, one removed, one
/// added. The long connection, still open.
fn reload_keeps_connection(d: &Child, file: &str, failures: &mut Vec<String>) -> Res<Held> {
    let held = Held::open(ipvs_lab_tools::NAT_VIP)?;
    let keep = active_server()?;
    let others: Vec<u8> = [1u8, 2, 3].into_iter().filter(|i| *i != keep).collect();
    let before = status()?["writes"].as_u64().unwrap_or(0);
    let mut next = vec![(keep, 1u32), (others[0], 5)];
    next.push((4, 1));
    std::fs::write(file, native(&next))?;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(d.id())?);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP)?;
    let (t, _) = settle(Instant::now())?;
    let after = status()?["writes"].as_u64().unwrap_or(0);
    check(
        t.contains(&format!("-r {}:80 -m -w 5", rs_addr(others[0])))
            && !t.contains(&format!("{}:80", rs_addr(others[1])))
            && t.contains(&format!("{}:80", rs_addr(4))),
        "reload: edited, removed and added as the new file says".into(),
        failures,
    );
    check(
        after - before == 3,
        format!("reload wrote only the difference: {} writes (3 changes)", after - before),
        failures,
    );
    let reply = held.request();
    check(
        reply.as_ref().is_ok_and(|r| r.contains(&format!("rs{keep}"))),
        format!("the long connection lives on across the reload ({reply:?})"),
        failures,
    );
    Ok(held)
}

/// Restart with traffic flowing: stop the daemon `d` (the table stays), start it again.
fn restart_without_flap(director: &str, d: &mut Child, file: &str, log: &str, failures: &mut Vec<String>) -> Res<()> {
    let held = Held::open(ipvs_lab_tools::NAT_VIP)?;
    let table_before = table()?;
    stop(d)?;
    let still = table()?;
    *d = start_in_lb(director, &["--config", file, "--listen", STATUS], log)?;
    ipvs_lab_tools::wait_listening(LB, STATUS, Duration::from_secs(20))?;
    let watch_until = Instant::now() + Duration::from_secs(5);
    let mut flapped = false;
    while Instant::now() < watch_until {
        flapped |= table()? != table_before;
        std::thread::sleep(Duration::from_millis(100));
    }
    check(still == table_before && !flapped, "restart: the table stays as it was, no flap".into(), failures);
    let reply = held.request();
    check(reply.is_ok(), format!("restart: a connection opened before it still works ({reply:?})"), failures);
    Ok(())
}

/// The real server that has the client's one active connection (NAT service).
fn active_server() -> Res<u8> {
    let out = Command::new("nsenter").arg(format!("--net={LB}")).args(["ipvsadm", "-Ln"]).output()?;
    let text = String::from_utf8(out.stdout)?;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let ["->", addr, _, _, active, ..] = f.as_slice() {
            if *active != "0" {
                for i in 1..=4u8 {
                    if addr.starts_with(&format!("{}:", rs_addr(i))) {
                        return Ok(i);
                    }
                }
            }
        }
    }
    Err(format!("no server has an active connection:\n{text}").into())
}

fn run(director: &str) -> Res<Vec<String>> {
    let mut failures = Vec::new();
    std::fs::create_dir_all(WORK)?;
    println!("== building the network: director, 4 real servers, 1 client (namespaces)");
    build_network()?;
    side_by_side(director, &mut failures)?;
    ours_alone(director, &mut failures)?;
    Ok(failures)
}

fn main() {
    let Some(director) = std::env::args().nth(1) else {
        eprintln!("usage: director-scenario PATH-TO-ipvs-director");
        std::process::exit(2);
    };
    let result = run(&director);
    let _ = Command::new("pkill").arg("keepalived").status();
    teardown();
    match result {
        Ok(f) if f.is_empty() => println!("\ndirector scenario: all checks passed"),
        Ok(f) => {
            println!("\ndirector scenario: {} check(s) FAILED", f.len());
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("director scenario: {e}");
            std::process::exit(2);
        }
    }
}
