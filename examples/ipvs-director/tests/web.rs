//! `/status` and `/metrics` of the daemon, fetched over HTTP from its `listen` address on
//! 127.0.0.1: the in-memory kernel, one real server up and one down (TCP checks against
//! loopback), one reload and one refused reload. `/status` has the fields docs/director.md
//! ("Watching it") lists, with values that match what happened, and an empty `vrrp` list when
//! no VRRP instance is configured; `/metrics` has every `ipvs_director_*` family it lists (and
//! none of the VRRP ones), next to the exporter's families of the table.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipvs::transport::MockTransport;
use ipvs::Client;
use ipvs_director::daemon::{run_with, Control, Options, Source};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

struct Daemon {
    mock: Arc<MockTransport>,
    listen: SocketAddr,
    reload: mpsc::Sender<()>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
    file: PathBuf,
}

impl Daemon {
    fn start(name: &str, config: &str) -> Daemon {
        let file = std::env::temp_dir().join(format!("ipvs-director-web-{}-{name}.toml", std::process::id()));
        std::fs::write(&file, config).unwrap();
        // A port free a moment ago (the daemon binds it itself).
        let listen = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mock = Arc::new(MockTransport::new());
        let (reload, reload_rx) = mpsc::channel(4);
        let (stop, stop_rx) = oneshot::channel();
        let options = Options {
            source: Source::Native(file.clone()),
            listen: Some(listen),
            netns: None,
            release_on_exit: false,
            proc_totals: false,
        };
        let transport = mock.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(run_with(options, transport, Control { reload: reload_rx, stop: stop_rx }))
        });
        Daemon { mock, listen, reload, stop: Some(stop), thread: Some(thread), file }
    }

    fn rules(&self) -> String {
        let mut t = Client::with_transport(self.mock.clone()).table().unwrap();
        t.set_timeouts(None);
        t.to_rules()
    }

    /// GET `path`: the status code, the content type and the body. Retries the connection
    /// while the daemon is starting (at most 15 s); each exchange is bounded by 5 s.
    fn get(&self, path: &str) -> (u16, String, String) {
        let start = Instant::now();
        let mut s = loop {
            match TcpStream::connect_timeout(&self.listen, Duration::from_secs(1)) {
                Ok(s) => break s,
                Err(e) => {
                    assert!(start.elapsed() < Duration::from_secs(15), "nothing listens on {}: {e}", self.listen);
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.listen).unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("a header");
        let code = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("a status");
        let content_type = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-type")))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default();
        (code, content_type, body.to_owned())
    }

    fn status(&self) -> Value {
        let (code, ct, body) = self.get("/status");
        assert_eq!((code, ct.as_str()), (200, "application/json"));
        serde_json::from_str(&body).unwrap()
    }

    /// Waits (at most 15 s) for `/status` to satisfy `ok`; returns it.
    fn status_until(&self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let s = self.status();
            if ok(&s) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "{what} did not happen; /status:\n{s:#}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let r = t.join();
            assert!(matches!(r, Ok(Ok(()))), "the daemon ended with {r:?}");
        }
        let _ = std::fs::remove_file(&self.file);
    }
}

fn server(addr: &str, port: u16, extra: &str) -> String {
    format!(
        "[[virtual_servers.real_servers]]\naddress = \"{addr}\"\nport = 80\n{extra}\n\
         [[virtual_servers.real_servers.tcp_check]]\nconnect_ip = \"127.0.0.1\"\nconnect_port = {port}\n"
    )
}

const VS: &str = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nscheduler = \"rr\"\n\
                  forward = \"nat\"\ndelay_loop = 0.2\nconnect_timeout = 1\nretry = 1\ndelay_before_retry = 0.1\nwarmup = 0\n\
                  quorum = 2\n";

/// The `ipvs_director_*` families docs/director.md lists (counters with OpenMetrics' `_total`).
const FAMILIES: [(&str, &str); 11] = [
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
        "{VS}{}{}",
        server("198.51.100.11", up_port, "weight = 2"),
        server("198.51.100.12", closed, "weight = 3")
    );
    let d = Daemon::start("status", &config);
    // .12 fails its first check and leaves; .11 passes.
    let checked = |s: &Value| {
        let rs = &s["virtual_servers"][0]["real_servers"];
        rs[0]["checks"][0]["attempts"].as_u64() >= Some(2) && rs[1]["checks"][0]["attempts"].as_u64() >= Some(2)
    };
    d.status_until("two attempts of each check", checked);
    assert_eq!(d.rules(), "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 2\n");

    // One reload (the same file) and one refused (a file that does not validate).
    d.reload.blocking_send(()).unwrap();
    d.status_until("the reload", |s| s["reloads"] == 1);
    std::fs::write(&d.file, "[[virtual_servers]]\nprotocol = \"tcp\"\n").unwrap();
    d.reload.blocking_send(()).unwrap();
    let s = d.status_until("the refused reload", |s| s["reload_errors"] == 1);

    // The document as docs/director.md describes it.
    assert_eq!(s["configuration"]["native"], d.file.display().to_string());
    for counter in ["applies", "writes", "apply_failures", "reloads", "reload_errors"] {
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
        } else {
            assert_eq!(failures, attempts, "every attempt of the closed port failed");
            assert_eq!(last["ok"], false);
            assert!(last["error"].as_str().is_some_and(|e| e.contains("refused")), "{last:#}");
        }
    }
    assert_eq!(rs[0]["checks"][0]["target"], format!("127.0.0.1:{up_port}"));
    assert_eq!(rs[1]["checks"][0]["target"], format!("127.0.0.1:{closed}"));

    // /metrics: OpenMetrics, the director's families and the exporter's.
    let (code, ct, m) = d.get("/metrics");
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
    let failures = sample(&m, &format!("ipvs_director_check_failures_total{{{b},check=\"tcp_check#0\"}}")).unwrap();
    assert!(attempts >= 2.0 && failures == attempts, "{m}");
    assert_eq!(sample(&m, &format!("ipvs_director_check_failures_total{{{a},check=\"tcp_check#0\"}}")), Some(0.0));
    assert!(sample(&m, &format!("ipvs_director_check_latency_seconds{{{a},check=\"tcp_check#0\"}}")).is_some());
    assert_eq!(sample(&m, &format!("ipvs_director_quorum_up{{{vs}}}")), Some(1.0), "{m}");
    assert_eq!(sample(&m, "ipvs_director_writes_total"), Some(4.0), "{m}");
    assert_eq!(sample(&m, "ipvs_director_reloads_total"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "ipvs_director_reload_errors_total"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "ipvs_director_apply_failures_total"), Some(0.0), "{m}");
    assert!(sample(&m, "ipvs_director_applies_total").is_some_and(|n| n >= 2.0), "{m}");
    assert_eq!(sample(&m, "ipvs_services"), Some(1.0), "{m}");
    assert_eq!(sample(&m, "ipvs_destinations"), Some(1.0), "{m}");

    // The index links both; anything else is not found.
    let (code, _, index) = d.get("/");
    assert!(code == 200 && index.contains("/status") && index.contains("/metrics"));
    assert_eq!(d.get("/nothing").0, 404);
    drop(up);
}
