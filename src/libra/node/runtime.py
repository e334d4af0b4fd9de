"""One node process: store, mempool and the block-producing loop, on one asyncio loop.

Threads: the event loop owns the mempool and the API; blocks execute on a dedicated
block thread (so the API keeps answering), signatures are verified on a small pool.
The ledger's lock keeps store access single-file.

Block production here is the single-leader loop of a network with one validator
(the validator set of the current epoch must be exactly this node): it executes a
block on the speculative state of the one before while that one commits on a commit
thread (``run_block_producer``). With several validators, DiemBFT drives the same
``Ledger.execute`` and ``Ledger.commit`` from its consensus thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from libra.bcs import BcsError
from libra.client.verifier import VerificationError
from libra.consensus.pacemaker import ConsensusConfig
from libra.crypto.auth import compute_address, compute_auth_key
from libra.crypto.ed25519 import Ed25519PrivateKey, load_private_key
from libra.crypto.hashing import hash_seed, user_transaction_hash
from libra.mempool.admission import Admission, Checked, admit, check_signatures
from libra.mempool.broadcast import (
    MAX_BATCH_RECEIVED,
    RETRY_STATUSES,
    Ack,
    Broadcast,
    BroadcastTracker,
    decode_message,
    encode_message,
)
from libra.mempool.pool import AddStatus, Mempool, PoolConfig
from libra.mempool.verified import VerifiedTransactions
from libra.native import CORE
from libra.network.config import NetworkConfig
from libra.network.network import Network, PeerInfo, peer_id_for_key
from libra.network.wire import Protocol
from libra.node.config import NodeConfig
from libra.node.event_index import EventIndex
from libra.node.genesis import read_genesis
from libra.node.ledger import (
    CommittedBlock,
    CommittedTransaction,
    DbStateView,
    Ledger,
    LedgerError,
    LedgerSnapshot,
    SpeculativeBlock,
    block_id,
)
from libra.node.state_sync import StateSync, StateSyncError
from libra.node.validator import ConsensusDriver, current_epoch_state, validator_peers, wall_clock_usecs
from libra.storage.libradb import LibraDB
from libra.types.ledger import LedgerInfo, LedgerInfoWithSignatures
from libra.types.move import AccountAddress
from libra.types.transaction import BlockMetadata

log = logging.getLogger("libra.node")

CommitListener = Callable[[CommittedBlock], None]


GOSSIP_BATCHES_IN_FLIGHT = 32
"""Gossip batches whose signatures may wait on the verify pool; past that, a batch is checked
on the event loop (so a flood is slowed down by its own checks instead of piling up)."""
GOSSIP_VERIFY_JOBS = 2 if CORE is None else 1
"""A gossip batch is checked in this many jobs: one per worker of the verify pool with PyNaCl,
one with the native core (its single call for the batch spreads over the cores itself)."""
GOSSIP_TICK_SECS = 0.02
"""How often transactions accepted here are handed on (and un-acknowledged ones looked at)."""

FOLLOW_QUICK_SECS = 0.05
"""A follower's request answered faster than this with nothing new was not held by the peer
(state sync's long poll): the follower then waits a little before asking again."""

STALL_SECS = 5.0
"""A validator that commits nothing for this long asks the nodes it follows whether its epoch ended."""


class NodeError(RuntimeError):
    """The node cannot start or run as configured; the message says why."""


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    key: Ed25519PrivateKey
    address: AccountAddress

    @classmethod
    def from_key(cls, key: Ed25519PrivateKey) -> NodeIdentity:
        return cls(key, AccountAddress(compute_address(compute_auth_key(key.public_key()))))

    def sign_ledger_info(self, ledger_info: LedgerInfo) -> LedgerInfoWithSignatures:
        signature = self.key.sign(hash_seed("LedgerInfo") + ledger_info.to_bcs())
        return LedgerInfoWithSignatures.create(ledger_info, {self.address: signature.to_bytes()})


class NodeRuntime:
    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.chain_id = config.node.chain_id
        genesis = read_genesis(config.genesis.file)
        config.node.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = LibraDB.open(config.node.data_dir, prune_window=config.storage.prune_window or None)
        self.verify_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify")
        self.block_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="block")
        # A lone validator commits block N here while the block thread executes block N+1.
        self.commit_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
        self.ledger = Ledger(self.db, self.chain_id, self.verify_pool)
        if self.ledger.bootstrap(genesis):
            log.info("committed genesis")
        # signatures checked at admission; proposals carrying these bytes are not checked again.
        # Sized to what the pool can hold twice over: entries outlive their commit until evicted.
        self.verified = VerifiedTransactions(capacity=2 * config.mempool.capacity)
        self.mempool = Mempool(
            PoolConfig(
                capacity=config.mempool.capacity,
                capacity_per_account=config.mempool.capacity_per_account,
                max_parked_per_account=config.mempool.max_parked_per_account,
                system_ttl_secs=config.mempool.system_ttl_secs,
            )
        )
        self.identity: NodeIdentity | None = None
        if config.node.role == "validator":
            assert config.consensus.key_file is not None
            self.identity = NodeIdentity.from_key(load_private_key(config.consensus.key_file))
        self.pending_work = asyncio.Event()
        self._waiters: dict[bytes, list[asyncio.Future[CommittedTransaction]]] = {}
        self._listeners: list[CommitListener] = []
        # The supervisor's index of committed events (node/event_index.py), on nodes serving the
        # API: started by the first supervisor request, or now if an earlier run kept one.
        self.event_index: EventIndex | None = None
        if config.api.enabled:
            self.event_index = EventIndex(self.db, config.node.data_dir / "supervisor.sqlite3", self.ledger.state_view)
            self._listeners.append(self.event_index.on_commit)
            if self.event_index.kept:
                self.event_index.start()
        self._stopping = False
        self._gossip: Network | None = None
        # transactions accepted here (API, or a follower we serve) and handed on to the peers
        # until each acknowledges them (mempool/broadcast.py)
        self._broadcast: BroadcastTracker[AccountAddress] = BroadcastTracker(self.mempool.contains_hash)
        self._gossip_batches = 0  # gossip batches being checked or waiting to be admitted
        self._gossip_tail: asyncio.Future[None] | None = None
        self._last_commit_at = time.monotonic()
        self._admission_snapshot: tuple[LedgerSnapshot, DbStateView] | None = None
        # whether blocks may come from peers (whose proposals find the signatures checked here
        # in ``verified``); a validator leading alone takes its blocks from its own pool
        self._proposals_from_peers = True

    # --- submission ----------------------------------------------------------------------

    def submit(self, data: bytes) -> Admission:
        """Admit a submitted transaction into the mempool (runs on the event loop)."""
        return self._admit(data, share=True)

    def refuses_for_capacity(self, data: bytes) -> bool:
        """True when the pool is full and ``data`` is not already in it.

        That answer (mempool full) needs no decoding, signature check or state read, so an
        overloaded node gives it at once instead of after the work it cannot take on.
        """
        pool = self.mempool
        return len(pool) >= pool.config.capacity and not pool.contains_hash(user_transaction_hash(data))

    def _admission_view(self) -> tuple[LedgerSnapshot, DbStateView]:
        """The latest committed snapshot and a state view at its version, made again only when
        the store's latest ledger info changed (a snapshot is a function of that object)."""
        known = self._admission_snapshot
        if known is None or known[0].ledger_info is not self.ledger.db.get_latest_ledger_info():
            snapshot = self.ledger.snapshot()
            known = self._admission_snapshot = (snapshot, self.ledger.state_view(snapshot.version))
        return known

    def _admit(self, data: bytes, *, share: bool, checked: Checked | None = None) -> Admission:
        if self.refuses_for_capacity(data):
            return Admission(AddStatus.MEMPOOL_FULL, None, None, None)
        snapshot, view = self._admission_view()
        admission = admit(
            self.mempool,
            view,
            data,
            chain_id=self.chain_id,
            ledger_time_usecs=snapshot.timestamp_usecs,
            now=time.monotonic(),
            checked=checked,
        )
        if not admission.accepted and self.event_index is not None:
            self.event_index.on_refused(data, admission.vm_status, snapshot.timestamp_usecs)
        if admission.accepted:
            if self._proposals_from_peers and admission.status is AddStatus.ACCEPTED and admission.txn is not None:
                self.verified.remember(data, admission.txn)
            self.pending_work.set()
            if share and admission.status is AddStatus.ACCEPTED and admission.txn_hash is not None:
                self._broadcast.add(admission.txn_hash, data)
        return admission

    def watch(self, txn_hash: bytes) -> asyncio.Future[CommittedTransaction]:
        """A future resolved when a block commits or discards the transaction.

        Register before submitting: a block may commit the transaction before the
        submitter next runs.
        """
        future: asyncio.Future[CommittedTransaction] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(txn_hash, []).append(future)
        future.add_done_callback(lambda done: self._forget(txn_hash, done))
        return future

    def _forget(self, txn_hash: bytes, future: asyncio.Future[CommittedTransaction]) -> None:
        waiters = self._waiters.get(txn_hash)
        if waiters is not None and future in waiters:
            waiters.remove(future)
            if not waiters:
                del self._waiters[txn_hash]

    def add_commit_listener(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    # --- block production ----------------------------------------------------------------

    def _check_single_validator(self) -> NodeIdentity:
        if self.identity is None:
            raise NodeError("a full node needs validators to sync from; this build runs single-validator networks")
        validators = self.ledger.chain_view().validators
        addresses = [info.addr for info in validators]
        if addresses != [self.identity.address]:
            raise NodeError(
                f"the validator set has {len(addresses)} member(s); this node ({self.identity.address}) "
                "can only lead alone: start a network of one validator"
            )
        return self.identity

    async def run(self) -> None:
        """Produce or follow blocks until stopped: alone, a validator leads every block;
        with others it runs DiemBFT with them over the authenticated network.

        A validator whose key is not in the current set follows (state sync from
        ``network.upstream``, crossing epochs by verified epoch-change proofs) and joins
        consensus at the epoch whose set names it; one that an epoch change removes from
        the set leaves consensus and follows again (it keeps serving its API)."""
        self._loop = asyncio.get_running_loop()
        if self.identity is None:
            await self._run_full_node()
            return
        addresses = [info.addr for info in self.ledger.chain_view().validators]
        if addresses == [self.identity.address]:
            await self.run_block_producer()
            return
        identity = self.identity
        network = await self._start_network(identity.address)
        state_sync = StateSync(self.ledger, network, self._loop)
        flusher = asyncio.create_task(self._flush_gossip(), name="mempool-gossip")
        try:
            while not self._stopping:
                epoch_state = current_epoch_state(self.ledger)
                if identity.address in dict(epoch_state.verifier.validators):
                    log.info("validator %s takes part in consensus in epoch %d", identity.address, epoch_state.epoch)
                    await self._run_consensus(identity, network, state_sync)
                else:
                    if not self._upstream_peers():
                        raise NodeError(
                            f"this node ({identity.address}) is not in the validator set of epoch "
                            f"{epoch_state.epoch}, and network.upstream names no node to follow until it is: "
                            "add the full node's NETWORKKEYHEX@HOST:PORT"
                        )
                    log.info(
                        "validator %s is not in the set of epoch %d; following %s until it is",
                        identity.address, epoch_state.epoch, ", ".join(self.config.network.upstream),
                    )
                    await self._follow(network, state_sync, member=identity.address)
        finally:
            flusher.cancel()
            await network.close()

    def _upstream_peers(self) -> list[PeerInfo]:
        peers = []
        for entry in self.config.network.upstream:
            key_hex, _, address = entry.partition("@")
            key = bytes.fromhex(key_hex)
            peers.append(PeerInfo(peer_id_for_key(key), key, address))
        return peers

    async def _run_consensus(self, identity: NodeIdentity, network: Network, state_sync: StateSync) -> None:
        """Run DiemBFT until stopped or until an epoch change leaves this validator out."""
        loop = asyncio.get_running_loop()
        full_nodes = [
            PeerInfo(peer_id_for_key(bytes.fromhex(key)), bytes.fromhex(key))
            for key in self.config.network.full_node_keys
        ]
        driver = ConsensusDriver(
            runtime=self,
            ledger=self.ledger,
            network=network,
            author=identity.address,
            key=identity.key,
            data_dir=self.config.node.data_dir,
            config=ConsensusConfig(
                round_initial_timeout_ms=self.config.consensus.round_timeout_ms,
                max_block_txns=self.config.consensus.max_block_transactions,
            ),
            on_commit=self._after_commit,
            idle_secs=min(self.config.consensus.idle_block_ms, self.config.consensus.round_timeout_ms // 3) / 1000,
            block_budget_secs=self.config.consensus.block_time_budget_ms / 1000,
            extra_peers=[*full_nodes, *self._upstream_peers()],
        )

        upstream = [p.peer_id for p in self._upstream_peers()]

        def sync_hook(ledger_info: LedgerInfoWithSignatures) -> None:
            peers = [p.peer_id for p in validator_peers(self.ledger, identity.address)] + upstream
            for block in state_sync.sync_to(ledger_info, peers):
                loop.call_soon_threadsafe(self._after_commit, block)

        driver.sync_hook = sync_hook  # type: ignore[assignment]
        await driver.start()
        next_probe = time.monotonic() + STALL_SECS
        try:
            while not self._stopping:
                await asyncio.sleep(0.2)
                if driver.failed is not None:
                    raise NodeError(f"consensus failed: {driver.failed!r}")
                now = time.monotonic()
                if upstream and now - self._last_commit_at > STALL_SECS and now >= next_probe:
                    # Nothing committed for a while: maybe the epoch ended without us (the
                    # others dropped us, or we were down); ask the nodes we follow.
                    next_probe = now + STALL_SECS
                    found = await loop.run_in_executor(None, self._probe_epoch_end, state_sync, network, upstream)
                    if found is not None:
                        driver.deliver_epoch_change(*found)
                if driver.left_at_epoch is not None:
                    log.info(
                        "validator %s was removed from the validator set in epoch %d; it stops voting "
                        "and proposing and follows the network",
                        identity.address, driver.left_at_epoch,
                    )
                    await asyncio.sleep(1.0)  # let the epoch-ending proof it broadcast leave the queues
                    break
        finally:
            await asyncio.get_running_loop().run_in_executor(None, driver.stop)

    def _probe_epoch_end(
        self, state_sync: StateSync, network: Network, upstream: list[AccountAddress]
    ) -> tuple[AccountAddress, LedgerInfoWithSignatures] | None:
        """A verified ledger info ending our epoch, from the first connected upstream node that has one."""
        trusted = current_epoch_state(self.ledger)
        for peer in upstream:
            if peer not in network.connected_peers():
                continue
            try:
                ending = state_sync.fetch_epoch_ending(peer, trusted)
            except (StateSyncError, VerificationError, BcsError, TimeoutError) as exc:
                log.warning("asking %s for the end of epoch %d failed: %s", peer, trusted.epoch, exc)
                continue
            if ending is not None:
                log.info("%s proves that epoch %d ended", peer, trusted.epoch)
                return peer, ending
        return None

    async def _start_network(self, peer_id: AccountAddress) -> Network:
        net = self.config.network
        if net.listen is None or net.key_file is None:
            raise NodeError("network.listen and network.key_file are required to join other nodes")
        guests = (Protocol.STATE_SYNC, Protocol.MEMPOOL) if net.serve_followers else ()
        network = Network(
            peer_id,
            load_private_key(net.key_file),
            NetworkConfig(max_frame_bytes=net.max_frame_bytes),
            guest_protocols=guests,
            dial_addresses={AccountAddress.from_hex(p): a for p, a in net.peer_addresses.items()},
        )
        host, _, port = net.listen.rpartition(":")
        await network.start(host, int(port))
        network.register(Protocol.MEMPOOL, self._on_mempool_gossip)
        self._gossip = network
        return network

    async def _run_full_node(self) -> None:
        """Follow the validators: verified chunks by state sync, submissions forwarded to them."""
        assert self.config.network.key_file is not None
        network_key = load_private_key(self.config.network.key_file)
        network = await self._start_network(peer_id_for_key(network_key.public_key().to_bytes()))
        state_sync = StateSync(self.ledger, network, asyncio.get_running_loop())
        flusher = asyncio.create_task(self._flush_gossip(), name="mempool-gossip")
        try:
            await self._follow(network, state_sync, member=None)
        finally:
            flusher.cancel()
            await network.close()

    async def _follow(self, network: Network, state_sync: StateSync, *, member: AccountAddress | None) -> None:
        """Catch up and keep up by state sync until stopped, or until ``member`` is in the
        current validator set. The allowed peers follow the epoch: a full node talks to the
        current validators (and upstream nodes), a validator outside the set to upstream only."""
        loop = asyncio.get_running_loop()
        peers_epoch: int | None = None
        while not self._stopping:
            epoch_state = current_epoch_state(self.ledger)
            if member is not None and member in dict(epoch_state.verifier.validators):
                return
            if epoch_state.epoch != peers_epoch:
                peers = self._upstream_peers()
                if member is None:
                    peers = [*validator_peers(self.ledger, AccountAddress(bytes(16))), *peers]
                network.update_peers(peers)
                peers_epoch = epoch_state.epoch
                log.info("epoch %d: following %d peer(s)", epoch_state.epoch, len(peers))
            asked_at = loop.time()
            caught_up = await loop.run_in_executor(self.block_thread, self._follow_once, state_sync, network)
            if caught_up and loop.time() - asked_at < FOLLOW_QUICK_SECS:
                await asyncio.sleep(0.1)  # answered at once with nothing new (no peer, or a peer that holds no requests)

    def _follow_once(self, state_sync: StateSync, network: Network) -> bool:
        """One round of catching up from a connected peer; True when nothing was new."""
        peers = sorted(network.connected_peers() - network.guests(), key=lambda p: p.value)
        if not peers:
            return True
        peer = peers[int(time.monotonic()) % len(peers)]
        try:
            committed = state_sync.follow(peer, current_epoch_state(self.ledger))
        except (StateSyncError, VerificationError, LedgerError, BcsError, TimeoutError) as exc:
            log.warning("following %s failed: %s", peer, str(exc) or type(exc).__name__)
            return True
        if not committed:
            return True
        for block in committed:
            self._loop.call_soon_threadsafe(self._after_commit, block)
        return False

    def _on_mempool_gossip(self, peer: AccountAddress, payload: bytes) -> None:
        """A peer's broadcast (admitted like submissions, then acknowledged) or its ack of ours.

        Admitted transactions are not shared again, except those a guest (a follower)
        forwards, which go on to the validators like submissions. The ack names what the
        pool could not take for now (full, too many for the sender, too far ahead), so that
        the sender offers it again later (``RETRY_STATUSES``)."""

        try:
            message = decode_message(payload)
        except ValueError:
            log.warning("undecodable mempool message from %s", peer)
            return
        if isinstance(message, Ack):
            self._broadcast.ack(peer, message.request_id, message.retry, self._now())
            return
        share = self._gossip is not None and peer in self._gossip.guests()
        items = list(message.transactions[:MAX_BATCH_RECEIVED])
        over = range(len(items), len(message.transactions))
        if self._gossip_batches >= GOSSIP_BATCHES_IN_FLIGHT:  # the verify pool is behind: check here
            statuses = [self._admit(data, share=share).status for data in items]
            self._acknowledge(peer, message.request_id, statuses, over)
            return
        # Signatures are checked on the verify pool, not here: the event loop should neither do
        # that work nor wait for the GIL after it (up to the 5 ms switch interval while a block
        # executes); natively the whole batch is one call over both cores (admission's
        # check_signatures). Batches are admitted in arrival order.
        self._gossip_batches += 1
        previous = self._gossip_tail
        self._gossip_tail = asyncio.ensure_future(
            self._admit_gossip(peer, message.request_id, items, over, share, previous)
        )

    def _acknowledge(
        self, peer: AccountAddress, request_id: int, statuses: list[AddStatus | None], over: range
    ) -> None:
        if self._gossip is None:
            return
        retry = tuple(i for i, status in enumerate(statuses) if status in RETRY_STATUSES) + tuple(over)
        self._gossip.send(peer, Protocol.MEMPOOL, encode_message(Ack(request_id, retry)))

    async def _admit_gossip(
        self,
        peer: AccountAddress,
        request_id: int,
        items: list[bytes],
        over: range,
        share: bool,
        previous: asyncio.Future[None] | None,
    ) -> None:
        try:
            loop = asyncio.get_running_loop()
            # what the pool has (a batch sent again, or the copy every other validator hands on
            # of what a follower forwarded to each) or cannot take now needs no signature check
            pool = self.mempool
            hashes = [user_transaction_hash(data) for data in items]
            full = len(pool) >= pool.config.capacity
            fresh = [i for i, txn_hash in enumerate(hashes) if not full and not pool.contains_hash(txn_hash)]
            results: list[Checked | None] = [None] * len(items)
            if fresh:
                size = -(-len(fresh) // GOSSIP_VERIFY_JOBS)
                parts = [fresh[start : start + size] for start in range(0, len(fresh), size)]
                jobs = [
                    loop.run_in_executor(self.verify_pool, check_signatures, [items[i] for i in part])
                    for part in parts
                ]
                for part, chunk in zip(parts, await asyncio.gather(*jobs), strict=True):
                    for i, checked in zip(part, chunk, strict=True):
                        results[i] = checked
            if previous is not None:
                await asyncio.wait([previous])  # admit after the batches that arrived before
            # A transaction the pool holds by now is answered as admission would answer it
            # (ALREADY_PRESENT: the same hash is the same bytes) without decoding it again.
            statuses = [
                AddStatus.ALREADY_PRESENT
                if pool.contains_hash(txn_hash)
                else self._admit(data, share=share, checked=checked).status
                for data, checked, txn_hash in zip(items, results, hashes, strict=True)
            ]
            self._acknowledge(peer, request_id, statuses, over)
        except Exception:  # a bug here must cost this batch (the sender offers it again), not the node
            log.exception("admitting gossiped transactions failed")
        finally:
            self._gossip_batches -= 1

    async def _flush_gossip(self) -> None:
        """Hand accepted transactions on to the connected peers (not guests), in batches
        each peer acknowledges; what a peer did not take is offered again (BroadcastTracker)."""
        while True:
            await asyncio.sleep(GOSSIP_TICK_SECS)
            try:
                self._gossip_tick(self._now())
            except Exception:  # never stop handing transactions on
                log.exception("mempool broadcast failed")

    def _now(self) -> float:
        """The clock of broadcasts and their acks."""
        return time.monotonic()

    def _gossip_tick(self, now: float) -> None:
        network = self._gossip
        if network is None or self._broadcast.idle:  # a validator shares nothing it was not sent by a client
            return
        self._broadcast.set_peers(network.connected_peers() - network.guests())
        for peer, request_id, batch in self._broadcast.due(now):
            network.send(peer, Protocol.MEMPOOL, encode_message(Broadcast(request_id, tuple(batch))))

    async def run_block_producer(self) -> None:
        """Lead every block alone, two blocks in flight: block N+1 is executed on N's
        speculative state while N is committed (on the commit thread), and N+1 is committed
        only once N is. A block that reconfigures is committed before anything is built on it
        (what follows it belongs to the next epoch); with nothing new to take, the block in
        flight is committed before waiting for work."""
        identity = self._check_single_validator()
        self._proposals_from_peers = False
        loop = asyncio.get_running_loop()
        idle_secs = self.config.consensus.idle_block_ms / 1000
        max_txns = self.config.consensus.max_block_transactions
        snapshot = self.ledger.snapshot()
        round_ = snapshot.ledger_info.ledger_info.commit_info.round + 1
        parent_id = snapshot.ledger_info.ledger_info.commit_info.id
        parent_time = snapshot.timestamp_usecs
        parent: SpeculativeBlock | None = None  # executed, its commit running
        commit: asyncio.Future[CommittedBlock] | None = None
        try:
            while not self._stopping:
                if commit is None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.pending_work.wait(), idle_secs)
                    self.pending_work.clear()
                    if self._stopping:
                        break
                    batch = self.mempool.take_block(max_txns)
                else:
                    assert parent is not None
                    taken = {result.txn_hash for result in parent.results}
                    batch = [] if parent.next_epoch_state is not None else self.mempool.take_block(max_txns, taken)
                    if not batch:
                        previous, commit, parent = commit, None, None
                        await self._finish_commit(previous)
                        continue
                timestamp = await self._timestamp_after(parent_time)
                metadata = BlockMetadata(
                    block_id(parent_id, round_, timestamp, [p.txn_hash for p in batch]),
                    round_,
                    timestamp,
                    (identity.address,),
                    identity.address,
                )
                block = await loop.run_in_executor(
                    self.block_thread,
                    functools.partial(self.ledger.execute, metadata, [p.txn for p in batch], parent, verified=True),
                )
                if commit is not None:
                    previous, commit = commit, None
                    await self._finish_commit(previous)
                commit = loop.run_in_executor(self.commit_thread, self.ledger.commit_alone, block, identity.sign_ledger_info)
                parent = block
                round_ += 1
                parent_id = metadata.id
                parent_time = timestamp
        finally:
            if commit is not None:  # (stopping, or a failure: what was executed is still committed)
                await self._finish_commit(commit)

    async def _finish_commit(self, commit: asyncio.Future[CommittedBlock]) -> None:
        """Wait for a commit running on the commit thread, then tell mempool and waiters."""
        self._after_commit(await commit)
        if self.mempool.has_ready():
            self.pending_work.set()

    async def _timestamp_after(self, parent_usecs: int) -> int:
        """Wall-clock time, strictly after the parent block's and never ahead of the clock."""
        now = wall_clock_usecs()
        if now <= parent_usecs:
            await asyncio.sleep((parent_usecs - now + 1) / 1_000_000)
            now = max(wall_clock_usecs(), parent_usecs + 1)
        return now

    def _after_commit(self, block: CommittedBlock) -> None:
        self._last_commit_at = time.monotonic()
        kept: dict[AccountAddress, int] = {}
        waiters = self._waiters
        for result in block.transactions:
            raw = result.txn.raw_txn
            if result.version is not None:
                sender, next_seq = raw.sender, raw.sequence_number + 1
                if kept.get(sender, 0) < next_seq:
                    kept[sender] = next_seq
            else:
                self.mempool.remove(result.txn_hash)
            if waiters and (pending := waiters.pop(result.txn_hash, None)) is not None:
                for future in pending:
                    if not future.done():
                        future.set_result(result)
        self.mempool.commit(kept.items())
        self.mempool.evict_expired(block.timestamp_usecs // 1_000_000, time.monotonic())
        for listener in self._listeners:
            try:
                listener(block)
            except Exception:  # a listener's bug must not stop block production
                log.exception("commit listener failed")

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """True once the node was asked to stop (long-lived API streams close then)."""
        return self._stopping

    def stop(self) -> None:
        self._stopping = True
        self.pending_work.set()

    def close(self) -> None:
        if self.event_index is not None:
            self.event_index.close()
        self.block_thread.shutdown(wait=True)
        self.commit_thread.shutdown(wait=True)
        self.verify_pool.shutdown(wait=True)
        self.db.close()
