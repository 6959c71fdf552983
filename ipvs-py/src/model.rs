//! The model classes: immutable Python objects holding ipvs-core's model values, checked
//! when built (TypeError / ValueError naming the field), with keyword constructors,
//! attributes, `repr`, `==`, `to_dict()`, `from_dict()` and `replace(**changes)`.

use std::net::SocketAddr;

use ipvs::{
    Daemon, DaemonState, Destination, Family, Forward, Info, Netmask, PersistenceEngine, Protocol, Scheduler, Service,
    ServiceFlags, ServiceId, Stats, Timeouts, Tunnel, TunnelFlags, Version,
};
use pyo3::basic::CompareOp;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString, PyType};

use crate::convert::{address, choice, family, family_name, int, invalid, opt_int, py_address, string, type_err};

/// `repr` from the listed attributes: `Name(a=..., b=...)`.
fn repr_of(obj: &Bound<'_, PyAny>, name: &str, fields: &[&str]) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for f in fields {
        parts.push(format!("{f}={}", obj.getattr(*f)?.repr()?));
    }
    Ok(format!("{name}({})", parts.join(", ")))
}

/// A dict of the listed attributes; addresses as strings, statistics as dicts.
fn dict_of<'py>(obj: &Bound<'py, PyAny>, fields: &[&str]) -> PyResult<Bound<'py, PyDict>> {
    let py = obj.py();
    let d = PyDict::new(py);
    for f in fields {
        let mut v = obj.getattr(*f)?;
        if let Ok(stats) = v.cast::<PyStats>() {
            v = stats.call_method0("to_dict")?;
        } else if v.hasattr("packed")? && v.hasattr("version")? {
            v = v.str()?.into_any();
        }
        d.set_item(*f, v)?;
    }
    Ok(d)
}

/// `cls(**data)`, refusing keys that are not attributes with a ValueError.
fn from_dict_of<'py>(
    cls: &Bound<'py, PyType>,
    data: &Bound<'py, PyDict>,
    fields: &[&str],
) -> PyResult<Bound<'py, PyAny>> {
    let mut unknown = Vec::new();
    for k in data.keys() {
        let k = string(&k, "key")?;
        if !fields.contains(&k.as_str()) {
            unknown.push(k);
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        return Err(PyValueError::new_err(format!("{}: unknown keys {unknown:?}", cls.name()?)));
    }
    let kwargs = data.copy()?;
    if let Some(stats) = kwargs.get_item("stats")? {
        if let Ok(d) = stats.cast::<PyDict>() {
            let s = PyStats::from_dict(&cls.py().get_type::<PyStats>(), d)?;
            kwargs.set_item("stats", s)?;
        }
    }
    cls.call((), Some(&kwargs))
}

/// `self.to_dict()` updated by `changes`, built again.
fn replace_of<'py>(obj: &Bound<'py, PyAny>, changes: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyAny>> {
    let d = obj.call_method0("to_dict")?.cast_into::<PyDict>()?;
    if let Some(c) = changes {
        d.update(c.as_mapping())?;
    }
    obj.get_type().call_method1("from_dict", (d,))
}

/// `==` / `!=` between two values of one class; anything else is NotImplemented.
fn richcmp<T: PartialEq>(a: &T, other: &Bound<'_, PyAny>, b: Option<T>, op: CompareOp) -> Py<PyAny> {
    let py = other.py();
    match (op, b) {
        (CompareOp::Eq, Some(b)) => PyBool::new(py, *a == b).to_owned().into_any().unbind(),
        (CompareOp::Ne, Some(b)) => PyBool::new(py, *a != b).to_owned().into_any().unbind(),
        _ => py.NotImplemented(),
    }
}

// ---------------------------------------------------------------------------------------

const STATS_FIELDS: &[&str] =
    &["conns", "in_packets", "out_packets", "in_bytes", "out_bytes", "cps", "in_pps", "out_pps", "in_bps", "out_bps"];

/// Counters (since the service or destination was added, or last zeroed) and rates (per
/// second, estimated by the kernel every 2 seconds).
#[pyclass(name = "Stats", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyStats {
    pub inner: Stats,
}

