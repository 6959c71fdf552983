//! Every transition of the instance state machine, with explicit time.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ipvs_vrrp::{
    emit, Action, Addresses, Advert, AdvertError, Auth, Event, Instance, InstanceConfig, IpMeta, Notify, PacketContext,
    State, SyncRole, Timestamp, Version, MULTICAST_V4,
};

const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn cfg(version: Version, priority: u8) -> InstanceConfig {
    InstanceConfig::new(version, 51, priority, IpAddr::V4(ME), Addresses::V4(vec![VIP]))
}

fn started(c: InstanceConfig) -> Instance {
    let mut i = Instance::new(c).unwrap();
    let _ = i.handle(Timestamp::ZERO, Event::Startup);
    i
}

fn ms(n: u64) -> Timestamp {
    Timestamp::from_millis(n)
}

fn us(n: u64) -> Timestamp {
    Timestamp::from_micros(n)
}

fn from(source: Ipv4Addr, version: Version, priority: u8) -> Event {
    let advert = match version {
        Version::V2 => Advert::v2(51, priority, 1, Auth::None, vec![VIP]).unwrap(),
        Version::V3 => Advert::v3(51, priority, 100, Addresses::V4(vec![VIP])).unwrap(),
    };
    Event::Advert { source: IpAddr::V4(source), advert }
}

fn peer(priority: u8) -> Event {
    from(PEER, Version::V2, priority)
}

/// Priorities of the adverts in `actions`.
fn sent(actions: &[Action]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAdvert(ad) => Some(ad.priority()),
            _ => None,
        })
        .collect()
}

fn become_master_actions(priority: u8) -> Vec<Action> {
    vec![
        Action::SendAdvert(cfg(Version::V2, priority).advert(priority)),
        Action::AddAddresses,
        Action::Announce { repeat: 5 },
        Action::Notify(Notify::Master),
        Action::SyncDaemon(SyncRole::Master),
    ]
}

/// A backup of priority 100 that has become master by timing out at 3.609375 s.
fn master_by_timeout(c: InstanceConfig) -> Instance {
    let mut i = started(c);
    let _ = i.handle(us(3_609_375), Event::Timer);
    assert_eq!(i.state(), State::Master);
    i
}

#[test]
fn startup_non_owner_is_backup_with_master_down_timer() {
    let mut i = Instance::new(cfg(Version::V2, 100)).unwrap();
    assert_eq!(i.state(), State::Initialize);
    assert_eq!(i.next_deadline(), None);
    let a = i.handle(Timestamp::ZERO, Event::Startup);
    assert_eq!(a, vec![Action::RemoveAddresses, Action::Notify(Notify::Backup), Action::SyncDaemon(SyncRole::Backup)]);
    assert_eq!(i.state(), State::Backup);
    // 3 × 1 s + (256 − 100)/256 s.
    assert_eq!(i.next_deadline(), Some(us(3_609_375)));
    assert_eq!(i.master_address(), None);
    // A second Startup is ignored.
    assert!(i.handle(ms(1), Event::Startup).is_empty());
}

#[test]
fn startup_owner_is_master_at_once() {
    let mut i = Instance::new(cfg(Version::V2, 255)).unwrap();
    assert_eq!(i.handle(Timestamp::ZERO, Event::Startup), become_master_actions(255));
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.master_address(), Some(IpAddr::V4(ME)));
    assert_eq!(i.next_deadline(), Some(ms(1000)));
}

#[test]
fn start_as_master_shortens_first_timer() {
    let mut c = cfg(Version::V2, 100);
    c.start_as_master = true;
    let i = started(c);
    // One interval plus the owner's skew (1/256 s).
    assert_eq!(i.next_deadline(), Some(us(1_003_906)));
}

#[test]
fn backup_times_out_to_master() {
    let mut i = started(cfg(Version::V2, 100));
    assert!(i.handle(us(3_609_374), Event::Timer).is_empty());
    assert_eq!(i.handle(us(3_609_375), Event::Timer), become_master_actions(100));
    assert_eq!(i.stats().became_master, 1);
    // Then adverts every second; the second GARP burst after 5 s.
    assert_eq!(i.next_deadline(), Some(us(4_609_375)));
    assert_eq!(sent(&i.handle(us(4_609_375), Event::Timer)), vec![100]);
    let late = i.handle(us(8_609_375), Event::Timer);
    assert_eq!(sent(&late), vec![100]);
    assert!(late.contains(&Action::Announce { repeat: 5 }));
}

