//! More of keepalived's fallbacks, found with the corpus of real-world files
//! (lab/keepalived-corpus.sh): each is taken as keepalived 2.2.7 takes it (`keepalived -t`
//! exits with status 5 and runs, or 0 where it says nothing), with a warning at its line
//! saying what was done, and the configuration read is what keepalived runs.

use ipvs::Protocol;
use ipvs_director::config::{VirtualServerId, VrrpState};
use ipvs_director::keepalived::{read_str_with_warnings, Reading};

/// A vrrp_instance (line 1) with `body` from line 5.
fn vrrp(body: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    advert_int 1\n{body}\n    virtual_ipaddress {{\n        192.0.2.100/24\n    }}\n}}\n"
    )
}

/// Reads `conf`, which must be accepted.
fn read(conf: &str) -> Reading {
    match read_str_with_warnings(conf, "k.conf") {
        Ok(r) => r,
        Err(e) => panic!("refused:\n{e}\nfor:\n{conf}"),
    }
}

/// The warnings of `r`, as shown.
fn shown(r: &Reading) -> Vec<String> {
    r.warnings.iter().map(ToString::to_string).collect()
}

/// Asserts that `r` has exactly one warning, at `line` for `keyword`, containing `what`.
fn warns(r: &Reading, line: usize, keyword: &str, what: &str) {
    let w = shown(r);
    assert_eq!(w.len(), 1, "{w:?}");
    let prefix = format!("k.conf:{line}: warning: {keyword}: ");
    assert!(w[0].starts_with(&prefix) && w[0].contains(what), "want {prefix}...{what}..., got {}", w[0]);
}

#[test]
fn words_after_a_value_are_ignored_with_a_warning() {
    // keepalived 2.2.7 reads the words a keyword takes and says nothing of the rest.
    let r = read(&vrrp("    priority 100 // the backup has 90"));
    warns(&r, 5, "priority", "its first word read, \"// the backup has 90\" ignored, as keepalived ignores it");
    assert_eq!(r.config.vrrp_instances[0].priority, Some(100));
}

#[test]
fn an_argument_of_a_bare_keyword_is_ignored_and_the_keyword_taken() {
    // "alpha off" turns alpha on in keepalived (its handler ignores the argument).
    let conf = "virtual_server 192.0.2.10 80 {\n    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n    inhibit_on_failure no\n    real_server 198.51.100.11 80 {\n    }\n}\n";
    let r = read(conf);
    warns(&r, 5, "inhibit_on_failure", "\"no\" ignored and the keyword taken");
    assert!(r.config.virtual_servers[0].on_failure.is_some());
}

#[test]
fn an_unknown_state_is_backup() {
    // "(VI_1) unknown state 'backup', defaulting to BACKUP".
    let r = read(&vrrp("    state backup"));
    warns(&r, 5, "state", "unknown state \"backup\" (MASTER or BACKUP): BACKUP, as keepalived defaults to it");
    assert_eq!(r.config.vrrp_instances[0].state, Some(VrrpState::Backup));
}

#[test]
fn a_priority_that_is_not_one_is_the_default() {
    // "invalid number '100,x'", "(VI_1) Priority not valid! must be between 1 & 255. Using
    // default 100".
    for bad in ["100,x", "256", "0"] {
        let r = read(&vrrp(&format!("    priority {bad}")));
        warns(&r, 5, "priority", "is not a number within 1..=255: the default 100, as keepalived uses it");
        assert_eq!(r.config.vrrp_instances[0].priority, None, "{bad}");
    }
}

#[test]
fn preemption_settings_that_cannot_work_are_cleared() {
    // "(VI_1) Warning - preempt delay will not work with initial state MASTER - clearing".
    let r = read(&vrrp("    state MASTER\n    preempt_delay 10"));
    warns(&r, 6, "preempt_delay", "does not work with initial state MASTER: cleared, as keepalived does");
    assert_eq!(r.config.vrrp_instances[0].preempt_delay, None);
    // "(VI_1) nopreempt is incompatible with priority 255. resetting nopreempt".
    let r = read(&vrrp("    priority 255\n    nopreempt"));
    warns(&r, 6, "nopreempt", "the address owner (priority 255) always preempts: cleared, as keepalived does");
    assert!(!r.config.vrrp_instances[0].nopreempt);
}

