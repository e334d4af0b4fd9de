"""The native strict Ed25519 and MultiEd25519 checks answer exactly what the reference answers
(``ed25519_strict`` over PyNaCl's libsodium, and ``multi_ed25519`` over it), one at a time and
in batches, on edge vectors (torsion, small-order and non-canonical encodings, scalars past the
group order, wrong lengths) and on hypothesis inputs."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.native.ed25519_vectors import (
    L,
    edge_vectors,
    forge,
    non_canonical_encodings,
    small_order_encodings,
)
from tests.unit.types.test_transaction_fast_decode import ENCODED

from libra import _core
from libra.client import builders
from libra.crypto import ed25519_strict, multi_ed25519, transaction_signature
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.ed25519_strict import Ed25519Error, check_public_key_bytes
from libra.crypto.hashing import signing_message, user_transaction_hash
from libra.mempool.admission import raw_transaction_bytes
from libra.types.move import AccountAddress
from libra.types.transaction import (
    Ed25519Authenticator,
    MultiEd25519Authenticator,
    Script,
    SignedTransaction,
    decode_signed_transaction_fast,
)

VECTORS = edge_vectors()
RAW_SEED = transaction_signature.RAW_TRANSACTION_SEED


@pytest.fixture
def pynacl_reference(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Python rules with PyNaCl underneath, whatever ``LIBRA_CORE`` says."""
    monkeypatch.setattr(multi_ed25519, "verify_signature", ed25519_strict.verify_signature)
    monkeypatch.setattr(transaction_signature, "verify_signature", ed25519_strict.verify_signature)
    yield


def reference_is_strict_key(key: bytes) -> bool:
    try:
        check_public_key_bytes(key)
    except Ed25519Error:
        return False
    return True


def test_edge_vectors_answer_as_libsodium() -> None:
    for label, key, message, signature in VECTORS:
        expected = ed25519_strict.verify_signature(key, message, signature)
        assert _core.ed25519_verify(key, message, signature) is expected, label


def test_the_edge_vectors_hold_both_answers_where_implementations_differ() -> None:
    """The vectors would catch a verifier that refuses mixed-order keys, skips the small-order
    list, or accepts torsion that does not cancel (a cofactored equation)."""
    answers: dict[str, set[bool]] = {}
    for label, key, message, signature in VECTORS:
        answers.setdefault(label.split(",")[0], set()).add(ed25519_strict.verify_signature(key, message, signature))
    assert answers["mixed key 1"] == {True} and answers["mixed key 3 and mixed R"] == {True}
    assert answers["equation holds for small-order key"] == {False}
    assert all(answers[f"key torsion {t}"] == {True, False} for t in range(8))
    assert answers["honest"] == {True}


def test_strict_public_keys_are_those_the_reference_accepts() -> None:
    keys = [key for _, key, _, _ in VECTORS] + small_order_encodings() + non_canonical_encodings()
    keys += [os.urandom(32) for _ in range(200)] + [b"", bytes(31), bytes(33)]
    accepted = 0
    for key in keys:
        expected = reference_is_strict_key(key)
        assert _core.ed25519_is_strict_public_key(key) is expected, key.hex()
        accepted += expected
    assert 0 < accepted < len(keys)


def test_a_batch_answers_each_item_as_alone() -> None:
    items = [(0, key, message, signature) for _, key, message, signature in VECTORS]
    assert _core.verify_signatures(items) == [_core.ed25519_verify(k, m, s) for _, k, m, s in items]
    prefixed = [(0, key, message[2:], signature) for _, key, message, signature in items]
    assert _core.verify_signatures(prefixed, b"ed") == [_core.ed25519_verify(k, m, s) for _, k, m, s in items]
    assert _core.verify_signatures([]) == []
    with pytest.raises(ValueError, match="scheme must be 0"):
        _core.verify_signatures([(2, b"", b"", b"")])


def test_bytes_like_and_wrong_types() -> None:
    _, key, message, signature = VECTORS[0]
    assert _core.ed25519_verify(bytearray(key), bytearray(message), bytearray(signature))
    for bad in ("text", None, 5):
        with pytest.raises(TypeError):
            _core.ed25519_verify(bad, message, signature)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            ed25519_strict.verify_signature(key, bad, signature)  # type: ignore[arg-type]


# --- hypothesis --------------------------------------------------------------------------

SCALARS = st.integers(1, L - 1)
LENGTHS = st.sampled_from([0, 1, 31, 32, 32, 32, 33, 63, 64, 64, 64, 65])


