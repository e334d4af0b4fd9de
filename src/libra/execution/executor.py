"""Block execution: signatures in parallel, then every transaction through the rules in order.

``execute_block`` is deterministic and pure given its inputs: the same state view,
block metadata and transactions give byte-identical outputs, in any process.

Steps:

1. verify every user transaction's signature (Ed25519 or MultiEd25519 over
   ``seed(RawTransaction) ‖ BCS(raw)``) on a thread pool — libsodium releases the
   GIL, so the workers verify ahead while this thread executes; a bad signature
   discards the transaction (``INVALID_SIGNATURE``);
2. run the block prologue (new time, ``NewBlockEvent``) when block metadata is given;
3. run each transaction (prologue, payload, epilogue) on the block state, committing its
   writes before the next one reads;
4. after a reconfiguration (``NewEpochEvent``), the remaining transactions are not
   executed (``RETRY``), as in Diem: they belong to the next epoch;
5. return per-transaction outputs and the new blob of every changed account.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from libra.bcs import Serializer
from libra.crypto.transaction_signature import verify_transaction_signature
from libra.framework.errors import KeptStatus, StatusCode, vm_status_json
from libra.framework.events import NewEpochEvent
from libra.framework.state import BlockState, DecodedAccounts, StateView
from libra.framework.vm import TransactionOutcome, execute_block_metadata, execute_user_transaction
from libra.types.move import AccountAddress, TypeTag, serialize_type_tag
from libra.types.transaction import (
    BlockMetadata,
    Ed25519Authenticator,
    MultiEd25519Authenticator,
    RawTransaction,
    ScriptFunction,
    SignedTransaction,
)
from libra.types.write_set import ContractEvent, WriteSet

RETRY = "RETRY"
_VERIFY_CHUNK = 64


@dataclass(frozen=True, slots=True)
class Discarded:
    """Not committed: nothing changed, not even the sequence number."""

    status_code: str


TransactionStatus = KeptStatus | Discarded


@dataclass(frozen=True, slots=True)
class TransactionOutput:
    write_set: WriteSet
    events: tuple[ContractEvent, ...]
    gas_used: int
    status: TransactionStatus
    # the blob of each account the write set touched, after this transaction (address bytes ->
    # blob, None when no resources are left): the state this transaction's version commits
    account_blobs: Mapping[bytes, bytes | None] = field(default_factory=dict)

    @property
    def is_discarded(self) -> bool:
        return isinstance(self.status, Discarded)

    def vm_status_json(self) -> dict[str, Any]:
        """Diem's ``vm_status`` JSON (kept transactions only)."""
        if isinstance(self.status, Discarded):
            raise ValueError(f"discarded transaction has no VM status ({self.status.status_code})")
        return vm_status_json(self.status)


@dataclass(frozen=True, slots=True)
class BlockOutput:
    """``metadata_output`` is None without block metadata; ``transaction_outputs`` match the input order."""

    metadata_output: TransactionOutput | None
    transaction_outputs: tuple[TransactionOutput, ...]
    changed_blobs: dict[AccountAddress, bytes | None]
    reconfiguration: bool


def _to_output(outcome: TransactionOutcome, block: BlockState) -> TransactionOutput:
    """The output of a transaction ``block`` has just committed (its blobs are read from ``block``)."""
    if isinstance(outcome.status, StatusCode):
        return TransactionOutput(outcome.write_set, outcome.events, outcome.gas_used, Discarded(outcome.status.value))
    return TransactionOutput(
        outcome.write_set, outcome.events, outcome.gas_used, outcome.status, block.account_blobs(outcome.write_set)
    )


# --- signatures ------------------------------------------------------------------------------


def _verify_chunk(chunk: Sequence[tuple[SignedTransaction, bytes]]) -> list[bool]:
    return [verify_transaction_signature(txn, raw) for txn, raw in chunk]


