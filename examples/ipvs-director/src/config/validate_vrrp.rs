//! Checks of the VRRP part and the global settings (keepalived's rules from
//! `vrrp_complete_instance` in keepalived/vrrp/vrrp.c and its parser's ranges).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;

use super::validate::Problems;
use super::{defaults, Config, VrrpInstance, VrrpState};

/// The most VRRP weight a tracked interface or script may add or take.
const MAX_TRACK_WEIGHT: i32 = 253;

impl Config {
    pub(crate) fn validate_vrrp(&self, p: &mut Problems) {
        let g = &self.global;
        if let Some(v) = g.vrrp_version.filter(|v| !matches!(v, 2 | 3)) {
            p.at("global.vrrp_version", v, "must be 2 or 3");
        }
        p.text("global.script_user".into(), &g.script_user);
        p.text("global.script_group".into(), &g.script_group);
        if g.script_group.is_some() && g.script_user.is_none() {
            p.at("global.script_group", g.script_group.as_deref().unwrap_or_default(), "a group needs script_user");
        }
        if let Some(why) = g.script_user.as_deref().filter(|u| !u.is_empty()).and_then(super::accounts::user_problem) {
            p.at("global.script_user", "", why);
        }
        if let Some(why) = g.script_group.as_deref().filter(|u| !u.is_empty()).and_then(super::accounts::group_problem)
        {
            p.at("global.script_group", "", why);
        }
        if let Some(a) = g.vrrp_mcast_group4.filter(|a| !a.is_multicast()) {
            p.at("global.vrrp_mcast_group4", a, "is not a multicast address");
        }
        if let Some(a) = g.vrrp_mcast_group6.filter(|a| !a.is_multicast()) {
            p.at("global.vrrp_mcast_group6", a, "is not a multicast address");
        }
        if let Some(t) = &g.timeouts {
            if let Err(e) = t.validate() {
                p.at(format!("global.timeouts.{}", e.field), e.value, e.reason);
            }
        }
        if let Some(sd) = &g.sync_daemon {
            let vrid = sd.instance.as_ref().map(|name| self.vrrp_instances.iter().find(|i| &i.name == name));
            match vrid {
                Some(None) => p.at(
                    "global.sync_daemon.instance",
                    sd.instance.as_deref().unwrap_or_default(),
                    "no vrrp_instances entry has this name",
                ),
                found => {
                    let vrid = found.flatten().map_or(0, |i| i.virtual_router_id);
                    if let Err(e) = sd.daemon(ipvs::DaemonState::Master, vrid).validate() {
                        p.at(format!("global.sync_daemon.{}", e.field), e.value, e.reason);
                    }
                }
            }
            if sd.max_len.is_some_and(|m| m > 65_535 - 20 - 8) {
                p.at("global.sync_daemon.max_len", sd.max_len.unwrap_or_default(), "must be at most 65507");
            }
        }

        let mut scripts = HashSet::new();
        for (i, s) in self.vrrp_scripts.iter().enumerate() {
            let path = format!("vrrp_scripts[{i}]");
            if s.name.is_empty() || !scripts.insert(s.name.as_str()) {
                p.at(format!("{path}.name"), &s.name, "empty, or a second script of this name");
            }
            p.script(&format!("{path}.script"), &Some(s.script.clone()));
            if s.interval.is_zero() {
                p.at(format!("{path}.interval"), 0, "must be more than 0");
            }
            if s.timeout.is_some_and(|t| t.is_zero()) {
                p.at(format!("{path}.timeout"), 0, "must be more than 0 (leave it out for the interval)");
            }
            track_weight(p, &format!("{path}.weight"), s.weight);
            if s.reverse && s.weight == 0 {
                p.at(format!("{path}.reverse"), true, "reverse needs a weight");
            }
            for (field, v) in [("rise", s.rise), ("fall", s.fall)] {
                if v == 0 || v > i32::MAX as u32 {
                    p.at(format!("{path}.{field}"), v, "must be in 1..=2147483647");
                }
            }
        }

        let mut names = HashSet::new();
        let mut routers: HashMap<(Option<&str>, bool, u8), usize> = HashMap::new();
        for (i, inst) in self.vrrp_instances.iter().enumerate() {
            let path = format!("vrrp_instances[{i}]");
            if inst.name.is_empty() || !names.insert(inst.name.as_str()) {
                p.at(format!("{path}.name"), &inst.name, "empty, or a second instance of this name");
            }
            self.validate_instance(inst, &path, &scripts, p);
            let key = (inst.interface.as_deref(), inst.is_ipv6(), inst.virtual_router_id);
            if let Some(j) = routers.insert(key, i) {
                p.at(
                    format!("{path}.virtual_router_id"),
                    inst.virtual_router_id,
                    format!("vrrp_instances[{j}] has the same id on the same interface and family"),
                );
            }
        }

        let mut member_of: HashMap<&str, usize> = HashMap::new();
        let mut groups = HashSet::new();
        for (i, sg) in self.vrrp_sync_groups.iter().enumerate() {
            let path = format!("vrrp_sync_groups[{i}]");
            if sg.name.is_empty() || !groups.insert(sg.name.as_str()) {
                p.at(format!("{path}.name"), &sg.name, "empty, or a second sync group of this name");
            }
            if sg.group.is_empty() {
                p.at(format!("{path}.group"), "", "a sync group needs at least one instance");
            }
            for (k, m) in sg.group.iter().enumerate() {
                if !names.contains(m.as_str()) {
                    p.at(format!("{path}.group[{k}]"), m, "no vrrp_instances entry has this name");
                } else if let Some(j) = member_of.insert(m, i) {
                    p.at(format!("{path}.group[{k}]"), m, format!("already in vrrp_sync_groups[{j}]"));
                }
            }
            for (field, s) in [
                ("notify_master", &sg.notify_master),
                ("notify_backup", &sg.notify_backup),
                ("notify_fault", &sg.notify_fault),
            ] {
                p.script(&format!("{path}.{field}"), s);
            }
        }
    }

