//! Statements and blocks: the words of one line between braces make a statement, and a `{`
//! after a statement (on its line or a later one) opens its block.

use std::sync::Arc;

use super::error::{Errors, KeepalivedWarning, Loc};
use super::lexer::MAX_ERRORS;
use super::lexer::{Token, TokenKind};

/// How deep `{ ... }` blocks may nest (keepalived's deepest is 4: `virtual_server`,
/// `real_server`, a checker, `url`); deeper nesting stops the reading with an error.
pub const MAX_BLOCK_DEPTH: usize = 32;

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
    /// Where the `}` that closed its block is (None: no block, or closed at the end).
    pub end: Option<Loc>,
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

/// A statement being read: its words so far, and where its arguments are in its line.
struct Pending {
    loc: Loc,
    line: Arc<str>,
    words: Vec<String>,
    /// The byte range of the arguments in `line`.
    args: Option<(usize, usize)>,
    /// Whether words may still join it (they must be on its line).
    open: bool,
}

impl Pending {
    fn node(self) -> Node {
        let raw = self.args.and_then(|(a, b)| self.line.get(a..b)).unwrap_or_default().to_owned();
        let mut words = self.words;
        words.shrink_to_fit();
        Node { loc: self.loc, words, raw, block: None, end: None }
    }
}

/// An open block: the statement it belongs to (none for a stray `{` in a block, whose
/// statements are dropped), and its statements so far.
struct Frame {
    owner: Option<Node>,
    opener: (Loc, String),
    nodes: Vec<Node>,
}

/// Builds the statements from the tokens of one line at a time, without recursion: the open
/// blocks are a stack no deeper than [`MAX_BLOCK_DEPTH`].
#[derive(Default)]
pub(crate) struct Builder {
    top: Vec<Node>,
    open: Vec<Frame>,
    pending: Option<Pending>,
    /// Set once blocks nest too deeply: the rest is not read.
    dead: bool,
    /// What keepalived warns about and reads on from: a `}` that closes no block, a `{` with
    /// no keyword at the top level, a block still open at the end.
    warnings: BlockWarnings,
}

/// The warnings about braces: the first [`MAX_ERRORS`], and how many more there were.
#[derive(Default)]
pub(crate) struct BlockWarnings {
    pub list: Vec<KeepalivedWarning>,
    pub unlisted: usize,
}

impl BlockWarnings {
    fn push(&mut self, loc: &Loc, keyword: &str, what: &str) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(KeepalivedWarning::new(loc, keyword, what));
        } else {
            self.unlisted += 1;
        }
    }
}

impl Builder {
    fn current(&mut self) -> &mut Vec<Node> {
        match self.open.last_mut() {
            Some(f) => &mut f.nodes,
            None => &mut self.top,
        }
    }

    fn flush(&mut self) {
        if let Some(p) = self.pending.take() {
            let node = p.node();
            self.current().push(node);
        }
    }

