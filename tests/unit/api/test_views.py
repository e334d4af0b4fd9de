"""Diem JSON-RPC views rendered from a real chain (diem-protocol.md §2–§4, §12, §14, §16).

One in-memory ledger (framework genesis, SDK-built transactions executed and committed
through ``libra.node.ledger``) provides every input. Each view is checked key by key
against Diem's shapes and parsed with the official SDK's protobuf messages, both as the
SDK does (``ignore_unknown_fields=True``) and strictly (to catch misspelled keys).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from diem import diem_types as dt
from diem import jsonrpc, stdlib
from diem.jsonrpc import jsonrpc_pb2
from google.protobuf.json_format import MessageToDict, ParseDict
from google.protobuf.message import Message

_HELPERS = str(Path(__file__).resolve().parent.parent / "framework")
if _HELPERS not in sys.path:
    sys.path.insert(0, _HELPERS)

from testchain import CHAIN_ID, XUS, Account, Key, TestChain, sdk_address  # noqa: E402

from libra.api import views  # noqa: E402
from libra.bcs import Deserializer  # noqa: E402
from libra.framework import events as ev  # noqa: E402
from libra.framework import kept_status as kept_status_module  # noqa: E402
from libra.framework.views import get_account_view, get_chain_view, get_currency_views  # noqa: E402
from libra.node.ledger import Ledger  # noqa: E402
from libra.storage.libradb import LibraDB, StoredEvent  # noqa: E402
from libra.types.ledger import (  # noqa: E402
    KEPT_EXECUTION_FAILURE,
    KEPT_MISCELLANEOUS_ERROR,
    KEPT_MOVE_ABORT,
    KEPT_OUT_OF_GAS,
    AbortLocation,
    KeptVMStatus,
    LedgerInfo,
    LedgerInfoWithSignatures,
    TransactionInfo,
)
from libra.types.move import (  # noqa: E402
    CORE_CODE_ADDRESS,
    DIEM_ROOT_ADDRESS,
    TESTNET_DD_ADDRESS,
    TREASURY_COMPLIANCE_ADDRESS,
    AccountAddress,
    ModuleId,
    StructTag,
)
from libra.types.proof import (  # noqa: E402
    AccountStateWithProof,
    AccumulatorConsistencyProof,
    AccumulatorRangeProof,
    EpochChangeProof,
    EventWithProof,
    StateProof,
    TransactionInfoWithProof,
)
from libra.types.transaction import deserialize_transaction  # noqa: E402
from libra.types.write_set import ContractEvent, EventKey  # noqa: E402

U64_MAX = 2**64 - 1
URL = "http://localhost:1234"
METADATA = bytes.fromhex("0100" + "01081112131415161718" + "01080102030405060708" + "00")  # §12 general metadata


def _sign(info: LedgerInfo) -> LedgerInfoWithSignatures:
    return LedgerInfoWithSignatures(info, ())


@dataclass
class World:
    chain: TestChain
    ledger: Ledger
    alice: Account
    bob: Account
    child: Account
    dealer: Account
    compliance_key: bytes
    versions: dict[str, int] = field(default_factory=dict)
    blocks: list[int] = field(default_factory=list)  # block-metadata versions

    @property
    def db(self) -> LibraDB:
        return self.ledger.db

    def commit(self, *labelled: tuple[str, dt.TransactionPayload | dt.Script, Account]) -> None:
        txns = []
        for _, payload, sender in labelled:
            if isinstance(payload, dt.Script):
                payload = dt.TransactionPayload__Script(value=payload)
            txns.append(self.chain.sign(sender, payload))
        block = self.ledger.execute_and_commit(self.chain.metadata(), txns, _sign)
        self.blocks.append(block.first_version)
        for (label, _, _), committed in zip(labelled, block.transactions, strict=True):
            assert committed.version is not None, (label, committed.status)
            self.versions[label] = committed.version

    def account(self, address: AccountAddress, version: int | None = None) -> dict[str, Any]:
        version = self.db.latest_version if version is None else version
        view = get_account_view(self.ledger.state_view(version), address)
        assert view is not None
        return views.account_view_json(view, version)

    def events(self, label: str) -> list[dict[str, Any]]:
        return [views.event_json(e) for e in self.db.get_events_by_version(self.versions[label])]

    def transaction(self, version: int, include_events: bool = True) -> dict[str, Any]:
        raw = self.db.get_transaction(version)
        txn = deserialize_transaction(Deserializer(raw))
        info = self.db.get_transaction_info(version)
        return views.transaction_json(version, txn, raw, info, self.db.get_events_by_version(version), include_events)


@pytest.fixture(scope="module")
def world() -> World:
    chain = TestChain()
    ledger = Ledger(LibraDB.in_memory(), CHAIN_ID)
    assert ledger.bootstrap(chain.genesis.transaction)
    alice_key, bob_key, child_key, dealer_key = (Key.from_seed(s) for s in ("alice", "bob", "alice-child", "dealer2"))
    world = World(
        chain,
        ledger,
        Account(alice_key, alice_key.address),
        Account(bob_key, bob_key.address),
        Account(child_key, child_key.address),
        Account(dealer_key, dealer_key.address),
        Key.from_seed("alice-compliance").public,
    )
    tc, dd, alice, bob = chain.tc_account, chain.dd_account, world.alice, world.bob

    def parent(key: Key, name: bytes) -> dt.TransactionPayload:
        return stdlib.encode_create_parent_vasp_account_script_function(
            XUS, np.uint64(0), sdk_address(key.address), key.prefix, name, False
        )

    def p2p(payee: Account, amount: int) -> dt.TransactionPayload:
        return stdlib.encode_peer_to_peer_with_metadata_script_function(
            XUS, sdk_address(payee.address), np.uint64(amount), b"", b""
        )

    world.commit(
        ("create_alice", parent(alice_key, b"Alice VASP"), tc),
        ("create_bob", parent(bob_key, b"bob"), tc),
        (
            "create_dealer",
            stdlib.encode_create_designated_dealer_script_function(
                XUS, np.uint64(0), sdk_address(dealer_key.address), dealer_key.prefix, b"dealer2", False
            ),
            tc,
        ),
    )
    world.commit(
        ("fund_alice", p2p(alice, 5_000_000), dd),
        ("fund_bob", p2p(bob, 1_000_000), dd),
        (
            "mint",
            stdlib.encode_tiered_mint_script_function(
                XUS, np.uint64(0), sdk_address(dealer_key.address), np.uint64(500), np.uint64(0)
            ),
            tc,
        ),
    )
    world.commit(
        ("rotate", stdlib.encode_rotate_dual_attestation_info_script(URL.encode(), world.compliance_key), alice),
        ("domain", stdlib.encode_add_diem_id_domain_script_function(sdk_address(alice.address), b"alice.com"), tc),
        (
            "create_child",
            stdlib.encode_create_child_vasp_account_script_function(
                XUS, sdk_address(child_key.address), child_key.prefix, False, np.uint64(1000)
            ),
            alice,
        ),
        ("preburn", stdlib.encode_preburn_script_function(XUS, np.uint64(100)), world.dealer),
    )
    world.commit(
        ("p2p", stdlib.encode_peer_to_peer_with_metadata_script(XUS, sdk_address(bob.address), np.uint64(2000), METADATA, b""), alice),
        ("child_pays", p2p(bob, 10), world.child),
        ("abort", p2p(bob, 900_000_000), alice),
        ("freeze", stdlib.encode_freeze_account_script_function(np.uint64(0), sdk_address(bob.address)), tc),
        ("unfreeze", stdlib.encode_unfreeze_account_script_function(np.uint64(0), sdk_address(bob.address)), tc),
        ("rate", stdlib.encode_update_exchange_rate_script_function(XUS, np.uint64(0), np.uint64(1), np.uint64(2)), tc),
    )
    return world


def parse(value: dict[str, Any], message: Message) -> Message:
    """Parse as the SDK does; then strictly, so that a misspelled key fails."""
    parsed = ParseDict(value, message.__class__(), ignore_unknown_fields=True)
    ParseDict(value, message.__class__())
    return parsed


def key_hex(creation_number: int, address: AccountAddress) -> str:
    return EventKey.create(creation_number, address).value.hex()


# --------------------------------------------------------------------------- accounts


def test_parent_vasp_account_is_diem_shaped(world):
    a = world.alice.address
    version = world.db.latest_version
    view = world.account(a)
    assert view == {
        "address": a.hex(),
        "balances": [{"amount": 5_000_000 - 1000 - 2000, "currency": "XUS"}],
        "sequence_number": 4,
        "authentication_key": world.alice.key.auth_key.hex(),
        "sent_events_key": "0300000000000000" + a.hex(),
        "received_events_key": "0200000000000000" + a.hex(),
        "delegated_key_rotation_capability": False,
        "delegated_withdrawal_capability": False,
        "is_frozen": False,
        "role": {
            "type": "parent_vasp",
            "human_name": "Alice VASP",
            "base_url": URL,
            "expiration_time": U64_MAX,
            "compliance_key": world.compliance_key.hex(),
            "num_children": 1,
            "compliance_key_rotation_events_key": "0000000000000000" + a.hex(),
            "base_url_rotation_events_key": "0100000000000000" + a.hex(),
            "diem_id_domains": ["alice.com"],
        },
        "version": version,
    }
    keys = list(view)
    assert keys.index("delegated_withdrawal_capability") < keys.index("is_frozen")
    account = parse(view, jsonrpc.Account())
    assert account.role.base_url == URL and account.role.compliance_key == world.compliance_key.hex()
    assert list(account.role.diem_id_domains) == ["alice.com"]
    assert account.received_events_key == view["received_events_key"] and account.balances[0].amount == 4_997_000
    assert account.role.type == "parent_vasp" and account.version == version and not account.is_frozen


def test_parent_before_rotation_has_empty_credential(world):
    view = world.account(world.bob.address)
    assert view["role"]["base_url"] == "" and view["role"]["compliance_key"] == ""
    assert view["role"]["diem_id_domains"] == [] and view["role"]["num_children"] == 0
    assert parse(view, jsonrpc.Account()).role.compliance_key == ""


def test_child_vasp_account(world):
    c = world.child.address
    view = world.account(c)
    assert view["role"] == {"type": "child_vasp", "parent_vasp_address": world.alice.address.hex()}
    assert (view["received_events_key"], view["sent_events_key"]) == (key_hex(0, c), key_hex(1, c))
    assert view["balances"] == [{"amount": 990, "currency": "XUS"}] and view["sequence_number"] == 1
    assert parse(view, jsonrpc.Account()).role.parent_vasp_address == world.alice.address.hex()


def test_frozen_flag_follows_the_version(world):
    frozen = world.account(world.bob.address, world.versions["freeze"])
    assert frozen["is_frozen"] is True and frozen["delegated_withdrawal_capability"] is False
    assert frozen["version"] == world.versions["freeze"]
    assert parse(frozen, jsonrpc.Account()).is_frozen  # the SDK reads is_frozen last (§2)
    assert world.account(world.bob.address)["is_frozen"] is False


def test_treasury_compliance_and_unknown_roles(world):
    tc = world.account(TREASURY_COMPLIANCE_ADDRESS)
    assert tc["role"] == {
        "type": "treasury_compliance",
        "diem_id_domain_events_key": "0000000000000000" + "0000000000000000000000000b1e55ed",
    }
    assert parse(tc, jsonrpc.Account()).role.diem_id_domain_events_key == tc["role"]["diem_id_domain_events_key"]
    assert world.account(DIEM_ROOT_ADDRESS)["role"] == {"type": "unknown"}
    validator = world.chain.validator_keys[0].address
    assert world.account(validator)["role"] == {"type": "unknown"}


def test_designated_dealer_with_preburn_queue(world):
    d = world.dealer.address
    view = world.account(d)
    assert view["role"] == {
        "type": "designated_dealer",
        "human_name": "dealer2",
        "base_url": "",
        "expiration_time": U64_MAX,
        "compliance_key": "",
        "preburn_balances": [{"amount": 100, "currency": "XUS"}],
        "received_mint_events_key": key_hex(0, d),
        "compliance_key_rotation_events_key": key_hex(1, d),
        "base_url_rotation_events_key": key_hex(2, d),
        "preburn_queues": [{"currency": "XUS", "preburns": [{"preburn": {"amount": 100, "currency": "XUS"}, "metadata": ""}]}],
    }
    assert view["balances"] == [{"amount": 400, "currency": "XUS"}]
    role = parse(view, jsonrpc.Account()).role
    assert role.preburn_queues[0].preburns[0].preburn.amount == 100 and role.received_mint_events_key == key_hex(0, d)
    testnet_dd = world.account(TESTNET_DD_ADDRESS)
    assert testnet_dd["role"]["type"] == "designated_dealer" and testnet_dd["role"]["preburn_balances"] == [
        {"amount": 0, "currency": code} for code, _ in get_account_view(world.ledger.state_view(), TESTNET_DD_ADDRESS).preburn_queues
    ]


def test_balances_sorted_by_code():
    view = get_account_view_stub(balances=(("XUS", 1), ("XDX", 2)))
    assert views.account_view_json(view, 7)["balances"] == [{"amount": 2, "currency": "XDX"}, {"amount": 1, "currency": "XUS"}]


def get_account_view_stub(**changes: Any):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from libra.framework.views import AccountView

    base = AccountView(
        address=AccountAddress(bytes(16)),
        authentication_key=bytes(32),
        sequence_number=0,
        balances=(),
        sent_events_key=EventKey(bytes(24)),
        received_events_key=EventKey(bytes(24)),
        delegated_key_rotation_capability=False,
        delegated_withdrawal_capability=False,
        is_frozen=False,
        role="unknown",
    )
    return replace(base, **changes)


# --------------------------------------------------------------------------- currencies and metadata


def test_currencies(world):
    xus, xdx = (views.currency_json(c) for c in get_currency_views(world.ledger.state_view()))
    dr = DIEM_ROOT_ADDRESS
    assert xus == {
        "code": "XUS",
        "scaling_factor": 1_000_000,
        "fractional_part": 100,
        "to_xdx_exchange_rate": 0.5,
        "mint_events_key": key_hex(5, dr),
        "burn_events_key": key_hex(6, dr),
        "preburn_events_key": key_hex(7, dr),
        "cancel_burn_events_key": key_hex(8, dr),
        "exchange_rate_update_events_key": key_hex(9, dr),
    }
    assert (xdx["code"], xdx["to_xdx_exchange_rate"], xdx["fractional_part"]) == ("XDX", 1.0, 1000)
    assert isinstance(xdx["to_xdx_exchange_rate"], float)
    info = parse(xus, jsonrpc.CurrencyInfo())
    assert info.to_xdx_exchange_rate == 0.5 and info.exchange_rate_update_events_key == key_hex(9, dr)


def test_rates_are_f32_as_diem_prints_them():
    import json

    third = (1 << 32) // 3
    assert json.dumps(views.fixed_point32_rate(third)) == "0.33333334"
    assert views.fixed_point32_rate(1 << 32) == 1.0 and views.fixed_point32_rate(1 << 31) == 0.5
    assert json.dumps(views.event_rate(third)) == "0.33" and views.event_rate(3 << 31) == 1.5
    assert views.fixed_point32_rate(0) == 0.0 and views.fixed_point32_rate(2**64 - 1) == 4294967300.0  # serde prints 2^32 as an f32 so
    event = ContractEvent(
        EventKey.create(9, DIEM_ROOT_ADDRESS), 0, ev.ToXDXExchangeRateUpdateEvent.TYPE_TAG,
        ev.ToXDXExchangeRateUpdateEvent(b"XUS", third).to_bcs(),
    )
    assert json.dumps(views.event_json(event, 1)["data"]["new_to_xdx_exchange_rate"]) == "0.33"


def test_metadata_latest_and_historical(world):
    snapshot = world.ledger.snapshot()
    chain = get_chain_view(world.ledger.state_view(snapshot.version))
    latest = views.metadata_json(chain, snapshot.version, snapshot.timestamp_usecs, snapshot.accumulator_root, latest=True)
    assert latest == {
        "version": snapshot.version,
        "accumulator_root_hash": snapshot.accumulator_root.hex(),
        "timestamp": snapshot.timestamp_usecs,
        "chain_id": CHAIN_ID,
        "script_hash_allow_list": [],
        "module_publishing_allowed": False,
        "diem_version": 1,
        "dual_attestation_limit": 1_000_000_000,
    }
    meta = parse(latest, jsonrpc.Metadata())
    assert (meta.dual_attestation_limit, meta.chain_id, meta.timestamp) == (1_000_000_000, CHAIN_ID, snapshot.timestamp_usecs)
    old = views.metadata_json(chain, 3, 5, bytes(32), latest=False)
    assert [old[k] for k in ("script_hash_allow_list", "module_publishing_allowed", "diem_version", "dual_attestation_limit")] == [None] * 4
    assert parse(old, jsonrpc.Metadata()).dual_attestation_limit == 0


# --------------------------------------------------------------------------- events


def test_payment_events_name_both_parties(world):
    a, b = world.alice.address, world.bob.address
    version = world.versions["p2p"]
    sent, received = world.events("p2p")
    data = {"amount": {"amount": 2000, "currency": "XUS"}, "sender": a.hex(), "receiver": b.hex(), "metadata": METADATA.hex()}
    assert sent == {
        "key": "0300000000000000" + a.hex(),
        "sequence_number": sent["sequence_number"],
        "transaction_version": version,
        "data": {"type": "sentpayment", **data},
    }
    assert received["key"] == "0200000000000000" + b.hex() and received["data"] == {"type": "receivedpayment", **data}
    assert received["transaction_version"] == version and sent["sequence_number"] == 1  # child creation paid 1000 first
    event = parse(received, jsonrpc.Event())
    assert (event.data.sender, event.data.receiver, event.data.metadata) == (a.hex(), b.hex(), METADATA.hex())
    assert (event.data.amount.amount, event.data.amount.currency, event.data.type) == (2000, "XUS", "receivedpayment")
    stream = world.db.get_events(bytes.fromhex(received["key"]), 0, 100)
    assert [views.event_json(e)["data"]["sender"] for e in stream] == [TESTNET_DD_ADDRESS.hex(), a.hex(), world.child.address.hex()]


def test_mint_events(world):
    d = world.dealer.address
    received_mint, mint, received = world.events("mint")
    assert received_mint["data"] == {"type": "receivedmint", "amount": {"amount": 500, "currency": "XUS"}, "destination_address": d.hex()}
    assert mint["data"] == {"type": "mint", "amount": {"amount": 500, "currency": "XUS"}} and mint["key"] == key_hex(5, DIEM_ROOT_ADDRESS)
    assert received["data"]["sender"] == "00" * 16 and received["data"]["receiver"] == d.hex()
    for event in (received_mint, mint, received):
        parse(event, jsonrpc.Event())


def test_account_creation_and_preburn_events(world):
    (created,) = [e for e in world.events("create_alice") if e["data"]["type"] == "createaccount"]
    assert created["data"] == {"type": "createaccount", "created_address": world.alice.address.hex(), "role_id": 5}
    assert created["key"] == key_hex(0, DIEM_ROOT_ADDRESS)
    sent, preburn = world.events("preburn")
    assert sent["data"]["type"] == "sentpayment"
    assert preburn["data"] == {"type": "preburn", "amount": {"amount": 100, "currency": "XUS"}, "preburn_address": world.dealer.address.hex()}
    assert parse(preburn, jsonrpc.Event()).data.preburn_address == world.dealer.address.hex()


def test_dual_attestation_rotation_events(world):
    a = world.alice.address
    base_url, key = world.events("rotate")
    assert base_url["key"] == "0100000000000000" + a.hex()
    assert base_url["data"] == {"type": "baseurlrotation", "new_base_url": URL, "time_rotated_seconds": base_url["data"]["time_rotated_seconds"]}
    assert key["key"] == "0000000000000000" + a.hex()
    assert key["data"]["type"] == "compliancekeyrotation" and key["data"]["new_compliance_public_key"] == world.compliance_key.hex()
    block_usecs = views.transaction_json(
        world.blocks[2], *_decoded(world, world.blocks[2]), world.db.get_transaction_info(world.blocks[2])
    )["transaction"]["timestamp_usecs"]
    assert key["data"]["time_rotated_seconds"] == block_usecs // 1_000_000
    assert parse(base_url, jsonrpc.Event()).data.new_base_url == URL
    assert parse(key, jsonrpc.Event()).data.time_rotated_seconds == block_usecs // 1_000_000


def _decoded(world: World, version: int) -> tuple[Any, bytes]:
    raw = world.db.get_transaction(version)
    return deserialize_transaction(Deserializer(raw)), raw


def test_diem_id_domain_events_as_the_sdk_reads_them(world):
    tc = world.account(TREASURY_COMPLIANCE_ADDRESS)
    key = bytes.fromhex(tc["role"]["diem_id_domain_events_key"])
    (event,) = [views.event_json(e) for e in world.db.get_events(key, 0, 100)]
    assert event["data"] == {"type": "diemiddomain", "removed": False, "domain": "alice.com", "address": world.alice.address.hex()}
    parsed = parse(event, jsonrpc.Event())
    assert (parsed.data.removed, parsed.data.domain, parsed.data.address) == (False, "alice.com", world.alice.address.hex())


def test_system_events(world):
    (block,) = [views.event_json(e) for e in world.db.get_events_by_version(world.blocks[0])]
    proposer = world.chain.validator_keys[0].address.hex()
    assert block["data"]["type"] == "newblock" and block["data"]["proposer"] == proposer
    assert block["data"]["round"] == 1 and block["data"]["proposed_time"] > 0
    assert parse(block, jsonrpc.Event()).data.proposed_time == block["data"]["proposed_time"]
    genesis = [views.event_json(e) for e in world.db.get_events_by_version(0)]
    (epoch,) = [e for e in genesis if e["data"]["type"] == "newepoch"]
    assert epoch["data"] == {"type": "newepoch", "epoch": 1}
    (rate,) = world.events("rate")
    assert rate["data"] == {"type": "to_xdx_exchange_rate_update", "currency_code": "XUS", "new_to_xdx_exchange_rate": 0.5}
    assert parse(rate, jsonrpc.Event()).data.new_to_xdx_exchange_rate == 0.5
    for event in genesis:
        parse(event, jsonrpc.Event())


def test_freeze_events_are_unknown_with_bytes(world):
    (freeze,) = world.events("freeze")
    payload = TREASURY_COMPLIANCE_ADDRESS.value + world.bob.address.value
    assert freeze["data"] == {"type": "unknown", "bytes": payload.hex()}
    assert freeze["key"] == key_hex(15, DIEM_ROOT_ADDRESS)
    assert parse(freeze, jsonrpc.Event()).data.bytes == payload.hex()
    (unfreeze,) = world.events("unfreeze")
    assert unfreeze["data"]["type"] == "unknown"


def test_constructed_events():
    key = EventKey.create(4, DIEM_ROOT_ADDRESS)
    admin = ContractEvent(key, 3, ev.AdminTransactionEvent.TYPE_TAG, ev.AdminTransactionEvent(77).to_bcs())
    assert views.event_json(admin, 9) == {
        "key": key.value.hex(),
        "sequence_number": 3,
        "transaction_version": 9,
        "data": {"type": "admintransaction", "committed_timestamp_secs": 77},
    }
    for tag, data in (
        (StructTag(CORE_CODE_ADDRESS, "Other", "Event", ()), b"\x01\x02"),
        (ev.MintEvent.TYPE_TAG, b"\x01"),  # malformed payload of a known type
        (ev.BaseUrlRotationEvent.TYPE_TAG, ev.BaseUrlRotationEvent(b"\xff\xfe", 1).to_bcs()),  # not UTF-8
    ):
        view = views.event_json(ContractEvent(key, 0, tag, data), 1)
        assert view["data"] == {"type": "unknown", "bytes": data.hex()}
        parse(view, jsonrpc.Event())
    burn = ContractEvent(key, 0, ev.BurnEvent.TYPE_TAG, ev.BurnEvent(5, b"XUS", TESTNET_DD_ADDRESS).to_bcs())
    cancel = ContractEvent(key, 1, ev.CancelBurnEvent.TYPE_TAG, ev.CancelBurnEvent(6, b"XUS", TESTNET_DD_ADDRESS).to_bcs())
    assert views.event_json(burn, 1)["data"] == {"type": "burn", "amount": {"amount": 5, "currency": "XUS"}, "preburn_address": TESTNET_DD_ADDRESS.hex()}
    assert views.event_json(cancel, 1)["data"]["type"] == "cancelburn"
    stored = StoredEvent(12, 0, key.value, 3, admin.to_bcs())
    assert views.event_json(stored) == views.event_json(admin, 12)
    with pytest.raises(ValueError):
        views.event_json(admin)


# --------------------------------------------------------------------------- transactions


def test_executed_payment_transaction(world):
    version = world.versions["p2p"]
    view = world.transaction(version)
    assert list(view) == ["version", "transaction", "hash", "bytes", "events", "vm_status", "gas_used"]
    assert view["version"] == version and view["vm_status"] == {"type": "executed"}
    assert view["bytes"] == world.db.get_transaction(version).hex() and view["bytes"].startswith("00")
    assert view["hash"] == world.db.get_transaction_info(version).transaction_hash.hex()
    assert view["events"] == world.events("p2p") and view["gas_used"] == world.db.get_transaction_info(version).gas_used
    script = view["transaction"]["script"]
    assert script["type"] == "peer_to_peer_with_metadata" and script["metadata"] == METADATA.hex()
    assert (script["receiver"], script["amount"], script["currency"]) == (world.bob.address.hex(), 2000, "XUS")
    txn = parse(view, jsonrpc.Transaction())
    assert txn.transaction.script.metadata == METADATA.hex() and txn.vm_status.type == "executed"
    assert txn.hash == view["hash"] and txn.events[1].data.type == "receivedpayment"
    assert txn.transaction.sender == world.alice.address.hex()
    assert world.transaction(version, include_events=False)["events"] == []


def test_hash_matches_the_sdk(world):
    """``wait_for_transaction`` compares ``hash`` with the SDK's own hash of the signed txn (§3)."""
    from diem import utils

    version = world.versions["child_pays"]
    view = world.transaction(version)
    signed = dt.SignedTransaction.bcs_deserialize(bytes.fromhex(view["bytes"])[1:])
    assert view["hash"] == utils.transaction_hash(signed)
    assert view["transaction"]["script"]["type"] == "script_function"


