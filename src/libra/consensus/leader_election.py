"""Who proposes in a round. Every honest validator must compute the same answer.

* :class:`RoundRobin` – ``validators[(round // contiguous_rounds) % n]`` over the
  sorted validator set (Diem ``RotatingProposer``).
* :class:`LeaderReputation` – skips validators whose rounds failed recently, judged only
  from *committed* history so that all validators agree (after Diem ``leader_reputation.rs``):

  1. a committed block counts for round ``r`` once the QC that committed it is
     ``exclude_rounds`` rounds old. The QC on a block commits its parent when their rounds
     are consecutive (2-chain), with the parent's uncommitted ancestors; in the committed
     chain, a block whose child's round is not the next one commits later, with a
     descendant (:func:`commit_rounds`). So a round's leader is computed from what was
     committed when the round ran, and stays the same when computed again from a longer
     history (to blame a failed run, or on a restarted validator); counting blocks by
     their own round blamed live validators for runs a dead one had failed;
  2. the counted blocks are the newest ``window`` of them (with fewer than
     ``window // 2``, nobody is skipped);
  3. each run of rounds between two of them that left no committed block *failed* at
     its last round: its leader (as these rules chose it then) is blamed. Only the
     last: when the leader of round ``k`` is down, round ``k - 1`` fails too (its votes
     go to the leader of ``k``), and blaming it would skip a live validator per dead one.
     The leaders blamed for the newest runs are skipped, at most ``f = (n - 1) // 3`` of
     them: more faulty validators than that is beyond what BFT tolerates, and one blamed
     before is likely back (killed and restarted). Skipping every validator blamed in the
     window left, after a few kills in turn, one to three candidates with the next victim
     among them: 10-14 s without a commit after one kill in ten (the simulator's
     ``make faults``, tests/unit/consensus/test_leader_reputation.py);
  4. nobody skipped: round robin. Otherwise the leader is the next candidate (the
     validators not skipped, in sorted order) of a rotation in which each leads
     :func:`rounds_per_leader` rounds in a row: a 2-chain commit needs the leaders of
     three consecutive rounds alive, and with one candidate dead, one round each over
     three candidates never gives three (two each does: ``x x d d y y x x``). A dead
     validator not yet skipped leads one turn per rotation, and rule 1 skips it in time
     for the next (round robin of four, a dead leader of round ``k``: the QC of round
     ``k + 2`` commits ``k + 1`` and counts from ``k + 4``, the dead one's next round);
  5. if the newest counted block was committed more than ``stall_rounds`` rounds ago, round
     robin: validators whose histories differ (a restart without the ledger's history,
     a fast-forward that skipped blocks) could otherwise disagree on leaders forever
     (Twins found that stalemate), and a wrong guess costs at most that many rounds.
     It must leave rule 4 time to commit with one candidate dead (up to seven rounds).

  Who signed the QCs is *not* used to skip validators (Diem's "active" rule): with
  four validators a QC carries three signatures, so the slowest voter (a validator just
  restarted on a busy machine) was absent from every one and skipped while alive.

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


def commit_rounds(rounds: Sequence[int]) -> list[int]:
    """For the rounds of a committed chain (oldest first, each block the parent of the next),
    the round of the QC that committed each block: the QC on its child when the child's
    round is the next one, else the one that committed its child. The newest block was
    committed by a QC on a child not in the list yet, of the next round (the 2-chain rule)."""
    committed_by = list(rounds)
    for i in range(len(rounds) - 1, -1, -1):
        last = i == len(rounds) - 1
        committed_by[i] = rounds[i] + 1 if last or rounds[i + 1] == rounds[i] + 1 else committed_by[i + 1]
    return committed_by


def rounds_per_leader(candidates: int) -> int:
    """Rounds each candidate leads in a row so that, with any one of them dead, three
    consecutive rounds still have live leaders (what a 2-chain commit needs)."""
    return 1 if candidates >= 4 else 2 if candidates == 3 else 3


class LeaderReputation:
    """Skip validators whose rounds failed recently (see module docstring)."""

    def __init__(
        self,
        epoch: int,
        validators: Sequence[AccountAddress],
        window: int = 10,
        exclude_rounds: int = 2,
        history: Sequence[CommittedBlockRecord] = (),
        stall_rounds: int = 8,
    ) -> None:
        self.epoch = epoch
        self.fallback = RoundRobin(validators)
        self.window = window
        self.exclude_rounds = exclude_rounds
        self.stall_rounds = stall_rounds
        self.max_skipped = (len(self.fallback.validators) - 1) // 3
        self._history: deque[CommittedBlockRecord] = deque(maxlen=4 * window)
        self._committed_by: list[int] = []  # per history record, the round of the QC that committed it
        self._cache: dict[int, AccountAddress] = {}  # round -> leader, for the current history
        for record in history:
            self.on_commit(record)

    def on_commit(self, record: CommittedBlockRecord) -> None:
        if self._history and record.round <= self._history[-1].round:
            return
        self._history.append(record)
        self._committed_by = commit_rounds([r.round for r in self._history])
        self._cache.clear()

    def _counted(self, round_: int) -> list[CommittedBlockRecord]:
        """The committed blocks that count for ``round_`` (rule 1), oldest first."""
        limit = round_ - self.exclude_rounds
        return [r for r, by in zip(self._history, self._committed_by, strict=True) if by <= limit]

    def failed_proposers(self, round_: int) -> set[AccountAddress]:
        """The validators skipped in ``round_``: the leaders, as these rules chose them then,
        of the last round of the newest failed runs inside the window (rule 3), at most f."""
        window = self._counted(round_)[-self.window :]
        if len(window) < max(1, self.window // 2):
            return set()
        blamed: list[AccountAddress] = []
        for a, b in reversed(list(itertools.pairwise(window))):
            if len(blamed) >= self.max_skipped:
                break
            if b.round > a.round + 1 and (leader := self.leader_at(b.round - 1)) not in blamed:
                blamed.append(leader)
        return set(blamed)

    def leader_at(self, round_: int) -> AccountAddress:
        """The leader these rules give ``round_``; memoised until the next commit."""
        leader = self._cache.get(round_)
        if leader is None:
            leader = self._choose(round_)
            self._cache[round_] = leader
        return leader

    def get_leader(self, round_: int) -> AccountAddress:
        return self.leader_at(round_)

    def _choose(self, round_: int) -> AccountAddress:
        counted = len(self._counted(round_))
        if counted and round_ - self._committed_by[counted - 1] > self.stall_rounds:
            return self.fallback.get_leader(round_)  # rule 5: nothing commits, rotate over all
        failed = self.failed_proposers(round_)
        if not failed:
            return self.fallback.get_leader(round_)
        candidates = [a for a in self.fallback.validators if a not in failed]
        return candidates[(round_ // rounds_per_leader(len(candidates))) % len(candidates)]


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
