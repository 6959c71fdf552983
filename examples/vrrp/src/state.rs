//! The VRRP instance state machine (RFC 3768 §6.4, RFC 5798 §6.4), as a pure value.
//!
//! [`Instance::handle`] takes the current [`Timestamp`] and an [`Event`] and returns the
//! [`Action`]s to perform, in order; [`Instance::next_deadline`] says when to call it again
//! with [`Event::Timer`]. Timers that fell due before `now` fire first, whatever the event, so
//! a late call behaves as if the timer had fired on time (just later). Time never runs
//! backwards: an earlier `now` counts as the latest one seen.
//!
//! States: `Initialize` (not started), `Backup`, `Master`, and keepalived's `Fault` (an
//! interface or tracked object with weight 0 is down). Semantics, RFC first:
//!
//! * Startup: priority 255 (address owner) becomes master at once, anything else backup with
//!   the master-down timer at `Master_Down_Interval` (keepalived `state MASTER`: one interval
//!   plus the smallest skew).
//! * Backup: the master-down timer firing makes it master. An advert of priority 0 sets the
//!   timer to `Skew_Time` (fast takeover). Any other advert is accepted (timer reset, v3
//!   learns `Master_Adver_Interval`) if preemption is off, or its priority is at least ours,
//!   or keepalived's `preempt_delay` is still running; otherwise it is discarded so the timer
//!   runs out and this router preempts.
//! * Master: the advert timer sends adverts. Priority 0 heard: advert at once. Higher
//!   priority, or equal priority from a higher primary address: back to backup (v3 learns the
//!   interval). Lower: answer with an advert (RFC 9568 and keepalived's default; not with
//!   `lower_prio_no_advert`) and re-announce the addresses (keepalived `garp_lower_prio_*`).
//! * Shutdown or fault as master: advert with priority 0, addresses removed.
//! * An owner discards every advert (RFC §7.1), counted as [`AdvertError::Owner`].

use std::net::IpAddr;
use std::time::Duration;

pub use super::event::{Action, Event, Notify, State, Stats, SyncRole};

use super::config::{ConfigError, InstanceConfig};
use super::error::AdvertError;
use super::ip::IpMeta;
use super::packet::{parse, Advert, Version};
use super::time::{centis, master_down_interval, skew_time, Timestamp};
use super::validate::{check_advert, check_ip, check_source};
use super::{PRIORITY_OWNER, PRIORITY_STOP};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimerKind {
    MasterDown,
    Advert,
    Garp,
    GarpRefresh,
}

#[derive(Clone, Debug, Default)]
struct Timers {
    master_down: Option<Timestamp>,
    advert: Option<Timestamp>,
    garp: Option<(Timestamp, u32)>,
    garp_refresh: Option<Timestamp>,
}

impl Timers {
    fn earliest(&self) -> Option<(Timestamp, TimerKind)> {
        [
            self.master_down.map(|t| (t, TimerKind::MasterDown)),
            self.advert.map(|t| (t, TimerKind::Advert)),
            self.garp.map(|(t, _)| (t, TimerKind::Garp)),
            self.garp_refresh.map(|t| (t, TimerKind::GarpRefresh)),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(t, _)| *t)
    }
}

/// One VRRP instance: a virtual router on one interface and address family.
#[derive(Clone, Debug)]
pub struct Instance {
    cfg: InstanceConfig,
    state: State,
    priority: u8,
    master_adver_int: u16,
    now: Timestamp,
    timers: Timers,
    preempt_until: Option<Timestamp>,
    faulted: bool,
    master: Option<IpAddr>,
    master_priority: Option<u8>,
    sync_role: Option<SyncRole>,
    stats: Stats,
}

