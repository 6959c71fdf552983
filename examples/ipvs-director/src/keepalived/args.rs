//! Reading statements' arguments as keepalived reads them (numbers, timers, booleans,
//! addresses, commands), every problem an error at the statement.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use super::error::{KeepalivedError, KeepalivedWarning, Loc};
use super::lexer::MAX_ERRORS;
use super::tree::Node;
use crate::config::{split_words, Script};

/// Ends the warnings for what keepalived 2.2.7 does without a word (it reads only the words
/// a keyword takes, drops a prefix length where an address is meant): the director does the
/// same and says so. (The corpus runner counts these apart: keepalived has no line to match.)
pub(crate) const SILENT: &str = "without a word";

/// Where a native field came from: the location and keyword of a statement.
pub(crate) type Place = (Loc, String);

/// The place of statement `n`.
pub(crate) fn place_of(n: &Node) -> Place {
    (n.loc.clone(), n.keyword().to_owned())
}

/// The conversion's state: problems found, and where each native field came from (to place
/// the native validation's problems at their keepalived line).
#[derive(Default)]
pub(crate) struct Ctx {
    pub errors: Vec<KeepalivedError>,
    pub places: HashMap<String, Place>,
    /// Errors found before the conversion (they count toward [`MAX_ERRORS`]).
    pub prior: usize,
    /// Set when the errors reached [`MAX_ERRORS`]: the last error, saying so.
    pub stop: Option<KeepalivedError>,
    /// Warnings: statements taken with a fallback or without effect (at most
    /// [`MAX_ERRORS`]; `unlisted` counts the rest).
    pub warnings: Vec<KeepalivedWarning>,
    /// Warnings past [`MAX_ERRORS`], counted only.
    pub unlisted: usize,
    /// The line of each top-level `vrrp_script` by name (the first of a name), to say when
    /// a tracked script is defined after the instance that tracks it.
    pub script_lines: HashMap<String, usize>,
}

impl Ctx {
    pub fn err(&mut self, n: &Node, reason: impl Into<String>) {
        if self.stop.is_some() {
            return;
        }
        if self.prior + self.errors.len() >= MAX_ERRORS {
            let why = format!("too many errors; stopped after {MAX_ERRORS}");
            self.stop = Some(KeepalivedError::new(&n.loc, "", why));
            return;
        }
        self.errors.push(KeepalivedError::new(&n.loc, n.keyword(), reason));
    }

    /// Records a warning at statement `n`: what was done with it.
    pub fn warn(&mut self, n: &Node, what: impl Into<String>) {
        self.warn_at(&n.loc, n.keyword(), what);
    }

    /// Records a warning at `loc` (keyword `keyword`).
    pub fn warn_at(&mut self, loc: &Loc, keyword: &str, what: impl Into<String>) {
        if self.warnings.len() >= MAX_ERRORS {
            self.unlisted += 1;
            return;
        }
        self.warnings.push(KeepalivedWarning::new(loc, keyword, what));
    }

    /// Records a warning at the statement the native field at `path` came from (none when
    /// no statement gave it).
    pub fn warn_for(&mut self, path: &str, what: impl Into<String>) {
        if let Some((loc, keyword)) = self.places.get(path).cloned() {
            self.warn_at(&loc, &keyword, what);
        }
    }

    /// Records that the native field at `path` comes from statement `n`.
    pub fn place(&mut self, path: impl Into<String>, n: &Node) {
        self.places.insert(path.into(), place_of(n));
    }

    /// Records that the native field at `path` comes from the statement at `from`.
    pub fn place_from(&mut self, path: impl Into<String>, from: Place) {
        self.places.insert(path.into(), from);
    }

    /// Moves the places recorded under the native path `from` (an entry of a list, such as
    /// `vrrp_scripts[3]`) to `to`, when an entry before it was taken out of the list.
    pub fn move_places(&mut self, from: &str, to: &str) {
        if from == to {
            return;
        }
        let under = |k: &str, p: &str| k == p || k.strip_prefix(p).is_some_and(|r| r.starts_with('.'));
        let moved: Vec<(String, Place)> = self
            .places
            .iter()
            .filter(|(k, _)| under(k, from))
            .map(|(k, v)| (format!("{to}{}", &k[from.len()..]), v.clone()))
            .collect();
        self.places.retain(|k, _| !under(k, from) && !under(k, to));
        self.places.extend(moved);
    }

