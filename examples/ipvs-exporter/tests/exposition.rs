//! The exposition of a small table, exactly: names, HELP and TYPE lines, labels, values.

use std::time::Duration;

use ipvs::transport::MockTransport;
use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId, Stats};
use ipvs_exporter::{render, Options, Snapshot};

fn stats(base: u64) -> Stats {
    Stats {
        conns: base,
        in_packets: base * 10,
        out_packets: base * 9,
        in_bytes: base * 1000,
        out_bytes: base * 20_000,
        cps: base / 10,
        in_pps: base / 5,
        out_pps: base / 6,
        in_bps: base * 3,
        out_bps: base * 40,
    }
}

fn snapshot() -> Snapshot {
    let mock = MockTransport::new();
    let c = Client::with_transport(&mock);
    let web = ServiceId::tcp("192.0.2.10".parse().unwrap(), 80);
    c.add_service(&Service::new(web, Scheduler::Wrr)).unwrap();
    let rs1 = Destination::new("198.51.100.11:80".parse().unwrap(), Forward::Masquerade).with_weight(3);
    c.add_destination(&web, &rs1).unwrap();
    let fwm = ServiceId::fwmark(10, ipvs::Family::Inet6);
    c.add_service(&Service::new(fwm, Scheduler::Sh)).unwrap();
    let rs2 = Destination::new("[2001:db8::21]:0".parse().unwrap(), Forward::DirectRoute);
    c.add_destination(&fwm, &rs2).unwrap();
    mock.set_stats(&web, None, stats(1000));
    mock.set_stats(&web, Some(rs1.socket_addr()), stats(600));
    mock.set_connections(&web, rs1.socket_addr(), 7, 2, 1);
    mock.set_stats(&fwm, None, stats(50));
    mock.set_stats(&fwm, Some(rs2.socket_addr()), stats(50));
    let totals = Stats {
        conns: 2000,
        in_packets: 20_000,
        out_packets: 18_000,
        in_bytes: 2_000_000,
        out_bytes: 40_000_000,
        cps: 200,
        in_pps: 400,
        out_pps: 333,
        in_bps: 6000,
        out_bps: 80_000,
    };
    Snapshot {
        table: Some(std::sync::Arc::new(c.table().unwrap())),
        totals: Some(totals),
        duration: Duration::from_millis(12),
        errors: Vec::new(),
    }
}

fn golden(name: &str) -> String {
    let path = format!("{}/tests/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_small_table_exposes_exactly_this() {
    let text = render(&snapshot(), Options::default(), 0);
    assert_eq!(text, golden("exposition.txt"));
}

#[test]
fn with_node_exporter_names_its_series_follow_ours() {
    let text = render(&snapshot(), Options { node_exporter_names: true }, 3);
    let ours = golden("exposition.txt").replace("ipvs_scrape_errors_total 0", "ipvs_scrape_errors_total 3");
    let rest = text.strip_prefix(ours.trim_end_matches("# EOF\n")).expect("our series first, unchanged");
    assert_eq!(rest, golden("exposition-node.txt"));
}

#[test]
fn a_failed_read_says_so_and_exposes_no_table() {
    let snap =
        Snapshot { table: None, totals: None, duration: Duration::from_millis(3), errors: vec!["table: EPERM".into()] };
    let text = render(&snap, Options { node_exporter_names: true }, 1);
    assert_eq!(
        text,
        "# HELP ipvs_up Whether the last scrape read the IPVS table (1) or not (0).\n# TYPE ipvs_up gauge\nipvs_up 0\n\
         # HELP ipvs_scrape_duration_seconds How long reading the kernel took.\n# TYPE ipvs_scrape_duration_seconds gauge\n\
         ipvs_scrape_duration_seconds 0.003\n# HELP ipvs_scrape_errors Scrapes that could not read everything.\n\
         # TYPE ipvs_scrape_errors counter\nipvs_scrape_errors_total 1\n# EOF\n"
    );
}