#[pymethods]
impl PyStats {
    #[new]
    #[pyo3(signature = (*, conns=0, in_packets=0, out_packets=0, in_bytes=0, out_bytes=0, cps=0, in_pps=0, out_pps=0, in_bps=0, out_bps=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        conns: u64,
        in_packets: u64,
        out_packets: u64,
        in_bytes: u64,
        out_bytes: u64,
        cps: u64,
        in_pps: u64,
        out_pps: u64,
        in_bps: u64,
        out_bps: u64,
    ) -> Self {
        PyStats {
            inner: Stats { conns, in_packets, out_packets, in_bytes, out_bytes, cps, in_pps, out_pps, in_bps, out_bps },
        }
    }
    #[getter]
    fn conns(&self) -> u64 {
        self.inner.conns
    }
    #[getter]
    fn in_packets(&self) -> u64 {
        self.inner.in_packets
    }
    #[getter]
    fn out_packets(&self) -> u64 {
        self.inner.out_packets
    }
    #[getter]
    fn in_bytes(&self) -> u64 {
        self.inner.in_bytes
    }
    #[getter]
    fn out_bytes(&self) -> u64 {
        self.inner.out_bytes
    }
    #[getter]
    fn cps(&self) -> u64 {
        self.inner.cps
    }
    #[getter]
    fn in_pps(&self) -> u64 {
        self.inner.in_pps
    }
    #[getter]
    fn out_pps(&self) -> u64 {
        self.inner.out_pps
    }
    #[getter]
    fn in_bps(&self) -> u64 {
        self.inner.in_bps
    }
    #[getter]
    fn out_bps(&self) -> u64 {
        self.inner.out_bps
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Stats", STATS_FIELDS)
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyStats>().ok().map(|o| o.get().inner);
        richcmp(&self.inner, other, o, op)
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), STATS_FIELDS)
    }
    #[classmethod]
    fn from_dict<'py>(cls: &Bound<'py, PyType>, data: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        from_dict_of(cls, data, STATS_FIELDS)
    }
}

fn stats_arg(stats: Option<&Bound<'_, PyAny>>) -> PyResult<Stats> {
    match stats {
        None => Ok(Stats::default()),
        Some(s) if s.is_none() => Ok(Stats::default()),
        Some(s) => Ok(s.cast::<PyStats>().map_err(|_| type_err("stats", "ipvs.Stats", s))?.get().inner),
    }
}

// ---------------------------------------------------------------------------------------

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
    "stats",
];

/// A virtual service: `protocol` ("tcp" | "udp" | "sctp") + `address` + `port`, or `fwmark` +
/// `family` ("inet" | "inet6").
///
/// `persistence` is the persistence timeout in seconds (None: not persistent); `netmask`
/// groups clients for persistence (an IPv4 netmask string, or an IPv6 prefix length).
/// `flags` holds the other service flags as the kernel numbers them (4 one-packet, 8
/// sh/mh-fallback, 16 sh/mh-port). Equality ignores `stats`.
#[pyclass(name = "Service", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyService {
    pub inner: Service,
}

impl PyService {
    /// What equality compares: not the statistics, not the kernel's HASHED flag, not the
    /// netmask of a non-persistent service.
    fn comparable(&self) -> Service {
        let mut s = self.inner.clone();
        s.stats = Stats::default();
        s.flags -= ServiceFlags::HASHED;
        if !s.is_persistent() {
            s.netmask = Netmask::full(s.id.family());
        }
        s
    }
}

