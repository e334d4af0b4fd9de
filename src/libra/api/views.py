"""Pure renderers of Diem JSON-RPC views (diem-protocol.md §4, §14; Diem's ``views.rs``).

Each function turns typed values (framework views, stored events, transaction
infos, proofs) into the JSON object Diem's JSON-RPC server emits, with Diem's key
order and formats:

* byte strings are lowercase hex without ``0x``; addresses 32 hex, event keys 48 hex;
* ``None`` renders as JSON ``null`` where Diem keeps the key with an ``Option`` value,
  and the key is left out where Diem skips ``None`` (``skip_serializing_if``);
* proofs are the hex of their BCS, exactly as Diem's ``*WithProofView`` types.

The ``transaction`` data object of a Transaction view comes from
:mod:`libra.api.transaction_views`; VM statuses from :func:`libra.framework.errors.vm_status_json`.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from libra.api.transaction_views import transaction_data_view
from libra.bcs import Serializer
from libra.crypto.hashing import transaction_hash
from libra.framework import events as ev
from libra.framework.errors import (
    vm_status_json,
)
from libra.framework.kept_status import kept_status
from libra.framework.views import AccountView, ChainView, CurrencyView, PreburnView
from libra.storage.libradb import StoredEvent
from libra.types.ledger import (
    KeptVMStatus,
    TransactionInfo,
)
from libra.types.proof import (
    AccountStateWithProof,
    AccumulatorConsistencyProof,
    EpochChangeProof,
    EventWithProof,
    StateProof,
    TransactionInfoWithProof,
    TransactionListWithProof,
)
from libra.types.transaction import Transaction, transaction_to_bcs
from libra.types.write_set import ContractEvent

JsonObject = dict[str, Any]


def _text(data: bytes) -> str:
    """A Move ``vector<u8>`` shown as a string (Diem holds these as UTF-8 ``String``)."""
    return data.decode("utf-8", errors="replace")


def _f32(value: float) -> float:
    """``value`` rounded to the nearest IEEE single (ties to even)."""
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


def _u64_as_f32(value: int) -> float:
    """Rust's ``value as f32`` for a u64 (one rounding to 24 significant bits, ties to even)."""
    shift = value.bit_length() - 24
    if shift <= 0:
        return float(value)
    quotient, remainder = divmod(value, 1 << shift)
    half = 1 << (shift - 1)
    if remainder > half or (remainder == half and quotient & 1):
        quotient += 1
    return float(quotient << shift)


def _f32_json(value: float) -> float:
    """The float whose JSON text is the shortest that reads back as the f32 ``value`` (serde's f32 output)."""
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if _f32(candidate) == value:
            return candidate
    return value


def fixed_point32_rate(raw: int) -> float:
    """Diem's ``CurrencyInfoResource::exchange_rate``: ``(raw as f32) / 2^32``, shown as an f32."""
    return _f32_json(_u64_as_f32(raw) / 2**32)


def event_rate(raw: int) -> float:
    """Diem's ``ToXDXExchangeRateUpdateEvent::new_to_xdx_exchange_rate``: the f32 rate rounded to 2 decimals."""
    unrounded = _u64_as_f32(raw) / 2**32
    hundredths = _f32(unrounded * 100.0)
    rounded = float(math.floor(hundredths + 0.5))  # f32::round (half away from zero) of a non-negative value
    return _f32_json(_f32(rounded / 100.0))


def amount_json(amount: int, currency: str) -> JsonObject:
    """Diem's ``AmountView``: ``{amount, currency}``."""
    return {"amount": amount, "currency": currency}


# --------------------------------------------------------------------------- accounts


def _preburn_json(preburn: PreburnView, currency: str) -> JsonObject:
    return {"preburn": amount_json(preburn.amount, currency), "metadata": preburn.metadata.hex()}


