//! Reading Python values into Rust ones with the errors Python users expect (TypeError for a
//! wrong type, ValueError naming the field and the value), and turning library errors into
//! the `ipvs` package's exceptions.

use std::net::IpAddr;

use ipvs::{Error, Family};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyInt, PyString};

/// Turns a library error into the Python exception the `ipvs` package defines for it:
/// ValueError for input refused before sending, `ipvs.IpvsError` (an OSError with `errno`,
/// also the matching builtin subclass) for everything else.
pub fn py_err(py: Python<'_>, e: Error) -> PyErr {
    error_for(py, &e, "")
}

/// As [`py_err`], for an error kept elsewhere (a report's failure), with `prefix` before the
/// message (`"line 3: "`).
pub fn error_for(py: Python<'_>, e: &Error, prefix: &str) -> PyErr {
    if let Some(invalid) = e.invalid_input() {
        return PyValueError::new_err(format!("{prefix}{invalid}"));
    }
    // The library's one errno mapping.
    let errno = e.errno().0;
    let message = format!("{prefix}{e}");
    let operation = e.operation().to_string();
    let target = e.target().map(str::to_owned);
    match py
        .import("ipvs")
        .and_then(|m| m.getattr("_make_error"))
        .and_then(|f| f.call1((errno, message, operation, target)))
    {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

/// A ValueError for a library validation failure.
pub fn invalid(e: ipvs::InvalidInput) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// TypeError: `field: expected WANT, got TYPE`.
pub fn type_err(field: &str, want: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let ty = got.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!("{field}: expected {want}, got {ty}"))
}

/// ValueError: `field: VALUE: why`.
pub fn value_err(field: &str, value: impl std::fmt::Display, why: &str) -> PyErr {
    PyValueError::new_err(format!("{field}: {value}: {why}"))
}

/// An integer in the range of `T` (bool refused): a TypeError for another type, a ValueError
/// naming the field for any integer out of range, however large.
pub fn int<T: TryFrom<i128>>(obj: &Bound<'_, PyAny>, field: &str, range: &str) -> PyResult<T> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(type_err(field, "int", obj));
    }
    let out_of_range = || value_err(field, obj.to_string(), &format!("must be in {range}"));
    let n: i128 = obj.extract().map_err(|_| out_of_range())?;
    T::try_from(n).map_err(|_| out_of_range())
}

/// An optional integer: None stays None.
pub fn opt_int<T: TryFrom<i128>>(obj: Option<&Bound<'_, PyAny>>, field: &str, range: &str) -> PyResult<Option<T>> {
    match obj {
        Some(o) if !o.is_none() => int(o, field, range).map(Some),
        _ => Ok(None),
    }
}

/// A string; one that is not valid Unicode (a lone surrogate) is a ValueError naming the field.
pub fn string(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<String> {
    let s = obj.cast::<PyString>().map_err(|_| type_err(field, "str", obj))?;
    match s.to_cow() {
        Ok(c) => Ok(c.into_owned()),
        Err(_) => Err(value_err(field, s.repr().map(|r| r.to_string()).unwrap_or_default(), "not valid Unicode")),
    }
}

/// A file system path given as str, bytes or an `os.PathLike`.
pub fn path(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b.as_bytes())));
    }
    let fspath = obj.py().import(pyo3::intern!(obj.py(), "os"))?.getattr(pyo3::intern!(obj.py(), "fspath"))?;
    let p = fspath.call1((obj,)).map_err(|_| type_err(field, "str, bytes or os.PathLike", obj))?;
    if let Ok(b) = p.cast::<PyBytes>() {
        return Ok(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b.as_bytes())));
    }
    Ok(std::path::PathBuf::from(string(&p, field)?))
}

/// One of a fixed set of strings.
pub fn choice<'a>(obj: &Bound<'_, PyAny>, field: &str, choices: &[&'a str]) -> PyResult<&'a str> {
    let s = string(obj, field)?;
    choices.iter().copied().find(|c| *c == s).ok_or_else(|| {
        let list: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
        value_err(field, format!("'{s}'"), &format!("must be one of {}", list.join(", ")))
    })
}

/// Why a zoned IPv6 address (`fe80::1%eth0`) is refused: IPVS holds no zone, and dropping it
/// would silently name another address.
const ZONED: &str = "a zoned IPv6 address (with %zone) cannot be used: IPVS holds no zone";

/// A ValueError if `obj` (an `ipaddress` object) carries an IPv6 zone (`scope_id`).
pub fn refuse_zone(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<()> {
    let zone = obj.getattr(pyo3::intern!(obj.py(), "scope_id")).ok().filter(|z| !z.is_none());
    match zone {
        Some(_) => Err(value_err(field, format!("'{}'", obj.str()?), ZONED)),
        None => Ok(()),
    }
}

/// An address given as `str` or an `ipaddress` object; a zoned IPv6 address is a ValueError
/// naming the field (never taken without its zone).
pub fn address(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<IpAddr> {
    if obj.is_instance_of::<PyString>() {
        let text = string(obj, field)?;
        if text.contains('%') {
            return Err(value_err(field, format!("'{text}'"), ZONED));
        }
        return text.parse().map_err(|_| value_err(field, format!("'{text}'"), "not an IP address"));
    }
    refuse_zone(obj, field)?;
    // ipaddress.IPv4Address / IPv6Address: their packed bytes.
    let packed = obj.getattr(pyo3::intern!(obj.py(), "packed")).ok().and_then(|p| p.cast_into::<PyBytes>().ok());
    match packed.as_ref().map(|b| b.as_bytes()) {
        Some(&[a, b, c, d]) => Ok(IpAddr::from([a, b, c, d])),
        Some(b) => <[u8; 16]>::try_from(b).map(IpAddr::from).map_err(|_| type_err(field, "an IP address", obj)),
        None => Err(type_err(field, "str or ipaddress address", obj)),
    }
}

/// An `ipaddress` object for `addr`.
pub fn py_address<'py>(py: Python<'py>, addr: IpAddr) -> PyResult<Bound<'py, PyAny>> {
    py.import(pyo3::intern!(py, "ipaddress"))?.getattr(pyo3::intern!(py, "ip_address"))?.call1((addr.to_string(),))
}

/// "inet" / "inet6" (the model's names).
pub fn family(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<Family> {
    let names = [Family::Inet.name(), Family::Inet6.name()];
    let name = choice(obj, field, &names)?;
    Ok(if name == Family::Inet.name() { Family::Inet } else { Family::Inet6 })
}
