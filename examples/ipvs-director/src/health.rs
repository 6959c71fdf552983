//! The health of one checker, as keepalived 2.2.7 keeps it: what an attempt's result does to
//! its state and when the next attempt runs. Pure: no clock, no I/O (the daemon runs the
//! attempts and feeds the results in).
//!
//! - A checker starts up (or down with `alpha`), not yet run, with its retry counter full:
//!   the first failure ever marks it down at once.
//! - Up and run before: the (retry + 1)-th failure in a row marks it down; the attempts in
//!   between come `delay_before_retry` after the previous one ended, the others `delay_loop`
//!   after. A success resets the count.
//! - Down: one success brings it back (HTTP: the failed url, then every url in turn). While
//!   down a TCP check cycles `retry` attempts at `delay_before_retry` then one `delay_loop`
//!   (keepalived 2.2.7's cadence); HTTP polls the failed url every max(`delay_before_retry`,
//!   `delay_loop`); the others every `delay_loop`.
//! - HTTP checks fetch one url per round; the check passes a round only after its last url.

use std::time::Duration;

/// The kind of cadence a checker follows (keepalived's differ by kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// TCP_CHECK: down, cycles `retry` quick attempts then one `delay_loop`.
    Tcp,
    /// HTTP_GET, SSL_GET: one url per round; down, polls the failed url.
    Http {
        /// How many urls.
        urls: usize,
    },
    /// DNS, MISC, SMTP: down, polls every `delay_loop`.
    Plain,
}

/// The settings the state machine needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Between rounds.
    pub delay_loop: Duration,
    /// Between a failed attempt and the next while counting retries.
    pub delay_before_retry: Duration,
    /// Failed attempts tolerated before the checker goes down.
    pub retry: u32,
}

/// What an attempt's result changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing visible.
    None,
    /// The checker went up.
    Up,
    /// The checker went down.
    Down,
    /// The first result of an `alpha` checker was a failure: it stays down (keepalived runs
    /// notify_down once for it).
    FirstFailure,
}

/// One checker's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerHealth {
    up: bool,
    has_run: bool,
    retries: u32,
    url: usize,
    failed_url: Option<usize>,
    cadence: Cadence,
    timings: Timings,
}

impl CheckerHealth {
    /// A checker at start: up unless `alpha`, not yet run, its retry counter full.
    pub fn new(cadence: Cadence, timings: Timings, alpha: bool) -> CheckerHealth {
        CheckerHealth { up: !alpha, has_run: false, retries: timings.retry, url: 0, failed_url: None, cadence, timings }
    }

    /// A checker whose state is carried over (a reload, or the kernel's table at start says
    /// the server is in service): `up` as given, counted as having run.
    pub fn carried(cadence: Cadence, timings: Timings, up: bool) -> CheckerHealth {
        CheckerHealth { up, has_run: true, retries: 0, url: 0, failed_url: None, cadence, timings }
    }

    /// Whether the checker is up.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Whether it has run.
    pub fn has_run(&self) -> bool {
        self.has_run
    }

    /// The url the next attempt fetches (HTTP checks; 0 otherwise).
    pub fn url(&self) -> usize {
        self.failed_url.unwrap_or(self.url)
    }

    /// Takes an attempt's result; returns what changed and how long after the attempt ended
    /// the next one runs.
    pub fn record(&mut self, ok: bool) -> (Change, Duration) {
        let t = self.timings;
        let first = !self.has_run;
        self.has_run = true;
        if ok {
            self.retries = 0;
            if let Cadence::Http { urls } = self.cadence {
                if let Some(failed) = self.failed_url.take() {
                    // The failed url passes: start over at the first url.
                    let _ = failed;
                    self.url = 0;
                    if !self.up && urls > 0 {
                        return (Change::None, t.delay_loop);
                    }
                }
                if self.url + 1 < urls {
                    self.url += 1;
                    return (Change::None, t.delay_loop);
                }
                self.url = 0;
            }
            let change = if self.up { Change::None } else { Change::Up };
            self.up = true;
            return (change, t.delay_loop);
        }
        if self.up {
            if self.retries < t.retry {
                self.retries += 1;
                return (Change::None, t.delay_before_retry);
            }
            self.up = false;
            if let Cadence::Http { .. } = self.cadence {
                self.failed_url = Some(self.url);
            }
            return (Change::Down, self.down_delay());
        }
        let change = if first { Change::FirstFailure } else { Change::None };
        if let Cadence::Http { .. } = self.cadence {
            self.failed_url.get_or_insert(self.url);
        }
        (change, self.down_delay())
    }

