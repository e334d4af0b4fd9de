"""Diem's official SDK (sync and async clients) against a real single-validator localnet."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import pytest
import requests
from diem import diem_types, identifier, jsonrpc, stdlib, testing, testnet, txnmetadata, utils
from diem.testing import LocalAccount

LIMIT = 1_000_000_000  # dual attestation limit, micro-XDX; XUS rate is 1.0


@pytest.fixture(scope="module")
def client(localnet) -> jsonrpc.Client:
    return jsonrpc.Client(localnet.json_rpc)


@pytest.fixture(scope="module")
def faucet(localnet, client) -> testnet.Faucet:
    return testnet.Faucet(client, url=localnet.faucet)


def balance(client: jsonrpc.Client, account: LocalAccount, currency: str = "XUS") -> int:
    return utils.balance(client.must_get_account(account.account_address), currency)


def pay(client, sender: LocalAccount, receiver: LocalAccount, amount: int, metadata=b"", signature=b"", script=True):
    currency = utils.currency_code("XUS")
    if script:
        payload = diem_types.TransactionPayload__Script(
            stdlib.encode_peer_to_peer_with_metadata_script(currency, receiver.account_address, amount, metadata, signature)
        )
    else:
        payload = stdlib.encode_peer_to_peer_with_metadata_script_function(
            currency, receiver.account_address, amount, metadata, signature
        )
    txn = sender.create_txn(client, payload=payload)
    client.submit(txn)
    return client.wait_for_transaction(txn, timeout_secs=30)


def test_metadata_and_currencies(client):
    metadata = client.get_metadata()
    assert metadata.chain_id == 2
    assert metadata.dual_attestation_limit == LIMIT
    assert metadata.timestamp <= time.time() * 1_000_000
    codes = {c.code: c for c in client.get_currencies()}
    assert codes["XUS"].to_xdx_exchange_rate == 1.0 and codes["XUS"].scaling_factor == 1_000_000
    assert codes["XDX"].fractional_part == 1000


def test_unknown_account_is_null(client):
    assert client.get_account(LocalAccount.generate().account_address) is None
    with pytest.raises(jsonrpc.AccountNotFoundError):
        client.must_get_account(LocalAccount.generate().account_address)


def test_faucet_creates_parent_vasp_and_designated_dealer(client, faucet):
    parent = faucet.gen_account()
    account = client.must_get_account(parent.account_address)
    assert account.role.type == "parent_vasp"
    assert utils.balance(account, "XUS") == 100_000_000_000
    dealer = faucet.gen_account(dd_account=True)
    assert client.must_get_account(dealer.account_address).role.type == "designated_dealer"


def test_faucet_diem_id_domain_is_idempotent_and_resolvable(client, faucet):
    account = LocalAccount.generate()
    domain = "test" + uuid.uuid4().hex[:12]
    faucet.mint(account.auth_key.hex(), 1_000_000, "XUS", diem_id_domain=domain)
    faucet.mint(account.auth_key.hex(), 1_000_000, "XUS", diem_id_domain=domain)  # already there: no abort
    onchain = client.must_get_account(account.account_address)
    assert list(onchain.role.diem_id_domains) == [domain]
    assert client.get_diem_id_domain_map()[domain] == utils.account_address_hex(account.account_address)
    faucet.mint(account.auth_key.hex(), 0, "XUS", diem_id_domain=domain, is_remove_domain=True)
    assert list(client.must_get_account(account.account_address).role.diem_id_domains) == []
    assert utils.balance(client.must_get_account(account.account_address), "XUS") == 2_000_000


METADATA_KINDS = {
    "empty": b"",
    "undefined": diem_types.Metadata__Undefined().bcs_serialize(),
    "general": txnmetadata.general_metadata(b"\x01" * 8, b"\x02" * 8),
    "travel_rule": txnmetadata.travel_rule("ref-1", utils.account_address("ab" * 16), 10)[0],
    "refund": txnmetadata.refund_metadata(12, diem_types.RefundReason__InvalidSubaddress()),
    "coin_trade": diem_types.Metadata__CoinTradeMetadata(
        diem_types.CoinTradeMetadata__CoinTradeMetadataV0(diem_types.CoinTradeMetadataV0(trade_ids=["t1"]))
    ).bcs_serialize(),
    "payment": txnmetadata.payment_metadata(str(uuid.uuid4())),
    "unstructured": diem_types.Metadata__UnstructuredBytesMetadata(
        diem_types.UnstructuredBytesMetadata(metadata=b"hello")
    ).bcs_serialize(),
    "junk": b"invalid metadata",
}


@pytest.mark.parametrize("kind", sorted(METADATA_KINDS))
def test_payment_with_every_metadata_kind(client, faucet, kind):
    sender, receiver = faucet.gen_account(), faucet.gen_account()
    metadata = METADATA_KINDS[kind]
    txn = pay(client, sender, receiver, 1234, metadata, script=kind != "general")
    assert txn.vm_status.type == "executed"
    assert txn.transaction.script.metadata == metadata.hex() or txn.transaction.script.type == "script_function"
    received = [e for e in txn.events if e.data.type == "receivedpayment"]
    assert len(received) == 1 and received[0].data.metadata == metadata.hex()
    assert received[0].data.sender == utils.account_address_hex(sender.account_address)
    assert balance(client, receiver) == 100_000_000_000 + 1234
    assert balance(client, sender) == 100_000_000_000 - 1234


def test_child_vasp_creation(client, faucet):
    parent = faucet.gen_account()
    child = parent.gen_child_vasp(client, 5_000_000, "XUS")
    account = client.must_get_account(child.account_address)
    assert account.role.type == "child_vasp"
    assert account.role.parent_vasp_address == utils.account_address_hex(parent.account_address)
    assert utils.balance(account, "XUS") == 5_000_000
    assert client.get_parent_vasp_account(child.account_address).address == utils.account_address_hex(
        parent.account_address
    )


def test_travel_rule_needs_the_receivers_compliance_signature(client, faucet):
    sender, receiver = faucet.gen_account(), faucet.gen_account()
    for account in (sender, receiver):
        account.rotate_dual_attestation_info(client, base_url="http://localhost:9")  # as a Move script
    metadata, signing_msg = txnmetadata.travel_rule("ref-2", sender.account_address, LIMIT)
    with pytest.raises(jsonrpc.TransactionExecutionFailed) as failure:
        pay(client, sender, receiver, LIMIT, metadata, b"")
    assert "EMALFORMED_METADATA_SIGNATURE" in str(failure.value)
    signature = receiver.compliance_key.sign(signing_msg)
    txn = pay(client, sender, receiver, LIMIT, metadata, signature)
    assert txn.vm_status.type == "executed"
    wrong = sender.compliance_key.sign(signing_msg)
    with pytest.raises(jsonrpc.TransactionExecutionFailed) as failure:
        pay(client, sender, receiver, LIMIT, metadata, wrong)
    assert "EINVALID_METADATA_SIGNATURE" in str(failure.value)


def test_rotate_dual_attestation_info_as_script_and_script_function(localnet, client, faucet):
    parent = faucet.gen_account()
    parent.rotate_dual_attestation_info(client, base_url="http://one")
    role = client.must_get_account(parent.account_address).role
    assert role.base_url == "http://one" and role.compliance_key == parent.compliance_public_key_bytes.hex()

    async def by_script_function() -> None:
        async_client = jsonrpc.AsyncClient(localnet.json_rpc)  # opens a session per request
        await parent.reset_dual_attestation(async_client, "http://two")

    asyncio.run(by_script_function())
    assert client.must_get_account(parent.account_address).role.base_url == "http://two"


def test_key_rotation_then_payment_signed_by_new_key(client, faucet):
    sender, receiver = faucet.gen_account(), faucet.gen_account()
    new = LocalAccount.generate()
    txn = sender.create_txn(client, payload=stdlib.encode_rotate_authentication_key_script_function(new.auth_key.data))
    client.submit(txn)
    client.wait_for_transaction(txn)
    payload = stdlib.encode_peer_to_peer_with_metadata_script_function(
        utils.currency_code("XUS"), receiver.account_address, 77, b"", b""
    )
    raw = sender.create_txn(client, payload=payload).raw_txn
    signed = utils.create_signed_transaction(raw, new.public_key_bytes, new.private_key.sign(utils.raw_transaction_signing_msg(raw)))
    client.submit(signed)
    assert client.wait_for_transaction(signed).vm_status.type == "executed"
    old_key_txn = sender.create_txn(client, payload=payload)  # signed by the old key
    with pytest.raises(jsonrpc.JsonRpcError, match="INVALID_AUTH_KEY"):
        client.submit(old_key_txn)


def test_get_events_paging(client, faucet):
    sender, receiver = faucet.gen_account(), faucet.gen_account()
    for amount in range(1, 6):
        pay(client, sender, receiver, amount)
    key = client.must_get_account(receiver.account_address).received_events_key
    pages = [client.get_events(key, start, 2) for start in (0, 2, 4)]
    numbers = [e.sequence_number for page in pages for e in page]
    assert numbers == list(range(6))  # the faucet's payment, then five of ours
    assert [e.data.amount.amount for e in pages[0] + pages[1] + pages[2]][1:] == [1, 2, 3, 4, 5]
    assert client.get_events(key, 6, 10) == []


def test_replays_and_bad_transactions_are_refused(client, faucet):
    sender, receiver = faucet.gen_account(), faucet.gen_account()
    payload = stdlib.encode_peer_to_peer_with_metadata_script_function(
        utils.currency_code("XUS"), receiver.account_address, 5, b"", b""
    )
    txn = sender.create_txn(client, payload=payload)
    client.submit(txn)
    client.wait_for_transaction(txn)
    with pytest.raises(jsonrpc.JsonRpcError, match="SEQUENCE_NUMBER_TOO_OLD"):
        client.submit(txn)
    seq = client.get_account_sequence(sender.account_address)
    wrong_chain = sender.create_signed_txn(seq, payload, chain_id=4)
    with pytest.raises(jsonrpc.JsonRpcError, match="BAD_CHAIN_ID"):
        client.submit(wrong_chain)
    expired_raw = sender.create_signed_txn(seq, payload).raw_txn
    expired_raw = diem_types.RawTransaction(
        sender=expired_raw.sender, sequence_number=expired_raw.sequence_number, payload=expired_raw.payload,
        max_gas_amount=expired_raw.max_gas_amount, gas_unit_price=expired_raw.gas_unit_price,
        gas_currency_code=expired_raw.gas_currency_code,
        expiration_timestamp_secs=diem_types.st.uint64(int(time.time()) - 10), chain_id=expired_raw.chain_id,
    )
    with pytest.raises(jsonrpc.JsonRpcError, match="TRANSACTION_EXPIRED"):
        client.submit(sender.sign(expired_raw))
    forged = sender.create_signed_txn(seq, payload)
    forged = diem_types.SignedTransaction(
        raw_txn=forged.raw_txn,
        authenticator=diem_types.TransactionAuthenticator__Ed25519(
            public_key=forged.authenticator.public_key, signature=diem_types.Ed25519Signature(b"\x01" * 64)
        ),
    )
    with pytest.raises(jsonrpc.JsonRpcError, match="INVALID_SIGNATURE"):
        client.submit(forged)
    assert client.get_account_sequence(sender.account_address) == seq  # nothing of these was kept


def test_async_client_and_async_faucet(localnet):
    async def scenario() -> None:
        client = jsonrpc.AsyncClient(localnet.json_rpc)
        faucet = testing.Faucet(client, url=localnet.faucet)
        parent, child = await faucet.gen_vasp(base_url="http://vasp")
        assert (await client.get_account(child.account_address)).role.type == "child_vasp"
        receiver = await faucet.gen_account()
        payload = stdlib.encode_peer_to_peer_with_metadata_script_function(
            utils.currency_code("XUS"), receiver.account_address, 10, b"", b""
        )
        txn = await parent.apply_txn(client, payload)
        assert txn.vm_status.type == "executed"
        assert (await client.get_account_transaction(parent.account_address, txn.transaction.sequence_number, True)).hash == txn.hash
        identifier_text = identifier.encode_account(receiver.account_address, None, "tdm")
        assert identifier.decode_account(identifier_text, "tdm")[0] == receiver.account_address

    asyncio.run(scenario())


def test_transactions_past_the_tip_are_empty_and_bad_requests_are_answered(localnet, client):
    assert client.get_transactions(2**64 - 1, 1) == []
    response = requests.post(localnet.json_rpc, data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json()["error"]["code"] == -32700
    response = requests.post(localnet.json_rpc, json={"jsonrpc": "2.0", "id": 1, "method": "submit", "params": ["zz"]})
    assert response.json()["error"]["code"] == -32602
    response = requests.post(localnet.json_rpc, json={"jsonrpc": "2.0", "id": 1, "method": "submit", "params": ["00"]})
    assert response.json()["error"]["code"] == -32602
    response = requests.post(localnet.json_rpc, json={"jsonrpc": "2.0", "id": 1, "method": "nope", "params": []})
    assert response.json()["error"]["code"] == -32601
    assert client.get_metadata().chain_id == 2  # still serving


def test_metrics_endpoint_reports_ledger_and_api(localnet, client, faucet):
    faucet.gen_account()  # at least one committed block beyond genesis
    client.get_metadata()
    text = requests.get(localnet.json_rpc.replace("/v1", "/metrics")).text
    assert "libra_ledger_committed_version" in text
    assert 'libra_api_request_latency_seconds_count{method="get_metadata"}' in text
    version = [line for line in text.splitlines() if line.startswith("libra_ledger_committed_version ")][0]
    assert float(version.split()[1]) > 0


def test_localnet_json_describes_the_network(localnet):
    info = json.loads((localnet.data_dir / "localnet.json").read_text())
    assert info["chain_id"] == 2
    assert info["faucet"].endswith("/mint")
    node = info["nodes"][0]
    assert node["role"] == "validator" and node["pid"] > 0 and node["metrics"].endswith("/metrics")
    for name in ("treasury_compliance", "designated_dealer"):
        assert len(Path(info["keys"][name]).read_text().strip()) == 64
