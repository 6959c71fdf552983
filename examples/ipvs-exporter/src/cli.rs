//! The daemon's command line, here so that its manual page and shell completions are made
//! from the same definition (`command`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use crate::serve::LogFormat;

/// IPVS metrics for Prometheus.
#[derive(Parser, Debug)]
#[command(name = "ipvs-exporter", version, about)]
pub struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:9744", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Read the IPVS table of the network namespace at this path.
    #[arg(long, value_name = "PATH")]
    pub netns: Option<PathBuf>,
    /// Also serve node_exporter's node_ipvs_* series (its names, labels and label formats).
    #[arg(long)]
    pub node_exporter_names: bool,
    /// Read the in-memory kernel model (empty, or holding FILE's table) instead: for demos.
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub mock: Option<String>,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// The command line as a `clap::Command` (for manual pages and completions).
pub fn command() -> clap::Command {
    Args::command()
}