    /// The tokens of one line (`line` is its text, `loc` its place).
    pub fn line(&mut self, tokens: Vec<Token>, line: &Arc<str>, loc: &Loc, errors: &mut Errors) {
        if let Some(p) = &mut self.pending {
            p.open = false;
        }
        for t in tokens {
            if self.dead || errors.stopped() {
                return;
            }
            match t.kind {
                TokenKind::Word(w) => match &mut self.pending {
                    Some(p) if p.open => {
                        p.words.push(w);
                        p.args = Some((p.args.map_or(t.span.0, |a| a.0), t.span.1));
                    }
                    _ => {
                        self.flush();
                        self.pending = Some(Pending {
                            loc: loc.clone(),
                            line: line.clone(),
                            words: vec![w],
                            args: None,
                            open: true,
                        });
                    }
                },
                TokenKind::Open => {
                    let (owner, opener) = match self.pending.take() {
                        Some(p) => {
                            let node = p.node();
                            let opener = (node.loc.clone(), node.keyword().to_owned());
                            (Some(node), opener)
                        }
                        None if self.open.is_empty() => {
                            // keepalived: "Unexpected '{' - ignoring"; what follows is read at
                            // the top level, and its `}` is an extra one.
                            let what = "a '{' with no keyword before it: ignored, as keepalived ignores it (what follows is read at the top level)";
                            self.warnings.push(loc, "{", what);
                            continue;
                        }
                        None => {
                            errors.push(loc, "{", "a '{' with no keyword before it");
                            (None, (loc.clone(), "{".to_owned()))
                        }
                    };
                    if self.open.len() >= MAX_BLOCK_DEPTH {
                        errors.stop(
                            &opener.0,
                            &opener.1,
                            format!(
                                "reading stopped: blocks nest deeper than {MAX_BLOCK_DEPTH} (the block depth limit)"
                            ),
                        );
                        self.dead = true;
                        return;
                    }
                    self.open.push(Frame { owner, opener, nodes: Vec::new() });
                }
                TokenKind::Close => {
                    self.flush();
                    match self.open.pop() {
                        Some(frame) => self.close(frame, Some(loc)),
                        None => {
                            let what =
                                "a '}' that closes no block: ignored, as keepalived ignores it (\"Extra '}' found\")";
                            self.warnings.push(loc, "}", what);
                        }
                    }
                }
            }
        }
    }

    fn close(&mut self, frame: Frame, end: Option<&Loc>) {
        let Frame { owner, mut nodes, .. } = frame;
        if let Some(mut node) = owner {
            nodes.shrink_to_fit();
            node.block = Some(nodes);
            node.end = end.cloned();
            self.current().push(node);
        }
    }

    /// The statements and the warnings, every block still open warned about and closed
    /// (keepalived: "There are N missing '}'s or extra '{'s", and it runs).
    pub fn finish(mut self) -> (Vec<Node>, BlockWarnings) {
        self.flush();
        while let Some(frame) = self.open.pop() {
            if !self.dead {
                let what = "its block is not closed (missing '}'): closed at the end, as keepalived closes it";
                self.warnings.push(&frame.opener.0, &frame.opener.1, what);
            }
            self.close(frame, None);
        }
        self.top.shrink_to_fit();
        (self.top, self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::lexer::Lexed;
    use super::*;

    /// The statements, then the errors and the warnings.
    fn tree(text: &str) -> (Vec<Node>, Vec<String>) {
        let mut l = Lexed::default();
        l.text(text, Path::new("k.conf"));
        let (nodes, errors, warnings) = l.finish();
        (nodes, errors.iter().map(|e| e.to_string()).chain(warnings.list.iter().map(|w| w.to_string())).collect())
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
    fn brace_problems_keepalived_reads_on_from() {
        // keepalived 2.2.7: "Extra '}' found", "Unexpected '{' - ignoring" (x and the '}' then
        // read at the top level), "There are 1 missing '}'s or extra '{'s"; it runs.
        let (n, e) = tree("}\n{ x }\na {\n");
        assert_eq!(
            e,
            [
                "k.conf:1: warning: }: a '}' that closes no block: ignored, as keepalived ignores it (\"Extra '}' found\")",
                "k.conf:2: warning: {: a '{' with no keyword before it: ignored, as keepalived ignores it (what follows is read at the top level)",
                "k.conf:2: warning: }: a '}' that closes no block: ignored, as keepalived ignores it (\"Extra '}' found\")",
                "k.conf:3: warning: a: its block is not closed (missing '}'): closed at the end, as keepalived closes it"
            ]
        );
        assert_eq!(n.iter().map(|n| n.keyword()).collect::<Vec<_>>(), ["x", "a"]);
        // In a block, a '{' with no keyword is still refused (keepalived would end the block
        // at its '}').
        let (_, e) = tree("a {\n{ x }\n}\n");
        assert_eq!(e, ["k.conf:2: {: a '{' with no keyword before it"]);
        let (_, e) = tree(&"a {".repeat(100));
        assert_eq!(e, ["k.conf:1: a: reading stopped: blocks nest deeper than 32 (the block depth limit)"]);
        let (n, e) = tree("a { b\n}\n");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(n[0].block.as_ref().unwrap()[0].words, ["b"]);
    }
}
