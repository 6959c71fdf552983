//! Failover between two directors of one kind (the first section, run with keepalived as the
//! baseline and then with ours): SIGKILL, link down, SIGTERM, preemption, `nopreempt`, equal
//! priorities; and ours' reports (/status, /metrics, logs, ha_suspend).

use std::time::{Duration, Instant};

use ipvs_lab_tools::{check, parse_exposition, Res};
use ipvs_vrrp::Auth;
use nix::sys::signal::Signal;
use serde_json::Value;

use crate::client::{check_steady, client_arp, secs, wait_vip_via};
use crate::config::{Vrrp, BASE};
use crate::director::{get, Director, Kind};
use crate::interop::{check_complaints, complaints};
use crate::malformed::{advert_packet, send_raw, v2};
use crate::network::{clean, holds_vip, isolate, mac_of, set_port};
use crate::{master_down, ns_path, skew, sleep, Node, D1, D2, MARGIN, VRID};

/// `/status` and `/metrics` of ours, master `m` and backup `b`, and ha_suspend.
fn ours_reports(m: &Director, b: &Director, f: &mut Vec<String>) -> Res<()> {
    let (sm, sb) = (m.status()?, b.status()?);
    check(
        sm["priority"] == 150 && sb["priority"] == 100 && sb["master"] == D1.addr.to_string(),
        format!(
            "/status: priorities {} and {}, the backup names the master {} (d1 {})",
            sm["priority"], sb["priority"], sb["master"], D1.addr
        ),
        f,
    );
    check(
        sm["adverts_sent"].as_u64().unwrap_or(0) > 0
            && sb["adverts_received"].as_u64().unwrap_or(0) > 0
            && sb["adverts_sent"] == 0
            && sm["dropped"] == 0
            && sb["dropped"] == 0,
        format!(
            "/status: master sent {} adverts, backup received {} and sent {}; dropped {} and {}",
            sm["adverts_sent"], sb["adverts_received"], sb["adverts_sent"], sm["dropped"], sb["dropped"]
        ),
        f,
    );
    let metrics =
        |d: &Director| -> Res<Vec<ipvs_lab_tools::Sample>> { parse_exposition(&get(&ns_path(d.node.ns), "/metrics")?) };
    let value = |s: &[ipvs_lab_tools::Sample], name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        s.iter()
            .find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v)))
            .map(|x| x.2)
    };
    let (mm, mb) = (metrics(m)?, metrics(b)?);
    let i = ("instance", "VI_1");
    let state = "ipvs_director_vrrp_state";
    let ok = value(&mm, state, &[i, ("state", "master")]) == Some(1.0)
        && value(&mm, state, &[i, ("state", "backup")]) == Some(0.0)
        && value(&mb, state, &[i, ("state", "backup")]) == Some(1.0)
        && value(&mb, state, &[i, ("state", "master")]) == Some(0.0)
        && value(&mm, "ipvs_director_vrrp_priority", &[i]) == Some(150.0)
        && value(&mm, "ipvs_director_vrrp_adverts_sent_total", &[i]).is_some_and(|v| v > 0.0)
        && value(&mb, "ipvs_director_vrrp_adverts_received_total", &[i]).is_some_and(|v| v > 0.0)
        && value(&mm, "ipvs_director_vrrp_transitions_total", &[i]).is_some_and(|v| v >= 1.0)
        && value(&mb, "ipvs_director_vrrp_master_info", &[i, ("master", &D1.addr.to_string())]) == Some(1.0);
    check(ok, "/metrics: vrrp_state, priority, adverts sent and received, transitions, master_info".into(), f);
    if !ok {
        for s in mm.iter().chain(mb.iter()).filter(|s| s.0.starts_with("ipvs_director_vrrp")) {
            println!("      {s:?}");
        }
    }
    check(
        m.log_text().contains("(VI_1) Entering MASTER STATE") && b.log_text().contains("(VI_1) Entering BACKUP STATE"),
        "logs: \"(VI_1) Entering MASTER STATE\" on d1, \"(VI_1) Entering BACKUP STATE\" on d2".into(),
        f,
    );
    // ha_suspend on the port-80 virtual server: its checks run on the master only.
    let attempts = |d: &Director| -> Res<u64> {
        let v: Value = serde_json::from_str(&get(&ns_path(d.node.ns), "/status")?)?;
        let mut n = 0;
        for vs in v["virtual_servers"].as_array().into_iter().flatten() {
            if vs["virtual_server"].as_str().is_some_and(|s| s.contains(":80")) {
                for rs in vs["real_servers"].as_array().into_iter().flatten() {
                    for c in rs["checks"].as_array().into_iter().flatten() {
                        n += c["attempts"].as_u64().unwrap_or(0);
                    }
                }
            }
        }
        Ok(n)
    };
    let (m0, b0) = (attempts(m)?, attempts(b)?);
    sleep(3000);
    let (m1, b1) = (attempts(m)?, attempts(b)?);
    check(
        m1 > m0 && b1 == b0,
        format!("ha_suspend: in 3 s the master's checks ran {} times, the backup's {} times", m1 - m0, b1 - b0),
        f,
    );
    Ok(())
}

