//! Statements and blocks: the words of one line between braces make a statement, and a `{`
//! after a statement (on its line or a later one) opens its block.

use super::error::{KeepalivedError, Loc};
use super::lexer::{Token, TokenKind};

/// How deep blocks may nest.
const MAX_DEPTH: usize = 32;

/// A statement: its keyword and arguments, and its block if it has one.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub loc: Loc,
    /// The keyword, then the arguments (a quoted word without its quotes).
    pub words: Vec<String>,
    /// The arguments as written (quotes kept), for commands split as keepalived splits
    /// them.
    pub raw: String,
    pub block: Option<Vec<Node>>,
}

impl Node {
    pub fn keyword(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }

    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or_default()
    }

    pub fn arg(&self, i: usize) -> Option<&str> {
        self.words.get(i + 1).map(String::as_str)
    }
}

/// The statements of a token stream, and the problems with its braces.
pub(crate) fn build(tokens: &[Token]) -> (Vec<Node>, Vec<KeepalivedError>) {
    let mut p = Parser { tokens, i: 0, errors: Vec::new() };
    let nodes = p.block(None, 0);
    (nodes, p.errors)
}

struct Parser<'a> {
    tokens: &'a [Token],
    i: usize,
    errors: Vec<KeepalivedError>,
}

impl Parser<'_> {
    fn err(&mut self, loc: &Loc, keyword: &str, reason: &str) {
        self.errors.push(KeepalivedError::new(loc, keyword, reason));
    }

    /// Statements until the `}` closing the block opened by `opener` (or the end).
    fn block(&mut self, opener: Option<(&Loc, &str)>, depth: usize) -> Vec<Node> {
        let mut nodes = Vec::new();
        loop {
            let Some(t) = self.tokens.get(self.i) else {
                if let Some((loc, kw)) = opener {
                    self.err(loc, kw, "its block is not closed (missing '}')");
                }
                return nodes;
            };
            match &t.kind {
                TokenKind::Close => {
                    self.i += 1;
                    if opener.is_some() {
                        return nodes;
                    }
                    self.err(&t.loc, "}", "a '}' closes no block");
                }
                TokenKind::Open => {
                    self.i += 1;
                    self.err(&t.loc, "{", "a '{' with no keyword before it");
                    let loc = t.loc.clone();
                    self.nested(&loc, "{", depth);
                }
                TokenKind::Word(_) => {
                    let node = self.statement(depth);
                    nodes.push(node);
                }
            }
        }
    }

    fn nested(&mut self, loc: &Loc, keyword: &str, depth: usize) -> Vec<Node> {
        if depth >= MAX_DEPTH {
            self.err(loc, keyword, "blocks nest too deeply");
            self.i = self.tokens.len();
            return Vec::new();
        }
        self.block(Some((loc, keyword)), depth + 1)
    }

    fn statement(&mut self, depth: usize) -> Node {
        let first = self.i;
        let mut words = Vec::new();
        let mut last = first;
        while let Some(t) = self.tokens.get(self.i) {
            let same_line = self.tokens.get(first).is_some_and(|f| f.loc == t.loc);
            match &t.kind {
                TokenKind::Word(w) if same_line => {
                    words.push(w.clone());
                    last = self.i;
                    self.i += 1;
                }
                _ => break,
            }
        }
        let (loc, raw) = match (self.tokens.get(first), self.tokens.get(first + 1), self.tokens.get(last)) {
            (Some(f), Some(a), Some(l)) if last > first => {
                (f.loc.clone(), f.line.get(a.span.0..l.span.1).unwrap_or_default().to_owned())
            }
            (Some(f), _, _) => (f.loc.clone(), String::new()),
            _ => (Loc { file: Default::default(), line: 0 }, String::new()),
        };
        let mut node = Node { loc, words, raw, block: None };
        if matches!(self.tokens.get(self.i).map(|t| &t.kind), Some(TokenKind::Open)) {
            self.i += 1;
            let kw = node.keyword().to_owned();
            let loc = node.loc.clone();
            node.block = Some(self.nested(&loc, &kw, depth));
        }
        node
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::lexer::Lexed;
    use super::*;

    fn tree(text: &str) -> (Vec<Node>, Vec<String>) {
        let mut l = Lexed::default();
        l.text(text, Path::new("k.conf"));
        let (nodes, errors) = build(&l.tokens);
        (nodes, errors.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn statements_and_blocks() {
        let (n, e) = tree("a 1 \"2 3\" {\n  b { c }\n  d\n}\ne\n{\nf\n}\n");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].words, ["a", "1", "2 3"]);
        assert_eq!(n[0].raw, "1 \"2 3\"");
        let inner = n[0].block.as_ref().unwrap();
        assert_eq!(inner[0].block.as_ref().unwrap()[0].words, ["c"]);
        assert_eq!(inner[1].loc.line, 3);
        assert_eq!(n[1].block.as_ref().unwrap()[0].words, ["f"]);
    }

    #[test]
    fn brace_errors() {
        let (_, e) = tree("}\n{ x }\na {\n");
        assert_eq!(
            e,
            [
                "k.conf:1: }: a '}' closes no block",
                "k.conf:2: {: a '{' with no keyword before it",
                "k.conf:3: a: its block is not closed (missing '}')"
            ]
        );
        let (_, e) = tree(&"a {".repeat(100));
        assert!(e.iter().any(|x| x.contains("nest too deeply")), "{e:?}");
    }
}
