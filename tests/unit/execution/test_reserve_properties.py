"""Money invariants with attested reserves and lawful orders, over random transaction sequences
(hypothesis), checked at every version (each transaction is its own block):

* supply <= attested reserve, per currency;
* supply = balances + preburn queues + fee pool, and preburn_value = the queues' sum
  (attestations, mints, redemptions, seizures and burns of frozen funds included);
* only the allowed roles attest (TC, Reserve Attesters) or seize (TC); every other role
  aborts with the named code (Reserve EATTESTER 3; CoreAddresses ETREASURY_COMPLIANCE 258).
"""

from __future__ import annotations

import numpy as np
from diem import stdlib
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from testchain import XUS, Account, TestChain, sdk_address, status_of

from libra.client import builders
from libra.framework.resources import transaction_fee_kind
from libra.framework.state import BlockState
from libra.framework.views import get_account_view, get_currency_views, get_reserve_views
from libra.types.move import TREASURY_COMPLIANCE_ADDRESS

ORDER = bytes(range(32))
REPORT = bytes(range(32, 64))
_BASE: dict[str, object] = {}


def base() -> tuple[TestChain, dict[str, Account]]:
    """A chain whose reserve is close to its supply (so mints can reach it), with every role."""
    if not _BASE:
        chain = TestChain(dd_balance=10**10, initial_reserve=10**10 + 10**8)
        accounts = {
            "alice": chain.new_parent_vasp("alice", fund=10**8),
            "bob": chain.new_parent_vasp("bob", fund=10**8),
            "dealer": chain.new_dd("dealer"),
            "attester": chain.new_reserve_attester("attester"),
            "dd": chain.dd_account,
            "tc": chain.tc_account,
            "root": chain.root_account,
        }
        accounts["child"] = chain.new_child_vasp(accounts["alice"], "alice-child", initial=10**6)
        chain.pay(chain.dd_account, accounts["dealer"], 10**8)
        _BASE.update(chain=chain, accounts=accounts, view=chain.view.copy(), seq=dict(chain.seq), now=chain.now, round=chain.round)
    chain = _BASE["chain"]  # type: ignore[assignment]
    chain.view, chain.seq = _BASE["view"].copy(), dict(_BASE["seq"])  # type: ignore[attr-defined]
    chain.now, chain.round = _BASE["now"], _BASE["round"]  # type: ignore[attr-defined]
    return chain, dict(_BASE["accounts"])  # type: ignore[call-overload, return-value]


HOLDERS = ["alice", "bob", "child", "dealer", "dd"]
SIGNERS = ["tc", "tc", "tc", "attester", "attester", "root", "alice", "child", "dealer", "dd"]
ATTEST_ALLOWED = {"tc", "attester"}
KINDS = ["pay", "attest", "attest", "mint", "mint", "preburn", "burn", "freeze", "unfreeze", "seize", "burnfrozen",
         "freeze+seize", "freeze+burnfrozen", "preburn+burn", "fee", "burnfees"]
# amounts, some relative to what the state allows: "headroom" = reserve - supply
AMOUNTS = st.sampled_from([0, 1, 999, 10**6, 10**8, "headroom", "headroom+1", "supply-1", "supply", "supply+1", "balance"])

ACTIONS = st.lists(
    st.tuples(st.sampled_from(KINDS), st.sampled_from(SIGNERS), st.sampled_from(HOLDERS), st.sampled_from(HOLDERS), AMOUNTS),
    min_size=1,
    max_size=16,
)


def figures(chain: TestChain) -> tuple[int, int, int]:
    """(supply, preburn value, attested reserve) of XUS."""
    info = get_currency_views(chain.view)[0]
    (reserve,) = get_reserve_views(chain.view)
    assert reserve.reserve is not None
    return info.total_value, info.preburn_value, reserve.reserve


def held(chain: TestChain) -> tuple[int, int]:
    """(balances + queues + fee pool, queues) of XUS over every account in the state."""
    balances = queues = 0
    for address in chain.view.blobs:
        view = get_account_view(chain.view, address)
        if view is not None:
            balances += dict(view.balances).get("XUS", 0)
            queues += dict(view.preburn_balances).get("XUS", 0)
    fees = BlockState(chain.view).read(TREASURY_COMPLIANCE_ADDRESS, transaction_fee_kind("XUS"))
    return balances + queues + (fees.balance if fees else 0), queues


def amount_of(choice: object, chain: TestChain, holder: Account) -> int:
    supply, _, reserve = figures(chain)
    if isinstance(choice, int):
        return choice
    balance = chain.balance(holder.address) if chain.account(holder.address) else 0
    value = {"headroom": reserve - supply, "headroom+1": reserve - supply + 1, "supply-1": supply - 1,
             "supply": supply, "supply+1": supply + 1, "balance": balance}[str(choice)]
    return max(0, min(value, (1 << 64) - 1))


DEALER_KINDS = ("mint", "preburn", "burn")


