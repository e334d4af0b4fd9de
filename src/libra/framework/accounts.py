"""Accounts and roles: creation, currencies, key rotation, sliding nonces (Diem's
``DiemAccount``, ``Roles``, ``VASP``, ``Event``, ``SlidingNonce`` modules).

Event handles of a new account are created in exactly Diem's order, because the
creation number is part of every event key (diem-protocol.md §8.1, §10):

* parent VASP: compliance-key rotation #0, base-URL rotation #1, received #2, sent #3;
* child VASP, validator, validator operator: received #0, sent #1;
* designated dealer: received-mint #0, compliance #1, base-URL #2, received #3, sent #4.
"""

from __future__ import annotations

from libra.framework.aborts import (
    CoreAddressesAborts,
    DiemAborts,
    DiemAccountAborts,
    RolesAborts,
    SlidingNonceAborts,
    VASPAborts,
)
from libra.framework.codec import EventHandle
from libra.framework.errors import ensure
from libra.framework.events import CreateAccountEvent
from libra.framework.resources import (
    ACCOUNT_OPERATIONS_CAPABILITY,
    CHILD_VASP,
    CREDENTIAL,
    CURRENT_TIME,
    DIEM_ACCOUNT,
    DIEM_ID_DOMAINS,
    EVENT_GENERATOR,
    FREEZING_BIT,
    PARENT_VASP,
    ROLE_ID,
    SLIDING_NONCE,
    Balance,
    ChildVASP,
    Credential,
    DiemAccount,
    DiemIdDomains,
    EventHandleGenerator,
    FreezingBit,
    KeyRotationCapability,
    ParentVASP,
    RoleId,
    SlidingNonce,
    WithdrawCapability,
    balance_kind,
    currency_info_kind,
)
from libra.framework.state import TxnState
from libra.types.move import (
    CORE_CODE_ADDRESS,
    DIEM_ROOT_ADDRESS,
    TREASURY_COMPLIANCE_ADDRESS,
    ZERO_ADDRESS,
    AccountAddress,
)

DIEM_ROOT_ROLE = 0
TREASURY_COMPLIANCE_ROLE = 1
DESIGNATED_DEALER_ROLE = 2
VALIDATOR_ROLE = 3
VALIDATOR_OPERATOR_ROLE = 4
PARENT_VASP_ROLE = 5
CHILD_VASP_ROLE = 6
RESERVE_ATTESTER_ROLE = 7  # not in Diem: an account Diem Root allows to attest reserves (reserve.py)
BALANCE_HOLDING_ROLES = frozenset({DESIGNATED_DEALER_ROLE, PARENT_VASP_ROLE, CHILD_VASP_ROLE})
MAX_CHILD_ACCOUNTS = 256
AUTH_KEY_LENGTH = 32
U64_MAX = (1 << 64) - 1
NONCE_MASK_SIZE = 128
NONCE_JUMP_LIMIT = 10_000


# --- roles ---------------------------------------------------------------------------------


def get_role_id(state: TxnState, address: AccountAddress) -> int | None:
    role = state.get(address, ROLE_ID)
    return role.role_id if role is not None else None


def check_role(state: TxnState, address: AccountAddress, role_id: int, reason: object) -> None:
    """``Roles::assert_*``: a RoleId must be published (EROLE_ID) and equal ``role_id``."""
    role = state.get(address, ROLE_ID)
    ensure(role is not None, RolesAborts.EROLE_ID_MISSING)
    assert role is not None
    ensure(role.role_id == role_id, reason)  # type: ignore[arg-type]


def check_diem_root(state: TxnState, signer: AccountAddress) -> None:
    """Sender must be 0xA550C18 (CoreAddresses EDIEM_ROOT, 2) with role DiemRoot (Roles EDIEM_ROOT, 259)."""
    ensure(signer == DIEM_ROOT_ADDRESS, CoreAddressesAborts.EDIEM_ROOT)
    check_role(state, signer, DIEM_ROOT_ROLE, RolesAborts.EDIEM_ROOT)


