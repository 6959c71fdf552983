//! `ipvs top` driven in a real terminal (tmux): it starts, sorts by the key pressed, filters
//! by the text typed, and quits on `q`. Against the in-memory kernel with invented traffic
//! that changes every 0.2 s, so every check reads the screen it is about.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> std::process::Output {
    Command::new("tmux").args(args).output().expect("tmux is needed (lab/setup.sh installs it)")
}

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = tmux(&["kill-session", "-t", &self.0]);
    }
}

impl Session {
    fn screen(&self) -> String {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &self.0]).stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.0.as_str()];
        args.extend_from_slice(keys);
        assert!(tmux(&args).status.success());
    }

    /// Waits (at most 10 s) for a screen that `ok` accepts; the last screen if none is.
    fn until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no screen with {what} in 10 s; last:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// 950, 12.3K, 4.56M as numbers.
fn number(s: &str) -> f64 {
    let (n, mult) = match s.chars().last() {
        Some('K') => (&s[..s.len() - 1], 1e3),
        Some('M') => (&s[..s.len() - 1], 1e6),
        Some('G') => (&s[..s.len() - 1], 1e9),
        Some('T') => (&s[..s.len() - 1], 1e12),
        _ => (s, 1.0),
    };
    n.parse::<f64>().map(|v| v * mult).unwrap_or(f64::NAN)
}

/// The service rows of a screen: (label, columns after the label).
fn services(screen: &str) -> Vec<(String, Vec<f64>)> {
    screen
        .lines()
        .filter_map(|l| l.strip_prefix('│'))
        .filter(|l| l.starts_with("TCP ") || l.starts_with("UDP ") || l.starts_with("FWM "))
        .map(|l| {
            let f: Vec<&str> = l.trim_end_matches('│').split_whitespace().collect();
            (format!("{} {}", f[0], f[1]), f[3..].iter().map(|v| number(v)).collect())
        })
        .collect()
}

fn descending(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[0] >= w[1])
}

#[test]
fn top_sorts_filters_and_quits_in_a_terminal() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/running.rules");
    let name = format!("ipvs-top-{}", std::process::id());
    let command = format!(
        "{} --mock={} top --mock-traffic --interval 0.2",
        env!("CARGO_BIN_EXE_ipvs"),
        rules.canonicalize().unwrap().display()
    );
    let out = tmux(&["new-session", "-d", "-s", &name, "-x", "132", "-y", "24", &command]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = Session(name);

    let first = s.until("the view", |x| x.contains("ipvs top: 3 services, 5 destinations; sorted by conns/s"));
    assert!(first.contains("SERVICE / DESTINATION") && first.contains("q quit"), "{first}");

    // Sorted by connections per second (column 5 of the numbers: ACTIVE INACT CONN/S ...).
    s.until("services by conns/s", |x| {
        let rows = services(x);
        rows.len() == 3 && descending(&rows.iter().map(|r| r.1[2]).collect::<Vec<_>>())
    });

    // b: bytes per second in and out.
    s.keys(&["b"]);
    s.until("services by bytes/s", |x| {
        let rows = services(x);
        x.contains("sorted by bytes/s")
            && rows.len() == 3
            && descending(&rows.iter().map(|r| r.1[5] + r.1[6]).collect::<Vec<_>>())
    });

    // n, then r: names, reversed.
    s.keys(&["n", "r"]);
    let by_name = s.until("services by name, reversed", |x| x.contains("sorted by name (reversed)"));
    let labels: Vec<String> = services(&by_name).into_iter().map(|r| r.0).collect();
    assert_eq!(labels, ["UDP 192.0.2.10:53", "TCP 192.0.2.20:443", "TCP 192.0.2.10:80"], "{by_name}");

    // /: a filter on one real server's address.
    s.keys(&["/", "198.51.100.21", "Enter"]);
    let filtered = s.until("the filter", |x| x.contains("filter \"198.51.100.21\""));
    let labels: Vec<String> = services(&filtered).into_iter().map(|r| r.0).collect();
    assert_eq!(labels, ["TCP 192.0.2.20:443"], "{filtered}");
    assert!(!filtered.contains("198.51.100.11"), "{filtered}");

    // q ends it: the session goes away with the program.
    s.keys(&["q"]);
    let start = Instant::now();
    while tmux(&["has-session", "-t", &s.0]).status.success() {
        assert!(start.elapsed() < Duration::from_secs(5), "still running after q:\n{}", s.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
}
