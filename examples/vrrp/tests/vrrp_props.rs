//! Arbitrary sequences of events, adverts and garbage against one instance: no panic, the
//! invariants hold after every step, and a packet that is dropped changes nothing.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ipvs_vrrp::{
    emit, Action, AddressMismatch, Addresses, Advert, Auth, Event, Instance, InstanceConfig, IpMeta, PacketContext,
    State, Timestamp, Version, MULTICAST_V4,
};
use proptest::prelude::*;

/// Property-test cases: `n` scaled by `IPVS_PROPTEST_CASES` (as the workspace's other tests).
fn cases(n: u32) -> ProptestConfig {
    let scale: f64 = std::env::var("IPVS_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0);
    ProptestConfig { cases: ((f64::from(n) * scale) as u32).max(1), failure_persistence: None, ..Default::default() }
}

const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

#[derive(Clone, Debug)]
enum Op {
    Startup,
    Shutdown,
    Timer,
    Fault,
    FaultCleared,
    Priority(u8),
    /// A well-formed advert from 10.0.0.`host`, possibly for another VRID or with another
    /// interval or address list.
    Advert {
        host: u8,
        priority: u8,
        vrid_other: bool,
        interval: u16,
        other_vip: bool,
    },
    /// A well-formed advert with one bit flipped (never the version or count byte).
    Corrupted {
        priority: u8,
        at: prop::sample::Index,
        bit: u8,
    },
    /// Arbitrary bytes with an arbitrary TTL.
    Garbage {
        ttl: u8,
        bytes: Vec<u8>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Startup),
        1 => Just(Op::Shutdown),
        3 => Just(Op::Timer),
        1 => Just(Op::Fault),
        1 => Just(Op::FaultCleared),
        1 => any::<u8>().prop_map(Op::Priority),
        6 => (1u8..=8, any::<u8>(), prop::bool::weighted(0.1), prop_oneof![Just(100u16), 1u16..=4095], prop::bool::weighted(0.1))
            .prop_map(|(host, priority, vrid_other, interval, other_vip)| Op::Advert { host, priority, vrid_other, interval, other_vip }),
        2 => (any::<u8>(), any::<prop::sample::Index>(), 0u8..8).prop_map(|(priority, at, bit)| Op::Corrupted { priority, at, bit }),
        2 => (prop_oneof![Just(255u8), any::<u8>()], prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(ttl, bytes)| Op::Garbage { ttl, bytes }),
    ]
}

fn config() -> impl Strategy<Value = InstanceConfig> {
    (
        prop_oneof![Just(Version::V2), Just(Version::V3)],
        1u8..=255,
        any::<bool>(),
        0u64..3000,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(version, priority, preempt, delay_ms, lenient, start_as_master, no_advert)| {
            let mut c = InstanceConfig::new(version, 51, priority, IpAddr::V4(ME), Addresses::V4(vec![VIP]));
            c.preempt = preempt;
            c.preempt_delay = Duration::from_millis(delay_ms);
            c.address_mismatch = if lenient { AddressMismatch::Accept } else { AddressMismatch::Drop };
            c.start_as_master = start_as_master;
            c.lower_prio_no_advert = no_advert;
            c.garp.master_refresh = Some(Duration::from_secs(7));
            c
        })
}

fn advert(cfg: &InstanceConfig, priority: u8, vrid: u8, interval: u16, vip: Ipv4Addr) -> Advert {
    match cfg.version {
        Version::V2 => Advert::v2(vrid, priority, (interval / 100).clamp(1, 255) as u8, Auth::None, vec![vip]).unwrap(),
        Version::V3 => Advert::v3(vrid, priority, interval, Addresses::V4(vec![vip])).unwrap(),
    }
}

/// Everything observable except the drop counters.
fn snapshot(i: &Instance) -> impl PartialEq + std::fmt::Debug {
    let mut stats = i.stats().clone();
    stats.drops = Default::default();
    (
        i.state(),
        i.next_deadline(),
        i.master_address(),
        i.master_priority(),
        i.priority(),
        i.master_adver_interval_centis(),
        stats,
    )
}

struct Harness {
    inst: Instance,
    holds_vips: bool,
    last_priority: u8,
}

impl Harness {
    fn apply(&mut self, actions: &[Action]) -> Result<(), TestCaseError> {
        for a in actions {
            match a {
                Action::AddAddresses => {
                    prop_assert!(!self.holds_vips, "addresses added twice");
                    self.holds_vips = true;
                }
                Action::RemoveAddresses => self.holds_vips = false,
                Action::SendAdvert(ad) => {
                    prop_assert_eq!(ad.vrid(), 51);
                    // Ours, before or after a priority change in the same call, or 0.
                    let p = ad.priority();
                    prop_assert!(p == 0 || p == self.inst.priority() || p == self.last_priority);
                }
                _ => {}
            }
        }
        self.last_priority = self.inst.priority();
        Ok(())
    }

