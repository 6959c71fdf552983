//! The model classes: immutable Python objects holding ipvs-core's model values, checked
//! when built (TypeError / ValueError naming the field), with keyword constructors,
//! attributes, `repr`, `==`, `to_dict()`, `from_dict()` and `replace(**changes)`.
//!
//! What a user configures (`Service`, `Destination`) is apart from what the kernel reports
//! (`ServiceStatus`, `DestinationStatus`, `Stats`), as in the Rust model: equality of
//! configuration compares configuration only. Defaults and names come from the Rust model.

use std::net::SocketAddr;

use ipvs::{
    Daemon, DaemonState, Destination, DestinationStatus, Family, Forward, Info, Netmask, PersistenceEngine, Protocol,
    Scheduler, Service, ServiceFlags, ServiceId, ServiceStatus, Stats, Timeouts, Tunnel, TunnelFlags, Version,
};
use pyo3::basic::CompareOp;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString, PyType};

use crate::convert::{address, choice, family, int, invalid, opt_int, py_address, string, type_err, value_err};

/// `repr` from the listed attributes: `Name(a=..., b=...)`.
fn repr_of(obj: &Bound<'_, PyAny>, name: &str, fields: &[&str]) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for f in fields {
        parts.push(format!("{f}={}", obj.getattr(*f)?.repr()?));
    }
    Ok(format!("{name}({})", parts.join(", ")))
}

/// A dict of the listed attributes; addresses as strings, nested model objects as dicts.
fn dict_of<'py>(obj: &Bound<'py, PyAny>, fields: &[&str]) -> PyResult<Bound<'py, PyDict>> {
    let py = obj.py();
    let d = PyDict::new(py);
    for f in fields {
        let mut v = obj.getattr(*f)?;
        if v.hasattr("packed")? && v.hasattr("version")? {
            v = v.str()?.into_any();
        } else if v.hasattr("to_dict")? {
            v = v.call_method0("to_dict")?;
        }
        d.set_item(*f, v)?;
    }
    Ok(d)
}

