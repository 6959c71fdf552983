//! Limits of the keepalived.conf reader on hostile input: include graphs that multiply, huge
//! lines and deep braces, brace patterns past their limit, file text with control characters,
//! and paths naming something other than a regular file. Every case that could hang runs in
//! a thread bounded by a generous timeout, and memory is checked on the built binary under
//! `ulimit -v`; nothing asserts on speed.

mod common;

use std::path::{Path, PathBuf};

use common::{within, TempDir};
use ipvs_director::keepalived::{
    self, KeepalivedErrors, MAX_BLOCK_DEPTH, MAX_ERRORS, MAX_EXPANSIONS, MAX_FILES, MAX_INCLUDE_DEPTH, MAX_LINE_BYTES,
    MAX_WORDS,
};

/// A fresh scratch directory for this test, removed on drop.
fn scratch(name: &str) -> TempDir {
    TempDir::new("kalimits", name)
}

const VS: &str = "virtual_server 192.0.2.10 80 {\n  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n  real_server 198.51.100.11 80 {\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n";

fn read_file_within(secs: u64, path: PathBuf) -> Result<keepalived_config::Config, KeepalivedErrors> {
    within(secs, move || keepalived::read_file(path))
}

mod keepalived_config {
    pub use ipvs_director::config::Config;
}

fn messages(e: &KeepalivedErrors) -> Vec<String> {
    e.0.iter().map(|e| e.to_string()).collect()
}

/// Runs `ipvs-director --keepalived FILE --check-config` under `ulimit -v KIB`, killed after
/// `secs`: (exit code, stdout, stderr).
fn check_limited(kib: u64, secs: u64, file: &Path) -> (i32, String, String) {
    let args = ["--keepalived", file.to_str().unwrap(), "--check-config"];
    common::run_under_ulimit(kib, secs, &args, &format!("--check-config of {}", file.display()))
}

// Row 1: include graphs that multiply stop at a limit, with one error naming it.

#[test]
fn files_including_each_other_by_a_glob_stop_at_a_limit() {
    let d = scratch("graph");
    for i in 0..10 {
        d.write(&format!("f{i}.conf"), "include f*.conf\n");
    }
    let main = d.write("main.conf", "include f*.conf\n");
    let e = read_file_within(60, main).unwrap_err();
    assert!(e.0.len() <= MAX_ERRORS + 1, "{} errors", e.0.len());
    let last = e.0.last().unwrap().to_string();
    assert!(
        last.contains(&format!("more than {MAX_FILES} files")) || last.contains(&format!("stopped after {MAX_ERRORS}")),
        "{last}"
    );
}

#[test]
fn a_chain_including_the_next_file_ten_times_stops_at_a_limit() {
    // 17 files: deeper than the include depth limit; 12 files: within it, but 10^11 reads.
    for (files, limit) in [
        (17, format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files (the include depth limit)")),
        (12, format!("more than {MAX_FILES} files read")),
    ] {
        let d = scratch(&format!("chain{files}"));
        for i in 0..files {
            d.write(&format!("c{i}.conf"), format!("include c{}.conf\n", i + 1).repeat(10));
        }
        d.write(&format!("c{files}.conf"), "");
        let e = read_file_within(60, d.path().join("c0.conf")).unwrap_err();
        let all = messages(&e);
        assert_eq!(all.len(), 1, "{:?}", &all[..all.len().min(5)]);
        assert!(all[0].contains(&limit) && all[0].contains(": include: reading stopped: "), "{all:?}");
    }
}

#[test]
fn errors_stop_being_collected_at_the_limit() {
    // `SSL` (keepalived's, not supported here) is refused wherever it is.
    let text = "SSL\n".repeat(MAX_ERRORS * 5);
    let e = within(60, move || keepalived::read_str(&text, "k.conf")).unwrap_err();
    assert_eq!(e.0.len(), MAX_ERRORS + 1);
    assert_eq!(
        e.0.last().unwrap().to_string(),
        format!("k.conf:{}: too many errors; stopped after {MAX_ERRORS}", MAX_ERRORS + 1)
    );
}

#[test]
fn a_file_above_the_size_limit_is_refused_by_size() {
    let d = scratch("big");
    let main = d.write("main.conf", format!("include big.conf\n{VS}"));
    let f = std::fs::File::create(d.path().join("big.conf")).unwrap();
    f.set_len(keepalived::MAX_FILE_BYTES + 1).unwrap();
    let e = read_file_within(60, main).unwrap_err();
    let all = messages(&e);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].contains(&format!("larger than the limit of {} bytes", keepalived::MAX_FILE_BYTES)), "{all:?}");
}

