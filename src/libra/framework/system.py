"""Validators, reconfiguration, blocks and on-chain configs (Diem's ``DiemSystem``,
``ValidatorConfig``, ``ValidatorOperatorConfig``, ``DiemConfig``, ``DiemBlock``,
``DiemTimestamp``, ``DiemVersion`` modules).

Reconfiguration: a change to the validator set (or version) bumps the epoch and
emits ``NewEpochEvent`` on Diem Root's new-epoch handle, at most once per block
time (a second change at the same timestamp changes the config without a new epoch).
"""

from __future__ import annotations

from libra.framework.aborts import (
    DiemSystemAborts,
    DiemVersionAborts,
    RolesAborts,
    ValidatorConfigAborts,
    ValidatorOperatorConfigAborts,
)
from libra.framework.accounts import (
    VALIDATOR_OPERATOR_ROLE,
    VALIDATOR_ROLE,
    apply_make_account,
    check_diem_root,
    check_role,
    get_now_microseconds,
    grant_role,
    publish_event_generator,
)
from libra.framework.errors import ensure, ensure_raw
from libra.framework.events import NewBlockEvent, NewEpochEvent
from libra.framework.resources import (
    BLOCK_METADATA,
    CONFIGURATION,
    CURRENT_TIME,
    DIEM_SYSTEM_CONFIG,
    DIEM_VERSION_CONFIG,
    VALIDATOR_CONFIG,
    VALIDATOR_OPERATOR_CONFIG,
    BlockMetadataResource,
    Configuration,
    CurrentTimeMicroseconds,
    DiemSystem,
    DiemVersion,
    ValidatorConfig,
    ValidatorConfigBody,
    ValidatorInfo,
    ValidatorOperatorConfig,
)
from libra.framework.signature import ed25519_validate_pubkey
from libra.framework.state import TxnState
from libra.types.move import DIEM_ROOT_ADDRESS, ZERO_ADDRESS, AccountAddress

MAX_VALIDATORS = 256
FIVE_MINUTES_MICROS = 300_000_000
SCRIPTS_MODULE = "ValidatorAdministrationScripts"


def apply_reconfigure(state: TxnState) -> None:
    """``DiemConfig::reconfigure_``: new epoch + ``NewEpochEvent`` unless time is 0 or unchanged."""
    now = get_now_microseconds(state)
    config = state.get(DIEM_ROOT_ADDRESS, CONFIGURATION)
    assert config is not None
    if now == 0 or now == config.last_reconfiguration_time:
        return
    epoch = config.epoch + 1
    handle = state.emit(config.events, NewEpochEvent(epoch))
    state.put(DIEM_ROOT_ADDRESS, CONFIGURATION, Configuration(epoch, now, handle))


def get_validator_set(state: TxnState) -> DiemSystem:
    system = state.get(DIEM_ROOT_ADDRESS, DIEM_SYSTEM_CONFIG)
    assert system is not None
    return system


def is_validator(state: TxnState, address: AccountAddress) -> bool:
    return any(info.addr == address for info in get_validator_set(state).validators)


# --- accounts ------------------------------------------------------------------------------


def apply_create_validator_account(
    state: TxnState, dr: AccountAddress, address: AccountAddress, auth_key_prefix: bytes, human_name: bytes
) -> None:
    """Diem Root creates a validator owner account (role 3) with an empty ValidatorConfig."""
    check_diem_root(state, dr)
    grant_role(state, address, VALIDATOR_ROLE)
    publish_event_generator(state, address)
    ensure(not state.exists(address, VALIDATOR_CONFIG), ValidatorConfigAborts.EVALIDATOR_CONFIG)
    state.put(address, VALIDATOR_CONFIG, ValidatorConfig(None, None, human_name))
    apply_make_account(state, address, auth_key_prefix)


def apply_create_validator_operator_account(
    state: TxnState, dr: AccountAddress, address: AccountAddress, auth_key_prefix: bytes, human_name: bytes
) -> None:
    """Diem Root creates a validator operator account (role 4) with its ValidatorOperatorConfig."""
    check_diem_root(state, dr)
    grant_role(state, address, VALIDATOR_OPERATOR_ROLE)
    publish_event_generator(state, address)
    state.put(address, VALIDATOR_OPERATOR_CONFIG, ValidatorOperatorConfig(human_name))
    apply_make_account(state, address, auth_key_prefix)


