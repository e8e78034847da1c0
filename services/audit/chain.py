"""The audit hash chain of one store: an SM3 digest per stored event, an SM3 link per position.

    digest_n = SM3(event bytes of notification n)
    link_n   = SM3(link_{n-1} || u64 notification id || digest_n),   link_0 = SM3(GENESIS || store)

The event bytes are length-prefixed, so no two different events share them:
u16 len || originator id (text) || u64 originator version || u16 len || topic || u32 len || state.
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
_EVENT_HEAD = struct.Struct(">H")
_EVENT_MIDDLE = struct.Struct(">QH")
_STATE_LEN = struct.Struct(">I")
_U64 = struct.Struct(">Q")
# A recorded entry: notification id, originator id (UUID bytes), originator version, digest.
ENTRY = struct.Struct(">Q16sQ32s")
# A bundle record: notification id, digest, link.
RECORD = struct.Struct(">Q32s32s")

try:
    hashlib.new("sm3")
    _new = hashlib.new

    def sm3(data: bytes) -> bytes:
        """The SM3 digest of data (OpenSSL through hashlib)."""
        return _new("sm3", data).digest()

except ValueError:  # an OpenSSL build without SM3
    from gmalglib.sm3 import SM3

    def sm3(data: bytes) -> bytes:
        """The SM3 digest of data (gmalglib)."""
        return bytes(SM3(data).digest())


def genesis(store: str) -> bytes:
    """link_0 of a store's chain: binds the chain to the store's name."""
    return sm3(f"{CHAIN_FORMAT}\x00{store}".encode())


def event_bytes(originator_id: str, originator_version: int, topic: str, state: bytes) -> bytes:
    """The canonical bytes of a stored event (what its digest covers)."""
    oid, top = originator_id.encode("utf-8"), topic.encode("utf-8")
    return b"".join(
        (
            _EVENT_HEAD.pack(len(oid)),
            oid,
            _EVENT_MIDDLE.pack(originator_version, len(top)),
            top,
            _STATE_LEN.pack(len(state)),
            state,
        )
    )


def event_digest(originator_id: str, originator_version: int, topic: str, state: bytes) -> bytes:
    return sm3(event_bytes(originator_id, originator_version, topic, state))


def notification_digest(notification: Any) -> bytes:
    """The digest of an eventsourcing Notification (or anything with the same fields)."""
    return sm3(
        event_bytes(
            str(notification.originator_id),
            notification.originator_version,
            notification.topic,
            bytes(notification.state),
        )
    )


def next_link(previous: bytes, notification_id: int, digest: bytes) -> bytes:
    return sm3(previous + _U64.pack(notification_id) + digest)


class Entry(NamedTuple):
    """What the audit store records about one chained event."""

    notification_id: int
    originator_id: str
    originator_version: int
    digest: bytes


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
    for nid, _oid, _version, digest in ENTRY.iter_unpack(packed):
        previous = sm3(previous + _U64.pack(nid) + digest)
    return previous
