//! Bindings of `libra_engine::execution`: the native block of payments and the ledger's
//! cache of decoded accounts (used by `libra.execution.native_block`).

use std::sync::{Arc, Mutex, MutexGuard};

use libra_engine::execution::account::Address;
use libra_engine::execution::block::{BlockExecutor, Output};
use libra_engine::execution::cache::AccountCache;
use libra_engine::execution::payment;
use libra_engine::execution::status::{Kind, STATUSES};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::guarded;

fn address(data: &[u8]) -> PyResult<Address> {
    data.try_into().map_err(|_| {
        PyValueError::new_err(format!(
            "an account address is 16 bytes, got {}",
            data.len()
        ))
    })
}

pub(crate) fn lock(cache: &Mutex<AccountCache>) -> MutexGuard<'_, AccountCache> {
    // a panic while holding the lock left a cache that is still consistent (entries are
    // replaced whole), so a poisoned lock is simply taken over
    cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Accounts decoded by earlier blocks, found by address and exact blob (the ledger keeps one).
#[pyclass(name = "AccountCache", module = "libra._core", frozen)]
pub struct PyAccountCache {
    pub(crate) inner: Arc<Mutex<AccountCache>>,
}

#[pymethods]
impl PyAccountCache {
    #[new]
    #[pyo3(signature = (capacity = 50_000))]
    fn new(capacity: usize) -> PyResult<Self> {
        guarded(|| {
            Ok(PyAccountCache {
                inner: Arc::new(Mutex::new(AccountCache::new(capacity))),
            })
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        guarded(|| Ok(lock(&self.inner).len()))
    }

    /// `(address, [(path, value), ...])` of the account remembered with exactly `blob`
    /// (resources in blob order), or None.
    fn find_blob<'py>(
        &self,
        py: Python<'py>,
        blob: &[u8],
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        guarded(|| {
            let Some((address, account)) = lock(&self.inner).find_blob(blob) else {
                return Ok(None);
            };
            let resources = PyList::empty(py);
            for (path, value) in account.resources() {
                resources.append((PyBytes::new(py, path), PyBytes::new(py, value)))?;
            }
            Ok(Some(PyTuple::new(
                py,
                [PyBytes::new(py, &address).into_any(), resources.into_any()],
            )?))
        })
    }
}

/// One block's native state and run of payments (see `libra_engine::execution::block`).
#[pyclass(name = "NativeBlock", module = "libra._core")]
pub struct PyNativeBlock {
    inner: BlockExecutor,
    cache: Arc<Mutex<AccountCache>>,
}

#[pymethods]
impl PyNativeBlock {
    #[new]
    fn new(cache: &PyAccountCache, chain_id: u8) -> PyResult<Self> {
        guarded(|| {
            let mut inner = BlockExecutor::new(chain_id);
            inner.borrow_auth_keys(&mut lock(&cache.inner));
            Ok(PyNativeBlock {
                inner,
                cache: cache.inner.clone(),
            })
        })
    }

    /// Append the block's transactions: each its signed BCS (None: the Python framework runs
    /// it), whether its signature is valid and its BCS size (what the size bound checks).
    /// Returns the addresses to load, in order.
    fn add_transactions<'py>(
        &mut self,
        py: Python<'py>,
        transactions: Vec<Option<Bound<'py, PyBytes>>>,
        valid: Vec<bool>,
        sizes: Vec<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        guarded(|| {
            if transactions.len() != valid.len() || transactions.len() != sizes.len() {
                return Err(PyValueError::new_err(
                    "one validity flag and size per transaction",
                ));
            }
            for ((txn, ok), size) in transactions.iter().zip(valid).zip(sizes) {
                self.inner
                    .add(txn.as_ref().map(|data| data.as_bytes().to_vec()), ok, size);
            }
            let inner = &mut self.inner;
            let needed = py.detach(|| inner.needed());
            PyList::new(py, needed.iter().map(|address| PyBytes::new(py, address)))
        })
    }

