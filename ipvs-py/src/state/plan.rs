//! `ipvs.Plan` with its `Step`s, and the `Draining` destinations plans and reports list.

use ipvs::rules::{request_line, Numeric};
use ipvs::state::{Draining, Plan, Step};
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList};

use super::table::PyTable;
use super::{policy, scope_of};
use crate::convert::invalid;

/// One request of a plan: `command`, the ipvsadm command line an operator would type for
/// it (`-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1`); `operation`, the client method it
/// is (`add_destination`); `target`, what it acts on (`TCP 192.0.2.1:80 -> 198.51.100.1:80`,
/// None for the timeouts); `why`, the reason (`new destination`, `changed: weight`,
/// `leaving: weight 0 to drain`, ...).
#[pyclass(name = "Step", module = "ipvs", frozen)]
pub struct PyStep {
    step: Step,
}

#[pymethods]
impl PyStep {
    /// The ipvsadm command line.
    #[getter]
    fn command(&self) -> String {
        request_line(&self.step.request, &Numeric)
    }

    /// The client operation (`add_service`, `update_destination`, `set_timeouts`, ...).
    #[getter]
    fn operation(&self) -> &'static str {
        self.step.request.operation().name()
    }

    /// What it acts on, as errors name it; None for the timeouts.
    #[getter]
    fn target(&self) -> Option<String> {
        self.step.request.target()
    }

    /// Why the plan sends it.
    #[getter]
    fn why(&self) -> String {
        self.step.why.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Step({:?}, why={:?})", self.command(), self.why())
    }
}

/// A destination waiting for its connections to end before a later plan deletes it (at
/// weight 0, it takes no new ones): `service` and `destination` as text
/// (`TCP 192.0.2.1:80`, `198.51.100.2:80`), its connections when the plan was made, and how
/// long this process has seen it draining.
#[pyclass(name = "Draining", module = "ipvs", frozen)]
pub struct PyDraining {
    inner: Draining,
}

impl PyDraining {
    /// Python objects for a list of draining destinations.
    pub fn list(list: &[Draining]) -> Vec<PyDraining> {
        list.iter().map(|d| PyDraining { inner: d.clone() }).collect()
    }
}

#[pymethods]
impl PyDraining {
    /// The service, as text (`TCP 192.0.2.1:80`, `FWM 7 IPv6`).
    #[getter]
    fn service(&self) -> String {
        self.inner.service.to_string()
    }

    /// The destination's address and port, as text.
    #[getter]
    fn destination(&self) -> String {
        self.inner.destination.to_string()
    }

    /// Its active connections.
    #[getter]
    fn active_conns(&self) -> u32 {
        self.inner.active
    }

    /// Its inactive connections.
    #[getter]
    fn inactive_conns(&self) -> u32 {
        self.inner.inactive
    }

    /// How long this process has seen it draining, in seconds (0 for a one-shot plan).
    #[getter]
    fn draining_seconds(&self) -> f64 {
        self.inner.for_.as_secs_f64()
    }

    fn __repr__(&self) -> String {
        format!(
            "Draining(service={:?}, destination={:?}, active_conns={}, inactive_conns={})",
            self.service(),
            self.destination(),
            self.inner.active,
            self.inner.inactive
        )
    }
}

/// The requests that turn one table into another within a scope, in an order that never
/// fails on its own dependencies (timeouts, services, destinations, removals), each a
/// `Step` with its reason; and the destinations left `draining`. Nothing unchanged is
/// written: an empty plan (false, `len()` 0) means the tables agree.
///
/// `Client.plan(desired)` makes one against the kernel; `Plan(current, desired)` between two
/// tables, with the same `scope`, `prune` and `delete_at_once` arguments. `Client.apply(plan)`
/// applies it.
#[pyclass(name = "Plan", module = "ipvs", frozen)]
pub struct PyPlan {
    /// The plan.
    pub inner: Plan,
}

#[pymethods]
impl PyPlan {
    /// The plan from `current` to `desired`. `scope` (None, a selector string such as
    /// `"tcp,192.0.2.0/24,port=80-90"` or `"fwmark=1-9"`, or a list of them) and `prune` say
    /// what may be touched, as `ipvs apply --scope --prune` does: by default only the
    /// services `desired` names; with `prune=True` also removing the services in scope
    /// (every one without `scope`) that `desired` does not name. Leaving destinations of TCP,
    /// SCTP and firewall-mark services drain (weight 0, deleted once idle), UDP ones are
    /// deleted at once; `delete_at_once=True` deletes them all at once. A ValueError for a
    /// bad selector, a desired service outside the scope, or an invalid desired table.
    #[new]
    #[pyo3(signature = (current, desired, scope=None, prune=false, delete_at_once=false))]
    fn new(
        current: &Bound<'_, PyTable>,
        desired: &Bound<'_, PyTable>,
        scope: Option<&Bound<'_, PyAny>>,
        prune: bool,
        delete_at_once: bool,
    ) -> PyResult<Self> {
        let (cur, want) = (current.get().read()?, desired.get().read()?);
        let scope = scope_of(scope, prune, &want)?;
        let inner = Plan::new(&cur, &want, &scope, &policy(delete_at_once)).map_err(invalid)?;
        Ok(PyPlan { inner })
    }

    /// The steps, in order.
    #[getter]
    fn steps(&self) -> Vec<PyStep> {
        self.inner.steps().iter().map(|s| PyStep { step: s.clone() }).collect()
    }

    /// The destinations left draining (nothing to write for them now; a later plan deletes
    /// them when idle).
    #[getter]
    fn draining(&self) -> Vec<PyDraining> {
        PyDraining::list(self.inner.draining())
    }

    /// A short summary: `2 services new, 1 destination changed, 3 destinations draining`, or
    /// `no change`.
    #[getter]
    fn summary(&self) -> String {
        self.inner.summary()
    }

    /// The plan as the ipvsadm commands an operator would type, one per line.
    fn to_rules(&self) -> String {
        self.inner.to_rules()
    }

    /// The plan as JSON: `summary`, `steps` (each `operation`, `target`, `why`, `command`)
    /// and `draining` (as `ipvs diff --output json` prints it).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __bool__(&self) -> bool {
        !self.inner.is_empty()
    }

    /// Iterates over the steps.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyList::new(py, self.steps())?.try_iter()
    }

    fn __repr__(&self) -> String {
        format!("<ipvs.Plan: {}>", self.inner.summary())
    }
}
