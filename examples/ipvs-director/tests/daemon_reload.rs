//! A reload whose reading of the configuration is slow or stuck does not freeze the daemon:
//! the daemon runs on one event loop (a current-thread runtime, as the binary does), its
//! configuration read by a loader that blocks on every reload (standing for a huge file,
//! a file system that does not answer, a device). While the reload waits, `/status` answers
//! over 127.0.0.1 and the configuration in force stays; at the reader's deadline the reload
//! is abandoned (counted in `reload_errors`); a good reload afterwards goes through; past
//! [`MAX_ABANDONED_READS`] stuck reads no new one starts; and stopping while a read is stuck
//! returns promptly. Every wait is bounded (an HTTP exchange by 5 s, a state by 15 s, the
//! stop by 10 s).

mod common;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};

use common::TempFile;
use ipvs::transport::MockTransport;
use ipvs_director::config::Config;
use ipvs_director::daemon::{run_with_reader, ConfigReader, Control, Options, Source, MAX_ABANDONED_READS};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

const A: &str = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nscheduler = \"rr\"\n\n\
                 [[virtual_servers.real_servers]]\naddress = \"198.51.100.11\"\n";
const B: &str = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.20\"\nport = 80\nscheduler = \"rr\"\n\n\
                 [[virtual_servers.real_servers]]\naddress = \"198.51.100.12\"\n";

/// Whether the test's loader blocks: each read waits while it is set (polling it every
/// 10 ms), then reads the file.
struct Gate {
    stuck: AtomicBool,
    /// Reads started.
    calls: AtomicUsize,
}

struct Daemon {
    listen: SocketAddr,
    reload: mpsc::Sender<()>,
    stop: Option<oneshot::Sender<()>>,
    done: std_mpsc::Receiver<Result<(), ipvs_director::Error>>,
    file: TempFile,
    gate: Arc<Gate>,
}

impl Daemon {
    /// The daemon on the in-memory kernel, reading `file` (holding `config`) through a loader
    /// that blocks while `gate.stuck` (set from the start if `stuck`), with a read deadline
    /// of `deadline`.
    fn start(name: &str, config: &str, deadline: Duration, stuck: bool) -> Daemon {
        let file = TempFile::new("reload", &format!("{name}.toml"), config);
        let listen = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let gate = Arc::new(Gate { stuck: AtomicBool::new(stuck), calls: AtomicUsize::new(0) });
        let loader = {
            let (gate, file) = (gate.clone(), file.path().to_owned());
            Arc::new(move || {
                gate.calls.fetch_add(1, Ordering::SeqCst);
                while gate.stuck.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Config::load(&file).map_err(ipvs_director::Error::from)
            })
        };
        let reader = ConfigReader::new(loader, deadline);
        let (reload, reload_rx) = mpsc::channel(4);
        let (stop, stop_rx) = oneshot::channel();
        let options = Options {
            source: Source::Native(file.path().to_owned()),
            listen: Some(listen),
            netns: None,
            release_on_exit: false,
            proc_totals: false,
        };
        let transport = Arc::new(MockTransport::new());
        let (done_tx, done) = std_mpsc::channel();
        std::thread::spawn(move || {
            // One event loop, as the binary runs it.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let r =
                rt.block_on(run_with_reader(options, transport, Control { reload: reload_rx, stop: stop_rx }, reader));
            rt.shutdown_background();
            let _ = done_tx.send(r);
        });
        Daemon { listen, reload, stop: Some(stop), done, file, gate }
    }

