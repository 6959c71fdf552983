//! Serde adapters for values written by their names, the one home for every file format
//! built on the library (the desired-state file, the director's configuration):
//!
//! * [`named`] and [`opt_named`]: any value by its text (`Display` to write, `FromStr` to
//!   read), e.g. `#[serde(with = "ipvs::state::names::named")]`;
//! * [`opt_file_name`]: the library's own values by the names files give them
//!   ([`FileName`]: `tcp`, `inet6`, only the kernel's schedulers).
//!
//! ```
//! use ipvs::{Protocol, Scheduler};
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Row {
//!     #[serde(default, with = "ipvs::state::names::opt_file_name")]
//!     protocol: Option<Protocol>,
//!     #[serde(with = "ipvs::state::names::named")]
//!     scheduler: Scheduler,
//! }
//! let row: Row = serde_json::from_str(r#"{"protocol": "TCP", "scheduler": "wrr"}"#).unwrap();
//! assert_eq!(row, Row { protocol: Some(Protocol::Tcp), scheduler: Scheduler::Wrr });
//! assert_eq!(serde_json::to_string(&row).unwrap(), r#"{"protocol":"tcp","scheduler":"wrr"}"#);
//! assert!(serde_json::from_str::<Row>(r#"{"protocol": "tcp", "scheduler": "nosuch"}"#).is_ok());
//! assert!(serde_json::from_str::<Row>(r#"{"protocol": "tcp", "scheduler": 1}"#).is_err());
//! ```

use crate::error::InvalidInput;
use crate::model::{Family, Protocol, Scheduler};

/// Values written by their text (`Display`), read by `FromStr`.
pub mod named {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v` as its text.
    pub fn serialize<S: Serializer, T: Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads a string and parses it; the parse error is the message.
    pub fn deserialize<'de, D: Deserializer<'de>, T>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
    {
        let s = String::deserialize(d)?;
        s.parse::<T>().map_err(D::Error::custom)
    }
}

/// [`named`], of an `Option` (a missing field is `None` with `#[serde(default)]`).
pub mod opt_named {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserializer, Serializer};

    /// Writes the value as its text, or nothing.
    pub fn serialize<S: Serializer, T: Display>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    /// Reads a string and parses it.
    pub fn deserialize<'de, D: Deserializer<'de>, T>(d: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
    {
        super::named::deserialize(d).map(Some)
    }
}

/// A library value as files name it (which is not always its `Display`: protocols are
/// written `tcp`, not `TCP`).
pub trait FileName: Sized {
    /// The name a file gives it.
    fn file_name(&self) -> String;
    /// The value a file's name stands for.
    fn from_file_name(s: &str) -> Result<Self, InvalidInput>;
}

impl FileName for Protocol {
    fn file_name(&self) -> String {
        self.name()
    }
    fn from_file_name(s: &str) -> Result<Self, InvalidInput> {
        s.parse()
    }
}

impl FileName for Family {
    fn file_name(&self) -> String {
        self.name().to_owned()
    }
    fn from_file_name(s: &str) -> Result<Self, InvalidInput> {
        s.parse()
    }
}

impl FileName for Scheduler {
    fn file_name(&self) -> String {
        self.name().to_owned()
    }
    /// Only the kernel's own schedulers: a misspelt name is an error here, not an ENOENT
    /// from the kernel halfway through an apply.
    fn from_file_name(s: &str) -> Result<Self, InvalidInput> {
        match s.parse()? {
            Scheduler::Other(name) => {
                let known: Vec<String> = Scheduler::known().map(|k| k.name().to_owned()).collect();
                Err(InvalidInput::new("scheduler", name, format!("unknown scheduler (known: {})", known.join(", "))))
            }
            known => Ok(known),
        }
    }
}

/// Optional library values by their [`FileName`]s.
pub mod opt_file_name {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::FileName;

    /// Writes the value's file name, or nothing.
    pub fn serialize<S: Serializer, T: FileName>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&v.file_name()),
            None => s.serialize_none(),
        }
    }

    /// Reads a file name.
    pub fn deserialize<'de, D: Deserializer<'de>, T: FileName>(d: D) -> Result<Option<T>, D::Error> {
        let s = String::deserialize(d)?;
        T::from_file_name(&s).map(Some).map_err(D::Error::custom)
    }
}
