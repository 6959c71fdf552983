//! The daemon's life: its start (configuration, kernel table, first apply, checks, VRRP,
//! pages), its loop (check results, reloads, re-applies) and its stop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipvs::state::DrainClock;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::apply::{apply, release, run_omega};
use super::checks::{record_result, Checks};
use super::reload::{ConfigReader, Reading};
use super::{lock, web, Control, Counters, Options, Runtime, Shared};
use crate::config::Config;
use crate::failover::Failover;
use crate::host::Host;
use crate::Error;

/// The pages' server: how to stop it, and its task.
type Web = (oneshot::Sender<()>, tokio::task::JoinHandle<()>);

/// The running daemon, as its loop sees it.
pub(super) struct Coordinator {
    options: Options,
    host: Arc<dyn Host>,
    shared: Arc<Shared>,
    reader: ConfigReader,
    reload: mpsc::Receiver<()>,
    checks: Checks,
    clock: DrainClock,
    /// Whether to apply again at `retry_at` (draining, or an apply that did not converge).
    again: bool,
    retry_at: Instant,
    failover: Option<Failover>,
    web: Option<Web>,
    /// The reload under way (its configuration being read off the loop), and whether a
    /// SIGHUP came meanwhile (then the files are read again once it ends).
    reading: Option<Reading>,
    read_again: bool,
}

/// Reads the configuration at start, off the event loop like every reload: a stop meanwhile
/// ends the daemon at once (None).
async fn first_config(reader: &ConfigReader, stop: &mut oneshot::Receiver<()>) -> Result<Option<Config>, Error> {
    let mut reading = reader.start()?;
    tokio::select! {
        answer = reading.answer() => answer.map(Some),
        _ = stop => {
            tracing::info!("Stopped (during start-up, before the configuration was read)");
            Ok(None)
        }
    }
}

/// Starts serving the pages on `options.listen`, if set.
async fn serve_pages(
    options: &Options,
    shared: &Arc<Shared>,
    transport: Arc<dyn ipvs::transport::Transport>,
) -> Result<Option<Web>, Error> {
    let Some(addr) = options.listen else { return Ok(None) };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|error| Error::Listen { address: addr, error })?;
    tracing::info!(listen = %addr, "serving /metrics and /status");
    let pages = web::pages(shared.clone(), transport, options.netns.clone(), options.proc_totals);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(ipvs_exporter::serve::serve(listener, pages, async move {
        let _ = stopped.await;
    }));
    Ok(Some((stop, task)))
}

/// Runs the daemon on `host` until `control.stop` completes (see [`super::run_with_reader`];
/// `transport` is the one the pages' scraper reads).
pub(super) async fn run_on(
    options: Options,
    host: Arc<dyn Host>,
    transport: Arc<dyn ipvs::transport::Transport>,
    control: Control,
    reader: ConfigReader,
) -> Result<(), Error> {
    let Control { reload, mut stop } = control;
    let Some(config) = first_config(&reader, &mut stop).await? else { return Ok(()) };
    let kernel = {
        let h = host.clone();
        tokio::task::spawn_blocking(move || h.ipvs().table()).await??
    };
    let shared = Arc::new(Shared {
        runtime: Mutex::new(Runtime::start(config.clone(), &kernel)),
        counters: Mutex::new(Counters::default()),
        source: options.source.clone(),
        vrrp: Arc::default(),
    });
    let mut clock = DrainClock::new();
    let again = apply(&host, &shared, &mut clock).await;
    let mut checks = Checks::new();
    checks.sync(&lock(&shared.runtime), Instant::now());
    let failover = Failover::start(&config, host.clone(), shared.vrrp.clone()).await?;
    let web = serve_pages(&options, &shared, transport).await?;
    tracing::info!(checks = checks.len(), probes = checks.probes(), "running");
    let retry_at = Instant::now() + Duration::from_secs(1);
    let mut c = Coordinator {
        options,
        host,
        shared,
        reader,
        reload,
        checks,
        clock,
        again,
        retry_at,
        failover,
        web,
        reading: None,
        read_again: false,
    };
    c.run_loop(stop).await;
    c.stop().await;
    Ok(())
}

/// The answer of the read under way (never, when there is none).
async fn answer_of(reading: &mut Option<Reading>) -> Result<Config, Error> {
    match reading {
        Some(r) => r.answer().await,
        None => std::future::pending().await,
    }
}

