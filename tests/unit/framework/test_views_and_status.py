"""Read views for the API layer and the VM status JSON shapes (diem-protocol.md §4, §14)."""

from __future__ import annotations

from testchain import TestChain

from libra.framework.aborts import DiemAccountAborts
from libra.framework.errors import (
    EXECUTED,
    ExecutionFailure,
    MiscellaneousError,
    MoveAbort,
    OutOfGas,
    status_of_abort,
    vm_status_json,
)
from libra.framework.scripts import script_name
from libra.framework.views import decode_account_view


def test_status_json_shapes():
    assert vm_status_json(EXECUTED) == {"type": "executed"}
    assert vm_status_json(OutOfGas()) == {"type": "out_of_gas"}
    assert vm_status_json(MiscellaneousError("TYPE_MISMATCH")) == {"type": "miscellaneous_error"}
    failure = vm_status_json(ExecutionFailure("00000000000000000000000000000001::Diem", 3, 7))
    assert failure["type"] == "execution_failure" and failure["code_offset"] == 7
    reason = DiemAccountAborts.EINSUFFICIENT_BALANCE
    abort = vm_status_json(status_of_abort(MoveAbort(reason.module, reason.code, reason)))
    assert abort["location"] == "00000000000000000000000000000001::DiemAccount"
    assert abort["abort_code"] == 1288
    assert abort["explanation"]["category"] == "LIMIT_EXCEEDED"
    assert abort["explanation"]["reason"] == "EINSUFFICIENT_BALANCE"


def test_decode_account_view_from_blob():
    chain = TestChain()
    alice = chain.new_parent_vasp("alice", fund=5)
    view = decode_account_view(alice.address, chain.view.blobs[alice.address])
    assert view is not None and view.role == "parent_vasp" and view.balances == (("XUS", 5),)
    assert view.received_events_key.hex() == "0200000000000000" + alice.address.hex()
    assert view.sent_events_key.hex() == "0300000000000000" + alice.address.hex()
    assert view.credential.base_url == b"" and view.credential.expiration_time == 2**64 - 1
    assert view.diem_id_domains == () and view.num_children == 0 and not view.is_frozen
    tc = decode_account_view(chain.tc_account.address, chain.view.blobs[chain.tc_account.address])
    assert tc.role == "treasury_compliance"
    assert tc.diem_id_domain_events_key.hex() == "0000000000000000" + "0000000000000000000000000b1e55ed"


def test_script_names_for_the_api():
    from diem import stdlib

    assert script_name(stdlib.PEER_TO_PEER_WITH_METADATA_CODE) == "peer_to_peer_with_metadata"
    assert script_name(stdlib.ROTATE_DUAL_ATTESTATION_INFO_CODE) == "rotate_dual_attestation_info"
    assert script_name(b"\x00") is None
