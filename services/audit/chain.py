"""The audit hash chain of one store: an SM3 digest per stored event, an SM3 link per position.

    digest_n = SM3(event bytes of notification n)
    link_n   = SM3(link_{n-1} || u64 notification id || digest_n),   link_0 = SM3(GENESIS || store)

Event bytes (big-endian, length-prefixed, so no two different events share them), with
tail = u64 originator version || u16 len(topic) || u32 len(state) || topic || state:
  UUID originator: 0x01 || 16-byte UUID || tail;  text originator: 0x02 || u16 len || UTF-8 id || tail
Chaining the digest rather than the raw event is what lets a partial bundle (one enterprise's events in
full, everyone else's as digests) be checked against the same signed links. This module is pure: the
offline bundle verifier uses it without a database or a broker.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

CHAIN_FORMAT = "riskhub-audit-chain/v1"
_UUID_HEAD = struct.Struct(">B16sQHI")
_TEXT_HEAD = struct.Struct(">BH")
_TEXT_REST = struct.Struct(">QHI")
_U64 = struct.Struct(">Q")
# A recorded entry: notification id, originator id (UUID bytes), originator version, digest.
ENTRY = struct.Struct(">Q16sQ32s")
# A bundle record: notification id, digest, link.
RECORD = struct.Struct(">Q32s32s")


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


_new = _constructor()


def sm3(data: bytes) -> bytes:
    """The SM3 digest of data (OpenSSL through hashlib, else gmalglib)."""
    return bytes(_new("sm3", data).digest())


def genesis(store: str) -> bytes:
    """link_0 of a store's chain: binds the chain to the store's name."""
    return sm3(f"{CHAIN_FORMAT}\x00{store}".encode())


def event_bytes(originator_id: uuid.UUID | str, originator_version: int, topic: str, state: bytes) -> bytes:
    """The canonical bytes of a stored event (what its digest covers)."""
    top = topic.encode("utf-8")
    if isinstance(originator_id, uuid.UUID):
        return _UUID_HEAD.pack(1, originator_id.bytes, originator_version, len(top), len(state)) + top + state
    oid = originator_id.encode("utf-8")
    rest = _TEXT_REST.pack(originator_version, len(top), len(state))
    return _TEXT_HEAD.pack(2, len(oid)) + oid + rest + top + state


def event_digest(originator_id: uuid.UUID | str, originator_version: int, topic: str, state: bytes) -> bytes:
    return sm3(event_bytes(originator_id, originator_version, topic, state))


def notification_digest(n: Any) -> bytes:
    """The digest of an eventsourcing Notification (or anything with the same fields)."""
    oid, state = n.originator_id, n.state
    if isinstance(oid, uuid.UUID) and isinstance(state, bytes):  # the hot path, inlined
        top = n.topic.encode("utf-8")
        data = _UUID_HEAD.pack(1, oid.bytes, n.originator_version, len(top), len(state)) + top + state
        return _new("sm3", data).digest()  # type: ignore[no-any-return]
    return sm3(event_bytes(oid, n.originator_version, n.topic, bytes(state)))


def next_link(previous: bytes, notification_id: int, digest: bytes) -> bytes:
    return sm3(previous + _U64.pack(notification_id) + digest)


class Entry(NamedTuple):
    """What the audit store records about one chained event."""

    notification_id: int
    originator_id: str
    originator_version: int
    digest: bytes


def entry_bytes(notification: Any, digest: bytes) -> bytes:
    """The recorded entry of a notification (its originator id must be a UUID, as every hub id is)."""
    oid = notification.originator_id
    oid = oid if isinstance(oid, uuid.UUID) else uuid.UUID(str(oid))
    return ENTRY.pack(notification.id, oid.bytes, notification.originator_version, digest)


def pack_entries(entries: list[Entry]) -> bytes:
    return b"".join(
        ENTRY.pack(e.notification_id, uuid.UUID(e.originator_id).bytes, e.originator_version, e.digest)
        for e in entries
    )


def unpack_entries(packed: bytes) -> Iterator[Entry]:
    for nid, oid, version, digest in ENTRY.iter_unpack(packed):
        yield Entry(nid, str(uuid.UUID(bytes=oid)), version, digest)


def link_through(previous: bytes, packed: bytes) -> bytes:
    """The link after chaining every packed entry onto previous."""
    new, pack = _new, _U64.pack
    for nid, _oid, _version, digest in ENTRY.iter_unpack(packed):
        previous = new("sm3", previous + pack(nid) + digest).digest()
    return previous
