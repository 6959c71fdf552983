//! Python bindings for ipvs-core: the native half (`ipvs._ipvs`) of the Python package `ipvs`.
//!
//! The Python half (`python/ipvs/__init__.py`) defines the model classes and exceptions; this
//! module reads those objects' attributes into the Rust model (checking types and values before
//! anything is sent), runs the client call with the GIL released, and answers plain dicts that
//! the Python half turns back into model objects.
#![deny(missing_docs)]

use std::net::{IpAddr, SocketAddr};

use ipvs::transport::{MockTransport, NetlinkTransport};
use ipvs::{
    Client, Daemon, DaemonState, Destination, Errno, Error, ErrorKind, Family, Forward, Netmask, PersistenceEngine,
    Protocol, Scheduler, Service, ServiceFlags, ServiceId, Stats, Timeouts, Tunnel, TunnelFlags,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

/// The client behind `ipvs.Client`: the kernel, or the in-memory kernel model.
enum Inner {
    Kernel(Client<NetlinkTransport>),
    Mock(Client<MockTransport>),
}

/// Runs `$body` with `$c` bound to whichever client is inside. Kernel calls release the GIL
/// (they wait on the socket); the in-memory model answers in well under a microsecond, less
/// than releasing and taking back the GIL costs.
macro_rules! call {
    ($self:ident, $py:ident, |$c:ident| $body:expr) => {
        match &$self.inner {
            Inner::Kernel($c) => $py.detach(|| $body),
            Inner::Mock($c) => $body,
        }
    };
}

/// The native client. Use `ipvs.Client` instead.
#[pyclass(module = "ipvs._ipvs", frozen)]
struct NativeClient {
    inner: Inner,
}

/// Turns a library error into the Python exception the `ipvs` package defines for it.
fn py_err(py: Python<'_>, e: Error) -> PyErr {
    if let Some(invalid) = e.invalid_input() {
        return PyValueError::new_err(invalid.to_string());
    }
    let message = e.to_string();
    let operation = e.operation().to_string();
    let target = e.target().map(str::to_owned);
    let errno = match e.kind() {
        ErrorKind::TimedOut => Errno::ETIMEDOUT.0,
        ErrorKind::DumpInterrupted { .. } => Errno::EAGAIN.0,
        _ => e.errno().map_or(0, |n| n.0),
    };
    match py
        .import("ipvs")
        .and_then(|m| m.getattr("_make_error"))
        .and_then(|f| f.call1((errno, message.clone(), operation, target)))
    {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

fn type_err(field: &str, want: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let ty = got.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!("{field}: expected {want}, got {ty}"))
}

fn value_err(field: &str, value: impl std::fmt::Display, why: &str) -> PyErr {
    PyValueError::new_err(format!("{field}: {value}: {why}"))
}

/// `obj.NAME`, with the attribute name interned once.
macro_rules! attr {
    ($obj:expr, $name:literal) => {
        $obj.getattr(pyo3::intern!($obj.py(), $name))
    };
}

/// `obj.NAME`, or `None` when it is Python's None.
macro_rules! opt {
    ($obj:expr, $name:literal) => {
        attr!($obj, $name).map(|v| if v.is_none() { None } else { Some(v) })
    };
}

fn int<T: TryFrom<i64>>(obj: &Bound<'_, PyAny>, field: &str, range: &str) -> PyResult<T> {
    if obj.is_instance_of::<pyo3::types::PyBool>() || !obj.is_instance_of::<pyo3::types::PyInt>() {
        return Err(type_err(field, "int", obj));
    }
    let n: i64 = obj.extract().map_err(|_| value_err(field, obj.to_string(), &format!("must be in {range}")))?;
    T::try_from(n).map_err(|_| value_err(field, n, &format!("must be in {range}")))
}

fn string(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<String> {
    obj.cast::<PyString>().map_err(|_| type_err(field, "str", obj))?.to_cow().map(|c| c.into_owned())
}

/// Reads an address given as `str` or an `ipaddress` object.
fn address(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<IpAddr> {
    if obj.is_instance_of::<PyString>() {
        let text = string(obj, field)?;
        return text.parse().map_err(|_| value_err(field, &text, "not an IP address"));
    }
    // ipaddress.IPv4Address / IPv6Address: their packed bytes.
    let packed = attr!(obj, "packed").ok().and_then(|p| p.cast_into::<PyBytes>().ok());
    match packed.as_ref().map(|b| b.as_bytes()) {
        Some(&[a, b, c, d]) => Ok(IpAddr::from([a, b, c, d])),
        Some(b) if b.len() == 16 => Ok(IpAddr::from(<[u8; 16]>::try_from(b).unwrap_or([0; 16]))),
        _ => Err(type_err(field, "str or ipaddress address", obj)),
    }
}

fn family(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<Family> {
    match string(obj, field)?.as_str() {
        "inet" | "ipv4" => Ok(Family::Inet),
        "inet6" | "ipv6" => Ok(Family::Inet6),
        other => Err(value_err(field, other, "must be 'inet' or 'inet6'")),
    }
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::Inet => "inet",
        Family::Inet6 => "inet6",
    }
}

/// The identity of an `ipvs.Service` (its other attributes are ignored).
fn service_id(obj: &Bound<'_, PyAny>) -> PyResult<ServiceId> {
    if let Some(mark) = opt!(obj, "fwmark")? {
        let mark: u32 = int(&mark, "fwmark", "1..=4294967295")?;
        let fam = match opt!(obj, "family")? {
            Some(f) => family(&f, "family")?,
            None => Family::Inet,
        };
        return Ok(ServiceId::fwmark(mark, fam));
    }
    let protocol = match opt!(obj, "protocol")? {
        Some(p) => match string(&p, "protocol")?.as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "sctp" => Protocol::Sctp,
            other => return Err(value_err("protocol", other, "must be 'tcp', 'udp' or 'sctp'")),
        },
        None => return Err(PyValueError::new_err("a service needs protocol and address, or fwmark")),
    };
    let addr = match opt!(obj, "address")? {
        Some(a) => address(&a, "address")?,
        None => return Err(PyValueError::new_err("a service needs protocol and address, or fwmark")),
    };
    let port: u16 = int(&attr!(obj, "port")?, "port", "0..=65535")?;
    Ok(ServiceId::Inet { protocol, addr, port })
}

fn service(obj: &Bound<'_, PyAny>) -> PyResult<Service> {
    let id = service_id(obj)?;
    let scheduler = Scheduler::from_name(&string(&attr!(obj, "scheduler")?, "scheduler")?);
    let mut svc = Service::new(id, scheduler);
    let flags: u32 = int(&attr!(obj, "flags")?, "flags", "0..=4294967295")?;
    svc = svc.with_flags(ServiceFlags::from_bits_retain(flags) - ServiceFlags::PERSISTENT - ServiceFlags::HASHED);
    if let Some(t) = opt!(obj, "persistence")? {
        svc = svc.with_persistence(int(&t, "persistence", "1..=4294967295")?);
    }
    if let Some(m) = opt!(obj, "netmask")? {
        let mask = if m.is_instance_of::<PyString>() {
            let text = string(&m, "netmask")?;
            text.parse::<Netmask>().map_err(|_| value_err("netmask", &text, "not a netmask or prefix length"))?
        } else {
            Netmask::Prefix(int(&m, "netmask", "1..=128")?)
        };
        svc = svc.with_netmask(mask);
    }
    if let Some(pe) = opt!(obj, "persistence_engine")? {
        svc = svc.with_persistence_engine(PersistenceEngine::from_name(&string(&pe, "persistence_engine")?));
    }
    Ok(svc)
}

fn tunnel_flags(obj: &Bound<'_, PyAny>) -> PyResult<TunnelFlags> {
    Ok(match opt!(obj, "tunnel_checksum")? {
        None => TunnelFlags::empty(),
        Some(c) => match string(&c, "tunnel_checksum")?.as_str() {
            "nocsum" => TunnelFlags::empty(),
            "csum" => TunnelFlags::CSUM,
            "remcsum" => TunnelFlags::REMCSUM,
            other => return Err(value_err("tunnel_checksum", other, "must be 'nocsum', 'csum' or 'remcsum'")),
        },
    })
}

fn destination(obj: &Bound<'_, PyAny>) -> PyResult<Destination> {
    let addr = address(&attr!(obj, "address")?, "address")?;
    let port: u16 = int(&attr!(obj, "port")?, "port", "0..=65535")?;
    let forward = match string(&attr!(obj, "forward")?, "forward")?.as_str() {
        "nat" | "masq" | "masquerade" => Forward::Masquerade,
        "dr" | "route" | "direct" => Forward::DirectRoute,
        "local" => Forward::Local,
        "bypass" => Forward::Bypass,
        "tunnel" | "tun" | "ipip" => {
            let flags = tunnel_flags(obj)?;
            let tport: u16 = int(&attr!(obj, "tunnel_port")?, "tunnel_port", "0..=65535")?;
            Forward::Tunnel(match string(&attr!(obj, "tunnel_type")?, "tunnel_type")?.as_str() {
                "ipip" => Tunnel::Ipip,
                "gue" => Tunnel::Gue { port: tport, flags },
                "gre" => Tunnel::Gre { flags },
                other => return Err(value_err("tunnel_type", other, "must be 'ipip', 'gue' or 'gre'")),
            })
        }
        other => return Err(value_err("forward", other, "must be 'nat', 'dr', 'tunnel', 'local' or 'bypass'")),
    };
    let mut d = Destination::new(SocketAddr::new(addr, port), forward);
    d.weight = int(&attr!(obj, "weight")?, "weight", "0..=2147483647")?;
    d.upper_threshold = int(&attr!(obj, "upper_threshold")?, "upper_threshold", "0..=4294967295")?;
    d.lower_threshold = int(&attr!(obj, "lower_threshold")?, "lower_threshold", "0..=4294967295")?;
    Ok(d)
}

fn stats_dict<'py>(py: Python<'py>, s: &Stats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in [
        ("conns", s.conns),
        ("in_packets", s.in_packets),
        ("out_packets", s.out_packets),
        ("in_bytes", s.in_bytes),
        ("out_bytes", s.out_bytes),
        ("cps", s.cps),
        ("in_pps", s.in_pps),
        ("out_pps", s.out_pps),
        ("in_bps", s.in_bps),
        ("out_bps", s.out_bps),
    ] {
        d.set_item(k, v)?;
    }
    Ok(d)
}

fn service_dict<'py>(py: Python<'py>, s: &Service) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match s.id {
        ServiceId::Inet { protocol, addr, port } => {
            d.set_item("protocol", protocol.to_string().to_lowercase())?;
            d.set_item("address", addr.to_string())?;
            d.set_item("port", port)?;
        }
        ServiceId::Fwmark { mark, .. } => d.set_item("fwmark", mark)?,
    }
    d.set_item("family", family_name(s.id.family()))?;
    d.set_item("scheduler", s.scheduler.name())?;
    d.set_item("persistence", s.persistence_timeout())?;
    if s.is_persistent() {
        d.set_item(
            "netmask",
            match s.netmask {
                Netmask::V4(m) => m.to_string().into_pyobject(py)?.into_any(),
                Netmask::Prefix(p) => p.into_pyobject(py)?.into_any(),
            },
        )?;
    }
    d.set_item("persistence_engine", s.persistence_engine.as_ref().map(|p| p.name().to_owned()))?;
    d.set_item("flags", (s.flags - ServiceFlags::PERSISTENT - ServiceFlags::HASHED).bits())?;
    d.set_item("stats", stats_dict(py, &s.stats)?)?;
    Ok(d)
}

