//! `/`: the director's status page, for people in a browser. Made from two readings that
//! stay stable: the `/status` document ([`super::status`]) and the kernel's table (as
//! `/metrics` reads it): every virtual server with its services, scheduler, quorum and sorry
//! server; each real server with its state, weight in the kernel, connections, rates, recent
//! connection rates, each check's last result and since when it is in its state; the VRRP
//! instances. The building blocks (frame, badges, cells, history) are the exporter's
//! ([`ipvs_exporter::page`]), so both pages look and read alike.

use std::collections::HashMap;
use std::fmt::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use ipvs::state::Entry;
use ipvs::transport::Transport;
use ipvs_exporter::page::{badge, close, duration, kernel_cells, open, row_open, section_close, section_open, utc};
use ipvs_exporter::page::{now, Esc, Health, History, Kernel, HTML, KERNEL_COLUMNS, OPEN_UP_TO};
use ipvs_exporter::serve::{Body, Page, Reading, Writer};
use ipvs_exporter::{Scraper, Snapshot};
use serde_json::Value;

use crate::daemon::{lock, Shared};

#[cfg(test)]
mod tests;

/// The page's model: what [`render`] shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// When it was read (Unix seconds): the times on the page are counted back from it.
    pub at: f64,
    /// Where the configuration comes from (`native PATH`, `keepalived PATH`).
    pub configuration: String,
    /// The director's counters (applies, writes, ...), by name.
    pub counters: Vec<(String, u64)>,
    /// Why the kernel's table could not be read (states then come from the checks alone).
    pub table_error: Option<String>,
    /// The virtual servers.
    pub virtual_servers: Vec<VirtualServerView>,
    /// The VRRP instances.
    pub vrrp: Vec<InstanceView>,
}

/// A virtual server of the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VirtualServerView {
    /// keepalived's name of it (`[192.0.2.10]:tcp:80`).
    pub name: String,
    /// Its services in the kernel (`tcp 192.0.2.10:80`).
    pub services: Vec<String>,
    /// The scheduler, as the kernel has it (None: not in the table).
    pub scheduler: Option<String>,
    /// The quorum (live weight needed).
    pub quorum: u64,
    /// Whether the quorum is met (None: not decided yet).
    pub quorum_up: Option<bool>,
    /// The weight of its live servers.
    pub live_weight: u64,
    /// The sorry server, if it has one.
    pub sorry_server: Option<String>,
    /// Its real servers.
    pub real_servers: Vec<RealServerView>,
}

impl VirtualServerView {
    /// Whether the sorry server is in (the quorum is not met).
    pub fn sorry_in(&self) -> bool {
        self.sorry_server.is_some() && self.quorum_up != Some(true)
    }
}

/// A real server of the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RealServerView {
    /// Its address (and port).
    pub address: String,
    /// Its state (see [`health`]).
    pub health: Health,
    /// Whether every check passes.
    pub alive: bool,
    /// Since when it is alive or not (Unix seconds).
    pub since: f64,
    /// What the kernel reports of it, over the virtual server's services (None: not in the
    /// table, or the table was not read).
    pub kernel: Option<Kernel>,
    /// Its checks.
    pub checks: Vec<CheckView>,
}

/// A check of a real server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckView {
    /// Its kind (`tcp_check`, `http_get`, ...).
    pub kind: String,
    /// Where it connects.
    pub target: Option<String>,
    /// Its last attempt, if any.
    pub last: Option<LastView>,
}

/// The last attempt of a check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LastView {
    /// When (Unix seconds).
    pub at: f64,
    /// Whether it passed.
    pub ok: bool,
    /// The error's kind (`refused`, `timeout`, ...).
    pub error_kind: Option<String>,
    /// The error.
    pub error: Option<String>,
}

/// A VRRP instance of the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceView {
    /// Its name.
    pub name: String,
    /// Its interface.
    pub interface: String,
    /// Its virtual router id.
    pub vrid: u64,
    /// Its state (`MASTER`, `BACKUP`, `FAULT`, `INIT`).
    pub state: String,
    /// Since when (Unix seconds).
    pub since: f64,
    /// Its effective priority.
    pub priority: u64,
    /// The current master's address, if known.
    pub master: Option<String>,
}