#[pymethods]
impl PyService {
    #[new]
    #[pyo3(signature = (*, protocol=None, address=None, port=None, fwmark=None, family=None, scheduler=None, persistence=None, netmask=None, persistence_engine=None, flags=None, stats=None))]
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
        stats: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let given = |o: Option<&Bound<'_, PyAny>>| o.is_some_and(|v| !v.is_none());
        let port: u16 = opt_int(port, "port", "0..=65535")?.unwrap_or(0);
        let id = if let Some(mark) = opt_int::<u32>(fwmark, "fwmark", "1..=4294967295")? {
            if given(protocol) || given(address) {
                return Err(PyValueError::new_err("a firewall-mark service has no protocol or address"));
            }
            let fam = match family {
                Some(f) if !f.is_none() => self::family(f, "family")?,
                _ => Family::Inet,
            };
            ServiceId::fwmark(mark, fam)
        } else {
            let (Some(p), Some(a)) = (protocol.filter(|v| !v.is_none()), address.filter(|v| !v.is_none())) else {
                return Err(PyValueError::new_err("a service needs protocol and address, or fwmark"));
            };
            let protocol = match choice(p, "protocol", &["tcp", "udp", "sctp"])? {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                _ => Protocol::Sctp,
            };
            let addr = self::address(a, "address")?;
            if let Some(f) = family.filter(|f| !f.is_none()) {
                if self::family(f, "family")? != Family::of(&addr) {
                    return Err(PyValueError::new_err(format!(
                        "family: '{}' does not match address {addr}",
                        string(f, "family")?
                    )));
                }
            }
            ServiceId::Inet { protocol, addr, port }
        };
        let scheduler = match scheduler.filter(|s| !s.is_none()) {
            Some(s) => Scheduler::from_name(&string(s, "scheduler")?),
            None => Scheduler::Wlc,
        };
        let mut svc = Service::new(id, scheduler);
        let flags: u32 = opt_int(flags, "flags", "0..=4294967295")?.unwrap_or(0);
        svc = svc.with_flags(ServiceFlags::from_bits_retain(flags) - ServiceFlags::PERSISTENT - ServiceFlags::HASHED);
        if let Some(t) = opt_int::<u32>(persistence, "persistence", "1..=4294967295")? {
            svc = svc.with_persistence(t);
        }
        if let Some(m) = netmask.filter(|m| !m.is_none()) {
            let mask = if m.is_instance_of::<PyString>() {
                let text = string(m, "netmask")?;
                text.parse::<Netmask>().map_err(|_| {
                    crate::convert::value_err("netmask", format!("'{text}'"), "not a netmask or prefix length")
                })?
            } else {
                Netmask::Prefix(int(m, "netmask", "1..=128")?)
            };
            svc = svc.with_netmask(mask);
        }
        if let Some(pe) = persistence_engine.filter(|p| !p.is_none()) {
            svc = svc.with_persistence_engine(PersistenceEngine::from_name(&string(pe, "persistence_engine")?));
        }
        svc.validate().map_err(invalid)?;
        svc.stats = stats_arg(stats)?;
        Ok(PyService { inner: svc })
    }

    #[getter]
    fn protocol(&self) -> Option<String> {
        match self.inner.id {
            ServiceId::Inet { protocol, .. } => Some(protocol.to_string().to_lowercase()),
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
        family_name(self.inner.id.family())
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
        (self.inner.flags - ServiceFlags::PERSISTENT - ServiceFlags::HASHED).bits()
    }
    #[getter]
    fn stats(&self) -> PyStats {
        PyStats { inner: self.inner.stats }
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Service", &SERVICE_FIELDS[..SERVICE_FIELDS.len() - 1])
    }
    fn __str__(&self) -> String {
        self.inner.id.to_string()
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyService>().ok().map(|o| o.get().comparable());
        richcmp(&self.comparable(), other, o, op)
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), SERVICE_FIELDS)
    }
    #[classmethod]
    fn from_dict<'py>(cls: &Bound<'py, PyType>, data: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        from_dict_of(cls, data, SERVICE_FIELDS)
    }
    #[pyo3(signature = (**changes))]
    fn replace<'py>(slf: &Bound<'py, Self>, changes: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyAny>> {
        replace_of(slf.as_any(), changes)
    }
}

// ---------------------------------------------------------------------------------------

const DEST_FIELDS: &[&str] = &[
    "address",
    "port",
    "forward",
    "weight",
    "upper_threshold",
    "lower_threshold",
    "tunnel_type",
    "tunnel_port",
    "tunnel_checksum",
    "active_conns",
    "inactive_conns",
    "persistent_conns",
    "stats",
];

/// A real server of a service. `forward`: "nat" | "dr" | "tunnel" | "local" | "bypass"
/// (default "dr", as ipvsadm's `-g`); for tunnels `tunnel_type` "ipip" | "gue" | "gre",
/// `tunnel_port` (gue) and `tunnel_checksum` "nocsum" | "csum" | "remcsum". Connection
/// counts and `stats` are read-only, and equality ignores them.
#[pyclass(name = "Destination", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyDestination {
    pub inner: Destination,
}

