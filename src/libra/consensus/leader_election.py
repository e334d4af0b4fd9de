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
  4. the leader is ``candidates[seed(epoch, r) % len(candidates)]`` with ``seed`` the
     first 8 bytes of ``sha3("LeaderReputation" salt, epoch ‖ round)``; with fewer than
     ``window // 2`` committed blocks (start of an epoch) it falls back to round robin.

  A validator that restarted or fast-forwarded has a shorter history and may disagree
  for a while; that costs a few timed-out rounds, never safety.

* :class:`ScriptedLeaders` – a per-round table with a fallback (Diem ``RoundProposer``),
  used by the Twins generator to choose leaders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from libra.crypto.hashing import hash_with_salt
from libra.types.move import AccountAddress


@dataclass(frozen=True, slots=True)
class CommittedBlockRecord:
    """What reputation needs from one committed block."""

    round: int
    proposer: AccountAddress | None
    voters: tuple[AccountAddress, ...]


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
    ) -> None:
        self.epoch = epoch
        self.fallback = RoundRobin(validators)
        self.window = window
        self.exclude_rounds = exclude_rounds
        self._history: deque[CommittedBlockRecord] = deque(maxlen=4 * window)
        self._memo: dict[int, AccountAddress] = {}
        for record in history:
            self.on_commit(record)

    def on_commit(self, record: CommittedBlockRecord) -> None:
        self._history.append(record)

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
        """Leaders of the rounds inside the window that left no committed block (rule 3)."""
        window = self._window(round_)
        if not window:
            return set()
        committed = {record.round for record in window}
        skipped = range(window[0].round + 1, window[-1].round)
        return {self.get_leader(r) for r in skipped if r not in committed}

    def get_leader(self, round_: int) -> AccountAddress:
        known = self._memo.get(round_)
        if known is not None:
            return known
        active = self.active_validators(round_)
        if not active:
            return self.fallback.get_leader(round_)
        failed = self.failed_proposers(round_)
        candidates = [a for a in active if a not in failed] or active
        seed = hash_with_salt(
            "LeaderReputation", self.epoch.to_bytes(8, "little") + round_.to_bytes(8, "little")
        )
        leader = candidates[int.from_bytes(seed[:8], "little") % len(candidates)]
        if self._history and self._history[-1].round >= round_ - self.exclude_rounds:
            # the window can no longer change: every block up to its end is committed
            if len(self._memo) >= 16 * self.window:
                self._memo.pop(next(iter(self._memo)))
            self._memo[round_] = leader
        return leader


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
