//! `libra._core`: the native path, bound to Python.
//!
//! Every function runs inside [`guarded`]: a Rust panic becomes `libra._core.CoreError`
//! (a `RuntimeError`), never a `PanicException` that would end the node's process or
//! thread. Work on a whole batch releases the GIL.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::create_exception;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

create_exception!(
    _core,
    CoreError,
    PyRuntimeError,
    "An internal failure of the native core (a Rust panic, caught)."
);

/// Run `work`, turning a panic into `CoreError` with the panic's message.
pub(crate) fn guarded<T>(work: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(CoreError::new_err(format!(
                "native core panicked: {message}"
            )))
        }
    }
}

mod admission;
mod crypto;
mod execution;
mod storage;
mod transaction;
mod views;

/// Plain SHA3-256 of `data`.
#[pyfunction]
fn sha3_256<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guarded(|| Ok(PyBytes::new(py, &libra_engine::hashing::sha3_256(data))))
}

/// Panics inside the guard: lets the tests prove a panic is an error, not a crash.
#[pyfunction]
fn _panic_for_tests(message: &str) -> PyResult<()> {
    guarded(|| panic!("{message}"))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("CoreError", m.py().get_type::<CoreError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(sha3_256, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    admission::register(m)?;
    crypto::register(m)?;
    transaction::register(m)?;
    execution::register(m)?;
    views::register(m)?;
    storage::register(m)?;
    Ok(())
}
