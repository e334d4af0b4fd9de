"""A two-epoch chain for the node tests: genesis with validators v0, v1 (epoch 1), a plain
block, one block in which Diem Root adds a third validator by governance (it ends epoch 1)
and one block of epoch 2 signed by all three. Every block is certified by its epoch's set."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from diem import stdlib

_HELPERS = str(Path(__file__).parents[1] / "framework")
if _HELPERS not in sys.path:
    sys.path.insert(0, _HELPERS)

from testchain import CHAIN_ID, Account, Key, TestChain, sdk_address  # noqa: E402

from libra.crypto.hashing import ZERO_HASH, hash_seed  # noqa: E402
from libra.node.ledger import Ledger  # noqa: E402
from libra.storage.libradb import LibraDB  # noqa: E402
from libra.types.ledger import LedgerInfo, LedgerInfoWithSignatures  # noqa: E402
from libra.types.transaction import SignedTransaction  # noqa: E402

__all__ = ["CHAIN_ID", "Key", "Source", "sign"]


def sign(ledger_info: LedgerInfo, signers: list[Key]) -> LedgerInfoWithSignatures:
    message = hash_seed("LedgerInfo") + ledger_info.to_bcs()
    return LedgerInfoWithSignatures.create(
        ledger_info, {key.address: key.signing.sign(message).signature for key in signers}
    )


class Source:
    """The ledger a validator would have: two epochs, every block certified by its epoch's set."""

    def __init__(self, *, reconfigure: bool = True) -> None:
        self.chain = TestChain(validators=2)
        self.ledger = Ledger(LibraDB.in_memory(), CHAIN_ID)
        assert self.ledger.bootstrap(self.chain.genesis.transaction)
        self.newcomer, self.operator = Key.from_seed("newcomer"), Key.from_seed("newcomer-operator")
        chain, root = self.chain, self.chain.root_account
        owner, operator = Account(self.newcomer, self.newcomer.address), Account(self.operator, self.operator.address)
        self.block([], self.chain.validator_keys)  # a plain block of epoch 1
        governance = [
            chain.sign(root, stdlib.encode_create_validator_account_script_function(
                np.uint64(0), sdk_address(owner.address), self.newcomer.prefix, b"newcomer")),
            chain.sign(root, stdlib.encode_create_validator_operator_account_script_function(
                np.uint64(0), sdk_address(operator.address), self.operator.prefix, b"op")),
            chain.sign(owner, stdlib.encode_set_validator_operator_script_function(b"op", sdk_address(operator.address))),
            chain.sign(operator, stdlib.encode_register_validator_config_script_function(
                sdk_address(owner.address), self.newcomer.public, b"net", b"net")),
            chain.sign(root, stdlib.encode_add_validator_and_reconfigure_script_function(
                np.uint64(0), b"newcomer", sdk_address(owner.address))),
        ]
        self.governance: list[SignedTransaction] = governance
        if not reconfigure:
            return  # the caller executes the governance block itself
        self.epoch_end = self.block(governance, self.chain.validator_keys)
        assert self.epoch_end.ledger_info.next_epoch_state is not None
        self.block([], [*self.chain.validator_keys, self.newcomer])  # epoch 2, three signers

    def block(self, txns: list, signers: list[Key]) -> LedgerInfoWithSignatures:
        epoch = self.ledger.snapshot().epoch
        executed = self.ledger.execute(self.chain.metadata(), txns)
        assert all(r.version is not None for r in executed.results), [r.status for r in executed.results]
        certified = sign(LedgerInfo(self.ledger.block_info(executed, epoch), ZERO_HASH), signers)
        self.ledger.commit(executed, certified)
        return certified
