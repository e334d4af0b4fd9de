"""Ed25519 keys and signatures (RFC 8032) with Diem's strictness, over PyNaCl.

Rules (diem-protocol.md §5, §7; Diem's ``crypto/src/ed25519.rs``):

* a private key is its 32-byte seed; a public key is a 32-byte compressed point;
  a signature is ``R (32) || S (32)``;
* a public key must decode to a curve point, use the canonical encoding
  (``y < p``) and must not be of small order (``[8]A != identity``);
* a signature must have a canonical scalar ``S < L`` (no malleability); its
  ``R`` must not be of small order (libsodium checks that while verifying);
* verification is the cofactorless equation ``[S]B == R + [k]A`` as libsodium
  and ed25519-dalek's ``verify_strict`` compute it; :meth:`Ed25519PublicKey.verify`
  returns ``False`` rather than raising for a wrong signature.

Verification runs in the native core (``core/engine/src/crypto``, the same rule check
by check, held to PyNaCl by ``tests/unit/native/test_ed25519_verify.py``) unless
``LIBRA_CORE=python``, where ``ed25519_strict`` (PyNaCl) answers. The native single
check keeps the GIL (a thread that gives it up for tens of microseconds waits up to
the switch interval to get it back); :func:`verify_batch` gives it up and uses both cores.

In BCS both keys and signatures are ``bytes`` (length-prefixed), and decoding
applies the same checks, as Diem's ``DeserializeKey`` does.

Key files hold the hex private key and a newline, are created with mode 0600,
and are refused on load when group or others can read them.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import nacl.bindings
import nacl.exceptions

from libra.bcs import BcsError, BcsType, Deserializer, Serializer
from libra.crypto import ed25519_strict
from libra.crypto.ed25519_strict import (
    PRIVATE_KEY_LENGTH,
    PUBLIC_KEY_LENGTH,
    SIGNATURE_LENGTH,
    Ed25519Error,
    check_public_key_bytes,
    check_signature_bytes,
)
from libra.native import CORE

__all__ = [
    "PRIVATE_KEY_LENGTH",
    "PUBLIC_KEY_LENGTH",
    "SIGNATURE_LENGTH",
    "Ed25519Error",
    "KeyFileError",
    "check_public_key_bytes",
    "check_signature_bytes",
    "verify_signature",
    "verify_batch",
    "Ed25519PublicKey",
    "Ed25519Signature",
    "Ed25519PrivateKey",
    "save_private_key",
    "load_private_key",
    "verify_many",
]

verify_signature: Callable[[bytes, bytes, bytes], bool] = (
    ed25519_strict.verify_signature if CORE is None else CORE.ed25519_verify
)
"""``verify_signature(public_key, message, signature)``: strict verification of raw bytes
(``bytes`` objects); False for any malformed or wrong input."""


def verify_batch(items: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """The validity of each raw ``(public_key, message, signature)``, in order: natively in
    one call that releases the GIL and spreads the items over the cores, else one by one."""
    if CORE is None:
        return [ed25519_strict.verify_signature(key, message, sig) for key, message, sig in items]
    return CORE.verify_signatures([(0, key, message, sig) for key, message, sig in items])  # type: ignore[no-any-return]


class KeyFileError(ValueError):
    """A key file that cannot be written or read back as an Ed25519 private key."""


def _decode_checked(deserializer: Deserializer, check: Callable[[bytes], None], what: str) -> bytes:
    """Read length-prefixed bytes and run ``check`` on them, reporting failures as BcsError."""
    start = deserializer.offset
    data = deserializer.bytes(what)
    try:
        check(data)
    except Ed25519Error as exc:
        raise BcsError(str(exc), start, what) from None
    return data


@dataclass(frozen=True, slots=True)
class Ed25519Signature(BcsType):
    """A 64-byte Ed25519 signature with a canonical ``S``."""

    data: bytes

    def __post_init__(self) -> None:
        check_signature_bytes(self.data)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls(bytes(data))

    @classmethod
    def from_hex(cls, text: str) -> Self:
        return cls(_hex_to_bytes(text, "Ed25519 signature"))

    def to_bytes(self) -> bytes:
        return self.data

    def hex(self) -> str:
        return self.data.hex()

    def serialize(self, serializer: Serializer) -> None:
        serializer.bytes(self.data)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Self:
        return cls(_decode_checked(deserializer, check_signature_bytes, "Ed25519Signature"))


@dataclass(frozen=True, slots=True)
class Ed25519PublicKey(BcsType):
    """A strict Ed25519 public key: canonical, on the curve, not of small order."""

    data: bytes

    def __post_init__(self) -> None:
        check_public_key_bytes(self.data)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls(bytes(data))

    @classmethod
    def from_hex(cls, text: str) -> Self:
        return cls(_hex_to_bytes(text, "Ed25519 public key"))

    def to_bytes(self) -> bytes:
        return self.data

    def hex(self) -> str:
        return self.data.hex()

    def verify(self, message: bytes, signature: Ed25519Signature) -> bool:
        """True iff ``signature`` is a valid strict signature of ``message`` by this key."""
        return verify_signature(self.data, message, signature.data)

    def serialize(self, serializer: Serializer) -> None:
        serializer.bytes(self.data)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> Self:
        return cls(_decode_checked(deserializer, check_public_key_bytes, "Ed25519PublicKey"))


@dataclass(frozen=True, slots=True)
class Ed25519PrivateKey:
    """An Ed25519 private key, kept as its 32-byte seed; ``repr`` never shows it."""

    seed: bytes = field(repr=False)
    _secret: bytes = field(init=False, repr=False, compare=False)
    _public: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.seed) != PRIVATE_KEY_LENGTH:
            raise Ed25519Error(
                f"Ed25519 private key must be {PRIVATE_KEY_LENGTH} bytes, got {len(self.seed)}"
            )
        public, secret = nacl.bindings.crypto_sign_seed_keypair(bytes(self.seed))
        object.__setattr__(self, "_secret", secret)
        object.__setattr__(self, "_public", Ed25519PublicKey(public))

    @classmethod
    def generate(cls) -> Self:
        """A fresh key from the operating system's CSPRNG."""
        return cls(secrets.token_bytes(PRIVATE_KEY_LENGTH))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls(bytes(data))

    @classmethod
    def from_hex(cls, text: str) -> Self:
        return cls(_hex_to_bytes(text, "Ed25519 private key"))

    def to_bytes(self) -> bytes:
        return self.seed

    def hex(self) -> str:
        return self.seed.hex()

    def public_key(self) -> Ed25519PublicKey:
        return self._public

    def sign(self, message: bytes) -> Ed25519Signature:
        """RFC 8032 deterministic signature over ``message`` itself (no pre-hash)."""
        signed = nacl.bindings.crypto_sign(message, self._secret)
        return Ed25519Signature(signed[:SIGNATURE_LENGTH])


