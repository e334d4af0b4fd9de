"""An in-memory API backend with Diem-shaped answers (diem-protocol.md §4, §14) and request helpers."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from diem import diem_types, stdlib, testing, utils

from libra.api import errors
from libra.api.backend import LedgerState

CHAIN_ID = 4
PARENT = "f72589b71ff4f8d139674a3f7369c69b"
CHILD = "0c3c0ca6a8a4ba8d9bf1d83d0b6d51a2"
UNKNOWN = "00000000000000000000000000abcdef"
RECEIVED_KEY = "0200000000000000" + PARENT
TC_DOMAIN_KEY = "0000000000000000" + "0000000000000000000000000b1e55ed"


def account_view(address: str, version: int) -> dict[str, Any]:
    """A parent VASP as §14 of diem-protocol.md shows it."""
    return {
        "address": address,
        "authentication_key": "11" * 16 + address,
        "balances": [{"amount": 997000000000, "currency": "XUS"}],
        "delegated_key_rotation_capability": False,
        "delegated_withdrawal_capability": False,
        "is_frozen": False,
        "received_events_key": "0200000000000000" + address,
        "sent_events_key": "0300000000000000" + address,
        "sequence_number": 1,
        "version": version,
        "role": {
            "type": "parent_vasp",
            "human_name": "wallet",
            "base_url": "http://localhost:1234",
            "compliance_key": "22" * 32,
            "expiration_time": 18446744073709551615,
            "num_children": 1,
            "compliance_key_rotation_events_key": "0000000000000000" + address,
            "base_url_rotation_events_key": "0100000000000000" + address,
            "diem_id_domains": ["stub9e7b26b6fb12581f"],
        },
    }


def event_view(seq: int, version: int) -> dict[str, Any]:
    """A received payment on the parent's received stream."""
    return {
        "key": RECEIVED_KEY,
        "sequence_number": seq,
        "transaction_version": version,
        "data": {
            "type": "receivedpayment",
            "amount": {"amount": 1000 + seq, "currency": "XUS"},
            "sender": CHILD,
            "receiver": PARENT,
            "metadata": "",
        },
    }


def transaction_view(version: int) -> dict[str, Any]:
    """A block metadata transaction (enough for the SDK's parser)."""
    return {
        "version": version,
        "transaction": {"type": "blockmetadata", "timestamp_usecs": 1_600_000_000_000_000 + version},
        "hash": f"{version:064x}",
        "bytes": "00",
        "events": [],
        "vm_status": {"type": "executed"},
        "gas_used": 0,
    }


CURRENCIES = [
    {
        "code": "XUS",
        "scaling_factor": 1000000,
        "fractional_part": 100,
        "to_xdx_exchange_rate": 1.0,
        "mint_events_key": "0500000000000000" + "0000000000000000000000000a550c18",
        "burn_events_key": "0600000000000000" + "0000000000000000000000000a550c18",
        "preburn_events_key": "0700000000000000" + "0000000000000000000000000a550c18",
        "cancel_burn_events_key": "0800000000000000" + "0000000000000000000000000a550c18",
        "exchange_rate_update_events_key": "0900000000000000" + "0000000000000000000000000a550c18",
    },
    {
        "code": "XDX",
        "scaling_factor": 1000000,
        "fractional_part": 1000,
        "to_xdx_exchange_rate": 1.0,
        "mint_events_key": "0a00000000000000" + "0000000000000000000000000a550c18",
        "burn_events_key": "0b00000000000000" + "0000000000000000000000000a550c18",
        "preburn_events_key": "0c00000000000000" + "0000000000000000000000000a550c18",
        "cancel_burn_events_key": "0d00000000000000" + "0000000000000000000000000a550c18",
        "exchange_rate_update_events_key": "0e00000000000000" + "0000000000000000000000000a550c18",
    },
]


