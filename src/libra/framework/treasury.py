"""Money supply: designated dealers, minting, preburn/burn, exchange rates, fees
(Diem's ``Diem``, ``DesignatedDealer``, ``TransactionFee`` modules).

Invariants kept by every rule here: for each currency, the sum of all balances,
all preburn queues and the fee pool equals ``CurrencyInfo.total_value``, and the
preburn queues sum to ``CurrencyInfo.preburn_value``; ``total_value`` never exceeds
the attested reserve (``reserve.py``), which only minting could break.
"""

from __future__ import annotations

import dataclasses

from libra.framework.aborts import (
    DesignatedDealerAborts,
    DiemAborts,
    TransactionFeeAborts,
)
from libra.framework.accounts import (
    DESIGNATED_DEALER_ROLE,
    apply_add_currencies_for_account,
    apply_make_account,
    check_designated_dealer_role,
    check_is_currency,
    check_treasury_compliance,
    grant_role,
    new_event_handle,
    publish_credential,
    publish_event_generator,
)
from libra.framework.errors import ensure
from libra.framework.events import (
    BurnEvent,
    CancelBurnEvent,
    MintEvent,
    PreburnEvent,
    ReceivedMintEvent,
    ToXDXExchangeRateUpdateEvent,
)
from libra.framework.payments import (
    apply_deposit,
    apply_withdraw,
    check_withdraw_capability,
    compute_fixed_point_from_rational,
    get_currency_info,
)
from libra.framework.reserve import check_mint_within_reserve
from libra.framework.resources import (
    DEALER,
    DUAL_ATTESTATION_LIMIT,
    CurrencyInfo,
    Dealer,
    FixedPoint32,
    Limit,
    PreburnQueue,
    PreburnWithMetadata,
    TransactionFee,
    burn_capability_kind,
    currency_info_kind,
    mint_capability_kind,
    preburn_queue_kind,
    transaction_fee_kind,
)
from libra.framework.state import TxnState
from libra.types.move import DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, ZERO_ADDRESS, AccountAddress

U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1
MAX_OUTSTANDING_PREBURNS = 256


def _put_info(state: TxnState, code: str, info: CurrencyInfo) -> None:
    state.put(DIEM_ROOT_ADDRESS, currency_info_kind(code), info)


def _with(info: CurrencyInfo, **changes: object) -> CurrencyInfo:
    return dataclasses.replace(info, **changes)  # type: ignore[arg-type]


# --- designated dealers and minting ----------------------------------------------------------


def apply_create_designated_dealer(
    state: TxnState,
    creator: AccountAddress,
    address: AccountAddress,
    auth_key_prefix: bytes,
    human_name: bytes,
    code: str,
    add_all: bool,
) -> None:
    """TC creates a DD: role 2, Dealer (received-mint handle), a preburn queue, credential, account.

    Aborts: sender not TC (258/515); address already has a role (Roles EROLE_ID, 6);
    make_account's; add_currency's.
    """
    check_treasury_compliance(state, creator)
    publish_event_generator(state, address)
    grant_role(state, address, DESIGNATED_DEALER_ROLE)
    ensure(not state.exists(address, DEALER), DesignatedDealerAborts.EDEALER)
    state.put(address, DEALER, Dealer(new_event_handle(state, address)))
    queue_code = "XUS" if add_all else code
    check_is_currency(state, queue_code)
    state.put(address, preburn_queue_kind(queue_code), PreburnQueue(()))
    publish_credential(state, address, human_name)
    apply_make_account(state, address, auth_key_prefix)
    apply_add_currencies_for_account(state, address, code, add_all)


def apply_mint(state: TxnState, minter: AccountAddress, code: str, amount: int) -> None:
    """``Diem::mint``: MintCapability at the minter (EMINT_CAPABILITY, 2308), currency registered,
    minting allowed (EMINTING_NOT_ALLOWED, 1281), no u128 overflow, supply stays within the
    attested reserve (Reserve ERESERVE_NOT_ATTESTED, 261; EMINT_EXCEEDS_RESERVE, 520; see
    ``reserve.py``); ``mint`` event unless synthetic."""
    ensure(state.exists(minter, mint_capability_kind(code)), DiemAborts.EMINT_CAPABILITY)
    info = get_currency_info(state, code)
    ensure(info.can_mint, DiemAborts.EMINTING_NOT_ALLOWED)
    ensure(U128_MAX - info.total_value >= amount, DiemAborts.ECURRENCY_INFO_LIMIT)
    check_mint_within_reserve(state, info, code, amount)
    mint_events = info.mint_events
    if not info.is_synthetic:
        mint_events = state.emit(mint_events, MintEvent(amount, info.currency_code))
    _put_info(state, code, _with(info, total_value=info.total_value + amount, mint_events=mint_events))


