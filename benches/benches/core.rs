//! Benchmarks of the parts that decide speed on large tables, each next to a baseline measured
//! in the same run so results read as ratios:
//! - wire: encoding requests and decoding what dumps bring, into the model (baseline: copying
//!   the same bytes);
//! - plan: the 10,000 x 4 table against itself and against a 1 % change;
//! - metrics: encoding one scrape of the 10,000 x 4 table (per series: divide by the count);
//! - mock: adding 1,000 services x 4 destinations one call each vs one batch;
//! - rules: rendering a 10,000-service table as `ipvsadm -Sn` rules (baseline: formatting the
//!   same addresses with `format!`), and parsing it back.
//!
//! `cargo bench -p ipvs-benches`

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use criterion::{criterion_group, criterion_main, Criterion};
use ipvs::wire::{frame, IpvsMessage};
use ipvs::{rules, Client, Destination, Forward, Request, Scheduler, Service, ServiceId};

fn id(i: u32) -> ServiceId {
    ServiceId::tcp(IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 250) as u8 + 1)), 1000 + (i / 250) as u16)
}

fn dest(d: u8) -> Destination {
    Destination::new(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, d)), 80), Forward::Masquerade)
        .with_weight(u32::from(d))
}

fn wire(c: &mut Criterion) {
    let svc = Service::new(id(7), Scheduler::Wrr).with_persistence(300);
    let mut buf = Vec::new();
    let add = Request::AddService(svc.clone());
    frame::encode(&IpvsMessage::from(&add), 30, 1, frame::REQUEST_ACK, &mut buf).unwrap();
    let bytes = buf.clone();
    let mut g = c.benchmark_group("wire");
    g.bench_function("baseline: copy one message's bytes", |b| b.iter(|| black_box(bytes.clone())));
    g.bench_function("encode an add-service request", |b| {
        b.iter(|| {
            buf.clear();
            frame::encode(&IpvsMessage::from(black_box(&add)), 30, 1, frame::REQUEST_ACK, &mut buf).unwrap();
        })
    });
    g.bench_function("decode one service message", |b| b.iter(|| frame::decode_all(black_box(&bytes)).unwrap()));
    let add_dest = Request::AddDestination { service: id(7), destination: dest(3) };
    g.bench_function("encode an add-destination request", |b| {
        b.iter(|| {
            buf.clear();
            frame::encode(&IpvsMessage::from(black_box(&add_dest)), 30, 1, frame::REQUEST, &mut buf).unwrap();
        })
    });
    // What a dump brings: a service with its statistics (32- and 64-bit), a destination with
    // its connection counts and statistics, as the kernel sends them.
    let (svc_bytes, dest_bytes) = dumped();
    g.bench_function("decode a dumped service into a ServiceStatus", |b| {
        b.iter(|| {
            let (f, _) = frame::decode_one(black_box(&svc_bytes)).unwrap();
            f.message().unwrap().to_service_status().unwrap()
        })
    });
    g.bench_function("decode a dumped destination into a DestinationStatus", |b| {
        b.iter(|| {
            let (f, _) = frame::decode_one(black_box(&dest_bytes)).unwrap();
            f.message().unwrap().to_destination_status(ipvs::Family::Inet).unwrap()
        })
    });
    g.finish();
}

/// The bytes of a dumped service and a dumped destination, with non-zero statistics.
fn dumped() -> (Vec<u8>, Vec<u8>) {
    use ipvs::transport::{MockTransport, Transport};
    let mock = MockTransport::new();
    let c = Client::with_transport(&mock);
    c.add_service(&Service::new(id(7), Scheduler::Wrr).with_persistence(300)).unwrap();
    c.add_destination(&id(7), &dest(3)).unwrap();
    let stats = ipvs::Stats {
        conns: 123_456,
        in_packets: 9_876_543_210,
        out_packets: 8_765_432_109,
        in_bytes: 987_654_321_098,
        out_bytes: 876_543_210_987,
        cps: 1234,
        in_pps: 56_789,
        out_pps: 45_678,
        in_bps: 123_456_789,
        out_bps: 98_765_432,
    };
    mock.set_stats(&id(7), None, stats);
    mock.set_stats(&id(7), Some(dest(3).socket_addr()), stats);
    let encode = |m: &IpvsMessage| {
        let mut out = Vec::new();
        frame::encode(m, 30, 1, frame::MULTIPART, &mut out).unwrap();
        out
    };
    let svc = mock.dump(&IpvsMessage::dump_services()).unwrap();
    let dests = mock.dump(&IpvsMessage::dump_destinations(&id(7))).unwrap();
    (encode(&svc[0]), encode(&dests[0]))
}

