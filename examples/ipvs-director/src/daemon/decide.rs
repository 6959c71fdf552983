//! What a check's result does, decided without doing it: the check's new state, when it runs
//! next, and the events that follow (a check down or up, a server alive or dead, a weight
//! changed). Pure: no clock (the time is given), no I/O, no task; the daemon carries the
//! events out (the daemon's `events` module).

use std::time::{Duration, SystemTime};

use super::state::{all_up, CheckKey, CheckState, LastAttempt, Runtime, ServerKey};
use crate::check::{Attempt, CheckError};
use crate::health::Change;

/// When a check's next attempt runs (after the one just ended) and which url it fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Next {
    /// How long after the attempt ended.
    pub delay: Duration,
    /// Which url (HTTP checks; 0 otherwise).
    pub url: usize,
}

/// What happened to a check or a real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthEvent {
    /// The check went down.
    CheckDown {
        /// The check.
        check: CheckKey,
        /// The failure that took it down.
        error: CheckError,
    },
    /// The check came back up.
    CheckUp {
        /// The check.
        check: CheckKey,
    },
    /// The first result of a check that started down (`alpha`) was a failure.
    FirstFailure {
        /// The check.
        check: CheckKey,
        /// The failure.
        error: CheckError,
    },
    /// An attempt failed without changing the check's state, and the check logs every
    /// failure (`log_all_failures`).
    AttemptFailed {
        /// The check.
        check: CheckKey,
        /// The failure.
        error: CheckError,
    },
    /// The weight a check asks for changed (`misc_dynamic`; None: the configured one).
    WeightChanged {
        /// The check.
        check: CheckKey,
        /// The weight it asks for now.
        weight: Option<u32>,
    },
    /// Every check of the real server is up now.
    ServerAlive {
        /// The server.
        server: ServerKey,
    },
    /// A check of the real server is down now.
    ServerDead {
        /// The server.
        server: ServerKey,
    },
}

impl HealthEvent {
    /// Whether the event changes the table the kernel should hold.
    pub fn changes_table(&self) -> bool {
        matches!(
            self,
            HealthEvent::WeightChanged { .. } | HealthEvent::ServerAlive { .. } | HealthEvent::ServerDead { .. }
        )
    }
}

/// Takes attempt `a` of check `key` (state `check`), ended at `now`: the check's counters,
/// last attempt, health and weight change; returns when to run next and what happened to the
/// check.
pub fn record(key: &CheckKey, check: &mut CheckState, a: &Attempt, now: SystemTime) -> (Next, Vec<HealthEvent>) {
    let mut events = Vec::new();
    check.attempts += 1;
    if let Err(e) = &a.result {
        *check.failures.entry(e.kind()).or_default() += 1;
    }
    let old_weight = check.weight;
    if a.result.is_ok() {
        check.weight = a.weight;
    }
    check.last = Some(LastAttempt { at: now, result: a.result.clone(), latency: a.latency });
    let (change, delay) = check.health.record(a.result.is_ok());
    let check_key = || key.clone();
    match (&a.result, change) {
        (Err(e), Change::Down) => {
            check.since = now;
            check.weight = None;
            events.push(HealthEvent::CheckDown { check: check_key(), error: e.clone() });
        }
        (Ok(()), Change::Up) => {
            check.since = now;
            events.push(HealthEvent::CheckUp { check: check_key() });
        }
        (Err(e), Change::FirstFailure) => {
            events.push(HealthEvent::FirstFailure { check: check_key(), error: e.clone() });
        }
        (Err(e), _) if key.settings.log_all_failures => {
            events.push(HealthEvent::AttemptFailed { check: check_key(), error: e.clone() });
        }
        _ => {}
    }
    if check.weight != old_weight {
        events.push(HealthEvent::WeightChanged { check: check_key(), weight: check.weight });
    }
    (Next { delay, url: check.health.url() }, events)
}

impl Runtime {
    /// Takes attempt `a` of check `key` ([`record`]), then decides whether its server is
    /// alive now. None when the check is not (or no longer) in the configuration.
    pub fn record(&mut self, key: &CheckKey, a: &Attempt, now: SystemTime) -> Option<(Next, Vec<HealthEvent>)> {
        let check = self.checks.get_mut(key)?;
        let (next, mut events) = record(key, check, a, now);
        events.extend(self.server_step(&key.server, now));
        Some((next, events))
    }