#[test]
fn late_call_fires_due_timer_before_the_event() {
    let mut i = started(cfg(Version::V2, 100));
    // An advert arriving after the master-down deadline: the timer fired first.
    let a = i.handle(ms(4000), peer(50));
    assert_eq!(sent(&a), vec![100, 100]); // becoming master, then answering the lower priority
    assert_eq!(i.state(), State::Master);
}

#[test]
fn backup_accepts_higher_or_equal_priority() {
    let mut i = started(cfg(Version::V2, 100));
    assert!(i.handle(ms(1000), peer(150)).is_empty());
    assert_eq!(i.next_deadline(), Some(us(4_609_375)));
    assert_eq!(i.master_address(), Some(IpAddr::V4(PEER)));
    assert_eq!(i.master_priority(), Some(150));
    assert!(i.handle(ms(2000), peer(100)).is_empty());
    assert_eq!(i.next_deadline(), Some(us(5_609_375)));
    assert_eq!(i.stats().adverts_received, 2);
    assert_eq!(i.state(), State::Backup);
}

#[test]
fn preempting_backup_discards_lower_priority_then_takes_over() {
    let mut i = started(cfg(Version::V2, 100));
    assert!(i.handle(ms(1000), peer(50)).is_empty());
    assert_eq!(i.next_deadline(), Some(us(3_609_375)), "timer not reset");
    assert_eq!(i.stats().lower_priority_discarded, 1);
    assert_eq!(i.handle(us(3_609_375), Event::Timer), become_master_actions(100));
}

#[test]
fn nopreempt_backup_keeps_lower_priority_master() {
    let mut c = cfg(Version::V2, 100);
    c.preempt = false;
    let mut i = started(c);
    for s in 1..=20 {
        assert!(i.handle(ms(s * 1000), peer(50)).is_empty());
    }
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.master_priority(), Some(50));
    // The master dies: we take over after the master-down interval.
    assert_eq!(i.handle(us(23_609_375), Event::Timer), become_master_actions(100));
}

#[test]
fn preempt_delay_postpones_preemption() {
    let mut c = cfg(Version::V2, 100);
    c.preempt_delay = Duration::from_secs(5);
    let mut i = started(c);
    // First lower advert at 1 s: delay runs until 6 s; adverts until then are accepted.
    for s in 1..=5 {
        assert!(i.handle(ms(s * 1000), peer(50)).is_empty());
        assert_eq!(i.next_deadline(), Some(us(s * 1_000_000 + 3_609_375)));
    }
    // From 6 s they are discarded, so the timer set at 5 s runs out at 8.609375 s.
    for s in 6..=8 {
        assert!(i.handle(ms(s * 1000), peer(50)).is_empty());
    }
    assert_eq!(i.stats().lower_priority_discarded, 3);
    assert_eq!(i.handle(us(8_609_375), Event::Timer), become_master_actions(100));
}

#[test]
fn preempt_delay_restarts_after_a_higher_priority_master() {
    let mut c = cfg(Version::V2, 100);
    c.preempt_delay = Duration::from_secs(5);
    let mut i = started(c);
    let _ = i.handle(ms(1000), peer(50)); // delay until 6 s
    for s in 2..=6 {
        let _ = i.handle(ms(s * 1000), peer(200)); // a higher master cancels it
    }
    let _ = i.handle(ms(7000), peer(50)); // a new delay, until 12 s
    assert!(i.handle(ms(8000), peer(50)).is_empty());
    assert_eq!(i.stats().lower_priority_discarded, 0);
    assert_eq!(i.next_deadline(), Some(us(11_609_375)));
}

#[test]
fn priority_zero_means_takeover_after_skew() {
    let mut i = started(cfg(Version::V2, 100));
    let _ = i.handle(ms(1000), peer(150));
    assert!(i.handle(ms(2000), peer(0)).is_empty());
    assert_eq!(i.stats().priority_zero_received, 1);
    assert_eq!(i.master_address(), None);
    assert_eq!(i.next_deadline(), Some(us(2_609_375)));
    assert_eq!(i.handle(us(2_609_375), Event::Timer), become_master_actions(100));
}

