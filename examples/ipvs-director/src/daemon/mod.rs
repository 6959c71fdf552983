//! The daemon: checks running on their own schedules, the table they imply applied with the
//! desired-state engine (minimal, verified, drained), reload on SIGHUP, stop on SIGTERM, and
//! `/metrics` and `/status` on a loopback address.
//!
//! One task per check runs its attempts (never two at once, never blocking another) and
//! reports each result to the coordinator, which owns every state: it updates the check's
//! health, the server's, the quorum, and applies the table when something changed.

mod reload;
mod state;
mod web;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ipvs::state::{DrainClock, Policy, Scope, Selector};
use ipvs::transport::Transport;
use ipvs::Client;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};

use crate::check::{attempt, run_script, Attempt};
use crate::config::{Config, ResolvedCheck, Script};
use crate::health::Change;
use crate::policy;
use crate::Error;
use reload::Reading;
pub use reload::{ConfigReader, Loader, MAX_ABANDONED_READS, RELOAD_DEADLINE};
pub use state::{CheckKey, Runtime};

/// Where the configuration comes from (read again on SIGHUP).
#[derive(Debug, Clone)]
pub enum Source {
    /// The native TOML file.
    Native(PathBuf),
    /// keepalived.conf.
    Keepalived(PathBuf),
}

impl Source {
    /// Reads and validates the configuration (scripts included, with
    /// `enable_script_security`).
    pub fn load(&self) -> Result<Config, Error> {
        let config = match self {
            Source::Native(p) => Config::load(p)?,
            Source::Keepalived(p) => crate::keepalived::read_file(p)?,
        };
        config.check_script_security()?;
        Ok(config)
    }
}

/// How the daemon runs.
pub struct Options {
    /// The configuration.
    pub source: Source,
    /// Where `/metrics` and `/status` are served (None: nowhere).
    pub listen: Option<SocketAddr>,
    /// The namespace (for the kernel totals in the metrics).
    pub netns: Option<PathBuf>,
    /// Delete the managed services on SIGTERM (keepalived's default); else they stay, and
    /// traffic flows on across a restart.
    pub release_on_exit: bool,
    /// Read the kernel's totals from /proc for the metrics (not on the in-memory kernel).
    pub proc_totals: bool,
}

/// The client every part shares.
pub type Ipvs = Client<Arc<dyn Transport>>;

/// A check's result, on its way to the coordinator; the reply says when to run next and
/// which url (None: stop, the check is gone).
struct Report {
    key: CheckKey,
    attempt: Attempt,
    reply: oneshot::Sender<Option<(Duration, usize)>>,
}

/// Counters of the daemon's own work.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    /// Applies done.
    pub applies: u64,
    /// Writes they made.
    pub writes: u64,
    /// Applies that failed or did not converge.
    pub apply_failures: u64,
    /// Reloads done.
    pub reloads: u64,
    /// Reloads refused (a bad file).
    pub reload_errors: u64,
}

/// What the web pages read.
pub struct Shared {
    /// The runtime state.
    pub runtime: Mutex<Runtime>,
    /// The counters.
    pub counters: Mutex<Counters>,
    /// Where the configuration comes from.
    pub source: Source,
    /// The VRRP instances.
    pub vrrp: crate::failover::Board,
}

/// A lock whose holder panicked is still usable: the state it guards stays consistent
/// (every writer finishes its change before releasing it).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A pseudo-random delay in 0..=max (spreads first checks; not a secret).
fn jitter(max: Duration, salt: u64) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    Duration::from_nanos(x % (max.as_nanos() as u64).max(1))
}

/// Where a check runs only while an address is local (`ha_suspend`): the address and the
/// namespace to look in.
type Suspend = Option<(std::net::IpAddr, Option<PathBuf>)>;

fn spawn_check(
    key: CheckKey,
    resolved: ResolvedCheck,
    url: usize,
    suspend: Suspend,
    tx: mpsc::Sender<Report>,
) -> tokio::task::JoinHandle<()> {
    // keepalived: 1 s, then a random part of warmup.
    let first = Duration::from_secs(1) + jitter(resolved.warmup, key.len() as u64);
    tokio::spawn(async move {
        let (mut delay, mut url) = (first, url);
        let mut suspended = false;
        loop {
            tokio::time::sleep(delay).await;
            if let Some((addr, netns)) = &suspend {
                let (addr, netns) = (*addr, netns.clone());
                let here = tokio::task::spawn_blocking(move || crate::failover::address_is_local(netns.as_ref(), addr))
                    .await
                    .unwrap_or(true);
                if here == suspended {
                    suspended = !here;
                    tracing::info!(check = %key, %addr, "{} check: {addr} is {}here (ha_suspend)", if here { "resuming" } else { "suspending" }, if here { "" } else { "not " });
                }
                if suspended {
                    continue;
                }
            }
            let a = attempt(&resolved, url).await;
            let (reply, next) = oneshot::channel();
            if tx.send(Report { key: key.clone(), attempt: a, reply }).await.is_err() {
                return;
            }
            match next.await {
                Ok(Some((d, u))) => (delay, url) = (d, u),
                _ => return,
            }
        }
    })
}

