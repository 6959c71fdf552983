//! keepalived.conf's lexical rules (after `read_line`, `decomment` and `alloc_strvec_r` in
//! keepalived's lib/parser.c): comments from an unquoted `#` or `!`, `"..."` words, braces
//! as their own tokens wherever they are, and `include` files (and `includer`, `includem`,
//! `includew`, `includeb`, `includea`) read in place; each line goes through keepalived's
//! preprocessor ([`super::preprocess`]) first.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipvs::fs::{read_regular_file, ReadFileError};

use super::error::{Errors, KeepalivedError, KeepalivedWarning, Loc};
use super::glob;
use super::preprocess::{Gen, Preprocessor};
use super::tree::{BlockWarnings, Builder, Node};

/// How deep includes may nest (the main file is depth 1).
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// The most files one reading opens, the main file and every include counted, repeats
/// included (a file included twice counts twice): stops include graphs that multiply.
pub const MAX_FILES: usize = 10_000;
/// The largest file read (the main file or an include), in bytes: 32 MiB.
pub const MAX_FILE_BYTES: u64 = 32 << 20;
/// The most bytes read across all files of one reading, repeats included: 64 MiB.
pub const MAX_TOTAL_BYTES: u64 = 64 << 20;
/// The longest line, in bytes: 1 MiB.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// The most words (keywords and arguments) in one configuration, includes counted: bounds
/// the memory the statements take (each word costs about 60 bytes beside its text).
pub const MAX_WORDS: usize = 2_000_000;
/// The most errors collected: reading stops after this many, with a last error saying so.
pub const MAX_ERRORS: usize = 1_000;

/// What an include variant makes an error rather than a warning (keepalived's
/// `include_check` bits): a file that cannot be read (r), a file that does not exist (m),
/// a wildcard that matches nothing (w), a brace alternative that matches nothing (b).
#[derive(Debug, Clone, Copy, Default)]
struct Checks {
    read: bool,
    missing: bool,
    wildcard: bool,
    brace: bool,
}

/// What keepalived says of an include that is not a regular file, or is executable.
const NOT_REGULAR: &str = "keepalived: \"is not a regular non-executable file - skipping\"";

/// keepalived's `is_include`: `include` then a blank, or `include` and one of `rmwba`
/// then a blank; the keyword and the pattern (the rest of the line).
fn include_of(text: &str) -> Option<(&str, Checks, &str)> {
    let rest = text.strip_prefix("include")?;
    let blank = |c: char| c.is_ascii_whitespace() || c == '\x0b';
    let (kind, rest) = match rest.chars().next()? {
        c if blank(c) => ("include", rest),
        'r' | 'm' | 'w' | 'b' | 'a' if rest.get(1..)?.starts_with(blank) => (text.get(..8)?, rest.get(1..)?),
        _ => return None,
    };
    let all = Checks { read: true, missing: true, wildcard: true, brace: true };
    let checks = match kind.as_bytes().get(7) {
        Some(b'r') => Checks { read: true, ..Checks::default() },
        Some(b'm') => Checks { read: true, missing: true, ..Checks::default() },
        Some(b'w') => Checks { brace: false, ..all },
        Some(b'b') => Checks { read: true, brace: true, ..Checks::default() },
        Some(b'a') => all,
        _ => Checks::default(),
    };
    Some((kind, checks, rest.get(1..)?.trim_start_matches([' ', '\t'])))
}

/// A token of a line: its kind and its byte range in the line.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: (usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Word(String),
    Open,
    Close,
}

/// A file and its includes read into statements, and the problems found. Reading stops at
/// the first limit reached ([`MAX_INCLUDE_DEPTH`], [`MAX_FILES`], [`MAX_FILE_BYTES`],
/// [`MAX_TOTAL_BYTES`], [`MAX_LINE_BYTES`], [`MAX_WORDS`], [`MAX_ERRORS`], the block depth),
/// with one error naming it.
#[derive(Default)]
pub(crate) struct Lexed {
    tree: Builder,
    pre: Preprocessor,
    pub errors: Errors,
    /// What keepalived would warn about while reading (an include skipped).
    pub warnings: Vec<KeepalivedWarning>,
    /// Every file read, in order.
    pub files: Vec<PathBuf>,
    stack: Vec<PathBuf>,
    /// Files opened so far, repeats included.
    reads: usize,
    /// Bytes read so far, all files.
    bytes: u64,
    /// Words read so far.
    words: usize,
}

impl Lexed {
    /// A reading with the configuration id `config_id` (for `@ID` lines).
    pub(crate) fn new(config_id: &str) -> Lexed {
        Lexed { pre: Preprocessor::new(config_id), ..Lexed::default() }
    }

