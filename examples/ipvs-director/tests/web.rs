//! `/status` and `/metrics` of the daemon, fetched over HTTP from its `listen` address on
//! 127.0.0.1: the in-memory kernel, one real server up and one down (TCP checks against
//! loopback), one reload and one refused reload. `/status` has the fields docs/director.md
//! ("Watching it") lists, with values that match what happened, and an empty `vrrp` list when
//! no VRRP instance is configured; `/metrics` has every `ipvs_director_*` family it lists (and
//! none of the VRRP ones), next to the exporter's families of the table.

mod common;

use std::net::TcpListener;

use common::{server, Daemon, VS};
use serde_json::Value;

/// The `ipvs_director_*` families docs/director.md lists (counters with OpenMetrics' `_total`).
const FAMILIES: [(&str, &str); 12] = [
    ("ipvs_director_real_server_up", "gauge"),
    ("ipvs_director_check_up", "gauge"),
    ("ipvs_director_check_latency_seconds", "gauge"),
    ("ipvs_director_check_attempts", "counter"),
    ("ipvs_director_check_failures", "counter"),
    ("ipvs_director_quorum_up", "gauge"),
    ("ipvs_director_applies", "counter"),
    ("ipvs_director_writes", "counter"),
    ("ipvs_director_apply_failures", "counter"),
    ("ipvs_director_reloads", "counter"),
    ("ipvs_director_reload_errors", "counter"),
    ("ipvs_director_probes", "counter"),
];

/// The value of the sample `series` (name and labels exactly as printed; a series without
/// labels may be printed with an empty set, `name{}`, which OpenMetrics allows).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?;
        let rest = if series.ends_with('}') { rest } else { rest.strip_prefix("{}").unwrap_or(rest) };
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

