//! keepalived's defaults: what a setting left out comes to, from keepalived.conf and from
//! the native file alike (keepalived 2.2.7; the source of each is in `config::defaults`).

use std::time::Duration;

use ipvs::{Forward, Scheduler};
use ipvs_director::config::{defaults, CheckKind, Config, OnFailure, ResolvedCheck};
use ipvs_director::keepalived::read_str;

const ALL_KINDS: &str = r#"
virtual_server 192.0.2.10 80 {
    lb_algo wlc
    lb_kind NAT
    protocol TCP
    real_server 198.51.100.11 80 {
        TCP_CHECK {
        }
        HTTP_GET {
            url {
                path /
            }
        }
        SSL_GET {
            url {
                path /
            }
        }
        DNS_CHECK {
        }
        MISC_CHECK {
            misc_path /bin/true
        }
        SMTP_CHECK {
        }
    }
}
"#;

const ALL_KINDS_TOML: &str = r#"
[[virtual_servers]]
protocol = "tcp"
address = "192.0.2.10"
port = 80
forward = "nat"

[[virtual_servers.real_servers]]
address = "198.51.100.11"
port = 80

[[virtual_servers.real_servers.tcp_check]]
[[virtual_servers.real_servers.http_get]]
url = [{ path = "/" }]
[[virtual_servers.real_servers.ssl_get]]
url = [{ path = "/" }]
[[virtual_servers.real_servers.dns_check]]
[[virtual_servers.real_servers.misc_check]]
misc_path = "/bin/true"
[[virtual_servers.real_servers.smtp_check]]
"#;

fn resolved(c: &Config) -> Vec<ResolvedCheck> {
    c.virtual_servers[0].resolved_checks(&c.global).map(|(_, r)| r).collect()
}

