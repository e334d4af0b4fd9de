//! A block's run of payments, and the hand-over of state to and from the Python framework.
//!
//! The native block is the truth of every account it has loaded. The Python framework's
//! `BlockState` runs the transactions the native side declines (and the block prologue) on
//! the same state: it reads accounts through [`BlockExecutor::current_blob`] (which marks them
//! *exported*); native writes to an exported account are handed back to it by
//! [`BlockExecutor::take_sync`] before the next Python transaction; and the blobs a Python
//! transaction leaves come in through [`BlockExecutor::import`]. So the block can mix both
//! freely, in order.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::account::{Account, Address};
use super::cache::{AccountCache, AUTH_KEYS_CAPACITY};
use super::payment::{self, Accounts, Decline, Event, Memos, Outcome, RootMemo, Shapes, Slot};
use super::resources::{PathRef, DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS};
use super::status::{self, Status};
use crate::bcs::push_uleb128;

/// A transaction of the block: its signed BCS (None: not a payment, the Python framework runs
/// it), whether its signature is valid, and the size the size bound checks (the caller's: the
/// length of the bytes it was decoded from).
struct Transaction {
    bytes: Option<Vec<u8>>,
    valid: bool,
    size: usize,
}

/// What a natively run transaction gives: status, gas, the write set's BCS, the events, and
/// the blob of each account the write set touched after it (address order; None: no state).
#[derive(Debug)]
pub struct Output {
    pub status: Status,
    pub gas_used: u64,
    pub write_set: Vec<u8>,
    pub events: Vec<Event>,
    pub blobs: Vec<(Address, Option<Vec<u8>>)>,
}

impl Output {
    pub fn is_discarded(&self) -> bool {
        status::is_discarded(self.status)
    }
}

/// A raw write handed to the Python state: (address, path, value or None).
pub type RawWrite = (Address, Vec<u8>, Option<Vec<u8>>);

pub struct BlockExecutor {
    chain_id: u8,
    transactions: Vec<Transaction>,
    outputs: Vec<Option<Output>>,
    accounts: Accounts,
    dirty: HashSet<Address>,
    exported: HashSet<Address>,
    /// Paths natively written to exported accounts since the last hand-over.
    unsynced: BTreeMap<Address, Vec<PathRef>>,
    shapes: Shapes,
    /// Authentication keys of public keys (see [`Memos`]), lent by the cache.
    auth_keys: HashMap<[u8; 32], [u8; 32]>,
}

impl BlockExecutor {
    pub fn new(chain_id: u8) -> Self {
        BlockExecutor {
            chain_id,
            transactions: Vec::new(),
            outputs: Vec::new(),
            accounts: Accounts::default(),
            dirty: HashSet::new(),
            exported: HashSet::new(),
            unsynced: BTreeMap::new(),
            shapes: Shapes::default(),
            auth_keys: HashMap::new(),
        }
    }

    /// Borrow the authentication keys `cache` remembers for this block (given back by
    /// [`BlockExecutor::finish`]).
    pub fn borrow_auth_keys(&mut self, cache: &mut AccountCache) {
        self.auth_keys = std::mem::take(&mut cache.auth_keys);
    }

    /// Append a transaction to the block (see [`Transaction`]).
    pub fn add(&mut self, bytes: Option<Vec<u8>>, valid: bool, size: usize) {
        self.transactions.push(Transaction { bytes, valid, size });
        self.outputs.push(None);
    }

    pub fn len(&self) -> usize {
        self.transactions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.transactions.is_empty()
    }

    /// The accounts the payments of the block read that are not loaded yet, in address order:
    /// Diem Root, Treasury Compliance, each sender and payee.
    pub fn needed(&mut self) -> Vec<Address> {
        let mut needed = vec![DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS];
        let Self {
            transactions,
            shapes,
            ..
        } = self;
        for txn in transactions.iter() {
            let Some(bytes) = &txn.bytes else { continue };
            if !txn.valid {
                continue;
            }
            if let Some(payment) = shapes.parse(bytes) {
                needed.push(payment.sender);
                needed.extend(payment.payee());
            }
        }
        needed.sort_unstable();
        needed.dedup();
        needed.retain(|address| !self.accounts.contains(address));
        needed
    }

