"""Admission of submitted transactions (diem-protocol.md §9).

Order of checks, each failure reported with Diem's status name and nothing stored:

1. strict BCS decode of a ``SignedTransaction`` (``DESERIALIZATION_ERROR``);
2. the signature over ``seed(RawTransaction) ‖ raw`` (``INVALID_SIGNATURE``);
3. the framework's prologue against the latest committed state: chain id, expiry,
   sender exists and is not frozen, auth key, gas, payload kind, sequence number;
   ``SEQUENCE_NUMBER_TOO_NEW`` is not a failure here: the pool parks the transaction
   until the gap fills. On the native path the common payment's prologue is the core's
   (``libra._core.AdmissionChecker``: the same checks, order and status names as
   ``check_admission``, by the execution engine's prologue code); anything else, and any
   state the core cannot decode, goes to ``check_admission``;
4. the pool's own rules (capacity, per-account limit, duplicates).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from libra.bcs import BcsError
from libra.crypto.hashing import user_transaction_hash
from libra.crypto.transaction_signature import verify_transaction_signature
from libra.framework.state import BlockState, DecodedAccounts, StateView
from libra.framework.vm import check_admission
from libra.mempool.decoding import decode_common
from libra.mempool.pool import AddStatus, Mempool
from libra.native import CORE
from libra.types.move import DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress
from libra.types.transaction import Ed25519Authenticator, SignedTransaction

SEQUENCE_NUMBER_TOO_NEW = "SEQUENCE_NUMBER_TOO_NEW"


@dataclass(frozen=True, slots=True)
class Admission:
    """``status`` is ``AddStatus.ACCEPTED``/``ALREADY_PRESENT`` on success; otherwise
    ``vm_status`` (a Diem status name) or a pool status says why not."""

    status: AddStatus | None
    vm_status: str | None
    txn: SignedTransaction | None
    txn_hash: bytes | None

    @property
    def accepted(self) -> bool:
        return self.status in (AddStatus.ACCEPTED, AddStatus.ALREADY_PRESENT)


# Submissions decoded by the API's param check, kept for the admission that follows so the
# bytes are decoded once (bounded: cleared when full; a miss only means decoding again).
_DECODED: dict[bytes, SignedTransaction] = {}
_DECODED_CAP = 4096
# BCS of an Ed25519 authenticator: variant, 32-byte key and 64-byte signature, each length-prefixed
_ED25519_AUTHENTICATOR_SIZE = 1 + 1 + 32 + 1 + 64


def decode_signed(data: bytes) -> SignedTransaction:
    """``SignedTransaction.from_bcs(data)``: built from the native decoder's fields for the
    common shape (``mempool.decoding``), by the reference decoder otherwise (and its errors)."""
    txn = decode_common(data)
    return txn if txn is not None else SignedTransaction.from_bcs(data)


def decode_submission(data: bytes) -> SignedTransaction:
    """Strictly decode submitted bytes (:func:`decode_signed`); raises ``BcsError`` naming
    offset and type.

    The result is remembered for :func:`admit` of the same bytes (the API checks the
    param before it submits).
    """
    txn = _DECODED.get(data)
    if txn is None:
        txn = decode_signed(data)
        if len(_DECODED) >= _DECODED_CAP:
            _DECODED.clear()
        _DECODED[data] = txn
    return txn


# Decoded accounts shared by the admissions of one committed state, per pool: a pool's node
# commits a new block timestamp with every block that changes accounts (blocks at the
# same timestamp only touch the root's block counters, which admission does not read).
_SHARED_ACCOUNTS_CAP = 20_000


def _shared_state(pool: Mempool, state_view: StateView, ledger_time_usecs: int) -> BlockState:
    """The pool's reads of the committed state at ``ledger_time_usecs``.

    When ``state_view`` offers ``decoded_accounts`` (the node's :class:`DecodedAccounts`,
    filled by the blocks it executed), each account blob read from the view is looked up
    there before it is decoded. That cache is found by the blob's bytes, never by address:
    an entry left by a speculative block that is not committed has other bytes than the
    committed blob and is simply not found, so admission sees the committed state only.
    Admission adds no account to it; a resource it reads from a remembered account is
    memoised in that account, as execution's reads are (a pure function of the bytes).
    """
    shared = pool.admission_state
    if shared is not None:
        time_usecs, block = shared
        if time_usecs == ledger_time_usecs and isinstance(block, BlockState) and block.account_count() < _SHARED_ACCOUNTS_CAP:
            return block
    cache = getattr(state_view, "decoded_accounts", None)
    block = BlockState(state_view, cache=cache if isinstance(cache, DecodedAccounts) else None)
    pool.admission_state = (ledger_time_usecs, block)
    return block


def _native_account_cache(state_view: StateView) -> object | None:
    """The ledger's native account cache behind ``state_view`` (its ``decoded_accounts``,
    when native-backed), or None."""
    native = getattr(getattr(state_view, "decoded_accounts", None), "native", None)
    return native if CORE is not None and isinstance(native, CORE.AccountCache) else None


def _blob_reader(state_view: StateView) -> Callable[[bytes], bytes | None]:
    """The view's account blobs by 16-byte address."""
    by_bytes = getattr(state_view, "get_account_blob_bytes", None)
    if by_bytes is not None:
        return by_bytes  # type: ignore[no-any-return]
    return lambda address: state_view.get_account_blob(AccountAddress(address))


