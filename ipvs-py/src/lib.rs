//! Python bindings for ipvs-core: the native half (`ipvs._ipvs`) of the Python package `ipvs`.
//!
//! The model classes (`Service`, `Destination`, ...) are Python classes that hold the Rust
//! model values themselves: they are checked once, when built, and a client call hands the
//! value to the library without converting anything. The Python half
//! (`python/ipvs/__init__.py`) re-exports them and defines the exception classes.
#![deny(missing_docs)]

mod client;
mod convert;
mod model;
mod state;

use pyo3::prelude::*;

/// The native module `ipvs._ipvs`.
#[pymodule]
fn _ipvs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::PyClient>()?;
    m.add_class::<model::PyService>()?;
    m.add_class::<model::PyDestination>()?;
    m.add_class::<model::PyServiceStatus>()?;
    m.add_class::<model::PyDestinationStatus>()?;
    m.add_class::<model::PyStats>()?;
    m.add_class::<model::PyTimeouts>()?;
    m.add_class::<model::PyDaemon>()?;
    m.add_class::<model::PyInfo>()?;
    m.add_class::<state::PyTable>()?;
    m.add_class::<state::PyPlan>()?;
    m.add_class::<state::PyStep>()?;
    m.add_class::<state::PyDraining>()?;
    m.add_class::<state::PyApplyReport>()?;
    m.add_class::<state::PyFailure>()?;
    Ok(())
}