def _same(key: bytes, message: bytes, signature: bytes) -> bool:
    expected = ed25519_strict.verify_signature(key, message, signature)
    assert _core.ed25519_verify(key, message, signature) is expected
    return expected


@settings(max_examples=400, deadline=None)
@given(LENGTHS.flatmap(lambda n: st.binary(min_size=n, max_size=n)), st.binary(max_size=100),
       LENGTHS.flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_random_bytes(key: bytes, message: bytes, signature: bytes) -> None:
    _same(key, message, signature)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCALARS, st.integers(0, 7), SCALARS, st.integers(0, 7), st.binary(max_size=64))
def test_forged_keys_and_nonces_with_torsion(a: int, key_torsion: int, r: int, r_torsion: int, message: bytes) -> None:
    key, signature = forge(a, key_torsion, r, r_torsion, message)
    _same(key, message, signature)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(max_size=64), st.integers(0, 1023), st.data())
def test_one_change_to_an_honest_signature(seed: bytes, message: bytes, bit: int, data: st.DataObject) -> None:
    private = Ed25519PrivateKey(seed)
    key, signature = private.public_key().data, private.sign(message).data
    assert _same(key, message, signature)
    blob = bytearray(key + signature)
    if bit < 768:
        blob[bit // 8] ^= 1 << (bit % 8)
    else:  # a whole byte of the signature's S replaced
        blob[32 + 32 + data.draw(st.integers(0, 31))] = data.draw(st.integers(0, 255))
    _same(bytes(blob[:32]), message, bytes(blob[32:]))


# --- MultiEd25519 -------------------------------------------------------------------------


def _reference_multi(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        key = multi_ed25519.MultiEd25519PublicKey.from_bytes(public_key)
        sig = multi_ed25519.MultiEd25519Signature.from_bytes(signature)
    except ValueError:
        return False
    return key.verify(message, sig)


PRIVATE_KEYS = [Ed25519PrivateKey(bytes([i + 1]) * 32) for i in range(6)]
KEY_PARTS = st.one_of(
    st.sampled_from([k.public_key().data for k in PRIVATE_KEYS]),
    st.sampled_from(small_order_encodings()[:4] + non_canonical_encodings()[:2]),
    st.binary(min_size=32, max_size=32),
)


@st.composite
def multi_cases(draw: st.DrawFn) -> tuple[bytes, bytes, bytes]:
    keys = draw(st.lists(st.integers(0, 5), min_size=0, max_size=6))
    parts = [
        PRIVATE_KEYS[i].public_key().data if draw(st.integers(0, 9)) else draw(KEY_PARTS) for i in keys
    ]
    threshold = draw(st.integers(0, 7))
    public_key = b"".join(parts) + bytes([threshold])
    if draw(st.integers(0, 19)) == 0:
        public_key = public_key[: draw(st.integers(0, len(public_key)))]
    message = draw(st.binary(max_size=40))
    signers = sorted(set(draw(st.lists(st.integers(0, 7), max_size=7))))
    sigs, bitmap = [], bytearray(4)
    for index in signers:
        signer = PRIVATE_KEYS[keys[index]] if index < len(keys) else PRIVATE_KEYS[0]
        sig = signer.sign(message if draw(st.integers(0, 9)) else message + b"x").data
        sigs.append(sig)
        bitmap[index // 8] |= 0x80 >> (index % 8)
    if draw(st.integers(0, 9)) == 0:
        bitmap[draw(st.integers(0, 3))] ^= 1 << draw(st.integers(0, 7))
    if draw(st.integers(0, 19)) == 0 and sigs:
        sigs[0] = sigs[0][:32] + (int.from_bytes(sigs[0][32:], "little") + L).to_bytes(32, "little")
    signature = b"".join(sigs) + bytes(bitmap)
    if draw(st.integers(0, 19)) == 0:
        signature = signature[: draw(st.integers(0, len(signature)))]
    return public_key, message, signature


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(multi_cases())
def test_multi_ed25519_answers_as_the_reference(pynacl_reference: None, case: tuple[bytes, bytes, bytes]) -> None:
    public_key, message, signature = case
    expected = _reference_multi(public_key, message, signature)
    assert _core.multi_ed25519_verify(public_key, message, signature) is expected
    assert _core.verify_signatures([(1, public_key, message, signature)]) == [expected]


def test_multi_ed25519_cases_cover_both_answers(pynacl_reference: None) -> None:
    keys = PRIVATE_KEYS[:3]
    public_key = b"".join(k.public_key().data for k in keys) + b"\x02"
    sig = multi_ed25519.sign_multi(b"m", [(0, keys[0]), (2, keys[2])]).to_bytes()
    assert _reference_multi(public_key, b"m", sig) and _core.multi_ed25519_verify(public_key, b"m", sig)
    one = multi_ed25519.sign_multi(b"m", [(1, keys[1])]).to_bytes()
    assert not _reference_multi(public_key, b"m", one) and not _core.multi_ed25519_verify(public_key, b"m", one)


# --- signed transactions ------------------------------------------------------------------


def _reference_check(data: bytes) -> tuple[bytes, bool] | None:
    """What admission finds in Python for bytes the native check answers (None: it declines)."""
    fast = decode_signed_transaction_fast(data, 0)
    if fast is None or fast[1] != len(data):
        return None
    txn = fast[0]
    valid = transaction_signature.verify_transaction_signature_reference(txn, raw_transaction_bytes(txn, data))
    return user_transaction_hash(data), valid


def _signed(seq: int, forge_signature: bool = False) -> bytes:
    key = Ed25519PrivateKey(bytes([seq % 250 + 1]) * 32)
    txn = builders.sign_transaction(
        key, AccountAddress(bytes(15) + b"\x07"), seq,
        builders.peer_to_peer_with_metadata("XUS", AccountAddress(bytes(15) + b"\x01"), seq + 1, bytes(seq)),
        chain_id=2, expiration_timestamp_secs=10**9,
    ).transaction
    if forge_signature:
        auth = txn.authenticator
        assert isinstance(auth, Ed25519Authenticator)
        txn = dataclasses.replace(txn, authenticator=dataclasses.replace(auth, signature=auth.signature[::-1]))
    return txn.to_bcs()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(ENCODED, max_size=6))
def test_checked_transactions_answer_as_python(pynacl_reference: None, datas: list[bytes]) -> None:
    assert _core.check_signed_transactions(datas) == [_reference_check(d) for d in datas]


def test_signed_payments_changed_and_cut(pynacl_reference: None) -> None:
    datas = [_signed(seq, forge_signature=seq % 3 == 0) for seq in range(30)]
    datas += [d[:-1] for d in datas[:5]] + [d + b"\x00" for d in datas[:5]] + [b"", b"\x03"]
    datas += [d[:40] + bytes([d[40] ^ 1]) + d[41:] for d in datas[:10]]
    found = _core.check_signed_transactions(datas)
    assert found == [_reference_check(d) for d in datas]
    assert sum(1 for f in found if f is not None and f[1]) >= 20
    assert sum(1 for f in found if f is not None and not f[1]) >= 10
    assert sum(1 for f in found if f is None) >= 12


def test_transaction_signatures_in_a_batch_answer_as_the_reference(pynacl_reference: None) -> None:
    key = PRIVATE_KEYS[0]
    payments = [SignedTransaction.from_bcs(_signed(seq, forge_signature=seq % 4 == 0)) for seq in range(12)]
    script = builders.sign_transaction(
        key, AccountAddress(bytes(16)), 0, Script(b"\x00", (), ()), chain_id=2, expiration_timestamp_secs=1
    ).transaction
    raw = script.raw_txn.to_bcs()
    multi_key = b"".join(k.public_key().data for k in PRIVATE_KEYS[:2]) + b"\x01"
    multi_good = multi_ed25519.sign_multi(signing_message(raw), [(1, PRIVATE_KEYS[1])]).to_bytes()
    multi_bad = multi_ed25519.sign_multi(signing_message(raw), [(1, PRIVATE_KEYS[0])]).to_bytes()
    multis = [
        dataclasses.replace(script, authenticator=MultiEd25519Authenticator(multi_key, sig))
        for sig in (multi_good, multi_bad, multi_good[:-1])
    ]
    transactions = [*payments, script, *multis]
    raws = [t.raw_txn.to_bcs() for t in transactions]
    expected = [transaction_signature.verify_transaction_signature_reference(t, r) for t, r in zip(transactions, raws, strict=True)]
    assert expected.count(True) >= 8 and expected.count(False) >= 4
    assert transaction_signature.verify_transaction_signatures(transactions, raws) == expected
    assert [transaction_signature.verify_transaction_signature(t, r) for t, r in zip(transactions, raws, strict=True)] == expected
    assert _core.verify_signatures(
        [(0, t.authenticator.public_key, r, t.authenticator.signature) for t, r in zip(payments, raws[: len(payments)], strict=True)], RAW_SEED
    ) == expected[: len(payments)]
    with pytest.raises(ValueError, match="one raw transaction per transaction"):
        transaction_signature.verify_transaction_signatures(transactions, raws[:-1])
