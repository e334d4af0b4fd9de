//! Domain-separated SHA3-256, as `libra.crypto.hashing` (diem-protocol.md §7).

use sha3::{Digest, Sha3_256};

pub type HashValue = [u8; 32];

/// Plain SHA3-256.
pub fn sha3_256(data: &[u8]) -> HashValue {
    Sha3_256::digest(data).into()
}

/// `sha3_256(b"DIEM::" ‖ type_name)`: the salt of a type's hashes.
pub fn hash_seed(type_name: &str) -> HashValue {
    let mut hasher = Sha3_256::new();
    hasher.update(b"DIEM::");
    hasher.update(type_name.as_bytes());
    hasher.finalize().into()
}

/// SHA3-256 of `data` under the salt `seed`.
pub fn hash_with_seed(seed: &HashValue, data: &[u8]) -> HashValue {
    let mut hasher = Sha3_256::new();
    hasher.update(seed);
    hasher.update(data);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha3_of_empty_input_is_the_published_vector() {
        assert_eq!(
            hex(&sha3_256(b"")),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
        );
    }

    #[test]
    fn salted_hash_is_seed_then_data() {
        let seed = hash_seed("Transaction");
        let mut joined = seed.to_vec();
        joined.extend_from_slice(b"abc");
        assert_eq!(hash_with_seed(&seed, b"abc"), sha3_256(&joined));
        assert_ne!(hash_seed("Transaction"), hash_seed("TransactionInfo"));
    }
}
