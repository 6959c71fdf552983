//! Reading whole tables from the kernel, planning against them, and applying plans:
//! pipelined writes, a report per request, and a verification that reads again what was
//! touched.

use std::io;

use super::plan::{Draining, Plan};
use super::policy::{DrainClock, Policy};
use super::scope::Scope;
use super::table::Table;
use crate::client::Client;
use crate::error::{Errno, Error, ErrorKind, Operation};
use crate::model::{Request, ServiceId};
use crate::transport::Transport;

/// Requests per pipelined batch when applying (progress is reported between batches).
const APPLY_BATCH: usize = 4096;

/// A request of a plan that failed, and why.
#[derive(Debug)]
pub struct Failure {
    /// The request.
    pub request: Request,
    /// What the kernel (or the socket) said.
    pub error: Error,
}

/// What applying a plan did.
#[derive(Debug)]
pub struct ApplyReport {
    /// Requests that took effect.
    pub writes: usize,
    /// Requests that failed, with their errors. When a whole batch failed (a timeout, a
    /// socket error) each of its requests is listed with that error, though some may have
    /// taken effect: verification tells.
    pub failures: Vec<Failure>,
    /// Destinations still draining after the apply, as read again.
    pub draining: Vec<Draining>,
    /// Whether the kernel, read again, holds the desired table within the scope (destinations
    /// still draining apart).
    pub converged: bool,
    /// What is still to do, as read again (empty when converged).
    pub remaining: Plan,
}

impl ApplyReport {
    /// One line: `42 writes, 0 failed, 3 draining, converged`.
    pub fn summary(&self) -> String {
        format!(
            "{} write{}, {} failed, {} draining, {}",
            self.writes,
            if self.writes == 1 { "" } else { "s" },
            self.failures.len(),
            self.draining.len(),
            if self.converged { "converged" } else { "not converged" }
        )
    }
}

/// An error of the same kind again (errors own their causes): for each request of a batch
/// that failed as a whole.
fn copy_kind(kind: &ErrorKind) -> ErrorKind {
    match kind {
        ErrorKind::Io(e) => match e.raw_os_error() {
            Some(n) => ErrorKind::Io(io::Error::from_raw_os_error(n)),
            None => ErrorKind::Io(io::Error::new(e.kind(), e.to_string())),
        },
        ErrorKind::TimedOut => ErrorKind::TimedOut,
        ErrorKind::Kernel(e) => ErrorKind::Kernel(*e),
        other => ErrorKind::Kernel(other.errno()),
    }
}

/// Up to this many services, [`Client::services_table`] asks for each; more, it dumps them all.
const SERVICES_ASKED_ONE_BY_ONE: usize = 64;

