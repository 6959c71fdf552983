//! The `ipvs` command (the binary is `src/main.rs`) as a library: what it does, and its
//! command line as a `clap::Command` ([`command`]), from which its manual pages and shell
//! completions are made.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cli;
mod files;
mod realserver;
mod show;
mod top;

use std::ffi::OsString;
use std::process::ExitCode;

pub use cli::command;

/// Runs the command with these arguments (the program's name first): 0 done (or nothing to
/// do), 1 for changes or a check that failed, 2 with a message on standard error for an error.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    match cli::run(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ipvs: {e}");
            ExitCode::from(2)
        }
    }
}
