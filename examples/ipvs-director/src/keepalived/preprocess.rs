//! keepalived's preprocessor (`read_line`, `check_definition`, `replace_param`, `add_seq`
//! and `add_lst` in keepalived 2.2.7's lib/parser.c), applied to each line after its comment
//! is removed: `@ID` / `@^ID` conditional lines, `$NAME=VALUE` definitions (multi-line ones
//! ending each line but the last with `\`), `$NAME` / `${NAME}` substitution (recursive, at
//! use time; an undefined name stays as written), the built-ins `_PWD`, `_INSTANCE`,
//! `_RANDOM`, `_HASH` and `_BANG`, and `~SEQ` / `~SEQx` / `~LST` line replication.
//! Definitions are global: they hold across includes, in reading order, as in keepalived.
//! Every line a line produces keeps that line's place.

use std::collections::HashMap;
use std::path::Path;

use super::lexer::decomment;

/// The most lines one reading's expansions (`~SEQ`/`~LST` rounds and the lines of
/// multi-line definitions) produce: stops a hostile sequence such as `~SEQ(i, 1, 1e18)`.
pub const MAX_GENERATED_LINES: usize = 2_000_000;
/// keepalived's line buffer (`MAXBUF`): a substitution that would make a line this long or
/// longer is refused (keepalived stops substituting and reads the line half-expanded).
pub const MAX_EXPANDED_LINE: usize = 1024;
/// The most substitutions in one line: `$A=$A` would make keepalived loop forever.
pub const MAX_SUBSTITUTIONS: usize = 10_000;

/// A definition's value.
#[derive(Debug, Clone)]
enum Value {
    /// Text; a multi-line definition's lines are separated by `\n`.
    Text { text: String, multiline: bool },
    /// `_PWD`: the directory of the file being read.
    Pwd,
    /// `_INSTANCE`: the configuration id.
    Instance,
    /// `_RANDOM`: a number in 0..=32767.
    Random,
}

/// A source of generated lines, innermost last.
#[derive(Debug)]
pub(crate) enum Gen {
    /// The rest of a multi-line definition's lines, in reverse order.
    Lines(Vec<String>),
    /// `~SEQ(var, start, step, end)` text.
    Seq { var: String, next: i64, step: i64, last: i64, hex: bool, text: String, done: bool },
    /// `~LST(vars, values...)` text: the value sets still to use, in reverse order.
    Lst { vars: Vec<String>, sets: Vec<Vec<String>>, text: String },
}

/// Why a line is refused: the message, and whether the reading stops (a limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub why: String,
    pub stop: bool,
}

fn refuse(why: impl Into<String>) -> Refusal {
    Refusal { why: why.into(), stop: false }
}

fn stop(why: impl Into<String>) -> Refusal {
    Refusal { why: why.into(), stop: true }
}

/// The preprocessor's state across the whole reading.
pub(crate) struct Preprocessor {
    config_id: String,
    defs: HashMap<String, Value>,
    /// The multi-line definition being read, if any.
    collecting: Option<String>,
    generated: usize,
    random: u64,
}

impl Default for Preprocessor {
    fn default() -> Preprocessor {
        Preprocessor::new(&default_config_id())
    }
}

impl Preprocessor {
    pub fn new(config_id: &str) -> Preprocessor {
        let mut defs = HashMap::new();
        defs.insert("_PWD".to_owned(), Value::Pwd);
        defs.insert("_INSTANCE".to_owned(), Value::Instance);
        defs.insert("_RANDOM".to_owned(), Value::Random);
        defs.insert("_HASH".to_owned(), Value::Text { text: "#".into(), multiline: false });
        defs.insert("_BANG".to_owned(), Value::Text { text: "!".into(), multiline: false });
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
        Preprocessor { config_id: config_id.to_owned(), defs, collecting: None, generated: 0, random: seed | 1 }
    }

