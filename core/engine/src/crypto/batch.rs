//! Many signatures at once, spread over the machine's cores.
//!
//! Each signature is verified on its own, by [`super::ed25519::verify`] (or the MultiEd25519
//! rule), so a batch answers exactly what the single checks answer, item by item, whatever
//! the batch holds and however rayon splits it.
//!
//! Why not "true" batch verification (one multi-scalar equation
//! `[Σ zᵢSᵢ]B = Σ [zᵢ]Rᵢ + Σ [zᵢkᵢ]Aᵢ` for random weights `zᵢ`, about twice as fast per
//! signature for large batches)? It is not the same predicate as the strict single check:
//!
//! * the single check is cofactorless. When some `Aᵢ` or `Rᵢ` has a torsion component (mixed
//!   order keys are accepted, and nothing stops a sender from choosing such an `R`), a
//!   signature whose single equation fails by a torsion point `Tᵢ` makes the combination fail
//!   by `Σ zᵢTᵢ`, which is the identity whenever the `zᵢ` are multiples of the order of the
//!   `Tᵢ` (probability 1/8 to 1/2 per signature for random `zᵢ`, not 2⁻¹²⁸). So the batch
//!   accepts signatures the single check refuses, depending on the weights: validators that
//!   draw different weights would disagree on a block's validity;
//! * excluding torsion first (`[L]Aᵢ = [L]Rᵢ = O`) costs a scalar multiplication per point,
//!   which is most of what the batch saves; and even on torsion-free points the batch only
//!   agrees with the single checks except with probability about 2⁻¹²⁸, which is a bound, not
//!   the equality a consensus rule needs (deterministic weights from a hash of the batch
//!   would make validators agree with each other, but still not with the single rule).
//!
//! So there is no input class on which we can prove the answers equal and that is cheap to
//! recognise; the speed here comes from native code and both cores, not from a shared equation.

use rayon::prelude::*;

use super::{ed25519, multi_ed25519};

/// The scheme of a signature to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Ed25519,
    MultiEd25519,
}

/// One signature to check: `(scheme, public key, message, signature)`.
pub type Item<'a> = (Scheme, &'a [u8], &'a [u8], &'a [u8]);

/// Fewer items than this run on the calling thread: below it the hand-off to the pool costs
/// more than it spreads.
pub const PARALLEL_FROM: usize = 4;

/// The validity of one item.
pub fn verify_item(item: &Item<'_>) -> bool {
    let (scheme, key, message, signature) = *item;
    match scheme {
        Scheme::Ed25519 => ed25519::verify(key, message, signature),
        Scheme::MultiEd25519 => multi_ed25519::verify(key, message, signature),
    }
}

/// `f` of every item, in input order, on rayon's pool when there are enough of them.
pub fn map_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    if items.len() < PARALLEL_FROM {
        return items.iter().map(f).collect();
    }
    items.par_iter().with_min_len(2).map(f).collect()
}

/// The validity of every item, in input order.
pub fn verify_all(items: &[Item<'_>]) -> Vec<bool> {
    map_parallel(items, verify_item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    #[test]
    fn a_batch_answers_each_item_as_the_single_check_does() {
        let keys: Vec<SigningKey> = (0..50u8)
            .map(|i| SigningKey::from_bytes(&[i; 32]))
            .collect();
        let messages: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; i as usize]).collect();
        let publics: Vec<[u8; 32]> = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
        let mut signatures: Vec<[u8; 64]> = keys
            .iter()
            .zip(&messages)
            .map(|(k, m)| k.sign(m).to_bytes())
            .collect();
        for i in (0..50).step_by(7) {
            signatures[i][3] ^= 0x10;
        }
        let items: Vec<Item> = (0..50)
            .map(|i| {
                (
                    Scheme::Ed25519,
                    &publics[i][..],
                    &messages[i][..],
                    &signatures[i][..],
                )
            })
            .collect();
        let answers = verify_all(&items);
        for (i, answer) in answers.iter().enumerate() {
            assert_eq!(*answer, i % 7 != 0, "item {i}");
            assert_eq!(*answer, verify_item(&items[i]));
        }
        assert!(verify_all(&[]).is_empty());
    }
}
