//! Desired state against the kernel, side by side with ipvsadm and the floors, in one run
//! (the lab runs it; root and a kernel with IPVS needed). Every figure is measured here and
//! now; the lines starting with `bench ` are what `./test.sh` prints in its summary.
//!
//!     state-bench OUR-IPVSADM [SIZES [read|scrape]]   # SIZES: services, comma-separated
//!                                                     # (10000,20000); `read`: the table reads
//!                                                     # only; `scrape`: the reads and the scrape
//!
//! For each size (services x 4 destinations, wrr/NAT): reading the table (the floor: one
//! service dump and a destination dump per service on one bare socket; ours; `ipvsadm -Sn`),
//! and the consistency proof's cost (the service dump alone, raw and ours). At the first
//! size: applying into an empty table (the write floor: pre-encoded requests in 256 KiB
//! batches; ours; `ipvsadm -R`), applying a 1 % change (ours end to end, table read included,
//! against `ipvsadm -C` then `-R`; writes counted), a no-op apply (reads and writes counted),
//! scraping the table with `ipvs-exporter` (next to this program) against node_exporter's
//! ipvs collector, and one-request commands (`-C`, `-A`) of our ipvsadm and the real one,
//! start-up included.
//! Every table is written into a fresh network namespace of its own (after a flush, the
//! kernel's destination trash slows every add: see `Bench::fresh`); every table it makes is
//! checked. With `IPVS_FLOOR_PROBE=PATH` (lab/floor-probe.c, compiled), the write floor is
//! checked against that independent C probe, which also measures the floor after a flush.

mod floor;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use floor::Probe;
use ipvs::state::{Policy, Scope, Table};
use ipvs::transport::{BatchOutcome, NetlinkTransport, Transport};
use ipvs::wire::IpvsMessage;
use ipvs::{Client, Destination, ErrorKind, Forward, Scheduler, Service, ServiceId};
use ipvs_lab_tools::Res;

/// A transport that counts what goes through it.
struct Counting<T> {
    inner: T,
    dumps: AtomicUsize,
    requests: AtomicUsize,
    writes: AtomicUsize,
}

impl<T: Transport> Transport for Counting<T> {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if msg.cmd.is_write() {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.request(msg)
    }
    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        self.dumps.fetch_add(1, Ordering::Relaxed);
        self.inner.dump(msg)
    }
    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        self.writes.fetch_add(msgs.iter().filter(|m| m.cmd.is_write()).count(), Ordering::Relaxed);
        self.inner.batch(msgs)
    }
    fn dumps(&self, msgs: &[IpvsMessage]) -> Result<Vec<Vec<IpvsMessage>>, ErrorKind> {
        self.dumps.fetch_add(msgs.len(), Ordering::Relaxed);
        self.inner.dumps(msgs)
    }
}

impl<T> Counting<T> {
    fn take(&self) -> (usize, usize, usize) {
        (
            self.dumps.swap(0, Ordering::Relaxed),
            self.requests.swap(0, Ordering::Relaxed),
            self.writes.swap(0, Ordering::Relaxed),
        )
    }
}

type Ipvs = Client<Arc<Counting<NetlinkTransport>>>;

fn vip(i: u32) -> ServiceId {
    ServiceId::tcp(IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 250) as u8 + 1)), 1000 + (i / 250) as u16)
}

fn rs(d: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, d)), 80)
}

/// `n` services x 4 destinations, wrr/NAT, weights 1..4.
fn table(n: u32) -> Table {
    let mut t = Table::new();
    for i in 0..n {
        let id = vip(i);
        let Ok(e) = t.add_service(Service::new(id, Scheduler::Wrr)) else { continue };
        for d in 1..=4u8 {
            let _ = e.add_destination(Destination::new(rs(d), Forward::Masquerade).with_weight(u32::from(d)));
        }
    }
    t
}

