//! keepalived.conf's lexical rules (after `read_line`, `decomment` and `alloc_strvec_r` in
//! keepalived's lib/parser.c): comments from an unquoted `#` or `!`, `"..."` words, braces
//! as their own tokens wherever they are, and `include` files read in place. keepalived's
//! preprocessor (`@` conditions, `$NAME` definitions, `~SEQ`) is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipvs::fs::{read_regular_file, ReadFileError};

use super::error::{Errors, KeepalivedError, Loc};
use super::glob;
use super::tree::{Builder, Node};

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

/// The include keywords keepalived has besides `include`.
const OTHER_INCLUDES: [&str; 5] = ["includer", "includem", "includew", "includeb", "includea"];

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
    pub errors: Errors,
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
    /// comment is common); otherwise the file is not read further, with an error naming the
    /// byte.
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
                Ok(text) => self.line(text, loc, &base),
                Err(byte) => return self.err(&loc, "", format!("not UTF-8 text (byte \\x{byte:02x})")),
            }
        }
    }

    fn line(&mut self, raw: &str, loc: Loc, base: &Path) {
        let text = match decomment(raw) {
            Ok(t) => t,
            Err(why) => return self.err(&loc, first_word(raw), why.to_string()),
        };
        if text.is_empty() {
            return;
        }
        if let Some(why) = preprocessor(&text) {
            return self.err(&loc, first_word(&text), why);
        }
        // keepalived takes an include line whole, before braces are split off
        // (`check_include`): the pattern is the rest of the line.
        let first = first_word(&text);
        if first == "include" {
            let pattern = text.get("include".len()..).unwrap_or_default().trim();
            if pattern.is_empty() {
                return self.err(&loc, "include", "needs a file name or pattern");
            }
            return self.include(pattern, &loc, base);
        }
        if OTHER_INCLUDES.contains(&first) {
            return self.err(&loc, first, "only plain include is supported");
        }
        let line: Arc<str> = Arc::from(text.as_str());
        match tokenize(&line) {
            Ok(t) => {
                self.words += t.iter().filter(|t| matches!(t.kind, TokenKind::Word(_))).count();
                if self.words > MAX_WORDS {
                    let why =
                        format!("reading stopped: more than {MAX_WORDS} words in the configuration (the word limit)");
                    return self.errors.stop(&loc, "", why);
                }
                self.tree.line(t, &line, &loc, &mut self.errors);
            }
            Err(why) => self.err(&loc, first, why.to_string()),
        }
    }

    fn include(&mut self, pattern: &str, loc: &Loc, base: &Path) {
        if glob::is_pattern(pattern) {
            // Like keepalived: a pattern that matches nothing includes nothing; what it
            // matches is read whatever it is (a directory or a FIFO is refused by name).
            match glob::glob(pattern, base, MAX_FILES) {
                Ok(files) => {
                    for f in files {
                        self.file(&f, Some(loc));
                    }
                }
                Err(why) => self.errors.stop(loc, "include", format!("reading stopped: {why}")),
            }
        } else {
            let p = Path::new(pattern);
            let full = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
            if full.exists() {
                self.file(&full, Some(loc));
            } else {
                self.err(loc, "include", format!("no file {} (keepalived would skip it silently)", full.display()));
            }
        }
    }

    /// The statements and every problem found (the error that stopped the reading last).
    pub(crate) fn finish(self) -> (Vec<Node>, Vec<KeepalivedError>) {
        let Lexed { tree, mut errors, .. } = self;
        let nodes = tree.finish(&mut errors);
        let Errors { mut list, stop, .. } = errors;
        list.extend(stop);
        (nodes, list)
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
/// (the comment found as [`decomment`] finds it, on bytes); else the first byte that is not
/// UTF-8.
fn statement_text(raw: &[u8]) -> Result<&str, u8> {
    if let Ok(text) = std::str::from_utf8(raw) {
        return Ok(text);
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
    std::str::from_utf8(before).map_err(|e| before.get(e.valid_up_to()).copied().unwrap_or_default())
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

/// Why a line cannot be split into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LineError {
    /// A backslash at the end of the line (keepalived's continuation lines).
    #[error("a line ending in a backslash continues a definition: not supported")]
    Continued,
    /// A `"` without its closing one.
    #[error("a quote is not closed")]
    UnclosedQuote,
}

/// The line without its comment and surrounding blanks; `\#` and `\!` outside quotes are
/// the characters themselves.
pub(crate) fn decomment(raw: &str) -> Result<String, LineError> {
    let mut out = String::with_capacity(raw.len());
    let mut quote = false;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quote = !quote;
                out.push(c);
            }
            '\\' => match chars.next() {
                Some(n @ ('#' | '!')) if !quote => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => return Err(LineError::Continued),
            },
            '#' | '!' if !quote => break,
            _ => out.push(c),
        }
    }
    if quote {
        return Err(LineError::UnclosedQuote);
    }
    Ok(out.trim_matches(|c: char| c == ' ' || c == '\t').to_owned())
}

