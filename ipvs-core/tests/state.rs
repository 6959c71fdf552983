//! Desired state, on the mock (`cargo test`) and on the real kernel (the lab): for random
//! current and desired tables and scopes, applying the plan makes the desired table within
//! the scope, leaves everything outside it as it was, and a second plan is empty; under
//! injected faults, apply reports what failed and a second apply converges.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use common::Target;
use ipvs::state::{Plan, Policy, Scope, Selector, Table};
use ipvs::transport::{Fault, FaultTransport, Faults, Transport, When};
use ipvs::{
    Client, Destination, Errno, Family, Forward, Netmask, PersistenceEngine, Protocol, Scheduler, Service,
    ServiceFlags, ServiceId, Tunnel, TunnelFlags,
};
use proptest::prelude::*;

fn cases(n: u32) -> ProptestConfig {
    let scale: f64 = std::env::var("IPVS_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0);
    ProptestConfig { cases: ((f64::from(n) * scale) as u32).max(1), failure_persistence: None, ..Default::default() }
}

/// A service of a small universe: TCP or UDP on 192.0.2.1..4 port 80, or fwmark 1..4; from
/// 9 on, TCP on 2001:db8::1..3.
fn service_id(n: u8) -> ServiceId {
    if n >= 9 {
        return ServiceId::tcp(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(n - 8))), 80);
    }
    match n % 3 {
        0 => ServiceId::tcp(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1 + n / 3)), 80),
        1 => ServiceId::udp(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1 + n / 3)), 53),
        _ => ServiceId::fwmark(1 + u32::from(n / 3), Family::Inet),
    }
}

/// Every settable field of a service varies: scheduler, its flags (sh/mh), one-packet (UDP),
/// persistence with its granularity and (UDP) engine.
fn service_strategy(n: u8) -> impl Strategy<Value = Service> {
    (0u8..5, prop::option::of(1u32..1000), 0u8..4, any::<bool>(), 0u8..3).prop_map(
        move |(s, persist, sched_flags, one_packet, mask)| {
            let sched =
                [Scheduler::Rr, Scheduler::Wrr, Scheduler::Sh, Scheduler::Mh, Scheduler::Lc][usize::from(s)].clone();
            let id = service_id(n);
            let udp = matches!(id, ServiceId::Inet { protocol: Protocol::Udp, .. });
            let mut svc = Service::new(id, sched.clone());
            if matches!(sched, Scheduler::Sh | Scheduler::Mh) {
                let f = [
                    ServiceFlags::empty(),
                    ServiceFlags::SCHED1,
                    ServiceFlags::SCHED2,
                    ServiceFlags::SCHED1 | ServiceFlags::SCHED2,
                ];
                svc = svc.with_flags(f[usize::from(sched_flags)]);
            }
            if udp && one_packet {
                let flags = svc.flags | ServiceFlags::ONE_PACKET;
                svc = svc.with_flags(flags);
            }
            if let Some(t) = persist {
                svc = svc.with_persistence(t);
                let v6 = id.family() == Family::Inet6;
                svc = match (mask, v6) {
                    (1, false) => svc.with_netmask(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0))),
                    (1, true) => svc.with_netmask(Netmask::Prefix(64)),
                    _ => svc,
                };
                if udp && mask == 2 {
                    svc = svc.with_persistence_engine(PersistenceEngine::Sip);
                }
            }
            svc
        },
    )
}

