//! The crate's one error type, the typed errno it keeps, and input validation errors.
//!
//! Every failing call returns an [`Error`] that says which [`Operation`] failed, on which
//! object (when there is one), and why ([`ErrorKind`]). Errors reported by the kernel keep
//! their [`Errno`]; input rejected before anything was sent carries an [`InvalidInput`]
//! naming the field and the value.

use std::fmt;
use std::io;

/// A Linux error number, as the kernel answered it.
///
/// Kept as a typed value so callers can match on it (`err.errno() == Some(Errno::EEXIST)`)
/// and convert it to [`std::io::Error`] without losing it.
///
/// ```
/// use ipvs::Errno;
/// assert_eq!(Errno::EEXIST.name(), Some("EEXIST"));
/// assert_eq!(Errno::ERANGE.description(), "Numerical result out of range");
/// let io: std::io::Error = Errno::ENOENT.into();
/// assert_eq!(io.raw_os_error(), Some(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident = $value:expr),* $(,)?) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "` (", stringify!($value), ").")]
                pub const $name: Errno = Errno($value);
            )*

            /// The symbolic name of a common errno (`"EEXIST"`), if this is one.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11, ENOMEM = 12,
    EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19, ENOTDIR = 20, EINVAL = 22,
    ENOSPC = 28, ERANGE = 34, EPROTO = 71, EBADMSG = 74, EMSGSIZE = 90, ENOPROTOOPT = 92,
    EPROTONOSUPPORT = 93, EOPNOTSUPP = 95, EAFNOSUPPORT = 97, EADDRNOTAVAIL = 99, ECONNRESET = 104, ENOBUFS = 105, ETIMEDOUT = 110,
    ECONNREFUSED = 111,
}

impl Errno {
    /// The C library's text for this errno (`strerror`), e.g. `"File exists"`.
    pub fn description(self) -> String {
        let text = io::Error::from_raw_os_error(self.0).to_string();
        match text.rfind(" (os error ") {
            Some(cut) => text[..cut].to_string(),
            None => text,
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.description()),
            None => write!(f, "{} (errno {})", self.description(), self.0),
        }
    }
}

impl std::error::Error for Errno {}

impl From<nix::errno::Errno> for Errno {
    /// nix's errno, converted where it enters (system calls made through nix).
    fn from(errno: nix::errno::Errno) -> Errno {
        Errno(errno as i32)
    }
}

impl From<Errno> for io::Error {
    fn from(errno: Errno) -> io::Error {
        io::Error::from_raw_os_error(errno.0)
    }
}

/// Input rejected before anything was sent: which field, which value, and why.
///
/// ```
/// use ipvs::{Destination, Forward};
/// let mut d = Destination::new("198.51.100.1:80".parse().unwrap(), Forward::Masquerade);
/// d.lower_threshold = 10;
/// d.upper_threshold = 5;
/// let err = d.validate().unwrap_err();
/// assert_eq!(err.field, "lower_threshold");
/// assert_eq!(err.value, "10");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} {value:?}: {reason}")]
pub struct InvalidInput {
    /// The field that holds the bad value (`"weight"`, `"scheduler"`, ...).
    pub field: &'static str,
    /// The bad value, as text.
    pub value: String,
    /// Why it was rejected.
    pub reason: String,
}

impl InvalidInput {
    /// A validation error for `field` holding `value`.
    pub fn new(field: &'static str, value: impl fmt::Display, reason: impl Into<String>) -> Self {
        InvalidInput { field, value: value.to_string(), reason: reason.into() }
    }
}

/// The operation that failed, as named in the client API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Operation {
    Connect,
    AddService,
    UpdateService,
    DeleteService,
    GetService,
    ListServices,
    AddDestination,
    UpdateDestination,
    DeleteDestination,
    ListDestinations,
    Flush,
    Zero,
    GetTimeouts,
    SetTimeouts,
    ListDaemons,
    StartDaemon,
    StopDaemon,
    GetInfo,
    Batch,
    Plan,
    Apply,
}

