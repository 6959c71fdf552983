//! Monitoring on the real kernel with real traffic: every value `ipvs-exporter` reports for a
//! service and its destinations equals what the real ipvsadm prints (`-Ln --stats --exact`,
//! `--rate --exact`), and, beside the real node_exporter (its ipvs collector only), every
//! `node_ipvs_*` series ours emits has node_exporter's labels and value. Then SIGTERM stops
//! the exporter cleanly.
//!
//!     monitoring-scenario PATH-TO-ipvs-exporter
//!
//! Needs root and a kernel with IPVS (the lab runs it). Exits non-zero if a check fails.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId};
use ipvs_lab_tools::{
    build_network, check, http_get, parse_exposition, requests, rs_addr, teardown, wait_listening, Res, Sample,
    NAT_VIP, SERVERS,
};

const LB: &str = "/run/netns/lb";
const OURS: &str = "127.0.0.1:9744";
const NODE: &str = "127.0.0.1:9100";

/// A service or destination row of ipvsadm's listing: its address and five numbers.
type Rows = BTreeMap<String, [u64; 5]>;

/// `ipvsadm -Ln ARGS` in the director's namespace, rows keyed `TCP 192.0.2.10:80` and
/// `TCP 192.0.2.10:80 -> 198.51.100.11:80`.
fn ipvsadm_rows(args: &[&str]) -> Res<Rows> {
    let out = Command::new("nsenter").arg(format!("--net={LB}")).arg("ipvsadm").arg("-Ln").args(args).output()?;
    let text = String::from_utf8(out.stdout)?;
    let mut rows = Rows::new();
    let mut service = String::new();
    for line in text.lines().skip(3) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (key, nums) = match f.as_slice() {
            ["->", addr, rest @ ..] => (format!("{service} -> {addr}"), rest),
            [proto, addr, rest @ ..] => {
                service = format!("{proto} {addr}");
                (service.clone(), rest)
            }
            _ => continue,
        };
        let nums: Vec<u64> =
            nums.iter().map(|n| n.parse()).collect::<Result<_, _>>().map_err(|e| format!("{line:?}: {e}"))?;
        rows.insert(key, <[u64; 5]>::try_from(nums).map_err(|_| format!("{line:?}: not 5 numbers"))?);
    }
    Ok(rows)
}

/// Our samples in the same shape: `ipvs_{service,destination}_{suffix}` per row.
fn our_rows(samples: &[Sample], suffixes: [&str; 5]) -> Rows {
    let mut rows = Rows::new();
    for (name, labels, value) in samples {
        let get = |k: &str| labels.iter().find(|(l, _)| l == k).map(|(_, v)| v.as_str()).unwrap_or("");
        let svc = match get("fwmark") {
            "" => format!("{} {}:{}", get("protocol").to_uppercase(), get("address"), get("port")),
            mark => format!("FWM {mark}"),
        };
        let (key, which) = if let Some(s) = name.strip_prefix("ipvs_service_") {
            (svc, s)
        } else if let Some(s) = name.strip_prefix("ipvs_destination_") {
            (format!("{svc} -> {}:{}", get("destination_address"), get("destination_port")), s)
        } else {
            continue;
        };
        if let Some(i) = suffixes.iter().position(|s| *s == which) {
            rows.entry(key).or_insert([0; 5])[i] = *value as u64;
        }
    }
    rows
}

const STATS: [&str; 5] = [
    "connections_total",
    "incoming_packets_total",
    "outgoing_packets_total",
    "incoming_bytes_total",
    "outgoing_bytes_total",
];
const RATES: [&str; 5] = [
    "connections_per_second",
    "incoming_packets_per_second",
    "outgoing_packets_per_second",
    "incoming_bytes_per_second",
    "outgoing_bytes_per_second",
];

/// Destination rows of `ipvsadm -Ln --persistent-conn`: weight, persistent, active and
/// inactive connections, keyed as [`ipvsadm_rows`] keys them.
fn ipvsadm_gauges() -> Res<BTreeMap<String, [u64; 4]>> {
    let out =
        Command::new("nsenter").arg(format!("--net={LB}")).args(["ipvsadm", "-Ln", "--persistent-conn"]).output()?;
    let text = String::from_utf8(out.stdout)?;
    let mut rows = BTreeMap::new();
    let mut service = String::new();
    for line in text.lines().skip(3) {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["->", addr, rest @ ..] => {
                let n: Vec<u64> =
                    rest.iter().map(|n| n.parse()).collect::<Result<_, _>>().map_err(|e| format!("{line:?}: {e}"))?;
                let n = <[u64; 4]>::try_from(n).map_err(|_| format!("{line:?}: not 4 numbers"))?;
                rows.insert(format!("{service} -> {addr}"), n);
            }
            [proto, addr, ..] => service = format!("{proto} {addr}"),
            _ => {}
        }
    }
    Ok(rows)
}

