"""execute_block: parallel signatures (Ed25519, MultiEd25519), block metadata, determinism across processes."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from diem import stdlib
from testchain import XUS, Account, Key, TestChain, sdk_address, status_of

from libra.bcs import Serializer
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import sha3_256, signing_message
from libra.crypto.multi_ed25519 import MultiEd25519PublicKey, sign_multi
from libra.execution import BlockOutput, execute_block
from libra.framework.events import NewBlockEvent, decode_event_data
from libra.types.move import AccountAddress
from libra.types.transaction import MultiEd25519Authenticator, SignedTransaction


def digest(output: BlockOutput) -> str:
    """A hash over everything the block produced, for byte-identity checks."""
    s = Serializer()
    outputs = ([output.metadata_output] if output.metadata_output else []) + list(output.transaction_outputs)
    for out in outputs:
        out.write_set.serialize(s)
        s.sequence(out.events, lambda ser, e: e.serialize(ser))
        s.u64(out.gas_used)
        s.str(repr(out.status))
    for address, blob in sorted(output.changed_blobs.items()):
        s.raw(address.value)
        s.option(blob, Serializer.bytes)
    return hashlib.sha3_256(s.output()).hexdigest()


def scenario() -> tuple[TestChain, list[SignedTransaction]]:
    chain = TestChain()
    alice = chain.new_parent_vasp("alice", fund=10**8)
    bob = chain.new_parent_vasp("bob", fund=10**8)
    txns = []
    for i in range(150):
        payer, payee = (alice, bob) if i % 2 else (bob, alice)
        txns.append(chain.p2p(payer, payee.address, 1000 + i, metadata=bytes([i % 256])))
    txns.append(chain.p2p(alice, bob.address, 10**12))
    txns.append(chain.p2p(alice, bob.address, 1, seq=0))
    return chain, txns


def test_block_metadata_emits_new_block_event():
    chain = TestChain()
    output = chain.execute([])
    meta = output.metadata_output
    assert type(meta.status).__name__ == "Executed"
    (event,) = meta.events
    data = decode_event_data(event.type_tag, event.event_data)
    assert isinstance(data, NewBlockEvent) and data.time_microseconds == chain.now
    assert output.changed_blobs.keys() == {AccountAddress.from_literal("0xA550C18")}


def test_same_block_twice_and_pool_give_identical_outputs():
    chain, txns = scenario()
    metadata = chain.metadata()
    first = execute_block(chain.view, metadata, txns, chain_id=2)
    with ThreadPoolExecutor(2) as pool:
        second = execute_block(chain.view, metadata, txns, chain_id=2, verifier=pool)
    assert digest(first) == digest(second)
    statuses = [status_of(o)[0] for o in first.transaction_outputs]
    assert statuses.count("Executed") == 150 and statuses[-2:] == ["MoveAbortStatus", "Discarded"]


_CHILD = """
import sys
sys.path.insert(0, {helpers!r})
sys.path.insert(0, {tests!r})
from test_executor import scenario, digest
from libra.execution import execute_block
chain, txns = scenario()
print(digest(execute_block(chain.view, chain.metadata(), txns, chain_id=2)))
"""


def test_two_processes_give_byte_identical_outputs():
    here = Path(__file__).resolve().parent
    chain, txns = scenario()
    local = digest(execute_block(chain.view, chain.metadata(), txns, chain_id=2))
    code = _CHILD.format(helpers=str(here.parent / "framework"), tests=str(here))
    remote = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert remote.stdout.strip() == local


def test_multi_ed25519_sender():
    chain = TestChain()
    keys = [Ed25519PrivateKey(hashlib.sha3_256(f"m{i}".encode()).digest()) for i in range(3)]
    public = MultiEd25519PublicKey.from_keys([k.public_key() for k in keys], 2)
    auth_key = sha3_256(public.to_bytes() + b"\x01")
    address = AccountAddress(auth_key[16:])
    create = stdlib.encode_create_parent_vasp_account_script_function(
        XUS, np.uint64(0), sdk_address(address), auth_key[:16], b"multi", False
    )
    assert status_of(chain.run(chain.sign(chain.tc_account, create)))[0] == "Executed"
    chain.pay(chain.dd_account, Account(Key.from_seed("x"), address), 100)
    template = chain.p2p(Account(Key.from_seed("x"), address), chain.dd_account.address, 7)

    def multi_signed(signers: list[int]) -> SignedTransaction:
        message = signing_message(template.raw_txn.to_bcs())
        signature = sign_multi(message, [(i, keys[i]) for i in signers])
        return dataclasses.replace(template, authenticator=MultiEd25519Authenticator(public.to_bytes(), signature.to_bytes()))

    assert status_of(chain.run(multi_signed([0])))[2] == "INVALID_SIGNATURE"
    chain.seq[address] = 0
    assert status_of(chain.run(multi_signed([0, 2])))[0] == "Executed"
    assert chain.balance(address) == 93


def _forge(txn: SignedTransaction) -> SignedTransaction:
    """The same transaction with one signature bit flipped."""
    auth = txn.authenticator
    signature = bytes([auth.signature[0] ^ 1]) + auth.signature[1:]
    return dataclasses.replace(txn, authenticator=dataclasses.replace(auth, signature=signature))


def test_prechecked_flags_skip_only_their_own_signature_checks():
    chain, txns = scenario()
    txns = txns[:6]
    txns[3] = _forge(txns[3])
    metadata = chain.metadata()
    full = execute_block(chain.view, metadata, txns, chain_id=2)
    assert status_of(full.transaction_outputs[3])[2] == "INVALID_SIGNATURE"
    # the honest ones flagged as already checked: the forged one is still caught, same outputs
    flags = [i != 3 for i in range(len(txns))]
    with ThreadPoolExecutor(2) as pool:
        partial = execute_block(chain.view, metadata, txns, chain_id=2, verifier=pool, prechecked=flags)
    assert digest(partial) == digest(full)
    # a flag is trusted: claiming the forged one was checked lets it through (callers only flag bytes they checked)
    trusting = execute_block(chain.view, metadata, txns, chain_id=2, prechecked=[True] * len(txns))
    assert status_of(trusting.transaction_outputs[3])[2] != "INVALID_SIGNATURE"
    try:
        execute_block(chain.view, metadata, txns, chain_id=2, prechecked=[True])
    except ValueError as exc:
        assert "one flag per transaction" in str(exc)
    else:
        raise AssertionError("a short prechecked list must be refused")
