//! A hand-built state (Diem Root's currency, clock and limit, the fee pool, two accounts)
//! and payments through [`BlockExecutor`]: the rules' effects, and (ignored by default) the
//! native cost of one payment, `cargo test --release -p libra-engine -- --ignored --nocapture`.

use std::time::Instant;

use super::account::{encoded_key, Account, Address};
use super::block::BlockExecutor;
use super::cache::AccountCache;
use super::resources::{
    encode_transaction_fee, plain_paths, CurrencyPaths, DiemAccount, EventHandle, SmallBytes,
    DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS,
};
use super::status;
use crate::bcs::push_uleb128;
use crate::hashing::sha3_256;

pub(crate) fn blob(resources: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
    let mut pairs: Vec<(Vec<u8>, &Vec<u8>)> = resources
        .iter()
        .map(|(path, value)| (encoded_key(path), value))
        .collect();
    pairs.sort();
    let mut out = Vec::new();
    push_uleb128(&mut out, pairs.len() as u64);
    for (key, value) in pairs {
        out.extend_from_slice(&key);
        push_uleb128(&mut out, value.len() as u64);
        out.extend_from_slice(value);
    }
    out
}

pub(crate) fn currency_info(code: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0u128.to_le_bytes()); // total_value
    out.extend_from_slice(&0u64.to_le_bytes()); // preburn_value
    out.extend_from_slice(&(1u64 << 32).to_le_bytes()); // rate 1.0
    out.push(0); // is_synthetic
    out.extend_from_slice(&1_000_000u64.to_le_bytes());
    out.extend_from_slice(&100u64.to_le_bytes());
    push_uleb128(&mut out, code.len() as u64);
    out.extend_from_slice(code);
    out.push(1); // can_mint
    for handle in 0..5u8 {
        out.extend_from_slice(&0u64.to_le_bytes());
        out.push(24);
        out.extend_from_slice(&[handle; 24]);
    }
    out
}

pub(crate) struct Party {
    pub(crate) secret: [u8; 32],
    pub(crate) address: Address,
}

pub(crate) fn party(seed: u8) -> Party {
    let secret = [seed; 32];
    let mut scheme = secret.to_vec(); // stands for the public key: the tests sign nothing
    scheme.push(0);
    let auth = sha3_256(&scheme);
    Party {
        secret,
        address: auth[16..].try_into().unwrap(),
    }
}

pub(crate) fn account_blob(who: &Party, coins: u64, sequence_number: u64) -> Vec<u8> {
    let mut scheme = who.secret.to_vec();
    scheme.push(0);
    let guid = |n: u8| {
        let mut guid = vec![n, 0, 0, 0, 0, 0, 0, 0];
        guid.extend_from_slice(&who.address);
        SmallBytes::from(&guid[..])
    };
    let account = DiemAccount {
        authentication_key: SmallBytes::from(&sha3_256(&scheme)[..]),
        withdraw_capability: Some(who.address),
        key_rotation_capability: Some(who.address),
        received_events: EventHandle {
            counter: 0,
            guid: guid(0),
        },
        sent_events: EventHandle {
            counter: 0,
            guid: guid(1),
        },
        sequence_number,
    };
    let xus = CurrencyPaths::new("XUS");
    blob(&[
        (&plain_paths().diem_account.path, account.encode()),
        (&xus.balance.path, coins.to_le_bytes().to_vec()),
        (&plain_paths().freezing_bit.path, vec![0]),
    ])
}

/// A signed payment (script function) of `amount` XUS with max gas 100; the "signature" is not
/// checked here.
pub(crate) fn payment(
    payer: &Party,
    sequence_number: u64,
    payee: &Address,
    amount: u64,
    price: u64,
) -> Vec<u8> {
    let mut one = [0u8; 16];
    one[15] = 1;
    let mut out = Vec::new();
    out.extend_from_slice(&payer.address);
    out.extend_from_slice(&sequence_number.to_le_bytes());
    out.push(3);
    out.extend_from_slice(&one);
    out.push(14);
    out.extend_from_slice(b"PaymentScripts");
    out.push(26);
    out.extend_from_slice(b"peer_to_peer_with_metadata");
    out.extend_from_slice(&[1, 7]);
    out.extend_from_slice(&one);
    out.extend_from_slice(&[3, b'X', b'U', b'S', 3, b'X', b'U', b'S', 0]);
    out.push(4);
    out.push(16);
    out.extend_from_slice(payee);
    out.push(8);
    out.extend_from_slice(&amount.to_le_bytes());
    out.extend_from_slice(&[1, 0, 1, 0]);
    out.extend_from_slice(&100u64.to_le_bytes());
    out.extend_from_slice(&price.to_le_bytes());
    out.extend_from_slice(&[3, b'X', b'U', b'S']);
    out.extend_from_slice(&2_000_000_000u64.to_le_bytes());
    out.push(2);
    out.extend_from_slice(&[0, 32]);
    out.extend_from_slice(&payer.secret);
    out.push(64);
    out.extend_from_slice(&[0; 64]);
    out
}

