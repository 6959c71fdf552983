//! The client under injected faults (the fault transport over the mock): every call either
//! succeeds, or reports exactly which requests failed (or, when the whole call failed, says
//! so), and running a batch again after a fault reaches the intended table.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use ipvs::transport::{Fault, FaultTransport, Faults, MockTransport, Transport, When};
use ipvs::wire::IpvsCmd;
use ipvs::{Client, Destination, Errno, ErrorKind, Forward, Request, Scheduler, Service, ServiceId};
use proptest::prelude::*;

fn cases(n: u32) -> ProptestConfig {
    let scale: f64 = std::env::var("IPVS_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0);
    ProptestConfig { cases: ((f64::from(n) * scale) as u32).max(1), failure_persistence: None, ..Default::default() }
}

fn id(i: u8) -> ServiceId {
    ServiceId::tcp(IpAddr::V4(Ipv4Addr::new(192, 0, 2, i)), 80)
}

fn dest(d: u8, weight: u32) -> Destination {
    Destination::new(SocketAddr::from(([198, 51, 100, d], 80)), Forward::Masquerade).with_weight(weight)
}

/// The table as a comparable value.
fn snapshot<T: Transport>(c: &Client<T>) -> Vec<(Service, Vec<Destination>)> {
    let mut out: Vec<(Service, Vec<Destination>)> = c
        .services()
        .unwrap()
        .into_iter()
        .map(|s| {
            let mut d: Vec<Destination> =
                c.destinations(&s.service.id).unwrap().into_iter().map(|d| d.destination).collect();
            d.sort_by_key(|d| d.socket_addr());
            (s.service, d)
        })
        .collect();
    out.sort_by_key(|(s, _)| s.id);
    out
}

/// An intended table (services 1..=5, each with some of destinations 1..=4 and a weight),
/// and the batch that builds it from nothing.
fn table_strategy() -> impl Strategy<Value = Vec<(u8, Vec<(u8, u32)>)>> {
    prop::collection::btree_map(1u8..6, prop::collection::btree_map(1u8..5, 0u32..4, 0..4), 1..5)
        .prop_map(|m| m.into_iter().map(|(s, d)| (s, d.into_iter().collect())).collect())
}

fn build(table: &[(u8, Vec<(u8, u32)>)]) -> Vec<Request> {
    let mut out = Vec::new();
    for (s, dests) in table {
        out.push(Request::AddService(Service::new(id(*s), Scheduler::Wrr)));
        for (d, w) in dests {
            out.push(Request::AddDestination { service: id(*s), destination: dest(*d, *w) });
        }
    }
    out
}

/// The table the given requests make, each service sorted as `snapshot` sorts.
fn made_by<'a>(reqs: impl IntoIterator<Item = &'a Request>) -> Vec<(Service, Vec<Destination>)> {
    let mut out: Vec<(Service, Vec<Destination>)> = Vec::new();
    for r in reqs {
        match r {
            Request::AddService(s) => out.push((s.clone(), Vec::new())),
            Request::AddDestination { service, destination } => {
                if let Some(e) = out.iter_mut().find(|(s, _)| s.id == *service) {
                    e.1.push(destination.clone());
                }
            }
            _ => unreachable!(),
        }
    }
    for (_, d) in &mut out {
        d.sort_by_key(|d| d.socket_addr());
    }
    out.sort_by_key(|(s, _)| s.id);
    out
}

fn fault_strategy() -> impl Strategy<Value = (u64, Fault)> {
    (
        1u64..24,
        prop_oneof![
            Just(Fault::Refuse(Errno::ENOMEM)),
            Just(Fault::Refuse(Errno::EBUSY)),
            Just(Fault::TimeoutBefore),
            Just(Fault::LoseAck),
            Just(Fault::Io(Errno::ENOBUFS)),
        ],
    )
}

