"""Typed read views of on-chain state for the JSON-RPC layer, which never parses resources itself.

* :func:`get_account_view` / :func:`decode_account_view`: an account's roles, balances
  (sorted by currency code), event keys, credential, domains, frozen flag, preburns;
* :func:`get_currency_views`: the registered currencies in registration order;
* :func:`get_chain_view`: chain id, epoch, time, limit, version, validator set;
* :func:`get_reserve_views`: per non-synthetic currency, supply against its attested reserve.
"""

from __future__ import annotations

from dataclasses import dataclass

from libra.framework.resources import (
    BLOCK_METADATA,
    CHAIN_ID,
    CHILD_VASP,
    CONFIGURATION,
    CREDENTIAL,
    CURRENT_TIME,
    DEALER,
    DIEM_ACCOUNT,
    DIEM_ID_DOMAIN_MANAGER,
    DIEM_ID_DOMAINS,
    DIEM_SYSTEM_CONFIG,
    DIEM_VERSION_CONFIG,
    DUAL_ATTESTATION_LIMIT,
    FREEZING_BIT,
    PARENT_VASP,
    PUBLISHING_OPTION_CONFIG,
    REGISTERED_CURRENCIES_CONFIG,
    ROLE_ID,
    ValidatorInfo,
    currency_info_kind,
    kind_for_path,
    reserve_attestation_kind,
)
from libra.framework.state import BlockState, StateView
from libra.types.move import DIEM_ROOT_ADDRESS, AccountAddress
from libra.types.write_set import EventKey

ROLE_NAMES = {
    0: "diem_root",
    1: "treasury_compliance",
    2: "designated_dealer",
    3: "validator",
    4: "validator_operator",
    5: "parent_vasp",
    6: "child_vasp",
}


@dataclass(frozen=True, slots=True)
class CredentialView:
    human_name: bytes
    base_url: bytes
    compliance_key: bytes
    expiration_time: int
    compliance_key_rotation_events_key: EventKey
    base_url_rotation_events_key: EventKey


@dataclass(frozen=True, slots=True)
class PreburnView:
    amount: int
    metadata: bytes


@dataclass(frozen=True, slots=True)
class AccountView:
    """Everything Diem's ``get_account`` shows; ``role`` is a name from :data:`ROLE_NAMES` or ``unknown``."""

    address: AccountAddress
    authentication_key: bytes
    sequence_number: int
    balances: tuple[tuple[str, int], ...]
    sent_events_key: EventKey
    received_events_key: EventKey
    delegated_key_rotation_capability: bool
    delegated_withdrawal_capability: bool
    is_frozen: bool
    role: str
    credential: CredentialView | None = None
    num_children: int | None = None
    parent_vasp_address: AccountAddress | None = None
    diem_id_domains: tuple[bytes, ...] | None = None
    received_mint_events_key: EventKey | None = None
    preburn_queues: tuple[tuple[str, tuple[PreburnView, ...]], ...] = ()
    diem_id_domain_events_key: EventKey | None = None

    @property
    def preburn_balances(self) -> tuple[tuple[str, int], ...]:
        return tuple((code, sum(p.amount for p in queue)) for code, queue in self.preburn_queues)


@dataclass(frozen=True, slots=True)
class CurrencyView:
    code: str
    scaling_factor: int
    fractional_part: int
    to_xdx_exchange_rate_raw: int
    total_value: int
    preburn_value: int
    is_synthetic: bool
    can_mint: bool
    mint_events_key: EventKey
    burn_events_key: EventKey
    preburn_events_key: EventKey
    cancel_burn_events_key: EventKey
    exchange_rate_update_events_key: EventKey

    @property
    def to_xdx_exchange_rate(self) -> float:
        """The FixedPoint32 rate as a float (as Diem's JSON-RPC shows it)."""
        return self.to_xdx_exchange_rate_raw / (1 << 32)


@dataclass(frozen=True, slots=True)
class ReserveView:
    """One currency's supply and the reserve attested for it (None fields: never attested).

    ``total_value`` is the whole supply (preburn included: it is redeemed only when burned).
    """

    code: str
    scaling_factor: int
    total_value: int
    preburn_value: int
    reserve: int | None
    as_of_usecs: int | None
    report_hash: bytes | None
    attester: AccountAddress | None
    attestation_events_key: EventKey | None

    @property
    def is_covered(self) -> bool:
        """Supply within the attested reserve (a currency with supply and no attestation is not)."""
        return self.total_value <= (self.reserve or 0)


@dataclass(frozen=True, slots=True)
class ChainView:
    chain_id: int
    epoch: int
    block_height: int
    timestamp_usecs: int
    dual_attestation_limit: int
    diem_version: int
    script_hash_allow_list: tuple[bytes, ...]
    module_publishing_allowed: bool
    validators: tuple[ValidatorInfo, ...]
    new_epoch_events_key: EventKey
    new_block_events_key: EventKey


class _OneBlob:
    def __init__(self, address: AccountAddress, blob: bytes) -> None:
        self._address, self._blob = address, blob

    def get_account_blob(self, address: AccountAddress) -> bytes | None:
        return self._blob if address == self._address else None


def decode_account_view(address: AccountAddress, blob: bytes) -> AccountView | None:
    """The view of one account blob (None when it holds no DiemAccount)."""
    return get_account_view(_OneBlob(address, blob), address)


