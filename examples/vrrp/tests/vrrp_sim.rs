//! Several instances exchanging adverts (as bytes) over a simulated LAN with virtual time:
//! convergence to exactly one master, takeover within 3 × interval + skew when the master
//! dies, priority 0 fast takeover, restart with and without preemption.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ipvs_vrrp::{
    emit, Action, Addresses, Event, Instance, InstanceConfig, IpMeta, PacketContext, State, Timestamp, Version,
};
use proptest::prelude::*;

/// Property-test cases: `n` scaled by `IPVS_PROPTEST_CASES` (as the workspace's other tests).
fn cases(n: u32) -> ProptestConfig {
    let scale: f64 = std::env::var("IPVS_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0);
    ProptestConfig { cases: ((f64::from(n) * scale) as u32).max(1), failure_persistence: None, ..Default::default() }
}

const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, 1 + i as u8)
}

fn node_cfg(version: Version, i: usize, priority: u8, interval_centis: u16, preempt: bool) -> InstanceConfig {
    let mut c = InstanceConfig::new(version, 7, priority, IpAddr::V4(addr(i)), Addresses::V4(vec![VIP]));
    c.advert_interval_centis = interval_centis;
    c.preempt = preempt;
    c
}

struct Node {
    cfg: InstanceConfig,
    inst: Instance,
    up: bool,
    holds_vips: bool,
}

struct Packet {
    at: Timestamp,
    from: usize,
    to: IpAddr,
    bytes: Vec<u8>,
}

struct Sim {
    nodes: Vec<Node>,
    now: Timestamp,
    wire: Vec<Packet>,
    latency: Duration,
    /// (time, node) of every transition to master.
    became_master: Vec<(Timestamp, usize)>,
}

impl Sim {
    fn new(cfgs: Vec<InstanceConfig>, latency: Duration) -> Sim {
        let nodes = cfgs
            .into_iter()
            .map(|cfg| Node { inst: Instance::new(cfg.clone()).unwrap(), cfg, up: false, holds_vips: false })
            .collect();
        Sim { nodes, now: Timestamp::ZERO, wire: Vec::new(), latency, became_master: Vec::new() }
    }