fn destination_dict<'py>(py: Python<'py>, x: &Destination) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("address", x.addr.to_string())?;
    d.set_item("port", x.port)?;
    let (forward, tunnel) = match x.forward {
        Forward::Masquerade => ("nat", None),
        Forward::DirectRoute => ("dr", None),
        Forward::Local => ("local", None),
        Forward::Bypass => ("bypass", None),
        Forward::Tunnel(t) => ("tunnel", Some(t)),
        Forward::Other(_) => ("other", None),
    };
    d.set_item("forward", forward)?;
    if let Some(t) = tunnel {
        let (kind, port, flags) = match t {
            Tunnel::Ipip => ("ipip", 0, TunnelFlags::empty()),
            Tunnel::Gue { port, flags } => ("gue", port, flags),
            Tunnel::Gre { flags } => ("gre", 0, flags),
            Tunnel::Other { port, flags, .. } => ("other", port, flags),
        };
        d.set_item("tunnel_type", kind)?;
        d.set_item("tunnel_port", port)?;
        let csum = if flags.contains(TunnelFlags::REMCSUM) {
            Some("remcsum")
        } else if flags.contains(TunnelFlags::CSUM) {
            Some("csum")
        } else if matches!(t, Tunnel::Ipip) {
            None
        } else {
            Some("nocsum")
        };
        d.set_item("tunnel_checksum", csum)?;
    }
    d.set_item("weight", x.weight)?;
    d.set_item("upper_threshold", x.upper_threshold)?;
    d.set_item("lower_threshold", x.lower_threshold)?;
    d.set_item("active_conns", x.active_conns)?;
    d.set_item("inactive_conns", x.inactive_conns)?;
    d.set_item("persistent_conns", x.persistent_conns)?;
    d.set_item("stats", stats_dict(py, &x.stats)?)?;
    Ok(d)
}

