"""Diem's standard transaction scripts, recognised by the SHA3-256 of their bytecode.

A ``Script`` payload carries Move bytecode; this node runs no Move VM, so it accepts
exactly the standard scripts Diem shipped (diem-protocol.md §8), each of which has a
script-function twin in a ``0x1::*Scripts`` module. The table records, per script,
its code hash, how many type arguments it takes, its argument kinds in order, and the
module of its script-function twin (None for the two scripts without one).
These are protocol facts (hashes of Diem's published bytecode), not code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StandardScript:
    name: str
    code_hash: bytes
    type_parameter_count: int
    argument_kinds: tuple[str, ...]  # "u64", "address", "vector<u8>", "bool"
    module: str | None


STANDARD_SCRIPTS: tuple[StandardScript, ...] = (
    StandardScript(
        "add_currency_to_account",
        bytes.fromhex("2589feee1e4dea7012b3ce8923a10ef80e2ab360ffdb6ada4c9b013a1b08fb3a"),
        1,
        (),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "add_recovery_rotation_capability",
        bytes.fromhex("f7545132388a933bb80c84a08dbd042c81c40fc420d222facaead14f3b2bc889"),
        0,
        ("address",),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "add_validator_and_reconfigure",
        bytes.fromhex("35d8c3c72179615cf40bdef0e40fe56c8a7aff294b9015ee7e8c5707d02f4a0c"),
        0,
        ("u64", "vector<u8>", "address"),
        "ValidatorAdministrationScripts",
    ),
    StandardScript(
        "burn",
        bytes.fromhex("87ee3986a1f2b7fae111d017611798af62dcf075a722cd2a59ba9e53c25b4c14"),
        1,
        ("u64", "address"),
        None,
    ),
    StandardScript(
        "burn_txn_fees",
        bytes.fromhex("18da4e8c53fed321d58770e6c3f455848935cdc26153c3b41c166995787cff1d"),
        1,
        (),
        "TreasuryComplianceScripts",
    ),
    StandardScript(
        "cancel_burn",
        bytes.fromhex("5c0ffcf26584a0eb64c79c5eb6c49f9f9a65968bc7538b59cabda8b95607b18e"),
        1,
        ("address",),
        None,
    ),
    StandardScript(
        "create_child_vasp_account",
        bytes.fromhex("bf800f1dee9d9f9d472d679a08e28a748fff71135ebfbb6c587f56068ac2028b"),
        1,
        ("address", "vector<u8>", "bool", "u64"),
        "AccountCreationScripts",
    ),
    StandardScript(
        "create_designated_dealer",
        bytes.fromhex("b84a5e3dfcd0aeefd7db94f16ebb2827db46927641aeee2acc6eec516bb711b5"),
        1,
        ("u64", "address", "vector<u8>", "vector<u8>", "bool"),
        "AccountCreationScripts",
    ),
    StandardScript(
        "create_parent_vasp_account",
        bytes.fromhex("7f00777016cf8770922b6f91e1f7884721a80334f385ee65bbfc420d1bdf5c6b"),
        1,
        ("u64", "address", "vector<u8>", "vector<u8>", "bool"),
        "AccountCreationScripts",
    ),
    StandardScript(
        "create_recovery_address",
        bytes.fromhex("79a16929e125dd1924efd846ed2bfae17803c63013cf4b7c865b7b6055a1f8a4"),
        0,
        (),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "create_validator_account",
        bytes.fromhex("33cd809f96523289a2f447dd6fff7208fff3f3dae3d3cff95bb2103580fc6779"),
        0,
        ("u64", "address", "vector<u8>", "vector<u8>"),
        "AccountCreationScripts",
    ),
    StandardScript(
        "create_validator_operator_account",
        bytes.fromhex("e1ad20307c5b7f202da07a6f83c946f6b44b30ea6fef56718a73bb8557e8d9c5"),
        0,
        ("u64", "address", "vector<u8>", "vector<u8>"),
        "AccountCreationScripts",
    ),
    StandardScript(
        "freeze_account",
        bytes.fromhex("ff9e545db9c3546d892de6c6716d0a45929a721a14d478da3d689900eb16a394"),
        0,
        ("u64", "address"),
        "TreasuryComplianceScripts",
    ),
    StandardScript(
        "peer_to_peer_with_metadata",
        bytes.fromhex("04ea43107fafc12adcd09f6c68d63e194675d0ce843a7faf7cceb6c813db9d9a"),
        1,
        ("address", "u64", "vector<u8>", "vector<u8>"),
        "PaymentScripts",
    ),
    StandardScript(
        "preburn",
        bytes.fromhex("85149f6f2647f9b682b4ac759766c730627bcd49117ec1f5f7b11a7ea1e21287"),
        1,
        ("u64",),
        "TreasuryComplianceScripts",
    ),
    StandardScript(
        "publish_shared_ed25519_public_key",
        bytes.fromhex("dfcfe1d8eb8e7a9dc1038b5d9d015c09c9e38ec6af310de7d5592de359092486"),
        0,
        ("vector<u8>",),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "register_validator_config",
        bytes.fromhex("2b124c549e828df9bc38c6d45779d155f973116f077d8f0faa92c4d25389a4c1"),
        0,
        ("address", "vector<u8>", "vector<u8>", "vector<u8>"),
        "ValidatorAdministrationScripts",
    ),
    StandardScript(
        "remove_validator_and_reconfigure",
        bytes.fromhex("099a4352b3cb4afe8e862fdbe0cd0fb60a11d3fda5bc1b2359876bc024ed10da"),
        0,
        ("u64", "vector<u8>", "address"),
        "ValidatorAdministrationScripts",
    ),
    StandardScript(
        "rotate_authentication_key",
        bytes.fromhex("fc493c1701f007d0958b2a461a79463220d70c24c301eb0d62834d74d6fb8445"),
        0,
        ("vector<u8>",),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "rotate_authentication_key_with_nonce_admin",
        bytes.fromhex("2d4bc2d0a8364ba8df9dd78e1357172f49a6e6f7b479c9fa74f849c20b0f9677"),
        0,
        ("u64", "vector<u8>"),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "rotate_authentication_key_with_nonce",
        bytes.fromhex("1d01e448e7a2dff96dd5d9007a4f0d63accc5ea3988cede0c7b319bfcb7c899c"),
        0,
        ("u64", "vector<u8>"),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "rotate_authentication_key_with_recovery_address",
        bytes.fromhex("157f747315d3cbf7695f6892b1aee3fb493d7fa231dd545fe5f173920b30e657"),
        0,
        ("address", "address", "vector<u8>"),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "rotate_dual_attestation_info",
        bytes.fromhex("b4e23670c081e09e5da9f3c26aa31f84da8beab55ab299cfdddf64769551ed76"),
        0,
        ("vector<u8>", "vector<u8>"),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "rotate_shared_ed25519_public_key",
        bytes.fromhex("6adcf90ce474223545e2c204c1b48fab4ce28693a1d9bf51fb0f06d687d22a3f"),
        0,
        ("vector<u8>",),
        "AccountAdministrationScripts",
    ),
    StandardScript(
        "set_validator_config_and_reconfigure",
        bytes.fromhex("c53d52844332bf7df524ed5f6181c770de5d9960b7fb4f5ce99049e1b6036101"),
        0,
        ("address", "vector<u8>", "vector<u8>", "vector<u8>"),
        "ValidatorAdministrationScripts",
    ),
    StandardScript(
        "set_validator_operator",
        bytes.fromhex("b33b71a6e98a50d8f41f00af92feec4fd77ede12d3ceb5052e53c6291920620d"),
        0,
        ("vector<u8>", "address"),
        "ValidatorAdministrationScripts",
    ),
    StandardScript(
        "set_validator_operator_with_nonce_admin",
        bytes.fromhex("7b7d7e02addc3dc14210d1db2baf17779b443b6dc9b70daf88cf4673d458f429"),
        0,
        ("u64", "vector<u8>", "address"),
        "ValidatorAdministrationScripts",
    ),
    StandardScript(
        "tiered_mint",
        bytes.fromhex("0718b7826d70196405eacc6643e444b67310c843694389f4085537128dfa538c"),
        1,
        ("u64", "address", "u64", "u64"),
        "TreasuryComplianceScripts",
    ),
    StandardScript(
        "unfreeze_account",
        bytes.fromhex("0e9dceaf3a66b076acb0ddd29041ddea4316716da26c88fdd55dad5fd862a3e3"),
        0,
        ("u64", "address"),
        "TreasuryComplianceScripts",
    ),
    StandardScript(
        "update_diem_version",
        bytes.fromhex("e4b3a7ca4ac6910383daf0da691c0fb03db8eefc6bf5e987cdeadb1cd512c785"),
        0,
        ("u64", "u64"),
        "SystemAdministrationScripts",
    ),
    StandardScript(
        "update_dual_attestation_limit",
        bytes.fromhex("fb0c8a78d75796fd753ba99863d2e471d8ce45b96c1a0dba42ba543343d88d67"),
        0,
        ("u64", "u64"),
        "TreasuryComplianceScripts",
    ),
    StandardScript(
        "update_exchange_rate",
        bytes.fromhex("c7867dc0e3fd4bb68df0de4df83ea562d7f0ef37158f4c22c3187618eddbe6c9"),
        1,
        ("u64", "u64", "u64"),
        "TreasuryComplianceScripts",
    ),
    StandardScript(
        "update_minting_ability",
        bytes.fromhex("ed7fff3d35644bdb8236662125e6f1bd65aa1c755dc6294e23e92cedb63b8a74"),
        1,
        ("bool",),
        "TreasuryComplianceScripts",
    ),
)

SCRIPTS_BY_HASH: dict[bytes, StandardScript] = {script.code_hash: script for script in STANDARD_SCRIPTS}
SCRIPTS_BY_NAME: dict[str, StandardScript] = {script.name: script for script in STANDARD_SCRIPTS}


def standard_script_for_code(code: bytes) -> StandardScript | None:
    """The standard script whose bytecode is ``code``, or None."""
    return SCRIPTS_BY_HASH.get(hashlib.sha3_256(code).digest())
