"""The testnet faucet at ``POST /mint`` (diem-protocol.md §15), as Diem's ``mint.rs`` does it.

Query: ``amount`` (u64), ``auth_key`` (64 hex), ``currency_code``, ``return_txns``,
``is_designated_dealer``, ``is_remove_domain``, ``diem_id_domain`` (or ``vasp_domain``).

1. No account at the auth key's address: Treasury Compliance creates a parent VASP
   (or a designated dealer) with that auth key.
2. A domain given: TC adds it, or removes it with ``is_remove_domain=true``; skipped
   when the account already is in the asked state, so repeated calls are harmless.
3. The designated dealer 0xDD pays ``amount`` of the currency to the address.

Every transaction is committed and executed before the answer: the plain hex of
BCS ``Vec<SignedTransaction>`` in submission order (``return_txns=true``), or the
DD's next sequence number. Bad parameters get HTTP 400 with a sentence saying which;
a transaction that fails gets HTTP 500 with its status. Requests are served one at a
time so that TC's and DD's sequence numbers never collide.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from aiohttp import web

from libra.bcs import Serializer
from libra.client import builders
from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.framework.views import get_account_view, get_currency_views
from libra.node.ledger import CommittedTransaction
from libra.node.runtime import NodeRuntime
from libra.node.validator import wall_clock_usecs
from libra.types.move import TESTNET_DD_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress
from libra.types.transaction import ScriptFunction

log = logging.getLogger("libra.faucet")

FAUCET_EXPIRATION_SECS = 60
COMMIT_TIMEOUT_SECS = 30
_U64_MAX = (1 << 64) - 1
_DOMAIN = re.compile(r"^[A-Za-z0-9.]{1,63}$")


class FaucetRequestError(ValueError):
    """A faucet parameter that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class MintRequest:
    amount: int
    auth_key: bytes
    currency: str
    return_txns: bool
    is_designated_dealer: bool
    domain: str | None
    remove_domain: bool

    @property
    def address(self) -> AccountAddress:
        return AccountAddress(self.auth_key[16:])


def _flag(query: dict[str, str], name: str) -> bool:
    value = query.get(name, "false").lower()
    if value not in ("true", "false"):
        raise FaucetRequestError(f"{name} must be true or false, got {value!r}")
    return value == "true"


def parse_mint_request(query: dict[str, str], currencies: set[str]) -> MintRequest:
    text = query.get("amount")
    if text is None or not text.isdigit() or int(text) > _U64_MAX:
        raise FaucetRequestError(f"amount must be a whole number of micro-units (u64), got {text!r}")
    auth_key_hex = query.get("auth_key", "")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", auth_key_hex):
        raise FaucetRequestError(f"auth_key must be 64 hex characters, got {auth_key_hex!r}")
    currency = query.get("currency_code", "XUS")
    if currency not in currencies:
        raise FaucetRequestError(f"currency_code {currency!r} is not a registered currency ({', '.join(sorted(currencies))})")
    domain = query.get("diem_id_domain") or query.get("vasp_domain")
    if domain is not None and not _DOMAIN.match(domain):
        raise FaucetRequestError(f"diem_id_domain must be 1-63 letters, digits or dots, got {domain!r}")
    return MintRequest(
        amount=int(text),
        auth_key=bytes.fromhex(auth_key_hex),
        currency=currency,
        return_txns=_flag(query, "return_txns"),
        is_designated_dealer=_flag(query, "is_designated_dealer"),
        domain=domain,
        remove_domain=_flag(query, "is_remove_domain"),
    )


