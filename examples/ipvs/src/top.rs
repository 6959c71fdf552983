//! `ipvs top`: a live view of services and their destinations, with connections and the
//! kernel's rates, refreshed every interval; sortable and filterable; `--once` prints one
//! frame for scripts.
//!
//! Keys: `q`/Esc quit; `c` sort by connections per second, `p` by packets per second, `b` by
//! bytes per second, `a` by active connections, `n` by name; `r` reverses; `/` starts a filter
//! (typed text, Enter keeps it, Esc clears it); up/down/PgUp/PgDn scroll.

use std::time::{Duration, Instant};

use ipvs::state::{Entry, Table};
use ipvs::transport::MockTransport;
use ipvs::{DestinationStatus, Stats};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table as TableWidget};
use ratatui::{Frame, Terminal};

use crate::show::human;

/// What the rows are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortKey {
    /// Connections per second.
    Cps,
    /// Packets per second, in and out.
    Pps,
    /// Bytes per second, in and out.
    Bps,
    /// Active connections.
    Active,
    /// Service and destination names.
    Name,
}

impl SortKey {
    fn label(self) -> &'static str {
        match self {
            SortKey::Cps => "conns/s",
            SortKey::Pps => "packets/s",
            SortKey::Bps => "bytes/s",
            SortKey::Active => "active",
            SortKey::Name => "name",
        }
    }

    fn value(self, s: &Stats, active: u64) -> u64 {
        match self {
            SortKey::Cps => s.cps,
            SortKey::Pps => s.in_pps.saturating_add(s.out_pps),
            SortKey::Bps => s.in_bps.saturating_add(s.out_bps),
            SortKey::Active => active,
            SortKey::Name => 0,
        }
    }
}

/// The view's state.
pub struct View {
    /// The table last read.
    pub table: Table,
    /// The sort key.
    pub sort: SortKey,
    /// Descending (largest first) unless reversed.
    pub reversed: bool,
    /// Rows shown only if their text contains this.
    pub filter: String,
    /// Typing a filter.
    pub editing: Option<String>,
    /// First row shown.
    pub scroll: usize,
    /// When the table was read, and how long reading took.
    pub read_in: Duration,
    /// The refresh interval.
    pub interval: Duration,
    /// Why the last read failed, if it did.
    pub error: Option<String>,
    /// Set when the view should end.
    pub quit: bool,
    /// Refreshing (else one frame: no timings shown).
    pub live: bool,
}

fn service_label(e: &Entry) -> String {
    let s = e.service();
    format!("{} {}", crate::show::service_label(&s.id), s.scheduler)
}

fn dest_label(d: &DestinationStatus) -> String {
    format!("  -> {} {}", d.destination.socket_addr(), d.destination.forward)
}

fn row(label: String, weight: String, active: u64, inactive: u64, s: &Stats) -> Vec<String> {
    vec![
        label,
        weight,
        active.to_string(),
        inactive.to_string(),
        human(s.cps),
        human(s.in_pps),
        human(s.out_pps),
        human(s.in_bps),
        human(s.out_bps),
        human(s.conns),
    ]
}

impl View {
    /// A view of `table`.
    pub fn new(table: Table, sort: SortKey, filter: String, interval: Duration) -> View {
        View {
            table,
            sort,
            reversed: false,
            filter,
            editing: None,
            scroll: 0,
            read_in: Duration::ZERO,
            interval,
            error: None,
            quit: false,
            live: false,
        }
    }

