"""MultiEd25519: layouts, k-of-n verification and every strictness rule."""

import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey as RefPublicKey

from libra.bcs import BcsError, Serializer
from libra.crypto.ed25519 import Ed25519PrivateKey, Ed25519Signature
from libra.crypto.multi_ed25519 import (
    MultiEd25519Error,
    MultiEd25519PublicKey,
    MultiEd25519Signature,
    sign_multi,
)

SEED = 20261128
SMALL_ORDER = bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000")


def _keys(count: int, rng: random.Random) -> list[Ed25519PrivateKey]:
    return [Ed25519PrivateKey(rng.randbytes(32)) for _ in range(count)]


def _multi(keys: list[Ed25519PrivateKey], threshold: int) -> MultiEd25519PublicKey:
    return MultiEd25519PublicKey.from_keys([key.public_key() for key in keys], threshold)


def test_public_key_layout() -> None:
    keys = _keys(3, random.Random(SEED))
    multi = _multi(keys, 2)
    expected = b"".join(key.public_key().data for key in keys) + b"\x02"
    assert multi.to_bytes() == expected
    assert multi.to_bcs() == bytes([len(expected)]) + expected
    assert MultiEd25519PublicKey.from_bytes(expected) == multi
    assert MultiEd25519PublicKey.from_bcs(multi.to_bcs()) == multi


def test_signature_layout_and_bitmap_bit_order() -> None:
    keys = _keys(32, random.Random(SEED))
    signature = sign_multi(b"m", [(31, keys[31]), (0, keys[0]), (9, keys[9])])
    assert signature.bitmap == bytes([0b1000_0000, 0b0100_0000, 0, 0b0000_0001])
    assert signature.signer_indices() == [0, 9, 31]
    assert signature.to_bytes() == b"".join(
        keys[index].sign(b"m").data for index in (0, 9, 31)
    ) + bytes.fromhex("80400001")
    assert MultiEd25519Signature.from_bytes(signature.to_bytes()) == signature
    assert MultiEd25519Signature.from_bcs(signature.to_bcs()) == signature


def test_random_k_of_n_round_trips_verify_with_reference_ed25519() -> None:
    rng = random.Random(SEED)
    for _ in range(300):
        count = rng.randint(1, 32)
        keys = _keys(count, rng)
        threshold = rng.randint(1, count)
        multi = _multi(keys, threshold)
        message = rng.randbytes(rng.randrange(0, 200))
        signers = sorted(rng.sample(range(count), rng.randint(threshold, count)))
        signature = sign_multi(message, [(index, keys[index]) for index in signers])
        decoded_key = MultiEd25519PublicKey.from_bcs(multi.to_bcs())
        decoded_sig = MultiEd25519Signature.from_bcs(signature.to_bcs())
        assert decoded_key.verify(message, decoded_sig)
        assert not decoded_key.verify(message + b"!", decoded_sig)
        # Each carried signature is a plain Ed25519 signature by the key its bit names.
        for index, sig in zip(decoded_sig.signer_indices(), decoded_sig.signatures, strict=True):
            RefPublicKey.from_public_bytes(multi.public_keys[index].data).verify(sig.data, message)
        if threshold > 1:
            fewer = sign_multi(message, [(index, keys[index]) for index in signers[: threshold - 1]])
            assert not multi.verify(message, fewer)


def test_every_bit_flip_of_a_multisignature_is_rejected_or_refused() -> None:
    keys = _keys(4, random.Random(SEED))
    multi = _multi(keys, 2)
    signature = sign_multi(b"pay", [(1, keys[1]), (3, keys[3])]).to_bytes()
    for bit in range(8 * len(signature)):
        flipped = bytearray(signature)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            decoded = MultiEd25519Signature.from_bytes(bytes(flipped))
        except MultiEd25519Error:
            continue
        assert not multi.verify(b"pay", decoded), f"bit {bit} flip still verifies"


def test_signatures_beyond_the_threshold_are_all_checked() -> None:
    keys = _keys(3, random.Random(SEED))
    multi = _multi(keys, 1)
    good = keys[0].sign(b"m")
    bad = keys[1].sign(b"other")
    signature = MultiEd25519Signature.from_signatures([(0, good), (1, bad)])
    assert not multi.verify(b"m", signature)


def test_bitmap_naming_a_key_beyond_n_fails_verification() -> None:
    keys = _keys(4, random.Random(SEED))
    multi = _multi(keys[:3], 1)
    signature = sign_multi(b"m", [(3, keys[3])])
    assert not multi.verify(b"m", signature)


def test_signature_under_the_wrong_index_fails() -> None:
    keys = _keys(2, random.Random(SEED))
    multi = _multi(keys, 1)
    assert not multi.verify(b"m", sign_multi(b"m", [(1, keys[0])]))
    assert multi.verify(b"m", sign_multi(b"m", [(0, keys[0])]))


