"""Mempool admission's native prologue gives the framework's answers, check for check.

The native core (``libra._core.AdmissionChecker``, through ``admission.native_prologue``)
answers ``check_admission`` for the common payment: the failing status name (or None) and the
sender's account sequence number. On chains evolved by blocks of ``execution_world`` (VASPs,
children, dealers; freezing, key rotation, fees, minting between payments), transactions of
every prologue outcome (gas bounds and size, gas currencies valid, unknown and malformed,
chain id, unknown senders, frozen senders, wrong keys, fees the balance does or does not
cover, expiry against the ledger time, sequence numbers too old, too new and too big, odd
payment shapes, other payloads) are checked against committed state by both, with accounts
in and out of the ledger's native cache (and a cache that is ahead of the committed state, as
after a speculative block), and with state that does not decode. Wherever the core answers,
its answer must be the framework's; where it declines, the framework answers (or raises) as
it always did, so whole admissions (``admit``, with the pool's rules) are the same on both
paths, exceptions included.

Runs under ``LIBRA_CORE=python`` too: the core is called directly. ``LIBRA_DIFF_ADMIT_ROUNDS``
sets the length of the seeded run (default 150 rounds).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.native.execution_world import (
    CHAIN_ID,
    U64_MAX,
    XUS,
    Draw,
    HypothesisDraw,
    Party,
    RandomDraw,
    World,
    _other_txn,
    _payment_txn,
    _settle,
    address_of_key,
    auth_key_of,
    base_world,
    bcs_bytes,
    build_block,
    call,
    key_of,
    party_sign,
    payment,
    payment_function,
    sign,
    u64,
)

from libra import _core
from libra.execution import DecodedAccounts, InMemoryStateView, NativeDecodedAccounts, execute_block
from libra.execution.native_accounts import NATIVE_CAPACITY
from libra.framework.resources import (
    DIEM_ACCOUNT,
    FREEZING_BIT,
    balance_kind,
    currency_info_kind,
    transaction_fee_kind,
)
from libra.framework.state import BlockState, decode_account_blob, encode_account_blob
from libra.framework.vm import check_admission
from libra.mempool import admission
from libra.mempool.pool import Mempool
from libra.types.move import DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress
from libra.types.transaction import (
    Ed25519Authenticator,
    MultiAgentAuthenticator,
    MultiEd25519Authenticator,
    SignedTransaction,
)


class Tally:
    """What the checks covered: answers given natively, and sender accounts in the cache."""

    def __init__(self) -> None:
        self.checks = 0
        self.native = 0
        self.cached = 0
        self.uncached = 0
        self.statuses: set[str | None] = set()


@contextlib.contextmanager
def _core_is(core: Any) -> Iterator[None]:
    """Admission's core, for the duration (None: the framework alone)."""
    saved = admission.CORE
    admission.CORE = core
    try:
        yield
    finally:
        admission.CORE = saved


def node_cache() -> NativeDecodedAccounts:
    """A node's decoded accounts backed by a native cache (also when ``LIBRA_CORE=python``)."""
    cache = NativeDecodedAccounts.__new__(NativeDecodedAccounts)
    DecodedAccounts.__init__(cache)
    cache.native = _core.AccountCache(NATIVE_CAPACITY)
    return cache


class CommittedView:
    """The world's committed blobs with the node's decoded accounts, as ``DbStateView``."""

    def __init__(self, view: InMemoryStateView, cache: DecodedAccounts | None) -> None:
        self._view = view
        self.decoded_accounts = cache

    def get_account_blob(self, address: AccountAddress) -> bytes | None:
        return self._view.get_account_blob(address)

    def get_account_blob_bytes(self, address: bytes) -> bytes | None:
        return self._view.get_account_blob(AccountAddress(address))


class PlainView:
    """Blobs only, by ``AccountAddress`` (a view without the node's extras)."""

    def __init__(self, view: InMemoryStateView) -> None:
        self._view = view

    def get_account_blob(self, address: AccountAddress) -> bytes | None:
        return self._view.get_account_blob(address)


def _failure(call: Any) -> Any:
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - both paths must fail alike
        return (type(exc), str(exc))


