"""SDK-built script functions and Move scripts: effects, events in Diem's order, event keys (§4, §8, §14)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from diem import diem_types as dt
from diem import stdlib, utils
from hypothesis import given
from hypothesis import strategies as st
from testchain import XDX, XUS, Account, Key, TestChain, sdk_address, status_of

from libra.framework import events as ev
from libra.framework import scripts
from libra.framework.events import decode_event_data
from libra.framework.scripts import SCRIPT_ENTRIES, SCRIPT_HASHES, find_script
from libra.framework.views import get_chain_view, get_currency_views
from libra.types.move import DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, ZERO_ADDRESS, AccountAddress
from libra.types.write_set import EventKey


def key(n: int, address: AccountAddress) -> EventKey:
    return EventKey.create(n, address)


def decoded(out):  # type: ignore[no-untyped-def]
    assert status_of(out)[0] == "Executed", out.status
    return [(e.key, e.sequence_number, decode_event_data(e.type_tag, e.event_data)) for e in out.events]


@pytest.fixture
def chain() -> TestChain:
    return TestChain()


def test_genesis_event_keys_match_diem(chain):
    dr, tc, dd = DIEM_ROOT_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress.from_literal("0xdd")
    root = chain.account(dr)
    assert (root.role, root.received_events_key, root.sent_events_key) == ("diem_root", key(2, dr), key(3, dr))
    tc_view = chain.account(tc)
    assert tc_view.diem_id_domain_events_key == key(0, tc)
    assert (tc_view.received_events_key, tc_view.sent_events_key) == (key(1, tc), key(2, tc))
    dd_view = chain.account(dd)
    assert dd_view.received_mint_events_key == key(0, dd)
    assert dd_view.credential.compliance_key_rotation_events_key == key(1, dd)
    assert (dd_view.received_events_key, dd_view.sent_events_key) == (key(3, dd), key(4, dd))
    xus, xdx = get_currency_views(chain.view)
    assert (xus.code, xus.mint_events_key, xus.exchange_rate_update_events_key) == ("XUS", key(5, dr), key(9, dr))
    assert (xdx.code, xdx.mint_events_key, xdx.to_xdx_exchange_rate) == ("XDX", key(10, dr), 1.0)
    assert (xus.scaling_factor, xus.fractional_part, xdx.fractional_part) == (1_000_000, 100, 1000)
    meta = get_chain_view(chain.view)
    assert (meta.chain_id, meta.epoch, meta.dual_attestation_limit) == (2, 1, 1_000_000_000)
    assert meta.new_epoch_events_key == key(4, dr) and meta.new_block_events_key == key(17, dr)
    assert len(meta.validators) == 1
    assert xus.total_value == dd_view.balances[1][1]


def test_p2p_script_function_and_script(chain):
    alice = chain.new_parent_vasp("alice", fund=1000)
    bob = chain.new_parent_vasp("bob")
    out = chain.run(chain.p2p(alice, bob.address, 300, b"meta"))
    code = utils.currency_code("XUS")
    script = stdlib.encode_peer_to_peer_with_metadata_script(code, sdk_address(bob.address), np.uint64(200), b"", b"")
    out2 = chain.run(chain.sign(alice, dt.TransactionPayload__Script(value=script)))
    first, second = decoded(out), decoded(out2)
    assert first == [
        (key(3, alice.address), 0, ev.SentPaymentEvent(300, b"XUS", bob.address, b"meta")),
        (key(2, bob.address), 0, ev.ReceivedPaymentEvent(300, b"XUS", alice.address, b"meta")),
    ]
    assert [(k, s) for k, s, _ in second] == [(key(3, alice.address), 1), (key(2, bob.address), 1)]
    assert chain.balance(alice.address) == 500 and chain.balance(bob.address) == 500
    assert out.events[0].type_tag.name == "SentPaymentEvent"


def test_travel_rule_payment_with_recipient_signature(chain):
    alice = chain.new_parent_vasp("alice", fund=3 * 10**9)
    bob = chain.new_parent_vasp("bob")
    bob_child = chain.new_child_vasp(bob, "bob-child")
    compliance = Key.from_seed("bob-compliance")
    rotate = stdlib.encode_rotate_dual_attestation_info_script(b"http://bob", compliance.public)
    events = decoded(chain.run(chain.sign(bob, dt.TransactionPayload__Script(value=rotate))))
    seconds = chain.now // 1_000_000
    assert events == [
        (key(1, bob.address), 0, ev.BaseUrlRotationEvent(b"http://bob", seconds)),
        (key(0, bob.address), 0, ev.ComplianceKeyRotationEvent(compliance.public, seconds)),
    ]
    metadata = bytes.fromhex("0200010372656600")[:7]
    limit = 1_000_000_000
    message = metadata + alice.address.value + limit.to_bytes(8, "little") + b"@@$$DIEM_ATTEST$$@@"
    signature = compliance.signing.sign(message).signature
    assert status_of(chain.run(chain.p2p(alice, bob_child.address, limit)))[1] == 775
    assert status_of(chain.run(chain.p2p(alice, bob_child.address, limit, metadata, signature)))[0] == "Executed"
    assert status_of(chain.run(chain.p2p(alice, bob_child.address, limit - 1)))[0] == "Executed"
    same_vasp = chain.run(chain.p2p(bob_child, bob.address, limit))
    assert status_of(same_vasp)[0] == "Executed"


def test_account_creation_events(chain):
    alice = chain.new_parent_vasp("alice", fund=10**6)
    child_key = Key.from_seed("child")
    payload = stdlib.encode_create_child_vasp_account_script_function(
        XUS, sdk_address(child_key.address), child_key.prefix, True, np.uint64(10)
    )
    events = decoded(chain.run(chain.sign(alice, payload)))
    assert [e[2] for e in events] == [
        ev.CreateAccountEvent(child_key.address, 6),
        ev.SentPaymentEvent(10, b"XUS", child_key.address, b""),
        ev.ReceivedPaymentEvent(10, b"XUS", alice.address, b""),
    ]
    assert events[0][0] == key(0, DIEM_ROOT_ADDRESS)
    child = chain.account(child_key.address)
    assert (child.role, child.parent_vasp_address, child.received_events_key) == ("child_vasp", alice.address, key(0, child_key.address))
    assert child.balances == (("XDX", 0), ("XUS", 10))
    assert chain.account(alice.address).num_children == 1
    dd_key = Key.from_seed("dd2")
    dd_payload = stdlib.encode_create_designated_dealer_script_function(
        XUS, np.uint64(0), sdk_address(dd_key.address), dd_key.prefix, b"dd2", False
    )
    assert decoded(chain.run(chain.sign(chain.tc_account, dd_payload)))[0][2] == ev.CreateAccountEvent(dd_key.address, 2)
    assert chain.account(dd_key.address).sent_events_key == key(4, dd_key.address)


def test_mint_preburn_burn_cancel(chain):
    tc = chain.tc_account
    dealer = chain.new_dd("dealer")
    mint = stdlib.encode_tiered_mint_script_function(XUS, np.uint64(1), sdk_address(dealer.address), np.uint64(500), np.uint64(0))
    events = decoded(chain.run(chain.sign(tc, mint)))
    assert events == [
        (key(0, dealer.address), 0, ev.ReceivedMintEvent(b"XUS", dealer.address, 500)),
        (key(5, DIEM_ROOT_ADDRESS), 1, ev.MintEvent(500, b"XUS")),
        (key(3, dealer.address), 0, ev.ReceivedPaymentEvent(500, b"XUS", ZERO_ADDRESS, b"")),
    ]
    for amount in (100, 50, 100):
        events = decoded(chain.run(chain.sign(dealer, stdlib.encode_preburn_script_function(XUS, np.uint64(amount)))))
        assert [type(e[2]).__name__ for e in events] == ["SentPaymentEvent", "PreburnEvent"]
    view = chain.account(dealer.address)
    assert view.preburn_balances == (("XUS", 250),) and chain.balance(dealer.address) == 250
    burn = stdlib.encode_burn_with_amount_script_function(XUS, np.uint64(2), sdk_address(dealer.address), np.uint64(50))
    assert decoded(chain.run(chain.sign(tc, burn)))[0][2] == ev.BurnEvent(50, b"XUS", dealer.address)
    cancel = stdlib.encode_cancel_burn_with_amount_script_function(XUS, sdk_address(dealer.address), np.uint64(100))
    assert [e[2] for e in decoded(chain.run(chain.sign(tc, cancel)))] == [
        ev.CancelBurnEvent(100, b"XUS", dealer.address),
        ev.ReceivedPaymentEvent(100, b"XUS", dealer.address, b""),
    ]
    legacy = stdlib.encode_burn_script(XUS, np.uint64(3), sdk_address(dealer.address))
    assert decoded(chain.run(chain.sign(tc, dt.TransactionPayload__Script(value=legacy))))[0][2].amount == 100
    xus = get_currency_views(chain.view)[0]
    assert xus.preburn_value == 0
    assert status_of(chain.run(chain.sign(tc, cancel)))[1:] == (3073, "EPREBURN_NOT_FOUND")


def test_freeze_unfreeze_and_limits(chain):
    tc = chain.tc_account
    alice = chain.new_parent_vasp("alice", fund=10)
    freeze = stdlib.encode_freeze_account_script_function(np.uint64(0), sdk_address(alice.address))
    assert decoded(chain.run(chain.sign(tc, freeze))) == [
        (key(15, DIEM_ROOT_ADDRESS), 0, ev.FreezeAccountEvent(TREASURY_COMPLIANCE_ADDRESS, alice.address))
    ]
    assert chain.account(alice.address).is_frozen
    unfreeze = stdlib.encode_unfreeze_account_script_function(np.uint64(0), sdk_address(alice.address))
    assert decoded(chain.run(chain.sign(tc, unfreeze)))[0][0] == key(16, DIEM_ROOT_ADDRESS)
    rate = stdlib.encode_update_exchange_rate_script_function(XUS, np.uint64(0), np.uint64(1), np.uint64(2))
    assert decoded(chain.run(chain.sign(tc, rate)))[0][2] == ev.ToXDXExchangeRateUpdateEvent(b"XUS", 1 << 31)
    assert get_currency_views(chain.view)[0].to_xdx_exchange_rate == 0.5
    limit = stdlib.encode_update_dual_attestation_limit_script_function(np.uint64(0), np.uint64(7))
    assert decoded(chain.run(chain.sign(tc, limit))) == []
    assert get_chain_view(chain.view).dual_attestation_limit == 7
    minting = stdlib.encode_update_minting_ability_script_function(XUS, False)
    assert decoded(chain.run(chain.sign(tc, minting))) == []
    mint = stdlib.encode_tiered_mint_script_function(XUS, np.uint64(0), sdk_address(chain.dd_account.address), np.uint64(1), np.uint64(0))
    assert status_of(chain.run(chain.sign(tc, mint)))[1] == 1281


def test_keys_currencies_domains(chain):
    alice = chain.new_parent_vasp("alice", fund=10)
    new_key = Key.from_seed("alice-2")
    rotate = stdlib.encode_rotate_authentication_key_script_function(new_key.auth_key)
    assert decoded(chain.run(chain.sign(alice, rotate))) == []
    assert status_of(chain.run(chain.p2p(alice, chain.dd_account.address, 1)))[2] == "INVALID_AUTH_KEY"
    rotated = Account(new_key, alice.address)
    back = stdlib.encode_rotate_authentication_key_with_nonce_script_function(np.uint64(0), alice.key.auth_key)
    assert decoded(chain.run(chain.sign(rotated, back))) == []
    assert decoded(chain.run(chain.sign(alice, stdlib.encode_add_currency_to_account_script_function(XDX)))) == []
    assert chain.account(alice.address).balances == (("XDX", 0), ("XUS", 10))
    tc = chain.tc_account
    add = stdlib.encode_add_diem_id_domain_script_function(sdk_address(alice.address), b"alice.com")
    assert decoded(chain.run(chain.sign(tc, add))) == [
        (key(0, TREASURY_COMPLIANCE_ADDRESS), 0, ev.DiemIdDomainEvent(False, b"alice.com", alice.address))
    ]
    assert chain.account(alice.address).diem_id_domains == (b"alice.com",)
    remove = stdlib.encode_remove_diem_id_domain_script_function(sdk_address(alice.address), b"alice.com")
    assert decoded(chain.run(chain.sign(tc, remove)))[0][2].removed is True


def test_validator_lifecycle(chain):
    root, tc = chain.root_account, chain.tc_account
    owner, operator = Key.from_seed("owner"), Key.from_seed("operator")
    steps = [
        (root, stdlib.encode_create_validator_account_script_function(np.uint64(1), sdk_address(owner.address), owner.prefix, b"owner")),
        (root, stdlib.encode_create_validator_operator_account_script_function(np.uint64(2), sdk_address(operator.address), operator.prefix, b"op")),
    ]
    for sender, payload in steps:
        assert decoded(chain.run(chain.sign(sender, payload)))[0][2].role_id in (3, 4)
    owner_account, operator_account = Account(owner, owner.address), Account(operator, operator.address)
    set_op = stdlib.encode_set_validator_operator_script_function(b"op", sdk_address(operator.address))
    assert decoded(chain.run(chain.sign(owner_account, set_op))) == []
    consensus = Key.from_seed("consensus").public
    register = stdlib.encode_register_validator_config_script_function(sdk_address(owner.address), consensus, b"addr", b"addr")
    assert decoded(chain.run(chain.sign(operator_account, register))) == []
    add = stdlib.encode_add_validator_and_reconfigure_script_function(np.uint64(3), b"owner", sdk_address(owner.address))
    output = chain.execute([chain.sign(root, add), chain.p2p(chain.dd_account, owner.address, 1)])
    assert decoded(output.transaction_outputs[0]) == [(key(4, DIEM_ROOT_ADDRESS), 1, ev.NewEpochEvent(2))]
    assert output.reconfiguration and output.transaction_outputs[1].status.status_code == "RETRY"
    chain.seq[chain.dd_account.address] -= 1
    assert len(get_chain_view(chain.view).validators) == 2 and get_chain_view(chain.view).epoch == 2
    wrong_name = stdlib.encode_remove_validator_and_reconfigure_script_function(np.uint64(4), b"x", sdk_address(owner.address))
    out = chain.run(chain.sign(root, wrong_name))
    assert (out.status.abort_code, out.status.reason, out.vm_status_json()["explanation"]) == (0, None, None)
    new_consensus = Key.from_seed("consensus-2").public
    update = stdlib.encode_set_validator_config_and_reconfigure_script_function(sdk_address(owner.address), new_consensus, b"a2", b"a2")
    chain.now += 300_000_001
    assert decoded(chain.run(chain.sign(operator_account, update)))[0][2] == ev.NewEpochEvent(3)
    remove = stdlib.encode_remove_validator_and_reconfigure_script_function(np.uint64(5), b"owner", sdk_address(owner.address))
    assert decoded(chain.run(chain.sign(root, remove)))[0][2] == ev.NewEpochEvent(4)
    version = stdlib.encode_update_diem_version_script_function(np.uint64(6), np.uint64(2))
    assert decoded(chain.run(chain.sign(root, version)))[0][2] == ev.NewEpochEvent(5)
    assert tc


def test_gas_fees_and_burn_txn_fees(chain):
    alice = chain.new_parent_vasp("alice", fund=10**6)
    out = chain.run(chain.p2p(alice, chain.dd_account.address, 1, currency="XUS", price=2, max_gas=1000))
    assert out.gas_used > 0
    assert chain.balance(alice.address) == 10**6 - 1 - 2 * out.gas_used
    burn = stdlib.encode_burn_txn_fees_script_function(XUS)
    events = decoded(chain.run(chain.sign(chain.tc_account, burn)))
    assert [type(e[2]).__name__ for e in events] == ["PreburnEvent", "BurnEvent"]
    assert events[1][2].amount == 2 * out.gas_used
    aborted = chain.run(chain.p2p(alice, chain.dd_account.address, 10**9, currency="XUS", price=1, max_gas=1000))
    assert status_of(aborted)[1] == 1288
    assert chain.balance(alice.address) == 10**6 - 1 - 2 * out.gas_used - aborted.gas_used
    out_of_gas = chain.run(chain.p2p(alice, chain.dd_account.address, 1, max_gas=3))
    assert type(out_of_gas.status).__name__ == "OutOfGas" and out_of_gas.gas_used == 3


SCRIPT_ENCODERS = {
    name[len("encode_") : -len("_script")]: getattr(stdlib, name)
    for name in dir(stdlib)
    if name.startswith("encode_") and name.endswith("_script") and name != "encode_script"
}


@pytest.mark.parametrize("name", sorted(SCRIPT_HASHES.values()))
def test_script_hash_table_matches_sdk_bytecode(name):
    code = getattr(stdlib, f"{name.upper()}_CODE")
    assert SCRIPT_HASHES[hashlib.sha3_256(code).digest()] == name
    entry = find_script(code)
    assert entry is not None and entry.function == name
    assert name in SCRIPT_ENCODERS


def test_every_entry_is_reachable():
    functions = {e.function for e in SCRIPT_ENTRIES}
    assert {"peer_to_peer_with_metadata", "rotate_dual_attestation_info", "add_diem_id_domain"} <= functions
    assert len(SCRIPT_HASHES) == 26


def _decoded_or_error(decode, kind: str, data: bytes):  # type: ignore[no-untyped-def]
    try:
        return "ok", decode(kind, data)
    except Exception as exc:  # noqa: BLE001 - the exception type is what is compared
        return "error", type(exc)


_ARG_DATA = st.one_of(
    st.binary(max_size=20),
    st.binary(min_size=8, max_size=8),
    st.binary(min_size=16, max_size=16),
    st.binary(max_size=130).map(lambda b: bytes([len(b) % 256]) + b),  # a length byte that may or may not fit
    st.binary(max_size=200).map(lambda b: bytes([0x80 | len(b) & 0x7F, len(b) >> 7]) + b),  # two-byte lengths
)


@given(st.sampled_from(["u64", "address", "bool", "bytes"]), _ARG_DATA)
def test_argument_shortcuts_decode_as_the_bcs_decoder(kind: str, data: bytes) -> None:
    assert _decoded_or_error(scripts._decode_arg, kind, data) == _decoded_or_error(scripts._decode_arg_strict, kind, data)