# --- validator configs ---------------------------------------------------------------------


def get_validator_config(state: TxnState, address: AccountAddress) -> ValidatorConfig:
    config = state.get(address, VALIDATOR_CONFIG)
    ensure(config is not None, ValidatorConfigAborts.EVALIDATOR_CONFIG)
    assert config is not None
    return config


def get_operator(state: TxnState, validator: AccountAddress) -> AccountAddress:
    """``ValidatorConfig::get_operator``: EVALIDATOR_CONFIG (5) unpublished, (7) no operator."""
    operator = get_validator_config(state, validator).operator_account
    ensure(operator is not None, ValidatorConfigAborts.EVALIDATOR_CONFIG_ARG)
    assert operator is not None
    return operator


def check_human_name(state: TxnState, config_name: bytes, given: bytes) -> None:
    """The scripts' ``assert(name == given, 0)``: a bare abort 0 in ValidatorAdministrationScripts."""
    ensure_raw(config_name == given, SCRIPTS_MODULE, 0)


def get_operator_name(state: TxnState, operator: AccountAddress) -> bytes:
    config = state.get(operator, VALIDATOR_OPERATOR_CONFIG)
    ensure(config is not None, ValidatorOperatorConfigAborts.EVALIDATOR_OPERATOR_CONFIG)
    assert config is not None
    return config.human_name


def apply_set_operator(state: TxnState, validator: AccountAddress, operator: AccountAddress) -> None:
    """A validator owner names its operator. Aborts: not a validator (Roles EVALIDATOR, 1795);
    operator has no ValidatorOperatorConfig (ENOT_A_VALIDATOR_OPERATOR, 775)."""
    check_role(state, validator, VALIDATOR_ROLE, RolesAborts.EVALIDATOR)
    ensure(state.exists(operator, VALIDATOR_OPERATOR_CONFIG), ValidatorConfigAborts.ENOT_A_VALIDATOR_OPERATOR)
    config = get_validator_config(state, validator)
    state.put(validator, VALIDATOR_CONFIG, ValidatorConfig(config.config, operator, config.human_name))


def apply_set_config(
    state: TxnState,
    operator: AccountAddress,
    validator: AccountAddress,
    consensus_pubkey: bytes,
    validator_network_addresses: bytes,
    fullnode_network_addresses: bytes,
) -> None:
    """The operator sets the validator's config. Aborts: sender is not its operator
    (EINVALID_TRANSACTION_SENDER, 263); bad consensus key (EINVALID_CONSENSUS_KEY, 519)."""
    ensure(operator == get_operator(state, validator), ValidatorConfigAborts.EINVALID_TRANSACTION_SENDER)
    ensure(ed25519_validate_pubkey(consensus_pubkey), ValidatorConfigAborts.EINVALID_CONSENSUS_KEY)
    config = get_validator_config(state, validator)
    body = ValidatorConfigBody(consensus_pubkey, validator_network_addresses, fullnode_network_addresses)
    state.put(validator, VALIDATOR_CONFIG, ValidatorConfig(body, config.operator_account, config.human_name))


# --- the validator set -----------------------------------------------------------------------


def _set_validator_set(state: TxnState, validators: tuple[ValidatorInfo, ...]) -> None:
    system = get_validator_set(state)
    state.put(DIEM_ROOT_ADDRESS, DIEM_SYSTEM_CONFIG, DiemSystem(system.scheme, validators))
    apply_reconfigure(state)


def apply_add_validator(state: TxnState, dr: AccountAddress, validator: AccountAddress, voting_power: int = 1) -> None:
    """Diem Root adds a configured validator; new epoch. Aborts: not Diem Root; no valid config
    (EINVALID_PROSPECTIVE_VALIDATOR, 263); set full (EMAX_VALIDATORS, 1800); already in (EALREADY_A_VALIDATOR, 519)."""
    check_diem_root(state, dr)
    config = state.get(validator, VALIDATOR_CONFIG)
    ensure(config is not None and config.config is not None, DiemSystemAborts.EINVALID_PROSPECTIVE_VALIDATOR)
    assert config is not None and config.config is not None
    validators = get_validator_set(state).validators
    ensure(len(validators) < MAX_VALIDATORS, DiemSystemAborts.EMAX_VALIDATORS)
    ensure(all(info.addr != validator for info in validators), DiemSystemAborts.EALREADY_A_VALIDATOR)
    info = ValidatorInfo(validator, voting_power, config.config, get_now_microseconds(state))
    _set_validator_set(state, (*validators, info))


