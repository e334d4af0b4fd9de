"""Byte-exactness of our wire types against the official Diem SDK (diem==1.7.1).

Thousands of SDK-built transactions covering every script function, every Script the
SDK bundles, every payload and authenticator kind and every payment-metadata kind:
decode with our types, re-encode, and compare bytes, signing messages and hashes.
"""

import inspect
import random

import pytest
from diem import diem_types as sdk
from diem import stdlib, utils
from nacl.signing import SigningKey

from libra.bcs import BcsError
from libra.crypto.hashing import signing_message, transaction_hash, user_transaction_hash
from libra.types.move import AccountAddress, StructTag, currency_type_tag
from libra.types.transaction import (
    RawTransaction,
    Script,
    ScriptFunction,
    SignedTransaction,
    transaction_from_bcs,
    transaction_to_bcs,
)

SEED = 20261127
CURRENCIES = ["XUS", "XDX", "Coin1"]


def random_bytes(rng: random.Random, low: int = 0, high: int = 80) -> bytes:
    return rng.randbytes(rng.randint(low, high))


def random_address(rng: random.Random) -> sdk.AccountAddress:
    return sdk.AccountAddress.from_hex(rng.randbytes(16).hex())


def random_value(rng: random.Random, annotation) -> object:
    annotation = getattr(annotation, "__name__", str(annotation)).removeprefix("st.")
    if annotation == "TypeTag":
        return utils.currency_code(rng.choice(CURRENCIES))
    if annotation == "uint64":
        return rng.choice([0, 1, rng.getrandbits(64), 2**64 - 1])
    if annotation == "AccountAddress":
        return random_address(rng)
    if annotation == "bytes":
        return random_bytes(rng)
    if annotation == "bool":
        return rng.random() < 0.5
    raise AssertionError(annotation)


def sdk_encoders(suffix: str):
    found = []
    for name, fn in inspect.getmembers(stdlib, inspect.isfunction):
        if name.startswith("encode_") and name.endswith(suffix) and name not in (
            "encode_script",
            "encode_script_function",
        ):
            found.append(fn)
    return found


SCRIPT_FUNCTION_ENCODERS = sdk_encoders("_script_function")
SCRIPT_ENCODERS = sdk_encoders("_script")


def call_encoder(rng: random.Random, encoder):
    params = inspect.signature(encoder).parameters.values()
    return encoder(*[random_value(rng, p.annotation) for p in params])


def random_metadata(rng: random.Random) -> bytes:
    kind = rng.randrange(7)
    if kind == 0:
        return sdk.Metadata__Undefined().bcs_serialize()
    if kind == 1:
        v0 = sdk.GeneralMetadataV0(
            to_subaddress=rng.choice([None, rng.randbytes(8)]),
            from_subaddress=rng.choice([None, rng.randbytes(8)]),
            referenced_event=rng.choice([None, rng.getrandbits(64)]),
        )
        return sdk.Metadata__GeneralMetadata(sdk.GeneralMetadata__GeneralMetadataVersion0(v0)).bcs_serialize()
    if kind == 2:
        v0 = sdk.TravelRuleMetadataV0(off_chain_reference_id=rng.choice([None, "ref", "x" * 36]))
        return sdk.Metadata__TravelRuleMetadata(
            sdk.TravelRuleMetadata__TravelRuleMetadataVersion0(v0)
        ).bcs_serialize()
    if kind == 3:
        return sdk.Metadata__UnstructuredBytesMetadata(
            sdk.UnstructuredBytesMetadata(metadata=rng.choice([None, random_bytes(rng)]))
        ).bcs_serialize()
    if kind == 4:
        reason = rng.choice(
            [
                sdk.RefundReason__OtherReason,
                sdk.RefundReason__InvalidSubaddress,
                sdk.RefundReason__UserInitiatedPartialRefund,
                sdk.RefundReason__UserInitiatedFullRefund,
                sdk.RefundReason__InvalidReferenceId,
            ]
        )()
        v0 = sdk.RefundMetadataV0(transaction_version=rng.getrandbits(64), reason=reason)
        return sdk.Metadata__RefundMetadata(sdk.RefundMetadata__RefundMetadataV0(v0)).bcs_serialize()
    if kind == 5:
        v0 = sdk.CoinTradeMetadataV0(trade_ids=[f"trade{i}" for i in range(rng.randrange(3))])
        return sdk.Metadata__CoinTradeMetadata(sdk.CoinTradeMetadata__CoinTradeMetadataV0(v0)).bcs_serialize()
    v0 = sdk.PaymentMetadataV0(reference_id=tuple(sdk.st.uint8(b) for b in rng.randbytes(16)))
    return sdk.Metadata__PaymentMetadata(sdk.PaymentMetadata__PaymentMetadataVersion0(v0)).bcs_serialize()