class Faucet:
    def __init__(self, runtime: NodeRuntime, tc_key: Ed25519PrivateKey, dd_key: Ed25519PrivateKey) -> None:
        self._runtime = runtime
        self._tc_key = tc_key
        self._dd_key = dd_key
        self._lock = asyncio.Lock()

    def _plan(self, request: MintRequest) -> list[tuple[Ed25519PrivateKey, AccountAddress, ScriptFunction]]:
        view = self._runtime.ledger.state_view()
        account = get_account_view(view, request.address)
        steps: list[tuple[Ed25519PrivateKey, AccountAddress, ScriptFunction]] = []
        tc, dd = TREASURY_COMPLIANCE_ADDRESS, TESTNET_DD_ADDRESS
        if account is None:
            create = builders.create_designated_dealer if request.is_designated_dealer else builders.create_parent_vasp_account
            name = b"faucet dealer" if request.is_designated_dealer else b"faucet vasp"
            steps.append((self._tc_key, tc, create(request.currency, 0, request.address, request.auth_key[:16], name)))
        if request.domain is not None:
            domains = set(account.diem_id_domains or ()) if account is not None else set()
            present = request.domain.encode() in domains
            if request.remove_domain and present:
                steps.append((self._tc_key, tc, builders.remove_diem_id_domain(request.address, request.domain.encode())))
            elif not request.remove_domain and not present:
                steps.append((self._tc_key, tc, builders.add_diem_id_domain(request.address, request.domain.encode())))
        if request.amount > 0:
            steps.append(
                (self._dd_key, dd, builders.peer_to_peer_with_metadata(request.currency, request.address, request.amount))
            )
        return steps

    async def mint(self, request: MintRequest) -> str:
        async with self._lock:
            view = self._runtime.ledger.state_view()
            next_seq: dict[AccountAddress, int] = {}
            expiration = wall_clock_usecs() // 1_000_000 + FAUCET_EXPIRATION_SECS
            submissions = []
            watchers: list[asyncio.Future[CommittedTransaction]] = []
            for key, sender, payload in self._plan(request):
                if sender not in next_seq:
                    sender_view = get_account_view(view, sender)
                    assert sender_view is not None, f"faucet account {sender} missing from genesis"
                    next_seq[sender] = sender_view.sequence_number
                submission = builders.sign_transaction(
                    key, sender, next_seq[sender], payload,
                    chain_id=self._runtime.chain_id, expiration_timestamp_secs=expiration,
                )
                next_seq[sender] += 1
                watchers.append(self._runtime.watch(submission.hash))
                admission = self._runtime.submit(submission.bcs)
                if not admission.accepted:
                    for watcher in watchers:
                        watcher.cancel()
                    reason = f"faucet transaction refused: {admission.vm_status or admission.status}"
                    log.warning("%s (sender %s, sequence number %d)", reason, sender, submission.transaction.sequence_number)
                    raise web.HTTPInternalServerError(text=reason)
                submissions.append(submission)
            done, pending = await asyncio.wait(watchers, timeout=COMMIT_TIMEOUT_SECS)
            for watcher in pending:
                watcher.cancel()
            if pending:
                raise TimeoutError
            for watcher in watchers:
                if watcher.result().status != "executed":
                    reason = f"faucet transaction failed: {watcher.result().status}"
                    log.warning(reason)
                    raise web.HTTPInternalServerError(text=reason)
            if not request.return_txns:
                return str(next_seq.get(TESTNET_DD_ADDRESS, self._dd_sequence_number()))
            serializer = Serializer()
            serializer.sequence([s.transaction for s in submissions], lambda s, t: t.serialize(s))
            return serializer.output().hex()

    def _dd_sequence_number(self) -> int:
        view = get_account_view(self._runtime.ledger.state_view(), TESTNET_DD_ADDRESS)
        return view.sequence_number if view is not None else 0

    async def handle(self, request: web.Request) -> web.Response:
        currencies = {c.code for c in get_currency_views(self._runtime.ledger.state_view())}
        try:
            mint_request = parse_mint_request(dict(request.query), currencies)
        except FaucetRequestError as exc:
            return web.Response(status=400, text=str(exc))
        try:
            body = await self.mint(mint_request)
        except TimeoutError:
            return web.Response(status=504, text="faucet transactions were not committed in time")
        return web.Response(text=body, content_type="text/plain")

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/mint", self.handle)]
