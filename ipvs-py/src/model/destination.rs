//! `Destination` (configuration) and `DestinationStatus` (what the kernel reports).

use std::net::SocketAddr;

use ipvs::{Destination, DestinationStatus, Forward, Tunnel, TunnelFlags};
use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use super::stats::{stats_arg, PyStats};
use super::{dict_of, from_dict_of, given, repr_of, richcmp};
use crate::convert::{address, choice, invalid, opt_int, py_address, string, value_err};

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
