//! Errors of the keepalived.conf reader: each names the file, the line and the keyword.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::lexer::MAX_ERRORS;

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
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
    /// `FILE:LINE: KEYWORD: why`, with every character a terminal would act on (control
    /// characters, ESC, NUL, invisible format characters such as a byte order mark) escaped
    /// as Rust writes it in a string: `\u{1b}`, `\0`, `\u{feff}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", escape(&self.file.display().to_string()))?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.keyword.is_empty() {
            write!(f, ": {}", escape(&self.keyword))?;
        }
        write!(f, ": {}", escape(&self.reason))
    }
}

/// `s` with every character that is not printable escaped as `char::escape_debug` does
/// (`\u{1b}`, `\0`, `\t`, `\u{feff}`); printable characters, backslashes and quotes are
/// kept, so text already quoted with `{:?}` is unchanged. The one escaping used wherever the
/// reader shows file text.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    let plain = |c: char| matches!(c, '\\' | '"' | '\'') || c.escape_debug().next() != Some('\\');
    if s.chars().all(plain) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if plain(c) {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    Cow::Owned(out)
}

/// A statement keepalived takes with a warning and a fallback (or one that has no effect
/// here), and what the reader did with it: `FILE:LINE: warning: KEYWORD: what was done`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeepalivedWarning {
    /// The file.
    pub file: PathBuf,
    /// The line, from 1 (0: the file as a whole).
    pub line: usize,
    /// The statement's keyword; empty for the file as a whole.
    pub keyword: String,
    /// What was done (the fallback taken, or why the statement has no effect).
    pub what: String,
}

impl KeepalivedWarning {
    pub(crate) fn new(loc: &Loc, keyword: impl Into<String>, what: impl Into<String>) -> KeepalivedWarning {
        KeepalivedWarning { file: (*loc.file).clone(), line: loc.line, keyword: keyword.into(), what: what.into() }
    }

    /// The warning as an error (`--strict`: a warning refuses the file).
    pub fn into_error(self) -> KeepalivedError {
        let KeepalivedWarning { file, line, keyword, what } = self;
        KeepalivedError { file, line, keyword, reason: format!("{what} (a warning: refused with --strict)") }
    }
}

impl fmt::Display for KeepalivedWarning {
    /// `FILE:LINE: warning: KEYWORD: what was done`, escaped as errors are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", escape(&self.file.display().to_string()))?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        f.write_str(": warning")?;
        if !self.keyword.is_empty() {
            write!(f, ": {}", escape(&self.keyword))?;
        }
        write!(f, ": {}", escape(&self.what))
    }
}

/// Errors collected while reading, each once (a file included from several places gives
/// its errors once), at most [`MAX_ERRORS`], and the error that stopped the reading (a limit
/// reached), shown last.
#[derive(Default)]
pub(crate) struct Errors {
    pub list: Vec<KeepalivedError>,
    pub stop: Option<KeepalivedError>,
    seen: HashSet<KeepalivedError>,
}

impl Errors {
    /// Records a problem; past [`MAX_ERRORS`], stops the reading instead.
    pub fn push(&mut self, loc: &Loc, keyword: &str, reason: impl Into<String>) {
        if self.stop.is_some() {
            return;
        }
        if self.list.len() >= MAX_ERRORS {
            self.stop = Some(KeepalivedError::new(loc, "", format!("too many errors; stopped after {MAX_ERRORS}")));
            return;
        }
        let e = KeepalivedError::new(loc, keyword, reason);
        if self.seen.insert(e.clone()) {
            self.list.push(e);
        }
    }

    /// Stops the reading (a limit reached): the first reason is kept.
    pub fn stop(&mut self, loc: &Loc, keyword: &str, reason: impl Into<String>) {
        if self.stop.is_none() {
            self.stop = Some(KeepalivedError::new(loc, keyword, reason));
        }
    }

    /// Whether a limit stopped the reading.
    pub fn stopped(&self) -> bool {
        self.stop.is_some()
    }
}

/// Every problem found in a keepalived.conf (at least one), in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct KeepalivedErrors(pub Vec<KeepalivedError>);

impl fmt::Display for KeepalivedErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::config::error::one_per_line(f, &self.0)
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

    #[test]
    fn warning_display() {
        let loc = Loc { file: Arc::new(PathBuf::from("k.conf")), line: 3 };
        let w = KeepalivedWarning::new(&loc, "colour\x1b", "ignored");
        assert_eq!(w.to_string(), "k.conf:3: warning: colour\\u{1b}: ignored");
        assert_eq!(w.into_error().to_string(), "k.conf:3: colour\\u{1b}: ignored (a warning: refused with --strict)");
    }

    #[test]
    fn file_text_is_escaped() {
        assert_eq!(escape("plain \\ \"q\" é"), "plain \\ \"q\" é");
        assert_eq!(escape("\x1b[2J\0\t\u{feff}x\u{7f}"), "\\u{1b}[2J\\0\\t\\u{feff}x\\u{7f}");
        let loc = Loc { file: Arc::new(PathBuf::from("a\nb")), line: 1 };
        assert_eq!(KeepalivedError::new(&loc, "\x1b", "r\r").to_string(), "a\\nb:1: \\u{1b}: r\\r");
    }
}