def reference_answer(view: InMemoryStateView, txn: SignedTransaction, data: bytes, chain_id: int, now: int) -> Any:
    return _failure(lambda: check_admission(BlockState(view), txn, chain_id, now, len(data)))


def check_one(
    world_view: InMemoryStateView, view: Any, pool: Mempool, txn: SignedTransaction, chain_id: int, now: int,
    tally: Tally,
) -> None:
    """The core's answer for ``txn``, if it gives one, is the framework's."""
    data = txn.to_bcs()
    expected = reference_answer(world_view, txn, data, chain_id, now)
    with _core_is(_core):
        found = _failure(lambda: admission.native_prologue(pool, view, data, chain_id, now))
    tally.checks += 1
    if found is None:
        return
    assert found == expected, (txn, found, expected)
    tally.native += 1
    tally.statuses.add(found[0])
    blob = world_view.get_account_blob(txn.raw_txn.sender)
    cache = getattr(view, "decoded_accounts", None)
    if blob is not None and isinstance(cache, NativeDecodedAccounts):
        if cache.native.find_blob(blob) is not None:
            tally.cached += 1
        else:
            tally.uncached += 1


def _admissions(pool: Mempool, view: Any, datas: list[bytes], chain_id: int, now: int, core: Any) -> list[Any]:
    out = []
    with _core_is(core):
        for index, data in enumerate(datas):
            result = _failure(lambda data=data, index=index: admission.admit(
                pool, view, data, chain_id=chain_id, ledger_time_usecs=now, now=float(index)))
            out.append(result if isinstance(result, tuple) else (result.status, result.vm_status, result.txn_hash))
    return out


def check_admissions(
    world_view: InMemoryStateView, view: Any, datas: list[bytes], chain_id: int, now: int, checker: Any = None
) -> None:
    """Whole admissions in order, with the pool's rules: the same on both paths (fresh pools:
    the framework's shared reads are per ledger time; the native checker may be a node's,
    kept from earlier states)."""
    reference_pool, native_pool = Mempool(), Mempool()
    native_pool.native_admission = checker
    reference = _admissions(reference_pool, PlainView(world_view), datas, chain_id, now, None)
    native = _admissions(native_pool, view, datas, chain_id, now, _core)
    assert native == reference
    pooled = [[p.txn_hash for p in pool.take_block(10_000)] for pool in (reference_pool, native_pool)]
    assert pooled[0] == pooled[1]


# --- state that does not decode --------------------------------------------------------------


def _with_resource(view: InMemoryStateView, address: AccountAddress, path: bytes, value: bytes | None) -> None:
    blob = view.get_account_blob(address)
    resources = decode_account_blob(blob) if blob is not None else {}
    if value is None:
        resources.pop(path, None)
    else:
        resources[path] = value
    view.blobs[address] = encode_account_blob(resources)


def corrupted(view: InMemoryStateView, world: World, draw: Draw) -> InMemoryStateView:
    """A copy of ``view`` with one account or resource changed the framework may refuse."""
    copy = view.copy()
    party = draw.pick([p for p in world.parties.values() if p.address in copy.blobs])
    kind = draw.pick(("blob", "account", "balance", "frozen", "frozen", "no account", "currency", "fee", "root"))
    if kind == "blob":
        copy.blobs[party.address] = draw.pick((b"\x02\x00", b"", b"\x01\x01\x01"))
    elif kind == "account":
        _with_resource(copy, party.address, DIEM_ACCOUNT.path, b"\x20" + b"\x00" * 20)
    elif kind == "balance":
        _with_resource(copy, party.address, balance_kind("XUS").path, b"\x01" * 7)
    elif kind == "frozen":
        _with_resource(copy, party.address, FREEZING_BIT.path, draw.pick((b"\x01", b"\x00", b"\x02", b"")))
    elif kind == "no account":
        _with_resource(copy, party.address, DIEM_ACCOUNT.path, None)
    elif kind == "currency":
        _with_resource(copy, DIEM_ROOT_ADDRESS, currency_info_kind("XUS").path, draw.pick((b"\x00" * 9, None)))
    elif kind == "fee":
        _with_resource(copy, TREASURY_COMPLIANCE_ADDRESS, transaction_fee_kind("XUS").path,
                       draw.pick((b"\x00" * 3, None)))
    else:
        copy.blobs[DIEM_ROOT_ADDRESS] = b"\x05"
    return copy