def _hex_to_bytes(text: str, what: str) -> bytes:
    """Decode hex, with or without a ``0x`` prefix."""
    stripped = text.strip()
    if stripped[:2] in ("0x", "0X"):
        stripped = stripped[2:]
    try:
        return bytes.fromhex(stripped)
    except ValueError:
        raise Ed25519Error(f"{what} is not valid hex: {text[:80]!r}") from None


# --- key files -------------------------------------------------------------------------------


def save_private_key(
    path: str | os.PathLike[str], key: Ed25519PrivateKey, *, overwrite: bool = False
) -> None:
    """Write ``key`` as hex to ``path``, created with mode 0600.

    An existing file is refused unless ``overwrite``; then it is replaced
    atomically through a temporary file in the same directory.
    """
    target = Path(path)
    content = (key.hex() + "\n").encode("ascii")
    if not overwrite:
        _write_new(target, content)
        return
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    _write_new(temporary, content)
    try:
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise KeyFileError(f"cannot write key file {target}: {exc.strerror}") from None


def _write_new(path: Path, content: bytes) -> None:
    """Create ``path`` exclusively with mode 0600 and write ``content`` durably."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeyFileError(f"cannot create key file {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # the umask may have cleared bits; make the mode exact
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


def load_private_key(path: str | os.PathLike[str], *, check_permissions: bool = True) -> Ed25519PrivateKey:
    """Read a key file written by :func:`save_private_key`.

    The file must hold 64 hex characters (surrounding whitespace and a ``0x``
    prefix are tolerated) and, unless ``check_permissions`` is False, must not
    be readable or writable by group or others.
    """
    source = Path(path)
    try:
        mode = source.stat().st_mode
        raw = source.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"key file {source} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {source}: {exc.strerror}") from None
    if check_permissions and mode & 0o077:
        raise KeyFileError(
            f"key file {source} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
            "run chmod 600 on it"
        )
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise KeyFileError(f"key file {source} is not ASCII hex") from None
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    if len(text) != 2 * PRIVATE_KEY_LENGTH:
        raise KeyFileError(
            f"key file {source} must hold {2 * PRIVATE_KEY_LENGTH} hex characters, found {len(text)}"
        )
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        raise KeyFileError(f"key file {source} is not valid hex") from None
    return Ed25519PrivateKey(seed)


# --- batch verification ----------------------------------------------------------------------

VerifyItem = tuple[Ed25519PublicKey, bytes, Ed25519Signature]


def _verify_chunk(items: Sequence[VerifyItem]) -> list[bool]:
    return [verify_signature(key.data, message, sig.data) for key, message, sig in items]


def verify_many(
    items: Sequence[VerifyItem], executor: Executor | None = None, *, chunk_size: int = 64
) -> list[bool]:
    """Verify each ``(public_key, message, signature)``; results in input order.

    On the native path the whole list is one :func:`verify_batch` (the executor is not
    needed: the core spreads the work over the cores itself). On the reference path, with an executor the items are verified in chunks of ``chunk_size`` on its
    workers. libsodium is called through cffi, which releases the GIL, so the
    Python work per item (a few microseconds of ~70) is all that serialises.
    Measured here (2 shared cores, other jobs running): about 12.5k verifies/s
    on one thread and up to 16.4k/s on two; two processes scaled no better at
    the same time, so the second core, not the GIL, was the limit.
    Without an executor the items are verified in the calling thread.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    if CORE is not None:
        return verify_batch([(key.data, message, sig.data) for key, message, sig in items])
    if executor is None or len(items) <= chunk_size:
        return _verify_chunk(items)
    chunks = [items[start : start + chunk_size] for start in range(0, len(items), chunk_size)]
    results: list[bool] = []
    for chunk_result in executor.map(_verify_chunk, chunks):
        results.extend(chunk_result)
    return results
