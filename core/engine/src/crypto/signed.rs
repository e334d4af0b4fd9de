//! The sender's signature on a signed transaction, from the transaction's bytes alone, for
//! the common shape ([`crate::transaction::decode_common`]): what admission needs from a
//! submission before it reads any state (the fields, the hash wallets wait for, and whether
//! the signature over `seed("RawTransaction") ‖ raw` is valid).

use crate::hashing::HashValue;
use crate::transaction::{
    decode_common, signing_message, user_transaction_hash, CommonTransaction,
};

use super::{batch, ed25519};

/// A decoded submission and what its bytes say about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedTransaction<'a> {
    pub txn: CommonTransaction<'a>,
    /// `sha3(seed("Transaction") ‖ 00 ‖ signed)`.
    pub hash: HashValue,
    pub signature_valid: bool,
}

/// `data` as one whole common signed transaction, checked; None for any other shape or for
/// anything malformed (the Python decoder then answers, and the signature is checked apart).
pub fn check_signed_transaction(data: &[u8]) -> Option<CheckedTransaction<'_>> {
    let txn = decode_common(data, 0)?;
    if txn.end != data.len() {
        return None;
    }
    let message = signing_message(&data[txn.raw_start..txn.raw_end]);
    let signature_valid = ed25519::verify(&txn.public_key, &message, &txn.signature);
    Some(CheckedTransaction {
        hash: user_transaction_hash(data),
        signature_valid,
        txn,
    })
}

/// [`check_signed_transaction`] of each of `datas`, in input order, over the cores.
pub fn check_signed_transactions<'a>(datas: &[&'a [u8]]) -> Vec<Option<CheckedTransaction<'a>>> {
    batch::map_parallel(datas, |data| check_signed_transaction(data))
}
