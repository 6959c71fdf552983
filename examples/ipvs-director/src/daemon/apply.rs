//! Writing the table: the policy's decision applied to the kernel through the host (off the
//! event loop), and what the daemon does to the kernel and the scripts when it stops.

use std::sync::Arc;
use std::time::Duration;

use ipvs::state::{DrainClock, Policy, Scope, Selector};

use super::events::carry_out_quorum;
use super::{lock, Shared};
use crate::check::run_script;
use crate::config::Script;
use crate::host::Host;
use crate::policy;

/// Decides quorums (their changes carried out), builds the table, applies it. Returns
/// whether to come back soon (draining destinations, or an apply that did not converge).
pub(super) async fn apply(host: &Arc<dyn Host>, shared: &Arc<Shared>, clock: &mut DrainClock) -> bool {
    let (desired, scope, configured) = {
        let mut rt = lock(&shared.runtime);
        let config = rt.config.clone();
        let (desired, changes) = policy::decide(&config, &rt.server_states(), &rt.quorum);
        for c in &changes {
            rt.quorum.insert(c.virtual_server.clone(), c.up);
        }
        carry_out_quorum(&config, &changes);
        let desired = match desired {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "the configuration gives no valid table");
                return false;
            }
        };
        let scope = Scope::Selected(rt.managed.iter().map(Selector::service).collect());
        (desired, scope, rt.configured())
    };
    let host = host.clone();
    let mut c = std::mem::take(clock);
    let result = tokio::task::spawn_blocking(move || {
        let client = host.ipvs();
        let plan = client.plan_with_clock(&desired, &scope, &Policy::default(), &mut c);
        (plan.and_then(|p| client.apply(&p).map(|r| (p, r))), c)
    })
    .await;
    let Ok((result, c)) = result else {
        tracing::error!("the apply task failed");
        return true;
    };
    *clock = c;
    let mut counters = lock(&shared.counters);
    counters.applies += 1;
    match result {
        Ok((plan, report)) => {
            counters.writes += report.writes as u64;
            for s in plan.steps() {
                tracing::info!(command = %ipvs::rules::request_line(&s.request, &ipvs::rules::Numeric), why = %s.why, "applied");
            }
            for f in &report.failures {
                tracing::error!(command = %ipvs::rules::request_line(&f.request, &ipvs::rules::Numeric), error = %f.error, "write failed");
            }
            if report.converged && report.failures.is_empty() {
                lock(&shared.runtime).managed = configured;
            } else {
                counters.apply_failures += 1;
                tracing::warn!(summary = %report.summary(), "the kernel does not hold the desired table yet; again in 1 s");
            }
            !report.converged || !report.failures.is_empty() || !report.draining.is_empty()
        }
        Err(e) => {
            counters.apply_failures += 1;
            tracing::error!(error = %e, "apply failed; again in 1 s");
            true
        }
    }
}

/// `omega`: on stop, the notify_down script of each live real server and the quorum_down
/// script of each virtual server with quorum, waited for (10 s at most each, all at once).
pub(super) async fn run_omega(shared: &Shared) {
    let scripts: Vec<(Script, String)> = {
        let rt = lock(&shared.runtime);
        let config = &rt.config;
        let mut out = Vec::new();
        for vs in config.virtual_servers.iter().filter(|vs| vs.omega) {
            for rs in &vs.real_servers {
                let alive = rt.servers.get(&policy::ServerKey::new(vs, rs)).is_some_and(|s| s.alive);
                if let (true, Some(s)) = (alive, &rs.notify_down) {
                    out.push((config.script_as_run(s), format!("{} of {} down (omega)", rs.address, vs.id)));
                }
            }
            if let (Some(true), Some(s)) = (rt.quorum.get(&vs.id), &vs.quorum_down) {
                out.push((config.script_as_run(s), format!("quorum of {} down (omega)", vs.id)));
            }
        }
        out
    };
    let runs: Vec<_> = scripts
        .into_iter()
        .map(|(s, what)| {
            tokio::spawn(async move {
                let out = run_script(&s, Duration::from_secs(10)).await;
                tracing::info!(script = ?s.argv, outcome = %out, "{what}: notify script ran");
            })
        })
        .collect();
    for r in runs {
        let _ = r.await;
    }
}

/// Deletes the managed services (on stop, with `release_on_exit`).
pub(super) async fn release(host: &Arc<dyn Host>, shared: &Shared) {
    let managed: Vec<_> = lock(&shared.runtime).managed.iter().copied().collect();
    let host = host.clone();
    let removed = tokio::task::spawn_blocking(move || {
        let reqs: Vec<ipvs::Request> = managed.into_iter().map(ipvs::Request::DeleteService).collect();
        host.ipvs().batch(&reqs).map(|r| r.iter().filter(|o| o.is_ok()).count())
    })
    .await;
    tracing::info!(removed = ?removed.ok().and_then(Result::ok), "released the managed services");
}