#[test]
fn status_and_metrics_show_servers_checks_and_counters() {
    let up = TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = up.local_addr().unwrap().port();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = format!(
        "{VS}quorum = 2\n{}{}",
        server("198.51.100.11", up_port, "weight = 2"),
        server("198.51.100.12", closed, "weight = 3")
    );
    let d = Daemon::start_listening("status", &config);
    // .12 fails its first check and leaves; .11 passes.
    let checked = |s: &Value| {
        let rs = &s["virtual_servers"][0]["real_servers"];
        rs[0]["checks"][0]["attempts"].as_u64() >= Some(2) && rs[1]["checks"][0]["attempts"].as_u64() >= Some(2)
    };
    d.status_until("two attempts of each check", checked);
    assert_eq!(d.rules(), "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 2\n");

    // One reload (the same file) and one refused (a file that does not validate).
    d.reload();
    d.status_until("the reload", |s| s["reloads"] == 1);
    std::fs::write(d.file.path(), "[[virtual_servers]]\nprotocol = \"tcp\"\n").unwrap();
    d.reload();
    let s = d.status_until("the refused reload", |s| s["reload_errors"] == 1);

    // The document as docs/director.md describes it.
    assert_eq!(s["configuration"]["native"], d.file.path().display().to_string());
    for counter in ["applies", "writes", "apply_failures", "reloads", "reload_errors", "probes"] {
        assert!(s[counter].is_u64(), "{counter}: {s:#}");
    }
    assert!(s["applies"].as_u64() >= Some(2), "the start and the removal of .12");
    // Service, .11 and .12 added, .12 deleted; the reload of the same file wrote nothing.
    assert_eq!(s["writes"], 4);
    assert_eq!(s["apply_failures"], 0);
    assert_eq!(s["vrrp"], Value::Array(vec![]), "no VRRP instance: an empty list");
    let vss = s["virtual_servers"].as_array().unwrap();
    assert_eq!(vss.len(), 1);
    let vs = &vss[0];
    assert_eq!(vs["virtual_server"], "[192.0.2.10]:tcp:80"); // keepalived's FMT_VS
    assert!(vs["services"].as_array().is_some_and(|a| a.len() == 1 && a[0].is_string()), "{vs:#}");
    assert_eq!(vs["quorum"], 2);
    assert_eq!(vs["quorum_up"], true);
    assert_eq!(vs["live_weight"], 2);
    assert_eq!(vs["sorry_server"], Value::Null);
    let rs = vs["real_servers"].as_array().unwrap();
    assert_eq!(rs.len(), 2);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    for (r, (address, weight, alive)) in rs.iter().zip([("198.51.100.11", 2, true), ("198.51.100.12", 3, false)]) {
        assert_eq!(r["address"], address);
        assert_eq!(r["port"], 80);
        assert_eq!(r["weight"], weight);
        assert_eq!(r["alive"], alive, "{r:#}");
        let since = r["since"].as_f64().unwrap();
        assert!(since > now - 60.0 && since <= now + 1.0, "since is a Unix time: {since}");
        let checks = r["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 1);
        let c = &checks[0];
        assert_eq!(c["kind"], "tcp_check");
        assert_eq!(c["up"], alive);
        assert!(c["since"].as_f64().is_some_and(|t| t > now - 60.0));
        let attempts = c["attempts"].as_u64().unwrap();
        let failures = c["failures"].as_u64().unwrap();
        let last = &c["last"];
        assert!(last["at"].as_f64().is_some_and(|t| t > now - 60.0));
        assert!(last["latency_seconds"].as_f64().is_some_and(|l| (0.0..1.0).contains(&l)), "{last:#}");
        if alive {
            assert_eq!(failures, 0);
            assert_eq!((&last["ok"], &last["error"]), (&Value::Bool(true), &Value::Null));
            assert_eq!(last["error_kind"], Value::Null);
            assert_eq!(c["failures_by_kind"], serde_json::json!({}));
        } else {
            assert_eq!(failures, attempts, "every attempt of the closed port failed");
            assert_eq!(last["ok"], false);
            assert!(last["error"].as_str().is_some_and(|e| e.contains("refused")), "{last:#}");
            assert_eq!(last["error_kind"], "refused", "{last:#}");
            assert_eq!(c["failures_by_kind"], serde_json::json!({ "refused": failures }), "{c:#}");
        }
    }
    assert_eq!(rs[0]["checks"][0]["target"], format!("127.0.0.1:{up_port}"));
    assert_eq!(rs[1]["checks"][0]["target"], format!("127.0.0.1:{closed}"));

    // /metrics: OpenMetrics, the director's families and the exporter's.
    let (code, ct, m) = d.get("/metrics");
    check_metrics(code, &ct, &m);

    // The index links both; anything else is not found.
    let (code, _, index) = d.get("/");
    assert!(code == 200 && index.contains("/status") && index.contains("/metrics"));
    assert_eq!(d.get("/nothing").0, 404);
    drop(up);
}

/// The director's /metrics after the test's run: OpenMetrics, the director's families and the
/// exporter's, with the values of the run.
fn check_metrics(code: u16, ct: &str, m: &str) {
    let m = m.to_owned();
    assert_eq!(code, 200);
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    assert!(m.trim_end().ends_with("# EOF"), "{m}");
    for (name, kind) in FAMILIES {
        assert!(m.contains(&format!("\n# TYPE {name} {kind}\n")), "no {kind} {name} in:\n{m}");
    }
    assert!(!m.contains("ipvs_director_vrrp_"), "no VRRP instance, no VRRP family:\n{m}");
    for family in ["ipvs_up", "ipvs_services", "ipvs_destinations", "ipvs_destination_weight"] {
        assert!(m.contains(&format!("\n# TYPE {family} ")), "no {family} in:\n{m}");
    }
    let vs = "virtual_server=\"[192.0.2.10]:tcp:80\"";
    let a = format!("{vs},real_server=\"198.51.100.11:80\"");
    let b = format!("{vs},real_server=\"198.51.100.12:80\"");
    assert_eq!(sample(&m, &format!("ipvs_director_real_server_up{{{a}}}")), Some(1.0), "{m}");
    assert_eq!(sample(&m, &format!("ipvs_director_real_server_up{{{b}}}")), Some(0.0), "{m}");
    assert_eq!(sample(&m, &format!("ipvs_director_check_up{{{a},check=\"tcp_check#0\"}}")), Some(1.0), "{m}");
    assert_eq!(sample(&m, &format!("ipvs_director_check_up{{{b},check=\"tcp_check#0\"}}")), Some(0.0), "{m}");
    let attempts = sample(&m, &format!("ipvs_director_check_attempts_total{{{b},check=\"tcp_check#0\"}}")).unwrap();
    // Failures by kind: the closed port's are all refusals; the open one has none of any kind.
    let failures = |rs: &str| {
        let series = format!("ipvs_director_check_failures_total{{{rs},check=\"tcp_check#0\",kind=\"");
        let values = m.lines().filter(|l| l.starts_with(&series)).map(|l| l.rsplit(' ').next().unwrap().parse::<f64>());
        values.map(Result::unwrap).sum::<f64>()
    };
    let refused =
        sample(&m, &format!("ipvs_director_check_failures_total{{{b},check=\"tcp_check#0\",kind=\"refused\"}}"));
    assert!(attempts >= 2.0 && failures(&b) == attempts && refused == Some(attempts), "{m}");
    assert_eq!(failures(&a), 0.0, "{m}");
    assert!(sample(&m, &format!("ipvs_director_check_latency_seconds{{{a},check=\"tcp_check#0\"}}")).is_some());
    assert_eq!(sample(&m, &format!("ipvs_director_quorum_up{{{vs}}}")), Some(1.0), "{m}");
    assert_eq!(sample(&m, "ipvs_director_writes_total"), Some(4.0), "{m}");
    assert_eq!(sample(&m, "ipvs_director_reloads_total"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "ipvs_director_reload_errors_total"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "ipvs_director_apply_failures_total"), Some(0.0), "{m}");
    assert!(sample(&m, "ipvs_director_applies_total").is_some_and(|n| n >= 2.0), "{m}");
    assert_eq!(sample(&m, "ipvs_services"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "ipvs_destinations"), Some(1.0), "{m}");
}
