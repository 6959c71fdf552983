//! The plan: the ordered, minimal list of requests that turns a current table into a desired
//! one within a scope, with the reason for each, and the destinations left draining.
//!
//! Every setting the kernel takes is compared: of services the scheduler, every flag
//! (scheduler flags, one-packet, persistence), the persistence timeout, netmask and engine; of
//! destinations the forwarding method, tunnel type, port and checksum, weight and thresholds.
//! The kernel edits all of them in place (SET_SERVICE, SET_DEST), so nothing is ever removed
//! and added again: the identity of a service (protocol, address, port or mark, family) and
//! of a destination (address, port) is what makes it another one. Nothing unchanged is
//! written. Requests come in an order that never fails on its own dependencies: timeouts,
//! then services created or changed, then their destinations, then services removed.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::policy::{DrainClock, DrainPolicy, Policy};
use super::scope::Scope;
use super::table::{Entry, Table};
use crate::error::InvalidInput;
use crate::model::{Destination, DestinationStatus, Request, Service, ServiceFlags, ServiceId};
use crate::rules;

/// Why a plan writes what it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Why {
    /// The desired table sets other timeouts.
    Timeouts,
    /// A desired service the kernel does not have.
    NewService,
    /// A service whose settings differ: the fields that do.
    ServiceChanged(Vec<&'static str>),
    /// A desired destination the kernel does not have.
    NewDestination,
    /// A destination whose settings differ: the fields that do (a desired destination found
    /// at weight 0, as a draining one is, gets its weight back).
    DestinationChanged(Vec<&'static str>),
    /// A destination leaving with connections: weight 0 first, so it drains.
    StartDrain,
    /// A draining destination with no connection left.
    Drained,
    /// A draining destination past its longest drain time.
    DrainTimedOut,
    /// A destination leaving a service whose policy deletes at once.
    Removed,
    /// A service the scope removes (its destinations drained, or deleted at once).
    ServiceRemoved,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Timeouts => f.write_str("timeouts differ"),
            Why::NewService => f.write_str("new service"),
            Why::ServiceChanged(fields) => write!(f, "changed: {}", fields.join(", ")),
            Why::NewDestination => f.write_str("new destination"),
            Why::DestinationChanged(fields) => write!(f, "changed: {}", fields.join(", ")),
            Why::StartDrain => f.write_str("leaving: weight 0 to drain"),
            Why::Drained => f.write_str("drained: no connection left"),
            Why::DrainTimedOut => f.write_str("drain took too long"),
            Why::Removed => f.write_str("leaving"),
            Why::ServiceRemoved => f.write_str("not desired"),
        }
    }
}

/// One request of a plan, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What is sent.
    pub request: Request,
    /// Why.
    pub why: Why,
}

/// A destination waiting for its connections to end before it is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draining {
    /// Its service.
    pub service: ServiceId,
    /// The destination.
    pub destination: SocketAddr,
    /// Its active connections when the plan was made.
    pub active: u32,
    /// Its inactive connections.
    pub inactive: u32,
    /// How long this process has seen it draining.
    pub for_: Duration,
}

/// The requests that turn the current table into the desired one within a scope, in an
/// order that never fails on its own dependencies, each with its reason; and the
/// destinations left draining.
///
/// ```
/// use ipvs::state::{Plan, Policy, Scope, Table};
/// let current = Table::from_rules("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m -w 1\n")?;
/// let desired = Table::from_rules("-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m -w 3\n")?;
/// let plan = Plan::new(&current, &desired, &Scope::Named, &Policy::default())?;
/// assert_eq!(plan.to_rules(), "-E -t 192.0.2.1:80 -s wrr\n-e -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 3\n");
/// assert_eq!(plan.summary(), "1 service changed, 1 destination changed");
/// assert!(Plan::new(&desired, &desired, &Scope::Named, &Policy::default())?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Plan {
    steps: Vec<Step>,
    draining: Vec<Draining>,
    /// The services the plan writes to or finds draining (what verification reads again).
    touched: Vec<ServiceId>,
    /// The desired table's part for the touched services (and its timeouts), for verification.
    desired: Table,
    scope: Option<Scope>,
    policy: Policy,
}