def _collect_generic(state: BlockState, address: AccountAddress) -> tuple[list[tuple[str, int]], list[tuple[str, tuple[PreburnView, ...]]]]:
    balances, queues = [], []
    for path in state.raw_account(address):
        found = kind_for_path(path)
        if found is None:
            continue
        kind, code = found
        if code is None:
            continue
        value = state.read(address, kind)
        if kind.tag.name == "Balance":
            balances.append((code, value.coin))  # type: ignore[union-attr]
        elif kind.tag.name == "PreburnQueue":
            queues.append((code, tuple(PreburnView(p.to_burn, p.metadata) for p in value.preburns)))  # type: ignore[union-attr]
    return sorted(balances), sorted(queues)


def get_account_view(view: StateView, address: AccountAddress) -> AccountView | None:
    state = BlockState(view)
    account = state.read(address, DIEM_ACCOUNT)
    if account is None:
        return None
    role_id = state.read(address, ROLE_ID)
    role = ROLE_NAMES.get(role_id.role_id, "unknown") if role_id is not None else "unknown"
    frozen = state.read(address, FREEZING_BIT)
    credential = state.read(address, CREDENTIAL)
    credential_view = None
    if credential is not None:
        credential_view = CredentialView(
            credential.human_name,
            credential.base_url,
            credential.compliance_public_key,
            credential.expiration_date,
            EventKey(credential.compliance_key_rotation_events.guid),
            EventKey(credential.base_url_rotation_events.guid),
        )
    parent = state.read(address, PARENT_VASP)
    child = state.read(address, CHILD_VASP)
    domains = state.read(address, DIEM_ID_DOMAINS)
    dealer = state.read(address, DEALER)
    manager = state.read(address, DIEM_ID_DOMAIN_MANAGER)
    balances, queues = _collect_generic(state, address)
    return AccountView(
        address=address,
        authentication_key=account.authentication_key,
        sequence_number=account.sequence_number,
        balances=tuple(balances),
        sent_events_key=EventKey(account.sent_events.guid),
        received_events_key=EventKey(account.received_events.guid),
        delegated_key_rotation_capability=account.key_rotation_capability is None,
        delegated_withdrawal_capability=account.withdraw_capability is None,
        is_frozen=frozen is not None and frozen.is_frozen,
        role=role,
        credential=credential_view,
        num_children=parent.num_children if parent is not None else None,
        parent_vasp_address=child.parent_vasp_addr if child is not None else None,
        diem_id_domains=tuple(d.domain for d in domains.domains) if domains is not None else None,
        received_mint_events_key=EventKey(dealer.mint_event_handle.guid) if dealer is not None else None,
        preburn_queues=tuple(queues),
        diem_id_domain_events_key=EventKey(manager.diem_id_domain_events.guid) if manager is not None else None,
    )


def get_currency_views(view: StateView) -> tuple[CurrencyView, ...]:
    state = BlockState(view)
    registered = state.read(DIEM_ROOT_ADDRESS, REGISTERED_CURRENCIES_CONFIG)
    if registered is None:
        return ()
    out = []
    for raw_code in registered.currency_codes:
        code = raw_code.decode()
        info = state.read(DIEM_ROOT_ADDRESS, currency_info_kind(code))
        if info is None:
            continue
        out.append(
            CurrencyView(
                code, info.scaling_factor, info.fractional_part, info.to_xdx_exchange_rate.value,
                info.total_value, info.preburn_value, info.is_synthetic, info.can_mint,
                EventKey(info.mint_events.guid), EventKey(info.burn_events.guid),
                EventKey(info.preburn_events.guid), EventKey(info.cancel_burn_events.guid),
                EventKey(info.exchange_rate_update_events.guid),
            )
        )
    return tuple(out)


def get_chain_view(view: StateView) -> ChainView:
    state = BlockState(view)
    dr = DIEM_ROOT_ADDRESS
    chain, config = state.read(dr, CHAIN_ID), state.read(dr, CONFIGURATION)
    block, clock = state.read(dr, BLOCK_METADATA), state.read(dr, CURRENT_TIME)
    limit, version = state.read(dr, DUAL_ATTESTATION_LIMIT), state.read(dr, DIEM_VERSION_CONFIG)
    option, system = state.read(dr, PUBLISHING_OPTION_CONFIG), state.read(dr, DIEM_SYSTEM_CONFIG)
    assert chain and config and block and clock and limit and version and option and system, "not a genesis state"
    return ChainView(
        chain.id, config.epoch, block.height, clock.microseconds, limit.micro_xdx_limit, version.major,
        option.script_allow_list, option.module_publishing_allowed, system.validators,
        EventKey(config.events.guid), EventKey(block.new_block_events.guid),
    )


def get_reserve_views(view: StateView) -> tuple[ReserveView, ...]:
    """Every registered non-synthetic currency, in registration order, with its attestation."""
    state = BlockState(view)
    registered = state.read(DIEM_ROOT_ADDRESS, REGISTERED_CURRENCIES_CONFIG)
    if registered is None:
        return ()
    out = []
    for raw_code in registered.currency_codes:
        code = raw_code.decode()
        info = state.read(DIEM_ROOT_ADDRESS, currency_info_kind(code))
        if info is None or info.is_synthetic:
            continue
        attestation = state.read(DIEM_ROOT_ADDRESS, reserve_attestation_kind(code))
        if attestation is None:
            out.append(ReserveView(code, info.scaling_factor, info.total_value, info.preburn_value, None, None, None, None, None))
            continue
        out.append(
            ReserveView(
                code, info.scaling_factor, info.total_value, info.preburn_value, attestation.reserve,
                attestation.as_of_usecs, attestation.report_hash, attestation.attester,
                EventKey(attestation.attestation_events.guid),
            )
        )
    return tuple(out)