pub(crate) fn takeover_check(kind: Kind, what: &str, took: Option<Duration>, bound: f64, f: &mut Vec<String>) {
    let ok = took.is_some_and(|t| t.as_secs_f64() <= bound + MARGIN);
    check(
        ok,
        format!(
            "{what}: the client reaches the VIP through d2 after {} (bound {bound:.2} s + {MARGIN} s margin)",
            secs(took)
        ),
        f,
    );
    if let Some(t) = took {
        println!("bench vrrp {} {what}: {:.2} s (bound {bound:.2} s)", kind.label(), t.as_secs_f64());
    }
    if !ok {
        let mac = |n: Node| mac_of(n).unwrap_or_else(|e| e.to_string());
        println!("      client's ARP entry for the VIP: {}; d1 {}, d2 {}", client_arp(), mac(D1), mac(D2));
    }
}

/// The main sequence, with both directors of one kind.
pub(crate) fn failover(program: &str, kind: Kind, f: &mut Vec<String>) -> Res<()> {
    println!(
        "\n== failover: two {} directors (d1 priority 150, d2 priority 100; VRRPv2, advert_int 1 s)",
        kind.label()
    );
    clean()?;
    let start =
        |node: Node, priority: u8, tag: &str| Director::start(program, kind, node, Vrrp { priority, ..BASE }, tag);
    let mut d1 = start(D1, 150, "failover")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 alone becomes MASTER ({})", secs(t)), f);
    let mut d2 = start(D2, 100, "failover")?;
    let t = d2.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("d2 joins as BACKUP ({})", secs(t)), f);
    sleep(2000);
    check_steady(&[&d1, &d2], 0, "steady state", f)?;
    let ok = wait_vip_via(D1, Instant::now(), Duration::from_secs(10), 5.0)?;
    check(ok.is_some(), "the client reaches the VIP (HTTP through IPVS, direct routing) through d1".into(), f);
    if kind == Kind::Ours {
        ours_reports(&d1, &d2, f)?;
    }
    let bound = master_down(100, 1.0);

    // SIGKILL of the master.
    let at = Instant::now();
    d1.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), bound + MARGIN)?;
    takeover_check(kind, "takeover after SIGKILL of the master", took, bound, f);
    let state = d2.state()?;
    check(state == "MASTER", format!("d2 is MASTER ({state})"), f);
    println!("      d1 still holds the VIP after SIGKILL (nothing removed it): {}", holds_vip(D1)?);
    if kind == Kind::Ours {
        let s = d2.status()?;
        check(
            s["became_master"] == 1 && s["transitions"].as_u64().unwrap_or(0) >= 2,
            format!("d2 /status: became_master {}, transitions {}", s["became_master"], s["transitions"]),
            f,
        );
    }

    // The master returns and preempts.
    let at = Instant::now();
    d1 = start(D1, 150, "failover-return")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    let t2 = d2.wait_state("BACKUP", Duration::from_secs(10))?;
    check(
        t.is_some() && t2.is_some(),
        format!("d1 returns and preempts: MASTER after {} from its start, d2 BACKUP", secs(t)),
        f,
    );
    if let Some(t) = t {
        println!(
            "bench vrrp {} preemption by the returning master (from its start): {:.2} s",
            kind.label(),
            t.as_secs_f64()
        );
    }
    let back = wait_vip_via(D1, at, Duration::from_secs(15), 15.0)?;
    check(back.is_some(), format!("the client reaches the VIP through d1 again ({})", secs(back)), f);
    check_steady(&[&d1, &d2], 0, "after preemption", f)?;

    // The master's link unplugged (its switch port down), then back.
    let at = Instant::now();
    set_port(D1, false)?;
    let took = wait_vip_via(D2, at, Duration::from_secs(15), bound + MARGIN)?;
    takeover_check(kind, "takeover when the master's link goes down", took, bound, f);
    let t = d1.wait_state("FAULT", Duration::from_secs(5))?;
    let s = d1.state()?;
    check(t.is_some(), format!("d1, its link down, enters FAULT ({s})"), f);
    let state = d2.state()?;
    check(state == "MASTER", format!("d2 is MASTER ({state})"), f);
    let at = Instant::now();
    set_port(D1, true)?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    let t2 = d2.wait_state("BACKUP", Duration::from_secs(10))?;
    check(t.is_some() && t2.is_some(), format!("link back: d1 MASTER again after {}, d2 BACKUP", secs(t)), f);
    let back = wait_vip_via(D1, at, Duration::from_secs(15), 15.0)?;
    check(back.is_some(), format!("the client reaches the VIP through d1 again ({})", secs(back)), f);
    check_steady(&[&d1, &d2], 0, "after the link returns", f)?;

    // SIGTERM: priority 0, the backup takes over after its skew time only.
    let at = Instant::now();
    d1.signal(Signal::SIGTERM);
    let took = wait_vip_via(D2, at, Duration::from_secs(15), skew(100, 1.0) + MARGIN)?;
    takeover_check(kind, "takeover after SIGTERM of the master (priority 0)", took, skew(100, 1.0), f);
    let exited = d1.wait_exit();
    check(exited.is_ok(), format!("d1 exits after SIGTERM ({exited:?})"), f);
    let held = holds_vip(D1)?;
    check(!held, "d1 removed the VIP when it stopped".into(), f);
    if kind == Kind::Keepalived {
        // The complaint filter itself: nothing on adverts keepalived accepts, and it catches
        // what keepalived says about one it refuses (TTL 254).
        check_complaints(&d2, f);
        let mut p = advert_packet(&v2(VRID, 1, Auth::None)?);
        p[8] = 254;
        send_raw(&[p])?;
        let until = Instant::now() + Duration::from_secs(5);
        let mut c = complaints(&d2.log_text());
        while c.is_empty() && Instant::now() < until {
            sleep(100);
            c = complaints(&d2.log_text());
        }
        check(
            !c.is_empty(),
            format!("control: the filter catches keepalived's complaint about a TTL-254 advert ({:?})", c.first()),
            f,
        );
    }
    d2.stop()?;
    Ok(())
}

