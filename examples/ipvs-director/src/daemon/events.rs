//! Carrying out what the decisions say happened: the logs (their texts and fields are those
//! the lab compares with keepalived's), the notify scripts, and whether the table has to be
//! applied again.

use std::time::Duration;

use super::decide::HealthEvent;
use super::state::CheckKey;
use crate::check::run_script;
use crate::config::{Config, RealServer, Script, VirtualServer};
use crate::policy::QuorumChange;

/// Runs a notify script in the background (bounded: 5 minutes).
pub(super) fn notify(config: &Config, script: Option<&Script>, what: String) {
    let Some(s) = script.map(|s| config.script_as_run(s)) else { return };
    tokio::spawn(async move {
        let out = run_script(&s, Duration::from_secs(300)).await;
        tracing::info!(script = ?s.argv, outcome = %out, "{what}: notify script ran");
    });
}

/// A check's target address as the logs show it (empty when it has none).
struct Target(Option<std::net::SocketAddr>);

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(t) => t.fmt(f),
            None => Ok(()),
        }
    }
}

/// Carries out health events, in order: logs them and runs the notify scripts they call for.
/// Returns whether the table the kernel should hold may have changed.
pub(super) fn carry_out(config: &Config, events: &[HealthEvent]) -> bool {
    for e in events {
        match e {
            HealthEvent::CheckDown { check, error } => {
                let Some((vs, rs, kind, target)) = about(config, check) else { continue };
                tracing::warn!(vs = %vs.id, rs = %rs.address, check = kind, %target, error = %error, "{kind} on [{}] failed", rs.address);
            }
            HealthEvent::CheckUp { check } => {
                let Some((vs, rs, kind, target)) = about(config, check) else { continue };
                tracing::info!(vs = %vs.id, rs = %rs.address, check = kind, %target, "{kind} on [{}] succeeded", rs.address);
            }
            HealthEvent::FirstFailure { check, error } => {
                let Some((vs, rs, kind, target)) = about(config, check) else { continue };
                tracing::warn!(vs = %vs.id, rs = %rs.address, check = kind, %target, error = %error, "{kind} on [{}] failed (first run)", rs.address);
                notify(config, rs.notify_down.as_ref(), format!("{} of {} down", rs.address, vs.id));
            }
            HealthEvent::AttemptFailed { check, error } => {
                let Some((vs, rs, kind, target)) = about(config, check) else { continue };
                tracing::info!(vs = %vs.id, rs = %rs.address, check = kind, %target, error = %error, "{kind} attempt failed");
            }
            HealthEvent::WeightChanged { .. } => {}
            HealthEvent::ServerAlive { server } | HealthEvent::ServerDead { server } => {
                let Some((vs, rs)) = server.find(config) else { continue };
                server_event(config, vs, rs, matches!(e, HealthEvent::ServerAlive { .. }));
            }
        }
    }
    events.iter().any(HealthEvent::changes_table)
}

/// What a check's logs name: its virtual and real server, its keyword, its target.
fn about<'a>(config: &'a Config, key: &CheckKey) -> Option<(&'a VirtualServer, &'a RealServer, &'static str, Target)> {
    let (vs, rs) = key.server.find(config)?;
    Some((vs, rs, key.settings.kind.names().1, Target(key.settings.target)))
}

fn server_event(config: &Config, vs: &VirtualServer, rs: &RealServer, alive: bool) {
    if alive {
        tracing::info!(vs = %vs.id, rs = %rs.address, "Adding service [{}] to VS {}", rs.address, vs.id);
        notify(config, rs.notify_up.as_ref(), format!("{} of {} up", rs.address, vs.id));
    } else {
        tracing::info!(vs = %vs.id, rs = %rs.address, "Removing service [{}] from VS {}", rs.address, vs.id);
        notify(config, rs.notify_down.as_ref(), format!("{} of {} down", rs.address, vs.id));
    }
}

/// Carries out quorum changes: logs them and runs the quorum scripts.
pub(super) fn carry_out_quorum(config: &Config, changes: &[QuorumChange]) {
    for c in changes {
        let Some(vs) = config.virtual_servers.iter().find(|vs| vs.id == c.virtual_server) else { continue };
        let w = c.weight;
        if c.up {
            tracing::info!(vs = %vs.id, weight = w, "Gained quorum {}+{}={} <= {w} for VS {}", vs.quorum, vs.hysteresis, vs.quorum + vs.hysteresis, vs.id);
            notify(config, vs.quorum_up.as_ref(), format!("quorum of {} up", vs.id));
        } else {
            tracing::warn!(vs = %vs.id, weight = w, "Lost quorum {}-{}={} > {w} for VS {}", vs.quorum, vs.hysteresis, vs.quorum.saturating_sub(vs.hysteresis), vs.id);
            notify(config, vs.quorum_down.as_ref(), format!("quorum of {} down", vs.id));
        }
    }
}