def random_payload(rng: random.Random):
    choice = rng.randrange(10)
    if choice < 4:
        return call_encoder(rng, rng.choice(SCRIPT_FUNCTION_ENCODERS))
    if choice < 6:
        return sdk.TransactionPayload__Script(call_encoder(rng, rng.choice(SCRIPT_ENCODERS)))
    if choice < 9:
        # payments with every metadata kind, as Script and as ScriptFunction
        args = (random_address(rng), rng.getrandbits(64), random_metadata(rng), random_bytes(rng, 0, 64))
        currency = utils.currency_code(rng.choice(CURRENCIES))
        if rng.random() < 0.5:
            return stdlib.encode_peer_to_peer_with_metadata_script_function(currency, *args)
        return sdk.TransactionPayload__Script(stdlib.encode_peer_to_peer_with_metadata_script(currency, *args))
    return sdk.TransactionPayload__Module(sdk.Module(code=random_bytes(rng, 1, 200)))


def random_raw_txn(rng: random.Random, sender_key: SigningKey) -> sdk.RawTransaction:
    public_key = bytes(sender_key.verify_key)
    return sdk.RawTransaction(
        sender=sdk.AccountAddress.from_hex(utils.account_address_hex(_sdk_address_of(public_key))),
        sequence_number=sdk.st.uint64(rng.getrandbits(64)),
        payload=random_payload(rng),
        max_gas_amount=sdk.st.uint64(rng.choice([1_000_000, rng.getrandbits(64)])),
        gas_unit_price=sdk.st.uint64(rng.choice([0, rng.getrandbits(64)])),
        gas_currency_code=rng.choice(CURRENCIES),
        expiration_timestamp_secs=sdk.st.uint64(rng.getrandbits(64)),
        chain_id=sdk.ChainId(sdk.st.uint8(rng.randrange(256))),
    )


def _sdk_address_of(public_key: bytes) -> sdk.AccountAddress:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from diem.auth_key import AuthKey

    return AuthKey.from_public_key(Ed25519PublicKey.from_public_bytes(public_key)).account_address()


def sdk_signed_transactions(count: int):
    rng = random.Random(SEED)
    keys = [SigningKey(rng.randbytes(32)) for _ in range(8)]
    for _ in range(count):
        key = rng.choice(keys)
        raw = random_raw_txn(rng, key)
        signature = key.sign(utils.raw_transaction_signing_msg(raw)).signature
        yield utils.create_signed_transaction(raw, bytes(key.verify_key), signature)


def test_every_sdk_script_function_and_script_is_covered():
    assert len(SCRIPT_FUNCTION_ENCODERS) == 39
    assert len(SCRIPT_ENCODERS) == 33


@pytest.mark.parametrize("encoder", SCRIPT_FUNCTION_ENCODERS + SCRIPT_ENCODERS, ids=lambda f: f.__name__)
def test_each_script_payload_round_trips(encoder):
    rng = random.Random(encoder.__name__)
    for _ in range(5):
        payload = call_encoder(rng, encoder)
        if isinstance(payload, sdk.Script):
            data = payload.bcs_serialize()
            ours = Script.from_bcs(data)
        else:
            data = payload.value.bcs_serialize()
            ours = ScriptFunction.from_bcs(data)
        assert ours.to_bcs() == data


def test_thousands_of_sdk_transactions_are_byte_exact():
    checked = 0
    for signed in sdk_signed_transactions(3000):
        data = signed.bcs_serialize()
        ours = SignedTransaction.from_bcs(data)
        assert ours.to_bcs() == data
        raw_bytes = ours.raw_txn.to_bcs()
        assert signing_message(raw_bytes) == utils.raw_transaction_signing_msg(signed.raw_txn)
        assert user_transaction_hash(data).hex() == utils.transaction_hash(signed)
        ledger_bytes = sdk.Transaction__UserTransaction(signed).bcs_serialize()
        assert transaction_to_bcs(transaction_from_bcs(ledger_bytes)) == ledger_bytes
        assert transaction_hash(ledger_bytes).hex() == utils.transaction_hash(signed)
        checked += 1
    assert checked == 3000