def account_role_json(view: AccountView) -> JsonObject:
    """Diem's ``AccountRoleView``, chosen by the resources the account holds, as Diem does.

    ParentVASP + Credential → ``parent_vasp``; ChildVASP → ``child_vasp``; DesignatedDealer
    + Credential → ``designated_dealer``; DiemIdDomainManager → ``treasury_compliance``;
    anything else (Diem root, validators, operators) → ``unknown``.
    """
    credential = view.credential
    if view.num_children is not None and credential is not None:
        return {
            "type": "parent_vasp",
            "human_name": _text(credential.human_name),
            "base_url": _text(credential.base_url),
            "expiration_time": credential.expiration_time,
            "compliance_key": credential.compliance_key.hex(),
            "num_children": view.num_children,
            "compliance_key_rotation_events_key": credential.compliance_key_rotation_events_key.value.hex(),
            "base_url_rotation_events_key": credential.base_url_rotation_events_key.value.hex(),
            "diem_id_domains": None if view.diem_id_domains is None else [_text(d) for d in view.diem_id_domains],
        }
    if view.parent_vasp_address is not None:
        return {"type": "child_vasp", "parent_vasp_address": view.parent_vasp_address.hex()}
    if view.received_mint_events_key is not None and credential is not None:
        return {
            "type": "designated_dealer",
            "human_name": _text(credential.human_name),
            "base_url": _text(credential.base_url),
            "expiration_time": credential.expiration_time,
            "compliance_key": credential.compliance_key.hex(),
            "preburn_balances": [amount_json(amount, code) for code, amount in view.preburn_balances],
            "received_mint_events_key": view.received_mint_events_key.value.hex(),
            "compliance_key_rotation_events_key": credential.compliance_key_rotation_events_key.value.hex(),
            "base_url_rotation_events_key": credential.base_url_rotation_events_key.value.hex(),
            "preburn_queues": [
                {"currency": code, "preburns": [_preburn_json(p, code) for p in queue]}
                for code, queue in view.preburn_queues
            ],
        }
    if view.diem_id_domain_events_key is not None:
        return {"type": "treasury_compliance", "diem_id_domain_events_key": view.diem_id_domain_events_key.value.hex()}
    return {"type": "unknown"}


def account_view_json(view: AccountView, version: int) -> JsonObject:
    """Diem's ``AccountView`` (``get_account``) of the account state at ``version``.

    ``delegated_withdrawal_capability`` comes before ``is_frozen``: the SDK's protobuf
    parses both keys into ``is_frozen`` and the last one wins (diem-protocol.md §2).
    """
    return {
        "address": view.address.hex(),
        "balances": [amount_json(amount, code) for code, amount in sorted(view.balances)],
        "sequence_number": view.sequence_number,
        "authentication_key": view.authentication_key.hex(),
        "sent_events_key": view.sent_events_key.value.hex(),
        "received_events_key": view.received_events_key.value.hex(),
        "delegated_key_rotation_capability": view.delegated_key_rotation_capability,
        "delegated_withdrawal_capability": view.delegated_withdrawal_capability,
        "is_frozen": view.is_frozen,
        "role": account_role_json(view),
        "version": version,
    }


# --------------------------------------------------------------------------- chain


def currency_json(view: CurrencyView) -> JsonObject:
    """Diem's ``CurrencyInfoView`` (one entry of ``get_currencies``); the rate is an f32 as a JSON number."""
    return {
        "code": view.code,
        "scaling_factor": view.scaling_factor,
        "fractional_part": view.fractional_part,
        "to_xdx_exchange_rate": fixed_point32_rate(view.to_xdx_exchange_rate_raw),
        "mint_events_key": view.mint_events_key.value.hex(),
        "burn_events_key": view.burn_events_key.value.hex(),
        "preburn_events_key": view.preburn_events_key.value.hex(),
        "cancel_burn_events_key": view.cancel_burn_events_key.value.hex(),
        "exchange_rate_update_events_key": view.exchange_rate_update_events_key.value.hex(),
    }


def metadata_json(
    chain: ChainView, version: int, timestamp: int, accumulator_root: bytes, *, latest: bool
) -> JsonObject:
    """Diem's ``MetadataView`` (``get_metadata``).

    ``timestamp`` is the block timestamp (µs) of ``version``; ``chain`` is read from the
    state at ``version``. Diem fills the on-chain configs only for the latest version
    (null otherwise).
    """
    return {
        "version": version,
        "accumulator_root_hash": accumulator_root.hex(),
        "timestamp": timestamp,
        "chain_id": chain.chain_id,
        "script_hash_allow_list": [h.hex() for h in chain.script_hash_allow_list] if latest else None,
        "module_publishing_allowed": chain.module_publishing_allowed if latest else None,
        "diem_version": chain.diem_version if latest else None,
        "dual_attestation_limit": chain.dual_attestation_limit if latest else None,
    }


# --------------------------------------------------------------------------- events


def _code(currency_code: bytes) -> str:
    return currency_code.decode("ascii", errors="replace")


def _unknown_event(event: ContractEvent) -> JsonObject:
    return {"type": "unknown", "bytes": event.event_data.hex()}