    fn order(&self, a: (&str, u64), b: (&str, u64)) -> std::cmp::Ordering {
        let o = if self.sort == SortKey::Name { a.0.cmp(b.0) } else { b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)) };
        if self.reversed {
            o.reverse()
        } else {
            o
        }
    }

    /// The rows as shown: services sorted, each followed by its destinations sorted; a
    /// service shows when it or one of its destinations matches the filter.
    pub fn rows(&self) -> Vec<Vec<String>> {
        let mut services: Vec<(&Entry, String, u64, u64, u64)> = self
            .table
            .entries()
            .map(|e| {
                let active: u64 = e.destinations().map(|d| u64::from(d.active_conns)).sum();
                let inactive: u64 = e.destinations().map(|d| u64::from(d.inactive_conns)).sum();
                (e, service_label(e), active, inactive, self.sort.value(e.stats(), active))
            })
            .collect();
        services.sort_by(|a, b| self.order((&a.1, a.4), (&b.1, b.4)));
        let mut out = Vec::new();
        for (e, label, active, inactive, _) in services {
            let mut dests: Vec<(&DestinationStatus, String, u64)> = e
                .destinations()
                .map(|d| (d, dest_label(d), self.sort.value(&d.stats, u64::from(d.active_conns))))
                .collect();
            dests.sort_by(|a, b| self.order((&a.1, a.2), (&b.1, b.2)));
            let service_matches = label.contains(&self.filter);
            let shown: Vec<_> =
                dests.into_iter().filter(|(_, l, _)| service_matches || l.contains(&self.filter)).collect();
            if !service_matches && shown.is_empty() {
                continue;
            }
            out.push(row(label, String::new(), active, inactive, e.stats()));
            for (d, l, _) in shown {
                let (a, i) = (u64::from(d.active_conns), u64::from(d.inactive_conns));
                out.push(row(l, d.destination.weight.to_string(), a, i, &d.stats));
            }
        }
        out
    }

    /// Draws the view.
    pub fn draw(&mut self, f: &mut Frame) {
        let [head, body, foot] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(f.area());
        let rows = self.rows();
        let mut title = format!(
            "ipvs top: {} services, {} destinations; sorted by {}{}{}",
            self.table.len(),
            self.table.destination_count(),
            self.sort.label(),
            if self.reversed { " (reversed)" } else { "" },
            if self.filter.is_empty() { String::new() } else { format!("; filter \"{}\"", self.filter) },
        );
        if self.live {
            title += &format!("; read in {} ms, every {} s", self.read_in.as_millis(), self.interval.as_secs_f64());
        }
        f.render_widget(Paragraph::new(Line::from(title)), head);
        let height = usize::from(body.height.saturating_sub(2));
        self.scroll = self.scroll.min(rows.len().saturating_sub(height.max(1)));
        let widths = [
            Constraint::Min(34),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(7),
        ];
        let header = Row::new([
            "SERVICE / DESTINATION",
            "WEIGHT",
            "ACTIVE",
            "INACT",
            "CONN/S",
            "PKT/S IN",
            "PKT/S OUT",
            "B/S IN",
            "B/S OUT",
            "CONNS",
        ])
        .style(Style::new().add_modifier(Modifier::BOLD));
        let shown = rows.into_iter().skip(self.scroll).map(Row::new);
        let table = TableWidget::new(shown, widths).header(header).block(Block::bordered());
        f.render_widget(table, body);
        let footer = match (&self.editing, &self.error) {
            (Some(text), _) => format!("filter: {text}_   (Enter keeps it, Esc clears it)"),
            (None, Some(e)) => format!("error: {e}"),
            (None, None) => {
                "q quit  c/p/b/a/n sort by conns/s, packets/s, bytes/s, active, name  r reverse  / filter".into()
            }
        };
        f.render_widget(Paragraph::new(Line::from(footer)), foot);
    }

    /// Handles a key.
    pub fn key(&mut self, code: KeyCode) {
        if let Some(text) = &mut self.editing {
            match code {
                KeyCode::Enter => {
                    self.filter = std::mem::take(text);
                    self.editing = None;
                }
                KeyCode::Esc => {
                    self.filter.clear();
                    self.editing = None;
                }
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                _ => {}
            }
            return;
        }
        match code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Char('c') => self.sort = SortKey::Cps,
            KeyCode::Char('p') => self.sort = SortKey::Pps,
            KeyCode::Char('b') => self.sort = SortKey::Bps,
            KeyCode::Char('a') => self.sort = SortKey::Active,
            KeyCode::Char('n') => self.sort = SortKey::Name,
            KeyCode::Char('r') => self.reversed = !self.reversed,
            KeyCode::Char('/') => self.editing = Some(self.filter.clone()),
            KeyCode::Down => self.scroll += 1,
            KeyCode::Up => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::PageDown => self.scroll += 20,
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(20),
            _ => {}
        }
    }
}

