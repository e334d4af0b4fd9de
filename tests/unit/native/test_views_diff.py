"""The native transaction views write exactly the JSON text the Python views write.

``_core.transaction_view_json`` may decline (None) any transaction; when it answers, its text
must equal ``encode_json(transaction_json(...))`` byte for byte, on random transactions and
statuses (every version of a real chain: ``tests/unit/api/test_views.py``).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.types.test_transaction_fast_decode import ENCODED, _payments

from libra import _core
from libra.api.dispatcher import encode_json
from libra.api.views import transaction_json
from libra.types.ledger import KeptVMStatus, TransactionInfo
from libra.types.transaction import transaction_from_bcs

HASHES = st.binary(min_size=32, max_size=32)
U64 = st.integers(min_value=0, max_value=2**64 - 1)
STATUSES = st.sampled_from([KeptVMStatus(), KeptVMStatus(kind=1), KeptVMStatus(kind=4)])


def python_text(version: int, data: bytes, info: bytes) -> str:
    return encode_json(transaction_json(version, transaction_from_bcs(data), data, TransactionInfo.from_bcs(info)))


def check_same(version: int, data: bytes, info: bytes) -> bool:
    native = _core.transaction_view_json(version, data, info)
    if native is None:
        return False
    assert native == python_text(version, data, info)
    return True


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENCODED, U64, HASHES, HASHES, HASHES, U64, STATUSES)
def test_random_user_transactions(signed: bytes, version: int, h1: bytes, h2: bytes, h3: bytes, gas: int,
                                  status: KeptVMStatus) -> None:
    data = b"\x00" + signed
    try:
        transaction_from_bcs(data)
    except ValueError:
        assert _core.transaction_view_json(version, data, TransactionInfo(h1, h2, h3, gas).to_bcs()) is None
        return
    answered = check_same(version, data, TransactionInfo(h1, h2, h3, gas, status).to_bcs())
    if status.kind != 0:
        assert not answered  # only Executed is rendered natively


def test_payments_are_rendered_natively() -> None:
    info = TransactionInfo(bytes(32), b"\x01" * 32, b"\x02" * 32, 17).to_bcs()
    for version, signed in enumerate(_payments()):
        assert check_same(version, b"\x00" + signed, info)
