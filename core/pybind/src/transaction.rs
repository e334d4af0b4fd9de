//! Bindings of `libra_engine::transaction`.

use libra_engine::transaction::{
    decode_common, decode_common_script, user_transaction_hash, ScriptArg, TypeArg,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::guarded;

/// The common signed transaction at `data[pos:]` as a tuple of its fields, or None when it
/// has another shape or is malformed (the Python reference decoder then answers):
/// `(sender, sequence_number, module_address, module_name, function, ty_args, args,
///   max_gas_amount, gas_unit_price, gas_currency_code, expiration_timestamp_secs, chain_id,
///   public_key, signature, raw_start, raw_end, end)`; a type argument is its primitive
/// variant (an int) or `(address, module, name)`.
#[pyfunction]
fn decode_common_transaction<'py>(
    py: Python<'py>,
    data: &[u8],
    pos: usize,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    guarded(|| {
        if pos > data.len() {
            return Ok(None);
        }
        let Some(txn) = decode_common(data, pos) else {
            return Ok(None);
        };
        let ty_args = PyList::empty(py);
        for arg in &txn.ty_args {
            match arg {
                TypeArg::Primitive(variant) => ty_args.append(*variant)?,
                TypeArg::Struct {
                    address,
                    module,
                    name,
                } => ty_args.append((PyBytes::new(py, address), *module, *name))?,
            }
        }
        let args = PyList::new(py, txn.args.iter().map(|arg| PyBytes::new(py, arg)))?;
        let fields: Vec<Bound<'py, PyAny>> = vec![
            PyBytes::new(py, &txn.sender).into_any(),
            txn.sequence_number.into_pyobject(py)?.into_any(),
            PyBytes::new(py, &txn.module_address).into_any(),
            txn.module_name.into_pyobject(py)?.into_any(),
            txn.function.into_pyobject(py)?.into_any(),
            ty_args.into_any(),
            args.into_any(),
            txn.max_gas_amount.into_pyobject(py)?.into_any(),
            txn.gas_unit_price.into_pyobject(py)?.into_any(),
            txn.gas_currency_code.into_pyobject(py)?.into_any(),
            txn.expiration_timestamp_secs.into_pyobject(py)?.into_any(),
            txn.chain_id.into_pyobject(py)?.into_any(),
            PyBytes::new(py, &txn.public_key).into_any(),
            PyBytes::new(py, &txn.signature).into_any(),
            txn.raw_start.into_pyobject(py)?.into_any(),
            txn.raw_end.into_pyobject(py)?.into_any(),
            txn.end.into_pyobject(py)?.into_any(),
        ];
        Ok(Some(PyTuple::new(py, fields)?))
    })
}

/// The signed Move script transaction of the common shape at `data[pos:]` as a tuple of its
/// fields, or None (the reference decoder then answers):
/// `(sender, sequence_number, code, ty_args, args, max_gas_amount, gas_unit_price,
///   gas_currency_code, expiration_timestamp_secs, chain_id, public_key, signature, raw_start,
///   raw_end, end)`; a type argument as in `decode_common_transaction`, an argument
/// `(variant, value)` with the value an int, bytes or bool.
#[pyfunction]
fn decode_common_script_transaction<'py>(
    py: Python<'py>,
    data: &[u8],
    pos: usize,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    guarded(|| {
        if pos > data.len() {
            return Ok(None);
        }
        let Some(txn) = decode_common_script(data, pos) else {
            return Ok(None);
        };
        let ty_args = type_args(py, &txn.ty_args)?;
        let args = PyList::empty(py);
        for arg in &txn.args {
            let item: Bound<'py, PyAny> = match arg {
                ScriptArg::U8(value) => (0u8, *value).into_pyobject(py)?.into_any(),
                ScriptArg::U64(value) => (1u8, *value).into_pyobject(py)?.into_any(),
                ScriptArg::U128(value) => (2u8, *value).into_pyobject(py)?.into_any(),
                ScriptArg::Address(value) => {
                    (3u8, PyBytes::new(py, value)).into_pyobject(py)?.into_any()
                }
                ScriptArg::U8Vector(value) => {
                    (4u8, PyBytes::new(py, value)).into_pyobject(py)?.into_any()
                }
                ScriptArg::Bool(value) => (5u8, *value).into_pyobject(py)?.into_any(),
            };
            args.append(item)?;
        }
        let fields: Vec<Bound<'py, PyAny>> = vec![
            PyBytes::new(py, &txn.sender).into_any(),
            txn.sequence_number.into_pyobject(py)?.into_any(),
            PyBytes::new(py, txn.code).into_any(),
            ty_args.into_any(),
            args.into_any(),
            txn.max_gas_amount.into_pyobject(py)?.into_any(),
            txn.gas_unit_price.into_pyobject(py)?.into_any(),
            txn.gas_currency_code.into_pyobject(py)?.into_any(),
            txn.expiration_timestamp_secs.into_pyobject(py)?.into_any(),
            txn.chain_id.into_pyobject(py)?.into_any(),
            PyBytes::new(py, &txn.public_key).into_any(),
            PyBytes::new(py, &txn.signature).into_any(),
            txn.raw_start.into_pyobject(py)?.into_any(),
            txn.raw_end.into_pyobject(py)?.into_any(),
            txn.end.into_pyobject(py)?.into_any(),
        ];
        Ok(Some(PyTuple::new(py, fields)?))
    })
}

fn type_args<'py>(py: Python<'py>, args: &[TypeArg<'_>]) -> PyResult<Bound<'py, PyList>> {
    let ty_args = PyList::empty(py);
    for arg in args {
        match arg {
            TypeArg::Primitive(variant) => ty_args.append(*variant)?,
            TypeArg::Struct {
                address,
                module,
                name,
            } => ty_args.append((PyBytes::new(py, address), *module, *name))?,
        }
    }
    Ok(ty_args)
}

/// `sha3(seed("Transaction") ‖ 00 ‖ signed)`: the hash wallets wait for.
#[pyfunction(name = "user_transaction_hash")]
fn py_user_transaction_hash<'py>(py: Python<'py>, signed: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    guarded(|| Ok(PyBytes::new(py, &user_transaction_hash(signed))))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_common_transaction, m)?)?;
    m.add_function(wrap_pyfunction!(decode_common_script_transaction, m)?)?;
    m.add_function(wrap_pyfunction!(py_user_transaction_hash, m)?)?;
    Ok(())
}
