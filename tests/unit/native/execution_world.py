"""Blocks for the differential test of execution: a small chain of VASPs and dealers, and a
generator of blocks that mix every outcome of the common payment (script function and
script: executed, aborted, discarded, out of gas, fee not payable, travel rule) with the
other transactions around it (account creation, freezing, key rotation, minting, rates,
limits, unknown payloads, bad signatures).

The generator draws through :class:`Draw`, so hypothesis (``make test``) and a seeded
``random.Random`` (``make diff-exec``, a long run) drive the same choices. :func:`run_block`
executes a block on both paths, the framework (``native=False``) and the native core
(``native=True``), each on its own copy of the state with its own decoded-accounts cache, and
asserts the outputs and the resulting states are the same, byte for byte.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import nacl.signing
import numpy as np
from diem import stdlib, utils

from libra import native as native_switch
from libra.bcs import Serializer
from libra.crypto.hashing import signing_message
from libra.execution import (
    BlockOutput,
    DecodedAccounts,
    InMemoryStateView,
    NativeDecodedAccounts,
    TransactionOutput,
    execute_block,
    native_block,
)
from libra.framework.genesis import GenesisConfig, ValidatorGenesis, build_genesis
from libra.framework.payments import compute_dual_attestation_message
from libra.framework.resources import DIEM_ACCOUNT
from libra.framework.state import BlockState
from libra.node import ledger
from libra.types.move import (
    CORE_CODE_ADDRESS,
    DIEM_ROOT_ADDRESS,
    TESTNET_DD_ADDRESS,
    TREASURY_COMPLIANCE_ADDRESS,
    AccountAddress,
    ModuleId,
    PrimitiveTag,
    StructTag,
    TypeTag,
    currency_type_tag,
)
from libra.types.transaction import (
    AddressArg,
    BlockMetadata,
    DirectWriteSet,
    Ed25519Authenticator,
    Module,
    RawTransaction,
    Script,
    ScriptFunction,
    SignedTransaction,
    TransactionArgument,
    TransactionPayload,
    U8Arg,
    U8VectorArg,
    U64Arg,
    WriteSetTxnPayload,
)
from libra.types.write_set import ChangeSet, WriteSet

CHAIN_ID = 2
START_USECS = 1_700_000_000_000_000
LIMIT = 1_000_000_000  # the genesis travel-rule limit, micro-XDX (XUS is 1:1)
U64_MAX = (1 << 64) - 1
PAYMENT_SCRIPT_CODE: bytes = stdlib.encode_peer_to_peer_with_metadata_script(
    utils.currency_code("XUS"), utils.account_address("00" * 16), np.uint64(0), b"", b""
).code


# discarded outputs of the native core carry nothing of it: count them as they are made
NATIVE_DISCARDS = [0]
_discarded_output = native_block._discarded_output


def _counted_discard(status: Any) -> TransactionOutput:
    NATIVE_DISCARDS[0] += 1
    return _discarded_output(status)


native_block._discarded_output = _counted_discard  # type: ignore[assignment]


class Draw(Protocol):
    """The choices a block is made of."""

    def integer(self, low: int, high: int) -> int: ...

    def pick(self, options: Sequence[Any]) -> Any: ...


class RandomDraw:
    """Choices from a seeded ``random.Random`` (the long run)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def pick(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]


class HypothesisDraw:
    """Choices from hypothesis's ``st.data()`` (shrinkable)."""

    def __init__(self, data: Any) -> None:
        from hypothesis import strategies as st

        self._data = data
        self._st = st

    def integer(self, low: int, high: int) -> int:
        return self._data.draw(self._st.integers(low, high))  # type: ignore[no-any-return]

    def pick(self, options: Sequence[Any]) -> Any:
        return self._data.draw(self._st.sampled_from(list(options)))


# --- keys and encodings ------------------------------------------------------------------


def key_of(label: str) -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey(hashlib.sha3_256(label.encode()).digest())


def auth_key_of(key: nacl.signing.SigningKey) -> bytes:
    return hashlib.sha3_256(bytes(key.verify_key) + b"\x00").digest()


