"""Admission reads accounts through the node's DecodedAccounts: the same answers as decoding
the committed blobs, an account a committed block changed seen with its new value (and taken
from the cache), and nothing of a speculative block that is not committed. Each test runs on
the framework's prologue and on the native core's (``AdmissionChecker``, which finds accounts
in the ledger's native cache by exact blob); the framework's shared reads are inspected too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from libra import _core
from libra.client import builders
from libra.crypto.auth import compute_address, compute_auth_key
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import ZERO_HASH, hash_with_salt
from libra.framework.state import DecodedAccounts
from libra.mempool import admission
from libra.mempool.pool import AddStatus, Mempool
from libra.node.genesis import ValidatorIdentity, write_genesis
from libra.node.ledger import Ledger, SpeculativeBlock
from libra.storage.libradb import LibraDB
from libra.types.ledger import LedgerInfo, LedgerInfoWithSignatures
from libra.types.move import TESTNET_DD_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress
from libra.types.transaction import BlockMetadata, SignedTransaction

CHAIN_ID = 2
EXPIRATION = int(time.time()) + 3600


class _UncachedView:
    """The committed blobs and nothing else: admission decodes every account it reads."""

    def __init__(self, ledger: Ledger) -> None:
        self._view = ledger.state_view()

    def get_account_blob(self, address: AccountAddress) -> bytes | None:
        return self._view.get_account_blob(address)


class _Chain:
    def __init__(self, folder: Path) -> None:
        self.keys = {name: Ed25519PrivateKey.generate() for name in ("root", "tc", "dd", "validator")}
        identity = ValidatorIdentity("v0", self.keys["validator"].public_key().to_bytes(), bytes(32), "127.0.0.1:1")
        self.proposer = identity.account_address
        genesis = write_genesis(
            folder / "genesis.bcs", chain_id=CHAIN_ID,
            diem_root_public_key=self.keys["root"].public_key().to_bytes(),
            treasury_compliance_public_key=self.keys["tc"].public_key().to_bytes(),
            designated_dealer_public_key=self.keys["dd"].public_key().to_bytes(),
            validators=[identity],
        )
        self.ledger = Ledger(LibraDB.in_memory(), CHAIN_ID)
        self.ledger.bootstrap(genesis)
        self.round = 0
        self.timestamp = time.time_ns() // 1000
        self.dd_seq = 0

    def execute(self, txns: list[SignedTransaction]) -> SpeculativeBlock:
        """Execute a block on the committed tip without committing it."""
        self.round += 1
        self.timestamp += 1000
        metadata = BlockMetadata(
            hash_with_salt("BlockData", self.round.to_bytes(8, "little")), self.round, self.timestamp, (),
            self.proposer,
        )
        block = self.ledger.execute(metadata, txns, None)
        assert all(result.status == "executed" for result in block.results), block.results
        return block

    def commit(self, block: SpeculativeBlock) -> None:
        info = LedgerInfo(self.ledger.block_info(block, self.ledger.snapshot().epoch), ZERO_HASH)
        self.ledger.commit(block, LedgerInfoWithSignatures(info, ()))

    def dd_pays(self, to: AccountAddress, amount: int) -> SignedTransaction:
        self.dd_seq += 1
        return builders.sign_transaction(
            self.keys["dd"], TESTNET_DD_ADDRESS, self.dd_seq - 1, builders.peer_to_peer_with_metadata("XUS", to, amount),
            chain_id=CHAIN_ID, expiration_timestamp_secs=EXPIRATION,
        ).transaction


@pytest.fixture(params=["framework", "native"])
def core(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> object:
    """The core admission uses: none (the framework's prologue) or the native one."""
    chosen = _core if request.param == "native" else None
    monkeypatch.setattr(admission, "CORE", chosen)
    return chosen


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[_Chain]:
    chain = _Chain(tmp_path)
    yield chain
    chain.ledger.db.close()


def _payment(key: Ed25519PrivateKey, sender: AccountAddress, seq: int, *, gas_unit_price: int = 0) -> bytes:
    """A payment of 1 µXUS to the DD; with ``gas_unit_price`` 1 it needs 1 XUS for gas."""
    return builders.sign_transaction(
        key, sender, seq, builders.peer_to_peer_with_metadata("XUS", TESTNET_DD_ADDRESS, 1),
        chain_id=CHAIN_ID, expiration_timestamp_secs=EXPIRATION, gas_unit_price=gas_unit_price,
    ).bcs


def _admit(chain: _Chain, data: bytes, *, cached: bool) -> tuple[admission.Admission, Mempool]:
    """Admission in a fresh pool (so every account is read again) against the committed tip."""
    snapshot = chain.ledger.snapshot()
    view = chain.ledger.state_view(snapshot.version) if cached else _UncachedView(chain.ledger)
    pool = Mempool()
    result = admission.admit(
        pool, view, data, chain_id=CHAIN_ID, ledger_time_usecs=snapshot.timestamp_usecs, now=0.0
    )
    return result, pool


def _outcome(result: admission.Admission) -> str:
    return result.vm_status or (result.status.name if result.status is not None else "?")


def _check(chain: _Chain, expected: dict[bytes, str]) -> list[Mempool]:
    """Each submission gets the expected answer, the same with and without the cache."""
    pools = []
    for data, outcome in expected.items():
        with_cache, pool = _admit(chain, data, cached=True)
        without, _ = _admit(chain, data, cached=False)
        assert _outcome(with_cache) == _outcome(without) == outcome
        assert (with_cache.status, with_cache.vm_status) == (without.status, without.vm_status)
        pools.append(pool)
    return pools


def _account_read(pool: Mempool, address: AccountAddress) -> object:
    """The account object admission read for ``address`` (its shared per-state reads)."""
    assert pool.admission_state is not None
    block = pool.admission_state[1]
    return block._accounts[address.value]  # type: ignore[attr-defined]


def test_admission_sees_the_committed_state_through_the_cache(chain: _Chain, core: object) -> None:
    ledger = chain.ledger
    cache = ledger.state_view().decoded_accounts
    assert isinstance(cache, DecodedAccounts)
    old_key, new_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old_auth = compute_auth_key(old_key.public_key())
    vasp = AccountAddress(compute_address(old_auth))
    opening = builders.sign_transaction(
        chain.keys["tc"], TREASURY_COMPLIANCE_ADDRESS, 0,
        builders.create_parent_vasp_account("XUS", 0, vasp, old_auth[:16], b"vasp"),
        chain_id=CHAIN_ID, expiration_timestamp_secs=EXPIRATION,
    ).transaction
    chain.commit(chain.execute([opening, chain.dd_pays(vasp, 2_000_000)]))

    # a committed block spends 1.5 XUS of the vasp's 2: its sequence number and balance change
    spend = builders.sign_transaction(
        old_key, vasp, 0, builders.peer_to_peer_with_metadata("XUS", TESTNET_DD_ADDRESS, 1_500_000),
        chain_id=CHAIN_ID, expiration_timestamp_secs=EXPIRATION,
    ).transaction
    chain.commit(chain.execute([spend]))
    committed_blob = ledger.db.get_account_blob(vasp.value, None)
    assert committed_blob is not None and cache.get(committed_blob) is not None  # the block left it there
    pools = _check(chain, {
        _payment(old_key, vasp, 0): "SEQUENCE_NUMBER_TOO_OLD",
        _payment(old_key, vasp, 1): AddStatus.ACCEPTED.name,
        _payment(old_key, vasp, 1, gas_unit_price=1): "INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE",
        _payment(old_key, vasp, 3): AddStatus.ACCEPTED.name,  # parked until 1 and 2 arrive
    })
    if core is None:
        assert all(_account_read(pool, vasp) is cache.get(committed_blob) for pool in pools)  # not decoded again

    # a speculative block (not committed) rotates the vasp's key and pays it 5 XUS: the cache
    # then holds the vasp's speculative state, which admission must not see
    rotation = builders.sign_transaction(
        old_key, vasp, 1, builders.rotate_authentication_key(compute_auth_key(new_key.public_key())),
        chain_id=CHAIN_ID, expiration_timestamp_secs=EXPIRATION,
    ).transaction
    speculative = chain.execute([rotation, chain.dd_pays(vasp, 5_000_000)])
    speculative_blob = speculative.changed_blobs[vasp]
    assert speculative_blob is not None and speculative_blob != committed_blob
    assert cache.get(speculative_blob) is not None
    assert ledger.db.get_account_blob(vasp.value, None) == committed_blob
    pools = _check(chain, {
        _payment(old_key, vasp, 1): AddStatus.ACCEPTED.name,
        _payment(new_key, vasp, 1): "INVALID_AUTH_KEY",
        _payment(old_key, vasp, 1, gas_unit_price=1): "INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE",
        _payment(old_key, vasp, 2): AddStatus.ACCEPTED.name,
    })
    if core is None:
        assert all(_account_read(pool, vasp) is not cache.get(speculative_blob) for pool in pools)

    # once committed, admission sees the rotated key, the new sequence number and balance
    chain.commit(speculative)
    assert ledger.db.get_account_blob(vasp.value, None) == speculative_blob
    pools = _check(chain, {
        _payment(old_key, vasp, 1): "INVALID_AUTH_KEY",
        _payment(new_key, vasp, 1): "SEQUENCE_NUMBER_TOO_OLD",
        _payment(old_key, vasp, 2): "INVALID_AUTH_KEY",
        _payment(new_key, vasp, 2, gas_unit_price=1): AddStatus.ACCEPTED.name,
    })
    if core is None:
        assert all(_account_read(pool, vasp) is cache.get(speculative_blob) for pool in pools)


def test_a_view_without_the_cache_decodes_as_before(chain: _Chain, core: object) -> None:
    """Views that offer no ``decoded_accounts`` (tests, tools) are read as they always were."""
    key = Ed25519PrivateKey.generate()
    sender = AccountAddress(compute_address(compute_auth_key(key.public_key())))
    result, pool = _admit(chain, _payment(key, sender, 0), cached=False)
    assert result.vm_status == "SENDING_ACCOUNT_DOES_NOT_EXIST"
    if core is None:
        assert pool.admission_state is not None and pool.admission_state[1]._cache is None  # type: ignore[attr-defined]
    else:
        assert pool.admission_state is None and pool.native_admission is not None  # the core answered