    /// A file line that is empty before its comment is removed: it ends a multi-line
    /// definition (keepalived: "if (!len && multiline_param_def)").
    pub fn blank_line(&mut self) {
        if let Some(name) = self.collecting.take() {
            self.end_multiline(&name);
        }
    }

    fn end_multiline(&mut self, name: &str) {
        if let Some(Value::Text { text, multiline }) = self.defs.get_mut(name) {
            if text.is_empty() {
                *multiline = false;
            }
        }
    }

    /// The next line to read: `first` (a decommented line of a file, taken once) and then
    /// what it generates, kept in `stack`; None when there is no more. A refusal drops
    /// the line it is about (the generated lines still to come follow).
    pub fn next(
        &mut self,
        first: &mut Option<String>,
        stack: &mut Vec<Gen>,
        dir: &Path,
    ) -> Result<Option<String>, Refusal> {
        loop {
            let buf = match first.take() {
                Some(b) => b,
                None => match self.generate(stack)? {
                    Some(b) => b,
                    None => return Ok(None),
                },
            };
            if let Some(name) = self.collecting.clone() {
                self.collect(&name, &buf);
                continue;
            }
            if buf.is_empty() {
                continue;
            }
            if let Some(line) = self.process(buf, dir, stack)? {
                return Ok(Some(line));
            }
        }
    }

    /// A line of the multi-line definition `name` (keepalived's multiline_param_def).
    fn collect(&mut self, name: &str, buf: &str) {
        let (line, more) = match buf.strip_suffix('\\') {
            Some(l) => (l.trim_end_matches([' ', '\t']), true),
            None => (buf, false),
        };
        if let Some(Value::Text { text, .. }) = self.defs.get_mut(name) {
            // keepalived does not add blank lines.
            if !line.is_empty() {
                text.push_str(line);
                if more {
                    text.push('\n');
                }
            }
        }
        if !more {
            self.collecting = None;
            self.end_multiline(name);
        }
    }

    /// The next generated line, from the innermost generator.
    fn generate(&mut self, stack: &mut Vec<Gen>) -> Result<Option<String>, Refusal> {
        while let Some(top) = stack.last_mut() {
            let line = match top {
                Gen::Lines(lines) => lines.pop(),
                Gen::Seq { var, next, step, last, hex, text, done } => {
                    if *done {
                        None
                    } else {
                        let v = if *hex { format!("{:x}", *next) } else { next.to_string() };
                        let (var, line) = (var.clone(), text.clone());
                        match next.checked_add(*step) {
                            Some(n) if (*step > 0 && n <= *last) || (*step < 0 && n >= *last) => *next = n,
                            _ => *done = true,
                        }
                        self.set(&var, v);
                        Some(line)
                    }
                }
                Gen::Lst { vars, sets, text } => match sets.pop() {
                    Some(set) => {
                        let (vars, line) = (vars.clone(), text.clone());
                        for (var, value) in vars.iter().zip(set) {
                            self.set(var, value);
                        }
                        Some(line)
                    }
                    None => None,
                },
            };
            match line {
                Some(l) => {
                    self.generated += 1;
                    if self.generated > MAX_GENERATED_LINES {
                        return Err(stop(format!(
                            "reading stopped: definitions and ~SEQ/~LST produce more than {MAX_GENERATED_LINES} lines (the generated line limit)"
                        )));
                    }
                    return Ok(Some(l));
                }
                None => {
                    stack.pop();
                }
            }
        }
        Ok(None)
    }

    fn set(&mut self, name: &str, value: String) {
        self.defs.insert(name.to_owned(), Value::Text { text: value, multiline: false });
    }