/// The 1 % change of a table of `n`: 1 % of its services edited (a weight changed, a
/// destination added and one removed each), 0.5 % added, 0.5 % deleted. Returns the new
/// table and how many writes it takes.
fn changed(base: &Table, n: u32) -> (Table, usize) {
    let mut t = base.clone();
    let edit = n / 100;
    let (add, del) = (n / 200, n / 200);
    for i in 0..edit {
        let Some(e) = t.entry_mut(&vip(i)) else { continue };
        e.remove_destination(&rs(4));
        let _ = e.add_destination(Destination::new(rs(5), Forward::Masquerade).with_weight(5));
        e.remove_destination(&rs(1));
        let _ = e.add_destination(Destination::new(rs(1), Forward::Masquerade).with_weight(7));
    }
    for i in 0..del {
        t.remove_service(&vip(n - 1 - i));
    }
    for i in n..n + add {
        let id = vip(i);
        if let Ok(e) = t.add_service(Service::new(id, Scheduler::Wrr)) {
            for d in 1..=4u8 {
                let _ = e.add_destination(Destination::new(rs(d), Forward::Masquerade).with_weight(u32::from(d)));
            }
        }
    }
    (t, (edit * 3 + add * 5 + del) as usize)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Runs a program with `input` on its standard input: (time, standard output).
fn run(program: &str, args: &[&str], input: &str) -> Res<(Duration, Vec<u8>)> {
    let start = Instant::now();
    let mut child =
        Command::new(program).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let text = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output()?;
    let took = start.elapsed();
    writer.join().map_err(|_| "writer thread")??;
    if !out.status.success() {
        return Err(format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok((took, out.stdout))
}

fn install(c: &Ipvs, t: &Table) -> Res<()> {
    c.flush()?;
    for (i, r) in c.batch(&t.requests())?.into_iter().enumerate() {
        r.map_err(|e| format!("installing request {i}: {e}"))?;
    }
    Ok(())
}

fn check(c: &Ipvs, want: &Table, what: &str) -> Res<()> {
    let mut got = c.table()?;
    got.set_timeouts(None);
    let mut want = want.clone();
    want.set_timeouts(None);
    if got != want {
        return Err(format!("{what}: the kernel's table is not the one wanted").into());
    }
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Bench {
    client: Ipvs,
    counting: Arc<Counting<NetlinkTransport>>,
    probe: Probe,
    ours_ipvsadm: String,
    /// The clients of the namespaces left behind, each table flushed (see [`Bench::fresh`]).
    retired: Vec<Ipvs>,
    /// The independent C probe of the write floor (`lab/floor-probe.c`), if given.
    c_probe: Option<String>,
}

fn counting() -> Res<Arc<Counting<NetlinkTransport>>> {
    Ok(Arc::new(Counting {
        inner: NetlinkTransport::builder().timeout(Duration::from_secs(600)).open()?,
        dumps: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
        writes: AtomicUsize::new(0),
    }))
}

/// Moves this thread into a new network namespace with its loopback up; programs started
/// from it afterwards run there too.
fn new_namespace() -> Res<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
    // With its loopback down, a namespace has no route for any address, and the kernel
    // refuses every destination as not unicast (EINVAL).
    run("ip", &["link", "set", "lo", "up"], "")?;
    Ok(())
}

impl Bench {
    /// A fresh network namespace for the next figure, the client and the floor probe
    /// reopened there. After a flush the kernel keeps the deleted destinations on the
    /// namespace's trash list and every add walks it (50,000 adds took 39 s instead of 0.9 s
    /// in one lab run), so a write measured in a namespace that held a table measures the
    /// trash. The previous table is flushed (its rate estimators stop) and its namespace
    /// kept until the end, so that the kernel does not tear it down during the next figure.
    fn fresh(&mut self) -> Res<()> {
        self.client.flush()?;
        new_namespace()?;
        let counting = counting()?;
        let family = counting.inner.family_id();
        let old = std::mem::replace(&mut self.client, Client::with_transport(counting.clone()));
        self.retired.push(old);
        self.counting = counting;
        self.probe = Probe::open(family)?;
        Ok(())
    }

    /// The C probe's figures for `n` services: (fresh namespace, after a flush), seconds.
    fn c_probe(&self, n: u32) -> Res<Option<(f64, f64)>> {
        let Some(probe) = &self.c_probe else { return Ok(None) };
        let (_, out) = run(probe, &[&n.to_string(), "after-flush"], "")?;
        let out = String::from_utf8(out)?;
        let figure = |label: &str| -> Res<f64> {
            let at = out.find(label).ok_or_else(|| format!("no {label:?} in the C probe's {out:?}"))? + label.len();
            let word = out[at..].split_whitespace().next().unwrap_or("");
            Ok(word.parse::<f64>().map_err(|e| format!("C probe {word:?}: {e}"))?)
        };
        Ok(Some((figure("fresh namespace ")?, figure("after a flush ")?)))
    }

    fn read(&mut self, n: u32) -> Res<()> {
        let t = table(n);
        self.fresh()?;
        install(&self.client, &t)?;
        let ids: Vec<ServiceId> = t.entries().map(|e| e.service().id).collect();
        let (s, d, floor) = self.probe.read_table(&ids)?;
        if (s, d) != (n as usize, 4 * n as usize) {
            return Err(format!("read floor saw {s} services, {d} destinations").into());
        }
        let (_, raw_services) = self.probe.read_services()?;
        let start = Instant::now();
        let services = self.client.services()?;
        let ours_services = start.elapsed();
        if services.len() != n as usize {
            return Err(format!("services() saw {} services", services.len()).into());
        }
        self.counting.take();
        let start = Instant::now();
        let got = self.client.table()?;
        let ours = start.elapsed();
        let (dumps, requests, _) = self.counting.take();
        let mut cfg = got.clone();
        cfg.set_timeouts(None);
        if cfg != t {
            return Err("table() is not the table installed".into());
        }
        // The same read with one socket: what the parallel destination dumps bring.
        let single = Client::with_transport(NetlinkTransport::builder().dump_sockets(1).open()?);
        let start = Instant::now();
        let one = single.table()?;
        let one_socket = start.elapsed();
        if one.len() != n as usize {
            return Err("table() on one socket saw another table".into());
        }
        let (ipvsadm, saved) = run("ipvsadm", &["-Sn"], "")?;
        let (_, our_saved) = run(&self.ours_ipvsadm, &["-Sn"], "")?;
        if saved != our_saved {
            return Err("our ipvsadm -Sn differs from ipvsadm's".into());
        }
        println!(
            "bench read {n}x4: floor {:.2} s | ours table() {:.2} s ({:.2}x floor; {dumps} dumps, {requests} requests; on one socket {:.2} s) | ipvsadm -Sn {:.2} s ({:.2}x floor)",
            secs(floor),
            secs(ours),
            secs(ours) / secs(floor),
            secs(one_socket),
            secs(ipvsadm),
            secs(ipvsadm) / secs(floor)
        );
        println!(
            "bench proof {n}: raw service dump {:.3} s | ours services() {:.3} s (proof {:.2} service dumps)",
            secs(raw_services),
            secs(ours_services),
            (secs(ours_services) - secs(raw_services)) / secs(raw_services)
        );
        Ok(())
    }

    fn apply(&mut self, n: u32) -> Res<()> {
        let t = table(n);
        let rules = t.to_rules();
        // The write floor.
        self.fresh()?;
        let floor = self.probe.write(&t.requests())?;
        check(&self.client, &t, "write floor")?;
        let c_probe = self.c_probe(n)?;
        // Ours: plan from the (empty) kernel table, then apply with verification.
        self.fresh()?;
        self.counting.take();
        let start = Instant::now();
        let plan = self.client.plan(&t, &Scope::All, &Policy::default())?;
        let planned = start.elapsed();
        let mut written_at = None;
        let report = self.client.apply_with_progress(&plan, &mut |done, total| {
            if done == total {
                written_at = Some(start.elapsed());
            }
        })?;
        let ours = start.elapsed();
        let written = written_at.unwrap_or(ours);
        let (_, _, writes) = self.counting.take();
        if !report.converged || report.writes != t.requests().len() {
            return Err(format!("apply into empty: {}", report.summary()).into());
        }
        check(&self.client, &t, "apply into empty")?;
        self.fresh()?;
        let (ipvsadm, _) = run("ipvsadm", &["-R"], &rules)?;
        check(&self.client, &t, "ipvsadm -R")?;
        self.fresh()?;
        let (our_restore, _) = run(&self.ours_ipvsadm.clone(), &["-R"], &rules)?;
        check(&self.client, &t, "our ipvsadm -R")?;
        let c_floor = match c_probe {
            Some((fresh, _)) => format!("C probe {fresh:.2} s, ours/C {:.2}", secs(floor) / fresh),
            None => "no C probe: IPVS_FLOOR_PROBE unset".into(),
        };
        println!(
            "bench apply into empty {n}x4 (each into a fresh namespace): write floor {:.2} s ({c_floor}) | ours {:.2} s ({:.2}x floor; plan {:.2} s, writes {:.2} s ({:.2}x floor), verification {:.2} s; {writes} writes) | our ipvsadm -R {:.2} s ({:.2}x floor) | ipvsadm -R {:.2} s ({:.2}x floor)",
            secs(floor),
            secs(ours),
            secs(ours) / secs(floor),
            secs(planned),
            secs(written - planned),
            secs(written - planned) / secs(floor),
            secs(ours - written),
            secs(our_restore),
            secs(our_restore) / secs(floor),
            secs(ipvsadm),
            secs(ipvsadm) / secs(floor)
        );
        if let Some((fresh, flushed)) = c_probe {
            println!(
                "bench write floor after a flush {n}x4 (C probe, the same namespace: the kernel's destination trash): {flushed:.2} s ({:.1}x its fresh-namespace {fresh:.2} s)",
                flushed / fresh
            );
        }

        // A 1 % change, end to end.
        let (new, changes) = changed(&t, n);
        self.fresh()?;
        install(&self.client, &t)?;
        self.counting.take();
        let start = Instant::now();
        let plan = self.client.plan(&new, &Scope::All, &Policy::default())?;
        let report = self.client.apply(&plan)?;
        let ours = start.elapsed();
        let (dumps, requests, writes) = self.counting.take();
        check(&self.client, &new, "1 % change")?;
        if writes != changes || !report.converged {
            return Err(format!("1 % change: {writes} writes for {changes} changes; {}", report.summary()).into());
        }
        // What `ipvsadm -C` then `-R` users pay: the second write walks the trash the flush
        // left.
        self.fresh()?;
        install(&self.client, &t)?;
        let start = Instant::now();
        run("ipvsadm", &["-C"], "")?;
        run("ipvsadm", &["-R"], &new.to_rules())?;
        let ipvsadm = start.elapsed();
        check(&self.client, &new, "ipvsadm -C, -R")?;
        println!(
            "bench 1% change of {n}x4 ({changes} changes): ours {:.2} s ({writes} writes, {dumps} dumps, {requests} requests) | ipvsadm -C then -R {:.2} s ({:.1}x ours)",
            secs(ours),
            secs(ipvsadm),
            secs(ipvsadm) / secs(ours)
        );

        // Nothing to do.
        self.counting.take();
        let start = Instant::now();
        let plan = self.client.plan(&new, &Scope::All, &Policy::default())?;
        let report = self.client.apply(&plan)?;
        let ours = start.elapsed();
        let (dumps, requests, writes) = self.counting.take();
        if writes != 0 || report.writes != 0 || !plan.is_empty() {
            return Err(format!("no-op apply wrote {writes}").into());
        }
        println!(
            "bench no-op apply of {n}x4: {:.2} s, {writes} writes, one table read ({dumps} dumps, {requests} requests)",
            secs(ours)
        );
        Ok(())
    }

    /// Scrapes of the table now installed: ours (ipvs-exporter, with node_exporter's series
    /// too) against node_exporter's ipvs collector, each the median of `rounds`; then asking
    /// for gzip, the median of `gzip_rounds`.
    fn scrape(&mut self, n: u32, exporter: &str, rounds: usize, gzip_rounds: usize) -> Res<()> {
        let spawn = |prog: &str, args: &[&str]| {
            Command::new(prog).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()
        };
        let mut ours = spawn(exporter, &["--listen", "127.0.0.1:9744", "--node-exporter-names"])?;
        let mut node = spawn(
            "prometheus-node-exporter",
            &["--collector.disable-defaults", "--collector.ipvs", "--web.listen-address=127.0.0.1:9100"],
        )?;
        let result = (|| -> Res<()> {
            let here = "/proc/self/ns/net";
            ipvs_lab_tools::wait_listening(here, "127.0.0.1:9744", Duration::from_secs(30))?;
            ipvs_lab_tools::wait_listening(here, "127.0.0.1:9100", Duration::from_secs(30))?;
            // The time to the last byte of the reply, each the median of `rounds`; then the
            // series (and, for ours, its own reading of the kernel) from the last reply.
            let time = |addr: &str| -> Res<(Duration, Duration, String)> {
                let (mut times, mut firsts) = (Vec::new(), Vec::new());
                let mut last = Vec::new();
                for _ in 0..rounds {
                    let start = Instant::now();
                    let (reply, first) = ipvs_lab_tools::http_fetch(here, addr, "/metrics", Duration::from_secs(120))?;
                    times.push(start.elapsed());
                    firsts.push(first);
                    last = reply;
                }
                Ok((median(times), median(firsts), ipvs_lab_tools::http_body("/metrics", last)?))
            };
            let series = |body: &str| body.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).count();
            let (mine, my_first, my_body) = time("127.0.0.1:9744")?;
            let (theirs, their_first, their_body) = time("127.0.0.1:9100")?;
            let read = my_body
                .lines()
                .find_map(|l| l.strip_prefix("ipvs_scrape_duration_seconds "))
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or("our reply has no ipvs_scrape_duration_seconds")?;
            println!(
                "bench scrape {n}x4: ours {:.2} s (reading the kernel {read:.2} s, first byte {:.2} s; {} series, {:.0} MB, per-destination traffic included) | node_exporter {:.2} s (first byte {:.2} s; {} series, {:.0} MB) ({:.2}x ours)",
                secs(mine),
                secs(my_first),
                series(&my_body),
                my_body.len() as f64 / 1e6,
                secs(theirs),
                secs(their_first),
                series(&their_body),
                their_body.len() as f64 / 1e6,
                secs(theirs) / secs(mine)
            );
            // The same, asking for gzip (as Prometheus does): the time to the last compressed
            // byte, and the page unpacked must hold the series the plain one holds. One
            // scrape each (./test.sh's time); `gzip_rounds` for more.
            let zipped = |addr: &str, plain: &str| -> Res<(Duration, usize)> {
                let mut times = Vec::new();
                let mut size = 0;
                for _ in 0..gzip_rounds {
                    let start = Instant::now();
                    let (reply, _) = ipvs_lab_tools::http_fetch_asking(
                        here,
                        addr,
                        "/metrics",
                        "Accept-Encoding: gzip\r\n",
                        Duration::from_secs(120),
                    )?;
                    times.push(start.elapsed());
                    let (text, sent) = ipvs_lab_tools::http_gzip_body("/metrics", &reply)?;
                    if series(&text) != series(plain) {
                        return Err(format!("{addr}: {} series gzipped, {} plain", series(&text), series(plain)).into());
                    }
                    size = sent;
                }
                Ok((median(times), size))
            };
            let (mine_z, my_size) = zipped("127.0.0.1:9744", &my_body)?;
            let (theirs_z, their_size) = zipped("127.0.0.1:9100", &their_body)?;
            println!(
                "bench scrape gzip {n}x4 ({}): ours {:.2} s ({:.1} MB sent, {:.0}x smaller) | node_exporter {:.2} s ({:.1} MB sent, {:.0}x smaller) ({:.2}x ours)",
                if gzip_rounds == 1 { "one scrape each".to_owned() } else { format!("median of {gzip_rounds}") },
                secs(mine_z),
                my_size as f64 / 1e6,
                my_body.len() as f64 / my_size.max(1) as f64,
                secs(theirs_z),
                their_size as f64 / 1e6,
                their_body.len() as f64 / their_size.max(1) as f64,
                secs(theirs_z) / secs(mine_z)
            );
            Ok(())
        })();
        let _ = ours.kill();
        let _ = node.kill();
        let _ = ours.wait();
        let _ = node.wait();
        result
    }

    /// One-request commands, start-up included: the median of `rounds` runs of each.
    fn one_request(&mut self, rounds: usize) -> Res<()> {
        self.client.flush()?;
        let ours = self.ours_ipvsadm.clone();
        for (what, args, undo) in [
            ("-C", vec!["-C"], None),
            ("-A", vec!["-A", "-t", "192.0.2.250:9", "-s", "rr"], Some(vec!["-D", "-t", "192.0.2.250:9"])),
        ] {
            let (mut real, mut mine) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                for (prog, times) in [("ipvsadm", &mut real), (ours.as_str(), &mut mine)] {
                    times.push(run(prog, &args, "")?.0);
                    if let Some(u) = &undo {
                        run("ipvsadm", u, "")?;
                    }
                }
            }
            let (r, m) = (median(real), median(mine));
            println!(
                "bench ipvsadm {what} (median of {rounds}, start-up included): ipvsadm {:.1} ms | ours {:.1} ms ({:.2}x)",
                r.as_secs_f64() * 1e3,
                m.as_secs_f64() * 1e3,
                secs(m) / secs(r)
            );
        }
        Ok(())
    }
}

fn main() {
    if let Err(e) = main_() {
        eprintln!("state-bench: {e}");
        std::process::exit(1);
    }
}

fn main_() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let ours_ipvsadm = args.next().ok_or("usage: state-bench OUR-IPVSADM [SIZES [read|scrape]]")?;
    let sizes: Vec<u32> = args
        .next()
        .unwrap_or_else(|| "10000,20000".into())
        .split(',')
        .map(|s| s.parse::<u32>().map_err(|e| format!("size {s:?}: {e}")))
        .collect::<Result<_, _>>()?;
    // A network namespace of our own: an IPVS table nobody else writes to (children too).
    // Each table is written into a fresh one (Bench::fresh).
    new_namespace()?;
    let counting = counting()?;
    let family = counting.inner.family_id();
    let mut b = Bench {
        client: Client::with_transport(counting.clone()),
        counting,
        probe: Probe::open(family)?,
        ours_ipvsadm,
        retired: Vec::new(),
        c_probe: std::env::var("IPVS_FLOOR_PROBE").ok(),
    };
    // Everything, or only the reads ("read"), or the reads and the scrape ("scrape").
    let part = args.next().unwrap_or_default();
    let (read_only, scrape_only) = (part == "read", part == "scrape");
    let exporter = std::env::current_exe()?.with_file_name("ipvs-exporter");
    for (i, &n) in sizes.iter().enumerate() {
        b.read(n)?;
        if i == 0 && !read_only {
            b.scrape(n, &exporter.to_string_lossy(), 3, 1)?;
            if !scrape_only {
                b.apply(n)?;
            }
        }
    }
    if !read_only && !scrape_only {
        b.one_request(11)?;
    }
    b.client.flush()?;
    Ok(())
}
