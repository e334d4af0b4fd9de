"""Ed25519 wrappers: RFC 8032 vectors, strictness, BCS, batch verification and key files.

The reference for byte equality is the ``cryptography`` Ed25519 implementation the
Diem SDK itself signs with (``diem.utils.Ed25519PrivateKey``).
"""

import os
import random
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from diem import utils as sdk_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from libra.bcs import BcsError, Deserializer, Serializer
from libra.crypto import ed25519_strict
from libra.crypto.ed25519 import (
    Ed25519Error,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    Ed25519Signature,
    KeyFileError,
    load_private_key,
    save_private_key,
    verify_many,
    verify_signature,
)

SEED = 20261127
L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19

RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]

# Encodings of the eight points of small order (and the sign-flipped order-8 ones).
SMALL_ORDER_KEYS = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]


def _encode_point(point: tuple[int, int]) -> bytes:
    x, y = point
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS)
def test_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    key = Ed25519PrivateKey.from_hex(secret)
    assert key.public_key().hex() == public
    sig = key.sign(bytes.fromhex(message))
    assert sig.hex() == signature
    assert key.public_key().verify(bytes.fromhex(message), sig)


def test_zero_seed_key_gives_the_documented_address_key() -> None:
    # diem-protocol.md §5 worked example: key = 32 zero bytes -> sender bb84d9cd...
    key = Ed25519PrivateKey(bytes(32))
    assert key.public_key().hex() == "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"


def test_keys_and_signatures_match_the_sdk_for_random_seeds() -> None:
    rng = random.Random(SEED)
    for _ in range(2000):
        seed = rng.randbytes(32)
        message = rng.randbytes(rng.randrange(0, 300))
        ours = Ed25519PrivateKey(seed)
        theirs = sdk_utils.Ed25519PrivateKey.from_private_bytes(seed)
        assert ours.public_key().data == sdk_utils.public_key_bytes(theirs.public_key())
        signature = ours.sign(message)
        assert signature.data == theirs.sign(message)
        theirs.public_key().verify(signature.data, message)  # raises if invalid
        assert ours.public_key().verify(message, signature)


def test_generated_keys_are_distinct_and_sign() -> None:
    first, second = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    assert first != second
    assert first.public_key().verify(b"m", first.sign(b"m"))
    assert not second.public_key().verify(b"m", first.sign(b"m"))


def test_private_key_repr_hides_the_seed() -> None:
    key = Ed25519PrivateKey(bytes(range(32)))
    assert bytes(range(32)).hex() not in repr(key)
    assert "seed" not in repr(key)