def apply_tiered_mint(state: TxnState, tc: AccountAddress, dealer: AccountAddress, code: str, amount: int) -> None:
    """TC mints ``amount`` to a DD: ``receivedmint`` (DD), ``mint`` (currency), ``receivedpayment``
    from 0x0. Aborts: not TC; amount 0 (DesignatedDealer EINVALID_MINT_AMOUNT, 1031); no Dealer at
    the address (EDEALER, 5); the mint aborts; the deposit's aborts."""
    check_treasury_compliance(state, tc)
    ensure(amount > 0, DesignatedDealerAborts.EINVALID_MINT_AMOUNT)
    dealer_resource = state.get(dealer, DEALER)
    ensure(dealer_resource is not None, DesignatedDealerAborts.EDEALER)
    assert dealer_resource is not None
    info = get_currency_info(state, code)
    handle = state.emit(dealer_resource.mint_event_handle, ReceivedMintEvent(info.currency_code, dealer, amount))
    state.put(dealer, DEALER, Dealer(handle))
    apply_mint(state, tc, code, amount)
    apply_deposit(state, ZERO_ADDRESS, dealer, code, amount, b"", b"", dual_attestation=False)


# --- preburn, burn, cancel burn --------------------------------------------------------------


def apply_preburn(state: TxnState, dealer: AccountAddress, code: str, amount: int) -> None:
    """A DD moves ``amount`` from its balance into a new preburn request.

    Events: ``sentpayment`` (to itself), ``preburn``. Aborts: withdraw capability extracted (1793);
    not a DD (Roles EDESIGNATED_DEALER, 1539); the withdrawal's aborts; amount 0 (Diem ECOIN, 1799);
    no preburn queue (EPREBURN_QUEUE, 2817); 256 requests outstanding (EPREBURN_QUEUE, 2824).
    """
    check_withdraw_capability(state, dealer)
    check_designated_dealer_role(state, dealer)
    apply_withdraw(state, dealer, dealer, code, amount, b"")
    ensure(amount > 0, DiemAborts.ECOIN)
    info = get_currency_info(state, code)
    ensure(U64_MAX - info.preburn_value >= amount, DiemAborts.ECOIN_LIMIT)
    preburn_events = info.preburn_events
    if not info.is_synthetic:
        preburn_events = state.emit(preburn_events, PreburnEvent(amount, info.currency_code, dealer))
    _put_info(state, code, _with(info, preburn_value=info.preburn_value + amount, preburn_events=preburn_events))
    queue = state.get(dealer, preburn_queue_kind(code))
    ensure(queue is not None, DiemAborts.EPREBURN_QUEUE_STATE)
    assert queue is not None
    ensure(len(queue.preburns) < MAX_OUTSTANDING_PREBURNS, DiemAborts.EPREBURN_QUEUE_FULL)
    state.put(dealer, preburn_queue_kind(code), PreburnQueue((*queue.preburns, PreburnWithMetadata(amount, b""))))


def apply_remove_preburn(state: TxnState, preburn_address: AccountAddress, code: str, amount: int | None) -> int:
    """Take the first request of ``amount`` (None: the oldest) out of the queue; returns its value.

    Aborts: no queue (EPREBURN_QUEUE, 2821); no matching request (EPREBURN_NOT_FOUND, 3073);
    empty queue for the oldest (EPREBURN_EMPTY, 1025).
    """
    kind = preburn_queue_kind(code)
    queue = state.get(preburn_address, kind)
    ensure(queue is not None, DiemAborts.EPREBURN_QUEUE_MISSING)
    assert queue is not None
    if amount is None:
        ensure(bool(queue.preburns), DiemAborts.EPREBURN_EMPTY)
        index = 0
    else:
        matches = [i for i, request in enumerate(queue.preburns) if request.to_burn == amount]
        ensure(bool(matches), DiemAborts.EPREBURN_NOT_FOUND)
        index = matches[0]
    value = queue.preburns[index].to_burn
    state.put(preburn_address, kind, PreburnQueue(queue.preburns[:index] + queue.preburns[index + 1 :]))
    return value


def apply_burn(state: TxnState, account: AccountAddress, preburn_address: AccountAddress, code: str, amount: int | None) -> None:
    """Destroy a preburn request: total and preburn value drop; ``burn`` event.

    Aborts: no BurnCapability (Diem EBURN_CAPABILITY, 4); the queue aborts.
    """
    ensure(state.exists(account, burn_capability_kind(code)), DiemAborts.EBURN_CAPABILITY)
    value = apply_remove_preburn(state, preburn_address, code, amount)
    info = get_currency_info(state, code)
    burn_events = info.burn_events
    if not info.is_synthetic:
        burn_events = state.emit(burn_events, BurnEvent(value, info.currency_code, preburn_address))
    _put_info(
        state,
        code,
        _with(
            info,
            total_value=info.total_value - value,
            preburn_value=info.preburn_value - value,
            burn_events=burn_events,
        ),
    )


