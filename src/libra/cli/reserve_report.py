"""Proof of reserve: a self-contained report anyone can check, from a node or offline.

What is proved, and how (``verify_report``):

1. the genesis waypoint (trusted: published with the network, or derived from its genesis
   file) is the hash of the genesis epoch boundary, which names epoch 1's validator set;
   each epoch-ending ledger info after it is signed by a quorum of the set the previous
   one names; the latest ledger info is signed by a quorum of the current set
   (``libra.client.waypoint``);
2. Diem Root's account blob at version V is in the state tree whose root the transaction
   info at V records, and that transaction info is in the signed accumulator
   (``libra.client.verifier.verify_account_state``);
3. every figure is read from that proven blob: per currency ``CurrencyInfo`` (supply,
   preburn) and ``Reserve::Attestation`` (reserve, as-of time, report hash, attester);
   the chain id and the chain's clock at V.

The file holds the proofs (BCS hex) and the figures they prove. It is canonical JSON
(sorted keys, two-space indent, ASCII, one final newline): a file that is not byte for
byte its own canonical form is refused, so any changed byte either changes a proof or a
figure (which then fails) or breaks the form (which fails too).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from libra.bcs import BcsError, Deserializer
from libra.client.verifier import VerificationError, verify_account_state
from libra.client.wallet_rpc import WalletRpc
from libra.client.waypoint import EpochBoundary, Waypoint, verify_from_waypoint
from libra.framework.resources import CHAIN_ID, CURRENT_TIME
from libra.framework.state import BlockState, InMemoryStateView
from libra.framework.views import ReserveView, get_reserve_views
from libra.types.ledger import LedgerInfoWithSignatures, TransactionInfo
from libra.types.move import DIEM_ROOT_ADDRESS
from libra.types.proof import (
    AccountStateProof,
    AccountStateWithProof,
    AccumulatorProof,
    EpochChangeProof,
    SparseMerkleProof,
    TransactionInfoWithProof,
)

REPORT_FORMAT = "libra-proof-of-reserve/1"


class ReportError(ValueError):
    """A report that cannot be built or does not verify; the message says what failed."""


@dataclass(frozen=True, slots=True)
class CurrencyFigures:
    currency: str
    scaling_factor: int
    supply: int
    preburn: int
    reserve: int | None
    as_of_usecs: int | None
    report_hash: str | None
    attester: str | None
    coverage_percent: str | None  # reserve / supply, floored to 0.01 %; None without supply
    covered: bool


@dataclass(frozen=True, slots=True)
class ReserveFigures:
    chain_id: int
    version: int
    timestamp_usecs: int  # the chain's clock at ``version``
    ledger_version: int
    ledger_timestamp_usecs: int
    epoch: int
    signers: int
    currencies: tuple[CurrencyFigures, ...]

    @property
    def covered(self) -> bool:
        return all(c.covered for c in self.currencies)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["currencies"] = [asdict(c) for c in self.currencies]
        return data


def coverage_percent(reserve: int | None, supply: int) -> str | None:
    """``reserve / supply`` as a percentage floored to two decimals, in integers (never overstated)."""
    if supply == 0:
        return None
    basis_points = (reserve or 0) * 10_000 // supply
    return f"{basis_points // 100}.{basis_points % 100:02d}"


def _currency_figures(view: ReserveView) -> CurrencyFigures:
    return CurrencyFigures(
        currency=view.code,
        scaling_factor=view.scaling_factor,
        supply=view.total_value,
        preburn=view.preburn_value,
        reserve=view.reserve,
        as_of_usecs=view.as_of_usecs,
        report_hash=view.report_hash.hex() if view.report_hash is not None else None,
        attester=view.attester.hex() if view.attester is not None else None,
        coverage_percent=coverage_percent(view.reserve, view.total_value),
        covered=view.is_covered,
    )


@dataclass(frozen=True, slots=True)
class ReserveProofs:
    """What a report carries: the waypoint's epoch boundary, the epoch-ending ledger infos
    after it, the latest signed ledger info and Diem Root's state with its proof."""

    boundary: EpochBoundary
    epochs: EpochChangeProof
    ledger_info: LedgerInfoWithSignatures
    root_state: AccountStateWithProof


