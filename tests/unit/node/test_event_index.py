"""The supervisor's event index (node/event_index.py) over a real ledger store, and the
supervisor's data (api/supervisor.py) built on it: every table from the committed events,
the alerts of api/supervision.py, and recovery: an interrupted chunk, an unreadable file and
a file of another chain all end in the index a fresh rebuild gives."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from diem import diem_types, stdlib

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from epoch_chain import CHAIN_ID, Key, sign  # noqa: E402
from testchain import XUS, Account, TestChain, sdk_address  # noqa: E402

from libra.api.supervision import Rules  # noqa: E402
from libra.api.supervisor import SupervisorView  # noqa: E402
from libra.client import builders  # noqa: E402
from libra.crypto.auth import sign_travel_rule  # noqa: E402
from libra.crypto.ed25519 import Ed25519PrivateKey  # noqa: E402
from libra.crypto.hashing import ZERO_HASH  # noqa: E402
from libra.node import event_index as ix  # noqa: E402
from libra.node.event_index import EventIndex  # noqa: E402
from libra.node.ledger import Ledger  # noqa: E402
from libra.storage.libradb import LibraDB  # noqa: E402
from libra.types.ledger import LedgerInfo  # noqa: E402

XUS_UNIT = 1_000_000
LIMIT = 1_000 * XUS_UNIT  # the genesis travel-rule limit (1,000 XDX; XUS = 1 XDX)
ORDER = hashlib.sha3_256(b"order 7").digest()


class Net:
    """A one-validator ledger whose blocks are signed by its validator, built from SDK-style
    transactions of the in-memory test chain (its view is kept in step with the ledger)."""

    def __init__(self) -> None:
        self.chain = TestChain(validators=1)
        self.ledger = Ledger(LibraDB.in_memory(), CHAIN_ID)
        assert self.ledger.bootstrap(self.chain.genesis.transaction)

    def block(self, *txns) -> list[str]:  # type: ignore[no-untyped-def]
        executed = self.ledger.execute(self.chain.metadata(), list(txns))
        li = sign(LedgerInfo(self.ledger.block_info(executed, 1), ZERO_HASH), self.chain.validator_keys)
        self.ledger.commit(executed, li)
        self.chain.view.apply(executed.changed_blobs)
        return [r.status for r in executed.results]

    def tc(self, payload) -> list[str]:  # type: ignore[no-untyped-def]
        return self.block(self.chain.sign_function(self.chain.tc_account, payload))


def parent(net: Net, label: str) -> Account:
    key = Key.from_seed(label)
    assert net.tc(builders.create_parent_vasp_account("XUS", 0, key.address, key.prefix, label.encode())) == ["executed"]
    return Account(key, key.address)


@pytest.fixture(scope="module")
def net() -> tuple[Net, dict[str, Account]]:
    net = Net()
    chain = net.chain
    alice, bob, carol = parent(net, "alice"), parent(net, "bob"), parent(net, "carol")
    child_key = Key.from_seed("alice-child")
    child = Account(child_key, child_key.address)
    assert net.block(chain.sign_function(alice, builders.create_child_vasp_account("XUS", child.address, child_key.prefix, False, 0))) == ["executed"]
    dd = chain.dd_account
    for account in (alice, bob, carol):
        assert net.block(chain.p2p(dd, account.address, 10_000 * XUS_UNIT)) == ["executed"]  # large, DD → VASP: not required
    # bob publishes a compliance key: alice's large payment to bob carries his signature
    compliance = Ed25519PrivateKey.from_bytes(bytes(range(32)))
    assert net.block(chain.sign_function(bob, builders.rotate_dual_attestation_info(b"https://bob.example", compliance.public_key().to_bytes()))) == ["executed"]
    signature = sign_travel_rule(compliance, b"travel", alice.address.value, 1_500 * XUS_UNIT).to_bytes()
    assert net.block(chain.p2p(alice, bob.address, 1_500 * XUS_UNIT, metadata=b"travel", signature=signature)) == ["executed"]
    assert net.block(chain.p2p(alice, child.address, 2_000 * XUS_UNIT)) == ["executed"]  # same parent: not required
    # structuring: three payments of 990 XUS within a few seconds of chain time
    for _ in range(3):
        assert net.block(chain.p2p(alice, carol.address, 990 * XUS_UNIT)) == ["executed"]
    # carol is frozen: a payment to her aborts; her funds are seized, some burned
    assert net.tc(builders.freeze_account(0, carol.address)) == ["executed"]
    assert net.block(chain.p2p(bob, carol.address, 5 * XUS_UNIT)) == ["move_abort"]
    assert net.tc(builders.seize_frozen_funds("XUS", 0, carol.address, dd.address, 500 * XUS_UNIT, ORDER)) == ["executed"]
    assert net.tc(builders.burn_frozen_funds("XUS", 0, carol.address, 100 * XUS_UNIT, ORDER)) == ["executed"]
    # an attestation below the supply is refused; one above it is recorded
    supply = (1 << 63) - 1 - 100 * XUS_UNIT
    report = hashlib.sha3_256(b"monthly report").digest()
    assert net.tc(builders.attest_reserve("XUS", 0, supply - 1, chain.now, report)) == ["move_abort"]
    assert net.tc(builders.attest_reserve("XUS", 0, supply + 7, chain.now, report)) == ["executed"]
    return net, {"alice": alice, "bob": bob, "carol": carol, "child": child, "dd": dd}


def fresh_index(net: Net, tmp_path, name: str = "index.sqlite3") -> EventIndex:  # type: ignore[no-untyped-def]
    index = EventIndex(net.ledger.db, tmp_path / name, net.ledger.state_view)
    index.catch_up()
    return index


def overview(net: Net, index: EventIndex, **rules: int) -> dict:  # type: ignore[type-arg]
    runtime = types.SimpleNamespace(event_index=index, ledger=net.ledger, db=net.ledger.db)
    return SupervisorView(runtime).overview(Rules(**rules))  # type: ignore[arg-type]


def test_the_index_records_what_the_supervisor_needs(net, tmp_path):
    net, who = net
    index = fresh_index(net, tmp_path)
    assert index.indexed_through == net.ledger.db.latest_version
    data = overview(net, index)
    hexes = {name: account.address.hex() for name, account in who.items()}
    large = {(r["sender"], r["receiver"]): r for r in data["large_transfers"]}
    assert large[(hexes["alice"], hexes["bob"])]["attested"] == 1 and large[(hexes["alice"], hexes["bob"])]["required"] == 1
    assert large[(hexes["alice"], hexes["child"])]["required"] == 0 and large[(hexes["alice"], hexes["child"])]["attested"] == 0
    assert large[(hexes["dd"], hexes["alice"])]["required"] == 0
    assert all(int(r["amount"]) >= LIMIT for r in data["large_transfers"])  # 990 XUS ones are not large
    travel = data["travel_rule"]
    assert (travel["large"], travel["attested"], travel["required"], travel["required_attested"]) == (5, 1, 1, 1)
    assert travel["coverage_percent"] == "20.00"
    assert [r["address"] for r in data["frozen"]] == [hexes["carol"]]
    seizures = data["seizures"]
    assert [(s["burned"], s["amount"], s["destination"]) for s in seizures] == [
        (1, str(100 * XUS_UNIT), "00000000000000000000000000000000"), (0, str(500 * XUS_UNIT), hexes["dd"])]
    assert all(s["order_hash"] == ORDER.hex() for s in seizures)
    (refused,) = data["refused"]
    assert (refused["sender"], refused["receiver"], refused["source"]) == (hexes["bob"], hexes["carol"], "chain")
    # the seizure's and the burn's sentpayment are not transfers by carol (she made none)
    assert not any(r["sender"] == hexes["carol"] for r in index.tables()["transfers"])
    assert len(index.tables()["transfers"]) == 3 + 1 + 1 + 3  # DD funding, travel, same parent, structuring


def test_supply_against_reserve_over_time_matches_the_chain(net, tmp_path):
    net, _ = net
    data = overview(net, fresh_index(net, tmp_path))
    (xus,) = data["reserves"]
    assert xus["index_agrees"] and xus["covered"]
    assert int(xus["reserve"]) == int(xus["supply"]) + 7
    history = data["supply_history"]["XUS"]
    assert history[0]["version"] == 0 and history[0]["supply"] == str((1 << 63) - 1)  # genesis mint
    assert history[-1]["supply"] == xus["supply"] and history[-1]["reserve"] == xus["reserve"]
    supplies = [int(row["supply"]) for row in history]
    assert supplies[-1] == supplies[0] - 100 * XUS_UNIT  # the burn of frozen funds
    assert all(int(row["supply"]) <= int(row["reserve"]) for row in history)


def test_alerts_structuring_frozen_and_shortfall(net, tmp_path):
    net, who = net
    data = overview(net, fresh_index(net, tmp_path))
    kinds = {(a["kind"], a["account"]) for a in data["alerts"]}
    assert ("structuring", who["alice"].address.hex()) in kinds
    assert ("frozen", who["carol"].address.hex()) in kinds
    assert ("reserve_shortfall", "0000000000000000000000000b1e55ed") in kinds
    assert not any(kind == "under_collateralised" for kind, _ in kinds)
    (structuring,) = [a for a in data["alerts"] if a["kind"] == "structuring"]
    assert structuring["count"] == 3 and len(structuring["versions"]) == 3
    # stricter rules: four are needed, or a one-second window: no structuring alert
    assert not any(a["kind"] == "structuring" for a in overview(net, fresh_index(net, tmp_path, "b"), structuring_count=4)["alerts"])
    narrow = overview(net, fresh_index(net, tmp_path, "c"), structuring_window_secs=1)
    assert not any(a["kind"] == "structuring" for a in narrow["alerts"])
    # only recent chain time is looked at: a second back, the pattern (blocks earlier) is out of sight
    recent = overview(net, fresh_index(net, tmp_path, "e"), lookback_secs=1)
    assert not any(a["kind"] == "structuring" for a in recent["alerts"])
    # velocity: alice's five transfers within an hour are "busy" when the rule says 5
    busy = overview(net, fresh_index(net, tmp_path, "d"), velocity_count=5)
    assert ("velocity", who["alice"].address.hex()) in {(a["kind"], a["account"]) for a in busy["alerts"]}


def test_admission_refusals_of_a_frozen_sender_are_kept_once(net, tmp_path):
    net, who = net
    index = fresh_index(net, tmp_path)
    txn = net.chain.p2p(who["carol"], who["bob"].address, 3 * XUS_UNIT, seq=99)
    for _ in range(3):  # a wallet retrying
        index.on_refused(txn.to_bcs(), "SENDING_ACCOUNT_FROZEN", 42)
    index.on_refused(txn.to_bcs(), "SEQUENCE_NUMBER_TOO_OLD", 42)  # not about freezing: ignored
    index.step()
    rows = [r for r in overview(net, index)["refused"] if r["source"] == "admission"]
    assert [(r["sender"], r["receiver"], r["amount"], r["version"]) for r in rows] == [
        (who["carol"].address.hex(), who["bob"].address.hex(), str(3 * XUS_UNIT), None)]
    (alert,) = [a for a in overview(net, index)["alerts"] if a["kind"] == "frozen"]
    assert "1 to it, 1 from it" in alert["summary"]


def test_chunks_resume_and_rebuilds_give_the_same_index(net, tmp_path, monkeypatch):
    net, _ = net
    reference = fresh_index(net, tmp_path, "reference").tables()
    monkeypatch.setattr(ix, "CHUNK_VERSIONS", 3)
    # crash in the middle of a chunk: its transaction is rolled back, nothing half-written
    index = EventIndex(net.ledger.db, tmp_path / "crash", net.ledger.state_view)
    index._writer = index._open_writer()
    for _ in range(4):
        assert index.step()
    through = index.indexed_through
    real_transfer = ix._Ingest._transfer
    calls = {"n": 0}

    def failing(self, *args):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        raise RuntimeError("power cut")

    monkeypatch.setattr(ix._Ingest, "_transfer", failing)
    with pytest.raises(RuntimeError):
        while True:
            index.step()
    assert calls["n"] == 1
    monkeypatch.setattr(ix._Ingest, "_transfer", real_transfer)
    stopped_at = index.indexed_through
    assert stopped_at >= through
    index.close()
    # the next start resumes after the last committed chunk
    resumed = EventIndex(net.ledger.db, tmp_path / "crash", net.ledger.state_view)
    resumed.catch_up()
    assert resumed.tables() == reference
    # an unreadable file is rebuilt from the store
    broken = tmp_path / "broken"
    broken.write_bytes(b"this is not a database" * 100)
    rebuilt = EventIndex(net.ledger.db, broken, net.ledger.state_view)
    rebuilt.catch_up()
    assert rebuilt.tables() == reference


def test_an_index_of_another_chain_is_rebuilt(net, tmp_path):
    net, _ = net
    other = Net()
    other.block(other.chain.p2p(other.chain.dd_account, other.chain.tc_account.address, 1))
    path = tmp_path / "shared"
    EventIndex(other.ledger.db, path, other.ledger.state_view).catch_up()
    index = EventIndex(net.ledger.db, path, net.ledger.state_view)
    index.catch_up()
    assert index.tables() == fresh_index(net, tmp_path, "clean").tables()


def test_a_running_index_follows_commits(net, tmp_path):
    net, who = net
    index = EventIndex(net.ledger.db, tmp_path / "live", net.ledger.state_view)
    index.start()
    try:
        import time

        deadline = time.monotonic() + 30
        while index.indexed_through < net.ledger.db.latest_version:
            assert time.monotonic() < deadline and index.failure is None
            time.sleep(0.05)
        before = len(index.tables()["transfers"])
        net.block(net.chain.p2p(who["dd"], who["bob"].address, 1))
        index.on_commit(None)
        while index.indexed_through < net.ledger.db.latest_version:
            assert time.monotonic() < deadline and index.failure is None
            time.sleep(0.05)
        assert len(index.tables()["transfers"]) == before + 1
    finally:
        index.close()
    assert not index.running


def test_payment_of_reads_script_functions_and_scripts(net):
    net, who = net
    chain = net.chain
    signature = bytes(range(64))
    function = chain.p2p(who["alice"], who["bob"].address, 77, metadata=b"m", signature=signature, seq=1000)
    payment = ix.payment_of(function)
    assert payment == ix.Payment(who["alice"].address, who["bob"].address, "XUS", 77, signature)
    move_script = stdlib.encode_peer_to_peer_with_metadata_script(XUS, sdk_address(who["bob"].address), np.uint64(78), b"", b"")
    script = chain.sign(who["alice"], diem_types.TransactionPayload__Script(move_script), seq=1001)
    assert ix.payment_of(script) == ix.Payment(who["alice"].address, who["bob"].address, "XUS", 78, b"")
    other = chain.sign_function(who["alice"], builders.preburn("XUS", 1), seq=1002)
    assert ix.payment_of(other) is None
