"""The node's ledger: the store, block execution, and the commit of executed blocks.

One ``Ledger`` owns one ``LibraDB``. Writers (prepare and commit of blocks) are
serialised by ``_write_lock``; readers take no lock: the store never shows a reader
uncommitted nodes and publishes a commit only after it is durable, so the API and
admission keep answering while a block is prepared and fsync'd.
A block is executed on the latest committed state, turned into one
``TransactionToCommit`` per kept transaction (the block-metadata transaction first),
and committed with its signed ledger info in one synced write batch.

Per-version account blobs (the state tree has a root per version) come with each
executed transaction's output; for outputs received from peers (state sync) they are
derived from each write set applied, in order, to the framework's ``BlockState`` of the
touched accounts. Both paths find accounts decoded by earlier blocks in the ledger's one
``DecodedAccounts`` (by blob bytes) and leave there the accounts a block wrote; with the
native core on it is a ``NativeDecodedAccounts``, whose native cache the native payments of
every block share. Outputs of the native core carry their write set and events as BCS,
which go to the store as they are (``_to_commit``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from libra.bcs import BcsError, Serializer, encode_uleb128
from libra.crypto.hashing import ZERO_HASH, hash_with_salt, user_transaction_hash
from libra.execution import new_decoded_accounts
from libra.execution.executor import BlockOutput, Discarded, TransactionOutput, execute_block
from libra.framework.errors import (
    Executed,
    KeptStatus,
    vm_status_json,
)
from libra.framework.events import NewEpochEvent
from libra.framework.kept_status import kept_status, kept_vm_status
from libra.framework.state import BlockState
from libra.framework.views import ChainView, get_chain_view
from libra.mempool.pool import encoding_of
from libra.storage.libradb import EventToCommit, LibraDB, PreparedBlock, TransactionToCommit
from libra.types.direct_init import direct_init, slot_constructor
from libra.types.ledger import (
    KEPT_EXECUTED,
    BlockInfo,
    EpochState,
    LedgerInfo,
    LedgerInfoWithSignatures,
    TransactionInfo,
    ValidatorConsensusInfo,
    ValidatorVerifier,
)
from libra.types.move import AccountAddress, TypeTag, serialize_type_tag
from libra.types.transaction import (
    BlockMetadata,
    GenesisTransaction,
    SignedTransaction,
    Transaction,
    transaction_from_bcs,
    transaction_to_bcs,
)
from libra.types.write_set import ContractEvent, WriteSet, event_head, raw_writes, write_set_entries

LedgerInfoSigner = Callable[[LedgerInfo], LedgerInfoWithSignatures]


class LedgerError(RuntimeError):
    """The ledger cannot do what was asked (e.g. a genesis that does not match the store)."""


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    version: int
    timestamp_usecs: int
    epoch: int  # the epoch the next block belongs to
    accumulator_root: bytes
    ledger_info: LedgerInfoWithSignatures


@direct_init
@dataclass(frozen=True, slots=True)
class CommittedTransaction:
    txn: SignedTransaction
    txn_hash: bytes
    version: int | None  # None when discarded
    status: str  # "executed", "move_abort", ... or the discard status name


@dataclass(frozen=True, slots=True)
class CommittedBlock:
    first_version: int
    last_version: int
    timestamp_usecs: int
    transactions: tuple[CommittedTransaction, ...]
    reconfiguration: bool


@dataclass(eq=False, slots=True)
class SpeculativeBlock:
    """An executed, not yet committed block; ``parent`` None means it extends the committed tip."""

    metadata: BlockMetadata
    parent: SpeculativeBlock | None
    changed_blobs: dict[AccountAddress, bytes | None]
    prepared: PreparedBlock
    results: tuple[CommittedTransaction, ...]
    next_epoch_state: EpochState | None
    committed: bool = False

    @property
    def executed_state_id(self) -> bytes:
        return self.prepared.root

    @property
    def version(self) -> int:
        """The version of the block's last transaction."""
        return self.prepared.next_version - 1


