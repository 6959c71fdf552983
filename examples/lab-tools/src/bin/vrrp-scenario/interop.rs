//! keepalived as the peer (the third section), VRRPv2 and VRRPv3, either one master; and
//! keepalived's complaints read from its log.

use std::time::{Duration, Instant};

use ipvs_lab_tools::{check, Res};

use crate::client::{check_steady, secs, wait_vip_via};
use crate::config::{Vrrp, BASE};
use crate::director::{Director, Kind};
use crate::failover::takeover_check;
use crate::network::clean;
use crate::{master_down, sleep, D1, D2, MARGIN};

/// keepalived's log lines that complain about received adverts (or anything else).
pub(crate) fn complaints(log: &str) -> Vec<String> {
    const WORDS: [&str; 14] = [
        "invalid",
        "bad ",
        "error",
        "mismatch",
        "ttl",
        "checksum",
        "wrong",
        "lower priority",
        "too short",
        "not present",
        "expect",
        "unknown",
        "received a ",
        "discard",
    ];
    log.lines().filter(|l| WORDS.iter().any(|w| l.to_lowercase().contains(w))).map(str::to_owned).collect()
}

pub(crate) fn check_complaints(k: &Director, f: &mut Vec<String>) {
    let c = complaints(&k.log_text());
    check(
        c.is_empty(),
        format!("keepalived on {} logs no complaint ({} lines logged)", k.node.name, k.log_text().lines().count()),
        f,
    );
    if !c.is_empty() {
        println!("      complaints:");
        for l in &c {
            println!("      | {l}");
        }
        println!("      whole log:\n{}", k.log_tail());
    }
}

pub(crate) fn interop(program: &str, version: u8, f: &mut Vec<String>) -> Res<()> {
    let v = Vrrp { version, ..BASE };
    let bound = master_down(100, 1.0);
    println!("\n== VRRPv{version}: ours (d1, 150) master, keepalived (d2, 100) backup");
    clean()?;
    let mut ours = Director::start(program, Kind::Ours, D1, v, &format!("v{version}-a"))?;
    let t = ours.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("ours becomes MASTER ({})", secs(t)), f);
    let mut theirs =
        Director::start(program, Kind::Keepalived, D2, Vrrp { priority: 100, ..v }, &format!("v{version}-a"))?;
    let t = theirs.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("keepalived enters BACKUP ({})", secs(t)), f);
    sleep(2000);
    check_steady(&[&ours, &theirs], 0, "ours master, keepalived backup", f)?;
    let at = Instant::now();
    ours.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), bound + MARGIN)?;
    takeover_check(Kind::Keepalived, &format!("VRRPv{version} takeover from ours after SIGKILL"), took, bound, f);
    let s = theirs.state()?;
    check(s == "MASTER", format!("keepalived is MASTER ({s})"), f);
    theirs.stop()?;
    check_complaints(&theirs, f);

    println!("\n== VRRPv{version}: keepalived (d1, 150) master, ours (d2, 100) backup");
    clean()?;
    let mut theirs = Director::start(program, Kind::Keepalived, D1, v, &format!("v{version}-b"))?;
    let t = theirs.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("keepalived becomes MASTER ({})", secs(t)), f);
    let mut ours = Director::start(program, Kind::Ours, D2, Vrrp { priority: 100, ..v }, &format!("v{version}-b"))?;
    let t = ours.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("ours enters BACKUP ({})", secs(t)), f);
    sleep(2000);
    check_steady(&[&theirs, &ours], 0, "keepalived master, ours backup", f)?;
    let s = ours.status()?;
    check(
        s["master"] == D1.addr.to_string() && s["adverts_received"].as_u64().unwrap_or(0) > 0 && s["dropped"] == 0,
        format!(
            "ours accepts keepalived's adverts: master {}, received {}, dropped {} ({})",
            s["master"], s["adverts_received"], s["dropped"], s["drops"]
        ),
        f,
    );
    let at = Instant::now();
    theirs.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), bound + MARGIN)?;
    takeover_check(Kind::Ours, &format!("VRRPv{version} takeover from keepalived after SIGKILL"), took, bound, f);
    let s = ours.state()?;
    check(s == "MASTER", format!("ours is MASTER ({s})"), f);
    if s != "MASTER" {
        // Seen once in a full lab run (ours BACKUP right after it took over): both logs.
        println!("      ours (d2):\n{}      keepalived (d1):\n{}", ours.log_tail(), theirs.log_tail());
    }
    check_complaints(&theirs, f);
    ours.stop()?;
    Ok(())
}
