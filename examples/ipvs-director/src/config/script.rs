//! Commands the director runs (notify scripts, `MISC_CHECK`, `vrrp_script`): an argument
//! vector and, optionally, the user and group that run it.

use std::fmt;

use serde::de::{self, Error as _, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A command: the program, its arguments, and who runs it.
///
/// In the native file a command is a string (split into words as keepalived splits script
/// lines, see [`split_words`]), an array of words, or a table
/// `{ command = ..., user = "...", group = "..." }`.
///
/// ```
/// use ipvs_director::config::Script;
/// let s = Script::parse("/usr/local/bin/notify 'web up' --now").unwrap();
/// assert_eq!(s.argv, ["/usr/local/bin/notify", "web up", "--now"]);
/// assert_eq!(s.to_string(), "/usr/local/bin/notify 'web up' --now");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Script {
    /// The program and its arguments; validation refuses an empty one.
    pub argv: Vec<String>,
    /// The user that runs it (else `global.script_user`, else the director's own user).
    pub user: Option<String>,
    /// The group that runs it (else the user's group).
    pub group: Option<String>,
}

impl Script {
    /// A command from its words, run by the default user.
    pub fn new<S: Into<String>>(argv: impl IntoIterator<Item = S>) -> Script {
        Script { argv: argv.into_iter().map(Into::into).collect(), user: None, group: None }
    }

    /// A command from a command line, split by [`split_words`].
    pub fn parse(line: &str) -> Result<Script, SplitError> {
        Ok(Script::new(split_words(line)?))
    }

    /// The same command, run as `user` (and `group`).
    pub fn run_as(mut self, user: impl Into<String>, group: Option<String>) -> Script {
        self.user = Some(user.into());
        self.group = group;
        self
    }

    /// The program (the first word), if any.
    pub fn program(&self) -> Option<&str> {
        self.argv.first().map(String::as_str)
    }
}

impl fmt::Display for Script {
    /// The words, quoted where needed so that [`split_words`] gives them back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.argv.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let plain = !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
            if plain {
                f.write_str(w)?;
            } else {
                f.write_str("'")?;
                for c in w.chars() {
                    if c == '\'' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("'")?;
            }
        }
        Ok(())
    }
}

/// A command line that cannot be split into words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A quote was opened and not closed.
    #[error("missing closing {0} quote")]
    UnterminatedQuote(char),
    /// The line ends with a lone backslash.
    #[error("a backslash ends the line")]
    TrailingBackslash,
    /// An escape produced bytes that are not UTF-8.
    #[error("an escape gives bytes that are not UTF-8")]
    NotUtf8,
}

/// Splits a command line into words the way keepalived splits script lines
/// (`alloc_strvec_quoted_escaped` in keepalived's lib/parser.c): blanks separate words;
/// `"..."` and `'...'` group blanks into a word (an empty pair gives an empty word); a
/// backslash escapes the next character, inside quotes too, and `\a \b \E \f \n \r \t \v`,
/// `\xHH`, `\cX` and octal `\NNN` give control characters as in C.
///
/// ```
/// use ipvs_director::config::split_words;
/// assert_eq!(split_words(r#"a "b c" 'd\'e' f\ g"#).unwrap(), ["a", "b c", "d'e", "f g"]);
/// assert_eq!(split_words(r"x\x41\101\n").unwrap(), ["xAA\n"]);
/// assert!(split_words("'open").is_err());
/// ```
pub fn split_words(line: &str) -> Result<Vec<String>, SplitError> {
    let bytes = line.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let mut word: Vec<u8> = Vec::new();
        let mut quote: Option<u8> = None;
        while let Some(&b) = bytes.get(i) {
            match (quote, b) {
                (_, b'\\') => {
                    i += 1;
                    let (value, used) = escape(bytes.get(i..).unwrap_or_default())?;
                    word.push(value);
                    i += used;
                }
                (Some(q), b) if b == q => {
                    quote = None;
                    i += 1;
                }
                (Some(_), b) => {
                    word.push(b);
                    i += 1;
                }
                (None, b'"' | b'\'') => {
                    quote = Some(b);
                    i += 1;
                }
                (None, b' ' | b'\t') => break,
                (None, b) => {
                    word.push(b);
                    i += 1;
                }
            }
        }
        if let Some(q) = quote {
            return Err(SplitError::UnterminatedQuote(char::from(q)));
        }
        words.push(String::from_utf8(word).map_err(|_| SplitError::NotUtf8)?);
    }
    Ok(words)
}