class FakeService:
    """Implements ApiBackend in memory; records calls; ``crash`` names methods that raise."""

    def __init__(self) -> None:
        self.ledger = LedgerState(chain_id=CHAIN_ID, version=100, timestamp_usecs=1_600_000_000_000_000)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.crash: set[str] = set()
        self.submitted: list[bytes] = []
        self.reject_submit: errors.JsonRpcError | None = None
        self.events = [event_view(seq, 10 + seq) for seq in range(5)]
        self.ledger_reads = 0

    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if name in self.crash:
            raise RuntimeError(f"{name} exploded")

    def ledger_state(self) -> LedgerState:
        self.ledger_reads += 1
        if "ledger_state" in self.crash:
            raise RuntimeError("db down")
        return self.ledger

    def get_metadata(self, version: int | None) -> Any:
        self._call("get_metadata", version)
        view = {
            "version": self.ledger.version if version is None else version,
            "timestamp": self.ledger.timestamp_usecs,
            "chain_id": CHAIN_ID,
            "accumulator_root_hash": "ab" * 32,
        }
        if version is None:
            view |= {
                "dual_attestation_limit": 1000000000,
                "script_hash_allow_list": [],
                "module_publishing_allowed": False,
                "diem_version": 1,
            }
        return view

    def get_currencies(self) -> Any:
        self._call("get_currencies")
        return CURRENCIES

    def get_account(self, address: bytes, version: int | None) -> Any:
        self._call("get_account", address, version)
        if address.hex() == PARENT:
            return account_view(PARENT, self.ledger.version if version is None else version)
        return None

    def get_account_transaction(self, address: bytes, seq: int, include_events: bool) -> Any:
        self._call("get_account_transaction", address, seq, include_events)
        return None

    def get_account_transactions(self, address: bytes, start_seq: int, limit: int, include_events: bool) -> Any:
        self._call("get_account_transactions", address, start_seq, limit, include_events)
        return []

    def get_transactions(self, start_version: int, limit: int, include_events: bool) -> Any:
        self._call("get_transactions", start_version, limit, include_events)
        end = min(start_version + limit, self.ledger.version + 1)
        return [transaction_view(v) for v in range(start_version, end)]

    def get_events(self, key: bytes, start_seq: int, limit: int) -> Any:
        self._call("get_events", key, start_seq, limit)
        if key.hex() != RECEIVED_KEY:
            return []
        return self.events[start_seq : start_seq + limit]

    async def submit(self, signed_txn: bytes) -> None:
        self._call("submit", signed_txn)
        await asyncio.sleep(0)
        if self.reject_submit is not None:
            raise self.reject_submit
        self.submitted.append(signed_txn)

    def get_state_proof(self, version: int) -> Any:
        self._call("get_state_proof", version)
        return {"ledger_info_with_signatures": "00", "epoch_change_proof": "00", "ledger_consistency_proof": "00"}

    def get_account_state_with_proof(self, address: bytes, version: int | None, ledger_version: int | None) -> Any:
        self._call("get_account_state_with_proof", address, version, ledger_version)
        return {"version": self.ledger.version, "blob": None, "proof": {}}

    def get_transactions_with_proofs(self, start_version: int, limit: int, include_events: bool) -> Any:
        self._call("get_transactions_with_proofs", start_version, limit, include_events)
        return None

    def get_account_transactions_with_proofs(
        self, address: bytes, start_seq: int, limit: int, include_events: bool, ledger_version: int | None
    ) -> Any:
        self._call("get_account_transactions_with_proofs", address, start_seq, limit, include_events, ledger_version)
        return {"serialized_txns_with_proofs": []}

    def get_events_with_proofs(self, key: bytes, start_seq: int, limit: int) -> Any:
        self._call("get_events_with_proofs", key, start_seq, limit)
        return []

    def get_event_by_version_with_proof(self, key: bytes, version: int | None) -> Any:
        self._call("get_event_by_version_with_proof", key, version)
        return {"event_with_proof": None}

    def get_accumulator_consistency_proof(self, client_known_version: int | None, ledger_version: int | None) -> Any:
        self._call("get_accumulator_consistency_proof", client_known_version, ledger_version)
        return {"ledger_consistency_proof": "00"}

    def get_network_status(self) -> Any:
        self._call("get_network_status")
        return 3


async def rpc(client: TestClient, method: str, params: Any = None, *, request_id: Any = 1) -> dict[str, Any]:
    """POST one request to /v1; assert HTTP 200 and return the decoded response."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = params
    response = await client.post("/v1", json=body)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    return await response.json()


async def post_raw(client: TestClient, data: bytes | str, path: str = "/v1") -> tuple[int, Any]:
    response = await client.post(path, data=data, headers={"Content-Type": "application/json"})
    return response.status, await response.json(content_type=None)


def signed_txn_hex(sequence_number: int = 0) -> str:
    """Hex of a real SignedTransaction built and signed by the official SDK."""
    account = testing.LocalAccount.generate()
    script = stdlib.encode_peer_to_peer_with_metadata_script(
        currency=utils.currency_code("XUS"),
        payee=utils.account_address(PARENT),
        amount=1000,
        metadata=b"",
        metadata_signature=b"",
    )
    payload = diem_types.TransactionPayload__Script(value=script)
    return account.create_signed_txn(sequence_number, payload).bcs_serialize().hex()
