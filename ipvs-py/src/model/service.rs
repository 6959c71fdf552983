//! `Service` (configuration) and `ServiceStatus` (what the kernel reports).

use ipvs::{Family, Netmask, PersistenceEngine, Protocol, Scheduler, Service, ServiceFlags, ServiceId, ServiceStatus};
use pyo3::basic::CompareOp;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use pyo3::types::{PyDict, PyType};

use super::stats::{stats_arg, PyStats};
use super::{dict_of, from_dict_of, given, replace_of, repr_of, richcmp};
use crate::convert::{address, choice, family, int, invalid, opt_int, py_address, string, value_err};

const SERVICE_FIELDS: &[&str] = &[
    "protocol",
    "address",
    "port",
    "fwmark",
    "family",
    "scheduler",
    "persistence",
    "netmask",
    "persistence_engine",
    "flags",
];

fn protocol(obj: &Bound<'_, PyAny>) -> PyResult<Protocol> {
    let names: Vec<String> = Protocol::known().map(|p| p.name()).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let name = choice(obj, "protocol", &refs)?;
    name.parse::<Protocol>().map_err(invalid)
}

/// A virtual service, as configured: `protocol` ("tcp" | "udp" | "sctp") + `address` +
/// `port`, or `fwmark` + `family` ("inet" | "inet6"). The scheduler defaults to the library's
/// default ("wlc").
///
/// `persistence` is the persistence timeout in seconds (None: not persistent); `netmask`
/// groups clients for persistence (an IPv4 netmask string, or an IPv6 prefix length).
/// `flags` holds the other service flags as the kernel numbers them (4 one-packet, 8
/// sh/mh-fallback, 16 sh/mh-port). What the kernel reports about a service is a
/// `ServiceStatus`.
#[pyclass(name = "Service", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyService {
    pub inner: Service,
}

