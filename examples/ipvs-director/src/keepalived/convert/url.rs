//! The `url { ... }` block of HTTP checks: its keyword table and handlers.

use super::super::args::{place_of, Ctx, Place};
use super::super::tree::Node;
use super::keywords::{Block, Keyword, KeywordTable};
use super::shared::{self, Draft, Virtualhost};
use crate::config::{Md5Digest, StatusCodes, Url};

/// A url being read: the `i`th of its check.
struct UrlDraft {
    i: usize,
    url: Url,
    has_path: bool,
    places: Vec<(String, Place)>,
}

type D = UrlDraft;

const REGEX: &str = "regular expression checks are not supported by ipvs-director";

/// The keywords of `url`.
const URL: Block<D> = Block {
    name: "url",
    tables: &[&[
        Keyword::converted("path", "PATH", "url.path", path),
        Keyword::converted("digest", "MD5", "url.digest", digest),
        Keyword::converted("status_code", "CODE|FIRST-LAST ...", "url.status_code", status_code),
        shared::virtualhost(),
        Keyword::refused("regex", REGEX),
        Keyword::refused("regex_no_match", REGEX),
        Keyword::refused("regex_options", REGEX),
        Keyword::refused("regex_min_offset", REGEX),
        Keyword::refused("regex_max_offset", REGEX),
        Keyword::refused("regex_stack", REGEX),
    ]],
    unknown: "unknown keyword in url",
    known: &[],
    counted: true,
    top: false,
};

impl Draft for D {
    fn place(&mut self, field: &str, n: &Node, _: &mut Ctx) {
        self.places.push((format!("url[{}].{field}", self.i), place_of(n)));
    }
}

impl Virtualhost for D {
    fn virtualhost(&mut self) -> &mut Option<String> {
        &mut self.url.virtualhost
    }
}

/// The keywords of `url`, as documented.
pub(super) fn docs() -> KeywordTable {
    URL.docs()
}

/// `url { path P; digest HEX; status_code ...; virtualhost H }`, the `i`th of its check;
/// where its fields came from is added to `places`.
pub(super) fn url(n: &Node, ctx: &mut Ctx, i: usize, places: &mut Vec<(String, Place)>) -> Option<Url> {
    if !n.args().is_empty() {
        ctx.err(n, "takes no argument before its block");
        return None;
    }
    places.push((format!("url[{i}]"), place_of(n)));
    let mut d = UrlDraft { i, url: Url::new(""), has_path: false, places: Vec::new() };
    let nodes = ctx.block(n);
    URL.read(nodes, &mut d, ctx);
    places.append(&mut d.places);
    if !d.has_path {
        ctx.err(n, "needs a path (keepalived drops a url without one)");
        return None;
    }
    Some(d.url)
}

fn path(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.url.path = k.arg(0).unwrap_or_default().to_owned();
        d.has_path = true;
        d.place("path", k, ctx);
    }
}

/// Where the digest came from is not recorded (no native check concerns it).
fn digest(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        match k.arg(0).unwrap_or_default().parse::<Md5Digest>() {
            Ok(digest) => d.url.digest = Some(digest),
            Err(e) => ctx.err(k, e.to_string()),
        }
    }
}

fn status_code(k: &Node, d: &mut D, ctx: &mut Ctx) {
    if k.args().is_empty() {
        return ctx.err(k, "needs codes or ranges");
    }
    let ranges: Result<Vec<_>, _> = k.args().iter().map(|a| StatusCodes::parse_range(a)).collect();
    match ranges.and_then(StatusCodes::new) {
        Ok(c) => d.url.status_codes = c,
        Err(e) => ctx.err(k, e.to_string()),
    }
    d.place("status_code", k, ctx);
}
