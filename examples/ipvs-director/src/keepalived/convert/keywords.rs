//! Keyword tables (keepalived's `install_keyword` shape): per block, the keywords it takes,
//! each with its handler and what it is for (converted, accepted without effect, refused),
//! and the one dispatcher that reads a block's statements through its table.

use std::collections::HashMap;

use super::super::args::Ctx;
use super::super::tree::Node;

/// What the director does with a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordStatus {
    /// Converted into the native field(s) named.
    Converted(&'static str),
    /// Accepted without effect, for the reason given, with a warning saying so.
    Ignored(&'static str),
    /// Refused with this error.
    Refused(&'static str),
    /// A keepalived keyword the director does not support: refused ("not supported by
    /// ipvs-director").
    Unsupported,
}

/// One keyword of a block, as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeywordDoc {
    /// The keyword.
    pub name: &'static str,
    /// Its arguments (and block), in keepalived's notation; empty if it takes none.
    pub args: &'static str,
    /// What the director does with it.
    pub status: KeywordStatus,
}

/// The keywords of one block of keepalived.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordTable {
    /// The block (`keepalived.conf` for the top level).
    pub block: &'static str,
    /// What an unknown keyword in this block is: a warning (the keyword ignored, as
    /// keepalived does), or with a block an error.
    pub unknown: &'static str,
    /// Its keywords, in table order.
    pub keywords: Vec<KeywordDoc>,
    /// keepalived 2.2.7's keywords of this block, those not in `keywords` refused (empty
    /// where not listed yet: every keyword not in `keywords` is then unknown).
    pub known: &'static [&'static str],
}

/// How many statements of a keyword a block may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Once {
    /// One (a second is an error naming the first's line).
    Each,
    /// One, counted with the keyword named (its synonym).
    As(&'static str),
    /// Any number.
    Repeats,
}

/// Reads one statement into the block's draft `T`.
pub(crate) type Handler<T> = fn(&Node, &mut T, &mut Ctx);

/// A table entry: the keyword, its documentation and its handler (none if refused).
pub(crate) struct Keyword<T> {
    pub doc: KeywordDoc,
    pub handler: Option<Handler<T>>,
    pub once: Once,
}

impl<T> Keyword<T> {
    /// A keyword `handler` converts into the native field(s) `native`.
    pub const fn converted(name: &'static str, args: &'static str, native: &'static str, handler: Handler<T>) -> Self {
        let doc = KeywordDoc { name, args, status: KeywordStatus::Converted(native) };
        Keyword { doc, handler: Some(handler), once: Once::Each }
    }

    /// A keyword accepted without effect because `why`; `handler` checks its form.
    pub const fn ignored(name: &'static str, args: &'static str, why: &'static str, handler: Handler<T>) -> Self {
        let doc = KeywordDoc { name, args, status: KeywordStatus::Ignored(why) };
        Keyword { doc, handler: Some(handler), once: Once::Each }
    }

    /// A keyword refused with the error `why`.
    pub const fn refused(name: &'static str, why: &'static str) -> Self {
        let doc = KeywordDoc { name, args: "", status: KeywordStatus::Refused(why) };
        Keyword { doc, handler: None, once: Once::Each }
    }

    /// A keepalived keyword the director does not support, refused.
    pub const fn unsupported(name: &'static str) -> Self {
        let doc = KeywordDoc { name, args: "", status: KeywordStatus::Unsupported };
        Keyword { doc, handler: None, once: Once::Each }
    }

    /// The same entry under another name (a synonym).
    pub const fn named(self, name: &'static str) -> Self {
        Keyword { doc: KeywordDoc { name, ..self.doc }, ..self }
    }

    /// The same entry, allowed any number of times in its block.
    pub const fn repeats(self) -> Self {
        Keyword { once: Once::Repeats, ..self }
    }

    /// The same entry, counted as `synonym` by the one-per-block rule.
    pub const fn once_as(self, synonym: &'static str) -> Self {
        Keyword { once: Once::As(synonym), ..self }
    }
}

impl<T> Clone for Keyword<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Keyword<T> {}

/// `table`'s keywords, each refused with the error `why`.
pub(crate) const fn refused_all<T, const N: usize>(table: &[Keyword<T>; N], why: &'static str) -> [Keyword<T>; N] {
    let mut out = *table;
    let mut i = 0;
    while i < N {
        out[i] = Keyword::refused(table[i].doc.name, why);
        i += 1;
    }
    out
}

/// The error for a keepalived keyword the director does not support.
pub(crate) const UNSUPPORTED: &str = "not supported by ipvs-director";

/// What is done with an unknown keyword (after the block's `unknown`): keepalived 2.2.7
/// reports "Unknown keyword 'colour'" and reads on.
pub(crate) const UNKNOWN_DONE: &str = "ignored, as keepalived ignores it";

/// What is done with an unknown keyword that has a block: keepalived 2.2.7 reports
/// "Unexpected '{' - ignoring", reads the block's statements as the enclosing block's own,
/// and its `}` closes the enclosing block; the director does not guess along.
pub(crate) const UNKNOWN_BLOCK: &str =
    "refused: it has a block, whose statements keepalived would read as this block's own (and whose '}' would end this block)";

