//! Field formats shared by the native file's types: timers in seconds, the library's named
//! values (scheduler, protocol, ...), addresses with a prefix length.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

use super::defaults;

/// A number as a message shows it: as written when of ordinary size, else in exponent form
/// (`1e300`, not 301 digits; `1e-300`), `inf` and `NaN` by name.
pub(crate) fn compact(v: f64) -> String {
    let size = v.abs();
    if v.is_finite() && size != 0.0 && !(1e-6..1e15).contains(&size) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A timer from seconds (an integer, or a float with up to microsecond precision).
pub(crate) fn duration_from_secs(secs: f64) -> Result<Duration, String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("a time must be a non-negative number of seconds, not {}", compact(secs)));
    }
    let micros = (secs * 1e6).round();
    if micros > defaults::MAX_TIMER.as_micros() as f64 {
        return Err(format!(
            "{} s is longer than the longest time ({} s)",
            compact(secs),
            defaults::MAX_TIMER.as_secs()
        ));
    }
    Ok(Duration::from_micros(micros as u64))
}

/// Seconds as written: an integer when whole.
pub(crate) fn serialize_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    if d.subsec_nanos() == 0 {
        s.serialize_u64(d.as_secs())
    } else {
        s.serialize_f64(d.as_micros() as f64 / 1e6)
    }
}

struct SecsVisitor;

impl Visitor<'_> for SecsVisitor {
    type Value = Duration;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of seconds")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        if v < 0 {
            return Err(E::custom(format!("a time must not be negative, not {v}")));
        }
        self.visit_u64(v.unsigned_abs())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        if v > defaults::MAX_TIMER.as_secs() {
            return Err(E::custom(format!(
                "{v} s is longer than the longest time ({} s)",
                defaults::MAX_TIMER.as_secs()
            )));
        }
        Ok(Duration::from_secs(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        duration_from_secs(v).map_err(E::custom)
    }
}

/// `Duration` as seconds.
pub(crate) mod secs {
    use super::*;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        serialize_duration(d, s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_any(SecsVisitor)
    }
}

/// `Option<Duration>` as seconds (use with `default` and `skip_serializing_if`).
pub(crate) mod opt_secs {
    use super::*;
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => serialize_duration(d, s),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        d.deserialize_any(SecsVisitor).map(Some)
    }
}

/// Values written by their names (`FromStr` and `Display`), plain and as `Option`: the
/// library's adapters.
pub(crate) use ipvs::state::names::{named, opt_named};

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

pub(crate) fn is_zero(v: &u32) -> bool {
    *v == 0
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "secs")]
        d: Duration,
        #[serde(default, with = "opt_secs", skip_serializing_if = "Option::is_none")]
        o: Option<Duration>,
    }

    #[test]
    fn seconds_round_trip() {
        for (text, d) in [("d = 60", Duration::from_secs(60)), ("d = 2.5", Duration::from_millis(2500))] {
            let t: T = toml::from_str(text).unwrap();
            assert_eq!(t.d, d);
            assert_eq!(toml::from_str::<T>(&toml::to_string(&t).unwrap()).unwrap(), t);
        }
        let t: T = toml::from_str("d = 0.0000014\no = 3").unwrap();
        assert_eq!(t.d, Duration::from_micros(1));
        assert_eq!(t.o, Some(Duration::from_secs(3)));
        for bad in ["d = -1", "d = -0.5", "d = 1e30", "d = nan", "d = \"5\"", "d = 2000000000"] {
            assert!(toml::from_str::<T>(bad).is_err(), "{bad}");
        }
        let e = toml::from_str::<T>("d = 1e300").unwrap_err().to_string();
        assert!(e.contains("1e300 s is longer") && e.len() < 200, "{e}");
        assert_eq!([compact(2.5), compact(-1e300), compact(f64::NAN), compact(0.0)], ["2.5", "-1e300", "NaN", "0"]);
        assert_eq!([compact(1.5e20), compact(1e-300), compact(f64::NEG_INFINITY)], ["1.5e20", "1e-300", "-inf"]);
    }
}
