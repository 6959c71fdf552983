//! The director's page from fixed states: its structure (rows with their states, sections,
//! the VRRP table, the refresh without JavaScript, the filter box, the JSON link), escaping,
//! the recent rates, odd documents, and the size of a page of 2,000 real servers.

use std::sync::Arc;

use ipvs::state::Table;
use ipvs::{Destination, DestinationStatus, Forward, Scheduler, Service, ServiceId, ServiceStatus, Stats};
use ipvs_exporter::page::{rows, EVERY_SECONDS};
use serde_json::{json, Value};

use super::*;

const AT: f64 = 1_700_000_000.0;

/// A real server of the `/status` document.
fn rs(address: &str, alive: bool, error_kind: Option<&str>) -> Value {
    json!({
        "address": address, "port": 80, "weight": 1, "alive": alive, "since": AT - 125.0,
        "checks": [{
            "kind": "tcp_check", "target": "127.0.0.1:8080", "up": alive, "since": AT - 125.0,
            "attempts": 3, "failures": 0, "failures_by_kind": {},
            "last": {"at": AT - 2.0, "ok": alive, "error": error_kind.map(|k| format!("connect: {k} <b>")),
                     "error_kind": error_kind, "latency_seconds": 0.001},
        }],
    })
}

/// A destination of the kernel's table.
fn dest(address: &str, weight: u32, active: u32, cps: u64) -> DestinationStatus {
    let addr = std::net::SocketAddr::new(address.parse().unwrap(), 80);
    let d = Destination::new(addr, Forward::Masquerade).with_weight(weight);
    DestinationStatus { active_conns: active, stats: Stats { cps, ..Stats::default() }, ..DestinationStatus::idle(d) }
}

fn service(address: &str) -> ServiceStatus {
    ServiceStatus {
        service: Service::new(ServiceId::tcp(address.parse().unwrap(), 80), Scheduler::Wrr),
        stats: Stats::default(),
    }
}

