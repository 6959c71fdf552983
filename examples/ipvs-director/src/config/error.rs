//! Errors: a configuration that does not hold together ([`ValidationError`], by field
//! path), and a native file that cannot be read ([`ConfigError`], by file, line and column).

use std::fmt;

/// One problem with a configuration: where (the field's path in the native file, such as
/// `virtual_servers[0].real_servers[2].weight`), the value, and why it is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The field's path.
    pub path: String,
    /// The refused value, as text (empty when a value is missing).
    pub value: String,
    /// Why it is refused.
    pub reason: String,
}

impl ValidationError {
    /// A problem with the value at `path`.
    pub fn new(path: impl Into<String>, value: impl fmt::Display, reason: impl Into<String>) -> ValidationError {
        ValidationError { path: path.into(), value: value.to_string(), reason: reason.into() }
    }

    /// The last component of the path (`weight` of `...real_servers[2].weight`), without
    /// any index.
    pub fn field(&self) -> &str {
        let last = self.path.rsplit('.').next().unwrap_or(&self.path);
        last.split('[').next().unwrap_or(last)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}: {}", self.path, self.reason)
        } else {
            write!(f, "{} = {}: {}", self.path, self.value, self.reason)
        }
    }
}

/// Every problem found checking a configuration (at least one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        one_per_line(f, &self.0)
    }
}

/// Writes `items`, one per line (no newline after the last): how a list of errors is shown.
pub(crate) fn one_per_line<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str("\n")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

/// One problem in a native file: where it is (line and column from 1, where known; the
/// field's path) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line.
    pub line: Option<usize>,
    /// The column.
    pub column: Option<usize>,
    /// The field's path, where known.
    pub path: Option<String>,
    /// What is wrong, naming the value.
    pub message: String,
}

/// A native configuration file that cannot be used: its name and every problem found.
///
/// ```
/// use ipvs_director::config::Config;
/// let err = Config::from_toml("[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\nquorum = 0\n\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.11\"\n").unwrap_err();
/// assert_eq!(err.to_string(), "5:1: virtual_servers[0].quorum = 0: must be at least 1");
/// assert!(err.in_file("d.toml").to_string().starts_with("d.toml:5:1: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file's name, where known.
    pub file: Option<String>,
    /// The problems (at least one).
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// The same error, naming the file.
    pub fn in_file(mut self, file: impl Into<String>) -> ConfigError {
        self.file = Some(file.into());
        self
    }

    pub(crate) fn one(problem: Problem) -> ConfigError {
        ConfigError { file: None, problems: vec![problem] }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            let mut placed = false;
            if let Some(file) = &self.file {
                write!(f, "{file}:")?;
                placed = true;
            }
            if let Some(line) = p.line {
                write!(f, "{line}:")?;
                if let Some(col) = p.column {
                    write!(f, "{col}:")?;
                }
                placed = true;
            }
            if placed {
                f.write_str(" ")?;
            }
            match &p.path {
                Some(path) if !path.is_empty() && path != "." && !p.message.starts_with(path.as_str()) => {
                    write!(f, "{path}: {}", p.message)?
                }
                _ => f.write_str(&p.message)?,
            }
        }
        Ok(())
    }
}

/// A value written as text that does not parse: an HTTP protocol, status codes, a digest, a
/// DNS type, an address or prefix (from the native file and keepalived.conf alike).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Not `1.0`, `1.0C` or `1.1`.
    #[error("unknown HTTP protocol {0:?} (expected 1.0, 1.0C or 1.1)")]
    HttpProtocol(String),
    /// An empty set of status codes.
    #[error("no status code")]
    NoStatusCode,
    /// A status code word that is not a number or a range of numbers.
    #[error("invalid status code {0:?}")]
    StatusCode(String),
    /// A status code or range outside 100-599 (or backwards).
    #[error("status code {} is not within 100-599", if .0 == .1 { .0.to_string() } else { format!("{}-{}", .0, .1) })]
    StatusOutOfRange(u16, u16),
    /// Not 32 hexadecimal digits.
    #[error("digest {0:?} must be 32 hexadecimal digits")]
    Digest(String),
    /// A DNS type name that is none of DNS_CHECK's types.
    #[error("unknown DNS type {0:?} (expected one of {names})", names = super::DnsType::ALL.iter().map(|r| r.1).collect::<Vec<_>>().join(", "))]
    DnsType(String),
    /// Not an IP address.
    #[error("{0:?} is not an IP address")]
    Address(String),
    /// A prefix length past the address's bits.
    #[error("invalid prefix length {0:?}")]
    PrefixLength(String),
}
