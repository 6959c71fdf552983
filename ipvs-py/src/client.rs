//! `ipvs.Client`: every client operation, on the kernel or on the in-memory model.

use std::net::SocketAddr;
use std::sync::RwLock;

use ipvs::transport::{MockTransport, NetlinkTransport};
use ipvs::Client;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::convert::{path, py_err};
use crate::model::{
    daemon_state, PyDaemon, PyDestination, PyDestinationStatus, PyInfo, PyService, PyServiceStatus, PyTimeouts,
};

/// The client inside: the kernel, or the in-memory kernel model.
enum Inner {
    Kernel(Client<NetlinkTransport>),
    Mock(Client<MockTransport>),
}

/// Runs `$body` with `$c` bound to whichever client is inside; a closed client raises
/// ValueError. Kernel calls release the GIL (they wait on the socket); the in-memory model
/// answers in well under a microsecond, less than releasing and taking back the GIL costs.
macro_rules! call {
    ($self:ident, $py:ident, |$c:ident| $body:expr) => {{
        let guard = $self.inner.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            None => return Err(closed()),
            Some(Inner::Kernel($c)) => $py.detach(|| $body),
            Some(Inner::Mock($c)) => $body,
        }
        .map_err(|e| py_err($py, e))
    }};
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
}
