//! The file patterns of `include`: `*`, `?`, `[...]` (with `!` or `^` negation and
//! ranges) within one path component, and `{a,b}` alternatives (keepalived globs with
//! `GLOB_BRACE`; as glibc, `{a}` is the one alternative `a`). Matches are sorted, as
//! glob(3) sorts them.

use std::path::{Path, PathBuf};

/// The most file names one `include` pattern's `{a,b}` alternatives may expand to; a pattern
/// that would expand to more is refused, naming this limit.
pub const MAX_EXPANSIONS: usize = 256;

/// Whether the pattern has anything to expand.
pub(crate) fn is_pattern(p: &str) -> bool {
    p.contains(['*', '?', '[', '{'])
}

/// An include pattern past a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum GlobError {
    /// More than [`MAX_EXPANSIONS`] brace alternatives.
    #[error("{pattern} expands to more than {MAX_EXPANSIONS} file names (the brace expansion limit)")]
    TooManyExpansions {
        /// The pattern.
        pattern: String,
    },
    /// More than `limit` paths.
    #[error("{pattern} matches more than {limit} paths (the file limit)")]
    TooManyMatches {
        /// The pattern.
        pattern: String,
        /// The limit.
        limit: usize,
    },
}

/// `{a,b}` alternatives expanded (nested braces too); more than [`MAX_EXPANSIONS`] is an
/// error naming the limit, never a silent cut.
pub(crate) fn expand_braces(p: &str) -> Result<Vec<String>, GlobError> {
    let mut out = Vec::new();
    if expand_into(p, &mut out) {
        Ok(out)
    } else {
        Err(GlobError::TooManyExpansions { pattern: p.to_owned() })
    }
}

/// Appends the expansions of `p`; false when they would pass [`MAX_EXPANSIONS`].
fn expand_into(p: &str, out: &mut Vec<String>) -> bool {
    let Some(open) = p.find('{') else {
        if out.len() >= MAX_EXPANSIONS {
            return false;
        }
        out.push(p.to_owned());
        return true;
    };
    // The matching close brace and the top-level commas between.
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, c) in p.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        // No closing brace: the brace is literal; expand what follows it.
        let (head, tail) = p.split_at(open + 1);
        let mut rest = Vec::new();
        if !expand_into(tail, &mut rest) || out.len() + rest.len() > MAX_EXPANSIONS {
            return false;
        }
        out.extend(rest.into_iter().map(|r| format!("{head}{r}")));
        return true;
    };
    let (prefix, suffix) = (p.get(..open).unwrap_or_default(), p.get(close + 1..).unwrap_or_default());
    let mut start = open + 1;
    for end in commas.iter().copied().chain(std::iter::once(close)) {
        let alt = p.get(start..end).unwrap_or_default();
        if !expand_into(&format!("{prefix}{alt}{suffix}"), out) {
            return false;
        }
        start = end + 1;
    }
    true
}

/// Whether `name` matches the one-component pattern `pat`. A leading dot must be matched
/// by a dot, as glob(3) does.
pub(crate) fn matches(pat: &str, name: &str) -> bool {
    if name.starts_with('.') && !pat.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    // Iterative with backtracking to the last star.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&nc) = n.get(ni) {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => class(p.get(pi..).unwrap_or_default(), nc).map(|(ok, len)| if ok { len } else { 0 }),
            Some('\\') if p.get(pi + 1) == Some(&nc) => Some(2),
            Some(c) if *c == nc => Some(1),
            _ => None,
        };
        match step {
            Some(len) if len > 0 => {
                pi += len;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or_default().iter().all(|c| *c == '*')
}

/// A `[...]` class at the start of `p`: whether `c` is in it, and the class's length.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(1), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == ']' && !first {
            return Some((found != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|h| *h != ']') {
            let hi = *p.get(i + 2)?;
            found |= (lo..=hi).contains(&c);
            i += 3;
        } else {
            found |= lo == c;
            i += 1;
        }
    }
}

/// Whether the pattern has a `{` not escaped by `\\` (keepalived's `have_brace`).
pub(crate) fn has_brace(p: &str) -> bool {
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => return true,
            _ => {}
        }
    }
    false
}

/// What a pattern names: the paths that exist, and how many paths or directories it names
/// that do not (keepalived counts them through glob's `gl_lstat` and `gl_opendir`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// The paths that exist, sorted within each brace alternative.
    pub files: Vec<PathBuf>,
    /// Paths named without wildcards that do not exist, and directories that cannot be
    /// listed.
    pub missing: usize,
}

