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

/// The largest native file read: [`Config::load`] refuses a larger one, naming the limit,
/// rather than reading without end. The same as a keepalived.conf file's
/// ([`crate::keepalived::MAX_FILE_BYTES`], 32 MiB).
pub const MAX_FILE_BYTES: u64 = crate::keepalived::MAX_FILE_BYTES;

use ipvs::state::{line_of, LineIndex};

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

#[cfg(test)]
thread_local! {
    /// How many times this thread parsed a document to place errors.
    static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Places field paths in one document: it is parsed (with spans) once, on the first
/// question, and its line starts indexed once, however many errors are placed.
pub(crate) struct Locator<'a> {
    text: &'a str,
    doc: Option<Option<Spanned<DeTable<'a>>>>,
    lines: Option<LineIndex>,
}

impl<'a> Locator<'a> {
    /// A locator for `text`; nothing is parsed yet.
    pub(crate) fn new(text: &'a str) -> Locator<'a> {
        Locator { text, doc: None, lines: None }
    }

    /// Line and column (from 1) of a byte offset.
    pub(crate) fn line_of(&mut self, offset: usize) -> (usize, usize) {
        let text = self.text;
        self.lines.get_or_insert_with(|| LineIndex::new(text)).at(text, offset)
    }

    /// Where a field path is in the file: the deepest part of it the file has (a missing
    /// field places the error at its table).
    pub(crate) fn locate(&mut self, path: &str) -> Option<(usize, usize)> {
        let text = self.text;
        let doc = self.doc.get_or_insert_with(|| {
            #[cfg(test)]
            PARSES.with(|p| p.set(p.get() + 1));
            DeTable::parse(text).ok()
        });
        let doc = doc.as_ref()?;
        let mut span = None;
        let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
        let mut value: Option<&Spanned<DeValue<'_>>> = None;
        for step in steps(path) {
            let next = match (step, table, value.map(Spanned::get_ref)) {
                (Step::Key(k), Some(t), _) => {
                    let found = t.get_key_value(k);
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
        let start = span?.start;
        Some(self.line_of(start))
    }
}

/// Where a field path is in the file (see [`Locator::locate`]; to place many, keep one
/// [`Locator`]).
pub(crate) fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    Locator::new(text).locate(path)
}

fn toml_problem(text: &str, e: &toml::de::Error, path: Option<String>) -> Problem {
    let at = e.span().map(|s| line_of(text, s.start));
    let message = compact_numbers(e.message().trim_end());
    Problem { line: at.map(|a| a.0), column: at.map(|a| a.1), path, message }
}

/// The message with each number of more than 17 digits (serde shows a float given where an
/// integer is wanted in full: `1e300` as 301 digits) in exponent form.
fn compact_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut rest = message;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let mut end = digits(from);
        if from.get(end..end + 1) == Some(".") && from.get(end + 1..).is_some_and(|f| digits(f) > 0) {
            end += 1 + digits(from.get(end + 1..).unwrap_or_default());
        }
        let (number, after) = from.split_at(end);
        let many = number.bytes().filter(u8::is_ascii_digit).count() > 17;
        match number.parse::<f64>() {
            Ok(v) if many => out.push_str(&crate::config::serde_util::compact(v)),
            _ => out.push_str(number),
        }
        rest = after;
    }
    out.push_str(rest);
    out
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
        // One parse with spans places every error, however many there are.
        let placed = |errors: Vec<ValidationError>| {
            let mut locator = Locator::new(text);
            ConfigError {
                file: None,
                problems: errors
                    .into_iter()
                    .map(|e| {
                        let at = locator.locate(&e.path);
                        Problem {
                            line: at.map(|a| a.0),
                            column: at.map(|a| a.1),
                            path: Some(e.path.clone()),
                            message: e.to_string(),
                        }
                    })
                    .collect(),
            }
        };
        let config = raw.into_config().map_err(placed)?;
        config.validate().map_err(|e| placed(e.0))?;
        Ok(config)
    }

    /// Reads a native configuration file; errors name the file. Only a regular file of at
    /// most [`MAX_FILE_BYTES`] is read: a FIFO, a device, a directory or a kernel
    /// pseudo-file (`/proc/...`) is refused as "not a regular file" without waiting on it,
    /// and its contents are never quoted.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let refused = |message: String| {
            ConfigError::one(Problem { line: None, column: None, path: None, message }).in_file(name.clone())
        };
        let bytes = ipvs::fs::read_regular_file(path, MAX_FILE_BYTES).map_err(|e| match e {
            ipvs::fs::ReadFileError::NotRegular { what, .. } => refused(format!("not a regular file ({what})")),
            ipvs::fs::ReadFileError::TooLarge { limit, .. } => {
                refused(format!("larger than the limit of {limit} bytes"))
            }
            ipvs::fs::ReadFileError::Io { source, .. } => refused(format!("cannot read it: {source}")),
            other => refused(other.to_string()),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let (line, column) = line_of(&String::from_utf8_lossy(e.as_bytes()), e.utf8_error().valid_up_to());
            ConfigError::one(Problem {
                line: Some(line),
                column: Some(column),
                path: None,
                message: "not UTF-8 text".to_owned(),
            })
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
        assert_eq!(line_of("é\nx", 1), (1, 1));
        assert_eq!(line_of("", 0), (1, 1));
    }

    #[test]
    fn long_numbers_in_messages_are_compact() {
        let long = format!("floating point `1{}.0`, expected u32", "0".repeat(300));
        assert_eq!(compact_numbers(&long), "floating point `1e300`, expected u32");
        let tiny = format!("`0.{}1`", "0".repeat(299));
        assert_eq!(compact_numbers(&tiny), "`1e-300`");
        assert_eq!(compact_numbers("port 80 and 1.5 s, v1.2.3."), "port 80 and 1.5 s, v1.2.3.");
        assert_eq!(compact_numbers("é 123456789012345678 x"), "é 1.2345678901234568e17 x");
        let err = Config::from_toml("[global]\ntimeouts = { tcp = 1e300 }\n").unwrap_err().to_string();
        assert!(err.contains("1e300") && err.len() < 200, "{err}");
        let err = Config::from_toml("[[virtual_servers]]\nport = -1e300\n").unwrap_err().to_string();
        assert!(err.contains("-1e300") && err.len() < 200, "{err}");
    }

    #[test]
    fn many_errors_are_placed_with_one_parse() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!(
                "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"10.0.0.{}\"\nport = {}\nquorum = 5\n\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.1\"\n\n",
                i % 250 + 1,
                i + 1
            ));
        }
        PARSES.with(|p| p.set(0));
        let err = Config::from_toml(&text).unwrap_err();
        assert_eq!(err.problems.len(), 200);
        assert_eq!(PARSES.with(|p| p.get()), 1);
        assert_eq!((err.problems[199].line, err.problems[199].column), (Some(199 * 9 + 5), Some(1)));
    }
}
