"""How a validator is reached: the bytes stored in its on-chain ``ValidatorConfig``.

Diem stores an (optionally encrypted) multiaddr list; we store one plain endpoint::

    ValidatorEndpoint = address: String ("host:port") ‖ network_public_key: bytes (32)

so that peers find each other from the on-chain validator set and pin each other's
network key during the TLS handshake.
"""

from __future__ import annotations

from dataclasses import dataclass

from libra.bcs import BcsError, BcsType, Deserializer, Serializer

NETWORK_KEY_LENGTH = 32


@dataclass(frozen=True, slots=True)
class ValidatorEndpoint(BcsType):
    address: str
    network_public_key: bytes

    def __post_init__(self) -> None:
        host, sep, port = self.address.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"validator address must be HOST:PORT, got {self.address!r}")
        if len(self.network_public_key) != NETWORK_KEY_LENGTH:
            raise ValueError(f"network public key must be {NETWORK_KEY_LENGTH} bytes")

    @property
    def host(self) -> str:
        return self.address.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])

    def serialize(self, serializer: Serializer) -> None:
        serializer.str(self.address)
        serializer.bytes(self.network_public_key)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> ValidatorEndpoint:
        offset = deserializer.offset
        address = deserializer.str("validator address")
        key = deserializer.bytes("network public key")
        try:
            return cls(address, key)
        except ValueError as exc:
            raise BcsError(str(exc), offset, "ValidatorEndpoint") from None