class DbStateView:
    """The framework's state view over the store at a fixed version.

    ``decoded_accounts`` is the ledger's cache of accounts decoded by executed or
    state-synced blocks; it is found by blob bytes, so a reader that first gets the blob
    from this view and then looks it up there sees exactly what decoding that blob gives
    (never another version's state).
    """

    def __init__(self, ledger: Ledger, version: int | None) -> None:
        self._ledger = ledger
        self._version = version
        self.decoded_accounts = ledger._decoded

    def get_account_blob(self, address: AccountAddress) -> bytes | None:
        return self._ledger.db.get_account_blob(address.value, self._version)

    def get_account_blob_bytes(self, address: bytes) -> bytes | None:
        """:meth:`get_account_blob` of a 16-byte address."""
        return self._ledger.db.get_account_blob(address, self._version)


def _status_name(output: TransactionOutput) -> str:
    if isinstance(output.status, Discarded):
        return output.status.status_code
    return _kept_status_name(output.status)


def _kept_status_name(status: KeptStatus) -> str:
    """``"executed"``, or the type of Diem's ``VMStatusView`` (``"move_abort"``, …)."""
    if isinstance(status, Executed):
        return "executed"
    return str(vm_status_json(status)["type"])


_ULEB_SMALL = tuple(bytes((n,)) for n in range(0x80))


def _uleb(value: int) -> bytes:
    return _ULEB_SMALL[value] if value < 0x80 else encode_uleb128(value)


_TYPE_TAG_BYTES: dict[object, bytes] = {}
# the framework's event tags are module constants: found by identity (the entry keeps the tag
# alive, so its id is not reused), before hashing a StructTag field by field
_TYPE_TAG_BYTES_BY_ID: dict[int, tuple[TypeTag, bytes]] = {}


def _type_tag_bytes(tag: TypeTag) -> bytes:
    known = _TYPE_TAG_BYTES_BY_ID.get(id(tag))
    if known is not None and known[0] is tag:
        return known[1]
    encoded = _TYPE_TAG_BYTES.get(tag)
    if encoded is None:
        serializer = Serializer()
        serialize_type_tag(serializer, tag)
        encoded = serializer.output()
        if len(_TYPE_TAG_BYTES) < 4096:
            _TYPE_TAG_BYTES[tag] = encoded
    if len(_TYPE_TAG_BYTES_BY_ID) >= 256:  # tags decoded from peers' outputs come and go
        _TYPE_TAG_BYTES_BY_ID.clear()
    _TYPE_TAG_BYTES_BY_ID[id(tag)] = (tag, encoded)
    return encoded


def _event_bytes(event: ContractEvent) -> bytes:
    """``event.to_bcs()`` in one join (the type tag's encoding is remembered)."""
    key, data = event.key.value, event.event_data
    if not 0 <= event.sequence_number < 1 << 64:
        return event.to_bcs()
    return b"".join(
        (b"\x00", _uleb(len(key)), key, event.sequence_number.to_bytes(8, "little"),
         _type_tag_bytes(event.type_tag), _uleb(len(data)), data)
    )


def _write_set_bytes(write_set: WriteSet) -> bytes:
    """``write_set.to_bcs()`` in one join."""
    parts = [_uleb(len(write_set.entries))]
    for access_path, op in write_set.entries:
        path = access_path.path
        parts += (access_path.address.value, _uleb(len(path)), path)
        if op.value is None:
            parts.append(b"\x00")
        else:
            parts += (b"\x01", _uleb(len(op.value)), op.value)
    return b"".join(parts)


def _encoding(txn: SignedTransaction) -> tuple[bytes, bytes]:
    """(BCS bytes, hash) of a user transaction: as admission saw them if it came from our
    pool (the bytes it was decoded from), else encoded here."""
    known = encoding_of(txn)
    if known is not None:
        return known
    signed_bytes = txn.to_bcs()
    return signed_bytes, user_transaction_hash(signed_bytes)


_new_event = slot_constructor(EventToCommit)
_new_entry = slot_constructor(TransactionToCommit)


