//! `ipvs.ApplyReport` and its `Failure`s, and the planning and applying behind
//! `Client.apply`.

use ipvs::rules::{request_line, Numeric};
use ipvs::state::{ApplyReport, Plan, Policy, Scope, Table};
use ipvs::transport::Transport;
use ipvs::{Client, Error, Request};
use pyo3::exceptions::PyBaseException;
use pyo3::prelude::*;

use super::plan::{PyDraining, PyPlan};
use crate::convert::error_for;

/// A request of a plan that failed: `command` (its ipvsadm command line), `operation` and
/// `target` (as a `Step` names them), `errno`, and `error`, the exception the call alone
/// would have raised (an `IpvsError`, also the matching builtin such as FileExistsError).
#[pyclass(name = "Failure", module = "ipvs", frozen)]
pub struct PyFailure {
    request: Request,
    error: Error,
}

#[pymethods]
impl PyFailure {
    /// The ipvsadm command line of the request.
    #[getter]
    fn command(&self) -> String {
        request_line(&self.request, &Numeric)
    }

    /// The client operation of the request.
    #[getter]
    fn operation(&self) -> &'static str {
        self.request.operation().name()
    }

    /// What the request acts on; None for the timeouts.
    #[getter]
    fn target(&self) -> Option<String> {
        self.request.target()
    }

    /// The errno the kernel (or the socket) answered.
    #[getter]
    fn errno(&self) -> i32 {
        self.error.errno().0
    }

    /// The error, as the exception the call would have raised (not raised).
    #[getter]
    fn error(&self, py: Python<'_>) -> Py<PyBaseException> {
        error_for(py, &self.error, "").into_value(py)
    }

    fn __repr__(&self) -> String {
        format!("Failure({:?}, error={:?})", self.command(), self.error.to_string())
    }
}

/// What `Client.apply` did: `writes` (requests that took effect), `failures` (each failed
/// request with its error; failures do not raise), `draining` (destinations still draining,
/// as read again), `converged` (whether the kernel, read again, holds the desired table
/// within the scope, draining destinations apart), `remaining` (the plan still to do: empty
/// when converged) and `summary` (`42 writes, 0 failed, 3 draining, converged`).
///
/// A dry run (`apply(..., dry_run=True)`) writes nothing: `dry_run` is true, `writes` 0,
/// `remaining` the plan that would be applied, `converged` whether it is empty, and
/// `summary` `dry run: ` and the plan's summary.
#[pyclass(name = "ApplyReport", module = "ipvs", frozen)]
pub struct PyApplyReport {
    writes: usize,
    failures: Vec<Py<PyFailure>>,
    draining: Vec<Py<PyDraining>>,
    converged: bool,
    remaining: Py<PyPlan>,
    summary: String,
    dry_run: bool,
}

impl PyApplyReport {
    /// The report of an apply.
    pub fn applied(py: Python<'_>, r: ApplyReport) -> PyResult<Self> {
        let summary = r.summary();
        let mut failures = Vec::with_capacity(r.failures.len());
        for f in r.failures {
            failures.push(Py::new(py, PyFailure { request: f.request, error: f.error })?);
        }
        Ok(PyApplyReport {
            writes: r.writes,
            failures,
            draining: Self::draining_of(py, &r.remaining)?,
            converged: r.converged,
            remaining: Py::new(py, PyPlan { inner: r.remaining })?,
            summary,
            dry_run: false,
        })
    }

    /// The report of a dry run of `plan`.
    pub fn of_dry_run(py: Python<'_>, plan: Plan) -> PyResult<Self> {
        Ok(PyApplyReport {
            writes: 0,
            failures: Vec::new(),
            draining: Self::draining_of(py, &plan)?,
            converged: plan.is_empty(),
            summary: format!("dry run: {}", plan.summary()),
            remaining: Py::new(py, PyPlan { inner: plan })?,
            dry_run: true,
        })
    }

    fn draining_of(py: Python<'_>, plan: &Plan) -> PyResult<Vec<Py<PyDraining>>> {
        PyDraining::list(plan.draining()).into_iter().map(|d| Py::new(py, d)).collect()
    }
}

#[pymethods]
impl PyApplyReport {
    /// Requests that took effect.
    #[getter]
    fn writes(&self) -> usize {
        self.writes
    }

    /// Requests that failed, each with its error.
    #[getter]
    fn failures(&self, py: Python<'_>) -> Vec<Py<PyFailure>> {
        self.failures.iter().map(|f| f.clone_ref(py)).collect()
    }

    /// Destinations still draining.
    #[getter]
    fn draining(&self, py: Python<'_>) -> Vec<Py<PyDraining>> {
        self.draining.iter().map(|d| d.clone_ref(py)).collect()
    }

    /// Whether the kernel holds the desired table within the scope (draining apart).
    #[getter]
    fn converged(&self) -> bool {
        self.converged
    }

    /// What is still to do (for a dry run: the plan that would be applied).
    #[getter]
    fn remaining(&self, py: Python<'_>) -> Py<PyPlan> {
        self.remaining.clone_ref(py)
    }

    /// One line: `42 writes, 0 failed, 3 draining, converged`.
    #[getter]
    fn summary(&self) -> &str {
        &self.summary
    }

    /// Whether this is the report of a dry run (nothing written).
    #[getter]
    fn dry_run(&self) -> bool {
        self.dry_run
    }

    fn __repr__(&self) -> String {
        format!("<ipvs.ApplyReport: {}>", self.summary)
    }
}

/// What `Client.apply` of a table did: planned only (a dry run), or applied.
pub enum Applied {
    /// The plan a dry run would apply.
    Planned(Plan),
    /// The report of the apply.
    Applied(ApplyReport),
}

/// Plans `desired` against the kernel and, unless a dry run, applies the plan: one call, so
/// that a kernel client does both without the GIL.
pub fn run_apply<T: Transport>(
    c: &Client<T>,
    desired: &Table,
    scope: &Scope,
    policy: &Policy,
    dry_run: bool,
) -> Result<Applied, Error> {
    let plan = c.plan(desired, scope, policy)?;
    if dry_run {
        return Ok(Applied::Planned(plan));
    }
    c.apply(&plan).map(Applied::Applied)
}