/// The byte an escape (after its backslash) stands for, and how many bytes it used.
fn escape(rest: &[u8]) -> Result<(u8, usize), SplitError> {
    let first = *rest.first().ok_or(SplitError::TrailingBackslash)?;
    let hex = |b: u8| char::from(b).to_digit(16);
    let oct = |b: u8| (b'0'..=b'7').contains(&b).then(|| b - b'0');
    Ok(match first {
        b'x' if rest.get(1).and_then(|b| hex(*b)).is_some() => {
            let mut v: u32 = 0;
            let mut n = 1;
            while let Some(d) = rest.get(n).and_then(|b| hex(*b)) {
                v = (v << 4 | d) & 0xff;
                n += 1;
            }
            (v as u8, n)
        }
        b'c' if rest.len() > 1 => (rest.get(1).map_or(0, |b| b & 0x1f), 2),
        b'0'..=b'7' => {
            let mut v: u8 = 0;
            let mut n = 0;
            while n < 3 {
                match rest.get(n).and_then(|b| oct(*b)) {
                    Some(d) => v = v.wrapping_mul(8).wrapping_add(d),
                    None => break,
                }
                n += 1;
            }
            (v, n)
        }
        b'a' => (0x07, 1),
        b'b' => (0x08, 1),
        b'E' => (0x1b, 1),
        b'f' => (0x0c, 1),
        b'n' => (b'\n', 1),
        b'r' => (b'\r', 1),
        b't' => (b'\t', 1),
        b'v' => (0x0b, 1),
        other => (other, 1),
    })
}

impl Serialize for Script {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.user.is_none() && self.group.is_none() {
            return self.argv.serialize(s);
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("command", &self.argv)?;
        if let Some(u) = &self.user {
            m.serialize_entry("user", u)?;
        }
        if let Some(g) = &self.group {
            m.serialize_entry("group", g)?;
        }
        m.end()
    }
}

/// The words of a command given as a string or an array.
struct Words(Vec<String>);

impl<'de> Deserialize<'de> for Words {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Words, D::Error> {
        d.deserialize_any(WordsVisitor)
    }
}

struct WordsVisitor;

impl<'de> Visitor<'de> for WordsVisitor {
    type Value = Words;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a command line or an array of words")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Words, E> {
        split_words(v).map(Words).map_err(|e| E::custom(format!("cannot split the command {v:?}: {e}")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Words, A::Error> {
        let mut out = Vec::new();
        while let Some(w) = seq.next_element::<String>()? {
            out.push(w);
        }
        Ok(Words(out))
    }
}

impl<'de> Deserialize<'de> for Script {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Script, D::Error> {
        struct ScriptVisitor;
        impl<'de> Visitor<'de> for ScriptVisitor {
            type Value = Script;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command line, an array of words or a table with command, user and group")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Script, E> {
                WordsVisitor.visit_str(v).map(|w| Script::new(w.0))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Script, A::Error> {
                WordsVisitor.visit_seq(seq).map(|w| Script::new(w.0))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Script, A::Error> {
                let mut argv = None;
                let mut user = None;
                let mut group = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "command" => argv = Some(map.next_value::<Words>()?.0),
                        "user" => user = Some(map.next_value::<String>()?),
                        "group" => group = Some(map.next_value::<String>()?),
                        other => return Err(A::Error::unknown_field(other, &["command", "user", "group"])),
                    }
                }
                let argv = argv.ok_or_else(|| A::Error::missing_field("command"))?;
                Ok(Script { argv, user, group })
            }
        }
        d.deserialize_any(ScriptVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_what_split_words_needs() {
        for argv in [vec!["a b", "", "it's", "back\\slash", "plain/path"], vec!["x"]] {
            let s = Script::new(argv.clone());
            assert_eq!(split_words(&s.to_string()).unwrap(), argv, "{s}");
        }
    }

    #[test]
    fn escapes_and_errors() {
        assert_eq!(split_words(r"\cA\E").unwrap(), ["\u{1}\u{1b}"]);
        assert_eq!(split_words("a\\").unwrap_err(), SplitError::TrailingBackslash);
        assert_eq!(split_words("\"a").unwrap_err(), SplitError::UnterminatedQuote('"'));
        assert_eq!(split_words(r"\xff").unwrap_err(), SplitError::NotUtf8);
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_words("a\"b c\"d").unwrap(), ["ab cd"]);
    }

    #[test]
    fn toml_forms() {
        #[derive(Deserialize, Serialize, PartialEq, Debug)]
        struct T {
            s: Script,
        }
        let a: T = toml::from_str("s = \"/bin/x 'a b'\"").unwrap();
        assert_eq!(a.s.argv, ["/bin/x", "a b"]);
        let b: T = toml::from_str("s = [\"/bin/x\", \"a b\"]").unwrap();
        assert_eq!(a, b);
        let c: T = toml::from_str("s = { command = \"/bin/x\", user = \"nobody\" }").unwrap();
        assert_eq!(c.s.user.as_deref(), Some("nobody"));
        assert_eq!(toml::from_str::<T>(&toml::to_string(&c).unwrap()).unwrap(), c);
        assert!(toml::from_str::<T>("s = { command = \"/bin/x\", uid = 0 }").is_err());
        assert!(toml::from_str::<T>("s = 5").is_err());
    }
}
