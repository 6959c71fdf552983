//! The metrics: one table read per scrape, encoded with the official Prometheus client.
//!
//! Per service and per destination: the kernel's 64-bit counters (`_total`) and its rate
//! estimates (gauges); per destination also its connections and weight; the namespace's
//! totals (from `/proc/net/ip_vs_stats`); and the scrape's own health. With
//! [`Options::node_exporter_names`], node_exporter's `node_ipvs_*` series too, with its names,
//! labels and label formats (see [`crate::node`]).

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipvs::state::Table;
use ipvs::transport::Transport;
use ipvs::{Client, ServiceId, Stats};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, LabelSetEncoder, MetricEncoder};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

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
    /// The table, read with the dump-consistency proof (None if the read failed); shared, so
    /// handing a snapshot to the encoder copies no table.
    pub table: Option<Arc<Table>>,
    /// The namespace's totals (None where /proc has none: IPVS not loaded, or the mock).
    pub totals: Option<Stats>,
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
            Ok(t) => snap.table = Some(Arc::new(t)),
            Err(e) => snap.errors.push(format!("table: {e}")),
        }
        if self.totals_from_proc {
            match crate::totals::read(self.netns.as_deref()) {
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

    /// Reads the kernel now; the writer of the body of `/metrics` from that reading, for
    /// serving it as it is written ([`crate::serve::Body::Written`]).
    ///
    /// ```
    /// use ipvs::Client;
    /// use ipvs_exporter::{Options, Scraper};
    /// let scraper = Scraper::new(Client::mock(), None, Options::default());
    /// let mut text = String::new();
    /// scraper.metrics_writer()(&mut text).unwrap();
    /// assert!(text.starts_with("# HELP ipvs_up ") && text.ends_with("# EOF\n"));
    /// ```
    pub fn metrics_writer(&self) -> crate::serve::Writer {
        let (snap, options, errors) = (self.scrape(), self.options, self.errors.load(Ordering::Relaxed));
        Box::new(move |out: &mut dyn fmt::Write| write_with(out, &snap, options, errors, Vec::new()))
    }

    /// The writer of the body of `/metrics` from `snap`, a reading made by
    /// [`Scraper::scrape`] (one that several pages share, say: see
    /// [`crate::serve::Reading`]).
    ///
    /// ```
    /// use ipvs::Client;
    /// use ipvs_exporter::serve::Reading;
    /// use ipvs_exporter::{Options, Scraper};
    /// let scraper = Scraper::new(Client::mock(), None, Options::default()).without_proc();
    /// let reading = Reading::default();
    /// let mut text = String::new();
    /// scraper.writer_of(reading.get(|| scraper.scrape()))(&mut text).unwrap();
    /// assert!(text.starts_with("# HELP ipvs_up ") && text.ends_with("# EOF\n"));
    /// ```
    pub fn writer_of(&self, snap: Arc<Snapshot>) -> crate::serve::Writer {
        let (options, errors) = (self.options, self.errors.load(Ordering::Relaxed));
        Box::new(move |out: &mut dyn fmt::Write| write_with(out, &snap, options, errors, Vec::new()))
    }
}

/// Encodes `snap` as OpenMetrics text, `errors` being the count of incomplete scrapes so far.
pub fn render(snap: &Snapshot, options: Options, errors: u64) -> String {
    render_with(snap, options, errors, Vec::new())
}

/// [`render`], followed by the families of other collectors (the director's own).
pub fn render_with(snap: &Snapshot, options: Options, errors: u64, extra: Vec<Box<dyn Collector>>) -> String {
    // About 200 bytes a series (labels included): sized once, the text is not copied as it grows.
    let rows = snap.table.as_ref().map_or(0, |t| t.len() * 10 + t.destination_count() * 17);
    let mut out = String::with_capacity(4096 + rows * 200);
    // Writing to a String cannot fail; an error here would be a bug in the encoder.
    if write_with(&mut out, snap, options, errors, extra).is_err() {
        tracing::error!("encoding the metrics failed");
    }
    out
}

/// [`render_with`] into `out`, as it goes (the text is never held whole here).
///
/// ```
/// use ipvs_exporter::{write_with, Options, Snapshot};
/// let mut text = String::new();
/// write_with(&mut text, &Snapshot::default(), Options::default(), 0, Vec::new()).unwrap();
/// assert!(text.contains("ipvs_up 0\n") && text.ends_with("# EOF\n"));
/// ```
pub fn write_with<W: fmt::Write + ?Sized>(
    out: &mut W,
    snap: &Snapshot,
    options: Options,
    errors: u64,
    extra: Vec<Box<dyn Collector>>,
) -> fmt::Result {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families { snap: Arc::new(snap.clone()), options, errors }));
    for c in extra {
        registry.register_collector(c);
    }
    // `&mut W` is a sized writer (std's impl), which is what the encoder takes.
    let mut out = out;
    prometheus_client::encoding::text::encode(&mut out, &registry)
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

