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

#[test]
fn words_after_a_virtual_server_s_port_are_ignored() {
    let conf = "virtual_server 192.0.2.10 53 dev eth0 {\n    protocol UDP\n    lb_algo rr\n    lb_kind NAT\n    real_server 198.51.100.11 53 {\n    }\n}\n";
    let r = read(conf);
    warns(&r, 1, "virtual_server", "takes IP [PORT]: \"dev eth0\" ignored, as keepalived ignores it");
    assert!(matches!(r.config.virtual_servers[0].id, VirtualServerId::Address { port: 53, .. }));
}

#[test]
fn a_weight_or_quorum_out_of_range_falls_back() {
    // "Real server weight 1x is outside range 0-2147483647": the default weight 1 is kept.
    let conf = "virtual_server 192.0.2.10 80 {\n    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n    real_server 198.51.100.11 80 {\n        weight 1\u{3000}\n    }\n}\n";
    let r = read(conf);
    warns(&r, 6, "weight", "is not a number within 0..=");
    assert_eq!(r.config.virtual_servers[0].real_servers[0].weight, None);
    // "Quorum 0 must be in [1, 4294967295]. Setting to 1."
    let conf = "virtual_server 192.0.2.10 80 {\n    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n    quorum 0\n    real_server 198.51.100.11 80 {\n    }\n}\n";
    let r = read(conf);
    warns(&r, 5, "quorum", "0 is not within 1..=4294967295: 1, as keepalived sets it");
    assert_eq!(r.config.virtual_servers[0].quorum, 1);
}

#[test]
fn an_instance_without_addresses_runs_with_vrrp_v2_only() {
    // "(VI_1) No VIP specified; at least one is sensible"; with version 3 keepalived stops:
    // "... at least one is required".
    let conf = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n}\n";
    let r = read(conf);
    warns(&r, 1, "vrrp_instance", "no virtual address: the instance runs without one, as keepalived runs it");
    assert!(r.config.vrrp_instances[0].virtual_ipaddresses.is_empty());
    let conf = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    version 3\n}\n";
    let Err(e) = read_str_with_warnings(conf, "k.conf").map(|r| r.config) else { panic!("accepted") };
    let e = e.to_string();
    assert!(e.contains("a VRRPv3 instance needs at least one virtual address"), "{e}");
}

#[test]
fn scripts_whose_user_is_not_on_the_system_are_left_out() {
    // keepalived 2.2.7 (run, with script_user nosuchuser): "(Line 2) Error setting global
    // script uid/gid", "Unable to set default user for vrrp script chk_a - removing",
    // "Unable to set uid/gid for script '/bin/true'", "Failed to set default user for notify
    // script /bin/true - ignoring", "Invalid user/group for notify script /bin/true -
    // ignoring", "(VI_1) track script chk_a not found, ignoring...".
    let conf = format!(
        "global_defs {{\n    script_user ipvs-no-such-user\n}}\nvrrp_script chk_a {{\n    script /bin/true\n}}\nvrrp_script chk_b {{\n    script /bin/true\n    user ipvs-no-such-user-2\n}}\nvrrp_script chk_c {{\n    script /bin/true\n    user root\n}}\n{}",
        vrrp("    notify_master /bin/true\n    notify_backup \"/bin/echo x\" root\n    notify_fault /bin/true ipvs-no-such-user-3\n    track_script {\n        chk_a\n        chk_b\n        chk_c\n    }")
    );
    let r = read(&conf);
    let w = shown(&r);
    assert_eq!(w.len(), 7, "{w:#?}");
    assert!(w[5].starts_with("k.conf:23: warning: chk_a: its vrrp_script is disabled: not tracked"), "{w:#?}");
    assert!(w[6].starts_with("k.conf:24: warning: chk_b: its vrrp_script is disabled: not tracked"), "{w:#?}");
    assert!(w[0].starts_with("k.conf:2: warning: script_user: no user \"ipvs-no-such-user\" on this system: scripts that name no user of their own are not run"), "{w:#?}");
    assert!(w[1].starts_with("k.conf:6: warning: vrrp_script: it names no user and script_user's is not on this system: the script \"chk_a\" disabled"), "{w:#?}");
    assert!(
        w[2].starts_with(
            "k.conf:9: warning: user: no user \"ipvs-no-such-user-2\" on this system: the script \"chk_b\" disabled"
        ),
        "{w:#?}"
    );
    assert!(w[3].starts_with("k.conf:19: warning: notify_master: it names no user"), "{w:#?}");
    assert!(w[4].starts_with("k.conf:21: warning: notify_fault: no user \"ipvs-no-such-user-3\" on this system: this notify script ignored"), "{w:#?}");
    let c = &r.config;
    assert_eq!(c.global.script_user, None);
    assert_eq!(c.vrrp_scripts.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["chk_c"]);
    let v = &c.vrrp_instances[0];
    assert_eq!(v.track_scripts.iter().map(|t| t.script.as_str()).collect::<Vec<_>>(), ["chk_c"]);
    assert!(v.notify_master.is_none() && v.notify_fault.is_none() && v.notify_backup.is_some());
}