fn daemon_state(obj: &Bound<'_, PyAny>) -> PyResult<DaemonState> {
    match string(obj, "state")?.as_str() {
        "master" => Ok(DaemonState::Master),
        "backup" => Ok(DaemonState::Backup),
        other => Err(value_err("state", other, "must be 'master' or 'backup'")),
    }
}

fn daemon(obj: &Bound<'_, PyAny>) -> PyResult<Daemon> {
    let state = daemon_state(&attr!(obj, "state")?)?;
    let mut d = Daemon::new(
        state,
        string(&attr!(obj, "interface")?, "interface")?,
        int(&attr!(obj, "sync_id")?, "sync_id", "0..=255")?,
    );
    if let Some(v) = opt!(obj, "max_len")? {
        d = d.with_max_len(int(&v, "max_len", "1..=65535")?);
    }
    if let Some(v) = opt!(obj, "group")? {
        d = d.with_group(address(&v, "group")?);
    }
    if let Some(v) = opt!(obj, "port")? {
        d = d.with_port(int(&v, "port", "1..=65535")?);
    }
    if let Some(v) = opt!(obj, "ttl")? {
        d = d.with_ttl(int(&v, "ttl", "1..=255")?);
    }
    Ok(d)
}

#[pymethods]
impl NativeClient {
    /// A kernel client, in the current network namespace or the one at `netns`.
    #[new]
    #[pyo3(signature = (netns=None))]
    fn new(py: Python<'_>, netns: Option<std::path::PathBuf>) -> PyResult<Self> {
        let client = py.detach(|| match &netns {
            None => Client::new(),
            Some(path) => Client::in_namespace(path),
        });
        Ok(NativeClient { inner: Inner::Kernel(client.map_err(|e| py_err(py, e))?) })
    }