impl Coordinator {
    /// Check results, reloads and re-applies, until `stop` completes.
    async fn run_loop(&mut self, mut stop: oneshot::Receiver<()>) {
        loop {
            let mut dirty = false;
            let due = self.checks.next_due();
            tokio::select! {
                Some(o) = self.checks.outcome() => dirty = self.outcome(o),
                () = tokio::time::sleep_until(due.unwrap_or(self.retry_at)), if due.is_some() => {
                    let started = self.checks.start_due(&self.host, Instant::now());
                    lock(&self.shared.counters).probes += started;
                }
                Some(()) = self.reload.recv() => {
                    if self.reading.is_some() {
                        self.read_again = true;
                        tracing::info!("reload: one is under way; the files are read again once it ends");
                    } else {
                        self.reading = self.start_reading();
                    }
                }
                answer = answer_of(&mut self.reading), if self.reading.is_some() => {
                    self.reading = None;
                    if std::mem::take(&mut self.read_again) {
                        self.reading = self.start_reading();
                    }
                    dirty = self.answer(answer).await;
                }
                () = tokio::time::sleep_until(self.retry_at), if self.again => dirty = true,
                _ = &mut stop => return,
            }
            // Results that came in meanwhile go into the same apply.
            while let Some(o) = self.checks.try_outcome() {
                dirty |= self.outcome(o);
            }
            if dirty {
                self.again = apply(&self.host, &self.shared, &mut self.clock).await;
                self.retry_at = Instant::now() + Duration::from_secs(1);
            }
        }
    }

    /// A check's result: recorded, its events carried out, the check scheduled again.
    /// Returns whether the table may have changed.
    fn outcome(&mut self, o: super::checks::Outcome) -> bool {
        let now = Instant::now();
        let mut dirty = false;
        for (key, a) in self.checks.take(o, now) {
            dirty |= record_result(&self.shared, &mut self.checks, &key, &a, now);
        }
        dirty
    }

    /// Starts reading the configuration for a reload; None (an error logged and counted)
    /// when no read can start.
    fn start_reading(&self) -> Option<Reading> {
        match self.reader.start() {
            Ok(r) => Some(r),
            Err(e) => {
                lock(&self.shared.counters).reload_errors += 1;
                tracing::error!(error = %e, "reload: the new configuration cannot be read; the running one stays");
                None
            }
        }
    }

    /// A reload's configuration, read: the VRRP instances restarted if their part changed,
    /// the runtime reloaded, the checks following. Returns whether to apply.
    async fn answer(&mut self, answer: Result<Config, Error>) -> bool {
        let config = match answer {
            Ok(c) => c,
            Err(e) => {
                lock(&self.shared.counters).reload_errors += 1;
                tracing::error!(error = %e, "reload: the new configuration is refused; the running one stays");
                return false;
            }
        };
        let vrrp_changed = {
            let rt = lock(&self.shared.runtime);
            crate::failover::vrrp_part(&rt.config) != crate::failover::vrrp_part(&config)
        };
        if vrrp_changed {
            tracing::info!("Reload: the VRRP configuration changed; restarting the instances");
            if let Some(f) = self.failover.take() {
                f.stop().await;
            }
            match Failover::start(&config, self.host.clone(), self.shared.vrrp.clone()).await {
                Ok(f) => self.failover = f,
                Err(e) => tracing::error!(error = %e, "reload: the VRRP instances cannot start"),
            }
        }
        {
            let mut rt = lock(&self.shared.runtime);
            rt.reload(config);
            self.checks.sync(&rt, Instant::now());
        }
        lock(&self.shared.counters).reloads += 1;
        tracing::info!(checks = self.checks.len(), probes = self.checks.probes(), "Reloaded");
        true
    }

    /// The stop: checks and VRRP instances stopped, `omega` scripts run, the services
    /// released if asked, the pages closed.
    async fn stop(mut self) {
        self.checks.stop();
        if let Some(f) = self.failover.take() {
            f.stop().await;
        }
        run_omega(&self.shared).await;
        if self.options.release_on_exit {
            release(&self.host, &self.shared).await;
        }
        if let Some((stop, task)) = self.web.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
        tracing::info!("Stopped");
    }
}