def test_move_abort_transaction(world):
    view = world.transaction(world.versions["abort"])
    assert view["events"] == []
    assert view["vm_status"] == {
        "type": "move_abort",
        "location": "00000000000000000000000000000001::DiemAccount",
        "abort_code": 1288,
        "explanation": {
            "category": "LIMIT_EXCEEDED",
            "category_description": view["vm_status"]["explanation"]["category_description"],
            "reason": "EINSUFFICIENT_BALANCE",
            "reason_description": view["vm_status"]["explanation"]["reason_description"],
        },
    }
    assert view["vm_status"]["explanation"]["category_description"] and view["vm_status"]["explanation"]["reason_description"]
    status = parse(view, jsonrpc.Transaction()).vm_status
    assert (status.type, status.abort_code, status.explanation.reason) == ("move_abort", 1288, "EINSUFFICIENT_BALANCE")


def test_block_metadata_and_genesis_transactions(world):
    block = world.transaction(world.blocks[1])
    assert block["transaction"]["type"] == "blockmetadata" and block["transaction"]["timestamp_usecs"] > 0
    assert block["events"][0]["data"]["type"] == "newblock" and block["gas_used"] == 0
    parse(block, jsonrpc.Transaction())
    genesis = world.transaction(0, include_events=False)
    assert genesis["transaction"] == {"type": "writeset"} and genesis["events"] == []
    parse(genesis, jsonrpc.Transaction())
    txn, raw = _decoded(world, 0)
    assert views.transaction_json(0, txn, None, world.db.get_transaction_info(0)) == genesis