/// Ours in the same shape.
fn our_gauges(samples: &[Sample]) -> BTreeMap<String, [u64; 4]> {
    let names = [
        "ipvs_destination_weight",
        "ipvs_destination_persistent_connections",
        "ipvs_destination_active_connections",
        "ipvs_destination_inactive_connections",
    ];
    let mut rows = BTreeMap::new();
    for (name, labels, value) in samples {
        let Some(i) = names.iter().position(|n| n == name) else { continue };
        let get = |k: &str| labels.iter().find(|(l, _)| l == k).map(|(_, v)| v.as_str()).unwrap_or("");
        let svc = match get("fwmark") {
            "" => format!("{} {}:{}", get("protocol").to_uppercase(), get("address"), get("port")),
            mark => format!("FWM {mark}"),
        };
        let key = format!("{svc} -> {}:{}", get("destination_address"), get("destination_port"));
        rows.entry(key).or_insert([0; 4])[i] = *value as u64;
    }
    rows
}

/// The kernel's rates change every 2 seconds: a reading of ours counts when ipvsadm's
/// readings just before and just after it agree.
fn rates_agree(failures: &mut Vec<String>) -> Res<()> {
    for attempt in 1..=10 {
        let before = ipvsadm_rows(&["--rate", "--exact"])?;
        let ours = our_rows(&parse_exposition(&http_get(LB, OURS, "/metrics")?)?, RATES);
        let after = ipvsadm_rows(&["--rate", "--exact"])?;
        if before == after {
            let nonzero = before.values().any(|v| v.iter().any(|n| *n > 0));
            check(
                ours == before && nonzero,
                format!("rates (CPS, PPS, BPS in and out) of {} rows equal ipvsadm --rate --exact", before.len()),
                failures,
            );
            if ours != before {
                println!("   ipvsadm: {before:?}\n   ours:    {ours:?}");
            }
            return Ok(());
        }
        println!("   (the estimator ticked during attempt {attempt}; again)");
    }
    check(false, "rates: no quiet 2-second window in 10 attempts".into(), failures);
    Ok(())
}

/// Only the `node_ipvs_*` samples, by (name, labels).
fn node_series(samples: Vec<Sample>) -> BTreeMap<(String, Vec<(String, String)>), f64> {
    samples.into_iter().filter(|(n, _, _)| n.starts_with("node_ipvs_")).map(|(n, l, v)| ((n, l), v)).collect()
}

fn start(program: &str, args: &[&str]) -> Res<Child> {
    Ok(Command::new("nsenter")
        .arg(format!("--net={LB}"))
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?)
}

/// The services the checks read, in the director's table: the NAT service's id.
fn load_table(lb: &Client) -> Res<ServiceId> {
    let nat = ServiceId::tcp(IpAddr::V4(NAT_VIP), 80);
    lb.add_service(&Service::new(nat, Scheduler::Wrr))?;
    for i in 1..=SERVERS {
        let d = Destination::new(SocketAddr::new(IpAddr::V4(rs_addr(i)), 80), Forward::Masquerade);
        lb.add_destination(&nat, &d.with_weight(u32::from(i)))?;
    }
    // A firewall-mark service (no traffic) for node_exporter's FWM labels.
    let fwm = ServiceId::fwmark(10, ipvs::Family::Inet);
    lb.add_service(&Service::new(fwm, Scheduler::Rr))?;
    lb.add_destination(&fwm, &Destination::new(SocketAddr::new(IpAddr::V4(rs_addr(1)), 0), Forward::DirectRoute))?;
    Ok(nat)
}

fn run(exporter: &str) -> Res<Vec<String>> {
    let mut failures = Vec::new();
    println!("== building the network: director, 4 real servers, 1 client (namespaces)");
    build_network()?;
    let lb = Client::in_namespace(LB)?;
    let nat = load_table(&lb)?;

    println!("\n== starting ipvs-exporter and node_exporter (ipvs collector only) in the director's namespace");
    let ours = start(exporter, &["--listen", OURS, "--node-exporter-names"])?;
    let mut node = start(
        "prometheus-node-exporter",
        &["--collector.disable-defaults", "--collector.ipvs", &format!("--web.listen-address={NODE}")],
    )?;
    let result = (|| -> Res<()> {
        wait_listening(LB, OURS, Duration::from_secs(20))?;
        wait_listening(LB, NODE, Duration::from_secs(20))?;
        counters_agree(&mut failures)?;

        println!("\n== rates: ours against ipvsadm -Ln --rate --exact (traffic going on)");
        let traffic = std::thread::spawn(|| requests(NAT_VIP, 400));
        std::thread::sleep(Duration::from_millis(4500));
        rates_agree(&mut failures)?;
        traffic.join().map_err(|_| "traffic thread")??;

        series_agree(&mut failures)?;
        gauges_agree(&lb, nat, &mut failures)
    })();

    println!("\n== SIGTERM to ipvs-exporter");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(ours.id())?);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
    let out = ours.wait_with_output()?;
    let log = String::from_utf8_lossy(&out.stderr);
    print!("{log}");
    check(out.status.success() && log.contains("stopped"), "it stops cleanly, exit 0".into(), &mut failures);
    let _ = node.kill();
    let _ = node.wait();
    result?;
    Ok(failures)
}