    /// Load an account as the committed state has it (found in `cache` when it remembers
    /// exactly this blob, decoded otherwise); an account already loaded is left as it is.
    pub fn load(&mut self, address: Address, blob: Option<&[u8]>, cache: &AccountCache) {
        if !self.accounts.contains(&address) {
            self.accounts
                .insert(address, slot_of(&address, blob, cache));
        }
    }

    /// The account's state after a transaction the Python framework ran (its blob, None: no
    /// resources); the Python state has it already, so nothing is handed back for it.
    pub fn import(&mut self, address: Address, blob: Option<&[u8]>, cache: &AccountCache) {
        self.accounts
            .insert(address, slot_of(&address, blob, cache));
        self.dirty.insert(address);
        self.exported.insert(address);
        self.unsynced.remove(&address);
    }

    /// The current blob of an account for the Python state, which then holds it (exported):
    /// `None` when the native side does not know the account (or cannot decode it), and the
    /// Python state should read the committed state instead.
    pub fn current_blob(&mut self, address: Address) -> Option<Option<&[u8]>> {
        let known = matches!(
            self.accounts.slot(&address),
            Some(Slot::Present(_) | Slot::Absent)
        );
        if !known {
            return None;
        }
        self.exported.insert(address);
        match self.accounts.slot(&address) {
            Some(Slot::Present(account)) => Some(account.blob()),
            _ => Some(None),
        }
    }

    /// The native writes to exported accounts since the last call, as raw writes for the
    /// Python state (address, then path order), which is then in step again.
    pub fn take_sync(&mut self) -> Vec<RawWrite> {
        let unsynced = std::mem::take(&mut self.unsynced);
        let mut writes = Vec::new();
        for (address, mut paths) in unsynced {
            paths.sort_by(|a, b| a.path.cmp(&b.path));
            let account = match self.accounts.slot(&address) {
                Some(Slot::Present(account)) => Some(account),
                _ => None,
            };
            for path in paths {
                let value = account
                    .and_then(|account| account.get(&path.key))
                    .map(<[u8]>::to_vec);
                writes.push((address, path.path.clone(), value));
            }
        }
        writes
    }

    /// Run the transactions from `start` natively while the native side answers for them;
    /// returns the index of the first one it does not (the block's length if none).
    pub fn run(&mut self, start: usize) -> usize {
        // Diem Root's values are decoded afresh: the framework may have changed its account
        let memos = Memos {
            root: RefCell::new(RootMemo::default()),
            auth_keys: RefCell::new(std::mem::take(&mut self.auth_keys)),
        };
        let mut stop = self.transactions.len();
        for index in start..self.transactions.len() {
            match self.run_one(index, &memos) {
                Ok(output) => self.outputs[index] = Some(output),
                Err(Decline) => {
                    stop = index;
                    break;
                }
            }
        }
        self.auth_keys = memos.auth_keys.into_inner();
        stop
    }

    fn run_one(&mut self, index: usize, memos: &Memos) -> Result<Output, Decline> {
        let Self {
            chain_id,
            transactions,
            accounts,
            shapes,
            ..
        } = self;
        let txn = &transactions[index];
        let bytes = txn.bytes.as_deref().ok_or(Decline)?;
        if !txn.valid {
            return Ok(discarded(status::INVALID_SIGNATURE));
        }
        let mut payment = shapes.parse(bytes).ok_or(Decline)?;
        payment.size = txn.size;
        let paths = shapes.paths(&payment);
        let outcome = payment::execute(accounts, memos, &payment, *chain_id, &paths)?;
        if status::is_discarded(outcome.status) {
            return Ok(discarded(outcome.status));
        }
        if outcome
            .writes
            .iter()
            .any(|write| write.address == DIEM_ROOT_ADDRESS)
        {
            memos.root.replace(RootMemo::default());
        }
        Ok(self.commit(outcome))
    }

