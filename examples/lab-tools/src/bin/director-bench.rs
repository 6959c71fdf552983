//! Health checking at scale, keepalived and ours on the same configuration in the same run:
//! 2,000 real servers (50 virtual servers x 40), half checked by TCP, half by HTTP, every
//! second, each check at an address of its own in 127.0.0.0/8. Both check two listeners on
//! loopback (this program serves them: an HTTP answer, and a bare accept), run in a network
//! namespace of their own, and are measured alike: CPU time (all their processes) and
//! resident memory over a window after a warm-up, and that all 2,000 servers are in the
//! table. CPU is split into user space and the kernel (where the connections the checks make
//! cost whoever makes them). Then the same with shared probes: 1,000 real servers each in
//! two virtual services (ports 80 and 443 of one address) with the same check, which
//! keepalived runs twice and ours once. Prints one `bench` line for each.
//!
//!     director-bench PATH-TO-ipvs-director [SECONDS]
//!
//! Needs root and a kernel with IPVS (the lab runs it).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ipvs_lab_tools::Res;

const HTTP_PORT: u16 = 18080;
const TCP_PORT: u16 = 18081;
const WORK: &str = "/tmp/ipvs-director-bench";

/// A listener on every address of `port` (this program's namespace has only loopback, so
/// every address of 127.0.0.0/8) with a backlog of 4096 (std's 128 drops connections when
/// a thousand checks a second arrive in bursts on an emulated machine: they would then fail
/// for the listener's sake, not the checker's).
fn listen(port: u16) -> Res<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    s.set_reuse_address(true)?;
    s.bind(&std::net::SocketAddr::from(([0, 0, 0, 0], port)).into())?;
    s.listen(4096)?;
    Ok(s.into())
}

/// Answers every connection on HTTP_PORT with a small page, and accepts (and
/// closes) every one on TCP_PORT; threads that live as long as the program. A thread serves
/// one connection at a time and waits for its request, so there are enough of them that a
/// checker slow to send its request does not hold up the others' connections.
fn serve() -> Res<()> {
    let http = listen(HTTP_PORT)?;
    let tcp = listen(TCP_PORT)?;
    for _ in 0..64 {
        let h = http.try_clone()?;
        std::thread::spawn(move || {
            for mut c in h.incoming().flatten() {
                let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 1024];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
            }
        });
    }
    for _ in 0..8 {
        let t = tcp.try_clone()?;
        std::thread::spawn(move || for _c in t.incoming() {});
    }
    Ok(())
}

/// The check of target `i` (an address of its own in 127.0.0.0/8), by TCP for even `i`,
/// else by HTTP.
fn check(i: usize) -> String {
    let ip = format!("127.0.{}.{}", i / 250, i % 250 + 1);
    if i.is_multiple_of(2) {
        format!("TCP_CHECK {{\n      connect_ip {ip}\n      connect_port {TCP_PORT}\n      connect_timeout 2\n    }}")
    } else {
        format!("HTTP_GET {{\n      url {{\n        path /\n      }}\n      connect_ip {ip}\n      connect_port {HTTP_PORT}\n      connect_timeout 2\n    }}")
    }
}

/// 50 virtual servers of 40 real servers each, checked every second. Not `shared`: 50
/// addresses, port 80, 2,000 checks of 2,000 targets. `shared`: 25 addresses, ports 80 and
/// 443 with the same real servers and checks, 2,000 checks of 1,000 targets.
fn config(shared: bool) -> String {
    let mut t = String::new();
    for v in 0..50 {
        let (address, port) = if shared { (v / 2, [80, 443][v % 2]) } else { (v, 80) };
        t += &format!(
            "virtual_server 192.0.2.{} {port} {{\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n",
            address + 1
        );
        for r in 0..40 {
            let check = check(address * 40 + r);
            t += &format!("  real_server 198.51.100.{} 80 {{\n    weight 1\n    {check}\n  }}\n", r + 1);
        }
        t += "}\n";
    }
    t
}

