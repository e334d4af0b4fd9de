//! Bindings of `libra_engine::admission`: mempool admission's prologue of the common payment
//! (used by `libra.mempool.admission`).

use libra_engine::admission::{AdmissionChecker, Committed};
use libra_engine::execution::cache::AccountCache;
use libra_engine::execution::status;
use pyo3::prelude::*;
use std::sync::{Mutex, MutexGuard};

use crate::execution::{lock, PyAccountCache};
use crate::guarded;

/// `check_admission` of common payments against committed state, for one node's pool.
#[pyclass(name = "AdmissionChecker", module = "libra._core", frozen)]
pub struct PyAdmissionChecker {
    /// (A mutex makes it shareable between threads; checks take it one at a time.)
    inner: Mutex<AdmissionChecker>,
    /// Used when the caller has no ledger cache to lend (it then stays empty).
    empty: AccountCache,
}

#[pymethods]
impl PyAdmissionChecker {
    #[new]
    fn new(chain_id: u8) -> PyResult<Self> {
        guarded(|| {
            Ok(PyAdmissionChecker {
                inner: Mutex::new(AdmissionChecker::new(chain_id)),
                empty: AccountCache::new(4),
            })
        })
    }

    #[getter]
    fn chain_id(&self) -> u8 {
        self.checker().chain_id()
    }

    /// `(failure, account_sequence_number)` as `check_admission` gives them for the signed
    /// transaction `data` (its length is the size checked) at the ledger time `now_usecs`,
    /// given the committed blobs of Diem Root, Treasury Compliance and the sender (None: no
    /// state); accounts are looked up in `cache` (the ledger's) by exact blob. None when the
    /// framework must answer: not a common payment, or state that does not decode.
    #[pyo3(signature = (cache, data, now_usecs, diem_root, treasury_compliance, sender))]
    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        cache: Option<&PyAccountCache>,
        data: &[u8],
        now_usecs: u64,
        diem_root: Option<&[u8]>,
        treasury_compliance: Option<&[u8]>,
        sender: Option<&[u8]>,
    ) -> PyResult<Option<(Option<&'static str>, Option<u64>)>> {
        guarded(|| {
            let committed = Committed {
                diem_root,
                treasury_compliance,
                sender,
            };
            let mut checker = self.checker();
            let verdict = match cache {
                Some(cache) => checker.check(data, now_usecs, committed, &lock(&cache.inner)),
                None => checker.check(data, now_usecs, committed, &self.empty),
            };
            Ok(verdict.ok().map(|verdict| {
                (
                    verdict.failure.map(|failure| status::info(failure).name),
                    verdict.account_sequence_number,
                )
            }))
        })
    }
}

impl PyAdmissionChecker {
    fn checker(&self) -> MutexGuard<'_, AdmissionChecker> {
        self.inner.lock().unwrap_or_else(|poisoned| {
            // a check panicked half way: start again from nothing kept
            let mut checker = poisoned.into_inner();
            *checker = AdmissionChecker::new(checker.chain_id());
            self.inner.clear_poison();
            checker
        })
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAdmissionChecker>()?;
    Ok(())
}