def test_vm_statuses_from_stored_infos():
    def status(kept: KeptVMStatus) -> dict[str, Any]:
        view = views.kept_vm_status_json(kept)
        ParseDict(view, jsonrpc.VMStatus())
        return view

    module = AbortLocation(ModuleId(CORE_CODE_ADDRESS, "DiemAccount"))
    assert status(KeptVMStatus(KEPT_OUT_OF_GAS)) == {"type": "out_of_gas"}
    assert status(KeptVMStatus(KEPT_MISCELLANEOUS_ERROR)) == {"type": "miscellaneous_error"}
    assert status(KeptVMStatus(KEPT_EXECUTION_FAILURE, module, function=3, code_offset=7)) == {
        "type": "execution_failure",
        "location": "00000000000000000000000000000001::DiemAccount",
        "function_index": 3,
        "code_offset": 7,
    }
    unknown_code = status(KeptVMStatus(KEPT_MOVE_ABORT, module, abort_code=0xFFFF07))
    assert unknown_code["explanation"] is None and unknown_code["abort_code"] == 0xFFFF07
    script = status(KeptVMStatus(KEPT_MOVE_ABORT, AbortLocation(None), abort_code=1288))
    assert script == {"type": "move_abort", "location": "Script", "abort_code": 1288, "explanation": None}
    other = AbortLocation(ModuleId(AccountAddress(bytes.fromhex("ab" * 16)), "DiemAccount"))
    elsewhere = status(KeptVMStatus(KEPT_MOVE_ABORT, other, abort_code=1288))
    assert elsewhere["location"] == "AB" * 16 + "::DiemAccount" and elsewhere["explanation"] is None
    assert kept_status_module.abort_reason("DiemAccount", 1288).name == "EINSUFFICIENT_BALANCE"
    info = TransactionInfo(bytes(32), bytes(32), bytes(32), 5, KeptVMStatus(KEPT_OUT_OF_GAS))
    assert views.kept_vm_status_json(info.status) == {"type": "out_of_gas"}


