//! Explicit time for the state machine, and the RFC timer formulas.
//!
//! Nothing in this crate reads a clock: the caller passes the current [`Timestamp`] with every
//! event (for example `Timestamp::from_duration(now.duration_since(start))` from a
//! `std::time::Instant` taken at start-up), and tests drive virtual time. All arithmetic
//! saturates, so no input can overflow or panic.

use std::time::Duration;

use super::packet::Version;

/// A point in time, in microseconds since an epoch of the caller's choosing.
///
/// Only differences matter; the epoch is never interpreted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The epoch.
    pub const ZERO: Timestamp = Timestamp(0);

    /// A timestamp `micros` microseconds after the epoch.
    pub const fn from_micros(micros: u64) -> Self {
        Timestamp(micros)
    }

    /// A timestamp `millis` milliseconds after the epoch (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis.saturating_mul(1000))
    }

    /// A timestamp `since_epoch` after the epoch (saturating at `u64::MAX` microseconds).
    pub fn from_duration(since_epoch: Duration) -> Self {
        Timestamp(duration_micros(since_epoch))
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// This timestamp plus `d`, saturating.
    pub fn saturating_add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(duration_micros(d)))
    }

    /// This timestamp minus `d`, saturating at the epoch.
    pub fn saturating_sub(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(duration_micros(d)))
    }

    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;

    /// Saturating addition.
    fn add(self, d: Duration) -> Timestamp {
        self.saturating_add(d)
    }
}

/// `d` in whole microseconds, saturating at `u64::MAX`.
pub(crate) fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// `centis` centiseconds (the VRRPv3 interval unit) as a [`Duration`].
pub fn centis(centis: u16) -> Duration {
    Duration::from_millis(u64::from(centis) * 10)
}

/// Skew_Time for a router of `priority` (its own, effective priority).
///
/// * VRRPv2 (RFC 3768 §6.1): `(256 - Priority) / 256` seconds, whatever the interval.
/// * VRRPv3 (RFC 5798 §6.1): `((256 - Priority) * Master_Adver_Interval) / 256`, with
///   `master_adver_int_centis` the interval learned from the master (centiseconds).
pub fn skew_time(version: Version, priority: u8, master_adver_int_centis: u16) -> Duration {
    let weight = 256 - u64::from(priority);
    match version {
        Version::V2 => Duration::from_micros(weight * 1_000_000 / 256),
        Version::V3 => Duration::from_micros(weight * u64::from(master_adver_int_centis) * 10_000 / 256),
    }
}

/// Master_Down_Interval: `adverts * Master_Adver_Interval + Skew_Time` (`adverts` is 3 in the
/// RFCs; keepalived's `down_timer_adverts` makes it configurable).
pub fn master_down_interval(version: Version, priority: u8, master_adver_int_centis: u16, adverts: u8) -> Duration {
    centis(master_adver_int_centis) * u32::from(adverts) + skew_time(version, priority, master_adver_int_centis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_examples() {
        // v2, priority 100, 1 s: skew = 156/256 s = 609.375 ms, down = 3.609375 s.
        assert_eq!(skew_time(Version::V2, 100, 100), Duration::from_micros(609_375));
        assert_eq!(master_down_interval(Version::V2, 100, 100, 3), Duration::from_micros(3_609_375));
        // v2 skew does not depend on the interval.
        assert_eq!(skew_time(Version::V2, 100, 500), Duration::from_micros(609_375));
        // v3, priority 100, 1 s: same numbers; at 50 cs, half the skew.
        assert_eq!(skew_time(Version::V3, 100, 100), Duration::from_micros(609_375));
        assert_eq!(skew_time(Version::V3, 100, 50), Duration::from_micros(304_687));
        // owner priority: skew 1/256 of the interval.
        assert_eq!(skew_time(Version::V3, 255, 100), Duration::from_micros(3_906));
        // priority 0 (never ours, but no panic): the whole interval.
        assert_eq!(skew_time(Version::V3, 0, 100), Duration::from_secs(1));
    }

    #[test]
    fn saturating() {
        let t = Timestamp::from_micros(u64::MAX - 1);
        assert_eq!(t + Duration::from_secs(10), Timestamp::from_micros(u64::MAX));
        assert_eq!(Timestamp::ZERO.saturating_sub(Duration::from_secs(1)), Timestamp::ZERO);
        assert_eq!(Timestamp::ZERO.saturating_duration_since(t), Duration::ZERO);
        assert_eq!(Timestamp::from_duration(Duration::MAX), Timestamp::from_micros(u64::MAX));
    }
}