#[test]
fn the_bytes_of_all_files_are_limited_together() {
    let d = scratch("total");
    // A file of 6 MiB of comments, included 11 times: below each file's limit, above the total.
    let chunk = format!("# {}\n", "x".repeat(1 << 12));
    d.write("part.conf", chunk.repeat((6 << 20) / chunk.len()));
    let main = d.write("main.conf", format!("{VS}{}", "include part.conf\n".repeat(11)));
    let e = read_file_within(60, main).unwrap_err();
    let all = messages(&e);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].contains(&format!("more than {} bytes", keepalived::MAX_TOTAL_BYTES)), "{all:?}");
}

// Row 4: memory bounded on huge lines and many statements; deep braces without recursion.

/// The memory a `--check-config` may take on these inputs: the binary itself needs less
/// than 20 MiB of address space; before the fix a 10 MB line of `}` took 3.2 GB.
const ULIMIT_KIB: u64 = 640 << 10;

#[test]
fn a_10_mb_line_of_braces_stays_within_memory() {
    let d = scratch("line");
    // A line past the line limit stops the reading; extra braces at the top level are
    // warnings, as keepalived's ("Extra '}' found", "Unexpected '{' - ignoring"), listed up
    // to the limit: an empty configuration, valid.
    for (name, text, status) in [
        ("close.conf", "}".repeat(10 << 20), 1),
        ("open.conf", "{".repeat(10 << 20), 1),
        ("closes.conf", "}\n".repeat(5 << 20), 0),
        ("opens.conf", "a {\n".repeat(3 << 20), 1),
        ("words.conf", "a ".repeat(5 << 20), 1),
    ] {
        let f = d.write(name, text);
        let (code, out, err) = check_limited(ULIMIT_KIB, 120, &f);
        assert_eq!(code, status, "{name}: {out}\n{}", &err[..err.len().min(2000)]);
        assert!(err.lines().count() <= MAX_ERRORS + 2, "{name}: {} lines", err.lines().count());
        assert!(!err.contains("memory allocation"), "{name}: {}", &err[..err.len().min(2000)]);
    }
}

#[test]
fn three_million_lines_of_an_unknown_keyword_stay_within_memory() {
    let d = scratch("unknown");
    let f = d.write("k.conf", "foo\n".repeat(3_000_000));
    let (code, _, err) = check_limited(ULIMIT_KIB, 120, &f);
    assert_eq!(code, 1, "{}", &err[..err.len().min(2000)]);
    assert!(err.contains(&format!("more than {MAX_WORDS} words")), "{}", &err[..err.len().min(2000)]);
}

#[test]
fn a_line_above_the_length_limit_is_refused() {
    let text = format!("{VS}# {}\n", "x".repeat(MAX_LINE_BYTES));
    let e = within(60, move || keepalived::read_str(&text, "k.conf")).unwrap_err();
    assert_eq!(
        messages(&e),
        [format!("k.conf:11: reading stopped: a line longer than {MAX_LINE_BYTES} bytes (the line limit)")]
    );
}

#[test]
fn deep_braces_end_in_an_error_not_a_stack_overflow() {
    let text = "a {\n".repeat(200_000);
    let e = within(60, move || keepalived::read_str(&text, "k.conf")).unwrap_err();
    let all = messages(&e);
    assert!(
        all.iter().any(|m| m.contains(&format!("deeper than {MAX_BLOCK_DEPTH}"))),
        "{:?}",
        &all[..all.len().min(3)]
    );
    assert!(all.len() <= MAX_ERRORS + 1);
}

// Row 9: a brace pattern past the expansion limit is an error, never a silent cut.

#[test]
fn a_brace_pattern_past_the_limit_is_refused() {
    let d = scratch("braces");
    d.write("000000000.conf", VS);
    d.write("111111111.conf", VS.replace("192.0.2.10", "192.0.2.11"));
    let main = d.write("main.conf", format!("include {}.conf\n", "{0,1}".repeat(9)));
    let e = read_file_within(60, main).unwrap_err();
    let all = messages(&e);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].contains(&format!("more than {MAX_EXPANSIONS} file names")), "{all:?}");
    // Within the limit, every alternative is taken.
    let main = d.write("ok.conf", "include {000000000,111111111}.conf\n");
    let c = read_file_within(60, main).unwrap();
    assert_eq!(c.virtual_servers.len(), 2);
}

// Row 13: file text is escaped wherever the reader quotes it; the BOM as keepalived takes it.