def verify_signatures(
    transactions: Sequence[SignedTransaction], raw_bytes: Sequence[bytes], pool: Executor | None
) -> list[bool]:
    """Verify all signatures, in chunks on ``pool`` when given (results in input order)."""
    return list(_iter_signature_checks(transactions, raw_bytes, pool))


def _iter_signature_checks(
    transactions: Sequence[SignedTransaction], raw_bytes: Sequence[bytes], pool: Executor | None
) -> Iterator[bool]:
    """Yield each transaction's signature validity in order.

    With a pool, every chunk is submitted up front and results are consumed as the caller
    reaches them, so libsodium (which releases the GIL) verifies later chunks on the workers
    while this thread executes the earlier transactions.
    """
    items = list(zip(transactions, raw_bytes, strict=True))
    if pool is None or len(items) <= _VERIFY_CHUNK:
        yield from _verify_chunk(items)
        return
    futures = [pool.submit(_verify_chunk, items[i : i + _VERIFY_CHUNK]) for i in range(0, len(items), _VERIFY_CHUNK)]
    try:
        for future in futures:
            yield from future.result()
    finally:
        for future in futures:
            future.cancel()


# --- the block -------------------------------------------------------------------------------


_NEW_EPOCH_NAME = NewEpochEvent.TYPE_TAG.name


def _is_reconfiguration(events: tuple[ContractEvent, ...]) -> bool:
    """Whether a ``NewEpochEvent`` was emitted (its name is compared first, the whole tag if it matches)."""
    for event in events:
        tag = event.type_tag
        if getattr(tag, "name", None) == _NEW_EPOCH_NAME and tag == NewEpochEvent.TYPE_TAG:
            return True
    return False


def execute_block(
    state_view: StateView,
    block_metadata: BlockMetadata | None,
    transactions: Sequence[SignedTransaction],
    *,
    chain_id: int,
    verifier: Executor | None = None,
    verify: bool = True,
    prechecked: Sequence[bool] | None = None,
    cache: DecodedAccounts | None = None,
    sizes: Sequence[int | None] | None = None,
) -> BlockOutput:
    """Execute a block on ``state_view``; see the module docstring. ``verify=False`` skips
    signature checks (only for transactions already verified, e.g. at mempool admission);
    ``prechecked[i]`` true skips the check of transaction ``i`` alone. ``cache`` keeps
    decoded accounts from one block to the next (outputs are the same with or without it).
    ``sizes[i]``, when not None, is the BCS size of transaction ``i`` (the length of the
    bytes it was strictly decoded from), so that it need not be computed again."""
    known_sizes: Sequence[int | None] = sizes if sizes is not None else [None] * len(transactions)
    if len(known_sizes) != len(transactions):
        raise ValueError("sizes must have one entry per transaction")
    valid: Iterable[bool]
    if not verify:  # nothing to sign-check: the sizes alone, without encoding every transaction again
        valid = [True] * len(transactions)
        signed_sizes = [
            size if size is not None else signed_transaction_size(txn)
            for txn, size in zip(transactions, known_sizes, strict=True)
        ]
    else:
        if prechecked is None:
            raw_bytes = [txn.raw_txn.to_bcs() for txn in transactions]
            valid = _iter_signature_checks(transactions, raw_bytes, verifier)
            raw_sizes = [len(raw) for raw in raw_bytes]
        else:
            valid, raw_sizes = _check_unverified(transactions, prechecked, verifier)
        signed_sizes = [
            size if size is not None else raw_size + _authenticator_size(txn)
            for txn, raw_size, size in zip(transactions, raw_sizes, known_sizes, strict=True)
        ]
    block = BlockState(state_view, cache=cache)
    metadata_output = None
    reconfigured = False
    if block_metadata is not None:
        metadata_output = _to_output(execute_block_metadata(block, block_metadata), block)
        reconfigured = _is_reconfiguration(metadata_output.events)
    outputs = []
    for txn, size, ok in zip(transactions, signed_sizes, valid, strict=True):
        if reconfigured:
            outputs.append(TransactionOutput(WriteSet(()), (), 0, Discarded(RETRY)))
            continue
        if not ok:
            outputs.append(TransactionOutput(WriteSet(()), (), 0, Discarded(StatusCode.INVALID_SIGNATURE.value)))
            continue
        output = _to_output(execute_user_transaction(block, txn, chain_id, size), block)
        outputs.append(output)
        reconfigured = _is_reconfiguration(output.events)
    return BlockOutput(metadata_output, tuple(outputs), block.changed_blobs(), reconfigured)


