"""Genesis files: the first transaction every node of a network starts from.

``genesis.bcs`` holds BCS(Transaction::GenesisTransaction(WriteSetPayload::Direct)),
built by the framework from the network's keys and validator set. Every node
executes it as version 0, so they all start from the same state root.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from libra.crypto.auth import compute_address, compute_auth_key
from libra.crypto.ed25519 import Ed25519PublicKey
from libra.framework.genesis import GenesisConfig, ValidatorGenesis, build_genesis
from libra.types.move import AccountAddress
from libra.types.network_address import ValidatorEndpoint
from libra.types.transaction import GenesisTransaction, transaction_from_bcs, transaction_to_bcs


class GenesisError(ValueError):
    """A genesis file that is missing or not a genesis transaction."""


@dataclass(frozen=True, slots=True)
class ValidatorIdentity:
    name: str
    consensus_public_key: bytes
    network_public_key: bytes
    network_address: str  # HOST:PORT

    @property
    def account_address(self) -> AccountAddress:
        """The validator's account: derived from its consensus key, like any Diem account."""
        return AccountAddress(compute_address(compute_auth_key(Ed25519PublicKey(self.consensus_public_key))))


def genesis_config(
    *,
    chain_id: int,
    diem_root_public_key: bytes,
    treasury_compliance_public_key: bytes,
    designated_dealer_public_key: bytes,
    validators: Sequence[ValidatorIdentity],
) -> GenesisConfig:
    return GenesisConfig(
        chain_id=chain_id,
        root_public_key=diem_root_public_key,
        treasury_compliance_public_key=treasury_compliance_public_key,
        designated_dealer_public_key=designated_dealer_public_key,
        validators=tuple(
            ValidatorGenesis(
                address=v.account_address,
                consensus_public_key=v.consensus_public_key,
                network_address=ValidatorEndpoint(v.network_address, v.network_public_key).to_bcs(),
                voting_power=1,
                name=v.name.encode(),
            )
            for v in validators
        ),
    )


def write_genesis(path: Path, **kwargs: object) -> GenesisTransaction:
    """Build the genesis transaction and write it atomically (temp file, fsync, rename)."""
    result = build_genesis(genesis_config(**kwargs))  # type: ignore[arg-type]
    data = transaction_to_bcs(result.transaction)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return result.transaction


def read_genesis(path: Path) -> GenesisTransaction:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GenesisError(f"cannot read genesis file {path}: {exc.strerror}") from None
    try:
        txn = transaction_from_bcs(data)
    except ValueError as exc:
        raise GenesisError(f"genesis file {path} is not a BCS transaction: {exc}") from None
    if not isinstance(txn, GenesisTransaction):
        raise GenesisError(f"genesis file {path} holds a {type(txn).__name__}, not a genesis transaction")
    return txn