    fn invariants(&self) -> Result<(), TestCaseError> {
        let i = &self.inst;
        prop_assert_eq!(self.holds_vips, i.state() == State::Master);
        prop_assert_eq!(i.next_deadline().is_some(), matches!(i.state(), State::Backup | State::Master));
        if let Some(t) = i.next_deadline() {
            prop_assert!(t > i.now(), "a due timer was left behind");
        }
        if i.state() == State::Master {
            prop_assert_eq!(i.master_address(), Some(IpAddr::V4(ME)));
        }
        prop_assert!(i.priority() >= 1);
        if i.config().priority == 255 {
            prop_assert_eq!(i.priority(), 255);
        } else {
            prop_assert!(i.priority() <= 254);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn arbitrary_event_sequences(cfg in config(), ops in prop::collection::vec((0u64..2500, op()), 1..120)) {
        let mut h = Harness { inst: Instance::new(cfg.clone()).unwrap(), holds_vips: false, last_priority: cfg.priority };
        let mut now = Timestamp::ZERO;
        let meta = |host: u8, ttl: u8| IpMeta {
            source: IpAddr::V4(Ipv4Addr::new(10, 0, 0, host)),
            destination: IpAddr::V4(MULTICAST_V4),
            ttl,
        };
        for (dt, op) in ops {
            now = now + Duration::from_millis(dt);
            let actions = match op {
                Op::Startup => h.inst.handle(now, Event::Startup),
                Op::Shutdown => h.inst.handle(now, Event::Shutdown),
                Op::Timer => h.inst.handle(now, Event::Timer),
                Op::Fault => h.inst.handle(now, Event::Fault),
                Op::FaultCleared => h.inst.handle(now, Event::FaultCleared),
                Op::Priority(p) => h.inst.handle(now, Event::Priority(p)),
                Op::Advert { host, priority, vrid_other, interval, other_vip } => {
                    let vrid = if vrid_other { 52 } else { 51 };
                    let vip = if other_vip { Ipv4Addr::new(10, 0, 0, 200) } else { VIP };
                    let m = meta(host, 255);
                    let bytes = emit(&advert(&cfg, priority, vrid, interval, vip), &m.context(false));
                    h.inst.receive(now, &m, &bytes)
                }
                Op::Corrupted { priority, at, bit } => {
                    let m = meta(9, 255);
                    let mut bytes = emit(&advert(&cfg, priority, 51, 100, VIP), &m.context(false));
                    let positions: Vec<usize> = (0..bytes.len()).filter(|i| *i != 0 && *i != 3).collect();
                    bytes[positions[at.index(positions.len())]] ^= 1 << bit;
                    let fired = h.inst.handle(now, Event::Timer);
                    h.apply(&fired)?;
                    let before = snapshot(&h.inst);
                    let drops = h.inst.stats().drops.total();
                    let a = h.inst.receive(now, &m, &bytes);
                    prop_assert!(a.is_empty());
                    prop_assert_eq!(h.inst.stats().drops.total(), drops + 1);
                    prop_assert_eq!(snapshot(&h.inst), before);
                    a
                }
                Op::Garbage { ttl, bytes } => {
                    let fired = h.inst.handle(now, Event::Timer);
                    h.apply(&fired)?;
                    let before = snapshot(&h.inst);
                    let drops = h.inst.stats().drops.total();
                    let a = h.inst.receive(now, &meta(9, ttl), &bytes);
                    if h.inst.stats().drops.total() == drops + 1 {
                        prop_assert!(a.is_empty());
                        prop_assert_eq!(snapshot(&h.inst), before);
                    }
                    a
                }
            };
            h.apply(&actions)?;
            h.invariants()?;
        }
        // Whatever happened, a clean stop leaves nothing behind.
        let a = h.inst.handle(now, Event::Shutdown);
        h.apply(&a)?;
        prop_assert!(!h.holds_vips);
        prop_assert_eq!(h.inst.next_deadline(), None);
    }
}

/// A PacketContext is all `emit` needs; building one by hand gives the same bytes.
#[test]
fn context_from_meta() {
    let m = IpMeta { source: IpAddr::V4(ME), destination: IpAddr::V4(MULTICAST_V4), ttl: 255 };
    assert_eq!(
        m.context(true),
        PacketContext { source: IpAddr::V4(ME), destination: IpAddr::V4(MULTICAST_V4), v3_checksum_as_v2: true }
    );
}
