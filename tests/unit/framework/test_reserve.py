"""Attested reserves and lawful orders (framework/reserve.py, framework/lawful_orders.py),
through signed transactions on the in-memory chain: every rule, every abort, and the
roles allowed to attest and to seize (each other role aborts with the named code)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from diem import stdlib
from testchain import XUS, Account, Key, TestChain, sdk_address, status_of

from libra.client import builders
from libra.framework.events import FundsSeizedEvent, ReserveAttestationEvent, decode_event_data
from libra.framework.genesis import DEFAULT_INITIAL_RESERVE, GENESIS_RESERVE_REPORT
from libra.framework.views import get_currency_views, get_reserve_views
from libra.types.move import TREASURY_COMPLIANCE_ADDRESS, ZERO_ADDRESS, AccountAddress

ABORT = "MoveAbortStatus"
EXECUTED = ("Executed", None, None)
REPORT = hashlib.sha3_256(b"custodian report, March").digest()
ORDER = hashlib.sha3_256(b"case 2024-117, order 3").digest()


def expect(out, code: int, reason: str, module: str) -> None:  # type: ignore[no-untyped-def]
    assert status_of(out) == (ABORT, code, reason), out.status
    assert out.status.location.endswith("::" + module)
    assert out.events == ()


def executed(out) -> None:  # type: ignore[no-untyped-def]
    assert status_of(out) == EXECUTED, out.status


def supply(chain: TestChain) -> int:
    return get_currency_views(chain.view)[0].total_value


def reserve_view(chain: TestChain):  # type: ignore[no-untyped-def]
    (view,) = get_reserve_views(chain.view)
    return view


def attest(chain: TestChain, signer: Account, amount: int, as_of: int | None = None, report: bytes = REPORT, code: str = "XUS"):  # type: ignore[no-untyped-def]
    as_of = chain.now if as_of is None else as_of
    return chain.run(chain.sign_function(signer, builders.attest_reserve(code, 0, amount, as_of, report)))


def mint(chain: TestChain, dealer: Account, amount: int):  # type: ignore[no-untyped-def]
    payload = stdlib.encode_tiered_mint_script_function(XUS, np.uint64(0), sdk_address(dealer.address), np.uint64(amount), np.uint64(0))
    return chain.run(chain.sign(chain.tc_account, payload))


def freeze(chain: TestChain, account: Account) -> None:
    executed(chain.run(chain.sign(chain.tc_account, stdlib.encode_freeze_account_script_function(np.uint64(0), sdk_address(account.address)))))


def seize(chain: TestChain, signer: Account, target: Account, destination: AccountAddress, amount: int, order: bytes = ORDER):  # type: ignore[no-untyped-def]
    return chain.run(chain.sign_function(signer, builders.seize_frozen_funds("XUS", 0, target.address, destination, amount, order)))


def burn_frozen(chain: TestChain, signer: Account, target: Account, amount: int, order: bytes = ORDER):  # type: ignore[no-untyped-def]
    return chain.run(chain.sign_function(signer, builders.burn_frozen_funds("XUS", 0, target.address, amount, order)))


def governed_account(chain: TestChain, label: str, build) -> Account:  # type: ignore[no-untyped-def]
    key = Key.from_seed(label)
    executed(chain.run(chain.sign_function(chain.root_account, build(0, key.address, key.prefix, label.encode()))))
    return Account(key, key.address)


@pytest.fixture(scope="module")
def base():  # type: ignore[no-untyped-def]
    chain = TestChain()
    roles = {
        "diem_root": chain.root_account,
        "treasury_compliance": chain.tc_account,
        "designated_dealer": chain.dd_account,
        "parent_vasp": chain.new_parent_vasp("alice", fund=10**9),
        "validator": governed_account(chain, "validator-x", builders.create_validator_account),
        "validator_operator": governed_account(chain, "operator-x", builders.create_validator_operator_account),
        "reserve_attester": chain.new_reserve_attester("custodian-auditor"),
    }
    roles["child_vasp"] = chain.new_child_vasp(roles["parent_vasp"], "alice-child", initial=10**6)
    bob = chain.new_parent_vasp("bob", fund=10**9)
    dealer = chain.new_dd("dealer")
    return chain, roles, bob, dealer, chain.view.copy(), dict(chain.seq)


@pytest.fixture
def env(base):  # type: ignore[no-untyped-def]
    chain, roles, bob, dealer, view, seq = base
    chain.view, chain.seq = view.copy(), dict(seq)
    return chain, roles, bob, dealer


# --- genesis ---------------------------------------------------------------------------------


def test_genesis_attests_the_starting_reserve_and_covers_its_mint():
    chain = TestChain()
    view = reserve_view(chain)
    assert (view.code, view.reserve, view.as_of_usecs) == ("XUS", DEFAULT_INITIAL_RESERVE, 0)
    assert view.report_hash == hashlib.sha3_256(GENESIS_RESERVE_REPORT).digest()
    assert view.attester == TREASURY_COMPLIANCE_ADDRESS and view.is_covered
    assert view.total_value == (1 << 63) - 1  # the testnet DD's balance
    attestations = [decode_event_data(e.type_tag, e.event_data) for e in chain.genesis.change_set.events]
    (event,) = [e for e in attestations if isinstance(e, ReserveAttestationEvent)]
    # attested before the DD's mint: it covered a supply of 0
    assert (event.reserve, event.total_value, event.currency_code) == (DEFAULT_INITIAL_RESERVE, 0, b"XUS")
    # Diem's handles keep their creation numbers; the attestation takes Diem Root's #18
    assert view.attestation_events_key.value[:8] == (18).to_bytes(8, "little")
    # XDX is synthetic: no reserve of its own
    assert [v.code for v in get_reserve_views(chain.view)] == ["XUS"]


def test_a_genesis_mint_past_its_reserve_is_refused():
    from libra.framework.errors import MoveAbort

    with pytest.raises(MoveAbort, match="EMINT_EXCEEDS_RESERVE"):
        TestChain(dd_balance=1_000, initial_reserve=999)


# --- attesting -------------------------------------------------------------------------------


def test_attestation_records_figures_and_emits_an_event(env):
    chain, roles, _, _ = env
    out = attest(chain, roles["reserve_attester"], supply(chain) + 5)
    executed(out)
    view = reserve_view(chain)
    assert (view.reserve, view.report_hash, view.attester) == (supply(chain) + 5, REPORT, roles["reserve_attester"].address)
    (event,) = out.events
    data = decode_event_data(event.type_tag, event.event_data)
    assert data == ReserveAttestationEvent(b"XUS", supply(chain) + 5, view.as_of_usecs, REPORT, roles["reserve_attester"].address, supply(chain))
    assert event.key.value == view.attestation_events_key.value


@pytest.mark.parametrize(
    "role,allowed",
    [
        ("treasury_compliance", True), ("reserve_attester", True), ("diem_root", False), ("designated_dealer", False),
        ("parent_vasp", False), ("child_vasp", False), ("validator", False), ("validator_operator", False),
    ],
)
def test_only_treasury_compliance_and_reserve_attesters_attest(env, role, allowed):
    chain, roles, _, _ = env
    out = attest(chain, roles[role], supply(chain) + 1)
    if allowed:
        executed(out)
    else:
        expect(out, 3, "EATTESTER", "Reserve")


def test_attestation_aborts(env):
    chain, roles, _, _ = env
    tc = roles["treasury_compliance"]
    current = supply(chain)
    expect(attest(chain, tc, current - 1), 776, "ERESERVE_BELOW_SUPPLY", "Reserve")
    expect(attest(chain, tc, current, report=REPORT[:31]), 1031, "EMALFORMED_REPORT_HASH", "Reserve")
    expect(attest(chain, tc, current, as_of=chain.now + 10_000_000), 1543, "EATTESTATION_IN_FUTURE", "Reserve")
    expect(attest(chain, tc, current, code="XDX"), 1799, "ECURRENCY_NOT_BACKED", "Reserve")
    expect(attest(chain, tc, current, code="ABC"), 261, "ECURRENCY_INFO", "Diem")
    executed(attest(chain, tc, current))  # exactly the supply is covered
    later = reserve_view(chain).as_of_usecs
    expect(attest(chain, tc, current, as_of=later - 1), 1287, "ESTALE_ATTESTATION", "Reserve")
    executed(attest(chain, tc, current, as_of=later))


# --- minting against the reserve ---------------------------------------------------------------


def test_minting_stops_at_the_attested_reserve(env):
    chain, roles, _, dealer = env
    executed(attest(chain, roles["treasury_compliance"], supply(chain) + 1_000))
    executed(mint(chain, dealer, 600))
    executed(mint(chain, dealer, 400))  # exactly up to the reserve
    assert supply(chain) == reserve_view(chain).reserve
    expect(mint(chain, dealer, 1), 520, "EMINT_EXCEEDS_RESERVE", "Reserve")
    assert chain.balance(dealer.address) == 1_000


def test_redemption_lowers_supply_and_makes_room_to_mint(env):
    chain, roles, _, dealer = env
    executed(attest(chain, roles["treasury_compliance"], supply(chain) + 1_000))
    executed(mint(chain, dealer, 1_000))
    before = supply(chain)
    executed(chain.run(chain.sign_function(dealer, builders.preburn("XUS", 300))))
    assert supply(chain) == before  # preburned money is still in supply until burned
    executed(chain.run(chain.sign_function(chain.tc_account, builders.burn_with_amount("XUS", 0, dealer.address, 300))))
    assert supply(chain) == before - 300
    executed(mint(chain, dealer, 300))
    expect(mint(chain, dealer, 1), 520, "EMINT_EXCEEDS_RESERVE", "Reserve")


def test_a_chain_without_attestation_cannot_mint(env):
    from testchain import mutate

    from libra.framework.resources import reserve_attestation_kind
    from libra.types.move import DIEM_ROOT_ADDRESS

    chain, _, _, dealer = env
    mutate(chain, DIEM_ROOT_ADDRESS, reserve_attestation_kind("XUS"), None)  # a store from before reserves
    expect(mint(chain, dealer, 1), 261, "ERESERVE_NOT_ATTESTED", "Reserve")
    executed(attest(chain, chain.tc_account, supply(chain) + 1))  # the first attestation creates the record
    executed(mint(chain, dealer, 1))


# --- reserve attester accounts -----------------------------------------------------------------


def test_only_diem_root_creates_reserve_attesters(env):
    chain, roles, _, _ = env
    key = Key.from_seed("would-be attester")
    for role in ("treasury_compliance", "parent_vasp", "reserve_attester"):
        out = chain.run(chain.sign_function(roles[role], builders.create_reserve_attester_account(0, key.address, key.prefix)))
        expect(out, 2, "EDIEM_ROOT", "CoreAddresses")
    out = chain.run(chain.sign_function(chain.root_account, builders.create_reserve_attester_account(0, roles["parent_vasp"].address, key.prefix)))
    expect(out, 6, "EROLE_ID", "Roles")
    account = chain.account(roles["reserve_attester"].address)
    assert account is not None and account.role == "unknown" and account.balances == ()


# --- lawful orders ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["diem_root", "designated_dealer", "parent_vasp", "child_vasp", "validator", "validator_operator", "reserve_attester"]
)
def test_only_treasury_compliance_seizes_or_burns(env, role):
    chain, roles, bob, _ = env
    target = roles["parent_vasp"] if role != "parent_vasp" else bob
    freeze(chain, target)
    signer = roles[role]
    expect(seize(chain, signer, target, chain.dd_account.address, 10), 258, "ETREASURY_COMPLIANCE", "CoreAddresses")
    expect(burn_frozen(chain, signer, target, 10), 258, "ETREASURY_COMPLIANCE", "CoreAddresses")


def test_seizure_moves_funds_of_a_frozen_account_with_the_order_hash_only(env):
    chain, roles, bob, _ = env
    alice = roles["parent_vasp"]
    freeze(chain, alice)
    before, total = chain.balance(alice.address), supply(chain)
    out = seize(chain, chain.tc_account, alice, bob.address, 250_000)
    executed(out)
    assert chain.balance(alice.address) == before - 250_000 and chain.balance(bob.address) == 10**9 + 250_000
    assert supply(chain) == total
    names = [e.type_tag.name for e in out.events]
    assert names == ["SentPaymentEvent", "ReceivedPaymentEvent", "FundsSeizedEvent"]
    data = decode_event_data(out.events[-1].type_tag, out.events[-1].event_data)
    assert data == FundsSeizedEvent(ORDER, alice.address, bob.address, b"XUS", 250_000, False)
    assert out.events[-1].key.address == TREASURY_COMPLIANCE_ADDRESS
    assert chain.account(alice.address).is_frozen  # still frozen: the order does not lift it


def test_burning_frozen_funds_lowers_balance_and_supply(env):
    chain, roles, _, _ = env
    alice = roles["parent_vasp"]
    freeze(chain, alice)
    before, total = chain.balance(alice.address), supply(chain)
    out = burn_frozen(chain, chain.tc_account, alice, before)
    executed(out)
    assert chain.balance(alice.address) == 0 and supply(chain) == total - before
    assert [e.type_tag.name for e in out.events] == ["SentPaymentEvent", "BurnEvent", "FundsSeizedEvent"]
    data = decode_event_data(out.events[-1].type_tag, out.events[-1].event_data)
    assert data == FundsSeizedEvent(ORDER, alice.address, ZERO_ADDRESS, b"XUS", before, True)
    assert reserve_view(chain).is_covered


def test_lawful_order_aborts(env):
    chain, roles, bob, _ = env
    tc, alice, child = chain.tc_account, roles["parent_vasp"], roles["child_vasp"]
    expect(seize(chain, tc, alice, bob.address, 1), 257, "ETARGET_NOT_FROZEN", "LawfulOrder")
    expect(burn_frozen(chain, tc, alice, 1), 257, "ETARGET_NOT_FROZEN", "LawfulOrder")
    freeze(chain, alice)
    expect(seize(chain, tc, alice, bob.address, 1, order=b"ref"), 7, "EMALFORMED_ORDER_HASH", "LawfulOrder")
    expect(seize(chain, tc, alice, bob.address, 0), 519, "EZERO_AMOUNT", "LawfulOrder")
    expect(seize(chain, tc, alice, alice.address, 1), 775, "EDESTINATION_IS_TARGET", "LawfulOrder")
    expect(seize(chain, tc, alice, bob.address, 10**12), 1288, "EINSUFFICIENT_BALANCE", "DiemAccount")
    expect(seize(chain, tc, alice, roles["validator"].address, 1), 4615, "EPAYEE_CANT_ACCEPT_CURRENCY_TYPE", "DiemAccount")
    expect(seize(chain, tc, alice, Key.from_seed("nobody").address, 1), 4357, "EPAYEE_DOES_NOT_EXIST", "DiemAccount")
    freeze(chain, child)
    expect(seize(chain, tc, alice, child.address, 1), 1281, "EACCOUNT_FROZEN", "AccountFreezing")
    frozen_validator = roles["validator"]
    freeze(chain, frozen_validator)
    expect(burn_frozen(chain, tc, frozen_validator, 1), 4869, "EPAYER_DOESNT_HOLD_CURRENCY", "DiemAccount")
    out = chain.run(chain.sign_function(tc, builders.burn_frozen_funds("XDX", 0, alice.address, 1, ORDER)))
    expect(out, 4869, "EPAYER_DOESNT_HOLD_CURRENCY", "DiemAccount")  # alice holds no XDX balance