def _to_commit(
    transaction_bytes: bytes,
    output: TransactionOutput,
    blobs: Mapping[bytes, bytes | None],
    sender: AccountAddress | None = None,
    sequence_number: int | None = None,
) -> TransactionToCommit:
    """What the store commits of a kept transaction; an output of the native core carries its
    write set and events as BCS already, which are stored as they are."""
    assert not isinstance(output.status, Discarded)
    native = output.native
    if native is None:
        events = tuple(_new_event(e.key.value, e.sequence_number, _event_bytes(e)) for e in output.events)
        write_set_bytes = _write_set_bytes(output.write_set)
    else:
        events = native.events(_new_event)
        write_set_bytes = native.write_set_bytes()
    # the fields of TransactionToCommit, in order
    return _new_entry(
        transaction_bytes,
        blobs,
        events,
        output.gas_used,
        kept_vm_status(output.status),
        sender.value if sender is not None else None,
        sequence_number,
        write_set_bytes,
    )


def epoch_state_of(chain: ChainView) -> EpochState:
    """The validator set of the chain's current epoch as consensus sees it."""
    return EpochState(
        chain.epoch,
        ValidatorVerifier.from_validators(
            {
                info.addr: ValidatorConsensusInfo(info.config.consensus_pubkey, info.consensus_voting_power)
                for info in chain.validators
            }
        ),
    )


