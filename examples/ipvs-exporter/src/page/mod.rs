//! Status pages in a browser: the HTML building blocks the exporter's page and the director's
//! share, and the exporter's page of the table ([`table`]).
//!
//! A page is one self-contained document (its style and a little plain JavaScript inline, no
//! external asset): with JavaScript on it refreshes its main part every [`REFRESH_SECONDS`]
//! seconds (keeping the filter and which sections are open) and filters rows as you type;
//! with JavaScript off a `<meta http-equiv="refresh">` (in `<noscript>`) reloads it whole.
//! Each state has a colour and its word and symbol beside it (see [`Health`]), so a page
//! reads on a monochrome screen too. Every value written is escaped ([`Esc`]).
//!
//! Pages are pure functions of a model (`render(&Model) -> String`); the recent rates of the
//! sparklines come from a bounded [`History`] kept by the server between readings.

mod history;
mod html;
pub mod table;

pub use history::{sparkline, History, EVERY_SECONDS, MAX_KEYS, SAMPLES};
pub use html::{
    badge, close, duration, kernel_cells, open, row_open, rows, section_close, section_open, si, utc, Esc,
    KERNEL_COLUMNS,
};

use ipvs::DestinationStatus;

/// The content type of a page.
pub const HTML: &str = "text/html; charset=utf-8";

/// How often a page refreshes itself (seconds).
pub const REFRESH_SECONDS: u32 = 5;

/// Sections are shown open when a page has at most this many rows; past that only the
/// sections with a row not up (or a problem of their own) are, the others collapsed.
pub const OPEN_UP_TO: usize = 200;

/// A real server's state as a page shows it: the same colour, word and symbol on every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Health {
    /// Takes new connections.
    Up,
    /// Failed, and out of the table (or not yet out).
    Down,
    /// Weight 0: takes no new connection, its connections finish.
    Draining,
    /// Failed, and kept in the table at weight 0 (`inhibit_on_failure`).
    Inhibited,
    /// Healthy but not in the table (quorum lost, or not applied yet); also a neutral state.
    #[default]
    Out,
}

impl Health {
    /// Every state, in the legend's order.
    pub const ALL: [Health; 5] = [Health::Up, Health::Down, Health::Draining, Health::Inhibited, Health::Out];

    /// The state's word (also its `data-state` and its CSS class `st-WORD`).
    ///
    /// ```
    /// use ipvs_exporter::page::Health;
    /// let words: Vec<_> = Health::ALL.iter().map(|h| h.name()).collect();
    /// assert_eq!(words, ["up", "down", "draining", "inhibited", "out"]);
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Down => "down",
            Health::Draining => "draining",
            Health::Inhibited => "inhibited",
            Health::Out => "out",
        }
    }

    /// The symbol written before the word.
    pub fn symbol(self) -> &'static str {
        match self {
            Health::Up => "\u{2714}",
            Health::Down => "\u{2716}",
            Health::Draining => "\u{25d0}",
            Health::Inhibited => "\u{2298}",
            Health::Out => "\u{25cb}",
        }
    }

    /// What the state means (the legend's text).
    pub fn meaning(self) -> &'static str {
        match self {
            Health::Up => "takes new connections",
            Health::Down => "failed, out of the table",
            Health::Draining => "weight 0, its connections finish",
            Health::Inhibited => "failed, kept in the table at weight 0",
            Health::Out => "healthy, not in the table",
        }
    }

    /// The state of a destination known only from the kernel (the exporter's page): up with a
    /// weight, draining at weight 0.
    pub fn of_weight(weight: u32) -> Health {
        if weight > 0 {
            Health::Up
        } else {
            Health::Draining
        }
    }
}

/// What the kernel reports of a destination (or of a real server over several services,
/// added up), and its recent connection rates (oldest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kernel {
    /// The weight in the kernel (the largest, over several services).
    pub weight: u32,
    /// Active connections.
    pub active: u64,
    /// Inactive connections.
    pub inactive: u64,
    /// Connections per second, the kernel's estimate.
    pub cps: u64,
    /// Incoming bytes per second.
    pub in_bps: u64,
    /// Outgoing bytes per second.
    pub out_bps: u64,
    /// Recent connections per second, oldest first (see [`History`]).
    pub recent: Vec<u64>,
}

impl Kernel {
    /// The figures of one destination.
    pub fn of(d: &DestinationStatus) -> Kernel {
        let mut k = Kernel::default();
        k.add(d);
        k
    }

    /// Adds another service's destination of the same real server.
    pub fn add(&mut self, d: &DestinationStatus) {
        self.weight = self.weight.max(d.destination.weight);
        self.active += u64::from(d.active_conns);
        self.inactive += u64::from(d.inactive_conns);
        self.cps += d.stats.cps;
        self.in_bps += d.stats.in_bps;
        self.out_bps += d.stats.out_bps;
    }
}

/// The time now, in seconds since the Unix epoch (0 if the clock is before it).
pub fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
