"""Synthetic blocks and signed ledger infos, for tests, the crash harness and the benchmark.

Deterministic for a given seed: transactions are ``BlockMetadata`` entries,
accounts are random 16-byte addresses with random blobs, events use random keys
with increasing sequence numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.crypto.merkle import PRE_GENESIS_BLOCK_ID, ledger_info_signing_message
from libra.storage.libradb import EventToCommit, LibraDB, TransactionToCommit
from libra.types.ledger import (
    BlockInfo,
    EpochState,
    LedgerInfo,
    LedgerInfoWithSignatures,
    ValidatorConsensusInfo,
    ValidatorVerifier,
)
from libra.types.move import AccountAddress, PrimitiveTag
from libra.types.transaction import BlockMetadata, transaction_to_bcs
from libra.types.write_set import ContractEvent, EventKey


@dataclass
class Validators:
    """A validator set with its private keys."""

    keys: dict[AccountAddress, Ed25519PrivateKey]
    verifier: ValidatorVerifier

    @classmethod
    def generate(cls, count: int, rng: random.Random, voting_power: int = 1) -> Validators:
        keys = {
            AccountAddress(rng.randbytes(16)): Ed25519PrivateKey.from_bytes(rng.randbytes(32)) for _ in range(count)
        }
        infos = {address: ValidatorConsensusInfo(key.public_key().to_bytes(), voting_power) for address, key in keys.items()}
        return cls(keys, ValidatorVerifier.from_validators(infos))

    def sign(self, ledger_info: LedgerInfo, signers: int | None = None) -> LedgerInfoWithSignatures:
        message = ledger_info_signing_message(ledger_info)
        chosen = list(self.keys.items())[: len(self.keys) if signers is None else signers]
        return LedgerInfoWithSignatures.create(ledger_info, {a: k.sign(message).to_bytes() for a, k in chosen})


@dataclass
class ChainBuilder:
    """Builds consecutive blocks and their ledger infos; tracks the expected state."""

    rng: random.Random
    validators: Validators
    epoch: int = 1
    round: int = 0
    accounts: list[bytes] = field(default_factory=list)
    state: dict[bytes, bytes | None] = field(default_factory=dict)
    event_keys: dict[bytes, int] = field(default_factory=dict)

    def transaction(self, accounts_per_txn: int = 2, events: int = 1, new_account_rate: float = 0.2) -> TransactionToCommit:
        blobs: dict[bytes, bytes | None] = {}
        for _ in range(accounts_per_txn):
            if not self.accounts or self.rng.random() < new_account_rate:
                address = self.rng.randbytes(16)
                self.accounts.append(address)
            else:
                address = self.rng.choice(self.accounts)
            blobs[address] = self.rng.randbytes(self.rng.randint(40, 120))
        emitted = []
        for _ in range(events):
            key = self.rng.choice(list(self.event_keys)) if self.event_keys and self.rng.random() < 0.7 else None
            if key is None:
                key = self.rng.randbytes(24)
                self.event_keys[key] = 0
            sequence = self.event_keys[key]
            self.event_keys[key] = sequence + 1
            event = ContractEvent(EventKey(key), sequence, PrimitiveTag.U64, self.rng.randbytes(20))
            emitted.append(EventToCommit(key, sequence, event.to_bcs()))
        sender = next(iter(blobs))
        self.state.update(blobs)
        return TransactionToCommit(
            transaction_to_bcs(
                BlockMetadata(self.rng.randbytes(32), self.rng.getrandbits(32), 0, (), AccountAddress(sender))
            ),
            blobs,
            emitted,
            gas_used=self.rng.randint(0, 1000),
            sender=sender,
            sequence_number=self.rng.getrandbits(40),
        )

    def block(self, size: int, **kwargs: float) -> list[TransactionToCommit]:
        return [self.transaction(**kwargs) for _ in range(size)]  # type: ignore[arg-type]

    def ledger_info(self, version: int, root: bytes, end_epoch: bool = False) -> LedgerInfoWithSignatures:
        self.round += 1
        next_state = EpochState(self.epoch + 1, self.validators.verifier) if end_epoch else None
        info = LedgerInfo(
            BlockInfo(self.epoch, self.round, self.rng.randbytes(32), root, version, self.round * 1000, next_state),
            PRE_GENESIS_BLOCK_ID,
        )
        signed = self.validators.sign(info)
        if end_epoch:
            self.epoch += 1
        return signed

    def commit(self, db: LibraDB, size: int, *, end_epoch: bool = False, **kwargs: float) -> LedgerInfoWithSignatures:
        """Commit one block of ``size`` transactions with a signed ledger info."""
        first = db.next_version
        prepared = db.prepare_block(self.block(size, **kwargs), first)
        li = self.ledger_info(first + size - 1, prepared.root, end_epoch)
        db.commit_prepared(prepared, li)
        return li
