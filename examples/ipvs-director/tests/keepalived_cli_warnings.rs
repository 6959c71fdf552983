//! keepalived.conf warnings on the command line: `--check-config` prints each on standard
//! error (`FILE:LINE: warning: KEYWORD: what was done`) and exits 0; `--strict` makes each an
//! error (status 1), for `--check-config` and `import-keepalived` alike. Each run is bounded
//! (10 s, then killed).

mod common;

use common::{director, output_within, TempFile};

/// Runs the binary with `args`, killed after 10 s: (exit code, standard output, standard error).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = output_within(director(args), 10, &format!("ipvs-director {args:?}"));
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().expect("an exit code, not a signal"), text(out.stdout), text(out.stderr))
}

/// A keepalived.conf with an unknown keyword (line 4) and a real server's port reset (line 6):
/// keepalived 2.2.7 prints "(k.conf: Line 4) Unknown keyword 'nat_mask'" and "WARNING -
/// virtual server [192.0.2.10]:tcp:80 and real server [198.51.100.11]:tcp:8080 ports don't
/// match - resetting", and runs.
const WARNED: &str =
    "virtual_server 192.0.2.10 80 {\n  protocol TCP\n  lvs_sched rr\n  nat_mask 255.255.255.0\n  lvs_method DR\n  \
     real_server 198.51.100.11 8080 {\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n";

#[test]
fn check_config_prints_every_warning_and_exits_0() {
    let k = TempFile::new("cliwarn", "warned.conf", WARNED);
    let (code, out, err) = run(&["--keepalived", k.as_str(), "--check-config"]);
    assert_eq!((code, out.as_str()), (0, "configuration valid: 1 virtual server, 1 real server\n"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[0],
        format!(
            "{}:4: warning: nat_mask: unknown keyword in virtual_server; ignored, as keepalived ignores it",
            k.as_str()
        )
    );
    assert!(lines[1].starts_with(&format!("{}:6: warning: real_server: port 8080 differs", k.as_str())), "{err}");
}

#[test]
fn strict_makes_every_warning_an_error() {
    let k = TempFile::new("cliwarn", "strict.conf", WARNED);
    let (code, out, err) = run(&["--keepalived", k.as_str(), "--check-config", "--strict"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with(&format!("{}:4: nat_mask: unknown keyword", k.as_str())), "{err}");
    assert!(lines.iter().all(|l| l.ends_with("(a warning: refused with --strict)")), "{err}");
    // Without a warning, --strict changes nothing.
    let clean =
        TempFile::new("cliwarn", "clean.conf", &WARNED.replace("  nat_mask 255.255.255.0\n", "").replace("8080", "80"));
    let (code, out, err) = run(&["--keepalived", clean.as_str(), "--check-config", "--strict"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "configuration valid: 1 virtual server, 1 real server\n", ""));
}

#[test]
fn import_keepalived_warns_and_strict_refuses() {
    let k = TempFile::new("cliwarn", "import.conf", WARNED);
    let (code, out, err) = run(&["import-keepalived", k.as_str()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("address = \"198.51.100.11\"\nport = 80\n"), "{out}");
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.lines().all(|l| l.contains(": warning: ")), "{err}");
    for args in [["--strict", "import-keepalived", k.as_str()], ["import-keepalived", "--strict", k.as_str()]] {
        let (code, out, err) = run(&args);
        assert_eq!((code, out.as_str()), (1, ""), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 2, "{err}");
        assert!(!err.contains(": warning: "), "{err}");
    }
}