/// A real server's state on the page, from its checks and the kernel's table: up (alive, a
/// weight), draining (weight 0 with connections, or alive at weight 0), inhibited (failed,
/// kept at weight 0 without connections), down (failed, or failed and not yet out), out
/// (alive but not in the table). Without the table, alive is up and failed is down.
pub fn health(alive: bool, kernel: Option<&Kernel>, table_read: bool) -> Health {
    match kernel {
        _ if !table_read => {
            if alive {
                Health::Up
            } else {
                Health::Down
            }
        }
        Some(k) if k.weight > 0 => {
            if alive {
                Health::Up
            } else {
                Health::Down
            }
        }
        Some(k) if alive || k.active + k.inactive > 0 => Health::Draining,
        Some(_) => Health::Inhibited,
        None if alive => Health::Out,
        None => Health::Down,
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn some_text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn number(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn float(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// What the kernel has of the real server at `address` (and `port`) in `entries`, added up.
fn kernel_of(entries: &[&Entry], address: Option<IpAddr>, port: Option<u16>) -> Option<Kernel> {
    let address = address?;
    let mut kernel: Option<Kernel> = None;
    for e in entries {
        let found = match port {
            Some(p) => e.destination(&SocketAddr::new(address, p)),
            None => e.destinations().find(|d| d.destination.addr == address),
        };
        if let Some(d) = found {
            kernel.get_or_insert_with(Kernel::default).add(d);
        }
    }
    kernel
}

impl Model {
    /// The model of a `/status` document and a reading of the kernel, made at `at` (Unix
    /// seconds). Missing or odd fields read as empty: the page shows what there is.
    pub fn read(status: &Value, snap: &Snapshot, at: f64) -> Model {
        let configuration = status
            .get("configuration")
            .and_then(Value::as_object)
            .and_then(|o| o.iter().next())
            .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or_default()))
            .unwrap_or_default();
        let counters = ["applies", "writes", "apply_failures", "reloads", "reload_errors", "probes"]
            .iter()
            .map(|k| (k.replace('_', " "), number(status, k)))
            .collect();
        let table_error = match &snap.table {
            Some(_) => None,
            None if snap.errors.is_empty() => Some("not read".to_owned()),
            None => Some(snap.errors.join("; ")),
        };
        let entries: HashMap<String, &Entry> =
            snap.table.iter().flat_map(|t| t.entries()).map(|e| (e.service().id.to_string(), e)).collect();
        let virtual_servers = list(status, "virtual_servers")
            .iter()
            .map(|vs| virtual_server(vs, &entries, snap.table.is_some()))
            .collect();
        let vrrp = list(status, "vrrp")
            .iter()
            .map(|i| InstanceView {
                name: text(i, "name"),
                interface: text(i, "interface"),
                vrid: number(i, "virtual_router_id"),
                state: text(i, "state"),
                since: float(i, "since"),
                priority: number(i, "priority"),
                master: some_text(i, "master"),
            })
            .collect();
        Model { at, configuration, counters, table_error, virtual_servers, vrrp }
    }

    /// Records each real server's connection rate in `history` (a sample at most every
    /// [`ipvs_exporter::page::EVERY_SECONDS`]) and gives each its recent rates.
    pub fn record(&mut self, history: &mut History) {
        let key = |vs: &VirtualServerView, rs: &RealServerView| format!("{}|{}", vs.name, rs.address);
        let rows = self.virtual_servers.iter().flat_map(|vs| {
            vs.real_servers.iter().filter_map(move |rs| rs.kernel.as_ref().map(|k| (key(vs, rs), k.cps)))
        });
        history.record(self.at, rows);
        for vs in &mut self.virtual_servers {
            let name = vs.name.clone();
            for rs in &mut vs.real_servers {
                let recent = history.recent(&format!("{name}|{}", rs.address));
                if let Some(k) = &mut rs.kernel {
                    k.recent = recent;
                }
            }
        }
    }
}

fn virtual_server(vs: &Value, entries: &HashMap<String, &Entry>, table_read: bool) -> VirtualServerView {
    let services: Vec<String> = list(vs, "services").iter().filter_map(|s| s.as_str().map(str::to_owned)).collect();
    let mine: Vec<&Entry> = services.iter().filter_map(|s| entries.get(s).copied()).collect();
    let real_servers = list(vs, "real_servers")
        .iter()
        .map(|rs| {
            let address = text(rs, "address");
            let ip: Option<IpAddr> = address.parse().ok();
            let port = rs.get("port").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok());
            let shown = match (ip, port) {
                (Some(ip), Some(p)) => SocketAddr::new(ip, p).to_string(),
                _ => address.clone(),
            };
            let alive = rs.get("alive").and_then(Value::as_bool).unwrap_or(false);
            let kernel = kernel_of(&mine, ip, port);
            let checks = list(rs, "checks")
                .iter()
                .map(|c| CheckView {
                    kind: text(c, "kind"),
                    target: some_text(c, "target"),
                    last: c.get("last").filter(|l| l.is_object()).map(|l| LastView {
                        at: float(l, "at"),
                        ok: l.get("ok").and_then(Value::as_bool).unwrap_or(false),
                        error_kind: some_text(l, "error_kind"),
                        error: some_text(l, "error"),
                    }),
                })
                .collect();
            RealServerView {
                health: health(alive, kernel.as_ref(), table_read),
                address: shown,
                alive,
                since: float(rs, "since"),
                kernel,
                checks,
            }
        })
        .collect();
    VirtualServerView {
        name: text(vs, "virtual_server"),
        scheduler: mine.first().map(|e| e.service().scheduler.name().to_owned()),
        services,
        quorum: number(vs, "quorum"),
        quorum_up: vs.get("quorum_up").and_then(Value::as_bool),
        live_weight: number(vs, "live_weight"),
        sorry_server: some_text(vs, "sorry_server"),
        real_servers,
    }
}

/// The page of `model`.
pub fn render(model: &Model) -> String {
    let rows: usize = model.virtual_servers.iter().map(|v| v.real_servers.len()).sum();
    let mut out = String::with_capacity(8192 + rows * 600);
    // Writing to a String cannot fail.
    let _ = write_page(&mut out, model, rows);
    out
}

fn write_page(out: &mut String, m: &Model, rows: usize) -> fmt::Result {
    let links = [("/?format=json", "JSON (?format=json)"), ("/status", "/status"), ("/metrics", "Metrics")];
    open(out, "ipvs-director", &links)?;
    write!(out, "<p class=\"facts\">Read {}. Configuration: {}.", utc(m.at), Esc(&m.configuration))?;
    for (name, n) in &m.counters {
        write!(out, " {}: {n}.", Esc(name))?;
    }
    out.write_str("</p>\n")?;
    if let Some(e) = &m.table_error {
        writeln!(
            out,
            "<p class=\"fail\">The kernel's table could not be read ({}): states come from the checks alone.</p>",
            Esc(e)
        )?;
    }
    writeln!(out, "<h2>Virtual servers ({}, {rows} real servers)</h2>", m.virtual_servers.len())?;
    if m.virtual_servers.is_empty() {
        out.write_str("<p>No virtual server configured.</p>\n")?;
    }
    let mut columns = vec!["real server", "state"];
    columns.extend(KERNEL_COLUMNS);
    columns.extend(["last check", "in this state for"]);
    for vs in &m.virtual_servers {
        let all_up = vs.real_servers.iter().all(|r| r.health == Health::Up);
        let open = rows <= OPEN_UP_TO || !all_up || vs.quorum_up != Some(true);
        section_open(out, &vs.name, open, &summary(vs)?, &columns)?;
        for rs in &vs.real_servers {
            real_server(out, rs, m.at)?;
        }
        section_close(out)?;
    }
    vrrp(out, m)?;
    close(out)
}

/// A virtual server's summary line: name, services, scheduler, quorum, sorry server, counts.
fn summary(vs: &VirtualServerView) -> Result<String, fmt::Error> {
    let mut s = format!("<b>{}</b> ", Esc(&vs.name));
    for (i, service) in vs.services.iter().enumerate() {
        write!(s, "{}{}", if i > 0 { ", " } else { "" }, Esc(service))?;
    }
    write!(s, " &middot; {} &middot; ", Esc(vs.scheduler.as_deref().unwrap_or("not in the table")))?;
    let (h, word) = match vs.quorum_up {
        Some(true) => (Health::Up, "quorum met"),
        Some(false) => (Health::Down, "quorum lost"),
        None => (Health::Out, "quorum not decided"),
    };
    badge(&mut s, h, &format!("{word}: live weight {} of {}", vs.live_weight, vs.quorum))?;
    s.push(' ');
    if let Some(sorry) = &vs.sorry_server {
        if vs.sorry_in() {
            badge(&mut s, Health::Draining, &format!("sorry server {sorry} in"))?;
            s.push(' ');
        } else {
            write!(s, "sorry server {} out &middot; ", Esc(sorry))?;
        }
    }
    for h in Health::ALL {
        let n = vs.real_servers.iter().filter(|r| r.health == h).count();
        if n > 0 {
            badge(&mut s, h, &format!("{n} {}", h.name()))?;
            s.push(' ');
        }
    }
    Ok(s)
}

fn real_server(out: &mut String, rs: &RealServerView, at: f64) -> fmt::Result {
    row_open(out, &rs.address, rs.health)?;
    kernel_cells(out, rs.kernel.as_ref())?;
    out.write_str("<td>")?;
    for (i, c) in rs.checks.iter().enumerate() {
        if i > 0 {
            out.write_str("<br>")?;
        }
        write!(out, "{} {}: ", Esc(&c.kind), Esc(c.target.as_deref().unwrap_or("")))?;
        match &c.last {
            None => out.write_str("not run yet")?,
            Some(l) if l.ok => write!(out, "ok, {} ago", duration(at - l.at))?,
            Some(l) => write!(
                out,
                "<span class=\"fail\" title=\"{}\">failed: {}</span>, {} ago",
                Esc(l.error.as_deref().unwrap_or("")),
                Esc(l.error_kind.as_deref().unwrap_or("unknown")),
                duration(at - l.at)
            )?,
        }
    }
    if rs.checks.is_empty() {
        out.write_str("no check")?;
    }
    let word = if rs.alive { "alive" } else { "failed" };
    writeln!(out, "</td><td title=\"{word} since {}\">{}</td></tr>", utc(rs.since), duration(at - rs.since))
}

fn vrrp(out: &mut String, m: &Model) -> fmt::Result {
    writeln!(out, "<h2>VRRP instances ({})</h2>", m.vrrp.len())?;
    if m.vrrp.is_empty() {
        return out.write_str("<p>No VRRP instance configured.</p>\n");
    }
    out.write_str(
        "<table><thead><tr><th>instance</th><th>interface</th><th class=\"n\">VRID</th><th>state</th>\
         <th class=\"n\">priority</th><th>master</th><th>in this state for</th></tr></thead><tbody>\n",
    )?;
    for i in &m.vrrp {
        let h = match i.state.as_str() {
            "MASTER" => Health::Up,
            "FAULT" => Health::Down,
            _ => Health::Out,
        };
        write!(
            out,
            "<tr data-instance=\"{n}\" data-state=\"{s}\"><td>{n}</td><td>{}</td><td class=\"n\">{}</td><td>",
            Esc(&i.interface),
            i.vrid,
            n = Esc(&i.name),
            s = Esc(&i.state),
        )?;
        badge(out, h, &i.state)?;
        writeln!(
            out,
            "</td><td class=\"n\">{}</td><td>{}</td><td title=\"since {}\">{}</td></tr>",
            i.priority,
            Esc(i.master.as_deref().unwrap_or("unknown")),
            utc(i.since),
            duration(m.at - i.since)
        )?;
    }
    out.write_str("</tbody></table>\n")
}

/// The page as the server serves it: one reading (of `/status` and the kernel) shared by the
/// pages that start together, the recent rates kept between pages.
#[derive(Debug, Default)]
pub(super) struct StatusPage {
    history: Mutex<History>,
    html: Reading<String>,
}

impl StatusPage {
    /// The page, a written body: the reading and rendering run in the page's slot.
    pub(super) fn page(self: &Arc<Self>, shared: &Arc<Shared>, scraper: &Arc<Scraper<Arc<dyn Transport>>>) -> Page {
        let (this, shared, scraper) = (self.clone(), shared.clone(), scraper.clone());
        let write: Writer = Box::new(move |out: &mut dyn fmt::Write| {
            let html = this.html.get(|| {
                let status = super::status(&shared);
                let mut model = Model::read(&status, &scraper.scrape(), now());
                model.record(&mut lock(&this.history));
                render(&model)
            });
            out.write_str(&html)
        });
        Page { content_type: HTML, body: Body::Written(write) }
    }
}
