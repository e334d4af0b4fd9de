"""Certificates from network keys, the null CA, pinning helpers and the tie-break rule."""

from __future__ import annotations

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519

from libra.crypto.ed25519 import Ed25519PrivateKey
from libra.network import Network, PeerInfo, peer_id_for_key
from libra.network.connection import Origin
from libra.network.tls import (
    CLOCK_SKEW,
    PeerCertificateError,
    TlsIdentity,
    build_certificate,
    null_ca_certificate_der,
    peer_public_key,
)
from libra.types.move import AccountAddress

KEY = Ed25519PrivateKey(bytes(range(32)))


def test_certificate_carries_the_network_key_and_a_short_validity() -> None:
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    certificate = build_certificate(KEY, validity=datetime.timedelta(hours=2), now=now)
    public = certificate.public_key()
    assert isinstance(public, ed25519.Ed25519PublicKey)
    assert public.public_bytes_raw() == KEY.public_key().to_bytes()
    assert certificate.not_valid_before_utc == now - CLOCK_SKEW
    assert certificate.not_valid_after_utc == now + datetime.timedelta(hours=2)
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_leaf_is_signed_by_the_deterministic_null_ca() -> None:
    ca = x509.load_der_x509_certificate(null_ca_certificate_der())
    leaf = build_certificate(KEY)
    leaf.verify_directly_issued_by(ca)
    assert null_ca_certificate_der() == null_ca_certificate_der()


def test_contexts_are_tls13_only_and_require_peer_certificates() -> None:
    identity = TlsIdentity.create(KEY)
    for context in (identity.server, identity.client):
        assert context.minimum_version == context.maximum_version == ssl.TLSVersion.TLSv1_3
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert not context.check_hostname


def test_renewal_when_half_the_validity_is_gone() -> None:
    identity = TlsIdentity.create(KEY, validity=datetime.timedelta(hours=2))
    assert not identity.needs_renewal(datetime.timedelta(hours=2))
    assert identity.needs_renewal(datetime.timedelta(hours=5))


def test_peer_public_key_needs_a_tls_peer_certificate() -> None:
    with pytest.raises(PeerCertificateError, match="not TLS"):
        peer_public_key(None)


def test_peer_id_for_a_full_node_is_the_key_suffix() -> None:
    key = KEY.public_key().to_bytes()
    assert peer_id_for_key(key) == AccountAddress(key[16:])


def test_peer_info_validates_key_and_address() -> None:
    with pytest.raises(ValueError):
        PeerInfo(AccountAddress(bytes(16)), b"short")
    with pytest.raises(ValueError):
        PeerInfo(AccountAddress(bytes(16)), bytes(32), "no-port")


@pytest.mark.parametrize(
    ("me", "existing", "new", "new_wins"),
    [
        (1, Origin.INBOUND, Origin.INBOUND, True),  # the peer dialed again: it restarted
        (1, Origin.OUTBOUND, Origin.OUTBOUND, True),
        (1, Origin.OUTBOUND, Origin.INBOUND, True),  # new one dialed by the greater id (2)
        (1, Origin.INBOUND, Origin.OUTBOUND, False),
        (3, Origin.OUTBOUND, Origin.INBOUND, False),  # we (3) are greater: keep our dial
        (3, Origin.INBOUND, Origin.OUTBOUND, True),
    ],
)
def test_simultaneous_dial_keeps_the_connection_dialed_by_the_greater_id(
    me: int, existing: Origin, new: Origin, new_wins: bool
) -> None:
    network = Network(AccountAddress(bytes([me]) * 16), KEY)
    assert network._new_wins(existing, new, AccountAddress(bytes([2]) * 16)) is new_wins


def test_update_peers_refuses_a_key_shared_by_two_peers_and_ignores_self() -> None:
    me = AccountAddress(bytes([1]) * 16)
    network = Network(me, KEY)
    key = Ed25519PrivateKey(bytes([9]) * 32).public_key().to_bytes()
    with pytest.raises(ValueError, match="shared"):
        network.update_peers(
            [PeerInfo(AccountAddress(bytes([2]) * 16), key), PeerInfo(AccountAddress(bytes([3]) * 16), key)]
        )
    network.update_peers([PeerInfo(me, KEY.public_key().to_bytes())])
    assert network.allowed_peers() == frozenset()


def test_broadcast_to_some_peers_queues_one_frame_for_each_of_them_only() -> None:
    """Consensus broadcasts name the validators: a full node among the peers gets none."""
    from libra.network.wire import Protocol

    network = Network(AccountAddress(bytes([1]) * 16), KEY)
    peers = [AccountAddress(bytes([i]) * 16) for i in (2, 3, 4)]
    network.update_peers(
        [PeerInfo(p, Ed25519PrivateKey(bytes([i]) * 32).public_key().to_bytes()) for i, p in enumerate(peers, 5)]
    )
    assert network.broadcast(Protocol.CONSENSUS, b"vote", only=frozenset(peers[:2])) == 2
    assert [len(network._peers[p].queue) for p in peers] == [1, 1, 0]
    assert network.broadcast(Protocol.CONSENSUS, b"vote") == 3
    assert [len(network._peers[p].queue) for p in peers] == [2, 2, 1]