/// 100 requests through the NAT service, then every counter of ours against ipvsadm's.
fn counters_agree(failures: &mut Vec<String>) -> Res<()> {
    println!("\n== traffic: 100 requests through the NAT service {NAT_VIP}:80 (wrr 1:2:3:4)");
    let counts = requests(NAT_VIP, 100)?;
    println!("   {counts:?}");
    // The kernel folds its per-CPU counters every 2 seconds.
    std::thread::sleep(Duration::from_millis(2500));

    println!("\n== counters: ours against ipvsadm -Ln --stats --exact");
    let kernel = ipvsadm_rows(&["--stats", "--exact"])?;
    let text = http_get(LB, OURS, "/metrics")?;
    let samples = parse_exposition(&text)?;
    let mine = our_rows(&samples, STATS);
    for (k, v) in &kernel {
        println!("   {k:<40} {v:?}");
    }
    check(
        mine == kernel && kernel.get(&format!("TCP {NAT_VIP}:80")).is_some_and(|v| v[0] == 100),
        format!("every counter of {} services and destinations equals ipvsadm's (100 connections)", kernel.len()),
        failures,
    );
    if mine != kernel {
        println!("   ours: {mine:?}");
    }
    Ok(())
}

/// Every `node_ipvs_*` series of ours against node_exporter's; and / links to /metrics.
fn series_agree(failures: &mut Vec<String>) -> Res<()> {
    println!("\n== node_ipvs_* series: ours against node_exporter's");
    std::thread::sleep(Duration::from_millis(2500));
    let theirs = node_series(parse_exposition(&http_get(LB, NODE, "/metrics")?)?);
    let mine = node_series(parse_exposition(&http_get(LB, OURS, "/metrics")?)?);
    let theirs_again = node_series(parse_exposition(&http_get(LB, NODE, "/metrics")?)?);
    for ((name, labels), v) in &theirs {
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        println!("   {name}{{{}}} {v}", l.join(","));
    }
    check(
        theirs == theirs_again && !theirs.is_empty(),
        format!("node_exporter gave {} node_ipvs_* series, the same twice", theirs.len()),
        failures,
    );
    check(mine == theirs, format!("ours gives the same {} series, labels and values", mine.len()), failures);
    for (k, v) in &theirs {
        if mine.get(k) != Some(v) {
            println!("   differs: {k:?}: node_exporter {v}, ours {:?}", mine.get(k));
        }
    }
    for k in mine.keys().filter(|k| !theirs.contains_key(*k)) {
        println!("   only ours: {k:?}");
    }
    let page = http_get(LB, OURS, "/")?;
    check(page.contains("href=\"/metrics\""), "/ links to /metrics".into(), failures);
    Ok(())
}

/// The NAT service `nat` made persistent and 8 connections held open through it: weights and
/// connection gauges of ours against ipvsadm's.
fn gauges_agree(lb: &Client, nat: ServiceId, failures: &mut Vec<String>) -> Res<()> {
    println!("\n== connection gauges and weights: ours against ipvsadm -Ln --persistent-conn");
    // Persistence makes templates (persistent connections); 8 connections held open stay
    // active on the server the template picked.
    lb.update_service(&Service::new(nat, Scheduler::Wrr).with_persistence(300))?;
    let held: Vec<std::net::TcpStream> = ipvs_lab_tools::in_client(|| {
        let to = SocketAddr::new(IpAddr::V4(NAT_VIP), 80);
        (0..8).map(|_| Ok(std::net::TcpStream::connect_timeout(&to, Duration::from_secs(5))?)).collect()
    })?;
    std::thread::sleep(Duration::from_millis(500));
    let mut agreed = false;
    for _ in 0..5 {
        let before = ipvsadm_gauges()?;
        let mine = our_gauges(&parse_exposition(&http_get(LB, OURS, "/metrics")?)?);
        let after = ipvsadm_gauges()?;
        if before != after {
            continue;
        }
        for (k, v) in &before {
            println!("   {k:<40} weight {} persistent {} active {} inactive {}", v[0], v[1], v[2], v[3]);
        }
        let live = before.values().any(|v| v[1] > 0) && before.values().map(|v| v[2]).sum::<u64>() >= 8;
        check(
            mine == before && live,
            format!(
                "weights, persistent, active and inactive connections of {} destinations equal ipvsadm's (templates and 8 open connections seen)",
                before.len()
            ),
            failures,
        );
        if mine != before {
            println!("   ours: {mine:?}");
        }
        agreed = true;
        break;
    }
    check(agreed, "ipvsadm's gauges held still between two readings".into(), failures);
    drop(held);
    Ok(())
}

fn main() {
    let Some(exporter) = std::env::args().nth(1) else {
        eprintln!("usage: monitoring-scenario PATH-TO-ipvs-exporter");
        std::process::exit(2);
    };
    let result = run(&exporter);
    teardown();
    match result {
        Ok(f) if f.is_empty() => println!("\nmonitoring scenario: all checks passed"),
        Ok(f) => {
            println!("\nmonitoring scenario: {} check(s) FAILED", f.len());
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("monitoring scenario: {e}");
            std::process::exit(2);
        }
    }
}