#[test]
fn global_vrrp_settings_keepalived_takes() {
    let conf =
        format!("global_defs {{\n    vrrp_mcast_group4 224.0.0.19\n    vrrp_mcast_group6 ff02::13\n}}\n{}", vrrp(""));
    let r = read(&conf);
    assert!(r.warnings.is_empty(), "{:?}", shown(&r));
    assert_eq!(r.config.global.vrrp_mcast_group4, Some("224.0.0.19".parse().unwrap()));
    assert_eq!(r.config.global.vrrp_mcast_group6, Some("ff02::13".parse().unwrap()));
    // "(Line 2) vrrp_mcast_group4 [192.0.2.1] is not multicast. Skipping".
    let conf = format!("global_defs {{\n    vrrp_mcast_group4 192.0.2.1\n}}\n{}", vrrp(""));
    let r = read(&conf);
    warns(&r, 2, "vrrp_mcast_group4", "192.0.2.1 is not multicast: skipped, as keepalived skips it");
    assert_eq!(r.config.global.vrrp_mcast_group4, None);
    // default_interface: keepalived 2.2.7 puts an instance's addresses on the instance's
    // interface whatever it says (checked by running it).
    let conf = format!("global_defs {{\n    default_interface eth1\n}}\n{}", vrrp(""));
    let r = read(&conf);
    warns(&r, 2, "default_interface", "accepted without effect");
}

#[test]
fn a_boolean_that_is_none_is_ignored() {
    // "Invalid inhibit_on_failure parameter maybe" (a real server's: a boolean there).
    let conf = "virtual_server 192.0.2.10 80 {\n    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n    real_server 198.51.100.11 80 {\n        inhibit_on_failure maybe\n    }\n}\n";
    let r = read(conf);
    warns(
        &r,
        6,
        "inhibit_on_failure",
        "\"maybe\" is not on, off, true, false, yes or no: the keyword ignored, as keepalived ignores it",
    );
    assert_eq!(r.config.virtual_servers[0].real_servers[0].on_failure, None);
}

#[test]
fn warnings_keepalived_gives_for_what_it_takes() {
    // "Warning - empty notification_email block"; "number '0' outside range [0.000001,
    // 4294.967295]", "vrrp_garp_interval '0' is invalid"; "(VI_1) Specifying
    // lvs_sync_daemon_interface against a vrrp is deprecated."
    let conf = format!(
        "global_defs {{\n    notification_email {{\n    }}\n    vrrp_garp_interval 0\n}}\n{}",
        vrrp("    lvs_sync_daemon_interface eth0")
    );
    let r = read(&conf);
    let w: Vec<String> = shown(&r).into_iter().filter(|w| !w.contains(": accepted without effect: ")).collect();
    assert_eq!(w.len(), 3, "{w:#?}");
    assert!(w[0].starts_with("k.conf:3: warning: notification_email: an empty block"), "{w:#?}");
    assert!(
        w[1].starts_with("k.conf:4: warning: vrrp_garp_interval: \"0\" is not within 0.000001..=4294.967295 s"),
        "{w:#?}"
    );
    assert!(w[2].starts_with("k.conf:10: warning: lvs_sync_daemon_interface: deprecated"), "{w:#?}");
    assert_eq!(r.config.global.sync_daemon.as_ref().map(|d| d.interface.as_str()), Some("eth0"));
}

