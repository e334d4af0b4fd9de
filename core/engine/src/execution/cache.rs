//! Accounts decoded by earlier blocks, kept by the ledger from block to block (the native
//! twin of `framework.state.DecodedAccounts`).
//!
//! An entry is found by address and used only if its blob is exactly the blob being read,
//! so what it gives is what decoding that blob gives (another version's state is never
//! seen). One entry per address: a block leaves the final state of each account it wrote.
//! Beyond the capacity the oldest quarter goes; eviction only costs a decode later.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::account::{Account, Address};

pub struct AccountCache {
    capacity: usize,
    /// address -> (stamp, fingerprint of the blob, account)
    entries: HashMap<Address, (u64, u64, Arc<Account>)>,
    /// (address, stamp) in insertion order; stale pairs are skipped when evicting.
    order: VecDeque<(Address, u64)>,
    /// A fingerprint of each entry's blob -> its address (to find an account by blob alone).
    by_blob: HashMap<u64, Address>,
    stamp: u64,
    /// Authentication keys of the public keys seen (`sha3(pk ‖ 00)`), lent to each block.
    pub auth_keys: HashMap<[u8; 32], [u8; 32]>,
}

/// How many authentication keys are remembered before they are all forgotten.
pub const AUTH_KEYS_CAPACITY: usize = 100_000;

/// A cheap fingerprint of a blob (FNV-1a over 8-byte words). A collision only means a miss.
pub fn fingerprint(blob: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ blob.len() as u64;
    let mut chunks = blob.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        hash = (hash ^ word)
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(29);
    }
    for &byte in chunks.remainder() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl AccountCache {
    pub fn new(capacity: usize) -> Self {
        AccountCache {
            capacity: capacity.max(4),
            entries: HashMap::new(),
            order: VecDeque::new(),
            by_blob: HashMap::new(),
            stamp: 0,
            auth_keys: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The account of `address` decoded from exactly `blob`, if remembered.
    pub fn get(&self, address: &Address, blob: &[u8]) -> Option<Arc<Account>> {
        let (_, _, account) = self.entries.get(address)?;
        (account.raw_blob() == blob).then(|| account.clone())
    }

    /// The account decoded from exactly `blob`, whatever its address (and that address).
    pub fn find_blob(&self, blob: &[u8]) -> Option<(Address, Arc<Account>)> {
        let address = self.by_blob.get(&fingerprint(blob))?;
        let account = self.get(address, blob)?;
        Some((*address, account))
    }

    /// Remember `account` as the state of `address`, in place of what was remembered for it.
    pub fn put(&mut self, address: Address, account: Arc<Account>) {
        self.stamp += 1;
        let key = fingerprint(account.raw_blob());
        if let Some((_, previous, _)) = self.entries.insert(address, (self.stamp, key, account)) {
            self.forget_blob(&address, previous);
        }
        self.by_blob.insert(key, address);
        self.order.push_back((address, self.stamp));
        if self.entries.len() > self.capacity {
            let keep = self.capacity * 3 / 4;
            while self.entries.len() > keep {
                let Some((oldest, stamp)) = self.order.pop_front() else {
                    break;
                };
                if matches!(self.entries.get(&oldest), Some((current, _, _)) if *current == stamp) {
                    if let Some((_, key, _)) = self.entries.remove(&oldest) {
                        self.forget_blob(&oldest, key);
                    }
                }
            }
        }
        if self.order.len() > 2 * self.capacity {
            let entries = &self.entries;
            self.order
                .retain(|(address, stamp)| matches!(entries.get(address), Some((current, _, _)) if current == stamp));
        }
    }

    fn forget_blob(&mut self, address: &Address, key: u64) {
        if self.by_blob.get(&key) == Some(address) {
            self.by_blob.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(value: u8) -> Arc<Account> {
        Arc::new(Account::decode(&[1, 2, 1, b'a', 1, value]).unwrap())
    }

    #[test]
    fn found_only_with_the_same_blob() {
        let mut cache = AccountCache::new(10);
        let a = account(1);
        cache.put([1; 16], a.clone());
        assert!(cache.get(&[1; 16], a.raw_blob()).is_some());
        assert!(cache.get(&[1; 16], account(2).raw_blob()).is_none());
        assert!(cache.get(&[2; 16], a.raw_blob()).is_none());
        assert_eq!(
            cache.find_blob(a.raw_blob()).map(|(address, _)| address),
            Some([1; 16])
        );
        cache.put([1; 16], account(2));
        assert!(cache.get(&[1; 16], a.raw_blob()).is_none());
        assert!(cache.find_blob(a.raw_blob()).is_none());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_oldest_go_beyond_capacity() {
        let mut cache = AccountCache::new(8);
        for i in 0..9u8 {
            cache.put([i; 16], account(i));
        }
        assert_eq!(cache.len(), 6);
        assert!(cache.get(&[0; 16], account(0).raw_blob()).is_none());
        assert!(cache.get(&[8; 16], account(8).raw_blob()).is_some());
        for round in 0..100u8 {
            cache.put([round % 3; 16], account(round));
        }
        assert!(cache.order.len() <= 16);
    }
}