impl PyDestination {
    fn comparable(&self) -> Destination {
        let mut d = self.inner.clone();
        d.stats = Stats::default();
        (d.active_conns, d.inactive_conns, d.persistent_conns) = (0, 0, 0);
        d
    }
}

#[pymethods]
impl PyDestination {
    #[new]
    #[pyo3(signature = (address, *, port=None, forward=None, weight=None, upper_threshold=None, lower_threshold=None, tunnel_type=None, tunnel_port=None, tunnel_checksum=None, active_conns=0, inactive_conns=0, persistent_conns=0, stats=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        address: &Bound<'_, PyAny>,
        port: Option<&Bound<'_, PyAny>>,
        forward: Option<&Bound<'_, PyAny>>,
        weight: Option<&Bound<'_, PyAny>>,
        upper_threshold: Option<&Bound<'_, PyAny>>,
        lower_threshold: Option<&Bound<'_, PyAny>>,
        tunnel_type: Option<&Bound<'_, PyAny>>,
        tunnel_port: Option<&Bound<'_, PyAny>>,
        tunnel_checksum: Option<&Bound<'_, PyAny>>,
        active_conns: u32,
        inactive_conns: u32,
        persistent_conns: u32,
        stats: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let addr = self::address(address, "address")?;
        let port: u16 = opt_int(port, "port", "0..=65535")?.unwrap_or(0);
        let forward_name = match forward.filter(|f| !f.is_none()) {
            Some(f) => choice(f, "forward", &["nat", "dr", "tunnel", "local", "bypass"])?,
            None => "dr",
        };
        let flags = match tunnel_checksum.filter(|c| !c.is_none()) {
            None => TunnelFlags::empty(),
            Some(c) => match choice(c, "tunnel_checksum", &["nocsum", "csum", "remcsum"])? {
                "nocsum" => TunnelFlags::empty(),
                "csum" => TunnelFlags::CSUM,
                _ => TunnelFlags::REMCSUM,
            },
        };
        let tport: u16 = opt_int(tunnel_port, "tunnel_port", "0..=65535")?.unwrap_or(0);
        let ttype = tunnel_type.filter(|t| !t.is_none());
        let forward = match forward_name {
            "nat" => Forward::Masquerade,
            "dr" => Forward::DirectRoute,
            "local" => Forward::Local,
            "bypass" => Forward::Bypass,
            _ => {
                Forward::Tunnel(match ttype.map(|t| choice(t, "tunnel_type", &["ipip", "gue", "gre"])).transpose()? {
                    None | Some("ipip") => Tunnel::Ipip,
                    Some("gue") => Tunnel::Gue { port: tport, flags },
                    _ => Tunnel::Gre { flags },
                })
            }
        };
        if ttype.is_some() && forward_name != "tunnel" {
            return Err(PyValueError::new_err(format!(
                "tunnel_type: {}: needs forward='tunnel'",
                ttype.map(|t| t.to_string()).unwrap_or_default()
            )));
        }
        let mut d = Destination::new(SocketAddr::new(addr, port), forward);
        d.weight = opt_int(weight, "weight", "0..=2147483647")?.unwrap_or(1);
        d.upper_threshold = opt_int(upper_threshold, "upper_threshold", "0..=4294967295")?.unwrap_or(0);
        d.lower_threshold = opt_int(lower_threshold, "lower_threshold", "0..=4294967295")?.unwrap_or(0);
        d.validate().map_err(invalid)?;
        (d.active_conns, d.inactive_conns, d.persistent_conns) = (active_conns, inactive_conns, persistent_conns);
        d.stats = stats_arg(stats)?;
        Ok(PyDestination { inner: d })
    }

    #[getter]
    fn address<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_address(py, self.inner.addr)
    }
    #[getter]
    fn port(&self) -> u16 {
        self.inner.port
    }
    #[getter]
    fn forward(&self) -> &'static str {
        match self.inner.forward {
            Forward::Masquerade => "nat",
            Forward::DirectRoute => "dr",
            Forward::Local => "local",
            Forward::Bypass => "bypass",
            Forward::Tunnel(_) => "tunnel",
            Forward::Other(_) => "other",
        }
    }
    #[getter]
    fn weight(&self) -> u32 {
        self.inner.weight
    }
    #[getter]
    fn upper_threshold(&self) -> u32 {
        self.inner.upper_threshold
    }
    #[getter]
    fn lower_threshold(&self) -> u32 {
        self.inner.lower_threshold
    }
    #[getter]
    fn tunnel_type(&self) -> Option<&'static str> {
        match self.inner.forward {
            Forward::Tunnel(Tunnel::Ipip) => Some("ipip"),
            Forward::Tunnel(Tunnel::Gue { .. }) => Some("gue"),
            Forward::Tunnel(Tunnel::Gre { .. }) => Some("gre"),
            Forward::Tunnel(Tunnel::Other { .. }) => Some("other"),
            _ => None,
        }
    }
    #[getter]
    fn tunnel_port(&self) -> u16 {
        match self.inner.forward {
            Forward::Tunnel(Tunnel::Gue { port, .. } | Tunnel::Other { port, .. }) => port,
            _ => 0,
        }
    }
    #[getter]
    fn tunnel_checksum(&self) -> Option<&'static str> {
        let flags = match self.inner.forward {
            Forward::Tunnel(Tunnel::Gue { flags, .. } | Tunnel::Gre { flags } | Tunnel::Other { flags, .. }) => flags,
            _ => return None,
        };
        Some(if flags.contains(TunnelFlags::REMCSUM) {
            "remcsum"
        } else if flags.contains(TunnelFlags::CSUM) {
            "csum"
        } else {
            "nocsum"
        })
    }
    #[getter]
    fn active_conns(&self) -> u32 {
        self.inner.active_conns
    }
    #[getter]
    fn inactive_conns(&self) -> u32 {
        self.inner.inactive_conns
    }
    #[getter]
    fn persistent_conns(&self) -> u32 {
        self.inner.persistent_conns
    }
    #[getter]
    fn stats(&self) -> PyStats {
        PyStats { inner: self.inner.stats }
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Destination", &DEST_FIELDS[..DEST_FIELDS.len() - 1])
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyDestination>().ok().map(|o| o.get().comparable());
        richcmp(&self.comparable(), other, o, op)
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), DEST_FIELDS)
    }
    #[classmethod]
    fn from_dict<'py>(cls: &Bound<'py, PyType>, data: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        from_dict_of(cls, data, DEST_FIELDS)
    }
    #[pyo3(signature = (**changes))]
    fn replace<'py>(slf: &Bound<'py, Self>, changes: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyAny>> {
        replace_of(slf.as_any(), changes)
    }
}

