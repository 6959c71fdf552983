//! The seed scenario, for real: a director with virtual IPs in front of four web servers, each
//! in a network namespace of its own, and a client namespace making requests.
//!
//! Shown working for NAT, direct routing and IPIP tunnelling; rr spreads requests evenly,
//! wrr in proportion to the weights, a destination at weight 0 gets no new connections, and
//! the library's statistics count the traffic. Every claim is checked: the program exits
//! non-zero if one does not hold.
//!
//! Needs root and a kernel with IPVS (run it in the lab: `./demo.sh`). Only documentation
//! addresses are used, and only inside namespaces it makes (and removes).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::Duration;

use ipvs::transport::NetlinkTransport;
use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId, Tunnel};
use ipvs_lab_tools::{
    build_network, check, requests, rs_addr, teardown, Res, DR_VIP, NAT_VIP, SERVERS, TUN_VIP, WRR_VIP,
};

/// Linux 6.1 folds the per-CPU counters into what it reports every 2 seconds (the rate
/// estimator's period).
fn wait_for_estimator() {
    std::thread::sleep(Duration::from_millis(2500));
}

fn print_table(lb: &Client<NetlinkTransport>) -> Res<()> {
    println!(
        "  {:<22} {:<6} {:>6} {:>8} {:>10} {:>10}",
        "service / server", "fwd", "weight", "conns", "in pkts", "out pkts"
    );
    let mut svcs = lb.services()?;
    svcs.sort_by_key(|s| s.service.id);
    for svc in svcs {
        println!(
            "  {:<22} {:<6} {:>6} {:>8} {:>10} {:>10}",
            format!("{} {}", svc.service.id, svc.service.scheduler),
            "",
            "",
            svc.stats.conns,
            svc.stats.in_packets,
            svc.stats.out_packets
        );
        let mut dests = lb.destinations(&svc.service.id)?;
        dests.sort_by_key(|d| d.destination.socket_addr());
        for d in dests {
            println!(
                "    -> {:<17} {:<6} {:>6} {:>8} {:>10} {:>10}",
                d.destination.socket_addr().to_string(),
                d.destination.forward.to_string(),
                d.destination.weight,
                d.stats.conns,
                d.stats.in_packets,
                d.stats.out_packets
            );
        }
    }
    Ok(())
}