#[test]
fn v3_backup_learns_master_interval() {
    let mut i = started(cfg(Version::V3, 100));
    let fast = Advert::v3(51, 200, 50, Addresses::V4(vec![VIP])).unwrap();
    assert!(i.handle(ms(100), Event::Advert { source: IpAddr::V4(PEER), advert: fast }).is_empty());
    assert_eq!(i.master_adver_interval_centis(), 50);
    assert_eq!(i.stats().interval_mismatches, 1);
    // 3 × 0.5 s + 156 × 0.5 / 256 s = 1.5 s + 304.6875 ms (microsecond floor).
    assert_eq!(i.skew_time(), Duration::from_micros(304_687));
    assert_eq!(i.next_deadline(), Some(us(100_000 + 1_500_000 + 304_687)));
    // As master it advertises its own interval again.
    let _ = i.handle(us(1_904_687), Event::Timer);
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.master_adver_interval_centis(), 100);
    assert_eq!(i.next_deadline(), Some(us(2_904_687)));
}

#[test]
fn v2_interval_mismatch_is_dropped() {
    let mut i = started(cfg(Version::V2, 100));
    let slow = Advert::v2(51, 200, 3, Auth::None, vec![VIP]).unwrap();
    assert!(i.handle(ms(100), Event::Advert { source: IpAddr::V4(PEER), advert: slow }).is_empty());
    assert_eq!(i.stats().drops.get(AdvertError::Interval), 1);
    assert_eq!(i.next_deadline(), Some(us(3_609_375)));
}

#[test]
fn master_yields_to_higher_priority() {
    let mut i = master_by_timeout(cfg(Version::V2, 100));
    let a = i.handle(ms(4000), peer(150));
    assert_eq!(a, vec![Action::RemoveAddresses, Action::Notify(Notify::Backup), Action::SyncDaemon(SyncRole::Backup)]);
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.master_address(), Some(IpAddr::V4(PEER)));
    assert_eq!(i.next_deadline(), Some(us(7_609_375)));
    assert_eq!(i.stats().released_master, 1);
}

#[test]
fn equal_priority_higher_address_wins() {
    // We are 10.0.0.1, the peer 10.0.0.2: the peer wins.
    let mut i = master_by_timeout(cfg(Version::V2, 100));
    let _ = i.handle(ms(4000), peer(100));
    assert_eq!(i.state(), State::Backup);
    // We are 10.0.0.3: we stay master and answer at once.
    let mut c = cfg(Version::V2, 100);
    c.primary_address = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
    let mut i = master_by_timeout(c);
    let a = i.handle(ms(4000), peer(100));
    assert_eq!(i.state(), State::Master);
    assert_eq!(sent(&a), vec![100]);
}

#[test]
fn master_answers_lower_priority() {
    let mut i = master_by_timeout(cfg(Version::V2, 100));
    let a = i.handle(ms(4000), peer(50));
    assert_eq!(a, vec![Action::SendAdvert(cfg(Version::V2, 100).advert(100)), Action::Announce { repeat: 5 }]);
    assert_eq!(i.state(), State::Master);
    // RFC 3768/5798 behaviour with keepalived's lower_prio_no_advert and no GARP.
    let mut c = cfg(Version::V2, 100);
    c.lower_prio_no_advert = true;
    c.garp.lower_prio_repeat = 0;
    let mut i = master_by_timeout(c);
    assert!(i.handle(ms(4000), peer(50)).is_empty());
}

#[test]
fn master_answers_priority_zero_and_resets_advert_timer() {
    let mut i = master_by_timeout(cfg(Version::V2, 100));
    assert_eq!(sent(&i.handle(ms(4000), peer(0))), vec![100]);
    assert_eq!(i.next_deadline(), Some(ms(5000)));
    assert_eq!(i.state(), State::Master);
}

