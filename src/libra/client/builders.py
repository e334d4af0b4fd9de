"""Transaction builders: script-function payloads and signed transactions.

Each builder returns the ``ScriptFunction`` Diem's SDK would build for the same call
(module ``0x1::<Module>``, type arguments, arguments as BCS of the Move values), so
that transactions from our tools and from Diem's wallets are indistinguishable.
"""

from __future__ import annotations

from dataclasses import dataclass

from libra.bcs import Serializer
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.hashing import signing_message, user_transaction_hash
from libra.types.move import CORE_CODE_ADDRESS, AccountAddress, ModuleId, currency_type_tag
from libra.types.transaction import (
    Ed25519Authenticator,
    RawTransaction,
    ScriptFunction,
    SignedTransaction,
    TransactionPayload,
)

DEFAULT_MAX_GAS_AMOUNT = 1_000_000
DEFAULT_GAS_CURRENCY = "XUS"


def _u64(value: int) -> bytes:
    s = Serializer()
    s.u64(value)
    return s.output()


def _bool(value: bool) -> bytes:
    return b"\x01" if value else b"\x00"


def _vector_u8(value: bytes) -> bytes:
    s = Serializer()
    s.bytes(value)
    return s.output()


def _address(value: AccountAddress) -> bytes:
    return value.value


def script_function(module: str, function: str, type_args: tuple[str, ...], *args: bytes) -> ScriptFunction:
    return ScriptFunction(
        ModuleId(CORE_CODE_ADDRESS, module),
        function,
        tuple(currency_type_tag(code) for code in type_args),
        tuple(args),
    )


def peer_to_peer_with_metadata(
    currency: str, payee: AccountAddress, amount: int, metadata: bytes = b"", metadata_signature: bytes = b""
) -> ScriptFunction:
    return script_function(
        "PaymentScripts",
        "peer_to_peer_with_metadata",
        (currency,),
        _address(payee),
        _u64(amount),
        _vector_u8(metadata),
        _vector_u8(metadata_signature),
    )


def create_parent_vasp_account(
    currency: str,
    sliding_nonce: int,
    address: AccountAddress,
    auth_key_prefix: bytes,
    human_name: bytes,
    add_all_currencies: bool = False,
) -> ScriptFunction:
    return script_function(
        "AccountCreationScripts",
        "create_parent_vasp_account",
        (currency,),
        _u64(sliding_nonce),
        _address(address),
        _vector_u8(auth_key_prefix),
        _vector_u8(human_name),
        _bool(add_all_currencies),
    )


def create_designated_dealer(
    currency: str,
    sliding_nonce: int,
    address: AccountAddress,
    auth_key_prefix: bytes,
    human_name: bytes,
    add_all_currencies: bool = False,
) -> ScriptFunction:
    return script_function(
        "AccountCreationScripts",
        "create_designated_dealer",
        (currency,),
        _u64(sliding_nonce),
        _address(address),
        _vector_u8(auth_key_prefix),
        _vector_u8(human_name),
        _bool(add_all_currencies),
    )


def create_child_vasp_account(
    currency: str, child: AccountAddress, auth_key_prefix: bytes, add_all_currencies: bool, initial_balance: int
) -> ScriptFunction:
    return script_function(
        "AccountCreationScripts",
        "create_child_vasp_account",
        (currency,),
        _address(child),
        _vector_u8(auth_key_prefix),
        _bool(add_all_currencies),
        _u64(initial_balance),
    )


def add_diem_id_domain(address: AccountAddress, domain: bytes) -> ScriptFunction:
    return script_function(
        "TreasuryComplianceScripts", "add_diem_id_domain", (), _address(address), _vector_u8(domain)
    )


def remove_diem_id_domain(address: AccountAddress, domain: bytes) -> ScriptFunction:
    return script_function(
        "TreasuryComplianceScripts", "remove_diem_id_domain", (), _address(address), _vector_u8(domain)
    )


