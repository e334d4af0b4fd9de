"""Light-client verification of everything the store proves, against signed ledger infos.

Rules:

1. A ledger info is trusted when every signature in it is a valid strict Ed25519
   signature of ``hash_seed("LedgerInfo") || BCS(ledger_info)`` by a distinct
   validator of the trusted set, and the signers hold at least the set's quorum
   voting power and more than two thirds of its total voting power.
2. Epochs chain: the ledger info ending epoch ``e`` is signed by epoch ``e``'s set
   and names the set of ``e + 1`` (stale ledger infos at the front are skipped).
3. A transaction info at version ``v`` is in the ledger of a ledger info at
   ``V >= v`` when its accumulator proof folds to the signed accumulator root.
4. An account blob (or its absence), an event, a list of transactions or an
   extension of a known accumulator is proven by folding its proof into a hash
   that rule 3 (or the signed root) authenticates.

Every check raises :class:`VerificationError`; a function that returns has verified.
"""

from __future__ import annotations

from collections.abc import Sequence

from libra.crypto.ed25519 import verify_signature
from libra.crypto.merkle import (
    EVENT_ACCUMULATOR,
    TRANSACTION_ACCUMULATOR,
    ProofError,
    accumulator_root,
    accumulator_root_of_leaves,
    extend_frozen,
    hash_account_blob,
    hash_account_key,
    hash_event,
    hash_transaction,
    hash_transaction_info,
    ledger_info_signing_message,
    root_from_accumulator_proof,
    root_from_range_proof,
    root_from_sparse_merkle_proof,
)
from libra.types.ledger import (
    EpochState,
    LedgerInfo,
    LedgerInfoWithSignatures,
    TransactionInfo,
    ValidatorVerifier,
)
from libra.types.proof import (
    AccountStateWithProof,
    AccumulatorConsistencyProof,
    EpochChangeProof,
    EventWithProof,
    TransactionInfoWithProof,
    TransactionListWithProof,
)


class VerificationError(ValueError):
    """A proof or signature that does not verify."""


def verify_ledger_info(ledger_info: LedgerInfoWithSignatures, verifier: ValidatorVerifier) -> None:
    """Rule 1."""
    validators = dict(verifier.validators)
    if not validators:
        raise VerificationError("the validator set is empty")
    power = 0
    for address, _ in ledger_info.signatures:
        info = validators.get(address)
        if info is None:
            raise VerificationError(f"signature by unknown validator {address.hex()}")
        power += info.voting_power
    total = sum(info.voting_power for info in validators.values())
    if power < verifier.quorum_voting_power or 3 * power <= 2 * total:
        raise VerificationError(f"signers hold {power} of {total} voting power, quorum not reached")
    message = ledger_info_signing_message(ledger_info.ledger_info)
    for address, signature in ledger_info.signatures:
        if not verify_signature(validators[address].public_key, message, signature):
            raise VerificationError(f"bad signature by validator {address.hex()}")


def verify_ledger_info_in_epoch(ledger_info: LedgerInfoWithSignatures, epoch_state: EpochState) -> None:
    if ledger_info.ledger_info.epoch != epoch_state.epoch:
        raise VerificationError(f"ledger info of epoch {ledger_info.ledger_info.epoch}, expected {epoch_state.epoch}")
    verify_ledger_info(ledger_info, epoch_state.verifier)


def verify_epoch_change_proof(proof: EpochChangeProof, trusted: EpochState) -> tuple[LedgerInfoWithSignatures, EpochState]:
    """Rule 2: the last ledger info of the proof and the epoch state it leads to."""
    if not proof.ledger_info_with_sigs:
        raise VerificationError("the epoch change proof is empty")
    if proof.ledger_info_with_sigs[-1].ledger_info.epoch < trusted.epoch:
        raise VerificationError("the epoch change proof is entirely stale")
    state = trusted
    for li in proof.ledger_info_with_sigs:
        if li.ledger_info.epoch < trusted.epoch:
            continue
        verify_ledger_info_in_epoch(li, state)
        next_state = li.ledger_info.next_epoch_state
        if next_state is None:
            raise VerificationError(f"ledger info of epoch {li.ledger_info.epoch} does not end its epoch")
        if next_state.epoch != state.epoch + 1:
            raise VerificationError(f"epoch {state.epoch} is followed by epoch {next_state.epoch}")
        state = next_state
    return proof.ledger_info_with_sigs[-1], state


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise VerificationError(message)


