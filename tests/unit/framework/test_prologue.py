"""Every prologue status of diem-protocol.md §9: the transaction is discarded and changes nothing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from diem import diem_types as dt
from diem import stdlib
from testchain import CHAIN_ID, Key, TestChain, sdk_address, status_of

from libra.framework.vm import check_prologue
from libra.types.move import AccountAddress
from libra.types.transaction import (
    DirectWriteSet,
    Module,
    SignedTransaction,
    WriteSetTxnPayload,
)
from libra.types.write_set import ChangeSet, WriteSet


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    chain = TestChain()
    alice = chain.new_parent_vasp("alice", fund=10**6)
    bob = chain.new_parent_vasp("bob")
    return chain, alice, bob, chain.view.copy(), dict(chain.seq)


@pytest.fixture
def env(setup):  # type: ignore[no-untyped-def]
    chain, alice, bob, view, seq = setup
    chain.view, chain.seq = view.copy(), dict(seq)
    return chain, alice, bob


def discarded(chain: TestChain, txn: SignedTransaction) -> str:
    blobs = dict(chain.view.blobs)
    out = chain.run(txn)
    kind, _, name = status_of(out)
    assert kind == "Discarded"
    assert out.write_set.entries == () and out.events == () and out.gas_used == 0
    # Nothing changed except Diem Root's block resources (the block prologue).
    changed = {a for a in chain.view.blobs if chain.view.blobs[a] != blobs.get(a)}
    assert changed <= {chain.root_account.address}
    return name  # type: ignore[return-value]


def test_invalid_signature(env):
    chain, alice, bob = env
    txn = chain.p2p(alice, bob.address, 1)
    forged = chain.p2p(alice, bob.address, 2, seq=0)
    bad = dataclasses.replace(txn, authenticator=forged.authenticator)
    assert discarded(chain, bad) == "INVALID_SIGNATURE"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"chain_id": 3}, "BAD_CHAIN_ID"),
        ({"seq": 5}, "SEQUENCE_NUMBER_TOO_NEW"),
        ({"expiration": 1}, "TRANSACTION_EXPIRED"),
        ({"max_gas": 4_000_001}, "MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND"),
        ({"max_gas": 0}, "MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS"),
        ({"price": 10_001}, "GAS_UNIT_PRICE_ABOVE_MAX_BOUND"),
        ({"currency": "ABC"}, "BAD_TRANSACTION_FEE_CURRENCY"),
        ({"currency": "XDX", "price": 1}, "BAD_TRANSACTION_FEE_CURRENCY"),
        ({"currency": "not-an-identifier"}, "INVALID_GAS_SPECIFIER"),
        ({"currency": "XUS", "price": 1, "max_gas": 2_000_000}, "INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE"),
        ({"key": Key.from_seed("mallory")}, "INVALID_AUTH_KEY"),
    ],
)
def test_prologue_statuses(env, kwargs, status):
    chain, alice, bob = env
    assert discarded(chain, chain.p2p(alice, bob.address, 1, **kwargs)) == status


def test_sequence_number_too_old(env):
    chain, alice, bob = env
    chain.pay(alice, bob, 1)
    assert discarded(chain, chain.p2p(alice, bob.address, 1, seq=0)) == "SEQUENCE_NUMBER_TOO_OLD"


def test_sender_does_not_exist(env):
    chain, _, bob = env
    ghost = Key.from_seed("ghost")
    from testchain import Account

    assert discarded(chain, chain.p2p(Account(ghost, ghost.address), bob.address, 1)) == "SENDING_ACCOUNT_DOES_NOT_EXIST"


def test_sender_frozen(env):
    chain, alice, bob = env
    freeze = stdlib.encode_freeze_account_script_function(np.uint64(0), sdk_address(alice.address))
    assert status_of(chain.run(chain.sign(chain.tc_account, freeze)))[0] == "Executed"
    assert discarded(chain, chain.p2p(alice, bob.address, 1)) == "SENDING_ACCOUNT_FROZEN"


def test_unknown_script_and_function(env):
    chain, alice, _ = env
    script = dt.TransactionPayload__Script(value=dt.Script(code=b"\x00not a known script", ty_args=[], args=[]))
    assert discarded(chain, chain.sign(alice, script)) == "UNKNOWN_SCRIPT"
    module = dt.ModuleId(address=sdk_address(AccountAddress.from_literal("0x1")), name=dt.Identifier("PaymentScripts"))
    function = dt.ScriptFunction(module=module, function=dt.Identifier("steal"), ty_args=[], args=[])
    assert discarded(chain, chain.sign(alice, dt.TransactionPayload__ScriptFunction(value=function))) == "FUNCTION_RESOLUTION_FAILURE"


def test_write_set_and_module_payloads_rejected(env):
    chain, alice, bob = env
    payload = WriteSetTxnPayload(DirectWriteSet(ChangeSet(WriteSet(()))))
    assert discarded(chain, chain.sign(alice, dt.TransactionPayload__WriteSet(value=dt.WriteSetPayload__Direct(value=dt.ChangeSet(write_set=dt.WriteSet(value=dt.WriteSetMut(write_set=[])), events=[]))))) == "REJECTED_WRITE_SET"
    assert payload.write_set.change_set.write_set.entries == ()
    assert discarded(chain, chain.sign(alice, dt.TransactionPayload__Module(value=dt.Module(code=b"\x00")))) == "INVALID_MODULE_PUBLISHER"
    assert Module  # the decoded payload type


def test_exceeded_max_transaction_size(env):
    chain, alice, bob = env
    assert discarded(chain, chain.p2p(alice, bob.address, 1, metadata=b"x" * 5000)) == "EXCEEDED_MAX_TRANSACTION_SIZE"


def test_check_prologue_is_reusable_by_mempool(env):
    chain, alice, bob = env
    now = chain.now
    good = chain.p2p(alice, bob.address, 1)
    assert check_prologue(chain.view, good, CHAIN_ID, now) is None
    assert check_prologue(chain.view, good, CHAIN_ID + 1, now) == "BAD_CHAIN_ID"
    expiring = good.raw_txn.expiration_timestamp_secs * 1_000_000
    assert check_prologue(chain.view, good, CHAIN_ID, expiring) == "TRANSACTION_EXPIRED"


def test_remembered_authentication_key_hashes_equal_sha3() -> None:
    import hashlib
    import os

    from libra.framework import vm

    keys = [os.urandom(32) + scheme for scheme in (b"\x00", b"\x01") for _ in range(50)]
    for _ in range(2):  # computed, then remembered
        for data in keys:
            assert vm._sha3_remembered(data) == hashlib.sha3_256(data).digest()
    vm._AUTH_KEYS.clear()
    assert vm._sha3_remembered(keys[0]) == hashlib.sha3_256(keys[0]).digest()