# --- rounds: admissions against the committed state, then a block ---------------------------


def _candidates(world: World, draw: Draw, count: int) -> list[SignedTransaction]:
    """Payments of every outcome (from ``execution_world``), sometimes other transactions, bad
    signatures, and authenticators the core leaves to the framework."""
    world.sync_sequence_numbers()
    out = []
    for _ in range(count):
        roll = draw.integer(0, 19)
        if roll == 0:
            out.append(_other_txn(world, draw))
            continue
        txn, bad = _payment_txn(world, draw)
        if roll == 1:
            txn = _other_authenticator(txn, draw)
        elif bad:
            auth = txn.authenticator
            assert isinstance(auth, Ed25519Authenticator)
            txn = SignedTransaction(txn.raw_txn, Ed25519Authenticator(
                auth.public_key, bytes([auth.signature[0] ^ 1]) + auth.signature[1:]))
        out.append(txn)
    world.pending_parties.clear()  # nothing of these runs: no account or key changes
    world.pending_keys.clear()
    return out


def _other_authenticator(txn: SignedTransaction, draw: Draw) -> SignedTransaction:
    auth = txn.authenticator
    assert isinstance(auth, Ed25519Authenticator)
    if draw.integer(0, 1):
        return SignedTransaction(txn.raw_txn, MultiEd25519Authenticator(auth.public_key, auth.signature + b"\x80\x00\x00\x00"))
    return SignedTransaction(txn.raw_txn, MultiAgentAuthenticator(auth, (), ()))


def _ledger_time(world: World, draw: Draw) -> int:
    roll = draw.integer(0, 9)
    if roll < 6:
        return world.now
    return draw.pick((0, world.now + 1, world.now + 1_000_000, world.now + 3_600_000_000, world.now + 3_601_000_000,
                      U64_MAX))


def admission_round(
    world: World, draw: Draw, cache: NativeDecodedAccounts | None, pool: Mempool, tally: Tally
) -> None:
    """Check drawn transactions one by one and as whole admissions against the committed state;
    ``pool`` is the node's (its native checker keeps what it decoded from state to state)."""
    committed = world.native_view
    if draw.integer(0, 5) == 0:
        committed = corrupted(committed, world, draw)
    shape = draw.pick(("node", "node", "node", "plain", "no cache"))
    view: Any = PlainView(committed) if shape == "plain" else CommittedView(committed, cache if shape == "node" else None)
    chain_id = CHAIN_ID if draw.integer(0, 9) else draw.pick((1, 3, 255, 256, -1))
    now = _ledger_time(world, draw)
    txns = _candidates(world, draw, draw.integer(1, 12))
    for txn in txns:
        check_one(committed, view, pool, txn, chain_id, now, tally)
    check_admissions(committed, view, [txn.to_bcs() for txn in txns], chain_id, now, pool.native_admission)


def evolve(world: World, draw: Draw, cache: NativeDecodedAccounts | None) -> None:
    """A block executed natively with the node's cache, committed to the world (or, sometimes,
    left speculative: the cache is then ahead of the committed state)."""
    txns, corrupt = build_block(world, draw, draw.integer(1, 16))
    if draw.integer(0, 5) == 0:
        p = world.parties
        target = draw.pick(("alice", "bob", "alice1", "bob1", "carol", "dealer"))
        txns.append(party_sign(world, p["tc"], call(
            "TreasuryComplianceScripts", draw.pick(("freeze_account", "unfreeze_account")), (), u64(0),
            p[target].address.value)))
        corrupt.append(False)
    metadata = world.metadata()
    output = execute_block(world.native_view, metadata, txns, chain_id=CHAIN_ID, native=True,
                           cache=cache if cache is not None else DecodedAccounts(),
                           verify=any(corrupt))
    if draw.integer(0, 4) == 0:  # speculative: never committed
        world.pending_parties.clear()
        world.pending_keys.clear()
        return
    world.native_view.apply(output.changed_blobs)
    world.reference_view.apply(output.changed_blobs)
    _settle(world, output)