#[test]
fn an_instance_tracking_a_script_removed_for_its_user_warns_at_the_entry() {
    // "(VI_1) track script chk not found, ignoring..." after "Unable to set uid/gid for
    // script".
    let conf = format!(
        "vrrp_script chk {{\n    script /bin/true\n    user ipvs-no-such-user\n}}\n{}",
        vrrp("    track_script {\n        chk\n    }")
    );
    let w = shown(&read(&conf));
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(w[1].starts_with("k.conf:10: warning: chk: its vrrp_script is disabled: not tracked"), "{w:#?}");
}

#[test]
fn tracking_the_instance_s_own_interface_is_ignored() {
    // "(VI_1) Ignoring track_interface eth0 since own interface".
    let r = read(&vrrp("    track_interface {\n        eth0\n        eth1 weight 10\n    }"));
    warns(&r, 6, "eth0", "the instance's own interface: not tracked");
    let tracked: Vec<_> = r.config.vrrp_instances[0].track_interfaces.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tracked, ["eth1"]);
}

#[test]
fn nb_get_retry_of_an_http_check_is_retry_with_a_warning() {
    // "nb_get_retry is deprecated - please use 'retry'".
    let conf = "virtual_server 192.0.2.10 80 {\n    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n    real_server 198.51.100.11 80 {\n        HTTP_GET {\n            url {\n                path /\n            }\n            nb_get_retry 4\n        }\n    }\n}\n";
    let r = read(conf);
    warns(&r, 10, "nb_get_retry", "deprecated (retry is meant): taken as retry, as keepalived takes it");
    assert_eq!(r.config.virtual_servers[0].real_servers[0].checks[0].timing.retry, Some(4));
}

#[test]
fn warnings_about_a_block_name_its_end_as_keepalived_does() {
    // "(Line 3) Warning - empty notification_email block" for a block from line 2 to 3.
    let r = read(&format!("global_defs {{\n    notification_email {{\n    }}\n}}\n{}", vrrp("")));
    let w: Vec<String> = shown(&r).into_iter().filter(|w| !w.contains(": accepted without effect: ")).collect();
    assert!(w.len() == 1 && w[0].starts_with("k.conf:3: warning: notification_email: an empty block"), "{w:#?}");
}

#[test]
fn a_sync_daemon_may_follow_no_instance() {
    // keepalived 2.2.7 takes `lvs_sync_daemon eth0` without a word and runs the master and
    // the backup daemon (sync id 0, or `id`) from its start to its stop.
    let conf = |line: &str| format!("global_defs {{\n    {line}\n}}\n{}", vrrp(""));
    let r = read(&conf("lvs_sync_daemon eth0"));
    assert!(r.warnings.is_empty(), "{:?}", shown(&r));
    let sd = r.config.global.sync_daemon.clone().expect("a sync daemon");
    assert_eq!((sd.interface.as_str(), sd.instance.as_deref(), sd.sync_id), ("eth0", None, None));
    assert_eq!(sd.daemon(ipvs::DaemonState::Master, 0).sync_id, 0);
    let sd = read(&conf("lvs_sync_daemon eth0 id 7")).config.global.sync_daemon.expect("a sync daemon");
    assert_eq!((sd.instance, sd.sync_id), (None, Some(7)));
    let sd = read(&conf("lvs_sync_daemon eth0 VI_1")).config.global.sync_daemon.expect("a sync daemon");
    assert_eq!(sd.instance.as_deref(), Some("VI_1"));
}
