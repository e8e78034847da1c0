"""Personal data at rest: every service's stored events are encrypted (AES-256-GCM, through
eventsourcing's cipher hook), so names and mobiles in the stores are not readable by whoever reads the
database files or dumps; the key is kept in the hub's secrets folder, apart from the runtime folder.

The stored form is MAGIC, a 12-byte nonce, then the ciphertext with its tag. What a store held before
encryption was switched on (JSON, which starts with "{") has no MAGIC and is read as it is, so turning it
on needs no migration. The audit chain hashes the stored bytes as they are, encrypted or not.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher

MAGIC = b"\x00hc1"  # no JSON document starts with NUL
KEY_FILE = "store.key"
TOPIC = f"{__name__}:StoreCipher"


class StoreCipher(Cipher):
    """eventsourcing's cipher interface over AES-GCM; plaintext written before encryption passes."""

    def __init__(self, environment: Any) -> None:
        key = base64.b64decode(environment.get("CIPHER_KEY") or "")
        if len(key) != 32:
            raise ValueError("CIPHER_KEY must be 32 bytes, base64")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return MAGIC + nonce + self._aead.encrypt(nonce, bytes(plaintext), None)

    def decrypt(self, ciphertext: bytes) -> bytes:
        data = bytes(ciphertext)
        if not data.startswith(MAGIC):
            return data  # stored before encryption was on
        start = len(MAGIC)
        return self._aead.decrypt(data[start : start + 12], data[start + 12 :], None)


def store_key(secrets_dir: Path) -> str:
    """The stores' key (base64), made once in the secrets folder: written whole under another name and
    linked in, so processes starting together agree on one."""
    path = secrets_dir / KEY_FILE
    if not path.exists():
        secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        staged = secrets_dir / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(base64.b64encode(os.urandom(32)).decode("ascii"))
        try:
            os.link(staged, path)
        except FileExistsError:
            pass  # another process made it first: that one is the stores' key
        finally:
            staged.unlink()
    return path.read_text(encoding="ascii").strip()