def check_treasury_compliance(state: TxnState, signer: AccountAddress) -> None:
    """Sender must be 0xB1E55ED (CoreAddresses ETREASURY_COMPLIANCE, 258) with the TC role (515)."""
    ensure(signer == TREASURY_COMPLIANCE_ADDRESS, CoreAddressesAborts.ETREASURY_COMPLIANCE)
    check_role(state, signer, TREASURY_COMPLIANCE_ROLE, RolesAborts.ETREASURY_COMPLIANCE)


def check_parent_vasp_role(state: TxnState, signer: AccountAddress) -> None:
    """Roles EPARENT_VASP (REQUIRES_ROLE, 771)."""
    check_role(state, signer, PARENT_VASP_ROLE, RolesAborts.EPARENT_VASP)


def check_designated_dealer_role(state: TxnState, signer: AccountAddress) -> None:
    """Roles EDESIGNATED_DEALER (REQUIRES_ROLE, 1539)."""
    check_role(state, signer, DESIGNATED_DEALER_ROLE, RolesAborts.EDESIGNATED_DEALER)


def grant_role(state: TxnState, address: AccountAddress, role_id: int) -> None:
    """Publish a RoleId; the address must not have one (Roles EROLE_ID, ALREADY_PUBLISHED, 6)."""
    ensure(not state.exists(address, ROLE_ID), RolesAborts.EROLE_ID_PUBLISHED)
    state.put(address, ROLE_ID, RoleId(role_id))


def can_hold_balance(state: TxnState, address: AccountAddress) -> bool:
    return get_role_id(state, address) in BALANCE_HOLDING_ROLES


# --- VASPs ---------------------------------------------------------------------------------


def is_vasp(state: TxnState, address: AccountAddress) -> bool:
    return state.exists(address, PARENT_VASP) or state.exists(address, CHILD_VASP)


def get_parent_vasp_address(state: TxnState, address: AccountAddress) -> AccountAddress | None:
    """The parent of a VASP account (itself for a parent), None for non-VASPs."""
    if state.exists(address, PARENT_VASP):
        return address
    child = state.get(address, CHILD_VASP)
    return child.parent_vasp_addr if child is not None else None


# --- event handles ---------------------------------------------------------------------------


def publish_event_generator(state: TxnState, address: AccountAddress) -> None:
    if not state.exists(address, EVENT_GENERATOR):
        state.put(address, EVENT_GENERATOR, EventHandleGenerator(0, address))


def new_event_handle(state: TxnState, address: AccountAddress) -> EventHandle:
    """``Event::new_event_handle``: key = generator counter (u64 LE) ‖ address; counter += 1."""
    generator = state.get(address, EVENT_GENERATOR)
    assert generator is not None, "event generator must be published first"
    state.put(address, EVENT_GENERATOR, EventHandleGenerator(generator.counter + 1, address))
    return EventHandle(0, generator.counter.to_bytes(8, "little") + address.value)


# --- creating accounts ---------------------------------------------------------------------


def compute_authentication_key(auth_key_prefix: bytes, address: AccountAddress) -> bytes:
    """prefix ‖ address must be 32 bytes (DiemAccount EMALFORMED_AUTHENTICATION_KEY, 2055)."""
    key = auth_key_prefix + address.value
    ensure(len(key) == AUTH_KEY_LENGTH, DiemAccountAborts.EMALFORMED_AUTHENTICATION_KEY)
    return key


def apply_make_account(state: TxnState, address: AccountAddress, auth_key_prefix: bytes) -> None:
    """``DiemAccount::make_account``: checks the address, publishes FreezingBit and
    DiemAccount (received then sent handle) and emits ``createaccount`` on Diem Root.

    Aborts: address 0x0 (2567), 0x1 (6151), malformed key (2055).
    """
    ensure(address != ZERO_ADDRESS, DiemAccountAborts.ECANNOT_CREATE_AT_VM_RESERVED)
    ensure(address != CORE_CODE_ADDRESS, DiemAccountAborts.ECANNOT_CREATE_AT_CORE_CODE)
    authentication_key = compute_authentication_key(auth_key_prefix, address)
    state.put(address, FREEZING_BIT, FreezingBit(False))
    operations = state.get(DIEM_ROOT_ADDRESS, ACCOUNT_OPERATIONS_CAPABILITY)
    assert operations is not None, "genesis publishes AccountOperationsCapability"
    role_id = get_role_id(state, address)
    assert role_id is not None
    handle = state.emit(operations.creation_events, CreateAccountEvent(address, role_id))
    state.put(DIEM_ROOT_ADDRESS, ACCOUNT_OPERATIONS_CAPABILITY, type(operations)(operations.limits_cap, handle))
    received = new_event_handle(state, address)
    sent = new_event_handle(state, address)
    state.put(
        address,
        DIEM_ACCOUNT,
        DiemAccount(
            authentication_key,
            WithdrawCapability(address),
            KeyRotationCapability(address),
            received,
            sent,
            0,
        ),
    )


