//! The command line, here so that the manual page and shell completions are made from the
//! same definition (`command`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};
use ipvs_exporter::serve::LogFormat;

/// Health checks and failure policies for IPVS (keepalived's load-balancing half).
#[derive(Parser, Debug)]
#[command(name = "ipvs-director", version, about)]
pub struct Args {
    /// A command instead of the daemon.
    #[command(subcommand)]
    pub command: Option<Cmd>,
    /// The native configuration (TOML; see docs/director-config.md).
    #[arg(long, value_name = "FILE", conflicts_with = "keepalived")]
    pub config: Option<PathBuf>,
    /// Run from keepalived.conf directly (its supported subset).
    #[arg(long, value_name = "FILE")]
    pub keepalived: Option<PathBuf>,
    /// Validate the configuration, print any problem and every warning, and exit (0: valid,
    /// 1: not).
    #[arg(long)]
    pub check_config: bool,
    /// Refuse a keepalived.conf with anything keepalived would warn about (every warning is
    /// an error: status 1), at start, on reload and in import-keepalived.
    #[arg(long, global = true)]
    pub strict: bool,
    /// keepalived's -i: read `@ID` lines of keepalived.conf for this id (default: the host
    /// name up to its first dot, as keepalived).
    #[arg(long, global = true, value_name = "ID")]
    pub config_id: Option<String>,
    /// Where to serve /metrics and /status.
    #[arg(long, default_value = "127.0.0.1:9745", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Serve nothing.
    #[arg(long)]
    pub no_listen: bool,
    /// Manage the IPVS table of the network namespace at this path.
    #[arg(long, value_name = "PATH")]
    pub netns: Option<PathBuf>,
    /// Use the in-memory kernel (empty, or holding FILE's ipvsadm rules): for demos.
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub mock: Option<String>,
    /// On SIGTERM, delete the services it manages (keepalived's behaviour).
    #[arg(long)]
    pub release_on_exit: bool,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// The commands that are not the daemon.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Prints keepalived.conf as the native configuration file.
    ImportKeepalived {
        /// The keepalived.conf file.
        file: PathBuf,
    },
}

/// The command line as a `clap::Command` (for manual pages and completions).
pub fn command() -> clap::Command {
    Args::command()
}
