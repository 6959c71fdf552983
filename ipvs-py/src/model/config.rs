//! `Timeouts`, `Daemon` and `Info`.

use ipvs::{Daemon, DaemonState, Info, Timeouts, Version};
use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use super::{dict_of, from_dict_of, given, repr_of, richcmp};
use crate::convert::{address, choice, int, invalid, opt_int, py_address, string};

const TIMEOUT_FIELDS: &[&str] = &["tcp", "tcp_fin", "udp"];

/// Connection timeouts in seconds; 0 in `set_timeouts` keeps the current value.
#[pyclass(name = "Timeouts", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyTimeouts {
    pub inner: Timeouts,
}

#[pymethods]
impl PyTimeouts {
    #[new]
    #[pyo3(signature = (tcp=None, tcp_fin=None, udp=None))]
    fn new(
        tcp: Option<&Bound<'_, PyAny>>,
        tcp_fin: Option<&Bound<'_, PyAny>>,
        udp: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let range = format!("0..={}", Timeouts::MAX);
        let t = Timeouts {
            tcp: opt_int(tcp, "tcp", &range)?.unwrap_or(0),
            tcp_fin: opt_int(tcp_fin, "tcp_fin", &range)?.unwrap_or(0),
            udp: opt_int(udp, "udp", &range)?.unwrap_or(0),
        };
        t.validate().map_err(invalid)?;
        Ok(PyTimeouts { inner: t })
    }
    #[getter]
    fn tcp(&self) -> u32 {
        self.inner.tcp
    }
    #[getter]
    fn tcp_fin(&self) -> u32 {
        self.inner.tcp_fin
    }
    #[getter]
    fn udp(&self) -> u32 {
        self.inner.udp
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Timeouts", TIMEOUT_FIELDS)
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyTimeouts>().ok().map(|o| o.get().inner);
        richcmp(&self.inner, other, o, op)
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), TIMEOUT_FIELDS)
    }
    #[classmethod]
    fn from_dict<'py>(cls: &Bound<'py, PyType>, data: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        from_dict_of(cls, data, TIMEOUT_FIELDS, &[])
    }
}

// ---------------------------------------------------------------------------------------

const DAEMON_FIELDS: &[&str] = &["state", "interface", "sync_id", "max_len", "group", "port", "ttl"];

/// A connection-sync daemon: `state` "master" | "backup", on `interface`, with a sync id and
/// optional maximum packet length, multicast group, port and TTL (None: the kernel's default).
#[pyclass(name = "Daemon", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyDaemon {
    pub inner: Daemon,
}

/// Reads "master" / "backup".
pub fn daemon_state(obj: &Bound<'_, PyAny>) -> PyResult<DaemonState> {
    let names = [DaemonState::Master.to_string(), DaemonState::Backup.to_string()];
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    choice(obj, "state", &refs)?.parse().map_err(invalid)
}

#[pymethods]
impl PyDaemon {
    #[new]
    #[pyo3(signature = (state, interface, sync_id=None, max_len=None, group=None, port=None, ttl=None))]
    fn new(
        state: &Bound<'_, PyAny>,
        interface: &Bound<'_, PyAny>,
        sync_id: Option<&Bound<'_, PyAny>>,
        max_len: Option<&Bound<'_, PyAny>>,
        group: Option<&Bound<'_, PyAny>>,
        port: Option<&Bound<'_, PyAny>>,
        ttl: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut d = Daemon::new(
            daemon_state(state)?,
            string(interface, "interface")?,
            opt_int(sync_id, "sync_id", "0..=255")?.unwrap_or(0),
        );
        d.max_len = opt_int(max_len, "max_len", "1..=65535")?;
        d.group = given(group).map(|g| address(g, "group")).transpose()?;
        d.port = opt_int(port, "port", "1..=65535")?;
        d.ttl = opt_int(ttl, "ttl", "1..=255")?;
        d.validate().map_err(invalid)?;
        Ok(PyDaemon { inner: d })
    }
    #[getter]
    fn state(&self) -> String {
        self.inner.state.to_string()
    }
    #[getter]
    fn interface(&self) -> String {
        self.inner.interface.clone()
    }
    #[getter]
    fn sync_id(&self) -> u8 {
        self.inner.sync_id
    }
    #[getter]
    fn max_len(&self) -> Option<u16> {
        self.inner.max_len
    }
    #[getter]
    fn group<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.group.map(|g| py_address(py, g)).transpose()
    }
    #[getter]
    fn port(&self) -> Option<u16> {
        self.inner.port
    }
    #[getter]
    fn ttl(&self) -> Option<u8> {
        self.inner.ttl
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Daemon", DAEMON_FIELDS)
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyDaemon>().ok().map(|o| o.get().inner.clone());
        richcmp(&self.inner, other, o, op)
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), DAEMON_FIELDS)
    }
    #[classmethod]
    fn from_dict<'py>(cls: &Bound<'py, PyType>, data: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        from_dict_of(cls, data, DAEMON_FIELDS, &[])
    }
}

// ---------------------------------------------------------------------------------------

const INFO_FIELDS: &[&str] = &["version", "version_code", "conn_table_size"];

/// The kernel's IPVS version ("1.2.1", and as a number) and connection table size.
#[pyclass(name = "Info", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyInfo {
    pub inner: Info,
}

#[pymethods]
impl PyInfo {
    #[new]
    #[pyo3(signature = (version_code, conn_table_size))]
    fn new(version_code: &Bound<'_, PyAny>, conn_table_size: &Bound<'_, PyAny>) -> PyResult<Self> {
        let range = "0..=4294967295";
        Ok(PyInfo {
            inner: Info {
                version: Version(int(version_code, "version_code", range)?),
                conn_table_size: int(conn_table_size, "conn_table_size", range)?,
            },
        })
    }
    #[getter]
    fn version(&self) -> String {
        self.inner.version.to_string()
    }
    #[getter]
    fn version_code(&self) -> u32 {
        self.inner.version.0
    }
    #[getter]
    fn conn_table_size(&self) -> u32 {
        self.inner.conn_table_size
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Info", INFO_FIELDS)
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyInfo>().ok().map(|o| o.get().inner);
        richcmp(&self.inner, other, o, op)
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), INFO_FIELDS)
    }
}
