"""Payment metadata: documented vectors, byte equality with the SDK, strict decoding."""

import random
import uuid

import pytest
from diem import diem_types as sdk
from diem import serde_types, txnmetadata
from hypothesis import given, settings
from hypothesis import strategies as st

from libra.bcs import BcsError
from libra.types.metadata import (
    CoinTradeMetadataV0,
    GeneralMetadataV0,
    Metadata,
    MetadataError,
    PaymentMetadataV0,
    RefundMetadataV0,
    RefundReason,
    TravelRuleMetadataV0,
    UndefinedMetadata,
    UnstructuredBytesMetadata,
    try_decode_metadata,
)

SEED = 20261130

SDK_REASONS = [
    sdk.RefundReason__OtherReason,
    sdk.RefundReason__InvalidSubaddress,
    sdk.RefundReason__UserInitiatedPartialRefund,
    sdk.RefundReason__UserInitiatedFullRefund,
    sdk.RefundReason__InvalidReferenceId,
]

DOC_VECTORS = [
    (UndefinedMetadata(), "00"),
    (
        GeneralMetadataV0(bytes.fromhex("1112131415161718"), bytes.fromhex("0102030405060708")),
        "0100" + "0108" + "1112131415161718" + "0108" + "0102030405060708" + "00",
    ),
    (TravelRuleMetadataV0("ref"), "02000103726566"),
    (UnstructuredBytesMetadata(b"\x01\x02"), "0301020102"),
    (RefundMetadataV0(5, RefundReason.INVALID_SUBADDRESS), "04000500000000000000" + "01"),
    (
        PaymentMetadataV0(bytes.fromhex("6cd81d79f0414f28867fe4d54950833e")),
        "06006cd81d79f0414f28867fe4d54950833e",
    ),
    (CoinTradeMetadataV0(("a", "bc")), "0500" + "02" + "0161" + "026263"),
]


@pytest.mark.parametrize(("value", "encoded"), DOC_VECTORS)
def test_documented_vectors(value: Metadata, encoded: str) -> None:
    assert value.to_bcs().hex() == encoded
    assert Metadata.from_bcs(bytes.fromhex(encoded)) == value
    assert type(value).from_bcs(bytes.fromhex(encoded)) == value


def _to_sdk(value: Metadata) -> sdk.Metadata:
    """The SDK object for one of ours, built field by field."""
    if isinstance(value, UndefinedMetadata):
        return sdk.Metadata__Undefined()
    if isinstance(value, GeneralMetadataV0):
        event = None if value.referenced_event is None else serde_types.uint64(value.referenced_event)
        inner = sdk.GeneralMetadataV0(value.to_subaddress, value.from_subaddress, event)
        return sdk.Metadata__GeneralMetadata(sdk.GeneralMetadata__GeneralMetadataVersion0(inner))
    if isinstance(value, TravelRuleMetadataV0):
        travel = sdk.TravelRuleMetadataV0(value.off_chain_reference_id)
        return sdk.Metadata__TravelRuleMetadata(sdk.TravelRuleMetadata__TravelRuleMetadataVersion0(travel))
    if isinstance(value, UnstructuredBytesMetadata):
        return sdk.Metadata__UnstructuredBytesMetadata(sdk.UnstructuredBytesMetadata(value.metadata))
    if isinstance(value, RefundMetadataV0):
        refund = sdk.RefundMetadataV0(
            serde_types.uint64(value.transaction_version), SDK_REASONS[value.reason]()
        )
        return sdk.Metadata__RefundMetadata(sdk.RefundMetadata__RefundMetadataV0(refund))
    if isinstance(value, CoinTradeMetadataV0):
        trade = sdk.CoinTradeMetadataV0(list(value.trade_ids))
        return sdk.Metadata__CoinTradeMetadata(sdk.CoinTradeMetadata__CoinTradeMetadataV0(trade))
    assert isinstance(value, PaymentMetadataV0)
    payment = sdk.PaymentMetadataV0(tuple(serde_types.uint8(byte) for byte in value.reference_id))
    return sdk.Metadata__PaymentMetadata(sdk.PaymentMetadata__PaymentMetadataVersion0(payment))


