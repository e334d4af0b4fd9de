"""The transaction scripts: ``0x1`` script functions and the equivalent Move scripts.

A script function is found by (module, function); a Move script (payload
``Script``) by ``sha3_256(code)`` (diem-protocol.md §8). Both resolve to one
:class:`ScriptEntry` whose handler applies the rules with the decoded arguments.
Arguments are checked against the entry's kinds: a script function's arguments
are BCS values, a script's are ``TransactionArgument`` variants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from libra.bcs import BcsError, Deserializer
from libra.crypto.hashing import sha3_256
from libra.framework import accounts, compliance, lawful_orders, payments, reserve, system, treasury
from libra.framework.errors import StatusCode
from libra.framework.state import TxnState
from libra.types.move import CORE_CODE_ADDRESS, AccountAddress, TypeTag, currency_code_of
from libra.types.transaction import (
    AddressArg,
    BoolArg,
    Script,
    ScriptFunction,
    TransactionArgument,
    U8VectorArg,
    U64Arg,
)

Handler = Callable[[TxnState, AccountAddress, tuple[str, ...], tuple[Any, ...]], None]


class PayloadError(Exception):
    """Arguments that do not fit the script: the transaction is kept as ``miscellaneous_error``."""

    def __init__(self, status: StatusCode) -> None:
        self.status = status
        super().__init__(status.value)


@dataclass(frozen=True, slots=True)
class ScriptEntry:
    module: str
    function: str
    type_params: int
    arg_kinds: tuple[str, ...]
    handler: Handler
    gas_units: int


def _decode_arg(kind: str, data: bytes) -> Any:
    """A script-function argument: ``data`` must be exactly the BCS of one Move value of ``kind``."""
    return _ARG_DECODERS[kind](data)


# The usual shapes are read directly; anything else (and every error) goes through the decoder.


def _decode_u64(data: bytes) -> int:
    return int.from_bytes(data, "little") if len(data) == 8 else _decode_arg_strict("u64", data)


def _decode_address(data: bytes) -> AccountAddress:
    return AccountAddress(bytes(data)) if len(data) == 16 else _decode_arg_strict("address", data)


def _decode_bool(data: bytes) -> bool:
    return _decode_arg_strict("bool", data)  # type: ignore[no-any-return]


def _decode_bytes(data: bytes) -> bytes:
    size = len(data)
    if size and data[0] == size - 1 < 0x80:
        return bytes(data[1:])
    return _decode_arg_strict("bytes", data)  # type: ignore[no-any-return]


_ARG_DECODERS: dict[str, Callable[[bytes], Any]] = {
    "u64": _decode_u64,
    "address": _decode_address,
    "bool": _decode_bool,
    "bytes": _decode_bytes,
}


def _decode_arg_strict(kind: str, data: bytes) -> Any:
    deserializer = Deserializer(data)
    if kind == "u64":
        value: Any = deserializer.u64()
    elif kind == "address":
        value = AccountAddress.deserialize(deserializer)
    elif kind == "bool":
        value = deserializer.bool()
    else:
        value = deserializer.bytes()
    deserializer.finish()
    return value


_SCRIPT_ARG_TYPES = {"u64": U64Arg, "address": AddressArg, "bool": BoolArg, "bytes": U8VectorArg}


def _script_arg(kind: str, arg: TransactionArgument) -> Any:
    if not isinstance(arg, _SCRIPT_ARG_TYPES[kind]):
        raise PayloadError(StatusCode.TYPE_MISMATCH)
    return arg.value


def compute_currency_args(entry: ScriptEntry, ty_args: tuple[TypeTag, ...]) -> tuple[str, ...]:
    """Currency codes named by the type arguments (each must be ``0x1::C::C``)."""
    if len(ty_args) != entry.type_params:
        raise PayloadError(StatusCode.NUMBER_OF_TYPE_ARGUMENTS_MISMATCH)
    codes = []
    for tag in ty_args:
        code = currency_code_of(tag)
        if code is None:
            raise PayloadError(StatusCode.TYPE_MISMATCH)
        codes.append(code)
    return tuple(codes)


def decode_function_args(entry: ScriptEntry, args: tuple[bytes, ...]) -> tuple[Any, ...]:
    if len(args) != entry.arg_kinds.__len__():
        raise PayloadError(StatusCode.NUMBER_OF_ARGUMENTS_MISMATCH)
    try:
        return tuple([_ARG_DECODERS[kind](data) for kind, data in zip(entry.arg_kinds, args, strict=True)])
    except (BcsError, ValueError):
        raise PayloadError(StatusCode.FAILED_TO_DESERIALIZE_ARGUMENT) from None


def decode_script_args(entry: ScriptEntry, args: tuple[TransactionArgument, ...]) -> tuple[Any, ...]:
    if len(args) != len(entry.arg_kinds):
        raise PayloadError(StatusCode.NUMBER_OF_ARGUMENTS_MISMATCH)
    return tuple(_script_arg(kind, arg) for kind, arg in zip(entry.arg_kinds, args, strict=True))


# --- handlers (argument order as in the Move signatures) -------------------------------------


def _p2p(s: TxnState, sender: AccountAddress, c: tuple[str, ...], a: tuple[Any, ...]) -> None:
    payments.apply_pay_from(s, sender, a[0], c[0], a[1], a[2], a[3])


def _create_child(s: TxnState, sender: AccountAddress, c: tuple[str, ...], a: tuple[Any, ...]) -> None:
    child, prefix, add_all, initial = a
    accounts.apply_create_child_vasp_account(s, sender, child, prefix, c[0], add_all)
    if initial > 0:
        payments.apply_pay_from(s, sender, child, c[0], initial, b"", b"")


def _with_nonce(rule: Callable[..., None]) -> Handler:
    """A TC / Diem Root script whose first argument is a sliding nonce recorded before the rule."""

    def handler(s: TxnState, sender: AccountAddress, c: tuple[str, ...], a: tuple[Any, ...]) -> None:
        accounts.apply_record_nonce(s, sender, a[0])
        rule(s, sender, c, *a[1:])

    return handler


def _create_parent(s: TxnState, sender: AccountAddress, c: tuple[str, ...], addr: Any, prefix: Any, name: Any, add_all: Any) -> None:
    accounts.apply_create_parent_vasp_account(s, sender, addr, prefix, name, c[0], add_all)


def _create_dd(s: TxnState, sender: AccountAddress, c: tuple[str, ...], addr: Any, prefix: Any, name: Any, add_all: Any) -> None:
    treasury.apply_create_designated_dealer(s, sender, addr, prefix, name, c[0], add_all)


def _tiered_mint(s: TxnState, sender: AccountAddress, c: tuple[str, ...], dd: Any, amount: Any, _tier: Any) -> None:
    treasury.apply_tiered_mint(s, sender, dd, c[0], amount)


def _burn_with_amount(s: TxnState, sender: AccountAddress, c: tuple[str, ...], addr: Any, amount: Any) -> None:
    treasury.apply_burn(s, sender, addr, c[0], amount)


def _burn_oldest(s: TxnState, sender: AccountAddress, c: tuple[str, ...], addr: Any) -> None:
    treasury.apply_burn(s, sender, addr, c[0], None)


def _freeze(s: TxnState, sender: AccountAddress, c: tuple[str, ...], target: Any) -> None:
    compliance.apply_freeze_account(s, sender, target)


def _unfreeze(s: TxnState, sender: AccountAddress, c: tuple[str, ...], target: Any) -> None:
    compliance.apply_unfreeze_account(s, sender, target)


def _update_limit(s: TxnState, sender: AccountAddress, c: tuple[str, ...], limit: Any) -> None:
    treasury.apply_update_dual_attestation_limit(s, sender, limit)


def _update_rate(s: TxnState, sender: AccountAddress, c: tuple[str, ...], num: Any, den: Any) -> None:
    treasury.apply_update_exchange_rate(s, sender, c[0], num, den)


def _rotate_key_nonce(s: TxnState, sender: AccountAddress, c: tuple[str, ...], key: Any) -> None:
    accounts.apply_rotate_authentication_key(s, sender, key)


def _create_validator(s: TxnState, sender: AccountAddress, c: tuple[str, ...], addr: Any, prefix: Any, name: Any) -> None:
    system.apply_create_validator_account(s, sender, addr, prefix, name)


def _create_operator(s: TxnState, sender: AccountAddress, c: tuple[str, ...], addr: Any, prefix: Any, name: Any) -> None:
    system.apply_create_validator_operator_account(s, sender, addr, prefix, name)


def _add_validator(s: TxnState, sender: AccountAddress, c: tuple[str, ...], name: Any, validator: Any) -> None:
    system.check_human_name(s, system.get_validator_config(s, validator).human_name, name)
    system.apply_add_validator(s, sender, validator)


def _remove_validator(s: TxnState, sender: AccountAddress, c: tuple[str, ...], name: Any, validator: Any) -> None:
    system.check_human_name(s, system.get_validator_config(s, validator).human_name, name)
    system.apply_remove_validator(s, sender, validator)


def _update_version(s: TxnState, sender: AccountAddress, c: tuple[str, ...], major: Any) -> None:
    system.apply_update_diem_version(s, sender, major)


def _set_operator(s: TxnState, sender: AccountAddress, c: tuple[str, ...], a: tuple[Any, ...]) -> None:
    name, operator = a
    system.check_human_name(s, system.get_operator_name(s, operator), name)
    system.apply_set_operator(s, sender, operator)


def _set_config_and_reconfigure(s: TxnState, sender: AccountAddress, c: tuple[str, ...], a: tuple[Any, ...]) -> None:
    system.apply_set_config(s, sender, *a)
    system.apply_update_config_and_reconfigure(s, sender, a[0])


def _create_attester(s: TxnState, sender: AccountAddress, c: tuple[str, ...], addr: Any, prefix: Any) -> None:
    reserve.apply_create_reserve_attester_account(s, sender, addr, prefix)


def _attest(s: TxnState, sender: AccountAddress, c: tuple[str, ...], amount: Any, as_of: Any, report_hash: Any) -> None:
    reserve.apply_attest_reserve(s, sender, c[0], amount, as_of, report_hash)


def _seize(s: TxnState, sender: AccountAddress, c: tuple[str, ...], target: Any, destination: Any, amount: Any, order: Any) -> None:
    lawful_orders.apply_seize_frozen_funds(s, sender, target, destination, c[0], amount, order)


def _burn_frozen(s: TxnState, sender: AccountAddress, c: tuple[str, ...], target: Any, amount: Any, order: Any) -> None:
    lawful_orders.apply_burn_frozen_funds(s, sender, target, c[0], amount, order)


SCRIPT_ENTRIES: tuple[ScriptEntry, ...] = (
    ScriptEntry("PaymentScripts", "peer_to_peer_with_metadata", 1, ("address", "u64", "bytes", "bytes"), _p2p, 12),
    ScriptEntry("AccountCreationScripts", "create_child_vasp_account", 1, ("address", "bytes", "bool", "u64"), _create_child, 40),
    ScriptEntry("AccountCreationScripts", "create_parent_vasp_account", 1, ("u64", "address", "bytes", "bytes", "bool"), _with_nonce(_create_parent), 40),
    ScriptEntry("AccountCreationScripts", "create_designated_dealer", 1, ("u64", "address", "bytes", "bytes", "bool"), _with_nonce(_create_dd), 40),
    ScriptEntry("AccountCreationScripts", "create_validator_account", 0, ("u64", "address", "bytes", "bytes"), _with_nonce(_create_validator), 40),
    ScriptEntry("AccountCreationScripts", "create_validator_operator_account", 0, ("u64", "address", "bytes", "bytes"), _with_nonce(_create_operator), 40),
    ScriptEntry("AccountAdministrationScripts", "add_currency_to_account", 1, (), lambda s, a, c, _: accounts.apply_add_currency(s, a, c[0]), 10),
    ScriptEntry("AccountAdministrationScripts", "rotate_authentication_key", 0, ("bytes",), lambda s, a, c, x: accounts.apply_rotate_authentication_key(s, a, x[0]), 10),
    ScriptEntry("AccountAdministrationScripts", "rotate_authentication_key_with_nonce", 0, ("u64", "bytes"), _with_nonce(_rotate_key_nonce), 10),
    ScriptEntry("AccountAdministrationScripts", "rotate_dual_attestation_info", 0, ("bytes", "bytes"), lambda s, a, c, x: compliance.apply_rotate_dual_attestation_info(s, a, x[0], x[1]), 20),
    ScriptEntry("AccountAdministrationScripts", "create_diem_id_domains", 0, (), lambda s, a, c, x: compliance.apply_create_diem_id_domains(s, a), 10),
    ScriptEntry("TreasuryComplianceScripts", "add_diem_id_domain", 0, ("address", "bytes"), lambda s, a, c, x: compliance.apply_add_diem_id_domain(s, a, x[0], x[1]), 10),
    ScriptEntry("TreasuryComplianceScripts", "remove_diem_id_domain", 0, ("address", "bytes"), lambda s, a, c, x: compliance.apply_remove_diem_id_domain(s, a, x[0], x[1]), 10),
    ScriptEntry("TreasuryComplianceScripts", "tiered_mint", 1, ("u64", "address", "u64", "u64"), _with_nonce(_tiered_mint), 20),
    ScriptEntry("TreasuryComplianceScripts", "preburn", 1, ("u64",), lambda s, a, c, x: treasury.apply_preburn(s, a, c[0], x[0]), 20),
    ScriptEntry("TreasuryComplianceScripts", "burn_with_amount", 1, ("u64", "address", "u64"), _with_nonce(_burn_with_amount), 20),
    ScriptEntry("TreasuryComplianceScripts", "burn", 1, ("u64", "address"), _with_nonce(_burn_oldest), 20),
    ScriptEntry("TreasuryComplianceScripts", "cancel_burn_with_amount", 1, ("address", "u64"), lambda s, a, c, x: treasury.apply_cancel_burn(s, a, x[0], c[0], x[1]), 20),
    ScriptEntry("TreasuryComplianceScripts", "cancel_burn", 1, ("address",), lambda s, a, c, x: treasury.apply_cancel_burn(s, a, x[0], c[0], None), 20),
    ScriptEntry("TreasuryComplianceScripts", "burn_txn_fees", 1, (), lambda s, a, c, x: treasury.apply_burn_txn_fees(s, a, c[0]), 20),
    ScriptEntry("TreasuryComplianceScripts", "freeze_account", 0, ("u64", "address"), _with_nonce(_freeze), 10),
    ScriptEntry("TreasuryComplianceScripts", "unfreeze_account", 0, ("u64", "address"), _with_nonce(_unfreeze), 10),
    ScriptEntry("TreasuryComplianceScripts", "update_dual_attestation_limit", 0, ("u64", "u64"), _with_nonce(_update_limit), 10),
    ScriptEntry("TreasuryComplianceScripts", "update_exchange_rate", 1, ("u64", "u64", "u64"), _with_nonce(_update_rate), 10),
    ScriptEntry("TreasuryComplianceScripts", "update_minting_ability", 1, ("bool",), lambda s, a, c, x: treasury.apply_update_minting_ability(s, a, c[0], x[0]), 10),
    ScriptEntry("ValidatorAdministrationScripts", "add_validator_and_reconfigure", 0, ("u64", "bytes", "address"), _with_nonce(_add_validator), 30),
    ScriptEntry("ValidatorAdministrationScripts", "remove_validator_and_reconfigure", 0, ("u64", "bytes", "address"), _with_nonce(_remove_validator), 30),
    ScriptEntry("ValidatorAdministrationScripts", "register_validator_config", 0, ("address", "bytes", "bytes", "bytes"), lambda s, a, c, x: system.apply_set_config(s, a, *x), 20),
    ScriptEntry("ValidatorAdministrationScripts", "set_validator_config_and_reconfigure", 0, ("address", "bytes", "bytes", "bytes"), _set_config_and_reconfigure, 30),
    ScriptEntry("ValidatorAdministrationScripts", "set_validator_operator", 0, ("bytes", "address"), _set_operator, 10),
    ScriptEntry("SystemAdministrationScripts", "update_diem_version", 0, ("u64", "u64"), _with_nonce(_update_version), 10),
    # Not in Diem's framework (script functions only, no Move script twins): reserves and lawful orders.
    ScriptEntry("AccountCreationScripts", "create_reserve_attester_account", 0, ("u64", "address", "bytes"), _with_nonce(_create_attester), 40),
    ScriptEntry("ReserveScripts", "attest_reserve", 1, ("u64", "u64", "u64", "bytes"), _with_nonce(_attest), 20),
    ScriptEntry("LawfulOrderScripts", "seize_frozen_funds", 1, ("u64", "address", "address", "u64", "bytes"), _with_nonce(_seize), 20),
    ScriptEntry("LawfulOrderScripts", "burn_frozen_funds", 1, ("u64", "address", "u64", "bytes"), _with_nonce(_burn_frozen), 20),
)

# ``burn`` and ``cancel_burn`` exist only as Move scripts (they act on the oldest preburn request).
SCRIPT_ONLY = frozenset({"burn", "cancel_burn"})
_BY_FUNCTION = {
    (entry.module, entry.function): entry for entry in SCRIPT_ENTRIES if entry.function not in SCRIPT_ONLY
}
_BY_NAME = {entry.function: entry for entry in SCRIPT_ENTRIES}

# sha3_256 of each Move script's bytecode (diem.stdlib 1.7.1) → script name (facts, recorded).
SCRIPT_HASHES: dict[bytes, str] = {
    bytes.fromhex(digest): name
    for digest, name in (
        ("2589feee1e4dea7012b3ce8923a10ef80e2ab360ffdb6ada4c9b013a1b08fb3a", "add_currency_to_account"),
        ("35d8c3c72179615cf40bdef0e40fe56c8a7aff294b9015ee7e8c5707d02f4a0c", "add_validator_and_reconfigure"),
        ("87ee3986a1f2b7fae111d017611798af62dcf075a722cd2a59ba9e53c25b4c14", "burn"),
        ("18da4e8c53fed321d58770e6c3f455848935cdc26153c3b41c166995787cff1d", "burn_txn_fees"),
        ("5c0ffcf26584a0eb64c79c5eb6c49f9f9a65968bc7538b59cabda8b95607b18e", "cancel_burn"),
        ("bf800f1dee9d9f9d472d679a08e28a748fff71135ebfbb6c587f56068ac2028b", "create_child_vasp_account"),
        ("b84a5e3dfcd0aeefd7db94f16ebb2827db46927641aeee2acc6eec516bb711b5", "create_designated_dealer"),
        ("7f00777016cf8770922b6f91e1f7884721a80334f385ee65bbfc420d1bdf5c6b", "create_parent_vasp_account"),
        ("33cd809f96523289a2f447dd6fff7208fff3f3dae3d3cff95bb2103580fc6779", "create_validator_account"),
        ("e1ad20307c5b7f202da07a6f83c946f6b44b30ea6fef56718a73bb8557e8d9c5", "create_validator_operator_account"),
        ("ff9e545db9c3546d892de6c6716d0a45929a721a14d478da3d689900eb16a394", "freeze_account"),
        ("04ea43107fafc12adcd09f6c68d63e194675d0ce843a7faf7cceb6c813db9d9a", "peer_to_peer_with_metadata"),
        ("85149f6f2647f9b682b4ac759766c730627bcd49117ec1f5f7b11a7ea1e21287", "preburn"),
        ("2b124c549e828df9bc38c6d45779d155f973116f077d8f0faa92c4d25389a4c1", "register_validator_config"),
        ("099a4352b3cb4afe8e862fdbe0cd0fb60a11d3fda5bc1b2359876bc024ed10da", "remove_validator_and_reconfigure"),
        ("fc493c1701f007d0958b2a461a79463220d70c24c301eb0d62834d74d6fb8445", "rotate_authentication_key"),
        ("1d01e448e7a2dff96dd5d9007a4f0d63accc5ea3988cede0c7b319bfcb7c899c", "rotate_authentication_key_with_nonce"),
        ("b4e23670c081e09e5da9f3c26aa31f84da8beab55ab299cfdddf64769551ed76", "rotate_dual_attestation_info"),
        ("c53d52844332bf7df524ed5f6181c770de5d9960b7fb4f5ce99049e1b6036101", "set_validator_config_and_reconfigure"),
        ("b33b71a6e98a50d8f41f00af92feec4fd77ede12d3ceb5052e53c6291920620d", "set_validator_operator"),
        ("0718b7826d70196405eacc6643e444b67310c843694389f4085537128dfa538c", "tiered_mint"),
        ("0e9dceaf3a66b076acb0ddd29041ddea4316716da26c88fdd55dad5fd862a3e3", "unfreeze_account"),
        ("e4b3a7ca4ac6910383daf0da691c0fb03db8eefc6bf5e987cdeadb1cd512c785", "update_diem_version"),
        ("fb0c8a78d75796fd753ba99863d2e471d8ce45b96c1a0dba42ba543343d88d67", "update_dual_attestation_limit"),
        ("c7867dc0e3fd4bb68df0de4df83ea562d7f0ef37158f4c22c3187618eddbe6c9", "update_exchange_rate"),
        ("ed7fff3d35644bdb8236662125e6f1bd65aa1c755dc6294e23e92cedb63b8a74", "update_minting_ability"),
    )
}
_SCRIPT_BY_CODE: dict[bytes, ScriptEntry | None] = {}


def find_function(payload: ScriptFunction) -> ScriptEntry | None:
    """The entry of a script-function payload (only module address 0x1 is known)."""
    if payload.module.address != CORE_CODE_ADDRESS:
        return None
    return _BY_FUNCTION.get((payload.module.name, payload.function))


def find_script(code: bytes) -> ScriptEntry | None:
    """The entry of a Move script by the SHA3-256 of its bytecode (cached per code)."""
    try:
        return _SCRIPT_BY_CODE[code]
    except KeyError:
        name = SCRIPT_HASHES.get(sha3_256(code))
        entry = _BY_NAME.get(name) if name is not None else None
        if len(_SCRIPT_BY_CODE) < 1024:
            _SCRIPT_BY_CODE[code] = entry
        return entry


def script_name(code: bytes) -> str | None:
    """The Diem name of a known script (for the JSON ``script.type``), else None."""
    entry = find_script(code)
    return entry.function if entry is not None else None


def find_entry(payload: Script | ScriptFunction) -> ScriptEntry | None:
    return find_script(payload.code) if isinstance(payload, Script) else find_function(payload)


def run_payload(state: TxnState, sender: AccountAddress, payload: Script | ScriptFunction, entry: ScriptEntry) -> None:
    """Decode the payload's arguments for ``entry`` and apply its rule (raises MoveAbort / PayloadError)."""
    codes = compute_currency_args(entry, payload.ty_args)
    if isinstance(payload, Script):
        args = decode_script_args(entry, payload.args)
    else:
        args = decode_function_args(entry, payload.args)
    entry.handler(state, sender, codes, args)
