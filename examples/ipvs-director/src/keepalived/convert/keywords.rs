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
    /// Accepted without effect, for the reason given.
    Ignored(&'static str),
    /// Refused with this error.
    Refused(&'static str),
    /// A keepalived keyword the director does not support: refused as the block's unknown
    /// keywords are.
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
    /// What an unknown keyword in this block is told.
    pub unknown: &'static str,
    /// Its keywords, in table order.
    pub keywords: Vec<KeywordDoc>,
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

    /// A keepalived keyword refused as the block's unknown keywords are.
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

/// A block: its keyword tables (shared ones and its own), and how it treats keywords it
/// does not know.
pub(crate) struct Block<T: 'static> {
    pub name: &'static str,
    pub tables: &'static [&'static [Keyword<T>]],
    /// The error for an unknown keyword.
    pub unknown: &'static str,
    /// Whether statements are counted by the one-per-block rule at all (the top level and
    /// `authentication` take any number of each).
    pub counted: bool,
    /// How many statements of an unknown keyword the block may hold (each is an error; a
    /// second one of a keyword counted once says it is given twice instead).
    pub unknown_once: fn(&str) -> Once,
}

/// Unknown keywords, like known ones, once per block.
pub(crate) fn each(_: &str) -> Once {
    Once::Each
}

impl<T> Block<T> {
    fn find(&self, keyword: &str) -> Option<&Keyword<T>> {
        self.tables.iter().flat_map(|t| t.iter()).find(|k| k.doc.name == keyword)
    }

    /// Reads `nodes` into `draft`: each statement's keyword looked up, counted by the
    /// one-per-block rule, then handled (or refused). Returns the line of the first
    /// statement of each keyword counted once.
    pub fn read(&self, nodes: &[Node], draft: &mut T, ctx: &mut Ctx) -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for k in nodes {
            let keyword = k.keyword();
            let entry = self.find(keyword);
            let key = match entry.map_or_else(|| (self.unknown_once)(keyword), |e| e.once) {
                _ if !self.counted => None,
                Once::Each => Some(keyword),
                Once::As(synonym) => Some(synonym),
                Once::Repeats => None,
            };
            if key.is_some_and(|key| !ctx.once(&mut seen, key, k)) {
                continue;
            }
            match entry.map(|e| (e.handler, e.doc.status)) {
                Some((Some(handler), _)) => handler(k, draft, ctx),
                Some((None, KeywordStatus::Refused(why))) => ctx.err(k, why),
                _ => ctx.err(k, self.unknown),
            }
        }
        seen
    }

    /// The block's keywords as documented.
    pub fn docs(&self) -> KeywordTable {
        let keywords = self.tables.iter().flat_map(|t| t.iter()).map(|k| k.doc).collect();
        KeywordTable { block: self.name, unknown: self.unknown, keywords }
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
