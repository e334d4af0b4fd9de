//! SHA3-256 straight over the Keccak-f[1600] permutation, for the store's many short hashes.
//!
//! The same function as `sha3::Sha3_256` (checked below); it skips the generic buffering,
//! which costs as much as the permutation itself for a 96-byte input (a tree node: salt,
//! left, right), and absorbs the input in place.

use crate::hashing::HashValue;

const RATE: usize = 136;
const LANES: usize = RATE / 8;

/// An absorbing SHA3-256 state.
pub struct Sha3 {
    state: [u64; 25],
    block: [u8; RATE],
    filled: usize,
}

impl Default for Sha3 {
    fn default() -> Self {
        Sha3::new()
    }
}

impl Sha3 {
    pub fn new() -> Sha3 {
        Sha3 {
            state: [0; 25],
            block: [0; RATE],
            filled: 0,
        }
    }

    fn absorb_block(state: &mut [u64; 25], block: &[u8; RATE]) {
        for (lane, bytes) in state.iter_mut().zip(block.chunks_exact(8)) {
            *lane ^= u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        }
        keccak::f1600(state);
    }

    pub fn update(&mut self, mut data: &[u8]) -> &mut Sha3 {
        while !data.is_empty() {
            let take = (RATE - self.filled).min(data.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled == RATE {
                Self::absorb_block(&mut self.state, &self.block);
                self.filled = 0;
            }
        }
        self
    }

    pub fn finalize(&mut self) -> HashValue {
        self.block[self.filled..].fill(0);
        self.block[self.filled] ^= 0x06;
        self.block[RATE - 1] ^= 0x80;
        Self::absorb_block(&mut self.state, &self.block);
        squeeze(&self.state)
    }
}

fn squeeze(state: &[u64; 25]) -> HashValue {
    let mut out = [0u8; 32];
    for (bytes, lane) in out.chunks_exact_mut(8).zip(state) {
        bytes.copy_from_slice(&lane.to_le_bytes());
    }
    out
}

/// `sha3(seed ‖ data)`.
pub fn hash_with_seed(seed: &HashValue, data: &[u8]) -> HashValue {
    Sha3::new().update(seed).update(data).finalize()
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
    fn equals_sha3_256_at_every_length_around_the_rate() {
        let data: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        for length in (0..300).chain([407, 408, 409, 543, 544, 545, 600]) {
            let expected: HashValue = Sha3_256::digest(&data[..length]).into();
            assert_eq!(
                Sha3::new().update(&data[..length]).finalize(),
                expected,
                "length {length}"
            );
            let (head, tail) = data[..length].split_at(length / 3);
            assert_eq!(
                Sha3::new().update(head).update(tail).finalize(),
                expected,
                "split {length}"
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
