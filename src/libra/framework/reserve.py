"""Attested reserves: what backs each currency, and supply never above it (module ``Reserve``).

Each non-synthetic currency ``C`` has a ``Reserve::Attestation<C>`` at Diem Root: the
amount its custodian holds (micro-units of ``C``), the as-of time of the custodian's
report, the SHA3-256 of that report (the report itself stays off chain) and who attested.
Genesis attests a starting reserve; afterwards attestations come from Treasury Compliance
or from accounts Diem Root gives the Reserve Attester role.

The invariant these rules keep, at every version and for every currency::

    CurrencyInfo<C>.total_value  <=  Attestation<C>.reserve

* minting checks it (``EMINT_EXCEEDS_RESERVE``); burning only lowers supply;
* an attestation below the current supply is refused (``ERESERVE_BELOW_SUPPLY``): the
  issuer redeems or burns first. The refused transaction stays on chain with its abort
  code, so a reported shortfall is visible to a supervisor even though it changes nothing.
"""

from __future__ import annotations

from libra.framework.aborts import ReserveAborts
from libra.framework.accounts import (
    RESERVE_ATTESTER_ROLE,
    TREASURY_COMPLIANCE_ROLE,
    apply_make_account,
    check_diem_root,
    get_now_microseconds,
    get_role_id,
    grant_role,
    new_event_handle,
    publish_event_generator,
)
from libra.framework.errors import ensure
from libra.framework.events import ReserveAttestationEvent
from libra.framework.payments import get_currency_info
from libra.framework.resources import (
    SLIDING_NONCE,
    CurrencyInfo,
    ReserveAttestation,
    SlidingNonce,
    reserve_attestation_kind,
)
from libra.framework.state import TxnState
from libra.types.move import DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress

REPORT_HASH_LENGTH = 32


def get_reserve_attestation(state: TxnState, code: str) -> ReserveAttestation | None:
    """The current attestation of ``code`` (None: never attested)."""
    return state.get(DIEM_ROOT_ADDRESS, reserve_attestation_kind(code))


def is_reserve_attester(state: TxnState, signer: AccountAddress) -> bool:
    """Treasury Compliance (its address and role) or an account with the Reserve Attester role."""
    role = get_role_id(state, signer)
    if signer == TREASURY_COMPLIANCE_ADDRESS:
        return role == TREASURY_COMPLIANCE_ROLE
    return role == RESERVE_ATTESTER_ROLE


def check_reserve_attester(state: TxnState, signer: AccountAddress) -> None:
    """Reserve EATTESTER (REQUIRES_ROLE, 3) unless :func:`is_reserve_attester`."""
    ensure(is_reserve_attester(state, signer), ReserveAborts.EATTESTER)


def check_mint_within_reserve(state: TxnState, info: CurrencyInfo, code: str, amount: int) -> None:
    """A mint of ``amount`` keeps supply within the attested reserve.

    Aborts: no attestation (ERESERVE_NOT_ATTESTED, 261); ``total_value + amount`` above
    the attested reserve (EMINT_EXCEEDS_RESERVE, 520). Minting exactly up to it is allowed.
    """
    attestation = get_reserve_attestation(state, code)
    ensure(attestation is not None, ReserveAborts.ERESERVE_NOT_ATTESTED)
    assert attestation is not None
    ensure(info.total_value + amount <= attestation.reserve, ReserveAborts.EMINT_EXCEEDS_RESERVE)


def apply_attest_reserve(
    state: TxnState, attester: AccountAddress, code: str, reserve: int, as_of_usecs: int, report_hash: bytes
) -> None:
    """Record that ``reserve`` micro-units of ``code`` were held as of ``as_of_usecs``.

    Event: ``ReserveAttestationEvent`` (with the supply it covers) on the attestation's
    handle, created at Diem Root with the first attestation.
    Aborts in order: signer not allowed (Reserve EATTESTER, 3); unregistered currency
    (Diem ECURRENCY_INFO, 261); synthetic currency (ECURRENCY_NOT_BACKED, 1799); report hash
    not 32 bytes (EMALFORMED_REPORT_HASH, 1031); as-of after the chain's clock
    (EATTESTATION_IN_FUTURE, 1543); as-of before the current attestation's
    (ESTALE_ATTESTATION, 1287); reserve below the current supply (ERESERVE_BELOW_SUPPLY, 776).
    """
    check_reserve_attester(state, attester)
    info = get_currency_info(state, code)
    ensure(not info.is_synthetic, ReserveAborts.ECURRENCY_NOT_BACKED)
    ensure(len(report_hash) == REPORT_HASH_LENGTH, ReserveAborts.EMALFORMED_REPORT_HASH)
    ensure(as_of_usecs <= get_now_microseconds(state), ReserveAborts.EATTESTATION_IN_FUTURE)
    previous = get_reserve_attestation(state, code)
    if previous is not None:
        ensure(as_of_usecs >= previous.as_of_usecs, ReserveAborts.ESTALE_ATTESTATION)
    ensure(reserve >= info.total_value, ReserveAborts.ERESERVE_BELOW_SUPPLY)
    handle = previous.attestation_events if previous is not None else new_event_handle(state, DIEM_ROOT_ADDRESS)
    handle = state.emit(
        handle, ReserveAttestationEvent(info.currency_code, reserve, as_of_usecs, report_hash, attester, info.total_value)
    )
    state.put(
        DIEM_ROOT_ADDRESS,
        reserve_attestation_kind(code),
        ReserveAttestation(reserve, as_of_usecs, report_hash, attester, handle),
    )


def apply_create_reserve_attester_account(
    state: TxnState, dr: AccountAddress, address: AccountAddress, auth_key_prefix: bytes
) -> None:
    """Diem Root creates an account with the Reserve Attester role (7): it can attest
    reserves and nothing else (it holds no balances; it sends with gas price 0).

    Published: RoleId, an event generator, a SlidingNonce (its scripts take one), the account
    (received #0, sent #1). Aborts: sender not Diem Root (CoreAddresses EDIEM_ROOT, 2;
    Roles EDIEM_ROOT, 259); the address has a role (Roles EROLE_ID, 6); make_account's.
    """
    check_diem_root(state, dr)
    grant_role(state, address, RESERVE_ATTESTER_ROLE)
    publish_event_generator(state, address)
    state.put(address, SLIDING_NONCE, SlidingNonce(0, 0))
    apply_make_account(state, address, auth_key_prefix)
