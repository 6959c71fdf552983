//! Why a check's attempt failed: [`CheckError`], one variant per way, each with a short stable
//! [`CheckError::kind`] (the `kind` label of `ipvs_director_check_failures_total`, the
//! `error_kind` of `/status`). The texts are keepalived's where it has one (`timeout HTTP
//! read`, `HTTP status code error: 503 (url /)`, `read error occurred (rcode = 2)`), the
//! logs and `/status` show them as they are.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ipvs::Errno;

use super::misc::ScriptOutcome;
use crate::config::Md5Digest;

/// Why an attempt of a check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The peer refused (a TCP reset to the connection request, or an ICMP port unreachable
    /// to a UDP query).
    #[error("{step}: {}", io::Error::from_raw_os_error(Errno::ECONNREFUSED.0))]
    Refused {
        /// What was being done.
        step: Step,
    },
    /// The peer reset the connection.
    #[error("{step}: {}", io::Error::from_raw_os_error(Errno::ECONNRESET.0))]
    Reset {
        /// What was being done.
        step: Step,
    },
    /// Another I/O error.
    #[error("{step}: {error}")]
    Io {
        /// What was being done.
        step: Step,
        /// The error.
        error: IoError,
    },
    /// A step did not end within its time.
    #[error("{0}")]
    TimedOut(Wait),
    /// The socket could not be set up as the check asks (fwmark, bind_if, bindto).
    #[error("{setup}: {error}")]
    Setup {
        /// Which setting.
        setup: Setup,
        /// The error.
        error: IoError,
    },
    /// The SSL_GET handshake (or the TLS layer under it) failed.
    #[error("SSL handshake/communication error: {0}")]
    Tls(IoError),
    /// The name to send as SNI is not a valid server name.
    #[error("bad server name {0:?}")]
    ServerName(String),
    /// The HTTP connection ended before a response came.
    #[error("read, no data received")]
    NoResponse,
    /// The HTTP response header did not end within `limit` bytes.
    #[error("no header end in the first {limit} bytes")]
    HeaderTooLong {
        /// The limit.
        limit: usize,
    },
    /// The HTTP status is not one the url expects (0: the response had none keepalived reads).
    #[error("HTTP status code error: {code} (url {path})")]
    Status {
        /// The status read.
        code: u16,
        /// The url's path.
        path: String,
    },
    /// The body's MD5 digest is not the url's.
    #[error("MD5 digest error: {got} instead of {want} (url {path})")]
    Digest {
        /// The body's digest.
        got: Md5Digest,
        /// The one configured.
        want: Md5Digest,
        /// The url's path.
        path: String,
    },
    /// The DNS reply's RCODE is not 0 (NOERROR).
    #[error("read error occurred (rcode = {0})")]
    DnsRcode(u8),
    /// A label of the DNS name is longer than 63 bytes.
    #[error("label {0:?} too long")]
    DnsLabel(String),
    /// The SMTP server closed the connection before a reply.
    #[error("connection closed")]
    SmtpClosed,
    /// The SMTP server's reply is not the one expected.
    #[error("{step}: {reply}")]
    SmtpReply {
        /// Which reply.
        step: SmtpStep,
        /// Its line, without the line end.
        reply: String,
    },
    /// A command check's command did not exit with a passing status (or could not run).
    #[error("{0}")]
    Script(ScriptOutcome),
    /// The check has no address to connect to.
    #[error("no address to check")]
    NoTarget,
    /// The HTTP check has no url.
    #[error("no url")]
    NoUrl,
}

impl CheckError {
    /// Every value [`CheckError::kind`] gives.
    pub const KINDS: [&'static str; 16] = [
        "refused",
        "reset",
        "io",
        "timeout",
        "setup",
        "tls",
        "closed",
        "protocol",
        "status",
        "digest",
        "dns",
        "smtp",
        "script_exit",
        "script_signal",
        "script_timeout",
        "script_setup",
    ];

    /// The error of an I/O call made during `step`: refused and reset apart, and a timeout
    /// the system reported as one.
    pub fn io(step: Step, error: &io::Error) -> CheckError {
        match error.raw_os_error().map(Errno) {
            Some(Errno::ECONNREFUSED) => CheckError::Refused { step },
            Some(Errno::ECONNRESET) => CheckError::Reset { step },
            _ => CheckError::Io { step, error: error.into() },
        }
    }