def test_rotate_script_transaction(world):
    view = world.transaction(world.versions["rotate"])
    script = view["transaction"]["script"]
    assert script["type"] == "rotate_dual_attestation_info"
    assert script["arguments"] == [f"{{U8Vector: 0x{URL.encode().hex()}}}", f"{{U8Vector: 0x{world.compliance_key.hex()}}}"]
    assert parse(view, jsonrpc.Transaction()).transaction.script.type == "rotate_dual_attestation_info"


# --------------------------------------------------------------------------- proofs


def test_state_proof(world):
    db = world.db
    latest = db.get_latest_ledger_info()
    proof = StateProof(latest, db.get_epoch_change_proof(0, 1), db.get_accumulator_consistency_proof(2))
    view = views.state_proof_json(proof)
    assert list(view) == ["ledger_info_with_signatures", "epoch_change_proof", "ledger_consistency_proof"]
    assert LedgerInfoWithSignatures.from_bcs(bytes.fromhex(view["ledger_info_with_signatures"])) == latest
    assert EpochChangeProof.from_bcs(bytes.fromhex(view["epoch_change_proof"])) == proof.epoch_changes
    assert AccumulatorConsistencyProof.from_bcs(bytes.fromhex(view["ledger_consistency_proof"])) == proof.consistency_proof
    assert parse(view, jsonrpc.StateProof()).ledger_info_with_signatures == view["ledger_info_with_signatures"]
    assert views.epoch_change_proof_json(proof.epoch_changes) == view["epoch_change_proof"]