def address_of_key(key: nacl.signing.SigningKey) -> AccountAddress:
    return AccountAddress(auth_key_of(key)[16:])


def u64(value: int) -> bytes:
    return value.to_bytes(8, "little")


def bcs_bytes(data: bytes) -> bytes:
    s = Serializer()
    s.bytes(data)
    return s.output()


def call(module: str, function: str, ty_args: tuple[TypeTag, ...], *args: bytes) -> ScriptFunction:
    return ScriptFunction(ModuleId(CORE_CODE_ADDRESS, module), function, ty_args, tuple(args))


XUS = currency_type_tag("XUS")
XDX = currency_type_tag("XDX")


@dataclass
class Party:
    name: str
    key: nacl.signing.SigningKey
    address: AccountAddress
    parent: str | None = None  # the parent VASP's name, for children
    compliance: nacl.signing.SigningKey | None = None  # the dual-attestation key, if rotated


@dataclass
class World:
    """The chain: its state on both paths, the parties and what the generator knows of them."""

    reference_view: InMemoryStateView
    native_view: InMemoryStateView
    parties: dict[str, Party]
    proposer: AccountAddress
    now: int = START_USECS
    round: int = 0
    seq: dict[AccountAddress, int] = field(default_factory=dict)
    nonce: int = 0
    children: int = 0
    reference_cache: DecodedAccounts = field(default_factory=DecodedAccounts)
    native_cache: DecodedAccounts = field(default_factory=DecodedAccounts)
    pending_keys: dict[str, nacl.signing.SigningKey] = field(default_factory=dict)
    pending_parties: list[Party] = field(default_factory=list)
    native_runs: int = 0
    transactions: int = 0

    def copy(self) -> World:
        return World(
            self.reference_view.copy(), self.native_view.copy(),
            {name: Party(p.name, p.key, p.address, p.parent, p.compliance) for name, p in self.parties.items()},
            self.proposer, self.now, self.round, dict(self.seq), self.nonce, self.children,
        )

    def metadata(self) -> BlockMetadata:
        self.now += 1_000_000
        self.round += 1
        return BlockMetadata(self.round.to_bytes(32, "little"), self.round, self.now, (), self.proposer)

    def sync_sequence_numbers(self) -> None:
        state = BlockState(self.reference_view)
        for party in self.parties.values():
            account = state.read(party.address, DIEM_ACCOUNT)
            if account is not None:
                self.seq[party.address] = account.sequence_number

    def next_seq(self, party: Party) -> int:
        seq = self.seq.get(party.address, 0)
        self.seq[party.address] = seq + 1
        return seq

    def next_nonce(self) -> int:
        self.nonce += 1
        return self.nonce


def sign(
    key: nacl.signing.SigningKey,
    sender: AccountAddress,
    seq: int,
    payload: TransactionPayload,
    *,
    max_gas: int = 1_000_000,
    price: int = 0,
    currency: str = "XUS",
    expiration: int,
    chain_id: int = CHAIN_ID,
) -> SignedTransaction:
    raw = RawTransaction(sender, seq, payload, max_gas, price, currency, expiration, chain_id)
    signature = key.sign(signing_message(raw.to_bcs())).signature
    return SignedTransaction(raw, Ed25519Authenticator(bytes(key.verify_key), signature))


