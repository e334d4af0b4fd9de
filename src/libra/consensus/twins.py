"""Twins: a deterministic in-process network of real consensus cores, with twin nodes.

A *twin* is a second node running unmodified code with the same identity and key as
another validator: it equivocates as a proposer, votes twice, and forgets the other's
state. A scenario (Bano et al., OPODIS 2021) fixes, per round, the leader and a
partition of the nodes; messages cross only within the sender's partition of the
sender's current round. After the scenario's rounds (or at the latest after a time
budget per round, since a round whose partitions hold no quorum never ends) the
network heals and leaders fall back to round robin.

Each scenario checks:

* **safety** – no two honest nodes commit different blocks at one (epoch, round),
  and all blocks committed by honest nodes lie on one chain;
* **liveness** – after the partitions heal, every honest node commits a block above
  the scenario's last round within the simulated time budget.

Randomness comes only from the ``random.Random`` seeded per scenario; time is a
logical clock in microseconds. Run many scenarios with::

    python -m libra.consensus.twins --scenarios 1000 --seed 7
"""

from __future__ import annotations

import heapq
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from libra.consensus.actions import (
    Action,
    Broadcast,
    Commit,
    DeferProposal,
    EpochChange,
    FetchBlocks,
    Message,
    Send,
    SetTimer,
    SyncedTo,
)
from libra.consensus.interfaces import ConsensusStore
from libra.consensus.leader_election import (
    CommittedBlockRecord,
    LeaderElection,
    LeaderReputation,
    RoundRobin,
    ScriptedLeaders,
    commit_record,
)
from libra.consensus.memory import (
    RECONFIGURE,
    CountingPayloadSource,
    HashChainStateComputer,
    InMemoryConsensusStore,
)
from libra.consensus.pacemaker import ConsensusConfig
from libra.consensus.round_manager import RoundManager
from libra.consensus.safety_rules import SafetyRules
from libra.consensus.safety_storage import InMemorySafetyStorage
from libra.consensus.verification import (
    ACCUMULATOR_PLACEHOLDER_HASH,
    ZERO_HASH,
    SignatureCache,
    compute_block_id,
)
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.types.consensus import Block, BlockRetrievalRequest, BlockRetrievalResponse, ProposalMsg
from libra.types.ledger import (
    BlockInfo,
    EpochState,
    LedgerInfo,
    LedgerInfoWithSignatures,
    ValidatorConsensusInfo,
    ValidatorVerifier,
)
from libra.types.move import AccountAddress

