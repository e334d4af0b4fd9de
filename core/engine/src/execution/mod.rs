//! The common payment, natively: `0x1::PaymentScripts::peer_to_peer_with_metadata<C>` as a
//! script function or as the equivalent Move script, through prologue, payload and epilogue
//! exactly as the Python framework (`framework/vm.py`, `payments.py`) runs it.
//!
//! The Python framework stays the specification and runs everything else: every other
//! payload, and every payment the native side declines ([`payment::Decline`]: the travel
//! rule, metadata signatures, resources that do not decode, overflows). A block mixes both
//! ([`block`]); `tests/unit/native/test_execution_diff.py` holds the outputs to the Python
//! path's byte for byte.

pub mod account;
pub mod block;
pub mod cache;
pub mod payment;
pub mod resources;
pub mod status;
#[cfg(test)]
pub(crate) mod tests;
