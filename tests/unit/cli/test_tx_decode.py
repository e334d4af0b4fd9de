import json

import pytest
from click.testing import CliRunner
from diem import diem_types as sdk
from diem import jsonrpc, stdlib, utils
from google.protobuf.json_format import ParseDict
from nacl.signing import SigningKey

from libra.cli.main import cli

PAYEE = sdk.AccountAddress.from_hex("6dfcea9ac61f0a8420e5d01fbd8f0ea8")


def signed_hex(payload) -> tuple[str, sdk.SignedTransaction]:
    key = SigningKey(bytes(32))
    raw = sdk.RawTransaction(
        sender=sdk.AccountAddress.from_hex("bb84d9cdf7362e4e2522265b185127cb"),
        sequence_number=sdk.st.uint64(7),
        payload=payload,
        max_gas_amount=sdk.st.uint64(1_000_000),
        gas_unit_price=sdk.st.uint64(0),
        gas_currency_code="XDX",
        expiration_timestamp_secs=sdk.st.uint64(1_700_000_000),
        chain_id=sdk.ChainId(sdk.st.uint8(2)),
    )
    signature = key.sign(utils.raw_transaction_signing_msg(raw)).signature
    signed = utils.create_signed_transaction(raw, bytes(key.verify_key), signature)
    return signed.bcs_serialize().hex(), signed


def decode(text: str):
    return CliRunner().invoke(cli, ["tx", "decode", text])


def test_p2p_script_view_has_named_fields_and_sdk_hash():
    payload = sdk.TransactionPayload__Script(
        stdlib.encode_peer_to_peer_with_metadata_script(utils.currency_code("XUS"), PAYEE, 1000, b"\x01\x02", b"")
    )
    text, signed = signed_hex(payload)
    result = decode(text)
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert view["hash"] == utils.transaction_hash(signed)
    assert view["bytes"] == "00" + text
    script = view["transaction"]["script"]
    assert script["type"] == "peer_to_peer_with_metadata"
    assert script["receiver"] == PAYEE.to_hex()
    assert script["amount"] == 1000
    assert script["currency"] == "XUS"
    assert script["metadata"] == "0102"
    assert script["arguments"] == [
        "{ADDRESS: 6DFCEA9AC61F0A8420E5D01FBD8F0EA8}",
        "{U64: 1000}",
        "{U8Vector: 0x0102}",
        "{U8Vector: 0x}",
    ]
    assert view["transaction"]["script_hash"] == "04ea43107fafc12adcd09f6c68d63e194675d0ce843a7faf7cceb6c813db9d9a"
    # Diem's own client parses it, and reads what wallets read.
    parsed = ParseDict(view["transaction"], jsonrpc.TransactionData(), ignore_unknown_fields=True)
    assert parsed.script.metadata == "0102"
    assert parsed.sequence_number == 7
    assert parsed.gas_currency == "XDX"


def test_script_function_view():
    payload = stdlib.encode_create_child_vasp_account_script_function(
        utils.currency_code("XUS"), PAYEE, bytes(16), False, 5
    )
    view = json.loads(decode(signed_hex(payload)[0]).output)
    script = view["transaction"]["script"]
    assert script["type"] == "script_function"
    assert script["module_name"] == "AccountCreationScripts"
    assert script["function_name"] == "create_child_vasp_account"
    assert script["module_address"] == "00000000000000000000000000000001"
    assert script["type_arguments"] == ["XUS"]
    assert script["arguments_bcs"][0] == PAYEE.to_hex()  # BCS of an address: 16 raw bytes
    assert view["transaction"]["script_hash"] == "0" * 64


def test_unknown_script_code_is_unknown_type():
    payload = sdk.TransactionPayload__Script(sdk.Script(code=b"\x01\x02", ty_args=[], args=[]))
    view = json.loads(decode(signed_hex(payload)[0]).output)
    assert view["transaction"]["script"]["type"] == "unknown"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h: h[:50], "input ends"),
        (lambda h: h + "00", "trailing byte"),
        (lambda h: "zz" + h, "not hex"),
        (lambda h: h[:-1], "odd number of hex digits"),
        (lambda h: "", "empty input"),
    ],
)
def test_malformed_input_exits_2_with_one_line(mutate, message):
    text, _ = signed_hex(stdlib.encode_create_diem_id_domains_script_function())
    result = decode(mutate(text))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in result.output


def test_error_names_offset_and_expected_type():
    text, _ = signed_hex(stdlib.encode_create_diem_id_domains_script_function())
    result = decode(text[:40])
    assert "at byte 16" in result.output and "expected u64" in result.output