#[test]
fn shutdown_and_restart() {
    let mut i = master_by_timeout(cfg(Version::V2, 100));
    let a = i.handle(ms(4000), Event::Shutdown);
    assert_eq!(
        a,
        vec![
            Action::SendAdvert(cfg(Version::V2, 100).advert(0)),
            Action::RemoveAddresses,
            Action::Notify(Notify::Stop),
            Action::SyncDaemon(SyncRole::Stop),
        ]
    );
    assert_eq!(i.state(), State::Initialize);
    assert_eq!(i.next_deadline(), None);
    assert_eq!(i.stats().priority_zero_sent, 1);
    assert!(i.handle(ms(4100), Event::Shutdown).is_empty());
    assert!(i.handle(ms(4200), peer(150)).is_empty());
    assert_eq!(i.stats().ignored, 1);
    let a = i.handle(ms(5000), Event::Startup);
    assert_eq!(a, vec![Action::RemoveAddresses, Action::Notify(Notify::Backup), Action::SyncDaemon(SyncRole::Backup)]);
    assert_eq!(i.next_deadline(), Some(us(8_609_375)));
    // Backup shutdown: no advert.
    assert_eq!(
        i.handle(ms(6000), Event::Shutdown),
        vec![Action::Notify(Notify::Stop), Action::SyncDaemon(SyncRole::Stop)]
    );
}

#[test]
fn fault_and_recovery() {
    let mut i = master_by_timeout(cfg(Version::V2, 100));
    let a = i.handle(ms(4000), Event::Fault);
    assert_eq!(
        a,
        vec![
            Action::SendAdvert(cfg(Version::V2, 100).advert(0)),
            Action::RemoveAddresses,
            Action::Notify(Notify::Fault),
            Action::SyncDaemon(SyncRole::Backup),
        ]
    );
    assert_eq!(i.state(), State::Fault);
    assert_eq!(i.next_deadline(), None);
    assert!(i.handle(ms(5000), peer(50)).is_empty());
    assert!(i.handle(ms(60_000), Event::Timer).is_empty());
    assert_eq!(i.stats().ignored, 1);
    let a = i.handle(ms(61_000), Event::FaultCleared);
    assert_eq!(a, vec![Action::Notify(Notify::Backup)]);
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.next_deadline(), Some(us(64_609_375)));
    // Fault before start: Startup goes to Fault; clearing it goes to Backup.
    let mut j = Instance::new(cfg(Version::V2, 100)).unwrap();
    assert!(j.handle(ms(0), Event::Fault).is_empty());
    let a = j.handle(ms(1), Event::Startup);
    assert_eq!(a, vec![Action::RemoveAddresses, Action::Notify(Notify::Fault), Action::SyncDaemon(SyncRole::Backup)]);
    assert_eq!(j.state(), State::Fault);
    let _ = j.handle(ms(2), Event::FaultCleared);
    assert_eq!(j.state(), State::Backup);
    // Backup into fault and an owner out of it.
    let _ = j.handle(ms(3), Event::Fault);
    assert_eq!(j.state(), State::Fault);
    let mut o = started(cfg(Version::V2, 255));
    let _ = o.handle(ms(1), Event::Fault);
    assert_eq!(o.handle(ms(2), Event::FaultCleared)[0], Action::SendAdvert(cfg(Version::V2, 255).advert(255)));
    assert_eq!(o.state(), State::Master);
}

#[test]
fn owner_discards_adverts() {
    let mut i = started(cfg(Version::V2, 255));
    assert!(i.handle(ms(100), peer(254)).is_empty());
    assert!(i.handle(ms(200), peer(0)).is_empty());
    assert_eq!(i.stats().drops.get(AdvertError::Owner), 2);
    assert_eq!(i.state(), State::Master);
}

#[test]
fn priority_changes_move_the_master_down_timer() {
    let mut i = started(cfg(Version::V2, 100));
    assert!(i.handle(ms(1000), Event::Priority(50)).is_empty());
    assert_eq!(i.priority(), 50);
    // Skew grows from 156/256 s to 206/256 s.
    assert_eq!(i.next_deadline(), Some(us(3_804_687)));
    let _ = i.handle(ms(1100), Event::Priority(0));
    assert_eq!(i.priority(), 1);
    let _ = i.handle(ms(1200), Event::Priority(255));
    assert_eq!(i.priority(), 254);
    assert_eq!(i.stats().priority_changes, 3);
    // As master the new priority goes out with the next advert.
    let mut m = master_by_timeout(cfg(Version::V2, 100));
    assert!(m.handle(ms(4000), Event::Priority(90)).is_empty());
    assert_eq!(sent(&m.handle(us(4_609_375), Event::Timer)), vec![90]);
    // An owner's priority does not change.
    let mut o = started(cfg(Version::V2, 255));
    let _ = o.handle(ms(1), Event::Priority(10));
    assert_eq!(o.priority(), 255);
}

