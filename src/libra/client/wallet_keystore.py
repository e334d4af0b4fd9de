"""The wallet keystore: one encrypted Ed25519 key per named wallet, in the user's config folder.

Layout: ``<home>/<name>.json`` with mode 0600 in a folder with mode 0700, where
``<home>`` is ``$LIBRA_WALLET_HOME`` if set, else ``$XDG_CONFIG_HOME/libra/wallets``,
else ``~/.config/libra/wallets``. A file holds::

    {"format": "libra-wallet/1", "name": ..., "address": <32 hex>, "public_key": <64 hex>,
     "kdf": {"name": "argon2id", "salt": <32 hex>, "opslimit": 2, "memlimit": 67108864},
     "cipher": {"name": "xsalsa20poly1305", "nonce": <48 hex>, "ciphertext": <hex>},
     "created": "2026-11-27T04:21:00Z"}

The private key (32-byte seed) is sealed with libsodium's ``crypto_secretbox``
(XSalsa20-Poly1305, PyNaCl's ``SecretBox``) under a key derived from the passphrase
by Argon2id (``nacl.pwhash.argon2id``, libsodium's interactive limits). A wrong
passphrase fails the Poly1305 check: nothing is decrypted, and the error says so.
The address and public key are stored in clear so that ``list``, ``balance`` and
``history`` never ask for the passphrase.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret

from libra.crypto.auth import compute_address, compute_auth_key
from libra.crypto.ed25519 import Ed25519Error, Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "libra-wallet/1"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSPHRASE_LENGTH = 8
KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


class KeystoreError(Exception):
    """Base of keystore failures; ``exit_code`` follows the wallet CLI's convention."""

    exit_code = 1


class KeystoreInputError(KeystoreError):
    """A bad wallet name, passphrase or private key (exit code 2)."""

    exit_code = 2


class WalletNotFoundError(KeystoreError):
    """No wallet of that name (exit code 3)."""

    exit_code = 3


class WrongPassphraseError(KeystoreError):
    """The passphrase does not open this wallet (exit code 2)."""

    exit_code = 2


def default_home() -> Path:
    override = os.environ.get("LIBRA_WALLET_HOME")
    if override:
        return Path(override)
    config = os.environ.get("XDG_CONFIG_HOME")
    base = Path(config) if config else Path.home() / ".config"
    return base / "libra" / "wallets"


def check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise KeystoreInputError(
            f"wallet name {name!r} is not allowed: use 1-64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise KeystoreInputError(f"the passphrase must have at least {MIN_PASSPHRASE_LENGTH} characters")


def parse_private_key_hex(text: str) -> Ed25519PrivateKey:
    """A private key typed or pasted as 64 hex characters (``0x`` and spaces tolerated)."""
    digits = text.strip()
    if digits[:2] in ("0x", "0X"):
        digits = digits[2:]
    if len(digits) != 64:
        raise KeystoreInputError(f"a private key is 64 hex characters, got {len(digits)}")
    try:
        seed = bytes.fromhex(digits)
    except ValueError:
        raise KeystoreInputError("the private key is not hex (0-9, a-f)") from None
    try:
        return Ed25519PrivateKey(seed)
    except (Ed25519Error, ValueError) as exc:
        raise KeystoreInputError(f"not an Ed25519 private key: {exc}") from None


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return bytes(
        nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit
        )
    )


@dataclass(frozen=True, slots=True)
class WalletEntry:
    """What the keystore knows about a wallet without its passphrase."""

    name: str
    address: bytes
    public_key: bytes
    created: str
    path: Path

    @property
    def auth_key(self) -> bytes:
        return compute_auth_key(Ed25519PublicKey(self.public_key))