    /// GET /status. Retries the connection while the daemon starts (at most 15 s); the
    /// exchange itself is bounded by 5 s.
    fn status(&self) -> Value {
        let response = common::get(self.listen, "/status")
            .unwrap_or_else(|e| panic!("/status did not answer within 5 s ({e}): the event loop is frozen"));
        serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("/status: {e}:\n{}", response.body))
    }

    /// Waits (at most 15 s) for `/status` to satisfy `ok`; returns it.
    fn status_until(&self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        common::status_until(|| self.status(), Duration::from_millis(20), what, ok)
    }

    fn reload(&self) {
        self.reload.blocking_send(()).unwrap();
    }

    /// Stops the daemon: it must end within 10 s, without error.
    fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        match self.done.recv_timeout(Duration::from_secs(10)) {
            Ok(r) => assert!(r.is_ok(), "{r:?}"),
            Err(_) => panic!("the daemon did not stop within 10 s of the stop request"),
        }
    }
}

/// The virtual servers in force, as /status names them.
fn in_force(s: &Value) -> Vec<String> {
    s["virtual_servers"].as_array().unwrap().iter().map(|v| v["virtual_server"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_stuck_reload_leaves_the_daemon_answering_and_is_abandoned_at_its_deadline() {
    let d = Daemon::start("stuck", A, Duration::from_secs(2), false);
    let s = d.status_until("the start", |s| s["applies"].as_u64() >= Some(1));
    assert_eq!(in_force(&s), ["[192.0.2.10]:tcp:80"]);
    // The new file is B, but its read never ends.
    std::fs::write(d.file.path(), B).unwrap();
    d.gate.stuck.store(true, Ordering::SeqCst);
    d.reload();
    // Meanwhile /status answers, and A stays in force.
    let asked = Instant::now();
    while asked.elapsed() < Duration::from_millis(1500) {
        let s = d.status();
        assert_eq!(in_force(&s), ["[192.0.2.10]:tcp:80"], "{s:#}");
        assert_eq!((s["reloads"].as_u64(), s["reload_errors"].as_u64()), (Some(0), Some(0)), "{s:#}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // At the deadline (2 s) it is abandoned: an error, A stays.
    let s = d.status_until("the abandonment of the reload", |s| s["reload_errors"].as_u64() == Some(1));
    assert_eq!(in_force(&s), ["[192.0.2.10]:tcp:80"]);
    assert_eq!(s["reloads"].as_u64(), Some(0));
    // A read that works goes through afterwards.
    d.gate.stuck.store(false, Ordering::SeqCst);
    d.reload();
    let s = d.status_until("the good reload", |s| s["reloads"].as_u64() == Some(1));
    assert_eq!(in_force(&s), ["[192.0.2.20]:tcp:80"]);
    // Stopping while a read is stuck is prompt.
    d.gate.stuck.store(true, Ordering::SeqCst);
    d.reload();
    std::thread::sleep(Duration::from_millis(200));
    let s = d.status();
    assert_eq!(in_force(&s), ["[192.0.2.20]:tcp:80"]);
    d.stop();
}

#[test]
fn stuck_reads_are_bounded() {
    let d = Daemon::start("bounded", A, Duration::from_millis(300), false);
    d.status_until("the start", |s| s["applies"].as_u64() >= Some(1));
    d.gate.stuck.store(true, Ordering::SeqCst);
    // Each stuck read is abandoned at its deadline and keeps its thread; at the limit, the
    // next reload is refused at once (one more error, no new thread).
    for n in 1..=MAX_ABANDONED_READS as u64 + 2 {
        d.reload();
        d.status_until("the reload's error", |s| s["reload_errors"].as_u64() == Some(n));
    }
    let s = d.status();
    assert_eq!(in_force(&s), ["[192.0.2.10]:tcp:80"]);
    assert_eq!(s["reloads"].as_u64(), Some(0));
    // The start's read, and one per reload up to the limit: the last two never started.
    assert_eq!(d.gate.calls.load(Ordering::SeqCst), 1 + MAX_ABANDONED_READS);
    d.stop();
}

#[test]
fn stopping_during_a_stuck_start_is_prompt() {
    // The first read (at start) never ends: a stop still ends the daemon.
    let d = Daemon::start("stuck-start", A, Duration::from_secs(3600), true);
    std::thread::sleep(Duration::from_millis(300));
    d.stop();
}