def party_sign(world: World, party: Party, payload: TransactionPayload, **kw: Any) -> SignedTransaction:
    kw.setdefault("expiration", world.now // 1_000_000 + 3600)
    return sign(party.key, party.address, world.next_seq(party), payload, **kw)


# --- the base chain ------------------------------------------------------------------------

_BASE: list[World] = []


def base_world() -> World:
    """Genesis, then (on the framework path) VASPs alice (XUS) and bob (all currencies) with a
    child each, carol (XDX only), a second dealer; alice and bob have compliance keys. A copy."""
    if not _BASE:
        _BASE.append(_build_base())
    return _BASE[0].copy()


def _build_base() -> World:
    root, tc, dd, validator = key_of("root"), key_of("tc"), key_of("dd"), key_of("validator")
    config = GenesisConfig(
        CHAIN_ID, bytes(root.verify_key), bytes(tc.verify_key), bytes(dd.verify_key),
        (ValidatorGenesis(address_of_key(validator), bytes(validator.verify_key), b"/ip4/127.0.0.1/tcp/6180"),),
    )
    view = build_genesis(config).state_view()
    parties = {
        "root": Party("root", root, DIEM_ROOT_ADDRESS),
        "tc": Party("tc", tc, TREASURY_COMPLIANCE_ADDRESS),
        "dd": Party("dd", dd, TESTNET_DD_ADDRESS),
    }
    world = World(view, view.copy(), parties, address_of_key(validator))
    for name in ("alice", "bob", "carol", "dealer", "alice1", "bob1"):
        key = key_of(name)
        parties[name] = Party(name, key, address_of_key(key), parent=name[:-1] if name[-1] == "1" else None)
    p = parties

    def create_parent(name: str, currency: TypeTag, add_all: bool) -> SignedTransaction:
        party = p[name]
        return party_sign(world, p["tc"], call(
            "AccountCreationScripts", "create_parent_vasp_account", (currency,),
            u64(0), party.address.value, bcs_bytes(auth_key_of(party.key)[:16]), bcs_bytes(name.encode()),
            b"\x01" if add_all else b"\x00",
        ))

    first = [
        create_parent("alice", XUS, False),
        create_parent("bob", XUS, True),
        create_parent("carol", XDX, False),
        party_sign(world, p["tc"], call(
            "AccountCreationScripts", "create_designated_dealer", (XUS,),
            u64(0), p["dealer"].address.value, bcs_bytes(auth_key_of(p["dealer"].key)[:16]), bcs_bytes(b"dealer"),
            b"\x00",
        )),
    ] + [payment(world, p["dd"], p[name].address, 50 * LIMIT) for name in ("alice", "bob", "dealer")]
    _setup_block(world, first)
    second = []
    for parent in ("alice", "bob"):
        child = p[parent + "1"]
        second.append(party_sign(world, p[parent], call(
            "AccountCreationScripts", "create_child_vasp_account", (XUS,),
            child.address.value, bcs_bytes(auth_key_of(child.key)[:16]), b"\x00", u64(5 * LIMIT),
        )))
        compliance = key_of(parent + "-compliance")
        p[parent].compliance = compliance
        second.append(party_sign(world, p[parent], call(
            "AccountAdministrationScripts", "rotate_dual_attestation_info", (),
            bcs_bytes(b"https://" + parent.encode()), bcs_bytes(bytes(compliance.verify_key)),
        )))
    _setup_block(world, second)
    world.reference_cache = DecodedAccounts()
    return world


def _setup_block(world: World, txns: list[SignedTransaction]) -> None:
    output = execute_block(world.reference_view, world.metadata(), txns, chain_id=CHAIN_ID, native=False)
    failed = [o.status for o in output.transaction_outputs if type(o.status).__name__ != "Executed"]
    assert not failed, failed
    world.reference_view.apply(output.changed_blobs)
    world.native_view.apply(output.changed_blobs)


# --- payloads ------------------------------------------------------------------------------


def payment_function(payee: AccountAddress, amount: int, metadata: bytes = b"", signature: bytes = b"",
                     currency: TypeTag = XUS) -> ScriptFunction:
    return call("PaymentScripts", "peer_to_peer_with_metadata", (currency,),
                payee.value, u64(amount), bcs_bytes(metadata), bcs_bytes(signature))


def payment_script(payee: AccountAddress, amount: int, metadata: bytes = b"", signature: bytes = b"",
                   currency: TypeTag = XUS) -> Script:
    return Script(PAYMENT_SCRIPT_CODE, (currency,),
                  (AddressArg(payee), U64Arg(amount), U8VectorArg(metadata), U8VectorArg(signature)))


def payment(world: World, payer: Party, payee: AccountAddress, amount: int, **kw: Any) -> SignedTransaction:
    return party_sign(world, payer, payment_function(payee, amount), **kw)


AMOUNTS = (0, 1, 7, 999, 10**6, LIMIT - 1, LIMIT, LIMIT + 1, 3 * LIMIT, 10**12, U64_MAX)
METADATA = (b"", b"", b"m", b"x" * 127, b"y" * 128, b"z" * 300)
PAYERS = ("alice", "alice", "bob", "bob", "alice1", "bob1", "child", "child", "carol", "dealer", "dd", "root", "tc")
PAYEES = ("alice", "bob", "alice1", "bob1", "carol", "dealer", "dd", "root", "tc", "missing", "child")


def _party_or_child(world: World, draw: Draw, name: str) -> Party:
    if name == "child":
        children = [p for p in world.parties.values() if p.name.startswith("kid")]
        if children:
            return draw.pick(children)  # type: ignore[no-any-return]
        name = "alice1"
    return world.parties[name]


def _payee(world: World, draw: Draw) -> AccountAddress:
    name = draw.pick(PAYEES)
    if name == "missing":
        return AccountAddress(hashlib.sha3_256(b"nobody" + bytes([draw.integer(0, 3)])).digest()[:16])
    return _party_or_child(world, draw, name).address


def _attestation(payee: Party | None, payer: AccountAddress, amount: int, metadata: bytes, draw: Draw) -> bytes:
    """A metadata signature: valid (by the payee's parent's compliance key), wrong, short or none."""
    kind = draw.pick(("valid", "valid", "none", "wrong", "short"))
    if kind == "none":
        return b""
    if kind == "short":
        return b"\x01" * 63
    signer = payee.compliance if payee is not None and payee.compliance is not None else key_of("stranger")
    if kind == "wrong":
        signer = key_of("stranger")
    message = compute_dual_attestation_message(metadata, payer, amount)
    return signer.sign(message).signature


def _gas(world: World, draw: Draw) -> dict[str, Any]:
    """Usually the defaults; sometimes fees, bounds, odd currencies, expiry or another chain."""
    kw: dict[str, Any] = {}
    roll = draw.integer(0, 39)
    if roll < 30:
        return kw
    roll -= 20
    if roll < 14:
        kw.update(price=draw.pick((1, 2, 10)), max_gas=draw.pick((12, 13, 50, 1000, 10**6)))
    elif roll == 14:
        kw.update(max_gas=draw.pick((0, 1, 11, 12, 4_000_000, 4_000_001)))
    elif roll == 15:
        kw.update(price=draw.pick((10_000, 10_001, U64_MAX)), max_gas=draw.pick((1, 10**6)))
    elif roll == 16:
        kw.update(currency=draw.pick(("XDX", "BAD", "X-Y", "", "é")), price=draw.pick((0, 1)))
    elif roll == 17:
        kw.update(expiration=draw.pick((0, world.now // 1_000_000, world.now // 1_000_000 + 1)))
    elif roll == 18:
        kw.update(chain_id=draw.pick((1, 3, 255)))
    else:
        kw.update(price=1, max_gas=draw.pick((10**6, 4_000_000)))  # may not afford the fee
    return kw


def _payment_txn(world: World, draw: Draw) -> tuple[SignedTransaction, bool]:
    """A payment with drawn parties, amount, metadata, gas, sequence number and signer; and
    whether its signature is to be corrupted."""
    payer = _party_or_child(world, draw, draw.pick(PAYERS))
    payee_address = _payee(world, draw)
    payee = next((p for p in world.parties.values() if p.address == payee_address), None)
    amount = draw.pick(AMOUNTS)
    metadata = draw.pick(METADATA)
    signature = b""
    if amount >= LIMIT or draw.integer(0, 9) == 0:
        parent = world.parties.get(payee.parent) if payee is not None and payee.parent else payee
        signature = _attestation(parent, payer.address, amount, metadata, draw)
    currency = XUS if draw.integer(0, 9) else draw.pick((XDX, StructTag(CORE_CODE_ADDRESS, "BAD", "BAD", ())))
    shape = draw.pick(("function", "function", "script", "script", "odd"))
    payload: TransactionPayload
    if shape == "function":
        payload = payment_function(payee_address, amount, metadata, signature, currency)
    elif shape == "script":
        payload = payment_script(payee_address, amount, metadata, signature, currency)
    else:
        payload = _odd_payment(payee_address, amount, draw)
    kw = _gas(world, draw)
    if draw.integer(0, 29) == 0:
        kw["max_gas"] = 1_000_000
        payload = payment_function(payee_address, amount, b"\x00" * 4100)  # over the size bound
    key, sender = payer.key, payer.address
    roll = draw.integer(0, 39)
    if roll == 0:
        key = key_of("impostor")  # a valid signature by the wrong key
    elif roll == 1:
        key = key_of("ghost" + str(draw.integer(0, 2)))  # a sender with no account
        sender = address_of_key(key)
    seq = world.next_seq(payer)
    roll = draw.integer(0, 39)
    if roll == 0:
        seq = max(seq - 1, 0) if seq else 0
    elif roll == 1:
        seq += 1
    elif roll == 2:
        seq = U64_MAX
    kw.setdefault("expiration", world.now // 1_000_000 + 3600)
    txn = sign(key, sender, seq, payload, **kw)
    return txn, draw.integer(0, 29) == 0


def _odd_payment(payee: AccountAddress, amount: int, draw: Draw) -> TransactionPayload:
    """A payment call whose arguments or type arguments do not fit."""
    kind = draw.integer(0, 7)
    if kind == 0:
        return call("PaymentScripts", "peer_to_peer_with_metadata", (XUS,), payee.value, u64(amount), bcs_bytes(b""))
    if kind == 1:
        return call("PaymentScripts", "peer_to_peer_with_metadata", (XUS,), payee.value, u64(amount)[:7],
                    bcs_bytes(b""), bcs_bytes(b""))
    if kind == 2:
        return call("PaymentScripts", "peer_to_peer_with_metadata", (XUS,), payee.value, u64(amount),
                    b"\x81\x00", bcs_bytes(b""))  # a non-canonical length
    if kind == 3:
        return call("PaymentScripts", "peer_to_peer_with_metadata", (), payee.value, u64(amount),
                    bcs_bytes(b""), bcs_bytes(b""))
    if kind == 4:
        tag: TypeTag = draw.pick((PrimitiveTag(2), StructTag(AccountAddress(b"\x00" * 15 + b"\x02"), "XUS", "XUS", ()),
                                  StructTag(CORE_CODE_ADDRESS, "XUS", "Coin", ())))
        return call("PaymentScripts", "peer_to_peer_with_metadata", (tag,), payee.value, u64(amount),
                    bcs_bytes(b""), bcs_bytes(b""))
    args: tuple[TransactionArgument, ...]
    if kind == 5:
        args = (AddressArg(payee), U8Arg(amount & 0xFF), U8VectorArg(b""), U8VectorArg(b""))
    elif kind == 6:
        args = (AddressArg(payee), U64Arg(amount), U8VectorArg(b""))
    else:
        return Script(PAYMENT_SCRIPT_CODE, (XUS, XUS), (AddressArg(payee), U64Arg(amount), U8VectorArg(b""),
                                                        U8VectorArg(b"")))
    return Script(PAYMENT_SCRIPT_CODE, (XUS,), args)


def _other_txn(world: World, draw: Draw) -> SignedTransaction:
    """A transaction the framework runs: accounts, freezing, keys, money supply, rules, or an
    unknown payload."""
    p = world.parties
    kind = draw.pick(("child", "freeze", "unfreeze", "unfreeze", "unfreeze", "rotate", "mint", "preburn",
                      "rate", "limit", "add_currency", "unknown"))
    tc = p["tc"]
    if kind == "child" and world.children < 40:
        parent = p[draw.pick(("alice", "bob"))]
        world.children += 1
        name = f"kid{world.children}"
        key = key_of(name + str(world.round))
        world.pending_parties.append(Party(name, key, address_of_key(key), parent=parent.name))
        return party_sign(world, parent, call(
            "AccountCreationScripts", "create_child_vasp_account", (XUS,),
            address_of_key(key).value, bcs_bytes(auth_key_of(key)[:16]), b"\x00",
            u64(draw.pick((0, 1, 10**6, LIMIT))),
        ))
    if kind in ("freeze", "unfreeze", "child"):
        target = _party_or_child(world, draw, draw.pick(PAYERS[:10]))
        function = "freeze_account" if kind == "freeze" else "unfreeze_account"
        return party_sign(world, tc, call("TreasuryComplianceScripts", function, (), u64(0), target.address.value))
    if kind == "rotate":
        party = _party_or_child(world, draw, draw.pick(("alice1", "bob1", "carol", "child")))
        new_key = key_of(party.name + "-rotated-" + str(world.round))
        world.pending_keys[party.name] = new_key
        return party_sign(world, party, call(
            "AccountAdministrationScripts", "rotate_authentication_key", (), bcs_bytes(auth_key_of(new_key))))
    if kind == "mint":
        return party_sign(world, tc, call(
            "TreasuryComplianceScripts", "tiered_mint", (XUS,), u64(world.next_nonce()),
            p["dealer"].address.value, u64(draw.pick((1, 100 * LIMIT))), u64(0)))
    if kind == "preburn":
        return party_sign(world, p["dealer"], call(
            "TreasuryComplianceScripts", "preburn", (XUS,), u64(draw.pick((0, 1, LIMIT)))))
    if kind == "rate":
        numerator, denominator = draw.pick(((1, 1), (2, 1), (1, 2), (1 << 31, 1), (1, 1 << 20)))
        return party_sign(world, tc, call(
            "TreasuryComplianceScripts", "update_exchange_rate", (draw.pick((XUS, XDX)),),
            u64(world.next_nonce()), u64(numerator), u64(denominator)))
    if kind == "limit":
        return party_sign(world, tc, call(
            "TreasuryComplianceScripts", "update_dual_attestation_limit", (),
            u64(world.next_nonce()), u64(draw.pick((0, 1, LIMIT, U64_MAX)))))
    if kind == "add_currency":
        party = _party_or_child(world, draw, draw.pick(("carol", "alice", "child")))
        return party_sign(world, party, call(
            "AccountAdministrationScripts", "add_currency_to_account", (draw.pick((XUS, XDX)),)))
    sender = _party_or_child(world, draw, draw.pick(PAYERS))
    unknown: TransactionPayload = draw.pick((
        call("PaymentScripts", "peer_to_peer", (XUS,), u64(1)),
        ScriptFunction(ModuleId(AccountAddress(b"\x00" * 15 + b"\x02"), "PaymentScripts"),
                       "peer_to_peer_with_metadata", (XUS,), ()),
        Script(b"\x00not a known script", (), ()),
        Script(PAYMENT_SCRIPT_CODE + b"\x00", (XUS,), ()),
        Module(b"\x00module"),
        WriteSetTxnPayload(DirectWriteSet(ChangeSet(WriteSet(()), ()))),
    ))
    return party_sign(world, sender, unknown)


def build_block(world: World, draw: Draw, size: int) -> tuple[list[SignedTransaction], list[bool]]:
    """``size`` transactions (about one in four for the framework) and which signatures are bad."""
    world.sync_sequence_numbers()
    txns, corrupt = [], []
    for _ in range(size):
        if draw.integer(0, 3) == 0:
            txn, bad = _other_txn(world, draw), False
        else:
            txn, bad = _payment_txn(world, draw)
        if bad:
            auth = txn.authenticator
            assert isinstance(auth, Ed25519Authenticator)
            txn = SignedTransaction(txn.raw_txn, Ed25519Authenticator(auth.public_key, bytes([auth.signature[0] ^ 1]) + auth.signature[1:]))
        txns.append(txn)
        corrupt.append(bad)
    return txns, corrupt


# --- running a block on both paths -----------------------------------------------------------


def _outcome(view: InMemoryStateView, metadata: BlockMetadata, txns: list[SignedTransaction], **kw: Any) -> Any:
    try:
        return execute_block(view, metadata, txns, chain_id=CHAIN_ID, **kw)
    except Exception as exc:  # noqa: BLE001 - both paths must fail alike
        return (type(exc), str(exc))


def assert_same_output(reference: TransactionOutput, native: TransactionOutput) -> None:
    assert native.status == reference.status and repr(native.status) == repr(reference.status)
    assert native.gas_used == reference.gas_used
    assert native.write_set == reference.write_set
    assert native.events == reference.events
    assert list(native.account_blobs.items()) == list(reference.account_blobs.items())
    if native.native is not None:
        assert native.write_set_bytes == reference.write_set.to_bcs()
        records = native.event_records
        assert records is not None
        assert [(key, seq) for key, seq, _ in records] == [(e.key.value, e.sequence_number) for e in reference.events]
        assert [data for _, _, data in records] == [e.to_bcs() for e in reference.events]
    if not reference.is_discarded:  # what the ledger hands the store
        assert ledger._to_commit(b"", native, native.account_blobs) == ledger._to_commit(
            b"", reference, reference.account_blobs)


def assert_same_block(reference: BlockOutput, native: BlockOutput) -> None:
    assert (reference.metadata_output is None) == (native.metadata_output is None)
    if reference.metadata_output is not None and native.metadata_output is not None:
        assert_same_output(reference.metadata_output, native.metadata_output)
    assert len(native.transaction_outputs) == len(reference.transaction_outputs)
    for ours, theirs in zip(native.transaction_outputs, reference.transaction_outputs, strict=True):
        assert_same_output(theirs, ours)
    assert list(native.changed_blobs.items()) == list(reference.changed_blobs.items())
    assert native.reconfiguration == reference.reconfiguration


def run_block(world: World, txns: list[SignedTransaction], corrupt: list[bool], draw: Draw) -> BlockOutput | None:
    """Execute ``txns`` on both paths, check they agree, and move the world on."""
    metadata = world.metadata()
    kw: dict[str, Any] = {}
    if any(corrupt):
        kw = {"verify": True, "prechecked": [not bad for bad in corrupt]} if draw.integer(0, 3) else {"verify": True}
    else:
        kw = {"verify": False}
    encodings = [txn.to_bcs() for txn in txns] if draw.integer(0, 1) else None
    NATIVE_DISCARDS[0] = 0
    reference = _outcome(world.reference_view, metadata, txns, native=False, cache=world.reference_cache, **kw)
    native = _outcome(world.native_view, metadata, txns, native=True, cache=world.native_cache,
                      encodings=encodings, **kw)
    if isinstance(reference, tuple) or isinstance(native, tuple):
        assert native == reference
        return None
    assert_same_block(reference, native)
    world.reference_view.apply(reference.changed_blobs)
    world.native_view.apply(native.changed_blobs)
    assert world.native_view.blobs == world.reference_view.blobs
    world.transactions += len(txns)
    world.native_runs += sum(out.native is not None for out in native.transaction_outputs) + NATIVE_DISCARDS[0]
    _settle(world, reference)
    return reference


def _settle(world: World, output: BlockOutput) -> None:
    """Record the accounts and keys the block created or rotated, if it did."""
    state = BlockState(world.reference_view)
    for party in world.pending_parties:
        if state.read(party.address, DIEM_ACCOUNT) is not None:
            world.parties[party.name] = party
    world.pending_parties.clear()
    for name, key in world.pending_keys.items():
        party = world.parties[name]
        account = state.read(party.address, DIEM_ACCOUNT)
        if account is not None and account.authentication_key == auth_key_of(key):
            party.key = key
    world.pending_keys.clear()


def fresh_caches(world: World, draw: Draw) -> None:
    """Decoded-accounts caches for both paths: a node's (native-backed), a plain one, or none."""
    kind = draw.pick(("node", "plain", "none"))
    world.reference_cache = DecodedAccounts()
    if kind == "node" and native_switch.CORE is not None:
        world.native_cache = NativeDecodedAccounts()
    elif kind == "plain":
        world.native_cache = DecodedAccounts()
    else:
        world.native_cache = None  # type: ignore[assignment]