def test_account_state_with_proof(world):
    db = world.db
    proof = db.get_account_state_with_proof(world.alice.address.value, world.versions["p2p"], None)
    view = views.account_state_with_proof_json(proof)
    blob = db.get_account_blob(world.alice.address.value, world.versions["p2p"])
    assert view["version"] == world.versions["p2p"]
    assert Deserializer(bytes.fromhex(view["blob"])).bytes() == blob  # BCS of AccountStateBlob
    encoded = (
        view["version"].to_bytes(8, "little")
        + b"\x01"
        + bytes.fromhex(view["blob"])
        + bytes.fromhex(view["proof"]["ledger_info_to_transaction_info_proof"])
        + bytes.fromhex(view["proof"]["transaction_info"])
        + bytes.fromhex(view["proof"]["transaction_info_to_account_proof"])
    )
    assert AccountStateWithProof.from_bcs(encoded) == proof
    parsed = parse(view, jsonrpc.AccountStateWithProof())
    assert parsed.proof.transaction_info == view["proof"]["transaction_info"] and parsed.blob == view["blob"]
    missing = views.account_state_with_proof_json(db.get_account_state_with_proof(bytes(range(16))))
    assert missing["blob"] is None
    parse(missing, jsonrpc.AccountStateWithProof())


def test_transactions_with_proofs(world):
    db = world.db
    start = world.versions["p2p"]
    proof = db.get_transaction_list_with_proof(start, 3, None, include_events=True)
    view = views.transactions_with_proofs_json(proof)
    assert list(view) == ["serialized_transactions", "serialized_events", "proofs"]
    assert view["serialized_transactions"] == [db.get_transaction(v).hex() for v in range(start, start + 3)]
    events = Deserializer(bytes.fromhex(view["serialized_events"]))
    lists = events.sequence(lambda d: d.sequence(ContractEvent.deserialize))
    events.finish()
    assert [[e.to_bcs() for e in group] for group in lists] == [list(group) for group in proof.events]
    proofs = view["proofs"]
    assert AccumulatorRangeProof.from_bcs(bytes.fromhex(proofs["ledger_info_to_transaction_infos_proof"])) == (
        proof.proof.ledger_info_to_transaction_infos_proof
    )
    infos = Deserializer(bytes.fromhex(proofs["transaction_infos"]))
    assert tuple(infos.sequence(TransactionInfo.deserialize)) == proof.proof.transaction_infos
    without = views.transactions_with_proofs_json(db.get_transaction_list_with_proof(start, 2, None))
    assert "serialized_events" not in without and len(without["serialized_transactions"]) == 2
    assert views.transactions_with_proofs_json(db.get_transaction_list_with_proof(10**6, 2, None)) is None


