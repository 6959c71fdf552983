//! Helpers the `ipvs` command's integration tests share: a scratch directory removed on drop,
//! and the command run with its standard input fed from a thread and an optional time bound.
//!
//! Each test file takes it with `mod common;`; not every file uses every helper.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh scratch directory, `ipvs-TAG-PID-NAME` in the temporary directory, removed with
/// what it holds on drop.
pub struct Dir(PathBuf);

impl Dir {
    pub fn new(tag: &str, name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("ipvs-{tag}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    /// The file `name` in it, holding `text`: its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    }

    /// The path of `name` in it, nothing made there.
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `ipvs ARGS` (without `IPVS_MOCK` from the environment, with `env` added) on `stdin`,
/// written from a thread so that a child that stops reading does not block the test; killed
/// after `limit` (the result says so). (status, -1 if killed by a signal; stdout; stderr;
/// timed out)
pub fn ipvs_within(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Vec<u8>,
    limit: Duration,
) -> (i32, String, String, bool) {
    run(args, env, stdin, Some(limit))
}

/// Runs `ipvs ARGS` (without `IPVS_MOCK` from the environment) on `stdin`, for as long as it
/// takes: (status, -1 if killed by a signal; stdout; stderr).
pub fn ipvs_with_input(args: &[&str], stdin: &str) -> (i32, String, String) {
    let (code, out, err, _) = run(args, &[], stdin.as_bytes().to_vec(), None);
    (code, out, err)
}

/// [`ipvs_within`], killed after `limit` if there is one.
fn run(args: &[&str], env: &[(&str, &str)], stdin: Vec<u8>, limit: Option<Duration>) -> (i32, String, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipvs"))
        .args(args)
        .env_remove("IPVS_MOCK")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // A child that refuses early closes the pipe: the rest is not written.
        let _ = input.write_all(&stdin);
    });
    let mut timed_out = false;
    if let Some(limit) = limit {
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > limit {
                let _ = child.kill();
                timed_out = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        timed_out,
    )
}
