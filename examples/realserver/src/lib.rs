//! Real servers for IPVS direct routing (DR), tunnelling (TUN) and NAT: [`prepare`] a host,
//! [`check`] it, [`undo`] what prepare changed.
//!
//! Everything goes through rtnetlink (links, addresses, routes), the `fou` generic netlink
//! family (GUE ports) and /proc/sys (settings); nothing runs `ip` or `sysctl`. A request may
//! name a network namespace: a short-lived helper thread enters it and does the work there,
//! the caller's threads stay where they are. The two other ARP cures ([`ArpCure`]:
//! `arptables`, `redirect`) are nftables rules in tables named `ipvs_realserver`, through
//! the `nft` program's JSON interface.
//!
//! What each method needs:
//! - DR: every VIP on `lo` with a host prefix (/32, /128), `lo` up; for IPv4 VIPs the
//!   effective `arp_ignore` (the larger of `all` and the interface's) 1 or 2 and
//!   `arp_announce` 2 on the interfaces facing the clients. IPv6 needs nothing more: Linux
//!   answers a neighbour solicitation only for addresses on the interface it arrived on.
//! - TUN: the tunnel device of the encapsulation (`tunl0`, `gre0`, `ip6tnl0`, `ip6gre0`)
//!   present and up, the VIPs on it, the effective `rp_filter` on it not strict (1), the
//!   same ARP settings as DR, and for GUE a receive port.
//! - NAT: the route back to the clients (default: the default route) via the director.
//!
//! ```no_run
//! use ipvs_realserver::{check, prepare_recorded, state_path, undo_recorded, Method, Request};
//! let req = Request::new(Method::Dr).vip("192.0.2.10".parse()?).dev("eth0");
//! let state = state_path(None);
//! print!("{}", prepare_recorded(&req, &state)?); // what changed, one line each
//! assert!(check(&req)?.is_empty());
//! print!("{}", undo_recorded(&state)?); // every value back as it was
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod apply;
mod cures;
mod error;
mod fou;
mod model;
mod net;
mod nft;
mod record;
mod request;
pub mod rtnl;
mod rules;
#[cfg(test)]
mod rules_tests;
mod state;
mod sysctl;

use std::path::Path;

pub use error::{Errno, Error, Failure, Result};
pub use model::{Change, Plan, Problem, ProblemKind, Report, Step};
pub use net::in_netns;
pub use record::{state_path, Record, MAX_RECORD_BYTES, RECORD_VERSION, STATE_DIR};
pub use request::{ArpCure, Method, Network, Request, ServicePort, Tunnel};

use rtnl::Rtnl;
use state::Snapshot;

/// How many times `prepare` looks again after acting (a created device gets its settings in
/// the next round).
const ROUNDS: usize = 4;

/// The problems that keep this host (or the request's namespace) from being a ready real
/// server; empty when ready. Reads only.
pub fn check(request: &Request) -> Result<Vec<Problem>> {
    request.validate()?;
    net::in_netns(request.netns.as_deref(), || {
        let mut rtnl = Rtnl::open()?;
        let snap = Snapshot::gather(&mut rtnl, request)?;
        Ok(rules::problems(request, &snap))
    })
}

/// What [`prepare`] would do now (a dry run). Settings of a tunnel device that does not
/// exist yet are not listed: they are planned once it exists.
pub fn plan(request: &Request) -> Result<Plan> {
    request.validate()?;
    net::in_netns(request.netns.as_deref(), || {
        let mut rtnl = Rtnl::open()?;
        let snap = Snapshot::gather(&mut rtnl, request)?;
        Ok(Plan { steps: rules::plan(request, &snap)? })
    })
}

/// Makes this host a ready real server for `request`, changing only what is not right yet
/// (a second run changes nothing). The report lists each change with the value before;
/// keep it in a [`Record`] (or use [`prepare_recorded`]) to [`undo`] it. On failure the
/// changes made before it are in [`Failure::done`].
pub fn prepare(request: &Request) -> Result<Report, Failure> {
    request.validate()?;
    net::in_netns(request.netns.as_deref(), || {
        let mut rtnl = Rtnl::open()?;
        let mut done: Vec<Change> = Vec::new();
        let mut last = Vec::new();
        for _ in 0..ROUNDS {
            let steps = Snapshot::gather(&mut rtnl, request).and_then(|s| Ok((rules::plan(request, &s)?, s)));
            let (steps, snap) = match steps {
                Ok(x) => x,
                Err(error) => return Err(Failure { error, done }),
            };
            if steps.is_empty() {
                return Ok(Report { changes: done, ..Report::default() });
            }
            for step in &steps {
                match apply::apply(&mut rtnl, &snap, step) {
                    Ok(changes) => done.extend(changes),
                    Err(error) => return Err(Failure { error, done }),
                }
            }
            last = steps;
        }
        let rest = last.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        Err(Failure { error: Error::NotSettled(rest), done })
    })
}

/// Puts back what a record says `prepare` changed, newest first, in the record's
/// namespace. Something already put back by hand is noted, not an error. On failure
/// [`Failure::done`] lists the changes put back before it (the newest ones of the record).
pub fn undo(record: &Record) -> Result<Report, Failure> {
    for c in &record.changes {
        apply::validate(c)?;
    }
    net::in_netns(record.netns.as_deref(), || {
        let mut rtnl = Rtnl::open()?;
        let mut report = Report { undone: true, ..Report::default() };
        for c in record.changes.iter().rev() {
            let result = Snapshot::basic(&mut rtnl).and_then(|s| apply::revert(&mut rtnl, &s, c));
            match result {
                Ok(note) => {
                    report.notes.extend(note);
                    report.changes.push(c.clone());
                }
                Err(error) => return Err(Failure { error, done: report.changes }),
            }
        }
        Ok(report)
    })
}

/// [`prepare`], adding its changes to the record in the state file at `state` (made if
/// missing), also when it fails part way.
pub fn prepare_recorded(request: &Request, state: &Path) -> Result<Report, Failure> {
    let mut record = Record::load(state)?.unwrap_or_else(|| Record::new(request.netns.clone()));
    if record.netns != request.netns {
        return Err(Error::State {
            path: state.to_path_buf(),
            reason: format!("it records changes in namespace {:?}, not {:?}", record.netns, request.netns),
        }
        .into());
    }
    let result = prepare(request);
    let changes = match &result {
        Ok(r) => &r.changes,
        Err(f) => &f.done,
    };
    if !changes.is_empty() {
        record.add(changes);
        if let Err(error) = record.save(state) {
            return Err(Failure { error, done: changes.clone() });
        }
    }
    result
}

/// [`undo`] of the record in the state file at `state`; the file is removed when
/// everything is back, and keeps what is left when undo fails part way. No file: nothing to
/// undo (a note says so).
pub fn undo_recorded(state: &Path) -> Result<Report, Failure> {
    let Some(mut record) = Record::load(state)? else {
        let notes = vec![format!("nothing recorded in {}", state.display())];
        return Ok(Report { notes, undone: true, ..Report::default() });
    };
    match undo(&record) {
        Ok(report) => {
            std::fs::remove_file(state).map_err(|e| Error::io(state, e))?;
            Ok(report)
        }
        Err(f) => {
            let left = record.changes.len().saturating_sub(f.done.len());
            record.changes.truncate(left);
            match record.save(state) {
                Ok(()) => Err(f),
                Err(error) => Err(Failure { error, done: f.done }),
            }
        }
    }
}
