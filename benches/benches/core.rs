//! Benchmarks of the parts that decide speed on large tables, each next to a baseline measured
//! in the same run so results read as ratios:
//! - wire: encoding and decoding service and destination messages (baseline: copying the
//!   same bytes);
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

criterion_group!(benches, wire, mock, mock_many_destinations, rule_format);
criterion_main!(benches);
