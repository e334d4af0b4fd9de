//! Strict Ed25519 verification with exactly the answers of libsodium's `crypto_sign_open`
//! plus `S < L` (`libra.crypto.ed25519_strict.verify_signature`).
//!
//! A signature `R ‖ S` of `message` under the public key `A` is valid iff all of:
//!
//! 1. `A` is 32 bytes and the signature 64;
//! 2. `S < L` (canonical scalar, no malleability);
//! 3. `R` is not an encoding of a point of small order, by libsodium's rule: its `y` (bits
//!    0..255, the sign bit left out) is none of `0, 1, y₈, p − y₈, p − 1, p, p + 1` (every
//!    `y` of a small-order point, and the two non-canonical encodings `p`, `p + 1` that fit
//!    in 255 bits); the sign bit is not looked at;
//! 4. `A`'s `y` is canonical (`y < p`, sign bit left out), `A`'s `y` is not of small order
//!    by the same rule, and `A` decompresses to a curve point (mixed-order keys, a point of
//!    the prime-order subgroup plus a torsion point, are accepted, as libsodium accepts them);
//! 5. the cofactorless equation: the canonical encoding of `[S]B − [k]A`, with
//!    `k = SHA-512(R ‖ A ‖ message) mod L`, equals `R`'s 32 bytes. A non-canonical `R`
//!    therefore never verifies.
//!
//! The checks are made here on the bytes, as libsodium makes them, and the equation is computed
//! with curve25519-dalek's group arithmetic: `k` by SHA-512 and `Scalar::from_bytes_mod_order_wide`,
//! then `EdwardsPoint::vartime_double_scalar_mul_basepoint(k, −A, S).compress()` against `R`'s
//! bytes. Both libraries compute `[k](−A) + [S]B` with `k < L` as an integer, which is the same
//! group element for a mixed-order `A` as well, and both encode it canonically.
//!
//! ed25519-dalek's `verify_strict` (the second oracle of the tests below) differs in how, not in
//! what: it decompresses `R` and refuses small-order *points* where libsodium refuses a list of
//! `y` values, and it does not check that `A`'s `y` is canonical (curve25519-dalek decompresses
//! `y ≥ p` as `y − p`). With the canonical-`y` check added its answers are the same: for a
//! canonical encoding "small-order point" and "`y` in the list" are one set, and an `R` that
//! does not decompress, or is of small order, can only equal the encoding of no point or of a
//! small-order point, which 3 or 5 refuses. Not decompressing `R` saves an eighth of the time.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

pub const PUBLIC_KEY_LENGTH: usize = 32;
pub const SIGNATURE_LENGTH: usize = 64;

/// The `y` coordinates (little-endian, 255 bits) that libsodium refuses in `R` and `A`:
/// those of the eight small-order points, and `p`, `p + 1` (non-canonical 0 and 1).
const SMALL_ORDER_Y: [[u8; 32]; 7] = [
    // 0: the two points of order 4
    [0; 32],
    // 1: the identity
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    // y₈: two of the points of order 8
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    // p − y₈: the other two points of order 8
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    // p − 1: the point of order 2
    top_run(0xec),
    // p, p + 1: non-canonical 0 and 1
    top_run(0xed),
    top_run(0xee),
];

/// `low ‖ ff … ff ‖ 7f`: the values `p + (low − 0xed)` near the top of the 255-bit range.
const fn top_run(low: u8) -> [u8; 32] {
    let mut bytes = [0xff; 32];
    bytes[0] = low;
    bytes[31] = 0x7f;
    bytes
}

/// `y < p` for the 255-bit `y` of an encoded point (its sign bit is not looked at).
pub fn is_canonical_y(encoded: &[u8; 32]) -> bool {
    // y ≥ p = 2^255 − 19 iff y's top 250 bits are all ones and its low byte is at least 0xed
    let top_all_ones = encoded[31] & 0x7f == 0x7f && encoded[1..31].iter().all(|&b| b == 0xff);
    !(top_all_ones && encoded[0] >= 0xed)
}

