//! The daemon: checks running on their own schedules, the table they imply applied with the
//! desired-state engine (minimal, verified, drained), reload on SIGHUP, stop on SIGTERM, and
//! `/metrics` and `/status` on a loopback address.
//!
//! The coordinator owns every state and every timer: it starts each check's attempts when
//! due (one task per attempt, never two at once for a check, never blocking another), takes
//! their results, and has the pure decisions ([`decide`], [`crate::policy::decide`]) say what
//! happened; it then carries the events out (logs, notify scripts) and applies the table
//! through the [`Host`] when something changed.
//!
//! - [`state`]: what the daemon knows, keyed by [`ServerKey`] and [`CheckKey`];
//! - [`decide`]: what a check's result does, as events;
//! - `events`: the events carried out; `apply`: the table written, and the stop's work;
//! - `checks`: the checks' timers; `run`: start-up, the loop, reloads, the stop.

mod apply;
mod checks;
pub mod decide;
mod events;
mod reload;
mod run;
pub mod state;
#[cfg(test)]
mod tests;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ipvs::transport::Transport;
use ipvs::Client;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};

use crate::config::Config;
pub(crate) use crate::host::lock;
pub use crate::host::Ipvs;
use crate::host::{Host, Kernel};
use crate::Error;
pub use decide::{HealthEvent, Next};
pub use reload::{ConfigReader, Loader, MAX_ABANDONED_READS, RELOAD_DEADLINE};
pub use state::{CheckKey, Runtime, ServerKey};

/// Where the configuration comes from (read again on SIGHUP).
#[derive(Debug, Clone)]
pub enum Source {
    /// The native TOML file.
    Native(PathBuf),
    /// keepalived.conf, and how to read it (the configuration id).
    Keepalived(PathBuf, crate::keepalived::ReadOptions),
}

impl Source {
    /// Reads and validates the configuration (scripts included, with
    /// `enable_script_security`).
    pub fn load(&self) -> Result<Config, Error> {
        let config = match self {
            Source::Native(p) => Config::load(p)?,
            Source::Keepalived(p, o) => o.read_file(p)?,
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
    /// Check attempts made: an attempt shared by identical checks counts once (each check
    /// counts it among its own attempts).
    pub probes: u64,
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
/// (at start and on each reload; `options.source` is only shown in `/status`). The kernel is
/// the one `transport` reaches, in `options.netns`.
pub async fn run_with_reader(
    options: Options,
    transport: Arc<dyn Transport>,
    control: Control,
    reader: ConfigReader,
) -> Result<(), Error> {
    let client: Arc<Ipvs> = Arc::new(Client::with_transport(transport.clone()));
    let host: Arc<dyn Host> = Arc::new(Kernel::new(client, options.netns.clone()));
    run::run_on(options, host, transport, control, reader).await
}
