"""Payments: withdraw, deposit and the travel rule (``DiemAccount::pay_from``,
``DiemAccount::deposit``, ``DualAttestation::assert_payment_ok``; diem-protocol.md §8.1, §11).

Check order of a payment (each step aborts the transaction):

1. payer's withdraw capability not extracted (EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED, 1793);
2. payer holds the currency (EPAYER_DOESNT_HOLD_CURRENCY, 4869);
3. ``sentpayment`` emitted; payer not frozen (AccountFreezing EACCOUNT_FROZEN, 1281);
4. balance ≥ amount (EINSUFFICIENT_BALANCE, 1288);
5. payee not frozen (1281); amount > 0 (ECOIN_DEPOSIT_IS_ZERO, 519);
6. payee exists (EPAYEE_DOES_NOT_EXIST, 4357);
7. payee holds the currency (EPAYEE_CANT_ACCEPT_CURRENCY_TYPE, 4615);
8. dual attestation when required or opted into (DualAttestation aborts);
9. funds move; ``receivedpayment`` emitted on the payee.
"""

from __future__ import annotations

from libra.framework.aborts import (
    AccountFreezingAborts,
    DiemAborts,
    DiemAccountAborts,
    DualAttestationAborts,
    FixedPoint32Aborts,
)
from libra.framework.accounts import get_parent_vasp_address
from libra.framework.errors import ensure
from libra.framework.events import ReceivedPaymentEvent, SentPaymentEvent
from libra.framework.resources import (
    CHILD_VASP,
    CREDENTIAL,
    DIEM_ACCOUNT,
    DUAL_ATTESTATION_LIMIT,
    FREEZING_BIT,
    Balance,
    CurrencyInfo,
    DiemAccount,
    balance_kind,
    currency_info_kind,
)
from libra.framework.signature import ed25519_verify
from libra.framework.state import TxnState
from libra.types.move import DIEM_ROOT_ADDRESS, AccountAddress

U64_MAX = (1 << 64) - 1
DUAL_ATTESTATION_DOMAIN_SEPARATOR = b"@@$$DIEM_ATTEST$$@@"
METADATA_SIGNATURE_LENGTH = 64


def is_frozen(state: TxnState, address: AccountAddress) -> bool:
    bit = state.get(address, FREEZING_BIT)
    return bit is not None and bit.is_frozen


def check_not_frozen(state: TxnState, address: AccountAddress) -> None:
    """AccountFreezing EACCOUNT_FROZEN (INVALID_STATE, 1281)."""
    ensure(not is_frozen(state, address), AccountFreezingAborts.EACCOUNT_FROZEN)


def get_currency_info(state: TxnState, code: str) -> CurrencyInfo:
    """CurrencyInfo<code> at 0xA550C18 (Diem ECURRENCY_INFO, NOT_PUBLISHED, 261)."""
    info = state.get(DIEM_ROOT_ADDRESS, currency_info_kind(code))
    ensure(info is not None, DiemAborts.ECURRENCY_INFO)
    assert info is not None
    return info


def compute_fixed_point_multiply(value: int, multiplier: int) -> int:
    """``FixedPoint32::multiply_u64``: (value × multiplier) >> 32, truncating; must fit u64."""
    product = (value * multiplier) >> 32
    ensure(product <= U64_MAX, FixedPoint32Aborts.EMULTIPLICATION)
    return product


def compute_fixed_point_from_rational(numerator: int, denominator: int) -> int:
    """``FixedPoint32::create_from_rational`` → raw value (EDENOMINATOR / ERATIO_OUT_OF_RANGE)."""
    ensure(denominator != 0, FixedPoint32Aborts.EDENOMINATOR)
    quotient = (numerator << 64) // (denominator << 32)
    ensure(quotient != 0 or numerator == 0, FixedPoint32Aborts.ERATIO_OUT_OF_RANGE)
    ensure(quotient <= U64_MAX, FixedPoint32Aborts.ERATIO_TOO_LARGE)
    return quotient


def check_withdraw_capability(state: TxnState, payer: AccountAddress) -> DiemAccount:
    """``extract_withdraw_capability``: EACCOUNT (5) / EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED (1793)."""
    account = state.get(payer, DIEM_ACCOUNT)
    ensure(account is not None, DiemAccountAborts.EACCOUNT)
    assert account is not None
    ensure(account.withdraw_capability is not None, DiemAccountAborts.EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED)
    return account


def apply_withdraw(state: TxnState, payer: AccountAddress, payee: AccountAddress, code: str, amount: int, metadata: bytes) -> None:
    """``withdraw_from``: emit ``sentpayment`` on the payer, then take ``amount`` from its balance."""
    ensure(state.exists(payer, DIEM_ACCOUNT), DiemAccountAborts.EACCOUNT)
    kind = balance_kind(code)
    balance = state.get(payer, kind)
    ensure(balance is not None, DiemAccountAborts.EPAYER_DOESNT_HOLD_CURRENCY)
    assert balance is not None
    info = get_currency_info(state, code)
    account = state.get(payer, DIEM_ACCOUNT)
    assert account is not None
    sent = state.emit(account.sent_events, SentPaymentEvent(amount, info.currency_code, payee, metadata))
    state.put(
        payer,
        DIEM_ACCOUNT,
        DiemAccount(
            account.authentication_key,
            account.withdraw_capability,
            account.key_rotation_capability,
            account.received_events,
            sent,
            account.sequence_number,
        ),
    )
    check_not_frozen(state, payer)
    ensure(balance.coin >= amount, DiemAccountAborts.EINSUFFICIENT_BALANCE)
    state.put(payer, kind, Balance(balance.coin - amount))


