//! Bindings of `libra_engine::crypto`: strict Ed25519 and MultiEd25519 verification, one at a
//! time or a whole batch at once.
//!
//! A single check keeps the GIL: it takes tens of microseconds, and a thread that releases the
//! GIL for that long waits up to the interpreter's switch interval (5 ms) to get it back while
//! another thread runs Python (the event loop would stall once per check). A batch releases
//! the GIL and spreads its items over rayon's threads, which never touch Python objects: the
//! bytes are borrowed from objects this call holds references to, so they outlive the work.

use libra_engine::crypto::batch::{self, Item, Scheme};
use libra_engine::crypto::signed::check_signed_transactions as check_all;
use libra_engine::crypto::{ed25519, multi_ed25519};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList};

use crate::guarded;

/// Strict Ed25519 verification, exactly as `libra.crypto.ed25519_strict.verify_signature`.
#[pyfunction]
fn ed25519_verify(
    public_key: PyBackedBytes,
    message: PyBackedBytes,
    signature: PyBackedBytes,
) -> PyResult<bool> {
    guarded(|| Ok(ed25519::verify(&public_key, &message, &signature)))
}

/// True iff `public_key` is a strict Ed25519 public key (`check_public_key_bytes` accepts it).
#[pyfunction]
fn ed25519_is_strict_public_key(public_key: &[u8]) -> PyResult<bool> {
    guarded(|| Ok(ed25519::is_strict_public_key(public_key)))
}

/// MultiEd25519 verification of raw key and signature bytes; false for bytes that do not parse.
#[pyfunction]
fn multi_ed25519_verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> PyResult<bool> {
    guarded(|| Ok(multi_ed25519::verify(public_key, message, signature)))
}

fn scheme_of(variant: u8) -> PyResult<Scheme> {
    match variant {
        0 => Ok(Scheme::Ed25519),
        1 => Ok(Scheme::MultiEd25519),
        _ => Err(PyValueError::new_err(format!(
            "signature scheme must be 0 (Ed25519) or 1 (MultiEd25519), got {variant}"
        ))),
    }
}

type PyItem<'py> = (
    u8,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
);

/// The validity of each `(scheme, public_key, message, signature)`, in order; scheme 0 is
/// Ed25519, 1 MultiEd25519 (the authenticator variants). `message_prefix` is put before every
/// message (e.g. `seed("RawTransaction")`, so that callers pass raw transactions as they are).
/// The GIL is released while the items are checked on all cores.
#[pyfunction]
#[pyo3(signature = (items, message_prefix = None))]
fn verify_signatures(
    py: Python<'_>,
    items: Vec<PyItem<'_>>,
    message_prefix: Option<&[u8]>,
) -> PyResult<Vec<bool>> {
    guarded(|| {
        let schemes = items
            .iter()
            .map(|(variant, ..)| scheme_of(*variant))
            .collect::<PyResult<Vec<_>>>()?;
        let prefix = message_prefix.unwrap_or_default();
        let messages: Vec<Vec<u8>> = if prefix.is_empty() {
            Vec::new()
        } else {
            items
                .iter()
                .map(|(_, _, message, _)| [prefix, message.as_bytes()].concat())
                .collect()
        };
        let borrowed: Vec<Item<'_>> = items
            .iter()
            .zip(&schemes)
            .enumerate()
            .map(|(i, ((_, key, message, signature), scheme))| {
                let message = if prefix.is_empty() {
                    message.as_bytes()
                } else {
                    &messages[i][..]
                };
                (*scheme, key.as_bytes(), message, signature.as_bytes())
            })
            .collect();
        Ok(py.detach(|| batch::verify_all(&borrowed)))
    })
}

/// Each of `datas` as a whole common signed transaction (`decode_common_transaction`'s shape),
/// checked on all cores with the GIL released: `(hash, signature_valid)`, or None when it has
/// another shape or is malformed (the Python decoder then answers, and the signature is checked
/// apart).
#[pyfunction]
fn check_signed_transactions<'py>(
    py: Python<'py>,
    datas: Vec<Bound<'py, PyBytes>>,
) -> PyResult<Bound<'py, PyList>> {
    guarded(|| {
        let slices: Vec<&[u8]> = datas.iter().map(|data| data.as_bytes()).collect();
        let checked = py.detach(|| check_all(&slices));
        let out = PyList::empty(py);
        for item in &checked {
            match item {
                None => out.append(py.None())?,
                Some(checked) => {
                    out.append((PyBytes::new(py, &checked.hash), checked.signature_valid))?
                }
            }
        }
        Ok(out)
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ed25519_verify, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_is_strict_public_key, m)?)?;
    m.add_function(wrap_pyfunction!(multi_ed25519_verify, m)?)?;
    m.add_function(wrap_pyfunction!(verify_signatures, m)?)?;
    m.add_function(wrap_pyfunction!(check_signed_transactions, m)?)?;
    Ok(())
}
