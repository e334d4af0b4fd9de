"""What the consensus core asks its driver to do; handlers return lists of these.

The driver performs them in order: network sends, timers, notifications. Commits
have already been handed to the :class:`~libra.consensus.interfaces.StateComputer`
when :class:`Commit` is returned; the action tells the driver (mempool clean-up,
subscribers, metrics). After :class:`EpochChange` the core ignores everything; the
driver starts a new core for the next epoch from that ledger info.
"""

from __future__ import annotations

from dataclasses import dataclass

from libra.consensus.block_tree import ExecutedBlock
from libra.types.consensus import (
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    EpochChangeProof,
    EpochRetrievalRequest,
    ProposalMsg,
    SyncInfo,
    TimeoutMsg,
    VoteMsg,
)
from libra.types.ledger import LedgerInfoWithSignatures
from libra.types.move import AccountAddress

Message = (
    ProposalMsg
    | VoteMsg
    | TimeoutMsg
    | SyncInfo
    | BlockRetrievalRequest
    | BlockRetrievalResponse
    | EpochRetrievalRequest
    | EpochChangeProof
)


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send ``message`` to every other validator of the epoch."""

    message: Message


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``message`` to one peer."""

    peer: AccountAddress
    message: Message


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Call ``on_local_timeout(round)`` after ``duration_ms`` unless the round has moved on."""

    round: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class FetchBlocks:
    """Ask ``peer`` for ``num_blocks`` blocks back from ``block_id``; feed the answer to
    ``on_block_retrieval_response``."""

    peer: AccountAddress
    block_id: bytes
    num_blocks: int


@dataclass(frozen=True, slots=True)
class Commit:
    """``blocks`` (oldest first) were committed; ``ledger_info`` certifies the last one."""

    blocks: tuple[ExecutedBlock, ...]
    ledger_info: LedgerInfoWithSignatures


@dataclass(frozen=True, slots=True)
class SyncedTo:
    """The ledger was fast-forwarded (state sync) to ``ledger_info``, skipping blocks."""

    ledger_info: LedgerInfoWithSignatures


@dataclass(frozen=True, slots=True)
class EpochChange:
    """The epoch ended with ``ledger_info``; restart consensus for the next epoch."""

    ledger_info: LedgerInfoWithSignatures


@dataclass(frozen=True, slots=True)
class DeferProposal:
    """The proposal's timestamp is ahead of the local clock: deliver it again at ``at_usecs``."""

    peer: AccountAddress
    message: ProposalMsg
    at_usecs: int


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """Something a peer sent was invalid or equivocating; log and alert."""

    kind: str
    peer: AccountAddress | None
    detail: str


Action = (
    Broadcast
    | Send
    | SetTimer
    | FetchBlocks
    | Commit
    | SyncedTo
    | EpochChange
    | DeferProposal
    | SecurityEvent
)