    fn err(&mut self, loc: &Loc, keyword: &str, reason: impl Into<String>) {
        self.errors.push(loc, keyword, reason);
    }

    /// Reads a file (as an include from `from`, or the main file), as a regular file only.
    pub(crate) fn file(&mut self, path: &Path, from: Option<&Loc>) {
        if self.errors.stopped() {
            return;
        }
        let whole = Loc { file: Arc::new(path.to_path_buf()), line: 0 };
        let (at, keyword) = match from {
            Some(l) => (l.clone(), "include"),
            None => (whole, ""),
        };
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            let why = format!(
                "reading stopped: includes nest deeper than {MAX_INCLUDE_DEPTH} files (the include depth limit)"
            );
            return self.errors.stop(&at, keyword, why);
        }
        if self.reads >= MAX_FILES {
            let why = format!(
                "reading stopped: more than {MAX_FILES} files read, repeats included (the file limit; do includes multiply?)"
            );
            return self.errors.stop(&at, keyword, why);
        }
        self.reads += 1;
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canonical) {
            return self.err(&at, keyword, format!("{} includes itself", path.display()));
        }
        // Whoever names the file, its path leads the reason (the main file's error is placed
        // at the file itself, so there it is not repeated).
        let named = |reason: String| match from {
            Some(_) => format!("{}: {reason}", path.display()),
            None => reason,
        };
        let bytes = match read_regular_file(path, MAX_FILE_BYTES) {
            Ok(b) => b,
            Err(ReadFileError::NotRegular { what, .. }) => {
                return self.err(&at, keyword, named(format!("not a regular file ({what})")));
            }
            Err(ReadFileError::TooLarge { limit, .. }) => {
                let why = named(format!("larger than the limit of {limit} bytes (the file size limit)"));
                return self.errors.stop(&at, keyword, format!("reading stopped: {why}"));
            }
            Err(e) => {
                let why = match e {
                    ReadFileError::Io { source, .. } => source.to_string(),
                    other => other.to_string(),
                };
                return self.err(&at, keyword, format!("cannot read {}: {why}", path.display()));
            }
        };
        if !self.count_bytes(bytes.len(), &at, keyword) {
            return;
        }
        self.stack.push(canonical);
        self.files.push(path.to_path_buf());
        self.lines(&bytes, path);
        self.stack.pop();
    }

    /// Counts bytes read against [`MAX_TOTAL_BYTES`]; false (and the reading stopped) past it.
    fn count_bytes(&mut self, n: usize, at: &Loc, keyword: &str) -> bool {
        self.bytes = self.bytes.saturating_add(n as u64);
        if self.bytes > MAX_TOTAL_BYTES {
            let why =
                format!("reading stopped: more than {MAX_TOTAL_BYTES} bytes read in all files (the total size limit)");
            self.errors.stop(at, keyword, why);
            return false;
        }
        true
    }

    /// Reads text as the main file `path` (includes relative to its directory).
    pub(crate) fn text(&mut self, text: &str, path: &Path) {
        self.reads += 1;
        let at = Loc { file: Arc::new(path.to_path_buf()), line: 0 };
        if self.count_bytes(text.len(), &at, "") {
            self.files.push(path.to_path_buf());
            self.lines(text.as_bytes(), path);
        }
    }

    /// Reads a file's lines. A line whose bytes are not UTF-8 is taken if they are all in
    /// its comment (keepalived, which reads bytes, skips comments whatever they hold: a GBK
    /// comment is common) or in its first word (keepalived reads it as a keyword it does
    /// not know: the converter warns and ignores it, as keepalived does; such a byte shows
    /// as U+FFFD); otherwise the line is refused, naming the byte.
    fn lines(&mut self, bytes: &[u8], path: &Path) {
        let file = Arc::new(path.to_path_buf());
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (n, raw) in split_lines(bytes).enumerate() {
            if self.errors.stopped() {
                return;
            }
            let loc = Loc { file: file.clone(), line: n + 1 };
            if raw.len() > MAX_LINE_BYTES {
                let why = format!("reading stopped: a line longer than {MAX_LINE_BYTES} bytes (the line limit)");
                return self.errors.stop(&loc, "", why);
            }
            match statement_text(raw) {
                Ok(text) => self.line(&text, loc, &base),
                Err(byte) => self.err(&loc, "", format!("not UTF-8 text (byte \\x{byte:02x})")),
            }
        }
    }

    fn line(&mut self, raw: &str, loc: Loc, base: &Path) {
        if raw.is_empty() {
            // An empty line ends a multi-line definition (a line of blanks or a comment
            // does not).
            self.pre.blank_line();
            return;
        }
        let text = match decomment(raw) {
            Ok(t) => t,
            Err(why) => return self.err(&loc, first_word(raw), why.to_string()),
        };
        if text.is_empty() {
            return;
        }
        let first = first_word(&text).to_owned();
        let (mut pending, mut stack): (Option<String>, Vec<Gen>) = (Some(text), Vec::new());
        while !self.errors.stopped() {
            match self.pre.next(&mut pending, &mut stack, base) {
                Ok(Some(line)) => self.statement(line, &loc, base),
                Ok(None) => return,
                Err(r) if r.stop => return self.errors.stop(&loc, &first, r.why),
                Err(r) => self.err(&loc, &first, r.why),
            }
        }
    }

    /// A preprocessed line: an include (keepalived takes the rest of the line as the
    /// pattern, before braces are split off: `check_include`), or words and braces.
    fn statement(&mut self, text: String, loc: &Loc, base: &Path) {
        if let Some((kind, checks, pattern)) = include_of(&text) {
            return self.include(kind, checks, pattern, loc, base);
        }
        let line: Arc<str> = Arc::from(text.as_str());
        match tokenize(&line) {
            Ok(t) => {
                self.words += t.iter().filter(|t| matches!(t.kind, TokenKind::Word(_))).count();
                if self.words > MAX_WORDS {
                    let why =
                        format!("reading stopped: more than {MAX_WORDS} words in the configuration (the word limit)");
                    return self.errors.stop(loc, "", why);
                }
                self.tree.line(t, &line, loc, &mut self.errors);
            }
            Err(why) => self.err(loc, first_word(&text), why.to_string()),
        }
    }

    /// What keepalived reports about an include, as it does: an error if the variant's
    /// checks make it one, else a warning (keepalived logs it and goes on).
    fn include_problem(&mut self, loc: &Loc, kind: &str, error: bool, what: String) {
        if error {
            self.err(loc, kind, format!("{what} (an error with {kind}, as in keepalived)"));
        } else {
            let what = format!("{what}; skipped, as keepalived skips it");
            self.warnings.push(KeepalivedWarning::new(loc, kind, what));
        }
    }

    fn include(&mut self, kind: &str, checks: Checks, pattern: &str, loc: &Loc, base: &Path) {
        // Like keepalived (glob(3), relative to the including file's directory): what
        // exists is read in sorted order; what is missing, or matches nothing, is skipped.
        let found = match glob::glob(pattern, base, MAX_FILES) {
            Ok(f) => f,
            Err(why) => return self.errors.stop(loc, kind, format!("reading stopped: {why}")),
        };
        if found.files.is_empty() {
            if found.missing > 0 {
                let error = if glob::has_brace(pattern) { checks.brace } else { checks.missing };
                let what = format!("no file {pattern} (keepalived: \"Config files missing\")");
                return self.include_problem(loc, kind, error, what);
            }
            let what = format!("{pattern} matches no file (keepalived: \"No config files matched\")");
            return self.include_problem(loc, kind, checks.wildcard, what);
        }
        if found.missing > 0 {
            let what = format!("some files of {pattern} are missing (keepalived: \"Some config files missing\")");
            self.include_problem(loc, kind, checks.brace, what);
            if checks.brace {
                return;
            }
        }
        for f in found.files {
            self.include_file(&f, loc, kind, checks);
        }
    }

    /// An included file: keepalived skips a directory, anything but a regular file, an
    /// executable file and a file it cannot open (`check_glob_file`, `open_conf_file`).
    fn include_file(&mut self, f: &Path, loc: &Loc, kind: &str, checks: Checks) {
        use std::os::unix::fs::PermissionsExt;
        let skip = match std::fs::metadata(f) {
            Ok(m) if m.is_dir() => {
                Some("not a regular file (a directory; keepalived: \"is a directory - skipping\")".to_owned())
            }
            Ok(m) if !m.is_file() => Some(format!("not a regular file ({NOT_REGULAR})")),
            Ok(m) if m.permissions().mode() & 0o111 != 0 => Some(format!("an executable file ({NOT_REGULAR})")),
            Ok(_) => std::fs::File::open(f).err().map(|e| format!("cannot be opened: {e}")),
            Err(e) => Some(format!("cannot be opened: {e}")),
        };
        match skip {
            Some(why) => self.include_problem(loc, kind, checks.read, format!("{}: {why}", f.display())),
            None => self.file(f, Some(loc)),
        }
    }

    /// The statements, every problem found (the error that stopped the reading last) and
    /// the warnings about blocks (see [`Builder::finish`]).
    pub(crate) fn finish(self) -> (Vec<Node>, Vec<KeepalivedError>, BlockWarnings) {
        let Lexed { tree, errors, .. } = self;
        let (nodes, warnings) = tree.finish();
        let Errors { mut list, stop, .. } = errors;
        list.extend(stop);
        (nodes, list, warnings)
    }
}

