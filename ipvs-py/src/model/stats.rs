//! `Stats`: counters and rates, as the kernel reports them.

use ipvs::Stats;
use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use super::{dict_of, from_dict_of, given, repr_of, richcmp};
use crate::convert::{opt_int, type_err};

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

pub(crate) fn stats_arg(stats: Option<&Bound<'_, PyAny>>) -> PyResult<Stats> {
    match given(stats) {
        None => Ok(Stats::default()),
        Some(s) => Ok(s.cast::<PyStats>().map_err(|_| type_err("stats", "ipvs.Stats", s))?.get().inner),
    }
}
