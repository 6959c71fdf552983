//! IPVS metrics for Prometheus: a module the exporter and the director share, and the
//! `ipvs-exporter` daemon on it (see docs/monitoring.md).
//!
//! Every scrape reads the kernel once ([`Scraper::scrape`]: the whole table with the
//! dump-consistency proof, and the namespace's totals) and encodes that reading with the
//! official client (`prometheus-client`): no background polling, no stale values.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
mod metrics;
pub mod node;
pub mod page;
pub mod serve;
pub mod totals;

pub use metrics::{render, render_with, service_labels, write_with, Options, Scraper, Snapshot};
