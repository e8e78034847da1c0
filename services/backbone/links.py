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
from typing import Any, NamedTuple

from services.backbone import keyfiles

FORMAT = b"riskhub-write-link/v1"
KEY_ENV, KEY_FILE_ENV, KEY_FILE = "HUB_CHAIN_KEY", "HUB_CHAIN_KEY_FILE", "write-link.key"
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


def key_file() -> Path:
    """HUB_CHAIN_KEY_FILE, else write-link.key in the operator's key folder (keyfiles.config_dir)."""
    return Path(os.environ.get(KEY_FILE_ENV) or keyfiles.config_dir() / KEY_FILE)


def write_key(runtime_dir: Path | None = None) -> bytes:
    """The key the hub's services link with: HUB_CHAIN_KEY (64 hex), or the file, made once. Every
    process of a hub must read the same key: in Compose and Kubernetes, give it HUB_CHAIN_KEY."""
    given = os.environ.get(KEY_ENV)
    if given:
        return bytes.fromhex(given)
    path = keyfiles.outside(key_file(), runtime_dir)
    with _key_lock:
        if str(path) not in _key_cache:
            _key_cache[str(path)] = bytes.fromhex(keyfiles.made_once(path, os.urandom(32).hex()))
        return _key_cache[str(path)]


def read_key(runtime_dir: Path | None = None) -> bytes | None:
    """The key for checking links, or None where this process has none (an outside auditor)."""
    if os.environ.get(KEY_ENV) or key_file().exists():
        return write_key(runtime_dir)
    return None