def apply_deposit(
    state: TxnState,
    payer: AccountAddress,
    payee: AccountAddress,
    code: str,
    amount: int,
    metadata: bytes,
    metadata_signature: bytes,
    *,
    dual_attestation: bool,
) -> None:
    """``DiemAccount::deposit``: checks the payee (steps 5–8), credits it, emits ``receivedpayment``."""
    check_not_frozen(state, payee)
    ensure(amount > 0, DiemAccountAborts.ECOIN_DEPOSIT_IS_ZERO)
    account = state.get(payee, DIEM_ACCOUNT)
    ensure(account is not None, DiemAccountAborts.EPAYEE_DOES_NOT_EXIST)
    assert account is not None
    kind = balance_kind(code)
    balance = state.get(payee, kind)
    ensure(balance is not None, DiemAccountAborts.EPAYEE_CANT_ACCEPT_CURRENCY_TYPE)
    assert balance is not None
    if dual_attestation:
        check_payment_ok(state, code, payer, payee, amount, metadata, metadata_signature)
    ensure(U64_MAX - balance.coin >= amount, DiemAborts.ECOIN_LIMIT)
    state.put(payee, kind, Balance(balance.coin + amount))
    info = get_currency_info(state, code)
    account = state.get(payee, DIEM_ACCOUNT)
    assert account is not None
    received = state.emit(account.received_events, ReceivedPaymentEvent(amount, info.currency_code, payer, metadata))
    state.put(
        payee,
        DIEM_ACCOUNT,
        DiemAccount(
            account.authentication_key,
            account.withdraw_capability,
            account.key_rotation_capability,
            received,
            account.sent_events,
            account.sequence_number,
        ),
    )


def apply_pay_from(
    state: TxnState,
    payer: AccountAddress,
    payee: AccountAddress,
    code: str,
    amount: int,
    metadata: bytes,
    metadata_signature: bytes,
) -> None:
    """``PaymentScripts::peer_to_peer_with_metadata``: the whole check order of the module docstring."""
    check_withdraw_capability(state, payer)
    apply_withdraw(state, payer, payee, code, amount, metadata)
    apply_deposit(state, payer, payee, code, amount, metadata, metadata_signature, dual_attestation=True)


# --- dual attestation ------------------------------------------------------------------------


def is_dual_attestation_required(
    state: TxnState, code: str, payer: AccountAddress, payee: AccountAddress, amount: int
) -> bool:
    """Required iff amount in micro-XDX ≥ limit, payer ≠ payee, both VASPs, different parents."""
    limit = state.get(DIEM_ROOT_ADDRESS, DUAL_ATTESTATION_LIMIT)
    assert limit is not None, "genesis publishes DualAttestation::Limit"
    rate = get_currency_info(state, code).to_xdx_exchange_rate.value
    if compute_fixed_point_multiply(amount, rate) < limit.micro_xdx_limit:
        return False
    if payer == payee:
        return False
    payer_parent = get_parent_vasp_address(state, payer)
    payee_parent = get_parent_vasp_address(state, payee)
    return payer_parent is not None and payee_parent is not None and payer_parent != payee_parent


def compute_dual_attestation_message(metadata: bytes, payer: AccountAddress, amount: int) -> bytes:
    """metadata ‖ payer (16 bytes) ‖ amount (u64 LE) ‖ ``@@$$DIEM_ATTEST$$@@``."""
    return metadata + payer.value + amount.to_bytes(8, "little") + DUAL_ATTESTATION_DOMAIN_SEPARATOR


def check_payment_ok(
    state: TxnState,
    code: str,
    payer: AccountAddress,
    payee: AccountAddress,
    amount: int,
    metadata: bytes,
    metadata_signature: bytes,
) -> None:
    """``assert_payment_ok``: verify the payee's signature when one is given or the rule requires it.

    Aborts in order: signature not 64 bytes (EMALFORMED_METADATA_SIGNATURE, 775); no credential
    at the payee's parent (ECREDENTIAL, 5); empty compliance key (EPAYEE_COMPLIANCE_KEY_NOT_SET,
    1281); empty base URL (EPAYEE_BASE_URL_NOT_SET, 1537); bad signature (EINVALID_METADATA_SIGNATURE, 1031).
    """
    if not metadata_signature and not is_dual_attestation_required(state, code, payer, payee, amount):
        return
    ensure(len(metadata_signature) == METADATA_SIGNATURE_LENGTH, DualAttestationAborts.EMALFORMED_METADATA_SIGNATURE)
    child = state.get(payee, CHILD_VASP)
    credential_address = child.parent_vasp_addr if child is not None else payee
    credential = state.get(credential_address, CREDENTIAL)
    ensure(credential is not None, DualAttestationAborts.ECREDENTIAL)
    assert credential is not None
    ensure(bool(credential.compliance_public_key), DualAttestationAborts.EPAYEE_COMPLIANCE_KEY_NOT_SET)
    ensure(bool(credential.base_url), DualAttestationAborts.EPAYEE_BASE_URL_NOT_SET)
    message = compute_dual_attestation_message(metadata, payer, amount)
    ensure(
        ed25519_verify(metadata_signature, credential.compliance_public_key, message),
        DualAttestationAborts.EINVALID_METADATA_SIGNATURE,
    )