/// Why a line uses keepalived's preprocessor, if it does.
fn preprocessor(text: &str) -> Option<&'static str> {
    if text.starts_with('@') {
        Some("conditional lines (@ID, @^ID) are not supported")
    } else if text.starts_with('$') {
        Some("definitions ($NAME=...) are not supported")
    } else if text.starts_with('~') {
        Some("~SEQ and ~LST are not supported")
    } else if text.contains("${_") || text.contains("$_") {
        Some("keepalived's built-in definitions ($_INSTANCE, $_PWD, $_RANDOM ...) are not supported")
    } else {
        None
    }
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
        let (_, errors) = l.finish();
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
        let (_, e) = words("ok\n@main x\n$X=1\n~SEQ(i,1,2)\na \"b\nc \\\nd ${_PWD}\n");
        assert_eq!(e.len(), 6, "{e:?}");
        assert!(e[0].starts_with("/nonexistent/k.conf:2: @main: conditional"), "{e:?}");
        assert!(e[1].contains(":3: $X=1: definitions"), "{e:?}");
        assert!(e[3].contains(":5: a: a quote is not closed"), "{e:?}");
        assert!(e[4].contains(":6: c: a line ending in a backslash"), "{e:?}");
        assert!(e[5].contains(":7: d: keepalived's built-in"), "{e:?}");
    }

    #[test]
    fn include_errors() {
        let (_, e) = words("include\nincluder x\ninclude /nonexistent/none.conf\ninclude /nonexistent/*.conf\n");
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].contains(":1: include: needs a file"), "{e:?}");
        assert!(e[1].contains(":2: includer: only plain include"), "{e:?}");
        assert!(e[2].contains(":3: include: no file /nonexistent/none.conf"), "{e:?}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_taken_in_comments_only() {
        let lines: Vec<&[u8]> = split_lines(b"a\r\nb\n\nc").collect();
        assert_eq!(lines, [&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(split_lines(b"").count(), 0);
        assert_eq!(split_lines(b"x\n").count(), 1);
        // GBK in a comment, after `!`, and a `#` inside quotes before it.
        assert_eq!(statement_text(b"router_id x # \xd6\xf7\xbb\xfa"), Ok("router_id x "));
        assert_eq!(statement_text(b"a \"#\" ! \xff"), Ok("a \"#\" "));
        assert_eq!(statement_text(b"a \\# \xff"), Err(0xff));
        assert_eq!(statement_text(b"bad \xff\x1b # ok"), Err(0xff));
        let mut l = Lexed::default();
        l.lines(b"virtual_server 192.0.2.10 80 { # \xc3\x28 \xff\n}\n", Path::new("k.conf"));
        let (nodes, errors) = l.finish();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(nodes[0].words, ["virtual_server", "192.0.2.10", "80"]);
    }

    #[test]
    fn decomment_rules() {
        assert_eq!(decomment("  a \\! b ! c").unwrap(), "a ! b");
        assert_eq!(decomment("x \"#\" \\n").unwrap(), "x \"#\" \\n");
        assert!(decomment("\"a").is_err());
        assert_eq!(decomment("#").unwrap(), "");
    }
}