    /// One line through keepalived's loop: the condition, a definition, a sequence, then
    /// substitution (again while it yields a condition or a `$`). None: nothing to read.
    fn process(&mut self, mut buf: String, dir: &Path, stack: &mut Vec<Gen>) -> Result<Option<String>, Refusal> {
        let mut substituted = false;
        loop {
            if buf.starts_with('@') {
                let rev = buf.starts_with("@^");
                let ofs = if rev { 2 } else { 1 };
                let Some(end) = buf.get(ofs..).and_then(|r| r.find([' ', '\t'])).map(|e| e + ofs) else {
                    return Ok(None);
                };
                if (buf.get(ofs..end) == Some(self.config_id.as_str())) == rev {
                    return Ok(None);
                }
                if substituted {
                    // keepalived 2.2.7 strips the condition with the length the line had
                    // before the substitution: the rest of the line comes out garbled.
                    return Err(refuse(
                        "a definition gives this line a condition (@ID) that holds: keepalived 2.2.7 garbles the rest of such a line; write the condition in the line itself",
                    ));
                }
                buf = buf.get(end..).unwrap_or_default().trim_start_matches([' ', '\t']).to_owned();
            }
            if self.definition(&buf) {
                return Ok(None);
            }
            if buf.starts_with("~SEQ") || buf.starts_with("~LST") {
                let gen = if buf.starts_with("~SEQ") { self.seq(&buf, dir)? } else { lst(&buf)? };
                stack.push(gen);
                return Ok(None);
            }
            if buf.starts_with('~') || !buf.contains('$') {
                return Ok(Some(buf));
            }
            if !self.substitute(&mut buf, dir, stack)? {
                return Ok(Some(buf));
            }
            substituted = true;
            buf = decomment(&buf).map_err(|e| refuse(format!("after substitution: {e}")))?;
            if !(buf.starts_with('@') || buf.contains('$')) {
                return Ok(Some(buf));
            }
        }
    }