def event_data_json(event: ContractEvent) -> JsonObject:
    """Diem's ``EventDataView``, tagged by ``type``.

    Payment events name both parties: the other party comes from the payload, the
    event's own account from the event key. Events Diem has no view for (e.g.
    freeze/unfreeze), undecodable payloads and base URLs that are not UTF-8 render
    as ``unknown`` with the raw ``bytes``.
    """
    data = ev.decode_event_data(event.type_tag, event.event_data)
    if data is None:
        return _unknown_event(event)
    owner = event.key.address.hex()
    match data:
        case ev.ReceivedPaymentEvent():
            return {
                "type": "receivedpayment",
                "amount": amount_json(data.amount, _code(data.currency_code)),
                "sender": data.payer.hex(),
                "receiver": owner,
                "metadata": data.metadata.hex(),
            }
        case ev.SentPaymentEvent():
            return {
                "type": "sentpayment",
                "amount": amount_json(data.amount, _code(data.currency_code)),
                "receiver": data.payee.hex(),
                "sender": owner,
                "metadata": data.metadata.hex(),
            }
        case ev.PreburnEvent() | ev.BurnEvent() | ev.CancelBurnEvent():
            name = {ev.PreburnEvent: "preburn", ev.BurnEvent: "burn", ev.CancelBurnEvent: "cancelburn"}[type(data)]
            return {
                "type": name,
                "amount": amount_json(data.amount, _code(data.currency_code)),
                "preburn_address": data.preburn_address.hex(),
            }
        case ev.ToXDXExchangeRateUpdateEvent():
            return {
                "type": "to_xdx_exchange_rate_update",
                "currency_code": _code(data.currency_code),
                "new_to_xdx_exchange_rate": event_rate(data.new_to_xdx_exchange_rate),
            }
        case ev.MintEvent():
            return {"type": "mint", "amount": amount_json(data.amount, _code(data.currency_code))}
        case ev.ReceivedMintEvent():
            return {
                "type": "receivedmint",
                "amount": amount_json(data.amount, _code(data.currency_code)),
                "destination_address": data.destination_address.hex(),
            }
        case ev.ComplianceKeyRotationEvent():
            return {
                "type": "compliancekeyrotation",
                "new_compliance_public_key": data.new_compliance_public_key.hex(),
                "time_rotated_seconds": data.time_rotated_seconds,
            }
        case ev.BaseUrlRotationEvent():
            try:
                url = data.new_base_url.decode("utf-8")
            except UnicodeDecodeError:
                return _unknown_event(event)
            return {"type": "baseurlrotation", "new_base_url": url, "time_rotated_seconds": data.time_rotated_seconds}
        case ev.NewBlockEvent():
            return {"type": "newblock", "round": data.round, "proposer": data.proposer.hex(), "proposed_time": data.time_microseconds}
        case ev.NewEpochEvent():
            return {"type": "newepoch", "epoch": data.epoch}
        case ev.CreateAccountEvent():
            return {"type": "createaccount", "created_address": data.created.hex(), "role_id": data.role_id}
        case ev.AdminTransactionEvent():
            return {"type": "admintransaction", "committed_timestamp_secs": data.committed_timestamp_secs}
        case ev.DiemIdDomainEvent():
            return {"type": "diemiddomain", "removed": data.removed, "domain": _text(data.domain), "address": data.address.hex()}
    return _unknown_event(event)


def event_json(event: StoredEvent | ContractEvent, transaction_version: int | None = None) -> JsonObject:
    """Diem's ``EventView``: ``{key, sequence_number, transaction_version, data}``.

    Takes a :class:`StoredEvent` (which knows its version) or a ``ContractEvent`` plus
    the version of the transaction that emitted it.
    """
    if isinstance(event, StoredEvent):
        version = event.version if transaction_version is None else transaction_version
        contract_event = ContractEvent.from_bcs(event.event_bytes)
    else:
        if transaction_version is None:
            raise ValueError("a ContractEvent needs the version of its transaction")
        version, contract_event = transaction_version, event
    return {
        "key": contract_event.key.value.hex(),
        "sequence_number": contract_event.sequence_number,
        "transaction_version": version,
        "data": event_data_json(contract_event),
    }


# --------------------------------------------------------------------------- transactions


def kept_vm_status_json(status: KeptVMStatus) -> JsonObject:
    """Diem's ``VMStatusView`` of a stored ``KeptVMStatus`` (via :func:`vm_status_json`)."""
    return vm_status_json(kept_status(status))


def transaction_json(
    version: int,
    transaction: Transaction,
    transaction_bytes: bytes | None,
    info: TransactionInfo,
    events: Iterable[StoredEvent | ContractEvent] = (),
    include_events: bool = False,
) -> JsonObject:
    """Diem's ``TransactionView``: ``{version, transaction, hash, bytes, events, vm_status, gas_used}``.

    ``transaction_bytes`` is the stored BCS of the ``Transaction`` enum (computed when
    None); ``events`` are rendered only when ``include_events`` (else ``[]``).
    """
    data = transaction_to_bcs(transaction) if transaction_bytes is None else transaction_bytes
    return {
        "version": version,
        "transaction": transaction_data_view(transaction, data),
        "hash": transaction_hash(data).hex(),
        "bytes": data.hex(),
        "events": [event_json(e, version) for e in events] if include_events else [],
        "vm_status": kept_vm_status_json(info.status),
        "gas_used": info.gas_used,
    }


# --------------------------------------------------------------------------- proofs


