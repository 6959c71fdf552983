//! The model classes: immutable Python objects holding ipvs-core's model values, checked
//! when built (TypeError / ValueError naming the field), with keyword constructors,
//! attributes, `repr`, `==`, `to_dict()`, `from_dict()` and `replace(**changes)`.
//!
//! What a user configures (`Service`, `Destination`) is apart from what the kernel reports
//! (`ServiceStatus`, `DestinationStatus`, `Stats`), as in the Rust model: equality of
//! configuration compares configuration only. Defaults and names come from the Rust model.

mod config;
mod destination;
mod service;
mod stats;

pub use config::{daemon_state, PyDaemon, PyInfo, PyTimeouts};
pub use destination::{PyDestination, PyDestinationStatus};
pub use service::{PyService, PyServiceStatus};
pub use stats::PyStats;

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyType};

use crate::convert::string;

/// `repr` from the listed attributes: `Name(a=..., b=...)`.
pub(crate) fn repr_of(obj: &Bound<'_, PyAny>, name: &str, fields: &[&str]) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for f in fields {
        parts.push(format!("{f}={}", obj.getattr(*f)?.repr()?));
    }
    Ok(format!("{name}({})", parts.join(", ")))
}

/// A dict of the listed attributes; addresses as strings, nested model objects as dicts.
pub(crate) fn dict_of<'py>(obj: &Bound<'py, PyAny>, fields: &[&str]) -> PyResult<Bound<'py, PyDict>> {
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
pub(crate) fn from_dict_of<'py>(
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
pub(crate) fn replace_of<'py>(
    obj: &Bound<'py, PyAny>,
    changes: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let d = obj.call_method0("to_dict")?.cast_into::<PyDict>()?;
    if let Some(c) = changes {
        d.update(c.as_mapping())?;
    }
    obj.get_type().call_method1("from_dict", (d,))
}

/// `==` / `!=` between two values of one class; anything else is NotImplemented.
pub(crate) fn richcmp<T: PartialEq>(a: &T, other: &Bound<'_, PyAny>, b: Option<T>, op: CompareOp) -> Py<PyAny> {
    let py = other.py();
    match (op, b) {
        (CompareOp::Eq, Some(b)) => PyBool::new(py, *a == b).to_owned().into_any().unbind(),
        (CompareOp::Ne, Some(b)) => PyBool::new(py, *a != b).to_owned().into_any().unbind(),
        _ => py.NotImplemented(),
    }
}

pub(crate) fn given<'a, 'py>(o: Option<&'a Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    o.filter(|v| !v.is_none())
}
