"""The web wallet at /wallet in real headless Chromium (Debian's package, driven by Playwright's
Python API) against a real localnet: two wallets created through the page, one funded, a
payment through the receiver's intent shown on both pages (time recorded; goal 2 s), every field's bad
input answered in words with nothing sent. Screenshots land in ``$LIBRA_TEST_ARTIFACTS``
(default ``test-artifacts/`` at the repository root)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import segno
from playwright.sync_api import Browser, Page, expect, sync_playwright

from libra.client.identifiers import encode_account_identifier, encode_intent

CHROMIUM = os.environ.get("LIBRA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
PASSPHRASE = "open sesame 42"
ARTIFACTS = Path(os.environ.get("LIBRA_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts"))
UNREADABLE = re.compile(r"^-?\d+$|JSON-RPC|-320\d\d|undefined|\[object|NaN|Error:|Traceback")
SHOWN_TIMEOUT_MS = 15_000


def rpc(url: str, method: str, *params: Any) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["result"]


def balance(url: str, address: str) -> int:
    account = rpc(url, "get_account", address)
    return next(int(b["amount"]) for b in account["balances"] if b["currency"] == "XUS")


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


def open_wallet(browser: Browser, base: str) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}")
            if not request.url.endswith("/v1/stream") and "/v1/stream?" not in request.url else None)
    page.problems = problems  # type: ignore[attr-defined]
    page.goto(f"{base}/wallet")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page


def create(page: Page, name: str) -> str:
    page.fill("#create-name", name)
    page.fill("#create-pass", PASSPHRASE)
    page.fill("#create-pass2", PASSPHRASE)
    page.click("#create-btn")
    expect(page.locator("#view-main")).to_be_visible(timeout=15_000)
    expect(page.locator("#account-name")).to_have_text(name)
    identifier = page.inner_text("#identifier")
    assert identifier.startswith("tdm1")
    return identifier


def address_of(identifier: str) -> str:
    from libra.client.identifiers import decode_account_identifier

    return decode_account_identifier(identifier, "tdm").address.hex()


def expect_words(page: Page, error_id: str, pattern: str) -> None:
    locator = page.locator(f"#{error_id}")
    expect(locator).to_have_text(re.compile(pattern), timeout=5_000)
    text = locator.inner_text()
    assert not UNREADABLE.search(text), text
    assert (text[0].isupper() or text[0] == "“") and text.rstrip().endswith((".", "”", ")")), text


def test_two_wallets_pay_through_intent(browser: Browser, wallet_net: Any, tmp_path: Path) -> None:
    url, base = wallet_net.url, wallet_net.base
    alice_page = open_wallet(browser, base)
    bob_page = open_wallet(browser, base)

    alice_id = create(alice_page, "alice")
    bob_id = create(bob_page, "bob")
    alice, bob = address_of(alice_id), address_of(bob_id)
    assert balance(url, bob) == 0  # opened on chain by the faucet, with nothing in it

    alice_page.fill("#fund-amount", "100")
    alice_page.click("#fund-btn")
    expect(alice_page.locator("#fund-status")).to_have_text("Received 100.00 XUS from the faucet.", timeout=15_000)
    expect(alice_page.locator("#balance")).to_have_text("100.00")
    assert balance(url, alice) == 100_000_000

    bob_page.fill("#receive-amount", "2.5")
    bob_page.click("#receive-btn")
    uri = bob_page.inner_text("#receive-uri")
    assert uri.startswith(f"diem://{bob_id[:20]}") and uri.endswith("?c=XUS&am=2500000")
    assert bob_page.locator("#receive-qr").get_attribute("src").startswith("data:image/svg+xml")

    alice_page.fill("#send-to", uri)
    expect(alice_page.locator("#send-amount")).to_have_value("2.50")
    expect(alice_page.locator("#send-hint")).to_have_text("Amount and currency come from the payment link.")
    started = time.monotonic()
    alice_page.click("#send-btn")
    sent = alice_page.locator('#history li[data-direction="sent"][data-amount="2500000"]')
    received = bob_page.locator('#history li[data-direction="received"][data-amount="2500000"]')
    # The 2 s goal is measured and recorded (test-artifacts/web-wallet-timing.json), not
    # asserted: a timing assertion in make test flakes on a loaded machine (bench/ owns timing).
    expect(sent).to_be_visible(timeout=SHOWN_TIMEOUT_MS)
    expect(received).to_be_visible(timeout=SHOWN_TIMEOUT_MS)
    expect(bob_page.locator("#balance")).to_have_text("2.50", timeout=SHOWN_TIMEOUT_MS)
    expect(alice_page.locator("#balance")).to_have_text("97.50", timeout=SHOWN_TIMEOUT_MS)
    elapsed = time.monotonic() - started
    expect(alice_page.locator("#send-status")).to_have_text(re.compile(r"^Sent 2\.50 XUS to tdm1"))

    # the pages agree with the chain
    assert balance(url, alice) == 97_500_000 and balance(url, bob) == 2_500_000
    version = int(sent.get_attribute("data-version"))
    assert int(received.get_attribute("data-version")) == version
    txn = rpc(url, "get_transactions", version, 1, True)[0]
    assert txn["transaction"]["sender"] == alice and txn["vm_status"]["type"] == "executed"
    assert txn["transaction"]["script"]["function_name"] == "peer_to_peer_with_metadata"
    paid = next(e["data"] for e in txn["events"] if e["data"]["type"] == "receivedpayment")
    assert (paid["sender"], paid["receiver"], paid["amount"]) == (alice, bob, {"amount": 2_500_000, "currency": "XUS"})
    assert paid["metadata"].startswith("01000108")  # GeneralMetadata V0 with the request's to_subaddress

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "web-wallet-timing.json").write_text(json.dumps({"payment_shown_on_both_pages_secs": elapsed}) + "\n")
    alice_page.screenshot(path=str(ARTIFACTS / "web-wallet-alice.png"), full_page=True)
    bob_page.screenshot(path=str(ARTIFACTS / "web-wallet-bob.png"), full_page=True)
    for name in ("alice", "bob"):  # phone-sized: nothing wider than the screen
        header = (ARTIFACTS / f"web-wallet-{name}.png").read_bytes()[:24]
        assert int.from_bytes(header[16:20], "big") == PHONE["width"], f"{name}'s page scrolls sideways"

    # a payment code scanned from a photo fills the form (nothing is sent until Send)
    photo = tmp_path / "code.png"
    scanned_uri = encode_intent(encode_account_identifier(bytes.fromhex(bob), b"\x05" * 8, "tdm"), "XUS", 1_250_000)
    segno.make(scanned_uri, error="m").save(str(photo), scale=8, border=4)
    alice_page.set_input_files("#scan-file", str(photo))
    expect(alice_page.locator("#send-to")).to_have_value(scanned_uri)
    expect(alice_page.locator("#send-amount")).to_have_value("1.25")

    bad_input_sends_nothing(alice_page, bob_page, url, alice, bob, bob_id)
    key_is_encrypted_and_opens_in_the_cli(alice_page, url, alice, tmp_path)
    assert alice_page.problems == [] and bob_page.problems == []  # type: ignore[attr-defined]


def bad_input_sends_nothing(page: Page, other: Page, url: str, alice: str, bob: str, bob_id: str) -> None:
    sequence = rpc(url, "get_account", alice)["sequence_number"]
    history = page.locator("#history li").count()
    broken = bob_id[:-1] + ("q" if bob_id[-1] != "q" else "p")
    cases = [
        ("", "1", "send-error", "^Enter who to pay"),
        ("hello", "1", "send-error", "is not a recipient"),
        (broken, "1", "send-error", "mistyped"),
        (encode_account_identifier(bytes.fromhex(bob), None, "pdm"), "1", "send-error", "another network"),
        ("zed@nodomain", "1", "send-error", "Nobody on this network has the handle domain"),
        ("bad_name@x", "1", "send-error", "name part of a Diem ID"),
        ("ab" * 16, "1", "send-error", "Nobody has this account"),
        (page.inner_text("#identifier"), "1", "send-error", "That is this account"),
        (bob_id, "", "send-error", "^Enter an amount"),
        (bob_id, "abc", "send-error", "is not an amount"),
        (bob_id, "-1", "send-error", "more than zero"),
        (bob_id, "0", "send-error", "more than zero"),
        (bob_id, "1.1234567", "send-error", "at most 6 decimals"),
        (bob_id, "1,5", "send-error", "is not an amount"),
        (bob_id, "99999999", "send-error", "^Not enough money"),
        (encode_intent(bob_id, "XUS", 3_000_000), "4", "send-error", "payment link asks for 3.00"),
        ("diem://" + broken, "1", "send-error", "mistyped"),
    ]
    for to, amount, error_id, pattern in cases:
        page.fill("#send-to", to)
        page.fill("#send-amount", amount)
        page.click("#send-btn")
        expect_words(page, error_id, pattern)
        expect(page.locator("#send-status")).to_have_text("")

    page.fill("#receive-amount", "two")
    page.click("#receive-btn")
    expect_words(page, "receive-error", "is not an amount")
    expect(page.locator("#receive-out")).to_be_hidden()
    page.fill("#fund-amount", "0.0000001")
    page.click("#fund-btn")
    expect_words(page, "fund-error", "at most 6 decimals")
    page.fill("#fund-amount", "1")
    page.fill("#fund-domain", "no spaces!")
    page.click("#fund-btn")
    expect_words(page, "fund-error", "domain part")
    page.fill("#fund-domain", "")

    # account forms, on the other page after locking it
    other.click("#lock-btn")
    expect(other.locator("#view-unlock")).to_be_visible()
    other.fill("#unlock-pass", "wrong passphrase")
    other.click("#unlock-btn")
    expect_words(other, "unlock-error", "^Wrong passphrase")
    other.click("#show-setup")
    for name, passphrase, again, pattern in [
        ("", PASSPHRASE, PASSPHRASE, "^Give the account a name"),
        ("a b", PASSPHRASE, PASSPHRASE, "^Names have"),
        ("bob", PASSPHRASE, PASSPHRASE, "already an account named"),
        ("carol", "short", "short", "at least 8 characters"),
        ("carol", PASSPHRASE, PASSPHRASE + "!", "passphrases differ"),
    ]:
        other.fill("#create-name", name)
        other.fill("#create-pass", passphrase)
        other.fill("#create-pass2", again)
        other.click("#create-btn")
        expect_words(other, "create-error", pattern)
    for key, pattern in [
        ("", "^Enter the private key"),
        ("1234", "64 hex characters; this one has 4"),
        ("z" * 64, "only hold the characters"),
        ("{not json", "not valid JSON"),
        ('{"format": "something else"}', "not a libra wallet file"),
    ]:
        other.fill("#import-name", "dave")
        other.fill("#import-key", key)
        other.fill("#import-pass", PASSPHRASE)
        other.click("#import-btn")
        expect_words(other, "import-error", pattern)
    other.click("#show-unlock")
    other.fill("#unlock-pass", PASSPHRASE)
    other.click("#unlock-btn")
    expect(other.locator("#view-main")).to_be_visible(timeout=15_000)

    # nothing was sent
    assert rpc(url, "get_account", alice)["sequence_number"] == sequence
    assert page.locator("#history li").count() == history
    assert balance(url, alice) == 97_500_000 and balance(url, bob) == 2_500_000


def key_is_encrypted_and_opens_in_the_cli(page: Page, url: str, alice: str, tmp_path: Path) -> None:
    """What the page keeps is the CLI's encrypted wallet format: no key in clear, and it imports."""
    storage = page.context.storage_state()
    items = {i["name"]: i["value"] for o in storage["origins"] for i in o["localStorage"]}
    documents = json.loads(items["libra.wallet.accounts"])
    document = next(d for d in documents if d["address"] == alice)
    assert document["format"] == "libra-wallet/1" and document["kdf"]["name"] == "argon2id"
    assert set(document) == {"format", "name", "address", "public_key", "kdf", "cipher", "created"}
    wallet_file = tmp_path / "alice-from-browser.json"
    wallet_file.write_text(json.dumps(document))
    env = {**os.environ, "LIBRA_WALLET_HOME": str(tmp_path / "home"), "LIBRA_WALLET_PASSPHRASE": PASSPHRASE,
           "LIBRA_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "libra.cli", "wallet", "import", "web-alice", "--wallet-file", str(wallet_file), "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 0 and json.loads(done.stdout)["address"] == alice, done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "libra.cli", "wallet", "balance", "web-alice", "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert json.loads(done.stdout)["balances"] == {"XUS": 97_500_000}
