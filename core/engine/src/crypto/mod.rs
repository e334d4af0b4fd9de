//! Signatures on the per-payment path: strict Ed25519, MultiEd25519, and whole batches of
//! them verified in parallel.
//!
//! The rule is `libra.crypto.ed25519_strict.verify_signature` (libsodium's `crypto_sign_open`
//! plus `S < L`), which Diem's `verify_strict` also applies; [`ed25519`] states it check by
//! check and says which of them ed25519-dalek makes itself and which are added here.

pub mod batch;
pub mod ed25519;
pub mod multi_ed25519;
pub mod signed;