def prove_figures(waypoint: Waypoint, proofs: ReserveProofs) -> ReserveFigures:
    """Rules 1–3 of the module docstring; raises VerificationError at the first failure."""
    ledger_info, root_state = proofs.ledger_info, proofs.root_state
    verify_from_waypoint(waypoint, proofs.boundary, proofs.epochs, ledger_info)
    info = ledger_info.ledger_info
    blob = verify_account_state(info, DIEM_ROOT_ADDRESS.value, root_state)
    if blob is None:
        raise VerificationError(f"Diem Root has no account at version {root_state.version}")
    view = InMemoryStateView({DIEM_ROOT_ADDRESS: blob})
    try:
        state = BlockState(view)
        chain, clock = state.read(DIEM_ROOT_ADDRESS, CHAIN_ID), state.read(DIEM_ROOT_ADDRESS, CURRENT_TIME)
        reserves = get_reserve_views(view)
    except (BcsError, ValueError) as exc:
        raise VerificationError(f"Diem Root's proven state does not decode: {exc}") from None
    if chain is None or clock is None:
        raise VerificationError("Diem Root's proven state has no chain id or clock")
    return ReserveFigures(
        chain_id=chain.id,
        version=root_state.version,
        timestamp_usecs=clock.microseconds,
        ledger_version=info.version,
        ledger_timestamp_usecs=info.timestamp_usecs,
        epoch=info.epoch,
        signers=len(ledger_info.signatures),
        currencies=tuple(_currency_figures(r) for r in reserves),
    )