def test_empty_signature_never_verifies() -> None:
    keys = _keys(1, random.Random(SEED))
    empty = MultiEd25519Signature((), bytes(4))
    assert not _multi(keys, 1).verify(b"m", empty)
    assert MultiEd25519Signature.from_bytes(bytes(4)) == empty


def test_duplicate_keys_are_allowed_like_diem() -> None:
    key = _keys(1, random.Random(SEED))[0]
    multi = _multi([key, key], 2)
    assert multi.verify(b"m", sign_multi(b"m", [(0, key), (1, key)]))


# --- error paths -------------------------------------------------------------------------------


def test_public_key_errors() -> None:
    keys = _keys(33, random.Random(SEED))
    with pytest.raises(MultiEd25519Error, match="needs 1 to 32 public keys, got 0"):
        MultiEd25519PublicKey((), 1)
    with pytest.raises(MultiEd25519Error, match="needs 1 to 32 public keys, got 33"):
        _multi(keys, 1)
    with pytest.raises(MultiEd25519Error, match="threshold must be between 1 and 2, got 0"):
        _multi(keys[:2], 0)
    with pytest.raises(MultiEd25519Error, match="threshold must be between 1 and 2, got 3"):
        _multi(keys[:2], 3)
    with pytest.raises(MultiEd25519Error, match="must be 32\\*n \\+ 1 bytes with 1 <= n <= 32, got 1 bytes"):
        MultiEd25519PublicKey.from_bytes(b"\x01")
    with pytest.raises(MultiEd25519Error, match="got 64 bytes"):
        MultiEd25519PublicKey.from_bytes(bytes(64))
    with pytest.raises(MultiEd25519Error, match="got 1057 bytes"):
        MultiEd25519PublicKey.from_bytes(bytes(33 * 32 + 1))
    good = keys[0].public_key().data
    with pytest.raises(
        MultiEd25519Error, match="MultiEd25519 public key 1: Ed25519 public key is a point of small order"
    ):
        MultiEd25519PublicKey.from_bytes(good + SMALL_ORDER + b"\x01")
    with pytest.raises(MultiEd25519Error, match="threshold must be between 1 and 1, got 2"):
        MultiEd25519PublicKey.from_bytes(good + b"\x02")


def test_signature_errors() -> None:
    keys = _keys(2, random.Random(SEED))
    sig = keys[0].sign(b"m")
    with pytest.raises(MultiEd25519Error, match="bitmap must be 4 bytes, got 3"):
        MultiEd25519Signature((sig,), bytes(3))
    with pytest.raises(MultiEd25519Error, match="bitmap marks 2 keys but 1 signatures are given"):
        MultiEd25519Signature((sig,), bytes.fromhex("c0000000"))
    with pytest.raises(MultiEd25519Error, match="bitmap marks 0 keys but 1 signatures are given"):
        MultiEd25519Signature.from_bytes(sig.data + bytes(4))
    with pytest.raises(MultiEd25519Error, match="carries 33 signatures, at most 32 allowed"):
        MultiEd25519Signature((sig,) * 33, b"\xff" * 4)
    with pytest.raises(MultiEd25519Error, match="must be 64\\*k \\+ 4 bytes with k <= 32, got 3 bytes"):
        MultiEd25519Signature.from_bytes(bytes(3))
    with pytest.raises(MultiEd25519Error, match="got 67 bytes"):
        MultiEd25519Signature.from_bytes(bytes(67))
    with pytest.raises(MultiEd25519Error, match="got 2116 bytes"):
        MultiEd25519Signature.from_bytes(bytes(33 * 64 + 4))
    malleable = sig.data[:32] + (2**253).to_bytes(32, "little")
    with pytest.raises(MultiEd25519Error, match="MultiEd25519 signature 0: Ed25519 signature is malleable"):
        MultiEd25519Signature.from_bytes(malleable + bytes.fromhex("80000000"))
    with pytest.raises(MultiEd25519Error, match="signer index 32 is outside 0..31"):
        MultiEd25519Signature.from_signatures([(32, sig)])
    with pytest.raises(MultiEd25519Error, match="signer index -1 is outside 0..31"):
        MultiEd25519Signature.from_signatures([(-1, sig)])
    with pytest.raises(MultiEd25519Error, match="signer index 1 appears twice"):
        MultiEd25519Signature.from_signatures([(1, sig), (1, Ed25519Signature(sig.data))])


def test_bcs_decoding_reports_multi_errors() -> None:
    serializer = Serializer()
    serializer.bytes(bytes(64))
    with pytest.raises(BcsError, match="got 64 bytes .at byte 0, expected MultiEd25519PublicKey"):
        MultiEd25519PublicKey.from_bcs(serializer.output())
    serializer = Serializer()
    serializer.bytes(bytes(5))
    with pytest.raises(BcsError, match="got 5 bytes .at byte 0, expected MultiEd25519Signature"):
        MultiEd25519Signature.from_bcs(serializer.output())