/// A label set written out once and handed whole to each of its series.
///
/// The text encoder asks a label set for its labels one by one, five writes a label; a
/// destination's eight labels appear in each of its 14 series. This keeps them as the text
/// format writes them: every label but the last as `name="value",...,last_name` (values
/// escaped as the format escapes them), and the last value, which the encoder escapes itself.
/// The encoder is given them as one label, so a series costs a few writes instead of forty.
/// The output is the same text (the golden exposition tests compare it byte for byte). Only
/// for the text format, the one served.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct LabelText {
    head: String,
    last: String,
}

impl LabelText {
    /// The labels `labels`, in this order.
    pub(crate) fn new<V: AsRef<str>>(labels: &[(&str, V)]) -> Self {
        let Some(((last_name, last_value), rest)) = labels.split_last() else { return LabelText::default() };
        let mut head = String::with_capacity(16 * labels.len());
        for (name, value) in rest {
            head.push_str(name);
            head.push_str("=\"");
            escape_into(&mut head, value.as_ref());
            head.push_str("\",");
        }
        head.push_str(last_name);
        LabelText { head, last: last_value.as_ref().to_owned() }
    }

    fn is_empty(&self) -> bool {
        self.head.is_empty()
    }
}

/// `value` as a label value of the text format: backslash, double quote and newline escaped.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

impl EncodeLabelSet for LabelText {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        let mut label = encoder.encode_label();
        let mut name = label.encode_label_key()?;
        name.write_str(&self.head)?;
        let mut value = name.encode_label_value()?;
        value.write_str(&self.last)?;
        value.finish()
    }
}

/// One sample: its labels and value.
pub(crate) type Row<'a> = (&'a LabelText, Value);

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
    if let [(l, v)] = rows {
        if l.is_empty() {
            return put(*v, f);
        }
    }
    for (labels, v) in rows {
        put(*v, f.encode_family(*labels)?)?;
    }
    Ok(())
}

/// A family of one sample with no labels.
fn single(enc: &mut DescriptorEncoder, name: &str, help: &str, kind: MetricType, v: Value) -> fmt::Result {
    write_family(enc, name, help, kind, true, &[(&LabelText::default(), v)])
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

fn stats_families(enc: &mut DescriptorEncoder, prefix: &str, of: &str, rows: &[(&LabelText, &Stats)]) -> fmt::Result {
    for (suffix, help, counter, get) in STATS {
        let name = format!("{prefix}_{suffix}");
        let kind = if counter { MetricType::Counter } else { MetricType::Gauge };
        let values: Vec<Row<'_>> =
            rows.iter().map(|(l, s)| (*l, if counter { Value::Count(get(s)) } else { gauge_u64(get(s)) })).collect();
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
        if let Some(s) = &snap.totals {
            let none = LabelText::default();
            stats_families(&mut enc, "ipvs", "network namespace (the kernel's totals)", &[(&none, s)])?;
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
                let mut labels = service_labels(&s.id, s.scheduler.name());
                services.push((LabelText::new(&labels), e.stats()));
                // A destination is known by its service's identity and its own; the
                // scheduler is the service's (and would only multiply series on change).
                labels.retain(|(k, _)| *k != "scheduler");
                for d in e.destinations() {
                    labels.truncate(5);
                    labels.push(("destination_address", d.destination.addr.to_string()));
                    labels.push(("destination_port", d.destination.port.to_string()));
                    labels.push(("forward", d.destination.forward.name()));
                    dests.push((LabelText::new(&labels), d));
                }
            }
            let rows: Vec<(&LabelText, &Stats)> = services.iter().map(|(l, s)| (l, *s)).collect();
            stats_families(&mut enc, "ipvs_service", "service", &rows)?;
            let rows: Vec<(&LabelText, &Stats)> = dests.iter().map(|(l, d)| (l, &d.stats)).collect();
            stats_families(&mut enc, "ipvs_destination", "destination", &rows)?;
            let per = |f: fn(&ipvs::DestinationStatus) -> u32| -> Vec<Row<'_>> {
                dests.iter().map(|(l, d)| (l, Value::Int(i64::from(f(d))))).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The text a family of one counter gets with `labels` given as `set`.
    fn text_of<S: EncodeLabelSet + fmt::Debug + Send + Sync + 'static>(set: S) -> String {
        #[derive(Debug)]
        struct One<S>(S);
        impl<S: EncodeLabelSet + fmt::Debug + Send + Sync + 'static> Collector for One<S> {
            fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
                let mut f = enc.encode_descriptor("x", "An x.", None, MetricType::Counter)?;
                ConstCounter::new(7u64).encode(f.encode_family(&self.0)?)
            }
        }
        let mut registry = Registry::default();
        registry.register_collector(Box::new(One(set)));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
        out
    }

    #[test]
    fn a_label_text_encodes_as_the_client_encodes_its_labels() {
        let odd = ["plain", "with \"quotes\"", "back\\slash", "two\nlines", "", "ünï"];
        for head in odd {
            for last in odd {
                let labels = vec![("a", head.to_owned()), ("b", "x".to_owned()), ("c", last.to_owned())];
                let ours = text_of(LabelText::new(&labels));
                assert_eq!(ours, text_of(labels), "values {head:?}, {last:?}");
            }
        }
        let one = vec![("only", "v\"".to_owned())];
        assert_eq!(text_of(LabelText::new(&one)), text_of(one));
    }
}
