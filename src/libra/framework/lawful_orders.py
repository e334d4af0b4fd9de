"""Lawful orders: Treasury Compliance seizes a frozen account's funds (module ``LawfulOrder``).

An order first freezes the account (``freeze_account``), then moves its funds to an
account the order designates or burns them. On chain there is only the order's
reference hash (32 bytes, e.g. SHA3-256 of the court's case reference): no names, no
case details. Events, in order:

* ``sentpayment`` on the frozen account (payee: the destination, or ``0x0`` when burned);
* ``receivedpayment`` on the destination (payer: the frozen account), or ``burn`` on the
  currency (preburn address: the frozen account) with supply lowered by the amount;
* ``FundsSeizedEvent {order_hash, target, destination, currency_code, amount, burned}``
  on Treasury Compliance's order stream.

Money stays consistent: a seizure moves a balance (supply unchanged), a burn removes it
from balances and supply alike, so supply = balances + preburn + fees holds, and supply
never rises, so it stays within the attested reserve.
"""

from __future__ import annotations

import dataclasses

from libra.framework.aborts import DiemAborts, DiemAccountAborts, LawfulOrderAborts
from libra.framework.accounts import check_treasury_compliance, new_event_handle
from libra.framework.errors import ensure
from libra.framework.events import BurnEvent, FundsSeizedEvent, SentPaymentEvent
from libra.framework.payments import apply_deposit, get_currency_info, is_frozen
from libra.framework.resources import (
    DIEM_ACCOUNT,
    LAWFUL_ORDERS,
    Balance,
    LawfulOrders,
    balance_kind,
    burn_capability_kind,
    currency_info_kind,
)
from libra.framework.state import TxnState
from libra.types.move import DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, ZERO_ADDRESS, AccountAddress

ORDER_HASH_LENGTH = 32


def _take_from_frozen(
    state: TxnState, tc: AccountAddress, target: AccountAddress, payee: AccountAddress, code: str, amount: int, order_hash: bytes
) -> None:
    """Checks common to both orders, then debit ``target`` and emit its ``sentpayment``.

    Aborts in order: not TC (CoreAddresses ETREASURY_COMPLIANCE, 258; Roles, 515); order hash
    not 32 bytes (LawfulOrder EMALFORMED_ORDER_HASH, 7); target not frozen (ETARGET_NOT_FROZEN,
    257); amount 0 (EZERO_AMOUNT, 519); target holds no such balance (DiemAccount
    EPAYER_DOESNT_HOLD_CURRENCY, 4869); balance below the amount (EINSUFFICIENT_BALANCE, 1288).
    """
    check_treasury_compliance(state, tc)
    ensure(len(order_hash) == ORDER_HASH_LENGTH, LawfulOrderAborts.EMALFORMED_ORDER_HASH)
    ensure(is_frozen(state, target), LawfulOrderAborts.ETARGET_NOT_FROZEN)
    ensure(amount > 0, LawfulOrderAborts.EZERO_AMOUNT)
    kind = balance_kind(code)
    balance = state.get(target, kind)
    ensure(balance is not None, DiemAccountAborts.EPAYER_DOESNT_HOLD_CURRENCY)
    assert balance is not None
    ensure(balance.coin >= amount, DiemAccountAborts.EINSUFFICIENT_BALANCE)
    account = state.get(target, DIEM_ACCOUNT)
    ensure(account is not None, DiemAccountAborts.EACCOUNT)
    assert account is not None
    info = get_currency_info(state, code)
    sent = state.emit(account.sent_events, SentPaymentEvent(amount, info.currency_code, payee, b""))
    state.put(target, DIEM_ACCOUNT, dataclasses.replace(account, sent_events=sent))
    state.put(target, kind, Balance(balance.coin - amount))


def _record_order(state: TxnState, event: FundsSeizedEvent) -> None:
    """Emit on TC's order stream (its handle is created with the first order if genesis had none)."""
    orders = state.get(TREASURY_COMPLIANCE_ADDRESS, LAWFUL_ORDERS)
    handle = orders.order_events if orders is not None else new_event_handle(state, TREASURY_COMPLIANCE_ADDRESS)
    state.put(TREASURY_COMPLIANCE_ADDRESS, LAWFUL_ORDERS, LawfulOrders(state.emit(handle, event)))


def apply_seize_frozen_funds(
    state: TxnState,
    tc: AccountAddress,
    target: AccountAddress,
    destination: AccountAddress,
    code: str,
    amount: int,
    order_hash: bytes,
) -> None:
    """Move ``amount`` of ``code`` from frozen ``target`` to the ``destination`` the order names.

    Aborts: those of the common checks (see ``_take_from_frozen``); destination is the target
    (EDESTINATION_IS_TARGET, 775); the deposit's: destination frozen (AccountFreezing
    EACCOUNT_FROZEN, 1281), missing (EPAYEE_DOES_NOT_EXIST, 4357) or without the currency
    (EPAYEE_CANT_ACCEPT_CURRENCY_TYPE, 4615). No travel-rule check: the payer is an order.
    """
    _take_from_frozen(state, tc, target, destination, code, amount, order_hash)
    ensure(destination != target, LawfulOrderAborts.EDESTINATION_IS_TARGET)
    apply_deposit(state, target, destination, code, amount, b"", b"", dual_attestation=False)
    info = get_currency_info(state, code)
    _record_order(state, FundsSeizedEvent(order_hash, target, destination, info.currency_code, amount, False))


def apply_burn_frozen_funds(
    state: TxnState, tc: AccountAddress, target: AccountAddress, code: str, amount: int, order_hash: bytes
) -> None:
    """Burn ``amount`` of ``code`` held by frozen ``target``: its balance and the supply drop.

    Aborts: those of the common checks (see ``_take_from_frozen``); TC holds no BurnCapability
    for the currency (Diem EBURN_CAPABILITY, 4).
    """
    _take_from_frozen(state, tc, target, ZERO_ADDRESS, code, amount, order_hash)
    ensure(state.exists(tc, burn_capability_kind(code)), DiemAborts.EBURN_CAPABILITY)
    info = get_currency_info(state, code)
    burn_events = info.burn_events
    if not info.is_synthetic:
        burn_events = state.emit(burn_events, BurnEvent(amount, info.currency_code, target))
    state.put(
        DIEM_ROOT_ADDRESS,
        currency_info_kind(code),
        dataclasses.replace(info, total_value=info.total_value - amount, burn_events=burn_events),
    )
    _record_order(state, FundsSeizedEvent(order_hash, target, ZERO_ADDRESS, info.currency_code, amount, True))
