//! SHA3-256 straight over the Keccak-f[1600] permutation, for the store's many hashes.
//!
//! The same function as `sha3::Sha3_256` (checked below) for the two shapes the store
//! hashes, a salt then bytes, and three 32-byte values (a tree node: salt, left, right); it
//! skips the generic block buffering, which costs as much as the permutation for short
//! inputs, and reads the input lane by lane where it lies.

use crate::hashing::HashValue;

const LANES: usize = 136 / 8; // the rate of SHA3-256, in 64-bit lanes

fn squeeze(state: &[u64; 25]) -> HashValue {
    let mut out = [0u8; 32];
    for (bytes, lane) in out.chunks_exact_mut(8).zip(state) {
        bytes.copy_from_slice(&lane.to_le_bytes());
    }
    out
}

fn lane(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
}

/// `sha3(seed ‖ data)`: the seed fills lanes 0-3, so `data` is absorbed lane by lane
/// straight from the input, without copying it into a block buffer.
pub fn hash_with_seed(seed: &HashValue, data: &[u8]) -> HashValue {
    let mut state = [0u64; 25];
    for (index, bytes) in seed.chunks_exact(8).enumerate() {
        state[index] = lane(bytes);
    }
    let mut position = 4; // the next lane of the block
    let mut words = data.chunks_exact(8);
    for word in &mut words {
        state[position] ^= lane(word);
        position += 1;
        if position == LANES {
            keccak::f1600(&mut state);
            position = 0;
        }
    }
    let tail = words.remainder();
    let mut last = [0u8; 8];
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()] = 0x06;
    state[position] ^= u64::from_le_bytes(last);
    state[LANES - 1] ^= 0x80 << 56;
    keccak::f1600(&mut state);
    squeeze(&state)
}

/// `sha3(a ‖ b ‖ c)` of three 32-byte values: one permutation, lanes XORed in place.
pub fn hash_three(a: &HashValue, b: &HashValue, c: &HashValue) -> HashValue {
    let mut state = [0u64; 25];
    for (part, value) in [a, b, c].into_iter().enumerate() {
        for (lane, bytes) in value.chunks_exact(8).enumerate() {
            state[part * 4 + lane] = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        }
    }
    state[12] = 0x06; // the padding right after the 96 input bytes
    state[LANES - 1] ^= 0x80 << 56;
    keccak::f1600(&mut state);
    squeeze(&state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha3::{Digest, Sha3_256};

    #[test]
    fn a_salted_hash_equals_sha3_256_at_every_length_around_the_rate() {
        let seed = [0xA5u8; 32];
        let data: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        for length in (0..300)
            .chain(370..420)
            .chain([542, 543, 544, 545, 680, 700])
        {
            let mut joined = seed.to_vec();
            joined.extend_from_slice(&data[..length]);
            let expected: HashValue = Sha3_256::digest(&joined).into();
            assert_eq!(
                hash_with_seed(&seed, &data[..length]),
                expected,
                "length {length}"
            );
        }
    }

    #[test]
    fn three_values_hash_as_their_concatenation() {
        let (a, b, c) = ([1u8; 32], [2u8; 32], [0xF0u8; 32]);
        let expected: HashValue = Sha3_256::digest([a, b, c].concat()).into();
        assert_eq!(hash_three(&a, &b, &c), expected);
    }
}
