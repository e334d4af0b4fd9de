//! The per-payment path of Libra in Python, in Rust.
//!
//! The Python framework (`src/libra/framework`) is the executable specification; every
//! function here must give byte-identical results to its Python counterpart, which the
//! differential tests under `tests/unit/native/` check.

pub mod admission;
pub mod bcs;
pub mod crypto;
pub mod execution;
pub mod hashing;
pub mod storage;
pub mod transaction;
pub mod views;
