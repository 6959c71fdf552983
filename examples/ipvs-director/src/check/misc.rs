//! Commands: MISC_CHECK and the notify scripts. A command runs directly (no shell), in a
//! process group of its own, as the configured user and group; at its timeout the group gets
//! SIGTERM, and SIGKILL 2 seconds later (as keepalived does).

use std::fmt;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::{Group, Pid, User};

use super::IoError;
use crate::config::Script;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptOutcome {
    /// It exited with this status.
    Exited(u8),
    /// A signal ended it.
    Signaled(i32),
    /// It ran past its timeout and was killed.
    TimedOut(Duration),
    /// It could not be started.
    Failed(ScriptSetup),
}

/// Why a command could not be started (or waited for).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptSetup {
    /// The command has no words.
    #[error("empty command")]
    EmptyCommand,
    /// The user to run it as does not exist.
    #[error("no user {0:?}")]
    NoUser(String),
    /// The group to run it as does not exist.
    #[error("no group {0:?}")]
    NoGroup(String),
    /// The program could not be started.
    #[error("{program}: {error}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        error: IoError,
    },
    /// Waiting for it failed.
    #[error("{0}")]
    Wait(IoError),
    /// It ended with neither a status nor a signal.
    #[error("no status")]
    NoStatus,
}

impl fmt::Display for ScriptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptOutcome::Exited(c) => write!(f, "exited with status {c}"),
            ScriptOutcome::Signaled(s) => write!(f, "ended by signal {s}"),
            ScriptOutcome::TimedOut(t) => write!(f, "timed out after {t:?}"),
            ScriptOutcome::Failed(e) => write!(f, "could not run: {e}"),
        }
    }
}

/// Runs `script` for at most `timeout`.
pub async fn run_script(script: &Script, timeout: Duration) -> ScriptOutcome {
    let Some((program, args)) = script.argv.split_first() else {
        return ScriptOutcome::Failed(ScriptSetup::EmptyCommand);
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0);
    cmd.kill_on_drop(true);
    if let Some(name) = &script.user {
        match User::from_name(name) {
            Ok(Some(u)) => {
                cmd.uid(u.uid.as_raw());
                let gid = match &script.group {
                    None => Ok(u.gid),
                    Some(g) => match Group::from_name(g) {
                        Ok(Some(g)) => Ok(g.gid),
                        _ => Err(ScriptSetup::NoGroup(g.clone())),
                    },
                };
                match gid {
                    Ok(g) => {
                        cmd.gid(g.as_raw());
                    }
                    Err(e) => return ScriptOutcome::Failed(e),
                }
            }
            _ => return ScriptOutcome::Failed(ScriptSetup::NoUser(name.clone())),
        }
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return ScriptOutcome::Failed(ScriptSetup::Spawn { program: program.clone(), error: e.into() }),
    };
    let pgid = child.id().and_then(|p| i32::try_from(p).ok()).map(Pid::from_raw);
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => {
            use std::os::unix::process::ExitStatusExt;
            match (status.code(), status.signal()) {
                (Some(c), _) => ScriptOutcome::Exited(u8::try_from(c & 0xff).unwrap_or(u8::MAX)),
                (None, Some(s)) => ScriptOutcome::Signaled(s),
                (None, None) => ScriptOutcome::Failed(ScriptSetup::NoStatus),
            }
        }
        Ok(Err(e)) => ScriptOutcome::Failed(ScriptSetup::Wait(e.into())),
        Err(_) => {
            if let Some(g) = pgid {
                let _ = killpg(g, Signal::SIGTERM);
                if tokio::time::timeout(Duration::from_secs(2), child.wait()).await.is_err() {
                    let _ = killpg(g, Signal::SIGKILL);
                    let _ = child.wait().await;
                }
            }
            ScriptOutcome::TimedOut(timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exit_statuses_signals_and_timeouts() {
        let sh = |code: &str| Script::new(["/bin/sh", "-c", code]);
        assert_eq!(run_script(&sh("exit 0"), Duration::from_secs(5)).await, ScriptOutcome::Exited(0));
        assert_eq!(run_script(&sh("exit 7"), Duration::from_secs(5)).await, ScriptOutcome::Exited(7));
        assert_eq!(run_script(&sh("kill -9 $$"), Duration::from_secs(5)).await, ScriptOutcome::Signaled(9));
        let start = std::time::Instant::now();
        let slow = run_script(&sh("sleep 30"), Duration::from_millis(200)).await;
        assert_eq!(slow, ScriptOutcome::TimedOut(Duration::from_millis(200)));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(matches!(
            run_script(&Script::new(["/nonexistent/x"]), Duration::from_secs(1)).await,
            ScriptOutcome::Failed(_)
        ));
    }
}
