//! Applies a desired table of 10,000 services x 4 destinations onto an empty in-memory kernel
//! model (plan, pipelined writes, verification read) and prints the best time of several
//! rounds in seconds: the Rust side of the Python binding benchmark
//! (`ipvs-py/bench/bench_apply.py` runs both and reports the ratio).
//!
//!     mock-apply-bench [SERVICES] [ROUNDS]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use ipvs::state::{Policy, Scope, Table};
use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let services: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rounds: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    // The table is built before the clock starts, as the Python side does.
    let mut desired = Table::new();
    for i in 0..services {
        let vip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 250) as u8 + 1));
        let id = ServiceId::tcp(vip, 1000 + (i / 250) as u16);
        desired.add_service(Service::new(id, Scheduler::Wrr))?;
        for d in 1..=4u8 {
            let rs = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, d)), 80);
            desired.add_destination(&id, Destination::new(rs, Forward::Masquerade).with_weight(u32::from(d)))?;
        }
    }
    let want = desired.len() + desired.destination_count();
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let client = Client::mock();
        let start = Instant::now();
        let report = client.apply(&client.plan(&desired, &Scope::Named, &Policy::default())?)?;
        best = best.min(start.elapsed().as_secs_f64());
        if report.writes != want || !report.converged || !report.failures.is_empty() {
            return Err(format!("apply did not converge: {} (expected {want} writes)", report.summary()).into());
        }
    }
    println!("{best:.6}");
    Ok(())
}
