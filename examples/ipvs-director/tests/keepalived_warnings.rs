//! Where keepalived warns and falls back, the reader does the same and returns a warning
//! `FILE:LINE: warning: KEYWORD: what was done`; a keyword that has no effect here is
//! accepted with a warning saying why. Each case says what keepalived 2.2.7 printed for it
//! (`keepalived -t -f FILE -l -D -n --log-console`, as root; every one exits with status 5
//! when it prints something, 0 otherwise), for the later comparison of warning lines.

use std::time::Duration;

use ipvs::{Forward, Scheduler};
use ipvs_director::config::Config;
use ipvs_director::keepalived::{read_str_with_warnings, KeepalivedWarning, Reading};

/// A virtual server (line 1) with `vs` from line 2 (after `protocol TCP`, line 2), and one
/// real server on port `port` (its line follows `vs`) with `rs` in it and a TCP_CHECK.
fn vs(vs: &str, port: u16, rs: &str) -> String {
    format!(
        "virtual_server 192.0.2.10 80 {{\n    protocol TCP\n{vs}\n    real_server 198.51.100.11 {port} {{\n{rs}\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n}}\n"
    )
}

/// `vs()` with rr and NAT (lines 3, 4), `extra` from line 5.
fn nat(extra: &str, rs: &str) -> String {
    vs(&format!("    lb_algo rr\n    lb_kind NAT\n{extra}"), 80, rs)
}

/// A vrrp_instance (line 1) in state BACKUP with `body` from line 6.
fn vrrp(body: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority 100\n{body}\n    virtual_ipaddress {{\n        192.0.2.100/24\n    }}\n}}\n"
    )
}

/// A global_defs with `body` on line 2, and a virtual server.
fn global(body: &str) -> String {
    format!("global_defs {{\n{body}\n}}\n{}", nat("", ""))
}

/// Reads `conf`, which must be accepted.
fn read(conf: &str) -> Reading {
    match read_str_with_warnings(conf, "k.conf") {
        Ok(r) => r,
        Err(e) => panic!("refused:\n{e}\nfor:\n{conf}"),
    }
}

/// The one warning of `r` (there must be one), as shown.
fn one(r: &Reading) -> String {
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    r.warnings[0].to_string()
}

