//! The HTTP side, on loopback: /metrics, /, 404 and 405, and a clean stop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use ipvs::{Client, Scheduler, Service, ServiceId};
use ipvs_exporter::serve::{serve, Body, Page, Pages, OPENMETRICS, PIECE};
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
        "/metrics" => Some(Page { content_type: OPENMETRICS, body: Body::Written(scraper.metrics_writer()) }),
        "/" => Some(Page { content_type: "text/html; charset=utf-8", body: "<a href=\"/metrics\">".to_owned().into() }),
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

/// Two renderings of one table are the same but for the time the reading took.
fn same_but_the_duration(a: &str, b: &str) -> bool {
    let lines = |t: &str| -> Vec<String> {
        t.lines().filter(|l| !l.starts_with("ipvs_scrape_duration_seconds ")).map(str::to_owned).collect()
    };
    a.ends_with("# EOF\n") && lines(a) == lines(b)
}

/// A chunked body decoded; None if it does not end with the last (empty) chunk.
fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size, 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

#[test]
fn a_written_page_arrives_whole_in_pieces_for_both_http_versions_and_a_failed_one_is_cut_off() {
    let client = Client::mock();
    for i in 0..2000u32 {
        let id = ServiceId::tcp(std::net::Ipv4Addr::from(0xc000_0200 + i).into(), 80);
        client.add_service(&Service::new(id, Scheduler::Rr)).unwrap();
    }
    let scraper = Arc::new(Scraper::new(client, None, Options::default()).without_proc());
    let whole = scraper.metrics();
    assert!(whole.len() > 4 * PIECE, "the page should need several pieces: {} bytes", whole.len());
    let pages: Pages = Arc::new(move |path: &str| match path {
        "/metrics" => Some(Page { content_type: OPENMETRICS, body: Body::Written(scraper.metrics_writer()) }),
        "/broken" => Some(Page {
            content_type: "text/plain",
            body: Body::Written(Box::new(|w: &mut dyn std::fmt::Write| {
                w.write_str(&"x".repeat(PIECE + 1))?;
                Err(std::fmt::Error)
            })),
        }),
        _ => None,
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(listener, pages, async move {
        let _ = stopped.await;
    }));
    let thread = std::thread::spawn(move || {
        let old = get(addr, "GET /metrics HTTP/1.0\r\n\r\n");
        let new = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let broken = get(addr, "GET /broken HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        (old, new, broken)
    });
    let (old, new, broken) = rt.block_on(async {
        loop {
            if thread.is_finished() {
                break thread.join().unwrap();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let (head, body) = old.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(same_but_the_duration(body, &whole), "the HTTP/1.0 body differs from the page");
    let (head, body) = new.split_once("\r\n\r\n").unwrap();
    assert!(head.to_lowercase().contains("transfer-encoding: chunked"), "{head}");
    let body = dechunk(body).expect("a complete chunked body");
    assert!(same_but_the_duration(&body, &whole), "the HTTP/1.1 body differs from the page");
    // The connection is aborted at the failure: the client gets a head and a chunked body
    // without its last chunk, or (when the abort comes before the head was flushed) not even
    // a whole head; never a complete reply.
    if let Some((head, body)) = broken.split_once("\r\n\r\n") {
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(dechunk(body), None, "a failed page must not look complete");
    }
    stop.send(()).unwrap();
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await }).unwrap().unwrap();
}