def _random_text(rng: random.Random) -> str:
    alphabet = "abcXYZ019-_ é€😀"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 20)))


def _maybe_bytes(rng: random.Random) -> bytes | None:
    return None if rng.random() < 0.3 else rng.randbytes(rng.choice([0, 8, 8, 9, 28, rng.randrange(0, 200)]))


def _random_metadata(rng: random.Random) -> Metadata:
    kind = rng.randrange(7)
    if kind == 0:
        return UndefinedMetadata()
    if kind == 1:
        event = None if rng.random() < 0.3 else rng.choice([0, 2**64 - 1, rng.randrange(2**64)])
        return GeneralMetadataV0(_maybe_bytes(rng), _maybe_bytes(rng), event)
    if kind == 2:
        return TravelRuleMetadataV0(None if rng.random() < 0.2 else _random_text(rng))
    if kind == 3:
        return UnstructuredBytesMetadata(_maybe_bytes(rng))
    if kind == 4:
        return RefundMetadataV0(rng.randrange(2**64), RefundReason(rng.randrange(5)))
    if kind == 5:
        return CoinTradeMetadataV0(tuple(_random_text(rng) for _ in range(rng.randrange(0, 5))))
    return PaymentMetadataV0(rng.randbytes(16))


def test_random_metadata_matches_the_sdk_byte_for_byte() -> None:
    rng = random.Random(SEED)
    for _ in range(3000):
        ours = _random_metadata(rng)
        encoded = ours.to_bcs()
        theirs = _to_sdk(ours)
        assert theirs.bcs_serialize() == encoded, ours
        assert sdk.Metadata.bcs_deserialize(encoded).bcs_serialize() == encoded
        assert Metadata.from_bcs(theirs.bcs_serialize()) == ours


def test_sdk_txnmetadata_helpers_decode_to_ours() -> None:
    rng = random.Random(SEED)
    for _ in range(1000):
        from_sub, to_sub = rng.randbytes(8), rng.randbytes(8)
        event = rng.randrange(1, 2**64)  # the SDK helper turns an event of 0 into None
        general = txnmetadata.general_metadata(from_sub, to_sub, event)
        assert Metadata.from_bcs(general) == GeneralMetadataV0(to_sub, from_sub, event)
        assert (
            GeneralMetadataV0(to_subaddress=to_sub, from_subaddress=from_sub, referenced_event=event).to_bcs()
            == general
        )
        version = rng.randrange(2**64)
        reason = rng.randrange(5)
        refund = txnmetadata.refund_metadata(version, SDK_REASONS[reason]())
        assert RefundMetadataV0(version, RefundReason(reason)).to_bcs() == refund
        ids = [_random_text(rng) for _ in range(rng.randrange(0, 4))]
        assert CoinTradeMetadataV0(tuple(ids)).to_bcs() == txnmetadata.coin_trade_metadata(ids)
        reference = uuid.UUID(bytes=rng.randbytes(16))
        assert PaymentMetadataV0.from_uuid(str(reference)).to_bcs() == txnmetadata.payment_metadata(
            str(reference)
        )
        assert PaymentMetadataV0.from_uuid(reference).reference_uuid() == reference


@given(st.binary(max_size=64))
@settings(max_examples=1000, deadline=None)
def test_arbitrary_bytes_decode_like_the_sdk(data: bytes) -> None:
    ours = try_decode_metadata(data)
    try:
        theirs = sdk.Metadata.bcs_deserialize(data)
    except (serde_types.DeserializationError, ValueError, IndexError):
        theirs = None
    if ours is not None:
        assert theirs is not None and theirs.bcs_serialize() == data
    elif theirs is not None:
        # The SDK is laxer (it accepts non-canonical forms); what it accepts must not re-encode to the input.
        assert data == b"" or theirs.bcs_serialize() != data


