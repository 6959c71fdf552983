//! `/metrics`: the exporter's metrics of the kernel's table (read at the scrape) and the
//! director's own (health of each real server and check, latencies, failures, quorum, applies,
//! reloads); `/status` (and `/?format=json`): the same as JSON, with each check's last result
//! and since when; `/`: the status page ([`page`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ipvs::transport::Transport;
use ipvs::Client;
use ipvs_exporter::serve::{Body, Page, Pages, Reading, Writer, OPENMETRICS};
use ipvs_exporter::{write_with, Options, Scraper, Snapshot};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use serde_json::{json, Value};

use super::{lock, Counters, ServerKey, Shared};
use crate::failover::{state_name, InstanceStatus};
use ipvs_vrrp::State;

mod page;

/// One sample of the director's families.
type Labels = Vec<(&'static str, String)>;

#[derive(Debug)]
struct Families {
    servers: Vec<(Labels, bool)>,
    checks: Vec<(Labels, bool, f64, u64)>,
    /// One row per check and kind of failure it had.
    failures: Vec<(Labels, u64)>,
    quorum: Vec<(Labels, bool)>,
    counters: Counters,
    vrrp: Vec<InstanceStatus>,
}

const STATES: [State; 4] = [State::Initialize, State::Backup, State::Master, State::Fault];

fn gauge(enc: &mut DescriptorEncoder, name: &str, help: &str, rows: &[(&Labels, f64)]) -> fmt::Result {
    let mut f = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (l, v) in rows {
        ConstGauge::new(*v).encode(f.encode_family(&l.as_slice())?)?;
    }
    Ok(())
}

fn counter(enc: &mut DescriptorEncoder, name: &str, help: &str, rows: &[(&Labels, u64)]) -> fmt::Result {
    let mut f = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    // One sample with no labels is written without braces.
    if let [(l, v)] = rows {
        if l.is_empty() {
            return ConstCounter::new(*v).encode(f);
        }
    }
    for (l, v) in rows {
        ConstCounter::new(*v).encode(f.encode_family(&l.as_slice())?)?;
    }
    Ok(())
}

impl Collector for Families {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let up = |b: bool| if b { 1.0 } else { 0.0 };
        let rows: Vec<_> = self.servers.iter().map(|(l, a)| (l, up(*a))).collect();
        gauge(
            &mut enc,
            "ipvs_director_real_server_up",
            "Whether every check of the real server passes (1) or not (0).",
            &rows,
        )?;
        let rows: Vec<_> = self.checks.iter().map(|(l, a, ..)| (l, up(*a))).collect();
        gauge(&mut enc, "ipvs_director_check_up", "Whether the check passes (1) or not (0), retries counted.", &rows)?;
        let rows: Vec<_> = self.checks.iter().map(|(l, _, s, ..)| (l, *s)).collect();
        gauge(&mut enc, "ipvs_director_check_latency_seconds", "How long the check's last attempt took.", &rows)?;
        let rows: Vec<_> = self.checks.iter().map(|(l, _, _, n)| (l, *n)).collect();
        counter(&mut enc, "ipvs_director_check_attempts", "Attempts of the check.", &rows)?;
        let rows: Vec<_> = self.failures.iter().map(|(l, f)| (l, *f)).collect();
        counter(&mut enc, "ipvs_director_check_failures", "Failed attempts of the check, by kind of failure.", &rows)?;
        let rows: Vec<_> = self.quorum.iter().map(|(l, q)| (l, up(*q))).collect();
        gauge(&mut enc, "ipvs_director_quorum_up", "Whether the virtual server has quorum (1) or not (0).", &rows)?;
        let none = Vec::new();
        let c = self.counters;
        for (name, help, v) in [
            ("ipvs_director_applies", "Tables applied.", c.applies),
            ("ipvs_director_writes", "Writes the applies made.", c.writes),
            ("ipvs_director_apply_failures", "Applies that failed or did not converge.", c.apply_failures),
            ("ipvs_director_reloads", "Configurations reloaded.", c.reloads),
            ("ipvs_director_reload_errors", "Reloads refused (a bad configuration).", c.reload_errors),
            ("ipvs_director_probes", "Check attempts made (one shared by identical checks counts once).", c.probes),
        ] {
            counter(&mut enc, name, help, &[(&none, v)])?;
        }
        self.encode_vrrp(&mut enc)
    }
}