    /// When the next attempt of a down checker runs.
    fn down_delay(&mut self) -> Duration {
        let t = self.timings;
        match self.cadence {
            Cadence::Tcp => {
                if self.retries < t.retry {
                    self.retries += 1;
                    t.delay_before_retry
                } else {
                    self.retries = 0;
                    t.delay_loop
                }
            }
            Cadence::Http { .. } => t.delay_before_retry.max(t.delay_loop),
            Cadence::Plain => t.delay_loop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn t(retry: u32) -> Timings {
        Timings { delay_loop: 6 * S, delay_before_retry: 2 * S, retry }
    }

    #[test]
    fn the_first_failure_ever_marks_a_checker_down_at_once() {
        let mut c = CheckerHealth::new(Cadence::Plain, t(3), false);
        assert!(c.is_up());
        assert_eq!(c.record(false), (Change::Down, 6 * S));
        assert!(!c.is_up());
    }

    #[test]
    fn later_failures_need_retry_plus_one_in_a_row() {
        let mut c = CheckerHealth::new(Cadence::Plain, t(2), false);
        assert_eq!(c.record(true), (Change::None, 6 * S));
        assert_eq!(c.record(false), (Change::None, 2 * S));
        assert_eq!(c.record(false), (Change::None, 2 * S));
        // A success in between resets the count.
        assert_eq!(c.record(true), (Change::None, 6 * S));
        assert_eq!(c.record(false), (Change::None, 2 * S));
        assert_eq!(c.record(false), (Change::None, 2 * S));
        assert_eq!(c.record(false), (Change::Down, 6 * S));
        // One success brings it back.
        assert_eq!(c.record(false), (Change::None, 6 * S));
        assert_eq!(c.record(true), (Change::Up, 6 * S));
    }

    #[test]
    fn alpha_starts_down_and_a_first_failure_is_reported_once() {
        let mut c = CheckerHealth::new(Cadence::Plain, t(1), true);
        assert!(!c.is_up());
        assert_eq!(c.record(false).0, Change::FirstFailure);
        assert_eq!(c.record(false).0, Change::None);
        assert_eq!(c.record(true).0, Change::Up);
        let mut c = CheckerHealth::new(Cadence::Plain, t(1), true);
        assert_eq!(c.record(true).0, Change::Up);
    }

    #[test]
    fn a_down_tcp_check_cycles_quick_retries_then_a_round() {
        let mut c = CheckerHealth::new(Cadence::Tcp, t(2), false);
        c.record(true);
        c.record(false);
        c.record(false);
        assert_eq!(c.record(false), (Change::Down, 6 * S));
        // Counter was used up going down: a round, then two quick ones, then a round.
        assert_eq!(c.record(false).1, 2 * S);
        assert_eq!(c.record(false).1, 2 * S);
        assert_eq!(c.record(false).1, 6 * S);
    }

    #[test]
    fn http_fetches_one_url_a_round_and_recovers_through_all_of_them() {
        let mut c = CheckerHealth::new(Cadence::Http { urls: 2 }, t(1), false);
        assert_eq!((c.url(), c.record(true)), (0, (Change::None, 6 * S)));
        assert_eq!((c.url(), c.record(true)), (1, (Change::None, 6 * S)));
        assert_eq!((c.url(), c.record(true)), (0, (Change::None, 6 * S)));
        // url 1 fails twice (retry 1): down, and it is the url polled while down.
        assert_eq!(c.url(), 1);
        assert_eq!(c.record(false), (Change::None, 2 * S));
        assert_eq!(c.record(false), (Change::Down, 6 * S));
        assert_eq!(c.url(), 1);
        assert_eq!(c.record(false), (Change::None, 6 * S));
        // It passes: every url again, up after the last.
        assert_eq!((c.url(), c.record(true)), (1, (Change::None, 6 * S)));
        assert_eq!((c.url(), c.record(true)), (0, (Change::None, 6 * S)));
        assert_eq!((c.url(), c.record(true)), (1, (Change::Up, 6 * S)));
        assert!(c.is_up());
    }
}