impl Operation {
    /// The snake_case name of the client method.
    pub fn name(self) -> &'static str {
        use Operation::*;
        match self {
            Connect => "connect",
            AddService => "add_service",
            UpdateService => "update_service",
            DeleteService => "delete_service",
            GetService => "service",
            ListServices => "services",
            AddDestination => "add_destination",
            UpdateDestination => "update_destination",
            DeleteDestination => "delete_destination",
            ListDestinations => "destinations",
            Flush => "flush",
            Zero => "zero",
            GetTimeouts => "timeouts",
            SetTimeouts => "set_timeouts",
            ListDaemons => "daemons",
            StartDaemon => "start_daemon",
            StopDaemon => "stop_daemon",
            GetInfo => "info",
            Batch => "batch",
            Plan => "plan",
            Apply => "apply",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Rejected before anything was sent.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The kernel (or the mock) answered with this errno.
    #[error("{0}")]
    Kernel(Errno),
    /// The socket failed.
    #[error("netlink I/O: {0}")]
    Io(#[from] io::Error),
    /// A request could not be encoded (an attribute or message beyond netlink's size limits).
    #[error("request too large to encode: {0}")]
    Encode(String),
    /// A reply could not be decoded.
    #[error("malformed reply: {0}")]
    Decode(String),
    /// A reply did not fit the request (wrong sequence, command or shape).
    #[error("unexpected reply: {0}")]
    UnexpectedReply(String),
    /// A dump kept being interrupted by concurrent changes (NLM_F_DUMP_INTR).
    #[error("dump interrupted by concurrent changes {attempts} times in a row")]
    DumpInterrupted {
        /// How many attempts were made.
        attempts: u32,
    },
    /// The call did not finish within the transport's timeout.
    #[error("no complete reply from the kernel within the timeout")]
    TimedOut,
    /// The kernel has no generic netlink family `IPVS` (module missing or not loadable).
    #[error("the kernel has no IPVS support (generic netlink family \"IPVS\" not found)")]
    NotSupported,
}

impl ErrorKind {
    /// The errno of this failure: the one the kernel answered, or the one a system call
    /// failed with, or for the library's own failures the errno that describes them (invalid
    /// input: `EINVAL`; timeout: `ETIMEDOUT`; an unprovable dump: `EAGAIN`; an undecodable
    /// reply: `EBADMSG`; a request too large: `EMSGSIZE`; no IPVS: `ENOPROTOOPT`). The one
    /// errno mapping: the client, the command-line tools and Python all use it.
    pub fn errno(&self) -> Errno {
        match self {
            ErrorKind::Kernel(e) => *e,
            ErrorKind::Io(e) => e.raw_os_error().map_or(Errno::EIO, Errno),
            ErrorKind::Invalid(_) => Errno::EINVAL,
            ErrorKind::TimedOut => Errno::ETIMEDOUT,
            ErrorKind::DumpInterrupted { .. } => Errno::EAGAIN,
            ErrorKind::Decode(_) | ErrorKind::UnexpectedReply(_) => Errno::EBADMSG,
            ErrorKind::Encode(_) => Errno::EMSGSIZE,
            ErrorKind::NotSupported => Errno::ENOPROTOOPT,
        }
    }

    /// Whether the kernel (or a system call) answered with this errno, as opposed to a failure
    /// the library found itself.
    pub fn from_kernel(&self) -> bool {
        matches!(self, ErrorKind::Kernel(_)) || matches!(self, ErrorKind::Io(e) if e.raw_os_error().is_some())
    }
}

impl From<Errno> for ErrorKind {
    fn from(e: Errno) -> Self {
        ErrorKind::Kernel(e)
    }
}

impl From<netlink_packet_core::DecodeError> for ErrorKind {
    fn from(e: netlink_packet_core::DecodeError) -> Self {
        ErrorKind::Decode(e.to_string())
    }
}

/// The error of every fallible call: the operation, the object, and the cause.
///
/// ```
/// use ipvs::{Client, Errno, Operation, Service, ServiceId};
/// let client = Client::mock();
/// let err = client.delete_service(&ServiceId::tcp("192.0.2.1".parse().unwrap(), 80)).unwrap_err();
/// assert_eq!(err.operation(), Operation::DeleteService);
/// assert_eq!(err.errno(), Errno::ESRCH);
/// assert_eq!(err.kernel_errno(), Some(Errno::ESRCH));
/// assert_eq!(err.to_string(), "delete_service TCP 192.0.2.1:80: No such process (ESRCH)");
/// let io: std::io::Error = err.into();
/// assert_eq!(io.raw_os_error(), Some(3));
/// ```
#[derive(Debug)]
pub struct Error {
    op: Operation,
    target: Option<String>,
    kind: ErrorKind,
}

impl Error {
    /// An error of `kind` while doing `op` on `target` (e.g. `"TCP 192.0.2.1:80"`).
    pub fn new(op: Operation, target: Option<String>, kind: impl Into<ErrorKind>) -> Self {
        Error { op, target, kind: kind.into() }
    }

    /// The operation that failed.
    pub fn operation(&self) -> Operation {
        self.op
    }

    /// The object it failed on, if any (`"TCP 192.0.2.1:80"`, `"TCP 192.0.2.1:80 -> 198.51.100.1:80"`).
    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    /// Why it failed.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The errno of the failure (see [`ErrorKind::errno`]): what the kernel or a system call
    /// answered, or `EINVAL` for input refused before sending, `ETIMEDOUT` for a timeout, ...
    pub fn errno(&self) -> Errno {
        self.kind.errno()
    }

    /// The errno the kernel answered, if the kernel refused (not a system call, not the
    /// library).
    pub fn kernel_errno(&self) -> Option<Errno> {
        match self.kind {
            ErrorKind::Kernel(e) => Some(e),
            _ => None,
        }
    }

    /// The validation failure, if the input was rejected before sending.
    pub fn invalid_input(&self) -> Option<&InvalidInput> {
        match &self.kind {
            ErrorKind::Invalid(i) => Some(i),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Some(t) => write!(f, "{} {}: {}", self.op, t, self.kind),
            None => write!(f, "{}: {}", self.op, self.kind),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            ErrorKind::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for io::Error {
    /// Keeps the errno: a kernel refusal becomes the raw OS error itself; anything else an
    /// error of the errno's kind that carries the whole message.
    fn from(e: Error) -> io::Error {
        let errno = e.errno();
        match &e.kind {
            ErrorKind::Kernel(_) => io::Error::from(errno),
            ErrorKind::Io(inner) if inner.raw_os_error().is_some() => io::Error::new(io::Error::from(errno).kind(), e),
            ErrorKind::Io(inner) => io::Error::new(inner.kind(), e),
            _ => io::Error::new(io::Error::from(errno).kind(), e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_and_texts() {
        assert_eq!(Errno::ESRCH.name(), Some("ESRCH"));
        assert_eq!(Errno(9999).name(), None);
        assert_eq!(Errno::EEXIST.description(), "File exists");
        assert_eq!(Errno::EEXIST.to_string(), "File exists (EEXIST)");
    }

    #[test]
    fn io_conversion_keeps_errno() {
        let e = Error::new(Operation::AddService, Some("TCP 192.0.2.1:80".into()), Errno::EEXIST);
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(io.raw_os_error(), Some(17));
        let e = Error::new(Operation::AddService, None, InvalidInput::new("port", 0, "x"));
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidInput);
        assert!(io.to_string().contains("invalid port"));
    }

    #[test]
    fn invalid_input_display_names_field_and_value() {
        let e = InvalidInput::new("weight", -1, "must be in 0..=2147483647");
        assert_eq!(e.to_string(), "invalid weight \"-1\": must be in 0..=2147483647");
    }
}
