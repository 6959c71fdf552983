//! Malformed adverts (the fourth section), crafted here on a raw socket: each dropped and
//! counted under its reason, no state change; the same advert intact is obeyed.

use std::net::SocketAddrV4;
use std::time::Duration;

use ipvs_lab_tools::{check, in_netns, parse_exposition, Res};
use ipvs_vrrp::ip::emit_ipv4;
use ipvs_vrrp::packet::internet_checksum;
use ipvs_vrrp::{Addresses, Advert, Auth, MULTICAST_V4};

use crate::client::secs;
use crate::config::BASE;
use crate::director::{get, start_ours_pair, Director};
use crate::network::clean;
use crate::{ns_path, sleep, CRAFT, D1, VIP, VRID};

/// Sends whole IPv4 packets (our own header; the kernel fills in its checksum and total
/// length) from the crafting namespace to 224.0.0.18.
pub(crate) fn send_raw(packets: &[Vec<u8>]) -> Res<()> {
    in_netns(&ns_path(CRAFT.ns), || {
        use socket2::{Domain, Protocol, SockAddr, Socket, Type};
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))?; // IPPROTO_RAW: IP_HDRINCL
        let to = SockAddr::from(SocketAddrV4::new(MULTICAST_V4, 0));
        for p in packets {
            s.send_to(p, &to)?;
            sleep(50);
        }
        Ok(())
    })
}

/// A valid VRRPv2 advert from the crafting namespace for VI_1, priority 254 (above both
/// directors: a master obeying it would step down).
pub(crate) fn advert_packet(advert: &Advert) -> Vec<u8> {
    emit_ipv4(advert, CRAFT.addr, MULTICAST_V4, false, 0x4242)
}

pub(crate) fn v2(vrid: u8, interval: u8, auth: Auth) -> Res<Advert> {
    Ok(Advert::v2(vrid, 254, interval, auth, vec![VIP])?)
}

/// Recomputes the VRRPv2 checksum (after the 20-byte IP header).
fn fix_v2_checksum(p: &mut [u8]) {
    p[26] = 0;
    p[27] = 0;
    let sum = internet_checksum(&[&p[20..]]);
    p[26..28].copy_from_slice(&sum.to_be_bytes());
}

/// The defective adverts: (what, the drop reason it is counted under, the packet), each
/// `good` with one defect.
fn cases(good: &[u8]) -> Res<Vec<(&'static str, &'static str, Vec<u8>)>> {
    let mut cases: Vec<(&str, &str, Vec<u8>)> = Vec::new();
    let mut p = good.to_vec();
    p[26] ^= 0xff;
    cases.push(("bad checksum", "checksum", p));
    let mut p = good.to_vec();
    p[8] = 254;
    cases.push(("TTL 254", "ttl", p));
    cases.push(("VRID 52", "vrid", advert_packet(&v2(VRID + 1, 1, Auth::None)?)));
    let v3 = Advert::v3(VRID, 254, 100, Addresses::V4(vec![VIP]))?;
    cases.push(("a VRRPv3 advert to a VRRPv2 instance", "version", advert_packet(&v3)));
    let mut p = good.to_vec();
    p[20] = 0x41;
    fix_v2_checksum(&mut p);
    cases.push(("version field 4", "version", p));
    let mut p = good.to_vec();
    p[20] = 0x22;
    fix_v2_checksum(&mut p);
    cases.push(("type 2", "type", p));
    cases.push(("advert_int 2 (ours 1)", "interval", advert_packet(&v2(VRID, 2, Auth::None)?)));
    cases.push(("PASS authentication (ours none)", "auth", advert_packet(&v2(VRID, 1, Auth::pass("secret"))?)));
    let mut p = good.to_vec();
    p.truncate(20 + 6);
    cases.push(("6 bytes of VRRP (too short)", "short", p));
    let mut p = good.to_vec();
    p.truncate(20 + 12);
    cases.push(("no authentication data (too short)", "short", p));
    Ok(cases)
}

pub(crate) fn malformed(program: &str, f: &mut Vec<String>) -> Res<()> {
    println!(
        "\n== malformed adverts from {} (priority 254, VI_1's VRID and VIP, one defect each), 3 of each",
        CRAFT.addr
    );
    clean()?;
    let (mut d1, mut d2) = start_ours_pair(program, BASE, "malformed", f)?;
    sleep(1000);

    let good = advert_packet(&v2(VRID, 1, Auth::None)?);
    let cases = cases(&good)?;

    let drops =
        |d: &Director, reason: &str| -> Res<u64> { Ok(d.status()?["drops"][reason].as_u64().unwrap_or(u64::MAX)) };
    for (what, reason, packet) in &cases {
        let before = (
            drops(&d1, reason)?,
            drops(&d2, reason)?,
            d1.status()?["transitions"].clone(),
            d2.status()?["transitions"].clone(),
        );
        send_raw(&[packet.clone(), packet.clone(), packet.clone()])?;
        sleep(700);
        let alive = d1.alive() && d2.alive();
        let after = (
            drops(&d1, reason)?,
            drops(&d2, reason)?,
            d1.status()?["transitions"].clone(),
            d2.status()?["transitions"].clone(),
        );
        let (s1, s2) = (d1.state()?, d2.state()?);
        let (n1, n2) = (after.0.wrapping_sub(before.0), after.1.wrapping_sub(before.1));
        check(
            alive
                && n1 == 3
                && n2 == 3
                && before.2 == after.2
                && before.3 == after.3
                && s1 == "MASTER"
                && s2 == "BACKUP",
            format!("{what}: dropped as \"{reason}\" (d1 +{n1}, d2 +{n2}), states {s1}/{s2}, transitions unchanged"),
            f,
        );
    }
    let alive = d1.alive() && d2.alive() && d1.status().is_ok() && d2.status().is_ok();
    check(alive, "both directors still run and answer /status".into(), f);
    let metrics = get(&ns_path(D1.ns), "/metrics")?;
    let samples = parse_exposition(&metrics)?;
    let checksum = samples.iter().find(|(n, l, _)| {
        n == "ipvs_director_vrrp_adverts_dropped_total"
            && l.iter().any(|(k, v)| k == "reason" && v == "checksum")
            && l.iter().any(|(k, v)| k == "instance" && v == "VI_1")
    });
    let status_checksum = drops(&d1, "checksum")?;
    check(
        checksum.is_some_and(|s| s.2 == status_checksum as f64),
        format!(
            "/metrics adverts_dropped_total{{reason=\"checksum\"}} = {:?}, as /status ({status_checksum})",
            checksum.map(|s| s.2)
        ),
        f,
    );

    // Control: the same advert, intact, is obeyed (d1 steps down), then d1 takes over again
    // when it stops coming.
    let before = d1.status()?["transitions"].as_u64().unwrap_or(0);
    send_raw(std::slice::from_ref(&good))?;
    let t = d1.wait_state("BACKUP", Duration::from_secs(3))?;
    let back = d1.wait_state("MASTER", Duration::from_secs(15))?;
    let after = d1.status()?["transitions"].as_u64().unwrap_or(0);
    check(
        t.is_some() && back.is_some() && after >= before + 2,
        format!(
            "control: the same advert intact is obeyed (d1 BACKUP after {}, MASTER again {} later; transitions {before} -> {after})",
            secs(t),
            secs(back)
        ),
        f,
    );
    d1.stop()?;
    d2.stop()?;
    Ok(())
}