/// One virtual server with a server in each state, one whose quorum is lost (sorry server in),
/// one VRRP instance; the table to match.
fn fixed() -> (Value, Snapshot) {
    let status = json!({
        "configuration": {"native": "/etc/ipvs-director.toml"},
        "applies": 3, "writes": 7, "apply_failures": 0, "reloads": 1, "reload_errors": 0,
        "virtual_servers": [
            {"virtual_server": "[192.0.2.10]:tcp:80", "services": ["TCP 192.0.2.10:80"], "quorum": 1,
             "quorum_up": true, "live_weight": 3, "sorry_server": null,
             "real_servers": [
                rs("198.51.100.11", true, None),
                rs("198.51.100.12", false, Some("refused")),
                rs("198.51.100.13", false, Some("timeout")),
                rs("198.51.100.14", false, Some("reset")),
                rs("198.51.100.15", true, None),
             ]},
            {"virtual_server": "[192.0.2.20]:tcp:80", "services": ["TCP 192.0.2.20:80"], "quorum": 5,
             "quorum_up": false, "live_weight": 1, "sorry_server": "203.0.113.9",
             "real_servers": [rs("198.51.100.21", true, None)]},
        ],
        "vrrp": [{"name": "VI_1", "interface": "eth0", "virtual_router_id": 51, "state": "MASTER",
                  "since": AT - 3600.0, "priority": 150, "master": "192.0.2.2"}],
    });
    let mut table = Table::new();
    // .11 up; .12 down (not in the table); .13 inhibited (weight 0, idle); .14 draining
    // (weight 0, connections left); .15 alive but out of the table.
    table.insert_status(
        service("192.0.2.10"),
        [dest("198.51.100.11", 3, 4, 12), dest("198.51.100.13", 0, 0, 0), dest("198.51.100.14", 0, 2, 0)],
    );
    table.insert_status(service("192.0.2.20"), []);
    (status, Snapshot { table: Some(Arc::new(table)), ..Snapshot::default() })
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[test]
fn every_real_server_has_its_row_and_its_state() {
    let (status, snap) = fixed();
    let html = render(&Model::read(&status, &snap, AT));
    let want = [
        ("198.51.100.11:80", "up"),
        ("198.51.100.12:80", "down"),
        ("198.51.100.13:80", "inhibited"),
        ("198.51.100.14:80", "draining"),
        ("198.51.100.15:80", "out"),
        ("198.51.100.21:80", "out"),
    ];
    assert_eq!(rows(&html), pairs(&want), "{html}");
    // Two sections, open (a small page); each state's word beside its colour.
    assert_eq!(html.matches("<details data-section").count(), 2);
    assert_eq!(html.matches("<details data-section id=\"s-[192.0.2.10]:tcp:80\" open>").count(), 1, "{html}");
    for word in ["up", "down", "draining", "inhibited", "out"] {
        assert!(html.contains(&format!("<span class=\"st st-{word}\">")), "no {word} badge");
    }
    // The kernel's figures, the scheduler, the checks' last results with their times.
    assert!(
        html.contains("<td class=\"n\">3</td><td class=\"n\">4</td><td class=\"n\">0</td><td class=\"n\">12</td>"),
        "{html}"
    );
    assert!(html.contains(" &middot; wrr &middot; "), "{html}");
    assert!(html.contains("tcp_check 127.0.0.1:8080: ok, 2 s ago"), "{html}");
    assert!(html.contains("failed: refused</span>, 2 s ago"), "{html}");
    assert!(html.contains(">2 min 5 s</td>"), "in this state for");
    assert!(html.contains("quorum met: live weight 3 of 1"), "{html}");
    assert!(html.contains("quorum lost: live weight 1 of 5") && html.contains("sorry server 203.0.113.9 in"), "{html}");
    // VRRP, counters, the links, the refresh without JavaScript, the filter box.
    assert!(html.contains("<tr data-instance=\"VI_1\" data-state=\"MASTER\">"), "{html}");
    assert!(
        html.contains(
            "<td class=\"n\">150</td><td>192.0.2.2</td><td title=\"since 2023-11-14 21:13:20 UTC\">1 h 0 min</td>"
        ),
        "{html}"
    );
    assert!(html.contains("Configuration: native /etc/ipvs-director.toml. applies: 3. writes: 7."), "{html}");
    assert!(html.contains("<a href=\"/?format=json\">") && html.contains("<a href=\"/metrics\">"));
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>"));
    assert!(html.contains("<input type=\"search\" id=\"filter\""));
    assert!(html.contains("<main id=\"main\">") && html.ends_with("</body></html>\n"));
    assert_eq!(html.matches("<script>").count(), 1, "one script, inline");
    assert!(!html.contains("src=") && !html.contains("http://") && !html.contains("https://"), "no external asset");
}

#[test]
fn every_value_is_escaped() {
    let (mut status, snap) = fixed();
    let evil = "<script>alert('x')</script>\"&";
    status["virtual_servers"][0]["virtual_server"] = json!(evil);
    status["virtual_servers"][0]["real_servers"][1]["address"] = json!(evil);
    status["virtual_servers"][0]["real_servers"][1]["checks"][0]["last"]["error"] = json!(evil);
    status["virtual_servers"][0]["real_servers"][1]["checks"][0]["last"]["error_kind"] = json!(evil);
    status["virtual_servers"][0]["real_servers"][1]["checks"][0]["kind"] = json!(evil);
    status["vrrp"][0]["name"] = json!(evil);
    status["vrrp"][0]["state"] = json!(evil);
    status["configuration"] = json!({ "native": evil });
    let html = render(&Model::read(&status, &snap, AT));
    assert_eq!(html.matches("<script").count(), 1, "only the page's own script: {html}");
    assert!(!html.contains("alert('x')"), "{html}");
    let escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;";
    assert!(html.matches(escaped).count() >= 8, "{html}");
    assert_eq!(rows(&html)[1], (escaped.to_owned(), "down".to_owned()));
}

#[test]
fn states_follow_the_checks_and_the_table() {
    let k = |weight, active| Kernel { weight, active, ..Kernel::default() };
    assert_eq!(health(true, Some(&k(1, 0)), true), Health::Up);
    assert_eq!(health(false, Some(&k(1, 0)), true), Health::Down, "failed, not yet out");
    assert_eq!(health(true, Some(&k(0, 0)), true), Health::Draining);
    assert_eq!(health(false, Some(&k(0, 3)), true), Health::Draining);
    assert_eq!(health(false, Some(&k(0, 0)), true), Health::Inhibited);
    assert_eq!(health(true, None, true), Health::Out);
    assert_eq!(health(false, None, true), Health::Down);
    assert_eq!((health(true, None, false), health(false, None, false)), (Health::Up, Health::Down), "no table");
}

#[test]
fn without_the_table_the_states_come_from_the_checks() {
    let (status, _) = fixed();
    let snap = Snapshot { errors: vec!["table: <refused>".to_owned()], ..Snapshot::default() };
    let html = render(&Model::read(&status, &snap, AT));
    let states: Vec<String> = rows(&html).into_iter().map(|(_, s)| s).collect();
    assert_eq!(states, ["up", "down", "down", "down", "up", "up"]);
    assert!(html.contains("could not be read (table: &lt;refused&gt;)"), "{html}");
    assert!(html.contains("not in the table</td>"), "{html}");
}

#[test]
fn recent_rates_are_kept_between_pages_and_bounded() {
    let (status, snap) = fixed();
    let mut history = History::default();
    for i in 0..40 {
        let mut m = Model::read(&status, &snap, AT + f64::from(i) * EVERY_SECONDS);
        m.record(&mut history);
        if i == 39 {
            let k = m.virtual_servers[0].real_servers[0].kernel.as_ref().unwrap();
            assert_eq!(k.recent.len(), ipvs_exporter::page::SAMPLES);
            assert!(render(&m).contains("<td class=\"spark\">\u{2588}\u{2588}"), "a steady rate at the top");
        }
    }
    // Rows: the servers in the table (.11, .13, .14), nothing of the others.
    assert_eq!(history.len(), 3);
}

#[test]
fn odd_documents_render_without_panicking() {
    let snap = Snapshot::default();
    for status in [
        Value::Null,
        json!([]),
        json!({"virtual_servers": "no"}),
        json!({"virtual_servers": [null, 3, {"real_servers": [null, {"port": 70000, "address": 5}]}]}),
        json!({"virtual_servers": [{"real_servers": [{"checks": [null, {"last": 1}, {"last": {"at": "x"}}]}]}], "vrrp": [1]}),
        json!({"configuration": [], "vrrp": [{"since": -1e300}], "applies": -1}),
    ] {
        let html = render(&Model::read(&status, &snap, f64::NAN));
        assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>\n"), "{status}");
    }
}

#[test]
fn a_page_of_2000_real_servers_is_collapsed_and_bounded() {
    let mut vss = Vec::new();
    let mut table = Table::new();
    for v in 0..20u32 {
        let vip = format!("192.0.2.{}", v + 1);
        let servers: Vec<Value> = (0..100).map(|r| rs(&format!("2001:db8:{v}::{r}"), r != 7 || v != 3, None)).collect();
        let dests: Vec<DestinationStatus> = (0..100).map(|r| dest(&format!("2001:db8:{v}::{r}"), 1, 5, 100)).collect();
        table.insert_status(service(&vip), dests);
        vss.push(json!({"virtual_server": format!("[{vip}]:tcp:80"), "services": [format!("TCP {vip}:80")],
                        "quorum": 1, "quorum_up": true, "live_weight": 100, "real_servers": servers}));
    }
    let status = json!({"virtual_servers": vss});
    let snap = Snapshot { table: Some(Arc::new(table)), ..Snapshot::default() };
    let start = std::time::Instant::now();
    let html = render(&Model::read(&status, &snap, AT));
    let took = start.elapsed();
    let r = rows(&html);
    assert_eq!(r.len(), 2000);
    assert_eq!(r.iter().filter(|(_, s)| s == "down").count(), 1, "[2001:db8:3::7]:80 failed");
    // Only the section with a problem is open; the page stays small.
    assert_eq!(html.matches("<details data-section").count(), 20);
    assert_eq!(html.matches(" open>").count(), 1, "only the section with the failed server");
    assert!(html.contains("id=\"s-[192.0.2.4]:tcp:80\" open>"));
    assert!(html.len() < 2_000_000, "{} bytes for 2,000 real servers", html.len());
    assert!(took.as_secs() < 5, "rendering took {took:?}");
}
