"""Genesis: the first state, as a deterministic function of a :class:`GenesisConfig`.

Order mirrors Diem's ``Genesis::initialize`` so that Diem Root's event handle
creation numbers match (diem-protocol.md §10): create-account #0, admin #1,
received #2, sent #3, new-epoch #4, XUS #5–9, XDX #10–14, freeze #15,
unfreeze #16, new-block #17; Treasury Compliance: Diem-ID domains #0, received #1,
sent #2. Then (not in Diem) the starting reserve of each non-synthetic currency,
attested by Treasury Compliance (Diem Root #18 onwards: one attestation handle per
currency) and TC's lawful-order stream (#3); then the testnet designated dealer 0xDD
(created and minted through the ordinary rules, so its events are in the genesis change
set, and its mint is within the starting reserve), the validators, and the genesis
reconfiguration (epoch 1, ``NewEpochEvent``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from libra.crypto.hashing import sha3_256
from libra.framework.accounts import (
    DIEM_ROOT_ROLE,
    TREASURY_COMPLIANCE_ROLE,
    apply_make_account,
    apply_rotate_authentication_key,
    grant_role,
    new_event_handle,
    publish_event_generator,
)
from libra.framework.events import NewEpochEvent
from libra.framework.reserve import apply_attest_reserve
from libra.framework.resources import (
    ACCOUNT_OPERATIONS_CAPABILITY,
    BLOCK_METADATA,
    CHAIN_ID,
    CONFIGURATION,
    CURRENT_TIME,
    DIEM_ID_DOMAIN_MANAGER,
    DIEM_SYSTEM_CONFIG,
    DIEM_VERSION_CONFIG,
    DUAL_ATTESTATION_LIMIT,
    FREEZE_EVENTS_HOLDER,
    LAWFUL_ORDERS,
    PUBLISHING_OPTION_CONFIG,
    REGISTERED_CURRENCIES_CONFIG,
    SLIDING_NONCE,
    VALIDATOR_CONFIG,
    WRITE_SET_MANAGER,
    AccountOperationsCapability,
    BlockMetadataResource,
    Capability,
    ChainId,
    Configuration,
    CurrencyInfo,
    CurrentTimeMicroseconds,
    DiemIdDomainManager,
    DiemSystem,
    DiemVersion,
    DiemWriteSetManager,
    FixedPoint32,
    FreezeEventsHolder,
    LawfulOrders,
    Limit,
    RegisteredCurrencies,
    SlidingNonce,
    TransactionFee,
    TransactionPublishingOption,
    ValidatorConfig,
    ValidatorConfigBody,
    ValidatorInfo,
    burn_capability_kind,
    currency_info_kind,
    mint_capability_kind,
    transaction_fee_kind,
)
from libra.framework.state import BlockState, InMemoryStateView, TxnState
from libra.framework.system import apply_create_validator_account
from libra.framework.treasury import apply_create_designated_dealer, apply_tiered_mint
from libra.types.move import (
    DIEM_ROOT_ADDRESS,
    TESTNET_DD_ADDRESS,
    TREASURY_COMPLIANCE_ADDRESS,
    AccountAddress,
)
from libra.types.transaction import DirectWriteSet, GenesisTransaction
from libra.types.write_set import ChangeSet

ZERO_PREFIX = bytes(16)
ONE_AS_FIXED_POINT = 1 << 32
DEFAULT_DD_BALANCE = (1 << 63) - 1  # Diem testnet's DD holds ≈ 9.22e18 micro-XUS
# The test network's custodian attests 18.4 trillion XUS at genesis: the DD's 9.22
# trillion and as much again, so that designated dealers can still be minted to.
DEFAULT_INITIAL_RESERVE = (1 << 64) - 1
GENESIS_RESERVE_REPORT = b"libra genesis: starting reserve of a test network"


@dataclass(frozen=True, slots=True)
class CurrencyConfig:
    code: str
    to_xdx_rate: int  # FixedPoint32 raw value
    is_synthetic: bool
    scaling_factor: int
    fractional_part: int


DEFAULT_CURRENCIES = (
    CurrencyConfig("XUS", ONE_AS_FIXED_POINT, False, 1_000_000, 100),
    CurrencyConfig("XDX", ONE_AS_FIXED_POINT, True, 1_000_000, 1_000),
)


@dataclass(frozen=True, slots=True)
class ValidatorGenesis:
    """One validator of the first epoch; its owner account is created at ``address``."""

    address: AccountAddress
    consensus_public_key: bytes
    network_address: bytes
    voting_power: int = 1
    name: bytes = b""
    owner_auth_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class GenesisConfig:
    chain_id: int
    root_public_key: bytes
    treasury_compliance_public_key: bytes
    designated_dealer_public_key: bytes
    validators: tuple[ValidatorGenesis, ...] = ()
    dd_balance: int = DEFAULT_DD_BALANCE
    dual_attestation_limit: int = 1_000_000_000
    diem_version: int = 1
    currencies: tuple[CurrencyConfig, ...] = field(default=DEFAULT_CURRENCIES)
    initial_reserve: int = DEFAULT_INITIAL_RESERVE  # attested for each non-synthetic currency
    initial_reserve_report_hash: bytes = sha3_256(GENESIS_RESERVE_REPORT)


@dataclass(frozen=True, slots=True)
class GenesisResult:
    transaction: GenesisTransaction
    change_set: ChangeSet
    blobs: dict[AccountAddress, bytes]

    def state_view(self) -> InMemoryStateView:
        return InMemoryStateView(self.blobs)


def compute_ed25519_auth_key(public_key: bytes) -> bytes:
    return sha3_256(public_key + b"\x00")


def _init_root_and_tc(state: TxnState) -> None:
    dr, tc = DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS
    grant_role(state, dr, DIEM_ROOT_ROLE)
    state.put(dr, SLIDING_NONCE, SlidingNonce(0, 0))
    publish_event_generator(state, dr)
    state.put(dr, ACCOUNT_OPERATIONS_CAPABILITY, AccountOperationsCapability(False, new_event_handle(state, dr)))
    state.put(dr, WRITE_SET_MANAGER, DiemWriteSetManager(new_event_handle(state, dr)))
    apply_make_account(state, dr, ZERO_PREFIX)
    grant_role(state, tc, TREASURY_COMPLIANCE_ROLE)
    state.put(tc, SLIDING_NONCE, SlidingNonce(0, 0))
    publish_event_generator(state, tc)
    state.put(tc, DIEM_ID_DOMAIN_MANAGER, DiemIdDomainManager(new_event_handle(state, tc)))
    apply_make_account(state, tc, ZERO_PREFIX)


def _register_currency(state: TxnState, currency: CurrencyConfig) -> None:
    dr, tc = DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS
    handles = [new_event_handle(state, dr) for _ in range(5)]
    info = CurrencyInfo(
        0, 0, FixedPoint32(currency.to_xdx_rate), currency.is_synthetic, currency.scaling_factor,
        currency.fractional_part, currency.code.encode(), not currency.is_synthetic, *handles,
    )
    state.put(dr, currency_info_kind(currency.code), info)
    registered = state.get(dr, REGISTERED_CURRENCIES_CONFIG)
    assert registered is not None
    state.put(dr, REGISTERED_CURRENCIES_CONFIG, RegisteredCurrencies((*registered.currency_codes, currency.code.encode())))
    if not currency.is_synthetic:
        state.put(tc, mint_capability_kind(currency.code), Capability())
        state.put(tc, burn_capability_kind(currency.code), Capability())


def _add_validator(state: TxnState, validator: ValidatorGenesis) -> ValidatorInfo:
    apply_create_validator_account(state, DIEM_ROOT_ADDRESS, validator.address, ZERO_PREFIX, validator.name)
    if validator.owner_auth_key is not None:
        apply_rotate_authentication_key(state, validator.address, validator.owner_auth_key)
    body = ValidatorConfigBody(validator.consensus_public_key, validator.network_address, validator.network_address)
    state.put(validator.address, VALIDATOR_CONFIG, ValidatorConfig(body, None, validator.name))
    return ValidatorInfo(validator.address, validator.voting_power, body, 0)


def apply_genesis(state: TxnState, config: GenesisConfig) -> None:
    """Write the whole genesis state and events into ``state``."""
    dr, tc = DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS
    _init_root_and_tc(state)
    state.put(dr, CHAIN_ID, ChainId(config.chain_id))
    state.put(dr, CONFIGURATION, Configuration(0, 0, new_event_handle(state, dr)))
    state.put(dr, REGISTERED_CURRENCIES_CONFIG, RegisteredCurrencies(()))
    for currency in config.currencies:
        _register_currency(state, currency)
    state.put(dr, FREEZE_EVENTS_HOLDER, FreezeEventsHolder(new_event_handle(state, dr), new_event_handle(state, dr)))
    state.put(tc, transaction_fee_kind("XUS"), TransactionFee(0, 0))
    state.put(dr, DIEM_SYSTEM_CONFIG, DiemSystem(0, ()))
    state.put(dr, DIEM_VERSION_CONFIG, DiemVersion(config.diem_version))
    state.put(dr, DUAL_ATTESTATION_LIMIT, Limit(config.dual_attestation_limit))
    state.put(dr, BLOCK_METADATA, BlockMetadataResource(0, new_event_handle(state, dr)))
    apply_rotate_authentication_key(state, dr, compute_ed25519_auth_key(config.root_public_key))
    apply_rotate_authentication_key(state, tc, compute_ed25519_auth_key(config.treasury_compliance_public_key))
    state.put(dr, PUBLISHING_OPTION_CONFIG, TransactionPublishingOption((), False))
    state.put(dr, CURRENT_TIME, CurrentTimeMicroseconds(0))
    for currency in config.currencies:
        if not currency.is_synthetic:
            apply_attest_reserve(state, tc, currency.code, config.initial_reserve, 0, config.initial_reserve_report_hash)
    state.put(tc, LAWFUL_ORDERS, LawfulOrders(new_event_handle(state, tc)))
    dd_key = compute_ed25519_auth_key(config.designated_dealer_public_key)
    apply_create_designated_dealer(state, tc, TESTNET_DD_ADDRESS, ZERO_PREFIX, b"moneybags", "XUS", True)
    apply_rotate_authentication_key(state, TESTNET_DD_ADDRESS, dd_key)
    if config.dd_balance > 0:
        apply_tiered_mint(state, tc, TESTNET_DD_ADDRESS, "XUS", config.dd_balance)
    infos = tuple(_add_validator(state, validator) for validator in config.validators)
    state.put(dr, DIEM_SYSTEM_CONFIG, DiemSystem(0, infos))
    configuration = state.get(dr, CONFIGURATION)
    assert configuration is not None
    handle = state.emit(configuration.events, NewEpochEvent(1))
    state.put(dr, CONFIGURATION, Configuration(1, 0, handle))


def build_genesis(config: GenesisConfig) -> GenesisResult:
    """The genesis transaction (a direct write set with its events) and the resulting blobs."""
    block = BlockState(InMemoryStateView())
    state = TxnState(block)
    apply_genesis(state, config)
    events = tuple(state.events)
    write_set = block.commit(state)
    change_set = ChangeSet(write_set, events)
    blobs = {address: blob for address, blob in block.changed_blobs().items() if blob is not None}
    return GenesisResult(GenesisTransaction(DirectWriteSet(change_set)), change_set, blobs)
