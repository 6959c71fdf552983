//! The failover shell on a [`Fake`] host, without root, on tokio's paused clock: what each
//! transition does to the machine (addresses, adverts, announcements, the sync daemon).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use ipvs::DaemonState;
use ipvs_vrrp::{emit, Advert, Auth, IpMeta, PacketContext, State};

use super::{Board, Failover};
use crate::config::Config;
use crate::host::{lock, Addr, Effect, Fake, Host, LinkState};

/// Two instances on eth0: VI_4 (IPv4, VRRPv2, one address on eth0 and one on eth1, the sync
/// daemon follows it) and VI_6 (IPv6, VRRPv3); both start as backup.
const CONFIG: &str = r#"
[global.sync_daemon]
interface = "eth0"
instance = "VI_4"

[[vrrp_instances]]
name = "VI_4"
interface = "eth0"
virtual_router_id = 51
priority = 100
virtual_ipaddress = [{ address = "192.0.2.100/24" }, { address = "198.51.100.100/24", dev = "eth1" }]

[[vrrp_instances]]
name = "VI_6"
interface = "eth0"
virtual_router_id = 52
priority = 100
virtual_ipaddress = [{ address = "2001:db8::100/64" }]
"#;

const PRIMARY_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn link(name: &str, index: u32) -> LinkState {
    LinkState { name: name.into(), index, up: true, mac: vec![2, 0, 0, 0, 0, index as u8] }
}

/// The fake machine: eth0 (192.0.2.1, fe80::1) and eth1 (198.51.100.1), both up.
fn machine() -> Arc<Fake> {
    let addr = |index, s: &str, prefix_len| Addr { index, ip: ip(s), prefix_len };
    Arc::new(Fake::new(
        vec![link("eth0", 2), link("eth1", 3)],
        vec![addr(2, "192.0.2.1", 24), addr(2, "fe80::1", 64), addr(3, "198.51.100.1", 24)],
    ))
}

/// The instances of [`CONFIG`] started on `fake`.
async fn start(fake: &Arc<Fake>) -> (Failover, Board) {
    start_with(fake, CONFIG).await
}

/// The instances of `toml` started on `fake`.
async fn start_with(fake: &Arc<Fake>, toml: &str) -> (Failover, Board) {
    let config = Config::from_toml(toml).unwrap_or_else(|e| panic!("{e}"));
    let board: Board = Arc::default();
    let host: Arc<dyn Host> = fake.clone();
    let failover = Failover::start(&config, host, board.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    (failover.unwrap_or_else(|| panic!("no instances started")), board)
}

fn state(board: &Board, slot: usize) -> State {
    lock(board)[slot].state
}

/// Lets (virtual) time pass until `done`, 60 s at most.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 60 s");
}

/// The sync daemons the in-memory IPVS kernel runs: (state, interface, sync id).
fn daemons(fake: &Fake) -> Vec<(DaemonState, String, u8)> {
    let list = fake.ipvs().daemons().unwrap_or_else(|e| panic!("{e}"));
    list.into_iter().map(|d| (d.state, d.interface, d.sync_id)).collect()
}

fn count(effects: &[Effect], wanted: impl Fn(&Effect) -> bool) -> usize {
    effects.iter().filter(|e| wanted(e)).count()
}

fn position(effects: &[Effect], wanted: impl Fn(&Effect) -> bool) -> usize {
    effects.iter().position(wanted).unwrap_or_else(|| panic!("not among {effects:#?}"))
}

fn adds(e: &Effect, address: &str) -> bool {
    matches!(e, Effect::AddAddress(v) if v.address == ip(address))
}

fn removes(e: &Effect, address: &str) -> bool {
    matches!(e, Effect::RemoveAddress(v) if v.address == ip(address))
}

fn garp(e: &Effect, iface: &str) -> bool {
    matches!(e, Effect::Garp { iface: i, .. } if i == iface)
}

/// An advert from VI_4's peer 192.0.2.2 with `priority`, arriving on eth0.
fn peer_advert(fake: &Fake, priority: u8) -> usize {
    let group = ip("224.0.0.18");
    let vips = vec![Ipv4Addr::new(192, 0, 2, 100), Ipv4Addr::new(198, 51, 100, 100)];
    let advert = Advert::v2(51, priority, 1, Auth::None, vips).unwrap_or_else(|e| panic!("{e}"));
    let meta = IpMeta { source: ip("192.0.2.2"), destination: group, ttl: 255 };
    fake.feed("eth0", meta, &emit(&advert, &PacketContext::new(meta.source, group)))
}

