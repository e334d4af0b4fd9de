//! Admission of payments on the hand-built state of the execution tests: each prologue
//! outcome, the sender's sequence number, and declines (the Python differential test,
//! `tests/unit/native/test_admission_diff.py`, holds every answer to the framework's).

use super::{AdmissionChecker, Committed, Verdict};
use crate::execution::account::{encoded_key, Account};
use crate::execution::cache::AccountCache;
use crate::execution::payment::Decline;
use crate::execution::resources::{plain_paths, CurrencyPaths};
use crate::execution::status::{self, Status};
use crate::execution::tests::{account_blob, party, payment, state, Party};
use std::sync::Arc;

const NOW_USECS: u64 = 1_000_000_000_000_000; // expirations are 2e9 seconds

struct World {
    root: Vec<u8>,
    tc: Vec<u8>,
    checker: AdmissionChecker,
    cache: AccountCache,
}

impl World {
    fn new() -> World {
        let accounts = state();
        World {
            root: accounts[0].1.clone(),
            tc: accounts[1].1.clone(),
            checker: AdmissionChecker::new(2),
            cache: AccountCache::new(100),
        }
    }

    fn check(&mut self, txn: &[u8], sender: Option<&[u8]>) -> Result<Verdict, Decline> {
        self.check_at(txn, sender, NOW_USECS)
    }

    fn check_at(
        &mut self,
        txn: &[u8],
        sender: Option<&[u8]>,
        now: u64,
    ) -> Result<Verdict, Decline> {
        let committed = Committed {
            diem_root: Some(&self.root),
            treasury_compliance: Some(&self.tc),
            sender,
        };
        self.checker.check(txn, now, committed, &self.cache)
    }
}

fn verdict(failure: Option<Status>, account_sequence_number: Option<u64>) -> Verdict {
    Verdict {
        failure,
        account_sequence_number,
    }
}

fn with_resource(blob: &[u8], path: &[u8], value: Option<&[u8]>) -> Vec<u8> {
    let mut account = Account::decode(blob).unwrap();
    account.set(&encoded_key(path), value);
    account.raw_blob().to_vec()
}

#[test]
fn each_prologue_outcome_with_the_senders_sequence_number() {
    let mut world = World::new();
    let (alice, bob): (Party, Party) = (party(1), party(2));
    let alice_blob = account_blob(&alice, 1000, 3);
    let pay = |seq: u64, price: u64| payment(&alice, seq, &bob.address, 5, price);
    let blob = Some(&alice_blob[..]);
    assert_eq!(world.check(&pay(3, 0), blob), Ok(verdict(None, Some(3))));
    assert_eq!(
        world.check(&pay(2, 0), blob),
        Ok(verdict(Some(status::SEQUENCE_NUMBER_TOO_OLD), Some(3)))
    );
    assert_eq!(
        world.check(&pay(9, 0), blob),
        Ok(verdict(Some(status::SEQUENCE_NUMBER_TOO_NEW), Some(3)))
    );
    assert_eq!(
        world.check(&pay(u64::MAX, 0), blob),
        Ok(verdict(Some(status::SEQUENCE_NUMBER_TOO_BIG), Some(3)))
    );
    // max gas 100 at price 10 is 1000: exactly the balance; 11 is too much
    assert_eq!(world.check(&pay(3, 10), blob), Ok(verdict(None, Some(3))));
    assert_eq!(
        world.check(&pay(3, 11), blob),
        Ok(verdict(
            Some(status::INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE),
            Some(3)
        ))
    );
    assert_eq!(
        world.check(&pay(3, 10_001), blob),
        Ok(verdict(
            Some(status::GAS_UNIT_PRICE_ABOVE_MAX_BOUND),
            Some(3)
        ))
    );
    // expired by the ledger's time (expiration 2e9 s)
    assert_eq!(
        world.check_at(&pay(3, 0), blob, 2_000_000_000 * 1_000_000),
        Ok(verdict(Some(status::TRANSACTION_EXPIRED), Some(3)))
    );
    // no account
    assert_eq!(
        world.check(&pay(0, 0), None),
        Ok(verdict(Some(status::SENDING_ACCOUNT_DOES_NOT_EXIST), None))
    );
    // frozen
    let frozen = with_resource(&alice_blob, &plain_paths().freezing_bit.path, Some(&[1]));
    assert_eq!(
        world.check(&pay(3, 0), Some(&frozen)),
        Ok(verdict(Some(status::SENDING_ACCOUNT_FROZEN), Some(3)))
    );
    // another key
    let other = account_blob(&bob, 1000, 3);
    assert_eq!(
        world.check(&pay(3, 0), Some(&other)),
        Ok(verdict(Some(status::INVALID_AUTH_KEY), Some(3)))
    );
}

