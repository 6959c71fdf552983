//! docs/desired-state.md, docs/monitoring.md, docs/migrate-from-ipvsadm.md and the README show what the
//! `ipvs` command prints: every `console` block there is run (on the in-memory kernel, as the block says)
//! and its output compared, exit status included; the TOML file the page shows is the example file itself.
//! The migration page is run as a session in a scratch directory: `$ ipvs ... > FILE` writes FILE there,
//! and its `diff` blocks edit the files they name, in the page's order.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fenced blocks of a page, in order: their language and lines.
fn fenced(page: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in page.lines() {
        match &mut current {
            None => {
                if let Some(lang) = line.strip_prefix("```") {
                    current = Some((lang.trim().to_owned(), Vec::new()));
                }
            }
            Some((_, b)) if line == "```" => {
                let lines = std::mem::take(b);
                out.push((current.take().unwrap().0, lines));
            }
            Some((_, b)) => b.push(line.to_owned()),
        }
    }
    out
}

/// The fenced blocks of a page with the given language: their lines.
fn blocks(page: &str, lang: &str) -> Vec<Vec<String>> {
    fenced(page).into_iter().filter(|(l, _)| l == lang).map(|(_, b)| b).collect()
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

#[test]
fn the_ipvsadm_migration_page_runs_as_a_session() {
    run_session("docs/migrate-from-ipvsadm.md", 8, 3);
}

/// Runs each `console` block of a page (at least `least` of them) from the repository's root and
/// compares.
fn run_console_blocks(page: &str, least: usize) {
    let text = std::fs::read_to_string(root().join(page)).unwrap();
    let consoles = blocks(&text, "console");
    assert!(consoles.len() >= least, "{page}: its console blocks were not found");
    for block in consoles {
        run_console(&block, &root());
    }
}

/// Runs a page's `console` blocks (at least `consoles`) and applies its `diff` blocks (at least
/// `diffs`) in the page's order, in a scratch directory holding a copy of docs/examples.
fn run_session(page: &str, consoles: usize, diffs: usize) {
    let text = std::fs::read_to_string(root().join(page)).unwrap();
    let stem = Path::new(page).file_stem().unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(stem);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("docs/examples")).unwrap();
    for f in std::fs::read_dir(root().join("docs/examples")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join("docs/examples").join(f.file_name())).unwrap();
    }
    let (mut ran, mut patched) = (0, 0);
    for (lang, block) in fenced(&text) {
        match lang.as_str() {
            "console" => {
                run_console(&block, &dir);
                ran += 1;
            }
            "diff" => {
                patch(&block, &dir);
                patched += 1;
            }
            _ => {}
        }
    }
    assert!(ran >= consoles && patched >= diffs, "{page}: {ran} console blocks, {patched} diff blocks");
}

/// Runs the `$ ipvs ...` commands of one console block in `dir`, each compared with the lines
/// up to the next command (`[exit N]` last for a status other than 0). `> FILE` at the end of a
/// command writes its standard output to FILE; then only what it prints on standard error is
/// shown.
fn run_console(block: &[String], dir: &Path) {
    let starts: Vec<usize> = (0..block.len()).filter(|&i| block[i].starts_with("$ ")).collect();
    assert_eq!(starts.first(), Some(&0), "a console block starts with a command: {block:?}");
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(block.len());
        let line = &block[start];
        let command = line.strip_prefix("$ ipvs ").unwrap_or_else(|| panic!("not an ipvs command: {line}"));
        let mut want: Vec<String> = block[start + 1..end].to_vec();
        let code = match want.last().and_then(|l| l.strip_prefix("[exit ")).and_then(|l| l.strip_suffix(']')) {
            Some(c) => {
                let c = c.parse::<i32>().unwrap();
                want.pop();
                c
            }
            None => 0,
        };
        let (args, into) = match command.split_once(" > ") {
            Some((args, file)) => (args, Some(file.trim())),
            None => (command, None),
        };
        let out = Command::new(env!("CARGO_BIN_EXE_ipvs"))
            .args(args.split_whitespace())
            .current_dir(dir)
            .env_remove("IPVS_MOCK")
            .output()
            .unwrap();
        let got = match into {
            Some(file) => {
                std::fs::write(dir.join(file), &out.stdout).unwrap();
                String::from_utf8_lossy(&out.stderr).into_owned()
            }
            None => format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        };
        assert_eq!(got.lines().collect::<Vec<_>>(), want, "{line}");
        assert_eq!(out.status.code(), Some(code), "{line}");
    }
}

