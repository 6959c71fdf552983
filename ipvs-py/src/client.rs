//! `ipvs.Client`: every client operation, on the kernel or on the in-memory model.

use std::net::SocketAddr;
use std::sync::RwLock;

use ipvs::transport::{MockTransport, NetlinkTransport};
use ipvs::Client;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::convert::{path, py_err, string, type_err};
use crate::model::{
    daemon_state, given, PyDaemon, PyDestination, PyDestinationStatus, PyInfo, PyService, PyServiceStatus, PyTimeouts,
};
use crate::state::{
    policy, restore_error, restore_requests, run_apply, save, scope_of, send_rules, Applied, PyApplyReport, PyPlan,
    PyTable,
};

/// The client inside: the kernel, or the in-memory kernel model.
enum Inner {
    Kernel(Client<NetlinkTransport>),
    Mock(Client<MockTransport>),
}

/// Runs `$body` with `$c` bound to whichever client is inside, giving `PyResult` of what it
/// gives; a closed client raises ValueError. Kernel calls release the GIL (they wait on the
/// socket); the in-memory model answers in well under a microsecond, less than releasing and
/// taking back the GIL costs.
macro_rules! with_client {
    ($self:ident, $py:ident, |$c:ident| $body:expr) => {{
        let guard = $self.inner.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            None => Err(closed()),
            Some(Inner::Kernel($c)) => Ok($py.detach(|| $body)),
            Some(Inner::Mock($c)) => Ok($body),
        }
    }};
}

/// As `with_client!`, for a body giving a library `Result`: its error raised as the `ipvs`
/// package's exception.
macro_rules! call {
    ($self:ident, $py:ident, |$c:ident| $body:expr) => {
        with_client!($self, $py, |$c| $body)?.map_err(|e| py_err($py, e))
    };
}

fn closed() -> PyErr {
    PyValueError::new_err("the client is closed")
}

