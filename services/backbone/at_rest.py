"""Personal data at rest: every service's stored events are encrypted (AES-256-GCM, through
eventsourcing's cipher hook), so names and mobiles in the stores are not readable by whoever reads the
database files or dumps; the key is kept in the hub's secrets folder, apart from the runtime folder.

The stored form is MAGIC, a 12-byte nonce, then the ciphertext with its tag, under a key of its own:
HMAC-SHA256(store key, MAGIC || nonce). An audit bundle carries that one event's key beside its bytes,
so an auditor reads and authenticates the event offline (the tag), and learns nothing of any other.
What a store held before encryption was switched on (JSON, which starts with "{") has no MAGIC and is read
as it is, so turning it on needs no migration. The audit chain hashes the stored bytes as they are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher

from services.backbone import keyfiles

MAGIC = b"\x00hc1"  # no JSON document starts with NUL
KEY_FILE = "store.key"
TOPIC = f"{__name__}:StoreCipher"


class StoreCipher(Cipher):
    """eventsourcing's cipher interface over AES-GCM; plaintext written before encryption passes."""

    def __init__(self, environment: Any) -> None:
        key = base64.b64decode(environment.get("CIPHER_KEY") or "")
        if len(key) != 32:
            raise ValueError("CIPHER_KEY must be 32 bytes, base64")
        self._key = key

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return MAGIC + nonce + AESGCM(self._event_key(nonce)).encrypt(nonce, bytes(plaintext), None)

    def decrypt(self, ciphertext: bytes) -> bytes:
        data = bytes(ciphertext)
        if not data.startswith(MAGIC):
            return data  # stored before encryption was on
        return open_event(self._event_key(data[len(MAGIC) : len(MAGIC) + 12]), data)

    def event_key(self, stored: bytes) -> bytes | None:
        """The key of this one stored event (None for bytes stored in clear)."""
        data = bytes(stored)
        return self._event_key(data[len(MAGIC) : len(MAGIC) + 12]) if data.startswith(MAGIC) else None

    def _event_key(self, nonce: bytes) -> bytes:
        return hmac.new(self._key, MAGIC + nonce, hashlib.sha256).digest()


def open_event(event_key: bytes, stored: bytes) -> bytes:
    """An encrypted event's bytes as written, with its own key; InvalidTag if they were altered."""
    start = len(MAGIC)
    return AESGCM(event_key).decrypt(stored[start : start + 12], stored[start + 12 :], None)


def plain(app: Any, state: bytes) -> bytes:
    """A stored event's bytes as its application's transcoder wrote them (decrypted, when its store
    is encrypted): for what reads events without decoding them (the relay, the audit, byte-level
    tests). InvalidTag when they were altered."""
    cipher = app.mapper.cipher
    return cipher.decrypt(state) if cipher is not None else bytes(state)


def store_key(secrets_dir: Path) -> str:
    """The stores' key (base64), made once in the secrets folder (0600; processes starting together
    agree on one)."""
    return keyfiles.made_once(secrets_dir / KEY_FILE, base64.b64encode(os.urandom(32)).decode("ascii"))
