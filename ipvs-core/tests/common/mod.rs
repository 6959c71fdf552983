//! Test harness shared by the scenario suites: one [`Target`] per test, the mock by default
//! or the real kernel when `IPVS_TEST_TARGET=kernel` (the lab sets it).
//!
//! On the kernel every target lives in a network namespace of its own, made for the test, so
//! tests run in parallel on isolated IPVS tables. A kernel target that cannot be made is a
//! test failure, never a skip.
#![allow(dead_code)]

use std::process::Command;
use std::sync::Arc;

use ipvs::transport::{MockTransport, NetlinkTransport, Transport};
use ipvs::Client;

/// Whether this run targets the real kernel.
pub fn on_kernel() -> bool {
    match std::env::var("IPVS_TEST_TARGET").as_deref() {
        Ok("kernel") => true,
        Ok("mock") | Err(_) => false,
        Ok(other) => panic!("IPVS_TEST_TARGET must be kernel or mock, not {other:?}"),
    }
}

/// A fresh, empty IPVS for one test, with a dummy interface `dummy0` for sync daemons.
pub struct Target {
    pub transport: Arc<dyn Transport>,
    /// `/proc/PID/task/TID/ns/net` of the namespace's keeper thread (kernel only).
    pub netns_path: Option<String>,
    _keeper: Option<Keeper>,
}

/// Keeps a namespace's keeper thread alive (so its ns path stays valid) until dropped.
struct Keeper {
    stop: std::sync::mpsc::Sender<()>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Keeper {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Target {
    pub fn new() -> Self {
        if on_kernel() {
            Self::kernel()
        } else {
            Target {
                transport: Arc::new(MockTransport::builder().interfaces(["lo", "dummy0"]).build()),
                netns_path: None,
                _keeper: None,
            }
        }
    }

    fn kernel() -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            let made = (|| -> Result<(NetlinkTransport, String), String> {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("unshare: {e}"))?;
                // Children of this thread start in its namespace.
                for cmd in [
                    &["link", "set", "lo", "up"][..],
                    &["link", "add", "dummy0", "type", "dummy"],
                    &["link", "set", "dummy0", "up", "multicast", "on"],
                ] {
                    let st = Command::new("ip").args(cmd).status().map_err(|e| format!("ip: {e}"))?;
                    if !st.success() {
                        return Err(format!("ip {cmd:?} failed"));
                    }
                }
                let path = format!("/proc/{}/task/{}/ns/net", std::process::id(), nix::unistd::gettid());
                let t = NetlinkTransport::open().map_err(|e| format!("open: {e}"))?;
                Ok((t, path))
            })();
            let ok = made.is_ok();
            let _ = tx.send(made);
            if ok {
                let _ = stop_rx.recv();
            }
        });
        let (transport, path) = rx
            .recv()
            .expect("namespace thread died")
            .unwrap_or_else(|e| panic!("cannot make a kernel test target (root and IPVS needed): {e}"));
        Target {
            transport: Arc::new(transport),
            netns_path: Some(path),
            _keeper: Some(Keeper { stop: stop_tx, handle: Some(handle) }),
        }
    }

    pub fn client(&self) -> Client<Arc<dyn Transport>> {
        Client::with_transport(self.transport.clone())
    }

    /// Runs a command in the target's namespace (kernel only).
    pub fn run_in_netns(&self, program: &str, args: &[&str]) -> std::process::Output {
        let path = self.netns_path.as_ref().expect("kernel target");
        Command::new("nsenter").arg(format!("--net={path}")).arg(program).args(args).output().expect("nsenter")
    }
}