def rotate_dual_attestation_info(new_url: bytes, new_key: bytes) -> ScriptFunction:
    return script_function(
        "AccountAdministrationScripts", "rotate_dual_attestation_info", (), _vector_u8(new_url), _vector_u8(new_key)
    )


def rotate_authentication_key(new_key: bytes) -> ScriptFunction:
    return script_function("AccountAdministrationScripts", "rotate_authentication_key", (), _vector_u8(new_key))


def tiered_mint(currency: str, sliding_nonce: int, dealer: AccountAddress, amount: int, tier: int = 0) -> ScriptFunction:
    return script_function(
        "TreasuryComplianceScripts",
        "tiered_mint",
        (currency,),
        _u64(sliding_nonce),
        _address(dealer),
        _u64(amount),
        _u64(tier),
    )


def create_validator_account(
    sliding_nonce: int, address: AccountAddress, auth_key_prefix: bytes, human_name: bytes
) -> ScriptFunction:
    """Diem Root creates a validator owner account (no config yet)."""
    return script_function(
        "AccountCreationScripts",
        "create_validator_account",
        (),
        _u64(sliding_nonce),
        _address(address),
        _vector_u8(auth_key_prefix),
        _vector_u8(human_name),
    )


def create_validator_operator_account(
    sliding_nonce: int, address: AccountAddress, auth_key_prefix: bytes, human_name: bytes
) -> ScriptFunction:
    """Diem Root creates a validator operator account."""
    return script_function(
        "AccountCreationScripts",
        "create_validator_operator_account",
        (),
        _u64(sliding_nonce),
        _address(address),
        _vector_u8(auth_key_prefix),
        _vector_u8(human_name),
    )


def set_validator_operator(operator_name: bytes, operator: AccountAddress) -> ScriptFunction:
    """The validator owner names its operator (sent by the owner)."""
    return script_function(
        "ValidatorAdministrationScripts", "set_validator_operator", (), _vector_u8(operator_name), _address(operator)
    )


def register_validator_config(
    validator: AccountAddress, consensus_public_key: bytes, network_addresses: bytes, full_node_addresses: bytes
) -> ScriptFunction:
    """The operator sets the validator's config (keys and endpoint); no new epoch."""
    return script_function(
        "ValidatorAdministrationScripts",
        "register_validator_config",
        (),
        _address(validator),
        _vector_u8(consensus_public_key),
        _vector_u8(network_addresses),
        _vector_u8(full_node_addresses),
    )


def add_validator_and_reconfigure(sliding_nonce: int, validator_name: bytes, validator: AccountAddress) -> ScriptFunction:
    """Diem Root adds a configured validator to the set; a new epoch starts."""
    return script_function(
        "ValidatorAdministrationScripts",
        "add_validator_and_reconfigure",
        (),
        _u64(sliding_nonce),
        _vector_u8(validator_name),
        _address(validator),
    )


def remove_validator_and_reconfigure(
    sliding_nonce: int, validator_name: bytes, validator: AccountAddress
) -> ScriptFunction:
    """Diem Root removes a validator from the set; a new epoch starts."""
    return script_function(
        "ValidatorAdministrationScripts",
        "remove_validator_and_reconfigure",
        (),
        _u64(sliding_nonce),
        _vector_u8(validator_name),
        _address(validator),
    )


def freeze_account(sliding_nonce: int, address: AccountAddress) -> ScriptFunction:
    """Treasury Compliance freezes an account (it sends nothing until unfrozen)."""
    return script_function("TreasuryComplianceScripts", "freeze_account", (), _u64(sliding_nonce), _address(address))


def unfreeze_account(sliding_nonce: int, address: AccountAddress) -> ScriptFunction:
    return script_function("TreasuryComplianceScripts", "unfreeze_account", (), _u64(sliding_nonce), _address(address))