fn check_defaults(c: &Config) {
    let s = Duration::from_secs;
    let vs = &c.virtual_servers[0];
    let rs = &vs.real_servers[0];
    assert_eq!(vs.scheduler, Scheduler::Wlc);
    assert_eq!(vs.forward_of(rs), Forward::Masquerade);
    assert_eq!(vs.weight_of(rs), 1);
    assert_eq!((vs.quorum, vs.hysteresis), (1, 0));
    assert_eq!(vs.on_failure_of(rs), OnFailure::Remove);
    assert!(!vs.alpha_of(rs) && !vs.omega);
    let all = resolved(c);
    let got: Vec<(&str, u32, Duration, Duration, Duration, Duration)> = all
        .iter()
        .map(|r| (r.kind.key(), r.retry, r.delay_loop, r.connect_timeout, r.delay_before_retry, r.warmup))
        .collect();
    assert_eq!(
        got,
        [
            // kind, retry, delay_loop, connect_timeout, delay_before_retry, warmup
            ("tcp_check", 1, s(60), s(5), s(1), s(60)),
            ("http_get", 1, s(60), s(5), s(3), s(60)),
            ("ssl_get", 1, s(60), s(5), s(3), s(60)),
            ("dns_check", 3, s(60), s(5), s(60), s(60)),
            // MISC: connect_timeout is the command's timeout, the VS's delay_loop.
            ("misc_check", 0, s(60), s(60), s(1), s(60)),
            ("smtp_check", 1, s(60), s(5), s(1), s(60)),
        ]
    );
    for r in &all {
        assert!(!r.alpha && !r.log_all_failures);
        if r.kind.connects() {
            assert_eq!(r.target.unwrap().to_string(), "198.51.100.11:80");
        }
    }
    match &all[1].kind {
        CheckKind::Http(h) => {
            assert!(h.urls[0].status_codes.contains(200) && h.urls[0].status_codes.contains(299));
            assert!(!h.urls[0].status_codes.contains(300) && !h.urls[0].status_codes.contains(199));
            assert_eq!(h.protocol.name(), "1.0");
            assert!(!h.enable_sni && !h.fast_recovery);
        }
        other => panic!("{other:?}"),
    }
    match &all[3].kind {
        CheckKind::Dns(d) => assert_eq!((d.query_type.name(), d.name.as_str()), ("SOA", ".")),
        other => panic!("{other:?}"),
    }
    match &all[5].kind {
        CheckKind::Smtp(m) => assert_eq!(m.helo(), "smtpchecker.keepalived.org"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn keepalived_conf_defaults() {
    check_defaults(&read_str(ALL_KINDS, "k.conf").unwrap());
}

#[test]
fn native_defaults_are_the_same() {
    let native = Config::from_toml(ALL_KINDS_TOML).unwrap();
    check_defaults(&native);
    // Without `forward`, the same (NAT is the default).
    let mut implicit = Config::from_toml(&ALL_KINDS_TOML.replace("forward = \"nat\"\n", "")).unwrap();
    check_defaults(&implicit);
    implicit.virtual_servers[0].forward = Some(Forward::Masquerade);
    assert_eq!(native, implicit);
    assert_eq!(native, read_str(ALL_KINDS, "k.conf").unwrap());
}

#[test]
fn defaults_constants() {
    assert_eq!(defaults::DELAY_LOOP, Duration::from_secs(60));
    assert_eq!(defaults::CONNECT_TIMEOUT, Duration::from_secs(5));
    assert_eq!((defaults::RETRY, defaults::DNS_RETRY, defaults::MISC_RETRY), (1, 3, 0));
    assert_eq!(defaults::WEIGHT, 1);
    assert_eq!(defaults::PERSISTENCE_TIMEOUT, 360);
    assert_eq!(defaults::MAX_PERSISTENCE_TIMEOUT, 2_678_400);
    assert_eq!((defaults::VRRP_PRIORITY, defaults::VRRP_OWNER_PRIORITY, defaults::VRRP_VERSION), (100, 255, 2));
}

#[test]
fn persistence_defaults() {
    let conf = |extra: &str| {
        format!("virtual_server 192.0.2.10 80 {{\n lb_algo rr\n lb_kind NAT\n protocol TCP\n{extra}\n real_server 198.51.100.11 80 {{\n }}\n}}\n")
    };
    let timeout = |extra: &str| {
        let c = read_str(&conf(extra), "k.conf").unwrap();
        let vs = &c.virtual_servers[0];
        vs.services(&c.virtual_server_groups)[0].persistence_timeout()
    };
    assert_eq!(timeout(""), None);
    assert_eq!(timeout(" persistence_timeout"), Some(360));
    assert_eq!(timeout(" persistence_granularity 255.255.255.0"), Some(360));
    assert_eq!(timeout(" persistence_granularity 255.255.255.0\n persistence_timeout 50"), Some(50));
    assert_eq!(timeout(" persistence_timeout 50\n persistence_granularity 255.255.255.0"), Some(50));
}

#[test]
fn inheritance_virtual_server_then_real_server_then_checker() {
    let conf = r#"
virtual_server 192.0.2.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    delay_loop 30
    connect_timeout 7
    retry 4
    delay_before_retry 9
    warmup 2
    alpha
    real_server 198.51.100.11 80 {
        retry 5
        delay_loop 20
        TCP_CHECK {
            connect_timeout 1
        }
        DNS_CHECK {
            warmup 0
            alpha off
        }
    }
    real_server 198.51.100.12 80 {
        HTTP_GET {
            url {
                path /
            }
            delay_loop 3
        }
    }
}
"#;
    let c = read_str(conf, "k.conf").unwrap();
    let s = Duration::from_secs;
    let got: Vec<(u32, Duration, Duration, Duration, Duration, bool)> = resolved(&c)
        .iter()
        .map(|r| (r.retry, r.delay_loop, r.connect_timeout, r.delay_before_retry, r.warmup, r.alpha))
        .collect();
    assert_eq!(
        got,
        [(5, s(20), s(1), s(9), s(2), true), (5, s(20), s(7), s(9), s(0), false), (4, s(3), s(7), s(9), s(2), true),]
    );
}