def apply_remove_validator(state: TxnState, dr: AccountAddress, validator: AccountAddress) -> None:
    """Diem Root removes a validator (Move's swap-remove order); new epoch.
    Aborts: not Diem Root; not in the set (ENOT_AN_ACTIVE_VALIDATOR, 775)."""
    check_diem_root(state, dr)
    validators = list(get_validator_set(state).validators)
    indices = [i for i, info in enumerate(validators) if info.addr == validator]
    ensure(bool(indices), DiemSystemAborts.ENOT_AN_ACTIVE_VALIDATOR)
    index = indices[0]
    validators[index] = validators[-1]
    validators.pop()
    _set_validator_set(state, tuple(validators))


def apply_update_config_and_reconfigure(state: TxnState, operator: AccountAddress, validator: AccountAddress) -> None:
    """Copy a validator's changed config into the set (rate limited to once per 5 minutes, bare abort 6)."""
    check_role(state, operator, VALIDATOR_OPERATOR_ROLE, RolesAborts.EVALIDATOR_OPERATOR)
    ensure(get_operator(state, validator) == operator, DiemSystemAborts.EINVALID_TRANSACTION_SENDER)
    validators = list(get_validator_set(state).validators)
    indices = [i for i, info in enumerate(validators) if info.addr == validator]
    ensure(bool(indices), DiemSystemAborts.ENOT_AN_ACTIVE_VALIDATOR)
    index = indices[0]
    config = state.get(validator, VALIDATOR_CONFIG)
    info = validators[index]
    if config is None or config.config is None or config.config == info.config:
        return
    now = get_now_microseconds(state)
    ensure_raw(now > info.last_config_update_time + FIVE_MINUTES_MICROS, "DiemSystem", 6)
    validators[index] = ValidatorInfo(info.addr, info.consensus_voting_power, config.config, now)
    _set_validator_set(state, tuple(validators))


def apply_update_diem_version(state: TxnState, dr: AccountAddress, major: int) -> None:
    """Diem Root raises the major version; new epoch. Aborts: not Diem Root; not strictly greater
    (EINVALID_MAJOR_VERSION_NUMBER, 7)."""
    check_diem_root(state, dr)
    current = state.get(DIEM_ROOT_ADDRESS, DIEM_VERSION_CONFIG)
    assert current is not None
    ensure(current.major < major, DiemVersionAborts.EINVALID_MAJOR_VERSION_NUMBER)
    state.put(DIEM_ROOT_ADDRESS, DIEM_VERSION_CONFIG, DiemVersion(major))
    apply_reconfigure(state)


# --- blocks --------------------------------------------------------------------------------


def apply_block_prologue(
    state: TxnState, round: int, timestamp_usecs: int, previous_block_votes: tuple[AccountAddress, ...], proposer: AccountAddress
) -> None:
    """``DiemBlock::block_prologue``: proposer is 0x0 (NIL block, time unchanged) or a validator;
    time strictly increases; height + 1; ``NewBlockEvent``."""
    ensure_raw(proposer == ZERO_ADDRESS or is_validator(state, proposer), "DiemBlock", 2 + (1 << 8))
    now = get_now_microseconds(state)
    if proposer == ZERO_ADDRESS:
        ensure_raw(now == timestamp_usecs, "DiemTimestamp", 7 + (2 << 8))
    else:
        ensure_raw(now < timestamp_usecs, "DiemTimestamp", 7 + (2 << 8))
    state.put(DIEM_ROOT_ADDRESS, CURRENT_TIME, CurrentTimeMicroseconds(timestamp_usecs))
    block = state.get(DIEM_ROOT_ADDRESS, BLOCK_METADATA)
    assert block is not None
    handle = state.emit(
        block.new_block_events, NewBlockEvent(round, proposer, previous_block_votes, timestamp_usecs)
    )
    state.put(DIEM_ROOT_ADDRESS, BLOCK_METADATA, BlockMetadataResource(block.height + 1, handle))