#[test]
fn priority_drop_can_fire_the_timer_at_once() {
    let mut c = cfg(Version::V2, 1);
    c.down_timer_adverts = 1;
    let mut i = started(c); // deadline 1 s + 255/256 s
    assert_eq!(i.next_deadline(), Some(us(1_996_093)));
    let a = i.handle(ms(1500), Event::Priority(254)); // deadline moves to 1 s + 2/256 s: due
    assert_eq!(i.state(), State::Master);
    assert_eq!(sent(&a), vec![254]);
}

#[test]
fn malformed_packets_are_counted_and_change_nothing() {
    let mut i = started(cfg(Version::V2, 100));
    let _ = i.handle(ms(500), peer(150));
    let deadline = i.next_deadline();
    let good = Advert::v2(51, 200, 1, Auth::None, vec![VIP]).unwrap();
    let ctx = PacketContext::new(IpAddr::V4(PEER), IpAddr::V4(MULTICAST_V4));
    let bytes = emit(&good, &ctx);
    let m = IpMeta { source: IpAddr::V4(PEER), destination: IpAddr::V4(MULTICAST_V4), ttl: 255 };
    let mut bad_sum = bytes.clone();
    bad_sum[7] ^= 0x40;
    let other_vrid = emit(&Advert::v2(52, 200, 1, Auth::None, vec![VIP]).unwrap(), &ctx);
    let v3 = emit(&Advert::v3(51, 200, 100, Addresses::V4(vec![VIP])).unwrap(), &ctx);
    let cases: Vec<(IpMeta, Vec<u8>, AdvertError)> = vec![
        (m, bad_sum, AdvertError::Checksum),
        (IpMeta { ttl: 254, ..m }, bytes.clone(), AdvertError::Ttl),
        (m, bytes[..10].to_vec(), AdvertError::Short),
        (m, other_vrid, AdvertError::Vrid),
        (m, v3, AdvertError::Version),
        (IpMeta { source: IpAddr::V4(ME), ..m }, bytes.clone(), AdvertError::Source),
    ];
    for (k, (meta, payload, reason)) in cases.iter().enumerate() {
        assert!(i.receive(ms(600 + k as u64), meta, payload).is_empty());
        assert_eq!(i.stats().drops.get(*reason), 1, "{reason:?}");
    }
    assert_eq!(i.stats().drops.total(), cases.len() as u64);
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.next_deadline(), deadline);
    assert_eq!(i.master_priority(), Some(150));
    // The good one is processed.
    assert!(i.receive(ms(700), &m, &bytes).is_empty());
    assert_eq!(i.master_priority(), Some(200));
    assert_eq!(i.stats().adverts_received, 2);
}

#[test]
fn time_never_runs_backwards() {
    let mut i = started(cfg(Version::V2, 100));
    let _ = i.handle(ms(2000), peer(150));
    let _ = i.handle(ms(1000), Event::Timer);
    assert_eq!(i.now(), ms(2000));
    let _ = i.handle(ms(1500), peer(150)); // treated as at 2 s
    assert_eq!(i.next_deadline(), Some(us(5_609_375)));
}

#[test]
fn garp_refresh_while_master() {
    let mut c = cfg(Version::V2, 255);
    c.garp.master_refresh = Some(Duration::from_secs(10));
    c.garp.master_delay = None;
    let mut i = started(c);
    let announces = |a: &[Action]| a.iter().filter(|x| matches!(x, Action::Announce { .. })).count();
    let mut seen = 0;
    for s in 1..=30 {
        let a = i.handle(ms(s * 1000), Event::Timer);
        seen += announces(&a);
        if s == 10 || s == 20 || s == 30 {
            assert!(a.contains(&Action::Announce { repeat: 1 }), "refresh at {s} s");
        }
    }
    assert_eq!(seen, 3);
}

#[test]
fn counters() {
    let mut i = master_by_timeout(cfg(Version::V2, 100));
    for s in 4..=10 {
        let _ = i.handle(us(s * 1_000_000 + 609_375), Event::Timer);
    }
    let _ = i.handle(ms(11_000), Event::Shutdown);
    let s = i.stats();
    assert_eq!(s.adverts_sent, 1 + 7 + 1);
    assert_eq!(s.priority_zero_sent, 1);
    assert_eq!(s.became_master, 1);
    assert_eq!(s.released_master, 1);
    // Initialize → Backup → Master → Initialize.
    assert_eq!(s.transitions, 3);
}