    /// `$NAME=VALUE` (keepalived's check_definition): no blank before `=`; the value is the
    /// rest of the line; a value ending in `\` starts a multi-line definition.
    fn definition(&mut self, buf: &str) -> bool {
        let Some(rest) = buf.strip_prefix('$') else { return false };
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return false;
        }
        let Some(eq) = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) else { return false };
        if rest.as_bytes().get(eq) != Some(&b'=') {
            return false;
        }
        let name = rest.get(..eq).unwrap_or_default();
        let value = rest.get(eq + 1..).unwrap_or_default().trim_start_matches([' ', '\t']);
        let (text, multiline) = match value.strip_suffix('\\') {
            Some(v) => {
                let v = v.trim_end_matches([' ', '\t']);
                (if v.is_empty() { String::new() } else { format!("{v}\n") }, true)
            }
            None => (value.to_owned(), false),
        };
        self.defs.insert(name.to_owned(), Value::Text { text, multiline });
        if multiline {
            self.collecting = Some(name.to_owned());
        }
        true
    }

    /// Replaces each defined `$NAME` / `${NAME}` (keepalived's replace_param): a name
    /// without braces must be followed by a blank, `,`, `)` or the end of the line; a
    /// multi-line definition only where it ends the line (its first line replaces it, the
    /// others follow). Whether anything was replaced.
    fn substitute(&mut self, buf: &mut String, dir: &Path, stack: &mut Vec<Gen>) -> Result<bool, Refusal> {
        let (mut pos, mut count) = (0, 0);
        while let Some(i) = buf.get(pos..).and_then(|r| r.find('$')).map(|i| i + pos) {
            let Some((name, len)) = reference(buf, i) else {
                pos = i + 1;
                continue;
            };
            let at_end = i + len == buf.len();
            let value = match self.defs.get(name) {
                Some(Value::Text { multiline: true, .. }) if !at_end => None,
                Some(v) => Some(v.clone()),
                None => None,
            };
            let Some(value) = value else {
                pos = i + 1;
                continue;
            };
            let text = match value {
                Value::Text { text, multiline: false } => text,
                Value::Text { text, multiline: true } => {
                    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
                    lines.reverse();
                    let first = lines.pop().unwrap_or_default();
                    stack.push(Gen::Lines(lines));
                    first
                }
                Value::Pwd => pwd(dir),
                Value::Instance => self.config_id.clone(),
                Value::Random => {
                    if buf.get(i..i + len).is_some_and(|r| r.contains(' ')) {
                        return Err(refuse(
                            "${_RANDOM MIN MAX}: keepalived 2.2.7 garbles the line around it (use ${_RANDOM})",
                        ));
                    }
                    self.random = self.random ^ (self.random << 13) ^ (self.random >> 7) ^ (self.random << 17);
                    (self.random % 32768).to_string()
                }
            };
            if buf.len() - len + text.len() >= MAX_EXPANDED_LINE {
                return Err(refuse(format!(
                    "substituting ${name} makes the line {} bytes or longer: keepalived stops substituting there (\"would exceed maximum line length\") and reads the line half-expanded",
                    MAX_EXPANDED_LINE
                )));
            }
            count += 1;
            if count > MAX_SUBSTITUTIONS {
                return Err(stop(format!(
                    "reading stopped: more than {MAX_SUBSTITUTIONS} substitutions in one line (a definition that uses itself: keepalived would never finish)"
                )));
            }
            let tilde = text.trim_start_matches([' ', '\t']).starts_with('~');
            buf.replace_range(i..i + len, &text);
            if tilde {
                break;
            }
        }
        Ok(count > 0)
    }

    /// `~SEQ(var, [start,] [step,] end) TEXT` and `~SEQx` (keepalived's add_seq).
    fn seq(&mut self, buf: &str, dir: &Path) -> Result<Gen, Refusal> {
        let invalid = || refuse(format!("Invalid ~SEQ specification '{buf}' (keepalived drops the line)"));
        let mut p = buf.get(4..).unwrap_or_default();
        let hex = p.starts_with('x');
        if hex {
            p = p.get(1..).unwrap_or_default();
        }
        p = p.trim_start_matches([' ', '\t']);
        p = p.strip_prefix('(').ok_or_else(invalid)?.trim_start_matches([' ', '\t']);
        let var_end = p.find([' ', '\t', ',', ')']).unwrap_or(p.len());
        let var = p.get(..var_end).unwrap_or_default().to_owned();
        p = p.get(var_end..).unwrap_or_default().trim_start_matches([' ', '\t']);
        if var.is_empty() || p.is_empty() || p.starts_with(')') {
            return Err(invalid());
        }
        let p = p.get(1..).unwrap_or_default().trim_start_matches([' ', '\t']);
        let close = p.find(')').ok_or_else(invalid)?;
        let mut args = p.get(..=close).unwrap_or_default().to_owned();
        let text = p.get(close + 1..).unwrap_or_default().trim_start_matches([' ', '\t']).to_owned();
        let mut inner = Vec::new();
        self.substitute(&mut args, dir, &mut inner)?;
        if !inner.is_empty() {
            return Err(refuse(format!("~SEQ parameter is multiline definition '{buf}'")));
        }
        let nums = parse_seq_args(&args).ok_or_else(invalid)?;
        let (start, step, end) = match nums[..] {
            [end] => (if end < 0 { -1 } else { 1 }, if end < 1 { -1 } else { 1 }, end),
            [start, end] => (start, if start <= end { 1 } else { -1 }, end),
            [start, step, end] => {
                if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
                    return Err(refuse(format!("Invalid ~SEQ values '{buf}' (keepalived drops the line)")));
                }
                (start, step, end)
            }
            _ => return Err(invalid()),
        };
        if hex && (start < 0 || end < 0) {
            return Err(refuse(format!("~SEQx is only valid for positive numbers '{buf}'")));
        }
        Ok(Gen::Seq { var, next: start, step, last: end, hex, text, done: false })
    }
}