    fn apply(&mut self, i: usize, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::SendAdvert(ad) => {
                    let cfg = &self.nodes[i].cfg;
                    for to in cfg.destinations() {
                        let ctx =
                            PacketContext { source: cfg.primary_address, destination: to, v3_checksum_as_v2: false };
                        let at = self.now + self.latency;
                        self.wire.push(Packet { at, from: i, to, bytes: emit(&ad, &ctx) });
                    }
                }
                Action::AddAddresses => {
                    assert!(!self.nodes[i].holds_vips, "node {i} adds addresses twice");
                    self.nodes[i].holds_vips = true;
                    self.became_master.push((self.now, i));
                }
                Action::RemoveAddresses => self.nodes[i].holds_vips = false,
                Action::Announce { .. } | Action::Notify(_) | Action::SyncDaemon(_) => {}
            }
        }
    }

    fn event(&mut self, i: usize, ev: Event) {
        if self.nodes[i].up {
            let a = self.nodes[i].inst.handle(self.now, ev);
            self.apply(i, a);
        }
        self.check();
    }

    /// Start node `i` as a freshly started process.
    fn start(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        n.inst = Instance::new(n.cfg.clone()).unwrap();
        n.up = true;
        n.holds_vips = false;
        self.event(i, Event::Startup);
    }

    /// Node `i` dies without a word (its packets in flight still arrive).
    fn kill(&mut self, i: usize) {
        self.nodes[i].up = false;
        self.nodes[i].holds_vips = false;
    }

    /// Graceful stop: priority 0 if master.
    fn stop(&mut self, i: usize) {
        self.event(i, Event::Shutdown);
        self.nodes[i].up = false;
    }

    fn run_until(&mut self, end: Timestamp) {
        for _ in 0..2_000_000 {
            let next_packet = self.wire.iter().map(|p| p.at).min();
            let next_timer = self.nodes.iter().filter(|n| n.up).filter_map(|n| n.inst.next_deadline()).min();
            let next = match (next_packet, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if next > end {
                break;
            }
            self.now = self.now.max(next);
            let (due, later): (Vec<Packet>, Vec<Packet>) = self.wire.drain(..).partition(|p| p.at <= self.now);
            self.wire = later;
            for p in due {
                for j in 0..self.nodes.len() {
                    let to_j = p.to.is_multicast() || p.to == IpAddr::V4(addr(j));
                    if j != p.from && to_j && self.nodes[j].up {
                        let meta = IpMeta { source: IpAddr::V4(addr(p.from)), destination: p.to, ttl: 255 };
                        let a = self.nodes[j].inst.receive(self.now, &meta, &p.bytes);
                        self.apply(j, a);
                    }
                }
            }
            for j in 0..self.nodes.len() {
                if self.nodes[j].up && self.nodes[j].inst.next_deadline().is_some_and(|t| t <= self.now) {
                    self.event(j, Event::Timer);
                }
            }
            self.check();
        }
        self.now = self.now.max(end);
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// Invariants at every step: only a master holds the addresses; a running instance
    /// always has a timer.
    fn check(&self) {
        for (i, n) in self.nodes.iter().filter(|n| n.up).enumerate() {
            assert_eq!(n.holds_vips, n.inst.state() == State::Master, "node {i}");
            let running = matches!(n.inst.state(), State::Backup | State::Master);
            assert_eq!(n.inst.next_deadline().is_some(), running, "node {i}");
            assert_eq!(n.inst.stats().drops.total(), 0, "node {i} dropped adverts");
        }
    }

    fn masters(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|i| self.nodes[*i].up && self.nodes[*i].inst.state() == State::Master).collect()
    }

    /// The priority the master must have when everyone preempts: the highest. (Among equal
    /// priorities the higher address wins only between two masters; a backup hearing an
    /// equal priority does not preempt, RFC 3768/5798 §6.4.2.)
    fn best_priority(&self) -> u8 {
        self.nodes.iter().filter(|n| n.up).map(|n| n.cfg.priority).max().unwrap_or(0)
    }
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn us(n: u64) -> Timestamp {
    Timestamp::from_micros(n)
}

#[test]
fn two_nodes_v2_kill_restart_preempt() {
    let mut sim = Sim::new(
        vec![node_cfg(Version::V2, 0, 200, 100, true), node_cfg(Version::V2, 1, 100, 100, true)],
        Duration::ZERO,
    );
    sim.start(0);
    sim.start(1);
    sim.run_until(us(10_000_000));
    assert_eq!(sim.masters(), vec![0]);
    // Node 0 became master at 3 s + 56/256 s and advertises every second after.
    assert_eq!(sim.became_master, vec![(us(3_218_750), 0)]);
    sim.kill(0);
    sim.run_for(s(10));
    // Last advert heard at 9.21875 s; node 1 takes over 3 s + 156/256 s later.
    assert_eq!(sim.became_master.last(), Some(&(us(9_218_750 + 3_609_375), 1)));
    assert_eq!(sim.masters(), vec![1]);
    // Node 0 comes back, hears the lower priority, preempts after its own master-down interval.
    sim.start(0);
    let restart = sim.now;
    sim.run_for(s(10));
    assert_eq!(sim.masters(), vec![0]);
    assert_eq!(sim.became_master.last(), Some(&(restart + Duration::from_micros(3_218_750), 0)));
    assert!(!sim.nodes[1].holds_vips);
}

#[test]
fn restart_without_preemption_keeps_the_new_master() {
    let mut sim = Sim::new(
        vec![node_cfg(Version::V2, 0, 200, 100, false), node_cfg(Version::V2, 1, 100, 100, true)],
        Duration::ZERO,
    );
    sim.start(0);
    sim.start(1);
    sim.run_for(s(10));
    assert_eq!(sim.masters(), vec![0]);
    sim.kill(0);
    sim.run_for(s(10));
    assert_eq!(sim.masters(), vec![1]);
    sim.start(0);
    sim.run_for(s(60));
    assert_eq!(sim.masters(), vec![1]);
    assert_eq!(sim.nodes[0].inst.master_address(), Some(IpAddr::V4(addr(1))));
}

#[test]
fn graceful_stop_fast_takeover() {
    let mut sim = Sim::new(
        vec![node_cfg(Version::V2, 0, 200, 100, true), node_cfg(Version::V2, 1, 100, 100, true)],
        Duration::ZERO,
    );
    sim.start(0);
    sim.start(1);
    sim.run_until(us(10_000_000));
    sim.stop(0);
    sim.run_for(s(5));
    // Priority 0 at 10 s: takeover after Skew_Time = 156/256 s only.
    assert_eq!(sim.became_master.last(), Some(&(us(10_609_375), 1)));
}

#[test]
fn v3_backup_uses_the_masters_faster_interval() {
    // Master at 50 cs, backup configured at 100 cs.
    let mut sim = Sim::new(
        vec![node_cfg(Version::V3, 0, 200, 50, true), node_cfg(Version::V3, 1, 100, 100, true)],
        Duration::ZERO,
    );
    sim.start(0);
    sim.start(1);
    sim.run_until(us(10_000_000));
    assert_eq!(sim.masters(), vec![0]);
    assert_eq!(sim.nodes[1].inst.master_adver_interval_centis(), 50);
    sim.kill(0);
    let killed = sim.now;
    sim.run_for(s(5));
    let (t, who) = *sim.became_master.last().unwrap();
    assert_eq!(who, 1);
    // Within 3 × 0.5 s + 156 × 0.5 s / 256 of the kill.
    assert!(t <= killed + Duration::from_micros(1_500_000 + 304_687), "{t:?}");
    assert!(t > killed + Duration::from_millis(1000));
}

#[test]
fn equal_priority_higher_address_wins_and_three_nodes() {
    let cfgs = (0..3).map(|i| node_cfg(Version::V2, i, 100, 100, true)).collect();
    let mut sim = Sim::new(cfgs, Duration::from_millis(5));
    for i in 0..3 {
        sim.start(i);
    }
    sim.run_for(s(20));
    assert_eq!(sim.masters(), vec![2]);
    sim.kill(2);
    sim.run_for(s(20));
    assert_eq!(sim.masters(), vec![1]);
}

#[test]
fn unicast_peers() {
    let mut a = node_cfg(Version::V3, 0, 150, 100, true);
    let mut b = node_cfg(Version::V3, 1, 120, 100, true);
    a.unicast_peers = vec![IpAddr::V4(addr(1))];
    b.unicast_peers = vec![IpAddr::V4(addr(0))];
    let mut sim = Sim::new(vec![a, b], Duration::from_millis(1));
    sim.start(1);
    sim.run_for(s(5));
    assert_eq!(sim.masters(), vec![1]);
    sim.start(0);
    sim.run_for(s(10));
    assert_eq!(sim.masters(), vec![0]);
}

#[derive(Clone, Debug)]
struct Scenario {
    version: Version,
    priorities: Vec<u8>,
    preempt: Vec<bool>,
    intervals: Vec<u16>,
    starts_ms: Vec<u64>,
    latency_ms: u64,
    unicast: bool,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (2usize..=3, prop_oneof![Just(Version::V2), Just(Version::V3)], 0u64..=30, any::<bool>()).prop_flat_map(
        |(n, version, latency_ms, unicast)| {
            let intervals = match version {
                // v2 routers must agree on the interval.
                Version::V2 => (1u16..=3).prop_map(move |k| vec![k * 100; n]).boxed(),
                Version::V3 => prop::collection::vec(10u16..=300, n).boxed(),
            };
            (
                prop::collection::vec(1u8..=254, n),
                prop::collection::vec(any::<bool>(), n),
                intervals,
                prop::collection::vec(0u64..5000, n),
            )
                .prop_map(move |(priorities, preempt, intervals, starts_ms)| Scenario {
                    version,
                    priorities,
                    preempt,
                    intervals,
                    starts_ms,
                    latency_ms,
                    unicast,
                })
        },
    )
}

fn build(sc: &Scenario) -> Sim {
    let n = sc.priorities.len();
    let cfgs = (0..n)
        .map(|i| {
            let mut c = node_cfg(sc.version, i, sc.priorities[i], sc.intervals[i], sc.preempt[i]);
            if sc.unicast {
                c.unicast_peers = (0..n).filter(|j| *j != i).map(|j| IpAddr::V4(addr(j))).collect();
            }
            c
        })
        .collect();
    Sim::new(cfgs, Duration::from_millis(sc.latency_ms))
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn converges_fails_over_and_recovers(sc in scenario()) {
        let mut sim = build(&sc);
        let n = sc.priorities.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|i| sc.starts_ms[*i]);
        for i in order {
            sim.run_until(Timestamp::from_millis(sc.starts_ms[i]));
            sim.start(i);
        }
        sim.run_for(s(40));
        let masters = sim.masters();
        prop_assert_eq!(masters.len(), 1, "one master: {:?}", masters);
        if sc.preempt.iter().all(|p| *p) {
            prop_assert_eq!(sc.priorities[masters[0]], sim.best_priority());
        }

        // The master dies: a backup takes over within its Master_Down_Interval (+ latency).
        let dead = masters[0];
        let bound = (0..n).filter(|i| *i != dead).map(|i| sim.nodes[i].inst.master_down_interval()).max().unwrap();
        sim.kill(dead);
        let killed = sim.now;
        sim.run_for(bound + Duration::from_millis(sc.latency_ms));
        let takeover = sim.became_master.iter().find(|(t, i)| *t >= killed && *i != dead);
        prop_assert!(takeover.is_some(), "no takeover within {:?}", bound);
        sim.run_for(s(20));
        let after = sim.masters();
        prop_assert_eq!(after.len(), 1, "one master after failover: {:?}", after);

        // It comes back: preempts if it may and is the best; never a second master.
        let before = after[0];
        sim.start(dead);
        sim.run_for(s(40));
        let last = sim.masters();
        prop_assert_eq!(last.len(), 1, "one master after restart: {:?}", last);
        // Without preemption the master stays, provided the restarted router hears it before
        // its first master-down timer (computed with its own interval) runs out: a router
        // configured with a much shorter interval than the master's takes over at start-up,
        // preempt or not (RFC 5798 §6.4.1; the RFCs expect one interval per virtual router).
        let hears_master_in_time =
            u64::from(sc.intervals[dead]) * 30 > u64::from(sc.intervals[before]) * 10 + sc.latency_ms;
        if !sc.preempt[dead] && hears_master_in_time {
            prop_assert_eq!(last[0], before);
        }
        if sc.preempt.iter().all(|p| *p) {
            prop_assert_eq!(sc.priorities[last[0]], sim.best_priority());
        }
    }
}
