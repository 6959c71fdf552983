//! docs/director-config.md stays true: its TOML examples read and validate, and the keywords
//! it says are ignored are the ones the reader ignores.

use ipvs_director::config::Config;
use ipvs_director::keepalived::{read_str, IGNORED_GLOBAL_DEFS};

const DOC: &str = include_str!("../../../docs/director-config.md");

fn blocks(lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in DOC.lines() {
        match &mut cur {
            None if line.trim() == format!("```{lang}") => cur = Some(String::new()),
            Some(_) if line.trim() == "```" => out.extend(cur.take()),
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn toml_examples_read_and_round_trip() {
    let examples = blocks("toml");
    assert!(!examples.is_empty());
    for text in examples {
        let c = Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(Config::from_toml(&c.to_toml()).unwrap(), c);
    }
}

#[test]
fn the_example_is_the_seed_scenario() {
    let c = Config::from_toml(&blocks("toml")[0]).unwrap();
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.real_servers.len(), 4);
    assert_eq!(vs.total_weight(), 6);
    assert!(vs.sorry_server.is_some());
}

#[test]
fn ignored_keywords_are_documented() {
    for (kw, _) in IGNORED_GLOBAL_DEFS {
        assert!(DOC.contains(&format!("`{kw}`")) || DOC.contains(&format!("`{kw} ")), "{kw} is not in the doc");
        let conf = format!("global_defs {{\n    {kw} x\n}}\n");
        let conf = if kw == "notification_email" {
            "global_defs {\n    notification_email {\n        a@example.org\n    }\n}\n".to_owned()
        } else {
            conf
        };
        assert!(read_str(&conf, "k.conf").is_ok(), "{kw}");
    }
}