/// The name and length of a `$NAME` or `${NAME}` reference at byte `i` of `buf`, if it is
/// one (keepalived's find_definition; `${_RANDOM 1 9}` takes numbers).
fn reference(buf: &str, i: usize) -> Option<(&str, usize)> {
    let after = buf.get(i + 1..)?;
    let braced = after.starts_with('{');
    let name_start = if braced { 1 } else { 0 };
    let body = after.get(name_start..)?;
    if !body.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return None;
    }
    let n = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
    let name = body.get(..n)?;
    let rest = body.get(n..)?;
    if braced {
        let params = rest.len() - rest.trim_start_matches(|c: char| c == ' ' || c.is_ascii_digit()).len();
        let p = rest.get(..params)?;
        if !p.is_empty() && (name != "_RANDOM" || p.ends_with(' ') || p.trim().is_empty()) {
            return None;
        }
        rest.get(params..)?.strip_prefix('}')?;
        Some((name, 1 + 1 + n + params + 1))
    } else {
        match rest.chars().next() {
            None | Some(' ' | '\t' | ',' | ')') => Some((name, 1 + n)),
            _ => None,
        }
    }
}

/// `1, 2, 3)` as C's strtol reads them (base 0: `0x` hex, `0` octal; a missing number is 0).
fn parse_seq_args(s: &str) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    let mut p = s;
    loop {
        let (v, rest) = strtol(p);
        out.push(v);
        p = rest.trim_start_matches([' ', '\t']);
        match p.chars().next() {
            Some(')') => return Some(out),
            Some(',') if out.len() < 3 => p = p.get(1..)?,
            _ => return None,
        }
    }
}

fn strtol(s: &str) -> (i64, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if h.starts_with(|c: char| c.is_ascii_hexdigit()) {
            (16, h)
        } else {
            (8, t)
        }
    } else if t.starts_with('0') {
        (8, t)
    } else {
        (10, t)
    };
    let n = digits.find(|c: char| !c.is_digit(radix)).unwrap_or(digits.len());
    if n == 0 {
        return (0, s);
    }
    let v = i64::from_str_radix(digits.get(..n).unwrap_or_default(), radix).unwrap_or(i64::MAX);
    (if neg { v.saturating_neg() } else { v }, digits.get(n..).unwrap_or_default())
}

/// `~LST(var, v1, v2)` and `~LST({a, b}, {1, 2}, {3, 4})` (keepalived's add_lst).
fn lst(buf: &str) -> Result<Gen, Refusal> {
    let invalid = || refuse(format!("Invalid ~LST specification '{buf}' (keepalived drops the line)"));
    let blanks = |s: &str| s.trim_start_matches([' ', '\t']).len();
    let b = buf.as_bytes();
    let skip = |p: usize| p + (buf.len() - p - blanks(buf.get(p..).unwrap_or_default()));
    let word_end =
        |p: usize, stops: &[u8]| p + b.get(p..).unwrap_or_default().iter().take_while(|c| !stops.contains(c)).count();
    let mut p = skip(4);
    if b.get(p) != Some(&b'(') {
        return Err(invalid());
    }
    p = skip(p + 1);
    let mut end_char = b',';
    if b.get(p) == Some(&b'{') {
        end_char = b'}';
        p = skip(p + 1);
    }
    let mut vars = Vec::new();
    loop {
        let e = word_end(p, b" \t,}");
        vars.push(buf.get(p..e).unwrap_or_default().to_owned());
        p = skip(e);
        match b.get(p) {
            Some(c) if *c == end_char => break,
            Some(b',') => p = skip(p + 1),
            _ => return Err(invalid()),
        }
    }
    if b.get(p) == Some(&b'}') {
        p = skip(p + 1);
    }
    if b.get(p) != Some(&b',') {
        return Err(invalid());
    }
    p = skip(p + 1);
    let mut sets = Vec::new();
    loop {
        let mut end_char = b',';
        if b.get(p) == Some(&b'{') {
            end_char = b'}';
            p = skip(p + 1);
        }
        let mut set = Vec::new();
        loop {
            let e = word_end(p, b" \t,})");
            set.push(buf.get(p..e).unwrap_or_default().to_owned());
            p = skip(e);
            match b.get(p) {
                Some(c) if *c == end_char || (*c == b')' && end_char == b',') => break,
                Some(b',') => p = skip(p + 1),
                _ => return Err(invalid()),
            }
            if set.len() >= vars.len() {
                return Err(refuse(format!(
                    "~LST specification has too many values '{buf}' (keepalived drops the line)"
                )));
            }
        }
        set.resize(vars.len().max(set.len()), String::new());
        sets.push(set);
        if b.get(p) == Some(&b'}') && end_char == b'}' {
            p = skip(p + 1);
        }
        match b.get(p) {
            Some(b')') => break,
            Some(b',') => p = skip(p + 1),
            _ => return Err(invalid()),
        }
    }
    let text = buf.get(p + 1..).unwrap_or_default().trim_start_matches([' ', '\t']).to_owned();
    sets.reverse();
    Ok(Gen::Lst { vars, sets, text })
}