    /// A client of the in-memory kernel model, with the network interfaces sync daemons may
    /// use (default: `lo`).
    #[staticmethod]
    #[pyo3(signature = (interfaces=None))]
    fn mock(interfaces: Option<Vec<String>>) -> Self {
        let client = match interfaces {
            None => Client::mock(),
            Some(names) => Client::with_transport(MockTransport::builder().interfaces(names).build()),
        };
        NativeClient { inner: Inner::Mock(client) }
    }

    /// Whether this is the in-memory model.
    #[getter]
    fn is_mock(&self) -> bool {
        matches!(self.inner, Inner::Mock(_))
    }

    fn add_service(&self, py: Python<'_>, svc: &Bound<'_, PyAny>) -> PyResult<()> {
        let svc = service(svc)?;
        call!(self, py, |c| c.add_service(&svc)).map_err(|e| py_err(py, e))
    }

    fn update_service(&self, py: Python<'_>, svc: &Bound<'_, PyAny>) -> PyResult<()> {
        let svc = service(svc)?;
        call!(self, py, |c| c.update_service(&svc)).map_err(|e| py_err(py, e))
    }

    fn delete_service(&self, py: Python<'_>, svc: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = service_id(svc)?;
        call!(self, py, |c| c.delete_service(&id)).map_err(|e| py_err(py, e))
    }