fn run() -> Res<Vec<String>> {
    let mut failures = Vec::new();
    println!("== building the network: director, 4 real servers, 1 client (namespaces)");
    build_network()?;
    let lb = Client::in_namespace("/run/netns/lb")?;
    println!("   IPVS {} in the director's namespace", lb.info()?.version);
    let scenarios = [
        ("NAT (masquerading)", NAT_VIP, Forward::Masquerade),
        ("direct routing", DR_VIP, Forward::DirectRoute),
        ("IPIP tunnelling", TUN_VIP, Forward::Tunnel(Tunnel::Ipip)),
    ];
    for (_, vip, fwd) in scenarios {
        let id = ServiceId::tcp(IpAddr::V4(vip), 80);
        lb.add_service(&Service::new(id, Scheduler::Rr))?;
        for i in 1..=SERVERS {
            lb.add_destination(&id, &Destination::new(SocketAddr::new(IpAddr::V4(rs_addr(i)), 80), fwd))?;
        }
    }
    let wrr = ServiceId::tcp(IpAddr::V4(WRR_VIP), 80);
    lb.add_service(&Service::new(wrr, Scheduler::Wrr))?;
    for i in 1..=SERVERS {
        let d = Destination::new(SocketAddr::new(IpAddr::V4(rs_addr(i)), 80), Forward::Masquerade)
            .with_weight(u32::from(i));
        lb.add_destination(&wrr, &d)?;
    }

    for (name, vip, _) in scenarios {
        println!("\n== {name}: rr over 4 servers, 40 requests to {vip}:80");
        let counts = requests(vip, 40)?;
        for (server, n) in &counts {
            println!("   {server}: {n}");
        }
        check(
            counts.len() == 4 && counts.values().all(|n| *n == 10),
            format!("{name}: each of 4 servers answered 10 of 40"),
            &mut failures,
        );
        wait_for_estimator();
        let svc = lb.service(&ServiceId::tcp(IpAddr::V4(vip), 80))?;
        check(
            svc.stats.conns == 40,
            format!("{name}: the service counted {} connections (40 made)", svc.stats.conns),
            &mut failures,
        );
    }

    println!("\n== wrr with weights 1:2:3:4, 100 requests to {WRR_VIP}:80");
    let counts = requests(WRR_VIP, 100)?;
    for (server, n) in &counts {
        println!("   {server}: {n}");
    }
    let expect: BTreeMap<String, usize> = (1..=SERVERS).map(|i| (format!("rs{i}"), 10 * usize::from(i))).collect();
    check(counts == expect, "wrr: rs1..rs4 answered 10, 20, 30, 40".into(), &mut failures);

    println!("\n== draining: rs4 set to weight 0 on the NAT service, 30 requests");
    let rs4 = SocketAddr::new(IpAddr::V4(rs_addr(4)), 80);
    let nat = ServiceId::tcp(IpAddr::V4(NAT_VIP), 80);
    lb.update_destination(&nat, &Destination::new(rs4, Forward::Masquerade).with_weight(0))?;
    wait_for_estimator();
    let before = lb.destinations(&nat)?.into_iter().find(|d| d.destination.socket_addr() == rs4).map(|d| d.stats.conns);
    let counts = requests(NAT_VIP, 30)?;
    for (server, n) in &counts {
        println!("   {server}: {n}");
    }
    wait_for_estimator();
    let after = lb.destinations(&nat)?.into_iter().find(|d| d.destination.socket_addr() == rs4).map(|d| d.stats.conns);
    check(
        !counts.contains_key("rs4") && counts.values().sum::<usize>() == 30,
        "weight 0: rs4 got no new connection".into(),
        &mut failures,
    );
    check(before == after, format!("weight 0: rs4's connection counter stayed at {before:?}"), &mut failures);

    // Per-destination counters add up to the service's.
    let total: u64 = lb.destinations(&nat)?.iter().map(|d| d.stats.conns).sum();
    check(
        total == lb.service(&nat)?.stats.conns,
        format!("NAT: destination counters add up to the service's ({total})"),
        &mut failures,
    );

    println!("\n== the table, with the library's statistics");
    print_table(&lb)?;

    // The ipvsadm-compatible tool next to this program reads the live table (with its
    // traffic counters) exactly as the real ipvsadm does.
    let ours = std::env::current_exe()?.with_file_name("ipvsadm");
    if ours.exists() {
        println!("\n== ipvsadm -Ln --stats (ours; compared byte for byte with the real ipvsadm)");
        for args in [
            &["-Ln"][..],
            &["-Ln", "--stats"],
            &["-Ln", "--stats", "--exact"],
            &["-Ln", "--persistent-conn"],
            &["-Sn"],
            &["-L"],
        ] {
            let real = listing("ipvsadm", args)?;
            let mine = listing(&ours.to_string_lossy(), args)?;
            if args == ["-Ln", "--stats"] {
                print!("{mine}");
            }
            check(real == mine, format!("ipvsadm {}: ours prints what ipvsadm prints", args.join(" ")), &mut failures);
        }
    }
    Ok(failures)
}

/// What `PROGRAM ARGS` prints in the director's namespace, run as `ipvsadm`.
fn listing(program: &str, args: &[&str]) -> Res<String> {
    let out = Command::new("nsenter")
        .args(["--net=/run/netns/lb", "bash", "-c", "exec -a ipvsadm \"$0\" \"$@\"", program])
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn main() {
    let result = run();
    teardown();
    match result {
        Ok(f) if f.is_empty() => println!("\nseed scenario: all checks passed"),
        Ok(f) => {
            println!("\nseed scenario: {} check(s) FAILED", f.len());
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("seed scenario: {e}");
            std::process::exit(2);
        }
    }
}