_DIEM_ROOT = DIEM_ROOT_ADDRESS.value
_TREASURY_COMPLIANCE = TREASURY_COMPLIANCE_ADDRESS.value
_U64_LIMIT = 1 << 64


def native_prologue(
    pool: Mempool, state_view: StateView, data: bytes, chain_id: int, ledger_time_usecs: int
) -> tuple[str | None, int | None] | None:
    """:func:`check_admission`'s answer for ``data`` from the native core, or None when the
    framework must answer (not a common payment, state the core cannot decode, no core).

    The core reads the committed blobs of Diem Root, Treasury Compliance and the sender from
    ``state_view`` and finds each account by address and exact blob in the ledger's native
    cache (or decodes it), so it sees the committed state only. A read that fails is left to
    the framework, which then reads (or fails) as it always does.
    """
    if CORE is None or not 0 <= chain_id <= 0xFF or not 0 <= ledger_time_usecs < _U64_LIMIT:
        return None
    checker = pool.native_admission
    if checker is None or checker.chain_id != chain_id:
        checker = pool.native_admission = CORE.AdmissionChecker(chain_id)
    read = _blob_reader(state_view)
    try:
        diem_root, treasury_compliance, sender = read(_DIEM_ROOT), read(_TREASURY_COMPLIANCE), read(data[:16])
    except Exception:  # the framework's reads give the error, or need none of these accounts
        return None
    found: tuple[str | None, int | None] | None = checker.check(
        _native_account_cache(state_view), data, ledger_time_usecs, diem_root, treasury_compliance, sender
    )
    return found


def check_prologue(
    pool: Mempool, state_view: StateView, txn: SignedTransaction, data: bytes, chain_id: int, ledger_time_usecs: int
) -> tuple[str | None, int | None]:
    """(the failing status name or None, the sender's account sequence number or None) of
    :func:`check_admission` for the submitted ``data`` (decoded as ``txn``): natively for the
    common payment on the native path, by the framework otherwise."""
    found = native_prologue(pool, state_view, data, chain_id, ledger_time_usecs)
    if found is not None:
        return found
    block = _shared_state(pool, state_view, ledger_time_usecs)
    return check_admission(block, txn, chain_id, ledger_time_usecs, len(data))


# Signature checks done ahead of ``admit`` (``preverify``, e.g. on a thread pool while the
# event loop serves other requests): exact submitted bytes -> (valid, hash). Bounded like _DECODED.
_VERIFIED: dict[bytes, tuple[bool, bytes]] = {}


def _remember_verified(data: bytes, valid: bool, txn_hash: bytes) -> None:
    if len(_VERIFIED) >= _DECODED_CAP:
        _VERIFIED.clear()
    _VERIFIED[data] = (valid, txn_hash)