proptest! {
    #![proptest_config(cases(3_000))]
    /// With one fault anywhere in a batch that builds a table: either the outcomes say
    /// exactly which requests took effect (the table is what the requests reported Ok make,
    /// and each error names its request), or the call fails as a whole with a timeout or an
    /// I/O error; and running the batch again without faults makes the intended table.
    #[test]
    fn a_batch_reports_each_failure_and_converges_when_run_again(
        table in table_strategy(), (nth, fault) in fault_strategy(),
    ) {
        let batch = build(&table);
        let t = Arc::new(FaultTransport::new(MockTransport::new(), Faults::none().once(When::Nth(nth), fault)));
        let c = Client::with_transport(t.clone());
        let result = c.batch(&batch);
        // A fault meant for a later message must not fire on the reads that check the table.
        t.set_faults(Faults::none());
        match result {
            Ok(outcomes) => {
                prop_assert_eq!(outcomes.len(), batch.len());
                for (o, r) in outcomes.iter().zip(&batch) {
                    if let Err(e) = o {
                        prop_assert_eq!(e.operation(), r.operation());
                        prop_assert_eq!(e.target().map(str::to_owned), r.target());
                        prop_assert!(e.kernel_errno().is_some(), "{e}");
                    }
                }
                let ok = batch.iter().zip(&outcomes).filter(|(_, o)| o.is_ok()).map(|(r, _)| r);
                prop_assert_eq!(snapshot(&c), made_by(ok));
                // A refusal fails its own request (and what depends on it), nothing else.
                if t.injected() == 1 {
                    prop_assert!(matches!(fault, Fault::Refuse(_)));
                    prop_assert!(outcomes.iter().any(|o| o.is_err()));
                } else {
                    prop_assert!(outcomes.iter().all(|o| o.is_ok()));
                }
            }
            Err(e) => {
                prop_assert_eq!(t.injected(), 1);
                prop_assert!(matches!(fault, Fault::TimeoutBefore | Fault::LoseAck | Fault::Io(_)), "{e}");
                prop_assert!(matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Io(_)), "{e}");
            }
        }
        c.batch(&batch).unwrap();
        prop_assert_eq!(snapshot(&c), made_by(&batch));
    }
}

#[test]
fn single_calls_report_their_fault() {
    let faults = Faults::none()
        .once(When::Command(IpvsCmd::NewService), Fault::Refuse(Errno::ENOMEM))
        .once(When::Command(IpvsCmd::NewDest), Fault::TimeoutBefore)
        .once(When::Command(IpvsCmd::GetService), Fault::Io(Errno::ENOBUFS));
    let t = Arc::new(FaultTransport::new(MockTransport::new(), faults));
    let c = Client::with_transport(t.clone());
    let svc = Service::new(id(1), Scheduler::Rr);
    let e = c.add_service(&svc).unwrap_err();
    assert_eq!((e.kernel_errno(), e.target()), (Some(Errno::ENOMEM), Some("TCP 192.0.2.1:80")));
    c.add_service(&svc).unwrap();
    let e = c.add_destination(&svc.id, &dest(1, 1)).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::TimedOut));
    assert_eq!(e.errno(), Errno::ETIMEDOUT);
    assert!(c.destinations(&svc.id).unwrap().is_empty(), "a request that timed out before sending took effect");
    let e = c.services().unwrap_err();
    assert_eq!(e.errno(), Errno::ENOBUFS);
    assert_eq!(c.services().unwrap().len(), 1);
    assert_eq!(t.injected(), 3);
}

#[test]
fn a_lost_acknowledgement_is_a_timeout_though_the_write_happened() {
    let t = FaultTransport::new(
        MockTransport::new(),
        Faults::none().once(When::Command(IpvsCmd::DelService), Fault::LoseAck),
    );
    let c = Client::with_transport(&t);
    let svc = Service::new(id(2), Scheduler::Rr);
    c.add_service(&svc).unwrap();
    assert!(matches!(c.delete_service(&svc.id).unwrap_err().kind(), ErrorKind::TimedOut));
    // The caller learns the truth by reading again: the service is gone.
    assert!(c.services().unwrap().is_empty());
    assert_eq!(c.delete_service(&svc.id).unwrap_err().kernel_errno(), Some(Errno::ESRCH));
}