/// Both instances as master, every effect so far returned.
async fn both_master(fake: &Arc<Fake>, board: &Board) -> Vec<Effect> {
    until("both instances master", || state(board, 0) == State::Master && state(board, 1) == State::Master).await;
    // The addresses are added before the state is logged and published.
    fake.effects()
}

#[tokio::test(start_paused = true)]
async fn a_backup_hearing_no_master_takes_the_addresses_announces_them_and_masters_the_sync_daemon() {
    let fake = machine();
    let (failover, board) = start(&fake).await;
    until("both instances backup", || state(&board, 0) == State::Backup && state(&board, 1) == State::Backup).await;
    assert!(!fake.holds(ip("192.0.2.100")));
    assert_eq!(daemons(&fake), [(DaemonState::Backup, "eth0".to_string(), 51)]);
    let effects = both_master(&fake, &board).await;
    for a in ["192.0.2.100", "198.51.100.100", "2001:db8::100"] {
        assert!(fake.holds(ip(a)), "{a} not added");
        // Announced after it is added.
        let added = position(&effects, |e| adds(e, a));
        let announced = position(&effects, |e| match (e, ip(a)) {
            (Effect::Garp { addresses, repeat: 5, .. }, IpAddr::V4(v4)) => addresses.contains(&v4),
            (Effect::Na { addresses, repeat: 5, .. }, IpAddr::V6(v6)) => addresses.contains(&v6),
            _ => false,
        });
        assert!(added < announced, "{a}: announced before it was added: {effects:#?}");
    }
    assert!(effects.contains(&Effect::Garp {
        iface: "eth0".into(),
        addresses: vec![Ipv4Addr::new(192, 0, 2, 100)],
        repeat: 5
    }));
    assert!(effects.contains(&Effect::Garp {
        iface: "eth1".into(),
        addresses: vec![Ipv4Addr::new(198, 51, 100, 100)],
        repeat: 5
    }));
    assert_eq!(daemons(&fake), [(DaemonState::Master, "eth0".to_string(), 51)]);
    // Adverts from the primary address to the group, at the configured priority.
    let adverts: Vec<_> = effects
        .iter()
        .filter(|e| matches!(e, Effect::Advert { source, destination, .. } if *source == PRIMARY_V4 && *destination == ip("224.0.0.18")))
        .collect();
    assert!(!adverts.is_empty() && adverts.iter().all(|e| e.advert_priority() == Some(100)), "{adverts:#?}");
    assert_eq!(fake.effects_on(std::thread::current().id()), 0, "effects on the event loop");
    // The second burst, 5 s later (vrrp_garp_master_delay), and adverts every second.
    let before = fake.take_effects();
    assert_eq!(count(&before, |e| garp(e, "eth0")), 1);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let later = fake.effects();
    assert_eq!(count(&later, |e| garp(e, "eth0")), 1, "{later:#?}");
    assert_eq!(count(&later, |e| matches!(e, Effect::Na { repeat: 5, .. })), 1, "{later:#?}");
    assert!(count(&later, |e| matches!(e, Effect::Advert { source, .. } if *source == PRIMARY_V4)) >= 5);
    assert_eq!(count(&later, |e| matches!(e, Effect::AddAddress(_) | Effect::RemoveAddress(_))), 0);
    failover.stop().await;
    // Every effect off the event loop (this test's thread: the runtime is single-threaded).
    assert!(!fake.effects().is_empty());
    assert_eq!(fake.effects_on(std::thread::current().id()), 0);
}