/// The lines of `bytes`, as `str::lines` splits text: at `\n`, a `\r` before it dropped, no
/// empty line after a last `\n`.
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let lines = (!bytes.is_empty()).then(|| body.split(|b| *b == b'\n'));
    lines.into_iter().flatten().map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// A line as text: whole if it is UTF-8, else the part before its comment if that part is
/// (the comment found as [`decomment`] finds it, on bytes), else that part with the bytes of
/// its first word that are not UTF-8 shown as U+FFFD if the rest is UTF-8 and the word is
/// a keyword (not a definition, condition, sequence or include); else the first byte that
/// is not UTF-8 outside the first word.
fn statement_text(raw: &[u8]) -> Result<Cow<'_, str>, u8> {
    if let Ok(text) = std::str::from_utf8(raw) {
        return Ok(Cow::Borrowed(text));
    }
    let (mut quote, mut i) = (false, 0);
    while let Some(&b) = raw.get(i) {
        match b {
            b'"' => quote = !quote,
            b'\\' => i += 1,
            b'#' | b'!' if !quote => break,
            _ => {}
        }
        i += 1;
    }
    let before = raw.get(..i).unwrap_or(raw);
    let bad =
        |b: &[u8]| std::str::from_utf8(b).map(|_| ()).map_err(|e| b.get(e.valid_up_to()).copied().unwrap_or_default());
    let Err(byte) = bad(before) else {
        return Ok(String::from_utf8_lossy(before));
    };
    let start = before.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    let end = start + before.iter().skip(start).take_while(|b| !b" \t\x0b\x0c\r\"{}".contains(b)).count();
    let word = before.get(start..end).unwrap_or_default();
    let keyword = !matches!(word.first(), Some(b'$' | b'@' | b'~')) && !word.starts_with(b"include");
    match before.get(end..).map(bad) {
        Some(Ok(_)) if keyword => Ok(Cow::Owned(String::from_utf8_lossy(before).into_owned())),
        Some(Err(b)) => Err(b),
        _ => Err(byte),
    }
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