impl Instance {
    /// A new instance in Initialize, after validating `cfg`.
    pub fn new(cfg: InstanceConfig) -> Result<Instance, ConfigError> {
        cfg.validate()?;
        Ok(Instance {
            priority: cfg.priority,
            master_adver_int: cfg.advert_interval_centis,
            cfg,
            state: State::Initialize,
            now: Timestamp::ZERO,
            timers: Timers::default(),
            preempt_until: None,
            faulted: false,
            master: None,
            master_priority: None,
            sync_role: None,
            stats: Stats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &InstanceConfig {
        &self.cfg
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Effective priority (configured, changed by [`Event::Priority`]).
    pub fn priority(&self) -> u8 {
        self.priority
    }

    /// Whether a fault is in force.
    pub fn is_faulted(&self) -> bool {
        self.faulted
    }

    /// The current master's primary address: ours when master, the last accepted sender's
    /// when backup, none when unknown (after a priority 0 advert, or not running).
    pub fn master_address(&self) -> Option<IpAddr> {
        self.master
    }

    /// The current master's priority, when known.
    pub fn master_priority(&self) -> Option<u8> {
        self.master_priority
    }

    /// Master_Adver_Interval in centiseconds (v3: learned from the master when backup).
    pub fn master_adver_interval_centis(&self) -> u16 {
        self.master_adver_int
    }

    /// Skew_Time for our effective priority.
    pub fn skew_time(&self) -> Duration {
        skew_time(self.cfg.version, self.priority, self.master_adver_int)
    }

    /// Master_Down_Interval for our effective priority.
    pub fn master_down_interval(&self) -> Duration {
        master_down_interval(self.cfg.version, self.priority, self.master_adver_int, self.cfg.down_timer_adverts)
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The latest time seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// When to deliver [`Event::Timer`] next, if any timer runs.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.timers.earliest().map(|(t, _)| t)
    }

    /// Process `event` at `now`; the actions to perform, in order.
    #[must_use = "the actions must be performed"]
    pub fn handle(&mut self, now: Timestamp, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        self.advance(now, &mut out);
        match event {
            Event::Startup => self.startup(&mut out),
            Event::Shutdown => self.shutdown(&mut out),
            Event::Timer => {}
            Event::Advert { source, advert } => self.on_advert(source, advert, &mut out),
            Event::Priority(p) => self.set_priority(p),
            Event::Fault => self.fault(&mut out),
            Event::FaultCleared => self.fault_cleared(&mut out),
        }
        // A priority change can bring the master-down timer forward to now.
        self.advance(now, &mut out);
        out
    }

    /// Process a received packet at `now`: [`check_ip`], [`parse`], then as
    /// [`Event::Advert`]. A packet failing any check is dropped and counted by reason in
    /// [`Stats::drops`] without any other effect.
    #[must_use = "the actions must be performed"]
    pub fn receive(&mut self, now: Timestamp, meta: &IpMeta, payload: &[u8]) -> Vec<Action> {
        let checked =
            check_ip(&self.cfg, meta).and_then(|()| parse(payload, &meta.context(self.cfg.v3_checksum_as_v2)));
        match checked {
            Ok(advert) => self.handle(now, Event::Advert { source: meta.source, advert }),
            Err(reason) => {
                tracing::debug!(vrid = self.cfg.vrid, source = %meta.source, %reason, "VRRP packet dropped");
                self.stats.drops.record(reason);
                self.handle(now, Event::Timer)
            }
        }
    }

    /// Count a packet the caller refused before it reached [`Instance::receive`] (an IP
    /// header it could not read); no other effect.
    pub fn drop_packet(&mut self, reason: AdvertError) {
        self.stats.drops.record(reason);
    }

    fn advance(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        self.now = self.now.max(now);
        // Each timer fires at most once per call: firing reschedules it after `now` (all
        // periods are positive), so this bound is never reached; it only guards the loop.
        for _ in 0..8 {
            match self.timers.earliest() {
                Some((t, kind)) if t <= self.now => self.fire(kind, out),
                _ => break,
            }
        }
    }

    fn fire(&mut self, kind: TimerKind, out: &mut Vec<Action>) {
        let now = self.now;
        match kind {
            TimerKind::MasterDown => {
                self.timers.master_down = None;
                if self.state == State::Backup {
                    self.become_master(out);
                }
            }
            TimerKind::Advert => {
                self.timers.advert = None;
                if self.state == State::Master {
                    self.send_advert(self.priority, out);
                    self.timers.advert = Some(now + centis(self.cfg.advert_interval_centis));
                }
            }
            TimerKind::Garp => {
                if let Some((_, repeat)) = self.timers.garp.take() {
                    if self.state == State::Master {
                        out.push(Action::Announce { repeat });
                    }
                }
            }
            TimerKind::GarpRefresh => {
                self.timers.garp_refresh = None;
                if let (State::Master, Some(period)) = (self.state, self.cfg.garp.master_refresh) {
                    out.push(Action::Announce { repeat: self.cfg.garp.master_refresh_repeat });
                    self.timers.garp_refresh = Some(now + period.max(Duration::from_millis(1)));
                }
            }
        }
    }

    fn set_state(&mut self, state: State) {
        if self.state != state {
            self.state = state;
            self.stats.transitions = self.stats.transitions.saturating_add(1);
        }
    }

    fn sync(&mut self, role: SyncRole, out: &mut Vec<Action>) {
        if self.sync_role != Some(role) {
            self.sync_role = Some(role);
            out.push(Action::SyncDaemon(role));
        }
    }

    fn send_advert(&mut self, priority: u8, out: &mut Vec<Action>) {
        self.stats.adverts_sent = self.stats.adverts_sent.saturating_add(1);
        if priority == PRIORITY_STOP {
            self.stats.priority_zero_sent = self.stats.priority_zero_sent.saturating_add(1);
        }
        out.push(Action::SendAdvert(self.cfg.advert(priority)));
    }

    fn clear_timers(&mut self) {
        self.timers = Timers::default();
        self.preempt_until = None;
    }

    fn become_master(&mut self, out: &mut Vec<Action>) {
        let now = self.now;
        self.set_state(State::Master);
        self.stats.became_master = self.stats.became_master.saturating_add(1);
        self.clear_timers();
        self.master_adver_int = self.cfg.advert_interval_centis;
        self.master = Some(self.cfg.primary_address);
        self.master_priority = Some(self.priority);
        // Advert first, so that the old master (if any) lets the addresses go before ours
        // are announced (keepalived's order).
        self.send_advert(self.priority, out);
        out.push(Action::AddAddresses);
        let garp = &self.cfg.garp;
        if garp.master_repeat > 0 {
            out.push(Action::Announce { repeat: garp.master_repeat });
            self.timers.garp = garp.master_delay.map(|d| (now + d, garp.master_repeat));
        }
        self.timers.garp_refresh = garp.master_refresh.map(|r| now + garp.master_delay.unwrap_or_default() + r);
        self.timers.advert = Some(now + centis(self.cfg.advert_interval_centis));
        out.push(Action::Notify(Notify::Master));
        self.sync(SyncRole::Master, out);
    }

    /// Into Backup from `from`, with the master-down timer at `down` from now.
    fn become_backup(&mut self, from: State, down: Duration, out: &mut Vec<Action>) {
        if matches!(from, State::Master | State::Initialize) {
            out.push(Action::RemoveAddresses);
        }
        if from == State::Master {
            self.stats.released_master = self.stats.released_master.saturating_add(1);
        }
        self.set_state(State::Backup);
        self.clear_timers();
        self.timers.master_down = Some(self.now + down);
        out.push(Action::Notify(Notify::Backup));
        self.sync(SyncRole::Backup, out);
    }

    /// Leave Master for Fault or Initialize: priority 0 advert, addresses removed.
    fn release_with_stop(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Master {
            self.send_advert(PRIORITY_STOP, out);
            out.push(Action::RemoveAddresses);
            self.stats.released_master = self.stats.released_master.saturating_add(1);
        }
        self.clear_timers();
        self.master = None;
        self.master_priority = None;
    }

    /// Leave Initialize or Fault: owner to master at once, others to backup.
    fn start(&mut self, from: State, out: &mut Vec<Action>) {
        self.master_adver_int = self.cfg.advert_interval_centis;
        if self.priority == PRIORITY_OWNER {
            self.become_master(out);
            return;
        }
        let down = if from == State::Initialize && self.cfg.start_as_master {
            centis(self.master_adver_int) + skew_time(self.cfg.version, PRIORITY_OWNER, self.master_adver_int)
        } else {
            self.master_down_interval()
        };
        self.master = None;
        self.master_priority = None;
        self.become_backup(from, down, out);
    }

    fn startup(&mut self, out: &mut Vec<Action>) {
        if self.state != State::Initialize {
            return;
        }
        if self.faulted {
            self.set_state(State::Fault);
            out.push(Action::RemoveAddresses);
            out.push(Action::Notify(Notify::Fault));
            self.sync(SyncRole::Backup, out);
        } else {
            self.start(State::Initialize, out);
        }
    }

    fn shutdown(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Initialize {
            return;
        }
        self.release_with_stop(out);
        self.set_state(State::Initialize);
        out.push(Action::Notify(Notify::Stop));
        self.sync(SyncRole::Stop, out);
    }

    fn fault(&mut self, out: &mut Vec<Action>) {
        self.faulted = true;
        if matches!(self.state, State::Initialize | State::Fault) {
            return;
        }
        self.release_with_stop(out);
        self.set_state(State::Fault);
        out.push(Action::Notify(Notify::Fault));
        self.sync(SyncRole::Backup, out);
    }

    fn fault_cleared(&mut self, out: &mut Vec<Action>) {
        self.faulted = false;
        if self.state == State::Fault {
            self.start(State::Fault, out);
        }
    }

    fn set_priority(&mut self, requested: u8) {
        if self.cfg.is_owner() {
            return;
        }
        let new = requested.clamp(1, PRIORITY_OWNER - 1);
        if new == self.priority {
            return;
        }
        let old_down = self.master_down_interval();
        self.priority = new;
        self.stats.priority_changes = self.stats.priority_changes.saturating_add(1);
        // As keepalived: a running master-down timer moves by the change of skew.
        if let (State::Backup, Some(t)) = (self.state, self.timers.master_down) {
            let new_down = self.master_down_interval();
            let moved = if new_down >= old_down {
                t.saturating_add(new_down - old_down)
            } else {
                t.saturating_sub(old_down - new_down)
            };
            self.timers.master_down = Some(moved);
        }
    }

    fn on_advert(&mut self, source: IpAddr, advert: Advert, out: &mut Vec<Action>) {
        let findings = match check_source(&self.cfg, &source).and_then(|()| check_advert(&self.cfg, &advert)) {
            Ok(f) => f,
            Err(reason) => {
                tracing::debug!(vrid = self.cfg.vrid, %source, %reason, "VRRP advert dropped");
                self.stats.drops.record(reason);
                return;
            }
        };
        if matches!(self.state, State::Initialize | State::Fault) {
            self.stats.ignored = self.stats.ignored.saturating_add(1);
            return;
        }
        if self.priority == PRIORITY_OWNER {
            self.stats.drops.record(AdvertError::Owner);
            return;
        }
        let s = &mut self.stats;
        s.adverts_received = s.adverts_received.saturating_add(1);
        if findings.address_mismatch {
            s.address_mismatches = s.address_mismatches.saturating_add(1);
        }
        if findings.interval_mismatch {
            s.interval_mismatches = s.interval_mismatches.saturating_add(1);
        }
        if advert.priority() == PRIORITY_STOP {
            s.priority_zero_received = s.priority_zero_received.saturating_add(1);
        }
        match self.state {
            State::Backup => self.backup_rx(source, &advert),
            State::Master => self.master_rx(source, &advert, out),
            State::Initialize | State::Fault => {}
        }
    }

    fn backup_rx(&mut self, source: IpAddr, advert: &Advert) {
        let now = self.now;
        let theirs = advert.priority();
        if theirs == PRIORITY_STOP {
            // The master is stopping: take over after Skew_Time only.
            self.timers.master_down = Some(now + self.skew_time());
            self.master = None;
            self.master_priority = None;
            return;
        }
        let delay = self.cfg.preempt_delay;
        let delaying = !delay.is_zero() && self.preempt_until.is_none_or(|until| now < until);
        self.master = Some(source);
        self.master_priority = Some(theirs);
        if !self.cfg.preempt || theirs >= self.priority || delaying {
            if self.cfg.version == Version::V3 {
                self.master_adver_int = advert.interval_centis();
            }
            self.timers.master_down = Some(now + self.master_down_interval());
            if !delay.is_zero() {
                if theirs >= self.priority {
                    self.preempt_until = None;
                } else if self.preempt_until.is_none() {
                    self.preempt_until = Some(now + delay);
                }
            }
        } else {
            // Lower priority and we preempt: let the master-down timer run out.
            self.stats.lower_priority_discarded = self.stats.lower_priority_discarded.saturating_add(1);
        }
    }

    fn master_rx(&mut self, source: IpAddr, advert: &Advert, out: &mut Vec<Action>) {
        let now = self.now;
        let theirs = advert.priority();
        if theirs == PRIORITY_STOP {
            self.send_advert(self.priority, out);
            self.timers.advert = Some(now + centis(self.cfg.advert_interval_centis));
            return;
        }
        // Addresses of one family compare as unsigned integers in network byte order.
        let higher = theirs > self.priority || (theirs == self.priority && source > self.cfg.primary_address);
        if higher {
            self.master_adver_int = match self.cfg.version {
                Version::V3 => advert.interval_centis(),
                Version::V2 => self.cfg.advert_interval_centis,
            };
            self.master = Some(source);
            self.master_priority = Some(theirs);
            let down = self.master_down_interval();
            self.become_backup(State::Master, down, out);
            return;
        }
        // A lower-priority router believes it is master: make it see us at once.
        if !self.cfg.lower_prio_no_advert {
            self.send_advert(self.priority, out);
        }
        let garp = &self.cfg.garp;
        if garp.lower_prio_repeat > 0 {
            out.push(Action::Announce { repeat: garp.lower_prio_repeat });
            if let Some(d) = garp.lower_prio_delay {
                self.timers.garp = Some((now + d, garp.lower_prio_repeat));
            }
        }
    }
}
