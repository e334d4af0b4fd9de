"""Our builders produce the very bytes Diem's SDK builds for the same calls."""

from diem import diem_types as sdk
from diem import stdlib, utils

from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.framework.scripts import compute_currency_args, decode_function_args, find_function
from libra.types.move import AccountAddress

ADDRESS = AccountAddress.from_hex("6dfcea9ac61f0a8420e5d01fbd8f0ea8")
SDK_ADDRESS = sdk.AccountAddress.from_hex(ADDRESS.hex())
XUS = utils.currency_code("XUS")


def sdk_bytes(payload: sdk.TransactionPayload) -> bytes:
    return payload.value.bcs_serialize()


def test_builders_match_sdk_encoders():
    pairs = [
        (
            builders.peer_to_peer_with_metadata("XUS", ADDRESS, 123, b"meta", b"sig"),
            stdlib.encode_peer_to_peer_with_metadata_script_function(XUS, SDK_ADDRESS, 123, b"meta", b"sig"),
        ),
        (
            builders.create_parent_vasp_account("XUS", 0, ADDRESS, bytes(16), b"name", True),
            stdlib.encode_create_parent_vasp_account_script_function(XUS, 0, SDK_ADDRESS, bytes(16), b"name", True),
        ),
        (
            builders.create_designated_dealer("XUS", 3, ADDRESS, bytes(16), b"dd"),
            stdlib.encode_create_designated_dealer_script_function(XUS, 3, SDK_ADDRESS, bytes(16), b"dd", False),
        ),
        (
            builders.create_child_vasp_account("XUS", ADDRESS, bytes(16), False, 9),
            stdlib.encode_create_child_vasp_account_script_function(XUS, SDK_ADDRESS, bytes(16), False, 9),
        ),
        (
            builders.add_diem_id_domain(ADDRESS, b"dom"),
            stdlib.encode_add_diem_id_domain_script_function(SDK_ADDRESS, b"dom"),
        ),
        (
            builders.remove_diem_id_domain(ADDRESS, b"dom"),
            stdlib.encode_remove_diem_id_domain_script_function(SDK_ADDRESS, b"dom"),
        ),
        (
            builders.rotate_dual_attestation_info(b"http://x", bytes(32)),
            stdlib.encode_rotate_dual_attestation_info_script_function(b"http://x", bytes(32)),
        ),
        (
            builders.rotate_authentication_key(bytes(32)),
            stdlib.encode_rotate_authentication_key_script_function(bytes(32)),
        ),
        (
            builders.tiered_mint("XUS", 1, ADDRESS, 100, 0),
            stdlib.encode_tiered_mint_script_function(XUS, 1, SDK_ADDRESS, 100, 0),
        ),
        (
            builders.create_validator_account(2, ADDRESS, bytes(16), b"v"),
            stdlib.encode_create_validator_account_script_function(2, SDK_ADDRESS, bytes(16), b"v"),
        ),
        (
            builders.create_validator_operator_account(3, ADDRESS, bytes(16), b"op"),
            stdlib.encode_create_validator_operator_account_script_function(3, SDK_ADDRESS, bytes(16), b"op"),
        ),
        (
            builders.set_validator_operator(b"op", ADDRESS),
            stdlib.encode_set_validator_operator_script_function(b"op", SDK_ADDRESS),
        ),
        (
            builders.register_validator_config(ADDRESS, bytes(32), b"net", b"full"),
            stdlib.encode_register_validator_config_script_function(SDK_ADDRESS, bytes(32), b"net", b"full"),
        ),
        (
            builders.add_validator_and_reconfigure(4, b"v", ADDRESS),
            stdlib.encode_add_validator_and_reconfigure_script_function(4, b"v", SDK_ADDRESS),
        ),
        (
            builders.remove_validator_and_reconfigure(5, b"v", ADDRESS),
            stdlib.encode_remove_validator_and_reconfigure_script_function(5, b"v", SDK_ADDRESS),
        ),
        (builders.freeze_account(6, ADDRESS), stdlib.encode_freeze_account_script_function(6, SDK_ADDRESS)),
        (builders.unfreeze_account(7, ADDRESS), stdlib.encode_unfreeze_account_script_function(7, SDK_ADDRESS)),
        (builders.preburn("XUS", 8), stdlib.encode_preburn_script_function(XUS, 8)),
        (
            builders.burn_with_amount("XUS", 9, ADDRESS, 10),
            stdlib.encode_burn_with_amount_script_function(XUS, 9, SDK_ADDRESS, 10),
        ),
    ]
    for ours, theirs in pairs:
        assert ours.to_bcs() == sdk_bytes(theirs)


def test_signed_transaction_matches_sdk_signing_and_hash():
    key = Ed25519PrivateKey.from_bytes(bytes(range(32)))
    submission = builders.sign_transaction(
        key,
        ADDRESS,
        5,
        builders.peer_to_peer_with_metadata("XUS", ADDRESS, 1),
        chain_id=2,
        expiration_timestamp_secs=1_800_000_000,
    )
    parsed = sdk.SignedTransaction.bcs_deserialize(submission.bcs)
    assert utils.transaction_hash(parsed) == submission.hash.hex()
    from nacl.signing import VerifyKey

    VerifyKey(parsed.authenticator.public_key.value).verify(
        utils.raw_transaction_signing_msg(parsed.raw_txn), parsed.authenticator.signature.value
    )


def test_reserve_and_order_builders_reach_their_rules_with_their_arguments():
    """Builders of the scripts Diem has no encoder for: each payload resolves to its framework
    entry and decodes to exactly the arguments given, in the rule's order."""
    other = AccountAddress.from_hex("000000000000000000000000000000dd")
    digest = bytes(range(32))
    cases = [
        (builders.create_reserve_attester_account(1, ADDRESS, bytes(16)), (1, ADDRESS, bytes(16)), ()),
        (builders.attest_reserve("XUS", 2, 10**12, 1_700_000_000_000_000, digest), (2, 10**12, 1_700_000_000_000_000, digest), ("XUS",)),
        (builders.seize_frozen_funds("XUS", 3, ADDRESS, other, 55, digest), (3, ADDRESS, other, 55, digest), ("XUS",)),
        (builders.burn_frozen_funds("XUS", 4, ADDRESS, 66, digest), (4, ADDRESS, 66, digest), ("XUS",)),
    ]
    for payload, args, codes in cases:
        entry = find_function(payload)
        assert entry is not None, payload.function
        assert decode_function_args(entry, payload.args) == args
        assert compute_currency_args(entry, payload.ty_args) == codes
