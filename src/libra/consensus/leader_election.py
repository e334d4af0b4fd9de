"""Who proposes in a round. Every honest validator must compute the same answer.

* :class:`RoundRobin` – ``validators[(round // contiguous_rounds) % n]`` over the
  sorted validator set (Diem ``RotatingProposer``).
* :class:`LeaderReputation` – skips validators whose rounds failed recently, judged only
  from *committed* history so that all validators agree (after Diem ``leader_reputation.rs``):

  1. look at the committed blocks with ``round <= r - exclude_rounds`` (the newest
     ``window`` of them; with fewer than ``window // 2``, nobody is skipped);
  2. each run of rounds between two of them that left no committed block *failed* at
     its last round: its leader (as these rules chose it then) is skipped. Only the
     last: when the leader of round ``k`` is down, round ``k - 1`` fails too (its votes
     go to the leader of ``k``), and blaming it would skip a live validator per dead one;
  3. the leader is ``candidates[r % len(candidates)]``, the validators not skipped in
     sorted order (all of them if none is left): a rotation, so that a dead validator
     not yet skipped leads one round in ``len(candidates)``, and three live leaders in a
     row (what a 2-chain commit needs) come every few rounds. An independent draw per
     round gave a dead validator runs of rounds;
  4. if nothing committed for ``stall_rounds`` rounds, rotate over all validators (round
     robin): validators whose histories differ (a restart without the ledger's
     history, a fast-forward that skipped blocks) could otherwise disagree on leaders
     forever (Twins found that stalemate), and a wrong guess costs at most that many
     rounds.

  Who signed the QCs is *not* used to skip validators (Diem's "active" rule): with
  four validators a QC carries three signatures, so the slowest voter (a validator just
  restarted on a busy machine) was absent from every one and skipped while alive, which
  left a dead validator among three candidates: no three live leaders in a row until
  rule 4 (16-22 s without a commit on a localnet under load).

  The driver should seed ``history`` from the ledger's committed blocks on restart, and
  the core adds the ledger's blocks after a fast-forward (``StateComputer.committed_history``).

* :class:`ScriptedLeaders` – a per-round table with a fallback (Diem ``RoundProposer``),
  used by the Twins generator to choose leaders.
"""

from __future__ import annotations

import itertools
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
    """Skip validators whose rounds failed in recent committed history (see module docstring)."""

    def __init__(
        self,
        epoch: int,
        validators: Sequence[AccountAddress],
        window: int = 10,
        exclude_rounds: int = 4,
        history: Sequence[CommittedBlockRecord] = (),
        stall_rounds: int = 6,
    ) -> None:
        self.epoch = epoch
        self.fallback = RoundRobin(validators)
        self.window = window
        self.exclude_rounds = exclude_rounds
        self.stall_rounds = stall_rounds
        self._history: deque[CommittedBlockRecord] = deque(maxlen=4 * window)
        self._cache: dict[int, AccountAddress] = {}  # round -> leader, for the current history
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

    def failed_proposers(self, round_: int) -> set[AccountAddress]:
        """The leaders of the last round of each run of rounds inside the window that left
        no committed block (rule 3), as they were chosen then.

        Only the last: when the leader of round ``k`` is down, round ``k - 1`` fails as well
        (its votes go to the leader of ``k``), so blaming every round of a run excluded a
        live validator for each dead one. "As chosen then": the leader that round had by
        these same rules over the history before it (``leader_at``), not a guess from
        activity, which blamed validators that had not led the round."""
        window = self._window(round_)
        return {self.leader_at(b.round - 1) for a, b in itertools.pairwise(window) if b.round > a.round + 1}

    def leader_at(self, round_: int) -> AccountAddress:
        """The leader these rules give ``round_`` from the history before it (rule 5 counted
        from the newest committed round below it); memoised until the next commit."""
        leader = self._cache.get(round_)
        if leader is None:
            older = [r.round for r in self._history if r.round < round_]
            last = older[-1] if older else 0
            if round_ - last > self.stall_rounds:
                leader = self.fallback.get_leader(round_)  # rule 5: no recent commit, rotate
            else:
                failed = self.failed_proposers(round_)
                everyone = self.fallback.validators
                leader = self._choose(round_, [a for a in everyone if a not in failed] or everyone)
            self._cache[round_] = leader
        return leader

    def get_leader(self, round_: int) -> AccountAddress:
        return self.leader_at(round_)

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
