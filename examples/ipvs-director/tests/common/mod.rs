//! Helpers the director's integration tests share: temporary files and directories removed on
//! drop, a thread bounded by a timeout, the binary run with a bound (and under `ulimit -v`),
//! and the daemon on the in-memory kernel with its HTTP pages fetched over 127.0.0.1.
//!
//! Each test file takes it with `mod common;`; not every file uses every helper.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipvs::transport::MockTransport;
use ipvs::Client;
use ipvs_director::daemon::{run_with, Control, Options, Source};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// `f()` in a thread, or a panic when it has not finished within `secs`.
pub fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("still running after {secs} s"),
    }
}

/// A path in the temporary directory, `ipvs-director-TAG-PID-NAME`, removed on drop (a file
/// or an empty directory).
pub struct TempFile(PathBuf);

impl TempFile {
    /// The path, nothing made there yet.
    pub fn path_only(tag: &str, name: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!("ipvs-director-{tag}-{}-{name}", std::process::id())))
    }

    /// A file holding `text`.
    pub fn new(tag: &str, name: &str, text: &str) -> TempFile {
        let t = TempFile::path_only(tag, name);
        std::fs::write(&t.0, text).unwrap();
        t
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A fresh scratch directory, `ipvs-director-TAG-PID-NAME`, removed with what it holds on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str, name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("ipvs-director-{tag}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The file `name` in it, holding `text`.
    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A FIFO named `name` in it.
    pub fn fifo(&self, name: &str) -> PathBuf {
        let p = self.0.join(name);
        let ok = Command::new("mkfifo").arg(&p).status().unwrap().success();
        assert!(ok, "mkfifo {}", p.display());
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `ipvs-director` binary with `args`, its standard input empty and its outputs piped.
pub fn director(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ipvs-director"));
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// `ipvs-director ARGS` under `ulimit -v KIB` (through `sh`), its outputs piped.
pub fn director_under_ulimit(kib: u64, args: &[&str]) -> Command {
    let mut script = format!("ulimit -v {kib}; exec \"$0\"");
    for i in 1..=args.len() {
        write!(script, " \"${i}\"").unwrap();
    }
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_ipvs-director"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits for `child` to exit, looking every `poll`; past `limit` it is killed and reaped, and
/// the answer is None.
pub fn wait_within(child: &mut Child, limit: Duration, poll: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(poll);
    }
}

/// Runs `command` to its end, reading its piped outputs meanwhile (so that neither fills);
/// past `secs` it is killed and the test panics: "WHAT still ran after SECS s".
pub fn output_within(mut command: Command, secs: u64, what: &str) -> Output {
    let mut child = command.spawn().unwrap();
    drop(command); // the parent's copies of what it was given (a pipe's end, a file)
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = pipe {
                let _ = r.read_to_end(&mut v);
            }
            v
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let Some(status) = wait_within(&mut child, Duration::from_secs(secs), Duration::from_millis(20)) else {
        panic!("{what} still ran after {secs} s");
    };
    Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

/// Output bytes as text, invalid UTF-8 replaced.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `ipvs-director ARGS` under `ulimit -v KIB`, killed after `secs` (the panic names
/// `what`): (exit code, -1 if killed by a signal; stdout; stderr).
pub fn run_under_ulimit(kib: u64, secs: u64, args: &[&str], what: &str) -> (i32, String, String) {
    let out = output_within(director_under_ulimit(kib, args), secs, what);
    (out.status.code().unwrap_or(-1), lossy(&out.stdout), lossy(&out.stderr))
}

/// A listener on 127.0.0.1, on a port of its own: (the listener, its port).
pub fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    listener().1
}

/// A virtual server (TCP 192.0.2.10:80, round robin, NAT) whose checks run every 0.2 s and
/// retry once, without warm-up; its real servers follow (see [`server`]).
pub const VS: &str = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nscheduler = \"rr\"\n\
                      forward = \"nat\"\ndelay_loop = 0.2\nconnect_timeout = 1\nretry = 1\ndelay_before_retry = 0.1\nwarmup = 0\n";

/// A real server `addr`:80 with the lines `extra`, TCP-checked on 127.0.0.1:`port`.
pub fn server(addr: &str, port: u16, extra: &str) -> String {
    format!(
        "[[virtual_servers.real_servers]]\naddress = \"{addr}\"\nport = 80\n{extra}\n\
         [[virtual_servers.real_servers.tcp_check]]\nconnect_ip = \"127.0.0.1\"\nconnect_port = {port}\n"
    )
}

/// An HTTP response: its status code, its content type and its body (a chunked one decoded).
pub struct Response {
    pub code: u16,
    pub content_type: String,
    pub body: String,
}

/// GET `path` from `listen` with `Connection: close`. Retries the connection while the daemon
/// is starting (at most 15 s); the exchange itself is bounded by 5 s (an error past that).
pub fn get(listen: SocketAddr, path: &str) -> std::io::Result<Response> {
    let start = Instant::now();
    let mut s = loop {
        match TcpStream::connect_timeout(&listen, Duration::from_secs(1)) {
            Ok(s) => break s,
            Err(e) => {
                assert!(start.elapsed() < Duration::from_secs(15), "nothing listens on {listen}: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {listen}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").expect("a header");
    let code = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("a status");
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.trim().to_owned())
    };
    let content_type = header("content-type").unwrap_or_default();
    let chunked = header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { unchunk(body) } else { body.to_owned() };
    Ok(Response { code, content_type, body })
}

/// A chunked body, decoded.
fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("a chunk size");
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size in hex");
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

/// Asks `status()` every `poll` until `ok` holds (at most 15 s; the panic names `what`);
/// returns the status that satisfied it.
pub fn status_until(status: impl Fn() -> Value, poll: Duration, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let s = status();
        if ok(&s) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{what} did not happen; /status:\n{s:#}");
        std::thread::sleep(poll);
    }
}

/// The daemon (`run_with`, two worker threads) on the in-memory kernel, reading a native file
/// in the temporary directory; stopped on drop, which asserts it ended without error.
pub struct Daemon {
    pub mock: Arc<MockTransport>,
    /// Where its HTTP pages are served, if anywhere.
    pub listen: Option<SocketAddr>,
    reload: mpsc::Sender<()>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ipvs_director::Error>>>,
    /// Its configuration file (`ipvs-director-daemon-PID-NAME.toml`).
    pub file: TempFile,
}

impl Daemon {
    /// The daemon on `config`, serving no page.
    pub fn start(name: &str, config: &str) -> Daemon {
        Daemon::start_on(name, config, None)
    }

    /// The daemon on `config`, serving its pages on a port of 127.0.0.1 free a moment ago (the
    /// daemon binds it itself).
    pub fn start_listening(name: &str, config: &str) -> Daemon {
        let listen = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        Daemon::start_on(name, config, Some(listen))
    }

    fn start_on(name: &str, config: &str, listen: Option<SocketAddr>) -> Daemon {
        let file = TempFile::new("daemon", &format!("{name}.toml"), config);
        let mock = Arc::new(MockTransport::new());
        let (reload, reload_rx) = mpsc::channel(4);
        let (stop, stop_rx) = oneshot::channel();
        let options = Options {
            source: Source::Native(file.path().to_owned()),
            listen,
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

    /// The in-memory kernel's table as rules, without its timeouts.
    pub fn rules(&self) -> String {
        let mut t = Client::with_transport(self.mock.clone()).table().unwrap();
        t.set_timeouts(None);
        t.to_rules()
    }

    /// The writes the in-memory kernel has taken.
    pub fn writes(&self) -> u64 {
        self.mock.counters().writes
    }

    /// Waits (at most 15 s) for the table to be `want`.
    pub fn until(&self, want: &str) {
        let start = Instant::now();
        loop {
            let got = self.rules();
            if got == want {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "the table did not become:\n{want}\nit is:\n{got}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asks for a reload (of the file as it is).
    pub fn reload(&self) {
        self.reload.blocking_send(()).unwrap();
    }

    /// Writes `config` to the file and asks for a reload.
    pub fn reload_with(&self, config: &str) {
        std::fs::write(self.file.path(), config).unwrap();
        self.reload();
    }

    /// Stops the daemon and waits for it: it must end without error. Once only; drop does it
    /// if not done.
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let r = t.join();
            assert!(matches!(r, Ok(Ok(()))), "the daemon ended with {r:?}");
        }
    }

    /// GET `path`: the status code, the content type and the body (see [`get`]).
    pub fn get(&self, path: &str) -> (u16, String, String) {
        let r = get(self.listen.expect("a daemon serving its pages"), path).unwrap();
        (r.code, r.content_type, r.body)
    }

    /// GET /status: a 200 of JSON, parsed.
    pub fn status(&self) -> Value {
        let (code, ct, body) = self.get("/status");
        assert_eq!((code, ct.as_str()), (200, "application/json"));
        serde_json::from_str(&body).unwrap()
    }

    /// Waits (at most 15 s, asking every 50 ms) for `/status` to satisfy `ok`; returns it.
    pub fn status_until(&self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        status_until(|| self.status(), Duration::from_millis(50), what, ok)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}