/// Why a line cannot be split into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LineError {
    /// A `"` without its closing one.
    #[error("a quote is not closed")]
    UnclosedQuote,
}

/// The line without its comment and surrounding blanks, as keepalived's `decomment`: `\#`
/// and `\!` outside quotes are the characters themselves; a `\` ending the line stays,
/// the blanks before it removed (it continues a multi-line definition; elsewhere it is
/// part of the last word, as keepalived reads it).
pub(crate) fn decomment(raw: &str) -> Result<String, LineError> {
    let mut out = String::with_capacity(raw.len());
    let mut quote = false;
    let mut continued = false;
    // keepalived scans on past the comment: a `\` ending the line continues it even there.
    let mut comment = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' if !comment => {
                quote = !quote;
                out.push(c);
            }
            '\\' => match chars.next() {
                Some(n @ ('#' | '!')) if !quote && !comment => out.push(n),
                Some(n) if !comment => {
                    out.push('\\');
                    out.push(n);
                }
                Some(_) => {}
                None => continued = true,
            },
            '#' | '!' if !quote => comment = true,
            _ if comment => {}
            _ => out.push(c),
        }
    }
    if quote {
        return Err(LineError::UnclosedQuote);
    }
    let mut text = out.trim_matches(|c: char| c == ' ' || c == '\t').to_owned();
    if continued {
        text.push('\\');
    }
    Ok(text)
}

