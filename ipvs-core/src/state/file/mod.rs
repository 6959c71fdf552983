//! The desired-state file format: a [`Table`] in TOML or JSON, with one schema (see
//! `docs/desired-state.md`). Addresses are strings, schedulers, forwarding methods and flags
//! are named, and defaults are left out when written. Reading checks every value as the
//! client would and names the file's line (where the format has lines), the field and the
//! value of the first bad one.

mod lines;
pub mod names;
mod object;
mod schema;

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use lines::{line_of, LineIndex};
pub(super) use schema::FileTable;
use schema::FileTableIn;

use super::table::Table;

/// A desired-state file that could not be read: where (line and column, where known; the
/// path of the field) and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file's name, as the caller gave it (None until [`FileError::in_file`]).
    pub file: Option<String>,
    /// The line, from 1, where the format and the error tell it.
    pub line: Option<usize>,
    /// The column, from 1, where known.
    pub column: Option<usize>,
    /// The field, as a path (`services[2].destinations[0].weight`), where known.
    pub path: Option<String>,
    /// What was wrong (naming the field and the value).
    pub message: String,
}

impl FileError {
    /// The same error, naming the file.
    pub fn in_file(mut self, file: impl Into<String>) -> FileError {
        self.file = Some(file.into());
        self
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
        }
        if let Some(line) = self.line {
            write!(f, "{line}:")?;
            if let Some(col) = self.column {
                write!(f, "{col}:")?;
            }
        }
        if self.file.is_some() || self.line.is_some() {
            f.write_str(" ")?;
        }
        match &self.path {
            Some(p) if !p.is_empty() && p != "." => write!(f, "{p}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FileError {}

impl Table {
    /// Reads a desired-state file in TOML.
    ///
    /// ```
    /// use ipvs::state::Table;
    /// let t = Table::from_toml(r#"
    /// [[services]]
    /// protocol = "tcp"
    /// address = "192.0.2.1"
    /// port = 80
    /// scheduler = "wrr"
    ///
    /// [[services.destinations]]
    /// address = "198.51.100.1"
    /// forward = "nat"
    /// weight = 2
    /// "#)?;
    /// assert_eq!(t.to_rules(), "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2\n");
    /// let err = Table::from_toml("[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\nport = 80\nscheduler = \"a-name-longer-than-15\"\n").unwrap_err();
    /// assert_eq!(err.line, Some(5));
    /// assert!(err.to_string().starts_with("5:13: services[0].scheduler: invalid scheduler"), "{err}");
    /// # Ok::<(), ipvs::state::FileError>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<Table, FileError> {
        let de = toml::Deserializer::parse(text).map_err(|e| FileError {
            file: None,
            line: e.span().map(|s| line_of(text, s.start).0),
            column: e.span().map(|s| line_of(text, s.start).1),
            path: None,
            message: e.message().to_owned(),
        })?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let at = inner.span().map(|s| line_of(text, s.start));
            FileError {
                file: None,
                line: at.map(|a| a.0),
                column: at.map(|a| a.1),
                path: Some(path),
                message: inner.message().to_owned(),
            }
        })
    }

    /// Reads a desired-state file in JSON (the same schema as TOML).
    ///
    /// ```
    /// use ipvs::state::Table;
    /// let t = Table::from_json(r#"{"services": [{"fwmark": 7, "family": "inet6", "scheduler": "sh",
    ///     "flags": ["sh-port"], "destinations": [{"address": "2001:db8::1", "port": 80}]}]}"#)?;
    /// assert_eq!(t.to_rules(), "-A -f 7 -6 -s sh -b sh-port\n-a -f 7 -6 -r [2001:db8::1]:80 -g -w 1\n");
    /// let err = Table::from_json("{\"services\": [{\"protocol\": \"tcp\", \"address\": \"192.0.2.1\",\n \"port\": 80, \"destinations\": [{\"address\": \"198.51.100.1\", \"weight\": -1}]}]}").unwrap_err();
    /// assert_eq!(err.line, Some(2));
    /// assert_eq!(err.path.as_deref(), Some("services[0].destinations[0].weight"));
    /// # Ok::<(), ipvs::state::FileError>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Table, FileError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let t = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            FileError {
                file: None,
                line: Some(inner.line()),
                column: Some(inner.column().max(1)), // serde_json says 0 before the first byte
                path: Some(path),
                message: strip_json_position(&inner.to_string()),
            }
        })?;
        de.end().map_err(|e| FileError {
            file: None,
            line: Some(e.line()),
            column: Some(e.column().max(1)),
            path: None,
            message: strip_json_position(&e.to_string()),
        })?;
        Ok(t)
    }

    /// The table as a desired-state file in TOML (defaults left out).
    pub fn to_toml(&self) -> String {
        toml::to_string(&FileTable::from(self)).unwrap_or_default()
    }

    /// The table as a desired-state file in JSON (defaults left out), pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&FileTable::from(self)).unwrap_or_default() + "\n"
    }
}

