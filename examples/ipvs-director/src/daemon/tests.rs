//! The shell's event handling on the fake host, without root and without a network: check
//! results fed in as [`Attempt`] values are recorded, their events carried out (the notify
//! scripts run, the counters show in `/metrics`) and the table applied to the fake host's
//! in-memory kernel, as the loop does it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipvs::state::{DrainClock, Table};
use ipvs::transport::MockTransport;
use ipvs_exporter::serve::Body;

use super::apply::apply;
use super::checks::{record_result, Checks};
use super::{lock, web, Counters, Runtime, ServerKey, Shared, Source};
use crate::check::{Attempt, CheckError, Step};
use crate::config::Config;
use crate::host::{Fake, Host};

/// A file in the temporary directory, removed on drop.
struct Note(PathBuf);

impl Note {
    fn new(name: &str) -> Note {
        let p = std::env::temp_dir().join(format!("ipvs-director-shell-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        Note(p)
    }

    /// A script appending `what` to the file.
    fn script(&self, what: &str) -> String {
        format!("[\"/bin/sh\", \"-c\", \"echo {what} >> {}\"]", self.0.display())
    }

    /// Waits (at most 10 s) for the file to hold `want`, a line each.
    async fn until(&self, want: &[&str]) {
        let start = Instant::now();
        loop {
            let got = std::fs::read_to_string(&self.0).unwrap_or_default();
            if got.lines().collect::<Vec<_>>() == want {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{} holds {got:?}, not {want:?}", self.0.display());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Note {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The daemon's state on `text`, started on an empty kernel, and the fake host.
fn daemon(text: &str) -> (Arc<Shared>, Arc<dyn Host>) {
    let config = Config::from_toml(text).unwrap();
    let shared = Arc::new(Shared {
        runtime: Mutex::new(Runtime::start(config, &Table::new())),
        counters: Mutex::new(Counters::default()),
        source: Source::Native(Path::new("/etc/ipvs-director.toml").to_owned()),
        vrrp: Arc::default(),
    });
    (shared, Arc::new(Fake::new(Vec::new(), Vec::new())))
}

const VS: &str = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nscheduler = \"rr\"\n\
                  forward = \"nat\"\nretry = 1\n";

fn server(addr: &str, extra: &str) -> String {
    format!(
        "[[virtual_servers.real_servers]]\naddress = \"{addr}\"\nport = 80\n{extra}\n\
         [[virtual_servers.real_servers.tcp_check]]\n"
    )
}

fn refused() -> Attempt {
    let step = Step::Connect("198.51.100.11:80".parse().unwrap());
    Attempt { result: Err(CheckError::Refused { step }), latency: Duration::from_millis(1), weight: None }
}

/// The first check of real server `addr`:80 of the only virtual server.
fn check_of(shared: &Shared, addr: &str) -> super::CheckKey {
    let rt = lock(&shared.runtime);
    let vs = &rt.config.virtual_servers[0];
    let rs = vs.real_servers.iter().find(|rs| rs.address.to_string() == addr).unwrap();
    rt.servers[&ServerKey::new(vs, rs)].checks[0].clone()
}

/// Feeds `a` to check `key` as the loop does: recorded, its events carried out, the table
/// applied when they change it. Returns whether they did.
async fn feed(
    shared: &Arc<Shared>,
    host: &Arc<dyn Host>,
    clock: &mut DrainClock,
    key: &super::CheckKey,
    a: Attempt,
) -> bool {
    let dirty = record_result(shared, &mut Checks::new(), key, &a, tokio::time::Instant::now());
    if dirty {
        apply(host, shared, clock).await;
    }
    dirty
}

fn rules(host: &Arc<dyn Host>) -> String {
    let mut t = host.ipvs().table().unwrap();
    t.set_timeouts(None);
    t.to_rules()
}

/// `/metrics` as the pages serve it (the kernel's part read from an empty one).
async fn metrics(shared: &Arc<Shared>) -> String {
    let pages = web::pages(shared.clone(), Arc::new(MockTransport::new()), None, false);
    let Some(Body::Written(write)) = pages("/metrics").map(|p| p.body) else { panic!("no /metrics") };
    tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        write(&mut out).unwrap();
        out
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_take_a_server_out_run_its_notify_down_and_count_by_kind() {
    let note = Note::new("notify-down");
    let text = format!(
        "{VS}{}{}",
        server("198.51.100.11", &format!("notify_down = {}", note.script("down"))),
        server("198.51.100.12", "")
    );
    let (shared, host) = daemon(&text);
    let mut clock = DrainClock::new();
    apply(&host, &shared, &mut clock).await;
    let both = "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 1\n\
                -a -t 192.0.2.10:80 -r 198.51.100.12:80 -m -w 1\n";
    assert_eq!(rules(&host), both);
    let key = check_of(&shared, "198.51.100.11");
    let ok = Attempt { result: Ok(()), latency: Duration::from_millis(1), weight: None };
    assert!(!feed(&shared, &host, &mut clock, &key, ok).await);
    // retry 1: the first failure changes nothing, the second takes the server out.
    assert!(!feed(&shared, &host, &mut clock, &key, refused()).await);
    assert_eq!(rules(&host), both);
    assert!(feed(&shared, &host, &mut clock, &key, refused()).await);
    assert_eq!(rules(&host), "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.12:80 -m -w 1\n");
    note.until(&["down"]).await;
    let m = metrics(&shared).await;
    let row = "ipvs_director_check_failures_total{virtual_server=\"[192.0.2.10]:tcp:80\",\
               real_server=\"198.51.100.11:80\",check=\"tcp_check#0\",kind=\"refused\"} 2\n";
    assert!(m.contains(row), "{m}");
    assert!(
        m.contains(
            "ipvs_director_real_server_up{virtual_server=\"[192.0.2.10]:tcp:80\",real_server=\"198.51.100.11:80\"} 0.0\n"
        ),
        "{m}"
    );
    let c = *lock(&shared.counters);
    assert_eq!((c.applies, c.writes, c.apply_failures), (2, 4, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_quorum_runs_quorum_down_and_puts_the_sorry_server_in() {
    let note = Note::new("quorum");
    let vs = format!(
        "{VS}quorum = 2\nquorum_up = {}\nquorum_down = {}\n[virtual_servers.sorry_server]\naddress = \"198.51.100.99\"\n",
        note.script("up"),
        note.script("down")
    );
    let text = format!("{vs}{}{}", server("198.51.100.11", "weight = 2"), server("198.51.100.12", "weight = 1"));
    let (shared, host) = daemon(&text);
    let mut clock = DrainClock::new();
    apply(&host, &shared, &mut clock).await;
    note.until(&["up"]).await;
    {
        let rt = lock(&shared.runtime);
        assert_eq!(rt.quorum.get(&rt.config.virtual_servers[0].id), Some(&true));
    }
    // .12 fails: 2 of 2 left, quorum kept.
    let k12 = check_of(&shared, "198.51.100.12");
    feed(&shared, &host, &mut clock, &k12, refused()).await;
    assert_eq!(rules(&host), "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.11:80 -m -w 2\n");
    // .11 fails: 0 left, quorum lost, the sorry server in.
    let k11 = check_of(&shared, "198.51.100.11");
    assert!(feed(&shared, &host, &mut clock, &k11, refused()).await);
    assert_eq!(rules(&host), "-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 198.51.100.99:80 -m -w 1\n");
    note.until(&["up", "down"]).await;
    let m = metrics(&shared).await;
    assert!(m.contains("ipvs_director_quorum_up{virtual_server=\"[192.0.2.10]:tcp:80\"} 0.0\n"), "{m}");
}