#[test]
fn control_characters_in_keywords_are_escaped() {
    // Unknown keywords: warnings (keepalived ignores them), escaped as errors are.
    let text = format!("{VS}\x1b[2J\x1b[31mEVIL\n\0\0\0\0\n");
    let w = keepalived::read_str_with_warnings(&text, "k.conf").unwrap().warnings;
    let shown: String = w.iter().map(|w| format!("{w}\n")).collect();
    assert!(!shown.contains('\x1b') && !shown.contains('\0'), "{shown:?}");
    assert!(shown.contains("k.conf:11: warning: \\u{1b}[2J\\u{1b}[31mEVIL: "), "{shown}");
    assert!(shown.contains("k.conf:12: warning: \\0\\0\\0\\0: "), "{shown}");
    // And errors: the same keywords with a block in a block are refused.
    let text = format!("global_defs {{\n\x1b[2J\x1b[31mEVIL {{\n}}\n\0\0\0\0 {{\n}}\n}}\n{VS}");
    let e = keepalived::read_str(&text, "k.conf").unwrap_err();
    let shown = e.to_string();
    assert!(!shown.contains('\x1b') && !shown.contains('\0'), "{shown:?}");
    assert!(shown.contains("k.conf:2: \\u{1b}[2J\\u{1b}[31mEVIL: "), "{shown}");
    assert!(shown.contains("k.conf:4: \\0\\0\\0\\0: "), "{shown}");
}

#[test]
fn invalid_utf8_is_refused_naming_the_line_with_the_byte_escaped() {
    let d = scratch("utf8");
    let f = d.write("k.conf", [VS.as_bytes(), b"bad \xff\x1b word\n"].concat());
    let e = read_file_within(60, f.clone()).unwrap_err();
    let all = messages(&e);
    assert_eq!(all, [format!("{}:11: not UTF-8 text (byte \\xff)", f.display())]);
}

#[test]
fn a_byte_order_mark_is_part_of_the_first_keyword_as_in_keepalived() {
    // keepalived 2.2.7 (`keepalived -t`) reads the BOM as part of the first word:
    // "(k.conf: Line 1) Unknown keyword '\u{feff}virtual_server'", "Unexpected '{' -
    // ignoring", reads what follows at the top level, and exits with status 5 (it runs).
    let r = keepalived::read_str_with_warnings(&format!("\u{feff}{VS}"), "k.conf").unwrap();
    let shown: String = r.warnings.iter().map(|w| format!("{w}\n")).collect();
    assert!(shown.starts_with("k.conf:1: warning: \\u{feff}virtual_server: unknown keyword"), "{shown}");
    assert!(r.config.virtual_servers.is_empty());
    assert!(!shown.contains('\u{feff}'), "{shown:?}");
}

// Row 15: every path that names something other than a regular file is refused as such
// (with includer: plain include skips it with a warning, as keepalived; see
// keepalived_preprocessor.rs).

#[test]
fn includes_of_special_files_are_refused_without_blocking_or_echoing() {
    let d = scratch("special");
    d.fifo("pipe.conf");
    std::fs::create_dir(d.path().join("sub.conf")).unwrap();
    let cases = [
        ("/dev/zero".to_owned(), "/dev/zero"),
        (d.path().join("pipe.conf").display().to_string(), "pipe.conf"),
        (d.path().join("sub.conf").display().to_string(), "sub.conf"),
        ("/proc/self/environ".to_owned(), "/proc/self/environ"),
        ("/proc/kmsg".to_owned(), "/proc/kmsg"),
    ];
    for (target, shown) in cases {
        let main = d.write("main.conf", format!("includer {target}\n{VS}"));
        let e = read_file_within(30, main).unwrap_err();
        let all = messages(&e);
        assert_eq!(all.len(), 1, "{target}: {all:?}");
        let m = &all[0];
        assert!(m.contains(shown), "{m}");
        // /proc/kmsg may be refused for permission when not root.
        assert!(m.contains("not a regular file") || (target == "/proc/kmsg" && m.contains("ermission")), "{m}");
        assert!(!m.contains("PATH="), "{m}");
    }
    // Through a glob, neither the FIFO nor the directory is skipped.
    std::fs::remove_file(d.path().join("main.conf")).unwrap();
    let main = d.write("top.txt", format!("includer {}/*.conf\n{VS}", d.path().display()));
    let e = read_file_within(30, main).unwrap_err();
    let all = messages(&e);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.iter().all(|m| m.contains("not a regular file")), "{all:?}");
    // A missing plain file keeps its message.
    let main = d.write("top.txt", format!("includem {}/none.conf\n{VS}", d.path().display()));
    let all = messages(&read_file_within(30, main).unwrap_err());
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].contains("none.conf (keepalived: \"Config files missing\")"), "{all:?}");
}

#[test]
fn a_main_file_that_is_a_fifo_is_refused_without_blocking() {
    let d = scratch("mainfifo");
    let f = d.fifo("k.conf");
    let all = messages(&read_file_within(30, f.clone()).unwrap_err());
    assert_eq!(all, [format!("{}: not a regular file (a FIFO)", f.display())]);
}
