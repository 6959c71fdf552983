//! Reading the configuration off the event loop, with a deadline.
//!
//! Reading and validating a configuration is blocking work whose length depends on the files
//! (their size, the number of errors, a file system that does not answer). Done on the event
//! loop, it would freeze the checks, `/status`, `/metrics` and the signal handling for as
//! long as it runs. So each read runs on a thread of its own; the loop waits for its answer
//! at most the reader's deadline ([`RELOAD_DEADLINE`] for the daemon) and meanwhile goes on
//! with everything else. A read still running at its deadline is abandoned: the error is
//! logged, the running configuration stays, and the answer, if it ever comes, is dropped.
//!
//! The thread is a detached `std` thread, not tokio's blocking pool: a runtime waits for its
//! blocking tasks when it shuts down, so a stuck read there would hold up the stop. Abandoned
//! reads that are still running are counted; at [`MAX_ABANDONED_READS`] no new read starts
//! (each holds a thread), until one of them ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::Source;
use crate::config::Config;
use crate::Error;

/// How long the daemon waits for a configuration to be read and validated, at start and on
/// each reload (SIGHUP). Past it the read is abandoned: at start the daemon does not start,
/// on a reload the running configuration stays.
pub const RELOAD_DEADLINE: Duration = Duration::from_secs(30);

/// How many abandoned reads (past their deadline, still running) may exist at once; while
/// there are this many, a reload is refused without starting another.
pub const MAX_ABANDONED_READS: usize = 4;

/// Reads and validates a configuration: [`Source::load`] for the daemon, anything in a test.
pub type Loader = Arc<dyn Fn() -> Result<Config, Error> + Send + Sync>;

/// How the daemon reads its configuration: the loader, and the deadline of each read.
#[derive(Clone)]
pub struct ConfigReader {
    load: Loader,
    deadline: Duration,
    /// Reads whose thread is still running (the one in progress and abandoned ones).
    running: Arc<AtomicUsize>,
}

impl std::fmt::Debug for ConfigReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigReader")
            .field("deadline", &self.deadline)
            .field("running", &self.running.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Counts a read's thread while it runs (also when the loader panics).
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ConfigReader {
    /// A reader calling `load`, waiting at most `deadline` for each read.
    pub fn new(load: Loader, deadline: Duration) -> ConfigReader {
        ConfigReader { load, deadline, running: Arc::default() }
    }

    /// The daemon's reader: [`Source::load`], at most [`RELOAD_DEADLINE`].
    pub fn of(source: &Source) -> ConfigReader {
        let source = source.clone();
        ConfigReader::new(Arc::new(move || source.load()), RELOAD_DEADLINE)
    }

    /// The deadline of each read.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Starts a read on a thread of its own. Refused while [`MAX_ABANDONED_READS`] earlier
    /// reads still run, or when no thread can be started.
    pub(crate) fn start(&self) -> Result<Reading, Error> {
        let running = self.running.load(Ordering::Acquire);
        if running >= MAX_ABANDONED_READS {
            return Err(Error::TooManyReads { running });
        }
        let (tx, rx) = oneshot::channel();
        let load = self.load.clone();
        self.running.fetch_add(1, Ordering::AcqRel);
        let running = Running(self.running.clone());
        let spawned = std::thread::Builder::new().name("config-reader".into()).spawn(move || {
            let _running = running;
            // The loop may have given up on it: then the answer goes nowhere.
            let _ = tx.send(load());
        });
        if let Err(e) = spawned {
            // The closure, and with it the count, was dropped.
            return Err(Error::ReaderThread(e));
        }
        Ok(Reading { answer: rx, until: tokio::time::Instant::now() + self.deadline, deadline: self.deadline })
    }
}

/// A read in progress.
pub(crate) struct Reading {
    answer: oneshot::Receiver<Result<Config, Error>>,
    until: tokio::time::Instant,
    deadline: Duration,
}

impl Reading {
    /// Waits for the answer, at most until the read's deadline (cancel-safe: it can be called
    /// again after its future was dropped).
    pub(crate) async fn answer(&mut self) -> Result<Config, Error> {
        match tokio::time::timeout_at(self.until, &mut self.answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(Error::ReaderLost),
            Err(_) => Err(Error::ReadTimedOut(self.deadline)),
        }
    }
}
