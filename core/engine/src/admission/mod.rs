//! Mempool admission's prologue of the common payment, natively: `framework/vm.py`'s
//! `check_admission` (the checks of `check_prologue_in`/`check_sender`, in their order, with
//! their status names, and the sender's account sequence number it returns), run by the
//! execution engine's own prologue ([`payment::prologue`]) on the committed state.
//!
//! The committed accounts come as their blobs (Diem Root, Treasury Compliance, the sender):
//! each is found by address and exact blob in the ledger's [`AccountCache`] or among the
//! accounts this checker decoded before, and decoded otherwise, so a check never sees
//! another version's state. Whatever the native side does not answer for ([`Decline`]: other
//! payloads or authenticators, state that does not decode) goes to the framework's
//! `check_admission`, which answers as it always did.

use std::collections::HashMap;
use std::sync::Arc;

use crate::execution::account::{Account, Address};
use crate::execution::block::slot_of;
use crate::execution::cache::{AccountCache, AUTH_KEYS_CAPACITY};
use crate::execution::payment::{self, Accounts, Decline, Memos, RootMemo, Shapes, Slot};
use crate::execution::resources::{DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS};
use crate::execution::status::Status;

#[cfg(test)]
mod tests;

/// How many senders' accounts a checker keeps decoded (then it forgets them all).
pub const SENDERS_CAPACITY: usize = 20_000;

/// `check_admission`'s answer: the prologue's first failure (None: it passes) and the
/// sender's account sequence number (None: the sender has no `DiemAccount`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub failure: Option<Status>,
    pub account_sequence_number: Option<u64>,
}

/// The committed accounts of one check: blobs as the state view gave them (None: no state).
#[derive(Clone, Copy, Debug)]
pub struct Committed<'a> {
    pub diem_root: Option<&'a [u8]>,
    pub treasury_compliance: Option<&'a [u8]>,
    pub sender: Option<&'a [u8]>,
}

/// Admission checks of one node's pool, from one committed state to the next.
pub struct AdmissionChecker {
    chain_id: u8,
    shapes: Shapes,
    diem_root: Slot,
    treasury_compliance: Slot,
    /// Diem Root's decoded values (valid while its blob is the one `diem_root` holds) and the
    /// authentication keys of the public keys seen.
    memos: Memos,
    /// Senders' accounts decoded here, by address (used only for exactly the same blob).
    senders: HashMap<Address, Arc<Account>>,
}

/// Whether `slot` is what `blob` decodes to (a malformed blob is decoded again: rare).
fn holds(slot: &Slot, blob: Option<&[u8]>) -> bool {
    match (slot, blob) {
        (Slot::Present(account), Some(blob)) => account.raw_blob() == blob,
        (Slot::Absent, None) => true,
        _ => false,
    }
}

impl AdmissionChecker {
    pub fn new(chain_id: u8) -> Self {
        AdmissionChecker {
            chain_id,
            shapes: Shapes::default(),
            // nothing loaded yet (a malformed slot never `holds` a blob)
            diem_root: Slot::Malformed,
            treasury_compliance: Slot::Malformed,
            memos: Memos::default(),
            senders: HashMap::new(),
        }
    }

    pub fn chain_id(&self) -> u8 {
        self.chain_id
    }

    /// `check_admission` of the signed transaction `signed` (its BCS, whose length is the size
    /// the size bound checks) against `committed`, with `now_usecs` the ledger's time;
    /// `Decline` when the framework must answer instead.
    pub fn check(
        &mut self,
        signed: &[u8],
        now_usecs: u64,
        committed: Committed<'_>,
        cache: &AccountCache,
    ) -> Result<Verdict, Decline> {
        let payment = self.shapes.parse(signed).ok_or(Decline)?;
        let paths = self.shapes.paths(&payment);
        if !holds(&self.diem_root, committed.diem_root) {
            self.diem_root = slot_of(&DIEM_ROOT_ADDRESS, committed.diem_root, cache);
            self.memos.root.replace(RootMemo::default());
        }
        if !holds(&self.treasury_compliance, committed.treasury_compliance) {
            self.treasury_compliance = slot_of(
                &TREASURY_COMPLIANCE_ADDRESS,
                committed.treasury_compliance,
                cache,
            );
        }
        let mut accounts = Accounts::default();
        accounts.insert(DIEM_ROOT_ADDRESS, self.diem_root.clone());
        accounts.insert(
            TREASURY_COMPLIANCE_ADDRESS,
            self.treasury_compliance.clone(),
        );
        let sender = payment.sender;
        if !accounts.contains(&sender) {
            // (Diem Root or Treasury Compliance sending: the committed blob is the one above)
            accounts.insert(sender, self.sender_slot(sender, committed.sender, cache));
        }
        let failure = payment::prologue(
            &accounts,
            &self.memos,
            &payment,
            self.chain_id,
            now_usecs,
            &paths,
        )?
        .err();
        // check_admission reads the sender's DiemAccount whatever the prologue found
        let account_sequence_number = accounts
            .diem_account(&sender)?
            .map(|account| account.sequence_number);
        if self.memos.auth_keys.borrow().len() > AUTH_KEYS_CAPACITY {
            self.memos.auth_keys.borrow_mut().clear();
        }
        Ok(Verdict {
            failure,
            account_sequence_number,
        })
    }

    /// The sender's committed account: the ledger's cache, then the accounts decoded here
    /// (each only for exactly `blob`), then decoded (and kept).
    fn sender_slot(&mut self, address: Address, blob: Option<&[u8]>, cache: &AccountCache) -> Slot {
        let Some(blob) = blob else {
            return Slot::Absent;
        };
        if let Some(account) = cache.get(&address, blob) {
            return Slot::Present(account);
        }
        if let Some(account) = self.senders.get(&address) {
            if account.raw_blob() == blob {
                return Slot::Present(account.clone());
            }
        }
        match Account::decode(blob) {
            Ok(account) => {
                let account = Arc::new(account);
                if self.senders.len() >= SENDERS_CAPACITY {
                    self.senders.clear();
                }
                self.senders.insert(address, account.clone());
                Slot::Present(account)
            }
            Err(_) => Slot::Malformed,
        }
    }
}
