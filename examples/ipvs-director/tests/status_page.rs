//! The status page (`/`) of the daemon on the in-memory kernel, fetched over HTTP from
//! 127.0.0.1: a row per real server with its state, and the change when a server's check
//! starts failing; `/?format=json` is the `/status` document.

mod common;

use std::net::TcpListener;

use common::{server, Daemon, VS};
use ipvs_exporter::page::rows;
use serde_json::Value;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// GET / until its rows are `want` (at most 15 s); the page.
fn page_until(d: &Daemon, want: &[(&str, &str)]) -> String {
    let start = std::time::Instant::now();
    loop {
        let (code, ct, html) = d.get("/");
        assert_eq!((code, ct.as_str()), (200, "text/html; charset=utf-8"));
        if rows(&html) == pairs(want) {
            return html;
        }
        assert!(start.elapsed().as_secs() < 15, "the page's rows did not become {want:?}:\n{html}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn the_page_shows_each_real_server_and_follows_its_state() {
    let up = TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = up.local_addr().unwrap().port();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config =
        format!("{VS}{}{}", server("198.51.100.11", up_port, "weight = 2"), server("198.51.100.12", closed, ""));
    let d = Daemon::start_listening("page", &config);
    let html = page_until(&d, &[("198.51.100.11:80", "up"), ("198.51.100.12:80", "down")]);
    assert!(html.contains("<b>[192.0.2.10]:tcp:80</b> TCP 192.0.2.10:80 &middot; rr &middot; "), "{html}");
    assert!(html.contains("failed: refused</span>"), "{html}");
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\""), "{html}");

    // The same document as /status.
    let (code, ct, json) = d.get("/?format=json");
    assert_eq!((code, ct.as_str()), (200, "application/json"));
    let doc: Value = serde_json::from_str(&json).unwrap();
    let status = d.status();
    assert_eq!(doc["virtual_servers"][0]["real_servers"][0]["address"], "198.51.100.11");
    assert_eq!(doc["configuration"], status["configuration"]);

    // .11's check starts failing: the page shows it down.
    drop(up);
    page_until(&d, &[("198.51.100.11:80", "down"), ("198.51.100.12:80", "down")]);
}