    fn validate_instance(&self, inst: &VrrpInstance, path: &str, scripts: &HashSet<&str>, p: &mut Problems) {
        if inst.virtual_router_id == 0 {
            p.at(format!("{path}.virtual_router_id"), 0, "must be in 1..=255");
        }
        if inst.priority == Some(0) {
            p.at(format!("{path}.priority"), 0, "must be in 1..=255 (255: the address owner)");
        }
        let version = inst.effective_version(self.global.vrrp_version);
        if !matches!(version, 2 | 3) {
            p.at(format!("{path}.version"), version, "must be 2 or 3");
        }
        p.ifname(format!("{path}.interface"), &inst.interface);
        // keepalived 2.2.7 runs a VRRPv2 instance without virtual addresses ("No VIP
        // specified; at least one is sensible") and stops on a VRRPv3 one ("... at least one
        // is required"; RFC 5798 has no advert without an address).
        if inst.virtual_ipaddresses.is_empty() && inst.effective_version(self.global.vrrp_version) == 3 {
            p.at(format!("{path}.virtual_ipaddress"), "", "a VRRPv3 instance needs at least one virtual address");
        }
        let v6 = inst.is_ipv6();
        let family = if v6 { "IPv6" } else { "IPv4" };
        let check_addr = |p: &mut Problems, field: String, a: &IpAddr| {
            if a.is_ipv6() != v6 {
                p.at(field.clone(), a, format!("the instance is {family} (by its first virtual address)"));
            } else if version == 2 && a.is_ipv6() {
                p.at(field.clone(), a, "VRRP version 2 is for IPv4 only");
            }
            if a.is_unspecified() || a.is_multicast() {
                p.at(field, a, "not a unicast address");
            }
        };
        for (k, vip) in inst.virtual_ipaddresses.iter().enumerate() {
            check_addr(p, format!("{path}.virtual_ipaddress[{k}].address"), &vip.address.addr);
            p.ifname(format!("{path}.virtual_ipaddress[{k}].dev"), &vip.dev);
            p.text(format!("{path}.virtual_ipaddress[{k}].label"), &vip.label);
        }
        if let Some(a) = &inst.unicast_src_ip {
            check_addr(p, format!("{path}.unicast_src_ip"), a);
        }
        for (k, a) in inst.unicast_peers.iter().enumerate() {
            check_addr(p, format!("{path}.unicast_peer[{k}]"), a);
        }
        if inst.unicast_src_ip.is_some() && inst.unicast_peers.is_empty() {
            p.at(
                format!("{path}.unicast_src_ip"),
                "",
                "unicast needs unicast_peer (keepalived falls back to multicast)",
            );
        }
        if inst.interface.is_none() && (inst.unicast_src_ip.is_none() || inst.unicast_peers.is_empty()) {
            p.at(format!("{path}.interface"), "", "an instance needs an interface, or unicast_src_ip and unicast_peer");
        }
        self.validate_timing(inst, path, version, p);
        validate_tracking(inst, path, scripts, p);
    }