// ---------------------------------------------------------------------------------------

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
        let range = "0..=2147483";
        let t = Timeouts {
            tcp: opt_int(tcp, "tcp", range)?.unwrap_or(0),
            tcp_fin: opt_int(tcp_fin, "tcp_fin", range)?.unwrap_or(0),
            udp: opt_int(udp, "udp", range)?.unwrap_or(0),
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
        from_dict_of(cls, data, TIMEOUT_FIELDS)
    }
}

// ---------------------------------------------------------------------------------------

const DAEMON_FIELDS: &[&str] = &["state", "interface", "sync_id", "max_len", "group", "port", "ttl"];

/// A connection-sync daemon: `state` "master" | "backup", on `interface`, with a sync id and
/// optional maximum packet length, multicast group, port and TTL.
#[pyclass(name = "Daemon", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyDaemon {
    pub inner: Daemon,
}

/// Reads "master" / "backup".
pub fn daemon_state(obj: &Bound<'_, PyAny>) -> PyResult<DaemonState> {
    Ok(match choice(obj, "state", &["master", "backup"])? {
        "master" => DaemonState::Master,
        _ => DaemonState::Backup,
    })
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
        d.group = group.filter(|g| !g.is_none()).map(|g| address(g, "group")).transpose()?;
        d.port = opt_int(port, "port", "1..=65535")?;
        d.ttl = opt_int(ttl, "ttl", "1..=255")?;
        d.validate().map_err(invalid)?;
        Ok(PyDaemon { inner: d })
    }
    #[getter]
    fn state(&self) -> &'static str {
        match self.inner.state {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
        }
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
        from_dict_of(cls, data, DAEMON_FIELDS)
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
    fn new(version_code: u32, conn_table_size: u32) -> Self {
        PyInfo { inner: Info { version: Version(version_code), conn_table_size } }
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