impl Families {
    fn encode_vrrp(&self, enc: &mut DescriptorEncoder) -> fmt::Result {
        if self.vrrp.is_empty() {
            return Ok(());
        }
        let inst = |i: &InstanceStatus| vec![("instance", i.name.clone())];
        let mut rows = Vec::new();
        for i in &self.vrrp {
            for st in STATES {
                let mut l = inst(i);
                l.push(("state", state_name(st).to_ascii_lowercase()));
                rows.push((l, if i.state == st { 1.0 } else { 0.0 }));
            }
        }
        let r: Vec<_> = rows.iter().map(|(l, v)| (l, *v)).collect();
        gauge(enc, "ipvs_director_vrrp_state", "The VRRP instance's state (1 for the current one).", &r)?;
        let labels: Vec<Labels> = self.vrrp.iter().map(inst).collect();
        let r: Vec<_> = labels.iter().zip(&self.vrrp).map(|(l, i)| (l, f64::from(i.priority))).collect();
        gauge(enc, "ipvs_director_vrrp_priority", "The instance's effective priority (tracking applied).", &r)?;
        let masters: Vec<Labels> = self
            .vrrp
            .iter()
            .filter_map(|i| i.master.map(|m| vec![("instance", i.name.clone()), ("master", m.to_string())]))
            .collect();
        let r: Vec<_> = masters.iter().map(|l| (l, 1.0)).collect();
        gauge(
            enc,
            "ipvs_director_vrrp_master_info",
            "The current master's primary address (1 per instance that knows it).",
            &r,
        )?;
        type Pick = fn(&InstanceStatus) -> u64;
        let per_instance: [(&str, &str, Pick); 4] = [
            ("ipvs_director_vrrp_transitions", "State changes of the instance.", |i| i.stats.transitions),
            ("ipvs_director_vrrp_became_master", "Times the instance became master.", |i| i.stats.became_master),
            ("ipvs_director_vrrp_adverts_sent", "Adverts the instance sent (priority 0 included).", |i| {
                i.stats.adverts_sent
            }),
            ("ipvs_director_vrrp_adverts_received", "Valid adverts the instance received.", |i| {
                i.stats.adverts_received
            }),
        ];
        for (name, help, pick) in per_instance {
            let r: Vec<_> = labels.iter().zip(&self.vrrp).map(|(l, i)| (l, pick(i))).collect();
            counter(enc, name, help, &r)?;
        }
        let mut drops = Vec::new();
        for i in &self.vrrp {
            for (reason, n) in i.stats.drops.iter() {
                let mut l = inst(i);
                l.push(("reason", reason.label().to_owned()));
                drops.push((l, n));
            }
        }
        let r: Vec<_> = drops.iter().map(|(l, n)| (l, *n)).collect();
        counter(
            enc,
            "ipvs_director_vrrp_adverts_dropped",
            "Packets the instance dropped, by the check they failed.",
            &r,
        )
    }
}

fn families(shared: &Shared) -> Families {
    let rt = lock(&shared.runtime);
    let mut f = Families {
        servers: Vec::new(),
        checks: Vec::new(),
        failures: Vec::new(),
        quorum: Vec::new(),
        counters: *lock(&shared.counters),
        vrrp: lock(&shared.vrrp).clone(),
    };
    for vs in &rt.config.virtual_servers {
        let vl = vec![("virtual_server", vs.id.to_string())];
        f.quorum.push((vl.clone(), rt.quorum.get(&vs.id).copied().unwrap_or(false)));
        for rs in &vs.real_servers {
            let key = ServerKey::new(vs, rs);
            let Some(s) = rt.servers.get(&key) else { continue };
            let mut rl = vl.clone();
            rl.push(("real_server", key.real_server()));
            f.servers.push((rl.clone(), s.alive));
            for (i, k) in s.checks.iter().enumerate() {
                let Some(c) = rt.checks.get(k) else { continue };
                let mut cl = rl.clone();
                cl.push(("check", format!("{}#{i}", k.settings.kind.key())));
                let latency = c.last.as_ref().map_or(0.0, |l| l.latency.as_secs_f64());
                for (kind, n) in &c.failures {
                    let mut fl = cl.clone();
                    fl.push(("kind", (*kind).to_owned()));
                    f.failures.push((fl, *n));
                }
                f.checks.push((cl, c.health.is_up(), latency, c.attempts));
            }
        }
    }
    f
}

