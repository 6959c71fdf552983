//! Connection sync (the second section): a long TCP stream through the VIP across a SIGKILL
//! failover, with `lvs_sync_daemon` and without.

use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipvs_lab_tools::{check, ns_output, Res};

use crate::client::{secs, wait_vip_via};
use crate::config::{Vrrp, BASE};
use crate::director::start_ours_pair;
use crate::network::{clean, sync_daemons};
use crate::{master_down, ns_path, sleep, Node, CLIENT, D1, D2, MARGIN, STREAM_PORT, VIP};

#[derive(Default)]
struct StreamState {
    bytes: u64,
    end: Option<String>,
}

/// A client connection to VIP:9000, read continuously by a thread.
pub(crate) struct Stream {
    state: Arc<Mutex<StreamState>>,
    stop: Arc<AtomicBool>,
    pub(crate) port: u16,
}

impl Stream {
    pub(crate) fn open() -> Res<Stream> {
        let state = Arc::new(Mutex::new(StreamState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let ns = File::open(ns_path(CLIENT.ns))?;
        let (tx, rx) = std::sync::mpsc::channel();
        let (st, sp) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            let conn = nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    TcpStream::connect_timeout(&SocketAddr::new(IpAddr::V4(VIP), STREAM_PORT), Duration::from_secs(3))
                        .map_err(|e| e.to_string())
                })
                .and_then(|c| {
                    c.set_read_timeout(Some(Duration::from_millis(200))).map_err(|e| e.to_string())?;
                    let port = c.local_addr().map_err(|e| e.to_string())?.port();
                    Ok((c, port))
                });
            let mut c = match conn {
                Ok((c, port)) => {
                    let _ = tx.send(Ok(port));
                    c
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            let mut buf = [0u8; 16384];
            let until = Instant::now() + Duration::from_secs(300);
            while !sp.load(Ordering::SeqCst) && Instant::now() < until {
                match c.read(&mut buf) {
                    Ok(0) => {
                        st.lock().map(|mut s| s.end = Some("closed by the peer".into())).ok();
                        return;
                    }
                    Ok(n) => {
                        st.lock().map(|mut s| s.bytes += n as u64).ok();
                    }
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                    Err(e) => {
                        st.lock().map(|mut s| s.end = Some(e.to_string())).ok();
                        return;
                    }
                }
            }
        });
        let port = rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "stream: connect timed out")??;
        Ok(Stream { state, stop, port })
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.state.lock().map(|s| s.bytes).unwrap_or(0)
    }

    pub(crate) fn end(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.end.clone())
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Whether `node`'s IPVS connection table has the client's stream connection.
pub(crate) fn has_connection(node: Node, port: u16) -> bool {
    ns_output(node.ns, &["ipvsadm", "-Lnc"]).is_ok_and(|t| {
        t.lines().any(|l| l.contains(&format!("{}:{port}", CLIENT.addr)) && l.contains(&format!("{VIP}:{STREAM_PORT}")))
    })
}

pub(crate) fn sync(program: &str, with_sync: bool, f: &mut Vec<String>) -> Res<()> {
    let label = if with_sync { "with lvs_sync_daemon" } else { "without connection sync" };
    println!("\n== a long TCP stream through the VIP (direct routing to rs1:{STREAM_PORT}) across a SIGKILL failover, {label}");
    clean()?;
    let v = Vrrp { sync: with_sync, ..BASE };
    let (mut d1, mut d2) = start_ours_pair(program, v, "sync", f)?;
    if with_sync {
        check_sync_daemons(f);
    }
    if wait_vip_via(D1, Instant::now(), Duration::from_secs(10), 5.0)?.is_none() {
        return Err("the client does not reach the VIP through d1".into());
    }
    let stream = stream_through_d1(with_sync, f)?;
    let at = Instant::now();
    d1.kill();
    let took = wait_vip_via(D2, at, Duration::from_secs(15), master_down(100, 1.0) + MARGIN)?;
    check(took.is_some(), format!("SIGKILL of d1: d2 answers for the VIP after {}", secs(took)), f);
    let before = stream.bytes();
    let since = Instant::now();
    if with_sync {
        sleep(5000);
        let got = stream.bytes() - before;
        let end = stream.end();
        check(
            end.is_none() && got >= 50_000,
            format!(
                "with sync: the stream goes on through d2 ({got} bytes in the 5 s after the takeover, error: {end:?})"
            ),
            f,
        );
        let m = sync_daemons(D2);
        check(
            m.contains("master sync daemon"),
            format!("d2, now master, runs the master sync daemon: {:?}", m.trim()),
            f,
        );
    } else {
        // Broken: reset, or no byte for 3 s, within 15 s.
        let mut outcome = None;
        let (mut last, mut last_at) = (before, Instant::now());
        while since.elapsed() < Duration::from_secs(15) {
            if let Some(e) = stream.end() {
                outcome = Some(format!("ended after {:.2} s: {e}", since.elapsed().as_secs_f64()));
                break;
            }
            let b = stream.bytes();
            if b != last {
                (last, last_at) = (b, Instant::now());
            } else if last_at.elapsed() > Duration::from_secs(3) {
                outcome =
                    Some(format!("stalled: no byte since {:.2} s after the takeover", (last_at - since).as_secs_f64()));
                break;
            }
            sleep(100);
        }
        check(
            outcome.is_some(),
            format!(
                "without sync: the stream breaks after the takeover ({})",
                outcome.as_deref().unwrap_or("it did not")
            ),
            f,
        );
    }
    drop(stream);
    d2.stop()?;
    Ok(())
}

/// Waits (at most 10 s) until d1 runs the master sync daemon and d2 the backup one.
pub(crate) fn check_sync_daemons(f: &mut Vec<String>) {
    let until = Instant::now() + Duration::from_secs(10);
    let (mut m, mut b) = (String::new(), String::new());
    while Instant::now() < until {
        (m, b) = (sync_daemons(D1), sync_daemons(D2));
        if m.contains("master sync daemon") && b.contains("backup sync daemon") {
            break;
        }
        sleep(200);
    }
    check(
        m.contains("master sync daemon") && b.contains("backup sync daemon"),
        format!("sync daemons: d1 {:?}, d2 {:?}", m.trim(), b.trim()),
        f,
    );
}

/// Opens the stream through the VIP (d1 master) and waits until it flows and, `with_sync`,
/// until the backup d2 has its connection.
pub(crate) fn stream_through_d1(with_sync: bool, f: &mut Vec<String>) -> Res<Stream> {
    let stream = Stream::open()?;
    let until = Instant::now() + Duration::from_secs(15);
    while stream.bytes() < 100_000 && stream.end().is_none() && Instant::now() < until {
        sleep(100);
    }
    check(stream.bytes() >= 100_000, format!("the stream flows through d1 ({} bytes)", stream.bytes()), f);
    let until = Instant::now() + Duration::from_secs(10);
    let mut synced = has_connection(D2, stream.port);
    while with_sync && !synced && Instant::now() < until {
        sleep(200);
        synced = has_connection(D2, stream.port);
    }
    if with_sync {
        check(synced, "the backup d2 has the connection in its IPVS table (synced)".into(), f);
    } else {
        println!("      the backup d2 has the connection in its IPVS table: {synced}");
    }
    Ok(stream)
}
