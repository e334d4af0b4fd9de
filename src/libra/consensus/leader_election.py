"""Who proposes in a round. Every honest validator must compute the same answer.

* :class:`RoundRobin` – ``validators[(round // contiguous_rounds) % n]`` over the
  sorted validator set (Diem ``RotatingProposer``).
* :class:`LeaderReputation` – excludes validators that failed recently, judged only
  from *committed* history so that all validators agree (Diem ``leader_reputation.rs``):

  1. look at the committed blocks with ``round <= r - exclude_rounds`` (the newest
     ``window`` of them);
  2. a validator is *active* if it proposed one of them or signed the QC any of them
     carries; a crashed validator does neither and drops out;
  3. a validator that was the leader of a round inside the window that left no
     committed block has *failed*; the candidates are the active validators that did
     not fail (all active ones if none is left);
  4. the leader is ``candidates[r % len(candidates)]`` (the candidates sorted): a
     rotation, so that a dead validator still among them leads one round in
     ``len(candidates)`` and three live leaders in a row (what a 2-chain commit needs)
     come every few rounds; with fewer than ``window // 2`` committed blocks (start of an
     epoch) it falls back to round robin.

  5. if nothing committed for ``stall_rounds`` rounds, rotate (round robin): validators
     whose histories differ (a restart without the ledger's history, a fast-forward
     that skipped blocks) could otherwise disagree on leaders forever. Twins found
     that stalemate; the rotation ends it, and fresh commits make histories agree.

  The driver should seed ``history`` from the ledger's committed blocks on restart, and
  the core adds the ledger's blocks after a fast-forward (``StateComputer.committed_history``):
  the rotation of rule 5 is a last resort that costs ``stall_rounds`` timeouts.

* :class:`ScriptedLeaders` – a per-round table with a fallback (Diem ``RoundProposer``),
  used by the Twins generator to choose leaders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from libra.types.consensus import Block
from libra.types.move import AccountAddress


@dataclass(frozen=True, slots=True)
class CommittedBlockRecord:
    """What reputation needs from one committed block."""

    round: int
    proposer: AccountAddress | None
    voters: tuple[AccountAddress, ...]


def commit_record(block: Block) -> CommittedBlockRecord:
    """What reputation learns from a committed block: its round, its proposer and the
    signers of the QC it carries (all part of the block, so every node agrees)."""
    voters = tuple(author for author, _ in block.quorum_cert.signed_ledger_info.signatures)
    return CommittedBlockRecord(block.round, block.author, voters)


class LeaderElection(Protocol):
    def get_leader(self, round_: int) -> AccountAddress: ...

    def on_commit(self, record: CommittedBlockRecord) -> None:
        """Called for every committed block, oldest first."""
        ...


class RoundRobin:
    """Rotate through the sorted validators, ``contiguous_rounds`` rounds each."""

    def __init__(self, validators: Sequence[AccountAddress], contiguous_rounds: int = 1) -> None:
        if not validators or contiguous_rounds < 1:
            raise ValueError("round robin needs validators and contiguous_rounds >= 1")
        self.validators = sorted(validators)
        self.contiguous_rounds = contiguous_rounds

    def get_leader(self, round_: int) -> AccountAddress:
        return self.validators[(round_ // self.contiguous_rounds) % len(self.validators)]

    def on_commit(self, record: CommittedBlockRecord) -> None:
        return None


class LeaderReputation:
    """Skip validators absent from, or failing in, recent committed history (see module docstring)."""

    def __init__(
        self,
        epoch: int,
        validators: Sequence[AccountAddress],
        window: int = 10,
        exclude_rounds: int = 4,
        history: Sequence[CommittedBlockRecord] = (),
        stall_rounds: int = 10,
    ) -> None:
        self.epoch = epoch
        self.fallback = RoundRobin(validators)
        self.window = window
        self.exclude_rounds = exclude_rounds
        self.stall_rounds = stall_rounds
        self._history: deque[CommittedBlockRecord] = deque(maxlen=4 * window)
        self._cache: dict[tuple[int, int, int], AccountAddress] = {}
        for record in history:
            self.on_commit(record)

    def on_commit(self, record: CommittedBlockRecord) -> None:
        if self._history and record.round <= self._history[-1].round:
            return
        self._history.append(record)
        self._cache.clear()

    def _window(self, round_: int) -> list[CommittedBlockRecord]:
        """The newest ``window`` committed blocks with ``round <= round_ - exclude_rounds``."""
        target = round_ - self.exclude_rounds
        window = [r for r in self._history if r.round <= target][-self.window :]
        return window if len(window) >= max(1, self.window // 2) else []

    def active_validators(self, round_: int) -> list[AccountAddress]:
        """Proposers and QC signers of the window (rule 2)."""
        active: set[AccountAddress] = set()
        for record in self._window(round_):
            if record.proposer is not None:
                active.add(record.proposer)
            active.update(record.voters)
        return sorted(a for a in active if a in self.fallback.validators)

    def failed_proposers(self, round_: int) -> set[AccountAddress]:
        """Leaders of the rounds inside the window that left no committed block (rule 3);
        their leaders are judged by activity alone, so the rule does not recurse."""
        window = self._window(round_)
        if not window:
            return set()
        committed = {record.round for record in window}
        skipped = range(window[0].round + 1, window[-1].round)
        return {self._choose(r, self.active_validators(r)) for r in skipped if r not in committed}

    def get_leader(self, round_: int) -> AccountAddress:
        last = self._history[-1].round if self._history else 0
        if round_ - last > self.stall_rounds:
            return self.fallback.get_leader(round_)  # rule 5: no recent commit, rotate
        key = (round_, len(self._history), last)
        leader = self._cache.get(key)
        if leader is None:
            active = self.active_validators(round_)
            failed = self.failed_proposers(round_)
            leader = self._choose(round_, [a for a in active if a not in failed] or active)
            self._cache[key] = leader
        return leader

    def _choose(self, round_: int, candidates: list[AccountAddress]) -> AccountAddress:
        """Rotate over the (sorted) candidates. Not a hash of the round: while nothing
        commits the candidates stay as they are, dead ones included, and an independent
        draw per round gave a dead validator runs of rounds (each a timeout, none
        committing) where rotation gives it one round in ``len(candidates)``."""
        if not candidates:
            return self.fallback.get_leader(round_)
        return candidates[round_ % len(candidates)]


class ScriptedLeaders:
    """Leaders chosen per round by a table; other rounds use ``fallback``."""

    def __init__(self, table: Mapping[int, AccountAddress], fallback: LeaderElection) -> None:
        self.table = dict(table)
        self.fallback = fallback

    def get_leader(self, round_: int) -> AccountAddress:
        leader = self.table.get(round_)
        return leader if leader is not None else self.fallback.get_leader(round_)

    def on_commit(self, record: CommittedBlockRecord) -> None:
        self.fallback.on_commit(record)
