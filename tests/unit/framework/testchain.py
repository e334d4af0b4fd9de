"""A tiny in-memory chain for tests: genesis, SDK-built and signed transactions, block execution."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import nacl.signing
import numpy as np
from diem import diem_types as dt
from diem import stdlib, utils

from libra.execution import BlockOutput, InMemoryStateView, TransactionOutput, execute_block
from libra.framework.genesis import GenesisConfig, ValidatorGenesis, build_genesis
from libra.framework.views import AccountView, get_account_view
from libra.types.move import TESTNET_DD_ADDRESS, TREASURY_COMPLIANCE_ADDRESS, AccountAddress
from libra.types.transaction import BlockMetadata, ScriptFunction, SignedTransaction

CHAIN_ID = 2
START_USECS = 1_700_000_000_000_000
XUS = utils.currency_code("XUS")
XDX = utils.currency_code("XDX")


@dataclass
class Key:
    signing: nacl.signing.SigningKey

    @classmethod
    def from_seed(cls, label: str) -> Key:
        return cls(nacl.signing.SigningKey(hashlib.sha3_256(label.encode()).digest()))

    @property
    def public(self) -> bytes:
        return bytes(self.signing.verify_key)

    @property
    def auth_key(self) -> bytes:
        return hashlib.sha3_256(self.public + b"\x00").digest()

    @property
    def address(self) -> AccountAddress:
        return AccountAddress(self.auth_key[16:])

    @property
    def prefix(self) -> bytes:
        return self.auth_key[:16]


def sdk_address(address: AccountAddress) -> dt.AccountAddress:
    return utils.account_address(address.hex())


@dataclass
class Account:
    key: Key
    address: AccountAddress


class TestChain:
    __test__ = False

    def __init__(self, validators: int = 1, **genesis: object) -> None:
        self.root = Key.from_seed("root")
        self.tc = Key.from_seed("tc")
        self.dd = Key.from_seed("dd")
        self.validator_keys = [Key.from_seed(f"validator{i}") for i in range(validators)]
        config = GenesisConfig(
            chain_id=CHAIN_ID,
            root_public_key=self.root.public,
            treasury_compliance_public_key=self.tc.public,
            designated_dealer_public_key=self.dd.public,
            validators=tuple(
                ValidatorGenesis(k.address, k.public, b"/ip4/127.0.0.1/tcp/" + str(6180 + i).encode(), 1, f"v{i}".encode())
                for i, k in enumerate(self.validator_keys)
            ),
            **genesis,  # type: ignore[arg-type]
        )
        self.genesis = build_genesis(config)
        self.view: InMemoryStateView = self.genesis.state_view()
        self.now = START_USECS
        self.round = 0
        self.seq: dict[AccountAddress, int] = {}
        self.root_account = Account(self.root, AccountAddress.from_literal("0xA550C18"))
        self.tc_account = Account(self.tc, TREASURY_COMPLIANCE_ADDRESS)
        self.dd_account = Account(self.dd, TESTNET_DD_ADDRESS)
        self.nonce = 0

    # --- building transactions ------------------------------------------------------------

    def sign(
        self,
        account: Account,
        payload: dt.TransactionPayload,
        *,
        seq: int | None = None,
        max_gas: int = 1_000_000,
        price: int = 0,
        currency: str = "XDX",
        expiration: int | None = None,
        chain_id: int = CHAIN_ID,
        key: Key | None = None,
    ) -> SignedTransaction:
        """An SDK-built, nacl-signed transaction, decoded into our types."""
        if seq is None:
            seq = self.seq.get(account.address, 0)
            self.seq[account.address] = seq + 1
        if expiration is None:
            expiration = self.now // 1_000_000 + 3600
        raw = dt.RawTransaction(
            sender=sdk_address(account.address),
            sequence_number=np.uint64(seq),
            payload=payload,
            max_gas_amount=np.uint64(max_gas),
            gas_unit_price=np.uint64(price),
            gas_currency_code=currency,
            expiration_timestamp_secs=np.uint64(expiration),
            chain_id=dt.ChainId.from_int(chain_id),
        )
        signer = key or account.key
        signature = signer.signing.sign(utils.raw_transaction_signing_msg(raw)).signature
        signed = utils.create_signed_transaction(raw, signer.public, signature)
        return SignedTransaction.from_bcs(signed.bcs_serialize())

    def sign_function(self, account: Account, payload: ScriptFunction, **kw: object) -> SignedTransaction:
        """Sign one of our builders' payloads (scripts the SDK has no encoder for)."""
        sdk_payload = dt.TransactionPayload.bcs_deserialize(b"\x03" + payload.to_bcs())  # variant 3: ScriptFunction
        return self.sign(account, sdk_payload, **kw)  # type: ignore[arg-type]

    def next_nonce(self) -> np.uint64:
        self.nonce += 1
        return np.uint64(self.nonce)

    # --- executing --------------------------------------------------------------------------

    def metadata(self) -> BlockMetadata:
        self.now += 1_000_000
        self.round += 1
        proposer = self.validator_keys[0].address
        return BlockMetadata(self.round.to_bytes(32, "little"), self.round, self.now, (), proposer)

    def execute(self, txns: list[SignedTransaction], **kwargs: object) -> BlockOutput:
        output = execute_block(self.view, self.metadata(), txns, chain_id=CHAIN_ID, **kwargs)  # type: ignore[arg-type]
        self.view.apply(output.changed_blobs)
        for txn, out in zip(txns, output.transaction_outputs, strict=True):
            if out.is_discarded and self.seq.get(txn.sender, 0) == txn.sequence_number + 1:
                self.seq[txn.sender] = txn.sequence_number
        return output

    def run(self, txn: SignedTransaction) -> TransactionOutput:
        return self.execute([txn]).transaction_outputs[0]

    def account(self, address: AccountAddress) -> AccountView | None:
        return get_account_view(self.view, address)

    def balance(self, address: AccountAddress, code: str = "XUS") -> int:
        view = self.account(address)
        assert view is not None
        return dict(view.balances).get(code, 0)

    # --- common set-ups ---------------------------------------------------------------------

    def new_parent_vasp(self, label: str, *, fund: int = 0, add_all: bool = False) -> Account:
        key = Key.from_seed(label)
        out = self.run(
            self.sign(
                self.tc_account,
                stdlib.encode_create_parent_vasp_account_script_function(
                    XUS, np.uint64(0), sdk_address(key.address), key.prefix, label.encode(), add_all
                ),
            )
        )
        assert out.status.__class__.__name__ == "Executed", out.status
        account = Account(key, key.address)
        if fund:
            self.pay(self.dd_account, account, fund)
        return account

    def new_child_vasp(self, parent: Account, label: str, *, initial: int = 0) -> Account:
        key = Key.from_seed(label)
        out = self.run(
            self.sign(
                parent,
                stdlib.encode_create_child_vasp_account_script_function(
                    XUS, sdk_address(key.address), key.prefix, False, np.uint64(initial)
                ),
            )
        )
        assert out.status.__class__.__name__ == "Executed", out.status
        return Account(key, key.address)

    def new_dd(self, label: str) -> Account:
        key = Key.from_seed(label)
        out = self.run(
            self.sign(
                self.tc_account,
                stdlib.encode_create_designated_dealer_script_function(
                    XUS, np.uint64(0), sdk_address(key.address), key.prefix, label.encode(), False
                ),
            )
        )
        assert out.status.__class__.__name__ == "Executed", out.status
        return Account(key, key.address)

    def new_reserve_attester(self, label: str) -> Account:
        from libra.client import builders

        key = Key.from_seed(label)
        out = self.run(self.sign_function(self.root_account, builders.create_reserve_attester_account(0, key.address, key.prefix)))
        assert out.status.__class__.__name__ == "Executed", out.status
        return Account(key, key.address)

    def p2p(self, payer: Account, payee: AccountAddress, amount: int, metadata: bytes = b"", signature: bytes = b"", **kw: object) -> SignedTransaction:
        payload = stdlib.encode_peer_to_peer_with_metadata_script_function(
            XUS, sdk_address(payee), np.uint64(amount), metadata, signature
        )
        return self.sign(payer, payload, **kw)  # type: ignore[arg-type]

    def pay(self, payer: Account, payee: Account, amount: int) -> TransactionOutput:
        out = self.run(self.p2p(payer, payee.address, amount))
        assert out.status.__class__.__name__ == "Executed", out.status
        return out


