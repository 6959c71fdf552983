//! The native file: TOML read into a [`Config`] with every problem placed at its line,
//! column and field path, and a [`Config`] written back.

mod convert;
mod raw;
mod write;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{Config, ConfigError, Problem, ValidationError};
use raw::RawConfig;

/// Line and column (from 1) of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let column = before.chars().count()
        - before.rfind('\n').map_or(0, |i| before.get(..=i).map_or(0, |b| b.chars().count()))
        + 1;
    (line, column)
}

/// The path's components: keys and indexes (`a.b[2].c` → a, b, 2, c).
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut pieces = part.split('[');
        if let Some(key) = pieces.next().filter(|k| !k.is_empty()) {
            out.push(Step::Key(key));
        }
        for idx in pieces {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Step::Index(i));
            }
        }
    }
    out
}

/// Where a field path is in the file: the deepest part of it the file has (a missing field
/// places the error at its table).
pub(crate) fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let doc = DeTable::parse(text).ok()?;
    let mut span = None;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    for step in steps(path) {
        let next = match (step, table, value.map(Spanned::get_ref)) {
            (Step::Key(k), Some(t), _) => {
                let found = t.iter().find(|(key, _)| key.get_ref().as_ref() == k);
                if let Some((key, _)) = found {
                    span = Some(key.span());
                }
                found.map(|(_, v)| v)
            }
            (Step::Index(i), _, Some(DeValue::Array(a))) => {
                let v = a.get(i);
                if let Some(v) = v {
                    span = Some(v.span());
                }
                v
            }
            _ => None,
        };
        let Some(v) = next else { break };
        value = Some(v);
        table = match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    span.map(|s| line_of(text, s.start))
}

fn toml_problem(text: &str, e: &toml::de::Error, path: Option<String>) -> Problem {
    let at = e.span().map(|s| line_of(text, s.start));
    Problem { line: at.map(|a| a.0), column: at.map(|a| a.1), path, message: e.message().trim_end().to_owned() }
}

impl Config {
    /// Reads a native configuration file's text: its types and field names as it is read,
    /// then how its fields combine ([`Config::validate`]). Every problem found names its
    /// line, column and field path.
    ///
    /// ```
    /// use ipvs_director::config::Config;
    /// let c = Config::from_toml(r#"
    /// [[virtual_servers]]
    /// protocol = "tcp"
    /// address = "192.0.2.10"
    /// port = 80
    /// scheduler = "rr"
    ///
    /// [[virtual_servers.real_servers]]
    /// address = "198.51.100.11"
    ///
    /// [[virtual_servers.real_servers.tcp_check]]
    /// connect_timeout = 3
    /// "#)?;
    /// let vs = &c.virtual_servers[0];
    /// assert_eq!(vs.services(&c.virtual_server_groups)[0].scheduler.name(), "rr");
    /// let err = Config::from_toml("[[virtual_servers]]\nprotocol = \"tcp\"\nadress = \"192.0.2.10\"\n").unwrap_err();
    /// assert!(err.to_string().starts_with("3:1: virtual_servers[0].adress: unknown field `adress`"), "{err}");
    /// # Ok::<(), ipvs_director::config::ConfigError>(())
    /// ```
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let de = toml::Deserializer::parse(text).map_err(|e| ConfigError::one(toml_problem(text, &e, None)))?;
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let mut p = toml_problem(text, &inner, Some(path));
            if p.line.is_none() {
                if let Some((line, column)) = p.path.as_deref().and_then(|path| locate(text, path)) {
                    (p.line, p.column) = (Some(line), Some(column));
                }
            }
            ConfigError::one(p)
        })?;
        let placed = |errors: Vec<ValidationError>| ConfigError {
            file: None,
            problems: errors
                .into_iter()
                .map(|e| {
                    let at = locate(text, &e.path);
                    Problem {
                        line: at.map(|a| a.0),
                        column: at.map(|a| a.1),
                        path: Some(e.path.clone()),
                        message: e.to_string(),
                    }
                })
                .collect(),
        };
        let config = raw.into_config().map_err(placed)?;
        config.validate().map_err(|e| placed(e.0))?;
        Ok(config)
    }

    /// Reads a native configuration file; errors name the file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::one(Problem { line: None, column: None, path: None, message: format!("cannot read it: {e}") })
                .in_file(name.clone())
        })?;
        Config::from_toml(&text).map_err(|e| e.in_file(name))
    }

    /// The configuration as a native file (defaults left out; the scheduler always
    /// written). Reading it back gives the same configuration.
    pub fn to_toml(&self) -> String {
        toml::to_string(&RawConfig::from(self)).unwrap_or_default()
    }
}

impl Serialize for Config {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RawConfig::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Config {
    /// The native schema, checked and validated (without positions: see
    /// [`Config::from_toml`] for those).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Config, D::Error> {
        let raw = RawConfig::deserialize(d)?;
        let config = raw.into_config().map_err(|e| D::Error::custom(super::ValidationErrors(e)))?;
        config.validate().map_err(D::Error::custom)?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_keys_array_elements_and_falls_back_to_the_table() {
        let text = "[global]\nlog_all_failures = true\n\n[[virtual_servers]]\nprotocol = \"tcp\"\n\n[[virtual_servers]]\nfwmark = 5\n\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.1\"\n";
        assert_eq!(locate(text, "global.log_all_failures"), Some((2, 1)));
        assert_eq!(locate(text, "virtual_servers[1].fwmark"), Some((8, 1)));
        assert_eq!(locate(text, "virtual_servers[1].real_servers[0].address"), Some((11, 1)));
        let missing = locate(text, "virtual_servers[1].real_servers[0].weight").unwrap();
        assert_eq!(missing.0, 10, "{missing:?}");
        assert_eq!(locate("not toml [", "x"), None);
        assert_eq!(line_of("ab\ncd", 4), (2, 2));
        assert_eq!(line_of("é\nx", 100), (2, 2));
    }
}