def preverify(data: bytes) -> None:
    """Verify the signature of submitted bytes now, for the ``admit`` of the same bytes.

    Meant for a worker thread. Undecodable bytes are left to ``admit``.
    """
    try:
        txn = decode_submission(data)
    except BcsError:
        return
    valid = verify_transaction_signature(txn, raw_transaction_bytes(txn, data))
    _remember_verified(data, valid, user_transaction_hash(data))


def preverify_all(datas: Sequence[bytes]) -> None:
    """:func:`preverify` of each of ``datas``: on the native path one call decodes, hashes and
    checks every common transaction with the GIL released, over both cores (what it declines,
    other shapes or malformed bytes, goes through :func:`preverify`)."""
    if CORE is None:
        for data in datas:
            preverify(data)
        return
    declined = []
    for data, found in zip(datas, CORE.check_signed_transactions(list(datas)), strict=True):
        if found is None:
            declined.append(data)
        else:
            _remember_verified(data, found[1], found[0])
    for data in declined:
        preverify(data)


Checked = tuple[SignedTransaction, bool, bytes]
"""A decoded transaction, whether its signature is valid, and its hash, for :func:`admit`."""


def check_signatures(datas: Sequence[bytes]) -> list[Checked | None]:
    """Decode each of ``datas`` and check its signature (None: undecodable, left to ``admit``).

    Meant for a worker thread, for a batch from a peer: the event loop should not wait for
    the checks. On the native path the signatures and hashes of the whole batch are one call
    that releases the GIL and uses both cores; the decoding into Python objects follows.
    """
    found = CORE.check_signed_transactions(list(datas)) if CORE is not None else [None] * len(datas)
    out: list[Checked | None] = []
    for data, facts in zip(datas, found, strict=True):
        try:
            txn = decode_signed(data)
        except BcsError:
            out.append(None)
            continue
        if facts is None:
            valid = verify_transaction_signature(txn, raw_transaction_bytes(txn, data))
            out.append((txn, valid, user_transaction_hash(data)))
        else:
            out.append((txn, facts[1], facts[0]))
    return out


def raw_transaction_bytes(txn: SignedTransaction, data: bytes) -> bytes:
    """BCS of ``txn.raw_txn``: a slice of the signed bytes ``data`` for an Ed25519 sender
    (``raw ‖ authenticator``), otherwise encoded again."""
    if isinstance(txn.authenticator, Ed25519Authenticator):
        return data[: len(data) - _ED25519_AUTHENTICATOR_SIZE]
    return txn.raw_txn.to_bcs()


def admit(
    pool: Mempool,
    state_view: StateView,
    data: bytes,
    *,
    chain_id: int,
    ledger_time_usecs: int,
    now: float,
    checked: Checked | None = None,
) -> Admission:
    """Admit ``data``; ``checked`` is what :func:`check_signatures` found for these exact
    bytes, if it was asked (then neither decoding, hashing nor the signature check is done
    again; likewise for what :func:`preverify` found)."""
    verified: bool | None = None
    txn_hash: bytes | None = None
    facts = _VERIFIED.pop(data, None)
    if facts is not None:
        verified, txn_hash = facts
    txn = _DECODED.pop(data, None)
    if checked is not None:
        txn, verified, txn_hash = checked
    if txn is None:
        try:
            txn = decode_signed(data)
        except BcsError:
            return Admission(None, "DESERIALIZATION_ERROR", None, None)
    if txn_hash is None:
        txn_hash = user_transaction_hash(data)
    if pool.contains_hash(txn_hash):
        return Admission(AddStatus.ALREADY_PRESENT, None, txn, txn_hash)
    if verified is None:
        verified = verify_transaction_signature(txn, raw_transaction_bytes(txn, data))
    if not verified:
        return Admission(None, "INVALID_SIGNATURE", txn, txn_hash)
    failure, account_sequence_number = check_prologue(pool, state_view, txn, data, chain_id, ledger_time_usecs)
    if failure is not None and failure != SEQUENCE_NUMBER_TOO_NEW:
        return Admission(None, failure, txn, txn_hash)
    assert account_sequence_number is not None  # the prologue checked that the sender exists
    status = pool.add(txn, data, txn_hash, account_sequence_number, now)
    return Admission(status, None, txn, txn_hash)