def mutate(chain: TestChain, address: AccountAddress, kind: object, change: object) -> None:
    """Rewrite one resource of an account in the chain's state (to reach states no script makes)."""
    from libra.framework.state import decode_account_blob, encode_account_blob

    raw = decode_account_blob(chain.view.blobs[address])
    path = kind.path  # type: ignore[attr-defined]
    if change is None:
        raw.pop(path)
    else:
        old = kind.decode(raw[path]) if path in raw else None  # type: ignore[attr-defined]
        raw[path] = change(old).to_bcs()  # type: ignore[operator]
    chain.view.blobs[address] = encode_account_blob(raw)


def status_of(out: TransactionOutput) -> tuple[str, int | None, str | None]:
    """(kind, abort code, reason name) of an output, for compact assertions."""
    status = out.status
    name = type(status).__name__
    if name == "MoveAbortStatus":
        return name, status.abort_code, status.reason.name if status.reason else None  # type: ignore[union-attr]
    if name == "Discarded":
        return name, None, status.status_code  # type: ignore[union-attr]
    return name, None, None


_MIXED: dict[str, object] = {}


def mixed_chain() -> tuple[TestChain, list[Account]]:
    """Two VASPs (one with a child) and a second DD, built once; each call restores that state.

    Returns the chain and its accounts: alice, alice's child, bob, the second dealer, the testnet DD.
    """
    if not _MIXED:
        chain = TestChain()
        alice = chain.new_parent_vasp("alice", fund=10**7)
        child = chain.new_child_vasp(alice, "alice-child", initial=10**6)
        bob = chain.new_parent_vasp("bob", fund=10**7)
        dealer = chain.new_dd("dealer")
        _MIXED.update(chain=chain, view=chain.view.copy(), seq=dict(chain.seq), now=chain.now, round=chain.round,
                      accounts=[alice, child, bob, dealer, chain.dd_account])
    chain = _MIXED["chain"]  # type: ignore[assignment]
    chain.view, chain.seq = _MIXED["view"].copy(), dict(_MIXED["seq"])  # type: ignore[attr-defined]
    chain.now, chain.round = _MIXED["now"], _MIXED["round"]  # type: ignore[attr-defined]
    return chain, list(_MIXED["accounts"])  # type: ignore[call-overload, return-value]


def mixed_chain_accounts() -> list[Account]:
    """The accounts of :func:`mixed_chain`, without restoring its state."""
    if not _MIXED:
        mixed_chain()
    return list(_MIXED["accounts"])  # type: ignore[call-overload]
