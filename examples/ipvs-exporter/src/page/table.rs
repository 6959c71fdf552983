//! The exporter's page, `/`: every service of the table (scheduler, rates, connections) with
//! its destinations (state by weight, weight, connections, rates, recent connection rates).

use std::fmt::{self, Write};
use std::sync::{Arc, Mutex};

use super::{badge, close, kernel_cells, open, row_open, section_close, section_open, si, utc, Esc};
use super::{Health, History, Kernel, KERNEL_COLUMNS, OPEN_UP_TO};
use crate::Snapshot;

/// The page's model: what [`render`] shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// When the table was read (Unix seconds).
    pub at: f64,
    /// Why the table could not be read (the page then shows no service).
    pub error: Option<String>,
    /// The services, in the table's order.
    pub services: Vec<ServiceView>,
}

/// A service of the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceView {
    /// The service (`tcp 192.0.2.1:80`, `FWM 1 inet`).
    pub name: String,
    /// Its scheduler.
    pub scheduler: String,
    /// Its connections per second, incoming and outgoing bytes per second.
    pub rates: [u64; 3],
    /// Its destinations.
    pub destinations: Vec<DestinationView>,
}

/// A destination of the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DestinationView {
    /// Its address and port.
    pub address: String,
    /// How packets reach it (`masq`, `route`, `tunnel`, ...).
    pub forward: String,
    /// What the kernel reports of it.
    pub kernel: Kernel,
}

impl DestinationView {
    /// Its state on the page: by its weight.
    pub fn health(&self) -> Health {
        Health::of_weight(self.kernel.weight)
    }
}

impl Model {
    /// The model of a reading made at `at` (Unix seconds).
    pub fn of(snap: &Snapshot, at: f64) -> Model {
        let mut m = Model { at, error: None, services: Vec::new() };
        let Some(table) = &snap.table else {
            m.error =
                Some(if snap.errors.is_empty() { "the table was not read".to_owned() } else { snap.errors.join("; ") });
            return m;
        };
        for e in table.entries() {
            let s = e.service();
            let st = e.stats();
            m.services.push(ServiceView {
                name: s.id.to_string(),
                scheduler: s.scheduler.name().to_owned(),
                rates: [st.cps, st.in_bps, st.out_bps],
                destinations: e
                    .destinations()
                    .map(|d| DestinationView {
                        address: d.destination.socket_addr().to_string(),
                        forward: d.destination.forward.name(),
                        kernel: Kernel::of(d),
                    })
                    .collect(),
            });
        }
        m
    }

    /// Records each destination's connection rate in `history` (a sample at most every
    /// [`super::EVERY_SECONDS`]) and gives each its recent rates.
    pub fn record(&mut self, history: &mut History) {
        let key = |s: &ServiceView, d: &DestinationView| format!("{}|{}", s.name, d.address);
        let rows = self.services.iter().flat_map(|s| s.destinations.iter().map(move |d| (key(s, d), d.kernel.cps)));
        history.record(self.at, rows);
        for s in &mut self.services {
            for i in 0..s.destinations.len() {
                let recent = history.recent(&key(s, &s.destinations[i]));
                s.destinations[i].kernel.recent = recent;
            }
        }
    }
}

/// The page of `model`.
///
/// ```
/// use ipvs_exporter::page::table::{render, Model};
/// let html = render(&Model::default());
/// assert!(html.starts_with("<!doctype html>") && html.contains("No service in the table."));
/// ```
pub fn render(model: &Model) -> String {
    let rows: usize = model.services.iter().map(|s| s.destinations.len()).sum();
    let mut out = String::with_capacity(8192 + rows * 400);
    // Writing to a String cannot fail.
    let _ = write_page(&mut out, model, rows);
    out
}

fn write_page(out: &mut String, m: &Model, rows: usize) -> fmt::Result {
    open(out, "ipvs-exporter", &[("/metrics", "Metrics (OpenMetrics)")])?;
    writeln!(out, "<p class=\"facts\">Read {}: {} services, {rows} destinations.</p>", utc(m.at), m.services.len())?;
    if let Some(e) = &m.error {
        writeln!(out, "<p class=\"fail\">The table could not be read: {}</p>", Esc(e))?;
    } else if m.services.is_empty() {
        out.write_str("<p>No service in the table.</p>\n")?;
    }
    let mut columns = vec!["destination", "state", "forward"];
    columns.extend(KERNEL_COLUMNS);
    for s in &m.services {
        let counts = Health::ALL.map(|h| s.destinations.iter().filter(|d| d.health() == h).count());
        let mut summary = format!("<b>{}</b> {} &middot; ", Esc(&s.name), Esc(&s.scheduler));
        for (h, n) in Health::ALL.iter().zip(counts).filter(|(_, n)| *n > 0) {
            badge(&mut summary, *h, &format!("{n} {}", h.name()))?;
            summary.push(' ');
        }
        let ([cps, inb, outb], n) = (s.rates, s.destinations.len());
        let plural = if n == 1 { "" } else { "s" };
        write!(summary, "{n} destination{plural}, {} conn/s, in {} B/s, out {} B/s", si(cps), si(inb), si(outb))?;
        let open = rows <= OPEN_UP_TO || counts[0] < s.destinations.len();
        section_open(out, &s.name, open, &summary, &columns)?;
        for d in &s.destinations {
            row_open(out, &d.address, d.health())?;
            write!(out, "<td>{}</td>", Esc(&d.forward))?;
            kernel_cells(out, Some(&d.kernel))?;
            out.write_str("</tr>\n")?;
        }
        section_close(out)?;
    }
    close(out)
}

/// The writer of the page, for [`crate::serve::Body::Written`]: `read` makes (or shares) the
/// reading in the page's slot; `history` keeps the recent rates between pages.
pub fn writer(
    read: impl FnOnce() -> Arc<Snapshot> + Send + 'static,
    history: Arc<Mutex<History>>,
) -> crate::serve::Writer {
    Box::new(move |out: &mut dyn fmt::Write| {
        let snap = read();
        let mut model = Model::of(&snap, super::now());
        model.record(&mut history.lock().unwrap_or_else(|p| p.into_inner()));
        out.write_str(&render(&model))
    })
}
