//! Merkle accumulators (`libra.crypto.merkle`): the transaction accumulator's append over a
//! stack of frozen subtree roots, its root, and the in-memory event accumulator root.

use crate::hashing::HashValue;

use super::salts::{hash_pair, ACCUMULATOR_PLACEHOLDER};

/// The `(level, hash)` stack of frozen subtree roots, left to right.
pub type Frozen = Vec<(u32, HashValue)>;

/// Leaves described by a frozen stack.
pub fn leaves_of(frozen: &Frozen) -> Option<u64> {
    frozen.iter().try_fold(0u64, |count, (level, _)| {
        count.checked_add(1u64.checked_shl(*level)?)
    })
}

/// Appends `leaves` to `frozen` in place (`append_leaves`); returns every node frozen on
/// the way as `(level, index in level, hash)`.
pub fn append_leaves(
    seed: &HashValue,
    frozen: &mut Frozen,
    leaves: &[HashValue],
) -> Vec<(u32, u64, HashValue)> {
    let first = leaves_of(frozen).expect("a frozen stack of at most 2^64 leaves");
    let mut created = Vec::with_capacity(leaves.len() * 2);
    for (count, leaf) in (first..).zip(leaves) {
        created.push((0, count, *leaf));
        let (mut level, mut node, mut index) = (0u32, *leaf, count);
        while let Some(&(top, left)) = frozen.last() {
            if top != level {
                break;
            }
            frozen.pop();
            node = hash_pair(seed, &left, &node);
            level += 1;
            index >>= 1;
            created.push((level, index, node));
        }
        frozen.push((level, node));
    }
    created
}

/// The root over `num_leaves` from its frozen roots (`accumulator_root`); None when they do not fit.
pub fn accumulator_root(
    seed: &HashValue,
    frozen_roots: &[HashValue],
    num_leaves: u64,
) -> Option<HashValue> {
    if frozen_roots.len() != num_leaves.count_ones() as usize {
        return None;
    }
    match frozen_roots {
        [] => return Some(ACCUMULATOR_PLACEHOLDER),
        [only] => return Some(*only),
        _ => {}
    }
    let mut bits = num_leaves >> num_leaves.trailing_zeros();
    let mut current = ACCUMULATOR_PLACEHOLDER;
    let mut pending = frozen_roots.to_vec();
    while bits != 0 {
        current = if bits & 1 == 1 {
            hash_pair(
                seed,
                &pending.pop().expect("one root per set bit"),
                &current,
            )
        } else {
            hash_pair(seed, &current, &ACCUMULATOR_PLACEHOLDER)
        };
        bits >>= 1;
    }
    Some(current)
}

/// The root of the accumulator of `leaves`, level by level (`accumulator_root_of_leaves`).
pub fn accumulator_root_of_leaves(seed: &HashValue, leaves: &[HashValue]) -> HashValue {
    match leaves {
        [] => return ACCUMULATOR_PLACEHOLDER,
        [only] => return *only,
        [left, right] => return hash_pair(seed, left, right),
        _ => {}
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            level.push(ACCUMULATOR_PLACEHOLDER);
        }
        level = level
            .chunks(2)
            .map(|pair| hash_pair(seed, &pair[0], &pair[1]))
            .collect();
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u8) -> HashValue {
        [i; 32]
    }

    /// The perfect tree of depth ceil(log2 n) with placeholder leaves, by definition.
    fn naive_root(seed: &HashValue, leaves: &[HashValue]) -> HashValue {
        if leaves.is_empty() {
            return ACCUMULATOR_PLACEHOLDER;
        }
        let mut width = 1;
        while width < leaves.len() {
            width *= 2;
        }
        let mut level: Vec<Option<HashValue>> =
            (0..width).map(|i| leaves.get(i).copied()).collect();
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| match pair {
                    [None, None] => None,
                    [l, r] => Some(hash_pair(
                        seed,
                        &l.unwrap_or(ACCUMULATOR_PLACEHOLDER),
                        &r.unwrap_or(ACCUMULATOR_PLACEHOLDER),
                    )),
                    _ => unreachable!(),
                })
                .collect();
        }
        level[0].unwrap()
    }

    #[test]
    fn appends_and_roots_agree_with_the_definition() {
        let seed = [9; 32];
        let mut frozen = Frozen::new();
        let mut all = Vec::new();
        for batch in [1usize, 2, 3, 1, 7, 16] {
            let leaves: Vec<HashValue> = (0..batch).map(|i| leaf((all.len() + i) as u8)).collect();
            append_leaves(&seed, &mut frozen, &leaves);
            all.extend(leaves);
            let roots: Vec<HashValue> = frozen.iter().map(|(_, h)| *h).collect();
            let root = accumulator_root(&seed, &roots, all.len() as u64).unwrap();
            assert_eq!(root, naive_root(&seed, &all));
            assert_eq!(accumulator_root_of_leaves(&seed, &all), root);
        }
        assert_eq!(accumulator_root(&seed, &[], 3), None);
    }
}