/// Runs a notify script in the background (bounded: 5 minutes).
fn notify(config: &Config, script: Option<&Script>, what: String) {
    let Some(s) = script.map(|s| config.script_as_run(s)) else { return };
    tokio::spawn(async move {
        let out = run_script(&s, Duration::from_secs(300)).await;
        tracing::info!(script = ?s.argv, outcome = %out, "{what}: notify script ran");
    });
}

/// The coordinator's side of a result: health, logs, notifications. Returns the reply and
/// whether the table may have to change.
fn record(rt: &mut Runtime, key: &str, a: &Attempt) -> (Option<(Duration, usize)>, bool) {
    let Some((v, r, c)) = rt.find(key) else { return (None, false) };
    let now = SystemTime::now();
    let config = rt.config.clone();
    let vs = &config.virtual_servers[v];
    let rs = &vs.real_servers[r];
    let server = &mut rt.servers[v][r];
    let check = &mut server.checks[c];
    check.attempts += 1;
    let ok = a.result.is_ok();
    if let Err(e) = &a.result {
        *check.failures.entry(e.kind()).or_default() += 1;
    }
    let old_weight = check.weight;
    check.weight = if ok { a.weight } else { check.weight };
    check.last = Some(crate::daemon::state::LastAttempt { at: now, result: a.result.clone(), latency: a.latency });
    let (change, delay) = check.health.record(ok);
    let kind = check.resolved.kind.names().1;
    // Written out only when logged (most attempts change nothing and log nothing).
    let target = Target(check.resolved.target);
    match (&a.result, change) {
        (Err(e), Change::Down) => {
            check.since = now;
            check.weight = None;
            tracing::warn!(vs = %vs.id, rs = %rs.address, check = kind, %target, error = %e, "{kind} on [{}] failed", rs.address);
        }
        (Ok(()), Change::Up) => {
            check.since = now;
            tracing::info!(vs = %vs.id, rs = %rs.address, check = kind, %target, "{kind} on [{}] succeeded", rs.address);
        }
        (Err(e), Change::FirstFailure) => {
            tracing::warn!(vs = %vs.id, rs = %rs.address, check = kind, %target, error = %e, "{kind} on [{}] failed (first run)", rs.address);
            notify(&config, rs.notify_down.as_ref(), format!("{} of {} down", rs.address, vs.id));
        }
        (Err(e), _) if check.resolved.log_all_failures => {
            tracing::info!(vs = %vs.id, rs = %rs.address, check = kind, %target, error = %e, "{kind} attempt failed");
        }
        _ => {}
    }
    let url = check.health.url();
    let weight_changed = check.weight != old_weight;
    let alive = server.all_up();
    let mut dirty = weight_changed;
    if alive != server.alive {
        server.alive = alive;
        server.since = now;
        dirty = true;
        if alive {
            tracing::info!(vs = %vs.id, rs = %rs.address, "Adding service [{}] to VS {}", rs.address, vs.id);
            notify(&config, rs.notify_up.as_ref(), format!("{} of {} up", rs.address, vs.id));
        } else {
            tracing::info!(vs = %vs.id, rs = %rs.address, "Removing service [{}] from VS {}", rs.address, vs.id);
            notify(&config, rs.notify_down.as_ref(), format!("{} of {} down", rs.address, vs.id));
        }
    }
    (Some((delay, url)), dirty)
}

/// A check's target address as the logs show it (empty when it has none).
struct Target(Option<std::net::SocketAddr>);

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(t) => t.fmt(f),
            None => Ok(()),
        }
    }
}

