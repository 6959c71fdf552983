//! The kernel's own totals of a network namespace, from `/proc/net/ip_vs_stats`.
//!
//! They are separate counters, not the sum over services: they keep counting what deleted
//! services and destinations saw, and zeroing one service leaves them alone. No netlink
//! command reports them, so they are read from /proc, in the namespace the transport works in.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use ipvs::{ErrorKind, Stats};

/// The file, as the calling thread sees it (per network namespace).
const STATS_FILE: &str = "/proc/thread-self/net/ip_vs_stats";

/// Parses the file's text into the kernel's totals and rates: two header lines, the five
/// totals in hexadecimal, a blank line, a header and the five rates in hexadecimal. Anything
/// else is an error naming what was wrong.
///
/// ```
/// let text = "   Total Incoming Outgoing         Incoming         Outgoing\n   Conns  Packets  Packets            Bytes            Bytes\n      2A      3E8      1F4             1000              800\n\n Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n       1        A        5              100               80\n";
/// let t = ipvs_exporter::totals::parse(text).unwrap();
/// assert_eq!((t.conns, t.in_packets, t.out_bytes, t.in_pps), (42, 1000, 2048, 10));
/// ```
pub fn parse(text: &str) -> Result<Stats, String> {
    let lines: Vec<&str> = text.lines().collect();
    let fields = |i: usize, what: &str| -> Result<[u64; 5], String> {
        let line = lines.get(i).ok_or_else(|| format!("no {what} line (line {})", i + 1))?;
        let v: Vec<u64> = line
            .split_whitespace()
            .map(|f| u64::from_str_radix(f, 16).map_err(|e| format!("{what}: {f:?}: {e}")))
            .collect::<Result<_, _>>()?;
        <[u64; 5]>::try_from(v).map_err(|v| format!("{what}: {} fields (expected 5)", v.len()))
    };
    let [conns, in_packets, out_packets, in_bytes, out_bytes] = fields(2, "totals")?;
    let [cps, in_pps, out_pps, in_bps, out_bps] = fields(5, "rates")?;
    Ok(Stats { conns, in_packets, out_packets, in_bytes, out_bytes, cps, in_pps, out_pps, in_bps, out_bps })
}

/// Reads the totals of the calling thread's namespace, or of the namespace at `netns`
/// (entered by a short-lived thread, see [`ipvs::netns::in_netns`]). `Ok(None)` when IPVS
/// is not loaded there (no file).
pub fn read(netns: Option<&Path>) -> io::Result<Option<Stats>> {
    let read = || -> Result<Option<String>, ErrorKind> {
        match File::open(STATS_FILE) {
            Ok(mut f) => {
                let mut s = String::new();
                f.read_to_string(&mut s)?;
                Ok(Some(s))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    let text = ipvs::netns::in_netns(netns, read).map_err(|e| match e {
        ErrorKind::Io(e) => e,
        e => io::Error::new(io::ErrorKind::InvalidInput, e.to_string()),
    })?;
    text.map(|t| parse(&t).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{STATS_FILE}: {e}"))))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_or_bad_file_is_an_error_that_says_why() {
        assert!(parse("").unwrap_err().contains("no totals line"));
        let bad = "h\nh\n 1 2 3\n\nh\n1 2 3 4 5\n";
        assert!(parse(bad).unwrap_err().contains("3 fields"));
        let bad = "h\nh\n 1 2 3 4 G\n\nh\n1 2 3 4 5\n";
        assert!(parse(bad).unwrap_err().contains("\"G\""));
    }

    #[test]
    fn counters_are_64_bit() {
        let t = parse("h\nh\nFFFFFFFFFF 1 1 FFFFFFFFFFFFFFFF 0\n\nh\n0 0 0 0 0\n").unwrap();
        assert_eq!((t.conns, t.in_bytes), (0xFF_FFFF_FFFF, u64::MAX));
    }
}