/// The returning master does not preempt with `nopreempt`.
pub(crate) fn nopreempt(program: &str, kind: Kind, f: &mut Vec<String>) -> Res<()> {
    println!("\n== nopreempt: two {} directors (d1 150, d2 100, both nopreempt)", kind.label());
    clean()?;
    let v = Vrrp { nopreempt: true, ..BASE };
    let mut d1 = Director::start(program, kind, D1, v, "nopreempt")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 alone becomes MASTER ({})", secs(t)), f);
    let mut d2 = Director::start(program, kind, D2, Vrrp { priority: 100, ..v }, "nopreempt")?;
    let t = d2.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("d2 joins as BACKUP ({})", secs(t)), f);
    let at = Instant::now();
    d1.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), master_down(100, 1.0) + MARGIN)?;
    check(took.is_some(), format!("SIGKILL of d1: d2 takes over ({})", secs(took)), f);
    d1 = Director::start(program, kind, D1, v, "nopreempt-return")?;
    let t = d1.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 returns as BACKUP ({})", secs(t)), f);
    // Longer than its master-down time (3.41 s): it would have preempted by then.
    sleep(3000);
    check_steady(&[&d1, &d2], 1, "d1 (priority 150) does not preempt d2 (100)", f)?;
    d1.stop()?;
    d2.stop()?;
    Ok(())
}

/// Equal priorities: the higher primary address wins. A backup hearing an equal priority
/// stays backup (RFC 3768 §6.4.2, and keepalived), so the tie-break is between two masters:
/// the directors are kept apart (isolated bridge ports: no carrier change, the client still
/// reaches both) until both are MASTER, then joined.
pub(crate) fn equal(program: &str, kind: Kind, f: &mut Vec<String>) -> Res<()> {
    println!(
        "\n== equal priorities: two {} directors, priority 100 (d1 {}, d2 {}), both MASTER while apart, then joined",
        kind.label(),
        D1.addr,
        D2.addr
    );
    clean()?;
    let v = Vrrp { priority: 100, ..BASE };
    let mut d1 = Director::start(program, kind, D1, v, "equal")?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 alone becomes MASTER ({})", secs(t)), f);
    isolate(true)?;
    let mut d2 = Director::start(program, kind, D2, v, "equal")?;
    let t2 = d2.wait_state("MASTER", Duration::from_secs(20))?;
    let s1 = d1.state()?;
    check(t2.is_some() && s1 == "MASTER", format!("apart, both are MASTER (d2 after {}, d1 {s1})", secs(t2)), f);
    let at = Instant::now();
    isolate(false)?;
    // The client tries the VIP from the moment they are joined.
    let (t1, s2, via) = std::thread::scope(|s| -> Res<_> {
        let client = s.spawn(|| wait_vip_via(D2, at, Duration::from_secs(15), 2.0));
        let t1 = d1.wait_state("BACKUP", Duration::from_secs(10));
        let s2 = d2.state();
        let via = client.join().map_err(|_| "client thread panicked")?;
        Ok((t1?, s2?, via?))
    })?;
    check(
        t1.is_some() && s2 == "MASTER",
        format!("joined: d1 (lower address) BACKUP after {}, d2 (higher) {s2}", secs(t1)),
        f,
    );
    if t1.is_none() || s2 != "MASTER" {
        println!("      d1:\n{}      d2:\n{}", d1.log_tail(), d2.log_tail());
    }
    check(via.is_some(), format!("the client reaches the VIP through d2 ({} after the join)", secs(via)), f);
    check_steady(&[&d1, &d2], 1, "equal priorities", f)?;
    d1.stop()?;
    d2.stop()?;
    Ok(())
}
