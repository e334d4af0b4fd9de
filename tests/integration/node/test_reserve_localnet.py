"""Attested reserves, lawful orders and proofs of reserve on a real 4-validator localnet (plus its
full node), through the ``libra`` commands an issuer, a compliance officer and a supervisor use:

1. an attester attests a reserve 1,000 XUS above the supply; a designated dealer is minted
   exactly up to it and a mint of one micro-unit more aborts with Reserve EMINT_EXCEEDS_RESERVE;
2. the dealer redeems (preburn, TC burns): supply drops and minting has room again;
3. TC freezes an account: a payment to it is refused on chain, its own submission at
   admission; then its funds are seized into the dealer and partly burned;
4. ``libra reserve report`` proves every figure from the genesis waypoint through the
   validators' signatures; its report file verifies offline, and with one byte changed it
   does not; ``libra supervise`` shows the orders, the freeze and the refusals.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from diem import jsonrpc, stdlib, testnet, utils

from libra.cli.reserve_report import fetch_report, genesis_waypoint
from libra.cli.validator import GovernanceError, Governor
from libra.client import builders
from libra.client.wallet_rpc import WalletRpc
from libra.crypto.auth import compute_auth_key
from libra.crypto.ed25519 import Ed25519PrivateKey, load_private_key
from libra.types.move import TREASURY_COMPLIANCE_ADDRESS, AccountAddress

XUS = 1_000_000


def libra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "libra.cli", *args], capture_output=True, text=True, timeout=180, check=False)


def units(micro: int) -> str:
    return f"{micro // XUS}.{micro % XUS:06d}"


@pytest.mark.timeout(600)
def test_reserve_orders_and_proofs_on_four_validators(localnet, tmp_path: Path) -> None:
    data = str(localnet.data_dir)
    rpc = WalletRpc(localnet.json_rpc)
    waypoint = genesis_waypoint(localnet.data_dir / "genesis.bcs")

    def figures():  # type: ignore[no-untyped-def]
        return fetch_report(rpc, waypoint, None)[1].currencies[0]

    rpc.get_metadata()
    assert rpc.chain_id is not None
    governor = Governor(rpc, rpc.chain_id)
    tc_key = load_private_key(localnet.data_dir / "keys" / "treasury_compliance.key")

    def tc(step: str, payload) -> int:  # type: ignore[no-untyped-def]
        return governor.send(step, tc_key, TREASURY_COMPLIANCE_ADDRESS, payload)

    # 1. an attester attests; minting stops exactly at the reserve
    attester_key = tmp_path / "attester.key"
    added = libra("reserve", "add-attester", "--data", data, "--key", str(attester_key))
    assert added.returncode == 0, added.stdout + added.stderr
    custodian = tmp_path / "custodian-report.pdf"
    custodian.write_bytes(b"%PDF custodian statement: 9.22 trillion XUS held")
    supply = figures().supply
    reserve = supply + 1_000 * XUS
    attested = libra("reserve", "attest", "--data", data, "--key", str(attester_key), "--amount", units(reserve), "--report", str(custodian))
    assert attested.returncode == 0, attested.stdout + attested.stderr
    assert (figures().reserve, figures().attester) == (reserve, load_key_address(attester_key))
    dealer_key = Ed25519PrivateKey.generate()
    dealer_auth = compute_auth_key(dealer_key.public_key())
    dealer = AccountAddress(dealer_auth[16:])
    tc("create a dealer", builders.create_designated_dealer("XUS", 0, dealer, dealer_auth[:16], b"issuer bank"))
    tc("mint up to the reserve", builders.tiered_mint("XUS", 0, dealer, 1_000 * XUS))
    assert figures().supply == reserve and figures().coverage_percent == "100.00"
    with pytest.raises(GovernanceError, match=r"EMINT_EXCEEDS_RESERVE \(abort code 520\)"):
        tc("mint past the reserve", builders.tiered_mint("XUS", 0, dealer, 1))
    # an attestation below the supply is refused (and the supervisor sees it)
    short = libra("reserve", "attest", "--data", data, "--amount", units(reserve - 1), "--report", str(custodian))
    assert short.returncode == 1 and "ERESERVE_BELOW_SUPPLY" in short.stderr

    # 2. redemption: preburn, burn; room to mint again
    governor.send("preburn", dealer_key, dealer, builders.preburn("XUS", 300 * XUS))
    tc("burn", builders.burn_with_amount("XUS", 0, dealer, 300 * XUS))
    assert figures().supply == reserve - 300 * XUS
    tc("mint again", builders.tiered_mint("XUS", 0, dealer, 300 * XUS))

    # 3. a lawful order: freeze, refused payments, seizure, burn
    client = jsonrpc.Client(localnet.json_rpc)
    faucet = testnet.Faucet(client, url=localnet.faucet)
    suspect, payer = faucet.gen_account(), faucet.gen_account()
    suspect_hex = suspect.account_address.to_hex()
    frozen = libra("order", "freeze", "--data", data, suspect_hex)
    assert frozen.returncode == 0, frozen.stdout + frozen.stderr
    to_suspect = payer.create_txn(client, payload=stdlib.encode_peer_to_peer_with_metadata_script_function(
        utils.currency_code("XUS"), suspect.account_address, 5 * XUS, b"", b""))
    client.submit(to_suspect)
    with pytest.raises(jsonrpc.TransactionExecutionFailed, match="EACCOUNT_FROZEN"):
        client.wait_for_transaction(to_suspect, timeout_secs=60)
    from_suspect = suspect.create_txn(client, payload=stdlib.encode_peer_to_peer_with_metadata_script_function(
        utils.currency_code("XUS"), payer.account_address, 5 * XUS, b"", b""))
    with pytest.raises(jsonrpc.JsonRpcError, match="SENDING_ACCOUNT_FROZEN"):
        client.submit(from_suspect)
    before = figures().supply
    seized = libra("order", "seize", "--data", data, suspect_hex, "--to", dealer.hex(), "--amount", "40", "--order-ref", "court 7/2025")
    assert seized.returncode == 0, seized.stdout + seized.stderr
    burned = libra("order", "burn", "--data", data, suspect_hex, "--amount", "10", "--order-ref", "court 7/2025")
    assert burned.returncode == 0, burned.stdout + burned.stderr
    account = client.get_account(suspect.account_address)
    assert utils.balance(account, "XUS") == 100_000 * XUS - 50 * XUS and account.is_frozen
    assert figures().supply == before - 10 * XUS

    # 4. the proof of reserve, its file, and the supervisor's view
    report_file = tmp_path / "reserve.json"
    reported = libra("reserve", "report", "--data", data, "--json", str(report_file))
    assert reported.returncode == 0, reported.stdout + reported.stderr
    assert "verified: every figure is proved" in reported.stdout
    assert re.search(r"epoch \d+, [34] signature\(s\)", reported.stdout), reported.stdout
    assert f"reached from waypoint {waypoint} (trusted)" in reported.stdout
    checked = libra("reserve", "verify", str(report_file), "--waypoint", str(waypoint))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    content = report_file.read_bytes()
    report = json.loads(content)
    assert report["figures"]["currencies"][0]["supply"] == figures().supply
    signature_at = content.index(report["proofs"]["ledger_info_with_signatures"].encode()) + 400
    for position in (signature_at, content.index(b'"reserve": ') + 12, len(content) // 2):
        changed = bytearray(content)
        changed[position] = ord("0") if changed[position] != ord("0") else ord("1")
        tampered = tmp_path / f"tampered-{position}.json"
        tampered.write_bytes(bytes(changed))
        refused = libra("reserve", "verify", str(tampered))
        assert refused.returncode == 1 and "FAILED" in refused.stderr, (position, refused.stdout, refused.stderr)
    supervised = libra("supervise", "--data", data, "--json")
    assert supervised.returncode == 0, supervised.stderr
    view = json.loads(supervised.stdout)
    assert view["node"]["caught_up"]
    assert [(s["target"], s["burned"]) for s in view["seizures"]] == [(suspect_hex, 1), (suspect_hex, 0)]
    assert suspect_hex in {f["address"] for f in view["frozen"]}
    sources = {(r["source"], r["sender"]) for r in view["refused"]}
    assert ("chain", payer.account_address.to_hex()) in sources and ("admission", suspect_hex) in sources
    kinds = {a["kind"] for a in view["alerts"]}
    assert {"frozen", "reserve_shortfall"} <= kinds and "under_collateralised" not in kinds
    assert view["reserves"][0]["index_agrees"]


def load_key_address(path: Path) -> str:
    key = load_private_key(path)
    return compute_auth_key(key.public_key())[16:].hex()
