//! Errors of the keepalived.conf reader: each names the file, the line and the keyword.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a statement is: its file and line (from 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    /// The file, as reached (the main file's path as given, includes joined to their
    /// including file's directory).
    pub file: Arc<PathBuf>,
    /// The line, from 1 (0: the file as a whole).
    pub line: usize,
}

/// A statement of keepalived.conf the director cannot take, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct KeepalivedError {
    /// The file.
    pub file: PathBuf,
    /// The line, from 1 (0: the file as a whole, e.g. it cannot be read).
    pub line: usize,
    /// The statement's keyword (`lb_algo`, `real_server`, ...); empty for the file as a whole.
    pub keyword: String,
    /// Why it is refused.
    pub reason: String,
}

impl KeepalivedError {
    pub(crate) fn new(loc: &Loc, keyword: impl Into<String>, reason: impl Into<String>) -> KeepalivedError {
        KeepalivedError { file: (*loc.file).clone(), line: loc.line, keyword: keyword.into(), reason: reason.into() }
    }
}

impl fmt::Display for KeepalivedError {
    /// `FILE:LINE: KEYWORD: why`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.keyword.is_empty() {
            write!(f, ": {}", self.keyword)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Every problem found in a keepalived.conf (at least one), in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct KeepalivedErrors(pub Vec<KeepalivedError>);

impl fmt::Display for KeepalivedErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let loc = Loc { file: Arc::new(PathBuf::from("/etc/keepalived/k.conf")), line: 7 };
        let e = KeepalivedError::new(&loc, "lb_algo", "unknown scheduler \"xx\"");
        assert_eq!(e.to_string(), "/etc/keepalived/k.conf:7: lb_algo: unknown scheduler \"xx\"");
        let whole = KeepalivedError { line: 0, keyword: String::new(), ..e };
        assert_eq!(whole.to_string(), "/etc/keepalived/k.conf: unknown scheduler \"xx\"");
    }
}