def verify_transaction_info(ledger_info: LedgerInfo, version: int, proof: TransactionInfoWithProof) -> TransactionInfo:
    """Rule 3."""
    _check(version <= ledger_info.version, f"version {version} is after the ledger info's {ledger_info.version}")
    info = proof.transaction_info
    try:
        root = root_from_accumulator_proof(
            TRANSACTION_ACCUMULATOR,
            hash_transaction_info(info),
            version,
            proof.ledger_info_to_transaction_info_proof.siblings,
        )
    except ProofError as exc:
        raise VerificationError(str(exc)) from None
    _check(root == ledger_info.transaction_accumulator_hash, "transaction info is not in the signed accumulator")
    return info


def verify_account_state(ledger_info: LedgerInfo, address: bytes, state: AccountStateWithProof) -> bytes | None:
    """Rule 4 for an account: returns its proven blob (None: no such account at ``state.version``)."""
    info = verify_transaction_info(ledger_info, state.version, state.proof.transaction_info_with_proof)
    proof = state.proof.transaction_info_to_account_proof
    leaf = (proof.leaf.key, proof.leaf.value_hash) if proof.leaf is not None else None
    value_hash = hash_account_blob(state.blob) if state.blob is not None else None
    try:
        root = root_from_sparse_merkle_proof(hash_account_key(address), value_hash, leaf, proof.siblings)
    except ProofError as exc:
        raise VerificationError(str(exc)) from None
    _check(root == info.state_root_hash, "account proof does not lead to the state root")
    return state.blob


def verify_event(ledger_info: LedgerInfo, event: EventWithProof) -> bytes:
    """Rule 4 for an event: returns its BCS."""
    info = verify_transaction_info(ledger_info, event.transaction_version, event.proof.transaction_info_with_proof)
    try:
        root = root_from_accumulator_proof(
            EVENT_ACCUMULATOR, hash_event(event.event), event.event_index, event.proof.transaction_info_to_event_proof.siblings
        )
    except ProofError as exc:
        raise VerificationError(str(exc)) from None
    _check(root == info.event_root_hash, "event is not in the transaction's event accumulator")
    return event.event


def verify_transaction_list(
    ledger_info: LedgerInfo, start_version: int | None, listing: TransactionListWithProof
) -> Sequence[bytes]:
    """Rule 4 for consecutive transactions starting at ``start_version`` (None: expect none)."""
    infos = listing.proof.transaction_infos
    _check(listing.first_transaction_version == start_version, "list starts at another version")
    _check(len(infos) == len(listing.transactions), "as many infos as transactions are needed")
    if start_version is None or not infos:
        range_proof = listing.proof.ledger_info_to_transaction_infos_proof
        _check(not infos and not range_proof.left_siblings and not range_proof.right_siblings, "empty list with a proof")
        _check(not listing.transactions and not listing.events, "empty list with content")
        return ()
    _check(start_version + len(infos) - 1 <= ledger_info.version, "list goes past the ledger info")
    for transaction, info in zip(listing.transactions, infos, strict=True):
        _check(hash_transaction(transaction) == info.transaction_hash, "transaction does not match its info")
    if listing.events is not None:
        _check(len(listing.events) == len(infos), "as many event lists as transactions are needed")
        for events, info in zip(listing.events, infos, strict=True):
            root = accumulator_root_of_leaves(EVENT_ACCUMULATOR, [hash_event(e) for e in events])
            _check(root == info.event_root_hash, "events do not match their transaction info")
    proof = listing.proof.ledger_info_to_transaction_infos_proof
    try:
        root = root_from_range_proof(
            TRANSACTION_ACCUMULATOR,
            start_version,
            [hash_transaction_info(info) for info in infos],
            proof.left_siblings,
            proof.right_siblings,
        )
    except ProofError as exc:
        raise VerificationError(str(exc)) from None
    _check(root == ledger_info.transaction_accumulator_hash, "transactions are not in the signed accumulator")
    return listing.transactions


def verify_consistency(
    known_frozen_roots: Sequence[bytes],
    known_version: int | None,
    proof: AccumulatorConsistencyProof,
    ledger_info: LedgerInfo,
) -> list[bytes]:
    """Rule 4 for accumulator growth: the frozen roots after ``ledger_info.version``."""
    old_leaves = 0 if known_version is None else known_version + 1
    new_leaves = ledger_info.version + 1
    try:
        frozen = extend_frozen(TRANSACTION_ACCUMULATOR, known_frozen_roots, old_leaves, proof.subtrees, new_leaves)
        root = accumulator_root(TRANSACTION_ACCUMULATOR, frozen, new_leaves)
    except (ProofError, ValueError) as exc:
        raise VerificationError(str(exc)) from None
    _check(root == ledger_info.transaction_accumulator_hash, "the accumulator extension does not lead to the signed root")
    return frozen