def publish_credential(state: TxnState, address: AccountAddress, human_name: bytes) -> None:
    """``DualAttestation::publish_credential``: empty URL and key, expiration u64::MAX."""
    compliance = new_event_handle(state, address)
    base_url = new_event_handle(state, address)
    state.put(address, CREDENTIAL, Credential(human_name, b"", b"", U64_MAX, compliance, base_url))


def apply_add_currency(state: TxnState, address: AccountAddress, code: str) -> None:
    """``DiemAccount::add_currency<Token>``.

    Aborts: unregistered currency (Diem ECURRENCY_INFO, 261); no account (EACCOUNT, 5);
    role cannot hold balances (EROLE_CANT_STORE_BALANCE, 1031); already held (EADD_EXISTING_CURRENCY, 3846).
    """
    check_is_currency(state, code)
    ensure(state.exists(address, DIEM_ACCOUNT), DiemAccountAborts.EACCOUNT)
    ensure(can_hold_balance(state, address), DiemAccountAborts.EROLE_CANT_STORE_BALANCE)
    kind = balance_kind(code)
    ensure(not state.exists(address, kind), DiemAccountAborts.EADD_EXISTING_CURRENCY)
    state.put(address, kind, Balance(0))


def apply_add_currencies_for_account(state: TxnState, address: AccountAddress, code: str, add_all: bool) -> None:
    """Add ``code``, then XUS and XDX too when ``add_all`` (skipping ones already held)."""
    apply_add_currency(state, address, code)
    if add_all:
        for other in ("XUS", "XDX"):
            if not state.exists(address, balance_kind(other)):
                apply_add_currency(state, address, other)


def check_is_currency(state: TxnState, code: str) -> None:
    """``Diem::assert_is_currency``: CurrencyInfo<code> published (ECURRENCY_INFO, NOT_PUBLISHED, 261)."""
    ensure(state.exists(DIEM_ROOT_ADDRESS, currency_info_kind(code)), DiemAborts.ECURRENCY_INFO)


def apply_create_parent_vasp_account(
    state: TxnState,
    creator: AccountAddress,
    address: AccountAddress,
    auth_key_prefix: bytes,
    human_name: bytes,
    code: str,
    add_all: bool,
) -> None:
    """TC creates a parent VASP: role 5, ParentVASP{0}, credential, empty DiemIdDomains, account, balance(s).

    Aborts: sender not TC (258/515); address already has a role (Roles EROLE_ID, 6); make_account's;
    add_currency's.
    """
    check_treasury_compliance(state, creator)
    grant_role(state, address, PARENT_VASP_ROLE)
    state.put(address, PARENT_VASP, ParentVASP(0))
    publish_event_generator(state, address)
    publish_credential(state, address, human_name)
    state.put(address, DIEM_ID_DOMAINS, DiemIdDomains(()))
    apply_make_account(state, address, auth_key_prefix)
    apply_add_currencies_for_account(state, address, code, add_all)