def test_worked_example_from_protocol_notes():
    key = SigningKey(bytes(32))
    payee = _sdk_address_of(bytes(SigningKey(bytes([0x11] * 32)).verify_key))
    payload = stdlib.encode_peer_to_peer_with_metadata_script_function(
        utils.currency_code("XUS"), payee, 1000, b"", b""
    )
    raw = sdk.RawTransaction(
        sender=_sdk_address_of(bytes(key.verify_key)),
        sequence_number=sdk.st.uint64(7),
        payload=payload,
        max_gas_amount=sdk.st.uint64(1_000_000),
        gas_unit_price=sdk.st.uint64(0),
        gas_currency_code="XUS",
        expiration_timestamp_secs=sdk.st.uint64(1700000000),
        chain_id=sdk.ChainId(sdk.st.uint8(2)),
    )
    ours = RawTransaction.from_bcs(raw.bcs_serialize())
    assert ours.sender.hex() == "bb84d9cdf7362e4e2522265b185127cb"
    assert ours.payload.module.name == "PaymentScripts"
    assert ours.payload.function == "peer_to_peer_with_metadata"
    assert ours.payload.ty_args == (currency_type_tag("XUS"),)
    assert ours.to_bcs().hex().startswith("bb84d9cdf7362e4e2522265b185127cb0700000000000000030000")


def test_ledger_enum_variants_match_sdk():
    rng = random.Random(SEED + 1)
    for _ in range(200):
        metadata = sdk.BlockMetadata(
            id=sdk.HashValue(rng.randbytes(32)),
            round=sdk.st.uint64(rng.getrandbits(64)),
            timestamp_usecs=sdk.st.uint64(rng.getrandbits(64)),
            previous_block_votes=[random_address(rng) for _ in range(rng.randrange(5))],
            proposer=random_address(rng),
        )
        event = sdk.ContractEvent__V0(
            sdk.ContractEventV0(
                key=sdk.EventKey(rng.randbytes(24)),
                sequence_number=sdk.st.uint64(rng.getrandbits(64)),
                type_tag=sdk.TypeTag__Vector(sdk.TypeTag__Struct(utils.currency_code("XUS").value)),
                event_data=random_bytes(rng),
            )
        )
        write_set = sdk.WriteSet(
            sdk.WriteSetMut(
                [
                    (sdk.AccessPath(random_address(rng), random_bytes(rng)), sdk.WriteOp__Value(random_bytes(rng))),
                    (sdk.AccessPath(random_address(rng), random_bytes(rng)), sdk.WriteOp__Deletion()),
                ]
            )
        )
        change_set = sdk.ChangeSet(write_set=write_set, events=[event])
        script = stdlib.encode_rotate_dual_attestation_info_script(random_bytes(rng), random_bytes(rng, 32, 32))
        variants = [
            sdk.Transaction__BlockMetadata(metadata),
            sdk.Transaction__GenesisTransaction(sdk.WriteSetPayload__Direct(change_set)),
            sdk.Transaction__GenesisTransaction(sdk.WriteSetPayload__Script(random_address(rng), script)),
        ]
        for variant in variants:
            data = variant.bcs_serialize()
            assert transaction_to_bcs(transaction_from_bcs(data)) == data


def test_multi_ed25519_and_multi_agent_authenticators_match_sdk():
    rng = random.Random(SEED + 2)
    raw = next(iter(sdk_signed_transactions(1))).raw_txn
    for _ in range(100):
        multi = sdk.TransactionAuthenticator__MultiEd25519(
            sdk.MultiEd25519PublicKey(rng.randbytes(32 * rng.randint(1, 4) + 1)),
            sdk.MultiEd25519Signature(rng.randbytes(64 * rng.randint(1, 4) + 4)),
        )
        single = sdk.AccountAuthenticator__Ed25519(
            sdk.Ed25519PublicKey(rng.randbytes(32)), sdk.Ed25519Signature(rng.randbytes(64))
        )
        agent = sdk.TransactionAuthenticator__MultiAgent(
            sender=single,
            secondary_signer_addresses=[random_address(rng) for _ in range(2)],
            secondary_signers=[single, single],
        )
        for auth in (multi, agent):
            data = sdk.SignedTransaction(raw_txn=raw, authenticator=auth).bcs_serialize()
            assert SignedTransaction.from_bcs(data).to_bcs() == data


def test_truncations_and_trailing_bytes_of_real_transactions_are_rejected():
    data = next(iter(sdk_signed_transactions(1))).bcs_serialize()
    for cut in range(len(data)):
        with pytest.raises(BcsError):
            SignedTransaction.from_bcs(data[:cut])
    with pytest.raises(BcsError, match="trailing"):
        SignedTransaction.from_bcs(data + b"\x00")


def test_struct_tag_display():
    tag = StructTag(AccountAddress.from_literal("0x1"), "XUS", "XUS")
    assert str(tag) == "0x1::XUS::XUS"