/// Decides quorums, builds the table, applies it. Returns whether to come back soon
/// (draining destinations, or an apply that did not converge).
async fn apply(client: &Arc<Ipvs>, shared: &Arc<Shared>, clock: &mut DrainClock) -> bool {
    let (desired, scope, configured) = {
        let mut rt = lock(&shared.runtime);
        let config = rt.config.clone();
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            let states: Vec<_> = rt.servers[v].iter().map(|s| s.state()).collect();
            if let Some(up) = policy::update_quorum(vs, &states, &mut rt.quorum[v]) {
                let w = policy::live_weight(vs, &states);
                if up {
                    tracing::info!(vs = %vs.id, weight = w, "Gained quorum {}+{}={} <= {w} for VS {}", vs.quorum, vs.hysteresis, vs.quorum + vs.hysteresis, vs.id);
                    notify(&config, vs.quorum_up.as_ref(), format!("quorum of {} up", vs.id));
                } else {
                    tracing::warn!(vs = %vs.id, weight = w, "Lost quorum {}-{}={} > {w} for VS {}", vs.quorum, vs.hysteresis, vs.quorum.saturating_sub(vs.hysteresis), vs.id);
                    notify(&config, vs.quorum_down.as_ref(), format!("quorum of {} down", vs.id));
                }
            }
        }
        let states: Vec<Vec<_>> = rt.servers.iter().map(|l| l.iter().map(|s| s.state()).collect()).collect();
        let desired = match policy::desired(&config, &states, &rt.quorum) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "the configuration gives no valid table");
                return false;
            }
        };
        let scope = Scope::Selected(rt.managed.iter().map(Selector::service).collect());
        (desired, scope, rt.configured())
    };
    let client = client.clone();
    let mut c = std::mem::take(clock);
    let result = tokio::task::spawn_blocking(move || {
        let plan = client.plan_with_clock(&desired, &scope, &Policy::default(), &mut c);
        (plan.and_then(|p| client.apply(&p).map(|r| (p, r))), c)
    })
    .await;
    let Ok((result, c)) = result else {
        tracing::error!("the apply task failed");
        return true;
    };
    *clock = c;
    let mut counters = lock(&shared.counters);
    counters.applies += 1;
    match result {
        Ok((plan, report)) => {
            counters.writes += report.writes as u64;
            for s in plan.steps() {
                tracing::info!(command = %ipvs::rules::request_line(&s.request, &ipvs::rules::Numeric), why = %s.why, "applied");
            }
            for f in &report.failures {
                tracing::error!(command = %ipvs::rules::request_line(&f.request, &ipvs::rules::Numeric), error = %f.error, "write failed");
            }
            if report.converged && report.failures.is_empty() {
                lock(&shared.runtime).managed = configured;
            } else {
                counters.apply_failures += 1;
                tracing::warn!(summary = %report.summary(), "the kernel does not hold the desired table yet; again in 1 s");
            }
            !report.converged || !report.failures.is_empty() || !report.draining.is_empty()
        }
        Err(e) => {
            counters.apply_failures += 1;
            tracing::error!(error = %e, "apply failed; again in 1 s");
            true
        }
    }
}

/// `omega`: on stop, the notify_down script of each live real server and the quorum_down
/// script of each virtual server with quorum, waited for (10 s at most each, all at once).
async fn run_omega(shared: &Shared) {
    let scripts: Vec<(Script, String)> = {
        let rt = lock(&shared.runtime);
        let config = &rt.config;
        let mut out = Vec::new();
        for (v, vs) in config.virtual_servers.iter().enumerate().filter(|(_, vs)| vs.omega) {
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let alive = rt.servers.get(v).and_then(|l| l.get(r)).is_some_and(|s| s.alive);
                if let (true, Some(s)) = (alive, &rs.notify_down) {
                    out.push((config.script_as_run(s), format!("{} of {} down (omega)", rs.address, vs.id)));
                }
            }
            if let (Some(Some(true)), Some(s)) = (rt.quorum.get(v), &vs.quorum_down) {
                out.push((config.script_as_run(s), format!("quorum of {} down (omega)", vs.id)));
            }
        }
        out
    };
    let runs: Vec<_> = scripts
        .into_iter()
        .map(|(s, what)| {
            tokio::spawn(async move {
                let out = run_script(&s, Duration::from_secs(10)).await;
                tracing::info!(script = ?s.argv, outcome = %out, "{what}: notify script ran");
            })
        })
        .collect();
    for r in runs {
        let _ = r.await;
    }
}

/// Starts reading the configuration for a reload; None (an error logged and counted) when
/// no read can start.
fn start_reading(reader: &ConfigReader, shared: &Shared) -> Option<Reading> {
    match reader.start() {
        Ok(r) => Some(r),
        Err(e) => {
            lock(&shared.counters).reload_errors += 1;
            tracing::error!(error = %e, "reload: the new configuration cannot be read; the running one stays");
            None
        }
    }
}

/// The answer of the read under way (never, when there is none).
async fn answer_of(reading: &mut Option<Reading>) -> Result<Config, Error> {
    match reading {
        Some(r) => r.answer().await,
        None => std::future::pending().await,
    }
}