def test_event_proofs(world):
    db = world.db
    key = EventKey.create(0, TREASURY_COMPLIANCE_ADDRESS).value
    with_proof = db.get_event_with_proof(key, 0)
    view = views.event_with_proof_json(with_proof)
    assert EventWithProof.from_bcs(bytes.fromhex(view["event_with_proof"])) == with_proof
    assert views.events_with_proofs_json([with_proof, with_proof]) == [view, view]
    assert views.event_by_version_with_proof_json(None, None) == {}
    assert views.event_by_version_with_proof_json(with_proof, None) == {"lower_bound_incl": view}
    assert views.event_by_version_with_proof_json(None, with_proof) == {"upper_bound_excl": view}
    both = views.event_by_version_with_proof_json(with_proof, with_proof)
    assert list(both) == ["lower_bound_incl", "upper_bound_excl"]


def test_accumulator_consistency_and_account_transactions_proofs(world):
    db = world.db
    proof = db.get_accumulator_consistency_proof(None)
    view = views.accumulator_consistency_proof_json(proof)
    assert AccumulatorConsistencyProof.from_bcs(bytes.fromhex(view["ledger_consistency_proof"])) == proof
    assert MessageToDict(parse(view, jsonrpc_pb2.AccumulatorConsistencyProof()), preserving_proto_field_name=True) == view
    version = world.versions["p2p"]
    events = [e.event_bytes for e in db.get_events_by_version(version)]
    info_proof = db.get_transaction_info_with_proof(version)
    items = [
        views.transaction_with_proof_bcs(version, db.get_transaction(version), events, info_proof),
        views.transaction_with_proof_bcs(version, db.get_transaction(version), None, info_proof),
    ]
    listing = views.account_transactions_with_proofs_json(items)
    assert list(listing) == ["serialized_txns_with_proofs"]
    decoder = Deserializer(bytes.fromhex(listing["serialized_txns_with_proofs"][0]))
    assert decoder.u64() == version
    assert deserialize_transaction(decoder) == _decoded(world, version)[0]
    assert [e.to_bcs() for e in decoder.option(lambda d: d.sequence(ContractEvent.deserialize))] == events
    assert TransactionInfoWithProof.deserialize(decoder) == info_proof
    decoder.finish()
    assert bytes.fromhex(listing["serialized_txns_with_proofs"][1])[8 + len(db.get_transaction(version))] == 0


