//! Hostile input to the `ipvs` command: a wait too long to add to a clock, desired-state
//! "files" that are FIFOs, devices, directories or kernel pseudo-files, files and standard
//! input over the size limit, files whose top level is not an object, v4-mapped service
//! addresses, and real-server VIPs that are not unicast. Each is refused with a clear error
//! (status 2), never a panic (101), a hang (bounded here by a timeout) or echoed contents.

mod common;

use std::process::Command;
use std::time::Duration;

use common::ipvs_within;

/// The command's limit on a desired-state file and on standard input
/// (`examples/ipvs/src/files.rs`, `MAX_FILE_BYTES`).
const LIMIT: u64 = 128 << 20;

/// A fresh scratch directory for this test, removed on drop.
fn scratch(name: &str) -> common::Dir {
    common::Dir::new("robust", name)
}

fn ipvs(args: &[&str]) -> (i32, String, String) {
    let (code, out, err, timed_out) = ipvs_within(args, &[], Vec::new(), Duration::from_secs(30));
    assert!(!timed_out, "ipvs {args:?} still running after 30 s: {err}");
    (code, out, err)
}

const OK_TOML: &str = "[[services]]\nprotocol = \"tcp\"\naddress = \"192.0.2.1\"\nport = 80\nscheduler = \"rr\"\n\n\
    [[services.destinations]]\naddress = \"198.51.100.1\"\nforward = \"nat\"\n";

#[test]
fn a_wait_too_long_for_the_clock_is_refused_not_a_panic() {
    let dir = scratch("wait");
    let ok = dir.file("ok.toml", OK_TOML);
    for wait in ["18446744073709551615", "9223372036854775808", "86401"] {
        let arg = format!("--wait={wait}");
        let (code, out, err) = ipvs(&["--mock", "apply", &ok, &arg]);
        assert_ne!(code, 101, "--wait={wait} panicked: {err}");
        assert_eq!(code, 2, "--wait={wait}: {out}{err}");
        assert!(err.contains("--wait") && err.contains("86400"), "--wait={wait}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        // Refused before anything is written.
        assert_eq!(out, "", "--wait={wait}");
    }
    // The longest wait allowed is taken (nothing drains on an empty kernel: no waiting).
    let (code, out, err) = ipvs(&["--mock", "apply", &ok, "--wait=86400"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.ends_with("converged\n"), "{out}");
}

#[test]
fn special_files_are_refused_as_not_regular_without_blocking() {
    let dir = scratch("special");
    let fifo = dir.path("desired.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let sub = dir.path("sub.toml");
    std::fs::create_dir(&sub).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (fifo, "a FIFO"),
        ("/dev/zero".into(), "a character device"),
        ("/dev/null".into(), "a character device"),
        (sub, "a directory"),
        ("/proc/self/environ".into(), "a kernel pseudo-file"),
    ];
    let secret = "IPVS_ROBUST_SECRET=do-not-print-me";
    for (path, what) in &cases {
        for args in [vec!["--mock", "diff", path.as_str()], vec!["--mock", "apply", path.as_str(), "--dry-run"]] {
            let (code, out, err, timed_out) =
                ipvs_within(&args, &[("IPVS_ROBUST_SECRET", "do-not-print-me")], Vec::new(), Duration::from_secs(20));
            assert!(!timed_out, "{args:?} blocked: {err}");
            assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
            assert_eq!(err, format!("ipvs: {path}: not a regular file ({what})\n"), "{args:?}");
            assert!(!err.contains(&secret[..18]), "{err}");
        }
        // The in-memory kernel's start file too.
        let mock = format!("--mock={path}");
        let (code, _, err, timed_out) = ipvs_within(&[&mock, "show"], &[], Vec::new(), Duration::from_secs(20));
        assert!(!timed_out && code == 2 && err.contains("not a regular file"), "{mock}: {code} {err}");
    }
    // /proc/kmsg blocks a plain reader (root); elsewhere it cannot be opened. Never a hang.
    let (code, _, err, timed_out) =
        ipvs_within(&["--mock", "diff", "/proc/kmsg"], &[], Vec::new(), Duration::from_secs(20));
    assert!(!timed_out, "/proc/kmsg blocked");
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("ipvs: /proc/kmsg: "), "{err}");
}

#[test]
fn a_file_over_the_limit_is_refused_by_its_size() {
    let dir = scratch("large");
    // Sparse: its size is announced without a byte on the disk.
    let big = dir.path("big.toml");
    std::fs::File::create(&big).unwrap().set_len(LIMIT + 1).unwrap();
    let (code, _, err) = ipvs(&["--mock", "diff", &big]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err, format!("ipvs: {big}: larger than the limit of {LIMIT} bytes\n"));
    // Standard input is a pipe, read as it comes, and bounded by the same limit: a stream of
    // TOML comments one byte over it is refused, not read to its end.
    let mut over = vec![b'#'; usize::try_from(LIMIT).unwrap()];
    over.push(b'\n');
    let (code, out, err, timed_out) = ipvs_within(&["--mock", "diff", "-"], &[], over, Duration::from_secs(60));
    assert!(!timed_out, "{err}");
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert_eq!(err, format!("ipvs: standard input: larger than the limit of {LIMIT} bytes\n"));
    // At the limit it is read.
    let mut at = vec![b'#'; usize::try_from(LIMIT).unwrap() - 1];
    at.push(b'\n');
    let (code, out, err, _) =
        ipvs_within(&["--mock", "diff", "-", "--format", "toml"], &[], at, Duration::from_secs(120));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "plan: no change\n", ""));
}