    /// Load accounts of the committed state: `(address, blob or None)` pairs.
    fn load(
        &mut self,
        accounts: Vec<(Bound<'_, PyBytes>, Option<Bound<'_, PyBytes>>)>,
    ) -> PyResult<()> {
        guarded(|| {
            let cache = lock(&self.cache);
            for (key, blob) in &accounts {
                self.inner.load(
                    address(key.as_bytes())?,
                    blob.as_ref().map(|b| b.as_bytes()),
                    &cache,
                );
            }
            Ok(())
        })
    }

    /// The blobs a Python transaction left (its output's `account_blobs`).
    fn import_blobs(&mut self, blobs: &Bound<'_, PyDict>) -> PyResult<()> {
        guarded(|| {
            let cache = lock(&self.cache);
            for (key, blob) in blobs.iter() {
                let key = key.cast_into::<PyBytes>()?;
                let blob: Option<Bound<'_, PyBytes>> = blob.extract()?;
                self.inner.import(
                    address(key.as_bytes())?,
                    blob.as_ref().map(|b| b.as_bytes()),
                    &cache,
                );
            }
            Ok(())
        })
    }

    /// `(known, blob)`: the account's current blob for the Python state (known False: read
    /// the committed state instead).
    fn current_blob<'py>(
        &mut self,
        py: Python<'py>,
        key: &[u8],
    ) -> PyResult<(bool, Option<Bound<'py, PyBytes>>)> {
        guarded(|| match self.inner.current_blob(address(key)?) {
            None => Ok((false, None)),
            Some(blob) => Ok((true, blob.map(|blob| PyBytes::new(py, blob)))),
        })
    }

    /// Native writes the Python state has not seen: `(address, path, value or None)`.
    fn take_sync<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guarded(|| {
            let writes = self.inner.take_sync();
            let out = PyList::empty(py);
            for (address, path, value) in writes {
                out.append((
                    PyBytes::new(py, &address),
                    PyBytes::new(py, &path),
                    value.map(|value| PyBytes::new(py, &value)),
                ))?;
            }
            Ok(out)
        })
    }

    /// Run natively from `start` (without the GIL); the index of the first transaction the
    /// native side leaves to the Python framework.
    fn run(&mut self, py: Python<'_>, start: usize) -> PyResult<usize> {
        guarded(|| {
            let inner = &mut self.inner;
            Ok(py.detach(|| inner.run(start)))
        })
    }

    /// The outputs of transactions `start..stop` (all natively run), taken out of the block:
    /// `make_kept(output, gas_used, status)` of a kept one (`output` a [`PyNativeOutput`]),
    /// `make_discarded(status)` of a discarded one; `status` is `statuses[index]`.
    fn take_outputs<'py>(
        &mut self,
        py: Python<'py>,
        start: usize,
        stop: usize,
        statuses: &Bound<'py, PyTuple>,
        make_kept: &Bound<'py, PyAny>,
        make_discarded: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        guarded(|| {
            let out = PyList::empty(py);
            for index in start..stop {
                let Some(output) = self.inner.take_output(index) else {
                    return Err(PyValueError::new_err(format!(
                        "transaction {index} has no native output"
                    )));
                };
                let status = statuses.get_item(output.status as usize)?;
                if output.is_discarded() {
                    out.append(make_discarded.call1((status,))?)?;
                    continue;
                }
                let gas_used = output.gas_used;
                let native = Bound::new(py, PyNativeOutput { inner: output })?;
                out.append(make_kept.call1((native, gas_used, status))?)?;
            }
            Ok(out)
        })
    }

    /// The new blob of every account the block wrote, in address order: `(addresses, blobs)`
    /// (a blob None: no state left); they are left in the cache for the next block.
    fn finish<'py>(
        &mut self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        guarded(|| {
            let changed = self.inner.finish(&mut lock(&self.cache));
            let addresses = PyList::new(
                py,
                changed.iter().map(|(address, _)| PyBytes::new(py, address)),
            )?;
            let blobs = PyList::new(
                py,
                changed
                    .iter()
                    .map(|(_, blob)| blob.as_ref().map(|blob| PyBytes::new(py, blob))),
            )?;
            Ok((addresses, blobs))
        })
    }
}