/// `cls(**data)`, refusing keys that are not attributes with a ValueError; nested dicts are
/// built into the classes `nested` names.
fn from_dict_of<'py>(
    cls: &Bound<'py, PyType>,
    data: &Bound<'py, PyDict>,
    fields: &[&str],
    nested: &[(&str, Bound<'py, PyType>)],
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
    for (key, class) in nested {
        if let Some(v) = kwargs.get_item(*key)? {
            if let Ok(d) = v.cast::<PyDict>() {
                kwargs.set_item(*key, class.call_method1("from_dict", (d,))?)?;
            }
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

fn given<'a, 'py>(o: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    o.filter(|v| !v.is_none())
}

// ---------------------------------------------------------------------------------------

const STATS_FIELDS: &[&str] =
    &["conns", "in_packets", "out_packets", "in_bytes", "out_bytes", "cps", "in_pps", "out_pps", "in_bps", "out_bps"];

const U64_RANGE: &str = "0..=18446744073709551615";

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
    #[pyo3(signature = (*, conns=None, in_packets=None, out_packets=None, in_bytes=None, out_bytes=None, cps=None, in_pps=None, out_pps=None, in_bps=None, out_bps=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        conns: Option<&Bound<'_, PyAny>>,
        in_packets: Option<&Bound<'_, PyAny>>,
        out_packets: Option<&Bound<'_, PyAny>>,
        in_bytes: Option<&Bound<'_, PyAny>>,
        out_bytes: Option<&Bound<'_, PyAny>>,
        cps: Option<&Bound<'_, PyAny>>,
        in_pps: Option<&Bound<'_, PyAny>>,
        out_pps: Option<&Bound<'_, PyAny>>,
        in_bps: Option<&Bound<'_, PyAny>>,
        out_bps: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let v = |o, f| opt_int::<u64>(o, f, U64_RANGE).map(Option::unwrap_or_default);
        Ok(PyStats {
            inner: Stats {
                conns: v(conns, "conns")?,
                in_packets: v(in_packets, "in_packets")?,
                out_packets: v(out_packets, "out_packets")?,
                in_bytes: v(in_bytes, "in_bytes")?,
                out_bytes: v(out_bytes, "out_bytes")?,
                cps: v(cps, "cps")?,
                in_pps: v(in_pps, "in_pps")?,
                out_pps: v(out_pps, "out_pps")?,
                in_bps: v(in_bps, "in_bps")?,
                out_bps: v(out_bps, "out_bps")?,
            },
        })
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
        from_dict_of(cls, data, STATS_FIELDS, &[])
    }
}

fn stats_arg(stats: Option<&Bound<'_, PyAny>>) -> PyResult<Stats> {
    match given(stats) {
        None => Ok(Stats::default()),
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
];
const TUNNEL_FIELDS: [&str; 3] = ["tunnel_type", "tunnel_port", "tunnel_checksum"];

fn forward_names() -> Vec<String> {
    [Forward::Masquerade, Forward::DirectRoute, Forward::Tunnel(Tunnel::Ipip), Forward::Local, Forward::Bypass]
        .iter()
        .map(Forward::name)
        .collect()
}

/// The tunnel of a destination from its Python arguments; fields that do not apply to the
/// type are refused, not dropped.
fn tunnel(
    ttype: Option<&Bound<'_, PyAny>>,
    tport: Option<&Bound<'_, PyAny>>,
    tsum: Option<&Bound<'_, PyAny>>,
) -> PyResult<Tunnel> {
    let kind = match ttype {
        Some(t) => string(t, "tunnel_type")?,
        None => Tunnel::Ipip.kind_name().to_owned(),
    };
    let port: u16 = opt_int(tport, "tunnel_port", "1..=65535")?.unwrap_or(0);
    let flags = match tsum {
        None => TunnelFlags::empty(),
        Some(c) => {
            let name = string(c, "tunnel_checksum")?;
            TunnelFlags::from_checksum_name(&name).ok_or_else(|| {
                value_err("tunnel_checksum", format!("'{name}'"), "must be one of 'nocsum', 'csum', 'remcsum'")
            })?
        }
    };
    let t = Tunnel::from_name(&kind, port, flags).map_err(invalid)?;
    if tsum.is_some() && matches!(t, Tunnel::Ipip) {
        return Err(value_err(
            "tunnel_checksum",
            tsum.map(|c| c.to_string()).unwrap_or_default(),
            "an ipip tunnel has no checksum option",
        ));
    }
    Ok(t)
}

/// A real server of a service, as configured. `forward`: "nat" | "dr" | "tunnel" | "local" |
/// "bypass" (default: the library's, "dr"); for tunnels `tunnel_type` "ipip" | "gue" | "gre",
/// `tunnel_port` (gue only) and `tunnel_checksum` "nocsum" | "csum" | "remcsum" (gue and gre).
/// A tunnel field that does not apply is refused. What the kernel reports about a
/// destination is a `DestinationStatus`.
#[pyclass(name = "Destination", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyDestination {
    pub inner: Destination,
}

#[pymethods]
impl PyDestination {
    #[new]
    #[pyo3(signature = (address, *, port=None, forward=None, weight=None, upper_threshold=None, lower_threshold=None, tunnel_type=None, tunnel_port=None, tunnel_checksum=None))]
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
    ) -> PyResult<Self> {
        let addr = self::address(address, "address")?;
        let port: u16 = opt_int(port, "port", "0..=65535")?.unwrap_or(0);
        let names = forward_names();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let forward = match given(forward) {
            Some(f) => choice(f, "forward", &refs)?.parse::<Forward>().map_err(invalid)?,
            None => Forward::default(),
        };
        let (ttype, tport, tsum) = (given(tunnel_type), given(tunnel_port), given(tunnel_checksum));
        let forward = match forward {
            Forward::Tunnel(_) => Forward::Tunnel(tunnel(ttype, tport, tsum)?),
            other => {
                for (field, v) in TUNNEL_FIELDS.iter().zip([ttype, tport, tsum]) {
                    if let Some(v) = v {
                        return Err(value_err(field, v.repr()?, "needs forward='tunnel'"));
                    }
                }
                other
            }
        };
        let mut d = Destination::new(SocketAddr::new(addr, port), forward);
        let max = format!("0..={}", Destination::MAX_WEIGHT);
        d.weight = opt_int(weight, "weight", &max)?.unwrap_or(Destination::DEFAULT_WEIGHT);
        d.upper_threshold = opt_int(upper_threshold, "upper_threshold", "0..=4294967295")?.unwrap_or(0);
        d.lower_threshold = opt_int(lower_threshold, "lower_threshold", "0..=4294967295")?.unwrap_or(0);
        d.validate().map_err(invalid)?;
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
    fn forward(&self) -> String {
        self.inner.forward.name()
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
        self.inner.forward.tunnel().map(|t| t.kind_name())
    }
    #[getter]
    fn tunnel_port(&self) -> Option<u16> {
        match self.inner.forward.tunnel()? {
            Tunnel::Gue { port, .. } => Some(port),
            _ => None,
        }
    }
    #[getter]
    fn tunnel_checksum(&self) -> Option<&'static str> {
        match self.inner.forward.tunnel()? {
            Tunnel::Gue { flags, .. } | Tunnel::Gre { flags } => Some(flags.checksum_name()),
            _ => None,
        }
    }
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        repr_of(slf.as_any(), "Destination", DEST_FIELDS)
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyDestination>().ok().map(|o| o.get().inner.clone());
        richcmp(&self.inner, other, o, op)
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.hash(&mut h);
        h.finish()
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), DEST_FIELDS)
    }
    #[classmethod]
    fn from_dict<'py>(cls: &Bound<'py, PyType>, data: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        from_dict_of(cls, data, DEST_FIELDS, &[])
    }
    /// A changed copy. Changing `forward` or `tunnel_type` drops the tunnel fields the new
    /// method or type does not have, unless `changes` gives them.
    #[pyo3(signature = (**changes))]
    fn replace<'py>(slf: &Bound<'py, Self>, changes: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyAny>> {
        let d = slf.call_method0("to_dict")?.cast_into::<PyDict>()?;
        if let Some(c) = changes {
            d.update(c.as_mapping())?;
            let changed = |k: &str| c.contains(k).unwrap_or(false);
            if changed("forward") || changed("tunnel_type") {
                let is_tunnel = d.get_item("forward")?.map(|f| f.to_string() == "tunnel").unwrap_or(false);
                let ttype = d.get_item("tunnel_type")?.filter(|t| !t.is_none()).map(|t| t.to_string());
                for field in TUNNEL_FIELDS {
                    if changed(field) {
                        continue;
                    }
                    let keep = is_tunnel
                        && match field {
                            "tunnel_type" => true,
                            "tunnel_port" => ttype.as_deref() == Some("gue"),
                            _ => matches!(ttype.as_deref(), Some("gue" | "gre")),
                        };
                    if !keep {
                        d.set_item(field, slf.py().None())?;
                    }
                }
            }
        }
        slf.get_type().call_method1("from_dict", (d,))
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

const DEST_STATUS_FIELDS: &[&str] = &["destination", "active_conns", "inactive_conns", "persistent_conns", "stats"];

/// A destination as the kernel reports it: its configuration (`destination`), its
/// connection counts and its `stats`.
#[pyclass(name = "DestinationStatus", module = "ipvs", frozen)]
#[derive(Clone)]
pub struct PyDestinationStatus {
    pub inner: DestinationStatus,
}

#[pymethods]
impl PyDestinationStatus {
    #[new]
    #[pyo3(signature = (destination, active_conns=None, inactive_conns=None, persistent_conns=None, stats=None))]
    fn new(
        destination: &Bound<'_, PyDestination>,
        active_conns: Option<&Bound<'_, PyAny>>,
        inactive_conns: Option<&Bound<'_, PyAny>>,
        persistent_conns: Option<&Bound<'_, PyAny>>,
        stats: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let count = |o, f| opt_int::<u32>(o, f, "0..=4294967295").map(Option::unwrap_or_default);
        Ok(PyDestinationStatus {
            inner: DestinationStatus {
                destination: destination.get().inner.clone(),
                active_conns: count(active_conns, "active_conns")?,
                inactive_conns: count(inactive_conns, "inactive_conns")?,
                persistent_conns: count(persistent_conns, "persistent_conns")?,
                stats: stats_arg(stats)?,
            },
        })
    }
    #[getter]
    fn destination(&self) -> PyDestination {
        PyDestination { inner: self.inner.destination.clone() }
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
        repr_of(slf.as_any(), "DestinationStatus", DEST_STATUS_FIELDS)
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let o = other.cast::<PyDestinationStatus>().ok().map(|o| o.get().inner.clone());
        richcmp(&self.inner, other, o, op)
    }
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        dict_of(slf.as_any(), DEST_STATUS_FIELDS)
    }
    #[classmethod]
    fn from_dict<'py>(cls: &Bound<'py, PyType>, data: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let py = cls.py();
        let nested = [("destination", py.get_type::<PyDestination>()), ("stats", py.get_type::<PyStats>())];
        from_dict_of(cls, data, DEST_STATUS_FIELDS, &nested)
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