def transaction(chain: TestChain, accounts: dict[str, Account], kind: str, signer: str, a: str, b: str, amount: int):  # type: ignore[no-untyped-def]
    tc, holder, other = accounts["tc"], accounts[a], accounts[b]
    if kind == "pay":
        return chain.p2p(holder, other.address, amount)
    if kind == "fee":
        return chain.p2p(holder, other.address, amount, price=1, max_gas=50, currency="XUS")
    if kind == "attest":
        return chain.sign_function(accounts[signer], builders.attest_reserve("XUS", 0, amount, chain.now, REPORT))
    if kind == "mint":
        return chain.sign(tc, stdlib.encode_tiered_mint_script_function(XUS, np.uint64(0), sdk_address(accounts["dealer"].address), np.uint64(amount), np.uint64(0)))
    if kind == "preburn":
        return chain.sign_function(accounts["dealer"], builders.preburn("XUS", amount))
    if kind == "burn":
        return chain.sign_function(tc, builders.burn_with_amount("XUS", 0, accounts["dealer"].address, amount))
    if kind in ("freeze", "unfreeze"):
        build = builders.freeze_account if kind == "freeze" else builders.unfreeze_account
        return chain.sign_function(tc, build(0, holder.address))
    if kind == "seize":
        return chain.sign_function(accounts[signer], builders.seize_frozen_funds("XUS", 0, holder.address, other.address, amount, ORDER))
    if kind == "burnfrozen":
        return chain.sign_function(accounts[signer], builders.burn_frozen_funds("XUS", 0, holder.address, amount, ORDER))
    assert kind == "burnfees"
    return chain.sign(tc, stdlib.encode_burn_txn_fees_script_function(XUS))


def expand(actions: list[tuple[str, str, str, str, object]]) -> list[tuple[str, str, str, str, object]]:
    """``freeze+X``: TC freezes the target first (so that orders find frozen accounts);
    ``preburn+burn``: the dealer preburns what TC then burns (a whole redemption)."""
    out = []
    for kind, signer, a, b, choice in actions:
        first, plus, second = kind.partition("+")
        if plus:
            out.append((first, "tc", a, b, 0 if first == "freeze" else choice))
            kind = second
        out.append((kind, signer, a, b, choice))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(ACTIONS)
def test_supply_stays_within_the_reserve_and_equals_what_is_held(actions):
    chain, accounts = base()
    for kind, signer, a, b, choice in expand(actions):
        before = figures(chain)
        amount = amount_of(choice, chain, accounts["dealer" if kind in DEALER_KINDS else a])
        if kind == "attest" and isinstance(choice, int):
            amount = before[0] + choice  # a report of the supply and a little more
        txn = transaction(chain, accounts, kind, signer, a, b, amount)
        out = chain.run(txn)
        status = status_of(out)
        supply, preburn, reserve = figures(chain)
        # at every version: supply within the attested reserve; everything issued is held somewhere
        assert supply <= reserve, (kind, choice, supply, reserve)
        assert held(chain) == (supply, preburn)
        # supply moves only as the rules say
        if status[0] != "Executed":
            assert (supply, preburn) == before[:2]
        elif kind == "mint":
            assert supply > before[0]
        elif kind in ("burn", "burnfrozen", "burnfees"):
            assert supply < before[0]
        elif kind != "fee":
            assert supply == before[0]
        # roles: who may attest and seize; everyone else aborts with the named code
        if status[0] == "Discarded":
            pass  # a frozen sender sends nothing (checked by test_properties.py)
        elif kind == "attest":
            if signer in ATTEST_ALLOWED:
                assert status[1] != 3, status
            else:
                assert status == ("MoveAbortStatus", 3, "EATTESTER"), (signer, status)
        elif kind in ("seize", "burnfrozen") and signer != "tc":
            assert status == ("MoveAbortStatus", 258, "ETREASURY_COMPLIANCE"), (signer, status)
        # the reserve refuses exactly the mints that would pass it
        if kind == "mint" and amount > 0:
            assert (status == ("MoveAbortStatus", 520, "EMINT_EXCEEDS_RESERVE")) == (before[0] + amount > before[2]), status
        event(f"{kind} {status[0]} {status[2] or ''}".strip())


def test_a_mint_past_the_reserve_is_the_only_thing_the_reserve_refuses():
    """The boundary, deterministically: exactly the headroom mints, one more aborts with 520."""
    chain, accounts = base()
    supply, _, reserve = figures(chain)
    mint = stdlib.encode_tiered_mint_script_function
    dealer = sdk_address(accounts["dealer"].address)
    over = chain.run(chain.sign(accounts["tc"], mint(XUS, np.uint64(0), dealer, np.uint64(reserve - supply + 1), np.uint64(0))))
    assert status_of(over) == ("MoveAbortStatus", 520, "EMINT_EXCEEDS_RESERVE")
    exact = chain.run(chain.sign(accounts["tc"], mint(XUS, np.uint64(0), dealer, np.uint64(reserve - supply), np.uint64(0))))
    assert status_of(exact) == ("Executed", None, None)
    assert figures(chain)[0] == reserve
    # an attester's new report raises the reserve; minting resumes up to it
    raised = chain.run(chain.sign_function(accounts["attester"], builders.attest_reserve("XUS", 0, reserve + 7, chain.now, REPORT)))
    assert status_of(raised) == ("Executed", None, None)
    assert status_of(chain.run(chain.sign(accounts["tc"], mint(XUS, np.uint64(0), dealer, np.uint64(7), np.uint64(0))))) == ("Executed", None, None)
    assert status_of(chain.run(chain.sign(accounts["tc"], mint(XUS, np.uint64(0), dealer, np.uint64(1), np.uint64(0))))) == ("MoveAbortStatus", 520, "EMINT_EXCEEDS_RESERVE")