#[pymethods]
impl PyService {
    #[new]
    #[pyo3(signature = (*, protocol=None, address=None, port=None, fwmark=None, family=None, scheduler=None, persistence=None, netmask=None, persistence_engine=None, flags=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        protocol: Option<&Bound<'_, PyAny>>,
        address: Option<&Bound<'_, PyAny>>,
        port: Option<&Bound<'_, PyAny>>,
        fwmark: Option<&Bound<'_, PyAny>>,
        family: Option<&Bound<'_, PyAny>>,
        scheduler: Option<&Bound<'_, PyAny>>,
        persistence: Option<&Bound<'_, PyAny>>,
        netmask: Option<&Bound<'_, PyAny>>,
        persistence_engine: Option<&Bound<'_, PyAny>>,
        flags: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let port: u16 = opt_int(port, "port", "0..=65535")?.unwrap_or(0);
        let id = if let Some(mark) = opt_int::<u32>(fwmark, "fwmark", "1..=4294967295")? {
            if given(protocol).is_some() || given(address).is_some() {
                return Err(PyValueError::new_err("a firewall-mark service has no protocol or address"));
            }
            let fam = match given(family) {
                Some(f) => self::family(f, "family")?,
                None => Family::Inet,
            };
            ServiceId::fwmark(mark, fam)
        } else {
            let (Some(p), Some(a)) = (given(protocol), given(address)) else {
                return Err(PyValueError::new_err("a service needs protocol and address, or fwmark"));
            };
            let protocol = self::protocol(p)?;
            let addr = self::address(a, "address")?;
            if let Some(f) = given(family) {
                if self::family(f, "family")? != Family::of(&addr) {
                    return Err(value_err("family", f.repr()?, &format!("does not match address {addr}")));
                }
            }
            ServiceId::Inet { protocol, addr, port }
        };
        let scheduler = match given(scheduler) {
            Some(s) => Scheduler::from_name(&string(s, "scheduler")?),
            None => Scheduler::default(),
        };
        let mut svc = Service::new(id, scheduler);
        let flags: u32 = opt_int(flags, "flags", "0..=4294967295")?.unwrap_or(0);
        let flags = ServiceFlags::from_bits_retain(flags);
        if flags.intersects(ServiceFlags::PERSISTENT | ServiceFlags::HASHED) {
            return Err(value_err("flags", flags.bits(), "set persistence with persistence=; HASHED is the kernel's"));
        }
        svc = svc.with_flags(flags);
        let range = format!("1..={}", Service::MAX_PERSISTENCE);
        if let Some(t) = opt_int::<u32>(persistence, "persistence", &range)? {
            svc = svc.with_persistence(t);
        }
        if let Some(m) = given(netmask) {
            let mask = if m.is_instance_of::<PyString>() {
                let text = string(m, "netmask")?;
                text.parse::<Netmask>()
                    .map_err(|_| value_err("netmask", format!("'{text}'"), "not a netmask or prefix length"))?
            } else {
                Netmask::Prefix(int(m, "netmask", "1..=128")?)
            };
            svc = svc.with_netmask(mask);
        }
        if let Some(pe) = given(persistence_engine) {
            svc = svc.with_persistence_engine(PersistenceEngine::from_name(&string(pe, "persistence_engine")?));
        }
        svc.validate().map_err(invalid)?;
        Ok(PyService { inner: svc })
    }

    #[getter]
    fn protocol(&self) -> Option<String> {
        match self.inner.id {
            ServiceId::Inet { protocol, .. } => Some(protocol.name()),
            ServiceId::Fwmark { .. } => None,
        }
    }
    #[getter]
    fn address<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.inner.id {
            ServiceId::Inet { addr, .. } => py_address(py, addr).map(Some),
            ServiceId::Fwmark { .. } => Ok(None),
        }
    }
    #[getter]
    fn port(&self) -> u16 {
        match self.inner.id {
            ServiceId::Inet { port, .. } => port,
            ServiceId::Fwmark { .. } => 0,
        }
    }
    #[getter]
    fn fwmark(&self) -> Option<u32> {
        self.inner.id.mark()
    }
    #[getter]
    fn family(&self) -> &'static str {
        self.inner.id.family().name()
    }
    #[getter]
    fn scheduler(&self) -> String {
        self.inner.scheduler.name().to_owned()
    }
    #[getter]
    fn persistence(&self) -> Option<u32> {
        self.inner.persistence_timeout()
    }
    #[getter]
    fn netmask<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if !self.inner.is_persistent() {
            return Ok(None);
        }
        Ok(Some(match self.inner.netmask {
            Netmask::V4(m) => m.to_string().into_pyobject(py)?.into_any(),
            Netmask::Prefix(p) => p.into_pyobject(py)?.into_any(),
        }))
    }
    #[getter]
    fn persistence_engine(&self) -> Option<String> {
        self.inner.persistence_engine.as_ref().map(|p| p.name().to_owned())
    }
    #[getter]
    fn flags(&self) -> u32 {
        (self.inner.flags - ServiceFlags::PERSISTENT).bits()
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Service", SERVICE_FIELDS)
    }
    fn __str__(&self) -> String {
        self.inner.id.to_string()
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyService>().ok().map(|o| o.get().inner.clone());
        richcmp(&self.inner, other, o, op)
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.hash(&mut h);
        h.finish()
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), SERVICE_FIELDS)
    }
    #[classmethod]
    fn from_dict<'py>(cls: &Bound<'py, PyType>, data: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        from_dict_of(cls, data, SERVICE_FIELDS, &[])
    }
    #[pyo3(signature = (**changes))]
    fn replace<'py>(slf: &Bound<'py, Self>, changes: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyAny>> {
        replace_of(slf.as_any(), changes)
    }
}

// ---------------------------------------------------------------------------------------

const SERVICE_STATUS_FIELDS: &[&str] = &["service", "stats"];

/// A service as the kernel reports it: its configuration (`service`) and its `stats`.
#[pyclass(name = "ServiceStatus", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyServiceStatus {
    pub inner: ServiceStatus,
}

#[pymethods]
impl PyServiceStatus {
    #[new]
    #[pyo3(signature = (service, stats=None))]
    fn new(service: &Bound<'_, PyService>, stats: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(PyServiceStatus { inner: ServiceStatus { service: service.get().inner.clone(), stats: stats_arg(stats)? } })
    }
    #[getter]
    fn service(&self) -> PyService {
        PyService { inner: self.inner.service.clone() }
    }
    #[getter]
    fn stats(&self) -> PyStats {
        PyStats { inner: self.inner.stats }
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "ServiceStatus", SERVICE_STATUS_FIELDS)
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyServiceStatus>().ok().map(|o| o.get().inner.clone());
        richcmp(&self.inner, other, o, op)
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), SERVICE_STATUS_FIELDS)
    }
    #[classmethod]
    fn from_dict<'py>(cls: &Bound<'py, PyType>, data: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let py = cls.py();
        let nested = [("service", py.get_type::<PyService>()), ("stats", py.get_type::<PyStats>())];
        from_dict_of(cls, data, SERVICE_STATUS_FIELDS, &nested)
    }
}
