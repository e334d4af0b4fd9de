"""State sync: catching the ledger up from peers, verifying every chunk before applying it.

Protocol (``Protocol.STATE_SYNC``, BCS)::

    StateSyncMsg = enum {
      0 ChunkRequest  { request_id: u64, start_version: u64, target_version: u64, limit: u64 }
      1 ChunkResponse { request_id: u64, ledger_info: Option<LedgerInfoWithSignatures>,
                        listing: TransactionListWithProof (with events),
                        write_sets: Vec<bytes> (BCS WriteSet, one per transaction) }
      2 EpochChangeRequest  { request_id: u64, start_epoch: u64 }
      3 EpochChangeResponse { request_id: u64, proof: EpochChangeProof }
    }

``target_version`` is the version of a ledger info the requester already trusts
(a validator syncing to a commit certificate), or ``u64::MAX`` for "your latest",
in which case the server adds its latest ledger info and the requester verifies its
quorum signatures against the validator set of the epoch (a full node following).
A request for "your latest" that starts past the server's latest ledger info (the
follower is caught up) is held until the server commits more, at most ``park_secs``
(a long poll: a follower hears of a commit within milliseconds instead of at its next
poll, and sends no requests while nothing happens); one held request per peer.

A chunk ends at a block boundary (before a ``BlockMetadata``) unless it reaches the
target. The requester checks the listing's accumulator range proof against the
trusted ledger info, then applies the chunk block by block on its own state from the
transactions' outputs (write sets and events), without executing them: the store
recomputes every ``TransactionInfo`` (state root from the resulting account blobs,
event root, gas, status) and a block is committed only when they all equal the proven
ones (the last block with the ledger info). Outputs are thus as trusted as the signed
ledger info, and a node spends a fraction of execution's CPU to follow. A peer that
sends anything else is answered by trying the next peer; nothing unverified is written.

Crossing epochs (a follower: full node, or a validator not in the set): when the
peer's latest ledger info belongs to a later epoch than the one we trust, we ask for
an epoch-change proof starting at our epoch, verify it from the validator set we
trust (each ending ledger info signed by a quorum of its epoch, naming the next set),
and sync to the ledger info that ends *our* epoch; it is stored with the last block of
the epoch, so the store keeps every epoch-ending ledger info and the next set becomes
the trusted one. One epoch at a time, until the peer's latest is in our epoch.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from libra.bcs import BcsError, BcsType, Deserializer, Serializer
from libra.client.verifier import (
    VerificationError,
    verify_epoch_change_proof,
    verify_ledger_info_in_epoch,
    verify_transaction_list,
)
from libra.network.network import Network
from libra.network.wire import Protocol
from libra.node.ledger import CommittedBlock, Ledger, LedgerError
from libra.storage.errors import StorageError
from libra.types.ledger import EpochState, LedgerInfoWithSignatures
from libra.types.move import AccountAddress
from libra.types.proof import EpochChangeProof, TransactionListWithProof, take_decoded_transaction
from libra.types.transaction import BlockMetadata, SignedTransaction, transaction_from_bcs

log = logging.getLogger("libra.state_sync")

LATEST = (1 << 64) - 1
CHUNK_LIMIT = 500
REQUEST_TIMEOUT_SECS = 5.0
PARK_SECS = 1.0  # how long a caught-up follower's request waits for a commit (well inside its timeout)
PARK_CHECK_SECS = 0.005  # how often held requests look for a new ledger info
MAX_PARKED = 64  # peers whose requests may be held at once; others are answered at once


class StateSyncError(RuntimeError):
    """The ledger could not be caught up (no peer answered with a verifiable chunk)."""


@dataclass(frozen=True, slots=True)
class ChunkRequest(BcsType):
    request_id: int
    start_version: int
    target_version: int
    limit: int

    def serialize(self, serializer: Serializer) -> None:
        serializer.variant(0)
        serializer.u64(self.request_id)
        serializer.u64(self.start_version)
        serializer.u64(self.target_version)
        serializer.u64(self.limit)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ChunkRequest:
        return cls(deserializer.u64(), deserializer.u64(), deserializer.u64(), deserializer.u64())


@dataclass(frozen=True, slots=True)
class ChunkResponse(BcsType):
    request_id: int
    ledger_info: LedgerInfoWithSignatures | None
    listing: TransactionListWithProof
    write_sets: tuple[bytes, ...] = ()

    def serialize(self, serializer: Serializer) -> None:
        serializer.variant(1)
        serializer.u64(self.request_id)
        serializer.option(self.ledger_info, lambda s, li: li.serialize(s))
        self.listing.serialize(serializer)
        serializer.bytes_sequence(self.write_sets)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ChunkResponse:
        return cls(
            deserializer.u64(),
            deserializer.option(LedgerInfoWithSignatures.deserialize, "ledger info"),
            TransactionListWithProof.deserialize(deserializer),
            tuple(deserializer.bytes_sequence("write set", "write sets")),
        )


@dataclass(frozen=True, slots=True)
class EpochChangeRequest(BcsType):
    request_id: int
    start_epoch: int

    def serialize(self, serializer: Serializer) -> None:
        serializer.variant(2)
        serializer.u64(self.request_id)
        serializer.u64(self.start_epoch)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EpochChangeRequest:
        return cls(deserializer.u64(), deserializer.u64())


@dataclass(frozen=True, slots=True)
class EpochChangeResponse(BcsType):
    request_id: int
    proof: EpochChangeProof

    def serialize(self, serializer: Serializer) -> None:
        serializer.variant(3)
        serializer.u64(self.request_id)
        self.proof.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EpochChangeResponse:
        return cls(deserializer.u64(), EpochChangeProof.deserialize(deserializer))


StateSyncMessage = ChunkRequest | ChunkResponse | EpochChangeRequest | EpochChangeResponse
Response = ChunkResponse | EpochChangeResponse
_DECODERS = (ChunkRequest, ChunkResponse, EpochChangeRequest, EpochChangeResponse)


def decode_message(data: bytes) -> StateSyncMessage:
    deserializer = Deserializer(data)
    kind = deserializer.variant(len(_DECODERS), "StateSyncMsg")
    message: StateSyncMessage = _DECODERS[kind].deserialize(deserializer)
    deserializer.finish()
    return message


@dataclass(frozen=True, slots=True)
class _Block:
    metadata: BlockMetadata
    transactions: tuple[SignedTransaction, ...]
    first_version: int


def split_blocks(first_version: int, transactions: Sequence[bytes]) -> list[_Block]:
    """Group a chunk into blocks: each starts with its ``BlockMetadata`` transaction."""
    blocks: list[_Block] = []
    metadata: BlockMetadata | None = None
    users: list[SignedTransaction] = []
    start = first_version
    for offset, data in enumerate(transactions):
        txn = take_decoded_transaction(data)  # decoded with the chunk message, if it was
        if txn is None:
            txn = transaction_from_bcs(data)
        if isinstance(txn, BlockMetadata):
            if metadata is not None:
                blocks.append(_Block(metadata, tuple(users), start))
            metadata, users, start = txn, [], first_version + offset
        elif isinstance(txn, SignedTransaction) and metadata is not None:
            users.append(txn)
        else:
            raise LedgerError(f"version {first_version + offset} is not part of a block")
    if metadata is not None:
        blocks.append(_Block(metadata, tuple(users), start))
    return blocks


class StateSync:
    """Serves chunks to peers and catches this node's ledger up from them."""

    def __init__(
        self, ledger: Ledger, network: Network, loop: asyncio.AbstractEventLoop, *, park_secs: float = PARK_SECS
    ) -> None:
        self._ledger = ledger
        self._network = network
        self._loop = loop
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[tuple[AccountAddress, Response]]] = {}
        self._park_secs = park_secs
        self._parked: dict[AccountAddress, tuple[ChunkRequest, float]] = {}  # peer -> (request, answer by)
        self._releasing: asyncio.Task[None] | None = None
        network.register(Protocol.STATE_SYNC, self._on_message)

    # --- serving (event loop) ------------------------------------------------------------

    def _on_message(self, peer: AccountAddress, payload: bytes) -> None:
        try:
            message = decode_message(payload)
        except BcsError as exc:
            log.warning("undecodable state-sync message from %s: %s", peer, exc)
            return
        if isinstance(message, ChunkRequest | EpochChangeRequest):
            if isinstance(message, ChunkRequest) and self._park(peer, message):
                return
            response = self.serve(message) if isinstance(message, ChunkRequest) else self.serve_epoch_change(message)
            if response is not None:
                self._network.send(peer, Protocol.STATE_SYNC, response.to_bcs())
        else:
            future = self._waiting.pop(message.request_id, None)
            if future is not None and not future.done():
                future.set_result((peer, message))

    def serve(self, request: ChunkRequest) -> ChunkResponse | None:
        """A chunk from ``start_version`` towards the target, cut at a block boundary."""
        latest = self._ledger.db.get_latest_ledger_info()
        if latest is None:
            return None
        ledger_info = latest if request.target_version == LATEST else None
        target = latest.ledger_info.version if request.target_version == LATEST else request.target_version
        if target > latest.ledger_info.version:
            return None
        limit = max(1, min(request.limit, CHUNK_LIMIT))
        end = min(target + 1, request.start_version + limit)
        if end < target + 1:
            end = self._block_boundary(request.start_version, end, target)
        listing = self._ledger.db.get_transaction_list_with_proof(
            request.start_version, end - request.start_version, target, include_events=True
        )
        write_sets = tuple(self._ledger.db.get_write_set(v) for v in range(request.start_version, end))
        return ChunkResponse(request.request_id, ledger_info, listing, write_sets)

    def _park(self, peer: AccountAddress, request: ChunkRequest) -> bool:
        """Hold ``request`` if it asks for our latest while it is caught up (module docstring)."""
        if self._park_secs <= 0 or request.target_version != LATEST:
            return False
        latest = self._ledger.db.get_latest_ledger_info()
        if latest is None or request.start_version <= latest.ledger_info.version:
            return False
        if peer not in self._parked and len(self._parked) >= MAX_PARKED:
            return False
        self._parked[peer] = (request, self._loop.time() + self._park_secs)  # a newer request replaces one held
        if self._releasing is None or self._releasing.done():
            self._releasing = self._loop.create_task(self._release_parked())
        return True

    async def _release_parked(self) -> None:
        """Answer each held request once a ledger info covers its start, or when its time is up."""
        while self._parked:
            await asyncio.sleep(PARK_CHECK_SECS)
            latest = self._ledger.db.get_latest_ledger_info()
            version = -1 if latest is None else latest.ledger_info.version
            now = self._loop.time()
            due = [peer for peer, (request, until) in self._parked.items() if request.start_version <= version or now >= until]
            for peer in due:
                request, _ = self._parked.pop(peer)
                try:
                    response = self.serve(request)
                except Exception:  # a request that cannot be answered costs its answer, not the others'
                    log.exception("cannot serve a held chunk request of %s", peer)
                    continue
                if response is not None:
                    self._network.send(peer, Protocol.STATE_SYNC, response.to_bcs())

    def serve_epoch_change(self, request: EpochChangeRequest) -> EpochChangeResponse | None:
        """The ledger infos ending epochs from ``start_epoch`` on (none if we know no later epoch)."""
        latest = self._ledger.db.get_latest_ledger_info()
        if latest is None:
            return None
        info = latest.ledger_info
        end_epoch = info.epoch + 1 if info.ends_epoch else info.epoch
        if request.start_epoch >= end_epoch:
            return EpochChangeResponse(request.request_id, EpochChangeProof(()))  # nothing newer
        try:
            proof = self._ledger.db.get_epoch_change_proof(request.start_epoch, end_epoch)
        except StorageError as exc:
            log.warning("cannot serve an epoch change proof from epoch %d: %s", request.start_epoch, exc)
            return None
        return EpochChangeResponse(request.request_id, proof)

    def _block_boundary(self, start: int, end: int, target: int) -> int:
        """The last block start in ``(start, end]``; or past ``end`` to finish a long block."""
        for version in range(end, start, -1):
            if self._is_block_start(version):
                return version
        version = end
        while version <= target and not self._is_block_start(version):
            version += 1
        return version

    def _is_block_start(self, version: int) -> bool:
        """Whether the stored transaction at ``version`` is a ``BlockMetadata``: only those start
        with its variant byte (``Transaction`` variant 2), so no other is decoded."""
        data = self._ledger.db.get_transaction(version)
        return data[:1] == b"\x02" and isinstance(transaction_from_bcs(data), BlockMetadata)

    # --- catching up (blocking; called off the event loop) ----------------------------------

    def sync_to(self, target: LedgerInfoWithSignatures, peers: Sequence[AccountAddress]) -> list[CommittedBlock]:
        """Catch up to ``target`` (already trusted), asking ``peers`` in turn."""
        committed: list[CommittedBlock] = []
        failures = 0
        self._ledger.certify_tip(target)
        while self._ledger.db.next_version <= target.ledger_info.version:
            candidates = [p for p in peers if p in self._network.connected_peers()]
            if not candidates:
                raise StateSyncError("no connected peer to sync from")
            peer = candidates[failures % len(candidates)]
            try:
                _, response = self._request(peer, target.ledger_info.version)
                committed += self.apply(response, target)
            except (StateSyncError, VerificationError, LedgerError, BcsError, TimeoutError) as exc:
                failures += 1
                log.warning("state sync from %s failed: %s", peer, str(exc) or type(exc).__name__)
                if failures >= 3 * len(candidates):
                    raise StateSyncError(f"no peer could catch us up to version {target.ledger_info.version}") from exc
        return committed

    def fetch_latest(self, peer: AccountAddress) -> ChunkResponse:
        """Ask a peer for what follows our ledger up to its latest ledger info (full nodes)."""
        return self._request(peer, LATEST)[1]

    def fetch_epoch_ending(self, peer: AccountAddress, trusted: EpochState) -> LedgerInfoWithSignatures | None:
        """The ledger info ending the ``trusted`` epoch, from a peer's verified epoch-change
        proof; None if the peer knows no later epoch."""
        response = self._ask_blocking(peer, EpochChangeRequest(next(self._ids), trusted.epoch))
        if not isinstance(response, EpochChangeResponse):
            raise StateSyncError(f"{peer} answered an epoch change request with {type(response).__name__}")
        if not response.proof.ledger_info_with_sigs:
            return None
        return epoch_ending_target(response.proof, trusted)

    def follow(self, peer: AccountAddress, trusted: EpochState) -> list[CommittedBlock] | None:
        """One step towards ``peer``'s latest ledger info; None when it has nothing newer.

        ``trusted`` is the validator set of the epoch our ledger is in. A latest ledger
        info of a later epoch makes us cross into the next epoch first (module docstring).
        """
        response = self.fetch_latest(peer)
        latest = response.ledger_info
        if latest is None or latest.ledger_info.version < self._ledger.db.next_version:
            return None
        if latest.ledger_info.epoch > trusted.epoch:
            ending = self.fetch_epoch_ending(peer, trusted)
            if ending is None:
                raise StateSyncError(f"{peer} reports epoch {latest.ledger_info.epoch} but proves no epoch change")
            return self.sync_to(ending, [peer])
        verify_ledger_info_in_epoch(latest, trusted)
        if not response.listing.transactions:
            self._ledger.certify_tip(latest)
            return None
        return self.apply(response, latest)

    def _request(self, peer: AccountAddress, target_version: int) -> tuple[AccountAddress, ChunkResponse]:
        request = ChunkRequest(next(self._ids), self._ledger.db.next_version, target_version, CHUNK_LIMIT)
        response = self._ask_blocking(peer, request)
        if not isinstance(response, ChunkResponse):
            raise StateSyncError(f"{peer} answered a chunk request with {type(response).__name__}")
        return peer, response

    def _ask_blocking(self, peer: AccountAddress, request: ChunkRequest | EpochChangeRequest) -> Response:
        waiter = asyncio.run_coroutine_threadsafe(self._ask(peer, request), self._loop)
        return waiter.result(REQUEST_TIMEOUT_SECS + 1)[1]

    async def _ask(
        self, peer: AccountAddress, request: ChunkRequest | EpochChangeRequest
    ) -> tuple[AccountAddress, Response]:
        future: asyncio.Future[tuple[AccountAddress, Response]] = self._loop.create_future()
        self._waiting[request.request_id] = future
        self._network.send(peer, Protocol.STATE_SYNC, request.to_bcs())
        try:
            return await asyncio.wait_for(future, REQUEST_TIMEOUT_SECS)
        finally:
            self._waiting.pop(request.request_id, None)

    def apply(self, response: ChunkResponse, target: LedgerInfoWithSignatures) -> list[CommittedBlock]:
        """Verify a chunk against ``target`` and commit it block by block from its outputs.

        Each block is committed only after the transaction infos recomputed from its
        outputs equal the proven ones, so a lying peer can make us write nothing but the truth.
        """
        listing = response.listing
        start = self._ledger.db.next_version
        verify_transaction_list(target.ledger_info, start, listing)
        proven = listing.proof.transaction_infos
        count = len(listing.transactions)
        if listing.events is None or len(listing.events) != count or len(response.write_sets) != count:
            raise LedgerError("the chunk lacks the events or write sets of its transactions")
        blocks = split_blocks(start, listing.transactions)
        if not blocks:
            raise LedgerError("the chunk holds no block")
        committed = []
        for index, block in enumerate(blocks):
            offset = block.first_version - start
            end = offset + 1 + len(block.transactions)
            speculative = self._ledger.apply_outputs(
                block.first_version,
                listing.transactions[offset:end],
                proven[offset:end],
                response.write_sets[offset:end],
                listing.events[offset:end],
                decoded=(block.metadata, *block.transactions),
            )
            last = index == len(blocks) - 1
            reaches_target = speculative.version == target.ledger_info.version
            committed.extend(self._ledger.commit(speculative, target if last and reaches_target else None))
        return committed


def epoch_ending_target(proof: EpochChangeProof, trusted: EpochState) -> LedgerInfoWithSignatures:
    """The verified ledger info that ends the ``trusted`` epoch.

    The whole proof is checked from ``trusted`` on (each ledger info signed by a quorum
    of its epoch's set, each naming the next epoch's set), so a forged next-epoch set
    anywhere in it is refused.
    """
    verify_epoch_change_proof(proof, trusted)
    for ledger_info in proof.ledger_info_with_sigs:
        if ledger_info.ledger_info.epoch == trusted.epoch:
            return ledger_info
    raise VerificationError(f"the epoch change proof does not cover epoch {trusted.epoch}")


def verify_latest(response: ChunkResponse, epoch_state: EpochState) -> LedgerInfoWithSignatures:
    """The ledger info a peer calls its latest, checked against the epoch's validators."""
    if response.ledger_info is None:
        raise VerificationError("the peer sent no ledger info")
    verify_ledger_info_in_epoch(response.ledger_info, epoch_state)
    return response.ledger_info