    /// A short, stable label for the way it failed (one of [`CheckError::KINDS`]).
    pub fn kind(&self) -> &'static str {
        match self {
            CheckError::Refused { .. } => "refused",
            CheckError::Reset { .. } => "reset",
            CheckError::Io { error: IoError::Os(Errno::ETIMEDOUT), .. } | CheckError::TimedOut(_) => "timeout",
            CheckError::Io { .. } => "io",
            CheckError::Setup { .. }
            | CheckError::ServerName(_)
            | CheckError::DnsLabel(_)
            | CheckError::NoTarget
            | CheckError::NoUrl => "setup",
            CheckError::Tls(_) => "tls",
            CheckError::NoResponse | CheckError::SmtpClosed => "closed",
            CheckError::HeaderTooLong { .. } => "protocol",
            CheckError::Status { .. } => "status",
            CheckError::Digest { .. } => "digest",
            CheckError::DnsRcode(_) => "dns",
            CheckError::SmtpReply { .. } => "smtp",
            CheckError::Script(outcome) => match outcome {
                ScriptOutcome::Exited(_) => "script_exit",
                ScriptOutcome::Signaled(_) => "script_signal",
                ScriptOutcome::TimedOut(_) => "script_timeout",
                ScriptOutcome::Failed(_) => "script_setup",
            },
        }
    }
}

/// An I/O error, comparable: the errno when the system gave one, else its kind and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoError {
    /// The system's error number.
    Os(Errno),
    /// Another error (the TLS layer's, an unexpected end of file).
    Other {
        /// Its kind.
        kind: io::ErrorKind,
        /// Its text.
        text: String,
    },
}

impl From<&io::Error> for IoError {
    fn from(e: &io::Error) -> IoError {
        match e.raw_os_error() {
            Some(n) => IoError::Os(Errno(n)),
            None => IoError::Other { kind: e.kind(), text: e.to_string() },
        }
    }
}

impl From<io::Error> for IoError {
    fn from(e: io::Error) -> IoError {
        IoError::from(&e)
    }
}

impl fmt::Display for IoError {
    /// As [`io::Error`] shows it (`Connection refused (os error 111)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IoError::Os(errno) => io::Error::from_raw_os_error(errno.0).fmt(f),
            IoError::Other { text, .. } => f.write_str(text),
        }
    }
}

/// What a check was doing when an I/O call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Connecting (TCP) to the target.
    Connect(SocketAddr),
    /// Writing the HTTP request.
    HttpWrite,
    /// Reading the HTTP response.
    HttpRead,
    /// Writing an SMTP command.
    SmtpWrite,
    /// Reading an SMTP reply.
    SmtpRead,
    /// Connecting the DNS query's UDP socket to the target.
    DnsConnect(SocketAddr),
    /// Sending the DNS query.
    DnsSend,
    /// Receiving the DNS reply.
    DnsReceive,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Connect(target) => write!(f, "connection to {target} failed"),
            Step::HttpWrite => f.write_str("write error"),
            Step::HttpRead => f.write_str("read error"),
            Step::SmtpWrite => f.write_str("write"),
            Step::SmtpRead => f.write_str("read"),
            Step::DnsConnect(target) => write!(f, "network unreachable for {target}"),
            Step::DnsSend => f.write_str("failed to write socket"),
            Step::DnsReceive => f.write_str("failed to read socket"),
        }
    }
}

/// A setting of the check's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setup {
    /// Creating the socket (or binding the DNS check's).
    Socket,
    /// `fwmark`.
    Fwmark(u32),
    /// `bind_if`.
    BindInterface(String),
    /// `bindto` (and `bind_port`).
    BindAddress(SocketAddr),
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setup::Socket => f.write_str("socket"),
            Setup::Fwmark(mark) => write!(f, "fwmark {mark}"),
            Setup::BindInterface(dev) => write!(f, "bind_if {dev}"),
            Setup::BindAddress(bind) => write!(f, "bindto {bind}"),
        }
    }
}