#[test]
fn a_file_whose_top_level_is_not_an_object_is_refused() {
    let dir = scratch("notobject");
    for (name, body) in [("list.json", "[]"), ("number.json", "1"), ("string.json", "\"x\""), ("null.json", "null")] {
        let file = dir.file(name, body);
        let (code, out, err) = ipvs(&["--mock", "diff", &file]);
        assert_eq!((code, out.as_str()), (2, ""), "{name}: {err}");
        assert!(err.starts_with(&format!("ipvs: {file}:1:")) && err.contains(": invalid type: "), "{name}: {err}");
        assert!(err.ends_with(", expected an object\n"), "{name}: {err}");
        // On standard input, said to be JSON.
        let (code, _, err, _) = ipvs_within(
            &["--mock", "apply", "-", "--format", "json"],
            &[],
            body.as_bytes().to_vec(),
            Duration::from_secs(30),
        );
        assert_eq!(code, 2, "{name} on stdin: {err}");
        assert!(err.contains("expected an object"), "{name} on stdin: {err}");
    }
    // A service given as a list is refused where it stands.
    let file = dir.file("service-list.json", r#"{"services": [["tcp", "192.0.2.1", 80]]}"#);
    let (code, _, err) = ipvs(&["--mock", "diff", &file]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("services[0]: invalid type: sequence, expected an object"), "{err}");
}

#[test]
fn a_v4_mapped_service_address_is_refused_naming_the_field() {
    let dir = scratch("mapped");
    let toml = dir.file(
        "mapped.toml",
        "[[services]]\nprotocol = \"tcp\"\naddress = \"::ffff:192.0.2.1\"\nport = 80\nscheduler = \"rr\"\n",
    );
    let json =
        dir.file("mapped.json", r#"{"services": [{"protocol": "tcp", "address": "::ffff:192.0.2.1", "port": 80}]}"#);
    let rules = dir.file("mapped.rules", "-A -t [::ffff:192.0.2.1]:80 -s rr\n");
    for file in [&toml, &json] {
        let (code, out, err) = ipvs(&["--mock", "diff", file]);
        assert_eq!((code, out.as_str()), (2, ""), "{file}: {err}");
        assert!(err.contains("services[0]") && err.contains("invalid address \"::ffff:192.0.2.1\""), "{file}: {err}");
        assert!(err.contains("v4-mapped"), "{err}");
    }
    let (code, _, err) = ipvs(&["--mock", "diff", &rules]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("{rules}:1:")) && err.contains("invalid address \"::ffff:192.0.2.1\""), "{err}");
    // As the in-memory kernel's start file too.
    let (code, _, err) = ipvs(&[&format!("--mock={toml}"), "show"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("v4-mapped"), "{err}");
}

#[test]
fn a_real_server_vip_that_is_not_unicast_is_refused() {
    for vip in ["255.255.255.255", "::ffff:192.0.2.1", "0.0.0.0", "224.0.0.1"] {
        for method in ["dr", "tun"] {
            let (code, out, err) = ipvs(&["realserver", "check", "--vip", vip, "--method", method]);
            assert_eq!((code, out.as_str()), (2, ""), "{vip} {method}: {err}");
            assert_eq!(err, format!("ipvs: invalid request: VIP {vip}: not a unicast address\n"), "{vip}");
            assert!(!err.contains("ip address add"), "{err}");
        }
    }
}

#[test]
fn a_real_server_record_that_is_not_a_regular_file_is_refused_without_blocking() {
    let dir = scratch("record");
    let fifo = dir.path("record.json");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for (state, what) in
        [(fifo.as_str(), "a FIFO"), ("/dev/zero", "a character device"), ("/proc/self/environ", "a kernel pseudo-file")]
    {
        let (code, out, err, timed_out) =
            ipvs_within(&["realserver", "undo", "--state", state], &[], Vec::new(), Duration::from_secs(20));
        assert!(!timed_out, "undo --state {state} blocked");
        assert_eq!((code, out.as_str()), (2, ""), "{state}: {err}");
        assert!(err.contains(&format!("{state}: not a regular file ({what})")), "{state}: {err}");
    }
}
