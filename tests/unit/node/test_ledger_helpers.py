"""The ledger's commit helpers: one-join encodings equal the types' BCS."""

from __future__ import annotations

import os

from libra.node.ledger import _event_bytes, _write_set_bytes
from libra.types.move import AccountAddress, StructTag, currency_type_tag
from libra.types.write_set import AccessPath, ContractEvent, EventKey, WriteOp, WriteSet

A, B = AccountAddress(os.urandom(16)), AccountAddress(os.urandom(16))


def test_event_and_write_set_bytes_equal_bcs() -> None:
    tags = [currency_type_tag("XUS"), StructTag(A, "M", "E", (currency_type_tag("XDX"),))]
    for seq in (0, 1, 2**63):
        for tag in tags:
            event = ContractEvent(EventKey(os.urandom(24)), seq, tag, os.urandom(300))
            assert _event_bytes(event) == event.to_bcs()
    write_set = WriteSet(
        ((AccessPath(A, b"\x01" + os.urandom(200)), WriteOp(os.urandom(130))), (AccessPath(B, b"\x01p"), WriteOp(None)))
    )
    assert _write_set_bytes(write_set) == write_set.to_bcs()
    assert _write_set_bytes(WriteSet(())) == WriteSet(()).to_bcs()


def test_event_bytes_of_the_same_tag_object_and_of_equal_tags() -> None:
    from libra.framework.events import ReceivedPaymentEvent, SentPaymentEvent

    for _ in range(3):  # framework tags are the same objects every time (remembered by identity)
        for tag in (SentPaymentEvent.TYPE_TAG, ReceivedPaymentEvent.TYPE_TAG):
            event = ContractEvent(EventKey(os.urandom(24)), 7, tag, b"data")
            assert _event_bytes(event) == event.to_bcs()
    for n in range(300):  # tags decoded from elsewhere: new objects, some equal, some not
        tag = StructTag(A, "M", f"E{n % 7}", ())
        event = ContractEvent(EventKey(os.urandom(24)), n, tag, b"")
        assert _event_bytes(event) == event.to_bcs()
