"""Waypoints: a trusted starting point for light clients (Diem's ``Waypoint``).

A waypoint names an epoch-ending ledger info by ``version:hash`` where ``hash`` is the
salted SHA3-256 of ``Ledger2WaypointConverter { epoch, root_hash, version,
timestamp_usecs, next_epoch_state }`` taken from it (``root_hash`` is the transaction
accumulator root); here that struct is :class:`EpochBoundary`. The genesis waypoint names
the ledger info of version 0, which is not signed: it is trusted because its hash is the
one the network published. Only the boundary's fields are hashed, so only they are kept
(a ledger info's round, block id and consensus hash are not covered by a waypoint).

:func:`verify_from_waypoint` walks from a waypoint to a quorum-signed ledger info:

1. the boundary must hash to the waypoint; it names the validator set of the next epoch;
2. each ledger info of the epoch-change proof is signed by the set the previous one names,
   starting with the boundary's, with no stale or missing epoch (``verify_epoch_change_proof``);
3. the ledger info to trust is signed by the set the walk ends with (or is the last
   ledger info of the proof).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from libra.bcs import BcsType, Deserializer, Serializer
from libra.client.verifier import VerificationError, verify_epoch_change_proof, verify_ledger_info_in_epoch
from libra.crypto.hashing import hash_with_salt
from libra.types.ledger import (
    EpochState,
    LedgerInfo,
    LedgerInfoWithSignatures,
    deserialize_hash,
    serialize_hash,
)
from libra.types.proof import EpochChangeProof

_TEXT = re.compile(r"^(\d{1,20}):([0-9a-f]{64})$")


@dataclass(frozen=True, slots=True)
class EpochBoundary(BcsType):
    """``Ledger2WaypointConverter``: the fields of an epoch-ending ledger info a waypoint hashes."""

    epoch: int
    root_hash: bytes
    version: int
    timestamp_usecs: int
    next_epoch_state: EpochState | None

    @classmethod
    def of(cls, ledger_info: LedgerInfo) -> EpochBoundary:
        return cls(
            ledger_info.epoch, ledger_info.transaction_accumulator_hash, ledger_info.version,
            ledger_info.timestamp_usecs, ledger_info.next_epoch_state,
        )

    def serialize(self, serializer: Serializer) -> None:
        serializer.u64(self.epoch)
        serialize_hash(serializer, self.root_hash)
        serializer.u64(self.version)
        serializer.u64(self.timestamp_usecs)
        serializer.option(self.next_epoch_state, lambda s, state: state.serialize(s))

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EpochBoundary:
        return cls(
            deserializer.u64(),
            deserialize_hash(deserializer),
            deserializer.u64(),
            deserializer.u64(),
            deserializer.option(EpochState.deserialize, "next_epoch_state"),
        )


@dataclass(frozen=True, slots=True)
class Waypoint:
    version: int
    value: bytes

    @classmethod
    def of(cls, ledger_info: LedgerInfo) -> Waypoint:
        """The waypoint of an epoch-ending ledger info (ValueError for any other)."""
        if not ledger_info.ends_epoch:
            raise ValueError(f"the ledger info at version {ledger_info.version} does not end an epoch")
        return cls.of_boundary(EpochBoundary.of(ledger_info))

    @classmethod
    def of_boundary(cls, boundary: EpochBoundary) -> Waypoint:
        return cls(boundary.version, hash_with_salt("Ledger2WaypointConverter", boundary.to_bcs()))

    @classmethod
    def parse(cls, text: str) -> Waypoint:
        """``VERSION:64 lowercase hex`` (Diem's text form); ValueError names what is wrong."""
        match = _TEXT.match(text.strip())
        if match is None or int(match.group(1)) >= 1 << 64:
            raise ValueError(f"a waypoint is VERSION:HASH (64 lowercase hex digits), got {text.strip()!r}")
        return cls(int(match.group(1)), bytes.fromhex(match.group(2)))

    def __str__(self) -> str:
        return f"{self.version}:{self.value.hex()}"


def verify_from_waypoint(
    waypoint: Waypoint, boundary: EpochBoundary, proof: EpochChangeProof, ledger_info: LedgerInfoWithSignatures
) -> EpochState:
    """Prove ``ledger_info`` from ``waypoint``: rules 1–3 of the module docstring.

    ``proof`` holds the epoch-ending ledger infos after the boundary, in order (none when no
    epoch ended since). Returns the epoch state that signs ledger infos after the walk.
    Raises VerificationError.
    """
    if Waypoint.of_boundary(boundary) != waypoint:
        raise VerificationError(f"the epoch boundary at version {boundary.version} does not match waypoint {waypoint}")
    state = boundary.next_epoch_state
    if state is None:
        raise VerificationError("the waypoint's ledger info names no next validator set")
    if proof.more:
        raise VerificationError("the epoch change proof is incomplete (more epochs follow)")
    chain = proof.ledger_info_with_sigs
    if chain:
        if chain[0].ledger_info.epoch != state.epoch:
            raise VerificationError(f"the epoch change proof starts at epoch {chain[0].ledger_info.epoch}, not {state.epoch}")
        _, state = verify_epoch_change_proof(proof, state)
        if ledger_info == chain[-1]:
            return state
    verify_ledger_info_in_epoch(ledger_info, state)
    return state