def run_rounds(world: World, draw: Draw, rounds: int, tally: Tally) -> None:
    cache: NativeDecodedAccounts | None = node_cache()
    pool = Mempool()
    for number in range(rounds):
        if number % 8 == 7:  # a restarted node
            cache = node_cache() if draw.integer(0, 3) else None
            pool = Mempool()
        admission_round(world, draw, cache, pool, tally)
        evolve(world, draw, cache)


@settings(max_examples=int(os.environ.get("LIBRA_DIFF_ADMIT_EXAMPLES", "60")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_native_admission_gives_the_frameworks_answers(data: st.DataObject) -> None:
    draw = HypothesisDraw(data)
    world = base_world()
    run_rounds(world, draw, draw.integer(1, 4), Tally())


def test_a_long_seeded_chain_of_admissions() -> None:
    """One chain, many rounds; most payments answered natively, senders in and out of the cache."""
    rounds = int(os.environ.get("LIBRA_DIFF_ADMIT_ROUNDS", "150"))
    tally = Tally()
    world = base_world()
    run_rounds(world, RandomDraw(int(os.environ.get("LIBRA_DIFF_ADMIT_SEED", "7"))), rounds, tally)
    print(f"\ndiff-admit: {rounds} rounds, {tally.checks} checks, {tally.native} answered natively "
          f"({tally.cached} senders from the cache, {tally.uncached} decoded), statuses {sorted(map(str, tally.statuses))}")
    assert tally.native > tally.checks // 2, "most checks are answered natively"
    assert tally.cached and tally.uncached, "senders both in and out of the ledger's cache"
    assert len(tally.statuses) >= 8, tally.statuses


# --- edge vectors ----------------------------------------------------------------------------


def _answers(world: World, txns: list[SignedTransaction], now: int | None = None,
             cache: NativeDecodedAccounts | None = None) -> list[Any]:
    """Each transaction's native answer (after checking it equals the framework's)."""
    view = CommittedView(world.native_view, cache)
    at = world.now if now is None else now
    pool = Mempool()
    out = []
    for txn in txns:
        data = txn.to_bcs()
        expected = reference_answer(world.native_view, txn, data, CHAIN_ID, at)
        with _core_is(_core):
            found = admission.native_prologue(pool, view, data, CHAIN_ID, at)
        assert found is None or found == expected, (found, expected)
        out.append(found)
    check_admissions(world.native_view, view, [txn.to_bcs() for txn in txns], CHAIN_ID, at)
    return out


def test_each_prologue_outcome_natively() -> None:
    world = base_world()
    world.sync_sequence_numbers()
    p = world.parties
    alice, bob = p["alice"], p["bob"]
    seq = world.seq[alice.address]
    assert seq > 0
    now = world.now // 1_000_000
    stranger = key_of("stranger")

    def pay(**kw: Any) -> SignedTransaction:
        kw.setdefault("expiration", now + 99)
        return sign(kw.pop("key", alice.key), kw.pop("sender", alice.address), kw.pop("seq", seq),
                    payment_function(bob.address, 5), **kw)

    cases = {
        None: pay(),
        "SEQUENCE_NUMBER_TOO_OLD": pay(seq=seq - 1),
        "SEQUENCE_NUMBER_TOO_NEW": pay(seq=seq + 1),
        "SEQUENCE_NUMBER_TOO_BIG": pay(seq=U64_MAX),
        "TRANSACTION_EXPIRED": pay(expiration=now),
        "BAD_CHAIN_ID": pay(chain_id=4),
        "INVALID_AUTH_KEY": pay(key=stranger),
        "SENDING_ACCOUNT_DOES_NOT_EXIST": pay(key=stranger, sender=address_of_key(stranger), seq=0),
        "MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND": pay(max_gas=4_000_001),
        "MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS": pay(max_gas=0),
        "GAS_UNIT_PRICE_ABOVE_MAX_BOUND": pay(price=10_001),
        "INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE": sign(  # a child with 5 × the limit
            p["alice1"].key, p["alice1"].address, world.seq[p["alice1"].address], payment_function(bob.address, 5),
            price=10_000, max_gas=4_000_000, expiration=now + 99),
        "BAD_TRANSACTION_FEE_CURRENCY": pay(currency="BAD"),
        "INVALID_GAS_SPECIFIER": pay(currency="X-Y"),
        "EXCEEDED_MAX_TRANSACTION_SIZE": sign(alice.key, alice.address, seq,
                                               payment_function(bob.address, 5, b"\x00" * 4100), expiration=now + 99),
    }
    answers = _answers(world, list(cases.values()))
    assert [a[0] if a else "declined" for a in answers] == list(cases)
    assert [a[1] for a in answers if a is not None] == [seq] * 7 + [None] + [seq] * 3 + [0] + [seq] * 3


def test_too_old_frozen_and_fees_after_blocks_with_the_cache() -> None:
    world = base_world()
    p = world.parties
    kid_key = key_of("admission-kid")
    kid = Party("kid-admit", kid_key, address_of_key(kid_key), parent="alice")
    cache = node_cache()
    setup = [
        party_sign(world, p["alice"], call("AccountCreationScripts", "create_child_vasp_account", (XUS,),
                                           kid.address.value, bcs_bytes(auth_key_of(kid_key)[:16]), b"\x00", u64(1000))),
        party_sign(world, p["tc"], call("TreasuryComplianceScripts", "freeze_account", (), u64(0), p["bob1"].address.value)),
        payment(world, p["alice"], p["bob"].address, 5),
    ]
    output = execute_block(world.native_view, world.metadata(), setup, chain_id=CHAIN_ID, native=True, cache=cache)
    world.native_view.apply(output.changed_blobs)
    world.sync_sequence_numbers()
    now = world.now // 1_000_000
    alice_blob = world.native_view.get_account_blob(p["alice"].address)
    assert alice_blob is not None and cache.native.find_blob(alice_blob) is not None  # written by the block
    txns = [
        sign(p["alice"].key, p["alice"].address, 0, payment_function(p["bob"].address, 1), expiration=now + 9),
        sign(p["bob1"].key, p["bob1"].address, 0, payment_function(p["bob"].address, 1), expiration=now + 9),
        sign(kid_key, kid.address, 0, payment_function(p["bob"].address, 1), price=10, max_gas=100, expiration=now + 9),
        sign(kid_key, kid.address, 0, payment_function(p["bob"].address, 1), price=10, max_gas=101, expiration=now + 9),
        sign(p["carol"].key, p["carol"].address, 0, payment_function(p["bob"].address, 1), price=1, max_gas=100,
             currency="XDX", expiration=now + 9),
    ]
    answers = _answers(world, txns, cache=cache)
    assert [a[0] if a else "declined" for a in answers] == [
        "SEQUENCE_NUMBER_TOO_OLD", "SENDING_ACCOUNT_FROZEN", None, "INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE",
        "BAD_TRANSACTION_FEE_CURRENCY",  # XDX has no fee pool
    ]


def test_what_the_core_leaves_to_the_framework() -> None:
    """Other payloads and authenticators, and state that does not decode: declined, and the
    framework's answer (or error) is what admission gives."""
    world = base_world()
    world.sync_sequence_numbers()
    p = world.parties
    good = payment(world, p["alice"], p["bob"].address, 5)
    other = party_sign(world, p["tc"], call("TreasuryComplianceScripts", "freeze_account", (), u64(0),
                                            p["bob1"].address.value))
    declined = [_other_authenticator(good, RandomDraw(seed)) for seed in (0, 1, 2, 3)] + [other]
    assert _answers(world, declined) == [None] * len(declined)
    for blob in (b"\x02\x00", b""):
        world.native_view.blobs[p["alice"].address] = blob
        assert _answers(world, [good]) == [None]


def test_a_cache_ahead_of_the_committed_state_is_not_seen() -> None:
    """A speculative block leaves its accounts in the cache; admission against the committed
    state must not see them (they have other blobs)."""
    world = base_world()
    world.sync_sequence_numbers()
    p = world.parties
    cache = node_cache()
    committed_seq = world.seq[p["alice"].address]
    txns = [payment(world, p["alice"], p["bob"].address, 5) for _ in range(3)]
    execute_block(world.native_view.copy(), world.metadata(), txns, chain_id=CHAIN_ID, native=True, cache=cache)
    now = world.now // 1_000_000
    check = sign(p["alice"].key, p["alice"].address, committed_seq + 3, payment_function(p["bob"].address, 1),
                 expiration=now + 9)
    assert _answers(world, [check], cache=cache) == [("SEQUENCE_NUMBER_TOO_NEW", committed_seq)]
