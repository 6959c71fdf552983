//! The page slots of the server, in process on loopback: with every slot held by a client
//! that reads nothing, a new request for a written page gets 503 with Retry-After (a text
//! page is still served); once those clients have taken nothing for `CROWDED_STALL`, the
//! one stalled longest is cut off and the new request is served whole. A written page that
//! ends early is sent with its length.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipvs_exporter::serve::{serve, Body, Page, Pages, CROWDED_STALL, MAX_PAGES, RETRY_AFTER};

/// The size of `/big`: far more than loopback's socket buffers hold.
const BIG: usize = 32 << 20;

fn send(addr: SocketAddr, path: &str) -> TcpStream {
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(c, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    c
}

fn read_all(mut c: TcpStream) -> String {
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_full_server_answers_503_then_cuts_off_the_longest_stalled_client() {
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    let pages: Pages = Arc::new(move |path: &str| match path {
        "/big" => {
            let counter = counter.clone();
            Some(Page {
                content_type: "text/plain",
                body: Body::Written(Box::new(move |w: &mut dyn std::fmt::Write| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let line = "x".repeat(1023) + "\n";
                    (0..BIG / 1024).try_for_each(|_| w.write_str(&line))
                })),
            })
        }
        "/small" => Some(Page {
            content_type: "text/plain",
            body: Body::Written(Box::new(|w: &mut dyn std::fmt::Write| w.write_str("ok\n"))),
        }),
        "/" => Some(Page { content_type: "text/plain", body: "index\n".to_owned().into() }),
        _ => None,
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(listener, pages, async move {
        let _ = stopped.await;
    }));

    let small = read_all(send(addr, "/small"));
    assert!(small.starts_with("HTTP/1.1 200") && small.to_lowercase().contains("content-length: 3\r\n"), "{small}");
    assert!(small.ends_with("\r\n\r\nok\n"), "{small}");

    // Every slot taken by a client that reads nothing.
    let hanging: Vec<TcpStream> = (0..MAX_PAGES).map(|_| send(addr, "/big")).collect();
    let t = Instant::now();
    while started.load(Ordering::SeqCst) < MAX_PAGES {
        assert!(t.elapsed() < Duration::from_secs(20), "the pages did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let busy = read_all(send(addr, "/big"));
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    let retry = format!("retry-after: {}\r\n", RETRY_AFTER.as_secs());
    assert!(busy.to_lowercase().contains(&retry), "{busy}");
    assert!(read_all(send(addr, "/")).ends_with("\r\n\r\nindex\n"), "a text page needs no slot");
    assert_eq!(started.load(Ordering::SeqCst), MAX_PAGES, "a refused request starts no page");

    // Once they have taken nothing for CROWDED_STALL, a new request takes a slot.
    std::thread::sleep(CROWDED_STALL + Duration::from_secs(1));
    let page = read_all(send(addr, "/big"));
    assert!(page.starts_with("HTTP/1.1 200"), "{}", &page[..page.len().min(200)]);
    assert!(page.len() > BIG && page.ends_with("\n0\r\n\r\n"), "whole and chunked: {} bytes", page.len());
    // One of the clients that read nothing was cut off: its reply ends without the last chunk.
    let cut = hanging
        .into_iter()
        .map(|mut c| {
            let mut out = Vec::new();
            let _ = c.read_to_end(&mut out);
            !out.ends_with(b"\n0\r\n\r\n")
        })
        .filter(|cut| *cut)
        .count();
    assert_eq!(cut, 1, "the client stalled longest is cut off, the others are served");

    stop.send(()).unwrap();
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await }).unwrap().unwrap();
}
