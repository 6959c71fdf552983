//! The metrics: one table read per scrape, encoded with the official Prometheus client.
//!
//! Per service and per destination: the kernel's 64-bit counters (`_total`) and its rate
//! estimates (gauges); per destination also its connections and weight; the namespace's
//! totals (from `/proc/net/ip_vs_stats`); and the scrape's own health. With
//! [`Options::node_exporter_names`], node_exporter's `node_ipvs_*` series too, with its names,
//! labels and label formats (see [`crate::node`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipvs::state::Table;
use ipvs::transport::Transport;
use ipvs::{Client, ServiceId, Stats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::totals::Totals;

/// What to expose besides our own metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Also node_exporter's `node_ipvs_*` series (names, labels and label formats), so
    /// dashboards built on it keep working.
    pub node_exporter_names: bool,
}

/// One scrape's reading of the kernel.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The table, read with the dump-consistency proof (None if the read failed).
    pub table: Option<Table>,
    /// The namespace's totals (None where /proc has none: IPVS not loaded, or the mock).
    pub totals: Option<Totals>,
    /// How long the reading took.
    pub duration: Duration,
    /// Why a part could not be read.
    pub errors: Vec<String>,
}

/// Reads and encodes: the part the exporter and the director share.
///
/// ```
/// use ipvs::{Client, Scheduler, Service, ServiceId};
/// use ipvs_exporter::{Options, Scraper};
/// let client = Client::mock();
/// client.add_service(&Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr))?;
/// let scraper = Scraper::new(client, None, Options::default());
/// let text = scraper.metrics();
/// assert!(text.contains("ipvs_service_connections_total{protocol=\"tcp\",address=\"192.0.2.1\",port=\"80\",fwmark=\"\",family=\"inet\",scheduler=\"rr\"} 0\n"));
/// assert!(text.ends_with("# EOF\n"));
/// # Ok::<(), ipvs::Error>(())
/// ```
#[derive(Debug)]
pub struct Scraper<T: Transport> {
    client: Client<T>,
    netns: Option<PathBuf>,
    totals_from_proc: bool,
    options: Options,
    errors: Arc<AtomicU64>,
}

impl<T: Transport> Scraper<T> {
    /// A scraper reading through `client`; the totals are read from /proc in `netns` (the
    /// caller's namespace when None).
    pub fn new(client: Client<T>, netns: Option<PathBuf>, options: Options) -> Self {
        Scraper { client, netns, totals_from_proc: true, options, errors: Arc::new(AtomicU64::new(0)) }
    }

    /// A scraper that does not read /proc (the totals are left out): for the in-memory kernel.
    pub fn without_proc(mut self) -> Self {
        self.totals_from_proc = false;
        self
    }

    /// The client it reads through.
    pub fn client(&self) -> &Client<T> {
        &self.client
    }

    /// Reads the kernel now.
    pub fn scrape(&self) -> Snapshot {
        let start = Instant::now();
        let mut snap = Snapshot::default();
        match self.client.table() {
            Ok(t) => snap.table = Some(t),
            Err(e) => snap.errors.push(format!("table: {e}")),
        }
        if self.totals_from_proc {
            match Totals::read(self.netns.as_deref()) {
                Ok(t) => snap.totals = t,
                Err(e) => snap.errors.push(format!("totals: {e}")),
            }
        }
        snap.duration = start.elapsed();
        if !snap.errors.is_empty() {
            self.errors.fetch_add(1, Ordering::Relaxed);
            for e in &snap.errors {
                tracing::warn!(error = %e, "scrape incomplete");
            }
        }
        snap
    }

    /// Encodes a snapshot as OpenMetrics text.
    pub fn render(&self, snap: &Snapshot) -> String {
        render(snap, self.options, self.errors.load(Ordering::Relaxed))
    }

    /// Reads and encodes: the body of `/metrics`.
    pub fn metrics(&self) -> String {
        self.render(&self.scrape())
    }
}

/// Encodes `snap` as OpenMetrics text, `errors` being the count of incomplete scrapes so far.
pub fn render(snap: &Snapshot, options: Options, errors: u64) -> String {
    render_with(snap, options, errors, Vec::new())
}