# --- the file --------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> bytes:
    """The canonical bytes of a report."""
    return (json.dumps(report, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def build_report(waypoint: Waypoint, proofs: ReserveProofs) -> tuple[dict[str, Any], ReserveFigures]:
    """Verify the proofs, then put them and what they prove in one report."""
    figures = prove_figures(waypoint, proofs)
    report = {
        "format": REPORT_FORMAT,
        "waypoint": str(waypoint),
        "proofs": {
            "waypoint_epoch_boundary": proofs.boundary.to_bcs().hex(),
            "epoch_change_proof": proofs.epochs.to_bcs().hex(),
            "ledger_info_with_signatures": proofs.ledger_info.to_bcs().hex(),
            "diem_root_state_with_proof": proofs.root_state.to_bcs().hex(),
        },
        "figures": figures.to_json(),
    }
    return report, figures


def _field(mapping: Any, name: str, kind: type) -> Any:
    if not isinstance(mapping, dict) or not isinstance(mapping.get(name), kind):
        raise ReportError(f"the report has no {kind.__name__} field {name!r}")
    return mapping[name]


def _decode(text: str, decode: Any, what: str) -> Any:
    try:
        return decode(bytes.fromhex(text))
    except (ValueError, BcsError) as exc:
        raise ReportError(f"{what} does not decode: {exc}") from None


def verify_report(data: bytes, trusted: Waypoint | None = None) -> tuple[ReserveFigures, Waypoint]:
    """Check a report file offline; returns what it proves and the waypoint it starts from.

    ReportError for a file that is not a canonical report, whose waypoint is not the trusted
    one, whose proofs fail, or whose figures are not the ones the proofs give.
    """
    try:
        report = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReportError(f"not a report file (JSON): {exc}") from None
    if not isinstance(report, dict) or report.get("format") != REPORT_FORMAT:
        raise ReportError(f"not a {REPORT_FORMAT} report")
    if render(report) != data:
        raise ReportError("the file is not in canonical form (changed after it was written?)")
    try:
        waypoint = Waypoint.parse(_field(report, "waypoint", str))
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    if trusted is not None and waypoint != trusted:
        raise ReportError(f"the report starts from waypoint {waypoint}, not the trusted {trusted}")
    parts = _field(report, "proofs", dict)
    if set(parts) != {"waypoint_epoch_boundary", "epoch_change_proof", "ledger_info_with_signatures", "diem_root_state_with_proof"}:
        raise ReportError("the report's proofs are not the four a report holds")
    proofs = ReserveProofs(
        _decode(_field(parts, "waypoint_epoch_boundary", str), EpochBoundary.from_bcs, "the epoch boundary"),
        _decode(_field(parts, "epoch_change_proof", str), EpochChangeProof.from_bcs, "the epoch change proof"),
        _decode(_field(parts, "ledger_info_with_signatures", str), LedgerInfoWithSignatures.from_bcs, "the ledger info"),
        _decode(_field(parts, "diem_root_state_with_proof", str), AccountStateWithProof.from_bcs, "Diem Root's state proof"),
    )
    if set(report) != {"format", "waypoint", "proofs", "figures"}:
        raise ReportError("the report holds fields a report does not have")
    try:
        figures = prove_figures(waypoint, proofs)
    except VerificationError as exc:
        raise ReportError(f"a proof fails: {exc}") from None
    if figures.to_json() != report.get("figures"):
        raise ReportError("the figures are not the ones the proofs give")
    return figures, waypoint


# --- fetching from a node ----------------------------------------------------------------------


def _account_state_from_json(view: dict[str, Any]) -> AccountStateWithProof:
    """Diem's ``AccountStateWithProofView`` (hex BCS parts) as our type."""
    blob = None
    if view.get("blob") is not None:
        deserializer = Deserializer(bytes.fromhex(view["blob"]))
        blob = deserializer.bytes("AccountStateBlob")
        deserializer.finish()
    proof = view["proof"]
    return AccountStateWithProof(
        int(view["version"]),
        blob,
        AccountStateProof(
            TransactionInfoWithProof(
                AccumulatorProof.from_bcs(bytes.fromhex(proof["ledger_info_to_transaction_info_proof"])),
                TransactionInfo.from_bcs(bytes.fromhex(proof["transaction_info"])),
            ),
            SparseMerkleProof.from_bcs(bytes.fromhex(proof["transaction_info_to_account_proof"])),
        ),
    )


def proofs_after_waypoint(
    waypoint: Waypoint, epochs: EpochChangeProof, ledger_info: LedgerInfoWithSignatures, root_state: AccountStateWithProof
) -> ReserveProofs:
    """A node's epoch-change proof from the waypoint's version starts with the waypoint's own
    ledger info: keep its boundary (what the waypoint hashes) and the ledger infos after it."""
    chain = epochs.ledger_info_with_sigs
    if not chain or chain[0].ledger_info.version != waypoint.version or not chain[0].ledger_info.ends_epoch:
        raise VerificationError(f"the epoch change proof does not start at the waypoint's version {waypoint.version}")
    boundary = EpochBoundary.of(chain[0].ledger_info)
    return ReserveProofs(boundary, EpochChangeProof(chain[1:], epochs.more), ledger_info, root_state)


def fetch_report(rpc: WalletRpc, waypoint: Waypoint, version: int | None) -> tuple[dict[str, Any], ReserveFigures]:
    """Ask a node for the proofs (the latest signed ledger info; Diem Root at ``version``,
    default that ledger info's) and build a verified report. The node is not trusted."""
    try:
        state_proof = rpc.call("get_state_proof", waypoint.version)
        ledger_info = LedgerInfoWithSignatures.from_bcs(bytes.fromhex(state_proof["ledger_info_with_signatures"]))
        epochs = EpochChangeProof.from_bcs(bytes.fromhex(state_proof["epoch_change_proof"]))
        ledger_version = ledger_info.ledger_info.version
        at = ledger_version if version is None else version
        if at > ledger_version:
            raise ReportError(f"version {at} is after the node's latest signed version {ledger_version}")
        view = rpc.call("get_account_state_with_proof", DIEM_ROOT_ADDRESS.hex(), at, ledger_version)
        root_state = _account_state_from_json(view)
    except (KeyError, TypeError, ValueError, BcsError) as exc:
        if isinstance(exc, ReportError):
            raise
        raise ReportError(f"the node's answer is not a proof: {exc}") from None
    try:
        return build_report(waypoint, proofs_after_waypoint(waypoint, epochs, ledger_info, root_state))
    except VerificationError as exc:
        raise ReportError(f"a proof from the node fails: {exc}") from None


def genesis_waypoint(genesis_file: Path) -> Waypoint:
    """The waypoint of a network's genesis, computed from its genesis file alone: the genesis
    transaction is applied to an empty in-memory store and its ledger info (version 0) hashed."""
    from libra.node.genesis import read_genesis
    from libra.node.ledger import Ledger
    from libra.storage.libradb import LibraDB

    genesis = read_genesis(genesis_file)
    db = LibraDB.in_memory()
    Ledger(db, 0).bootstrap(genesis)
    latest = db.get_latest_ledger_info()
    assert latest is not None
    return Waypoint.of(latest.ledger_info)
