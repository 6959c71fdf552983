//! The daemon on the in-memory kernel, its TCP checks against listeners on loopback: a server
//! whose listener goes away leaves the table and comes back with it; inhibit keeps it at
//! weight 0; a reload adds, changes and removes servers writing only the difference; a bad
//! configuration on reload changes nothing; the quorum brings in the sorry server; `drain`
//! sets a failed server's weight to 0 while it has connections and deletes it once idle (at
//! once when it has none, or after `max_drain`); a reload keeps the health of unchanged
//! servers: a down one stays out, an up one is not written again.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use common::{closed_port, listener, server, Daemon, VS};
use ipvs::ServiceId;

#[test]
fn a_server_leaves_when_its_listener_goes_and_returns_with_it() {
    let (a, port_a) = listener();
    let config = format!("{VS}{}{}", server("198.51.100.11", port_a, ""), server("198.51.100.12", closed_port(), ""));
    let d = Daemon::start("leave", &config);
    // Both are put in at start (keepalived's default); the one that fails its first check leaves.
    d.until("-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 1\n");
    drop(a);
    d.until("-A -t 192.0.2.10:80 -s rr\n");
    let _a = TcpListener::bind(("127.0.0.1", port_a)).unwrap();
    d.until("-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 1\n");
}

#[test]
fn inhibit_keeps_a_failed_server_at_weight_0() {
    let config = format!("{VS}{}", server("198.51.100.11", closed_port(), "on_failure = \"inhibit\"\nweight = 5"));
    let d = Daemon::start("inhibit", &config);
    d.until("-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 0\n");
}

#[test]
fn a_reload_writes_only_the_difference_and_a_bad_one_changes_nothing() {
    let (_a, port_a) = listener();
    let (_b, port_b) = listener();
    let (_c, port_c) = listener();
    let first = format!("{VS}{}{}", server("198.51.100.11", port_a, ""), server("198.51.100.12", port_b, ""));
    let d = Daemon::start("reload", &first);
    d.until(
        "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 1\n-a -t 192.0.2.10:80 -r 198.51.100.12:80 -m -w 1\n",
    );
    std::thread::sleep(Duration::from_millis(500));
    let before = d.writes();
    // .11 gets weight 3, .12 goes, .13 comes.
    let second =
        format!("{VS}{}{}", server("198.51.100.11", port_a, "weight = 3"), server("198.51.100.13", port_c, ""));
    d.reload_with(&second);
    d.until(
        "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 3\n-a -t 192.0.2.10:80 -r 198.51.100.13:80 -m -w 1\n",
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(d.writes() - before, 3, "one edit, one delete, one add");
    // A file that does not validate: refused, the running configuration stays.
    d.reload_with("[[virtual_servers]]\nprotocol = \"tcp\"\n");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        d.rules(),
        "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 3\n-a -t 192.0.2.10:80 -r 198.51.100.13:80 -m -w 1\n"
    );
}

#[test]
fn losing_quorum_brings_in_the_sorry_server() {
    let (a, port_a) = listener();
    let config = format!(
        "{VS}quorum = 2\n[virtual_servers.sorry_server]\naddress = \"198.51.100.99\"\n{}{}",
        server("198.51.100.11", port_a, "weight = 2"),
        server("198.51.100.12", closed_port(), "weight = 2")
    );
    let d = Daemon::start("quorum", &config);
    d.until("-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 2\n");
    drop(a);
    d.until("-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.99:80 -m -w 1\n");
    let _a = TcpListener::bind(("127.0.0.1", port_a)).unwrap();
    d.until("-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 2\n");
}

