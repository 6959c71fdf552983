//! The HTTP side, on loopback: /metrics, /, 404 and 405, and a clean stop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use ipvs::{Client, Scheduler, Service, ServiceId};
use ipvs_exporter::serve::{serve, Page, Pages, OPENMETRICS};
use ipvs_exporter::{Options, Scraper};

fn get(addr: std::net::SocketAddr, request: &str) -> String {
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn metrics_are_served_and_the_server_stops_when_told() {
    let client = Client::mock();
    client.add_service(&Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr)).unwrap();
    let scraper = Arc::new(Scraper::new(client, None, Options::default()).without_proc());
    let pages: Pages = Arc::new(move |path: &str| match path {
        "/metrics" => Some(Page { content_type: OPENMETRICS, body: scraper.metrics() }),
        "/" => Some(Page { content_type: "text/html; charset=utf-8", body: "<a href=\"/metrics\">".into() }),
        _ => None,
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(listener, pages, async move {
        let _ = stopped.await;
    }));
    let m = get(addr, "GET /metrics HTTP/1.0\r\n\r\n");
    assert!(m.starts_with("HTTP/1.0 200") || m.starts_with("HTTP/1.1 200"), "{m}");
    assert!(m.contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"), "{m}");
    assert!(m.contains("ipvs_services 1\n") && m.ends_with("# EOF\n"), "{m}");
    assert!(get(addr, "GET / HTTP/1.0\r\n\r\n").contains("href=\"/metrics\""));
    assert!(get(addr, "GET /nothing HTTP/1.0\r\n\r\n").contains(" 404 "));
    assert!(get(addr, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n").contains(" 405 "));
    stop.send(()).unwrap();
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await }).unwrap().unwrap();
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(), "still listening after the stop");
}