START_USECS = 1_000_000
FETCH_TIMEOUT_USECS = 300_000
ROUND_BUDGET_USECS = 1_500_000  # partitions of a scenario of R rounds last at most R × this
HISTORY_BLOCKS = 40  # committed blocks a synced ledger reports to leader reputation (as the node)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Leaders and partitions for rounds 1..len(leaders); slots ``num_validators + k``
    are the twins of validator ``twins[k]``."""

    num_validators: int
    twins: tuple[int, ...]
    leaders: tuple[int, ...]
    partitions: tuple[tuple[frozenset[int], ...], ...]
    seed: int
    drop_rate: float = 0.0
    max_delay_ms: int = 40
    restarts: tuple[tuple[int, int], ...] = ()
    reconfigure_at: int = 0
    reputation: bool = False

    @property
    def num_slots(self) -> int:
        return self.num_validators + len(self.twins)

    def identity(self, slot: int) -> int:
        """The validator index whose key ``slot`` uses."""
        return slot if slot < self.num_validators else self.twins[slot - self.num_validators]

    def is_honest(self, slot: int) -> bool:
        return self.identity(slot) not in self.twins


@dataclass(slots=True)
class Outcome:
    scenario: Scenario
    safety_violation: str | None = None
    live: bool = True
    commits: int = 0
    events: int = 0
    fast_forwards: int = 0
    epoch_changes: int = 0
    restarts: int = 0

    @property
    def ok(self) -> bool:
        return self.safety_violation is None and self.live


def generate_scenario(
    rng: random.Random,
    seed: int,
    num_validators: int = 4,
    twins: tuple[int, ...] = (0,),
    rounds: int = 8,
    max_partitions: int = 3,
    reputation: bool = False,
    full_rate: float = 1 / 3,
) -> Scenario:
    """A random scenario: per round a leader and a partition of all slots into 1..max groups.

    Leaders are a twin with probability 1/2 (equivocating proposers are where safety is
    tested); a third of the rounds are fully connected, so that honest nodes can hear
    both twins. Half of the scenarios also get an *equivocation window*: three rounds
    led by one twin identity, the first two fully connected (both twins' proposals and
    QCs reach everyone), the third split so that each twin reaches different nodes.
    """
    slots = num_validators + len(twins)
    leaders = [
        rng.choice(twins) if twins and rng.random() < 0.5 else rng.randrange(num_validators)
        for _ in range(rounds)
    ]
    partitions = [_random_partition(rng, slots, max_partitions, full_rate) for _ in range(rounds)]
    if twins and rounds >= 3 and rng.random() < 0.5:
        start, twin = rng.randrange(rounds - 2), rng.randrange(len(twins))
        leaders[start : start + 3] = [twins[twin]] * 3
        everyone = (frozenset(range(slots)),)
        partitions[start : start + 3] = [
            everyone,
            everyone,
            _split_twin(rng, slots, twins[twin], num_validators + twin),
        ]
    restarts = tuple((rng.randrange(slots), rng.randint(1, rounds)) for _ in range(rng.choice((0, 0, 1, 2))))
    return Scenario(
        num_validators,
        twins,
        tuple(leaders),
        tuple(partitions),
        seed,
        drop_rate=rng.choice((0.0, 0.0, 0.05)),
        max_delay_ms=rng.choice((5, 20, 60)),
        restarts=restarts,
        reconfigure_at=rng.choice((0, 0, 0, rounds // 2 + 1)),
        reputation=reputation,
    )


def _random_partition(
    rng: random.Random, slots: int, max_groups: int, full_rate: float
) -> tuple[frozenset[int], ...]:
    """All slots together with probability ``full_rate``, else split into 2..max_groups groups."""
    groups = 1 if rng.random() < full_rate else rng.randint(2, max_groups)
    assignment: list[set[int]] = [set() for _ in range(groups)]
    for slot in range(slots):
        assignment[rng.randrange(groups)].add(slot)
    return tuple(frozenset(group) for group in assignment if group)


def _split_twin(rng: random.Random, slots: int, original: int, twin: int) -> tuple[frozenset[int], ...]:
    """Two groups, the original in one and its twin in the other, the rest at random."""
    sides: tuple[set[int], set[int]] = ({original}, {twin})
    for slot in range(slots):
        if slot not in (original, twin):
            sides[rng.randrange(2)].add(slot)
    return (frozenset(sides[0]), frozenset(sides[1]))


@dataclass(order=True, slots=True)
class _Event:
    at: int
    seq: int
    run: Callable[[], None] = field(compare=False)


class Simulation:
    """Runs one scenario over real cores; see the module docstring for the checks."""

    def __init__(
        self,
        scenario: Scenario,
        unsafe_slots: Sequence[int] = (),
        time_budget_s: int = 300,
        store_factory: Callable[[int], ConsensusStore] | None = None,
        later_verifier: ValidatorVerifier | None = None,
    ) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.unsafe = set(unsafe_slots)
        self.deadline = START_USECS + time_budget_s * 1_000_000
        self.now = START_USECS
        self.heal_at = START_USECS + len(scenario.leaders) * ROUND_BUDGET_USECS
        self._queue: list[_Event] = []
        self._seq = 0
        self.keys = [Ed25519PrivateKey(bytes([i + 1]) * 32) for i in range(scenario.num_validators)]
        self.authors = [AccountAddress(bytes([0] * 15 + [i + 1])) for i in range(scenario.num_validators)]
        infos = {
            a: ValidatorConsensusInfo(k.public_key().to_bytes(), 1)
            for a, k in zip(self.authors, self.keys, strict=True)
        }
        self.verifier = ValidatorVerifier.from_validators(infos)
        self.later_verifier = later_verifier
        self.genesis_li = self._genesis_ledger_info()
        slots = range(scenario.num_slots)
        self.safety = [InMemorySafetyStorage() for _ in slots]
        self.stores: list[ConsensusStore] = [
            store_factory(slot) if store_factory is not None else InMemoryConsensusStore() for slot in slots
        ]
        self.computers = [self._computer() for _ in slots]
        self.payloads = [self._payload_source(slot) for slot in slots]
        self.managers: list[RoundManager] = []
        self.generation = [0 for _ in slots]
        self.committed: dict[tuple[int, int], bytes] = {}
        self.registry: dict[bytes, tuple[int, int, bytes]] = {}
        self.proposed: dict[bytes, Block] = {}
        self.live_slots: set[int] = set()
        self.outcome = Outcome(scenario)
        self.signature_cache: SignatureCache = set()
        self.pending_restarts = 0

    # ----------------------------------------------------------------------- setup

    def verifier_for(self, epoch: int) -> ValidatorVerifier:
        """The validator set of ``epoch``: the first one, or ``later_verifier`` from epoch 2."""
        return self.later_verifier if epoch >= 2 and self.later_verifier is not None else self.verifier

    def _genesis_ledger_info(self) -> LedgerInfoWithSignatures:
        info = BlockInfo(0, 0, ZERO_HASH, ACCUMULATOR_PLACEHOLDER_HASH, 0, 0, EpochState(1, self.verifier))
        return LedgerInfoWithSignatures(LedgerInfo(info, ZERO_HASH))

    def _computer(self) -> HashChainStateComputer:
        computer = HashChainStateComputer(
            ZERO_HASH,
            ACCUMULATOR_PLACEHOLDER_HASH,
            0,
            lambda epoch: EpochState(epoch, self.verifier_for(epoch)),
        )
        computer.chain_history = self._chain_history
        return computer

    def _chain_history(self, ledger_info: LedgerInfoWithSignatures) -> list[CommittedBlockRecord]:
        """The blocks a ledger synced to ``ledger_info`` holds (of its epoch, oldest first):
        its committed block and that block's ancestors, as proposed."""
        info = ledger_info.ledger_info.commit_info
        records: list[CommittedBlockRecord] = []
        block = self.proposed.get(info.id)
        while block is not None and block.epoch == info.epoch and len(records) < HISTORY_BLOCKS:
            records.append(commit_record(block))
            block = self.proposed.get(block.parent_id)
        return records[::-1]

    def _payload_source(self, slot: int) -> CountingPayloadSource:
        target = self.scenario.reconfigure_at

        def extra(_: int) -> tuple[bytes, ...]:
            manager = self.managers[slot] if slot < len(self.managers) else None
            if target and manager is not None and manager.epoch == 1 and manager.current_round >= target:
                return (RECONFIGURE,)
            return ()

        return CountingPayloadSource(f"s{slot}", extra=extra)

    def _build(self, slot: int, ledger_root: LedgerInfoWithSignatures) -> RoundManager:
        index = self.scenario.identity(slot)
        rules = SafetyRules(
            self.authors[index],
            self.keys[index],
            self.safety[slot],
            unsafe_skip_round_check=slot in self.unsafe,
        )
        info = ledger_root.ledger_info
        epoch = info.next_epoch_state.epoch if info.next_epoch_state is not None else info.epoch
        validators = [a for a, _ in self.verifier_for(epoch).validators]
        election: LeaderElection = RoundRobin(validators)
        if self.scenario.reputation:  # seeded from the ledger, as a driver would on restart
            history = self.computers[slot].committed_history(epoch)
            election = LeaderReputation(epoch, validators, window=8, history=history)
        if epoch == 1:
            table = {r + 1: self.authors[i] for r, i in enumerate(self.scenario.leaders)}
            election = ScriptedLeaders(table, election)
        return RoundManager.recover(
            author=self.authors[index],
            ledger_root=ledger_root,
            store=self.stores[slot],
            safety_rules=rules,
            state_computer=self.computers[slot],
            payload_source=self.payloads[slot],
            epoch_state=EpochState(epoch, self.verifier_for(epoch)),
            leader_election=election,
            config=ConsensusConfig(max_block_txns=2),
            signature_cache=self.signature_cache,
        )

    # ----------------------------------------------------------------------- running

    def run(self) -> Outcome:
        for slot in range(self.scenario.num_slots):
            self.managers.append(self._build(slot, self.genesis_li))
        for slot in range(self.scenario.num_slots):
            self._perform(slot, self.managers[slot].start(self.now))
        self.pending_restarts = len(self.scenario.restarts)
        for slot, at_round in self.scenario.restarts:
            self._schedule(START_USECS + at_round * 400_000, self._restarter(slot))
        while self._queue and self.outcome.safety_violation is None:
            event = heapq.heappop(self._queue)
            if event.at > self.deadline:
                break
            self.now = max(self.now, event.at)
            self.outcome.events += 1
            event.run()
            if self._is_done():
                break
        self._check_chain()
        self.outcome.live = self._is_done()
        return self.outcome

    def _is_done(self) -> bool:
        honest = [s for s in range(self.scenario.num_slots) if self.scenario.is_honest(s)]
        return self.pending_restarts == 0 and all(s in self.live_slots for s in honest)

    def _schedule(self, at: int, run: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, _Event(at, self._seq, run))

    def _round_of(self, slot: int) -> int:
        manager = self.managers[slot]
        return manager.current_round if manager.epoch == 1 else 0

    def _connected(self, sender: int, receiver: int) -> bool:
        round_ = self._round_of(sender)
        if 1 <= round_ <= len(self.scenario.partitions) and self.now < self.heal_at:
            groups = self.scenario.partitions[round_ - 1]
            if not any(sender in g and receiver in g for g in groups):
                return False
        return not (self.scenario.drop_rate and self.rng.random() < self.scenario.drop_rate)

    def _delay(self) -> int:
        return self.rng.randint(1_000, self.scenario.max_delay_ms * 1_000)

    def _slots_of(self, author: AccountAddress) -> list[int]:
        return [
            s for s in range(self.scenario.num_slots) if self.authors[self.scenario.identity(s)] == author
        ]

    def _perform(self, slot: int, actions: list[Action]) -> None:
        generation = self.generation[slot]
        for action in actions:
            if isinstance(action, Broadcast):
                self._record_proposal(action.message)
                for target in range(self.scenario.num_slots):
                    if target != slot:
                        self._send(slot, target, action.message)
            elif isinstance(action, Send):
                for target in self._slots_of(action.peer):
                    if target != slot:
                        self._send(slot, target, action.message)
            elif isinstance(action, SetTimer):
                self._schedule(
                    self.now + action.duration_ms * 1_000, self._timer(slot, generation, action.round)
                )
            elif isinstance(action, FetchBlocks):
                self._fetch(slot, action)
            elif isinstance(action, DeferProposal):
                self._schedule(action.at_usecs, self._delivery(slot, action.peer, action.message))
            elif isinstance(action, Commit | SyncedTo):
                self.outcome.fast_forwards += isinstance(action, SyncedTo)
                self._record_commit(slot, action)
            elif isinstance(action, EpochChange):
                self._schedule(self.now, self._epoch_changer(slot, action.ledger_info))

    def _send(self, sender: int, target: int, message: Message) -> None:
        if not self._connected(sender, target):
            return
        author = self.authors[self.scenario.identity(sender)]
        self._schedule(self.now + self._delay(), self._delivery(target, author, message))

    def _delivery(self, slot: int, peer: AccountAddress, message: Message) -> Callable[[], None]:
        def deliver() -> None:
            self._perform(slot, self.managers[slot].on_message(peer, message, self.now))

        return deliver

    def _timer(self, slot: int, generation: int, round_: int) -> Callable[[], None]:
        def fire() -> None:
            if generation == self.generation[slot]:
                self._perform(slot, self.managers[slot].on_local_timeout(round_, self.now))

        return fire

    def _restarter(self, slot: int) -> Callable[[], None]:
        return lambda: self._restart(slot)

    def _epoch_changer(self, slot: int, ledger_info: LedgerInfoWithSignatures) -> Callable[[], None]:
        return lambda: self._new_epoch(slot, ledger_info)

    def _fetch(self, slot: int, action: FetchBlocks) -> None:
        request = BlockRetrievalRequest(action.block_id, action.num_blocks)
        generation = self.generation[slot]
        peer = action.peer
        response = BlockRetrievalResponse(1)
        delay = FETCH_TIMEOUT_USECS
        for target in self._slots_of(peer):
            if target != slot and self._connected(slot, target) and self._connected(target, slot):
                response = self.managers[target].sync.serve(request)
                delay = 2 * self._delay()
                break

        def answer() -> None:
            if generation == self.generation[slot]:
                manager = self.managers[slot]
                self._perform(slot, manager.on_block_retrieval_response(peer, request, response, self.now))

        self._schedule(self.now + delay, answer)

    def _restart(self, slot: int) -> None:
        """Crash and recover: in-memory state is lost, stores and safety data survive
        (a twin, being Byzantine, also loses its safety data)."""
        computer = self.computers[slot]
        root = computer.ledger_infos[-1] if computer.ledger_infos else self.genesis_li
        if not self.scenario.is_honest(slot):
            self.safety[slot] = InMemorySafetyStorage()  # a Byzantine twin may also forget its votes
        self.generation[slot] += 1
        self.outcome.restarts += 1
        self.pending_restarts -= 1
        self.live_slots.discard(slot)  # it must commit again after recovering
        self.managers[slot] = self._build(slot, root)
        self._perform(slot, self.managers[slot].start(self.now))

    def _new_epoch(self, slot: int, ledger_info: LedgerInfoWithSignatures) -> None:
        if self.managers[slot].epoch > ledger_info.ledger_info.epoch:
            return
        self.generation[slot] += 1
        self.outcome.epoch_changes += 1
        self.managers[slot] = self._build(slot, ledger_info)
        self._perform(slot, self.managers[slot].start(self.now))

    # ----------------------------------------------------------------------- checks

    def _record_proposal(self, message: Message) -> None:
        if isinstance(message, ProposalMsg):
            block = message.proposal
            block_id = compute_block_id(block.block_data)
            self.registry[block_id] = (block.epoch, block.round, block.parent_id)
            self.proposed[block_id] = block

    def _record_commit(self, slot: int, action: Commit | SyncedTo) -> None:
        if not self.scenario.is_honest(slot):
            return
        if isinstance(action, Commit):
            infos = [block.info for block in action.blocks]
        else:
            infos = [action.ledger_info.ledger_info.commit_info]
        for info in infos:
            key = (info.epoch, info.round)
            previous = self.committed.setdefault(key, info.id)
            self.outcome.commits += 1
            if previous != info.id:
                self.outcome.safety_violation = (
                    f"slot {slot} committed {info.id.hex()[:8]} at epoch {info.epoch} round {info.round}, "
                    f"another honest node committed {previous.hex()[:8]}"
                )
            if info.epoch > 1 or info.round > len(self.scenario.leaders) + 1:
                self.live_slots.add(slot)

    def _check_chain(self) -> None:
        """Committed blocks of one epoch, sorted by round, each descend from the previous one."""
        if self.outcome.safety_violation is not None:
            return
        ordered = sorted(self.committed.items())
        for (key_a, id_a), (key_b, id_b) in zip(ordered, ordered[1:], strict=False):
            if key_a[0] != key_b[0]:
                continue
            current = id_b
            while current in self.registry and self.registry[current][1] > key_a[1]:
                current = self.registry[current][2]
            if current in self.registry and current != id_a:
                self.outcome.safety_violation = (
                    f"committed block at {key_b} does not extend the one at {key_a}"
                )
                return