@given(message=st.binary(max_size=200), flip=st.integers(min_value=0))
@settings(max_examples=300, deadline=None)
def test_any_bit_flip_is_rejected(message: bytes, flip: int) -> None:
    key = Ed25519PrivateKey(bytes(32))
    signature = key.sign(message).data
    public = key.public_key().data
    target = flip % (8 * (len(signature) + len(public) + len(message)))
    parts = [bytearray(signature), bytearray(public), bytearray(message)]
    for part in parts:
        if target < 8 * len(part):
            part[target // 8] ^= 1 << (target % 8)
            break
        target -= 8 * len(part)
    assert not verify_signature(bytes(parts[1]), bytes(parts[2]), bytes(parts[0]))


def test_private_key_wrong_length() -> None:
    with pytest.raises(Ed25519Error, match="Ed25519 private key must be 32 bytes, got 31"):
        Ed25519PrivateKey(bytes(31))


def test_private_key_bad_hex() -> None:
    with pytest.raises(Ed25519Error, match="Ed25519 private key is not valid hex"):
        Ed25519PrivateKey.from_hex("zz" * 32)


def test_from_hex_accepts_0x_prefix() -> None:
    key = Ed25519PrivateKey(bytes(32))
    assert Ed25519PublicKey.from_hex("0x" + key.public_key().hex()) == key.public_key()


def test_public_key_wrong_length() -> None:
    with pytest.raises(Ed25519Error, match="Ed25519 public key must be 32 bytes, got 33"):
        Ed25519PublicKey(bytes(33))


@pytest.mark.parametrize("encoded", SMALL_ORDER_KEYS)
def test_small_order_public_keys_are_rejected(encoded: str) -> None:
    with pytest.raises(Ed25519Error, match="Ed25519 public key is a point of small order"):
        Ed25519PublicKey.from_hex(encoded)


def test_identity_with_sign_bit_is_not_a_point() -> None:
    data = bytes.fromhex("01" + "00" * 30 + "80")
    with pytest.raises(Ed25519Error, match="Ed25519 public key is not a point on the curve"):
        Ed25519PublicKey(data)


def test_non_canonical_public_key_is_rejected() -> None:
    data = P.to_bytes(32, "little")  # y = p encodes y = 0 non-canonically
    with pytest.raises(Ed25519Error, match=r"not canonically encoded \(y >= p\)"):
        Ed25519PublicKey(data)


def test_off_curve_public_key_is_rejected() -> None:
    with pytest.raises(Ed25519Error, match="Ed25519 public key is not a point on the curve"):
        Ed25519PublicKey((2).to_bytes(32, "little"))


def test_mixed_order_key_is_accepted_like_diem() -> None:
    # Diem only rejects keys of small order; a key with a torsion component passes.
    public = Ed25519PrivateKey(bytes(32)).public_key().data
    point = ed25519_strict._decompress(public)
    order_two = ed25519_strict._decompress(bytes.fromhex(SMALL_ORDER_KEYS[1]))
    assert point is not None and order_two is not None
    mixed = _encode_point(ed25519_strict._add(point, order_two))
    assert Ed25519PublicKey(mixed).data == mixed


def test_signature_wrong_length() -> None:
    with pytest.raises(Ed25519Error, match="Ed25519 signature must be 64 bytes, got 63"):
        Ed25519Signature(bytes(63))


def test_non_canonical_signature_is_rejected() -> None:
    key = Ed25519PrivateKey(bytes(32))
    signature = key.sign(b"payment").data
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + L).to_bytes(32, "little")
    with pytest.raises(Ed25519Error, match="Ed25519 signature is malleable: S is not below the group order"):
        Ed25519Signature(malleated)
    assert not verify_signature(key.public_key().data, b"payment", malleated)
    assert verify_signature(key.public_key().data, b"payment", signature)


def test_verify_signature_refuses_wrong_sizes() -> None:
    key = Ed25519PrivateKey(bytes(32))
    signature = key.sign(b"m").data
    assert not verify_signature(key.public_key().data[:31], b"m", signature)
    assert not verify_signature(key.public_key().data, b"m", signature[:63])


def test_small_order_r_is_rejected_by_verification() -> None:
    key = Ed25519PrivateKey(bytes(32))
    forged = bytes.fromhex(SMALL_ORDER_KEYS[0]) + bytes(32)
    assert not key.public_key().verify(b"m", Ed25519Signature(forged))


def test_bcs_layout_is_length_prefixed() -> None:
    key = Ed25519PrivateKey(bytes(32))
    signature = key.sign(b"m")
    assert key.public_key().to_bcs() == b"\x20" + key.public_key().data
    assert signature.to_bcs() == b"\x40" + signature.data
    assert Ed25519PublicKey.from_bcs(key.public_key().to_bcs()) == key.public_key()
    assert Ed25519Signature.from_bcs(signature.to_bcs()) == signature


def test_bcs_decoding_applies_the_key_checks() -> None:
    serializer = Serializer()
    serializer.bytes(bytes.fromhex(SMALL_ORDER_KEYS[0]))
    with pytest.raises(
        BcsError, match="Ed25519 public key is a point of small order .at byte 0, expected Ed25519PublicKey"
    ):
        Ed25519PublicKey.from_bcs(serializer.output())
    serializer = Serializer()
    serializer.bytes(bytes(63))
    with pytest.raises(BcsError, match="Ed25519 signature must be 64 bytes, got 63"):
        Ed25519Signature.from_bcs(serializer.output())
    with pytest.raises(BcsError, match="1 trailing byte"):
        Ed25519PublicKey.from_bcs(Ed25519PrivateKey(bytes(32)).public_key().to_bcs() + b"\x00")
    deserializer = Deserializer(b"\x20" + bytes(5))
    with pytest.raises(BcsError, match="length 32 exceeds the 5 byte"):
        Ed25519PublicKey.deserialize(deserializer)