/// The fields in which two services' settings differ.
fn service_changes(a: &Service, b: &Service) -> Vec<&'static str> {
    let mut f = Vec::new();
    if a.scheduler != b.scheduler {
        f.push("scheduler");
    }
    // The persistent flag goes with the persistence timeout: one change, named once.
    let flags = a.flags.symmetric_difference(b.flags);
    if !flags.difference(ServiceFlags::PERSISTENT).is_empty() {
        f.push("flags");
    }
    if a.timeout != b.timeout || flags.contains(ServiceFlags::PERSISTENT) {
        f.push("persistence");
    }
    if a.netmask != b.netmask {
        f.push("netmask");
    }
    if a.persistence_engine != b.persistence_engine {
        f.push("persistence_engine");
    }
    f
}

/// The fields in which two destinations' settings differ.
fn destination_changes(a: &Destination, b: &Destination) -> Vec<&'static str> {
    let mut f = Vec::new();
    if a.forward != b.forward {
        f.push("forward");
    }
    if a.weight != b.weight {
        f.push("weight");
    }
    if a.upper_threshold != b.upper_threshold {
        f.push("upper_threshold");
    }
    if a.lower_threshold != b.lower_threshold {
        f.push("lower_threshold");
    }
    f
}

/// What the planner needs besides the two tables.
struct Planner<'a> {
    policy: &'a Policy,
    clock: Option<&'a mut DrainClock>,
    now: Instant,
    services: Vec<Step>,
    destinations: Vec<Step>,
    removals: Vec<Step>,
    draining: Vec<Draining>,
}

impl Planner<'_> {
    /// A destination leaving `entry`: drained or deleted, as its policy says.
    fn leave(&mut self, id: &ServiceId, drain: DrainPolicy, d: &DestinationStatus) -> bool {
        let addr = d.destination.socket_addr();
        let delete = Request::DeleteDestination { service: *id, destination: addr };
        let DrainPolicy::Drain { max } = drain else {
            self.destinations.push(Step { request: delete, why: Why::Removed });
            return true;
        };
        if d.connections() == 0 {
            self.destinations.push(Step { request: delete, why: Why::Drained });
            return true;
        }
        let for_ = match self.clock.as_deref_mut() {
            Some(c) => c.draining_for(id, &addr, self.now),
            None => Duration::ZERO,
        };
        if max.is_some_and(|m| for_ >= m) {
            self.destinations.push(Step { request: delete, why: Why::DrainTimedOut });
            return true;
        }
        if d.destination.weight != 0 {
            let request =
                Request::UpdateDestination { service: *id, destination: d.destination.clone().with_weight(0) };
            self.destinations.push(Step { request, why: Why::StartDrain });
        }
        self.draining.push(Draining {
            service: *id,
            destination: addr,
            active: d.active_conns,
            inactive: d.inactive_conns,
            for_,
        });
        false
    }

    /// A service both tables have.
    fn change(&mut self, cur: &Entry, want: &Entry) {
        let id = want.service().id;
        let fields = service_changes(cur.service(), want.service());
        if !fields.is_empty() {
            self.services.push(Step {
                request: Request::UpdateService(want.service().clone()),
                why: Why::ServiceChanged(fields),
            });
        }
        for d in want.destinations() {
            match cur.destination(&d.destination.socket_addr()) {
                None => self.destinations.push(Step {
                    request: Request::AddDestination { service: id, destination: d.destination.clone() },
                    why: Why::NewDestination,
                }),
                Some(c) if c.destination != d.destination => self.destinations.push(Step {
                    request: Request::UpdateDestination { service: id, destination: d.destination.clone() },
                    why: Why::DestinationChanged(destination_changes(&c.destination, &d.destination)),
                }),
                Some(_) => {}
            }
        }
        let drain = self.policy.for_service(&id, want.drain());
        for c in cur.destinations() {
            if want.destination(&c.destination.socket_addr()).is_none() {
                self.leave(&id, drain, c);
            }
        }
    }

    /// A service the scope removes: deleted once every destination has left.
    fn remove(&mut self, cur: &Entry) {
        let id = cur.service().id;
        let drain = self.policy.for_service(&id, None);
        let mut all_gone = true;
        let before = self.destinations.len();
        for d in cur.destinations() {
            all_gone &= self.leave(&id, drain, d);
        }
        if all_gone {
            // Deleting the service deletes its destinations: no need to send those.
            self.destinations.truncate(before);
            self.removals.push(Step { request: Request::DeleteService(id), why: Why::ServiceRemoved });
        }
    }
}

