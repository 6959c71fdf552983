//! The director's error: why the daemon could not start or go on, why a configuration was
//! refused. Each says what failed in the words the logs and standard error show.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::config::{ConfigError, UnsafeScript};
use crate::daemon::MAX_ABANDONED_READS;
use crate::failover::SetupError;
use crate::keepalived::KeepalivedErrors;

/// Why the director could not do what it was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The native configuration file is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The keepalived.conf is not valid (or uses what the director does not support).
    #[error(transparent)]
    Keepalived(#[from] KeepalivedErrors),
    /// A script run as root could be changed by someone else (`enable_script_security`).
    #[error(transparent)]
    UnsafeScript(#[from] UnsafeScript),
    /// The VRRP instances could not start.
    #[error(transparent)]
    Failover(#[from] SetupError),
    /// The kernel's IPVS netlink socket could not be opened.
    #[error("opening the IPVS netlink socket: {0}")]
    OpenKernel(ipvs::ErrorKind),
    /// The in-memory kernel could not be seeded (`--mock=FILE`).
    #[error(transparent)]
    Open(ipvs::command::OpenError),
    /// The kernel's IPVS table could not be read.
    #[error(transparent)]
    Kernel(#[from] ipvs::Error),
    /// A signal handler could not be installed.
    #[error(transparent)]
    Signal(io::Error),
    /// The control signals could not be unblocked (nix's errno: its text is the one shown).
    #[error("unblocking the signals: {0}")]
    Unblock(nix::errno::Errno),
    /// The event loop could not be built.
    #[error(transparent)]
    Runtime(io::Error),
    /// A task on the blocking pool ended without an answer.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
    /// The address of `/metrics` and `/status` cannot be listened on.
    #[error("listening on {address}: {error}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        error: io::Error,
    },
    /// Earlier reads of the configuration still run past their deadline: no new one starts.
    #[error(
        "{running} earlier reads of the configuration are still running past their deadline \
         (the limit is {MAX_ABANDONED_READS}); no new read starts until one ends"
    )]
    TooManyReads {
        /// How many still run.
        running: usize,
    },
    /// No thread could be started to read the configuration.
    #[error("cannot start a thread to read the configuration: {0}")]
    ReaderThread(io::Error),
    /// The thread reading the configuration ended without an answer.
    #[error("reading the configuration failed: the reader ended without an answer")]
    ReaderLost,
    /// Reading the configuration took longer than its deadline.
    #[error("reading the configuration took longer than {} s; abandoned", .0.as_secs_f64())]
    ReadTimedOut(Duration),
    /// Standard output cannot be written.
    #[error("standard output: {0}")]
    Output(io::Error),
}

impl From<ipvs::command::OpenError> for Error {
    fn from(e: ipvs::command::OpenError) -> Error {
        match e {
            ipvs::command::OpenError::Kernel(kind) => Error::OpenKernel(kind),
            other => Error::Open(other),
        }
    }
}