/// (config, line, keyword, a part of what was done).
fn cases() -> Vec<(String, usize, &'static str, &'static str)> {
    vec![
        // Braces keepalived reads on from (it exits with status 5 and runs): "(Line 1) Extra
        // '}' found", "(Line 1) Unknown keyword '}'"; "There are 1 missing '}'s or extra
        // '{'s" (a block not closed at the end, which it closes).
        (format!("}}\n{}", nat("", "")), 1, "}", "a '}' that closes no block: ignored, as keepalived ignores it"),
        (nat("", "").trim_end().trim_end_matches('}').to_owned(), 1, "virtual_server", "its block is not closed (missing '}'): closed at the end"),
        // "(Line 1) Unexpected '{' - ignoring": x is read at the top level.
        (format!("{{ colour }}\n{}", nat("", "")), 1, "{", "a '{' with no keyword before it: ignored"),
        // "(Line 1) Unknown keyword 'shade'", "(Line 1) Unexpected '{' - ignoring", "(Line 2)
        // Unknown keyword 'dark'", "(Line 3) Unknown keyword '}'".
        (format!("shade {{\n    dark 1\n}}\n{}", nat("", "")), 1, "shade", "unknown keyword at the top level; ignored, as keepalived ignores it: its '{' too"),
        (format!("shade {{\n    dark 1\n}}\n{}", nat("", "")), 2, "dark", "unknown keyword at the top level; ignored"),
        (format!("shade {{\n    dark 1\n}}\n{}", nat("", "")), 3, "}", "the end of an ignored block: ignored"),
        // "(k.conf: Line 1) Unknown keyword 'colour'"
        (format!("colour red\n{}", nat("", "")), 1, "colour", "unknown keyword at the top level; ignored"),
        // "(Line 2) Unknown keyword 'lvs_id'" (a keepalived 1.x keyword)
        (global("    lvs_id LVS_1"), 2, "lvs_id", "unknown keyword in global_defs; ignored"),
        // Accepted silently by keepalived (status 0); no effect here.
        (global("    vrrp_strict"), 2, "vrrp_strict", "accepted without effect: the director does not apply keepalived's strict RFC mode"),
        (global("    vrrp_skip_check_adv_addr"), 2, "vrrp_skip_check_adv_addr", "accepted without effect: the director checks"),
        (global("    vrrp_garp_master_delay 5"), 2, "vrrp_garp_master_delay", "5 more after 5 s"),
        (global("    enable_traps"), 2, "enable_traps", "no SNMP agent"),
        (global("    router_id LB1"), 2, "router_id", "accepted without effect: names this host in e-mail alerts"),
        // "(vs.conf: Line 5) Unknown keyword 'nat_mask'"
        (nat("    nat_mask 255.255.255.0", ""), 5, "nat_mask", "unknown keyword in virtual_server; ignored"),
        // "(vs.conf: Line 5) Unknown keyword 'nb_get_retry'"
        (nat("    nb_get_retry 3", ""), 5, "nb_get_retry", "unknown keyword in virtual_server; ignored"),
        // "(vs.conf: Line 7) Unknown keyword 'colour'"
        (nat("", "        colour red"), 7, "colour", "unknown keyword in real_server; ignored"),
        // "(vs.conf: Line 8) Unknown keyword 'nb_get_retry'" (inside TCP_CHECK)
        (
            nat("", "").replace("connect_timeout 3", "connect_timeout 3\n            nb_get_retry 3"),
            10,
            "nb_get_retry",
            "unknown keyword in TCP_CHECK; ignored",
        ),
        // "(vs.conf: Line 9) Unknown keyword 'colour'" (inside url)
        (
            nat("", "        HTTP_GET {\n            url {\n                path /\n                colour red\n            }\n        }"),
            10,
            "colour",
            "unknown keyword in url; ignored",
        ),
        // "Virtual server [192.0.2.10]:tcp:80: no scheduler set, setting default 'wlc'"
        (vs("    lb_kind NAT", 80, ""), 1, "virtual_server", "no scheduler (lvs_sched or lb_algo): wlc"),
        // "(vs.conf: Line 3) Invalid lvs_scheduler 'RR' - ignoring" (and the line above)
        (vs("    lb_algo RR\n    lb_kind NAT", 80, ""), 3, "lb_algo", "unknown scheduler \"RR\""),
        // "(vs.conf: Line 4) PARSER : unknown [nat] routing method for virtual server."
        (vs("    lb_algo rr\n    lb_kind nat", 80, ""), 4, "lb_kind", "unknown method \"nat\" (NAT, DR or TUN, in capitals): ignored"),
        // "Virtual server [192.0.2.10]:tcp:80: no forwarding method set, setting default NAT"
        (vs("    lb_algo rr", 80, ""), 1, "virtual_server", "no forwarding method (lvs_method or lb_kind), here or on every server: NAT"),
        // "(vs.conf: Line 5) number '0' outside range [1, 2678400]",
        // "(vs.conf: Line 5) persistence_timeout invalid"
        (nat("    persistence_timeout 0", ""), 5, "persistence_timeout", "\"0\" is not within 1..=2678400: ignored"),
        (nat("    persistence_timeout 2678401", ""), 5, "persistence_timeout", "not within 1..=2678400: ignored"),
        // "WARNING - virtual server [192.0.2.10]:tcp:80 and real server
        // [198.51.100.11]:tcp:8080 ports don't match - resetting"
        (vs("    lb_algo rr\n    lb_kind DR", 8080, ""), 5, "real_server", "port 8080 differs from the virtual port 80"),
        (vs("    lb_algo rr\n    lb_kind TUN", 8080, ""), 5, "real_server", "reset to 80, as keepalived does"),
        // "(v.conf: Line 8) Truncating auth_pass to 8 characters"
        (
            vrrp("    authentication {\n        auth_type PASS\n        auth_pass 123456789abc\n    }"),
            8,
            "auth_pass",
            "longer than 8 bytes: cut to its first 8, as keepalived does",
        ),
        // Status 0, nothing printed: keepalived ignores the argument.
        (vrrp("    nopreempt 1"), 6, "nopreempt", "the argument \"1\" is ignored and nopreempt is on"),
        // "(VI_1) Warning - nopreempt will not work with initial state MASTER - clearing"
        (vrrp("    nopreempt").replace("BACKUP", "MASTER"), 6, "nopreempt", "does not work with initial state MASTER: cleared"),
        // "(v.conf: Line 7) (VI_1) track script chk_x not found, ignoring..."
        (vrrp("    track_script {\n        chk_x\n    }"), 7, "chk_x", "no vrrp_script of this name: not tracked"),
        // "(v.conf: Line 7) (VI_1) track process p1 not found, ignoring..."
        (vrrp("    track_process {\n        p1\n    }"), 6, "track_process", "every process tracked is one keepalived does not find"),
        // Status 0, nothing printed; no effect here.
        (vrrp("    notify /bin/true"), 6, "notify", "not notify"),
        (vrrp("    notify_stop /bin/true"), 6, "notify_stop", "runs no script when it stops"),
        (vrrp("    mcast_src_ip 192.0.2.1"), 6, "mcast_src_ip", "accepted without effect"),
        (vrrp("    garp_master_delay 3"), 6, "garp_master_delay", "5 more after 5 s"),
        (vrrp("    use_vmac"), 6, "use_vmac", "creates no VMAC interface"),
        (vrrp("    debug 2"), 6, "debug", "accepted without effect"),
        (vrrp("    dont_track_primary"), 6, "dont_track_primary", "faults the instance when its interface goes down"),
        (vrrp("    virtual_ipaddress_excluded {\n        192.0.2.101/24\n    }"), 6, "virtual_ipaddress_excluded", "does not add these addresses"),
        (vrrp("    garp_master_refresh 60"), 6, "garp_master_refresh", "no refresh"),
        // "(v.conf: Line 6) Unknown keyword 'colour'"
        (vrrp("    colour red"), 6, "colour", "unknown keyword in vrrp_instance; ignored"),
        // Status 0, nothing printed: keepalived sets the broadcast address.
        (
            vrrp("").replace("192.0.2.100/24\n", "192.0.2.100/24 brd 192.0.2.255\n"),
            8,
            "192.0.2.100/24",
            "the address option brd: accepted without effect",
        ),
    ]
}