def test_suite_garbage_metadata_is_not_decoded() -> None:
    for data in [b"", b"invalid metadata", b"9900000000", b"0109000000", b"0209", b"0409", b"0509"]:
        assert try_decode_metadata(data) is None


def test_strict_decoding_errors() -> None:
    cases = [
        ("07", "unknown Metadata variant 7"),
        ("0101", "unknown GeneralMetadata version variant 1"),
        ("0201", "unknown TravelRuleMetadata version variant 1"),
        ("0401050000000000000001", "unknown RefundMetadata version variant 1"),
        ("0501", "unknown CoinTradeMetadata version variant 1"),
        ("0601", "unknown PaymentMetadata version variant 1"),
        ("000000", "2 trailing byte"),
        ("01000200", "invalid option tag 0x02"),
        ("02000102c328", "invalid UTF-8"),
        ("0400050000000000000005", "unknown RefundReason variant 5"),
        ("0600" + "00" * 15, "input ends after 15 byte"),
        ("0301", "input ends"),
    ]
    for encoded, message in cases:
        with pytest.raises(BcsError, match=message):
            Metadata.from_bcs(bytes.fromhex(encoded))
        assert try_decode_metadata(bytes.fromhex(encoded)) is None


def test_decoding_as_a_specific_variant() -> None:
    with pytest.raises(BcsError, match="decoded UndefinedMetadata, not GeneralMetadataV0"):
        GeneralMetadataV0.from_bcs(b"\x00")
    assert isinstance(RefundMetadataV0.from_bcs(bytes.fromhex("0400050000000000000001")), RefundMetadataV0)


def test_construction_errors() -> None:
    with pytest.raises(MetadataError, match="reference_id must be 16 bytes, got 15"):
        PaymentMetadataV0(bytes(15))
    with pytest.raises(MetadataError, match="reference_id must be 16 bytes, got non-bytes"):
        PaymentMetadataV0("0" * 16)  # type: ignore[arg-type]
    with pytest.raises(MetadataError, match="reference_id is not a UUID: 'nope'"):
        PaymentMetadataV0.from_uuid("nope")
    with pytest.raises(MetadataError, match=r"transaction_version must be an integer in 0..2\^64-1, got -1"):
        RefundMetadataV0(-1, RefundReason.OTHER_REASON)
    with pytest.raises(MetadataError, match="reason must be a RefundReason, got 1"):
        RefundMetadataV0(1, 1)  # type: ignore[arg-type]
    with pytest.raises(
        MetadataError, match=r"referenced_event must be an integer in 0..2\^64-1, got 18446744073709551616"
    ):
        GeneralMetadataV0(referenced_event=2**64)
    with pytest.raises(MetadataError, match="to_subaddress must be bytes or None, got str"):
        GeneralMetadataV0(to_subaddress="00")  # type: ignore[arg-type]
    with pytest.raises(MetadataError, match="from_subaddress must be bytes or None, got bytearray"):
        GeneralMetadataV0(from_subaddress=bytearray(8))  # type: ignore[arg-type]
    with pytest.raises(MetadataError, match="metadata must be bytes or None, got int"):
        UnstructuredBytesMetadata(5)  # type: ignore[arg-type]
    with pytest.raises(MetadataError, match="off_chain_reference_id must be str or None, got bytes"):
        TravelRuleMetadataV0(b"ref")  # type: ignore[arg-type]
    with pytest.raises(MetadataError, match=r"trade_ids must be a tuple of str, got \['a'\]"):
        CoinTradeMetadataV0(["a"])  # type: ignore[arg-type]


def test_values_are_frozen_slotted_and_hashable() -> None:
    value = GeneralMetadataV0(b"\x01" * 8)
    with pytest.raises(AttributeError):
        value.to_subaddress = None  # type: ignore[misc]
    assert not hasattr(value, "__dict__")
    assert len({value, GeneralMetadataV0(b"\x01" * 8)}) == 1
