//! Every statement outside the supported subset that keepalived does not simply warn about
//! and ignore is an error `FILE:LINE: KEYWORD: why` (keepalived's warnings and fallbacks:
//! tests/keepalived_warnings.rs).

use ipvs_director::keepalived::{read_file, read_str};

/// A virtual server around `body` (lines 1-4 are its header and settings; `body` starts at
/// line 5).
fn vs(body: &str) -> String {
    format!("virtual_server 192.0.2.10 80 {{\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n{body}\n}}\n")
}

/// A real server (line 5) with `body` from line 6, in a virtual server.
fn rs(body: &str) -> String {
    vs(&format!("    real_server 198.51.100.11 80 {{\n{body}\n    }}"))
}

/// A vrrp_instance with `body` from line 2.
fn vrrp(body: &str) -> String {
    format!("vrrp_instance VI_1 {{\n{body}\n}}\n")
}

const VRRP_OK: &str =
    "    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.100/24\n    }";

/// (config, line, keyword, a part of the reason).
fn cases() -> Vec<(String, usize, &'static str, &'static str)> {
    let tcp = "        TCP_CHECK {\n        }";
    vec![
        // Top level and global_defs.
        ("SSL {\n    ca /etc/ca.pem\n}\n".into(), 1, "SSL", "not supported by ipvs-director"),
        ("static_ipaddress {\n    192.0.2.1/24 dev eth0\n}\n".into(), 1, "static_ipaddress", "not supported"),
        ("global_defs {\n    lvs_flush\n}\n".into(), 2, "lvs_flush", "not supported by ipvs-director"),
        // keepalived 2.2.7 knows these (and acts on them): refused, not ignored as unknown.
        (vrrp(&format!("{VRRP_OK}\n    unicast_ttl 1")), 7, "unicast_ttl", "not supported by ipvs-director (keepalived knows it)"),
        // An unknown keyword with a block in a block (keepalived would read the block's
        // statements as the enclosing block's, and end that block at its '}').
        (rs("        colour {\n        }"), 6, "colour", "unknown keyword in real_server: refused: it has a block"),
        (vrrp(&format!("{VRRP_OK}\n    native_ipv6")), 7, "native_ipv6", "not supported by ipvs-director"),
        (vrrp(&format!("{VRRP_OK}\n    authentication {{\n        auth_type PASS\n        auth_pass 1234567\u{e9}\n    }}")), 9, "auth_pass", "would split a character"),
        ("global_defs {\n    script_user\n}\n".into(), 2, "script_user", "takes 1 to 2 arguments, not 0"),
        ("global_defs {\n    lvs_timeouts tcp 0\n}\n".into(), 2, "lvs_timeouts", "0 is not within 1..="),
        ("global_defs {\n    lvs_timeouts tcp 10 fin 2\n}\n".into(), 2, "lvs_timeouts", "unknown timeout \"fin\""),
        ("global_defs {\n    vrrp_version 4\n}\n".into(), 2, "vrrp_version", "4 is not within 2..=3"),
        ("global_defs {\n}\nglobal_defs {\n}\n".into(), 3, "global_defs", "given twice (first at line 1)"),
        // keepalived's preprocessor and lexical problems.
        ("~SEQ(N,1,0,3) x\n".into(), 1, "~SEQ(N,1,0,3)", "Invalid ~SEQ values"),
        ("${_RANDOM 1 9} x\n".into(), 1, "${_RANDOM", "keepalived 2.2.7 garbles"),
        ("~LST(v) x\n".into(), 1, "~LST(v)", "Invalid ~LST specification"),
        ("router_id \"x\n".into(), 1, "router_id", "a quote is not closed"),
        ("includem /nonexistent/keepalived/x.conf\n".into(), 1, "includem", "no file"),
        ("includea /nonexistent/keepalived/*.conf\n".into(), 1, "includea", "no file /nonexistent/keepalived/*.conf"),
        // What keepalived reports as configuration errors before falling back.
        (vs(""), 1, "virtual_server", "real_servers: a virtual server needs at least one real server"),
        (vs("    quorum 5\n    real_server 198.51.100.11 80 {\n        weight 2\n    }"), 5, "quorum", "exceeds the real servers' total weight (2)"),
        (vs("    quorum 2\n    hysteresis 2\n    real_server 198.51.100.11 80 {\n        weight 2\n    }"), 6, "hysteresis", "must be less than quorum (2)"),
        ("virtual_server 192.0.2.10 0 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 198.51.100.11 80 {\n    }\n}\n".into(), 1, "virtual_server", "port 0 is only allowed for a persistent service"),
        ("virtual_server fwmark 0 {\n    lb_algo rr\n    lb_kind NAT\n    real_server 198.51.100.11 80 {\n    }\n}\n".into(), 1, "virtual_server", "non-zero mark"),
        ("virtual_server group web {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 198.51.100.11 80 {\n    }\n}\n".into(), 1, "virtual_server", "no virtual_server_groups entry has this name"),
        ("virtual_server_group web {\n    192.0.2.1/30 80\n}\n".into(), 2, "192.0.2.1/30", "bits set past the mask"),
        ("virtual_server_group web {\n    fwmark 5 ipv9\n}\n".into(), 2, "fwmark", "unknown family \"ipv9\""),
        ("virtual_server_group web {\n}\n".into(), 1, "virtual_server_group", "entries: a group needs at least one entry"),
        // virtual_server keywords.
        (vs("    lb_algo xyz"), 5, "lb_algo", "given twice in this block (first at line 2)"),
        ("virtual_server 192.0.2.10 80 {\n    lb_kind TUN type gue\n}\n".into(), 2, "lb_kind", "a gue tunnel needs a port"),
        ("virtual_server 192.0.2.10 80 {\n    lb_kind TUN port 6080\n}\n".into(), 2, "lb_kind", "a gue tunnel needs a port, and only gue takes one"),
        ("virtual_server 192.0.2.10 80 {\n    lb_kind TUN type ipip csum\n}\n".into(), 2, "lb_kind", "no checksum option"),
        ("virtual_server 192.0.2.10 80 {\n    lb_kind TUN type gre remcsum\n}\n".into(), 2, "lb_kind", "no remote checksum offload"),
        ("virtual_server 192.0.2.10 80 {\n    lb_kind DR csum\n}\n".into(), 2, "lb_kind", "NAT and DR take no options"),
        (vs("    hashed"), 5, "hashed", "the kernel's own mark"),
        ("virtual_server 192.0.2.10 80 {\n    sh-port\n}\n".into(), 2, "sh-port", "must follow lvs_sched sh"),
        (vs("    sh-port"), 5, "sh-port", "a flag of the sh scheduler, not of rr"),
        (vs("    ops\n    real_server 198.51.100.11 80 {\n    }"), 5, "ops", "one-packet scheduling is only for UDP services"),
        (vs("    retry 0"), 5, "retry", "0 is not within 1..=4294967295"),
        (vs("    delay_loop 0"), 5, "delay_loop", "0 s is not within 0.000001"),
        (vs("    connect_timeout 5000"), 5, "connect_timeout", "is not within 0.000001..=4294.967295 s"),
        (vs("    delay_before_retry 1.0000001"), 5, "delay_before_retry", "up to 6 decimal places"),
        (vs("    persistence_granularity 64"), 5, "persistence_granularity", "\"64\" is not an IPv4 netmask"),
        (vs("    persistence_engine a-name-longer-than-15"), 5, "persistence_engine", "longer than 15 bytes"),
        (vs("    weight 0"), 5, "weight", "0 is not within 1..=2147483647"),
        (vs("    protocol ICMP"), 5, "protocol", "given twice"),
        ("virtual_server 192.0.2.10 80 {\n    protocol ICMP\n}\n".into(), 2, "protocol", "unknown protocol \"ICMP\""),
        (vs("    sorry_server_inhibit"), 5, "sorry_server_inhibit", "must follow sorry_server"),
        (vs("    sorry_server_lvs_method DR"), 5, "sorry_server_lvs_method", "must follow sorry_server"),
        (vs("    sorry_server 203.0.113.5 8080\n    sorry_server_lvs_method DR\n    real_server 198.51.100.11 80 {\n    }"), 5, "sorry_server", "port 8080: differs from the virtual port 80"),
        (vs("    quorum_up"), 5, "quorum_up", "takes a command"),
        (vs("    snmp_name web"), 5, "snmp_name", "not supported by ipvs-director"),
        (vs("    ha_suspend\n    real_server 198.51.100.11 80 {\n    }").replace("192.0.2.10 80", "fwmark 3").replace("    protocol TCP\n", ""), 4, "ha_suspend", "not for a firewall-mark service"),
        (vs("    virtualhost"), 5, "virtualhost", "takes 1 argument, not 0"),
        (vs("    real_server 198.51.100.11 80 {\n    }\n    real_server 198.51.100.11 80 {\n    }"), 7, "real_server", "the same real server as real_servers[0]"),
        (vs("    real_server 2001:db8::11 80 {\n    }"), 5, "real_server", "an IPv6 destination of an IPv4 service needs tunnel forwarding"),
        // real_server keywords.
        (rs("        lb_kind NAT"), 6, "lb_kind", "a real server takes lvs_method"),
        (rs("        retry 0"), 6, "retry", "0 is not within 1..="),
        (rs("        uthreshold 10\n        lthreshold 20"), 7, "lthreshold", "must not exceed the upper threshold (10)"),
        (rs("        UDP_CHECK {\n        }"), 6, "UDP_CHECK", "not supported by ipvs-director"),
        (rs("        PING_CHECK {\n        }"), 6, "PING_CHECK", "not supported"),
        (rs("        FILE_CHECK {\n        }"), 6, "FILE_CHECK", "not supported"),
        (rs("        BFD_CHECK {\n        }"), 6, "BFD_CHECK", "not supported"),
        (rs("        notify_up \"/bin/a 'b\""), 6, "notify_up", "cannot split the command"),
        // Checkers.
        (rs("        TCP_CHECK {\n            connect_port 0\n        }"), 7, "connect_port", "0 is not within 1..=65535"),
        (rs("        TCP_CHECK {\n            retry 1\n            retry 2\n        }"), 8, "retry", "given twice"),
        (rs("        TCP_CHECK {\n            bind_if an-interface-name-too-long\n        }"), 7, "bind_if", "not an interface name"),
        (rs("        TCP_CHECK {\n            connect_ip fe80::1\n        }"), 6, "TCP_CHECK", "bind_if: a link-local address (fe80::1) needs bind_if"),
        (rs("        HTTP_GET {\n        }"), 6, "HTTP_GET", "needs a url block"),
        (rs("        HTTP_GET {\n            url {\n                digest d41d8cd98f00b204e9800998ecf8427e\n            }\n        }"), 7, "url", "needs a path"),
        (rs("        HTTP_GET {\n            url {\n                path /\n                regex ^OK\n            }\n        }"), 9, "regex", "regular expression checks are not supported"),
        (rs("        HTTP_GET {\n            url {\n                path /\n                digest 12345\n            }\n        }"), 9, "digest", "must be 32 hexadecimal digits"),
        (rs("        HTTP_GET {\n            url {\n                path /\n                status_code 99\n            }\n        }"), 9, "status_code", "not within 100-599"),
        (rs("        HTTP_GET {\n            url {\n                path /\n            }\n            http_protocol 2.0\n        }"), 10, "http_protocol", "unknown HTTP protocol \"2.0\""),
        (rs("        HTTP_GET {\n            url {\n                path /\n            }\n            enable_sni\n        }"), 10, "enable_sni", "SNI is only for ssl_get"),
        (rs("        DNS_CHECK {\n            type PTR\n        }"), 7, "type", "unknown DNS type \"PTR\""),
        (rs("        DNS_CHECK {\n            name a..b\n        }"), 7, "name", "empty label"),
        (rs("        MISC_CHECK {\n        }"), 6, "MISC_CHECK", "needs misc_path"),
        (rs("        MISC_CHECK {\n            misc_path /bin/check arg\n        }"), 7, "misc_path", "quote it if it has arguments"),
        (rs("        MISC_CHECK {\n            misc_path /bin/check\n            connect_port 80\n        }"), 8, "connect_port", "MISC_CHECK does not connect anywhere"),
        (rs("        SMTP_CHECK {\n            host {\n            }\n        }"), 7, "host", "deprecated host block"),
        (vs(&format!("    real_server 198.51.100.11 {{\n{tcp}\n    }}")), 6, "TCP_CHECK", "would connect to port 0"),
        // VRRP.
        (vrrp("    interface eth0"), 1, "vrrp_instance", "needs virtual_router_id"),
        (vrrp("    virtual_router_id 0"), 2, "virtual_router_id", "0 is not within 1..=255"),
        (vrrp(&format!("{VRRP_OK}\n    advert_int 0")), 7, "advert_int", "is not within 0.01..=255"),
        (vrrp(&format!("{VRRP_OK}\n    advert_int 1.5")), 7, "advert_int", "VRRP version 2 needs whole seconds"),
        (vrrp(&format!("{VRRP_OK}\n    authentication {{\n        auth_type AH\n        auth_pass x\n    }}")), 8, "auth_type", "AH authentication is not supported"),
        (vrrp(&format!("{VRRP_OK}\n    version 3\n    authentication {{\n        auth_type PASS\n        auth_pass abc\n    }}")), 8, "authentication", "only for VRRP version 2"),
        (vrrp(&format!("{VRRP_OK}\n    track_interface {{\n        eth1 weight 300\n    }}")), 8, "eth1", "not a number within -253..=253"),
        (vrrp("    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.100/24 scope global\n    }"), 5, "192.0.2.100/24", "the address option \"scope\" is not supported"),
        (vrrp("    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        2001:db8::100/64\n    }\n    version 2"), 5, "2001:db8::100/64", "VRRP version 2 is for IPv4 only"),
        ("vrrp_script chk {\n    interval 2\n}\n".into(), 1, "vrrp_script", "needs script"),
        ("vrrp_script chk {\n    script /bin/true\n    weight 300\n}\n".into(), 3, "weight", "not a number within -253..=253"),
        ("vrrp_sync_group G {\n    track_script {\n    }\n}\n".into(), 2, "track_script", "not supported by ipvs-director"),
    ]
}

