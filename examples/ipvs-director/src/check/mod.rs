//! Running one attempt of a check: TCP connect, HTTP and HTTPS GET, DNS query, a command,
//! SMTP. Each attempt is bounded by the check's timeout and reports what it saw; the
//! scheduling and what a result does to the server's health are elsewhere
//! ([`crate::health`]).

mod dns;
mod error;
mod http;
mod misc;
mod net;
mod smtp;

use std::time::{Duration, Instant};

use crate::config::{CheckKind, ResolvedCheck};

pub use error::{CheckError, IoError, Setup, SmtpStep, Step, Wait};
pub use http::{digest_of_response, request_text};
pub use misc::{run_script, ScriptOutcome, ScriptSetup};

/// What one attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Passed, or why not.
    pub result: Result<(), CheckError>,
    /// How long it took.
    pub latency: Duration,
    /// A command check with `misc_dynamic` that exited 2..=255: the weight it asks for.
    pub weight: Option<u32>,
}

/// Runs one attempt of `check` (`url`: which url of an HTTP check).
pub async fn attempt(check: &ResolvedCheck, url: usize) -> Attempt {
    let start = Instant::now();
    let mut weight = None;
    let result = match (&check.kind, check.target) {
        (CheckKind::Tcp, Some(target)) => net::connect(check, target).await.map(drop),
        (CheckKind::Http(h), Some(target)) => http::get(check, h, url, target, false).await,
        (CheckKind::Https(h), Some(target)) => http::get(check, h, url, target, true).await,
        (CheckKind::Dns(d), Some(target)) => dns::query(check, d, target).await,
        (CheckKind::Smtp(s), Some(target)) => smtp::session(check, s, target).await,
        (CheckKind::Misc(m), _) => match misc::run_script(&m.command, check.connect_timeout).await {
            ScriptOutcome::Exited(0) => Ok(()),
            ScriptOutcome::Exited(code) if m.dynamic && code >= 2 => {
                weight = Some(u32::from(code) - 2);
                Ok(())
            }
            other => Err(CheckError::Script(other)),
        },
        (_, None) => Err(CheckError::NoTarget),
    };
    Attempt { result, latency: start.elapsed(), weight }
}