def preburn(currency: str, amount: int) -> ScriptFunction:
    """A designated dealer asks to redeem ``amount``: it moves from its balance to its preburn queue."""
    return script_function("TreasuryComplianceScripts", "preburn", (currency,), _u64(amount))


def burn_with_amount(currency: str, sliding_nonce: int, preburn_address: AccountAddress, amount: int) -> ScriptFunction:
    """Treasury Compliance burns a dealer's preburn request of ``amount`` (the redemption completes)."""
    return script_function(
        "TreasuryComplianceScripts", "burn_with_amount", (currency,),
        _u64(sliding_nonce), _address(preburn_address), _u64(amount),
    )


# --- not in Diem's framework: reserves and lawful orders (libra.framework.reserve, .lawful_orders)


def create_reserve_attester_account(sliding_nonce: int, address: AccountAddress, auth_key_prefix: bytes) -> ScriptFunction:
    """Diem Root creates an account whose only power is attesting reserves."""
    return script_function(
        "AccountCreationScripts", "create_reserve_attester_account", (),
        _u64(sliding_nonce), _address(address), _vector_u8(auth_key_prefix),
    )


def attest_reserve(currency: str, sliding_nonce: int, reserve: int, as_of_usecs: int, report_hash: bytes) -> ScriptFunction:
    """Treasury Compliance or a Reserve Attester records the custodian's reserve of ``currency``:
    ``reserve`` micro-units held as of ``as_of_usecs``, ``report_hash`` = SHA3-256 of the report."""
    return script_function(
        "ReserveScripts", "attest_reserve", (currency,),
        _u64(sliding_nonce), _u64(reserve), _u64(as_of_usecs), _vector_u8(report_hash),
    )


def seize_frozen_funds(
    currency: str, sliding_nonce: int, target: AccountAddress, destination: AccountAddress, amount: int, order_hash: bytes
) -> ScriptFunction:
    """Treasury Compliance moves ``amount`` from frozen ``target`` to ``destination`` on a lawful order."""
    return script_function(
        "LawfulOrderScripts", "seize_frozen_funds", (currency,),
        _u64(sliding_nonce), _address(target), _address(destination), _u64(amount), _vector_u8(order_hash),
    )


def burn_frozen_funds(currency: str, sliding_nonce: int, target: AccountAddress, amount: int, order_hash: bytes) -> ScriptFunction:
    """Treasury Compliance burns ``amount`` held by frozen ``target`` on a lawful order."""
    return script_function(
        "LawfulOrderScripts", "burn_frozen_funds", (currency,),
        _u64(sliding_nonce), _address(target), _u64(amount), _vector_u8(order_hash),
    )


@dataclass(frozen=True, slots=True)
class SignedSubmission:
    """A signed transaction with the bytes to submit and the hash to wait for."""

    transaction: SignedTransaction
    bcs: bytes
    hash: bytes


def sign_transaction(
    key: Ed25519PrivateKey,
    sender: AccountAddress,
    sequence_number: int,
    payload: TransactionPayload,
    *,
    chain_id: int,
    expiration_timestamp_secs: int,
    max_gas_amount: int = DEFAULT_MAX_GAS_AMOUNT,
    gas_unit_price: int = 0,
    gas_currency_code: str = DEFAULT_GAS_CURRENCY,
) -> SignedSubmission:
    raw = RawTransaction(
        sender=sender,
        sequence_number=sequence_number,
        payload=payload,
        max_gas_amount=max_gas_amount,
        gas_unit_price=gas_unit_price,
        gas_currency_code=gas_currency_code,
        expiration_timestamp_secs=expiration_timestamp_secs,
        chain_id=chain_id,
    )
    signature = key.sign(signing_message(raw.to_bcs()))
    signed = SignedTransaction(raw, Ed25519Authenticator(key.public_key().to_bytes(), signature.to_bytes()))
    data = signed.to_bcs()
    return SignedSubmission(signed, data, user_transaction_hash(data))