def apply_cancel_burn(state: TxnState, account: AccountAddress, preburn_address: AccountAddress, code: str, amount: int | None) -> None:
    """Return a preburn request to its owner: ``cancelburn`` then ``receivedpayment`` (payer = owner).

    Aborts: unregistered currency (261); no BurnCapability (4); the queue aborts; the deposit's.
    """
    check_is_currency(state, code)
    ensure(state.exists(account, burn_capability_kind(code)), DiemAborts.EBURN_CAPABILITY)
    value = apply_remove_preburn(state, preburn_address, code, amount)
    info = get_currency_info(state, code)
    events = info.cancel_burn_events
    if not info.is_synthetic:
        events = state.emit(events, CancelBurnEvent(value, info.currency_code, preburn_address))
    _put_info(state, code, _with(info, preburn_value=info.preburn_value - value, cancel_burn_events=events))
    apply_deposit(state, preburn_address, preburn_address, code, value, b"", b"", dual_attestation=False)


def apply_burn_txn_fees(state: TxnState, tc: AccountAddress, code: str) -> None:
    """Burn the collected fees of ``code``: ``preburn`` then ``burn`` events on TC's behalf.

    Aborts: not TC; no fee pool (TransactionFee ETRANSACTION_FEE, 5); XDX (1); no BurnCapability (4);
    nothing collected (Diem ECOIN, 1799).
    """
    check_treasury_compliance(state, tc)
    fees = state.get(TREASURY_COMPLIANCE_ADDRESS, transaction_fee_kind(code))
    ensure(fees is not None, TransactionFeeAborts.ETRANSACTION_FEE)
    assert fees is not None
    ensure(code != "XDX", TransactionFeeAborts.ETRANSACTION_FEE_XDX)
    ensure(state.exists(tc, burn_capability_kind(code)), DiemAborts.EBURN_CAPABILITY)
    value = fees.balance
    ensure(value > 0, DiemAborts.ECOIN)
    info = get_currency_info(state, code)
    preburn_events, burn_events = info.preburn_events, info.burn_events
    if not info.is_synthetic:
        preburn_events = state.emit(preburn_events, PreburnEvent(value, info.currency_code, TREASURY_COMPLIANCE_ADDRESS))
        burn_events = state.emit(burn_events, BurnEvent(value, info.currency_code, TREASURY_COMPLIANCE_ADDRESS))
    state.put(TREASURY_COMPLIANCE_ADDRESS, transaction_fee_kind(code), TransactionFee(0, 0))
    _put_info(
        state,
        code,
        _with(info, total_value=info.total_value - value, preburn_events=preburn_events, burn_events=burn_events),
    )


def apply_pay_fee(state: TxnState, code: str, amount: int) -> None:
    """Credit a transaction fee to TC's fee pool of ``code`` (created by genesis for XUS)."""
    kind = transaction_fee_kind(code)
    fees = state.get(TREASURY_COMPLIANCE_ADDRESS, kind)
    assert fees is not None, "the prologue only accepts fee currencies"
    state.put(TREASURY_COMPLIANCE_ADDRESS, kind, TransactionFee(fees.balance + amount, fees.preburn))


# --- rates and limits ------------------------------------------------------------------------


def apply_update_exchange_rate(state: TxnState, tc: AccountAddress, code: str, numerator: int, denominator: int) -> None:
    """Set ``to_xdx_exchange_rate`` = numerator/denominator; ``to_xdx_exchange_rate_update`` event.

    Aborts: FixedPoint32 EDENOMINATOR (7) / ERATIO_OUT_OF_RANGE (1031, 1032); not TC; unregistered (261).
    """
    rate = compute_fixed_point_from_rational(numerator, denominator)
    check_treasury_compliance(state, tc)
    info = get_currency_info(state, code)
    events = state.emit(info.exchange_rate_update_events, ToXDXExchangeRateUpdateEvent(info.currency_code, rate))
    _put_info(state, code, _with(info, to_xdx_exchange_rate=FixedPoint32(rate), exchange_rate_update_events=events))


def apply_update_minting_ability(state: TxnState, tc: AccountAddress, code: str, allow: bool) -> None:
    """TC switches minting of ``code`` on or off. Aborts: not TC; unregistered (261)."""
    check_treasury_compliance(state, tc)
    info = get_currency_info(state, code)
    _put_info(state, code, _with(info, can_mint=allow))


def apply_update_dual_attestation_limit(state: TxnState, tc: AccountAddress, micro_xdx_limit: int) -> None:
    """TC sets the travel-rule threshold (no event). Aborts: not TC (258/515)."""
    check_treasury_compliance(state, tc)
    state.put(DIEM_ROOT_ADDRESS, DUAL_ATTESTATION_LIMIT, Limit(micro_xdx_limit))