#[test]
fn each_warning_names_file_line_and_keyword() {
    let mut failures = Vec::new();
    for (conf, line, keyword, what) in cases() {
        let r = match read_str_with_warnings(&conf, "k.conf") {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("refused:\n{e}\nfor:\n{conf}"));
                continue;
            }
        };
        let prefix = format!("k.conf:{line}: warning: {keyword}: ");
        let found = r.warnings.iter().any(|w| {
            let text = w.to_string();
            text.starts_with(&prefix) && text.contains(what) && w.line == line && w.keyword == keyword
        });
        if !found {
            let got: Vec<String> = r.warnings.iter().map(KeepalivedWarning::to_string).collect();
            failures.push(format!("wanted {prefix}...{what}...\ngot:\n{}\nfor:\n{conf}", got.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases:\n\n{}", failures.len(), cases().len(), failures.join("\n\n"));
}

#[test]
fn a_file_keepalived_takes_silently_has_no_warning() {
    let r = read(&nat("", ""));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let r = read(&vrrp("    nopreempt\n    track_interface {\n        eth1\n    }"));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn an_unknown_keyword_changes_nothing() {
    let plain = read(&nat("", "")).config;
    for conf in [
        nat("    nat_mask 255.255.255.0", ""),
        nat("    nb_get_retry 3", "        nb_get_retry 3"),
        nat("", "").replace("connect_timeout 3", "connect_timeout 3\n            nb_get_retry 3"),
        format!("colour red\n{}", nat("", "")),
        global("    lvs_id LVS_1\n    vrrp_strict\n    nftables\n    max_auto_priority\n    vrrp_notify_fifo /tmp/f"),
    ] {
        let r = read(&conf);
        assert!(!r.warnings.is_empty(), "{conf}");
        assert_eq!(r.config, plain, "{conf}");
    }
    // nb_get_retry in a TCP_CHECK is not retry (HTTP_GET's is).
    let r = read(&nat("", "").replace("connect_timeout 3", "retry 2\n            nb_get_retry 3"));
    assert_eq!(r.config.virtual_servers[0].real_servers[0].checks[0].timing.retry, Some(2));
}

#[test]
fn virtual_server_fallbacks_are_keepalived_s() {
    let first = |c: Config| c.virtual_servers.into_iter().next().expect("a virtual server");
    // No scheduler, or an unknown one: wlc, said once per fallback.
    let v = first(read(&vs("    lb_kind NAT", 80, "")).config);
    assert_eq!(v.scheduler, Scheduler::Wlc);
    let r = read(&vs("    lb_algo RR\n    lb_kind NAT", 80, ""));
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    assert_eq!(first(r.config).scheduler, Scheduler::Wlc);
    // No method, or one in lower case: NAT.
    for conf in [vs("    lb_algo rr", 80, ""), vs("    lb_algo rr\n    lb_kind dr", 80, "")] {
        let v = first(read(&conf).config);
        assert_eq!(v.forward, Some(Forward::Masquerade), "{conf}");
    }
    // An unknown method on the virtual server, a method on every real server: theirs, and no
    // fallback (keepalived says only "unknown [nat] routing method").
    let r = read(&vs("    lb_algo rr\n    lb_kind nat", 80, "        lvs_method DR"));
    assert_eq!(one(&r), "k.conf:4: warning: lb_kind: unknown method \"nat\" (NAT, DR or TUN, in capitals): ignored, as keepalived ignores it");
    let v = first(r.config);
    assert_eq!((v.forward, v.real_servers[0].forward), (None, Some(Forward::DirectRoute)));
    // persistence_timeout 0: not persistent.
    assert_eq!(first(read(&nat("    persistence_timeout 0", "")).config).persistence, None);
}

#[test]
fn a_direct_routing_real_server_s_port_is_reset_and_its_check_keeps_it() {
    let r = read(&vs("    lb_algo rr\n    lb_kind DR", 8080, ""));
    assert_eq!(
        one(&r),
        "k.conf:5: warning: real_server: port 8080 differs from the virtual port 80, which direct routing and tunnelling keep: reset to 80, as keepalived does (its checks still connect to 8080)"
    );
    let rs = &r.config.virtual_servers[0].real_servers[0];
    assert_eq!((rs.port, rs.checks[0].connect.port), (Some(80), Some(8080)));
    // A check with its own port keeps it; NAT keeps the real server's port.
    let conf = vs("    lb_algo rr\n    lb_kind DR", 8080, "").replace("connect_timeout 3", "connect_port 9000");
    let rs = read(&conf).config.virtual_servers[0].real_servers[0].clone();
    assert_eq!((rs.port, rs.checks[0].connect.port), (Some(80), Some(9000)));
    let r = read(&vs("    lb_algo rr\n    lb_kind NAT", 8080, ""));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.config.virtual_servers[0].real_servers[0].port, Some(8080));
    // The real server's own method counts.
    let r = read(&vs("    lb_algo rr\n    lb_kind NAT", 8080, "        lvs_method TUN"));
    assert_eq!(r.config.virtual_servers[0].real_servers[0].port, Some(80));
}

#[test]
fn auth_pass_is_cut_to_8_bytes() {
    let r = read(&vrrp("    authentication {\n        auth_type PASS\n        auth_pass 123456789abc\n    }"));
    assert_eq!(one(&r), "k.conf:8: warning: auth_pass: longer than 8 bytes: cut to its first 8, as keepalived does");
    assert_eq!(r.config.vrrp_instances[0].auth_pass.as_deref(), Some("12345678"));
}

#[test]
fn nopreempt_takes_any_argument_and_clears_with_master() {
    for arg in ["1", "off"] {
        let r = read(&vrrp(&format!("    nopreempt {arg}")));
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.config.vrrp_instances[0].nopreempt, "{arg}");
    }
    let r = read(&vrrp("    nopreempt").replace("BACKUP", "MASTER"));
    assert_eq!(
        one(&r),
        "k.conf:6: warning: nopreempt: does not work with initial state MASTER: cleared, as keepalived does"
    );
    assert!(!r.config.vrrp_instances[0].nopreempt);
}

/// Scripts before (chk_a twice, lines 1 and 4) and after (chk_b, line 23) an instance that
/// tracks them in two blocks. keepalived 2.2.7 prints "(k.conf: Line 16) (VI_1) duplicate
/// track_script chk_a - ignoring" and "(k.conf: Line 17) (VI_1) track script chk_b not found,
/// ignoring..." (and, when it runs, "Warning - script chk_a is not used" for the second).
const SCRIPTS: &str = "vrrp_script chk_a {\n    script /bin/true\n}\nvrrp_script chk_a {\n    script /bin/false\n    interval 3\n}\n\
vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    track_script {\n        chk_a\n    }\n    track_script {\n        chk_a weight 5\n        chk_b\n    }\n    virtual_ipaddress {\n        192.0.2.100/24\n    }\n}\n\
vrrp_script chk_b {\n    script /bin/true\n}\n";

#[test]
fn tracked_scripts_are_found_as_keepalived_finds_them() {
    let r = read(SCRIPTS);
    let shown: Vec<String> = r.warnings.iter().map(KeepalivedWarning::to_string).collect();
    assert_eq!(
        shown,
        [
            "k.conf:4: warning: vrrp_script: a vrrp_script \"chk_a\" is already defined (line 1): this one is ignored, keepalived uses the first",
            "k.conf:16: warning: chk_a: tracked twice in this instance; this one ignored, as keepalived ignores it",
            "k.conf:17: warning: chk_b: the vrrp_script of this name comes later (line 23): not found when keepalived reads this instance, so not tracked, as in keepalived",
        ]
    );
    let c = r.config;
    let names: Vec<&str> = c.vrrp_scripts.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["chk_a", "chk_b"]);
    assert_eq!(c.vrrp_scripts[0].script.argv, ["/bin/true"]);
    assert_eq!(c.vrrp_scripts[0].interval, Duration::from_secs(1));
    let tracked: Vec<(&str, Option<i32>)> =
        c.vrrp_instances[0].track_scripts.iter().map(|t| (t.script.as_str(), t.weight)).collect();
    assert_eq!(tracked, [("chk_a", None)]);
}

