//! Recent rates for the sparklines: a small ring of samples per row, taken when a page reads
//! the table, bounded in time between samples, in samples per row and in rows.

use std::collections::{HashMap, VecDeque};

/// Samples kept per row (oldest dropped first).
pub const SAMPLES: usize = 30;

/// The least time between two samples (seconds): the kernel's estimates change every 2 s, and
/// pages read more often (several browsers) must not shorten the history.
pub const EVERY_SECONDS: f64 = 2.0;

/// The most rows kept; rows past it get no history.
pub const MAX_KEYS: usize = 100_000;

/// The recent values of each row of a page, by the row's key. Only the rows of the latest
/// sample are kept, so its size follows the table's: at most [`MAX_KEYS`] rows of
/// [`SAMPLES`] values.
///
/// ```
/// use ipvs_exporter::page::History;
/// let mut h = History::default();
/// assert!(h.record(100.0, [("a".to_owned(), 1)]));
/// assert!(!h.record(101.0, [("a".to_owned(), 5)]), "too soon: not a sample");
/// assert!(h.record(102.0, [("a".to_owned(), 2), ("b".to_owned(), 7)]));
/// assert_eq!((h.recent("a"), h.recent("b")), (vec![1, 2], vec![7]));
/// assert!(h.record(104.0, [("b".to_owned(), 8)]));
/// assert_eq!((h.recent("a"), h.len()), (vec![], 1), "a row gone from the table is forgotten");
/// ```
#[derive(Debug, Default)]
pub struct History {
    last: Option<f64>,
    rings: HashMap<String, VecDeque<u64>>,
}

impl History {
    /// Takes a sample at `at` (seconds) of every row, unless the last was taken less than
    /// [`EVERY_SECONDS`] before (a clock that went back takes one); rows not in it are
    /// forgotten. Whether a sample was taken.
    pub fn record(&mut self, at: f64, rows: impl IntoIterator<Item = (String, u64)>) -> bool {
        if self.last.is_some_and(|last| at >= last && at - last < EVERY_SECONDS) {
            return false;
        }
        self.last = Some(at);
        let mut old = std::mem::take(&mut self.rings);
        for (key, value) in rows {
            if self.rings.len() >= MAX_KEYS {
                break;
            }
            let mut ring = old.remove(&key).unwrap_or_default();
            if ring.len() >= SAMPLES {
                ring.pop_front();
            }
            ring.push_back(value);
            self.rings.insert(key, ring);
        }
        true
    }

    /// The row's recent values, oldest first (none for a row not sampled).
    pub fn recent(&self, key: &str) -> Vec<u64> {
        self.rings.get(key).map(|r| r.iter().copied().collect()).unwrap_or_default()
    }

    /// The rows kept.
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// Whether no row is kept.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }
}

/// Values as a line of eight-level block characters scaled to the largest (all lowest when
/// all are 0): text, so it reads without colour, JavaScript or images.
///
/// ```
/// use ipvs_exporter::page::sparkline;
/// assert_eq!(sparkline(&[0, 4, 8]), "\u{2581}\u{2585}\u{2588}");
/// assert_eq!(sparkline(&[0, 0]), "\u{2581}\u{2581}");
/// assert_eq!(sparkline(&[]), "");
/// ```
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] =
        ['\u{2581}', '\u{2582}', '\u{2583}', '\u{2584}', '\u{2585}', '\u{2586}', '\u{2587}', '\u{2588}'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if max == 0 {
                return BARS[0];
            }
            // 0..=7, in u128 so that no product overflows.
            let level = (u128::from(v) * 7 + u128::from(max) / 2) / u128::from(max);
            BARS[usize::try_from(level).unwrap_or(7).min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_keeps_the_last_samples_and_the_rows_stay_bounded() {
        let mut h = History::default();
        for i in 0..(SAMPLES as u64 + 5) {
            assert!(h.record(i as f64 * EVERY_SECONDS, [("r".to_owned(), i)]));
        }
        let r = h.recent("r");
        assert_eq!(r.len(), SAMPLES);
        assert_eq!(r.first(), Some(&5), "the oldest went first");
        assert!(h.record(1e9, (0..MAX_KEYS + 10).map(|i| (i.to_string(), 1))));
        assert_eq!(h.len(), MAX_KEYS);
        assert!(h.record(0.0, [("x".to_owned(), 3)]), "a clock that went back takes a sample");
        assert_eq!((h.len(), h.recent("x")), (1, vec![3]));
    }

    #[test]
    fn a_sparkline_scales_to_its_largest_value() {
        assert_eq!(
            sparkline(&[u64::MAX, 0, u64::MAX / 7 * 4]).chars().collect::<Vec<_>>(),
            ['\u{2588}', '\u{2581}', '\u{2585}']
        );
        assert_eq!(sparkline(&[3]), "\u{2588}");
    }
}