def state_proof_json(proof: StateProof) -> JsonObject:
    """Diem's ``StateProofView`` (``get_state_proof``): hex of each part's BCS."""
    return {
        "ledger_info_with_signatures": proof.ledger_info_with_signatures.to_bcs().hex(),
        "epoch_change_proof": proof.epoch_changes.to_bcs().hex(),
        "ledger_consistency_proof": proof.consistency_proof.to_bcs().hex(),
    }


def epoch_change_proof_json(proof: EpochChangeProof) -> str:
    """Hex of an ``EpochChangeProof``'s BCS."""
    return proof.to_bcs().hex()


def account_state_with_proof_json(proof: AccountStateWithProof) -> JsonObject:
    """Diem's ``AccountStateWithProofView`` (``get_account_state_with_proof``).

    ``blob`` is the BCS of ``AccountStateBlob`` (length-prefixed bytes) or null.
    """
    serializer = Serializer()
    blob = None
    if proof.blob is not None:
        serializer.bytes(proof.blob)
        blob = serializer.output().hex()
    inner = proof.proof.transaction_info_with_proof
    return {
        "version": proof.version,
        "blob": blob,
        "proof": {
            "ledger_info_to_transaction_info_proof": inner.ledger_info_to_transaction_info_proof.to_bcs().hex(),
            "transaction_info": inner.transaction_info.to_bcs().hex(),
            "transaction_info_to_account_proof": proof.proof.transaction_info_to_account_proof.to_bcs().hex(),
        },
    }


def transactions_with_proofs_json(proof: TransactionListWithProof) -> JsonObject | None:
    """Diem's ``TransactionsWithProofsView`` (``get_transactions_with_proofs``); None when empty.

    ``serialized_events`` (BCS of ``Vec<Vec<ContractEvent>>``) is present only when
    events were asked for.
    """
    if not proof.transactions:
        return None
    view: JsonObject = {"serialized_transactions": [t.hex() for t in proof.transactions]}
    if proof.events is not None:
        serializer = Serializer()
        serializer.sequence(proof.events, lambda s, events: s.sequence(events, Serializer.raw))
        view["serialized_events"] = serializer.output().hex()
    list_proof = proof.proof
    infos = Serializer()
    infos.sequence(list_proof.transaction_infos, lambda s, info: info.serialize(s))
    view["proofs"] = {
        "ledger_info_to_transaction_infos_proof": list_proof.ledger_info_to_transaction_infos_proof.to_bcs().hex(),
        "transaction_infos": infos.output().hex(),
    }
    return view


def transaction_with_proof_bcs(
    version: int,
    transaction_bytes: bytes,
    events: Sequence[bytes] | None,
    proof: TransactionInfoWithProof,
) -> bytes:
    """BCS of Diem's ``TransactionWithProof { version, transaction, events: Option<Vec<ContractEvent>>, proof }``."""
    serializer = Serializer()
    serializer.u64(version)
    serializer.raw(transaction_bytes)
    serializer.option(events, lambda s, items: s.sequence(items, Serializer.raw))
    proof.serialize(serializer)
    return serializer.output()


def account_transactions_with_proofs_json(transactions_with_proofs: Iterable[bytes]) -> JsonObject:
    """Diem's ``AccountTransactionsWithProofView``: ``{serialized_txns_with_proofs: [hex]}``.

    Items are :func:`transaction_with_proof_bcs` outputs, ascending by sequence number.
    """
    return {"serialized_txns_with_proofs": [t.hex() for t in transactions_with_proofs]}


def event_with_proof_json(proof: EventWithProof) -> JsonObject:
    """Diem's ``EventWithProofView``: ``{event_with_proof: hex(BCS)}`` (``get_events_with_proofs`` items)."""
    return {"event_with_proof": proof.to_bcs().hex()}


def events_with_proofs_json(proofs: Iterable[EventWithProof]) -> list[JsonObject]:
    """The ``get_events_with_proofs`` result."""
    return [event_with_proof_json(p) for p in proofs]


def event_by_version_with_proof_json(
    lower_bound_incl: EventWithProof | None, upper_bound_excl: EventWithProof | None
) -> JsonObject:
    """Diem's ``EventByVersionWithProofView``; absent bounds are left out (``{}`` when both are)."""
    view: JsonObject = {}
    if lower_bound_incl is not None:
        view["lower_bound_incl"] = event_with_proof_json(lower_bound_incl)
    if upper_bound_excl is not None:
        view["upper_bound_excl"] = event_with_proof_json(upper_bound_excl)
    return view


def accumulator_consistency_proof_json(proof: AccumulatorConsistencyProof) -> JsonObject:
    """Diem's ``AccumulatorConsistencyProofView``: ``{ledger_consistency_proof: hex(BCS)}``."""
    return {"ledger_consistency_proof": proof.to_bcs().hex()}

