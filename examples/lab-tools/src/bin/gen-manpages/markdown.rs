//! Markdown, the subset the project's documents use, as the body of a manual page: headings
//! (`#` skipped, `##` a section, deeper a subsection), paragraphs, bulleted and numbered
//! lists, fenced code, tables (as tbl(1) tables: the page must start with `'\" t`) and HTML
//! comments (dropped); in text, `code` and **strong** in bold, [links](...) as their text.
//! The escaping of text is the `roff` crate's.

use clap_mangen::roff::{bold, roman, Inline, Roff};

/// Stands for a place a table cell's line may break (after `_`, `|`, `/` or `.`: long names in
/// narrow columns); [`break_points`] turns it into roff's `\:` once the page is rendered (the
/// `roff` crate escapes every backslash it is given).
const BREAK: char = '\u{E000}';

/// The rendered page with its break points (see [`BREAK`]).
pub fn break_points(rendered: &str) -> String {
    rendered.replace(BREAK, "\\:")
}

/// Whether a page with this body needs tbl(1) (its first line then is `'\" t`).
pub fn has_table(markdown: &str) -> bool {
    markdown.lines().any(|l| l.trim_start().starts_with('|'))
}

/// Appends `markdown` to `page`. Text before the first `##` heading goes under `intro`, a
/// section heading (`DESCRIPTION`, say), when it is given.
pub fn append(page: &mut Roff, markdown: &str, intro: Option<&str>) {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut intro = intro;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            i += 1;
            continue;
        }
        if let Some(heading) = heading(line) {
            match heading {
                (1, _) => {}
                (2, text) => {
                    intro = None;
                    page.control("SH", [plain(text).to_uppercase().as_str()]);
                }
                (_, text) => {
                    page.control("SS", [plain(text).as_str()]);
                }
            }
            i += 1;
            continue;
        }
        if let Some(name) = intro.take() {
            page.control("SH", [name]);
        }
        i = if trimmed.starts_with("<!--") {
            comment(&lines, i)
        } else if trimmed.starts_with("```") {
            code(page, &lines, i)
        } else if trimmed.starts_with('|') {
            table(page, &lines, i)
        } else if item(line).is_some() {
            list_item(page, &lines, i)
        } else {
            paragraph(page, &lines, i)
        };
    }
}

/// `(level, text)` of a heading line.
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.bytes().take_while(|&b| b == b'#').count();
    let rest = line.get(level..)?;
    (level > 0 && rest.starts_with(' ')).then(|| (level, rest.trim()))
}

/// `(marker, text)` of a list item's first line: `\(bu` for `*` and `-`, `N.` for a number.
fn item(line: &str) -> Option<(String, &str)> {
    if let Some(text) = line.strip_prefix("* ").or_else(|| line.strip_prefix("- ")) {
        return Some((r"\(bu".to_owned(), text));
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let text = line.get(digits..)?.strip_prefix(". ")?;
    (digits > 0).then(|| (format!("{}.", &line[..digits]), text))
}

/// Skips an HTML comment; the index of the line after it.
fn comment(lines: &[&str], start: usize) -> usize {
    let end = (start..lines.len()).find(|&j| lines[j].contains("-->")).unwrap_or(lines.len() - 1);
    end + 1
}

/// A fenced code block, shown as it is.
fn code(page: &mut Roff, lines: &[&str], start: usize) -> usize {
    page.control("PP", []).control("RS", ["4"]).control("nf", []);
    let mut i = start + 1;
    while i < lines.len() && !lines[i].trim_start().starts_with("```") {
        page.text([roman(lines[i])]);
        i += 1;
    }
    page.control("fi", []).control("RE", []);
    i + 1
}

/// The cells of a table row: split at `|` not escaped as `\|`.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row.strip_suffix('|').unwrap_or(row);
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cell.push('|');
            }
            '|' => out.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    out.push(cell);
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

/// A table: the header row in bold, each cell a tbl text block (so that it wraps).
fn table(page: &mut Roff, lines: &[&str], start: usize) -> usize {
    let end = (start..lines.len()).find(|&j| !lines[j].trim_start().starts_with('|')).unwrap_or(lines.len());
    let rows: Vec<Vec<String>> = lines[start..end]
        .iter()
        .map(|l| cells(l))
        .filter(|r| !r.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':'))))
        .collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(1);
    // Narrow columns are set ragged right (adjusting them would stretch their words apart).
    page.control("PP", []).control("ad", ["l"]).control("TS", []);
    page.text([roman("allbox;")]);
    page.text([roman(format!("{}.", vec!["lx"; columns].join(" ")))]);
    for (n, row) in rows.iter().enumerate() {
        let mut line: Vec<Inline> = Vec::new();
        for c in 0..columns {
            let text = row.get(c).map_or("", String::as_str);
            line.push(roman(if c == 0 { "T{" } else { "\tT{" }));
            page.text(std::mem::take(&mut line));
            let breakable: String = text
                .chars()
                .flat_map(|c| [Some(c), matches!(c, '_' | '|' | '/' | '.').then_some(BREAK)])
                .flatten()
                .collect();
            let mut content = inline(&breakable);
            if n == 0 {
                content = content.into_iter().map(|i| bold(inline_text(&i))).collect();
            }
            if !content.is_empty() {
                page.text(content);
            }
            line.push(roman("T}"));
        }
        page.text(line);
    }
    page.control("TE", []).control("ad", ["b"]);
    end
}

