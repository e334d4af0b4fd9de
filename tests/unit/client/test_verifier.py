"""Honest proofs verify; every single-bit flip of every proof kind is rejected."""

from __future__ import annotations

import random

import pytest

from libra.bcs import BcsError
from libra.client.verifier import (
    VerificationError,
    verify_account_state,
    verify_consistency,
    verify_epoch_change_proof,
    verify_event,
    verify_ledger_info,
    verify_transaction_info,
    verify_transaction_list,
)
from libra.storage.libradb import LibraDB
from libra.storage.testing import ChainBuilder, Validators
from libra.types.ledger import EpochState, LedgerInfoWithSignatures
from libra.types.proof import (
    AccountStateWithProof,
    AccumulatorConsistencyProof,
    EpochChangeProof,
    EventWithProof,
    TransactionInfoWithProof,
    TransactionListWithProof,
)


@pytest.fixture(scope="module")
def ledger():
    rng = random.Random(11)
    validators = Validators.generate(4, rng)
    chain = ChainBuilder(rng, validators)
    db = LibraDB.in_memory()
    for i, size in enumerate([3, 8, 5, 12]):
        chain.commit(db, size, end_epoch=i < 2)
    return db, chain


def flips(data: bytes):
    for index in range(len(data) * 8):
        mutated = bytearray(data)
        mutated[index >> 3] ^= 1 << (index & 7)
        yield index, bytes(mutated)


def assert_all_flips_rejected(encoded: bytes, check, skip=()) -> int:
    rejected = 0
    for index, mutated in flips(encoded):
        if index in skip:
            continue
        try:
            check(mutated)
        except (BcsError, VerificationError):
            rejected += 1
            continue
        pytest.fail(f"bit {index} flipped and still accepted")
    return rejected


def test_honest_and_flipped_proofs(ledger):
    db, chain = ledger
    li_sig = db.get_latest_ledger_info()
    li = li_sig.ledger_info
    verifier = chain.validators.verifier
    total = 0

    def check_li(data):
        verify_ledger_info(LedgerInfoWithSignatures.from_bcs(data), verifier)

    check_li(li_sig.to_bcs())
    total += assert_all_flips_rejected(li_sig.to_bcs(), check_li)

    version = 9
    tip = db.get_transaction_info_with_proof(version)

    def check_tip(data):
        verify_transaction_info(li, version, TransactionInfoWithProof.from_bcs(data))

    check_tip(tip.to_bcs())
    total += assert_all_flips_rejected(tip.to_bcs(), check_tip)

    for address in [chain.accounts[0], chain.accounts[-1], b"\x42" * 16]:
        state = db.get_account_state_with_proof(address)

        def check_state(data, address=address):
            verify_account_state(li, address, AccountStateWithProof.from_bcs(data))

        check_state(state.to_bcs())
        total += assert_all_flips_rejected(state.to_bcs(), check_state)

    key = next(iter(chain.event_keys))
    event = db.get_event_with_proof(key, 0)

    def check_event(data):
        verify_event(li, EventWithProof.from_bcs(data))

    check_event(event.to_bcs())
    total += assert_all_flips_rejected(event.to_bcs(), check_event)

    listing = db.get_transaction_list_with_proof(5, 6, include_events=True)

    def check_listing(data):
        verify_transaction_list(li, 5, TransactionListWithProof.from_bcs(data))

    check_listing(listing.to_bcs())
    total += assert_all_flips_rejected(listing.to_bcs(), check_listing)

    frozen = db.get_accumulator_frozen_roots(4)
    consistency = db.get_accumulator_consistency_proof(4)

    def check_consistency(data):
        verify_consistency(frozen, 4, AccumulatorConsistencyProof.from_bcs(data), li)

    check_consistency(consistency.to_bcs())
    total += assert_all_flips_rejected(consistency.to_bcs(), check_consistency)

    changes = db.get_epoch_change_proof(1, 3)
    trusted = EpochState(1, verifier)

    def check_changes(data):
        verify_epoch_change_proof(EpochChangeProof.from_bcs(data), trusted)

    check_changes(changes.to_bcs())
    # The final `more` flag is an unauthenticated hint (as in Diem): its low bit is not checked.
    more_bit = (len(changes.to_bcs()) - 1) * 8
    total += assert_all_flips_rejected(changes.to_bcs(), check_changes, skip={more_bit})
    assert total >= 10_000


def test_quorum_and_unknown_signers(ledger):
    db, chain = ledger
    li = db.get_latest_ledger_info().ledger_info
    verifier = chain.validators.verifier
    verify_ledger_info(chain.validators.sign(li, signers=3), verifier)
    with pytest.raises(VerificationError, match="quorum"):
        verify_ledger_info(chain.validators.sign(li, signers=2), verifier)
    other = Validators.generate(4, random.Random(99))
    with pytest.raises(VerificationError, match="unknown"):
        verify_ledger_info(other.sign(li), verifier)
