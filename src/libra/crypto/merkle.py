"""Merkle math shared by the store (which builds proofs) and the client (which checks them).

Rules (Diem v1, ``types/src/proof``, ``crypto/src/hash.rs``):

* an internal node of a Merkle accumulator or of the sparse Merkle tree hashes
  ``left || right`` (raw 32-byte hashes) under its tree's salt:
  ``TransactionAccumulator``, ``EventAccumulator`` or ``SparseMerkleInternal``;
* an empty subtree is a placeholder: the ASCII name padded with zeros to 32 bytes
  (``ACCUMULATOR_PLACEHOLDER_HASH``, ``SPARSE_MERKLE_PLACEHOLDER_HASH``); a
  subtree of an accumulator is a placeholder iff it holds no leaf;
* the accumulator of N leaves is the perfect tree of depth ceil(log2 N), the
  missing leaves being placeholders; its *frozen subtrees* are the perfect
  subtrees given by the bits of N, left to right;
* a sparse Merkle leaf hashes ``key || value_hash`` under ``SparseMerkleLeafNode``;
  a subtree holding one leaf *is* that leaf (no hashing with placeholders);
  the key of an account is ``hash_with_salt("AccountAddress", address)``;
* every proof lists its siblings from the bottom level up to the root.

Functions raise :class:`ProofError` when a proof does not lead to the expected root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from libra.crypto.hashing import hash_seed
from libra.types.ledger import LedgerInfo, TransactionInfo


def _literal_hash(word: str) -> bytes:
    return word.encode("ascii").ljust(32, b"\x00")


ACCUMULATOR_PLACEHOLDER_HASH = _literal_hash("ACCUMULATOR_PLACEHOLDER_HASH")
SPARSE_MERKLE_PLACEHOLDER_HASH = _literal_hash("SPARSE_MERKLE_PLACEHOLDER_HASH")
PRE_GENESIS_BLOCK_ID = _literal_hash("PRE_GENESIS_BLOCK_ID")

TRANSACTION_ACCUMULATOR = hash_seed("TransactionAccumulator")
EVENT_ACCUMULATOR = hash_seed("EventAccumulator")
SPARSE_MERKLE_INTERNAL = hash_seed("SparseMerkleInternal")
SPARSE_MERKLE_LEAF = hash_seed("SparseMerkleLeafNode")
MAX_ACCUMULATOR_PROOF_DEPTH = 63
MAX_SPARSE_MERKLE_DEPTH = 256

_ACCOUNT_ADDRESS = hash_seed("AccountAddress")
_ACCOUNT_BLOB = hash_seed("AccountStateBlob")
_CONTRACT_EVENT = hash_seed("ContractEvent")
_TRANSACTION = hash_seed("Transaction")
_TRANSACTION_INFO = hash_seed("TransactionInfo")
_LEDGER_INFO = hash_seed("LedgerInfo")

_sha3 = hashlib.sha3_256


class ProofError(ValueError):
    """A proof that does not authenticate what it claims."""


# --------------------------------------------------------------------------- value hashes


def hash_account_key(address: bytes) -> bytes:
    """The state-tree key of a 16-byte account address."""
    return _sha3(_ACCOUNT_ADDRESS + address).digest()


def hash_account_blob(blob: bytes) -> bytes:
    """``AccountStateBlob`` hashes its raw bytes (no length prefix)."""
    return _sha3(_ACCOUNT_BLOB + blob).digest()


def hash_event(event_bcs: bytes) -> bytes:
    return _sha3(_CONTRACT_EVENT + event_bcs).digest()


def hash_transaction(transaction_bcs: bytes) -> bytes:
    """Hash of a ledger ``Transaction`` (the enum, variant index included)."""
    return _sha3(_TRANSACTION + transaction_bcs).digest()


def hash_transaction_info(info: TransactionInfo) -> bytes:
    return _sha3(_TRANSACTION_INFO + info.to_bcs()).digest()


def hash_ledger_info(ledger_info: LedgerInfo) -> bytes:
    return _sha3(_LEDGER_INFO + ledger_info.to_bcs()).digest()


def ledger_info_signing_message(ledger_info: LedgerInfo) -> bytes:
    """What a validator's Ed25519 key signs: ``seed("LedgerInfo") || BCS(ledger_info)``."""
    return _LEDGER_INFO + ledger_info.to_bcs()


# --------------------------------------------------------------------------- node hashes


def hash_internal(seed: bytes, left: bytes, right: bytes) -> bytes:
    """An internal node of the tree whose salt seed is ``seed``."""
    return _sha3(seed + left + right).digest()


def smt_leaf_hash(key: bytes, value_hash: bytes) -> bytes:
    return _sha3(SPARSE_MERKLE_LEAF + key + value_hash).digest()


