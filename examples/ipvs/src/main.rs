//! `ipvs`: whole IPVS tables as desired state.
//!
//! ```text
//! ipvs show [--json]                       the table with statistics and rates
//! ipvs export [--format toml|json|rules]   the configuration as a desired-state file
//! ipvs diff FILE [--scope SEL]... [--prune] [--output summary|rules|json]
//!                                          the plan; exit 0 nothing to do, 1 changes, 2 error
//! ipvs apply FILE [--scope SEL]... [--prune] [--dry-run] [--wait [SECS]]
//!                                          apply it; exit 0 converged, 1 not, 2 error
//! ipvs top [--once] [--sort KEY] [--filter TEXT] [--interval SECS]
//!                                          a live view of connections and rates
//! ipvs realserver prepare|check|undo --vip ADDR --method dr|tun|nat [--tunnel ipip|gue|gre]
//!                                          a real server made ready (check: exit 0 ready, 1 not)
//! ```
//!
//! `--netns PATH` works in another network namespace; `--mock` (or `IPVS_MOCK=1`) on the
//! in-memory kernel model, `--mock=FILE` (or `IPVS_MOCK=FILE`) on one holding FILE's table.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    ipvs_cli::run(std::env::args_os())
}