    /// The advert interval, the password and preemption.
    fn validate_timing(&self, inst: &VrrpInstance, path: &str, version: u8, p: &mut Problems) {
        let advert = inst.effective_advert_int();
        match version {
            2 if advert.subsec_nanos() != 0 || advert.is_zero() || advert.as_secs() > 255 => {
                p.at(
                    format!("{path}.advert_int"),
                    advert.as_secs_f64(),
                    "VRRP version 2 needs whole seconds, 1 to 255",
                );
            }
            3 if !advert.subsec_nanos().is_multiple_of(10_000_000)
                || advert.is_zero()
                || advert >= Duration::from_millis(40_960) =>
            {
                p.at(
                    format!("{path}.advert_int"),
                    advert.as_secs_f64(),
                    "VRRP version 3 needs hundredths of a second, 0.01 to 40.95",
                );
            }
            _ => {}
        }
        if let Some(pass) = &inst.auth_pass {
            if version != 2 {
                p.at(format!("{path}.auth_pass"), "", "authentication is only for VRRP version 2");
            }
            if pass.is_empty() || pass.len() > 8 {
                p.at(format!("{path}.auth_pass"), "", "a password is 1 to 8 bytes (keepalived would cut a longer one)");
            }
        }
        let priority = inst.effective_priority();
        let master = inst.effective_state() == VrrpState::Master;
        if inst.nopreempt && priority == defaults::VRRP_OWNER_PRIORITY {
            p.at(format!("{path}.nopreempt"), true, "the address owner (priority 255) always preempts");
        }
        if inst.nopreempt && master {
            p.at(format!("{path}.nopreempt"), true, "does not work with state MASTER");
        }
        if let Some(d) = inst.preempt_delay {
            if d > defaults::MAX_PREEMPT_DELAY {
                p.at(format!("{path}.preempt_delay"), d.as_secs_f64(), "must be at most 1000 s");
            }
            if master && !d.is_zero() {
                p.at(format!("{path}.preempt_delay"), d.as_secs_f64(), "does not work with state MASTER");
            }
            if inst.nopreempt && !d.is_zero() {
                p.at(format!("{path}.preempt_delay"), d.as_secs_f64(), "does not go with nopreempt");
            }
        }
    }
}

/// Tracked interfaces and scripts, and the notify scripts.
fn validate_tracking(inst: &VrrpInstance, path: &str, scripts: &HashSet<&str>, p: &mut Problems) {
    let mut tracked = HashSet::new();
    for (k, t) in inst.track_interfaces.iter().enumerate() {
        let tp = format!("{path}.track_interface[{k}]");
        p.ifname(format!("{tp}.name"), &Some(t.name.clone()));
        if !tracked.insert(t.name.as_str()) {
            p.at(format!("{tp}.name"), &t.name, "tracked twice");
        }
        track_weight(p, &format!("{tp}.weight"), t.weight);
        if t.reverse && t.weight == 0 {
            p.at(format!("{tp}.reverse"), true, "reverse needs a weight");
        }
    }
    let mut tracked = HashSet::new();
    for (k, t) in inst.track_scripts.iter().enumerate() {
        let tp = format!("{path}.track_script[{k}]");
        if !scripts.contains(t.script.as_str()) {
            p.at(format!("{tp}.script"), &t.script, "no vrrp_scripts entry has this name");
        } else if !tracked.insert(t.script.as_str()) {
            p.at(format!("{tp}.script"), &t.script, "tracked twice");
        }
        if let Some(w) = t.weight {
            track_weight(p, &format!("{tp}.weight"), w);
        } else if t.reverse {
            p.at(format!("{tp}.reverse"), true, "reverse needs a weight");
        }
    }
    for (field, s) in [
        ("notify_master", &inst.notify_master),
        ("notify_backup", &inst.notify_backup),
        ("notify_fault", &inst.notify_fault),
    ] {
        p.script(&format!("{path}.{field}"), s);
    }
}

fn track_weight(p: &mut Problems, path: &str, w: i32) {
    if !(-MAX_TRACK_WEIGHT..=MAX_TRACK_WEIGHT).contains(&w) {
        p.at(path, w, "must be in -253..=253");
    }
}
