"""Every abort of diem-protocol.md §8.1, triggered through SDK-built transactions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from diem import stdlib, utils
from testchain import XUS, Account, Key, TestChain, mutate, sdk_address, status_of

from libra.framework.resources import (
    CREDENTIAL,
    DIEM_ACCOUNT,
    DIEM_ID_DOMAIN_MANAGER,
    PARENT_VASP,
    ROLE_ID,
    ParentVASP,
    RoleId,
)
from libra.types.move import TREASURY_COMPLIANCE_ADDRESS, AccountAddress

ABORT = "MoveAbortStatus"


@pytest.fixture(scope="module")
def base() -> tuple[TestChain, Account, Account, Account]:
    chain = TestChain()
    alice = chain.new_parent_vasp("alice", fund=10**10)
    child = chain.new_child_vasp(alice, "alice-child", initial=10**6)
    bob = chain.new_parent_vasp("bob", fund=10**10)
    return chain, alice, child, bob, chain.view.copy(), dict(chain.seq)


@pytest.fixture
def env(base):  # type: ignore[no-untyped-def]
    chain, alice, child, bob, view, seq = base
    chain.view = view.copy()
    chain.seq = dict(seq)
    return chain, alice, child, bob


def expect(out, code: int, reason: str, module: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert status_of(out) == (ABORT, code, reason), out.status
    assert out.events == ()
    if module:
        assert out.status.location.endswith("::" + module)


# --- peer_to_peer_with_metadata --------------------------------------------------------------


def test_p2p_withdraw_capability_extracted(env):
    chain, alice, _, bob = env
    mutate(chain, alice.address, DIEM_ACCOUNT, lambda a: dataclasses.replace(a, withdraw_capability=None))
    expect(chain.run(chain.p2p(alice, bob.address, 1)), 1793, "EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED")


def test_p2p_payer_doesnt_hold_currency(env):
    chain, alice, _, bob = env
    payload = stdlib.encode_peer_to_peer_with_metadata_script_function(
        utils.currency_code("XDX"), sdk_address(bob.address), np.uint64(1), b"", b""
    )
    expect(chain.run(chain.sign(alice, payload)), 4869, "EPAYER_DOESNT_HOLD_CURRENCY")


def test_p2p_insufficient_balance(env):
    chain, alice, _, bob = env
    expect(chain.run(chain.p2p(alice, bob.address, 10**11)), 1288, "EINSUFFICIENT_BALANCE", "DiemAccount")


def test_p2p_payee_frozen(env):
    chain, alice, _, bob = env
    freeze = stdlib.encode_freeze_account_script_function(np.uint64(0), sdk_address(bob.address))
    assert status_of(chain.run(chain.sign(chain.tc_account, freeze)))[0] == "Executed"
    expect(chain.run(chain.p2p(alice, bob.address, 1)), 1281, "EACCOUNT_FROZEN", "AccountFreezing")


def test_p2p_zero_amount(env):
    chain, alice, _, bob = env
    expect(chain.run(chain.p2p(alice, bob.address, 0)), 519, "ECOIN_DEPOSIT_IS_ZERO")


def test_p2p_payee_does_not_exist(env):
    chain, alice, _, _ = env
    expect(chain.run(chain.p2p(alice, Key.from_seed("nobody").address, 1)), 4357, "EPAYEE_DOES_NOT_EXIST")


def test_p2p_payee_cant_accept_currency(env):
    chain, alice, _, _ = env
    expect(chain.run(chain.p2p(alice, TREASURY_COMPLIANCE_ADDRESS, 1)), 4615, "EPAYEE_CANT_ACCEPT_CURRENCY_TYPE")


def test_dual_attestation_malformed_signature(env):
    chain, alice, _, bob = env
    expect(chain.run(chain.p2p(alice, bob.address, 10, b"m", b"\x01" * 63)), 775, "EMALFORMED_METADATA_SIGNATURE", "DualAttestation")


def test_dual_attestation_missing_credential(env):
    chain, alice, _, bob = env
    mutate(chain, bob.address, CREDENTIAL, None)
    expect(chain.run(chain.p2p(alice, bob.address, 10**9)), 775, "EMALFORMED_METADATA_SIGNATURE")
    expect(chain.run(chain.p2p(alice, bob.address, 10**9, b"", b"\x00" * 64)), 5, "ECREDENTIAL")


def test_dual_attestation_compliance_key_not_set(env):
    chain, alice, _, bob = env
    expect(chain.run(chain.p2p(alice, bob.address, 10**9, b"", b"\x00" * 64)), 1281, "EPAYEE_COMPLIANCE_KEY_NOT_SET")


def test_dual_attestation_base_url_not_set(env):
    chain, alice, _, bob = env
    compliance = Key.from_seed("bob-compliance")
    mutate(chain, bob.address, CREDENTIAL, lambda c: dataclasses.replace(c, compliance_public_key=compliance.public))
    expect(chain.run(chain.p2p(alice, bob.address, 10**9, b"", b"\x00" * 64)), 1537, "EPAYEE_BASE_URL_NOT_SET")


def test_dual_attestation_invalid_signature(env):
    chain, alice, _, bob = env
    compliance = Key.from_seed("bob-compliance")
    rotate = stdlib.encode_rotate_dual_attestation_info_script_function(b"http://bob", compliance.public)
    assert status_of(chain.run(chain.sign(bob, rotate)))[0] == "Executed"
    expect(chain.run(chain.p2p(alice, bob.address, 10**9, b"meta", b"\x00" * 64)), 1031, "EINVALID_METADATA_SIGNATURE")


# --- account creation -------------------------------------------------------------------------


def _child_payload(address: AccountAddress, prefix: bytes, currency=XUS, initial: int = 0):  # type: ignore[no-untyped-def]
    return stdlib.encode_create_child_vasp_account_script_function(
        currency, sdk_address(address), prefix, False, np.uint64(initial)
    )


def test_create_child_requires_parent_vasp(env):
    chain, _, child, _ = env
    k = Key.from_seed("c1")
    expect(chain.run(chain.sign(child, _child_payload(k.address, k.prefix))), 771, "EPARENT_VASP", "Roles")


def test_create_child_address_taken(env):
    chain, alice, _, bob = env
    expect(chain.run(chain.sign(alice, _child_payload(bob.address, bytes(16)))), 6, "EROLE_ID", "Roles")


def test_create_child_too_many_children(env):
    chain, alice, _, _ = env
    mutate(chain, alice.address, PARENT_VASP, lambda _: ParentVASP(256))
    k = Key.from_seed("c2")
    expect(chain.run(chain.sign(alice, _child_payload(k.address, k.prefix))), 264, "ETOO_MANY_CHILDREN", "VASP")


def test_create_child_unregistered_currency(env):
    chain, alice, _, _ = env
    k = Key.from_seed("c3")
    out = chain.run(chain.sign(alice, _child_payload(k.address, k.prefix, utils.currency_code("ABC"))))
    expect(out, 261, "ECURRENCY_INFO", "Diem")


@pytest.mark.parametrize(
    ("address", "prefix", "code", "reason"),
    [
        (None, b"\x00" * 15, 2055, "EMALFORMED_AUTHENTICATION_KEY"),
        (AccountAddress(bytes(16)), bytes(16), 2567, "ECANNOT_CREATE_AT_VM_RESERVED"),
        (AccountAddress.from_literal("0x1"), bytes(16), 6151, "ECANNOT_CREATE_AT_CORE_CODE"),
    ],
)
def test_create_child_bad_address_or_key(env, address, prefix, code, reason):
    chain, alice, _, _ = env
    address = address or Key.from_seed("c4").address
    expect(chain.run(chain.sign(alice, _child_payload(address, prefix))), code, reason, "DiemAccount")


def _parent_payload(nonce: int, address: AccountAddress):  # type: ignore[no-untyped-def]
    return stdlib.encode_create_parent_vasp_account_script_function(
        XUS, np.uint64(nonce), sdk_address(address), bytes(16), b"x", False
    )


def test_create_parent_requires_tc_address(env):
    chain, alice, _, _ = env
    expect(chain.run(chain.sign(alice, _parent_payload(0, Key.from_seed("p").address))), 258, "ETREASURY_COMPLIANCE", "CoreAddresses")


def test_create_parent_requires_tc_role(env):
    chain, *_ = env
    mutate(chain, TREASURY_COMPLIANCE_ADDRESS, ROLE_ID, lambda _: RoleId(5))
    expect(chain.run(chain.sign(chain.tc_account, _parent_payload(0, Key.from_seed("p").address))), 515, "ETREASURY_COMPLIANCE", "Roles")


def test_create_parent_address_taken(env):
    chain, alice, _, _ = env
    expect(chain.run(chain.sign(chain.tc_account, _parent_payload(0, alice.address))), 6, "EROLE_ID")


def test_sliding_nonce_aborts(env):
    chain, *_ = env
    tc = chain.tc_account
    assert status_of(chain.run(chain.sign(tc, _parent_payload(200, Key.from_seed("n1").address))))[0] == "Executed"
    expect(chain.run(chain.sign(tc, _parent_payload(200, Key.from_seed("n2").address))), 775, "ENONCE_ALREADY_RECORDED", "SlidingNonce")
    expect(chain.run(chain.sign(tc, _parent_payload(5, Key.from_seed("n3").address))), 263, "ENONCE_TOO_OLD")
    expect(chain.run(chain.sign(tc, _parent_payload(20_000, Key.from_seed("n4").address))), 519, "ENONCE_TOO_NEW")


def test_tiered_mint_aborts(env):
    chain, alice, _, _ = env
    tc, dd = chain.tc_account, chain.dd_account
    mint = stdlib.encode_tiered_mint_script_function
    expect(chain.run(chain.sign(alice, mint(XUS, np.uint64(0), sdk_address(dd.address), np.uint64(1), np.uint64(0)))), 258, "ETREASURY_COMPLIANCE")
    expect(chain.run(chain.sign(tc, mint(XUS, np.uint64(0), sdk_address(dd.address), np.uint64(0), np.uint64(0)))), 1031, "EINVALID_MINT_AMOUNT", "DesignatedDealer")
    expect(chain.run(chain.sign(tc, mint(XUS, np.uint64(0), sdk_address(alice.address), np.uint64(5), np.uint64(0)))), 5, "EDEALER")


# --- credentials, keys, currencies -----------------------------------------------------------


def test_rotate_dual_attestation_info_aborts(env):
    chain, alice, child, _ = env
    rotate = stdlib.encode_rotate_dual_attestation_info_script_function
    expect(chain.run(chain.sign(child, rotate(b"u", Key.from_seed("k").public))), 5, "ECREDENTIAL", "DualAttestation")
    expect(chain.run(chain.sign(alice, rotate(b"u", b"\x01" * 31))), 519, "EINVALID_PUBLIC_KEY")


def test_rotate_authentication_key_aborts(env):
    chain, alice, child, _ = env
    expect(chain.run(chain.sign(alice, stdlib.encode_rotate_authentication_key_script_function(b"\x00" * 31))), 2055, "EMALFORMED_AUTHENTICATION_KEY")
    mutate(chain, child.address, DIEM_ACCOUNT, lambda a: dataclasses.replace(a, key_rotation_capability=None))
    expect(chain.run(chain.sign(child, stdlib.encode_rotate_authentication_key_script_function(b"\x00" * 32))), 2305, "EKEY_ROTATION_CAPABILITY_ALREADY_EXTRACTED")


def test_add_currency_aborts(env):
    chain, alice, _, _ = env
    add = stdlib.encode_add_currency_to_account_script_function
    expect(chain.run(chain.sign(chain.tc_account, add(XUS))), 1031, "EROLE_CANT_STORE_BALANCE")
    expect(chain.run(chain.sign(alice, add(XUS))), 3846, "EADD_EXISTING_CURRENCY")
    expect(chain.run(chain.sign(alice, add(utils.currency_code("ABC")))), 261, "ECURRENCY_INFO")


# --- Diem ID domains --------------------------------------------------------------------------


def test_diem_id_domain_aborts(env):
    chain, alice, child, _ = env
    tc = chain.tc_account
    add = stdlib.encode_add_diem_id_domain_script_function
    remove = stdlib.encode_remove_diem_id_domain_script_function
    expect(chain.run(chain.sign(alice, add(sdk_address(alice.address), b"d"))), 258, "ETREASURY_COMPLIANCE")
    expect(chain.run(chain.sign(tc, add(sdk_address(child.address), b"d"))), 1029, "EDIEM_ID_DOMAINS_NOT_PUBLISHED", "DiemId")
    expect(chain.run(chain.sign(tc, add(sdk_address(alice.address), b"d" * 64))), 1287, "EINVALID_DIEM_ID_DOMAIN")
    assert status_of(chain.run(chain.sign(tc, add(sdk_address(alice.address), b"d"))))[0] == "Executed"
    expect(chain.run(chain.sign(tc, add(sdk_address(alice.address), b"d"))), 775, "EDOMAIN_ALREADY_EXISTS")
    expect(chain.run(chain.sign(tc, remove(sdk_address(alice.address), b"D"))), 519, "EDOMAIN_NOT_FOUND")
    mutate(chain, TREASURY_COMPLIANCE_ADDRESS, DIEM_ID_DOMAIN_MANAGER, None)
    expect(chain.run(chain.sign(tc, remove(sdk_address(alice.address), b"d"))), 261, "EDIEM_ID_DOMAIN_MANAGER")


def test_create_diem_id_domains_aborts(env):
    chain, alice, child, _ = env
    create = stdlib.encode_create_diem_id_domains_script_function
    expect(chain.run(chain.sign(child, create())), 771, "EPARENT_VASP")
    expect(chain.run(chain.sign(alice, create())), 6, "EDIEM_ID_DOMAIN", "DiemId")


def test_abort_keeps_only_sequence_bump(env):
    chain, alice, _, bob = env
    before = chain.account(alice.address)
    out = chain.run(chain.p2p(alice, bob.address, 10**11))
    after = chain.account(alice.address)
    assert after.sequence_number == before.sequence_number + 1
    assert after.balances == before.balances
    assert after.sent_events_key == before.sent_events_key
    assert [entry[0].address for entry in out.write_set.entries] == [alice.address]