#[test]
fn every_refusal_names_file_line_and_keyword() {
    let mut failures = Vec::new();
    for (conf, line, keyword, why) in cases() {
        let errors = match read_str(&conf, "k.conf") {
            Ok(_) => {
                failures.push(format!("accepted:\n{conf}"));
                continue;
            }
            Err(e) => e,
        };
        let prefix = format!("k.conf:{line}: {keyword}: ");
        let found = errors.0.iter().any(|e| {
            let text = e.to_string();
            text.starts_with(&prefix) && text.contains(why) && e.line == line && e.keyword == keyword
        });
        if !found {
            failures.push(format!("wanted {prefix}...{why}...\ngot:\n{errors}\nfor:\n{conf}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases:\n\n{}", failures.len(), cases().len(), failures.join("\n\n"));
}

#[test]
fn errors_in_includes_name_the_included_file() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keepalived/bad");
    let e = read_file(format!("{dir}/main.conf")).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].to_string(), format!("{dir}/servers.inc:7: PING_CHECK: not supported by ipvs-director"));
}

#[test]
fn every_error_is_reported_in_file_order() {
    let conf =
        "static_routes\nvirtual_server 192.0.2.10 80 {\n    weight xx\n    quorum yy\n    protocol zz\n}\nstatic_rules\n";
    let e = read_str(conf, "k.conf").unwrap_err();
    let lines: Vec<usize> = e.0.iter().map(|x| x.line).collect();
    assert_eq!(lines, [1, 3, 4, 5, 7], "{e}");
}