/// A list item with its indented continuation lines.
fn list_item(page: &mut Roff, lines: &[&str], start: usize) -> usize {
    let Some((marker, first)) = item(lines[start]) else { return start + 1 };
    let mut text = first.trim().to_owned();
    let mut i = start + 1;
    while i < lines.len() && lines[i].starts_with(' ') && !lines[i].trim().is_empty() {
        text.push(' ');
        text.push_str(lines[i].trim());
        i += 1;
    }
    let width = if marker.ends_with('.') { "4" } else { "2" };
    page.control("IP", [marker.as_str(), width]);
    page.text(inline(&text));
    i
}

/// A paragraph: lines up to a blank line or the start of another block.
fn paragraph(page: &mut Roff, lines: &[&str], start: usize) -> usize {
    let mut text = String::new();
    let mut i = start;
    while i < lines.len() {
        let l = lines[i];
        let t = l.trim_start();
        let other = t.is_empty()
            || heading(l).is_some()
            || t.starts_with("```")
            || t.starts_with('|')
            || t.starts_with("<!--")
            || (i > start && item(l).is_some());
        if other {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(t);
        i += 1;
    }
    page.control("PP", []);
    page.text(inline(&text));
    i
}

/// The text of an inline element.
fn inline_text(i: &Inline) -> String {
    match i {
        Inline::Roman(s) | Inline::Bold(s) | Inline::Italic(s) => s.clone(),
        Inline::LineBreak => String::new(),
    }
}

/// A heading's text without its markup.
fn plain(text: &str) -> String {
    inline(text).iter().map(inline_text).collect()
}

/// Text with `code`, **strong** and [links](target): code and strong in bold, a link as its
/// text (an outside link with its address after it).
fn inline(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    let mut strong = false;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix('`') {
            if let Some(end) = after.find('`') {
                flush(&mut out, &mut plain, strong);
                out.push(bold(&after[..end]));
                rest = &after[end + 1..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix("**") {
            flush(&mut out, &mut plain, strong);
            strong = !strong;
            rest = after;
            continue;
        }
        if let Some((label, target, after)) = link(rest) {
            flush(&mut out, &mut plain, strong);
            let parts = inline(label);
            out.extend(if strong { parts.iter().map(|i| bold(inline_text(i))).collect() } else { parts });
            if target.starts_with("http") {
                out.push(roman(format!(" <{target}>")));
            }
            rest = after;
            continue;
        }
        plain.push(c);
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut out, &mut plain, strong);
    out
}

/// `[label](target)` at the start of `s`: the label, the target and what follows.
fn link(s: &str) -> Option<(&str, &str, &str)> {
    let after = s.strip_prefix('[')?;
    let close = after.find("](")?;
    let label = &after[..close];
    if label.contains('[') || label.contains(']') {
        return None;
    }
    let target_and_rest = &after[close + 2..];
    let end = target_and_rest.find(')')?;
    Some((label, &target_and_rest[..end], &target_and_rest[end + 1..]))
}

/// Moves the text gathered so far into `out`, in bold when within **...**.
fn flush(out: &mut Vec<Inline>, plain: &mut String, strong: bool) {
    if !plain.is_empty() {
        let text = std::mem::take(plain);
        out.push(if strong { bold(text) } else { roman(text) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(markdown: &str) -> String {
        let mut page = Roff::new();
        append(&mut page, markdown, Some("DESCRIPTION"));
        page.to_roff()
    }

    #[test]
    fn headings_paragraphs_and_inline_markup() {
        let out = render("# Title\n\nIntro `--config` and **strong** [docs](x.md).\nmore\n\n## The file\n\n### `[global]`\n\nText.\n");
        let want = ".SH DESCRIPTION\n.PP\nIntro \\fB\\-\\-config\\fR and \\fBstrong\\fR docs. more\n\
                    .SH \"THE FILE\"\n.SS [global]\n.PP\nText.\n";
        assert_eq!(out, want);
    }

    #[test]
    fn code_blocks_keep_their_lines_and_escape_control_characters() {
        let out = render("```toml\n.leading dot\n[x]\n```\n");
        assert!(out.contains(".nf\n\\&.leading dot\n[x]\n.fi\n"), "{out}");
    }

    #[test]
    fn tables_become_tbl_text_blocks_with_escaped_bars() {
        let out = render("| Key | Meaning |\n|---|---|\n| `a\\|b` | one |\n");
        assert!(out.contains(".ad l\n.TS\nallbox;\nlx lx.\n"), "{out}");
        assert!(out.contains("T{\n\\fBKey\\fR\nT}\tT{\n\\fBMeaning\\fR\nT}\n"), "{out}");
        assert!(break_points(&out).contains("T{\n\\fBa|\\:b\\fR\nT}\tT{\none\nT}\n.TE\n.ad b\n"), "{out}");
        assert!(has_table("x\n| a |\n"));
        assert!(!has_table("x\n"));
    }

    #[test]
    fn lists_join_their_continuation_lines_and_comments_vanish() {
        let out = render("<!-- hidden\nstill -->\n1. **First.**\n   more\n2. Second\n* bullet\n");
        assert!(!out.contains("hidden"), "{out}");
        assert!(out.contains(".IP 1. 4\n\\fBFirst.\\fR more\n.IP 2. 4\nSecond\n.IP \\(bu 2\nbullet\n"), "{out}");
    }

    #[test]
    fn outside_links_keep_their_address() {
        assert_eq!(inline("[a](https://example.invalid)"), vec![roman("a"), roman(" <https://example.invalid>")]);
    }
}
