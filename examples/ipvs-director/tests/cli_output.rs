//! Output that cannot be written is an error, never a panic: every command of the binary
//! (`import-keepalived`, `--check-config`, `--help`, `--version`) with its standard output on
//! /dev/full or on a pipe whose reader is gone (`| head -1` once head has exited) prints a
//! message on standard error and exits 2, as the `ipvs` command does. Each run is bounded
//! (10 s, then killed).

mod common;

use std::process::{Command, Stdio};

use common::{director, lossy, output_within, TempFile};

const NATIVE: &str = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"192.0.2.10\"\nport = 80\n\
                      scheduler = \"rr\"\n\n[[virtual_servers.real_servers]]\naddress = \"198.51.100.11\"\n";

const KEEPALIVED: &str = "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n\
                          \n    real_server 198.51.100.11 80 {\n        weight 1\n    }\n}\n";

/// Where the standard output goes.
#[derive(Debug, Clone, Copy)]
enum Out {
    /// /dev/full: every write fails with ENOSPC.
    Full,
    /// A pipe whose read end is closed before the program starts: every write fails with EPIPE.
    Closed,
}

/// Runs the binary with `args` and its standard output on `out`: (exit code, standard error).
fn run(args: &[&str], out: Out) -> (Option<i32>, String) {
    let stdout = match out {
        Out::Full => Stdio::from(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap()),
        Out::Closed => {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            Stdio::from(writer)
        }
    };
    let mut command = director(args);
    command.stdout(stdout);
    let result = output_within(command, 10, &format!("ipvs-director {args:?}"));
    (result.status.code(), lossy(&result.stderr))
}

#[test]
fn output_that_cannot_be_written_is_an_error_for_every_command() {
    let native = TempFile::new("cli-output", "ok.toml", NATIVE);
    let keepalived = TempFile::new("cli-output", "ok.conf", KEEPALIVED);
    let cases = [
        vec!["import-keepalived", keepalived.as_str()],
        vec!["--config", native.as_str(), "--check-config"],
        vec!["--keepalived", keepalived.as_str(), "--check-config"],
        vec!["--help"],
        vec!["--version"],
    ];
    for args in &cases {
        for (out, why) in [(Out::Full, "No space left on device"), (Out::Closed, "Broken pipe")] {
            let (code, stderr) = run(args, out);
            assert_eq!(code, Some(2), "{args:?} > {out:?}: status {code:?}, standard error:\n{stderr}");
            assert!(!stderr.contains("panicked"), "{args:?} > {out:?}: {stderr}");
            assert!(
                stderr.contains("ipvs-director: standard output: ") && stderr.contains(why),
                "{args:?} > {out:?}: {stderr}"
            );
        }
    }
}

#[test]
fn the_same_commands_still_print_when_they_can() {
    let native = TempFile::new("cli-output", "ok2.toml", NATIVE);
    let keepalived = TempFile::new("cli-output", "ok2.conf", KEEPALIVED);
    for args in [
        vec!["import-keepalived", keepalived.as_str()],
        vec!["--config", native.as_str(), "--check-config"],
        vec!["--help"],
        vec!["--version"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ipvs-director")).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(!out.stdout.is_empty(), "{args:?}: {out:?}");
    }
}
