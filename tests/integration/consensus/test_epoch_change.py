"""Real-process epoch changes: 4 validators + 1 full node on 127.0.0.1 under a steady payment load.

1. A fifth validator is prepared (``libra validator init``) and started: not in the set,
   it follows the full node by state sync.
2. ``libra validator add`` (Diem Root governance) puts it in the set: a new epoch starts,
   it joins consensus and signs committed ledger infos.
3. ``libra validator remove`` takes one of the first four out: another epoch; the removed
   validator stops voting and keeps following through the full node.

Commits continue throughout; at the end every node reports the same accumulator root at
a common version, every payment the API reported committed is still there, and the full
node's epoch-change proof from genesis verifies against the genesis validator set.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from diem import jsonrpc, stdlib, testnet, utils
from load_helpers import PaymentLoad, assert_agreement, restart, rpc, versions, wait_for_progress

from libra.client.verifier import verify_epoch_change_proof
from libra.crypto.auth import compute_address, compute_auth_key
from libra.crypto.ed25519 import load_private_key
from libra.types.ledger import EpochState, LedgerInfoWithSignatures, ValidatorConsensusInfo, ValidatorVerifier
from libra.types.move import AccountAddress
from libra.types.proof import EpochChangeProof


def libra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "libra.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


def account_of(folder: Path) -> AccountAddress:
    key = load_private_key(folder / "consensus.key")
    return AccountAddress(compute_address(compute_auth_key(key.public_key())))


def latest_ledger_info(url: str) -> LedgerInfoWithSignatures:
    proof = rpc(url, "get_state_proof", 0)
    return LedgerInfoWithSignatures.from_bcs(bytes.fromhex(proof["ledger_info_with_signatures"]))  # type: ignore[index]


def wait_until(predicate, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout:.0f} s")
        time.sleep(0.3)


def epoch_of(url: str) -> int:
    return latest_ledger_info(url).ledger_info.epoch


@pytest.mark.timeout(600)
def test_a_validator_joins_and_another_leaves_under_load(localnet_factory, tmp_path, pick_port):
    data = tmp_path / "net"
    net = localnet_factory(data, extra=["--validators", "4", "--full-nodes", "1"])
    info = json.loads(json.dumps(net.info))
    full_node_url = net.json_rpc
    load = PaymentLoad(net.json_rpc, net.faucet)
    load.start()
    new_port, new_api = pick_port(), pick_port()
    prepared = libra("validator", "init", "--data", str(data), "--name", "validator-4",
                     "--network-port", str(new_port), "--api-port", str(new_api))
    assert prepared.returncode == 0, prepared.stderr
    node = {
        "name": "validator-4", "role": "validator", "config": str(data / "validator-4" / "node.toml"),
        "data_dir": str(data / "validator-4"), "json_rpc": f"http://127.0.0.1:{new_api}/v1",
    }
    newcomer = restart(node)
    removed_name = "validator-1"
    try:
        # 1. not in the set yet: it follows the full node
        info["nodes"].append(node)
        wait_for_progress(info, "validator-4", versions(info)["full-node-0"] - 1, timeout=90)
        epoch_before = epoch_of(full_node_url)
        # a payment submitted to the follower goes through the full node to the validators
        client = jsonrpc.Client(full_node_url)
        payer = testnet.Faucet(client, url=net.faucet).gen_account()
        wait_for_progress(info, "validator-4", versions(info)["full-node-0"] - 1)  # it knows the payer
        payment = payer.create_txn(client, payload=stdlib.encode_peer_to_peer_with_metadata_script_function(
            utils.currency_code("XUS"), load.receiver.account_address, 1, b"", b""))
        jsonrpc.Client(node["json_rpc"]).submit(payment)
        assert client.wait_for_transaction(payment, timeout_secs=60).vm_status.type == "executed"

        # 2. governance adds it; it takes part in consensus in the new epoch
        added = libra("validator", "add", "--data", str(data), "--name", "validator-4")
        assert added.returncode == 0, added.stdout + added.stderr
        assert "add to the set: committed" in added.stdout
        wait_until(lambda: epoch_of(full_node_url) == epoch_before + 1, "the epoch change after the add")
        newcomer_address = account_of(data / "validator-4")

        def newcomer_signs() -> bool:
            return any(
                newcomer_address in dict(latest_ledger_info(n["json_rpc"]).signatures)
                for n in info["nodes"]
                if n["role"] == "validator"
            )

        wait_until(newcomer_signs, "a committed ledger info signed by the new validator")
        assert newcomer.poll() is None

        # 3. governance removes validator-1; commits continue without it
        removed = libra("validator", "remove", "--data", str(data), "--name", removed_name)
        assert removed.returncode == 0, removed.stdout + removed.stderr
        wait_until(lambda: epoch_of(full_node_url) == epoch_before + 2, "the epoch change after the removal")
        removed_address = account_of(data / removed_name)
        before = versions(info)["full-node-0"]
        wait_for_progress(info, "full-node-0", before + 5)
        final_signers = dict(latest_ledger_info(full_node_url).signatures)
        assert removed_address not in final_signers
        # the removed validator keeps following the network (through the full node)
        wait_for_progress(info, removed_name, before + 5, timeout=90)
        log = (data / removed_name / "node.log").read_text()
        assert "was removed from the validator set" in log
        load.stop()
        assert_agreement(info, load)
        assert len(load.committed) > 10, (len(load.committed), load.errors)

        # the full node's epoch-change proof from genesis verifies from the genesis validators' keys
        proof_hex = rpc(full_node_url, "get_state_proof", 0)["epoch_change_proof"]  # type: ignore[index]
        proof = EpochChangeProof.from_bcs(bytes.fromhex(proof_hex))
        genesis_set = EpochState(1, ValidatorVerifier.from_validators({
            account_of(data / f"validator-{i}"): ValidatorConsensusInfo(
                load_private_key(data / f"validator-{i}" / "consensus.key").public_key().to_bytes(), 1
            )
            for i in range(4)
        }))
        assert proof.ledger_info_with_sigs[0].ledger_info.next_epoch_state == genesis_set
        _, now = verify_epoch_change_proof(EpochChangeProof(proof.ledger_info_with_sigs[1:]), genesis_set)
        members = dict(now.verifier.validators)
        assert now.epoch == epoch_before + 2 and newcomer_address in members and removed_address not in members
    finally:
        load.stop()
        if newcomer.poll() is None:
            newcomer.terminate()
            newcomer.wait(timeout=60)