# --------------------------------------------------------------------------- accumulator


def frozen_subtree_levels(num_leaves: int) -> list[int]:
    """Levels (log2 of size) of the frozen subtrees of ``num_leaves``, left to right."""
    return [level for level in range(num_leaves.bit_length() - 1, -1, -1) if num_leaves >> level & 1]


def accumulator_root(seed: bytes, frozen_roots: Sequence[bytes], num_leaves: int) -> bytes:
    """Root of an accumulator from its frozen subtree roots (Diem's ``compute_root_hash``).

    Going up from the lowest frozen subtree, a set bit pairs a frozen root on the
    left with what was built so far; a clear bit pairs what was built with a placeholder.
    """
    if len(frozen_roots) != bin(num_leaves).count("1"):
        raise ProofError(f"{len(frozen_roots)} frozen subtrees do not fit {num_leaves} leaves")
    if not frozen_roots:
        return ACCUMULATOR_PLACEHOLDER_HASH
    if len(frozen_roots) == 1:
        return frozen_roots[0]
    bits = num_leaves >> ((num_leaves & -num_leaves).bit_length() - 1)
    current = ACCUMULATOR_PLACEHOLDER_HASH
    pending = list(frozen_roots)
    while bits:
        if bits & 1:
            current = hash_internal(seed, pending.pop(), current)
        else:
            current = hash_internal(seed, current, ACCUMULATOR_PLACEHOLDER_HASH)
        bits >>= 1
    return current