def seal(key: Ed25519PrivateKey, passphrase: str) -> dict[str, Any]:
    """The ``kdf`` and ``cipher`` parts of a wallet file for ``key`` under ``passphrase``."""
    salt = secrets.token_bytes(nacl.pwhash.argon2id.SALTBYTES)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, KDF_OPSLIMIT, KDF_MEMLIMIT))
    nonce = secrets.token_bytes(nacl.secret.SecretBox.NONCE_SIZE)
    sealed = box.encrypt(key.to_bytes(), nonce)
    return {
        "kdf": {"name": "argon2id", "salt": salt.hex(), "opslimit": KDF_OPSLIMIT, "memlimit": KDF_MEMLIMIT},
        "cipher": {"name": "xsalsa20poly1305", "nonce": nonce.hex(), "ciphertext": sealed.ciphertext.hex()},
    }


def unseal(document: dict[str, Any], passphrase: str) -> Ed25519PrivateKey:
    kdf, cipher = document["kdf"], document["cipher"]
    if kdf.get("name") != "argon2id" or cipher.get("name") != "xsalsa20poly1305":
        raise KeystoreError(f"unsupported wallet encryption {kdf.get('name')}/{cipher.get('name')}")
    box = nacl.secret.SecretBox(
        _derive(passphrase, bytes.fromhex(kdf["salt"]), int(kdf["opslimit"]), int(kdf["memlimit"]))
    )
    try:
        seed = box.decrypt(bytes.fromhex(cipher["ciphertext"]), bytes.fromhex(cipher["nonce"]))
    except nacl.exceptions.CryptoError:
        raise WrongPassphraseError("wrong passphrase for this wallet") from None
    return Ed25519PrivateKey(bytes(seed))


class Keystore:
    """Named wallets in one folder."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home if home is not None else default_home()

    def path(self, name: str) -> Path:
        check_name(name)
        return self.home / f"{name}.json"

    def _ensure_home(self) -> None:
        try:
            self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise KeystoreError(f"cannot create the wallet folder {self.home}: {exc.strerror}") from None

    def create(self, name: str, passphrase: str, key: Ed25519PrivateKey | None = None) -> WalletEntry:
        """Store ``key`` (a new random one by default) as wallet ``name``; never overwrites."""
        path = self.path(name)
        check_new_passphrase(passphrase)
        if key is None:
            key = Ed25519PrivateKey.generate()
        public = key.public_key().to_bytes()
        address = compute_address(compute_auth_key(key.public_key()))
        for entry in self.list():
            if entry.address == address:
                raise KeystoreInputError(f"this key is already in the keystore as wallet {entry.name!r}")
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        document = {
            "format": FORMAT,
            "name": name,
            "address": address.hex(),
            "public_key": public.hex(),
            **seal(key, passphrase),
            "created": created,
        }
        self._ensure_home()
        data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeystoreInputError(f"a wallet named {name!r} already exists ({path})") from None
        except OSError as exc:
            raise KeystoreError(f"cannot write {path}: {exc.strerror}") from None
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return WalletEntry(name, address, public, created, path)

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WalletNotFoundError(f"no wallet named {path.stem!r} in {self.home}") from None
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"cannot read wallet file {path}: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise KeystoreError(f"{path} is not a libra wallet file")
        return document

    def get(self, name: str) -> WalletEntry:
        path = self.path(name)
        document = self._read(path)
        return WalletEntry(
            name,
            bytes.fromhex(document["address"]),
            bytes.fromhex(document["public_key"]),
            str(document.get("created", "")),
            path,
        )

    def unlock(self, name: str, passphrase: str) -> Ed25519PrivateKey:
        entry = self.get(name)
        key = unseal(self._read(entry.path), passphrase)
        if key.public_key().to_bytes() != entry.public_key:
            raise KeystoreError(f"wallet file {entry.path} is inconsistent: its key does not match its public key")
        return key

    def list(self) -> list[WalletEntry]:
        if not self.home.is_dir():
            return []
        entries = []
        for path in sorted(self.home.glob("*.json")):
            if not NAME_PATTERN.match(path.stem):
                continue
            try:
                entries.append(self.get(path.stem))
            except KeystoreError:
                continue
        return entries