/// A natively run transaction's output, kept as the core made it (not tracked by Python's
/// garbage collector): its parts are made into Python objects when asked for.
#[pyclass(name = "NativeOutput", module = "libra._core", frozen)]
pub struct PyNativeOutput {
    inner: Output,
}

#[pymethods]
impl PyNativeOutput {
    /// The write set's BCS.
    fn write_set_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.write_set)
    }

    /// `make(key, sequence_number, event_bytes)` of each event, as a tuple (`make=tuple`
    /// gives the records themselves).
    #[pyo3(signature = (make = None))]
    fn events<'py>(
        &self,
        py: Python<'py>,
        make: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        guarded(|| {
            let mut items = Vec::with_capacity(self.inner.events.len());
            for event in &self.inner.events {
                let key = PyBytes::new(py, &event.key);
                let data = PyBytes::new(py, &event.bytes);
                items.push(match make {
                    Some(make) => make.call1((key, event.sequence_number, data))?,
                    None => PyTuple::new(
                        py,
                        [
                            key.into_any(),
                            event.sequence_number.into_pyobject(py)?.into_any(),
                            data.into_any(),
                        ],
                    )?
                    .into_any(),
                });
            }
            PyTuple::new(py, items)
        })
    }

    /// The blob of each account the write set touched after it: address -> blob or None.
    fn blobs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guarded(|| {
            let blobs = PyDict::new(py);
            for (address, blob) in &self.inner.blobs {
                blobs.set_item(
                    PyBytes::new(py, address),
                    blob.as_ref().map(|b| PyBytes::new(py, b)),
                )?;
            }
            Ok(blobs)
        })
    }
}

/// Every native status by index: `(kind, name, module, code)`, kind one of `executed`,
/// `out_of_gas`, `miscellaneous_error`, `move_abort`, `discarded`.
#[pyfunction]
fn execution_statuses<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
    guarded(|| {
        let out = PyList::empty(py);
        for info in STATUSES {
            let kind = match info.kind {
                Kind::Executed => "executed",
                Kind::OutOfGas => "out_of_gas",
                Kind::MiscellaneousError => "miscellaneous_error",
                Kind::MoveAbort => "move_abort",
                Kind::Discarded => "discarded",
            };
            out.append((kind, info.name, info.module, info.code))?;
        }
        Ok(out)
    })
}

/// The framework constants the native payment uses (a test holds them to the framework's).
#[pyfunction]
fn execution_constants<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
    guarded(|| {
        let out = PyDict::new(py);
        out.set_item(
            "MAX_TRANSACTION_SIZE_IN_BYTES",
            payment::MAX_TRANSACTION_SIZE_IN_BYTES,
        )?;
        out.set_item("MAX_GAS_UNITS", payment::MAX_GAS_UNITS)?;
        out.set_item(
            "MIN_TRANSACTION_GAS_UNITS",
            payment::MIN_TRANSACTION_GAS_UNITS,
        )?;
        out.set_item("MAX_PRICE_PER_GAS_UNIT", payment::MAX_PRICE_PER_GAS_UNIT)?;
        out.set_item("MICROS_PER_SECOND", payment::MICROS_PER_SECOND)?;
        out.set_item("PAYMENT_GAS_UNITS", payment::PAYMENT_GAS_UNITS)?;
        out.set_item(
            "PAYMENT_SCRIPT_HASH",
            PyBytes::new(py, &payment::PAYMENT_SCRIPT_HASH),
        )?;
        Ok(out)
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAccountCache>()?;
    m.add_class::<PyNativeBlock>()?;
    m.add_class::<PyNativeOutput>()?;
    m.add_function(wrap_pyfunction!(execution_statuses, m)?)?;
    m.add_function(wrap_pyfunction!(execution_constants, m)?)?;
    Ok(())
}
