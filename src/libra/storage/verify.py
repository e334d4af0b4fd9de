"""Integrity checks of a store: the quick tip check run on open, and the deep ``db verify``.

Rules checked:

1. nothing exists beyond the commit pointer, and the tip's transaction and info exist;
2. accumulator leaf ``v`` is the hash of the stored ``TransactionInfo`` of ``v``;
3. the tip's state tree hashes to the tip info's ``state_root_hash``;
4. every stored ledger info (each epoch's last and the latest) signs the root of
   the accumulator recomputed over all stored infos;
5. (deep) each stored transaction hashes to its info's ``transaction_hash``, and every
   node of the state tree at the checked version hashes to what its parent records.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from libra.bcs import BcsError
from libra.crypto.merkle import (
    TRANSACTION_ACCUMULATOR,
    accumulator_root,
    append_leaves,
    hash_account_blob,
    hash_transaction,
    hash_transaction_info,
)
from libra.storage import schema
from libra.storage.errors import StorageError
from libra.storage.jellyfish import Children, _with_nibble, node_hash, node_key, root_hash
from libra.storage.kv import iterate_prefix
from libra.types.ledger import LedgerInfoWithSignatures, TransactionInfo

if TYPE_CHECKING:
    from libra.storage.libradb import LibraDB


def check_tip(db: LibraDB) -> None:
    """Open-time check of rules 1-4 at the tip and the latest ledger info; raises StorageError."""
    store, next_version = db._store, db._next_version
    if store.get(schema.version_key(schema.TRANSACTION, next_version)) is not None:
        raise StorageError(f"corrupt store: transaction {next_version} exists beyond the commit pointer")
    if next_version == 0:
        if db._latest_li is not None:
            raise StorageError("corrupt store: a ledger info but no transactions")
        return
    latest = next_version - 1
    info_bytes = store.get(schema.version_key(schema.TRANSACTION_INFO, latest))
    if info_bytes is None or store.get(schema.version_key(schema.TRANSACTION, latest)) is None:
        raise StorageError(f"truncated store: version {latest} is committed but its transaction is missing")
    try:
        info = TransactionInfo.from_bcs(info_bytes)
    except BcsError as exc:
        raise StorageError(f"corrupt store: transaction info {latest}: {exc}") from None
    if db._accumulator.node(0, latest, next_version) != hash_transaction_info(info):
        raise StorageError(f"corrupt store: accumulator leaf {latest} does not match its transaction info")
    if root_hash(db._reader, latest) != info.state_root_hash:
        raise StorageError(f"corrupt store: state root at version {latest} does not match its transaction info")
    li = db._latest_li
    if li is not None:
        version = li.ledger_info.version
        if version > latest:
            raise StorageError(f"truncated store: ledger info at version {version} beyond the tip {latest}")
        if db._accumulator.root(version + 1) != li.ledger_info.transaction_accumulator_hash:
            raise StorageError(f"corrupt store: accumulator root at version {version} differs from the signed one")


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of a verification report; ``ok`` False marks a mismatch."""

    ok: bool
    message: str


def verify_store(db: LibraDB, *, sample: int | None = None, version: int | None = None) -> Iterator[Finding]:
    """Deep check (rules 2-5); yields findings, the first mismatch being the last one yielded."""
    if db.next_version == 0:
        yield Finding(True, "empty store")
        return
    signed = _signed_ledger_infos(db)
    yield from _verify_accumulator(db, signed)
    state_version = db.next_version - 1 if version is None else version
    if not db.oldest_state_version <= state_version < db.next_version:
        yield Finding(False, f"version {state_version} has no readable state")
        return
    expected = db.get_transaction_info(state_version).state_root_hash
    try:
        computed = _verify_tree(db, state_version, sample)
    except StorageError as exc:
        yield Finding(False, f"state tree at version {state_version}: {exc}")
        return
    if computed != expected:
        yield Finding(False, f"state root at version {state_version} is {computed.hex()}, info says {expected.hex()}")
        return
    yield Finding(True, f"state version {state_version} root {computed.hex()}")


def _signed_ledger_infos(db: LibraDB) -> dict[int, LedgerInfoWithSignatures]:
    infos = {}
    for _, value in iterate_prefix(db._store, schema.EPOCH_LEDGER_INFO):
        li = LedgerInfoWithSignatures.from_bcs(value)
        infos[li.ledger_info.version] = li
    latest = db.get_latest_ledger_info()
    if latest is not None:
        infos[latest.ledger_info.version] = latest
    return infos


def _verify_accumulator(db: LibraDB, signed: dict[int, LedgerInfoWithSignatures]) -> Iterator[Finding]:
    frozen: list[tuple[int, bytes]] = []
    transactions = iterate_prefix(db._store, schema.TRANSACTION)
    expected_version = 0
    for key, value in iterate_prefix(db._store, schema.TRANSACTION_INFO):
        version = schema.read_u64(key, 1)
        if version != expected_version:
            yield Finding(False, f"transaction info {expected_version} is missing")
            return
        info = TransactionInfo.from_bcs(value)
        txn_key, txn = next(transactions, (b"", b""))
        if txn_key != schema.version_key(schema.TRANSACTION, version) or hash_transaction(txn) != info.transaction_hash:
            yield Finding(False, f"transaction {version} does not match its transaction info")
            return
        append_leaves(TRANSACTION_ACCUMULATOR, frozen, [hash_transaction_info(info)])
        if version in signed:
            root = accumulator_root(TRANSACTION_ACCUMULATOR, [node for _, node in frozen], version + 1)
            if root != signed[version].ledger_info.transaction_accumulator_hash:
                yield Finding(False, f"version {version} root {root.hex()} differs from the signed ledger info")
                return
            yield Finding(True, f"version {version} root {root.hex()}")
        expected_version += 1
    if expected_version != db.next_version:
        yield Finding(False, f"{expected_version} transaction infos, {db.next_version} committed")
        return
    root = accumulator_root(TRANSACTION_ACCUMULATOR, [node for _, node in frozen], expected_version)
    if root != db._accumulator.root(expected_version):
        yield Finding(False, "stored accumulator nodes differ from the recomputed accumulator")
        return
    if expected_version - 1 not in signed:
        yield Finding(True, f"version {expected_version - 1} root {root.hex()} (not yet signed)")


def _verify_tree(db: LibraDB, version: int, sample: int | None) -> bytes:
    """Recompute the tree's root, checking every node (or ``sample`` random paths)."""
    rng = random.Random()
    reader = db.state_source(version)

    def walk(key: bytes, path: bytes, depth: int) -> bytes:
        node = reader.read(key)
        if node is None:
            return node_hash(None)
        if isinstance(node, tuple):
            leaf_key, value_hash, blob = node
            if hash_account_blob(blob) != value_hash or leaf_key[: depth >> 1] != path[: depth >> 1]:
                raise StorageError(f"leaf {leaf_key.hex()} is corrupt")
            return node_hash(node)
        children: Children = node
        chosen = children.keys() if sample is None else [rng.choice(sorted(children))]
        for index in chosen:
            child_version, child_hash, _ = children[index]
            child_path = _with_nibble(path, depth, index)
            if walk(node_key(child_version, child_path, depth + 1), child_path, depth + 1) != child_hash:
                raise StorageError(f"node under {key[1:].hex()} at nibble {index} hashes wrong")
        return node_hash(children)

    root_key = node_key(version, bytes(32), 0)
    for _ in range(1 if sample is None else max(sample, 1)):
        computed = walk(root_key, bytes(32), 0)
    return computed
