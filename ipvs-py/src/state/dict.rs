//! A table as Python data (dicts, lists, str, int, float, bool, None) in the desired-state
//! file schema: `Table.to_dict()` and `Table.from_dict()`, through JSON values, so the
//! schema, its checks and its messages are the files' own.

use ipvs::state::{FileError, Table};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::convert::{string, type_err, value_err};

/// Deeper than any table is; a bound on what a self-referencing or absurd input costs.
const MAX_DEPTH: usize = 32;

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn field(path: &str) -> &str {
    if path.is_empty() {
        "data"
    } else {
        path
    }
}

/// A Python value as a JSON value; `path` names it in errors (`services[0].port`).
fn to_value(obj: &Bound<'_, PyAny>, path: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(value_err(field(path), "...", &format!("nested deeper than {MAX_DEPTH} levels")));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(Value::from(n));
        }
        if let Ok(n) = obj.extract::<u64>() {
            return Ok(Value::from(n));
        }
        return Err(value_err(field(path), obj.to_string(), "integer out of range"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v).map(Value::Number).ok_or_else(|| value_err(field(path), v, "not a finite number"));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::String(string(obj, field(path))?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let what = format!("{} key", field(path));
            let key = if k.is_instance_of::<PyString>() {
                string(&k, &what)?
            } else {
                return Err(type_err(&what, "str", &k));
            };
            let value = to_value(&v, &child(path, &key), depth + 1)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for (i, v) in obj.try_iter()?.enumerate() {
            out.push(to_value(&v?, &format!("{path}[{i}]"), depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    // ipaddress objects: their text.
    let ip = obj.py().import(pyo3::intern!(obj.py(), "ipaddress"))?;
    for class in ["IPv4Address", "IPv6Address"] {
        if obj.is_instance(&ip.getattr(class)?)? {
            crate::convert::refuse_zone(obj, field(path))?;
            return Ok(Value::String(obj.str()?.to_string()));
        }
    }
    Err(type_err(field(path), "dict, list, tuple, str, int, float, bool, None or an ipaddress address", obj))
}

/// The table as a dict of the file schema, keys in the schema's order (as `to_json()`
/// writes them: Python's `json` reads them in order).
pub fn table_to_dict<'py>(py: Python<'py>, t: &Table) -> PyResult<Bound<'py, PyAny>> {
    py.import(pyo3::intern!(py, "json"))?.call_method1(pyo3::intern!(py, "loads"), (t.to_json(),))
}

/// The JSON text of a dict of the file schema (checked as a file when read).
pub fn dict_to_json(data: &Bound<'_, PyAny>) -> PyResult<String> {
    if !data.is_instance_of::<PyDict>() {
        return Err(type_err("data", "dict", data));
    }
    let v = to_value(data, "", 0)?;
    serde_json::to_string(&v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A file error of a dict: the field's path and what was wrong (the line and column are of
/// the JSON text the dict was written as, which the caller never saw).
pub fn dict_err(e: FileError) -> PyErr {
    PyValueError::new_err(match e.path.as_deref() {
        Some(p) if !p.is_empty() && p != "." => format!("{p}: {}", e.message),
        _ => e.message,
    })
}
