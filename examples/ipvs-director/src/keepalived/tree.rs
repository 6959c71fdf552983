//! Statements and blocks: the words of one line between braces make a statement, and a `{`
//! after a statement (on its line or a later one) opens its block.

use std::sync::Arc;

use super::error::{Errors, Loc};
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
        Node { loc: self.loc, words, raw, block: None }
    }
}

/// An open block: the statement it belongs to (none for a stray `{`, whose statements are
/// dropped), and its statements so far.
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
                        Some(frame) => self.close(frame),
                        None => errors.push(loc, "}", "a '}' closes no block"),
                    }
                }
            }
        }
    }

    fn close(&mut self, frame: Frame) {
        let Frame { owner, mut nodes, .. } = frame;
        if let Some(mut node) = owner {
            nodes.shrink_to_fit();
            node.block = Some(nodes);
            self.current().push(node);
        }
    }

    /// The statements, every block still open reported (and closed).
    pub fn finish(mut self, errors: &mut Errors) -> Vec<Node> {
        self.flush();
        while let Some(frame) = self.open.pop() {
            errors.push(&frame.opener.0, &frame.opener.1, "its block is not closed (missing '}')");
            self.close(frame);
        }
        self.top.shrink_to_fit();
        self.top
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
        let (nodes, errors) = l.finish();
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
        assert_eq!(e, ["k.conf:1: a: reading stopped: blocks nest deeper than 32 (the block depth limit)"]);
        let (n, e) = tree("a { b\n}\n");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(n[0].block.as_ref().unwrap()[0].words, ["b"]);
    }
}