fn seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// The `/status` document.
pub fn status(shared: &Shared) -> Value {
    let rt = lock(&shared.runtime);
    let c = *lock(&shared.counters);
    let mut vss = Vec::new();
    for vs in &rt.config.virtual_servers {
        let mut servers = Vec::new();
        let states = rt.states_of(vs);
        for (r, rs) in vs.real_servers.iter().enumerate() {
            let key = ServerKey::new(vs, rs);
            let Some(s) = rt.servers.get(&key) else { continue };
            let checks: Vec<Value> = s
                .checks
                .iter()
                .filter_map(|k| Some((k, rt.checks.get(k)?)))
                .map(|(k, c)| {
                    json!({
                        "kind": k.settings.kind.key(),
                        "target": k.settings.target.map(|t| t.to_string()),
                        "up": c.health.is_up(),
                        "since": seconds(c.since),
                        "attempts": c.attempts,
                        "failures": c.failure_count(),
                        "failures_by_kind": c.failures,
                        "last": c.last.as_ref().map(|l| json!({
                            "at": seconds(l.at),
                            "ok": l.result.is_ok(),
                            "error": l.result.as_ref().err().map(|e| e.to_string()),
                            "error_kind": l.result.as_ref().err().map(|e| e.kind()),
                            "latency_seconds": l.latency.as_secs_f64(),
                        })),
                    })
                })
                .collect();
            servers.push(json!({
                "address": rs.address.to_string(),
                "port": rs.port,
                "weight": crate::policy::weight(vs, r, &rt.server_state(&key)),
                "alive": s.alive,
                "since": seconds(s.since),
                "checks": checks,
            }));
        }
        vss.push(json!({
            "virtual_server": vs.id.to_string(),
            "services": vs.service_ids(&rt.config.virtual_server_groups).iter().map(|i| i.to_string()).collect::<Vec<_>>(),
            "quorum": vs.quorum,
            "quorum_up": rt.quorum.get(&vs.id),
            "live_weight": crate::policy::live_weight(vs, &states),
            "sorry_server": vs.sorry_server.as_ref().map(|s| s.address.to_string()),
            "real_servers": servers,
        }));
    }
    let source = match &shared.source {
        super::Source::Native(p) => json!({"native": p.display().to_string()}),
        super::Source::Keepalived(p, _) => json!({"keepalived": p.display().to_string()}),
    };
    json!({
        "configuration": source,
        "virtual_servers": vss,
        "applies": c.applies,
        "writes": c.writes,
        "apply_failures": c.apply_failures,
        "reloads": c.reloads,
        "reload_errors": c.reload_errors,
        "probes": c.probes,
        "vrrp": lock(&shared.vrrp).iter().map(vrrp_status).collect::<Vec<_>>(),
    })
}

fn vrrp_status(i: &InstanceStatus) -> Value {
    let drops: serde_json::Map<String, Value> =
        i.stats.drops.iter().map(|(r, n)| (r.label().to_owned(), json!(n))).collect();
    json!({
        "name": i.name,
        "interface": i.interface,
        "virtual_router_id": i.vrid,
        "version": i.version,
        "state": state_name(i.state),
        "since": seconds(i.since),
        "priority": i.priority,
        "primary_address": i.primary.to_string(),
        "master": i.master.map(|m| m.to_string()),
        "faults": i.faults,
        "transitions": i.stats.transitions,
        "became_master": i.stats.became_master,
        "adverts_sent": i.stats.adverts_sent,
        "adverts_received": i.stats.adverts_received,
        "dropped": i.stats.drops.total(),
        "drops": drops,
    })
}

/// The director's families of one reading, handed to the encoder beside the exporter's.
#[derive(Debug)]
struct Held(Arc<(Snapshot, Families)>);

impl Collector for Held {
    fn encode(&self, enc: DescriptorEncoder) -> fmt::Result {
        self.0 .1.encode(enc)
    }
}

/// The pages. `/metrics` and `/status` are written bodies: each runs in one of the server's
/// page slots (at most [`ipvs_exporter::serve::MAX_PAGES`] at once, 503 beyond, a client
/// that takes nothing cut off), and the pages that start together share one reading (of the
/// kernel and the director's state for `/metrics`, of the document for `/status`).
pub fn pages(shared: Arc<Shared>, transport: Arc<dyn Transport>, netns: Option<PathBuf>, proc_totals: bool) -> Pages {
    let mut scraper = Scraper::new(Client::with_transport(transport), netns, Options::default());
    if !proc_totals {
        scraper = scraper.without_proc();
    }
    let scraper = Arc::new(scraper);
    let metrics = Arc::new(Reading::<(Snapshot, Families)>::default());
    let status_text = Arc::new(Reading::<String>::default());
    let status_page = Arc::new(page::StatusPage::default());
    Arc::new(move |path: &str| match path {
        "/metrics" => {
            let (scraper, shared, metrics) = (scraper.clone(), shared.clone(), metrics.clone());
            let write: Writer = Box::new(move |out: &mut dyn fmt::Write| {
                let r = metrics.get(|| (scraper.scrape(), families(&shared)));
                let extra: Box<dyn Collector> = Box::new(Held(r.clone()));
                write_with(out, &r.0, Options::default(), 0, vec![extra])
            });
            Some(Page { content_type: OPENMETRICS, body: Body::Written(write) })
        }
        "/status" | "/?format=json" => {
            let (shared, status_text) = (shared.clone(), status_text.clone());
            let write: Writer = Box::new(move |out: &mut dyn fmt::Write| {
                let text =
                    status_text.get(|| serde_json::to_string_pretty(&status(&shared)).unwrap_or_default() + "\n");
                out.write_str(&text)
            });
            Some(Page { content_type: "application/json", body: Body::Written(write) })
        }
        "/" => Some(status_page.page(&shared, &scraper)),
        _ => None,
    })
}