#[tokio::test(start_paused = true)]
async fn a_master_hearing_a_higher_priority_gives_the_addresses_up_and_backs_the_sync_daemon() {
    let fake = machine();
    let (failover, board) = start(&fake).await;
    both_master(&fake, &board).await;
    fake.take_effects();
    assert_eq!(peer_advert(&fake, 200), 1, "only VI_4's receiver is IPv4 on eth0");
    until("VI_4 backup", || state(&board, 0) == State::Backup).await;
    let effects = fake.effects();
    for a in ["192.0.2.100", "198.51.100.100"] {
        assert!(!fake.holds(ip(a)), "{a} still held");
        assert_eq!(count(&effects, |e| removes(e, a)), 1, "{effects:#?}");
    }
    assert_eq!(lock(&board)[0].master, Some(ip("192.0.2.2")));
    assert_eq!(daemons(&fake), [(DaemonState::Backup, "eth0".to_string(), 51)]);
    // VI_6 is another router: untouched.
    assert!(fake.holds(ip("2001:db8::100")));
    assert_eq!(state(&board, 1), State::Master);
    // As long as the peer keeps advertising, VI_4 stays backup and sends nothing.
    fake.take_effects();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        peer_advert(&fake, 200);
    }
    assert_eq!(state(&board, 0), State::Backup);
    let effects = fake.effects();
    assert_eq!(count(&effects, |e| matches!(e, Effect::Advert { source, .. } if *source == PRIMARY_V4)), 0);
    assert_eq!(count(&effects, |e| adds(e, "192.0.2.100")), 0);
    failover.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_stopping_master_sends_priority_0_and_gives_the_addresses_up() {
    let fake = machine();
    let (failover, board) = start(&fake).await;
    both_master(&fake, &board).await;
    fake.take_effects();
    failover.stop().await;
    let effects = fake.effects();
    let zero = position(&effects, |e| {
        matches!(e, Effect::Advert { source, .. } if *source == PRIMARY_V4) && e.advert_priority() == Some(0)
    });
    let removed = position(&effects, |e| removes(e, "192.0.2.100"));
    assert!(zero < removed, "priority 0 first: {effects:#?}");
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Advert { source, .. } if source.is_ipv6()) && e.advert_priority() == Some(0)));
    for a in ["192.0.2.100", "198.51.100.100", "2001:db8::100"] {
        assert!(!fake.holds(ip(a)), "{a} still held");
    }
    assert_eq!(daemons(&fake), []);
    assert!(lock(&board).iter().all(|s| s.state == State::Initialize));
}

#[tokio::test(start_paused = true)]
async fn an_interface_going_down_faults_its_instances_and_they_give_the_addresses_up() {
    let fake = machine();
    let (failover, board) = start(&fake).await;
    both_master(&fake, &board).await;
    fake.take_effects();
    assert!(fake.set_link_up("eth0", false));
    until("both instances in fault", || state(&board, 0) == State::Fault && state(&board, 1) == State::Fault).await;
    let effects = fake.effects();
    for a in ["192.0.2.100", "198.51.100.100", "2001:db8::100"] {
        assert!(!fake.holds(ip(a)), "{a} still held");
        assert_eq!(count(&effects, |e| removes(e, a)), 1, "{effects:#?}");
    }
    assert_eq!(lock(&board)[0].faults, ["interface eth0 down"]);
    assert_eq!(daemons(&fake), [(DaemonState::Backup, "eth0".to_string(), 51)]);
    // Back up: backup first, then master again once no one else advertises.
    assert!(fake.set_link_up("eth0", true));
    both_master(&fake, &board).await;
    assert!(fake.holds(ip("192.0.2.100")));
    assert!(lock(&board)[0].faults.is_empty());
    failover.stop().await;
}

#[tokio::test(start_paused = true)]
async fn adverts_go_to_the_configured_multicast_groups() {
    let fake = machine();
    let toml = format!("[global]\nvrrp_mcast_group4 = \"224.0.0.19\"\nvrrp_mcast_group6 = \"ff02::13\"\n{CONFIG}");
    let (failover, board) = start_with(&fake, &toml).await;
    let effects = both_master(&fake, &board).await;
    let to =
        |group: &str| count(&effects, |e| matches!(e, Effect::Advert { destination, .. } if *destination == ip(group)));
    assert!(to("224.0.0.19") > 0 && to("ff02::13") > 0, "{effects:#?}");
    assert_eq!(to("224.0.0.18") + to("ff02::12"), 0, "{effects:#?}");
    failover.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_sync_daemon_following_no_instance_runs_master_and_backup_from_start_to_stop() {
    // keepalived 2.2.7 with `lvs_sync_daemon eth0` (checked in the lab with ipvsadm -L
    // --daemon): both daemons, sync id 0, from its start; none after it stops.
    let fake = machine();
    let toml = "[global.sync_daemon]\ninterface = \"eth0\"\n";
    let (failover, _) = start_with(&fake, toml).await;
    let mut running = daemons(&fake);
    running.sort_by_key(|d| d.0 == DaemonState::Backup);
    assert_eq!(running, [(DaemonState::Master, "eth0".to_string(), 0), (DaemonState::Backup, "eth0".to_string(), 0)]);
    failover.stop().await;
    assert_eq!(daemons(&fake), []);
}
