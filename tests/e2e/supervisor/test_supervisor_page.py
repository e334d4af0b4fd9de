"""The supervisor's page at /supervisor in real headless Chromium (Debian's package, driven by
Playwright, as the web wallet's test) against a real localnet: a structuring pattern (three
payments by one sender just under the travel-rule limit) is generated on chain and must show
as an alert naming the sender; supply against reserve, its chart, the large transfers with
their attestation and a frozen account with a lawful order are on the page too. A screenshot
lands in ``$LIBRA_TEST_ARTIFACTS`` (default ``test-artifacts/``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from diem import jsonrpc, stdlib, testnet, utils
from playwright.sync_api import Browser, expect, sync_playwright

CHROMIUM = os.environ.get("LIBRA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("LIBRA_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts"))
UNREADABLE = re.compile(r"undefined|NaN|\[object|Error:|Traceback")
JUST_UNDER_LIMIT = 990_000_000  # 990 XUS; the limit is 1,000 XDX and XUS = 1 XDX


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def libra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "libra.cli", *args], capture_output=True, text=True, timeout=120, check=False)


def test_a_structuring_pattern_shows_as_an_alert(browser: Browser, localnet_factory: Any, tmp_path: Path) -> None:
    net = localnet_factory(extra=["--validators", "1", "--full-nodes", "0"])
    client = jsonrpc.Client(net.json_rpc)
    faucet = testnet.Faucet(client, url=net.faucet)
    smurf, receiver, suspect = faucet.gen_account(), faucet.gen_account(), faucet.gen_account()

    def pay(payer: Any, payee: Any, amount: int) -> None:
        txn = payer.create_txn(client, payload=stdlib.encode_peer_to_peer_with_metadata_script_function(
            utils.currency_code("XUS"), payee.account_address, amount, b"", b""))
        client.submit(txn)
        client.wait_for_transaction(txn)

    for _ in range(3):
        pay(smurf, receiver, JUST_UNDER_LIMIT)
    pay(receiver, suspect, 2_000_000)
    suspect_hex = suspect.account_address.to_hex()
    data = str(net.data_dir)
    frozen = libra("order", "freeze", "--data", data, suspect_hex)
    assert frozen.returncode == 0, frozen.stdout + frozen.stderr
    seized = libra("order", "seize", "--data", data, suspect_hex, "--to", receiver.account_address.to_hex(),
                   "--amount", "1.5", "--order-ref", "case 2024-99")
    assert seized.returncode == 0, seized.stdout + seized.stderr

    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{net.base}/supervisor")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    smurf_hex = smurf.account_address.to_hex()
    alert = page.locator(f"li.alert[data-kind='structuring'][data-account='{smurf_hex}']")
    expect(alert).to_be_visible(timeout=60_000)  # the index catches up from the store, the page polls
    expect(alert).to_contain_text("3 transfers just under the travel-rule limit")
    expect(page.locator("#status")).to_contain_text("(up to date)", timeout=30_000)
    # supply against reserve, with its chart
    card = page.locator("#reserve .card[data-currency='XUS']")
    expect(card.locator("dd.reserve")).to_have_text("18,446,744,073,709.55 XUS")
    expect(card).to_contain_text("200.00 %")
    expect(card).to_contain_text("genesis")  # the starting reserve's as-of time
    expect(card).to_contain_text("events sum to the chain's supply")
    for line in ("supply", "reserve"):  # from genesis to now: at least two points each
        points = card.locator(f"svg polyline.{line}").get_attribute("points") or ""
        assert len(points.split()) >= 2, (line, points)
    # large transfers (the faucet's payouts) with their attestation status; the frozen account and the order
    expect(page.locator("#large")).to_contain_text("not required")
    expect(page.locator(f"#frozen code[title='{suspect_hex}']")).to_be_visible()
    expect(page.locator("#seizures")).to_contain_text("1.50 XUS")
    # stricter rules from the URL: four near-limit transfers needed, so no structuring alert
    page.goto(f"{net.base}/supervisor?structuring_count=4")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("#alerts")).not_to_contain_text("structuring", timeout=10_000)
    page.goto(f"{net.base}/supervisor")
    expect(alert).to_be_visible(timeout=30_000)
    text = page.inner_text("main")
    assert not UNREADABLE.search(text), UNREADABLE.search(text)
    assert problems == [], problems
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "supervisor.png"), full_page=True)
    context.close()
    # the terminal view says the same
    shown = libra("supervise", "--data", data)
    assert shown.returncode == 0, shown.stderr
    assert re.search(rf"STRUCTURING\s+{smurf_hex}", shown.stdout), shown.stdout
