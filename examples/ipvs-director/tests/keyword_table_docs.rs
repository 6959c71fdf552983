//! docs/director-config.md lists keepalived.conf's keywords as the reader's keyword tables
//! say: the list between the markers is rendered from
//! `ipvs_director::keepalived::keyword_tables()` and must match (on a mismatch, the wanted
//! text is printed: paste it in).

use std::collections::HashSet;

use ipvs_director::keepalived::{keyword_tables, KeywordStatus, KeywordTable};

const DOC: &str = include_str!("../../../docs/director-config.md");
const BEGIN: &str = "<!-- keyword tables: rendered from ipvs_director::keepalived::keyword_tables() (tests/keyword_table_docs.rs); change the tables, then paste the test's output here -->";
const END: &str = "<!-- end of keyword tables -->";

/// A table cell: `|` escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn render_table(t: &KeywordTable) -> String {
    let mut out = String::new();
    let title = if t.block == "keepalived.conf" { "Top level".to_owned() } else { format!("`{}`", t.block) };
    out.push_str(&format!("#### {title}\n\n| Keyword | Status | Native field, or why |\n|---|---|---|\n"));
    for k in &t.keywords {
        let statement = if k.args.is_empty() { k.name.to_owned() } else { format!("{} {}", k.name, k.args) };
        let (status, what) = match k.status {
            KeywordStatus::Converted(native) => ("converted", native.to_owned()),
            KeywordStatus::Ignored(why) => ("no effect", format!("warning: {why}")),
            KeywordStatus::Refused(why) => ("refused", format!("error: {why}")),
            KeywordStatus::Unsupported => ("refused", "error: not supported by ipvs-director".to_owned()),
        };
        out.push_str(&format!("| `{}` | {status} | {} |\n", cell(&statement), cell(&what)));
    }
    let known = t.known.iter().filter(|name| !t.keywords.iter().any(|k| k.name == **name)).count();
    if known > 0 {
        out.push_str(&format!(
            "\nAny other keyword keepalived 2.2.7 knows here ({known} more, listed in src/keepalived/convert/known.rs): error: not supported by ipvs-director (keepalived knows it)."
        ));
        out.push_str(&format!(
            " Any other: warning: {}; ignored, as keepalived ignores it (with a block: refused).\n",
            cell(t.unknown)
        ));
    } else {
        out.push_str(&format!(
            "\nAny other keyword: warning: {}; ignored, as keepalived ignores it (with a block: refused).\n",
            cell(t.unknown)
        ));
    }
    out
}

fn render() -> String {
    let tables: Vec<String> = keyword_tables().iter().map(render_table).collect();
    format!("{BEGIN}\n\n{}\n{END}", tables.join("\n"))
}

#[test]
fn the_docs_list_the_keyword_tables() {
    let wanted = render();
    let start = DOC.find(BEGIN).expect("docs/director-config.md has the keyword tables' start marker");
    let end = DOC.find(END).expect("docs/director-config.md has the keyword tables' end marker") + END.len();
    let found = DOC.get(start..end).unwrap_or_default();
    assert!(
        found == wanted,
        "docs/director-config.md's keyword list differs from the keyword tables; wanted:\n{wanted}\n"
    );
}

#[test]
fn each_block_names_a_keyword_once_and_says_why() {
    let tables = keyword_tables();
    let mut blocks = HashSet::new();
    for t in &tables {
        assert!(blocks.insert(t.block), "{} twice", t.block);
        assert!(!t.keywords.is_empty(), "{}", t.block);
        let mut names = HashSet::new();
        for k in &t.keywords {
            assert!(names.insert(k.name), "{} twice in {}", k.name, t.block);
            match k.status {
                KeywordStatus::Converted(why) | KeywordStatus::Ignored(why) | KeywordStatus::Refused(why) => {
                    assert!(!why.is_empty(), "{} in {}", k.name, t.block)
                }
                KeywordStatus::Unsupported => {}
            }
        }
    }
}

#[test]
fn each_block_is_a_keyword_of_another() {
    let tables = keyword_tables();
    for t in tables.iter().skip(1) {
        let opened_by = tables
            .iter()
            .any(|o| o.keywords.iter().any(|k| k.name == t.block && matches!(k.status, KeywordStatus::Converted(_))));
        assert!(opened_by, "no table opens {}", t.block);
    }
}
