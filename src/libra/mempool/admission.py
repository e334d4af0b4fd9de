"""Admission of submitted transactions (diem-protocol.md §9).

Order of checks, each failure reported with Diem's status name and nothing stored:

1. strict BCS decode of a ``SignedTransaction`` (``DESERIALIZATION_ERROR``);
2. the signature over ``seed(RawTransaction) ‖ raw`` (``INVALID_SIGNATURE``);
3. the framework's prologue against the latest committed state: chain id, expiry,
   sender exists and is not frozen, auth key, gas, payload kind, sequence number;
   ``SEQUENCE_NUMBER_TOO_NEW`` is not a failure here: the pool parks the transaction
   until the gap fills;
4. the pool's own rules (capacity, per-account limit, duplicates).
"""

from __future__ import annotations

from dataclasses import dataclass

from libra.bcs import BcsError
from libra.crypto.hashing import user_transaction_hash
from libra.crypto.transaction_signature import verify_transaction_signature
from libra.framework.state import StateView
from libra.framework.views import get_account_view
from libra.framework.vm import check_prologue
from libra.mempool.pool import AddStatus, Mempool
from libra.types.transaction import SignedTransaction

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


def decode_submission(data: bytes) -> SignedTransaction:
    """Strictly decode submitted bytes; raises ``BcsError`` naming offset and type."""
    return SignedTransaction.from_bcs(data)


def admit(
    pool: Mempool,
    state_view: StateView,
    data: bytes,
    *,
    chain_id: int,
    ledger_time_usecs: int,
    now: float,
) -> Admission:
    try:
        txn = decode_submission(data)
    except BcsError:
        return Admission(None, "DESERIALIZATION_ERROR", None, None)
    txn_hash = user_transaction_hash(data)
    if pool.contains_hash(txn_hash):
        return Admission(AddStatus.ALREADY_PRESENT, None, txn, txn_hash)
    if not verify_transaction_signature(txn, txn.raw_txn.to_bcs()):
        return Admission(None, "INVALID_SIGNATURE", txn, txn_hash)
    failure = check_prologue(state_view, txn, chain_id, ledger_time_usecs)
    if failure is not None and failure != SEQUENCE_NUMBER_TOO_NEW:
        return Admission(None, failure, txn, txn_hash)
    account = get_account_view(state_view, txn.raw_txn.sender)
    assert account is not None  # the prologue checked that the sender exists
    status = pool.add(txn, data, txn_hash, account.sequence_number, now)
    return Admission(status, None, txn, txn_hash)