def apply_create_child_vasp_account(
    state: TxnState,
    parent: AccountAddress,
    address: AccountAddress,
    auth_key_prefix: bytes,
    code: str,
    add_all: bool,
) -> None:
    """A parent VASP creates a child: role 6, ChildVASP{parent}, account, balance(s).

    Aborts: sender not a parent VASP (Roles EPARENT_VASP, 771); address taken (Roles EROLE_ID, 6);
    parent has 256 children (VASP ETOO_MANY_CHILDREN, 264); make_account's; add_currency's.
    """
    check_parent_vasp_role(state, parent)
    grant_role(state, address, CHILD_VASP_ROLE)
    parent_vasp = state.get(parent, PARENT_VASP)
    ensure(parent_vasp is not None, VASPAborts.ENOT_A_PARENT_VASP)
    assert parent_vasp is not None
    ensure(parent_vasp.num_children < MAX_CHILD_ACCOUNTS, VASPAborts.ETOO_MANY_CHILDREN)
    state.put(parent, PARENT_VASP, ParentVASP(parent_vasp.num_children + 1))
    state.put(address, CHILD_VASP, ChildVASP(parent))
    publish_event_generator(state, address)
    apply_make_account(state, address, auth_key_prefix)
    apply_add_currencies_for_account(state, address, code, add_all)


# --- sequence numbers, keys, nonces ---------------------------------------------------------


def get_account(state: TxnState, address: AccountAddress) -> DiemAccount | None:
    return state.get(address, DIEM_ACCOUNT)


def apply_rotate_authentication_key(state: TxnState, address: AccountAddress, new_key: bytes) -> None:
    """Extract, use and restore the key-rotation capability.

    Aborts: capability delegated (EKEY_ROTATION_CAPABILITY_ALREADY_EXTRACTED, 2305);
    ``new_key`` not 32 bytes (EMALFORMED_AUTHENTICATION_KEY, 2055).
    """
    account = state.get(address, DIEM_ACCOUNT)
    ensure(account is not None, DiemAccountAborts.EACCOUNT)
    assert account is not None
    ensure(account.key_rotation_capability is not None, DiemAccountAborts.EKEY_ROTATION_CAPABILITY_ALREADY_EXTRACTED)
    ensure(len(new_key) == AUTH_KEY_LENGTH, DiemAccountAborts.EMALFORMED_AUTHENTICATION_KEY)
    state.put(
        address,
        DIEM_ACCOUNT,
        DiemAccount(
            new_key,
            account.withdraw_capability,
            account.key_rotation_capability,
            account.received_events,
            account.sent_events,
            account.sequence_number,
        ),
    )


def apply_record_nonce(state: TxnState, signer: AccountAddress, nonce: int) -> None:
    """``SlidingNonce::record_nonce_or_abort`` over a window of 128 nonces.

    0 is never recorded. Aborts: no SlidingNonce (ESLIDING_NONCE, 5); below the window
    (ENONCE_TOO_OLD, 263); ≥ min + 10000 (ENONCE_TOO_NEW, 519); seen (ENONCE_ALREADY_RECORDED, 775).
    """
    if nonce == 0:
        return
    current = state.get(signer, SLIDING_NONCE)
    ensure(current is not None, SlidingNonceAborts.ESLIDING_NONCE)
    assert current is not None
    min_nonce, mask = compute_nonce_window(current, nonce)
    state.put(signer, SLIDING_NONCE, SlidingNonce(min_nonce, mask))


def compute_nonce_window(current: SlidingNonce, nonce: int) -> tuple[int, int]:
    """The (min_nonce, mask) after recording ``nonce``; raises the SlidingNonce aborts."""
    min_nonce, mask = current.min_nonce, current.nonce_mask
    ensure(min_nonce <= nonce, SlidingNonceAborts.ENONCE_TOO_OLD)
    ensure(nonce < min_nonce + NONCE_JUMP_LIMIT, SlidingNonceAborts.ENONCE_TOO_NEW)
    bit_pos = nonce - min_nonce
    if bit_pos >= NONCE_MASK_SIZE:
        shift = bit_pos - NONCE_MASK_SIZE + 1
        if shift >= NONCE_MASK_SIZE:
            mask = 0
            min_nonce = nonce + 1 - NONCE_MASK_SIZE
        else:
            mask >>= shift
            min_nonce += shift
    bit = 1 << (nonce - min_nonce)
    ensure(mask & bit == 0, SlidingNonceAborts.ENONCE_ALREADY_RECORDED)
    return min_nonce, mask | bit


def get_now_microseconds(state: TxnState) -> int:
    clock = state.get(DIEM_ROOT_ADDRESS, CURRENT_TIME)
    return clock.microseconds if clock is not None else 0
