"""Compliance rules: freezing, Diem ID domains, dual-attestation credentials
(Diem's ``AccountFreezing``, ``DiemId``, ``DualAttestation`` modules).
"""

from __future__ import annotations

from libra.framework.aborts import AccountFreezingAborts, DiemIdAborts, DualAttestationAborts
from libra.framework.accounts import check_parent_vasp_role, check_treasury_compliance, get_now_microseconds
from libra.framework.errors import ensure
from libra.framework.events import (
    BaseUrlRotationEvent,
    ComplianceKeyRotationEvent,
    DiemIdDomainEvent,
    FreezeAccountEvent,
    UnfreezeAccountEvent,
)
from libra.framework.resources import (
    CREDENTIAL,
    DIEM_ID_DOMAIN_MANAGER,
    DIEM_ID_DOMAINS,
    FREEZE_EVENTS_HOLDER,
    FREEZING_BIT,
    Credential,
    DiemIdDomain,
    DiemIdDomainManager,
    DiemIdDomains,
    FreezeEventsHolder,
    FreezingBit,
)
from libra.framework.signature import ed25519_validate_pubkey
from libra.framework.state import TxnState
from libra.types.move import DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress

MAX_DOMAIN_LENGTH = 63
MICROS_PER_SECOND = 1_000_000


# --- freezing --------------------------------------------------------------------------------


def apply_freeze_account(state: TxnState, tc: AccountAddress, target: AccountAddress) -> None:
    """TC freezes ``target``; ``FreezeAccountEvent`` on Diem Root's freeze handle.

    Aborts: not TC (258/515); target is Diem Root (ECANNOT_FREEZE_DIEM_ROOT, 775) or TC
    (ECANNOT_FREEZE_TC, 1031); no FreezingBit (EFREEZING_BIT, 517).
    """
    check_treasury_compliance(state, tc)
    ensure(target != DIEM_ROOT_ADDRESS, AccountFreezingAborts.ECANNOT_FREEZE_DIEM_ROOT)
    ensure(target != TREASURY_COMPLIANCE_ADDRESS, AccountFreezingAborts.ECANNOT_FREEZE_TC)
    ensure(state.exists(target, FREEZING_BIT), AccountFreezingAborts.EFREEZING_BIT)
    state.put(target, FREEZING_BIT, FreezingBit(True))
    holder = state.get(DIEM_ROOT_ADDRESS, FREEZE_EVENTS_HOLDER)
    assert holder is not None
    handle = state.emit(holder.freeze_event_handle, FreezeAccountEvent(tc, target))
    state.put(DIEM_ROOT_ADDRESS, FREEZE_EVENTS_HOLDER, FreezeEventsHolder(handle, holder.unfreeze_event_handle))


def apply_unfreeze_account(state: TxnState, tc: AccountAddress, target: AccountAddress) -> None:
    """TC unfreezes ``target``; ``UnfreezeAccountEvent``. Aborts: not TC; no FreezingBit (517)."""
    check_treasury_compliance(state, tc)
    ensure(state.exists(target, FREEZING_BIT), AccountFreezingAborts.EFREEZING_BIT)
    state.put(target, FREEZING_BIT, FreezingBit(False))
    holder = state.get(DIEM_ROOT_ADDRESS, FREEZE_EVENTS_HOLDER)
    assert holder is not None
    handle = state.emit(holder.unfreeze_event_handle, UnfreezeAccountEvent(tc, target))
    state.put(DIEM_ROOT_ADDRESS, FREEZE_EVENTS_HOLDER, FreezeEventsHolder(holder.freeze_event_handle, handle))


# --- Diem ID domains -------------------------------------------------------------------------


def _check_domain_change(state: TxnState, tc: AccountAddress, address: AccountAddress, domain: bytes) -> DiemIdDomains:
    check_treasury_compliance(state, tc)
    ensure(state.exists(TREASURY_COMPLIANCE_ADDRESS, DIEM_ID_DOMAIN_MANAGER), DiemIdAborts.EDIEM_ID_DOMAIN_MANAGER)
    domains = state.get(address, DIEM_ID_DOMAINS)
    ensure(domains is not None, DiemIdAborts.EDIEM_ID_DOMAINS_NOT_PUBLISHED)
    assert domains is not None
    ensure(len(domain) <= MAX_DOMAIN_LENGTH, DiemIdAborts.EINVALID_DIEM_ID_DOMAIN)
    return domains