def run_scenarios(
    count: int,
    seed: int,
    *,
    unsafe: bool = False,
    rounds: int = 8,
    validators: int = 4,
    twins: int = 1,
    reputation: bool = False,
    start: int = 0,
    progress: Callable[[int, Outcome], None] | None = None,
) -> list[Outcome]:
    """Generate and run scenarios ``start .. start + count - 1`` of the run ``seed``; return
    the failing outcomes. Scenario ``i`` has seed ``seed * 1_000_003 + i`` whatever the
    split, so a run cut into ranges (``twins_runner``, several processes) runs the same
    scenarios as one loop.

    With ``unsafe`` every node runs safety rules with ``unsafe_skip_round_check``
    (a deliberately broken rule), so failures are expected.
    """
    failures = []
    for index in range(start, start + count):
        scenario_seed = seed * 1_000_003 + index
        scenario = generate_scenario(
            random.Random(scenario_seed),
            scenario_seed,
            num_validators=validators,
            twins=tuple(range(twins)),
            rounds=rounds,
            reputation=reputation,
        )
        slots = range(scenario.num_slots) if unsafe else ()
        outcome = Simulation(scenario, unsafe_slots=slots).run()
        if not outcome.ok:
            failures.append(outcome)
        if progress is not None:
            progress(index, outcome)
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m libra.consensus.twins``: the command line of :mod:`libra.consensus.twins_runner`."""
    from libra.consensus.twins_runner import main as run_main

    return run_main(argv)


if __name__ == "__main__":
    sys.exit(main())
