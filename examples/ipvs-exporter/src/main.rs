//! `ipvs-exporter`: IPVS metrics for Prometheus.
//!
//! ```text
//! ipvs-exporter [--listen ADDR] [--netns PATH] [--node-exporter-names] [--mock[=FILE]] [--log-format text|json]
//! ```
//!
//! Serves `/metrics` (OpenMetrics text, read from the kernel at each scrape) and `/` (the
//! table's status page, see `ipvs_exporter::page`) on ADDR (default 127.0.0.1:9744, loopback
//! only unless told otherwise).
//! SIGTERM or SIGINT: stops accepting, lets open scrapes finish, exits 0. SIGHUP: opens the
//! netlink transport again (after the ip_vs module was reloaded, say).
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::{Arc, Mutex, RwLock};

use clap::Parser;
use ipvs::command::{open_transport, read_rules_seed, OpenError, Opened};
use ipvs::transport::Transport;
use ipvs::Client;
use ipvs_exporter::cli::Args;
use ipvs_exporter::serve::{serve, Body, Page, Pages, Reading, Writer, OPENMETRICS};
use ipvs_exporter::{page, Options, Scraper, Snapshot};
use tokio::signal::unix::{signal, SignalKind};

type Shared = Arc<RwLock<Scraper<Box<dyn Transport>>>>;

/// The largest `--mock=FILE` seed read (ipvsadm rules; 20,000 services with 5 real servers
/// each take about 4 MB).
const MOCK_SEED_MAX_BYTES: u64 = 64 << 20;

fn open(args: &Args) -> Result<Scraper<Box<dyn Transport>>, String> {
    let options = Options { node_exporter_names: args.node_exporter_names };
    let seed = |file: &str| read_rules_seed(file, MOCK_SEED_MAX_BYTES);
    let (transport, netns): (Box<dyn Transport>, _) =
        match open_transport(args.mock.as_deref(), args.netns.as_deref(), seed) {
            Ok(Opened::Mock(model)) => (Box::new(model), None),
            Ok(Opened::Kernel(t)) => (t, args.netns.clone()),
            Err(OpenError::Kernel(e)) => return Err(format!("opening the IPVS netlink socket: {e}")),
            Err(e) => return Err(e.to_string()),
        };
    let scraper = Scraper::new(Client::with_transport(transport), netns, options);
    // The in-memory kernel has no /proc totals.
    Ok(if args.mock.is_some() { scraper.without_proc() } else { scraper })
}

fn pages(scraper: Shared) -> Pages {
    // Scrapes that start together share one reading of the kernel (see `Reading`).
    let reading = Arc::new(Reading::<Snapshot>::default());
    let history = Arc::new(Mutex::new(page::History::default()));
    Arc::new(move |path: &str| match path {
        "/metrics" => {
            let (scraper, reading) = (scraper.clone(), reading.clone());
            // The reading is made in the writer, in the page's slot (no slot: 503, no reading).
            let write: Writer = Box::new(move |out: &mut dyn std::fmt::Write| {
                let writer = {
                    let s = scraper.read().unwrap_or_else(|p| p.into_inner());
                    s.writer_of(reading.get(|| s.scrape()))
                };
                writer(out)
            });
            Some(Page { content_type: OPENMETRICS, body: Body::Written(write) })
        }
        "/" => {
            let (scraper, reading, history) = (scraper.clone(), reading.clone(), history.clone());
            let read = move || {
                let s = scraper.read().unwrap_or_else(|p| p.into_inner());
                reading.get(|| s.scrape())
            };
            Some(Page { content_type: page::HTML, body: Body::Written(page::table::writer(read, history)) })
        }
        _ => None,
    })
}

async fn run(args: Args) -> Result<(), String> {
    let scraper: Shared = Arc::new(RwLock::new(open(&args)?));
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.map_err(|e| format!("listening on {}: {e}", args.listen))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    tracing::info!(listen = %args.listen, netns = ?args.netns, node_exporter_names = args.node_exporter_names, "serving /metrics");
    let reopen = {
        let scraper = scraper.clone();
        async move {
            while hup.recv().await.is_some() {
                match open(&args) {
                    Ok(s) => {
                        *scraper.write().unwrap_or_else(|p| p.into_inner()) = s;
                        tracing::info!("SIGHUP: netlink transport opened again");
                    }
                    Err(e) => tracing::error!(error = %e, "SIGHUP: could not open again; keeping the old transport"),
                }
            }
        }
    };
    let stop = async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: stopping"),
            _ = int.recv() => tracing::info!("SIGINT: stopping"),
        }
    };
    tokio::select! {
        () = serve(listener, pages(scraper), stop) => {}
        () = reopen => {}
    }
    tracing::info!("stopped");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    ipvs_exporter::serve::init_logs(args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ipvs-exporter: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "cannot run");
            eprintln!("ipvs-exporter: {e}");
            ExitCode::from(1)
        }
    }
}