def _emit_domain_event(state: TxnState, event: DiemIdDomainEvent) -> None:
    manager = state.get(TREASURY_COMPLIANCE_ADDRESS, DIEM_ID_DOMAIN_MANAGER)
    assert manager is not None
    handle = state.emit(manager.diem_id_domain_events, event)
    state.put(TREASURY_COMPLIANCE_ADDRESS, DIEM_ID_DOMAIN_MANAGER, DiemIdDomainManager(handle))


def apply_add_diem_id_domain(state: TxnState, tc: AccountAddress, address: AccountAddress, domain: bytes) -> None:
    """TC adds ``domain`` (exact bytes) to a parent VASP; ``diemiddomain`` event {removed: false}.

    Aborts: not TC (258/515); no manager (EDIEM_ID_DOMAIN_MANAGER, 261); target has no
    DiemIdDomains (1029); longer than 63 bytes (EINVALID_DIEM_ID_DOMAIN, 1287); present (EDOMAIN_ALREADY_EXISTS, 775).
    """
    domains = _check_domain_change(state, tc, address, domain)
    entry = DiemIdDomain(domain)
    ensure(entry not in domains.domains, DiemIdAborts.EDOMAIN_ALREADY_EXISTS)
    state.put(address, DIEM_ID_DOMAINS, DiemIdDomains((*domains.domains, entry)))
    _emit_domain_event(state, DiemIdDomainEvent(False, domain, address))


def apply_remove_diem_id_domain(state: TxnState, tc: AccountAddress, address: AccountAddress, domain: bytes) -> None:
    """TC removes ``domain``; ``diemiddomain`` event {removed: true}. Aborts as adding, and
    absent domain (EDOMAIN_NOT_FOUND, 519)."""
    domains = _check_domain_change(state, tc, address, domain)
    entry = DiemIdDomain(domain)
    ensure(entry in domains.domains, DiemIdAborts.EDOMAIN_NOT_FOUND)
    index = domains.domains.index(entry)
    state.put(address, DIEM_ID_DOMAINS, DiemIdDomains(domains.domains[:index] + domains.domains[index + 1 :]))
    _emit_domain_event(state, DiemIdDomainEvent(True, domain, address))


def apply_create_diem_id_domains(state: TxnState, account: AccountAddress) -> None:
    """A parent VASP publishes an empty DiemIdDomains. Aborts: not a parent VASP (771);
    already published (EDIEM_ID_DOMAIN, 6)."""
    check_parent_vasp_role(state, account)
    ensure(not state.exists(account, DIEM_ID_DOMAINS), DiemIdAborts.EDIEM_ID_DOMAIN)
    state.put(account, DIEM_ID_DOMAINS, DiemIdDomains(()))


# --- credentials -----------------------------------------------------------------------------


def apply_rotate_dual_attestation_info(state: TxnState, account: AccountAddress, new_url: bytes, new_key: bytes) -> None:
    """Set base URL then compliance key; events ``baseurlrotation`` then ``compliancekeyrotation``
    stamped with the block time in seconds.

    Aborts: no credential (ECREDENTIAL, 5); ``new_key`` not a valid Ed25519 key (EINVALID_PUBLIC_KEY, 519).
    """
    now_seconds = get_now_microseconds(state) // MICROS_PER_SECOND
    credential = state.get(account, CREDENTIAL)
    ensure(credential is not None, DualAttestationAborts.ECREDENTIAL)
    assert credential is not None
    url_events = state.emit(credential.base_url_rotation_events, BaseUrlRotationEvent(new_url, now_seconds))
    ensure(ed25519_validate_pubkey(new_key), DualAttestationAborts.EINVALID_PUBLIC_KEY)
    key_events = state.emit(
        credential.compliance_key_rotation_events, ComplianceKeyRotationEvent(new_key, now_seconds)
    )
    state.put(
        account,
        CREDENTIAL,
        Credential(
            credential.human_name,
            new_url,
            new_key,
            credential.expiration_date,
            key_events,
            url_events,
        ),
    )
