//! SIGTERM at any point of the daemon's start-up stops it cleanly: the binary on `--mock=FILE`
//! (the in-memory kernel seeded from a rules file, so that start-up takes a while: reading
//! the seed, writing it, reading the configuration, the first apply) gets SIGTERM after a
//! delay that varies from run to run (30 runs, 1 ms to 88 ms after its Rust start-up has
//! run), some runs a second SIGTERM right after the first; every run logs "Stopped" and exits
//! with status 0, never 143 (killed by the signal's default action). Each run is bounded
//! (20 s, then killed).
//!
//! The clock of each run starts once the process is inside the program: the Rust runtime
//! has ignored SIGPIPE (it does so just before `main`), seen in /proc/PID/status, so that
//! the delay measures the program and not how long exec takes.

mod common;

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{director, wait_within, TempFile};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The mask of a line of /proc/PID/status (`SigIgn:`, `SigBlk:`, ...); None once it has exited.
fn mask(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    u64::from_str_radix(line[field.len()..].trim(), 16).ok()
}

/// Waits (at most 10 s) until the child's Rust start-up has ignored SIGPIPE (or it has exited).
fn until_in_program(child: &mut Child) {
    let start = Instant::now();
    let sigpipe = 1u64 << (Signal::SIGPIPE as i32 - 1);
    loop {
        match mask(child.id(), "SigIgn:") {
            Some(m) if m & sigpipe != 0 => return,
            None => return,
            Some(_) => {}
        }
        if child.try_wait().unwrap().is_some() {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the director did not start in 10 s");
        std::thread::yield_now();
    }
}

/// Waits (at most 20 s) for the child to end: its exit code (None: killed by a signal) and
/// its standard error.
fn finish(mut child: Child) -> (Option<i32>, Option<i32>, String) {
    let Some(status) = wait_within(&mut child, Duration::from_secs(20), Duration::from_millis(5)) else {
        panic!("the director still ran 20 s after SIGTERM");
    };
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    use std::os::unix::process::ExitStatusExt;
    (status.code(), status.signal(), stderr)
}

#[test]
fn sigterm_at_any_point_of_start_up_exits_0() {
    // A table of 20,000 services to seed the in-memory kernel with, and a configuration of
    // 50 virtual servers with a TCP check each (against a closed port on 127.0.0.1).
    let seed: String = (0..20_000).map(|i| format!("-A -t 10.1.{}.{}:80 -s rr\n", i / 256, i % 256)).collect();
    let seed = TempFile::new("sigterm", "seed.rules", &seed);
    let config: String = (0..50)
        .map(|i| {
            format!(
                "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.{}\"\nport = 80\nscheduler = \"rr\"\n\
                 delay_loop = 0.2\nconnect_timeout = 1\n\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.11\"\n\
                 [[virtual_servers.real_servers.tcp_check]]\nconnect_ip = \"127.0.0.1\"\nconnect_port = 9\n\n",
                i + 1
            )
        })
        .collect();
    let config = TempFile::new("sigterm", "director.toml", &config);
    let mut failures = Vec::new();
    for run in 0..30u64 {
        let mut child = director(&["--config", config.as_str(), &format!("--mock={}", seed.as_str()), "--no-listen"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        until_in_program(&mut child);
        let delay = Duration::from_millis(1 + 3 * run);
        std::thread::sleep(delay);
        let pid = Pid::from_raw(child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        if run % 3 == 2 {
            // A second SIGTERM while the first one's stop runs.
            std::thread::sleep(Duration::from_millis(run % 5));
            let _ = kill(pid, Signal::SIGTERM);
        }
        let (code, signal, stderr) = finish(child);
        if code != Some(0) || !stderr.contains("Stopped") {
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
            failures.push(format!(
                "run {run} (SIGTERM after {delay:?}): status {code:?}, signal {signal:?}, last lines {tail:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{} of 30 runs did not stop cleanly:\n{}", failures.len(), failures.join("\n"));
}