/// Planning the 10,000 x 4 table: nothing to do, and a 1 % change (100 services edited, 50
/// added, 50 removed).
fn plan(c: &mut Criterion) {
    use ipvs::state::{Plan, Policy, Scope, Table};
    let mut current = Table::new();
    for i in 0..10_000 {
        current.add_service(Service::new(id(i), Scheduler::Wrr)).unwrap();
        for d in 1..=4 {
            current.add_destination(&id(i), dest(d)).unwrap();
        }
    }
    let mut changed = current.clone();
    for i in 0..100 {
        let e = changed.entry_mut(&id(i)).unwrap();
        e.remove_destination(&dest(4).socket_addr());
        e.remove_destination(&dest(1).socket_addr());
        e.add_destination(dest(1).with_weight(7)).unwrap();
        e.add_destination(dest(5)).unwrap();
    }
    for i in 0..50 {
        changed.remove_service(&id(9_999 - i));
        changed.add_service(Service::new(id(10_000 + i), Scheduler::Wrr)).unwrap();
    }
    let policy = Policy::default();
    let mut g = c.benchmark_group("plan 10000 services x 4");
    g.sample_size(20);
    g.bench_function("nothing to do", |b| {
        b.iter(|| Plan::new(black_box(&current), black_box(&current), &Scope::All, &policy).unwrap())
    });
    g.bench_function("a 1 % change", |b| {
        b.iter(|| Plan::new(black_box(&current), black_box(&changed), &Scope::All, &policy).unwrap())
    });
    g.finish();
}

fn mock(c: &mut Criterion) {
    let mut g = c.benchmark_group("mock 1000 services x 4 destinations");
    g.sample_size(20);
    g.bench_function("one call each", |b| {
        b.iter(|| {
            let client = Client::mock();
            for i in 0..1000 {
                client.add_service(&Service::new(id(i), Scheduler::Wrr)).unwrap();
                for d in 1..=4 {
                    client.add_destination(&id(i), &dest(d)).unwrap();
                }
            }
        })
    });
    let mut reqs = Vec::new();
    for i in 0..1000 {
        reqs.push(Request::AddService(Service::new(id(i), Scheduler::Wrr)));
        for d in 1..=4 {
            reqs.push(Request::AddDestination { service: id(i), destination: dest(d) });
        }
    }
    g.bench_function("one batch", |b| b.iter(|| Client::mock().batch(black_box(&reqs)).unwrap()));
    g.finish();
}

fn rule_format(c: &mut Criterion) {
    let services: Vec<Service> = (0..10_000).map(|i| Service::new(id(i), Scheduler::Wrr)).collect();
    let dests: Vec<Destination> = (1..=4).map(dest).collect();
    let table: Vec<(&Service, &[Destination])> = services.iter().map(|s| (s, &dests[..])).collect();
    let text = rules::render(table.iter().copied());
    let mut g = c.benchmark_group("rules of 10000 services x 4");
    g.sample_size(10);
    g.bench_function("baseline: format! the addresses", |b| {
        b.iter(|| {
            let mut out = String::new();
            for s in &services {
                for d in &dests {
                    out.push_str(&format!("{:?} {}\n", s.id, d.socket_addr()));
                }
            }
            out
        })
    });
    g.bench_function("render (ipvsadm -Sn, sorted)", |b| b.iter(|| rules::render(black_box(&table).iter().copied())));
    g.bench_function("parse", |b| b.iter(|| rules::parse(black_box(&text)).unwrap()));
    g.bench_function("sort services", |b| {
        b.iter(|| {
            let mut v = services.clone();
            v.reverse();
            rules::order::sort_services(&mut v);
            v
        })
    });
    g.finish();
}

/// Destinations added to one service: the time per destination must not grow with their
/// number (it grew linearly, so the whole quadratically, before the mock indexed them).
fn mock_many_destinations(c: &mut Criterion) {
    let mut g = c.benchmark_group("mock: destinations on one service");
    g.sample_size(10);
    for n in [10_000u32, 20_000, 40_000] {
        let reqs: Vec<Request> = (0..n)
            .map(|i| {
                // One address of the documentation range, a port each.
                let addr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1 + (i / 60_000) as u8));
                Request::AddDestination {
                    service: id(0),
                    destination: Destination::new(SocketAddr::new(addr, 1 + (i % 60_000) as u16), Forward::Masquerade),
                }
            })
            .collect();
        g.bench_function(format!("{n} destinations"), |b| {
            b.iter(|| {
                let client = Client::mock();
                client.add_service(&Service::new(id(0), Scheduler::Wrr)).unwrap();
                client.batch(black_box(&reqs)).unwrap()
            })
        });
    }
    g.finish();
}

/// Encoding the metrics of the 10,000 x 4 table (one scrape's encoding, no kernel read):
/// divide by the series count printed to get the cost per series.
fn metrics(c: &mut Criterion) {
    use ipvs::state::Table;
    use ipvs_exporter::{render, Options, Snapshot};
    let mut table = Table::new();
    for i in 0..10_000 {
        table.add_service(Service::new(id(i), Scheduler::Wrr)).unwrap();
        for d in 1..=4 {
            table.add_destination(&id(i), dest(d)).unwrap();
        }
    }
    let snap = Snapshot { table: Some(std::sync::Arc::new(table)), ..Snapshot::default() };
    let series = |o| render(&snap, o, 0).lines().filter(|l| !l.starts_with('#')).count();
    let (ours, both) = (series(Options::default()), series(Options { node_exporter_names: true }));
    let mut g =
        c.benchmark_group(format!("metrics of 10000 services x 4 ({ours} series; {both} with node_exporter's)"));
    g.sample_size(10);
    g.bench_function("encode", |b| b.iter(|| render(black_box(&snap), Options::default(), 0)));
    g.bench_function("encode with node_exporter's series", |b| {
        b.iter(|| render(black_box(&snap), Options { node_exporter_names: true }, 0))
    });
    g.finish();
}

criterion_group!(benches, wire, plan, metrics, mock, mock_many_destinations, rule_format);
criterion_main!(benches);