/// CPU seconds of a process and its children that are still running, as (user, system), and
/// their resident memory in bytes.
fn usage(root: u32) -> Res<((f64, f64), u64)> {
    let tick = 100.0; // USER_HZ
    let mut pids = vec![root];
    // Children: every process whose parent is in the set (keepalived forks its checker).
    for e in std::fs::read_dir("/proc")? {
        let Ok(pid) = e?.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        if f.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(root) {
            pids.push(pid);
        }
    }
    let (mut user, mut system, mut rss) = (0.0, 0.0, 0u64);
    for pid in pids {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        user += get(11) / tick;
        system += get(12) / tick;
        rss += (get(21) as u64) * 4096;
    }
    Ok(((user, system), rss))
}

fn destinations() -> Res<usize> {
    let out = Command::new("ipvsadm").arg("-Sn").output()?;
    Ok(String::from_utf8(out.stdout)?.lines().filter(|l| l.starts_with("-a ")).count())
}

/// What one daemon cost over the window: CPU shares of one core in user space and in the
/// kernel, peak RSS, and the destinations in the table at the end.
struct Cost {
    user: f64,
    system: f64,
    rss: u64,
    destinations: usize,
}

impl Cost {
    fn cpu(&self) -> f64 {
        self.user + self.system
    }

    fn describe(&self) -> String {
        format!(
            "{:.1} % CPU (user {:.1} %, system {:.1} %), {:.0} MB",
            self.cpu() * 100.0,
            self.user * 100.0,
            self.system * 100.0,
            self.rss as f64 / 1e6
        )
    }
}

/// Runs `cmd` (its standard error into `WORK/<name>.err`), waits `warm`, measures over `window`.
fn measure(name: &str, mut cmd: Command, warm: Duration, window: Duration) -> Res<Cost> {
    let _ = Command::new("ipvsadm").arg("-C").status();
    let err = std::fs::File::create(format!("{WORK}/{name}.err"))?;
    let mut child: Child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(err).spawn()?;
    let result = (|| -> Res<Cost> {
        std::thread::sleep(warm);
        let ((u0, s0), _) = usage(child.id())?;
        let start = Instant::now();
        let mut peak = 0;
        while start.elapsed() < window {
            std::thread::sleep(Duration::from_secs(1));
            peak = peak.max(usage(child.id())?.1);
        }
        let ((u1, s1), _) = usage(child.id())?;
        let secs = start.elapsed().as_secs_f64();
        Ok(Cost { user: (u1 - u0) / secs, system: (s1 - s0) / secs, rss: peak, destinations: destinations()? })
    })();
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let until = Instant::now() + Duration::from_secs(15);
    while child.try_wait()?.is_none() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let director = args.next().ok_or("usage: director-bench PATH-TO-ipvs-director [SECONDS]")?;
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
    Command::new("ip").args(["link", "set", "lo", "up"]).status()?;
    std::fs::create_dir_all(WORK)?;
    serve()?;
    let (warm, window) = (Duration::from_secs(8), Duration::from_secs(secs));
    for shared in [false, true] {
        let conf = format!("{WORK}/scale{}.conf", if shared { "-shared" } else { "" });
        std::fs::write(&conf, config(shared))?;
        let mut k = Command::new("keepalived");
        k.args(["-n", "-C", "-G", "-f", &conf, "-p", &format!("{WORK}/k.pid"), "-c", &format!("{WORK}/kc.pid")]);
        let keepalived = measure("keepalived", k, warm, window)?;
        let mut o = Command::new(&director);
        o.args(["--keepalived", &conf, "--no-listen"]).env("RUST_LOG", "warn");
        let ours = measure("ours", o, warm, window)?;
        let (kdest, odest) = (keepalived.destinations, ours.destinations);
        let what = if shared {
            "director shared probes, 1000 real servers each in two virtual services (2000 checks of 1000 targets) every second"
        } else {
            "director, 2000 real servers checked every second (TCP and HTTP)"
        };
        println!(
            "bench {what}: keepalived {} | ours {} ({:.2}x keepalived's CPU{}); servers in the table: keepalived {kdest}, ours {odest}",
            keepalived.describe(),
            ours.describe(),
            ours.cpu() / keepalived.cpu().max(1e-9),
            if shared { ", goal <= 0.6x" } else { "" }
        );
        if kdest != 2000 || odest != 2000 {
            return Err(format!("{what}: not every server up: keepalived {kdest}, ours {odest}").into());
        }
    }
    Ok(())
}
