//! Health checking at scale, keepalived and ours on the same configuration in the same run:
//! 2,000 real servers (50 virtual servers x 40), half checked by TCP, half by HTTP, every
//! second. Both check the same two listeners on loopback (this program serves them: an
//! HTTP answer, and a bare accept), run in a network namespace of their own, and are
//! measured alike: CPU time (all their processes) and resident memory over a window after a
//! warm-up, and that all 2,000 servers are in the table. Beside them, the floor: the same
//! connections at the same rate with nothing around them (one epoll loop, no timers, no
//! table; see [`floor`]), measured alike — what any checker pays in the kernel for these
//! checks. CPU is split into user space and the kernel. Prints one `bench` line.
//!
//!     director-bench PATH-TO-ipvs-director [SECONDS]
//!
//! Needs root and a kernel with IPVS (the lab runs it).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const HTTP_PORT: u16 = 18080;
const TCP_PORT: u16 = 18081;
const WORK: &str = "/tmp/ipvs-director-bench";

/// Answers every connection on 127.0.0.1:HTTP_PORT with a small page, and accepts (and
/// closes) every one on TCP_PORT; threads that live as long as the program.
fn serve() -> Res<()> {
    let http = TcpListener::bind(("127.0.0.1", HTTP_PORT))?;
    let tcp = TcpListener::bind(("127.0.0.1", TCP_PORT))?;
    for _ in 0..2 {
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
    std::thread::spawn(move || for _c in tcp.incoming() {});
    Ok(())
}

/// The floor (this program run as `director-bench floor`): the same connections as the
/// checkers make, with nothing else — 20 checks started every 10 ms (2,000 a second, half TCP
/// connects, half HTTP GETs), on non-blocking sockets driven by one epoll loop: socket,
/// connect, the connect's result, for HTTP the request and the reply to its end, close. No
/// timers, no table, no bookkeeping beyond the checkers' own bound: a check not done within
/// 2 s (their connect timeout) is closed and counted as failed. Runs for at most `limit`;
/// writes the checks completed so far to `count` every second, and the failed ones to
/// `count.failed`.
fn floor(count: &str, limit: Duration) -> Res<()> {
    use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
    use socket2::{Domain, Socket, Type};
    use std::collections::HashMap;
    use std::net::SocketAddr;

    // Descriptors for every check in flight (ipvs-director raises its limit alike).
    let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)?;
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, hard, hard)?;
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    let tcp: SocketAddr = SocketAddr::from(([127, 0, 0, 1], TCP_PORT));
    let http: SocketAddr = SocketAddr::from(([127, 0, 0, 1], HTTP_PORT));
    // Open checks by id: the socket, whether HTTP, whether its request is sent, its start.
    let mut open: HashMap<u64, (Socket, bool, bool, Instant)> = HashMap::new();
    let (mut next_id, mut done, mut failed) = (0u64, 0u64, 0u64);
    let mut events = vec![EpollEvent::empty(); 256];
    let mut buf = [0u8; 512];
    let start = Instant::now();
    let mut tick = start;
    let mut ticks = 0u64;
    while start.elapsed() < limit {
        for i in 0..20 {
            let is_http = i % 2 == 1;
            let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
            s.set_nonblocking(true)?;
            match s.connect(&(if is_http { http } else { tcp }).into()) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => {}
                Err(e) => return Err(format!("floor: connect: {e}").into()),
            }
            epoll.add(&s, EpollEvent::new(EpollFlags::EPOLLOUT, next_id))?;
            open.insert(next_id, (s, is_http, false, Instant::now()));
            next_id += 1;
        }
        tick += Duration::from_millis(10);
        loop {
            let left = tick.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let n = epoll.wait(&mut events, EpollTimeout::try_from(left).unwrap_or(EpollTimeout::from(10u8)))?;
            for ev in &events[..n] {
                let id = ev.data();
                let Some((s, is_http, sent, _)) = open.get_mut(&id) else { continue };
                if !*sent {
                    if let Some(e) = s.take_error()? {
                        return Err(format!("floor: connect: {e}").into());
                    }
                    if !*is_http {
                        open.remove(&id);
                        done += 1;
                        continue;
                    }
                    s.send(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
                    epoll.modify(&*s, &mut EpollEvent::new(EpollFlags::EPOLLIN, id))?;
                    *sent = true;
                    continue;
                }
                match std::io::Read::read(s, &mut buf) {
                    Ok(0) => {
                        open.remove(&id);
                        done += 1;
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(format!("floor: reading the reply: {e}").into()),
                }
            }
        }
        open.retain(|_, c| {
            let alive = c.3.elapsed() < Duration::from_secs(2);
            failed += u64::from(!alive);
            alive
        });
        ticks += 1;
        if ticks.is_multiple_of(100) {
            std::fs::write(count, done.to_string())?;
            std::fs::write(format!("{count}.failed"), failed.to_string())?;
        }
    }
    Ok(())
}

