"""The contract between the JSON-RPC transport and the node: what a backend must provide.

The transport (dispatcher/server) parses and validates requests, then calls one
method of a backend per JSON-RPC method with typed Python values. The backend
returns JSON-ready values (dicts, lists, str, int, float, bool, None) shaped as
Diem's views, or raises :class:`libra.api.errors.JsonRpcError` (use the helpers
in ``errors.py``). Any other exception becomes ``-32000 Server error``.

Rules the transport has already enforced before a backend method runs:

* addresses are 16 raw bytes, event keys 24 raw bytes, ``signed_txn`` bytes are a
  strictly decodable BCS ``SignedTransaction``;
* integers are in u64 range, booleans are real booleans;
* list ``limit`` is at most the page size limit (1000);
* an explicit ``version``/``ledger_version`` is at most ``ledger_state().version``
  read for this request, and ``version <= ledger_version`` /
  ``client_known_version <= ledger_version`` where both apply.

``None`` for a version means "latest committed". The backend should answer from a
state no older than the ``ledger_state()`` the transport read for the envelope, so
that clients never see data older than the version in the envelope. Ranges that
start past the tip answer empty (``[]``), unknown accounts/transactions ``None``.

Methods may be plain or ``async def`` (the dispatcher awaits awaitables); they run
on the event loop, so a backend doing slow blocking work should offload it itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, runtime_checkable

#: A value ``json.dumps`` accepts: dict/list/str/int/float/bool/None, nested.
JsonValue: TypeAlias = Any


@dataclass(frozen=True, slots=True)
class JsonText:
    """A result already written as JSON text: exactly what the dispatcher's ``encode_json``
    would write for the value it stands for (the native views write whole pages this way)."""

    text: str


@dataclass(frozen=True, slots=True)
class LedgerState:
    """What every response's envelope reports: chain id and the latest committed ledger info."""

    chain_id: int
    version: int
    timestamp_usecs: int


@runtime_checkable
class ApiBackend(Protocol):
    """Everything the JSON-RPC API asks of the node, one method per Diem method."""

    def ledger_state(self) -> LedgerState:
        """Chain id, latest committed version and its timestamp (µs); read once per HTTP request."""
        ...

    def get_metadata(self, version: int | None) -> JsonValue:
        """Metadata view at ``version`` (None: latest, with the latest-only fields filled)."""
        ...

    def get_currencies(self) -> JsonValue:
        """List of CurrencyInfo views."""
        ...

    def get_account(self, address: bytes, version: int | None) -> JsonValue:
        """Account view at ``version`` (None: latest), or None if no account lives there."""
        ...

    def get_account_transaction(self, address: bytes, seq: int, include_events: bool) -> JsonValue:
        """Transaction view sent by ``address`` with sequence number ``seq``, or None."""
        ...

    def get_account_transactions(
        self, address: bytes, start_seq: int, limit: int, include_events: bool
    ) -> JsonValue:
        """Up to ``limit`` transaction views sent by ``address`` from ``start_seq``, ascending."""
        ...

    def get_transactions(self, start_version: int, limit: int, include_events: bool) -> JsonValue:
        """Up to ``limit`` transaction views from ``start_version``; ``[]`` past the tip."""
        ...

    def get_events(self, key: bytes, start_seq: int, limit: int) -> JsonValue:
        """Up to ``limit`` event views of stream ``key`` from sequence ``start_seq``, ascending."""
        ...

    async def submit(self, signed_txn: bytes) -> None:
        """Hand a BCS ``SignedTransaction`` to mempool and wait for admission.

        Return None when accepted; raise ``vm_error``/``mempool_*`` errors otherwise.
        """
        ...

    def get_state_proof(self, version: int) -> JsonValue:
        """StateProof view from the client's known ``version`` to the latest ledger info."""
        ...

    def get_account_state_with_proof(
        self, address: bytes, version: int | None, ledger_version: int | None
    ) -> JsonValue:
        """AccountStateWithProof view (None versions: latest)."""
        ...

    def get_transactions_with_proofs(
        self, start_version: int, limit: int, include_events: bool
    ) -> JsonValue:
        """TransactionsWithProofs view, or None past the tip."""
        ...

    def get_account_transactions_with_proofs(
        self,
        address: bytes,
        start_seq: int,
        limit: int,
        include_events: bool,
        ledger_version: int | None,
    ) -> JsonValue:
        """AccountTransactionsWithProof view proved against ``ledger_version`` (None: latest)."""
        ...

    def get_events_with_proofs(self, key: bytes, start_seq: int, limit: int) -> JsonValue:
        """List of EventWithProof views."""
        ...

    def get_event_by_version_with_proof(self, key: bytes, version: int | None) -> JsonValue:
        """EventByVersionWithProof view: the latest event of ``key`` at or below ``version``."""
        ...

    def get_accumulator_consistency_proof(
        self, client_known_version: int | None, ledger_version: int | None
    ) -> JsonValue:
        """AccumulatorConsistencyProof view from ``client_known_version`` (None: pre-genesis)."""
        ...

    def get_network_status(self) -> JsonValue:
        """Number of connected peers (an integer)."""
        ...
