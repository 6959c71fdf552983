//! Typed errors: kernel errors keep their errno.

use std::io;
use std::path::{Path, PathBuf};

pub use ipvs::Errno;
use ipvs::ErrorKind;

use crate::Change;

/// What went wrong while reading or changing a real server's configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request itself is not usable (no VIP for DR, a bad interface name, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The kernel refused a netlink request.
    #[error("{op}: {} ({})", nix_errno(*errno), nix_errno(*errno).desc())]
    Kernel {
        /// What was asked, e.g. `add 192.0.2.1/32 to lo`.
        op: String,
        /// The kernel's error number.
        errno: Errno,
    },
    /// A file (a sysctl under /proc/sys, a state file, a namespace) could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error (its raw OS error is the errno).
        source: io::Error,
    },
    /// The netlink socket itself failed (open, send, receive).
    #[error("netlink socket: {0}")]
    Socket(io::Error),
    /// The kernel answered something this crate cannot read.
    #[error("unreadable netlink answer: {0}")]
    Decode(String),
    /// The namespace path is not a network namespace, or entering it failed.
    #[error("network namespace {}: {reason}", path.display())]
    Namespace {
        /// The path given.
        path: PathBuf,
        /// Why it is unusable.
        reason: String,
    },
    /// An interface named in the request does not exist.
    #[error("no interface {0}")]
    NoInterface(String),
    /// `prepare` kept finding work after several rounds (something undoes its changes).
    #[error("prepare did not settle; still to do: {0}")]
    NotSettled(String),
    /// The `nft` program refused (the `arptables` and `redirect` cures).
    #[error("{op}: {reason}")]
    Nft {
        /// The command run.
        op: String,
        /// What `nft` said.
        reason: String,
    },
    /// A state file is not a record this crate wrote.
    #[error("state file {}: {reason}", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    /// The kernel's errno, when the kernel (netlink or a /proc/sys write) refused.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            Error::Io { source, .. } | Error::Socket(source) => source.raw_os_error().map(Errno),
            _ => None,
        }
    }

    /// A failed netlink exchange of the core's [`Connection`](ipvs::netlink::Connection):
    /// the kernel's refusal of `op`, or what went wrong with the socket or the answer.
    pub(crate) fn netlink(op: &dyn Fn() -> String, e: ErrorKind) -> Self {
        match e {
            ErrorKind::Kernel(errno) => Error::Kernel { op: op(), errno },
            ErrorKind::Io(e) => Error::Socket(e),
            ErrorKind::TimedOut => Error::Socket(io::Error::from(Errno::ETIMEDOUT)),
            ErrorKind::Decode(m) | ErrorKind::UnexpectedReply(m) => Error::Decode(m),
            e => Error::Socket(io::Error::other(e.to_string())),
        }
    }

    /// The failure to open or enter the network namespace at `path`.
    pub(crate) fn namespace(path: &Path, e: ErrorKind) -> Self {
        let reason = match e {
            ErrorKind::Invalid(i) => i.reason,
            ErrorKind::Io(e) => e.to_string(),
            e => e.to_string(),
        };
        Error::Namespace { path: path.to_path_buf(), reason }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// A `prepare` or `undo` that stopped part way: the error, and the changes made (or undone)
/// before it, which a caller must still record.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Failure {
    /// Why it stopped.
    #[source]
    pub error: Error,
    /// What was done before it stopped (for `prepare`: changes to record; for `undo`: the
    /// changes put back).
    pub done: Vec<Change>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure { error, done: Vec::new() }
    }
}

/// nix's errno of the same number, whose names and texts the messages of this crate show.
fn nix_errno(errno: Errno) -> nix::errno::Errno {
    nix::errno::Errno::from_raw(errno.0)
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