impl Plan {
    /// The plan from `current` to `desired` within `scope`, destinations leaving as `policy`
    /// says. Every desired service must be in the scope and valid.
    pub fn new(current: &Table, desired: &Table, scope: &Scope, policy: &Policy) -> Result<Plan, InvalidInput> {
        Self::build(current, desired, scope, policy, None, Instant::now())
    }

    /// As [`Plan::new`], with a clock that remembers since when destinations drain, so that
    /// those past their longest drain time are deleted.
    pub fn with_clock(
        current: &Table,
        desired: &Table,
        scope: &Scope,
        policy: &Policy,
        clock: &mut DrainClock,
    ) -> Result<Plan, InvalidInput> {
        let plan = Self::build(current, desired, scope, policy, Some(&mut *clock), Instant::now())?;
        let draining: std::collections::HashSet<(ServiceId, SocketAddr)> =
            plan.draining.iter().map(|d| (d.service, d.destination)).collect();
        clock.retain(|s, d| draining.contains(&(*s, *d)));
        Ok(plan)
    }

    fn build(
        current: &Table,
        desired: &Table,
        scope: &Scope,
        policy: &Policy,
        clock: Option<&mut DrainClock>,
        now: Instant,
    ) -> Result<Plan, InvalidInput> {
        desired.validate()?;
        let mut p = Planner {
            policy,
            clock,
            now,
            services: Vec::new(),
            destinations: Vec::new(),
            removals: Vec::new(),
            draining: Vec::new(),
        };
        // The services with a step or a draining destination: what verification reads again,
        // and what of the desired table the plan keeps for it.
        let mut touched = Vec::new();
        let mut scoped = Table::new();
        scoped.set_timeouts(desired.timeouts());
        let size = |p: &Planner<'_>| p.services.len() + p.destinations.len() + p.removals.len() + p.draining.len();
        for want in desired.entries() {
            let id = want.service().id;
            if !scope.may_write(&id) {
                return Err(InvalidInput::new("service", id, format!("outside the scope ({scope})")));
            }
            let before = size(&p);
            match current.entry(&id) {
                None => {
                    p.services
                        .push(Step { request: Request::AddService(want.service().clone()), why: Why::NewService });
                    for d in want.destinations() {
                        p.destinations.push(Step {
                            request: Request::AddDestination { service: id, destination: d.destination.clone() },
                            why: Why::NewDestination,
                        });
                    }
                }
                Some(cur) => p.change(cur, want),
            }
            if size(&p) != before {
                touched.push(id);
                scoped.insert_entry(want.clone());
            }
        }
        for cur in current.entries() {
            let id = cur.service().id;
            if !desired.contains(&id) && scope.may_remove(&id) {
                touched.push(id);
                p.remove(cur);
            }
        }
        let mut steps = Vec::with_capacity(1 + p.services.len() + p.destinations.len() + p.removals.len());
        if let Some(t) = desired.timeouts() {
            if current.timeouts() != Some(t) {
                steps.push(Step { request: Request::SetTimeouts(t), why: Why::Timeouts });
            }
        }
        steps.append(&mut p.services);
        steps.append(&mut p.destinations);
        steps.append(&mut p.removals);
        Ok(Plan { steps, draining: p.draining, touched, desired: scoped, scope: Some(scope.clone()), policy: *policy })
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The requests, in order.
    pub fn requests(&self) -> impl ExactSizeIterator<Item = &Request> + '_ {
        self.steps.iter().map(|s| &s.request)
    }

