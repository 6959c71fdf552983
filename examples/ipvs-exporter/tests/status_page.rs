//! The exporter's status page (`/`): rendered from a fixed table, its structure (a row per
//! destination with its state, a section per service, the refresh without JavaScript, the
//! filter box), escaping, a failed reading, the size of a page of 2,000 destinations; a
//! `?format=` in the query picks a page's form; and the `ipvs-exporter` binary serves the
//! page of its table.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipvs::state::Table;
use ipvs::{Destination, DestinationStatus, Forward, Scheduler, Service, ServiceId, ServiceStatus, Stats};
use ipvs_exporter::page::table::{render, Model};
use ipvs_exporter::page::{rows, History};
use ipvs_exporter::serve::{serve, Page, Pages};
use ipvs_exporter::Snapshot;

const AT: f64 = 1_700_000_000.0;

fn dest(addr: &str, weight: u32, active: u32, cps: u64) -> DestinationStatus {
    let d = Destination::new(addr.parse().unwrap(), Forward::Masquerade).with_weight(weight);
    DestinationStatus { active_conns: active, stats: Stats { cps, ..Stats::default() }, ..DestinationStatus::idle(d) }
}

fn service(vip: &str, port: u16, scheduler: Scheduler) -> ServiceStatus {
    let id = ServiceId::tcp(vip.parse().unwrap(), port);
    ServiceStatus { service: Service::new(id, scheduler), stats: Stats { cps: 1500, ..Stats::default() } }
}

fn snapshot(table: Table) -> Snapshot {
    Snapshot { table: Some(Arc::new(table)), ..Snapshot::default() }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[test]
fn every_destination_has_its_row_and_its_state() {
    let mut table = Table::new();
    table.insert_status(
        service("192.0.2.1", 80, Scheduler::Wrr),
        [dest("198.51.100.1:80", 2, 7, 40), dest("198.51.100.2:80", 0, 1, 0)],
    );
    table.insert_status(service("192.0.2.2", 443, Scheduler::Rr), [dest("[2001:db8::5]:443", 1, 0, 0)]);
    let mut model = Model::of(&snapshot(table), AT);
    model.record(&mut History::default());
    let html = render(&model);
    let want = [("198.51.100.1:80", "up"), ("198.51.100.2:80", "draining"), ("[2001:db8::5]:443", "up")];
    assert_eq!(rows(&html), pairs(&want), "{html}");
    assert_eq!(html.matches("<details data-section").count(), 2);
    assert!(html.contains("<b>TCP 192.0.2.1:80</b> wrr &middot; "), "{html}");
    assert!(html.contains("</span> 2 destinations, 1.5k conn/s, in 0 B/s, out 0 B/s"), "{html}");
    assert!(html.contains("</span> 1 destination, "), "{html}");
    assert!(
        html.contains(
            "<td>nat</td><td class=\"n\">2</td><td class=\"n\">7</td><td class=\"n\">0</td><td class=\"n\">40</td>"
        ),
        "{html}"
    );
    assert!(html.contains("<td class=\"spark\">\u{2588}</td>"), "one sample so far");
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>"));
    assert!(html.contains("<input type=\"search\" id=\"filter\""));
    assert!(html.contains("<a href=\"/metrics\">"));
    assert!(html.contains("Read 2023-11-14 22:13:20 UTC: 2 services, 3 destinations."), "{html}");
    assert_eq!(html.matches("<script>").count(), 1);
}

#[test]
fn kernel_values_are_escaped_and_a_failed_reading_says_why() {
    let mut table = Table::new();
    let evil = "<script>x</script>";
    table
        .insert_status(service("192.0.2.1", 80, Scheduler::Other(evil.to_owned())), [dest("198.51.100.1:80", 1, 0, 0)]);
    let html = render(&Model::of(&snapshot(table), AT));
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");

    let failed = Snapshot { errors: vec!["table: \"<denied>\"".to_owned()], ..Snapshot::default() };
    let html = render(&Model::of(&failed, AT));
    assert!(html.contains("The table could not be read: table: &quot;&lt;denied&gt;&quot;</p>"), "{html}");
    assert!(rows(&html).is_empty());
}

#[test]
fn a_page_of_2000_destinations_is_collapsed_and_bounded() {
    let mut table = Table::new();
    for s in 0..20u16 {
        let dests = (0..100u16).map(|d| dest(&format!("[2001:db8::{s}:{d}]:80"), u32::from(s != 5 || d != 0), 3, 9));
        table.insert_status(service("192.0.2.1", 1000 + s, Scheduler::Rr), dests);
    }
    let html = render(&Model::of(&snapshot(table), AT));
    let r = rows(&html);
    assert_eq!(r.len(), 2000);
    assert_eq!(r.iter().filter(|(_, s)| s == "draining").count(), 1);
    assert_eq!(html.matches(" open>").count(), 1, "only the service with a destination not up is open");
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
}

/// GET `path` over HTTP/1.0: the whole reply.
fn get(addr: SocketAddr, path: &str) -> String {
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(c, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn a_format_in_the_query_picks_the_form_of_a_page() {
    let pages: Pages = Arc::new(|path: &str| {
        let text = match path {
            "/" => "html",
            "/?format=json" => "json",
            "/other" => "other",
            _ => return None,
        };
        Some(Page { content_type: "text/plain", body: text.to_owned().into() })
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(listener, pages, async move {
        let _ = stopped.await;
    }));
    let body = |path: &str| get(addr, path).split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap();
    assert_eq!(body("/"), "html");
    assert_eq!(body("/?format=json"), "json");
    assert_eq!(body("/?a=1&format=json"), "json");
    assert_eq!(body("/?format=html"), "html", "a form the page does not have: the page");
    assert_eq!(body("/?x=1"), "html");
    assert_eq!(body("/other?format=json"), "other");
    assert!(get(addr, "/nothing?format=json").contains(" 404 "));
    stop.send(()).unwrap();
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await }).unwrap().unwrap();
}

#[test]
fn the_exporter_serves_the_page_of_its_table() {
    let rules = std::env::temp_dir().join(format!("ipvs-exporter-page-{}.rules", std::process::id()));
    std::fs::write(&rules, "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 3\n-a -t 192.0.2.1:80 -r 198.51.100.2:80 -m -w 0\n").unwrap();
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipvs-exporter"))
        .arg(format!("--mock={}", rules.display()))
        .arg(format!("--listen={addr}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let reply = get(addr, "/");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&rules);
    assert!(reply.contains("content-type: text/html; charset=utf-8"), "{reply}");
    let want = [("198.51.100.1:80", "up"), ("198.51.100.2:80", "draining")];
    assert_eq!(rows(&reply), pairs(&want), "{reply}");
}