/// What a check waited for past its time, worded as keepalived logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wait {
    /// The TCP connection, for the connect timeout.
    Connect {
        /// The target.
        target: SocketAddr,
        /// The timeout.
        after: Duration,
    },
    /// The HTTP response header.
    HttpHeader,
    /// More of the HTTP body.
    HttpBody,
    /// Writing the HTTP request.
    HttpWrite,
    /// The TLS handshake.
    TlsHandshake,
    /// The whole HTTP exchange (ten timeouts, at least a minute).
    Exchange(Duration),
    /// An SMTP reply.
    SmtpRead,
    /// Writing an SMTP command.
    SmtpWrite,
    /// The DNS reply.
    DnsReply,
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wait::Connect { target, after } => write!(f, "connection to {target} timed out after {after:?}"),
            Wait::HttpHeader => f.write_str("timeout HTTP read"),
            Wait::HttpBody => f.write_str("timeout WEB read"),
            Wait::HttpWrite => f.write_str("timeout WEB write"),
            Wait::TlsHandshake => f.write_str("timeout SSL handshake"),
            Wait::Exchange(whole) => write!(f, "no answer within {whole:?}"),
            Wait::SmtpRead => f.write_str("read timed out"),
            Wait::SmtpWrite => f.write_str("write timed out"),
            Wait::DnsReply => f.write_str("read timeout from socket"),
        }
    }
}

/// Which SMTP reply was not the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpStep {
    /// The greeting (220 expected).
    Greeting,
    /// The answer to `HELO` (250 expected).
    Helo,
}

impl fmt::Display for SmtpStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SmtpStep::Greeting => "bad greeting banner",
            SmtpStep::Helo => "bad HELO response",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_those_of_the_io_errors_and_keepalived() {
        let target: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let refused = io::Error::from_raw_os_error(111);
        let e = CheckError::io(Step::Connect(target), &refused);
        assert_eq!((e.kind(), e.to_string()), ("refused", format!("connection to {target} failed: {refused}")));
        let reset = io::Error::from_raw_os_error(104);
        let e = CheckError::io(Step::HttpRead, &reset);
        assert_eq!((e.kind(), e.to_string()), ("reset", format!("read error: {reset}")));
        let e = CheckError::io(Step::Connect(target), &io::Error::from_raw_os_error(110));
        assert_eq!(e.kind(), "timeout");
        let e = CheckError::io(Step::DnsSend, &io::Error::other("odd"));
        assert_eq!((e.kind(), e.to_string()), ("io", "failed to write socket: odd".to_owned()));
        let e = CheckError::TimedOut(Wait::Connect { target, after: Duration::from_millis(500) });
        assert_eq!(e.to_string(), "connection to 192.0.2.1:80 timed out after 500ms");
        let e = CheckError::Status { code: 503, path: "/".into() };
        assert_eq!((e.kind(), e.to_string()), ("status", "HTTP status code error: 503 (url /)".to_owned()));
        let e = CheckError::SmtpReply { step: SmtpStep::Helo, reply: "550 no".into() };
        assert_eq!(e.to_string(), "bad HELO response: 550 no");
        assert_eq!(CheckError::Script(ScriptOutcome::TimedOut(Duration::from_secs(1))).kind(), "script_timeout");
    }

    #[test]
    fn every_kind_is_listed() {
        let samples = [
            CheckError::Refused { step: Step::HttpRead },
            CheckError::Reset { step: Step::HttpRead },
            CheckError::Io { step: Step::HttpRead, error: IoError::Os(Errno::EIO) },
            CheckError::TimedOut(Wait::DnsReply),
            CheckError::NoTarget,
            CheckError::Tls(IoError::Os(Errno::EIO)),
            CheckError::NoResponse,
            CheckError::HeaderTooLong { limit: 1 },
            CheckError::Status { code: 0, path: String::new() },
            CheckError::Digest { got: Md5Digest([0; 16]), want: Md5Digest([1; 16]), path: String::new() },
            CheckError::DnsRcode(2),
            CheckError::SmtpReply { step: SmtpStep::Greeting, reply: String::new() },
            CheckError::Script(ScriptOutcome::Exited(1)),
            CheckError::Script(ScriptOutcome::Signaled(9)),
            CheckError::Script(ScriptOutcome::TimedOut(Duration::ZERO)),
            CheckError::Script(ScriptOutcome::Failed(super::super::misc::ScriptSetup::EmptyCommand)),
        ];
        let kinds: Vec<_> = samples.iter().map(CheckError::kind).collect();
        assert_eq!(kinds, CheckError::KINDS);
    }

    #[test]
    fn the_guide_lists_every_kind() {
        let guide = include_str!("../../../../docs/director.md");
        let at = guide.find("The kinds of failure").expect("docs/director.md lists the kinds of failure");
        let list = &guide[at..at + guide[at..].find("\n\n").unwrap_or(guide.len() - at)];
        for kind in CheckError::KINDS {
            assert!(list.contains(&format!("`{kind}`")), "docs/director.md does not list {kind:?}");
        }
    }
}
