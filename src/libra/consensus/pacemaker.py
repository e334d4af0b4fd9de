"""Round synchronisation (pacemaker) and configuration of the core.

A validator is in round ``r = max(highest QC round, highest TC round) + 1``: a round
advances only on a QC or a TC. Each round arms one local timer whose duration backs
off exponentially in the number of rounds since the last commit (Diem
``ExponentialTimeInterval``):

    duration = base × 1.2 ^ min(max_exponent, max(0, round − committed_round − 3))

computed in integers (``base × 12^k // 10^k``) so that every platform agrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from libra.consensus.pending_votes import PendingVotes
from libra.consensus.verification import CertificateChecker
from libra.types.consensus import TimeoutMsg


@dataclass(frozen=True, slots=True)
class ConsensusConfig:
    """Knobs of the core (Diem ``ConsensusConfig`` defaults where they exist)."""

    round_initial_timeout_ms: int = 1000
    backoff_numerator: int = 12
    backoff_denominator: int = 10
    max_exponent: int = 6
    commit_grace_rounds: int = 3
    max_block_txns: int = 100
    max_fetch_blocks: int = 64
    max_pending_fetches: int = 32

    def __post_init__(self) -> None:
        if not 0 <= self.max_exponent < 32:
            raise ValueError("max_exponent must be in [0, 32)")


def compute_timeout_ms(config: ConsensusConfig, round_: int, committed_round: int) -> int:
    """The local timeout of ``round_`` given the round of the last committed block."""
    exponent = min(config.max_exponent, max(0, round_ - committed_round - config.commit_grace_rounds))
    numerator: int = config.backoff_numerator**exponent
    denominator: int = config.backoff_denominator**exponent
    return config.round_initial_timeout_ms * numerator // denominator


@dataclass(slots=True)
class RoundState:
    """What the validator knows about its current round."""

    checker: CertificateChecker
    current_round: int = 0
    pending: PendingVotes = field(init=False)
    timeout_msg: TimeoutMsg | None = None
    voted_block: bytes | None = None

    def __post_init__(self) -> None:
        self.pending = PendingVotes(self.checker, self.current_round)

    def enter(self, round_: int) -> bool:
        """Move to ``round_`` if it is higher; True if the round changed."""
        if round_ <= self.current_round:
            return False
        self.current_round = round_
        self.pending = PendingVotes(self.checker, round_)
        self.timeout_msg = None
        self.voted_block = None
        return True
