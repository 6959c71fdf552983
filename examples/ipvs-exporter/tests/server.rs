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

/// A server on a loopback port of its own, run on `rt`: its address, and its handle.
fn start(rt: &tokio::runtime::Runtime, pages: Pages) -> (std::net::SocketAddr, Running) {
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(listener, pages, async move {
        let _ = stopped.await;
    }));
    (addr, Running { stop, server })
}

/// A server [`start`] started.
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Tells it to stop and waits (at most 10 s) until it has.
    fn stop(self, rt: &tokio::runtime::Runtime) {
        self.stop.send(()).unwrap();
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), self.server).await }).unwrap().unwrap();
    }
}

/// A scraper of 2,000 services on the in-memory kernel: a page of several pieces.
fn scraper_of_2000_services() -> Arc<Scraper<ipvs::transport::MockTransport>> {
    let client = Client::mock();
    for i in 0..2000u32 {
        let id = ServiceId::tcp(std::net::Ipv4Addr::from(0xc000_0200 + i).into(), 80);
        client.add_service(&Service::new(id, Scheduler::Rr)).unwrap();
    }
    Arc::new(Scraper::new(client, None, Options::default()).without_proc())
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
    let (addr, server) = start(&rt, pages);
    let m = get(addr, "GET /metrics HTTP/1.0\r\n\r\n");
    assert!(m.starts_with("HTTP/1.0 200") || m.starts_with("HTTP/1.1 200"), "{m}");
    assert!(m.contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"), "{m}");
    assert!(m.contains("ipvs_services 1\n") && m.ends_with("# EOF\n"), "{m}");
    assert!(get(addr, "GET / HTTP/1.0\r\n\r\n").contains("href=\"/metrics\""));
    assert!(get(addr, "GET /nothing HTTP/1.0\r\n\r\n").contains(" 404 "));
    assert!(get(addr, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n").contains(" 405 "));
    server.stop(&rt);
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
    let scraper = scraper_of_2000_services();
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
    let (addr, server) = start(&rt, pages);
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
    server.stop(&rt);
}

/// The raw reply to `request`: its head (text) and body (bytes).
fn get_bytes(addr: std::net::SocketAddr, request: &str) -> (String, Vec<u8>) {
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    let at = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
    (String::from_utf8(out[..at].to_vec()).unwrap().to_lowercase(), out[at + 4..].to_vec())
}

fn gunzip(body: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(body).read_to_string(&mut text).expect("a whole gzip stream of text");
    text
}

#[test]
fn pages_come_gzipped_to_a_client_that_asks_and_plain_to_one_that_does_not() {
    let scraper = scraper_of_2000_services();
    let whole = scraper.metrics();
    let small = "<a href=\"/metrics\">metrics</a>\n".repeat(20);
    let small_page = small.clone();
    let pages: Pages = Arc::new(move |path: &str| match path {
        "/metrics" => Some(Page { content_type: OPENMETRICS, body: Body::Written(scraper.metrics_writer()) }),
        "/" => Some(Page { content_type: "text/html; charset=utf-8", body: small_page.clone().into() }),
        _ => None,
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (addr, server) = start(&rt, pages);

    // The large page, written in pieces, as one gzip stream (until the close, HTTP/1.0).
    let (head, body) = get_bytes(addr, "GET /metrics HTTP/1.0\r\nAccept-Encoding: deflate, gzip\r\n\r\n");
    assert!(head.contains("content-encoding: gzip") && head.contains("vary: accept-encoding"), "{head}");
    assert!(body.len() * 5 < whole.len(), "compressed {} of {} bytes", body.len(), whole.len());
    assert!(same_but_the_duration(&gunzip(&body), &whole), "the gzipped page differs from the page");
    // A small page, made whole: compressed, with its length.
    let (head, body) =
        get_bytes(addr, "GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
    assert_eq!(gunzip(&body), small);
    // Not asked, or refused by weight: plain, still saying that it varies.
    for ask in ["", "Accept-Encoding: identity\r\n", "Accept-Encoding: gzip;q=0, *\r\n"] {
        let (head, body) = get_bytes(addr, &format!("GET / HTTP/1.0\r\n{ask}\r\n"));
        assert!(!head.contains("content-encoding") && head.contains("vary: accept-encoding"), "{ask}: {head}");
        assert_eq!(String::from_utf8(body).unwrap(), small, "{ask}");
    }
    // Errors are plain whatever was asked.
    let (head, _) = get_bytes(addr, "GET /nothing HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
    assert!(head.contains(" 404 ") && !head.contains("content-encoding"), "{head}");
    server.stop(&rt);
}

proptest::proptest! {
    /// Any Accept-Encoding value (any bytes a header may carry, repeated headers too) is read
    /// without a panic; gzip named with a positive weight is always taken, with weight 0
    /// never.
    #[test]
    fn accept_encoding_of_any_value_is_read_without_a_panic(
        values in proptest::collection::vec(proptest::collection::vec(0x20u8..0x7f, 0..40), 0..3),
        weight in 0u32..=1000,
    ) {
        use hyper::header::{HeaderMap, HeaderValue, ACCEPT_ENCODING};
        use ipvs_exporter::serve::accepts_gzip;
        let mut headers = HeaderMap::new();
        for v in &values {
            headers.append(ACCEPT_ENCODING, HeaderValue::from_bytes(v).unwrap());
        }
        let _ = accepts_gzip(&headers);
        let named = format!("gzip;q={}.{:03}", weight / 1000, weight % 1000);
        let asking = HeaderMap::from_iter([(ACCEPT_ENCODING, HeaderValue::from_str(&named).unwrap())]);
        proptest::prop_assert_eq!(accepts_gzip(&asking), weight > 0);
    }
}
