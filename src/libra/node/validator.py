"""A validator's consensus: the sans-I/O DiemBFT core driven on its own thread.

Why a thread: the core's handlers are synchronous and may execute blocks (tens of
milliseconds) or catch the ledger up (``sync_to``); the event loop must keep serving
the API and the network meanwhile. So the loop only queues events (messages, timer
expiries) for the consensus thread and performs what the core asks back:

    network ──▶ loop: _on_consensus_message ──▶ queue ──▶ consensus thread: core.on_*
    consensus thread: actions ──▶ loop (call_soon_threadsafe): send, timers, commit effects

Every core call happens on the consensus thread, in queue order, so the core stays
single-threaded as it was written. The mempool stays owned by the loop: the payload
source asks the loop for transactions and waits for the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from libra.bcs import BcsError
from libra.consensus.actions import (
    Action,
    Broadcast,
    Commit,
    DeferProposal,
    EpochChange,
    FetchBlocks,
    SecurityEvent,
    Send,
    SetTimer,
    SyncedTo,
)
from libra.consensus.block_tree import ExecutedBlock
from libra.consensus.interfaces import StateComputeResult
from libra.consensus.leader_election import CommittedBlockRecord, LeaderReputation
from libra.consensus.pacemaker import ConsensusConfig
from libra.consensus.round_manager import RoundManager
from libra.consensus.safety_rules import SafetyRules
from libra.consensus.safety_storage import FileSafetyStorage
from libra.crypto.hashing import user_transaction_hash
from libra.framework.events import NewBlockEvent, decode_event_data
from libra.mempool.verified import VerifiedTransactions
from libra.network.network import Network, PeerInfo
from libra.network.wire import Protocol
from libra.node.block_pace import BlockPace
from libra.node.consensus_store import RocksConsensusStore
from libra.node.ledger import CommittedBlock, Ledger, LedgerError, SpeculativeBlock

if TYPE_CHECKING:
    from libra.node.runtime import NodeRuntime
from libra.types.consensus import (
    BLOCK_GENESIS,
    Block,
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    EpochChangeProof,
    decode_consensus_msg,
    encode_consensus_msg,
)
from libra.types.ledger import EpochState, LedgerInfoWithSignatures
from libra.types.move import ZERO_ADDRESS, AccountAddress
from libra.types.network_address import ValidatorEndpoint
from libra.types.transaction import BlockMetadata, SignedTransaction
from libra.types.write_set import ContractEvent

log = logging.getLogger("libra.consensus")

FETCH_TIMEOUT_SECS = 2.0
DEFAULT_BLOCK_BUDGET_SECS = 0.5
RETRIEVAL_FAILED = 1


class ConsensusStartError(RuntimeError):
    """Consensus cannot start from what is on disk; the message says why."""


def decode_payload(
    payload: Sequence[bytes], verified: VerifiedTransactions | None = None
) -> tuple[list[SignedTransaction], list[bool]]:
    """The proposal's transactions, each with whether this node already checked its signature.

    Undecodable entries are skipped by every node alike.
    """
    out = []
    known = []
    for data in payload:
        txn = verified.lookup(data) if verified is not None else None
        if txn is not None:
            out.append(txn)
            known.append(True)
            continue
        try:
            out.append(SignedTransaction.from_bcs(data))
        except BcsError:
            continue
        known.append(False)
    return out, known


class LedgerStateComputer:
    """The core's ``StateComputer`` over the node's ledger (called on the consensus thread)."""

    def __init__(
        self,
        ledger: Ledger,
        sync: Callable[[LedgerInfoWithSignatures], None],
        verified: VerifiedTransactions | None = None,
        pace: BlockPace | None = None,
    ) -> None:
        self._ledger = ledger
        self._sync = sync
        self._verified = verified
        self.pace = pace if pace is not None else BlockPace(DEFAULT_BLOCK_BUDGET_SECS)
        self._blocks: dict[bytes, SpeculativeBlock | None] = {}  # None: the committed tip
        self._uncertified: dict[bytes, tuple[int, bytes]] = {}
        self.committed: list[CommittedBlock] = []

    def compute(self, block: Block, block_id: bytes, parent_id: bytes) -> StateComputeResult:
        known = self._blocks.get(block_id)
        if known is not None:
            return StateComputeResult(known.executed_state_id, known.version, known.next_epoch_state)
        if block.block_data.kind == BLOCK_GENESIS:
            snapshot = self._ledger.snapshot()
            self._blocks[block_id] = None
            return StateComputeResult(snapshot.accumulator_root, snapshot.version, None)
        if block_id in self._uncertified:
            version, root = self._uncertified[block_id]
            self._blocks[block_id] = None  # already in the ledger: do not execute it twice
            return StateComputeResult(root, version, None)
        if parent_id not in self._blocks:
            raise LedgerError(f"parent {parent_id.hex()} of block {block_id.hex()} was never executed here")
        author = block.author
        metadata = BlockMetadata(
            block_id,
            block.round,
            block.timestamp_usecs,
            tuple(address for address, _ in block.quorum_cert.signed_ledger_info.signatures),
            author if author is not None else ZERO_ADDRESS,
        )
        transactions, prechecked = decode_payload(block.payload, self._verified)
        started = time.perf_counter()
        executed = self._ledger.execute(metadata, transactions, self._blocks[parent_id], verified=prechecked)
        self.pace.executed(len(transactions), time.perf_counter() - started)
        self._blocks[block_id] = executed
        return StateComputeResult(executed.executed_state_id, executed.version, executed.next_epoch_state)

    def commit(self, blocks: Sequence[ExecutedBlock], ledger_info: LedgerInfoWithSignatures) -> None:
        executed = [block for b in blocks if (block := self._blocks.get(b.id)) is not None]
        if executed:
            # the last executed block and its uncommitted ancestors go to disk in one synced
            # write. Blocks after an epoch-ending block are never executed (they keep its
            # state and version), so a certificate for one of them commits that block.
            started = time.perf_counter()
            committed = self._ledger.commit(executed[-1], ledger_info)
            self.pace.committed(sum(len(b.transactions) for b in committed), time.perf_counter() - started)
            self.committed.extend(committed)
        else:
            self._ledger.certify_tip(ledger_info)  # written before a crash, without its certificate
        self._forget_committed(blocks[-1].id)
        self._uncertified = {}

    def _forget_committed(self, root_id: bytes) -> None:
        """Keep the new root as the committed tip; drop older roots and forks that lost."""
        next_version = self._ledger.db.next_version
        for block_id, executed in list(self._blocks.items()):
            if executed is None or (not executed.committed and executed.prepared.first_version < next_version) or executed.committed:
                del self._blocks[block_id]
        self._blocks[root_id] = None

    def mark_root(self, block_id: bytes) -> None:
        """After a restart or state sync, ``block_id`` is the committed tip (blocks written
        after its certificate are recognised instead of executed again)."""
        self._blocks[block_id] = None
        self._uncertified = self._ledger.uncertified_blocks()

    def sync_to(self, ledger_info: LedgerInfoWithSignatures) -> None:
        """Catch the ledger up to ``ledger_info``: from a block executed here already when one
        ends at its version with its accumulator root (e.g. the block ending an epoch, whose
        certificate came in an epoch-change proof), else by state sync from peers."""
        info = ledger_info.ledger_info
        local = next(
            (
                block
                for block in self._blocks.values()
                if block is not None
                and not block.committed
                and block.version == info.version
                and block.executed_state_id == info.transaction_accumulator_hash
            ),
            None,
        )
        if local is not None:
            self.committed.extend(self._ledger.commit(local, ledger_info))
        elif not self._ledger.certify_tip(ledger_info) and self._ledger.snapshot().version < info.version:
            self._sync(ledger_info)  # the blocks are not here (else only the certificate was missing)
        self._blocks = {info.commit_info.id: None}

    def committed_history(self, epoch: int) -> list[CommittedBlockRecord]:
        return reputation_history(self._ledger, epoch)


class SyncHook:
    """Catches the ledger up to a ledger info (state sync); set by the node."""

    def __call__(self, ledger_info: LedgerInfoWithSignatures) -> None:
        raise LedgerError("state sync is not available on this node")


class MempoolPayloadSource:
    """The core's ``PayloadSource``: asks the loop's mempool and waits for the answer.

    When the mempool is empty and no pending block carries transactions, the leader
    waits up to ``idle_secs`` for one to arrive before proposing an empty block: an
    idle network then makes a few blocks a second instead of one per network round
    trip, while a payment that arrives is proposed at once. With transactions in the
    pending chain it never waits, so they commit without delay.
    """

    def __init__(self, driver: ConsensusDriver, max_items: int, idle_secs: float, pace: BlockPace | None = None) -> None:
        self._driver = driver
        self._max = max_items
        self._idle_secs = idle_secs
        self._pace = pace

    def pull(self, max_items: int, exclude: Sequence[tuple[bytes, ...]]) -> tuple[bytes, ...]:
        # Blocks this round's certificate just committed are no longer pending (not in
        # ``exclude``): the mempool must drop their transactions before it is asked, or the
        # leader proposes them again and they are discarded as stale.
        self._driver.publish_commits()
        hashes = {user_transaction_hash(data) for payload in exclude for data in payload}
        wait = 0.0 if hashes else self._idle_secs
        limit = min(max_items, self._max, self._pace.block_limit() if self._pace is not None else max_items)
        result: Future[tuple[bytes, ...]] = asyncio.run_coroutine_threadsafe(
            self._driver.take_from_mempool(limit, hashes, wait), self._driver.loop
        )
        try:
            return result.result(timeout=wait + 5)
        except TimeoutError:
            # a busy event loop must not stop consensus: propose an empty block this round
            result.cancel()
            log.warning("mempool did not answer in time; proposing an empty block")
            return ()


@dataclass(frozen=True, slots=True)
class _Message:
    peer: AccountAddress
    payload: bytes


@dataclass(frozen=True, slots=True)
class _Timeout:
    round: int


@dataclass(frozen=True, slots=True)
class _Retrieved:
    peer: AccountAddress
    request: BlockRetrievalRequest
    response: BlockRetrievalResponse


@dataclass(frozen=True, slots=True)
class _Deferred:
    peer: AccountAddress
    payload: bytes


_STOP = object()


def wall_clock_usecs() -> int:
    """Microseconds since the epoch: consensus timestamps and the ledger clock."""
    return time.time_ns() // 1000


class ConsensusDriver:
    def __init__(
        self,
        *,
        runtime: NodeRuntime,
        ledger: Ledger,
        network: Network,
        author: AccountAddress,
        key: object,
        data_dir: Path,
        config: ConsensusConfig,
        on_commit: Callable[[CommittedBlock], None],
        idle_secs: float = 0.3,
        block_budget_secs: float = DEFAULT_BLOCK_BUDGET_SECS,
        extra_peers: Sequence[PeerInfo] = (),
    ) -> None:
        self._idle_secs = idle_secs
        self._extra_peers = tuple(extra_peers)
        self.ledger = ledger
        self.network = network
        self.author = author
        self._key = key
        self._data_dir = data_dir
        self._config = config
        self._on_commit = on_commit
        self._runtime = runtime
        self._events: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop
        self._fetches: dict[AccountAddress, deque[BlockRetrievalRequest]] = {}
        self.sync_hook = SyncHook()
        pace = BlockPace(block_budget_secs, ceiling=config.max_block_txns)
        self.computer = LedgerStateComputer(ledger, self._sync, runtime.verified, pace)
        self.store = RocksConsensusStore(data_dir / "consensus")
        self.manager: RoundManager | None = None
        self.failed: BaseException | None = None
        self.left_at_epoch: int | None = None  # set when an epoch change removed us from the set
        self._validators: frozenset[AccountAddress] = frozenset()  # the other validators (peer ids)

    # --- loop side ------------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.network.register(Protocol.CONSENSUS, self._on_consensus_message)
        self._thread = threading.Thread(target=self._run, name="consensus", daemon=True)
        self._thread.start()

    def _on_consensus_message(self, peer: AccountAddress, payload: bytes) -> None:
        self._events.put(_Message(peer, payload))

    def deliver_epoch_change(self, peer: AccountAddress, ledger_info: LedgerInfoWithSignatures) -> None:
        """Hand the core a ledger info ending its epoch, learnt outside consensus (from a node
        we follow); the core verifies it against the epoch's validators like any proof."""
        self._events.put(_Message(peer, encode_consensus_msg(EpochChangeProof((ledger_info,)))))

    async def take_from_mempool(self, max_items: int, exclude: set[bytes], wait_secs: float) -> tuple[bytes, ...]:
        runtime = self._runtime
        taken = runtime.mempool.take_block(max_items, exclude)
        if not taken and wait_secs > 0:
            runtime.pending_work.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.pending_work.wait(), wait_secs)
            taken = runtime.mempool.take_block(max_items, exclude)
        return tuple(p.txn_bytes for p in taken)

    def stop(self) -> None:
        self._events.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.store.close()
        self.loop.call_soon_threadsafe(self.network.unregister, Protocol.CONSENSUS)

    # --- consensus thread -----------------------------------------------------------------

    def _sync(self, ledger_info: LedgerInfoWithSignatures) -> None:
        self.sync_hook(ledger_info)

    def _new_manager(self) -> RoundManager:
        root = self.ledger.snapshot().ledger_info
        epoch_state = _epoch_state_of(self.ledger, root)
        self._update_peers(epoch_state)
        safety = SafetyRules(self.author, self._key, FileSafetyStorage(self._data_dir / "safety_data.bcs"))  # type: ignore[arg-type]
        self.computer.mark_root(root.ledger_info.commit_info.id)
        validators = [address for address, _ in epoch_state.verifier.validators]
        election = LeaderReputation(
            epoch_state.epoch, validators, history=reputation_history(self.ledger, epoch_state.epoch)
        )
        return RoundManager.recover(
            author=self.author,
            ledger_root=root,
            leader_election=election,
            store=self.store,
            safety_rules=safety,
            state_computer=self.computer,
            payload_source=MempoolPayloadSource(
                self, self._config.max_block_txns, self._idle_secs, self.computer.pace
            ),
            epoch_state=epoch_state,
            config=self._config,
        )

    def _run(self) -> None:
        try:
            self.manager = self._new_manager()
            self._perform(self.manager.start(wall_clock_usecs()))
            while self.left_at_epoch is None:
                event = self._events.get()
                if event is _STOP:
                    return
                self._handle(event)
        except BaseException as exc:  # surfaced by the node, which then stops
            log.exception("consensus stopped")
            self.failed = exc

    def _handle(self, event: object) -> None:
        manager = self.manager
        assert manager is not None
        now = wall_clock_usecs()
        if isinstance(event, _Message | _Deferred):
            try:
                message = decode_consensus_msg(event.payload)
            except BcsError as exc:
                log.warning("undecodable consensus message from %s: %s", event.peer, exc)
                return
            if isinstance(message, BlockRetrievalResponse):
                # a peer answers its requests in order (one connection, in-order delivery)
                pending = self._fetches.get(event.peer)
                if pending:
                    request = pending.popleft()
                    self._perform(manager.on_block_retrieval_response(event.peer, request, message, now))
                return
            self._perform(manager.on_message(event.peer, message, now))
        elif isinstance(event, _Timeout):
            self._perform(manager.on_local_timeout(event.round, now))
        elif isinstance(event, _Retrieved) and any(r is event.request for r in self._fetches.get(event.peer, ())):
            pending = self._fetches[event.peer]
            self._fetches[event.peer] = deque(r for r in pending if r is not event.request)  # no answer in time
            self._perform(manager.on_block_retrieval_response(event.peer, event.request, event.response, now))

    def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Broadcast):
                data = encode_consensus_msg(action.message)
                self.loop.call_soon_threadsafe(self.network.broadcast, Protocol.CONSENSUS, data, self._validators)
            elif isinstance(action, Send):
                data = encode_consensus_msg(action.message)
                if action.peer == self.author:
                    self._events.put(_Message(self.author, data))
                else:
                    self.loop.call_soon_threadsafe(self.network.send, action.peer, Protocol.CONSENSUS, data)
            elif isinstance(action, SetTimer):
                self.loop.call_soon_threadsafe(self._set_timer, action.round, action.duration_ms)
            elif isinstance(action, FetchBlocks):
                self._fetch(action)
            elif isinstance(action, DeferProposal):
                delay = max(0.0, (action.at_usecs - wall_clock_usecs()) / 1e6)
                data = encode_consensus_msg(action.message)
                self.loop.call_soon_threadsafe(self._later, delay, _Deferred(action.peer, data))
            elif isinstance(action, Commit | SyncedTo):
                if isinstance(action, SyncedTo):
                    info = action.ledger_info.ledger_info
                    log.info("synced to version %d (round %d) from peers", info.version, info.commit_info.round)
                self.publish_commits()
            elif isinstance(action, EpochChange):
                self.publish_commits()
                log.info("epoch %d ended; starting the next", action.ledger_info.ledger_info.epoch)
                next_epoch = action.ledger_info.ledger_info.next_epoch_state
                if next_epoch is not None and self.author not in dict(next_epoch.verifier.validators):
                    # Leaving: first hand the proof that ends the epoch to the peers, so that
                    # one that has not seen the commit yet needs no answer from us later.
                    proof = encode_consensus_msg(EpochChangeProof((action.ledger_info,)))
                    self.loop.call_soon_threadsafe(self.network.broadcast, Protocol.CONSENSUS, proof, self._validators)
                    self.left_at_epoch = next_epoch.epoch
                    log.info("this validator is not in the set of epoch %d; leaving consensus", next_epoch.epoch)
                    return
                self.manager = self._new_manager()
                self._perform(self.manager.start(wall_clock_usecs()))
            elif isinstance(action, SecurityEvent):
                log.warning("security event %s from %s: %s", action.kind, action.peer, action.detail)

    def publish_commits(self) -> None:
        """Hand blocks committed since the last call to the loop (mempool, waiters, listeners), in order."""
        committed, self.computer.committed = self.computer.committed, []
        for block in committed:
            self.loop.call_soon_threadsafe(self._on_commit, block)

    def _fetch(self, action: FetchBlocks) -> None:
        request = BlockRetrievalRequest(action.block_id, action.num_blocks)
        self._fetches.setdefault(action.peer, deque()).append(request)
        data = encode_consensus_msg(request)
        self.loop.call_soon_threadsafe(self.network.send, action.peer, Protocol.CONSENSUS, data)
        failure = _Retrieved(action.peer, request, BlockRetrievalResponse(RETRIEVAL_FAILED))
        self.loop.call_soon_threadsafe(self._later, FETCH_TIMEOUT_SECS, failure)

    # --- loop helpers (run on the loop) ----------------------------------------------------

    def _set_timer(self, round_: int, duration_ms: int) -> None:
        self.loop.call_later(duration_ms / 1000, self._events.put, _Timeout(round_))

    def _later(self, delay: float, event: object) -> None:
        self.loop.call_later(delay, self._events.put, event)

    def _update_peers(self, epoch_state: EpochState) -> None:
        validators = validator_peers(self.ledger, self.author)
        # consensus messages go to the validators only: the full nodes and upstream nodes
        # among the peers take no part in consensus and would drop them (a proposal carries
        # every transaction of its block)
        self._validators = frozenset(info.peer_id for info in validators)
        self.loop.call_soon_threadsafe(self.network.update_peers, [*validators, *self._extra_peers])


