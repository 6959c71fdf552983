//! `ipvs show`: the table, readable, with statistics and rates.

use std::fmt::Write;

use ipvs::state::Table;
use ipvs::{Family, ServiceId, Stats};

/// A count as people read it: 950, 12.3K, 4.56M, 7.89G.
pub fn human(n: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(1_000_000_000_000, "T"), (1_000_000_000, "G"), (1_000_000, "M"), (1_000, "K")];
    for (div, unit) in UNITS {
        if n >= div {
            let v = n as f64 / div as f64;
            return if v >= 100.0 {
                format!("{v:.0}{unit}")
            } else if v >= 10.0 {
                format!("{v:.1}{unit}")
            } else {
                format!("{v:.2}{unit}")
            };
        }
    }
    n.to_string()
}

pub(crate) fn service_label(id: &ServiceId) -> String {
    match id {
        ServiceId::Fwmark { mark, family: Family::Inet6 } => format!("FWM {mark} IPv6"),
        ServiceId::Fwmark { mark, .. } => format!("FWM {mark}"),
        other => other.to_string(),
    }
}

fn numbers(out: &mut String, s: &Stats) {
    let _ = write!(
        out,
        " {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        human(s.conns),
        human(s.cps),
        human(s.in_pps),
        human(s.out_pps),
        human(s.in_bps),
        human(s.out_bps)
    );
}

/// The table as text: a line per service (settings and totals), a line per destination
/// (forwarding, weight, connections, totals), rates per second.
pub fn render(t: &Table) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<44} {:>6} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "SERVICE / DESTINATION", "WEIGHT", "ACTIVE", "INACT", "CONNS", "CPS", "PPS IN", "PPS OUT", "BPS IN", "BPS OUT"
    );
    for e in t.entries() {
        let s = e.service();
        let mut head = format!("{} {}", service_label(&s.id), s.scheduler);
        if let Some(p) = s.persistence_timeout() {
            let _ = write!(head, " persistent {p}");
        }
        let _ = write!(out, "{head:<44} {:>6} {:>7} {:>7}", "", "", "");
        numbers(&mut out, e.stats());
        out.push('\n');
        for d in e.destinations() {
            let label = format!("  -> {} {}", d.destination.socket_addr(), d.destination.forward);
            let _ =
                write!(out, "{label:<44} {:>6} {:>7} {:>7}", d.destination.weight, d.active_conns, d.inactive_conns);
            numbers(&mut out, &d.stats);
            out.push('\n');
        }
    }
    if let Some(to) = t.timeouts() {
        let _ = writeln!(out, "timeouts: tcp {} s, tcp fin {} s, udp {} s", to.tcp, to.tcp_fin, to.udp);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_people_read_them() {
        assert_eq!(human(950), "950");
        assert_eq!(human(12_345), "12.3K");
        assert_eq!(human(4_560_000), "4.56M");
        assert_eq!(human(789_000_000_000), "789G");
    }
}
