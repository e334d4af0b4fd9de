"""Micro-benchmark: peer-to-peer payments executed per second by ``execute_block``.

Run: ``.venv/bin/python -m bench.execution_bench [--txns N] [--accounts K] [--block B]``.
Builds a genesis with K funded parent VASPs, signs N payments between them (rotating
payers so every sender has a run of sequence numbers), then times execute_block
without signature checks, with them on one thread, and with a thread pool; and, as a
node runs them, in blocks of B one after the other with decoded accounts remembered
from block to block (the node's ``new_decoded_accounts()``), reporting CPU µs per payment
on the framework alone and with the native core (``execute_block(native=...)``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor

import nacl.signing

from libra import native as native_switch
from libra.bcs import Serializer
from libra.crypto.hashing import sha3_256, signing_message
from libra.execution import DecodedAccounts, InMemoryStateView, execute_block, new_decoded_accounts
from libra.framework.genesis import GenesisConfig, ValidatorGenesis, build_genesis
from libra.types.move import (
    CORE_CODE_ADDRESS,
    TESTNET_DD_ADDRESS,
    TREASURY_COMPLIANCE_ADDRESS,
    AccountAddress,
    ModuleId,
    currency_type_tag,
)
from libra.types.transaction import (
    BlockMetadata,
    Ed25519Authenticator,
    RawTransaction,
    ScriptFunction,
    SignedTransaction,
)

CHAIN_ID = 2
START = 1_700_000_000_000_000


def _key(label: str) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(hashlib.sha3_256(label.encode()).digest())


def _auth_key(key: nacl.signing.SigningKey) -> bytes:
    return sha3_256(bytes(key.verify_key) + b"\x00")


def _u64(value: int) -> bytes:
    return value.to_bytes(8, "little")


def _bytes(data: bytes) -> bytes:
    s = Serializer()
    s.bytes(data)
    return s.output()


def _sign(key: nacl.signing.SigningKey, sender: AccountAddress, seq: int, payload: ScriptFunction) -> SignedTransaction:
    raw = RawTransaction(sender, seq, payload, 1_000_000, 0, "XUS", START // 1_000_000 + 10_000, CHAIN_ID)
    signature = key.sign(signing_message(raw.to_bcs())).signature
    return SignedTransaction(raw, Ed25519Authenticator(bytes(key.verify_key), signature))


def _call(module: str, function: str, args: list[bytes]) -> ScriptFunction:
    return ScriptFunction(ModuleId(CORE_CODE_ADDRESS, module), function, (currency_type_tag("XUS"),), tuple(args))


def setup(accounts: int) -> tuple[InMemoryStateView, list[tuple[nacl.signing.SigningKey, AccountAddress]], int]:
    root, tc, dd, validator = _key("root"), _key("tc"), _key("dd"), _key("validator")
    config = GenesisConfig(
        CHAIN_ID, bytes(root.verify_key), bytes(tc.verify_key), bytes(dd.verify_key),
        (ValidatorGenesis(AccountAddress(_auth_key(validator)[16:]), bytes(validator.verify_key), b"addr"),),
    )
    view = build_genesis(config).state_view()
    parties = [(_key(f"vasp{i}"), AccountAddress(_auth_key(_key(f"vasp{i}"))[16:])) for i in range(accounts)]
    txns = []
    for i, (key, address) in enumerate(parties):
        create = ScriptFunction(
            ModuleId(CORE_CODE_ADDRESS, "AccountCreationScripts"), "create_parent_vasp_account",
            (currency_type_tag("XUS"),),
            (_u64(0), address.value, _bytes(_auth_key(key)[:16]), _bytes(f"vasp{i}".encode()), b"\x00"),
        )
        txns.append(_sign(tc, TREASURY_COMPLIANCE_ADDRESS, i, create))
        fund = _call("PaymentScripts", "peer_to_peer_with_metadata", [address.value, _u64(10**12), _bytes(b""), _bytes(b"")])
        txns.append(_sign(dd, TESTNET_DD_ADDRESS, i, fund))
    proposer = config.validators[0].address
    output = execute_block(view, BlockMetadata(bytes(32), 1, START, (), proposer), txns, chain_id=CHAIN_ID)
    assert all(type(o.status).__name__ == "Executed" for o in output.transaction_outputs)
    view.apply(output.changed_blobs)
    return view, parties, START


def payments(parties: list[tuple[nacl.signing.SigningKey, AccountAddress]], count: int) -> list[SignedTransaction]:
    seqs = [0] * len(parties)
    txns = []
    for n in range(count):
        i = n % len(parties)
        key, sender = parties[i]
        payee = parties[(i + 1) % len(parties)][1]
        payload = _call("PaymentScripts", "peer_to_peer_with_metadata", [payee.value, _u64(1 + n % 100), _bytes(b""), _bytes(b"")])
        txns.append(_sign(key, sender, seqs[i], payload))
        seqs[i] += 1
    return txns


def run(count: int, accounts: int) -> dict[str, float]:
    view, parties, now = setup(accounts)
    txns = payments(parties, count)
    proposer = AccountAddress(_auth_key(_key("validator"))[16:])
    metadata = BlockMetadata(bytes(32), 2, now + 1_000_000, (), proposer)
    results = {}
    variants = [("no signature checks", {"verify": False}), ("signatures, 1 thread", {})]
    workers = os.cpu_count() or 2
    with ThreadPoolExecutor(workers) as pool:
        variants.append((f"signatures, pool of {workers}", {"verifier": pool}))
        for name, kwargs in variants:
            start = time.perf_counter()
            output = execute_block(view, metadata, txns, chain_id=CHAIN_ID, **kwargs)  # type: ignore[arg-type]
            elapsed = time.perf_counter() - start
            executed = sum(type(o.status).__name__ == "Executed" for o in output.transaction_outputs)
            assert executed == count, f"{executed} of {count} executed"
            results[name] = count / elapsed
    return results


def run_blocks(count: int, accounts: int, block: int, native: bool) -> float:
    """CPU µs per payment of blocks of ``block`` payments executed in sequence, each on the
    state the previous one left, with one decoded-accounts cache (no signature checks), on
    the native core or the framework alone."""
    view, parties, now = setup(accounts)
    txns = payments(parties, count)
    encodings = [txn.to_bcs() for txn in txns]
    proposer = AccountAddress(_auth_key(_key("validator"))[16:])
    cache = new_decoded_accounts() if native and native_switch.CORE is not None else DecodedAccounts()
    warm_up = BlockMetadata(bytes(32), 2, now + 1_000_000, (), proposer)
    view.apply(execute_block(view, warm_up, [], chain_id=CHAIN_ID, cache=cache, native=native).changed_blobs)
    cpu = 0.0
    for n, start in enumerate(range(0, count, block)):
        metadata = BlockMetadata(bytes(32), 3 + n, now + 2_000_000 + n, (), proposer)
        chunk = txns[start : start + block]
        started = time.process_time()
        output = execute_block(
            view, metadata, chunk, chain_id=CHAIN_ID, verify=False, cache=cache, native=native,
            encodings=encodings[start : start + block],
        )
        cpu += time.process_time() - started
        assert all(type(o.status).__name__ == "Executed" for o in output.transaction_outputs)
        view.apply(output.changed_blobs)
    return 1e6 * cpu / count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txns", type=int, default=5000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--block", type=int, default=500)
    args = parser.parse_args(argv)
    for name, rate in run(args.txns, args.accounts).items():
        print(f"{name:28s} {rate:10,.0f} p2p payments/s  ({args.txns} payments, {args.accounts} accounts)")
    for native, name in ((False, "framework"), (True, "native core")):
        micros = run_blocks(args.txns, args.accounts, args.block, native)
        label = f"blocks of {args.block}, {name}"
        print(f"{label:28s} {micros:10.1f} CPU µs/payment (no signature checks, in sequence)")


if __name__ == "__main__":
    main()