def _check_unverified(
    transactions: Sequence[SignedTransaction], prechecked: Sequence[bool], verifier: Executor | None
) -> tuple[list[bool], list[int]]:
    """Signature validity and raw size of each transaction, checking only those not ``prechecked``."""
    if len(prechecked) != len(transactions):
        raise ValueError("prechecked must have one flag per transaction")
    unchecked = [i for i, done in enumerate(prechecked) if not done]
    raw_bytes = {i: transactions[i].raw_txn.to_bcs() for i in unchecked}
    results = verify_signatures([transactions[i] for i in unchecked], [raw_bytes[i] for i in unchecked], verifier)
    valid = [True] * len(transactions)
    for i, ok in zip(unchecked, results, strict=True):
        valid[i] = ok
    raw_sizes = [
        len(raw_bytes[i]) if i in raw_bytes else raw_transaction_size(txn.raw_txn) for i, txn in enumerate(transactions)
    ]
    return valid, raw_sizes


def _authenticator_size(txn: SignedTransaction) -> int:
    auth = txn.authenticator
    if isinstance(auth, Ed25519Authenticator | MultiEd25519Authenticator):
        return 1 + _bytes_size(auth.public_key) + _bytes_size(auth.signature)
    return len(txn.to_bcs()) - len(txn.raw_txn.to_bcs())


def signed_transaction_size(txn: SignedTransaction) -> int:
    """``len(txn.to_bcs())``, computed without encoding for the usual payloads and authenticators."""
    return raw_transaction_size(txn.raw_txn) + _authenticator_size(txn)


def raw_transaction_size(raw: RawTransaction) -> int:
    """``len(raw.to_bcs())``, computed without encoding for script-function payloads."""
    payload = raw.payload
    if type(payload) is not ScriptFunction:
        return len(raw.to_bcs())
    return (
        16 + 8  # sender, sequence number
        + 1 + 16 + _str_size(payload.module.name) + _str_size(payload.function)  # variant, module, function
        + _uleb_size(len(payload.ty_args)) + sum(_type_tag_size(tag) for tag in payload.ty_args)
        + _uleb_size(len(payload.args)) + sum(_bytes_size(arg) for arg in payload.args)
        + 8 + 8 + _str_size(raw.gas_currency_code) + 8 + 1  # max gas, price, currency, expiration, chain id
    )


_TYPE_TAG_SIZES: dict[TypeTag, int] = {}


def _type_tag_size(tag: TypeTag) -> int:
    size = _TYPE_TAG_SIZES.get(tag)
    if size is None:
        serializer = Serializer()
        serialize_type_tag(serializer, tag)
        size = len(serializer.output())
        if len(_TYPE_TAG_SIZES) < 1024:
            _TYPE_TAG_SIZES[tag] = size
    return size


def _str_size(text: str) -> int:
    length = len(text) if text.isascii() else len(text.encode("utf-8"))
    return _uleb_size(length) + length


def _uleb_size(value: int) -> int:
    prefix = 1
    while value >= 0x80:
        value >>= 7
        prefix += 1
    return prefix


def _bytes_size(data: bytes) -> int:
    length = len(data)
    prefix = 1
    while length >= 0x80:
        length >>= 7
        prefix += 1
    return prefix + len(data)