/// One frame as text, `width` columns wide (trailing spaces trimmed): `--once`.
pub fn frame_text(view: &mut View, width: u16) -> Result<String, String> {
    // Title, borders, header and footer around the rows.
    let height = u16::try_from(view.rows().len() + 5).unwrap_or(u16::MAX);
    let mut t = Terminal::new(ratatui::backend::TestBackend::new(width, height)).map_err(|e| e.to_string())?;
    t.draw(|f| view.draw(f)).map_err(|e| e.to_string())?;
    let b = t.backend().buffer();
    let mut out = String::new();
    for y in 0..b.area.height {
        let line: String = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// Runs the live view until `q`: `read` gives the table each interval (and `tick` is called
/// before each read: the mock's traffic).
pub fn run(
    mut view: View,
    mut read: impl FnMut() -> Result<Table, String>,
    mut tick: impl FnMut(),
) -> Result<(), String> {
    view.live = true;
    let mut terminal = ratatui::try_init().map_err(|e| format!("terminal: {e}"))?;
    let result = (|| -> Result<(), String> {
        // When the last read began (None: read now). Time is compared as elapsed against the
        // interval, never added to the clock, so no interval can overflow it.
        let mut last: Option<Instant> = None;
        while !view.quit {
            if last.is_none_or(|l| l.elapsed() >= view.interval) {
                tick();
                let start = Instant::now();
                match read() {
                    Ok(t) => {
                        view.table = t;
                        view.error = None;
                    }
                    Err(e) => view.error = Some(e),
                }
                view.read_in = start.elapsed();
                last = Some(Instant::now());
            }
            terminal.draw(|f| view.draw(f)).map_err(|e| e.to_string())?;
            let wait = last.map_or(Duration::ZERO, |l| view.interval.saturating_sub(l.elapsed()));
            if event::poll(wait).map_err(|e| e.to_string())? {
                if let Event::Key(k) = event::read().map_err(|e| e.to_string())? {
                    if k.kind == KeyEventKind::Press {
                        view.key(k.code);
                    }
                }
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result
}

/// Traffic for the in-memory kernel: deterministic counters and rates that change every
/// tick, so that orders change (for demos and the terminal test).
pub fn mock_traffic(mock: &MockTransport, table: &Table, tick: u64) {
    for (k, e) in table.entries().enumerate() {
        let id = e.service().id;
        let mut total = Stats::default();
        for (j, d) in e.destinations().enumerate() {
            let phase = (k as u64 * 7 + j as u64 * 3 + tick) % 10;
            let cps = phase * 10 + j as u64;
            let s = Stats {
                conns: (tick + 1) * cps,
                in_packets: (tick + 1) * cps * 6,
                out_packets: (tick + 1) * cps * 5,
                in_bytes: (tick + 1) * cps * 700,
                out_bytes: (tick + 1) * cps * 9000,
                cps,
                in_pps: cps * 6,
                out_pps: cps * 5,
                in_bps: cps * 700 * (10 - phase),
                out_bps: cps * 9000,
            };
            total.conns += s.conns;
            total.in_packets += s.in_packets;
            total.out_packets += s.out_packets;
            total.in_bytes += s.in_bytes;
            total.out_bytes += s.out_bytes;
            total.cps += s.cps;
            total.in_pps += s.in_pps;
            total.out_pps += s.out_pps;
            total.in_bps += s.in_bps;
            total.out_bps += s.out_bps;
            let addr = d.destination.socket_addr();
            mock.set_stats(&id, Some(addr), s);
            mock.set_connections(&id, addr, u32::try_from(cps / 3).unwrap_or(0), u32::try_from(phase).unwrap_or(0), 0);
        }
        mock.set_stats(&id, None, total);
    }
}
