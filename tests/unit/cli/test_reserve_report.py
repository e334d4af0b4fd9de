"""Proof of reserve (cli/reserve_report.py, client/waypoint.py) over a real two-epoch ledger:
the report verifies from the genesis waypoint, offline; a changed byte anywhere, a foreign
waypoint, a ledger info without quorum or figures that are not the proven ones all fail."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "node"))

from epoch_chain import Key, Source, sign  # noqa: E402

from libra.api.views import account_state_with_proof_json  # noqa: E402
from libra.cli.main import cli  # noqa: E402
from libra.cli.reserve_report import (  # noqa: E402
    ReportError,
    ReserveProofs,
    _account_state_from_json,
    build_report,
    coverage_percent,
    genesis_waypoint,
    proofs_after_waypoint,
    render,
    verify_report,
)
from libra.client import builders  # noqa: E402
from libra.client.verifier import VerificationError  # noqa: E402
from libra.client.waypoint import EpochBoundary, Waypoint, verify_from_waypoint  # noqa: E402
from libra.framework.views import get_reserve_views  # noqa: E402
from libra.types.ledger import LedgerInfoWithSignatures  # noqa: E402
from libra.types.move import DIEM_ROOT_ADDRESS  # noqa: E402
from libra.types.proof import EpochChangeProof  # noqa: E402
from libra.types.transaction import transaction_to_bcs  # noqa: E402

REPORT = hashlib.sha3_256(b"custodian statement").digest()


@pytest.fixture(scope="module")
def source() -> Source:
    """Two epochs, then (in epoch 2) an attestation close to the supply and a mint up to it."""
    src = Source()
    chain = src.chain
    supply = get_reserve_views(src.ledger.state_view())[0].total_value
    dealer = Key.from_seed("dealer")
    signers = [*chain.validator_keys, src.newcomer]
    txns = [
        chain.sign_function(chain.tc_account, builders.create_designated_dealer("XUS", 0, dealer.address, dealer.prefix, b"dealer")),
        chain.sign_function(chain.tc_account, builders.attest_reserve("XUS", 0, supply + 5_000, chain.now, REPORT)),
        chain.sign_function(chain.tc_account, builders.tiered_mint("XUS", 0, dealer.address, 5_000)),
    ]
    src.block(txns, signers)
    return src


def proofs(src: Source, version: int | None = None) -> ReserveProofs:
    """What a node serves (get_state_proof(0), get_account_state_with_proof), as a report holds it."""
    db = src.ledger.db
    state_proof = db.get_state_proof(0)
    latest = state_proof.ledger_info_with_signatures
    at = latest.ledger_info.version if version is None else version
    root = db.get_account_state_with_proof(DIEM_ROOT_ADDRESS.value, at, latest.ledger_info.version)
    return proofs_after_waypoint(waypoint_of(src), state_proof.epoch_changes, latest, root)


def waypoint_of(src: Source) -> Waypoint:
    genesis = src.ledger.db.get_epoch_ending_ledger_info(0)
    return Waypoint.of(genesis.ledger_info)


def test_waypoint_text_form_and_the_genesis_file_gives_the_stores_waypoint(source, tmp_path):
    waypoint = waypoint_of(source)
    assert Waypoint.parse(str(waypoint)) == waypoint and str(waypoint).startswith("0:")
    genesis_file = tmp_path / "genesis.bcs"
    genesis_file.write_bytes(transaction_to_bcs(source.chain.genesis.transaction))
    assert genesis_waypoint(genesis_file) == waypoint
    for bad in ("0:" + "a" * 63, "x:" + "a" * 64, "0:" + "A" * 64, str(2**64) + ":" + "a" * 64):
        with pytest.raises(ValueError, match="a waypoint is VERSION:HASH"):
            Waypoint.parse(bad)


def test_report_proves_supply_and_reserve_and_verifies_offline(source):
    given = proofs(source)
    report, figures = build_report(waypoint_of(source), given)
    (xus,) = figures.currencies
    view = get_reserve_views(source.ledger.state_view())[0]
    assert (xus.supply, xus.reserve, xus.report_hash) == (view.total_value, view.reserve, REPORT.hex())
    assert xus.supply == xus.reserve and xus.covered and xus.coverage_percent == "100.00"
    assert (figures.epoch, figures.signers, figures.version) == (2, 3, given.ledger_info.ledger_info.version)
    data = render(report)
    assert verify_report(data, waypoint_of(source)) == (figures, waypoint_of(source))
    assert verify_report(data) == (figures, waypoint_of(source))  # from the file's own waypoint


def test_a_report_at_an_earlier_version_shows_that_versions_figures(source):
    given = proofs(source, version=2)
    _, figures = build_report(waypoint_of(source), given)
    assert figures.version == 2 and figures.ledger_version == given.ledger_info.ledger_info.version
    assert figures.currencies[0].reserve == (1 << 64) - 1  # the genesis attestation, before epoch 2's


def test_every_changed_byte_fails(source):
    data = render(build_report(waypoint_of(source), proofs(source))[0])
    # every byte of the file (a flip of one bit; a sweep found the fields a waypoint does not
    # hash, and the epoch proof's "more" flag, which the report therefore does not carry or refuses)
    for position in range(len(data)):
        changed = bytearray(data)
        changed[position] ^= 0x01
        with pytest.raises(ReportError):
            verify_report(bytes(changed))
    # whitespace or key order that parses the same is refused too
    with pytest.raises(ReportError, match="canonical"):
        verify_report(data.replace(b"\n", b"\r\n"))
    with pytest.raises(ReportError, match="canonical"):
        verify_report(json.dumps(json.loads(data)).encode())


def test_a_foreign_waypoint_or_a_ledger_info_without_quorum_fails(source):
    import dataclasses

    given = proofs(source)
    data = render(build_report(waypoint_of(source), given)[0])
    other = Waypoint(0, bytes(32))
    with pytest.raises(ReportError, match="not the trusted"):
        verify_report(data, other)
    with pytest.raises(VerificationError, match="does not match waypoint"):
        build_report(other, given)
    latest = given.ledger_info
    one_signer = sign(latest.ledger_info, [source.newcomer])
    with pytest.raises(VerificationError, match="quorum not reached"):
        build_report(waypoint_of(source), dataclasses.replace(given, ledger_info=one_signer))
    # epoch 2's ledger info cannot be trusted without the proof that epoch 1 ended
    with pytest.raises(VerificationError, match="ledger info of epoch 2, expected 1"):
        build_report(waypoint_of(source), dataclasses.replace(given, epochs=EpochChangeProof(())))
    with pytest.raises(VerificationError, match="incomplete"):
        build_report(waypoint_of(source), dataclasses.replace(given, epochs=EpochChangeProof(given.epochs.ledger_info_with_sigs, True)))
    # a proof of another account's state (the node swapping in other data) does not verify
    stranger = source.ledger.db.get_account_state_with_proof(source.newcomer.address.value, None, latest.ledger_info.version)
    with pytest.raises(VerificationError):
        build_report(waypoint_of(source), dataclasses.replace(given, root_state=stranger))


def test_figures_that_are_not_the_proven_ones_fail(source):
    report = build_report(waypoint_of(source), proofs(source))[0]
    report["figures"]["currencies"][0]["reserve"] += 1
    with pytest.raises(ReportError, match="not the ones the proofs give"):
        verify_report(render(report))
    report = build_report(waypoint_of(source), proofs(source))[0]
    latest = proofs(source).ledger_info
    report["proofs"]["ledger_info_with_signatures"] = LedgerInfoWithSignatures(latest.ledger_info, ()).to_bcs().hex()
    with pytest.raises(ReportError, match="a proof fails"):
        verify_report(render(report))


def test_the_nodes_json_view_of_a_state_proof_is_read_back_exactly(source):
    root = proofs(source).root_state
    assert _account_state_from_json(account_state_with_proof_json(root)) == root


def test_coverage_is_floored_and_never_overstated():
    assert coverage_percent(200, 100) == "200.00"
    assert coverage_percent(99_999, 100_000) == "99.99"
    assert coverage_percent(1, 3) == "33.33"
    assert coverage_percent(None, 5) == "0.00"
    assert coverage_percent(5, 0) is None


def test_cli_verify_accepts_the_file_and_refuses_one_changed_byte(source, tmp_path):
    path = tmp_path / "report.json"
    path.write_bytes(render(build_report(waypoint_of(source), proofs(source))[0]))
    result = CliRunner().invoke(cli, ["reserve", "verify", str(path), "--waypoint", str(waypoint_of(source))])
    assert result.exit_code == 0, result.output
    assert "verified: every figure is proved" in result.output and "100.00 %" in result.output
    data = bytearray(path.read_bytes())
    data[data.index(b'"supply": ') + 10] ^= 0x01
    path.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["reserve", "verify", str(path)])
    assert result.exit_code == 1 and "FAILED: the figures are not the ones the proofs give" in result.output


def test_cli_says_under_collateralised_and_exits_1(monkeypatch, source, tmp_path):
    import dataclasses

    from libra.cli import reserve as reserve_cli

    path = tmp_path / "report.json"
    path.write_bytes(render(build_report(waypoint_of(source), proofs(source))[0]))
    real = reserve_cli.verify_report

    def short(data, trusted):  # type: ignore[no-untyped-def]
        figures, waypoint = real(data, trusted)
        currency = dataclasses.replace(figures.currencies[0], covered=False)
        return dataclasses.replace(figures, currencies=(currency,)), waypoint

    monkeypatch.setattr(reserve_cli, "verify_report", short)
    result = CliRunner().invoke(cli, ["reserve", "verify", str(path)])
    assert result.exit_code == 1 and "UNDER-COLLATERALISED: XUS" in result.output


def test_without_epoch_changes_the_ledger_info_is_signed_by_the_genesis_set(source):
    genesis = source.ledger.db.get_epoch_ending_ledger_info(0).ledger_info
    epoch_1_end = source.epoch_end
    state = verify_from_waypoint(waypoint_of(source), EpochBoundary.of(genesis), EpochChangeProof(()), epoch_1_end)
    assert state.epoch == 1  # epoch 1's own ledger info, signed by the set genesis names