def append_leaves(seed: bytes, frozen: list[tuple[int, bytes]], leaves: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
    """Append leaves to a stack of frozen ``(level, hash)`` roots, in place.

    Returns every node frozen on the way as ``(level, index_in_level, hash)``,
    given that the stack describes ``sum(2**level)`` leaves.
    """
    count = sum(1 << level for level, _ in frozen)
    created: list[tuple[int, int, bytes]] = []
    for leaf in leaves:
        created.append((0, count, leaf))
        level, node, index = 0, leaf, count
        while frozen and frozen[-1][0] == level:
            _, left = frozen.pop()
            node = hash_internal(seed, left, node)
            level += 1
            index >>= 1
            created.append((level, index, node))
        frozen.append((level, node))
        count += 1
    return created


def accumulator_root_of_leaves(seed: bytes, leaves: Sequence[bytes]) -> bytes:
    """Root of the accumulator of ``leaves``, level by level: an odd level gets a placeholder on
    its right (only the last node of a level can lack a sibling, so two placeholders never pair)."""
    if len(leaves) <= 2:  # most transactions emit one or two events
        if not leaves:
            return ACCUMULATOR_PLACEHOLDER_HASH
        return leaves[0] if len(leaves) == 1 else _sha3(seed + leaves[0] + leaves[1]).digest()
    level = list(leaves)
    while len(level) > 1:
        if len(level) & 1:
            level.append(ACCUMULATOR_PLACEHOLDER_HASH)
        level = [_sha3(seed + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


def accumulator_proof_of_leaves(seed: bytes, leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Siblings (bottom up) of leaf ``index`` in the accumulator of ``leaves``, built in memory."""
    level_nodes = list(leaves)
    siblings: list[bytes] = []
    while len(level_nodes) > 1:
        if len(level_nodes) % 2:
            level_nodes.append(ACCUMULATOR_PLACEHOLDER_HASH)
        siblings.append(level_nodes[index ^ 1])
        level_nodes = [
            ACCUMULATOR_PLACEHOLDER_HASH
            if right == ACCUMULATOR_PLACEHOLDER_HASH and left == ACCUMULATOR_PLACEHOLDER_HASH
            else hash_internal(seed, left, right)
            for left, right in zip(level_nodes[::2], level_nodes[1::2], strict=True)
        ]
        index >>= 1
    return siblings


def root_from_accumulator_proof(seed: bytes, leaf_hash: bytes, index: int, siblings: Sequence[bytes]) -> bytes:
    """Fold ``siblings`` (bottom up) into the root over leaf ``index``."""
    if len(siblings) > MAX_ACCUMULATOR_PROOF_DEPTH:
        raise ProofError(f"accumulator proof has {len(siblings)} siblings")
    if index >> len(siblings):
        raise ProofError(f"leaf index {index} does not fit a proof of {len(siblings)} siblings")
    node = leaf_hash
    for sibling in siblings:
        node = hash_internal(seed, sibling, node) if index & 1 else hash_internal(seed, node, sibling)
        index >>= 1
    return node


def root_from_range_proof(
    seed: bytes,
    first_index: int,
    leaf_hashes: Sequence[bytes],
    left_siblings: Sequence[bytes],
    right_siblings: Sequence[bytes],
) -> bytes:
    """Fold a range of leaves and its left/right siblings (bottom up) into the root."""
    if not leaf_hashes:
        raise ProofError("range proof over no leaves")
    if len(left_siblings) > MAX_ACCUMULATOR_PROOF_DEPTH or len(right_siblings) > MAX_ACCUMULATOR_PROOF_DEPTH:
        raise ProofError("range proof has too many siblings")
    left_iter, right_iter = iter(left_siblings), iter(right_siblings)
    left_left, right_left = len(left_siblings), len(right_siblings)
    position, current = first_index, list(leaf_hashes)
    while len(current) > 1 or left_left or right_left:
        if position & 1:
            if not left_left:
                raise ProofError("range proof lacks a left sibling")
            current.insert(0, next(left_iter))
            left_left -= 1
        if len(current) % 2:
            if not right_left:
                raise ProofError("range proof lacks a right sibling")
            current.append(next(right_iter))
            right_left -= 1
        current = [hash_internal(seed, a, b) for a, b in zip(current[::2], current[1::2], strict=True)]
        position >>= 1
        if position >> 64:
            raise ProofError("range proof too deep")
    if position:
        raise ProofError("range proof ends below the root")
    return current[0]


def consistency_subtree_levels(old_leaves: int, new_leaves: int) -> list[int]:
    """Levels of the subtrees that extend ``old_leaves`` to ``new_leaves`` (greedy, left to right)."""
    if not 0 <= old_leaves <= new_leaves:
        raise ProofError(f"cannot extend {old_leaves} leaves to {new_leaves}")
    levels, count = [], old_leaves
    while count < new_leaves:
        level = (new_leaves - count).bit_length() - 1
        if count:
            level = min(level, (count & -count).bit_length() - 1)
        levels.append(level)
        count += 1 << level
    return levels


def extend_frozen(
    seed: bytes, frozen: Sequence[bytes], old_leaves: int, subtrees: Sequence[bytes], new_leaves: int
) -> list[bytes]:
    """Frozen roots of ``new_leaves`` from those of ``old_leaves`` plus a consistency proof."""
    levels = consistency_subtree_levels(old_leaves, new_leaves)
    if len(levels) != len(subtrees):
        raise ProofError(f"consistency proof has {len(subtrees)} subtrees, {len(levels)} expected")
    stack = list(zip(frozen_subtree_levels(old_leaves), frozen, strict=True))
    for level, node in zip(levels, subtrees, strict=True):
        while stack and stack[-1][0] == level:
            node = hash_internal(seed, stack.pop()[1], node)
            level += 1
        stack.append((level, node))
    return [node for _, node in stack]


# --------------------------------------------------------------------------- sparse Merkle tree


def key_bit(key: bytes, depth: int) -> int:
    """Bit ``depth`` of ``key``, counted from the most significant bit of byte 0."""
    return key[depth >> 3] >> (7 - (depth & 7)) & 1


def common_prefix_bits(a: bytes, b: bytes) -> int:
    x = int.from_bytes(a, "big") ^ int.from_bytes(b, "big")
    return 256 - x.bit_length()


def root_from_sparse_merkle_proof(
    key: bytes,
    value_hash: bytes | None,
    leaf: tuple[bytes, bytes] | None,
    siblings: Sequence[bytes],
) -> bytes:
    """Check a proof for ``key`` (``value_hash`` None: absent) and return the root it implies.

    Inclusion: ``leaf`` is ``(key, value_hash)``. Non-inclusion: ``leaf`` is None (an
    empty subtree) or another key that shares the first ``len(siblings)`` bits.
    """
    if len(siblings) > MAX_SPARSE_MERKLE_DEPTH:
        raise ProofError(f"sparse Merkle proof has {len(siblings)} siblings")
    if value_hash is not None:
        if leaf is None:
            raise ProofError("expected an inclusion proof, got a non-inclusion proof")
        if leaf[0] != key:
            raise ProofError("the proof's leaf is for another key")
        if leaf[1] != value_hash:
            raise ProofError("the proof's leaf holds another value")
    elif leaf is not None:
        if leaf[0] == key:
            raise ProofError("expected a non-inclusion proof, but the key exists")
        if common_prefix_bits(key, leaf[0]) < len(siblings):
            raise ProofError("the proof's leaf is not in the subtree where the key would be")
    node = smt_leaf_hash(*leaf) if leaf is not None else SPARSE_MERKLE_PLACEHOLDER_HASH
    for depth in range(len(siblings) - 1, -1, -1):
        sibling = siblings[len(siblings) - 1 - depth]
        if key_bit(key, depth):
            node = hash_internal(SPARSE_MERKLE_INTERNAL, sibling, node)
        else:
            node = hash_internal(SPARSE_MERKLE_INTERNAL, node, sibling)
    return node