    /// Decides whether a server is alive from its checks; the event when that changed.
    pub fn server_step(&mut self, key: &ServerKey, now: SystemTime) -> Option<HealthEvent> {
        let server = self.servers.get(key)?;
        let alive = all_up(&self.checks, server);
        if alive == server.alive {
            return None;
        }
        let server = self.servers.get_mut(key)?;
        server.alive = alive;
        server.since = now;
        let server = key.clone();
        Some(if alive { HealthEvent::ServerAlive { server } } else { HealthEvent::ServerDead { server } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckError;
    use crate::config::Config;
    use ipvs::state::Table;

    fn runtime(extra: &str) -> Runtime {
        let text = format!(
            "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nretry = 1\n\
             delay_loop = 6\ndelay_before_retry = 2\n\
             [[virtual_servers.real_servers]]\naddress = \"198.51.100.11\"\nport = 80\n{extra}\n\
             [[virtual_servers.real_servers.tcp_check]]\n\
             [[virtual_servers.real_servers.misc_check]]\nmisc_path = \"/bin/true\"\nmisc_dynamic = true\n"
        );
        Runtime::start(Config::from_toml(&text).unwrap(), &Table::new())
    }

    fn keys(rt: &Runtime) -> (CheckKey, CheckKey) {
        let s = rt.servers.values().next().unwrap();
        (s.checks[0].clone(), s.checks[1].clone())
    }

    fn ok(weight: Option<u32>) -> Attempt {
        Attempt { result: Ok(()), latency: Duration::from_millis(3), weight }
    }

    fn failed() -> Attempt {
        Attempt { result: Err(CheckError::NoTarget), latency: Duration::from_millis(3), weight: None }
    }

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn failures_take_the_check_then_the_server_down_and_a_success_brings_them_back() {
        let mut rt = runtime("");
        let (tcp, _) = keys(&rt);
        let server = tcp.server.clone();
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(rt.record(&tcp, &ok(None), now), Some((Next { delay: 6 * S, url: 0 }, vec![])));
        // One retry: the first failure changes nothing visible, the second takes it down.
        assert_eq!(rt.record(&tcp, &failed(), now), Some((Next { delay: 2 * S, url: 0 }, vec![])));
        let (next, events) = rt.record(&tcp, &failed(), now).unwrap();
        assert_eq!(next.delay, 6 * S);
        assert_eq!(
            events,
            [
                HealthEvent::CheckDown { check: tcp.clone(), error: CheckError::NoTarget },
                HealthEvent::ServerDead { server: server.clone() }
            ]
        );
        assert!(events.iter().all(|e| e.changes_table() == matches!(e, HealthEvent::ServerDead { .. })));
        let c = &rt.checks[&tcp];
        assert_eq!((c.attempts, c.failure_count(), c.failures.get("setup").copied()), (3, 2, Some(2)));
        assert!(!rt.servers[&server].alive);
        let (_, events) = rt.record(&tcp, &ok(None), now).unwrap();
        assert_eq!(events, [HealthEvent::CheckUp { check: tcp }, HealthEvent::ServerAlive { server }]);
    }

    #[test]
    fn a_dynamic_weight_is_an_event_and_the_servers_state() {
        let mut rt = runtime("");
        let (_, misc) = keys(&rt);
        let now = SystemTime::UNIX_EPOCH;
        let (_, events) = rt.record(&misc, &ok(Some(7)), now).unwrap();
        assert_eq!(events, [HealthEvent::WeightChanged { check: misc.clone(), weight: Some(7) }]);
        assert_eq!(rt.server_state(&misc.server).dynamic_weight, Some(7));
        // The same weight again: nothing.
        assert_eq!(rt.record(&misc, &ok(Some(7)), now).unwrap().1, []);
        // Down (retry 1: two failures): the weight goes with it.
        rt.record(&misc, &failed(), now);
        let (_, events) = rt.record(&misc, &failed(), now).unwrap();
        assert!(events.contains(&HealthEvent::WeightChanged { check: misc.clone(), weight: None }), "{events:?}");
        assert!(events.contains(&HealthEvent::ServerDead { server: misc.server.clone() }), "{events:?}");
    }

    #[test]
    fn alpha_reports_a_first_failure_and_log_all_failures_every_failed_attempt() {
        let mut rt = runtime("alpha = true");
        let (tcp, _) = keys(&rt);
        let now = SystemTime::UNIX_EPOCH;
        assert!(!rt.servers[&tcp.server].alive);
        let (_, events) = rt.record(&tcp, &failed(), now).unwrap();
        assert_eq!(events, [HealthEvent::FirstFailure { check: tcp.clone(), error: CheckError::NoTarget }]);
        assert_eq!(rt.record(&tcp, &failed(), now).unwrap().1, []);

        let mut rt = runtime("");
        let mut config = rt.config.as_ref().clone();
        config.global.log_all_failures = true;
        rt.reload(config);
        let (tcp, _) = keys(&rt);
        rt.record(&tcp, &ok(None), now);
        let (_, events) = rt.record(&tcp, &failed(), now).unwrap();
        assert_eq!(events, [HealthEvent::AttemptFailed { check: tcp.clone(), error: CheckError::NoTarget }]);
    }

    #[test]
    fn an_unknown_check_is_not_recorded() {
        let mut rt = runtime("");
        let (tcp, _) = keys(&rt);
        let other = CheckKey::new(tcp.server.clone(), tcp.settings.clone(), 1);
        assert_eq!(rt.record(&other, &failed(), SystemTime::UNIX_EPOCH), None);
    }

    #[test]
    fn a_key_made_again_from_its_parts_finds_the_same_check() {
        let rt = runtime("");
        let (tcp, _) = keys(&rt);
        let again = CheckKey::new(tcp.server.clone(), tcp.settings.clone(), tcp.nth);
        assert_eq!(again, tcp);
        assert!(rt.checks.contains_key(&again));
    }
}