    /// The destinations left draining (no write needed now; a later plan deletes them).
    pub fn draining(&self) -> &[Draining] {
        &self.draining
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// How many requests.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// The services the plan writes to, removes or finds draining: what reading the kernel
    /// again after applying it needs (services already as desired are not read again).
    pub fn touched(&self) -> &[ServiceId] {
        &self.touched
    }

    /// The part of the desired table the plan touches (and the desired timeouts): what the
    /// kernel is compared with after applying it.
    pub fn desired(&self) -> &Table {
        &self.desired
    }

    /// The scope it was made in.
    pub fn scope(&self) -> &Scope {
        self.scope.as_ref().unwrap_or(&Scope::Named)
    }

    /// The policy it was made with.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The plan as the ipvsadm commands an operator would type, one per line.
    pub fn to_rules(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            out.push_str(&rules::request_line(&s.request, &rules::Numeric));
            out.push('\n');
        }
        out
    }

    /// A short human summary: `2 services new, 1 destination changed, 3 destinations
    /// draining`, or `no change`.
    pub fn summary(&self) -> String {
        let mut counts: Vec<(usize, &str, &str)> = Vec::new();
        let mut count = |n: usize, what: &'static str, how: &'static str| {
            if n > 0 {
                counts.push((n, what, how));
            }
        };
        let by = |f: &dyn Fn(&Why) -> bool| self.steps.iter().filter(|s| f(&s.why)).count();
        count(by(&|w| matches!(w, Why::NewService)), "service", "new");
        count(by(&|w| matches!(w, Why::ServiceChanged(_))), "service", "changed");
        count(by(&|w| matches!(w, Why::ServiceRemoved)), "service", "removed");
        count(by(&|w| matches!(w, Why::NewDestination)), "destination", "new");
        count(by(&|w| matches!(w, Why::DestinationChanged(_))), "destination", "changed");
        count(by(&|w| matches!(w, Why::StartDrain)), "destination", "set to drain");
        count(by(&|w| matches!(w, Why::Drained | Why::DrainTimedOut | Why::Removed)), "destination", "removed");
        count(self.draining.len(), "destination", "draining");
        let mut parts: Vec<String> =
            counts.iter().map(|(n, what, how)| format!("{n} {what}{} {how}", if *n == 1 { "" } else { "s" })).collect();
        if self.steps.iter().any(|s| s.why == Why::Timeouts) {
            parts.insert(0, "timeouts changed".into());
        }
        if parts.is_empty() {
            "no change".into()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Forward, Scheduler, Timeouts};

    fn table(rules: &str) -> Table {
        Table::from_rules(rules).unwrap()
    }

    fn status(t: &mut Table, svc: &str, dest: &str, weight: u32, active: u32) {
        let id = crate::rules::parse_line(&format!("-D {svc}")).unwrap().unwrap().service_id().copied().unwrap();
        let e = t.entry(&id).unwrap().clone();
        let mut dests: Vec<DestinationStatus> = e.destinations().cloned().collect();
        let addr: SocketAddr = dest.parse().unwrap();
        for d in &mut dests {
            if d.destination.socket_addr() == addr {
                d.destination.weight = weight;
                d.active_conns = active;
            }
        }
        t.insert_status(e.status(), dests);
    }

    #[test]
    fn every_field_is_compared_and_nothing_unchanged_is_written() {
        let cur = table("-A -t 192.0.2.1:80 -s sh -b sh-port\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n");
        for (want, fields) in [
            ("-A -t 192.0.2.1:80 -s mh -b mh-port", vec!["scheduler"]),
            ("-A -t 192.0.2.1:80 -s sh -b sh-fallback", vec!["flags"]),
            // The persistent flag goes with the timeout: one change.
            ("-A -t 192.0.2.1:80 -s sh -b sh-port -p 60", vec!["persistence"]),
            ("-A -t 192.0.2.1:80 -s sh -b sh-port,sh-fallback -p 60", vec!["flags", "persistence"]),
            ("-A -t 192.0.2.1:80 -s sh -b sh-port -p 60 -M 255.255.255.0", vec!["persistence", "netmask"]),
        ] {
            let desired = table(&format!("{want}\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n"));
            let plan = Plan::new(&cur, &desired, &Scope::Named, &Policy::default()).unwrap();
            assert_eq!(plan.steps().len(), 1, "{want}");
            assert_eq!(plan.steps()[0].why, Why::ServiceChanged(fields), "{want}");
        }
        for (dest, fields) in [
            ("-r 198.51.100.1:80 -m -w 2", vec!["weight"]),
            ("-r 198.51.100.1:80 -m -w 1 -x 10 -y 5", vec!["upper_threshold", "lower_threshold"]),
            ("-r 198.51.100.1:80 -g -w 1", vec!["forward"]),
            ("-r 198.51.100.1:80 -i --tun-type gue --tun-port 6080 -w 1", vec!["forward"]),
        ] {
            let desired = table(&format!("-A -t 192.0.2.1:80 -s sh -b sh-port\n-a -t 192.0.2.1:80 {dest}\n"));
            let plan = Plan::new(&cur, &desired, &Scope::Named, &Policy::default()).unwrap();
            assert_eq!(plan.steps().len(), 1, "{dest}");
            assert_eq!(plan.steps()[0].why, Why::DestinationChanged(fields), "{dest}");
        }
        assert!(Plan::new(&cur, &cur, &Scope::All, &Policy::default()).unwrap().is_empty());
    }

    #[test]
    fn leaving_destinations_drain_and_are_deleted_when_idle() {
        let desired = table("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m\n");
        let mut cur = table(
            "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m\n-a -t 192.0.2.1:80 -r 198.51.100.2 -m\n",
        );
        status(&mut cur, "-t 192.0.2.1:80", "198.51.100.2:80", 1, 3);
        let plan = Plan::new(&cur, &desired, &Scope::Named, &Policy::default()).unwrap();
        assert_eq!(plan.to_rules(), "-e -t 192.0.2.1:80 -r 198.51.100.2:80 -m -w 0\n");
        assert_eq!(plan.draining().len(), 1);
        assert_eq!(plan.summary(), "1 destination set to drain, 1 destination draining");
        // Already at weight 0 with connections: nothing to write, still draining.
        status(&mut cur, "-t 192.0.2.1:80", "198.51.100.2:80", 0, 3);
        let plan = Plan::new(&cur, &desired, &Scope::Named, &Policy::default()).unwrap();
        assert!(plan.is_empty() && plan.draining().len() == 1);
        // Idle: deleted.
        status(&mut cur, "-t 192.0.2.1:80", "198.51.100.2:80", 0, 0);
        let plan = Plan::new(&cur, &desired, &Scope::Named, &Policy::default()).unwrap();
        assert_eq!(plan.to_rules(), "-d -t 192.0.2.1:80 -r 198.51.100.2:80\n");
        assert_eq!(plan.steps()[0].why, Why::Drained);
        // Deleting at once, whatever the connections.
        status(&mut cur, "-t 192.0.2.1:80", "198.51.100.2:80", 1, 9);
        let plan = Plan::new(&cur, &desired, &Scope::Named, &Policy::delete_at_once()).unwrap();
        assert_eq!(plan.steps()[0].why, Why::Removed);
    }

    #[test]
    fn a_desired_destination_found_at_weight_0_gets_its_weight_back() {
        let desired = table("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m -w 5\n");
        let mut cur = desired.clone();
        status(&mut cur, "-t 192.0.2.1:80", "198.51.100.1:80", 0, 4);
        let plan = Plan::new(&cur, &desired, &Scope::Named, &Policy::default()).unwrap();
        assert_eq!(plan.to_rules(), "-e -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 5\n");
    }

    #[test]
    fn drains_past_their_longest_time_end() {
        let desired = table("-A -t 192.0.2.1:80 -s rr\n");
        let mut cur = table("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.2 -m\n");
        status(&mut cur, "-t 192.0.2.1:80", "198.51.100.2:80", 0, 3);
        let policy = Policy { tcp: DrainPolicy::Drain { max: Some(Duration::from_millis(50)) }, ..Policy::default() };
        let mut clock = DrainClock::new();
        let plan = Plan::with_clock(&cur, &desired, &Scope::Named, &policy, &mut clock).unwrap();
        assert!(plan.is_empty() && clock.len() == 1);
        std::thread::sleep(Duration::from_millis(60));
        let plan = Plan::with_clock(&cur, &desired, &Scope::Named, &policy, &mut clock).unwrap();
        assert_eq!(plan.steps()[0].why, Why::DrainTimedOut);
        assert!(clock.is_empty());
    }

    #[test]
    fn scopes_decide_removals_and_refuse_desired_services_outside() {
        let cur = table("-A -t 192.0.2.1:80 -s rr\n-A -u 192.0.2.1:53 -s rr\n");
        let desired = table("-A -t 192.0.2.1:443 -s rr\n");
        let named = Plan::new(&cur, &desired, &Scope::Named, &Policy::default()).unwrap();
        assert_eq!(named.to_rules(), "-A -t 192.0.2.1:443 -s rr\n");
        let all = Plan::new(&cur, &desired, &Scope::All, &Policy::default()).unwrap();
        assert_eq!(all.to_rules(), "-A -t 192.0.2.1:443 -s rr\n-D -t 192.0.2.1:80\n-D -u 192.0.2.1:53\n");
        let tcp = Scope::Selected(vec!["tcp".parse().unwrap()]);
        let sel = Plan::new(&cur, &desired, &tcp, &Policy::default()).unwrap();
        assert_eq!(sel.to_rules(), "-A -t 192.0.2.1:443 -s rr\n-D -t 192.0.2.1:80\n");
        let udp = Scope::Selected(vec!["udp".parse().unwrap()]);
        assert_eq!(Plan::new(&cur, &desired, &udp, &Policy::default()).unwrap_err().field, "service");
    }

    #[test]
    fn a_removed_service_drains_its_destinations_first() {
        let mut cur = table(
            "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m\n-a -t 192.0.2.1:80 -r 198.51.100.2 -m\n",
        );
        status(&mut cur, "-t 192.0.2.1:80", "198.51.100.1:80", 1, 2);
        let plan = Plan::new(&cur, &Table::new(), &Scope::All, &Policy::default()).unwrap();
        assert_eq!(
            plan.to_rules(),
            "-e -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 0\n-d -t 192.0.2.1:80 -r 198.51.100.2:80\n"
        );
        status(&mut cur, "-t 192.0.2.1:80", "198.51.100.1:80", 0, 0);
        let plan = Plan::new(&cur, &Table::new(), &Scope::All, &Policy::default()).unwrap();
        assert_eq!(plan.to_rules(), "-D -t 192.0.2.1:80\n");
    }

    #[test]
    fn requests_come_in_dependency_order() {
        let mut desired = table("-A -t 192.0.2.9:80 -s rr\n-a -t 192.0.2.9:80 -r 198.51.100.1 -m\n");
        desired.set_timeouts(Some(Timeouts { tcp: 100, tcp_fin: 10, udp: 10 }));
        let cur = table("-A -t 192.0.2.1:80 -s rr\n");
        let plan = Plan::new(&cur, &desired, &Scope::All, &Policy::default()).unwrap();
        let kinds: Vec<&str> = plan
            .requests()
            .map(|r| match r {
                Request::SetTimeouts(_) => "timeouts",
                Request::AddService(_) => "add service",
                Request::AddDestination { .. } => "add destination",
                Request::DeleteService(_) => "delete service",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["timeouts", "add service", "add destination", "delete service"]);
        let _ = (Forward::Masquerade, Scheduler::Rr);
    }
}
