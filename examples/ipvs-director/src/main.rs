//! `ipvs-director`: health checks and failure policies for IPVS, keepalived's load-balancing
//! half on the ipvs library.
//!
//! ```text
//! ipvs-director --config FILE | --keepalived FILE [--check-config] [--strict] [--listen ADDR]
//!               [--no-listen] [--netns PATH] [--mock[=FILE]] [--release-on-exit] [--log-format text|json]
//!               [--config-id ID]
//! ipvs-director [--strict] import-keepalived FILE      # keepalived.conf as the native TOML file
//! ```
//!
//! SIGHUP reloads the configuration (a bad file is refused, the running one stays; the files
//! are read off the event loop, and a read that takes longer than 30 s is abandoned); SIGTERM
//! stops, leaving the table as it is (traffic flows on across a restart) unless
//! `--release-on-exit`, also when it comes during start-up. Output that cannot be written
//! (`--check-config`, `import-keepalived`, `--help`) is an error: status 2. `/metrics` and `/status` on 127.0.0.1:9745 by default.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use ipvs::transport::Transport;
use ipvs_director::cli::{Args, Cmd};
use ipvs_director::daemon::{self, Options, Source};
use ipvs_director::keepalived::ReadOptions;
use ipvs_director::Error;

/// The largest `--mock=FILE` seed read (ipvsadm rules; 20,000 services with 5 real servers
/// each take about 4 MB).
const MOCK_SEED_MAX_BYTES: u64 = 64 << 20;

/// How long, once the daemon has stopped, tasks still running on tokio's blocking pool (a
/// page being rendered, a check's address lookup) get before the process exits without them.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

fn transport(args: &Args) -> Result<Arc<dyn Transport>, Error> {
    // The seed is read without blocking (SIGTERM waits for the daemon's handlers meanwhile):
    // a FIFO or a device is refused, not waited on.
    let seed = |file: &str| ipvs::command::read_rules_seed(file, MOCK_SEED_MAX_BYTES);
    Ok(ipvs::command::open_transport(args.mock.as_deref(), args.netns.as_deref(), seed)?.transport())
}

/// Every check in flight holds a socket: thousands of servers checked within a connect
/// timeout need more descriptors than the usual soft limit (1,024), so the soft limit is
/// raised to the hard one at start.
fn raise_open_file_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => tracing::debug!(from = soft, to = hard, "open file limit raised"),
            Err(e) => tracing::warn!(error = %e, soft, "cannot raise the open file limit"),
        },
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the open file limit"),
    }
}

/// Writes `text` on standard output. What a command prints must reach its reader: a write
/// that fails (a full disk, a pipe whose reader is gone) is an error, never a panic.
fn print_out(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Error::Output)
}

/// A line on standard error (if standard error cannot be written either, nothing more can be
/// said: the exit status tells).
fn say(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Says the warnings about a keepalived.conf on standard error, `FILE:LINE: warning: KEYWORD:
/// what was done` (its errors are said where it is read again).
fn say_warnings(path: &std::path::Path, options: &ReadOptions) {
    if let Ok(reading) = options.read_file_with_warnings(path) {
        reading.warnings.iter().for_each(say);
    }
}

/// An output error: said on standard error, exit status 2 (as the `ipvs` command does).
fn output_error(e: Error) -> ExitCode {
    say(format_args!("ipvs-director: {e}"));
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // SIGTERM, SIGINT and SIGHUP wait until the daemon's handlers are in place (daemon::run
    // unblocks them): one that comes during start-up (reading the files, seeding the mock,
    // the first apply) stops the daemon cleanly instead of killing it with status 143.
    // Blocked here, in the only thread, every thread started later inherits the mask.
    let held = daemon::control_signals();
    let _ = held.thread_block();
    let args = match Args::try_parse() {
        Ok(args) => args,
        // A usage error goes to standard error (status 2); `--help` and `--version` to
        // standard output (status 0), which must be writable.
        Err(e) => {
            let _ = held.thread_unblock();
            let printed = e.print().and_then(|()| std::io::stdout().lock().flush());
            return match printed {
                Err(err) if !e.use_stderr() => output_error(Error::Output(err)),
                _ => ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2)),
            };
        }
    };
    if args.command.is_some() || args.check_config {
        // Not the daemon: the signals act as they do on any command.
        let _ = held.thread_unblock();
    }
    let mut read_options = ReadOptions { strict: args.strict, ..ReadOptions::default() };
    if let Some(id) = &args.config_id {
        read_options.config_id = id.clone();
    }
    if let Some(Cmd::ImportKeepalived { file }) = &args.command {
        if !args.strict {
            say_warnings(file, &read_options);
        }
        return match read_options.import_file(file) {
            Ok(text) => match print_out(&text) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => output_error(e),
            },
            Err(e) => {
                say(e);
                ExitCode::from(1)
            }
        };
    }
    let source = match (&args.config, &args.keepalived) {
        (Some(p), None) => Source::Native(p.clone()),
        (None, Some(p)) => Source::Keepalived(p.clone(), read_options),
        _ => {
            say("ipvs-director: give --config FILE or --keepalived FILE");
            return ExitCode::from(2);
        }
    };
    if args.check_config {
        if let (false, Source::Keepalived(p, o)) = (args.strict, &source) {
            say_warnings(p, o);
        }
        return match source.load() {
            Ok(c) => {
                let servers: usize = c.virtual_servers.iter().map(|v| v.real_servers.len()).sum();
                let n = c.virtual_servers.len();
                let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
                let mut line =
                    format!("configuration valid: {}, {}", plural(n, "virtual server"), plural(servers, "real server"));
                if !c.vrrp_instances.is_empty() {
                    line += &format!(", {}", plural(c.vrrp_instances.len(), "VRRP instance"));
                }
                line.push('\n');
                match print_out(&line) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => output_error(e),
                }
            }
            Err(e) => {
                say(e);
                ExitCode::from(1)
            }
        };
    }
    ipvs_exporter::serve::init_logs(args.log_format);
    raise_open_file_limit();
    let result = transport(&args).and_then(|t| {
        let options = Options {
            source,
            listen: (!args.no_listen).then_some(args.listen),
            netns: args.netns.clone(),
            release_on_exit: args.release_on_exit,
            proc_totals: args.mock.is_none(),
        };
        // One event loop, as keepalived has: thousands of short checks cost less without
        // waking threads across CPUs; kernel writes and file reads run on tokio's blocking
        // pool.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Error::Runtime)?;
        let result = runtime.block_on(daemon::run(options, t));
        // Dropping the runtime would wait for every blocking task, however long it runs.
        runtime.shutdown_timeout(SHUTDOWN_GRACE);
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "cannot run");
            say(format_args!("ipvs-director: {e}"));
            ExitCode::from(1)
        }
    }
}