#[test]
fn the_committed_blob_decides_never_what_was_seen_before() {
    let mut world = World::new();
    let (alice, bob) = (party(1), party(2));
    let pay = payment(&alice, 4, &bob.address, 5, 0);
    let old = account_blob(&alice, 1000, 3);
    let new = account_blob(&alice, 1000, 4);
    assert_eq!(
        world.check(&pay, Some(&old)),
        Ok(verdict(Some(status::SEQUENCE_NUMBER_TOO_NEW), Some(3)))
    );
    assert_eq!(world.check(&pay, Some(&new)), Ok(verdict(None, Some(4))));
    // the ledger's cache holds another state of alice: not used for this blob
    world
        .cache
        .put(alice.address, Arc::new(Account::decode(&new).unwrap()));
    assert_eq!(
        world.check(&pay, Some(&old)),
        Ok(verdict(Some(status::SEQUENCE_NUMBER_TOO_NEW), Some(3)))
    );
    // Diem Root without the gas currency: its decoded values are dropped with its blob
    let xus = CurrencyPaths::new("XUS");
    world.root = with_resource(&world.root, &xus.currency_info.path, None);
    assert_eq!(
        world.check(&pay, Some(&new)),
        Ok(verdict(Some(status::BAD_TRANSACTION_FEE_CURRENCY), Some(4)))
    );
    // and the fee pool matters only when there is a fee
    world = World::new();
    world.tc = with_resource(&world.tc, &xus.transaction_fee.path, None);
    assert_eq!(world.check(&pay, Some(&new)), Ok(verdict(None, Some(4))));
    let priced = payment(&alice, 4, &bob.address, 5, 1);
    assert_eq!(
        world.check(&priced, Some(&new)),
        Ok(verdict(Some(status::BAD_TRANSACTION_FEE_CURRENCY), Some(4)))
    );
}

#[test]
fn what_the_framework_must_answer_is_declined() {
    let mut world = World::new();
    let (alice, bob) = (party(1), party(2));
    let pay = payment(&alice, 0, &bob.address, 5, 0);
    let good = account_blob(&alice, 1000, 0);
    // a sender blob that does not decode, even when the prologue fails before reading it
    assert_eq!(world.check(&pay, Some(&[2, 0])), Err(Decline));
    let oversized = payment(&alice, 0, &bob.address, 5, 10_001);
    assert_eq!(world.check(&oversized, Some(&[2, 0])), Err(Decline));
    // a DiemAccount that does not decode
    let broken = with_resource(&good, &plain_paths().diem_account.path, Some(&[1, 2, 3]));
    assert_eq!(world.check(&pay, Some(&broken)), Err(Decline));
    // not a payment, trailing bytes, an unreadable Diem Root
    assert_eq!(
        world.check(&pay[..pay.len() - 1], Some(&good)),
        Err(Decline)
    );
    let mut trailing = pay.clone();
    trailing.push(0);
    assert_eq!(world.check(&trailing, Some(&good)), Err(Decline));
    world.root = vec![1, 2];
    assert_eq!(world.check(&pay, Some(&good)), Err(Decline));
    // ... which an earlier failure never reads
    assert_eq!(
        world.check(&oversized, Some(&good)),
        Ok(verdict(
            Some(status::GAS_UNIT_PRICE_ABOVE_MAX_BOUND),
            Some(0)
        ))
    );
}