/// libsodium's `ge25519_has_small_order`: the `y` of `encoded` (sign bit left out) is one of
/// the values of [`SMALL_ORDER_Y`].
pub fn has_small_order_y(encoded: &[u8; 32]) -> bool {
    let mut y = *encoded;
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

/// `S < L`.
pub fn is_canonical_scalar(s: &[u8; 32]) -> bool {
    bool::from(Scalar::from_canonical_bytes(*s).is_some())
}

/// The point of a strict public key, as libsodium checks `A` (4 of the module docs): `y < p`,
/// `y` not of small order, a curve point. One function for both uses, so the key rule of
/// [`verify`] is the one [`is_strict_public_key`] shows (a non-canonical key cannot be given a
/// signature to test it with: that needs the discrete log of a point chosen by its `y`).
pub fn strict_public_key_point(key: &[u8; PUBLIC_KEY_LENGTH]) -> Option<EdwardsPoint> {
    if !is_canonical_y(key) || has_small_order_y(key) {
        return None;
    }
    // a poisoned lock (a panic elsewhere while it was held) only means no cache
    if let Some(point) = known_keys()
        .lock()
        .ok()
        .and_then(|known| known.get(key).copied())
    {
        return Some(point);
    }
    let point = CompressedEdwardsY(*key).decompress()?;
    if let Ok(mut known) = known_keys().lock() {
        if known.len() >= KNOWN_KEYS_CAP {
            known.clear();
        }
        known.insert(*key, point);
    }
    Some(point)
}

/// Decompressed strict keys, by their bytes: a sender signs many payments with one key, and
/// decompressing it (a square root) is an eighth of a verification. A pure function memoised:
/// answers never depend on what the cache holds; it is emptied when full.
fn known_keys() -> &'static Mutex<HashMap<[u8; 32], EdwardsPoint>> {
    static KNOWN: OnceLock<Mutex<HashMap<[u8; 32], EdwardsPoint>>> = OnceLock::new();
    KNOWN.get_or_init(|| Mutex::new(HashMap::new()))
}

const KNOWN_KEYS_CAP: usize = 1 << 16;

/// A strict public key (`check_public_key_bytes` accepts it): 32 bytes, `y < p`, a curve
/// point, not of small order.
pub fn is_strict_public_key(public_key: &[u8]) -> bool {
    <&[u8; PUBLIC_KEY_LENGTH]>::try_from(public_key)
        .is_ok_and(|key| strict_public_key_point(key).is_some())
}

