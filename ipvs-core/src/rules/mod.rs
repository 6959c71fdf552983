//! The ipvsadm rule format: what `ipvsadm -S` prints and `ipvsadm -R` reads, as a typed data
//! format. [`parse`] reads rule lines into [`Request`]s, with ipvsadm's meaning and defaults;
//! [`render`] writes a table as the lines `ipvsadm -Sn` prints for it, in ipvsadm's own
//! order ([`order`]), byte for byte.
//!
//! The command-line emulation of ipvsadm itself (its option scanner, messages, listings) is
//! not here: it lives in the `ipvsadm` crate under `examples/`, which uses this module.
//!
//! ```
//! use ipvs::{rules, Client, Request};
//! let text = "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2\n";
//! let requests: Vec<Request> = rules::parse(text)?.into_iter().map(|(_, r)| r).collect();
//! let client = Client::mock();
//! for r in &requests {
//!     client.execute(r)?;
//! }
//! let svc = client.services()?.remove(0).service;
//! let dests: Vec<_> = client.destinations(&svc.id)?.into_iter().map(|d| d.destination).collect();
//! assert_eq!(rules::render([(&svc, &dests[..])]), text);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod order;
mod parse;
mod render;

pub use parse::{defaults, parse_line};
pub use render::{
    address_port, destination_line, render, render_with, request_line, scheduler_flags_shown, service_address,
    service_line, AddressNames, Numeric,
};

use std::fmt;

use crate::error::InvalidInput;
use crate::model::Request;

/// The longest rule line [`parse`] reads, in bytes: far more than any rule needs, and a bound
/// on what a malformed input can make it hold.
pub const MAX_LINE: usize = 64 * 1024;

/// A rule line that could not be read: its number (from 1) and what was wrong, naming the
/// field and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The line number, from 1.
    pub line: usize,
    /// What was wrong.
    pub error: InvalidInput,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

impl std::error::Error for RuleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Parses every line of a rule text into its request, with its line number. The first bad
/// line is an error: nothing of a text with a bad line is returned, so nothing of it is
/// applied by mistake.
///
/// ```
/// use ipvs::rules;
/// let err = rules::parse("-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1 -w x\n").unwrap_err();
/// assert_eq!(err.line, 2);
/// assert_eq!(err.to_string(), "line 2: invalid weight \"x\": expected a number in 0..=2147483647");
/// ```
pub fn parse(text: &str) -> Result<Vec<(usize, Request)>, RuleError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.len() > MAX_LINE {
            let error =
                InvalidInput::new("line", format!("{} bytes", line.len()), format!("longer than {MAX_LINE} bytes"));
            return Err(RuleError { line: n, error });
        }
        if let Some(r) = parse_line(line).map_err(|error| RuleError { line: n, error })? {
            out.push((n, r));
        }
    }
    Ok(out)
}
