"""TLS 1.3 identities: certificates built from a node's Ed25519 network key, and pinning.

Rules:

* Every node presents an X.509 certificate whose public key is its Ed25519 network key.
  The certificate is made at startup, is valid for a short time (``validity``, an hour of
  clock-skew margin before now), and its names carry no meaning.
* Trust comes only from **pinning**: right after the handshake the peer certificate's
  Ed25519 key is compared with the keys we allow (the epoch's validator set plus
  configured full nodes). TLS 1.3's ``CertificateVerify`` proves the peer holds the
  private key of the certificate it showed, so a matching key authenticates the peer.
* The stdlib ``ssl`` module cannot install a custom verify callback, and OpenSSL only
  asks a client for a certificate when it will verify it against a trust anchor. So every
  leaf is issued by a **null CA**: a CA whose private key is derived from a public constant
  and is therefore known to everybody. Its signature proves nothing and is not meant to;
  it only lets OpenSSL request, receive and check the signatures of peer certificates.
  Never treat a chain to the null CA as authentication: only the pinned key is.
* TLS 1.3 only, on both sides; the server requires a client certificate
  (``CERT_REQUIRED``); host names are not checked.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from libra.crypto.ed25519 import Ed25519PrivateKey

NULL_CA_SEED = hashlib.sha3_256(b"LIBRA::network-tls-null-ca").digest()
_NULL_CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "libra-network-null-ca")])
_LEAF_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "libra-node")])
CLOCK_SKEW = datetime.timedelta(hours=1)
DEFAULT_VALIDITY = datetime.timedelta(days=1)


class PeerCertificateError(ValueError):
    """The peer's certificate is missing or does not carry an Ed25519 key."""


def _null_ca_key() -> ed25519.Ed25519PrivateKey:
    """The null CA's key: public by construction (see the module docstring)."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(NULL_CA_SEED)


@cache
def null_ca_certificate_der() -> bytes:
    """The null CA certificate; deterministic, so every node builds the same bytes."""
    key = _null_ca_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_NULL_CA_NAME)
        .issuer_name(_NULL_CA_NAME)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, None)
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """Key usage of a CA (certificate signing) or of a leaf (digital signatures only)."""
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def build_certificate(
    network_key: Ed25519PrivateKey,
    *,
    validity: datetime.timedelta = DEFAULT_VALIDITY,
    now: datetime.datetime | None = None,
) -> x509.Certificate:
    """A leaf certificate for ``network_key``, issued by the null CA.

    Valid from ``now - CLOCK_SKEW`` to ``now + validity``; random serial; no meaningful names.
    """
    moment = now or datetime.datetime.now(datetime.UTC)
    ca_key = _null_ca_key()
    leaf_key = ed25519.Ed25519PrivateKey.from_private_bytes(network_key.seed)
    return (
        x509.CertificateBuilder()
        .subject_name(_LEAF_NAME)
        .issuer_name(_NULL_CA_NAME)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - CLOCK_SKEW)
        .not_valid_after(moment + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, None)
    )


def _base_context(server_side: bool) -> ssl.SSLContext:
    """TLS 1.3 only, peer certificate required and chained to the null CA, no host names."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=null_ca_certificate_der())
    return context


def _load_identity(
    context: ssl.SSLContext, network_key: Ed25519PrivateKey, certificate: x509.Certificate
) -> None:
    """Load the certificate and key into ``context``.

    ``ssl`` reads identities only from files, so they go through a private temporary
    directory (mode 0700) that is removed at once; the key is written encrypted under a
    one-time random password, so the plain key never touches the disk.
    """
    password = secrets.token_hex(16).encode("ascii")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(network_key.seed)
    pem = certificate.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    with tempfile.TemporaryDirectory(prefix="libra-tls-") as directory:
        path = Path(directory) / "identity.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
        context.load_cert_chain(path, password=password)


@dataclass(frozen=True, slots=True)
class TlsIdentity:
    """A node's two TLS contexts (accepting, dialing) and when their certificate expires."""

    server: ssl.SSLContext
    client: ssl.SSLContext
    not_after: datetime.datetime

    @classmethod
    def create(
        cls,
        network_key: Ed25519PrivateKey,
        *,
        validity: datetime.timedelta = DEFAULT_VALIDITY,
        with_certificate: bool = True,
    ) -> TlsIdentity:
        """Build a fresh certificate for ``network_key`` and both contexts around it.

        ``with_certificate=False`` exists for tests of a client that shows no certificate.
        """
        certificate = build_certificate(network_key, validity=validity)
        server, client = _base_context(True), _base_context(False)
        if with_certificate:
            _load_identity(server, network_key, certificate)
            _load_identity(client, network_key, certificate)
        return cls(server, client, certificate.not_valid_after_utc)

    def needs_renewal(self, validity: datetime.timedelta) -> bool:
        """Renew once less than half the validity is left, so peers never see it expire."""
        return datetime.datetime.now(datetime.UTC) > self.not_after - validity / 2


def peer_public_key(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> bytes:
    """The raw 32-byte Ed25519 key of the peer's certificate after a handshake.

    Raises :class:`PeerCertificateError` if there is no certificate or its key is not Ed25519.
    """
    if ssl_object is None:
        raise PeerCertificateError("connection is not TLS")
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise PeerCertificateError("peer showed no certificate")
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError as exc:
        raise PeerCertificateError(f"peer certificate does not parse: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise PeerCertificateError(f"peer certificate key is {type(key).__name__}, not Ed25519")
    return key.public_bytes_raw()