fn destination_strategy(service: ServiceId) -> impl Strategy<Value = Vec<Destination>> {
    let port = match service {
        ServiceId::Inet { port, .. } => port,
        ServiceId::Fwmark { .. } => 80,
    };
    let v6 = service.family() == Family::Inet6;
    // Every settable field of a destination varies: method (tunnels of each type and checksum
    // mode), weight and thresholds.
    prop::collection::btree_map(1u8..6, (0u8..6, 0u32..4, 0u32..3, 0u8..3), 0..4).prop_map(move |m| {
        m.into_iter()
            .map(|(h, (fwd, w, th, csum))| {
                let flags = [TunnelFlags::empty(), TunnelFlags::CSUM, TunnelFlags::REMCSUM][usize::from(csum)];
                let forward = [
                    Forward::Masquerade,
                    Forward::DirectRoute,
                    Forward::Tunnel(Tunnel::Ipip),
                    Forward::Tunnel(Tunnel::Gue { port: 5555 + u16::from(h % 2), flags }),
                    Forward::Tunnel(Tunnel::Gre { flags: flags.difference(TunnelFlags::REMCSUM) }),
                    Forward::Masquerade,
                ][usize::from(fwd)];
                // Direct routing and tunnels keep the virtual port.
                let p = if forward == Forward::Masquerade { 8000 + u16::from(h) } else { port };
                let addr = if v6 {
                    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, u16::from(h)))
                } else {
                    IpAddr::V4(Ipv4Addr::new(198, 51, 100, h))
                };
                Destination::new(SocketAddr::new(addr, p), forward).with_weight(w).with_thresholds(th * 100, th * 50)
            })
            .collect()
    })
}

fn table_strategy() -> impl Strategy<Value = Table> {
    prop::collection::btree_set(0u8..12, 0..6)
        .prop_flat_map(|ids| {
            let svcs: Vec<_> = ids
                .into_iter()
                .map(|n| service_strategy(n).prop_flat_map(|s| (Just(s.clone()), destination_strategy(s.id))))
                .collect();
            svcs
        })
        .prop_map(|svcs| {
            let mut t = Table::new();
            for (s, dests) in svcs {
                let id = s.id;
                t.add_service(s).unwrap();
                for d in dests {
                    t.add_destination(&id, d).unwrap();
                }
            }
            t
        })
}

fn scope_strategy() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Named),
        Just(Scope::All),
        Just(Scope::Selected(vec!["tcp".parse::<Selector>().unwrap()])),
        Just(Scope::Selected(vec!["192.0.2.1/32".parse::<Selector>().unwrap(), "fwmark=1-2".parse().unwrap()])),
    ]
}

/// The desired table cut down to what the scope lets it name.
fn in_scope(desired: &Table, scope: &Scope) -> Table {
    let mut t = desired.clone();
    let outside: Vec<ServiceId> = t.entries().map(|e| e.service().id).filter(|id| !scope.may_write(id)).collect();
    for id in outside {
        t.remove_service(&id);
    }
    t
}

/// The configuration of a table, timeouts aside.
fn config(t: &Table) -> Table {
    let mut c = t.clone();
    c.set_timeouts(None);
    c
}

/// Installs `current` on an empty kernel.
fn install<T: Transport>(c: &Client<T>, current: &Table) {
    c.flush().unwrap();
    for r in c.batch(&current.requests()).unwrap() {
        r.unwrap();
    }
}

proptest! {
    #![proptest_config(cases(400))]
    #[test]
    fn a_plan_makes_the_desired_table_within_the_scope_and_nothing_else(
        current in table_strategy(), desired in table_strategy(), scope in scope_strategy(),
    ) {
        let t = shared_target(0);
        let c = t.client();
        install(&c, &current);
        let desired = in_scope(&desired, &scope);
        // Leaving destinations are deleted at once here: nothing carries traffic, so draining
        // ones would be deleted by the next plan anyway (drain has tests of its own).
        let policy = Policy::delete_at_once();
        let plan = c.plan(&desired, &scope, &policy).unwrap();
        let report = c.apply(&plan).unwrap();
        prop_assert!(report.failures.is_empty(), "{:?}", report.failures);
        prop_assert!(report.converged, "{:?}", report.remaining.steps());
        prop_assert_eq!(report.writes, plan.len());
        let after = config(&c.table().unwrap());
        for e in after.entries() {
            let id = e.service().id;
            if desired.contains(&id) {
                prop_assert_eq!(e, desired.entry(&id).unwrap());
            } else {
                // Not desired: it survived only if the scope may not remove it, unchanged.
                prop_assert!(!scope.may_remove(&id), "{id} should have been removed");
                prop_assert_eq!(Some(e), current.entry(&id));
            }
        }
        for e in desired.entries() {
            prop_assert!(after.contains(&e.service().id));
        }
        for e in current.entries() {
            let id = e.service().id;
            if !desired.contains(&id) && !scope.may_remove(&id) {
                prop_assert_eq!(after.entry(&id), Some(e));
            }
        }
        // A second plan has nothing to do.
        prop_assert!(c.plan(&desired, &scope, &policy).unwrap().is_empty());
    }
}

