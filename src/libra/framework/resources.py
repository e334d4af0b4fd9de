"""On-chain resources, each a frozen dataclass mirroring a Move struct of Diem's framework.

An account's state is a map ``resource path -> resource bytes`` where the path is
``0x01 ‖ BCS(StructTag)`` (Diem's ``AccessPath::resource_access_vec``), and the
bytes are the BCS of the struct below. :class:`ResourceKind` ties a struct tag,
its path and its Python class together; generic resources (``Balance<XUS>``)
get one kind per currency from the ``*_kind(code)`` functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Generic, TypeVar

from libra.bcs import BcsError, Deserializer, encode_uleb128
from libra.framework.codec import (
    ADDRESS,
    BOOL,
    BYTES,
    EVENT_HANDLE,
    U8,
    U64,
    U128,
    EventHandle,
    MoveStruct,
    option_of,
    vector_of,
)
from libra.types.direct_init import direct_init
from libra.types.move import (
    CORE_CODE_ADDRESS,
    AccountAddress,
    StructTag,
    TypeTag,
    currency_code_of,
    currency_type_tag,
)

RESOURCE_TAG = b"\x01"
R = TypeVar("R", bound=MoveStruct)


@dataclass(frozen=True, slots=True)
class ResourceKind(Generic[R]):
    """Where a resource type lives in an account (its path) and how to decode it."""

    tag: StructTag
    cls: type[R]
    path: bytes

    def decode(self, data: bytes) -> R:
        return self.cls.from_bcs(data)


def resource_path(tag: StructTag) -> bytes:
    return RESOURCE_TAG + tag.to_bcs()


def _kind(cls: type[R], module: str, name: str, *params: TypeTag) -> ResourceKind[R]:
    tag = StructTag(CORE_CODE_ADDRESS, module, name, tuple(params))
    return ResourceKind(tag, cls, resource_path(tag))


# --- per-account resources ----------------------------------------------------------------


@direct_init
@dataclass(frozen=True, slots=True)
class WithdrawCapability(MoveStruct):
    account_address: AccountAddress
    LAYOUT: ClassVar = (ADDRESS,)


@direct_init
@dataclass(frozen=True, slots=True)
class KeyRotationCapability(MoveStruct):
    account_address: AccountAddress
    LAYOUT: ClassVar = (ADDRESS,)


@direct_init
@dataclass(frozen=True, slots=True)
class DiemAccount(MoveStruct):
    authentication_key: bytes
    withdraw_capability: WithdrawCapability | None
    key_rotation_capability: KeyRotationCapability | None
    received_events: EventHandle
    sent_events: EventHandle
    sequence_number: int
    LAYOUT: ClassVar = (
        BYTES,
        option_of(WithdrawCapability.codec()),
        option_of(KeyRotationCapability.codec()),
        EVENT_HANDLE,
        EVENT_HANDLE,
        U64,
    )

    @classmethod
    def from_bcs(cls, data: bytes) -> DiemAccount:
        # Hot path (every payment reads two accounts): the usual shape decoded by hand;
        # anything else goes through the LAYOUT decoder, which accepts it or says why not.
        return _decode_diem_account(data) or _decode_generic(cls, data)

    def to_bcs(self) -> bytes:
        # Hot path (every payment writes two accounts): the LAYOUT encoding, written out.
        withdraw, rotation = self.withdraw_capability, self.key_rotation_capability
        received, sent = self.received_events, self.sent_events
        return b"".join(
            (
                encode_uleb128(len(self.authentication_key)),
                self.authentication_key,
                b"\x01" + withdraw.account_address.value if withdraw is not None else b"\x00",
                b"\x01" + rotation.account_address.value if rotation is not None else b"\x00",
                received.counter.to_bytes(8, "little"),
                encode_uleb128(len(received.guid)),
                received.guid,
                sent.counter.to_bytes(8, "little"),
                encode_uleb128(len(sent.guid)),
                sent.guid,
                self.sequence_number.to_bytes(8, "little"),
            )
        )


@direct_init
@dataclass(frozen=True, slots=True)
class Balance(MoveStruct):
    """``DiemAccount::Balance<Token> { coin: Diem<Token> { value } }``."""

    coin: int
    LAYOUT: ClassVar = (U64,)

    @classmethod
    def from_bcs(cls, data: bytes) -> Balance:
        if len(data) == 8:
            return cls(int.from_bytes(data, "little"))
        return _decode_generic(cls, data)

    def to_bcs(self) -> bytes:
        return self.coin.to_bytes(8, "little")


def _decode_generic(cls: type[R], data: bytes) -> R:
    deserializer = Deserializer(data)
    value = cls.deserialize(deserializer)
    deserializer.finish()
    return value


def _decode_diem_account(data: bytes) -> DiemAccount | None:
    """A ``DiemAccount`` whose lengths fit one ULEB128 byte, exactly as the LAYOUT decodes it;
    None for any other input."""
    end = len(data)
    if not end or data[0] >= 0x80:
        return None
    pos = 1 + data[0]
    authentication_key = data[1:pos]
    capabilities: list[AccountAddress | None] = []
    for _ in range(2):
        if pos >= end:
            return None
        if data[pos] == 0:
            capabilities.append(None)
            pos += 1
        elif data[pos] == 1 and pos + 17 <= end:
            capabilities.append(AccountAddress(data[pos + 1 : pos + 17]))
            pos += 17
        else:
            return None
    handles = []
    for _ in range(2):
        if pos + 9 > end or data[pos + 8] >= 0x80:
            return None
        counter = int.from_bytes(data[pos : pos + 8], "little")
        start = pos + 9
        pos = start + data[pos + 8]
        if pos > end:
            return None
        handles.append(EventHandle(counter, data[start:pos]))
    if pos + 8 != end:
        return None
    withdraw, rotation = capabilities
    return DiemAccount(
        authentication_key,
        WithdrawCapability(withdraw) if withdraw is not None else None,
        KeyRotationCapability(rotation) if rotation is not None else None,
        handles[0],
        handles[1],
        int.from_bytes(data[pos:], "little"),
    )


@dataclass(frozen=True, slots=True)
class RoleId(MoveStruct):
    role_id: int
    LAYOUT: ClassVar = (U64,)


@dataclass(frozen=True, slots=True)
class EventHandleGenerator(MoveStruct):
    """``Event::EventHandleGenerator``: how many handles the account has created."""

    counter: int
    addr: AccountAddress
    LAYOUT: ClassVar = (U64, ADDRESS)


@direct_init
@dataclass(frozen=True, slots=True)
class FreezingBit(MoveStruct):
    is_frozen: bool
    LAYOUT: ClassVar = (BOOL,)


@dataclass(frozen=True, slots=True)
class SlidingNonce(MoveStruct):
    min_nonce: int
    nonce_mask: int
    LAYOUT: ClassVar = (U64, U128)


@dataclass(frozen=True, slots=True)
class ParentVASP(MoveStruct):
    num_children: int
    LAYOUT: ClassVar = (U64,)


@direct_init
@dataclass(frozen=True, slots=True)
class ChildVASP(MoveStruct):
    parent_vasp_addr: AccountAddress
    LAYOUT: ClassVar = (ADDRESS,)


@dataclass(frozen=True, slots=True)
class Credential(MoveStruct):
    """``DualAttestation::Credential`` of parent VASPs and designated dealers."""

    human_name: bytes
    base_url: bytes
    compliance_public_key: bytes
    expiration_date: int
    compliance_key_rotation_events: EventHandle
    base_url_rotation_events: EventHandle
    LAYOUT: ClassVar = (BYTES, BYTES, BYTES, U64, EVENT_HANDLE, EVENT_HANDLE)


@dataclass(frozen=True, slots=True)
class DiemIdDomain(MoveStruct):
    domain: bytes
    LAYOUT: ClassVar = (BYTES,)


@dataclass(frozen=True, slots=True)
class DiemIdDomains(MoveStruct):
    domains: tuple[DiemIdDomain, ...]
    LAYOUT: ClassVar = (vector_of(DiemIdDomain.codec()),)


@dataclass(frozen=True, slots=True)
class DiemIdDomainManager(MoveStruct):
    diem_id_domain_events: EventHandle
    LAYOUT: ClassVar = (EVENT_HANDLE,)


@dataclass(frozen=True, slots=True)
class Dealer(MoveStruct):
    """``DesignatedDealer::Dealer``: the received-mint event handle."""

    mint_event_handle: EventHandle
    LAYOUT: ClassVar = (EVENT_HANDLE,)


@dataclass(frozen=True, slots=True)
class PreburnWithMetadata(MoveStruct):
    """``Diem::PreburnWithMetadata { preburn: Preburn { to_burn: Diem { value } }, metadata }``."""

    to_burn: int
    metadata: bytes
    LAYOUT: ClassVar = (U64, BYTES)


@dataclass(frozen=True, slots=True)
class PreburnQueue(MoveStruct):
    preburns: tuple[PreburnWithMetadata, ...]
    LAYOUT: ClassVar = (vector_of(PreburnWithMetadata.codec()),)


@dataclass(frozen=True, slots=True)
class ValidatorConfigBody(MoveStruct):
    """``ValidatorConfig::Config``."""

    consensus_pubkey: bytes
    validator_network_addresses: bytes
    fullnode_network_addresses: bytes
    LAYOUT: ClassVar = (BYTES, BYTES, BYTES)


@dataclass(frozen=True, slots=True)
class ValidatorConfig(MoveStruct):
    config: ValidatorConfigBody | None
    operator_account: AccountAddress | None
    human_name: bytes
    LAYOUT: ClassVar = (option_of(ValidatorConfigBody.codec()), option_of(ADDRESS), BYTES)


@dataclass(frozen=True, slots=True)
class ValidatorOperatorConfig(MoveStruct):
    human_name: bytes
    LAYOUT: ClassVar = (BYTES,)


@dataclass(frozen=True, slots=True)
class Capability(MoveStruct):
    """A field-less Move struct (``MintCapability<T>``, ``BurnCapability<T>``, ...): ``dummy_field``."""

    dummy_field: bool = False
    LAYOUT: ClassVar = (BOOL,)


# --- Diem Root / Treasury Compliance singletons --------------------------------------------


@dataclass(frozen=True, slots=True)
class FixedPoint32(MoveStruct):
    """A u64 holding a binary fixed-point number with 32 fractional bits."""

    value: int
    LAYOUT: ClassVar = (U64,)


@dataclass(frozen=True, slots=True)
class CurrencyInfo(MoveStruct):
    total_value: int
    preburn_value: int
    to_xdx_exchange_rate: FixedPoint32
    is_synthetic: bool
    scaling_factor: int
    fractional_part: int
    currency_code: bytes
    can_mint: bool
    mint_events: EventHandle
    burn_events: EventHandle
    preburn_events: EventHandle
    cancel_burn_events: EventHandle
    exchange_rate_update_events: EventHandle
    LAYOUT: ClassVar = (
        U128,
        U64,
        FixedPoint32.codec(),
        BOOL,
        U64,
        U64,
        BYTES,
        BOOL,
        EVENT_HANDLE,
        EVENT_HANDLE,
        EVENT_HANDLE,
        EVENT_HANDLE,
        EVENT_HANDLE,
    )


@dataclass(frozen=True, slots=True)
class RegisteredCurrencies(MoveStruct):
    """Payload of ``DiemConfig<RegisteredCurrencies>``."""

    currency_codes: tuple[bytes, ...]
    LAYOUT: ClassVar = (vector_of(BYTES),)


@dataclass(frozen=True, slots=True)
class Limit(MoveStruct):
    """``DualAttestation::Limit``: the travel-rule threshold in micro-XDX."""

    micro_xdx_limit: int
    LAYOUT: ClassVar = (U64,)


@dataclass(frozen=True, slots=True)
class Configuration(MoveStruct):
    """``DiemConfig::Configuration``: the epoch and its new-epoch event handle."""

    epoch: int
    last_reconfiguration_time: int
    events: EventHandle
    LAYOUT: ClassVar = (U64, U64, EVENT_HANDLE)


@dataclass(frozen=True, slots=True)
class ValidatorInfo(MoveStruct):
    addr: AccountAddress
    consensus_voting_power: int
    config: ValidatorConfigBody
    last_config_update_time: int
    LAYOUT: ClassVar = (ADDRESS, U64, ValidatorConfigBody.codec(), U64)


@dataclass(frozen=True, slots=True)
class DiemSystem(MoveStruct):
    """Payload of ``DiemConfig<DiemSystem>``: the validator set."""

    scheme: int
    validators: tuple[ValidatorInfo, ...]
    LAYOUT: ClassVar = (U8, vector_of(ValidatorInfo.codec()))


@dataclass(frozen=True, slots=True)
class DiemVersion(MoveStruct):
    major: int
    LAYOUT: ClassVar = (U64,)


@dataclass(frozen=True, slots=True)
class TransactionPublishingOption(MoveStruct):
    """Payload of ``DiemConfig<DiemTransactionPublishingOption>``."""

    script_allow_list: tuple[bytes, ...]
    module_publishing_allowed: bool
    LAYOUT: ClassVar = (vector_of(BYTES), BOOL)


@dataclass(frozen=True, slots=True)
class ChainId(MoveStruct):
    id: int
    LAYOUT: ClassVar = (U8,)


@dataclass(frozen=True, slots=True)
class BlockMetadataResource(MoveStruct):
    """``DiemBlock::BlockMetadata``: block height and the new-block event handle."""

    height: int
    new_block_events: EventHandle
    LAYOUT: ClassVar = (U64, EVENT_HANDLE)


@dataclass(frozen=True, slots=True)
class CurrentTimeMicroseconds(MoveStruct):
    microseconds: int
    LAYOUT: ClassVar = (U64,)


@dataclass(frozen=True, slots=True)
class AccountOperationsCapability(MoveStruct):
    """Holds the create-account event handle (after Move's ``limits_cap`` dummy struct)."""

    limits_cap: bool
    creation_events: EventHandle
    LAYOUT: ClassVar = (BOOL, EVENT_HANDLE)


@dataclass(frozen=True, slots=True)
class DiemWriteSetManager(MoveStruct):
    upgrade_events: EventHandle
    LAYOUT: ClassVar = (EVENT_HANDLE,)


@dataclass(frozen=True, slots=True)
class FreezeEventsHolder(MoveStruct):
    freeze_event_handle: EventHandle
    unfreeze_event_handle: EventHandle
    LAYOUT: ClassVar = (EVENT_HANDLE, EVENT_HANDLE)


@dataclass(frozen=True, slots=True)
class TransactionFee(MoveStruct):
    """Fees collected in one currency, held by Treasury Compliance."""

    balance: int
    preburn: int
    LAYOUT: ClassVar = (U64, U64)


@dataclass(frozen=True, slots=True)
class ReserveAttestation(MoveStruct):
    """``Reserve::Attestation<C>`` at Diem Root: the reserve backing currency ``C``.

    ``reserve`` is the amount the custodian holds (micro-units of ``C``) as of
    ``as_of_usecs`` (chain-clock microseconds), ``report_hash`` the SHA3-256 of the
    custodian's report (the report itself stays off chain), ``attester`` who recorded it.
    """

    reserve: int
    as_of_usecs: int
    report_hash: bytes
    attester: AccountAddress
    attestation_events: EventHandle
    LAYOUT: ClassVar = (U64, U64, BYTES, ADDRESS, EVENT_HANDLE)


@dataclass(frozen=True, slots=True)
class LawfulOrders(MoveStruct):
    """``LawfulOrder::LawfulOrders`` at Treasury Compliance: the stream of executed orders."""

    order_events: EventHandle
    LAYOUT: ClassVar = (EVENT_HANDLE,)


# --- kinds ---------------------------------------------------------------------------------

DIEM_ACCOUNT = _kind(DiemAccount, "DiemAccount", "DiemAccount")
ROLE_ID = _kind(RoleId, "Roles", "RoleId")
EVENT_GENERATOR = _kind(EventHandleGenerator, "Event", "EventHandleGenerator")
FREEZING_BIT = _kind(FreezingBit, "AccountFreezing", "FreezingBit")
SLIDING_NONCE = _kind(SlidingNonce, "SlidingNonce", "SlidingNonce")
PARENT_VASP = _kind(ParentVASP, "VASP", "ParentVASP")
CHILD_VASP = _kind(ChildVASP, "VASP", "ChildVASP")
CREDENTIAL = _kind(Credential, "DualAttestation", "Credential")
DIEM_ID_DOMAINS = _kind(DiemIdDomains, "DiemId", "DiemIdDomains")
DIEM_ID_DOMAIN_MANAGER = _kind(DiemIdDomainManager, "DiemId", "DiemIdDomainManager")
DEALER = _kind(Dealer, "DesignatedDealer", "Dealer")
VALIDATOR_CONFIG = _kind(ValidatorConfig, "ValidatorConfig", "ValidatorConfig")
VALIDATOR_OPERATOR_CONFIG = _kind(ValidatorOperatorConfig, "ValidatorOperatorConfig", "ValidatorOperatorConfig")
DUAL_ATTESTATION_LIMIT = _kind(Limit, "DualAttestation", "Limit")
CONFIGURATION = _kind(Configuration, "DiemConfig", "Configuration")
CHAIN_ID = _kind(ChainId, "ChainId", "ChainId")
BLOCK_METADATA = _kind(BlockMetadataResource, "DiemBlock", "BlockMetadata")
CURRENT_TIME = _kind(CurrentTimeMicroseconds, "DiemTimestamp", "CurrentTimeMicroseconds")
ACCOUNT_OPERATIONS_CAPABILITY = _kind(AccountOperationsCapability, "DiemAccount", "AccountOperationsCapability")
WRITE_SET_MANAGER = _kind(DiemWriteSetManager, "DiemAccount", "DiemWriteSetManager")
FREEZE_EVENTS_HOLDER = _kind(FreezeEventsHolder, "AccountFreezing", "FreezeEventsHolder")
LAWFUL_ORDERS = _kind(LawfulOrders, "LawfulOrder", "LawfulOrders")


def _config_kind(cls: type[R], module: str, name: str) -> ResourceKind[R]:
    payload = StructTag(CORE_CODE_ADDRESS, module, name, ())
    return _kind(cls, "DiemConfig", "DiemConfig", payload)


DIEM_SYSTEM_CONFIG = _config_kind(DiemSystem, "DiemSystem", "DiemSystem")
REGISTERED_CURRENCIES_CONFIG = _config_kind(RegisteredCurrencies, "RegisteredCurrencies", "RegisteredCurrencies")
DIEM_VERSION_CONFIG = _config_kind(DiemVersion, "DiemVersion", "DiemVersion")
PUBLISHING_OPTION_CONFIG = _config_kind(
    TransactionPublishingOption, "DiemTransactionPublishingOption", "DiemTransactionPublishingOption"
)


@cache
def balance_kind(code: str) -> ResourceKind[Balance]:
    return _kind(Balance, "DiemAccount", "Balance", currency_type_tag(code))


@cache
def currency_info_kind(code: str) -> ResourceKind[CurrencyInfo]:
    return _kind(CurrencyInfo, "Diem", "CurrencyInfo", currency_type_tag(code))


@cache
def preburn_queue_kind(code: str) -> ResourceKind[PreburnQueue]:
    return _kind(PreburnQueue, "Diem", "PreburnQueue", currency_type_tag(code))


@cache
def mint_capability_kind(code: str) -> ResourceKind[Capability]:
    return _kind(Capability, "Diem", "MintCapability", currency_type_tag(code))


@cache
def burn_capability_kind(code: str) -> ResourceKind[Capability]:
    return _kind(Capability, "Diem", "BurnCapability", currency_type_tag(code))


@cache
def transaction_fee_kind(code: str) -> ResourceKind[TransactionFee]:
    return _kind(TransactionFee, "TransactionFee", "TransactionFee", currency_type_tag(code))


@cache
def reserve_attestation_kind(code: str) -> ResourceKind[ReserveAttestation]:
    return _kind(ReserveAttestation, "Reserve", "Attestation", currency_type_tag(code))


_GENERIC_KINDS: dict[tuple[str, str], Callable[[str], ResourceKind[Any]]] = {
    ("DiemAccount", "Balance"): balance_kind,
    ("Diem", "CurrencyInfo"): currency_info_kind,
    ("Diem", "PreburnQueue"): preburn_queue_kind,
    ("Diem", "MintCapability"): mint_capability_kind,
    ("Diem", "BurnCapability"): burn_capability_kind,
    ("TransactionFee", "TransactionFee"): transaction_fee_kind,
    ("Reserve", "Attestation"): reserve_attestation_kind,
}
_PLAIN_KINDS: dict[bytes, ResourceKind[Any]] = {
    kind.path: kind
    for kind in (
        DIEM_ACCOUNT, ROLE_ID, EVENT_GENERATOR, FREEZING_BIT, SLIDING_NONCE, PARENT_VASP, CHILD_VASP,
        CREDENTIAL, DIEM_ID_DOMAINS, DIEM_ID_DOMAIN_MANAGER, DEALER, VALIDATOR_CONFIG,
        VALIDATOR_OPERATOR_CONFIG, DUAL_ATTESTATION_LIMIT, CONFIGURATION, CHAIN_ID, BLOCK_METADATA,
        CURRENT_TIME, ACCOUNT_OPERATIONS_CAPABILITY, WRITE_SET_MANAGER, FREEZE_EVENTS_HOLDER,
        DIEM_SYSTEM_CONFIG, REGISTERED_CURRENCIES_CONFIG, DIEM_VERSION_CONFIG, PUBLISHING_OPTION_CONFIG,
        LAWFUL_ORDERS,
    )
}


def kind_for_path(path: bytes) -> tuple[ResourceKind[Any], str | None] | None:
    """The kind stored at ``path`` and its currency code (generic resources), or None if unknown."""
    kind = _PLAIN_KINDS.get(path)
    if kind is not None:
        return kind, None
    if not path.startswith(RESOURCE_TAG):
        return None
    try:
        tag = StructTag.from_bcs(path[1:])
    except BcsError:
        return None
    make = _GENERIC_KINDS.get((tag.module, tag.name))
    if make is None or len(tag.type_params) != 1:
        return None
    code = currency_code_of(tag.type_params[0])
    if code is None:
        return None
    return make(code), code
