//! The reload of a large configuration on the in-memory kernel, natively: keepalived's
//! incident #2318 size (2,277 virtual servers, 37,205 real servers). Timed from reading the
//! new file to the kernel holding its table: parsing and validating, carrying the health of
//! unchanged servers over, building the desired table, planning and applying (with its
//! verification). The new file edits 1 % of the real servers' weights, adds 50 and removes 50.
//! Prints the best of `ROUNDS` (a figure; `./test.sh` prints it in its summary).
//!
//!     director-reload-bench [ROUNDS]

use std::time::{Duration, Instant};

use ipvs::state::{DrainClock, Policy, Scope, Selector};
use ipvs::Client;
use ipvs_director::config::Config;
use ipvs_director::daemon::Runtime;
use ipvs_director::policy;

const VIRTUAL: usize = 2277;
const REAL: usize = 37_205;

/// The native configuration: VIPs 192.0.2.x/198.51.100.x... each with its share of real
/// servers (no checks: all up). `edit` changes weights and the set of servers.
fn config(edit: bool) -> String {
    let mut t = String::with_capacity(REAL * 80);
    let per = REAL / VIRTUAL;
    let mut left = REAL;
    for v in 0..VIRTUAL {
        let vip = format!("192.0.2.{}", v % 250 + 1);
        let port = 1000 + v / 250;
        t += &format!("[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"{vip}\"\nport = {port}\nscheduler = \"wrr\"\nforward = \"nat\"\n");
        let n = if v == VIRTUAL - 1 { left } else { per };
        left -= n;
        for r in 0..n {
            let global = v * per + r;
            // 1 % of the weights change; the first 50 servers are removed and 50 new ones added.
            if edit && global < 50 {
                continue;
            }
            let weight = if edit && global % 100 == 7 { 3 } else { 1 };
            t += &format!(
                "[[virtual_servers.real_servers]]\naddress = \"198.51.{}.{}\"\nport = 8080\nweight = {weight}\n",
                100 + r / 250,
                r % 250 + 1
            );
        }
        if edit && v < 50 {
            t += "[[virtual_servers.real_servers]]\naddress = \"203.0.113.200\"\nport = 8080\n";
        }
    }
    t
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let (before, after) = (config(false), config(true));
    let mut best = Duration::MAX;
    let mut writes = 0;
    for _ in 0..rounds {
        let client = Client::mock();
        let config = Config::from_toml(&before)?;
        let mut rt = Runtime::start(config, &client.table()?);
        let mut clock = DrainClock::new();
        let apply = |rt: &mut Runtime, clock: &mut DrainClock| -> Result<usize, Box<dyn std::error::Error>> {
            let cfg = rt.config.clone();
            let (desired, changes) = policy::decide(&cfg, &rt.server_states(), &rt.quorum);
            for c in changes {
                rt.quorum.insert(c.virtual_server, c.up);
            }
            let desired = desired?;
            let scope = Scope::Selected(rt.managed.iter().map(Selector::service).collect());
            let plan = client.plan_with_clock(&desired, &scope, &Policy::default(), clock)?;
            let report = client.apply(&plan)?;
            if !report.converged {
                return Err(report.summary().into());
            }
            rt.managed = rt.configured();
            Ok(report.writes)
        };
        apply(&mut rt, &mut clock)?;
        let start = Instant::now();
        let config = Config::from_toml(&after)?;
        rt.reload(config);
        writes = apply(&mut rt, &mut clock)?;
        best = best.min(start.elapsed());
    }
    println!(
        "reload of {VIRTUAL} virtual servers / {REAL} real servers on the mock: {:.3} s ({writes} writes; best of {rounds})",
        best.as_secs_f64()
    );
    Ok(())
}
