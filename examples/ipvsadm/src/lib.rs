//! ipvsadm 1.31 as a library on `ipvs`: its command line (popt's rules, every option, check
//! and message), its listings in every mode, its exit statuses, and `-R`. The `ipvsadm`
//! binary of this crate is a drop-in for Debian bookworm's ipvsadm; the lab compares the two
//! byte for byte.
//!
//! What is a library concern, the rule format (`-S` output, `-R` input) as typed requests and
//! ipvsadm's order, lives in `ipvs::rules`; this crate is the command-line emulation around it.
//!
//! ```
//! use ipvs::transport::MockTransport;
//! use ipvsadm_compat::{run, NoNames};
//! let kernel = MockTransport::new();
//! let rules = "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2\n";
//! let argv = vec!["ipvsadm".to_string(), "-R".to_string()];
//! assert_eq!(run(&kernel, &argv, &mut rules.as_bytes(), &NoNames).code, 0);
//! let listing = run(&kernel, &vec!["ipvsadm".into(), "-Ln".into()], &mut &b""[..], &NoNames).stdout;
//! assert!(listing.contains("  -> 198.51.100.1:80              Masq    2      0          0         \n"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bytes;
mod cnum;
mod conns;
mod legal;
pub mod listing;
mod names;
mod options;
mod parse;
mod popt;
mod run;
mod text;

pub use legal::{Opt, Options};
pub use names::{FileNames, Names, NoNames, Shown};
pub use parse::{defaults, parse, Command, Format, Invocation, Listing, Parsed};
pub use run::{error_text, run, Output, MAX_RESTORE_LINE};

/// How an ipvsadm run ends early: what it prints and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status (ipvsadm's `exit(-1)` is 255).
    pub code: i32,
}

impl Exit {
    /// ipvsadm's `fail(2, ...)`: the message and a newline on stderr, status 2.
    pub fn fail(msg: impl Into<String>) -> Exit {
        Exit { stdout: String::new(), stderr: msg.into() + "\n", code: 2 }
    }
}