    /// Refuses a block after a statement that takes none.
    pub fn no_block(&mut self, n: &Node) -> bool {
        if n.block.is_some() {
            self.err(n, "takes no block");
            return false;
        }
        true
    }

    /// The statement's block (an error, and an empty one, if it has none).
    pub fn block<'a>(&mut self, n: &'a Node) -> &'a [Node] {
        match &n.block {
            Some(b) => b,
            None => {
                self.err(n, "needs a { ... } block");
                &[]
            }
        }
    }

    /// Checks the number of arguments. Too few is an error; words past `max` are ignored
    /// with a warning, as keepalived 2.2.7 reads only the words a keyword takes and ignores
    /// the rest without a word (`connect_ip 192.0.2.1 192.0.2.2`, a value followed by a `//`
    /// remark).
    pub fn count(&mut self, n: &Node, min: usize, max: usize) -> bool {
        let c = n.args().len();
        if c > max && max > 0 {
            let extra = n.args()[max..].join(" ");
            let took = if max == 1 { "its first word".to_owned() } else { format!("its first {max} words") };
            self.warn(
                n,
                format!(
                    "takes {max} word{}: {took} read, {extra:?} ignored, as keepalived ignores it {SILENT}",
                    if max == 1 { "" } else { "s" }
                ),
            );
            return self.no_block(n);
        }
        if c < min || c > max {
            let want = match (min, max) {
                (0, 0) => "no argument".to_owned(),
                (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                (a, usize::MAX) => format!("at least {a} arguments"),
                (a, b) => format!("{a} to {b} arguments"),
            };
            self.err(n, format!("takes {want}, not {c}"));
            return false;
        }
        self.no_block(n)
    }

    /// A keyword that takes no argument. keepalived ignores an argument of these without a
    /// word (so `alpha off` turns alpha on): so does the director, with a warning saying so.
    pub fn bare(&mut self, n: &Node) -> bool {
        if !n.args().is_empty() {
            let what = format!(
                "takes no argument: {:?} ignored and the keyword taken, as keepalived takes it {SILENT} (so `off` turns it on)",
                n.args().join(" ")
            );
            self.warn(n, what);
        }
        self.no_block(n)
    }

    /// One statement of each kind per block: the first's line is kept in `seen`.
    pub fn once(&mut self, seen: &mut HashMap<String, usize>, key: &str, n: &Node) -> bool {
        if let Some(line) = seen.get(key) {
            self.err(n, format!("given twice in this block (first at line {line})"));
            return false;
        }
        seen.insert(key.to_owned(), n.loc.line);
        true
    }

    /// An unsigned number in `min..=max` (digits only).
    pub fn uint(&mut self, n: &Node, i: usize, min: u64, max: u64) -> Option<u64> {
        let Some(text) = n.arg(i) else {
            self.err(n, "a number is missing");
            return None;
        };
        match parse_uint(text) {
            Some(v) if (min..=max).contains(&v) => Some(v),
            Some(v) => {
                self.err(n, format!("{v} is not within {min}..={max}"));
                None
            }
            None => {
                self.err(n, format!("{text:?} is not a number"));
                None
            }
        }
    }

    /// A signed number in `min..=max`.
    pub fn int(&mut self, n: &Node, i: usize, min: i64, max: i64) -> Option<i64> {
        let text = n.arg(i).unwrap_or_default();
        let (neg, digits) = match text.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, text),
        };
        let v = parse_uint(digits).and_then(|v| i64::try_from(v).ok()).map(|v| if neg { -v } else { v });
        match v {
            Some(v) if (min..=max).contains(&v) => Some(v),
            _ => {
                self.err(n, format!("{text:?} is not a number within {min}..={max}"));
                None
            }
        }
    }

    /// A timer: seconds with up to 6 decimal places, within `min..=max`.
    pub fn timer(&mut self, n: &Node, i: usize, min: Duration, max: Duration) -> Option<Duration> {
        let text = n.arg(i).unwrap_or_default();
        match parse_timer(text) {
            Some(d) if d >= min && d <= max => Some(d),
            Some(_) => {
                let (lo, hi) = (min.as_secs_f64(), max.as_secs_f64());
                self.err(n, format!("{text} s is not within {lo}..={hi} s"));
                None
            }
            None => {
                self.err(n, format!("{text:?} is not a time in seconds (up to 6 decimal places)"));
                None
            }
        }
    }

    /// A keyword with an optional boolean (`on|off|true|false|yes|no`); none means true.
    pub fn flag(&mut self, n: &Node) -> Option<bool> {
        if !self.count(n, 0, 1) {
            return None;
        }
        match n.arg(0) {
            None => Some(true),
            Some("true" | "on" | "yes") => Some(true),
            Some("false" | "off" | "no") => Some(false),
            // keepalived 2.2.7: "Invalid inhibit_on_failure parameter x", the keyword not
            // taken.
            Some(other) => {
                self.warn(n, format!("{other:?} is not on, off, true, false, yes or no: the keyword ignored, as keepalived ignores it"));
                None
            }
        }
    }

    /// An address.
    pub fn ip(&mut self, n: &Node, i: usize) -> Option<IpAddr> {
        let text = n.arg(i).unwrap_or_default();
        match text.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.err(n, format!("{text:?} is not an IP address"));
                None
            }
        }
    }

    /// A command as keepalived reads script keywords (`notify_up`, `quorum_up`,
    /// `misc_path`, `script`): the arguments split into words with quotes and escapes; the
    /// first word is the command line, split again; with `user`, the next words are the user
    /// and group that run it.
    pub fn script(&mut self, n: &Node, user: bool) -> Option<Script> {
        if !self.no_block(n) {
            return None;
        }
        let words = match split_words(&n.raw) {
            Ok(w) => w,
            Err(e) => {
                self.err(n, format!("cannot split the command: {e}"));
                return None;
            }
        };
        let max = if user { 3 } else { 1 };
        if words.is_empty() || words.len() > max {
            let why = if user {
                "takes a command (quoted if it has arguments) and optionally a user and a group"
            } else {
                "takes one command (quote it if it has arguments: keepalived ignores words after the first)"
            };
            self.err(n, why);
            return None;
        }
        let argv = match words.first().map(|w| split_words(w)) {
            Some(Ok(a)) if !a.is_empty() => a,
            Some(Err(e)) => {
                self.err(n, format!("cannot split the command: {e}"));
                return None;
            }
            _ => {
                self.err(n, "the command is empty");
                return None;
            }
        };
        let mut s = Script::new(argv);
        s.user = words.get(1).cloned();
        s.group = words.get(2).cloned();
        Some(s)
    }
}

/// Digits only, no sign.
pub(crate) fn parse_uint(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Seconds with up to 6 decimal places.
pub(crate) fn parse_timer(text: &str) -> Option<Duration> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if (whole.is_empty() && frac.is_empty()) || frac.len() > 6 {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return None;
    }
    let secs: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let micros: u64 = if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().ok()? };
    let d = Duration::from_secs(secs).checked_add(Duration::from_micros(micros))?;
    (d <= crate::config::defaults::MAX_TIMER).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers() {
        assert_eq!(parse_timer("60"), Some(Duration::from_secs(60)));
        assert_eq!(parse_timer("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_timer(".000001"), Some(Duration::from_micros(1)));
        assert_eq!(parse_timer("3."), Some(Duration::from_secs(3)));
        for bad in ["", ".", "-1", "1.0000001", "1e3", "12abc", "+1", "99999999999999999999"] {
            assert_eq!(parse_timer(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_uint("007"), Some(7));
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_uint("1x"), None);
        assert_eq!(parse_uint("99999999999999999999999"), None);
    }
}