    /// Merge a kept transaction's writes (`BlockState.commit`): the write set in (address,
    /// path) order, and the blob of each account it touched.
    fn commit(&mut self, outcome: Outcome) -> Output {
        let Outcome {
            status,
            gas_used,
            mut writes,
            events,
        } = outcome;
        writes.sort_by(|a, b| (a.address, &a.path.path).cmp(&(b.address, &b.path.path)));
        let mut write_set = Vec::with_capacity(
            64 + writes
                .iter()
                .map(|w| w.path.path.len() + w.value.len() + 20)
                .sum::<usize>(),
        );
        push_uleb128(&mut write_set, writes.len() as u64);
        for write in &writes {
            write_set.extend_from_slice(&write.address);
            push_uleb128(&mut write_set, write.path.path.len() as u64);
            write_set.extend_from_slice(&write.path.path);
            write_set.push(1);
            push_uleb128(&mut write_set, write.value.len() as u64);
            write_set.extend_from_slice(&write.value);
        }
        let mut touched: Vec<Address> = Vec::with_capacity(3);
        for write in &writes {
            self.accounts
                .writable(write.address)
                .set(&write.path.key, Some(&write.value));
            self.dirty.insert(write.address);
            if self.exported.contains(&write.address) {
                let paths = self.unsynced.entry(write.address).or_default();
                if !paths.iter().any(|path| **path == *write.path) {
                    paths.push(write.path.clone());
                }
            }
            if touched.last() != Some(&write.address) {
                touched.push(write.address);
            }
        }
        let blobs = touched
            .into_iter()
            .map(|address| {
                let blob = match self.accounts.slot(&address) {
                    Some(Slot::Present(account)) => account.blob().map(<[u8]>::to_vec),
                    _ => None,
                };
                (address, blob)
            })
            .collect();
        Output {
            status,
            gas_used,
            write_set,
            events,
            blobs,
        }
    }

    /// The output of transaction `index` if it ran natively.
    pub fn output(&self, index: usize) -> Option<&Output> {
        self.outputs.get(index).and_then(Option::as_ref)
    }

    /// Take the output of transaction `index` out of the block, if it ran natively.
    pub fn take_output(&mut self, index: usize) -> Option<Output> {
        self.outputs.get_mut(index).and_then(Option::take)
    }

    /// The new blob of every account written in the block, in address order (None: no state
    /// left); the accounts with state are left in `cache` for the next block.
    pub fn finish(&mut self, cache: &mut AccountCache) -> Vec<(Address, Option<Vec<u8>>)> {
        let mut auth_keys = std::mem::take(&mut self.auth_keys);
        if auth_keys.len() > AUTH_KEYS_CAPACITY {
            auth_keys.clear();
        }
        cache.auth_keys = auth_keys;
        let mut dirty: Vec<Address> = self.dirty.iter().copied().collect();
        dirty.sort_unstable();
        dirty
            .into_iter()
            .map(|address| match self.accounts.slot(&address) {
                Some(Slot::Present(account)) if !account.is_empty() => {
                    cache.put(address, account.clone());
                    (address, account.blob().map(<[u8]>::to_vec))
                }
                _ => (address, None),
            })
            .collect()
    }
}

/// The slot of an account of the committed state: found in `cache` when it remembers exactly
/// this blob, decoded otherwise.
pub fn slot_of(address: &Address, blob: Option<&[u8]>, cache: &AccountCache) -> Slot {
    let Some(blob) = blob else {
        return Slot::Absent;
    };
    if let Some(account) = cache.get(address, blob) {
        return Slot::Present(account);
    }
    match Account::decode(blob) {
        Ok(account) => Slot::Present(Arc::new(account)),
        Err(_) => Slot::Malformed,
    }
}

fn discarded(status: Status) -> Output {
    Output {
        status,
        gas_used: 0,
        write_set: Vec::new(),
        events: Vec::new(),
        blobs: Vec::new(),
    }
}