#[test]
fn authentication_without_a_password_is_none() {
    // "(VI_1) Authentication specified but no password given. Ignoring".
    let r = read(&vrrp("    authentication {\n        auth_type PASS\n    }"));
    warns(&r, 5, "authentication", "auth_type PASS without auth_pass: no authentication");
    assert_eq!(r.config.vrrp_instances[0].auth_pass, None);
}

#[test]
fn a_prefix_length_on_a_unicast_address_is_dropped() {
    let r = read(&vrrp("    unicast_src_ip 192.0.2.1/24\n    unicast_peer {\n        192.0.2.2/24\n    }"));
    let w = shown(&r);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("k.conf:5: warning: unicast_src_ip: 192.0.2.1/24: /24: the prefix length ignored"),
        "{w:?}"
    );
    assert!(w[1].starts_with("k.conf:7: warning: 192.0.2.2/24: /24: the prefix length ignored"), "{w:?}");
    let v = &r.config.vrrp_instances[0];
    assert_eq!(v.unicast_src_ip, Some("192.0.2.1".parse().unwrap()));
    assert_eq!(v.unicast_peers, vec!["192.0.2.2".parse::<std::net::IpAddr>().unwrap()]);
}

#[test]
fn a_second_notify_script_is_ignored() {
    // "(VI_1) notify_master script already specified - ignoring /bin/false".
    let r = read(&vrrp("    notify_master /bin/true\n    notify_master /bin/false"));
    warns(&r, 6, "notify_master", "already given in this block: this one ignored, as keepalived ignores it");
    assert_eq!(r.config.vrrp_instances[0].notify_master.as_ref().unwrap().argv, vec!["/bin/true".to_owned()]);
}

#[test]
fn sync_group_members_that_are_no_instance_are_left_out() {
    // "Virtual router VI_X specified in sync group G doesn't exist - ignoring", then "Sync
    // group G, no matching virtual router found in group declaration - removing".
    let conf = format!("vrrp_sync_group G {{\n    group {{\n        VI_1\n        VI_X\n    }}\n}}\n{}", vrrp(""));
    let r = read(&conf);
    warns(&r, 4, "VI_X", "no vrrp_instance of this name: left out of the group, as keepalived leaves it out");
    assert_eq!(r.config.vrrp_sync_groups[0].group, vec!["VI_1".to_owned()]);
    let conf = "vrrp_sync_group G {\n    group {\n        VI_X\n    }\n}\n";
    let w = shown(&read(conf));
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("k.conf:1: warning: vrrp_sync_group: no member is a vrrp_instance: the group removed"),
        "{w:?}"
    );
}

#[test]
fn a_vrrp_script_whose_program_is_missing_is_disabled() {
    // "Disabling track script chk since not found/accessible": the instance runs without it.
    let conf = format!(
        "vrrp_script chk {{\n    script \"/nonexistent/ipvs-test/check.sh\"\n}}\nvrrp_script ok {{\n    script \"/bin/true\"\n}}\n{}",
        vrrp("    track_script {\n        chk\n        ok\n    }")
    );
    let r = read(&conf);
    warns(
        &r,
        2,
        "script",
        "\"/nonexistent/ipvs-test/check.sh\" is not found or not executable: the script \"chk\" disabled",
    );
    assert_eq!(r.config.vrrp_scripts.len(), 1);
    let tracked: Vec<_> = r.config.vrrp_instances[0].track_scripts.iter().map(|t| t.script.as_str()).collect();
    assert_eq!(tracked, ["ok"]);
}

#[test]
fn protocol_fallbacks_of_virtual_servers() {
    // "Virtual server [192.0.2.10]:none:80: no protocol set - defaulting to UDP".
    let conf = "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind NAT\n    real_server 198.51.100.11 80 {\n    }\n}\n";
    let r = read(conf);
    warns(&r, 1, "virtual_server", "no protocol: UDP, as keepalived falls back to it");
    assert!(matches!(r.config.virtual_servers[0].id, VirtualServerId::Address { protocol: Protocol::Udp, .. }));
    // "Warning: Virtual server FWM 5: protocol specified for fwmark - protocol will be ignored".
    let conf = "virtual_server fwmark 5 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 198.51.100.11 80 {\n    }\n}\n";
    warns(
        &read(conf),
        4,
        "protocol",
        "a firewall-mark virtual server has no protocol: ignored, as keepalived ignores it",
    );
}