#[test]
fn omega_runs_notify_down_of_live_servers_and_quorum_down_on_stop() {
    let (_a, port_a) = listener();
    let out = std::env::temp_dir().join(format!("ipvs-director-omega-{}", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let note = |what: &str| format!("[\"/bin/sh\", \"-c\", \"echo {what} >> {}\"]", out.display());
    let vs = VS.replace("warmup = 0\n", &format!("warmup = 0\nomega = true\nquorum_down = {}\n", note("quorum_down")));
    let config = format!("{vs}{}", server("198.51.100.11", port_a, &format!("notify_down = {}", note("notify_down"))));
    let mut d = Daemon::start("omega", &config);
    d.until("-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 1\n");
    std::thread::sleep(Duration::from_millis(600)); // a first check passed: the server is live
    assert!(!out.exists(), "nothing runs before the stop");
    d.stop();
    let mut lines: Vec<String> = std::fs::read_to_string(&out).unwrap().lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(lines, ["notify_down", "quorum_down"]);
    let _ = std::fs::remove_file(&out);
}

/// The one service of [`VS`] and a real server of it.
fn ids(rs: &str) -> (ServiceId, SocketAddr) {
    (ServiceId::tcp("192.0.2.10".parse().unwrap(), 80), SocketAddr::new(rs.parse().unwrap(), 80))
}

const SVC: &str = "-A -t 192.0.2.10:80 -s rr\n";

/// [`VS`] with checks that report less often than once a second (attempts 1.5 s apart, up
/// or down): the daemon's 1 s re-apply of draining servers is then not held off by reports
/// (see [`drain_completes_while_checks_report_more_often_than_every_second`]).
fn slow_vs() -> String {
    VS.replace("delay_loop = 0.2", "delay_loop = 1.5").replace("delay_before_retry = 0.1", "delay_before_retry = 1.5")
}

/// A server with connections fails: weight 0, kept while it has connections, its weight back
/// if it recovers meanwhile; once idle it is deleted at the next apply.
fn drain_busy_then_idle(vs: &str, name: &str) {
    let (a, port_a) = listener();
    let config = format!("{vs}{}", server("198.51.100.11", port_a, "on_failure = \"drain\"\nweight = 4"));
    let d = Daemon::start(name, &config);
    let up = format!("{SVC}-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 4\n");
    let draining = format!("{SVC}-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 0\n");
    d.until(&up);
    let (svc, rs) = ids("198.51.100.11");
    assert!(d.mock.set_connections(&svc, rs, 2, 5, 0));
    // It fails: weight 0, and it stays there while it has connections (nothing more written).
    drop(a);
    d.until(&draining);
    let before = d.writes();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(d.rules(), draining);
    assert_eq!(d.writes(), before, "nothing is written while it drains");
    // It recovers while draining: its weight comes back (one edit; it never left the table).
    let a = TcpListener::bind(("127.0.0.1", port_a)).unwrap();
    d.until(&up);
    assert_eq!(d.writes(), before + 1);
    // It fails again, and this time its connections end: it is deleted at the next apply.
    drop(a);
    d.until(&draining);
    assert!(d.mock.set_connections(&svc, rs, 0, 0, 0));
    d.until(SVC);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.writes(), before + 3, "weight back, weight 0, delete");
}

/// A server whose connections never end: weight 0, then deleted once `max_drain` (1 s) passed.
fn drain_past_max_drain(vs: &str, name: &str) {
    let (a, port_a) = listener();
    let config = format!("{vs}{}", server("198.51.100.11", port_a, "on_failure = \"drain\"\nmax_drain = 1"));
    let d = Daemon::start(name, &config);
    d.until(&format!("{SVC}-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 1\n"));
    let (svc, rs) = ids("198.51.100.11");
    assert!(d.mock.set_connections(&svc, rs, 3, 0, 0));
    drop(a);
    d.until(&format!("{SVC}-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 0\n"));
    let seen = Instant::now();
    d.until(SVC);
    assert!(seen.elapsed() >= Duration::from_millis(500), "deleted after {:?}, before max_drain", seen.elapsed());
}

#[test]
fn drain_sets_weight_0_while_connections_remain_and_deletes_the_server_once_idle() {
    drain_busy_then_idle(&slow_vs(), "drain");
}

#[test]
fn drain_deletes_a_server_whose_connections_last_past_max_drain() {
    drain_past_max_drain(&slow_vs(), "drain-max");
}

/// The same two sequences with checks every 0.1-0.2 s: the draining server must still be
/// deleted once idle, or after max_drain. (The daemon's 1 s re-apply timer once restarted on
/// every check report, so frequent reports held the re-apply off for ever; it is a deadline
/// kept across turns of the loop now.)
#[test]
fn drain_completes_while_checks_report_more_often_than_every_second() {
    drain_busy_then_idle(VS, "drain-fast");
    drain_past_max_drain(VS, "drain-max-fast");
}

#[test]
fn drain_deletes_an_idle_server_at_once() {
    let (a, port_a) = listener();
    let (_b, port_b) = listener();
    let config = format!(
        "{VS}{}{}",
        server("198.51.100.11", port_a, "on_failure = \"drain\""),
        server("198.51.100.12", port_b, "on_failure = \"drain\"")
    );
    let d = Daemon::start("drain-idle", &config);
    d.until(&format!(
        "{SVC}-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 1\n-a -t 192.0.2.10:80 -r 198.51.100.12:80 -m -w 1\n"
    ));
    std::thread::sleep(Duration::from_millis(300));
    // No connection (the mock's default): the apply that takes it out deletes it, with no
    // weight-0 step in between.
    let before = d.writes();
    drop(a);
    d.until(&format!("{SVC}-a -t 192.0.2.10:80 -r 198.51.100.12:80 -m -w 1\n"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.writes(), before + 1, "one delete");
}

#[test]
fn a_reload_keeps_a_down_server_out_and_an_up_server_untouched() {
    let (_a, port_a) = listener();
    let closed = closed_port();
    let config = format!("{VS}{}{}", server("198.51.100.11", port_a, ""), server("198.51.100.12", closed, ""));
    let d = Daemon::start("reload-health", &config);
    let table = format!("{SVC}-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 1\n");
    d.until(&table);
    std::thread::sleep(Duration::from_millis(500)); // .12 down, .11 up, both checked again since
    assert_eq!(d.rules(), table);
    let before = d.writes();
    // Watches the table while reloads happen: .12 must never come back, even for a moment.
    let watch = |d: &Daemon, for_: Duration, want: &str| {
        let start = Instant::now();
        while start.elapsed() < for_ {
            let got = d.rules();
            assert_eq!(got, want, "the table changed after the reload");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    // The same file again: nothing is written.
    d.reload_with(&config);
    watch(&d, Duration::from_millis(1500), &table);
    assert_eq!(d.writes(), before, "a reload of the same configuration writes nothing");
    // A reload that adds a server elsewhere and changes neither: only that server is written.
    let (_c, port_c) = listener();
    let second = format!("{config}{}", server("198.51.100.13", port_c, ""));
    d.reload_with(&second);
    let with_c = format!("{table}-a -t 192.0.2.10:80 -r 198.51.100.13:80 -m -w 1\n");
    d.until(&with_c);
    watch(&d, Duration::from_millis(1500), &with_c);
    assert_eq!(d.writes(), before + 1, "one add; .11 not written again, .12 not re-added");
}
