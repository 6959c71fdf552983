//! `ipvs.Table`: a whole IPVS configuration, read, built, compared and written.

use std::net::SocketAddr;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};

use ipvs::state::{FileError, Table};
use ipvs::{Destination, DestinationStatus, Service, ServiceStatus};
use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList, PyType};

use super::dict::{dict_err, dict_to_json, table_to_dict};
use crate::convert::{invalid, string};
use crate::model::{richcmp, PyDestination, PyDestinationStatus, PyService, PyServiceStatus, PyTimeouts};

fn file_err(e: FileError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn busy() -> PyErr {
    PyRuntimeError::new_err("the table is in use by a client call in another thread")
}

/// A whole IPVS configuration: services with their destinations, and the connection
/// timeouts. Read from the kernel (`Client.table()`: with the statistics and connection
/// counts, see `entries()`), from a desired-state file's text (`from_toml`, `from_json`, or
/// `from_dict` for the same schema as Python data), from ipvsadm rules (`from_rules`), or
/// built (`Table()`, `add_service`, `add_destination`).
///
/// `==` compares configuration only: a table read from the kernel equals the desired table
/// it was made from, whatever traffic did. Tables are mutable (and so unhashable); a client
/// call reading a table in another thread makes changing it meanwhile a RuntimeError.
#[pyclass(name = "Table", module = "ipvs", frozen)]
pub struct PyTable {
    inner: RwLock<Table>,
}

impl PyTable {
    /// A Python table holding `t`.
    pub fn from_table(t: Table) -> PyTable {
        PyTable { inner: RwLock::new(t) }
    }

    /// The table, to read. Writers hold it only while holding the GIL, so it is only ever
    /// unavailable to a re-entrant call; that is an error rather than a wait.
    pub fn read(&self) -> PyResult<RwLockReadGuard<'_, Table>> {
        match self.inner.try_read() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(busy()),
        }
    }

    /// The table, to change: a RuntimeError while a client call (the GIL released) reads it.
    fn write(&self) -> PyResult<RwLockWriteGuard<'_, Table>> {
        match self.inner.try_write() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(busy()),
        }
    }
}

fn key_err(service: &Service) -> PyErr {
    PyKeyError::new_err(format!("service {} is not in the table", service.id))
}

#[pymethods]
impl PyTable {
    /// An empty table (no services; the timeouts not managed).
    #[new]
    fn new() -> Self {
        PyTable::from_table(Table::new())
    }

    /// A table from a desired-state file's text in TOML; a bad file is a ValueError naming
    /// the line, the column, the field and the value.
    #[classmethod]
    fn from_toml(_cls: &Bound<'_, PyType>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        Table::from_toml(&string(text, "text")?).map(PyTable::from_table).map_err(file_err)
    }

    /// A table from a desired-state file's text in JSON (the schema of the TOML files); a
    /// bad file is a ValueError naming the line, the column, the field and the value.
    #[classmethod]
    fn from_json(_cls: &Bound<'_, PyType>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        Table::from_json(&string(text, "text")?).map(PyTable::from_table).map_err(file_err)
    }