class Ledger:
    def __init__(self, db: LibraDB, chain_id: int, verifier_pool: Executor | None = None) -> None:
        self.db = db
        self.chain_id = chain_id
        self._write_lock = threading.RLock()  # readers take none (module docstring)
        self._pool = verifier_pool
        # accounts decoded by earlier blocks, by blob bytes (native-backed when the core is on)
        self._decoded = new_decoded_accounts()

    # --- reads ---------------------------------------------------------------------------

    def snapshot(self) -> LedgerSnapshot:
        info = self.db.get_latest_ledger_info()
        if info is None:
            raise LedgerError("the store holds no ledger info; bootstrap it with genesis first")
        ledger_info = info.ledger_info
        next_epoch = ledger_info.next_epoch_state
        return LedgerSnapshot(
            ledger_info.version,
            ledger_info.timestamp_usecs,
            next_epoch.epoch if next_epoch is not None else ledger_info.epoch,
            info.ledger_info.transaction_accumulator_hash,
            info,
        )

    def state_view(self, version: int | None = None) -> DbStateView:
        return DbStateView(self, version)

    def chain_view(self) -> ChainView:
        return get_chain_view(self.state_view())

    # --- genesis -------------------------------------------------------------------------

    def bootstrap(self, genesis: GenesisTransaction) -> bool:
        """Commit ``genesis`` as version 0 unless the store already has it; True if committed.

        A store whose version 0 is a different genesis is refused: it belongs to
        another network.
        """
        genesis_bytes = transaction_to_bcs(genesis)
        with self._write_lock:
            if self.db.latest_version is not None:
                if self.db.get_transaction(0) != genesis_bytes:
                    raise LedgerError("the store was created from a different genesis; wrong data folder?")
                return False
            change_set = genesis.write_set.change_set  # type: ignore[union-attr]
            blobs = BlockState(self.state_view()).apply_raw(raw_writes(change_set.write_set))
            entry = TransactionToCommit(
                transaction_bytes=genesis_bytes,
                account_blobs=blobs,
                events=tuple(EventToCommit(e.key.value, e.sequence_number, e.to_bcs()) for e in change_set.events),
                write_set_bytes=change_set.write_set.to_bcs(),
            )
            prepared = self.db.prepare_block([entry], 0)
            chain = get_chain_view(_PreparedView(blobs))
            ledger_info = LedgerInfo(
                BlockInfo(0, 0, ZERO_HASH, prepared.root, 0, 0, epoch_state_of(chain)), ZERO_HASH
            )
            self.db.commit_prepared(prepared, LedgerInfoWithSignatures(ledger_info, ()))
            return True

    # --- blocks --------------------------------------------------------------------------

    def execute(
        self,
        metadata: BlockMetadata,
        transactions: Sequence[SignedTransaction],
        parent: SpeculativeBlock | None = None,
        *,
        verified: bool | Sequence[bool] = False,
    ) -> SpeculativeBlock:
        """Execute a block speculatively on ``parent`` (None: the committed tip); nothing is durable.

        ``verified`` says the signatures were already checked: of all transactions (True) or
        of each one (a flag per transaction).

        Transactions that are discarded (bad signature, failed prologue, after a
        reconfiguration) are reported but take no version. Raises ``LedgerError`` when
        the block itself is invalid (its block prologue fails, e.g. time going back).
        """
        live_parent = parent if parent is not None and not parent.committed else None
        if live_parent is None:
            first_version = self.db.next_version
        else:
            first_version = live_parent.prepared.next_version
        view = _ChainView(self, live_parent)
        encoded = [_encoding(txn) for txn in transactions]
        output = execute_block(
            view,
            metadata,
            transactions,
            chain_id=self.chain_id,
            verifier=self._pool,
            verify=verified is not True,
            prechecked=None if isinstance(verified, bool) else verified,
            cache=self._decoded,
            sizes=[len(signed_bytes) for signed_bytes, _ in encoded],
            encodings=[signed_bytes for signed_bytes, _ in encoded],
        )
        if output.metadata_output is None or output.metadata_output.is_discarded:
            raise LedgerError(f"block {metadata.id.hex()} is invalid: its block prologue failed")
        entries, results = self._entries(metadata, transactions, output, first_version, encoded)
        with self._write_lock:
            prepared = self.db.prepare_block(
                entries, first_version, parent=live_parent.prepared if live_parent is not None else None
            )
        next_epoch = None
        if output.reconfiguration:
            next_epoch = epoch_state_of(get_chain_view(_ChainView(self, live_parent, output.changed_blobs)))
        return SpeculativeBlock(
            metadata=metadata,
            parent=live_parent,
            changed_blobs=output.changed_blobs,
            prepared=prepared,
            results=tuple(results),
            next_epoch_state=next_epoch,
        )

    def apply_outputs(
        self,
        first_version: int,
        transactions: Sequence[bytes],
        infos: Sequence[TransactionInfo],
        write_sets: Sequence[bytes],
        events: Sequence[Sequence[bytes]],
        decoded: Sequence[Transaction] | None = None,
    ) -> SpeculativeBlock:
        """Prepare one block on the committed tip from outputs a peer sent, without executing it.

        The caller has proven ``infos`` against a signed ledger info (state sync). Each
        version's account blobs come from applying its write set; the store then recomputes
        every transaction info (transaction hash, state root of those blobs, event root, gas,
        status), and outputs that do not give exactly the proven infos are refused with
        ``LedgerError``: nothing is prepared from them. ``transactions[0]`` must be the
        block's ``BlockMetadata``, the rest its user transactions; ``decoded``, if given,
        are those transactions already decoded from exactly these bytes.
        """
        count = len(transactions)
        if not count or not len(infos) == len(write_sets) == len(events) == count:
            raise LedgerError("a block's outputs need one info, write set and event list per transaction")
        if first_version != self.db.next_version:
            raise LedgerError(f"outputs start at version {first_version}, the ledger at {self.db.next_version}")
        try:
            if decoded is None:
                decoded = [transaction_from_bcs(data) for data in transactions]
            elif len(decoded) != count:
                raise LedgerError("decoded transactions must match the transaction bytes one to one")
            writes = [write_set_entries(data) for data in write_sets]
            # key, sequence number, type tag encoding: what the store keeps besides the bytes
            # (exact: malformed events are refused as the full decoder refuses them)
            heads = [[event_head(data) for data in listed] for listed in events]
        except BcsError as exc:
            raise LedgerError(f"undecodable outputs: {exc}") from None
        metadata = decoded[0]
        if not isinstance(metadata, BlockMetadata) or not all(isinstance(t, SignedTransaction) for t in decoded[1:]):
            raise LedgerError(f"the outputs at version {first_version} are not one block")
        # the accounts the block touches, from the blobs earlier blocks left where possible
        state = BlockState(self.state_view(), cache=self._decoded)
        new_epoch_tag = _type_tag_bytes(NewEpochEvent.TYPE_TAG)
        entries = []
        results = []
        reconfiguration = False
        for offset, (txn, info) in enumerate(zip(decoded, infos, strict=True)):
            blobs = state.apply_raw(writes[offset])
            listed = heads[offset]
            reconfiguration |= any(head[2] == new_epoch_tag for head in listed)
            user = txn if isinstance(txn, SignedTransaction) else None
            entries.append(
                TransactionToCommit(
                    transaction_bytes=transactions[offset],
                    account_blobs=blobs,
                    events=tuple(
                        EventToCommit(key, sequence_number, data)
                        for (key, sequence_number, _), data in zip(listed, events[offset], strict=True)
                    ),
                    gas_used=info.gas_used,
                    status=info.status,
                    sender=user.raw_txn.sender.value if user is not None else None,
                    sequence_number=user.raw_txn.sequence_number if user is not None else None,
                    write_set_bytes=write_sets[offset],
                )
            )
            if user is not None:
                # the store recomputes each info's transaction hash from these bytes and the
                # block is refused below unless all infos match: the proven hash is the hash
                status = info.status
                name = "executed" if status.kind == KEPT_EXECUTED else _kept_status_name(kept_status(status))
                results.append(CommittedTransaction(user, info.transaction_hash, first_version + offset, name))
        with self._write_lock:
            prepared = self.db.prepare_block(entries, first_version)
        if prepared.transaction_infos != tuple(infos):
            raise LedgerError(f"the outputs of the block at version {first_version} do not give the proven results")
        # proven: the accounts it leaves are remembered for the next block (a refused block's are not)
        changed = state.changed_blobs()
        next_epoch = None
        if reconfiguration:
            next_epoch = epoch_state_of(get_chain_view(_ChainView(self, None, changed)))
        return SpeculativeBlock(
            metadata=metadata,
            parent=None,
            changed_blobs=changed,
            prepared=prepared,
            results=tuple(results),
            next_epoch_state=next_epoch,
        )

    def commit(self, block: SpeculativeBlock, ledger_info: LedgerInfoWithSignatures | None) -> list[CommittedBlock]:
        """Make ``block`` and its uncommitted ancestors durable in one synced write, with the
        ledger info that certifies ``block``; returns them oldest first."""
        chain = []
        current: SpeculativeBlock | None = block
        while current is not None and not current.committed:
            chain.append(current)
            current = current.parent
        chain.reverse()
        with self._write_lock:
            self.db.commit_prepared(block.prepared, ledger_info)
        results = []
        for member in chain:
            member.committed = True
            results.append(
                CommittedBlock(
                    member.prepared.first_version,
                    member.prepared.next_version - 1,
                    member.metadata.timestamp_usecs,
                    member.results,
                    member.next_epoch_state is not None,
                )
            )
        return results

    def uncertified_blocks(self) -> dict[bytes, tuple[int, bytes]]:
        """Blocks committed after the latest ledger info (a crash between the blocks of one
        commit, or a state-sync chunk short of its target): block id -> (last version, root)."""
        info = self.db.get_latest_ledger_info()
        first = (info.ledger_info.version + 1) if info is not None else 0
        tip = self.db.next_version - 1
        ends: dict[bytes, int] = {}
        current: bytes | None = None
        for version in range(first, tip + 1):
            txn = transaction_from_bcs(self.db.get_transaction(version))
            if isinstance(txn, BlockMetadata):
                if current is not None:
                    ends[current] = version - 1
                current = txn.id
        if current is not None:
            ends[current] = tip
        return {block: (end, self.db.get_accumulator_root(end)) for block, end in ends.items()}

    def record_ledger_info(self, ledger_info: LedgerInfoWithSignatures) -> None:
        """Store the ledger info certifying the latest committed version (after a crash
        left that version without one)."""
        with self._write_lock:
            prepared = self.db.prepare_block([], self.db.next_version)
            self.db.commit_prepared(prepared, ledger_info)

    def certify_tip(self, ledger_info: LedgerInfoWithSignatures) -> bool:
        """If our blocks end exactly at ``ledger_info``'s version but the store lacks a ledger
        info that far (blocks written without their certificate: a crash between the blocks of
        one commit, a chunk short of its target), store it; True if stored. The store checks
        that it names our accumulator root."""
        version = ledger_info.ledger_info.version
        latest = self.db.get_latest_ledger_info()
        if self.db.next_version != version + 1 or (latest is not None and latest.ledger_info.version >= version):
            return False
        self.record_ledger_info(ledger_info)
        return True

    def block_info(self, block: SpeculativeBlock, epoch: int) -> BlockInfo:
        """What validators sign for an executed block: its accumulator root and last version."""
        return BlockInfo(
            epoch,
            block.metadata.round,
            block.metadata.id,
            block.prepared.root,
            block.prepared.next_version - 1,
            block.metadata.timestamp_usecs,
            block.next_epoch_state,
        )

    def execute_and_commit(
        self,
        metadata: BlockMetadata,
        transactions: Sequence[SignedTransaction],
        sign: LedgerInfoSigner,
        *,
        verified: bool = False,
    ) -> CommittedBlock:
        """Execute a block on the latest state and commit it with a signed ledger info
        (the path of a network with one validator)."""
        return self.commit_alone(self.execute(metadata, transactions, None, verified=verified), sign)

    def commit_alone(self, block: SpeculativeBlock, sign: LedgerInfoSigner) -> CommittedBlock:
        """Commit ``block``, whose parent is committed, with the ledger info ``sign`` gives for
        it (one validator: its own signature is the quorum)."""
        epoch = self.snapshot().epoch
        (committed,) = self.commit(block, sign(LedgerInfo(self.block_info(block, epoch), ZERO_HASH)))
        return committed

    def _entries(
        self,
        metadata: BlockMetadata,
        transactions: Sequence[SignedTransaction],
        output: BlockOutput,
        first_version: int,
        encoded: Sequence[tuple[bytes, bytes]],
    ) -> tuple[list[TransactionToCommit], list[CommittedTransaction]]:
        """One entry per kept transaction (block metadata first) with its version's blobs;
        ``encoded[i]`` is (BCS bytes, hash) of transaction ``i``."""
        assert output.metadata_output is not None
        entries = [
            _to_commit(
                transaction_to_bcs(metadata), output.metadata_output, output.metadata_output.account_blobs
            )
        ]
        results = []
        for txn, txn_output, (signed_bytes, txn_hash) in zip(
            transactions, output.transaction_outputs, encoded, strict=True
        ):
            status = txn_output.status
            if type(status) is Discarded:
                results.append(CommittedTransaction(txn, txn_hash, None, status.status_code))
                continue
            raw = txn.raw_txn
            entries.append(
                _to_commit(b"\x00" + signed_bytes, txn_output, txn_output.account_blobs, raw.sender, raw.sequence_number)
            )
            name = "executed" if type(status) is Executed else _kept_status_name(status)  # type: ignore[arg-type]
            results.append(CommittedTransaction(txn, txn_hash, first_version + len(entries) - 1, name))
        return entries, results