# --------------------------------------------------------------------------- native views


def test_native_views_write_the_python_text_at_every_version(world):
    """``libra._core.transaction_view_json`` answers for block metadata and executed script-function
    transactions with exactly the text ``encode_json`` writes for the Python view; it declines the
    rest (genesis, scripts, aborts), which the Python views then render."""
    from libra import _core
    from libra.api.dispatcher import encode_json

    pairs = world.db.get_transactions_with_infos(0, world.db.next_version)
    assert len(pairs) == world.db.next_version
    native = 0
    for version, (data, info) in enumerate(pairs):
        text = _core.transaction_view_json(version, data, info)
        python = encode_json(views.transaction_json(version, deserialize_transaction(Deserializer(data)), data,
                                                    TransactionInfo.from_bcs(info)))
        if text is not None:
            assert text == python, version
            native += 1
    kinds = [TransactionInfo.from_bcs(info).status.kind for _, info in pairs]
    assert native == kinds.count(0) - 3  # every executed one but genesis and the two Move scripts (rotate, p2p)
    assert KEPT_MOVE_ABORT in kinds  # an aborted payment is among them (declined natively)


def test_a_native_page_is_the_text_of_the_python_page(world):
    from libra import _core
    from libra.api.dispatcher import encode_json
    from libra.api.service import transaction_page_text

    def python_view(version: int) -> dict[str, Any]:
        data, info = world.db.get_transactions_with_infos(version, 1)[0]
        return views.transaction_json(version, deserialize_transaction(Deserializer(data)), data, TransactionInfo.from_bcs(info))

    end = world.db.next_version
    for start, stop in ((0, end), (0, 1), (3, end), (end - 1, end)):
        page = transaction_page_text(world.db, start, stop, _core.transaction_view_json, python_view)
        assert page.text == encode_json([python_view(v) for v in range(start, stop)])
