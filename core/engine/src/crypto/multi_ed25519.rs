//! MultiEd25519 verification with the answers of `libra.crypto.transaction_signature` for a
//! MultiEd25519 authenticator (`libra.crypto.multi_ed25519`): any bytes that do not parse give
//! false, as a wrong signature does.
//!
//! * public key `pk_1 ‖ … ‖ pk_n ‖ threshold`: `1 ≤ n ≤ 32`, every `pk_i` strict
//!   ([`super::ed25519::is_strict_public_key`]), `1 ≤ threshold ≤ n`;
//! * signature `sig_a ‖ sig_b ‖ … ‖ bitmap`: `k ≤ 32` signatures of 64 bytes, each with
//!   `S < L`, then a 4-byte bitmap (bit `i` counted from the most significant bit of byte 0)
//!   with exactly `k` bits set;
//! * valid iff at least one bit is set, the highest set bit names an existing key, at least
//!   `threshold` bits are set, and every carried signature verifies under the key its bit
//!   names (all are verified, none skipped).

use super::ed25519::{self, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH};

pub const MAX_NUM_OF_KEYS: usize = 32;
pub const BITMAP_NUM_OF_BYTES: usize = 4;

/// The keys and threshold of a MultiEd25519 public key, or None when it does not parse.
fn parse_public_key(data: &[u8]) -> Option<(Vec<&[u8]>, usize)> {
    let count = data.len() / PUBLIC_KEY_LENGTH;
    if data.len() % PUBLIC_KEY_LENGTH != 1 || !(1..=MAX_NUM_OF_KEYS).contains(&count) {
        return None;
    }
    let keys: Vec<&[u8]> = data[..count * PUBLIC_KEY_LENGTH]
        .chunks_exact(PUBLIC_KEY_LENGTH)
        .collect();
    if !keys.iter().all(|key| ed25519::is_strict_public_key(key)) {
        return None;
    }
    let threshold = data[data.len() - 1] as usize;
    (1..=count)
        .contains(&threshold)
        .then_some((keys, threshold))
}

/// The signatures and the signer indices (increasing) of a MultiEd25519 signature, or None.
fn parse_signature(data: &[u8]) -> Option<(Vec<&[u8]>, Vec<usize>)> {
    let body = data.len().checked_sub(BITMAP_NUM_OF_BYTES)?;
    let count = body / SIGNATURE_LENGTH;
    if body % SIGNATURE_LENGTH != 0 || count > MAX_NUM_OF_KEYS {
        return None;
    }
    let signatures: Vec<&[u8]> = data[..body].chunks_exact(SIGNATURE_LENGTH).collect();
    let canonical = signatures.iter().all(|signature| {
        let s: &[u8; 32] = signature[32..].try_into().expect("32 bytes");
        ed25519::is_canonical_scalar(s)
    });
    if !canonical {
        return None;
    }
    let bitmap = &data[body..];
    let indices: Vec<usize> = (0..8 * BITMAP_NUM_OF_BYTES)
        .filter(|i| bitmap[i / 8] & (0x80 >> (i % 8)) != 0)
        .collect();
    (indices.len() == count).then_some((signatures, indices))
}

/// True iff `signature` carries at least `threshold` valid signatures of `message` (module docs).
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Some((keys, threshold)) = parse_public_key(public_key) else {
        return false;
    };
    let Some((signatures, indices)) = parse_signature(signature) else {
        return false;
    };
    match indices.last() {
        Some(&last) if last < keys.len() && indices.len() >= threshold => indices
            .iter()
            .zip(&signatures)
            .all(|(&index, signature)| ed25519::verify(keys[index], message, signature)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn keys(n: u8) -> Vec<SigningKey> {
        (0..n)
            .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
            .collect()
    }

    fn public(keys: &[SigningKey], threshold: u8) -> Vec<u8> {
        let mut out: Vec<u8> = keys
            .iter()
            .flat_map(|k| k.verifying_key().to_bytes())
            .collect();
        out.push(threshold);
        out
    }

    fn sign(keys: &[SigningKey], indices: &[usize], message: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut bitmap = [0u8; 4];
        for &i in indices {
            out.extend_from_slice(&keys[i].sign(message).to_bytes());
            bitmap[i / 8] |= 0x80 >> (i % 8);
        }
        out.extend_from_slice(&bitmap);
        out
    }

    #[test]
    fn two_of_three() {
        let ks = keys(3);
        let pk = public(&ks, 2);
        assert!(verify(&pk, b"m", &sign(&ks, &[0, 2], b"m")));
        assert!(verify(&pk, b"m", &sign(&ks, &[0, 1, 2], b"m")));
        assert!(!verify(&pk, b"m", &sign(&ks, &[1], b"m"))); // below the threshold
        assert!(!verify(&pk, b"x", &sign(&ks, &[0, 2], b"m")));
        assert!(!verify(&public(&ks, 0), b"m", &sign(&ks, &[0, 2], b"m")));
        assert!(!verify(&public(&ks, 4), b"m", &sign(&ks, &[0, 1, 2], b"m")));
    }

    #[test]
    fn a_bit_past_the_keys_or_a_bitmap_that_miscounts_is_refused() {
        let ks = keys(4);
        let pk = public(&ks[..3], 1);
        assert!(!verify(&pk, b"m", &sign(&ks, &[3], b"m")));
        let mut signature = sign(&ks, &[0], b"m");
        let last = signature.len() - 1;
        signature[last] |= 1; // a second bit, one signature
        assert!(!verify(&pk, b"m", &signature));
        assert!(!verify(&pk, b"m", &[0, 0, 0, 0]));
        assert!(!verify(&pk, b"m", &[0, 0, 0]));
    }
}