/// serde_json's message without its own " at line L column C" (the error says them apart).
fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

impl Serialize for Table {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FileTable::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Table {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Table, D::Error> {
        let object::Object(f) = object::Object::<FileTableIn>::deserialize(d)?;
        f.into_table().map_err(D::Error::custom)
    }
}

// ----- the schema -----------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, ServiceId, Timeouts};
    use crate::state::DrainPolicy;

    #[test]
    fn the_parts_serialize_on_their_own_in_the_same_schema() {
        let t = Table::from_rules(SAMPLE).unwrap();
        for e in t.entries() {
            let svc = e.service();
            let json = serde_json::to_string(svc).unwrap();
            assert_eq!(&serde_json::from_str::<crate::model::Service>(&json).unwrap(), svc, "{json}");
            let text = toml::to_string(svc).unwrap();
            assert_eq!(&toml::from_str::<crate::model::Service>(&text).unwrap(), svc, "{text}");
            for d in e.destinations() {
                let json = serde_json::to_string(&d.destination).unwrap();
                assert!(json.contains("\"port\""), "a destination alone names its port: {json}");
                assert_eq!(serde_json::from_str::<crate::model::Destination>(&json).unwrap(), d.destination, "{json}");
            }
        }
        let gue =
            serde_json::to_string(&t.entries().next().unwrap().destinations().nth(2).unwrap().destination).unwrap();
        assert_eq!(
            gue,
            r#"{"address":"198.51.100.3","port":80,"forward":"tunnel","tunnel":"gue","tunnel_port":6080,"tunnel_checksum":"csum"}"#
        );
        let to = Timeouts { tcp: 900, tcp_fin: 120, udp: 300 };
        assert_eq!(serde_json::to_string(&to).unwrap(), r#"{"tcp":900,"tcp_fin":120,"udp":300}"#);
        assert_eq!(serde_json::from_str::<Timeouts>(r#"{"tcp":900,"tcp_fin":120,"udp":300}"#).unwrap(), to);
        // Bad values name the field and the value.
        let e = serde_json::from_str::<crate::model::Service>(
            r#"{"protocol":"tcp","address":"192.0.2.1","port":80,"scheduler":"nope"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("nope"), "{e}");
        let e =
            serde_json::from_str::<crate::model::Destination>(r#"{"address":"198.51.100.1"}"#).unwrap_err().to_string();
        assert!(e.contains("port"), "{e}");
        let e =
            serde_json::from_str::<crate::model::Destination>(r#"{"address":"198.51.100.1","port":80,"weight":-1}"#)
                .unwrap_err()
                .to_string();
        assert!(e.contains("weight") || e.contains("-1"), "{e}");
        let e = serde_json::from_str::<crate::model::Service>(
            r#"{"protocol":"tcp","address":"192.0.2.1","port":80,"destinations":[{"address":"198.51.100.1"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("on its own"), "{e}");
    }

    const SAMPLE: &str = "-A -t 192.0.2.1:80 -s wrr -p 300 -M 255.255.255.0\n\
        -a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 2\n\
        -a -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 1\n\
        -a -t 192.0.2.1:80 -r 198.51.100.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n\
        -A -u [2001:db8::1]:53 -s mh -o -b mh-port\n\
        -a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m -w 0\n\
        -A -f 7 -6 -s rr -p 60 -M 64 --pe sip\n";

    #[test]
    fn toml_and_json_round_trip_a_table() {
        let mut t = Table::from_rules(SAMPLE).unwrap();
        t.set_timeouts(Some(Timeouts { tcp: 900, tcp_fin: 120, udp: 300 }));
        t.entry_mut(&ServiceId::fwmark(7, Family::Inet6)).unwrap().set_drain(Some(DrainPolicy::Delete));
        let toml = t.to_toml();
        assert_eq!(Table::from_toml(&toml).unwrap(), t, "{toml}");
        let json = t.to_json();
        assert_eq!(Table::from_json(&json).unwrap(), t, "{json}");
        // Defaults are left out: no scheduler wlc, forward dr or weight 1 is written.
        assert!(!toml.contains("\"dr\"") && !toml.contains("weight = 1\n"), "{toml}");
    }

    #[test]
    fn bad_files_name_the_line_the_field_and_the_value() {
        let cases: &[(&str, usize, &str)] = &[
            ("[[services]]\nprotocol = \"icmp\"\n", 2, "protocol"),
            ("[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\nport = 80\n\n[[services.destinations]]\naddress = \"198.51.100.1\"\nforward = \"pigeon\"\n", 8, "pigeon"),
            ("[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\nport = 80\ncolour = \"red\"\n", 5, "colour"),
            ("[timeouts]\ntcp = 0\ntcp_fin = 1\nudp = 1\n", 2, "timeout"),
            ("[[services]]\nfwmark = 0\n", 2, "fwmark"),
            ("[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\nport = 80\npersistence = 99999999\n", 5, "persistence"),
        ];
        for &(text, line, word) in cases {
            let e = Table::from_toml(text).unwrap_err();
            assert_eq!(e.line, Some(line), "{text}: {e}");
            assert!(e.to_string().contains(word), "{text}: {e}");
        }
        // Checks across fields: the line of the service.
        let e = Table::from_toml("[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\nport = 0\n").unwrap_err();
        assert!(e.to_string().contains("port"), "{e}");
        assert!(e.line.is_some(), "{e}");
        let e = Table::from_json("{\"services\": [{\"protocol\": \"tcp\", \"address\": \"192.0.2.1\", \"port\": 80},\n {\"protocol\": \"tcp\", \"address\": \"192.0.2.1\", \"port\": 80}]}").unwrap_err();
        assert!(e.to_string().contains("named twice"), "{e}");
        assert_eq!(e.clone().in_file("web.json").to_string().split(':').next(), Some("web.json"));
    }

    #[test]
    fn anything_but_an_object_is_refused_where_an_object_belongs() {
        // serde takes a struct from a sequence by position: `[]` was an empty table, and
        // `["tcp", "192.0.2.1", 80]` a service.
        for text in ["[]", "[[]]", "1", "\"x\"", "null", "true"] {
            let e = Table::from_json(text).unwrap_err();
            assert!(e.message.contains("expected an object"), "{text}: {e}");
            assert_eq!(e.line, Some(1), "{text}: {e}");
        }
        let nested: &[(&str, &str)] = &[
            (r#"{"services": [["tcp", "192.0.2.1", 80]]}"#, "services[0]"),
            (r#"{"timeouts": [900, 120, 300]}"#, "timeouts"),
            (
                r#"{"services": [{"protocol": "tcp", "address": "192.0.2.1", "port": 80, "destinations": [["198.51.100.1", 80]]}]}"#,
                "services[0].destinations[0]",
            ),
        ];
        for &(text, path) in nested {
            let e = Table::from_json(text).unwrap_err();
            assert!(e.message.contains("expected an object"), "{text}: {e}");
            assert_eq!(e.path.as_deref(), Some(path), "{text}: {e}");
        }
        // TOML's top level is always a table, but arrays can stand where tables belong.
        let e = Table::from_toml("services = [[\"tcp\", \"192.0.2.1\", 80]]\n").unwrap_err();
        assert!(e.message.contains("expected an object"), "{e}");
        let e = Table::from_toml("timeouts = [900, 120, 300]\n").unwrap_err();
        assert!(e.message.contains("expected an object"), "{e}");
        assert_eq!(e.path.as_deref(), Some("timeouts"), "{e}");
        // The parts on their own too.
        for text in ["[]", r#"["tcp", "192.0.2.1", 80]"#] {
            assert!(serde_json::from_str::<crate::model::Service>(text)
                .unwrap_err()
                .to_string()
                .contains("expected an object"));
            assert!(serde_json::from_str::<crate::model::Destination>(text)
                .unwrap_err()
                .to_string()
                .contains("expected an object"));
            assert!(serde_json::from_str::<crate::model::Timeouts>(text)
                .unwrap_err()
                .to_string()
                .contains("expected an object"));
        }
        // An object still reads.
        assert_eq!(Table::from_json("{}").unwrap(), Table::new());
    }
}