/// `${_PWD}`: the directory of the file being read, as keepalived's getcwd() gives it
/// (absolute, links resolved).
fn pwd(dir: &Path) -> String {
    let abs = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().map(|c| c.join(dir)).unwrap_or_else(|_| dir.to_path_buf())
    };
    abs.canonicalize().unwrap_or(abs).display().to_string()
}

/// keepalived's default configuration id: the host name up to its first dot.
pub(crate) fn default_config_id() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    name.trim().split('.').next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &[&str], id: &str) -> (Vec<String>, Vec<String>) {
        let mut p = Preprocessor::new(id);
        let (mut out, mut errs) = (Vec::new(), Vec::new());
        for l in lines {
            let text = decomment(l).unwrap();
            if l.is_empty() {
                p.blank_line();
            }
            if text.is_empty() {
                continue;
            }
            let (mut first, mut stack) = (Some(text), Vec::new());
            loop {
                match p.next(&mut first, &mut stack, Path::new("/")) {
                    Ok(Some(s)) => out.push(s),
                    Ok(None) => break,
                    Err(e) => errs.push(e.why),
                }
            }
        }
        (out, errs)
    }

    #[test]
    fn references() {
        assert_eq!(reference("$A b", 0), Some(("A", 2)));
        assert_eq!(reference("${A}b", 0), Some(("A", 4)));
        assert_eq!(reference("$A.b", 0), None);
        assert_eq!(reference("$A,", 0), Some(("A", 2)));
        assert_eq!(reference("$1", 0), None);
        assert_eq!(reference("${_RANDOM 1 9}", 0), Some(("_RANDOM", 14)));
        assert_eq!(reference("${X 1}", 0), None);
        assert_eq!(strtol(" 0x1f)"), (31, ")"));
        assert_eq!(strtol("010"), (8, ""));
        assert_eq!(strtol(")"), (0, ")"));
    }

    #[test]
    fn the_man_pages_example() {
        // keepalived.conf(5), "Parameter substitution": 10.2.0.100/32 then 10.2.10.100/32.
        let (out, e) = run(
            &[
                "$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}",
                "$ADDRESS_BASE_SUB=0",
                "${ADDRESS_BASE}.100/32",
                "$ADDRESS_BASE_SUB=10",
                "${ADDRESS_BASE}.100/32",
            ],
            "x",
        );
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(out, ["10.2.0.100/32", "10.2.10.100/32"]);
    }

    #[test]
    fn sequences_and_lists() {
        let (out, e) = run(&["~SEQ(a,1,2) ~SEQx(b,9,3,0xf) x${a}.${b}", "~LST({p,q},{1,2},{3}) y${p}_${q}"], "x");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(out, ["x1.9", "x1.c", "x1.f", "x2.9", "x2.c", "x2.f", "y1_2", "y3_"]);
    }
}
