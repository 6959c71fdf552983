//! The directors: ours or keepalived, started in a node's namespace, watched, signalled and
//! stopped.

use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ipvs_lab_tools::{check, Res};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use crate::config::{keepalived_conf, load_table, Vrrp};
use crate::{ns_path, sleep, Node, D1, D2, STATUS, WORK};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Ours,
    Keepalived,
}

impl Kind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Keepalived => "keepalived",
        }
    }
}

pub(crate) struct Director {
    kind: Kind,
    pub(crate) node: Node,
    child: Child,
    log: String,
    vrrp_pid: String,
}

impl Director {
    pub(crate) fn start(program: &str, kind: Kind, node: Node, v: Vrrp, tag: &str) -> Res<Director> {
        let base = format!("{WORK}/{tag}-{}-{}", node.name, kind.label());
        let conf = format!("{base}.conf");
        std::fs::write(&conf, keepalived_conf(v))?;
        let log = format!("{base}.log");
        let vrrp_pid = format!("{base}-vrrp.pid");
        let out = File::create(&log)?;
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", ns_path(node.ns)));
        match kind {
            Kind::Ours => {
                cmd.args([program, "--keepalived", &conf, "--listen", STATUS]);
            }
            Kind::Keepalived => {
                load_table(node)?;
                let pid = format!("{base}.pid");
                cmd.args(["keepalived", "-n", "-l", "-D", "-P", "-G", "-f", &conf, "-p", &pid, "-r", &vrrp_pid]);
            }
        }
        let child = cmd.stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out).spawn()?;
        Ok(Director { kind, node, child, log, vrrp_pid })
    }

    fn who(&self) -> String {
        format!("{} ({})", self.node.name, self.kind.label())
    }

    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].iter().map(|l| format!("      | {l}\n")).collect()
    }

    /// Ours: the instance VI_1 of /status.
    pub(crate) fn status(&self) -> Res<Value> {
        let body = get(&ns_path(self.node.ns), "/status")?;
        let v: Value = serde_json::from_str(&body)?;
        v["vrrp"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["name"] == "VI_1"))
            .cloned()
            .ok_or_else(|| format!("{}: no instance VI_1 in /status \"vrrp\": {body}", self.who()).into())
    }

    /// MASTER, BACKUP, FAULT or INIT: ours from /status, keepalived from its last
    /// "Entering ... STATE" line.
    pub(crate) fn state(&self) -> Res<String> {
        match self.kind {
            Kind::Ours => Ok(self.status()?["state"].as_str().unwrap_or("?").to_owned()),
            Kind::Keepalived => Ok(self
                .log_text()
                .lines()
                .rev()
                .find_map(|l| l.split_once("(VI_1) Entering ").and_then(|(_, r)| r.split_whitespace().next()))
                .unwrap_or("INIT")
                .to_owned()),
        }
    }

    /// Waits until the state is `want` (at most `limit`): how long it took.
    pub(crate) fn wait_state(&mut self, want: &str, limit: Duration) -> Res<Option<Duration>> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if !self.alive() {
                return Err(format!("{} exited:\n{}", self.who(), self.log_tail()).into());
            }
            if self.state().is_ok_and(|s| s == want) {
                return Ok(Some(start.elapsed()));
            }
            sleep(100);
        }
        Ok(None)
    }

    fn pids(&self) -> Vec<Pid> {
        let mut pids = Vec::new();
        if let Ok(p) = i32::try_from(self.child.id()) {
            pids.push(Pid::from_raw(p));
        }
        if let Some(p) = std::fs::read_to_string(&self.vrrp_pid).ok().and_then(|t| t.trim().parse().ok()) {
            pids.push(Pid::from_raw(p));
        }
        pids
    }

    /// SIGKILL: nothing runs to clean up. keepalived's parent is stopped first so that it
    /// neither respawns its VRRP child nor lets it stop cleanly.
    pub(crate) fn kill(&mut self) {
        let pids = self.pids();
        if self.kind == Kind::Keepalived {
            if let Some(parent) = pids.first() {
                let _ = kill(*parent, Signal::SIGSTOP);
            }
        }
        for p in pids.iter().rev() {
            let _ = kill(*p, Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }

    pub(crate) fn signal(&self, sig: Signal) {
        if let Some(parent) = self.pids().first() {
            let _ = kill(*parent, sig);
        }
    }

    /// Waits (at most 15 s) for the exit after a signal; SIGKILL after that.
    pub(crate) fn wait_exit(&mut self) -> Res<Duration> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if !self.alive() {
                // keepalived's VRRP child may outlive the parent by a moment.
                while start.elapsed() < Duration::from_secs(15) && self.kind == Kind::Keepalived {
                    let child = self.pids().get(1).copied();
                    if child.is_none_or(|p| kill(p, None).is_err()) {
                        break;
                    }
                    sleep(100);
                }
                return Ok(start.elapsed());
            }
            sleep(100);
        }
        self.kill();
        Err(format!("{} did not stop within 15 s", self.who()).into())
    }

    pub(crate) fn stop(&mut self) -> Res<()> {
        self.signal(Signal::SIGTERM);
        self.wait_exit().map(|_| ())
    }
}

impl Drop for Director {
    fn drop(&mut self) {
        if self.alive() {
            self.kill();
        }
    }
}

/// Ours on d1 (the file's priority, 150) until it is MASTER, then ours on d2 (priority 100)
/// until it is BACKUP, each checked (20 s at most each).
pub(crate) fn start_ours_pair(program: &str, v: Vrrp, tag: &str, f: &mut Vec<String>) -> Res<(Director, Director)> {
    let mut d1 = Director::start(program, Kind::Ours, D1, v, tag)?;
    let t = d1.wait_state("MASTER", Duration::from_secs(20))?;
    check(t.is_some(), format!("d1 becomes MASTER ({})", crate::client::secs(t)), f);
    let mut d2 = Director::start(program, Kind::Ours, D2, Vrrp { priority: 100, ..v }, tag)?;
    let t = d2.wait_state("BACKUP", Duration::from_secs(20))?;
    check(t.is_some(), format!("d2 joins as BACKUP ({})", crate::client::secs(t)), f);
    Ok((d1, d2))
}

/// GET `path` from the director's status listener in `netns` (5 s at most).
pub(crate) fn get(netns: &str, path: &str) -> Res<String> {
    ipvs_lab_tools::http_get_within(netns, STATUS, path, Duration::from_secs(5))
}