/// An IPVS client: `Client()` for the kernel in the current network namespace,
/// `Client(netns="/run/netns/NAME")` for another one, `Client.mock()` for the in-memory
/// kernel model. A context manager: leaving the `with` block closes it (its sockets), as
/// `close()` does; a closed client's calls raise ValueError. Kernel calls release the GIL.
#[pyclass(name = "Client", module = "ipvs", frozen)]
pub struct PyClient {
    inner: RwLock<Option<Inner>>,
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (netns=None))]
    fn new(py: Python<'_>, netns: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let netns = netns.filter(|n| !n.is_none()).map(|n| path(n, "netns")).transpose()?;
        let client = py.detach(|| match &netns {
            None => Client::new(),
            Some(path) => Client::in_namespace(path),
        });
        Ok(PyClient { inner: RwLock::new(Some(Inner::Kernel(client.map_err(|e| py_err(py, e))?))) })
    }

    /// A client of the in-memory kernel model (no root, no IPVS needed); `interfaces` are the
    /// network interfaces sync daemons may use (default `["lo"]`).
    #[classmethod]
    #[pyo3(signature = (interfaces=None))]
    fn mock(_cls: &Bound<'_, PyType>, interfaces: Option<Vec<String>>) -> Self {
        let client = match interfaces {
            None => Client::mock(),
            Some(names) => Client::with_transport(MockTransport::builder().interfaces(names).build()),
        };
        PyClient { inner: RwLock::new(Some(Inner::Mock(client))) }
    }

    /// Whether this is the in-memory model.
    #[getter]
    fn is_mock(&self) -> bool {
        matches!(self.inner.read().unwrap_or_else(|p| p.into_inner()).as_ref(), Some(Inner::Mock(_)))
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).is_none()
    }

    /// Closes the client's sockets (waiting for calls in flight). Closing twice is allowed.
    fn close(&self, py: Python<'_>) {
        let inner = py.detach(|| self.inner.write().unwrap_or_else(|p| p.into_inner()).take());
        drop(inner);
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) {
        self.close(py);
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { " (closed)" } else { "" };
        if self.is_mock() {
            "ipvs.Client.mock()".to_owned()
        } else {
            format!("ipvs.Client(){state}")
        }
    }

    fn add_service(&self, py: Python<'_>, service: &Bound<'_, PyService>) -> PyResult<()> {
        let s = &service.get().inner;
        call!(self, py, |c| c.add_service(s))
    }

    fn update_service(&self, py: Python<'_>, service: &Bound<'_, PyService>) -> PyResult<()> {
        let s = &service.get().inner;
        call!(self, py, |c| c.update_service(s))
    }

    fn delete_service(&self, py: Python<'_>, service: &Bound<'_, PyService>) -> PyResult<()> {
        let id = &service.get().inner.id;
        call!(self, py, |c| c.delete_service(id))
    }

    /// The service with the identity of `service`, as the kernel reports it.
    fn service(&self, py: Python<'_>, service: &Bound<'_, PyService>) -> PyResult<PyServiceStatus> {
        let id = &service.get().inner.id;
        call!(self, py, |c| c.service(id)).map(|inner| PyServiceStatus { inner })
    }

    fn services(&self, py: Python<'_>) -> PyResult<Vec<PyServiceStatus>> {
        call!(self, py, |c| c.services()).map(|l| l.into_iter().map(|inner| PyServiceStatus { inner }).collect())
    }

    fn add_destination(
        &self,
        py: Python<'_>,
        service: &Bound<'_, PyService>,
        destination: &Bound<'_, PyDestination>,
    ) -> PyResult<()> {
        let (id, d) = (&service.get().inner.id, &destination.get().inner);
        call!(self, py, |c| c.add_destination(id, d))
    }

    /// Adds several destinations to one service in one call, in order; the first failure
    /// raises, and the destinations before it stay added.
    fn add_destinations(
        &self,
        py: Python<'_>,
        service: &Bound<'_, PyService>,
        destinations: Vec<Bound<'_, PyDestination>>,
    ) -> PyResult<()> {
        let id = &service.get().inner.id;
        for d in &destinations {
            let d = &d.get().inner;
            call!(self, py, |c| c.add_destination(id, d))?;
        }
        Ok(())
    }

    fn update_destination(
        &self,
        py: Python<'_>,
        service: &Bound<'_, PyService>,
        destination: &Bound<'_, PyDestination>,
    ) -> PyResult<()> {
        let (id, d) = (&service.get().inner.id, &destination.get().inner);
        call!(self, py, |c| c.update_destination(id, d))
    }

    fn delete_destination(
        &self,
        py: Python<'_>,
        service: &Bound<'_, PyService>,
        destination: &Bound<'_, PyDestination>,
    ) -> PyResult<()> {
        let id = &service.get().inner.id;
        let d = &destination.get().inner;
        let addr = SocketAddr::new(d.addr, d.port);
        call!(self, py, |c| c.delete_destination(id, addr))
    }

    fn destinations(&self, py: Python<'_>, service: &Bound<'_, PyService>) -> PyResult<Vec<PyDestinationStatus>> {
        let id = &service.get().inner.id;
        call!(self, py, |c| c.destinations(id))
            .map(|l| l.into_iter().map(|inner| PyDestinationStatus { inner }).collect())
    }

    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        call!(self, py, |c| c.flush())
    }

    /// Zeroes the statistics of one service, or of every service when None.
    #[pyo3(signature = (service=None))]
    fn zero(&self, py: Python<'_>, service: Option<&Bound<'_, PyService>>) -> PyResult<()> {
        let id = service.map(|s| s.get().inner.id);
        call!(self, py, |c| c.zero(id.as_ref()))
    }

    fn timeouts(&self, py: Python<'_>) -> PyResult<PyTimeouts> {
        call!(self, py, |c| c.timeouts()).map(|inner| PyTimeouts { inner })
    }

    fn set_timeouts(&self, py: Python<'_>, timeouts: &Bound<'_, PyTimeouts>) -> PyResult<()> {
        let t = &timeouts.get().inner;
        call!(self, py, |c| c.set_timeouts(t))
    }

    fn daemons(&self, py: Python<'_>) -> PyResult<Vec<PyDaemon>> {
        call!(self, py, |c| c.daemons()).map(|l| l.into_iter().map(|inner| PyDaemon { inner }).collect())
    }

    fn start_daemon(&self, py: Python<'_>, daemon: &Bound<'_, PyDaemon>) -> PyResult<()> {
        let d = &daemon.get().inner;
        call!(self, py, |c| c.start_daemon(d))
    }

    fn stop_daemon(&self, py: Python<'_>, state: &Bound<'_, PyAny>) -> PyResult<()> {
        let state = daemon_state(state)?;
        call!(self, py, |c| c.stop_daemon(state))
    }

    fn info(&self, py: Python<'_>) -> PyResult<PyInfo> {
        call!(self, py, |c| c.info()).map(|inner| PyInfo { inner })
    }

    /// The whole table: every service with its statistics, each one's destinations with
    /// theirs, and the kernel's timeouts.
    fn table(&self, py: Python<'_>) -> PyResult<PyTable> {
        call!(self, py, |c| c.table()).map(PyTable::from_table)
    }

    /// The plan that turns the kernel's table into `desired` (see `Plan`; nothing is
    /// written). `scope` (None, a selector string such as `"tcp,192.0.2.0/24,port=80-90"`,
    /// or a list of them) and `prune` say what may be touched, as `ipvs apply --scope
    /// --prune`: by default only the services `desired` names (with `scope`, they must all be
    /// in it); with `prune=True` also removing the services in scope (every service without
    /// `scope`) that `desired` does not name. `delete_at_once=True` deletes leaving
    /// destinations instead of draining them (the default for TCP, SCTP and firewall-mark
    /// services). A ValueError for a bad selector, a desired service outside the scope, or an
    /// invalid desired table.
    #[pyo3(signature = (desired, scope=None, prune=false, delete_at_once=false))]
    fn plan(
        &self,
        py: Python<'_>,
        desired: &Bound<'_, PyTable>,
        scope: Option<&Bound<'_, PyAny>>,
        prune: bool,
        delete_at_once: bool,
    ) -> PyResult<PyPlan> {
        let guard = desired.get().read()?;
        let scope = scope_of(scope, prune, &guard)?;
        let (t, policy) = (&*guard, policy(delete_at_once));
        call!(self, py, |c| c.plan(t, &scope, &policy)).map(|inner| PyPlan { inner })
    }

    /// Makes the kernel's table `desired` within the scope, and reports what it did.
    ///
    /// A `Table` is planned first (as `plan(desired, scope, prune, delete_at_once)` does:
    /// by default only the services it names are touched); a `Plan` is applied as it was
    /// made (then `scope`, `prune` and `delete_at_once` must be left out: a ValueError
    /// otherwise). The requests are pipelined; each failure is in the report's `failures`
    /// (not raised); then what the plan touched is read again: `converged` when nothing is
    /// left to write. Applying the same table again writes nothing.
    ///
    /// With `dry_run=True` nothing is written: the report's `remaining` is the plan that
    /// would be applied, `writes` is 0 and `dry_run` true.
    #[pyo3(signature = (desired, scope=None, prune=false, dry_run=false, delete_at_once=false))]
    fn apply(
        &self,
        py: Python<'_>,
        desired: &Bound<'_, PyAny>,
        scope: Option<&Bound<'_, PyAny>>,
        prune: bool,
        dry_run: bool,
        delete_at_once: bool,
    ) -> PyResult<PyApplyReport> {
        if let Ok(plan) = desired.cast::<PyPlan>() {
            if given(scope).is_some() || prune || delete_at_once {
                return Err(PyValueError::new_err(
                    "scope, prune and delete_at_once are for a Table: a Plan is applied as it was made",
                ));
            }
            let plan = &plan.get().inner;
            if dry_run {
                return PyApplyReport::of_dry_run(py, plan.clone());
            }
            let report = call!(self, py, |c| c.apply(plan))?;
            return PyApplyReport::applied(py, report);
        }
        let table = desired.cast::<PyTable>().map_err(|_| type_err("desired", "Table or Plan", desired))?;
        let guard = table.get().read()?;
        let scope = scope_of(scope, prune, &guard)?;
        let (t, policy) = (&*guard, policy(delete_at_once));
        match call!(self, py, |c| run_apply(c, t, &scope, &policy, dry_run))? {
            Applied::Planned(plan) => PyApplyReport::of_dry_run(py, plan),
            Applied::Applied(report) => PyApplyReport::applied(py, report),
        }
    }

    /// The kernel's services and destinations as ipvsadm rules, exactly as `ipvsadm -Sn`
    /// prints them (in its order; no timeouts or thresholds, which ipvsadm does not save;
    /// for a lossless text see `Table.to_rules()`).
    fn save(&self, py: Python<'_>) -> PyResult<String> {
        call!(self, py, |c| save(c))
    }

    /// Applies ipvsadm rule lines as `ipvsadm -R` does (any command: `-A`, `-a`, `-E`, `-e`,
    /// `-D`, `-d`, `-C`, `-Z`, `--set`, daemons; blank lines and `#` comments skipped), and
    /// returns how many took effect. Every line is read and checked first: a bad one is a
    /// ValueError naming it, and nothing is sent. Then the lines are sent in order, pipelined;
    /// if any failed, the first failure is raised (an `IpvsError`) naming its line and the
    /// other failed lines; the lines that did not fail stay applied.
    fn restore(&self, py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<usize> {
        let text = string(text, "text")?;
        let (lines, requests) = restore_requests(&text)?;
        let (writes, failed) = with_client!(self, py, |c| send_rules(c, &lines, &requests))?;
        match restore_error(py, &failed) {
            Some(e) => Err(e),
            None => Ok(writes),
        }
    }
}
