//! keepalived.conf's lexical rules (after `read_line`, `decomment` and `alloc_strvec_r` in
//! keepalived's lib/parser.c): comments from an unquoted `#` or `!`, `"..."` words, braces
//! as their own tokens wherever they are, and `include` files read in place. keepalived's
//! preprocessor (`@` conditions, `$NAME` definitions, `~SEQ`) is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{KeepalivedError, Loc};
use super::glob;

/// How deep includes may nest.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The include keywords keepalived has besides `include`.
const OTHER_INCLUDES: [&str; 5] = ["includer", "includem", "includew", "includeb", "includea"];

/// A token and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub loc: Loc,
    /// The line's text (comment removed) and the token's byte range in it.
    pub line: Arc<str>,
    pub span: (usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Word(String),
    Open,
    Close,
}

/// Tokens of a file and its includes, and the problems found.
#[derive(Default)]
pub(crate) struct Lexed {
    pub tokens: Vec<Token>,
    pub errors: Vec<KeepalivedError>,
    /// Every file read, in order.
    pub files: Vec<PathBuf>,
    stack: Vec<PathBuf>,
}

impl Lexed {
    fn err(&mut self, loc: &Loc, keyword: &str, reason: impl Into<String>) {
        self.errors.push(KeepalivedError::new(loc, keyword, reason));
    }

    /// Reads a file (as an include from `from`, or the main file).
    pub(crate) fn file(&mut self, path: &Path, from: Option<&Loc>) {
        let whole = Loc { file: Arc::new(path.to_path_buf()), line: 0 };
        let (at, keyword) = match from {
            Some(l) => (l.clone(), "include"),
            None => (whole, ""),
        };
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return self.err(&at, keyword, format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files"));
        }
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canonical) {
            return self.err(&at, keyword, format!("{} includes itself", path.display()));
        }
        let text = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => return self.err(&at, keyword, format!("{} is not UTF-8 text", path.display())),
            },
            Err(e) => return self.err(&at, keyword, format!("cannot read {}: {e}", path.display())),
        };
        self.stack.push(canonical);
        self.files.push(path.to_path_buf());
        self.text(&text, path);
        self.stack.pop();
    }

    /// Reads text as the file `path` (includes relative to its directory).
    pub(crate) fn text(&mut self, text: &str, path: &Path) {
        let file = Arc::new(path.to_path_buf());
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (n, raw) in text.lines().enumerate() {
            let loc = Loc { file: file.clone(), line: n + 1 };
            self.line(raw, loc, &base);
        }
    }

    fn line(&mut self, raw: &str, loc: Loc, base: &Path) {
        let text = match decomment(raw) {
            Ok(t) => t,
            Err(why) => return self.err(&loc, first_word(raw), why),
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
        match tokenize(&line, &loc) {
            Ok(t) => self.tokens.extend(t),
            Err(why) => self.err(&loc, first, why),
        }
    }

    fn include(&mut self, pattern: &str, loc: &Loc, base: &Path) {
        if glob::is_pattern(pattern) {
            // Like keepalived: a pattern that matches nothing includes nothing.
            for f in glob::glob(pattern, base) {
                self.file(&f, Some(loc));
            }
        } else {
            let p = Path::new(pattern);
            let full = if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
            if full.is_file() {
                self.file(&full, Some(loc));
            } else {
                self.err(loc, "include", format!("no file {} (keepalived would skip it silently)", full.display()));
            }
        }
    }
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

/// The line without its comment and surrounding blanks; `\#` and `\!` outside quotes are
/// the characters themselves.
pub(crate) fn decomment(raw: &str) -> Result<String, String> {
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
                None => return Err("a line ending in a backslash continues a definition: not supported".into()),
            },
            '#' | '!' if !quote => break,
            _ => out.push(c),
        }
    }
    if quote {
        return Err("a quote is not closed".into());
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
fn tokenize(line: &Arc<str>, loc: &Loc) -> Result<Vec<Token>, String> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let tok = |kind, start, end| Token { kind, loc: loc.clone(), line: line.clone(), span: (start, end) };
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
                    b.iter().skip(i + 1).position(|x| *x == b'"').map(|p| p + i + 1).ok_or("a quote is not closed")?;
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
        let mut l = Lexed::default();
        l.text(text, Path::new("/nonexistent/k.conf"));
        let toks = l
            .tokens
            .iter()
            .map(|t| match &t.kind {
                TokenKind::Word(w) => w.clone(),
                TokenKind::Open => "{".into(),
                TokenKind::Close => "}".into(),
            })
            .collect();
        (toks, l.errors.iter().map(|e| e.to_string()).collect())
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
    fn decomment_rules() {
        assert_eq!(decomment("  a \\! b ! c").unwrap(), "a ! b");
        assert_eq!(decomment("x \"#\" \\n").unwrap(), "x \"#\" \\n");
        assert!(decomment("\"a").is_err());
        assert_eq!(decomment("#").unwrap(), "");
    }
}
