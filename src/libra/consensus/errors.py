"""One error tree for consensus.

``VerificationError`` means a message or certificate from a peer is malformed or
badly signed (log a security event, drop the message); ``SafetyError`` means safety
rules refused to sign; ``RecoveryError`` means the persisted consensus data cannot
be reconciled with the ledger (the driver must state-sync first).
"""

from __future__ import annotations


class ConsensusError(Exception):
    """Base of every error raised by the consensus package."""


class VerificationError(ConsensusError):
    """A peer's message, block or certificate failed a check that needs no local state."""


class SafetyError(ConsensusError):
    """Safety rules refused to sign a vote, timeout or proposal."""


class StorageError(ConsensusError):
    """Safety data or consensus data could not be read or written durably."""


class RecoveryError(ConsensusError):
    """Persisted consensus data does not fit the ledger's committed root."""
