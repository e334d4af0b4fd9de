//! The salts and placeholders of the store's hashes (`libra.crypto.merkle`).

use crate::hashing::HashValue;

use super::sponge::{hash_three, hash_with_seed};

/// An ASCII word padded with zeros to 32 bytes (Diem's placeholder hashes).
const fn literal(word: &[u8]) -> HashValue {
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < word.len() {
        out[i] = word[i];
        i += 1;
    }
    out
}

pub const SPARSE_MERKLE_PLACEHOLDER: HashValue = literal(b"SPARSE_MERKLE_PLACEHOLDER_HASH");
pub const ACCUMULATOR_PLACEHOLDER: HashValue = literal(b"ACCUMULATOR_PLACEHOLDER_HASH");

/// `hash_seed` of every type the store hashes.
pub struct Salts {
    pub sparse_merkle_internal: HashValue,
    pub sparse_merkle_leaf: HashValue,
    pub account_blob: HashValue,
    pub account_address: HashValue,
    pub contract_event: HashValue,
    pub transaction: HashValue,
    pub transaction_info: HashValue,
    pub transaction_accumulator: HashValue,
    pub event_accumulator: HashValue,
}

const fn hex(text: &str) -> HashValue {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a hex digit"),
        }
    }
    let bytes = text.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = digit(bytes[2 * i]) << 4 | digit(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

/// The salts as constants (each is `hash_seed(name)`, which the tests check): they are read
/// for every hash, so they are not computed at run time.
static SALTS: Salts = Salts {
    sparse_merkle_internal: hex("0b3ec0481bc00708b043a6dadff482da85a97a91da1ac1b729150f0f44bad4c6"),
    sparse_merkle_leaf: hex("bdf4c337447d4ffa292491644e4d26607f770eadb364a6b238fe0e19b2b87704"),
    account_blob: hex("63b65724525fa34fd86b801a5aafe550d407f7d453c5f0b827ef25552e199b84"),
    account_address: hex("35ed8f0fd857e92df9a96310620d5705c4351341b7781286d315ece819136bd3"),
    contract_event: hex("5198eac83647d6147831afb4df77a5dc0e98cbbd08df17296db256154e335aa0"),
    transaction: hex("a57f37b6effd9fca550b609f55ac4cabc6e58784f0e1a99877bfef3c9840ba79"),
    transaction_info: hex("5716f98fb407923f154b72281e92adfeb3f18afdfe84efc1c72ceddc8234aef1"),
    transaction_accumulator: hex(
        "f113eccd4bfbb5050e49fcac4b812912a8b83c3b32bd3c61917ffc8cab48f420",
    ),
    event_accumulator: hex("f33b5e61efab7cc2fb11adff392556c4e7f8113fcee16a52b6c31e0b19fdd545"),
};

pub fn salts() -> &'static Salts {
    &SALTS
}

/// `sha3(seed ‖ left ‖ right)`: an internal node of a tree salted with `seed`.
pub fn hash_pair(seed: &HashValue, left: &HashValue, right: &HashValue) -> HashValue {
    hash_three(seed, left, right)
}

/// `smt_leaf_hash`: a sparse Merkle leaf over its key and value hash.
pub fn leaf_hash(key: &HashValue, value_hash: &HashValue) -> HashValue {
    hash_pair(&salts().sparse_merkle_leaf, key, value_hash)
}

/// `hash_account_key`: the state-tree key of an account address.
pub fn account_key(address: &[u8]) -> HashValue {
    hash_with_seed(&salts().account_address, address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_padded_words() {
        assert_eq!(
            &SPARSE_MERKLE_PLACEHOLDER[..30],
            b"SPARSE_MERKLE_PLACEHOLDER_HASH"
        );
        assert_eq!(SPARSE_MERKLE_PLACEHOLDER[30..], [0, 0]);
        assert_eq!(
            &ACCUMULATOR_PLACEHOLDER[..28],
            b"ACCUMULATOR_PLACEHOLDER_HASH"
        );
    }

    #[test]
    fn the_salts_are_the_seeds_of_their_types() {
        use crate::hashing::hash_seed;
        let s = salts();
        assert_eq!(s.sparse_merkle_internal, hash_seed("SparseMerkleInternal"));
        assert_eq!(s.sparse_merkle_leaf, hash_seed("SparseMerkleLeafNode"));
        assert_eq!(s.account_blob, hash_seed("AccountStateBlob"));
        assert_eq!(s.account_address, hash_seed("AccountAddress"));
        assert_eq!(s.contract_event, hash_seed("ContractEvent"));
        assert_eq!(s.transaction, hash_seed("Transaction"));
        assert_eq!(s.transaction_info, hash_seed("TransactionInfo"));
        assert_eq!(
            s.transaction_accumulator,
            hash_seed("TransactionAccumulator")
        );
        assert_eq!(s.event_accumulator, hash_seed("EventAccumulator"));
    }

    #[test]
    fn a_pair_is_seed_then_left_then_right() {
        let seed = salts().sparse_merkle_internal;
        let mut joined = seed.to_vec();
        joined.extend_from_slice(&[1; 32]);
        joined.extend_from_slice(&[2; 32]);
        assert_eq!(
            hash_pair(&seed, &[1; 32], &[2; 32]),
            crate::hashing::sha3_256(&joined)
        );
    }
}
