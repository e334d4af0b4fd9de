//! Bindings of `libra_engine::views`.

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::guarded;

/// Diem's `TransactionView` JSON text of the stored transaction `data` at `version` with its
/// stored `TransactionInfo` BCS `info`, exactly as the Python views encode it, or None when
/// the Python views must answer (other shapes and statuses).
#[pyfunction]
fn transaction_view_json<'py>(
    py: Python<'py>,
    version: u64,
    data: &[u8],
    info: &[u8],
) -> PyResult<Option<Bound<'py, PyString>>> {
    guarded(|| {
        Ok(
            libra_engine::views::transaction_view_json(version, data, info).map(|text| {
                // the renderer writes ASCII only
                PyString::new(py, std::str::from_utf8(&text).expect("ASCII JSON"))
            }),
        )
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(transaction_view_json, m)?)?;
    Ok(())
}