REPUTATION_HISTORY = 40


def reputation_history(ledger: Ledger, epoch: int) -> list[CommittedBlockRecord]:
    """The newest committed blocks of ``epoch`` as leader reputation sees them, oldest first.

    Read from the ledger's ``NewBlockEvent`` stream (round, proposer, the voters of the
    QC the block carried), so a restarted validator agrees with the others on leaders.
    """
    chain = ledger.chain_view()
    start = max(0, chain.block_height - REPUTATION_HISTORY)
    stored = ledger.db.get_events(chain.new_block_events_key.value, start, REPUTATION_HISTORY)
    epoch_of = {e.version: ledger.db.get_epoch_of_version(e.version) for e in stored}
    records = []
    for event in stored:
        contract_event = ContractEvent.from_bcs(event.event_bytes)
        data = decode_event_data(contract_event.type_tag, contract_event.event_data)
        if isinstance(data, NewBlockEvent) and epoch_of[event.version] == epoch:
            proposer = None if data.proposer == ZERO_ADDRESS else data.proposer
            records.append(CommittedBlockRecord(data.round, proposer, data.previous_block_votes))
    return records


def current_epoch_state(ledger: Ledger) -> EpochState:
    """The validator set of the epoch the ledger is in now."""
    return _epoch_state_of(ledger, ledger.snapshot().ledger_info)


def _epoch_state_of(ledger: Ledger, root: LedgerInfoWithSignatures) -> EpochState:
    """The validator set of the epoch that follows the ledger's latest ledger info."""
    next_epoch = root.ledger_info.next_epoch_state
    if next_epoch is not None:
        return next_epoch
    epoch = root.ledger_info.epoch
    ending = ledger.db.get_epoch_ending_ledger_info(epoch - 1)
    state = ending.ledger_info.next_epoch_state
    if state is None:
        raise ConsensusStartError(f"no validator set recorded for epoch {epoch}")
    return state


def validator_peers(ledger: Ledger, author: AccountAddress) -> list[PeerInfo]:
    """Every other validator of the current on-chain set, with its endpoint."""
    peers = []
    for info in ledger.chain_view().validators:
        if info.addr == author:
            continue
        try:
            endpoint = ValidatorEndpoint.from_bcs(info.config.validator_network_addresses)
        except (BcsError, ValueError):
            log.warning("validator %s has no usable network address on chain", info.addr)
            continue
        peers.append(PeerInfo.from_endpoint(info.addr, endpoint))
    return peers