/// Strict verification (see the module docs); false for any malformed or wrong input.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(key), Ok(signature)) = (
        <&[u8; PUBLIC_KEY_LENGTH]>::try_from(public_key),
        <&[u8; SIGNATURE_LENGTH]>::try_from(signature),
    ) else {
        return false;
    };
    let r: &[u8; 32] = signature[..32].try_into().expect("32 bytes");
    let s: [u8; 32] = signature[32..].try_into().expect("32 bytes");
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s)) else {
        return false;
    };
    if has_small_order_y(r) {
        return false;
    }
    let Some(a) = strict_public_key_point(key) else {
        return false;
    };
    let mut hasher = Sha512::new();
    hasher.update(r);
    hasher.update(key);
    hasher.update(message);
    let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
    let expected_r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &s).compress();
    expected_r.as_bytes() == r
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use ed25519_dalek::{Signer, SigningKey};

    fn y_of(point: &CompressedEdwardsY) -> [u8; 32] {
        let mut y = point.to_bytes();
        y[31] &= 0x7f;
        y
    }

    #[test]
    fn the_small_order_list_is_the_y_of_every_torsion_point_and_the_two_overflows() {
        for point in EIGHT_TORSION {
            assert!(has_small_order_y(&point.compress().to_bytes()));
            assert!(SMALL_ORDER_Y.contains(&y_of(&point.compress())));
        }
        let mut from_torsion: Vec<[u8; 32]> =
            EIGHT_TORSION.iter().map(|p| y_of(&p.compress())).collect();
        from_torsion.sort();
        from_torsion.dedup();
        assert_eq!(from_torsion.len(), 5); // ±x share a y: 0, 1, −1, y₈, −y₈
        assert!(!is_canonical_y(&SMALL_ORDER_Y[5]) && !is_canonical_y(&SMALL_ORDER_Y[6]));
        assert!(is_canonical_y(&SMALL_ORDER_Y[4]));
        assert!(!has_small_order_y(
            &ED25519_BASEPOINT_POINT.compress().to_bytes()
        ));
    }

    #[test]
    fn canonical_y_is_below_p_whatever_the_sign_bit() {
        assert!(is_canonical_y(&top_run(0xec)));
        assert!(!is_canonical_y(&top_run(0xed)));
        let mut with_sign = top_run(0xec);
        with_sign[31] = 0xff;
        assert!(is_canonical_y(&with_sign));
        with_sign[0] = 0xff;
        assert!(!is_canonical_y(&with_sign));
        let mut below = top_run(0xff);
        below[17] = 0xfe;
        assert!(is_canonical_y(&below));
    }

    #[test]
    fn a_signature_verifies_and_any_flipped_bit_breaks_it() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let message = b"payment";
        let signature = key.sign(message).to_bytes();
        let public = key.verifying_key().to_bytes();
        assert!(verify(&public, message, &signature));
        assert!(is_strict_public_key(&public));
        for bit in 0..512 {
            let mut changed = signature;
            changed[bit / 8] ^= 1 << (bit % 8);
            assert!(!verify(&public, message, &changed), "bit {bit}");
        }
        assert!(!verify(&public, b"paymenT", &signature));
        assert!(!verify(&public[..31], message, &signature));
        assert!(!verify(&public, message, &signature[..63]));
    }

    /// ed25519-dalek's `verify_strict` plus the canonical-`y` check of the key: the same rule
    /// reached another way (module docs).
    fn dalek_oracle(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        is_canonical_y(public_key)
            && ed25519_dalek::VerifyingKey::from_bytes(public_key).is_ok_and(|key| {
                key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
                    .is_ok()
            })
    }

    /// A signature of `message` under `a·B + torsion` with the nonce `r` and `R = r·B + r_torsion`.
    fn forge(
        a: &Scalar,
        torsion: &EdwardsPoint,
        r: &Scalar,
        r_torsion: &EdwardsPoint,
        message: &[u8],
    ) -> ([u8; 32], [u8; 64]) {
        let key = (EdwardsPoint::mul_base(a) + torsion).compress().to_bytes();
        let big_r = (EdwardsPoint::mul_base(r) + r_torsion)
            .compress()
            .to_bytes();
        let mut hasher = Sha512::new();
        hasher.update(big_r);
        hasher.update(key);
        hasher.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        let s = r + k * a;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(&big_r);
        signature[32..].copy_from_slice(s.as_bytes());
        (key, signature)
    }

    #[test]
    fn torsion_in_keys_and_nonces_gives_the_answers_of_verify_strict() {
        let mut accepted = 0;
        let mut refused = 0;
        for (t, torsion) in EIGHT_TORSION.iter().enumerate() {
            for (u, r_torsion) in EIGHT_TORSION.iter().enumerate() {
                for nonce in 0..12u64 {
                    let a = Scalar::from(1000 + 37 * t as u64 + nonce);
                    let r = Scalar::from(5 + 11 * u as u64 + 131 * nonce);
                    let (key, signature) = forge(&a, torsion, &r, r_torsion, b"mixed");
                    let answer = verify(&key, b"mixed", &signature);
                    assert_eq!(
                        answer,
                        dalek_oracle(&key, b"mixed", &signature),
                        "t={t} u={u} n={nonce}"
                    );
                    if answer {
                        accepted += 1;
                    } else {
                        refused += 1;
                    }
                }
            }
        }
        // torsion-free pairs always verify; with torsion, only when k·T cancels
        assert!(
            accepted > 12 && refused > 12,
            "accepted {accepted}, refused {refused}"
        );
    }

    #[test]
    fn small_order_and_non_canonical_encodings_as_key_or_r() {
        let signer = SigningKey::from_bytes(&[3; 32]);
        let good = signer.sign(b"m").to_bytes();
        let public = signer.verifying_key().to_bytes();
        let mut encodings: Vec<[u8; 32]> = SMALL_ORDER_Y.to_vec();
        for low in 0xed..=0xffu8 {
            encodings.push(top_run(low)); // every y ≥ p
        }
        for point in EIGHT_TORSION {
            encodings.push(point.compress().to_bytes());
        }
        let with_sign: Vec<[u8; 32]> = encodings
            .iter()
            .map(|e| {
                let mut e = *e;
                e[31] |= 0x80;
                e
            })
            .collect();
        encodings.extend(with_sign);
        for encoding in &encodings {
            assert!(!verify(encoding, b"m", &good));
            assert!(!dalek_oracle(encoding, b"m", &good));
            assert!(!is_strict_public_key(encoding) || is_canonical_y(encoding));
            let mut signature = good;
            signature[..32].copy_from_slice(encoding);
            assert!(!verify(&public, b"m", &signature));
            assert!(!dalek_oracle(&public, b"m", &signature));
        }
    }

    #[test]
    fn s_plus_l_is_refused() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let mut signature = key.sign(b"m").to_bytes();
        // L, little-endian
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = signature[32 + i] as u16 + l[i] as u16 + carry;
            signature[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        assert!(!verify(&key.verifying_key().to_bytes(), b"m", &signature));
    }
}