    fn service<'py>(&self, py: Python<'py>, svc: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        let id = service_id(svc)?;
        let s = call!(self, py, |c| c.service(&id)).map_err(|e| py_err(py, e))?;
        service_dict(py, &s)
    }

    fn services<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = call!(self, py, |c| c.services()).map_err(|e| py_err(py, e))?;
        let out = PyList::empty(py);
        for s in &list {
            out.append(service_dict(py, s)?)?;
        }
        Ok(out)
    }

    fn add_destination(&self, py: Python<'_>, svc: &Bound<'_, PyAny>, dest: &Bound<'_, PyAny>) -> PyResult<()> {
        let (id, d) = (service_id(svc)?, destination(dest)?);
        call!(self, py, |c| c.add_destination(&id, &d)).map_err(|e| py_err(py, e))
    }

    fn update_destination(&self, py: Python<'_>, svc: &Bound<'_, PyAny>, dest: &Bound<'_, PyAny>) -> PyResult<()> {
        let (id, d) = (service_id(svc)?, destination(dest)?);
        call!(self, py, |c| c.update_destination(&id, &d)).map_err(|e| py_err(py, e))
    }

    fn delete_destination(&self, py: Python<'_>, svc: &Bound<'_, PyAny>, dest: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = service_id(svc)?;
        let addr = SocketAddr::new(
            address(&attr!(dest, "address")?, "address")?,
            int(&attr!(dest, "port")?, "port", "0..=65535")?,
        );
        call!(self, py, |c| c.delete_destination(&id, addr)).map_err(|e| py_err(py, e))
    }

    fn destinations<'py>(&self, py: Python<'py>, svc: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let id = service_id(svc)?;
        let list = call!(self, py, |c| c.destinations(&id)).map_err(|e| py_err(py, e))?;
        let out = PyList::empty(py);
        for d in &list {
            out.append(destination_dict(py, d)?)?;
        }
        Ok(out)
    }

    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        call!(self, py, |c| c.flush()).map_err(|e| py_err(py, e))
    }

    #[pyo3(signature = (svc=None))]
    fn zero(&self, py: Python<'_>, svc: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let id = svc.map(service_id).transpose()?;
        call!(self, py, |c| c.zero(id.as_ref())).map_err(|e| py_err(py, e))
    }

    fn timeouts(&self, py: Python<'_>) -> PyResult<(u32, u32, u32)> {
        let t = call!(self, py, |c| c.timeouts()).map_err(|e| py_err(py, e))?;
        Ok((t.tcp, t.tcp_fin, t.udp))
    }

    fn set_timeouts(&self, py: Python<'_>, t: &Bound<'_, PyAny>) -> PyResult<()> {
        let range = "0..=2147483";
        let t = Timeouts {
            tcp: int(&attr!(t, "tcp")?, "tcp", range)?,
            tcp_fin: int(&attr!(t, "tcp_fin")?, "tcp_fin", range)?,
            udp: int(&attr!(t, "udp")?, "udp", range)?,
        };
        call!(self, py, |c| c.set_timeouts(&t)).map_err(|e| py_err(py, e))
    }

    fn daemons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = call!(self, py, |c| c.daemons()).map_err(|e| py_err(py, e))?;
        let out = PyList::empty(py);
        for d in &list {
            let x = PyDict::new(py);
            x.set_item("state", if d.state == DaemonState::Master { "master" } else { "backup" })?;
            x.set_item("interface", &d.interface)?;
            x.set_item("sync_id", d.sync_id)?;
            x.set_item("max_len", d.max_len)?;
            x.set_item("group", d.group.map(|g| g.to_string()))?;
            x.set_item("port", d.port)?;
            x.set_item("ttl", d.ttl)?;
            out.append(x)?;
        }
        Ok(out)
    }

    fn start_daemon(&self, py: Python<'_>, d: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = daemon(d)?;
        call!(self, py, |c| c.start_daemon(&d)).map_err(|e| py_err(py, e))
    }

    fn stop_daemon(&self, py: Python<'_>, state: &Bound<'_, PyAny>) -> PyResult<()> {
        let state = daemon_state(state)?;
        call!(self, py, |c| c.stop_daemon(state)).map_err(|e| py_err(py, e))
    }

    fn info(&self, py: Python<'_>) -> PyResult<(String, u32, u32)> {
        let i = call!(self, py, |c| c.info()).map_err(|e| py_err(py, e))?;
        Ok((i.version.to_string(), i.version.0, i.conn_table_size))
    }
}

/// The native module `ipvs._ipvs`.
#[pymodule]
fn _ipvs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeClient>()?;
    Ok(())
}
