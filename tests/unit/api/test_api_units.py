"""Pure units: the error table and helpers, the param parsers, the backend Protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import pytest
from api_fakes import FakeService
from hypothesis import given, settings
from hypothesis import strategies as st

from libra.api import errors, params
from libra.api.backend import ApiBackend, LedgerState
from libra.api.dispatcher import METHODS, Dispatcher
from libra.api.errors import ErrorCode, MempoolStatus, VmStatusType
from libra.api.metrics import ApiMetrics


def test_error_codes_match_diem_table():
    assert {code.name: code.value for code in ErrorCode} == {
        "PARSE_ERROR": -32700,
        "INVALID_REQUEST": -32600,
        "METHOD_NOT_FOUND": -32601,
        "INVALID_PARAMS": -32602,
        "INVALID_FORMAT": -32604,
        "DEFAULT_SERVER_ERROR": -32000,
        "VM_VALIDATION_ERROR": -32001,
        "VM_VERIFICATION_ERROR": -32002,
        "VM_INVARIANT_VIOLATION_ERROR": -32003,
        "VM_DESERIALIZATION_ERROR": -32004,
        "VM_EXECUTION_ERROR": -32005,
        "VM_UNKNOWN_ERROR": -32006,
        "MEMPOOL_INVALID_SEQ_NUMBER": -32007,
        "MEMPOOL_IS_FULL": -32008,
        "MEMPOOL_TOO_MANY_TRANSACTIONS": -32009,
        "MEMPOOL_INVALID_UPDATE": -32010,
        "MEMPOOL_VM_ERROR": -32011,
        "MEMPOOL_UNKNOWN_ERROR": -32012,
    }


def test_vm_validation_message():
    error = errors.vm_validation_error("SEQUENCE_NUMBER_TOO_OLD")
    assert error.to_json() == {
        "code": -32001,
        "message": "Server error: VM Validation error: SEQUENCE_NUMBER_TOO_OLD",
        "data": None,
    }
    assert not error.is_internal()


@pytest.mark.parametrize(
    ("status_code", "code", "type_text"),
    [
        (3, -32001, "Validation"),
        (1001, -32002, "Verification"),
        (2000, -32003, "Invariant violation"),
        (3001, -32004, "Deserialization"),
        (4002, -32005, "Execution"),
        (2**64 - 1, -32006, "Unknown"),
    ],
)
def test_vm_error_type_from_status_code(status_code, code, type_text):
    error = errors.vm_error("SOME_STATUS", status_code)
    assert error.code == code
    assert error.message == f"Server error: VM {type_text} error: SOME_STATUS"
    assert error.data == {"StatusCode": status_code}


def test_vm_error_explicit_type():
    assert errors.vm_error("X", status_type=VmStatusType.EXECUTION).code == -32005


@pytest.mark.parametrize(
    ("helper", "code"),
    [
        (errors.mempool_invalid_seq_number, -32007),
        (errors.mempool_is_full, -32008),
        (errors.mempool_too_many_transactions, -32009),
        (errors.mempool_invalid_update, -32010),
        (errors.mempool_vm_error, -32011),
        (errors.mempool_unknown_error, -32012),
    ],
)
def test_mempool_helpers(helper, code):
    error = helper('say "hi"')
    assert error.code == code
    assert error.message == 'Server error: Mempool submission error: "say \\"hi\\""'


def test_mempool_duplicate_message_matches_diem():
    error = errors.mempool_error(MempoolStatus.INVALID_UPDATE, "Failed to update gas price to 0")
    assert error.message == 'Server error: Mempool submission error: "Failed to update gas price to 0"'


def test_internal_codes():
    assert errors.internal_error("x").is_internal()
    assert errors.mempool_is_full().is_internal()
    assert not errors.mempool_invalid_update().is_internal()
    assert not errors.invalid_params("m").is_internal()


def test_protocol_helpers_messages():
    assert errors.invalid_params("get_account").message == "Invalid params for method 'get_account'"
    assert errors.invalid_request().message == "Invalid Request"
    assert errors.page_size_exceeded(1001, 1000).message == "Invalid Request: page size = 1001, exceed limit 1000"
    assert errors.version_too_new("version", 5).message == "Invalid param version should be <= known latest version 5"


# --- params ----------------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_u64_accepts_range(value):
    assert params.parse_u64(value) == value


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64), st.floats(), st.booleans(), st.text(), st.none()))
def test_u64_refuses_everything_else(value):
    with pytest.raises(ValueError):
        params.parse_u64(value)


@given(st.binary(min_size=16, max_size=16))
def test_address_round_trip_either_case(raw):
    assert params.parse_address(raw.hex()) == raw
    assert params.parse_address(raw.hex().upper()) == raw


@pytest.mark.parametrize("value", ["0x" + "ab" * 15, "ab" * 15, "ab" * 17, " " + "ab" * 15 + "a", "g" * 32, 5, None, ["ab" * 16]])
def test_address_refusals(value):
    with pytest.raises(ValueError):
        params.parse_address(value)


@pytest.mark.parametrize("value", ["abc", "0x00", "a b ", "zz"])
def test_hex_refusals(value):
    with pytest.raises(ValueError):
        params.parse_hex(value)


def _hex_reference(value):
    """The rule spelled out: a string of hex digits only, of even length."""
    if not isinstance(value, str) or len(value) % 2 or not set(value) <= set("0123456789abcdefABCDEF"):
        raise ValueError("expected an even number of hex characters without 0x prefix")
    return bytes.fromhex(value)


@settings(max_examples=500)
@given(
    st.one_of(
        st.binary(max_size=40).map(bytes.hex),
        st.lists(st.sampled_from(list("0123456789abcdefABCDEF \t\n\r\x0b\x0cxg\u3000\u00a0é")), max_size=12).map("".join),
        st.text(max_size=12),
    )
)
def test_hex_parser_takes_exactly_hex_digit_pairs(value):
    """No whitespace anywhere (``bytes.fromhex`` would skip it), nothing but digits."""
    try:
        expected = _hex_reference(value)
    except ValueError:
        with pytest.raises(ValueError, match="expected an even number of hex characters"):
            params.parse_hex(value)
    else:
        assert params.parse_hex(value) == expected


@pytest.mark.parametrize("value", ["ab cd", " abcd", "abcd ", "ab\ncd", "a bc", "ab\u3000cd"])
def test_hex_refuses_whitespace(value):
    with pytest.raises(ValueError):
        params.parse_hex(value)


@given(st.binary(max_size=300))
def test_signed_transaction_parser_never_crashes(raw):
    """Garbage is a ValueError (→ -32602), never another exception (→ -32000)."""
    with contextlib.suppress(ValueError):
        params.parse_signed_transaction(raw.hex())


def test_bind_params_named_ignores_unknown_and_defaults_optional():
    specs = (params.required("a", params.parse_u64), params.optional("b", params.parse_bool))
    assert params.bind_params(specs, {"a": 1, "zzz": 2}) == [1, None]
    assert params.bind_params(specs, [1]) == [1, None]
    assert params.bind_params(specs, [1, None]) == [1, None]
    with pytest.raises(params.ParamError, match="a: missing required param"):
        params.bind_params(specs, None)


def test_fake_service_satisfies_protocol():
    assert isinstance(FakeService(), ApiBackend)


# --- dispatcher over arbitrary input ------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_requests = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0"]) | _json,
        "id": st.integers(min_value=-1, max_value=2**64) | st.text(max_size=5) | _json,
        "method": st.sampled_from(sorted(METHODS)) | _json,
        "params": st.lists(_json, max_size=6) | _json,
    },
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(_requests, _json, st.lists(_requests, max_size=25)))
def test_any_payload_gets_an_enveloped_answer(payload):
    """Whatever arrives, the answer is JSON with the envelope, and no call is a server error."""
    dispatcher = Dispatcher(FakeService(), ApiMetrics(METHODS))
    ledger = LedgerState(chain_id=4, version=100, timestamp_usecs=5)
    answer = json.loads(asyncio.run(dispatcher.handle_payload(payload, ledger)))
    for item in answer if isinstance(answer, list) else [answer]:
        assert item["diem_ledger_version"] == 100 and item["jsonrpc"] == "2.0"
        assert ("result" in item) != ("error" in item)
        if "error" in item:
            assert item["error"]["code"] != -32000, item


def test_call_log_line_is_json(caplog):
    dispatcher = Dispatcher(FakeService(), ApiMetrics(METHODS))
    ledger = LedgerState(chain_id=4, version=100, timestamp_usecs=5)
    request = {"jsonrpc": "2.0", "id": 9, "method": "get_account", "params": ["bad"]}
    with caplog.at_level(logging.DEBUG, logger="libra.api.requests"):
        asyncio.run(dispatcher.handle_payload(request, ledger))
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    line = json.loads(record.getMessage())
    assert line["method"] == "get_account" and line["id"] == 9 and line["error_code"] == -32602
    assert line["latency_ms"] >= 0


def _encode_result_reference(ledger, request_id, result):
    return json.dumps(
        {
            "id": request_id,
            "jsonrpc": "2.0",
            "diem_chain_id": ledger.chain_id,
            "diem_ledger_version": ledger.version,
            "diem_ledger_timestampusec": ledger.timestamp_usecs,
            "result": result,
        },
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300)
@given(
    st.integers(0, 255),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.one_of(st.integers(0, 2**64 - 1), st.text(max_size=10)),
    _JSON_VALUES,
)
def test_result_envelope_text_is_the_dict_encoding(chain_id, version, timestamp, request_id, result):
    """The assembled response is byte for byte ``json.dumps`` of the envelope dict, whatever
    the ledger state (cached per state), id and result."""
    from libra.api.dispatcher import encode_result

    ledger = LedgerState(chain_id, version, timestamp)
    for _ in range(2):  # the second answer comes from the cached envelope
        assert encode_result(ledger, request_id, result) == _encode_result_reference(ledger, request_id, result)
    other = LedgerState(chain_id, version + 1 if version < 2**64 - 1 else 0, timestamp)
    assert encode_result(other, request_id, result) == _encode_result_reference(other, request_id, result)
