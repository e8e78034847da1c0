"""Write-time links: each transaction's events chained to the store's previous ones under a MAC key.

The service that writes events also writes, in the same transaction and under the events table's
lock, one link row: what the transaction added (its first and last notification ids, how many events,
the SM3 of each event's canonical bytes) chained to the row before, under HMAC-SM3 with a key the
database does not hold:

    entries  = u64 id_1 || digest_1 || … || u64 id_n || digest_n        (notification order)
    link_t   = HMAC-SM3(key, FORMAT || 0x00 || store || 0x00 || link_{t-1}
                        || u64 first id || u64 last id || u32 n || SM3(entries))
    link_0   = SM3(FORMAT || 0x00 || store)                              (before the first row)

Whoever can write to the database but does not hold the key can add, change or remove events, but
cannot make the rows that would cover them: the audit worker checks every row before it puts an event
in its Merkle tree, so an event written past the hub is never signed afterwards.

Event bytes (big-endian, length-prefixed, so no two different events share them), with
tail = u64 originator version || u16 len(topic) || u32 len(state) || topic || state:
  UUID originator: 0x01 || 16-byte UUID || tail;  text originator: 0x02 || u16 len || UTF-8 id || tail
This module is pure (hashlib, hmac): the audit's offline tools use it without a database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from services.backbone import keyfiles

if TYPE_CHECKING:
    from services.backbone.settings import Settings

FORMAT = b"riskhub-write-link/v1"
KEY_ENV, KEY_FILE_ENV = "HUB_CHAIN_KEY", "HUB_CHAIN_KEY_FILE"  # as Settings reads them
UUID_HEAD = struct.Struct(">B16sQHI")
_TEXT_HEAD = struct.Struct(">BH")
_TEXT_REST = struct.Struct(">QHI")
_U64 = struct.Struct(">Q")
_ROW = struct.Struct(">32sQQI32s")


def _constructor() -> Any:
    """OpenSSL's SM3 (hashlib.new("sm3"), called without hashlib's extra Python frame: two hashes per
    event make it count), or gmalglib's on an OpenSSL build without SM3."""
    new: Any
    try:
        from _hashlib import new  # what hashlib.new("sm3", …) calls
    except ImportError:
        new = hashlib.new
    try:
        new("sm3")
        return new
    except ValueError:
        from gmalglib.sm3 import SM3

        return lambda _name, data=b"": SM3(data)


new_hash = _constructor()


def sm3(data: bytes) -> bytes:
    """The SM3 digest of data (OpenSSL through hashlib, else gmalglib)."""
    return bytes(new_hash("sm3", data).digest())


def event_bytes(originator_id: uuid.UUID | str, originator_version: int, topic: str, state: bytes) -> bytes:
    """The canonical bytes of a stored event (what its digest covers)."""
    top = topic.encode("utf-8")
    if isinstance(originator_id, uuid.UUID):
        return UUID_HEAD.pack(1, originator_id.bytes, originator_version, len(top), len(state)) + top + state
    oid = originator_id.encode("utf-8")
    rest = _TEXT_REST.pack(originator_version, len(top), len(state))
    return _TEXT_HEAD.pack(2, len(oid)) + oid + rest + top + state


def digest(event: Any) -> bytes:
    """SM3 of the canonical bytes of a StoredEvent or a Notification (anything with their fields)."""
    oid, state = event.originator_id, event.state
    if isinstance(oid, uuid.UUID) and isinstance(state, bytes):  # the hot path, inlined
        top = event.topic.encode("utf-8")
        data = UUID_HEAD.pack(1, oid.bytes, event.originator_version, len(top), len(state)) + top + state
        return new_hash("sm3", data).digest()  # type: ignore[no-any-return]
    # a state stored as text (SQLite keeps what it is given): its UTF-8, as it would be read back
    raw = state.encode("utf-8") if isinstance(state, str) else bytes(state)
    return sm3(event_bytes(oid, event.originator_version, event.topic, raw))


def genesis(store: str) -> bytes:
    """The link before a store's first row."""
    return sm3(FORMAT + b"\x00" + store.encode("utf-8"))


def entries(ids: Iterable[int], digests: Iterable[bytes]) -> bytes:
    pack = _U64.pack
    return b"".join(pack(n) + d for n, d in zip(ids, digests, strict=True))


def link(
    key: bytes, store: str, previous: bytes, first_id: int, last_id: int, count: int, packed: bytes
) -> bytes:
    """One row's link: the transaction's entries chained onto `previous` under the key."""
    message = FORMAT + b"\x00" + store.encode("utf-8") + b"\x00"
    message += _ROW.pack(previous, first_id, last_id, count, sm3(packed))
    return hmac.digest(key, message, "sm3")


class Row(NamedTuple):
    """A link row as stored: the transaction's last and first notification ids, its size, its link."""

    last_id: int
    first_id: int
    events: int
    link: bytes


def row_for(key: bytes, store: str, previous: bytes, ids: list[int], digests: list[bytes]) -> Row:
    return Row(
        ids[-1],
        ids[0],
        len(ids),
        link(key, store, previous, ids[0], ids[-1], len(ids), entries(ids, digests)),
    )


_key_lock = threading.Lock()
_key_cache: dict[str, bytes] = {}


class LinkKey:
    """Where a hub's write-link key comes from: `given` (HUB_CHAIN_KEY, 64 hex), else the 0600 file at
    `path` (HUB_CHAIN_KEY_FILE, default write-link.key in the secrets folder), made once, never inside
    `runtime_dir`. Every process of a hub must read the same key: in Compose and Kubernetes, give it
    HUB_CHAIN_KEY. The key is read once: a store's recorder asks for it on every save."""

    __slots__ = ("_key", "given", "path", "runtime_dir")

    def __init__(self, given: str, path: Path, runtime_dir: Path | None = None) -> None:
        self.given, self.path, self.runtime_dir = given, path, runtime_dir
        self._key: bytes | None = None

    def write(self) -> bytes:
        """The key the hub's services link with (the file made on first need)."""
        key = self._key
        if key is None:
            key = self._key = bytes.fromhex(self.given) if self.given else self._from_file()
        return key

    def read(self) -> bytes | None:
        """The key for checking links, or None where this process has none (an outside auditor)."""
        return self.write() if self.given or self.path.exists() else None

    def _from_file(self) -> bytes:
        path = keyfiles.outside(self.path, self.runtime_dir)
        with _key_lock:
            if str(path) not in _key_cache:
                _key_cache[str(path)] = bytes.fromhex(keyfiles.made_once(path, os.urandom(32).hex()))
            return _key_cache[str(path)]


def link_key(settings: Settings) -> LinkKey:
    """The settings' write-link key (HUB_CHAIN_KEY, or the file HUB_CHAIN_KEY_FILE or the secrets
    folder's write-link.key), never inside their runtime folder."""
    return LinkKey(settings.chain_key, settings.chain_key_path, settings.runtime_dir)


def write_key(settings: Settings) -> bytes:
    """The key the hub's services link with (made once, in the file, unless given)."""
    return link_key(settings).write()


def read_key(settings: Settings) -> bytes | None:
    """The key for checking links, or None where this process has none (an outside auditor)."""
    return link_key(settings).read()