proptest! {
    #![proptest_config(cases(300))]
    #[test]
    fn after_a_fault_a_second_apply_converges(
        current in table_strategy(), desired in table_strategy(), nth in 1u64..30,
        fault in prop_oneof![Just(Fault::Refuse(Errno::ENOMEM)), Just(Fault::TimeoutBefore), Just(Fault::LoseAck)],
    ) {
        let t = shared_target(1);
        install(&t.client(), &current);
        let faulty = Arc::new(FaultTransport::new(t.transport.clone(), Faults::none().once(When::Nth(nth), fault)));
        let c = Client::with_transport(faulty.clone());
        let policy = Policy::delete_at_once();
        match c.plan(&desired, &Scope::All, &policy) {
            Ok(plan) => {
                match c.apply(&plan) {
                    // Whatever happened is reported: failures listed, or not converged.
                    Ok(report) => prop_assert!(report.converged || !report.failures.is_empty() || faulty.injected() == 1),
                    Err(e) => prop_assert!(faulty.injected() == 1, "{e}"),
                }
            }
            Err(e) => prop_assert!(faulty.injected() == 1, "{e}"),
        }
        faulty.set_faults(Faults::none());
        let second = c.apply(&c.plan(&desired, &Scope::All, &policy).unwrap()).unwrap();
        prop_assert!(second.converged && second.failures.is_empty(), "{}", second.summary());
        prop_assert_eq!(config(&c.table().unwrap()), config(&desired));
        prop_assert!(c.plan(&desired, &Scope::All, &policy).unwrap().is_empty());
    }
}

/// One target for every case of a property (a namespace per case is slow on the kernel);
/// each case installs its own table. Each property has its own (they run in parallel).
fn shared_target(property: usize) -> &'static Target {
    static TARGETS: [std::sync::OnceLock<Target>; 2] = [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    TARGETS[property].get_or_init(Target::new)
}

#[test]
fn the_same_desired_table_twice_writes_nothing_the_second_time() {
    let t = Target::new();
    let c = t.client();
    let desired = Table::from_rules(
        "-A -t 192.0.2.1:80 -s wrr -p 300\n-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3\n\
         -a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 1 -x 100 -y 10\n-A -u 192.0.2.1:53 -s rr\n",
    )
    .unwrap();
    let first = c.apply(&c.plan(&desired, &Scope::Named, &Policy::default()).unwrap()).unwrap();
    assert_eq!((first.writes, first.converged), (4, true));
    let second = c.plan(&desired, &Scope::Named, &Policy::default()).unwrap();
    assert!(second.is_empty(), "{}", second.to_rules());
    assert_eq!(c.apply(&second).unwrap().writes, 0);
}

#[test]
fn leaving_destinations_drain_through_the_kernel() {
    let t = Target::new();
    let c = t.client();
    let both = Table::from_rules(
        "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m\n-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m\n",
    )
    .unwrap();
    c.apply(&c.plan(&both, &Scope::Named, &Policy::default()).unwrap()).unwrap();
    let one = Table::from_rules("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m\n").unwrap();
    // No connections (no traffic here): the leaving destination is deleted at once, having
    // drained nothing. (The lab's desired-state scenario drains one with a live connection.)
    let plan = Plan::new(&c.table().unwrap(), &one, &Scope::Named, &Policy::default()).unwrap();
    assert_eq!(plan.to_rules(), "-d -t 192.0.2.1:80 -r 198.51.100.2:80\n");
    // A destination someone left at weight 0 that is still desired gets its weight back.
    let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    let d = Destination::new("198.51.100.1:80".parse().unwrap(), Forward::Masquerade).with_weight(0);
    c.update_destination(&id, &d).unwrap();
    let plan = c.plan(&one, &Scope::Named, &Policy::default()).unwrap();
    assert_eq!(
        plan.to_rules(),
        "-e -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n-d -t 192.0.2.1:80 -r 198.51.100.2:80\n"
    );
    assert!(c.apply(&plan).unwrap().converged);
}