/// Words (a `"..."` word without its quotes), `{` and `}`.
fn tokenize(line: &str) -> Result<Vec<Token>, LineError> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let tok = |kind, start, end| Token { kind, span: (start, end) };
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' => i += 1,
            b'{' => {
                out.push(tok(TokenKind::Open, i, i + 1));
                i += 1;
            }
            b'}' => {
                out.push(tok(TokenKind::Close, i, i + 1));
                i += 1;
            }
            b'"' => {
                let close =
                    b.iter().skip(i + 1).position(|x| *x == b'"').map(|p| p + i + 1).ok_or(LineError::UnclosedQuote)?;
                let word = line.get(i + 1..close).unwrap_or_default().to_owned();
                out.push(tok(TokenKind::Word(word), i, close + 1));
                i = close + 1;
            }
            _ => {
                let end = b
                    .iter()
                    .skip(i)
                    .position(|x| matches!(x, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' | b'"' | b'{' | b'}'))
                    .map_or(b.len(), |p| p + i);
                out.push(tok(TokenKind::Word(line.get(i..end).unwrap_or_default().to_owned()), i, end));
                i = end;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> (Vec<String>, Vec<String>) {
        let mut toks = Vec::new();
        for raw in text.lines() {
            let Ok(line) = decomment(raw) else { continue };
            for t in tokenize(&line).unwrap_or_default() {
                toks.push(match t.kind {
                    TokenKind::Word(w) => w,
                    TokenKind::Open => "{".into(),
                    TokenKind::Close => "}".into(),
                });
            }
        }
        let mut l = Lexed::default();
        l.text(text, Path::new("/nonexistent/k.conf"));
        let (_, errors, _) = l.finish();
        (toks, errors.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn comments_quotes_and_braces() {
        let (t, e) = words("a b # comment\n  c \"d # e\" ! x\nf{g}h\n\\#lit \"q{r}\"\n");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(t, ["a", "b", "c", "d # e", "f", "{", "g", "}", "h", "#lit", "q{r}"]);
    }

    #[test]
    fn refusals_name_the_line() {
        let (_, e) = words("ok\n~SEQ(i,1,0,2) x\n$X=1\na \"b\nc \\\nd ${_RANDOM 1 2}\n");
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].starts_with("/nonexistent/k.conf:2: ~SEQ(i,1,0,2): Invalid ~SEQ values"), "{e:?}");
        assert!(e[1].contains(":4: a: a quote is not closed"), "{e:?}");
        assert!(e[2].contains(":6: d: ${_RANDOM MIN MAX}: keepalived 2.2.7 garbles"), "{e:?}");
    }

    #[test]
    fn include_errors() {
        let (_, e) =
            words("includer /nonexistent/*.conf\ninclude /nonexistent/none.conf\nincludem /nonexistent/none.conf\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains(":3: includem: no file /nonexistent/none.conf"), "{e:?}");
        assert!(include_of("include").is_none() && include_of("includex y").is_none());
        assert_eq!(include_of("include\t a b").map(|i| (i.0, i.2)), Some(("include", "a b")));
        assert_eq!(include_of("includea x").map(|i| (i.0, i.1.brace)), Some(("includea", true)));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_taken_in_comments_only() {
        let lines: Vec<&[u8]> = split_lines(b"a\r\nb\n\nc").collect();
        assert_eq!(lines, [&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(split_lines(b"").count(), 0);
        assert_eq!(split_lines(b"x\n").count(), 1);
        // GBK in a comment, after `!`, and a `#` inside quotes before it.
        assert_eq!(statement_text(b"router_id x # \xd6\xf7\xbb\xfa"), Ok("router_id x ".into()));
        assert_eq!(statement_text(b"a \"#\" ! \xff"), Ok("a \"#\" ".into()));
        // In the keyword: keepalived reads an unknown keyword (`lb_kind\xa0NAT`).
        assert_eq!(statement_text(b" lb_kind\xa0NAT"), Ok(" lb_kind\u{fffd}NAT".into()));
        assert_eq!(statement_text(b"lb_kind \xa0NAT"), Err(0xa0));
        assert_eq!(statement_text(b"$X=\xa0"), Err(0xa0));
        assert_eq!(statement_text(b"a \\# \xff"), Err(0xff));
        assert_eq!(statement_text(b"bad \xff\x1b # ok"), Err(0xff));
        let mut l = Lexed::default();
        l.lines(b"virtual_server 192.0.2.10 80 { # \xc3\x28 \xff\n}\n", Path::new("k.conf"));
        let (nodes, errors, _) = l.finish();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(nodes[0].words, ["virtual_server", "192.0.2.10", "80"]);
    }

    #[test]
    fn decomment_rules() {
        assert_eq!(decomment("  a \\! b ! c").unwrap(), "a ! b");
        assert_eq!(decomment("x \"#\" \\n").unwrap(), "x \"#\" \\n");
        assert!(decomment("\"a").is_err());
        assert_eq!(decomment("#").unwrap(), "");
        // keepalived keeps a last backslash, the blanks before it removed, even after a comment.
        assert_eq!(decomment("a b  \\").unwrap(), "a b\\");
        assert_eq!(decomment(" # c \\").unwrap(), "\\");
    }
}
