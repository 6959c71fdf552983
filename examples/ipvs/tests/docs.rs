//! docs/desired-state.md, docs/monitoring.md and the README show what the `ipvs` command prints: every `console`
//! block there is run (on the in-memory kernel, as the block says) and its output compared, exit status
//! included; the TOML file the page shows is the example file itself.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fenced blocks of a page with the given language: their lines.
fn blocks(page: &str, lang: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in page.lines() {
        match &mut current {
            None if line == format!("```{lang}") => current = Some(Vec::new()),
            Some(b) if line == "```" => {
                out.push(std::mem::take(b));
                current = None;
            }
            Some(b) => b.push(line.to_owned()),
            None => {}
        }
    }
    out
}

#[test]
fn every_command_on_the_desired_state_page_prints_what_the_page_shows() {
    run_console_blocks("docs/desired-state.md", 5);
}

#[test]
fn every_command_on_the_monitoring_page_prints_what_the_page_shows() {
    run_console_blocks("docs/monitoring.md", 1);
}

#[test]
fn every_ipvs_command_in_the_readme_prints_what_the_readme_shows() {
    run_console_blocks("README.md", 1);
}

/// Runs each `console` block of a page (at least `least` of them) and compares.
fn run_console_blocks(page: &str, least: usize) {
    let text = std::fs::read_to_string(root().join(page)).unwrap();
    let consoles = blocks(&text, "console");
    assert!(consoles.len() >= least, "{page}: its console blocks were not found");
    for block in consoles {
        let command = block[0].strip_prefix("$ ipvs ").unwrap_or_else(|| panic!("not an ipvs command: {}", block[0]));
        let mut want: Vec<String> = block[1..].to_vec();
        let code = match want.last().and_then(|l| l.strip_prefix("[exit ")).and_then(|l| l.strip_suffix(']')) {
            Some(c) => {
                let c = c.parse::<i32>().unwrap();
                want.pop();
                c
            }
            None => 0,
        };
        let out = Command::new(env!("CARGO_BIN_EXE_ipvs"))
            .args(command.split_whitespace())
            .current_dir(root())
            .env_remove("IPVS_MOCK")
            .output()
            .unwrap();
        let got = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(got.lines().collect::<Vec<_>>(), want, "$ ipvs {command}");
        assert_eq!(out.status.code(), Some(code), "$ ipvs {command}");
    }
}

#[test]
fn the_file_the_page_shows_is_the_example_file() {
    let page = std::fs::read_to_string(root().join("docs/desired-state.md")).unwrap();
    let file = std::fs::read_to_string(root().join("docs/examples/web.toml")).unwrap();
    let shown = blocks(&page, "toml");
    assert_eq!(shown[0].join("\n") + "\n", file);
}