/// The paths a pattern names, relative patterns taken from `base`; sorted. Components
/// without wildcards are taken as they are. Whatever matches is returned, a directory or a
/// FIFO too (the reader says what it is): nothing that exists is skipped. More than
/// [`MAX_EXPANSIONS`] brace alternatives, or more than `max_matches` paths, is an error.
pub(crate) fn glob(pattern: &str, base: &Path, max_matches: usize) -> Result<Found, GlobError> {
    let too_many = || GlobError::TooManyMatches { pattern: pattern.to_owned(), limit: max_matches };
    let mut out = Vec::new();
    let mut missing = 0;
    for p in expand_braces(pattern)? {
        let full = if Path::new(&p).is_absolute() { PathBuf::from(&p) } else { base.join(&p) };
        let mut found = vec![PathBuf::new()];
        for comp in full.components() {
            let text = comp.as_os_str().to_string_lossy().into_owned();
            let mut next = Vec::new();
            for dir in &found {
                if is_pattern(&text) {
                    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })
                    else {
                        missing += 1;
                        continue;
                    };
                    let mut names: Vec<String> =
                        entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
                    names.sort();
                    next.extend(names.into_iter().filter(|n| matches(&text, n)).map(|n| dir.join(n)));
                } else {
                    next.push(dir.join(comp.as_os_str()));
                }
                if next.len() > max_matches {
                    return Err(too_many());
                }
            }
            found = next;
        }
        let before = found.len();
        let mut files: Vec<PathBuf> = found.into_iter().filter(|f| std::fs::symlink_metadata(f).is_ok()).collect();
        missing += before - files.len();
        files.sort();
        out.extend(files);
        if out.len() > max_matches {
            return Err(too_many());
        }
    }
    Ok(Found { files: out, missing })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces() {
        assert_eq!(expand_braces("a{b,c}d").unwrap(), ["abd", "acd"]);
        assert_eq!(expand_braces("{x,y{1,2}}").unwrap(), ["x", "y1", "y2"]);
        assert_eq!(expand_braces("a{b}c").unwrap(), ["abc"], "one alternative, as glibc's GLOB_BRACE");
        assert_eq!(expand_braces("a{b").unwrap(), ["a{b"]);
        assert_eq!(expand_braces(&"{a,b}".repeat(8)).unwrap().len(), MAX_EXPANSIONS);
        let e = expand_braces(&"{a,b}".repeat(20)).unwrap_err().to_string();
        assert!(e.ends_with("expands to more than 256 file names (the brace expansion limit)"), "{e}");
        assert!(expand_braces(&format!("{{{}", "{a,b}".repeat(9))).is_err());
    }

    #[test]
    fn wildcards() {
        assert!(matches("*.conf", "web.conf"));
        assert!(!matches("*.conf", "web.conf.bak"));
        assert!(!matches("*.conf", ".hidden.conf"));
        assert!(matches("vs?.conf", "vs1.conf"));
        assert!(matches("vs[0-9].conf", "vs7.conf"));
        assert!(!matches("vs[!0-9].conf", "vs7.conf"));
        assert!(matches("[]]", "]"));
        assert!(!matches("[a", "a"));
        assert!(matches("a*b*c", "aXbYbc"));
        assert!(matches("a\\*", "a*"));
    }

    #[test]
    fn finds_sorted_files() {
        let dir = std::env::temp_dir().join(format!("ipvs-director-glob-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("d")).unwrap();
        for f in ["b.conf", "a.conf", "c.txt", "d/x.conf"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let names = |v: Found| -> Vec<String> {
            v.files.iter().map(|p| p.strip_prefix(&dir).unwrap().display().to_string()).collect()
        };
        assert_eq!(names(glob("*.conf", &dir, 10).unwrap()), ["a.conf", "b.conf"]);
        assert_eq!(names(glob("{c.txt,*/x.conf}", &dir, 10).unwrap()), ["c.txt", "d/x.conf"]);
        assert_eq!(names(glob("?", &dir, 10).unwrap()), ["d"], "a directory is not skipped");
        assert_eq!(glob("nothing*", &dir, 10).unwrap(), Found::default(), "a wildcard matching nothing: not missing");
        assert_eq!(glob("none.conf", &dir, 10).unwrap().missing, 1);
        assert_eq!(glob("nodir/*.conf", &dir, 10).unwrap().missing, 1);
        let some = glob("{a,zz}.conf", &dir, 10).unwrap();
        assert_eq!((some.files.len(), some.missing), (1, 1));
        assert!(has_brace("{a,b}") && !has_brace("\\{a") && !has_brace("a"));
        assert!(glob("*", &dir, 2).unwrap_err().to_string().contains("matches more than 2 paths"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