    /// A table from Python data in the desired-state file schema (what `to_dict()` gives:
    /// `{"timeouts": {...}, "services": [{..., "destinations": [...]}]}`; addresses may be
    /// `ipaddress` objects). Bad data is a ValueError naming the field (`services[0].port`)
    /// and the value, or a TypeError for a value no file could hold.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        Table::from_json(&dict_to_json(data)?).map(PyTable::from_table).map_err(dict_err)
    }

    /// A table from ipvsadm rules: `-A` and `-a` lines (what `ipvsadm -S` saves) and `--set`
    /// for the timeouts. Any other command, or a bad line, is a ValueError naming the line.
    #[classmethod]
    fn from_rules(_cls: &Bound<'_, PyType>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        Table::from_rules(&string(text, "text")?)
            .map(PyTable::from_table)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The table as a desired-state file in TOML (defaults left out).
    fn to_toml(&self) -> PyResult<String> {
        Ok(self.read()?.to_toml())
    }

    /// The table as a desired-state file in JSON (defaults left out), pretty-printed.
    fn to_json(&self) -> PyResult<String> {
        Ok(self.read()?.to_json())
    }

    /// The table as Python data in the desired-state file schema (what `to_json()` writes).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.read()?;
        table_to_dict(py, &t)
    }

    /// The table as ipvsadm rules that `ipvsadm -R` and `Table.from_rules` read back as the
    /// same table: nothing lost (thresholds as `-x`/`-y`, the timeouts as a `--set` line).
    /// For exactly what `ipvsadm -Sn` prints, see `Client.save()`.
    fn to_rules(&self) -> PyResult<String> {
        Ok(self.read()?.to_rules())
    }

    /// The services' configuration, in identity order.
    #[getter]
    fn services(&self) -> PyResult<Vec<PyService>> {
        let list: Vec<Service> = self.read()?.entries().map(|e| e.service().clone()).collect();
        Ok(list.into_iter().map(|inner| PyService { inner }).collect())
    }

    /// The destinations of a service of the table, in address order; a KeyError if the
    /// table does not have the service.
    fn destinations(&self, service: &Bound<'_, PyService>) -> PyResult<Vec<PyDestination>> {
        let s = &service.get().inner;
        let list: Vec<Destination> = {
            let t = self.read()?;
            let e = t.entry(&s.id).ok_or_else(|| key_err(s))?;
            e.destinations().map(|d| d.destination.clone()).collect()
        };
        Ok(list.into_iter().map(|inner| PyDestination { inner }).collect())
    }

    /// Each service with its destinations, with what the kernel reported of them (for a
    /// table not read from the kernel: zero statistics, no connections).
    fn entries(&self) -> PyResult<Vec<(PyServiceStatus, Vec<PyDestinationStatus>)>> {
        let list: Vec<(ServiceStatus, Vec<DestinationStatus>)> =
            self.read()?.entries().map(|e| (e.status(), e.destinations().cloned().collect())).collect();
        Ok(list
            .into_iter()
            .map(|(s, d)| {
                (PyServiceStatus { inner: s }, d.into_iter().map(|inner| PyDestinationStatus { inner }).collect())
            })
            .collect())
    }

    /// How many destinations, over all services.
    #[getter]
    fn destination_count(&self) -> PyResult<usize> {
        Ok(self.read()?.destination_count())
    }

    /// The connection timeouts the table sets (None: it does not manage them; a table read
    /// from the kernel has the kernel's). Every timeout must be set (0 is not a value here).
    #[getter]
    fn timeouts(&self) -> PyResult<Option<PyTimeouts>> {
        Ok(self.read()?.timeouts().map(|inner| PyTimeouts { inner }))
    }

    #[setter]
    fn set_timeouts(&self, timeouts: Option<&Bound<'_, PyTimeouts>>) -> PyResult<()> {
        let timeouts = timeouts.map(|t| t.get().inner);
        let mut check = Table::new();
        check.set_timeouts(timeouts);
        check.validate().map_err(invalid)?;
        self.write()?.set_timeouts(timeouts);
        Ok(())
    }

    /// Adds a service, with its `destinations` if given; a ValueError (and the table
    /// unchanged) if the service is already in the table or a destination is invalid for it
    /// or named twice.
    #[pyo3(signature = (service, destinations=None))]
    fn add_service(
        &self,
        service: &Bound<'_, PyService>,
        destinations: Option<Vec<Bound<'_, PyDestination>>>,
    ) -> PyResult<()> {
        let s = &service.get().inner;
        let dests: Vec<Destination> = destinations.unwrap_or_default().iter().map(|d| d.get().inner.clone()).collect();
        let mut t = self.write()?;
        let entry = t.add_service(s.clone()).map_err(invalid)?;
        for d in dests {
            if let Err(e) = entry.add_destination(d) {
                t.remove_service(&s.id);
                return Err(invalid(e));
            }
        }
        Ok(())
    }

    /// Adds a destination to a service of the table; a KeyError if the table does not have
    /// the service, a ValueError if the destination is invalid for it or already there.
    fn add_destination(&self, service: &Bound<'_, PyService>, destination: &Bound<'_, PyDestination>) -> PyResult<()> {
        let s = &service.get().inner;
        let mut t = self.write()?;
        let entry = t.entry_mut(&s.id).ok_or_else(|| key_err(s))?;
        entry.add_destination(destination.get().inner.clone()).map_err(invalid)
    }

    /// Removes a service (with its destinations); whether the table had it.
    fn remove_service(&self, service: &Bound<'_, PyService>) -> PyResult<bool> {
        Ok(self.write()?.remove_service(&service.get().inner.id))
    }

    /// Removes a destination (by address and port) from a service; whether it was there.
    fn remove_destination(
        &self,
        service: &Bound<'_, PyService>,
        destination: &Bound<'_, PyDestination>,
    ) -> PyResult<bool> {
        let d = &destination.get().inner;
        let mut t = self.write()?;
        Ok(t.entry_mut(&service.get().inner.id).is_some_and(|e| e.remove_destination(&SocketAddr::new(d.addr, d.port))))
    }

    /// A copy (changing one leaves the other as it is).
    fn copy(&self) -> PyResult<Self> {
        Ok(PyTable::from_table(self.read()?.clone()))
    }

    fn __copy__(&self) -> PyResult<Self> {
        self.copy()
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.read()?.len())
    }

    /// Iterates over the services (as `services`).
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyList::new(py, self.services()?)?.try_iter()
    }

    fn __contains__(&self, service: &Bound<'_, PyAny>) -> PyResult<bool> {
        match service.cast::<PyService>() {
            Ok(s) => Ok(self.read()?.contains(&s.get().inner.id)),
            Err(_) => Ok(false),
        }
    }

    fn __richcmp__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let Ok(o) = other.cast::<PyTable>() else { return Ok(richcmp::<bool>(&true, other, None, op)) };
        let same = slf.is(o) || *slf.get().read()? == *o.get().read()?;
        Ok(richcmp(&same, other, Some(true), op))
    }

    fn __repr__(&self) -> PyResult<String> {
        let t = self.read()?;
        let (n, d) = (t.len(), t.destination_count());
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        Ok(format!("<ipvs.Table: {n} service{}, {d} destination{}>", plural(n), plural(d)))
    }
}