pub(crate) fn state() -> Vec<(Address, Vec<u8>)> {
    let xus = CurrencyPaths::new("XUS");
    let paths = plain_paths();
    let root = blob(&[
        (&xus.currency_info.path, currency_info(b"XUS")),
        (
            &paths.current_time.path,
            1_000_000_000_000_000u64.to_le_bytes().to_vec(),
        ),
        (
            &paths.dual_attestation_limit.path,
            1_000_000_000u64.to_le_bytes().to_vec(),
        ),
    ]);
    let tc = blob(&[(&xus.transaction_fee.path, encode_transaction_fee(0, 0))]);
    vec![(DIEM_ROOT_ADDRESS, root), (TREASURY_COMPLIANCE_ADDRESS, tc)]
}

fn block_with(
    txns: &[Vec<u8>],
    accounts: &[(Address, Vec<u8>)],
    cache: &AccountCache,
) -> BlockExecutor {
    let mut block = BlockExecutor::new(2);
    for txn in txns {
        block.add(Some(txn.clone()), true, txn.len());
    }
    let known: std::collections::HashMap<Address, &Vec<u8>> =
        accounts.iter().map(|(a, b)| (*a, b)).collect();
    for address in block.needed() {
        block.load(address, known.get(&address).map(|b| b.as_slice()), cache);
    }
    block
}

#[test]
fn a_payment_moves_coins_bumps_counters_and_charges_the_fee() {
    let (alice, bob) = (party(1), party(2));
    let mut accounts = state();
    accounts.push((alice.address, account_blob(&alice, 1000, 0)));
    accounts.push((bob.address, account_blob(&bob, 5, 0)));
    let txns = vec![
        payment(&alice, 0, &bob.address, 100, 2),
        payment(&alice, 1, &bob.address, 10_000, 0), // too much
        payment(&alice, 5, &bob.address, 1, 0),      // sequence number too new
    ];
    let mut cache = AccountCache::new(100);
    let mut block = block_with(&txns, &accounts, &cache);
    assert_eq!(block.run(0), 3);
    let first = block.output(0).unwrap();
    assert_eq!((first.status, first.gas_used), (status::EXECUTED, 12));
    assert_eq!(first.events.len(), 2);
    assert_eq!(first.events[0].key[..8], [1, 0, 0, 0, 0, 0, 0, 0]); // alice's sent handle
                                                                    // the fee pool, alice and bob touched, in address order
    let touched: Vec<Address> = first.blobs.iter().map(|(address, _)| *address).collect();
    let mut sorted = touched.clone();
    sorted.sort();
    assert_eq!(touched, sorted);
    assert_eq!(touched.len(), 3);
    let balance = |blob: &[u8]| {
        let account = Account::decode(blob).unwrap();
        u64::from_le_bytes(
            account
                .get(&CurrencyPaths::new("XUS").balance.key)
                .unwrap()
                .try_into()
                .unwrap(),
        )
    };
    let blob_of = |address: &Address| {
        first
            .blobs
            .iter()
            .find(|(a, _)| a == address)
            .unwrap()
            .1
            .clone()
            .unwrap()
    };
    assert_eq!(balance(&blob_of(&alice.address)), 1000 - 100 - 24);
    assert_eq!(balance(&blob_of(&bob.address)), 105);
    let second = block.output(1).unwrap();
    assert_eq!(second.status, status::ABORT_EINSUFFICIENT_BALANCE);
    assert!(second.events.is_empty());
    assert_eq!(
        block.output(2).unwrap().status,
        status::SEQUENCE_NUMBER_TOO_NEW
    );
    let changed = block.finish(&mut cache);
    assert_eq!(changed.len(), 3);
    assert!(cache
        .get(
            &alice.address,
            changed
                .iter()
                .find(|(a, _)| *a == alice.address)
                .unwrap()
                .1
                .as_ref()
                .unwrap()
        )
        .is_some());
}

#[test]
#[ignore]
fn native_cost_of_a_payment() {
    let parties: Vec<Party> = (0..200u8).map(party).collect();
    let mut accounts = state();
    for who in &parties {
        accounts.push((who.address, account_blob(who, 1 << 40, 0)));
    }
    let mut cache = AccountCache::new(10_000);
    let mut sequence = vec![0u64; parties.len()];
    let (blocks, size) = (40, 500);
    let mut elapsed = std::time::Duration::ZERO;
    for round in 0..blocks {
        let txns: Vec<Vec<u8>> = (0..size)
            .map(|n| {
                let i = (round * size + n) % parties.len();
                let txn = payment(
                    &parties[i],
                    sequence[i],
                    &parties[(i + 7) % parties.len()].address,
                    3,
                    0,
                );
                sequence[i] += 1;
                txn
            })
            .collect();
        let mut block = block_with(&txns, &accounts, &cache);
        let started = Instant::now();
        assert_eq!(block.run(0), size);
        let changed = block.finish(&mut cache);
        elapsed += started.elapsed();
        for (address, blob) in changed {
            if let Some(entry) = accounts.iter_mut().find(|(a, _)| *a == address) {
                entry.1 = blob.unwrap();
            }
        }
    }
    println!(
        "{:.0} ns per payment (run + finish)",
        elapsed.as_nanos() as f64 / (blocks * size) as f64
    );
}
