"""How many transactions a leader proposes: what this validator executes within a time budget.

Why: every validator executes a proposal before it votes, and commits blocks on the same
thread. A leader that proposes more than the validators can execute and commit within
the round timeout makes the round time out; the work is discarded, the same transactions
are proposed again, and throughput collapses instead of degrading (four validators and a
full node on two busy cores executed blocks of 1,000 in 3-5 s against a 1 s timeout and
committed 31 payments/s where a quiet machine committed 400).

So the leader caps its proposal at the number of transactions its own recent blocks say
fit in the budget, a fraction of the round timeout. Measured time is wall time, so it
includes waiting for a core on a loaded machine, which is what the round timeout sees.
The cap is the leader's local choice: it changes no rule, and every validator still
accepts any block up to ``max_block_transactions``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Smaller blocks are mostly fixed cost (the synced write, the metadata transaction): divided
# by a few transactions it looks like a slow machine, and at moderate load the cap then binds,
# rounds slow down and latency triples (4+1 at 300/s: p50 1.1 s with samples from 10
# transactions, 0.24 s without a cap).
MIN_SAMPLE_TXNS = 100


@dataclass
class _Average:
    """Exponentially weighted mean of seconds per transaction of one stage."""

    value: float
    weight: float

    def add(self, sample: float) -> None:
        self.value += self.weight * (sample - self.value)


class BlockPace:
    """Seconds per transaction of execution and of commit, lately; the block size they allow."""

    def __init__(
        self,
        budget_secs: float,
        *,
        floor: int = 20,
        ceiling: int = 10_000,
        initial_secs_per_txn: float = 0.001,
        weight: float = 0.3,
    ) -> None:
        if budget_secs <= 0 or not 0 < weight <= 1 or not 1 <= floor <= ceiling:
            raise ValueError("BlockPace needs budget_secs > 0, 0 < weight <= 1 and 1 <= floor <= ceiling")
        self.budget_secs = budget_secs
        self.floor = floor
        self.ceiling = ceiling
        self._execute = _Average(initial_secs_per_txn, weight)
        self._commit = _Average(0.0, weight)

    def executed(self, transactions: int, seconds: float) -> None:
        """A block of ``transactions`` took ``seconds`` to execute."""
        if transactions >= MIN_SAMPLE_TXNS:
            self._execute.add(seconds / transactions)

    def committed(self, transactions: int, seconds: float) -> None:
        """Blocks holding ``transactions`` took ``seconds`` to commit."""
        if transactions >= MIN_SAMPLE_TXNS:
            self._commit.add(seconds / transactions)

    @property
    def secs_per_txn(self) -> float:
        return self._execute.value + self._commit.value

    def block_limit(self) -> int:
        """Transactions that fit in the budget, within [floor, ceiling]."""
        fits = int(self.budget_secs / self.secs_per_txn) if self.secs_per_txn > 0 else self.ceiling
        return max(self.floor, min(self.ceiling, fits))
