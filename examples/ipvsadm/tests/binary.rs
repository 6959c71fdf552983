//! The `ipvsadm` binary itself, on the in-memory model (`IPVSADM_MOCK=1`): what only a
//! process shows (arguments as the OS gives them, its standard streams, its exit status).

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

fn ipvsadm() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ipvsadm"));
    c.env("IPVSADM_MOCK", "1");
    c
}

#[test]
fn an_argument_that_is_not_utf8_is_an_error_not_a_panic() {
    let out = ipvsadm().arg("-L").arg("-t").arg(OsStr::from_bytes(b"caf\xe9:80")).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "illegal virtual server address[:port] specified\n");
}

#[test]
fn messages_echo_arguments_byte_for_byte() {
    let out = ipvsadm().arg("-A").arg("-f").arg(OsStr::from_bytes(b"\xff")).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(out.stderr, b"invalid fwmark value `\xff' specified\n");
}

#[test]
fn output_that_cannot_be_written_is_an_error() {
    // A listing always prints its header, even of an empty table.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = ipvsadm().arg("-Ln").stdout(full).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("write error: No space left on device"), "{out:?}");
}

#[test]
fn a_save_that_cannot_be_written_is_an_error() {
    // -Sn of a table with a rule (an empty table saves nothing, so nothing can fail).
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut child = ipvsadm().arg("-R").stdin(Stdio::piped()).stdout(full).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"-A -t 192.0.2.1:80\n-Sn\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("write error: No space left on device"), "{out:?}");
}

#[test]
fn restore_from_a_directory_reports_it() {
    let dir = std::fs::File::open("/").unwrap();
    let out = ipvsadm().arg("-R").stdin(dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Is a directory"), "{out:?}");
}

#[test]
fn restore_runs_every_line_past_bad_bytes() {
    let mut child =
        ipvsadm().arg("-R").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80 -s w\xe9\n-A -t 192.0.2.3:80\n-Sn\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "-A -t 192.0.2.1:80 -s wlc\n-A -t 192.0.2.3:80 -s wlc\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Scheduler or persistence engine not found\n");
}

#[test]
fn random_bytes_as_rules_end_with_an_error_not_silence() {
    let mut x: u32 = 0x9e37_79b9;
    let bytes: Vec<u8> = (0..2_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let mut child =
        ipvsadm().arg("-R").stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(!out.stderr.is_empty());
}