class _PreparedView:
    """State view over blobs about to be committed (genesis)."""

    def __init__(self, blobs: dict[bytes, bytes | None]) -> None:
        self._blobs = blobs

    def get_account_blob(self, address: AccountAddress) -> bytes | None:
        return self._blobs.get(address.value)


class _ChainView:
    """Committed state with the changes of uncommitted ancestor blocks (and ``extra``) laid over it."""

    def __init__(
        self,
        ledger: Ledger,
        parent: SpeculativeBlock | None,
        extra: dict[AccountAddress, bytes | None] | None = None,
    ) -> None:
        self._base = ledger.state_view()
        self._layers: list[dict[AccountAddress, bytes | None]] = [extra] if extra else []
        block = parent
        while block is not None and not block.committed:
            self._layers.append(block.changed_blobs)
            block = block.parent

    def get_account_blob(self, address: AccountAddress) -> bytes | None:
        for layer in self._layers:
            if address in layer:
                return layer[address]
        return self._base.get_account_blob(address)

    def get_account_blobs(self, addresses: Sequence[bytes]) -> list[bytes | None]:
        """:meth:`get_account_blob` of each address (16 bytes), in one call (execution loads
        a block's accounts so)."""
        read = self._base.get_account_blob_bytes
        if not self._layers:
            return [read(address) for address in addresses]
        layers = [{key.value: blob for key, blob in layer.items()} for layer in self._layers]
        out: list[bytes | None] = []
        for address in addresses:
            for layer in layers:
                if address in layer:
                    out.append(layer[address])
                    break
            else:
                out.append(read(address))
        return out


def block_id(parent_id: bytes, round_: int, timestamp_usecs: int, txn_hashes: Sequence[bytes]) -> bytes:
    """Identifier of a block produced by this node's single-leader loop."""
    payload = parent_id + round_.to_bytes(8, "little") + timestamp_usecs.to_bytes(8, "little") + b"".join(txn_hashes)
    return hash_with_salt("BlockData", payload)