def _items(count: int) -> list[tuple[Ed25519PublicKey, bytes, Ed25519Signature]]:
    rng = random.Random(SEED)
    keys = [Ed25519PrivateKey(rng.randbytes(32)) for _ in range(8)]
    items = []
    for index in range(count):
        key = keys[index % len(keys)]
        message = rng.randbytes(64)
        items.append((key.public_key(), message, key.sign(message)))
    return items


def test_verify_many_matches_serial_verification_in_order() -> None:
    items = _items(500)
    bad = {3, 64, 65, 200, 499}
    for index in bad:
        key, message, signature = items[index]
        items[index] = (key, message + b"x", signature)
    expected = [index not in bad for index in range(len(items))]
    assert verify_many(items) == expected
    with ThreadPoolExecutor(2) as executor:
        assert verify_many(items, executor) == expected
        assert verify_many(items, executor, chunk_size=1) == expected
        assert verify_many([], executor) == []


def test_verify_many_rejects_a_bad_chunk_size() -> None:
    with pytest.raises(ValueError, match="chunk_size must be at least 1, got 0"):
        verify_many(_items(1), chunk_size=0)


# --- key files -------------------------------------------------------------------------------


def test_key_file_round_trip_with_mode_0600(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "validator.key")
    key = Ed25519PrivateKey.generate()
    old_umask = os.umask(0)
    try:
        save_private_key(path, key)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        assert handle.read() == key.hex() + "\n"
    assert load_private_key(path) == key


def test_key_file_is_not_overwritten_by_default(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "k")
    first, second = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    save_private_key(path, first)
    with pytest.raises(KeyFileError, match="already exists; refusing to overwrite it"):
        save_private_key(path, second)
    save_private_key(path, second, overwrite=True)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_private_key(path) == second
    assert os.listdir(tmp_path) == ["k"]


def test_key_file_in_missing_directory(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "nope", "k")
    with pytest.raises(KeyFileError, match="cannot create key file .*No such file or directory"):
        save_private_key(path, Ed25519PrivateKey.generate())
    with pytest.raises(KeyFileError, match="cannot create key file .*No such file or directory"):
        save_private_key(path, Ed25519PrivateKey.generate(), overwrite=True)


def _write(path: str, content: bytes, mode: int = 0o600) -> None:
    with open(path, "wb") as handle:
        handle.write(content)
    os.chmod(path, mode)


def test_load_key_file_errors(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "k")
    with pytest.raises(KeyFileError, match="key file .* does not exist"):
        load_private_key(path)
    _write(path, b"00" * 32, 0o644)
    with pytest.raises(KeyFileError, match=r"accessible by group or others \(mode 0644\); run chmod 600"):
        load_private_key(path)
    assert load_private_key(path, check_permissions=False) == Ed25519PrivateKey(bytes(32))
    _write(path, b"00" * 31)
    with pytest.raises(KeyFileError, match="must hold 64 hex characters, found 62"):
        load_private_key(path)
    _write(path, b"zz" * 32)
    with pytest.raises(KeyFileError, match="is not valid hex"):
        load_private_key(path)
    _write(path, "é".encode() * 32)
    with pytest.raises(KeyFileError, match="is not ASCII hex"):
        load_private_key(path)
    _write(path, b"  0x" + b"11" * 32 + b"\n\n")
    assert load_private_key(path) == Ed25519PrivateKey(bytes([0x11]) * 32)
    os.chmod(tmp_path, 0o700)
    directory = os.path.join(tmp_path, "dir")
    os.mkdir(directory, 0o700)
    with pytest.raises(KeyFileError, match="cannot read key file .*Is a directory"):
        load_private_key(directory)