impl<T: Transport> Client<T> {
    /// The whole table: every service with its statistics, each one's destinations with
    /// theirs, and the timeouts, read with the dump-consistency proof.
    ///
    /// ```
    /// use ipvs::state::Table;
    /// let client = ipvs::Client::mock();
    /// let want = Table::from_rules("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m\n").unwrap();
    /// client.batch(&want.requests())?;
    /// let got = client.table()?;
    /// assert!(got.timeouts().is_some()); // the kernel's, which `want` leaves unsaid
    /// assert_eq!(got.to_rules(), format!("--set 900 120 300\n{}", want.to_rules()));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn table(&self) -> Result<Table, Error> {
        let services = self.services()?;
        let ids: Vec<ServiceId> = services.iter().map(|s| s.service.id).collect();
        let mut t = Table::new();
        for (s, dests) in services.into_iter().zip(self.destinations_of(&ids)?) {
            t.insert_status(s, dests);
        }
        t.set_timeouts(Some(self.timeouts()?));
        Ok(t)
    }

    /// The services `ids` with their destinations, as the kernel has them now (one that does
    /// not exist is not in the table).
    pub fn services_table(&self, ids: &[ServiceId]) -> Result<Table, Error> {
        // A few services are asked for one by one; many are found in one service dump.
        let mut found = Vec::with_capacity(ids.len());
        if ids.len() <= SERVICES_ASKED_ONE_BY_ONE {
            for id in ids {
                match self.service(id) {
                    Ok(s) => found.push(s),
                    Err(e) if e.kernel_errno() == Some(Errno::ESRCH) => {}
                    Err(e) => return Err(e),
                }
            }
        } else {
            let wanted: std::collections::HashSet<&ServiceId> = ids.iter().collect();
            found.extend(self.services()?.into_iter().filter(|s| wanted.contains(&s.service.id)));
        }
        let found_ids: Vec<ServiceId> = found.iter().map(|s| s.service.id).collect();
        let mut t = Table::new();
        for (s, dests) in found.into_iter().zip(self.destinations_of(&found_ids)?) {
            t.insert_status(s, dests);
        }
        Ok(t)
    }

    /// The plan that turns the kernel's table into `desired` within `scope` (see [`Plan`]).
    ///
    /// ```
    /// use ipvs::state::{Policy, Scope, Table};
    /// let client = ipvs::Client::mock();
    /// let desired = Table::from_rules("-A -t 192.0.2.1:80 -s rr\n").unwrap();
    /// let plan = client.plan(&desired, &Scope::Named, &Policy::default())?;
    /// assert_eq!(plan.summary(), "1 service new");
    /// let report = client.apply(&plan)?;
    /// assert!(report.converged && report.writes == 1);
    /// assert!(client.plan(&desired, &Scope::Named, &Policy::default())?.is_empty());
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn plan(&self, desired: &Table, scope: &Scope, policy: &Policy) -> Result<Plan, Error> {
        let current = self.table()?;
        Plan::new(&current, desired, scope, policy).map_err(|e| Error::new(Operation::Plan, None, e))
    }

    /// As [`Client::plan`], with a clock for the longest drain times (see [`DrainClock`]).
    pub fn plan_with_clock(
        &self,
        desired: &Table,
        scope: &Scope,
        policy: &Policy,
        clock: &mut DrainClock,
    ) -> Result<Plan, Error> {
        let current = self.table()?;
        Plan::with_clock(&current, desired, scope, policy, clock).map_err(|e| Error::new(Operation::Plan, None, e))
    }

    /// Applies a plan: its requests pipelined in batches, every failure reported with its
    /// request; then what the plan touched is read again and planned again: `converged` when
    /// nothing is left to write. Applying the same desired table again writes nothing.
    pub fn apply(&self, plan: &Plan) -> Result<ApplyReport, Error> {
        self.apply_with_progress(plan, &mut |_, _| {})
    }

    /// As [`Client::apply`], calling `progress(done, total)` after each batch of requests.
    pub fn apply_with_progress(
        &self,
        plan: &Plan,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ApplyReport, Error> {
        let requests: Vec<Request> = plan.requests().cloned().collect();
        let total = requests.len();
        let (mut writes, mut failures) = (0, Vec::new());
        let mut done = 0;
        for chunk in requests.chunks(APPLY_BATCH) {
            match self.batch(chunk) {
                Ok(outcomes) => {
                    for (r, o) in chunk.iter().zip(outcomes) {
                        match o {
                            Ok(()) => writes += 1,
                            Err(error) => failures.push(Failure { request: r.clone(), error }),
                        }
                    }
                }
                // Invalid input is refused before anything is sent: the plan is at fault.
                Err(e) if e.invalid_input().is_some() => return Err(e),
                Err(e) => {
                    for r in chunk {
                        failures.push(Failure {
                            request: r.clone(),
                            error: Error::new(r.operation(), r.target(), copy_kind(e.kind())),
                        });
                    }
                }
            }
            done += chunk.len();
            progress(done, total);
        }
        let mut after = self.services_table(plan.touched())?;
        if plan.desired().timeouts().is_some() {
            after.set_timeouts(Some(self.timeouts()?));
        }
        // Planning again from what the kernel holds now is the apply's own verification.
        let remaining = Plan::new(&after, plan.desired(), plan.scope(), plan.policy())
            .map_err(|e| Error::new(Operation::Apply, None, e))?;
        Ok(ApplyReport {
            writes,
            failures,
            draining: remaining.draining().to_vec(),
            converged: remaining.is_empty(),
            remaining,
        })
    }
}