/// What is done with an unknown keyword that has a block at the top level, where no block
/// encloses it: keepalived 2.2.7 reports "Unexpected '{' - ignoring" and reads the block's
/// statements as top-level ones; its `}` is then an extra one ([`UNKNOWN_TOP_BLOCK_END`]).
pub(crate) const UNKNOWN_TOP_BLOCK: &str =
    "ignored, as keepalived ignores it: its '{' too, so the statements of its block are read at the top level";

/// The `}` of an unknown top-level keyword's block (keepalived: "Unknown keyword '}'").
pub(crate) const UNKNOWN_TOP_BLOCK_END: &str = "the end of an ignored block: ignored, as keepalived ignores it";

/// A block: its keyword tables (shared ones and its own), and what it calls a keyword it
/// does not know.
pub(crate) struct Block<T: 'static> {
    pub name: &'static str,
    pub tables: &'static [&'static [Keyword<T>]],
    /// What an unknown keyword is (`unknown keyword in url`): a warning, the keyword
    /// ignored ([`UNKNOWN_DONE`]); with a block, an error ([`UNKNOWN_BLOCK`]).
    pub unknown: &'static str,
    /// keepalived 2.2.7's keywords of this block (see [`super::known`]): one not in the
    /// block's tables is refused ([`UNSUPPORTED`]), not ignored as unknown.
    pub known: &'static [&'static str],
    /// Whether statements are counted by the one-per-block rule at all (the top level and
    /// `authentication` take any number of each).
    pub counted: bool,
    /// The top level: an unknown keyword's block is read as top-level statements
    /// ([`UNKNOWN_TOP_BLOCK`]), not refused.
    pub top: bool,
}

impl<T> Block<T> {
    fn find(&self, keyword: &str) -> Option<&Keyword<T>> {
        self.tables.iter().flat_map(|t| t.iter()).find(|k| k.doc.name == keyword)
    }

    /// Reads `nodes` into `draft`: each statement's keyword looked up, counted by the
    /// one-per-block rule, then handled (or refused); an unknown keyword is warned about and
    /// ignored, as keepalived does, and so is, after its handler checked it, a keyword
    /// accepted without effect. Returns the line of the first statement of each keyword
    /// counted once.
    pub fn read(&self, nodes: &[Node], draft: &mut T, ctx: &mut Ctx) -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for k in nodes {
            let keyword = k.keyword();
            let Some(entry) = self.find(keyword) else {
                match &k.block {
                    _ if self.known.contains(&keyword) => ctx.err(k, format!("{UNSUPPORTED} (keepalived knows it)")),
                    Some(inner) if self.top => {
                        // keepalived: "Unexpected '{' - ignoring"; the block's statements are
                        // read at the top level, and its '}' is an extra one.
                        ctx.warn(k, format!("{}; {UNKNOWN_TOP_BLOCK}", self.unknown));
                        self.read(inner, draft, ctx);
                        if let Some(end) = &k.end {
                            ctx.warn_at(end, "}", UNKNOWN_TOP_BLOCK_END);
                        }
                    }
                    Some(_) => ctx.err(k, format!("{}: {UNKNOWN_BLOCK}", self.unknown)),
                    None => ctx.warn(k, format!("{}; {UNKNOWN_DONE}", self.unknown)),
                }
                continue;
            };
            let key = match entry.once {
                _ if !self.counted => None,
                Once::Each => Some(keyword),
                Once::As(synonym) => Some(synonym),
                Once::Repeats => None,
            };
            if key.is_some_and(|key| !ctx.once(&mut seen, key, k)) {
                continue;
            }
            match (entry.handler, entry.doc.status) {
                (Some(handler), KeywordStatus::Ignored(why)) => {
                    let before = ctx.errors.len();
                    handler(k, draft, ctx);
                    if ctx.errors.len() == before {
                        ctx.warn(k, format!("accepted without effect: {why}"));
                    }
                }
                (Some(handler), _) => handler(k, draft, ctx),
                (None, KeywordStatus::Refused(why)) => ctx.err(k, why),
                (None, _) => ctx.err(k, UNSUPPORTED),
            }
        }
        seen
    }

    /// The block's keywords as documented.
    pub fn docs(&self) -> KeywordTable {
        let keywords = self.tables.iter().flat_map(|t| t.iter()).map(|k| k.doc).collect();
        KeywordTable { block: self.name, unknown: self.unknown, keywords, known: self.known }
    }
}

/// How many of `table`'s keywords are accepted without effect.
pub(crate) const fn count_ignored<T>(table: &[Keyword<T>]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < table.len() {
        if let KeywordStatus::Ignored(_) = table[i].doc.status {
            n += 1;
        }
        i += 1;
    }
    n
}

/// `table`'s keywords accepted without effect, with why (`N` of them: [`count_ignored`]).
pub(crate) const fn ignored<T, const N: usize>(table: &[Keyword<T>]) -> [(&'static str, &'static str); N] {
    let mut out = [("", ""); N];
    let (mut i, mut n) = (0, 0);
    while i < table.len() {
        if let KeywordStatus::Ignored(why) = table[i].doc.status {
            out[n] = (table[i].doc.name, why);
            n += 1;
        }
        i += 1;
    }
    out
}