#[test]
fn a_missing_main_file_is_an_error_naming_it() {
    let e = read_file("/nonexistent/keepalived.conf").unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/keepalived.conf: cannot read /nonexistent/keepalived.conf"), "{e}");
}

#[test]
fn ignored_global_defs_and_smtp_alert_are_accepted() {
    let conf = "global_defs {\n    router_id X\n    notification_email {\n        a@example.org\n    }\n    notification_email_from b@example.org\n    smtp_server 192.0.2.25\n    smtp_connect_timeout 30\n    smtp_alert\n}\n";
    let c = read_str(&format!("{conf}{}", rs("        smtp_alert off")), "k.conf").unwrap();
    assert_eq!(c.virtual_servers.len(), 1);
    assert!(c.global.is_default());
    // An ignored keyword is still checked: a bad boolean is ignored with a warning, as
    // keepalived 2.2.7 ignores it ("Invalid virtual_server smtp_alert parameter maybe").
    let r = ipvs_director::keepalived::read_str_with_warnings(&rs("        smtp_alert maybe"), "k.conf").unwrap();
    let w: Vec<String> = r.warnings.iter().map(ToString::to_string).collect();
    assert!(w.iter().any(|w| w.starts_with("k.conf:6: warning: smtp_alert: \"maybe\" is not on, off")), "{w:?}");
}
