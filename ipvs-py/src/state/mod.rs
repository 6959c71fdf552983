//! Desired state from Python: `Table`, `Plan` (with its `Step`s and `Draining`
//! destinations), `ApplyReport` (with its `Failure`s), on ipvs-core's `state` types, and what
//! the client's `table`, `plan`, `apply`, `save` and `restore` need of them.

mod dict;
mod plan;
mod report;
mod rules;
mod table;

pub use plan::{PyDraining, PyPlan, PyStep};
pub use report::{run_apply, Applied, PyApplyReport, PyFailure};
pub use rules::{restore_error, restore_requests, save, send_rules};
pub use table::PyTable;

use ipvs::state::{Policy, Scope, Selector, Table};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::convert::{string, type_err, value_err};

/// The selectors of a `scope` argument: None (none), one str, or a sequence of str. A bad
/// selector is a ValueError naming it.
fn selectors(scope: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Selector>> {
    let Some(s) = scope.filter(|s| !s.is_none()) else { return Ok(Vec::new()) };
    let one = |v: &Bound<'_, PyAny>, field: &str| -> PyResult<Selector> {
        let text = string(v, field)?;
        text.parse::<Selector>().map_err(|e| value_err(field, format!("'{text}'"), &e.to_string()))
    };
    if s.is_instance_of::<PyString>() {
        return Ok(vec![one(s, "scope")?]);
    }
    let want = "None, str or a sequence of str";
    if s.is_instance_of::<PyBytes>() {
        return Err(type_err("scope", want, s));
    }
    let items = s.try_iter().map_err(|_| type_err("scope", want, s))?;
    let mut out = Vec::new();
    for (i, v) in items.enumerate() {
        out.push(one(&v?, &format!("scope[{i}]"))?);
    }
    Ok(out)
}

/// The scope of a plan from the `scope` and `prune` arguments, as the `ipvs` command reads
/// `--scope` and `--prune`: without prune only the services `desired` names are touched (and
/// with selectors they must all be among them); with prune the services in scope (every
/// service without selectors) that `desired` does not name are removed.
pub fn scope_of(scope: Option<&Bound<'_, PyAny>>, prune: bool, desired: &Table) -> PyResult<Scope> {
    Scope::from_selectors(selectors(scope)?, prune, desired).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The drain policy: the default (TCP, SCTP and firewall-mark services drain leaving
/// destinations, UDP deletes them at once), or every service deleting at once.
pub fn policy(delete_at_once: bool) -> Policy {
    if delete_at_once {
        Policy::delete_at_once()
    } else {
        Policy::default()
    }
}