/// What controls a running daemon besides its configuration: reload and stop requests.
pub struct Control {
    /// Each message reloads the configuration.
    pub reload: mpsc::Receiver<()>,
    /// Stops the daemon when it completes.
    pub stop: oneshot::Receiver<()>,
}

/// The signals the daemon acts on: SIGTERM, SIGINT (stop) and SIGHUP (reload).
///
/// Until [`run`] has installed its handlers, these signals have their default action, which
/// for all three is to kill the process (status 143 for SIGTERM). A program that calls
/// [`run`] blocks them first thing (`control_signals().thread_block()`, before any thread
/// starts): one that comes during its start-up then waits, pending, and [`run`] unblocks
/// them once its handlers are in place, so the daemon stops (or reloads) as asked.
pub fn control_signals() -> nix::sys::signal::SigSet {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    set
}

/// Runs the daemon until SIGTERM or SIGINT; SIGHUP reloads. The handlers stay installed
/// until the process exits (tokio never uninstalls them), so a second SIGTERM while it stops
/// changes nothing; [`control_signals`] blocked by the caller are unblocked here, once the
/// handlers are in place.
pub async fn run(options: Options, transport: Arc<dyn Transport>) -> Result<(), Error> {
    let mut term = signal(SignalKind::terminate()).map_err(Error::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
    let mut hup = signal(SignalKind::hangup()).map_err(Error::Signal)?;
    // A signal that came while they were blocked is delivered now, to the handlers.
    control_signals().thread_unblock().map_err(Error::Unblock)?;
    let (reload_tx, reload) = mpsc::channel(4);
    let (stop_tx, stop) = oneshot::channel();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = hup.recv() => { tracing::info!("SIGHUP: reloading"); if reload_tx.send(()).await.is_err() { return } }
                _ = term.recv() => { tracing::info!("SIGTERM: stopping"); let _ = stop_tx.send(()); return }
                _ = int.recv() => { tracing::info!("SIGINT: stopping"); let _ = stop_tx.send(()); return }
            }
        }
    });
    run_with(options, transport, Control { reload, stop }).await
}

/// Runs the daemon until `control.stop` completes, reading `options.source` with
/// [`ConfigReader::of`].
pub async fn run_with(options: Options, transport: Arc<dyn Transport>, control: Control) -> Result<(), Error> {
    let reader = ConfigReader::of(&options.source);
    run_with_reader(options, transport, control, reader).await
}