#[test]
fn a_comment_that_is_not_utf8_is_taken() {
    // GBK ("主机" and more) in comments, as keepalived takes them (status 0).
    let mut bytes = b"! \xd6\xf7\xbb\xfa\xc5\xe4\xd6\xc3\n".to_vec();
    bytes.extend_from_slice(nat("", "").replace("lb_algo rr", "lb_algo rr # \u{1}").as_bytes());
    bytes.extend_from_slice(b"# \xb1\xb8\xd3\xc3 \xff\n");
    let dir = std::env::temp_dir().join(format!("ipvs-director-gbk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("k.conf");
    std::fs::write(&f, &bytes).unwrap();
    let r = ipvs_director::keepalived::read_file_with_warnings(&f);
    std::fs::remove_dir_all(&dir).unwrap();
    let r = r.unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.config, read(&nat("", "")).config);
}

#[test]
fn warnings_come_in_file_order_and_turn_into_errors() {
    let conf = format!("shade red\n{}colour red\n", vs("    lb_kind NAT\n    nat_mask 255.0.0.0", 80, ""));
    let r = read(&conf);
    let lines: Vec<usize> = r.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [1, 2, 5, 13], "{:?}", r.warnings);
    let e = r.warnings[0].clone().into_error();
    assert_eq!(
        e.to_string(),
        "k.conf:1: shade: unknown keyword at the top level; ignored, as keepalived ignores it (a warning: refused with --strict)"
    );
}

#[test]
fn an_unknown_top_level_block_is_read_as_top_level_statements() {
    // keepalived 2.2.7 on a global_defs misspelt `bal_defs` (two files of the corpus): every
    // statement of the block is an unknown top-level keyword, and a block known at the top
    // level inside it (here a vrrp_script) is read as such; it runs.
    let conf = format!(
        "bal_defs {{\n    router_id LVS_1\n    vrrp_script chk {{\n        script \"/bin/true\"\n    }}\n}}\n{}",
        vrrp("    track_script {\n        chk\n    }")
    );
    let r = read(&conf);
    let got: Vec<(usize, &str)> = r.warnings.iter().map(|w| (w.line, w.keyword.as_str())).collect();
    assert_eq!(got, [(1, "bal_defs"), (2, "router_id"), (6, "}")], "{:?}", r.warnings);
    assert_eq!(r.config.vrrp_scripts.len(), 1, "the vrrp_script inside is read");
}