/// [`render`], followed by the families of other collectors (the director's own).
pub fn render_with(snap: &Snapshot, options: Options, errors: u64, extra: Vec<Box<dyn Collector>>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families { snap: Arc::new(snap.clone()), options, errors }));
    for c in extra {
        registry.register_collector(c);
    }
    // About 200 bytes a series (labels included): sized once, the text is not copied as it grows.
    let rows = snap.table.as_ref().map_or(0, |t| t.len() * 10 + t.destination_count() * 14);
    let mut out = String::with_capacity(4096 + rows * 200);
    // Writing to a String cannot fail; an error here would be a bug in the encoder.
    if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
        tracing::error!("encoding the metrics failed");
    }
    out
}

#[derive(Debug)]
struct Families {
    snap: Arc<Snapshot>,
    options: Options,
    errors: u64,
}

type Labels = Vec<(&'static str, String)>;

/// The labels of a service: protocol, address and port, or firewall mark; family; scheduler.
pub fn service_labels(id: &ServiceId, scheduler: &str) -> Labels {
    let (protocol, address, port, fwmark) = match id {
        ServiceId::Inet { protocol, addr, port } => {
            (protocol.name(), addr.to_string(), port.to_string(), String::new())
        }
        ServiceId::Fwmark { mark, .. } => (String::new(), String::new(), String::new(), mark.to_string()),
    };
    vec![
        ("protocol", protocol),
        ("address", address),
        ("port", port),
        ("fwmark", fwmark),
        ("family", id.family().name().to_owned()),
        ("scheduler", scheduler.to_owned()),
    ]
}

/// One sample: its labels and value.
pub(crate) type Row<'a> = (&'a [(&'static str, String)], Value);

/// A family written only when it has samples (or always, `always`).
pub(crate) fn write_family(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    always: bool,
    rows: &[Row<'_>],
) -> fmt::Result {
    if rows.is_empty() && !always {
        return Ok(());
    }
    let mut f = enc.encode_descriptor(name, help, None, kind)?;
    let put = |v: Value, m: MetricEncoder<'_>| match v {
        Value::Count(n) => ConstCounter::new(n).encode(m),
        Value::Int(n) => ConstGauge::new(n).encode(m),
        Value::Float(x) => ConstGauge::new(x).encode(m),
    };
    // A family of one sample with no labels is written without braces.
    if let [(&[], v)] = rows {
        return put(*v, f);
    }
    for (labels, v) in rows {
        put(*v, f.encode_family(labels)?)?;
    }
    Ok(())
}

/// A family of one sample with no labels.
fn single(enc: &mut DescriptorEncoder, name: &str, help: &str, kind: MetricType, v: Value) -> fmt::Result {
    write_family(enc, name, help, kind, true, &[(&[], v)])
}

/// A sample's value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value {
    Count(u64),
    Int(i64),
    Float(f64),
}

fn gauge_u64(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A statistic: metric suffix, HELP text, whether a counter (else a gauge), its value.
type StatField = (&'static str, &'static str, bool, fn(&Stats) -> u64);

/// The counters and rates of [`Stats`].
const STATS: [StatField; 10] = [
    ("connections", "Connections scheduled", true, |s| s.conns),
    ("incoming_packets", "Packets received from clients", true, |s| s.in_packets),
    ("outgoing_packets", "Packets sent back to clients", true, |s| s.out_packets),
    ("incoming_bytes", "Bytes received from clients", true, |s| s.in_bytes),
    ("outgoing_bytes", "Bytes sent back to clients", true, |s| s.out_bytes),
    ("connections_per_second", "Connections per second, the kernel's estimate", false, |s| s.cps),
    ("incoming_packets_per_second", "Incoming packets per second, the kernel's estimate", false, |s| s.in_pps),
    ("outgoing_packets_per_second", "Outgoing packets per second, the kernel's estimate", false, |s| s.out_pps),
    ("incoming_bytes_per_second", "Incoming bytes per second, the kernel's estimate", false, |s| s.in_bps),
    ("outgoing_bytes_per_second", "Outgoing bytes per second, the kernel's estimate", false, |s| s.out_bps),
];

fn stats_families(enc: &mut DescriptorEncoder, prefix: &str, of: &str, rows: &[(Labels, &Stats)]) -> fmt::Result {
    for (suffix, help, counter, get) in STATS {
        let name = format!("{prefix}_{suffix}");
        let kind = if counter { MetricType::Counter } else { MetricType::Gauge };
        let values: Vec<Row<'_>> = rows
            .iter()
            .map(|(l, s)| (l.as_slice(), if counter { Value::Count(get(s)) } else { gauge_u64(get(s)) }))
            .collect();
        write_family(enc, &name, &format!("{help}, per {of}."), kind, true, &values)?;
    }
    Ok(())
}

impl Collector for Families {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let snap = &self.snap;
        let up = Value::Int(i64::from(snap.table.is_some()));
        single(
            &mut enc,
            "ipvs_up",
            "Whether the last scrape read the IPVS table (1) or not (0).",
            MetricType::Gauge,
            up,
        )?;
        let took = Value::Float(snap.duration.as_secs_f64());
        single(&mut enc, "ipvs_scrape_duration_seconds", "How long reading the kernel took.", MetricType::Gauge, took)?;
        let errors = Value::Count(self.errors);
        single(&mut enc, "ipvs_scrape_errors", "Scrapes that could not read everything.", MetricType::Counter, errors)?;
        if let Some(t) = &snap.totals {
            let s = Stats {
                conns: t.conns,
                in_packets: t.in_packets,
                out_packets: t.out_packets,
                in_bytes: t.in_bytes,
                out_bytes: t.out_bytes,
                cps: t.cps,
                in_pps: t.in_pps,
                out_pps: t.out_pps,
                in_bps: t.in_bps,
                out_bps: t.out_bps,
            };
            stats_families(&mut enc, "ipvs", "network namespace (the kernel's totals)", &[(Vec::new(), &s)])?;
        }
        if let Some(table) = &snap.table {
            let g = MetricType::Gauge;
            single(&mut enc, "ipvs_services", "Virtual services.", g, gauge_u64(table.len() as u64))?;
            let n = gauge_u64(table.destination_count() as u64);
            single(&mut enc, "ipvs_destinations", "Real servers (destinations), over all services.", g, n)?;
            let mut services = Vec::with_capacity(table.len());
            let mut dests = Vec::with_capacity(table.destination_count());
            for e in table.entries() {
                let s = e.service();
                let labels = service_labels(&s.id, s.scheduler.name());
                for d in e.destinations() {
                    // A destination is known by its service's identity and its own; the
                    // scheduler is the service's (and would only multiply series on change).
                    let mut l: Labels = labels.iter().filter(|(k, _)| *k != "scheduler").cloned().collect();
                    l.push(("destination_address", d.destination.addr.to_string()));
                    l.push(("destination_port", d.destination.port.to_string()));
                    l.push(("forward", d.destination.forward.name()));
                    dests.push((l, d));
                }
                services.push((labels, e.stats()));
            }
            stats_families(&mut enc, "ipvs_service", "service", &services)?;
            let rows: Vec<(Labels, &Stats)> = dests.iter().map(|(l, d)| (l.clone(), &d.stats)).collect();
            stats_families(&mut enc, "ipvs_destination", "destination", &rows)?;
            let per = |f: fn(&ipvs::DestinationStatus) -> u32| -> Vec<Row<'_>> {
                dests.iter().map(|(l, d)| (l.as_slice(), Value::Int(i64::from(f(d))))).collect()
            };
            for (name, help, get) in [
                (
                    "ipvs_destination_active_connections",
                    "Connections in an active state (TCP established), per destination.",
                    (|d| d.active_conns) as fn(&ipvs::DestinationStatus) -> u32,
                ),
                (
                    "ipvs_destination_inactive_connections",
                    "Connections in another state (TCP closing, UDP), per destination.",
                    |d| d.inactive_conns,
                ),
                (
                    "ipvs_destination_persistent_connections",
                    "Persistence templates pointing at the destination.",
                    |d| d.persistent_conns,
                ),
                ("ipvs_destination_weight", "The destination's weight (0: takes no new connections).", |d| {
                    d.destination.weight
                }),
            ] {
                write_family(&mut enc, name, help, g, true, &per(get))?;
            }
        }
        if self.options.node_exporter_names {
            crate::node::encode(&mut enc, snap)?;
        }
        Ok(())
    }
}