/// Runs the daemon until `control.stop` completes, reading the configuration with `reader`
/// (at start and on each reload; `options.source` is only shown in `/status`).
pub async fn run_with_reader(
    options: Options,
    transport: Arc<dyn Transport>,
    control: Control,
    reader: ConfigReader,
) -> Result<(), Error> {
    let Control { mut reload, mut stop } = control;
    let client: Arc<Ipvs> = Arc::new(Client::with_transport(transport.clone()));
    // Read off the event loop like every reload: a stop meanwhile ends the daemon at once.
    let config = {
        let mut reading = reader.start()?;
        tokio::select! {
            answer = reading.answer() => answer?,
            _ = &mut stop => {
                tracing::info!("Stopped (during start-up, before the configuration was read)");
                return Ok(());
            }
        }
    };
    let kernel = {
        let c = client.clone();
        tokio::task::spawn_blocking(move || c.table()).await??
    };
    let vrrp_config = crate::failover::vrrp_part(&config);
    let shared = Arc::new(Shared {
        runtime: Mutex::new(Runtime::start(config.clone(), &kernel)),
        counters: Mutex::new(Counters::default()),
        source: options.source.clone(),
        vrrp: Arc::default(),
    });
    let (tx, mut rx) = mpsc::channel::<Report>(1024);
    let mut tasks: HashMap<CheckKey, tokio::task::JoinHandle<()>> = HashMap::new();
    let netns = options.netns.clone();
    let spawn_missing = |shared: &Arc<Shared>, tasks: &mut HashMap<CheckKey, tokio::task::JoinHandle<()>>| {
        let rt = lock(&shared.runtime);
        for (v, list) in rt.servers.iter().enumerate() {
            let suspend = rt.config.virtual_servers.get(v).filter(|vs| vs.ha_suspend).and_then(|vs| match vs.id {
                crate::config::VirtualServerId::Address { address, .. } => Some((address, netns.clone())),
                _ => None,
            });
            for s in list {
                for c in &s.checks {
                    if !tasks.contains_key(&c.key) {
                        tasks.insert(
                            c.key.clone(),
                            spawn_check(c.key.clone(), c.resolved.clone(), c.health.url(), suspend.clone(), tx.clone()),
                        );
                    }
                }
            }
        }
    };
    let mut clock = DrainClock::new();
    let mut again = apply(&client, &shared, &mut clock).await;
    let mut retry_at = tokio::time::Instant::now() + Duration::from_secs(1);
    spawn_missing(&shared, &mut tasks);
    let mut failover =
        crate::failover::Failover::start(&config, options.netns.as_deref(), client.clone(), shared.vrrp.clone())?;
    let mut vrrp_config = vrrp_config;
    let (stop_web, web_stopped) = oneshot::channel::<()>();
    let web = match options.listen {
        Some(addr) => {
            let listener =
                tokio::net::TcpListener::bind(addr).await.map_err(|error| Error::Listen { address: addr, error })?;
            tracing::info!(listen = %addr, "serving /metrics and /status");
            let pages = web::pages(shared.clone(), transport.clone(), options.netns.clone(), options.proc_totals);
            Some(tokio::spawn(ipvs_exporter::serve::serve(listener, pages, async move {
                let _ = web_stopped.await;
            })))
        }
        None => None,
    };
    tracing::info!(checks = tasks.len(), "running");
    // The reload under way (its configuration being read off the loop), and whether a
    // SIGHUP came meanwhile (then the files are read again once it ends).
    let mut reading: Option<Reading> = None;
    let mut read_again = false;
    loop {
        let mut dirty = false;
        tokio::select! {
            Some(report) = rx.recv() => {
                let (reply, changed) = record(&mut lock(&shared.runtime), &report.key, &report.attempt);
                let _ = report.reply.send(reply);
                dirty = changed;
            }
            Some(()) = reload.recv() => {
                if reading.is_some() {
                    read_again = true;
                    tracing::info!("reload: one is under way; the files are read again once it ends");
                } else {
                    reading = start_reading(&reader, &shared);
                }
            }
            answer = answer_of(&mut reading), if reading.is_some() => {
                reading = None;
                if std::mem::take(&mut read_again) {
                    reading = start_reading(&reader, &shared);
                }
                match answer {
                    Ok(config) => {
                        let part = crate::failover::vrrp_part(&config);
                        if part != vrrp_config {
                            tracing::info!("Reload: the VRRP configuration changed; restarting the instances");
                            if let Some(f) = failover.take() {
                                f.stop().await;
                            }
                            match crate::failover::Failover::start(&config, options.netns.as_deref(), client.clone(), shared.vrrp.clone()) {
                                Ok(f) => failover = f,
                                Err(e) => tracing::error!(error = %e, "reload: the VRRP instances cannot start"),
                            }
                            vrrp_config = part;
                        }
                        let gone = lock(&shared.runtime).reload(config);
                        for k in gone {
                            if let Some(t) = tasks.remove(&k) {
                                t.abort();
                            }
                        }
                        spawn_missing(&shared, &mut tasks);
                        lock(&shared.counters).reloads += 1;
                        tracing::info!(checks = tasks.len(), "Reloaded");
                        dirty = true;
                    }
                    Err(e) => {
                        lock(&shared.counters).reload_errors += 1;
                        tracing::error!(error = %e, "reload: the new configuration is refused; the running one stays");
                    }
                }
            }
            () = tokio::time::sleep_until(retry_at), if again => dirty = true,
            _ = &mut stop => break,
        }
        // Results that came in meanwhile go into the same apply.
        while let Ok(report) = rx.try_recv() {
            let (reply, changed) = record(&mut lock(&shared.runtime), &report.key, &report.attempt);
            let _ = report.reply.send(reply);
            dirty |= changed;
        }
        if dirty {
            again = apply(&client, &shared, &mut clock).await;
            retry_at = tokio::time::Instant::now() + Duration::from_secs(1);
        }
    }
    for (_, t) in tasks.drain() {
        t.abort();
    }
    if let Some(f) = failover.take() {
        f.stop().await;
    }
    run_omega(&shared).await;
    if options.release_on_exit {
        let managed: Vec<_> = lock(&shared.runtime).managed.iter().copied().collect();
        let c = client.clone();
        let removed = tokio::task::spawn_blocking(move || {
            let reqs: Vec<ipvs::Request> = managed.into_iter().map(ipvs::Request::DeleteService).collect();
            c.batch(&reqs).map(|r| r.iter().filter(|o| o.is_ok()).count())
        })
        .await;
        tracing::info!(removed = ?removed.ok().and_then(Result::ok), "released the managed services");
    }
    let _ = stop_web.send(());
    if let Some(w) = web {
        let _ = w.await;
    }
    tracing::info!("Stopped");
    Ok(())
}
