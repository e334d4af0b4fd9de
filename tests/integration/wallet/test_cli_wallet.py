"""``libra wallet`` end to end on a real localnet: two wallets, payments through an intent URI
and a Diem ID, ``watch`` sees them live, balances and history agree with the chain, and bad
input gets a clear message, the documented exit code and sends nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from libra.client import builders
from libra.crypto.ed25519 import load_private_key
from libra.types.move import TREASURY_COMPLIANCE_ADDRESS

PASSPHRASE = "correct horse battery"


def rpc(url: str, method: str, *params: Any) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert "error" not in answer, answer
    return answer["result"]


def chain_balance(url: str, address: str, currency: str = "XUS") -> int:
    account = rpc(url, "get_account", address)
    return next(int(b["amount"]) for b in account["balances"] if b["currency"] == currency)


def chain_sequence(url: str, address: str) -> int:
    return int(rpc(url, "get_account", address)["sequence_number"])


class Cli:
    def __init__(self, url: str, home: Path) -> None:
        self.env = {
            **os.environ,
            "LIBRA_URL": url,
            "LIBRA_WALLET_HOME": str(home),
            "LIBRA_WALLET_PASSPHRASE": PASSPHRASE,
            "COLUMNS": "200",
        }

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "libra.cli", "wallet", *args]

    def run(self, *args: str, code: int = 0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.command(*args), capture_output=True, text=True, timeout=60, env={**self.env, **(env or {})}
        )
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args: str, code: int = 0) -> dict[str, Any]:
        done = self.run(*args, "--json", code=code)
        document = json.loads(done.stdout)
        assert document["ok"] is (code == 0), document
        return document


@pytest.fixture(scope="module")
def cli(wallet_net: Any, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(wallet_net.url, tmp_path_factory.mktemp("wallet-home"))


@pytest.fixture(scope="module")
def funded(cli: Cli, wallet_net: Any) -> dict[str, str]:
    alice = cli.json("new", "alice")["address"]
    bob = cli.json("new", "bob")["address"]
    assert cli.json("fund", "alice", "100")["balance"] == 100_000_000
    assert cli.json("fund", "bob", "10", "XUS", "--domain", "bobpay")["balance"] == 10_000_000
    return {"alice": alice, "bob": bob}


def test_keystore_files_are_private_and_encrypted(cli: Cli, funded: dict[str, str]) -> None:
    home = Path(cli.env["LIBRA_WALLET_HOME"])
    assert home.stat().st_mode & 0o777 == 0o700
    document = json.loads((home / "alice.json").read_text())
    assert (home / "alice.json").stat().st_mode & 0o777 == 0o600
    assert document["kdf"]["name"] == "argon2id" and document["cipher"]["name"] == "xsalsa20poly1305"
    listed = cli.json("list")["wallets"]
    assert [(w["name"], w["address"]) for w in listed] == [("alice", funded["alice"]), ("bob", funded["bob"])]


def test_pay_by_intent_and_diem_id_seen_by_watch(cli: Cli, wallet_net: Any, funded: dict[str, str]) -> None:
    url, alice, bob = wallet_net.url, funded["alice"], funded["bob"]
    alice_before, bob_before = chain_balance(url, alice), chain_balance(url, bob)
    watcher = subprocess.Popen(
        cli.command("watch", "bob", "--count", "2", "--timeout", "30", "--json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env,
    )
    try:
        assert watcher.stdout is not None
        ready = json.loads(watcher.stdout.readline())
        assert ready["watching"] == bob

        request = cli.json("request", "bob", "2.5", "--out", str(Path(cli.env["LIBRA_WALLET_HOME"]) / "req.png"))
        assert request["amount"] == 2_500_000 and request["uri"].startswith("diem://tdm1")
        assert (Path(cli.env["LIBRA_WALLET_HOME"]) / "req.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        by_intent = cli.json("pay", "alice", request["uri"])
        assert by_intent["to"] == bob and by_intent["to_subaddress"] == request["subaddress"]
        assert by_intent["amount"] == 2_500_000 and by_intent["recipient_kind"] == "intent"

        by_id = cli.json("pay", "alice", "carol@bobpay", "1.25")
        assert by_id["to"] == bob and by_id["diem_id"] == "carol@bobpay" and by_id["amount"] == 1_250_000

        lines = [json.loads(watcher.stdout.readline()) for _ in range(2)]
        assert watcher.wait(timeout=20) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
        for pipe in (watcher.stdout, watcher.stderr):
            if pipe is not None:
                pipe.close()
    assert [(e["version"], e["amount"], e["direction"], e["counterparty"]) for e in lines] == [
        (by_intent["version"], 2_500_000, "received", alice),
        (by_id["version"], 1_250_000, "received", alice),
    ]
    assert lines[0]["to_subaddress"] == request["subaddress"] and lines[1]["to_subaddress"] is None

    # balances agree with the chain, to the micro-unit
    assert chain_balance(url, alice) == alice_before - 3_750_000
    assert chain_balance(url, bob) == bob_before + 3_750_000
    shown = cli.json("balance", "bob")
    assert shown["balances"]["XUS"] == chain_balance(url, bob) and shown["balances_text"]["XUS"] == "13.75"
    assert shown["diem_id_domains"] == ["bobpay"]

    # history agrees with the chain's payment events
    for name, address in (("alice", alice), ("bob", bob)):
        account = rpc(url, "get_account", address)
        expected = []
        for key, direction in ((account["sent_events_key"], "sent"), (account["received_events_key"], "received")):
            for event in rpc(url, "get_events", key, 0, 100):
                data = event["data"]
                other = data["receiver"] if direction == "sent" else data["sender"]
                expected.append((event["transaction_version"], direction, other, data["amount"]["amount"]))
        payments = cli.json("history", name)["payments"]
        assert sorted(expected) == [(p["version"], p["direction"], p["counterparty"], p["amount"]) for p in payments]
    human = cli.run("history", "alice").stdout
    assert "-2.50 XUS" in human and "-1.25 XUS" in human and "+100.00 XUS" in human


def _freeze(wallet_net: Any, target: str) -> None:
    tc_key = load_private_key(wallet_net.info["keys"]["treasury_compliance"])
    url = wallet_net.url
    tc = TREASURY_COMPLIANCE_ADDRESS
    seq = chain_sequence(url, tc.hex())
    payload = builders.script_function(
        "TreasuryComplianceScripts", "freeze_account", (), (0).to_bytes(8, "little"), bytes.fromhex(target)
    )
    submission = builders.sign_transaction(
        tc_key, tc, seq, payload, chain_id=wallet_net.info["chain_id"], expiration_timestamp_secs=int(time.time()) + 30
    )
    rpc(url, "submit", submission.bcs.hex())
    deadline = time.monotonic() + 10
    while (txn := rpc(url, "get_account_transaction", tc.hex(), seq, False)) is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert txn["vm_status"]["type"] == "executed"


BAD_PAYMENTS = [
    # (arguments after "pay alice", exit code, words in the message)
    (["BOB", "5"], 2, "not a recipient"),
    (["{bob}", "1"], 2, "not a valid account identifier"),
    (["{bob_pdm}", "1"], 2, "network prefix 'pdm'"),
    (["{bob_id}", "abc"], 2, "not a number"),
    (["{bob_id}", "-1"], 2, "must be positive"),
    (["{bob_id}", "0"], 2, "more than zero"),
    (["{bob_id}", "0.0000001"], 2, "more than 6 decimals"),
    (["{bob_id}", "1e3"], 2, "not a number"),
    (["{bob_id}", "1", "X-S"], 2, "not a currency code"),
    (["{bob_id}", "1", "EUR"], 2, "not on this network"),
    (["{bob_id}"], 2, "give an amount"),
    (["{intent}", "3"], 2, "payment link asks for 2.50"),
    (["diem://nothing"], 2, "payment link"),
    (["dave@nodomain", "1"], 3, "unknown recipient"),
    (["bad_name@x", "1"], 2, "not a valid Diem ID"),
    (["{unknown}", "1"], 3, "unknown recipient"),
    (["{bob_id}", "1000000"], 1, "insufficient balance"),
    (["{alice}", "1"], 2, "own account"),
]


def test_bad_payments_send_nothing(cli: Cli, wallet_net: Any, funded: dict[str, str]) -> None:
    from libra.client.identifiers import encode_account_identifier, encode_intent

    url, alice, bob = wallet_net.url, funded["alice"], funded["bob"]
    bob_id = encode_account_identifier(bytes.fromhex(bob), None, "tdm")
    values = {
        "bob": bob_id[:-1] + ("q" if bob_id[-1] != "q" else "p"),  # checksum broken
        "bob_pdm": encode_account_identifier(bytes.fromhex(bob), None, "pdm"),
        "bob_id": bob_id,
        "intent": encode_intent(bob_id, "XUS", 2_500_000),
        "unknown": "ab" * 16,
        "alice": alice,
    }
    seq, balance = chain_sequence(url, alice), chain_balance(url, alice)
    for args, code, words in BAD_PAYMENTS:
        filled = [a.format(**values) if "{" in a else a for a in args]
        document = cli.json("pay", "alice", *filled, code=code)
        assert words in document["error"]["message"], (filled, document)
        assert document["error"]["exit_code"] == code
    human = cli.run("pay", "alice", bob_id, "12,5", code=2)
    assert "error:" in human.stderr and "not a number" in human.stderr and human.stdout == ""
    assert "wrong passphrase" in cli.run(
        "pay", "alice", bob_id, "1", code=2, env={"LIBRA_WALLET_PASSPHRASE": "not the passphrase"}
    ).stderr
    assert "no wallet named 'nobody'" in cli.json("pay", "nobody", bob_id, "1", code=3)["error"]["message"]
    assert chain_sequence(url, alice) == seq and chain_balance(url, alice) == balance  # nothing was sent


def test_other_commands_reject_bad_input(cli: Cli, funded: dict[str, str]) -> None:
    assert "already exists" in cli.json("new", "alice", code=2)["error"]["message"]
    assert "not allowed" in cli.json("new", "../evil", code=2)["error"]["message"]
    assert "at least 8" in cli.run("new", "short", code=2, env={"LIBRA_WALLET_PASSPHRASE": "abc"}).stderr
    assert "more than zero" in cli.json("request", "bob", "0", code=2)["error"]["message"]
    assert ".png or .svg" in cli.json("request", "bob", "1", "--out", "qr.gif", code=2)["error"]["message"]
    assert "not a number" in cli.json("fund", "bob", "ten", code=2)["error"]["message"]
    assert "no wallet named" in cli.json("balance", "zed", code=3)["error"]["message"]
    network = cli.json("balance", "bob", "--url", "http://127.0.0.1:9/v1", code=1)["error"]
    assert network["kind"] == "network" and "connection refused" in network["message"]
    # a usage error is exit code 2, as click reports it
    assert cli.run("pay", code=2).returncode == 2


def test_import_and_frozen_account(cli: Cli, wallet_net: Any, funded: dict[str, str], tmp_path: Path) -> None:
    key = tmp_path / "carol.key"
    from libra.crypto.ed25519 import Ed25519PrivateKey, save_private_key

    save_private_key(key, Ed25519PrivateKey.generate())
    carol = cli.json("import", "carol", "--key-file", str(key))["address"]
    assert "already in the keystore" in cli.json("import", "carol2", "--key-file", str(key), code=2)["error"]["message"]
    cli.json("fund", "carol", "5")
    _freeze(wallet_net, carol)
    seq = chain_sequence(wallet_net.url, carol)
    assert "frozen" in cli.json("pay", "carol", funded["bob"], "1", code=1)["error"]["message"]
    assert "frozen" in cli.json("pay", "alice", carol, "1", code=1)["error"]["message"]
    assert chain_sequence(wallet_net.url, carol) == seq
