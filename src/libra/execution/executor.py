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

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor

from libra.bcs import Serializer
from libra.crypto.transaction_signature import verify_transaction_signatures
from libra.execution import native_block
from libra.execution.outputs import (
    RETRY,
    BlockOutput,
    Discarded,
    TransactionOutput,
    TransactionStatus,
    is_reconfiguration,
    to_output,
)
from libra.framework.errors import StatusCode
from libra.framework.state import BlockState, DecodedAccounts, StateView
from libra.framework.vm import execute_block_metadata, execute_user_transaction
from libra.types.move import TypeTag, serialize_type_tag
from libra.types.transaction import (
    BlockMetadata,
    Ed25519Authenticator,
    MultiEd25519Authenticator,
    RawTransaction,
    ScriptFunction,
    SignedTransaction,
)
from libra.types.write_set import WriteSet

__all__ = [
    "RETRY",
    "BlockOutput",
    "Discarded",
    "TransactionOutput",
    "TransactionStatus",
    "execute_block",
    "raw_transaction_size",
    "signed_transaction_size",
    "verify_signatures",
]

_VERIFY_CHUNK = 64


# --- signatures ------------------------------------------------------------------------------


def _verify_chunk(chunk: Sequence[tuple[SignedTransaction, bytes]]) -> list[bool]:
    """One batch call (natively: the GIL released while the chunk is checked)."""
    return verify_transaction_signatures([txn for txn, _ in chunk], [raw for _, raw in chunk])


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
    encodings: Sequence[bytes | None] | None = None,
    native: bool | None = None,
) -> BlockOutput:
    """Execute a block on ``state_view``; see the module docstring. ``verify=False`` skips
    signature checks (only for transactions already verified, e.g. at mempool admission);
    ``prechecked[i]`` true skips the check of transaction ``i`` alone. ``cache`` keeps
    decoded accounts from one block to the next (outputs are the same with or without it).
    ``sizes[i]``, when not None, is the BCS size of transaction ``i`` (the length of the
    bytes it was strictly decoded from), so that it need not be computed again, and
    ``encodings[i]``, when not None, those very bytes.

    With the native core on (``LIBRA_CORE=native``), the common payments of the block run
    natively (``libra.execution.native_block``) and everything else through the framework,
    in order, with byte-identical outputs; ``LIBRA_CORE=python`` runs it all in the framework.
    ``native`` overrides that choice for this block (False: the framework alone; True: the
    native core even when ``LIBRA_CORE=python``), for tests that compare the two."""
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
    if encodings is not None and len(encodings) != len(transactions):
        raise ValueError("encodings must have one entry per transaction")
    core = native_block.core_for(native)
    if core is not None:
        payments = native_block.payment_encodings(transactions, encodings)
        if payments is not None:
            return native_block.execute_mixed(
                state_view, block_metadata, transactions, payments, list(valid), signed_sizes,
                chain_id=chain_id, cache=cache, core=core,
            )
    block = BlockState(state_view, cache=cache)
    metadata_output = None
    reconfigured = False
    if block_metadata is not None:
        metadata_output = to_output(execute_block_metadata(block, block_metadata), block)
        reconfigured = is_reconfiguration(metadata_output.events)
    outputs = []
    for txn, size, ok in zip(transactions, signed_sizes, valid, strict=True):
        if reconfigured:
            outputs.append(TransactionOutput(WriteSet(()), (), 0, Discarded(RETRY)))
            continue
        if not ok:
            outputs.append(TransactionOutput(WriteSet(()), (), 0, Discarded(StatusCode.INVALID_SIGNATURE.value)))
            continue
        output = to_output(execute_user_transaction(block, txn, chain_id, size), block)
        outputs.append(output)
        reconfigured = is_reconfiguration(output.events)
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