fn config() -> String {
    let mut t = String::new();
    for v in 0..50 {
        t += &format!(
            "virtual_server 192.0.2.{} 80 {{\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n",
            v + 1
        );
        for r in 0..40 {
            let check = if (v * 40 + r) % 2 == 0 {
                format!("TCP_CHECK {{\n      connect_ip 127.0.0.1\n      connect_port {TCP_PORT}\n      connect_timeout 2\n    }}")
            } else {
                format!("HTTP_GET {{\n      url {{\n        path /\n      }}\n      connect_ip 127.0.0.1\n      connect_port {HTTP_PORT}\n      connect_timeout 2\n    }}")
            };
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
fn measure(name: &str, cmd: Command, warm: Duration, window: Duration) -> Res<Cost> {
    measure_with(name, cmd, warm, window, || {})
}

/// [`measure`], calling `at_start` as the window opens.
fn measure_with(name: &str, mut cmd: Command, warm: Duration, window: Duration, at_start: impl FnOnce()) -> Res<Cost> {
    let _ = Command::new("ipvsadm").arg("-C").status();
    let err = std::fs::File::create(format!("{WORK}/{name}.err"))?;
    let mut child: Child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(err).spawn()?;
    let result = (|| -> Res<Cost> {
        std::thread::sleep(warm);
        at_start();
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
    if director == "floor" {
        return floor(&args.next().ok_or("floor: no count file")?, Duration::from_secs(300));
    }
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
    Command::new("ip").args(["link", "set", "lo", "up"]).status()?;
    std::fs::create_dir_all(WORK)?;
    serve()?;
    let conf = format!("{WORK}/scale.conf");
    std::fs::write(&conf, config())?;
    let (warm, window) = (Duration::from_secs(8), Duration::from_secs(secs));
    let mut k = Command::new("keepalived");
    k.args(["-n", "-C", "-G", "-f", &conf, "-p", &format!("{WORK}/k.pid"), "-c", &format!("{WORK}/kc.pid")]);
    let keepalived = measure("keepalived", k, warm, window)?;
    let mut o = Command::new(&director);
    o.args(["--keepalived", &conf, "--no-listen"]).env("RUST_LOG", "warn");
    let ours = measure("ours", o, warm, window)?;
    let count = format!("{WORK}/floor.count");
    let checks = || -> f64 { std::fs::read_to_string(&count).ok().and_then(|s| s.parse().ok()).unwrap_or(0.0) };
    let _ = std::fs::remove_file(&count);
    let _ = std::fs::remove_file(format!("{count}.failed"));
    let mut f = Command::new(std::env::current_exe()?);
    f.args(["floor", &count]);
    let started = Instant::now();
    let (floor, floor_rate) = {
        let mut at_start = None;
        let cost = measure_with("floor", f, warm, window, || at_start = Some((checks(), started.elapsed())))?;
        let (c0, t0) = at_start.unwrap_or((0.0, Duration::ZERO));
        let rate = (checks() - c0) / (started.elapsed() - t0).as_secs_f64().max(1e-9);
        (cost, rate)
    };
    let (kdest, odest) = (keepalived.destinations, ours.destinations);
    let floor_failed: u64 =
        std::fs::read_to_string(format!("{count}.failed")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    println!(
        "bench director, 2000 real servers checked every second (TCP and HTTP): keepalived {} | ours {} ({:.2}x keepalived's CPU) | floor (the same connections, nothing else; {floor_rate:.0} checks/s done, {floor_failed} timed out in the run) {:.1} % CPU (user {:.1} %, system {:.1} %) ({:.2}x keepalived's CPU); servers in the table: keepalived {kdest}, ours {odest}",
        keepalived.describe(),
        ours.describe(),
        ours.cpu() / keepalived.cpu().max(1e-9),
        floor.cpu() * 100.0,
        floor.user * 100.0,
        floor.system * 100.0,
        floor.cpu() / keepalived.cpu().max(1e-9),
    );
    // The floor must have done (nearly) the same work for its CPU to compare: a check timing
    // out now and then under this load is the lab's, as it is for the daemons (whose retries
    // keep a server in the table through one).
    if floor_rate < 1800.0 {
        let why = std::fs::read_to_string(format!("{WORK}/floor.err")).unwrap_or_default();
        return Err(format!("the floor made {floor_rate:.0} checks/s, not 2,000: {}", why.trim()).into());
    }
    if kdest != 2000 || odest != 2000 {
        return Err(format!("not every server up: keepalived {kdest}, ours {odest}").into());
    }
    Ok(())
}