/// One hunk of a unified diff: where its old lines start and how many it says there are, the
/// same for its new lines, and the lines themselves.
struct Hunk {
    old_start: usize,
    old_count: usize,
    new_start: usize,
    new_count: usize,
    old: Vec<String>,
    new: Vec<String>,
}

/// `-A,B` or `+A` of a hunk header: start and count (1 when left out).
fn range(r: &str) -> (usize, usize) {
    let (start, count) = r[1..].split_once(',').unwrap_or((&r[1..], "1"));
    (start.parse().unwrap(), count.parse().unwrap())
}

/// Applies a unified diff block (`--- FILE`, `+++ FILE`, then hunks `@@ -A,B +C,D @@`) to FILE
/// in `dir`, checking that each hunk's old lines are where it says and its counts.
fn patch(block: &[String], dir: &Path) {
    let name = block.iter().find_map(|l| l.strip_prefix("+++ ")).expect("a diff block names its file: +++ FILE");
    let path = dir.join(name.trim());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut hunks: Vec<Hunk> = Vec::new();
    for l in block.iter().skip_while(|l| !l.starts_with("@@ ")) {
        if let Some(header) = l.strip_prefix("@@ ").and_then(|h| h.strip_suffix(" @@")) {
            let (old, new) = header.split_once(' ').expect("@@ -A,B +C,D @@");
            let ((old_start, old_count), (new_start, new_count)) = (range(old), range(new));
            hunks.push(Hunk { old_start, old_count, new_start, new_count, old: Vec::new(), new: Vec::new() });
            continue;
        }
        let h = hunks.last_mut().unwrap();
        match l.chars().next() {
            // A blank context line may have lost its leading space in the page.
            None => {
                h.old.push(String::new());
                h.new.push(String::new());
            }
            Some(' ') => {
                h.old.push(l[1..].to_owned());
                h.new.push(l[1..].to_owned());
            }
            Some('-') => h.old.push(l[1..].to_owned()),
            Some('+') => h.new.push(l[1..].to_owned()),
            Some(_) => panic!("{name}: not a diff line: {l}"),
        }
    }
    assert!(!hunks.is_empty(), "{name}: a diff block without hunks");
    let mut delta = 0isize;
    for h in &hunks {
        assert_eq!((h.old.len(), h.new.len()), (h.old_count, h.new_count), "{name}: the counts of a hunk");
        assert_eq!(h.new_start as isize, h.old_start as isize + delta, "{name}: the new start of a hunk");
        let at = h.old_start - 1;
        assert_eq!(
            lines.get(at..at + h.old_count),
            Some(&h.old[..]),
            "{name}: the old lines of the hunk at line {}",
            h.old_start
        );
        delta += h.new_count as isize - h.old_count as isize;
    }
    for h in hunks.iter().rev() {
        let at = h.old_start - 1;
        lines.splice(at..at + h.old_count, h.new.iter().cloned());
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn the_file_the_page_shows_is_the_example_file() {
    let page = std::fs::read_to_string(root().join("docs/desired-state.md")).unwrap();
    let file = std::fs::read_to_string(root().join("docs/examples/web.toml")).unwrap();
    let shown = blocks(&page, "toml");
    assert_eq!(shown[0].join("\n") + "\n", file);
}
